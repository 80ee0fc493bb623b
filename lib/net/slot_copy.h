/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/net: the routine that copies frames into and out of
 * slots, chosen once per port from CPUID.
 *
 * The copy is most of the data path's cost above 128 bytes, and libc's
 * memcpy changes with the CPU and libc's own choices (on AVX-512 CPUs
 * glibc 2.36 picks a variant that is markedly slower for slot-sized
 * copies than its AVX2 one). The port carries its own, so its speed does
 * not depend on which memcpy libc resolves.
 *
 * Every routine copies any length (0 included) between buffers that do
 * not overlap, at any alignment, writing only dst[0, len).
 */
#ifndef IVSH_SLOT_COPY_H
#define IVSH_SLOT_COPY_H

#include <stddef.h>

typedef void (*slot_copy_fn)(void *dst, const void *src, size_t len);

struct slot_copy {
	const char *name; /* "avx512", "avx2", "sse2", "rep-movsb", "memcpy" */
	slot_copy_fn fn;
};

/* Environment variable that overrides the choice (one of the names). */
#define SLOT_COPY_ENV "IVSH_PORT_COPY"

/*
 * The routine for this CPU: @want names one (NULL or "" or "auto": the
 * best this CPU supports, see slot_copy.c for the order).
 * @return 0 and *out set; -EINVAL unknown name; -ENOTSUP the CPU (or the
 *         OS, for the vector state) does not support it.
 */
int slot_copy_pick(const char *want, const struct slot_copy **out);

/*
 * Every routine that runs on this CPU, best first (the one auto picks is
 * out[0]). @return how many were stored (at most @max).
 */
unsigned int slot_copy_supported(const struct slot_copy **out,
				 unsigned int max);

/* Names of every routine this build has, whether the CPU runs it or not,
 * separated by spaces (for error messages). */
const char *slot_copy_names(void);

#endif /* IVSH_SLOT_COPY_H */
