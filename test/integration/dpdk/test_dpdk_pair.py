#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two unmodified dpdk-testpmd processes, each with a net_ivshmem vdev on
the same ivsh-server: one sends (txonly), the other receives (rxonly).

Checks:
- traffic flows, and every frame the sender's driver accepted arrives:
  receiver's forwarded RX-packets == sender's TX-packets, same bytes;
- the drivers' counters agree with the applications' own: testpmd's
  forward statistics == 'show port stats' (port counters) == the port's
  xstats (ivsh_*) == the driver's per-queue xstats (pmd_*), both sides;
- no rx/tx errors;
- the link comes up on both sides (LSC event), and goes down on the
  receiver when the sender exits (LSC event, 'Link status: down').
"""

import time

import dpdk_helpers as h

LEN = 64


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True)
    wd = h.Workdir("pair")
    srv = h.Server(args.server, wd)

    # The first client of the server gets ID 0 (master, lays out the
    # shared memory); the second gets 1.
    rx = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=1" % srv.sock,
                   wd, "rx", lcores="0,1", main_lcore=0)
    rx.wait_prompt()
    tx = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=0" % srv.sock,
                   wd, "tx", lcores="1,0", main_lcore=1)
    tx.wait_prompt()

    # The receiver started alone, so its link came up while running: an
    # LSC event. The sender may find the link up already when it starts.
    rx.wait_output(r"Port 0: link state change event", 10, "link up event")
    rx.wait_link("up")
    tx.wait_link("up")
    h.check(True, "link up on both sides (receiver: by an LSC event)")

    rx.send("set fwd rxonly", "start")
    rx.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    tx.send("set fwd txonly", "set txpkts %d" % LEN, "start")
    tx.wait_output(r"txonly packet forwarding", 10, "txonly started")
    time.sleep(2)
    tx.send("stop")
    tx.wait_output(r"Forward statistics for port 0", 10, "tx stop")
    _, tx_fwd = h.fwd_stats(tx.output())
    rx.wait_drained(tx_fwd)  # a busy machine may leave it behind
    rx.send("stop")
    rx.wait_output(r"Forward statistics for port 0", 10, "rx stop")

    for p in (rx, tx):
        p.send("show port stats 0", "show port xstats 0")
    rx.wait_output(r"pmd_tx_q0_commit_failed", 10, "rx xstats")
    tx.wait_output(r"pmd_tx_q0_commit_failed", 10, "tx xstats")
    rx_out, tx_out = rx.output(), tx.output()

    rx_fwd, _ = h.fwd_stats(rx_out)
    _, tx_fwd = h.fwd_stats(tx_out)
    rxs, txs = h.port_stats(rx_out), h.port_stats(tx_out)
    rxx, txx = h.xstats(rx_out), h.xstats(tx_out)
    print("sender: %d frames, receiver: %d frames" % (tx_fwd, rx_fwd))

    h.check(tx_fwd > 1000, "the sender sent frames (%d)" % tx_fwd)
    h.check(rx_fwd == tx_fwd,
            "receiver got every frame sent (%d == %d)" % (rx_fwd, tx_fwd))
    h.check(rxs.get("RX-packets") == rx_fwd,
            "rx port stats == testpmd's count (%s)" % rxs.get("RX-packets"))
    h.check(rxs.get("RX-bytes") == rx_fwd * LEN,
            "rx bytes == frames x %d (%s)" % (LEN, rxs.get("RX-bytes")))
    h.check(rxx.get("ivsh_rx_packets") == rx_fwd,
            "rx port xstats ivsh_rx_packets == count (%s)" %
            rxx.get("ivsh_rx_packets"))
    h.check(rxx.get("pmd_rx_q0_packets") == rx_fwd,
            "rx driver xstats pmd_rx_q0_packets == count (%s)" %
            rxx.get("pmd_rx_q0_packets"))
    h.check(txs.get("TX-packets") == tx_fwd,
            "tx port stats == testpmd's count (%s)" % txs.get("TX-packets"))
    h.check(txs.get("TX-bytes") == tx_fwd * LEN,
            "tx bytes == frames x %d (%s)" % (LEN, txs.get("TX-bytes")))
    h.check(txx.get("ivsh_tx_packets") == tx_fwd,
            "tx port xstats ivsh_tx_packets == count (%s)" %
            txx.get("ivsh_tx_packets"))
    h.check(txx.get("pmd_tx_q0_packets") == tx_fwd,
            "tx driver xstats pmd_tx_q0_packets == count (%s)" %
            txx.get("pmd_tx_q0_packets"))
    h.check(rxs.get("RX-errors") == 0 and rxx.get("ivsh_rx_errors") == 0,
            "no rx errors")
    h.check(txs.get("TX-errors") == 0, "no tx errors")

    # The sender goes away: the receiver's link must drop.
    events = rx.link_events()
    tx.quit()
    rx.wait_output(r"Port 0: link state change event", 10,
                   "link down after the peer exited", count=events + 1)
    rx.wait_link("down", timeout=2)
    h.check(True, "receiver's link is down after the sender exited")
    rx.quit()
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
