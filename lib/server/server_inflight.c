/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Descriptors in flight, a share per user.
 *
 * Linux counts every descriptor the server has sent and nobody has
 * received yet against the server's own RLIMIT_NOFILE (unless it runs
 * privileged). A client that never reads keeps them there, also after the
 * server has dropped it, until it closes its end. So one user's clients
 * could hold the whole limit and starve everyone else. Each user of the
 * clients therefore gets a share: messages sent to its connections and
 * not read yet, counting connections already dropped, may not pass it.
 * A dropped connection with unread messages is held open, because only
 * our end can tell how much is still unread, until the client reads them
 * or closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "server_private.h"

#define MIN_SHARE 16u

struct held_sock {
	int sock;
	uid_t uid;
	struct held_sock *next;
};

/*
 * SIOCOUTQ on a UNIX socket gives the memory its unread messages take,
 * not their bytes. The server sends each message alone, so every unread
 * message takes the same amount: measure it once on a socket pair.
 */
static unsigned int measure_message_cost(void)
{
	int sv[2], one = 0, two = 0;
	unsigned int cost = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (ivsh_proto_send(sv[0], 1, sv[0]) == 0 &&
	    ioctl(sv[0], SIOCOUTQ, &one) == 0 &&
	    ivsh_proto_send(sv[0], 2, -1) == 0 &&
	    ioctl(sv[0], SIOCOUTQ, &two) == 0 && two > one && one > 0)
		cost = (unsigned int)(two - one < one ? two - one : one);
	close(sv[0]);
	close(sv[1]);
	return cost;
}

int srv_inflight_init(struct ivsh_server *srv)
{
	struct rlimit rl;
	unsigned int share = srv->conf.max_inflight_per_user;

	srv->msg_cost = measure_message_cost();
	if (srv->msg_cost == 0)
		srv->msg_cost = 8; /* bytes: still an upper bound */
	if (share == 0) {
		share = UINT32_MAX;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < share)
			share = (unsigned int)(rl.rlim_cur / 4);
		if (share < MIN_SHARE)
			share = MIN_SHARE;
	}
	srv->inflight_share = share;
	return 0;
}

unsigned int srv_unread_messages(const struct ivsh_server *srv, int sock)
{
	int n = 0;

	if (sock < 0 || ioctl(sock, SIOCOUTQ, &n) < 0 || n <= 0)
		return 0;
	return ((unsigned int)n + srv->msg_cost - 1) / srv->msg_cost;
}

static unsigned int user_unread(const struct ivsh_server *srv, uid_t uid)
{
	unsigned int sum = 0;

	for (const struct client *c = srv->clients; c; c = c->next)
		if (c->uid == uid && !c->dead)
			sum += srv_unread_messages(srv, c->sock);
	for (const struct held_sock *h = srv->held; h; h = h->next)
		if (h->uid == uid)
			sum += srv_unread_messages(srv, h->sock);
	return sum;
}

unsigned int srv_inflight_room(const struct ivsh_server *srv, uid_t uid)
{
	unsigned int used = user_unread(srv, uid);

	return used >= srv->inflight_share ? 0 : srv->inflight_share - used;
}

void srv_inflight_hold(struct ivsh_server *srv, int sock, uid_t uid)
{
	struct held_sock *h;

	if (sock < 0)
		return;
	if (srv_unread_messages(srv, sock) == 0 ||
	    (h = malloc(sizeof(*h))) == NULL) {
		close(sock);
		return;
	}
	/* Nothing more goes either way; the client may still read. */
	shutdown(sock, SHUT_RD);
	h->sock = sock;
	h->uid = uid;
	h->next = srv->held;
	srv->held = h;
	srv->nheld++;
}

bool srv_inflight_sweep(struct ivsh_server *srv)
{
	struct held_sock **pp = &srv->held;
	bool freed = false;

	while (*pp) {
		struct held_sock *h = *pp;

		if (srv_unread_messages(srv, h->sock) != 0) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		close(h->sock);
		free(h);
		srv->nheld--;
		freed = true;
	}
	return freed;
}

void srv_inflight_fini(struct ivsh_server *srv)
{
	while (srv->held) {
		struct held_sock *h = srv->held;

		srv->held = h->next;
		close(h->sock);
		free(h);
	}
	srv->nheld = 0;
}
