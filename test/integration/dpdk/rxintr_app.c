/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal DPDK application that receives on port 0 in interrupt mode,
 * the way l3fwd-power does: when the queue is empty it arms the rx
 * interrupt and sleeps in rte_epoll_wait() on the fd that
 * rte_eth_dev_rx_intr_ctl_q() registered.
 *
 *   rxintr_app EAL_ARGS... -- COUNT TIMEOUT_S [HOLD_MS]
 *
 * With HOLD_MS, received mbufs are not freed at once: a second thread
 * frees everything received so far every HOLD_MS milliseconds (late
 * frees, as by another lcore; with rx_zero_copy=1 the ring fills up with
 * held slots and the application sleeps while they are freed).
 *
 * Prints "ready" once it sleeps for the first time, then one line
 *   received=N wakeups=W timeouts=T
 * and exits 0 when COUNT frames arrived within TIMEOUT_S seconds (each
 * sleep lasts up to 10 s, so a wakeup path that does not work shows up as
 * a timeout), 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>

#define PROG "rxintr_app"
#define BURST 32
#define SLEEP_MS 10000

static int die(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* Mbufs received and not yet freed (HOLD_MS mode). */
static struct {
	pthread_mutex_t lock;
	struct rte_mbuf **m;
	uint64_t n;
	unsigned long hold_ms;
	atomic_bool stop;
} held = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *late_free(void *arg)
{
	(void)arg;
	while (!atomic_load(&held.stop)) {
		usleep((useconds_t)held.hold_ms * 1000);
		pthread_mutex_lock(&held.lock);
		for (uint64_t i = 0; i < held.n; i++)
			rte_pktmbuf_free(held.m[i]);
		held.n = 0;
		pthread_mutex_unlock(&held.lock);
	}
	return NULL;
}

static void hold(struct rte_mbuf **pkts, uint16_t n)
{
	pthread_mutex_lock(&held.lock);
	memcpy(&held.m[held.n], pkts, n * sizeof(*pkts));
	held.n += n;
	pthread_mutex_unlock(&held.lock);
}

static int setup_port(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = 1;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret < 0)
		return die("rte_eth_dev_configure", ret);
	ret = rte_eth_rx_queue_setup(port, 0, 512, rte_socket_id(), NULL, mp);
	if (ret < 0)
		return die("rte_eth_rx_queue_setup", ret);
	ret = rte_eth_tx_queue_setup(port, 0, 512, rte_socket_id(), NULL);
	if (ret < 0)
		return die("rte_eth_tx_queue_setup", ret);
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		return die("rte_eth_dev_start", ret);
	ret = rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD,
					RTE_INTR_EVENT_ADD, NULL);
	if (ret < 0)
		return die("rte_eth_dev_rx_intr_ctl_q", ret);
	return 0;
}

int main(int argc, char **argv)
{
	struct rte_mbuf *pkts[BURST];
	struct rte_epoll_event ev;
	struct rte_mempool *mp;
	uint64_t count, received = 0, wakeups = 0, timeouts = 0;
	uint64_t deadline;
	unsigned long timeout_s;
	bool said_ready = false;
	pthread_t freer;
	char *end;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		return die("rte_eal_init", rte_errno);
	argc -= ret;
	argv += ret;
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: " PROG " EAL_ARGS... -- COUNT TIMEOUT_S [HOLD_MS]\n");
		return 2;
	}
	if (argc == 4) {
		held.hold_ms = strtoul(argv[3], &end, 10);
		if (*end != '\0' || held.hold_ms == 0 || held.hold_ms > 5000) {
			fprintf(stderr, PROG ": bad HOLD_MS %s (1..5000)\n", argv[3]);
			return 2;
		}
	}
	count = strtoull(argv[1], &end, 10);
	if (*end != '\0' || count == 0) {
		fprintf(stderr, PROG ": bad COUNT %s\n", argv[1]);
		return 2;
	}
	timeout_s = strtoul(argv[2], &end, 10);
	if (*end != '\0' || timeout_s == 0) {
		fprintf(stderr, PROG ": bad TIMEOUT_S %s\n", argv[2]);
		return 2;
	}
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, PROG ": no ethdev port (missing --vdev?)\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create("rxintr_pool", 4096, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL)
		return die("rte_pktmbuf_pool_create", rte_errno);
	if (setup_port(0, mp) != 0)
		return 1;
	if (held.hold_ms != 0) {
		held.m = calloc(count + BURST, sizeof(*held.m));
		if (held.m == NULL)
			return die("calloc", ENOMEM);
		if (pthread_create(&freer, NULL, late_free, NULL) != 0)
			return die("pthread_create", EAGAIN);
	}

	deadline = rte_get_timer_cycles() + timeout_s * rte_get_timer_hz();
	while (received < count && rte_get_timer_cycles() < deadline) {
		uint16_t n = rte_eth_rx_burst(0, 0, pkts, BURST);

		if (n > 0) {
			if (held.hold_ms != 0)
				hold(pkts, n);
			else
				rte_pktmbuf_free_bulk(pkts, n);
			received += n;
			continue;
		}
		/* Arm, then sleep; the driver wakes us at once when frames
		 * arrived between the empty burst and the arming. */
		ret = rte_eth_dev_rx_intr_enable(0, 0);
		if (ret < 0)
			return die("rte_eth_dev_rx_intr_enable", ret);
		if (!said_ready) {
			printf("ready\n");
			fflush(stdout);
			said_ready = true;
		}
		ret = rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, SLEEP_MS);
		rte_eth_dev_rx_intr_disable(0, 0);
		if (ret > 0)
			wakeups++;
		else if (ret == 0)
			timeouts++;
	}
	if (held.hold_ms != 0) {
		atomic_store(&held.stop, true);
		pthread_join(freer, NULL);
		for (uint64_t i = 0; i < held.n; i++)
			rte_pktmbuf_free(held.m[i]);
		free(held.m);
	}
	printf("received=%" PRIu64 " wakeups=%" PRIu64 " timeouts=%" PRIu64 "\n",
	       received, wakeups, timeouts);
	fflush(stdout);
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return received >= count && timeouts == 0 ? 0 : 1;
}
