/* SPDX-License-Identifier: BSD-3-Clause */
#include "tframe.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint32_t fnv(const uint8_t *p, uint32_t len, uint32_t h)
{
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t frame_sum(const uint8_t *buf, uint32_t len)
{
	uint32_t zero = 0;
	uint32_t h = fnv(buf, TF_HDR_LEN - 4, 2166136261u);

	h = fnv((const uint8_t *)&zero, 4, h);
	return fnv(buf + TF_HDR_LEN, len - TF_HDR_LEN, h);
}

uint32_t tf_len(uint32_t seq, uint32_t max_len)
{
	if (seq % 64 == 63)
		return max_len;
	uint32_t l = 64 + (seq * 97u) % 1437u;

	return l < max_len ? l : max_len;
}

void tf_build(uint8_t *buf, uint32_t len, uint16_t src, uint16_t dst,
	      uint32_t session, uint32_t seq)
{
	struct tf_hdr h = { .magic = TF_MAGIC, .src = src, .dst = dst,
			    .session = session, .seq = seq, .len = len };

	for (uint32_t i = TF_HDR_LEN; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i);
	memcpy(buf, &h, sizeof(h));
	h.csum = frame_sum(buf, len);
	memcpy(buf, &h, sizeof(h));
}

int tf_check(const uint8_t *buf, uint32_t len, struct tf_hdr *h)
{
	if (len < TF_HDR_LEN)
		return -1;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != TF_MAGIC || h->len != len)
		return -1;
	if (frame_sum(buf, len) != h->csum)
		return -1;
	for (uint32_t i = TF_HDR_LEN; i < len; i++)
		if (buf[i] != (uint8_t)(h->seq * 31u + i))
			return -1;
	return 0;
}

uint32_t tf_session(void)
{
	uint32_t s;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return s | 1;
}
