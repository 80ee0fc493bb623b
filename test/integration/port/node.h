/* SPDX-License-Identifier: BSD-3-Clause */
/* One test peer: a device and its ports to other peers. */
#ifndef IT_NODE_H
#define IT_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ivsh_port.h"

#define NODE_MAX_PORTS 8

struct node {
	struct ivsh_dev *dev;
	uint16_t id;
	int nports;
	struct ivsh_port *port[NODE_MAX_PORTS];
	uint16_t peer[NODE_MAX_PORTS];
};

/** Open "server:SOCK" (exits the process with a message on failure). */
void node_open(struct node *n, const char *sock);

/** Open a port to @p peer with layout/mode from @p tmpl (peer overridden). */
struct ivsh_port *node_port(struct node *n, uint16_t peer,
			    const struct ivsh_port_conf *tmpl);

/** Heartbeat every port. @return number of ports whose link is up. */
int node_links(struct node *n);

/** Wait until every port's link is up. @return 0 or -1 on timeout. */
int node_wait_links(struct node *n, int timeout_ms);

/**
 * Interrupt-mode sleep over all ports (queue 0, which share the device's
 * vector 0): arm each, sleep on the fd unless one has frames, acknowledge,
 * disarm.
 */
void node_intr_wait(struct node *n, int timeout_ms);

/** Sum of the xstats whose name contains any of the NULL-ended words. */
uint64_t node_xstat_sum(struct ivsh_port *p, const char *const *words);

/** Print the non-zero xstats, prefixed. */
void node_print_xstats(struct ivsh_port *p, const char *prefix, FILE *out);

/** Close everything. */
void node_close(struct node *n);

#endif /* IT_NODE_H */
