/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-vmcheck: backend-level check run inside a guest (or on the host
 * with server:/shm:) by the VM harness.
 *
 * Opens a device, checks its ID, then plays ping-pong with one peer:
 * each side publishes a round counter in shared memory and rings the
 * peer's doorbell; the peer waits for the counter by interrupt
 * (--wait irq: ivsh_dev_irq_wait on vector 0) or by polling shared memory
 * (--wait poll). Before the first round both sides publish a hello
 * in shared memory and wait for the other's, so the peer's interrupts are
 * armed before anyone rings. Prints one JSON line with what it saw and
 * exits 0 only when every round completed (and, with --wait irq, every
 * round was woken by an interrupt).
 *
 * Shared memory used: 64-byte slots at 0 (hello[id]) and 4096
 * (counter[id]) for IDs 0..15; the harness gives it a fresh region.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ivsh_dev.h"

#define PROG "ivsh-vmcheck"
#define HELLO_OFF 0
#define COUNT_OFF 4096
#define SLOT 64
#define MAX_ID 15
#define HELLO_MAGIC 0x49565348u /* "IVSH" */

struct opts {
	const char *dev;
	long expect_id;
	long expect_ivpos;
	long peer;
	bool ping;
	bool wait_irq;
	long count;
	long round_ms;
	long hello_ms;
	long hold_ms;   /* --open-only: keep the device open this long */
	bool open_only;
	bool self_ring; /* --open-only: ring own doorbell on every vector */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --device DEV --peer ID [options]\n"
		"  --device DEV        device string (vfio:BDF, uio:BDF, server:SOCK, ...)\n"
		"  --peer ID           the other side's ID (0..%d)\n"
		"  --role ping|pong    ping rings first (default pong)\n"
		"  --wait irq|poll     wait by interrupt or by polling memory (default irq)\n"
		"  --count N           rounds (default 20)\n"
		"  --expect-id N       fail unless the device's ID is N\n"
		"  --expect-ivpos N    fail unless the IVPosition register reads N\n"
		"  --round-ms MS       per-round timeout (default 5000)\n"
		"  --hello-ms MS       wait for the peer to start (default 60000)\n"
		"  --open-only         open, check, print the report and exit\n"
		"  --hold-ms MS        with --open-only: stay open MS first\n"
		"  --self-ring         with --open-only: ring own ID on each vector and\n"
		"                      wait for that vector's interrupt\n"
		"  --help\n", MAX_ID);
}

static long num(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, PROG ": %s '%s': expected %ld..%ld\n", what, s,
			min, max);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "peer", required_argument, NULL, 'p' },
		{ "role", required_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "expect-id", required_argument, NULL, 'i' },
		{ "expect-ivpos", required_argument, NULL, 'v' },
		{ "round-ms", required_argument, NULL, 't' },
		{ "hello-ms", required_argument, NULL, 'T' },
		{ "open-only", no_argument, NULL, 'o' },
		{ "self-ring", no_argument, NULL, 's' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .expect_id = -1, .expect_ivpos = -2, .peer = -1,
			    .wait_irq = true, .count = 20, .round_ms = 5000,
			    .hello_ms = 60000 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dev = optarg; break;
		case 'p': o->peer = num(optarg, "--peer", 0, MAX_ID); break;
		case 'r':
			if (strcmp(optarg, "ping") != 0 &&
			    strcmp(optarg, "pong") != 0) {
				fprintf(stderr, PROG ": --role '%s': expected ping or pong\n",
					optarg);
				exit(2);
			}
			o->ping = optarg[1] == 'i';
			break;
		case 'w':
			if (strcmp(optarg, "irq") != 0 &&
			    strcmp(optarg, "poll") != 0) {
				fprintf(stderr, PROG ": --wait '%s': expected irq or poll\n",
					optarg);
				exit(2);
			}
			o->wait_irq = optarg[0] == 'i';
			break;
		case 'c': o->count = num(optarg, "--count", 1, 1000000); break;
		case 'i': o->expect_id = num(optarg, "--expect-id", 0, 65535); break;
		case 'v': o->expect_ivpos = num(optarg, "--expect-ivpos", -1, 65535); break;
		case 't': o->round_ms = num(optarg, "--round-ms", 1, 3600000); break;
		case 'T': o->hello_ms = num(optarg, "--hello-ms", 1, 3600000); break;
		case 'o': o->open_only = true; break;
		case 's': o->self_ring = true; break;
		case 'H': o->hold_ms = num(optarg, "--hold-ms", 0, 3600000); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (o->open_only && o->peer < 0)
		o->peer = MAX_ID;
	if (optind != argc || o->dev == NULL || o->peer < 0) {
		fprintf(stderr, PROG ": --device and --peer are required (see --help)\n");
		exit(2);
	}
}

