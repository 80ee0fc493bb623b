/* SPDX-License-Identifier: BSD-3-Clause */
/* rxonly: receive, verify every frame, account sequence numbers. */
#include "engine.h"
#include "testpmd.h"
#include "zerocopy.h"

static unsigned int rxonly_run(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t n;

	if (tp->conf.zero_copy)
		return zc_rx(tp, q); /* verifies as it goes */
	n = tp_rx(tp, q);
	if (tp->conf.verify)
		for (uint16_t i = 0; i < n; i++)
			tp_check_rx(tp, q->rx[i].data, q->rx[i].len);
	return n;
}

const struct engine engine_rxonly = {
	.name = "rxonly",
	.help = "receive and check frames: lost, reordered, duplicated, corrupted",
	.rx_driven = true,
	.counts = COUNT_RX,
	.run = rxonly_run,
};
