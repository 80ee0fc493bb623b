#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""QEMU guest scenarios of the 'vm' test suite.

    vmrun.py --build BUILD SCENARIO      run one scenario (exit 0/1, 77 = skip)
    vmrun.py --build BUILD --list        list the scenarios
    vmrun.py --build BUILD --prepare     only fetch the kernel and build the initramfs

How it works:
  * Assets (once per build folder, in BUILD/test/vm/cache): Debian's kernel
    package (the one linux-image-amd64 depends on) and busybox-static are
    fetched with `apt-get download` and unpacked with `dpkg -x`; an initramfs
    is built from busybox, the modules the guests need (with their
    dependencies, `depmod -b`) and the init script below.
  * Guests: QEMU TCG (`-accel tcg -cpu max -M q35 -device intel-iommu`),
    -m 512, -smp 1, no disk. The host's / is shared read-only over 9p and
    the guest chroots into it, so it runs the build tree's binaries at the
    same paths; a per-run folder is shared writable at its own path and
    receives the guest's logs and exit status. The guest's init runs
    RUN/guestN.sh, then powers off.
  * The ivshmem server is the build's ivsh-server; guests get
    ivshmem-doorbell at 0000:00:04.0 (or ivshmem-plain on a shared file).
  * Everything started is killed and the run folder removed at the end.
"""

import argparse
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
BDF = "0000:00:04.0"
MODULES = ["virtio_pci", "9pnet_virtio", "9p", "vfio", "vfio_iommu_type1",
           "vfio-pci", "uio_pci_generic"]

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /host /tmp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
OUT=
N=0
for a in $(cat /proc/cmdline); do
	case "$a" in
	ivsh.out=*) OUT=${a#ivsh.out=} ;;
	ivsh.guest=*) N=${a#ivsh.guest=} ;;
	esac
done
die() { echo "ivsh-init: $*"; poweroff -f; }
for m in $(cat /etc/ivsh-modules); do
	modprobe "$m" || echo "ivsh-init: modprobe $m failed"
done
O="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$O,ro" host /host || die "cannot mount the host's /"
mount -o bind /proc /host/proc
mount -o bind /sys /host/sys
mount -o bind /dev /host/dev
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mkdir -p /host/dev/shm && mount -t tmpfs tmpfs /host/dev/shm
mkdir -p "/host$OUT" 2>/dev/null
mount -t 9p -o "$O" out "/host$OUT" || die "cannot mount the run folder"
echo "ivsh-init: guest $N running $OUT/guest$N.sh"
chroot /host /bin/sh "$OUT/guest$N.sh" >"/host$OUT/guest$N.log" 2>&1
echo $? >"/host$OUT/guest$N.rc"
sync
umount "/host$OUT"
echo "ivsh-init: guest $N done"
poweroff -f
"""


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(msg):
    print(f"vm: {msg}", flush=True)


