#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The PCI flavour of net_ivshmem in a QEMU guest (suite 'vm').

A guest with an ivshmem-doorbell device (0000:00:04.0) bound to vfio-pci
runs Debian's dpdk-testpmd with the plugin and -a 0000:00:04.0,peer=0, in
io forwarding mode (every frame received is sent back; --no-flush-rx, so
that a ping arriving before forwarding starts is not discarded). On the host,
ivsh-testpmd (server: backend, ID 0) sends COUNT latency pings to the
guest and waits for each to come back.

Checks: every ping comes back intact (samples == COUNT, none lost or
corrupted): the guest's port received and transmitted them; the guest's
port stats show RX-packets == TX-packets >= COUNT with no errors; the
guest's link goes down when the host peer leaves; the driver took the
device from DPDK's PCI bus (its log says "BARs mapped by DPDK (vfio-pci),
2 MSI-X vectors") and the guest kernel shows both vectors as vfio-msix
interrupts of the device.

One host peer for the guest's whole life: QEMU 7.2's ivshmem (Debian 12)
corrupts its heap when a peer ID is reused after a disconnect, so the
scenario never lets an ID come back.

The guest is the harness of test/vm/vmrun.py (TCG, the host's / over 9p),
used as a library; this file only adds the scenario.
"""

import os
import re
import subprocess
import sys

import dpdk_helpers as h

# The guest is emulated (TCG): keep the round trips few.
COUNT = 300
# MSI-X vectors of the guest's ivshmem-doorbell (vmlib's default).
VECTORS = 2

GUEST = r"""
"$BIND" --driver vfio-pci "$BDF" || exit 10
mkfifo /tmp/tp.in
stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 --main-lcore 0 --no-huge -m 256 \
	--file-prefix guest --log-level=pmd.net.ivshmem:info -d "$PLUG" \
	-a "$BDF,peer=0" -- -i \
	--total-num-mbufs=4096 --disable-link-check --no-flush-rx \
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
finish() { echo quit >&3; sleep 5; kill $TP 2>/dev/null; cat /tmp/tp.log; exit $1; }
waitfor 'testpmd> ' 1 150 || finish 11
echo "GUEST: testpmd up"
# DPDK's interrupt handle wired the device's MSI-X vectors (vfio-pci
# names each "vfio-msix[N](BDF)").
echo "GUEST: msix vectors $(grep vfio-msix /proc/interrupts | grep -cF "($BDF)")"
echo "set fwd io" >&3
echo start >&3
# Reflect until every ping went back, then until the host leaves.
n=0
while :; do
	echo "show port stats 0" >&3
	n=$((n + 1))
	waitfor 'NIC statistics for port 0' $n 60 || finish 12
	tx=$(grep -oE 'TX-packets: +[0-9]+ +TX-errors' /tmp/tp.log | tail -n 1 | grep -oE '[0-9]+' | head -n 1)
	echo "GUEST: sent back ${tx:-0}"
	[ "${tx:-0}" -ge @COUNT@ ] && break
	[ $n -gt 90 ] && finish 13
	sleep 2
done
n=0
while :; do
	echo "show port info 0" >&3
	n=$((n + 1))
	waitfor 'Link status:' $n 60 || finish 15
	st=$(grep -oE 'Link status: +[a-z]+' /tmp/tp.log | tail -n 1)
	echo "GUEST: $st"
	case "$st" in *down) break ;; esac
	[ $n -gt 30 ] && finish 16
	sleep 2
done
echo stop >&3
echo "show port stats 0" >&3
echo "show port xstats 0" >&3
waitfor 'pmd_tx_q0_commit_failed' 1 60 || finish 14
echo "GUEST: done"
finish 0
"""


def scenario(args, vm, r):
    tp = r.binary("app/ivsh-testpmd/ivsh-testpmd", "ivsh-testpmd")
    r.start_server(vectors=VECTORS)
    host = r.spawn([tp, "--device", "server:" + r.sock, "--peer", "1",
                    "--engine", "latency", "--count", str(COUNT),
                    "--latency-timeout", "20000", "--json",
                    "--wait-link", "250", "--duration", "300"],
                   "host.log")
    g1 = r.boot(1, h.guest_script(args.plugin,
                                  GUEST.replace("@COUNT@", str(COUNT))),
                vectors=VECTORS)
    try:
        host.wait(330)
    except subprocess.TimeoutExpired:
        raise vm.Fail("host latency run did not finish; guest log:\n" +
                      r.tail("guest1.log"))
    res = r.wait_guests({1: g1}, 240)
    r.show(1)
    vm.log("--- host log ---\n" + r.tail("host.log", 12))
    out = open(os.path.join(r.dir, "guest1.log"), errors="replace").read()
    r.expect(res[1] == 0, "guest script failed (exit %d)" % res[1])
    hj = r.json_lines("host.log")
    r.expect(hj, "the host ivsh-testpmd printed no JSON")
    hj = hj[-1]
    r.expect(host.returncode == 0, "host ivsh-testpmd exit %s" %
             host.returncode)
    r.expect(hj.get("samples") == COUNT and hj.get("lat_lost") == 0 and
             hj.get("corrupted") == 0,
             "pings: %s samples, %s lost, %s corrupted (expected %d, 0, 0)"
             % (hj.get("samples"), hj.get("lat_lost"),
                hj.get("corrupted"), COUNT))
    sec = out[out.rfind("NIC statistics for port 0"):]
    nums = {k: int(v) for k, v in
            re.findall(r"(RX-packets|TX-packets|RX-errors|TX-errors):"
                       r"\s*(\d+)", sec)}
    vm.log("guest port: %s; round trip p50 %.1f us" %
           (nums, hj.get("p50_ns", 0) / 1000))
    r.expect(nums.get("RX-packets", 0) >= COUNT and
             nums.get("RX-packets") == nums.get("TX-packets"),
             "guest port stats %s" % nums)
    r.expect(nums.get("RX-errors") == 0 and nums.get("TX-errors") == 0,
             "guest port errors %s" % nums)
    # The new path: DPDK's PCI bus mapped the BARs and its interrupt
    # handle carries the device's two MSI-X vectors.
    r.expect("BARs mapped by DPDK (vfio-pci), %d MSI-X vectors" %
             VECTORS in out,
             "the driver did not log 'BARs mapped by DPDK (vfio-pci), "
             "%d MSI-X vectors'" % VECTORS)
    r.expect("GUEST: msix vectors %d" % VECTORS in out,
             "the guest's /proc/interrupts does not show %d vfio-msix "
             "vectors of the device" % VECTORS)
    r.expect("GUEST: Link status: down" in out,
             "the guest's link did not go down after the host left")


def main():
    return h.vm_main("dpdk-pci", __doc__, scenario)


if __name__ == "__main__":
    sys.exit(main())
