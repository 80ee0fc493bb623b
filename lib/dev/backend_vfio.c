/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest backend "vfio:BDF": the device bound to vfio-pci, reached through
 * a VFIO container (type1 IOMMU, or no-IOMMU mode where the kernel has
 * it), its group and its device fd.
 *
 * BAR0 (registers) is mmapped when vfio-pci allows it, else accessed with
 * pread/pwrite on the device fd; BAR2 (shared memory) is mmapped. MSI-X
 * vectors and the INTx pin are routed to eventfds with
 * VFIO_DEVICE_SET_IRQS. Bus mastering is enabled, as MSI-X messages of a
 * device without it are dropped. The device-request interrupt is armed
 * so that a hot-unplug is reported (ivsh_dev_removal_fd()) instead of
 * blocking in the kernel.
 *
 * If the process dies without ivsh_dev_close() (fatal signal), the kernel
 * closes the device fd, and vfio-pci then disables the interrupts, clears
 * bus mastering and resets the device: nothing is left armed. A new
 * process can open the device at once.
 */
#include "backend_vfio.h"
#include "dev_private.h"
#include "pci_intx.h"
#include "pci_sysfs.h"
#include "pci_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"
#define NOIOMMU_PARAM "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"

/* MMIO accessors: single volatile 32-bit accesses, as the device wants. */
static uint32_t vfio_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	struct vfio_priv *p = priv_of(dev);
	uint32_t v = 0;

	if (p->regs != NULL)
		return ivsh_mmio_read32(p->regs, off);
	if (off > IVSH_BAR0_SIZE - 4 || (off & 3) != 0)
		return 0;
	if (pread(p->device, &v, 4, (off_t)(p->bar0_off + off)) != 4)
		return UINT32_MAX;
	return v;
}

static void vfio_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	struct vfio_priv *p = priv_of(dev);

	if (p->regs != NULL) {
		ivsh_mmio_write32(p->regs, off, val);
		return;
	}
	if (off > IVSH_BAR0_SIZE - 4 || (off & 3) != 0)
		return;
	(void)!pwrite(p->device, &val, 4, (off_t)(p->bar0_off + off));
}

static uint32_t intx_read(void *ctx, uint32_t off)
{
	return vfio_reg_read(ctx, off);
}

static void intx_write(void *ctx, uint32_t off, uint32_t val)
{
	vfio_reg_write(ctx, off, val);
}

static int cfg_read16(struct vfio_priv *p, unsigned int off, uint16_t *v)
{
	if (pread(p->device, v, 2, (off_t)(p->cfg_off + off)) != 2)
		return -EIO;
	return 0;
}

static int cfg_write16(struct vfio_priv *p, unsigned int off, uint16_t v)
{
	if (pwrite(p->device, &v, 2, (off_t)(p->cfg_off + off)) != 2)
		return -EIO;
	return 0;
}

int vfio_set_irqs(struct vfio_priv *p, unsigned int index, uint32_t flags,
		  unsigned int count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + sizeof(int) * count;
	struct vfio_irq_set *s = calloc(1, sz);
	int rc = 0;

	if (s == NULL)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = flags;
	s->index = index;
	s->start = 0;
	s->count = count;
	if (count > 0 && fds != NULL)
		memcpy(s->data, fds, sizeof(int) * count);
	if (ioctl(p->device, VFIO_DEVICE_SET_IRQS, s) < 0)
		rc = -errno;
	free(s);
	return rc;
}

static int intx_unmask(void *ctx)
{
	struct vfio_priv *p = ctx;

	return vfio_set_irqs(p, VFIO_PCI_INTX_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			     1, NULL);
}

