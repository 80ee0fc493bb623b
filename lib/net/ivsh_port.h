/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: packets between this peer and another peer of an ivshmem device,
 * over the shared-memory layout v1 (doc/layout-v1.md).
 *
 * A port connects this peer to one remote peer. It has 1..N queues; queue
 * q transmits into channel (self -> peer, q) and receives from channel
 * (peer -> self, q). The API maps one-to-one onto a DPDK ethdev: queues,
 * bursts, link state, stats, xstats, MAC, MTU, Rx interrupts.
 *
 * Threading: the rx side of a queue is used by one thread at a time, and
 * the tx side of a queue by one thread at a time (they may differ).
 * ivsh_port_link_update() and the stats readers may run on any thread.
 *
 * Functions returning int return 0 (or a count / flag) on success and a
 * negative errno on failure; bursts return how many packets they moved.
 */
#ifndef IVSH_PORT_H
#define IVSH_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivsh_dev.h"
#include "ivsh_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest frame a port carries (jumbo), in bytes. */
#define IVSH_PORT_MAX_FRAME 9018
/** Defaults used by the master when it initialises the layout. */
#define IVSH_PORT_DEFAULT_MAX_PEERS 8
#define IVSH_PORT_DEFAULT_QUEUES 1
#define IVSH_PORT_DEFAULT_RING_SIZE 1024
#define IVSH_PORT_DEFAULT_SLOT_SIZE 1536
/**
 * conf.peer value "auto": the only other peer. On a two-peer layout it is
 * the other ID; otherwise the open waits (up to conf.auto_wait_ms) until
 * exactly one other peer is attached with a moving heartbeat.
 */
#define IVSH_PORT_PEER_AUTO 0xFFFF

struct ivsh_port;

/** Port configuration; zero-initialise for defaults. */
struct ivsh_port_conf {
	uint16_t peer;       /**< remote peer ID (must differ from own ID) */
	uint16_t nb_queues;  /**< queues to use; 0: all the layout has */
	bool intr;           /**< allow interrupt mode (Rx wait/kick) */
	int timeout_ms;      /**< non-master: wait for the layout; 0: 5000 */
	/** peer IVSH_PORT_PEER_AUTO: how long to wait for the other peer in
	 *  ms; 0: 5000; negative: until it appears or a signal arrives. */
	int auto_wait_ms;

	/*
	 * Layout parameters. Only the master (peer ID 0) uses them, when it
	 * initialises the region; other peers read them from the header.
	 * 0 selects the IVSH_PORT_DEFAULT_* value; max_peers and ring_size
	 * left at 0 are lowered to what fits (max_peers first, never below
	 * 2 or below the IDs involved; then ring_size, down to 64). With
	 * queues_per_link 0 and nb_queues > 1, nb_queues is used. Checked
	 * against the region size, with a clear error (-ENOSPC, message
	 * with the size needed) when they do not fit.
	 * A region already holding a ready layout with the same parameters
	 * is kept (master restart); different parameters re-initialise it.
	 */
	uint16_t max_peers;       /**< peer IDs 0..max_peers-1 may attach */
	uint16_t queues_per_link; /**< channels per (source, destination) */
	uint32_t ring_size;       /**< descriptors per channel, power of 2 */
	uint32_t slot_size;       /**< bytes per slot, multiple of 64 */

	bool has_mac;             /**< use @p mac, else 02:49:56:53:IDhi:IDlo */
	uint8_t mac[6];
	/**
	 * Re-attach (after a hot-unplug and re-plug, or a migration): the
	 * identity the region must hold (ivsh_port_layout()->identity seen
	 * before). Non-zero: the master never initialises the region, and
	 * every peer refuses a region whose ready layout has another
	 * identity (-ESTALE). 0: no check.
	 */
	uint64_t identity;
};

