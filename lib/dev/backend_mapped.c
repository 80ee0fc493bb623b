/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A device whose BARs and interrupt eventfds were set up by someone else,
 * such as DPDK's PCI bus. Registers are MMIO on the given BAR0; nothing is
 * unmapped or closed on close, the caller owns it all.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_private.h"
#include "pci_guest.h"

struct mapped_priv {
	volatile uint32_t *regs;
	unsigned int nfds;
	int efd[IVSH_DEV_MAX_VECTORS];
};

static uint32_t mapped_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	return ivsh_mmio_read32(((struct mapped_priv *)dev->priv)->regs, off);
}

static void mapped_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	ivsh_mmio_write32(((struct mapped_priv *)dev->priv)->regs, off, val);
}

static int mapped_doorbell(struct ivsh_dev *dev, uint16_t peer,
			   uint16_t vector)
{
	if (dev->irq_mode == IVSH_IRQ_NONE)
		return -ENOTSUP;
	mapped_reg_write(dev, IVSH_REG_DOORBELL,
			 ivsh_doorbell_value(peer, vector));
	return 0;
}

static int mapped_irq_fd(struct ivsh_dev *dev, unsigned int vector)
{
	struct mapped_priv *p = dev->priv;

	if (dev->irq_mode != IVSH_IRQ_MSIX)
		return -ENOTSUP;
	if (vector >= p->nfds)
		return -EINVAL;
	return p->efd[vector];
}

static int mapped_irq_ack(struct ivsh_dev *dev, unsigned int vector)
{
	uint64_t n = 0;
	int fd = mapped_irq_fd(dev, vector);

	if (fd < 0)
		return fd;
	/* The eventfd may be blocking (the caller made it): only read a
	 * count that is there, which poll() just said, or not at all. */
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static int mapped_open(struct ivsh_dev *dev, const char *arg,
		       const struct ivsh_dev_opts *opts)
{
	(void)dev;
	(void)arg;
	(void)opts;
	ivsh_dev_set_error("mapped devices are opened with ivsh_dev_open_mapped()");
	return -EINVAL;
}

static void mapped_close(struct ivsh_dev *dev)
{
	free(dev->priv);
	dev->priv = NULL;
}

const struct ivsh_backend_ops ivsh_backend_mapped = {
	.prefix = "mapped",
	.open = mapped_open,
	.close = mapped_close,
	.reg_read = mapped_reg_read,
	.reg_write = mapped_reg_write,
	.doorbell = mapped_doorbell,
	.irq_fd = mapped_irq_fd,
	.irq_ack = mapped_irq_ack,
};

static int check_mapped(const struct ivsh_dev_mapped *m)
{
	const char *name = m->name != NULL ? m->name : "mapped";

	if (m->regs == NULL || m->shm == NULL || m->shm_size == 0) {
		ivsh_dev_set_error("%s: BAR0 and BAR2 must both be mapped", name);
		return -EINVAL;
	}
	if (m->nb_irq_fds > IVSH_DEV_MAX_VECTORS ||
	    (m->nb_irq_fds > 0 && m->irq_fds == NULL)) {
		ivsh_dev_set_error("%s: %u interrupt fds: expected 0..%d with an array",
				   name, m->nb_irq_fds, IVSH_DEV_MAX_VECTORS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < m->nb_irq_fds; i++) {
		if (m->irq_fds[i] < 0) {
			ivsh_dev_set_error("%s: interrupt fd %u is invalid", name, i);
			return -EINVAL;
		}
	}
	return 0;
}

int ivsh_dev_open_mapped(struct ivsh_dev **devp,
			 const struct ivsh_dev_mapped *m,
			 const struct ivsh_dev_opts *opts)
{
	struct ivsh_dev_opts o = { 0 };
	struct mapped_priv *p;
	struct ivsh_dev *dev;
	int rc;

	ivsh_dev_set_error("%s", "");
	if (devp == NULL || m == NULL) {
		ivsh_dev_set_error("ivsh_dev_open_mapped: NULL argument");
		return -EINVAL;
	}
	*devp = NULL;
	if (opts != NULL)
		o = *opts;
	if (o.timeout_ms <= 0)
		o.timeout_ms = IVSH_DEV_DEFAULT_TIMEOUT_MS;
	rc = check_mapped(m);
	if (rc < 0)
		return rc;
	dev = calloc(1, sizeof(*dev));
	p = calloc(1, sizeof(*p));
	if (dev == NULL || p == NULL) {
		free(dev);
		free(p);
		ivsh_dev_set_error("out of memory");
		return -ENOMEM;
	}
	p->regs = m->regs;
	p->nfds = m->nb_irq_fds;
	for (unsigned int i = 0; i < p->nfds; i++)
		p->efd[i] = m->irq_fds[i];
	dev->ops = &ivsh_backend_mapped;
	dev->priv = p;
	dev->shm = m->shm;
	dev->shm_size = m->shm_size;
	dev->vectors = p->nfds;
	dev->irq_mode = p->nfds > 0 ? IVSH_IRQ_MSIX : IVSH_IRQ_NONE;

	rc = ivsh_guest_identify(dev, "mapped", m->name != NULL ? m->name : "BAR0", &o);
	if (rc < 0) {
		ivsh_dev_close(dev);
		return rc;
	}
	*devp = dev;
	return 0;
}
