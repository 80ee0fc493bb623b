/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A user's share of descriptors in flight (server_inflight.c), with every
 * client one user (this process): a connection that never reads fills the
 * share, its user's further connections are refused (with a log line),
 * the reader is never dropped, and all works again once the hoarder
 * closes. Across users, where the hoarder is dropped once other users'
 * peers wait on it and its unread descriptors are held: the integration
 * test server-inflight-users.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "tclient.h"

#define SHARE 8

static int setup(void **state)
{
	struct tc_fx *f;

	tc_fx_setup(state);
	f = *state;
	f->conf.vectors = 1;
	f->conf.stall_timeout_ms = 100;
	f->conf.max_inflight_per_user = SHARE;
	return 0;
}

/* Run the server for about @ms, the reader reading, the hoarder not. */
static void run_ms(struct tc_fx *f, struct tclient *reader,
		   struct tclient *other, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		ivsh_server_process(f->srv, 10);
		tc_read(reader);
		if (other)
			tc_read(other);
	}
}

/* Connect, read everything for a while, close. */
static void visit(struct tc_fx *f, struct tclient *reader)
{
	struct tclient *c = tc_connect(f->path);

	assert_non_null(c);
	/* Near the share it gets its eventfds a few per timer tick. */
	for (int t = 0; t < 500 && c->own_count < 1; t += 10) {
		ivsh_server_process(f->srv, 10);
		tc_read(reader);
		tc_read(c);
	}
	assert_int_equal(c->own_count, 1);
	tc_close(c);
	run_ms(f, reader, NULL, 30);
}

static void test_share_bounds_one_user(void **state)
{
	struct tc_fx *f = *state;
	struct ivsh_server_stats st;
	struct tclient *reader, *hoarder, *late;

	tc_fx_start(f);
	reader = tc_connect(f->path);
	assert_non_null(reader);
	run_ms(f, reader, NULL, 50);
	assert_int_equal(reader->own_count, 1);

	/* 5 messages it never reads: version, ID, memory, 2 eventfds. */
	hoarder = tc_connect(f->path);
	assert_non_null(hoarder);
	run_ms(f, reader, NULL, 50);
	/* Each visitor leaves it 2 more: an eventfd and a gone notice. The
	 * visitors themselves read, so they get through. */
	visit(f, reader);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_inflight, 0);
	visit(f, reader);

	/* 9 unread: the user is at its share; its next client is refused,
	 * with a log line. The hoarder may have been dropped meanwhile (a
	 * visitor waited on it), never the reader; dropped, it still holds
	 * its unread descriptors in flight. */
	late = tc_connect(f->path);
	assert_non_null(late);
	run_ms(f, reader, late, 50);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_inflight, 1);
	assert_true(late->eof);
	assert_int_equal(late->own_count, 0);
	assert_true(tc_log_has("its connections leave its share of 8"));
	assert_true(st.dropped_slow <= 1);
	if (st.dropped_slow)
		assert_true(tc_log_has("client 1 disconnected: not reading"));
	assert_int_equal(reader->err, 0);
	assert_false(reader->eof);
	tc_close(late);

	/* The hoarder closes: its descriptors come free, and the user's
	 * clients get through again. */
	tc_close(hoarder);
	run_ms(f, reader, NULL, 50);
	visit(f, reader);
	assert_int_equal(reader->err, 0);
	assert_false(reader->eof);
	tc_close(reader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_share_bounds_one_user,
						setup, tc_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
