/* SPDX-License-Identifier: BSD-3-Clause */
/* The TAP side of ivsh-tap: create and configure the kernel interface. */
#ifndef IVSH_TAP_TAP_H
#define IVSH_TAP_TAP_H

#include <stdbool.h>
#include <stdint.h>

/** Bytes of the virtio-net header in front of each frame in offload mode. */
#define TAP_VNET_HDR_LEN 10

struct tap_conf {
	const char *name;    /**< interface name; NULL or "": the kernel picks */
	bool offload;        /**< IFF_VNET_HDR with checksum and TSO offload */
	uint32_t mtu;        /**< 0: leave the kernel's default (1500) */
	uint32_t gso_max;    /**< offload: largest GSO packet the kernel may
			      *   hand over (IFLA_GSO_MAX_SIZE) */
	bool set_mac;
	uint8_t mac[6];
};

/**
 * Create the TAP interface (non-blocking fd), set its MAC, MTU, offloads
 * and GSO limit, and bring it up with the carrier off.
 * @param ifname out: the interface's name (IFNAMSIZ bytes)
 * @return the fd; -errno with a one-line message on stderr.
 */
int tap_open(const struct tap_conf *conf, char *ifname);

/** Tell the kernel whether the link is up (carrier). @return 0 or -errno. */
int tap_set_carrier(int fd, bool up);

#endif /* IVSH_TAP_TAP_H */
