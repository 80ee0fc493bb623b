#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop: Debian's dpdk-testpmd with a net_ivshmem vdev on one side of
an ivsh-server, the project's ivsh-testpmd on the other, both directions.

1. ivsh-testpmd txonly (sequence-numbered, checksummed payload, COUNT
   frames of LEN_A bytes) -> dpdk-testpmd rxonly: testpmd's forwarded
   RX-packets == COUNT, its port's RX-bytes == COUNT x LEN_A, no rx
   errors, and the port's xstats agree.
2. The same dpdk-testpmd (its port sees the peer re-attach with a new
   epoch) switches to txonly with LEN_B-byte frames -> ivsh-testpmd rxonly
   --count COUNT: it receives COUNT (or a few more) frames of exactly
   LEN_B bytes each
   (payload checks are off: testpmd's payload has no sequence numbers),
   with no port rx errors; testpmd's TX-packets >= COUNT.
"""

import dpdk_helpers as h

COUNT = 100000
LEN_A = 128
LEN_B = 64


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True, ivsh_testpmd=True)
    wd = h.Workdir("interop")
    srv = h.Server(args.server, wd)
    dev = "server:" + srv.sock

    # dpdk-testpmd connects first: ID 0, the master.
    pmd = h.TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=1" % srv.sock,
                    wd, "dpdk", lcores="0,1", main_lcore=0)
    pmd.wait_prompt()
    pmd.send("set fwd rxonly", "start")
    pmd.wait_output(r"rxonly packet forwarding", 10, "rxonly started")

    # 1. ivsh-testpmd -> dpdk-testpmd
    ivs = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "txonly", wd,
                             "ivsh-tx", ["--count", str(COUNT), "--pkt-len",
                                         str(LEN_A), "--wait-link", "10",
                                         "--cpu", "0"])
    try:
        ivs.wait(40)
    except Exception:
        h.fail("ivsh-testpmd txonly did not finish in 40 s")
    h.check(ivs.returncode == 0,
            "ivsh-testpmd txonly exited 0 (%s)" % ivs.returncode)
    js = h.ivsh_json(wd, "ivsh-tx")
    h.check(js["tx_packets"] == COUNT,
            "ivsh-testpmd sent %d frames (%d)" % (COUNT, js["tx_packets"]))
    pmd.wait_drained(COUNT)
    pmd.send("stop", "show port stats 0", "show port xstats 0")
    pmd.wait_output(r"pmd_tx_q0_commit_failed", 10, "stats")
    out = pmd.output()
    rx_fwd, _ = h.fwd_stats(out)
    st, xs = h.port_stats(out), h.xstats(out)
    h.check(rx_fwd == COUNT,
            "dpdk-testpmd received every frame (%d == %d)" % (rx_fwd, COUNT))
    h.check(st.get("RX-packets") == COUNT,
            "port RX-packets == %d (%s)" % (COUNT, st.get("RX-packets")))
    h.check(st.get("RX-bytes") == COUNT * LEN_A,
            "port RX-bytes == %d x %d (%s)" % (COUNT, LEN_A,
                                              st.get("RX-bytes")))
    h.check(st.get("RX-errors") == 0 and xs.get("ivsh_rx_errors") == 0,
            "no rx errors")
    h.check(xs.get("pmd_rx_q0_packets") == COUNT,
            "driver xstats pmd_rx_q0_packets == %d" % COUNT)

    # 2. dpdk-testpmd -> ivsh-testpmd
    pmd.send("clear port stats 0", "set fwd txonly",
             "set txpkts %d" % LEN_B)
    ivr = h.run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "rxonly", wd,
                             "ivsh-rx", ["--count", str(COUNT),
                                         "--no-verify", "--wait-link", "10",
                                         "--cpu", "1"])
    events = pmd.link_events()
    pmd.wait_output(r"Port 0: link state change event", 10,
                    "link up with the new peer", count=events + 1)
    pmd.send("start")
    try:
        ivr.wait(40)
    except Exception:
        h.fail("ivsh-testpmd rxonly did not receive %d frames in 40 s"
               % COUNT)
    pmd.send("stop")
    pmd.wait_output(r"Forward statistics for port 0", 10, "tx stop",
                    count=2)
    h.check(ivr.returncode == 0,
            "ivsh-testpmd rxonly exited 0 (%s)" % ivr.returncode)
    js = h.ivsh_json(wd, "ivsh-rx")
    # --count stops after the burst that reaches COUNT.
    h.check(js["rx_packets"] >= COUNT,
            "ivsh-testpmd received >= %d frames (%d)" % (COUNT,
                                                         js["rx_packets"]))
    h.check(js["rx_bytes"] == js["rx_packets"] * LEN_B,
            "every frame was %d bytes (rx_bytes %d)" % (LEN_B,
                                                        js["rx_bytes"]))
    h.check(js["port_rx_errors"] == 0, "no rx errors in ivsh-testpmd")
    _, tx_fwd = h.fwd_stats(pmd.output())
    h.check(tx_fwd >= COUNT,
            "dpdk-testpmd sent at least %d frames (%d)" % (COUNT, tx_fwd))
    pmd.quit()
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
