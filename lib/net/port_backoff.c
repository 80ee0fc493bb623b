/* SPDX-License-Identifier: BSD-3-Clause */
/* Spurious wake-ups of rx queues: counted, and backed off when they storm. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "port_backoff.h"
#include "port_private.h"

static _Atomic(ivsh_port_log_fn) log_fn;
static void *_Atomic log_opaque;

void ivsh_port_set_log(ivsh_port_log_fn fn, void *opaque)
{
	atomic_store(&log_opaque, opaque);
	atomic_store(&log_fn, fn);
}

static void port_log(const char *line)
{
	ivsh_port_log_fn fn = atomic_load(&log_fn);

	if (fn != NULL)
		fn(line, atomic_load(&log_opaque));
	else
		fprintf(stderr, "%s\n", line);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Server notices: handle what waits; batch them when they flood. */
static void handle_notices(struct ivsh_port *port, uint16_t q);

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint32_t doubled(uint32_t us, uint32_t max)
{
	return us * 2 > max ? max : us * 2;
}

int port_backoff_wait(struct ivsh_port *port, uint16_t q, unsigned int vec,
		      int slice_ms)
{
	struct port_backoff *b = &port->rxq[q].bo;
	int vfd = ivsh_dev_irq_fd(port->dev, vec);
	int efd = ivsh_dev_event_fd(port->dev);

	/* No fd to stop listening to (busy-polled INTx): plain wait. */
	if (vfd < 0)
		return ivsh_dev_irq_wait(port->dev, vec, slice_ms);
	uint64_t us = slice_ms < 0 ? UINT64_MAX : (uint64_t)slice_ms * 1000u;
	struct pollfd pfd[2];
	int nfd = 0, vi = -1, ei = -1;

	if (b->interval_us != 0)
		us = min_u64(us, b->interval_us);
	else
		vi = nfd++, pfd[vi] = (struct pollfd){ vfd, POLLIN, 0 };
	uint64_t now = now_us();

	if (efd >= 0 && b->ev_interval_us != 0)
		us = min_u64(us, b->ev_due_us > now ? b->ev_due_us - now : 0);
	else if (efd >= 0)
		ei = nfd++, pfd[ei] = (struct pollfd){ efd, POLLIN, 0 };
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000u),
			       .tv_nsec = (long)(us % 1000000u * 1000u) };
	/* Not listening to the vector: the doorbells pile up in its counter
	 * and cost nothing until drained, once per interval. */
	int rc = ppoll(pfd, (nfds_t)nfd, us == UINT64_MAX ? NULL : &ts, NULL);

	if (rc < 0)
		return -errno;
	/* A sleep cut short proves nothing about the storm: only a whole
	 * quiet interval ends a back-off. */
	b->cut_short = rc > 0 || us < b->interval_us;
	/* Batches only when due: a wake-up by the vector does not count. */
	if (efd >= 0 && (ei >= 0 ? pfd[ei].revents != 0
				 : now_us() >= b->ev_due_us))
		handle_notices(port, q);
	if (vi >= 0 && pfd[vi].revents == 0)
		return 0;
	rc = ivsh_dev_irq_ack(port->dev, vec);
	return rc < 0 ? rc : rc > 0;
}

/* One line per episode, when it starts: never per wake-up. */
static void log_episode(const struct ivsh_port *port, uint16_t q,
			unsigned int vec, uint32_t streak)
{
	char line[320];

	snprintf(line, sizeof(line),
		 "ivsh_port: peer %u, rx queue %u from peer %u: %" PRIu32
		 " spurious wake-ups in a row on vector %u; listening at most"
		 " every %u us until frames arrive (a doorbell names no sender:"
		 " peer %u, or another peer ringing our vector)",
		 port->self, q, port->peer, streak, vec, BACKOFF_MAX_US,
		 port->peer);
	port_log(line);
}

static void backoff_start(struct ivsh_port *port, uint16_t q)
{
	struct port_rxq *rq = &port->rxq[q];
	struct port_backoff *b = &rq->bo;

	if (!b->in_episode) {
		b->in_episode = true;
		ctr_add(&rq->c.backoffs, 1);
		log_episode(port, q, q % port->own_vectors, b->streak);
	}
	b->interval_us = b->resume_us ? b->resume_us : BACKOFF_MIN_US;
	b->streak = 0;
}

