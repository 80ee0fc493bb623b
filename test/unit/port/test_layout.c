/* SPDX-License-Identifier: BSD-3-Clause */
/* Layout v1: sizes, master initialisation, attach checks, inspection. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "ivsh_layout.h"
#include "layout_v1.h"
#include "port_fixture.h"
#include "watchpoint.h"

static void test_sizes(void **state)
{
	(void)state;
	struct ivsh_layout_params p = { 2, 1, 512, 2048 };
	struct ivsh_layout_info li;
	const char *why;

	assert_int_equal(ivsh_layout_compute(&p, &li), 0);
	assert_int_equal(li.channels_off, 4096);
	assert_int_equal(li.slots_off, 384 + 512 * 8);
	assert_int_equal(li.channel_size % 4096, 0);
	assert_true(li.channel_size >= 384 + 512 * 8 + 512 * 2048);
	assert_int_equal(li.nb_channels, 2);
	assert_true(li.layout_size <= 4u << 20);
	/* Channel order: (src, dst, q), self excluded. */
	p = (struct ivsh_layout_params){ 4, 2, 64, 64 };
	ivsh_layout_compute(&p, &li);
	assert_int_equal(ivsh_layout_channel_off(&li, 0, 1, 0), li.channels_off);
	assert_int_equal(ivsh_layout_channel_off(&li, 0, 1, 1),
			 li.channels_off + li.channel_size);
	assert_int_equal(ivsh_layout_channel_off(&li, 1, 0, 0),
			 li.channels_off + 6 * li.channel_size);
	assert_int_equal(ivsh_layout_channel_off(&li, 3, 2, 1),
			 li.channels_off + 23 * li.channel_size);
	assert_int_equal(ivsh_layout_channel_off(&li, 2, 2, 0), 0);
	assert_int_equal(ivsh_layout_channel_off(&li, 4, 0, 0), 0);
	assert_int_equal(ivsh_layout_channel_off(&li, 0, 1, 2), 0);
	/* Bad parameters. */
	p = (struct ivsh_layout_params){ 1, 1, 512, 2048 };
	assert_int_equal(ivsh_layout_params_check(&p, &why), -EINVAL);
	assert_non_null(strstr(why, "max_peers"));
	p = (struct ivsh_layout_params){ 2, 1, 500, 2048 };
	assert_int_equal(ivsh_layout_size(&p), 0);
	p = (struct ivsh_layout_params){ 2, 1, 512, 100 };
	assert_int_equal(ivsh_layout_params_check(&p, &why), -EINVAL);
	assert_non_null(strstr(why, "slot_size"));
	p = (struct ivsh_layout_params){ 2, 0, 512, 128 };
	assert_int_equal(ivsh_layout_params_check(&p, NULL), -EINVAL);
}

static void test_too_small(void **state)
{
	(void)state;
	struct pair pr = { 0 };
	struct ivsh_port_conf c = { .peer = 1, .ring_size = 1024 };
	struct ivsh_port *port;

	pair_path(&pr, "small");
	assert_int_equal(pair_open_dev(&pr, 0, "64K"), 0);
	assert_int_equal(ivsh_port_open(&port, pr.dev[0], &c), -ENOSPC);
	assert_non_null(strstr(ivsh_port_last_error(), "needs"));
	assert_non_null(strstr(ivsh_port_last_error(), "65536"));
	/* Defaults are lowered to fit: ring 64 x 1536 x 2 channels doesn't,
	 * smaller slots do. */
	c.ring_size = 0;
	assert_int_equal(ivsh_port_open(&port, pr.dev[0], &c), -ENOSPC);
	c.slot_size = 256;
	assert_int_equal(ivsh_port_open(&port, pr.dev[0], &c), 0);
	assert_int_equal(ivsh_port_ring_size(port), 64);
	ivsh_port_close(port);
	/* Explicit max_peers is never lowered. */
	c.max_peers = 16;
	c.slot_size = 0;
	assert_int_equal(ivsh_port_open(&port, pr.dev[0], &c), -ENOSPC);
	pair_close(&pr);
}

