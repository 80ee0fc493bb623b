/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slot copy routines (lib/net/slot_copy.h) against memcpy: every
 * routine this CPU runs, every length 1..IVSH_PORT_MAX_FRAME at several
 * misaligned source/destination offsets, every offset pair 0..63 for the
 * short lengths, with guard bytes on both sides of the destination. Then
 * through a port: IVSH_PORT_COPY chooses the routine, frames of every
 * size class arrive intact, and a bad name fails the open with -EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "port_fixture.h"
#include "slot_copy.h"

#define MAX_LEN IVSH_PORT_MAX_FRAME
#define GUARD 64
#define MAX_ROUTINES 8
#define FILL 0xa5

static uint8_t src_buf[MAX_LEN + 2 * GUARD];
static uint8_t dst_buf[MAX_LEN + 4 * GUARD];
static uint8_t want_buf[MAX_LEN + 4 * GUARD];

static void fill_source(void)
{
	uint32_t x = 0x12345678u;

	for (size_t i = 0; i < sizeof(src_buf); i++) {
		x = x * 1103515245u + 12345u;
		src_buf[i] = (uint8_t)(x >> 16);
		if (src_buf[i] == FILL) /* a missed byte must show */
			src_buf[i] = 0x5a;
	}
}

/* Copy @len bytes from src_buf + @so to dst_buf + GUARD + @dof with @r and
 * check the result against memcpy, including GUARD bytes either side. */
static void check_one(const struct slot_copy *r, size_t len, size_t so,
		      size_t dof)
{
	uint8_t *d = dst_buf + GUARD + dof;
	size_t span = len + 2 * GUARD;

	memset(d - GUARD, FILL, span);
	memset(want_buf, FILL, span);
	memcpy(want_buf + GUARD, src_buf + so, len);
	r->fn(d, src_buf + so, len);
	if (memcmp(d - GUARD, want_buf, span) != 0) {
		size_t at = 0;

		while ((d - GUARD)[at] == want_buf[at])
			at++;
		fail_msg("%s: len %zu src+%zu dst+%zu: byte %td differs "
			 "(%s the frame)", r->name, len, so, dof,
			 (ptrdiff_t)at - GUARD,
			 at < GUARD || at >= GUARD + len ? "outside" : "inside");
	}
}

static unsigned int routines(const struct slot_copy **r)
{
	unsigned int n = slot_copy_supported(r, MAX_ROUTINES);

	assert_true(n >= 1);
	return n;
}

static void test_every_length(void **state)
{
	static const size_t offs[][2] = {
		{ 0, 0 }, { 1, 0 }, { 0, 1 }, { 3, 61 }, { 63, 17 },
		{ 32, 0 }, { 0, 32 }, { 15, 48 },
	};
	const struct slot_copy *r[MAX_ROUTINES];
	unsigned int n = routines(r);

	(void)state;
	fill_source();
	for (unsigned int k = 0; k < n; k++) {
		for (size_t len = 1; len <= MAX_LEN; len++)
			for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
				check_one(r[k], len, offs[o][0], offs[o][1]);
		print_message("%s: lengths 1..%d at %zu offset pairs: ok\n",
			      r[k]->name, MAX_LEN, sizeof(offs) / sizeof(offs[0]));
	}
}

static void test_every_offset_short(void **state)
{
	const struct slot_copy *r[MAX_ROUTINES];
	unsigned int n = routines(r);

	(void)state;
	fill_source();
	for (unsigned int k = 0; k < n; k++)
		for (size_t len = 0; len <= 300; len++)
			for (size_t so = 0; so < 64; so++)
				for (size_t dof = 0; dof < 64; dof += 3)
					check_one(r[k], len, so, dof);
}

static void test_zero_length_writes_nothing(void **state)
{
	const struct slot_copy *r[MAX_ROUTINES];
	unsigned int n = routines(r);

	(void)state;
	for (unsigned int k = 0; k < n; k++)
		check_one(r[k], 0, 5, 7);
}

