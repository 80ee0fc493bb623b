/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/proto over socketpair(): wire encoding, descriptor
 * passing, every malformed-message case, and no descriptor leak on any
 * path (the open-fd count of the process is compared before and after).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_proto.h"
#include "test_fds.h"

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

struct pair {
	int tx; /* "server" end */
	int rx; /* "client" end */
	int fds_before;
};

static int setup_pair(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	if (!p)
		return -1;
	p->fds_before = test_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(p);
		return -1;
	}
	p->tx = sv[0];
	p->rx = sv[1];
	*state = p;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *p = *state;

	if (p->tx >= 0)
		close(p->tx);
	if (p->rx >= 0)
		close(p->rx);
	/* Every test must leave the descriptor table as it found it. */
	assert_int_equal(test_count_fds(), p->fds_before);
	free(p);
	return 0;
}

/* Send raw bytes with any number of descriptors (or none). */
static void send_raw(int sock, const void *data, size_t len,
		     const int *fds, int nfds)
{
	assert_true(nfds <= TEST_SEND_MAX_FDS);
	assert_int_equal(test_send_fds(sock, data, len, fds, nfds), (ssize_t)len);
}

static void encode_le(int64_t v, uint8_t b[8])
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

/* ---- encoding ---- */

static void test_roundtrip_values(void **state)
{
	struct pair *p = *state;
	const int64_t values[] = {
		0, 1, -1, 2, 65535, 65536, -2, INT64_MAX, INT64_MIN,
		0x0102030405060708LL,
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int64_t v = 12345;
		int fd = 99;

		assert_int_equal(ivsh_proto_send(p->tx, values[i], -1), 0);
		assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
		assert_true(v == values[i]);
		assert_int_equal(fd, -1);
	}
}