static void vfio_release(struct ivsh_dev *dev)
{
	struct vfio_priv *p = priv_of(dev);
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };

	if (p == NULL)
		return;
	vfio_disarm_request(p);
	if (p->device >= 0) {
		if (p->irq_index >= 0)
			(void)vfio_set_irqs(p, (unsigned int)p->irq_index,
					    VFIO_IRQ_SET_DATA_NONE |
					    VFIO_IRQ_SET_ACTION_TRIGGER,
					    0, NULL);
		if (dev->irq_mode == IVSH_IRQ_INTX ||
		    dev->irq_mode == IVSH_IRQ_INTX_POLL)
			ivsh_intx_teardown(&regs);
		if (p->cmd_saved)
			(void)cfg_write16(p, IVSH_PCI_CFG_COMMAND,
					  p->saved_cmd);
	}
	for (unsigned int i = 0; i < p->nfds; i++)
		close(p->efd[i]);
	if (p->shm != NULL)
		munmap(p->shm, p->shm_len);
	if (p->regs != NULL)
		munmap((void *)(uintptr_t)p->regs, p->regs_len);
	if (p->device >= 0)
		close(p->device);
	if (p->group >= 0)
		close(p->group);
	if (p->container >= 0)
		close(p->container);
	free(p);
	dev->priv = NULL;
	dev->shm = NULL;
}

static bool noiommu_enabled(void)
{
	char c = 'N';
	int fd = open(NOIOMMU_PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 'N';
	close(fd);
	return c == 'Y' || c == 'y' || c == '1';
}

/* Group and container; the IOMMU type follows the kind of group. */
static int open_group(struct vfio_priv *p)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char grp[32], path[64];
	bool noiommu = false;
	int rc, type;

	rc = ivsh_pci_sysfs_link_name(IVSH_SYSFS_ROOT, p->bdf, "iommu_group",
				      grp, sizeof(grp));
	if (rc < 0) {
		ivsh_dev_set_error("vfio:%s: no IOMMU group: give the guest an IOMMU (QEMU -M q35 -device intel-iommu, kernel intel_iommu=on) or use vfio's no-IOMMU mode (modprobe vfio enable_unsafe_noiommu_mode=1; no-IOMMU mode is %s)",
				   p->bdf, noiommu_enabled() ? "on" :
				   "off or not built");
		return -ENODEV;
	}
	p->container = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	if (p->container < 0) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: cannot open %s: %s (is the vfio module loaded?)",
				   p->bdf, VFIO_CONTAINER_PATH,
				   strerror(-rc));
		return rc;
	}
	if (ioctl(p->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ivsh_dev_set_error("vfio:%s: unsupported VFIO API version",
				   p->bdf);
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	p->group = open(path, O_RDWR | O_CLOEXEC);
	if (p->group < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", grp);
		p->group = open(path, O_RDWR | O_CLOEXEC);
		noiommu = p->group >= 0;
	}
	if (p->group < 0) {
		rc = -errno;
		if (rc == -EBUSY)
			ivsh_dev_set_error("vfio:%s: IOMMU group %s is busy: another process has the device open",
					   p->bdf, grp);
		else
			ivsh_dev_set_error("vfio:%s: cannot open /dev/vfio/%s: %s",
					   p->bdf, grp, strerror(-rc));
		return rc;
	}
	if (ioctl(p->group, VFIO_GROUP_GET_STATUS, &st) < 0) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: VFIO_GROUP_GET_STATUS: %s",
				   p->bdf, strerror(-rc));
		return rc;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ivsh_dev_set_error("vfio:%s: IOMMU group %s is not viable: bind every device of the group to vfio-pci (ls /sys/kernel/iommu_groups/%s/devices)",
				   p->bdf, grp, grp);
		return -EBUSY;
	}
	if (ioctl(p->group, VFIO_GROUP_SET_CONTAINER, &p->container) < 0) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: VFIO_GROUP_SET_CONTAINER: %s",
				   p->bdf, strerror(-rc));
		return rc;
	}
	if (noiommu)
		type = VFIO_NOIOMMU_IOMMU;
	else if (ioctl(p->container, VFIO_CHECK_EXTENSION,
		       VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else
		type = VFIO_TYPE1_IOMMU;
	if (ioctl(p->container, VFIO_CHECK_EXTENSION, type) <= 0 ||
	    ioctl(p->container, VFIO_SET_IOMMU, type) < 0) {
		ivsh_dev_set_error("vfio:%s: the VFIO container supports neither a type1 IOMMU nor no-IOMMU mode (load vfio_iommu_type1, or enable no-IOMMU mode)",
				   p->bdf);
		return -ENOTSUP;
	}
	p->device = ioctl(p->group, VFIO_GROUP_GET_DEVICE_FD, p->bdf);
	if (p->device < 0) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: VFIO_GROUP_GET_DEVICE_FD: %s",
				   p->bdf, strerror(-rc));
		return rc;
	}
	return 0;
}

