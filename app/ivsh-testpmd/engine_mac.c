/* SPDX-License-Identifier: BSD-3-Clause */
/* mac: rewrite the Ethernet addresses (own -> peer) and send back. */
#include "engine.h"
#include "engine_fwd.h"
#include "pkt.h"
#include "testpmd.h"

static unsigned int mac_run(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t n = tp_rx(tp, q);

	for (uint16_t i = 0; i < n; i++)
		if (q->rx[i].len >= PKT_ETH_LEN)
			pkt_set_mac(q->rx[i].data, tp->peer_mac, tp->own_mac);
	return n ? fwd_back(tp, q, n) : 0;
}

const struct engine engine_mac = {
	.name = "mac",
	.help = "set source = own MAC, destination = peer MAC, send back",
	.rx_driven = true,
	.counts = COUNT_RX,
	.transmits = true,
	.run = mac_run,
};
