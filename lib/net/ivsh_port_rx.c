/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port data path, receive side: copying rx_burst and the zero-copy calls
 * (peek, release, keep, give).
 *
 * Per burst: at most one acquire load of the peer's index (only when the
 * cached copy does not cover the request) and one release store of our
 * own. Descriptors are read once each (relaxed atomic loads: no double
 * fetch), validated, and only the local copy is used.
 */
#include <errno.h>
#include <string.h>

#include "port_copy.h"
#include "port_prefetch.h"
#include "port_private.h"

/* ------------------------------------------------------------------ */
/* Receive                                                             */
/* ------------------------------------------------------------------ */

/*
 * Move the published consumer index over slots that are no longer held
 * (given back, or never kept), up to head.
 */
void port_rxq_reclaim(struct port_rxq *rq)
{
	struct ivsh_ring_cons *c = &rq->ring;
	uint32_t cp = rq->cons_pub;

	/* Acquire pairs with the release in ivsh_port_rx_zc_give(): the
	 * keeper's reads of the slot happen before the producer may reuse
	 * it (our release store below passes that on). */
	while (cp != c->head &&
	       !atomic_load_explicit(&rq->held[cp & c->mask],
				     memory_order_acquire))
		cp++;
	if (cp == rq->cons_pub)
		return;
	rq->cons_pub = cp;
	/* Release pairs with the producer's acquire load of cons. */
	atomic_store_explicit(c->cons_idx, cp, memory_order_release);
}

/*
 * The producer restarted (gen epoch changed): drop what its previous life
 * left, up to the new start index, if that is within [head, prod].
 */
static void rxq_reset(struct port_rxq *rq, uint64_t gen, uint32_t pi)
{
	struct ivsh_ring_cons *c = &rq->ring;
	uint32_t start = (uint32_t)gen;
	uint32_t skip = start - c->head;
	uint32_t old_epoch = rq->peer_epoch;

	rq->peer_epoch = (uint32_t)(gen >> 32);
	/* pi must lie in [head, cons_pub + size] (cons_pub == head unless
	 * slots are kept), and start in [head, pi]. */
	if (pi - c->head > c->size || pi - rq->cons_pub > c->size ||
	    skip > pi - c->head) {
		ctr_add(&rq->c.bad_gen, 1);
		return;
	}
	c->head = start;
	c->prod_cache = start;
	/* Publishes cons = start, or stops at the oldest kept slot, which
	 * stays out of the new life's reach. */
	port_rxq_reclaim(rq);
	/* A first attach (epoch 0 before) that drops nothing is no reset. */
	if (old_epoch != 0 || skip != 0) {
		ctr_add(&rq->c.resets, 1);
		ctr_add(&rq->c.reset_dropped, skip);
	}
}

/* Re-read prod (and gen, on the same line); validated count waiting. */
static inline uint32_t rxq_refresh(struct port_rxq *rq)
{
	struct ivsh_ring_cons *c = &rq->ring;
	/* Acquire pairs with the producer's release store of prod: the
	 * descriptors and slots below it are visible. */
	uint32_t pi = atomic_load_explicit(c->prod_idx, memory_order_acquire);
	/* Ordered after the acquire above; gen is stored before prod. */
	uint64_t gen = atomic_load_explicit(&rq->pline->gen,
					    memory_order_relaxed);

	if (unlikely((uint32_t)(gen >> 32) != rq->peer_epoch)) {
		/*
		 * The producer restarted, maybe after our load of prod: its
		 * new life read its prod (= start) before its release store
		 * of gen. The fence makes our gen load an acquire that pairs
		 * with that store, so prod re-read now is >= start.
		 */
		atomic_thread_fence(memory_order_acquire);
		pi = atomic_load_explicit(c->prod_idx, memory_order_acquire);
		rxq_reset(rq, gen, pi);
	}
	uint32_t avail = pi - c->head;
	/* Behind what we consumed, or beyond what we released plus one
	 * ring (cons_pub == head unless slots are kept): a bad index. */
	if (unlikely(avail > c->size || pi - rq->cons_pub > c->size)) {
		ctr_add(&rq->c.bad_index, 1);
		return 0;
	}
	c->prod_cache = pi;
	return avail;
}

static inline uint32_t rxq_avail(struct port_rxq *rq, uint32_t want)
{
	uint32_t avail = rq->ring.prod_cache - rq->ring.head;

	return avail >= want ? avail : rxq_refresh(rq);
}

