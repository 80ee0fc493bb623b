/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer "auto": find the only other peer of the layout, so that two
 * programs need not guess which ID the server gives each of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "port_private.h"

#define AUTO_POLL_NS 10000000L   /* 10 ms between looks at the table */
#define AUTO_DEFAULT_WAIT_MS 5000

static uint64_t auto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What was last seen of one peer entry. */
struct auto_seen {
	uint32_t epoch;
	uint64_t hb;
	uint64_t moved_ms; /* 0: heartbeat not seen moving in this epoch */
};

/* Whether peer @p j is up and its heartbeat moved within the window. */
static bool auto_alive(struct port_attach *at, uint16_t j,
		       struct auto_seen *s, uint64_t now)
{
	struct lay_peer *pe = lay_peer(at->base, &at->li, j);
	/* Epoch, then state, as in ivsh_port_link_update(). */
	uint32_t ep = atomic_load_explicit(&pe->epoch, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	uint32_t st = atomic_load_explicit(&pe->state, memory_order_acquire);
	uint64_t hb = atomic_load_explicit(&pe->heartbeat, memory_order_relaxed);

	if (ep != s->epoch) {
		s->epoch = ep;
		s->hb = hb;
		s->moved_ms = 0;
	} else if (hb != s->hb) {
		s->hb = hb;
		s->moved_ms = now;
	}
	if (st != LAY_PEER_UP || ep == 0 || s->moved_ms == 0 ||
	    now - s->moved_ms >= PORT_LIVENESS_MS)
		return false;
	/* A server knows who left; a stale entry of a crashed peer is not
	 * a candidate even while its last heartbeat is recent. */
	return ivsh_dev_peer_connected(at->dev, j) != 0;
}

int port_auto_peer(struct port_attach *at, const struct ivsh_port_conf *conf,
		   uint16_t *peer, char *err, size_t errlen)
{
	uint16_t n = at->li.p.max_peers;
	int wait = conf->auto_wait_ms == 0 ? AUTO_DEFAULT_WAIT_MS
					   : conf->auto_wait_ms;
	uint64_t start = auto_now_ms();
	uint64_t end = start + (uint64_t)(wait > 0 ? wait : 0);
	struct timespec pause = { .tv_sec = 0, .tv_nsec = AUTO_POLL_NS };
	struct auto_seen *seen;
	int rc;

	if (n == 2) {
		*peer = (uint16_t)(1 - at->self);
		return 0;
	}
	seen = calloc(n, sizeof(*seen));
	if (seen == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		uint64_t now = auto_now_ms();
		unsigned int alive = 0;
		uint16_t first = 0, second = 0;

		/* Keep our own entry alive for the peer that looks for us. */
		atomic_fetch_add_explicit(&at->entry->heartbeat, 1,
					  memory_order_relaxed);
		(void)ivsh_dev_process_events(at->dev);
		for (uint16_t j = 0; j < n; j++) {
			if (j == at->self || !auto_alive(at, j, &seen[j], now))
				continue;
			if (alive++ == 0)
				first = j;
			else if (alive == 2)
				second = j;
		}
		/* Decide only after a whole liveness window: by then every
		 * running peer has shown its heartbeat moving, so a second
		 * one that was slow to be scheduled is not missed. */
		bool settled = now - start >= PORT_LIVENESS_MS;

		if (alive == 1 && settled) {
			*peer = first;
			rc = 0;
			break;
		}
		if (alive > 1 && settled) {
			snprintf(err, errlen, "peer auto: %u other peers are "
				 "attached (%u, %u%s); give the peer's ID",
				 alive, first, second, alive > 2 ? ", ..." : "");
			rc = -ENOTUNIQ;
			break;
		}
		if (wait >= 0 && now >= end) {
			snprintf(err, errlen, "peer auto: no other peer attached"
				 " to the layout within %d ms", wait);
			rc = -ETIMEDOUT;
			break;
		}
		if (nanosleep(&pause, NULL) != 0 && errno == EINTR) {
			snprintf(err, errlen, "peer auto: interrupted while "
				 "waiting for the other peer");
			rc = -EINTR;
			break;
		}
	}
	free(seen);
	return rc;
}
