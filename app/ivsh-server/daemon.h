/* SPDX-License-Identifier: BSD-3-Clause */
/* Detaching from the terminal, and the pid file. */
#ifndef IVSH_SERVER_DAEMON_H
#define IVSH_SERVER_DAEMON_H

/**
 * Fork into the background. The calling process waits until the daemon
 * reports with daemon_ready(), then exits 0 (ready: socket listening, pid
 * file written) or 1 (the daemon failed and said why on stderr). Returns
 * in the daemon only: a new session, working directory "/".
 * @param ready_fd out: pass to daemon_ready()
 * @return 0 in the daemon; -errno on failure (still in the foreground).
 */
int daemon_start(int *ready_fd);

/**
 * Tell the waiting parent how start-up went, then point stdin, stdout
 * and stderr at /dev/null.
 */
void daemon_ready(int ready_fd, int ok);

/** Write our pid to @p path. @return 0 or -errno. */
int pidfile_write(const char *path);

#endif /* IVSH_SERVER_DAEMON_H */
