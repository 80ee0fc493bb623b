/* SPDX-License-Identifier: BSD-3-Clause */
/* ivsh-info actions: ring a doorbell, wait for an interrupt, listen. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "info.h"

void info_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ivsh-info: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int info_ring(struct ivsh_dev *dev, uint16_t peer, uint16_t vector, bool json)
{
	int rc = ivsh_dev_doorbell(dev, peer, vector);

	if (rc == -ENXIO) {
		info_error("peer %u vector %u is not connected", peer, vector);
		return -1;
	}
	if (rc == -ENOTSUP) {
		info_error("%s: device has no interrupts",
			   ivsh_dev_backend(dev));
		return -1;
	}
	if (rc < 0) {
		info_error("doorbell: %s", strerror(-rc));
		return -1;
	}
	if (json)
		printf("{\"rang\": {\"peer\": %u, \"vector\": %u}}\n", peer,
		       vector);
	else
		printf("rang peer %u vector %u\n", peer, vector);
	return 0;
}

int info_wait(struct ivsh_dev *dev, unsigned int vector, int timeout_ms,
	      bool json)
{
	bool intx = ivsh_dev_irq_mode(dev) == IVSH_IRQ_INTX ||
		    ivsh_dev_irq_mode(dev) == IVSH_IRQ_INTX_POLL;
	int rc = ivsh_dev_irq_wait(dev, vector, timeout_ms);

	if (rc == 0) {
		info_error("no interrupt on vector %u within %d ms", vector,
			   timeout_ms);
		return -1;
	}
	if (rc == -ENOTSUP) {
		info_error("%s: no interrupts in irq mode %s",
			   ivsh_dev_backend(dev),
			   ivsh_dev_irq_mode_name(ivsh_dev_irq_mode(dev)));
		return -1;
	}
	if (rc == -EINVAL) {
		info_error("vector %u out of range: the device has %u (add vectors=N to DEVICE)",
			   vector, ivsh_dev_vectors(dev));
		return -1;
	}
	if (rc < 0) {
		info_error("wait: %s", strerror(-rc));
		return -1;
	}
	/* INTx carries no vector number: say so rather than guess. */
	if (json)
		printf("{\"interrupt\": {\"vector\": %u, \"intx\": %s}}\n",
		       vector, intx ? "true" : "false");
	else if (intx)
		printf("interrupt (INTx: any vector)\n");
	else
		printf("interrupt on vector %u\n", vector);
	return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Vectors of every possible peer (0: not connected). */
struct peer_snapshot {
	int16_t vec[65536];
};

static void snapshot(struct ivsh_dev *dev, struct peer_snapshot *s)
{
	static uint16_t ids[65536];
	int n = ivsh_dev_peers(dev, ids, 65536);

	memset(s->vec, 0, sizeof(s->vec));
	for (int i = 0; i < n && i < 65536; i++)
		s->vec[ids[i]] = (int16_t)ivsh_dev_peer_vectors(dev, ids[i]);
}

static void print_notice(bool json, const char *event, unsigned int peer,
			 int vectors)
{
	if (json) {
		if (vectors >= 0)
			printf("{\"event\": \"%s\", \"peer\": %u, \"vectors\": %d}\n",
			       event, peer, vectors);
		else
			printf("{\"event\": \"%s\", \"peer\": %u}\n", event,
			       peer);
	} else if (vectors >= 0) {
		printf("peer %u %s (%d vector%s)\n", peer, event, vectors,
		       vectors == 1 ? "" : "s");
	} else {
		printf("peer %u %s\n", peer, event);
	}
	fflush(stdout);
}

static void print_changes(const struct peer_snapshot *a,
			  const struct peer_snapshot *b, bool json)
{
	for (unsigned int p = 0; p < 65536; p++) {
		if (a->vec[p] == b->vec[p])
			continue;
		if (b->vec[p] == 0)
			print_notice(json, "disconnected", p, -1);
		else if (a->vec[p] == 0)
			print_notice(json, "connected", p, b->vec[p]);
		else
			print_notice(json, "updated", p, b->vec[p]);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int info_listen(struct ivsh_dev *dev, int timeout_ms, bool json)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct peer_snapshot *before, *after;
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	int rc = 0;

	if (ivsh_dev_event_fd(dev) == -ENOTSUP) {
		info_error("%s: backend has no connect/disconnect notices",
			   ivsh_dev_backend(dev));
		return -1;
	}
	before = malloc(sizeof(*before));
	after = malloc(sizeof(*after));
	if (before == NULL || after == NULL) {
		free(before);
		free(after);
		info_error("out of memory");
		return -1;
	}
	/* No SA_RESTART: SIGINT must interrupt poll(). */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snapshot(dev, before);
	/* Start with who is already there, so nothing is missed. */
	for (unsigned int p = 0; p < 65536; p++) {
		if (before->vec[p] != 0)
			print_notice(json, "present", p, before->vec[p]);
	}
	while (!stop_requested) {
		int fd = ivsh_dev_event_fd(dev);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1, n;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				break;
			wait = left > 60000 ? 60000 : (int)left;
		}
		if (fd < 0)
			break; /* server gone: reported below */
		if (poll(&pfd, 1, wait) <= 0)
			continue; /* timeout or signal: loop re-checks */
		n = ivsh_dev_process_events(dev);
		snapshot(dev, after);
		print_changes(before, after, json);
		memcpy(before, after, sizeof(*before));
		if (n == -ECONNRESET) {
			if (json)
				printf("{\"event\": \"server-gone\"}\n");
			else
				printf("server closed the connection\n");
			fflush(stdout);
			break;
		}
		if (n < 0) {
			info_error("server notices: %s", strerror(-n));
			rc = -1;
			break;
		}
	}
	free(before);
	free(after);
	return rc;
}
