/* SPDX-License-Identifier: BSD-3-Clause */
/* Layout v1: sizes, header validation, initialisation and waiting. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "layout_v1.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int ivsh_layout_params_check(const struct ivsh_layout_params *p,
			     const char **why)
{
	const char *w = NULL;

	if (p->max_peers < IVSH_LAYOUT_MIN_PEERS ||
	    p->max_peers > IVSH_LAYOUT_MAX_PEERS)
		w = "max_peers must be 2..256";
	else if (p->queues_per_link < 1 ||
		 p->queues_per_link > IVSH_LAYOUT_MAX_QUEUES)
		w = "queues_per_link must be 1..64";
	else if (!is_pow2(p->ring_size) || p->ring_size < IVSH_LAYOUT_MIN_RING ||
		 p->ring_size > IVSH_LAYOUT_MAX_RING)
		w = "ring_size must be a power of two in 16..65536";
	else if (p->slot_size % 64 != 0 || p->slot_size < IVSH_LAYOUT_MIN_SLOT ||
		 p->slot_size > IVSH_LAYOUT_MAX_SLOT)
		w = "slot_size must be a multiple of 64 in 64..65536";
	if (why != NULL)
		*why = w;
	return w == NULL ? 0 : -EINVAL;
}

int ivsh_layout_compute(const struct ivsh_layout_params *p,
			struct ivsh_layout_info *li)
{
	if (ivsh_layout_params_check(p, NULL) < 0)
		return -EINVAL;
	memset(li, 0, sizeof(*li));
	li->p = *p;
	li->version = IVSH_LAYOUT_VERSION;
	li->peers_off = IVSH_LAYOUT_HEADER_SIZE;
	li->channels_off = align_up(IVSH_LAYOUT_HEADER_SIZE +
				    (uint64_t)p->max_peers *
					    IVSH_LAYOUT_PEER_SIZE,
				    LAY_CHAN_PAGE);
	li->slots_off = align_up(LAY_CHAN_DESC_OFF +
				 (uint64_t)p->ring_size * LAY_DESC_SIZE, 64);
	li->channel_size = align_up(li->slots_off + (uint64_t)p->ring_size *
							    p->slot_size,
				    LAY_CHAN_PAGE);
	li->nb_channels = (uint32_t)p->max_peers * (p->max_peers - 1u) *
			  p->queues_per_link;
	/* At most 256 * 255 * 64 channels of <= 4 GiB: fits in 64 bits. */
	li->layout_size = li->channels_off +
			  (uint64_t)li->nb_channels * li->channel_size;
	return 0;
}

uint64_t ivsh_layout_size(const struct ivsh_layout_params *p)
{
	struct ivsh_layout_info li;

	if (ivsh_layout_compute(p, &li) < 0)
		return 0;
	return li.layout_size;
}

uint64_t ivsh_layout_channel_off(const struct ivsh_layout_info *li,
				 uint16_t src, uint16_t dst, uint16_t q)
{
	uint16_t n = li->p.max_peers;

	if (src >= n || dst >= n || src == dst || q >= li->p.queues_per_link)
		return 0;
	uint64_t idx = ((uint64_t)src * (n - 1u) + (dst < src ? dst : dst - 1u)) *
			       li->p.queues_per_link + q;
	return li->channels_off + idx * li->channel_size;
}

int ivsh_layout_read_info(const void *shm, uint64_t size,
			  struct ivsh_layout_info *info, const char **why)
{
	const struct lay_hdr *h = shm;
	struct lay_hdr copy;
	struct ivsh_layout_info li;
	const char *w = NULL;
	int rc = -EPROTO;

