#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK's l2fwd example forwards between two net_ivshmem ports.

l2fwd, built from the DPDK SDK tree, runs with two net_ivshmem vdevs of
one ivsh-server (IDs 0 and 1) and forwards port 0 to port 1 (rewriting
the MAC addresses, as it does). ivsh-testpmd sends a fixed count of
numbered, checksummed frames into port 0; another ivsh-testpmd receives
them from port 1: every frame arrives, in order, none corrupted, and
l2fwd's own counters agree. The rings hold the whole run, so nothing can
be dropped for lack of room on a busy machine."""

import argparse
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "dpdk"))
import dpdk_helpers as dh  # noqa: E402

N, LEN = 12000, 64
LAYOUT = "ring_size=16384,slot_size=128"


def l2fwd_stats(text):
    """{port: (sent, received, dropped)} from l2fwd's last statistics."""
    i = text.rfind("Port statistics")
    out = {}
    for m in re.finditer(r"Statistics for port (\d+) -+\s+Packets sent:\s+(\d+)"
                         r"\s+Packets received:\s+(\d+)\s+Packets dropped:"
                         r"\s+(\d+)", text[i:] if i >= 0 else ""):
        out[int(m.group(1))] = tuple(int(x) for x in m.groups()[1:])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", default="")
    ap.add_argument("--server", default="")
    ap.add_argument("--ivsh-testpmd", default="")
    ap.add_argument("--skip-reason", default="")
    ap.add_argument("--l2fwd", default="")
    ap.add_argument("--l2fwd-skip", default="")
    args = ap.parse_args()
    if args.l2fwd_skip:
        dh.skip(args.l2fwd_skip)
    dh.require(args, ivsh_testpmd=True)
    if not args.l2fwd or not os.access(args.l2fwd, os.X_OK):
        dh.skip("l2fwd not built: " + (args.l2fwd or args.skip_reason or "?"))

    wd = dh.Workdir("l2fwd")
    srv = dh.Server(args.server, wd, size="256M", vectors=1)
    prefix = "ivsh%d_l2fwd" % os.getpid()
    dh._cleanups.append(lambda: dh.shutil.rmtree("/var/run/dpdk/" + prefix,
                                                 ignore_errors=True))
    # Port 0 (ID 0, lays out the memory) takes frames from the sender
    # (ID 3), port 1 (ID 1) gives them to the receiver (ID 2).
    log = wd.file("l2fwd.log")
    l2 = dh.spawn(["stdbuf", "-oL", args.l2fwd, "-l", "1", "--no-huge",
                   "-m", "256", "--no-pci", "--file-prefix", prefix,
                   "-d", args.plugin,
                   "--vdev", "net_ivshmem0,server=%s,peer=3,%s" %
                   (srv.sock, LAYOUT),
                   "--vdev", "net_ivshmem1,server=%s,peer=2" % srv.sock,
                   "--", "-p", "0x3", "-q", "2", "-T", "1"], log)
    dh.wait_for(lambda: "client 1 connected" in open(srv.log).read() or
                l2.poll() is not None, 30, "l2fwd's two ports attached")
    if l2.poll() is not None:
        dh.fail("l2fwd exited early (code %s)" % l2.returncode)
    dev = "server:" + srv.sock
    rx = dh.run_ivsh_testpmd(args.ivsh_testpmd, dev, 1, "rxonly", wd, "rx",
                             ["--count", str(N), "--mode", "intr"])
    dh.wait_for(lambda: "client 2 connected" in open(srv.log).read(), 20,
                "the receiver attached")
    tx = dh.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "txonly", wd, "tx",
                             ["--count", str(N), "--pkt-len", str(LEN),
                              "--wait-link", "30"])
    dh.wait_exit(tx, "ivsh-testpmd txonly", timeout=60)
    dh.wait_exit(rx, "ivsh-testpmd rxonly", timeout=60)
    j = dh.ivsh_json(wd, "rx")
    dh.check(j["rx_packets"] == N and j["rx_bytes"] == N * LEN,
             "%d frames of %d bytes arrived through l2fwd (%d)" %
             (N, LEN, j["rx_packets"]))
    bad = {k: j[k] for k in ("lost", "reordered", "duplicated", "corrupted",
                             "stale", "port_rx_errors")}
    dh.check(not any(bad.values()), "none lost, reordered or corrupted %s" %
             bad)

    # l2fwd prints its counters every second.
    def counted():
        st = l2fwd_stats(open(log, errors="replace").read())
        return st.get(0, (0, 0, 0))[1] >= N and st.get(1, (0, 0, 0))[0] >= N
    dh.wait_for(counted, 20, "l2fwd's statistics to show the run")
    st = l2fwd_stats(open(log, errors="replace").read())
    print("l2fwd: %s" % st)
    dh.check(st[0] == (0, N, 0) and st[1] == (N, 0, 0),
             "l2fwd received %d on port 0 and sent %d on port 1, none "
             "dropped" % (N, N))
    l2.send_signal(signal.SIGINT)
    dh.wait_exit(l2, "l2fwd", timeout=30)
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
