/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data-path limits and accounting against exact hostile writes, and kept
 * zero-copy slots together with interrupts:
 * - frames longer than IVSH_PORT_MAX_FRAME in slots larger than it;
 * - a producer index beyond the kept slots while arming the interrupt;
 * - one invalid frame behind a peek window consumed one frame at a time;
 * - every slot kept, then given back while the receiver polls or sleeps.
 * Port 0 sends on channel 0 -> 1, port 1 receives; the "peer" writes
 * that channel's descriptors and producer index behind port 0's back.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "ivsh_layout.h"
#include "ivsh_server.h"
#include "layout_v1.h"
#include "port_fixture.h"
#include "server_fixture.h"

#define RING 64u

struct env {
	struct pair pr;          /* shm: pair (no interrupts) */
	struct server_run run;   /* or a server: pair with interrupts */
};

static int setup_shm(void **state, uint32_t slot)
{
	static struct env e;
	struct ivsh_port_conf c = { .max_peers = 2, .ring_size = RING,
				    .slot_size = slot };

	memset(&e, 0, sizeof(e));
	if (pair_open(&e.pr, "hostile", "4M", &c) < 0) {
		print_message("pair_open: %s / %s\n", ivsh_dev_last_error(),
			      ivsh_port_last_error());
		return -1;
	}
	pair_link(&e.pr);
	*state = &e;
	return 0;
}

static int setup_big_slots(void **state)
{
	return setup_shm(state, 16384);
}

static int setup_small_slots(void **state)
{
	return setup_shm(state, 2048);
}

/* Two ports with interrupts, through an in-process server. */
static int setup_intr(void **state)
{
	static struct env e;
	const struct ivsh_port_conf c = { .intr = true, .max_peers = 2,
					  .ring_size = RING,
					  .slot_size = 2048 };
	char err[256];

	memset(&e, 0, sizeof(e));
	if (server_run_start(&e.run, "hostile", 1, err, sizeof(err)) < 0) {
		print_message("cannot create a server: %s\n", err);
		return -1;
	}
	if (server_run_open_devs(&e.run, e.pr.dev) < 0) {
		print_message("open: %s\n", ivsh_dev_last_error());
		return -1;
	}
	if (server_run_open_ports(e.pr.dev, e.pr.port, &c) < 0) {
		print_message("port open: %s\n", ivsh_port_last_error());
		return -1;
	}
	server_run_link(e.pr.dev, e.pr.port, 2000);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e == NULL)
		return 0;
	if (e->run.srv == NULL) {
		pair_close(&e->pr);
		return 0;
	}
	server_run_close(&e->run, e->pr.dev, e->pr.port);
	return 0;
}

/* Channel 0 -> 1 as the peer sees it. */
struct raw_chan {
	uint8_t *ch;
	const struct ivsh_layout_info *li;
	uint32_t prod;
};

static void raw_open(struct env *e, struct raw_chan *rc)
{
	rc->li = ivsh_port_layout(e->pr.port[0]);
	rc->ch = (uint8_t *)ivsh_dev_shm(e->pr.dev[0]) +
		 ivsh_layout_channel_off(rc->li, 0, 1, 0);
	rc->prod = atomic_load(&LAY_CHAN_PROD(rc->ch)->prod);
}

/* One descriptor (and its slot filled with @fill), then prod. */
static void raw_send(struct raw_chan *rc, uint32_t len, uint8_t fill)
{
	uint32_t idx = rc->prod & (rc->li->p.ring_size - 1);

	memset(rc->ch + rc->li->slots_off + (size_t)idx * rc->li->p.slot_size,
	       fill, rc->li->p.slot_size);
	atomic_store(&LAY_CHAN_DESC(rc->ch)[idx], lay_desc_make(len, 0));
	atomic_store(&LAY_CHAN_PROD(rc->ch)->prod, ++rc->prod);
}

static uint16_t send_len(struct ivsh_port *p, uint32_t len)
{
	static uint8_t buf[16384];
	struct ivsh_pkt pk = { buf, len };

	memset(buf, 0x5a, len);
	return ivsh_port_tx_burst(p, 0, &pk, 1);
}

static uint32_t send_until_full(struct ivsh_port *p, uint32_t len)
{
	uint32_t n = 0;

	while (n < 4 * RING && send_len(p, len) == 1)
		n++;
	return n;
}

/* Slots of 16384 bytes: no frame over 9018 bytes goes out or comes in,
 * on any path. */
