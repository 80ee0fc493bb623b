/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/server, run in-process: the server and its clients
 * live in this thread; tc_pump() moves messages until nothing moves.
 * Every test checks that the process has as many descriptors open at the
 * end as at the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"


static struct tclient *join(struct tc_fx *f, struct tclient **all, int n)
{
	struct tclient *tc = tc_connect(f->path);

	assert_non_null(tc);
	all[n] = tc;
	tc_pump(f->srv, all, n + 1);
	return tc;
}

/* ---- IDs ---- */

static void test_first_client_gets_id_0(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };
	uint16_t ids[4];

	tc_fx_start(f);
	join(f, c, 0);
	assert_int_equal(c[0]->id, 0);
	join(f, c, 1);
	join(f, c, 2);
	assert_int_equal(c[1]->id, 1);
	assert_int_equal(c[2]->id, 2);
	assert_int_equal(ivsh_server_client_count(f->srv), 3);
	assert_int_equal(ivsh_server_client_ids(f->srv, ids, 4), 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[2], 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i]->err, 0);
		tc_close(c[i]);
	}
}

static void test_lowest_free_id_reused(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[4] = { 0 };

	tc_fx_start(f);
	for (int i = 0; i < 3; i++)
		join(f, c, i);
	/* 1 leaves: the next client gets 1, not 3. */
	tc_close(c[1]);
	c[1] = NULL;
	tc_pump(f->srv, c, 3);
	assert_int_equal(ivsh_server_client_count(f->srv), 2);
	join(f, c, 1);
	assert_int_equal(c[1]->id, 1);
	/* The master leaves: the next client is the new master, ID 0. */
	tc_close(c[0]);
	c[0] = NULL;
	tc_pump(f->srv, c, 3);
	join(f, c, 0);
	assert_int_equal(c[0]->id, 0);
	/* All IDs 0..2 taken: the next gets 3. */
	join(f, c, 3);
	assert_int_equal(c[3]->id, 3);
	for (int i = 0; i < 4; i++)
		tc_close(c[i]);
}

static void test_disconnect_and_connect_in_one_round(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };

	tc_fx_start(f);
	join(f, c, 0);
	join(f, c, 1);
	/* Both events are pending when the server next runs: the freed ID
	 * must be reused at once. */
	tc_close(c[0]);
	c[0] = tc_connect(f->path);
	assert_non_null(c[0]);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[0]->id, 0);
	assert_int_equal(c[1]->peer_gone_events[0], 1);
	assert_int_equal(c[1]->peer_vec_events[0], 2); /* handshake + again */
	tc_close(c[0]);
	tc_close(c[1]);
}

static void test_max_clients_enforced(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };
	struct ivsh_server_stats st;

	f->conf.max_clients = 2;
	tc_fx_start(f);
	join(f, c, 0);
	join(f, c, 1);
	join(f, c, 2);
	/* Refused: closed without a single message. */
	assert_true(c[2]->eof);
	assert_int_equal(c[2]->nmsgs, 0);
	assert_int_equal(c[2]->id, -1);
	assert_int_equal(ivsh_server_client_count(f->srv), 2);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_full, 1);
	assert_true(tc_log_has("max 2"));
	/* The others noticed nothing. */
	assert_int_equal(c[0]->total_peer_vec, 1);
	assert_int_equal(c[0]->total_gone, 0);
	/* A slot frees up: the next one gets in, with the free ID. */
	tc_close(c[2]);
	tc_close(c[0]);
	c[0] = NULL;
	tc_pump(f->srv, c, 2);
	c[2] = NULL;
	join(f, c, 2);
	assert_false(c[2]->eof);
	assert_int_equal(c[2]->id, 0);
	tc_close(c[1]);
	tc_close(c[2]);
}

/* ---- messages ---- */

