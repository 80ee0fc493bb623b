#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk-sdk.sh DEST
#
# Provide the DPDK driver SDK headers (ethdev_driver.h, bus_pci_driver.h,
# bus_vdev_driver.h, ...) that Debian's libdpdk-dev does not ship, and
# the l2fwd example (examples/l2fwd, built by the ecosystem tests), by
# unpacking Debian's dpdk source package of exactly the installed
# libdpdk-dev version into DEST. Prints the path of the source tree on
# stdout; all diagnostics go to stderr. Exits non-zero with a one-line
# reason when the headers cannot be obtained.
#
# Cached: when DEST already holds the tree of the installed version this
# only prints its path.
#
# When apt has no deb-src entries and this runs as root, a deb-src entry
# for the same URIs and suites as the existing deb entries is added in
# /etc/apt/sources.list.d/ivshmem-pmd-src.sources (said on stderr).
set -euo pipefail

prog=dpdk-sdk.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

case "${1:-}" in
-h|--help)
	sed -n '4,18s/^# \{0,1\}//p' "$0"
	exit 0 ;;
"")
	die "usage: $prog DEST" ;;
esac
[ $# -eq 1 ] || die "usage: $prog DEST"
dest=$1

command -v dpkg-query >/dev/null || die "dpkg-query not found: not a Debian system"
deb_version=$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null) ||
	die "libdpdk-dev is not installed (apt-get install libdpdk-dev)"
[ -n "$deb_version" ] || die "libdpdk-dev is not installed (apt-get install libdpdk-dev)"
# 22.11.11-0+deb12u1 -> 22.11.11 (drop an epoch and the Debian revision).
upstream=${deb_version#*:}
upstream=${upstream%-*}

mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd -P)
tree=$dest/dpdk-$upstream
stamp=$tree/.ivsh-sdk-version

# Fast path: the right tree is already there (a tree unpacked before the
# l2fwd example was kept is fetched again).
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$deb_version" ] &&
   [ "$(cat "$tree/VERSION" 2>/dev/null)" = "$upstream" ] &&
   [ -f "$tree/examples/l2fwd/main.c" ]; then
	echo "$tree"
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found"
command -v dpkg-source >/dev/null || die "dpkg-source not found (apt-get install dpkg-dev)"

# Serialise concurrent runs on the same DEST.
exec 9>"$dest/.lock"
flock 9

# Does apt know the source package of the installed version?
have_source() {
	# No grep -q: an early exit would SIGPIPE apt-cache under pipefail.
	apt-cache showsrc dpdk 2>/dev/null | grep -Fx "Version: $deb_version" >/dev/null
}

# Write a deb-src stanza for every deb822 "Types: deb" stanza and every
# one-line "deb" entry of the current apt sources.
make_src_list() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush() {
				if (isdeb && block != "")
					printf "%s\n", block
				block = ""; isdeb = 0
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			/^Types:/ {
				if ($0 ~ /[ \t]deb([ \t]|$)/) isdeb = 1
				block = block "Types: deb-src\n"; next
			}
			/^Enabled:[ \t]*no/ { isdeb = 0 }
			{ block = block $0 "\n" }
			END { flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			uri = ""; opts = ""
			i = 2
			if ($2 ~ /^\[/) {
				while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ }
				opts = opts " " $i; i++
			}
			if (i + 1 > NF) next
			comps = ""
			for (j = i + 2; j <= NF; j++) comps = comps " " $j
			sub(/^ /, "", opts); sub(/^\[/, "", opts); sub(/\]$/, "", opts)
			printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:%s\n", $i, $(i+1), comps
			n = split(opts, o, " ")
			for (k = 1; k <= n; k++)
				if (o[k] ~ /^signed-by=/) printf "Signed-By: %s\n", substr(o[k], 11)
			printf "\n"
		}' "$f"
	done
}

if ! have_source; then
	if ! apt-cache showsrc dpdk >/dev/null 2>&1 || ! grep -rqs '^[^#]*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		[ "$(id -u)" -eq 0 ] ||
			die "apt has no deb-src entries; run as root or add deb-src lines for your mirrors"
		src_file=/etc/apt/sources.list.d/ivshmem-pmd-src.sources
		content=$(make_src_list)
		[ -n "$content" ] || die "no deb entries found in the apt sources to derive deb-src entries from"
		note "adding deb-src entries for the configured Debian mirrors in $src_file"
		printf '# Added by ivshmem-pmd scripts/dpdk-sdk.sh: source packages for the DPDK driver SDK.\n%s\n' \
			"$content" >"$src_file"
	fi
	[ "$(id -u)" -eq 0 ] ||
		die "apt does not list dpdk source version $deb_version; run 'apt-get update' as root"
	note "apt-get update (to learn the source packages)"
	apt-get update >&2 || die "apt-get update failed"
	have_source ||
		die "the mirrors do not offer dpdk source version $deb_version (installed libdpdk-dev); upgrade libdpdk-dev or add a mirror/snapshot that has it"
fi

work=$dest/.download
rm -rf "$work"
mkdir -p "$work"
# apt drops to the _apt user for downloads; let it write here.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown _apt "$work" 2>/dev/null || true
fi
note "downloading the dpdk $deb_version source package"
(cd "$work" && apt-get source --download-only -q "dpdk=$deb_version" >&2) ||
	die "apt-get source dpdk=$deb_version failed"
dsc=$(ls "$work"/dpdk_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || die "no .dsc file was downloaded"

note "unpacking into $tree"
rm -rf "$work/src" "$tree"
(cd "$work" && dpkg-source -q -x "$dsc" src >&2) ||
	die "dpkg-source could not unpack $dsc"
got=$(cat "$work/src/VERSION" 2>/dev/null || true)
[ "$got" = "$upstream" ] ||
	die "source tree has version '$got', installed libdpdk-dev is $upstream"
for h in lib/ethdev/ethdev_driver.h drivers/bus/pci/bus_pci_driver.h \
	 drivers/bus/vdev/bus_vdev_driver.h; do
	[ -f "$work/src/$h" ] || die "source tree lacks $h"
done
# Only headers are needed, and the l2fwd example (the ecosystem tests
# build it): drop the bulky parts we never read.
mv "$work/src/examples/l2fwd" "$work/l2fwd"
rm -rf "$work/src/app" "$work/src/examples" "$work/src/doc" \
	"$work/src/dts" "$work/src/debian" "$work/src/drivers/net" \
	"$work/src/drivers/crypto" "$work/src/drivers/event" \
	"$work/src/drivers/baseband" "$work/src/drivers/raw"
mkdir -p "$work/src/examples"
mv "$work/l2fwd" "$work/src/examples/l2fwd"
echo "$deb_version" >"$work/src/.ivsh-sdk-version"
mv "$work/src" "$tree"
rm -rf "$work"
echo "$tree"
