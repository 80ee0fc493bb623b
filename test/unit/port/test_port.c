/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: two peers in one process over a shm: file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ivsh_layout.h"
#include "layout_v1.h"
#include "port_fixture.h"
#include "watchpoint.h"

#define BUF 9100

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static void fill_frame(uint8_t *b, uint32_t seq, uint32_t len)
{
	memcpy(b, &seq, 4);
	for (uint32_t i = 4; i < len; i++)
		b[i] = pattern(seq, i);
}

static void check_frame(const uint8_t *b, uint32_t len, uint32_t seq,
			uint32_t want_len)
{
	uint32_t got_seq;

	assert_int_equal(len, want_len);
	memcpy(&got_seq, b, 4);
	assert_int_equal(got_seq, seq);
	for (uint32_t i = 4; i < len; i++)
		if (b[i] != pattern(seq, i))
			fail_msg("frame %u byte %u differs", seq, i);
}

static uint32_t frame_len(uint32_t seq)
{
	return 60 + (seq * 7919u) % 8941u; /* 60..9000 */
}

static int setup(void **state)
{
	return pair_setup(state, "port");
}

static int teardown(void **state)
{
	return pair_teardown(state);
}

static void exchange(struct ivsh_port *tx, struct ivsh_port *rx,
		     uint32_t frames)
{
	static uint8_t tbuf[8][BUF], rbuf[8][BUF];
	struct ivsh_pkt tp[8], rp[8];
	uint32_t sent = 0, recvd = 0;

	for (int spins = 0; recvd < frames && spins < 1000000; spins++) {
		uint16_t n = 0;
		for (; n < 8 && sent + n < frames; n++) {
			uint32_t len = frame_len(sent + n);
			fill_frame(tbuf[n], sent + n, len);
			tp[n] = (struct ivsh_pkt){ tbuf[n], len };
		}
		uint16_t k = n ? ivsh_port_tx_burst(tx, 0, tp, n) : 0;
		/* Frames not taken are rebuilt next round with the same seq. */
		sent += k;
		for (int i = 0; i < 8; i++)
			rp[i] = (struct ivsh_pkt){ rbuf[i], BUF };
		uint16_t g = ivsh_port_rx_burst(rx, 0, rp, 8);
		for (uint16_t i = 0; i < g; i++, recvd++)
			check_frame(rbuf[i], rp[i].len, recvd, frame_len(recvd));
	}
	assert_int_equal(recvd, frames);
	assert_int_equal(sent, frames);
}

static void test_link_and_params(void **state)
{
	struct pair *pr = *state;
	uint8_t mac[6];

	assert_int_equal(ivsh_port_link_status(pr->port[0]), 1);
	assert_int_equal(ivsh_port_link_status(pr->port[1]), 1);
	/* 4 MiB with defaults: 2 peers (lowered from 8), 1024 x 1536. */
	assert_int_equal(ivsh_port_ring_size(pr->port[0]), 1024);
	assert_int_equal(ivsh_port_slot_size(pr->port[1]), 1536);
	assert_int_equal(ivsh_port_layout(pr->port[1])->p.max_peers, 2);
	assert_int_equal(ivsh_port_max_frame(pr->port[0]), IVSH_PORT_MAX_FRAME);
	assert_int_equal(ivsh_port_nb_queues(pr->port[0]), 1);
	ivsh_port_peer_mac(pr->port[0], mac);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(mac[5], 1);
	ivsh_port_mac(pr->port[0], mac);
	assert_int_equal(mac[5], 0);
}

static void test_exchange_60_to_9000(void **state)
{
	struct pair *pr = *state;
	struct ivsh_port_queue_stats st;

	exchange(pr->port[0], pr->port[1], 3000);
	exchange(pr->port[1], pr->port[0], 3000);
	assert_int_equal(ivsh_port_queue_stats(pr->port[0], 0, &st), 0);
	assert_int_equal(st.tx_packets, 3000);
	assert_int_equal(st.rx_packets, 3000);
	assert_int_equal(st.rx_errors, 0);
	assert_int_equal(ivsh_port_queue_stats(pr->port[0], 1, &st), -EINVAL);
	assert_int_equal(port_xstat(pr->port[1], "rx_errors"), 0);
	/* shm: has no interrupts: no doorbell is ever attempted. */
	assert_int_equal(port_xstat(pr->port[0], "tx_doorbells"), 0);
	assert_int_equal(port_xstat(pr->port[0], "tx_doorbell_errors"), 0);
}

