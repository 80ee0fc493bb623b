/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring micro-benchmark, one thread (CPU time, robust on a busy machine):
 * enqueue_burst + dequeue_burst of 8-byte elements, called inline (as the
 * header provides them) and through out-of-line wrappers (what a library
 * call would cost).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ivsh_ring.h"

#define RING 1024u
#define BURST 32u

__attribute__((noinline)) static uint32_t
enq_outline(struct ivsh_ring_prod *p, const void *objs, uint32_t n)
{
	return ivsh_ring_enqueue_burst(p, objs, n);
}

__attribute__((noinline)) static uint32_t
deq_outline(struct ivsh_ring_cons *c, void *objs, uint32_t n)
{
	return ivsh_ring_dequeue_burst(c, objs, n);
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	size_t len = ivsh_ring_mem_size(RING, 8);
	void *mem = aligned_alloc(64, len);
	struct ivsh_ring_prod p;
	struct ivsh_ring_cons c;
	uint64_t in[BURST], out[BURST], sum = 0;
	const uint64_t rounds = 5000000;

	if (mem == NULL || ivsh_ring_mem_init(mem, len, RING, 8, 0) < 0 ||
	    ivsh_ring_prod_init(&p, mem, len, RING, 8) < 0 ||
	    ivsh_ring_cons_init(&c, mem, len, RING, 8) < 0) {
		fprintf(stderr, "bench_ring: setup failed\n");
		return 1;
	}
	for (uint32_t i = 0; i < BURST; i++)
		in[i] = i;
	for (int variant = 0; variant < 2; variant++) {
		double t0 = cpu_s();
		for (uint64_t r = 0; r < rounds; r++) {
			uint32_t n;
			if (variant == 0) {
				n = ivsh_ring_enqueue_burst(&p, in, BURST);
				n = ivsh_ring_dequeue_burst(&c, out, n);
			} else {
				n = enq_outline(&p, in, BURST);
				n = deq_outline(&c, out, n);
			}
			sum += out[n - 1];
		}
		double t = cpu_s() - t0;
		printf("%s: %.2f ns per element (enqueue + dequeue, burst %u)\n",
		       variant ? "out-of-line" : "inline",
		       t * 1e9 / (double)(rounds * BURST), BURST);
	}
	free(mem);
	return sum == 0;
}
