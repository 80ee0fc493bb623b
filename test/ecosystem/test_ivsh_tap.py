#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivsh-tap carries the kernel's network stack over an ivshmem link.

Two host peers of one ivsh-server, each an ivsh-tap in interrupt mode in
a network namespace of its own: ping works both ways (small and
fragmented), an iperf3 TCP run completes, and its segments crossed as
frames larger than the MTU (checksum and segmentation offload); the
bridges then sleep when idle. With --no-offload, ping works over plain
frames no longer than the MTU. A veth pair between the same namespaces
gives the kernel-only figure for comparison, measured in the same run."""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "dpdk"))
import dpdk_helpers as dh  # noqa: E402

IPERF_S = 3
MTU = 1500


def sh(*argv, check=True, timeout=30):
    r = subprocess.run(list(argv), capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        dh.fail("%s: %s" % (" ".join(argv), (r.stderr or r.stdout).strip()))
    return r


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def iperf(ns_srv, ns_cli, addr, port, wd, name):
    """One iperf3 TCP run, client in @ns_cli to the server in @ns_srv;
    returns the receiver's Gbit/s."""
    srv = dh.spawn(["ip", "netns", "exec", ns_srv, "iperf3", "-s",
                    "-B", addr, "-p", str(port)], wd.file(name + "-srv.log"))
    cli = None
    for _ in range(150):  # until the server listens
        r = sh("ip", "netns", "exec", ns_cli, "iperf3", "-c", addr, "-p",
               str(port), "-t", str(IPERF_S), "-J", check=False,
               timeout=IPERF_S + 60)
        # iperf3 -J may exit 0 with an "error" in its JSON.
        if "Connection refused" in r.stdout + r.stderr:
            time.sleep(0.1)
            continue
        if r.returncode == 0 and '"error"' not in r.stdout:
            cli = r
            break
        dh.fail("iperf3 %s: %s" % (name, (r.stdout + r.stderr)[-600:]))
    if cli is None:
        dh.fail("iperf3 %s: the server never listened" % name)
    srv.terminate()
    srv.wait(30)
    try:
        res = json.loads(cli.stdout)
        bps = res["end"]["sum_received"]["bits_per_second"]
        got = res["end"]["sum_received"]["bytes"]
    except (ValueError, KeyError):
        dh.fail("iperf3 %s: no result: %s" % (name, cli.stdout[-800:]))
    dh.check(got > 0, "iperf3 over %s completed: %d bytes, %.2f Gbit/s" %
             (name, got, bps / 1e9))
    return bps / 1e9


def start_bridges(args, srv, ns, wd, ifname, subnet, extra):
    """One ivsh-tap in interrupt mode per namespace, interface @ifname
    with address @subnet.1 and .2; waits for the link. Returns
    [(process, log path)]."""
    taps = []
    for i, n in enumerate(ns):
        log = wd.file("%s-%d.log" % (ifname, i))
        p = dh.spawn(["ip", "netns", "exec", n, args.tap, "--device",
                      "server:" + srv.sock, "--peer", str(1 - i), "--tap",
                      ifname, "--mode", "intr"] + extra, log)
        # The first one must be ID 0 (it lays out the memory).
        dh.wait_for(lambda log=log, p=p: ifname + ": device" in
                    open(log).read() or p.poll() is not None, 20,
                    "ivsh-tap %d ready" % i)
        if p.poll() is not None:
            dh.fail("ivsh-tap %d exited: %s" % (i, open(log).read()))
        taps.append((p, log))
        sh("ip", "-n", n, "addr", "add", "%s.%d/24" % (subnet, i + 1),
           "dev", ifname)
    for i, (p, log) in enumerate(taps):
        dh.wait_for(lambda log=log: "link to peer %d up" % (1 - i) in
                    open(log).read(), 20, "ivsh-tap %d link up" % i)
    return taps


