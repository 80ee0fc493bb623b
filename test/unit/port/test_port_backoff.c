/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spurious wake-ups of ivsh_port_rx_wait() over the server: backend, with
 * an in-process server: counted per queue and per port, a storm of
 * doorbells without frames backs off (bounded wake-ups, one log line per
 * episode), frames still arrive during it, and it ends when the storm
 * stops.
 */
#include <errno.h>
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
#include "ivsh_port.h"
#include "ivsh_server.h"
#include "server_fixture.h"

struct env {
	struct server_run run;
	pthread_t storm;
	atomic_bool storm_stop;
	atomic_uint_fast64_t rung;
	struct ivsh_dev *dev[2];
	struct ivsh_port *port[2];
};

static atomic_int log_lines;
static char last_line[400];

static void count_log(const char *line, void *opaque)
{
	(void)opaque;
	snprintf(last_line, sizeof(last_line), "%s", line);
	atomic_fetch_add(&log_lines, 1);
}

static int setup(void **state)
{
	static struct env e;
	const struct ivsh_port_conf c = { .intr = true, .max_peers = 2 };
	char err[256];

	memset(&e, 0, sizeof(e));
	if (server_run_start(&e.run, "backoff", 1, err, sizeof(err)) < 0) {
		print_message("cannot create a server: %s\n", err);
		return -1;
	}
	if (server_run_open_devs(&e.run, e.dev) < 0) {
		print_message("open failed: %s\n", ivsh_dev_last_error());
		return -1;
	}
	if (server_run_open_ports(e.dev, e.port, &c) < 0) {
		print_message("port open: %s\n", ivsh_port_last_error());
		return -1;
	}
	server_run_link(e.dev, e.port, 2000);
	ivsh_port_set_log(count_log, NULL);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	ivsh_port_set_log(NULL, NULL);
	if (e == NULL)
		return 0;
	server_run_close(&e->run, e->dev, e->port);
	return 0;
}

static uint64_t xstat(struct ivsh_port *p, const char *name)
{
	const char *names[64];
	uint64_t v[64];
	int n = ivsh_port_xstats(p, names, v, 64);

	for (int i = 0; i < n && i < 64; i++)
		if (strcmp(names[i], name) == 0)
			return v[i];
	fail_msg("no xstat %s", name);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Peer 0 rings peer 1's vector 0 without ever sending a frame. */
static void *storm_main(void *arg)
{
	struct env *e = arg;

	while (!atomic_load(&e->storm_stop)) {
		if (ivsh_dev_doorbell(e->dev[0], 1, 0) == 0)
			atomic_fetch_add(&e->rung, 1);
	}
	return NULL;
}

static void storm_start(struct env *e)
{
	atomic_store(&e->storm_stop, false);
	atomic_store(&e->rung, 0);
	pthread_create(&e->storm, NULL, storm_main, e);
	while (atomic_load(&e->rung) < 1000)
		usleep(100);
}

static void storm_stop(struct env *e)
{
	atomic_store(&e->storm_stop, true);
	pthread_join(e->storm, NULL);
}

/* Peer 0 sends one frame 20 ms from now (its doorbell wakes peer 1). */
static void *send_later(void *arg)
{
	struct env *e = arg;
	uint8_t b[64] = { 1 };
	struct ivsh_pkt pk = { b, 64 };

	usleep(20000);
	ivsh_port_tx_burst(e->port[0], 0, &pk, 1);
	return NULL;
}

/* One doorbell without a frame: one spurious wake-up, per queue and port. */
static void test_one_spurious(void **state)
{
	struct env *e = *state;
	struct ivsh_port_queue_stats qs;

	ivsh_port_stats_reset(e->port[1]);
	assert_int_equal(ivsh_dev_doorbell(e->dev[0], 1, 0), 0);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 30), 0);
	assert_int_equal(ivsh_port_queue_stats(e->port[1], 0, &qs), 0);
	assert_int_equal(qs.rx_intr_spurious, 1);
	assert_int_equal(xstat(e->port[1], "rx_intr_spurious_wakeups"), 1);
	assert_int_equal(xstat(e->port[1], "rx_intr_wakeups"), 1);
	assert_int_equal(xstat(e->port[1], "rx_intr_backoffs"), 0);

	/* A doorbell with a frame is not spurious. */
	pthread_t t;
	uint8_t b[64];
	struct ivsh_pkt pk = { b, 64 };

	pthread_create(&t, NULL, send_later, e);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 2000), 1);
	pthread_join(t, NULL);
	assert_int_equal(ivsh_port_rx_burst(e->port[1], 0, &pk, 1), 1);
	assert_int_equal(ivsh_port_queue_stats(e->port[1], 0, &qs), 0);
	assert_int_equal(qs.rx_intr_spurious, 1);
}

