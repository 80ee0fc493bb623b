/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ivsh-server program, spawned: every bad input exits 1 with exactly
 * one line "ivsh-server: ..." on stderr; a good start serves clients,
 * and SIGTERM/SIGINT stop it cleanly (socket and pid file removed), in
 * the foreground and as a daemon.
 *
 * Usage: test_cli /path/to/ivsh-server
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

static const char *server_bin;
/* A server left running by a failed test: killed by the teardown. */
static pid_t running = -1;
static char dir[128];
static char sock[256];

struct run {
	pid_t pid;
	int err_fd; /* read end of the child's stderr */
};

static void spawn(struct run *r, const char *const *args)
{
	const char *argv[32];
	int p[2];
	int n = 0;

	argv[n++] = server_bin;
	while (args[n - 1] && n < 31) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		dup2(p[1], STDERR_FILENO);
		execv(server_bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	r->err_fd = p[0];
}

/* Everything the child wrote to stderr until it closed it. */
static void read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fd);
}

static int wait_exit(pid_t pid, int timeout_ms)
{
	int status;

	for (int i = 0; i < timeout_ms / 10; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   128 + WTERMSIG(status);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("ivsh-server did not exit within %d ms", timeout_ms);
	return -1;
}

/* Run with @p args; expect exit 1 and one line naming the problem. */
static void expect_error(const char *needle, const char *const *args)
{
	struct run r;
	char err[4096];
	int rc;
	char *nl;

	spawn(&r, args);
	read_all(r.err_fd, err, sizeof(err));
	rc = wait_exit(r.pid, 10000);
	if (rc != 1)
		fail_msg("%s: exit %d, want 1 (stderr: %s)", args[0], rc, err);
	nl = strchr(err, '\n');
	if (!nl || nl[1] != 0)
		fail_msg("%s: want exactly one line on stderr, got: '%s'",
			 args[0], err);
	if (strncmp(err, "ivsh-server: ", 13) || !strstr(err, needle))
		fail_msg("%s: stderr '%s' lacks '%s'", args[0], err, needle);
}

#define E(needle, ...) \
	expect_error(needle, (const char *const[]){ __VA_ARGS__, NULL })

static void test_bad_inputs(void **state)
{
	char missing[300], file[300];
	int fd;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no/such/dir/s.sock", dir);
	snprintf(file, sizeof(file), "%s/plainfile", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);

	E("unknown option '--bogus'", "--bogus");
	E("unknown option '-x'", "-x");
	E("needs an argument", "-S");
	E("needs an argument", "--size");
	E("bad size 'abc'", "-F", "-S", sock, "-l", "abc");
	E("bad size", "-F", "-S", sock, "-l", "");
	E("bad size '4MB'", "-F", "-S", sock, "-l", "4MB");
	E("bad size '-4M'", "-F", "-S", sock, "-l", "-4M");
	E("not a power of two", "-F", "-S", sock, "-l", "1000");
	E("not a power of two", "-F", "-S", sock, "--size", "3M");
	E("too small", "-F", "-S", sock, "-l", "1k");
	E("not a power of two", "-F", "-S", sock, "-l", "0");
	E("too large", "-F", "-S", sock, "-l", "99999999999999999999");
	E("bad vector count '0'", "-F", "-S", sock, "-n", "0");
	E("bad vector count '65'", "-F", "-S", sock, "-n", "65");
	E("bad vector count 'two'", "-F", "-S", sock, "--vectors", "two");
	E("does not exist", "-F", "-S", missing);
	E("not a socket", "-F", "-S", file);
	E("bad client limit", "-F", "-S", sock, "--max-clients", "0");
	E("bad client limit", "-F", "-S", sock, "--max-clients", "65537");
	E("bad socket mode", "-F", "-S", sock, "--mode", "0999");
	E("unknown group", "-F", "-S", sock, "--group", "no-such-group-xyz");
	E("choose one of", "-F", "-S", sock, "-M", "x", "--memfd");
	E("unexpected argument 'extra'", "-F", "-S", sock, "extra");
	/* --safe-ids takes no value, and does not excuse other mistakes. */
	E("option '--safe-ids' takes no argument", "-F", "-S", sock,
	  "--safe-ids=1");
	E("option '--memfd' takes no argument", "-F", "-S", sock, "--memfd=1");
	E("choose one of", "-F", "-S", sock, "--safe-ids", "-M", "x",
	  "--memfd");
	E("bad client limit", "-F", "-S", sock, "--safe-ids",
	  "--max-clients", "0");
	E("unexpected argument '1'", "-F", "-S", sock, "--safe-ids", "1");
	/* Nothing was left behind by the failures. */
	assert_int_equal(access(sock, F_OK), -1);
	unlink(file);
}

static void test_help(void **state)
{
	struct run r;
	char err[1024];
	int p[2], status;
	char out[8192];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(p), 0);
	r.pid = fork();
	if (r.pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl(server_bin, server_bin, "--help", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	assert_true(n > 0);
	out[n] = 0;
	waitpid(r.pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "--socket"));
	assert_non_null(strstr(out, "--max-clients"));
	assert_non_null(strstr(out, "--safe-ids"));
	(void)err;
}

/* Wait until a server answers on @p path and its handshake is in. */
static struct tclient *connect_and_handshake(const char *path, int vectors)
{
	struct tclient *tc = NULL;

	for (int i = 0; i < 500 && !tc; i++) {
		tc = tc_connect(path);
		if (!tc)
			usleep(10000);
	}
	assert_non_null(tc);
	for (int i = 0; i < 500 && tc->own_count < vectors && !tc->err; i++) {
		struct pollfd pfd = { .fd = tc->sock, .events = POLLIN };

		poll(&pfd, 1, 10);
		tc_read(tc);
	}
	assert_int_equal(tc->err, 0);
	return tc;
}

static long read_pid(const char *file)
{
	char buf[32] = "";
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtol(buf, NULL, 10);
}

static void test_foreground_serves_and_stops(void **state)
{
	char pidfile[300], err[8192];
	struct tclient *a, *b;
	struct run r, busy;
	int sig_ids[] = { SIGTERM, SIGINT };

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/fg.pid", dir);
	for (int k = 0; k < 2; k++) {
		spawn(&r, (const char *const[]){ "-F", "-S", sock, "-l", "1M",
			"-n", "2", "-p", pidfile, "--mode", "0660", NULL });
		running = r.pid;
		a = connect_and_handshake(sock, 2);
		assert_int_equal(a->id, 0);
		assert_int_equal(a->own_count, 2);
		assert_int_equal(read_pid(pidfile), (long)r.pid);

		/* A second server on the same socket is refused, and did not
		 * disturb the first: the next client is 1, not 2. */
		spawn(&busy, (const char *const[]){ "-F", "-S", sock, NULL });
		read_all(busy.err_fd, err, sizeof(err));
		assert_int_equal(wait_exit(busy.pid, 10000), 1);
		assert_non_null(strstr(err, "ivsh-server: socket"));
		assert_non_null(strstr(err, "already in use"));
		assert_true(strchr(err, '\n') == err + strlen(err) - 1);
		b = connect_and_handshake(sock, 2);
		assert_int_equal(b->id, 1);
		tc_close(b);
		tc_close(a);

		assert_int_equal(kill(r.pid, sig_ids[k]), 0);
		assert_int_equal(wait_exit(r.pid, 10000), 0);
		running = -1;
		read_all(r.err_fd, err, sizeof(err));
		/* Timestamped log lines for both clients. */
		assert_non_null(strstr(err, "Z ivsh-server: client 0 connected"));
		assert_non_null(strstr(err, "client 1 disconnected"));
		assert_non_null(strstr(err, "shutting down"));
		assert_int_equal(access(sock, F_OK), -1);
		assert_int_equal(access(pidfile, F_OK), -1);
	}
}

/* Read @p tc until @p done says so (5 s at most). */
static void read_until(struct tclient *tc, bool (*done)(struct tclient *))
{
	for (int i = 0; i < 500 && !done(tc) && !tc->err; i++) {
		struct pollfd pfd = { .fd = tc->sock, .events = POLLIN };

		poll(&pfd, 1, 10);
		tc_read(tc);
	}
	assert_int_equal(tc->err, 0);
	assert_true(done(tc));
}

static bool saw_0_leave(struct tclient *tc)
{
	return tc->peer_gone_events[0] > 0;
}

static void test_safe_ids_served(void **state)
{
	char err[8192];
	struct tclient *a, *b, *c;
	struct run r;

	(void)state;
	spawn(&r, (const char *const[]){ "-F", "-v", "-S", sock,
		"--safe-ids", NULL });
	running = r.pid;
	a = connect_and_handshake(sock, 1);
	b = connect_and_handshake(sock, 1);
	assert_int_equal(a->id, 0);
	assert_int_equal(b->id, 1);
	tc_close(a);
	read_until(b, saw_0_leave);
	/* b saw 0 go: the newcomer gets 2, not 0. */
	c = connect_and_handshake(sock, 1);
	assert_int_equal(c->id, 2);
	tc_close(b);
	tc_close(c);
	assert_int_equal(kill(r.pid, SIGTERM), 0);
	assert_int_equal(wait_exit(r.pid, 10000), 0);
	running = -1;
	read_all(r.err_fd, err, sizeof(err));
	assert_non_null(strstr(err, "safe IDs"));
	assert_non_null(strstr(err, "ID 0 held back"));
	assert_non_null(strstr(err, "client 2 connected"));
}

static void test_daemon_mode(void **state)
{
	char pidfile[300], err[4096];
	struct tclient *a;
	struct run r;
	long pid;
	int i, rc;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/d.pid", dir);
	spawn(&r, (const char *const[]){ "-S", sock, "-p", pidfile, NULL });
	/* The launcher returns once the daemon is ready. */
	rc = wait_exit(r.pid, 10000);
	pid = read_pid(pidfile);
	if (pid > 0)
		running = (pid_t)pid;
	assert_int_equal(rc, 0);
	read_all(r.err_fd, err, sizeof(err));
	assert_string_equal(err, "");
	assert_true(pid > 0 && pid != r.pid);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	assert_int_equal(access(sock, F_OK), 0);
	a = connect_and_handshake(sock, 1);
	assert_int_equal(a->id, 0);
	tc_close(a);
	assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
	for (i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
		usleep(10000);
	assert_true(i < 500);
	running = -1;
	assert_int_equal(access(sock, F_OK), -1);
	assert_int_equal(access(pidfile, F_OK), -1);
}

static void test_daemon_reports_pidfile_error(void **state)
{
	char pidfile[300], err[4096];
	struct run r;
	char *nl;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/nodir/d.pid", dir);
	spawn(&r, (const char *const[]){ "-S", sock, "-p", pidfile, NULL });
	read_all(r.err_fd, err, sizeof(err));
	assert_int_equal(wait_exit(r.pid, 10000), 1);
	assert_non_null(strstr(err, "ivsh-server: cannot write pid file"));
	nl = strchr(err, '\n');
	assert_true(nl && nl[1] == 0);
	/* The daemon cleaned up before exiting. */
	for (int i = 0; i < 100 && access(sock, F_OK) == 0; i++)
		usleep(10000);
	assert_int_equal(access(sock, F_OK), -1);
}

static int cleanup(void **state)
{
	(void)state;
	if (running > 0) {
		kill(running, SIGKILL);
		waitpid(running, NULL, WNOHANG);
		running = -1;
		usleep(100000);
		unlink(sock);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_inputs, cleanup),
		cmocka_unit_test_teardown(test_help, cleanup),
		cmocka_unit_test_teardown(test_foreground_serves_and_stops, cleanup),
		cmocka_unit_test_teardown(test_safe_ids_served, cleanup),
		cmocka_unit_test_teardown(test_daemon_mode, cleanup),
		cmocka_unit_test_teardown(test_daemon_reports_pidfile_error, cleanup),
	};
	int rc;

	if (argc < 2 || access(argv[1], X_OK) < 0) {
		printf("skipped: no ivsh-server binary given\n");
		return 77;
	}
	server_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	tc_mkdtemp(dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/cli-%d.sock", dir, (int)getpid());
	rc = cmocka_run_group_tests_name("server-cli", tests, NULL, NULL);
	tc_rmdir(dir);
	return rc;
}
