/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for everything that reads memory a peer can write: the
 * layout reader, link state and the port data path.
 *
 * Each input: an in-process region (heap memory, so AddressSanitizer sees
 * any access outside it) is laid out by a victim port of the master (ID
 * 0) to peer 1, with parameters taken from the first input bytes. The
 * rest of the input is a script: the "peer" overwrites header, peer
 * table, indices, restart markers, descriptors, slots and kick flags with
 * input bytes, between Rx/Tx bursts, zero-copy calls, link updates and
 * interrupt arming of the victim. Sometimes a second peer attaches to a
 * copy of the forged region, mapped with exactly the size it claims.
 * Slots range from 64 bytes to 65536 (larger than the longest frame).
 * Checked: no crash or out-of-bounds access (under ASan), frames never
 * longer than their buffers or IVSH_PORT_MAX_FRAME, zero-copy segments
 * inside their channel's slots, counters never going backwards, tx drops
 * exactly the frames it must, an invalid frame counted once (frame error
 * counters grow by at most the slots consumed), arming the interrupt
 * reports frames only when a burst then makes progress, and slots given
 * back return to the producer at the next rx_burst or before a sleep.
 *
 * Built for libFuzzer when the compiler has -fsanitize=fuzzer
 * (LLVMFuzzerTestOneInput); otherwise a standalone program runs a fixed
 * number of pseudo-random inputs (argv[1], default 5000) from a fixed seed
 * and finally checks that every kind of counter moved.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ivsh_dev.h"
#include "ivsh_layout.h"
#include "ivsh_port.h"
#include "layout_v1.h"
#include "port_private.h" /* white box: head and cons_pub of a queue */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Room for 65536-byte slots in rings of 16 on two channels. */
#define REGION (2560u << 10)
#define MAX_SLOT 65536u
#define MAX_OPS 400
#define MAX_BURST 32

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_port: invariant broken: %s\n", what);
		abort();
	}
}

/* Input bytes; reads past the end give 0. */
struct input {
	const uint8_t *p;
	size_t n, at;
};

static uint8_t in_u8(struct input *in)
{
	return in->at < in->n ? in->p[in->at++] : 0;
}

static uint16_t in_u16(struct input *in)
{
	return (uint16_t)(in_u8(in) | in_u8(in) << 8);
}

static uint32_t in_u32(struct input *in)
{
	return (uint32_t)in_u16(in) | (uint32_t)in_u16(in) << 16;
}

/* Totals over all inputs, for the standalone run's final check. */
static const char *const watched[] = {
	"rx_packets", "tx_packets", "rx_invalid_length",
	"rx_invalid_chain_too_long", "rx_invalid_chain_unterminated",
	"rx_invalid_empty_frame", "rx_invalid_prod_index",
	"rx_invalid_restart_index", "rx_dropped_buffer_too_small",
	"rx_channel_resets", "tx_dropped_bad_length", "tx_ring_full",
	"tx_invalid_cons_index", "tx_doorbells", "layout_lost",
};
#define NB_WATCHED (sizeof(watched) / sizeof(watched[0]))
static uint64_t totals[NB_WATCHED];
static uint64_t second_attaches;

struct victim {
	uint8_t *base;
	struct ivsh_port *port;
	const struct ivsh_layout_info *li; /* the port's validated copy */
	uint16_t nq;
	uint32_t fake_prod[IVSH_LAYOUT_MAX_QUEUES]; /* peer 1's own index */
	uint64_t last[64];                         /* xstats last seen */
	unsigned int nx;
	FILE *null;
	uint64_t frame_errors[IVSH_LAYOUT_MAX_QUEUES]; /* last seen */
	uint32_t head[IVSH_LAYOUT_MAX_QUEUES];         /* last seen */
	/* Slots kept with rx_zc_keep() and not given back yet. */
	struct { uint16_t q, slot; } kept[1024];
	unsigned int nkept;
};