static void expect_log(struct tclient *tc, unsigned int i, int64_t v,
		       bool has_fd)
{
	assert_true(i < tc->nlog);
	if (tc->log[i].value != v || tc->log[i].has_fd != has_fd)
		fail_msg("message %u: got %lld%s, want %lld%s", i,
			 (long long)tc->log[i].value,
			 tc->log[i].has_fd ? "+fd" : "", (long long)v,
			 has_fd ? "+fd" : "");
}

static void test_handshake_exact_sequence(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };
	const unsigned int nv = 3;
	struct stat st;
	unsigned int i = 0;

	f->conf.vectors = nv;
	tc_fx_start(f);
	join(f, c, 0);
	join(f, c, 1);
	join(f, c, 2);

	/* Client 2: version, ID, shm, peers 0 and 1 (3 fds each, in that
	 * order), then its own ID three times. */
	expect_log(c[2], i++, 0, false);
	expect_log(c[2], i++, 2, false);
	expect_log(c[2], i++, -1, true);
	for (unsigned int p = 0; p < 2; p++)
		for (unsigned int v = 0; v < nv; v++)
			expect_log(c[2], i++, p, true);
	for (unsigned int v = 0; v < nv; v++)
		expect_log(c[2], i++, 2, true);
	assert_int_equal(c[2]->nlog, i);
	assert_int_equal(c[2]->own_count, nv);
	assert_int_equal(c[2]->err, 0);

	/* Client 0 saw its handshake, then 1 and 2 arrive, nv fds each. */
	assert_int_equal(c[0]->nlog, 3 + nv + 2 * nv);
	assert_int_equal(c[0]->peer_vec_events[1], nv);
	assert_int_equal(c[0]->peer_vec_events[2], nv);
	assert_int_equal(c[1]->peer_vec_events[0], nv);
	assert_int_equal(c[1]->peer_vec_events[2], nv);

	/* The shared memory has the configured size. */
	assert_int_equal(fstat(c[2]->shm_fd, &st), 0);
	assert_int_equal(st.st_size, 64 * 1024);
	for (int k = 0; k < 3; k++)
		tc_close(c[k]);
}

/* A peer's vector fd i and the owner's own fd i are one eventfd. */
static void test_vectors_wired_in_order(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };
	const int nv = 4;

	f->conf.vectors = nv;
	tc_fx_start(f);
	join(f, c, 0);
	c[1] = tc_connect(f->path);
	assert_non_null(c[1]);
	c[0]->keep_peer_fds = true;
	c[1]->keep_peer_fds = true;
	tc_pump(f->srv, c, 2);
	for (int v = 0; v < nv; v++) {
		uint64_t one = 1, got = 0;

		/* 1 rings 0's vector v; only 0's own fd v fires. */
		assert_true(c[1]->peer_fd[0][v] >= 0);
		assert_int_equal(write(c[1]->peer_fd[0][v], &one, 8), 8);
		for (int w = 0; w < nv; w++) {
			ssize_t n = read(c[0]->own_fd[w], &got, 8);

			if (w == v)
				assert_int_equal(n, 8);
			else
				assert_int_equal(n, -1);
		}
		/* And the other way round. */
		assert_int_equal(write(c[0]->peer_fd[1][v], &one, 8), 8);
		assert_int_equal(read(c[1]->own_fd[v], &got, 8), 8);
	}
	tc_close(c[0]);
	tc_close(c[1]);
}

static void test_disconnect_notice_reaches_others(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[4] = { 0 };

	f->conf.vectors = 2;
	tc_fx_start(f);
	for (int i = 0; i < 4; i++)
		join(f, c, i);
	tc_close(c[2]);
	c[2] = NULL;
	tc_pump(f->srv, c, 4);
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		assert_int_equal(c[i]->peer_gone_events[2], 1);
		assert_int_equal(c[i]->total_gone, 1);
		assert_int_equal(c[i]->err, 0);
		/* The last message is the bare ID. */
		expect_log(c[i], c[i]->nlog - 1, 2, false);
	}
	assert_int_equal(ivsh_server_client_count(f->srv), 3);
	assert_true(tc_log_has("client 2 disconnected"));
	for (int i = 0; i < 4; i++)
		tc_close(c[i]);
}