static _Atomic uint32_t *slot(void *shm, size_t base, long id)
{
	return (_Atomic uint32_t *)((char *)shm + base + (size_t)id * SLOT);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
	return now_us() / 1000;
}

/*
 * Wait until the peer's counter reaches @want. With interrupts, block for
 * the interrupt first: each round then needs its doorbell, so one
 * interrupt is outstanding at a time and each is counted (a round that
 * needed the 200 ms timeout counts as a lost interrupt). Acquire pairs
 * with the peer's release store in post().
 */
static int wait_for(struct ivsh_dev *dev, _Atomic uint32_t *cnt,
		    uint32_t want, const struct opts *o, long *irqs,
		    long *timeouts)
{
	int64_t deadline = now_ms() + o->round_ms;

	for (;;) {
		if (o->wait_irq) {
			int rc = ivsh_dev_irq_wait(dev, 0, 200);

			if (rc < 0 && rc != -EINTR)
				return rc;
			if (rc == 1)
				(*irqs)++;
			else if (rc == 0)
				(*timeouts)++;
		}
		if (atomic_load_explicit(cnt, memory_order_acquire) >= want)
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		(void)ivsh_dev_process_events(dev);
	}
}

static void post(struct ivsh_dev *dev, _Atomic uint32_t *cnt, uint32_t v,
		 long peer, long *rings)
{
	/* Host backends learn peers from server notices (-ENOTSUP on guests). */
	(void)ivsh_dev_process_events(dev);
	/* Release pairs with the peer's acquire load in wait_for(). */
	atomic_store_explicit(cnt, v, memory_order_release);
	if (ivsh_dev_doorbell(dev, (uint16_t)peer, 0) == 0)
		(*rings)++;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ivsh_dev *dev;
	long irqs = 0, timeouts = 0, rings = 0, done = 0;
	int32_t ivpos;
	int64_t t0 = 0, hello_deadline, round_us = 0;
	const char *err = "";
	uint16_t id;
	int rc;

	parse(argc, argv, &o);
	rc = ivsh_dev_open(&dev, o.dev, NULL);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", ivsh_dev_last_error());
		return 1;
	}
	id = ivsh_dev_id(dev);
	ivpos = (int32_t)ivsh_dev_reg_read(dev, IVSH_REG_IVPOSITION);
	if (o.expect_id >= 0 && id != o.expect_id) {
		fprintf(stderr, PROG ": ID is %u, expected %ld\n", id,
			o.expect_id);
		err = "wrong id";
	}
	if (o.expect_ivpos >= -1 && ivpos != o.expect_ivpos) {
		fprintf(stderr, PROG ": IVPosition is %d, expected %ld\n",
			ivpos, o.expect_ivpos);
		err = "wrong ivposition";
	}
	if (o.open_only) {
		if (o.hold_ms > 0)
			usleep((useconds_t)o.hold_ms * 1000);
		/* The device routes a doorbell to its own ID back to itself:
		 * checks each vector reaches its own eventfd. */
		for (unsigned int v = 0; o.self_ring && *err == '\0' &&
		     v < ivsh_dev_vectors(dev); v++) {
			(void)ivsh_dev_irq_wait(dev, v, 0);
			if (ivsh_dev_doorbell(dev, id, (uint16_t)v) < 0 ||
			    ivsh_dev_irq_wait(dev, v, 2000) != 1) {
				fprintf(stderr, PROG ": no interrupt on vector %u\n",
					v);
				err = "self doorbell lost";
			} else {
				irqs++;
				rings++;
			}
		}
		goto report;
	}
	if (id > MAX_ID || o.peer == id || ivsh_dev_shm_size(dev) <
	    COUNT_OFF + SLOT * (MAX_ID + 1)) {
		fprintf(stderr, PROG ": ID %u / peer %ld / shm size %" PRIu64 " unusable\n",
			id, o.peer, ivsh_dev_shm_size(dev));
		ivsh_dev_close(dev);
		return 1;
	}
	if (o.wait_irq && ivsh_dev_irq_fd(dev, 0) < 0 &&
	    ivsh_dev_irq_mode(dev) != IVSH_IRQ_INTX_POLL) {
		fprintf(stderr, PROG ": --wait irq but the device has no interrupts (mode %s)\n",
			ivsh_dev_irq_mode_name(ivsh_dev_irq_mode(dev)));
		ivsh_dev_close(dev);
		return 1;
	}
	/* Drop interrupts that arrived before we listened. */
	if (o.wait_irq)
		(void)ivsh_dev_irq_wait(dev, 0, 0);

	atomic_store_explicit(slot(ivsh_dev_shm(dev), COUNT_OFF, id), 0,
			      memory_order_relaxed);
	/* Release pairs with the peer's acquire load of our hello. */
	atomic_store_explicit(slot(ivsh_dev_shm(dev), HELLO_OFF, id),
			      HELLO_MAGIC + id, memory_order_release);
	hello_deadline = now_ms() + o.hello_ms;
	while (atomic_load_explicit(slot(ivsh_dev_shm(dev), HELLO_OFF, o.peer),
				    memory_order_acquire) !=
	       HELLO_MAGIC + (uint32_t)o.peer) {
		if (now_ms() > hello_deadline) {
			err = "peer never said hello";
			goto report;
		}
		(void)ivsh_dev_process_events(dev);
		usleep(1000);
	}
	t0 = now_us();
	for (long i = 1; i <= o.count; i++) {
		_Atomic uint32_t *mine = slot(ivsh_dev_shm(dev), COUNT_OFF, id);
		_Atomic uint32_t *theirs = slot(ivsh_dev_shm(dev), COUNT_OFF,
						o.peer);

		if (o.ping)
			post(dev, mine, (uint32_t)i, o.peer, &rings);
		if (wait_for(dev, theirs, (uint32_t)i, &o, &irqs,
			     &timeouts) < 0) {
			err = "round timed out";
			break;
		}
		if (!o.ping)
			post(dev, mine, (uint32_t)i, o.peer, &rings);
		done = i;
	}
	if (done > 0)
		round_us = (now_us() - t0) / done;
	fprintf(stderr, PROG ": %ld rounds, %" PRId64 " us per round trip\n",
		done, round_us);
	/* A round can end on the counter before its interrupt arrived:
	 * collect the late ones. */
	while (o.wait_irq && *err == '\0' &&
	       ivsh_dev_irq_wait(dev, 0, 100) == 1)
		irqs++;
	if (*err == '\0' && o.wait_irq && irqs < o.count)
		err = "rounds completed without an interrupt";
report:
	printf("{\"backend\":\"%s\",\"id\":%u,\"ivposition\":%d,\"shm_size\":%" PRIu64
	       ",\"irq_mode\":\"%s\",\"vectors\":%u,\"rounds\":%ld,\"rings\":%ld,"
	       "\"irqs\":%ld,\"irq_timeouts\":%ld,\"round_us\":%" PRId64 ","
	       "\"ok\":%s,\"error\":\"%s\"}\n",
	       ivsh_dev_backend(dev), id, ivpos, ivsh_dev_shm_size(dev),
	       ivsh_dev_irq_mode_name(ivsh_dev_irq_mode(dev)),
	       ivsh_dev_vectors(dev), done, rings, irqs, timeouts, round_us,
	       *err == '\0' ? "true" : "false", err);
	fflush(stdout);
	ivsh_dev_close(dev);
	if (*err != '\0') {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	return 0;
}
