/* SPDX-License-Identifier: BSD-3-Clause */
/* Spurious wake-ups of rx queues: counted, and backed off when they storm. */
#include <errno.h>
#include <inttypes.h>
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

int port_backoff_wait(struct ivsh_port *port, uint16_t q, unsigned int vec,
		      int slice_ms)
{
	struct port_backoff *b = &port->rxq[q].bo;

	if (b->interval_us == 0)
		return ivsh_dev_irq_wait(port->dev, vec, slice_ms);
	uint64_t us = b->interval_us;

	/* A sleep cut short by the caller's timeout proves nothing about
	 * the storm: only a whole quiet interval ends the episode. */
	b->cut_short = slice_ms >= 0 && us > (uint64_t)slice_ms * 1000u;
	if (b->cut_short)
		us = (uint64_t)slice_ms * 1000u;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(us * 1000u) };

	/* Not listening: the doorbells pile up in the vector's counter and
	 * cost nothing until we drain them, once per interval. */
	if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
		return -EINTR;
	return ivsh_dev_irq_wait(port->dev, vec, 0);
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
		b->interval_us = b->interval_us * 2 > BACKOFF_MAX_US ?
				 BACKOFF_MAX_US : b->interval_us * 2;
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
