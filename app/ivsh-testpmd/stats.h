/* SPDX-License-Identifier: BSD-3-Clause */
/* Live statistics line and the final summary (text and JSON). */
#ifndef TESTPMD_STATS_H
#define TESTPMD_STATS_H

#include <stdint.h>

struct testpmd;

/** Remember the counters at the start of traffic. */
void stats_start(struct testpmd *tp);

/** Print one live line: rates since the previous line, drops, link. */
void stats_live(struct testpmd *tp);

/** Print the final summary (text to stdout, or stderr with --json) and
 *  the JSON line when asked. @p elapsed_ns: traffic time. */
void stats_final(struct testpmd *tp, uint64_t elapsed_ns);

/** Packets lost as the report counts them (see doc/ivsh-testpmd.md). */
uint64_t stats_lost(const struct testpmd *tp);

#endif /* TESTPMD_STATS_H */
