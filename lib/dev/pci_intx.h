/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Legacy INTx handling of the ivshmem registers, shared by the vfio: and
 * uio: backends and written over register accessors so that tests run it
 * against the register model (regmodel.h).
 *
 * The spec: INTx is asserted while (IntrStatus & IntrMask) != 0 on a
 * device without MSI-X; an incoming peer interrupt sets IntrStatus bit 0;
 * reading IntrStatus clears it. So:
 *   - interrupt mode: IntrMask = 1; after the line fired, read IntrStatus
 *     (deasserts the line) and only then unmask the line at the host
 *     kernel (VFIO unmask / write 1 to /dev/uioN), or the still-asserted
 *     level would fire again at once;
 *   - busy-poll mode: IntrMask = 0 (the line never asserts), and software
 *     reads IntrStatus until bit 0 is set.
 */
#ifndef IVSH_PCI_INTX_H
#define IVSH_PCI_INTX_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Register accessors (BAR0 offsets) with the device's side effects. */
struct ivsh_intx_regs {
	uint32_t (*read)(void *ctx, uint32_t off);
	void (*write)(void *ctx, uint32_t off, uint32_t val);
	void *ctx;
};

/**
 * Prepare the registers: IntrMask = 1 (@p poll false) or 0 (@p poll true),
 * then read IntrStatus once to drop a stale interrupt.
 */
void ivsh_intx_setup(const struct ivsh_intx_regs *r, bool poll);

/**
 * Acknowledge the line after it fired: read IntrStatus (clearing it and
 * deasserting the line), then call @p unmask (if not NULL) to re-enable
 * the line at the host kernel.
 * @return 1 when IntrStatus had the peer bit, 0 when not (shared or
 *         spurious interrupt); a negative errno from @p unmask.
 */
int ivsh_intx_ack(const struct ivsh_intx_regs *r, int (*unmask)(void *ctx),
		  void *unmask_ctx);

/**
 * Leave INTx: IntrMask = 0 so the line cannot assert after the process is
 * gone, and clear IntrStatus.
 */
void ivsh_intx_teardown(const struct ivsh_intx_regs *r);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_PCI_INTX_H */
