/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pkt.h"
#include "testpmd.h"

#define PROG "ivsh-testpmd"

enum {
	OPT_DEVICE = 256, OPT_PEER, OPT_ENGINE, OPT_PKT_LEN, OPT_BURST,
	OPT_QUEUES, OPT_MODE, OPT_DURATION, OPT_COUNT, OPT_STATS_PERIOD,
	OPT_JSON, OPT_NO_VERIFY, OPT_ZERO_COPY, OPT_RING_SIZE, OPT_SLOT_SIZE, OPT_MAX_PEERS,
	OPT_CPU, OPT_WAIT_LINK, OPT_FLOWS, OPT_LAT_TIMEOUT, OPT_ETH_DST,
	OPT_REATTACH,
};

static const struct option longopts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "pkt-len", required_argument, NULL, OPT_PKT_LEN },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "zero-copy", no_argument, NULL, OPT_ZERO_COPY },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "slot-size", required_argument, NULL, OPT_SLOT_SIZE },
	{ "max-peers", required_argument, NULL, OPT_MAX_PEERS },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "wait-link", required_argument, NULL, OPT_WAIT_LINK },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "latency-timeout", required_argument, NULL, OPT_LAT_TIMEOUT },
	{ "eth-dst", required_argument, NULL, OPT_ETH_DST },
	{ "reattach", no_argument, NULL, OPT_REATTACH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("Usage: " PROG " --device DEV [--peer ID|auto] [options]\n"
	       "Send, receive or forward test traffic over an ivshmem port.\n\n"
	       "  --device DEV         device string, e.g. server:/run/ivshmem.sock,\n"
	       "                       shm:/dev/shm/NAME,id=1,size=4M, vfio:0000:00:04.0\n"
	       "  --peer ID|auto       remote peer ID; auto (default): the only other\n"
	       "                       peer, waited for up to --wait-link S (default 30)\n"
	       "  --engine NAME        forwarding engine (default io):\n");
	engine_list();
	printf("  --pkt-len N          frame length, %u..%u (default 64)\n"
	       "  --burst N            frames per burst, 1..%u (default %u)\n"
	       "  --queues N           queues, 1..%u (default 1)\n"
	       "  --mode poll|intr     busy-poll, or sleep on Rx interrupts when idle\n"
	       "  --duration S         stop after S seconds of traffic\n"
	       "  --count N            stop after N frames (tx for txonly/flowgen, rx\n"
	       "                       for rxonly/io/mac/macswap, samples for latency)\n"
	       "  --stats-period S     print a live line every S seconds\n"
	       "  --json               print one JSON summary line at the end\n"
	       "  --no-verify          no payload checksums: txonly/flowgen do not compute\n"
	       "                       them, rxonly only counts (as dpdk-testpmd does)\n"
	       "  --zero-copy          txonly/flowgen build frames in the ring's slots,\n"
	       "                       rxonly reads them there (the port's zero-copy\n"
	       "                       calls); with --no-verify only headers are written\n"
	       "  --ring-size N        layout: descriptors per ring (master only)\n"
	       "  --slot-size N        layout: bytes per slot (master only)\n"
	       "  --max-peers N        layout: peer IDs (master only)\n"
	       "  --cpu N              pin to CPU N\n"
	       "  --wait-link S        wait up to S seconds for link up before traffic\n"
	       "  --flows N            flowgen: number of flows (default 1024)\n"
	       "  --latency-timeout MS latency: a ping is lost after MS (default 1000)\n"
	       "  --eth-dst MAC        destination MAC of generated and mac-forwarded\n"
	       "                       frames (default: the peer's MAC)\n"
	       "  --reattach           survive a hot-unplug: wait for an ivshmem device\n"
	       "                       to be plugged back (any PCI address, same driver)\n"
	       "                       and attach to it again as a restart\n"
	       "  -h, --help           this text\n",
	       PKT_MIN_LEN, 9000u, TP_MAX_BURST, TP_DEFAULT_BURST,
	       TP_MAX_QUEUES);
}

static int parse_u64(const char *opt, const char *s, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 0);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, PROG ": invalid --%s '%s' (expected %" PRIu64 "..%"
		PRIu64 ")\n", opt, s, min, max);
	return -1;
}

static int parse_secs(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
	    v > 1e7) {
		fprintf(stderr, PROG ": invalid --%s '%s' (expected seconds >= 0)\n",
			opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* xx:xx:xx:xx:xx:xx, hex digits, nothing else. */
static int parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6) {
		fprintf(stderr, PROG ": invalid --%s '%s' (expected"
			" xx:xx:xx:xx:xx:xx)\n", opt, s);
		return -1;
	}
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) ||
		    !isxdigit((unsigned char)s[3 * i + 1])) {
			fprintf(stderr, PROG ": invalid --%s '%s' (expected"
				" xx:xx:xx:xx:xx:xx)\n", opt, s);
			return -1;
		}
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static void defaults(struct tp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->peer = TP_PEER_AUTO;
	c->engine = &engine_io;
	c->pkt_len = 64;
	c->burst = TP_DEFAULT_BURST;
	c->queues = 1;
	c->verify = true;
	c->cpu = -1;
	c->flows = 1024;
	c->latency_timeout_ms = 1000;
}

