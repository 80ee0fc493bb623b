#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two queues: two dpdk-testpmd processes with net_ivshmem vdevs
(queues=2; the first lays out two queues per link) and --rxq=2 --txq=2,
txonly -> rxonly through ivsh-server.

Checks: both queues carry traffic (per-queue xstats rx_q0/rx_q1 and
tx_q0/tx_q1 non-zero); for each queue, what the sender's queue sent the
receiver's same queue received; the totals match testpmd's counts.
A third process asking for more queues than the layout has is refused
with a clear error."""

import time

import dpdk_helpers as h

LEN = 128
MQ = ["--rxq=2", "--txq=2"]


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True)
    wd = h.Workdir("mq")
    # Room for three peers with two queues per link (the layout lowers
    # max_peers to what fits).
    srv = h.Server(args.server, wd, size="64M", vectors=2)
    rx = h.TestPmd(args.plugin,
                   "net_ivshmem0,server=%s,peer=1,queues=2" % srv.sock,
                   wd, "rx", lcores="0,1", main_lcore=0, extra=MQ)
    rx.wait_prompt()
    tx = h.TestPmd(args.plugin,
                   "net_ivshmem0,server=%s,peer=0,queues=2" % srv.sock,
                   wd, "tx", lcores="1,0", main_lcore=1, extra=MQ)
    tx.wait_prompt()
    rx.wait_link("up")
    tx.wait_link("up")

    rx.send("set fwd rxonly", "start")
    rx.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    tx.send("set fwd txonly", "set txpkts %d" % LEN, "start")
    tx.wait_output(r"txonly packet forwarding", 10, "txonly started")
    time.sleep(1.5)
    tx.send("stop")
    tx.wait_output(r"Forward statistics for port 0", 10, "tx stop")
    rx.wait_drained(h.fwd_stats(tx.output())[1])
    rx.send("stop")
    rx.wait_output(r"Forward statistics for port 0", 10, "rx stop")
    for p in (rx, tx):
        p.send("show port xstats 0")
    rx.wait_output(r"pmd_tx_q1_commit_failed", 10, "rx xstats")
    tx.wait_output(r"pmd_tx_q1_commit_failed", 10, "tx xstats")
    rxx, txx = h.xstats(rx.output()), h.xstats(tx.output())
    rx_fwd, _ = h.fwd_stats(rx.output())
    _, tx_fwd = h.fwd_stats(tx.output())

    for q in (0, 1):
        r = rxx.get("rx_q%d_packets" % q, -1)
        t = txx.get("tx_q%d_packets" % q, -2)
        h.check(t > 0, "queue %d carried traffic (%d frames)" % (q, t))
        h.check(r == t, "queue %d: received == sent (%d == %d)" % (q, r, t))
        h.check(rxx.get("rx_q%d_bytes" % q) == r * LEN,
                "queue %d: %d bytes each" % (q, LEN))
    h.check(rx_fwd == tx_fwd and rx_fwd == rxx.get("rx_good_packets"),
            "totals agree (%d sent, %d received)" % (tx_fwd, rx_fwd))

    # More queues than the layout has: the probe fails, clearly.
    bad = h.TestPmd(args.plugin,
                    "net_ivshmem1,server=%s,peer=0,queues=4" % srv.sock,
                    wd, "bad", lcores="0,1", main_lcore=0)
    # The EAL carries on without the port; testpmd reaches its prompt.
    bad.wait_output(r"testpmd> |Cause:", 20, "testpmd without the port")
    err = next((ln for ln in bad.output().splitlines()
                if "net_ivshmem: cannot open a port" in ln), "")
    h.check("4 queues" in err and "2" in err,
            "queues=4 refused: " + (err or "no message"))
    bad.quit()
    tx.quit()
    rx.quit()
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
