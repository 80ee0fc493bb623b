/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem_pci: the PCI flavour, for a guest's ivshmem-doorbell or
 * ivshmem-plain device (1af4:1110) bound to vfio-pci or uio_pci_generic.
 *
 *   dpdk-testpmd -d librte_net_ivshmem.so -a 0000:00:04.0,peer=1 -- -i
 *
 * DPDK's PCI bus maps the BARs (RTE_PCI_DRV_NEED_MAPPING): BAR0 holds the
 * registers, BAR2 the shared memory. With vfio-pci the MSI-X vectors are
 * wired to eventfds through the device's interrupt handle: vector 0 to the
 * handle's own fd, vectors 1..N-1 to the fds rte_intr_efd_enable() makes.
 * libivsh wraps all of it (ivsh_dev_open_mapped()) and owns none of it.
 * uio_pci_generic gives DPDK no MSI-X: the port then runs without
 * interrupts (polling), and so does ivshmem-plain, which has none.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_devargs.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_pci.h>
#include <bus_pci_driver.h>

#include "ivshmem_ethdev.h"

/* PCI configuration space (PCI Local Bus spec 3.0, 6.1 and 6.8.2). */
#define CFG_COMMAND 0x04
#define CFG_COMMAND_MASTER 0x0004
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x0010
#define CFG_CAP_PTR 0x34
#define CAP_ID_MSIX 0x11
#define MSIX_CTRL 2              /* Message Control, from the capability */
#define MSIX_CTRL_TABLE_SIZE 0x07ff /* N - 1 */
/* A capability list is at most (256 - 64) / 4 entries long: bound the
 * walk so that a looping list cannot hang the probe. */
#define CAP_WALK_MAX 48

#define BAR_REGS 0
#define BAR_SHM 2

static const struct rte_pci_id ivshmem_pci_ids[] = {
	{ RTE_PCI_DEVICE(IVSH_PCI_VENDOR_ID, IVSH_PCI_DEVICE_ID) },
	{ .vendor_id = 0 },
};

static int cfg_read(const struct rte_pci_device *pci, void *buf, size_t len,
		    off_t off)
{
	return rte_pci_read_config(pci, buf, len, off) == (int)len ? 0 : -EIO;
}

/* MSI-X table size from the capability list; 0 when there is none
 * (ivshmem-plain). */
static int msix_table_size(const struct rte_pci_device *pci)
{
	uint16_t status, ctrl;
	uint8_t pos, id;
	int i;

	if (cfg_read(pci, &status, sizeof(status), CFG_STATUS) < 0)
		return -EIO;
	if (!(status & CFG_STATUS_CAP_LIST))
		return 0;
	if (cfg_read(pci, &pos, sizeof(pos), CFG_CAP_PTR) < 0)
		return -EIO;
	for (i = 0; i < CAP_WALK_MAX && pos >= 0x40; i++) {
		pos &= ~3u;
		if (cfg_read(pci, &id, sizeof(id), pos) < 0)
			return -EIO;
		if (id == CAP_ID_MSIX) {
			if (cfg_read(pci, &ctrl, sizeof(ctrl), pos + MSIX_CTRL) < 0)
				return -EIO;
			return (ctrl & MSIX_CTRL_TABLE_SIZE) + 1;
		}
		if (cfg_read(pci, &pos, sizeof(pos), pos + 1) < 0)
			return -EIO;
	}
	return 0;
}

/* The device writes MSI-X messages as bus-master writes: without the
 * bit it drops every interrupt silently. DPDK's vfio and uio mappings set
 * it; check, and set it where they did not. */
static int ensure_bus_master(const struct rte_pci_device *pci)
{
	const char *name = pci->device.name;
	uint16_t cmd;

	if (cfg_read(pci, &cmd, sizeof(cmd), CFG_COMMAND) < 0) {
		IVSHMEM_LOG(ERR, "%s: cannot read the PCI command register", name);
		return -EIO;
	}
	if (cmd & CFG_COMMAND_MASTER)
		return 0;
	cmd |= CFG_COMMAND_MASTER;
	if (rte_pci_write_config(pci, &cmd, sizeof(cmd), CFG_COMMAND) !=
	    (int)sizeof(cmd) ||
	    cfg_read(pci, &cmd, sizeof(cmd), CFG_COMMAND) < 0 ||
	    !(cmd & CFG_COMMAND_MASTER)) {
		IVSHMEM_LOG(ERR, "%s: cannot enable bus mastering (MSI-X would be lost)",
			    name);
		return -EIO;
	}
	IVSHMEM_LOG(INFO, "%s: bus mastering was off: enabled", name);
	return 0;
}

static void pci_intr_off(struct rte_pci_device *pci)
{
	rte_intr_disable(pci->intr_handle);
	rte_intr_efd_disable(pci->intr_handle);
}

/*
 * Wire @nb MSI-X vectors to eventfds through the device's interrupt handle
 * and fill @fds in vector order. DPDK reserves vector 0 for the handle's
 * own fd (RTE_INTR_VEC_ZERO_OFFSET); vectors 1.. are its efds.
 */