static uint8_t *chan(struct victim *v, uint16_t src, uint16_t dst, uint16_t q)
{
	return v->base + ivsh_layout_channel_off(v->li, src, dst, q);
}

/* Frame errors of queue @q: each is one frame the port dropped. */
static uint64_t frame_errors(const struct victim *v, uint16_t q)
{
	const struct rx_counters *c = &v->port->rxq[q].c;

	return ctr_get(&c->bad_len) + ctr_get(&c->chain_long) +
	       ctr_get(&c->chain_unterm) + ctr_get(&c->empty) +
	       ctr_get(&c->nobuf);
}

/*
 * An invalid frame is counted once, when it is dropped (it spans at
 * least one slot): the frame error counters grow by no more than the
 * slots consumed since the last look.
 */
static void check_counted_once(struct victim *v, uint16_t q)
{
	uint64_t errs = frame_errors(v, q);
	uint32_t head = v->port->rxq[q].ring.head;

	check(errs - v->frame_errors[q] <= (uint32_t)(head - v->head[q]),
	      "a frame error counted without its frame being consumed");
	v->frame_errors[q] = errs;
	v->head[q] = head;
}

static unsigned int kept_on(const struct victim *v, uint16_t q)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < v->nkept; i++)
		n += v->kept[i].q == q;
	return n;
}

/* With nothing kept, every slot consumed has gone back to the producer. */
static void check_all_returned(struct victim *v, uint16_t q)
{
	const struct port_rxq *rq = &v->port->rxq[q];

	if (kept_on(v, q) == 0)
		check(rq->cons_pub == rq->ring.head,
		      "slots given back not returned to the producer");
}

/* Counters only grow (no stats reset here). */
static void check_counters(struct victim *v)
{
	uint64_t now[64];
	int n = ivsh_port_xstats(v->port, NULL, now, 64);

	check(n > 0 && n <= 64, "xstats count");
	for (int i = 0; i < n; i++)
		check(now[i] >= v->last[i], "a counter went backwards");
	memcpy(v->last, now, sizeof(uint64_t) * (size_t)n);
	v->nx = (unsigned int)n;
	struct ivsh_port_queue_stats st;
	for (uint16_t q = 0; q < v->nq; q++)
		check(ivsh_port_queue_stats(v->port, q, &st) == 0, "queue stats");
}

/* A well-formed frame from peer 1 (1..3 segments), so that valid traffic
 * is mixed with the garbage. */
static void put_valid_frame(struct victim *v, struct input *in, uint16_t q)
{
	uint8_t *ch = chan(v, 1, 0, q);
	uint32_t ring = v->li->p.ring_size, slot = v->li->p.slot_size;
	uint32_t segs = 1 + in_u8(in) % (slot >= IVSH_PORT_MAX_FRAME ? 1 : 3);
	uint32_t last_max = slot < IVSH_PORT_MAX_FRAME ? slot : IVSH_PORT_MAX_FRAME;
	uint32_t p = v->fake_prod[q];

	for (uint32_t k = 0; k < segs; k++) {
		uint32_t idx = (p + k) & (ring - 1);
		uint32_t len = k + 1 < segs ? slot : 1 + in_u16(in) % last_max;

		memset(ch + v->li->slots_off + (size_t)idx * slot, (int)k, len);
		atomic_store_explicit(&LAY_CHAN_DESC(ch)[idx],
				      lay_desc_make(len, k + 1 < segs ?
						    LAY_DESC_MORE : 0),
				      memory_order_relaxed);
	}
	v->fake_prod[q] = p + segs;
	atomic_store_explicit(&LAY_CHAN_PROD(ch)->prod, v->fake_prod[q],
			      memory_order_release);
}

