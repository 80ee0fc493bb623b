/* SPDX-License-Identifier: BSD-3-Clause */
/* txonly: send numbered, checksummed frames as fast as the ring takes them. */
#include "engine.h"
#include "testpmd.h"
#include "txgen.h"

static unsigned int txonly_run(struct testpmd *tp, struct tp_queue *q)
{
	return txgen_run(tp, q, false);
}

const struct engine engine_txonly = {
	.name = "txonly",
	.help = "send numbered, checksummed frames (pair with rxonly)",
	.generates = true,
	.counts = COUNT_TX,
	.transmits = true,
	.init = txgen_init,
	.run = txonly_run,
};
