/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port micro-benchmark: txonly -> rxonly between two pinned threads, each
 * with its own shm: device on one file (peers 0 and 1).
 *
 *   bench_port [-s FRAME_BYTES] [-t SECONDS] [-b BURST] [-z] [-r RING] [-S SLOT]
 *   -z  zero-copy calls instead of the copying bursts
 *   -r, -S  layout ring size and slot size (default: the port defaults)
 *   -p  two processes (fork) instead of two threads
 *   -1  one thread alternating tx and rx bursts: CPU cost per frame of
 *       the code path alone (no cross-core traffic; robust on a busy
 *       machine since it counts the thread's own CPU time)
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ivsh_dev.h"
#include "ivsh_port.h"
#include "test_cpu.h"

struct bench {
	struct ivsh_port *port[2];
	uint32_t frame;
	uint16_t burst;
	bool zc;
	bool single;
	bool procs;
	double seconds;
	atomic_bool stop;
	pthread_barrier_t go;
	_Atomic uint64_t rx;
	uint64_t tx, bad;
};

static void *tx_main(void *arg)
{
	struct bench *b = arg;
	struct ivsh_pkt pk[256];
	static uint8_t buf[256][9216] __attribute__((aligned(64)));
	uint64_t seq = 0;

	test_pin_self(0);
	for (int i = 0; i < b->burst; i++) {
		memset(buf[i], 0x5a, b->frame);
		pk[i] = (struct ivsh_pkt){ buf[i], b->frame };
	}
	pthread_barrier_wait(&b->go);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		if (b->zc) {
			struct ivsh_seg s[256];
			uint16_t n = ivsh_port_tx_zc_reserve(b->port[0], 0, s, b->burst);
			for (uint16_t i = 0; i < n; i++) {
				memcpy(s[i].data, &seq, 8);
				s[i].len = b->frame;
				seq++;
			}
			ivsh_port_tx_zc_commit(b->port[0], 0, s, n);
			b->tx += n;
			continue;
		}
		for (int i = 0; i < b->burst; i++)
			memcpy(buf[i], &(uint64_t){ seq + (uint64_t)i }, 8);
		uint16_t n = ivsh_port_tx_burst(b->port[0], 0, pk, b->burst);
		seq += n;
		b->tx += n;
	}
	return NULL;
}

