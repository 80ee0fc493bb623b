/* SPDX-License-Identifier: BSD-3-Clause */
/* io: send every received frame back unchanged (also the latency reflector). */
#include "engine.h"
#include "engine_fwd.h"
#include "testpmd.h"

static unsigned int io_run(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t n = tp_rx(tp, q);

	return n ? fwd_back(tp, q, n) : 0;
}

const struct engine engine_io = {
	.name = "io",
	.help = "send every received frame back unchanged (latency reflector)",
	.rx_driven = true,
	.counts = COUNT_RX,
	.transmits = true,
	.run = io_run,
};
