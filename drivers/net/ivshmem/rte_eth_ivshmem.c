/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem: the vdev flavour and what both flavours share (opening the
 * port, creating the ethdev).
 *
 *   --vdev net_ivshmem0,server=/run/ivshmem.sock,peer=1
 *   --vdev net_ivshmem0,shm=/dev/shm/ivsh,id=0,size=16M
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <ethdev_vdev.h>
#include <bus_vdev_driver.h>

#include "ivshmem_ethdev.h"

RTE_LOG_REGISTER(ivshmem_logtype, pmd.net.ivshmem, NOTICE);

int ivshmem_port_attach(struct pmd_internals *pi, struct ivsh_dev *dev)
{
	const struct ivshmem_args *a = &pi->args;
	struct ivsh_port_conf conf;
	uint16_t self = ivsh_dev_id(dev);
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.peer = a->has_peer ? a->peer : (self == 0 ? 1 : 0);
	conf.nb_queues = a->queues;
	conf.intr = a->intr;
	conf.timeout_ms = a->timeout_ms;
	/* peer=auto: long enough to start the other side by hand */
	conf.auto_wait_ms = a->timeout_ms ? a->timeout_ms : 30000;
	conf.ring_size = a->ring_size;
	conf.slot_size = a->slot_size;
	conf.queues_per_link = a->queues;
	if (a->has_mac) {
		conf.has_mac = true;
		memcpy(conf.mac, a->mac.addr_bytes, sizeof(conf.mac));
	}
	if (conf.peer == self) {
		IVSHMEM_LOG(ERR, "peer=%u is this peer's own ID", conf.peer);
		return -EINVAL;
	}
	ret = ivsh_port_open(&pi->port, dev, &conf);
	if (ret < 0) {
		if (conf.peer == IVSH_PORT_PEER_AUTO)
			IVSHMEM_LOG(ERR, "peer %u: cannot open a port (peer=auto): %s",
				    self, ivsh_port_last_error());
		else
			IVSHMEM_LOG(ERR, "cannot open a port from peer %u to peer %u: %s",
				    self, conf.peer, ivsh_port_last_error());
		return ret;
	}
	conf.peer = ivsh_port_peer(pi->port);
	pi->dev = dev;
	pi->nb_queues = ivsh_port_nb_queues(pi->port);
	if (pi->nb_queues > IVSHMEM_MAX_QUEUES)
		pi->nb_queues = IVSHMEM_MAX_QUEUES;
	pi->max_frame = ivsh_port_max_frame(pi->port);
	ivsh_port_mac(pi->port, pi->mac.addr_bytes);
	IVSHMEM_LOG(INFO, "peer %u -> peer %u on %s: %u queue(s), ring %u, slot %u, max frame %u, copy %s",
		    self, conf.peer, ivsh_dev_backend(dev), pi->nb_queues,
		    ivsh_port_ring_size(pi->port), ivsh_port_slot_size(pi->port),
		    pi->max_frame, ivsh_port_copy_name(pi->port));
	return 0;
}

int ivshmem_ethdev_init(struct rte_eth_dev *eth_dev, struct pmd_internals *pi)
{
	struct rte_eth_dev_data *data = eth_dev->data;

	data->mac_addrs = rte_zmalloc_socket("net_ivshmem_mac",
		sizeof(struct rte_ether_addr), 0, data->numa_node);
	if (data->mac_addrs == NULL)
		return -ENOMEM;
	rte_ether_addr_copy(&pi->mac, data->mac_addrs);

	pi->port_id = data->port_id;
	atomic_store_explicit(&pi->link_up, 0, memory_order_relaxed);
	data->dev_link.link_speed = RTE_ETH_SPEED_NUM_10G;
	data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	data->dev_link.link_autoneg = RTE_ETH_LINK_FIXED;
	data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	data->dev_flags |= RTE_ETH_DEV_INTR_LSC |
			   RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	data->mtu = RTE_ETHER_MTU;
	eth_dev->dev_ops = &ivshmem_ops;
	eth_dev->rx_pkt_burst = pi->args.rx_zero_copy ? ivshmem_rx_burst_zc :
						      ivshmem_rx_burst;
	eth_dev->tx_pkt_burst = ivshmem_tx_burst;
	return 0;
}

