/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving one protocol message. Strict: exactly 8 bytes and at most one
 * descriptor, passed with SCM_RIGHTS; everything else is a protocol error
 * and every descriptor that arrived with the bad message is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ivsh_proto.h"
#include "proto_wire.h"

/* Room for more descriptors than allowed, so that "too many" is seen as
 * such and closed by us rather than silently truncated by the kernel. */
#define RECV_FD_ROOM 8
/* How long a non-blocking reader waits for the rest of a message whose
 * first bytes arrived. A conforming sender never splits a message. */
#define PARTIAL_WAIT_MS 250

struct recv_fds {
	int fd[RECV_FD_ROOM * 2];
	int count;
	int bad; /* unexpected cmsg or truncation seen */
};

static void close_all(struct recv_fds *r)
{
	for (int i = 0; i < r->count; i++)
		close(r->fd[i]);
	r->count = 0;
}

/* Take ownership of every descriptor of one recvmsg(). */
static void collect_fds(struct msghdr *msg, struct recv_fds *r)
{
	struct cmsghdr *cmsg;

	if (msg->msg_flags & MSG_CTRUNC)
		r->bad = 1;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t n;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			/* e.g. SCM_CREDENTIALS: nothing to close, but not ours */
			r->bad = 1;
			continue;
		}
		if (cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (r->count < (int)(sizeof(r->fd) / sizeof(r->fd[0])))
				r->fd[r->count++] = fd;
			else
				close(fd); /* cannot happen: room > cmsg space */
		}
	}
}

static int wait_readable(int sock)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int rc;

	do {
		rc = poll(&pfd, 1, PARTIAL_WAIT_MS);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

int ivsh_proto_recv(int sock, int64_t *value, int *fd)
{
	uint8_t buf[IVSH_PROTO_MSG_SIZE];
	size_t got = 0;
	struct recv_fds r = { .count = 0, .bad = 0 };
	int err = 0;

	if (fd)
		*fd = -1;
	if (sock < 0 || !value || !fd)
		return -EINVAL;

	while (got < sizeof(buf)) {
		union {
			char space[CMSG_SPACE(sizeof(int) * RECV_FD_ROOM)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {
			.iov_base = buf + got,
			.iov_len = sizeof(buf) - got,
		};
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.space,
			.msg_controllen = sizeof(ctl.space),
		};
		ssize_t n;

		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK)) {
				if (got == 0) {
					err = -EAGAIN;
					break;
				}
				/* Mid-message on a non-blocking socket. */
				if (wait_readable(sock) == 0)
					continue;
				err = -EPROTO;
				break;
			}
			err = -errno;
			if (got > 0 && err == -ECONNRESET)
				err = -EPROTO;
			break;
		}
		collect_fds(&msg, &r);
		if (n == 0) {
			err = got == 0 && r.count == 0 ? -ECONNRESET : -EPROTO;
			break;
		}
		got += (size_t)n;
	}

	if (!err && (r.bad || r.count > 1))
		err = -EPROTO;
	if (err) {
		close_all(&r);
		return err;
	}
	*value = ivsh_proto_decode(buf);
	*fd = r.count ? r.fd[0] : -1;
	return 0;
}
