/* SPDX-License-Identifier: BSD-3-Clause */
#include "zerocopy.h"

#include <string.h>

#include "pkt.h"
#include "testpmd.h"
#include "txgen.h"

/* Segments one call handles: a burst of frames of up to this many slots. */
#define ZC_MAX_SEGS 1024u

static uint32_t slots_per_frame(uint32_t len, uint32_t slot)
{
	return (len + slot - 1) / slot;
}

unsigned int zc_txgen_run(struct testpmd *tp, struct tp_queue *q, bool flows)
{
	struct ivsh_seg segs[ZC_MAX_SEGS];
	uint32_t len = tp->conf.pkt_len;
	uint32_t spf = slots_per_frame(len, ivsh_port_slot_size(tp->port));
	uint64_t n = tp->conf.burst;
	uint16_t got, used = 0;

	if (n * spf > ZC_MAX_SEGS)
		n = ZC_MAX_SEGS / spf;
	n = txgen_budget(tp, n);
	if (n == 0)
		return 0;
	got = ivsh_port_tx_zc_reserve(tp->port, q->id, segs,
				      (uint16_t)(n * spf));
	n = got / spf;
	if (n < tp->conf.burst && tp->conf.count == 0)
		q->tx_full++;
	for (uint16_t i = 0; i < n && spf == 1 && !tp->conf.verify; i++) {
		uint8_t *tmpl = q->tx[i].data;

		/* One slot, headers only: one fixed-size move of the line
		 * (slots are whole lines), inlined. */
		txgen_stamp_next(tp, q, tmpl, len, flows);
		memcpy(segs[i].data, tmpl, 64);
		segs[i].len = len;
		used++;
	}
	for (uint16_t i = used; i < n; i++) {
		uint8_t *tmpl = q->tx[i].data;
		/* Unverified frames carry only their headers; the rest of
		 * the slot is whatever it held (as in a recycled mbuf). */
		uint32_t fill = tp->conf.verify ? len :
				(len < PKT_MIN_LEN ? len : PKT_MIN_LEN);

		txgen_stamp_next(tp, q, tmpl, len, flows);
		for (uint32_t off = 0, s = 0; s < spf; s++, used++) {
			uint32_t cap = segs[used].len;
			uint32_t piece = len - off < cap ? len - off : cap;

			if (off < fill)
				memcpy(segs[used].data, tmpl + off,
				       fill - off < piece ? fill - off : piece);
			segs[used].len = piece;
			segs[used].flags = s + 1 < spf ? IVSH_SEG_MORE : 0;
			off += piece;
		}
	}
	if (n == 0 || ivsh_port_tx_zc_commit(tp->port, q->id, segs, used) != 0) {
		/* Nothing published: the numbers go unused. */
		q->tx_seq -= (uint32_t)n;
		return 0;
	}
	tp->tx_built += n;
	q->tx_packets += n;
	q->tx_bytes += n * len;
	return (unsigned int)n;
}

uint16_t zc_rx(struct testpmd *tp, struct tp_queue *q)
{
	struct ivsh_seg segs[ZC_MAX_SEGS];
	uint32_t spf = slots_per_frame(ivsh_port_max_frame(tp->port),
				       ivsh_port_slot_size(tp->port));
	uint32_t max = (uint32_t)tp->conf.burst * spf;
	uint16_t nsegs, frames = 0;
	uint32_t flen = 0;

	if (max > ZC_MAX_SEGS)
		max = ZC_MAX_SEGS;
	nsegs = ivsh_port_rx_zc_peek(tp->port, q->id, segs, (uint16_t)max);
	if (nsegs == 0)
		return 0;
	for (uint16_t i = 0; i < nsegs; i++) {
		uint8_t *copy = q->rx[0].data;

		/* A verified frame is checked in a private copy: the slot
		 * stays writable by the peer. */
		if (tp->conf.verify && flen + segs[i].len <= IVSH_PORT_MAX_FRAME)
			memcpy(copy + flen, segs[i].data, segs[i].len);
		flen += segs[i].len;
		if (segs[i].flags & IVSH_SEG_MORE)
			continue;
		if (tp->conf.verify && flen <= IVSH_PORT_MAX_FRAME) {
			tp_check_rx(tp, copy, flen);
		} else if (tp->conf.verify) {
			tp->corrupted++; /* the port bounds frames: never */
			tp->corrupt_len++;
		}
		q->rx_bytes += flen;
		frames++;
		flen = 0;
	}
	ivsh_port_rx_zc_release(tp->port, q->id, nsegs);
	q->rx_packets += frames;
	if (tp->first_rx_tsc == 0)
		tp->first_rx_tsc = tp->now_tsc;
	tp->last_rx_tsc = tp->now_tsc;
	return frames;
}
