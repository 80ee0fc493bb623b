#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what ivshmem-pmd needs on Debian 12, then configure and build it
# in ./build. Run as root (or with sudo). Safe to run again.
#
# Environment:
#   BUILD_DIR   build folder (default: build)
#   CI          when "true", warnings are errors
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

packages=(
	build-essential meson ninja-build pkg-config
	libcmocka-dev libpciaccess-dev
	dpdk dpdk-dev libdpdk-dev dpkg-dev
	qemu-system-x86 busybox-static cpio kmod
	iproute2 procps
	openvswitch-switch-dpdk iperf3 iputils-ping
)
if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: run as root (apt-get needs it): sudo $0" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
ovs_was_installed=false
[ "$(dpkg-query -W -f='${Status}' openvswitch-switch 2>/dev/null || true)" = \
	"install ok installed" ] && ovs_was_installed=true
apt-get install -y --no-install-recommends "${packages[@]}"

# The ecosystem tests run ovsdb-server and ovs-vswitchd-dpdk themselves,
# from a private folder. The system service the package starts (kernel
# datapath, /var/run/openvswitch) is not needed: when this script
# installed it, stop it and keep it from starting at boot. An Open
# vSwitch that was here before is left alone.
if ! $ovs_was_installed; then
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now openvswitch-switch.service \
			ovs-vswitchd.service ovsdb-server.service >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/openvswitch-switch ]; then
		invoke-rc.d openvswitch-switch stop >/dev/null 2>&1 || true
		update-rc.d openvswitch-switch disable >/dev/null 2>&1 || true
	fi
	echo "setup.sh: stopped and disabled the openvswitch-switch service (the tests run their own)"
fi

# The DPDK driver SDK headers come from Debian's dpdk source package.
sdk_opt=()
if sdk=$(scripts/dpdk-sdk.sh "$BUILD_DIR/dpdk-sdk"); then
	sdk_opt=(-Ddpdk_sdk="$sdk")
else
	echo "setup.sh: DPDK driver SDK not available; net_ivshmem will be skipped" >&2
fi

werror=false
[ "${CI:-}" = true ] && werror=true
if [ -d "$BUILD_DIR/meson-info" ]; then
	meson configure "$BUILD_DIR" -Dwerror=$werror "${sdk_opt[@]}"
else
	meson setup "$BUILD_DIR" -Dwerror=$werror "${sdk_opt[@]}"
fi
ninja -C "$BUILD_DIR"
