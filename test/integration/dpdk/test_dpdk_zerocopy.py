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
4. No scatter offload, 10240-byte mbufs: COUNT_NOSCATTER frames of 9000
   bytes each arrive whole in one mbuf, none dropped.
"""


import dpdk_helpers as h

COUNT_PING = 10000
PING_LENS = (64, 1000)
COUNT = 20000
JUMBO = 9000
COUNT_NOSCATTER = 5000


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
        h.wait_exit(lat, "ivsh-testpmd latency (%d bytes)" % plen)
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
    out = h.check_jumbo_in(args, dev, wd, pmd, COUNT, JUMBO)
    h.check(h.xstats(out).get("pmd_rx_q0_zero_copy_give_errors") == 0,
            "every slot given back was taken (zero_copy_give_errors %s)" %
            h.xstats(out).get("pmd_rx_q0_zero_copy_give_errors"))

    # 3. bursts mixing copied and attached frames
    pmd.send("clear port stats 0", "set fwd rxonly", "start")
    h.check_mixed_bursts(args, srv, wd, pmd, "100,400,1000", 100, 100, 1500)
    pmd.quit()
    h.check("zero-copy mbufs" not in pmd.output(),
            "closed with no zero-copy mbuf still held")

    # 4. jumbo frames for an application without the scatter offload,
    # into mbufs big enough: each 6-slot frame is copied into one mbuf
    # (they used to be dropped as needing scatter).
    big = h.TestPmd(args.plugin,
                    "net_ivshmem0,server=%s,peer=1,rx_zero_copy=1" % srv.sock,
                    wd, "dpdk-noscatter", lcores="0,1", main_lcore=0,
                    extra=["--mbuf-size=10240", "--max-pkt-len=9018"])
    big.wait_prompt()
    big.send("set fwd rxonly", "start")
    big.wait_output(r"rxonly packet forwarding", 10,
                    "rxonly started (no scatter)")
    h.check_jumbo_in(args, dev, wd, big, COUNT_NOSCATTER, JUMBO,
                     name="ivsh-tx-noscatter")
    big.quit()
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
