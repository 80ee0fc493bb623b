# SPDX-License-Identifier: BSD-3-Clause
"""Live migration of the master (ivsh-migrate) and QEMU's guards.

The master guest cannot be a harness guest: the host's / shared over 9p
blocks migration while it is mounted. It boots the harness's initramfs
with a second archive appended (the kernel unpacks both; later files
win): its own /init, ivsh-testpmd with its libraries, and a script. It
has no 9p and writes to its serial console only; the destination QEMU
(started with -incoming) writes the rest of that console to another file.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from scenarios_life import BINDER, guest_log, header, wait_text
from scenarios_pmd import need_testpmd
from vmlib import Assets, Fail, Skip, log, run, tool

STANDALONE_INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
for m in $(cat /etc/ivsh-modules); do modprobe "$m" 2>/dev/null; done
echo "ivsh-standalone: running"
sh /ivsh/run.sh 2>&1
echo "ivsh-standalone: done rc=$?"
poweroff -f
"""

FRAMES1 = 2000   # before the migration
FRAMES2 = 3000   # after it


def overlay_initrd(r, script, programs):
    """The harness's initramfs plus an archive with /init, @programs (and
    the libraries they need) in /ivsh, and /ivsh/run.sh = @script."""
    _, base = Assets(r.build).prepare()
    stage = tempfile.mkdtemp(prefix="overlay-", dir=r.dir)
    try:
        libdir = os.path.join(stage, "lib", "x86_64-linux-gnu")
        os.makedirs(libdir)
        os.makedirs(os.path.join(stage, "lib64"))
        os.makedirs(os.path.join(stage, "ivsh"))
        for prog in programs:
            shutil.copy(prog, os.path.join(stage, "ivsh"))
            out = run(["ldd", prog]).stdout
            for line in out.splitlines():
                parts = line.split()
                path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
                if not path.startswith("/"):
                    continue
                dest = (os.path.join(stage, "lib64") if "ld-linux" in path
                        else libdir)
                shutil.copy(os.path.realpath(path),
                            os.path.join(dest, os.path.basename(path)))
        with open(os.path.join(stage, "init"), "w") as f:
            f.write(STANDALONE_INIT)
        os.chmod(os.path.join(stage, "init"), 0o755)
        with open(os.path.join(stage, "ivsh", "run.sh"), "w") as f:
            f.write(script)
        files = run(["find", "."], cwd=stage).stdout
        cpio = subprocess.run([tool("cpio"), "-o", "-H", "newc", "--quiet"],
                              cwd=stage, input=files.encode(),
                              capture_output=True)
        if cpio.returncode != 0:
            raise Skip("cpio failed for the master's initramfs")
        out = os.path.join(r.dir, "master-initrd.cpio")
        with open(out, "wb") as o, open(base, "rb") as b:
            o.write(b.read())
            # gzip members end on their own; the kernel wants the next
            # archive 4-byte aligned.
            o.write(b"\0" * (-o.tell() % 4))
            o.write(cpio.stdout)
        return out
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def master_qemu(r, initrd, sock, console, qmp, incoming=None, serial=None):
    """The master's QEMU: ivshmem-doorbell master=on at 0000:00:04.0 on
    @sock, no 9p; identical on the source and the destination. @serial:
    a socket the host can type into (the console is still logged)."""
    qemu = tool("qemu-system-x86_64")
    kernel, _ = Assets(r.build).prepare()
    cmd = [qemu, "-accel", "tcg", "-cpu", "max", "-M", "q35", "-m", "256",
           "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
           "-device", "intel-iommu,intremap=on",
           "-kernel", kernel, "-initrd", initrd,
           "-append", "console=ttyS0 intel_iommu=on no_timer_check panic=-1 "
           "loglevel=4",
           ] + (["-chardev", f"socket,id=ser,path={serial},server=on,"
                 f"wait=off,logfile={os.path.join(r.dir, console)}",
                 "-serial", "chardev:ser"] if serial else
                ["-serial", f"file:{os.path.join(r.dir, console)}"]) + [
           "-chardev", f"socket,id=ivsc,path={sock}",
           "-device", "ivshmem-doorbell,chardev=ivsc,vectors=2,master=on,"
           "bus=pcie.0,addr=0x4,id=ivs",
           "-qmp", f"unix:{qmp},server=on,wait=off"]
    if incoming:
        cmd += ["-incoming", incoming]
    return r.spawn(cmd, console.replace("console", "qemu"))