static int pci_intr_on(struct rte_pci_device *pci, unsigned int nb, int *fds)
{
	struct rte_intr_handle *h = pci->intr_handle;
	const char *name = pci->device.name;
	unsigned int i;
	int ret;

	if (nb > 1) {
		ret = rte_intr_efd_enable(h, nb - 1);
		if (ret < 0 || rte_intr_nb_efd_get(h) != (int)(nb - 1)) {
			IVSHMEM_LOG(ERR, "%s: cannot create %u MSI-X eventfds (%s)",
				    name, nb - 1, strerror(ret < 0 ? -ret : ENOSPC));
			rte_intr_efd_disable(h);
			return ret < 0 ? ret : -ENOSPC;
		}
	}
	if (rte_intr_enable(h) != 0) {
		IVSHMEM_LOG(ERR, "%s: cannot enable %u MSI-X vectors", name, nb);
		rte_intr_efd_disable(h);
		return -EIO;
	}
	fds[0] = rte_intr_fd_get(h);
	for (i = 1; i < nb; i++)
		fds[i] = rte_intr_efds_index_get(h, i - 1);
	for (i = 0; i < nb; i++) {
		if (fds[i] < 0) {
			IVSHMEM_LOG(ERR, "%s: MSI-X vector %u has no eventfd", name, i);
			pci_intr_off(pci);
			return -EIO;
		}
	}
	return 0;
}

void ivshmem_pci_release(struct rte_eth_dev *eth_dev)
{
	struct pmd_internals *pi = eth_dev->data->dev_private;

	if (pi->pci_intr_on)
		pci_intr_off(RTE_DEV_TO_PCI(eth_dev->device));
	pi->pci_intr_on = false;
	ivshmem_rmv_unregister(eth_dev);
}

/* How many MSI-X vectors to use: all the device has (or vectors=), on
 * vfio-pci only. Logs why there are none. */
static int pci_vectors(struct rte_pci_device *pci, const struct ivshmem_args *a,
		       const char **why)
{
	int table;

	*why = "";
	table = msix_table_size(pci);
	if (table < 0) {
		IVSHMEM_LOG(ERR, "%s: cannot read the capability list",
			    pci->device.name);
		return table;
	}
	if (table == 0) {
		*why = "the device has no MSI-X (ivshmem-plain)";
		return 0;
	}
	if (pci->kdrv != RTE_PCI_KDRV_VFIO ||
	    rte_intr_type_get(pci->intr_handle) != RTE_INTR_HANDLE_VFIO_MSIX) {
		*why = "DPDK gets no MSI-X through this kernel driver (bind vfio-pci for interrupts)";
		return 0;
	}
	if (a->vectors > table) {
		IVSHMEM_LOG(ERR, "%s: vectors=%u: the device has %d MSI-X vectors",
			    pci->device.name, a->vectors, table);
		return -EINVAL;
	}
	if (a->vectors > 0)
		return a->vectors;
	return table > IVSHMEM_MAX_VECTORS ? IVSHMEM_MAX_VECTORS : table;
}

static const char *kdrv_name(enum rte_pci_kernel_driver k)
{
	switch (k) {
	case RTE_PCI_KDRV_VFIO: return "vfio-pci";
	case RTE_PCI_KDRV_UIO_GENERIC: return "uio_pci_generic";
	case RTE_PCI_KDRV_IGB_UIO: return "igb_uio";
	default: return "another driver";
	}
}

/* Wrap DPDK's BAR mappings and MSI-X eventfds in a libivsh device. */
static int pci_open_device(struct rte_pci_device *pci,
			   const struct ivshmem_args *a, struct ivsh_dev **devp,
			   bool *intr_on)
{
	const char *name = pci->device.name;
	const struct rte_mem_resource *regs = &pci->mem_resource[BAR_REGS];
	const struct rte_mem_resource *shm = &pci->mem_resource[BAR_SHM];
	int fds[IVSHMEM_MAX_VECTORS];
	struct ivsh_dev_mapped m;
	struct ivsh_dev_opts opts;
	const char *why;
	int nb, ret;

	*intr_on = false;
	if (regs->addr == NULL || regs->len < IVSH_BAR0_SIZE ||
	    shm->addr == NULL || shm->len == 0) {
		IVSHMEM_LOG(ERR, "%s: DPDK did not map BAR0 (%" PRIu64 " bytes) and BAR2 (%" PRIu64 " bytes)",
			    name, regs->len, shm->len);
		return -ENODEV;
	}
	nb = pci_vectors(pci, a, &why);
	if (nb < 0)
		return nb;
	if (nb == 0 && a->intr) {
		IVSHMEM_LOG(ERR, "%s: intr=1 needs MSI-X: %s", name, why);
		return -ENOTSUP;
	}
	if (nb > 0) {
		ret = ensure_bus_master(pci);
		if (ret == 0)
			ret = pci_intr_on(pci, (unsigned int)nb, fds);
		if (ret < 0)
			return ret;
		*intr_on = true;
	}

	memset(&m, 0, sizeof(m));
	m.regs = regs->addr;
	m.shm = shm->addr;
	m.shm_size = shm->len;
	m.irq_fds = nb > 0 ? fds : NULL;
	m.nb_irq_fds = (unsigned int)nb;
	m.name = name;
	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = a->timeout_ms;
	opts.id = a->has_id ? a->id : 0;
	opts.id_set = a->has_id;
	ret = ivsh_dev_open_mapped(devp, &m, &opts);
	if (ret < 0) {
		IVSHMEM_LOG(ERR, "%s: %s", name, ivsh_dev_last_error());
		if (*intr_on)
			pci_intr_off(pci);
		*intr_on = false;
		return ret;
	}
	if (nb > 0)
		IVSHMEM_LOG(INFO, "%s: BARs mapped by DPDK (%s), %d MSI-X vectors, shared memory %" PRIu64 " bytes",
			    name, kdrv_name(pci->kdrv), nb, shm->len);
	else
		IVSHMEM_LOG(INFO, "%s: BARs mapped by DPDK (%s), no interrupts: %s; polling only, shared memory %" PRIu64 " bytes",
			    name, kdrv_name(pci->kdrv), why, shm->len);
	return 0;
}

