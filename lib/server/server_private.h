/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of lib/server, shared by its source files only. */
#ifndef IVSH_SERVER_PRIVATE_H
#define IVSH_SERVER_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ivsh_proto.h"
#include "ivsh_server.h"

/*
 * A descriptor shared by queued messages. Eventfds of a client that has
 * gone must stay open until the last notification carrying them has been
 * sent (or dropped), so each queued message holds a reference.
 */
struct fdref {
	int fd;
	unsigned int refs;
};

struct fdref *fdref_new(int fd);           /* refs = 1; NULL if no memory */
struct fdref *fdref_get(struct fdref *r);
void fdref_put(struct fdref *r);           /* closes fd on the last put */

/* One message waiting to be sent. */
struct qmsg {
	int64_t value;
	struct fdref *fd; /* NULL: no descriptor */
};

/* Per-client FIFO of messages, a growable ring. */
struct msgq {
	struct qmsg *slot;
	uint32_t cap;  /* power of two, or 0 */
	uint32_t head; /* next to send */
	uint32_t len;
};

int msgq_push(struct msgq *q, int64_t value, struct fdref *fd); /* takes fd ref */
struct qmsg *msgq_front(struct msgq *q);
void msgq_pop(struct msgq *q);  /* drops the front's reference */
void msgq_clear(struct msgq *q); /* drops all, frees storage */
/*
 * A peer left: if all @nv messages announcing peer @id are still queued
 * (none sent), take them out and return true: the client never hears of
 * that peer, and no gone notice is owed. @head_count (handshake messages
 * left) is lowered by those removed from among its first entries.
 */
bool msgq_withdraw_peer(struct msgq *q, int64_t id, unsigned int nv,
			uint32_t *head_count);

/* What an epoll event points at. */
enum ep_kind { EP_LISTEN, EP_TIMER, EP_CLIENT, EP_PINNED };

struct ep_tag {
	enum ep_kind kind;
};

struct client {
	struct ep_tag tag;        /* first: epoll data points here */
	int sock;
	uint16_t id;
	bool dead;                /* disconnect decided, reaping pending */
	bool blocked;             /* last send hit EAGAIN: wait for EPOLLOUT */
	bool refs_blocked;        /* ...hit ETOOMANYREFS or its user's share
				   * of descriptors in flight: retry on the
				   * timer */
	bool share_blocked;       /* ...the user's share, not ETOOMANYREFS */
	bool share_warned;        /* logged that it waits for the share */
	bool dirty;               /* on the flush list */
	uint32_t queue_limit;     /* handshake length + conf.max_queued */
	uint32_t handshake_left;  /* handshake messages not yet sent */
	uint64_t serial;          /* connect order, from srv->conn_serial */
	uint64_t stall_since_ms;  /* while blocked: last progress */
	uid_t uid;                /* its user (SO_PEERCRED), for ID quotas */
	struct user_share *user;  /* its user's share of descriptors in flight */
	unsigned int unread_bound; /* messages it may not have read yet */
	struct msgq out;
	struct fdref *vec[IVSH_PROTO_MAX_VECTORS]; /* own eventfds */
	struct client *prev, *next; /* all clients, ascending ID */
	struct client *next_dirty;
	struct client *next_dead;
	char why[96];             /* reason for the disconnect, for the log */
	int why_level;            /* LOG_INFO for a normal hang-up, else worse */
};

/* A listening socket whose clients get one fixed ID (server_pinned.c). */
struct pinned_socket {
	struct ep_tag tag;        /* first: epoll data points here */
	int fd;
	uint16_t id;
	bool ready;               /* readable this round: accept after reaping */
	bool owned;               /* dev/ino identify the file we created */
	dev_t dev;
	ino_t ino;
	char *path;
	struct pinned_socket *next;
};

struct ivsh_server {
	struct ivsh_server_conf conf; /* strings point to the copies below */
	char *socket_path;
	char *shm_name;
	char *shm_file;               /* named file to unlink, or NULL */
	dev_t sock_dev;               /* identity of our socket file */
	ino_t sock_ino;

	int epfd;
	int listen_fd;
	int timer_fd;
	bool listen_paused;           /* out of descriptors: retry later */
	bool listen_throttled;        /* a client is backlogged: wait */
	bool fd_freed;                /* a client went: descriptors came free */
	bool timer_armed;
	struct ep_tag listen_tag;
	struct ep_tag timer_tag;

	struct fdref *shm;
	uint64_t shm_size;

	struct client *clients;       /* list sorted by ID */
	unsigned int nclients;
	unsigned int nblocked;
	struct client *dirty;         /* clients with output to try */
	struct client *dead;          /* clients to reap */
	uint64_t conn_serial;         /* last connect serial handed out */
	uint64_t *id_released;        /* IDS_SAFE: conn_serial when each ID
				       * was last freed; else NULL */
	uid_t *id_released_by;        /* IDS_SAFE: the user it was freed by */

	/* Per-client log lines, normal [0] and trouble [1]: token buckets
	 * against floods. */
	struct srv_log_bucket {
		uint64_t filled_ms;
		unsigned int tokens;
		unsigned long suppressed;
	} log_bucket[2];

