/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Four host peers of one ivsh-server; every ordered pair exchanges
 * numbered frames of varied length (jumbo frames included) at the same
 * time. Each receiver checks that every frame from each source arrives
 * exactly once, in order, intact. Mode "poll" busy-polls; mode "intr"
 * sleeps on Rx interrupts whenever it has nothing to do, and must have
 * been woken by doorbells.
 *
 * Usage: test_port_mesh IVSH_SERVER poll|intr [frames-per-pair]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "node.h"
#include "tframe.h"

#define NPEERS 4
#define BURST 16

static const char *sock;
static bool intr;
static uint32_t frames = 3000;
static int up_pipe[2];
static int go_pipe[NPEERS][2];

struct link_state {
	uint32_t tx_seq, rx_seq, session_rx;
	uint64_t bad, ooo, ring_full;
};

static int peer_main(void *arg)
{
	int want_id = (int)(intptr_t)arg;
	static uint8_t txbuf[BURST][IVSH_PORT_MAX_FRAME];
	static uint8_t rxbuf[BURST][IVSH_PORT_MAX_FRAME];
	struct link_state ls[NPEERS] = { 0 };
	struct ivsh_pkt pkts[BURST];
	struct ivsh_port_conf pc = { .max_peers = NPEERS, .ring_size = 256,
				     .slot_size = 2048, .intr = intr };
	struct node n;
	uint32_t session = tf_session();
	char c;

	it_pin((unsigned int)want_id);
	node_open(&n, sock);
	uint8_t id8 = (uint8_t)n.id;

	if (write(up_pipe[1], &id8, 1) != 1 || n.id != want_id) {
		fprintf(stderr, "peer: got id %u, expected %d\n", n.id, want_id);
		return 2;
	}
	if (read(go_pipe[want_id][0], &c, 1) != 1)
		return 2;
	for (uint16_t p = 0; p < NPEERS; p++)
		if (p != n.id)
			node_port(&n, p, &pc);
	/* the master's layout is ready: let the next peer open its ports
	 * (opening while the master initialises is the attach-race test) */
	if (write(up_pipe[1], &id8, 1) != 1)
		return 2;
	if (node_wait_links(&n, 15000)) {
		fprintf(stderr, "peer %u: links not up\n", n.id);
		return 3;
	}

	uint32_t max_len = ivsh_port_max_frame(n.port[0]);
	uint64_t deadline = it_now_ms() + 40000;
	bool done = false;

	while (!done) {
		bool moved = false;

		done = true;
		node_links(&n);
		for (int k = 0; k < n.nports; k++) {
			struct ivsh_port *port = n.port[k];
			uint16_t dst = n.peer[k];
			struct link_state *l = &ls[dst];

			/* send the next burst (rebuilt from seq: nothing lost
			 * when the ring takes only part of it) */
			if (l->tx_seq < frames) {
				uint16_t nb = 0;

				for (; nb < BURST && l->tx_seq + nb < frames; nb++) {
					uint32_t seq = l->tx_seq + nb;
					uint32_t len = tf_len(seq, max_len);

					tf_build(txbuf[nb], len, n.id, dst, session, seq);
					pkts[nb] = (struct ivsh_pkt){ txbuf[nb], len };
				}
				uint16_t sent = ivsh_port_tx_burst(port, 0, pkts, nb);

				if (sent < nb)
					l->ring_full++;
				l->tx_seq += sent;
				moved |= sent > 0;
				done &= l->tx_seq >= frames;
			}
			for (uint16_t i = 0; i < BURST; i++)
				pkts[i] = (struct ivsh_pkt){ rxbuf[i], IVSH_PORT_MAX_FRAME };
			uint16_t got = ivsh_port_rx_burst(port, 0, pkts, BURST);

			moved |= got > 0;
			for (uint16_t i = 0; i < got; i++) {
				struct tf_hdr h;

				if (tf_check(pkts[i].data, pkts[i].len, &h) ||
				    h.src != dst || h.dst != n.id) {
					l->bad++;
					continue;
				}
				if (l->session_rx == 0)
					l->session_rx = h.session;
				if (h.session != l->session_rx || h.seq != l->rx_seq) {
					if (l->ooo++ < 5)
						fprintf(stderr, "peer %u from %u: seq %u expected %u\n",
							n.id, dst, h.seq, l->rx_seq);
					if ((int32_t)(h.seq - l->rx_seq) > 0)
						l->rx_seq = h.seq + 1;
					continue;
				}
				l->rx_seq++;
			}
			done &= l->rx_seq >= frames;
		}
		if (it_now_ms() > deadline) {
			fprintf(stderr, "peer %u: timeout\n", n.id);
			break;
		}
		if (!moved && intr)
			node_intr_wait(&n, 20);
	}

	/* keep the heartbeat going until every peer is done receiving */
	int rc = 0;
	const char *const doorbell[] = { "doorbell", "wakeup", NULL };
	uint64_t bells = 0;

	for (int k = 0; k < n.nports; k++) {
		struct link_state *l = &ls[n.peer[k]];
		struct ivsh_port_queue_stats st;

		ivsh_port_queue_stats(n.port[k], 0, &st);
		bells += node_xstat_sum(n.port[k], doorbell);
		printf("peer %u <- %u: rx %u/%u bad %" PRIu64 " out-of-order %"
		       PRIu64 " | -> tx %u ring-full %" PRIu64 " (stats %" PRIu64
		       ") rx_errors %" PRIu64 "\n",
		       n.id, n.peer[k], l->rx_seq, frames, l->bad, l->ooo,
		       l->tx_seq, l->ring_full, st.tx_ring_full, st.rx_errors);
		if (l->rx_seq != frames || l->bad || l->ooo || l->tx_seq != frames ||
		    st.rx_errors || st.rx_packets != frames)
			rc = 1;
	}
	printf("peer %u: doorbell/wakeup xstats %" PRIu64 "\n", n.id, bells);
	if (intr && bells == 0) {
		fprintf(stderr, "peer %u: intr mode but no doorbell or wakeup counted\n",
			n.id);
		rc = 1;
	}
	if (write(up_pipe[1], &id8, 1) != 1)
		rc = 2;
	/* linger so slower peers keep seeing our heartbeat */
	uint64_t linger = it_now_ms() + 20000;

	while (read(go_pipe[want_id][0], &c, 1) != 1 && it_now_ms() < linger) {
		node_links(&n);
		it_sleep_ms(1);
	}
	node_close(&n);
	return rc;
}

