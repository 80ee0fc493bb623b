# SPDX-License-Identifier: BSD-3-Clause
"""Harness of the 'vm' test suite: assets, guests, servers, cleanup.

How it works:
  * Assets (once per build folder, in BUILD/test/vm/cache): Debian's kernel
    package (the one linux-image-amd64 depends on) and busybox-static (unless
    the installed /bin/busybox is static) are fetched with `apt-get
    download` and unpacked with `dpkg -x`; an initramfs
    is built from busybox, the modules the guests need (with their
    dependencies, `depmod -b`) and the init script below.
  * Guests: QEMU TCG (`-accel tcg -cpu max -M q35 -device intel-iommu`),
    -m 512, -smp 1, no disk. The kernel gets no_timer_check: on a loaded
    host the emulated timer can miss the kernel's early IO-APIC check,
    which then panics ("timer doesn't work through Interrupt-remapped
    IO-APIC"). The host's / is shared read-only over 9p and
    the guest chroots into it, so it runs the build tree's binaries at the
    same paths; a per-run folder is shared writable at its own path and
    receives the guest's logs and exit status. The guest's init runs
    RUN/guestN.sh, then powers off.
  * The ivshmem server is the build's ivsh-server; guests get
    ivshmem-doorbell at 0000:00:04.0 (or ivshmem-plain on a shared file),
    or behind a pcie-root-port for hot-plug (boot(hotplug=True)). Each
    QEMU has a QMP socket: r.qmp(n) returns a client (the one of
    app/ivsh-migrate).
  * Everything started is killed and the run folder removed at the end;
    children also get SIGKILL if the harness itself is killed (a test
    timeout), through PR_SET_PDEATHSIG.
  * Any missing piece (QEMU, the kernel package, a program not built)
    raises Skip: the test exits 77 with the reason.

scripts/ivsh-vm boots the same guests by hand (kvm_probe, qemu_guest_cmd,
ivshmem_args, guest_script, kept_folders; ivsh.console=1 gives the
guest's shell the serial console). The suite always uses TCG.

Use from another test: r = Run(args, NAME) (args.build, args.keep), then
r.start_server(), r.boot(n, SCRIPT), r.wait_guests(), r.json_lines(),
r.expect(), and r.cleanup(keep) in a finally.
"""

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
# A device behind the first pcie-root-port (boot(hotplug=True)); a device
# re-plugged on the second one shows up at REPLUG_BDF.
HOTPLUG_BDF = "0000:01:00.0"
REPLUG_BDF = "0000:02:00.0"
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
KEEP=
CONSOLE=
for a in $(cat /proc/cmdline); do
	case "$a" in
	ivsh.out=*) OUT=${a#ivsh.out=} ;;
	ivsh.guest=*) N=${a#ivsh.guest=} ;;
	ivsh.keep=*) KEEP="$KEEP ${a#ivsh.keep=}" ;;
	ivsh.console=1) CONSOLE=1 ;;
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
# The guest gets fresh, writable /tmp, /run and /dev/shm; a project tree
# that lives below one of them (a clone in /tmp) stays visible through.
i=0
for k in $KEEP; do
	mkdir -p /keep$i && mount -o bind "/host$k" /keep$i || die "cannot keep $k"
	i=$((i + 1))
done
# /tmp 0755: the EAL refuses a -d plugin below a world-writable folder
# (a kept project tree in /tmp); everything in the guest runs as root.
mount -t tmpfs -o mode=0755 tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mkdir -p /host/dev/shm && mount -t tmpfs tmpfs /host/dev/shm
i=0
for k in $KEEP; do
	mkdir -p "/host$k" && mount -o bind /keep$i "/host$k" || die "cannot keep $k"
	i=$((i + 1))
done
mkdir -p "/host$OUT" 2>/dev/null
mount -t 9p -o "$O" out "/host$OUT" || die "cannot mount the run folder"
echo "ivsh-init: guest $N running $OUT/guest$N.sh"
if [ -n "$CONSOLE" ]; then
	# interactive: the script (a shell) owns the serial console
	setsid cttyhack chroot /host /bin/sh "$OUT/guest$N.sh"
else
	chroot /host /bin/sh "$OUT/guest$N.sh" >"/host$OUT/guest$N.log" 2>&1
fi
echo $? >"/host$OUT/guest$N.rc"
sync
umount "/host$OUT"
echo "ivsh-init: guest $N done"
poweroff -f
"""


def die_with_parent():
    """In a child: get SIGKILL when the harness dies, even by SIGKILL (a
    test timeout), so no guest or server outlives it."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


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


