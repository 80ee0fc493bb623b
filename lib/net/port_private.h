/* SPDX-License-Identifier: BSD-3-Clause */
/* Private state of ports. */
#ifndef IVSH_PORT_PRIVATE_H
#define IVSH_PORT_PRIVATE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ivsh_port.h"
#include "ivsh_ring.h"
#include "layout_v1.h"
#include "port_backoff.h"
#include "slot_copy.h"

/* Link liveness window: the peer's heartbeat must move within it. */
#define PORT_LIVENESS_MS 1000u
/* rx_wait wakes at least this often to keep the heartbeat going. */
#define PORT_WAIT_SLICE_MS 100

/*
 * Counters are written by one data-path thread and read by stats readers
 * on other threads: relaxed atomic loads and stores (plain moves on
 * x86), never read-modify-write.
 */
typedef _Atomic uint64_t ctr_t;

static inline void ctr_add(ctr_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline uint64_t ctr_get(const ctr_t *c)
{
	return atomic_load_explicit((ctr_t *)c, memory_order_relaxed);
}

/* One per (process, device): this peer's attachment to the layout. */
struct port_attach {
	struct port_attach *next;
	struct ivsh_dev *dev;
	uint8_t *base;
	uint64_t size;
	uint64_t shm_checked_ms; /* last ivsh_dev_check_shm() */
	struct ivsh_layout_info li;
	uint16_t self;
	uint32_t epoch;          /* own epoch for this attachment */
	struct lay_peer *entry;  /* own peer entry */
	struct ivsh_port **ports;/* by peer ID, max_peers entries */
	int refs;
	uint64_t removal_checked_ms; /* last ivsh_dev_check_removed() */
};

/* Device removal is checked this often by link_update (a system call). */
#define PORT_REMOVAL_CHECK_MS 10u
/* How often link updates check that the memory was not truncated. */
#define PORT_SHM_CHECK_MS 100

struct tx_counters {
	ctr_t packets, bytes, errors, ring_full, bad_index, doorbells,
		doorbell_errors;
};

struct rx_counters {
	ctr_t packets, bytes, bad_len, chain_long, chain_unterm, empty,
		nobuf, bad_index, resets, reset_dropped, bad_gen, wakeups,
		spurious, backoffs, notices, notice_backoffs;
};

/* Transmit side of a queue: channel (self -> peer, q), producer. */
struct port_txq {
	alignas(64) struct ivsh_ring_prod ring; /* over the descriptors */
	uint8_t *slots;
	uint32_t slot_size;
	uint32_t max_segs;
	uint32_t max_frame;
	uint32_t max_one_slot;   /* min(slot_size, max_frame): fast path */
	uint32_t last_kick;      /* kick value last answered */
	const struct lay_chan_kick *kick;
	struct ivsh_port *port;
	slot_copy_fn copy;       /* the port's slot copy (slot_copy.h) */
	uint16_t q;
	bool prefetchw;          /* the CPU has PREFETCHW (port_prefetch.h) */
	alignas(64) struct tx_counters c;
	/* reservation of tx_zc_reserve */
	uint32_t zc_reserved;
};

/* Receive side of a queue: channel (peer -> self, q), consumer. */
struct port_rxq {
	alignas(64) struct ivsh_ring_cons ring;
	const uint8_t *slots;
	uint32_t slot_size;
	uint32_t max_segs;
	uint32_t max_one_slot;   /* min(slot_size, IVSH_PORT_MAX_FRAME) */
	slot_copy_fn copy;       /* the port's slot copy (slot_copy.h) */
	const struct lay_chan_prod *pline; /* prod + gen */
	struct lay_chan_kick *kick;
	uint32_t peer_epoch;     /* producer gen epoch we are synced to */
	uint32_t kick_seq;
	uint32_t zc_segs;        /* segments handed out by the last peek */
	uint32_t *zc_seg;        /* per peeked segment: len | ZC_LAST */
	/*
	 * Slots kept with rx_zc_keep() live between the published consumer
	 * index (cons_pub) and head until given back; held[idx] is 1 from
	 * keep to give. Only the owner thread moves cons_pub and sets held;
	 * ivsh_port_rx_zc_give() (any thread) clears it.
	 */
	uint32_t cons_pub;
	_Atomic uint8_t *held;
	uint16_t q;
	struct port_backoff bo;  /* interrupt mode: spurious wake-ups */
	alignas(64) struct rx_counters c;
};

struct port_stats_base {
	struct ivsh_port_queue_stats *q; /* per queue snapshot at reset */
	uint64_t *x;                     /* xstats snapshot at reset */
};

struct ivsh_port {
	struct port_attach *at;
	struct ivsh_dev *dev;
	uint16_t self;
	uint16_t peer;
	uint16_t nb_queues;
	bool intr;
	uint8_t mac[6];
	struct lay_peer *peer_entry;
	const struct slot_copy *copy; /* chosen at open */
	unsigned int own_vectors;

	/* Read by the tx path, written by link_update(). */
	_Atomic uint16_t peer_vectors;
	_Atomic int link;

	/* link_update() private state */
	uint32_t known_peer_epoch;
	uint64_t last_hb;
	uint64_t last_change_ms;
	bool hb_moved;
	ctr_t peer_restarts, link_changes, layout_lost;

	struct port_txq *txq;
	struct port_rxq *rxq;
	struct port_stats_base base;
};

#define ZC_LAST 0x80000000u

/* Counter list shared by xstats and stats_reset. */
unsigned int port_xstats_count(void);

/* Return given-back kept slots to the producer (receiving thread). */
void port_rxq_reclaim(struct port_rxq *rq);

/*
 * Resolve IVSH_PORT_PEER_AUTO for an attachment whose entry is up: the
 * other ID of a two-peer layout, else wait for exactly one other live
 * peer. 0 or -ENOTUNIQ, -ETIMEDOUT, -EINTR, -ENOMEM (reason in @p err).
 */
int port_auto_peer(struct port_attach *at, const struct ivsh_port_conf *conf,
		   uint16_t *peer, char *err, size_t errlen);

/* Advance this peer's heartbeat. */
void port_heartbeat(struct ivsh_port *port);

#endif /* IVSH_PORT_PRIVATE_H */
