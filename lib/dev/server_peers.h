/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer table of the server: backend: which peers are connected and the
 * eventfds that interrupt them, one per vector. Private to lib/dev; the
 * caller serialises access.
 *
 * A doorbell writes to a peer's eventfd without holding the caller's lock
 * (the write is a syscall on a descriptor a peer can tamper with). It
 * marks itself busy under the lock first; an fd the table drops while any
 * doorbell is busy is closed later, so its number cannot be reused under
 * the doorbell's feet.
 */
#ifndef IVSH_SERVER_PEERS_H
#define IVSH_SERVER_PEERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct server_peer {
	uint16_t id;
	uint16_t nvec;  /* vectors connected: fds[0..nvec-1] are valid */
	int fds[];      /* max_vectors entries, -1 when not connected */
};

struct server_peers {
	struct server_peer **v; /* sorted by id */
	size_t count;
	size_t cap;
	unsigned int max_vectors; /* vectors kept per peer; extras closed */
	atomic_uint busy;         /* doorbells writing outside the lock */
	int *grave;               /* fds to close once nothing is busy */
	size_t ngrave, grave_cap;
};

void server_peers_init(struct server_peers *t, unsigned int max_vectors);

/* Close every fd and free the table. */
void server_peers_fini(struct server_peers *t);

/* The peer with @id, or NULL. */
struct server_peer *server_peers_find(const struct server_peers *t,
				      uint16_t id);

/*
 * Record @fd as vector @vector of peer @id (creating the peer). The fd
 * is closed when @vector is not below max_vectors (the spec: a client
 * configured for fewer vectors closes the extras).
 * @return 0; -ENOMEM (fd closed).
 */
int server_peers_add_vector(struct server_peers *t, uint16_t id,
			    uint16_t vector, int fd);

/* Forget peer @id, closing its fds. @return 1 if it was known, else 0. */
int server_peers_remove(struct server_peers *t, uint16_t id);

/*
 * Under the lock: the fd of @id's @vector, and the table marked busy
 * until server_peers_release(). @return the fd, or -ENXIO (not busy).
 */
int server_peers_hold(struct server_peers *t, uint16_t id, uint16_t vector);

/* Without the lock: end a server_peers_hold(). */
void server_peers_release(struct server_peers *t);

#endif /* IVSH_SERVER_PEERS_H */
