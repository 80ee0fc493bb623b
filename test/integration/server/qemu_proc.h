/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Real QEMU for the server tests: find the binary and start a machine
 * with one ivshmem-doorbell device and no guest (none is needed for the
 * device to connect to the server and get its ID).
 */
#ifndef IVSH_TEST_QEMU_PROC_H
#define IVSH_TEST_QEMU_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** qemu-system-x86_64 from $QEMU, else from $PATH; false if none. */
bool tq_find_qemu(char *bin, size_t len);

/**
 * Start @p bin with an ivshmem-doorbell device of @p vectors vectors
 * connected to the server socket @p sock. With @p monitor, the human
 * monitor reads *in; else stdin is /dev/null and *in is -1. QEMU's
 * stdout and stderr come out of *out, non-blocking. Fails the test if
 * the process cannot be started.
 * @return the child's pid.
 */
pid_t tq_spawn(const char *bin, const char *sock, unsigned int vectors,
	       bool monitor, int *in, int *out);

#endif /* IVSH_TEST_QEMU_PROC_H */
