#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sweep.sh [BUILD_DIR]
#
# Frame-size sweep, txonly -> rxonly between two processes, in one run:
#   ivsh-testpmd     two ivsh-testpmd over ivsh-server (--no-verify)
#   ivsh-testpmd-zc  the same with --zero-copy on both sides
#   net_ivshmem      Debian's dpdk-testpmd over the net_ivshmem plugin
#   net_ivshmem_zc   the same, rx_zero_copy=1 on the receiver
#   net_memif        dpdk-testpmd over net_memif, copy mode on both sides
#   net_memif_zc     the same, zero copy on the client (the sender)
# at every size of SIZES, then dpdk-testpmd's own ceiling at 64 B
# (net_null, txonly and rxonly in one process). ROUNDS rounds alternate
# the programs; every run is printed as it ends, then per size the rate of
# every round, the best of each and the ratios of the bests (load from
# elsewhere only slows a run down), and the targets, met or missed. The
# header names the CPU and the slot copy routine the ports chose; the
# load average is printed at the start of every round and at the end.
#
# Environment: ROUNDS (default 3), SECS (seconds of traffic per run,
# default 2; a run takes 2-4 s more), SIZES (default
# "64 128 256 512 1024 1500 4096 9000"), KINDS (default the six above;
# ivsh-testpmd@ROUTINE adds ivsh-testpmd with IVSH_PORT_COPY=ROUTINE, to
# compare copy routines in the same rounds),
# RX_CPU / TX_CPU (default 1 / 0), IVSH_PORT_COPY (passed on: force a
# copy routine). The defaults take about 15 minutes on 2 CPUs.
# Exits 77 when ivsh-testpmd or ivsh-server is not built; without
# dpdk-testpmd or the plugin the DPDK columns are left out.
set -uo pipefail

prog=sweep
case "${1:-}" in -h|--help) sed -n '3,27s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
BUILD=$(realpath -- "${1:-build}") || { echo "$prog: no build folder ${1:-build}" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
SIZES=${SIZES:-"64 128 256 512 1024 1500 4096 9000"}
KINDS=${KINDS:-"ivsh-testpmd ivsh-testpmd-zc net_ivshmem net_ivshmem_zc net_memif net_memif_zc"}
RX_CPU=${RX_CPU:-1}
TX_CPU=${TX_CPU:-0}
TESTPMD=$BUILD/app/ivsh-testpmd/ivsh-testpmd
SERVER=$BUILD/app/ivsh-server/ivsh-server
PLUGIN=$BUILD/drivers/net/ivshmem/librte_net_ivshmem.so
DPDK_TESTPMD=${DPDK_TESTPMD:-$(command -v dpdk-testpmd || true)}

posint() { case "$2" in ''|*[!0-9]*|0) echo "$prog: $1 must be a positive integer, not '$2'" >&2; exit 2 ;; esac; }
posint ROUNDS "$ROUNDS"
posint SECS "$SECS"
for c in "$RX_CPU" "$TX_CPU"; do
	case "$c" in ''|*[!0-9]*) echo "$prog: RX_CPU and TX_CPU must be CPU numbers, not '$c'" >&2; exit 2 ;; esac
done
[ "$RX_CPU" != "$TX_CPU" ] || { echo "$prog: RX_CPU and TX_CPU must differ" >&2; exit 2; }
for len in $SIZES; do
	posint SIZES "$len"
	if [ "$len" -lt 64 ] || [ "$len" -gt 9000 ]; then
		echo "$prog: SIZES: $len is outside 64..9000" >&2
		exit 2
	fi
done
for k in $KINDS; do
	case "$k" in
	ivsh-testpmd|ivsh-testpmd-zc|net_ivshmem|net_ivshmem_zc|net_memif|net_memif_zc) ;;
	ivsh-testpmd@*[!a-z0-9-]*|ivsh-testpmd@)
		echo "$prog: KINDS: bad copy routine in '$k'" >&2; exit 2 ;;
	ivsh-testpmd@*) ;;
	*) echo "$prog: KINDS: unknown '$k' (ivsh-testpmd[@ROUTINE] ivsh-testpmd-zc net_ivshmem net_ivshmem_zc net_memif net_memif_zc)" >&2; exit 2 ;;
	esac
done
for b in "$TESTPMD" "$SERVER"; do
	[ -x "$b" ] || { echo "$prog: SKIP: $b not built"; exit 77; }
