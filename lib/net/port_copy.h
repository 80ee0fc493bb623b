/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/net: the frame copy shared by the receive and transmit
 * paths, and branch hints.
 */
#ifndef IVSH_PORT_COPY_H
#define IVSH_PORT_COPY_H

#include <stdint.h>
#include <string.h>

#include "slot_copy.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Copy 1..128 bytes with fixed-size (so inlined) overlapping moves that
 * stay within [0, len) of both buffers; longer frames go to @big, the
 * port's slot copy routine (slot_copy.h). Saves the call and size
 * dispatch on minimum-size frames.
 */
static inline void copy_frame(void *dst, const void *src, uint32_t len,
			      slot_copy_fn big)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (len > 128) {
		big(d, s, len);
	} else if (len >= 64) {
		memcpy(d, s, 64);
		if (len > 64)
			memcpy(d + len - 64, s + len - 64, 64);
	} else if (len >= 16) {
		memcpy(d, s, 16);
		if (len > 32) {
			memcpy(d + 16, s + 16, 16);
			memcpy(d + len - 32, s + len - 32, 16);
		}
		memcpy(d + len - 16, s + len - 16, 16);
	} else if (len >= 4) {
		memcpy(d, s, 4);
		if (len > 8) {
			memcpy(d + 4, s + 4, 4);
			memcpy(d + len - 8, s + len - 8, 4);
		}
		memcpy(d + len - 4, s + len - 4, 4);
	} else {
		for (uint32_t i = 0; i < len; i++)
			d[i] = s[i];
	}
}

#endif /* IVSH_PORT_COPY_H */
