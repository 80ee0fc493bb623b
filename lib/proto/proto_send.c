/* SPDX-License-Identifier: BSD-3-Clause */
/* Sending one protocol message, optionally with one descriptor. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ivsh_proto.h"
#include "proto_wire.h"

int ivsh_proto_send(int sock, int64_t value, int fd)
{
	uint8_t buf[IVSH_PROTO_MSG_SIZE];
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (sock < 0)
		return -EBADF;
	ivsh_proto_encode(value, buf);
	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.space;
		msg.msg_controllen = sizeof(ctl.space);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}

	/* MSG_NOSIGNAL: a vanished peer is an error code, not a SIGPIPE. */
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);

	if (n < 0) {
		if (errno == EWOULDBLOCK)
			return -EAGAIN;
		return -errno;
	}
	/* The descriptor went with the first byte; the message cannot be
	 * completed without reframing the stream, so the link is broken. */
	if ((size_t)n != sizeof(buf))
		return -EPROTO;
	return 0;
}
