/* SPDX-License-Identifier: BSD-3-Clause */
/* SPSC ring: single-thread semantics, wraparound, hostile indices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ivsh_ring.h"

#define COUNT 16u

struct fixture {
	void *mem;
	size_t len;
	struct ivsh_ring_prod p;
	struct ivsh_ring_cons c;
};

static int setup_at(void **state, uint32_t start)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->len = ivsh_ring_mem_size(COUNT, sizeof(uint32_t));
	f->mem = aligned_alloc(64, (f->len + 63) & ~(size_t)63);
	assert_non_null(f->mem);
	assert_int_equal(ivsh_ring_mem_init(f->mem, f->len, COUNT,
					    sizeof(uint32_t), start), 0);
	assert_int_equal(ivsh_ring_prod_init(&f->p, f->mem, f->len, COUNT,
					     sizeof(uint32_t)), 0);
	assert_int_equal(ivsh_ring_cons_init(&f->c, f->mem, f->len, COUNT,
					     sizeof(uint32_t)), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_at(state, 0);
}

static int setup_wrap(void **state)
{
	return setup_at(state, UINT32_MAX - 5);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->mem);
	free(f);
	return 0;
}

static ivsh_ring_idx_t *prod_idx(struct fixture *f)
{
	return (ivsh_ring_idx_t *)f->mem;
}

static ivsh_ring_idx_t *cons_idx(struct fixture *f)
{
	return (ivsh_ring_idx_t *)((uint8_t *)f->mem + IVSH_RING_LINE);
}

static void test_params(void **state)
{
	(void)state;
	uint8_t buf[4096] __attribute__((aligned(64)));
	struct ivsh_ring_prod p;

	assert_int_equal(ivsh_ring_mem_size(0, 4), 0);
	assert_int_equal(ivsh_ring_mem_size(12, 4), 0);
	assert_int_equal(ivsh_ring_mem_size(16, 0), 0);
	assert_int_equal(ivsh_ring_mem_size(16, 4), IVSH_RING_ELEMS_OFF + 64);
	assert_int_equal(ivsh_ring_mem_init(buf, sizeof(buf), 3, 4, 0), -EINVAL);
	assert_int_equal(ivsh_ring_mem_init(buf + 1, 1000, 16, 4, 0), -EINVAL);
	assert_int_equal(ivsh_ring_mem_init(buf, 300, 16, 4, 0), -ENOSPC);
	assert_int_equal(ivsh_ring_prod_init(&p, buf, 300, 16, 4), -ENOSPC);
	assert_int_equal(ivsh_ring_prod_init_split(&p, NULL, NULL, buf, 16, 4),
			 -EINVAL);
}

static void test_burst_bulk(void **state)
{
	struct fixture *f = *state;
	uint32_t in[COUNT + 4], out[COUNT + 4];

	for (uint32_t i = 0; i < COUNT + 4; i++)
		in[i] = 1000 + i;
	/* Bulk: all or nothing. */
	assert_int_equal(ivsh_ring_enqueue_bulk(&f->p, in, COUNT + 1), 0);
	assert_int_equal(ivsh_ring_prod_free(&f->p, 1), COUNT);
	/* Burst: as many as fit. */
	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, in, COUNT + 4), COUNT);
	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, in, 1), 0);
	assert_int_equal(ivsh_ring_enqueue_bulk(&f->p, in, 1), 0);
	assert_int_equal(atomic_load(prod_idx(f)), COUNT);
	/* Consumer bulk larger than available: nothing. */
	assert_int_equal(ivsh_ring_dequeue_bulk(&f->c, out, COUNT + 1), 0);
	assert_int_equal(atomic_load(cons_idx(f)), 0);
	assert_int_equal(ivsh_ring_dequeue_bulk(&f->c, out, 5), 5);
	assert_int_equal(ivsh_ring_dequeue_burst(&f->c, out + 5, COUNT + 4),
			 COUNT - 5);
	for (uint32_t i = 0; i < COUNT; i++)
		assert_int_equal(out[i], 1000 + i);
	/* Empty now. */
	assert_int_equal(ivsh_ring_dequeue_burst(&f->c, out, 4), 0);
	assert_int_equal(ivsh_ring_cons_avail(&f->c, 1), 0);
	/* Producer sees the space again (cache refreshed on demand). */
	assert_int_equal(ivsh_ring_enqueue_bulk(&f->p, in, COUNT), COUNT);
	assert_int_equal(f->p.bad_index, 0);
	assert_int_equal(f->c.bad_index, 0);
}