def kvm_probe(cache, kernel, timeout=5):
    """Whether KVM guests run here: (True, why) or (False, why). /dev/kvm
    can answer its ioctls while guests still hang before their first
    console line, so a guest kernel is started under KVM and must print
    within @timeout s. The verdict is cached for this host boot."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is missing or not accessible"
    try:
        boot_id = open("/proc/sys/kernel/random/boot_id").read().strip()
    except OSError:
        boot_id = ""
    verdict = os.path.join(cache, "kvm-probe")
    try:
        with open(verdict) as f:
            key, ok, why = f.read().split("\n", 2)
        if key == boot_id + kernel:
            return ok == "1", why.strip()
    except (OSError, ValueError):
        pass
    con = os.path.join(cache, "kvm-probe.console")
    with open(con, "w"):
        pass
    p = subprocess.Popen([tool("qemu-system-x86_64"), "-accel", "kvm",
                          "-cpu", "host", "-M", "q35,kernel-irqchip=split",
                          "-m", "256", "-nodefaults", "-display", "none",
                          "-no-reboot", "-kernel", kernel, "-append",
                          "console=ttyS0 panic=-1", "-serial", f"file:{con}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=die_with_parent)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        if os.path.getsize(con) > 0:
            break
        time.sleep(0.1)
    printed = os.path.getsize(con) > 0
    if p.poll() is None:
        p.kill()
    err = p.communicate()[1].decode(errors="replace").strip()
    if printed:
        ok, why = True, "a KVM guest boots"
    elif err:
        ok, why = False, "QEMU cannot use KVM: " + err.splitlines()[-1]
    else:
        ok, why = False, f"a KVM guest printed nothing in {timeout} s"
    with open(verdict, "w") as f:
        f.write(f"{boot_id}{kernel}\n{int(ok)}\n{why}\n")
    return ok, why


def qemu_guest_cmd(qemu, kernel, initrd, out_dir, n, dev_args, kept=(),
                   kvm=False, console=False, mem=512):
    """QEMU command line of one guest: q35 with an IOMMU (vfio-pci in the
    guest), the host's / over 9p, out_dir writable; KVM or TCG."""
    if kvm:  # intremap=on with an in-kernel irqchip needs it split
        accel = ["-accel", "kvm", "-cpu", "host",
                 "-M", "q35,kernel-irqchip=split"]
    else:    # DPDK needs SSE4.2, which -cpu max has
        accel = ["-accel", "tcg", "-cpu", "max", "-M", "q35"]
    keep = "".join(f" ivsh.keep={k}" for k in kept)
    serial = (["-serial", "mon:stdio"] if console else
              ["-serial", f"file:{os.path.join(out_dir, f'console{n}.log')}"])
    return [qemu] + accel + [
        "-m", str(mem), "-smp", "1",
        "-nodefaults", "-display", "none", "-no-reboot",
        "-device", "intel-iommu,intremap=on",
        "-kernel", kernel, "-initrd", initrd,
        "-append", f"console=ttyS0 intel_iommu=on no_timer_check panic=-1 loglevel=4 "
        f"ivsh.out={out_dir} ivsh.guest={n}{keep}" +
        (" ivsh.console=1" if console else ""),
        "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={out_dir},mount_tag=out,security_model=none,multidevs=remap",
    ] + serial + dev_args


def ivshmem_args(sock=None, shmfile=None, vectors=2, hotplug=False):
    """The ivshmem device, QEMU id 'ivs': doorbell on an ivshmem server's
    socket, or plain on a shared-memory file. At 0000:00:04.0, or with
    hotplug behind a pcie-root-port (rp1; rp2 is free for a re-plug)."""
    where = "bus=rp1,id=ivs" if hotplug else "bus=pcie.0,addr=0x4,id=ivs"
    if sock is not None:
        dev = ["-chardev", f"socket,id=ivsc,path={sock}",
               "-device", f"ivshmem-doorbell,chardev=ivsc,vectors={vectors},{where}"]
    else:
        dev = ["-object", f"memory-backend-file,id=hm,size={os.path.getsize(shmfile)},mem-path={shmfile},share=on",
               "-device", f"ivshmem-plain,memdev=hm,{where}"]
    if hotplug:
        # An empty port gets a small window at boot: reserve room for
        # the 64-bit prefetchable BAR2 of a device plugged in later.
        dev = ["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x5,pref64-reserve=64M",
               "-device", "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x6,pref64-reserve=64M"] + dev
    return dev


