/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-info --layout on a region that two real ports attached to: the
 * tool must find the layout the master wrote and report its parameters,
 * and must say so plainly when a region holds no layout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"

static const char *info_bin;
static char shm_path[64];

/* Run ivsh-info with @args, capture stdout; @return its exit status. */
static int run_info(const char *const *args, char *out, size_t outlen)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;
	int status;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(info_bin, (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < outlen && (n = read(p[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_layout_of_live_ports(void **state)
{
	struct ivsh_port_conf c0 = { .peer = 1, .ring_size = 256, .slot_size = 1024 };
	struct ivsh_port_conf c1 = { .peer = 0 };
	struct ivsh_dev *d0, *d1;
	struct ivsh_port *p0, *p1;
	char name[96], out[8192];
	const char *json_args[] = { info_bin, "--json", "--layout", name, NULL };
	const char *text_args[] = { info_bin, "--layout", name, NULL };

	(void)state;
	snprintf(name, sizeof(name), "shm:%s,size=1M,id=0", shm_path);
	assert_int_equal(ivsh_dev_open(&d0, name, NULL), 0);
	snprintf(name, sizeof(name), "shm:%s,id=1", shm_path);
	assert_int_equal(ivsh_dev_open(&d1, name, NULL), 0);
	assert_int_equal(ivsh_port_open(&p0, d0, &c0), 0);
	assert_int_equal(ivsh_port_open(&p1, d1, &c1), 0);

	snprintf(name, sizeof(name), "shm:%s", shm_path);
	assert_int_equal(run_info(json_args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"status\": \"ready\""));
	assert_non_null(strstr(out, "\"ring_size\": 256"));
	assert_non_null(strstr(out, "\"slot_size\": 1024"));
	assert_non_null(strstr(out, "\"channels\": 2"));

	assert_int_equal(run_info(text_args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "state ready"));
	assert_non_null(strstr(out, "channel 0->1"));
	assert_non_null(strstr(out, "channel 1->0"));

	ivsh_port_close(p1);
	ivsh_port_close(p0);
	ivsh_dev_close(d1);
	ivsh_dev_close(d0);
}

static void test_region_without_layout(void **state)
{
	char name[96], out[4096];
	const char *args[] = { info_bin, "--json", "--layout", name, NULL };

	(void)state;
	unlink(shm_path);
	snprintf(name, sizeof(name), "shm:%s,size=64k", shm_path);
	assert_int_equal(run_info(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"status\": \"not initialised\""));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_of_live_ports),
		cmocka_unit_test(test_region_without_layout),
	};
	int rc;

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		fprintf(stderr, "usage: %s IVSH-INFO (built program not found)\n", argv[0]);
		return 77;
	}
	info_bin = argv[1];
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/ivsh-info-layout-%d", (int)getpid());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(shm_path);
	return rc;
}
