/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server: backend against the real ivsh-server program: IDs in connect
 * order, doorbells land on the right vector, emulated INTx busy-poll,
 * disconnect notices, and ivsh-info against the same server.
 *
 * Usage: test_dev_real_server IVSH_SERVER [IVSH_INFO]
 * Exits 77 (skip) when the server program is not there.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivsh_dev.h"

#define SHM_SIZE "1M"
#define VECTORS "2"

static const char *server_bin;
static const char *info_bin;
static char sock_path[108];
static pid_t server_pid = -1;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The one place that knows the server's command line. */
static pid_t spawn_server(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(server_bin, server_bin, "-F", "-S", sock_path,
		      "-l", SHM_SIZE, "-n", VECTORS, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", server_bin, strerror(errno));
		_exit(127);
	}
	return pid;
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
	unlink(sock_path);
}

static int start(void **state)
{
	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/ivsh-itest-dev-%d.sock",
		 (int)getpid());
	unlink(sock_path);
	server_pid = spawn_server();
	return server_pid > 0 ? 0 : -1;
}

static int stop(void **state)
{
	(void)state;
	stop_server();
	return 0;
}

/* Open, retrying while the server is still starting up. */
static struct ivsh_dev *open_dev(const char *opts)
{
	char name[200];
	struct ivsh_dev *dev = NULL;
	int64_t deadline = now_ms() + 5000;
	int rc;

	snprintf(name, sizeof(name), "server:%s%s", sock_path, opts);
	for (;;) {
		rc = ivsh_dev_open(&dev, name, NULL);
		if (rc == 0)
			return dev;
		if ((rc != -ENOENT && rc != -ECONNREFUSED) ||
		    now_ms() > deadline)
			fail_msg("open %s: %s", name, ivsh_dev_last_error());
		if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
			server_pid = -1;
			fail_msg("ivsh-server exited at start-up");
		}
		usleep(20000);
	}
}

/* Process notices until @peer's connected state is @want (or 3 s). */
static void await_peer(struct ivsh_dev *dev, uint16_t peer, int want)
{
	int64_t deadline = now_ms() + 3000;

	while (ivsh_dev_peer_connected(dev, peer) != want) {
		struct pollfd p = { .fd = ivsh_dev_event_fd(dev),
				    .events = POLLIN };
		int rc;

		if (now_ms() > deadline)
			fail_msg("peer %u never became %s", peer,
				 want ? "connected" : "disconnected");
		assert_true(p.fd >= 0);
		(void)poll(&p, 1, 100);
		rc = ivsh_dev_process_events(dev);
		assert_true(rc >= 0);
	}
}

static void test_two_peers(void **state)
{
	struct ivsh_dev *a, *b, *c;
	volatile uint32_t *ma, *mb;
	uint16_t ids[8];
	int64_t deadline;
	uint32_t st;

	(void)state;
	a = open_dev(",vectors=2");
	b = open_dev(",vectors=2");
	/* IDs in connect order; the first (the master) gets 0. */
	assert_int_equal(ivsh_dev_id(a), 0);
	assert_int_equal(ivsh_dev_id(b), 1);
	assert_int_equal(ivsh_dev_reg_read(b, IVSH_REG_IVPOSITION), 1);
	assert_int_equal(ivsh_dev_vectors(a), 2);
	assert_int_equal(ivsh_dev_shm_size(a), 1 << 20);

	/* Same memory. */
	ma = ivsh_dev_shm(a);
	mb = ivsh_dev_shm(b);
	ma[1000] = 0x1234abcd;
	assert_int_equal(mb[1000], 0x1234abcd);

	/* B learnt A in its handshake; A learns B from a notice. */
	assert_int_equal(ivsh_dev_peers(b, ids, 8), 1);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ivsh_dev_peer_vectors(b, 0), 2);
	await_peer(a, 1, 1);
	assert_int_equal(ivsh_dev_peer_vectors(a, 1), 2);

	/* Doorbell A -> B on vector 1 arrives on vector 1 only. */
	assert_int_equal(ivsh_dev_doorbell(a, 1, 1), 0);
	assert_int_equal(ivsh_dev_irq_wait(b, 1, 2000), 1);
	assert_int_equal(ivsh_dev_irq_wait(b, 0, 0), 0);
	assert_int_equal(ivsh_dev_irq_wait(b, 1, 0), 0);
	/* And through the Doorbell register, on vector 0. */
	ivsh_dev_reg_write(b, IVSH_REG_DOORBELL, ivsh_doorbell_value(0, 0));
	assert_int_equal(ivsh_dev_irq_wait(a, 0, 2000), 1);
	assert_int_equal(ivsh_dev_irq_wait(a, 1, 0), 0);
	assert_int_equal(ivsh_dev_doorbell(a, 9, 0), -ENXIO);

	/* Emulated INTx: C busy-polls IntrStatus with IntrMask 0. */
	c = open_dev(",vectors=2,irq=intx-poll");
	assert_int_equal(ivsh_dev_id(c), 2);
	assert_int_equal(ivsh_dev_reg_read(c, IVSH_REG_INTR_MASK), 0);
	assert_int_equal(ivsh_dev_reg_read(c, IVSH_REG_INTR_STATUS), 0);
	await_peer(a, 2, 1);
	assert_int_equal(ivsh_dev_doorbell(a, 2, 1), 0);
	deadline = now_ms() + 2000;
	do {
		st = ivsh_dev_reg_read(c, IVSH_REG_INTR_STATUS);
	} while (!(st & IVSH_INTR_PEER) && now_ms() < deadline);
	assert_int_equal(st, IVSH_INTR_PEER);
	/* The read cleared it. */
	assert_int_equal(ivsh_dev_reg_read(c, IVSH_REG_INTR_STATUS), 0);
	await_peer(b, 2, 1);
	assert_int_equal(ivsh_dev_doorbell(b, 2, 0), 0);
	assert_int_equal(ivsh_dev_intx_poll(c, 2000), 1);
	assert_int_equal(ivsh_dev_intx_poll(c, 0), 0);

	/* A disconnects: B and C are told. */
	ivsh_dev_close(a);
	await_peer(b, 0, 0);
	await_peer(c, 0, 0);
	assert_int_equal(ivsh_dev_doorbell(b, 0, 0), -ENXIO);
	assert_int_equal(ivsh_dev_peers(b, ids, 8), 1);
	assert_int_equal(ids[0], 2);

	/* The server goes away: B hears of it and C still reaches B. */
	stop_server();
	deadline = now_ms() + 3000;
	for (;;) {
		int rc = ivsh_dev_process_events(b);

		if (rc == -ECONNRESET)
			break;
		assert_true(rc >= 0);
		if (now_ms() > deadline)
			fail_msg("server loss not reported");
		usleep(10000);
	}
	assert_int_equal(ivsh_dev_doorbell(c, 1, 1), 0);
	assert_int_equal(ivsh_dev_irq_wait(b, 1, 2000), 1);
	ivsh_dev_close(b);
	ivsh_dev_close(c);
}

