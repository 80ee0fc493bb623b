# SPDX-License-Identifier: BSD-3-Clause
"""Lifecycle scenarios: hot-unplug, re-plug, live migration of the master.

Devices that are unplugged are ivshmem-plain: unplugging an
ivshmem-doorbell crashes QEMU 7.2 under TCG (SIGSEGV in
ivshmem_vector_notify). They sit behind a pcie-root-port, as pcie.0 is
not hot-pluggable.
"""

import os
import time

from scenarios_pmd import need_testpmd, pmd_report
from vmlib import REPLUG_BDF, Fail, log, migrate_tool

# Timings of the steps, in seconds, printed at the end of each scenario.
DELETED_LIMIT_S = 2.0


def removal_script(bind, backend, extra=""):
    """One guest, the master (plain: ID 0) holding its device until it
    is unplugged; ivsh-testpmd's exit status is logged."""
    return (f"\"$BIND\" --driver {bind} \"$BDF\" || exit 10\n"
            f"\"$PMD\" --device {backend}:$BDF{extra} --peer 1 "
            "--engine rxonly --mode poll --duration 90 --json\n"
            "echo \"pmd exit $?\"\n")


def unplug(r, n, dev="ivs"):
    """device_del, then DEVICE_DELETED; returns its delay in seconds."""
    q = r.qmp(n)
    try:
        t0 = time.monotonic()
        q.command("device_del", id=dev)
        ev = q.wait_event("DEVICE_DELETED", 15, {"device": dev})
        dt = time.monotonic() - t0
    finally:
        q.close()
    if ev is None:
        raise Fail(f"guest {n}: no DEVICE_DELETED in 15 s (the guest never "
                   "released the device):\n" + r.tail(f"guest{n}.log") +
                   r.tail(f"console{n}.log"))
    return dt


def replug(r, n, shmfile, bus):
    """Plug an ivshmem-plain back in. QEMU 7.2 aborts when a memory
    backend is used by a second device (qemu_ram_set_idstr assertion),
    even after the first was deleted: each plug gets a new backend."""
    q = r.qmp(n)
    try:
        q.command("object-add", **{"qom-type": "memory-backend-file",
                                   "id": "hm2", "size": os.path.getsize(shmfile),
                                   "mem-path": shmfile, "share": True})
        q.command("device_add", driver="ivshmem-plain", memdev="hm2",
                  bus=bus, id="ivs2")
    except migrate_tool().QmpError as e:
        raise Fail(f"guest {n}: re-plug: {e}")
    finally:
        q.close()


