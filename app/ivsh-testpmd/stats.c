/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "rss.h"
#include "testpmd.h"
#include "tsc.h"

void stats_start(struct testpmd *tp)
{
	tp_totals(tp, &tp->live_last);
	tp->live_tsc = tsc_now();
}

static double rate(uint64_t delta, double secs)
{
	return secs > 0 ? (double)delta / secs : 0.0;
}

void stats_live(struct testpmd *tp)
{
	struct tp_totals t;
	uint64_t now = tsc_now();
	double secs = (double)tsc_to_ns(now - tp->live_tsc) / 1e9;
	double total = (double)tsc_to_ns(now - tp->start_tsc) / 1e9;

	tp_totals(tp, &t);
	printf("[%7.1fs] rx %8.3f Mpps %7.3f Gbit/s | tx %8.3f Mpps %7.3f Gbit/s"
	       " | drops %" PRIu64 " ring-full %" PRIu64 " rx-err %" PRIu64
	       " | link %s\n",
	       total,
	       rate(t.rx_packets - tp->live_last.rx_packets, secs) / 1e6,
	       rate(t.rx_bytes - tp->live_last.rx_bytes, secs) * 8 / 1e9,
	       rate(t.tx_packets - tp->live_last.tx_packets, secs) / 1e6,
	       rate(t.tx_bytes - tp->live_last.tx_bytes, secs) * 8 / 1e9,
	       t.fwd_dropped + tp->corrupted, t.port_ring_full,
	       t.port_rx_errors, tp->link_up ? "up" : "down");
	fflush(stdout);
	tp->live_last = t;
	tp->live_tsc = now;
}

uint64_t stats_lost(const struct testpmd *tp)
{
	uint64_t lost = tp->seq.lost;

	/*
	 * With --count on a receiver every one of the N frames must arrive:
	 * frames that never came (even after the last one seen, where no
	 * gap shows) are lost.
	 */
	if (tp->conf.engine == &engine_rxonly && tp->conf.count &&
	    tp->conf.verify) {
		uint64_t good = tp->seq.in_order + tp->seq.reordered;

		if (good < tp->conf.count && tp->conf.count - good > lost)
			lost = tp->conf.count - good;
	}
	return lost;
}

static void print_xstats(const struct testpmd *tp, FILE *out)
{
	/* No port after a removal without --reattach. */
	int n = tp->port ? ivsh_port_xstats(tp->port, NULL, NULL, 0) : 0;

	if (n <= 0)
		return;
	const char **names = calloc((size_t)n, sizeof(*names));
	uint64_t *values = calloc((size_t)n, sizeof(*values));

	if (names && values) {
		n = ivsh_port_xstats(tp->port, names, values, (unsigned int)n);
		for (int i = 0; i < n; i++)
			if (values[i])
				fprintf(out, "  %-32s %" PRIu64 "\n", names[i],
					values[i]);
	}
	free(names);
	free(values);
}

