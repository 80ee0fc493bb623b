#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rx queue interrupts of net_ivshmem (devarg intr=1): a small EAL
application (rxintr_app) registers queue 0's wakeup fd with
rte_eth_dev_rx_intr_ctl_q(), arms it with rte_eth_dev_rx_intr_enable() and
sleeps in rte_epoll_wait() (10 s per sleep); ivsh-testpmd then sends COUNT
frames through the same ivsh-server.

Checks: the application is woken by the peer's doorbell (wakeups >= 1,
no 10-second sleep ever times out) and receives all COUNT frames."""

import re

import dpdk_helpers as h

COUNT = 5000


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True, ivsh_testpmd=True)
    if not args.app:
        h.skip("rxintr_app not built")
    wd = h.Workdir("rxintr")
    srv = h.Server(args.server, wd, vectors=1)
    prefix = "ivsh%d_rxintr" % __import__("os").getpid()
    h._cleanups.append(lambda: __import__("shutil").rmtree(
        "/var/run/dpdk/" + prefix, ignore_errors=True))
    app = h.spawn(["stdbuf", "-oL", args.app, "-l", "1", "--no-huge",
                   "-m", "256", "--no-pci", "--file-prefix", prefix,
                   "-d", args.plugin, "--vdev",
                   "net_ivshmem0,server=%s,peer=1,intr=1" % srv.sock,
                   "--", str(COUNT), "20"], wd.file("app.log"))

    def app_out():
        with open(wd.file("app.log"), errors="replace") as f:
            return f.read()
    h.wait_for(lambda: "ready" in app_out() or app.poll() is not None, 20,
               "rxintr_app to sleep on its interrupt")
    if app.poll() is not None:
        h.fail("rxintr_app exited early (code %s)" % app.returncode)

    tx = h.run_ivsh_testpmd(args.ivsh_testpmd, "server:" + srv.sock, 0,
                            "txonly", wd, "ivsh-tx",
                            ["--count", str(COUNT), "--wait-link", "10"])
    try:
        app.wait(30)
        tx.wait(10)
    except Exception:
        h.fail("rxintr_app or ivsh-testpmd did not finish")
    m = re.search(r"received=(\d+) wakeups=(\d+) timeouts=(\d+)", app_out())
    if not m:
        h.fail("rxintr_app printed no result")
    received, wakeups, timeouts = (int(x) for x in m.groups())
    h.check(tx.returncode == 0, "ivsh-testpmd txonly exited 0")
    h.check(received == COUNT, "received %d frames (%d)" % (COUNT, received))
    h.check(wakeups >= 1, "woken by the peer's doorbell (%d wakeups)" %
            wakeups)
    h.check(timeouts == 0, "no sleep timed out (%d)" % timeouts)
    h.check(app.returncode == 0, "rxintr_app exited 0")
    srv.stop()
    print("PASS")


if __name__ == "__main__":
    main()
