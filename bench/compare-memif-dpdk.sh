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
case "${1:-}" in -h|--help) sed -n '3,12s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
here=$(dirname -- "$(realpath -- "$0")")
# shellcheck source=testpmd-lib.sh
. "$here/testpmd-lib.sh" "$@"

start_ivsh_server

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
