/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy receive with ownership: ivsh_port_rx_zc_keep() / _give().
 * Two peers in one process over a shm: file; port 0 sends, port 1 takes.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ivsh_layout.h"
#include "layout_v1.h"
#include "port_fixture.h"

static int setup(void **state)
{
	return pair_setup(state, "keep");
}

static int teardown(void **state)
{
	return pair_teardown(state);
}

/* Peek and keep everything peeked. */
static uint16_t take(struct ivsh_port *p, struct ivsh_seg *s, uint16_t max)
{
	uint16_t n = ivsh_port_rx_zc_peek(p, 0, s, max);

	ivsh_port_rx_zc_keep(p, 0, n);
	return n;
}

/* Send @n frames of @len bytes, byte 0 = (first + i) & 0xff. @return sent. */
static uint32_t send_marked(struct ivsh_port *p, uint32_t first, uint32_t n,
			    uint32_t len)
{
	static uint8_t buf[9018];
	uint32_t sent = 0;

	while (sent < n) {
		memset(buf, (int)((first + sent) & 0xff), len);
		struct ivsh_pkt pk = { buf, len };
		if (ivsh_port_tx_burst(p, 0, &pk, 1) != 1)
			break;
		sent++;
	}
	return sent;
}

/* Frames behind a held slot still arrive; the held slot blocks the
 * producer once it has gone round the ring. */
static void test_hold_blocks_producer_only(void **state)
{
	struct pair *pr = *state;
	uint32_t ring = ivsh_port_ring_size(pr->port[0]);
	struct ivsh_seg first, s[64];

	assert_int_equal(send_marked(pr->port[0], 0, 1, 64), 1);
	assert_int_equal(take(pr->port[1], &first, 1), 1);
	assert_int_equal(((uint8_t *)first.data)[63], 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 1);

	/* The rest of the ring is free: ring - 1 more frames go out and are
	 * received (copying) and released, except the held one. */
	uint32_t got = 0;
	for (uint32_t round = 0; round < 4; round++) {
		uint32_t n = send_marked(pr->port[0], 1 + got, ring, 64);
		for (uint32_t k = 0; k < n; k++) {
			uint8_t b[64];
			struct ivsh_pkt pk = { b, sizeof(b) };
			assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, &pk, 1), 1);
			assert_int_equal(b[0], (uint8_t)(1 + got + k));
		}
		got += n;
		if (n == 0)
			break;
	}
	/* Nothing more fits: the held slot is the next one to reuse. */
	assert_int_equal(got, ring - 1);
	assert_int_equal(send_marked(pr->port[0], 0, 1, 64), 0);
	assert_true(port_xstat(pr->port[0], "tx_ring_full") > 0);
	/* The held frame's bytes were not overwritten. */
	assert_int_equal(((uint8_t *)first.data)[0], 0);

	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, first.slot), 0);
	/* Given back: the next receive call hands the slot to the producer. */
	assert_int_equal(take(pr->port[1], s, 64), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 0);
	assert_int_equal(send_marked(pr->port[0], 7, 1, 64), 1);
}

/* Given back out of order: the producer gets slots back only up to the
 * oldest still held. */
static void test_out_of_order_give(void **state)
{
	struct pair *pr = *state;
	uint32_t ring = ivsh_port_ring_size(pr->port[0]);
	struct ivsh_seg s[8];

	assert_int_equal(send_marked(pr->port[0], 10, ring, 100), ring);
	assert_int_equal(send_marked(pr->port[0], 0, 1, 100), 0);
	assert_int_equal(take(pr->port[1], s, 4), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s[i].len, 100);
		assert_int_equal(((uint8_t *)s[i].data)[50], 10 + i);
	}
	/* Give back 1, 2, 3 (not 0): nothing is reclaimed. */
	for (int i = 1; i < 4; i++)
		assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[i].slot), 0);
	assert_int_equal(take(pr->port[1], s + 4, 0), 0);
	assert_int_equal(send_marked(pr->port[0], 0, 1, 100), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 1);
	/* Give back 0: all four are reclaimed at the next receive call. */
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[0].slot), 0);
	assert_int_equal(take(pr->port[1], s + 4, 0), 0);
	assert_int_equal(send_marked(pr->port[0], 50, 8, 100), 4);
	assert_int_equal(port_xstat(pr->port[1], "rx_packets"), 4);
	assert_int_equal(port_xstat(pr->port[1], "rx_bytes"), 400);
}

