/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port Rx interrupts over the server: backend, with an in-process ivshmem
 * server (lib/server) run by a helper thread: kick-flag protocol, doorbell
 * suppression, rx_wait.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "ivsh_layout.h"
#include "ivsh_port.h"
#include "ivsh_server.h"
#include "layout_v1.h"
#include "port_fixture.h"
#include "server_fixture.h"

struct env {
	struct server_run run;
	struct ivsh_dev *dev[2];
	struct ivsh_port *port[2];
};

static int setup(void **state)
{
	static struct env e;
	const struct ivsh_port_conf c = { .intr = true, .max_peers = 2 };
	char err[256];

	memset(&e, 0, sizeof(e));
	if (server_run_start(&e.run, "intr", 2, err, sizeof(err)) < 0) {
		print_message("skip: cannot create a server: %s\n", err);
		return -1;
	}
	if (server_run_open_devs(&e.run, e.dev) < 0) {
		print_message("server: open failed: %s\n",
			      ivsh_dev_last_error());
		return -1;
	}
	/* The first client is the master (ID 0). */
	assert_int_equal(ivsh_dev_id(e.dev[0]), 0);
	assert_int_equal(ivsh_dev_id(e.dev[1]), 1);
	if (server_run_open_ports(e.dev, e.port, &c) < 0) {
		print_message("port open: %s\n", ivsh_port_last_error());
		return -1;
	}
	server_run_link(e.dev, e.port, 200);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e == NULL)
		return 0;
	server_run_close(&e->run, e->dev, e->port);
	return 0;
}

static void send1(struct ivsh_port *p)
{
	uint8_t b[64] = { 1 };
	struct ivsh_pkt pk = { b, 64 };

	assert_int_equal(ivsh_port_tx_burst(p, 0, &pk, 1), 1);
}

static uint32_t drain(struct ivsh_port *p)
{
	uint8_t b[64];
	struct ivsh_pkt pk = { b, 64 };
	uint32_t n = 0;

	while (ivsh_port_rx_burst(p, 0, &pk, 1) == 1) {
		n++;
		pk.len = 64;
	}
	return n;
}

static void test_kick_protocol(void **state)
{
	struct env *e = *state;
	int fd = ivsh_port_rx_intr_fd(e->port[1], 0);

	assert_true(fd >= 0);
	/* Nobody asked: sending costs no doorbell. */
	send1(e->port[0]);
	assert_int_equal(port_xstat(e->port[0], "tx_doorbells"), 0);
	/* Data waiting: enable says "don't sleep". */
	assert_int_equal(ivsh_port_rx_intr_enable(e->port[1], 0), 1);
	assert_int_equal(drain(e->port[1]), 1);
	/* Empty: armed. The next burst rings exactly one doorbell. */
	assert_int_equal(ivsh_port_rx_intr_enable(e->port[1], 0), 0);
	send1(e->port[0]);
	send1(e->port[0]);
	send1(e->port[0]);
	assert_int_equal(port_xstat(e->port[0], "tx_doorbells"), 1);
	assert_int_equal(ivsh_dev_irq_wait(e->dev[1], 0, 2000), 1);
	assert_int_equal(ivsh_port_rx_intr_disable(e->port[1], 0), 0);
	assert_int_equal(drain(e->port[1]), 3);
	/* Disarmed: no more doorbells. */
	send1(e->port[0]);
	assert_int_equal(port_xstat(e->port[0], "tx_doorbells"), 1);
	assert_int_equal(drain(e->port[1]), 1);
}

struct delayed {
	struct ivsh_port *port;
	int delay_ms;
};

static void *send_later(void *arg)
{
	struct delayed *d = arg;
	uint8_t b[64] = { 2 };
	struct ivsh_pkt pk = { b, 64 };

	usleep((useconds_t)d->delay_ms * 1000);
	ivsh_port_tx_burst(d->port, 0, &pk, 1);
	return NULL;
}

static void test_rx_wait(void **state)
{
	struct env *e = *state;
	pthread_t t;
	struct delayed d = { e->port[0], 150 };

	/* Nothing comes: timeout. */
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 50), 0);
	/* A frame arrives while we sleep: woken by the doorbell. */
	pthread_create(&t, NULL, send_later, &d);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 3000), 1);
	pthread_join(t, NULL);
	assert_int_equal(drain(e->port[1]), 1);
	assert_true(port_xstat(e->port[1], "rx_intr_wakeups") >= 1);
	/* Already waiting: returns at once. */
	send1(e->port[0]);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 0), 1);
	assert_int_equal(drain(e->port[1]), 1);
}

