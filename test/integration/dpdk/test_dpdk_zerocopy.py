#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""net_ivshmem with rx_zero_copy=1 (received mbufs point into the shared
slots), against ivsh-testpmd on the same ivsh-server.

1. Round trips: dpdk-testpmd io-forwards every frame back out of the same
   port (zero-copy rx; tx copies straight from the slot and frees the
   mbuf, which gives the slot back). ivsh-testpmd's latency engine sends
   COUNT_PING numbered, checksummed pings of each length in PING_LENS
   (64 bytes: copied even in zero-copy mode; 1000: attached): every one
   comes back, none corrupted.
2. Jumbo chains and slot return: ivsh-testpmd txonly, COUNT frames of
   9000 bytes (6 slots each) -> dpdk-testpmd rxonly with --enable-scatter:
   RX-packets == COUNT, RX-bytes == COUNT x 9000, no errors. COUNT x 6
   slots is many rings: the sender only gets slots back when testpmd has
   freed the mbufs that pointed into them.
3. Mixed bursts: a second dpdk-testpmd sends frames of 100, 500 or 1500
   bytes at random ('set txsplit rand'), so copied and attached frames
   alternate within a burst: RX == TX in packets and bytes.
"""

import time

import dpdk_helpers as h

COUNT_PING = 10000
PING_LENS = (64, 1000)
COUNT = 20000
JUMBO = 9000


def wait_exit(p, what, timeout=60):
    try:
        p.wait(timeout)
    except Exception:
        h.fail("%s did not finish in %d s" % (what, timeout))
    h.check(p.returncode == 0, "%s exited 0 (%s)" % (what, p.returncode))


def mixed_bursts(args, srv, wd, rx):
    rx.send("clear port stats 0", "set fwd rxonly", "start")
    tx = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=0" % srv.sock,
                   wd, "dpdk-tx", lcores="1,0", main_lcore=1)
    tx.wait_prompt()
    tx.wait_link("up")
    tx.send("set fwd txonly", "set txpkts 100,400,1000", "set txsplit rand",
            "start")
    tx.wait_output(r"txonly packet forwarding", 10, "txonly started")
    time.sleep(1)
    tx.send("stop")
    tx.wait_output(r"Forward statistics for port 0", 10, "tx stop")
    _, tx_fwd = h.fwd_stats(tx.output())
    rx.wait_drained(tx_fwd)
    rx.send("stop")
    for p in (rx, tx):
        p.send("show port stats 0")
    tx.wait_output(r"Rx-pps", 10, "tx stats")
    rx.wait_output(r"Rx-pps", 10, "rx stats", count=2)  # phase 2 showed one
    rxs, txs = h.port_stats(rx.output()), h.port_stats(tx.output())
    h.check(tx_fwd > 1000, "mixed: frames sent (%d)" % tx_fwd)
    h.check(rxs.get("RX-packets") == tx_fwd,
            "mixed: every frame arrived (%s of %d)" %
            (rxs.get("RX-packets"), tx_fwd))
    h.check(rxs.get("RX-bytes") == txs.get("TX-bytes"),
            "mixed: RX-bytes == TX-bytes (%s, %s)" %
            (rxs.get("RX-bytes"), txs.get("TX-bytes")))
    tx_bytes = txs.get("TX-bytes") or 0
    h.check(100 * tx_fwd < tx_bytes < 1500 * tx_fwd,
            "mixed: lengths varied (%d bytes in %d frames)" %
            (tx_bytes, tx_fwd))
    tx.quit()


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True, ivsh_testpmd=True)
    wd = h.Workdir("zerocopy")
    srv = h.Server(args.server, wd)
    dev = "server:" + srv.sock

    # dpdk-testpmd connects first: ID 0, the master.
    pmd = h.TestPmd(args.plugin,
                    "net_ivshmem0,server=%s,peer=1,rx_zero_copy=1" % srv.sock,
                    wd, "dpdk", lcores="0,1", main_lcore=0,
                    extra=["--enable-scatter", "--max-pkt-len=9018",
                           "--no-flush-rx"])
    pmd.wait_prompt()

    # 1. pings through a zero-copy io forwarder. Forwarding starts once
    # this side has seen the link come up (its tx refuses frames while
    # the link is down); a ping sent before that waits in the ring
    # (--no-flush-rx: 'start' must not drain it).
    for n, plen in enumerate(PING_LENS):
        events = pmd.link_events()
        lat = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "latency", wd,
                                 "ivsh-lat%d" % n,
                                 ["--count", str(COUNT_PING),
                                  "--pkt-len", str(plen),
                                  "--latency-timeout", "5000",
                                  "--wait-link", "10"])
        pmd.wait_output(r"Port 0: link state change event", 10,
                        "link up with ivsh-testpmd", count=events + 1)
        pmd.send("set fwd io", "start")
        pmd.wait_output(r"io packet forwarding", 10, "io forwarding started",
                        count=n + 1)
        wait_exit(lat, "ivsh-testpmd latency (%d bytes)" % plen)
        js = h.ivsh_json(wd, "ivsh-lat%d" % n)
        h.check(js.get("samples") == COUNT_PING and js.get("lat_lost") == 0
                and js.get("corrupted") == 0,
                "%d-byte pings came back intact (%s samples, %s lost, %s "
                "corrupted)" % (plen, js.get("samples"), js.get("lat_lost"),
                                js.get("corrupted")))
        pmd.send("stop")
        pmd.wait_output(r"Forward statistics for port 0", 10, "io stop",
                        count=n + 1)
    pmd.send("clear port stats 0")

    # 2. jumbo frames into chains of zero-copy mbufs
    pmd.send("set fwd rxonly", "start")
    pmd.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    ivs = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "txonly", wd,
                             "ivsh-tx", ["--count", str(COUNT), "--pkt-len",
                                         str(JUMBO), "--wait-link", "10"])
    wait_exit(ivs, "ivsh-testpmd txonly (9000 bytes)")
    pmd.wait_drained(COUNT)
    pmd.send("stop", "show port stats 0", "show port xstats 0")
    pmd.wait_output(r"pmd_tx_q0_commit_failed", 10, "stats")
    out = pmd.output()
    rx_fwd, _ = h.fwd_stats(out[out.rfind("rxonly packet forwarding"):])
    st, xs = h.port_stats(out), h.xstats(out)
    h.check(rx_fwd == COUNT, "received %d jumbo frames (%d)" % (COUNT, rx_fwd))
    h.check(st.get("RX-bytes") == COUNT * JUMBO,
            "RX-bytes == %d x %d (%s)" % (COUNT, JUMBO, st.get("RX-bytes")))
    h.check(st.get("RX-errors") == 0 and st.get("RX-nombuf") == 0,
            "no rx errors, no mbuf shortage (%s, %s)" %
            (st.get("RX-errors"), st.get("RX-nombuf")))
    mixed_bursts(args, srv, wd, pmd)
    pmd.quit()
    h.check("zero-copy mbufs" not in pmd.output(),
            "closed with no zero-copy mbuf still held")
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