static void test_backpressure(void **state)
{
	struct pair *pr = *state;
	uint8_t b[64] = { 0 }, r[64];
	struct ivsh_pkt p[16];
	uint32_t sent = 0;

	for (int i = 0; i < 16; i++)
		p[i] = (struct ivsh_pkt){ b, sizeof(b) };
	for (int i = 0; i < 100; i++) {
		uint16_t k = ivsh_port_tx_burst(pr->port[0], 0, p, 16);
		sent += k;
		if (k < 16)
			break;
	}
	assert_int_equal(sent, ivsh_port_ring_size(pr->port[0]));
	assert_true(port_xstat(pr->port[0], "tx_ring_full") > 0);
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, p, 1), 0);
	/* A jumbo frame does not fit either; nothing partial is published. */
	uint8_t big[5000] = { 0 };
	struct ivsh_pkt jp = { big, sizeof(big) };
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, &jp, 1), 0);
	/* Drain one slot fewer than the jumbo spans: still no room for it;
	 * one more and it fits, leaving none for a small frame. */
	uint32_t need = (sizeof(big) + ivsh_port_slot_size(pr->port[0]) - 1) /
			ivsh_port_slot_size(pr->port[0]);
	struct ivsh_pkt rp[8];
	assert_true(need >= 2 && need <= 8);
	for (uint32_t i = 0; i < need; i++)
		rp[i] = (struct ivsh_pkt){ r, sizeof(r) };
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, (uint16_t)(need - 1)),
			 need - 1);
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, &jp, 1), 0);
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, 1), 1);
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, &jp, 1), 1);
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, p, 1), 0);
}

static void test_bad_lengths(void **state)
{
	struct pair *pr = *state;
	static uint8_t big[IVSH_PORT_MAX_FRAME + 1], small[1000];
	struct ivsh_pkt p[3] = {
		{ big, IVSH_PORT_MAX_FRAME + 1 }, /* oversize: dropped */
		{ big, 0 },                       /* empty: dropped */
		{ big, 3000 },
	};

	/* Dropped frames count as consumed so callers do not retry them. */
	assert_int_equal(ivsh_port_tx_burst(pr->port[0], 0, p, 3), 3);
	assert_int_equal(port_xstat(pr->port[0], "tx_dropped_bad_length"), 2);
	assert_int_equal(port_xstat(pr->port[0], "tx_packets"), 1);
	/* 3000 bytes into a 1000-byte buffer: dropped and counted. */
	struct ivsh_pkt r = { small, sizeof(small) };
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, &r, 1), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_dropped_buffer_too_small"), 1);
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, &r, 1), 0);
}

/* Publish raw descriptors on channel 0 -> 1 behind the port's back. */
struct raw_chan {
	uint8_t *ch;
	const struct ivsh_layout_info *li;
	uint32_t prod;
};

static void raw_open(struct pair *pr, struct raw_chan *rc)
{
	rc->li = ivsh_port_layout(pr->port[0]);
	rc->ch = (uint8_t *)ivsh_dev_shm(pr->dev[0]) +
		 ivsh_layout_channel_off(rc->li, 0, 1, 0);
	rc->prod = atomic_load(&LAY_CHAN_PROD(rc->ch)->prod);
}

static void raw_put(struct raw_chan *rc, uint32_t len, uint32_t flags,
		    uint8_t fill)
{
	uint32_t idx = rc->prod & (rc->li->p.ring_size - 1);
	uint8_t *slot = rc->ch + rc->li->slots_off +
			(size_t)idx * rc->li->p.slot_size;

	memset(slot, fill, rc->li->p.slot_size);
	atomic_store(&LAY_CHAN_DESC(rc->ch)[idx], lay_desc_make(len, flags));
	rc->prod++;
}

