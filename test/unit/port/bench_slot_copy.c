/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_slot_copy [-m local|rx|tx|pipe] [-P AHEAD] [-n COPIES] [-r REPS] [LEN...]
 *
 * Cost per copy of every slot copy routine this CPU runs, and of libc's
 * memcpy called through a pointer, at each LEN (default 64..1500), the
 * routines taking turns in every rep.
 *
 * -m local (default): one thread, nanoseconds per copy, best of REPS
 *    (default 15) runs of COPIES (default 200000) copies, from a ring of
 *    1024 slots of 1536 bytes (in L2) to a 64-byte aligned buffer;
 *    with BENCH_INTO_SLOTS set, from one buffer into the slots instead.
 * -m rx: two threads on CPUs 0 and 1. The producer writes a burst of 32
 *    slots, the consumer copies them out, timed: the receive side, whose
 *    source lines are dirty in the other core's cache.
 * -m tx: the producer copies a burst into slots the consumer has just
 *    read (shared in the other core's cache), timed after a PREFETCHW of
 *    each slot's first line, as the port's transmit burst does.
 * -m pipe: both at once, as between two ports: the producer copies bursts
 *    of 32 frames from its buffer into a ring of 1024 slots while the
 *    consumer copies earlier bursts out; both copies timed (tx / rx).
 *    BENCH_CLDEMOTE=tx, rx or txrx: CLDEMOTE every slot line after the
 *    producer wrote it (tx) or the consumer read it (rx), a candidate.
 *    Cross-core modes print TSC ticks per frame: the median of
 *    COPIES / 32 bursts per rep over all reps (a preempted burst is an
 *    outlier the median ignores).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slot_copy.h"
#include "test_cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <x86intrin.h>
#endif

#define SLOTS 1024u
#define SLOT 1536u
#define MAX_ROUTINES 8

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define BURST 32u
#define XRING 256u /* slots in the cross-core ring */

static uint64_t ticks(void)
{
#if defined(__x86_64__)
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return now_ns();
#endif
}

/* One cross-core run: @bursts bursts of BURST frames of @len bytes. */
struct xrun {
	slot_copy_fn fn;
	size_t len;
	bool tx;              /* the producer's copy is timed, else the consumer's */
	unsigned int ahead;   /* -P: prefetch every line of frame k + ahead */
	unsigned long bursts;
	uint8_t *ring;        /* XRING slots of SLOT bytes, shared */
	uint8_t *local[2];    /* BURST x SLOT each: a private buffer per thread */
	_Atomic unsigned long prod, cons;
	uint64_t *samples;    /* ticks per burst */
};

static inline uint8_t *xslot(const struct xrun *x, unsigned long b, unsigned k)
{
	return x->ring + (size_t)((b * BURST + k) % XRING) * SLOT;
}

static inline void prefetch_frame(const uint8_t *p, size_t len, int write)
{
	for (size_t o = 64; o < len; o += 64) {
		if (write)
			__builtin_prefetch(p + o, 1);
		else
			__builtin_prefetch(p + o, 0);
	}
}

static void *x_producer(void *arg)
{
	struct xrun *x = arg;
	volatile uint8_t sink = 0;

	test_pin_self(0);
	for (unsigned long b = 0; b < x->bursts; b++) {
		while (atomic_load_explicit(&x->cons, memory_order_acquire) != b)
			;
		if (x->tx) {
			uint64_t t0 = ticks();

			for (unsigned k = 0; k < BURST; k++)
				__builtin_prefetch(xslot(x, b, k), 1);
			for (unsigned k = 0; k < BURST; k++) {
				if (x->ahead && k + x->ahead < BURST)
					prefetch_frame(xslot(x, b, k + x->ahead), x->len, 1);
				x->fn(xslot(x, b, k), x->local[0] + k * SLOT, x->len);
			}
			x->samples[b] = ticks() - t0;
		} else {
			for (unsigned k = 0; k < BURST; k++)
				memset(xslot(x, b, k), (int)(b + k), x->len);
		}
		(void)sink;
		atomic_store_explicit(&x->prod, b + 1, memory_order_release);
	}
	return NULL;
}

static void x_consumer(struct xrun *x)
{
	test_pin_self(1);
	for (unsigned long b = 0; b < x->bursts; b++) {
		while (atomic_load_explicit(&x->prod, memory_order_acquire) != b + 1)
			;
		if (x->tx) {
			/* Read every line, as a consumer copying out would. */
			uint64_t sum = 0;
			for (unsigned k = 0; k < BURST; k++)
				for (size_t o = 0; o < x->len; o += 64)
					sum += xslot(x, b, k)[o];
			x->local[1][0] = (uint8_t)sum;
		} else {
			uint64_t t0 = ticks();

			for (unsigned k = 0; k < BURST; k++)
				__builtin_prefetch(xslot(x, b, k));
			for (unsigned k = 0; k < BURST; k++) {
				if (x->ahead && k + x->ahead < BURST)
					prefetch_frame(xslot(x, b, k + x->ahead), x->len, 0);
				x->fn(x->local[1] + k * SLOT, xslot(x, b, k), x->len);
			}
			x->samples[b] = ticks() - t0;
		}
		atomic_store_explicit(&x->cons, b + 1, memory_order_release);
	}
}

/* -m pipe: a ring of PRING slots, producer and consumer concurrent. */
#define PRING 1024u

struct pipe_run {
	slot_copy_fn fn;
	size_t len;
	unsigned long bursts;
	uint8_t *ring, *local[2];
	alignas(64) _Atomic unsigned long prod;
	alignas(64) _Atomic unsigned long cons;
	uint64_t *tx, *rx;    /* ticks per burst */
	unsigned int ahead;   /* -P: every line of frames k+1..k+ahead */
	bool demote;          /* CLDEMOTE every line the producer wrote */
	bool demote_rx;       /* CLDEMOTE every slot line the consumer read */
};

#if defined(__x86_64__)
__attribute__((target("cldemote")))
static void demote_frame(const uint8_t *p, size_t len)
{
	for (size_t o = 0; o < len; o += 64)
		_cldemote((void *)(uintptr_t)(p + o));
}
#else
static void demote_frame(const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
}
#endif

static inline uint8_t *pslot(const struct pipe_run *p, unsigned long f)
{
	return p->ring + (size_t)(f % PRING) * SLOT;
}

static void *pipe_producer(void *arg)
{
	struct pipe_run *p = arg;

	test_pin_self(0);
	for (unsigned long b = 0; b < p->bursts; b++) {
		unsigned long f = b * BURST;

		while (f + BURST - atomic_load_explicit(&p->cons, memory_order_acquire) > PRING)
			;
		uint64_t t0 = ticks();
		for (unsigned k = 0; k < BURST; k++)
			__builtin_prefetch(pslot(p, f + k), 1);
		for (unsigned k = 0; k < p->ahead && k < BURST; k++)
			prefetch_frame(pslot(p, f + k), p->len, 1);
		for (unsigned k = 0; k < BURST; k++) {
			if (p->ahead && k + p->ahead < BURST)
				prefetch_frame(pslot(p, f + k + p->ahead), p->len, 1);
			p->fn(pslot(p, f + k), p->local[0] + k * SLOT, p->len);
			if (p->demote)
				demote_frame(pslot(p, f + k), p->len);
		}
		p->tx[b] = ticks() - t0;
		atomic_store_explicit(&p->prod, f + BURST, memory_order_release);
	}
	return NULL;
}

static void pipe_consumer(struct pipe_run *p)
{
	test_pin_self(1);
	for (unsigned long b = 0; b < p->bursts; b++) {
		unsigned long f = b * BURST;

		while (atomic_load_explicit(&p->prod, memory_order_acquire) < f + BURST)
			;
		uint64_t t0 = ticks();
		for (unsigned k = 0; k < BURST; k++)
			__builtin_prefetch(pslot(p, f + k));
		for (unsigned k = 0; k < p->ahead && k < BURST; k++)
			prefetch_frame(pslot(p, f + k), p->len, 0);
		for (unsigned k = 0; k < BURST; k++) {
			if (p->ahead && k + p->ahead < BURST)
				prefetch_frame(pslot(p, f + k + p->ahead), p->len, 0);
			p->fn(p->local[1] + k * SLOT, pslot(p, f + k), p->len);
			if (p->demote_rx)
				demote_frame(pslot(p, f + k), p->len);
		}
		p->rx[b] = ticks() - t0;
		atomic_store_explicit(&p->cons, f + BURST, memory_order_release);
	}
}

static int cmp_u64(const void *a, const void *b);

static double median_per_frame(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] / BURST;
}

