/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to lib/dev: the server: backend's connection to the server. */
#ifndef IVSH_SERVER_CONNECT_H
#define IVSH_SERVER_CONNECT_H

/*
 * Connect to the server listening at @p path within @p timeout_ms (0: no
 * limit). Returns a non-blocking, close-on-exec socket, or -errno with the
 * reason set by ivsh_dev_set_error(): -ENAMETOOLONG, -ETIMEDOUT (the
 * server's backlog stayed full), -ENOENT, -ECONNREFUSED, or what socket(),
 * setsockopt(), connect() or fcntl() returned.
 */
int server_connect_socket(const char *path, int timeout_ms);

#endif /* IVSH_SERVER_CONNECT_H */
