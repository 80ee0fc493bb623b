/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private helpers shared by the protocol's send and receive halves:
 * the 8-byte little-endian wire encoding.
 */
#ifndef IVSH_PROTO_WIRE_H
#define IVSH_PROTO_WIRE_H

#include <stdint.h>

/** Bytes in one protocol message. */
#define IVSH_PROTO_MSG_SIZE 8

static inline void ivsh_proto_encode(int64_t value,
				     uint8_t buf[IVSH_PROTO_MSG_SIZE])
{
	uint64_t u = (uint64_t)value;

	for (int i = 0; i < IVSH_PROTO_MSG_SIZE; i++)
		buf[i] = (uint8_t)(u >> (8 * i));
}

static inline int64_t ivsh_proto_decode(const uint8_t buf[IVSH_PROTO_MSG_SIZE])
{
	uint64_t u = 0;

	for (int i = 0; i < IVSH_PROTO_MSG_SIZE; i++)
		u |= (uint64_t)buf[i] << (8 * i);
	/* Two's complement conversion is implementation-defined in C11 but
	 * exact on every compiler we support (gcc, clang). */
	return (int64_t)u;
}

#endif /* IVSH_PROTO_WIRE_H */
