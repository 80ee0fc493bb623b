/* SPDX-License-Identifier: BSD-3-Clause */
/* flowgen: like txonly, cycling source address and port over --flows flows. */
#include "engine.h"
#include "testpmd.h"
#include "txgen.h"

static unsigned int flowgen_run(struct testpmd *tp, struct tp_queue *q)
{
	return txgen_run(tp, q, true);
}

const struct engine engine_flowgen = {
	.name = "flowgen",
	.help = "txonly over --flows source IP/UDP port pairs",
	.generates = true,
	.counts = COUNT_TX,
	.transmits = true,
	.init = txgen_init,
	.run = flowgen_run,
};
