/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Against real QEMU: the in-process server hands IDs to two
 * ivshmem-doorbell devices; the first must be the master (ID 0), the
 * second ID 1, and each guest-visible IVPosition register (read with the
 * monitor's xp after the firmware assigned BAR0) must agree. No guest
 * kernel is needed. Skips (77) without qemu-system-x86_64.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

struct qemu {
	pid_t pid;
	int in;   /* monitor commands */
	int out;  /* monitor output */
	char buf[65536];
	size_t len;
};

static struct qemu *qemus[2];
static char dir[128]; /* removed by the teardown, pass or fail */

static struct qemu *qemu_start(const char *sock)
{
	struct qemu *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->pid = tq_spawn(qemu_bin, sock, 2, true, &q->in, &q->out);
	return q;
}

static void qemu_read(struct qemu *q)
{
	for (;;) {
		ssize_t n;

		if (q->len + 1 >= sizeof(q->buf))
			q->len = 0; /* only recent output matters */
		n = read(q->out, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n <= 0)
			break;
		q->len += (size_t)n;
		q->buf[q->len] = 0;
	}
}

static void qemu_cmd(struct qemu *q, const char *cmd)
{
	q->len = 0;
	q->buf[0] = 0;
	assert_int_equal(write(q->in, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
}

/* Run server and QEMU output for @p ms, or until @p done says so. */
static void spin(struct ivsh_server *srv, struct qemu *q, int ms,
		 bool (*done)(struct ivsh_server *, struct qemu *))
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ivsh_server_process(srv, 20);
		if (q)
			qemu_read(q);
		if (done && done(srv, q))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return;
	}
}

static unsigned int want_clients;

static bool have_clients(struct ivsh_server *srv, struct qemu *q)
{
	(void)q;
	return ivsh_server_client_count(srv) == want_clients;
}

static bool have_prompt_after_output(struct ivsh_server *srv, struct qemu *q)
{
	(void)srv;
	/* A command's output is complete when the next prompt shows. */
	return strstr(q->buf, "\n(qemu)") != NULL ||
	       strstr(q->buf, "\r\n(qemu)") != NULL;
}

/* BAR0 of the ivshmem device, once the firmware has assigned it. */
static unsigned long long find_bar0(const char *s)
{
	const char *dev = strstr(s, "1af4:1110");
	const char *bar;
	unsigned long long a;

	if (!dev)
		return 0;
	bar = strstr(dev, "BAR0: 32 bit memory at 0x");
	if (!bar || sscanf(bar, "BAR0: 32 bit memory at 0x%llx", &a) != 1)
		return 0;
	/* Not yet assigned: all ones (or anything past 32 bits). */
	return a >= 0xffffffffULL ? 0 : a;
}

static long read_ivposition(struct ivsh_server *srv, struct qemu *q)
{
	unsigned long long bar0 = 0;
	char cmd[64];
	const char *p;
	unsigned int w[4];

	/* The firmware assigns BARs within a second or two under TCG. */
	for (int i = 0; i < 60 && !bar0; i++) {
		qemu_cmd(q, "info pci\n");
		spin(srv, q, 2000, have_prompt_after_output);
		bar0 = find_bar0(q->buf);
		if (!bar0)
			spin(srv, q, 500, NULL);
	}
	if (!bar0)
		fail_msg("no BAR0 for the ivshmem device in 'info pci'");
	snprintf(cmd, sizeof(cmd), "xp /4wx 0x%llx\n", bar0);
	qemu_cmd(q, cmd);
	spin(srv, q, 5000, have_prompt_after_output);
	snprintf(cmd, sizeof(cmd), "%016llx:", bar0);
	p = strstr(q->buf, cmd);
	if (!p || sscanf(p + strlen(cmd), " 0x%x 0x%x 0x%x 0x%x", &w[0], &w[1],
			 &w[2], &w[3]) != 4)
		fail_msg("cannot parse xp output: %s", q->buf);
	printf("# BAR0 at 0x%llx: IntrMask 0x%x IntrStatus 0x%x IVPosition 0x%x\n",
	       bar0, w[0], w[1], w[2]);
	return (long)(int)w[2];
}

static void qemu_stop(struct qemu *q)
{
	int status;

	if (!q)
		return;
	if (write(q->in, "quit\n", 5) < 0) {
		/* already gone */
	}
	for (int i = 0; i < 500; i++) {
		if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
			q->pid = -1;
			break;
		}
		usleep(10000);
	}
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
	}
	close(q->in);
	close(q->out);
	free(q);
}

static int stop_all(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		qemu_stop(qemus[i]);
		qemus[i] = NULL;
	}
	if (state && dir[0]) {
		tc_rmdir(dir);
		dir[0] = 0;
	}
	return 0;
}

static void test_qemu_gets_id_0_then_1(void **state)
{
	char path[256], err[256] = "";
	struct ivsh_server_conf conf;
	struct ivsh_server *srv = NULL;
	uint16_t ids[4];

	(void)state;
	tc_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/qemu-%d.sock", dir, (int)getpid());
	tc_conf(&conf, path, 2);
	conf.shm_size = 1 << 20;
	assert_int_equal(ivsh_server_create(&srv, &conf, err, sizeof(err)), 0);

	qemus[0] = qemu_start(path);
	want_clients = 1;
	spin(srv, qemus[0], 30000, have_clients);
	assert_int_equal(ivsh_server_client_count(srv), 1);
	assert_int_equal(ivsh_server_client_ids(srv, ids, 4), 1);
	assert_int_equal(ids[0], 0);
	assert_true(tc_log_has("client 0 connected"));
	assert_int_equal(read_ivposition(srv, qemus[0]), 0);

	qemus[1] = qemu_start(path);
	want_clients = 2;
	spin(srv, qemus[1], 30000, have_clients);
	assert_int_equal(ivsh_server_client_ids(srv, ids, 4), 2);
	assert_int_equal(ids[1], 1);
	assert_int_equal(read_ivposition(srv, qemus[1]), 1);
	/* QEMU drained its whole handshake: nothing left queued. */
	assert_int_equal(ivsh_server_client_pending(srv, 0), 0);
	assert_int_equal(ivsh_server_client_pending(srv, 1), 0);

	/* The master leaves; the second stays; a new one becomes 0. */
	qemu_stop(qemus[0]);
	qemus[0] = NULL;
	want_clients = 1;
	spin(srv, NULL, 10000, have_clients);
	assert_int_equal(ivsh_server_client_ids(srv, ids, 4), 1);
	assert_int_equal(ids[0], 1);
	assert_true(tc_log_has("client 0 disconnected"));

	stop_all(NULL);
	want_clients = 0;
	spin(srv, NULL, 10000, have_clients);
	assert_int_equal(ivsh_server_client_count(srv), 0);
	ivsh_server_destroy(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_qemu_gets_id_0_then_1, stop_all),
	};

	if (!tq_find_qemu(qemu_bin, sizeof(qemu_bin))) {
		printf("skipped: qemu-system-x86_64 not found\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("server-qemu", tests, NULL, NULL);
}
