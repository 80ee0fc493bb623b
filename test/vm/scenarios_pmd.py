# SPDX-License-Identifier: BSD-3-Clause
"""ivsh-testpmd scenarios: traffic between guests and with the host."""

import os
import re
import signal
import subprocess
import time

from vmlib import Fail, log


FRAMES = 20000


def pmd(engine, peer, mode, count, extra=""):
    """Guest command line: ivsh-testpmd on $DEV (set by the script)."""
    return (f"\"$PMD\" --device \"$DEV\" --peer {peer} --engine {engine} "
            f"--mode {mode} --count {count} --json --wait-link 120 "
            f"--duration 150 {extra}\n")


def pmd_report(r, name):
    """The JSON summary, the xstats and the link messages of a run."""
    reps = r.json_lines(name)
    xstats = {}
    links = []
    ident = None
    try:
        with open(os.path.join(r.dir, name), errors="replace") as f:
            for line in f:
                m = re.match(r"^\s+([a-z_0-9]+)\s+(\d+)\s*$", line)
                if m:  # summed over the runs the log holds
                    xstats[m.group(1)] = xstats.get(m.group(1), 0) + \
                        int(m.group(2))
                m = re.search(r"link to peer \d+ (up|down)", line)
                if m:
                    links.append(m.group(1))
                m = re.search(r"ready: device (\S+) id (\d+)", line)
                if m:
                    ident = (m.group(1), int(m.group(2)))
    except OSError:
        pass
    return (reps[-1] if reps else {}), xstats, links, ident


def need_testpmd(r):
    r.binary("app/ivsh-testpmd/ivsh-testpmd", "ivsh-testpmd")


def check_txrx(r, res, rx, tx, frames, backend, mode, sessions=1):
    for n in res:
        r.show(n)
    rrep, rx_x, rx_links, rx_id = pmd_report(r, f"guest{rx}.log")
    trep, tx_x, _, tx_id = pmd_report(r, f"guest{tx}.log")
    r.expect(rx_id is not None and rx_id[0] == backend,
             f"guest {rx}: device not opened as {backend}: {rx_id}")
    r.expect(rx_id[1] == rx and tx_id is not None and tx_id[1] == tx,
             f"IDs are {rx_id}/{tx_id}, expected {rx}/{tx}")
    sent = sum(t.get("tx_packets", 0) for t in r.json_lines(f"guest{tx}.log"))
    r.expect(len(r.json_lines(f"guest{tx}.log")) == sessions and sent == frames,
             f"sender sent {sent} of {frames}")
    r.expect(rrep.get("rx_packets") == frames,
             f"receiver got {rrep.get('rx_packets')} of {frames}")
    for k in ("lost", "corrupted", "duplicated", "reordered"):
        r.expect(rrep.get(k) == 0, f"receiver: {k} = {rrep.get(k)}")
    r.expect(rrep.get("mode") == mode, f"receiver mode {rrep.get('mode')}")
    for n, rc in res.items():
        r.expect(rc == 0, f"guest {n} exited {rc}")
    log(f"rx {rrep.get('rx_packets')} frames at {rrep.get('rx_pps', 0):.0f} pps; "
        f"doorbells {tx_x.get('tx_doorbells', 0)}, "
        f"wakeups {rx_x.get('rx_intr_wakeups', 0)}")
    return rrep, rx_x, trep, tx_x


def two_guests(r, script0, script1, device="doorbell", vectors=2,
               shmfile=None, timeout=200):
    g0 = r.boot(0, script0, device=device, vectors=vectors, shmfile=shmfile)
    if device == "doorbell":
        r.wait_console(0)   # its QEMU connected first: ID 0
    # (ivshmem-plain: IDs come from id=; both start at once, so the
    # non-master may attach before the master made the layout.)
    g1 = r.boot(1, script1, device=device, vectors=vectors, shmfile=shmfile)
    return r.wait_guests({0: g0, 1: g1}, timeout)


VFIO = "\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n"
UIO = "\"$BIND\" --driver uio_pci_generic \"$BDF\" || exit 10\n"


def sc_pmd_vfio_intr(r):
    """ivsh-testpmd txonly -> rxonly between two vfio guests, MSI-X."""
    need_testpmd(r)
    r.start_server(vectors=2)
    # The sender runs in four sessions a second apart: a receiver that
    # keeps up never sleeps, so the pauses make sure it goes idle, sleeps
    # on its MSI-X eventfd and must be woken by a doorbell.
    part = FRAMES // 4
    sender = "".join(pmd("txonly", 0, "intr", part) + "sleep 1\n"
                     for _ in range(4))
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("rxonly", 1, "intr", 4 * part),
        VFIO + "DEV=vfio:$BDF\n" + sender)
    _, rx_x, _, tx_x = check_txrx(r, res, 0, 1, 4 * part, "vfio", "intr",
                                  sessions=4)
    r.expect(tx_x.get("tx_doorbells", 0) > 0, "the sender rang no doorbell")
    r.expect(rx_x.get("rx_intr_wakeups", 0) > 0,
             "the receiver was never woken by an interrupt")


