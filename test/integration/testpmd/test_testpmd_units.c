/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of ivsh-testpmd's receive accounting (seqcheck.c), latency
 * histogram (hist.c) and frame format (pkt.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"
#include "pkt.h"
#include "seqcheck.h"

static struct seq_stream st;
static struct seq_counts c;

static int reset(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&c, 0, sizeof(c));
	return 0;
}

static void feed(uint32_t session, const uint32_t *seqs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seq_account(&st, &c, session, seqs[i]);
}

static void in_order(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 10000; i++)
		seq_account(&st, &c, 7, i);
	assert_int_equal(c.in_order, 10000);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.reordered, 0);
	assert_int_equal(c.duplicated, 0);
	assert_int_equal(c.sessions, 1);
}

static void gap_is_lost(void **state)
{
	static const uint32_t s[] = { 0, 1, 2, 6, 7 };

	(void)state;
	feed(1, s, 5);
	assert_int_equal(c.lost, 3);
	assert_int_equal(c.reordered, 0);
}

static void late_arrival_is_reordered_not_lost(void **state)
{
	static const uint32_t s[] = { 0, 1, 3, 4, 2, 5 };

	(void)state;
	feed(1, s, 6);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.reordered, 1);
	assert_int_equal(c.duplicated, 0);
	assert_int_equal(c.in_order, 5);
}

static void swapped_pair(void **state)
{
	static const uint32_t s[] = { 0, 2, 1, 3 };

	(void)state;
	feed(1, s, 4);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.reordered, 1);
}

static void duplicates(void **state)
{
	static const uint32_t s[] = { 0, 1, 1, 2, 0, 3 };

	(void)state;
	feed(1, s, 6);
	assert_int_equal(c.duplicated, 2);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.reordered, 0);
}

static void late_duplicate_after_gap(void **state)
{
	/* 2 arrives late (reordered), then again (duplicate) */
	static const uint32_t s[] = { 0, 1, 3, 2, 2 };

	(void)state;
	feed(1, s, 5);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.reordered, 1);
	assert_int_equal(c.duplicated, 1);
}

static void wraparound(void **state)
{
	(void)state;
	/* a stream that starts near UINT32_MAX: restart at 0 counts the
	 * numbers before as lost, so start there by session change instead */
	st.started = true;
	st.session = 9;
	st.next = UINT32_MAX - 2;
	for (uint32_t i = UINT32_MAX - 2; i != 3; i++)
		seq_account(&st, &c, 9, i);
	assert_int_equal(c.in_order, 6);
	assert_int_equal(c.lost, 0);
	/* a gap across the wrap, then the late one */
	seq_account(&st, &c, 9, 5);
	assert_int_equal(c.lost, 2);
	seq_account(&st, &c, 9, 3);
	assert_int_equal(c.lost, 1);
	assert_int_equal(c.reordered, 1);
}

static void huge_gap_is_bounded(void **state)
{
	(void)state;
	seq_account(&st, &c, 1, 0);
	seq_account(&st, &c, 1, 1000000);
	assert_int_equal(c.lost, 999999);
	seq_account(&st, &c, 1, 1000001);
	assert_int_equal(c.in_order, 3);
	/* far behind the window: reordered, taken off lost */
	seq_account(&st, &c, 1, 5);
	assert_int_equal(c.reordered, 1);
	assert_int_equal(c.lost, 999998);
}

static void new_session_restarts(void **state)
{
	static const uint32_t a[] = { 0, 1, 2 }, b[] = { 0, 1 };

	(void)state;
	feed(1, a, 3);
	feed(2, b, 2);
	assert_int_equal(c.sessions, 2);
	assert_int_equal(c.in_order, 5);
	assert_int_equal(c.lost, 0);
	/* a frame of the old session arriving late is stale */
	seq_account(&st, &c, 1, 3);
	assert_int_equal(c.stale, 1);
	assert_int_equal(c.sessions, 2);
}

static void first_frames_missing_are_lost(void **state)
{
	(void)state;
	seq_account(&st, &c, 4, 10);
	assert_int_equal(c.lost, 10);
}

static void hist_percentiles(void **state)
{
	static struct hist h;

	(void)state;
	hist_init(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	for (uint64_t v = 1; v <= 100000; v++)
		hist_add(&h, v);
	assert_int_equal(h.count, 100000);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100000);
	uint64_t p50 = hist_percentile(&h, 50), p99 = hist_percentile(&h, 99);

	/* within the 1/64 bucket width, never below the true value */
	assert_true(p50 >= 50000 && p50 <= 50000 + 50000 / 64 + 1);
	assert_true(p99 >= 99000 && p99 <= 99000 + 99000 / 64 + 1);
	assert_int_equal(hist_percentile(&h, 100), 100000);
	hist_add(&h, UINT64_MAX);
	assert_int_equal(hist_percentile(&h, 100), UINT64_MAX);
}

static void pkt_roundtrip_and_corruption(void **state)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 }, src[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t buf[1500], copy[1500];
	struct pkt_meta m;

	(void)state;
	for (uint32_t len = PKT_MIN_LEN; len <= sizeof(buf); len += 61) {
		pkt_build(buf, len, dst, src, len);
		pkt_stamp(buf, len, 3, 0xabcdef, len * 7, true);
		memcpy(copy, buf, len);
		assert_int_equal(pkt_check(copy, len, &m), PKT_OK);
		assert_int_equal(m.stream, 3);
		assert_int_equal(m.session, 0xabcdef);
		assert_int_equal(m.seq, len * 7);
		/* any changed byte after the MAC addresses is caught */
		for (uint32_t i = 12; i < len; i++) {
			memcpy(copy, buf, len);
			copy[i] ^= 0x40;
			assert_int_not_equal(pkt_check(copy, len, &m), PKT_OK);
		}
		/* rewriting the addresses (mac/macswap engines) is fine */
		memcpy(copy, buf, len);
		pkt_swap_mac(copy);
		assert_int_equal(pkt_check(copy, len, &m), PKT_OK);
		/* truncated or padded frames are caught by length */
		memcpy(copy, buf, len);
		assert_int_equal(pkt_check(copy, len - 1, &m), PKT_BAD_LEN);
	}
	assert_int_equal(pkt_check(buf, 10, &m), PKT_BAD_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(in_order, reset),
		cmocka_unit_test_setup(gap_is_lost, reset),
		cmocka_unit_test_setup(late_arrival_is_reordered_not_lost, reset),
		cmocka_unit_test_setup(swapped_pair, reset),
		cmocka_unit_test_setup(duplicates, reset),
		cmocka_unit_test_setup(late_duplicate_after_gap, reset),
		cmocka_unit_test_setup(wraparound, reset),
		cmocka_unit_test_setup(huge_gap_is_bounded, reset),
		cmocka_unit_test_setup(new_session_restarts, reset),
		cmocka_unit_test_setup(first_frames_missing_are_lost, reset),
		cmocka_unit_test(hist_percentiles),
		cmocka_unit_test(pkt_roundtrip_and_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