static void spurious(struct ivsh_port *port, uint16_t q)
{
	struct port_rxq *rq = &port->rxq[q];
	struct port_backoff *b = &rq->bo;
	uint64_t now = now_us();

	ctr_add(&rq->c.spurious, 1);
	if (b->interval_us != 0) {
		/* Still ringing without frames: look less often. */
		b->interval_us = doubled(b->interval_us, BACKOFF_MAX_US);
		b->resume_us = b->interval_us;
		b->last_spurious_us = now;
		return;
	}
	if (b->resume_us != 0 &&
	    now - b->last_spurious_us > BACKOFF_FORGET_MS * 1000u) {
		b->resume_us = 0;
		b->in_episode = false;
	}
	if (b->streak != 0 && now - b->last_spurious_us > BACKOFF_GAP_US)
		b->streak = 0;
	b->last_spurious_us = now;
	b->streak++;
	if (b->streak >= (b->resume_us ? BACKOFF_RESUME_THRESHOLD
					: BACKOFF_THRESHOLD))
		backoff_start(port, q);
}

void port_backoff_work(struct ivsh_port *port, uint16_t q)
{
	struct port_backoff *b = &port->rxq[q].bo;

	/* Frames: listen again at once. resume_us remembers the storm, so
	 * that it takes only a few spurious wake-ups to back off again. */
	b->interval_us = 0;
	b->streak = 0;
}

void port_backoff_after_wait(struct ivsh_port *port, uint16_t q, bool woke,
			     bool work)
{
	struct port_backoff *b = &port->rxq[q].bo;

	if (work) {
		port_backoff_work(port, q);
		return;
	}
	if (woke) {
		spurious(port, q);
		return;
	}
	if (b->interval_us != 0 && !b->cut_short) {
		/* A whole interval without a doorbell: the storm paused or
		 * is over; listen again. The episode lasts until
		 * BACKOFF_FORGET_MS pass without a spurious wake-up, so a
		 * storm resuming backs off at once and is not logged again. */
		b->interval_us = 0;
		b->streak = 0;
	}
}

static void log_notices(const struct ivsh_port *port, uint16_t q, int last)
{
	char line[320];
	char who[48] = "";

	if (last >= 0)
		snprintf(who, sizeof(who), " (the last about peer %d)", last);
	snprintf(line, sizeof(line),
		 "ivsh_port: peer %u, rx queue %u from peer %u: %u server"
		 " notice wake-ups in a row%s; handling notices in batches"
		 " every %u us while they keep coming",
		 port->self, q, port->peer, BACKOFF_THRESHOLD, who,
		 BACKOFF_NOTICE_MAX_US);
	port_log(line);
}

static void handle_notices(struct ivsh_port *port, uint16_t q)
{
	struct port_rxq *rq = &port->rxq[q];
	struct port_backoff *b = &rq->bo;
	int n = ivsh_dev_process_events(port->dev);
	uint64_t now;

	if (n <= 0) {
		/* Nothing came (or the server is gone): listen again. */
		b->ev_interval_us = 0;
		b->ev_streak = 0;
		return;
	}
	ctr_add(&rq->c.notices, (uint64_t)n);
	now = now_us();
	if (b->ev_interval_us != 0) {
		b->last_notice_us = now;
		b->ev_interval_us = doubled(b->ev_interval_us,
					    BACKOFF_NOTICE_MAX_US);
		b->ev_due_us = now + b->ev_interval_us;
		return;
	}
	if (b->ev_in_episode &&
	    now - b->last_notice_us > BACKOFF_FORGET_MS * 1000u)
		b->ev_in_episode = false;
	if (b->ev_streak != 0 && now - b->last_notice_us > BACKOFF_GAP_US)
		b->ev_streak = 0;
	b->last_notice_us = now;
	if (++b->ev_streak < (b->ev_in_episode ? BACKOFF_RESUME_THRESHOLD
					       : BACKOFF_THRESHOLD))
		return;
	if (!b->ev_in_episode) {
		b->ev_in_episode = true;
		ctr_add(&rq->c.notice_backoffs, 1);
		log_notices(port, q, ivsh_dev_last_notice_peer(port->dev));
	}
	b->ev_interval_us = BACKOFF_MIN_US;
	b->ev_due_us = now + b->ev_interval_us;
	b->ev_streak = 0;
}
