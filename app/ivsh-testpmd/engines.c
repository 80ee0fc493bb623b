/* SPDX-License-Identifier: BSD-3-Clause */
/* The engine table. */
#include <stdio.h>
#include <string.h>

#include "engine.h"

static const struct engine *const engines[] = {
	&engine_io, &engine_mac, &engine_macswap, &engine_txonly,
	&engine_rxonly, &engine_flowgen, &engine_latency,
};

#define NB_ENGINES (sizeof(engines) / sizeof(engines[0]))

const struct engine *engine_find(const char *name)
{
	for (size_t i = 0; i < NB_ENGINES; i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

void engine_list(void)
{
	for (size_t i = 0; i < NB_ENGINES; i++)
		printf("    %-8s %s\n", engines[i]->name, engines[i]->help);
}