/* A client that exits with notices still unread resets its socket: that
 * is a normal exit, logged as a plain disconnect, not as an error. */
static void test_reset_by_client_is_normal_disconnect(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };

	tc_fx_start(f);
	join(f, c, 0);
	join(f, c, 1);
	c[2] = tc_connect(f->path);
	assert_non_null(c[2]);
	/* c[0] does not read the notice of peer 2 before it closes. */
	tc_pump(f->srv, c + 1, 2);
	tc_log_clear();
	tc_close(c[0]);
	c[0] = NULL;
	tc_pump(f->srv, c + 1, 2);
	assert_int_equal(ivsh_server_client_count(f->srv), 2);
	assert_true(tc_log_has("client 0 disconnected: connection closed"));
	assert_false(tc_log_has("connection error"));
	tc_close(c[1]);
	tc_close(c[2]);
}

/* ---- misbehaving clients ---- */

static void test_garbage_sender_disconnected(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };
	struct ivsh_server_stats st;

	tc_fx_start(f);
	join(f, c, 0);
	join(f, c, 1);
	assert_int_equal(write(c[1]->sock, "hello", 5), 5);
	tc_pump(f->srv, c, 2);
	assert_true(c[1]->eof);
	assert_int_equal(c[0]->peer_gone_events[1], 1);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.dropped_protocol, 1);
	assert_true(tc_log_has("protocol error"));
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	tc_close(c[0]);
	tc_close(c[1]);
}

static void test_fd_sender_disconnected_no_leak(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[1] = { 0 };
	int fds[4];
	int before;

	tc_fx_start(f);
	join(f, c, 0);
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(test_send_fds(c[0]->sock, "x", 1, fds, 4), 1);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	before = test_count_fds();
	tc_pump(f->srv, c, 1);
	assert_true(c[0]->eof);
	/* The server dropped the client's socket and eventfd; the four
	 * descriptors it was sent never reached its table. */
	assert_int_equal(test_count_fds(), before - 2);
	tc_close(c[0]);
}

static void test_vanish_mid_handshake(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };
	struct tclient *ghost;

	f->conf.vectors = 4;
	tc_fx_start(f);
	join(f, c, 0);
	/* Connects and leaves before the server even accepted it. */
	ghost = tc_connect(f->path);
	assert_non_null(ghost);
	tc_close(ghost);
	tc_pump(f->srv, c, 1);
	/* 0 saw it come (4 vectors) and go, and nothing else broke. */
	assert_int_equal(c[0]->peer_vec_events[1], 4);
	assert_int_equal(c[0]->peer_gone_events[1], 1);
	assert_int_equal(c[0]->err, 0);
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	join(f, c, 1);
	assert_int_equal(c[1]->id, 1);
	assert_int_equal(c[1]->own_count, 4);
	tc_close(c[0]);
	tc_close(c[1]);
}

/* Connect and disconnect a reading client; every step pumps. */
static void churn(struct tc_fx *f, struct tclient **others, int nothers)
{
	struct tclient *all[8];
	struct tclient *t = tc_connect(f->path);

	assert_non_null(t);
	memcpy(all, others, sizeof(*all) * (size_t)nothers);
	all[nothers] = t;
	tc_pump(f->srv, all, nothers + 1);
	assert_true(t->own_count > 0);
	tc_close(t);
	tc_pump(f->srv, all, nothers);
}

/*
 * A peer that joined and never reads: its socket fills, then its queue.
 * Peers joining while it is backlogged wait (accepting pauses), and a
 * connect/close pair it never got is withdrawn, so what grows its queue
 * past the bound is peers it was told of leaving.
 */
