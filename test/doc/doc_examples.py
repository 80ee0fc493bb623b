#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run the shell examples of the documentation as written.

    doc_examples.py --source SRC --build BUILD --kind host|vm [--list]
                    [--file DOC] [--repeat N]

Examples are the ```sh blocks of README.md, doc/guest-guide.md,
doc/nics/ivshmem.md and doc/ivsh-testpmd.md, and the .nf/.fi blocks of
the EXAMPLES section of every man page in doc/man. The block's first
line says where it runs, visibly for the reader too:

  "# not run in CI: WHY"   not run (listed with its reason)
  "# in a guest ..."       inside a guest: through scripts/ivsh-vm --run,
                           next to an ivsh-server this test starts (kind vm)
  a block that calls scripts/ivsh-vm or test/vm/vmrun.py boots guests
                           itself (kind vm)
  anything else            on the host (kind host)

Each block runs with bash -e from the source folder, with a private
/tmp, /dev/shm and /run/dpdk (a mount namespace; a tree below /tmp or
/dev/shm is bound back into it), and the build's programs on PATH only for man pages (they
describe installed programs). A block fails when it exits non-zero,
times out, or leaves a process running (examples stop what they start).
Exit 77 when nothing of that kind can run here.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
DOCS = ["README.md", "doc/guest-guide.md", "doc/nics/ivshmem.md",
        "doc/ivsh-testpmd.md"]
NOT_RUN = "# not run in CI:"
IN_GUEST = "# in a guest"
TIMEOUT = {"host": 90, "vm": 400}


def md_blocks(path):
    """(line, text) of every ```sh block."""
    out, cur, start = [], None, 0
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if cur is None and re.match(r"^```(sh|bash|console)\s*$", line):
                cur, start = [], i + 1
            elif cur is not None and line.startswith("```"):
                out.append((start, "".join(cur)))
                cur = None
            elif cur is not None:
                cur.append(line)
    return out


def roff_unescape(line):
    return (line.replace("\\-", "-").replace("\\e", "\\")
            .replace("\\(aq", "'").replace("\\&", ""))


def man_blocks(path):
    """(line, text) of every .nf/.fi block of the EXAMPLES section."""
    out, cur, start, in_ex = [], None, 0, False
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.startswith(".SH"):
                in_ex = "EXAMPLE" in line
                continue
            if not in_ex:
                continue
            if line.startswith(".nf") or line.startswith(".EX"):
                cur, start = [], i + 1
            elif cur is not None and (line.startswith(".fi") or
                                      line.startswith(".EE")):
                out.append((start, "".join(cur)))
                cur = None
            elif cur is not None and not line.startswith(".\\\""):
                cur.append(roff_unescape(line))
    return out


def kind_of(text):
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith(NOT_RUN):
        return "skip", first[len(NOT_RUN):].strip()
    if first.startswith(IN_GUEST):
        return "guest", ""
    if "scripts/ivsh-vm" in text or "test/vm/vmrun.py" in text:
        return "vm", ""
    return "host", ""


def collect(src):
    blocks = []
    for d in DOCS:
        p = os.path.join(src, d)
        if os.path.exists(p):
            blocks += [(d, n, t, True) for n, t in md_blocks(p)]
    mandir = os.path.join(src, "doc", "man")
    for m in sorted(os.listdir(mandir)):
        if re.search(r"\.[18]$", m):
            blocks += [(f"doc/man/{m}", n, t, False)
                       for n, t in man_blocks(os.path.join(mandir, m))]
    return blocks


def kept_tops(paths, tops=("/tmp/", "/dev/shm/")):
    """The top folders of @paths that lie below a mount point the block
    gets a private tmpfs on: they are bound back into it."""
    keep = set()
    for path in paths:
        path = os.path.realpath(path) + "/"
        for top in tops:
            if path.startswith(top):
                keep.add(top + path[len(top):].split("/")[0])
    return sorted(keep)


def wrap_private(script, src, build):
    """Run @script with private /tmp, /dev/shm and /run/dpdk, so that
    examples using fixed paths (/tmp/ivsh.sock) do not meet another run's
    files. A source or build tree below /tmp or /dev/shm stays visible:
    it is bound aside first, then back into the new tmpfs."""
    if os.geteuid() != 0:
        return ["bash", "-e", "-c", script]
    keep = kept_tops([src, build])
    aside = f"/run/ivsh-doc-keep-{os.getpid()}"
    setup = "mount --make-rprivate / && "
    for i, k in enumerate(keep):
        setup += f"mkdir -p {aside}/{i} && mount --bind '{k}' {aside}/{i} && "
    # /tmp 0755: the EAL refuses a -d plugin below a world-writable folder,
    # and the examples load build/... of a tree that may lie below /tmp.
    setup += ("mount -t tmpfs -o mode=0755 tmpfs /tmp && "
              "mount -t tmpfs tmpfs /dev/shm && "
              "mkdir -p /run/dpdk && mount -t tmpfs tmpfs /run/dpdk && ")
    for i, k in enumerate(keep):
        setup += f"mkdir -p '{k}' && mount --bind {aside}/{i} '{k}' && "
    setup += "exec bash -e -c \"$0\""
    return ["unshare", "--mount", "sh", "-c", setup, script]


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # zombies of the group do not count: list live members
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[2]) == pgid and st[0] != "Z":
            return True
    return False


def run_block(args, where, text, kind, man):
    env = dict(os.environ)
    env.pop("MALLOC_PERTURB_", None)
    build = os.path.abspath(args.build)
    if man:  # man pages describe installed programs: put the build's on PATH
        env["PATH"] = ":".join(os.path.join(build, "app", p) for p in
                               ("ivsh-server", "ivsh-testpmd", "ivsh-info",
                                "ivsh-bind")) + ":" + env["PATH"]
    script = text
    if kind == "guest":
        # A server for the guest's device, the block inside the guest.
        quoted = text.replace("'", "'\\''")
        script = (f"{build}/app/ivsh-server/ivsh-server -F -S /tmp/ivsh.sock "
                  f"-l 64M -n 2 & server=$!\nsleep 1\n"
                  f"scripts/ivsh-vm --build {build} --socket /tmp/ivsh.sock "
                  f"--run '{quoted}'\nkill $server\n")
    cmd = wrap_private(script, args.source, build)
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+", errors="replace") as log:
        p = subprocess.Popen(cmd, cwd=args.source, env=env,
                             start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            p.wait(timeout=TIMEOUT[args.kind])
            why = None if p.returncode == 0 else f"exit {p.returncode}"
        except subprocess.TimeoutExpired:
            why = f"still running after {TIMEOUT[args.kind]} s"
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        # a process the block just signalled may still be exiting
        settle = time.monotonic() + 5
        while group_alive(p.pid) and time.monotonic() < settle:
            time.sleep(0.1)
        if group_alive(p.pid):
            why = (why + "; " if why else "") + "left processes running"
            os.killpg(p.pid, signal.SIGKILL)
        log.seek(0)
        out = log.read()
    dt = time.monotonic() - t0
    tail = "\n".join(out.splitlines()[-40:])
    print(f"--- {where} ({kind}, {dt:.1f} s): {'FAIL: ' + why if why else 'ok'}")
    if why or args.verbose:
        print("    " + text.replace("\n", "\n    ").rstrip())
        print(tail)
    return why is None, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--kind", choices=("host", "vm"), required=True)
    ap.add_argument("--file", action="append",
                    help="only the examples of this document (repeatable)")
    ap.add_argument("--line", type=int, help="only the block starting here")
    ap.add_argument("--part", metavar="K/N",
                    help="only every Nth example of the kind, from the Kth")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.source = os.path.abspath(args.source)
    todo, skipped = [], []
    for doc, line, text, md in collect(args.source):
        if args.file and doc not in args.file:
            continue
        if args.line and line != args.line:
            continue
        kind, why = kind_of(text)
        if kind == "skip":
            skipped.append((f"{doc}:{line}", why))
        elif (kind == "host") == (args.kind == "host"):
            todo.append((f"{doc}:{line}", text, kind, not md))
    if args.part:
        k, n = (int(x) for x in args.part.split("/"))
        todo = todo[k - 1::n]
    for where, why in skipped:
        print(f"--- {where}: not run in CI ({why})")
    if args.list:
        for where, _, kind, _ in todo:
            print(f"{where} {kind}")
        return 0
    if not todo:
        print("SKIP: no example of this kind")
        return SKIP
    if os.path.realpath(args.build) != os.path.realpath(
            os.path.join(args.source, "build")):
        print("SKIP: the examples use build paths (build/...): the build "
              "folder must be SOURCE/build")
        return SKIP
    if args.kind == "vm":
        try:
            subprocess.run(["qemu-system-x86_64", "--version"],
                           capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            print("SKIP: qemu-system-x86_64 is not installed")
            return SKIP
    failed = 0
    for r in range(args.repeat):
        for where, text, kind, man in todo:
            ok, _ = run_block(args, where, text, kind, man)
            failed += not ok
    total = len(todo) * args.repeat
    print(f"{total - failed}/{total} example runs passed, "
          f"{len(skipped)} example(s) not run in CI")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