static void op_rx(struct victim *v, struct input *in, uint16_t q)
{
	struct ivsh_pkt pk[MAX_BURST];
	uint32_t cap[MAX_BURST];
	uint16_t n = 1 + in_u8(in) % MAX_BURST;

	for (uint16_t i = 0; i < n; i++) {
		uint8_t b = in_u8(in);
		/* Exact-size heap buffers: ASan catches any overflow. */
		cap[i] = b < 128 ? 1u + b * 16u : b < 224 ? 1u + b :
			 b < 240 ? 9018u : MAX_SLOT;
		pk[i].data = malloc(cap[i]);
		pk[i].len = cap[i];
		check(pk[i].data != NULL, "malloc");
	}
	uint16_t got = ivsh_port_rx_burst(v->port, q, pk, n);
	check(got <= n, "rx_burst returned more than asked");
	for (uint16_t i = 0; i < got; i++)
		check(pk[i].len >= 1 && pk[i].len <= cap[i] &&
		      pk[i].len <= IVSH_PORT_MAX_FRAME,
		      "rx frame length outside 1..min(capacity, max frame)");
	for (uint16_t i = 0; i < n; i++)
		free(pk[i].data);
	check_counted_once(v, q);
	check_all_returned(v, q);
}

static void op_tx(struct victim *v, struct input *in, uint16_t q)
{
	static uint8_t src[MAX_SLOT + 2];
	struct ivsh_pkt pk[16];
	uint16_t n = 1 + in_u8(in) % 16;
	uint32_t slot = v->li->p.slot_size, max = ivsh_port_max_frame(v->port);
	struct ivsh_port_queue_stats st0, st1;

	for (uint16_t i = 0; i < n; i++) {
		uint16_t r = in_u16(in);
		pk[i].data = src;
		switch (r >> 14) {
		case 0: pk[i].len = r % 300u; break;
		case 1: pk[i].len = r % 9100u; break;
		case 2: pk[i].len = r % (MAX_SLOT + 2); break;
		default: { /* the edges: max frame and slot, +-1 */
			const uint32_t edge[] = { max, max + 1, slot, slot + 1,
						  slot - 1, 9018, 9019 };
			pk[i].len = edge[r % 7];
			break;
		}
		}
	}
	check(ivsh_port_queue_stats(v->port, q, &st0) == 0, "queue stats");
	uint16_t sent = ivsh_port_tx_burst(v->port, q, pk, n);
	check(sent <= n, "tx_burst count");
	/* Exactly the consumed frames of no or too many bytes are dropped. */
	uint64_t bad = 0;
	for (uint16_t i = 0; i < sent; i++)
		bad += pk[i].len == 0 || pk[i].len > max;
	check(ivsh_port_queue_stats(v->port, q, &st1) == 0, "queue stats");
	check(st1.tx_errors - st0.tx_errors == bad,
	      "tx did not drop exactly the frames longer than max_frame");
}

static void op_rx_zc(struct victim *v, struct input *in, uint16_t q)
{
	struct ivsh_seg s[MAX_BURST];
	uint16_t max = in_u8(in) % (MAX_BURST + 1);
	uint16_t got = ivsh_port_rx_zc_peek(v->port, q, s, max);
	const uint8_t *slots = chan(v, 1, 0, q) + v->li->slots_off;
	size_t area = (size_t)v->li->p.ring_size * v->li->p.slot_size;

	check(got <= max, "zc peek count");
	uint32_t frame = 0;
	for (uint16_t i = 0; i < got; i++) {
		const uint8_t *d = s[i].data;
		frame += s[i].len;
		check(frame <= IVSH_PORT_MAX_FRAME, "zc frame over max frame");
		if (!(s[i].flags & IVSH_SEG_MORE))
			frame = 0;
		check(s[i].len <= v->li->p.slot_size, "zc segment too long");
		check(d >= slots && d + s[i].len <= slots + area,
		      "zc segment outside its channel's slots");
		check(d == slots + (size_t)s[i].slot * v->li->p.slot_size,
		      "zc segment's slot index and address disagree");
	}
	check_counted_once(v, q);
	/* Often fewer than peeked: the peek window is wider than what is
	 * consumed. */
	uint16_t n = (uint16_t)(in_u8(in) % (got + 1u));
	if (!(in_u8(in) & 1) || v->nkept + got > 1024) {
		ivsh_port_rx_zc_release(v->port, q, n);
		check_counted_once(v, q);
		return;
	}
	/* Keep them instead; the port rounds up to the frame's end. */
	while (n > 0 && n < got && (s[n - 1].flags & IVSH_SEG_MORE))
		n++;
	ivsh_port_rx_zc_keep(v->port, q, n);
	for (uint16_t i = 0; i < n; i++) {
		v->kept[v->nkept].q = q;
		v->kept[v->nkept++].slot = s[i].slot;
	}
	check_counted_once(v, q);
}

