/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: open/close, attachment to the layout, accessors. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_prefetch.h"
#include "port_private.h"

static _Thread_local char port_err[256];

static void port_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void port_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(port_err, sizeof(port_err), fmt, ap);
	va_end(ap);
}

const char *ivsh_port_last_error(void)
{
	return port_err;
}

/* ------------------------------------------------------------------ */
/* Attachments: one per (process, device), shared by its ports.        */
/* ------------------------------------------------------------------ */

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static struct port_attach *attach_list;

/* Layout parameters the master asks for, defaults lowered to fit. */
static void master_params(const struct ivsh_port_conf *conf, uint16_t self,
			  uint64_t region, struct ivsh_layout_params *p)
{
	bool lower_peers = conf->max_peers == 0;
	bool lower_ring = conf->ring_size == 0;
	uint16_t min_peers = IVSH_LAYOUT_MIN_PEERS;

	p->max_peers = lower_peers ? IVSH_PORT_DEFAULT_MAX_PEERS : conf->max_peers;
	p->queues_per_link = conf->queues_per_link ? conf->queues_per_link
						   : IVSH_PORT_DEFAULT_QUEUES;
	if (conf->nb_queues > p->queues_per_link && conf->queues_per_link == 0)
		p->queues_per_link = conf->nb_queues;
	p->ring_size = lower_ring ? IVSH_PORT_DEFAULT_RING_SIZE : conf->ring_size;
	p->slot_size = conf->slot_size ? conf->slot_size
				       : IVSH_PORT_DEFAULT_SLOT_SIZE;
	if (conf->peer != IVSH_PORT_PEER_AUTO && conf->peer >= min_peers)
		min_peers = conf->peer + 1;
	if (self >= min_peers)
		min_peers = self + 1;
	if (lower_peers && p->max_peers < min_peers)
		p->max_peers = min_peers;
	for (int guard = 0; guard < 64; guard++) {
		uint64_t need = ivsh_layout_size(p);

		if (need != 0 && need <= region)
			break;
		if (lower_peers && p->max_peers > min_peers)
			p->max_peers--;
		else if (lower_ring && p->ring_size > 64)
			p->ring_size /= 2;
		else
			break;
	}
}

/* Reset what this peer owns in every channel (doc/layout-v1.md). */
static void attach_reset_channels(struct port_attach *at)
{
	const struct ivsh_layout_info *li = &at->li;

	for (uint16_t j = 0; j < li->p.max_peers; j++) {
		if (j == at->self)
			continue;
		for (uint16_t q = 0; q < li->p.queues_per_link; q++) {
			uint8_t *out = lay_chan(at->base, li, at->self, j, q);
			uint8_t *in = lay_chan(at->base, li, j, at->self, q);
			/* Own producer index: relaxed. */
			uint32_t start = atomic_load_explicit(
				&LAY_CHAN_PROD(out)->prod, memory_order_relaxed);
			/* Release pairs with the consumer's acquire load of
			 * prod: gen is stored before any new frame. */
			atomic_store_explicit(&LAY_CHAN_PROD(out)->gen,
					      (uint64_t)at->epoch << 32 | start,
					      memory_order_release);
			/* Acquire pairs with the producer's release of prod. */
			uint32_t pi = atomic_load_explicit(
				&LAY_CHAN_PROD(in)->prod, memory_order_acquire);
			/* Release pairs with the producer's acquire of cons:
			 * frames left for our previous life are dropped. */
			atomic_store_explicit(&LAY_CHAN_CONS(in)->cons, pi,
					      memory_order_release);
			atomic_store_explicit(&LAY_CHAN_KICK(in)->kick, 0,
					      memory_order_relaxed);
		}
	}
}

/*
 * Re-attach: the region must hold a ready layout with the identity this
 * peer saw before (a master waits for it like any peer; it must not make
 * a new one, which would wipe what the other peers still use).
 */
