/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-testpmd: shared state of the program (configuration, queues,
 * counters). One thread drives every queue of one port.
 */
#ifndef TESTPMD_H
#define TESTPMD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "ivsh_port.h"
#include "seqcheck.h"

#define TP_MAX_QUEUES 16
#define TP_MAX_BURST 512
#define TP_MAX_STREAMS TP_MAX_QUEUES
#define TP_DEFAULT_BURST 32
/* --peer auto; without --wait-link it waits this long for peer and link */
#define TP_PEER_AUTO IVSH_PORT_PEER_AUTO
#define TP_AUTO_WAIT_S 30

struct engine;

/** Command-line configuration. */
struct tp_conf {
	const char *device;
	int peer;                /* TP_PEER_AUTO until resolved at open */
	const struct engine *engine;
	uint32_t pkt_len;
	uint16_t burst;
	uint16_t queues;
	bool intr;
	double duration_s;       /* 0: until signalled or --count */
	uint64_t count;          /* 0: unlimited */
	double stats_period_s;   /* 0: no live line */
	bool json;
	bool verify;             /* check every received frame */
	uint32_t ring_size, slot_size;
	uint16_t max_peers;
	int cpu;                 /* -1: no pinning */
	double wait_link_s;      /* 0: do not wait */
	uint32_t flows;          /* flowgen */
	int latency_timeout_ms;  /* latency: a ping is lost after this */
	bool has_eth_dst;        /* eth_dst replaces the peer's MAC */
	uint8_t eth_dst[6];
	bool reattach;           /* survive unplug: wait for the device */
	bool zero_copy;          /* txonly/flowgen/rxonly in the slots */
};

/** Per-queue state and counters. */
struct tp_queue {
	uint16_t id;
	uint32_t tx_seq;          /* next sequence number to send */
	uint16_t tx_pending;      /* built frames not yet accepted */
	uint16_t tx_first;        /* index of the first pending frame */
	uint32_t flow;            /* flowgen: next flow */
	struct ivsh_pkt rx[TP_MAX_BURST];
	struct ivsh_pkt tx[TP_MAX_BURST];
	uint8_t *rx_mem, *tx_mem; /* burst * IVSH_PORT_MAX_FRAME each */

	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t fwd_dropped;     /* forwarded frames the ring refused */
	uint64_t tx_full;         /* tx bursts cut short by a full ring */
};

/** Totals folded over the queues (and the check results). */
struct tp_totals {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t fwd_dropped, tx_full;
	uint64_t port_rx_errors, port_tx_errors, port_ring_full;
};

/** The running program. */
struct testpmd {
	struct tp_conf conf;
	struct ivsh_dev *dev;
	struct ivsh_port *port;
	uint16_t own_id;
	uint8_t own_mac[6], peer_mac[6];
	uint32_t session;         /* random, stamped into every sent frame */
	uint64_t tx_built;        /* frames generated (bounded by --count) */
	struct tp_queue *q;       /* conf.queues entries */

	/* receive checks (rxonly, and latency replies) */
	struct seq_stream streams[TP_MAX_STREAMS];
	struct seq_counts seq;
	uint64_t corrupted;       /* failed pkt_check() */
	uint64_t corrupt_len, corrupt_magic, corrupt_csum;

	/* latency: the one ping in flight, and the samples */
	struct {
		bool waiting;
		uint32_t seq;
		uint64_t sent_tsc;
	} ping;
	struct hist lat;
	uint64_t lat_lost;        /* pings with no reply in time */
	uint64_t lat_stray;       /* replies that were not the awaited one */

	/* link */
	bool link_up;
	uint64_t link_changes;

	/* live statistics: totals at the previous line */
	struct tp_totals live_last;
	uint64_t live_tsc;

	uint64_t start_tsc;       /* traffic start (after --wait-link) */
	uint64_t first_rx_tsc;    /* loop time of the first / last burst */
	uint64_t last_rx_tsc;     /* that received anything (0: none) */
	uint64_t now_tsc;         /* refreshed once per loop iteration */

	/* hot-unplug (reattach.c) */
	bool removed;             /* the device was unplugged */
	char reattach_name[NAME_MAX + 96]; /* re-plugged device string */
	uint64_t dev_seen_ns;     /* reattach: when the new device showed */
	uint64_t layout_identity; /* of the region before the removal */
};

/** Open the device and the port of tp->conf (prints why not). */
int tp_open_port(struct testpmd *tp);

/** Set by SIGINT/SIGTERM. */
extern volatile sig_atomic_t tp_stop;

/** Sum the per-queue and port counters. */
void tp_totals(const struct testpmd *tp, struct tp_totals *t);

/** Account one received frame (verify + sequence check). */
void tp_check_rx(struct testpmd *tp, uint8_t *buf, uint32_t len);

/**
 * Send the queue's pending frames (tx[tx_first..]) with as few retries as
 * the engine wants. @return frames accepted now.
 */
uint16_t tp_tx_pending(struct testpmd *tp, struct tp_queue *q);

/** Refill rx[] capacities, then receive a burst. @return frames. */
uint16_t tp_rx(struct testpmd *tp, struct tp_queue *q);

#endif /* TESTPMD_H */