static void test_wire_is_little_endian(void **state)
{
	struct pair *p = *state;
	uint8_t b[8];
	const uint8_t want[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	int64_t v;
	int fd;

	assert_int_equal(ivsh_proto_send(p->tx, 0x0102030405060708LL, -1), 0);
	assert_int_equal(read(p->rx, b, sizeof(b)), 8);
	assert_memory_equal(b, want, 8);

	/* -1 is eight 0xff bytes. */
	memset(b, 0xff, sizeof(b));
	send_raw(p->tx, b, 8, NULL, 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
	assert_true(v == -1);
}

static void test_fd_passing(void **state)
{
	struct pair *p = *state;
	int efd = eventfd(0, EFD_CLOEXEC);
	struct stat a, b;
	int64_t v;
	int fd = -1;

	assert_true(efd >= 0);
	assert_int_equal(ivsh_proto_send(p->tx, 7, efd), 0);
	/* The sender keeps its descriptor. */
	assert_true(fd_is_open(efd));
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
	assert_true(v == 7);
	assert_true(fd >= 0 && fd != efd);
	assert_int_equal(fstat(efd, &a), 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	/* MSG_CMSG_CLOEXEC: received descriptors do not leak into exec. */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(efd);
}

static void test_split_message_reassembled(void **state)
{
	struct pair *p = *state;
	uint8_t b[8];
	int64_t v;
	int fd;

	encode_le(4242, b);
	send_raw(p->tx, b, 3, NULL, 0);
	send_raw(p->tx, b + 3, 5, NULL, 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
	assert_true(v == 4242);
	assert_int_equal(fd, -1);
}

/* ---- end of stream and short messages ---- */

static void test_eof_at_boundary(void **state)
{
	struct pair *p = *state;
	int64_t v;
	int fd;

	assert_int_equal(ivsh_proto_send(p->tx, 5, -1), 0);
	close(p->tx);
	p->tx = -1;
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -ECONNRESET);
	assert_int_equal(fd, -1);
}

static void test_eof_mid_message(void **state)
{
	struct pair *p = *state;
	uint8_t b[8] = { 1, 2, 3 };
	int64_t v;
	int fd;

	send_raw(p->tx, b, 3, NULL, 0);
	close(p->tx);
	p->tx = -1;
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(fd, -1);
}

static void test_eof_mid_message_with_fd(void **state)
{
	struct pair *p = *state;
	uint8_t b[8] = { 0 };
	int efd = eventfd(0, EFD_CLOEXEC);
	int before = test_count_fds();
	int64_t v;
	int fd;

	send_raw(p->tx, b, 5, &efd, 1);
	close(p->tx);
	p->tx = -1;
	before--; /* the closed sending end */
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(test_count_fds(), before);
	close(efd);
}

static void test_nonblocking_empty_is_eagain(void **state)
{
	struct pair *p = *state;
	int64_t v;
	int fd;

	assert_int_equal(fcntl(p->rx, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EAGAIN);
	assert_int_equal(fd, -1);
}

static void test_nonblocking_stalled_partial(void **state)
{
	struct pair *p = *state;
	uint8_t b[8] = { 0 };
	int64_t v;
	int fd;

	assert_int_equal(fcntl(p->rx, F_SETFL, O_NONBLOCK), 0);
	send_raw(p->tx, b, 4, NULL, 0);
	/* The sender never completes the message: bounded wait, then error. */
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
}

/* ---- descriptor abuse ---- */

static void test_two_fds_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t b[8];
	int fds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	int before = test_count_fds();
	int64_t v;
	int fd;

	encode_le(1, b);
	send_raw(p->tx, b, 8, fds, 2);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(test_count_fds(), before);
	close(fds[0]);
	close(fds[1]);
}

static void test_many_fds_truncated_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t b[8];
	int fds[32];
	int before;
	int64_t v;
	int fd;

	for (int i = 0; i < 32; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	before = test_count_fds();
	encode_le(1, b);
	send_raw(p->tx, b, 8, fds, 32); /* more than the receiver has room for */
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(test_count_fds(), before);
	for (int i = 0; i < 32; i++)
		close(fds[i]);
}

static void test_fds_on_each_half_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t b[8];
	int fds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	int before = test_count_fds();
	int64_t v;
	int fd;

	encode_le(3, b);
	send_raw(p->tx, b, 4, &fds[0], 1);
	send_raw(p->tx, b + 4, 4, &fds[1], 1);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(test_count_fds(), before);
	close(fds[0]);
	close(fds[1]);
}

static void test_credentials_cmsg_rejected(void **state)
{
	struct pair *p = *state;
	int one = 1;
	int64_t v;
	int fd;

	/* With SO_PASSCRED every message carries SCM_CREDENTIALS. */
	assert_int_equal(setsockopt(p->rx, SOL_SOCKET, SO_PASSCRED, &one,
				    sizeof(one)), 0);
	assert_int_equal(ivsh_proto_send(p->tx, 1, -1), 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(fd, -1);
}

static void test_credentials_with_fd_closes_fd(void **state)
{
	struct pair *p = *state;
	int one = 1;
	int efd = eventfd(0, EFD_CLOEXEC);
	int before = test_count_fds();
	int64_t v;
	int fd;

	assert_int_equal(setsockopt(p->rx, SOL_SOCKET, SO_PASSCRED, &one,
				    sizeof(one)), 0);
	assert_int_equal(ivsh_proto_send(p->tx, 1, efd), 0);
	assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), -EPROTO);
	assert_int_equal(test_count_fds(), before);
	close(efd);
}

/* ---- sending ---- */

static void test_send_to_closed_peer(void **state)
{
	struct pair *p = *state;

	close(p->rx);
	p->rx = -1;
	/* No SIGPIPE (the test would die), an error code instead. */
	assert_int_equal(ivsh_proto_send(p->tx, 1, -1), -EPIPE);
}

static void test_send_full_nonblocking(void **state)
{
	struct pair *p = *state;
	int sz = 4096;
	int rc = 0;
	int sent = 0;

	assert_int_equal(setsockopt(p->tx, SOL_SOCKET, SO_SNDBUF, &sz,
				    sizeof(sz)), 0);
	assert_int_equal(fcntl(p->tx, F_SETFL, O_NONBLOCK), 0);
	for (int i = 0; i < 1000000 && rc == 0; i++) {
		rc = ivsh_proto_send(p->tx, i, -1);
		if (rc == 0)
			sent++;
	}
	assert_int_equal(rc, -EAGAIN);
	assert_true(sent > 0);
	/* Everything that was accepted arrives intact and in order. */
	for (int i = 0; i < sent; i++) {
		int64_t v;
		int fd;

		assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
		assert_true(v == i);
	}
}

static void test_bad_args(void **state)
{
	int64_t v;
	int fd = 5;

	(void)state;
	assert_int_equal(ivsh_proto_send(-1, 0, -1), -EBADF);
	assert_int_equal(ivsh_proto_recv(-1, &v, &fd), -EINVAL);
	assert_int_equal(fd, -1);
}

/* ---- EINTR ---- */

static void on_usr1(int sig)
{
	(void)sig;
}

struct recv_job {
	int sock;
	int rc;
	int64_t v;
};

static void *recv_thread(void *arg)
{
	struct recv_job *j = arg;
	int fd;

	j->rc = ivsh_proto_recv(j->sock, &j->v, &fd);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_recv_retries_on_eintr(void **state)
{
	struct pair *p = *state;
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct recv_job job = { .sock = p->rx, .rc = 1 };
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	pthread_t t;

	/* No SA_RESTART: a blocked recvmsg() fails with EINTR. */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&t, NULL, recv_thread, &job), 0);
	nanosleep(&pause, NULL);
	pthread_kill(t, SIGUSR1);
	nanosleep(&pause, NULL);
	pthread_kill(t, SIGUSR1);
	assert_int_equal(ivsh_proto_send(p->tx, 77, -1), 0);
	pthread_join(t, NULL);
	assert_int_equal(job.rc, 0);
	assert_true(job.v == 77);
	sigaction(SIGUSR1, &old, NULL);
}

