# SPDX-License-Identifier: BSD-3-Clause
"""Run Debian's Open vSwitch with DPDK (openvswitch-switch-dpdk) from a
private folder: its own database, sockets, logs and pid files, never the
system's /var/run/openvswitch. ovsdb-server and ovs-vswitchd-dpdk are
children of the caller (dpdk_helpers.spawn) and are stopped at exit.

The plugin is loaded through other_config:dpdk-extra. Without hugepages
the EAL needs --no-huge (with --legacy-mem: one block of memory, as the
EAL had before DPDK 18.05), and a --file-prefix of its own. --no-pci
keeps the EAL off the machine's own PCI devices."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "dpdk"))
import dpdk_helpers as dh  # noqa: E402

VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def missing():
    """Why OVS-DPDK cannot run here, or None."""
    for prog in ("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-ofctl",
                 "ovs-appctl"):
        if dh.shutil.which(prog) is None:
            return prog + " not found (apt-get install openvswitch-switch-dpdk)"
    if not os.access(VSWITCHD, os.X_OK):
        return VSWITCHD + " not found (apt-get install openvswitch-switch-dpdk)"
    if not os.path.isfile(SCHEMA):
        return SCHEMA + " not found"
    return None


class Ovs:
    """ovsdb-server + ovs-vswitchd-dpdk in @wd, DPDK initialised with the
    plugin. @pmd_cpu: the CPU of the one PMD thread."""

    def __init__(self, wd, plugin, pmd_cpu=1, mem_mb=1024):
        self.wd = wd
        self.dir = wd.path
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_LOGDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.db_sock = wd.file("db.sock")
        db = wd.file("conf.db")
        subprocess.run(["ovsdb-tool", "create", db, SCHEMA], check=True,
                       env=self.env)
        self.ovsdb = dh.spawn(
            ["ovsdb-server", db, "--remote=punix:" + self.db_sock,
             "--unixctl=" + wd.file("ovsdb.ctl"), "--no-chdir",
             "--pidfile=" + wd.file("ovsdb.pid")],
            wd.file("ovsdb-server.log"), env=self.env)
        dh.wait_for(lambda: os.path.exists(self.db_sock) or
                    self.ovsdb.poll() is not None, 20, "ovsdb-server's socket")
        if self.ovsdb.poll() is not None:
            dh.fail("ovsdb-server exited")
        # OVS adds -l with the first CPU of its own affinity. A file
        # prefix of its own keeps it apart from other DPDK processes.
        self.prefix = "ovs%d" % os.getpid()
        eal = ("-d %s --no-huge --legacy-mem -m %d --no-pci --file-prefix %s"
               % (plugin, mem_mb, self.prefix))
        dh._cleanups.append(lambda: dh.shutil.rmtree(
            "/var/run/dpdk/" + self.prefix, ignore_errors=True))
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   'other_config:dpdk-extra="%s"' % eal,
                   "other_config:pmd-cpu-mask=0x%x" % (1 << pmd_cpu))
        self.vswitchd_log = wd.file("ovs-vswitchd.log")
        self.vswitchd = dh.spawn(
            [VSWITCHD, "unix:" + self.db_sock,
             "--unixctl=" + wd.file("vswitchd.ctl"), "--no-chdir",
             "--pidfile=" + wd.file("vswitchd.pid")],
            self.vswitchd_log, env=self.env)
        dh.wait_for(self._dpdk_ready, 60, "ovs-vswitchd to initialise DPDK")

    def _dpdk_ready(self):
        if self.vswitchd.poll() is not None:
            dh.fail("ovs-vswitchd-dpdk exited (code %s)" %
                    self.vswitchd.returncode)
        out = self.vsctl("--timeout=5", "get", "Open_vSwitch", ".",
                         "dpdk_initialized", check=False)
        return out.strip() == "true"

    def _run(self, argv, check=True, timeout=30):
        r = subprocess.run(argv, capture_output=True, text=True, env=self.env,
                           timeout=timeout)
        if check and r.returncode != 0:
            dh.fail("%s failed: %s" % (" ".join(argv), r.stderr.strip()))
        return r.stdout

    def vsctl(self, *args, check=True):
        return self._run(["ovs-vsctl", "--db=unix:" + self.db_sock] +
                         list(args), check=check)

    def ofctl(self, *args):
        return self._run(["ovs-ofctl"] + list(args))

    def add_bridge(self, br):
        self.vsctl("--timeout=30", "add-br", br, "--", "set", "bridge", br,
                   "datapath_type=netdev")

    def add_dpdk_port(self, br, name, devargs, ofport):
        """A port of type dpdk with the given devargs and OpenFlow port
        number; waits until OVS has it (ofport set, no error)."""
        self.vsctl("--timeout=30", "add-port", br, name, "--", "set",
                   "Interface", name, "type=dpdk",
                   "options:dpdk-devargs=" + devargs,
                   "ofport_request=%d" % ofport)
        err = self.vsctl("get", "Interface", name, "error").strip()
        if err not in ("[]", ""):
            dh.fail("OVS refused port %s: %s" % (name, err))
        got = self.vsctl("get", "Interface", name, "ofport").strip()
        if got != str(ofport):
            dh.fail("port %s has OpenFlow port %s, not %d" % (name, got, ofport))

    def add_vhost_port(self, br, name, sock, ofport):
        """A dpdkvhostuserclient port connecting to @sock."""
        self.vsctl("--timeout=30", "add-port", br, name, "--", "set",
                   "Interface", name, "type=dpdkvhostuserclient",
                   "options:vhost-server-path=" + sock,
                   "ofport_request=%d" % ofport)

    def link_state(self, name):
        return self.vsctl("get", "Interface", name, "link_state",
                          check=False).strip()

    def wait_link(self, name, timeout=20):
        dh.wait_for(lambda: self.link_state(name) == "up", timeout,
                    "OVS port %s link up" % name)

    def port_stats(self, br):
        """ovs-ofctl dump-ports -> {"ofport number": {"rx": {...},
        "tx": {...}}} (counters OVS cannot read are None),
        read live from the ports (not the 5-second database copy)."""
        out = self.ofctl("dump-ports", br)
        stats = {}
        cur = None
        for line in out.splitlines():
            m = re.match(r'\s*port\s+"?([\w-]+)"?:\s+rx\s+(.*)', line)
            if m:
                cur = stats.setdefault(m.group(1), {})
                cur["rx"] = _counters(m.group(2))
                continue
            m = re.match(r"\s+tx\s+(.*)", line)
            if m and cur is not None:
                cur["tx"] = _counters(m.group(1))
        return stats

    def flow_packets(self, br):
        """{flow match text: n_packets} of every flow in table 0."""
        out = self.ofctl("dump-flows", br)
        flows = {}
        for line in out.splitlines():
            m = re.search(r"n_packets=(\d+),.*?(priority=\S+?)\s+actions", line)
            if not m:
                m = re.search(r"n_packets=(\d+),.*\s(\S+)\s+actions", line)
            if m:
                flows[m.group(2).rstrip(",")] = int(m.group(1))
        return flows

    def stop(self):
        """Ask both daemons to exit; kill them if they do not."""
        for proc, ctl in ((self.vswitchd, "vswitchd.ctl"),
                          (self.ovsdb, "ovsdb.ctl")):
            if proc.poll() is None:
                subprocess.run(["ovs-appctl", "-t", self.wd.file(ctl), "exit"],
                               capture_output=True, env=self.env, timeout=30)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()


def _counters(text):
    out = {}
    for k, v in re.findall(r"(\w+)=(\d+|\?)", text):
        out[k] = int(v) if v.isdigit() else None
    return out
