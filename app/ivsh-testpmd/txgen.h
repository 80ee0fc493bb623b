/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame generator shared by txonly and flowgen. */
#ifndef TESTPMD_TXGEN_H
#define TESTPMD_TXGEN_H

#include <stdbool.h>
#include <stdint.h>

struct testpmd;
struct tp_queue;

/** Build the frame templates of every queue (headers, fill). */
int txgen_init(struct testpmd *tp);

/** @p n, or fewer if --count leaves fewer frames to build. */
uint64_t txgen_budget(const struct testpmd *tp, uint64_t n);

/**
 * Send what is pending; when nothing is, build a new burst (numbered,
 * bounded by --count), cycling flows if @p flows. Frames the ring refuses
 * stay pending and go first next time, so numbers are never skipped.
 * @return frames accepted by the port.
 */
unsigned int txgen_run(struct testpmd *tp, struct tp_queue *q, bool flows);

#endif /* TESTPMD_TXGEN_H */