static void test_non_reader_dropped_on_full_queue(void **state)
{
	enum { MAX_STAYERS = 2000 };
	struct tc_fx *f = *state;
	struct tclient **all = calloc(MAX_STAYERS + 1, sizeof(*all));
	struct tclient *lazy;
	struct ivsh_server_stats st;
	int lazy_id = 1, n = 1;

	assert_non_null(all);
	f->conf.max_queued = 32;
	f->conf.stall_timeout_ms = 60000; /* only the queue bound acts */
	tc_fx_start(f);
	join(f, all, 0);
	/* Joins, then never reads again. */
	lazy = tc_connect(f->path);
	assert_non_null(lazy);
	tc_pump(f->srv, all, 1);
	assert_true(ivsh_server_client_pending(f->srv, lazy_id) >= 0);
	/* Peers join and stay until its socket is full and accepting has
	 * paused (more than max_queued / 2 waiting). */
	while (ivsh_server_client_pending(f->srv, lazy_id) <= 16 &&
	       n < MAX_STAYERS) {
		all[n] = tc_connect(f->path);
		assert_non_null(all[n]);
		n++;
		tc_pump(f->srv, all, n);
	}
	assert_true(n < MAX_STAYERS);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.accept_throttled, 1);
	/* They leave: the notices of those it was told of pile up. */
	while (n > 1 && ivsh_server_client_pending(f->srv, lazy_id) >= 0) {
		tc_close(all[--n]);
		tc_pump(f->srv, all, n);
	}
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.dropped_slow, 1);
	assert_true(tc_log_has("output queue full"));
	/* The reader got the lazy one's disconnect, and every stayer's. */
	while (n > 1) {
		tc_close(all[--n]);
		tc_pump(f->srv, all, n);
	}
	assert_int_equal(all[0]->err, 0);
	assert_int_equal(all[0]->peer_gone_events[1], 1);
	assert_int_equal(all[0]->total_gone, all[0]->total_peer_vec);
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	/* Life goes on: the freed ID is handed out again. */
	churn(f, all, 1);
	tc_close(lazy);
	tc_close(all[0]);
	free(all);
}

static void test_non_reader_dropped_on_stall_time(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[1] = { 0 };
	struct tclient *lazy;
	struct ivsh_server_stats st;
	struct timespec t0, t1;
	int cycles = 0;

	f->conf.max_queued = 1000000; /* only the time limit acts */
	f->conf.stall_timeout_ms = 100;
	tc_fx_start(f);
	join(f, c, 0);
	lazy = tc_connect(f->path);
	assert_non_null(lazy);
	tc_pump(f->srv, c, 1);
	/* Fill its socket until messages stay queued. */
	while (ivsh_server_client_pending(f->srv, 1) <= 0 && cycles < 5000) {
		churn(f, c, 1);
		cycles++;
	}
	assert_true(ivsh_server_client_pending(f->srv, 1) > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* No more traffic: the timer alone must drop it. */
	for (int i = 0; i < 100 && ivsh_server_client_count(f->srv) == 2; i++)
		ivsh_server_process(f->srv, 50);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 90);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.dropped_slow, 1);
	assert_true(tc_log_has("socket full for"));
	tc_pump(f->srv, c, 1);
	assert_int_equal(c[0]->peer_gone_events[1], 1);
	tc_close(lazy);
	tc_close(c[0]);
}

static void test_slow_reader_that_catches_up_survives(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };
	int cycles = 0;

	f->conf.max_queued = 100000;
	f->conf.stall_timeout_ms = 60000;
	tc_fx_start(f);
	join(f, c, 0);
	c[1] = tc_connect(f->path);
	assert_non_null(c[1]);
	tc_pump(f->srv, c, 1);
	while (ivsh_server_client_pending(f->srv, 1) <= 0 && cycles < 5000) {
		churn(f, c, 1);
		cycles++;
	}
	/* Now it reads: the backlog drains completely, in order. */
	tc_pump(f->srv, c, 2);
	assert_int_equal(ivsh_server_client_pending(f->srv, 1), 0);
	assert_int_equal(c[1]->err, 0);
	assert_int_equal(c[1]->total_gone, (uint64_t)cycles);
	assert_int_equal(c[1]->total_peer_vec, (uint64_t)cycles + 1);
	tc_close(c[0]);
	tc_close(c[1]);
}