	if (why != NULL)
		*why = NULL;
	if (shm == NULL || size < IVSH_LAYOUT_HEADER_SIZE) {
		if (why != NULL)
			*why = "region too small for a layout header";
		return -EINVAL;
	}
	/*
	 * Seqlock-style copy: (epoch, state) before and after the copy; a
	 * master re-initialising the header meanwhile makes us wait instead
	 * of judging a torn copy. state goes ready -> initializing -> ready,
	 * so it alone cannot tell; the epoch, bumped by every
	 * initialisation, must be read BEFORE the copy:
	 * - epoch acquire pairs with the master's release store of the new
	 *   epoch: if we see it, its whole header is visible;
	 * - state acquire pairs with the master's release store of "ready":
	 *   the header fields were written before it;
	 * - the fence after the copy pairs with the master's release fence
	 *   after "initializing": if the copy saw any byte of a new header,
	 *   state2 is "initializing", or "ready" with epoch2 the new epoch
	 *   (state2 acquire, so epoch2 is at least the epoch stored before
	 *   that "ready"), and either differs from what we read first.
	 */
	struct lay_hdr *hw = (struct lay_hdr *)h;
	uint32_t epoch = atomic_load_explicit(&hw->epoch, memory_order_acquire);
	uint32_t state = atomic_load_explicit(&hw->state, memory_order_acquire);
	memcpy(&copy, h, offsetof(struct lay_hdr, state));
	memcpy(&copy.peers_off, &h->peers_off, 32); /* up to identity */
	atomic_thread_fence(memory_order_acquire);
	uint32_t state2 = atomic_load_explicit(&hw->state, memory_order_acquire);
	uint32_t epoch2 = atomic_load_explicit(&hw->epoch, memory_order_relaxed);

	if (state == IVSH_LAYOUT_INITIALIZING || state2 != state ||
	    epoch2 != epoch) {
		w = "layout being initialised";
		rc = -EAGAIN;
		goto out;
	}
	if (copy.magic == 0) {
		w = "layout not initialised yet";
		rc = -EAGAIN;
		goto out;
	}
	if (copy.magic != IVSH_LAYOUT_MAGIC) {
		w = "unknown layout magic";
		goto out;
	}
	if (copy.version != IVSH_LAYOUT_VERSION) {
		w = "unsupported layout version";
		goto out;
	}
	if (state == IVSH_LAYOUT_UNINIT) {
		w = "layout not initialised yet";
		rc = -EAGAIN;
		goto out;
	}
	if (state != IVSH_LAYOUT_READY) {
		w = "invalid layout state";
		goto out;
	}
	if (copy.header_size != IVSH_LAYOUT_HEADER_SIZE) {
		w = "invalid header size";
		goto out;
	}
	if (copy.features != 0) {
		w = "layout uses unknown features";
		goto out;
	}
	struct ivsh_layout_params p = {
		.max_peers = copy.max_peers,
		.queues_per_link = copy.queues_per_link,
		.ring_size = copy.ring_size,
		.slot_size = copy.slot_size,
	};
	if (ivsh_layout_params_check(&p, &w) < 0)
		goto out;
	ivsh_layout_compute(&p, &li);
	if (copy.peers_off != li.peers_off ||
	    copy.channels_off != li.channels_off ||
	    copy.channel_size != li.channel_size ||
	    copy.layout_size != li.layout_size) {
		w = "layout offsets do not match its parameters";
		goto out;
	}
	if (li.layout_size > size) {
		w = "layout is larger than the region";
		goto out;
	}
	li.state = state;
	li.epoch = epoch;
	li.features = copy.features;
	li.region_size = copy.region_size;
	li.identity = copy.identity;
	if (info != NULL)
		*info = li;
	return 0;
out:
	if (why != NULL)
		*why = w;
	return rc;
}

static void hdr_write(struct lay_hdr *h, const struct ivsh_layout_info *li,
		      uint64_t size)
{
	h->magic = IVSH_LAYOUT_MAGIC;
	h->version = IVSH_LAYOUT_VERSION;
	h->header_size = IVSH_LAYOUT_HEADER_SIZE;
	h->region_size = size;
	h->layout_size = li->layout_size;
	h->max_peers = li->p.max_peers;
	h->queues_per_link = li->p.queues_per_link;
	h->ring_size = li->p.ring_size;
	h->slot_size = li->p.slot_size;
	h->features = 0;
	h->peers_off = li->peers_off;
	h->channels_off = li->channels_off;
	h->channel_size = li->channel_size;
	h->identity = li->identity;
}

