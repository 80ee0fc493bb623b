/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * latency: ping-pong one frame at a time on queue 0. The peer runs the io
 * engine (or mac/macswap), which sends it straight back. Each sample is
 * the round trip from just before tx_burst to the rx_burst that returned
 * the reply, in TSC ticks converted to ns.
 */
#include "engine.h"
#include "pkt.h"
#include "testpmd.h"
#include "tsc.h"

static int latency_init(struct testpmd *tp)
{
	struct tp_queue *q = &tp->q[0];

	q->tx[0].len = tp->conf.pkt_len;
	pkt_build(q->tx[0].data, tp->conf.pkt_len, tp->peer_mac, tp->own_mac,
		  0);
	hist_init(&tp->lat);
	return 0;
}

static unsigned int latency_send(struct testpmd *tp, struct tp_queue *q)
{
	uint64_t t0;

	pkt_stamp(q->tx[0].data, q->tx[0].len, 0, tp->session,
		  tp->ping.seq, true);
	t0 = tsc_now();
	if (ivsh_port_tx_burst(tp->port, 0, &q->tx[0], 1) != 1) {
		q->tx_full++;
		return 0;
	}
	tp->ping.sent_tsc = t0;
	tp->ping.waiting = true;
	q->tx_packets++;
	q->tx_bytes += q->tx[0].len;
	return 1;
}

static unsigned int latency_run(struct testpmd *tp, struct tp_queue *q)
{
	struct pkt_meta m;
	uint16_t n;

	if (q->id != 0)
		return 0;
	if (!tp->ping.waiting) {
		if (tp->conf.count && tp->lat.count + tp->lat_lost >= tp->conf.count)
			return 0;
		return latency_send(tp, q);
	}
	n = tp_rx(tp, q);
	uint64_t t1 = tsc_now();

	for (uint16_t i = 0; i < n; i++) {
		enum pkt_verdict v = pkt_check(q->rx[i].data, q->rx[i].len, &m);

		if (v != PKT_OK) {
			tp->corrupted++;
			continue;
		}
		if (tp->ping.waiting && m.session == tp->session &&
		    m.seq == tp->ping.seq) {
			hist_add(&tp->lat, tsc_to_ns(t1 - tp->ping.sent_tsc));
			tp->ping.waiting = false;
			tp->ping.seq++;
		} else {
			tp->lat_stray++;
		}
	}
	uint64_t timeout = ns_to_tsc((uint64_t)tp->conf.latency_timeout_ms *
				     1000000u);

	if (tp->ping.waiting && t1 - tp->ping.sent_tsc > timeout) {
		tp->lat_lost++;
		tp->ping.waiting = false;
		tp->ping.seq++;
	}
	return n;
}

const struct engine engine_latency = {
	.name = "latency",
	.help = "ping-pong one frame at a time; peer runs io (p50/p99/max)",
	.generates = true,
	.rx_driven = true,
	.counts = COUNT_SAMPLES,
	.init = latency_init,
	.run = latency_run,
};
