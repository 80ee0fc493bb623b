/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the hostile-peer and hostile-server tests: the clock, and a
 * victim step run in a forked child with a deadline, so that a
 * regression fails the test instead of hanging it.
 */
#ifndef IVSH_TEST_HOSTILE_FX_H
#define IVSH_TEST_HOSTILE_FX_H

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A victim operation that takes longer than this is hung. */
#define HANG_MS 6000

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read @p tc until @p done or 5 s pass. */
/*
 * Run @p fn in a child; fail unless it exits 0 within @p limit_ms.
 * @return the time it took.
 */
static inline int64_t in_child(int (*fn)(void *), void *arg, int limit_ms,
			const char *what)
{
	int64_t t0 = now_ms();
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Die of a fault: cmocka's handlers would carry on here. */
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		_exit(fn(arg));
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (now_ms() - t0 > limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("%s: still blocked after %d ms", what,
				 limit_ms);
		}
		usleep(5000);
	}
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s)", what,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		fail_msg("%s: exit status %d", what, WEXITSTATUS(status));
	return now_ms() - t0;
}

#endif /* IVSH_TEST_HOSTILE_FX_H */