/*
 * Arm the interrupt (or rx_wait without sleeping). "Frames waiting" must
 * mean a one-frame burst now makes progress; "armed" (about to sleep)
 * must leave no given-back slot unreturned.
 */
static void op_intr(struct victim *v, struct input *in, uint16_t q)
{
	uint8_t how = in_u8(in);
	int rc = how & 1 ? ivsh_port_rx_wait(v->port, q, 0)
			 : ivsh_port_rx_intr_enable(v->port, q);

	check(rc == 0 || rc == 1, "rx_intr_enable / rx_wait result");
	if (!(how & 1) && (how & 2))
		ivsh_port_rx_intr_disable(v->port, q);
	check_counted_once(v, q);
	if (rc == 0) {
		check_all_returned(v, q);
		return;
	}
	if (how & 4)
		return;
	const struct rx_counters *c = &v->port->rxq[q].c;
	uint64_t resets = ctr_get(&c->resets) + ctr_get(&c->bad_gen);
	uint32_t head = v->port->rxq[q].ring.head;
	static uint8_t buf[IVSH_PORT_MAX_FRAME];
	struct ivsh_pkt pk = { buf, sizeof(buf) };
	uint16_t got = ivsh_port_rx_burst(v->port, q, &pk, 1);

	check(got == 1 || v->port->rxq[q].ring.head != head ||
	      ctr_get(&c->resets) + ctr_get(&c->bad_gen) != resets,
	      "interrupt armed reported frames that a burst cannot take");
	check_counted_once(v, q);
}

/* Give back one kept slot (any order), sometimes twice. */
static void op_give(struct victim *v, struct input *in)
{
	if (v->nkept == 0) {
		check(ivsh_port_rx_zc_give(v->port, 0, v->li->p.ring_size) == -EINVAL,
		      "give of a slot index past the ring");
		return;
	}
	unsigned int i = in_u16(in) % v->nkept;
	uint16_t q = v->kept[i].q, slot = v->kept[i].slot;

	check(ivsh_port_rx_zc_give(v->port, q, slot) == 0, "give of a kept slot");
	if (in_u8(in) & 1)
		check(ivsh_port_rx_zc_give(v->port, q, slot) == -EALREADY,
		      "second give of a slot");
	v->kept[i] = v->kept[--v->nkept];
}

static void op_tx_zc(struct victim *v, struct input *in, uint16_t q)
{
	struct ivsh_seg s[MAX_BURST];
	uint16_t k = ivsh_port_tx_zc_reserve(v->port, q, s,
					     (uint16_t)(in_u8(in) % MAX_BURST));
	uint16_t use = (uint16_t)(in_u8(in) % (k + 1u));

	for (uint16_t i = 0; i < k; i++)
		check(s[i].len == v->li->p.slot_size, "zc reserve length");
	for (uint16_t i = 0; i < use; i++) {
		uint8_t b = in_u8(in);
		s[i].len = b & 1 ? v->li->p.slot_size : (uint32_t)(b >> 1);
		s[i].flags = b & 0x80 ? IVSH_SEG_MORE : 0;
		memset(s[i].data, 0xa5,
		       s[i].len < v->li->p.slot_size ? s[i].len : v->li->p.slot_size);
	}
	int rc = ivsh_port_tx_zc_commit(v->port, q, s, use);
	check(rc == 0 || rc == -EINVAL, "zc commit result");
}

