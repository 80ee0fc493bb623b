/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Re-attach as a restart: the layout identity the master writes once,
 * kept across a master restart; a port that asks for an identity gets
 * -ESTALE on another region (and leaves it alone, even as the master)
 * and a new epoch with its channels reset on the right one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "port_fixture.h"

static void identity_written_once(void **state)
{
	struct pair pr;
	uint64_t id;

	(void)state;
	assert_int_equal(pair_open(&pr, "ident", "4M", NULL), 0);
	id = ivsh_port_layout(pr.port[0])->identity;
	assert_true(id != 0);
	assert_true(ivsh_port_layout(pr.port[1])->identity == id);
	/* The master restarts with the same parameters: same identity. */
	ivsh_port_close(pr.port[0]);
	pr.port[0] = NULL;
	struct ivsh_port_conf c = { .peer = 1 };
	assert_int_equal(ivsh_port_open(&pr.port[0], pr.dev[0], &c), 0);
	assert_true(ivsh_port_layout(pr.port[0])->identity == id);
	pair_close(&pr);
}

static void reattach_checks_identity(void **state)
{
	struct pair pr, other;
	struct ivsh_port *p = NULL;
	uint64_t id, epoch_before;
	uint8_t hdr[256];

	(void)state;
	assert_int_equal(pair_open(&pr, "reat", "4M", NULL), 0);
	assert_int_equal(pair_open(&other, "reat-o", "4M", NULL), 0);
	pair_link(&pr);
	assert_int_equal(ivsh_port_link_status(pr.port[0]), 1);
	id = ivsh_port_layout(pr.port[1])->identity;
	assert_true(ivsh_port_layout(other.port[1])->identity != id);

	/* Peer 1 goes (unplug) and comes back on the wrong region. */
	ivsh_port_close(pr.port[1]);
	pr.port[1] = NULL;
	ivsh_port_close(other.port[1]);
	other.port[1] = NULL;
	struct ivsh_port_conf c = { .peer = 0, .identity = id,
				    .timeout_ms = 100 };
	assert_int_equal(ivsh_port_open(&p, other.dev[1], &c), -ESTALE);
	assert_non_null(strstr(ivsh_port_last_error(), "identity"));

	/* The master, too, refuses instead of re-initialising. */
	ivsh_port_close(other.port[0]);
	other.port[0] = NULL;
	memcpy(hdr, ivsh_dev_shm(other.dev[0]), sizeof(hdr));
	c.peer = 1;
	assert_int_equal(ivsh_port_open(&p, other.dev[0], &c), -ESTALE);
	assert_memory_equal(hdr, ivsh_dev_shm(other.dev[0]), sizeof(hdr));

	/* The right region: a restart, the link comes back. */
	epoch_before = ivsh_port_layout(pr.port[0])->epoch;
	c.peer = 0;
	assert_int_equal(ivsh_port_open(&pr.port[1], pr.dev[1], &c), 0);
	assert_true(ivsh_port_layout(pr.port[1])->epoch == epoch_before);
	pair_link(&pr);
	assert_int_equal(ivsh_port_link_status(pr.port[0]), 1);
	assert_int_equal(ivsh_port_link_status(pr.port[1]), 1);
	pair_close(&pr);
	pair_close(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity_written_once),
		cmocka_unit_test(reattach_checks_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