def tool(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") +
                        ":/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        raise Skip(f"{name} not found (install the package that has it)")
    return path


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def is_static_elf(path):
    """True for an ELF executable without a program interpreter."""
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
                return False
            phoff, = struct.unpack_from("<Q", hdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                ptype, = struct.unpack("<I", f.read(4))
                if ptype == 3:  # PT_INTERP
                    return False
            return True
    except OSError:
        return False


class Assets:
    """Kernel, modules and initramfs, cached in the build folder."""

    def __init__(self, build):
        self.cache = os.path.join(build, "test", "vm", "cache")
        os.makedirs(self.cache, exist_ok=True)

    def fetch(self, pkg):
        debs = sorted(glob.glob(os.path.join(self.cache, pkg + "_*.deb")))
        if debs:
            return debs[-1]
        tool("apt-get")
        r = run(["apt-get", "download", pkg], cwd=self.cache)
        debs = sorted(glob.glob(os.path.join(self.cache, pkg + "_*.deb")))
        if r.returncode != 0 or not debs:
            why = (r.stderr.strip().splitlines() or ["no output"])[-1]
            raise Skip(f"cannot fetch {pkg} with apt-get download: {why}")
        return debs[-1]

    def unpack(self, deb, name):
        dest = os.path.join(self.cache, name)
        stamp = dest + ".stamp"
        if os.path.exists(stamp) and open(stamp).read() == deb:
            return dest
        shutil.rmtree(dest, ignore_errors=True)
        r = run([tool("dpkg"), "-x", deb, dest])
        if r.returncode != 0:
            raise Skip(f"dpkg -x {os.path.basename(deb)} failed: {r.stderr.strip()}")
        with open(stamp, "w") as f:
            f.write(deb)
        return dest

    def kernel_package(self):
        r = run([tool("apt-cache"), "depends", "linux-image-amd64"])
        m = re.search(r"Depends:\s*(linux-image-\S+-amd64)", r.stdout)
        if m is None:
            raise Skip("apt-cache knows no linux-image-amd64 (not a Debian host?)")
        return m.group(1)

    def busybox(self):
        if is_static_elf("/bin/busybox"):
            return "/bin/busybox"
        root = self.unpack(self.fetch("busybox-static"), "busybox")
        path = os.path.join(root, "bin", "busybox")
        if not is_static_elf(path):
            raise Skip("busybox-static has no static /bin/busybox")
        return path

    def prepare(self):
        lock = open(os.path.join(self.cache, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return self._prepare()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _prepare(self):
        kroot = self.unpack(self.fetch(self.kernel_package()), "kernel")
        vmlinuz = sorted(glob.glob(os.path.join(kroot, "boot", "vmlinuz-*")))
        if not vmlinuz:
            raise Skip("the kernel package has no /boot/vmlinuz-*")
        vmlinuz = vmlinuz[-1]
        kver = os.path.basename(vmlinuz)[len("vmlinuz-"):]
        mods = os.path.join(kroot, "lib", "modules", kver)
        busybox = self.busybox()
        key = hashlib.sha256("\n".join(
            [INIT, kver, busybox, " ".join(MODULES)]).encode()).hexdigest()
        initrd = os.path.join(self.cache, "initramfs.cpio.gz")
        stamp = initrd + ".stamp"
        if os.path.exists(stamp) and open(stamp).read() == key:
            return vmlinuz, initrd
        depmod = tool("depmod")
        if not os.path.exists(os.path.join(mods, "modules.dep")):
            r = run([depmod, "-b", kroot, kver])
            if r.returncode != 0:
                raise Skip(f"depmod on the kernel package failed: {r.stderr.strip()}")
        deps = {}
        with open(os.path.join(mods, "modules.dep")) as f:
            for line in f:
                path, _, rest = line.partition(":")
                deps[path] = rest.split()

        def modname(path):
            return os.path.basename(path)[:-3].replace("-", "_")
        by_name = {modname(p): p for p in deps}
        need = set()
        for m in MODULES:
            p = by_name.get(m.replace("-", "_"))
            if p is None:
                continue  # built in
            need.add(p)
            need.update(deps[p])
        stage = tempfile.mkdtemp(prefix="initramfs-", dir=self.cache)
        try:
            for d in ("bin", "etc", "proc", "sys", "dev", "host", "tmp"):
                os.makedirs(os.path.join(stage, d))
            shutil.copy(busybox, os.path.join(stage, "bin", "busybox"))
            with open(os.path.join(stage, "init"), "w") as f:
                f.write(INIT)
            os.chmod(os.path.join(stage, "init"), 0o755)
            with open(os.path.join(stage, "etc", "ivsh-modules"), "w") as f:
                f.write("\n".join(MODULES) + "\n")
            smods = os.path.join(stage, "lib", "modules", kver)
            for p in need:
                os.makedirs(os.path.join(smods, os.path.dirname(p)),
                            exist_ok=True)
                shutil.copy(os.path.join(mods, p), os.path.join(smods, p))
            for extra in ("modules.order", "modules.builtin",
                          "modules.builtin.modinfo"):
                if os.path.exists(os.path.join(mods, extra)):
                    shutil.copy(os.path.join(mods, extra), smods)
            r = run([depmod, "-b", stage, kver])
            if r.returncode != 0:
                raise Skip(f"depmod for the initramfs failed: {r.stderr.strip()}")
            files = run(["find", "."], cwd=stage).stdout
            tmp = initrd + ".tmp"
            with open(tmp, "wb") as out:
                cpio = subprocess.Popen([tool("cpio"), "-o", "-H", "newc",
                                         "--quiet"], cwd=stage,
                                        stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
                gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout,
                                      stdout=out)
                cpio.stdout.close()
                cpio.communicate(files.encode())
                gz.wait()
                if cpio.returncode != 0 or gz.returncode != 0:
                    raise Skip("cpio/gzip of the initramfs failed")
            os.replace(tmp, initrd)
            with open(stamp, "w") as f:
                f.write(key)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        log(f"initramfs built for kernel {kver}")
        return vmlinuz, initrd


class Run:
    """One scenario: its folder, processes and guests; cleaned up at exit."""

    def __init__(self, args, name):
        self.build = os.path.abspath(args.build)
        self.name = name
        self.args = args
        self.procs = []
        self.files = []
        base = os.path.join(self.build, "test", "vm")
        self.dir = tempfile.mkdtemp(prefix=f"run-{name}-", dir=base)
        self.sock = os.path.join(self.dir, "ivsh.sock")
        self.qemu = tool("qemu-system-x86_64")
        self.kernel, self.initrd = Assets(self.build).prepare()
        self.t0 = time.monotonic()

    def path(self, *parts):
        return os.path.join(self.build, *parts)

    def binary(self, rel, what):
        p = self.path(rel)
        if not os.access(p, os.X_OK):
            raise Skip(f"{what} is not built ({rel})")
        return p

    def cleanup(self, keep):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in self.files:
            try:
                os.unlink(f)
            except OSError:
                pass
        if keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, cmd, logname):
        out = open(os.path.join(self.dir, logname), "w")
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL,
                             start_new_session=True)
        out.close()
        self.procs.append(p)
        return p

    def start_server(self, vectors=2, size="4M"):
        if getattr(self.args, "py_server", False):
            cmd = [sys.executable, os.path.abspath(__file__), "--build",
                   self.build, "--serve", self.sock, "4194304",
                   str(vectors)]
        else:
            server = self.binary("app/ivsh-server/ivsh-server", "ivsh-server")
            cmd = [server, "-S", self.sock, "-l", size, "-n", str(vectors),
                   "-F"]
        p = self.spawn(cmd, "server.log")
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if p.poll() is not None or time.monotonic() > deadline:
                raise Fail("ivsh-server did not start: " + self.tail("server.log"))
            time.sleep(0.05)
        return p

    def plain_file(self, size=4 << 20):
        f = f"/dev/shm/ivsh-vm-{os.getpid()}-{len(self.files)}"
        with open(f, "wb") as fh:
            fh.truncate(size)
        self.files.append(f)
        return f

    def boot(self, n, script, device="doorbell", shmfile=None, vectors=2):
        with open(os.path.join(self.dir, f"guest{n}.sh"), "w") as f:
            f.write("#!/bin/sh\n" + f"B='{self.build}'\n" +
                    f"BDF='{BDF}'\n" +
                    "BIND=\"$B/app/ivsh-bind/ivsh-bind\"\n" +
                    "CHK=\"$B/test/vm/ivsh-vmcheck\"\n" +
                    "PMD=\"$B/app/ivsh-testpmd/ivsh-testpmd\"\n" +
                    "echo \"guest $(uname -r) $(date +%s)\"\n" + script)
        if device == "doorbell":
            dev = ["-chardev", f"socket,id=ivs,path={self.sock}",
                   "-device", f"ivshmem-doorbell,chardev=ivs,vectors={vectors},bus=pcie.0,addr=0x4"]
        else:
            dev = ["-object", f"memory-backend-file,id=hm,size={os.path.getsize(shmfile)},mem-path={shmfile},share=on",
                   "-device", "ivshmem-plain,memdev=hm,bus=pcie.0,addr=0x4"]
        cmd = [self.qemu, "-accel", "tcg", "-cpu", "max",
               "-M", "q35", "-m", "512", "-smp", "1",
               "-nodefaults", "-display", "none", "-no-reboot",
               "-device", "intel-iommu,intremap=on",
               "-kernel", self.kernel, "-initrd", self.initrd,
               "-append", f"console=ttyS0 intel_iommu=on panic=-1 loglevel=4 ivsh.out={self.dir} ivsh.guest={n}",
               "-serial", f"file:{os.path.join(self.dir, f'console{n}.log')}",
               "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap",
               "-virtfs", f"local,path={self.dir},mount_tag=out,security_model=none,multidevs=remap",
               ] + dev
        return self.spawn(cmd, f"qemu{n}.log")

    def wait_console(self, n, timeout=20):
        """Wait until guest n prints (so its QEMU has connected)."""
        con = os.path.join(self.dir, f"console{n}.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(con) and os.path.getsize(con) > 0:
                return
            time.sleep(0.1)
        raise Fail(f"guest {n} printed nothing in {timeout} s: " +
                   self.tail(f"qemu{n}.log"))

    def wait_log(self, n, text, timeout):
        """Wait until guest n's log shows @text."""
        name = os.path.join(self.dir, f"guest{n}.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(name, errors="replace") as f:
                    if text in f.read():
                        return
            except OSError:
                pass
            if os.path.exists(os.path.join(self.dir, f"guest{n}.rc")):
                break
            time.sleep(0.2)
        raise Fail(f"guest {n} never printed '{text}':\n" + self.tail(f"guest{n}.log"))

    def wait_guests(self, guests, timeout):
        deadline = time.monotonic() + timeout
        for n, p in guests.items():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise Fail(f"guest {n} still running after {timeout} s; console:\n" +
                           self.tail(f"console{n}.log") + "\nlog:\n" +
                           self.tail(f"guest{n}.log"))
        results = {}
        for n in guests:
            rcf = os.path.join(self.dir, f"guest{n}.rc")
            if not os.path.exists(rcf):
                raise Fail(f"guest {n} did not finish its script; console:\n" +
                           self.tail(f"console{n}.log"))
            results[n] = int(open(rcf).read().strip() or "255")
        return results

    def tail(self, name, lines=25):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return f"({name} missing)"

    def json_lines(self, name):
        out = []
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("{"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        except OSError:
            pass
        return out

    def show(self, n):
        log(f"--- guest {n} log ---\n" + self.tail(f"guest{n}.log", 60))

    def expect(self, cond, what):
        if not cond:
            raise Fail(what)


def py_server(sock_path, size, vectors):
    """Minimal ivshmem server (spec protocol), for harness development only:
    vmrun.py --py-server runs scenarios with it instead of ivsh-server."""
    import selectors
    import socket
    shm = os.memfd_create("ivshmem")
    os.ftruncate(shm, size)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    peers = {}  # id -> (socket, [eventfds])

    def send(c, val, fd=None):
        data = struct.pack("<q", val)
        if fd is None:
            c.sendall(data)
        else:
            socket.send_fds(c, [data], [fd])
    while True:
        for key, _ in sel.select():
            if key.fileobj is lsock:
                c, _ = lsock.accept()
                pid = next(i for i in range(65536) if i not in peers)
                fds = [os.eventfd(0) for _ in range(vectors)]
                send(c, 0)
                send(c, pid)
                send(c, -1, shm)
                for oid, (oc, ofds) in peers.items():
                    for fd in ofds:
                        send(c, oid, fd)
                    for fd in fds:
                        send(oc, pid, fd)
                for fd in fds:
                    send(c, pid, fd)
                peers[pid] = (c, fds)
                sel.register(c, selectors.EVENT_READ, pid)
            else:
                pid = key.data
                c, fds = peers.pop(pid)
                sel.unregister(c)
                c.close()
                for fd in fds:
                    os.close(fd)
                for oc, _ in peers.values():
                    send(oc, pid)


# ---- scenarios ------------------------------------------------------------

def check_pair(r, results, expect):
    """Both guests exited 0 and their ivsh-vmcheck reports match."""
    for n, rc in results.items():
        r.show(n)
    for n, want in expect.items():
        rep = r.json_lines(f"guest{n}.log")
        r.expect(rep, f"guest {n} printed no report (exit {results[n]})")
        rep = rep[-1]
        for k, v in want.items():
            r.expect(rep.get(k) == v,
                     f"guest {n}: {k} is {rep.get(k)!r}, expected {v!r}")
        r.expect(results[n] == 0, f"guest {n} failed (exit {results[n]}): "
                 f"{rep.get('error')}")


ROUNDS = 20


def vmcheck(role, peer, wait, extra=""):
    return (f"\"$CHK\" --device \"$DEV\" --peer {peer} --role {role} "
            f"--wait {wait} --count {ROUNDS} {extra}\n")


def sc_doorbell_vfio(r):
    """Two guests, ivshmem-doorbell via ivsh-server, vfio-pci, MSI-X."""
    r.start_server(vectors=2)
    pre = "\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\nDEV=vfio:$BDF\n"
    g0 = r.boot(0, pre + vmcheck("pong", 1, "irq", "--expect-id 0 --expect-ivpos 0"))
    r.wait_console(0)
    g1 = r.boot(1, pre + vmcheck("ping", 0, "irq", "--expect-id 1 --expect-ivpos 1"))
    res = r.wait_guests({0: g0, 1: g1}, 150)
    want = {"backend": "vfio", "irq_mode": "msix", "vectors": 2,
            "rounds": ROUNDS, "ok": True}
    check_pair(r, res, {0: dict(want, id=0, ivposition=0),
                        1: dict(want, id=1, ivposition=1)})


def sc_poll_uio(r):
    """Two guests, ivshmem-doorbell, uio_pci_generic: no MSI-X, polling."""
    r.start_server(vectors=1)
    pre = "\"$BIND\" --driver uio_pci_generic \"$BDF\" || exit 10\nDEV=uio:$BDF\n"
    g0 = r.boot(0, pre + vmcheck("pong", 1, "poll", "--expect-id 0"), vectors=1)
    r.wait_console(0)
    g1 = r.boot(1, pre + vmcheck("ping", 0, "poll", "--expect-id 1"), vectors=1)
    res = r.wait_guests({0: g0, 1: g1}, 150)
    want = {"backend": "uio", "irq_mode": "none", "rounds": ROUNDS,
            "ok": True}
    check_pair(r, res, {0: dict(want, id=0), 1: dict(want, id=1)})


def sc_plain(r):
    """Two guests, ivshmem-plain on one file: IVPosition 0 for both, id=."""
    f = r.plain_file()
    g0 = r.boot(0, "\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n"
                "DEV=vfio:$BDF,irq=none\n" +
                vmcheck("pong", 1, "poll", "--expect-id 0 --expect-ivpos 0"),
                device="plain", shmfile=f)
    g1 = r.boot(1, "\"$BIND\" --driver uio_pci_generic \"$BDF\" || exit 10\n"
                "DEV=uio:$BDF,id=1\n" +
                vmcheck("ping", 0, "poll", "--expect-id 1 --expect-ivpos 0"),
                device="plain", shmfile=f)
    res = r.wait_guests({0: g0, 1: g1}, 150)
    check_pair(r, res, {0: {"backend": "vfio", "id": 0, "ivposition": 0,
                            "irq_mode": "none", "ok": True},
                        1: {"backend": "uio", "id": 1, "ivposition": 0,
                            "irq_mode": "none", "ok": True}})


def sc_host_guest(r):
    """A host process (server: backend) and a guest (vfio:), both ways."""
    r.start_server(vectors=2)
    chk = r.binary("test/vm/ivsh-vmcheck", "ivsh-vmcheck")
    host = r.spawn([chk, "--device", f"server:{r.sock}", "--peer", "1",
                    "--role", "ping", "--wait", "irq", "--count", str(ROUNDS),
                    "--expect-id", "0", "--hello-ms", "120000"], "host.log")
    time.sleep(0.5)
    g1 = r.boot(1, "\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n"
                "DEV=vfio:$BDF\n" +
                vmcheck("pong", 0, "irq", "--expect-id 1 --expect-ivpos 1"))
    res = r.wait_guests({1: g1}, 150)
    try:
        hrc = host.wait(30)
    except subprocess.TimeoutExpired:
        raise Fail("host peer did not finish")
    log("--- host log ---\n" + r.tail("host.log"))
    check_pair(r, res, {1: {"backend": "vfio", "irq_mode": "msix",
                            "rounds": ROUNDS, "ok": True}})
    rep = r.json_lines("host.log")
    r.expect(hrc == 0 and rep and rep[-1].get("ok") and
             rep[-1].get("irqs", 0) >= ROUNDS, "host peer failed")


CHECKS = r"""
fails=0
bad() { echo "CHECK FAILED: $*"; fails=$((fails+1)); }
must_fail() {
	pat=$1; shift
	out=$("$CHK" --open-only --device "$@" 2>&1); rc=$?
	echo "open $* -> $rc: $out"
	[ $rc -ne 0 ] || bad "opened: $*"
	echo "$out" | grep -qF -- "$pat" || bad "no '$pat' in: $out"
}
must_open() {
	pat=$1; shift
	out=$("$CHK" --open-only --device "$@" 2>&1); rc=$?
	echo "open $* -> $rc: $out"
	[ $rc -eq 0 ] || bad "failed: $*"
	echo "$out" | grep -qF -- "$pat" || bad "no '$pat' in: $out"
}
"$BIND" --list | grep -q "^$BDF driver=none" || bad "list: $("$BIND" --list)"
must_fail "not bound to any driver; bind it with: ivsh-bind --driver vfio-pci $BDF" vfio:$BDF
must_fail "ivsh-bind --driver vfio-pci $BDF" pci:$BDF
must_fail "no such PCI device" vfio:0000:05:00.0
must_fail "not an ivshmem device" uio:0000:00:1f.0
must_fail "not a PCI address" vfio:nonsense
"$BIND" --driver uio_pci_generic "$BDF" || bad "bind uio"
"$BIND" --list
must_open '"backend":"uio","id":0' pci:$BDF
must_open '"irq_mode":"none","vectors":0' uio:$BDF
must_fail "cannot deliver MSI-X" uio:$BDF,irq=msix
must_fail "the device has MSI-X" uio:$BDF,irq=intx-poll
must_fail "bound to uio_pci_generic, not vfio-pci" vfio:$BDF
"$BIND" --driver vfio-pci "$BDF" || bad "rebind vfio"
must_open '"backend":"vfio"' pci:$BDF
must_open '"irq_mode":"msix","vectors":2' vfio:$BDF --self-ring
must_open '"irq_mode":"msix","vectors":1' vfio:$BDF,vectors=1 --self-ring
must_fail "only 2 MSI-X vectors" vfio:$BDF,vectors=3
must_fail "the device has MSI-X" vfio:$BDF,irq=intx
must_open '"irq_mode":"none","vectors":0' vfio:$BDF,irq=none
"$CHK" --open-only --hold-ms 30000 --device vfio:$BDF >/dev/null 2>&1 &
H=$!
sleep 4
must_fail "busy" vfio:$BDF
kill -9 $H
wait $H
# A process killed while it held the device leaves it usable.
must_open '"irq_mode":"msix","vectors":2' vfio:$BDF --self-ring
"$BIND" --unbind "$BDF" || bad "unbind"
"$BIND" --list | grep -q "^$BDF driver=none" || bad "after unbind: $("$BIND" --list)"
echo "checks failed: $fails"
exit $fails
"""


def sc_guest_checks(r):
    """Binding, device strings, error messages, busy and crash recovery."""
    r.start_server(vectors=2)
    g0 = r.boot(0, CHECKS)
    res = r.wait_guests({0: g0}, 150)
    r.show(0)
    r.expect(res[0] == 0, f"{res[0]} checks failed")


# ---- ivsh-testpmd scenarios --------------------------------------------------

FRAMES = 20000


def pmd(engine, peer, mode, count, extra=""):
    """Guest command line: ivsh-testpmd on $DEV (set by the script)."""
    return (f"\"$PMD\" --device \"$DEV\" --peer {peer} --engine {engine} "
            f"--mode {mode} --count {count} --json --wait-link 120 "
            f"--duration 150 {extra}\n")


def pmd_report(r, name):
    """The JSON summary, the xstats and the link messages of a run."""
    reps = r.json_lines(name)
    xstats = {}
    links = []
    ident = None
    try:
        with open(os.path.join(r.dir, name), errors="replace") as f:
            for line in f:
                m = re.match(r"^\s+([a-z_0-9]+)\s+(\d+)\s*$", line)
                if m:
                    xstats[m.group(1)] = int(m.group(2))
                m = re.search(r"link to peer \d+ (up|down)", line)
                if m:
                    links.append(m.group(1))
                m = re.search(r"ready: device (\S+) id (\d+)", line)
                if m:
                    ident = (m.group(1), int(m.group(2)))
    except OSError:
        pass
    return (reps[-1] if reps else {}), xstats, links, ident


def need_testpmd(r):
    r.binary("app/ivsh-testpmd/ivsh-testpmd", "ivsh-testpmd")


def check_txrx(r, res, rx, tx, frames, backend, mode):
    for n in res:
        r.show(n)
    rrep, rx_x, rx_links, rx_id = pmd_report(r, f"guest{rx}.log")
    trep, tx_x, _, tx_id = pmd_report(r, f"guest{tx}.log")
    r.expect(rx_id is not None and rx_id[0] == backend,
             f"guest {rx}: device not opened as {backend}: {rx_id}")
    r.expect(rx_id[1] == rx and tx_id is not None and tx_id[1] == tx,
             f"IDs are {rx_id}/{tx_id}, expected {rx}/{tx}")
    r.expect(trep.get("tx_packets") == frames,
             f"sender sent {trep.get('tx_packets')} of {frames}")
    r.expect(rrep.get("rx_packets") == frames,
             f"receiver got {rrep.get('rx_packets')} of {frames}")
    for k in ("lost", "corrupted", "duplicated", "reordered"):
        r.expect(rrep.get(k) == 0, f"receiver: {k} = {rrep.get(k)}")
    r.expect(rrep.get("mode") == mode, f"receiver mode {rrep.get('mode')}")
    for n, rc in res.items():
        r.expect(rc == 0, f"guest {n} exited {rc}")
    log(f"rx {rrep.get('rx_packets')} frames at {rrep.get('rx_pps', 0):.0f} pps; "
        f"doorbells {tx_x.get('tx_doorbells', 0)}, "
        f"wakeups {rx_x.get('rx_intr_wakeups', 0)}")
    return rrep, rx_x, trep, tx_x


def two_guests(r, script0, script1, device="doorbell", vectors=2,
               shmfile=None, timeout=200):
    g0 = r.boot(0, script0, device=device, vectors=vectors, shmfile=shmfile)
    if device == "doorbell":
        r.wait_console(0)   # its QEMU connected first: ID 0
    else:
        # Same IDs either way; but start the other peer once the master
        # has made the layout (see the report: attaching to a still-zero
        # region fails instead of waiting).
        r.wait_log(0, "ready:", 90)
    g1 = r.boot(1, script1, device=device, vectors=vectors, shmfile=shmfile)
    return r.wait_guests({0: g0, 1: g1}, timeout)


VFIO = "\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n"
UIO = "\"$BIND\" --driver uio_pci_generic \"$BDF\" || exit 10\n"


def sc_pmd_vfio_intr(r):
    """ivsh-testpmd txonly -> rxonly between two vfio guests, MSI-X."""
    need_testpmd(r)
    r.start_server(vectors=2)
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("rxonly", 1, "intr", FRAMES),
        VFIO + "DEV=vfio:$BDF\n" + pmd("txonly", 0, "intr", FRAMES))
    _, rx_x, _, tx_x = check_txrx(r, res, 0, 1, FRAMES, "vfio", "intr")
    r.expect(tx_x.get("tx_doorbells", 0) > 0, "the sender rang no doorbell")
    r.expect(rx_x.get("rx_intr_wakeups", 0) > 0,
             "the receiver was never woken by an interrupt")


def sc_pmd_uio_poll(r):
    """ivsh-testpmd txonly -> rxonly between two uio guests, polling."""
    need_testpmd(r)
    r.start_server(vectors=1)
    res = two_guests(
        r, UIO + "DEV=uio:$BDF\n" + pmd("rxonly", 1, "poll", FRAMES),
        UIO + "DEV=uio:$BDF\n" + pmd("txonly", 0, "poll", FRAMES),
        vectors=1)
    check_txrx(r, res, 0, 1, FRAMES, "uio", "poll")


def sc_pmd_plain(r):
    """ivsh-testpmd over ivshmem-plain: vfio irq=none and uio id=1."""
    need_testpmd(r)
    f = r.plain_file()
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF,irq=none\n" + pmd("rxonly", 1, "poll", FRAMES),
        UIO + "DEV=uio:$BDF,id=1\n" + pmd("txonly", 0, "poll", FRAMES),
        device="plain", shmfile=f)
    check_txrx(r, res, 0, 1, FRAMES, "vfio", "poll")


def sc_pmd_host_guest(r):
    """Host ivsh-testpmd (server:) reflects a guest's (vfio:) latency pings."""
    need_testpmd(r)
    r.start_server(vectors=2)
    count = 1000
    # The reflector runs until stopped: with --count it could exit before
    # the guest took the last reply.
    host = r.spawn([r.path("app/ivsh-testpmd/ivsh-testpmd"), "--device",
                    f"server:{r.sock}", "--peer", "1", "--engine", "io",
                    "--mode", "intr", "--json", "--wait-link", "120",
                    "--duration", "180"], "host.log")
    time.sleep(0.3)
    g1 = r.boot(1, VFIO + "DEV=vfio:$BDF\n" +
                pmd("latency", 0, "intr", count))
    res = r.wait_guests({1: g1}, 200)
    host.send_signal(signal.SIGINT)
    try:
        host.wait(30)
    except subprocess.TimeoutExpired:
        raise Fail("the host ivsh-testpmd did not stop on SIGINT")
    r.show(1)
    log("--- host log ---\n" + r.tail("host.log", 30))
    grep, _, _, gid = pmd_report(r, "guest1.log")
    hrep, _, _, hid = pmd_report(r, "host.log")
    r.expect(hid == ("server", 0) and gid == ("vfio", 1),
             f"host/guest devices {hid}/{gid}")
    r.expect(res[1] == 0 and host.returncode == 0,
             f"guest exit {res[1]}, host exit {host.returncode}")
    r.expect(grep.get("samples") == count and grep.get("lat_lost") == 0,
             f"guest latency samples {grep.get('samples')}, lost {grep.get('lat_lost')}")
    r.expect(hrep.get("rx_packets") == count and hrep.get("tx_packets") == count,
             f"host reflected {hrep.get('rx_packets')}/{hrep.get('tx_packets')}")
    r.expect(grep.get("corrupted") == 0 and hrep.get("corrupted", 0) == 0,
             "corrupted frames")
    log(f"host<->guest round trip p50 {grep.get('p50_ns', 0) / 1000:.1f} us, "
        f"p99 {grep.get('p99_ns', 0) / 1000:.1f} us")


def sc_pmd_latency(r):
    """Latency engine between two vfio guests (figures only)."""
    need_testpmd(r)
    r.start_server(vectors=2)
    count = 2000
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("io", 1, "poll", count),
        VFIO + "DEV=vfio:$BDF\n" + pmd("latency", 0, "poll", count))
    for n in res:
        r.show(n)
    rep, _, _, _ = pmd_report(r, "guest1.log")
    r.expect(res[0] == 0 and res[1] == 0, f"guest exits {res}")
    r.expect(rep.get("samples", 0) > 0, "no latency samples")
    log(f"guest<->guest round trip (TCG, poll): p50 {rep.get('p50_ns', 0) / 1000:.1f} us, "
        f"p99 {rep.get('p99_ns', 0) / 1000:.1f} us, samples {rep.get('samples')}, "
        f"lost {rep.get('lat_lost')}")


def sc_pmd_restart(r):
    """The non-master guest's ivsh-testpmd restarts; traffic resumes intact."""
    need_testpmd(r)
    r.start_server(vectors=2)
    half = FRAMES // 2
    res = two_guests(
        r, VFIO + "DEV=vfio:$BDF\n" + pmd("rxonly", 1, "intr", 2 * half),
        VFIO + "DEV=vfio:$BDF\n" + pmd("txonly", 0, "intr", half) +
        "echo restarting\nsleep 2\n" + pmd("txonly", 0, "intr", half))
    for n in res:
        r.show(n)
    rrep, _, links, _ = pmd_report(r, "guest0.log")
    treps = r.json_lines("guest1.log")
    r.expect(res[0] == 0 and res[1] == 0, f"guest exits {res}")
    r.expect(len(treps) == 2 and all(t.get("tx_packets") == half for t in treps),
             f"sender runs: {[t.get('tx_packets') for t in treps]}")
    r.expect(links[:3] == ["up", "down", "up"],
             f"master's link messages {links}, expected up, down, up")
    r.expect(rrep.get("rx_packets") == 2 * half,
             f"master received {rrep.get('rx_packets')} of {2 * half}")
    for k in ("lost", "corrupted", "duplicated"):
        r.expect(rrep.get(k) == 0, f"master: {k} = {rrep.get(k)}")


SCENARIOS = {
    "doorbell-vfio": sc_doorbell_vfio,
    "poll-uio": sc_poll_uio,
    "plain": sc_plain,
    "host-guest": sc_host_guest,
    "guest-checks": sc_guest_checks,
    "pmd-vfio-intr": sc_pmd_vfio_intr,
    "pmd-uio-poll": sc_pmd_uio_poll,
    "pmd-plain": sc_pmd_plain,
    "pmd-host-guest": sc_pmd_host_guest,
    "pmd-latency": sc_pmd_latency,
    "pmd-restart": sc_pmd_restart,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="meson build folder")
    ap.add_argument("--keep", action="store_true",
                    help="keep the run folder (logs, consoles)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--py-server", action="store_true",
                    help="development aid: use a minimal Python ivshmem server "
                    "instead of ivsh-server")
    ap.add_argument("--serve", nargs=3, metavar=("SOCK", "SIZE", "N"),
                    help="run that minimal server on SOCK (used by --py-server)")
    ap.add_argument("scenario", nargs="?")
    args = ap.parse_args()
    if args.serve:
        py_server(args.serve[0], int(args.serve[1]), int(args.serve[2]))
        return 0
    if args.list:
        for k, f in SCENARIOS.items():
            print(f"{k:16} {f.__doc__}")
        return 0
    try:
        if not os.path.exists("/usr/bin/qemu-system-x86_64") and \
                shutil.which("qemu-system-x86_64") is None:
            raise Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
        if args.prepare:
            Assets(os.path.abspath(args.build)).prepare()
            return 0
        if args.scenario not in SCENARIOS:
            print(f"vmrun.py: unknown scenario '{args.scenario}' (see --list)",
                  file=sys.stderr)
            return 2
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    r = None
    ok = False
    t0 = time.monotonic()
    old = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        r = Run(args, args.scenario)
        SCENARIOS[args.scenario](r)
        ok = True
        log(f"PASS {args.scenario} in {time.monotonic() - t0:.1f} s")
        return 0
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    except Fail as e:
        log(f"FAIL {args.scenario} after {time.monotonic() - t0:.1f} s: {e}")
        return 1
    finally:
        if r is not None:
            r.cleanup(args.keep)
        signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":
    sys.exit(main())
