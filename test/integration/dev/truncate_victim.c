/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Victims for test_shm_truncate.py: programs using the device API whose
 * shared memory is truncated under them.
 *
 *   touch DEV            read every page until ivsh_dev_shm_lost(); says
 *                        "ready" first (the test then truncates the file);
 *                        exit 3 when the loss is seen and the memory reads
 *                        zeros, 2 if not within 10 s
 *   own-handler DEV FILE with a SIGBUS handler of its own installed first:
 *                        a fault in its own truncated mapping of FILE must
 *                        reach that handler; a fault in the device's
 *                        truncated memory must not (the guard takes it);
 *                        exit 0 if so
 *   late-chain DEV       a handler installed after the open chains to the
 *                        guard the way DPDK's EAL does (one argument, no
 *                        siginfo); a fault in the truncated device memory
 *                        must still be caught; exit 0 if so
 *   threads DEV          four threads read and write every page while
 *                        the file is truncated under them: all of them
 *                        fault at about the same time, each must come out
 *                        reading zeros; exit 0 if so
 *   late-threads DEV     the same with the late one-argument chain above
 *   sealed DEV           on sealed memory (ivsh-server --memfd) no
 *                        SIGBUS handler is installed; exit 0 if so
 *   unguarded DEV FILE   no handler of its own: a fault in its own
 *                        truncated mapping of FILE must still kill it with
 *                        SIGBUS although the guard is installed
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ivsh_dev.h"

#define OWN_SIZE 65536

static sigjmp_buf own_jump;
static volatile sig_atomic_t own_faults;

static void own_handler(int sig)
{
	(void)sig;
	own_faults++;
	siglongjmp(own_jump, 1);
}

static struct ivsh_dev *open_dev(const char *name)
{
	struct ivsh_dev *dev;
	int rc = ivsh_dev_open(&dev, name, NULL);

	if (rc < 0) {
		fprintf(stderr, "victim: cannot open %s: %s\n", name,
			ivsh_dev_last_error());
		exit(1);
	}
	return dev;
}

/* Truncate the file behind device @p name (shm:PATH) to 0; exit 1 if not. */
static void truncate_device(const char *name)
{
	if (truncate(strchr(name, ':') + 1, 0) < 0) {
		perror("victim: truncate device file");
		exit(1);
	}
}

static volatile uint8_t *map_own(const char *path, int *fdp)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, OWN_SIZE) < 0) {
		perror("victim: own file");
		exit(1);
	}
	p = mmap(NULL, OWN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("victim: mmap own file");
		exit(1);
	}
	*fdp = fd;
	return p;
}

static uint64_t read_all(struct ivsh_dev *dev)
{
	volatile uint8_t *m = ivsh_dev_shm(dev);
	uint64_t sum = 0;

	for (uint64_t off = 0; off < ivsh_dev_shm_size(dev); off += 4096)
		sum += m[off];
	return sum;
}

static int touch(const char *name)
{
	struct ivsh_dev *dev = open_dev(name);
	struct timespec ms = { 0, 1000000 };
	volatile uint8_t *m = ivsh_dev_shm(dev);

	for (uint64_t off = 0; off < ivsh_dev_shm_size(dev); off += 4096)
		m[off] = 0xa5;
	fprintf(stderr, "ready\n");
	for (int i = 0; i < 10000; i++) {
		uint64_t sum = read_all(dev);

		if (ivsh_dev_shm_lost(dev)) {
			sum = read_all(dev);
			if (sum != 0 || ivsh_dev_check_shm(dev) != -ENODEV) {
				fprintf(stderr, "victim: lost, but the memory reads %llu\n",
					(unsigned long long)sum);
				return 1;
			}
			fprintf(stderr, "victim: shared memory truncated by another process\n");
			ivsh_dev_close(dev);
			return 3;
		}
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "victim: loss not reported within 10 s\n");
	return 2;
}

static int own_handler_case(const char *name, const char *path)
{
	struct sigaction sa;
	struct ivsh_dev *dev;
	volatile uint8_t *own, *m;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = own_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	dev = open_dev(name);
	own = map_own(path, &fd);
	own[0] = 1;
	if (ftruncate(fd, 0) < 0) {
		perror("victim: truncate own file");
		return 1;
	}
	if (sigsetjmp(own_jump, 1) == 0)
		(void)own[100];
	if (own_faults != 1) {
		fprintf(stderr, "victim: own handler saw %d faults, expected 1\n",
			(int)own_faults);
		return 1;
	}
	/* The device's file, truncated behind the guard's back. */
	m = ivsh_dev_shm(dev);
	truncate_device(name);
	if (sigsetjmp(own_jump, 1) == 0)
		m[ivsh_dev_shm_size(dev) - 1] = 7;
	if (own_faults != 1 || !ivsh_dev_shm_lost(dev)) {
		fprintf(stderr, "victim: device fault went to the own handler (%d) or was not seen (lost %d)\n",
			(int)own_faults, ivsh_dev_shm_lost(dev));
		return 1;
	}
	fprintf(stderr, "victim: own fault to own handler, device fault guarded\n");
	ivsh_dev_close(dev);
	return 0;
}