int options_parse(struct tp_conf *c, int argc, char **argv)
{
	uint64_t v;
	int opt;

	defaults(c);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *name = "";

		for (const struct option *o = longopts; o->name; o++)
			if (o->val == opt)
				name = o->name;
		switch (opt) {
		case OPT_DEVICE:
			c->device = optarg;
			break;
		case OPT_PEER:
			if (strcmp(optarg, "auto") == 0) {
				c->peer = TP_PEER_AUTO;
			} else if (parse_u64(name, optarg, 0, TP_PEER_AUTO - 1, &v)) {
				return -1;
			} else {
				c->peer = (int)v;
			}
			break;
		case OPT_ENGINE:
			c->engine = engine_find(optarg);
			if (!c->engine) {
				fprintf(stderr, PROG ": unknown engine '%s' (see --help)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_PKT_LEN:
			if (parse_u64(name, optarg, PKT_MIN_LEN, 9000, &v))
				return -1;
			c->pkt_len = (uint32_t)v;
			break;
		case OPT_BURST:
			if (parse_u64(name, optarg, 1, TP_MAX_BURST, &v))
				return -1;
			c->burst = (uint16_t)v;
			break;
		case OPT_QUEUES:
			if (parse_u64(name, optarg, 1, TP_MAX_QUEUES, &v))
				return -1;
			c->queues = (uint16_t)v;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "poll") == 0) {
				c->intr = false;
			} else if (strcmp(optarg, "intr") == 0) {
				c->intr = true;
			} else {
				fprintf(stderr, PROG ": invalid --mode '%s' (expected poll or intr)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_DURATION:
			if (parse_secs(name, optarg, &c->duration_s))
				return -1;
			break;
		case OPT_COUNT:
			if (parse_u64(name, optarg, 1, UINT64_MAX / 2, &v))
				return -1;
			c->count = v;
			break;
		case OPT_STATS_PERIOD:
			if (parse_secs(name, optarg, &c->stats_period_s))
				return -1;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_NO_VERIFY:
			c->verify = false;
			break;
		case OPT_ZERO_COPY:
			c->zero_copy = true;
			break;
		case OPT_RING_SIZE:
			if (parse_u64(name, optarg, 2, 1u << 20, &v))
				return -1;
			c->ring_size = (uint32_t)v;
			break;
		case OPT_SLOT_SIZE:
			if (parse_u64(name, optarg, 64, 1u << 20, &v))
				return -1;
			c->slot_size = (uint32_t)v;
			break;
		case OPT_MAX_PEERS:
			if (parse_u64(name, optarg, 2, 65536, &v))
				return -1;
			c->max_peers = (uint16_t)(v > 65535 ? 65535 : v);
			break;
		case OPT_CPU:
			if (parse_u64(name, optarg, 0, 4095, &v))
				return -1;
			c->cpu = (int)v;
			break;
		case OPT_WAIT_LINK:
			if (parse_secs(name, optarg, &c->wait_link_s))
				return -1;
			break;
		case OPT_FLOWS:
			if (parse_u64(name, optarg, 1, 1u << 17, &v))
				return -1;
			c->flows = (uint32_t)v;
			break;
		case OPT_LAT_TIMEOUT:
			if (parse_u64(name, optarg, 1, 600000, &v))
				return -1;
			c->latency_timeout_ms = (int)v;
			break;
		case OPT_ETH_DST:
			if (parse_mac(name, optarg, c->eth_dst))
				return -1;
			c->has_eth_dst = true;
			break;
		case OPT_REATTACH:
			c->reattach = true;
			break;
		case 'h':
			usage();
			return 1;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs a value\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!c->device) {
		fprintf(stderr, PROG ": --device is required (see --help)\n");
		return -1;
	}
	if (c->zero_copy && c->engine != &engine_txonly &&
	    c->engine != &engine_flowgen && c->engine != &engine_rxonly) {
		fprintf(stderr, PROG ": --zero-copy works with the txonly, flowgen and rxonly engines, not %s\n",
			c->engine->name);
		return -1;
	}
	if (c->engine == &engine_latency && c->queues != 1) {
		fprintf(stderr, PROG ": the latency engine uses one queue (--queues 1)\n");
		return -1;
	}
	return 0;
}
