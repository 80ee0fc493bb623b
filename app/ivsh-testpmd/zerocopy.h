/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --zero-copy: frames built straight in the ring's slots (txonly, flowgen)
 * and counted where they arrived (rxonly), through the port's zero-copy
 * calls. Nothing passes through a private buffer unless frames are
 * verified: with --no-verify the sender writes only the headers, as
 * dpdk-testpmd's txonly does into its mbufs.
 */
#ifndef TESTPMD_ZEROCOPY_H
#define TESTPMD_ZEROCOPY_H

#include <stdbool.h>
#include <stdint.h>

struct testpmd;
struct tp_queue;

/** Build and send a burst in reserved slots (bounded by --count), cycling
 *  flows if @p flows. @return frames sent. */
unsigned int zc_txgen_run(struct testpmd *tp, struct tp_queue *q, bool flows);

/** Receive a burst in place, verify it if asked (through a private copy:
 *  a peer may still write the slots), give the slots back.
 *  @return frames received. */
uint16_t zc_rx(struct testpmd *tp, struct tp_queue *q);

#endif /* TESTPMD_ZEROCOPY_H */
