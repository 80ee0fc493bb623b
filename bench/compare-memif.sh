#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Throughput and latency of ivsh-testpmd over ivsh-server, next to
# dpdk-testpmd over net_memif (copy mode), on the same machine in one run.
#
#   bench/compare-memif.sh [BUILD_DIR]
#
# Environment: DURATION (seconds of traffic per point, default 5),
# SIZES (frame lengths, default "64 512 1500"), LAT_COUNT (latency
# samples, default 20000), RX_CPU / TX_CPU (default 1 / 0).
#
# Throughput: median of the receiver's one-second rates (see median()).
# Placement is the same for both: the receiver's forwarding loop on
# RX_CPU, the sender's on TX_CPU. dpdk-testpmd needs a main lcore besides
# its forwarding lcore, so each process gets "-l RX,TX --main-lcore X"
# with its forwarding lcore on the other CPU.
# Exits 77 (skip) when dpdk-testpmd or the built programs are missing.
set -u

BUILD=${1:-build}
DURATION=${DURATION:-5}
SIZES=${SIZES:-"64 512 1500"}
LAT_COUNT=${LAT_COUNT:-20000}
RX_CPU=${RX_CPU:-1}
TX_CPU=${TX_CPU:-0}
TESTPMD=$BUILD/app/ivsh-testpmd/ivsh-testpmd
SERVER=$BUILD/app/ivsh-server/ivsh-server
DPDK_TESTPMD=${DPDK_TESTPMD:-$(command -v dpdk-testpmd || echo /usr/bin/dpdk-testpmd)}

for b in "$TESTPMD" "$SERVER"; do
	if [ ! -x "$b" ]; then
		echo "compare-memif: $b not built; skipping"
		exit 77
	fi
done
have_dpdk=1
if [ ! -x "$DPDK_TESTPMD" ]; then
	echo "compare-memif: dpdk-testpmd not found (Debian package dpdk-dev); memif columns skipped"
	have_dpdk=0
fi

WORK=$(mktemp -d /tmp/ivsh-bench-$$-XXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$WORK" "/var/run/dpdk/ivsh-bench-rx-$$" "/var/run/dpdk/ivsh-bench-tx-$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# median of the numbers on stdin, ignoring zeros and, with 4 or more
# samples, the first and last (partial seconds at start and stop)
median() {
	awk '$1 > 0 { v[n++] = $1 } END {
		s = (n >= 4) ? 1 : 0
		for (i = s; i < n - s; i++) print v[i] }' |
	sort -g | awk '{ v[n++] = $1 } END {
		if (n == 0) { print 0; exit }
		m = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%.3f\n", m }'
}

start_server() { # sock
	"$SERVER" -F -S "$1" -l 16M -n 1 2>>"$WORK/server.log" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	echo "compare-memif: ivsh-server did not start" >&2
	exit 1
}

