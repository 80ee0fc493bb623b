/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding loop: link upkeep, engine iterations, sleeping, stopping. */
#ifndef TESTPMD_FWD_H
#define TESTPMD_FWD_H

#include <stdint.h>

struct testpmd;

/** Re-evaluate the link (heartbeat), logging changes. @return 1 up. */
int fwd_link_poll(struct testpmd *tp);

/**
 * Wait for the link to come up, keeping the heartbeat going.
 * @return 0 up; -ETIMEDOUT; -EINTR (signal).
 */
int fwd_wait_link(struct testpmd *tp, double timeout_s);

/** Run until a signal, --duration or --count. @return traffic time (ns). */
uint64_t fwd_run(struct testpmd *tp);

#endif /* TESTPMD_FWD_H */