static void raw_publish(struct raw_chan *rc)
{
	atomic_store(&LAY_CHAN_PROD(rc->ch)->prod, rc->prod);
}

static void test_garbage_descriptors(void **state)
{
	struct pair *pr = *state;
	struct raw_chan rc;
	static uint8_t buf[4][BUF];
	struct ivsh_pkt rp[4];
	uint32_t slot = ivsh_port_slot_size(pr->port[0]);

	raw_open(pr, &rc);
	raw_put(&rc, slot + 1, 0, 1);              /* length > slot */
	/* One segment more than the longest frame can span. */
	uint32_t too_many = (IVSH_PORT_MAX_FRAME + slot - 1) / slot + 1;
	for (uint32_t i = 0; i < too_many; i++)
		raw_put(&rc, slot, LAY_DESC_MORE, 2);
	raw_put(&rc, 0, 0, 3);                     /* empty frame */
	raw_put(&rc, 0xffffffffu, 0, 4);           /* huge length */
	raw_put(&rc, 100, 0, 0x5a);                /* valid */
	raw_put(&rc, slot, LAY_DESC_MORE, 6);      /* valid 2-slot frame */
	raw_put(&rc, 10, 0x80, 6);                 /* unknown flag ignored */
	raw_publish(&rc);
	for (int i = 0; i < 4; i++)
		rp[i] = (struct ivsh_pkt){ buf[i], BUF };
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, 4), 2);
	assert_int_equal(rp[0].len, 100);
	assert_int_equal(buf[0][99], 0x5a);
	assert_int_equal(rp[1].len, slot + 10);
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_length"), 2);
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_chain_too_long"), 1);
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_empty_frame"), 1);

	/* A chain cut off at prod: unterminated, skipped. */
	raw_put(&rc, slot, LAY_DESC_MORE, 7);
	raw_put(&rc, slot, LAY_DESC_MORE, 7);
	raw_publish(&rc);
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, 4), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_chain_unterminated"), 1);

	/* prod beyond the ring: error counted, nothing read. */
	uint32_t cons = atomic_load(&LAY_CHAN_CONS(rc.ch)->cons);
	atomic_store(&LAY_CHAN_PROD(rc.ch)->prod, cons + rc.li->p.ring_size + 1);
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, 4), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_prod_index"), 1);
	assert_int_equal(atomic_load(&LAY_CHAN_CONS(rc.ch)->cons), cons);

	/* Back to sane: traffic flows again. */
	rc.prod = cons;
	raw_put(&rc, 64, 0, 9);
	raw_publish(&rc);
	assert_int_equal(ivsh_port_rx_burst(pr->port[1], 0, rp, 4), 1);
	assert_int_equal(port_xstat(pr->port[1], "rx_errors"), 6);
	struct ivsh_port_queue_stats st;
	ivsh_port_queue_stats(pr->port[1], 0, &st);
	assert_int_equal(st.rx_errors, 6);
	assert_int_equal(st.rx_packets, 3);
	ivsh_port_stats_reset(pr->port[1]);
	assert_int_equal(port_xstat(pr->port[1], "rx_errors"), 0);
	ivsh_port_queue_stats(pr->port[1], 0, &st);
	assert_int_equal(st.rx_packets, 0);
}

/*
 * The producer dies and restarts between the consumer's load of prod and
 * its load of gen (a watchpoint on prod runs the restart right after the
 * consumer's load). The consumer then sees a start beyond the prod it
 * holds: it must re-read prod rather than call the producer broken and
 * deliver what the dead life left.
 */
static struct {
	struct raw_chan *rc;
	uint32_t new_epoch;
	int hits;
} restart_race;

static void restart_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	struct raw_chan *rc = restart_race.rc;

	watch_disarm();
	if (restart_race.hits++ != 0)
		return;
	/* The old life publishes two more frames and dies... */
	raw_put(rc, 80, 0, 0xee);
	raw_put(rc, 80, 0, 0xee);
	raw_publish(rc);
	/* ...its next life starts where it stopped and sends one. */
	atomic_store(&LAY_CHAN_PROD(rc->ch)->gen,
		     (uint64_t)restart_race.new_epoch << 32 | rc->prod);
	raw_put(rc, 90, 0, 0x77);
	raw_publish(rc);
}

