#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# compare-vhost-dpdk.sh PLUGIN IVSH_SERVER [SECONDS [ROUNDS]]
#
# Debian's dpdk-testpmd, txonly -> rxonly between two processes, over
# net_ivshmem (vdevs on an ivsh-server), over net_memif in copy mode, and
# over vhost-user: net_virtio_user sending (as a VM's virtio-net would)
# to net_vhost receiving (as a host switch would), at 64 and 1500 bytes.
# ROUNDS (default 3) rounds alternate the three; prints every round's
# receiver rate (Mpps), the best round of each, and the ratios of the
# bests, ivshmem / vhost and ivshmem / memif.
#
# Exit 77 when the plugin was not built or dpdk-testpmd is missing.
# KEEP=1 keeps the testpmd logs (the path is printed).
set -euo pipefail

prog=compare-vhost-dpdk
case "${1:-}" in -h|--help) sed -n '3,15s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
here=$(dirname -- "$(realpath -- "$0")")
# shellcheck source=testpmd-lib.sh
. "$here/testpmd-lib.sh" "$@"

start_ivsh_server

declare -A res
kinds="ivshmem memif vhost"
for ((r = 1; r <= rounds; r++)); do
	for len in 64 1500; do
		measure ivshmem "$len" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=1" \
			"net_ivshmem0,server=$work/ivsh.sock,peer=0"
		res[ivshmem,$len]+=" $mpps"
		measure memif "$len" \
			"net_memif0,role=server,socket=$work/memif.sock,socket-abstract=no,zero-copy=no" \
			"net_memif0,role=client,socket=$work/memif.sock,socket-abstract=no,zero-copy=no"
		res[memif,$len]+=" $mpps"
		# The vhost side creates the socket; virtio_user connects.
		measure vhost "$len" \
			"net_vhost0,iface=$work/vhost.sock,queues=1" \
			"net_virtio_user0,path=$work/vhost.sock,queues=1" \
			"$work/vhost.sock"
		res[vhost,$len]+=" $mpps"
	done
done

printf '\ndpdk-testpmd txonly -> rxonly, receiver rate, %s s per run, %s rounds (load average %s)\n' \
	"$secs" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-8s %s\n' bytes driver "Mpps per round"
for len in 64 1500; do
	for kind in $kinds; do
		printf '%-6s %-8s%s\n' "$len" "$kind" "${res[$kind,$len]}"
	done
done
printf '\n%-6s %13s %13s %13s %14s %14s\n' bytes "ivshmem Mpps" "vhost Mpps" \
	"memif Mpps" "ivshmem/vhost" "ivshmem/memif"
for len in 64 1500; do
	awk -v l="$len" -v a="$(best "${res[ivshmem,$len]}")" \
		-v v="$(best "${res[vhost,$len]}")" -v m="$(best "${res[memif,$len]}")" \
		'BEGIN { rv = (v > 0) ? sprintf("%.2f", a / v) : "n/a"
			 rm = (m > 0) ? sprintf("%.2f", a / m) : "n/a"
			 printf "%-6s %13.3f %13.3f %13.3f %14s %14s\n", l, a, v, m, rv, rm }'
done
echo "(best of $rounds rounds)"