int main(int argc, char **argv)
{
	pid_t pid[NPEERS];
	uint8_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: %s IVSH_SERVER poll|intr [frames]\n", argv[0]);
		return 1;
	}
	intr = strcmp(argv[2], "intr") == 0;
	if (argc > 3)
		frames = (uint32_t)strtoul(argv[3], NULL, 0);
	it_init(intr ? "mesh-intr" : "mesh-poll", 55, argv[1]);
	sock = it_path("sock");
	it_start_server(argv[1], sock, "16M", 1);
	if (pipe(up_pipe))
		IT_FAIL("pipe");

	/* connect one at a time so peer i gets ID i (0 = master) */
	for (int i = 0; i < NPEERS; i++) {
		if (pipe(go_pipe[i]))
			IT_FAIL("pipe");
		pid[i] = it_fork(peer_main, (void *)(intptr_t)i);
		if (read(up_pipe[0], &id, 1) != 1 || id != i)
			IT_FAIL("peer %d did not attach as ID %d", i, i);
	}
	for (int i = 0; i < NPEERS; i++) {
		if (write(go_pipe[i][1], "g", 1) != 1)
			IT_FAIL("go");
		if (read(up_pipe[0], &id, 1) != 1)
			IT_FAIL("peer %d could not open its ports", i);
	}
	/* all peers done with traffic, then release them together */
	for (int i = 0; i < NPEERS; i++)
		if (read(up_pipe[0], &id, 1) != 1)
			IT_FAIL("a peer died during traffic");
	for (int i = 0; i < NPEERS; i++)
		if (write(go_pipe[i][1], "q", 1) != 1)
			IT_FAIL("release");
	int failed = 0;

	for (int i = 0; i < NPEERS; i++) {
		int st = it_wait(pid[i], 10000);

		if (!it_ok(st)) {
			fprintf(stderr, "peer %d: %s\n", i, it_status_str(st));
			failed = 1;
		}
	}
	IT_CHECK(!failed, "mesh %s: some peer lost, reordered or corrupted frames",
		 argv[2]);
	printf("PASS: mesh %s, %d peers, %u frames per ordered pair\n", argv[2],
	       NPEERS, frames);
	return 0;
}
