#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two unmodified dpdk-testpmd processes forward over a net_ivshmem shm=
vdev; another process truncates the file to 0 under them.

The receiver runs with --hot-plug, so the EAL installs its own SIGBUS
handler after the vdev was probed (the guard's handler is then the
EAL's "previous" one, called without a siginfo). Checks:
- traffic flows first (link up on both sides, frames received);
- after the truncation neither process dies (of SIGBUS or otherwise);
- the link goes down on both sides;
- both still answer commands and quit cleanly.
"""

import os
import time

import dpdk_helpers as h

SHM = "/dev/shm/ivsh-dpdk-trunc-%d" % os.getpid()


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=False)
    wd = h.Workdir("trunc")
    h._cleanups.append(lambda: os.path.exists(SHM) and os.unlink(SHM))

    rx = h.TestPmd(args.plugin, "net_ivshmem0,shm=%s,id=0,size=4M" % SHM,
                   wd, "rx", lcores="0,1", main_lcore=0,
                   extra=["--hot-plug"])
    rx.wait_prompt()
    tx = h.TestPmd(args.plugin, "net_ivshmem0,shm=%s,id=1,peer=0" % SHM,
                   wd, "tx", lcores="1,0", main_lcore=1)
    tx.wait_prompt()
    rx.wait_link("up")
    tx.wait_link("up")
    rx.send("set fwd rxonly", "start")
    rx.wait_output(r"rxonly packet forwarding", 10, "rxonly started")
    tx.send("set fwd txonly", "start")
    tx.wait_output(r"txonly packet forwarding", 10, "txonly started")
    time.sleep(1)
    rx.send("show port stats 0")
    rx.wait_output(r"RX-packets", 10, "port stats")
    got = h.port_stats(rx.output()).get("RX-packets") or 0
    h.check(got > 0, "traffic flows (%d frames received)" % got)

    os.truncate(SHM, 0)  # the hostile process
    for p in (rx, tx):
        p.wait_link("down", timeout=10)
        h.check(p.proc.poll() is None,
                "%s is alive with its link down after the truncation"
                % p.name)
    for p in (tx, rx):
        p.send("stop")
        p.wait_output(r"Forward statistics for port 0", 10,
                      "%s stop" % p.name)
        p.quit()
        h.check(p.proc.returncode == 0,
                "%s quit with status 0 (got %d)" % (p.name,
                                                    p.proc.returncode))
    print("PASS")


if __name__ == "__main__":
    main()
