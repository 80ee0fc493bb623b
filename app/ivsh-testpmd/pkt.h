/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frame format shared by every engine:
 *
 *   Ethernet (14) | IPv4 (20) | UDP (8) | test header (16) | fill
 *
 * Test header, little-endian: magic u16, stream u16 (sender's queue),
 * session u32 (random per sender run), seq u32 (per stream, from 0),
 * csum u32 (over the frame from the EtherType on, with this field taken
 * as zero: the mac/macswap engines may rewrite the addresses).
 * The fill is a fixed pattern. The IPv4 total length gives the frame
 * length, so a truncated or padded frame is caught too.
 */
#ifndef TESTPMD_PKT_H
#define TESTPMD_PKT_H

#include <stdbool.h>
#include <stdint.h>

#define PKT_ETH_LEN 14
#define PKT_HDR_OFF 42 /* Ethernet + IPv4 + UDP */
#define PKT_HDR_LEN 16
/** Smallest frame that holds every header. */
#define PKT_MIN_LEN (PKT_HDR_OFF + PKT_HDR_LEN)
#define PKT_MAGIC 0x7e57u

/** What a received frame's test header says. */
struct pkt_meta {
	uint16_t stream;
	uint32_t session;
	uint32_t seq;
};

/** Result of pkt_check(). */
enum pkt_verdict {
	PKT_OK = 0,
	PKT_BAD_LEN,   /* shorter than the headers or IPv4 length disagrees */
	PKT_BAD_MAGIC, /* not a test frame */
	PKT_BAD_CSUM,  /* bytes changed in flight */
};

/**
 * Write the Ethernet/IPv4/UDP headers and the fill of a @p len byte frame
 * (len >= PKT_MIN_LEN). @p flow selects the source address and port.
 */
void pkt_build(uint8_t *buf, uint32_t len, const uint8_t dst[6],
	       const uint8_t src[6], uint32_t flow);

/** Change only the flow (source IPv4 address and UDP port) of a frame. */
void pkt_set_flow(uint8_t *buf, uint32_t flow);

/**
 * Write the test header into a frame from pkt_build(), with the checksum
 * when @p csum (else 0: the frame is only numbered, for --no-verify).
 */
void pkt_stamp(uint8_t *buf, uint32_t len, uint16_t stream,
	       uint32_t session, uint32_t seq, bool csum);

/**
 * Validate a received frame and read its test header. The buffer is
 * private memory: the checksum field is zeroed in place while checking.
 */
enum pkt_verdict pkt_check(uint8_t *buf, uint32_t len, struct pkt_meta *m);

/** Swap the Ethernet source and destination addresses. */
void pkt_swap_mac(uint8_t *buf);

/** Set the Ethernet addresses. */
void pkt_set_mac(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6]);

#endif /* TESTPMD_PKT_H */
