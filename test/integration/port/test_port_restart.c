/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer restart: a survivor (ID 0) and a peer (ID 1) exchange numbered
 * frames both ways; the peer is killed with SIGKILL in the middle of its
 * bursts, then started again. The survivor must see the link go down,
 * then up with a new epoch in the peer table, and traffic must resume:
 * every frame delivered, from either incarnation, intact and in order
 * within its sender session, and the new session complete from 0.
 *
 * Usage: test_port_restart IVSH_SERVER
 */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "node.h"
#include "tframe.h"

#define NEW_FRAMES 5000u

static const char *sock;
static int ev_pipe[2];   /* children -> parent: one-byte events */

enum { EV_ATTACHED = 'a', EV_DOWN = 'd', EV_UP = 'u', EV_TRAFFIC = 't' };

static void event(char e)
{
	if (write(ev_pipe[1], &e, 1) != 1)
		exit(2);
}

static uint32_t peer_epoch(struct node *n, uint16_t id)
{
	const uint8_t *base = ivsh_dev_shm(n->dev);
	uint64_t peers_off;
	uint32_t epoch;

	memcpy(&peers_off, base + 48, 8);
	if (peers_off + 64u * (id + 1u) > ivsh_dev_shm_size(n->dev))
		return 0;
	memcpy(&epoch, base + peers_off + 64u * id + 4, 4);
	return epoch;
}

/* Send a burst of numbered frames; @return frames sent. */
static uint16_t send_some(struct ivsh_port *p, uint16_t self, uint16_t dst,
			  uint32_t session, uint32_t seq)
{
	static uint8_t b[16][IVSH_PORT_MAX_FRAME];
	struct ivsh_pkt pk[16];

	for (int i = 0; i < 16; i++) {
		uint32_t len = tf_len(seq + (uint32_t)i, 9000);

		tf_build(b[i], len, self, dst, session, seq + (uint32_t)i);
		pk[i] = (struct ivsh_pkt){ b[i], len };
	}
	return ivsh_port_tx_burst(p, 0, pk, 16);
}

struct rxcheck {
	bool join_any;  /* a sender that did not restart: join mid-stream */
	uint32_t session, next;
	uint64_t frames, bad, ooo, sessions;
};

static uint16_t recv_check(struct ivsh_port *p, struct rxcheck *c)
{
	static uint8_t b[16][IVSH_PORT_MAX_FRAME];
	struct ivsh_pkt pk[16];

	for (int i = 0; i < 16; i++)
		pk[i] = (struct ivsh_pkt){ b[i], IVSH_PORT_MAX_FRAME };
	uint16_t got = ivsh_port_rx_burst(p, 0, pk, 16);

	for (uint16_t i = 0; i < got; i++) {
		struct tf_hdr h;

		if (tf_check(pk[i].data, pk[i].len, &h)) {
			c->bad++;
			continue;
		}
		if (h.session != c->session) {
			/* a new incarnation starts at 0 */
			c->session = h.session;
			c->sessions++;
			c->next = c->join_any ? h.seq : 0;
			c->frames = 0;
		}
		if (h.seq != c->next) {
			if (c->ooo++ < 5)
				fprintf(stderr, "seq %u expected %u\n", h.seq, c->next);
		}
		c->next = h.seq + 1;
		c->frames++;
	}
	return got;
}

