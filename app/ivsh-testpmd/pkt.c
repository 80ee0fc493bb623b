/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt.h"

#include <endian.h>
#include <string.h>

#define OFF_IP PKT_ETH_LEN
#define OFF_UDP (PKT_ETH_LEN + 20)
#define OFF_MAGIC (PKT_HDR_OFF + 0)
#define OFF_STREAM (PKT_HDR_OFF + 2)
#define OFF_SESSION (PKT_HDR_OFF + 4)
#define OFF_SEQ (PKT_HDR_OFF + 8)
#define OFF_CSUM (PKT_HDR_OFF + 12)

static void put16be(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void put16le(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32le(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static uint16_t get16be(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static uint16_t get16le(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t get32le(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

/*
 * Fletcher-style sums over 32-bit words, kept exact in 64 bits (a frame
 * has at most 2250 words, so a < 2^44 and b < 2^56 never wrap): any
 * changed word changes a, any swap changes b. The result keeps a's low
 * half, which a single changed word always alters, mixed with b. Cheap
 * enough for every frame at line rate. The Ethernet addresses are left
 * out so that the mac and macswap reflectors keep frames valid.
 */
static uint32_t frame_csum(const uint8_t *buf, uint32_t len)
{
	uint64_t a = len, b = 0;
	uint32_t i = 12, w;

	for (; i + 4 <= len; i += 4) {
		memcpy(&w, buf + i, 4);
		a += w;
		b += a;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, buf + i, len - i);
		a += w;
		b += a;
	}
	return (uint32_t)a ^ (uint32_t)((b * 0x9e3779b97f4a7c15ull) >> 32);
}

static uint16_t ip_csum(const uint8_t *hdr)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += get16be(hdr + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pkt_set_mac(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6])
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
}

void pkt_swap_mac(uint8_t *buf)
{
	uint8_t tmp[6];

	memcpy(tmp, buf, 6);
	memcpy(buf, buf + 6, 6);
	memcpy(buf + 6, tmp, 6);
}

void pkt_set_flow(uint8_t *buf, uint32_t flow)
{
	uint8_t *ip = buf + OFF_IP;

	/* 198.18.0.0/15 is the benchmarking range (RFC 2544). */
	ip[12] = 198;
	ip[13] = (uint8_t)(18 + ((flow >> 16) & 1));
	ip[14] = (uint8_t)(flow >> 8);
	ip[15] = (uint8_t)flow;
	put16be(buf + OFF_UDP, (uint16_t)(1024 + (flow & 0x3fff)));
	put16be(ip + 10, 0);
	put16be(ip + 10, ip_csum(ip));
}

void pkt_build(uint8_t *buf, uint32_t len, const uint8_t dst[6],
	       const uint8_t src[6], uint32_t flow)
{
	uint8_t *ip = buf + OFF_IP, *udp = buf + OFF_UDP;

	pkt_set_mac(buf, dst, src);
	put16be(buf + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(len - PKT_ETH_LEN));
	ip[8] = 64;  /* TTL */
	ip[9] = 17;  /* UDP */
	ip[16] = 198;
	ip[17] = 19;
	ip[18] = 255;
	ip[19] = 1;
	put16be(udp + 2, 9); /* discard */
	put16be(udp + 4, (uint16_t)(len - OFF_UDP));
	put16be(udp + 6, 0); /* no UDP checksum: the test header has one */
	pkt_set_flow(buf, flow);
	memset(buf + PKT_HDR_OFF, 0, PKT_HDR_LEN);
	for (uint32_t i = PKT_MIN_LEN; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
}

void pkt_stamp(uint8_t *buf, uint32_t len, uint16_t stream,
	       uint32_t session, uint32_t seq, bool csum)
{
	put16le(buf + OFF_MAGIC, PKT_MAGIC);
	put16le(buf + OFF_STREAM, stream);
	put32le(buf + OFF_SESSION, session);
	put32le(buf + OFF_SEQ, seq);
	put32le(buf + OFF_CSUM, 0);
	if (csum)
		put32le(buf + OFF_CSUM, frame_csum(buf, len));
}

enum pkt_verdict pkt_check(uint8_t *buf, uint32_t len, struct pkt_meta *m)
{
	uint32_t csum;

	if (len < PKT_MIN_LEN ||
	    (uint32_t)get16be(buf + OFF_IP + 2) + PKT_ETH_LEN != len)
		return PKT_BAD_LEN;
	if (get16le(buf + OFF_MAGIC) != PKT_MAGIC)
		return PKT_BAD_MAGIC;
	csum = get32le(buf + OFF_CSUM);
	put32le(buf + OFF_CSUM, 0);
	if (frame_csum(buf, len) != csum)
		return PKT_BAD_CSUM;
	put32le(buf + OFF_CSUM, csum);
	m->stream = get16le(buf + OFF_STREAM);
	m->session = get32le(buf + OFF_SESSION);
	m->seq = get32le(buf + OFF_SEQ);
	return PKT_OK;
}
