# SPDX-License-Identifier: BSD-3-Clause
# Helpers shared by the dpdk-testpmd benchmarks (compare-memif-dpdk.sh,
# compare-vhost-dpdk.sh): sourced, not run, as
#   . testpmd-lib.sh PLUGIN IVSH_SERVER [SECONDS [ROUNDS]]
# after the caller set $prog and answered --help.
#
# Checks the arguments (exit 2 on a bad one, 77 when the plugin,
# dpdk-testpmd or ivsh-server is missing) and sets $plugin, $server, $secs
# and $rounds. Provides: $work (private folder, removed at exit unless
# KEEP is set), $pids (children killed at exit), a staged copy of the
# plugin in $plugin that the EAL accepts with -d, skip,
# start_ivsh_server, start_testpmd, send, wait_log, measure, best.

usage() { echo "usage: $prog PLUGIN IVSH_SERVER [SECONDS [ROUNDS]]" >&2; exit 2; }
[ $# -ge 2 ] || usage
plugin=$1 server=$2 secs=${3:-3} rounds=${4:-3}

skip() { echo "$prog: SKIP: $*"; exit 77; }
[ -n "$plugin" ] && [ -f "$plugin" ] || skip "net_ivshmem plugin not built"
command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd not found (apt-get install dpdk-dev)"
[ -x "$server" ] || skip "ivsh-server not built: $server"
case "$secs" in ''|*[!0-9]*|0) echo "$prog: SECONDS must be a positive number" >&2; exit 2 ;; esac
case "$rounds" in ''|*[!0-9]*|0) echo "$prog: ROUNDS must be a positive number" >&2; exit 2 ;; esac

# shellcheck source=stage-plugin.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/stage-plugin.sh"

work=$(mktemp -d "/tmp/$prog.$$.XXXXXX")
pids=()
# Children started before the first measure() that it must not reap.
keep_pids=0
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$staged_dir" ] || rm -rf "$staged_dir"
	rm -rf "/var/run/dpdk/bench$$rx" "/var/run/dpdk/bench$$tx"
	if [ -n "${KEEP:-}" ]; then echo "$prog: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

stage_plugin "$plugin" || case $? in
	1) skip "no folder for the plugin copy without a world-writable parent (tried /run, \$XDG_RUNTIME_DIR, \$HOME)" ;;
	*) echo "$prog: cannot copy $plugin to $staged_dir" >&2; exit 1 ;;
esac
plugin=$staged_plugin

# start_ivsh_server: ivsh-server on $work/ivsh.sock (64 MiB, one
# vector), kept alive across measure() calls; exits when it does not start.
start_ivsh_server() {
	local i
	"$server" -F -S "$work/ivsh.sock" -l 64M -n 1 >"$work/server.log" 2>&1 &
	pids+=($!)
	keep_pids=1
	for ((i = 0; i < 100; i++)); do [ -S "$work/ivsh.sock" ] && break; sleep 0.05; done
	[ -S "$work/ivsh.sock" ] || { echo "$prog: ivsh-server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
}

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

# measure KIND LEN RX_VDEV TX_VDEV [SOCKET] -> sets $mpps, the receiver's
# rate. The receiver starts first; with SOCKET, the sender starts only
# once the receiver has created it (net_virtio_user fails at once when
# its vhost-user socket is not there yet).
measure() {
	local kind=$1 len=$2 rxv=$3 txv=$4 sock=${5:-} pps i
	start_testpmd rx 0,1 0 "$rxv"
	wait_log rx 'testpmd> ' 1 20
	if [ -n "$sock" ]; then
		for ((i = 0; i < 200; i++)); do [ -S "$sock" ] && break; sleep 0.05; done
		[ -S "$sock" ] || { echo "$prog: $sock did not appear" >&2; tail -n 20 "$work/rx.log" >&2; return 1; }
	fi
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
	# Keep the first child (the caller's server, if any).
	wait "${pids[@]:$keep_pids}" 2>/dev/null || true
	pids=("${pids[@]:0:$keep_pids}")
	mv "$work/rx.log" "$work/$kind-$len-rx.log"
	mv "$work/tx.log" "$work/$kind-$len-tx.log"
	rm -f "$work/rx.in" "$work/tx.in" ${sock:+"$sock"}
	mpps=$(awk -v p="${pps:-0}" 'BEGIN { printf "%.3f", p / 1e6 }')
	echo "$prog: $kind $len bytes: $mpps Mpps" >&2
}

# best "RATE RATE ...": the highest (load from elsewhere only slows a run).
best() { printf '%s\n' $1 | sort -g | tail -n 1; }