static int region_info(struct vfio_priv *p, unsigned int index,
		       struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(p->device, VFIO_DEVICE_GET_REGION_INFO, ri) < 0) {
		int rc = -errno;

		ivsh_dev_set_error("vfio:%s: region %u info: %s", p->bdf,
				   index, strerror(-rc));
		return rc;
	}
	return 0;
}

int vfio_irq_count(struct vfio_priv *p, unsigned int index)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };

	if (ioctl(p->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
		return 0;
	return (int)ii.count;
}

/* Map BAR0 and find the config region; enable memory and bus master. */
static int map_registers(struct vfio_priv *p)
{
	struct vfio_region_info ri;
	uint16_t cmd;
	int rc;

	rc = region_info(p, VFIO_PCI_BAR0_REGION_INDEX, &ri);
	if (rc < 0)
		return rc;
	if (ri.size < IVSH_BAR0_SIZE) {
		ivsh_dev_set_error("vfio:%s: BAR0 is %llu bytes, expected %d",
				   p->bdf, (unsigned long long)ri.size,
				   IVSH_BAR0_SIZE);
		return -ENODEV;
	}
	p->bar0_off = ri.offset;
	if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		void *m = mmap(NULL, IVSH_BAR0_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, p->device, (off_t)ri.offset);

		/* Not fatal: a BAR smaller than a page may refuse mmap. */
		if (m != MAP_FAILED) {
			p->regs = m;
			p->regs_len = IVSH_BAR0_SIZE;
		}
	}
	rc = region_info(p, VFIO_PCI_CONFIG_REGION_INDEX, &ri);
	if (rc < 0)
		return rc;
	p->cfg_off = ri.offset;
	if (cfg_read16(p, IVSH_PCI_CFG_COMMAND, &cmd) < 0) {
		ivsh_dev_set_error("vfio:%s: cannot read the command register",
				   p->bdf);
		return -EIO;
	}
	p->saved_cmd = cmd;
	p->cmd_saved = true;
	cmd |= IVSH_PCI_CMD_MEMORY | IVSH_PCI_CMD_MASTER;
	if (cfg_write16(p, IVSH_PCI_CFG_COMMAND, cmd) < 0) {
		ivsh_dev_set_error("vfio:%s: cannot enable bus mastering",
				   p->bdf);
		return -EIO;
	}
	return 0;
}

static int map_shm(struct ivsh_dev *dev, struct vfio_priv *p)
{
	struct vfio_region_info ri;
	void *m;
	int rc = region_info(p, VFIO_PCI_BAR2_REGION_INDEX, &ri);

	if (rc < 0)
		return rc;
	if (ri.size == 0 || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		ivsh_dev_set_error("vfio:%s: BAR2 (shared memory) is %s",
				   p->bdf, ri.size == 0 ? "missing" :
				   "not mappable");
		return -ENODEV;
	}
	m = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, p->device,
		 (off_t)ri.offset);
	if (m == MAP_FAILED) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: mmap of BAR2 (%llu bytes): %s",
				   p->bdf, (unsigned long long)ri.size,
				   strerror(-rc));
		return rc;
	}
	p->shm = m;
	p->shm_len = ri.size;
	dev->shm = m;
	dev->shm_size = ri.size;
	return 0;
}