/**
 * Attach to the device's layout (initialising it when this peer is the
 * master, ID 0) and open a port to conf->peer.
 *
 * @return 0 on success;
 *         -EINVAL bad configuration (peer == own ID, peer >= max_peers,
 *          nb_queues > queues_per_link, sizes not powers of two...);
 *         -ENOSPC the layout does not fit the region (message says the
 *          size needed);
 *         -ETIMEDOUT the master did not make the layout ready in time;
 *         -EINVAL also: the environment variable IVSH_PORT_COPY names
 *          a copy routine that is unknown or that this CPU does not run;
 *         -EPROTO the region holds an unknown layout or version;
 *         -EBUSY a port to that peer is already open in this process;
 *         -ESTALE conf->identity is set and the region holds no ready
 *          layout with that identity (another region, or re-initialised);
 *         -ENOTUNIQ peer IVSH_PORT_PEER_AUTO and several other peers are
 *          attached (give an ID);
 *         -ETIMEDOUT also: peer IVSH_PORT_PEER_AUTO and no other peer
 *          appeared within auto_wait_ms;
 *         -EINTR peer IVSH_PORT_PEER_AUTO and a signal arrived while
 *          waiting;
 *         -ENODEV the shared memory was truncated by another process
 *          (ivsh_dev_check_shm());
 *         -ENOMEM.
 *         A one-line reason is available from ivsh_port_last_error().
 */
int ivsh_port_open(struct ivsh_port **portp, struct ivsh_dev *dev,
		   const struct ivsh_port_conf *conf);

/**
 * Release the port. When it is the last port of its device in this
 * process, this peer's entry is marked down (peers see the link drop).
 * NULL ok.
 */
void ivsh_port_close(struct ivsh_port *port);

/** One-line reason for the last failure of ivsh_port_open() (thread-local). */
const char *ivsh_port_last_error(void);

/** The device the port was opened on. */
struct ivsh_dev *ivsh_port_dev(const struct ivsh_port *port);
/** Remote peer ID. */
uint16_t ivsh_port_peer(const struct ivsh_port *port);
/** Number of queues in use. */
uint16_t ivsh_port_nb_queues(const struct ivsh_port *port);
/** Descriptors per channel. */
uint32_t ivsh_port_ring_size(const struct ivsh_port *port);
/** Bytes per slot (largest segment). */
uint32_t ivsh_port_slot_size(const struct ivsh_port *port);
/** Largest frame this port can send (bounded by IVSH_PORT_MAX_FRAME). */
uint32_t ivsh_port_max_frame(const struct ivsh_port *port);
/**
 * Name of the routine the port copies frames into and out of slots with:
 * "avx512", "avx2" or "sse2" (x86-64, from CPUID when the port opened),
 * "memcpy" (libc's; the only one elsewhere) or "rep-movsb". The
 * environment variable IVSH_PORT_COPY, when set at open, chooses one of
 * them ("auto": the CPUID choice).
 */
const char *ivsh_port_copy_name(const struct ivsh_port *port);
/** A copy routine: @len bytes, any length and alignment, between
 * buffers that do not overlap. */
typedef void (*ivsh_copy_fn)(void *dst, const void *src, size_t len);
/**
 * The port's copy routine (the one ivsh_port_copy_name() names): for code
 * that copies frames out of slots it got from ivsh_port_rx_zc_peek() or
 * into slots from ivsh_port_tx_zc_reserve().
 */
ivsh_copy_fn ivsh_port_copy_fn(const struct ivsh_port *port);
/** The validated layout the port runs on (for tools and tests). */
const struct ivsh_layout_info *ivsh_port_layout(const struct ivsh_port *port);
/** Own MAC address. */
void ivsh_port_mac(const struct ivsh_port *port, uint8_t mac[6]);
/** Remote peer's MAC (all zero until it attached). */
void ivsh_port_peer_mac(const struct ivsh_port *port, uint8_t mac[6]);

