/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two pinned threads move IVSH_STRESS_FRAMES (default 2 * 10^6) frames of
 * 60..9000 bytes through a port pair, copying and zero-copy calls mixed,
 * both directions at once; every frame's sequence number, length and
 * bytes are checked.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "port_fixture.h"
#include "test_cpu.h"

struct side {
	struct ivsh_port *port;
	int cpu;
	uint64_t frames;
	pthread_barrier_t *go;
	uint64_t errors;
	uint64_t sent, received;
};

static uint32_t frame_len(uint64_t seq)
{
	/* Mostly small, some jumbo. */
	uint32_t r = (uint32_t)(seq * 2654435761u);
	return (r & 7) == 0 ? 60 + r % 8941 : 60 + (r >> 8) % 1455;
}

static uint8_t byte_at(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq + i * 13u);
}

static void make(uint8_t *b, uint64_t seq, uint32_t len)
{
	memcpy(b, &seq, 8);
	for (uint32_t i = 8; i < len; i += 61) /* spot bytes */
		b[i] = byte_at(seq, i);
	b[len - 1] = byte_at(seq, len - 1);
}

static bool check(const uint8_t *b, uint32_t len, uint64_t seq)
{
	uint64_t got;

	memcpy(&got, b, 8);
	if (got != seq || len != frame_len(seq))
		return false;
	for (uint32_t i = 8; i < len; i += 61)
		if (b[i] != byte_at(seq, i))
			return false;
	return b[len - 1] == byte_at(seq, len - 1);
}

static bool rx_zc(struct side *s, uint64_t *rseq)
{
	struct ivsh_seg seg[32];
	static _Thread_local uint8_t frame[IVSH_PORT_MAX_FRAME];
	uint16_t n = ivsh_port_rx_zc_peek(s->port, 0, seg, 32);
	uint32_t off = 0;

	for (uint16_t i = 0; i < n; i++) {
		memcpy(frame + off, seg[i].data, seg[i].len);
		off += seg[i].len;
		if (seg[i].flags & IVSH_SEG_MORE)
			continue;
		if (!check(frame, off, *rseq))
			s->errors++;
		(*rseq)++;
		off = 0;
	}
	ivsh_port_rx_zc_release(s->port, 0, n);
	return n != 0;
}

static bool rx_copy(struct side *s, uint64_t *rseq)
{
	static _Thread_local uint8_t buf[8][IVSH_PORT_MAX_FRAME];
	struct ivsh_pkt pk[8];

	for (int i = 0; i < 8; i++)
		pk[i] = (struct ivsh_pkt){ buf[i], IVSH_PORT_MAX_FRAME };
	uint16_t n = ivsh_port_rx_burst(s->port, 0, pk, 8);
	for (uint16_t i = 0; i < n; i++, (*rseq)++)
		if (!check(buf[i], pk[i].len, *rseq))
			s->errors++;
	return n != 0;
}

static uint16_t tx_copy(struct side *s, uint64_t seq, uint64_t left)
{
	static _Thread_local uint8_t buf[8][IVSH_PORT_MAX_FRAME];
	struct ivsh_pkt pk[8];
	uint16_t n = left < 8 ? (uint16_t)left : 8;

	for (uint16_t i = 0; i < n; i++) {
		pk[i] = (struct ivsh_pkt){ buf[i], frame_len(seq + i) };
		make(buf[i], seq + i, pk[i].len);
	}
	return ivsh_port_tx_burst(s->port, 0, pk, n);
}

static uint16_t tx_zc(struct side *s, uint64_t seq)
{
	static _Thread_local uint8_t frame[IVSH_PORT_MAX_FRAME];
	struct ivsh_seg seg[8];
	uint32_t len = frame_len(seq), slot = ivsh_port_slot_size(s->port);
	uint16_t need = (uint16_t)((len + slot - 1) / slot);
	uint16_t got = ivsh_port_tx_zc_reserve(s->port, 0, seg, need);

	if (got < need) {
		ivsh_port_tx_zc_commit(s->port, 0, seg, 0);
		return 0;
	}
	make(frame, seq, len);
	for (uint16_t i = 0; i < need; i++) {
		uint32_t part = len - i * slot < slot ? len - i * slot : slot;
		memcpy(seg[i].data, frame + (size_t)i * slot, part);
		seg[i].len = part;
		seg[i].flags = i + 1 < need ? IVSH_SEG_MORE : 0;
	}
	return ivsh_port_tx_zc_commit(s->port, 0, seg, need) == 0 ? 1 : 0;
}

static void *side_main(void *arg)
{
	struct side *s = arg;
	uint64_t seq = 0, rseq = 0;
	unsigned int r = (unsigned int)s->cpu + 1;

	test_pin_self(s->cpu);
	pthread_barrier_wait(s->go);
	for (uint64_t spins = 0; (seq < s->frames || rseq < s->frames) &&
	     spins < 4000000000ull; spins++) {
		r = r * 1103515245u + 12345u;
		bool busy = false;
		if (seq < s->frames) {
			uint16_t k = (r >> 16) & 1 ? tx_copy(s, seq, s->frames - seq)
						   : tx_zc(s, seq);
			seq += k;
			busy |= k != 0;
		}
		if (rseq < s->frames)
			busy |= (r >> 17) & 1 ? rx_copy(s, &rseq) : rx_zc(s, &rseq);
		if (s->errors)
			break;
		if (!busy)
			sched_yield();
	}
	s->sent = seq;
	s->received = rseq;
	return NULL;
}

static void test_two_threads_both_ways(void **state)
{
	(void)state;
	struct pair pr;
	struct ivsh_port_conf c = { .max_peers = 2, .ring_size = 256 };
	const char *env = getenv("IVSH_STRESS_FRAMES");
	uint64_t frames = env ? strtoull(env, NULL, 0) : 2000000;
	pthread_barrier_t go;
	struct side s[2];
	pthread_t t[2];

	assert_int_equal(pair_open(&pr, "stress", "4M", &c), 0);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		s[i] = (struct side){ .port = pr.port[i], .cpu = i,
				      .frames = frames, .go = &go };
		pthread_create(&t[i], NULL, side_main, &s[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s[i].errors, 0);
		assert_int_equal(s[i].sent, frames);
		assert_int_equal(s[i].received, frames);
		assert_int_equal(port_xstat(pr.port[i], "rx_errors"), 0);
	}
	pair_close(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_both_ways),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
