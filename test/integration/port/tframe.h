/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frames for the port integration tests: a header naming source,
 * destination, sender session and sequence number, a fill that depends
 * on the sequence number, and a checksum over everything.
 */
#ifndef IT_TFRAME_H
#define IT_TFRAME_H

#include <stdint.h>

#define TF_HDR_LEN 24u
#define TF_MAGIC 0x54465249u

struct tf_hdr {
	uint32_t magic;
	uint16_t src, dst;
	uint32_t session;
	uint32_t seq;
	uint32_t len;
	uint32_t csum;
};

/** Length of frame @p seq: 64..1500 varied, every 64th @p max_len. */
uint32_t tf_len(uint32_t seq, uint32_t max_len);

/** Write a whole frame of @p len (>= TF_HDR_LEN) bytes. */
void tf_build(uint8_t *buf, uint32_t len, uint16_t src, uint16_t dst,
	      uint32_t session, uint32_t seq);

/** Validate a frame. @return 0 intact (header in @p h); -1 corrupted. */
int tf_check(const uint8_t *buf, uint32_t len, struct tf_hdr *h);

/** Per-sender random session. */
uint32_t tf_session(void);

#endif /* IT_TFRAME_H */
