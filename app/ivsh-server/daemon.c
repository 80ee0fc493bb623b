/* SPDX-License-Identifier: BSD-3-Clause */
/* Detaching from the terminal, and the pid file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

int daemon_start(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char status;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int rc = -errno;

		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid > 0) {
		/* The original process: no cleanup of its own (the daemon
		 * owns socket and memory); exit as the daemon says. */
		close(p[1]);
		do {
			n = read(p[0], &status, 1);
		} while (n < 0 && errno == EINTR);
		_exit(n == 1 && status == '0' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	/* Fork again: never a session leader, so no controlling terminal
	 * can be acquired by accident. */
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0) {
		close(p[1]);
		return -errno;
	}
	*ready_fd = p[1];
	return 0;
}

void daemon_ready(int ready_fd, int ok)
{
	char status = ok ? '0' : '1';
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(ready_fd, &status, 1) < 0) {
		/* The parent is gone; nobody to tell. */
	}
	close(ready_fd);
}

static int create_excl(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
}

int pidfile_write(const char *path, struct pidfile *pf, char *err,
		  size_t errlen)
{
	struct stat st;
	char buf[32];
	int fd, len, rc = 0;

	err[0] = 0;
	fd = create_excl(path);
	if (fd < 0 && errno == EEXIST) {
		/* Only a stale pid file of ours is replaced; a planted
		 * symlink or another user's file is never written through. */
		if (lstat(path, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "it is a symbolic link");
			return -ELOOP;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    st.st_nlink != 1) {
			snprintf(err, errlen,
				 "it exists and is not a pid file of ours (owner uid %u, %u links)",
				 (unsigned int)st.st_uid,
				 (unsigned int)st.st_nlink);
			return -EEXIST;
		}
		if (unlink(path) < 0)
			return -errno;
		fd = create_excl(path);
	}
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len)
		rc = -EIO;
	if (rc == 0 && fstat(fd, &st) == 0) {
		pf->dev = st.st_dev;
		pf->ino = st.st_ino;
	}
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

void pidfile_remove(const char *path, const struct pidfile *pf)
{
	char want[32], have[32];
	struct stat st;
	ssize_t n = -1;
	int fd;

	/* Replaced meanwhile (another server, an administrator): not ours.
	 * The inode alone does not tell, a new file may reuse its number. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_dev == pf->dev && st.st_ino == pf->ino)
		n = read(fd, have, sizeof(have) - 1);
	close(fd);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	if (n >= 0) {
		have[n] = 0;
		if (strcmp(have, want) == 0)
			unlink(path);
	}
}
