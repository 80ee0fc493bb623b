/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Floods against a live server (the library, in a thread):
 *
 * - 20000 connect/close cycles while a peer reads all the time, at a
 *   finite pace: the reader is never dropped, and the per-client log
 *   lines are rate-limited;
 * - with --safe-ids, connect/close cycles from one user (nobody, a child)
 *   while a peer of another user stays: that user's clients still get IDs
 *   (needs root; skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "served_fx.h"
#include "tclient.h"

static atomic_uint client_lines; /* "client N ..." log lines */

static void count_log(void *opaque, int level, const char *msg)
{
	if (strncmp(msg, "client ", 7) == 0)
		atomic_fetch_add(&client_lines, 1);
	tc_log(opaque, level, msg);
}

static int setup(void **state)
{
	struct served_fx *f;

	served_fx_setup(state);
	f = *state;
	f->base.conf.log = count_log;
	atomic_store(&client_lines, 0);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int plain_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		s = -1;
	}
	return s;
}

/* ---- 3: connect/close flood beside a reader ---- */

struct reader {
	struct tclient *tc;
	atomic_int stop;
};

/* Reads whatever is there, then pauses 20 ms: a reader that keeps up
 * with normal traffic, not with a flood. */
static void *read_paced(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->stop) && !r->tc->eof) {
		struct pollfd p = { .fd = r->tc->sock, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			tc_read(r->tc);
		usleep(20000);
	}
	return NULL;
}

static void test_connect_close_flood(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_server_stats st;
	struct reader r = { 0 };
	pthread_t t;
	int64_t t0, took;
	int cycles = 20000;

	served_fx_start(f);
	r.tc = tc_connect(f->base.path);
	assert_non_null(r.tc);
	assert_int_equal(pthread_create(&t, NULL, read_paced, &r), 0);
	t0 = now_ms();
	for (int i = 0; i < cycles; i++) {
		int s = plain_connect(f->base.path);

		assert_true(s >= 0);
		close(s);
	}
	took = now_ms() - t0;
	/* Let the server see the last hang-ups and the reader catch up:
	 * every announcement it got is then matched by a gone notice
	 * (nothing lost; the pairs it did not see were never sent). */
	usleep(200000);
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	for (int64_t end = now_ms() + 10000; !r.tc->eof &&
	     r.tc->total_peer_vec != r.tc->total_gone && now_ms() < end;) {
		struct pollfd p = { .fd = r.tc->sock, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			tc_read(r.tc);
	}
	served_fx_stop(f);
	ivsh_server_get_stats(f->base.srv, &st);
	printf("%d connect/close cycles in %lld ms beside a paced reader: reader %s, dropped_slow %llu, %u client log lines, %llu peer announcements and %llu gone notices read\n",
	       cycles, (long long)took, r.tc->eof ? "DROPPED" : "kept",
	       (unsigned long long)st.dropped_slow,
	       atomic_load(&client_lines),
	       (unsigned long long)r.tc->total_peer_vec,
	       (unsigned long long)r.tc->total_gone);
	assert_false(r.tc->eof);
	assert_int_equal(st.dropped_slow, 0);
	assert_int_equal(r.tc->total_peer_vec, r.tc->total_gone);
	assert_true(atomic_load(&client_lines) < 1000);
	tc_close(r.tc);
}

/* ---- 5: --safe-ids against one user's connect/close cycles ---- */

static int flood_as(uid_t uid, gid_t gid, const char *path, int cycles)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int refused = 0;

		if (setgid(gid) < 0 || setuid(uid) < 0)
			_exit(255);
		for (int i = 0; i < cycles; i++) {
			int s = plain_connect(path);
			char b[8];

			if (s < 0)
				_exit(254);
			/* Wait for the version (an ID was given) or EOF. */
			if (recv(s, b, sizeof(b), 0) <= 0)
				refused++;
			close(s);
		}
		_exit(refused > 250 ? 250 : refused);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) < 254);
	return WEXITSTATUS(status);
}

static void test_safe_ids_exhaustion(void **state)
{
	struct served_fx *f = *state;
	struct passwd *pw = getpwnam("nobody");
	struct tclient *stayer, *later;
	struct ivsh_server_stats st;
	int refused, id = -1;
	int64_t t0;

	if (geteuid() != 0 || !pw) {
		printf("SKIP: needs root and a user 'nobody'\n");
		skip();
	}
	f->base.conf.id_policy = IVSH_SERVER_IDS_SAFE;
	f->base.conf.max_clients = 512;
	f->base.conf.socket_mode = 0777;
	chmod(f->base.dir, 0755);
	served_fx_start(f);
	stayer = tc_connect(f->base.path);
	assert_non_null(stayer);

	t0 = now_ms();
	refused = flood_as(pw->pw_uid, pw->pw_gid, f->base.path, 600);
	printf("600 connect/close cycles by uid %u in %lld ms: %d refused\n",
	       (unsigned int)pw->pw_uid, (long long)(now_ms() - t0),
	       refused);
	later = tc_connect(f->base.path);
	assert_non_null(later);
	for (int64_t end = now_ms() + 5000; later->id < 0 && !later->eof &&
					     now_ms() < end;) {
		struct pollfd p = { .fd = later->sock, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			tc_read(later);
	}
	id = later->id;
	served_fx_stop(f);
	ivsh_server_get_stats(f->base.srv, &st);
	printf("a client of another user then: %s (ID %d); rejected_ids %llu\n",
	       id >= 0 ? "accepted" : "REFUSED", id,
	       (unsigned long long)st.rejected_ids);
	assert_true(id >= 0);
	assert_true(refused > 0);
	tc_close(later);
	tc_close(stayer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_close_flood,
						setup, served_fx_teardown),
		cmocka_unit_test_setup_teardown(test_safe_ids_exhaustion,
						setup, served_fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
