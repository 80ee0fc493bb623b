/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line of ivsh-server. */
#ifndef IVSH_SERVER_OPTIONS_H
#define IVSH_SERVER_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "ivsh_proto.h"
#include "ivsh_server.h"

#define DEFAULT_SOCKET "/tmp/ivshmem_socket"
#define DEFAULT_SIZE (4ULL << 20)
#define DEFAULT_SHM_NAME "ivshmem"
/* --id-socket may be given this many times. */
#define MAX_ID_SOCKETS 64

struct options {
	struct ivsh_server_conf conf;
	char *socket_path;  /* absolute, allocated */
	char *pidfile;      /* absolute, allocated, or NULL */
	char *shm_path_alloc; /* --shm-dir, absolute, allocated */
	struct pinned_id {   /* --id-socket ID=PATH */
		unsigned int id;
		char *path;     /* absolute, allocated */
	} pins[MAX_ID_SOCKETS];
	unsigned int npins;
	bool foreground;
	int verbose;
	bool help;
};

/**
 * Parse argv into @p o. On a bad argument prints one line
 * "ivsh-server: ..." to stderr and returns -1; 0 on success.
 */
int options_parse(struct options *o, int argc, char **argv);
void options_free(struct options *o);
/* Pin every --id-socket on @p srv; prints why not and returns -1. */
int options_pin_ids(const struct options *o, struct ivsh_server *srv);
void options_usage(FILE *out);

#endif /* IVSH_SERVER_OPTIONS_H */
