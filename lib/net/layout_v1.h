/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * C view of the layout v1 structures in shared memory (doc/layout-v1.md).
 * Private to lib/net. Every struct here sits in memory that
 * peers write: read fields once into locals and validate them.
 */
#ifndef IVSH_LAYOUT_V1_H
#define IVSH_LAYOUT_V1_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ivsh_layout.h"
#include "ivsh_ring.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "layout v1 is little-endian; this port maps fields natively"
#endif

/* Header: written by the master only. */
struct lay_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t header_size;
	uint64_t region_size;
	uint64_t layout_size;
	uint16_t max_peers;
	uint16_t queues_per_link;
	uint32_t ring_size;
	uint32_t slot_size;
	uint32_t features;
	_Atomic uint32_t state;
	_Atomic uint32_t epoch;
	uint64_t peers_off;
	uint64_t channels_off;
	uint64_t channel_size;
	uint64_t identity;      /* random, non-zero; 0: an older master */
	uint8_t reserved[IVSH_LAYOUT_HEADER_SIZE - 80];
};

enum { LAY_PEER_DOWN = 0, LAY_PEER_UP = 1 };

/* Peer table entry: written by its peer only. */
struct lay_peer {
	_Atomic uint32_t state;
	_Atomic uint32_t epoch;
	_Atomic uint64_t heartbeat;
	_Atomic uint16_t vectors;
	uint8_t mac[6];
	uint8_t reserved[IVSH_LAYOUT_PEER_SIZE - 24];
};

/* Channel lines. */
#define LAY_CHAN_PROD_OFF 0u
#define LAY_CHAN_CONS_OFF 128u
#define LAY_CHAN_KICK_OFF 256u
#define LAY_CHAN_DESC_OFF 384u
#define LAY_CHAN_PAGE 4096u

struct lay_chan_prod {      /* written by the source */
	ivsh_ring_idx_t prod;
	uint32_t reserved0;
	_Atomic uint64_t gen;   /* epoch << 32 | start index */
};

struct lay_chan_cons {      /* written by the destination */
	ivsh_ring_idx_t cons;
};

struct lay_chan_kick {      /* written by the destination */
	_Atomic uint32_t kick;
	/* Last non-zero kick value stored, kept across restarts so that a
	 * new life never re-arms with a value the producer already
	 * answered (that would be a lost wake-up). */
	_Atomic uint32_t seq;
};

/* Descriptor: len (low 32 bits) | flags (high 32 bits). */
typedef _Atomic uint64_t lay_desc_t;
#define LAY_DESC_MORE 0x1u
#define LAY_DESC_SIZE 8u

static inline uint64_t lay_desc_make(uint32_t len, uint32_t flags)
{
	return (uint64_t)flags << 32 | len;
}

_Static_assert(sizeof(struct lay_hdr) == IVSH_LAYOUT_HEADER_SIZE,
	       "header size");
_Static_assert(offsetof(struct lay_hdr, state) == 40, "state offset");
_Static_assert(offsetof(struct lay_hdr, channel_size) == 64, "hdr offsets");
_Static_assert(offsetof(struct lay_hdr, identity) == 72, "identity offset");
_Static_assert(sizeof(struct lay_peer) == IVSH_LAYOUT_PEER_SIZE, "peer size");
_Static_assert(offsetof(struct lay_peer, mac) == 18, "peer offsets");
_Static_assert(offsetof(struct lay_chan_prod, gen) == 8, "gen offset");
_Static_assert(offsetof(struct lay_chan_kick, seq) == 4, "kick seq offset");
_Static_assert(sizeof(lay_desc_t) == LAY_DESC_SIZE, "descriptor size");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
	       "shared-memory atomics must be lock-free");

static inline struct lay_hdr *lay_hdr(void *base)
{
	return (struct lay_hdr *)base;
}

static inline struct lay_peer *lay_peer(void *base,
					const struct ivsh_layout_info *li,
					uint16_t id)
{
	return (struct lay_peer *)((uint8_t *)base + li->peers_off +
				   (uint64_t)id * IVSH_LAYOUT_PEER_SIZE);
}

static inline uint8_t *lay_chan(void *base, const struct ivsh_layout_info *li,
				uint16_t src, uint16_t dst, uint16_t q)
{
	return (uint8_t *)base + ivsh_layout_channel_off(li, src, dst, q);
}

#define LAY_CHAN_PROD(ch) ((struct lay_chan_prod *)((ch) + LAY_CHAN_PROD_OFF))
#define LAY_CHAN_CONS(ch) ((struct lay_chan_cons *)((ch) + LAY_CHAN_CONS_OFF))
#define LAY_CHAN_KICK(ch) ((struct lay_chan_kick *)((ch) + LAY_CHAN_KICK_OFF))
#define LAY_CHAN_DESC(ch) ((lay_desc_t *)((ch) + LAY_CHAN_DESC_OFF))

/*
 * Master side: make the region hold a ready layout with parameters @p p
 * (keeping an identical ready one). Fills @p out. On failure writes a
 * one-line reason to @p err. @return 0; -ENOSPC; -EINVAL.
 */
int lay_master_init(void *base, uint64_t size,
		    const struct ivsh_layout_params *p,
		    struct ivsh_layout_info *out, char *err, size_t errlen);

/*
 * Other peers: wait up to @p timeout_ms for a ready, valid layout.
 * @return 0; -ETIMEDOUT; -EPROTO; -EINVAL (reason in @p err).
 */
int lay_wait_ready(const void *base, uint64_t size, int timeout_ms,
		   struct ivsh_layout_info *out, char *err, size_t errlen);

#endif /* IVSH_LAYOUT_V1_H */
