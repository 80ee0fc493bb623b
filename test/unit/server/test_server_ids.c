/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ID policies of lib/server, in-process. IVSH_SERVER_IDS_SAFE must never
 * hand an ID to a new client while a connected client got that ID's
 * disconnect notice (QEMU 7.2 writes into freed memory then), must choose
 * the lowest ID otherwise allowed, and must free an ID again once all its
 * witnesses are gone. The default policy must keep reusing IDs at once.
 * Every test checks that no descriptor leaked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

/* The fixture with the safe ID policy. */
static int setup(void **state)
{
	int rc = tc_fx_setup(state);

	if (rc == 0)
		((struct tc_fx *)*state)->conf.id_policy = IVSH_SERVER_IDS_SAFE;
	return rc;
}

/* Connect a client into slot @p i of @p all (n slots) and settle. */
static struct tclient *join(struct tc_fx *f, struct tclient **all, int n, int i)
{
	struct tclient *tc = tc_connect(f->path);

	assert_non_null(tc);
	assert_null(all[i]);
	all[i] = tc;
	tc_pump(f->srv, all, n);
	return tc;
}

static void leave(struct tc_fx *f, struct tclient **all, int n, int i)
{
	tc_close(all[i]);
	all[i] = NULL;
	tc_pump(f->srv, all, n);
}

static void close_all(struct tclient **all, int n)
{
	for (int i = 0; i < n; i++) {
		if (all[i])
			assert_int_equal(all[i]->err, 0);
		tc_close(all[i]);
		all[i] = NULL;
	}
}

static void test_safe_ids_exact_sequence(void **state)
{
	struct tc_fx *f = *state;
	enum { A, B, C, D, E, F, G, N };
	struct tclient *c[N] = { 0 };
	struct ivsh_server_stats st;
	uint16_t ids[8];

	tc_fx_start(f);
	assert_true(tc_log_has("safe IDs"));
	/* Connect serials: A 1, B 2. */
	assert_int_equal(join(f, c, N, A)->id, 0);
	assert_int_equal(join(f, c, N, B)->id, 1);
	/* 0 freed at serial 2; B (serial 2) saw it go. */
	leave(f, c, N, A);
	assert_int_equal(c[B]->peer_gone_events[0], 1);
	tc_log_clear();
	assert_int_equal(join(f, c, N, C)->id, 2);   /* serial 3 */
	assert_true(tc_log_has("ID 0 held back"));
	/* C got no notice about 0 and knows only B. */
	assert_int_equal(c[C]->peer_gone_events[0], 0);
	assert_int_equal(c[C]->peer_vec_events[1], 1);
	/* 1 freed at serial 3; C saw it. B, the last witness of 0, is gone:
	 * 0 is free again. */
	leave(f, c, N, B);
	assert_int_equal(join(f, c, N, D)->id, 0);   /* serial 4 */
	/* 1 is held back by C (connected before 1 was freed), 2 by nobody
	 * but it is in use: E gets 3. */
	assert_int_equal(join(f, c, N, E)->id, 3);   /* serial 5 */
	/* C leaves (2 freed at serial 5, seen by D and E): C was the only
	 * witness of 1, so 1 is free; 2 is held back. */
	leave(f, c, N, C);
	assert_int_equal(join(f, c, N, F)->id, 1);   /* serial 6 */
	assert_int_equal(join(f, c, N, G)->id, 4);   /* 2 held back */
	assert_int_equal(ivsh_server_client_ids(f->srv, ids, 8), 4);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ids[3], 4);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.ids_held_back, 3);       /* C, E, G */
	assert_int_equal(st.rejected_ids, 0);
	assert_int_equal(st.rejected_full, 0);
	/* Everybody goes: with nobody connected every ID is free again. */
	close_all(c, N);
	tc_pump(f->srv, c, N);
	assert_int_equal(ivsh_server_client_count(f->srv), 0);
	assert_int_equal(join(f, c, N, A)->id, 0);
	assert_int_equal(join(f, c, N, B)->id, 1);
	assert_int_equal(join(f, c, N, C)->id, 2);
	close_all(c, N);
}

static void test_safe_ids_lone_master_restarts_as_0(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[1] = { 0 };

	tc_fx_start(f);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(join(f, c, 1, 0)->id, 0);
		leave(f, c, 1, 0);
	}
	assert_false(tc_log_has("held back"));
}

static void test_safe_ids_leave_and_join_in_one_round(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };

	tc_fx_start(f);
	join(f, c, 2, 0);
	join(f, c, 2, 1);
	/* Both events pending together: whichever the server handles
	 * first, the newcomer must not get 0 while 1 is connected. */
	tc_close(c[0]);
	c[0] = tc_connect(f->path);
	assert_non_null(c[0]);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[0]->id, 2);
	assert_int_equal(c[1]->peer_gone_events[0], 1);
	assert_int_equal(c[1]->peer_vec_events[0], 1);
	close_all(c, 2);
}

