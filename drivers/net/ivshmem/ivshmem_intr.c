/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem rx queue interrupts (devarg intr=1): each queue's wakeup fd
 * from the port goes into an interrupt handle, so that the usual ethdev
 * calls (rte_eth_dev_rx_intr_ctl_q(), rte_eth_dev_rx_intr_enable()) work.
 * And device removal (PCI): vfio-pci's device request, relayed by DPDK's
 * PCI bus as RTE_DEV_EVENT_REMOVE, becomes RTE_ETH_EVENT_INTR_RMV.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_interrupts.h>

#include "ivshmem_ethdev.h"

/* Whether @fd is an eventfd (which we may write to wake our own waiter). */
static bool fd_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

void ivshmem_rx_intr_teardown(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;

	if (pi->intr_handle == NULL)
		return;
	if (dev->intr_handle == pi->intr_handle)
		dev->intr_handle = NULL;
	rte_intr_vec_list_free(pi->intr_handle);
	rte_intr_instance_free(pi->intr_handle);
	pi->intr_handle = NULL;
}

/*
 * Put each rx queue's wakeup fd in an interrupt handle, so that
 * rte_eth_dev_rx_intr_ctl_q() can add it to an application's epoll set.
 * The EAL drains the eventfd (8 bytes) when it fires.
 */
int ivshmem_rx_intr_setup(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	uint16_t nb = dev->data->nb_rx_queues;
	struct rte_intr_handle *h;
	uint16_t q;
	int fd;

	if (!pi->args.intr) {
		IVSHMEM_LOG(ERR, "port %u: rx interrupts need the devarg intr=1",
			    pi->port_id);
		return -ENOTSUP;
	}
	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL)
		return -ENOMEM;
	pi->intr_handle = h;
	if (rte_intr_type_set(h, RTE_INTR_HANDLE_VDEV) != 0 ||
	    rte_intr_efd_counter_size_set(h, sizeof(uint64_t)) != 0 ||
	    rte_intr_vec_list_alloc(h, "net_ivshmem_intr_vec", nb) != 0)
		goto fail;
	for (q = 0; q < nb; q++) {
		struct ivshmem_rxq *rxq = dev->data->rx_queues[q];

		fd = ivsh_port_rx_intr_fd(pi->port, q);
		if (fd < 0) {
			IVSHMEM_LOG(ERR, "port %u: rx queue %u has no wakeup fd (%s)",
				    pi->port_id, q, strerror(-fd));
			goto fail;
		}
		rxq->intr_fd = fd;
		rxq->self_kick = fd_is_eventfd(fd);
		if (rte_intr_efds_index_set(h, q, fd) != 0 ||
		    rte_intr_vec_list_index_set(h, q,
				RTE_INTR_VEC_RXTX_OFFSET + q) != 0)
			goto fail;
	}
	if (rte_intr_nb_efd_set(h, nb) != 0 ||
	    rte_intr_max_intr_set(h, nb + 1) != 0)
		goto fail;
	dev->intr_handle = h;
	return 0;
fail:
	IVSHMEM_LOG(ERR, "port %u: cannot set up rx interrupts", pi->port_id);
	ivshmem_rx_intr_teardown(dev);
	return -EIO;
}

int ivshmem_rx_intr_enable(struct rte_eth_dev *dev, uint16_t q)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_rxq *rxq = dev->data->rx_queues[q];
	uint64_t one = 1;
	int ret;

	/* Zero copy: mbufs freed while we sleep must wake us (before the
	 * port's arming, which returns the slots given back so far). */
	if (rxq != NULL && rxq->self_kick)
		ivshmem_zc_sleep_arm(rxq->zc, rxq->intr_fd);
	ret = ivsh_port_rx_intr_enable(pi->port, q);
	if (ret < 0) {
		if (rxq != NULL)
			ivshmem_zc_sleep_disarm(rxq->zc);
		return ret;
	}
	/* Frames already wait: make the fd readable so nobody sleeps on
	 * them (the peer only rings for new ones). */
	if (ret == 1 && rxq != NULL && rxq->self_kick &&
	    write(rxq->intr_fd, &one, sizeof(one)) != sizeof(one))
		IVSHMEM_LOG(DEBUG, "port %u: self wakeup failed", pi->port_id);
	return 0;
}

int ivshmem_rx_intr_disable(struct rte_eth_dev *dev, uint16_t q)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_rxq *rxq = dev->data->rx_queues[q];

	if (rxq != NULL)
		ivshmem_zc_sleep_disarm(rxq->zc);
	return ivsh_port_rx_intr_disable(pi->port, q);
}

/*
 * Runs in the EAL interrupt thread when the kernel asks for the device
 * back (hot-unplug): the application is told to detach the port, which
 * closes it (our entry goes down in the peer table) and lets the unplug
 * complete. Raised when the application asked for removal events
 * (intr_conf.rmv, which dpdk-testpmd sets for ports that offer them).
 */
static void ivshmem_dev_event(const char *name, enum rte_dev_event_type type,
			      void *arg)
{
	struct rte_eth_dev *dev = arg;
	struct pmd_internals *pi = dev->data->dev_private;

	if (type != RTE_DEV_EVENT_REMOVE || pi == NULL)
		return;
	IVSHMEM_LOG(NOTICE, "%s: removal requested (hot-unplug): port %u %s",
		    name, pi->port_id, dev->data->dev_conf.intr_conf.rmv ?
		    "raises a removal event" :
		    "must be closed (the application did not ask for removal events)");
	if (dev->data->dev_conf.intr_conf.rmv)
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_RMV, NULL);
}

int ivshmem_rmv_register(struct rte_eth_dev *dev)
{
	int ret = rte_dev_event_callback_register(dev->device->name,
						  ivshmem_dev_event, dev);

	if (ret < 0)
		return ret;
	dev->data->dev_flags |= RTE_ETH_DEV_INTR_RMV;
	return 0;
}

void ivshmem_rmv_unregister(struct rte_eth_dev *dev)
{
	/* -EAGAIN while the callback runs (a detach from inside it): the
	 * device goes away with its callbacks then anyway. */
	(void)rte_dev_event_callback_unregister(dev->device->name,
						ivshmem_dev_event, dev);
}