/* A second peer attaches to a private copy of the forged region, mapped
 * with exactly the size chosen by the input, and runs a few bursts. */
static void op_second_peer(struct victim *v, struct input *in)
{
	uint64_t size;
	uint8_t how = in_u8(in);
	struct ivsh_layout_info li;

	if (ivsh_layout_read_info(v->base, REGION, &li, NULL) != 0)
		return;
	switch (how % 3) {
	case 0: size = li.layout_size; break;
	case 1: size = li.layout_size - 1 - in_u16(in) % 4096; break;
	default: size = REGION; break;
	}
	if (size < IVSH_LAYOUT_HEADER_SIZE || size > REGION)
		return;
	uint8_t *copy = malloc(size);
	check(copy != NULL, "malloc");
	memcpy(copy, v->base, size);
	uint32_t regs[IVSH_BAR0_SIZE / 4] = { 0 };
	regs[2] = 1; /* IVPosition: ID 1 */
	struct ivsh_dev_mapped m = { .regs = regs, .shm = copy,
				     .shm_size = size, .name = "fuzz-peer1" };
	struct ivsh_dev *dev;
	struct ivsh_port *port;
	struct ivsh_port_conf c = { .peer = 0, .timeout_ms = 1 };

	if (ivsh_dev_open_mapped(&dev, &m, NULL) == 0) {
		if (ivsh_port_open(&port, dev, &c) == 0) {
			uint8_t b[64];
			struct ivsh_pkt pk = { b, sizeof(b) };

			second_attaches++;
			ivsh_port_tx_burst(port, 0, &pk, 1);
			ivsh_port_rx_burst(port, 0, &pk, 1);
			ivsh_port_link_update(port);
			ivsh_layout_describe(copy, size, v->null);
			ivsh_port_close(port);
		}
		ivsh_dev_close(dev);
	}
	free(copy);
}

