/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem zero-copy receive (devarg rx_zero_copy=1).
 *
 * Each mbuf's data is a slot of the shared ring, attached as an external
 * buffer: nothing is copied. The port keeps the slot out of the
 * producer's reach until the mbuf (and every clone of it) is freed; the
 * free callback then gives the slot back, from whichever thread frees the
 * mbuf. Lengths were validated by the port; the bytes stay in memory the
 * peer can still write (doc/nics/ivshmem.md says what that means).
 *
 * With rx interrupts, a slot given back while the receiving lcore sleeps
 * must wake it: a producer waiting for room needs exactly that slot, and
 * the port returns it only at the next receive call.
 */
#include <stdatomic.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ivshmem_ethdev.h"

/* Per slot: what a free callback needs to give the slot back. */
struct zc_slot {
	struct rte_mbuf_ext_shared_info sh;
	struct ivshmem_zc *zc;
	uint32_t idx;
};

struct ivshmem_zc {
	struct ivsh_port *port;
	uint16_t qid;
	uint16_t buf_len;           /* slot size */
	bool may_sleep;             /* the port has rx interrupts */
	_Atomic int wake_fd;        /* armed for sleep: eventfd to write on a
				     * give; -1 otherwise */
	_Atomic uint64_t bad_gives; /* callbacks the port refused (a bug) */
	struct zc_slot slot[];      /* one per ring slot */
};

/* Wake the sleeping receiver once per arming. */
static void zc_wake(struct ivshmem_zc *zc)
{
	int fd = atomic_exchange_explicit(&zc->wake_fd, -1,
					  memory_order_relaxed);
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) != sizeof(one))
		IVSHMEM_LOG(DEBUG, "rx queue %u: wakeup after a give failed",
			    zc->qid);
}

static void zc_free_cb(void *addr, void *opaque)
{
	const struct zc_slot *s = opaque;
	struct ivshmem_zc *zc = s->zc;

	RTE_SET_USED(addr);
	if (unlikely(ivsh_port_rx_zc_give(zc->port, zc->qid, s->idx) != 0)) {
		atomic_fetch_add_explicit(&zc->bad_gives, 1,
					  memory_order_relaxed);
		return;
	}
	if (!zc->may_sleep)
		return; /* polling only: nobody to wake, no fence to pay */
	/* Pairs with the fence in ivshmem_zc_sleep_arm(): either the
	 * arming lcore sees this slot given back (and returns it before it
	 * sleeps), or we see it armed and wake it. */
	atomic_thread_fence(memory_order_seq_cst);
	if (unlikely(atomic_load_explicit(&zc->wake_fd,
					  memory_order_relaxed) >= 0))
		zc_wake(zc);
}

