/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helpers for the server tests: an in-process ivshmem client that
 * records every message it gets, a pump that runs the server and all
 * clients until nothing moves, and descriptor counting.
 */
#ifndef IVSH_TEST_TCLIENT_H
#define IVSH_TEST_TCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ivsh_proto.h"
#include "ivsh_server.h"
#include "test_fds.h"

#define TC_MAX_LOG 4096
/* Per-peer counters are kept for IDs below this. */
#define TC_TRACK_PEERS 256

struct tc_msg {
	int64_t value;
	bool has_fd;
};

struct tclient {
	int sock;
	int err;             /* first error from recv/feed, 0 if none */
	bool eof;            /* the server closed the connection */
	struct ivsh_proto_client pc;
	int id;              /* -1 until known */
	int shm_fd;          /* kept open; closed by tc_close */
	int own_fd[IVSH_PROTO_MAX_VECTORS];
	int own_count;
	bool keep_peer_fds;  /* keep peer vector fds in peer_fd[][] */
	int peer_fd[8][IVSH_PROTO_MAX_VECTORS]; /* peers 0..7 only */
	uint32_t peer_vec_events[TC_TRACK_PEERS];
	uint32_t peer_gone_events[TC_TRACK_PEERS];
	uint64_t total_peer_vec;
	uint64_t total_gone;
	struct tc_msg log[TC_MAX_LOG];
	unsigned int nlog;
	uint64_t nmsgs;
};


/** A fresh temporary directory for sockets; remove with tc_rmdir. */
void tc_mkdtemp(char *dir, size_t len);
void tc_rmdir(const char *dir);

/** Connect (never blocks: the server's backlog accepts). NULL on error. */
struct tclient *tc_connect(const char *path);
/** A socket bound to @p path but not listening; -1 on error. */
int tc_bind_only(const char *path);
/** Close everything the client holds and free it. */
void tc_close(struct tclient *tc);
/** Read and interpret every message waiting. @return messages read. */
int tc_read(struct tclient *tc);

/**
 * Run the server and read all clients until a round moves nothing.
 * @return rounds used.
 */
int tc_pump(struct ivsh_server *srv, struct tclient **tcs, int n);

/** A basic server conf (memfd, 64 KiB) on @p path with @p vectors. */
void tc_conf(struct ivsh_server_conf *conf, const char *path,
	     unsigned int vectors);

/** A log sink that keeps the last lines, for assertions. */
void tc_log(void *opaque, int level, const char *msg);
/** True if a kept log line contains @p needle. */
bool tc_log_has(const char *needle);
void tc_log_clear(void);

/** A server under test: its temporary folder, socket path and config. */
struct tc_fx {
	char dir[128];
	char path[256];
	int fds_before;          /* checked again at teardown: no fd leaks */
	struct ivsh_server *srv; /* NULL until tc_fx_start() */
	struct ivsh_server_conf conf;
};

/** cmocka setup: a fresh fixture, config from tc_conf() with 1 vector. */
int tc_fx_setup(void **state);
/** cmocka teardown: destroy the server, remove the folder, and fail the
 *  test if the process holds another fd count than at setup. */
int tc_fx_teardown(void **state);
/** Create the server from f->conf; fails the test if it cannot. */
void tc_fx_start(struct tc_fx *f);

#endif /* IVSH_TEST_TCLIENT_H */