static void test_safe_ids_max_clients(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[4] = { 0 };
	struct ivsh_server_stats st;

	f->conf.max_clients = 2;
	tc_fx_start(f);
	join(f, c, 4, 0);
	join(f, c, 4, 1);
	/* Full: refused by count. */
	join(f, c, 4, 2);
	assert_true(c[2]->eof);
	assert_int_equal(c[2]->nmsgs, 0);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_full, 1);
	assert_int_equal(st.rejected_ids, 0);
	tc_close(c[2]);
	c[2] = NULL;
	/* 0 leaves: one slot free, but 0 is held back by 1 and IDs stay
	 * below max_clients: refused, without a message, logged. */
	leave(f, c, 4, 0);
	tc_log_clear();
	join(f, c, 4, 2);
	assert_true(c[2]->eof);
	assert_int_equal(c[2]->nmsgs, 0);
	assert_int_equal(c[2]->id, -1);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_full, 1);
	assert_int_equal(st.rejected_ids, 1);
	assert_true(tc_log_has("held back"));
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	/* The survivor noticed only 0 leaving. */
	assert_int_equal(c[1]->total_gone, 1);
	assert_int_equal(c[1]->total_peer_vec, 1);
	tc_close(c[2]);
	c[2] = NULL;
	/* The witness goes: 0 is free again. */
	leave(f, c, 4, 1);
	assert_int_equal(join(f, c, 4, 0)->id, 0);
	assert_int_equal(join(f, c, 4, 1)->id, 1);
	close_all(c, 4);
}

static void test_default_policy_reuses_at_once(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };
	struct ivsh_server_stats st;

	f->conf.id_policy = IVSH_SERVER_IDS_LOWEST;
	tc_fx_start(f);
	assert_false(tc_log_has("safe IDs"));
	join(f, c, 3, 0);
	join(f, c, 3, 1);
	leave(f, c, 3, 0);
	assert_int_equal(c[1]->peer_gone_events[0], 1);
	assert_int_equal(join(f, c, 3, 0)->id, 0);
	leave(f, c, 3, 1);
	assert_int_equal(join(f, c, 3, 1)->id, 1);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.ids_held_back, 0);
	assert_int_equal(st.rejected_ids, 0);
	close_all(c, 3);
}

static void test_bad_policy_rejected(void **state)
{
	struct tc_fx *f = *state;
	char err[256] = "";

	f->conf.id_policy = (enum ivsh_server_id_policy)7;
	assert_int_equal(ivsh_server_create(&f->srv, &f->conf, err,
					    sizeof(err)), -EINVAL);
	assert_null(f->srv);
	assert_non_null(strstr(err, "ID policy"));
}

/*
 * Random joins and leaves, checked against what the clients themselves
 * received: a newcomer's ID must be one that no connected client holds or
 * has been told has gone, and the lowest such ID below max_clients; a
 * newcomer is refused exactly when there is none (or the server is full).
 */
#define RND_SLOTS 12
#define RND_MAX_CLIENTS 10

static unsigned int rnd_next(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static int expected_id(struct tclient **c, unsigned int *nconnected)
{
	unsigned int n = 0;

	for (int i = 0; i < RND_SLOTS; i++)
		if (c[i])
			n++;
	*nconnected = n;
	if (n >= RND_MAX_CLIENTS)
		return -1;
	for (int id = 0; id < RND_MAX_CLIENTS; id++) {
		bool ok = true;

		for (int i = 0; i < RND_SLOTS && ok; i++)
			if (c[i] && (c[i]->id == id ||
				     c[i]->peer_gone_events[id] > 0))
				ok = false;
		if (ok)
			return id;
	}
	return -1;
}

static void test_safe_ids_random_against_witnesses(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[RND_SLOTS] = { 0 };
	unsigned int seed = 12345, joins = 0, refusals = 0, held = 0;
	struct ivsh_server_stats st;

	f->conf.max_clients = RND_MAX_CLIENTS;
	tc_fx_start(f);
	for (int step = 0; step < 600; step++) {
		int slot = (int)(rnd_next(&seed) % RND_SLOTS);
		int want, lowest_unused = 0;
		unsigned int n;

		if (c[slot]) {
			/* Leaving more often than joining keeps the crowd
			 * small enough for IDs to come free again. */
			if (rnd_next(&seed) % 3)
				leave(f, c, RND_SLOTS, slot);
			continue;
		}
		want = expected_id(c, &n);
		for (bool used = true; used; ) {
			used = false;
			for (int i = 0; i < RND_SLOTS; i++)
				if (c[i] && c[i]->id == lowest_unused) {
					used = true;
					lowest_unused++;
				}
		}
		join(f, c, RND_SLOTS, slot);
		if (want < 0) {
			if (!c[slot]->eof || c[slot]->nmsgs)
				fail_msg("step %d: client got ID %d, want refusal (%u connected)",
					 step, c[slot]->id, n);
			tc_close(c[slot]);
			c[slot] = NULL;
			refusals++;
			continue;
		}
		if (c[slot]->id != want)
			fail_msg("step %d: client got ID %d, want %d",
				 step, c[slot]->id, want);
		if (want != lowest_unused)
			held++;
		joins++;
		/* Everyone connected gets the newcomer, nobody saw it go. */
		for (int i = 0; i < RND_SLOTS; i++)
			if (c[i] && i != slot)
				assert_true(c[i]->peer_vec_events[want] >
					    c[i]->peer_gone_events[want]);
	}
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.ids_held_back, held);
	assert_int_equal(st.connects, joins);
	assert_int_equal(st.rejected_ids + st.rejected_full, refusals);
	/* The run exercised all three outcomes. */
	assert_true(held > 10);
	assert_true(joins > 50);
	assert_true(st.rejected_ids > 0);
	close_all(c, RND_SLOTS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tc_fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_safe_ids_exact_sequence),
		T(test_safe_ids_lone_master_restarts_as_0),
		T(test_safe_ids_leave_and_join_in_one_round),
		T(test_safe_ids_max_clients),
		T(test_default_policy_reuses_at_once),
		T(test_bad_policy_rejected),
		T(test_safe_ids_random_against_witnesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
