/* SPDX-License-Identifier: BSD-3-Clause */
#include "txgen.h"

#include "pkt.h"
#include "testpmd.h"
#include "zerocopy.h"

int txgen_init(struct testpmd *tp)
{
	for (uint16_t i = 0; i < tp->conf.queues; i++) {
		struct tp_queue *q = &tp->q[i];

		for (uint16_t j = 0; j < tp->conf.burst; j++) {
			q->tx[j].len = tp->conf.pkt_len;
			pkt_build(q->tx[j].data, tp->conf.pkt_len, tp->peer_mac,
				  tp->own_mac, 0);
		}
	}
	return 0;
}

uint64_t txgen_budget(const struct testpmd *tp, uint64_t n)
{
	uint64_t left;

	if (tp->conf.count == 0)
		return n;
	left = tp->conf.count > tp->tx_built ? tp->conf.count - tp->tx_built : 0;
	return n < left ? n : left;
}

unsigned int txgen_run(struct testpmd *tp, struct tp_queue *q, bool flows)
{
	if (tp->conf.zero_copy)
		return zc_txgen_run(tp, q, flows);
	if (q->tx_pending == 0) {
		uint64_t n = txgen_budget(tp, tp->conf.burst);

		if (n == 0)
			return 0;
		for (uint16_t i = 0; i < n; i++)
			txgen_stamp_next(tp, q, q->tx[i].data, q->tx[i].len,
					 flows);
		tp->tx_built += n;
		q->tx_first = 0;
		q->tx_pending = (uint16_t)n;
	}
	return tp_tx_pending(tp, q);
}
