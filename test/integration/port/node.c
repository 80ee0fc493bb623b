/* SPDX-License-Identifier: BSD-3-Clause */
#include "node.h"

#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

void node_open(struct node *n, const char *sock)
{
	char name[256];
	int ret;

	memset(n, 0, sizeof(*n));
	snprintf(name, sizeof(name), "server:%s", sock);
	ret = ivsh_dev_open(&n->dev, name, NULL);
	if (ret) {
		fprintf(stderr, "node: open %s: %s (%d)\n", name,
			ivsh_dev_last_error(), ret);
		exit(2);
	}
	n->id = ivsh_dev_id(n->dev);
}

struct ivsh_port *node_port(struct node *n, uint16_t peer,
			    const struct ivsh_port_conf *tmpl)
{
	struct ivsh_port_conf c = *tmpl;
	struct ivsh_port *p;
	int ret;

	c.peer = peer;
	if (c.timeout_ms == 0)
		c.timeout_ms = 10000;
	ret = ivsh_port_open(&p, n->dev, &c);
	if (ret) {
		fprintf(stderr, "node %u: port to %u: %s (%d)\n", n->id, peer,
			ivsh_port_last_error(), ret);
		exit(2);
	}
	n->port[n->nports] = p;
	n->peer[n->nports++] = peer;
	return p;
}

int node_links(struct node *n)
{
	int up = 0;

	for (int i = 0; i < n->nports; i++)
		up += ivsh_port_link_update(n->port[i]) == 1;
	return up;
}

int node_wait_links(struct node *n, int timeout_ms)
{
	uint64_t end = it_now_ms() + (uint64_t)timeout_ms;

	while (node_links(n) < n->nports) {
		if (it_now_ms() > end)
			return -1;
		it_sleep_ms(1);
	}
	return 0;
}

void node_intr_wait(struct node *n, int timeout_ms)
{
	bool ready = false;
	int fd = ivsh_port_rx_intr_fd(n->port[0], 0);

	for (int i = 0; i < n->nports; i++)
		if (ivsh_port_rx_intr_enable(n->port[i], 0) == 1)
			ready = true;
	if (!ready && fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) > 0)
			ivsh_dev_irq_ack(n->dev, 0);
	}
	for (int i = 0; i < n->nports; i++)
		ivsh_port_rx_intr_disable(n->port[i], 0);
}

uint64_t node_xstat_sum(struct ivsh_port *p, const char *const *words)
{
	int nb = ivsh_port_xstats(p, NULL, NULL, 0);
	uint64_t sum = 0;

	if (nb <= 0)
		return 0;
	const char **names = calloc((size_t)nb, sizeof(*names));
	uint64_t *vals = calloc((size_t)nb, sizeof(*vals));

	if (names && vals) {
		nb = ivsh_port_xstats(p, names, vals, (unsigned int)nb);
		for (int i = 0; i < nb; i++)
			for (const char *const *w = words; *w; w++)
				if (names[i] && strstr(names[i], *w)) {
					sum += vals[i];
					break;
				}
	}
	free(names);
	free(vals);
	return sum;
}

void node_print_xstats(struct ivsh_port *p, const char *prefix, FILE *out)
{
	int nb = ivsh_port_xstats(p, NULL, NULL, 0);

	if (nb <= 0)
		return;
	const char **names = calloc((size_t)nb, sizeof(*names));
	uint64_t *vals = calloc((size_t)nb, sizeof(*vals));

	if (names && vals) {
		nb = ivsh_port_xstats(p, names, vals, (unsigned int)nb);
		for (int i = 0; i < nb; i++)
			if (vals[i])
				fprintf(out, "%s%s=%" PRIu64 "\n", prefix,
					names[i], vals[i]);
	}
	free(names);
	free(vals);
}

void node_close(struct node *n)
{
	for (int i = 0; i < n->nports; i++)
		ivsh_port_close(n->port[i]);
	ivsh_dev_close(n->dev);
	memset(n, 0, sizeof(*n));
}
