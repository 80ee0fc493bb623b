/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem: private definitions shared by the files of the DPDK driver.
 *
 * The driver is thin glue: one ethdev port is one ivsh_port (port API,
 * lib/net/ivsh_port.h) over one ivsh_dev (lib/dev). The vdev
 * flavour opens the device itself (server: or shm:); the PCI flavour opens
 * the probed 1af4:1110 function.
 */
#ifndef IVSHMEM_ETHDEV_H
#define IVSHMEM_ETHDEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_log.h>
#include <ethdev_driver.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"

extern int ivshmem_logtype;

#define IVSHMEM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ivshmem_logtype, \
		"net_ivshmem: " fmt "\n", ##__VA_ARGS__)

/* How often the link alarm advances the heartbeat and re-reads the link:
 * far inside the port's 1 s liveness window, cheap even in a slow guest. */
#define IVSHMEM_LINK_PERIOD_US 10000
/* Most segments one rx peek or tx reservation handles (a 9018-byte frame
 * over 64-byte slots needs 141). */
#define IVSHMEM_BURST_SEGS 256
/* rx_zero_copy=1 still copies frames up to this long: attaching an
 * external buffer costs more than copying two cache lines. */
#define IVSHMEM_ZC_COPY_MAX 128
/* Frames handed to the port's copying tx burst in one call. */
#define IVSHMEM_TX_RUN 64
/* Queues an ethdev can ask for (bounded further by the layout). */
#define IVSHMEM_MAX_QUEUES 16
/* Interrupt eventfds ivsh_dev_open_mapped() takes at most. */
#define IVSHMEM_MAX_VECTORS 64

/* Which flavour created the port. */
enum ivshmem_kind {
	IVSHMEM_KIND_VDEV,
	IVSHMEM_KIND_PCI,
};

/* Parsed devargs (ivshmem_devargs.c). */
struct ivshmem_args {
	char *server;       /* server=PATH (vdev) */
	char *shm;          /* shm=PATH (vdev) */
	bool has_peer;
	uint16_t peer;      /* peer=N|auto; default: 1 if own ID is 0, else 0 */
	uint16_t queues;    /* queues=N; 0: what the layout has */
	bool has_id;
	uint16_t id;        /* id=N (shm; PCI: ivshmem-plain's own ID) */
	uint64_t size;      /* size=BYTES (shm only: create the file) */
	bool intr;          /* intr=0|1 */
	uint32_t ring_size; /* ring_size=N (master only) */
	uint32_t slot_size; /* slot_size=N (master only) */
	bool has_mac;
	struct rte_ether_addr mac; /* mac=xx:xx:xx:xx:xx:xx */
	int timeout_ms;     /* timeout=MS: wait for server / master */
	uint16_t vectors;   /* vectors=N (PCI): MSI-X vectors to use; 0: all */
	bool rx_zero_copy;  /* rx_zero_copy=0|1: mbufs point into the slots */
};

/* Counters the driver keeps itself, beside the port's own. */
struct ivshmem_rxq_stats {
	uint64_t packets, bytes;
	uint64_t nombuf;     /* mbuf allocation failed: frame left queued */
	uint64_t no_scatter; /* frame longer than one mbuf, scatter off */
	uint64_t no_scatter_bytes;
};

struct ivshmem_txq_stats {
	uint64_t packets, bytes;
	uint64_t bad_len;       /* empty or longer than the largest frame */
	uint64_t ring_full;     /* bursts cut short: no free slots */
	uint64_t link_down;     /* bursts refused while the link was down */
	uint64_t commit_failed; /* frames the port refused to publish */
};

struct pmd_internals;
struct ivshmem_zc;

struct ivshmem_rxq {
	struct pmd_internals *pi;
	struct ivsh_port *port;
	struct rte_mempool *mp;
	uint16_t qid;
	uint16_t port_id;
	bool scatter;        /* chain mbufs for long frames */
	uint16_t peek_min;   /* segments of the longest frame */
	uint32_t room;       /* data bytes of a fresh mbuf of @mp */
	ivsh_copy_fn copy;   /* the port's slot copy, for frames > 128 B */
	uint64_t mbuf_init;  /* rearm_data of a fresh mbuf: data_off,
			      * refcnt 1, nb_segs 1, port */
	uint64_t ol_init;    /* ol_flags of a fresh mbuf (pinned pools
			      * keep RTE_MBUF_F_EXTERNAL) */
	bool self_kick;      /* the wakeup fd is an eventfd we may write */
	int intr_fd;         /* -1 when interrupts are unavailable */
	struct ivshmem_zc *zc; /* rx_zero_copy=1: per-slot mbuf records */
	struct ivshmem_rxq_stats st;
};

