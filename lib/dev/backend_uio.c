/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest backend "uio:BDF": the device bound to uio_pci_generic.
 *
 * BAR0 and BAR2 are mapped through sysfs (resourceN), with libpciaccess
 * when the library was found at build time, else directly. uio cannot
 * deliver MSI-X, so a device with MSI-X (QEMU's ivshmem-doorbell) runs
 * without interrupts (polling; doorbells to peers still work). A legacy
 * device with an INTx line gets its interrupts through /dev/uioN: a read
 * returns the event count, writing 1 re-enables the line.
 *
 * Removal is noticed by polling (ivsh_dev_check_removed()): the device's
 * sysfs config file, opened at open, fails or reads all-ones once the
 * device is gone; the BAR mappings are then replaced by zero pages.
 *
 * If the process dies without ivsh_dev_close(), the kernel drops the
 * mappings and the uio fd; the INTx line stays disabled (uio masks it when
 * it fires) until the next user writes 1, so nothing is left asserted.
 */
#include "dev_private.h"
#include "pci_guest.h"
#include "pci_intx.h"
#include "pci_removal.h"
#include "pci_sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef IVSH_HAVE_PCIACCESS
#include <pciaccess.h>
#include <pthread.h>
#endif

struct uio_priv {
	char bdf[IVSH_PCI_BDF_LEN];
	volatile uint32_t *regs;
	size_t regs_len;
	void *shm;
	size_t shm_len;
	int uio_fd;
	int cfg_fd;         /* sysfs config, kept open to notice removal */
	bool gone;          /* removed: the BARs are never touched again */
	uint32_t uio_count; /* last event count read from /dev/uioN */
	bool count_known;   /* uio_count holds a value read */
#ifdef IVSH_HAVE_PCIACCESS
	struct pci_device *pd;
	bool pci_inited;
#endif
};

static struct uio_priv *priv_of(struct ivsh_dev *dev)
{
	return dev->priv;
}

#ifdef IVSH_HAVE_PCIACCESS
/* libpciaccess state is global: count its users in this process. */
static pthread_mutex_t pci_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int pci_users;

static int pci_get(void)
{
	int rc = 0;

	pthread_mutex_lock(&pci_lock);
	if (pci_users == 0)
		rc = -pci_system_init();
	if (rc == 0)
		pci_users++;
	pthread_mutex_unlock(&pci_lock);
	return rc;
}

static void pci_put(void)
{
	pthread_mutex_lock(&pci_lock);
	if (pci_users > 0 && --pci_users == 0)
		pci_system_cleanup();
	pthread_mutex_unlock(&pci_lock);
}

static int map_bar(struct uio_priv *p, unsigned int bar, size_t min,
		   void **addr, size_t *len)
{
	unsigned int dom, bus, slot, fn;
	struct pci_device *pd = p->pd;
	int rc;

	if (pd == NULL) {
		rc = pci_get();
		if (rc < 0) {
			ivsh_dev_set_error("uio:%s: libpciaccess: %s", p->bdf,
					   strerror(-rc));
			return rc;
		}
		p->pci_inited = true;
		sscanf(p->bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
		pd = pci_device_find_by_slot(dom, bus, slot, fn);
		if (pd == NULL || pci_device_probe(pd) != 0) {
			ivsh_dev_set_error("uio:%s: libpciaccess cannot find or probe the device",
					   p->bdf);
			return -ENOENT;
		}
		p->pd = pd;
	}
	if (pd->regions[bar].size < min || pd->regions[bar].size > SIZE_MAX) {
		ivsh_dev_set_error("uio:%s: BAR%u is %llu bytes", p->bdf, bar,
				   (unsigned long long)pd->regions[bar].size);
		return -ENODEV;
	}
	*len = (size_t)pd->regions[bar].size;
	rc = pci_device_map_range(pd, pd->regions[bar].base_addr, *len,
				  PCI_DEV_MAP_FLAG_WRITABLE, addr);
	if (rc != 0) {
		ivsh_dev_set_error("uio:%s: mapping BAR%u: %s", p->bdf, bar,
				   strerror(rc));
		return -rc;
	}
	return 0;
}

static void unmap_bar(struct uio_priv *p, void *addr, size_t len)
{
	pci_device_unmap_range(p->pd, addr, len);
}

static void pci_release(struct uio_priv *p)
{
	if (p->pci_inited)
		pci_put();
}
#else
/* Without libpciaccess: map sysfs resourceN directly. */
static int map_bar(struct uio_priv *p, unsigned int bar, size_t min,
		   void **addr, size_t *len)
{
	uint64_t start, size, flags;
	char path[PATH_MAX];
	void *m;
	int fd, rc;

	rc = ivsh_pci_sysfs_bar(IVSH_SYSFS_ROOT, p->bdf, bar, &start, &size,
				&flags);
	if (rc < 0 || size < min || size > SIZE_MAX) {
		ivsh_dev_set_error("uio:%s: BAR%u is missing or too small",
				   p->bdf, bar);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), IVSH_SYSFS_ROOT
		 "/bus/pci/devices/%s/resource%u", p->bdf, bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		ivsh_dev_set_error("uio:%s: open %s: %s", p->bdf, path,
				   strerror(-rc));
		return rc;
	}
	m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	rc = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc < 0) {
		ivsh_dev_set_error("uio:%s: mmap %s: %s", p->bdf, path,
				   strerror(-rc));
		return rc;
	}
	*addr = m;
	*len = (size_t)size;
	return 0;
}

