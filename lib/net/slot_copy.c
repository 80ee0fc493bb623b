/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slot copy routines and their choice from CPUID (slot_copy.h).
 *
 * The vector routines share one shape: up to 4 vectors, two
 * overlapping moves from both ends; above that, a loop of 4 loads then 4
 * stores, and the last 4 vectors' worth copied from the end (overlapping
 * what the loop wrote) instead of a tail loop. All loads and stores are
 * unaligned ones: slots and mbuf data are 64-byte aligned in practice,
 * where they cost the same as aligned ones.
 *
 * Only the plain "memcpy" routine exists off x86.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "slot_copy.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define SLOT_COPY_X86 1
#endif

static void copy_libc(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

#ifdef SLOT_COPY_X86

/* 0..15 bytes with overlapping fixed-size moves (inlined by the compiler). */
static inline void copy_under16(uint8_t *d, const uint8_t *s, size_t len)
{
	if (len >= 8) {
		memcpy(d, s, 8);
		memcpy(d + len - 8, s + len - 8, 8);
	} else if (len >= 4) {
		memcpy(d, s, 4);
		memcpy(d + len - 4, s + len - 4, 4);
	} else if (len > 0) {
		d[0] = s[0];
		d[len - 1] = s[len - 1];
		if (len == 3)
			d[1] = s[1];
	}
}

/* ---- SSE2 (every x86-64): 16-byte vectors ------------------------- */

#define LD16(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define ST16(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))

static void copy_sse2(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (len < 16) {
		copy_under16(d, s, len);
		return;
	}
	if (len <= 32) {
		__m128i a = LD16(s), b = LD16(s + len - 16);
		ST16(d, a);
		ST16(d + len - 16, b);
		return;
	}
	if (len <= 64) {
		__m128i a = LD16(s), b = LD16(s + 16);
		__m128i c = LD16(s + len - 32), e = LD16(s + len - 16);
		ST16(d, a);
		ST16(d + 16, b);
		ST16(d + len - 32, c);
		ST16(d + len - 16, e);
		return;
	}
	while (len > 64) {
		__m128i a = LD16(s), b = LD16(s + 16);
		__m128i c = LD16(s + 32), e = LD16(s + 48);
		ST16(d, a);
		ST16(d + 16, b);
		ST16(d + 32, c);
		ST16(d + 48, e);
		d += 64;
		s += 64;
		len -= 64;
	}
	/* 1..64 bytes left, and at least 64 copied before them. */
	d += len;
	s += len;
	__m128i a = LD16(s - 64), b = LD16(s - 48);
	__m128i c = LD16(s - 32), e = LD16(s - 16);
	ST16(d - 64, a);
	ST16(d - 48, b);
	ST16(d - 32, c);
	ST16(d - 16, e);
}

/* ---- AVX2: 32-byte vectors ---------------------------------------- */

#define LD32(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST32(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))

__attribute__((target("avx2")))
static void copy_avx2(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (len < 32) {
		if (len < 16) {
			copy_under16(d, s, len);
			return;
		}
		__m128i a = LD16(s), b = LD16(s + len - 16);
		ST16(d, a);
		ST16(d + len - 16, b);
		return;
	}
	if (len <= 64) {
		__m256i a = LD32(s), b = LD32(s + len - 32);
		ST32(d, a);
		ST32(d + len - 32, b);
		return;
	}
	if (len <= 128) {
		__m256i a = LD32(s), b = LD32(s + 32);
		__m256i c = LD32(s + len - 64), e = LD32(s + len - 32);
		ST32(d, a);
		ST32(d + 32, b);
		ST32(d + len - 64, c);
		ST32(d + len - 32, e);
		return;
	}
	while (len > 128) {
		__m256i a = LD32(s), b = LD32(s + 32);
		__m256i c = LD32(s + 64), e = LD32(s + 96);
		ST32(d, a);
		ST32(d + 32, b);
		ST32(d + 64, c);
		ST32(d + 96, e);
		d += 128;
		s += 128;
		len -= 128;
	}
	d += len;
	s += len;
	__m256i a = LD32(s - 128), b = LD32(s - 96);
	__m256i c = LD32(s - 64), e = LD32(s - 32);
	ST32(d - 128, a);
	ST32(d - 96, b);
	ST32(d - 64, c);
	ST32(d - 32, e);
}

/* ---- AVX-512: 64-byte vectors ------------------------------------- */

#define LD64(p) _mm512_loadu_si512((const void *)(p))
#define ST64(p, v) _mm512_storeu_si512((void *)(p), (v))

__attribute__((target("avx512f")))
static void copy_avx512(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (len < 64) {
		if (len < 16) {
			copy_under16(d, s, len);
		} else if (len <= 32) {
			__m128i a = LD16(s), b = LD16(s + len - 16);
			ST16(d, a);
			ST16(d + len - 16, b);
		} else {
			__m256i a = LD32(s), b = LD32(s + len - 32);
			ST32(d, a);
			ST32(d + len - 32, b);
		}
		return;
	}
	if (len <= 128) {
		__m512i a = LD64(s), b = LD64(s + len - 64);
		ST64(d, a);
		ST64(d + len - 64, b);
		return;
	}
	if (len <= 256) {
		__m512i a = LD64(s), b = LD64(s + 64);
		__m512i c = LD64(s + len - 128), e = LD64(s + len - 64);
		ST64(d, a);
		ST64(d + 64, b);
		ST64(d + len - 128, c);
		ST64(d + len - 64, e);
		return;
	}
	while (len > 256) {
		__m512i a = LD64(s), b = LD64(s + 64);
		__m512i c = LD64(s + 128), e = LD64(s + 192);
		ST64(d, a);
		ST64(d + 64, b);
		ST64(d + 128, c);
		ST64(d + 192, e);
		d += 256;
		s += 256;
		len -= 256;
	}
	d += len;
	s += len;
	__m512i a = LD64(s - 256), b = LD64(s - 192);
	__m512i c = LD64(s - 128), e = LD64(s - 64);
	ST64(d - 256, a);
	ST64(d - 192, b);
	ST64(d - 128, c);
	ST64(d - 64, e);
}

/* ---- REP MOVSB (ERMS) --------------------------------------------- */

static void copy_rep_movsb(void *dst, const void *src, size_t len)
{
	__asm__ volatile("rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(len)
			 :
			 : "memory");
}

/* ---- What the CPU and OS support ---------------------------------- */

struct cpu_caps {
	bool avx2, avx512, erms;
};

static struct cpu_caps cpu_caps(void)
{
	struct cpu_caps c = { false, false, false };
	unsigned int a, b, cx, dx;
	uint64_t xcr0 = 0;

	if (!__get_cpuid(1, &a, &b, &cx, &dx))
		return c;
	bool osxsave = (cx & (1u << 27)) != 0, avx = (cx & (1u << 28)) != 0;
	if (osxsave) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = ((uint64_t)hi << 32) | lo;
	}
	if (!__get_cpuid_count(7, 0, &a, &b, &cx, &dx))
		return c;
	c.erms = (b & (1u << 9)) != 0;
	/* The OS must save the vector state: XMM+YMM (bits 1, 2), and for
	 * AVX-512 also the opmask and both ZMM halves (bits 5, 6, 7). */
	bool ymm_os = avx && (xcr0 & 0x6) == 0x6;
	bool zmm_os = ymm_os && (xcr0 & 0xe6) == 0xe6;
	c.avx2 = ymm_os && (b & (1u << 5)) != 0;
	c.avx512 = zmm_os && (b & (1u << 16)) != 0;
	return c;
}

