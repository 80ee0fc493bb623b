/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The ivshmem server as a library (ivshmem spec, "The ivshmem server").
 *
 * The server owns a listening UNIX socket, one shared-memory object and,
 * per connected client, one eventfd per interrupt vector. It speaks the
 * protocol of ivsh_proto.h: to a new client it sends the version (0), the
 * client's ID, -1 with the shared-memory fd, connect notifications for
 * every existing client (that peer's ID once per vector, each with the
 * peer's eventfd for that vector, in vector order), then the client's own
 * ID once per vector with its own eventfds. Every existing client gets the
 * new client's ID once per vector with its eventfds; when a client goes
 * away the others get its ID without a descriptor.
 *
 * IDs: the first client gets 0 (the ivshmem "master"), every later one the
 * lowest unused ID. With IVSH_SERVER_IDS_SAFE an ID that other clients saw
 * go away is held back while any of them is still connected (see enum
 * ivsh_server_id_policy).
 *
 * The caller owns the event loop: poll ivsh_server_fd() for readability
 * (it is an epoll descriptor) and call ivsh_server_process() when it is
 * readable, or simply call ivsh_server_process() with a timeout. Nothing
 * ever blocks on one client: messages wait in a per-client output queue;
 * a client that does not drain it (queue longer than its bound, or no
 * progress for a time limit) is disconnected and logged. A client that
 * sends anything (the protocol is one-way) is disconnected too.
 *
 * Not thread-safe: one thread calls all functions of one server.
 */
#ifndef IVSH_SERVER_H
#define IVSH_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ivsh_server;

/** Where the shared memory comes from. */
enum ivsh_server_shm_kind {
	/** Anonymous memfd (default): nothing left in the file system. */
	IVSH_SERVER_SHM_MEMFD = 0,
	/** POSIX shared memory object shm_open(shm_name): /dev/shm/NAME. */
	IVSH_SERVER_SHM_POSIX,
	/**
	 * A file: when shm_name is a directory (e.g. a hugetlbfs mount), an
	 * unnamed file is created in it and unlinked at once; otherwise the
	 * file shm_name is opened (created when missing) and kept.
	 */
	IVSH_SERVER_SHM_PATH,
};

/**
 * How IDs are handed out. Both give the first client ID 0 and pick the
 * lowest ID allowed, always below max_clients.
 */
enum ivsh_server_id_policy {
	/** The lowest unused ID (default): a freed ID is reused at once, so
	 *  a restarted master is 0 again. */
	IVSH_SERVER_IDS_LOWEST = 0,
	/**
	 * Safe for QEMU's ivshmem device as found in QEMU 7.2: when a peer
	 * leaves, QEMU frees that peer's eventfd array but keeps the pointer,
	 * and when a later peer arrives with the same ID it writes the new
	 * eventfds into the freed memory (heap corruption, typically an
	 * abort). So an ID freed while other clients were connected is not
	 * handed out again while any client that was connected at that
	 * moment (and so got its disconnect notice) is still connected. Once
	 * all of those have gone the ID is free again; with no client
	 * connected every ID is free, so the first client still gets 0.
	 * Costs: a restarted master gets 0 only if nobody saw the old one
	 * leave, and a client may be refused while fewer than max_clients
	 * are connected when every free ID below max_clients is held back.
	 */
	IVSH_SERVER_IDS_SAFE,
};

/** Smallest shared-memory size accepted (one page). */
#define IVSH_SERVER_MIN_SHM_SIZE 4096ULL
/** Largest shared-memory size accepted (1 TiB). */
#define IVSH_SERVER_MAX_SHM_SIZE (1ULL << 40)
/** Most clients a server can have (IDs are 16 bits). */
#define IVSH_SERVER_MAX_CLIENTS 65536u
/** Default extra messages a client may have queued after its handshake. */
#define IVSH_SERVER_DEFAULT_QUEUE 1024u
/** Default time a client may leave its socket full before being dropped. */
#define IVSH_SERVER_DEFAULT_STALL_MS 5000u

/**
 * Log sink. @p level is a syslog(3) priority (LOG_ERR, LOG_WARNING,
 * LOG_NOTICE, LOG_INFO, LOG_DEBUG); @p msg is one line without newline.
 */
typedef void (*ivsh_server_log_fn)(void *opaque, int level, const char *msg);

/** Server configuration; zero-initialise and set what you need. */
struct ivsh_server_conf {
	/** Path of the listening UNIX socket (required). */
	const char *socket_path;
	/** Shared-memory size in bytes: a power of two (QEMU maps it as a
	 *  PCI BAR) within IVSH_SERVER_MIN/MAX_SHM_SIZE (required). */
	uint64_t shm_size;
	/** Interrupt vectors per client, 1..IVSH_PROTO_MAX_VECTORS (64). */
	unsigned int vectors;
	/** Shared-memory source; see enum ivsh_server_shm_kind. */
	enum ivsh_server_shm_kind shm_kind;
	/** POSIX: object name ("ivshmem" or "/ivshmem"); PATH: directory or
	 *  file. Unused for MEMFD. */
	const char *shm_name;
	/** POSIX and named PATH files: remove the name on destroy. */
	int unlink_shm;
	/** Most simultaneous clients, 1..IVSH_SERVER_MAX_CLIENTS; 0 = max. */
	unsigned int max_clients;
	/** Socket file mode (e.g. 0660), applied if non-zero or if
	 *  @p set_mode is set (so 0 too); else the file keeps the mode the
	 *  umask gave it. */
	mode_t socket_mode;
	/** Group of the socket file, applied when @p set_group is set. */
	gid_t socket_group;
	/** Non-zero: chown the socket to socket_group. */
	int set_group;
	/** Messages a client may have queued beyond its own handshake;
	 *  0 = IVSH_SERVER_DEFAULT_QUEUE. */
	unsigned int max_queued;
	/** Milliseconds a client may keep its socket full without reading
	 *  anything; 0 = IVSH_SERVER_DEFAULT_STALL_MS. */
	unsigned int stall_timeout_ms;
	/** Log sink; NULL = no logging. */
	ivsh_server_log_fn log;
	/** Passed to @p log. */
	void *log_opaque;
	/** ID policy; 0 = IVSH_SERVER_IDS_LOWEST. */
	enum ivsh_server_id_policy id_policy;
	/** Non-zero: chmod the socket to socket_mode even if that is 0. */
	int set_mode;
	/** Messages carrying descriptors that one user's connections may
	 *  leave unread at once, counting connections already dropped (their
	 *  descriptors stay in flight, charged to the server, until the
	 *  client reads or closes); 0 = a quarter of RLIMIT_NOFILE at
	 *  create time, at least 16. A user at its share gets no more until
	 *  it reads, and its new connections are refused. */
	unsigned int max_inflight_per_user;
};

/** Counters, for monitoring and tests. */
struct ivsh_server_stats {
	uint64_t connects;          /**< clients accepted and given an ID */
	uint64_t disconnects;       /**< clients gone, for any reason */
	uint64_t rejected_full;     /**< refused: max_clients reached */
	uint64_t rejected_resources;/**< refused: out of fds or memory */
	uint64_t dropped_slow;      /**< dropped: queue bound or stall time */
	uint64_t dropped_protocol;  /**< dropped: sent data to the server */
	uint64_t dropped_error;     /**< dropped: socket error while sending */
	uint64_t messages_sent;     /**< protocol messages sent */
	uint64_t ids_held_back;     /**< IVSH_SERVER_IDS_SAFE: clients given a
				         higher ID than the lowest unused one */
	uint64_t rejected_ids;      /**< IVSH_SERVER_IDS_SAFE: refused, below
				         max_clients but every free ID below it
				         held back, or the user's share of
				         held-back IDs used up */
	uint64_t accept_throttled;  /**< times accepting paused while a
				         client had a backlog */
	uint64_t rejected_pinned;   /**< refused on a pinned socket: the ID
				         was held (or held back) */
	uint64_t rejected_inflight; /**< refused: the user's connections
				         hold its whole share of descriptors
				         in flight unread */
};

/**
 * Create a server: validate @p conf, create the shared memory, bind and
 * listen on the socket. A stale socket file (nobody listening) is
 * replaced; a live one is left alone.
 *
 * @param out    receives the server on success
 * @param conf   configuration; copied, the strings too
 * @param err    if not NULL, receives a one-line reason on failure
 * @param errlen size of @p err
 * @return 0 on success;
 *         -EINVAL       bad configuration (size not a power of two or out
 *                       of range, vectors not 1..64, missing path or name,
 *                       max_clients too large, unknown id_policy,
 *                       hugetlbfs size not a multiple of the huge page
 *                       size);
 *         -ENAMETOOLONG socket path longer than a sockaddr_un holds;
 *         -ENOENT       the socket's directory (or the shm directory)
 *                       does not exist;
 *         -ENOTDIR      a component of a path is not a directory;
 *         -EADDRINUSE   another server is listening on the socket;
 *         -EEXIST       the socket path exists and is not a socket;
 *         -ENOMEM       out of memory, or not enough huge pages on
 *                       hugetlbfs (they are reserved here);
 *         another -errno from the system calls involved (e.g. -EACCES,
 *         -EPERM for chown, -EMFILE).
 */
int ivsh_server_create(struct ivsh_server **out,
		       const struct ivsh_server_conf *conf,
		       char *err, size_t errlen);

/**
 * Close every client connection (without disconnect notifications: the
 * clients may keep talking to each other), the listening socket and the
 * shared memory, and remove the socket file if it is still the one this
 * server created. NULL is ignored.
 */
void ivsh_server_destroy(struct ivsh_server *srv);

/**
 * Pin @p id to a listening socket of its own at @p path (stable IDs, for
 * migration and re-plug): a client that connects there gets exactly
 * @p id, or is refused (connection closed, logged, counted in
 * rejected_pinned) while another client holds it, or, with
 * IVSH_SERVER_IDS_SAFE, while a connected client saw it leave. The main
 * socket never hands out a pinned ID: with ID 0 pinned, its first client
 * gets the lowest unpinned ID instead, and the master connects on ID 0's
 * socket. Without pinned IDs nothing changes. Call it after
 * ivsh_server_create(), before clients connect; the socket gets the
 * main socket's mode and group and is removed by ivsh_server_destroy().
 * @return 0;
 *         -EINVAL       no server or path, or @p id not below max_clients;
 *         -EEXIST       @p id is already pinned, or @p path exists and is
 *                       not a socket;
 *         -EBUSY        a connected client holds @p id;
 *         -EADDRINUSE   a server listens on @p path;
 *         -ENAMETOOLONG @p path is too long for a UNIX socket;
 *         -ENOMEM, or another -errno (bind, chmod, chown, listen).
 *         A one-line reason goes to @p err.
 */
int ivsh_server_pin_id(struct ivsh_server *srv, unsigned int id,
		       const char *path, char *err, size_t errlen);

/** The epoll descriptor to wait on (readable = call process). */
int ivsh_server_fd(const struct ivsh_server *srv);

/**
 * Handle what is ready: new connections, client hang-ups and data,
 * writable sockets, stall checks. Waits up to @p timeout_ms for the first
 * event (0: do not wait; -1: wait indefinitely).
 *
 * @return the number of events handled (0 on timeout);
 *         -EINTR if a signal interrupted the wait;
 *         another -errno from epoll_wait() (a bug, not a client's doing).
 */
int ivsh_server_process(struct ivsh_server *srv, int timeout_ms);

/** Number of clients currently connected. */
unsigned int ivsh_server_client_count(const struct ivsh_server *srv);

/**
 * Fill @p ids with the IDs of the connected clients, ascending.
 * @return the number of connected clients (may exceed @p max; only the
 *         first @p max are written).
 */
unsigned int ivsh_server_client_ids(const struct ivsh_server *srv,
				    uint16_t *ids, unsigned int max);

/**
 * Messages queued for client @p id and not yet accepted by its socket.
 * @return the count, or -ENOENT if no client has that ID.
 */
long ivsh_server_client_pending(const struct ivsh_server *srv, uint16_t id);

/** Copy the counters into @p st. */
void ivsh_server_get_stats(const struct ivsh_server *srv,
			   struct ivsh_server_stats *st);

/** The shared-memory descriptor (owned by the server; do not close). */
int ivsh_server_shm_fd(const struct ivsh_server *srv);

/** Shared-memory size in bytes. */
uint64_t ivsh_server_shm_size(const struct ivsh_server *srv);

/** Vectors per client. */
unsigned int ivsh_server_vectors(const struct ivsh_server *srv);

/**
 * Parse a size with an optional k/K, m/M, g/G (and t/T) binary suffix,
 * e.g. "4M" = 4194304. Does not check for a power of two.
 * @return 0 and *out on success; -EINVAL if not a number or bad suffix;
 *         -ERANGE on overflow.
 */
int ivsh_server_parse_size(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_SERVER_H */
