/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile server client for the stress tests: a plain protocol client
 * of ivsh-server (no device, no layout) that either
 *   doorbell SOCK VICTIM SECONDS: takes the victim's vector-0 eventfd
 *     from its connect notice and writes to it in a loop, or
 *   churn SOCK SECONDS [PER_SECOND]: connects and disconnects in a loop
 *     (at most PER_SECOND times a second if given), so that every peer
 *     gets a connect and a disconnect notice each time.
 * It runs at the lowest priority, so that on a loaded machine the victim
 * still gets all the CPU the flood makes it ask for: what is measured is
 * the victim's appetite, not the scheduler's fairness.
 * It stops after SECONDS or at SIGTERM/SIGINT, with one line:
 * "flood: MODE COUNT in MS ms (RATE/s)".
 * Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ivsh_proto.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* Read server messages until vector 0 of @victim arrives (or timeout). */
static int victim_fd(int s, uint16_t victim, int timeout_ms)
{
	static struct ivsh_proto_client c;
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	ivsh_proto_client_init(&c);
	while (now_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct ivsh_proto_event ev;
		int64_t v;
		int fd;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (ivsh_proto_recv(s, &v, &fd) < 0 ||
		    ivsh_proto_client_feed(&c, v, fd, &ev) < 0)
			return -1;
		if (ev.type == IVSH_PROTO_EV_PEER_VECTOR && ev.peer == victim &&
		    ev.vector == 0)
			return ev.fd;
		if (ev.fd >= 0)
			close(ev.fd);
	}
	return -1;
}

static int doorbells(const char *sock, uint16_t victim, unsigned int secs)
{
	int s = dial(sock);
	int efd = s < 0 ? -1 : victim_fd(s, victim, 5000);
	uint64_t one = 1, n = 0;

	if (efd < 0) {
		fprintf(stderr, "flood: no vector 0 of peer %u from %s\n",
			victim, sock);
		return 1;
	}
	uint64_t start = now_ms(), end = start + secs * 1000ull;

	while (!stop && now_ms() < end) {
		for (int i = 0; i < 1024; i++)
			if (write(efd, &one, sizeof(one)) == sizeof(one))
				n++;
	}
	uint64_t ms = now_ms() - start;

	printf("flood: doorbell %" PRIu64 " in %" PRIu64 " ms (%" PRIu64 "/s)\n",
	       n, ms, ms ? n * 1000 / ms : 0);
	close(efd);
	close(s);
	return 0;
}

static int churn(const char *sock, unsigned int secs, unsigned long rate)
{
	uint64_t start = now_ms(), end = start + secs * 1000ull, n = 0;

	while (!stop && now_ms() < end) {
		/* Paced: never ahead of rate * elapsed. */
		if (rate && n * 1000 > rate * (now_ms() - start)) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
			continue;
		}
		int s = dial(sock);

		if (s < 0) {
			fprintf(stderr, "flood: connect %s: %s\n", sock,
				strerror(errno));
			return 1;
		}
		/* Wait for the ID, so the server has announced us. */
		int64_t v;
		int fd, got = 0;

		while (got < 2) {
			struct pollfd p = { .fd = s, .events = POLLIN };

			if (poll(&p, 1, 1000) <= 0 ||
			    ivsh_proto_recv(s, &v, &fd) < 0)
				break;
			if (fd >= 0)
				close(fd);
			got++;
		}
		close(s);
		n++;
	}
	uint64_t ms = now_ms() - start;

	printf("flood: churn %" PRIu64 " in %" PRIu64 " ms (%" PRIu64 "/s)\n", n,
	       ms, ms ? n * 1000 / ms : 0);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: it_flood doorbell SOCK VICTIM_ID SECONDS\n"
			"       it_flood churn SOCK SECONDS [PER_SECOND]\n");
	return 1;
}

int main(int argc, char **argv)
{
	char *e;

	struct sigaction sa = { .sa_handler = on_stop };

	if (nice(19) == -1)
		perror("flood: nice");
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "doorbell") == 0) {
		unsigned long id = strtoul(argv[3], &e, 10);

		if (*e || *argv[3] == '\0' || id > 65535)
			return usage();
		unsigned long secs = strtoul(argv[4], &e, 10);

		if (*e || secs == 0 || secs > 600)
			return usage();
		return doorbells(argv[2], (uint16_t)id, (unsigned int)secs);
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "churn") == 0) {
		unsigned long secs = strtoul(argv[3], &e, 10), rate = 0;

		if (*e || secs == 0 || secs > 600)
			return usage();
		if (argc == 5) {
			rate = strtoul(argv[4], &e, 10);
			if (*e || rate == 0 || rate > 10000000)
				return usage();
		}
		return churn(argv[2], (unsigned int)secs, rate);
	}
	return usage();
}
