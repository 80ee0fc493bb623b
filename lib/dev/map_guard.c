/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS guard for mappings of shrinkable files (see map_guard.h).
 *
 * Slots live in static storage so the handler reads them without locks:
 * a slot's state is the only synchronisation. Registration and removal
 * take a mutex between themselves; the handler takes nothing and calls
 * only async-signal-safe functions (mmap, sigaction, raise).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map_guard.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_ACTIVE,  /* guarded, mapping intact */
	SLOT_BUSY,    /* being replaced (or checked) by one thread */
	SLOT_LOST,    /* replaced by zero pages */
};

struct map_guard {
	atomic_int state;
	_Atomic uintptr_t base;
	_Atomic size_t len;
	int fd;
};

static struct map_guard slots[MAP_GUARD_MAX];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static bool handler_installed;          /* under guard_lock */
/* Written under guard_lock while our handler is not installed. */
static struct sigaction previous_action;

bool map_guard_needed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	/* EINVAL: a file system without seals; it can shrink. */
	return seals < 0 || !(seals & F_SEAL_SHRINK);
}

/* Replace the range by private zero pages. Async-signal-safe. */
static bool replace_with_zeros(uintptr_t base, size_t len)
{
	void *p = mmap((void *)base, len, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED;
}

/*
 * Lose slot @g if @addr is inside it (any address when @addr is 0).
 * @return 1 handled (lost now or already), 0 not this slot, -1 the
 * replacement failed.
 */
static int lose_slot(struct map_guard *g, uintptr_t addr)
{
	int st = atomic_load_explicit(&g->state, memory_order_acquire);
	uintptr_t base;
	size_t len;

	if (st == SLOT_FREE)
		return 0;
	base = atomic_load_explicit(&g->base, memory_order_relaxed);
	len = atomic_load_explicit(&g->len, memory_order_relaxed);
	if (addr != 0 && (addr < base || addr - base >= len))
		return 0;
	if (st != SLOT_ACTIVE)
		return 1; /* another thread replaces it, or has: retry */
	if (!atomic_compare_exchange_strong_explicit(&g->state, &st, SLOT_BUSY,
						     memory_order_acquire,
						     memory_order_relaxed))
		return 1;
	/* The slot may have been reused between the loads and the CAS:
	 * while BUSY it cannot change, so look again. */
	base = atomic_load_explicit(&g->base, memory_order_relaxed);
	len = atomic_load_explicit(&g->len, memory_order_relaxed);
	if (addr != 0 && (addr < base || addr - base >= len)) {
		atomic_store_explicit(&g->state, SLOT_ACTIVE,
				      memory_order_release);
		return 0;
	}
	if (!replace_with_zeros(base, len)) {
		atomic_store_explicit(&g->state, SLOT_ACTIVE,
				      memory_order_release);
		return -1;
	}
	atomic_store_explicit(&g->state, SLOT_LOST, memory_order_release);
	return 1;
}

/* A SIGBUS that is not ours: what would have happened without us. */
static void pass_on(int sig, siginfo_t *info, void *ctx)
{
	const struct sigaction *old = &previous_action;
	struct sigaction dfl;

	if (old->sa_flags & SA_SIGINFO) {
		if (old->sa_sigaction != NULL) {
			old->sa_sigaction(sig, info, ctx);
			return;
		}
	} else if (old->sa_handler == SIG_IGN) {
		/* A fault cannot be ignored: the kernel kills anyway. */
		if (info->si_code <= 0)
			return;
	} else if (old->sa_handler != SIG_DFL) {
		old->sa_handler(sig);
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGBUS, &dfl, NULL);
	/* A fault re-runs the access and dies of it; a sent signal is sent
	 * again (delivered once this handler returns). */
	if (info->si_code <= 0)
		(void)raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
	int saved_errno = errno;

	/* Only a fault (si_code > 0) has a meaningful si_addr. */
	if (info != NULL && info->si_code > 0) {
		uintptr_t addr = (uintptr_t)info->si_addr;

		for (size_t i = 0; i < MAP_GUARD_MAX; i++) {
			int rc = lose_slot(&slots[i], addr ? addr : 1);

			if (rc > 0) {
				errno = saved_errno;
				return;
			}
			if (rc < 0)
				break; /* cannot repair: default action */
		}
	}
	pass_on(sig, info, ctx);
	errno = saved_errno;
}

/*
 * Install the handler, or install it again if someone restored the
 * default action since (a test framework, a library that put back what
 * it found before us). A handler of someone else's stays: it may chain
 * to ours, and replacing it would make the two call each other.
 */
static int install_handler(void)
{
	struct sigaction sa, now;

	if (sigaction(SIGBUS, NULL, &now) < 0)
		return -errno;
	if (handler_installed) {
		bool ours = (now.sa_flags & SA_SIGINFO) &&
			    now.sa_sigaction == on_sigbus;
		bool gone = !(now.sa_flags & SA_SIGINFO) &&
			    (now.sa_handler == SIG_DFL ||
			     now.sa_handler == SIG_IGN);

		if (ours || !gone)
			return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* Exactly SA_SIGINFO: DPDK's EAL chains to a previous SIGBUS handler
	 * only when its flags are exactly that. */
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	previous_action = now;
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	handler_installed = true;
	return 0;
}

int map_guard_add(struct map_guard **gp, void *base, size_t len, int fd)
{
	int rc;

	pthread_mutex_lock(&guard_lock);
	rc = install_handler();
	if (rc < 0)
		goto out;
	rc = -ENOSPC;
	for (size_t i = 0; i < MAP_GUARD_MAX; i++) {
		struct map_guard *g = &slots[i];

		if (atomic_load_explicit(&g->state, memory_order_relaxed) !=
		    SLOT_FREE)
			continue;
		g->fd = fd;
		atomic_store_explicit(&g->base, (uintptr_t)base,
				      memory_order_relaxed);
		atomic_store_explicit(&g->len, len, memory_order_relaxed);
		/* Release: the handler that sees ACTIVE sees base and len. */
		atomic_store_explicit(&g->state, SLOT_ACTIVE,
				      memory_order_release);
		*gp = g;
		rc = 0;
		break;
	}
out:
	pthread_mutex_unlock(&guard_lock);
	return rc;
}

int map_guard_check(struct map_guard *g)
{
	struct stat st;

	if (map_guard_lost(g))
		return -ENODEV;
	if (fstat(g->fd, &st) < 0)
		return 0; /* cannot tell; a fault will */
	if ((uint64_t)st.st_size >=
	    atomic_load_explicit(&g->len, memory_order_relaxed))
		return 0;
	/* Shrunk: lose the range now rather than at the next fault. */
	while (lose_slot(g, 0) == 1 && !map_guard_lost(g))
		sched_yield(); /* a fault handler is replacing it */
	return map_guard_lost(g) ? -ENODEV : 0;
}

bool map_guard_lost(const struct map_guard *g)
{
	return atomic_load_explicit(&((struct map_guard *)g)->state,
				    memory_order_acquire) == SLOT_LOST;
}

void map_guard_remove(struct map_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&guard_lock);
	for (;;) {
		int st = atomic_load_explicit(&g->state, memory_order_acquire);

		if (st == SLOT_BUSY) {
			sched_yield(); /* a replacement is under way */
			continue;
		}
		if (atomic_compare_exchange_strong_explicit(
			    &g->state, &st, SLOT_FREE, memory_order_acq_rel,
			    memory_order_relaxed))
			break;
	}
	close(g->fd);
	g->fd = -1;
	pthread_mutex_unlock(&guard_lock);
}