/* Close and re-open the consumer's port: a new attach (new epoch). */
static void reopen_consumer(struct env *e)
{
	struct ivsh_port_conf c = { .intr = true, .max_peers = 2, .peer = 0 };

	ivsh_port_close(e->port[1]);
	e->port[1] = NULL;
	assert_int_equal(ivsh_port_open(&e->port[1], e->dev[1], &c), 0);
	/* The producer learns the (unchanged) vectors of the new life. */
	ivsh_port_link_update(e->port[0]);
}

/* Arm, send one frame: the producer must ring exactly one doorbell. */
static void arm_send_expect_doorbell(struct env *e)
{
	uint64_t before = port_xstat(e->port[0], "tx_doorbells");

	assert_int_equal(ivsh_port_rx_intr_enable(e->port[1], 0), 0);
	send1(e->port[0]);
	assert_int_equal(port_xstat(e->port[0], "tx_doorbells"), before + 1);
	assert_int_equal(ivsh_dev_irq_wait(e->dev[1], 0, 2000), 1);
	assert_int_equal(ivsh_port_rx_intr_disable(e->port[1], 0), 0);
	assert_int_equal(drain(e->port[1]), 1);
}

/* A restarted consumer must not re-use the kick values of its previous
 * life: the producer answers each value once, so a repeated value would
 * be a lost wake-up (forever, for a caller sleeping without timeout). */
static void test_kick_after_consumer_restart(void **state)
{
	struct env *e = *state;

	drain(e->port[1]);
	reopen_consumer(e);
	arm_send_expect_doorbell(e);   /* first arming of this life */
	reopen_consumer(e);
	arm_send_expect_doorbell(e);   /* first arming of the next life */
	arm_send_expect_doorbell(e);
}

/* A producer index out of range is no reason to stay awake: rx_wait
 * sleeps its timeout (it used to return "frames wait" at once, making the
 * caller spin) and the bad index is counted. */
static void test_rx_wait_bad_prod(void **state)
{
	struct env *e = *state;
	const struct ivsh_layout_info *li = ivsh_port_layout(e->port[1]);
	uint8_t *ch = (uint8_t *)ivsh_dev_shm(e->dev[1]) +
		      ivsh_layout_channel_off(li, 0, 1, 0);
	ivsh_ring_idx_t *prod = &LAY_CHAN_PROD(ch)->prod;

	drain(e->port[1]);
	uint32_t good = atomic_load(prod);
	uint64_t bad0 = port_xstat(e->port[1], "rx_invalid_prod_index");
	atomic_store(prod, good + li->p.ring_size + 7);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 120), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 100);
	assert_true(port_xstat(e->port[1], "rx_invalid_prod_index") > bad0);
	/* Repaired: frames flow and wake the consumer again. */
	atomic_store(prod, good);
	arm_send_expect_doorbell(e);
}

/*
 * A peer that (re)connects after this side opened its port: this side
 * must learn the new peer's eventfds from the server's notices through
 * ivsh_port_link_update() alone, or its doorbells go to the departed
 * client's eventfd and the new consumer never wakes.
 */
static void test_doorbell_reaches_late_peer(void **state)
{
	struct env *e = *state;
	struct ivsh_port_conf c = { .intr = true, .peer = 0 };
	char name[160];
	struct pollfd pfd;
	int up = 0;

	ivsh_port_close(e->port[1]);
	ivsh_dev_close(e->dev[1]);
	snprintf(name, sizeof(name), "server:%s", e->run.sock);
	assert_int_equal(ivsh_dev_open(&e->dev[1], name, NULL), 0);
	assert_int_equal(ivsh_dev_id(e->dev[1]), 1);
	assert_int_equal(ivsh_port_open(&e->port[1], e->dev[1], &c), 0);

	/* No explicit ivsh_dev_process_events(): link updates only. */
	for (int k = 0; k < 3000 && !up; k++) {
		/* Both every round: each side's update is its heartbeat. */
		int a = ivsh_port_link_update(e->port[0]);
		int b = ivsh_port_link_update(e->port[1]);

		up = a && b;
		usleep(1000);
	}
	assert_true(up);
	assert_int_equal(ivsh_dev_peer_vectors(e->dev[0], 1), 1);

	assert_int_equal(ivsh_port_rx_intr_enable(e->port[1], 0), 0);
	send1(e->port[0]);
	pfd.fd = ivsh_port_rx_intr_fd(e->port[1], 0);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	ivsh_dev_irq_ack(e->dev[1], 0);
	ivsh_port_rx_intr_disable(e->port[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kick_protocol),
		cmocka_unit_test(test_rx_wait),
		cmocka_unit_test(test_kick_after_consumer_restart),
		cmocka_unit_test(test_rx_wait_bad_prod),
		cmocka_unit_test(test_doorbell_reaches_late_peer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