static void test_zero_copy(void **state)
{
	struct fixture *f = *state;

	/* Reserve 10, fill, commit only 6: the rest is dropped. */
	assert_int_equal(ivsh_ring_prod_reserve(&f->p, 10, true), 10);
	for (uint32_t i = 0; i < 10; i++)
		*(uint32_t *)ivsh_ring_prod_elem(&f->p, i) = 7 * i;
	assert_int_equal(ivsh_ring_cons_avail(&f->c, 1), 0); /* unpublished */
	assert_int_equal(ivsh_ring_prod_commit(&f->p, 6), 6);
	assert_int_equal(ivsh_ring_prod_commit(&f->p, 3), 0); /* no reservation */
	/* Bulk reserve over capacity fails, burst takes what fits. */
	assert_int_equal(ivsh_ring_prod_reserve(&f->p, COUNT, true), 0);
	assert_int_equal(ivsh_ring_prod_reserve(&f->p, COUNT, false), COUNT - 6);
	assert_int_equal(ivsh_ring_prod_commit(&f->p, 0), 0);

	assert_int_equal(ivsh_ring_cons_peek(&f->c, 8, true), 0);
	assert_int_equal(ivsh_ring_cons_peek(&f->c, 8, false), 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(*(const uint32_t *)ivsh_ring_cons_elem(&f->c, i),
				 7 * i);
	/* Release part: the rest stays. */
	assert_int_equal(ivsh_ring_cons_release(&f->c, 4), 4);
	assert_int_equal(atomic_load(cons_idx(f)), 4);
	assert_int_equal(ivsh_ring_cons_peek(&f->c, 8, false), 2);
	assert_int_equal(*(const uint32_t *)ivsh_ring_cons_elem(&f->c, 0), 28);
	assert_int_equal(ivsh_ring_cons_release(&f->c, 99), 2); /* clamped */
	assert_int_equal(ivsh_ring_cons_peek(&f->c, 1, false), 0);
}

static void test_wraparound(void **state)
{
	struct fixture *f = *state;
	uint32_t seq_in = 0, seq_out = 0;

	assert_int_equal(f->p.head, UINT32_MAX - 5);
	/* Cross UINT32_MAX many times with uneven bursts. */
	for (int round = 0; round < 200; round++) {
		uint32_t buf[COUNT];
		uint32_t n = 1 + (uint32_t)round % 13;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = seq_in + i;
		uint32_t put = ivsh_ring_enqueue_burst(&f->p, buf, n);
		seq_in += put;
		uint32_t got = ivsh_ring_dequeue_burst(&f->c, buf,
						       1 + (uint32_t)round % 7);
		for (uint32_t i = 0; i < got; i++)
			assert_int_equal(buf[i], seq_out + i);
		seq_out += got;
		assert_true(seq_in - seq_out <= COUNT);
	}
	assert_true(f->p.head < 1000); /* it did wrap */
	assert_int_equal(f->p.bad_index + f->c.bad_index, 0);
}

static void test_corrupt_prod(void **state)
{
	struct fixture *f = *state;
	uint32_t out[COUNT] = { 0 };

	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, out, 4), 4);
	/* A hostile producer claims more than the ring holds. */
	atomic_store(prod_idx(f), COUNT + 1);
	assert_int_equal(ivsh_ring_dequeue_burst(&f->c, out, COUNT), 0);
	assert_int_equal(f->c.bad_index, 1);
	assert_int_equal(atomic_load(cons_idx(f)), 0); /* nothing read */
	/* Behind the consumer (negative distance) is as bad. */
	atomic_store(prod_idx(f), UINT32_MAX);
	assert_int_equal(ivsh_ring_cons_peek(&f->c, 1, false), 0);
	assert_int_equal(f->c.bad_index, 2);
	/* Exactly full is fine. */
	atomic_store(prod_idx(f), COUNT);
	assert_int_equal(ivsh_ring_dequeue_burst(&f->c, out, COUNT), COUNT);
}

static void test_corrupt_cons(void **state)
{
	struct fixture *f = *state;
	uint32_t in[COUNT] = { 0 };

	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, in, COUNT), COUNT);
	atomic_store(cons_idx(f), COUNT + 5); /* ahead of prod */
	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, in, 1), 0);
	assert_int_equal(f->p.bad_index, 1);
	assert_int_equal(atomic_load(prod_idx(f)), COUNT);
}

static void test_skip_to(void **state)
{
	struct fixture *f = *state;
	uint32_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	assert_int_equal(ivsh_ring_enqueue_burst(&f->p, in, 8), 8);
	assert_int_equal(ivsh_ring_cons_skip_to(&f->c, f->c.head + 9), -ERANGE);
	assert_int_equal(ivsh_ring_cons_skip_to(&f->c, f->c.head + 5), 5);
	assert_int_equal(ivsh_ring_dequeue_burst(&f->c, out, 8), 3);
	assert_int_equal(out[0], 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test_setup_teardown(test_burst_bulk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup_wrap,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_prod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_cons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_to, setup_wrap, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
