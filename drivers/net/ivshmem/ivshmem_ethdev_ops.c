/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem control path: configuration, queues, start/stop/close, MAC
 * and MTU, and the eth_dev_ops table (link state, rx interrupts and
 * statistics live in their own files).
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ivshmem_ethdev.h"

/* --- configuration ------------------------------------------------------- */

static int ivshmem_dev_configure(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	const struct rte_eth_conf *conf = &dev->data->dev_conf;

	if (conf->rxmode.mq_mode != RTE_ETH_MQ_RX_NONE &&
	    conf->rxmode.mq_mode != RTE_ETH_MQ_RX_RSS) {
		IVSHMEM_LOG(ERR, "port %u: rx multi-queue mode %d not supported",
			    pi->port_id, conf->rxmode.mq_mode);
		return -ENOTSUP;
	}
	if (conf->intr_conf.rxq && !pi->args.intr) {
		IVSHMEM_LOG(ERR, "port %u: rx interrupts need the devarg intr=1",
			    pi->port_id);
		return -ENOTSUP;
	}
	return 0;
}

static int ivshmem_dev_infos_get(struct rte_eth_dev *dev,
				 struct rte_eth_dev_info *info)
{
	struct pmd_internals *pi = dev->data->dev_private;

	info->if_index = 0;
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = pi->max_frame;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	/* Room for an Ethernet header, one VLAN tag and the CRC a NIC
	 * would count: 9018 bytes carry a 9000-byte MTU. */
	info->max_mtu = pi->max_frame > RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + RTE_ETHER_MIN_MTU ?
		pi->max_frame - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN :
		RTE_ETHER_MIN_MTU;
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->max_rx_queues = pi->nb_queues;
	info->max_tx_queues = pi->nb_queues;
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS |
				RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	info->rx_queue_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	info->tx_queue_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS |
				      RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	info->flow_type_rss_offloads = 0;
	/* The ring size is the layout's; any descriptor count is accepted. */
	info->rx_desc_lim.nb_max = UINT16_MAX;
	info->rx_desc_lim.nb_min = 1;
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim = info->rx_desc_lim;
	info->default_rxportconf.ring_size = (uint16_t)RTE_MIN(
		ivsh_port_ring_size(pi->port), (uint32_t)UINT16_MAX);
	info->default_txportconf.ring_size = info->default_rxportconf.ring_size;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G | RTE_ETH_LINK_SPEED_FIXED;
	info->dev_capa &= ~(uint64_t)(RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP |
				      RTE_ETH_DEV_CAPA_RUNTIME_TX_QUEUE_SETUP);
	return 0;
}

static void ivshmem_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid);

