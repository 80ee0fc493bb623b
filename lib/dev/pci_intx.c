/* SPDX-License-Identifier: BSD-3-Clause */
/* INTx acknowledge / unmask sequence over register accessors. */
#include "pci_intx.h"

#include "ivsh_dev.h"

void ivsh_intx_setup(const struct ivsh_intx_regs *r, bool poll)
{
	r->write(r->ctx, IVSH_REG_INTR_MASK, poll ? 0 : IVSH_INTR_PEER);
	(void)r->read(r->ctx, IVSH_REG_INTR_STATUS);
}

int ivsh_intx_ack(const struct ivsh_intx_regs *r, int (*unmask)(void *ctx),
		  void *unmask_ctx)
{
	/* The read clears IntrStatus, which deasserts the level line. */
	uint32_t st = r->read(r->ctx, IVSH_REG_INTR_STATUS);

	if (unmask != NULL) {
		int rc = unmask(unmask_ctx);

		if (rc < 0)
			return rc;
	}
	return (st & IVSH_INTR_PEER) ? 1 : 0;
}

void ivsh_intx_teardown(const struct ivsh_intx_regs *r)
{
	r->write(r->ctx, IVSH_REG_INTR_MASK, 0);
	(void)r->read(r->ctx, IVSH_REG_INTR_STATUS);
}