def guest_script(build, n, body, bdf=BDF, out=None):
    """A guest's script: the build's programs on PATH, handy variables
    (OUT: the run folder, when the guest has one)."""
    b = os.path.abspath(build)
    path = ":".join(f"{b}/app/{p}" for p in
                    ("ivsh-testpmd", "ivsh-bind", "ivsh-info", "ivsh-server"))
    return ("#!/bin/sh\n" + f"B='{b}'\n" + f"BDF='{bdf}'\n" +
            (f"OUT='{out}'\n" if out else "") +
            f"export IVSH_GUEST={n}\n" + f"export PATH=\"{path}:$PATH\"\n" +
            "BIND=\"$B/app/ivsh-bind/ivsh-bind\"\n" +
            "CHK=\"$B/test/vm/ivsh-vmcheck\"\n" +
            "PMD=\"$B/app/ivsh-testpmd/ivsh-testpmd\"\n" + body)


def kept_folders(paths):
    """Top folders of @paths that lie below a mount point the guest
    replaces with its own tmpfs (/tmp, /run, /dev/shm): the guest's init
    bind-mounts them back."""
    keep = set()
    for path in paths:
        path = os.path.realpath(path)
        for top in ("/tmp/", "/run/", "/dev/shm/"):
            if path.startswith(top):
                keep.add(top + path[len(top):].split("/")[0])
    return sorted(keep)


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
        if len(self.sock) > 100:  # sun_path holds 108 bytes
            self.sock = f"/tmp/ivsh-vm-{os.getpid()}.sock"
            self.files.append(self.sock)
        self.qemu = None  # guest assets: on the first boot()
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
                             preexec_fn=die_with_parent)
        out.close()
        self.procs.append(p)
        return p

    def start_server(self, vectors=2, size="4M"):
        if getattr(self.args, "py_server", False):
            cmd = [sys.executable,
                   os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "vmrun.py"), "--build",
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
        # 0600: ivsh-server -M refuses to reuse a file others could open.
        fd = os.open(f, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        self.files.append(f)
        return f

    def boot(self, n, script, device="doorbell", shmfile=None, vectors=2,
             hotplug=False):
        """Boot guest n. Its device has the QEMU id 'ivs'. hotplug: the
        device sits behind a pcie-root-port (rp1; rp2 is free for a
        re-plug) at HOTPLUG_BDF. Every guest has a QMP socket (qmp(n))."""
        bdf = HOTPLUG_BDF if hotplug else BDF
        with open(os.path.join(self.dir, f"guest{n}.sh"), "w") as f:
            f.write(guest_script(self.build, n,
                                 "echo \"guest $(uname -r) $(date +%s)\"\n" +
                                 script, bdf, self.dir))
        if self.qemu is None:
            self.qemu = tool("qemu-system-x86_64")
            self.kernel, self.initrd = Assets(self.build).prepare()
        dev = ivshmem_args(self.sock if device == "doorbell" else None,
                           shmfile, vectors, hotplug)
        dev += ["-qmp", f"unix:{self.qmp_path(n)},server=on,wait=off"]
        cmd = qemu_guest_cmd(self.qemu, self.kernel, self.initrd, self.dir,
                             n, dev, self.kept_folders())
        return self.spawn(cmd, f"qemu{n}.log")

    def qmp_path(self, n):
        p = os.path.join(self.dir, f"qmp{n}.sock")
        if len(p) > 100:
            p = f"/tmp/ivsh-vm-{os.getpid()}-qmp{n}.sock"
            if p not in self.files:
                self.files.append(p)
        return p

    def qmp(self, n, timeout=20):
        """A QMP connection to guest n's QEMU (waits for its socket)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.qmp_path(n)):
            if time.monotonic() > deadline:
                raise Fail(f"guest {n}: no QMP socket after {timeout} s: " +
                           self.tail(f"qemu{n}.log"))
            time.sleep(0.05)
        try:
            return migrate_tool().Qmp(self.qmp_path(n))
        except migrate_tool().QmpError as e:
            raise Fail(f"guest {n}: {e}")

    def kept_folders(self):
        here = os.path.dirname(os.path.abspath(__file__))
        return kept_folders((self.build, here))

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


_MIGRATE = []


def migrate_tool():
    """app/ivsh-migrate/ivsh-migrate as a module (its QMP client)."""
    if not _MIGRATE:
        import importlib.machinery
        import importlib.util
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "app", "ivsh-migrate", "ivsh-migrate")
        loader = importlib.machinery.SourceFileLoader("ivsh_migrate", path)
        spec = importlib.util.spec_from_loader("ivsh_migrate", loader)
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        _MIGRATE.append(mod)
    return _MIGRATE[0]


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
