/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem control path: eth_dev_ops over the port API.
 *
 * The link is the port's link state, re-read by an EAL alarm every
 * IVSHMEM_LINK_PERIOD_US while the port is started (the same call keeps
 * this side's heartbeat moving, so a stopped port looks down to the peer).
 * A change raises RTE_ETH_EVENT_INTR_LSC when the application asked for
 * link interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_string_fns.h>

#include "ivshmem_ethdev.h"

/* --- link ---------------------------------------------------------------- */

/* Relaxed: the flag only stops the alarm; dev_stop() then cancels it. */
static bool is_started(const struct pmd_internals *pi)
{
	return atomic_load_explicit(&pi->started, memory_order_relaxed);
}

static void link_set(struct rte_eth_dev *dev, int up, bool notify)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	link.link_speed = up ? RTE_ETH_SPEED_NUM_10G : RTE_ETH_SPEED_NUM_NONE;
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	atomic_store_explicit(&pi->link_up, up, memory_order_relaxed);
	/* rte_eth_linkstatus_set() returns 0 only when the state changed. */
	if (rte_eth_linkstatus_set(dev, &link) == 0 && notify) {
		IVSHMEM_LOG(INFO, "port %u: link %s", pi->port_id,
			    up ? "up" : "down");
		if (dev->data->dev_conf.intr_conf.lsc)
			rte_eth_dev_callback_process(dev,
				RTE_ETH_EVENT_INTR_LSC, NULL);
	}
}

/* Runs in the EAL interrupt thread. */
static void link_alarm(void *arg)
{
	struct rte_eth_dev *dev = arg;
	struct pmd_internals *pi = dev->data->dev_private;
	int up, ret;

	if (!is_started(pi))
		return;
	/* Connect/disconnect notices of a server: they carry the doorbell
	 * fds of peers that attach after us. -ENOTSUP on other backends. */
	ret = ivsh_dev_process_events(pi->dev);
	if (ret < 0 && ret != -ENOTSUP && !pi->events_failed) {
		pi->events_failed = true;
		IVSHMEM_LOG(NOTICE, "port %u: ivshmem server notices stopped (%s); known peers keep working",
			    pi->port_id, strerror(-ret));
	}
	up = ivsh_port_link_update(pi->port);
	link_set(dev, up > 0, true);
	if (rte_eal_alarm_set(IVSHMEM_LINK_PERIOD_US, link_alarm, dev) != 0) {
		IVSHMEM_LOG(ERR, "port %u: cannot re-arm the link alarm; link state frozen",
			    pi->port_id);
		pi->alarm_armed = false;
	}
}

static int ivshmem_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	struct pmd_internals *pi = dev->data->dev_private;
	int up, tries;

	/* The alarm owns ivsh_port_link_update(); here only read. */
	up = is_started(pi) && ivsh_port_link_status(pi->port) > 0;
	for (tries = 0; wait_to_complete && is_started(pi) && !up && tries < 100;
	     tries++) {
		rte_delay_ms(10);
		up = ivsh_port_link_status(pi->port) > 0;
	}
	link_set(dev, up, false);
	return 0;
}

/* --- rx interrupts ------------------------------------------------------- */

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

static void rx_intr_teardown(struct rte_eth_dev *dev)
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
static int rx_intr_setup(struct rte_eth_dev *dev)
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
	rx_intr_teardown(dev);
	return -EIO;
}

static int ivshmem_rx_intr_enable(struct rte_eth_dev *dev, uint16_t q)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_rxq *rxq = dev->data->rx_queues[q];
	uint64_t one = 1;
	int ret;

	ret = ivsh_port_rx_intr_enable(pi->port, q);
	if (ret < 0)
		return ret;
	/* Frames already wait: make the fd readable so nobody sleeps on
	 * them (the peer only rings for new ones). */
	if (ret == 1 && rxq != NULL && rxq->self_kick &&
	    write(rxq->intr_fd, &one, sizeof(one)) != sizeof(one))
		IVSHMEM_LOG(DEBUG, "port %u: self wakeup failed", pi->port_id);
	return 0;
}

static int ivshmem_rx_intr_disable(struct rte_eth_dev *dev, uint16_t q)
{
	struct pmd_internals *pi = dev->data->dev_private;

	return ivsh_port_rx_intr_disable(pi->port, q);
}

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
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	info->rx_queue_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	info->tx_queue_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
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