done
have_dpdk=1
if [ -z "$DPDK_TESTPMD" ] || [ ! -x "$DPDK_TESTPMD" ]; then
	echo "$prog: dpdk-testpmd not found (Debian package dpdk-dev): DPDK columns left out"
	have_dpdk=0
fi
have_plugin=$have_dpdk
if [ $have_dpdk = 1 ] && [ ! -f "$PLUGIN" ]; then
	echo "$prog: $PLUGIN not built: net_ivshmem left out"
	have_plugin=0
fi

# shellcheck source=stage-plugin.sh
. "$(dirname -- "$(realpath -- "$0")")/stage-plugin.sh"
WORK=$(mktemp -d "/tmp/$prog.$$.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$staged_dir" ] || rm -rf "$staged_dir"
	rm -rf /var/run/dpdk/"sweep$$"-*
	if [ -n "${KEEP:-}" ]; then echo "$prog: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $have_plugin = 1 ] && ! stage_plugin "$PLUGIN"; then
	echo "$prog: no private folder for the plugin copy (tried /run, \$XDG_RUNTIME_DIR, \$HOME): net_ivshmem left out"
	have_plugin=0
fi
PLUGIN=${staged_plugin:-$PLUGIN}
# Drop the kinds this machine cannot run.
kinds=
for k in $KINDS; do
	case "$k" in
	net_ivshmem) [ $have_plugin = 1 ] || continue ;;
	net_memif*) [ $have_dpdk = 1 ] || continue ;;
	esac
	kinds+=" $k"
done

wait_for() { # -S PATH | log REGEX FILE [COUNT]; up to 20 s
	local i
	for ((i = 0; i < 400; i++)); do
		if [ "$1" = log ]; then
			[ "$(grep -cE "$2" "$3" 2>/dev/null)" -ge "${4:-1}" ] && return 0
		elif test "$1" "$2"; then return 0; fi
		sleep 0.05
	done
	return 1
}

start_server() { # SOCK
	"$SERVER" -F -S "$1" -l 64M -n 1 >>"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_for -S "$1" || { echo "$prog: ivsh-server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
}

