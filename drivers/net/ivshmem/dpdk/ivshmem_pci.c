/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem_pci: the PCI flavour, for a guest's ivshmem-doorbell or
 * ivshmem-plain device (1af4:1110) bound to vfio-pci or uio_pci_generic.
 *
 *   dpdk-testpmd -d librte_net_ivshmem.so -a 0000:00:04.0,peer=1 -- -i
 *
 * The device is opened through libivsh's "pci:" backend, which maps BAR0
 * and BAR2 and wires the MSI-X vectors (or INTx) to eventfds itself; so
 * the DPDK PCI bus is asked for no mapping. Rx queue interrupts use those
 * eventfds like the vdev flavour does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_devargs.h>
#include <rte_malloc.h>
#include <rte_pci.h>
#include <bus_pci_driver.h>

#include "ivshmem_ethdev.h"

static const struct rte_pci_id ivshmem_pci_ids[] = {
	{ RTE_PCI_DEVICE(IVSH_PCI_VENDOR_ID, IVSH_PCI_DEVICE_ID) },
	{ .vendor_id = 0 },
};

static int ivshmem_pci_probe(struct rte_pci_driver *drv,
			     struct rte_pci_device *pci)
{
	const char *name = pci->device.name;
	const char *params = NULL;
	struct rte_eth_dev *eth_dev;
	struct pmd_internals *pi;
	struct ivshmem_args args;
	struct ivsh_dev_opts opts;
	struct ivsh_dev *dev = NULL;
	char devstr[64];
	int ret;

	RTE_SET_USED(drv);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		IVSHMEM_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	if (pci->device.devargs != NULL)
		params = pci->device.devargs->args;
	ret = ivshmem_parse_args(params, IVSHMEM_KIND_PCI, &args);
	if (ret < 0) {
		IVSHMEM_LOG(ERR, "%s: invalid devargs", name);
		return ret;
	}

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = args.timeout_ms;
	if (!args.intr)
		opts.irq_mode = IVSH_IRQ_NONE;
	snprintf(devstr, sizeof(devstr), "pci:%s", name);
	ret = ivsh_dev_open(&dev, devstr, &opts);
	if (ret < 0) {
		IVSHMEM_LOG(ERR, "%s: %s", name, ivsh_dev_last_error());
		ivshmem_free_args(&args);
		return ret;
	}

	eth_dev = rte_eth_dev_allocate(name);
	if (eth_dev == NULL) {
		ivsh_dev_close(dev);
		ivshmem_free_args(&args);
		return -ENOMEM;
	}
	eth_dev->data->dev_private = rte_zmalloc_socket(name, sizeof(*pi),
		RTE_CACHE_LINE_SIZE, pci->device.numa_node);
	if (eth_dev->data->dev_private == NULL) {
		ivsh_dev_close(dev);
		ivshmem_free_args(&args);
		rte_eth_dev_release_port(eth_dev);
		return -ENOMEM;
	}
	eth_dev->device = &pci->device;
	eth_dev->data->numa_node = pci->device.numa_node;
	pi = eth_dev->data->dev_private;
	pi->kind = IVSHMEM_KIND_PCI;
	pi->args = args;

	ret = ivshmem_port_attach(pi, dev);
	if (ret < 0)
		ivsh_dev_close(dev);
	else
		ret = ivshmem_ethdev_init(eth_dev, pi);
	if (ret < 0) {
		ivsh_port_close(pi->port);
		pi->port = NULL;
		if (pi->dev != NULL)
			ivsh_dev_close(pi->dev);
		pi->dev = NULL;
		ivshmem_free_args(&pi->args);
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	rte_eth_dev_probing_finish(eth_dev);
	IVSHMEM_LOG(INFO, "%s: ethdev port %u (own ID %u)", name,
		    eth_dev->data->port_id, ivsh_dev_id(dev));
	return 0;
}

static int ivshmem_pci_remove(struct rte_pci_device *pci)
{
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(pci->device.name);

	if (eth_dev == NULL)
		return 0; /* already closed by the application */
	ivshmem_dev_close(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static struct rte_pci_driver ivshmem_pci_drv = {
	.id_table = ivshmem_pci_ids,
	/* No RTE_PCI_DRV_NEED_MAPPING: libivsh maps the BARs itself. */
	.drv_flags = 0,
	.probe = ivshmem_pci_probe,
	.remove = ivshmem_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_ivshmem_pci, ivshmem_pci_drv);
RTE_PMD_REGISTER_PCI_TABLE(net_ivshmem_pci, ivshmem_pci_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_ivshmem_pci, "* vfio-pci | uio_pci_generic");
RTE_PMD_REGISTER_PARAM_STRING(net_ivshmem_pci,
	"peer=<int> "
	"queues=<int> "
	"intr=<0|1> "
	"ring_size=<int> "
	"slot_size=<int> "
	"mac=<xx:xx:xx:xx:xx:xx> "
	"timeout=<ms>");
