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

#include <stddef.h>
#include <sys/types.h>

/** The pid file this process created, to remove it only if still ours. */
struct pidfile {
	dev_t dev;
	ino_t ino;
};

/**
 * Write our pid to a new file @p path (O_EXCL, O_NOFOLLOW). An existing
 * regular file of our own user with one link (a stale pid file) is
 * replaced; anything else (a symlink, another user's file) is refused.
 * @return 0; -EEXIST / -ELOOP refused (@p err says why); other -errno.
 */
int pidfile_write(const char *path, struct pidfile *pf, char *err,
		  size_t errlen);

/** Remove @p path if it is still the file pidfile_write() created. */
void pidfile_remove(const char *path, const struct pidfile *pf);

#endif /* IVSH_SERVER_DAEMON_H */
