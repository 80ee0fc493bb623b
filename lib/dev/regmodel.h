/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A model of the ivshmem register BAR (BAR0) with the exact semantics of
 * the ivshmem spec ("PCI device registers"). Pure data: no fds, no
 * allocation, no locking; the owner serialises access.
 *
 *   offset 0  IntrMask    read/write (all 32 bits stored, bit 0 used)
 *   offset 4  IntrStatus  read/write; a read returns the value and clears it
 *   offset 8  IVPosition  read-only; -1 until ready when configured for
 *                         interrupts, then the ID; 0 without interrupts
 *                         until an ID is set
 *   offset 12 Doorbell    write-only (reads 0); peer << 16 | vector, handed
 *                         to the doorbell callback once the device is ready
 *   16..255   reserved    read 0, writes ignored
 *
 * Incoming interrupt (ivsh_regmodel_interrupt()): with MSI-X the vector is
 * signalled through the msix callback; without MSI-X, IntrStatus is set
 * to 1 and the legacy INTx line is asserted while (IntrStatus & IntrMask)
 * is non-zero (ivsh_regmodel_intx_asserted()).
 *
 * Used by the host backends (server:, shm:) to emulate registers, and by
 * tests as the reference for what a real device does.
 */
#ifndef IVSH_REGMODEL_H
#define IVSH_REGMODEL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Called for a Doorbell write once the device is ready. */
typedef void (*ivsh_regmodel_doorbell_fn)(void *opaque, uint16_t peer,
					  uint16_t vector);
/** Called for an incoming interrupt on @p vector when MSI-X is used. */
typedef void (*ivsh_regmodel_msix_fn)(void *opaque, uint16_t vector);

/** How the modelled device is configured. */
enum ivsh_regmodel_config {
	IVSH_REGMODEL_PLAIN = 0, /**< no interrupts: IVPosition 0, doorbell
				  *   writes ignored (ivshmem-plain) */
	IVSH_REGMODEL_MSIX,      /**< interrupts through MSI-X vectors */
	IVSH_REGMODEL_INTX,      /**< interrupts through IntrStatus/INTx */
};

/** Register state. Fields are private; use the functions below. */
struct ivsh_regmodel {
	uint32_t intr_mask;
	uint32_t intr_status;
	int32_t ivposition;
	enum ivsh_regmodel_config config;
	ivsh_regmodel_doorbell_fn doorbell;
	ivsh_regmodel_msix_fn msix;
	void *opaque;
};

/**
 * Reset the model: IntrMask 0, IntrStatus 0, IVPosition -1 (0 for
 * IVSH_REGMODEL_PLAIN), no callbacks.
 */
void ivsh_regmodel_init(struct ivsh_regmodel *m,
			enum ivsh_regmodel_config config);

/**
 * Set the callbacks (either may be NULL) and their opaque argument.
 */
void ivsh_regmodel_set_callbacks(struct ivsh_regmodel *m,
				 ivsh_regmodel_doorbell_fn doorbell,
				 ivsh_regmodel_msix_fn msix, void *opaque);

/**
 * Mark the device ready with ID @p id: IVPosition reads @p id from now on
 * and doorbell writes are delivered (if configured for interrupts).
 */
void ivsh_regmodel_set_ready(struct ivsh_regmodel *m, uint16_t id);

/**
 * Read a register as a guest would.
 * @param off  byte offset in BAR0
 * @param size access size in bytes; only 4 is valid
 * @param val  out: the value read (IntrStatus is cleared by the read)
 * @return 0; -EINVAL size not 4 or @p off not 4-byte aligned (no side
 *         effect); -ERANGE @p off + @p size beyond the 256-byte BAR.
 */
int ivsh_regmodel_read(struct ivsh_regmodel *m, uint32_t off,
		       unsigned int size, uint32_t *val);

/**
 * Write a register as a guest would. Writes to IVPosition and reserved
 * offsets are ignored; a Doorbell write calls the doorbell callback with
 * (val >> 16, val & 0xffff) when the device is configured for interrupts
 * and ready, and is ignored otherwise.
 * @return 0; -EINVAL, -ERANGE as for ivsh_regmodel_read().
 */
int ivsh_regmodel_write(struct ivsh_regmodel *m, uint32_t off,
			unsigned int size, uint32_t val);

/** 4-byte read; returns 0 for an invalid offset (like a reserved one). */
uint32_t ivsh_regmodel_read32(struct ivsh_regmodel *m, uint32_t off);

/** 4-byte write; an invalid offset is ignored. */
void ivsh_regmodel_write32(struct ivsh_regmodel *m, uint32_t off,
			   uint32_t val);

/**
 * An interrupt request from a peer arrived for @p vector.
 * MSI-X: the msix callback is called with @p vector.
 * INTx: IntrStatus becomes 1 (the vector cannot be communicated).
 * PLAIN: ignored.
 */
void ivsh_regmodel_interrupt(struct ivsh_regmodel *m, uint16_t vector);

/**
 * Level of the legacy INTx line: true while (IntrStatus & IntrMask) != 0
 * and the device has no MSI-X. Always false for MSI-X and PLAIN.
 */
bool ivsh_regmodel_intx_asserted(const struct ivsh_regmodel *m);

/** IntrStatus without the read side effect (for inspection and tests). */
uint32_t ivsh_regmodel_peek_status(const struct ivsh_regmodel *m);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_REGMODEL_H */