/* ---- running out of descriptors ---- */

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void test_out_of_fds_pauses_and_recovers(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[2] = { 0 };
	struct ivsh_server_stats st;
	struct rlimit old, low;

	f->conf.stall_timeout_ms = 200; /* timer ticks every 50 ms */
	tc_fx_start(f);
	join(f, c, 0);
	c[1] = tc_connect(f->path); /* waits in the backlog */
	assert_non_null(c[1]);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd(); /* no new descriptor fits */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (int i = 0; i < 5; i++)
		ivsh_server_process(f->srv, 0);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(st.rejected_resources, 1); /* once, no busy loop */
	assert_true(tc_log_has("pausing new connections"));
	assert_int_equal(ivsh_server_client_count(f->srv), 1);
	/* Descriptors are back: the timer resumes accepting. */
	for (int i = 0; i < 50 && ivsh_server_client_count(f->srv) < 2; i++)
		ivsh_server_process(f->srv, 20);
	assert_int_equal(ivsh_server_client_count(f->srv), 2);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[1]->id, 1);
	assert_int_equal(c[1]->own_count, 1);
	assert_int_equal(c[0]->err, 0);
	tc_close(c[0]);
	tc_close(c[1]);
}

/*
 * The per-user limit on descriptors in flight (ETOOMANYREFS, not for
 * root): two peers that never read hoard the server's descriptors; the
 * server must drop them, not the peer that reads. Runs in a child that
 * drops root and lowers RLIMIT_NOFILE. Exit codes name the failed step.
 */