static int unguarded(const char *name, const char *path)
{
	struct ivsh_dev *dev = open_dev(name);
	volatile uint8_t *own;
	int fd;

	own = map_own(path, &fd);
	if (ftruncate(fd, 0) < 0) {
		perror("victim: truncate own file");
		return 1;
	}
	(void)own[100]; /* must die here of SIGBUS */
	fprintf(stderr, "victim: survived a fault outside the guard\n");
	ivsh_dev_close(dev);
	return 1;
}

static struct sigaction late_old;
static volatile sig_atomic_t late_calls;

/* Like DPDK's EAL: chain with siginfo only when the previous flags are
 * exactly SA_SIGINFO, else as a one-argument handler. */
static void late_handler(int sig, siginfo_t *info, void *ctx)
{
	late_calls++;
	if (late_old.sa_flags == SA_SIGINFO && late_old.sa_sigaction)
		late_old.sa_sigaction(sig, info, ctx);
	else if (late_old.sa_flags != SA_SIGINFO && late_old.sa_handler)
		late_old.sa_handler(sig);
}

static int late_chain(const char *name)
{
	struct ivsh_dev *dev = open_dev(name);
	volatile uint8_t *m = ivsh_dev_shm(dev);
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = late_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &late_old);
	truncate_device(name);
	m[ivsh_dev_shm_size(dev) / 2] = 9;
	if (late_calls != 1 || !ivsh_dev_shm_lost(dev) ||
	    m[ivsh_dev_shm_size(dev) / 2] != 9) {
		fprintf(stderr, "victim: late handler called %d times, lost %d\n",
			(int)late_calls, ivsh_dev_shm_lost(dev));
		return 1;
	}
	fprintf(stderr, "victim: fault caught through a late one-argument chain\n");
	ivsh_dev_close(dev);
	return 0;
}

struct toucher {
	struct ivsh_dev *dev;
	pthread_barrier_t *start;
	uint64_t rounds_after;  /* full passes once the loss was seen */
};

static void *toucher_run(void *arg)
{
	struct toucher *t = arg;
	volatile uint8_t *m = ivsh_dev_shm(t->dev);
	uint64_t size = ivsh_dev_shm_size(t->dev);

	pthread_barrier_wait(t->start);
	while (t->rounds_after < 3) {
		bool lost = ivsh_dev_shm_lost(t->dev);

		for (uint64_t off = 0; off < size; off += 4096)
			m[off] = (uint8_t)(m[off] + 1);
		if (lost)
			t->rounds_after++;
	}
	return NULL;
}

static int threads(const char *name, bool late)
{
	struct ivsh_dev *dev = open_dev(name);
	struct toucher t[4];
	pthread_t tid[4];
	pthread_barrier_t start;
	struct timespec ms = { 0, 20000000 };

	if (late) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = late_handler;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &late_old);
	}
	pthread_barrier_init(&start, NULL, 5);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct toucher){ .dev = dev, .start = &start };
		pthread_create(&tid[i], NULL, toucher_run, &t[i]);
	}
	pthread_barrier_wait(&start);
	nanosleep(&ms, NULL);
	truncate_device(name);
	for (int i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	if (!ivsh_dev_shm_lost(dev) || ivsh_dev_check_shm(dev) != -ENODEV) {
		fprintf(stderr, "victim: loss not reported\n");
		return 1;
	}
	fprintf(stderr, "victim: four threads through the loss\n");
	ivsh_dev_close(dev);
	return 0;
}

static int sealed(const char *name)
{
	struct ivsh_dev *dev = open_dev(name);
	struct sigaction now;

	sigaction(SIGBUS, NULL, &now);
	if ((now.sa_flags & SA_SIGINFO) || now.sa_handler != SIG_DFL ||
	    ivsh_dev_check_shm(dev) != 0) {
		fprintf(stderr, "victim: sealed memory got a SIGBUS guard\n");
		return 1;
	}
	fprintf(stderr, "victim: sealed memory, no guard\n");
	ivsh_dev_close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "late-chain") == 0)
		return late_chain(argv[2]);
	if (argc == 3 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "late-threads") == 0)
		return threads(argv[2], true);
	if (argc == 3 && strcmp(argv[1], "sealed") == 0)
		return sealed(argv[2]);
	if (argc == 3 && strcmp(argv[1], "touch") == 0)
		return touch(argv[2]);
	if (argc == 4 && strcmp(argv[1], "own-handler") == 0)
		return own_handler_case(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "unguarded") == 0)
		return unguarded(argv[2], argv[3]);
	fprintf(stderr, "usage: truncate_victim touch|own-handler|late-chain|threads|late-threads|sealed|unguarded DEV [FILE]\n");
	return 1;
}
