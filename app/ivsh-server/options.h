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

struct options {
	struct ivsh_server_conf conf;
	char *socket_path;  /* absolute, allocated */
	char *pidfile;      /* absolute, allocated, or NULL */
	char *shm_path_alloc; /* --shm-dir, absolute, allocated */
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
void options_usage(FILE *out);

#endif /* IVSH_SERVER_OPTIONS_H */
