/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem statistics: basic stats from the port's counters, xstats
 * with every port counter and the driver's own per-queue counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivshmem_ethdev.h"

int ivshmem_stats_get(struct rte_eth_dev *dev,
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

int ivshmem_stats_reset(struct rte_eth_dev *dev)
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
	"zero_copy_give_errors",
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

int ivshmem_xstats_get_names(struct rte_eth_dev *dev,
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

int ivshmem_xstats_get(struct rte_eth_dev *dev,
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
			rxq ? ivshmem_zc_bad_gives(rxq->zc) : 0,
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
