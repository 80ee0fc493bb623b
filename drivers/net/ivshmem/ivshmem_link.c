/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem link state: the port's link, re-read by an EAL alarm every
 * IVSHMEM_LINK_PERIOD_US while the port is started. The same call keeps
 * this side's heartbeat moving, so a stopped port looks down to its peer
 * within the port's liveness window. A change raises
 * RTE_ETH_EVENT_INTR_LSC when the application asked for link interrupts.
 */
#include <errno.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_cycles.h>

#include "ivshmem_ethdev.h"

/* Publish @up in the ethdev's link (any thread: an atomic exchange). */
static void link_set(struct rte_eth_dev *dev, int up)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	link.link_speed = up ? RTE_ETH_SPEED_NUM_10G : RTE_ETH_SPEED_NUM_NONE;
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	atomic_store_explicit(&pi->link_up, up, memory_order_relaxed);
	rte_eth_linkstatus_set(dev, &link);
}

/* Runs in the EAL interrupt thread. */
static void link_alarm(void *arg)
{
	struct rte_eth_dev *dev = arg;
	struct pmd_internals *pi = dev->data->dev_private;
	int up, ret;

	if (!ivshmem_started(pi))
		return;
	/* Connect/disconnect notices of a server: they carry the doorbell
	 * fds of peers that attach after us. -ENOTSUP on other backends. */
	ret = ivsh_dev_process_events(pi->dev);
	if (ret < 0 && ret != -ENOTSUP && !pi->events_failed) {
		pi->events_failed = true;
		IVSHMEM_LOG(NOTICE, "port %u: ivshmem server notices stopped (%s); known peers keep working",
			    pi->port_id, strerror(-ret));
	}
	up = ivsh_port_link_update(pi->port) > 0;
	link_set(dev, up);
	/* Compared with what the alarm last reported, not with dev_link,
	 * which link_update() from the application may have refreshed. */
	if (up != pi->link_reported) {
		pi->link_reported = up;
		IVSHMEM_LOG(INFO, "port %u: link %s", pi->port_id,
			    up ? "up" : "down");
		if (dev->data->dev_conf.intr_conf.lsc)
			rte_eth_dev_callback_process(dev,
				RTE_ETH_EVENT_INTR_LSC, NULL);
	}
	if (rte_eal_alarm_set(IVSHMEM_LINK_PERIOD_US, link_alarm, dev) != 0) {
		IVSHMEM_LOG(ERR, "port %u: cannot re-arm the link alarm; link state frozen",
			    pi->port_id);
		pi->alarm_armed = false;
	}
}

int ivshmem_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	struct pmd_internals *pi = dev->data->dev_private;
	int up, tries;

	/* The alarm owns ivsh_port_link_update(); here only read. */
	up = ivshmem_started(pi) && ivsh_port_link_status(pi->port) > 0;
	for (tries = 0; wait_to_complete && ivshmem_started(pi) && !up && tries < 100;
	     tries++) {
		rte_delay_ms(10);
		up = ivsh_port_link_status(pi->port) > 0;
	}
	link_set(dev, up);
	return 0;
}

int ivshmem_link_start(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	int ret;

	/* Before the alarm runs: only then does that thread own it. */
	pi->link_reported = ivsh_port_link_update(pi->port) > 0;
	link_set(dev, pi->link_reported);
	atomic_store_explicit(&pi->started, true, memory_order_relaxed);
	ret = rte_eal_alarm_set(IVSHMEM_LINK_PERIOD_US, link_alarm, dev);
	if (ret != 0) {
		IVSHMEM_LOG(ERR, "port %u: cannot start the link alarm: %s",
			    pi->port_id, strerror(-ret));
		atomic_store_explicit(&pi->started, false, memory_order_relaxed);
		return ret;
	}
	pi->alarm_armed = true;
	return 0;
}

void ivshmem_link_stop(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;

	atomic_store_explicit(&pi->started, false, memory_order_relaxed);
	/* Waits for a running callback; also removes one it re-armed. */
	rte_eal_alarm_cancel(link_alarm, dev);
	pi->alarm_armed = false;
	link_set(dev, 0);
}
