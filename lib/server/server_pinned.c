/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pinned IDs: one extra listening socket per pinned ID. A client that
 * connects there gets exactly that ID, or is refused while the ID is held
 * (or, with IVSH_SERVER_IDS_SAFE, held back); the main socket never hands
 * a pinned ID out. This is what migration needs: the master connects
 * where ID 0 is guaranteed, and every peer that plugs back in, on the
 * source or the destination server, connects where its old ID waits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "server_private.h"

bool srv_id_pinned(const struct ivsh_server *srv, unsigned int id)
{
	for (const struct pinned_socket *p = srv->pinned; p; p = p->next)
		if (p->id == id)
			return true;
	return false;
}

static int listen_on(struct ivsh_server *srv, struct pinned_socket *p,
		     char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int rc;

	if (strlen(p->path) >= sizeof(sa.sun_path)) {
		set_err(err, errlen, "socket path too long (max %zu bytes): %s",
			sizeof(sa.sun_path) - 1, p->path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, p->path);
	rc = srv_socket_clear_stale(p->path, err, errlen);
	if (rc < 0)
		return rc;
	p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		set_err(err, errlen, "bind %s: %s", p->path, strerror(-rc));
		return rc;
	}
	if (stat(p->path, &st) == 0) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		p->owned = true;
	}
	/* Same permissions as the main socket, before anyone can connect. */
	if ((srv->conf.socket_mode && chmod(p->path, srv->conf.socket_mode) < 0) ||
	    (srv->conf.set_group &&
	     chown(p->path, (uid_t)-1, srv->conf.socket_group) < 0) ||
	    listen(p->fd, SOMAXCONN) < 0) {
		rc = -errno;
		set_err(err, errlen, "socket %s: %s", p->path, strerror(-rc));
		return rc;
	}
	return 0;
}

static void pinned_free(struct pinned_socket *p)
{
	struct stat st;

	if (p->fd >= 0)
		close(p->fd);
	/* Remove the file only if it is still the one we created. */
	if (p->owned && stat(p->path, &st) == 0 && st.st_dev == p->dev &&
	    st.st_ino == p->ino)
		unlink(p->path);
	free(p->path);
	free(p);
}

int ivsh_server_pin_id(struct ivsh_server *srv, unsigned int id,
		       const char *path, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pinned_socket *p;
	int rc;

	if (!srv || !path || !path[0]) {
		set_err(err, errlen, "no server or no socket path");
		return -EINVAL;
	}
	if (id >= srv->conf.max_clients) {
		set_err(err, errlen, "ID %u is not below max_clients (%u)", id,
			srv->conf.max_clients);
		return -EINVAL;
	}
	if (srv_id_pinned(srv, id)) {
		set_err(err, errlen, "ID %u is already pinned", id);
		return -EEXIST;
	}
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->id == id) {
			set_err(err, errlen, "ID %u is held by a connected client",
				id);
			return -EBUSY;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		free(p);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->fd = -1;
	p->tag.kind = EP_PINNED;
	p->id = (uint16_t)id;
	rc = listen_on(srv, p, err, errlen);
	ev.data.ptr = &p->tag;
	if (rc == 0 && epoll_ctl(srv->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0) {
		rc = -errno;
		set_err(err, errlen, "epoll_ctl: %s", strerror(-rc));
	}
	if (rc < 0) {
		pinned_free(p);
		return rc;
	}
	p->next = srv->pinned;
	srv->pinned = p;
	srv_log(srv, LOG_NOTICE, "ID %u pinned to socket %s", id, p->path);
	return 0;
}

int srv_ids_take(struct ivsh_server *srv, unsigned int id,
		 struct client **after)
{
	uint64_t oldest = UINT64_MAX;

	*after = NULL;
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->id == id)
			return -EEXIST;
		if (c->id < id)
			*after = c;
		if (c->serial < oldest)
			oldest = c->serial;
	}
	/* A client that saw the ID go is still there: QEMU 7.2 would write
	 * the new eventfds into memory it freed. */
	if (srv->id_released && srv->id_released[id] >= oldest)
		return -EBUSY;
	return (int)id;
}

void srv_pinned_accept(struct ivsh_server *srv)
{
	for (struct pinned_socket *p = srv->pinned; p; p = p->next) {
		if (!p->ready)
			continue;
		p->ready = false;
		/* One per round: a second one would be refused anyway. */
		for (int i = 0; i < 16; i++) {
			int fd = accept4(p->fd, NULL, NULL,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd < 0)
				break;
			srv_add_client(srv, fd, p->id);
		}
	}
}

void srv_pinned_close_all(struct ivsh_server *srv)
{
	while (srv->pinned) {
		struct pinned_socket *p = srv->pinned;

		srv->pinned = p->next;
		pinned_free(p);
	}
}