static void test_restart_between_prod_and_gen(void **state)
{
	struct pair *pr = *state;
	struct raw_chan rc;
	static uint8_t buf[4][BUF];
	struct ivsh_pkt rp[4];
	struct watch w;

	raw_open(pr, &rc);
	uint64_t gen = atomic_load(&LAY_CHAN_PROD(rc.ch)->gen);
	restart_race.rc = &rc;
	restart_race.new_epoch = (uint32_t)(gen >> 32) + 1;
	restart_race.hits = 0;
	for (int i = 0; i < 3; i++)   /* left by the old life, unread */
		raw_put(&rc, 70, 0, 0xee);
	raw_publish(&rc);
	/* Watch prod as the consumer (peer 1) maps it. */
	const uint8_t *ch1 = (const uint8_t *)ivsh_dev_shm(pr->dev[1]) +
			     ivsh_layout_channel_off(rc.li, 0, 1, 0);
	int rc_w = watch_arm(&w, &LAY_CHAN_PROD(ch1)->prod, 4, restart_trap);
	if (rc_w < 0) {
		print_message("skip: no hardware watchpoint (perf_event_open: %s)\n",
			      strerror(-rc_w));
		skip();
	}
	for (int i = 0; i < 4; i++)
		rp[i] = (struct ivsh_pkt){ buf[i], BUF };
	uint16_t n = ivsh_port_rx_burst(pr->port[1], 0, rp, 4);
	watch_close(&w);
	if (restart_race.hits == 0) {
		print_message("skip: the watchpoint did not fire\n");
		skip();
	}
	assert_int_equal(port_xstat(pr->port[1], "rx_invalid_restart_index"), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_channel_resets"), 1);
	assert_int_equal(port_xstat(pr->port[1], "rx_channel_reset_dropped_slots"), 5);
	/* Only the new life's frame is delivered. */
	assert_int_equal(n, 1);
	assert_int_equal(rp[0].len, 90);
	assert_int_equal(buf[0][0], 0x77);
}

static void send_seq(struct ivsh_port *p, uint32_t from, uint32_t n)
{
	uint8_t b[64];

	for (uint32_t s = from; s < from + n; s++) {
		struct ivsh_pkt pk = { b, 64 };
		fill_frame(b, s, 64);
		assert_int_equal(ivsh_port_tx_burst(p, 0, &pk, 1), 1);
	}
}

static uint32_t recv_all(struct ivsh_port *p, uint32_t *first)
{
	uint8_t b[64];
	uint32_t n = 0;
	struct ivsh_pkt pk = { b, 64 };

	while (ivsh_port_rx_burst(p, 0, &pk, 1) == 1) {
		uint32_t seq;
		memcpy(&seq, b, 4);
		if (n == 0 && first != NULL)
			*first = seq;
		n++;
		pk.len = 64;
	}
	return n;
}

static void test_peer_restart(void **state)
{
	struct pair *pr = *state;
	struct ivsh_port_conf c = { .peer = 0 };
	uint32_t first = 0;

	send_seq(pr->port[1], 0, 5);   /* 1 -> 0, left unread */
	send_seq(pr->port[0], 100, 4); /* 0 -> 1, left unread */
	ivsh_port_close(pr->port[1]);
	pr->port[1] = NULL;
	assert_int_equal(ivsh_port_link_update(pr->port[0]), 0);

	/* Peer 1 comes back with a new epoch. */
	assert_int_equal(ivsh_port_open(&pr->port[1], pr->dev[1], &c), 0);
	/* Frames queued for its previous life were dropped by its attach. */
	assert_int_equal(recv_all(pr->port[1], NULL), 0);
	send_seq(pr->port[1], 1000, 3);
	/* The survivor resets its consumer to where the new life starts. */
	assert_int_equal(recv_all(pr->port[0], &first), 3);
	assert_int_equal(first, 1000);
	assert_int_equal(port_xstat(pr->port[0], "rx_channel_resets"), 1);
	assert_int_equal(port_xstat(pr->port[0], "rx_channel_reset_dropped_slots"), 5);
	pair_link(pr);
	assert_int_equal(ivsh_port_link_status(pr->port[0]), 1);
	assert_int_equal(port_xstat(pr->port[0], "peer_restarts"), 1);
	/* And the other direction still works. */
	send_seq(pr->port[0], 200, 2);
	assert_int_equal(recv_all(pr->port[1], &first), 2);
	assert_int_equal(first, 200);
}

static void test_zero_copy(void **state)
{
	struct pair *pr = *state;
	struct ivsh_seg s[8];
	uint32_t slot = ivsh_port_slot_size(pr->port[0]);

	assert_int_equal(ivsh_port_tx_zc_reserve(pr->port[0], 0, s, 4), 4);
	memset(s[0].data, 0x11, 100);
	s[0].len = 100;
	memset(s[1].data, 0x22, slot);
	s[1].len = slot;
	s[1].flags = IVSH_SEG_MORE;
	memset(s[2].data, 0x33, 500);
	s[2].len = 500;
	/* Last segment with MORE, or a length over the slot: refused. */
	s[2].flags = IVSH_SEG_MORE;
	assert_int_equal(ivsh_port_tx_zc_commit(pr->port[0], 0, s, 3), -EINVAL);
	s[2].flags = 0;
	s[0].len = slot + 1;
	assert_int_equal(ivsh_port_tx_zc_commit(pr->port[0], 0, s, 3), -EINVAL);
	s[0].len = 100;
	assert_int_equal(ivsh_port_tx_zc_commit(pr->port[0], 0, s, 5), -EINVAL);
	assert_int_equal(ivsh_port_tx_zc_commit(pr->port[0], 0, s, 3), 0);

	struct ivsh_seg r[8];
	assert_int_equal(ivsh_port_rx_zc_peek(pr->port[1], 0, r, 2), 1);
	assert_int_equal(ivsh_port_rx_zc_peek(pr->port[1], 0, r, 8), 3);
	assert_int_equal(r[0].len, 100);
	assert_int_equal(r[0].flags, 0);
	assert_int_equal(((uint8_t *)r[0].data)[99], 0x11);
	assert_int_equal(r[1].len, slot);
	assert_int_equal(r[1].flags, IVSH_SEG_MORE);
	assert_int_equal(r[2].len, 500);
	assert_int_equal(((uint8_t *)r[2].data)[0], 0x33);
	/* Release 2 rounds up to the end of the second frame. */
	ivsh_port_rx_zc_release(pr->port[1], 0, 2);
	assert_int_equal(ivsh_port_rx_zc_peek(pr->port[1], 0, r, 8), 0);
	assert_int_equal(port_xstat(pr->port[1], "rx_packets"), 2);
	assert_int_equal(port_xstat(pr->port[1], "rx_bytes"), 100 + slot + 500);
	assert_int_equal(port_xstat(pr->port[0], "tx_packets"), 2);
}

static void test_open_errors(void **state)
{
	struct pair *pr = *state;
	struct ivsh_port *p;
	struct ivsh_port_conf c = { .peer = 1 };

	assert_int_equal(ivsh_port_open(&p, pr->dev[0], &c), -EBUSY);
	assert_non_null(strstr(ivsh_port_last_error(), "already open"));
	c.peer = 0;
	assert_int_equal(ivsh_port_open(&p, pr->dev[0], &c), -EINVAL);
	c.peer = 5; /* layout has 2 peers */
	assert_int_equal(ivsh_port_open(&p, pr->dev[0], &c), -EINVAL);
	assert_non_null(strstr(ivsh_port_last_error(), "max_peers"));
	/* No interrupts on shm: */
	assert_int_equal(ivsh_port_rx_intr_enable(pr->port[0], 0), -ENOTSUP);
	assert_int_equal(ivsh_port_rx_wait(pr->port[0], 0, 10), -ENOTSUP);
	assert_int_equal(ivsh_port_rx_intr_fd(pr->port[0], 0), -ENOTSUP);
}

/* A hostile producer writes random descriptors, indices and restart
 * markers: the receiver never crashes, never returns a frame larger than
 * the buffer, and counts what it rejects. */
static void test_random_garbage(void **state)
{
	struct pair *pr = *state;
	struct raw_chan rc;
	static uint8_t buf[8][BUF];
	struct ivsh_pkt rp[8];
	struct ivsh_seg seg[64];
	unsigned int r = 12345;
	uint32_t ring = ivsh_port_ring_size(pr->port[0]);
	uint64_t frames = 0;

	raw_open(pr, &rc);
	uint8_t *slots1 = (uint8_t *)ivsh_dev_shm(pr->dev[1]) +
			  ivsh_layout_channel_off(rc.li, 0, 1, 0) + rc.li->slots_off;
	for (int round = 0; round < 20000; round++) {
		uint8_t *ch = rc.ch;
		for (uint32_t k = 0; k < 16; k++) {
			r = r * 1103515245u + 12345u;
			uint32_t len = (r >> 4) % 4 == 0 ? r : (r >> 8) % 2200;
			uint32_t flags = (r >> 20) & 1 ? LAY_DESC_MORE : 0;
			atomic_store(&LAY_CHAN_DESC(ch)[(rc.prod + k) & (ring - 1)],
				     lay_desc_make(len, flags));
		}
		r = r * 1103515245u + 12345u;
		uint32_t cons = atomic_load(&LAY_CHAN_CONS(ch)->cons);
		switch ((r >> 16) % 8) {
		case 0: rc.prod = r; break;                 /* wild */
		case 1: rc.prod = cons - 1; break;          /* behind */
		case 2: atomic_store(&LAY_CHAN_PROD(ch)->gen,
				     (uint64_t)(r & 7) << 32 | (r >> 3)); /* restart */
			break;
		default: rc.prod = cons + (r >> 8) % (ring + 1); break;
		}
		atomic_store(&LAY_CHAN_PROD(ch)->prod, rc.prod);
		if (round & 1) {
			for (int i = 0; i < 8; i++)
				rp[i] = (struct ivsh_pkt){ buf[i], 1 + (uint32_t)i * 1200 };
			uint16_t n = ivsh_port_rx_burst(pr->port[1], 0, rp, 8);
			for (uint16_t i = 0; i < n; i++)
				assert_true(rp[i].len >= 1 && rp[i].len <= 1u + 1200u * 7);
			frames += n;
		} else {
			uint16_t n = ivsh_port_rx_zc_peek(pr->port[1], 0, seg, 64);
			for (uint16_t i = 0; i < n; i++) {
				assert_true(seg[i].len <= ivsh_port_slot_size(pr->port[1]));
				/* Inside the channel's slots, in peer 1's mapping. */
				uint8_t *d = seg[i].data;
				assert_true(d >= slots1 &&
					    d + seg[i].len <= slots1 + (size_t)ring *
						     rc.li->p.slot_size);
			}
			ivsh_port_rx_zc_release(pr->port[1], 0, n);
			frames += n;
		}
		/* The consumer index stays within the window it was given. */
		uint32_t nc = atomic_load(&LAY_CHAN_CONS(ch)->cons);
		assert_true(nc - cons <= ring || nc == cons);
	}
	assert_true(frames > 0);
	assert_true(port_xstat(pr->port[1], "rx_invalid_length") > 0);
	assert_true(port_xstat(pr->port[1], "rx_invalid_prod_index") > 0);
	assert_true(port_xstat(pr->port[1], "rx_invalid_chain_unterminated") > 0);
}

/* Channel indices near UINT32_MAX: frames (jumbo chains too) cross the
 * 32-bit wrap of the free-running indices. */
static void test_index_wrap(void **state)
{
	struct pair *pr = *state;
	struct ivsh_port_conf c = { 0 };
	const struct ivsh_layout_info *li = ivsh_port_layout(pr->port[0]);
	struct ivsh_layout_info copy = *li;

	ivsh_port_close(pr->port[0]);
	ivsh_port_close(pr->port[1]);
	pr->port[0] = pr->port[1] = NULL;
	for (int d = 0; d < 2; d++) {
		uint8_t *ch = (uint8_t *)ivsh_dev_shm(pr->dev[0]) +
			      ivsh_layout_channel_off(&copy, (uint16_t)d,
						      (uint16_t)!d, 0);
		atomic_store(&LAY_CHAN_PROD(ch)->prod, UINT32_MAX - 700);
		atomic_store(&LAY_CHAN_CONS(ch)->cons, UINT32_MAX - 700);
	}
	c.peer = 1;
	assert_int_equal(ivsh_port_open(&pr->port[0], pr->dev[0], &c), 0);
	c.peer = 0;
	assert_int_equal(ivsh_port_open(&pr->port[1], pr->dev[1], &c), 0);
	exchange(pr->port[0], pr->port[1], 1500);
	exchange(pr->port[1], pr->port[0], 1500);
	uint8_t *ch = (uint8_t *)ivsh_dev_shm(pr->dev[0]) +
		      ivsh_layout_channel_off(&copy, 0, 1, 0);
	assert_true(atomic_load(&LAY_CHAN_PROD(ch)->prod) < 100000); /* wrapped */
	assert_int_equal(port_xstat(pr->port[1], "rx_errors"), 0);
	assert_int_equal(port_xstat(pr->port[0], "rx_errors"), 0);
}

/* Three peers, two queues per link, all six ports in one process. */
static void test_three_peers_two_queues(void **state)
{
	(void)state;
	struct pair pr = { 0 };
	struct ivsh_dev *dev[3];
	struct ivsh_port *port[3][3] = { { NULL } };
	struct ivsh_port_conf c = { .max_peers = 3, .queues_per_link = 2,
				    .ring_size = 64, .slot_size = 256 };
	char name[256];

	pair_path(&pr, "three");
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "shm:%s,id=%d,size=1M", pr.path, i);
		assert_int_equal(ivsh_dev_open(&dev[i], name, NULL), 0);
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			if (i == j)
				continue;
			c.peer = (uint16_t)j;
			assert_int_equal(ivsh_port_open(&port[i][j], dev[i], &c), 0);
			assert_int_equal(ivsh_port_nb_queues(port[i][j]), 2);
		}
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				if (i != j)
					ivsh_port_link_update(port[i][j]);
	/* Each (src, dst, q) sends a tagged frame; 600 bytes = 3 slots. */
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (uint16_t q = 0; i != j && q < 2; q++) {
				uint8_t b[600];
				memset(b, 16 * i + 4 * j + q, sizeof(b));
				struct ivsh_pkt pk = { b, sizeof(b) };
				assert_int_equal(ivsh_port_link_status(port[i][j]), 1);
				assert_int_equal(ivsh_port_tx_burst(port[i][j], q, &pk, 1), 1);
			}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (uint16_t q = 0; i != j && q < 2; q++) {
				uint8_t b[700];
				struct ivsh_pkt pk = { b, sizeof(b) };
				/* port[j][i] receives what i sent to j on q. */
				assert_int_equal(ivsh_port_rx_burst(port[j][i], q, &pk, 1), 1);
				assert_int_equal(pk.len, 600);
				assert_int_equal(b[599], 16 * i + 4 * j + q);
				pk.len = sizeof(b);
				assert_int_equal(ivsh_port_rx_burst(port[j][i], q, &pk, 1), 0);
			}
	/* Out-of-range queue: nothing moves. */
	struct ivsh_pkt none = { name, 10 };
	assert_int_equal(ivsh_port_tx_burst(port[0][1], 2, &none, 1), 0);
	assert_int_equal(ivsh_port_rx_burst(port[0][1], 2, &none, 1), 0);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			ivsh_port_close(port[i][j]);
		ivsh_dev_close(dev[i]);
	}
	unlink(pr.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_and_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchange_60_to_9000, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_between_prod_and_gen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test(test_three_peers_two_queues),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
