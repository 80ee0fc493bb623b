/* SPDX-License-Identifier: BSD-3-Clause */
/* Port counters: per-queue stats, xstats, reset (by snapshot). */
#include <errno.h>
#include <string.h>

#include "port_private.h"

/* Every xstat, in order; totals over the port's queues. */
enum {
	X_RX_PACKETS, X_RX_BYTES, X_RX_ERRORS,
	X_RX_BAD_LEN, X_RX_CHAIN_LONG, X_RX_CHAIN_UNTERM, X_RX_EMPTY,
	X_RX_BAD_INDEX, X_RX_BAD_GEN, X_RX_NOBUF,
	X_RX_RESETS, X_RX_RESET_DROPPED, X_RX_WAKEUPS,
	X_RX_SPURIOUS, X_RX_BACKOFFS, X_NOTICES, X_NOTICE_BACKOFFS,
	X_TX_PACKETS, X_TX_BYTES, X_TX_ERRORS, X_TX_RING_FULL,
	X_TX_BAD_INDEX, X_TX_DOORBELLS, X_TX_DOORBELL_ERRORS,
	X_PEER_RESTARTS, X_LINK_CHANGES, X_LAYOUT_LOST,
	X_COUNT
};

static const char *const xstat_names[X_COUNT] = {
	[X_RX_PACKETS] = "rx_packets",
	[X_RX_BYTES] = "rx_bytes",
	[X_RX_ERRORS] = "rx_errors",
	[X_RX_BAD_LEN] = "rx_invalid_length",
	[X_RX_CHAIN_LONG] = "rx_invalid_chain_too_long",
	[X_RX_CHAIN_UNTERM] = "rx_invalid_chain_unterminated",
	[X_RX_EMPTY] = "rx_invalid_empty_frame",
	[X_RX_BAD_INDEX] = "rx_invalid_prod_index",
	[X_RX_BAD_GEN] = "rx_invalid_restart_index",
	[X_RX_NOBUF] = "rx_dropped_buffer_too_small",
	[X_RX_RESETS] = "rx_channel_resets",
	[X_RX_RESET_DROPPED] = "rx_channel_reset_dropped_slots",
	[X_RX_WAKEUPS] = "rx_intr_wakeups",
	[X_RX_SPURIOUS] = "rx_intr_spurious_wakeups",
	[X_RX_BACKOFFS] = "rx_intr_backoffs",
	[X_NOTICES] = "intr_server_notices",
	[X_NOTICE_BACKOFFS] = "intr_server_notice_backoffs",
	[X_TX_PACKETS] = "tx_packets",
	[X_TX_BYTES] = "tx_bytes",
	[X_TX_ERRORS] = "tx_dropped_bad_length",
	[X_TX_RING_FULL] = "tx_ring_full",
	[X_TX_BAD_INDEX] = "tx_invalid_cons_index",
	[X_TX_DOORBELLS] = "tx_doorbells",
	[X_TX_DOORBELL_ERRORS] = "tx_doorbell_errors",
	[X_PEER_RESTARTS] = "peer_restarts",
	[X_LINK_CHANGES] = "link_changes",
	[X_LAYOUT_LOST] = "layout_lost",
};

unsigned int port_xstats_count(void)
{
	return X_COUNT;
}

static uint64_t rx_invalid(const struct port_rxq *rq)
{
	return ctr_get(&rq->c.bad_len) + ctr_get(&rq->c.chain_long) +
	       ctr_get(&rq->c.chain_unterm) + ctr_get(&rq->c.empty) +
	       ctr_get(&rq->c.bad_index) + ctr_get(&rq->c.bad_gen) +
	       atomic_load_explicit(&((struct port_rxq *)rq)->ring.bad_index,
				    memory_order_relaxed);
}

static void queue_raw(const struct ivsh_port *port, uint16_t q,
		      struct ivsh_port_queue_stats *st)
{
	const struct port_rxq *rq = &port->rxq[q];
	const struct port_txq *tq = &port->txq[q];

	st->rx_packets = ctr_get(&rq->c.packets);
	st->rx_bytes = ctr_get(&rq->c.bytes);
	st->rx_errors = rx_invalid(rq) + ctr_get(&rq->c.nobuf);
	st->tx_packets = ctr_get(&tq->c.packets);
	st->tx_bytes = ctr_get(&tq->c.bytes);
	st->tx_errors = ctr_get(&tq->c.errors);
	st->tx_ring_full = ctr_get(&tq->c.ring_full);
	st->rx_intr_spurious = ctr_get(&rq->c.spurious);
}

