/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile peers against the server: client.
 *
 * A real ivsh-server (the library, in a thread) serves a victim device
 * opened with ivsh_dev_open("server:...") and a hostile raw client that
 * holds every descriptor the protocol hands out. Each victim operation
 * that could hang or crash runs in a forked child with a deadline, so a
 * regression fails the test instead of hanging it:
 *
 * - the hostile client cannot shrink the shared memory (sealed memfd);
 * - it cannot make a doorbell block by saturating its own eventfd after
 *   clearing O_NONBLOCK on it (the flag is shared by all holders);
 * - nor by emptying and refilling it in a loop, so that the counter
 *   fills up between the victim's check and its write;
 * - it cannot make an INTx IntrStatus read block by clearing O_NONBLOCK
 *   on the victim's own eventfd.
 *
 * Hostile servers: test_hostile_servers.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <endian.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "ivsh_proto.h"
#include "hostile_fx.h"
#include "served_fx.h"
#include "tclient.h"

static void read_until(struct tclient *tc, bool (*done)(struct tclient *))
{
	int64_t end = now_ms() + 5000;

	while (!done(tc) && now_ms() < end) {
		struct pollfd p = { .fd = tc->sock, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			tc_read(tc);
	}
	assert_true(done(tc));
}

static bool has_shm_and_vec(struct tclient *tc)
{
	return tc->shm_fd >= 0 && tc->own_count > 0;
}

static bool knows_peer0(struct tclient *tc)
{
	return tc->peer_fd[0][0] >= 0;
}

static struct ivsh_dev *open_victim(struct served_fx *f, const char *keys)
{
	char name[400];
	struct ivsh_dev *dev = NULL;
	int rc;

	snprintf(name, sizeof(name), "server:%s%s", f->base.path, keys);
	rc = ivsh_dev_open(&dev, name, NULL);
	if (rc < 0)
		fail_msg("open %s: %s", name, ivsh_dev_last_error());
	return dev;
}

/* Process events of @p dev until it knows @p peer. */
static void wait_peer(struct ivsh_dev *dev, uint16_t peer)
{
	int64_t end = now_ms() + 5000;

	while (ivsh_dev_peer_connected(dev, peer) != 1 && now_ms() < end) {
		struct pollfd p = { .fd = ivsh_dev_event_fd(dev),
				    .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			(void)ivsh_dev_process_events(dev);
	}
	assert_int_equal(ivsh_dev_peer_connected(dev, peer), 1);
}

/* ---- 1: the shared memory cannot be shrunk ---- */

static int touch_all(void *arg)
{
	struct ivsh_dev *dev = arg;
	volatile uint8_t *m = ivsh_dev_shm(dev);

	for (uint64_t off = 0; off < ivsh_dev_shm_size(dev); off += 4096)
		m[off] = (uint8_t)(m[off] + 1);
	return 0;
}

static void test_shm_truncate_refused(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim, *later;
	struct tclient *hostile;
	int rc, err;

	served_fx_start(f);
	victim = open_victim(f, "");
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	read_until(hostile, has_shm_and_vec);

	rc = ftruncate(hostile->shm_fd, 0);
	err = errno;
	printf("ftruncate(shm, 0) by a client: %s\n",
	       rc == 0 ? "succeeded" : strerror(err));
	(void)in_child(touch_all, victim, HANG_MS,
		       "victim touching its shared memory");
	assert_int_equal(rc, -1);
	assert_int_equal(err, EPERM);
	/* Growing it is refused too, and new clients still get memory. */
	assert_int_equal(ftruncate(hostile->shm_fd, 1 << 30), -1);
	later = open_victim(f, "");
	assert_int_equal(ivsh_dev_shm_size(later), f->base.conf.shm_size);
	ivsh_dev_close(later);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

/* ---- 2: eventfds the hostile client shares with the victim ---- */

struct ring_arg {
	struct ivsh_dev *dev;
	uint16_t peer;
	int times;
};

static int ring(void *arg)
{
	struct ring_arg *r = arg;

	for (int i = 0; i < r->times; i++)
		if (ivsh_dev_doorbell(r->dev, r->peer, 0) < 0)
			return 1;
	return 0;
}

/*
 * Start the server, a victim device and a hostile client the victim
 * knows. The hostile peer turns its own eventfd into a blocking one and
 * fills the counter: a blocking write of 1 would wait forever.
 */
static struct tclient *saturating_peer(struct served_fx *f,
				       struct ivsh_dev **victim)
{
	uint64_t almost_full = 0xfffffffffffffffeULL;
	struct tclient *hostile;

	served_fx_start(f);
	*victim = open_victim(f, "");
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	read_until(hostile, has_shm_and_vec);
	wait_peer(*victim, (uint16_t)hostile->id);
	assert_int_equal(fcntl(hostile->own_fd[0], F_SETFL, 0), 0);
	assert_int_equal(write(hostile->own_fd[0], &almost_full, 8), 8);
	return hostile;
}

static void test_doorbell_saturated_blocking_eventfd(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim;
	struct tclient *hostile = saturating_peer(f, &victim);
	struct ring_arg r;
	int64_t took;

	r = (struct ring_arg){ victim, (uint16_t)hostile->id, 3 };
	took = in_child(ring, &r, HANG_MS, "doorbell to a saturated peer");
	printf("3 doorbells to the saturated peer took %lld ms\n",
	       (long long)took);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

/*
 * The refill race: the hostile peer empties its blocking eventfd and at
 * once fills it again, every 100 ms. A victim doorbell that found room
 * just before the refill would wait in write() until the next emptying,
 * or forever once the peer stops. The victim rings for 3 s; no single
 * doorbell may take 250 ms (before the watchdog: 300-1001 ms; with it
 * 10-14 ms, the rest is slack for a loaded machine). When a doorbell
 * lands between the emptying and the refill, the refill itself would
 * wait: a helper of the test empties the counter again, so that the
 * attack goes on.
 */
struct refill_arg {
	int fd;
	atomic_int stop;
	atomic_llong refill_since; /* ms; 0 when not in the refill write */
	unsigned long cycles;
};

static void *refill_loop(void *arg)
{
	struct refill_arg *a = arg;
	uint64_t almost_full = 0xfffffffffffffffeULL, n;

	while (!atomic_load(&a->stop)) {
		if (read(a->fd, &n, 8) == 8) {
			atomic_store(&a->refill_since, now_ms());
			if (write(a->fd, &almost_full, 8) == 8)
				a->cycles++;
			atomic_store(&a->refill_since, 0);
		}
		usleep(100 * 1000);
	}
	return NULL;
}

/* Empty the counter under a refill that has waited 20 ms. */
static void *unstick_loop(void *arg)
{
	struct refill_arg *a = arg;

	while (atomic_load(&a->stop) < 2) {
		int64_t t = atomic_load(&a->refill_since);
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		uint64_t n;

		if (t != 0 && now_ms() - t > 20 && poll(&p, 1, 0) == 1)
			(void)!read(a->fd, &n, 8);
		usleep(5000);
	}
	return NULL;
}

static int ring_timed(void *arg)
{
	struct ring_arg *r = arg;
	int64_t end = now_ms() + 3000, worst = 0;
	unsigned long rings = 0;

	while (now_ms() < end) {
		int64_t t0 = now_ms();

		if (ivsh_dev_doorbell(r->dev, r->peer, 0) < 0)
			return 1;
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
		rings++;
	}
	printf("%lu doorbells against a refilling peer, the slowest %lld ms\n",
	       rings, (long long)worst);
	return worst < 250 ? 0 : 2;
}

static void test_doorbell_refill_race(void **state)
{
	struct served_fx *f = *state;
	struct refill_arg a = { 0 };
	struct ivsh_dev *victim;
	struct tclient *hostile = saturating_peer(f, &victim);
	struct ring_arg r;
	pthread_t t, u;

	a.fd = hostile->own_fd[0];
	assert_int_equal(pthread_create(&t, NULL, refill_loop, &a), 0);
	assert_int_equal(pthread_create(&u, NULL, unstick_loop, &a), 0);
	r = (struct ring_arg){ victim, (uint16_t)hostile->id, 0 };
	(void)in_child(ring_timed, &r, HANG_MS, "doorbells to a refilling peer");
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	atomic_store(&a.stop, 2);
	pthread_join(u, NULL);
	printf("the peer emptied and refilled its eventfd %lu times\n",
	       a.cycles);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

static int read_status(void *arg)
{
	struct ivsh_dev *dev = arg;

	(void)ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS);
	return ivsh_dev_irq_ack(dev, 0) >= 0 ? 0 : 1;
}

static void test_intx_status_blocking_own_eventfd(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim;
	struct tclient *hostile;
	int64_t took;

	served_fx_start(f);
	victim = open_victim(f, ",irq=intx");
	assert_int_equal(ivsh_dev_id(victim), 0);
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	hostile->keep_peer_fds = true;
	read_until(hostile, knows_peer0);
	wait_peer(victim, (uint16_t)hostile->id);

	/* Clear O_NONBLOCK on the victim's own (empty) eventfd. */
	assert_int_equal(fcntl(hostile->peer_fd[0][0], F_SETFL, 0), 0);
	took = in_child(read_status, victim, HANG_MS,
			"IntrStatus read with an empty blocking eventfd");
	printf("IntrStatus read + ack took %lld ms\n", (long long)took);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shm_truncate_refused,
						served_fx_setup,
						served_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_doorbell_saturated_blocking_eventfd,
			served_fx_setup, served_fx_teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_refill_race,
						served_fx_setup,
						served_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_intx_status_blocking_own_eventfd,
			served_fx_setup, served_fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