static void test_master_timeout(void **state)
{
	(void)state;
	struct pair pr = { 0 };
	struct ivsh_port_conf c = { .peer = 0, .timeout_ms = 150 };
	struct ivsh_port *port;
	struct timespec t0, t1;

	pair_path(&pr, "tmo");
	assert_int_equal(pair_open_dev(&pr, 1, "1M"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ivsh_port_open(&port, pr.dev[1], &c), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 140 && ms < 2000);
	assert_non_null(strstr(ivsh_port_last_error(), "timed out"));
	pair_close(&pr);
}

/* Master initialises; @p corrupt changes the header; peer 1 attaches. */
static int attach_after(void (*corrupt)(struct lay_hdr *), const char **err)
{
	struct pair pr = { 0 };
	struct ivsh_port_conf c = { .peer = 1, .timeout_ms = 100 };
	struct ivsh_port *port;
	int rc;

	pair_path(&pr, "hdr");
	assert_int_equal(pair_open_dev(&pr, 0, "1M"), 0);
	assert_int_equal(pair_open_dev(&pr, 1, "1M"), 0);
	assert_int_equal(ivsh_port_open(&pr.port[0], pr.dev[0], &c), 0);
	corrupt(lay_hdr(ivsh_dev_shm(pr.dev[0])));
	c.peer = 0;
	rc = ivsh_port_open(&port, pr.dev[1], &c);
	static char msg[256];
	snprintf(msg, sizeof(msg), "%s", ivsh_port_last_error());
	*err = msg;
	if (rc == 0)
		ivsh_port_close(port);
	pair_close(&pr);
	return rc;
}

static void no_change(struct lay_hdr *h) { (void)h; }
static void bad_magic(struct lay_hdr *h) { h->magic = 0x12345678; }
static void bad_version(struct lay_hdr *h) { h->version = 2; }
static void bad_ring(struct lay_hdr *h) { h->ring_size = 1000; }
static void bad_features(struct lay_hdr *h) { h->features = 4; }
static void bad_offset(struct lay_hdr *h) { h->channel_size += 4096; }
static void huge_layout(struct lay_hdr *h) { h->max_peers = 200; }
static void bad_state(struct lay_hdr *h) { atomic_store(&h->state, 7); }
static void initializing(struct lay_hdr *h) { atomic_store(&h->state, 1); }

static void test_header_checks(void **state)
{
	(void)state;
	const char *err;

	assert_int_equal(attach_after(no_change, &err), 0);
	assert_int_equal(attach_after(bad_magic, &err), -EPROTO);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(attach_after(bad_version, &err), -EPROTO);
	assert_non_null(strstr(err, "version"));
	assert_int_equal(attach_after(bad_ring, &err), -EPROTO);
	assert_non_null(strstr(err, "ring_size"));
	assert_int_equal(attach_after(bad_features, &err), -EPROTO);
	assert_int_equal(attach_after(bad_offset, &err), -EPROTO);
	assert_int_equal(attach_after(huge_layout, &err), -EPROTO);
	assert_int_equal(attach_after(bad_state, &err), -EPROTO);
	assert_int_equal(attach_after(initializing, &err), -ETIMEDOUT);
}

static void test_master_restart_and_reinit(void **state)
{
	(void)state;
	struct pair pr;
	struct ivsh_port_conf c = { .max_peers = 4, .ring_size = 64 };

	assert_int_equal(pair_open(&pr, "mre", "4M", &c), 0);
	pair_link(&pr);
	uint32_t epoch = ivsh_port_layout(pr.port[1])->epoch;
	/* Master restarts with the same parameters: layout kept. */
	ivsh_port_close(pr.port[0]);
	c.peer = 1;
	assert_int_equal(ivsh_port_open(&pr.port[0], pr.dev[0], &c), 0);
	assert_int_equal(ivsh_port_layout(pr.port[0])->epoch, epoch);
	pair_link(&pr);
	assert_int_equal(ivsh_port_link_status(pr.port[1]), 1);
	/* Different parameters: re-initialised; the old peer loses it. */
	ivsh_port_close(pr.port[0]);
	c.ring_size = 128;
	assert_int_equal(ivsh_port_open(&pr.port[0], pr.dev[0], &c), 0);
	assert_int_equal(ivsh_port_layout(pr.port[0])->epoch, epoch + 1);
	assert_int_equal(ivsh_port_link_update(pr.port[1]), 0);
	assert_int_equal(port_xstat(pr.port[1], "layout_lost"), 1);

	/* Inspection. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(ivsh_layout_describe(ivsh_dev_shm(pr.dev[0]),
					      ivsh_dev_shm_size(pr.dev[0]), f), 0);
	fclose(f);
	assert_non_null(strstr(text, "layout v1: state ready"));
	assert_non_null(strstr(text, "ring_size 128"));
	assert_non_null(strstr(text, "peer 0: up"));
	free(text);
	struct ivsh_layout_info li;
	assert_int_equal(ivsh_layout_read_info(ivsh_dev_shm(pr.dev[0]),
					       ivsh_dev_shm_size(pr.dev[0]),
					       &li, NULL), 0);
	assert_int_equal(li.p.max_peers, 4);
	assert_int_equal(li.state, IVSH_LAYOUT_READY);
	assert_int_equal(ivsh_layout_read_info(ivsh_dev_shm(pr.dev[0]), 100,
					       &li, NULL), -EINVAL);
	assert_int_equal(ivsh_layout_read_info(ivsh_dev_shm(pr.dev[0]), 8192,
					       &li, NULL), -EPROTO);
	pair_close(&pr);
}

static void test_id_out_of_range(void **state)
{
	(void)state;
	struct pair pr = { 0 };
	struct ivsh_port_conf c = { .peer = 0, .timeout_ms = 100 };
	struct ivsh_port *port;
	char name[256];
	struct ivsh_dev *dev3;

	pair_path(&pr, "id");
	assert_int_equal(pair_open_dev(&pr, 0, "4M"), 0);
	c.peer = 1;
	c.max_peers = 2;
	assert_int_equal(ivsh_port_open(&pr.port[0], pr.dev[0], &c), 0);
	snprintf(name, sizeof(name), "shm:%s,id=3", pr.path);
	assert_int_equal(ivsh_dev_open(&dev3, name, NULL), 0);
	c.peer = 0;
	assert_int_equal(ivsh_port_open(&port, dev3, &c), -EINVAL);
	assert_non_null(strstr(ivsh_port_last_error(), "max_peers"));
	ivsh_dev_close(dev3);
	pair_close(&pr);
}

/* A master re-initialising the header (alternating parameters) while a
 * reader copies it: the reader must see "being initialised" (-EAGAIN) or
 * one of the two whole headers, never a mix of the two (a mix reads as a
 * bogus -EPROTO, or as a third layout that nobody wrote). */
struct reinit {
	uint8_t *mem;
	uint64_t size;
	atomic_bool stop;
	atomic_ulong rounds;
};

static void *reinit_main(void *arg)
{
	struct reinit *r = arg;
	struct ivsh_layout_params p[2] = { { 2, 1, 16, 64 }, { 3, 2, 32, 128 } };
	struct ivsh_layout_info li;
	char err[200];

	for (unsigned long i = 0; !atomic_load(&r->stop); i++) {
		if (lay_master_init(r->mem, r->size, &p[i & 1], &li, err,
				    sizeof(err)) != 0)
			abort();
		atomic_store(&r->rounds, i + 1);
		/* Leave each header in place a moment (as a real master
		 * does), so a reader on a loaded machine can also win. */
		for (volatile int spin = 0; spin < 2000; spin++)
			;
	}
	return NULL;
}

static void test_read_info_during_reinit(void **state)
{
	(void)state;
	static struct reinit r;
	pthread_t t;
	struct ivsh_layout_info li;
	uint64_t ok = 0, again = 0;

	r.size = 1u << 20;
	r.mem = aligned_alloc(4096, r.size);
	assert_non_null(r.mem);
	memset(r.mem, 0, r.size);
	atomic_store(&r.stop, false);
	atomic_store(&r.rounds, 0);
	assert_int_equal(pthread_create(&t, NULL, reinit_main, &r), 0);
	struct timespec t0, tn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		const char *why = NULL;
		int rc = ivsh_layout_read_info(r.mem, r.size, &li, &why);

		if (rc == -EAGAIN) {
			again++;
		} else {
			if (rc != 0)
				fail_msg("read_info: %d (%s)", rc, why);
			ok++;
			bool a = li.p.max_peers == 2 && li.p.queues_per_link == 1 &&
				 li.p.ring_size == 16 && li.p.slot_size == 64;
			bool b = li.p.max_peers == 3 && li.p.queues_per_link == 2 &&
				 li.p.ring_size == 32 && li.p.slot_size == 128;
			assert_true(a || b);
		}
		clock_gettime(CLOCK_MONOTONIC, &tn);
	} while ((tn.tv_sec - t0.tv_sec) * 1000000000L +
		 (tn.tv_nsec - t0.tv_nsec) < (ok ? 200000000L : 5000000000L));
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	print_message("read_info: %llu valid, %llu busy, %lu re-inits\n",
		      (unsigned long long)ok, (unsigned long long)again,
		      (unsigned long)atomic_load(&r.rounds));
	assert_true(ok > 0);
	free(r.mem);
}

/* Deterministic version of the race above: a hardware watchpoint on the
 * header's peers_off traps the reader in the middle of its copy, and the
 * trap handler re-initialises the header with other parameters right
 * then. The reader must not take the mix for a layout (it used to read
 * the epoch only after the copy and reported a bogus -EPROTO). */
static struct {
	uint8_t *mem;
	uint64_t size;
	int hits;
} torn;

static void torn_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	struct ivsh_layout_params p = { 3, 2, 32, 128 };
	struct ivsh_layout_info li;
	char err[128];

	watch_disarm();
	if (torn.hits++ == 0)
		lay_master_init(torn.mem, torn.size, &p, &li, err, sizeof(err));
}