/* ---- client state machine ---- */

struct feed_case {
	struct ivsh_proto_client c;
	struct ivsh_proto_event ev;
};

static struct feed_case *new_client(void)
{
	struct feed_case *f = malloc(sizeof(*f));

	assert_non_null(f);
	ivsh_proto_client_init(&f->c);
	return f;
}

static int feed(struct feed_case *f, int64_t v, int fd)
{
	return ivsh_proto_client_feed(&f->c, v, fd, &f->ev);
}

/* Run a client to the point where it has its ID and shared memory. */
static void handshake(struct feed_case *f, int64_t id)
{
	int shm = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(feed(f, 0, -1), 0);
	assert_int_equal(f->ev.type, IVSH_PROTO_EV_NONE);
	assert_false(ivsh_proto_client_has_shm(&f->c));
	assert_int_equal(feed(f, id, -1), 0);
	assert_int_equal(f->ev.type, IVSH_PROTO_EV_ID);
	assert_int_equal(f->ev.peer, id);
	assert_false(ivsh_proto_client_has_shm(&f->c));
	assert_int_equal(feed(f, -1, shm), 0);
	assert_int_equal(f->ev.type, IVSH_PROTO_EV_SHM);
	assert_int_equal(f->ev.fd, shm);
	assert_true(ivsh_proto_client_has_shm(&f->c));
	close(shm);
}

static void expect_vector(struct feed_case *f, int64_t peer, int type,
			  int vector)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(feed(f, peer, efd), 0);
	assert_int_equal(f->ev.type, type);
	assert_int_equal(f->ev.peer, peer);
	assert_int_equal(f->ev.vector, vector);
	/* Ownership is handed back with the event. */
	assert_int_equal(f->ev.fd, efd);
	assert_true(fd_is_open(efd));
	close(efd);
}

