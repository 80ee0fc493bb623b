/* SPDX-License-Identifier: BSD-3-Clause */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 64

static char test_name[64];
static pid_t children[MAX_CHILDREN];
static pid_t owner_pid;
static char paths[16][128];
static unsigned int nb_paths;

static void forget(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static void remember(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			return;
		}
}

static void kill_children(void)
{
	if (getpid() != owner_pid)
		return;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	for (unsigned int i = 0; i < nb_paths; i++)
		unlink(paths[i]);
}

static void on_fatal(int sig)
{
	/* async-signal-safe subset: kill and unlink only */
	if (getpid() == owner_pid) {
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (children[i] > 0)
				kill(children[i], SIGKILL);
		for (unsigned int i = 0; i < nb_paths; i++)
			unlink(paths[i]);
	}
	if (sig == SIGALRM) {
		static const char msg[] = "FAIL: watchdog expired (hang)\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void it_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (getpid() == owner_pid)
		kill_children();
	exit(1);
}

void it_init(const char *name, int timeout_s, const char *server_bin)
{
	snprintf(test_name, sizeof(test_name), "%s", name);
	owner_pid = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (server_bin && access(server_bin, X_OK) != 0) {
		printf("SKIP: %s: ivsh-server not built (%s)\n", name, server_bin);
		exit(IT_SKIP);
	}
	atexit(kill_children);
	signal(SIGALRM, on_fatal);
	signal(SIGINT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned int)timeout_s);
}

const char *it_path(const char *what)
{
	if (nb_paths >= sizeof(paths) / sizeof(paths[0]))
		IT_FAIL("too many paths");
	snprintf(paths[nb_paths], sizeof(paths[0]), "/tmp/ivsh-it-%s-%d-%s",
		 test_name, (int)owner_pid, what);
	unlink(paths[nb_paths]);
	return paths[nb_paths++];
}

void it_track(const char *path)
{
	if (nb_paths >= sizeof(paths) / sizeof(paths[0]))
		IT_FAIL("too many paths");
	snprintf(paths[nb_paths++], sizeof(paths[0]), "%s", path);
}

uint64_t it_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void it_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void it_pin(unsigned int n)
{
	cpu_set_t set;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(n % (unsigned int)(cpus > 0 ? cpus : 1), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Only stat the path: a test connect would become a real client (ID 0). */
static bool socket_ready(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

pid_t it_start_server(const char *server_bin, const char *sock,
		      const char *size, int vectors)
{
	return it_start_server_opts(server_bin, sock, size, vectors, NULL);
}

pid_t it_start_server_opts(const char *server_bin, const char *sock,
			   const char *size, int vectors, const char *opt)
{
	char vec[16], optbuf[256];
	uint64_t end = it_now_ms() + 10000;

	snprintf(vec, sizeof(vec), "%d", vectors);
	snprintf(optbuf, sizeof(optbuf), "%s", opt ? opt : "");
	char *val = strchr(optbuf, '=');

	if (val != NULL)
		*val++ = '\0';
	char *const argv[] = { (char *)server_bin, "-F", "-S", (char *)sock,
			       "-l", (char *)size, "-n", vec,
			       opt ? optbuf : NULL, val, NULL };
	pid_t pid = it_spawn(argv, NULL, NULL);

	while (!socket_ready(sock)) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			forget(pid);
			IT_FAIL("ivsh-server exited early (%s)", it_status_str(st));
		}
		if (it_now_ms() > end)
			IT_FAIL("ivsh-server socket %s did not appear", sock);
		it_sleep_ms(10);
	}
	return pid;
}

pid_t it_fork(int (*fn)(void *arg), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();

	if (pid < 0)
		IT_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		alarm(0);
		signal(SIGALRM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		_exit(fn(arg));
	}
	remember(pid);
	return pid;
}

pid_t it_spawn(char *const argv[], int *out_fd, int *err_fd)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };

	if ((out_fd && pipe2(out, O_CLOEXEC)) || (err_fd && pipe2(err, O_CLOEXEC)))
		IT_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();

	if (pid < 0)
		IT_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		if (out_fd)
			dup2(out[1], 1);
		if (err_fd)
			dup2(err[1], 2);
		signal(SIGPIPE, SIG_DFL);
		alarm(0);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	remember(pid);
	if (out_fd) {
		close(out[1]);
		*out_fd = out[0];
	}
	if (err_fd) {
		close(err[1]);
		*err_fd = err[0];
	}
	return pid;
}

int it_wait(pid_t pid, int timeout_ms)
{
	uint64_t end = it_now_ms() + (uint64_t)timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			forget(pid);
			return st;
		}
		if (r < 0 && errno != EINTR)
			IT_FAIL("waitpid %d: %s", (int)pid, strerror(errno));
		if (it_now_ms() >= end)
			return -1;
		it_sleep_ms(5);
	}
}

void it_kill(pid_t pid, int sig)
{
	kill(pid, sig);
	waitpid(pid, NULL, 0);
	forget(pid);
}

const char *it_status_str(int status)
{
	static char buf[64];

	if (status == -1)
		snprintf(buf, sizeof(buf), "still running (timeout)");
	else if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}

bool it_ok(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

char *it_read_all(int fd, int timeout_ms)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	uint64_t end = it_now_ms() + (uint64_t)timeout_ms;

	if (!buf)
		IT_FAIL("out of memory");
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end > it_now_ms() ? end - it_now_ms() : 0);

		if (poll(&p, 1, left) <= 0)
			break;
		if (len + 1024 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				IT_FAIL("out of memory");
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int it_wait_line(int fd, const char *needle, char *line, size_t len,
		 int timeout_ms)
{
	uint64_t end = it_now_ms() + (uint64_t)timeout_ms;
	size_t used = 0;
	char c;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end > it_now_ms() ? end - it_now_ms() : 0);

		if (poll(&p, 1, left) <= 0)
			return -1;
		/* byte at a time: nothing past the line is consumed */
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c != '\n') {
			if (used + 1 < len)
				line[used++] = c;
			continue;
		}
		line[used] = '\0';
		if (strstr(line, needle))
			return 0;
		used = 0;
	}
}