void stats_final(struct testpmd *tp, uint64_t elapsed_ns)
{
	struct tp_totals t;
	struct rss_info ri;
	double secs = (double)elapsed_ns / 1e9;
	FILE *out = tp->conf.json ? stderr : stdout;
	uint64_t lost = stats_lost(tp);

	tp_totals(tp, &t);
	/* receive rates over the time frames actually arrived (a receiver
	 * usually starts before its sender); at least one loop period */
	double rx_secs = secs;

	if (tp->last_rx_tsc > tp->first_rx_tsc)
		rx_secs = (double)tsc_to_ns(tp->last_rx_tsc - tp->first_rx_tsc) / 1e9;
	if (tp->dev == NULL ||
	    rss_measure(ivsh_dev_shm(tp->dev), ivsh_dev_shm_size(tp->dev), &ri))
		ri = (struct rss_info){ 0 };

	fprintf(out, "---- ivsh-testpmd %s: %.3f s ----\n",
		tp->conf.engine->name, secs);
	fprintf(out, "  rx %" PRIu64 " pkts %" PRIu64 " bytes (%.3f Mpps over"
		" %.3f s of arrivals)\n",
		t.rx_packets, t.rx_bytes, rate(t.rx_packets, rx_secs) / 1e6,
		rx_secs);
	fprintf(out, "  tx %" PRIu64 " pkts %" PRIu64 " bytes (%.3f Mpps)\n",
		t.tx_packets, t.tx_bytes, rate(t.tx_packets, secs) / 1e6);
	fprintf(out, "  lost %" PRIu64 " reordered %" PRIu64 " duplicated %"
		PRIu64 " corrupted %" PRIu64 " (len %" PRIu64 " magic %" PRIu64
		" csum %" PRIu64 ") stale %" PRIu64 " sessions %" PRIu64 "\n",
		lost, tp->seq.reordered, tp->seq.duplicated, tp->corrupted,
		tp->corrupt_len, tp->corrupt_magic, tp->corrupt_csum,
		tp->seq.stale, tp->seq.sessions);
	fprintf(out, "  fwd-dropped %" PRIu64 " ring-full %" PRIu64
		" link-changes %" PRIu64 "\n",
		t.fwd_dropped, t.port_ring_full, tp->link_changes);
	if (tp->conf.engine == &engine_latency)
		fprintf(out, "  latency (round trip) samples %" PRIu64
			" min %" PRIu64 " p50 %" PRIu64 " p99 %" PRIu64
			" max %" PRIu64 " ns, lost %" PRIu64 "\n",
			tp->lat.count, tp->lat.count ? tp->lat.min : 0,
			hist_percentile(&tp->lat, 50), hist_percentile(&tp->lat, 99),
			tp->lat.max, tp->lat_lost);
	fprintf(out, "  memory: VmRSS %" PRIu64 " KiB = shared region %" PRIu64
		" KiB + private %" PRIu64 " KiB\n",
		ri.vm_rss_kib, ri.shm_rss_kib, ri.private_kib);
	fprintf(out, "  port xstats (non-zero):\n");
	print_xstats(tp, out);
	fflush(out);

	if (!tp->conf.json)
		return;
	printf("{\"engine\":\"%s\",\"mode\":\"%s\",\"pkt_len\":%u,\"burst\":%u,"
	       "\"queues\":%u,\"duration_s\":%.6f,\"rx_active_s\":%.6f,"
	       "\"tx_packets\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ","
	       "\"tx_bytes\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ","
	       "\"tx_pps\":%.1f,\"rx_pps\":%.1f,\"tx_gbps\":%.4f,\"rx_gbps\":%.4f,"
	       "\"lost\":%" PRIu64 ",\"reordered\":%" PRIu64 ","
	       "\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64 ","
	       "\"stale\":%" PRIu64 ",\"fwd_dropped\":%" PRIu64 ","
	       "\"ring_full\":%" PRIu64 ",\"port_rx_errors\":%" PRIu64 ","
	       "\"link_changes\":%" PRIu64 ",\"rss_kib\":%" PRIu64 ","
	       "\"shm_rss_kib\":%" PRIu64 ",\"private_rss_kib\":%" PRIu64,
	       tp->conf.engine->name, tp->conf.intr ? "intr" : "poll",
	       tp->conf.pkt_len, tp->conf.burst, tp->conf.queues, secs, rx_secs,
	       t.tx_packets, t.rx_packets, t.tx_bytes, t.rx_bytes,
	       rate(t.tx_packets, secs), rate(t.rx_packets, rx_secs),
	       rate(t.tx_bytes, secs) * 8 / 1e9,
	       rate(t.rx_bytes, rx_secs) * 8 / 1e9,
	       lost, tp->seq.reordered, tp->seq.duplicated, tp->corrupted,
	       tp->seq.stale, t.fwd_dropped, t.port_ring_full, t.port_rx_errors,
	       tp->link_changes, ri.vm_rss_kib, ri.shm_rss_kib, ri.private_kib);
	if (tp->conf.engine == &engine_latency)
		printf(",\"samples\":%" PRIu64 ",\"min_ns\":%" PRIu64
		       ",\"mean_ns\":%" PRIu64 ",\"p50_ns\":%" PRIu64
		       ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
		       ",\"lat_lost\":%" PRIu64,
		       tp->lat.count, tp->lat.count ? tp->lat.min : 0,
		       tp->lat.count ? tp->lat.sum / tp->lat.count : 0,
		       hist_percentile(&tp->lat, 50), hist_percentile(&tp->lat, 99),
		       tp->lat.max, tp->lat_lost);
	printf("}\n");
	fflush(stdout);
}