/* Start ivsh-info with @args, its stdout and stderr into *@rfd. */
static pid_t start_info(const char *const *args, int *rfd)
{
	const char *argv[16];
	int pipefd[2];
	size_t n = 0;
	pid_t pid;

	argv[n++] = info_bin;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(info_bin, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	*rfd = pipefd[0];
	return pid;
}

/* Collect the output of start_info() and its exit status. */
static int finish_info(pid_t pid, int rfd, char *out, size_t outlen)
{
	size_t got = 0;
	int status;

	for (;;) {
		ssize_t r = read(rfd, out + got, outlen - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == outlen - 1)
			break;
	}
	out[got] = '\0';
	close(rfd);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run ivsh-info with @args; return its exit status, output in @out. */
static int run_info(const char *const *args, char *out, size_t outlen)
{
	int rfd;
	pid_t pid = start_info(args, &rfd);

	return finish_info(pid, rfd, out, outlen);
}

static void test_info_tool(void **state)
{
	struct ivsh_dev *a;
	char name[160], out[4096];

	(void)state;
	if (info_bin == NULL || access(info_bin, X_OK) != 0)
		skip();
	a = open_dev(",vectors=2");
	assert_int_equal(ivsh_dev_id(a), 0);
	snprintf(name, sizeof(name), "server:%s,vectors=2", sock_path);
	{
		const char *args[] = { "--json", name, NULL };

		assert_int_equal(run_info(args, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "\"backend\": \"server\""));
		assert_non_null(strstr(out, "\"id\": 1"));
		assert_non_null(strstr(out, "\"vectors\": 2"));
		/* The peer list shows A with its vectors. */
		assert_non_null(strstr(out, "\"peers\": ["));
	}
	{
		const char *args[] = { "--ring", "0:1", name, NULL };

		assert_int_equal(run_info(args, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "rang peer 0 vector 1"));
		assert_int_equal(ivsh_dev_irq_wait(a, 1, 2000), 1);
	}
	{
		const char *args[] = { "--ring", "7", name, NULL };

		assert_int_equal(run_info(args, out, sizeof(out)), 1);
		assert_non_null(strstr(out, "ivsh-info: peer 7 vector 0 is not connected"));
	}
	{
		const char *args[] = { "--wait", "0", "--timeout", "50", name,
				       NULL };

		assert_int_equal(run_info(args, out, sizeof(out)), 1);
		assert_non_null(strstr(out, "no interrupt on vector 0"));
	}
	{
		/* --listen sees a peer come and go (it is ID 1 itself). */
		const char *args[] = { "--listen", "--timeout", "1500", name,
				       NULL };
		struct ivsh_dev *b;
		pid_t pid;
		int rfd;

		pid = start_info(args, &rfd);
		/* Its first line (A is present) says its open completed. */
		{
			ssize_t r = read(rfd, out, sizeof(out) - 1);

			assert_true(r > 0);
			out[r] = '\0';
			assert_non_null(strstr(out, "peer 0 present (2 vectors)"));
		}
		await_peer(a, 1, 1);
		b = open_dev("");
		assert_int_equal(ivsh_dev_id(b), 2);
		usleep(100000);
		ivsh_dev_close(b);
		assert_int_equal(finish_info(pid, rfd, out, sizeof(out)), 0);
		if (!strstr(out, "peer 2 connected (2 vectors)"))
			fail_msg("listen output: %s", out);
		assert_non_null(strstr(out, "peer 2 disconnected"));
		await_peer(a, 1, 0);
	}
	{
		const char *args[] = { "server:/nonexistent/ivsh.sock", NULL };

		assert_int_equal(run_info(args, out, sizeof(out)), 1);
		assert_non_null(strstr(out, "ivsh-info: server:/nonexistent/ivsh.sock"));
	}
	ivsh_dev_close(a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_peers, start, stop),
		cmocka_unit_test_setup_teardown(test_info_tool, start, stop),
	};

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("SKIP: ivsh-server program not found (%s)\n",
		       argc < 2 ? "no path given" : argv[1]);
		return 77;
	}
	server_bin = argv[1];
	info_bin = argc > 2 ? argv[2] : NULL;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
