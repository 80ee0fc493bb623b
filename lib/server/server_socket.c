/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The listening socket: refuse a missing directory or a live server,
 * replace a stale socket file, set mode and group before listening (so no
 * client can connect while the permissions are still the default ones),
 * and remove the file on exit only if it is still ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server_private.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int check_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	struct stat st;
	const char *dir;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (stat(dir, &st) < 0) {
		rc = -errno;
		set_err(err, errlen, "socket directory %s: %s", dir,
			rc == -ENOENT ? "does not exist" : strerror(-rc));
	} else if (!S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		set_err(err, errlen, "socket directory %s is not a directory",
			dir);
	}
	free(copy);
	return rc;
}

int srv_socket_clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		set_err(err, errlen, "socket %s: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	rc = srv_socket_in_use(path, &st);
	if (rc == 1) {
		set_err(err, errlen, "socket %s is already in use by a running server",
			path);
		return -EADDRINUSE;
	}
	if (rc < 0) {
		set_err(err, errlen, "cannot tell whether socket %s is in use: %s",
			path, strerror(-rc));
		return rc;
	}
	/* Nobody listening: a leftover of a dead server. */
	if (unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		set_err(err, errlen, "cannot remove stale socket %s: %s", path,
			strerror(-rc));
		return rc;
	}
	return 0;
}

int srv_socket_open(struct ivsh_server *srv, char *err, size_t errlen)
{
	const char *path = srv->socket_path;
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (fill_addr(&sa, path) < 0) {
		set_err(err, errlen, "socket path too long (max %zu bytes): %s",
			sizeof(sa.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	rc = check_dir(path, err, errlen);
	if (rc < 0)
		return rc;
	rc = srv_socket_clear_stale(path, err, errlen);
	if (rc < 0)
		return rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		set_err(err, errlen, "bind %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	/* From here on the file is ours: remember which inode it is. */
	if (stat(path, &st) == 0) {
		srv->sock_dev = st.st_dev;
		srv->sock_ino = st.st_ino;
	}
	srv->listen_fd = fd;

	if ((srv->conf.socket_mode || srv->conf.set_mode) &&
	    chmod(path, srv->conf.socket_mode) < 0) {
		rc = -errno;
		set_err(err, errlen, "chmod %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (srv->conf.set_group &&
	    chown(path, (uid_t)-1, srv->conf.socket_group) < 0) {
		rc = -errno;
		set_err(err, errlen, "chown %s to group %u: %s", path,
			(unsigned int)srv->conf.socket_group, strerror(-rc));
		goto fail;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		set_err(err, errlen, "listen %s: %s", path, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	srv_socket_close(srv);
	return rc;
}

void srv_socket_close(struct ivsh_server *srv)
{
	struct stat st;

	if (srv->listen_fd < 0)
		return;
	close(srv->listen_fd);
	srv->listen_fd = -1;
	/* Another server may have replaced a file we lost; leave that one. */
	if (stat(srv->socket_path, &st) == 0 && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino)
		unlink(srv->socket_path);
}