static int ivshmem_pci_probe(struct rte_pci_driver *drv,
			     struct rte_pci_device *pci)
{
	const char *name = pci->device.name;
	const char *params = NULL;
	struct rte_eth_dev *eth_dev;
	struct pmd_internals *pi;
	struct ivshmem_args args;
	struct ivsh_dev *dev = NULL;
	bool intr_on = false;
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

	ret = pci_open_device(pci, &args, &dev, &intr_on);
	if (ret < 0) {
		ivshmem_free_args(&args);
		return ret;
	}

	eth_dev = rte_eth_dev_allocate(name);
	if (eth_dev == NULL) {
		ret = -ENOMEM;
		goto fail_dev;
	}
	eth_dev->data->dev_private = rte_zmalloc_socket(name, sizeof(*pi),
		RTE_CACHE_LINE_SIZE, pci->device.numa_node);
	if (eth_dev->data->dev_private == NULL) {
		rte_eth_dev_release_port(eth_dev);
		ret = -ENOMEM;
		goto fail_dev;
	}
	eth_dev->device = &pci->device;
	eth_dev->data->numa_node = pci->device.numa_node;
	pi = eth_dev->data->dev_private;
	pi->kind = IVSHMEM_KIND_PCI;
	pi->args = args;
	pi->pci_intr_on = intr_on;

	ret = ivshmem_port_attach(pi, dev);
	if (ret < 0)
		ivsh_dev_close(dev);
	else
		ret = ivshmem_ethdev_init(eth_dev, pi);
	if (ret < 0) {
		ivshmem_probe_unwind(eth_dev, pi);
		return ret;
	}
	/* Not fatal: without it a hot-unplug waits for the application. */
	if (ivshmem_rmv_register(eth_dev) < 0)
		IVSHMEM_LOG(WARNING, "%s: no removal events (cannot register a device event callback)",
			    name);
	rte_eth_dev_probing_finish(eth_dev);
	IVSHMEM_LOG(INFO, "%s: ethdev port %u (own ID %u)", name,
		    eth_dev->data->port_id, ivsh_dev_id(dev));
	return 0;

fail_dev:
	ivsh_dev_close(dev);
	if (intr_on)
		pci_intr_off(pci);
	ivshmem_free_args(&args);
	return ret;
}

static int ivshmem_pci_remove(struct rte_pci_device *pci)
{
	return ivshmem_remove(pci->device.name);
}

static struct rte_pci_driver ivshmem_pci_drv = {
	.id_table = ivshmem_pci_ids,
	/* No RTE_PCI_DRV_INTR_LSC: the link state comes from the peer table
	 * (polled by an alarm), not from a device interrupt; the ethdev
	 * flag is set by ivshmem_ethdev_init() all the same.
	 * RTE_PCI_DRV_INTR_RMV: a hot-unplug request (vfio-pci) is raised
	 * as RTE_ETH_EVENT_INTR_RMV (ivshmem_intr.c). */
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING | RTE_PCI_DRV_INTR_RMV,
	.probe = ivshmem_pci_probe,
	.remove = ivshmem_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_ivshmem_pci, ivshmem_pci_drv);
RTE_PMD_REGISTER_PCI_TABLE(net_ivshmem_pci, ivshmem_pci_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_ivshmem_pci, "* vfio-pci | uio_pci_generic");
RTE_PMD_REGISTER_PARAM_STRING(net_ivshmem_pci,
	"peer=<int|auto> "
	"queues=<int> "
	"id=<int> "
	"intr=<0|1> "
	"ring_size=<int> "
	"slot_size=<int> "
	"mac=<xx:xx:xx:xx:xx:xx> "
	"timeout=<ms> "
	"vectors=<int> "
	"rx_zero_copy=<0|1>");
