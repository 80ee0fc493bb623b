#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rx queue interrupts of net_ivshmem (devarg intr=1): a small EAL
application (rxintr_app) registers queue 0's wakeup fd with
rte_eth_dev_rx_intr_ctl_q(), arms it with rte_eth_dev_rx_intr_enable() and
sleeps in rte_epoll_wait() (10 s per sleep); ivsh-testpmd then sends COUNT
frames through the same ivsh-server.

Checks: the application is woken by the peer's doorbell (wakeups >= 1,
no 10-second sleep ever times out) and receives all COUNT frames.

A second round uses rx_zero_copy=1 with 1000-byte frames, and the
application frees its mbufs 50 ms late from another thread: the ring
fills with held slots while the application sleeps, so the frees
themselves must wake it (the sender waits for exactly those slots)."""

import re

import dpdk_helpers as h

COUNT = 5000


def run(args, zero_copy):
    """One sender/receiver round; zero_copy: rx_zero_copy=1, 1000-byte
    frames, the application frees its mbufs 50 ms late from another
    thread (so the ring fills with held slots while it sleeps)."""
    tag = "rxintr-zc" if zero_copy else "rxintr"
    wd = h.Workdir(tag)
    srv = h.Server(args.server, wd, vectors=1)
    prefix = "ivsh%d_%s" % (__import__("os").getpid(), tag.replace("-", "_"))
    h._cleanups.append(lambda: __import__("shutil").rmtree(
        "/var/run/dpdk/" + prefix, ignore_errors=True))
    devargs = "net_ivshmem0,server=%s,peer=1,intr=1" % srv.sock
    app_args = ["--", str(COUNT), "30" if zero_copy else "20"]
    tx_args = ["--count", str(COUNT), "--wait-link", "10"]
    if zero_copy:
        devargs += ",rx_zero_copy=1"
        app_args.append("50")
        tx_args += ["--pkt-len", "1000"]
    app = h.spawn(["stdbuf", "-oL", args.app, "-l", "1", "--no-huge",
                   "-m", "256", "--no-pci", "--file-prefix", prefix,
                   "-d", args.plugin, "--vdev", devargs] + app_args,
                  wd.file("app.log"))

    def app_out():
        with open(wd.file("app.log"), errors="replace") as f:
            return f.read()
    h.wait_for(lambda: "ready" in app_out() or app.poll() is not None, 20,
               "rxintr_app to sleep on its interrupt")
    if app.poll() is not None:
        h.fail("rxintr_app exited early (code %s)" % app.returncode)

    tx = h.run_ivsh_testpmd(args.ivsh_testpmd, "server:" + srv.sock, 0,
                            "txonly", wd, "ivsh-tx", tx_args)
    try:
        app.wait(40)
        tx.wait(10)
    except Exception:
        h.fail("%s: rxintr_app or ivsh-testpmd did not finish" % tag)
    m = re.search(r"received=(\d+) wakeups=(\d+) timeouts=(\d+)", app_out())
    if not m:
        h.fail("%s: rxintr_app printed no result" % tag)
    received, wakeups, timeouts = (int(x) for x in m.groups())
    h.check(tx.returncode == 0, "%s: ivsh-testpmd txonly exited 0" % tag)
    h.check(received == COUNT, "%s: received %d frames (%d)" %
            (tag, COUNT, received))
    h.check(wakeups >= 1, "%s: woken by the peer's doorbell (%d wakeups)" %
            (tag, wakeups))
    h.check(timeouts == 0, "%s: no sleep timed out (%d)" % (tag, timeouts))
    h.check(app.returncode == 0, "%s: rxintr_app exited 0" % tag)
    srv.stop()


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=True, ivsh_testpmd=True)
    if not args.app:
        h.skip("rxintr_app not built")
    run(args, zero_copy=False)
    run(args, zero_copy=True)
    print("PASS")


if __name__ == "__main__":
    main()
