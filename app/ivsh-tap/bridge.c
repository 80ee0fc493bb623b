/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-tap's loop. Each pass moves one burst each way: frames from the
 * ivshmem port are written to the TAP fd one by one; frames read from the
 * TAP fd (non-blocking) go to the port in one tx burst, and those the
 * ring refuses stay pending for the next pass, in order. In interrupt
 * mode an idle pass sleeps in ppoll() on the TAP fd and the port's Rx
 * interrupt fd (armed first, so a frame that arrived meanwhile is not
 * missed), at most 100 ms so the heartbeat keeps going.
 */
#include "bridge.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ivsh_dev.h"
#include "tap.h"

#define ETH_HDR_LEN 14
/* A tap read larger than this buffer is truncated by the kernel; anything
 * above the port's largest frame is dropped anyway. */
#define TAP_READ_MAX (65536 + TAP_VNET_HDR_LEN)
#define LINK_POLL_NS 1000000ull
#define IDLE_SLEEP_MS 100

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool bridge_frame_ok(const uint8_t *frame, uint32_t len, bool offload)
{
	struct virtio_net_hdr h;
	uint32_t eth_len;

	if (!offload)
		return len >= ETH_HDR_LEN;
	if (len < TAP_VNET_HDR_LEN + ETH_HDR_LEN)
		return false;
	memcpy(&h, frame, sizeof(h));
	eth_len = len - TAP_VNET_HDR_LEN;
	if (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	/* The checksum field must lie inside the frame. */
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (uint32_t)h.csum_start + h.csum_offset + 2 > eth_len)
		return false;
	switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h.gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		/* A segmented TCP frame: headers inside the frame, a segment
		 * size, and the checksum left to be filled in. */
		return h.gso_size > 0 && h.hdr_len <= eth_len &&
		       (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	default:
		return false;
	}
}

/* Port -> kernel: one burst. @return frames moved. */
static uint16_t port_to_tap(struct bridge *b, struct ivsh_pkt *pkts,
			    uint8_t *const *bufs)
{
	uint16_t n;

	for (uint16_t i = 0; i < BRIDGE_BURST; i++) {
		pkts[i].data = bufs[i];
		pkts[i].len = b->max_frame;
	}
	n = ivsh_port_rx_burst(b->port, 0, pkts, BRIDGE_BURST);
	for (uint16_t i = 0; i < n; i++) {
		if (!bridge_frame_ok(pkts[i].data, pkts[i].len, b->offload)) {
			b->st.bad_hdr++;
			continue;
		}
		if (write(b->tap_fd, pkts[i].data, pkts[i].len) < 0) {
			b->st.tap_write_err++;
			continue;
		}
		b->st.to_tap++;
		b->st.to_tap_bytes += pkts[i].len;
	}
	return n;
}

struct pending {
	struct ivsh_pkt pkts[BRIDGE_BURST];
	uint8_t *bufs[BRIDGE_BURST];
	uint16_t first, count;
};

/* Kernel -> port: send what is pending, then read more when all went.
 * @return frames read or sent. */
static unsigned int tap_to_port(struct bridge *b, struct pending *p)
{
	unsigned int moved = 0;
	uint16_t sent;

	if (p->count == 0) {
		p->first = 0;
		while (p->count < BRIDGE_BURST) {
			uint8_t *buf = p->bufs[p->count];
			ssize_t r = read(b->tap_fd, buf, TAP_READ_MAX);

			if (r < 0)
				break; /* EAGAIN: nothing more */
			moved++;
			if (!b->link_up) {
				b->st.link_down++;
				continue;
			}
			if ((uint64_t)r > b->max_frame || r == 0) {
				b->st.oversize++;
				continue;
			}
			p->pkts[p->count].data = buf;
			p->pkts[p->count].len = (uint32_t)r;
			p->count++;
		}
	}
	if (p->count == 0)
		return moved;
	sent = ivsh_port_tx_burst(b->port, 0, p->pkts + p->first, p->count);
	for (uint16_t i = 0; i < sent; i++)
		b->st.to_port_bytes += p->pkts[p->first + i].len;
	b->st.to_port += sent;
	p->first += sent;
	p->count -= sent;
	return moved + sent;
}

