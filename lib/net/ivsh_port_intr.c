/* SPDX-License-Identifier: BSD-3-Clause */
/* Port Rx interrupts: the kick-flag sleep protocol (doc/layout-v1.md). */
#include <errno.h>
#include <time.h>

#include "port_private.h"

static int intr_check(const struct ivsh_port *port, uint16_t q)
{
	if (!port->intr || port->own_vectors == 0)
		return -ENOTSUP;
	if (q >= port->nb_queues)
		return -EINVAL;
	return 0;
}

int ivsh_port_rx_intr_enable(struct ivsh_port *port, uint16_t q)
{
	int rc = intr_check(port, q);

	if (rc < 0)
		return rc;
	struct port_rxq *rq = &port->rxq[q];
	struct ivsh_ring_cons *c = &rq->ring;

	if (c->prod_cache != c->head)
		return 1;
	/* Slots given back since the last burst go to the producer before
	 * we sleep: it may be waiting for exactly those. */
	if (rq->cons_pub != c->head)
		port_rxq_reclaim(rq);
	/* A new non-zero value: each arming earns one doorbell. The
	 * sequence lives in our kick line too, so a restarted consumer
	 * continues it rather than re-using an answered value. */
	rq->kick_seq = rq->kick_seq + 1 == 0 ? 1 : rq->kick_seq + 1;
	atomic_store_explicit(&rq->kick->seq, rq->kick_seq,
			      memory_order_relaxed);
	atomic_store_explicit(&rq->kick->kick, rq->kick_seq,
			      memory_order_relaxed);
	/* Full fence pairs with the producer's fence after publishing prod
	 * (txq_kick_slow): one of us sees the other's store. */
	atomic_thread_fence(memory_order_seq_cst);
	/* Acquire pairs with the producer's release store of prod. */
	uint32_t pi = atomic_load_explicit(c->prod_idx, memory_order_acquire);
	uint32_t avail = pi - c->head;

	/* An index out of range (as rx_burst judges it: within one ring of
	 * both head and the oldest kept slot) is no reason to stay awake:
	 * count it and sleep (the wait slices bound the sleep; rx_burst
	 * counts it too if the caller polls). */
	if (avail > c->size || pi - rq->cons_pub > c->size) {
		ctr_add(&rq->c.bad_index, 1);
		return 0;
	}
	return avail != 0 ? 1 : 0;
}

int ivsh_port_rx_intr_disable(struct ivsh_port *port, uint16_t q)
{
	int rc = intr_check(port, q);

	if (rc < 0)
		return rc;
	atomic_store_explicit(&port->rxq[q].kick->kick, 0,
			      memory_order_relaxed);
	return 0;
}

int ivsh_port_rx_intr_fd(struct ivsh_port *port, uint16_t q)
{
	int rc = intr_check(port, q);

	if (rc < 0)
		return rc;
	return ivsh_dev_irq_fd(port->dev, q % port->own_vectors);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ivsh_port_rx_wait(struct ivsh_port *port, uint16_t q, int timeout_ms)
{
	int rc = intr_check(port, q);

	if (rc < 0)
		return rc;
	unsigned int vec = q % port->own_vectors;
	uint64_t start = now_ms();
	bool waited = false, woke = false;

	/* Bounded: every pass sleeps up to a slice or returns. */
	for (;;) {
		rc = ivsh_port_rx_intr_enable(port, q);
		if (waited)
			port_backoff_after_wait(port, q, woke, rc == 1);
		else if (rc == 1)
			port_backoff_work(port, q);
		if (rc != 0)
			break;
		int slice = PORT_WAIT_SLICE_MS;
		if (timeout_ms >= 0) {
			uint64_t spent = now_ms() - start;
			if (spent >= (uint64_t)timeout_ms) {
				rc = 0;
				break;
			}
			if ((uint64_t)slice > (uint64_t)timeout_ms - spent)
				slice = (int)((uint64_t)timeout_ms - spent);
		}
		rc = port_backoff_wait(port, q, vec, slice);
		port_heartbeat(port);
		if (rc < 0)
			break;
		waited = true;
		woke = rc > 0;
		if (woke)
			ctr_add(&port->rxq[q].c.wakeups, 1);
	}
	ivsh_port_rx_intr_disable(port, q);
	return rc;
}
