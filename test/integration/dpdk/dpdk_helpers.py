# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the net_ivshmem integration tests: run Debian's unmodified
dpdk-testpmd (and ivsh-server / ivsh-testpmd) as child processes, feed
testpmd's interactive prompt from a pipe, and parse what it prints.

Every child is started in its own process group and killed when the test
ends, whatever happens."""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

SKIP = 77
PMD_DIR = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
_children = []
_logs = []  # (name, path) of every child's output, shown on failure
_cleanups = []  # run at exit, after every child is dead


def skip(reason):
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


def fail(reason):
    print("FAIL: " + reason, flush=True)
    for name, path in _logs:
        try:
            with open(path, errors="replace") as f:
                lines = f.read().splitlines()[-25:]
        except OSError:
            continue
        print("---- last lines of %s ----" % name)
        print("\n".join(lines))
    sys.exit(1)


def check(cond, what):
    """Assert @cond, printing what was checked either way."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        sys.exit(1)


def _kill_all():
    for p in _children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    while _cleanups:
        _cleanups.pop()()


atexit.register(_kill_all)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda s, f: sys.exit(1))


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--plugin", default="", help="librte_net_ivshmem.so")
    ap.add_argument("--server", default="", help="ivsh-server binary")
    ap.add_argument("--ivsh-testpmd", default="", help="ivsh-testpmd binary")
    ap.add_argument("--app", default="", help="rxintr_app binary")
    ap.add_argument("--skip-reason", default="",
                    help="why the plugin was not built")
    return ap.parse_args()


def _world_writable_ancestor(path):
    """The first of @path and its parents that others may write, or None.
    The EAL refuses a -d plugin below such a folder (or itself such a
    file): 'directory path X is world-writable and insecure'."""
    p = os.path.realpath(path)
    while True:
        try:
            if os.stat(p).st_mode & stat.S_IWOTH:
                return p
        except OSError:
            return p
        if p == "/":
            return None
        p = os.path.dirname(p)


def plugin_runpath(plugin):
    """The plugin's RUNPATH/RPATH folders with $ORIGIN made absolute (the
    staged copy lives elsewhere, so its own $ORIGIN would be wrong)."""
    origin = os.path.dirname(os.path.realpath(plugin))
    dirs = []
    try:
        out = subprocess.run(["readelf", "-d", plugin], capture_output=True,
                             text=True, check=True).stdout
        for m in re.finditer(r"\((?:RUNPATH|RPATH)\)\s+Library r\w*path: "
                             r"\[(.*)\]", out):
            dirs += m.group(1).split(":")
    except (OSError, subprocess.CalledProcessError):
        # No binutils: the build tree's layout (drivers/net/ivshmem three
        # levels below libivsh, libivsh_net in lib/net).
        dirs = ["$ORIGIN/../../../lib/net", "$ORIGIN/../../.."]
    return [os.path.normpath(d.replace("${ORIGIN}", origin)
                             .replace("$ORIGIN", origin))
            for d in dirs if d]


def stage_plugin(plugin):
    """Copy @plugin into a private folder whose every parent is safe for
    the EAL's -d check (the build tree may be anywhere, /tmp included),
    point LD_LIBRARY_PATH of every child at the folders its RUNPATH names,
    and return the copy's path. The folder is removed at exit. Exits 77
    when no safe place exists."""
    bases = []
    if os.access("/run", os.W_OK):
        bases.append("/run")
    for var in ("XDG_RUNTIME_DIR", "HOME"):
        if os.environ.get(var):
            bases.append(os.environ[var])
    tried = []
    for base in bases:
        bad = _world_writable_ancestor(base)
        if bad is not None:
            tried.append("%s (%s is world-writable)" % (base, bad))
            continue
        try:
            d = tempfile.mkdtemp(prefix="ivsh-dpdk-plugin-%d-" % os.getpid(),
                                 dir=base)
        except OSError as e:
            tried.append("%s (%s)" % (base, e.strerror))
            continue
        _cleanups.append(lambda d=d: shutil.rmtree(d, ignore_errors=True))
        copy = os.path.join(d, os.path.basename(plugin))
        shutil.copyfile(plugin, copy)
        os.chmod(copy, 0o755)
        bad = _world_writable_ancestor(copy)
        if bad is not None:  # a umask or ACL surprise: try the next base
            tried.append("%s (%s is world-writable)" % (base, bad))
            continue
        libs = plugin_runpath(plugin)
        old = os.environ.get("LD_LIBRARY_PATH")
        os.environ["LD_LIBRARY_PATH"] = ":".join(libs + ([old] if old else []))
        return copy
    skip("no private folder for the plugin copy that the EAL accepts "
         "(it refuses -d below a world-writable folder); tried: " +
         (", ".join(tried) or "none of /run, $XDG_RUNTIME_DIR, $HOME set"))