static void *rx_main(void *arg)
{
	struct bench *b = arg;
	struct ivsh_pkt pk[256];
	static uint8_t buf[256][9216] __attribute__((aligned(64)));
	uint64_t seq = 0;

	test_pin_self(1);
	pthread_barrier_wait(&b->go);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		if (b->zc) {
			struct ivsh_seg s[256];
			uint16_t n = ivsh_port_rx_zc_peek(b->port[1], 0, s, b->burst);
			for (uint16_t i = 0; i < n; i++) {
				uint64_t v;
				memcpy(&v, s[i].data, 8);
				b->bad += v != seq++;
			}
			ivsh_port_rx_zc_release(b->port[1], 0, n);
			atomic_store_explicit(&b->rx, b->rx + n, memory_order_relaxed);
			continue;
		}
		for (int i = 0; i < b->burst; i++)
			pk[i] = (struct ivsh_pkt){ buf[i], sizeof(buf[i]) };
		uint16_t n = ivsh_port_rx_burst(b->port[1], 0, pk, b->burst);
		for (uint16_t i = 0; i < n; i++) {
			uint64_t v;
			memcpy(&v, buf[i], 8);
			b->bad += v != seq++;
		}
		atomic_store_explicit(&b->rx, b->rx + n, memory_order_relaxed);
	}
	return NULL;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int single_thread(struct bench *b, struct ivsh_dev **dev)
{
	static uint8_t tbuf[256][9216] __attribute__((aligned(64)));
	static uint8_t rbuf[256][9216] __attribute__((aligned(64)));
	struct ivsh_pkt tp[256], rp[256];
	uint64_t n = 0, bad = 0, seq = 0, rseq = 0;
	double t0 = thread_cpu_s(), t1;

	test_pin_self(0);
	for (int i = 0; i < b->burst; i++) {
		memset(tbuf[i], 0x5a, b->frame);
		tp[i] = (struct ivsh_pkt){ tbuf[i], b->frame };
	}
	do {
		for (int k = 0; k < 1000 && b->zc; k++) {
			struct ivsh_seg sg[256];
			uint16_t m = ivsh_port_tx_zc_reserve(b->port[0], 0, sg, b->burst);
			for (uint16_t i = 0; i < m; i++) {
				memcpy(sg[i].data, &seq, 8);
				sg[i].len = b->frame;
				seq++;
			}
			ivsh_port_tx_zc_commit(b->port[0], 0, sg, m);
			m = ivsh_port_rx_zc_peek(b->port[1], 0, sg, b->burst);
			for (uint16_t i = 0; i < m; i++) {
				uint64_t v;
				memcpy(&v, sg[i].data, 8);
				bad += v != rseq++;
			}
			ivsh_port_rx_zc_release(b->port[1], 0, m);
			n += m;
		}
		for (int k = 0; k < 1000 && !b->zc; k++) {
			for (int i = 0; i < b->burst; i++)
				memcpy(tbuf[i], &(uint64_t){ seq + (uint64_t)i }, 8);
			seq += ivsh_port_tx_burst(b->port[0], 0, tp, b->burst);
			for (int i = 0; i < b->burst; i++)
				rp[i] = (struct ivsh_pkt){ rbuf[i], sizeof(rbuf[i]) };
			uint16_t got = ivsh_port_rx_burst(b->port[1], 0, rp, b->burst);
			for (uint16_t i = 0; i < got; i++) {
				uint64_t v;
				memcpy(&v, rbuf[i], 8);
				bad += v != rseq++;
			}
			n += got;
		}
		t1 = thread_cpu_s();
	} while (t1 - t0 < b->seconds);
	printf("single thread %s %u B burst %u: %.1f ns CPU per frame (tx + rx), "
	       "%.2f Mpps per core-pair equivalent, sequence errors %llu\n",
	       b->zc ? "zero-copy" : "copy", b->frame, b->burst, (t1 - t0) * 1e9 / (double)n,
	       (double)n / (t1 - t0) / 1e6 * 2, (unsigned long long)bad);
	for (int i = 0; i < 2; i++) {
		ivsh_port_close(b->port[i]);
		ivsh_dev_close(dev[i]);
	}
	return bad != 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .frame = 64, .burst = 32, .seconds = 2 };
	uint32_t ring = 0, slot = 0;
	char path[128], name[200];
	struct ivsh_dev *dev[2];
	int c;

	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "burst", required_argument, NULL, 'b' },
		{ "zero-copy", no_argument, NULL, 'z' },
		{ "ring", required_argument, NULL, 'r' },
		{ "slot", required_argument, NULL, 'S' },
		{ "single", no_argument, NULL, '1' },
		{ "processes", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	while ((c = getopt_long(argc, argv, "s:t:b:zr:S:1ph", opts, NULL)) != -1) {
		switch (c) {
		case 's': b.frame = (uint32_t)atoi(optarg); break;
		case 't': b.seconds = atof(optarg); break;
		case 'b': b.burst = (uint16_t)atoi(optarg); break;
		case 'z': b.zc = true; break;
		case 'r': ring = (uint32_t)atoi(optarg); break;
		case 'S': slot = (uint32_t)atoi(optarg); break;
		case '1': b.single = true; break;
		case 'p': b.procs = true; break;
		default:
			printf("usage: %s [-s BYTES] [-t SECONDS] [-b BURST] [-z] [-r RING] [-S SLOT] [-1] [-p]\n",
			       argv[0]);
			return c == 'h' ? 0 : 1;
		}
	}
	if (b.frame < 8 || b.frame > 9000 || b.burst < 1 || b.burst > 256 ||
	    (b.zc && slot == 0 && b.frame > 2048)) {
		fprintf(stderr, "bench_port: bad frame size or burst\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/shm/ivsh-bench-%d", (int)getpid());
	for (int i = 0; i < 2; i++) {
		struct ivsh_port_conf conf = { .peer = (uint16_t)!i,
					       .max_peers = 2,
					       .ring_size = ring,
					       .slot_size = slot };
		snprintf(name, sizeof(name), "shm:%s,id=%d,size=16M", path, i);
		if (ivsh_dev_open(&dev[i], name, NULL) < 0) {
			fprintf(stderr, "bench_port: %s\n", ivsh_dev_last_error());
			return 1;
		}
		if (ivsh_port_open(&b.port[i], dev[i], &conf) < 0) {
			fprintf(stderr, "bench_port: %s\n", ivsh_port_last_error());
			return 1;
		}
	}
	unlink(path);
	if (b.single)
		return single_thread(&b, dev);
	/* Shared with the rx process in -p mode. */
	struct bench *bp = mmap(NULL, sizeof(*bp), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bp == MAP_FAILED) {
		perror("bench_port: mmap");
		return 1;
	}
	*bp = b;
	pthread_barrierattr_t ba;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&bp->go, &ba, 3);
	pthread_t t[2];
	pid_t child = -1;
	pthread_create(&t[0], NULL, tx_main, bp);
	if (bp->procs) {
		child = fork();
		if (child == 0) {
			rx_main(bp);
			_exit(0);
		}
	} else {
		pthread_create(&t[1], NULL, rx_main, bp);
	}
	pthread_barrier_wait(&bp->go);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The machine may be shared: also report the best 20 ms window,
	 * when both threads had their CPU. */
	double best = 0;
	uint64_t last = 0;
	struct timespec tl = t0;
	for (int w = 0; w < (int)(bp->seconds * 50); w++) {
		usleep(20000);
		struct timespec tn;
		clock_gettime(CLOCK_MONOTONIC, &tn);
		uint64_t cur = atomic_load_explicit(&bp->rx, memory_order_relaxed);
		double dt = (double)(tn.tv_sec - tl.tv_sec) +
			    (double)(tn.tv_nsec - tl.tv_nsec) / 1e9;
		if ((double)(cur - last) / dt > best)
			best = (double)(cur - last) / dt;
		last = cur;
		tl = tn;
	}
	atomic_store(&bp->stop, true);
	pthread_join(t[0], NULL);
	if (bp->procs)
		waitpid(child, NULL, 0);
	else
		pthread_join(t[1], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double sec = (double)(t1.tv_sec - t0.tv_sec) +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t rx = atomic_load(&bp->rx);
	printf("%s%s %u B burst %u: rx %.2f Mpps (%.2f Gbit/s), best 20 ms "
	       "%.2f Mpps, tx %.2f Mpps, sequence errors %llu\n",
	       bp->zc ? "zero-copy" : "copy", bp->procs ? " 2-process" : "",
	       bp->frame, bp->burst, (double)rx / sec / 1e6,
	       (double)rx * bp->frame * 8 / sec / 1e9, best / 1e6,
	       (double)bp->tx / sec / 1e6, (unsigned long long)bp->bad);
	b.bad = bp->bad;
	for (int i = 0; i < 2; i++) {
		ivsh_port_close(b.port[i]);
		ivsh_dev_close(dev[i]);
	}
	return b.bad != 0;
}
