/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Eventfds of the server: backend. Every peer holds the same eventfds and
 * may clear O_NONBLOCK on them (the flag belongs to the open file), so
 * nothing here relies on it.
 */
#include "server_eventfd.h"
#include "eventfd_rescue.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * Drain one eventfd without ever blocking. O_NONBLOCK belongs to the open
 * file, which every peer holding the eventfd shares and may clear, so the
 * flag is not relied on: RWF_NOWAIT, or (kernels without it for eventfds)
 * a zero-timeout poll first. @return how many signals it held (0 if none).
 */
uint64_t server_eventfd_drain(int fd)
{
	uint64_t n = 0;
	struct iovec io = { .iov_base = &n, .iov_len = sizeof(n) };
	ssize_t r = preadv2(fd, &io, 1, -1, RWF_NOWAIT);

	if (r < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
			return 0;
		r = read(fd, &n, sizeof(n));
	}
	return r == (ssize_t)sizeof(n) ? n : 0;
}

/*
 * Add 1 to a peer's eventfd without ever blocking for long, whatever its
 * flags (the peer can clear O_NONBLOCK and fill the counter, or a server
 * can pass a pipe): write only if poll() says it would not block. A full
 * counter means the peer is signalled already. A peer that refills its
 * counter between the poll() and the write() would still block the
 * write: the watchdog of eventfd_rescue.c drains the counter then.
 */
int server_eventfd_signal(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t one = 1;
	int n, slot, err;
	ssize_t w;

	do {
		n = poll(&pfd, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -EPIPE;
	slot = eventfd_rescue_begin(fd);
	w = write(fd, &one, sizeof(one));
	err = errno;
	eventfd_rescue_end(slot);
	if (w != (ssize_t)sizeof(one))
		return err == EAGAIN || err == EINTR ? 0 : -err;
	return 0;
}

/*
 * An interrupt vector from the server must be an eventfd: a pipe or a
 * socket would fill up (or raise SIGPIPE) when rung. Told by its
 * /proc/self/fd link; without /proc the fd is taken on trust.
 */
bool server_eventfd_check(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return true;
	link[n] = 0;
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}