static int attach_check_identity(struct port_attach *at,
				 const struct ivsh_port_conf *conf,
				 char *err, size_t errlen)
{
	int tmo = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
	int rc = lay_wait_ready(at->base, at->size, tmo, &at->li, err, errlen);

	if (rc == -ETIMEDOUT || (rc == 0 && at->li.identity != conf->identity)) {
		snprintf(err, errlen, "the region is not the one attached "
			 "before: layout identity %016" PRIx64 ", expected %016"
			 PRIx64, rc == 0 ? at->li.identity : 0, conf->identity);
		return -ESTALE;
	}
	return rc;
}

static int attach_create(struct port_attach **atp, struct ivsh_dev *dev,
			 const struct ivsh_port_conf *conf)
{
	char err[200];
	struct port_attach *at = calloc(1, sizeof(*at));
	int rc;

	if (at == NULL) {
		port_set_error("out of memory");
		return -ENOMEM;
	}
	at->dev = dev;
	at->base = ivsh_dev_shm(dev);
	at->size = ivsh_dev_shm_size(dev);
	at->self = ivsh_dev_id(dev);
	if (at->base == NULL) {
		port_set_error("device has no shared memory mapped");
		free(at);
		return -EINVAL;
	}
	if (conf->identity != 0) {
		/* A restart on a known region: never (re)initialise it. */
		rc = attach_check_identity(at, conf, err, sizeof(err));
	} else if (at->self == 0) {
		struct ivsh_layout_params p;

		master_params(conf, at->self, at->size, &p);
		rc = lay_master_init(at->base, at->size, &p, &at->li, err,
				     sizeof(err));
	} else {
		int tmo = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;

		rc = lay_wait_ready(at->base, at->size, tmo, &at->li, err,
				    sizeof(err));
	}
	if (rc < 0) {
		port_set_error("%s", err);
		free(at);
		return rc;
	}
	if (at->self >= at->li.p.max_peers) {
		port_set_error("own peer ID %u is not below the layout's "
			       "max_peers %u", at->self, at->li.p.max_peers);
		free(at);
		return -EINVAL;
	}
	at->ports = calloc(at->li.p.max_peers, sizeof(*at->ports));
	if (at->ports == NULL) {
		port_set_error("out of memory");
		free(at);
		return -ENOMEM;
	}
	at->entry = lay_peer(at->base, &at->li, at->self);

	/* Own entry: down while we reset, then up with a new epoch. */
	atomic_store_explicit(&at->entry->state, LAY_PEER_DOWN,
			      memory_order_relaxed);
	/* Pairs with the acquire fence in link_update(): whoever sees the
	 * new epoch also sees "down" (until the release store of "up"). */
	atomic_thread_fence(memory_order_release);
	uint32_t ep = atomic_load_explicit(&at->entry->epoch,
					   memory_order_relaxed) + 1;
	at->epoch = ep == 0 ? 1 : ep;
	atomic_store_explicit(&at->entry->epoch, at->epoch,
			      memory_order_relaxed);
	atomic_store_explicit(&at->entry->vectors, 0, memory_order_relaxed);
	attach_reset_channels(at);
	*atp = at;
	return 0;
}

static void attach_go_up(struct port_attach *at)
{
	/* Release pairs with the acquire load of state in link_update() of
	 * peers: epoch, MAC, vectors and the channel resets are visible. */
	atomic_store_explicit(&at->entry->state, LAY_PEER_UP,
			      memory_order_release);
}

static struct port_attach *attach_find(struct ivsh_dev *dev)
{
	for (struct port_attach *a = attach_list; a != NULL; a = a->next)
		if (a->dev == dev)
			return a;
	return NULL;
}

static void attach_release(struct port_attach *at)
{
	if (--at->refs > 0)
		return;
	atomic_store_explicit(&at->entry->state, LAY_PEER_DOWN,
			      memory_order_release);
	for (struct port_attach **pp = &attach_list; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == at) {
			*pp = at->next;
			break;
		}
	}
	free(at->ports);
	free(at);
}

