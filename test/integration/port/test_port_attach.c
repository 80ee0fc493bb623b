/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attach race: the master (ID 0) and three peers call ivsh_port_open() at
 * the same moment, so the others find the layout while the master is
 * still initialising it. Every open must succeed (the others wait for
 * the layout to become ready) and every link must come up. Repeated on
 * fresh servers to hit the window.
 *
 * Usage: test_port_attach IVSH_SERVER [rounds]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "node.h"

#define NPEERS 4

static const char *sock;
static int up_pipe[2], go_pipe[2];

static int peer_main(void *arg)
{
	struct ivsh_port_conf pc = { .max_peers = NPEERS, .ring_size = 64,
				     .slot_size = 2048, .timeout_ms = 10000 };
	struct ivsh_port *p;
	struct node n;
	char c;

	(void)arg;
	node_open(&n, sock);
	uint8_t id8 = (uint8_t)n.id;

	if (write(up_pipe[1], &id8, 1) != 1 || read(go_pipe[0], &c, 1) != 1)
		return 2;
	/* everyone opens a port to the next ID at once */
	pc.peer = (uint16_t)((n.id + 1) % NPEERS);
	int rc = ivsh_port_open(&p, n.dev, &pc);

	if (rc) {
		printf("peer %u: ivsh_port_open: %s (%d)\n", n.id,
		       ivsh_port_last_error(), rc);
		return 1;
	}
	ivsh_port_close(p);
	ivsh_dev_close(n.dev);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 10, failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IVSH_SERVER [rounds]\n", argv[0]);
		return 1;
	}
	it_init("attach", 55, argv[1]);
	for (int r = 0; r < rounds; r++) {
		char what[16];
		pid_t pid[NPEERS];
		uint8_t id;

		snprintf(what, sizeof(what), "sock%d", r);
		sock = it_path(what);
		pid_t srv = it_start_server(argv[1], sock, "4M", 1);

		if (pipe(up_pipe) || pipe(go_pipe))
			IT_FAIL("pipe");
		for (int i = 0; i < NPEERS; i++) {
			pid[i] = it_fork(peer_main, NULL);
			if (read(up_pipe[0], &id, 1) != 1)
				IT_FAIL("peer %d did not connect", i);
		}
		if (write(go_pipe[1], "gggg", NPEERS) != NPEERS)
			IT_FAIL("go");
		for (int i = 0; i < NPEERS; i++) {
			int st = it_wait(pid[i], 15000);

			if (!it_ok(st)) {
				printf("round %d peer %d: %s\n", r, i, it_status_str(st));
				failures++;
			}
		}
		close(up_pipe[0]);
		close(up_pipe[1]);
		close(go_pipe[0]);
		close(go_pipe[1]);
		it_kill(srv, SIGTERM);
		unlink(sock);
	}
	IT_CHECK(failures == 0, "%d port opens failed while the master was "
		 "initialising the layout", failures);
	printf("PASS: attach race, %d rounds\n", rounds);
	return 0;
}
