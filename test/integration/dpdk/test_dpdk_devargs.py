#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""net_ivshmem devargs validation: every bad value makes the probe fail
with a one-line message naming the problem, and dpdk-testpmd carries on
without the port. A good shm= vdev is probed (sanity check)."""

import os
import subprocess

import dpdk_helpers as h

SHM = "/dev/shm/ivsh-dpdk-devargs-%d" % os.getpid()

CASES = [
    ("", "give exactly one of server=PATH or shm=PATH"),
    ("server=/x.sock,shm=/dev/shm/y,id=0", "give exactly one of"),
    ("server=relative.sock", "server=relative.sock: expected an absolute path"),
    ("shm=%s" % SHM, "shm= needs id=N"),
    ("shm=%s,id=0,size=3M" % SHM, "size=3M: must be a power of two"),
    ("shm=%s,id=0,peer=0" % SHM, "peer=0 is this peer's own id"),
    ("shm=%s,id=1,peer=x" % SHM, "peer=x: expected auto or a number in 0..65534"),
    ("shm=%s,id=1,peer=65535" % SHM, "peer=65535: expected auto or a number"),
    ("shm=%s,id=0,queues=0" % SHM, "queues=0: expected a number in 1..16"),
    ("shm=%s,id=0,intr=2" % SHM, "intr=2: expected a number in 0..1"),
    ("shm=%s,id=0,intr=1" % SHM, "intr=1 needs server="),
    ("shm=%s,id=0,rx_zero_copy=yes" % SHM,
     "rx_zero_copy=yes: expected a number in 0..1"),
    ("shm=%s,id=0,ring_size=1000" % SHM, "ring_size=1000: must be a power of two"),
    ("shm=%s,id=0,slot_size=100" % SHM, "slot_size=100: must be a multiple of 64"),
    ("shm=%s,id=0,mac=01:00:00:00:00:01" % SHM, "not a unicast address"),
    ("shm=%s,id=0,mac=zz" % SHM, "mac=zz: expected xx:xx:xx:xx:xx:xx"),
    ("server=/x.sock,id=3", "id= and size= are for shm= only"),
    ("shm=%s,id=0,bogus=1" % SHM, "cannot parse devargs"),
    ("server=/nonexistent/ivsh.sock", "server:/nonexistent/ivsh.sock: no such socket"),
]


def run(plugin, wd, n, devargs):
    prefix = "ivsh%d_da%d" % (os.getpid(), n)
    h._cleanups.append(lambda: __import__("shutil").rmtree(
        "/var/run/dpdk/" + prefix, ignore_errors=True))
    vdev = "net_ivshmem0" + ("," + devargs if devargs else "")
    argv = ["dpdk-testpmd", "-l", "0,1", "--no-huge", "-m", "256",
            "--no-pci", "--file-prefix", prefix, "-d", plugin,
            "--vdev", vdev, "--", "-i", "--total-num-mbufs=2048",
            "--disable-link-check"]
    try:
        p = subprocess.run(argv, input="quit\n", capture_output=True,
                           text=True, timeout=30)
    except subprocess.TimeoutExpired:
        h.fail("testpmd with --vdev %s did not quit" % vdev)
    return p.stdout + p.stderr


def main():
    args = h.parse_args(__doc__)
    h.require(args, server=False)
    wd = h.Workdir("devargs")
    h._cleanups.append(lambda: os.path.exists(SHM) and os.unlink(SHM))
    for n, (devargs, want) in enumerate(CASES):
        out = run(args.plugin, wd, n, devargs)
        line = next((ln for ln in out.splitlines()
                     if ln.startswith("net_ivshmem:")), "")
        h.check(want in out and "Port 0:" not in out,
                "%-40s -> %s" % (devargs or "(none)", line or "no message"))
    out = run(args.plugin, wd, len(CASES),
              "shm=%s,id=0,size=4M,mac=02:00:00:00:00:07" % SHM)
    h.check("Port 0: 02:00:00:00:00:07" in out,
            "a valid shm= vdev is probed, with the given MAC")
    print("PASS")


if __name__ == "__main__":
    main()
