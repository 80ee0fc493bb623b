/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clients: accepting, the handshake, notifications, the non-blocking
 * output queue, and disconnecting.
 *
 * Disconnects are deferred: a client found broken is marked dead and put
 * on a list; srv_settle() later closes it and notifies the others. So no
 * function ever frees a client that a caller up the stack still uses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "server_private.h"

/* Connections accepted per listener event, so clients cannot starve the
 * rest of the loop. */
#define ACCEPT_BATCH 64

void srv_client_kill(struct ivsh_server *srv, struct client *c,
		     uint64_t *counter, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = true;
	/* A counted cause is misbehaviour or trouble; a hang-up is not. */
	c->why_level = counter ? LOG_WARNING : LOG_INFO;
	if (counter)
		(*counter)++;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->next_dead = srv->dead;
	srv->dead = c;
}

void srv_mark_dirty(struct ivsh_server *srv, struct client *c)
{
	if (c->dirty || c->dead)
		return;
	c->dirty = true;
	c->next_dirty = srv->dirty;
	srv->dirty = c;
}

/* Queue one message; @p fd is borrowed (the queue takes its own ref). */
static void enqueue(struct ivsh_server *srv, struct client *c, int64_t value,
		    struct fdref *fd)
{
	if (c->dead)
		return;
	if (c->out.len >= c->queue_limit) {
		srv_client_kill(srv, c, &srv->st.dropped_slow,
				"not reading: output queue full (%u messages)",
				c->out.len);
		return;
	}
	if (msgq_push(&c->out, value, fd ? fdref_get(fd) : NULL) < 0) {
		srv_client_kill(srv, c, &srv->st.dropped_error,
				"out of memory for its output queue");
		return;
	}
	srv_mark_dirty(srv, c);
}

static void set_events(struct ivsh_server *srv, struct client *c,
		       uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->tag };

	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->sock, &ev) < 0)
		srv_client_kill(srv, c, &srv->st.dropped_error,
				"epoll_ctl: %s", strerror(errno));
}

#define CLIENT_EVENTS (EPOLLIN | EPOLLRDHUP)

/* Send queued messages until the queue is empty or the socket is full. */
static void flush(struct ivsh_server *srv, struct client *c)
{
	bool progress = false, share = false;
	unsigned int room = 0;
	bool room_known = false;
	struct qmsg *m;

	while (!c->dead && (m = msgq_front(&c->out)) != NULL) {
		int rc;

		/* A descriptor only within its user's share (see
		 * server_inflight.c), counted once per flush. */
		if (m->fd && !room_known) {
			room = srv_inflight_room(srv, c->user, c->out.len);
			room_known = true;
		}
		if (m->fd && room == 0) {
			rc = -ETOOMANYREFS;
			share = true;
		} else {
			rc = ivsh_proto_send(c->sock, m->value,
					     m->fd ? m->fd->fd : -1);
			if (rc == 0)
				srv_inflight_sent(c);
			if (rc == 0 && m->fd)
				room--;
		}

		/*
		 * EAGAIN: the client's socket is full; EPOLLOUT says when it
		 * has room. ETOOMANYREFS: too many of our descriptors are in
		 * flight in unread sockets (a per-user limit for non-root);
		 * likely not this client's doing: retry on the timer, and
		 * srv_check_stalls() drops whoever holds the most unread.
		 */
		if (rc == -EAGAIN || rc == -ETOOMANYREFS) {
			bool refs = rc == -ETOOMANYREFS;
			bool newly = !c->blocked;

			if (newly) {
				c->blocked = true;
				srv->nblocked++;
			}
			/* The stall clock runs from the last progress. */
			if (newly || progress)
				c->stall_since_ms = srv_now_ms();
			c->share_blocked = share;
			if (newly || refs != c->refs_blocked) {
				c->refs_blocked = refs;
				set_events(srv, c, CLIENT_EVENTS |
					   (refs ? 0 : EPOLLOUT));
			}
			return;
		}
		if (rc == -EPIPE || rc == -ECONNRESET) {
			srv_client_kill(srv, c, NULL,
					"connection closed by the client");
			return;
		}
		if (rc < 0) {
			srv_client_kill(srv, c, &srv->st.dropped_error,
					"send failed: %s", strerror(-rc));
			return;
		}
		msgq_pop(&c->out);
		srv->st.messages_sent++;
		progress = true;
		if (c->handshake_left && !--c->handshake_left)
			srv_log(srv, LOG_DEBUG, "client %u: handshake sent",
				(unsigned int)c->id);
	}
	if (c->blocked && !c->dead) {
		c->blocked = false;
		c->refs_blocked = false;
		c->share_blocked = false;
		srv->nblocked--;
		set_events(srv, c, CLIENT_EVENTS);
	}
}

void srv_client_free(struct client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	msgq_clear(&c->out);
	for (int v = 0; v < IVSH_PROTO_MAX_VECTORS; v++)
		fdref_put(c->vec[v]);
	free(c);
}

static void unlink_client(struct ivsh_server *srv, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nclients--;
}