static int survivor(void *arg)
{
	struct ivsh_port_conf pc = { .max_peers = 2, .ring_size = 512,
				     .slot_size = 2048 };
	struct rxcheck rc = { 0 };
	struct node n;
	uint32_t seq = 0, session = tf_session(), epoch1, epoch2 = 0;
	int state = 0; /* 0 first link, 1 down seen, 2 up again */
	uint64_t deadline = it_now_ms() + 45000, resets0;
	const char *const reset_words[] = { "reset", NULL };

	(void)arg;
	it_pin(0);
	node_open(&n, sock);
	/* the layout is ready once the master's port is open */
	struct ivsh_port *p = node_port(&n, 1, &pc);

	event(EV_ATTACHED);

	if (node_wait_links(&n, 15000))
		return 3;
	epoch1 = peer_epoch(&n, 1);
	resets0 = node_xstat_sum(p, reset_words);
	event(EV_UP);
	while (it_now_ms() < deadline) {
		int up = ivsh_port_link_update(p);

		if (state == 0 && !up) {
			state = 1;
			event(EV_DOWN);
		} else if (state == 1 && up) {
			state = 2;
			epoch2 = peer_epoch(&n, 1);
			event(EV_UP);
		}
		if (up)
			seq += send_some(p, n.id, 1, session, seq);
		recv_check(p, &rc);
		if (state == 2 && rc.sessions >= 2 && rc.frames >= NEW_FRAMES)
			break;
	}
	uint64_t resets = node_xstat_sum(p, reset_words) - resets0;

	printf("survivor: state %d epoch %u -> %u, sessions %" PRIu64
	       ", new-session frames %" PRIu64 ", bad %" PRIu64
	       ", out-of-order %" PRIu64 ", reset xstats +%" PRIu64 "\n",
	       state, epoch1, epoch2, rc.sessions, rc.frames, rc.bad, rc.ooo,
	       resets);
	node_print_xstats(p, "survivor: xstat ", stdout);
	/* keep the link up while the peer finishes checking */
	for (int i = 0; i < 500; i++) {
		ivsh_port_link_update(p);
		recv_check(p, &rc);
		it_sleep_ms(1);
	}
	node_close(&n);
	/* the new incarnation's channel must have been reset (counted) */
	return state == 2 && epoch2 != epoch1 && epoch2 != 0 && resets > 0 &&
	       rc.sessions >= 2 && rc.frames >= NEW_FRAMES && !rc.bad &&
	       !rc.ooo ? 0 : 1;
}

/* The peer: sends and receives until killed; the second one reports. */
static int peer(void *arg)
{
	bool second = arg != NULL;
	struct ivsh_port_conf pc = { 0 };
	struct rxcheck rc = { .join_any = true };
	struct node n;
	uint32_t seq = 0, session = tf_session();
	bool told = false;

	it_pin(1);
	node_open(&n, sock);
	if (n.id != 1) {
		fprintf(stderr, "peer: got ID %u, expected 1\n", n.id);
		return 2;
	}
	struct ivsh_port *p = node_port(&n, 0, &pc);

	if (node_wait_links(&n, 15000))
		return 3;
	for (;;) {
		if (ivsh_port_link_update(p) == 1 && (!second || seq < NEW_FRAMES))
			seq += send_some(p, n.id, 0, session, seq);
		recv_check(p, &rc);
		if (!second && !told && rc.frames > 2000) {
			told = true;
			event(EV_TRAFFIC);
		}
		if (rc.bad || rc.ooo) {
			fprintf(stderr, "peer: bad %" PRIu64 " out-of-order %" PRIu64 "\n",
				rc.bad, rc.ooo);
			return 1;
		}
	}
}

static char next_event(void)
{
	struct pollfd p = { .fd = ev_pipe[0], .events = POLLIN };
	char e;

	if (poll(&p, 1, 20000) != 1 || read(ev_pipe[0], &e, 1) != 1)
		IT_FAIL("no event from the children within 20 s");
	return e;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s IVSH_SERVER\n", argv[0]);
		return 1;
	}
	it_init("restart", 58, argv[1]);
	sock = it_path("sock");
	it_start_server(argv[1], sock, "4M", 1);
	if (pipe(ev_pipe))
		IT_FAIL("pipe");
	pid_t s = it_fork(survivor, NULL);

	IT_CHECK(next_event() == EV_ATTACHED, "survivor did not attach");
	pid_t p1 = it_fork(peer, NULL);

	IT_CHECK(next_event() == EV_UP, "survivor link did not come up");
	IT_CHECK(next_event() == EV_TRAFFIC, "no traffic before the kill");
	it_sleep_ms(200);
	it_kill(p1, SIGKILL);
	printf("killed peer 1 (pid %d) mid-burst\n", (int)p1);
	IT_CHECK(next_event() == EV_DOWN, "survivor did not see link down");
	printf("survivor saw link down\n");
	pid_t p2 = it_fork(peer, (void *)1);

	IT_CHECK(next_event() == EV_UP, "survivor did not see link up again");
	printf("survivor saw link up again\n");
	int st = it_wait(s, 45000);

	it_kill(p2, SIGTERM);
	IT_CHECK(it_ok(st), "survivor: %s (no new epoch, or frames lost/damaged)",
		 it_status_str(st));
	printf("PASS: restart: link down, up with new epoch, traffic intact\n");
	return 0;
}
