#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Open vSwitch with DPDK switches between net_ivshmem ports.

ovsdb-server and Debian's ovs-vswitchd-dpdk run from a private folder with
the plugin loaded through dpdk-extra; a netdev bridge has one net_ivshmem
port per ivsh-testpmd peer (two senders, two receivers). OpenFlow rules
steer by destination MAC, whatever the input port: sender 1 addresses
receiver 1, sender 2 receiver 2, anything else is dropped. Every sequenced
frame must arrive intact at the receiver it was addressed to, and OVS's
port and flow counters must match the counts exactly.

The layout's rings hold every frame of a run (16384 slots of 128 bytes),
so no frame can be dropped for lack of room however the machine
schedules the three busy processes."""

import os
import sys
import time

import ovs_helpers as oh
from ovs_helpers import dh

N1, LEN1 = 12000, 64     # run 1: to receiver 1, one slot per frame
N2, LEN2 = 800, 1500     # run 2: to receiver 2, 12 slots per frame
LAYOUT = "ring_size=16384,slot_size=128"


def mac_of(peer_id):
    """The default MAC of ivshmem peer @peer_id (02:49:56:53:IDhi:IDlo)."""
    return "02:49:56:53:%02x:%02x" % (peer_id >> 8, peer_id & 0xff)


def check_receiver(wd, name, proc, count, length):
    dh.wait_exit(proc, name, timeout=60)
    j = dh.ivsh_json(wd, name)
    dh.check(j["rx_packets"] == count and j["rx_bytes"] == count * length,
             "%s: %d frames of %d bytes arrived (%d, %d bytes)" %
             (name, count, length, j["rx_packets"], j["rx_bytes"]))
    bad = {k: j[k] for k in ("lost", "reordered", "duplicated", "corrupted",
                             "stale", "port_rx_errors")}
    dh.check(not any(bad.values()), "%s: none lost or corrupted %s" %
             (name, bad))


def main():
    args = dh.parse_args(__doc__.splitlines()[0])
    why = oh.missing()
    if why:
        dh.skip(why)
    dh.require(args, ivsh_testpmd=True)
    wd = dh.Workdir("ovs")
    # --safe-ids: a receiver that is done leaves, and a sender starting
    # after it must not take over its ID (each OVS port names its peer).
    srv = dh.Server(args.server, wd, size="256M", vectors=1,
                    extra=["--safe-ids"])
    ovs = oh.Ovs(wd, args.plugin)
    t0 = time.monotonic()
    ovs.add_bridge("br0")
    # OVS's ports connect first and take IDs 0..3 (0 lays out the
    # memory); then receiver 1 gets 4, receiver 2 gets 5, the senders 6
    # and 7. OpenFlow port numbers are the OVS IDs plus one.
    ports = (("ivtx1", 6), ("ivrx1", 4), ("ivrx2", 5), ("ivtx2", 7))
    ofport = {}
    for num, (name, peer) in enumerate(ports, start=1):
        ovs.add_dpdk_port("br0", name, "net_ivshmem%d,server=%s,peer=%d,%s" %
                          (num, srv.sock, peer, LAYOUT), num)
        ofport[name] = str(num)
    ovs.ofctl("del-flows", "br0")
    ovs.ofctl("add-flow", "br0", "priority=100,dl_dst=%s,actions=output:2" %
              mac_of(4))
    ovs.ofctl("add-flow", "br0", "priority=100,dl_dst=%s,actions=output:3" %
              mac_of(5))
    ovs.ofctl("add-flow", "br0", "priority=0,actions=drop")

    dev = "server:" + srv.sock
    rx1 = dh.run_ivsh_testpmd(args.ivsh_testpmd, dev, 1, "rxonly", wd, "rx1",
                              ["--count", str(N1), "--mode", "intr"])
    dh.wait_for(lambda: "ready" in open(wd.file("rx1.log")).read(), 20,
                "receiver 1 attached")
    rx2 = dh.run_ivsh_testpmd(args.ivsh_testpmd, dev, 2, "rxonly", wd, "rx2",
                              ["--count", str(N2), "--mode", "intr"])
    dh.wait_for(lambda: "ready" in open(wd.file("rx2.log")).read(), 20,
                "receiver 2 attached")
    ovs.wait_link("ivrx1")
    ovs.wait_link("ivrx2")

    for name, ovs_id, count, length, dst in (
            ("tx1", 0, N1, LEN1, mac_of(4)), ("tx2", 3, N2, LEN2, mac_of(5))):
        tx = dh.run_ivsh_testpmd(args.ivsh_testpmd, dev, ovs_id, "txonly",
                                 wd, name,
                                 ["--count", str(count), "--pkt-len",
                                  str(length), "--eth-dst", dst,
                                  "--wait-link", "20"])
        dh.wait_exit(tx, "sender %s (%d x %d B to %s)" %
                     (name, count, length, dst))
        j = dh.ivsh_json(wd, name)
        dh.check(j["tx_packets"] == count, "%s sent %d frames (%d)" %
                 (name, count, j["tx_packets"]))

    check_receiver(wd, "rx1", rx1, N1, LEN1)
    check_receiver(wd, "rx2", rx2, N2, LEN2)

    st = ovs.port_stats("br0")
    print("OVS ports: %s" % st)
    for key, want in ((("ivtx1", "rx"), N1), (("ivtx2", "rx"), N2),
                      (("ivrx1", "tx"), N1), (("ivrx2", "tx"), N2),
                      (("ivtx1", "tx"), 0), (("ivtx2", "tx"), 0),
                      (("ivrx1", "rx"), 0), (("ivrx2", "rx"), 0)):
        got = st.get(ofport[key[0]], {}).get(key[1], {})
        dh.check(got.get("pkts") == want and not got.get("drop") and
                 not got.get("errs"),
                 "OVS %s %s pkts == %d, no drop, no error (%s)" %
                 (key[0], key[1], want, got))
    b1, b2 = st["2"]["tx"]["bytes"], st["3"]["tx"]["bytes"]
    dh.check(b1 == N1 * LEN1 and b2 == N2 * LEN2,
             "OVS tx bytes == %d and %d (%s, %s)" %
             (N1 * LEN1, N2 * LEN2, b1, b2))
    flows = ovs.flow_packets("br0")
    print("OVS flows: %s" % flows)
    dh.check(flows.get("priority=100,dl_dst=" + mac_of(4)) == N1 and
             flows.get("priority=100,dl_dst=" + mac_of(5)) == N2 and
             flows.get("priority=0") == 0,
             "each MAC rule matched its run, the drop rule nothing")
    print("traffic part took %.1f s" % (time.monotonic() - t0))
    ovs.stop()
    dh.check(ovs.vswitchd.returncode is not None and
             ovs.ovsdb.returncode is not None, "ovs-vswitchd and "
             "ovsdb-server stopped")
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
