#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Descriptors in flight, one user against another.

ivsh-server runs as an ordinary user (nobody) with nofile 256, so Linux
lets it have at most 256 descriptors in flight in UNIX sockets. Another
user opens 30 connections that never read and keeps them open. The
eventfds the server sends them stay in flight for as long as they sit
unread, also after the server has dropped those connections. A third
client connecting meanwhile must still get its shared memory within 3 s,
and a peer that reads all along must stay connected.

Needs root (to run as two other users); exits 77 otherwise.
"""
import array
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SERVER_UID = 65534   # nobody
HOARDER_UID = 65533  # a second ordinary user
HOARDERS = 30
NOFILE = 256


class Reader:
    """A client that reads everything it is sent."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.values = []
        self.fds = 0
        self.eof = False
        self.buf = b""

    def pump(self):
        while not self.eof:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    8, socket.CMSG_SPACE(16 * 4))
            except BlockingIOError:
                return
            except ConnectionResetError:
                self.eof = True
                return
            if not data:
                self.eof = True
                return
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(payload[:len(payload) - len(payload) % 4])
                    for fd in fds:
                        os.close(fd)
                        self.fds += 1
            self.buf += data
            while len(self.buf) >= 8:
                self.values.append(struct.unpack("<q", self.buf[:8])[0])
                self.buf = self.buf[8:]

    def has_memory(self):
        # version, own ID, then -1 carrying the shared memory
        return len(self.values) >= 3 and self.values[2] == -1


def as_user(uid):
    def drop():
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return drop


def hoard(path, go_away):
    """Child: as another user, connect HOARDERS times and never read."""
    os.setgroups([])
    os.setgid(HOARDER_UID)
    os.setuid(HOARDER_UID)
    conns = []
    for _ in range(HOARDERS):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
        else:
            conns.append(s)
        time.sleep(0.02)
    os.read(go_away, 1)  # until the test is done with us
    os._exit(0)


def wait_for(cond, seconds, pump):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for r in pump:
            r.pump()
        if cond():
            return True
        time.sleep(0.01)
    return False


def main():
    if os.geteuid() != 0:
        print("needs root: the server and the hoarders run as two other users")
        return 77
    server_bin = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="ivsh-inflight-")
    os.chown(tmp, SERVER_UID, SERVER_UID)
    os.chmod(tmp, 0o755)
    path = os.path.join(tmp, "s.sock")
    server = subprocess.Popen(
        [server_bin, "-F", "-S", path, "-n", "2", "-l", "1M",
         "--mode", "0666", "--stall-timeout", "300"],
        preexec_fn=as_user(SERVER_UID), stderr=subprocess.PIPE, text=True)
    hoarder = None
    failed = []
    try:
        if not wait_for(lambda: os.path.exists(path), 5, []):
            failed.append("the server did not come up")
            return 1
        resident = Reader(path)
        if not wait_for(resident.has_memory, 3, [resident]):
            failed.append("the first client got no memory")
            return 1
        stay, go_away = os.pipe()
        hoarder = os.fork()
        if hoarder == 0:
            os.close(go_away)
            hoard(path, stay)
        os.close(stay)
        # Let the hoarders connect, fill the limit and be dropped.
        wait_for(lambda: False, 3, [resident])
        start = time.monotonic()
        newcomer = Reader(path)
        got = wait_for(newcomer.has_memory, 3, [resident, newcomer])
        took = time.monotonic() - start
        print(f"newcomer beside {HOARDERS} hoarding connections: "
              f"{'memory after %.1f ms' % (took * 1000) if got else 'no memory within 3 s'}")
        if not got:
            failed.append("a client of a third user got no memory while "
                          "another user's connections hoard descriptors")
        if resident.eof:
            failed.append("the peer that reads was dropped")
        return 1 if failed else 0
    finally:
        if hoarder:
            os.close(go_away)
            os.waitpid(hoarder, 0)
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
        lines = err.splitlines()
        print(f"server log: {len(lines)} lines, the last ones:")
        for line in lines[-int(os.environ.get("LOG_LINES", "6")):]:
            print("  " + line)
        for f in failed:
            print("FAIL: " + f)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