static void test_give_errors(void **state)
{
	struct pair *pr = *state;
	uint32_t ring = ivsh_port_ring_size(pr->port[1]);
	struct ivsh_seg s[2];

	assert_int_equal(send_marked(pr->port[0], 0, 2, 64), 2);
	assert_int_equal(take(pr->port[1], s, 2), 2);
	assert_int_equal(s[1].slot, (s[0].slot + 1) % ring);
	assert_ptr_equal(s[0].data, (const uint8_t *)ivsh_port_rx_slots(pr->port[1], 0) +
			 (size_t)s[0].slot * ivsh_port_slot_size(pr->port[1]));
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, ring), -EINVAL);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, UINT32_MAX), -EINVAL);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 1, s[0].slot), -EINVAL);
	/* A slot that was never kept. */
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, (s[1].slot + 1) % ring),
			 -EALREADY);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[0].slot), 0);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[0].slot), -EALREADY);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 1);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[1].slot), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 0);
	assert_null(ivsh_port_rx_slots(pr->port[1], 1));
}

/* A jumbo frame is taken as its chain of slots; each slot is given back
 * on its own. */
static void test_take_chain(void **state)
{
	struct pair *pr = *state;
	uint32_t slot = ivsh_port_slot_size(pr->port[0]);
	uint32_t nseg = (9000 + slot - 1) / slot;
	struct ivsh_seg s[16];

	assert_int_equal(send_marked(pr->port[0], 0x42, 1, 9000), 1);
	assert_int_equal(take(pr->port[1], s, 16), nseg);
	uint32_t total = 0;
	for (uint32_t i = 0; i < nseg; i++) {
		total += s[i].len;
		assert_int_equal(!!(s[i].flags & IVSH_SEG_MORE), i + 1 < nseg);
		assert_int_equal(((uint8_t *)s[i].data)[s[i].len - 1], 0x42);
	}
	assert_int_equal(total, 9000);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), nseg);
	for (uint32_t i = nseg; i-- > 0;)
		assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, s[i].slot), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 0);
}

/* The producer restarts while a slot is held: what it left unread is
 * dropped, the held slot keeps its bytes and still blocks reuse, and the
 * new life's frames arrive. */
static void test_hold_across_peer_restart(void **state)
{
	struct pair *pr = *state;
	struct ivsh_port_conf c = { .peer = 0 };
	uint32_t ring = ivsh_port_ring_size(pr->port[1]);
	struct ivsh_seg held, s[8];

	assert_int_equal(send_marked(pr->port[1], 0x10, 5, 200), 5);
	assert_int_equal(take(pr->port[0], &held, 1), 1);
	ivsh_port_close(pr->port[1]);
	assert_int_equal(ivsh_port_open(&pr->port[1], pr->dev[1], &c), 0);
	assert_int_equal(send_marked(pr->port[1], 0x20, 3, 200), 3);
	assert_int_equal(take(pr->port[0], s, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(((uint8_t *)s[i].data)[199], 0x20 + i);
	assert_int_equal(port_xstat(pr->port[0], "rx_channel_reset_dropped_slots"), 4);
	assert_int_equal(((uint8_t *)held.data)[0], 0x10);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ivsh_port_rx_zc_give(pr->port[0], 0, s[i].slot), 0);
	/* The held slot is still the oldest: the new life can fill only
	 * what lies between it and its own start. */
	assert_int_equal(take(pr->port[0], s, 0), 0);
	assert_int_equal(send_marked(pr->port[1], 0, ring, 200), ring - 1 - 7);
	assert_int_equal(((uint8_t *)held.data)[0], 0x10);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[0], 0, held.slot), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[0], 0), 0);
}