static void test_pick(void **state)
{
	const struct slot_copy *r[MAX_ROUTINES], *got = NULL;
	unsigned int n = routines(r);

	(void)state;
	assert_int_equal(slot_copy_pick(NULL, &got), 0);
	assert_ptr_equal(got, r[0]);
	assert_int_equal(slot_copy_pick("auto", &got), 0);
	assert_ptr_equal(got, r[0]);
	assert_string_not_equal(got->name, "rep-movsb"); /* never the default */
	for (unsigned int k = 0; k < n; k++) {
		assert_int_equal(slot_copy_pick(r[k]->name, &got), 0);
		assert_ptr_equal(got, r[k]);
	}
	assert_int_equal(slot_copy_pick("avx1024", &got), -EINVAL);
	assert_int_equal(slot_copy_pick("AVX2", &got), -EINVAL);
	assert_int_equal(slot_copy_pick("memcpy", &got), 0);
	assert_string_equal(got->name, "memcpy");
	/* Every name in the list is known: supported or -ENOTSUP. */
	char names[128];
	snprintf(names, sizeof(names), "%s", slot_copy_names());
	for (char *save, *t = strtok_r(names, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		int rc = slot_copy_pick(t, &got);

		assert_true(rc == 0 || rc == -ENOTSUP);
	}
}

/* Frames through a pair of ports opened with IVSH_PORT_COPY=@name. */
static void roundtrip_with(const char *name)
{
	static const uint32_t lens[] = { 1, 60, 64, 65, 128, 129, 200, 255, 256,
					 511, 512, 1024, 1500, 1535, 1536, 1537,
					 4000, 9000, IVSH_PORT_MAX_FRAME };
	static uint8_t rxbuf[IVSH_PORT_MAX_FRAME];
	struct pair pr;

	assert_int_equal(setenv(SLOT_COPY_ENV, name, 1), 0);
	assert_int_equal(pair_open(&pr, "slotcopy", "4M", NULL), 0);
	unsetenv(SLOT_COPY_ENV);
	pair_link(&pr);
	assert_string_equal(ivsh_port_copy_name(pr.port[0]), name);
	assert_string_equal(ivsh_port_copy_name(pr.port[1]), name);
	fill_source();
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ivsh_pkt tx = { .data = src_buf + 3, .len = lens[i] };
		struct ivsh_pkt rx = { .data = rxbuf, .len = sizeof(rxbuf) };

		assert_int_equal(ivsh_port_tx_burst(pr.port[0], 0, &tx, 1), 1);
		assert_int_equal(ivsh_port_rx_burst(pr.port[1], 0, &rx, 1), 1);
		assert_int_equal(rx.len, lens[i]);
		assert_memory_equal(rxbuf, src_buf + 3, lens[i]);
	}
	memset(rxbuf, FILL, 64);
	ivsh_port_copy_fn(pr.port[1])(rxbuf + 1, src_buf, 33);
	assert_memory_equal(rxbuf + 1, src_buf, 33);
	assert_int_equal(rxbuf[0], FILL);
	assert_int_equal(rxbuf[34], FILL);
	pair_close(&pr);
}

static void test_port_each_routine(void **state)
{
	const struct slot_copy *r[MAX_ROUTINES];
	unsigned int n = routines(r);

	(void)state;
	for (unsigned int k = 0; k < n; k++)
		roundtrip_with(r[k]->name);
}

static void test_port_bad_name(void **state)
{
	struct pair pr;

	(void)state;
	assert_int_equal(setenv(SLOT_COPY_ENV, "fastest", 1), 0);
	int rc = pair_open(&pr, "slotcopy-bad", "4M", NULL);
	unsetenv(SLOT_COPY_ENV);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(ivsh_port_last_error(), SLOT_COPY_ENV));
	assert_null(pr.port[0]);
	pair_close(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_zero_length_writes_nothing),
		cmocka_unit_test(test_every_offset_short),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_port_each_routine),
		cmocka_unit_test(test_port_bad_name),
	};

	unsetenv(SLOT_COPY_ENV);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