static int inflight_run(const char *dir)
{
	char path[256], err[256];
	struct ivsh_server_conf conf;
	struct ivsh_server *srv = NULL;
	struct ivsh_server_stats st;
	struct tclient *c[2] = { 0 };
	struct tclient *lazy[2];
	struct rlimit rl = { 48, 48 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 11;
	snprintf(path, sizeof(path), "%s/inflight.sock", dir);
	tc_conf(&conf, path, 1);
	conf.stall_timeout_ms = 100;
	/* Every client here is one user: no per-user share, so that the
	 * kernel's own limit bites (the share: test_server_inflight.c). */
	conf.max_inflight_per_user = 1u << 20;
	if (ivsh_server_create(&srv, &conf, err, sizeof(err)))
		return 12;
	c[0] = tc_connect(path);
	tc_pump(srv, c, 1);
	if (!c[0] || c[0]->id != 0)
		return 13;
	lazy[0] = tc_connect(path);
	lazy[1] = tc_connect(path);
	if (!lazy[0] || !lazy[1])
		return 14;
	tc_pump(srv, c, 1);
	/*
	 * Churn until the limit bites. Descriptors stay in flight while they
	 * sit unread in a hoarder's socket, even after the server dropped
	 * it; they come free when the hoarder closes (exits, or reads the
	 * end of the stream), which we do as soon as it is dropped.
	 */
	for (int i = 0; i < 400; i++) {
		c[1] = tc_connect(path);
		for (int k = 0; k < 5; k++) {
			ivsh_server_process(srv, 20);
			tc_read(c[0]);
			if (c[1])
				tc_read(c[1]);
		}
		tc_close(c[1]);
		c[1] = NULL;
		tc_pump(srv, c, 1);
		for (int l = 0; l < 2; l++) {
			if (lazy[l] &&
			    ivsh_server_client_pending(srv, (uint16_t)(l + 1)) < 0) {
				tc_close(lazy[l]);
				lazy[l] = NULL;
			}
		}
		if (!lazy[0] && !lazy[1])
			break;
	}
	ivsh_server_get_stats(srv, &st);
	if (st.dropped_slow != 2 || lazy[0] || lazy[1]) {
		fprintf(stderr, "dropped_slow %llu\n",
			(unsigned long long)st.dropped_slow);
		return 15;
	}
	/* The reader survived and still works: a newcomer gets through. */
	c[1] = tc_connect(path);
	for (int k = 0; k < 100 && (!c[1] || c[1]->own_count < 1); k++) {
		ivsh_server_process(srv, 10);
		tc_read(c[0]);
		tc_read(c[1]);
	}
	if (c[0]->err || c[0]->eof || !c[1] || c[1]->own_count != 1) {
		fprintf(stderr, "reader err %d eof %d; newcomer %p own %d; clients %u pending0 %ld\n",
			c[0]->err, c[0]->eof, (void *)c[1], c[1] ? c[1]->own_count : -1,
			ivsh_server_client_count(srv), ivsh_server_client_pending(srv, 0));
		return 16;
	}
	if (ivsh_server_client_pending(srv, 0) < 0)
		return 17;
	tc_close(c[0]);
	tc_close(c[1]);
	ivsh_server_destroy(srv);
	return 0;
}

static int inflight_child(void)
{
	char dir[128];
	int rc;

	if (getuid() == 0 && (setgroups(0, NULL) || setgid(65534) ||
			      setuid(65534)))
		return 10;
	tc_mkdtemp(dir, sizeof(dir));
	rc = inflight_run(dir);
	tc_rmdir(dir); /* also after a failure */
	return rc;
}

static void test_inflight_limit_drops_hoarders(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(inflight_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 10)
		skip(); /* cannot drop root here */
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- socket file ---- */

static void test_socket_missing_dir(void **state)
{
	struct tc_fx *f = *state;
	char err[256] = "";
	char path[300];

	snprintf(path, sizeof(path), "%s/nope/s.sock", f->dir);
	f->conf.socket_path = path;
	assert_int_equal(ivsh_server_create(&f->srv, &f->conf, err,
					    sizeof(err)), -ENOENT);
	assert_null(f->srv);
	assert_non_null(strstr(err, "does not exist"));
}

static void test_socket_in_use(void **state)
{
	struct tc_fx *f = *state;
	struct ivsh_server *second = NULL;
	char err[256] = "";

	tc_fx_start(f);
	assert_int_equal(ivsh_server_create(&second, &f->conf, err,
					    sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "already in use"));
	/* The first server still works, and the check did not connect to
	 * it: the next client is the master, ID 0. */
	{
		struct tclient *c[1] = { 0 };

		join(f, c, 0);
		assert_int_equal(c[0]->id, 0);
		tc_close(c[0]);
	}
}

static void test_stale_socket_replaced(void **state)
{
	struct tc_fx *f = *state;
	/* A bound socket nobody listens on: what a crashed server leaves. */
	int fd = tc_bind_only(f->path);
	struct tclient *c[1] = { 0 };

	assert_true(fd >= 0);
	close(fd);
	tc_fx_start(f);
	join(f, c, 0);
	assert_int_equal(c[0]->id, 0);
	tc_close(c[0]);
}

static void test_socket_path_not_a_socket(void **state)
{
	struct tc_fx *f = *state;
	char err[256] = "";
	int fd = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	close(fd);
	assert_int_equal(ivsh_server_create(&f->srv, &f->conf, err,
					    sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	/* Left alone. */
	assert_int_equal(access(f->path, F_OK), 0);
}

static void test_socket_path_too_long(void **state)
{
	struct tc_fx *f = *state;
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	f->conf.socket_path = path;
	assert_int_equal(ivsh_server_create(&f->srv, &f->conf, NULL, 0),
			 -ENAMETOOLONG);
}

static void test_socket_mode_and_unlink(void **state)
{
	struct tc_fx *f = *state;
	struct stat st;

	f->conf.socket_mode = 0640;
	f->conf.set_group = 1;
	f->conf.socket_group = getgid(); /* always allowed */
	tc_fx_start(f);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, getgid());
	ivsh_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_destroy_spares_foreign_socket(void **state)
{
	struct tc_fx *f = *state;
	int fd;

	tc_fx_start(f);
	/* Someone replaced our socket file: not ours to remove. */
	unlink(f->path);
	fd = tc_bind_only(f->path);
	assert_true(fd >= 0);
	ivsh_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(access(f->path, F_OK), 0);
	close(fd);
}

/* ---- configuration and shared memory ---- */

static void test_conf_validation(void **state)
{
	struct tc_fx *f = *state;
	struct ivsh_server_conf bad;
	char err[256];
	const uint64_t bad_sizes[] = { 0, 3, 4095, 2048, 65536 + 4096,
				       1ULL << 41 };

	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		bad = f->conf;
		bad.shm_size = bad_sizes[i];
		err[0] = 0;
		assert_int_equal(ivsh_server_create(&f->srv, &bad, err,
						    sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	bad = f->conf;
	bad.vectors = 0;
	assert_int_equal(ivsh_server_create(&f->srv, &bad, NULL, 0), -EINVAL);
	bad.vectors = 65;
	assert_int_equal(ivsh_server_create(&f->srv, &bad, NULL, 0), -EINVAL);
	bad = f->conf;
	bad.max_clients = 65537;
	assert_int_equal(ivsh_server_create(&f->srv, &bad, NULL, 0), -EINVAL);
	bad = f->conf;
	bad.shm_kind = IVSH_SERVER_SHM_POSIX;
	bad.shm_name = NULL;
	assert_int_equal(ivsh_server_create(&f->srv, &bad, NULL, 0), -EINVAL);
	bad = f->conf;
	bad.socket_path = "";
	assert_int_equal(ivsh_server_create(&f->srv, &bad, NULL, 0), -EINVAL);
	assert_null(f->srv);
	/* Nothing was left behind. */
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_shm_posix(void **state)
{
	struct tc_fx *f = *state;
	char name[64], file[96];
	struct stat st;

	snprintf(name, sizeof(name), "ivsh-test-%d", (int)getpid());
	snprintf(file, sizeof(file), "/dev/shm/%s", name);
	f->conf.shm_kind = IVSH_SERVER_SHM_POSIX;
	f->conf.shm_name = name;
	f->conf.unlink_shm = 1;
	f->conf.shm_size = 1 << 20;
	tc_fx_start(f);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	assert_int_equal(ivsh_server_shm_size(f->srv), 1 << 20);
	ivsh_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(access(file, F_OK), -1);
}

static void test_shm_directory(void **state)
{
	struct tc_fx *f = *state;
	char shmdir[300];
	struct stat st;

	snprintf(shmdir, sizeof(shmdir), "%s/shm", f->dir);
	assert_int_equal(mkdir(shmdir, 0700), 0);
	f->conf.shm_kind = IVSH_SERVER_SHM_PATH;
	f->conf.shm_name = shmdir;
	tc_fx_start(f);
	/* An unnamed file: the directory stays empty. */
	assert_int_equal(rmdir(shmdir), 0);
	assert_int_equal(fstat(ivsh_server_shm_fd(f->srv), &st), 0);
	assert_int_equal(st.st_size, 64 * 1024);
}

static void test_shm_file(void **state)
{
	struct tc_fx *f = *state;
	char file[300];
	struct stat st;
	char err[256] = "";

	snprintf(file, sizeof(file), "%s/mem", f->dir);
	f->conf.shm_kind = IVSH_SERVER_SHM_PATH;
	f->conf.shm_name = file;
	tc_fx_start(f);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 64 * 1024);
	ivsh_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(access(file, F_OK), 0); /* kept: unlink_shm unset */
	/* A file in a missing directory is a clear error. */
	snprintf(file, sizeof(file), "%s/none/mem", f->dir);
	assert_int_equal(ivsh_server_create(&f->srv, &f->conf, err,
					    sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "does not exist"));
	/* The socket, already bound, was removed again. */
	assert_int_equal(access(f->path, F_OK), -1);
}

/*
 * hugetlbfs, mounted in a private mount namespace of a child (root only;
 * nothing is visible outside). The size must be a multiple of the huge
 * page size, and the pages must exist (none may be configured here: then
 * start-up must fail with a clear reason rather than the peers later).
 */
static int hugetlbfs_child(const char *dir)
{
	char mnt[300], path[300], err[256] = "";
	struct ivsh_server_conf conf;
	struct ivsh_server *srv = NULL;
	int rc;

	snprintf(mnt, sizeof(mnt), "%s/huge", dir);
	snprintf(path, sizeof(path), "%s/h.sock", dir);
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mkdir(mnt, 0700) ||
	    mount("none", mnt, "hugetlbfs", 0, NULL))
		return 77;
	tc_conf(&conf, path, 1);
	conf.log = NULL;
	conf.shm_kind = IVSH_SERVER_SHM_PATH;
	conf.shm_name = mnt;
	conf.shm_size = 64 * 1024;
	rc = ivsh_server_create(&srv, &conf, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, "huge page size"))
		return 1;
	conf.shm_size = 2 << 20;
	rc = ivsh_server_create(&srv, &conf, err, sizeof(err));
	if (rc == 0) {
		/* Pages available: an unnamed file, the mount stays empty. */
		ivsh_server_destroy(srv);
		if (rmdir(mnt) == 0)
			return 2; /* rmdir of a mount point must fail */
	} else if (rc != -ENOMEM || !strstr(err, "cannot reserve")) {
		return 3;
	}
	if (access(path, F_OK) == 0)
		return 4; /* the socket went away in both cases */
	umount(mnt);
	rmdir(mnt);
	return 0;
}

static void test_shm_hugetlbfs(void **state)
{
	struct tc_fx *f = *state;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hugetlbfs_child(f->dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* no mount namespace or no hugetlbfs here */
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(ivsh_server_parse_size("4M", &v), 0);
	assert_true(v == 4194304);
	assert_int_equal(ivsh_server_parse_size("1k", &v), 0);
	assert_true(v == 1024);
	assert_int_equal(ivsh_server_parse_size("2G", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(ivsh_server_parse_size("1T", &v), 0);
	assert_true(v == 1ULL << 40);
	assert_int_equal(ivsh_server_parse_size("65536", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(ivsh_server_parse_size("010", &v), 0);
	assert_true(v == 10); /* decimal, never octal */
	assert_int_equal(ivsh_server_parse_size("", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("M", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("x1", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size(" 1", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("4MB", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("4Q", &v), -EINVAL);
	assert_int_equal(ivsh_server_parse_size("99999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(ivsh_server_parse_size("99999999999G", &v), -ERANGE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tc_fx_setup, tc_fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_first_client_gets_id_0),
		T(test_lowest_free_id_reused),
		T(test_disconnect_and_connect_in_one_round),
		T(test_max_clients_enforced),
		T(test_handshake_exact_sequence),
		T(test_vectors_wired_in_order),
		T(test_disconnect_notice_reaches_others),
		T(test_reset_by_client_is_normal_disconnect),
		T(test_garbage_sender_disconnected),
		T(test_fd_sender_disconnected_no_leak),
		T(test_vanish_mid_handshake),
		T(test_non_reader_dropped_on_full_queue),
		T(test_non_reader_dropped_on_stall_time),
		T(test_slow_reader_that_catches_up_survives),
		T(test_out_of_fds_pauses_and_recovers),
		cmocka_unit_test(test_inflight_limit_drops_hoarders),
		T(test_socket_missing_dir),
		T(test_socket_in_use),
		T(test_stale_socket_replaced),
		T(test_socket_path_not_a_socket),
		T(test_socket_path_too_long),
		T(test_socket_mode_and_unlink),
		T(test_destroy_spares_foreign_socket),
		T(test_conf_validation),
		T(test_shm_posix),
		T(test_shm_directory),
		T(test_shm_file),
		T(test_shm_hugetlbfs),
		cmocka_unit_test(test_parse_size),
	};

	return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
