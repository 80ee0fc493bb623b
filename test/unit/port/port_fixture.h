/* SPDX-License-Identifier: BSD-3-Clause */
/* Two peers (ID 0 and 1) on one shm: file, in one process. */
#ifndef PORT_FIXTURE_H
#define PORT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"

struct pair {
	char path[128];
	struct ivsh_dev *dev[2];
	struct ivsh_port *port[2];
};

static inline int pair_open_dev(struct pair *pr, int id, const char *size)
{
	char name[256];

	snprintf(name, sizeof(name), "shm:%s,id=%d,size=%s", pr->path, id, size);
	return ivsh_dev_open(&pr->dev[id], name, NULL);
}

static inline void pair_path(struct pair *pr, const char *tag)
{
	static int seq;

	snprintf(pr->path, sizeof(pr->path), "/dev/shm/ivsh-utest-%s-%d-%d",
		 tag, (int)getpid(), seq++);
	unlink(pr->path);
}

/* Open both devices and both ports with @p conf (peer filled in). */
static inline int pair_open(struct pair *pr, const char *tag, const char *size,
			    const struct ivsh_port_conf *conf)
{
	struct ivsh_port_conf c = conf ? *conf : (struct ivsh_port_conf){ 0 };
	int rc;

	memset(pr, 0, sizeof(*pr));
	pair_path(pr, tag);
	if ((rc = pair_open_dev(pr, 0, size)) < 0)
		return rc;
	if ((rc = pair_open_dev(pr, 1, size)) < 0)
		return rc;
	c.peer = 1;
	if ((rc = ivsh_port_open(&pr->port[0], pr->dev[0], &c)) < 0)
		return rc;
	c.peer = 0;
	if ((rc = ivsh_port_open(&pr->port[1], pr->dev[1], &c)) < 0)
		return rc;
	return 0;
}

static inline void pair_close(struct pair *pr)
{
	for (int i = 0; i < 2; i++) {
		ivsh_port_close(pr->port[i]);
		ivsh_dev_close(pr->dev[i]);
	}
	unlink(pr->path);
}

/* Link both ways: a few rounds of link_update on each side. */
static inline void pair_link(struct pair *pr)
{
	for (int i = 0; i < 4; i++) {
		ivsh_port_link_update(pr->port[0]);
		ivsh_port_link_update(pr->port[1]);
	}
}

/*
 * cmocka setup/teardown bodies: a linked pair over a 4 MiB shm: file
 * named after @tag in *state.
 */
static inline int pair_setup(void **state, const char *tag)
{
	struct pair *pr = calloc(1, sizeof(*pr));

	if (pr == NULL || pair_open(pr, tag, "4M", NULL) < 0) {
		fprintf(stderr, "pair_open: %s / %s\n", ivsh_dev_last_error(),
			ivsh_port_last_error());
		free(pr);
		return -1;
	}
	pair_link(pr);
	*state = pr;
	return 0;
}

static inline int pair_teardown(void **state)
{
	pair_close(*state);
	free(*state);
	return 0;
}

static inline uint64_t port_xstat(const struct ivsh_port *p, const char *name)
{
	const char *names[64];
	uint64_t vals[64];
	int n = ivsh_port_xstats(p, names, vals, 64);

	for (int i = 0; i < n && i < 64; i++)
		if (strcmp(names[i], name) == 0)
			return vals[i];
	fprintf(stderr, "no xstat %s\n", name);
	abort();
}

#endif /* PORT_FIXTURE_H */
