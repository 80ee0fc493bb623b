/* SPDX-License-Identifier: BSD-3-Clause */
/* Finding and starting QEMU for the server tests (see qemu_proc.h). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu_proc.h"

bool tq_find_qemu(char *bin, size_t len)
{
	const char *env = getenv("QEMU");
	char *path, *save = NULL, *d;

	if (env && *env) {
		snprintf(bin, len, "%s", env);
		return access(bin, X_OK) == 0;
	}
	path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	if (!path)
		return false;
	for (d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(bin, len, "%s/qemu-system-x86_64", d);
		if (access(bin, X_OK) == 0) {
			free(path);
			return true;
		}
	}
	free(path);
	return false;
}

pid_t tq_spawn(const char *bin, const char *sock, unsigned int vectors,
	       bool monitor, int *in, int *out)
{
	char chardev[400], device[80];
	int pin[2] = { -1, -1 }, pout[2];
	pid_t pid;

	snprintf(chardev, sizeof(chardev), "socket,path=%s,id=iv", sock);
	snprintf(device, sizeof(device), "ivshmem-doorbell,chardev=iv,vectors=%u",
		 vectors);
	if (monitor)
		assert_int_equal(pipe2(pin, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pout, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int stdin_fd = monitor ? pin[0] : open("/dev/null", O_RDONLY);

		if (stdin_fd >= 0)
			dup2(stdin_fd, STDIN_FILENO);
		dup2(pout[1], STDOUT_FILENO);
		dup2(pout[1], STDERR_FILENO);
		execl(bin, bin, "-accel", "tcg", "-M", "q35",
		      "-display", "none", "-nodefaults", "-m", "256",
		      "-chardev", chardev, "-device", device,
		      "-monitor", monitor ? "stdio" : "none",
		      "-serial", "none", (char *)NULL);
		_exit(127);
	}
	if (monitor)
		close(pin[0]);
	close(pout[1]);
	*in = pin[1];
	*out = pout[0];
	fcntl(*out, F_SETFL, O_NONBLOCK);
	return pid;
}
