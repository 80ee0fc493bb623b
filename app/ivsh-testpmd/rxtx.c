/* SPDX-License-Identifier: BSD-3-Clause */
/* Burst helpers shared by the engines. */
#include "testpmd.h"

#include "pkt.h"

uint16_t tp_rx(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t n;

	for (uint16_t i = 0; i < tp->conf.burst; i++)
		q->rx[i].len = IVSH_PORT_MAX_FRAME;
	n = ivsh_port_rx_burst(tp->port, q->id, q->rx, tp->conf.burst);
	if (n == 0)
		return 0;
	q->rx_packets += n;
	for (uint16_t i = 0; i < n; i++)
		q->rx_bytes += q->rx[i].len;
	if (tp->first_rx_tsc == 0)
		tp->first_rx_tsc = tp->now_tsc;
	tp->last_rx_tsc = tp->now_tsc;
	return n;
}

uint16_t tp_tx_pending(struct testpmd *tp, struct tp_queue *q)
{
	uint16_t sent;

	if (q->tx_pending == 0)
		return 0;
	sent = ivsh_port_tx_burst(tp->port, q->id, &q->tx[q->tx_first],
				  q->tx_pending);
	for (uint16_t i = 0; i < sent; i++)
		q->tx_bytes += q->tx[q->tx_first + i].len;
	q->tx_packets += sent;
	q->tx_first = (uint16_t)(q->tx_first + sent);
	q->tx_pending = (uint16_t)(q->tx_pending - sent);
	if (q->tx_pending)
		q->tx_full++;
	return sent;
}

void tp_check_rx(struct testpmd *tp, uint8_t *buf, uint32_t len)
{
	struct pkt_meta m;

	switch (pkt_check(buf, len, &m)) {
	case PKT_OK:
		seq_account(&tp->streams[m.stream % TP_MAX_STREAMS], &tp->seq,
			    m.session, m.seq);
		return;
	case PKT_BAD_LEN:
		tp->corrupt_len++;
		break;
	case PKT_BAD_MAGIC:
		tp->corrupt_magic++;
		break;
	case PKT_BAD_CSUM:
		tp->corrupt_csum++;
		break;
	}
	tp->corrupted++;
}

void tp_totals(const struct testpmd *tp, struct tp_totals *t)
{
	struct ivsh_port_queue_stats st;

	*t = (struct tp_totals){ 0 };
	for (uint16_t i = 0; i < tp->conf.queues; i++) {
		const struct tp_queue *q = &tp->q[i];

		t->rx_packets += q->rx_packets;
		t->rx_bytes += q->rx_bytes;
		t->tx_packets += q->tx_packets;
		t->tx_bytes += q->tx_bytes;
		t->fwd_dropped += q->fwd_dropped;
		t->tx_full += q->tx_full;
		if (tp->port && ivsh_port_queue_stats(tp->port, q->id, &st) == 0) {
			t->port_rx_errors += st.rx_errors;
			t->port_tx_errors += st.tx_errors;
			t->port_ring_full += st.tx_ring_full;
		}
	}
}
