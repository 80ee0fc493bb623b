/* SPDX-License-Identifier: BSD-3-Clause */
/* Device checks, interrupt mode and ID choice for the guest backends. */
#include "pci_guest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dev_private.h"

int ivsh_guest_irq_choose(const struct ivsh_guest_irq_caps *caps,
			  const struct ivsh_dev_opts *opts,
			  struct ivsh_guest_irq_choice *out, char *why,
			  size_t why_len)
{
	bool msix = caps->msix_vectors > 0;
	enum ivsh_irq_mode mode = opts->irq_mode;

	if (mode == IVSH_IRQ_AUTO) {
		if (msix && caps->msix_usable)
			mode = IVSH_IRQ_MSIX;
		else if (!msix && caps->has_intx)
			mode = IVSH_IRQ_INTX;
		else
			mode = IVSH_IRQ_NONE;
	}
	switch (mode) {
	case IVSH_IRQ_MSIX:
		if (!msix) {
			snprintf(why, why_len, "irq=msix: the device has no MSI-X capability (ivshmem-plain or a legacy INTx device)");
			return -ENOTSUP;
		}
		if (!caps->msix_usable) {
			snprintf(why, why_len, "irq=msix: this driver cannot deliver MSI-X to user space; use vfio: or irq=none (polling)");
			return -ENOTSUP;
		}
		if (opts->vectors > caps->msix_vectors) {
			snprintf(why, why_len, "vectors=%u: the device has only %u MSI-X vectors",
				 opts->vectors, caps->msix_vectors);
			return -EINVAL;
		}
		out->vectors = opts->vectors != 0 ? opts->vectors :
			       caps->msix_vectors;
		if (out->vectors > IVSH_DEV_MAX_VECTORS)
			out->vectors = IVSH_DEV_MAX_VECTORS;
		break;
	case IVSH_IRQ_INTX:
	case IVSH_IRQ_INTX_POLL:
		if (msix) {
			snprintf(why, why_len, "irq=%s: the device has MSI-X, so it never sets IntrStatus or raises INTx (only QEMU < 4.0 'ivshmem,msi=off' has INTx)",
				 ivsh_dev_irq_mode_name(mode));
			return -ENOTSUP;
		}
		if (mode == IVSH_IRQ_INTX && !caps->has_intx) {
			snprintf(why, why_len, "irq=intx: the device has no INTx line; use irq=intx-poll or irq=none");
			return -ENOTSUP;
		}
		out->vectors = 1;
		break;
	default:
		mode = IVSH_IRQ_NONE;
		out->vectors = 0;
		break;
	}
	out->mode = mode;
	return 0;
}

int ivsh_guest_check_device(const char *arg, const char *prefix,
			    const char *driver, char bdf[IVSH_PCI_BDF_LEN])
{
	char drv[64], hint[400];
	int rc;

	if (ivsh_pci_parse_bdf(arg, bdf) < 0) {
		ivsh_dev_set_error("%s:%s: not a PCI address (expected DDDD:BB:DD.F, e.g. 0000:00:04.0)",
				   prefix, arg);
		return -EINVAL;
	}
	rc = ivsh_pci_sysfs_check_ivshmem(IVSH_SYSFS_ROOT, bdf);
	if (rc == -ENOENT) {
		ivsh_dev_set_error("%s:%s: no such PCI device (ivsh-bind --list shows the ivshmem devices)",
				   prefix, arg);
		return rc;
	}
	if (rc < 0) {
		ivsh_dev_set_error("%s:%s: not an ivshmem device (%04x:%04x)",
				   prefix, arg, IVSH_PCI_VENDOR_ID,
				   IVSH_PCI_DEVICE_ID);
		return -ENODEV;
	}
	if (driver == NULL)
		return 0;
	rc = ivsh_pci_sysfs_link_name(IVSH_SYSFS_ROOT, bdf, "driver", drv,
				      sizeof(drv));
	if (rc == 0 && strcmp(drv, driver) == 0)
		return 0;
	ivsh_pci_bind_hint(bdf, driver, hint, sizeof(hint));
	if (rc == 0)
		ivsh_dev_set_error("%s:%s: device is bound to %s, not %s; %s",
				   prefix, arg, drv, driver, hint);
	else
		ivsh_dev_set_error("%s:%s: device is not bound to any driver; %s",
				   prefix, arg, hint);
	return -ENODEV;
}

int ivsh_guest_wait_position(uint32_t (*rd)(void *ctx, uint32_t off),
			     void *ctx, int timeout_ms, int32_t *pos)
{
	int64_t deadline = ivsh_dev_now_ms() + timeout_ms;
	const struct timespec ms = { 0, 1000000 };

	for (;;) {
		int32_t v = (int32_t)rd(ctx, IVSH_REG_IVPOSITION);

		if (v >= 0) {
			*pos = v;
			return 0;
		}
		if (ivsh_dev_ms_left(deadline) == 0)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
}

int ivsh_guest_apply_id(int32_t pos, const struct ivsh_dev_opts *opts,
			uint16_t *id)
{
	if (pos < 0 || pos > 65535)
		return -ERANGE;
	if (opts->id_set || opts->id > 0) {
		if (pos != 0 && pos != opts->id)
			return -EINVAL;
		*id = (uint16_t)opts->id;
		return 0;
	}
	*id = (uint16_t)pos;
	return 0;
}

static uint32_t reg_read_ctx(void *ctx, uint32_t off)
{
	struct ivsh_dev *dev = ctx;

	return dev->ops->reg_read(dev, off);
}

int ivsh_guest_identify(struct ivsh_dev *dev, const char *prefix,
			const char *name, const struct ivsh_dev_opts *opts)
{
	int32_t pos;
	int rc;

	/* BAR2 is only safe once IVPosition is non-negative (the spec). */
	rc = ivsh_guest_wait_position(reg_read_ctx, dev, opts->timeout_ms, &pos);
	if (rc < 0) {
		ivsh_dev_set_error("%s:%s: IVPosition stayed negative for %d ms: the device has not received its shared memory from the ivshmem server (is the server running?)",
				   prefix, name, opts->timeout_ms);
		return rc;
	}
	rc = ivsh_guest_apply_id(pos, opts, &dev->id);
	if (rc == -ERANGE)
		ivsh_dev_set_error("%s:%s: IVPosition %d is not a valid ID",
				   prefix, name, (int)pos);
	else if (rc < 0)
		ivsh_dev_set_error("%s:%s: id=%d conflicts with IVPosition %d (the server assigned it; drop id=)",
				   prefix, name, opts->id, (int)pos);
	return rc;
}
