/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem datapath: one copy each way.
 *
 * rx: the port's zero-copy peek describes whole frames in shared slots
 *     (lengths validated once by the port); each frame is copied once into
 *     mbufs from the queue's pool, chained when it is longer than one
 *     mbuf and the scatter offload is on; then the slots are released.
 * tx: slots are reserved, each (multi-segment) mbuf is copied once into
 *     as many slots as it needs (MORE-chained), the slots are published in
 *     one commit, and the mbufs are freed.
 * Bytes in shared memory are only ever read once (by the copy). Copies
 * above 128 bytes use the port's slot copy routine (chosen from CPUID;
 * this plugin is built for DPDK's baseline CPU).
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "ivshmem_ethdev.h"

enum ivshmem_frame_result ivshmem_rx_copy_frame(struct ivshmem_rxq *rxq,
						struct rte_mbuf *head,
						const struct ivsh_seg *segs,
						unsigned int nsegs, uint32_t len)
{
	struct rte_mbuf *dst = head;
	uint32_t room = rte_pktmbuf_tailroom(head);
	unsigned int i;

	if (unlikely(len > room && !rxq->scatter)) {
		rxq->st.no_scatter++;
		rxq->st.no_scatter_bytes += len;
		return FRAME_DROPPED;
	}
	for (i = 0; i < nsegs; i++) {
		const uint8_t *src = segs[i].data;
		uint32_t left = segs[i].len;

		while (left > 0) {
			uint32_t n;

			if (room == 0) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(rxq->mp);

				if (unlikely(m == NULL))
					return FRAME_NOMEM;
				dst->next = m;
				dst = m;
				head->nb_segs++;
				room = rte_pktmbuf_tailroom(m);
			}
			n = RTE_MIN(left, room);
			rxq->copy(rte_pktmbuf_mtod_offset(dst, uint8_t *,
							  dst->data_len),
				  src, n);
			dst->data_len = (uint16_t)(dst->data_len + n);
			room -= n;
			src += n;
			left -= n;
		}
	}
	head->pkt_len = len;
	head->port = rxq->port_id;
	return FRAME_OK;
}

/*
 * One peek per burst: the producer index lives on a line the peer keeps
 * writing, so every extra look at it is a cache miss. Head mbufs go
 * straight into @pkts, taken raw from the pool in one call; a one-slot
 * frame that fits gets only the first-line fields a reset would set (the
 * pool keeps next, nb_segs and refcnt right) and a single copy. Chains
 * take the general path from a full reset.
 */
uint16_t ivshmem_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ivshmem_rxq *rxq = queue;
	struct ivsh_seg segs[IVSHMEM_BURST_SEGS];
	const uint32_t room = rxq->room;
	unsigned int got, nheads, i, used = 0;
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;
	bool partial = false;

	if (unlikely(n == 0))
		return 0;
	got = ivshmem_rx_peek(rxq, segs, n);
	if (got == 0)
		return 0;
	/* One head mbuf per frame (usually one segment per frame). */
	nheads = 0;
	for (i = 0; i < got && nheads < n; i++)
		nheads += !(segs[i].flags & IVSH_SEG_MORE);
	if (unlikely(rte_mempool_get_bulk(rxq->mp, (void **)pkts, nheads) != 0)) {
		rxq->st.nombuf++;
		ivsh_port_rx_zc_release(rxq->port, rxq->qid, 0);
		return 0;
	}
	while (used < got && nb_rx < nheads) {
		struct rte_mbuf *m = pkts[nb_rx];
		uint32_t len = segs[used].len;
		unsigned int end = used;
		enum ivshmem_frame_result r;

		if (likely(!(segs[used].flags & IVSH_SEG_MORE) && len <= room)) {
			ivshmem_rx_copy_one(rxq, m, &segs[used]);
			bytes += len;
			nb_rx++;
			used++;
			continue;
		}
		while (end + 1 < got && (segs[end].flags & IVSH_SEG_MORE))
			len += segs[++end].len;
		if (unlikely(segs[end].flags & IVSH_SEG_MORE))
			break; /* the peek ends on a frame boundary */
		rte_pktmbuf_reset(m);
		r = ivshmem_rx_copy_frame(rxq, m, &segs[used], end - used + 1,
					  len);
		if (unlikely(r == FRAME_NOMEM)) {
			rxq->st.nombuf++;
			partial = true; /* frame stays queued; chain freed below */
			break;
		}
		used = end + 1;
		if (unlikely(r == FRAME_DROPPED))
			continue; /* m is still a fresh mbuf: used again */
		bytes += len;
		nb_rx++;
	}
	/* Unused heads are still raw (or freshly reset): straight back. */
	if (unlikely(nb_rx < nheads)) {
		unsigned int k = nb_rx;

		if (partial)
			rte_pktmbuf_free(pkts[k++]);
		if (k < nheads)
			rte_mempool_put_bulk(rxq->mp, (void **)&pkts[k], nheads - k);
	}
	ivsh_port_rx_zc_release(rxq->port, rxq->qid, (uint16_t)used);
	rxq->st.packets += nb_rx;
	rxq->st.bytes += bytes;
	return nb_rx;
}

