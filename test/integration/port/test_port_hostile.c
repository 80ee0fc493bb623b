/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile peer: a victim process (see victim.c) exchanges frames with a
 * partner while a third peer writes random bytes, either over the whole
 * shared region ("whole") or only over the channel indices and
 * descriptors and then the header and peer table ("meta"). The victim
 * must exit normally (no crash, no call blocking, no sanitizer report)
 * and its counters must show the rejected input.
 *
 * Usage: test_port_hostile IVSH_SERVER VICTIM whole|meta
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "node.h"
#include "tframe.h"

#define VICTIM_MS 3000
#define HOSTILE_MS 2000

static const char *sock;
static bool whole;

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: fast, good enough for garbage */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ull;
}

static int partner(void *arg)
{
	static uint8_t b[8][IVSH_PORT_MAX_FRAME];
	struct ivsh_port_conf pc = { .intr = true };
	struct ivsh_pkt pk[8];
	struct node n;
	uint32_t seq = 0, session = tf_session();

	(void)arg;
	node_open(&n, sock);
	node_port(&n, 0, &pc);
	for (;;) {
		node_links(&n);
		for (int i = 0; i < 8; i++) {
			uint32_t len = tf_len(seq + (uint32_t)i, 9000);

			tf_build(b[i], len, n.id, 0, session, seq + (uint32_t)i);
			pk[i] = (struct ivsh_pkt){ b[i], len };
		}
		seq += ivsh_port_tx_burst(n.port[0], 0, pk, 8);
		for (int i = 0; i < 8; i++)
			pk[i] = (struct ivsh_pkt){ b[i], IVSH_PORT_MAX_FRAME };
		ivsh_port_rx_burst(n.port[0], 0, pk, 8);
		usleep(100);
	}
	return 0;
}

static void put_rand(uint8_t *base, uint64_t size, uint64_t off, size_t len)
{
	if (off + len > size)
		return;
	uint64_t v = rnd();

	/* half the time a near-valid value: small deltas trip subtler checks */
	if (rnd() & 1)
		v = rnd() % 4 == 0 ? v & 0xffff : (v & 0x7) | (uint64_t)0x800 << (rnd() % 8);
	memcpy(base + off, &v, len);
}

static int hostile(void *arg)
{
	struct node n;

	(void)arg;
	rnd_state = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
	node_open(&n, sock);
	uint8_t *base = ivsh_dev_shm(n.dev);
	uint64_t size = ivsh_dev_shm_size(n.dev);
	uint16_t max_peers, qpl;
	uint32_t ring;
	uint64_t peers_off, chan_off, chan_size;

	/* read the layout once, before destroying it (doc/layout-v1.md) */
	memcpy(&max_peers, base + 24, 2);
	memcpy(&qpl, base + 26, 2);
	memcpy(&ring, base + 28, 4);
	memcpy(&peers_off, base + 48, 8);
	memcpy(&chan_off, base + 56, 8);
	memcpy(&chan_size, base + 64, 8);
	uint64_t nchan = (uint64_t)max_peers * (max_peers - 1u) * qpl;

	printf("hostile: region %" PRIu64 " peers %u queues %u ring %u channels %"
	       PRIu64 " x %" PRIu64 " at %" PRIu64 "\n", size, max_peers, qpl,
	       ring, nchan, chan_size, chan_off);
	uint64_t start = it_now_ms(), end = start + HOSTILE_MS, passes = 0;

	while (it_now_ms() < end) {
		passes++;
		if (whole) {
			for (uint64_t off = 0; off + 8 <= size; off += 8) {
				uint64_t v = rnd();

				memcpy(base + off, &v, 8);
			}
			continue;
		}
		bool late = it_now_ms() > start + HOSTILE_MS * 3 / 4;

		for (uint64_t c = 0; c < nchan && chan_size; c++) {
			uint64_t ch = chan_off + c * chan_size;

			put_rand(base, size, ch + 0, 4);      /* prod */
			put_rand(base, size, ch + 8, 8);      /* gen */
			put_rand(base, size, ch + 128, 4);    /* cons */
			put_rand(base, size, ch + 256, 4);    /* kick */
			for (int k = 0; k < 8 && ring; k++)   /* descriptors */
				put_rand(base, size, ch + 384 + 8 * (rnd() % ring), 8);
		}
		if (late) {
			for (int k = 0; k < 16; k++)
				put_rand(base, size, rnd() % 256, 4);
			for (int k = 0; k < 16; k++)
				put_rand(base, size,
					 peers_off + rnd() % (64u * max_peers), 4);
		}
		usleep(50);
	}
	printf("hostile: %" PRIu64 " passes in %u ms\n", passes, HOSTILE_MS);
	node_close(&n);
	return 0;
}

int main(int argc, char **argv)
{
	char line[512];
	int out;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IVSH_SERVER VICTIM whole|meta\n", argv[0]);
		return 1;
	}
	whole = strcmp(argv[3], "whole") == 0;
	it_init(whole ? "hostile-whole" : "hostile-meta", 55, argv[1]);
	if (access(argv[2], X_OK) != 0) {
		printf("SKIP: victim %s not built\n", argv[2]);
		return IT_SKIP;
	}
	sock = it_path("sock");
	it_start_server(argv[1], sock, "8M", 1);

	char dur[16];

	snprintf(dur, sizeof(dur), "%d", VICTIM_MS);
	char *const vargv[] = { argv[2], (char *)sock, "1", dur, NULL };
	pid_t v = it_spawn(vargv, &out, NULL);

	if (it_wait_line(out, "victim: attached", line, sizeof(line), 10000))
		IT_FAIL("victim did not attach");
	pid_t p = it_fork(partner, NULL);

	if (it_wait_line(out, "victim: link up", line, sizeof(line), 15000))
		IT_FAIL("victim link did not come up");
	pid_t h = it_fork(hostile, NULL);
	char *rest = it_read_all(out, 20000);
	int st = it_wait(v, 10000);

	fputs(rest, stdout);
	it_wait(h, 5000);
	it_kill(p, SIGKILL);
	IT_CHECK(it_ok(st), "victim did not survive: %s", it_status_str(st));
	char *e = strstr(rest, "victim: errors ");

	IT_CHECK(e, "victim printed no error count");
	uint64_t errors = strtoull(e + strlen("victim: errors "), NULL, 10);

	IT_CHECK(errors > 0, "victim survived but counted no errors (xstats)");
	printf("PASS: hostile %s: victim survived, %" PRIu64 " errors counted\n",
	       argv[3], errors);
	free(rest);
	return 0;
}