def require(args, server=True, ivsh_testpmd=False):
    """Exit 77 with a reason when something the test needs is missing.
    Replaces args.plugin with a staged copy the EAL accepts (stage_plugin)."""
    if not args.plugin:
        skip("net_ivshmem plugin not built: " + (args.skip_reason or "?"))
    if not os.path.isfile(args.plugin):
        skip("net_ivshmem plugin not built yet: " + args.plugin)
    if shutil.which("dpdk-testpmd") is None:
        skip("dpdk-testpmd not found (apt-get install dpdk-dev)")
    if os.path.exists(os.path.join(PMD_DIR, "librte_net_ivshmem.so")):
        skip("an installed librte_net_ivshmem.so in " + PMD_DIR +
             " would be loaded twice with -d; remove it to test the build")
    if server and not os.access(args.server or "/nonexistent", os.X_OK):
        skip("ivsh-server not built: " + (args.server or "?"))
    if ivsh_testpmd and not os.access(args.ivsh_testpmd or "/nonexistent",
                                      os.X_OK):
        skip("ivsh-testpmd not built: " + (args.ivsh_testpmd or "?"))
    args.plugin = stage_plugin(args.plugin)


class Workdir:
    """A private directory for sockets and logs, removed at exit unless
    the test failed (then its logs are printed)."""

    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix="ivsh-dpdk-%s-%d-" %
                                     (tag, os.getpid()))
        _cleanups.append(self._cleanup)

    def file(self, name):
        return os.path.join(self.path, name)

    def _cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def spawn(argv, log_path, stdin=None, env=None):
    log = open(log_path, "w")
    p = subprocess.Popen(argv, stdin=stdin, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         env=env, text=True)
    log.close()
    _children.append(p)
    _logs.append((os.path.basename(log_path), log_path))
    return p


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out after %.0f s waiting for %s" % (timeout, what))