/* Copy @m (pkt_len bytes over its segments) into segs[0..], which hold at
 * least pkt_len bytes of capacity. @return slots used. */
static unsigned int tx_copy_frame(const struct ivshmem_txq *txq,
				  const struct rte_mbuf *m, struct ivsh_seg *segs)
{
	uint32_t left_total = m->pkt_len;
	unsigned int s = 0;
	uint8_t *dst = segs[0].data;
	uint32_t room = segs[0].len;

	segs[0].len = 0;
	segs[0].flags = 0;
	for (; m != NULL && left_total > 0; m = m->next) {
		const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t left = RTE_MIN((uint32_t)m->data_len, left_total);

		left_total -= left;
		while (left > 0) {
			uint32_t n;

			if (room == 0) {
				segs[s].flags = IVSH_SEG_MORE;
				s++;
				dst = segs[s].data;
				room = segs[s].len;
				segs[s].len = 0;
				segs[s].flags = 0;
			}
			n = RTE_MIN(left, room);
			txq->copy(dst, src, n);
			dst += n;
			segs[s].len += n;
			room -= n;
			src += n;
			left -= n;
		}
	}
	return s + 1;
}

/* Slots of capacity segs[0..] needed for @len bytes; 0 if more than @avail. */
static unsigned int tx_slots_needed(const struct ivsh_seg *segs,
				    unsigned int avail, uint32_t len)
{
	uint32_t cap = 0;
	unsigned int s = 0;

	do {
		if (s == avail)
			return 0;
		cap += segs[s++].len;
	} while (cap < len);
	return s;
}

/* Slots a frame of @len bytes takes; 0 when it can never be sent.
 * @one_slot: the longest frame that fits one slot (and max_frame). */
static inline unsigned int tx_frame_slots(uint32_t len, uint32_t one_slot,
					  uint32_t slot, uint32_t max_frame)
{
	if (likely(len - 1u < one_slot))
		return 1;
	if (len > max_frame || len == 0)
		return 0;
	return (len + slot - 1) / slot;
}

/* Give mbufs back: straight to their pool under MBUF_FAST_FREE (the
 * application promised one pool, refcnt 1, direct), when every one is a
 * single segment; else the general path. */