/* Open the device named by the devargs (server: or shm:). */
static int vdev_open_device(const char *name, const struct ivshmem_args *a,
			    struct ivsh_dev **devp)
{
	struct ivsh_dev_opts opts;
	char devstr[PATH_MAX + 16];
	int ret;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = a->timeout_ms;
	if (a->server != NULL) {
		snprintf(devstr, sizeof(devstr), "server:%s", a->server);
		/* One vector per queue lets each queue sleep on its own fd. */
		if (a->intr)
			opts.vectors = a->queues ? a->queues : 1;
	} else {
		snprintf(devstr, sizeof(devstr), "shm:%s", a->shm);
		opts.id = a->id;
		opts.size = a->size;
		opts.irq_mode = IVSH_IRQ_NONE;
	}
	ret = ivsh_dev_open(devp, devstr, &opts);
	if (ret < 0)
		/* The reason names the device string itself. */
		IVSHMEM_LOG(ERR, "%s: %s", name, ivsh_dev_last_error());
	return ret;
}

static int ivshmem_vdev_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *eth_dev;
	struct pmd_internals *pi;
	struct ivshmem_args args;
	struct ivsh_dev *dev = NULL;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		IVSHMEM_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	ret = ivshmem_parse_args(rte_vdev_device_args(vdev), IVSHMEM_KIND_VDEV,
				 &args);
	if (ret < 0) {
		IVSHMEM_LOG(ERR, "%s: invalid devargs", name);
		return ret;
	}
	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*pi));
	if (eth_dev == NULL) {
		ivshmem_free_args(&args);
		return -ENOMEM;
	}
	pi = eth_dev->data->dev_private;
	pi->kind = IVSHMEM_KIND_VDEV;
	pi->args = args;

	ret = vdev_open_device(name, &pi->args, &dev);
	if (ret == 0) {
		ret = ivshmem_port_attach(pi, dev);
		if (ret < 0)
			ivsh_dev_close(dev);
	}
	if (ret == 0)
		ret = ivshmem_ethdev_init(eth_dev, pi);
	if (ret < 0) {
		ivshmem_probe_unwind(eth_dev, pi);
		return ret;
	}
	rte_eth_dev_probing_finish(eth_dev);
	IVSHMEM_LOG(INFO, "%s: ethdev port %u", name, eth_dev->data->port_id);
	return 0;
}

void ivshmem_probe_unwind(struct rte_eth_dev *eth_dev, struct pmd_internals *pi)
{
	/* Port, then device, then the interrupts under it. */
	ivsh_port_close(pi->port);
	pi->port = NULL;
	if (pi->dev != NULL)
		ivsh_dev_close(pi->dev);
	pi->dev = NULL;
	if (pi->kind == IVSHMEM_KIND_PCI)
		ivshmem_pci_release(eth_dev);
	ivshmem_free_args(&pi->args);
	rte_eth_dev_release_port(eth_dev);
}

int ivshmem_remove(const char *name)
{
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(name);

	if (eth_dev == NULL)
		return 0; /* already closed by the application */
	ivshmem_dev_close(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static int ivshmem_vdev_remove(struct rte_vdev_device *vdev)
{
	return ivshmem_remove(rte_vdev_device_name(vdev));
}

static struct rte_vdev_driver ivshmem_vdev_drv = {
	.probe = ivshmem_vdev_probe,
	.remove = ivshmem_vdev_remove,
};

RTE_PMD_REGISTER_VDEV(net_ivshmem, ivshmem_vdev_drv);
RTE_PMD_REGISTER_PARAM_STRING(net_ivshmem,
	"server=<path> "
	"shm=<path> "
	"peer=<int|auto> "
	"queues=<int> "
	"id=<int> "
	"size=<bytes> "
	"intr=<0|1> "
	"ring_size=<int> "
	"slot_size=<int> "
	"mac=<xx:xx:xx:xx:xx:xx> "
	"timeout=<ms> "
	"rx_zero_copy=<0|1>");
