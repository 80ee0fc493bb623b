/* SPDX-License-Identifier: BSD-3-Clause */
/* Detaching from the terminal, and the pid file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int pidfile_write(const char *path)
{
	char buf[32];
	int fd, len, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len)
		rc = -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}