stop_pid() { kill -INT "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# From the receivers' logs, set by the main loop.
copy_routine=''
dpdk_copy=''
# ivsh-testpmd txonly -> rxonly at LEN [with copy routine ROUTINE, both
# sides] [zc: --zero-copy on both sides]; prints the rate
run_ivsh() {
	local len=$1 sock=$WORK/ivsh.sock rx i run=() zc=()
	[ -z "${2:-}" ] || run=(env "IVSH_PORT_COPY=$2")
	[ "${3:-}" != zc ] || zc=(--zero-copy)
	rm -f "$sock" "$WORK"/ivsh-*.log "$WORK"/ivsh-*.err
	start_server "$sock"
	# The receiver connects first and gets ID 0 (and the sender ID 1):
	# the sender starts once the receiver's port is open.
	"${run[@]}" "$TESTPMD" --device "server:$sock" --peer 1 --engine rxonly --no-verify "${zc[@]}" \
		--cpu "$RX_CPU" --stats-period 1 --duration $((SECS + 4)) \
		>"$WORK/ivsh-rx.log" 2>"$WORK/ivsh-rx.err" &
	rx=$!
	PIDS+=("$rx")
	for ((i = 0; i < 400; i++)); do
		grep -q 'ready:' "$WORK/ivsh-rx.err" 2>/dev/null && break
		kill -0 "$rx" 2>/dev/null || { stop_pid "$SERVER_PID"; echo 0.000; return; }
		sleep 0.05
	done
	"${run[@]}" "$TESTPMD" --device "server:$sock" --peer 0 --engine txonly --no-verify "${zc[@]}" \
		--pkt-len "$len" --cpu "$TX_CPU" --wait-link 10 --duration "$SECS" \
		>"$WORK/ivsh-tx.log" 2>&1 ||
		echo "$prog: ivsh-testpmd sender failed: $(tail -n 1 "$WORK/ivsh-tx.log")" >&2
	stop_pid "$rx"
	stop_pid "$SERVER_PID"
	# The receiver's final rate: frames over the time they arrived in.
	sed -n 's/^  rx [0-9]* pkts [0-9]* bytes (\([0-9.]*\) Mpps over.*/\1/p' \
		"$WORK/ivsh-rx.log" | tail -n 1 | awk '{ printf "%.3f\n", $1 } END { if (NR == 0) print "0.000" }'
}

# dpdk_cmd NAME MAIN VDEV FWD LEN [EAL...]: sets CMD, one dpdk-testpmd
# with both CPUs, MAIN its main lcore (forwarding on the other).
dpdk_cmd() {
	local name=$1 main=$2 vdev=$3 fwd=$4 len=$5
	shift 5
	CMD=("$DPDK_TESTPMD" -l "$RX_CPU,$TX_CPU" --main-lcore "$main" --no-pci
	     -m 512 --file-prefix "sweep$$-$name" "$@" --vdev "$vdev" --
	     --total-num-mbufs=8192 --forward-mode="$fwd")
	# Jumbo frames: one mbuf per frame (neither driver checks the MTU on
	# receive; net_memif refuses an MTU above 1500)
	# (before --txpkts, which is checked against the mbuf size).
	[ "$len" -gt 1518 ] && CMD+=(--mbuf-size=10240)
	CMD+=(--txpkts="$len")
}

# measured NAME WHAT: start the interactive dpdk-testpmd in CMD (log
# $WORK/NAME.log) forwarding; "measured_rate NAME WHAT" later reads WHAT
# (Rx-pps or Tx-pps) over SECS seconds: the rate between two "show port
# stats", which dpdk-testpmd computes from the TSC (right even when the
# command itself runs late on a busy machine).
interactive() { # NAME: runs CMD reading commands from a fifo
	local name=$1
	rm -f "$WORK/$name.in" "$WORK/$name.log"
	mkfifo "$WORK/$name.in"
	# Line-buffered: the replies must reach the log as they are printed.
	stdbuf -oL "${CMD[@]}" -i <"$WORK/$name.in" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	eval "${name}_pid=\$!"
	eval "exec {${name}_fd}>\"\$WORK/\$name.in\""
	wait_for log 'testpmd> ' "$WORK/$name.log"
}
say() { # NAME COMMAND...
	local name=$1 fd
	shift
	eval "fd=\$${name}_fd"
	printf '%s\n' "$@" >&"$fd"
}
rate_over_secs() { # NAME WHAT; prints Mpps
	local name=$1 what=$2 pps
	say "$name" "show port stats 0"
	wait_for log "$what:" "$WORK/$name.log" 1
	sleep "$SECS"
	say "$name" "show port stats 0"
	wait_for log "$what:" "$WORK/$name.log" 2
	pps=$(grep -oE "$what: +[0-9]+" "$WORK/$name.log" | tail -n 1 | grep -oE '[0-9]+$')
	awk -v p="${pps:-0}" 'BEGIN { printf "%.3f\n", p / 1e6 }'
}
quit_testpmd() { # NAME
	local name=$1 pid fd
	say "$name" stop quit
	eval "pid=\$${name}_pid fd=\$${name}_fd"
	exec {fd}>&-
	wait "$pid" 2>/dev/null
}

# dpdk-testpmd txonly -> rxonly: KIND LEN; prints the receiver's rate
run_dpdk() {
	local kind=$1 len=$2 rxv txv tx sock eal=(--no-huge) txeal=()
	case "$kind" in
	net_ivshmem|net_ivshmem_zc)
		sock=$WORK/ivsh.sock
		rm -f "$sock"
		start_server "$sock"
		rxv="net_ivshmem0,server=$sock,peer=1"
		# Zero copy on the receiver: mbufs point into the slots.
		[ "$kind" = net_ivshmem ] || rxv+=",rx_zero_copy=1"
		txv="net_ivshmem0,server=$sock,peer=0"
		eal+=(-d "$PLUGIN" --log-level=pmd.net.ivshmem:info) ;;
	*)
		sock=$WORK/memif.sock
		rm -f "$sock"
		rxv="net_memif0,role=server,socket=$sock,socket-abstract=no,zero-copy=no"
		txv="net_memif0,role=client,socket=$sock,socket-abstract=no,zero-copy=no"
		if [ "$kind" = net_memif_zc ]; then
			txv=${txv/zero-copy=no/zero-copy=yes}
			# The client's mbufs become memif regions: one file.
			txeal=(--single-file-segments)
		fi ;;
	esac
	dpdk_cmd rx "$TX_CPU" "$rxv" rxonly "$len" "${eal[@]}"
	# Zero copy: a jumbo frame arrives as a chain of mbufs, one per slot.
	[ "$kind" = net_ivshmem_zc ] && [ "$len" -gt 1518 ] && CMD+=(--enable-scatter)
	interactive rx
	say rx start
	dpdk_cmd tx "$RX_CPU" "$txv" txonly "$len" "${eal[@]}" "${txeal[@]}"
	# (--stats-period: without it, and no terminal, it would exit at once)
	rm -f "$WORK/tx.log"
	"${CMD[@]}" --auto-start --stats-period 1 </dev/null >"$WORK/tx.log" 2>&1 &
	tx=$!
	PIDS+=("$tx")
	wait_for log 'forwards packets' "$WORK/tx.log"
	sleep 1 # the link comes up (ivsh-testpmd counts from link up)
	rate_over_secs rx Rx-pps
	stop_pid "$tx"
	quit_testpmd rx
	[ "$kind" = net_ivshmem ] && stop_pid "$SERVER_PID"
}

