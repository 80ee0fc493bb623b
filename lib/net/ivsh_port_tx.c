/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port data path, transmit side: copying tx_burst and zero-copy
 * reserve/commit.
 *
 * Per burst: at most one acquire load of the peer's index (only when the
 * cached copy does not cover the request) and one release store of our
 * own.
 */
#include <errno.h>
#include <string.h>

#include "port_copy.h"
#include "port_prefetch.h"
#include "port_private.h"

/* ------------------------------------------------------------------ */
/* Transmit                                                            */
/* ------------------------------------------------------------------ */

static void txq_kick_slow(struct port_txq *tq, uint16_t vectors)
{
	/* Full fence pairs with the one in rx_intr_enable(): either we see
	 * the consumer's kick request, or it sees our new prod. */
	atomic_thread_fence(memory_order_seq_cst);
	uint32_t k = atomic_load_explicit(&tq->kick->kick, memory_order_relaxed);

	if (k == 0 || k == tq->last_kick)
		return;
	tq->last_kick = k;
	struct ivsh_port *port = tq->port;
	int rc = ivsh_dev_doorbell(port->dev, port->peer,
				   (uint16_t)(tq->q % vectors));
	if (rc == 0)
		ctr_add(&tq->c.doorbells, 1);
	else
		ctr_add(&tq->c.doorbell_errors, 1);
}

static inline void txq_publish(struct port_txq *tq, uint32_t used)
{
	struct ivsh_ring_prod *p = &tq->ring;

	p->head += used;
	/* Release pairs with the consumer's acquire load of prod: slots and
	 * descriptors written above are visible before the index. */
	atomic_store_explicit(p->prod_idx, p->head, memory_order_release);
	uint16_t vec = atomic_load_explicit(&tq->port->peer_vectors,
					    memory_order_relaxed);
	if (vec != 0)
		txq_kick_slow(tq, vec);
}

static inline uint8_t *txq_slot(const struct port_txq *tq, uint32_t idx)
{
	return tq->slots + (size_t)(idx & tq->ring.mask) * tq->slot_size;
}

uint16_t ivsh_port_tx_burst(struct ivsh_port *port, uint16_t q,
			    const struct ivsh_pkt *pkts, uint16_t n)
{
	if (unlikely(q >= port->nb_queues || n == 0))
		return 0;
	struct port_txq *tq = &port->txq[q];
	struct ivsh_ring_prod *p = &tq->ring;
	lay_desc_t *descs = (lay_desc_t *)p->elems;
	const uint32_t mask = p->mask;
	const uint32_t slot = tq->slot_size;
	const uint32_t head = p->head;
	uint8_t *const slots = tq->slots; /* locals: memcpy may alias */
	const uint32_t max_frame = tq->max_frame;
	const uint32_t max_one = tq->max_one_slot;
	const slot_copy_fn big = tq->copy;
	uint32_t free_n = ivsh_ring_prod_free(p, n);
	uint32_t used = 0;
	uint64_t bytes = 0, errors = 0;
	uint16_t i;

	/* Ask for the slots' first lines and the descriptors' lines in
	 * exclusive state up front: the consumer read them last. */
	uint32_t pf = free_n < n ? free_n : n;
	const bool pw = tq->prefetchw;
	for (uint32_t k = 0; k < pf; k++) {
		port_prefetch_w(slots + (size_t)((head + k) & mask) * slot, pw);
		if (k == 0 || ((head + k) & 7) == 0)
			port_prefetch_w(&descs[(head + k) & mask], pw);
	}

	for (i = 0; i < n; i++) {
		uint32_t len = pkts[i].len;

		/* One slot and within max_frame (slots may be larger). */
		if (likely(len - 1u < max_one)) {
			if (unlikely(used == free_n))
				break;
			uint32_t idx = (head + used) & mask;
			copy_frame(slots + (size_t)idx * slot, pkts[i].data, len,
				   big);
			atomic_store_explicit(&descs[idx], len,
					      memory_order_relaxed);
			used++;
			bytes += len;
			continue;
		}
		if (len == 0 || len > max_frame) {
			errors++; /* dropped, counts as consumed */
			continue;
		}
		uint32_t nseg = (len + slot - 1) / slot;
		if (nseg > free_n - used) {
			free_n = ivsh_ring_prod_free(p, used + nseg);
			if (nseg > free_n - used || free_n < used)
				break;
		}
		const uint8_t *src = pkts[i].data;
		uint32_t left = len;
		for (uint32_t k = 0; k < nseg; k++) {
			uint32_t idx = (head + used + k) & mask;
			uint32_t seg = left > slot ? slot : left;

			big(slots + (size_t)idx * slot, src, seg);
			atomic_store_explicit(&descs[idx],
					      lay_desc_make(seg, k + 1 < nseg ?
							    LAY_DESC_MORE : 0),
					      memory_order_relaxed);
			src += seg;
			left -= seg;
		}
		used += nseg;
		bytes += len;
	}
	if (i < n)
		ctr_add(&tq->c.ring_full, n - i);
	if (used != 0)
		txq_publish(tq, used);
	ctr_add(&tq->c.packets, i - errors);
	ctr_add(&tq->c.bytes, bytes);
	if (errors)
		ctr_add(&tq->c.errors, errors);
	return i;
}

