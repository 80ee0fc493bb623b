/* SPDX-License-Identifier: BSD-3-Clause */
#include "engine_fwd.h"

#include "testpmd.h"

/* Enough for the peer to drain a few frames at full speed. */
#define FWD_RETRIES 64

unsigned int fwd_back(struct testpmd *tp, struct tp_queue *q, uint16_t n)
{
	uint16_t done = 0;

	for (int tries = 0; done < n && tries <= FWD_RETRIES; tries++) {
		uint16_t sent = ivsh_port_tx_burst(tp->port, q->id,
						   &q->rx[done],
						   (uint16_t)(n - done));

		for (uint16_t i = 0; i < sent; i++)
			q->tx_bytes += q->rx[done + i].len;
		q->tx_packets += sent;
		done = (uint16_t)(done + sent);
		if (done < n && tries == 0)
			q->tx_full++;
		if (tp_stop)
			break;
	}
	q->fwd_dropped += (uint64_t)(n - done);
	return n;
}