static int ivshmem_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid,
				  uint16_t nb_desc, unsigned int socket_id,
				  const struct rte_eth_rxconf *conf,
				  struct rte_mempool *mp)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivshmem_rxq *rxq;
	uint64_t offloads;

	RTE_SET_USED(nb_desc);
	if (qid >= pi->nb_queues)
		return -EINVAL;
	offloads = conf->offloads | dev->data->dev_conf.rxmode.offloads;
	rte_free(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
	rxq = rte_zmalloc_socket("net_ivshmem_rxq", sizeof(*rxq),
				 RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (rxq == NULL)
		return -ENOMEM;
	rxq->pi = pi;
	rxq->port = pi->port;
	rxq->mp = mp;
	rxq->qid = qid;
	rxq->port_id = pi->port_id;
	rxq->scatter = (offloads & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
	rxq->intr_fd = -1;
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

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	if (qid >= pi->nb_queues)
		return -EINVAL;
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
	dev->data->tx_queues[qid] = txq;
	return 0;
}

static void ivshmem_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	rte_free(dev->data->rx_queues[qid]);
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
		ret = rx_intr_setup(dev);
		if (ret < 0)
			return ret;
	}
	dev->data->scattered_rx = dev->data->nb_rx_queues > 0 &&
		((struct ivshmem_rxq *)dev->data->rx_queues[0])->scatter;
	atomic_store_explicit(&pi->started, true, memory_order_relaxed);
	link_set(dev, ivsh_port_link_update(pi->port) > 0, false);
	ret = rte_eal_alarm_set(IVSHMEM_LINK_PERIOD_US, link_alarm, dev);
	if (ret != 0) {
		IVSHMEM_LOG(ERR, "port %u: cannot start the link alarm: %s",
			    pi->port_id, strerror(-ret));
		atomic_store_explicit(&pi->started, false, memory_order_relaxed);
		rx_intr_teardown(dev);
		return ret;
	}
	pi->alarm_armed = true;
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

static int ivshmem_dev_stop(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	uint16_t q;

	atomic_store_explicit(&pi->started, false, memory_order_relaxed);
	/* Waits for a running callback; also removes one it re-armed. */
	rte_eal_alarm_cancel(link_alarm, dev);
	pi->alarm_armed = false;
	link_set(dev, 0, false);
	rx_intr_teardown(dev);
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

int ivshmem_dev_close(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;
	uint16_t q;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || pi == NULL)
		return 0;
	if (is_started(pi) || pi->alarm_armed)
		ivshmem_dev_stop(dev);
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		ivshmem_rx_queue_release(dev, q);
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		ivshmem_tx_queue_release(dev, q);
	/* The port marks this side down in the peer table. */
	ivsh_port_close(pi->port);
	pi->port = NULL;
	ivsh_dev_close(pi->dev);
	pi->dev = NULL;
	ivshmem_free_args(&pi->args);
	return 0;
}

/* --- statistics ---------------------------------------------------------- */

static int ivshmem_stats_get(struct rte_eth_dev *dev,
			     struct rte_eth_stats *stats)
{
	struct pmd_internals *pi = dev->data->dev_private;
	struct ivsh_port_queue_stats qs;
	uint16_t q, nq;

	nq = RTE_MAX(dev->data->nb_rx_queues, dev->data->nb_tx_queues);
	for (q = 0; q < nq && q < pi->nb_queues; q++) {
		if (ivsh_port_queue_stats(pi->port, q, &qs) != 0)
			continue;
		if (q < dev->data->nb_rx_queues) {
			const struct ivshmem_rxq *rxq = dev->data->rx_queues[q];
			uint64_t pkts = qs.rx_packets, bytes = qs.rx_bytes;
			uint64_t errs = qs.rx_errors;

			/* The port counts every frame it handed over; those
			 * the driver then dropped are errors, not received. */
			if (rxq != NULL) {
				pkts -= RTE_MIN(pkts, rxq->st.no_scatter);
				bytes -= RTE_MIN(bytes, rxq->st.no_scatter_bytes);
				errs += rxq->st.no_scatter;
				stats->rx_nombuf += rxq->st.nombuf;
			}
			stats->ipackets += pkts;
			stats->ibytes += bytes;
			stats->ierrors += errs;
			if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
				stats->q_ipackets[q] = pkts;
				stats->q_ibytes[q] = bytes;
				stats->q_errors[q] = errs;
			}
		}
		if (q < dev->data->nb_tx_queues) {
			const struct ivshmem_txq *txq = dev->data->tx_queues[q];

			stats->opackets += qs.tx_packets;
			stats->obytes += qs.tx_bytes;
			stats->oerrors += qs.tx_errors;
			if (txq != NULL)
				stats->oerrors += txq->st.bad_len +
						  txq->st.commit_failed;
			if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
				stats->q_opackets[q] = qs.tx_packets;
				stats->q_obytes[q] = qs.tx_bytes;
			}
		}
	}
	return 0;
}

static void driver_stats_reset(struct rte_eth_dev *dev)
{
	uint16_t q;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		struct ivshmem_rxq *rxq = dev->data->rx_queues[q];

		if (rxq != NULL)
			memset(&rxq->st, 0, sizeof(rxq->st));
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		struct ivshmem_txq *txq = dev->data->tx_queues[q];

		if (txq != NULL)
			memset(&txq->st, 0, sizeof(txq->st));
	}
}

