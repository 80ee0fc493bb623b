/* SPDX-License-Identifier: BSD-3-Clause */
/* Peer table of the server: backend (a sorted array of peers). */
#include "server_peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void server_peers_init(struct server_peers *t, unsigned int max_vectors)
{
	t->v = NULL;
	t->count = 0;
	t->cap = 0;
	t->max_vectors = max_vectors;
}

static void free_peer(struct server_peer *p)
{
	for (unsigned int i = 0; i < p->nvec; i++) {
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	}
	free(p);
}

void server_peers_fini(struct server_peers *t)
{
	for (size_t i = 0; i < t->count; i++)
		free_peer(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->count = 0;
	t->cap = 0;
}

/* Index of @id, or of where it would be inserted. */
static size_t lower_bound(const struct server_peers *t, uint16_t id)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct server_peer *server_peers_find(const struct server_peers *t,
				      uint16_t id)
{
	size_t i = lower_bound(t, id);

	return i < t->count && t->v[i]->id == id ? t->v[i] : NULL;
}

static struct server_peer *insert(struct server_peers *t, uint16_t id)
{
	size_t i = lower_bound(t, id);
	struct server_peer *p;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct server_peer **v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	p = malloc(sizeof(*p) + t->max_vectors * sizeof(int));
	if (p == NULL)
		return NULL;
	p->id = id;
	p->nvec = 0;
	for (unsigned int k = 0; k < t->max_vectors; k++)
		p->fds[k] = -1;
	memmove(&t->v[i + 1], &t->v[i], (t->count - i) * sizeof(*t->v));
	t->v[i] = p;
	t->count++;
	return p;
}

int server_peers_add_vector(struct server_peers *t, uint16_t id,
			    uint16_t vector, int fd)
{
	struct server_peer *p;

	if (vector >= t->max_vectors) {
		close(fd);
		return 0;
	}
	p = server_peers_find(t, id);
	if (p == NULL)
		p = insert(t, id);
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (p->fds[vector] >= 0)
		close(p->fds[vector]);
	p->fds[vector] = fd;
	if (vector >= p->nvec)
		p->nvec = (uint16_t)(vector + 1);
	return 0;
}

int server_peers_remove(struct server_peers *t, uint16_t id)
{
	size_t i = lower_bound(t, id);

	if (i >= t->count || t->v[i]->id != id)
		return 0;
	free_peer(t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->count - i - 1) * sizeof(*t->v));
	t->count--;
	return 1;
}