def stop_bridges(taps):
    """SIGINT each bridge; returns its counters (to_port frames, bytes,
    bad_hdr, tap_write_err, oversize)."""
    stats = []
    for p, log in taps:
        p.send_signal(signal.SIGINT)
        dh.wait_exit(p, "ivsh-tap", timeout=20)
        m = re.search(r"to_port (\d+) frames (\d+) bytes.*bad_hdr (\d+), "
                      r"tap_write_err (\d+), oversize (\d+)", open(log).read())
        if not m:
            dh.fail("ivsh-tap printed no counters")
        stats.append([int(x) for x in m.groups()])
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tap", required=True, help="ivsh-tap binary")
    ap.add_argument("--server", required=True, help="ivsh-server binary")
    args = ap.parse_args()
    if os.geteuid() != 0:
        dh.skip("needs root (network namespaces, TAP interfaces)")
    for prog in ("ip", "ping", "iperf3"):
        if shutil.which(prog) is None:
            dh.skip(prog + " not found (apt-get install iproute2 "
                    "iputils-ping iperf3)")
    if not os.path.exists("/dev/net/tun"):
        dh.skip("/dev/net/tun missing (no TUN/TAP support)")
    for b in (args.tap, args.server):
        if not os.access(b, os.X_OK):
            dh.skip("not built: " + b)

    tag = "ivt%d" % os.getpid()
    ns = (tag + "a", tag + "b")
    for n in ns:
        r = sh("ip", "netns", "add", n, check=False)
        if r.returncode != 0:
            dh.skip("cannot create network namespaces: " + r.stderr.strip())
        dh._cleanups.append(lambda n=n: sh("ip", "netns", "del", n,
                                           check=False))
        sh("ip", "-n", n, "link", "set", "lo", "up")

    wd = dh.Workdir("tap")
    srv = dh.Server(args.server, wd, size="16M", vectors=1)
    taps = start_bridges(args, srv, ns, wd, "ivt0", "10.77.0", [])
    r = sh("ip", "-n", ns[0], "-d", "link", "show", "ivt0")
    m = re.search(r"gso_max_size (\d+)", r.stdout)
    dh.check(m and int(m.group(1)) < 9018,
             "ivt0's GSO limit fits one ivshmem frame (%s)" %
             (m.group(1) if m else "?"))

    for src, dst in ((0, 1), (1, 0)):
        for size in (56, 4000):
            r = sh("ip", "netns", "exec", ns[src], "ping", "-c", "3", "-i",
                   "0.2", "-W", "5", "-s", str(size), "10.77.0.%d" % (dst + 1),
                   check=False)
            dh.check(r.returncode == 0 and " 0% packet loss" in r.stdout,
                     "ping %d bytes from namespace %d to %d: all replies" %
                     (size, src, dst))

    gbps_tap = iperf(ns[1], ns[0], "10.77.0.2", 5201, wd, "ivsh-tap")

    # Idle: the bridges sleep (interrupt mode).
    time.sleep(0.5)
    before = [cpu_seconds(p.pid) for p, _ in taps]
    time.sleep(1.0)
    used = [cpu_seconds(p.pid) - b for (p, _), b in zip(taps, before)]
    dh.check(all(u < 0.3 for u in used),
             "idle bridges use < 0.3 s CPU per second (%s)" %
             ", ".join("%.2f" % u for u in used))

    stats = stop_bridges(taps)
    frames, nbytes, bad, werr, over = stats[0]
    dh.check(frames > 0 and nbytes / frames > MTU + 100,
             "TCP crossed as segments larger than the MTU: %d frames, "
             "%.0f bytes each on average" % (frames, nbytes / max(frames, 1)))
    dh.check(all(s[2] == 0 and s[3] == 0 and s[4] == 0 for s in stats),
             "no bad header, no refused write, no oversize frame (%s)" %
             [s[2:] for s in stats])

    # --no-offload: plain Ethernet frames of at most the MTU on the link
    # (what a DPDK application or a switch at the other end expects).
    wd2 = dh.Workdir("tap-plain")
    srv2 = dh.Server(args.server, wd2, size="16M", vectors=1)
    taps = start_bridges(args, srv2, ns, wd2, "ivt1", "10.79.0",
                         ["--no-offload"])
    for src, dst in ((0, 1), (1, 0)):
        r = sh("ip", "netns", "exec", ns[src], "ping", "-c", "3", "-i",
               "0.2", "-W", "5", "-s", "4000", "10.79.0.%d" % (dst + 1),
               check=False)
        dh.check(r.returncode == 0 and " 0% packet loss" in r.stdout,
                 "--no-offload: ping 4000 bytes from namespace %d to %d" %
                 (src, dst))
    stats = stop_bridges(taps)
    dh.check(all(s[0] > 0 and s[1] <= s[0] * (MTU + 14) for s in stats),
             "--no-offload: no frame longer than the MTU (%s)" %
             [s[:2] for s in stats])
    srv2.stop()

    # The same namespaces over a veth pair: the kernel alone.
    sh("ip", "link", "add", tag + "v0", "netns", ns[0], "type", "veth",
       "peer", "name", tag + "v1", "netns", ns[1])
    for i, n in enumerate(ns):
        sh("ip", "-n", n, "addr", "add", "10.78.0.%d/24" % (i + 1), "dev",
           tag + "v%d" % i)
        sh("ip", "-n", n, "link", "set", tag + "v%d" % i, "up")
    gbps_veth = iperf(ns[1], ns[0], "10.78.0.2", 5202, wd, "veth")
    load = os.getloadavg()[0]
    print("RESULT iperf3 TCP %d s: ivsh-tap (intr mode) %.2f Gbit/s, veth "
          "%.2f Gbit/s, ratio %.2f (load average %.2f)" %
          (IPERF_S, gbps_tap, gbps_veth, gbps_tap / gbps_veth, load))
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