struct ivshmem_txq {
	struct pmd_internals *pi;
	struct ivsh_port *port;
	uint16_t qid;
	bool fast_free;      /* MBUF_FAST_FREE: one pool, refcnt 1, direct */
	uint32_t slot_size;
	ivsh_copy_fn copy;   /* the port's slot copy (chained mbufs) */
	struct ivshmem_txq_stats st;
};

struct pmd_internals {
	enum ivshmem_kind kind;
	struct ivshmem_args args;
	struct ivsh_dev *dev;      /* owned: closed with the port */
	struct ivsh_port *port;
	uint16_t port_id;
	uint16_t nb_queues;        /* queues the port offers */
	uint32_t max_frame;
	struct rte_ether_addr mac;
	/* Written by the link alarm, read by the datapath: relaxed is
	 * enough, it only gates tx while the link is down (no data is
	 * published through it). */
	atomic_int link_up;
	int link_reported;     /* last state the alarm announced (its own) */
	bool alarm_armed;
	bool events_failed;    /* server notices failed: said once */
	atomic_bool started;   /* read by the link alarm thread */
	struct rte_intr_handle *intr_handle; /* rx queue interrupts */
	bool pci_intr_on;      /* PCI: MSI-X enabled on the device's handle */
};

/* ivshmem_devargs.c */
int ivshmem_parse_args(const char *params, enum ivshmem_kind kind,
		       struct ivshmem_args *args);
void ivshmem_free_args(struct ivshmem_args *args);

/* rte_eth_ivshmem.c: shared by the vdev and PCI probes. */
int ivshmem_port_attach(struct pmd_internals *pi, struct ivsh_dev *dev);
int ivshmem_ethdev_init(struct rte_eth_dev *eth_dev, struct pmd_internals *pi);
/* A probe that failed after allocating @eth_dev: close what it opened
 * (port, device, PCI interrupts), free the devargs, release the port. */
void ivshmem_probe_unwind(struct rte_eth_dev *eth_dev, struct pmd_internals *pi);

/* Relaxed: the flag only tells the link alarm to stop re-arming;
 * ivshmem_link_stop() then cancels it (which waits for a running one). */
static inline bool ivshmem_started(const struct pmd_internals *pi)
{
	return atomic_load_explicit(&pi->started, memory_order_relaxed);
}

/* ivshmem_pci.c: after the device is closed, turn MSI-X off again. */
void ivshmem_pci_release(struct rte_eth_dev *eth_dev);

/* ivshmem_ethdev_ops.c */
extern const struct eth_dev_ops ivshmem_ops;
int ivshmem_dev_close(struct rte_eth_dev *eth_dev);

/* Bus remove hook of both flavours: close and release the ethdev named
 * @name, if the application has not already. */
int ivshmem_remove(const char *name);

/* ivshmem_link.c */
int ivshmem_link_start(struct rte_eth_dev *dev);
void ivshmem_link_stop(struct rte_eth_dev *dev);
int ivshmem_link_update(struct rte_eth_dev *dev, int wait_to_complete);

/* ivshmem_intr.c */
int ivshmem_rx_intr_setup(struct rte_eth_dev *dev);
void ivshmem_rx_intr_teardown(struct rte_eth_dev *dev);
int ivshmem_rx_intr_enable(struct rte_eth_dev *dev, uint16_t q);
int ivshmem_rx_intr_disable(struct rte_eth_dev *dev, uint16_t q);
/* PCI hot-unplug: RTE_ETH_EVENT_INTR_RMV on a device request. Register
 * sets RTE_ETH_DEV_INTR_RMV; 0 or -errno. */
int ivshmem_rmv_register(struct rte_eth_dev *dev);
void ivshmem_rmv_unregister(struct rte_eth_dev *dev);

