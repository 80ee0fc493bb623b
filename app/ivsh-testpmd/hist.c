/* SPDX-License-Identifier: BSD-3-Clause */
#include "hist.h"

#include <string.h>

static unsigned int bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned int)v;
	unsigned int msb = 63u - (unsigned int)__builtin_clzll(v);
	unsigned int shift = msb - HIST_SUB_BITS;
	/* exponent group (shift + 1), sub-bucket from the bits below msb */
	return (shift + 1) * HIST_SUB +
	       (unsigned int)((v >> shift) & (HIST_SUB - 1));
}

/* Upper bound of a bucket's values (so percentiles never under-report). */
static uint64_t bucket_top(unsigned int b)
{
	if (b < HIST_SUB)
		return b;
	unsigned int shift = b / HIST_SUB - 1;
	uint64_t base = (uint64_t)(HIST_SUB + b % HIST_SUB) << shift;

	return base + ((1ull << shift) - 1);
}

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_add(struct hist *h, uint64_t v)
{
	unsigned int b = bucket_of(v);

	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	h->bucket[b]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)((double)h->count * pct / 100.0 + 0.5);
	uint64_t seen = 0;

	if (rank < 1)
		rank = 1;
	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t top = bucket_top(b);

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