static inline void rxq_publish(struct port_rxq *rq, uint32_t n)
{
	struct ivsh_ring_cons *c = &rq->ring;
	uint32_t old = c->head;

	c->head += n;
	if (unlikely(rq->cons_pub != old)) {
		port_rxq_reclaim(rq); /* kept slots are still held */
		return;
	}
	rq->cons_pub = c->head;
	/* Release pairs with the producer's acquire load of cons: our reads
	 * of these slots are done before it may reuse them. */
	atomic_store_explicit(c->cons_idx, c->head, memory_order_release);
}

enum frame_verdict {
	FRAME_OK, FRAME_BAD_LEN, FRAME_CHAIN_LONG, FRAME_CHAIN_UNTERM,
	FRAME_EMPTY
};

/*
 * Count an invalid frame by cause. Only where it is dropped: a frame
 * parsed again later (a peek stopping before it) is counted once.
 */
static void rxq_count_bad(struct port_rxq *rq, enum frame_verdict v)
{
	switch (v) {
	case FRAME_BAD_LEN: ctr_add(&rq->c.bad_len, 1); break;
	case FRAME_CHAIN_LONG: ctr_add(&rq->c.chain_long, 1); break;
	case FRAME_CHAIN_UNTERM: ctr_add(&rq->c.chain_unterm, 1); break;
	case FRAME_EMPTY: ctr_add(&rq->c.empty, 1); break;
	case FRAME_OK: break;
	}
}

/*
 * Parse the frame starting at index @p at (of @p avail waiting slots).
 * Loads each descriptor once into @p lens (len | ZC_LAST on the last).
 * @return slots the frame spans (always >= 1 when avail >= 1); *verdict
 * tells whether it is valid, or why not (not counted here); *total gets
 * its length.
 */
static uint32_t rx_parse(struct port_rxq *rq, uint32_t at, uint32_t avail,
			 uint32_t *lens, uint32_t *total,
			 enum frame_verdict *verdict)
{
	const lay_desc_t *descs = (const lay_desc_t *)rq->ring.elems;
	uint32_t mask = rq->ring.mask;
	uint64_t sum = 0;

	for (uint32_t k = 0; k < avail; k++) {
		uint64_t d = atomic_load_explicit(&descs[(at + k) & mask],
						  memory_order_relaxed);
		uint32_t len = (uint32_t)d;
		bool more = (uint32_t)(d >> 32) & LAY_DESC_MORE;

		if (len > rq->slot_size) {
			*verdict = FRAME_BAD_LEN;
			return k + 1;
		}
		if (k + 1 > rq->max_segs) {
			*verdict = FRAME_CHAIN_LONG;
			return k + 1;
		}
		sum += len;
		lens[k] = len;
		if (more)
			continue;
		lens[k] |= ZC_LAST;
		if (sum == 0) {
			*verdict = FRAME_EMPTY;
			return k + 1;
		}
		if (sum > IVSH_PORT_MAX_FRAME) {
			*verdict = FRAME_CHAIN_LONG;
			return k + 1;
		}
		*total = (uint32_t)sum;
		*verdict = FRAME_OK;
		return k + 1;
	}
	*verdict = FRAME_CHAIN_UNTERM;
	return avail;
}

static inline const uint8_t *rxq_slot(const struct port_rxq *rq, uint32_t idx)
{
	return rq->slots + (size_t)(idx & rq->ring.mask) * rq->slot_size;
}

/* Slow path of rx_burst: a chained or invalid frame. Returns slots used. */
static uint32_t rx_one_slow(struct port_rxq *rq, uint32_t at, uint32_t avail,
			    struct ivsh_pkt *pkt, bool *delivered)
{
	uint32_t lens[IVSH_PORT_MAX_FRAME / IVSH_LAYOUT_MIN_SLOT + 2];
	uint32_t total = 0;
	enum frame_verdict v;
	uint32_t used = rx_parse(rq, at, avail, lens, &total, &v);

	*delivered = false;
	if (v != FRAME_OK) {
		rxq_count_bad(rq, v);
		return used;
	}
	if (total > pkt->len) {
		ctr_add(&rq->c.nobuf, 1);
		return used;
	}
	uint8_t *dst = pkt->data;
	for (uint32_t k = 0; k < used; k++) {
		uint32_t len = lens[k] & ~ZC_LAST;

		rq->copy(dst, rxq_slot(rq, at + k), len);
		dst += len;
	}
	pkt->len = total;
	*delivered = true;
	return used;
}

