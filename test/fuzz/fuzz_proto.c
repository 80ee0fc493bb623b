/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/proto: arbitrary bytes become (a) a stream of
 * messages, with and without descriptors, pushed through a socketpair
 * into ivsh_proto_recv(), and (b) a sequence fed straight to
 * ivsh_proto_client_feed(). Checked: no crash, every event is
 * consistent, and no descriptor is leaked on any path.
 *
 * Built for libFuzzer when the compiler has -fsanitize=fuzzer
 * (LLVMFuzzerTestOneInput); otherwise a standalone program runs a fixed
 * number of pseudo-random inputs (argv[1], default 20000) from a fixed
 * seed, so a failure is reproducible.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ivsh_proto.h"
#include "test_fds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_proto: invariant broken: %s\n", what);
		abort();
	}
}

static void check_event(const struct ivsh_proto_event *ev, int rc)
{
	bool wants_fd = ev->type == IVSH_PROTO_EV_SHM ||
			ev->type == IVSH_PROTO_EV_PEER_VECTOR ||
			ev->type == IVSH_PROTO_EV_OWN_VECTOR;

	if (rc < 0) {
		check(ev->fd == -1, "fd returned with an error");
		check(rc == -EPROTO || rc == -ERANGE || rc == -EPROTONOSUPPORT,
		      "unexpected error code");
		return;
	}
	check(wants_fd == (ev->fd >= 0), "fd presence matches event type");
	check(ev->vector < IVSH_PROTO_MAX_VECTORS, "vector in range");
	if (ev->fd >= 0)
		close(ev->fd);
}

static struct ivsh_proto_client client;

/* (b): records of 9 bytes: flags, then a little-endian value. */
static void fuzz_feed(const uint8_t *data, size_t size)
{
	ivsh_proto_client_init(&client);
	for (size_t off = 0; off + 9 <= size; off += 9) {
		struct ivsh_proto_event ev;
		uint64_t u = 0;
		int64_t v;
		int fd = -1, rc;

		for (int i = 0; i < 8; i++)
			u |= (uint64_t)data[off + 1 + i] << (8 * i);
		/* Steer values toward the interesting small range. */
		v = data[off] & 2 ? (int64_t)(int8_t)data[off + 1] : (int64_t)u;
		if (data[off] & 1)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		rc = ivsh_proto_client_feed(&client, v, fd, &ev);
		check_event(&ev, rc);
		if (rc < 0)
			ivsh_proto_client_init(&client);
	}
}

/* (a): chunks: 1 byte header (length 0..15, fd count 0..3), payload. */
static void fuzz_wire(const uint8_t *data, size_t size)
{
	int sv[2];
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	/* Both ends: a sender that fills the socket (many small messages
	 * with descriptors) gets EAGAIN and stops instead of blocking. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	while (off < size) {
		uint8_t h = data[off++];
		size_t len = h & 15;
		int nfds = (h >> 4) & 3;
		int fds[3];
		const uint8_t *chunk = data + off;

		if (len > size - off)
			len = size - off;
		if (!len)
			continue; /* no fds without data on a stream socket */
		off += len;
		for (int i = 0; i < nfds; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (test_send_fds(sv[0], chunk, len, fds, nfds) < 0) {
			/* socket full: stop feeding */
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			break;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
	close(sv[0]);
	ivsh_proto_client_init(&client);
	for (;;) {
		struct ivsh_proto_event ev;
		int64_t v;
		int fd, rc;

		rc = ivsh_proto_recv(sv[1], &v, &fd);
		if (rc < 0) {
			check(fd == -1, "fd returned with a recv error");
			if (rc == -ECONNRESET || rc == -EAGAIN)
				break;
			check(rc == -EPROTO, "recv error is EPROTO");
			continue; /* the stream is resynchronised or ends */
		}
		rc = ivsh_proto_client_feed(&client, v, fd, &ev);
		check_event(&ev, rc);
		if (rc < 0)
			ivsh_proto_client_init(&client);
	}
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int before = test_count_fds();

	if (size && data[0] & 0x80)
		fuzz_wire(data + 1, size - 1);
	else
		fuzz_feed(data, size);
	check(test_count_fds() == before, "no descriptor leaked");
	return 0;
}

#ifndef IVSH_LIBFUZZER
/* xorshift64*: a fixed, portable sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	uint64_t seed = 0x1f9bb31208e7ee7bULL;
	uint8_t buf[512];

	for (long i = 0; i < iters; i++) {
		size_t n = rnd(&seed) % sizeof(buf);

		for (size_t k = 0; k < n; k++) {
			uint64_t r = rnd(&seed);

			/* Mostly small bytes: IDs, -1 and 0 come up often. */
			buf[k] = (uint8_t)(r & 0x100 ? r : r % 4);
			if ((r >> 20) % 7 == 0)
				buf[k] = 0xff;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_proto: %ld inputs, no invariant broken\n", iters);
	return 0;
}
#endif