uint16_t ivsh_port_tx_zc_reserve(struct ivsh_port *port, uint16_t q,
				 struct ivsh_seg *segs, uint16_t n)
{
	if (unlikely(q >= port->nb_queues))
		return 0;
	struct port_txq *tq = &port->txq[q];
	lay_desc_t *descs = (lay_desc_t *)tq->ring.elems;
	uint32_t free_n = ivsh_ring_prod_free(&tq->ring, n);
	uint32_t k = n < free_n ? n : free_n;

	for (uint32_t i = 0; i < k; i++) {
		uint32_t idx = (tq->ring.head + i) & tq->ring.mask;

		segs[i].data = txq_slot(tq, tq->ring.head + i);
		segs[i].slot = (uint16_t)idx;
		/* The slot's first line and, as tx_burst does, the
		 * descriptors' lines: the consumer read them last. */
		port_prefetch_w(segs[i].data, tq->prefetchw);
		if (i == 0 || (idx & 7) == 0)
			port_prefetch_w(&descs[idx], tq->prefetchw);
		segs[i].len = tq->slot_size;
		segs[i].flags = 0;
	}
	if (k < n)
		ctr_add(&tq->c.ring_full, 1);
	tq->zc_reserved = k;
	return (uint16_t)k;
}

int ivsh_port_tx_zc_commit(struct ivsh_port *port, uint16_t q,
			   const struct ivsh_seg *segs, uint16_t n)
{
	if (unlikely(q >= port->nb_queues))
		return -EINVAL;
	struct port_txq *tq = &port->txq[q];
	lay_desc_t *descs = (lay_desc_t *)tq->ring.elems;
	uint32_t frames = 0, nseg = 0;
	uint64_t bytes = 0, frame = 0;

	if (n > tq->zc_reserved || (n > 0 && (segs[n - 1].flags & IVSH_SEG_MORE)))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (segs[i].len > tq->slot_size)
			return -EINVAL;
		frame += segs[i].len;
		nseg++;
		if (segs[i].flags & IVSH_SEG_MORE)
			continue;
		if (frame == 0 || frame > tq->max_frame || nseg > tq->max_segs)
			return -EINVAL;
		frames++;
		bytes += frame;
		frame = 0;
		nseg = 0;
	}
	tq->zc_reserved = 0;
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		atomic_store_explicit(&descs[(tq->ring.head + i) & tq->ring.mask],
				      lay_desc_make(segs[i].len,
						    (segs[i].flags & IVSH_SEG_MORE) ?
						    LAY_DESC_MORE : 0),
				      memory_order_relaxed);
	txq_publish(tq, n);
	ctr_add(&tq->c.packets, frames);
	ctr_add(&tq->c.bytes, bytes);
	return 0;
}