uint16_t ivsh_port_rx_burst(struct ivsh_port *port, uint16_t q,
			    struct ivsh_pkt *pkts, uint16_t n)
{
	if (unlikely(q >= port->nb_queues || n == 0))
		return 0;
	struct port_rxq *rq = &port->rxq[q];
	if (unlikely(rq->cons_pub != rq->ring.head))
		port_rxq_reclaim(rq); /* kept slots may have come back */
	uint32_t avail = rxq_avail(rq, n);
	if (avail == 0)
		return 0;

	const lay_desc_t *descs = (const lay_desc_t *)rq->ring.elems;
	const uint32_t mask = rq->ring.mask;
	const uint32_t slot = rq->slot_size;
	const uint32_t max_one = rq->max_one_slot;
	const uint32_t head = rq->ring.head;
	const uint8_t *const slots = rq->slots; /* locals: memcpy may alias */
	const slot_copy_fn big = rq->copy;
	uint32_t i = 0;
	uint16_t got = 0;
	uint64_t bytes = 0;

	/* Start every slot's first line on its way before copying any. */
	uint32_t pf = avail < n ? avail : n;
	for (uint32_t k = 0; k < pf; k++)
		__builtin_prefetch(slots + (size_t)((head + k) & mask) * slot);
	while (got < n && i < avail) {
		uint32_t idx = (head + i) & mask;
		uint64_t d = atomic_load_explicit(&descs[idx],
						  memory_order_relaxed);
		uint32_t len = (uint32_t)d;

		/* Fast path: one slot, 1..max_one bytes, fits the buffer. */
		if (likely(((d >> 32) & LAY_DESC_MORE) == 0 &&
			   len - 1u < max_one && len <= pkts[got].len)) {
			copy_frame(pkts[got].data, slots + (size_t)idx * slot, len,
				   big);
			pkts[got].len = len;
			bytes += len;
			got++;
			i++;
			continue;
		}
		bool ok;
		if (((d >> 32) & LAY_DESC_MORE) == 0 && len - 1u < max_one) {
			ctr_add(&rq->c.nobuf, 1); /* valid, buffer too small */
			i++;
			continue;
		}
		i += rx_one_slow(rq, head + i, avail - i, &pkts[got], &ok);
		if (ok) {
			bytes += pkts[got].len;
			got++;
		}
	}
	rxq_publish(rq, i);
	ctr_add(&rq->c.packets, got);
	ctr_add(&rq->c.bytes, bytes);
	return got;
}

uint16_t ivsh_port_rx_zc_peek(struct ivsh_port *port, uint16_t q,
			      struct ivsh_seg *segs, uint16_t max)
{
	if (unlikely(q >= port->nb_queues))
		return 0;
	struct port_rxq *rq = &port->rxq[q];
	if (unlikely(rq->cons_pub != rq->ring.head))
		port_rxq_reclaim(rq); /* slots kept earlier may have come back */
	uint32_t avail = rxq_avail(rq, max);
	const lay_desc_t *descs = (const lay_desc_t *)rq->ring.elems;
	const uint32_t mask = rq->ring.mask;
	const uint32_t slot = rq->slot_size;
	const uint32_t max_one = rq->max_one_slot;
	uint32_t i = 0, nout = 0;