static void run_op(struct victim *v, struct input *in)
{
	uint8_t op = in_u8(in) % 18;
	uint16_t q = in_u8(in) % v->nq;
	uint32_t ring = v->li->p.ring_size;
	uint8_t *in_ch = chan(v, 1, 0, q), *out_ch = chan(v, 0, 1, q);

	switch (op) {
	case 0: { /* header field */
		uint32_t off = (in_u8(in) % (IVSH_LAYOUT_HEADER_SIZE / 4)) * 4;
		uint32_t val = in_u32(in);
		memcpy(v->base + off, &val, 4);
		break;
	}
	case 1: { /* peer table: any entry, any word */
		uint16_t id = in_u8(in) % v->li->p.max_peers;
		uint32_t off = (in_u8(in) % 6) * 4, val = in_u32(in);
		memcpy((uint8_t *)lay_peer(v->base, v->li, id) + off, &val, 4);
		break;
	}
	case 2: { /* prod of the incoming channel: near cons, or wild */
		uint32_t cons = atomic_load(&LAY_CHAN_CONS(in_ch)->cons);
		uint16_t r = in_u16(in);
		uint32_t pi = r & 1 ? in_u32(in) : cons + (r >> 1) % (ring + 3);
		v->fake_prod[q] = pi;
		atomic_store(&LAY_CHAN_PROD(in_ch)->prod, pi);
		break;
	}
	case 3: { /* restart marker: new epoch, start near cons or wild */
		uint32_t cons = atomic_load(&LAY_CHAN_CONS(in_ch)->cons);
		uint8_t ep = in_u8(in);
		uint16_t r = in_u16(in);
		uint32_t start = r & 1 ? in_u32(in) : cons + (r >> 1) % (ring + 3);
		atomic_store(&LAY_CHAN_PROD(in_ch)->gen,
			     (uint64_t)(ep % 4) << 32 | start);
		break;
	}
	case 4: { /* a descriptor, or a run of equal ones (long chains) */
		uint32_t idx = in_u16(in) & (ring - 1);
		uint8_t how = in_u8(in);
		uint32_t len = how & 1 ? in_u32(in) : in_u16(in) % 4096u;
		uint32_t fl = in_u8(in);
		uint32_t count = how & 2 ? 1u + in_u16(in) % ring : 1u;
		for (uint32_t k = 0; k < count; k++)
			atomic_store(&LAY_CHAN_DESC(in_ch)[(idx + k) & (ring - 1)],
				     lay_desc_make(len, fl));
		break;
	}
	case 5: { /* cons of the outgoing channel (or our own, forged) */
		uint8_t r = in_u8(in);
		uint8_t *ch = r & 1 ? in_ch : out_ch;
		uint32_t pi = atomic_load(&LAY_CHAN_PROD(ch)->prod);
		uint32_t ci = r & 2 ? in_u32(in) : pi - in_u16(in) % (ring + 3);
		atomic_store(&LAY_CHAN_CONS(ch)->cons, ci);
		break;
	}
	case 6: /* kick flag the victim's producer reads */
		atomic_store(&LAY_CHAN_KICK(out_ch)->kick, in_u8(in) % 4);
		break;
	case 7: op_rx(v, in, q); break;
	case 8: op_tx(v, in, q); break;
	case 9: op_rx_zc(v, in, q); break;
	case 10: op_tx_zc(v, in, q); break;
	case 11: ivsh_port_link_update(v->port); break;
	case 12: op_intr(v, in, q); break;
	case 13: put_valid_frame(v, in, q); break;
	case 15: op_give(v, in); break;
	case 16: op_rx_zc(v, in, q); break;
	case 14: { /* slot bytes */
		size_t area = (size_t)ring * v->li->p.slot_size;
		size_t off = in_u32(in) % area;
		memset(in_ch + v->li->slots_off + off, in_u8(in),
		       area - off < 64 ? area - off : 64);
		break;
	}
	default: {
		uint8_t r = in_u8(in);
		if (r % 8 == 0)
			op_second_peer(v, in);
		else if (r % 8 == 1)
			ivsh_layout_describe(v->base, REGION, v->null);
		else if (r % 8 == 2)
			op_give(v, in);
		check_counters(v);
		break;
	}
	}
}

