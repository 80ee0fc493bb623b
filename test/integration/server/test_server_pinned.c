/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pinned IDs (ivsh_server_pin_id(), ivsh-server --id-socket): a client on
 * an ID's own socket gets exactly that ID, is refused while it is held,
 * gets it back once it is free; the main socket skips pinned IDs; the
 * safe ID policy still holds back an ID a connected client saw leave;
 * and the ivsh-server command line pins and refuses as documented.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

static const char *server_exe;

static void pin_path(const struct tc_fx *f, unsigned int id, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/id%u.sock", f->dir, id);
}

static void pin(struct tc_fx *f, unsigned int id)
{
	char path[300], err[256] = "";

	pin_path(f, id, path, sizeof(path));
	if (ivsh_server_pin_id(f->srv, id, path, err, sizeof(err)) != 0)
		fail_msg("pin %u: %s", id, err);
}

static struct tclient *on_pin(struct tc_fx *f, unsigned int id)
{
	char path[300];
	struct tclient *c;

	pin_path(f, id, path, sizeof(path));
	c = tc_connect(path);
	assert_non_null(c);
	return c;
}

static void pinned_ids_are_exact(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[6] = { 0 };
	struct ivsh_server_stats st;

	tc_fx_start(f);
	pin(f, 0);
	pin(f, 2);
	/* The main socket skips 0 and 2, even as the first client. */
	c[0] = tc_connect(f->path);
	tc_pump(f->srv, c, 1);
	assert_int_equal(c[0]->id, 1);
	c[1] = on_pin(f, 0);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[1]->id, 0);
	c[2] = tc_connect(f->path);
	tc_pump(f->srv, c, 3);
	assert_int_equal(c[2]->id, 3);
	c[3] = on_pin(f, 2);
	tc_pump(f->srv, c, 4);
	assert_int_equal(c[3]->id, 2);
	/* Held: a second client on ID 2's socket is refused. */
	c[4] = on_pin(f, 2);
	tc_pump(f->srv, c, 5);
	assert_true(c[4]->eof);
	assert_int_equal(c[4]->id, -1);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_pinned, 1);
	assert_int_equal(st.connects, 4);
	/* Free again: the same ID comes back (lowest policy). */
	tc_close(c[3]);
	tc_close(c[4]);
	c[3] = c[4] = NULL;
	tc_pump(f->srv, c, 3);
	c[3] = on_pin(f, 2);
	tc_pump(f->srv, c, 4);
	assert_int_equal(c[3]->id, 2);
	/* Everyone else heard of ID 2 leaving and coming back. */
	assert_int_equal(c[1]->peer_gone_events[2], 1);
	assert_int_equal(c[1]->peer_vec_events[2], 2);
	for (int i = 0; i < 6; i++)
		tc_close(c[i]);
}

static void safe_ids_hold_a_pinned_id_back(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[3] = { 0 };
	struct ivsh_server_stats st;

	f->conf.id_policy = IVSH_SERVER_IDS_SAFE;
	tc_fx_start(f);
	pin(f, 1);
	c[0] = tc_connect(f->path);    /* ID 0: the master */
	c[1] = on_pin(f, 1);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[0]->id, 0);
	assert_int_equal(c[1]->id, 1);
	tc_close(c[1]);
	c[1] = NULL;
	tc_pump(f->srv, c, 1);
	/* ID 0 saw ID 1 leave: QEMU 7.2 would reuse freed memory. */
	c[1] = on_pin(f, 1);
	tc_pump(f->srv, c, 2);
	assert_true(c[1]->eof);
	assert_int_equal(c[1]->id, -1);
	ivsh_server_get_stats(f->srv, &st);
	assert_int_equal(st.rejected_pinned, 1);
	assert_true(tc_log_has("saw the ID leave"));
	/* Once the witness is gone (a fresh destination, say), it is free. */
	tc_close(c[0]);
	tc_close(c[1]);
	c[0] = c[1] = NULL;
	tc_pump(f->srv, c, 0);
	c[1] = on_pin(f, 1);
	tc_pump(f->srv, c, 2);
	assert_int_equal(c[1]->id, 1);
	tc_close(c[1]);
}

static void pin_errors(void **state)
{
	struct tc_fx *f = *state;
	struct tclient *c[1] = { 0 };
	char path[300], err[256];
	int fd;

	f->conf.max_clients = 4;
	tc_fx_start(f);
	c[0] = tc_connect(f->path);
	tc_pump(f->srv, c, 1);
	assert_int_equal(c[0]->id, 0);
	pin_path(f, 0, path, sizeof(path));
	assert_int_equal(ivsh_server_pin_id(f->srv, 0, path, err, sizeof(err)),
			 -EBUSY);
	pin_path(f, 4, path, sizeof(path));
	assert_int_equal(ivsh_server_pin_id(f->srv, 4, path, err, sizeof(err)),
			 -EINVAL);
	pin(f, 3);
	pin_path(f, 3, path, sizeof(path));
	assert_int_equal(ivsh_server_pin_id(f->srv, 3, path, err, sizeof(err)),
			 -EEXIST);
	/* Another server's live socket, and a plain file, are left alone. */
	assert_int_equal(ivsh_server_pin_id(f->srv, 2, f->path, err,
					    sizeof(err)), -EADDRINUSE);
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ivsh_server_pin_id(f->srv, 2, path, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	unlink(path);
	tc_close(c[0]);
}

/* The program: --id-socket 0=PATH gives ID 0 there, 1 on the main one. */
static void cli_id_socket(void **state)
{
	struct tc_fx *f = *state;
	char arg[320], pin0[300];
	struct tclient *c[2] = { 0 };
	pid_t pid;
	int status;

	if (!server_exe)
		skip();
	pin_path(f, 0, pin0, sizeof(pin0));
	snprintf(arg, sizeof(arg), "0=%s", pin0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);
		execl(server_exe, server_exe, "-F", "-S", f->path, "-l", "64k",
		      "--id-socket", arg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(pin0, F_OK) != 0; i++)
		usleep(25000);
	c[0] = tc_connect(f->path);
	assert_non_null(c[0]);
	c[1] = tc_connect(pin0);
	assert_non_null(c[1]);
	for (int i = 0; i < 200 && (c[0]->id < 0 || c[1]->id < 0); i++) {
		tc_read(c[0]);
		tc_read(c[1]);
		usleep(10000);
	}
	assert_int_equal(c[0]->id, 1);
	assert_int_equal(c[1]->id, 0);
	tc_close(c[0]);
	tc_close(c[1]);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Its sockets are removed on exit. */
	assert_int_not_equal(access(pin0, F_OK), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pinned_ids_are_exact,
						tc_fx_setup, tc_fx_teardown),
		cmocka_unit_test_setup_teardown(safe_ids_hold_a_pinned_id_back,
						tc_fx_setup, tc_fx_teardown),
		cmocka_unit_test_setup_teardown(pin_errors, tc_fx_setup,
						tc_fx_teardown),
		cmocka_unit_test_setup_teardown(cli_id_socket, tc_fx_setup,
						tc_fx_teardown),
	};

	server_exe = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
