/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two pinned threads move IVSH_STRESS_COUNT (default 10^8) sequence
 * numbers through a ring whose indices start near UINT32_MAX, with uneven
 * bursts, bulk calls and zero-copy on both sides; every element is checked.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_ring.h"
#include "test_cpu.h"

#define RING 1024u

struct shared {
	void *mem;
	size_t len;
	uint64_t count;
	pthread_barrier_t go;
	uint64_t errors;
};

static void *producer(void *arg)
{
	struct shared *s = arg;
	struct ivsh_ring_prod p;
	uint64_t buf[64];
	uint64_t seq = 0;
	unsigned int r = 1;

	test_pin_self(0);
	if (ivsh_ring_prod_init(&p, s->mem, s->len, RING, sizeof(uint64_t)) < 0)
		abort();
	pthread_barrier_wait(&s->go);
	while (seq < s->count) {
		r = r * 1103515245u + 12345u;
		uint32_t n = 1 + (r >> 16) % 48;
		if (n > s->count - seq)
			n = (uint32_t)(s->count - seq);
		switch ((r >> 8) & 3) {
		case 0: /* zero copy */
			n = ivsh_ring_prod_reserve(&p, n, false);
			for (uint32_t i = 0; i < n; i++)
				*(uint64_t *)ivsh_ring_prod_elem(&p, i) = seq + i;
			ivsh_ring_prod_commit(&p, n);
			break;
		case 1: /* bulk */
			for (uint32_t i = 0; i < n; i++)
				buf[i] = seq + i;
			n = ivsh_ring_enqueue_bulk(&p, buf, n);
			break;
		default:
			for (uint32_t i = 0; i < n; i++)
				buf[i] = seq + i;
			n = ivsh_ring_enqueue_burst(&p, buf, n);
			break;
		}
		seq += n;
		if (n == 0)
			sched_yield();
	}
	s->errors += p.bad_index;
	return NULL;
}

static void *consumer(void *arg)
{
	struct shared *s = arg;
	struct ivsh_ring_cons c;
	uint64_t buf[64];
	uint64_t seq = 0;
	unsigned int r = 7;

	test_pin_self(1);
	if (ivsh_ring_cons_init(&c, s->mem, s->len, RING, sizeof(uint64_t)) < 0)
		abort();
	pthread_barrier_wait(&s->go);
	while (seq < s->count) {
		r = r * 1103515245u + 12345u;
		uint32_t n = 1 + (r >> 16) % 64, got;
		if ((r >> 8) & 1) {
			got = ivsh_ring_cons_peek(&c, n, false);
			for (uint32_t i = 0; i < got; i++)
				if (*(const uint64_t *)ivsh_ring_cons_elem(&c, i) !=
				    seq + i)
					s->errors++;
			ivsh_ring_cons_release(&c, got);
		} else {
			got = ((r >> 9) & 1) ? ivsh_ring_dequeue_bulk(&c, buf, n)
					     : ivsh_ring_dequeue_burst(&c, buf, n);
			for (uint32_t i = 0; i < got; i++)
				if (buf[i] != seq + i)
					s->errors++;
		}
		seq += got;
		if (s->errors != 0)
			break;
		if (got == 0)
			sched_yield();
	}
	s->errors += c.bad_index;
	return NULL;
}

static void test_two_threads(void **state)
{
	(void)state;
	struct shared s = { 0 };
	const char *env = getenv("IVSH_STRESS_COUNT");
	pthread_t tp, tc;
	struct timespec t0, t1;

	s.count = env ? strtoull(env, NULL, 0) : 100000000ull;
	s.len = ivsh_ring_mem_size(RING, sizeof(uint64_t));
	s.mem = aligned_alloc(64, s.len);
	assert_non_null(s.mem);
	assert_int_equal(ivsh_ring_mem_init(s.mem, s.len, RING, sizeof(uint64_t),
					    UINT32_MAX - 100), 0);
	pthread_barrier_init(&s.go, NULL, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&tp, NULL, producer, &s);
	pthread_create(&tc, NULL, consumer, &s);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double sec = (double)(t1.tv_sec - t0.tv_sec) +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("moved %llu elements in %.2f s (%.1f M/s)\n",
	       (unsigned long long)s.count, sec, (double)s.count / sec / 1e6);
	assert_int_equal(s.errors, 0);
	pthread_barrier_destroy(&s.go);
	free(s.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