/* ------------------------------------------------------------------ */
/* Open / close                                                        */
/* ------------------------------------------------------------------ */

static void *zalloc_aligned(size_t n)
{
	size_t sz = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, sz ? sz : 64);

	if (p != NULL)
		memset(p, 0, sz ? sz : 64);
	return p;
}

static uint32_t port_max_segs(uint32_t slot)
{
	return (IVSH_PORT_MAX_FRAME + slot - 1) / slot;
}

static int port_setup_queues(struct ivsh_port *port)
{
	struct port_attach *at = port->at;
	const struct ivsh_layout_info *li = &at->li;
	uint32_t ring = li->p.ring_size, slot = li->p.slot_size;

	port->txq = zalloc_aligned(sizeof(*port->txq) * port->nb_queues);
	port->rxq = zalloc_aligned(sizeof(*port->rxq) * port->nb_queues);
	port->base.q = calloc(port->nb_queues, sizeof(*port->base.q));
	port->base.x = calloc(port_xstats_count(), sizeof(uint64_t));
	if (port->txq == NULL || port->rxq == NULL || port->base.q == NULL ||
	    port->base.x == NULL)
		return -ENOMEM;
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		struct port_txq *tq = &port->txq[q];
		struct port_rxq *rq = &port->rxq[q];
		uint8_t *out = lay_chan(at->base, li, port->self, port->peer, q);
		uint8_t *in = lay_chan(at->base, li, port->peer, port->self, q);

		ivsh_ring_prod_init_split(&tq->ring, &LAY_CHAN_PROD(out)->prod,
					  &LAY_CHAN_CONS(out)->cons,
					  LAY_CHAN_DESC(out), ring, LAY_DESC_SIZE);
		tq->slots = out + li->slots_off;
		tq->slot_size = slot;
		tq->max_segs = port_max_segs(slot);
		tq->max_frame = ivsh_port_max_frame(port);
		tq->max_one_slot = slot < tq->max_frame ? slot : tq->max_frame;
		tq->kick = LAY_CHAN_KICK(out);
		tq->port = port;
		tq->q = q;
		tq->prefetchw = port_cpu_has_prefetchw();
		tq->copy = port->copy->fn;

		ivsh_ring_cons_init_split(&rq->ring, &LAY_CHAN_CONS(in)->cons,
					  &LAY_CHAN_PROD(in)->prod,
					  LAY_CHAN_DESC(in), ring, LAY_DESC_SIZE);
		rq->slots = in + li->slots_off;
		rq->slot_size = slot;
		rq->max_segs = port_max_segs(slot);
		rq->max_one_slot = slot < IVSH_PORT_MAX_FRAME ? slot
							      : IVSH_PORT_MAX_FRAME;
		rq->copy = port->copy->fn;
		rq->pline = LAY_CHAN_PROD(in);
		rq->peer_epoch = (uint32_t)(atomic_load_explicit(
			&LAY_CHAN_PROD(in)->gen, memory_order_acquire) >> 32);
		rq->kick = LAY_CHAN_KICK(in);
		/* Own field (any value will do): continue the sequence of
		 * earlier lives instead of restarting at 1. */
		rq->kick_seq = atomic_load_explicit(&rq->kick->seq,
						    memory_order_relaxed);
		rq->q = q;
		rq->zc_seg = calloc(ring, sizeof(*rq->zc_seg));
		rq->held = calloc(ring, sizeof(*rq->held));
		if (rq->zc_seg == NULL || rq->held == NULL)
			return -ENOMEM;
		rq->cons_pub = rq->ring.head;
	}
	return 0;
}

static void port_free(struct ivsh_port *port)
{
	if (port->rxq != NULL)
		for (uint16_t q = 0; q < port->nb_queues; q++) {
			free(port->rxq[q].zc_seg);
			free((void *)port->rxq[q].held);
		}
	free(port->txq);
	free(port->rxq);
	free(port->base.q);
	free(port->base.x);
	free(port);
}

