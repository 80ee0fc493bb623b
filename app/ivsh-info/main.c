/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-info: inspect an ivshmem device, ring a doorbell, wait for an
 * interrupt, or follow a server's connect/disconnect notices.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"

#define MAX_RINGS 16
/* Long-option codes of report sections: SECTION_OPT + index. */
#define SECTION_OPT 1000
#define MAX_SECTIONS 16

struct ring_req {
	uint16_t peer, vector;
};

struct info_args {
	const char *device;
	bool json;
	bool read_status;
	bool listen;
	long wait_vector;      /* -1: no --wait */
	int timeout_ms;        /* -1: forever */
	struct ring_req rings[MAX_RINGS];
	int n_rings;
	bool section_on[MAX_SECTIONS];
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ivsh-info [options] DEVICE\n"
"Show an ivshmem device: backend, ID, shared memory, vectors, interrupt mode,\n"
"registers and connected peers; or act on it.\n"
"\n"
"DEVICE is BACKEND:ARGUMENT[,key=value...], e.g. server:/run/ivshmem.sock,\n"
"shm:/dev/shm/NAME,id=1, vfio:0000:00:04.0 (see ivsh-info(1)).\n"
"\n"
"Options:\n"
"  -j, --json               machine-readable output\n"
"  -s, --read-status        also read IntrStatus (the read clears it)\n"
"  -r, --ring PEER[:VECTOR] ring PEER's doorbell on VECTOR (default 0);\n"
"                           may be repeated\n"
"  -w, --wait VECTOR        wait for an interrupt on VECTOR and print it\n"
"  -l, --listen             print peer connect/disconnect notices until\n"
"                           SIGINT or --timeout\n"
"  -t, --timeout MS         limit for --wait and --listen (default: none)\n"
"  -h, --help               show this help\n"
"  -V, --version            show the version\n");
	for (int i = 0; info_sections[i] != NULL; i++)
		fprintf(f, "      --%-19s %s\n", info_sections[i]->option,
			info_sections[i]->help);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_ring(const char *arg, struct ring_req *r)
{
	char buf[32];
	char *colon;
	unsigned long peer, vector = 0;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (parse_ulong(colon + 1, 65535, &vector) < 0)
			return -1;
	}
	if (parse_ulong(buf, 65535, &peer) < 0)
		return -1;
	r->peer = (uint16_t)peer;
	r->vector = (uint16_t)vector;
	return 0;
}

/* @return 0 to run, 1 to exit 0 (help/version), -1 on a usage error. */
static int parse_args(int argc, char **argv, struct info_args *a)
{
	static const struct option fixed[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "read-status", no_argument, NULL, 's' },
		{ "ring", required_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "listen", no_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
	};
	struct option longopts[sizeof(fixed) / sizeof(fixed[0]) +
			       MAX_SECTIONS + 1];
	size_t n = sizeof(fixed) / sizeof(fixed[0]);
	unsigned long v;
	int c;

	memcpy(longopts, fixed, sizeof(fixed));
	for (int i = 0; info_sections[i] != NULL && i < MAX_SECTIONS; i++)
		longopts[n++] = (struct option){ info_sections[i]->option,
						 no_argument, NULL,
						 SECTION_OPT + i };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	memset(a, 0, sizeof(*a));
	a->wait_vector = -1;
	a->timeout_ms = -1;
	opterr = 0; /* errors are reported as "ivsh-info: ..." */
	while ((c = getopt_long(argc, argv, "jsr:w:lt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 's':
			a->read_status = true;
			break;
		case 'r':
			if (a->n_rings == MAX_RINGS) {
				info_error("at most %d --ring options", MAX_RINGS);
				return -1;
			}
			if (parse_ring(optarg, &a->rings[a->n_rings]) < 0) {
				info_error("--ring %s: expected PEER[:VECTOR], each 0..65535",
					   optarg);
				return -1;
			}
			a->n_rings++;
			break;
		case 'w':
			if (parse_ulong(optarg, 65535, &v) < 0) {
				info_error("--wait %s: expected a vector number 0..65535",
					   optarg);
				return -1;
			}
			a->wait_vector = (long)v;
			break;
		case 'l':
			a->listen = true;
			break;
		case 't':
			if (parse_ulong(optarg, INT_MAX, &v) < 0) {
				info_error("--timeout %s: expected milliseconds, 0..%d",
					   optarg, INT_MAX);
				return -1;
			}
			a->timeout_ms = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("ivsh-info (ivshmem-pmd)\n");
			return 1;
		default:
			if (c >= SECTION_OPT && c < SECTION_OPT + MAX_SECTIONS) {
				a->section_on[c - SECTION_OPT] = true;
				break;
			}
			if (optopt != 0 && optopt < SECTION_OPT)
				info_error("option -%c: unknown or missing its argument (try --help)",
					   optopt);
			else
				info_error("option %s: unknown or missing its argument (try --help)",
					   argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		info_error(optind >= argc ? "missing DEVICE (try --help)"
					  : "one DEVICE expected (try --help)");
		return -1;
	}
	a->device = argv[optind];
	if (a->wait_vector >= 0 && a->listen) {
		info_error("--wait and --listen cannot be combined");
		return -1;
	}
	return 0;
}

static int run_actions(struct ivsh_dev *dev, const struct info_args *a)
{
	for (int i = 0; i < a->n_rings; i++) {
		if (info_ring(dev, a->rings[i].peer, a->rings[i].vector,
			      a->json) < 0)
			return -1;
	}
	if (a->wait_vector >= 0 &&
	    info_wait(dev, (unsigned int)a->wait_vector, a->timeout_ms,
		      a->json) < 0)
		return -1;
	if (a->listen && info_listen(dev, a->timeout_ms, a->json) < 0)
		return -1;
	return 0;
}

static int run_report(struct ivsh_dev *dev, const struct info_args *a)
{
	struct info_out o;
	int rc = 0;

	info_out_init(&o, stdout, a->json);
	info_out_begin(&o);
	info_report(dev, a->device, a->read_status, &o);
	for (int i = 0; info_sections[i] != NULL && i < MAX_SECTIONS; i++) {
		if (a->section_on[i] && info_sections[i]->print(dev, &o) < 0) {
			rc = -1;
			break;
		}
	}
	info_out_end(&o);
	return rc;
}

int main(int argc, char **argv)
{
	struct info_args a;
	struct ivsh_dev *dev;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc > 0 ? 0 : 1;
	rc = ivsh_dev_open(&dev, a.device, NULL);
	if (rc < 0) {
		info_error("%s", ivsh_dev_last_error());
		return 1;
	}
	if (a.n_rings > 0 || a.wait_vector >= 0 || a.listen)
		rc = run_actions(dev, &a);
	else
		rc = run_report(dev, &a);
	ivsh_dev_close(dev);
	return rc < 0 ? 1 : 0;
}
