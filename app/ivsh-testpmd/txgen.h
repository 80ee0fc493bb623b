/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame generator shared by txonly and flowgen. */
#ifndef TESTPMD_TXGEN_H
#define TESTPMD_TXGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "testpmd.h"


/** Build the frame templates of every queue (headers, fill). */
int txgen_init(struct testpmd *tp);

/** @p n, or fewer if --count leaves fewer frames to build. */
uint64_t txgen_budget(const struct testpmd *tp, uint64_t n);

/** Number frame @p buf (the queue's next sequence number, the next flow
 *  if @p flows), with its checksum when verifying. Inline: it runs per
 *  frame. */
static inline void txgen_stamp_next(struct testpmd *tp, struct tp_queue *q,
				    uint8_t *buf, uint32_t len, bool flows)
{
	if (flows) {
		pkt_set_flow(buf, q->flow);
		q->flow = q->flow + 1 < tp->conf.flows ? q->flow + 1 : 0;
	}
	pkt_stamp(buf, len, q->id, tp->session, q->tx_seq++, tp->conf.verify);
}

/**
 * Send what is pending; when nothing is, build a new burst (numbered,
 * bounded by --count), cycling flows if @p flows. Frames the ring refuses
 * stay pending and go first next time, so numbers are never skipped.
 * @return frames accepted by the port.
 */
unsigned int txgen_run(struct testpmd *tp, struct tp_queue *q, bool flows);

#endif /* TESTPMD_TXGEN_H */
