#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Shared memory that another process truncates under running peers.

Memory of `ivsh-server -M NAME` (and `-m FILE`) and `shm:` files cannot be
sealed: any process that may open the file can shrink it, and an access
beyond the new end raises SIGBUS. For each of `-M NAME` and a `shm:` file,
an rxonly and a txonly ivsh-testpmd run with the link up, a hostile
process truncates the file to 0, and both must end by themselves with a
non-zero status and a one-line error that names the truncation, never be
killed by a signal.

With --victim, the same holds for a program using the device API (it
reads the memory until ivsh_dev_shm_lost()), and the guard only catches
faults in the device's mapping: a program's own SIGBUS handler still gets
faults elsewhere, and a program without one still dies of SIGBUS there.
A server: device on `ivsh-server -m FILE` memory is guarded the same
way; sealed memory (the server's default --memfd) gets no guard at all.
"""

import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

MEM = 4 << 20


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


class Proc:
    """A child whose stderr is collected line by line."""

    def __init__(self, name, argv):
        self.name = name
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = []
        os.set_blocking(self.p.stderr.fileno(), False)

    def pump(self, timeout):
        r, _, _ = select.select([self.p.stderr], [], [], timeout)
        if r:
            chunk = self.p.stderr.read()
            if chunk:
                self.lines.extend(chunk.splitlines())

    def wait_line(self, needle, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(needle in line for line in self.lines):
                return
            if self.p.poll() is not None:
                self.pump(0)
                if any(needle in line for line in self.lines):
                    return
                break
            self.pump(0.1)
        fail("%s: no '%s' within %d s (status %s); stderr:\n%s" % (
            self.name, needle, timeout, self.p.poll(),
            "\n".join(self.lines)))

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            self.pump(0.1)
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
            fail("%s: still running %d s after the truncation" % (
                self.name, timeout))
        self.pump(0)
        return self.p.returncode

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def check_victim_end(proc, since):
    rc = proc.wait_exit(15)
    took = time.monotonic() - since
    err = "\n".join(proc.lines)
    if rc < 0:
        fail("%s was killed by signal %d (%s); stderr:\n%s" % (
            proc.name, -rc, signal.Signals(-rc).name, err))
    if rc == 0:
        fail("%s exited 0 after losing its memory; stderr:\n%s" % (
            proc.name, err))
    lost = [line for line in proc.lines if "truncated" in line]
    if len(lost) != 1:
        fail("%s: expected one line about the truncation; stderr:\n%s" % (
            proc.name, err))
    ok("%s exited %d within %.3f s: %s" % (proc.name, rc, took, lost[0]))


def pair_then_truncate(testpmd, dev_rx, dev_tx, path, what, rx_extra=()):
    """rxonly on dev_rx (peer 1), txonly on dev_tx (peer 0), link up,
    then truncate @path to 0 and check both end cleanly."""
    common = ["--duration", "60", "--wait-link", "20"]
    rx = Proc(what + " rxonly", [testpmd, "--device", dev_rx, "--peer", "1",
                                 "--engine", "rxonly"] + common +
              list(rx_extra))
    procs = [rx]
    try:
        rx.wait_line("ready:", 15)
        tx = Proc(what + " txonly", [testpmd, "--device", dev_tx,
                                     "--peer", "0", "--engine", "txonly",
                                     "--pkt-len", "64"] + common)
        procs.append(tx)
        rx.wait_line("link to peer 1 up", 20)
        tx.wait_line("link to peer 0 up", 20)
        time.sleep(0.3)  # traffic flows
        os.truncate(path, 0)  # the hostile process
        since = time.monotonic()
        ok("%s: file truncated to 0 under a running pair" % what)
        for p in procs:
            check_victim_end(p, since)
    finally:
        for p in procs:
            p.stop()


def run_victim(victim, mode, dev, *extra, expect_rc=None, expect_sig=None,
               truncate=None):
    argv = [victim, mode, dev] + list(extra)
    p = Proc("victim " + mode, argv)
    try:
        if truncate is not None:
            p.wait_line("ready", 10)
            os.truncate(truncate, 0)
        rc = p.wait_exit(15)
    finally:
        p.stop()
    err = "\n".join(p.lines)
    if expect_sig is not None:
        if rc != -expect_sig:
            fail("victim %s: expected death by signal %d, got status %d; "
                 "stderr:\n%s" % (mode, expect_sig, rc, err))
        ok("victim %s: killed by signal %d as expected" % (mode, -rc))
        return
    if rc != expect_rc:
        fail("victim %s: expected status %d, got %d; stderr:\n%s" % (
            mode, expect_rc, rc, err))
    ok("victim %s: status %d: %s" % (mode, rc, p.lines[-1] if p.lines
                                      else ""))


def wait_socket(sock):
    end = time.monotonic() + 10
    while not os.path.exists(sock) and time.monotonic() < end:
        time.sleep(0.05)
    if not os.path.exists(sock):
        fail("ivsh-server did not create its socket")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--testpmd", required=True)
    ap.add_argument("--victim")
    args = ap.parse_args()
    for exe in (args.server, args.testpmd):
        if not os.access(exe, os.X_OK):
            print("SKIP: %s is not built" % exe)
            sys.exit(77)
    if not os.path.isdir("/dev/shm"):
        print("SKIP: no /dev/shm")
        sys.exit(77)

    tag = "ivsh-trunc-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="ivsh-trunc-")
    sock = os.path.join(tmp, "sock")
    shm_path = "/dev/shm/" + tag
    plain = "/dev/shm/%s-plain" % tag
    srv = None
    extra_files = []
    try:
        # 1. ivsh-server -M NAME: the memory is a POSIX shm object.
        srv = subprocess.Popen([args.server, "-F", "-S", sock, "-M", tag,
                                "-l", str(MEM), "-n", "1"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        wait_socket(sock)
        # The receiver sleeps on interrupts when idle: its link updates
        # notice the shrunk file even when it touches no memory.
        pair_then_truncate(args.testpmd, "server:" + sock, "server:" + sock,
                           shm_path, "-M", rx_extra=["--mode", "intr"])
        srv.terminate()
        srv.wait()
        srv = None
        if args.victim:
            # Sealed memory (the default --memfd) needs no guard.
            srv = subprocess.Popen([args.server, "-F", "-S", sock,
                                    "-l", str(MEM), "-n", "1"],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            wait_socket(sock)
            run_victim(args.victim, "sealed", "server:" + sock, expect_rc=0)
            srv.terminate()
            srv.wait()
            srv = None
            # -m FILE: a named file, as unsealable as -M.
            mfile = "/dev/shm/%s-m" % tag
            extra_files.append(mfile)
            srv = subprocess.Popen([args.server, "-F", "-S", sock,
                                    "-m", mfile, "-l", str(MEM), "-n", "1"],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            wait_socket(sock)
            run_victim(args.victim, "touch", "server:" + sock, expect_rc=3,
                       truncate=mfile)
            srv.terminate()
            srv.wait()
            srv = None

        # 2. shm: file shared by two peers.
        pair_then_truncate(args.testpmd,
                           "shm:%s,id=0,size=%d" % (plain, MEM),
                           "shm:%s,id=1,size=%d" % (plain, MEM),
                           plain, "shm:")

        if args.victim:
            # 3. The device API: the guard turns the fault into a loss.
            own = os.path.join(tmp, "own")
            os.truncate(plain, MEM)
            run_victim(args.victim, "touch", "shm:" + plain, expect_rc=3,
                       truncate=plain)
            # 4. A handler of the program's own still gets its faults.
            os.truncate(plain, MEM)
            run_victim(args.victim, "own-handler", "shm:" + plain, own,
                       expect_rc=0)
            # 5. A handler installed later chains back as DPDK's EAL
            # does (no siginfo): the device fault is still caught.
            os.truncate(plain, MEM)
            run_victim(args.victim, "late-chain", "shm:" + plain,
                       expect_rc=0)
            # 6. Four threads fault at once: each comes out on zeros.
            os.truncate(plain, MEM)
            run_victim(args.victim, "threads", "shm:" + plain, expect_rc=0)
            os.truncate(plain, MEM)
            run_victim(args.victim, "late-threads", "shm:" + plain,
                       expect_rc=0)
            # 7. Without one, a fault outside the guard still kills.
            os.truncate(plain, MEM)
            run_victim(args.victim, "unguarded", "shm:" + plain, own,
                       expect_sig=signal.SIGBUS)
    finally:
        if srv is not None:
            srv.kill()
            srv.wait()
        for f in [shm_path, plain] + extra_files:
            try:
                os.unlink(f)
            except OSError:
                pass
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    print("PASS")


if __name__ == "__main__":
    main()