static void unmap_bar(struct uio_priv *p, void *addr, size_t len)
{
	(void)p;
	munmap(addr, len);
}

static void pci_release(struct uio_priv *p)
{
	(void)p;
}
#endif

static uint32_t uio_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	return ivsh_mmio_read32(priv_of(dev)->regs, off);
}

static void uio_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	ivsh_mmio_write32(priv_of(dev)->regs, off, val);
}

static uint32_t intx_read(void *ctx, uint32_t off)
{
	return uio_reg_read(ctx, off);
}

static void intx_write(void *ctx, uint32_t off, uint32_t val)
{
	uio_reg_write(ctx, off, val);
}

/* Writing 1 to /dev/uioN clears the INTx disable bit uio set. */
static int uio_unmask(void *ctx)
{
	struct uio_priv *p = ctx;
	int32_t one = 1;

	if (write(p->uio_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return -errno;
	return 0;
}

static void uio_release(struct ivsh_dev *dev)
{
	struct uio_priv *p = priv_of(dev);
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };

	if (p == NULL)
		return;
	if (p->regs != NULL && !p->gone && (dev->irq_mode == IVSH_IRQ_INTX ||
					    dev->irq_mode == IVSH_IRQ_INTX_POLL))
		ivsh_intx_teardown(&regs);
	if (p->uio_fd >= 0)
		close(p->uio_fd);
	if (p->cfg_fd >= 0)
		close(p->cfg_fd);
	if (p->shm != NULL)
		unmap_bar(p, p->shm, p->shm_len);
	if (p->regs != NULL)
		unmap_bar(p, (void *)(uintptr_t)p->regs, p->regs_len);
	pci_release(p);
	free(p);
	dev->priv = NULL;
	dev->shm = NULL;
}

/* MSI-X table size and INTx line, from config space and sysfs. */
static void read_caps(struct uio_priv *p, struct ivsh_guest_irq_caps *caps)
{
	uint8_t cfg[256] = { 0 };
	unsigned long irq = 0;
	unsigned int pos;
	int n;

	n = ivsh_pci_sysfs_read_config(IVSH_SYSFS_ROOT, p->bdf, cfg,
				       sizeof(cfg));
	if (n < 0)
		n = 0;
	pos = ivsh_pci_find_cap(cfg, (size_t)n, IVSH_PCI_CAP_ID_MSIX);
	if (pos != 0 && pos + 3 < (unsigned int)n)
		caps->msix_vectors = ((cfg[pos + 2] | cfg[pos + 3] << 8) &
				      0x7ff) + 1;
	/* "irq" is decimal; parsed as hex it is still non-zero iff set. */
	(void)ivsh_pci_sysfs_read_hex(IVSH_SYSFS_ROOT, p->bdf, "irq", &irq);
	caps->has_intx = n > IVSH_PCI_CFG_INT_PIN &&
			 cfg[IVSH_PCI_CFG_INT_PIN] != 0 && irq != 0;
	caps->msix_usable = false;
}

static int setup_irqs(struct ivsh_dev *dev, struct uio_priv *p,
		      const struct ivsh_dev_opts *opts)
{
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };
	struct ivsh_guest_irq_caps caps = { 0 };
	struct ivsh_guest_irq_choice ch;
	char why[200], path[64];
	int rc, idx;

	read_caps(p, &caps);
	rc = ivsh_guest_irq_choose(&caps, opts, &ch, why, sizeof(why));
	if (rc < 0) {
		ivsh_dev_set_error("uio:%s: %s", p->bdf, why);
		return rc;
	}
	dev->irq_mode = ch.mode;
	dev->vectors = ch.vectors;
	if (ch.mode == IVSH_IRQ_INTX_POLL)
		ivsh_intx_setup(&regs, true);
	if (ch.mode != IVSH_IRQ_INTX)
		return 0;
	rc = ivsh_pci_sysfs_uio_index(IVSH_SYSFS_ROOT, p->bdf, &idx);
	if (rc < 0) {
		ivsh_dev_set_error("uio:%s: no /dev/uioN for the device (is uio_pci_generic bound?)",
				   p->bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/uio%d", idx);
	p->uio_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->uio_fd < 0) {
		rc = -errno;
		ivsh_dev_set_error("uio:%s: open %s: %s", p->bdf, path,
				   strerror(-rc));
		return rc;
	}
	ivsh_intx_setup(&regs, false);
	return uio_unmask(p);
}

static int uio_open(struct ivsh_dev *dev, const char *arg,
		    const struct ivsh_dev_opts *opts)
{
	struct uio_priv *p;
	void *m;
	size_t len;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ivsh_dev_set_error("out of memory");
		return -ENOMEM;
	}
	p->uio_fd = p->cfg_fd = -1;
	dev->priv = p;
	rc = ivsh_guest_check_device(arg, "uio", "uio_pci_generic", p->bdf);
	if (rc < 0)
		goto fail;
	p->cfg_fd = ivsh_pci_removal_open(IVSH_SYSFS_ROOT, p->bdf);
	if (p->cfg_fd < 0) {
		rc = p->cfg_fd;
		ivsh_dev_set_error("uio:%s: cannot open its sysfs config: %s",
				   p->bdf, strerror(-rc));
		goto fail;
	}
	rc = map_bar(p, 0, IVSH_BAR0_SIZE, &m, &len);
	if (rc < 0)
		goto fail;
	p->regs = m;
	p->regs_len = len;
	rc = ivsh_guest_identify(dev, "uio", p->bdf, opts);
	if (rc < 0)
		goto fail;
	rc = map_bar(p, 2, 1, &m, &len);
	if (rc < 0)
		goto fail;
	p->shm = m;
	p->shm_len = len;
	dev->shm = m;
	dev->shm_size = len;
	rc = setup_irqs(dev, p, opts);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	uio_release(dev);
	return rc;
}