stop() { # pid
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ivsh-testpmd txonly -> rxonly; prints the median rx Mpps
ivsh_tput() { # len
	local sock=$WORK/ivsh-$1.sock log=$WORK/ivsh-rx-$1.log
	start_server "$sock"
	"$TESTPMD" --device "server:$sock" --peer 1 --engine rxonly --no-verify \
		--cpu "$RX_CPU" --stats-period 1 --duration $((DURATION + 3)) \
		>"$log" 2>"$WORK/ivsh-rx-$1.err" &
	local rx=$!
	PIDS+=("$rx")
	sleep 0.5
	"$TESTPMD" --device "server:$sock" --peer 0 --engine txonly --no-verify \
		--pkt-len "$1" --cpu "$TX_CPU" --wait-link 5 --duration "$DURATION" \
		>"$WORK/ivsh-tx-$1.log" 2>&1
	wait "$rx" 2>/dev/null
	stop "$SERVER_PID"
	grep -o 'rx *[0-9.]* Mpps' "$log" | awk '{print $2}' | median
}

# dpdk-testpmd (net_memif, copy mode) txonly -> rxonly; median rx Mpps
memif_tput() { # len
	local sock=$WORK/memif-$1.sock log=$WORK/memif-rx-$1.log
	local common=(--no-huge -m 256 --no-pci)
	"$DPDK_TESTPMD" -l "$TX_CPU,$RX_CPU" --main-lcore "$TX_CPU" "${common[@]}" \
		--file-prefix "ivsh-bench-rx-$$" \
		--vdev="net_memif,role=server,socket=$sock,zero-copy=no" -- \
		--total-num-mbufs=32768 --forward-mode=rxonly --stats-period 1 \
		--auto-start </dev/null >"$log" 2>&1 &
	local rx=$!
	PIDS+=("$rx")
	sleep 2
	# +2 s: EAL start-up and link; the ivsh sender's --duration starts
	# at link up
	timeout -s INT $((DURATION + 2)) "$DPDK_TESTPMD" -l "$RX_CPU,$TX_CPU" \
		--main-lcore "$RX_CPU" "${common[@]}" --file-prefix "ivsh-bench-tx-$$" \
		--vdev="net_memif,role=client,socket=$sock,zero-copy=no" -- \
		--total-num-mbufs=32768 --forward-mode=txonly --txpkts="$1" \
		--stats-period 1 --auto-start </dev/null >"$WORK/memif-tx-$1.log" 2>&1
	stop "$rx"
	grep -o 'Rx-pps: *[0-9]*' "$log" | awk '{print $2 / 1e6}' | median
}

ivsh_latency() { # mode -> "p50 p99 max" in ns
	local sock=$WORK/lat-$1.sock
	start_server "$sock"
	"$TESTPMD" --device "server:$sock" --peer 1 --engine io --mode "$1" \
		--cpu "$RX_CPU" --duration 120 >"$WORK/lat-io-$1.log" 2>&1 &
	local io=$!
	PIDS+=("$io")
	sleep 0.5
	local n=$LAT_COUNT
	[ "$1" = intr ] && n=$((LAT_COUNT / 4))
	"$TESTPMD" --device "server:$sock" --peer 0 --engine latency --mode "$1" \
		--cpu "$TX_CPU" --count "$n" --wait-link 5 --json \
		>"$WORK/lat-$1.json" 2>"$WORK/lat-$1.err"
	stop "$io"
	stop "$SERVER_PID"
	tail -1 "$WORK/lat-$1.json" | sed -E 's/.*"p50_ns":([0-9]+),"p99_ns":([0-9]+),"max_ns":([0-9]+).*/\1 \2 \3/'
}

echo "ivsh-testpmd vs dpdk-testpmd/net_memif (copy), txonly -> rxonly"
echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), rx cpu $RX_CPU, tx cpu $TX_CPU, ${DURATION}s per point"
printf '%-8s %12s %12s %8s\n' "pkt_len" "ivsh Mpps" "memif Mpps" "ratio"
for len in $SIZES; do
	i=$(ivsh_tput "$len")
	if [ $have_dpdk = 1 ]; then
		m=$(memif_tput "$len")
		r=$(awk -v a="$i" -v b="$m" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
	else
		m=n/a r=n/a
	fi
	printf '%-8s %12s %12s %8s\n' "$len" "$i" "$m" "$r"
done

echo
echo "latency, 64-byte ping-pong round trip (latency engine vs io reflector)"
printf '%-22s %10s %10s %12s\n' "" "p50 ns" "p99 ns" "max ns"
for mode in poll intr; do
	read -r p50 p99 max < <(ivsh_latency "$mode")
	printf '%-22s %10s %10s %12s\n' "ivsh $mode" "$p50" "$p99" "$max"
done
printf '%-22s %s\n' "memif (dpdk-testpmd)" "n/a: dpdk-testpmd has no ping-pong engine; its --latencystats"
printf '%-22s %s\n' "" "times rx-to-tx inside one process, not a round trip, so no fair figure"