class Server:
    """ivsh-server in the foreground on a private socket."""

    def __init__(self, binary, wd, size="16M", vectors=2, extra=()):
        self.sock = wd.file("ivshmem.sock")
        self.log = wd.file("server.log")
        self.proc = spawn([binary, "-F", "-S", self.sock, "-l", size,
                           "-n", str(vectors)] + list(extra), self.log)
        wait_for(lambda: os.path.exists(self.sock) or
                 self.proc.poll() is not None, 10, "ivsh-server's socket")
        if self.proc.poll() is not None:
            fail("ivsh-server exited: " + open(self.log).read().strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class TestPmd:
    """One dpdk-testpmd driven through its interactive prompt."""

    _instances = 0

    def __init__(self, plugin, vdev, wd, name, lcores="0,1", main_lcore=0,
                 extra=(), eal_extra=()):
        TestPmd._instances += 1
        self.name = name
        self.log = wd.file(name + ".log")
        prefix = "ivsh%d_%s" % (os.getpid(), name)
        # The EAL leaves its runtime folder behind; remove it at exit.
        _cleanups.append(lambda: shutil.rmtree("/var/run/dpdk/" + prefix,
                                               ignore_errors=True))
        # Line-buffered stdout: its output goes to a file we poll.
        argv = ["stdbuf", "-oL", "dpdk-testpmd", "-l", lcores, "--main-lcore",
                str(main_lcore), "--no-huge", "-m", "512", "--no-pci",
                "--file-prefix", prefix,
                "-d", plugin, "--vdev", vdev] + list(eal_extra) + ["--", "-i",
                "--total-num-mbufs=8192", "--disable-link-check"]
        argv += list(extra)
        self.proc = spawn(argv, self.log, stdin=subprocess.PIPE)
        self._infos = 0  # 'show port info' outputs requested so far

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def send(self, *cmds):
        for c in cmds:
            self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()

    def wait_output(self, pattern, timeout, what, count=1):
        rx = re.compile(pattern)

        def seen():
            if self.proc.poll() is not None:
                fail("%s exited early (code %s):\n%s" %
                     (self.name, self.proc.returncode, self.tail()))
            return len(rx.findall(self.output())) >= count
        wait_for(seen, timeout, "%s: %s" % (self.name, what))

    def wait_prompt(self, timeout=20):
        self.wait_output(r"testpmd> ", timeout, "the testpmd prompt")

    def wait_link(self, state, timeout=10):
        """Poll 'show port info 0' until the link is @state."""
        deadline = time.monotonic() + timeout
        asked = 0
        while time.monotonic() < deadline:
            asked += 1
            self.send("show port info 0")
            self.wait_output(r"Link status:\s*\w+", 5, "port info",
                             count=self._infos + asked)
            if link_status(self.output()) == state:
                self._infos += asked
                return
            time.sleep(0.1)
        fail("%s: link not %s after %d s" % (self.name, state, timeout))

    def wait_drained(self, expected, timeout=15):
        """Poll 'show port stats 0' until the port has taken @expected
        frames (RX-packets + RX-errors) off the ring, so that a receiver
        slowed down by a busy machine is not stopped with frames still
        waiting. Returns quietly on timeout: the test's own checks then
        report the difference."""
        rx = re.compile(r"NIC statistics for port 0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = len(rx.findall(self.output()))
            self.send("show port stats 0")
            self.wait_output(rx.pattern, 5, "port stats", count=seen + 1)
            st = port_stats(self.output())
            if st.get("RX-packets", 0) + st.get("RX-errors", 0) >= expected:
                return
            time.sleep(0.2)

    def link_events(self):
        return len(re.findall(r"Port 0: link state change event",
                              self.output()))

    def quit(self, timeout=15):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                fail("%s did not quit in %d s" % (self.name, timeout))
        return self.output()

    def tail(self, n=40):
        return "\n".join(self.output().splitlines()[-n:])


def _section(text, title):
    """Text of the last block whose header line contains @title."""
    i = text.rfind(title)
    if i < 0:
        return ""
    return text[i:]


def fwd_stats(text):
    """RX/TX packets of port 0 from the forward statistics 'stop' prints."""
    sec = _section(text, "Forward statistics for port 0")
    rx = re.search(r"RX-packets:\s*(\d+)", sec)
    tx = re.search(r"TX-packets:\s*(\d+)", sec)
    if not rx or not tx:
        fail("no forward statistics in testpmd output")
    return int(rx.group(1)), int(tx.group(1))


def port_stats(text):
    """'show port stats 0' -> dict of the counters it prints."""
    sec = _section(text, "NIC statistics for port 0")
    if not sec:
        fail("no 'show port stats' output")
    out = {}
    for key in ("RX-packets", "RX-missed", "RX-bytes", "RX-errors",
                "RX-nombuf", "TX-packets", "TX-errors", "TX-bytes"):
        m = re.search(re.escape(key) + r":\s*(\d+)", sec)
        if m:
            out[key] = int(m.group(1))
    return out


def xstats(text):
    """'show port xstats 0' -> dict name -> value."""
    sec = _section(text, "NIC extended statistics for port 0")
    if not sec:
        fail("no 'show port xstats' output")
    out = {}
    for line in sec.splitlines()[1:]:
        m = re.match(r"^([A-Za-z0-9_]+):\s+(\d+)$", line.strip())
        if m:
            out[m.group(1)] = int(m.group(2))
        elif out and line.strip() and not line.startswith(" "):
            break
    return out


def link_status(text):
    sec = _section(text, "Infos for port 0")
    m = re.search(r"Link status:\s*(\w+)", sec)
    return m.group(1) if m else "?"


def run_ivsh_testpmd(binary, device, peer, engine, wd, name, extra=()):
    argv = [binary, "--device", device, "--peer", str(peer),
            "--engine", engine, "--json"] + list(extra)
    return spawn(argv, wd.file(name + ".log"))


def ivsh_json(wd, name):
    with open(wd.file(name + ".log"), errors="replace") as f:
        for line in reversed(f.read().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
    fail("%s printed no JSON summary" % name)


def wait_exit(p, what, timeout=60):
    """Wait for process @p and check that it exited 0."""
    try:
        p.wait(timeout)
    except Exception:
        fail("%s did not finish in %d s" % (what, timeout))
    check(p.returncode == 0, "%s exited 0 (%s)" % (what, p.returncode))


def check_jumbo_in(args, dev, wd, pmd, count, length, name="ivsh-tx"):
    """ivsh-testpmd (peer 0 of server device @dev) sends @count frames of
    @length bytes to @pmd, a dpdk-testpmd forwarding in rxonly with the
    scatter offload: every frame and byte arrives, no error, no mbuf
    shortage. Leaves @pmd stopped; returns its output."""
    ivs = run_ivsh_testpmd(args.ivsh_testpmd, dev, 0, "txonly", wd, name,
                           ["--count", str(count), "--pkt-len", str(length),
                            "--wait-link", "10"])
    wait_exit(ivs, "ivsh-testpmd txonly (%d bytes)" % length)
    pmd.wait_drained(count)
    pmd.send("stop", "show port stats 0", "show port xstats 0")
    pmd.wait_output(r"pmd_tx_q0_commit_failed", 10, "stats")
    out = pmd.output()
    rx_fwd, _ = fwd_stats(out[out.rfind("rxonly packet forwarding"):])
    st, xs = port_stats(out), xstats(out)
    check(rx_fwd == count, "received %d frames of %d bytes (%d)" %
          (count, length, rx_fwd))
    check(st.get("RX-bytes") == count * length,
          "RX-bytes == %d x %d (%s)" % (count, length, st.get("RX-bytes")))
    check(st.get("RX-errors") == 0 and st.get("RX-nombuf") == 0 and
          xs.get("pmd_rx_q0_no_scatter_drops") == 0,
          "no rx errors, no mbuf shortage (%s, %s)" %
          (st.get("RX-errors"), st.get("RX-nombuf")))
    return out


def check_mixed_bursts(args, srv, wd, rx, txpkts, unit, lo, hi):
    """A second dpdk-testpmd sends to @rx (already forwarding in rxonly,
    stats cleared) for a second with 'set txpkts @txpkts' and 'set txsplit
    rand': each frame takes a random number of those segments, so frames
    of different kinds alternate within bursts. Checks that every frame
    and byte sent arrives, and that the lengths (multiples of @unit)
    really varied within (@lo, @hi) per frame on average."""
    shown = rx.output().count("Rx-pps")
    tx = TestPmd(args.plugin, "net_ivshmem0,server=%s,peer=0" % srv.sock,
                 wd, "dpdk-mixed-tx", lcores="1,0", main_lcore=1)
    tx.wait_prompt()
    tx.wait_link("up")
    tx.send("set fwd txonly", "set txpkts " + txpkts, "set txsplit rand",
            "start")
    tx.wait_output(r"txonly packet forwarding", 10, "txonly started")
    time.sleep(1)
    tx.send("stop")
    tx.wait_output(r"Forward statistics for port 0", 10, "tx stop")
    _, tx_fwd = fwd_stats(tx.output())
    rx.wait_drained(tx_fwd)
    rx.send("stop")
    for p in (rx, tx):
        p.send("show port stats 0")
    tx.wait_output(r"Rx-pps", 10, "tx stats")
    rx.wait_output(r"Rx-pps", 10, "rx stats", count=shown + 1)
    rxs, txs = port_stats(rx.output()), port_stats(tx.output())
    tx_bytes = txs.get("TX-bytes") or 0
    check(tx_fwd > 1000, "mixed: frames sent (%d)" % tx_fwd)
    check(rxs.get("RX-packets") == tx_fwd,
          "mixed: every frame arrived (%s of %d)" %
          (rxs.get("RX-packets"), tx_fwd))
    check(rxs.get("RX-bytes") == tx_bytes,
          "mixed: RX-bytes == TX-bytes (%s, %s)" %
          (rxs.get("RX-bytes"), tx_bytes))
    check(tx_bytes % unit == 0 and lo * tx_fwd < tx_bytes < hi * tx_fwd,
          "mixed: lengths varied between %d and %d bytes "
          "(%d bytes in %d frames)" % (lo, hi, tx_bytes, tx_fwd))
    check(rxs.get("RX-errors") == 0 and txs.get("TX-errors") == 0,
          "mixed: no errors")
    tx.quit()


_GUEST_PLUGIN = r"""
# The EAL refuses a -d plugin below a world-writable folder. This
# throwaway guest's /run is a fresh tmpfs (mode 1777): close it and load a
# copy of the plugin from there ($PLUG); LD_LIBRARY_PATH stands in for
# the original's $ORIGIN-relative RUNPATH.
chmod 0755 /run && mkdir -m 0700 /run/ivsh-plugin &&
	cp '@PLUG@' /run/ivsh-plugin/ || exit 9
PLUG=/run/ivsh-plugin/$(basename '@PLUG@')
chmod 0755 "$PLUG" || exit 9
export LD_LIBRARY_PATH='@LIBS@'
"""


def guest_script(plugin, body):
    """A guest script that first stages @plugin as $PLUG, then runs
    @body."""
    return (_GUEST_PLUGIN.replace("@PLUG@", os.path.abspath(plugin))
            .replace("@LIBS@", ":".join(plugin_runpath(plugin))) + body)


def vm_main(name, doc, scenario, need_app=False):
    """Run a DPDK guest test: parse its arguments, skip (77) when the
    plugin, dpdk-testpmd, the app (need_app) or QEMU is missing, start the
    guest harness (test/vm/vmrun.py) and always clean it up.
    scenario(args, vm, r) does the test and raises vm.Fail or vm.Skip."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--vmrun", required=True, help="test/vm/vmrun.py")
    ap.add_argument("--plugin", default="")
    ap.add_argument("--app", default="", help="rxintr_app binary")
    ap.add_argument("--skip-reason", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not args.plugin or not os.path.isfile(args.plugin):
        print("SKIP: net_ivshmem plugin not built: " +
              (args.skip_reason or args.plugin or "?"))
        return 77
    if need_app and (not args.app or not os.access(args.app, os.X_OK)):
        print("SKIP: rxintr_app not built")
        return 77
    if not os.path.exists("/usr/bin/dpdk-testpmd"):
        print("SKIP: /usr/bin/dpdk-testpmd not found (apt-get install dpdk-dev)")
        return 77
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.vmrun)))
    import vmrun as vm

    args.py_server = False
    r = None
    try:
        if not os.path.exists("/usr/bin/qemu-system-x86_64"):
            raise vm.Skip("qemu-system-x86_64 not found")
        r = vm.Run(args, name)
        scenario(args, vm, r)
        vm.log("PASS " + name)
        return 0
    except vm.Skip as e:
        print("SKIP: %s" % e)
        return 77
    except vm.Fail as e:
        vm.log("FAIL %s: %s" % (name, e))
        return 1
    finally:
        if r is not None:
            r.cleanup(args.keep)
