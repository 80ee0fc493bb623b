/* SPDX-License-Identifier: BSD-3-Clause */
#include "tsc.h"

static uint64_t hz = 1000000000u;

void tsc_calibrate(void)
{
#ifdef TSC_HAVE_RDTSC
	/* 20 ms is enough for ~0.01% accuracy with a constant-rate TSC. */
	struct timespec req = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	uint64_t n0 = mono_ns(), t0 = tsc_now();
	uint64_t n1, t1;

	nanosleep(&req, NULL);
	n1 = mono_ns();
	t1 = tsc_now();
	if (n1 > n0 && t1 > t0)
		hz = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0));
#endif
}

uint64_t tsc_hz(void)
{
	return hz;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)((double)ticks * 1e9 / (double)hz);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)((double)ns * (double)hz / 1e9);
}
