/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A forwarding engine: what one loop iteration does on one queue.
 * The main loop (fwd.c) owns timing, link state, interrupts and stopping.
 */
#ifndef TESTPMD_ENGINE_H
#define TESTPMD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

struct testpmd;
struct tp_queue;

/** What --count counts for an engine. */
enum engine_count { COUNT_RX, COUNT_TX, COUNT_SAMPLES };

struct engine {
	const char *name;
	const char *help;
	/** Transmits frames of its own (needs the link up, uses --pkt-len). */
	bool generates;
	/** Sleeps on Rx interrupts when idle in --mode intr. */
	bool rx_driven;
	/** Sends frames (its own or forwarded): a --count stop waits until
	 *  the peer has taken them before closing the port. */
	bool transmits;
	enum engine_count counts;
	/** Optional set-up after the port is open. @return 0 or -errno. */
	int (*init)(struct testpmd *tp);
	/** One iteration on queue q. @return frames moved (0: idle). */
	unsigned int (*run)(struct testpmd *tp, struct tp_queue *q);
};

extern const struct engine engine_io;
extern const struct engine engine_mac;
extern const struct engine engine_macswap;
extern const struct engine engine_txonly;
extern const struct engine engine_rxonly;
extern const struct engine engine_flowgen;
extern const struct engine engine_latency;

/** Look an engine up by name. @return NULL if unknown. */
const struct engine *engine_find(const char *name);
/** Print "name  help" for every engine. */
void engine_list(void);

#endif /* TESTPMD_ENGINE_H */