/* ivshmem_stats.c */
int ivshmem_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats);
int ivshmem_stats_reset(struct rte_eth_dev *dev);
int ivshmem_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
		       unsigned int n);
int ivshmem_xstats_get_names(struct rte_eth_dev *dev,
			     struct rte_eth_xstat_name *names,
			     unsigned int size);

/* ivshmem_rxtx.c */
uint16_t ivshmem_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t ivshmem_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n);

/*
 * One peek per burst: a segment per wanted frame, but always room for
 * the longest frame, or it could never be received. @return segments.
 */
static inline unsigned int ivshmem_rx_peek(const struct ivshmem_rxq *rxq,
					   struct ivsh_seg *segs, uint16_t n)
{
	return ivsh_port_rx_zc_peek(rxq->port, rxq->qid, segs,
		(uint16_t)RTE_MIN(RTE_MAX((unsigned int)n, rxq->peek_min),
				  IVSHMEM_BURST_SEGS));
}

/*
 * Ready @m, a raw mbuf from rxq->mp, for a frame: only the first-line
 * fields a reset would set are written (the pool keeps next, nb_segs and
 * refcnt right).
 */
static inline void ivshmem_rx_mbuf_init(const struct ivshmem_rxq *rxq,
					struct rte_mbuf *m, uint64_t ol_flags)
{
	memcpy(&m->rearm_data, &rxq->mbuf_init, sizeof(rxq->mbuf_init));
	m->ol_flags = ol_flags;
	m->packet_type = 0;
	m->vlan_tci = 0;
}

/* Copy the one-slot frame of @seg into raw mbuf @m: the bytes, once. */
static inline void ivshmem_rx_copy_one(const struct ivshmem_rxq *rxq,
				       struct rte_mbuf *m,
				       const struct ivsh_seg *seg)
{
	ivshmem_rx_mbuf_init(rxq, m, rxq->ol_init);
	m->data_len = (uint16_t)seg->len;
	m->pkt_len = seg->len;
	/* Short frames: inlined moves; longer ones: the port's routine,
	 * chosen from CPUID (this file is built for the DPDK baseline). */
	if (seg->len <= 128)
		rte_memcpy(rte_pktmbuf_mtod(m, void *), seg->data, seg->len);
	else
		rxq->copy(rte_pktmbuf_mtod(m, void *), seg->data, seg->len);
}

/*
 * Copy the frame in segs[0..nsegs-1] (total @len bytes) into @head, a
 * freshly reset mbuf, adding more mbufs when needed (FRAME_NOMEM if none
 * is left; FRAME_DROPPED, counted, when it needs more than one mbuf and
 * the scatter offload is off).
 */
enum ivshmem_frame_result { FRAME_OK, FRAME_DROPPED, FRAME_NOMEM };
enum ivshmem_frame_result ivshmem_rx_copy_frame(struct ivshmem_rxq *rxq,
						struct rte_mbuf *head,
						const struct ivsh_seg *segs,
						unsigned int nsegs, uint32_t len);

/* ivshmem_rx_zc.c: zero-copy receive (rx_zero_copy=1) */
struct ivshmem_zc *ivshmem_zc_create(struct ivsh_port *port, uint16_t qid,
				     int socket_id);
/* Slots of the queue that mbufs still hold. */
uint32_t ivshmem_zc_held(const struct ivshmem_zc *zc);
/* Free callbacks whose slot the port refused (never expected). */
uint64_t ivshmem_zc_bad_gives(const struct ivshmem_zc *zc);
/* Before arming the queue's interrupt: a later give writes eventfd @fd
 * (once). NULL @zc: nothing. */
void ivshmem_zc_sleep_arm(struct ivshmem_zc *zc, int fd);
void ivshmem_zc_sleep_disarm(struct ivshmem_zc *zc);
/* Frees @zc; false (and nothing freed) while mbufs still hold slots. */
bool ivshmem_zc_destroy(struct ivshmem_zc *zc);
uint16_t ivshmem_rx_burst_zc(void *rxq, struct rte_mbuf **pkts, uint16_t n);

#endif /* IVSHMEM_ETHDEV_H */