	rq->zc_segs = 0;
	while (i < avail && nout < max) {
		uint32_t idx = (rq->ring.head + i) & mask;
		uint64_t d = atomic_load_explicit(&descs[idx],
						  memory_order_relaxed);
		uint32_t len = (uint32_t)d;

		/* Fast path: a valid one-slot frame. */
		if (likely(((d >> 32) & LAY_DESC_MORE) == 0 &&
			   len - 1u < max_one)) {
			const uint8_t *data = rq->slots + (size_t)idx * slot;

			__builtin_prefetch(data);
			segs[nout].data = (void *)(uintptr_t)data;
			segs[nout].len = len;
			segs[nout].flags = 0;
			segs[nout].slot = (uint16_t)idx;
			rq->zc_seg[nout] = len | ZC_LAST;
			nout++;
			i++;
			continue;
		}

		uint32_t total;
		enum frame_verdict v;
		uint32_t *lens = rq->zc_seg + nout;
		uint32_t room = rq->ring.size - nout;
		uint32_t span = avail - i;

		if (span > room)
			span = room;
		uint32_t used = rx_parse(rq, rq->ring.head + i, span, lens,
					 &total, &v);
		if (v != FRAME_OK) {
			/* Hand out what precedes it first; it is counted
			 * when a later peek reaches it and drops it. */
			if (nout != 0)
				break;
			/* Nothing handed out yet: drop it right away. */
			rxq_count_bad(rq, v);
			rxq_publish(rq, used);
			avail -= used;
			continue;
		}
		if (nout + used > max)
			break;
		for (uint32_t k = 0; k < used; k++) {
			segs[nout + k].data = (void *)rxq_slot(rq, rq->ring.head + i + k);
			segs[nout + k].len = lens[k] & ~ZC_LAST;
			segs[nout + k].flags = (lens[k] & ZC_LAST) ? 0 : IVSH_SEG_MORE;
			segs[nout + k].slot = (uint16_t)((rq->ring.head + i + k) & mask);
		}
		nout += used;
		i += used;
	}
	rq->zc_segs = nout;
	return (uint16_t)nout;
}

/*
 * Consume the first @nsegs segments of the last peek, rounded up to the
 * end of the frame the last one belongs to, and count them. @keep: mark
 * them held (given back later) instead of returning them now.
 */
static void rxq_zc_consume(struct port_rxq *rq, uint16_t nsegs, bool keep)
{
	uint32_t n = nsegs < rq->zc_segs ? nsegs : rq->zc_segs;
	uint64_t frames = 0, bytes = 0;

	while (n > 0 && n < rq->zc_segs && !(rq->zc_seg[n - 1] & ZC_LAST))
		n++;
	for (uint32_t k = 0; k < n; k++) {
		bytes += rq->zc_seg[k] & ~ZC_LAST;
		frames += (rq->zc_seg[k] & ZC_LAST) != 0;
		/* Relaxed: a kept slot reaches another thread only through
		 * the caller's own synchronisation. */
		if (keep)
			atomic_store_explicit(&rq->held[(rq->ring.head + k) &
							rq->ring.mask],
					      1, memory_order_relaxed);
	}
	rq->zc_segs = 0;
	if (n == 0)
		return;
	if (keep)
		rq->ring.head += n; /* consumed, not released: cons_pub stays */
	else
		rxq_publish(rq, n);
	ctr_add(&rq->c.packets, frames);
	ctr_add(&rq->c.bytes, bytes);
}

void ivsh_port_rx_zc_release(struct ivsh_port *port, uint16_t q,
			     uint16_t nsegs)
{
	if (likely(q < port->nb_queues))
		rxq_zc_consume(&port->rxq[q], nsegs, false);
}

void ivsh_port_rx_zc_keep(struct ivsh_port *port, uint16_t q,
			  uint16_t nsegs)
{
	if (likely(q < port->nb_queues))
		rxq_zc_consume(&port->rxq[q], nsegs, true);
}

int ivsh_port_rx_zc_give(struct ivsh_port *port, uint16_t q, uint32_t slot)
{
	if (unlikely(q >= port->nb_queues))
		return -EINVAL;
	struct port_rxq *rq = &port->rxq[q];

	if (unlikely(slot >= rq->ring.size))
		return -EINVAL;
	/* Only the thread dropping the slot's last reference gives it back,
	 * so no lock is needed; the load catches a caller's double give
	 * (not a concurrent one). Release pairs with the acquire in
	 * port_rxq_reclaim(). */
	if (unlikely(!atomic_load_explicit(&rq->held[slot], memory_order_relaxed)))
		return -EALREADY;
	atomic_store_explicit(&rq->held[slot], 0, memory_order_release);
	return 0;
}

const void *ivsh_port_rx_slots(const struct ivsh_port *port, uint16_t q)
{
	return q < port->nb_queues ? port->rxq[q].slots : NULL;
}

uint32_t ivsh_port_rx_zc_held(const struct ivsh_port *port, uint16_t q)
{
	if (q >= port->nb_queues)
		return 0;
	const struct port_rxq *rq = &port->rxq[q];
	uint32_t n = 0;

	for (uint32_t i = rq->cons_pub; i != rq->ring.head; i++)
		n += atomic_load_explicit(&rq->held[i & rq->ring.mask],
					  memory_order_acquire) != 0;
	return n;
}
