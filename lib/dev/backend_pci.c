/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest backend "pci:BDF": looks at the kernel driver the device is bound
 * to and becomes the vfio: or uio: backend (ivsh_dev_backend() then says
 * which).
 */
#include "dev_private.h"
#include "pci_guest.h"
#include "pci_sysfs.h"

#include <errno.h>
#include <string.h>

static int pci_open(struct ivsh_dev *dev, const char *arg,
		    const struct ivsh_dev_opts *opts)
{
	char bdf[IVSH_PCI_BDF_LEN], drv[64], hint[400];
	int rc;

	rc = ivsh_guest_check_device(arg, "pci", NULL, bdf);
	if (rc < 0)
		return rc;
	rc = ivsh_pci_sysfs_link_name(IVSH_SYSFS_ROOT, bdf, "driver", drv,
				      sizeof(drv));
	if (rc == 0 && strcmp(drv, "vfio-pci") == 0)
		dev->ops = &ivsh_backend_vfio;
	else if (rc == 0 && strcmp(drv, "uio_pci_generic") == 0)
		dev->ops = &ivsh_backend_uio;
	else {
		ivsh_pci_bind_hint(bdf, "vfio-pci", hint, sizeof(hint));
		if (rc == 0)
			ivsh_dev_set_error("pci:%s: bound to %s, which is neither vfio-pci nor uio_pci_generic; %s",
					   arg, drv, hint);
		else
			ivsh_dev_set_error("pci:%s: not bound to any driver; %s",
					   arg, hint);
		return -ENODEV;
	}
	/* dev.c calls dev->ops->close() later, so swapping ops is enough. */
	return dev->ops->open(dev, bdf, opts);
}

static void pci_close(struct ivsh_dev *dev)
{
	(void)dev; /* never reached: open() replaced dev->ops */
}

static uint32_t pci_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	(void)dev;
	(void)off;
	return 0;
}

static void pci_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	(void)dev;
	(void)off;
	(void)val;
}

const struct ivsh_backend_ops ivsh_backend_pci = {
	.prefix = "pci",
	.open = pci_open,
	.close = pci_close,
	.reg_read = pci_reg_read,
	.reg_write = pci_reg_write,
};
