/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for integration tests that run real processes: an ivsh-server
 * child, worker children (forked functions or programs), unique names, a
 * watchdog, and cleanup of every child on any exit.
 */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/** Skip exit status understood by meson. */
#define IT_SKIP 77

/** Fail the whole test with a message (children are killed). */
#define IT_FAIL(...) it_fail(__FILE__, __LINE__, __VA_ARGS__)
#define IT_CHECK(cond, ...)                                                \
	do {                                                               \
		if (!(cond))                                               \
			IT_FAIL(__VA_ARGS__);                              \
	} while (0)

void it_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/**
 * Start a test: name it (for unique paths), arm a watchdog of
 * @p timeout_s seconds, and register the cleanup. Skips (exit 77) when
 * @p server_bin is given but not executable.
 */
void it_init(const char *name, int timeout_s, const char *server_bin);

/** A unique path: /tmp/ivsh-it-NAME-PID-WHAT (static storage per call). */
const char *it_path(const char *what);

/** Remove @p path (copied) when the test ends, however it ends. */
void it_track(const char *path);

/** Start ivsh-server -F -S @p sock -l @p size -n @p vectors and wait for
 *  its socket. @return the server's pid. */
pid_t it_start_server(const char *server_bin, const char *sock,
		      const char *size, int vectors);

/** The same with one more option, "--name" or "--name=value" (NULL: none). */
pid_t it_start_server_opts(const char *server_bin, const char *sock,
			   const char *size, int vectors, const char *opt);

/** Fork a child that runs @p fn(@p arg) and exits with its return value. */
pid_t it_fork(int (*fn)(void *arg), void *arg);

/** Fork+exec a program; stdout (and stderr if @p err_fd) go to pipes
 *  whose read ends are returned in @p out_fd / @p err_fd (NULL: inherit). */
pid_t it_spawn(char *const argv[], int *out_fd, int *err_fd);

/**
 * Wait for a child to exit within @p timeout_ms.
 * @return its wait status; -1 on timeout (the child is left running).
 */
int it_wait(pid_t pid, int timeout_ms);

/** Kill a child with @p sig and reap it (forgets it). */
void it_kill(pid_t pid, int sig);

/** Describe a wait status ("exit 0", "signal 11") for messages. */
const char *it_status_str(int status);

/** True if @p status is a normal exit with code 0. */
bool it_ok(int status);

/** Read everything from @p fd into a malloc'd NUL-terminated string. */
char *it_read_all(int fd, int timeout_ms);

/**
 * Read lines from @p fd until one contains @p needle (the line is copied
 * to @p line). @return 0 found; -1 EOF or timeout.
 */
int it_wait_line(int fd, const char *needle, char *line, size_t len,
		 int timeout_ms);

/** Milliseconds of CLOCK_MONOTONIC. */
uint64_t it_now_ms(void);

/** Sleep @p ms milliseconds. */
void it_sleep_ms(unsigned int ms);

/** Pin the calling process to CPU (@p n % online CPUs). */
void it_pin(unsigned int n);

#endif /* IT_HARNESS_H */
