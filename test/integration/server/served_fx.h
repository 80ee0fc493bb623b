/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tc_fx server run by a thread of the test (ivsh_server_process() in a
 * loop), for the integration tests that talk to it from other threads or
 * child processes.
 */
#ifndef IVSH_TEST_SERVED_FX_H
#define IVSH_TEST_SERVED_FX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tclient.h"

struct served_fx {
	struct tc_fx base;
	pthread_t thread;
	atomic_int stop;
	bool running;
};

static void *served_fx_serve(void *arg)
{
	struct served_fx *f = arg;

	while (!atomic_load(&f->stop))
		(void)ivsh_server_process(f->base.srv, 20);
	return NULL;
}

/* cmocka setup: tc_fx_setup()'s fixture, the server not yet created. */
static inline int served_fx_setup(void **state)
{
	struct served_fx *f = calloc(1, sizeof(*f));
	void *inner;

	assert_non_null(f);
	assert_int_equal(tc_fx_setup(&inner), 0);
	f->base = *(struct tc_fx *)inner;
	f->base.conf.socket_path = f->base.path;
	free(inner);
	*state = f;
	return 0;
}

/* Create the server from f->base.conf and start its thread. */
static inline void served_fx_start(struct served_fx *f)
{
	tc_fx_start(&f->base);
	assert_int_equal(pthread_create(&f->thread, NULL, served_fx_serve, f),
			 0);
	f->running = true;
}

/* Stop the thread if it runs (the server stays until teardown). */
static inline void served_fx_stop(struct served_fx *f)
{
	if (f->running) {
		atomic_store(&f->stop, 1);
		pthread_join(f->thread, NULL);
		f->running = false;
	}
}

/* cmocka teardown: stop the thread, then tc_fx_teardown() (which fails
 * the test on a leaked fd). */
static inline int served_fx_teardown(void **state)
{
	struct served_fx *f = *state;
	struct tc_fx *inner = malloc(sizeof(*inner));

	served_fx_stop(f);
	*inner = f->base;
	free(f);
	return tc_fx_teardown((void **)&inner);
}

#endif /* IVSH_TEST_SERVED_FX_H */
