/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS guard for mappings of shrinkable files (see map_guard.h).
 *
 * Slots live in static storage so the handler reads them without locks:
 * a slot's state is the only synchronisation. Registration and removal
 * take a mutex between themselves; the handler takes nothing and calls
 * only async-signal-safe functions (fstat, mmap, sigaction, raise).
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
/* Ranges lost so far, to tell one loss from the next (handle_by_size). */
static _Atomic unsigned int loss_count;

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

/* Whether the file of a slot held BUSY is now shorter than the range. */
static bool slot_shrunk(const struct map_guard *g)
{
	struct stat st;

	return fstat(g->fd, &st) == 0 &&
	       (uint64_t)st.st_size <
	       atomic_load_explicit(&g->len, memory_order_relaxed);
}

/*
 * Lose slot @g: always, or only if its file shrank (@if_shrunk).
 * Async-signal-safe (fstat, mmap).
 * @return 1 lost now, or being replaced by another thread (retry);
 * 0 free, lost before (zero pages never fault) or left as it was;
 * -1 the replacement failed.
 */
static int lose_slot(struct map_guard *g, bool if_shrunk)
{
	int st = atomic_load_explicit(&g->state, memory_order_acquire);
	uintptr_t base;
	size_t len;

	if (st != SLOT_ACTIVE)
		return st == SLOT_BUSY ? 1 : 0;
	/* BUSY holds the slot: it cannot be removed or reused meanwhile. */
	if (!atomic_compare_exchange_strong_explicit(&g->state, &st, SLOT_BUSY,
						     memory_order_acquire,
						     memory_order_relaxed))
		return st == SLOT_BUSY ? 1 : 0;
	if (if_shrunk && !slot_shrunk(g)) {
		atomic_store_explicit(&g->state, SLOT_ACTIVE,
				      memory_order_release);
		return 0;
	}
	base = atomic_load_explicit(&g->base, memory_order_relaxed);
	len = atomic_load_explicit(&g->len, memory_order_relaxed);
	if (!replace_with_zeros(base, len)) {
		atomic_store_explicit(&g->state, SLOT_ACTIVE,
				      memory_order_release);
		return -1;
	}
	atomic_fetch_add_explicit(&loss_count, 1, memory_order_relaxed);
	atomic_store_explicit(&g->state, SLOT_LOST, memory_order_release);
	return 1;
}

/*
 * A SIGBUS that is not ours: what would have happened without us. @info
 * is passed on but never read: a handler installed after ours may call
 * it as a one-argument handler (DPDK's EAL does, see on_sigbus()).
 */
static void pass_on(int sig, siginfo_t *info, void *ctx)
{
	const struct sigaction *old = &previous_action;
	struct sigaction dfl;

	if (old->sa_flags & SA_SIGINFO) {
		if (old->sa_sigaction != NULL) {
			old->sa_sigaction(sig, info, ctx);
			return;
		}
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* Default (or ignored, which the kernel does not allow for a
	 * fault): die of SIGBUS, from a fault or from kill() alike. The
	 * signal is blocked here and delivered once this handler returns. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGBUS, &dfl, NULL);
	(void)raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *info, void *ctx);

/* Whether the kernel called on_sigbus() itself (nobody sits above it),
 * so that its siginfo is real. */
static bool called_directly(void)
{
	struct sigaction now;

	return sigaction(SIGBUS, NULL, &now) == 0 &&
	       (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigbus;
}

/*
 * Direct call: the slot holding the fault address. Lost or being lost
 * already: another thread faulted first, retry (the new pages are
 * there, or soon). @return 1 handled, 0 not ours, -1 cannot repair.
 */
static int handle_at(uintptr_t addr)
{
	for (size_t i = 0; i < MAP_GUARD_MAX; i++) {
		struct map_guard *g = &slots[i];
		int st = atomic_load_explicit(&g->state, memory_order_acquire);
		uintptr_t base = atomic_load_explicit(&g->base,
						      memory_order_relaxed);
		size_t len = atomic_load_explicit(&g->len, memory_order_relaxed);

		if (st == SLOT_FREE || addr < base || addr - base >= len)
			continue;
		if (st != SLOT_ACTIVE)
			return 1;
		/* A fault in an intact file (no huge page left, say) is not
		 * a truncation: leave it to the default action. */
		return lose_slot(g, true);
	}
	return 0;
}

/* Per-thread retries of a fault that may predate another thread's
 * replacement (chained calls, no address). Initial-exec: no allocation
 * on first use in a signal handler. */
static __thread unsigned int seen_losses
	__attribute__((tls_model("initial-exec")));
static __thread unsigned int late_retries
	__attribute__((tls_model("initial-exec")));

/*
 * Chained call (DPDK's EAL compares the previous flags with SA_SIGINFO
 * for equality, which the SA_RESTORER that glibc adds defeats, and then
 * calls this as a one-argument handler): no address. A fault in a
 * guarded range means its file is now shorter than the range, so the
 * file sizes tell which range to lose. @return 1 handled, 0 not ours.
 */
static int handle_by_size(void)
{
	bool any_lost = false;
	int handled = 0;

	for (size_t i = 0; i < MAP_GUARD_MAX; i++) {
		int rc = lose_slot(&slots[i], true);

		if (rc < 0)
			return 0; /* cannot repair: default action */
		if (rc > 0)
			handled = 1;
		if (map_guard_lost(&slots[i]))
			any_lost = true;
	}
	if (handled || !any_lost)
		return handled;
	/* Maybe this thread faulted on a range another thread has just
	 * replaced: retry twice per loss before giving up. */
	unsigned int now = atomic_load_explicit(&loss_count,
						memory_order_relaxed);
	if (seen_losses != now) {
		seen_losses = now;
		late_retries = 0;
	}
	return late_retries++ < 2;
}

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
	int saved_errno = errno;
	int rc;

	if (called_directly())
		rc = info->si_code > 0 ? handle_at((uintptr_t)info->si_addr)
				       : 0;
	else
		rc = handle_by_size();
	if (rc <= 0)
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
	/* SA_SIGINFO only to pass a siginfo on to a previous handler. */
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
	while (lose_slot(g, false) == 1 && !map_guard_lost(g))
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
