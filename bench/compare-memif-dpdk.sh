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

here=$(dirname -- "$(realpath -- "$0")")
# shellcheck source=testpmd-lib.sh
. "$here/testpmd-lib.sh"

"$server" -F -S "$work/ivsh.sock" -l 64M -n 1 >"$work/server.log" 2>&1 &
srv_pid=$!
pids+=("$srv_pid")
keep_pids=1
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
