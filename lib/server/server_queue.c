/* SPDX-License-Identifier: BSD-3-Clause */
/* Reference-counted descriptors and the per-client output queue. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "server_private.h"

struct fdref *fdref_new(int fd)
{
	struct fdref *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->refs = 1;
	return r;
}

struct fdref *fdref_get(struct fdref *r)
{
	r->refs++;
	return r;
}

void fdref_put(struct fdref *r)
{
	if (!r || --r->refs)
		return;
	close(r->fd);
	free(r);
}

static int msgq_grow(struct msgq *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 16;
	struct qmsg *s;

	if (cap < q->cap) /* 2^32 messages: not reachable with sane limits */
		return -ENOMEM;
	s = malloc(sizeof(*s) * cap);
	if (!s)
		return -ENOMEM;
	/* Unroll the ring into the new storage, oldest first. */
	for (uint32_t i = 0; i < q->len; i++)
		s[i] = q->slot[(q->head + i) & (q->cap - 1)];
	free(q->slot);
	q->slot = s;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int msgq_push(struct msgq *q, int64_t value, struct fdref *fd)
{
	struct qmsg *m;

	if (q->len == q->cap && msgq_grow(q) < 0) {
		fdref_put(fd);
		return -ENOMEM;
	}
	m = &q->slot[(q->head + q->len) & (q->cap - 1)];
	m->value = value;
	m->fd = fd;
	q->len++;
	return 0;
}

struct qmsg *msgq_front(struct msgq *q)
{
	return q->len ? &q->slot[q->head] : NULL;
}

void msgq_pop(struct msgq *q)
{
	if (!q->len)
		return;
	fdref_put(q->slot[q->head].fd);
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	/* A drained backlog gives its memory back. */
	if (!q->len && q->cap > 1024) {
		free(q->slot);
		q->slot = NULL;
		q->cap = 0;
		q->head = 0;
	}
}

void msgq_clear(struct msgq *q)
{
	while (q->len)
		msgq_pop(q);
	free(q->slot);
	q->slot = NULL;
	q->cap = 0;
	q->head = 0;
}

bool msgq_withdraw_peer(struct msgq *q, int64_t id, unsigned int nv,
			uint32_t *head_count)
{
	uint32_t mask = q->cap - 1, found = 0, from = 0, j, before = 0;

	if (!q->len || !nv)
		return false;
	/* Back from the newest message to the last gone notice for @id:
	 * only the current announcement of @id lies after it. */
	for (uint32_t i = q->len; i-- > 0;) {
		const struct qmsg *m = &q->slot[(q->head + i) & mask];

		if (m->value != id)
			continue;
		if (!m->fd) {
			from = i + 1;
			break;
		}
		found++;
	}
	if (found != nv)
		return false; /* partly sent: the peer saw it */
	/* Compact in place, oldest first, dropping those messages. */
	j = from;
	for (uint32_t i = from; i < q->len; i++) {
		struct qmsg *m = &q->slot[(q->head + i) & mask];

		if (m->value == id && m->fd) {
			fdref_put(m->fd);
			if (i < *head_count)
				before++;
			continue;
		}
		q->slot[(q->head + j++) & mask] = *m;
	}
	q->len = j;
	*head_count -= before;
	return true;
}
