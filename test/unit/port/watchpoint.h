/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hardware watchpoints for race tests: the handler runs right after the
 * watched access, in the middle of the code under test, so an
 * interleaving that threads hit only by luck happens every time.
 * Needs perf_event_open() with sigtrap (Linux >= 5.13) and a
 * perf_event_paranoid that allows it; watch_arm() fails otherwise and
 * the test should skip.
 */
#ifndef WATCHPOINT_H
#define WATCHPOINT_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

struct watch {
	int fd;
	struct sigaction old;
};

static struct watch *watch_current;

/* Call first thing in the handler: one trap per arming. */
static inline void watch_disarm(void)
{
	if (watch_current != NULL)
		ioctl(watch_current->fd, PERF_EVENT_IOC_DISABLE, 0);
}

/*
 * Trap after the first read or write of the @p len (1, 2, 4 or 8) bytes
 * at @p addr by this thread: @p fn runs in a SIGTRAP handler.
 * @return 0; -errno (no watchpoint here: skip the test).
 */
static inline int watch_arm(struct watch *w, const void *addr, int len,
			    void (*fn)(int, siginfo_t *, void *))
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_RW;
	a.bp_addr = (uintptr_t)addr;
	a.bp_len = (uint64_t)len;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.disabled = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	w->fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1,
			     PERF_FLAG_FD_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, &w->old);
	watch_current = w;
	ioctl(w->fd, PERF_EVENT_IOC_ENABLE, 0);
	return 0;
}

static inline void watch_close(struct watch *w)
{
	ioctl(w->fd, PERF_EVENT_IOC_DISABLE, 0);
	sigaction(SIGTRAP, &w->old, NULL);
	close(w->fd);
	watch_current = NULL;
}

#endif /* WATCHPOINT_H */