/**
 * Advance this side's heartbeat and re-evaluate the link: up while both
 * sides are attached with known epochs and the peer's heartbeat moves
 * (within the liveness window). When the peer comes back with a new epoch,
 * this side's channels to it are reset (counted in xstats) before the link
 * is reported up. It also handles the device's waiting connect and
 * disconnect notices (ivsh_dev_process_events()), so doorbells reach peers
 * that joined later. Call it periodically (every millisecond or so); it
 * is cheap and never blocks. Every 10 ms it also checks whether the
 * device was unplugged (ivsh_dev_check_removed()); once it was, this
 * peer's entry is marked down and the link stays down: close the port,
 * then the device (ivsh_dev_removed() tells the caller). Every 100 ms it
 * also checks that the shared memory was not truncated
 * (ivsh_dev_check_shm(): one fstat() on host devices whose memory can
 * shrink); once it was, the region reads zeros and the link stays down
 * (ivsh_dev_shm_lost() says why).
 * @return 1 link up, 0 link down.
 */
int ivsh_port_link_update(struct ivsh_port *port);

/** Last link state computed by ivsh_port_link_update(): 1 up, 0 down. */
int ivsh_port_link_status(const struct ivsh_port *port);

/** A caller buffer for the copying bursts. */
struct ivsh_pkt {
	void *data;   /**< frame bytes */
	uint32_t len; /**< tx: frame length; rx: in: capacity, out: length */
};

/**
 * Receive up to @p n frames of queue @p q, copying them into the caller's
 * buffers. A frame longer than its buffer's capacity is dropped and
 * counted; a frame with an invalid descriptor or longer than
 * IVSH_PORT_MAX_FRAME (even in one larger slot) is dropped and counted by
 * cause, once. Also returns given-back kept slots to the producer (see
 * ivsh_port_rx_zc_keep()), even when nothing waits. Never blocks.
 * @return frames received (0..n).
 */
uint16_t ivsh_port_rx_burst(struct ivsh_port *port, uint16_t q,
			    struct ivsh_pkt *pkts, uint16_t n);

/**
 * Send up to @p n frames on queue @p q, copying them into slots (a frame
 * larger than a slot is chained over several with the MORE flag). Stops at
 * the first frame that does not fit in the ring (counted as ring-full).
 * Frames longer than ivsh_port_max_frame() are dropped and counted, and
 * count as sent so that a caller does not retry them forever. Rings the
 * peer's doorbell only if the peer asked to be woken. Never blocks.
 * @return frames consumed from @p pkts (0..n), in order.
 */
uint16_t ivsh_port_tx_burst(struct ivsh_port *port, uint16_t q,
			    const struct ivsh_pkt *pkts, uint16_t n);

/** One slot of a frame, for the zero-copy calls. */
struct ivsh_seg {
	void *data;     /**< slot memory inside the shared region */
	uint32_t len;   /**< rx: validated length; tx: in: capacity, out: used */
	uint16_t flags; /**< IVSH_SEG_MORE: the frame continues in the next */
	uint16_t slot;  /**< the slot's index in its ring (set by peek and
			 *   reserve; what ivsh_port_rx_zc_give() takes) */
};
#define IVSH_SEG_MORE 0x1u

/**
 * Zero-copy receive: describe up to @p max segments of whole frames
 * waiting on queue @p q without consuming them. Lengths are validated and
 * copied into @p segs once; the bytes themselves stay in shared memory
 * that a hostile peer could still overwrite. Invalid frames are skipped
 * and counted once: a peek stops before an invalid frame that follows
 * valid ones, and the peek that finds it at the head drops it. @p max
 * should be at least ivsh_port_max_frame() / ivsh_port_slot_size()
 * rounded up, or a jumbo frame at the head of the ring is never returned.
 * @return number of segments filled (always ends on a frame boundary).
 */