/* Close a dead client and tell everyone else it has gone. */
static void reap(struct ivsh_server *srv, struct client *c)
{
	unsigned int told = 0;

	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	if (c->blocked)
		srv->nblocked--;
	unlink_client(srv, c);
	srv->st.disconnects++;
	if (srv_log_client_ok(srv, c->why_level))
		srv_log(srv, c->why_level,
			"client %u disconnected: %s (%u left)",
			(unsigned int)c->id, c->why, srv->nclients);
	/*
	 * A client still holding the whole announcement of @c unsent never
	 * hears of it: the announcement is withdrawn and no notice is owed.
	 * So a connect/close flood cannot pile up behind a slow reader.
	 */
	for (struct client *o = srv->clients; o; o = o->next) {
		if (o->dead || msgq_withdraw_peer(&o->out, c->id,
						  srv->conf.vectors,
						  &o->handshake_left))
			continue;
		enqueue(srv, o, c->id, NULL);
		told++;
	}
	/* Nobody saw it come and go: its ID is free at once (safe IDs). */
	if (told)
		srv_ids_released(srv, c);
	/* Eventfds queued for others stay open through their references;
	 * those it has not read stay in flight until it reads or closes. */
	srv_inflight_hold(srv, c);
	srv_client_free(c);
	srv->fd_freed = true;
}

void srv_settle(struct ivsh_server *srv)
{
	/*
	 * Alternate: flush every client with new output, then reap the dead.
	 * A dead client still on the dirty list is reaped only after the
	 * next flush pass has unhooked it. Each client dies once, so this
	 * ends.
	 */
	for (;;) {
		struct client *d = srv->dirty, *keep = NULL;

		srv->dirty = NULL;
		while (d) {
			struct client *next = d->next_dirty;

			d->dirty = false;
			/* A full socket waits for EPOLLOUT; a descriptor
			 * shortage is retried whenever asked. */
			if (!d->dead && (!d->blocked || d->refs_blocked))
				flush(srv, d);
			d = next;
		}
		if (!srv->dead)
			break;
		d = srv->dead;
		srv->dead = NULL;
		while (d) {
			struct client *next = d->next_dead;

			if (d->dirty) {
				d->next_dead = keep;
				keep = d;
			} else {
				reap(srv, d);
			}
			d = next;
		}
		while (keep) {
			struct client *next = keep->next_dead;

			keep->next_dead = srv->dead;
			srv->dead = keep;
			keep = next;
		}
	}
}

static void insert_after(struct ivsh_server *srv, struct client *c,
			 struct client *after)
{
	c->prev = after;
	c->next = after ? after->next : srv->clients;
	if (c->next)
		c->next->prev = c;
	if (after)
		after->next = c;
	else
		srv->clients = c;
	srv->nclients++;
}

static int make_vectors(struct ivsh_server *srv, struct client *c)
{
	for (unsigned int v = 0; v < srv->conf.vectors; v++) {
		/* Non-blocking like QEMU's: readers drain without waiting. */
		int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

		if (efd < 0)
			return -errno;
		c->vec[v] = fdref_new(efd);
		if (!c->vec[v]) {
			close(efd);
			return -ENOMEM;
		}
	}
	return 0;
}

