#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Open vSwitch with DPDK switching between two ports of one type:
net_ivshmem, net_memif, or vhost-user.

    compare-ovs.py --plugin PLUGIN --server IVSH_SERVER [--seconds S]
                   [--rounds R] [--kinds ivshmem,memif,vhost]

For each type, OVS (Debian's ovs-vswitchd-dpdk, one PMD thread on CPU 1)
gets a netdev bridge with two ports of that type and one flow, port 1 ->
port 2. One dpdk-testpmd (forwarding lcore on CPU 0) has the two other
ends, port 0 facing OVS's port 1 and port 1 facing OVS's port 2: it
starts with `start tx_first 32` (32 bursts sent on each port) and then
forwards in io mode, port 1 -> port 0, so the same frames go round
testpmd -> OVS -> testpmd. Two busy threads on two CPUs: nothing else
polls, and the rate is what OVS switches (or what testpmd forwards,
whichever is slower; OVS's lookup and the copies on both sides make OVS
the slower here).
  ivshmem: OVS ports and testpmd ports are net_ivshmem vdevs of an
           ivsh-server;
  memif:   OVS ports are net_memif clients (copy mode), testpmd's ports
           net_memif servers with two queues each way, and OVS polls two
           Rx queues (OVS gives a port one tx queue per PMD thread plus
           one and sends from queue 1; a memif server accepts no more
           queues than it has; testpmd forwards queue 1 to queue 1);
  vhost:   OVS ports are dpdkvhostuser (OVS creates the sockets), the
           testpmd ports net_virtio_user, as a VM's virtio-net would be.
The figure is testpmd's receive rate on its port 1 (frames out of OVS)
over S seconds after one second of warm-up, in Mpps, at 64 and 1500
bytes. Types alternate within each round; the best round of each is
compared. Exit 77 when OVS-DPDK, dpdk-testpmd or the plugin is
missing."""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "ecosystem"))
import ovs_helpers as oh  # noqa: E402
from ovs_helpers import dh  # noqa: E402

LENGTHS = (64, 1500)
KINDS = ("ivshmem", "memif", "vhost")


def ports_for(kind, wd, srv, ovs):
    """(OVS port list, testpmd's two vdevs, extra testpmd options, whether
    testpmd starts first, sockets to wait for before the other side
    starts: a memif or virtio_user client fails at once when its socket
    is not there yet)."""
    if kind == "ivshmem":
        # OVS's ports take IDs 0 and 1, testpmd's 2 and 3.
        return ([("dpdk", "net_ivshmem1,server=%s,peer=2" % srv.sock),
                 ("dpdk", "net_ivshmem2,server=%s,peer=3" % srv.sock)],
                ["net_ivshmem0,server=%s,peer=0" % srv.sock,
                 "net_ivshmem1,server=%s,peer=1" % srv.sock], [], False, [])
    if kind == "memif":
        socks = [wd.file("memif%d.sock" % i) for i in (1, 2)]
        opts = ",socket-abstract=no,zero-copy=no"
        return ([("dpdk", "net_memif%d,role=client,socket=%s%s" % (i, s, opts))
                 for i, s in zip((1, 2), socks)],
                ["net_memif%d,role=server,socket=%s%s" % (i, s, opts)
                 for i, s in zip((0, 1), socks)],
                ["--rxq=2", "--txq=2"], True, socks)
    socks = [os.path.join(ovs.dir, "vhu%d" % i) for i in (1, 2)]
    return ([("dpdkvhostuser", "vhu1"), ("dpdkvhostuser", "vhu2")],
            ["net_virtio_user%d,path=%s,queues=1" % (i, s)
             for i, s in zip((0, 1), socks)], [], False, socks)


def add_ports(ovs, plist):
    names = []
    for num, (typ, arg) in enumerate(plist, start=1):
        name = arg if typ == "dpdkvhostuser" else "p%d" % num
        opts = [] if typ == "dpdkvhostuser" else ["options:dpdk-devargs=" + arg]
        if "net_memif" in arg:
            # Poll both queues testpmd may send on (see ports_for).
            opts.append("options:n_rxq=2")
        ovs.vsctl("--timeout=30", "add-port", "br0", name, "--", "set",
                  "Interface", name, "type=" + typ,
                  "ofport_request=%d" % num, *opts)
        names.append(name)
    ovs.ofctl("del-flows", "br0")
    ovs.ofctl("add-flow", "br0", "in_port=1,actions=output:2")
    return names


def start_testpmd(kind, args, wd, n, vdevs, extra):
    # --port-topology=paired: port 1's frames go out of port 0.
    pmd = dh.TestPmd(args.plugin, vdevs[0], wd, "%s-%d" % (kind, n),
                     lcores="0,1", main_lcore=1,
                     extra=list(extra) + ["--port-topology=paired"],
                     eal_extra=["--vdev", vdevs[1]])
    pmd.wait_prompt(30)
    return pmd


def wait_socks(socks):
    for s in socks:
        dh.wait_for(lambda s=s: os.path.exists(s), 20, "socket " + s)


def rx_packets(pmd, port):
    """testpmd's RX-packets of @port, read now."""
    title = "NIC statistics for port %d" % port
    out = pmd.output()
    seen, shown = out.count(title), out.count("Tx-pps")
    pmd.send("show port stats %d" % port)
    pmd.wait_output(r"Tx-pps", 10, "port stats", count=shown + 1)
    out = pmd.output()
    sec = out[out.rfind(title):] if out.count(title) > seen else ""
    m = re.search(r"RX-packets:\s*(\d+)", sec)
    if not m:
        dh.fail("no port stats for port %d" % port)
    return int(m.group(1))


def measure_kind(kind, args, wd, srv, ovs, n):
    plist, vdevs, extra, pmd_first, socks = ports_for(kind, wd, srv, ovs)
    if pmd_first:
        pmd = start_testpmd(kind, args, wd, n, vdevs, extra)
        wait_socks(socks)
        names = add_ports(ovs, plist)
    else:
        names = add_ports(ovs, plist)
        wait_socks(socks)
        pmd = start_testpmd(kind, args, wd, n, vdevs, extra)
    for name in names:
        ovs.wait_link(name, 30)
    rates = {}
    for length in LENGTHS:
        pmd.send("set fwd io", "set txpkts %d" % length, "start tx_first 32")
        time.sleep(1)
        c0, t0 = rx_packets(pmd, 1), time.monotonic()
        time.sleep(args.seconds)
        c1, t1 = rx_packets(pmd, 1), time.monotonic()
        pmd.send("stop")
        if c1 == c0:
            dh.fail("no traffic through OVS between %s ports: %s" %
                    (kind, ovs.port_stats("br0")))
        rates[length] = (c1 - c0) / (t1 - t0) / 1e6
        print("%s %d bytes: %.3f Mpps" % (kind, length, rates[length]),
              file=sys.stderr, flush=True)
        time.sleep(1)  # let the frames still in flight drain
    pmd.quit()
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

    print("\nSwitched by OVS (%s bridge, 2 ports, one PMD thread; testpmd looping the frames), %d s per "
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
        ratio = lambda x: ("%.2f" % (b["ivshmem"] / x)
                           if x > 0 and b["ivshmem"] > 0 else "n/a")
        print("%-6d %13.3f %13.3f %13.3f %14s %14s" % (
            length, b["ivshmem"], b["memif"], b["vhost"], ratio(b["memif"]),
            ratio(b["vhost"])))
    print("(best of %d rounds)" % args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