/* The region's identity: random, never 0 (0 means "none"). */
static uint64_t new_identity(void)
{
	uint64_t id = 0;
	struct timespec ts;

	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		id = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
		     (uint64_t)getpid() << 32;
	}
	return id != 0 ? id : 1;
}

int lay_master_init(void *base, uint64_t size,
		    const struct ivsh_layout_params *p,
		    struct ivsh_layout_info *out, char *err, size_t errlen)
{
	struct ivsh_layout_info li, cur;
	const char *why;
	struct lay_hdr *h = lay_hdr(base);

	if (ivsh_layout_params_check(p, &why) < 0) {
		snprintf(err, errlen, "bad layout parameters: %s", why);
		return -EINVAL;
	}
	ivsh_layout_compute(p, &li);
	if (li.layout_size > size) {
		snprintf(err, errlen,
			 "layout needs %" PRIu64 " bytes (%u peers, %u queues, "
			 "ring %u x slot %u) but the region has %" PRIu64,
			 li.layout_size, p->max_peers, p->queues_per_link,
			 p->ring_size, p->slot_size, size);
		return -ENOSPC;
	}
	/* A ready layout with the same parameters is kept (master restart). */
	if (ivsh_layout_read_info(base, size, &cur, NULL) == 0 &&
	    cur.p.max_peers == p->max_peers &&
	    cur.p.queues_per_link == p->queues_per_link &&
	    cur.p.ring_size == p->ring_size && cur.p.slot_size == p->slot_size) {
		*out = cur;
		return 0;
	}
	uint32_t old_epoch = 0;
	if (h->magic == IVSH_LAYOUT_MAGIC)
		old_epoch = atomic_load_explicit(&h->epoch,
						 memory_order_relaxed);
	atomic_store_explicit(&h->state, IVSH_LAYOUT_INITIALIZING,
			      memory_order_relaxed);
	/* Keep the state store ahead of the clearing below. */
	atomic_thread_fence(memory_order_release);
	memset((uint8_t *)base + IVSH_LAYOUT_HEADER_SIZE, 0,
	       li.layout_size - IVSH_LAYOUT_HEADER_SIZE);
	li.identity = new_identity();
	hdr_write(h, &li, size);
	uint32_t epoch = old_epoch + 1 == 0 ? 1 : old_epoch + 1;
	/* Release pairs with the acquire load of epoch in read_info(): a
	 * reader that sees the new epoch sees the header written above. */
	atomic_store_explicit(&h->epoch, epoch, memory_order_release);
	/* Release pairs with the acquire load of state in read_info(): all
	 * of the above is visible to a peer that sees "ready". */
	atomic_store_explicit(&h->state, IVSH_LAYOUT_READY,
			      memory_order_release);
	li.state = IVSH_LAYOUT_READY;
	li.epoch = epoch;
	li.region_size = size;
	*out = li;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int lay_wait_ready(const void *base, uint64_t size, int timeout_ms,
		   struct ivsh_layout_info *out, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	const char *why = NULL;
	int rc;

	for (;;) {
		rc = ivsh_layout_read_info(base, size, out, &why);
		if (rc != -EAGAIN)
			break;
		if (now_ms() >= deadline) {
			snprintf(err, errlen,
				 "timed out after %d ms waiting for the master "
				 "(peer 0) to initialise the layout (%s)",
				 timeout_ms, why);
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	if (rc < 0)
		snprintf(err, errlen, "invalid shared-memory layout: %s", why);
	return rc;
}

/* ------------------------------------------------------------------ */

static const char *state_name(uint32_t s)
{
	switch (s) {
	case IVSH_LAYOUT_UNINIT: return "uninit";
	case IVSH_LAYOUT_INITIALIZING: return "initializing";
	case IVSH_LAYOUT_READY: return "ready";
	default: return "invalid";
	}
}

int ivsh_layout_describe(const void *shm, uint64_t size, FILE *out)
{
	struct ivsh_layout_info li;
	const char *why;
	int rc = ivsh_layout_read_info(shm, size, &li, &why);

	if (rc < 0) {
		fprintf(out, "layout: %s\n", why ? why : "unreadable");
		if (rc == -EINVAL)
			return rc;
		const struct lay_hdr *h = shm;
		fprintf(out, "  magic 0x%08x version %u state %u\n", h->magic,
			h->version, atomic_load_explicit(
				&((struct lay_hdr *)h)->state,
				memory_order_relaxed));
		return rc;
	}
	fprintf(out,
		"layout v%u: state %s, epoch %u, identity %016" PRIx64
		", region %" PRIu64
		" bytes (mapped %" PRIu64 "), used %" PRIu64 "\n"
		"  max_peers %u, queues_per_link %u, ring_size %u, "
		"slot_size %u, features 0x%x\n"
		"  peers at %" PRIu64 ", %u channels of %" PRIu64
		" bytes at %" PRIu64 "\n",
		li.version, state_name(li.state), li.epoch, li.identity,
		li.region_size,
		size, li.layout_size, li.p.max_peers, li.p.queues_per_link,
		li.p.ring_size, li.p.slot_size, li.features, li.peers_off,
		li.nb_channels, li.channel_size, li.channels_off);
	void *base = (void *)(uintptr_t)shm;
	for (uint16_t i = 0; i < li.p.max_peers; i++) {
		struct lay_peer *pe = lay_peer(base, &li, i);
		uint32_t st = atomic_load_explicit(&pe->state,
						   memory_order_relaxed);
		uint32_t ep = atomic_load_explicit(&pe->epoch,
						   memory_order_relaxed);
		uint64_t hb = atomic_load_explicit(&pe->heartbeat,
						   memory_order_relaxed);
		uint16_t vec = atomic_load_explicit(&pe->vectors,
						    memory_order_relaxed);
		uint8_t m[6];
		memcpy(m, pe->mac, 6);
		if (st == LAY_PEER_DOWN && ep == 0)
			continue;
		fprintf(out,
			"  peer %u: %s epoch %u heartbeat %" PRIu64
			" vectors %u mac %02x:%02x:%02x:%02x:%02x:%02x\n",
			i, st == LAY_PEER_UP ? "up" : st == LAY_PEER_DOWN ? "down" : "invalid",
			ep, hb, vec, m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	for (uint16_t s = 0; s < li.p.max_peers; s++) {
		for (uint16_t d = 0; d < li.p.max_peers; d++) {
			for (uint16_t q = 0; s != d && q < li.p.queues_per_link; q++) {
				uint8_t *ch = lay_chan(base, &li, s, d, q);
				uint32_t pi = atomic_load_explicit(
					&LAY_CHAN_PROD(ch)->prod, memory_order_relaxed);
				uint64_t gen = atomic_load_explicit(
					&LAY_CHAN_PROD(ch)->gen, memory_order_relaxed);
				uint32_t ci = atomic_load_explicit(
					&LAY_CHAN_CONS(ch)->cons, memory_order_relaxed);
				uint32_t k = atomic_load_explicit(
					&LAY_CHAN_KICK(ch)->kick, memory_order_relaxed);
				if (pi == 0 && ci == 0 && gen == 0 && k == 0)
					continue;
				uint32_t fill = pi - ci;
				fprintf(out,
					"  channel %u->%u q%u: prod %u cons %u fill %u%s "
					"gen epoch %u start %u kick %u\n",
					s, d, q, pi, ci, fill,
					fill > li.p.ring_size ? " (INVALID)" : "",
					(uint32_t)(gen >> 32), (uint32_t)gen, k);
			}
		}
	}
	return 0;
}
