/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Is a socket file in use by a listening server? Asking the kernel
 * (sock_diag: listening UNIX sockets with their file's device and inode)
 * answers without connecting, so a live server's clients never see a
 * phantom peer come and go, and no phantom ever takes ID 0 from the real
 * master. When the kernel cannot tell (no unix_diag, or the listener sits
 * in another network namespace), a plain connect() decides.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "server_private.h"

#define TCP_LISTEN_STATE 10 /* TCP_LISTEN, the state diag uses for UNIX too */

/* The kernel reports s_dev in its own encoding: major << 20 | minor. */
static bool same_file(const struct unix_diag_vfs *v, const struct stat *st)
{
	return v->udiag_vfs_ino == (uint32_t)st->st_ino &&
	       (v->udiag_vfs_dev >> 20) == major(st->st_dev) &&
	       (v->udiag_vfs_dev & 0xfffff) == minor(st->st_dev);
}

static int scan_reply(const char *buf, ssize_t len, const struct stat *st,
		      bool *done)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		const struct unix_diag_msg *m;
		const struct rtattr *a;
		int alen;

		if (h->nlmsg_type == NLMSG_DONE) {
			*done = true;
			return 0;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -EIO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		m = NLMSG_DATA(h);
		a = (const struct rtattr *)(m + 1);
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == UNIX_DIAG_VFS &&
			    RTA_PAYLOAD(a) >= sizeof(struct unix_diag_vfs) &&
			    same_file(RTA_DATA(a), st))
				return 1;
	}
	return 0;
}

/* 1: a listener in our namespace owns this file; 0: none; <0: unknown. */
static int diag_listening(const struct stat *st)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} r;
	union {
		char b[16384];
		struct nlmsghdr align;
	} buf;
	bool done = false;
	int fd, rc = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.nlh.nlmsg_len = sizeof(r);
	r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.req.sdiag_family = AF_UNIX;
	r.req.udiag_states = 1u << TCP_LISTEN_STATE;
	r.req.udiag_show = UDIAG_SHOW_VFS;
	if (send(fd, &r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		rc = -errno;
		goto out;
	}
	/* A dump comes in as many datagrams as it takes; bounded anyway. */
	for (int i = 0; i < 100000 && !done && rc == 0; i++) {
		ssize_t n = recv(fd, buf.b, sizeof(buf.b), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		rc = scan_reply(buf.b, n, st, &done);
	}
	if (rc == 0 && !done)
		rc = -EIO;
out:
	close(fd);
	return rc;
}

int srv_socket_in_use(const char *path, const struct stat *st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	rc = diag_listening(st);
	if (rc == 1)
		return 1;
	/* Not in our namespace, or the kernel would not say: ask by
	 * connecting (a listener elsewhere sees one short connection). */
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0)
		rc = errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
	else
		rc = 1;
	close(fd);
	return rc;
}
