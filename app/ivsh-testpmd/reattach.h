/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-testpmd across a hot-unplug: reporting the removal and, with
 * --reattach, waiting for an ivshmem device to come back (at any PCI
 * address) and attaching to it again as a restart.
 */
#ifndef TESTPMD_REATTACH_H
#define TESTPMD_REATTACH_H

struct testpmd;

/** Exit status of a run that ended because the device was removed. */
#define TP_EXIT_REMOVED 3

/**
 * The device was removed: close the port and the device (which lets the
 * kernel finish the unplug) and say so on stderr, with the time from
 * noticing to release.
 */
void reattach_release(struct testpmd *tp);

/**
 * Wait (until a signal) for an ivshmem device bound to the same driver
 * as the one removed, then open it with the same device options and the
 * port again. Layout identity, epoch and channel resets are the port's
 * business (ivsh_port_open() on a region it was attached to).
 * @return 0 attached again; -EINTR stopped by a signal; -errno when the
 *         new device or port cannot be opened (message printed).
 */
int reattach_wait(struct testpmd *tp);

#endif /* TESTPMD_REATTACH_H */
