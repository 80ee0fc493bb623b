/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: link state, the heartbeat, and noticing the device's removal. */
#include <stdint.h>
#include <time.h>

#include "port_private.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Link state                                                          */
/* ------------------------------------------------------------------ */

/*
 * Whether the device was unplugged (checked every PORT_REMOVAL_CHECK_MS).
 * On removal our entry goes down at once, so peers see the link drop
 * without waiting for the heartbeat to stop; on uio the region is
 * already gone and the store lands in zero pages, which is harmless.
 */
static bool port_device_removed(struct port_attach *at, uint64_t now)
{
	if (!ivsh_dev_removed(at->dev)) {
		if (now - at->removal_checked_ms < PORT_REMOVAL_CHECK_MS)
			return false;
		at->removal_checked_ms = now;
		if (ivsh_dev_check_removed(at->dev) != 1)
			return false;
	}
	atomic_store_explicit(&at->entry->state, LAY_PEER_DOWN,
			      memory_order_release);
	return true;
}

void port_heartbeat(struct ivsh_port *port)
{
	/* Only this process writes its entry; several of its threads may. */
	atomic_fetch_add_explicit(&port->at->entry->heartbeat, 1,
				  memory_order_relaxed);
}

/*
 * Notice shared memory that another process truncated (host backends)
 * before a fault does: a size check every PORT_SHM_CHECK_MS. Once lost,
 * the region reads zeros, so ivsh_port_link_update() sees the layout gone.
 */
static void port_check_shm(struct port_attach *at, uint64_t now)
{
	if (now - at->shm_checked_ms < PORT_SHM_CHECK_MS)
		return;
	at->shm_checked_ms = now;
	(void)ivsh_dev_check_shm(at->dev);
}

int ivsh_port_link_update(struct ivsh_port *port)
{
	struct port_attach *at = port->at;
	struct lay_hdr *h = lay_hdr(at->base);
	struct lay_peer *pe = port->peer_entry;
	uint64_t now = now_ms();
	int up = 1;

	if (port_device_removed(at, now)) {
		if (atomic_exchange_explicit(&port->link, 0,
					     memory_order_relaxed) != 0)
			ctr_add(&port->link_changes, 1);
		return 0;
	}
	/* Learn peers that (re)connected to the server since the last call,
	 * so doorbells go to their current eventfds; -ENOTSUP on backends
	 * that cannot know, which is fine. Never blocks. */
	(void)ivsh_dev_process_events(port->dev);
	port_heartbeat(port);
	port_check_shm(at, now); /* before reading the header */
	uint32_t hstate = atomic_load_explicit(&h->state, memory_order_relaxed);
	uint32_t hepoch = atomic_load_explicit(&h->epoch, memory_order_relaxed);
	if (hstate != IVSH_LAYOUT_READY || hepoch != at->li.epoch) {
		if (atomic_load_explicit(&port->link, memory_order_relaxed) ||
		    ctr_get(&port->layout_lost) == 0)
			ctr_add(&port->layout_lost, 1);
		up = 0;
	}
	/* Epoch first, then state: pairs with the release fence between
	 * the peer's "down" and its new epoch at attach; the acquire load
	 * of state pairs with its release store of "up" (its resets, MAC
	 * and vectors are then visible). */
	uint32_t ep = atomic_load_explicit(&pe->epoch, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	uint32_t st = atomic_load_explicit(&pe->state, memory_order_acquire);
	uint64_t hb = atomic_load_explicit(&pe->heartbeat, memory_order_relaxed);
	uint16_t vec = atomic_load_explicit(&pe->vectors, memory_order_relaxed);

	if (ep != port->known_peer_epoch) {
		if (port->known_peer_epoch != 0 && ep != 0)
			ctr_add(&port->peer_restarts, 1);
		port->known_peer_epoch = ep;
		port->last_hb = hb;
		port->hb_moved = false;
		port->last_change_ms = now;
	} else if (hb != port->last_hb) {
		port->last_hb = hb;
		port->hb_moved = true;
		port->last_change_ms = now;
	}
	if (st != LAY_PEER_UP || ep == 0 || !port->hb_moved ||
	    now - port->last_change_ms >= PORT_LIVENESS_MS)
		up = 0;
	atomic_store_explicit(&port->peer_vectors, st == LAY_PEER_UP ? vec : 0,
			      memory_order_relaxed);
	if (atomic_exchange_explicit(&port->link, up, memory_order_relaxed) != up)
		ctr_add(&port->link_changes, 1);
	return up;
}

int ivsh_port_link_status(const struct ivsh_port *port)
{
	return atomic_load_explicit(&((struct ivsh_port *)port)->link,
				    memory_order_relaxed);
}