/* A hostile producer moves its index back between the kept slot and
 * what was consumed after it: counted as a bad index, nothing delivered,
 * and the kept slot's hold still stands. */
static void test_prod_behind_head_with_kept_slot(void **state)
{
	struct pair *pr = *state;
	const struct ivsh_layout_info *li = ivsh_port_layout(pr->port[0]);
	uint8_t *ch = (uint8_t *)ivsh_dev_shm(pr->dev[0]) +
		      ivsh_layout_channel_off(li, 0, 1, 0);
	_Atomic uint32_t *prod = &LAY_CHAN_PROD(ch)->prod;
	struct ivsh_seg kept, s[8];
	uint8_t b[64];

	assert_int_equal(send_marked(pr->port[0], 0, 4, 64), 4);
	assert_int_equal(take(pr->port[1], &kept, 1), 1);
	for (int i = 0; i < 3; i++) {
		struct ivsh_pkt pk = { b, sizeof(b) };
		assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, &pk, 1), 1);
	}
	uint32_t good = atomic_load(prod);
	atomic_store(prod, good - 2); /* behind head, ahead of the kept slot */
	uint64_t bad = port_xstat(pr->port[1], "rx_invalid_prod_index");
	assert_int_equal(take(pr->port[1], s, 8), 0);
	assert_true(port_xstat(pr->port[1], "rx_invalid_prod_index") > bad);
	atomic_store(prod, good);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 1);
	assert_int_equal(ivsh_port_rx_zc_give(pr->port[1], 0, kept.slot), 0);
	assert_int_equal(take(pr->port[1], s, 8), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 0);
}

/* Slots given back from another thread while the receiver keeps taking:
 * every frame arrives intact and in order, none is lost. */
struct giver {
	struct ivsh_port *port;
	uint16_t slots[4096]; /* more than a ring: never reused while held */
	_Atomic uint32_t n;   /* slots[] filled so far, by the taker */
	_Atomic uint32_t done;
	uint32_t given;       /* the giver's own */
};

static void *give_thread(void *arg)
{
	struct giver *g = arg;

	for (;;) {
		uint32_t n = atomic_load_explicit(&g->n, memory_order_acquire);
		while (g->given < n) {
			if (ivsh_port_rx_zc_give(g->port, 0, g->slots[g->given % 4096]) != 0)
				return (void *)1;
			g->given++;
		}
		if (atomic_load_explicit(&g->done, memory_order_acquire) &&
		    g->given == atomic_load_explicit(&g->n, memory_order_acquire))
			return NULL;
	}
}

static void test_give_from_other_thread(void **state)
{
	struct pair *pr = *state;
	const uint32_t frames = 200000;
	static struct giver g;
	pthread_t t;
	uint32_t sent = 0, got = 0;
	void *ret;

	memset(&g, 0, sizeof(g));
	g.port = pr->port[1];
	assert_true(ivsh_port_ring_size(pr->port[1]) < 4096);
	assert_int_equal(pthread_create(&t, NULL, give_thread, &g), 0);
	while (got < frames) {
		if (sent < frames)
			sent += send_marked(pr->port[0], sent, 1, 64 + sent % 500);
		struct ivsh_seg s[32];
		/* At most a ring (1024) is ever held: slots[] is not reused
		 * before the giver is done with an entry. */
		uint16_t n = take(pr->port[1], s, 32);
		for (uint16_t i = 0; i < n; i++, got++) {
			assert_int_equal(s[i].len, 64 + got % 500);
			assert_int_equal(((uint8_t *)s[i].data)[s[i].len - 1],
					 (uint8_t)got);
			g.slots[got % 4096] = s[i].slot;
		}
		atomic_store_explicit(&g.n, got, memory_order_release);
	}
	atomic_store_explicit(&g.done, 1, memory_order_release);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(take(pr->port[1], NULL, 0), 0);
	assert_int_equal(ivsh_port_rx_zc_held(pr->port[1], 0), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_packets"), frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hold_blocks_producer_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_give, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_give_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_across_peer_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_prod_behind_head_with_kept_slot,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_from_other_thread,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
