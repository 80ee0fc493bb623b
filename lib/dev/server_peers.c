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
	atomic_init(&t->busy, 0);
	t->grave = NULL;
	t->ngrave = 0;
	t->grave_cap = 0;
}

/* Close the fds held back, unless a doorbell is still writing. */
static void bury(struct server_peers *t)
{
	if (t->ngrave == 0 || atomic_load(&t->busy) != 0)
		return;
	for (size_t i = 0; i < t->ngrave; i++)
		close(t->grave[i]);
	t->ngrave = 0;
}

static void close_fd(struct server_peers *t, int fd)
{
	if (atomic_load(&t->busy) != 0) {
		if (t->ngrave == t->grave_cap) {
			size_t cap = t->grave_cap ? t->grave_cap * 2 : 16;
			int *g = realloc(t->grave, cap * sizeof(*g));

			if (g != NULL) {
				t->grave = g;
				t->grave_cap = cap;
			}
		}
		if (t->ngrave < t->grave_cap) {
			t->grave[t->ngrave++] = fd;
			return;
		}
	}
	close(fd);
}

static void free_peer(struct server_peers *t, struct server_peer *p)
{
	for (unsigned int i = 0; i < p->nvec; i++) {
		if (p->fds[i] >= 0)
			close_fd(t, p->fds[i]);
	}
	free(p);
}

void server_peers_fini(struct server_peers *t)
{
	/* The device is being closed: no doorbell may run any more. */
	atomic_store(&t->busy, 0);
	bury(t);
	free(t->grave);
	t->grave = NULL;
	t->grave_cap = 0;
	for (size_t i = 0; i < t->count; i++)
		free_peer(t, t->v[i]);
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
	bury(t);
	p = server_peers_find(t, id);
	if (p == NULL)
		p = insert(t, id);
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (p->fds[vector] >= 0)
		close_fd(t, p->fds[vector]);
	p->fds[vector] = fd;
	if (vector >= p->nvec)
		p->nvec = (uint16_t)(vector + 1);
	return 0;
}

int server_peers_remove(struct server_peers *t, uint16_t id)
{
	size_t i = lower_bound(t, id);

	bury(t);
	if (i >= t->count || t->v[i]->id != id)
		return 0;
	free_peer(t, t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->count - i - 1) * sizeof(*t->v));
	t->count--;
	return 1;
}

int server_peers_hold(struct server_peers *t, uint16_t id, uint16_t vector)
{
	const struct server_peer *p = server_peers_find(t, id);

	if (p == NULL || vector >= p->nvec || p->fds[vector] < 0)
		return -ENXIO;
	atomic_fetch_add(&t->busy, 1);
	return p->fds[vector];
}

void server_peers_release(struct server_peers *t)
{
	atomic_fetch_sub(&t->busy, 1);
}