int ivsh_port_queue_stats(const struct ivsh_port *port, uint16_t q,
			  struct ivsh_port_queue_stats *st)
{
	if (port == NULL || st == NULL || q >= port->nb_queues)
		return -EINVAL;
	struct ivsh_port_queue_stats raw;
	const struct ivsh_port_queue_stats *b = &port->base.q[q];

	queue_raw(port, q, &raw);
	st->rx_packets = raw.rx_packets - b->rx_packets;
	st->rx_bytes = raw.rx_bytes - b->rx_bytes;
	st->rx_errors = raw.rx_errors - b->rx_errors;
	st->tx_packets = raw.tx_packets - b->tx_packets;
	st->tx_bytes = raw.tx_bytes - b->tx_bytes;
	st->tx_errors = raw.tx_errors - b->tx_errors;
	st->tx_ring_full = raw.tx_ring_full - b->tx_ring_full;
	st->rx_intr_spurious = raw.rx_intr_spurious - b->rx_intr_spurious;
	return 0;
}

static void xstats_raw(const struct ivsh_port *port, uint64_t *v)
{
	memset(v, 0, sizeof(uint64_t) * X_COUNT);
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		const struct port_rxq *rq = &port->rxq[q];
		const struct port_txq *tq = &port->txq[q];

		v[X_RX_PACKETS] += ctr_get(&rq->c.packets);
		v[X_RX_BYTES] += ctr_get(&rq->c.bytes);
		v[X_RX_ERRORS] += rx_invalid(rq) + ctr_get(&rq->c.nobuf);
		v[X_RX_BAD_LEN] += ctr_get(&rq->c.bad_len);
		v[X_RX_CHAIN_LONG] += ctr_get(&rq->c.chain_long);
		v[X_RX_CHAIN_UNTERM] += ctr_get(&rq->c.chain_unterm);
		v[X_RX_EMPTY] += ctr_get(&rq->c.empty);
		v[X_RX_BAD_INDEX] += ctr_get(&rq->c.bad_index) +
			atomic_load_explicit(&((struct port_rxq *)rq)->ring.bad_index,
					     memory_order_relaxed);
		v[X_RX_BAD_GEN] += ctr_get(&rq->c.bad_gen);
		v[X_RX_NOBUF] += ctr_get(&rq->c.nobuf);
		v[X_RX_RESETS] += ctr_get(&rq->c.resets);
		v[X_RX_RESET_DROPPED] += ctr_get(&rq->c.reset_dropped);
		v[X_RX_WAKEUPS] += ctr_get(&rq->c.wakeups);
		v[X_RX_SPURIOUS] += ctr_get(&rq->c.spurious);
		v[X_RX_BACKOFFS] += ctr_get(&rq->c.backoffs);
		v[X_NOTICES] += ctr_get(&rq->c.notices);
		v[X_NOTICE_BACKOFFS] += ctr_get(&rq->c.notice_backoffs);
		v[X_TX_PACKETS] += ctr_get(&tq->c.packets);
		v[X_TX_BYTES] += ctr_get(&tq->c.bytes);
		v[X_TX_ERRORS] += ctr_get(&tq->c.errors);
		v[X_TX_RING_FULL] += ctr_get(&tq->c.ring_full);
		v[X_TX_BAD_INDEX] += atomic_load_explicit(
			&((struct port_txq *)tq)->ring.bad_index,
			memory_order_relaxed);
		v[X_TX_DOORBELLS] += ctr_get(&tq->c.doorbells);
		v[X_TX_DOORBELL_ERRORS] += ctr_get(&tq->c.doorbell_errors);
	}
	v[X_PEER_RESTARTS] = ctr_get(&port->peer_restarts);
	v[X_LINK_CHANGES] = ctr_get(&port->link_changes);
	v[X_LAYOUT_LOST] = ctr_get(&port->layout_lost);
}

int ivsh_port_xstats(const struct ivsh_port *port, const char **names,
		     uint64_t *values, unsigned int n)
{
	uint64_t raw[X_COUNT];

	if (values != NULL && n > 0)
		xstats_raw(port, raw);
	for (unsigned int i = 0; i < n && i < X_COUNT; i++) {
		if (names != NULL)
			names[i] = xstat_names[i];
		if (values != NULL)
			values[i] = raw[i] - port->base.x[i];
	}
	return X_COUNT;
}

void ivsh_port_stats_reset(struct ivsh_port *port)
{
	for (uint16_t q = 0; q < port->nb_queues; q++)
		queue_raw(port, q, &port->base.q[q]);
	xstats_raw(port, port->base.x);
}
