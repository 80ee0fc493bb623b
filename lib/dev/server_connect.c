/* SPDX-License-Identifier: BSD-3-Clause */
/* server: backend: connecting to the ivshmem server's UNIX socket. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dev_private.h"
#include "server_connect.h"

/* Connect within @p timeout_ms: a listener whose backlog is full makes
 * connect() wait for room, as long as the send timeout allows. */
int server_connect_socket(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	struct timeval forever = { 0, 0 };
	int sock, fl;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ivsh_dev_set_error("server:%s: socket path longer than %zu bytes",
				   path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		ivsh_dev_set_error("server:%s: socket: %s", path,
				   strerror(errno));
		return -errno;
	}
	if (timeout_ms > 0 &&
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		int err = errno;

		close(sock);
		ivsh_dev_set_error("server:%s: SO_SNDTIMEO: %s", path,
				   strerror(err));
		return -err;
	}
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(sock);
		if (err == EAGAIN || err == EINPROGRESS) {
			ivsh_dev_set_error("server:%s: connection not accepted within %d ms (the server's backlog is full)",
					   path, timeout_ms);
			return -ETIMEDOUT;
		}
		if (err == ENOENT)
			ivsh_dev_set_error("server:%s: no such socket (is ivsh-server running?)",
					   path);
		else if (err == ECONNREFUSED)
			ivsh_dev_set_error("server:%s: connection refused (no server listening)",
					   path);
		else
			ivsh_dev_set_error("server:%s: connect: %s", path,
					   strerror(err));
		return -err;
	}
	(void)setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &forever,
			 sizeof(forever));
	/* Non-blocking: the caller owns the event loop. */
	fl = fcntl(sock, F_GETFL);
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		close(sock);
		ivsh_dev_set_error("server:%s: fcntl: %s", path, strerror(err));
		return -err;
	}
	return sock;
}
