/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Long-running server checks, in-process: 10,000 connect/disconnect
 * cycles must leave the process's open-descriptor count exactly where it
 * started, and a server with more than 1024 descriptors keeps working
 * (epoll, no select()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

#define CYCLES 10000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_10000_cycles_no_fd_leak(void **state)
{
	char dir[128], path[256], err[256] = "";
	struct ivsh_server_conf conf;
	struct ivsh_server *srv = NULL;
	struct ivsh_server_stats st;
	struct tclient *all[2] = { 0 };
	int fds_start, fds_loaded, fds_end;
	double t0, t;

	(void)state;
	fds_start = test_count_fds();
	tc_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cycles-%d.sock", dir, (int)getpid());
	tc_conf(&conf, path, 4);
	assert_int_equal(ivsh_server_create(&srv, &conf, err, sizeof(err)), 0);

	/* A long-lived peer that sees every cycle. */
	all[0] = tc_connect(path);
	assert_non_null(all[0]);
	tc_pump(srv, all, 1);
	assert_int_equal(all[0]->id, 0);
	fds_loaded = test_count_fds();

	t0 = now_s();
	for (int i = 0; i < CYCLES; i++) {
		all[1] = tc_connect(path);
		assert_non_null(all[1]);
		tc_pump(srv, all, 2);
		if (all[1]->id != 1 || all[1]->own_count != 4 ||
		    all[1]->err || all[1]->eof)
			fail_msg("cycle %d: id %d, %d vectors, err %d, eof %d",
				 i, all[1]->id, all[1]->own_count, all[1]->err,
				 all[1]->eof);
		tc_close(all[1]);
		all[1] = NULL;
		tc_pump(srv, all, 1);
		/* Between cycles, exactly where we were. */
		if (i % 1000 == 999)
			assert_int_equal(test_count_fds(), fds_loaded);
	}
	t = now_s() - t0;

	assert_int_equal(test_count_fds(), fds_loaded);
	assert_int_equal(all[0]->err, 0);
	assert_int_equal(all[0]->peer_vec_events[1], 4 * CYCLES);
	assert_int_equal(all[0]->peer_gone_events[1], CYCLES);
	ivsh_server_get_stats(srv, &st);
	assert_int_equal(st.connects, CYCLES + 1);
	assert_int_equal(st.disconnects, CYCLES);
	assert_int_equal(ivsh_server_client_count(srv), 1);
	printf("# %d cycles (4 vectors, 1 peer) in %.2f s (%.1f us/cycle); "
	       "open fds: %d at start, %d with server and peer, %d after cycles\n",
	       CYCLES, t, t * 1e6 / CYCLES, fds_start, fds_loaded,
	       test_count_fds());

	tc_close(all[0]);
	ivsh_server_destroy(srv);
	tc_rmdir(dir);
	fds_end = test_count_fds();
	assert_int_equal(fds_end, fds_start);
}

/* Clients that read with plain recvmsg and drop what they get, cheaper
 * than struct tclient for hundreds of them. */
static void drain(int sock)
{
	for (;;) {
		int64_t v;
		int fd;
		int rc = ivsh_proto_recv(sock, &v, &fd);

		if (rc < 0)
			return;
		if (fd >= 0)
			close(fd);
	}
}

static void test_past_1024_descriptors(void **state)
{
	enum { N = 700 };
	char dir[128], path[256], err[256] = "";
	struct ivsh_server_conf conf;
	struct ivsh_server *srv = NULL;
	struct tclient *probe[1];
	struct tclient **c;
	struct rlimit rl;
	int fds_start;

	(void)state;
	/* 700 clients: 1400 descriptors in the server, 700 on our side. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 2400) {
		print_message("skipped: descriptor limit %llu < 2400\n",
			      (unsigned long long)rl.rlim_cur);
		skip();
	}
	fds_start = test_count_fds();
	c = calloc(N, sizeof(*c));
	assert_non_null(c);
	tc_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/big-%d.sock", dir, (int)getpid());
	tc_conf(&conf, path, 1);
	assert_int_equal(ivsh_server_create(&srv, &conf, err, sizeof(err)), 0);
	for (int i = 0; i < N; i++) {
		c[i] = tc_connect(path);
		assert_non_null(c[i]);
		for (int k = 0; k < 4; k++)
			ivsh_server_process(srv, 0);
		/* Everyone drains, so no queue grows without bound. */
		for (int j = 0; j <= i; j++)
			drain(c[j]->sock);
	}
	for (int k = 0; k < 100 && ivsh_server_client_count(srv) < N; k++)
		ivsh_server_process(srv, 10);
	assert_int_equal(ivsh_server_client_count(srv), N);
	assert_true(test_count_fds() > 2 * N + N);
	/* The newest client still gets a full, correct handshake. */
	probe[0] = tc_connect(path);
	assert_non_null(probe[0]);
	for (int k = 0; k < 1000 && probe[0]->own_count < 1; k++) {
		ivsh_server_process(srv, 0);
		tc_read(probe[0]);
		for (int j = 0; j < N; j++)
			drain(c[j]->sock);
	}
	assert_int_equal(probe[0]->id, N);
	assert_int_equal(probe[0]->err, 0);
	assert_int_equal(probe[0]->total_peer_vec, N);
	printf("# %d clients, %d descriptors open in the test process\n",
	       N + 1, test_count_fds());
	tc_close(probe[0]);
	for (int i = 0; i < N; i++)
		tc_close(c[i]);
	free(c);
	ivsh_server_destroy(srv);
	tc_rmdir(dir);
	assert_int_equal(test_count_fds(), fds_start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_10000_cycles_no_fd_leak),
		cmocka_unit_test(test_past_1024_descriptors),
	};

	return cmocka_run_group_tests_name("server-cycles", tests, NULL, NULL);
}