static int ivshmem_stats_reset(struct rte_eth_dev *dev)
{
	struct pmd_internals *pi = dev->data->dev_private;

	ivsh_port_stats_reset(pi->port);
	driver_stats_reset(dev);
	return 0;
}

/*
 * xstats: the port's own counters ("ivsh_" + port name), then the
 * driver's per-queue counters ("pmd_rx_qN_..." / "pmd_tx_qN_...").
 */
static const char *const rxq_xstat_names[] = {
	"packets", "bytes", "nombuf", "no_scatter_drops",
};
static const char *const txq_xstat_names[] = {
	"packets", "bytes", "bad_len_drops", "ring_full_bursts",
	"link_down_bursts", "commit_failed",
};
#define NB_RXQ_XSTATS RTE_DIM(rxq_xstat_names)
#define NB_TXQ_XSTATS RTE_DIM(txq_xstat_names)

static unsigned int port_xstats_count(const struct pmd_internals *pi)
{
	int n = ivsh_port_xstats(pi->port, NULL, NULL, 0);

	return n > 0 ? (unsigned int)n : 0;
}

static unsigned int xstats_count(const struct rte_eth_dev *dev)
{
	const struct pmd_internals *pi = dev->data->dev_private;

	return port_xstats_count(pi) +
		dev->data->nb_rx_queues * NB_RXQ_XSTATS +
		dev->data->nb_tx_queues * NB_TXQ_XSTATS;
}

static int ivshmem_xstats_get_names(struct rte_eth_dev *dev,
				    struct rte_eth_xstat_name *names,
				    unsigned int size)
{
	struct pmd_internals *pi = dev->data->dev_private;
	unsigned int total = xstats_count(dev);
	unsigned int np = port_xstats_count(pi), i, k = 0;
	const char **pnames;
	uint16_t q;

	if (names == NULL || size < total)
		return (int)total;
	pnames = calloc(np ? np : 1, sizeof(*pnames));
	if (pnames == NULL)
		return -ENOMEM;
	if (np)
		ivsh_port_xstats(pi->port, pnames, NULL, np);
	for (i = 0; i < np; i++, k++)
		snprintf(names[k].name, sizeof(names[k].name), "ivsh_%s",
			 pnames[i] ? pnames[i] : "?");
	free(pnames);
	for (q = 0; q < dev->data->nb_rx_queues; q++)
		for (i = 0; i < NB_RXQ_XSTATS; i++, k++)
			snprintf(names[k].name, sizeof(names[k].name),
				 "pmd_rx_q%u_%s", q, rxq_xstat_names[i]);
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		for (i = 0; i < NB_TXQ_XSTATS; i++, k++)
			snprintf(names[k].name, sizeof(names[k].name),
				 "pmd_tx_q%u_%s", q, txq_xstat_names[i]);
	return (int)k;
}

static int ivshmem_xstats_get(struct rte_eth_dev *dev,
			      struct rte_eth_xstat *xstats, unsigned int n)
{
	struct pmd_internals *pi = dev->data->dev_private;
	unsigned int total = xstats_count(dev);
	unsigned int np = port_xstats_count(pi), i, k = 0;
	uint64_t *values;
	uint16_t q;

	if (xstats == NULL || n < total)
		return (int)total;
	values = calloc(np ? np : 1, sizeof(*values));
	if (values == NULL)
		return -ENOMEM;
	if (np)
		ivsh_port_xstats(pi->port, NULL, values, np);
	for (i = 0; i < np; i++, k++) {
		xstats[k].id = k;
		xstats[k].value = values[i];
	}
	free(values);
	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct ivshmem_rxq *rxq = dev->data->rx_queues[q];
		const uint64_t v[NB_RXQ_XSTATS] = {
			rxq ? rxq->st.packets : 0, rxq ? rxq->st.bytes : 0,
			rxq ? rxq->st.nombuf : 0, rxq ? rxq->st.no_scatter : 0,
		};

		for (i = 0; i < NB_RXQ_XSTATS; i++, k++) {
			xstats[k].id = k;
			xstats[k].value = v[i];
		}
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		const struct ivshmem_txq *txq = dev->data->tx_queues[q];
		const uint64_t v[NB_TXQ_XSTATS] = {
			txq ? txq->st.packets : 0, txq ? txq->st.bytes : 0,
			txq ? txq->st.bad_len : 0, txq ? txq->st.ring_full : 0,
			txq ? txq->st.link_down : 0,
			txq ? txq->st.commit_failed : 0,
		};

		for (i = 0; i < NB_TXQ_XSTATS; i++, k++) {
			xstats[k].id = k;
			xstats[k].value = v[i];
		}
	}
	return (int)k;
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