void srv_add_client(struct ivsh_server *srv, int sock, int want_id)
{
	unsigned int nv = srv->conf.vectors;
	struct epoll_event ev;
	struct client *c, *after;
	int id, rc;

	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uid_t uid = (uid_t)-1;
	struct user_share *user;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		uid = cred.uid;
	user = srv_inflight_user(srv, uid);
	if (!user) {
		srv->st.rejected_resources++;
		srv_log(srv, LOG_ERR, "rejecting client: out of memory");
		close(sock);
		return;
	}
	if (srv_inflight_room(srv, user, 1) == 0) {
		srv->st.rejected_inflight++;
		if (srv_log_client_ok(srv, LOG_WARNING))
			srv_log(srv, LOG_WARNING,
				"rejecting client of uid %u: its connections leave its share of %u descriptors in flight unread",
				(unsigned int)uid, srv->inflight_share);
		close(sock);
		return;
	}
	if (want_id >= 0) {
		id = srv_ids_take(srv, (unsigned int)want_id, &after);
		if (id < 0) {
			srv->st.rejected_pinned++;
			if (srv_log_client_ok(srv, LOG_WARNING))
				srv_log(srv, LOG_WARNING,
					"rejecting client on the socket of ID %d: %s",
					want_id, id == -EEXIST ? "the ID is held by a connected client" :
					"a connected client saw the ID leave (safe ID policy)");
			close(sock);
			return;
		}
	} else {
		id = srv_ids_pick(srv, uid, &after);
	}
	if (id == -EDQUOT) {
		srv->st.rejected_ids++;
		if (srv_log_client_ok(srv, LOG_WARNING))
			srv_log(srv, LOG_WARNING,
				"rejecting client of uid %u: %u IDs it freed are held back, its share (safe ID policy)",
				(unsigned int)uid, srv_ids_user_quota(srv));
		close(sock);
		return;
	}
	if (id == -EBUSY) {
		srv->st.rejected_ids++;
		if (srv_log_client_ok(srv, LOG_WARNING))
			srv_log(srv, LOG_WARNING,
				"rejecting client: %u clients connected, every free ID below %u is held back (safe ID policy)",
				srv->nclients, srv->conf.max_clients);
		close(sock);
		return;
	}
	if (id < 0) {
		srv->st.rejected_full++;
		if (srv_log_client_ok(srv, LOG_WARNING))
			srv_log(srv, LOG_WARNING,
				"rejecting client: %u clients connected (max %u)",
				srv->nclients, srv->conf.max_clients);
		close(sock);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		srv->st.rejected_resources++;
		srv_log(srv, LOG_ERR, "rejecting client: out of memory");
		close(sock);
		return;
	}
	c->tag.kind = EP_CLIENT;
	c->sock = sock;
	c->id = (uint16_t)id;
	c->uid = uid;
	c->user = user;
	rc = make_vectors(srv, c);
	if (rc == 0) {
		ev.events = CLIENT_EVENTS;
		ev.data.ptr = &c->tag;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, sock, &ev) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		srv->st.rejected_resources++;
		srv_log(srv, LOG_ERR, "rejecting client: cannot set it up: %s",
			strerror(-rc));
		srv_client_free(c);
		return;
	}
	c->queue_limit = UINT32_MAX; /* set once the handshake is queued */
	insert_after(srv, c, after);
	srv_ids_connected(srv, c);
	srv->st.connects++;
	if (srv_log_client_ok(srv, LOG_INFO))
		srv_log(srv, LOG_INFO, "client %u connected (%u clients)",
			(unsigned int)c->id, srv->nclients);

	enqueue(srv, c, IVSH_PROTO_VERSION, NULL);
	enqueue(srv, c, c->id, NULL);
	enqueue(srv, c, IVSH_PROTO_SHM_MARKER, srv->shm);
	for (struct client *o = srv->clients; o; o = o->next) {
		if (o == c || o->dead)
			continue;
		for (unsigned int v = 0; v < nv; v++)
			enqueue(srv, c, o->id, o->vec[v]);
		for (unsigned int v = 0; v < nv; v++)
			enqueue(srv, o, c->id, c->vec[v]);
	}
	for (unsigned int v = 0; v < nv; v++)
		enqueue(srv, c, c->id, c->vec[v]);
	/* Its own handshake always fits; beyond that, max_queued. */
	c->handshake_left = c->out.len;
	c->queue_limit = c->out.len + srv->conf.max_queued;
}

static void pause_listener(struct ivsh_server *srv, int err)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &srv->listen_tag };

	srv->st.rejected_resources++;
	srv_log(srv, LOG_ERR, "cannot accept a client: %s; pausing new connections",
		strerror(err));
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen_fd, &ev) == 0)
		srv->listen_paused = true;
}

/*
 * A client with more than half its queue bound waiting is backlogged:
 * accepting more clients would only add to its backlog (each connect is
 * announced to it) and get it dropped. Accepting waits until it drains
 * (or is dropped by the stall limit); new clients wait in the kernel's
 * listen backlog meanwhile.
 */
void srv_throttle_accept(struct ivsh_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.ptr = &srv->listen_tag };
	bool hold = false;

	for (struct client *c = srv->clients; c && !hold; c = c->next)
		hold = !c->dead && c->out.len > c->handshake_left +
						    srv->conf.max_queued / 2;
	if (hold == srv->listen_throttled)
		return;
	if (hold || !srv->listen_paused) {
		if (hold)
			ev.events = 0;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen_fd, &ev) <
		    0)
			return;
	}
	srv->listen_throttled = hold;
	srv->st.accept_throttled += hold;
}

void srv_accept(struct ivsh_server *srv)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(srv->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			switch (errno) {
			case EINTR:
			case ECONNABORTED:
				continue;
			case EAGAIN:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				pause_listener(srv, errno);
				return;
			default:
				srv_log(srv, LOG_ERR, "accept: %s",
					strerror(errno));
				return;
			}
		}
		srv_add_client(srv, fd, -1);
	}
}

void srv_client_event(struct ivsh_server *srv, struct client *c,
		      uint32_t events)
{
	if (c->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		char buf[64];
		ssize_t n;

		/* No control buffer: descriptors a client sends are closed by
		 * the kernel, never installed here. */
		do {
			n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n > 0) {
			srv_client_kill(srv, c, &srv->st.dropped_protocol,
					"sent data to the server (protocol error)");
			return;
		}
		/* A client that exits with notices unread resets the
		 * connection: still a normal disconnect. */
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			srv_client_kill(srv, c, NULL, "connection closed");
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			srv_client_kill(srv, c, NULL, "connection error: %s",
					strerror(errno));
			return;
		}
		if (events & (EPOLLHUP | EPOLLERR)) {
			srv_client_kill(srv, c, NULL, "connection hung up");
			return;
		}
	}
	if (events & EPOLLOUT)
		flush(srv, c);
}
