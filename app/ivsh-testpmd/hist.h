/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear latency histogram: 64 linear sub-buckets per power of two,
 * so any percentile is within 1/64 (1.6%) of the true value, in a fixed
 * 33 KiB whatever the sample count. Min, max and mean are exact.
 */
#ifndef TESTPMD_HIST_H
#define TESTPMD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (64u * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/** The value below which @p pct percent of samples fall (0 if empty). */
uint64_t hist_percentile(const struct hist *h, double pct);

#endif /* TESTPMD_HIST_H */
