#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""An installed plugin is found by DPDK applications with no -d.

`meson install --destdir` puts the build into a private folder; the
plugin must land in the EAL's compiled-in plugin folder (read from
librte_eal itself, not from the build files). Then Debian's dpdk-testpmd
runs with no -d in a private mount namespace in which that folder shows
the installed plugin over the system's own PMDs (a read-only overlay),
the way a real install looks to the EAL, while the rest of the machine
sees no change: it must load the plugin from there and probe a
net_ivshmem port. Without the overlay the same command must fail, so
the plugin really came from the installed folder."""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "dpdk"))
import dpdk_helpers as dh  # noqa: E402


def eal_plugin_dir():
    """The EAL's compiled-in plugin folder, read from librte_eal."""
    out = subprocess.run(["ldd", shutil.which("dpdk-testpmd")],
                         capture_output=True, text=True).stdout
    m = re.search(r"librte_eal\.so\S*\s+=>\s+(\S+)", out)
    if not m:
        dh.fail("dpdk-testpmd is not linked to librte_eal:\n" + out)
    with open(m.group(1), "rb") as f:
        data = f.read()
    found = set(re.findall(rb"(/[\x21-\x7e]*/dpdk/pmds-[0-9.]+)\x00", data))
    if len(found) != 1:
        dh.fail("cannot tell the EAL's plugin folder from %s: %s" %
                (m.group(1), found))
    return found.pop().decode()


def testpmd(wd, name, vdev, overlay=None, libdirs=()):
    """dpdk-testpmd with no -d, asked for port 0's info; when @overlay is
    given, in a private mount namespace with (installed, system) overlaid
    on the system folder. @return (exit code, output)."""
    prefix = "ivsh%d_%s" % (os.getpid(), name)
    dh._cleanups.append(lambda: shutil.rmtree("/var/run/dpdk/" + prefix,
                                              ignore_errors=True))
    cmd = ["dpdk-testpmd", "-l", "0,1", "--main-lcore", "0", "--no-huge", "-m", "256", "--no-pci",
           "--file-prefix", prefix, "--log-level=lib.eal:debug",
           "--vdev", vdev, "--", "-i", "--total-num-mbufs=2048"]
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    if libdirs:
        env["LD_LIBRARY_PATH"] = ":".join(libdirs)
    if overlay:
        installed, system = overlay
        script = ('mount -t overlay ivsh-installed -o ro,lowerdir="$1":"$2" '
                  '"$2" && shift 2 && exec "$@"')
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               script, "sh", installed, system] + cmd
    r = subprocess.run(cmd, input="show port info 0\nquit\n",
                       capture_output=True, text=True, env=env, timeout=60)
    with open(wd.file(name + ".log"), "w") as f:
        f.write(r.stdout + r.stderr)
    return r.returncode, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", default="")
    ap.add_argument("--skip-reason", default="")
    ap.add_argument("--build", required=True)
    ap.add_argument("--meson", required=True)
    ap.add_argument("--pmd-dir", required=True,
                    help="where meson installs the plugin")
    args = ap.parse_args()
    if not args.plugin or not os.path.isfile(args.plugin):
        dh.skip("net_ivshmem plugin not built: " + (args.skip_reason or "?"))
    if shutil.which("dpdk-testpmd") is None:
        dh.skip("dpdk-testpmd not found (apt-get install dpdk-dev)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        dh.skip("needs root and unshare(1) for a private mount namespace")
    system = eal_plugin_dir()
    dh.check(os.path.normpath(args.pmd_dir) == system,
             "meson installs the plugin into the EAL's plugin folder (%s)" %
             system)
    if os.path.exists(os.path.join(system, "librte_net_ivshmem.so")):
        dh.skip("a plugin is already installed in " + system +
                ": this test installs into a private folder only")

    wd = dh.Workdir("installed")
    dest = wd.file("dest")
    r = subprocess.run([args.meson, "install", "-C", args.build,
                        "--no-rebuild", "--quiet", "--destdir", dest],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        dh.fail("meson install failed: " + (r.stderr or r.stdout)[-1500:])
    installed = dest + system
    plugin = os.path.join(installed, "librte_net_ivshmem.so")
    dh.check(os.path.isfile(plugin), "meson install put the plugin in "
             "DESTDIR%s" % system)
    libs = sorted({os.path.dirname(p) for p in
                   glob.glob(dest + "/**/libivsh_net.so*", recursive=True)})
    dh.check(len(libs) == 1, "libivsh_net installed once (%s)" % libs)
    r = subprocess.run(["readelf", "-d", plugin], capture_output=True,
                       text=True)
    dh.check("RUNPATH" not in r.stdout and "RPATH" not in r.stdout,
             "the installed plugin has no build-tree RUNPATH")

    shm = "/dev/shm/ivsh-installed-%d" % os.getpid()
    vdev = "net_ivshmem0,shm=%s,id=0,size=4M" % shm
    dh._cleanups.append(lambda: os.path.exists(shm) and os.unlink(shm))
    code, out = testpmd(wd, "without", vdev)
    dh.check(code != 0 and 'failed to parse device "net_ivshmem0"' in out,
             "without the installed folder, no -d: the EAL knows no "
             "net_ivshmem (exit %d)" % code)
    # ldconfig would make the installed libraries known; LD_LIBRARY_PATH
    # does the same for this one process.
    code, out = testpmd(wd, "installed", vdev, overlay=(installed, system),
                        libdirs=libs)
    loaded = "open shared lib %s/librte_net_ivshmem.so" % system
    if code != 0 or loaded not in out:
        print("\n".join(out.splitlines()[-30:]))
    dh.check(loaded in out, "the EAL loaded the plugin from its own folder, "
             "with no -d ('%s')" % loaded)
    dh.check(code == 0 and re.search(r"Driver name:\s+net_ivshmem", out),
             "dpdk-testpmd probed a net_ivshmem port (exit %d)" % code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
