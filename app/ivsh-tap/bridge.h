/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding loop of ivsh-tap: ivshmem port <-> TAP interface. */
#ifndef IVSH_TAP_BRIDGE_H
#define IVSH_TAP_BRIDGE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ivsh_port.h"

#define BRIDGE_BURST 32

struct bridge_stats {
	uint64_t to_tap, to_tap_bytes;   /* port -> kernel */
	uint64_t to_port, to_port_bytes; /* kernel -> port */
	uint64_t bad_hdr;       /* from the peer: short frame or bad vnet header */
	uint64_t tap_write_err; /* the kernel refused a frame */
	uint64_t oversize;      /* from the kernel: larger than the port carries */
	uint64_t link_down;     /* from the kernel while the link was down */
	uint64_t link_changes;
	uint64_t sleeps;        /* intr mode: times the loop slept */
};

struct bridge {
	struct ivsh_dev *dev;
	struct ivsh_port *port;
	int tap_fd;
	const char *ifname;
	bool offload;           /* frames carry a virtio-net header */
	bool intr;              /* sleep when idle */
	uint32_t max_frame;     /* the port's largest frame */
	bool link_up;
	struct bridge_stats st;
};

/**
 * Forward until @p stop is set. Allocates its buffers.
 * @return 0; -ENOMEM.
 */
int bridge_run(struct bridge *b, volatile sig_atomic_t *stop);

/** Print the counters (one "name value" per line) to stderr. */
void bridge_print_stats(const struct bridge *b);

/**
 * Whether a frame received from the peer may be handed to the kernel:
 * long enough for the header and an Ethernet header and, in offload
 * mode, a virtio-net header describing something the frame can hold.
 * Exposed for the unit test.
 */
bool bridge_frame_ok(const uint8_t *frame, uint32_t len, bool offload);

#endif /* IVSH_TAP_BRIDGE_H */