static int pipe_mode(const struct slot_copy **r, unsigned int nr,
		     const size_t *lens, unsigned int nlens, unsigned int ahead,
		     unsigned long copies, unsigned long reps)
{
	unsigned long bursts = copies / BURST ? copies / BURST : 1;
	static struct pipe_run p;

	p.ahead = ahead;
	const char *dm = getenv("BENCH_CLDEMOTE");
	p.demote = dm != NULL && strstr(dm, "tx") != NULL;
	p.demote_rx = dm != NULL && strstr(dm, "rx") != NULL;	uint64_t *tx[MAX_ROUTINES], *rx[MAX_ROUTINES];

	p.bursts = bursts;
	p.ring = aligned_alloc(64, (size_t)PRING * SLOT);
	p.local[0] = aligned_alloc(64, (size_t)BURST * SLOT);
	p.local[1] = aligned_alloc(64, (size_t)BURST * SLOT);
	p.tx = calloc(bursts, sizeof(uint64_t));
	p.rx = calloc(bursts, sizeof(uint64_t));
	for (unsigned int k = 0; k < nr; k++) {
		tx[k] = calloc(bursts * reps, sizeof(uint64_t));
		rx[k] = calloc(bursts * reps, sizeof(uint64_t));
		if (tx[k] == NULL || rx[k] == NULL)
			return 1;
	}
	if (p.ring == NULL || p.local[0] == NULL || p.local[1] == NULL ||
	    p.tx == NULL || p.rx == NULL)
		return 1;
	memset(p.ring, 1, (size_t)PRING * SLOT);
	memset(p.local[0], 2, (size_t)BURST * SLOT);
	memset(p.local[1], 3, (size_t)BURST * SLOT);
	printf("%6s", "len");
	for (unsigned int k = 0; k < nr; k++)
		printf(" %19s", r[k]->name);
	printf("   (pipe: TSC ticks per frame, tx/rx, median of %lu bursts)\n",
	       bursts * reps);
	for (unsigned int li = 0; li < nlens; li++) {
		p.len = lens[li];
		for (unsigned long rep = 0; rep < reps; rep++)
			for (unsigned int k = 0; k < nr; k++) {
				pthread_t th;

				p.fn = r[k]->fn;
				atomic_store(&p.prod, 0);
				atomic_store(&p.cons, 0);
				if (pthread_create(&th, NULL, pipe_producer, &p) != 0)
					return 1;
				pipe_consumer(&p);
				pthread_join(th, NULL);
				memcpy(tx[k] + rep * bursts, p.tx, bursts * sizeof(uint64_t));
				memcpy(rx[k] + rep * bursts, p.rx, bursts * sizeof(uint64_t));
			}
		printf("%6zu", lens[li]);
		for (unsigned int k = 0; k < nr; k++)
			printf("      %6.1f / %6.1f",
			       median_per_frame(tx[k], bursts * reps),
			       median_per_frame(rx[k], bursts * reps));
		printf("\n");
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#if defined(__x86_64__)
/*
 * Candidate measured here only: AVX-512 streaming (non-temporal) stores
 * for the 64-byte aligned part of dst, ordinary moves for the ends, and
 * an SFENCE (the port would need one before publishing the index).
 */
__attribute__((target("avx512f")))
static void copy_avx512_nt(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t head = (64 - ((uintptr_t)d & 63)) & 63;

	if (len < 128) {
		memcpy(d, s, len);
		return;
	}
	memcpy(d, s, head);
	d += head;
	s += head;
	len -= head;
	while (len >= 64) {
		_mm512_stream_si512((__m512i *)(void *)d, _mm512_loadu_si512(s));
		d += 64;
		s += 64;
		len -= 64;
	}
	memcpy(d, s, len);
	_mm_sfence();
}
#endif

static void *(*volatile libc_memcpy)(void *, const void *, size_t) = memcpy;

static void via_libc(void *d, const void *s, size_t n)
{
	libc_memcpy(d, s, n);
}

/* Cross-core mode: prints one line per length. */
static int cross_core(const struct slot_copy **r, unsigned int nr,
		      const size_t *lens, unsigned int nlens, bool tx,
		      unsigned int ahead, unsigned long copies, unsigned long reps)
{
	unsigned long bursts = copies / BURST ? copies / BURST : 1;
	struct xrun x = { .tx = tx, .bursts = bursts, .ahead = ahead };
	uint64_t *all[MAX_ROUTINES];

	x.ring = aligned_alloc(64, (size_t)XRING * SLOT);
	x.local[0] = aligned_alloc(64, (size_t)BURST * SLOT);
	x.local[1] = aligned_alloc(64, (size_t)BURST * SLOT);
	x.samples = calloc(bursts, sizeof(uint64_t));
	for (unsigned int k = 0; k < nr; k++)
		all[k] = calloc(bursts * reps, sizeof(uint64_t));
	if (x.ring == NULL || x.local[0] == NULL || x.local[1] == NULL ||
	    x.samples == NULL || all[nr - 1] == NULL) {
		fprintf(stderr, "bench_slot_copy: out of memory\n");
		return 1;
	}
	memset(x.ring, 1, (size_t)XRING * SLOT);
	memset(x.local[0], 2, (size_t)BURST * SLOT);
	memset(x.local[1], 3, (size_t)BURST * SLOT);
	printf("%6s", "len");
	for (unsigned int k = 0; k < nr; k++)
		printf(" %12s", r[k]->name);
	printf("   (%s: TSC ticks per frame, median of %lu bursts of %u)\n",
	       tx ? "tx, into slots the other core read" :
	       "rx, out of slots the other core wrote",
	       bursts * reps, BURST);
	for (unsigned int li = 0; li < nlens; li++) {
		x.len = lens[li];
		for (unsigned long rep = 0; rep < reps; rep++)
			for (unsigned int k = 0; k < nr; k++) {
				pthread_t th;

				x.fn = r[k]->fn;
				atomic_store(&x.prod, 0);
				atomic_store(&x.cons, 0);
				if (pthread_create(&th, NULL, x_producer, &x) != 0) {
					fprintf(stderr, "bench_slot_copy: pthread_create failed\n");
					return 1;
				}
				x_consumer(&x);
				pthread_join(th, NULL);
				memcpy(all[k] + rep * bursts, x.samples,
				       bursts * sizeof(uint64_t));
			}
		printf("%6zu", lens[li]);
		for (unsigned int k = 0; k < nr; k++) {
			qsort(all[k], bursts * reps, sizeof(uint64_t), cmp_u64);
			printf(" %12.1f",
			       (double)all[k][bursts * reps / 2] / BURST);
		}
		printf("\n");
	}
	for (unsigned int k = 0; k < nr; k++)
		free(all[k]);
	free(x.samples);
	free(x.ring);
	free(x.local[0]);
	free(x.local[1]);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long copies = 200000, reps = 15;
	const char *mode = "local";
	unsigned int ahead = 0;
	static const size_t defaults[] = { 64, 128, 256, 512, 1024, 1500 };
	size_t lens[32];
	unsigned int nlens = 0;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "-P") == 0 && i + 1 < argc) {
			ahead = (unsigned int)atoi(argv[++i]);
			continue;
		}
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
			mode = argv[++i];
			if (strcmp(mode, "local") != 0 && strcmp(mode, "rx") != 0 &&
			    strcmp(mode, "tx") != 0 && strcmp(mode, "pipe") != 0) {
				fprintf(stderr, "bench_slot_copy: -m local, rx, tx or pipe\n");
				return 2;
			}
			continue;
		}

		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-r") == 0) &&
		    i + 1 < argc) {
			unsigned long v = strtoul(argv[i + 1], &end, 10);

			if (*end != '\0' || v == 0) {
				fprintf(stderr, "bench_slot_copy: bad %s %s\n",
					argv[i], argv[i + 1]);
				return 2;
			}
			*(argv[i][1] == 'n' ? &copies : &reps) = v;
			i++;
			continue;
		}
		unsigned long v = strtoul(argv[i], &end, 10);
		if (*end != '\0' || v == 0 || v > SLOT || nlens == 32) {
			fprintf(stderr, "bench_slot_copy: bad length %s (1..%u)\n",
				argv[i], SLOT);
			return 2;
		}
		lens[nlens++] = v;
	}
	if (nlens == 0) {
		memcpy(lens, defaults, sizeof(defaults));
		nlens = sizeof(defaults) / sizeof(defaults[0]);
	}

	const struct slot_copy *r[MAX_ROUTINES];
	unsigned int nr = slot_copy_supported(r, MAX_ROUTINES - 1);
	static const struct slot_copy libc = { "libc-memcpy", via_libc };
	r[nr++] = &libc;
