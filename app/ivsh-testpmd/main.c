/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-testpmd: a testpmd-like traffic program for ivshmem ports.
 * Opens a device, a port to one peer, and runs one forwarding engine on
 * every queue from a single thread. See doc/ivsh-testpmd.md.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fwd.h"
#include "options.h"
#include "reattach.h"
#include "stats.h"
#include "testpmd.h"
#include "tsc.h"

#define PROG "ivsh-testpmd"

volatile sig_atomic_t tp_stop;

static void on_signal(int sig)
{
	(void)sig;
	tp_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a sleeping rx wait returns -EINTR at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, PROG ": cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int alloc_queues(struct testpmd *tp)
{
	/* rx: any frame the port may carry; tx: only --pkt-len (64-aligned) */
	size_t tx_stride = ((size_t)tp->conf.pkt_len + 63) & ~(size_t)63;
	size_t bytes = (size_t)tp->conf.burst * IVSH_PORT_MAX_FRAME;

	tp->q = calloc(tp->conf.queues, sizeof(*tp->q));
	if (!tp->q)
		return -ENOMEM;
	for (uint16_t i = 0; i < tp->conf.queues; i++) {
		struct tp_queue *q = &tp->q[i];

		q->id = i;
		q->rx_mem = malloc(bytes);
		/* only generating engines need their own tx frames */
		q->tx_mem = tp->conf.engine->generates ?
			    malloc(tp->conf.burst * tx_stride) : NULL;
		if (!q->rx_mem || (tp->conf.engine->generates && !q->tx_mem))
			return -ENOMEM;
		for (uint16_t j = 0; j < tp->conf.burst; j++) {
			q->rx[j].data = q->rx_mem + (size_t)j * IVSH_PORT_MAX_FRAME;
			if (q->tx_mem)
				q->tx[j].data = q->tx_mem + (size_t)j * tx_stride;
		}
	}
	return 0;
}

static void free_queues(struct testpmd *tp)
{
	if (!tp->q)
		return;
	for (uint16_t i = 0; i < tp->conf.queues; i++) {
		free(tp->q[i].rx_mem);
		free(tp->q[i].tx_mem);
	}
	free(tp->q);
	tp->q = NULL;
}

static uint32_t random_session(void)
{
	uint32_t s;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return s;
}

int tp_open_port(struct testpmd *tp)
{
	struct ivsh_port_conf pc;
	int ret;

	ret = ivsh_dev_open(&tp->dev, tp->conf.device, NULL);
	if (ret) {
		fprintf(stderr, PROG ": cannot open device '%s': %s\n",
			tp->conf.device, ivsh_dev_last_error()[0] ?
			ivsh_dev_last_error() : strerror(-ret));
		return -1;
	}
	tp->own_id = ivsh_dev_id(tp->dev);

	memset(&pc, 0, sizeof(pc));
	pc.peer = (uint16_t)tp->conf.peer;
	pc.auto_wait_ms = (int)(tp->conf.wait_link_s * 1000);
	pc.nb_queues = tp->conf.queues;
	pc.intr = tp->conf.intr;
	pc.max_peers = tp->conf.max_peers;
	pc.queues_per_link = tp->conf.queues;
	pc.ring_size = tp->conf.ring_size;
	pc.slot_size = tp->conf.slot_size;
	pc.identity = tp->layout_identity; /* re-attach: same region only */
	ret = ivsh_port_open(&tp->port, tp->dev, &pc);
	if (ret) {
		if (tp->conf.peer == TP_PEER_AUTO)
			fprintf(stderr, PROG ": cannot open port: %s\n",
				ivsh_port_last_error()[0] ?
				ivsh_port_last_error() : strerror(-ret));
		else
			fprintf(stderr, PROG ": cannot open port to peer %d: %s\n",
				tp->conf.peer, ivsh_port_last_error()[0] ?
				ivsh_port_last_error() : strerror(-ret));
		return -1;
	}
	tp->conf.peer = ivsh_port_peer(tp->port);
	if (tp->conf.intr && ivsh_port_rx_intr_fd(tp->port, 0) < 0) {
		fprintf(stderr, PROG ": --mode intr needs a device with interrupts"
			" (device '%s' has none)\n", tp->conf.device);
		return -1;
	}
	if (tp->conf.engine->generates &&
	    tp->conf.pkt_len > ivsh_port_max_frame(tp->port)) {
		fprintf(stderr, PROG ": --pkt-len %u exceeds the port's largest"
			" frame (%u)\n", tp->conf.pkt_len,
			ivsh_port_max_frame(tp->port));
		return -1;
	}
	ivsh_port_mac(tp->port, tp->own_mac);
	ivsh_port_peer_mac(tp->port, tp->peer_mac);
	/* A switch between the peers forwards by this address. */
	if (tp->conf.has_eth_dst)
		memcpy(tp->peer_mac, tp->conf.eth_dst, sizeof(tp->peer_mac));
	fprintf(stderr, PROG ": ready: device %s id %u peer %d engine %s mode %s"
		" queues %u ring %u slot %u copy %s\n",
		ivsh_dev_backend(tp->dev), tp->own_id, tp->conf.peer,
		tp->conf.engine->name, tp->conf.intr ? "intr" : "poll",
		ivsh_port_nb_queues(tp->port), ivsh_port_ring_size(tp->port),
		ivsh_port_slot_size(tp->port), ivsh_port_copy_name(tp->port));
	return 0;
}

/* A receiving run that the --duration ended without a single frame failed:
 * the peer never sent, or sent elsewhere. */
static bool received_nothing(const struct testpmd *tp)
{
	struct tp_totals t;

	if (tp_stop || tp->conf.duration_s <= 0 ||
	    tp->conf.engine->counts != COUNT_RX)
		return false;
	tp_totals(tp, &t);
	if (t.rx_packets > 0)
		return false;
	fprintf(stderr, PROG ": received nothing from peer %d during the whole"
		" --duration (%g s)\n", tp->conf.peer, tp->conf.duration_s);
	return true;
}

int main(int argc, char **argv)
{
	static struct testpmd tp;
	uint64_t elapsed;
	int ret, status = 1;

	ret = options_parse(&tp.conf, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 1;
	/* auto waits for the peer, then for the link, with one budget */
	if (tp.conf.peer == TP_PEER_AUTO && tp.conf.wait_link_s <= 0)
		tp.conf.wait_link_s = TP_AUTO_WAIT_S;
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_signals();
	if (tp.conf.cpu >= 0 && pin_cpu(tp.conf.cpu))
		return 1;
	tsc_calibrate();
	tp.session = random_session();
	if (alloc_queues(&tp)) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	if (tp_open_port(&tp))
		goto out;
	if (tp.conf.engine->init && (ret = tp.conf.engine->init(&tp)) != 0) {
		fprintf(stderr, PROG ": engine %s: %s\n", tp.conf.engine->name,
			strerror(-ret));
		goto out;
	}
	if (tp.conf.wait_link_s > 0) {
		ret = fwd_wait_link(&tp, tp.conf.wait_link_s);
		if (ret == -ETIMEDOUT) {
			fprintf(stderr, PROG ": link to peer %d not up after %g s\n",
				tp.conf.peer, tp.conf.wait_link_s);
			goto out;
		}
		/* generated frames carry the peer MAC learnt at link up */
		if (ret == 0 && tp.conf.engine->init)
			tp.conf.engine->init(&tp);
	}
	elapsed = fwd_run(&tp);
	while (tp.removed) {
		reattach_release(&tp);
		status = TP_EXIT_REMOVED;
		if (!tp.conf.reattach || reattach_wait(&tp) != 0)
			break;
		tp.removed = false;
		elapsed += fwd_run(&tp);
		status = 1;
	}
	stats_final(&tp, elapsed);
	if (status != TP_EXIT_REMOVED)
		status = received_nothing(&tp) ? 1 : 0;
out:
	if (tp.dev != NULL && ivsh_dev_shm_lost(tp.dev)) {
		fprintf(stderr, PROG ": the shared memory of device '%s' was truncated by another process\n",
			tp.conf.device);
		status = 1;
	}
	ivsh_port_close(tp.port);
	ivsh_dev_close(tp.dev);
	free_queues(&tp);
	return status;
}