uint16_t ivsh_port_rx_zc_peek(struct ivsh_port *port, uint16_t q,
			      struct ivsh_seg *segs, uint16_t max);

/**
 * Give back the first @p nsegs segments returned by the last peek (rounded
 * up to the end of the frame the last one belongs to); the rest stay
 * waiting and are returned again by the next peek.
 */
void ivsh_port_rx_zc_release(struct ivsh_port *port, uint16_t q,
			     uint16_t nsegs);

/**
 * Like ivsh_port_rx_zc_release(), but the first @p nsegs segments of the
 * last peek (rounded up to the end of the frame the last one belongs to)
 * are consumed and kept: their slots stay out of the producer's reach
 * until each is given back with ivsh_port_rx_zc_give(), in any order and
 * from any thread. Frames behind a kept slot still arrive; the producer
 * only runs out of room when it comes round to the oldest kept slot.
 * Slots given back return to the producer at the next receive call on
 * the queue (rx_burst, rx_zc_peek, rx_intr_enable, rx_wait); a thread
 * sleeping on ivsh_port_rx_intr_fd() without a timeout must be woken by
 * whoever gives slots back (rx_wait re-checks every 100 ms by itself).
 * Call from the queue's receiving thread.
 */
void ivsh_port_rx_zc_keep(struct ivsh_port *port, uint16_t q,
			  uint16_t nsegs);

/**
 * Give back one slot kept with ivsh_port_rx_zc_keep(), by its segment's
 * @p slot index. Safe from any thread (one give per kept slot); the
 * caller must not touch the slot afterwards.
 * @return 0; -EINVAL for a bad queue or a slot index past the ring;
 *         -EALREADY if the slot is not kept (given back twice).
 */
int ivsh_port_rx_zc_give(struct ivsh_port *port, uint16_t q, uint32_t slot);

/**
 * Slots of queue @p q kept and not yet given back (as seen by the
 * receiving thread). A port must not be closed while any are held: their
 * memory goes away with it.
 */
uint32_t ivsh_port_rx_zc_held(const struct ivsh_port *port, uint16_t q);

/**
 * Start of queue @p q's receive slots (slot i at + i ·
 * ivsh_port_slot_size()), for callers keeping per-slot state next to
 * ivsh_port_rx_zc_keep(); NULL for a bad queue.
 */
const void *ivsh_port_rx_slots(const struct ivsh_port *port, uint16_t q);

/**
 * Zero-copy send: reserve up to @p n free slots of queue @p q. Each
 * segs[i].data points at a slot and segs[i].len holds its capacity.
 * @return slots reserved (0..n).
 */
uint16_t ivsh_port_tx_zc_reserve(struct ivsh_port *port, uint16_t q,
				 struct ivsh_seg *segs, uint16_t n);

/**
 * Publish the first @p n reserved slots, with their len and flags set by
 * the caller (segs[i] describes the i-th reserved slot; .data is not
 * read). The last published segment must not have IVSH_SEG_MORE.
 * Unpublished reservations are dropped. Rings the doorbell if asked.
 * @return 0; -EINVAL if n exceeds the reservation, a length exceeds the
 *         slot, the last segment has IVSH_SEG_MORE, or a frame is empty,
 *         longer than ivsh_port_max_frame() or has more segments than
 *         that needs (nothing published).
 */
int ivsh_port_tx_zc_commit(struct ivsh_port *port, uint16_t q,
			   const struct ivsh_seg *segs, uint16_t n);

/*
 * Interrupt mode (conf.intr). The sleep protocol: the consumer sets its
 * kick flag, fences, re-checks its ring, and only then sleeps on its
 * vector's fd; a producer rings the doorbell only when the flag is set.
 * Queue q is woken through own vector (q % ivsh_dev_vectors()).
 */