#if defined(__x86_64__)
	static const struct slot_copy nt = { "avx512-nt", copy_avx512_nt };
	if (strcmp(r[0]->name, "avx512") == 0 && nr < MAX_ROUTINES)
		r[nr++] = &nt;
#endif
	if (strcmp(mode, "pipe") == 0)
		return pipe_mode(r, nr, lens, nlens, ahead, copies, reps);
	if (strcmp(mode, "local") != 0)
		return cross_core(r, nr, lens, nlens, mode[0] == 't', ahead,
				  copies, reps);

	uint8_t *ring = aligned_alloc(64, (size_t)SLOTS * SLOT);
	uint8_t *dst = aligned_alloc(64, 4 * SLOT);
	if (ring == NULL || dst == NULL) {
		fprintf(stderr, "bench_slot_copy: out of memory\n");
		return 1;
	}
	memset(ring, 0x5a, (size_t)SLOTS * SLOT);
	memset(dst, 0, 4 * SLOT);

	printf("%6s", "len");
	for (unsigned int k = 0; k < nr; k++)
		printf(" %12s", r[k]->name);
	printf("   (ns per copy, best of %lu)\n", reps);
	for (unsigned int li = 0; li < nlens; li++) {
		double best[MAX_ROUTINES];

		for (unsigned int k = 0; k < nr; k++)
			best[k] = 1e30;
		for (unsigned long rep = 0; rep < reps; rep++)
			for (unsigned int k = 0; k < nr; k++) {
				slot_copy_fn fn = r[k]->fn;
				uint64_t t0 = now_ns();

				if (getenv("BENCH_INTO_SLOTS") != NULL)
					for (unsigned long c = 0; c < copies; c++)
						fn(ring + (size_t)(c % SLOTS) * SLOT,
						   dst, lens[li]);
				else
					for (unsigned long c = 0; c < copies; c++)
						fn(dst + (c & 3) * SLOT,
						   ring + (size_t)(c % SLOTS) * SLOT, lens[li]);
				double ns = (double)(now_ns() - t0) / (double)copies;
				if (ns < best[k])
					best[k] = ns;
			}
		printf("%6zu", lens[li]);
		for (unsigned int k = 0; k < nr; k++)
			printf(" %12.2f", best[k]);
		printf("\n");
	}
	free(ring);
	free(dst);
	return 0;
}
