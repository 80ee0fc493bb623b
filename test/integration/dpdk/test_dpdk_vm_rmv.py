#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hot-unplug under dpdk-testpmd: net_ivshmem raises RTE_ETH_EVENT_INTR_RMV.

A guest with an ivshmem-plain behind a pcie-root-port (hot-pluggable,
0000:01:00.0) bound to vfio-pci runs Debian's dpdk-testpmd with the
plugin. The host deletes the device over QMP: vfio-pci asks DPDK for it
(device request), DPDK's PCI bus relays RTE_DEV_EVENT_REMOVE, the driver
raises RTE_ETH_EVENT_INTR_RMV, and dpdk-testpmd (which asks for removal
events on ports that offer them) detaches the port.

Checks: QEMU sends DEVICE_DELETED (the guest released the device) within
10 s; the driver logged the removal request; dpdk-testpmd reported the
removal event and detached the device; it is still running afterwards.
"""

import os
import sys
import time

import dpdk_helpers as h

GUEST = r"""
"$BIND" --driver vfio-pci "$BDF" || exit 10
mkfifo /tmp/tp.in
stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 --main-lcore 0 --no-huge -m 256 \
	--file-prefix guest --log-level=pmd.net.ivshmem:info -d "$PLUG" \
	-a "$BDF,peer=1" -- -i --total-num-mbufs=2048 --disable-link-check \
	</tmp/tp.in >"$OUT/tp.log" 2>&1 &
TP=$!
exec 3>/tmp/tp.in
i=0
until grep -q 'testpmd> ' "$OUT/tp.log"; do
	i=$((i + 1)); [ $i -gt 300 ] && exit 11; sleep 0.5
done
echo "GUEST: testpmd up"
i=0
until grep -q 'is detached' "$OUT/tp.log"; do
	i=$((i + 1)); [ $i -gt 120 ] && break; sleep 0.5
done
echo "show port summary all" >&3
sleep 2
kill -0 $TP && echo "GUEST: testpmd alive"
echo quit >&3
sleep 3
kill $TP 2>/dev/null
exit 0
"""


def scenario(args, vm, r):
    f = r.plain_file()
    g = r.boot(0, h.guest_script(args.plugin, GUEST), device="plain",
               shmfile=f, hotplug=True)
    r.wait_log(0, "GUEST: testpmd up", 240)
    q = r.qmp(0)
    try:
        t0 = time.monotonic()
        q.command("device_del", id="ivs")
        ev = q.wait_event("DEVICE_DELETED", 30, {"device": "ivs"})
        dt = time.monotonic() - t0
    finally:
        q.close()
    res = r.wait_guests({0: g}, 120)
    tp = open(os.path.join(r.dir, "tp.log"), errors="replace").read()
    r.show(0)
    vm.log("--- dpdk-testpmd ---\n" + tp[-3000:])
    r.expect(ev is not None, "no DEVICE_DELETED in 30 s: the port was not "
             "released")
    vm.log(f"device_del -> DEVICE_DELETED under dpdk-testpmd: {dt * 1000:.0f} ms")
    r.expect("removal requested (hot-unplug): port 0 raises a removal event"
             in tp, "the driver did not log the removal request")
    r.expect("device removal event" in tp,
             "dpdk-testpmd reported no removal event")
    r.expect("is detached" in tp, "dpdk-testpmd did not detach the device")
    r.expect(dt < 10, f"DEVICE_DELETED after {dt:.1f} s (limit 10 s)")
    out = open(os.path.join(r.dir, "guest0.log"), errors="replace").read()
    r.expect("GUEST: testpmd alive" in out,
             "dpdk-testpmd did not survive the removal")
    r.expect(res[0] == 0, f"guest script exit {res[0]}")


def main():
    return h.vm_main("dpdk-rmv", __doc__, scenario)


if __name__ == "__main__":
    sys.exit(main())