static void test_client_full_sequence(void **state)
{
	struct feed_case *f = new_client();
	int before = test_count_fds();

	(void)state;
	handshake(f, 3);
	/* Existing peers 1 and 5, two vectors each, in order. */
	expect_vector(f, 1, IVSH_PROTO_EV_PEER_VECTOR, 0);
	expect_vector(f, 1, IVSH_PROTO_EV_PEER_VECTOR, 1);
	expect_vector(f, 5, IVSH_PROTO_EV_PEER_VECTOR, 0);
	expect_vector(f, 5, IVSH_PROTO_EV_PEER_VECTOR, 1);
	/* Own interrupt setup. */
	expect_vector(f, 3, IVSH_PROTO_EV_OWN_VECTOR, 0);
	expect_vector(f, 3, IVSH_PROTO_EV_OWN_VECTOR, 1);
	/* A new peer. */
	expect_vector(f, 0, IVSH_PROTO_EV_PEER_VECTOR, 0);
	expect_vector(f, 0, IVSH_PROTO_EV_PEER_VECTOR, 1);
	/* Peer 1 leaves and comes back: its vectors start again at 0. */
	assert_int_equal(feed(f, 1, -1), 0);
	assert_int_equal(f->ev.type, IVSH_PROTO_EV_PEER_GONE);
	assert_int_equal(f->ev.peer, 1);
	assert_int_equal(f->ev.fd, -1);
	expect_vector(f, 1, IVSH_PROTO_EV_PEER_VECTOR, 0);
	/* Highest legal ID. */
	expect_vector(f, 65535, IVSH_PROTO_EV_PEER_VECTOR, 0);
	assert_int_equal(test_count_fds(), before);
	free(f);
}

/* Feed one bad message carrying a fresh descriptor (or none) and check
 * the error and that the descriptor was closed. */
static void expect_reject(struct feed_case *f, int64_t v, bool with_fd,
			  int err)
{
	int efd = with_fd ? eventfd(0, EFD_CLOEXEC) : -1;

	assert_int_equal(feed(f, v, efd), err);
	assert_int_equal(f->ev.fd, -1);
	assert_int_equal(f->ev.type, IVSH_PROTO_EV_NONE);
	if (with_fd)
		assert_false(fd_is_open(efd));
}

static void test_client_bad_version(void **state)
{
	struct feed_case *f = new_client();

	(void)state;
	expect_reject(f, 1, false, -EPROTONOSUPPORT);
	ivsh_proto_client_init(&f->c);
	expect_reject(f, -1, true, -EPROTONOSUPPORT);
	ivsh_proto_client_init(&f->c);
	expect_reject(f, 0, true, -EPROTO); /* version with an fd */
	free(f);
}

static void test_client_bad_id(void **state)
{
	struct feed_case *f = new_client();

	(void)state;
	assert_int_equal(feed(f, 0, -1), 0);
	expect_reject(f, 65536, false, -ERANGE);
	expect_reject(f, -1, false, -ERANGE);
	expect_reject(f, INT64_MIN, true, -ERANGE);
	expect_reject(f, 4, true, -EPROTO); /* ID with an fd */
	free(f);
}

static void test_client_bad_shm(void **state)
{
	struct feed_case *f = new_client();

	(void)state;
	assert_int_equal(feed(f, 0, -1), 0);
	assert_int_equal(feed(f, 2, -1), 0);
	expect_reject(f, -1, false, -EPROTO); /* -1 without the shm fd */
	expect_reject(f, 2, true, -EPROTO);   /* vector before shm */
	assert_false(ivsh_proto_client_has_shm(&f->c));
	free(f);
}