static void link_poll(struct bridge *b)
{
	bool up = ivsh_port_link_update(b->port) == 1;

	if (up == b->link_up)
		return;
	b->link_up = up;
	b->st.link_changes++;
	tap_set_carrier(b->tap_fd, up);
	fprintf(stderr, "ivsh-tap: %s: link to peer %u %s\n", b->ifname,
		ivsh_port_peer(b->port), up ? "up" : "down");
}

/* Interrupt mode, nothing moved: sleep until the TAP fd or the port has
 * something, or @p pending frames may fit again (short sleep). */
static void idle_wait(struct bridge *b, bool pending)
{
	struct pollfd pfd[2] = {
		{ .fd = b->tap_fd, .events = pending ? 0 : POLLIN },
		{ .fd = ivsh_port_rx_intr_fd(b->port, 0), .events = POLLIN },
	};
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000 };
	unsigned int vectors = ivsh_dev_vectors(b->dev);

	if (!pending) {
		ts.tv_sec = IDLE_SLEEP_MS / 1000;
		ts.tv_nsec = (IDLE_SLEEP_MS % 1000) * 1000000L;
	}
	if (ivsh_port_rx_intr_enable(b->port, 0) != 1) {
		b->st.sleeps++;
		if (ppoll(pfd, 2, &ts, NULL) > 0 && (pfd[1].revents & POLLIN) &&
		    vectors)
			ivsh_dev_irq_ack(b->dev, 0);
	}
	ivsh_port_rx_intr_disable(b->port, 0);
}

int bridge_run(struct bridge *b, volatile sig_atomic_t *stop)
{
	struct ivsh_pkt rx[BRIDGE_BURST];
	uint8_t *rxbufs[BRIDGE_BURST];
	struct pending *p;
	uint8_t *mem;
	uint64_t next_link = 0;
	int ret = 0;

	p = calloc(1, sizeof(*p));
	mem = malloc((size_t)BRIDGE_BURST * (b->max_frame + TAP_READ_MAX));
	if (!p || !mem) {
		free(p);
		free(mem);
		fprintf(stderr, "ivsh-tap: out of memory\n");
		return -ENOMEM;
	}
	for (int i = 0; i < BRIDGE_BURST; i++) {
		rxbufs[i] = mem + (size_t)i * b->max_frame;
		p->bufs[i] = mem + (size_t)BRIDGE_BURST * b->max_frame +
			     (size_t)i * TAP_READ_MAX;
	}
	link_poll(b);
	while (!*stop) {
		uint64_t t = now_ns();
		unsigned int moved;

		if (t >= next_link) {
			link_poll(b);
			next_link = t + LINK_POLL_NS;
		}
		moved = port_to_tap(b, rx, rxbufs);
		moved += tap_to_port(b, p);
		if (!moved && b->intr)
			idle_wait(b, p->count > 0);
	}
	free(mem);
	free(p);
	return ret;
}

void bridge_print_stats(const struct bridge *b)
{
	const struct bridge_stats *s = &b->st;

	fprintf(stderr,
		"ivsh-tap: %s: to_tap %llu frames %llu bytes, to_port %llu frames"
		" %llu bytes, bad_hdr %llu, tap_write_err %llu, oversize %llu,"
		" link_down %llu, link_changes %llu, sleeps %llu\n",
		b->ifname, (unsigned long long)s->to_tap,
		(unsigned long long)s->to_tap_bytes,
		(unsigned long long)s->to_port,
		(unsigned long long)s->to_port_bytes,
		(unsigned long long)s->bad_hdr,
		(unsigned long long)s->tap_write_err,
		(unsigned long long)s->oversize,
		(unsigned long long)s->link_down,
		(unsigned long long)s->link_changes,
		(unsigned long long)s->sleeps);
}
