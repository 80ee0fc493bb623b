/* SPDX-License-Identifier: BSD-3-Clause */
/* The ivshmem BAR0 register model; semantics in regmodel.h. */
#include "regmodel.h"

#include <errno.h>
#include <stddef.h>

#include "ivsh_dev.h"

void ivsh_regmodel_init(struct ivsh_regmodel *m,
			enum ivsh_regmodel_config config)
{
	m->intr_mask = 0;
	m->intr_status = 0;
	/* Without interrupts IVPosition is zero; with them -1 until ready. */
	m->ivposition = config == IVSH_REGMODEL_PLAIN ? 0 : -1;
	m->config = config;
	m->doorbell = NULL;
	m->msix = NULL;
	m->opaque = NULL;
}

void ivsh_regmodel_set_callbacks(struct ivsh_regmodel *m,
				 ivsh_regmodel_doorbell_fn doorbell,
				 ivsh_regmodel_msix_fn msix, void *opaque)
{
	m->doorbell = doorbell;
	m->msix = msix;
	m->opaque = opaque;
}

void ivsh_regmodel_set_ready(struct ivsh_regmodel *m, uint16_t id)
{
	m->ivposition = id;
}

static int check_access(uint32_t off, unsigned int size)
{
	if (size != 4 || off % 4 != 0)
		return -EINVAL;
	if (off > IVSH_BAR0_SIZE - 4)
		return -ERANGE;
	return 0;
}

int ivsh_regmodel_read(struct ivsh_regmodel *m, uint32_t off,
		       unsigned int size, uint32_t *val)
{
	int rc = check_access(off, size);

	if (rc < 0)
		return rc;
	switch (off) {
	case IVSH_REG_INTR_MASK:
		*val = m->intr_mask;
		break;
	case IVSH_REG_INTR_STATUS:
		/* Read-to-clear: this also deasserts INTx. */
		*val = m->intr_status;
		m->intr_status = 0;
		break;
	case IVSH_REG_IVPOSITION:
		*val = (uint32_t)m->ivposition;
		break;
	default: /* Doorbell is write-only; reserved offsets read 0. */
		*val = 0;
		break;
	}
	return 0;
}

int ivsh_regmodel_write(struct ivsh_regmodel *m, uint32_t off,
			unsigned int size, uint32_t val)
{
	int rc = check_access(off, size);

	if (rc < 0)
		return rc;
	switch (off) {
	case IVSH_REG_INTR_MASK:
		m->intr_mask = val;
		break;
	case IVSH_REG_INTR_STATUS:
		m->intr_status = val;
		break;
	case IVSH_REG_DOORBELL:
		/* Ignored without interrupts or before setup completed. */
		if (m->config != IVSH_REGMODEL_PLAIN && m->ivposition >= 0 &&
		    m->doorbell != NULL)
			m->doorbell(m->opaque, (uint16_t)(val >> 16),
				    (uint16_t)(val & 0xffff));
		break;
	default: /* IVPosition is read-only; reserved offsets ignore writes. */
		break;
	}
	return 0;
}

uint32_t ivsh_regmodel_read32(struct ivsh_regmodel *m, uint32_t off)
{
	uint32_t val = 0;

	if (ivsh_regmodel_read(m, off, 4, &val) < 0)
		return 0;
	return val;
}

void ivsh_regmodel_write32(struct ivsh_regmodel *m, uint32_t off,
			   uint32_t val)
{
	(void)ivsh_regmodel_write(m, off, 4, val);
}

void ivsh_regmodel_interrupt(struct ivsh_regmodel *m, uint16_t vector)
{
	switch (m->config) {
	case IVSH_REGMODEL_MSIX:
		if (m->msix != NULL)
			m->msix(m->opaque, vector);
		break;
	case IVSH_REGMODEL_INTX:
		/* The spec: "its Interrupt Status register is set to 1". */
		m->intr_status = IVSH_INTR_PEER;
		break;
	case IVSH_REGMODEL_PLAIN:
		break;
	}
}

bool ivsh_regmodel_intx_asserted(const struct ivsh_regmodel *m)
{
	return m->config == IVSH_REGMODEL_INTX &&
	       (m->intr_status & m->intr_mask) != 0;
}

uint32_t ivsh_regmodel_peek_status(const struct ivsh_regmodel *m)
{
	return m->intr_status;
}