def guest_log(r, n):
    try:
        with open(os.path.join(r.dir, f"guest{n}.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_text(r, n, text, timeout):
    """Seconds until guest n's log shows @text (polled every 50 ms)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if text in guest_log(r, n):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise Fail(f"guest {n} never printed '{text}' in {timeout} s:\n" +
               r.tail(f"guest{n}.log"))


def sc_unplug_vfio(r):
    """device_del of a device held through vfio-pci: released, reported."""
    need_testpmd(r)
    f = r.plain_file()
    g = r.boot(0, removal_script("vfio-pci", "vfio", ",irq=none"),
               device="plain", shmfile=f, hotplug=True)
    r.wait_log(0, "ready: device vfio", 60)
    deleted = unplug(r, 0)
    log(f"device_del -> DEVICE_DELETED: {deleted * 1000:.0f} ms")
    wait_text(r, 0, "pmd exit", 10)
    res = r.wait_guests({0: g}, 30)
    out = guest_log(r, 0)
    r.show(0)
    r.expect("removed; released" in out,
             "ivsh-testpmd did not report the removal")
    r.expect("pmd exit 3" in out, "ivsh-testpmd did not exit with status 3 "
             "(device removed)")
    r.expect(deleted < DELETED_LIMIT_S,
             f"DEVICE_DELETED after {deleted:.2f} s (limit {DELETED_LIMIT_S} s)")
    r.expect(res[0] == 0, f"guest exit {res[0]}")


def sc_unplug_uio(r):
    """device_del under uio: reported within 1 s; the old mapping never
    writes into a device plugged back at the same address."""
    need_testpmd(r)
    f = r.plain_file()
    fresh = r.plain_file()
    # --reattach keeps the process alive after the removal; nothing binds
    # the new device to uio, so it only waits.
    g = r.boot(0, removal_script("uio_pci_generic", "uio", "") .replace(
        "--json", "--json --reattach"), device="plain", shmfile=f,
        hotplug=True)
    r.wait_log(0, "ready: device uio", 60)
    with open(f, "rb") as fh:
        before = fh.read(64)
    r.expect(before[:4] == b"IVSH", "the master wrote no layout header")
    t0 = time.monotonic()
    deleted = unplug(r, 0)
    reported = wait_text(r, 0, "removed; released", 10) + deleted
    log(f"device_del -> DEVICE_DELETED {deleted * 1000:.0f} ms, "
        f"-> removal reported {reported * 1000:.0f} ms (log polled every 50 ms)")
    # Same root port, so the same BDF and bus address, on a zeroed file.
    replug(r, 0, fresh, "rp1")
    time.sleep(3)  # heartbeats every ms would have written by now
    with open(fresh, "rb") as fh:
        data = fh.read()
    os.kill(g.pid, 0)
    r.expect(not any(data), "the stale process wrote into the re-plugged "
             f"device ({sum(1 for b in data if b)} bytes non-zero)")
    r.expect(reported - deleted < 1.0 + 0.2,
             f"removal reported {reported - deleted:.2f} s after "
             "DEVICE_DELETED (limit 1 s)")
    r.expect(time.monotonic() - t0 < 60, "too slow")
    r.show(0)


# In the guest: bind every unbound ivshmem device to vfio-pci, as a udev
# rule or driverctl would (a re-plugged device comes up unbound).
BINDER = ("( while :; do for d in /sys/bus/pci/devices/*; do "
          "[ \"$(cat $d/vendor)\" = 0x1af4 ] && [ \"$(cat $d/device)\" = 0x1110 ] "
          "&& [ ! -e $d/driver ] && \"$BIND\" --driver vfio-pci ${d##*/}; "
          "done; sleep 0.2; done ) &\n")

REPLUG_FRAMES = 5000


def header(path):
    """(epoch, identity) of the layout header in a region file."""
    import struct
    with open(path, "rb") as f:
        h = f.read(80)
    return struct.unpack_from("<I", h, 44)[0], struct.unpack_from("<Q", h, 72)[0]


def sc_replug(r):
    """Unplug a vfio guest's device and plug it back at a new BDF: the
    same ivsh-testpmd re-attaches (restart: link down, up, one peer
    restart) and a fixed count of sequenced frames arrives intact."""
    need_testpmd(r)
    f = r.plain_file()
    n = REPLUG_FRAMES
    tp = r.path("app/ivsh-testpmd/ivsh-testpmd")
    dev = f"shm:{f},id=0"
    # The master is a host process on the region's file (no second
    # guest to boot): an rxonly that watches the link, then a txonly
    # that sends the frames (a master restart: the layout is kept).
    watcher = r.spawn([tp, "--device", dev, "--peer", "1", "--engine",
                       "rxonly", "--mode", "poll", "--duration", "150",
                       "--json"], "host-watch.log")
    peer = ("\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n" + BINDER +
            f"\"$PMD\" --device vfio:$BDF,irq=none,id=1 --peer 0 "
            f"--engine rxonly --mode poll --count {n} --reattach "
            "--duration 150 --json\necho \"pmd exit $?\"\n")
    g1 = r.boot(1, peer, device="plain", shmfile=f, hotplug=True)
    r.wait_log(1, "link to peer 0 up", 60)
    hdr0 = header(f)
    deleted = unplug(r, 1)
    wait_text(r, 1, "removed; released", 5)
    t_plug = time.monotonic()
    replug(r, 1, f, "rp2")
    wait_text(r, 1, f"re-attached to vfio:{REPLUG_BDF}", 30)
    t = time.monotonic()
    while guest_log(r, 1).count("link to peer 0 up") < 2:
        if time.monotonic() - t > 20:
            raise Fail("guest 1: link not up after the re-plug:\n" +
                       r.tail("guest1.log"))
        time.sleep(0.05)
    link_up = time.monotonic() - t_plug
    log(f"device_del -> DEVICE_DELETED {deleted * 1000:.0f} ms; "
        f"device_add -> link up {link_up:.2f} s (guest log polled every 50 ms)")
    watcher.send_signal(2)
    try:
        watcher.wait(20)
    except Exception:
        raise Fail("the host watcher did not stop on SIGINT")
    sender = r.spawn([tp, "--device", dev, "--peer", "1", "--engine",
                      "txonly", "--mode", "poll", "--count", str(n),
                      "--wait-link", "60", "--duration", "100", "--json"],
                     "host-send.log")
    res = r.wait_guests({1: g1}, 120)
    try:
        sender.wait(30)
    except Exception:
        raise Fail("the host sender did not finish")
    r.show(1)
    log("--- host watcher ---\n" + r.tail("host-watch.log", 12))
    _, wx, links, _ = pmd_report(r, "host-watch.log")
    srep, _, _, _ = pmd_report(r, "host-send.log")
    rrep, _, _, _ = pmd_report(r, "guest1.log")
    out1 = guest_log(r, 1)
    r.expect(deleted < DELETED_LIMIT_S,
             f"DEVICE_DELETED after {deleted:.2f} s (limit {DELETED_LIMIT_S} s)")
    r.expect(links[:3] == ["up", "down", "up"],
             f"master's link messages {links}, expected up, down, up")
    r.expect(wx.get("peer_restarts", 0) == 1,
             f"master saw {wx.get('peer_restarts', 0)} peer restarts, expected 1")
    r.expect(header(f) == hdr0, f"layout header (epoch, identity) changed: "
             f"{hdr0} -> {header(f)}: the layout was re-initialised")
    r.expect(srep.get("tx_packets") == n and sender.returncode == 0,
             f"host sent {srep.get('tx_packets')} of {n}")
    r.expect(rrep.get("rx_packets") == n,
             f"peer received {rrep.get('rx_packets')} of {n}")
    for k in ("lost", "corrupted", "duplicated", "reordered"):
        r.expect(rrep.get(k) == 0, f"peer: {k} = {rrep.get(k)}")
    r.expect("pmd exit 0" in out1, "the re-attached ivsh-testpmd failed")
    r.expect(res == {1: 0}, f"guest exit {res}")
