/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cheap time stamps for the forwarding loop: the TSC on x86 (calibrated
 * once against CLOCK_MONOTONIC), CLOCK_MONOTONIC elsewhere.
 */
#ifndef TESTPMD_TSC_H
#define TESTPMD_TSC_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TSC_HAVE_RDTSC 1
#endif

/** Monotonic nanoseconds (vDSO clock_gettime). */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** Raw cycle counter (or ns where there is none). */
static inline uint64_t tsc_now(void)
{
#ifdef TSC_HAVE_RDTSC
	return __rdtsc();
#else
	return mono_ns();
#endif
}

/** Measure the counter's frequency; call once at start-up. */
void tsc_calibrate(void);
/** Counter ticks per second (after tsc_calibrate()). */
uint64_t tsc_hz(void);
/** Convert a tick count to nanoseconds. */
uint64_t tsc_to_ns(uint64_t ticks);
/** Convert nanoseconds to ticks. */
uint64_t ns_to_tsc(uint64_t ns);

#endif /* TESTPMD_TSC_H */
