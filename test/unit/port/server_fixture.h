/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two peers (ID 0 and 1) with interrupts, through an in-process ivshmem
 * server (lib/server) run by a helper thread, for the cmocka port tests.
 */
#ifndef SERVER_FIXTURE_H
#define SERVER_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"
#include "ivsh_server.h"

struct server_run {
	struct ivsh_server *srv;
	pthread_t thr;
	atomic_bool stop;
	char sock[108];
};

static void *server_run_main(void *arg)
{
	struct server_run *sr = arg;

	while (!atomic_load(&sr->stop))
		ivsh_server_process(sr->srv, 20);
	return NULL;
}

/*
 * Start a server with a 4 MiB memfd and @p vectors vectors on
 * /tmp/ivsh-utest-@p tag-PID.sock, served by a thread.
 * @return 0; -1 with the reason in @p err.
 */
static inline int server_run_start(struct server_run *sr, const char *tag,
				   unsigned int vectors, char *err,
				   size_t errlen)
{
	struct ivsh_server_conf sc = { 0 };

	snprintf(sr->sock, sizeof(sr->sock), "/tmp/ivsh-utest-%s-%d.sock",
		 tag, (int)getpid());
	sc.socket_path = sr->sock;
	sc.shm_size = 4u << 20;
	sc.vectors = vectors;
	sc.shm_kind = IVSH_SERVER_SHM_MEMFD;
	if (ivsh_server_create(&sr->srv, &sc, err, errlen) < 0)
		return -1;
	pthread_create(&sr->thr, NULL, server_run_main, sr);
	return 0;
}

/* Open dev[0] and dev[1] on the server (the first is the master, ID 0).
 * @return 0; -1 (ivsh_dev_last_error() says why). */
static inline int server_run_open_devs(struct server_run *sr,
				       struct ivsh_dev *dev[2])
{
	char name[160];

	snprintf(name, sizeof(name), "server:%s", sr->sock);
	for (int i = 0; i < 2; i++)
		if (ivsh_dev_open(&dev[i], name, NULL) < 0)
			return -1;
	return 0;
}

/* Open port[i] on dev[i] to the other peer, with @p conf (peer filled
 * in). @return 0; -1 (ivsh_port_last_error() says why). */
static inline int server_run_open_ports(struct ivsh_dev *dev[2],
					struct ivsh_port *port[2],
					const struct ivsh_port_conf *conf)
{
	struct ivsh_port_conf c = *conf;

	for (int i = 0; i < 2; i++) {
		c.peer = (uint16_t)!i;
		if (ivsh_port_open(&port[i], dev[i], &c) < 0)
			return -1;
	}
	return 0;
}

/* Up to @p tries rounds 1 ms apart until both links are up and each side
 * knows the other's vectors. */
static inline void server_run_link(struct ivsh_dev *dev[2],
				   struct ivsh_port *port[2], int tries)
{
	for (int k = 0; k < tries; k++) {
		/* Let the server deliver connect notices, then link up. */
		ivsh_dev_process_events(dev[0]);
		ivsh_dev_process_events(dev[1]);
		if (ivsh_port_link_update(port[0]) &&
		    ivsh_port_link_update(port[1]) &&
		    ivsh_dev_peer_vectors(dev[0], 1) > 0 &&
		    ivsh_dev_peer_vectors(dev[1], 0) > 0)
			break;
		usleep(1000);
	}
}

/* Close the ports and devices (NULL ones too), then stop the server. */
static inline void server_run_close(struct server_run *sr,
				    struct ivsh_dev *dev[2],
				    struct ivsh_port *port[2])
{
	for (int i = 0; i < 2; i++) {
		ivsh_port_close(port[i]);
		ivsh_dev_close(dev[i]);
	}
	atomic_store(&sr->stop, true);
	pthread_join(sr->thr, NULL);
	ivsh_server_destroy(sr->srv);
}

#endif /* SERVER_FIXTURE_H */
