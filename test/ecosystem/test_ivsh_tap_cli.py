#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivsh-tap refuses every bad command line with one line and exit 1."""

import subprocess
import sys

BAD = [
    [],
    ["--device", "server:/nonexistent"],
    ["--peer", "1"],
    ["--device", "server:/x", "--peer", "65536"],
    ["--device", "server:/x", "--peer", "-1"],
    ["--device", "server:/x", "--peer", "1x"],
    ["--device", "server:/x", "--peer", "1", "--mode", "sleep"],
    ["--device", "server:/x", "--peer", "1", "--mtu", "67"],
    ["--device", "server:/x", "--peer", "1", "--mtu", "abc"],
    ["--device", "server:/x", "--peer", "1", "--cpu", "-2"],
    ["--device", "server:/x", "--peer", "1", "--tap", "a/b"],
    ["--device", "server:/x", "--peer", "1", "--tap", "x" * 16],
    ["--device", "server:/x", "--peer", "1", "--bogus"],
    ["--device", "server:/x", "--peer", "1", "extra"],
    ["--device"],
    # Valid options, but nobody listens on the socket.
    ["--device", "server:/nonexistent/ivsh.sock", "--peer", "1"],
    ["--device", "bogus:x", "--peer", "1"],
]


def main():
    tap = sys.argv[1]
    failed = 0
    for argv in BAD:
        r = subprocess.run([tap] + argv, capture_output=True, text=True,
                           timeout=30)
        lines = r.stderr.splitlines()
        ok = (r.returncode == 1 and len(lines) == 1 and
              lines[0].startswith("ivsh-tap: ") and not r.stdout)
        print(("ok   " if ok else "FAIL ") + "%s -> exit %d: %s" %
              (argv, r.returncode, r.stderr.strip()))
        failed += not ok
    r = subprocess.run([tap, "--help"], capture_output=True, text=True)
    ok = r.returncode == 0 and "--mode poll|intr" in r.stdout
    print(("ok   " if ok else "FAIL ") + "--help lists the options")
    failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