static void test_client_bad_running(void **state)
{
	struct feed_case *f = new_client();

	(void)state;
	handshake(f, 2);
	expect_reject(f, -1, true, -EPROTO);    /* second shared memory */
	expect_reject(f, -1, false, -EPROTO);
	expect_reject(f, 65536, true, -ERANGE);
	expect_reject(f, -2, false, -ERANGE);
	expect_reject(f, INT64_MAX, true, -ERANGE);
	expect_reject(f, 2, false, -EPROTO);    /* own ID without an fd */
	free(f);
}

static void test_client_vector_limit(void **state)
{
	struct feed_case *f = new_client();
	int before = test_count_fds();

	(void)state;
	handshake(f, 0);
	for (int i = 0; i < IVSH_PROTO_MAX_VECTORS; i++)
		expect_vector(f, 9, IVSH_PROTO_EV_PEER_VECTOR, i);
	expect_reject(f, 9, true, -EPROTO);
	for (int i = 0; i < IVSH_PROTO_MAX_VECTORS; i++)
		expect_vector(f, 0, IVSH_PROTO_EV_OWN_VECTOR, i);
	expect_reject(f, 0, true, -EPROTO);
	/* A disconnect resets the peer's count. */
	assert_int_equal(feed(f, 9, -1), 0);
	expect_vector(f, 9, IVSH_PROTO_EV_PEER_VECTOR, 0);
	assert_int_equal(test_count_fds(), before);
	free(f);
}

/* The two halves together: a whole server conversation over a socket. */
static void test_conversation_over_socket(void **state)
{
	struct pair *p = *state;
	struct feed_case *f = new_client();
	int shm = eventfd(0, EFD_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC);
	const int64_t msgs[][2] = {
		{ 0, -1 }, { 1, -1 }, { -1, 1 }, { 0, 1 }, { 0, 1 },
		{ 1, 1 }, { 1, 1 }, { 0, -1 },
	};
	const int want[] = {
		IVSH_PROTO_EV_NONE, IVSH_PROTO_EV_ID, IVSH_PROTO_EV_SHM,
		IVSH_PROTO_EV_PEER_VECTOR, IVSH_PROTO_EV_PEER_VECTOR,
		IVSH_PROTO_EV_OWN_VECTOR, IVSH_PROTO_EV_OWN_VECTOR,
		IVSH_PROTO_EV_PEER_GONE,
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	for (size_t i = 0; i < n; i++)
		assert_int_equal(ivsh_proto_send(p->tx, msgs[i][0],
				 msgs[i][1] > 0 ? (i == 2 ? shm : efd) : -1), 0);
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		int fd;

		assert_int_equal(ivsh_proto_recv(p->rx, &v, &fd), 0);
		assert_int_equal(feed(f, v, fd), 0);
		assert_int_equal(f->ev.type, want[i]);
		if (f->ev.fd >= 0)
			close(f->ev.fd);
	}
	close(shm);
	close(efd);
	free(f);
}

#define PT(fn) cmocka_unit_test_setup_teardown(fn, setup_pair, teardown_pair)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT(test_roundtrip_values),
		PT(test_wire_is_little_endian),
		PT(test_fd_passing),
		PT(test_split_message_reassembled),
		PT(test_eof_at_boundary),
		PT(test_eof_mid_message),
		PT(test_eof_mid_message_with_fd),
		PT(test_nonblocking_empty_is_eagain),
		PT(test_nonblocking_stalled_partial),
		PT(test_two_fds_rejected),
		PT(test_many_fds_truncated_rejected),
		PT(test_fds_on_each_half_rejected),
		PT(test_credentials_cmsg_rejected),
		PT(test_credentials_with_fd_closes_fd),
		PT(test_send_to_closed_peer),
		PT(test_send_full_nonblocking),
		cmocka_unit_test(test_bad_args),
		PT(test_recv_retries_on_eintr),
		PT(test_client_full_sequence),
		PT(test_client_bad_version),
		PT(test_client_bad_id),
		PT(test_client_bad_shm),
		PT(test_client_bad_running),
		PT(test_client_vector_limit),
		PT(test_conversation_over_socket),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
