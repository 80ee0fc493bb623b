/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile servers against the server: client, each scripted in a child
 * process; every victim step runs in a forked child with a deadline:
 *
 * - a hostile server that passes a pipe as an eventfd cannot hang rings;
 * - connect() honours timeout= against a listener whose backlog is full;
 * - the handshake deadline holds against a server that keeps talking;
 * - a server flooding eventfds cannot fill the client's descriptor table.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <endian.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "ivsh_proto.h"
#include "hostile_fx.h"
#include "tclient.h"

/* ---- hostile servers, scripted in a child process ---- */

enum script { PIPE_AS_EVENTFD, ENDLESS_TALK, FD_FLOOD, SILENT_BACKLOG };

/* Peer-gone notices (IDs 1..), as fast as the socket takes them. */
static void talk(int c)
{
	static int64_t burst[4096];

	for (int i = 0; i < 4096; i++)
		burst[i] = htole64((uint64_t)(1 + i % 1000));
	while (write(c, burst, sizeof(burst)) > 0)
		;
}

static void serve_script(int lsock, enum script s)
{
	int mem = memfd_create("hostile", MFD_CLOEXEC);
	int efd = eventfd(0, EFD_NONBLOCK);
	int c, p[2];

	alarm(30); /* never outlive a failed test */
	c = accept(lsock, NULL, NULL);
	if (c < 0 || mem < 0 || efd < 0 || ftruncate(mem, 1 << 16) < 0 ||
	    pipe(p) < 0)
		_exit(2);
	(void)ivsh_proto_send(c, IVSH_PROTO_VERSION, -1);
	(void)ivsh_proto_send(c, 0, -1);
	switch (s) {
	case PIPE_AS_EVENTFD:
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		(void)ivsh_proto_send(c, 1, p[1]); /* peer 1's "eventfd" */
		(void)ivsh_proto_send(c, 0, efd);
		break;
	case ENDLESS_TALK:
		/* The memory, then peer-gone notices for ever, never the
		 * client's own vector. */
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		talk(c);
		break;
	case FD_FLOOD:
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		(void)ivsh_proto_send(c, 0, efd);
		for (int64_t id = 1; id < 65536; id++)
			if (ivsh_proto_send(c, id, efd) < 0)
				break;
		break;
	case SILENT_BACKLOG:
		break;
	}
	pause();
	_exit(0);
}

struct hostile_server {
	char dir[64];
	char path[100];
	pid_t pid;
	int fill[8];
	int nfill;
};

static void hostile_start(struct hostile_server *h, enum script s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l;

	memset(h, 0, sizeof(*h));
	tc_mkdtemp(h->dir, sizeof(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/hostile.sock", h->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, s == SILENT_BACKLOG ? 0 : 4), 0);
	if (s == SILENT_BACKLOG) {
		/* Fill the backlog; nobody ever accepts. */
		for (h->nfill = 0; h->nfill < 8; h->nfill++) {
			int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
				       0);

			assert_true(c >= 0);
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) <
			    0) {
				close(c);
				break;
			}
			h->fill[h->nfill] = c;
		}
		assert_true(h->nfill < 8);
		h->pid = -1;
		h->fill[h->nfill++] = l;
		return;
	}
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0)
		serve_script(l, s);
	close(l);
}

static void hostile_stop(struct hostile_server *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	for (int i = 0; i < h->nfill; i++)
		close(h->fill[i]);
	tc_rmdir(h->dir);
}

struct open_arg {
	const char *path;
	const char *keys;
	int want;          /* expected open result: 0 or a -errno */
	int rings;         /* doorbells to peer 1 after opening */
	int events_ms;     /* then process server events this long */
	rlim_t nofile;     /* descriptor limit for the child; 0: keep */
};

