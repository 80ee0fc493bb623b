#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interrupts of net_ivshmem_pci in a QEMU guest (suite 'vm').

1. vfio-pci: the guest (ID 0, the master: QEMU is the server's first
   client) runs rxintr_app with -a 0000:00:04.0,peer=1,intr=1: it sleeps on
   rx queue 0's wakeup fd, which is one of the eventfds of DPDK's interrupt
   handle that the device's MSI-X vectors are wired to. Once it sleeps, a
   host ivsh-testpmd (ID 1) sends COUNT frames.
   Checks: every frame arrives, the application was woken by the host's
   doorbells (wakeups >= 1) and no 10-second sleep timed out; the driver
   logged "BARs mapped by DPDK (vfio-pci), 2 MSI-X vectors".
2. uio_pci_generic (DPDK has no MSI-X through it): dpdk-testpmd probes the
   device and the driver logs that it polls; intr=1 is refused with a
   one-line reason. DPDK gives uio devices IOVA-as-PA only, which
   --no-huge cannot provide, so this part uses hugepages.

One host peer for the guest's whole life (QEMU 7.2 corrupts its heap when
a peer ID comes back). The guest is test/vm/vmrun.py's harness.
"""

import os
import re
import subprocess
import sys

import dpdk_helpers as h

COUNT = 2000
VECTORS = 2

GUEST = r"""
EAL="--log-level=pmd.net.ivshmem:info -d $PLUG"

"$BIND" --driver vfio-pci "$BDF" || exit 10
stdbuf -oL '@APP@' -l 0 --no-huge -m 256 --file-prefix guest $EAL \
	-a "$BDF,peer=1,intr=1" -- @COUNT@ 200 >/tmp/app.log 2>&1 &
APP=$!
i=0
until grep -q ready /tmp/app.log; do
	kill -0 $APP 2>/dev/null || break
	i=$((i + 1))
	[ $i -gt 300 ] && break
	sleep 0.5
done
echo "GUEST: app sleeping"
wait $APP
rc=$?
cat /tmp/app.log
echo "GUEST: rxintr_app exit $rc"

"$BIND" --driver uio_pci_generic "$BDF" || exit 20
mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages &&
	echo 48 >/proc/sys/vm/nr_hugepages || exit 21
for extra in "" ",intr=1"; do
	echo quit | dpdk-testpmd --lcores 0@0,1@0 --main-lcore 0 -m 64 \
		--file-prefix guest-uio $EAL -a "$BDF,peer=1$extra" -- -i \
		--total-num-mbufs=2048 --disable-link-check >/tmp/uio.log 2>&1
	echo "GUEST: uio testpmd$extra exit $?"
	grep -E 'net_ivshmem|Port 0:|EAL: (Error|Expecting|Requested)' /tmp/uio.log
done
echo "GUEST: done"
"""


def scenario(args, vm, r):
    tp = r.binary("app/ivsh-testpmd/ivsh-testpmd", "ivsh-testpmd")
    r.start_server(vectors=VECTORS)
    script = h.guest_script(args.plugin,
                            GUEST.replace("@APP@", os.path.abspath(args.app))
                            .replace("@COUNT@", str(COUNT)))
    g1 = r.boot(1, script, vectors=VECTORS)
    r.wait_log(1, "GUEST: app sleeping", 200)
    host = r.spawn([tp, "--device", "server:" + r.sock, "--peer", "0",
                    "--engine", "txonly", "--count", str(COUNT),
                    "--wait-link", "30", "--duration", "200", "--json"],
                   "host.log")
    try:
        host.wait(230)
    except subprocess.TimeoutExpired:
        raise vm.Fail("host txonly did not finish; guest log:\n" +
                      r.tail("guest1.log"))
    res = r.wait_guests({1: g1}, 300)
    r.show(1)
    out = open(os.path.join(r.dir, "guest1.log"), errors="replace").read()
    r.expect(res[1] == 0, "guest script failed (exit %d)" % res[1])
    r.expect(host.returncode == 0, "host ivsh-testpmd exit %s: %s" %
             (host.returncode, r.tail("host.log", 5)))

    # 1. vfio-pci, MSI-X through DPDK's interrupt handle
    r.expect("BARs mapped by DPDK (vfio-pci), %d MSI-X vectors" %
             VECTORS in out, "no 'BARs mapped by DPDK (vfio-pci), %d "
             "MSI-X vectors' in the guest's log" % VECTORS)
    m = re.search(r"received=(\d+) wakeups=(\d+) timeouts=(\d+)", out)
    r.expect(m, "rxintr_app printed no result")
    received, wakeups, timeouts = (int(x) for x in m.groups())
    vm.log("rxintr_app: received %d, wakeups %d, timeouts %d" %
           (received, wakeups, timeouts))
    r.expect(received == COUNT, "received %d of %d frames" %
             (received, COUNT))
    r.expect(wakeups >= 1, "never woken by the host's doorbell")
    r.expect(timeouts == 0, "%d sleeps timed out" % timeouts)
    r.expect("GUEST: rxintr_app exit 0" in out, "rxintr_app failed")

    # 2. uio_pci_generic: polling, and intr=1 refused
    r.expect("BARs mapped by DPDK (uio_pci_generic), no interrupts" in out,
             "no polling notice for uio_pci_generic in the guest's log")
    r.expect("GUEST: uio testpmd exit 0" in out and
             re.search(r"Port 0: [0-9A-F:]{17}", out, re.I),
             "testpmd did not get a port over uio_pci_generic")
    r.expect("intr=1 needs MSI-X" in out,
             "intr=1 over uio_pci_generic was not refused clearly")


def main():
    return h.vm_main("dpdk-pci-intr", __doc__, scenario, need_app=True)


if __name__ == "__main__":
    sys.exit(main())
