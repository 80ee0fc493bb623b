/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The victim of the hostile-peer test: runs every port call (copying and
 * zero-copy rx/tx, interrupt arming, link updates) against a peer while a
 * third process scribbles over the shared memory. It must not crash, must
 * not block in any call, and must count what it rejected. Built twice:
 * plain and with -fsanitize=address,undefined over the whole stack.
 *
 * Usage: victim SOCK PEER DURATION_MS
 * Prints "victim: errors N" and exits 0 when it survived.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "node.h"
#include "tframe.h"

#define HANG_MS 2000

static uint64_t worst_ms;
static const char *worst_op = "";

/* Time one call; a call that takes long means the port blocked. */
#define TIMED(name, expr)                                                  \
	do {                                                               \
		uint64_t t0_ = it_now_ms();                                \
		expr;                                                      \
		uint64_t d_ = it_now_ms() - t0_;                           \
		if (d_ > worst_ms) {                                       \
			worst_ms = d_;                                     \
			worst_op = name;                                   \
		}                                                          \
		if (d_ > HANG_MS) {                                        \
			printf("victim: HANG: %s took %" PRIu64 " ms\n",   \
			       name, d_);                                  \
			exit(3);                                           \
		}                                                          \
	} while (0)

/* Zero-copy pointers must lie inside the shared mapping. */
static bool in_region(const struct node *n, const void *p, uint32_t len)
{
	uintptr_t lo = (uintptr_t)ivsh_dev_shm(n->dev);
	uintptr_t hi = lo + (uintptr_t)ivsh_dev_shm_size(n->dev);
	uintptr_t a = (uintptr_t)p;

	return a >= lo && a <= hi && len <= hi - a;
}

int main(int argc, char **argv)
{
	static uint8_t txb[8][IVSH_PORT_MAX_FRAME], rxb[16][IVSH_PORT_MAX_FRAME];
	struct ivsh_port_conf pc = { .max_peers = 4, .ring_size = 256,
				     .slot_size = 2048, .intr = true };
	struct ivsh_pkt tx[8], rx[16];
	struct ivsh_seg segs[16];
	struct node n;
	uint64_t rx_ok = 0, rx_bad = 0, tx_ok = 0, link_changes = 0;
	uint32_t seq = 0, session = tf_session();
	int up = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: victim SOCK PEER DURATION_MS\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint16_t peer = (uint16_t)atoi(argv[2]);
	uint64_t duration = strtoull(argv[3], NULL, 0);

	node_open(&n, argv[1]);
	node_port(&n, peer, &pc);
	printf("victim: attached id %u\n", n.id);
	if (node_wait_links(&n, 15000)) {
		printf("victim: link never came up\n");
		return 4;
	}
	printf("victim: link up\n");
	struct ivsh_port *p = n.port[0];
	uint64_t end = it_now_ms() + duration;

	while (it_now_ms() < end) {
		int now_up;

		TIMED("link_update", now_up = ivsh_port_link_update(p));
		if (now_up != up) {
			link_changes++;
			up = now_up;
		}
		for (int i = 0; i < 8; i++) {
			uint32_t len = tf_len(seq + (uint32_t)i, 9000);

			tf_build(txb[i], len, n.id, peer, session, seq + (uint32_t)i);
			tx[i] = (struct ivsh_pkt){ txb[i], len };
		}
		uint16_t sent;

		TIMED("tx_burst", sent = ivsh_port_tx_burst(p, 0, tx, 8));
		seq += sent;
		tx_ok += sent;

		for (int i = 0; i < 16; i++)
			rx[i] = (struct ivsh_pkt){ rxb[i], (uint32_t)(64 + i * 600) };
		uint16_t got;

		TIMED("rx_burst", got = ivsh_port_rx_burst(p, 0, rx, 16));
		for (uint16_t i = 0; i < got; i++) {
			struct tf_hdr h;

			if (rx[i].len > (uint32_t)(64 + i * 600)) {
				printf("victim: rx length %u beyond capacity %u\n",
				       rx[i].len, 64 + i * 600);
				return 5;
			}
			if (tf_check(rx[i].data, rx[i].len, &h) == 0)
				rx_ok++;
			else
				rx_bad++;
		}

		uint16_t nseg;
		volatile uint8_t sink = 0;

		TIMED("rx_zc_peek", nseg = ivsh_port_rx_zc_peek(p, 0, segs, 16));
		for (uint16_t i = 0; i < nseg; i++) {
			const uint8_t *d = segs[i].data;

			if (!in_region(&n, d, segs[i].len)) {
				printf("victim: rx_zc_peek segment outside the region\n");
				return 6;
			}

			/* touch the first and last byte: must be mapped */
			if (segs[i].len) {
				sink ^= d[0];
				sink ^= d[segs[i].len - 1];
			}
		}
		(void)sink;
		TIMED("rx_zc_release", ivsh_port_rx_zc_release(p, 0, nseg));

		uint16_t res;

		TIMED("tx_zc_reserve", res = ivsh_port_tx_zc_reserve(p, 0, segs, 2));
		for (uint16_t i = 0; i < res; i++) {
			uint32_t len = segs[i].len < 128 ? segs[i].len : 128;

			if (!in_region(&n, segs[i].data, segs[i].len)) {
				printf("victim: tx_zc_reserve slot outside the region\n");
				return 6;
			}

			memset(segs[i].data, 0x5a, len);
			segs[i].len = len;
			segs[i].flags = 0;
		}
		TIMED("tx_zc_commit", ivsh_port_tx_zc_commit(p, 0, segs, res));

		TIMED("rx_intr_enable", ivsh_port_rx_intr_enable(p, 0));
		TIMED("rx_intr_disable", ivsh_port_rx_intr_disable(p, 0));
		TIMED("rx_wait", ivsh_port_rx_wait(p, 0, 0));
	}

	struct ivsh_port_queue_stats st;
	const char *const err_words[] = { "err", "bad", "invalid", "reset",
					   "chain", "empty", "overflow", "corrupt",
					   NULL };

	ivsh_port_queue_stats(p, 0, &st);
	uint64_t xerr = node_xstat_sum(p, err_words);

	printf("victim: rx ok %" PRIu64 " bad-content %" PRIu64 " tx %" PRIu64
	       " link changes %" PRIu64 " slowest call %s %" PRIu64 " ms\n",
	       rx_ok, rx_bad, tx_ok, link_changes, worst_op, worst_ms);
	printf("victim: queue rx_errors %" PRIu64 " tx_errors %" PRIu64 "\n",
	       st.rx_errors, st.tx_errors);
	node_print_xstats(p, "victim: xstat ", stdout);
	printf("victim: errors %" PRIu64 "\n", xerr + st.rx_errors);
	node_close(&n);
	return 0;
}