static int setup_irqs(struct ivsh_dev *dev, struct vfio_priv *p,
		      const struct ivsh_dev_opts *opts)
{
	struct ivsh_guest_irq_caps caps = {
		.msix_vectors = (unsigned int)vfio_irq_count(p,
						VFIO_PCI_MSIX_IRQ_INDEX),
		.msix_usable = true,
		.has_intx = vfio_irq_count(p, VFIO_PCI_INTX_IRQ_INDEX) > 0,
	};
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };
	struct ivsh_guest_irq_choice ch;
	char why[200];
	int rc;

	rc = ivsh_guest_irq_choose(&caps, opts, &ch, why, sizeof(why));
	if (rc < 0) {
		ivsh_dev_set_error("vfio:%s: %s", p->bdf, why);
		return rc;
	}
	dev->irq_mode = ch.mode;
	dev->vectors = ch.vectors;
	if (ch.mode == IVSH_IRQ_NONE)
		return 0;
	if (ch.mode == IVSH_IRQ_INTX_POLL) {
		ivsh_intx_setup(&regs, true);
		return 0;
	}
	p->irq_index = ch.mode == IVSH_IRQ_MSIX ? VFIO_PCI_MSIX_IRQ_INDEX :
			VFIO_PCI_INTX_IRQ_INDEX;
	p->nfds = ch.mode == IVSH_IRQ_MSIX ? ch.vectors : 1;
	for (unsigned int i = 0; i < p->nfds; i++) {
		p->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->efd[i] < 0) {
			rc = -errno;
			p->nfds = i;
			ivsh_dev_set_error("vfio:%s: eventfd: %s", p->bdf,
					   strerror(-rc));
			return rc;
		}
	}
	if (ch.mode == IVSH_IRQ_INTX)
		ivsh_intx_setup(&regs, false);
	rc = vfio_set_irqs(p, (unsigned int)p->irq_index,
			   VFIO_IRQ_SET_DATA_EVENTFD |
			   VFIO_IRQ_SET_ACTION_TRIGGER, p->nfds, p->efd);
	if (rc < 0) {
		p->irq_index = -1;
		ivsh_dev_set_error("vfio:%s: VFIO_DEVICE_SET_IRQS (%s, %u): %s",
				   p->bdf, ch.mode == IVSH_IRQ_MSIX ? "MSI-X" :
				   "INTx", p->nfds, strerror(-rc));
		return rc;
	}
	return 0;
}

static int vfio_open(struct ivsh_dev *dev, const char *arg,
		     const struct ivsh_dev_opts *opts)
{
	struct vfio_priv *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ivsh_dev_set_error("out of memory");
		return -ENOMEM;
	}
	p->container = p->group = p->device = p->req_fd = -1;
	p->irq_index = -1;
	dev->priv = p;
	rc = ivsh_guest_check_device(arg, "vfio", "vfio-pci", p->bdf);
	if (rc < 0)
		goto fail;
	rc = open_group(p);
	if (rc < 0)
		goto fail;
	rc = map_registers(p);
	if (rc < 0)
		goto fail;
	rc = ivsh_guest_identify(dev, "vfio", p->bdf, opts);
	if (rc < 0)
		goto fail;
	rc = map_shm(dev, p);
	if (rc < 0)
		goto fail;
	rc = setup_irqs(dev, p, opts);
	if (rc < 0)
		goto fail;
	rc = vfio_arm_request(p);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	vfio_release(dev);
	return rc;
}

static void vfio_close(struct ivsh_dev *dev)
{
	vfio_release(dev);
}

static int vfio_irq_fd(struct ivsh_dev *dev, unsigned int vector)
{
	struct vfio_priv *p = priv_of(dev);

	switch (dev->irq_mode) {
	case IVSH_IRQ_MSIX:
		if (vector >= p->nfds)
			return -EINVAL;
		return p->efd[vector];
	case IVSH_IRQ_INTX:
		if (vector >= IVSH_DEV_MAX_VECTORS)
			return -EINVAL;
		return p->efd[0];
	default:
		return -ENOTSUP;
	}
}

int vfio_drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static int vfio_irq_ack(struct ivsh_dev *dev, unsigned int vector)
{
	struct vfio_priv *p = priv_of(dev);
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };
	int fd = vfio_irq_fd(dev, vector);
	int n, st;

	if (fd < 0)
		return fd;
	n = vfio_drain(fd);
	if (dev->irq_mode != IVSH_IRQ_INTX)
		return n;
	/* vfio-pci masked the line when it fired: status read, unmask. */
	st = ivsh_intx_ack(&regs, intx_unmask, p);
	if (st < 0)
		return st;
	return n > 0 ? n : st;
}

const struct ivsh_backend_ops ivsh_backend_vfio = {
	.prefix = "vfio",
	.open = vfio_open,
	.close = vfio_close,
	.reg_read = vfio_reg_read,
	.reg_write = vfio_reg_write,
	.irq_fd = vfio_irq_fd,
	.irq_ack = vfio_irq_ack,
	.removal_fd = vfio_removal_fd,
	.check_removed = vfio_check_removed,
};