def sc_pmd_uio_poll(r):
    """ivsh-testpmd txonly -> rxonly between two uio guests, polling."""
    need_testpmd(r)
    r.start_server(vectors=1)
    res = two_guests(
        r, UIO + "DEV=uio:$BDF\n" + pmd("rxonly", 1, "poll", FRAMES),
        UIO + "DEV=uio:$BDF\n" + pmd("txonly", 0, "poll", FRAMES),
        vectors=1)
    check_txrx(r, res, 0, 1, FRAMES, "uio", "poll")


def sc_pmd_plain(r):
    """ivsh-testpmd over ivshmem-plain: vfio irq=none and uio id=1."""
    need_testpmd(r)
    f = r.plain_file()
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF,irq=none\n" + pmd("rxonly", 1, "poll", FRAMES),
        UIO + "DEV=uio:$BDF,id=1\n" + pmd("txonly", 0, "poll", FRAMES),
        device="plain", shmfile=f)
    check_txrx(r, res, 0, 1, FRAMES, "vfio", "poll")


def sc_pmd_host_guest(r):
    """Host ivsh-testpmd (server:) reflects a guest's (vfio:) latency pings."""
    need_testpmd(r)
    r.start_server(vectors=2)
    count = 1000
    # The reflector runs until stopped: with --count it could exit before
    # the guest took the last reply.
    host = r.spawn([r.path("app/ivsh-testpmd/ivsh-testpmd"), "--device",
                    f"server:{r.sock}", "--peer", "1", "--engine", "io",
                    "--mode", "intr", "--json", "--wait-link", "120",
                    "--duration", "180"], "host.log")
    time.sleep(0.3)
    g1 = r.boot(1, VFIO + "DEV=vfio:$BDF\n" +
                pmd("latency", 0, "intr", count))
    res = r.wait_guests({1: g1}, 200)
    host.send_signal(signal.SIGINT)
    try:
        host.wait(30)
    except subprocess.TimeoutExpired:
        raise Fail("the host ivsh-testpmd did not stop on SIGINT")
    r.show(1)
    log("--- host log ---\n" + r.tail("host.log", 30))
    grep, _, _, gid = pmd_report(r, "guest1.log")
    hrep, _, _, hid = pmd_report(r, "host.log")
    r.expect(hid == ("server", 0) and gid == ("vfio", 1),
             f"host/guest devices {hid}/{gid}")
    r.expect(res[1] == 0 and host.returncode == 0,
             f"guest exit {res[1]}, host exit {host.returncode}")
    r.expect(grep.get("samples") == count and grep.get("lat_lost") == 0,
             f"guest latency samples {grep.get('samples')}, lost {grep.get('lat_lost')}")
    r.expect(hrep.get("rx_packets") == count and hrep.get("tx_packets") == count,
             f"host reflected {hrep.get('rx_packets')}/{hrep.get('tx_packets')}")
    r.expect(grep.get("corrupted") == 0 and hrep.get("corrupted", 0) == 0,
             "corrupted frames")
    log(f"host<->guest round trip p50 {grep.get('p50_ns', 0) / 1000:.1f} us, "
        f"p99 {grep.get('p99_ns', 0) / 1000:.1f} us")


def sc_pmd_latency(r):
    """Latency engine between two vfio guests (figures only)."""
    need_testpmd(r)
    r.start_server(vectors=2)
    count = 2000
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("io", 1, "poll", count),
        VFIO + "DEV=vfio:$BDF\n" + pmd("latency", 0, "poll", count))
    for n in res:
        r.show(n)
    rep, _, _, _ = pmd_report(r, "guest1.log")
    r.expect(res[0] == 0 and res[1] == 0, f"guest exits {res}")
    r.expect(rep.get("samples", 0) > 0, "no latency samples")
    log(f"guest<->guest round trip (TCG, poll): p50 {rep.get('p50_ns', 0) / 1000:.1f} us, "
        f"p99 {rep.get('p99_ns', 0) / 1000:.1f} us, samples {rep.get('samples')}, "
        f"lost {rep.get('lat_lost')}")


def sc_pmd_restart(r):
    """The non-master guest's ivsh-testpmd restarts; traffic resumes intact."""
    need_testpmd(r)
    r.start_server(vectors=2)
    half = FRAMES // 2
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("rxonly", 1, "intr", 2 * half),
        VFIO + "DEV=vfio:$BDF\n" + pmd("txonly", 0, "intr", half) +
        "echo restarting\nsleep 2\n" + pmd("txonly", 0, "intr", half))
    for n in res:
        r.show(n)
    rrep, _, links, _ = pmd_report(r, "guest0.log")
    treps = r.json_lines("guest1.log")
    r.expect(res[0] == 0 and res[1] == 0, f"guest exits {res}")
    r.expect(len(treps) == 2 and all(t.get("tx_packets") == half for t in treps),
             f"sender runs: {[t.get('tx_packets') for t in treps]}")
    r.expect(links[:3] == ["up", "down", "up"],
             f"master's link messages {links}, expected up, down, up")
    r.expect(rrep.get("rx_packets") == 2 * half,
             f"master received {rrep.get('rx_packets')} of {2 * half}")
    for k in ("lost", "corrupted", "duplicated"):
        r.expect(rrep.get(k) == 0, f"master: {k} = {rrep.get(k)}")
