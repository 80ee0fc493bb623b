/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-ping: two processes ping-pong frames over an ivshmem port.
 *
 *   ivsh-ping --dev 'shm:/dev/shm/ping,id=0,size=4M' --peer 1 --count 100000
 *   ivsh-ping --dev 'shm:/dev/shm/ping,id=1' --peer 0 --pong
 *
 * The pinger (any ID) sends a frame carrying a sequence number, waits for
 * it to come back and reports round-trip times. The ponger echoes every
 * frame until the link goes down. Start peer 0 first: it lays out the
 * shared memory.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"

static const char *prog = "ivsh-ping";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int wait_link(struct ivsh_port *port, int seconds)
{
	uint64_t end = now_ns() + (uint64_t)seconds * 1000000000u;

	while (!ivsh_port_link_update(port)) {
		if (now_ns() > end)
			return -1;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return 0;
}

static int pong(struct ivsh_port *port)
{
	static uint8_t buf[IVSH_PORT_MAX_FRAME];
	uint64_t echoed = 0, last_check = 0;

	for (;;) {
		struct ivsh_pkt pkt = { buf, sizeof(buf) };

		if (ivsh_port_rx_burst(port, 0, &pkt, 1) == 1) {
			/* Echo; retry while the ring is full. */
			while (ivsh_port_tx_burst(port, 0, &pkt, 1) == 0)
				if (!ivsh_port_link_update(port))
					goto done;
			echoed++;
		}
		uint64_t t = now_ns();
		if (t - last_check > 1000000) { /* every millisecond */
			last_check = t;
			if (!ivsh_port_link_update(port))
				break;
		}
	}
done:
	printf("%s: link down, echoed %llu frames\n", prog,
	       (unsigned long long)echoed);
	return 0;
}

static int ping(struct ivsh_port *port, uint64_t count, uint32_t size)
{
	static uint8_t out[IVSH_PORT_MAX_FRAME], in[IVSH_PORT_MAX_FRAME];
	uint64_t min = UINT64_MAX, max = 0, sum = 0, last_check = 0;

	memset(out, 0xab, size);
	for (uint64_t seq = 0; seq < count; seq++) {
		struct ivsh_pkt pkt = { out, size };
		uint64_t t0 = now_ns(), t;

		memcpy(out, &seq, sizeof(seq));
		while (ivsh_port_tx_burst(port, 0, &pkt, 1) == 0)
			;
		for (;;) {
			struct ivsh_pkt r = { in, sizeof(in) };
			uint64_t got;

			t = now_ns();
			if (ivsh_port_rx_burst(port, 0, &r, 1) == 1) {
				memcpy(&got, in, sizeof(got));
				if (got == seq && r.len == size)
					break;
				fprintf(stderr, "%s: unexpected frame %llu\n",
					prog, (unsigned long long)got);
			}
			if (t - last_check > 1000000) {
				last_check = t;
				if (!ivsh_port_link_update(port)) {
					fprintf(stderr, "%s: link down after "
						"%llu frames\n", prog,
						(unsigned long long)seq);
					return 1;
				}
			}
		}
		uint64_t rtt = t - t0;
		sum += rtt;
		min = rtt < min ? rtt : min;
		max = rtt > max ? rtt : max;
	}
	printf("%s: %llu x %u bytes: rtt min %.2f us, avg %.2f us, max %.2f us\n",
	       prog, (unsigned long long)count, size, (double)min / 1e3,
	       (double)sum / (double)count / 1e3, (double)max / 1e3);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s --dev DEVICE --peer ID [--pong] [--count N] [--size BYTES]\n"
		"  --dev DEVICE  ivshmem device, e.g. shm:/dev/shm/ping,id=0,size=4M\n"
		"  --peer ID     the other peer's ID\n"
		"  --pong        echo frames back instead of pinging\n"
		"  --count N     pings to send (default 10000)\n"
		"  --size BYTES  frame size, 8..%d (default 64)\n",
		prog, IVSH_PORT_MAX_FRAME);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "peer", required_argument, NULL, 'p' },
		{ "pong", no_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *devname = NULL;
	long peer = -1, size = 64;
	long long count = 10000;
	int is_pong = 0, c;
	char *end;

	while ((c = getopt_long(argc, argv, "d:p:oc:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': devname = optarg; break;
		case 'p': peer = strtol(optarg, &end, 0);
			if (*end || peer < 0 || peer > 65535) {
				fprintf(stderr, "%s: bad peer ID '%s'\n", prog, optarg);
				return 1;
			}
			break;
		case 'o': is_pong = 1; break;
		case 'c': count = strtoll(optarg, &end, 0);
			if (*end || count <= 0) {
				fprintf(stderr, "%s: bad count '%s'\n", prog, optarg);
				return 1;
			}
			break;
		case 's': size = strtol(optarg, &end, 0);
			if (*end || size < 8 || size > IVSH_PORT_MAX_FRAME) {
				fprintf(stderr, "%s: bad size '%s'\n", prog, optarg);
				return 1;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (devname == NULL || peer < 0) {
		fprintf(stderr, "%s: --dev and --peer are required\n", prog);
		return 1;
	}

	struct ivsh_dev *dev;
	struct ivsh_port *port;
	struct ivsh_port_conf conf = { .peer = (uint16_t)peer };

	if (ivsh_dev_open(&dev, devname, NULL) < 0) {
		fprintf(stderr, "%s: %s\n", prog, ivsh_dev_last_error());
		return 1;
	}
	if (ivsh_port_open(&port, dev, &conf) < 0) {
		fprintf(stderr, "%s: %s\n", prog, ivsh_port_last_error());
		ivsh_dev_close(dev);
		return 1;
	}
	int rc = 1;
	if (wait_link(port, 10) < 0)
		fprintf(stderr, "%s: peer %ld did not come up within 10 s\n",
			prog, peer);
	else
		rc = is_pong ? pong(port) : ping(port, (uint64_t)count,
						 (uint32_t)size);
	ivsh_port_close(port);
	ivsh_dev_close(dev);
	return rc;
}