# net_null in one process, 64 B: FWD; prints its rate (Tx-pps for txonly)
run_null() {
	local fwd=$1 what=Rx-pps
	[ "$fwd" = txonly ] && what=Tx-pps
	dpdk_cmd null "$TX_CPU" net_null0 "$fwd" 64 --no-huge
	interactive null
	say null start
	wait_for log 'forwards packets' "$WORK/null.log"
	sleep 1
	rate_over_secs null "$what"
	quit_testpmd null
}

cpu_field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1; }
cpu_flags() {
	local f out=
	for f in avx2 avx512f avx512bw avx512vl erms fsrm; do
		grep -qw "$f" <(cpu_field flags) && out+=" $f"
	done
	echo "${out# }"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "$prog: txonly -> rxonly, receiver Mpps, $ROUNDS rounds x ${SECS}s per run"
echo "$prog: CPU: $(cpu_field 'model name') ($(cpu_field vendor_id) family $(cpu_field 'cpu family') model $(cpu_field model) stepping $(cpu_field stepping)$(grep -qw hypervisor <(cpu_field flags) && echo ', virtual machine')), $(nproc) CPUs online, flags: $(cpu_flags)"
echo "$prog: receiver on CPU $RX_CPU, sender on CPU $TX_CPU; sizes: $SIZES"
echo "$prog: kinds:$kinds"
loads=()
declare -A res
for ((r = 1; r <= ROUNDS; r++)); do
	loads+=("$(loadavg)")
	echo "$prog: round $r/$ROUNDS, load average ${loads[-1]}"
	for len in $SIZES; do
		for k in $kinds; do
			if [ "${k%%@*}" = ivsh-testpmd ] || [ "$k" = ivsh-testpmd-zc ]; then
				routine= zc=
				case "$k" in
				ivsh-testpmd-zc) zc=zc ;;
				ivsh-testpmd@*) routine=${k#ivsh-testpmd@} ;;
				esac
				m=$(run_ivsh "$len" "$routine" "$zc")
				if ! grep -q 'ready:' "$WORK/ivsh-rx.err"; then
					echo "$prog: ivsh-testpmd did not start: $(tail -n 1 "$WORK/ivsh-rx.err")" >&2
					exit 1
				fi
				[ -n "$copy_routine" ] || [ -n "$routine" ] ||
					copy_routine=$(sed -n 's/.*ready:.* copy \([a-z0-9-]*\).*/\1/p' "$WORK/ivsh-rx.err" | head -n 1)
			else
				m=$(run_dpdk "$k" "$len")
			fi
			[ -n "$dpdk_copy" ] || [ "$k" != net_ivshmem ] ||
				dpdk_copy=$(sed -n 's/.*max frame [0-9]*, copy \([a-z0-9-]*\).*/\1/p' "$WORK/rx.log" | head -n 1)
			res[$k,$len]+=" $m"
			printf '%s: round %d %5d B %-20s %8s Mpps\n' "$prog" "$r" "$len" "$k" "$m"
		done
	done
	if [ $have_dpdk = 1 ]; then
		for fwd in txonly rxonly; do
			m=$(run_null "$fwd")
			res[null-$fwd]+=" $m"
			printf '%s: round %d %5d B %-20s %8s Mpps\n' "$prog" "$r" 64 "null-$fwd" "$m"
		done
	fi
done
loads+=("$(loadavg)")

best() { printf '%s\n' $1 | sort -g | tail -n 1; } # $1: words; "" if none
verdicts=()
# target WHAT A B MIN: "WHAT: A/B = R (target >= MIN: met|missed)"
target() {
	if [ -z "$2" ] || [ -z "$3" ]; then
		echo "$1: not measured"
		return
	fi
	awk -v w="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
		if (b <= 0) { printf "%s: no memif rate\n", w; exit }
		r = a / b
		printf "%s: %.3f / %.3f = %.2fx (target >= %sx: %s)\n", w, a, b, r, t,
		       (r >= t) ? "met" : "missed" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo
echo "CPU: $(cpu_field 'model name') ($(cpu_field vendor_id) family $(cpu_field 'cpu family') model $(cpu_field model)), $(nproc) CPUs"
echo "slot copy routine: ivsh-testpmd ${copy_routine:-not run}, net_ivshmem ${dpdk_copy:-not run}${IVSH_PORT_COPY:+ (IVSH_PORT_COPY=$IVSH_PORT_COPY)}"
echo "load average (1, 5, 15 min) at each round's start and at the end: $(printf '[%s] ' "${loads[@]}")"
echo
echo "Every round, Mpps:"
for len in $SIZES; do
	for k in $kinds; do
		printf '%6s %-20s%s  best %s\n' "$len" "$k" "${res[$k,$len]}" "$(best "${res[$k,$len]}")"
	done
done
echo
echo "Ratios: copy/memif is ivsh-testpmd against net_memif (both copy);"
echo "zc/zc is ivsh-testpmd --zero-copy against net_memif's zero-copy client;"
echo "best/best is the faster ivsh-testpmd mode against the faster memif mode;"
echo "net_ivshmem (copy) and net_ivshmem_zc (rx_zero_copy=1) likewise."
printf '%6s %9s %9s %9s %9s %10s %6s %9s %9s %9s %10s %6s %9s\n' bytes ivsh-copy ivsh-zc net_memif memif_zc \
	copy/memif zc/zc best/best net_ivsh net_ivsh_zc copy/memif zc/zc best/best
for len in $SIZES; do
	i=$(best "${res[ivsh-testpmd,$len]:-}")
	iz=$(best "${res[ivsh-testpmd-zc,$len]:-}")
	m=$(best "${res[net_memif,$len]:-}")
	z=$(best "${res[net_memif_zc,$len]:-}")
	d=$(best "${res[net_ivshmem,$len]:-}")
	dz=$(best "${res[net_ivshmem_zc,$len]:-}")
	# Against the faster memif mode of this run.
	fm=$(best "$m $z")
	fi=$(best "$i $iz")
	fd=$(best "$d $dz")
	printf '%6s %9s %9s %9s %9s %10s %6s %9s %9s %9s %10s %6s %9s\n' "$len" "${i:--}" "${iz:--}" "${m:--}" "${z:--}" \
		"$(ratio "$i" "$m")" "$(ratio "$iz" "$z")" "$(ratio "$fi" "$fm")" "${d:--}" "${dz:--}" \
		"$(ratio "$d" "$m")" "$(ratio "$dz" "$z")" "$(ratio "$fd" "$fm")"
	want=1.5
	[ "$len" -le 512 ] && want=2.0
	verdicts+=("$(target "ivsh-testpmd $len B (faster mode)" "$fi" "$fm" "$want")")
	case "$len" in
	64) verdicts+=("$(target "net_ivshmem 64 B (faster mode)" "$fd" "$fm" 1.5)") ;;
	1500) verdicts+=("$(target "net_ivshmem 1500 B (faster mode)" "$fd" "$fm" 1.3)") ;;
	esac
done
echo
echo "Targets (ratio of the bests against the faster memif mode):"
printf '  %s\n' "${verdicts[@]}"
if [ $have_dpdk = 1 ]; then
	nt=$(best "${res[null-txonly]}") nr=$(best "${res[null-rxonly]}")
	echo
	echo "dpdk-testpmd ceiling, net_null 64 B: txonly$(printf ' %s' ${res[null-txonly]}) best $nt; rxonly$(printf ' %s' ${res[null-rxonly]}) best $nr"
	if [ -n "${res[net_ivshmem,64]:-}${res[net_ivshmem_zc,64]:-}" ]; then
		d=$(best "${res[net_ivshmem,64]:-} ${res[net_ivshmem_zc,64]:-}")
		echo "net_ivshmem (faster mode) 64 B: $d Mpps = $(awk -v a="$d" -v b="$nt" 'BEGIN { printf "%.0f%%", (b > 0) ? 100 * a / b : 0 }') of the txonly ceiling, $(awk -v a="$d" -v b="$nr" 'BEGIN { printf "%.0f%%", (b > 0) ? 100 * a / b : 0 }') of the rxonly ceiling"
	fi
fi
echo "(best of $ROUNDS rounds; ratios are of the bests)"
