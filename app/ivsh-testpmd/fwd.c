/* SPDX-License-Identifier: BSD-3-Clause */
#include "fwd.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"
#include "stats.h"
#include "testpmd.h"
#include "tsc.h"

/* Link state is refreshed this often (TSC time), not on every burst. */
#define LINK_PERIOD_NS 1000000u
/* Longest sleep in interrupt mode, so stop conditions are seen. */
#define INTR_SLEEP_MS 100
/* A sender with --count waits at most this long for the peer to drain. */
#define DRAIN_NS 2000000000ull

int fwd_link_poll(struct testpmd *tp)
{
	/* Also reads the server's connect notices (peers' eventfds). */
	int up = ivsh_port_link_update(tp->port) == 1;

	if (!up && ivsh_dev_removed(tp->dev))
		tp->removed = true;

	if (up != tp->link_up) {
		tp->link_up = up;
		tp->link_changes++;
		if (up && !tp->conf.has_eth_dst)
			ivsh_port_peer_mac(tp->port, tp->peer_mac);
		fprintf(stderr, "ivsh-testpmd: link to peer %d %s\n",
			tp->conf.peer, up ? "up" : "down");
	}
	/* The memory is gone for good: main() says so and exits. */
	if (ivsh_dev_shm_lost(tp->dev))
		tp_stop = 1;
	return up;
}

int fwd_wait_link(struct testpmd *tp, double timeout_s)
{
	uint64_t end = mono_ns() + (uint64_t)(timeout_s * 1e9);
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };

	while (!fwd_link_poll(tp)) {
		if (tp_stop)
			return -EINTR;
		if (tp->removed)
			return -ENODEV;
		if (mono_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static uint64_t engine_progress(const struct testpmd *tp)
{
	struct tp_totals t;

	switch (tp->conf.engine->counts) {
	case COUNT_SAMPLES:
		return tp->lat.count + tp->lat_lost;
	case COUNT_TX:
		tp_totals(tp, &t);
		return t.tx_packets;
	case COUNT_RX:
	default:
		tp_totals(tp, &t);
		return t.rx_packets;
	}
}

/* Sleep until a queue has frames (or the timeout); all queues armed. */
static void wait_rx(struct testpmd *tp, int timeout_ms)
{
	struct pollfd pfd[TP_MAX_QUEUES + 1];
	unsigned int vectors = ivsh_dev_vectors(tp->dev);
	uint16_t nq = tp->conf.queues;
	int ready = 0;

	if (nq == 1) {
		ivsh_port_rx_wait(tp->port, tp->q[0].id, timeout_ms);
		return;
	}
	for (uint16_t i = 0; i < nq; i++) {
		pfd[i].fd = ivsh_port_rx_intr_fd(tp->port, tp->q[i].id);
		pfd[i].events = POLLIN;
		if (ivsh_port_rx_intr_enable(tp->port, tp->q[i].id) == 1)
			ready = 1;
	}
	/* A hot-unplug request wakes us too (-1, ignored, if none). */
	pfd[nq].fd = ivsh_dev_removal_fd(tp->dev);
	pfd[nq].events = POLLIN;
	if (!ready && poll(pfd, nq + 1u, timeout_ms) > 0 && vectors)
		for (uint16_t i = 0; i < nq; i++)
			if (pfd[i].revents & POLLIN)
				ivsh_dev_irq_ack(tp->dev, tp->q[i].id % vectors);
	for (uint16_t i = 0; i < nq; i++)
		ivsh_port_rx_intr_disable(tp->port, tp->q[i].id);
}

/*
 * An engine that transmits and stops at --count keeps its side of the link alive until
 * the peer has taken every frame, measured as all ring slots being free
 * again (a reservation that is never committed).
 */
static void drain_tx(struct testpmd *tp)
{
	uint64_t end = mono_ns() + DRAIN_NS;
	uint32_t size = ivsh_port_ring_size(tp->port);
	uint16_t want = (uint16_t)(size < UINT16_MAX ? size : UINT16_MAX);
	struct ivsh_seg *segs = calloc(want ? want : 1, sizeof(*segs));
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };

	while (segs && !tp_stop && mono_ns() < end && fwd_link_poll(tp)) {
		bool busy = false;

		for (uint16_t i = 0; i < tp->conf.queues && !busy; i++) {
			uint16_t got = ivsh_port_tx_zc_reserve(
				tp->port, tp->q[i].id, segs, want);

			ivsh_port_tx_zc_commit(tp->port, tp->q[i].id, segs, 0);
			busy = got < want;
		}
		if (!busy)
			break;
		nanosleep(&ms, NULL);
	}
	free(segs);
}

uint64_t fwd_run(struct testpmd *tp)
{
	const struct engine *e = tp->conf.engine;
	const struct tp_conf *c = &tp->conf;
	uint64_t link_period = ns_to_tsc(LINK_PERIOD_NS);
	uint64_t stats_period = ns_to_tsc((uint64_t)(c->stats_period_s * 1e9));
	uint64_t next_link = 0, next_stats, end, now, elapsed;
	bool count_done = false;

	tp->start_tsc = tsc_now();
	stats_start(tp);
	next_stats = tp->start_tsc + stats_period;
	end = c->duration_s > 0 ?
	      tp->start_tsc + ns_to_tsc((uint64_t)(c->duration_s * 1e9)) : 0;

	while (!tp_stop && !tp->removed) {
		unsigned int moved = 0;

		now = tp->now_tsc = tsc_now();
		if (now >= next_link) {
			fwd_link_poll(tp);
			next_link = now + link_period;
		}
		if (stats_period && now >= next_stats) {
			stats_live(tp);
			next_stats += stats_period;
		}
		if (end && now >= end)
			break;
		if (c->count && engine_progress(tp) >= c->count) {
			count_done = true;
			break;
		}
		if (!e->generates || tp->link_up)
			for (uint16_t i = 0; i < c->queues; i++)
				moved += e->run(tp, &tp->q[i]);
		if (moved || !c->intr)
			continue;
		if (e->rx_driven && (tp->link_up || !e->generates))
			wait_rx(tp, INTR_SLEEP_MS);
		else
			sched_yield();
	}
	elapsed = tsc_to_ns(tsc_now() - tp->start_tsc);
	if (count_done && e->transmits)
		drain_tx(tp);
	return elapsed;
}
