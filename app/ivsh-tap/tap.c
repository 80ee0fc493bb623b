/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Create and configure the TAP interface of ivsh-tap: ioctls on the tun
 * fd for the mode and offloads, on a socket for MAC, MTU and flags, and
 * one rtnetlink request for the GSO size limit (no ioctl sets it).
 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "ivsh-tap"

static int fail(const char *what, const char *ifname, int err)
{
	fprintf(stderr, PROG ": %s%s%s: %s\n", what, ifname ? " " : "",
		ifname ? ifname : "", strerror(err));
	return -err;
}

/* The largest GSO packet the kernel may hand to the interface: a TSO
 * segment then fits in one frame of the ivshmem port. */
static int set_gso_max(unsigned int ifindex, uint32_t size)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr rta;
		uint32_t size;
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd, ret;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)ifindex;
	req.rta.rta_type = IFLA_GSO_MAX_SIZE;
	req.rta.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.size = size;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	ret = 0;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		ret = -errno;
	} else {
		n = recv(fd, &ack, sizeof(ack), 0);
		if (n < 0)
			ret = -errno;
		else if ((size_t)n < sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
			ret = -EPROTO;
		else
			ret = ack.err.error; /* 0 or -errno */
	}
	close(fd);
	return ret;
}

static int configure(int sock, const struct tap_conf *conf, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (conf->set_mac) {
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, conf->mac, 6);
		if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
			return fail("cannot set the MAC address of", ifname, errno);
	}
	if (conf->mtu) {
		ifr.ifr_mtu = (int)conf->mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			return fail("cannot set the MTU of", ifname, errno);
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return fail("cannot read the flags of", ifname, errno);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return fail("cannot bring up", ifname, errno);
	return 0;
}

int tap_open(const struct tap_conf *conf, char *ifname)
{
	struct ifreq ifr;
	int fd, sock, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail("cannot open /dev/net/tun", NULL, errno);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (conf->offload ? IFF_VNET_HDR : 0);
	if (conf->name && conf->name[0])
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", conf->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = fail("cannot create TAP interface",
			   conf->name && conf->name[0] ? conf->name : NULL, errno);
		close(fd);
		return ret;
	}
	snprintf(ifname, IFNAMSIZ, "%s", ifr.ifr_name);

	if (conf->offload) {
		int hdr = TAP_VNET_HDR_LEN;
		unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
				   TUN_F_TSO_ECN;

		if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
		    ioctl(fd, TUNSETOFFLOAD, off) < 0) {
			ret = fail("cannot enable offloads on", ifname, errno);
			goto err;
		}
		ret = set_gso_max(if_nametoindex(ifname), conf->gso_max);
		if (ret < 0) {
			fail("cannot set the GSO size limit (IFLA_GSO_MAX_SIZE) of",
			     ifname, -ret);
			goto err;
		}
	}
	/* Carrier off until the ivshmem link is up: the kernel then does
	 * not queue frames nobody takes. */
	tap_set_carrier(fd, false);

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		ret = fail("socket", NULL, errno);
		goto err;
	}
	ret = configure(sock, conf, ifname);
	close(sock);
	if (ret < 0)
		goto err;
	return fd;
err:
	close(fd);
	return ret;
}

int tap_set_carrier(int fd, bool up)
{
	int on = up;

	return ioctl(fd, TUNSETCARRIER, &on) < 0 ? -errno : 0;
}