/**
 * Ask the peer to ring the doorbell for queue @p q's next frames. Kept
 * slots given back so far are returned to the producer first.
 * @return 0 armed (nothing waiting: safe to sleep on the fd; also when
 *          the peer's producer index is out of range as rx_burst judges
 *          it, which is counted as rx_invalid_prod_index);
 *         1 frames are already waiting (do not sleep);
 *         -ENOTSUP the port is not in interrupt mode or the device has no
 *          interrupts; -EINVAL bad queue.
 */
int ivsh_port_rx_intr_enable(struct ivsh_port *port, uint16_t q);

/** Stop asking for doorbells on queue @p q. @return 0, -ENOTSUP or
 *  -EINVAL (bad queue). */
int ivsh_port_rx_intr_disable(struct ivsh_port *port, uint16_t q);

/** The fd to poll for queue @p q's wakeups (then ivsh_dev_irq_ack() on
 *  vector q % ivsh_dev_vectors()). @return fd, -ENOTSUP or -EINVAL. */
int ivsh_port_rx_intr_fd(struct ivsh_port *port, uint16_t q);

/**
 * Full sleep protocol: enable, re-check, wait on the fd, acknowledge,
 * disable. Also wakes up at least every 100 ms to keep the heartbeat.
 * Uses the rx side of queue @p q (same thread rules as rx_burst).
 *
 * A wake-up that finds no frame is spurious (counted per queue and in
 * the xstat rx_intr_spurious_wakeups). After 64 in a row, each within
 * 1 ms of the last, the queue backs off: it stops listening to its
 * vector and checks its ring every interval instead, from 50 us doubling
 * up to 1 ms while doorbells keep coming without frames. Frames are
 * never lost, only delayed by at most the interval; the first frame, or
 * an interval without a doorbell, ends the back-off. Each episode is
 * counted (rx_intr_backoffs) and logged once (ivsh_port_set_log()).
 * On server: devices it also handles connect/disconnect notices
 * (ivsh_dev_process_events()) as they arrive, in batches (at most
 * every 4 ms) while they flood (intr_server_notices,
 * intr_server_notice_backoffs).
 * @param timeout_ms -1: no limit; 0: only check
 * @return 1 frames are waiting; 0 timeout; -EINTR; -ENOTSUP; -EINVAL bad
 *         queue.
 */
int ivsh_port_rx_wait(struct ivsh_port *port, uint16_t q, int timeout_ms);

/** Per-queue basic counters. */
struct ivsh_port_queue_stats {
	uint64_t rx_packets, rx_bytes, rx_errors;   /* errors: all invalid */
	uint64_t tx_packets, tx_bytes, tx_errors;   /* errors: oversize */
	uint64_t tx_ring_full;                      /* tx attempts refused */
	uint64_t rx_intr_spurious;  /* wake-ups of rx_wait finding no frame */
};

/** Counters of queue @p q. @return 0; -EINVAL bad queue. */
int ivsh_port_queue_stats(const struct ivsh_port *port, uint16_t q,
			  struct ivsh_port_queue_stats *st);

/**
 * Extended statistics: every counter by name, including invalid
 * descriptors by cause, doorbells sent/received, wakeups, channel resets.
 * @param names out (may be NULL): static strings, valid for the port's life
 * @param values out (may be NULL)
 * @return the total number of xstats (call with n = 0 to size arrays).
 */
int ivsh_port_xstats(const struct ivsh_port *port, const char **names,
		     uint64_t *values, unsigned int n);

/** Zero every counter of the port. */
void ivsh_port_stats_reset(struct ivsh_port *port);

/** Receives the library's rare one-line notices (no trailing newline). */
typedef void (*ivsh_port_log_fn)(const char *line, void *opaque);

/**
 * Route the library's notices (one line per back-off episode of
 * ivsh_port_rx_wait()) to @p fn; NULL restores the default, stderr.
 * Process-wide; safe from any thread.
 */
void ivsh_port_set_log(ivsh_port_log_fn fn, void *opaque);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_PORT_H */