static void test_read_info_torn_header(void **state)
{
	(void)state;
	struct ivsh_layout_params p = { 2, 1, 16, 64 };
	struct ivsh_layout_info li;
	struct watch w;
	char err[128];
	const char *why = NULL;

	torn.size = 1u << 20;
	torn.mem = aligned_alloc(4096, torn.size);
	assert_non_null(torn.mem);
	memset(torn.mem, 0, torn.size);
	assert_int_equal(lay_master_init(torn.mem, torn.size, &p, &li, err,
					 sizeof(err)), 0);
	torn.hits = 0;
	int rc = watch_arm(&w, &lay_hdr(torn.mem)->peers_off, 8, torn_trap);
	if (rc < 0) {
		print_message("skip: no hardware watchpoint (perf_event_open: %s)\n",
			      strerror(-rc));
		free(torn.mem);
		skip();
	}
	rc = ivsh_layout_read_info(torn.mem, torn.size, &li, &why);
	watch_close(&w);
	if (torn.hits == 0) {
		free(torn.mem);
		print_message("skip: the watchpoint did not fire\n");
		skip();
	}
	/* Re-initialised under our feet: "wait and retry", then the new one. */
	if (rc != -EAGAIN)
		fail_msg("read_info during a re-init: %d (%s)", rc,
			 why ? why : "accepted");
	assert_int_equal(ivsh_layout_read_info(torn.mem, torn.size, &li, NULL), 0);
	assert_int_equal(li.p.max_peers, 3);
	assert_int_equal(li.p.slot_size, 128);
	free(torn.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_master_timeout),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_master_restart_and_reinit),
		cmocka_unit_test(test_id_out_of_range),
		cmocka_unit_test(test_read_info_during_reinit),
		cmocka_unit_test(test_read_info_torn_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