static void layout_params(struct input *in, struct ivsh_port_conf *c)
{
	static const uint32_t rings[] = { 16, 32, 64, 256, 512 };
	/* 9024: just over the longest frame; 65536: the largest slot. */
	static const uint32_t slots[] = { 64, 128, 256, 2048, 9024, 16384,
					  65536, 2048 };
	uint8_t a = in_u8(in), b = in_u8(in);

	c->max_peers = 2 + a % 2;
	c->queues_per_link = 1 + (a >> 1) % 2;
	c->ring_size = rings[b % 5];
	c->slot_size = slots[(b / 5) % 8];
	struct ivsh_layout_params p = { c->max_peers, c->queues_per_link,
					c->ring_size, c->slot_size };
	if (ivsh_layout_size(&p) > REGION) {
		p.max_peers = c->max_peers = 2;
		p.queues_per_link = c->queues_per_link = 1;
	}
	while (ivsh_layout_size(&p) > REGION && p.ring_size > 16)
		p.ring_size = c->ring_size = p.ring_size / 2;
	if (ivsh_layout_size(&p) > REGION)
		c->slot_size = 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *region;
	static int efd[2] = { -1, -1 };
	static FILE *null;
	static size_t dirty = REGION;
	struct input in = { data, size, 0 };
	struct victim v;

	if (region == NULL) {
		region = aligned_alloc(4096, REGION);
		efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		efd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		null = fopen("/dev/null", "w");
		check(region != NULL && efd[0] >= 0 && efd[1] >= 0 &&
		      null != NULL, "setup");
	}
	/* Every write of the last input stayed inside its layout. */
	memset(region, 0, dirty);
	memset(&v, 0, sizeof(v));
	v.base = region;
	v.null = null;

	uint32_t regs[IVSH_BAR0_SIZE / 4] = { 0 }; /* IVPosition 0: master */
	struct ivsh_dev_mapped m = { .regs = regs, .shm = region,
				     .shm_size = REGION, .irq_fds = efd,
				     .nb_irq_fds = 2, .name = "fuzz-master" };
	struct ivsh_dev *dev;
	struct ivsh_port_conf c = { .peer = 1, .intr = true };

	layout_params(&in, &c);
	check(ivsh_dev_open_mapped(&dev, &m, NULL) == 0, "open the device");
	if (ivsh_port_open(&v.port, dev, &c) != 0) {
		fprintf(stderr, "fuzz_port: %s\n", ivsh_port_last_error());
		check(0, "open the victim port");
	}
	v.li = ivsh_port_layout(v.port);
	v.nq = ivsh_port_nb_queues(v.port);
	dirty = v.li->layout_size;
	for (uint16_t q = 0; q < v.nq; q++)
		v.head[q] = v.port->rxq[q].ring.head;

	/* Peer 1 as an honest peer would start; the script then takes over. */
	struct lay_peer *p1 = lay_peer(region, v.li, 1);
	atomic_store(&p1->epoch, 1);
	atomic_store(&p1->vectors, 1);
	atomic_store(&p1->state, LAY_PEER_UP);
	for (uint16_t q = 0; q < v.nq; q++)
		atomic_store(&LAY_CHAN_PROD(chan(&v, 1, 0, q))->gen,
			     (uint64_t)1 << 32);
	ivsh_port_link_update(v.port);

	for (int k = 0; k < MAX_OPS && in.at < in.n; k++)
		run_op(&v, &in);
	check_counters(&v);

	const char *names[64];
	uint64_t vals[64];
	int n = ivsh_port_xstats(v.port, names, vals, 64);
	for (int i = 0; i < n; i++)
		for (size_t w = 0; w < NB_WATCHED; w++)
			if (strcmp(names[i], watched[w]) == 0)
				totals[w] += vals[i];
	ivsh_port_close(v.port);
	ivsh_dev_close(dev);
	return 0;
}

#ifndef IVSH_LIBFUZZER
/* xorshift64*: a fixed, portable sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 5000;
	uint64_t seed = 0x5eed1f4a77c0ffeeULL;
	static uint8_t buf[2048];

	if (iters <= 0) {
		fprintf(stderr, "fuzz_port: bad input count '%s'\n", argv[1]);
		return 1;
	}
	for (long i = 0; i < iters; i++) {
		size_t n = 1 + rnd(&seed) % sizeof(buf);

		for (size_t k = 0; k < n; k++) {
			uint64_t r = rnd(&seed);

			/* Small values often: offsets and lengths near the
			 * edges matter more than uniform noise. */
			buf[k] = (uint8_t)(r & 0x300 ? r : r % 4);
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	int missing = 0;
	for (size_t w = 0; w < NB_WATCHED; w++) {
		if (totals[w] == 0) {
			fprintf(stderr, "fuzz_port: counter %s never moved\n",
				watched[w]);
			missing++;
		}
	}
	if (second_attaches == 0) {
		fprintf(stderr, "fuzz_port: no second peer ever attached\n");
		missing++;
	}
	if (missing)
		return 1;
	printf("fuzz_port: %ld inputs, %llu second-peer attaches, "
	       "no invariant broken\n", iters,
	       (unsigned long long)second_attaches);
	for (size_t w = 0; w < NB_WATCHED; w++)
		printf("  %s %llu\n", watched[w], (unsigned long long)totals[w]);
	return 0;
}
#endif
