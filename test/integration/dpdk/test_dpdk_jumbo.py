#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Jumbo frames through net_ivshmem (9000 bytes over 1536-byte slots and
2176-byte mbufs), against ivsh-testpmd on the same ivsh-server.

1. ivsh-testpmd txonly, COUNT frames of 9000 bytes -> dpdk-testpmd rxonly
   with --enable-scatter --max-pkt-len=9018: every frame arrives as an
   mbuf chain, RX-bytes == COUNT x 9000, no errors, no drops.
2. dpdk-testpmd txonly with multi-segment mbufs (set txpkts
   2000,2000,2000,2000,1000) -> ivsh-testpmd rxonly: COUNT frames of
   exactly 9000 bytes.
3. A new dpdk-testpmd without the scatter offload: 9000-byte frames from
   ivsh-testpmd cannot fit one mbuf, so each is dropped and counted
   (pmd_rx_q0_no_scatter_drops == RX-errors == COUNT_DROP, RX-packets 0).
4. Mixed bursts: dpdk-testpmd txonly with 'set txsplit rand' (each frame
   1 to 5 segments of 1000 bytes, so one-segment frames and chains
   alternate within a burst: the driver switches between its two tx
   paths) -> a scatter-enabled dpdk-testpmd rxonly: every frame and every
   byte sent arrives (RX == TX packets and bytes), and the lengths really
   varied.
"""


import dpdk_helpers as h

COUNT = 20000
COUNT_DROP = 1000
JUMBO = 9000


def mixed_bursts(args, srv, wd):
    rx = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=1" % srv.sock,
                   wd, "dpdk-mixed-rx", lcores="0,1", main_lcore=0,
                   extra=["--enable-scatter", "--max-pkt-len=9018"])
    rx.wait_prompt()
    rx.send("set fwd rxonly", "start")
    rx.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    h.check_mixed_bursts(args, srv, wd, rx, "1000,1000,1000,1000,1000",
                         1000, 1000, 5000)
    rx.quit()


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True, ivsh_testpmd=True)
    wd = h.Workdir("jumbo")
    srv = h.Server(args.server, wd)
    dev = "server:" + srv.sock

    pmd = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=1" % srv.sock,
                    wd, "dpdk", lcores="0,1", main_lcore=0,
                    extra=["--enable-scatter", "--max-pkt-len=9018"])
    pmd.wait_prompt()
    pmd.send("set fwd rxonly", "start")
    pmd.wait_output(r"rxonly packet forwarding", 10, "rxonly started")

    # 1. jumbo frames into chained mbufs
    h.check_jumbo_in(args, dev, wd, pmd, COUNT, JUMBO)

    # 2. multi-segment mbufs out
    pmd.send("clear port stats 0", "set fwd txonly",
             "set txpkts 2000,2000,2000,2000,1000")
    ivr = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "rxonly", wd,
                             "ivsh-rx", ["--count", str(COUNT),
                                         "--no-verify", "--wait-link", "10"])
    events = pmd.link_events()
    pmd.wait_output(r"Port 0: link state change event", 10,
                    "link up with the new peer", count=events + 1)
    pmd.send("start")
    h.wait_exit(ivr, "ivsh-testpmd rxonly")
    pmd.send("stop")
    js = h.ivsh_json(wd, "ivsh-rx")
    # --count stops after the burst that reaches COUNT.
    h.check(js["rx_packets"] >= COUNT,
            "ivsh-testpmd received >= %d frames (%d)" % (COUNT,
                                                         js["rx_packets"]))
    h.check(js["rx_bytes"] == js["rx_packets"] * JUMBO,
            "each %d bytes, from 5-segment mbufs (rx_bytes %d)" %
            (JUMBO, js["rx_bytes"]))
    h.check(js["port_rx_errors"] == 0, "no rx errors in ivsh-testpmd")
    pmd.quit()

    # 3. no scatter: jumbo frames are dropped and counted
    pmd = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=1" % srv.sock,
                    wd, "dpdk-noscatter", lcores="0,1", main_lcore=0)
    pmd.wait_prompt()
    pmd.send("set fwd rxonly", "start")
    pmd.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    ivs = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "txonly", wd,
                             "ivsh-tx2", ["--count", str(COUNT_DROP),
                                          "--pkt-len", str(JUMBO),
                                          "--wait-link", "10"])
    h.wait_exit(ivs, "ivsh-testpmd txonly (to a port without scatter)")
    pmd.wait_drained(COUNT_DROP)
    pmd.send("stop", "show port stats 0", "show port xstats 0")
    pmd.wait_output(r"pmd_tx_q0_commit_failed", 10, "stats")
    out = pmd.output()
    st, xs = h.port_stats(out), h.xstats(out)
    h.check(st.get("RX-packets") == 0, "no frame delivered (%s)" %
            st.get("RX-packets"))
    h.check(xs.get("pmd_rx_q0_no_scatter_drops") == COUNT_DROP,
            "every frame dropped and counted (%s)" %
            xs.get("pmd_rx_q0_no_scatter_drops"))
    h.check(st.get("RX-errors") == COUNT_DROP,
            "RX-errors == %d (%s)" % (COUNT_DROP, st.get("RX-errors")))
    pmd.quit()

    mixed_bursts(args, srv, wd)
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
