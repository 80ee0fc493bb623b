/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ivshmem client-server protocol (ivshmem spec, "The ivshmem
 * Client-Server Protocol"), both directions.
 *
 * Every message is one 8-byte little-endian signed number, optionally
 * accompanied by exactly one file descriptor passed with SCM_RIGHTS.
 * The server sends, in order: the protocol version (0), the client's ID,
 * -1 with the shared-memory fd, connect notifications for the other
 * clients (peer ID repeated once per vector, each with an eventfd), the
 * client's own interrupt setup (own ID repeated once per vector, each with
 * an eventfd); later, connect notifications (peer ID with an fd) and
 * disconnect notifications (peer ID without an fd).
 *
 * All functions return 0 (or a count) on success and a negative errno on
 * failure. No function leaks a descriptor on any error path.
 */
#ifndef IVSH_PROTO_H
#define IVSH_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The only protocol version this implementation speaks. */
#define IVSH_PROTO_VERSION 0
/** Highest valid peer ID: the Doorbell register has 16 bits for it. */
#define IVSH_PROTO_MAX_ID 65535
/** Most interrupt vectors per peer that the project supports. */
#define IVSH_PROTO_MAX_VECTORS 64
/** The value that announces the shared-memory fd. */
#define IVSH_PROTO_SHM_MARKER (-1)

/**
 * Send one message, with an optional fd.
 *
 * @param sock  connected AF_UNIX stream socket (blocking or not)
 * @param value the number to send (encoded little-endian)
 * @param fd    descriptor to pass, or -1 for none; never closed here
 * @return 0 on success;
 *         -EAGAIN if the socket is non-blocking and full (nothing sent);
 *         -EPIPE / -ECONNRESET if the peer is gone;
 *         -EPROTO if only part of the message could be sent;
 *         another -errno from sendmsg().
 */
int ivsh_proto_send(int sock, int64_t value, int fd);

/**
 * Receive exactly one message. Strict: a message carrying more than one
 * descriptor, or a control message that is not SCM_RIGHTS (or one the
 * kernel truncated), is an error and every descriptor that came with it
 * is closed. Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC).
 * EINTR is retried. On a non-blocking socket, once the first bytes of a
 * message have arrived the rest is waited for up to 250 ms (a conforming
 * sender never splits a message), then the message counts as short.
 *
 * @param sock  connected AF_UNIX stream socket
 * @param value out: the number received (decoded from little-endian)
 * @param fd    out: the descriptor received, or -1; the caller owns it
 * @return 0 on success;
 *         -EAGAIN if non-blocking and no message is waiting;
 *         -ECONNRESET on end of stream before any byte of a message;
 *         -EPROTO on a short message (end of stream mid-message), more
 *          than one fd, or an unexpected control message;
 *         another -errno from recvmsg().
 */
int ivsh_proto_recv(int sock, int64_t *value, int *fd);

/** What one server message meant to a client. */
enum ivsh_proto_event_type {
	IVSH_PROTO_EV_NONE = 0,   /**< consumed, nothing to report (version) */
	IVSH_PROTO_EV_ID,         /**< own ID assigned: ev.peer */
	IVSH_PROTO_EV_SHM,        /**< shared memory: ev.fd (caller owns it) */
	IVSH_PROTO_EV_PEER_VECTOR,/**< peer ev.peer's vector ev.vector: ev.fd */
	IVSH_PROTO_EV_OWN_VECTOR, /**< own vector ev.vector: ev.fd */
	IVSH_PROTO_EV_PEER_GONE,  /**< peer ev.peer disconnected */
};

struct ivsh_proto_event {
	enum ivsh_proto_event_type type;
	uint16_t peer;
	uint16_t vector;
	int fd; /**< -1 unless the event carries a descriptor */
};

/** Client-side parser state: feed it every message in arrival order. */
struct ivsh_proto_client {
	int stage;                 /**< private: which message comes next */
	int32_t own_id;            /**< -1 until the ID message arrived */
	uint16_t own_vectors;      /**< own vector fds received so far */
	/** Vector fds received so far, per peer; private bookkeeping. */
	uint16_t peer_vectors[IVSH_PROTO_MAX_ID + 1];
};

/** Reset a parser to expect the version message. */
void ivsh_proto_client_init(struct ivsh_proto_client *c);

/**
 * Interpret one message received from the server.
 *
 * Ownership of @p fd passes to this function: on success it is handed
 * back in @p ev (ev->fd) for SHM and vector events and closed otherwise;
 * on error it is closed.
 *
 * @return 0 on success with @p ev filled in;
 *         -EPROTONOSUPPORT for a version other than 0;
 *         -ERANGE for an ID outside 0..65535;
 *         -EPROTO for a message out of order, a missing or unexpected fd,
 *          or a vector index past IVSH_PROTO_MAX_VECTORS.
 */
int ivsh_proto_client_feed(struct ivsh_proto_client *c, int64_t value,
			   int fd, struct ivsh_proto_event *ev);

/** True once the version, ID and shared-memory fd have all arrived. */
bool ivsh_proto_client_has_shm(const struct ivsh_proto_client *c);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_PROTO_H */
