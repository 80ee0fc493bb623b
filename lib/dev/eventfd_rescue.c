/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rescue of a doorbell write that blocks.
 *
 * A peer shares its eventfd's open file with us, so it can clear
 * O_NONBLOCK and, right after our poll() found room, fill the counter:
 * our write() then sleeps until somebody reads the counter, which a
 * hostile peer never does. Linux has no non-blocking write for eventfds
 * (RWF_NOWAIT is refused), so a watchdog thread reads the counter for us:
 * every writer registers in a slot for the length of its write, and the
 * watchdog drains the eventfd of a write older than RESCUE_AFTER_MS, which
 * lets the write through. Only a peer whose counter was filled to the top
 * loses its count, and only that peer can fill it.
 *
 * The watchdog ticks while writes happen and for a second after, then
 * sleeps until a writer wakes it. A writer touches shared state only
 * with a compare-and-swap on a free slot; it takes the lock only while
 * the watchdog sleeps.
 */
#include "eventfd_rescue.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "server_eventfd.h"

#define RESCUE_SLOTS 64
#define RESCUE_AFTER_MS 10
#define TICK_MS 5
#define IDLE_STOP_MS 1000

enum slot_state { FREE, CLAIMED, WRITING, RESCUING, RESCUED };

struct rescue_slot {
	atomic_int state;
	int fd;
	uint64_t since_ms;
};

static struct rescue_slot slots[RESCUE_SLOTS];
static atomic_bool ticking;   /* the watchdog scans the slots */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool wanted;           /* under lock: a writer asked for a tick */
static bool running;          /* under lock: the thread exists */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Scan once: rescue old writes. @return whether any write is going on. */
static bool scan(uint64_t now)
{
	bool busy = false;

	for (int i = 0; i < RESCUE_SLOTS; i++) {
		struct rescue_slot *s = &slots[i];
		int expect = WRITING;

		if (atomic_load(&s->state) != WRITING)
			continue;
		busy = true;
		if (now - s->since_ms < RESCUE_AFTER_MS ||
		    !atomic_compare_exchange_strong(&s->state, &expect,
						    RESCUING))
			continue;
		/* The writer cannot free the slot (and so cannot let the fd
		 * be closed) until it sees RESCUED. */
		(void)server_eventfd_drain(s->fd);
		atomic_store(&s->state, RESCUED);
	}
	return busy;
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t last_busy;

		pthread_mutex_lock(&lock);
		while (!wanted)
			pthread_cond_wait(&wake, &lock);
		wanted = false;
		pthread_mutex_unlock(&lock);
		atomic_store(&ticking, true);
		last_busy = now_ms();
		for (;;) {
			struct timespec tick = { 0, TICK_MS * 1000000L };
			uint64_t now;

			nanosleep(&tick, NULL);
			now = now_ms();
			if (scan(now))
				last_busy = now;
			if (now - last_busy < IDLE_STOP_MS)
				continue;
			/* Stop ticking, then look once more: a writer that
			 * saw us ticking has its slot set by now (both sides
			 * store, then load, sequentially consistent). */
			atomic_store(&ticking, false);
			if (!scan(now_ms()))
				break;
			atomic_store(&ticking, true);
		}
	}
	return NULL;
}

/* A forked child has no watchdog thread, and no writes under way. */
static void after_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	pthread_cond_init(&wake, NULL);
	running = wanted = false;
	atomic_store(&ticking, false);
	for (int i = 0; i < RESCUE_SLOTS; i++)
		atomic_store(&slots[i].state, FREE);
}

static void register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, after_fork_child);
}

/* Wake the watchdog, starting it the first time. @return 0 or -errno. */
static int kick(void)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (!running) {
		sigset_t all, old;
		pthread_attr_t attr;
		pthread_t t;

		/* The thread takes none of the application's signals. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = -pthread_create(&t, &attr, watchdog, NULL);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0) {
			pthread_setname_np(t, "ivsh-doorbell");
			running = true;
		}
	}
	if (rc == 0) {
		wanted = true;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int eventfd_rescue_begin(int fd)
{
	pthread_once(&atfork_once, register_atfork);
	for (int i = 0; i < RESCUE_SLOTS; i++) {
		struct rescue_slot *s = &slots[i];
		int expect = FREE;

		if (atomic_load(&s->state) != FREE ||
		    !atomic_compare_exchange_strong(&s->state, &expect,
						    CLAIMED))
			continue;
		s->fd = fd;
		s->since_ms = now_ms();
		atomic_store(&s->state, WRITING);
		if (!atomic_load(&ticking) && kick() < 0) {
			atomic_store(&s->state, FREE);
			return -1;
		}
		return i;
	}
	return -1; /* every slot busy: write unguarded */
}

void eventfd_rescue_end(int slot)
{
	struct rescue_slot *s;
	int expect = WRITING;

	if (slot < 0 || slot >= RESCUE_SLOTS)
		return;
	s = &slots[slot];
	if (!atomic_compare_exchange_strong(&s->state, &expect, FREE)) {
		/* Being rescued right now: wait until it is done. */
		while (atomic_load(&s->state) != RESCUED)
			sched_yield();
		atomic_store(&s->state, FREE);
	}
}