static void port_own_mac(const struct ivsh_port_conf *conf, uint16_t self,
			 uint8_t mac[6])
{
	if (conf->has_mac) {
		memcpy(mac, conf->mac, 6);
	} else {
		uint8_t m[6] = { 0x02, 0x49, 0x56, 0x53,
				 (uint8_t)(self >> 8), (uint8_t)self };
		memcpy(mac, m, 6);
	}
}

/*
 * Peer "auto": the attachment goes up first (the other peer looks for
 * it too) and is held, without the lock, while the table is watched.
 * Called and returns with attach_lock held; on success the caller owns
 * one reference to drop once its port is in place.
 */
static int open_resolve_auto(struct port_attach *at, bool created,
			     const struct ivsh_port_conf *conf, uint16_t *peer)
{
	char err[200];
	int rc;

	if (created) {
		port_own_mac(conf, at->self, at->entry->mac);
		attach_go_up(at);
		at->next = attach_list;
		attach_list = at;
	}
	at->refs++;
	pthread_mutex_unlock(&attach_lock);
	rc = port_auto_peer(at, conf, peer, err, sizeof(err));
	pthread_mutex_lock(&attach_lock);
	if (rc < 0) {
		port_set_error("%s", err);
		attach_release(at);
	}
	return rc;
}

int ivsh_port_open(struct ivsh_port **portp, struct ivsh_dev *dev,
		   const struct ivsh_port_conf *conf)
{
	struct port_attach *at;
	struct ivsh_port *port;
	const struct slot_copy *copy;
	bool created = false;
	int rc;

	port_err[0] = '\0';
	if (portp == NULL || dev == NULL || conf == NULL) {
		port_set_error("NULL argument");
		return -EINVAL;
	}
	*portp = NULL;
	uint16_t self = ivsh_dev_id(dev);
	uint16_t peer = conf->peer;
	bool auto_hold = false;

	if (ivsh_dev_check_shm(dev) < 0) {
		port_set_error("the shared memory was truncated by another process");
		return -ENODEV;
	}
	if (conf->peer == self) {
		port_set_error("peer %u is this device's own ID", conf->peer);
		return -EINVAL;
	}
	const char *want = getenv(SLOT_COPY_ENV);
	rc = slot_copy_pick(want, &copy);
	if (rc < 0) {
		if (rc == -ENOTSUP)
			port_set_error("%s=%s: this CPU does not run that copy routine",
				       SLOT_COPY_ENV, want);
		else
			port_set_error("%s=%s: unknown copy routine (one of: %s)",
				       SLOT_COPY_ENV, want, slot_copy_names());
		return -EINVAL;
	}
	pthread_mutex_lock(&attach_lock);
	at = attach_find(dev);
	if (at == NULL) {
		rc = attach_create(&at, dev, conf);
		if (rc < 0)
			goto unlock;
		created = true;
	}
	if (conf->peer == IVSH_PORT_PEER_AUTO) {
		rc = open_resolve_auto(at, created, conf, &peer);
		if (rc < 0)
			goto unlock;
		created = false;
		auto_hold = true;
	}
	const struct ivsh_layout_info *li = &at->li;
	rc = -EINVAL;
	if (peer >= li->p.max_peers) {
		port_set_error("peer %u is not below the layout's max_peers %u",
			       peer, li->p.max_peers);
		goto fail_attach;
	}
	if (conf->nb_queues > li->p.queues_per_link) {
		port_set_error("%u queues asked, the layout has %u per link",
			       conf->nb_queues, li->p.queues_per_link);
		goto fail_attach;
	}
	if (at->ports[peer] != NULL) {
		port_set_error("a port to peer %u is already open", peer);
		rc = -EBUSY;
		goto fail_attach;
	}
	port = calloc(1, sizeof(*port));
	if (port == NULL) {
		port_set_error("out of memory");
		rc = -ENOMEM;
		goto fail_attach;
	}
	port->at = at;
	port->dev = dev;
	port->self = at->self;
	port->peer = peer;
	port->nb_queues = conf->nb_queues ? conf->nb_queues
					  : li->p.queues_per_link;
	port->intr = conf->intr;
	port->copy = copy;
	port->peer_entry = lay_peer(at->base, li, peer);
	port_own_mac(conf, at->self, port->mac);
	rc = port_setup_queues(port);
	if (rc < 0) {
		port_set_error("out of memory");
		port_free(port);
		goto fail_attach;
	}
	if (conf->intr) {
		port->own_vectors = ivsh_dev_vectors(dev);
		uint16_t cur = atomic_load_explicit(&at->entry->vectors,
						    memory_order_relaxed);
		if (port->own_vectors > cur)
			atomic_store_explicit(&at->entry->vectors,
					      (uint16_t)port->own_vectors,
					      memory_order_relaxed);
	}
	if (created) {
		memcpy(at->entry->mac, port->mac, 6);
		attach_go_up(at);
		at->next = attach_list;
		attach_list = at;
	}
	at->refs++;
	at->ports[port->peer] = port;
	if (auto_hold)
		attach_release(at);
	pthread_mutex_unlock(&attach_lock);
	ivsh_port_link_update(port);
	*portp = port;
	return 0;

fail_attach:
	if (created) {
		free(at->ports);
		free(at);
	}
	if (auto_hold)
		attach_release(at);
unlock:
	pthread_mutex_unlock(&attach_lock);
	return rc;
}