static void test_no_frame_over_max_in_big_slots(void **state)
{
	struct env *e = *state;
	struct ivsh_port *tx = e->pr.port[0], *rx = e->pr.port[1];
	static uint8_t b[16384];
	struct ivsh_pkt pk = { b, sizeof(b) };
	struct ivsh_seg s[8];
	struct raw_chan rc;

	assert_int_equal(ivsh_port_slot_size(tx), 16384);
	assert_int_equal(ivsh_port_max_frame(tx), IVSH_PORT_MAX_FRAME);

	/* tx_burst: 9018 goes, 16000 is dropped (and consumed). */
	assert_int_equal(send_len(tx, IVSH_PORT_MAX_FRAME), 1);
	assert_int_equal(send_len(tx, 16000), 1);
	assert_int_equal(port_xstat(tx, "tx_dropped_bad_length"), 1);
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 1);
	assert_int_equal(pk.len, IVSH_PORT_MAX_FRAME);
	pk.len = sizeof(b);
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 0);

	/* rx_burst: a forged one-slot frame of 16000 bytes. */
	raw_open(e, &rc);
	raw_send(&rc, 16000, 1);
	pk.len = sizeof(b);
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 0);
	assert_int_equal(port_xstat(rx, "rx_invalid_chain_too_long"), 1);

	/* zc_peek: a forged full slot, 16384 bytes; then a valid 9018. */
	raw_send(&rc, 16384, 2);
	raw_send(&rc, IVSH_PORT_MAX_FRAME + 1, 3);
	raw_send(&rc, IVSH_PORT_MAX_FRAME, 4);
	uint16_t n = ivsh_port_rx_zc_peek(rx, 0, s, 8);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].len, IVSH_PORT_MAX_FRAME);
	assert_int_equal(((uint8_t *)s[0].data)[0], 4);
	ivsh_port_rx_zc_release(rx, 0, n);
	assert_int_equal(port_xstat(rx, "rx_invalid_chain_too_long"), 3);
	assert_int_equal(port_xstat(rx, "rx_packets"), 2);
}

/* A producer index one past the room left by a kept slot: arming the
 * interrupt must not report frames that rx_burst refuses. */
static void test_intr_enable_rejects_prod_past_kept(void **state)
{
	struct env *e = *state;
	struct ivsh_port *rx = e->pr.port[1];
	struct ivsh_seg s[1];
	struct raw_chan rc;

	assert_int_equal(send_len(e->pr.port[0], 100), 1);
	assert_int_equal(ivsh_port_rx_zc_peek(rx, 0, s, 1), 1);
	ivsh_port_rx_zc_keep(rx, 0, 1);
	raw_open(e, &rc);
	uint32_t cons = atomic_load(&LAY_CHAN_CONS(rc.ch)->cons);
	assert_int_equal(rc.prod, cons + 1); /* the kept slot */

	/* The hostile write: prod = cons_pub + size + 1 (head + size). */
	atomic_store(&LAY_CHAN_PROD(rc.ch)->prod, cons + RING + 1);
	uint8_t b[2048];
	struct ivsh_pkt pk = { b, sizeof(b) };
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 0);
	uint64_t bad = port_xstat(rx, "rx_invalid_prod_index");
	assert_true(bad >= 1);
	assert_int_equal(ivsh_port_rx_intr_enable(rx, 0), 0);
	ivsh_port_rx_intr_disable(rx, 0);
	assert_true(port_xstat(rx, "rx_invalid_prod_index") > bad);
	/* rx_wait sleeps until its timeout instead of returning at once. */
	assert_int_equal(ivsh_port_rx_wait(rx, 0, 150), 0);

	atomic_store(&LAY_CHAN_PROD(rc.ch)->prod, rc.prod);
	assert_int_equal(ivsh_port_rx_zc_give(rx, 0, s[0].slot), 0);
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 0);
	assert_int_equal(ivsh_port_rx_zc_held(rx, 0), 0);
}

/* Five good frames, then one invalid one, consumed one per peek of a
 * wider window: the invalid frame is counted once. */
static void test_bad_frame_counted_once(void **state)
{
	struct env *e = *state;
	struct ivsh_port *rx = e->pr.port[1];
	struct ivsh_port_queue_stats st;
	struct ivsh_seg s[8];
	struct raw_chan rc;
	uint32_t frames = 0;

	for (int i = 0; i < 5; i++)
		assert_int_equal(send_len(e->pr.port[0], 100), 1);
	raw_open(e, &rc);
	raw_send(&rc, 2048 + 1, 9); /* longer than a slot */
	for (int k = 0; k < 20; k++) {
		uint16_t n = ivsh_port_rx_zc_peek(rx, 0, s, 8);
		if (n == 0)
			break;
		ivsh_port_rx_zc_release(rx, 0, 1);
		frames++;
	}
	assert_int_equal(frames, 5);
	assert_int_equal(port_xstat(rx, "rx_invalid_length"), 1);
	assert_int_equal(ivsh_port_queue_stats(rx, 0, &st), 0);
	assert_int_equal(st.rx_errors, 1);
	assert_int_equal(st.rx_packets, 5);
}