static int open_and_ring(void *arg)
{
	struct open_arg *a = arg;
	struct ivsh_dev *dev = NULL;
	char name[400];
	int rc;

	if (a->nofile) {
		struct rlimit rl = { a->nofile, a->nofile };

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 3;
	}
	snprintf(name, sizeof(name), "server:%s%s", a->path, a->keys);
	rc = ivsh_dev_open(&dev, name, NULL);
	printf("  open: %s (%s)\n", rc ? strerror(-rc) : "ok",
	       ivsh_dev_last_error());
	if (rc != a->want)
		return 1;
	if (rc < 0)
		return 0;
	for (int i = 0; i < a->rings; i++)
		if (ivsh_dev_doorbell(dev, 1, 0) < 0)
			return 4;
	for (int64_t end = now_ms() + a->events_ms; now_ms() < end;) {
		struct pollfd p = { .fd = ivsh_dev_event_fd(dev),
				    .events = POLLIN };

		if (p.fd < 0 || poll(&p, 1, 50) < 0)
			break;
		(void)ivsh_dev_process_events(dev);
	}
	if (a->events_ms) {
		int fds[64], n = 0;

		printf("  peers known: %d, server connection %s, last error: %s\n",
		       ivsh_dev_peers(dev, NULL, 0),
		       ivsh_dev_event_fd(dev) >= 0 ? "open" : "closed",
		       ivsh_dev_last_error());
		/* The process still has room in its descriptor table, and
		 * the server connection was not broken by a lack of it. */
		while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
			n++;
		int got = n;

		printf("  descriptors still free: %d of the 64 tried\n", got);
		while (n > 0)
			close(fds[--n]);
		if (got < 64 || ivsh_dev_event_fd(dev) < 0)
			return 5;
	}
	ivsh_dev_close(dev);
	return 0;
}

/* Run open_and_ring(@p a) in a child against a server playing @p s;
 * @return how long it took (in_child() fails the test unless it exits 0
 * within HANG_MS). */
static int64_t open_against(enum script s, struct open_arg *a,
			    const char *what)
{
	struct hostile_server h;
	int64_t took;

	hostile_start(&h, s);
	a->path = h.path;
	took = in_child(open_and_ring, a, HANG_MS, what);
	hostile_stop(&h);
	return took;
}

static void test_server_pipe_as_eventfd(void **state)
{
	struct open_arg a = { .keys = ",timeout=3000", .rings = 20000,
			      .want = -EPROTO };
	int64_t took;

	(void)state;
	took = open_against(PIPE_AS_EVENTFD, &a,
			    "20000 doorbells into a pipe");
	printf("20000 doorbells into a never-read pipe took %lld ms\n",
	       (long long)took);
}

static void test_connect_timeout(void **state)
{
	struct open_arg a = { .keys = ",timeout=1000", .want = -ETIMEDOUT };
	int64_t took;

	(void)state;
	took = open_against(SILENT_BACKLOG, &a,
			    "connect with timeout=1000 to a full backlog");
	printf("connect to a full backlog, timeout=1000: gave up after %lld ms\n",
	       (long long)took);
	assert_true(took >= 900);
}

static void test_handshake_deadline(void **state)
{
	struct open_arg a = { .keys = ",timeout=1000", .want = -ETIMEDOUT };
	int64_t took;

	(void)state;
	took = open_against(ENDLESS_TALK, &a,
			    "handshake with timeout=1000 against endless notices");
	printf("handshake against endless notices, timeout=1000: gave up after %lld ms\n",
	       (long long)took);
	/* The deadline is checked on every message, not only when poll()
	 * times out; the margin covers fork and a loaded machine. */
	assert_true(took < 1450);
}

static void test_fd_flood(void **state)
{
	struct open_arg a = { .keys = ",timeout=3000", .nofile = 512,
			      .events_ms = 1500 };

	(void)state;
	(void)open_against(FD_FLOOD, &a,
			   "65535 peer eventfds against nofile 512");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_pipe_as_eventfd),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_fd_flood),
	};

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
