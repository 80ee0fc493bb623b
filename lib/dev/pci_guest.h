/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decisions shared by the guest backends (vfio:, uio:): which device,
 * which interrupt mode, which ID. Pure where possible, so unit tests
 * cover them without a device.
 */
#ifndef IVSH_PCI_GUEST_H
#define IVSH_PCI_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivsh_dev.h"
#include "pci_sysfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * BAR0 accessors for backends with the register block mapped: a single
 * volatile 32-bit access, as the device wants. An offset outside the
 * block or not 4-byte aligned reads 0 and writes nothing.
 */
static inline uint32_t ivsh_mmio_read32(volatile uint32_t *regs, uint32_t off)
{
	if (off > IVSH_BAR0_SIZE - 4 || (off & 3) != 0)
		return 0;
	return regs[off / 4];
}

static inline void ivsh_mmio_write32(volatile uint32_t *regs, uint32_t off,
				     uint32_t val)
{
	if (off > IVSH_BAR0_SIZE - 4 || (off & 3) != 0)
		return;
	regs[off / 4] = val;
}

/** What a device and its kernel driver can deliver. */
struct ivsh_guest_irq_caps {
	unsigned int msix_vectors; /**< MSI-X table size (0: no MSI-X) */
	bool msix_usable;          /**< the driver can route MSI-X to us */
	bool has_intx;             /**< an INTx line routed to us */
};

/** The outcome of ivsh_guest_irq_choose(). */
struct ivsh_guest_irq_choice {
	enum ivsh_irq_mode mode; /**< never IVSH_IRQ_AUTO */
	unsigned int vectors;    /**< vectors to set up (0 for none) */
};

/**
 * Pick the interrupt mode for opts->irq_mode and opts->vectors:
 * auto is MSI-X when usable, else INTx when there is a line, else none
 * (polling). INTx modes need a device without MSI-X (the device never
 * sets IntrStatus when it has MSI-X) and use one vector.
 * @return 0; -ENOTSUP the mode is impossible; -EINVAL more vectors asked
 *         than the device has. @p why gets a one-line reason on error.
 */
int ivsh_guest_irq_choose(const struct ivsh_guest_irq_caps *caps,
			  const struct ivsh_dev_opts *opts,
			  struct ivsh_guest_irq_choice *out, char *why,
			  size_t why_len);

/**
 * Check that @p arg names an ivshmem device bound to @p driver; on
 * success the canonical address is in @p bdf. Messages start with
 * "@p prefix:ARG: ".
 * @return 0; -EINVAL not a PCI address; -ENOENT no such device;
 *         -ENODEV not ivshmem, or not bound to @p driver (the message
 *         says how to bind it).
 */
int ivsh_guest_check_device(const char *arg, const char *prefix,
			    const char *driver, char bdf[IVSH_PCI_BDF_LEN]);

/**
 * Wait until IVPosition (read with @p rd) is non-negative, polling every
 * millisecond for up to @p timeout_ms.
 * @return 0 and the value in @p pos; -ETIMEDOUT.
 */
int ivsh_guest_wait_position(uint32_t (*rd)(void *ctx, uint32_t off),
			     void *ctx, int timeout_ms, int32_t *pos);

/**
 * The device's ID: IVPosition, unless an ID was given (opts->id_set, or
 * opts->id > 0), which wins where IVPosition is 0 (ivshmem-plain, where
 * every device reads 0). A given ID different from a non-zero IVPosition
 * is an error, id=0 included (the server assigned the position and peers
 * ring that ID).
 * @return 0; -EINVAL conflict; -ERANGE IVPosition above 65535.
 */
int ivsh_guest_apply_id(int32_t pos, const struct ivsh_dev_opts *opts,
			uint16_t *id);

/**
 * Wait for IVPosition (through dev->ops->reg_read) and set dev->id with
 * ivsh_guest_apply_id(). Messages start with "@p prefix:@p name: ".
 * @return 0; -ETIMEDOUT; -ERANGE; -EINVAL as ivsh_guest_apply_id().
 */
int ivsh_guest_identify(struct ivsh_dev *dev, const char *prefix,
			const char *name, const struct ivsh_dev_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_PCI_GUEST_H */
