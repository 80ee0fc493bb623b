/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clients that stall: a socket full for too long, a shortage of
 * descriptors in flight (the kernel's limit, or a user's share), and whom
 * to drop for it. Run on the timer.
 */
#include <syslog.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "server_private.h"

/* Bytes sent to @p c that it has not read yet (0 if unknown). */
static int unread_bytes(const struct client *c)
{
	int n = 0;

	if (ioctl(c->sock, SIOCOUTQ, &n) < 0)
		return 0;
	return n;
}

/*
 * @p c has waited too long for its user's share of descriptors in flight
 * (server_inflight.c): drop that user's connection holding the most
 * unread. If the share is held by connections of its user already
 * dropped, @p c did nothing wrong: it waits until they read or close
 * (its queue bound still applies).
 */
static bool share_stalled(struct ivsh_server *srv, struct client *c)
{
	struct client *victim = NULL;
	unsigned int most = 0;

	for (struct client *o = srv->clients; o; o = o->next) {
		unsigned int n = o->dead || o->user != c->user ? 0 :
				 srv_unread_messages(srv, o->sock);

		if (n > most) {
			most = n;
			victim = o;
		}
	}
	if (victim) {
		srv_client_kill(srv, victim, &srv->st.dropped_slow,
				"not reading: %u messages unread while its user (uid %u) is at its share of descriptors in flight",
				most, (unsigned int)c->uid);
		return true;
	}
	if (!c->share_warned) {
		c->share_warned = true;
		if (srv_log_client_ok(srv, LOG_WARNING))
			srv_log(srv, LOG_WARNING,
				"client %u waits: its user (uid %u) has its share of %u descriptors in flight unread in connections already dropped",
				(unsigned int)c->id, (unsigned int)c->uid,
				srv->inflight_share);
	}
	return false;
}

void srv_check_stalls(struct ivsh_server *srv)
{
	uint64_t now = srv_now_ms();
	unsigned int limit = srv->conf.stall_timeout_ms;
	struct client *victim = NULL;
	bool refs_pressure = false, share_dropped = false;
	int most = 0;

	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->dead || !c->blocked || now - c->stall_since_ms < limit)
			continue;
		if (c->share_blocked) {
			/* One such drop a tick: it may free enough. */
			if (!share_dropped)
				share_dropped = share_stalled(srv, c);
			continue;
		}
		if (c->refs_blocked) {
			/* Not its fault: see below. */
			refs_pressure = true;
			continue;
		}
		srv_client_kill(srv, c, &srv->st.dropped_slow,
				"not reading: %u messages pending, socket full for %llu ms",
				c->out.len,
				(unsigned long long)(now - c->stall_since_ms));
	}
	/*
	 * Our descriptors in flight hit the limit for too long: they sit in
	 * the sockets of peers that do not read. Drop the one holding the
	 * most unread data (one per tick; its descriptors come free when it
	 * is reaped).
	 */
	for (struct client *c = srv->clients; refs_pressure && c; c = c->next) {
		int n = c->dead ? 0 : unread_bytes(c);

		if (n > most) {
			most = n;
			victim = c;
		}
	}
	if (victim)
		srv_client_kill(srv, victim, &srv->st.dropped_slow,
				"not reading: %d bytes unread while the server is at its limit of descriptors in flight",
				most);
	/* Descriptors may have come free: let srv_settle() retry. */
	for (struct client *c = srv->clients; c; c = c->next)
		if (!c->dead && c->refs_blocked)
			srv_mark_dirty(srv, c);
}
