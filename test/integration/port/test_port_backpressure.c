/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backpressure: a fast sender and a slow receiver (it starts late and
 * then takes a few frames at a time). The sender must see the ring full
 * (short tx bursts, tx_ring_full counted) and must not lose anything:
 * the receiver gets every frame once, in order, intact.
 *
 * Usage: test_port_backpressure IVSH_SERVER [poll|intr]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "node.h"
#include "tframe.h"

#define FRAMES 3000u
#define RING 64u

static const char *sock;
static bool intr;
static int up_pipe[2];

static int receiver(void *arg)
{
	static uint8_t buf[8][IVSH_PORT_MAX_FRAME];
	struct ivsh_port_conf pc = { .max_peers = 2, .ring_size = RING,
				     .slot_size = 2048, .intr = intr };
	struct ivsh_pkt pkts[8];
	struct node n;
	uint32_t next = 0, bad = 0, ooo = 0, session = 0;
	uint8_t one = 1;

	(void)arg;
	it_pin(0);
	node_open(&n, sock);
	node_port(&n, 1, &pc);
	/* layout ready (master's port open): the sender may attach */
	if (write(up_pipe[1], &one, 1) != 1)
		return 2;
	if (node_wait_links(&n, 15000))
		return 3;
	/* let the sender fill the ring, heartbeat still going */
	for (int i = 0; i < 300; i++) {
		node_links(&n);
		it_sleep_ms(1);
	}
	uint64_t deadline = it_now_ms() + 40000;

	while (next < FRAMES && it_now_ms() < deadline) {
		node_links(&n);
		for (int i = 0; i < 8; i++)
			pkts[i] = (struct ivsh_pkt){ buf[i], IVSH_PORT_MAX_FRAME };
		uint16_t got = ivsh_port_rx_burst(n.port[0], 0, pkts, 4);

		for (uint16_t i = 0; i < got; i++) {
			struct tf_hdr h;

			if (tf_check(pkts[i].data, pkts[i].len, &h)) {
				bad++;
				continue;
			}
			if (!session)
				session = h.session;
			if (h.seq != next || h.session != session)
				ooo++;
			next = h.seq + 1;
		}
		if (got == 0 && intr)
			ivsh_port_rx_wait(n.port[0], 0, 20);
		else
			usleep(50); /* slow consumer */
	}
	printf("receiver: %u/%u frames, bad %u, out-of-order %u\n", next,
	       FRAMES, bad, ooo);
	/* keep our side up until the sender has seen the end */
	for (int i = 0; i < 300; i++) {
		node_links(&n);
		it_sleep_ms(1);
	}
	node_close(&n);
	return next == FRAMES && !bad && !ooo ? 0 : 1;
}

static int sender(void *arg)
{
	static uint8_t buf[32][IVSH_PORT_MAX_FRAME];
	struct ivsh_port_conf pc = { .intr = intr };
	struct ivsh_pkt pkts[32];
	struct ivsh_port_queue_stats st;
	struct node n;
	uint32_t seq = 0, session = tf_session();
	uint64_t short_bursts = 0;

	(void)arg;
	it_pin(1);
	node_open(&n, sock);
	node_port(&n, 0, &pc);
	if (node_wait_links(&n, 15000))
		return 3;
	uint64_t deadline = it_now_ms() + 40000;

	while (seq < FRAMES && it_now_ms() < deadline) {
		uint16_t nb = 0;

		node_links(&n);
		for (; nb < 32 && seq + nb < FRAMES; nb++) {
			uint32_t len = tf_len(seq + nb, 1500);

			tf_build(buf[nb], len, n.id, 0, session, seq + nb);
			pkts[nb] = (struct ivsh_pkt){ buf[nb], len };
		}
		uint16_t sent = ivsh_port_tx_burst(n.port[0], 0, pkts, nb);

		if (sent < nb)
			short_bursts++;
		seq += sent;
	}
	ivsh_port_queue_stats(n.port[0], 0, &st);
	printf("sender: sent %u, short bursts %" PRIu64 ", tx_ring_full %" PRIu64
	       ", tx_packets %" PRIu64 "\n", seq, short_bursts, st.tx_ring_full,
	       st.tx_packets);
	for (int i = 0; i < 1500; i++) {
		node_links(&n);
		it_sleep_ms(1);
	}
	node_close(&n);
	return seq == FRAMES && short_bursts > 0 && st.tx_ring_full > 0 &&
	       st.tx_packets == FRAMES ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint8_t c;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IVSH_SERVER [poll|intr]\n", argv[0]);
		return 1;
	}
	intr = argc > 2 && strcmp(argv[2], "intr") == 0;
	it_init(intr ? "backpressure-intr" : "backpressure", 55, argv[1]);
	sock = it_path("sock");
	it_start_server(argv[1], sock, "4M", 1);
	if (pipe(up_pipe))
		IT_FAIL("pipe");
	pid_t rx = it_fork(receiver, NULL);

	if (read(up_pipe[0], &c, 1) != 1)
		IT_FAIL("receiver did not attach");
	pid_t tx = it_fork(sender, NULL);
	int st_rx = it_wait(rx, 50000), st_tx = it_wait(tx, 5000);

	IT_CHECK(it_ok(st_rx), "receiver: %s (lost, reordered or corrupted frames)",
		 it_status_str(st_rx));
	IT_CHECK(it_ok(st_tx), "sender: %s (never saw the ring full, or did not"
		 " send everything)", it_status_str(st_tx));
	printf("PASS: backpressure: sender saw ring-full, receiver got all %u\n",
	       FRAMES);
	return 0;
}
