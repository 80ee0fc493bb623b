/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-tap: which frames from an (untrusted) peer may reach the kernel.
 * Every field of the virtio-net header that could make the kernel read
 * outside the frame, or act on something it does not expect, is tried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_net.h>

#include "bridge.h"
#include "tap.h"

#define FRAME 1000u

static uint8_t buf[FRAME];

static uint32_t with_hdr(const struct virtio_net_hdr *h)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, h, sizeof(*h));
	return FRAME;
}

static void test_plain(void **state)
{
	(void)state;
	assert_true(bridge_frame_ok(buf, 14, false));
	assert_true(bridge_frame_ok(buf, 60, false));
	assert_false(bridge_frame_ok(buf, 13, false));
	assert_false(bridge_frame_ok(buf, 0, false));
}

static void test_short(void **state)
{
	struct virtio_net_hdr h = { 0 };

	(void)state;
	with_hdr(&h);
	assert_true(bridge_frame_ok(buf, TAP_VNET_HDR_LEN + 14, true));
	assert_false(bridge_frame_ok(buf, TAP_VNET_HDR_LEN + 13, true));
	assert_false(bridge_frame_ok(buf, TAP_VNET_HDR_LEN, true));
	assert_false(bridge_frame_ok(buf, 0, true));
}

static void test_flags(void **state)
{
	struct virtio_net_hdr h = { 0 };

	(void)state;
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_true(bridge_frame_ok(buf, with_hdr(&h), true));
	h.flags = 0x80;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.flags = 0x4; /* VIRTIO_NET_HDR_F_RSC_INFO: not ours to send */
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
}

static void test_csum_bounds(void **state)
{
	struct virtio_net_hdr h = { 0 };
	uint32_t eth = FRAME - TAP_VNET_HDR_LEN;

	(void)state;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	assert_true(bridge_frame_ok(buf, with_hdr(&h), true));
	/* The two checksum bytes end exactly at the end of the frame. */
	h.csum_start = (uint16_t)(eth - 2);
	h.csum_offset = 0;
	assert_true(bridge_frame_ok(buf, with_hdr(&h), true));
	h.csum_offset = 1;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
}

static void test_gso(void **state)
{
	struct virtio_net_hdr h = { 0 };

	(void)state;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	h.hdr_len = 66;
	assert_true(bridge_frame_ok(buf, with_hdr(&h), true));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_true(bridge_frame_ok(buf, with_hdr(&h), true));
	h.gso_size = 0;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.gso_size = 1448;
	h.hdr_len = FRAME; /* headers longer than the frame */
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.hdr_len = 66;
	h.flags = 0; /* TSO without the checksum request */
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* not offered to the kernel */
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.gso_type = 0x7f;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE | VIRTIO_NET_HDR_GSO_ECN;
	assert_false(bridge_frame_ok(buf, with_hdr(&h), true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_csum_bounds),
		cmocka_unit_test(test_gso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