static void uio_close(struct ivsh_dev *dev)
{
	uio_release(dev);
}

static int uio_irq_fd(struct ivsh_dev *dev, unsigned int vector)
{
	struct uio_priv *p = priv_of(dev);

	if (dev->irq_mode != IVSH_IRQ_INTX)
		return -ENOTSUP;
	if (vector >= IVSH_DEV_MAX_VECTORS)
		return -EINVAL;
	return p->uio_fd;
}

static int uio_irq_ack(struct ivsh_dev *dev, unsigned int vector)
{
	struct uio_priv *p = priv_of(dev);
	const struct ivsh_intx_regs regs = { intx_read, intx_write, dev };
	uint32_t count;
	int n = 0, st;

	if (dev->irq_mode != IVSH_IRQ_INTX)
		return -ENOTSUP;
	if (vector >= IVSH_DEV_MAX_VECTORS)
		return -EINVAL;
	/* The uio read returns the total event count (non-blocking fd). */
	if (read(p->uio_fd, &count, sizeof(count)) == (ssize_t)sizeof(count)) {
		uint32_t d = p->count_known ? count - p->uio_count : 1;

		p->uio_count = count;
		p->count_known = true;
		n = d > INT_MAX ? INT_MAX : (int)d;
	}
	st = ivsh_intx_ack(&regs, uio_unmask, p);
	if (st < 0)
		return st;
	return n > 0 ? n : st;
}

/*
 * uio_pci_generic lets the kernel remove the device at once; the old
 * mappings then read zeros, and a device plugged in later may get the
 * same bus address. So on removal both mappings are replaced by zero
 * pages before anything else can write through them.
 */
static int uio_check_removed(struct ivsh_dev *dev)
{
	struct uio_priv *p = priv_of(dev);

	if (!p->gone && !ivsh_pci_removal_gone(p->cfg_fd))
		return 0;
	p->gone = true;
	if (p->regs != NULL)
		(void)ivsh_mapping_neutralize((void *)(uintptr_t)p->regs,
					      p->regs_len);
	if (p->shm != NULL)
		(void)ivsh_mapping_neutralize(p->shm, p->shm_len);
	return 1;
}

const struct ivsh_backend_ops ivsh_backend_uio = {
	.prefix = "uio",
	.open = uio_open,
	.close = uio_close,
	.reg_read = uio_reg_read,
	.reg_write = uio_reg_write,
	.irq_fd = uio_irq_fd,
	.irq_ack = uio_irq_ack,
	.check_removed = uio_check_removed,
};