void ivsh_port_close(struct ivsh_port *port)
{
	if (port == NULL)
		return;
	for (uint16_t q = 0; q < port->nb_queues; q++)
		atomic_store_explicit(&port->rxq[q].kick->kick, 0,
				      memory_order_relaxed);
	pthread_mutex_lock(&attach_lock);
	port->at->ports[port->peer] = NULL;
	attach_release(port->at);
	pthread_mutex_unlock(&attach_lock);
	port_free(port);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

struct ivsh_dev *ivsh_port_dev(const struct ivsh_port *port)
{
	return port->dev;
}

const char *ivsh_port_copy_name(const struct ivsh_port *port)
{
	return port->copy->name;
}

ivsh_copy_fn ivsh_port_copy_fn(const struct ivsh_port *port)
{
	return port->copy->fn;
}

uint16_t ivsh_port_peer(const struct ivsh_port *port)
{
	return port->peer;
}

uint16_t ivsh_port_nb_queues(const struct ivsh_port *port)
{
	return port->nb_queues;
}

uint32_t ivsh_port_ring_size(const struct ivsh_port *port)
{
	return port->at->li.p.ring_size;
}

uint32_t ivsh_port_slot_size(const struct ivsh_port *port)
{
	return port->at->li.p.slot_size;
}

uint32_t ivsh_port_max_frame(const struct ivsh_port *port)
{
	uint64_t cap = (uint64_t)port->at->li.p.slot_size *
		       port->at->li.p.ring_size;

	return cap < IVSH_PORT_MAX_FRAME ? (uint32_t)cap : IVSH_PORT_MAX_FRAME;
}

void ivsh_port_mac(const struct ivsh_port *port, uint8_t mac[6])
{
	memcpy(mac, port->mac, 6);
}

void ivsh_port_peer_mac(const struct ivsh_port *port, uint8_t mac[6])
{
	uint32_t st = atomic_load_explicit(&port->peer_entry->state,
					   memory_order_acquire);

	if (st == LAY_PEER_UP)
		memcpy(mac, port->peer_entry->mac, 6);
	else
		memset(mac, 0, 6);
}

const struct ivsh_layout_info *ivsh_port_layout(const struct ivsh_port *port)
{
	return &port->at->li;
}
