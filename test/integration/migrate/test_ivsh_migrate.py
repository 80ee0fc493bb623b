#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivsh-migrate against fake QMP monitors (no QEMU needed).

Three fake monitors (source, destination, one peer) answer QMP and record
the commands they get. Checks: the success path issues the procedure's
commands in order (device_del, then migrate only after DEVICE_DELETED,
then the plug commands with typed object-add values) and reports every
step; a peer that never sends DEVICE_DELETED, and a migration that fails,
each end the run with exit status 1 and exactly one line naming the step;
bad usage exits 2.

    test_ivsh_migrate.py PATH_TO_ivsh-migrate
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading


class FakeQmp(threading.Thread):
    """One QMP monitor on a UNIX socket; @behaviour tweaks the answers."""

    def __init__(self, path, behaviour=None):
        super().__init__(daemon=True)
        self.path = path
        self.behaviour = behaviour or {}
        self.commands = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile("rwb", buffering=0)

        def send(obj):
            f.write(json.dumps(obj).encode() + b"\n")
        send({"QMP": {"version": {}, "capabilities": []}})
        polls = 0
        for line in f:
            msg = json.loads(line)
            name = msg["execute"]
            args = msg.get("arguments", {})
            self.commands.append((name, args))
            if name == "migrate" and self.behaviour.get("migrate_error"):
                send({"error": {"class": "GenericError",
                                "desc": self.behaviour["migrate_error"]}})
                continue
            if name == "query-migrate":
                polls += 1
                send({"return": {"status": "completed" if polls > 2 else
                                 "active", "ram": {"transferred": 123}}})
                continue
            if name == "query-status":
                send({"return": {"status": "running"}})
                continue
            send({"return": {}})
            if name == "device_del" and not self.behaviour.get("never_deleted"):
                send({"event": "DEVICE_DELETED",
                      "data": {"device": args["id"]},
                      "timestamp": {"seconds": 0, "microseconds": 0}})


def run(tool, args):
    return subprocess.run([sys.executable, tool] + args, capture_output=True,
                          text=True, timeout=60)


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


def main():
    tool = sys.argv[1]
    d = tempfile.mkdtemp(prefix="ivsh-migrate-test-")
    p = lambda n: os.path.join(d, n)  # noqa: E731
    src, dst, peer = FakeQmp(p("src")), FakeQmp(p("dst")), FakeQmp(p("peer"))
    base = ["--source", p("src"), "--dest", p("dst"), "--uri", "unix:/m"]
    plug = ["--peer", p("peer"), "ivs",
            "--plug-object", p("peer"),
            "memory-backend-file,id=hm2,size=4194304,mem-path=/dev/shm/x,share=on",
            "--plug", p("peer"), "ivshmem-plain,id=ivs2,memdev=hm2,bus=rp2"]

    r = run(tool, base + plug + ["--json"])
    check(r.returncode == 0, f"success path: exit {r.returncode}: {r.stderr}")
    steps = json.loads(r.stdout.strip().splitlines()[-1])
    check(list(steps) == ["unplug", "migrate", "resume", "plug"],
          f"steps reported: {steps}")
    pc = [c for c, _ in peer.commands if c != "qmp_capabilities"]
    check(pc == ["device_del", "object-add", "device_add"],
          f"peer commands {pc}")
    obj = dict(peer.commands)["object-add"]
    check(obj.get("size") == 4194304 and obj.get("share") is True and
          obj.get("qom-type") == "memory-backend-file",
          f"object-add not typed: {obj}")
    check(("migrate", {"uri": "unix:/m"}) in src.commands,
          f"source commands {src.commands}")

    # The peer never releases its device: the unplug step fails.
    before = len(src.commands)
    stuck = FakeQmp(p("stuck"), {"never_deleted": True})
    r = run(tool, base + ["--peer", p("stuck"), "ivs", "--unplug-timeout",
                          "1"])
    err = r.stderr.strip().splitlines()
    check(r.returncode == 1 and len(err) == 1 and
          err[0].startswith("ivsh-migrate: unplug failed: no DEVICE_DELETED"),
          f"stuck peer: exit {r.returncode}, {err}")
    check(all(c != "migrate" for c, _ in src.commands[before:]),
          "migrated although a peer was still plugged")

    # QEMU refuses the migration: one line with its message.
    bad = FakeQmp(p("bad"), {"migrate_error":
                             "Migration is disabled when using feature "
                             "'peer mode' in device 'ivshmem'"})
    r = run(tool, ["--source", p("bad"), "--dest", p("dst"), "--uri",
                   "unix:/m"])
    err = r.stderr.strip().splitlines()
    check(r.returncode == 1 and err == [
        "ivsh-migrate: migrate failed: Migration is disabled when using "
        "feature 'peer mode' in device 'ivshmem'"],
        f"refused migration: exit {r.returncode}, {err}")

    # Bad usage and an unreachable monitor.
    r = run(tool, base + ["--plug", p("peer"), "key=value"])
    check(r.returncode == 2 and "expected TYPE" in r.stderr,
          f"bad spec: exit {r.returncode}, {r.stderr}")
    r = run(tool, ["--source", p("none"), "--dest", p("dst"), "--uri", "u"])
    check(r.returncode == 1 and "connect failed" in r.stderr and
          len(r.stderr.strip().splitlines()) == 1,
          f"no monitor: exit {r.returncode}, {r.stderr}")
    r = run(tool, ["--help"])
    check(r.returncode == 0 and "DEVICE_DELETED" in r.stdout and
          "master=on" in r.stdout and "pcie-root-port" in r.stdout,
          "--help does not show the procedure and the pitfalls")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
