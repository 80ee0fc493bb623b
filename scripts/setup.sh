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
)
if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: run as root (apt-get needs it): sudo $0" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

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
