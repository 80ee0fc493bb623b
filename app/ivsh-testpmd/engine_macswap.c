/* SPDX-License-Identifier: BSD-3-Clause */
/* macswap: swap the Ethernet source and destination, send back. */
#include "engine.h"
#include "engine_fwd.h"
#include "pkt.h"
#include "testpmd.h"

static unsigned int macswap_run(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t n = tp_rx(tp, q);

	for (uint16_t i = 0; i < n; i++)
		if (q->rx[i].len >= PKT_ETH_LEN)
			pkt_swap_mac(q->rx[i].data);
	return n ? fwd_back(tp, q, n) : 0;
}

const struct engine engine_macswap = {
	.name = "macswap",
	.help = "swap source and destination MAC, send back",
	.rx_driven = true,
	.counts = COUNT_RX,
	.transmits = true,
	.run = macswap_run,
};
