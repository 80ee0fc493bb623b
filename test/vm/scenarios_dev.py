# SPDX-License-Identifier: BSD-3-Clause
"""Backend-level scenarios: ivsh-vmcheck in guests (and on the host)."""

import subprocess
import time

from vmlib import Fail, log


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
                "\"$CHK\" --open-only --device vfio:$BDF | grep -q '\"irq_mode\":\"none\"' || "
                "{ echo 'auto did not choose none on ivshmem-plain'; exit 11; }\n"
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


def sc_host_pair(r):
    """No guest: two host peers (server:) ping-pong by interrupts (harness
    self-check, runs without QEMU)."""
    r.start_server(vectors=1)
    chk = r.binary("test/vm/ivsh-vmcheck", "ivsh-vmcheck")
    procs = {}
    for me, role in ((0, "pong"), (1, "ping")):
        procs[me] = r.spawn([chk, "--device", f"server:{r.sock}", "--peer",
                             str(1 - me), "--role", role, "--wait", "irq",
                             "--count", str(ROUNDS), "--expect-id", str(me),
                             "--hello-ms", "20000"], f"host{me}.log")
        time.sleep(0.2)  # the first to connect gets ID 0
    for me, p in procs.items():
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            raise Fail(f"host peer {me} did not finish")
        log(f"--- host peer {me} ---\n" + r.tail(f"host{me}.log"))
        rep = r.json_lines(f"host{me}.log")
        r.expect(rc == 0 and rep and rep[-1].get("ok") and
                 rep[-1].get("irqs") == ROUNDS and rep[-1].get("id") == me,
                 f"host peer {me} failed (exit {rc})")


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
echo "holder's device mappings (BAR0 is mapped when there are two):"
grep vfio "/proc/$H/maps"
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
