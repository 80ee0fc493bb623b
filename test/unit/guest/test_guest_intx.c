/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INTx sequences the vfio: and uio: backends use (pci_intx.h), run
 * against the register model (regmodel.h) that behaves as the spec says:
 * IntrStatus is read-to-clear, the line is IntrStatus & IntrMask.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "pci_intx.h"
#include "regmodel.h"

struct fixture {
	struct ivsh_regmodel m;
	struct ivsh_intx_regs regs;
	int unmasks;
	int unmask_rc;
	bool line_at_unmask; /* line level seen by the last unmask */
	uint32_t status_at_unmask;
};

static uint32_t model_read(void *ctx, uint32_t off)
{
	struct fixture *f = ctx;

	return ivsh_regmodel_read32(&f->m, off);
}

static void model_write(void *ctx, uint32_t off, uint32_t val)
{
	struct fixture *f = ctx;

	ivsh_regmodel_write32(&f->m, off, val);
}

/* Stands in for VFIO_IRQ_SET_ACTION_UNMASK / write(uio_fd, 1). */
static int unmask(void *ctx)
{
	struct fixture *f = ctx;

	f->unmasks++;
	f->line_at_unmask = ivsh_regmodel_intx_asserted(&f->m);
	f->status_at_unmask = ivsh_regmodel_peek_status(&f->m);
	return f->unmask_rc;
}

static void init(struct fixture *f, enum ivsh_regmodel_config cfg)
{
	*f = (struct fixture){ 0 };
	ivsh_regmodel_init(&f->m, cfg);
	ivsh_regmodel_set_ready(&f->m, 1);
	f->regs = (struct ivsh_intx_regs){ model_read, model_write, f };
}

static void test_intx_irq_cycle(void **state)
{
	struct fixture f;
	(void)state;

	init(&f, IVSH_REGMODEL_INTX);
	/* A stale interrupt from before setup is dropped by setup. */
	ivsh_regmodel_interrupt(&f.m, 0);
	ivsh_intx_setup(&f.regs, false);
	assert_int_equal(ivsh_regmodel_read32(&f.m, IVSH_REG_INTR_MASK),
			 IVSH_INTR_PEER);
	assert_int_equal(ivsh_regmodel_peek_status(&f.m), 0);
	assert_false(ivsh_regmodel_intx_asserted(&f.m));

	for (int i = 0; i < 3; i++) {
		ivsh_regmodel_interrupt(&f.m, 0);
		assert_true(ivsh_regmodel_intx_asserted(&f.m));
		assert_int_equal(ivsh_intx_ack(&f.regs, unmask, &f), 1);
		/* The line was deasserted before it was unmasked, so the
		 * host does not see the same interrupt again. */
		assert_int_equal(f.unmasks, i + 1);
		assert_false(f.line_at_unmask);
		assert_int_equal(f.status_at_unmask, 0);
		assert_false(ivsh_regmodel_intx_asserted(&f.m));
	}
	/* Spurious (shared line): nothing pending, still re-armed. */
	assert_int_equal(ivsh_intx_ack(&f.regs, unmask, &f), 0);
	assert_int_equal(f.unmasks, 4);
	/* Two interrupts before the ack collapse into one status bit. */
	ivsh_regmodel_interrupt(&f.m, 0);
	ivsh_regmodel_interrupt(&f.m, 1);
	assert_int_equal(ivsh_intx_ack(&f.regs, NULL, NULL), 1);
	assert_int_equal(ivsh_intx_ack(&f.regs, NULL, NULL), 0);
}

static void test_intx_unmask_error(void **state)
{
	struct fixture f;
	(void)state;

	init(&f, IVSH_REGMODEL_INTX);
	ivsh_intx_setup(&f.regs, false);
	ivsh_regmodel_interrupt(&f.m, 0);
	f.unmask_rc = -EIO;
	assert_int_equal(ivsh_intx_ack(&f.regs, unmask, &f), -EIO);
	/* The status was consumed all the same. */
	assert_int_equal(ivsh_regmodel_peek_status(&f.m), 0);
}

static void test_intx_poll(void **state)
{
	struct fixture f;
	(void)state;

	init(&f, IVSH_REGMODEL_INTX);
	ivsh_intx_setup(&f.regs, true);
	assert_int_equal(ivsh_regmodel_read32(&f.m, IVSH_REG_INTR_MASK), 0);
	ivsh_regmodel_interrupt(&f.m, 0);
	/* Masked: the line never asserts, the status bit is there. */
	assert_false(ivsh_regmodel_intx_asserted(&f.m));
	assert_int_equal(ivsh_intx_ack(&f.regs, NULL, NULL), 1);
	assert_int_equal(ivsh_intx_ack(&f.regs, NULL, NULL), 0);
}

static void test_intx_teardown(void **state)
{
	struct fixture f;
	(void)state;

	init(&f, IVSH_REGMODEL_INTX);
	ivsh_intx_setup(&f.regs, false);
	ivsh_regmodel_interrupt(&f.m, 0);
	assert_true(ivsh_regmodel_intx_asserted(&f.m));
	ivsh_intx_teardown(&f.regs);
	assert_false(ivsh_regmodel_intx_asserted(&f.m));
	assert_int_equal(ivsh_regmodel_read32(&f.m, IVSH_REG_INTR_MASK), 0);
	/* Later interrupts cannot assert the line of a closed device. */
	ivsh_regmodel_interrupt(&f.m, 0);
	assert_false(ivsh_regmodel_intx_asserted(&f.m));
}

static void test_msix_device_never_sets_status(void **state)
{
	struct fixture f;
	(void)state;

	/* Why the backends refuse irq=intx on a device with MSI-X. */
	init(&f, IVSH_REGMODEL_MSIX);
	ivsh_intx_setup(&f.regs, false);
	ivsh_regmodel_interrupt(&f.m, 0);
	assert_false(ivsh_regmodel_intx_asserted(&f.m));
	assert_int_equal(ivsh_intx_ack(&f.regs, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intx_irq_cycle),
		cmocka_unit_test(test_intx_unmask_error),
		cmocka_unit_test(test_intx_poll),
		cmocka_unit_test(test_intx_teardown),
		cmocka_unit_test(test_msix_device_never_sets_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