static void test_storm_backs_off(void **state)
{
	struct env *e = *state;
	uint8_t b[64] = { 7 };
	struct ivsh_pkt pk = { b, 64 };

	ivsh_port_stats_reset(e->port[1]);
	atomic_store(&log_lines, 0);
	storm_start(e);
	/* 300 ms of storm: bounded wake-ups (about one per ms once backed
	 * off; without the back-off one per doorbell batch, far more). */
	uint64_t t0 = now_ms();

	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 300), 0);
	uint64_t ms = now_ms() - t0;
	uint64_t wake = xstat(e->port[1], "rx_intr_wakeups");
	uint64_t rung = atomic_load(&e->rung);

	print_message("storm: %llu doorbells, %llu wake-ups in %llu ms\n",
		      (unsigned long long)rung, (unsigned long long)wake,
		      (unsigned long long)ms);
	assert_true(xstat(e->port[1], "rx_intr_spurious_wakeups") >= 64);
	/* Normally one episode; a storm thread starved for over 100 ms
	 * makes a new one, logged again. */
	uint64_t episodes = xstat(e->port[1], "rx_intr_backoffs");

	assert_true(episodes >= 1);
	assert_true(wake <= 64 * episodes + 2 * ms + 50);
	assert_int_equal(atomic_load(&log_lines), (int)episodes);
	assert_non_null(strstr(last_line, "spurious wake-ups"));

	/* A frame during the storm arrives, within a few intervals. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ivsh_port_tx_burst(e->port[0], 0, &pk, 1), 1);
		t0 = now_ms();
		assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 2000), 1);
		assert_true(now_ms() - t0 < 500);
		assert_int_equal(ivsh_port_rx_burst(e->port[1], 0, &pk, 1), 1);
		pk.len = 64;
		/* The storm resumes: back off again, in the same episode. */
		assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 20), 0);
	}
	assert_int_equal(atomic_load(&log_lines),
			 (int)xstat(e->port[1], "rx_intr_backoffs"));
	storm_stop(e);

	/* The storm is over: the next waits sleep, no more spurious ones. */
	ivsh_dev_irq_ack(e->dev[1], 0);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 20), 0);
	uint64_t sp = xstat(e->port[1], "rx_intr_spurious_wakeups");

	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 100), 0);
	assert_int_equal(xstat(e->port[1], "rx_intr_spurious_wakeups"), sp);

	/* And a frame wakes the sleeper through its doorbell again. */
	pthread_t t;

	pthread_create(&t, NULL, send_later, e);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 2000), 1);
	pthread_join(t, NULL);
	assert_int_equal(ivsh_port_rx_burst(e->port[1], 0, &pk, 1), 1);
	assert_int_equal(xstat(e->port[1], "rx_intr_spurious_wakeups"), sp);
}

/* Stats reset covers the new counters. */
static void test_reset(void **state)
{
	struct env *e = *state;
	struct ivsh_port_queue_stats qs;

	assert_int_equal(ivsh_dev_doorbell(e->dev[0], 1, 0), 0);
	assert_int_equal(ivsh_port_rx_wait(e->port[1], 0, 20), 0);
	ivsh_port_stats_reset(e->port[1]);
	assert_int_equal(ivsh_port_queue_stats(e->port[1], 0, &qs), 0);
	assert_int_equal(qs.rx_intr_spurious, 0);
	assert_int_equal(xstat(e->port[1], "rx_intr_spurious_wakeups"), 0);
	assert_int_equal(xstat(e->port[1], "rx_intr_backoffs"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_spurious),
		cmocka_unit_test(test_storm_backs_off),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
