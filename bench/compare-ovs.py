#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Open vSwitch with DPDK switching between two ports of one type:
net_ivshmem, net_memif, or vhost-user.

    compare-ovs.py --plugin PLUGIN --server IVSH_SERVER [--seconds S]
                   [--rounds R]

For each type, OVS (Debian's ovs-vswitchd-dpdk, one PMD thread on CPU 1)
gets a netdev bridge with two ports of that type and one flow, port 1 ->
port 2. Debian's dpdk-testpmd sends txonly into port 1 and another
receives rxonly from port 2 (both forwarding lcores on CPU 0; their main
lcores on CPU 1 only wait):
  ivshmem: OVS ports are net_ivshmem vdevs of an ivsh-server, the
           testpmds too;
  memif:   OVS ports are net_memif clients (copy mode), the testpmds
           net_memif servers with two queues each way (OVS sends from
           its PMD thread on tx queue 1);
  vhost:   OVS ports are dpdkvhostuser (OVS creates the sockets), the
           testpmds net_virtio_user, as a VM's virtio-net would be.
The figure is what the receiver gets from OVS (its RX-packets over S
seconds, after one second of warm-up: OVS's vhost ports report no
counters of their own here), in Mpps, at 64 and 1500 bytes.
Types alternate within each round; the best round of each is compared.
Exit 77 when OVS-DPDK, dpdk-testpmd or the plugin is missing."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "ecosystem"))
import ovs_helpers as oh  # noqa: E402
from ovs_helpers import dh  # noqa: E402

LENGTHS = (64, 1500)
KINDS = ("ivshmem", "memif", "vhost")


def ports_for(kind, wd, srv, ovs):
    """(OVS port list, tx vdev, rx vdev, extra testpmd options, whether
    the testpmds start first, sockets to wait for before the other side
    starts: a memif or virtio_user client fails at once when its socket
    is not there yet)."""
    if kind == "ivshmem":
        # OVS's ports take IDs 0 and 1; then the receiver 2, the sender 3.
        return ([("dpdk", "net_ivshmem1,server=%s,peer=3" % srv.sock),
                 ("dpdk", "net_ivshmem2,server=%s,peer=2" % srv.sock)],
                "net_ivshmem0,server=%s,peer=0" % srv.sock,
                "net_ivshmem0,server=%s,peer=1" % srv.sock, [], False, [])
    if kind == "memif":
        # OVS gives a port one tx queue per PMD thread plus one and sends
        # from the PMD thread on queue 1; a memif server accepts only as
        # many queues as it has itself. So the testpmds are the servers,
        # with two queues each way (rxonly then polls both).
        socks = [wd.file("memif%d.sock" % i) for i in (1, 2)]
        opts = ",socket-abstract=no,zero-copy=no"
        return ([("dpdk", "net_memif%d,role=client,socket=%s%s" % (i, s, opts))
                 for i, s in zip((1, 2), socks)],
                "net_memif0,role=server,socket=%s%s" % (socks[0], opts),
                "net_memif0,role=server,socket=%s%s" % (socks[1], opts),
                ["--rxq=2", "--txq=2"], True, socks)
    # vhost-user: OVS creates the sockets, virtio_user connects.
    socks = [os.path.join(ovs.dir, "vhu%d" % i) for i in (1, 2)]
    return ([("dpdkvhostuser", "vhu1"), ("dpdkvhostuser", "vhu2")],
            "net_virtio_user0,path=%s,queues=1" % socks[0],
            "net_virtio_user0,path=%s,queues=1" % socks[1], [], False, socks)


def add_ports(ovs, plist):
    names = []
    for num, (typ, arg) in enumerate(plist, start=1):
        name = arg if typ == "dpdkvhostuser" else "p%d" % num
        opts = [] if typ == "dpdkvhostuser" else ["options:dpdk-devargs=" + arg]
        ovs.vsctl("--timeout=30", "add-port", "br0", name, "--", "set",
                  "Interface", name, "type=" + typ,
                  "ofport_request=%d" % num, *opts)
        names.append(name)
    ovs.ofctl("del-flows", "br0")
    ovs.ofctl("add-flow", "br0", "in_port=1,actions=output:2")
    return names


def start_testpmds(kind, args, wd, n, txv, rxv, extra):
    rx = dh.TestPmd(args.plugin, rxv, wd, "%s-rx-%d" % (kind, n),
                    lcores="0,1", main_lcore=1, extra=extra)
    rx.wait_prompt(30)
    tx = dh.TestPmd(args.plugin, txv, wd, "%s-tx-%d" % (kind, n),
                    lcores="0,1", main_lcore=1, extra=extra)
    tx.wait_prompt(30)
    return rx, tx


def wait_socks(socks):
    for s in socks:
        dh.wait_for(lambda s=s: os.path.exists(s), 20, "socket " + s)


def rx_packets(pmd):
    """The receiving testpmd's RX-packets, read now."""
    seen = pmd.output().count("NIC statistics for port 0")
    pmd.send("show port stats 0")
    pmd.wait_output(r"NIC statistics for port 0", 10, "port stats",
                    count=seen + 1)
    pmd.wait_output(r"Tx-pps", 10, "port stats", count=seen + 1)
    return dh.port_stats(pmd.output())["RX-packets"]


def measure_kind(kind, args, wd, srv, ovs, n):
    plist, txv, rxv, extra, pmds_first, socks = ports_for(kind, wd, srv, ovs)
    if pmds_first:
        rx, tx = start_testpmds(kind, args, wd, n, txv, rxv, extra)
        wait_socks(socks)
        names = add_ports(ovs, plist)
    else:
        names = add_ports(ovs, plist)
        wait_socks(socks)
        rx, tx = start_testpmds(kind, args, wd, n, txv, rxv, extra)
    for name in names:
        ovs.wait_link(name, 30)
    rx.send("set fwd rxonly", "start")
    rates = {}
    for length in LENGTHS:
        tx.send("set fwd txonly", "set txpkts %d" % length, "start")
        time.sleep(1)
        c0, t0 = rx_packets(rx), time.monotonic()
        time.sleep(args.seconds)
        c1, t1 = rx_packets(rx), time.monotonic()
        tx.send("stop")
        if c1 == c0:
            dh.fail("no traffic through OVS between %s ports: %s" %
                    (kind, ovs.port_stats("br0")))
        rates[length] = (c1 - c0) / (t1 - t0) / 1e6
        print("%s %d bytes: %.3f Mpps" % (kind, length, rates[length]),
              file=sys.stderr, flush=True)
        time.sleep(0.5)
    tx.quit()
    rx.quit()
    for name in names:
        ovs.vsctl("--timeout=30", "del-port", "br0", name)
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", default="")
    ap.add_argument("--server", default="")
    ap.add_argument("--skip-reason", default="")
    ap.add_argument("--ivsh-testpmd", default="", help="(not used)")
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="port types to compare, of " + ",".join(KINDS))
    args = ap.parse_args()
    kinds = tuple(args.kinds.split(","))
    if not kinds or any(k not in KINDS for k in kinds):
        print("compare-ovs: --kinds takes some of " + ",".join(KINDS),
              file=sys.stderr)
        return 2
    if args.seconds < 1 or args.rounds < 1:
        print("compare-ovs: --seconds and --rounds must be positive",
              file=sys.stderr)
        return 2
    why = oh.missing()
    if why:
        dh.skip(why)
    dh.require(args)
    wd = dh.Workdir("bench-ovs")
    srv = dh.Server(args.server, wd, size="64M", vectors=1)
    ovs = oh.Ovs(wd, args.plugin)
    ovs.add_bridge("br0")
    res = {(k, n): [] for k in kinds for n in LENGTHS}
    for r in range(args.rounds):
        for kind in kinds:
            for length, mpps in measure_kind(kind, args, wd, srv, ovs,
                                             r).items():
                res[kind, length].append(mpps)
    ovs.stop()
    srv.stop()

    print("\nReceived through OVS (%s bridge, 2 ports, one PMD thread), %d s per "
          "point, %d rounds (load average %.2f)" %
          ("netdev", args.seconds, args.rounds, os.getloadavg()[0]))
    print("%-6s %-8s %s" % ("bytes", "ports", "Mpps per round"))
    for length in LENGTHS:
        for kind in kinds:
            print("%-6d %-8s %s" % (length, kind, " ".join(
                "%.3f" % v for v in res[kind, length])))
    print("\n%-6s %13s %13s %13s %14s %14s" % (
        "bytes", "ivshmem Mpps", "memif Mpps", "vhost Mpps", "ivshmem/memif",
        "ivshmem/vhost"))
    for length in LENGTHS:
        b = {k: max(res[k, length]) if (k, length) in res else 0.0
             for k in KINDS}
        ratio = lambda x: "%.2f" % (b["ivshmem"] / x) if x > 0 else "n/a"
        print("%-6d %13.3f %13.3f %13.3f %14s %14s" % (
            length, b["ivshmem"], b["memif"], b["vhost"], ratio(b["memif"]),
            ratio(b["vhost"])))
    print("(best of %d rounds)" % args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