def start_server(r, name, shmfile, pins):
    server = r.binary("app/ivsh-server/ivsh-server", "ivsh-server")
    sock = os.path.join(r.dir, f"{name}.sock")
    cmd = [server, "-F", "-S", sock, "-l", "4M", "-n", "2", "-m", shmfile,
           "--safe-ids"]
    for i in pins:
        cmd += ["--id-socket", f"{i}={os.path.join(r.dir, f'{name}-id{i}.sock')}"]
    p = r.spawn(cmd, f"{name}.log")
    deadline = time.monotonic() + 10
    while not all(os.path.exists(os.path.join(r.dir, f"{name}-id{i}.sock"))
                  for i in pins):
        if p.poll() is not None or time.monotonic() > deadline:
            raise Fail(f"{name} server did not start: " + r.tail(f"{name}.log"))
        time.sleep(0.05)
    return p


def text(r, name):
    try:
        with open(os.path.join(r.dir, name), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_file_text(r, name, needle, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if needle in text(r, name):
            return
        time.sleep(0.1)
    raise Fail(f"{name} never showed '{needle}' in {timeout} s:\n" +
               r.tail(name))


def sc_migrate_master(r):
    """ivsh-migrate: unplug the peer, migrate the master to a second
    server, plug the peer back in; layout, marker, IDs (the master's 0,
    a host peer's pinned 2, the guest peer's 1) and traffic survive."""
    need_testpmd(r)
    migrate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "..", "app", "ivsh-migrate", "ivsh-migrate")
    src_shm = r.plain_file()
    dst_shm = r.plain_file()
    start_server(r, "src", src_shm, [0, 2])
    start_server(r, "dst", dst_shm, [0, 2])
    # The master: a txonly session, then a second one when the host types
    # "go" on its console (after the migration, on the destination).
    script = ("BDF=0000:00:04.0\n"
              "echo vfio-pci > /sys/bus/pci/devices/$BDF/driver_override\n"
              "echo $BDF > /sys/bus/pci/drivers_probe\n"
              "P=\"/ivsh/ivsh-testpmd --device vfio:$BDF --peer 1 "
              "--engine txonly --mode intr --json --wait-link 240 "
              "--duration 280 --max-peers 3\"\n"
              f"$P --count {FRAMES1}\necho \"session 1 exit $?\"\n"
              "read GO </dev/ttyS0\necho \"got $GO\"\n"
              f"$P --count {FRAMES2}\necho \"session 2 exit $?\"\n")
    initrd = overlay_initrd(r, script, [r.path("app/ivsh-testpmd/ivsh-testpmd")])
    qmp_src = r.qmp_path(8)
    qmp_dst = r.qmp_path(9)
    master_qemu(r, initrd, os.path.join(r.dir, "src-id0.sock"),
                "console-src.log", qmp_src)
    wait_file_text(r, "console-src.log", "ready: device vfio id 0", 90)
    # A host peer of the server on ID 2's socket: it disconnects before
    # the migration and connects to the destination's ID 2 socket after.
    tp = r.path("app/ivsh-testpmd/ivsh-testpmd")

    def host_peer(server, logname):
        return r.spawn([tp, "--device", "server:" + os.path.join(
            r.dir, f"{server}-id2.sock"), "--peer", "0", "--engine", "rxonly",
            "--mode", "poll", "--duration", "200"], logname)
    h1 = host_peer("src", "host-src.log")
    wait_file_text(r, "host-src.log", "ready:", 30)
    # The peer: ivshmem-plain (hot-pluggable under TCG) with id=1; one
    # session, then one that re-attaches across the migration.
    peer = ("\"$BIND\" --driver vfio-pci \"$BDF\" || exit 10\n" + BINDER +
            "P=\"$PMD --device vfio:$BDF,irq=none,id=1 --peer 0 --engine "
            "rxonly --mode poll --json --wait-link 120 --duration 280\"\n"
            f"$P --count {FRAMES1}\necho \"session 1 exit $?\"\n"
            f"$P --count {FRAMES2} --reattach\necho \"session 2 exit $?\"\n")
    g1 = r.boot(1, peer, device="plain", shmfile=src_shm, hotplug=True)
    wait_text(r, 1, "session 1 exit", 120)
    t = time.monotonic()
    while guest_log(r, 1).count("ready: device vfio id 1") < 2:
        if time.monotonic() - t > 30:
            raise Fail("peer session 2 did not start:\n" + r.tail("guest1.log"))
        time.sleep(0.1)
    h1.send_signal(2)  # the host peer "unplugs": it disconnects
    h1.wait(20)
    before = header(src_shm)
    r.expect(before[1] != 0, "the master wrote no layout identity")
    # The destination connects to its server (ID 0's socket) at once.
    master_qemu(r, initrd, os.path.join(r.dir, "dst-id0.sock"),
                "console-dst.log", qmp_dst,
                incoming=f"unix:{os.path.join(r.dir, 'mig.sock')}",
                serial=os.path.join(r.dir, "ser-dst.sock"))
    t = time.monotonic()
    while not os.path.exists(qmp_dst):
        if time.monotonic() - t > 20:
            raise Fail("destination QEMU did not start: " + r.tail("qemu-dst.log"))
        time.sleep(0.05)
    cmd = [sys.executable, migrate, "--source", qmp_src, "--dest", qmp_dst,
           "--uri", f"unix:{os.path.join(r.dir, 'mig.sock')}",
           "--peer", r.qmp_path(1), "ivs",
           "--plug-object", r.qmp_path(1),
           f"memory-backend-file,id=hm2,size={4 << 20},mem-path={dst_shm},share=on",
           "--plug", r.qmp_path(1), "ivshmem-plain,id=ivs2,memdev=hm2,bus=rp2",
           "--json"]
    p = run(cmd, timeout=240)
    log(f"ivsh-migrate: exit {p.returncode}: {p.stdout.strip()} {p.stderr.strip()}")
    if p.returncode != 0:
        raise Fail(f"ivsh-migrate failed: {p.stderr.strip()}")
    steps = json.loads(p.stdout.strip().splitlines()[-1])
    t_plug = time.monotonic()
    h2 = host_peer("dst", "host-dst.log")
    wait_text(r, 1, "re-attached", 60)
    reattached = time.monotonic() - t_plug
    # Type "go", then hang up: a client that does not read would stall
    # the console (the log file still gets everything).
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as ser:
        ser.connect(os.path.join(r.dir, "ser-dst.sock"))
        ser.sendall(b"go\n")
        wait_file_text(r, "console-dst.log", "got go", 30)
    wait_file_text(r, "console-dst.log", "session 2 exit", 120)
    res = r.wait_guests({1: g1}, 120)
    wait_file_text(r, "host-dst.log", "ready:", 30)
    h2.send_signal(2)
    h2.wait(20)
    wait_file_text(r, "console-dst.log", "ivsh-standalone: done", 60)
    r.show(1)
    log("--- master console (destination) ---\n" + r.tail("console-dst.log", 30))
    log(f"steps (s): {steps}; plugged -> peer re-attached {reattached:.2f} s "
        "(guest log polled every 50 ms)")
    after = header(dst_shm)
    m_src = text(r, "console-src.log")
    m_dst = text(r, "console-dst.log")
    mrep = [json.loads(l) for l in (m_src + m_dst).splitlines()
            if l.startswith("{\"engine\"")]
    preps = r.json_lines("guest1.log")
    r.expect(after == before, f"layout header (epoch, identity) {before} on the "
             f"source, {after} on the destination: not migrated intact")
    r.expect("ready: device vfio id 0" in m_src, "master's ID on the source")
    r.expect("client 0 connected" in text(r, "dst.log"),
             "the destination master did not get ID 0")
    r.expect("ready: device server id 2" in text(r, "host-src.log") and
             "ready: device server id 2" in text(r, "host-dst.log"),
             "the host peer did not get ID 2 on both servers: " +
             r.tail("host-src.log", 3) + r.tail("host-dst.log", 3))
    r.expect(guest_log(r, 1).count("ready: device vfio id 1") == 3,
             "the peer did not keep ID 1")
    r.expect("re-attached to vfio:0000:02:00.0" in guest_log(r, 1),
             "the peer did not re-attach on the re-plugged device")
    r.expect(len(preps) == 2 and preps[0].get("rx_packets") == FRAMES1 and
             preps[1].get("rx_packets") == FRAMES2,
             f"peer received {[x.get('rx_packets') for x in preps]}, "
             f"expected [{FRAMES1}, {FRAMES2}]")
    for rep in preps:
        for k in ("lost", "corrupted", "duplicated", "reordered"):
            r.expect(rep.get(k) == 0, f"peer: {k} = {rep.get(k)}")
    r.expect([m.get("tx_packets") for m in mrep] == [FRAMES1, FRAMES2],
             f"master sent {[m.get('tx_packets') for m in mrep]}")
    r.expect("session 2 exit 0" in m_dst, "the master's session across the "
             "migration failed")
    r.expect(res[1] == 0, f"peer guest exit {res[1]}")
    r.expect("session 2 exit 0" in guest_log(r, 1), "peer session 2 failed")


def sc_migrate_guards(r):
    """Migrating a non-master is refused (QEMU's message, one line from
    ivsh-migrate); a master that connects after a peer is refused."""
    migrate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "..", "app", "ivsh-migrate", "ivsh-migrate")
    qemu = tool("qemu-system-x86_64")
    r.start_server(vectors=1)
    base = [qemu, "-accel", "tcg", "-M", "q35", "-m", "64", "-nodefaults",
            "-display", "none", "-S"]

    def q(n, dev, extra=()):
        return r.spawn(base + ["-chardev", f"socket,id=c,path={r.sock}",
                               "-device", dev, "-qmp",
                               f"unix:{r.qmp_path(n)},server=on,wait=off"] +
                       list(extra), f"qemu{n}.log")
    peer = q(0, "ivshmem-doorbell,chardev=c,vectors=1")
    dest = q(1, "ivshmem-doorbell,chardev=c,vectors=1",
             ["-incoming", "defer"])
    for n in (0, 1):
        r.qmp(n).close()
    p = run([sys.executable, migrate, "--source", r.qmp_path(0), "--dest",
             r.qmp_path(1), "--uri", f"unix:{os.path.join(r.dir, 'm.sock')}"],
            timeout=60)
    err = p.stderr.strip()
    log(f"non-master: exit {p.returncode}: {err}")
    r.expect(p.returncode == 1, f"ivsh-migrate exit {p.returncode}, expected 1")
    r.expect(len(err.splitlines()) == 1, f"not one line: {err!r}")
    r.expect("migrate failed" in err and "peer mode" in err,
             f"QEMU's refusal not reported: {err!r}")
    # A master after a peer: QEMU refuses at start-up (ID not 0).
    late = q(2, "ivshmem-doorbell,chardev=c,vectors=1,master=on")
    try:
        late.wait(30)
    except subprocess.TimeoutExpired:
        raise Fail("a master that connected after a peer was accepted")
    msg = r.tail("qemu2.log")
    log(f"late master: exit {late.returncode}: {msg.strip()}")
    r.expect(late.returncode != 0 and "before any peers" in msg,
             f"late master: exit {late.returncode}: {msg}")
    for p in (peer, dest):
        p.terminate()
