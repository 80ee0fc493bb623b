#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# compare-memif-dpdk.sh PLUGIN IVSH_SERVER [SECONDS [ROUNDS]]
#
# Debian's dpdk-testpmd, txonly -> rxonly between two processes, over
# net_ivshmem (vdevs on an ivsh-server) and over net_memif in copy mode,
# at 64 and 1500 bytes. ROUNDS (default 3) rounds alternate the drivers;
# prints every round's receiver rate (Mpps), the best round of each and
# the ratio of the bests, ivshmem / memif. The best, not the median: load
# from elsewhere only ever slows a run down, and on a shared machine it
# comes in bursts that can spoil most rounds of one driver. A third row, ivsh-zc, is net_ivshmem with
# rx_zero_copy=1 on the receiver (for information: memif runs in copy
# mode on both sides).
#
# Exit 77 when the plugin was not built or dpdk-testpmd is missing.
# KEEP=1 keeps the testpmd logs (the path is printed).
set -euo pipefail

prog=compare-memif-dpdk
usage() { echo "usage: $prog PLUGIN IVSH_SERVER [SECONDS [ROUNDS]]" >&2; exit 2; }
case "${1:-}" in -h|--help) sed -n '3,12s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || usage
plugin=$1 server=$2 secs=${3:-3} rounds=${4:-3}

skip() { echo "$prog: SKIP: $*"; exit 77; }
[ -n "$plugin" ] && [ -f "$plugin" ] || skip "net_ivshmem plugin not built"
command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd not found (apt-get install dpdk-dev)"
[ -x "$server" ] || skip "ivsh-server not built: $server"
case "$secs" in ''|*[!0-9]*|0) echo "$prog: SECONDS must be a positive number" >&2; exit 2 ;; esac
case "$rounds" in ''|*[!0-9]*|0) echo "$prog: ROUNDS must be a positive number" >&2; exit 2 ;; esac

work=$(mktemp -d "/tmp/$prog.$$.XXXXXX")
stage=
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$stage" ] || rm -rf "$stage"
	rm -rf "/var/run/dpdk/bench$$rx" "/var/run/dpdk/bench$$tx"
	if [ -n "${KEEP:-}" ]; then echo "$prog: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

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
for base in $( [ -w /run ] && echo /run ) ${XDG_RUNTIME_DIR:-} ${HOME:-}; do
	[ -z "$(world_writable_above "$base")" ] || continue
	stage=$(mktemp -d "$base/$prog-plugin.$$.XXXXXX") || continue
	break
