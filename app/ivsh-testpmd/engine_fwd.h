/* SPDX-License-Identifier: BSD-3-Clause */
/* Forwarding back to the peer, shared by io, mac and macswap. */
#ifndef TESTPMD_ENGINE_FWD_H
#define TESTPMD_ENGINE_FWD_H

#include <stdint.h>

struct testpmd;
struct tp_queue;

/**
 * Send q->rx[0..n) back on the same queue, retrying a bounded number of
 * times while the ring is full; what still does not fit is dropped and
 * counted (fwd_dropped), as a NIC's Tx queue would.
 */
unsigned int fwd_back(struct testpmd *tp, struct tp_queue *q, uint16_t n);

#endif /* TESTPMD_ENGINE_FWD_H */
