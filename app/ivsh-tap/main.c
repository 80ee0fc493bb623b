/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-tap: bridge one ivshmem port to a TAP interface, so that the
 * kernel's network stack (ping, ssh, iperf3, ...) runs over an ivshmem
 * link. See doc/ivsh-tap.md.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "ivsh_dev.h"
#include "ivsh_port.h"
#include "tap.h"

#define PROG "ivsh-tap"
#define ETH_OVERHEAD 18 /* Ethernet header and one VLAN tag */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct options {
	const char *device;
	long peer;
	const char *tap;
	bool intr;
	bool offload;
	long mtu;
	long cpu;
};

enum { OPT_DEVICE = 256, OPT_PEER, OPT_TAP, OPT_MODE, OPT_NO_OFFLOAD,
       OPT_MTU, OPT_CPU };

static const struct option longopts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("Usage: " PROG " --device DEV --peer ID [options]\n"
	       "Bridge an ivshmem port to a TAP interface for the kernel's network stack.\n\n"
	       "  --device DEV      device string, e.g. server:/run/ivshmem.sock, vfio:0000:00:04.0\n"
	       "  --peer ID         the other end of the link (runs ivsh-tap too, unless\n"
	       "                    --no-offload)\n"
	       "  --tap NAME        interface name (default: the kernel picks tapN)\n"
	       "  --mode poll|intr  busy-poll, or sleep when idle (default poll)\n"
	       "  --no-offload      plain Ethernet frames on the link, no checksum or\n"
	       "                    segmentation offload (a DPDK application or switch\n"
	       "                    at the other end)\n"
	       "  --mtu N           interface MTU (default 1500)\n"
	       "  --cpu N           pin to CPU N\n"
	       "  -h, --help        this text\n");
}

static int parse_long(const char *opt, const char *s, long min, long max,
		      long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, PROG ": invalid --%s '%s' (expected %ld..%ld)\n",
			opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* @return 0 to run, 1 to exit 0 (--help), -1 on a bad option. */
static int parse_options(struct options *o, int argc, char **argv)
{
	int opt;

	memset(o, 0, sizeof(*o));
	o->peer = -1;
	o->offload = true;
	o->cpu = -1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_PEER:
			if (parse_long("peer", optarg, 0, 65535, &o->peer))
				return -1;
			break;
		case OPT_TAP:
			if (strlen(optarg) >= IFNAMSIZ || !optarg[0] ||
			    strpbrk(optarg, "/ \t")) {
				fprintf(stderr, PROG ": invalid --tap '%s' (an"
					" interface name of 1..%d characters)\n",
					optarg, IFNAMSIZ - 1);
				return -1;
			}
			o->tap = optarg;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "intr")) {
				o->intr = true;
			} else if (strcmp(optarg, "poll")) {
				fprintf(stderr, PROG ": invalid --mode '%s'"
					" (expected poll or intr)\n", optarg);
				return -1;
			}
			break;
		case OPT_NO_OFFLOAD:
			o->offload = false;
			break;
		case OPT_MTU:
			/* Checked against the port's largest frame later. */
			if (parse_long("mtu", optarg, 68, 65535, &o->mtu))
				return -1;
			break;
		case OPT_CPU:
			if (parse_long("cpu", optarg, 0, CPU_SETSIZE - 1, &o->cpu))
				return -1;
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
	if (!o->device || o->peer < 0) {
		fprintf(stderr, PROG ": --device and --peer are required (see --help)\n");
		return -1;
	}
	return 0;
}

static int open_port(struct bridge *b, const struct options *o)
{
	struct ivsh_port_conf pc = { 0 };
	int ret;

	ret = ivsh_dev_open(&b->dev, o->device, NULL);
	if (ret < 0) {
		fprintf(stderr, PROG ": %s\n", ivsh_dev_last_error());
		return ret;
	}
	pc.peer = (uint16_t)o->peer;
	pc.nb_queues = 1;
	pc.intr = o->intr;
	ret = ivsh_port_open(&b->port, b->dev, &pc);
	if (ret < 0) {
		fprintf(stderr, PROG ": %s\n", ivsh_port_last_error());
		return ret;
	}
	if (o->intr && ivsh_port_rx_intr_fd(b->port, 0) < 0) {
		fprintf(stderr, PROG ": --mode intr needs a device with"
			" interrupts (device '%s' has none)\n", o->device);
		return -ENOTSUP;
	}
	b->max_frame = ivsh_port_max_frame(b->port);
	return 0;
}

int main(int argc, char **argv)
{
	static char ifname[IFNAMSIZ];
	struct tap_conf tc = { 0 };
	struct bridge b = { 0 };
	struct sigaction sa = { 0 };
	struct options o;
	uint32_t hdr, max_mtu;
	int ret;

	ret = parse_options(&o, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, PROG ": cannot pin to CPU %ld: %s\n",
				o.cpu, strerror(errno));
			return 1;
		}
	}
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_port(&b, &o) < 0)
		goto fail;
	hdr = o.offload ? TAP_VNET_HDR_LEN : 0;
	max_mtu = b.max_frame - hdr - ETH_OVERHEAD;
	if (o.mtu && (uint32_t)o.mtu > max_mtu) {
		fprintf(stderr, PROG ": --mtu %ld exceeds what the port carries"
			" (%u)\n", o.mtu, max_mtu);
		goto fail;
	}
	tc.name = o.tap;
	tc.offload = o.offload;
	tc.mtu = (uint32_t)o.mtu;
	/* A TSO packet plus its Ethernet header fits one port frame. */
	tc.gso_max = b.max_frame - hdr - ETH_OVERHEAD;
	tc.set_mac = true;
	ivsh_port_mac(b.port, tc.mac);
	b.tap_fd = tap_open(&tc, ifname);
	if (b.tap_fd < 0)
		goto fail;
	b.ifname = ifname;
	b.offload = o.offload;
	b.intr = o.intr;
	fprintf(stderr, PROG ": %s: device %s id %u peer %ld mode %s offload %s"
		" largest frame %u\n", ifname, ivsh_dev_backend(b.dev),
		ivsh_dev_id(b.dev), o.peer, o.intr ? "intr" : "poll",
		o.offload ? "on" : "off", b.max_frame);

	ret = bridge_run(&b, &stop_flag);
	bridge_print_stats(&b);
	close(b.tap_fd);
	ivsh_port_close(b.port);
	ivsh_dev_close(b.dev);
	return ret < 0 ? 1 : 0;
fail:
	ivsh_port_close(b.port);
	ivsh_dev_close(b.dev);
	return 1;
}