void ivshmem_zc_sleep_arm(struct ivshmem_zc *zc, int fd)
{
	if (zc == NULL)
		return;
	atomic_store_explicit(&zc->wake_fd, fd, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

void ivshmem_zc_sleep_disarm(struct ivshmem_zc *zc)
{
	if (zc != NULL)
		atomic_store_explicit(&zc->wake_fd, -1, memory_order_relaxed);
}

struct ivshmem_zc *ivshmem_zc_create(struct ivsh_port *port, uint16_t qid,
				     int socket_id)
{
	uint32_t ring = ivsh_port_ring_size(port);
	uint32_t slot = ivsh_port_slot_size(port);
	struct ivshmem_zc *zc;

	if (slot > UINT16_MAX) {
		IVSHMEM_LOG(ERR, "rx_zero_copy=1 needs slots of at most 65535 bytes (an mbuf's buf_len), the layout has %u",
			    slot);
		return NULL;
	}
	zc = rte_zmalloc_socket("net_ivshmem_zc",
				sizeof(*zc) + ring * sizeof(zc->slot[0]),
				RTE_CACHE_LINE_SIZE, socket_id);
	if (zc == NULL) {
		IVSHMEM_LOG(ERR, "rx_zero_copy=1: out of memory for %u slot records",
			    ring);
		return NULL;
	}
	zc->port = port;
	zc->qid = qid;
	zc->buf_len = (uint16_t)slot;
	atomic_init(&zc->wake_fd, -1);
	zc->may_sleep = ivsh_port_rx_intr_fd(port, qid) >= 0;
	for (uint32_t i = 0; i < ring; i++) {
		zc->slot[i].sh.free_cb = zc_free_cb;
		zc->slot[i].sh.fcb_opaque = &zc->slot[i];
		zc->slot[i].zc = zc;
		zc->slot[i].idx = i;
	}
	return zc;
}

uint32_t ivshmem_zc_held(const struct ivshmem_zc *zc)
{
	return zc == NULL ? 0 : ivsh_port_rx_zc_held(zc->port, zc->qid);
}

uint64_t ivshmem_zc_bad_gives(const struct ivshmem_zc *zc)
{
	return zc == NULL ? 0 :
		atomic_load_explicit(&zc->bad_gives, memory_order_relaxed);
}

bool ivshmem_zc_destroy(struct ivshmem_zc *zc)
{
	if (zc == NULL)
		return true;
	ivshmem_zc_sleep_disarm(zc); /* the fd goes with the queue */
	if (ivshmem_zc_held(zc) != 0)
		return false; /* mbufs still point here: keep it */
	rte_free(zc);
	return true;
}

/* Point raw mbuf @m at the slot of @seg, refcount 1. */
static inline void zc_attach(const struct ivshmem_rxq *rxq,
			     struct ivshmem_zc *zc, struct rte_mbuf *m,
			     const struct ivsh_seg *seg)
{
	struct rte_mbuf_ext_shared_info *sh = &zc->slot[seg->slot].sh;

	ivshmem_rx_mbuf_init(rxq, m, 0);
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, seg->data, RTE_BAD_IOVA, zc->buf_len, sh);
	m->data_len = (uint16_t)seg->len;
	m->pkt_len = seg->len;
}

/*
 * One peek per burst. Frames of at most IVSHMEM_ZC_COPY_MAX bytes are
 * copied (cheaper than attaching, and the slot goes straight back); the
 * others get an mbuf per slot pointing into it (a chain per jumbo frame,
 * with the scatter offload; without it, a jumbo frame that fits one mbuf
 * is copied into it). Frames that cannot be delivered are kept and given
 * straight back, like the rest.
 */
uint16_t ivshmem_rx_burst_zc(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct ivshmem_rxq *rxq = queue;
	struct ivshmem_zc *zc = rxq->zc;
	struct ivsh_seg segs[IVSHMEM_BURST_SEGS];
	struct rte_mbuf *mb[IVSHMEM_BURST_SEGS];
	const uint32_t copy_max = RTE_MIN(rxq->room, (uint32_t)IVSHMEM_ZC_COPY_MAX);
	unsigned int got, used = 0, nsegs = 0, i;
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;
	bool attach = false;

	if (unlikely(n == 0))
		return 0;
	got = ivshmem_rx_peek(rxq, segs, n);
	if (got == 0)
		return 0;
	/* Segments of the first n frames at most; any to attach? */
	for (i = 0; i < got && nb_rx < n; i++) {
		nsegs++;
		nb_rx += !(segs[i].flags & IVSH_SEG_MORE);
		attach |= segs[i].len > copy_max || (segs[i].flags & IVSH_SEG_MORE);
	}
	nb_rx = 0;
	if (unlikely(rte_mempool_get_bulk(rxq->mp, (void **)mb, nsegs) != 0)) {
		rxq->st.nombuf++;
		ivsh_port_rx_zc_release(rxq->port, rxq->qid, 0);
		return 0;
	}
	if (!attach) {
		/* Small frames only: copy them all, release the slots. */
		for (i = 0; i < nsegs; i++) {
			ivshmem_rx_copy_one(rxq, mb[i], &segs[i]);
			pkts[i] = mb[i];
			bytes += segs[i].len;
		}
		ivsh_port_rx_zc_release(rxq->port, rxq->qid, (uint16_t)nsegs);
		rxq->st.packets += nsegs;
		rxq->st.bytes += bytes;
		return (uint16_t)nsegs;
	}
	ivsh_port_rx_zc_keep(rxq->port, rxq->qid, (uint16_t)nsegs);
	while (used < nsegs) {
		struct rte_mbuf *head = mb[used];
		unsigned int end = used;
		uint32_t len = segs[used].len;

		while (segs[end].flags & IVSH_SEG_MORE)
			len += segs[++end].len;
		if (end == used && len <= copy_max) {
			ivshmem_rx_copy_one(rxq, head, &segs[used]);
			ivsh_port_rx_zc_give(rxq->port, rxq->qid, segs[used].slot);
		} else if (unlikely(end > used && !rxq->scatter &&
				    len <= rxq->room)) {
			/* Fits one mbuf: copied, as without zero copy. */
			rte_pktmbuf_reset(head);
			(void)ivshmem_rx_copy_frame(rxq, head, &segs[used],
						    end - used + 1, len);
			for (i = used; i <= end; i++)
				ivsh_port_rx_zc_give(rxq->port, rxq->qid,
						     segs[i].slot);
			rte_mempool_put_bulk(rxq->mp, (void **)&mb[used + 1],
					     end - used);
		} else if (unlikely(end > used && !rxq->scatter)) {
			/* Longer than one mbuf without scatter: dropped. */
			rxq->st.no_scatter++;
			rxq->st.no_scatter_bytes += len;
			for (i = used; i <= end; i++)
				ivsh_port_rx_zc_give(rxq->port, rxq->qid,
						     segs[i].slot);
			rte_mempool_put_bulk(rxq->mp, (void **)&mb[used],
					     end - used + 1);
			used = end + 1;
			continue;
		} else {
			zc_attach(rxq, zc, head, &segs[used]);
			for (i = used + 1; i <= end; i++) {
				zc_attach(rxq, zc, mb[i], &segs[i]);
				mb[i - 1]->next = mb[i];
			}
			head->nb_segs = (uint16_t)(end - used + 1);
			head->pkt_len = len;
		}
		pkts[nb_rx++] = head;
		bytes += len;
		used = end + 1;
	}
	rxq->st.packets += nb_rx;
	rxq->st.bytes += bytes;
	return nb_rx;
}