done
[ -n "$stage" ] || skip "no folder for the plugin copy without a world-writable parent (tried /run, \$XDG_RUNTIME_DIR, \$HOME)"
origin=$(dirname -- "$(realpath -- "$plugin")")
cp -- "$plugin" "$stage/" && chmod 0755 "$stage/$(basename -- "$plugin")"
plugin=$stage/$(basename -- "$plugin")
runpath=$(readelf -d "$plugin" 2>/dev/null |
	sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p' | head -n 1)
runpath=${runpath:-'$ORIGIN/..:$ORIGIN/../../../..'}
runpath=${runpath//'${ORIGIN}'/$origin}
export LD_LIBRARY_PATH=${runpath//'$ORIGIN'/$origin}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# start_testpmd NAME LCORES MAIN VDEV: testpmd reading commands from a fifo.
start_testpmd() {
	local name=$1 lcores=$2 main=$3 vdev=$4
	mkfifo "$work/$name.in"
	stdbuf -oL dpdk-testpmd -l "$lcores" --main-lcore "$main" --no-huge \
		-m 512 --no-pci --file-prefix "bench$$$name" -d "$plugin" \
		--vdev "$vdev" -- -i --total-num-mbufs=8192 --disable-link-check \
		<"$work/$name.in" >"$work/$name.log" 2>&1 &
	pids+=($!)
	eval "exec {${name}_fd}>\"\$work/\$name.in\""
}

send() { # send NAME COMMAND...
	local name=$1 fd
	shift
	eval "fd=\$${name}_fd"
	printf '%s\n' "$@" >&"$fd"
}

wait_log() { # wait_log NAME REGEX COUNT TIMEOUT_S
	local i
	for ((i = 0; i < $4 * 20; i++)); do
		[ "$(grep -cE "$2" "$work/$1.log" || true)" -ge "$3" ] && return 0
		sleep 0.05
	done
	echo "$prog: $1: timed out waiting for '$2'" >&2
	tail -n 20 "$work/$1.log" >&2
	return 1
}

# measure KIND LEN RX_VDEV TX_VDEV -> sets $mpps, the receiver's rate
measure() {
	local kind=$1 len=$2 rxv=$3 txv=$4 pps
	start_testpmd rx 0,1 0 "$rxv"
	wait_log rx 'testpmd> ' 1 20
	start_testpmd tx 1,0 1 "$txv"
	wait_log tx 'testpmd> ' 1 20
	send rx "set fwd rxonly" "start"
	send tx "set fwd txonly" "set txpkts $len" "start"
	sleep 1
	# The second 'show port stats' reports the rate since the first.
	send rx "show port stats 0"
	wait_log rx 'Rx-pps:' 1 10
	sleep "$secs"
	send rx "show port stats 0"
	wait_log rx 'Rx-pps:' 2 10
	pps=$(grep -oE 'Rx-pps: +[0-9]+' "$work/rx.log" | tail -n 1 | grep -oE '[0-9]+$')
	send tx "stop" "quit"
	send rx "stop" "quit"
	exec {tx_fd}>&- {rx_fd}>&-
	wait "${pids[@]:1}" 2>/dev/null || true
	pids=("${pids[0]}")
	mv "$work/rx.log" "$work/$kind-$len-rx.log"
	mv "$work/tx.log" "$work/$kind-$len-tx.log"
	rm -f "$work/rx.in" "$work/tx.in"
	mpps=$(awk -v p="${pps:-0}" 'BEGIN { printf "%.3f", p / 1e6 }')
	echo "$prog: $kind $len bytes: $mpps Mpps" >&2
}

"$server" -F -S "$work/ivsh.sock" -l 64M -n 1 >"$work/server.log" 2>&1 &
srv_pid=$!
pids+=("$srv_pid")
for ((i = 0; i < 100; i++)); do [ -S "$work/ivsh.sock" ] && break; sleep 0.05; done
[ -S "$work/ivsh.sock" ] || { echo "$prog: ivsh-server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

declare -A res
for ((r = 1; r <= rounds; r++)); do
	for len in 64 1500; do
		measure ivshmem "$len" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=1" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=0"
		res[ivshmem,$len]+=" $mpps"
		measure ivsh-zc "$len" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=1,rx_zero_copy=1" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=0"
		res[ivsh-zc,$len]+=" $mpps"
		measure memif "$len" \
			"net_memif0,role=server,socket=$work/memif.sock,socket-abstract=no,zero-copy=no" \
			"net_memif0,role=client,socket=$work/memif.sock,socket-abstract=no,zero-copy=no"
		res[memif,$len]+=" $mpps"
	done
done

best() { printf '%s\n' $1 | sort -g | tail -n 1; }

printf '\ndpdk-testpmd txonly -> rxonly, receiver rate, %s s per run, %s rounds\n' "$secs" "$rounds"
printf '%-6s %-8s %s\n' bytes driver "Mpps per round"
for len in 64 1500; do
	for kind in ivshmem ivsh-zc memif; do
		printf '%-6s %-8s%s\n' "$len" "$kind" "${res[$kind,$len]}"
	done
done
printf '\n%-8s %14s %14s %8s %14s %8s\n' bytes "ivshmem Mpps" "memif Mpps" ratio \
	"ivsh-zc Mpps" "zc ratio"
for len in 64 1500; do
	awk -v l="$len" -v a="$(best "${res[ivshmem,$len]}")" \
		-v b="$(best "${res[memif,$len]}")" \
		-v z="$(best "${res[ivsh-zc,$len]}")" \
		'BEGIN { r = (b > 0) ? sprintf("%.2f", a / b) : "n/a"
			 q = (b > 0) ? sprintf("%.2f", z / b) : "n/a"
			 printf "%-8s %14.3f %14.3f %8s %14.3f %8s\n", l, a, b, r, z, q }'
done
echo "(best of $rounds rounds)"