static inline void tx_free(const struct ivshmem_txq *txq,
			   struct rte_mbuf **pkts, unsigned int n, bool single)
{
	if (n == 0)
		return;
	if (txq->fast_free && single)
		rte_mempool_put_bulk(pkts[0]->pool, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

/*
 * The leading run of single-segment mbufs of a sendable length goes
 * through the port's copying burst: one pass that prefetches the slots,
 * copies and writes each descriptor. @return frames sent (and freed);
 * *full is set when the ring ran out of slots.
 */
static uint16_t tx_single_run(struct ivshmem_txq *txq, struct rte_mbuf **pkts,
			      uint16_t n, uint32_t max_frame, bool *full)
{
	struct ivsh_pkt buf[IVSHMEM_TX_RUN];
	uint64_t bytes = 0;
	uint16_t k, sent;

	if (n > IVSHMEM_TX_RUN)
		n = IVSHMEM_TX_RUN;
	for (k = 0; k < n; k++) {
		const struct rte_mbuf *m = pkts[k];
		uint32_t len = m->pkt_len;

		if (m->nb_segs != 1 || m->data_len != len ||
		    len - 1u >= max_frame)
			break;
		buf[k].data = rte_pktmbuf_mtod(m, void *);
		buf[k].len = len;
	}
	if (k == 0)
		return 0;
	sent = ivsh_port_tx_burst(txq->port, txq->qid, buf, k);
	for (uint16_t i = 0; i < sent; i++)
		bytes += buf[i].len;
	if (sent < k) {
		txq->st.ring_full++;
		*full = true;
	}
	tx_free(txq, pkts, sent, true);
	txq->st.packets += sent;
	txq->st.bytes += bytes;
	return sent;
}

/*
 * General path for the frames the run above does not take (chained
 * mbufs, bad lengths): one reservation, each mbuf copied into as many
 * slots as it needs, one commit. @return mbufs consumed (sent or dropped
 * as unsendable, and freed); *full is set when the ring ran out.
 */
static uint16_t tx_chained(struct ivshmem_txq *txq, struct rte_mbuf **pkts,
			   uint16_t n, uint32_t max_frame, bool *full)
{
	struct ivsh_seg segs[IVSHMEM_BURST_SEGS];
	const uint32_t slot = txq->slot_size;
	const uint32_t one_slot = RTE_MIN(slot, max_frame);
	unsigned int need = 0, end, got, used = 0, i;
	uint64_t bytes = 0, sent = 0;

	/* Slots for as many frames as fit in one reservation. */
	for (end = 0; end < n; end++) {
		unsigned int s = tx_frame_slots(pkts[end]->pkt_len, one_slot,
						slot, max_frame);

		if (need + s > IVSHMEM_BURST_SEGS)
			break;
		need += s;
	}
	got = need ? ivsh_port_tx_zc_reserve(txq->port, txq->qid, segs,
					     (uint16_t)need) : 0;
	for (i = 0; i < end; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = m->pkt_len;
		unsigned int s;

		if (unlikely(len > max_frame || len == 0)) {
			/* Never deliverable: consumed and counted. */
			txq->st.bad_len++;
			continue;
		}
		s = tx_slots_needed(&segs[used], got - used, len);
		if (s == 0) {
			txq->st.ring_full++;
			*full = true;
			break;
		}
		used += tx_copy_frame(txq, m, &segs[used]);
		bytes += len;
		sent++;
	}
	/* Also drops a reservation nothing was written to. Cannot fail
	 * with segments filled here; if it did, the frames are lost and
	 * counted. */
	if ((used > 0 || got > 0) &&
	    unlikely(ivsh_port_tx_zc_commit(txq->port, txq->qid, segs,
					    (uint16_t)used) != 0)) {
		txq->st.commit_failed += sent;
		bytes = 0;
		sent = 0;
	}
	tx_free(txq, pkts, i, false);
	txq->st.packets += sent;
	txq->st.bytes += bytes;
	return (uint16_t)i;
}

uint16_t ivshmem_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ivshmem_txq *txq = queue;
	const uint32_t max_frame = txq->pi->max_frame;
	uint16_t done = 0;
	bool full = false;

	if (unlikely(!atomic_load_explicit(&txq->pi->link_up,
					   memory_order_relaxed))) {
		txq->st.link_down++;
		return 0;
	}
	while (done < n && !full) {
		uint16_t k = tx_single_run(txq, &pkts[done], n - done,
					   max_frame, &full);

		if (k == 0 && !full)
			k = tx_chained(txq, &pkts[done], n - done, max_frame,
				       &full);
		done = (uint16_t)(done + k);
	}
	return done;
}
