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
 * Bytes in shared memory are only ever read once (by the copy).
 */
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "ivshmem_ethdev.h"

enum frame_result { FRAME_OK, FRAME_DROPPED, FRAME_NOMEM };

/*
 * Copy the frame in segs[0..nsegs-1] (total @len bytes) into @head, a
 * freshly allocated mbuf, adding more mbufs when needed.
 */
static enum frame_result rx_copy_frame(struct ivshmem_rxq *rxq,
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
			rte_memcpy(rte_pktmbuf_mtod_offset(dst, uint8_t *,
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

uint16_t ivshmem_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ivshmem_rxq *rxq = queue;
	struct ivsh_seg segs[IVSHMEM_BURST_SEGS];
	struct rte_mbuf *heads[IVSHMEM_BURST_SEGS];
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;

	while (nb_rx < n) {
		unsigned int want = n - nb_rx, got, used = 0, nheads, h = 0;

		/* A segment per wanted frame, but always room for the
		 * longest frame, or it could never be received. */
		got = ivsh_port_rx_zc_peek(rxq->port, rxq->qid, segs,
			(uint16_t)RTE_MIN(RTE_MAX(want, rxq->peek_min),
					  IVSHMEM_BURST_SEGS));
		if (got == 0)
			break;
		/* One head mbuf per frame, allocated in bulk (the common case
		 * is one segment per frame). */
		nheads = 0;
		for (unsigned int i = 0; i < got && nheads < want; i++)
			if (!(segs[i].flags & IVSH_SEG_MORE))
				nheads++;
		if (unlikely(rte_pktmbuf_alloc_bulk(rxq->mp, heads, nheads) != 0)) {
			rxq->st.nombuf++;
			break;
		}
		while (used < got && h < nheads) {
			unsigned int end = used;
			uint32_t len = segs[used].len;
			enum frame_result r;

			while (end + 1 < got && (segs[end].flags & IVSH_SEG_MORE))
				len += segs[++end].len;
			if (unlikely(segs[end].flags & IVSH_SEG_MORE))
				break; /* the peek ends on a frame boundary */
			r = rx_copy_frame(rxq, heads[h], &segs[used],
					  end - used + 1, len);
			if (unlikely(r == FRAME_NOMEM)) {
				rxq->st.nombuf++;
				break;
			}
			used = end + 1;
			if (unlikely(r == FRAME_DROPPED)) {
				rte_pktmbuf_reset(heads[h]);
				continue;
			}
			bytes += len;
			pkts[nb_rx++] = heads[h++];
		}
		/* Unused heads (and a half-built chain) go back to the pool. */
		if (h < nheads)
			rte_pktmbuf_free_bulk(&heads[h], nheads - h);
		ivsh_port_rx_zc_release(rxq->port, rxq->qid, (uint16_t)used);
		if (used < got)
			break;
	}
	rxq->st.packets += nb_rx;
	rxq->st.bytes += bytes;
	return nb_rx;
}

/* Copy @m (pkt_len bytes over its segments) into segs[0..], which hold at
 * least pkt_len bytes of capacity. @return slots used. */
static unsigned int tx_copy_frame(const struct rte_mbuf *m,
				  struct ivsh_seg *segs)
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
			rte_memcpy(dst, src, n);
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

uint16_t ivshmem_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ivshmem_txq *txq = queue;
	struct ivsh_seg segs[IVSHMEM_BURST_SEGS];
	uint32_t max_frame = txq->pi->max_frame;
	uint32_t slot = txq->slot_size;
	uint16_t done = 0;
	uint64_t bytes = 0, sent = 0;
	unsigned int i = 0;

	if (unlikely(!atomic_load_explicit(&txq->pi->link_up,
					   memory_order_relaxed))) {
		txq->st.link_down++;
		return 0;
	}
	while (done < n) {
		unsigned int need = 0, end, got, used = 0;

		/* Slots for as many frames as fit in one reservation. */
		for (end = done; end < n; end++) {
			uint32_t len = pkts[end]->pkt_len;
			unsigned int s = len > max_frame || len == 0 ? 0 :
				(len + slot - 1) / slot;

			if (need + s > IVSHMEM_BURST_SEGS)
				break;
			need += s;
		}
		got = need ? ivsh_port_tx_zc_reserve(txq->port, txq->qid, segs,
						     (uint16_t)need) : 0;
		for (i = done; i < end; i++) {
			uint32_t len = pkts[i]->pkt_len;
			unsigned int s;

			if (unlikely(len > max_frame || len == 0)) {
				/* Never deliverable: consumed and counted. */
				txq->st.bad_len++;
				continue;
			}
			s = tx_slots_needed(&segs[used], got - used, len);
			if (s == 0) {
				txq->st.ring_full++;
				break;
			}
			s = tx_copy_frame(pkts[i], &segs[used]);
			used += s;
			bytes += len;
			sent++;
		}
		/* Also drops a reservation nothing was written to. Cannot
		 * fail with segments filled here; if it did, the frames are
		 * lost and counted. */
		if ((used > 0 || got > 0) &&
		    unlikely(ivsh_port_tx_zc_commit(txq->port, txq->qid, segs,
						    (uint16_t)used) != 0)) {
			txq->st.commit_failed += sent;
			bytes = 0;
			sent = 0;
		}
		rte_pktmbuf_free_bulk(&pkts[done], i - done);
		done = (uint16_t)i;
		if (i < end)
			break;
	}
	txq->st.packets += sent;
	txq->st.bytes += bytes;
	return done;
}
