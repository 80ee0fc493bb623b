# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# stage_plugin, shared by the benchmarks that load net_ivshmem into
# dpdk-testpmd with -d (testpmd-lib.sh, sweep.sh): sourced, not run.
# The caller sets $prog.
#
# The EAL refuses a -d plugin when it, or any folder above it, is
# world-writable (a build tree under /tmp): load a copy from a private
# folder, and find libivsh_net/libivsh through the original's RUNPATH.

world_writable_above() { # PATH -> prints the first unsafe folder
	local p
	p=$(realpath -- "$1") || { echo "$1"; return; }
	while :; do
		[ $(( 0$(stat -c %a -- "$p") & 2 )) -ne 0 ] && { echo "$p"; return; }
		[ "$p" = / ] && return
		p=$(dirname -- "$p")
	done
}

# stage_plugin PLUGIN: copies PLUGIN into a new private folder under /run,
# $XDG_RUNTIME_DIR or $HOME, and puts the original's RUNPATH ($ORIGIN
# resolved) in front of LD_LIBRARY_PATH. Sets $staged_dir (the folder,
# for the caller to remove at exit; empty if none was made) and
# $staged_plugin (the copy). Returns 1 when no such folder can be made,
# 2 when the copy fails.
staged_dir=
staged_plugin=
stage_plugin() {
	local plugin=$1 base origin runpath
	for base in $( [ -w /run ] && echo /run ) ${XDG_RUNTIME_DIR:-} ${HOME:-}; do
		[ -z "$(world_writable_above "$base")" ] || continue
		staged_dir=$(mktemp -d "$base/$prog-plugin.$$.XXXXXX") && break
	done
	[ -n "$staged_dir" ] || return 1
	origin=$(dirname -- "$(realpath -- "$plugin")")
	cp -- "$plugin" "$staged_dir/" &&
		chmod 0755 "$staged_dir/$(basename -- "$plugin")" || return 2
	staged_plugin=$staged_dir/$(basename -- "$plugin")
	runpath=$(readelf -d "$staged_plugin" 2>/dev/null |
		sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p' | head -n 1)
	runpath=${runpath:-'$ORIGIN/..:$ORIGIN/../../../..'}
	runpath=${runpath//'${ORIGIN}'/$origin}
	export LD_LIBRARY_PATH=${runpath//'$ORIGIN'/$origin}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}
