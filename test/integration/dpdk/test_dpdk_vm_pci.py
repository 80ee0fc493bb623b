#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The PCI flavour of net_ivshmem in a QEMU guest (suite 'vm').

A guest with an ivshmem-doorbell device (0000:00:04.0) bound to vfio-pci
runs Debian's dpdk-testpmd with the plugin and -a 0000:00:04.0,peer=0; on
the host, ivsh-testpmd (server: backend, ID 0) is the other peer.

1. host ivsh-testpmd txonly, COUNT frames of LEN bytes -> guest testpmd
   rxonly: the guest's port stats show RX-packets == COUNT and
   RX-bytes == COUNT x LEN, no rx errors;
2. guest testpmd txonly -> host ivsh-testpmd rxonly --count COUNT2: the
   host receives them, each 64 bytes, with no rx errors.

The guest is the harness of test/vm/vmrun.py (TCG, the host's / over 9p),
used as a library; this file only adds the scenario.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

# The guest is emulated (TCG): a few thousand frames take seconds.
COUNT = 2000
LEN = 256
COUNT2 = 2000

GUEST = r"""
PLUG='@PLUG@'
"$BIND" --driver vfio-pci "$BDF" || exit 10
mkfifo /tmp/tp.in
stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 --main-lcore 0 --no-huge -m 256 \
	--file-prefix guest -d "$PLUG" -a "$BDF,peer=0" -- -i \
	--total-num-mbufs=4096 --disable-link-check \
	</tmp/tp.in >/tmp/tp.log 2>&1 &
TP=$!
exec 3>/tmp/tp.in
count() { grep -cE "$1" /tmp/tp.log; }
waitfor() { # REGEX COUNT SECONDS
	i=0
	while [ "$(count "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -gt $(($3 * 2)) ] && return 1
		sleep 0.5
	done
}
finish() { echo quit >&3; sleep 2; kill $TP 2>/dev/null; cat /tmp/tp.log; exit $1; }
waitfor 'testpmd> ' 1 120 || finish 11
echo "GUEST: testpmd up"
echo "set fwd rxonly" >&3
echo start >&3
# 1. receive COUNT frames from the host
n=0
while :; do
	echo "show port stats 0" >&3
	n=$((n + 1))
	waitfor 'NIC statistics for port 0' $n 60 || finish 12
	rx=$(grep -oE 'RX-packets: +[0-9]+ +RX-missed' /tmp/tp.log | tail -n 1 | grep -oE '[0-9]+' | head -n 1)
	echo "GUEST: rx ${rx:-0}"
	[ "${rx:-0}" -ge @COUNT@ ] && break
	[ $n -gt 60 ] && finish 13
	sleep 2
done
echo stop >&3
echo "show port stats 0" >&3
echo "show port xstats 0" >&3
waitfor 'pmd_tx_q0_commit_failed' 1 60 || finish 14
echo "GUEST: phase 1 done"
# 2. send until the host's receiver has enough and leaves (link down)
up=
echo "set fwd txonly" >&3
echo "set txpkts 64" >&3
echo start >&3
i=0
while :; do
	echo "show port info 0" >&3
	i=$((i + 1))
	waitfor 'Link status:' $i 60 || finish 15
	st=$(grep -oE 'Link status: +[a-z]+' /tmp/tp.log | tail -n 1)
	echo "GUEST: $st"
	# Down once the host's receiver, seen up, has had enough and left.
	case "$st" in
	*up) up=1 ;;
	*down) [ -n "$up" ] && break ;;
	esac
	[ $i -gt 60 ] && finish 16
	sleep 2
done
echo stop >&3
echo "GUEST: phase 2 done"
finish 0
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--vmrun", required=True, help="test/vm/vmrun.py")
    ap.add_argument("--plugin", default="")
    ap.add_argument("--skip-reason", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not args.plugin or not os.path.isfile(args.plugin):
        print("SKIP: net_ivshmem plugin not built: " +
              (args.skip_reason or args.plugin or "?"))
        return 77
    if not os.path.exists("/usr/bin/dpdk-testpmd"):
        print("SKIP: /usr/bin/dpdk-testpmd not found (apt-get install dpdk)")
        return 77
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.vmrun)))
    import vmrun as vm

    args.py_server = False
    # meson's timeout sends SIGTERM: still clean up the guest and server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    r = None
    try:
        if not os.path.exists("/usr/bin/qemu-system-x86_64"):
            raise vm.Skip("qemu-system-x86_64 not found")
        r = vm.Run(args, "dpdk-pci")
        tp = r.binary("app/ivsh-testpmd/ivsh-testpmd", "ivsh-testpmd")
        r.start_server(vectors=2)
        host_tx = r.spawn([tp, "--device", "server:" + r.sock, "--peer", "1",
                           "--engine", "txonly", "--count", str(COUNT),
                           "--pkt-len", str(LEN), "--json",
                           "--wait-link", "200"], "host-tx.log")
        time.sleep(0.5)  # the host peer takes ID 0
        script = (GUEST.replace("@PLUG@", args.plugin)
                  .replace("@COUNT@", str(COUNT)))
        g1 = r.boot(1, script)
        try:
            host_tx.wait(240)
        except subprocess.TimeoutExpired:
            raise vm.Fail("host txonly did not finish; guest log:\n" +
                          r.tail("guest1.log"))
        r.expect(host_tx.returncode == 0,
                 "host txonly failed:\n" + r.tail("host-tx.log"))
        host_rx = r.spawn([tp, "--device", "server:" + r.sock, "--peer", "1",
                           "--engine", "rxonly", "--count", str(COUNT2),
                           "--no-verify", "--json", "--wait-link", "120"],
                          "host-rx.log")
        try:
            host_rx.wait(200)
        except subprocess.TimeoutExpired:
            raise vm.Fail("host rxonly did not finish; guest log:\n" +
                          r.tail("guest1.log"))
        res = r.wait_guests({1: g1}, 120)
        r.show(1)
        out = open(os.path.join(r.dir, "guest1.log"), errors="replace").read()
        r.expect(res[1] == 0, "guest script failed (exit %d)" % res[1])
        sec = out[out.rfind("NIC statistics for port 0"):]
        m = re.search(r"RX-packets:\s*(\d+).*?RX-bytes:\s*(\d+)", sec, re.S)
        e = re.search(r"RX-errors:\s*(\d+)", sec)
        r.expect(m is not None and e is not None, "no port stats in guest log")
        rx, rxb, rxe = int(m.group(1)), int(m.group(2)), int(e.group(1))
        vm.log("guest received %d frames, %d bytes, %d errors" %
               (rx, rxb, rxe))
        r.expect(rx == COUNT, "guest RX-packets %d, expected %d" % (rx, COUNT))
        r.expect(rxb == COUNT * LEN, "guest RX-bytes %d, expected %d" %
                 (rxb, COUNT * LEN))
        r.expect(rxe == 0, "guest rx errors %d" % rxe)
        hj = r.json_lines("host-rx.log")
        r.expect(hj, "host rxonly printed no JSON")
        hj = hj[-1]
        vm.log("host received %s frames from the guest" %
               hj.get("rx_packets"))
        r.expect(hj.get("rx_packets", 0) >= COUNT2,
                 "host received %s frames" % hj.get("rx_packets"))
        r.expect(hj.get("rx_bytes") == hj.get("rx_packets") * 64,
                 "host rx_bytes %s for %s frames of 64 bytes" %
                 (hj.get("rx_bytes"), hj.get("rx_packets")))
        r.expect(hj.get("port_rx_errors") == 0, "host rx errors")
        vm.log("PASS dpdk-pci")
        return 0
    except vm.Skip as e:
        print("SKIP: %s" % e)
        return 77
    except vm.Fail as e:
        vm.log("FAIL dpdk-pci: %s" % e)
        return 1
    finally:
        if r is not None:
            r.cleanup(args.keep)


if __name__ == "__main__":
    sys.exit(main())
