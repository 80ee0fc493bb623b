#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""QEMU guest scenarios of the 'vm' test suite.

    vmrun.py --build BUILD SCENARIO      run one scenario (exit 0/1, 77 = skip)
    vmrun.py --build BUILD --list        list the scenarios
    vmrun.py --build BUILD --prepare     only fetch the kernel and build the initramfs

Scenarios are in scenarios_dev.py, scenarios_pmd.py, scenarios_life.py
(hot-unplug, re-plug) and scenarios_migrate.py (live migration); how
guests are booted is described in vmlib.py.
"""

import argparse
import os
import shutil
import signal
import sys
import time

# No __pycache__ in the source tree for the modules below.
sys.dont_write_bytecode = True

# Importers (test/integration/dpdk) use these through this module.
from vmlib import SKIP, Assets, Fail, Run, Skip, log, py_server  # noqa: F401
from scenarios_dev import (sc_doorbell_vfio, sc_guest_checks, sc_host_guest,
                           sc_host_pair, sc_plain, sc_poll_uio)
from scenarios_life import sc_replug, sc_unplug_uio, sc_unplug_vfio
from scenarios_migrate import sc_migrate_guards, sc_migrate_master
from scenarios_pmd import (sc_pmd_host_guest, sc_pmd_latency, sc_pmd_plain,
                           sc_pmd_restart, sc_pmd_uio_poll, sc_pmd_vfio_intr)

SCENARIOS = {
    "doorbell-vfio": sc_doorbell_vfio,
    "poll-uio": sc_poll_uio,
    "plain": sc_plain,
    "host-guest": sc_host_guest,
    "host-pair": sc_host_pair,
    "guest-checks": sc_guest_checks,
    "pmd-vfio-intr": sc_pmd_vfio_intr,
    "pmd-uio-poll": sc_pmd_uio_poll,
    "pmd-plain": sc_pmd_plain,
    "pmd-host-guest": sc_pmd_host_guest,
    "pmd-latency": sc_pmd_latency,
    "pmd-restart": sc_pmd_restart,
    "unplug-vfio": sc_unplug_vfio,
    "unplug-uio": sc_unplug_uio,
    "replug": sc_replug,
    "migrate-master": sc_migrate_master,
    "migrate-guards": sc_migrate_guards,
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
