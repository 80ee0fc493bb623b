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
 *
 * Asking the kernel (SIOCOUTQ) about every connection of a user for
 * every flush would cost a system call per client per client served, so
 * a connect among many peers would cost their square. Instead each
 * connection keeps an upper bound of what it has unread (one more per
 * message sent) and each user their sum. The connections of a user are
 * asked for the truth only when that bound leaves less room than the
 * caller needs; otherwise the decision is the same either way.
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

/* One user of the clients; kept until the server goes. */
struct user_share {
	uid_t uid;
	unsigned long bound;      /* sum of its connections' bounds */
	struct user_share *next;
};

struct held_sock {
	int sock;
	struct user_share *user;
	unsigned int unread_bound;
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

void srv_inflight_init(struct ivsh_server *srv)
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
}

unsigned int srv_unread_messages(const struct ivsh_server *srv, int sock)
{
	int n = 0;

	if (sock < 0 || ioctl(sock, SIOCOUTQ, &n) < 0 || n <= 0)
		return 0;
	return ((unsigned int)n + srv->msg_cost - 1) / srv->msg_cost;
}

struct user_share *srv_inflight_user(struct ivsh_server *srv, uid_t uid)
{
	struct user_share *u;

	for (u = srv->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (u) {
		u->uid = uid;
		u->next = srv->users;
		srv->users = u;
	}
	return u;
}

/* Replace @p u's bounds by what the kernel says is unread now (clients
 * already dead count from their reaping on, as held sockets). */
static void refresh(struct ivsh_server *srv, struct user_share *u)
{
	u->bound = 0;
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->user != u)
			continue;
		c->unread_bound = c->dead ? 0 :
				  srv_unread_messages(srv, c->sock);
		u->bound += c->unread_bound;
	}
	for (struct held_sock *h = srv->held; h; h = h->next) {
		if (h->user != u)
			continue;
		h->unread_bound = srv_unread_messages(srv, h->sock);
		u->bound += h->unread_bound;
	}
}

static unsigned int room_left(const struct ivsh_server *srv,
			      const struct user_share *u)
{
	return u->bound >= srv->inflight_share ?
	       0 : (unsigned int)(srv->inflight_share - u->bound);
}

unsigned int srv_inflight_room(struct ivsh_server *srv, struct user_share *u,
			       unsigned int need)
{
	if (room_left(srv, u) >= need && need > 0)
		return room_left(srv, u);
	refresh(srv, u);
	return room_left(srv, u);
}

void srv_inflight_sent(struct client *c)
{
	c->unread_bound++;
	c->user->bound++;
}

void srv_inflight_hold(struct ivsh_server *srv, struct client *c)
{
	unsigned int n = srv_unread_messages(srv, c->sock);
	struct held_sock *h;

	c->user->bound -= c->unread_bound;
	c->unread_bound = 0;
	if (n == 0 || (h = malloc(sizeof(*h))) == NULL) {
		close(c->sock);
		c->sock = -1;
		return;
	}
	/* Nothing more goes either way; the client may still read. */
	shutdown(c->sock, SHUT_RD);
	h->sock = c->sock;
	h->user = c->user;
	h->unread_bound = n;
	h->user->bound += n;
	h->next = srv->held;
	srv->held = h;
	c->sock = -1;
}

bool srv_inflight_sweep(struct ivsh_server *srv)
{
	struct held_sock **pp = &srv->held;
	bool freed = false;

	while (*pp) {
		struct held_sock *h = *pp;
		unsigned int n = srv_unread_messages(srv, h->sock);

		h->user->bound -= h->unread_bound;
		h->unread_bound = n;
		h->user->bound += n;
		if (n != 0) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		close(h->sock);
		free(h);
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
	while (srv->users) {
		struct user_share *u = srv->users;

		srv->users = u->next;
		free(u);
	}
}
