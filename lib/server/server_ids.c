/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Choosing a new client's ID.
 *
 * IVSH_SERVER_IDS_LOWEST: the lowest unused ID.
 * Either way, pinned IDs (server_pinned.c) are skipped: they are handed
 * out only on their own sockets.
 *
 * IVSH_SERVER_IDS_SAFE: QEMU's ivshmem device (as in QEMU 7.2) frees a
 * departed peer's eventfd array on the disconnect notice but keeps the
 * pointer, and writes into it when a peer with the same ID connects later.
 * So an ID must not come back while any client that got its disconnect
 * notice is still connected. Every client gets a connect serial from a
 * counter that only grows; a freed ID records the counter's value at that
 * moment. Clients connected then have serials no greater than it, clients
 * connected later have greater ones, so the ID is safe to hand out iff the
 * oldest connected client (smallest serial) is newer than the release.
 * IDs never freed record 0 and serials start at 1.
 *
 * Held-back IDs are a resource one user could use up by connecting and
 * closing in a loop while a peer stays: each freed ID records the user
 * that held it, and a user accounting for srv_ids_user_quota() held-back
 * IDs gets no new ID (-EDQUOT) until they come free. Other users are not
 * affected. The server's own user has no share: it could stop the server
 * anyway. A departure nobody was told of (withdrawn announcements,
 * server_client.c) frees its ID at once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "server_private.h"

int srv_ids_init(struct ivsh_server *srv)
{
	if (srv->conf.id_policy != IVSH_SERVER_IDS_SAFE)
		return 0;
	/* IDs stay below max_clients (at most 65536 entries, 512 KiB). */
	srv->id_released = calloc(srv->conf.max_clients,
				  sizeof(*srv->id_released));
	srv->id_released_by = calloc(srv->conf.max_clients,
				     sizeof(*srv->id_released_by));
	return srv->id_released && srv->id_released_by ? 0 : -ENOMEM;
}

void srv_ids_fini(struct ivsh_server *srv)
{
	free(srv->id_released);
	free(srv->id_released_by);
	srv->id_released = NULL;
	srv->id_released_by = NULL;
}

unsigned int srv_ids_user_quota(const struct ivsh_server *srv)
{
	unsigned int q = srv->conf.max_clients / 16;

	return q < 4 ? 4 : q;
}

void srv_ids_connected(struct ivsh_server *srv, struct client *c)
{
	c->serial = ++srv->conn_serial;
}

void srv_ids_released(struct ivsh_server *srv, const struct client *c)
{
	if (srv->id_released) {
		srv->id_released[c->id] = srv->conn_serial;
		srv->id_released_by[c->id] = c->uid;
	}
}

/* Lowest unused ID. */
static int pick_lowest(struct ivsh_server *srv, struct client **after)
{
	unsigned int id = 0;

	struct client *c = srv->clients;

	/* Walk the ID-sorted list alongside the candidates; pinned IDs are
	 * only handed out on their own sockets. */
	for (; id < srv->conf.max_clients; id++) {
		if (c && c->id == id) {
			*after = c;
			c = c->next;
			continue;
		}
		if (!srv_id_pinned(srv, id))
			break;
	}
	return id < srv->conf.max_clients ? (int)id : -ENOSPC;
}

/* Lowest unused ID that no connected client saw being freed. */
static int pick_safe(struct ivsh_server *srv, uid_t uid,
		     struct client **after)
{
	unsigned int max = srv->conf.max_clients;
	unsigned int id = 0, skipped = 0, first_skipped = 0, mine = 0;
	uint64_t oldest = UINT64_MAX; /* no client: every ID is safe */
	bool limited = uid != geteuid();
	struct client *c;

	if (srv->nclients >= max)
		return -ENOSPC;
	for (c = srv->clients; c; c = c->next)
		if (c->serial < oldest)
			oldest = c->serial;
	/* IDs in use have id_released below oldest: they do not count.
	 * Our own user is not limited: it could stop the server anyway. */
	for (unsigned int i = 0; limited && i < max; i++)
		if (srv->id_released[i] >= oldest &&
		    srv->id_released_by[i] == uid)
			mine++;
	if (limited && mine >= srv_ids_user_quota(srv))
		return -EDQUOT;
	/* The list is sorted by ID: walk it alongside the candidates. */
	for (c = srv->clients; id < max; id++) {
		if (c && c->id == id) {
			*after = c;
			c = c->next;
			continue;
		}
		if (srv_id_pinned(srv, id))
			continue;
		if (srv->id_released[id] < oldest)
			break;
		if (!skipped++)
			first_skipped = id;
	}
	if (skipped && id < max) {
		srv->st.ids_held_back++;
		srv_log(srv, LOG_DEBUG,
			"ID %u held back (%u IDs in all): a client that saw it freed is still connected; using ID %u",
			first_skipped, skipped, id);
	}
	return id < max ? (int)id : -EBUSY;
}

int srv_ids_pick(struct ivsh_server *srv, uid_t uid, struct client **after)
{
	*after = NULL;
	if (srv->id_released)
		return pick_safe(srv, uid, after);
	return pick_lowest(srv, after);
}