/* Keep every slot of a full ring, give them all back. */
static void keep_all_give_all(struct env *e)
{
	struct ivsh_port *rx = e->pr.port[1];
	struct ivsh_seg s[RING];

	assert_int_equal(send_until_full(e->pr.port[0], 100), RING);
	assert_int_equal(ivsh_port_rx_zc_peek(rx, 0, s, RING), RING);
	ivsh_port_rx_zc_keep(rx, 0, RING);
	assert_int_equal(ivsh_port_rx_zc_held(rx, 0), RING);
	for (uint32_t i = 0; i < RING; i++)
		assert_int_equal(ivsh_port_rx_zc_give(rx, 0, s[i].slot), 0);
}

/* Given back after the last burst: empty rx_bursts return the slots. */
static void test_give_back_then_empty_bursts(void **state)
{
	struct env *e = *state;
	uint8_t b[2048];
	struct ivsh_pkt pk = { b, sizeof(b) };

	keep_all_give_all(e);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ivsh_port_rx_burst(e->pr.port[1], 0, &pk, 1), 0);
	assert_int_equal(send_len(e->pr.port[0], 100), 1);
	assert_int_equal(ivsh_port_rx_burst(e->pr.port[1], 0, &pk, 1), 1);
}

struct giver {
	struct env *e;
	struct ivsh_seg s[RING];
	int sent;
};

/* Another thread gives the slots back while the receiver sleeps, then
 * the producer sends as soon as it has room. */
static void *give_later(void *arg)
{
	struct giver *g = arg;

	usleep(150 * 1000);
	for (uint32_t i = 0; i < RING; i++)
		ivsh_port_rx_zc_give(g->e->pr.port[1], 0, g->s[i].slot);
	for (int k = 0; k < 3000 && !g->sent; k++) {
		g->sent = send_len(g->e->pr.port[0], 100) == 1;
		if (!g->sent)
			usleep(1000);
	}
	return NULL;
}

static void test_give_back_while_waiting(void **state)
{
	struct env *e = *state;
	struct ivsh_port *rx = e->pr.port[1];
	static struct giver g;
	pthread_t t;

	memset(&g, 0, sizeof(g));
	g.e = e;
	assert_int_equal(send_until_full(e->pr.port[0], 100), RING);
	assert_int_equal(ivsh_port_rx_zc_peek(rx, 0, g.s, RING), RING);
	ivsh_port_rx_zc_keep(rx, 0, RING);
	uint64_t bells = port_xstat(e->pr.port[0], "tx_doorbells");

	assert_int_equal(pthread_create(&t, NULL, give_later, &g), 0);
	int rc = ivsh_port_rx_wait(rx, 0, 4000);
	pthread_join(t, NULL);
	assert_int_equal(g.sent, 1);
	assert_int_equal(rc, 1);
	assert_true(port_xstat(e->pr.port[0], "tx_doorbells") >= bells);
	assert_int_equal(ivsh_port_rx_zc_held(rx, 0), 0);

	/* Given back before arming: the arming itself returns them. */
	uint8_t b[2048];
	struct ivsh_pkt pk = { b, sizeof(b) };
	assert_int_equal(ivsh_port_rx_burst(rx, 0, &pk, 1), 1);
	keep_all_give_all(e);
	assert_int_equal(ivsh_port_rx_intr_enable(rx, 0), 0);
	assert_int_equal(send_len(e->pr.port[0], 100), 1);
	assert_true(port_xstat(e->pr.port[0], "tx_doorbells") > bells);
	assert_int_equal(ivsh_port_rx_wait(rx, 0, 4000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_no_frame_over_max_in_big_slots, setup_big_slots,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_intr_enable_rejects_prod_past_kept, setup_intr,
			teardown),
		cmocka_unit_test_setup_teardown(test_bad_frame_counted_once,
						setup_small_slots, teardown),
		cmocka_unit_test_setup_teardown(
			test_give_back_then_empty_bursts, setup_intr, teardown),
		cmocka_unit_test_setup_teardown(test_give_back_while_waiting,
						setup_intr, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