#endif /* SLOT_COPY_X86 */

/*
 * Best first. AVX-512 leads where it runs: with 64-byte vectors a
 * 1536-byte slot is 24 loads and 24 stores, and between two cores it
 * costs the least or ties from 256 bytes up (doc/benchmarks.md, "Slot
 * copy"); streaming stores measured 2-3x slower, so there are none.
 */
static const struct slot_copy routines[] = {
#ifdef SLOT_COPY_X86
	{ "avx512", copy_avx512 },
	{ "avx2", copy_avx2 },
	{ "sse2", copy_sse2 },
	{ "rep-movsb", copy_rep_movsb },
#endif
	{ "memcpy", copy_libc },
};
#define NB_ROUTINES (sizeof(routines) / sizeof(routines[0]))

/* Whether routine @r runs on this CPU. CPUID is asked each time: this
 * runs once per port open. */
static bool routine_runs(const struct slot_copy *r)
{
#ifdef SLOT_COPY_X86
	struct cpu_caps caps = cpu_caps();

	if (r->fn == copy_avx512)
		return caps.avx512;
	if (r->fn == copy_avx2)
		return caps.avx2;
	if (r->fn == copy_rep_movsb)
		return caps.erms;
#endif
	(void)r;
	return true;
}

/* rep-movsb is there to compare: never chosen by auto. */
static bool routine_is_default(const struct slot_copy *r)
{
#ifdef SLOT_COPY_X86
	if (r->fn == copy_rep_movsb)
		return false;
#endif
	return routine_runs(r);
}

int slot_copy_pick(const char *want, const struct slot_copy **out)
{
	if (want == NULL || want[0] == '\0' || strcmp(want, "auto") == 0) {
		for (size_t i = 0; i < NB_ROUTINES; i++)
			if (routine_is_default(&routines[i])) {
				*out = &routines[i];
				return 0;
			}
		return -ENOTSUP; /* not reached: memcpy always runs */
	}
	for (size_t i = 0; i < NB_ROUTINES; i++)
		if (strcmp(want, routines[i].name) == 0) {
			if (!routine_runs(&routines[i]))
				return -ENOTSUP;
			*out = &routines[i];
			return 0;
		}
	return -EINVAL;
}

unsigned int slot_copy_supported(const struct slot_copy **out,
				 unsigned int max)
{
	unsigned int n = 0;

	for (size_t i = 0; i < NB_ROUTINES && n < max; i++)
		if (routine_runs(&routines[i]))
			out[n++] = &routines[i];
	return n;
}

const char *slot_copy_names(void)
{
#ifdef SLOT_COPY_X86
	return "auto avx512 avx2 sse2 rep-movsb memcpy";
#else
	return "auto memcpy";
#endif
}
