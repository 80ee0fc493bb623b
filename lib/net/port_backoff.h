/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spurious wake-up accounting and back-off of an rx queue in interrupt
 * mode. A wake-up that finds the queue's ring empty is spurious: the
 * layout lets a producer ring only for an armed kick flag, once per
 * arming. When spurious wake-ups keep coming, the queue stops listening
 * to its vector for a growing interval (bounded by BACKOFF_MAX_US) and
 * looks at its ring once per interval instead; the first frame ends it.
 * Server notices (connect/disconnect) that wake the wait are handled at
 * once, and in batches once per interval (up to BACKOFF_NOTICE_MAX_US)
 * while they flood.
 */
#ifndef IVSH_PORT_BACKOFF_H
#define IVSH_PORT_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* Spurious wake-ups in a row (each within BACKOFF_GAP_US of the last)
 * that start an episode; fewer while a past episode is still recent. */
#define BACKOFF_THRESHOLD 64u
#define BACKOFF_RESUME_THRESHOLD 4u
#define BACKOFF_GAP_US 1000u
/* First interval, doubled while doorbells keep coming without frames. */
#define BACKOFF_MIN_US 50u
#define BACKOFF_MAX_US 1000u
/* Notices only tell whom we can ring: a later batch delays nothing that
 * carries frames, and the server queues far more than 4 ms of them. */
#define BACKOFF_NOTICE_MAX_US 4000u
/* A past episode is forgotten after this long without a spurious one. */
#define BACKOFF_FORGET_MS 100u

struct ivsh_port;

/* Per rx queue; only the queue's receiving thread touches it. */
struct port_backoff {
	uint32_t streak;      /* spurious wake-ups in a row */
	uint32_t interval_us; /* 0: listening to the vector */
	uint32_t resume_us;   /* interval to resume at (0: no recent episode) */
	bool in_episode;      /* logged, not yet over */
	bool cut_short;       /* the last back-off sleep was under the interval */
	uint64_t last_spurious_us;
	/* The same for wake-ups by server notices (ivsh_dev_event_fd()). */
	uint32_t ev_streak;
	uint32_t ev_interval_us; /* 0: listening to the server socket */
	uint64_t ev_due_us;      /* next batch of notices (while batching) */
	bool ev_in_episode;
	uint64_t last_notice_us;
};

/*
 * Wait for @p vec like ivsh_dev_irq_wait(dev, vec, slice_ms), handling
 * server notices that arrive meanwhile, or, while
 * queue @p q backs off, sleep one interval (at most @p slice_ms) and
 * then drain the vector without waiting.
 * @return 1 a doorbell came; 0 none; -errno from the device.
 */
int port_backoff_wait(struct ivsh_port *port, uint16_t q, unsigned int vec,
		      int slice_ms);

/*
 * Account what queue @p q found after port_backoff_wait(): @p woke as it
 * returned (1 a doorbell), @p work whether frames are waiting now.
 * Counts spurious wake-ups, starts, grows and ends the back-off.
 */
void port_backoff_after_wait(struct ivsh_port *port, uint16_t q, bool woke,
			     bool work);

/* Frames arrived outside a wait (the caller's own polling): listen again. */
void port_backoff_work(struct ivsh_port *port, uint16_t q);

#endif /* IVSH_PORT_BACKOFF_H */