static int ivshmem_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid,
				  uint16_t nb_desc, unsigned int socket_id,
				  const struct rte_eth_rxconf *conf,
				  struct rte_mempool *mp)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_rxq *rxq;
	struct rte_mbuf tmpl;
	uint64_t offloads;

	RTE_SET_USED(nb_desc);
	if (qid >= pi->nb_queues)
		return -EINVAL;
	offloads = conf->offloads | dev->data->dev_conf.rxmode.offloads;
	if (pi->args.rx_zero_copy && (rte_pktmbuf_priv_flags(mp) &
				      RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF)) {
		IVSHMEM_LOG(ERR, "port %u: rx_zero_copy=1 cannot use mempool %s: its mbufs have pinned external buffers",
			    pi->port_id, mp->name);
		return -EINVAL;
	}
	ivshmem_rx_queue_release(dev, qid);
	rxq = rte_zmalloc_socket("net_ivshmem_rxq", sizeof(*rxq),
				 RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (rxq == NULL)
		return -ENOMEM;
	if (pi->args.rx_zero_copy) {
		rxq->zc = ivshmem_zc_create(pi->port, qid, (int)socket_id);
		if (rxq->zc == NULL) {
			rte_free(rxq);
			return -ENOMEM;
		}
	}
	rxq->pi = pi;
	rxq->port = pi->port;
	rxq->mp = mp;
	rxq->qid = qid;
	rxq->port_id = pi->port_id;
	rxq->scatter = (offloads & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
	rxq->copy = ivsh_port_copy_fn(pi->port);
	rxq->intr_fd = -1;
	rxq->room = rte_pktmbuf_data_room_size(mp) > RTE_PKTMBUF_HEADROOM ?
		rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM : 0;
	/* What rte_pktmbuf_reset() would leave in the first cache line;
	 * the datapath writes it over raw mbufs (which the pool keeps with
	 * next NULL, nb_segs 1, refcnt 1) instead of a full reset. */
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.data_off = (uint16_t)RTE_MIN((uint32_t)RTE_PKTMBUF_HEADROOM,
		(uint32_t)rte_pktmbuf_data_room_size(mp));
	rte_mbuf_refcnt_set(&tmpl, 1);
	tmpl.nb_segs = 1;
	tmpl.port = pi->port_id;
	memcpy(&rxq->mbuf_init, &tmpl.rearm_data, sizeof(rxq->mbuf_init));
	rxq->ol_init = (rte_pktmbuf_priv_flags(mp) &
			RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF) ? RTE_MBUF_F_EXTERNAL : 0;
	rxq->peek_min = (uint16_t)RTE_MIN((pi->max_frame +
		ivsh_port_slot_size(pi->port) - 1) / ivsh_port_slot_size(pi->port),
		(uint32_t)IVSHMEM_BURST_SEGS);
	dev->data->rx_queues[qid] = rxq;
	return 0;
}

static int ivshmem_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid,
				  uint16_t nb_desc, unsigned int socket_id,
				  const struct rte_eth_txconf *conf)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_txq *txq;
	uint64_t offloads;

	RTE_SET_USED(nb_desc);
	if (qid >= pi->nb_queues)
		return -EINVAL;
	offloads = conf->offloads | dev->data->dev_conf.txmode.offloads;
	rte_free(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
	txq = rte_zmalloc_socket("net_ivshmem_txq", sizeof(*txq),
				 RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (txq == NULL)
		return -ENOMEM;
	txq->pi = pi;
	txq->port = pi->port;
	txq->qid = qid;
	txq->slot_size = ivsh_port_slot_size(pi->port);
	txq->copy = ivsh_port_copy_fn(pi->port);
	/* Mbufs received with rx_zero_copy=1 carry external buffers that
	 * must go through the free callback: an application forwarding
	 * them back out of this port still has them freed properly. */
	txq->fast_free = (offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0 &&
			 !pi->args.rx_zero_copy;
	dev->data->tx_queues[qid] = txq;
	return 0;
}

static void ivshmem_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct ivshmem_rxq *rxq = dev->data->rx_queues[qid];

	if (rxq == NULL)
		return;
	/* Mbufs still holding slots keep their records (and the free
	 * callbacks working) for the life of the process. */
	if (!ivshmem_zc_destroy(rxq->zc))
		IVSHMEM_LOG(WARNING, "port %u: rx queue %u released while the application holds %u zero-copy mbufs; their slot records are kept",
			    dev->data->port_id, qid, ivshmem_zc_held(rxq->zc));
	rte_free(rxq);
	dev->data->rx_queues[qid] = NULL;
}

static void ivshmem_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	rte_free(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
}

/* --- start / stop / close ------------------------------------------------ */

static int ivshmem_dev_start(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	uint16_t q;
	int ret;

	if (pi->port == NULL)
		return -ENODEV;
	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		struct ivshmem_rxq *rxq = dev->data->rx_queues[q];

		if (rxq == NULL)
			return -EINVAL;
		if (!rxq->scatter && dev->data->mtu + RTE_ETHER_HDR_LEN >
		    rte_pktmbuf_data_room_size(rxq->mp) - RTE_PKTMBUF_HEADROOM)
			IVSHMEM_LOG(NOTICE, "port %u: rx queue %u drops frames longer than one mbuf (enable the scatter offload)",
				    pi->port_id, q);
	}
	if (dev->data->dev_conf.intr_conf.rxq) {
		ret = ivshmem_rx_intr_setup(dev);
		if (ret < 0)
			return ret;
	}
	dev->data->scattered_rx = dev->data->nb_rx_queues > 0 &&
		((struct ivshmem_rxq *)dev->data->rx_queues[0])->scatter;
	ret = ivshmem_link_start(dev);
	if (ret != 0) {
		ivshmem_rx_intr_teardown(dev);
		return ret;
	}
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

static int ivshmem_dev_stop(struct rte_eth_dev *dev)
{
	uint16_t q;

	ivshmem_link_stop(dev);
	ivshmem_rx_intr_teardown(dev);
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

int ivshmem_dev_close(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	uint32_t held = 0;
	uint16_t q;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || pi == NULL)
		return 0;
	if (ivshmem_started(pi) || pi->alarm_armed)
		ivshmem_dev_stop(dev);
	/* Asked of the port, not of the rx queues: a queue released or
	 * set up again earlier may have left mbufs holding slots. */
	for (q = 0; pi->port != NULL && q < pi->nb_queues; q++)
		held += ivsh_port_rx_zc_held(pi->port, q);
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		ivshmem_rx_queue_release(dev, q);
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		ivshmem_tx_queue_release(dev, q);
	if (held != 0) {
		/* Their data is in the shared memory: keep it mapped, and the
		 * port they give their slots back to, until exit. */
		IVSHMEM_LOG(WARNING, "port %u: closed while the application holds %u zero-copy mbufs; the device stays open (and mapped) until the process exits",
			    pi->port_id, held);
	} else {
		/* The port marks this side down in the peer table. */
		ivsh_port_close(pi->port);
		ivsh_dev_close(pi->dev);
	}
	pi->port = NULL;
	pi->dev = NULL;
	/* The device no longer uses the interrupt eventfds: release them
	 * before DPDK's PCI bus unmaps the BARs (at detach). */
	if (pi->kind == IVSHMEM_KIND_PCI)
		ivshmem_pci_release(dev);
	ivshmem_free_args(&pi->args);
	return 0;
}

/* --- MAC, MTU, filtering ------------------------------------------------- */

static int ivshmem_mac_addr_set(struct rte_eth_dev *dev,
				struct rte_ether_addr *addr)
{
	struct pmd_internals *pi = dev->data->dev_private;

	/* Local only: the peer table keeps the address given at attach. */
	rte_ether_addr_copy(addr, &pi->mac);
	return 0;
}

static int ivshmem_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct pmd_internals *pi = dev->data->dev_private;

	if ((uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN > pi->max_frame) {
		IVSHMEM_LOG(ERR, "port %u: MTU %u exceeds the largest frame %u",
			    pi->port_id, mtu, pi->max_frame);
		return -EINVAL;
	}
	return 0;
}

/* A point-to-point link delivers every frame: filtering modes are no-ops. */
static int ivshmem_filter_noop(struct rte_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

const struct eth_dev_ops ivshmem_ops = {
	.dev_configure = ivshmem_dev_configure,
	.dev_start = ivshmem_dev_start,
	.dev_stop = ivshmem_dev_stop,
	.dev_close = ivshmem_dev_close,
	.dev_infos_get = ivshmem_dev_infos_get,
	.link_update = ivshmem_link_update,
	.rx_queue_setup = ivshmem_rx_queue_setup,
	.tx_queue_setup = ivshmem_tx_queue_setup,
	.rx_queue_release = ivshmem_rx_queue_release,
	.tx_queue_release = ivshmem_tx_queue_release,
	.rx_queue_intr_enable = ivshmem_rx_intr_enable,
	.rx_queue_intr_disable = ivshmem_rx_intr_disable,
	.stats_get = ivshmem_stats_get,
	.stats_reset = ivshmem_stats_reset,
	.xstats_get = ivshmem_xstats_get,
	.xstats_get_names = ivshmem_xstats_get_names,
	.xstats_reset = ivshmem_stats_reset,
	.mac_addr_set = ivshmem_mac_addr_set,
	.mtu_set = ivshmem_mtu_set,
	.promiscuous_enable = ivshmem_filter_noop,
	.promiscuous_disable = ivshmem_filter_noop,
	.allmulticast_enable = ivshmem_filter_noop,
	.allmulticast_disable = ivshmem_filter_noop,
};