	/* Descriptors in flight (server_inflight.c). */
	unsigned int inflight_share;  /* per user, in messages */
	unsigned int msg_cost;        /* SIOCOUTQ units per unread message */
	struct held_sock *held;       /* dropped, still holding unread ones */
	struct user_share *users;     /* every user seen, with its bound */

	struct ivsh_server_stats st;
	struct pinned_socket *pinned; /* pinned IDs, each with its socket */
};

/* server_log.c */
void srv_log(const struct ivsh_server *srv, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether a per-client log line may go out now (a burst, then a few a
 * second); says how many were left out once lines flow again. */
bool srv_log_client_ok(struct ivsh_server *srv, int level);

/* server_probe.c: 1 if a server listens on @p path (file @p st), 0 if
 * the file is stale, or -errno if that cannot be told (e.g. -EACCES). */
struct stat;
int srv_socket_in_use(const char *path, const struct stat *st);

/* server_socket.c */
/* Make @p path free for a new listening socket: nothing there is fine, a
 * stale socket file (nobody listening) is removed, a live socket or any
 * other file is refused. @return 0; -EADDRINUSE a server listens on it;
 * -EEXIST not a socket; another -errno from lstat, the probe or unlink
 * (the reason in @p err). */
int srv_socket_clear_stale(const char *path, char *err, size_t errlen);
int srv_socket_open(struct ivsh_server *srv, char *err, size_t errlen);
void srv_socket_close(struct ivsh_server *srv);

/* server_shm.c */
int srv_shm_open(struct ivsh_server *srv, char *err, size_t errlen);
void srv_shm_close(struct ivsh_server *srv);

/* server_client.c */
void srv_accept(struct ivsh_server *srv);
void srv_client_event(struct ivsh_server *srv, struct client *c,
		      uint32_t events);
void srv_client_kill(struct ivsh_server *srv, struct client *c,
		     uint64_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void srv_settle(struct ivsh_server *srv);
/* Put @p c on the flush list (unless dead or there already). */
void srv_mark_dirty(struct ivsh_server *srv, struct client *c);
/* Stop accepting while a client has a backlog, resume once it drains. */
void srv_throttle_accept(struct ivsh_server *srv);
/* server_stalls.c: on the timer, drop clients stalled too long. */
void srv_check_stalls(struct ivsh_server *srv);
void srv_client_free(struct client *c);

/* server_ids.c */
int srv_ids_init(struct ivsh_server *srv);          /* 0 or -ENOMEM */
void srv_ids_fini(struct ivsh_server *srv);
/* A free ID for a new client of user @uid, and the client after which it
 * goes in the list; -ENOSPC if max_clients are connected, -EBUSY if every
 * free ID is held back, -EDQUOT if @uid has freed its share of the IDs
 * held back (IDS_SAFE). */
int srv_ids_pick(struct ivsh_server *srv, uid_t uid, struct client **after);
/* IDS_SAFE: how many held-back IDs one user may account for. */
unsigned int srv_ids_user_quota(const struct ivsh_server *srv);
void srv_ids_connected(struct ivsh_server *srv, struct client *c);
void srv_ids_released(struct ivsh_server *srv, const struct client *c);

/* server_inflight.c */
void srv_inflight_init(struct ivsh_server *srv);
/* Messages sent on @sock and not read yet (an upper bound). */
unsigned int srv_unread_messages(const struct ivsh_server *srv, int sock);
/* The share of user @uid, created at its first client; NULL if no
 * memory. */
struct user_share *srv_inflight_user(struct ivsh_server *srv, uid_t uid);
/* How many more descriptor-carrying messages user @u may be sent, exactly
 * as the kernel counts, or any figure of at least @need when that much is
 * sure without asking it. */
unsigned int srv_inflight_room(struct ivsh_server *srv, struct user_share *u,
			       unsigned int need);
/* One message went to @c. */
void srv_inflight_sent(struct client *c);
/* Close the socket of dropped client @c, or hold it while it has unread
 * messages (c->sock becomes -1). */
void srv_inflight_hold(struct ivsh_server *srv, struct client *c);
/* Close held sockets that hold nothing now; true if any went. */
bool srv_inflight_sweep(struct ivsh_server *srv);
void srv_inflight_fini(struct ivsh_server *srv);

/* server_pinned.c */
bool srv_id_pinned(const struct ivsh_server *srv, unsigned int id);
/* Exactly @id for a new client: -EEXIST held, -EBUSY held back (safe
 * IDs); else @id, with the client after which it goes in the list. */
int srv_ids_take(struct ivsh_server *srv, unsigned int id,
		 struct client **after);
void srv_pinned_accept(struct ivsh_server *srv);
void srv_pinned_close_all(struct ivsh_server *srv);

/* server_client.c: a new connection; @want_id >= 0 asks for that ID. */
void srv_add_client(struct ivsh_server *srv, int sock, int want_id);

/* server_core.c */
uint64_t srv_now_ms(void);
void srv_update_timer(struct ivsh_server *srv);

#endif /* IVSH_SERVER_PRIVATE_H */
