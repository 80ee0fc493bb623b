/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The safe ID policy against a real QEMU ivshmem-doorbell device. QEMU
 * 7.2 frees a peer's eventfd array when told the peer has gone, keeps the
 * pointer, and writes into it when a peer with the same ID arrives later.
 * Here host client X takes ID 0, QEMU connects as 1, X leaves (QEMU frees
 * peer 0's array) and host client Y connects: with IVSH_SERVER_IDS_SAFE Y
 * must get 2, and QEMU must drain every message and stay alive. A third
 * client Z (after Y left) must get 3 for the same reason. No guest kernel
 * is needed. Skips (77) without qemu-system-x86_64.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu_proc.h"
#include "tclient.h"

static char qemu_bin[512];
static pid_t qemu_pid = -1;
static int qemu_out = -1;           /* QEMU's stdout and stderr */
static char qemu_text[8192];
static size_t qemu_len;
static char dir[128];               /* removed by the teardown */

static void qemu_start(const char *sock)
{
	int no_monitor;

	qemu_pid = tq_spawn(qemu_bin, sock, 1, false, &no_monitor, &qemu_out);
	qemu_len = 0;
	qemu_text[0] = 0;
}

/* Keep what QEMU prints, to show it if the test fails. */
static void qemu_collect(void)
{
	ssize_t n;

	while (qemu_out >= 0 && qemu_len + 1 < sizeof(qemu_text) &&
	       (n = read(qemu_out, qemu_text + qemu_len,
			 sizeof(qemu_text) - 1 - qemu_len)) > 0) {
		qemu_len += (size_t)n;
		qemu_text[qemu_len] = 0;
	}
}

static bool qemu_running(void)
{
	int status;

	if (qemu_pid <= 0)
		return false;
	if (waitpid(qemu_pid, &status, WNOHANG) == qemu_pid) {
		qemu_pid = -1;
		return false;
	}
	return true;
}

static void qemu_stop(void)
{
	int status;

	if (qemu_pid > 0) {
		kill(qemu_pid, SIGTERM);
		for (int i = 0; i < 300; i++) {
			if (waitpid(qemu_pid, &status, WNOHANG) == qemu_pid) {
				qemu_pid = -1;
				break;
			}
			usleep(10000);
		}
		if (qemu_pid > 0) {
			kill(qemu_pid, SIGKILL);
			waitpid(qemu_pid, &status, 0);
			qemu_pid = -1;
		}
	}
	if (qemu_out >= 0)
		close(qemu_out);
	qemu_out = -1;
}

static int cleanup(void **state)
{
	(void)state;
	qemu_stop();
	if (dir[0]) {
		tc_rmdir(dir);
		dir[0] = 0;
	}
	return 0;
}

struct world {
	struct ivsh_server *srv;
	struct tclient *tc[3];
};

static unsigned int want_clients;

static bool have_clients(struct world *w)
{
	return ivsh_server_client_count(w->srv) == want_clients;
}

/* QEMU (ID 1) has taken every message the server had for it. */
static bool qemu_drained(struct world *w)
{
	return ivsh_server_client_pending(w->srv, 1) == 0;
}

/*
 * Run the server, the host clients and QEMU's output for up to @p ms, or
 * until @p done (if any) says so. Fails at once if QEMU dies.
 */
static void spin(struct world *w, int ms, bool (*done)(struct world *))
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ivsh_server_process(w->srv, 20);
		for (int i = 0; i < 3; i++)
			if (w->tc[i])
				tc_read(w->tc[i]);
		qemu_collect();
		if (!qemu_running())
			fail_msg("QEMU exited; its output:\n%s", qemu_text);
		if (done && done(w))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return;
	}
}

static void test_qemu_survives_host_client_restart(void **state)
{
	char path[256], err[256] = "";
	struct ivsh_server_conf conf;
	struct ivsh_server_stats st;
	struct world w = { 0 };
	uint16_t ids[4];

	(void)state;
	tc_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/safe-%d.sock", dir, (int)getpid());
	tc_conf(&conf, path, 1);
	conf.shm_size = 1 << 20;
	conf.id_policy = IVSH_SERVER_IDS_SAFE;
	assert_int_equal(ivsh_server_create(&w.srv, &conf, err, sizeof(err)),
			 0);

	/* Host client X first: the master, ID 0. */
	w.tc[0] = tc_connect(path);
	assert_non_null(w.tc[0]);
	tc_pump(w.srv, w.tc, 1);
	assert_int_equal(w.tc[0]->id, 0);

	/* QEMU second: ID 1. Wait until it has read its whole handshake
	 * (X's eventfd included) and X has been told about it. */
	qemu_start(path);
	want_clients = 2;
	spin(&w, 30000, have_clients);
	assert_int_equal(ivsh_server_client_ids(w.srv, ids, 4), 2);
	assert_int_equal(ids[1], 1);
	spin(&w, 10000, qemu_drained);
	assert_int_equal(ivsh_server_client_pending(w.srv, 1), 0);
	assert_int_equal(w.tc[0]->peer_vec_events[1], 1);

	/* X leaves: QEMU frees its peer-0 array on the notice. */
	tc_close(w.tc[0]);
	w.tc[0] = NULL;
	want_clients = 1;
	spin(&w, 10000, have_clients);
	spin(&w, 10000, qemu_drained);

	/* Y must not be 0 while QEMU, which saw 0 go, is connected. */
	w.tc[1] = tc_connect(path);
	assert_non_null(w.tc[1]);
	want_clients = 2;
	spin(&w, 10000, have_clients);
	spin(&w, 10000, qemu_drained);
	assert_int_equal(w.tc[1]->id, 2);
	assert_int_equal(w.tc[1]->peer_vec_events[1], 1);
	assert_true(tc_log_has("ID 0 held back"));

	/* Y leaves, Z arrives: 0 and 2 are both held back by QEMU. */
	tc_close(w.tc[1]);
	w.tc[1] = NULL;
	want_clients = 1;
	spin(&w, 10000, have_clients);
	w.tc[2] = tc_connect(path);
	assert_non_null(w.tc[2]);
	want_clients = 2;
	spin(&w, 10000, have_clients);
	spin(&w, 10000, qemu_drained);
	assert_int_equal(w.tc[2]->id, 3);

	/* QEMU handled every notice and keeps running. */
	spin(&w, 3000, NULL);
	assert_true(qemu_running());
	assert_int_equal(ivsh_server_client_pending(w.srv, 1), 0);
	ivsh_server_get_stats(w.srv, &st);
	assert_int_equal(st.ids_held_back, 2);
	assert_int_equal(st.disconnects, 2);
	printf("# QEMU alive after 2 host clients left and 2 joined (IDs 2, 3)\n");

	qemu_stop();
	tc_close(w.tc[2]);
	w.tc[2] = NULL;
	ivsh_server_destroy(w.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_qemu_survives_host_client_restart,
					  cleanup),
	};

	if (!tq_find_qemu(qemu_bin, sizeof(qemu_bin))) {
		printf("skipped: qemu-system-x86_64 not found\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("server-qemu-safe-ids", tests,
					   NULL, NULL);
}
