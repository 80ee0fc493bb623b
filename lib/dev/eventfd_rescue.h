/* SPDX-License-Identifier: BSD-3-Clause */
/* A watchdog that unblocks doorbell writes a peer made block (see
 * eventfd_rescue.c). Private to lib/dev. */
#ifndef IVSH_EVENTFD_RESCUE_H
#define IVSH_EVENTFD_RESCUE_H

/* Before a write() to a peer's eventfd @fd that may block: if it is still
 * blocked after a few ms, the watchdog drains @fd to let it through.
 * @return a slot for eventfd_rescue_end(), or -1 if no watchdog could be
 * had (the write then goes unguarded). */
int eventfd_rescue_begin(int fd);

/* After the write: frees the slot (waits for a rescue under way). */
void eventfd_rescue_end(int slot);

#endif /* IVSH_EVENTFD_RESCUE_H */
