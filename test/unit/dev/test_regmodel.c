/* SPDX-License-Identifier: BSD-3-Clause */
/* The BAR0 register model against the ivshmem spec, register by register. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ivsh_dev.h"
#include "regmodel.h"

struct calls {
	int doorbells;
	uint16_t peer, vector;
	int msix;
	uint16_t msix_vector;
};

static void on_doorbell(void *opaque, uint16_t peer, uint16_t vector)
{
	struct calls *c = opaque;

	c->doorbells++;
	c->peer = peer;
	c->vector = vector;
}

static void on_msix(void *opaque, uint16_t vector)
{
	struct calls *c = opaque;

	c->msix++;
	c->msix_vector = vector;
}

static void test_reset_values(void **state)
{
	struct ivsh_regmodel m;

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_MSIX);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_MASK), 0);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_STATUS), 0);
	/* -1 until ready when configured for interrupts. */
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION),
			 0xffffffffu);
	ivsh_regmodel_set_ready(&m, 7);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION), 7);

	/* Without interrupts IVPosition is zero. */
	ivsh_regmodel_init(&m, IVSH_REGMODEL_PLAIN);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION), 0);
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION),
			 0xffffffffu);
}

static void test_mask_rw(void **state)
{
	struct ivsh_regmodel m;

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, 0xdeadbeef);
	/* All bits kept (reserved bits preserved), reading has no effect. */
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_MASK),
			 0xdeadbeef);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_MASK),
			 0xdeadbeef);
}

static void test_status_read_to_clear(void **state)
{
	struct ivsh_regmodel m;

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 0x5);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 0x5);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_STATUS), 0x5);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_STATUS), 0);
	/* peek does not clear */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 1);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 1);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 1);
}

static void test_ivposition_read_only(void **state)
{
	struct ivsh_regmodel m;

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_MSIX);
	ivsh_regmodel_set_ready(&m, 65535);
	ivsh_regmodel_write32(&m, IVSH_REG_IVPOSITION, 3);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION), 65535);
}

static void test_doorbell(void **state)
{
	struct ivsh_regmodel m;
	struct calls c = { 0 };

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_MSIX);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	/* Before setup completed the write is ignored. */
	ivsh_regmodel_write32(&m, IVSH_REG_DOORBELL, 0x00020001);
	assert_int_equal(c.doorbells, 0);
	ivsh_regmodel_set_ready(&m, 0);
	ivsh_regmodel_write32(&m, IVSH_REG_DOORBELL,
			      ivsh_doorbell_value(0xabcd, 0x1234));
	assert_int_equal(c.doorbells, 1);
	assert_int_equal(c.peer, 0xabcd);
	assert_int_equal(c.vector, 0x1234);
	ivsh_regmodel_write32(&m, IVSH_REG_DOORBELL, 0xffff0000);
	assert_int_equal(c.peer, 0xffff);
	assert_int_equal(c.vector, 0);
	/* Write-only: reads 0. */
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_DOORBELL), 0);
	assert_int_equal(c.doorbells, 2);

	/* Without interrupts, doorbell writes are ignored. */
	ivsh_regmodel_init(&m, IVSH_REGMODEL_PLAIN);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	ivsh_regmodel_set_ready(&m, 1);
	ivsh_regmodel_write32(&m, IVSH_REG_DOORBELL, 0x00010000);
	assert_int_equal(c.doorbells, 2);
}

static void test_reserved(void **state)
{
	struct ivsh_regmodel m;
	struct calls c = { 0 };

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	ivsh_regmodel_set_ready(&m, 2);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 1);
	for (uint32_t off = 16; off < IVSH_BAR0_SIZE; off += 4) {
		uint32_t v = 0xff;

		assert_int_equal(ivsh_regmodel_write(&m, off, 4, 0xffffffff),
				 0);
		assert_int_equal(ivsh_regmodel_read(&m, off, 4, &v), 0);
		assert_int_equal(v, 0);
	}
	/* Reserved writes touched nothing. */
	assert_int_equal(c.doorbells, 0);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_MASK), 0);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_IVPOSITION), 2);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 1);
}

static void test_bad_access(void **state)
{
	struct ivsh_regmodel m;
	uint32_t v = 0x1234;

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 1);
	/* Wrong size or alignment: error and no side effect (no clear). */
	assert_int_equal(ivsh_regmodel_read(&m, 4, 2, &v), -EINVAL);
	assert_int_equal(ivsh_regmodel_read(&m, 4, 8, &v), -EINVAL);
	assert_int_equal(ivsh_regmodel_read(&m, 5, 4, &v), -EINVAL);
	assert_int_equal(ivsh_regmodel_read(&m, 6, 4, &v), -EINVAL);
	assert_int_equal(v, 0x1234);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 1);
	assert_int_equal(ivsh_regmodel_write(&m, 1, 4, 7), -EINVAL);
	assert_int_equal(ivsh_regmodel_write(&m, 0, 1, 7), -EINVAL);
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_MASK), 0);
	/* Beyond the 256-byte BAR. */
	assert_int_equal(ivsh_regmodel_read(&m, 256, 4, &v), -ERANGE);
	assert_int_equal(ivsh_regmodel_write(&m, 0x10000, 4, 1), -ERANGE);
	assert_int_equal(ivsh_regmodel_read(&m, 252, 4, &v), 0);
	assert_int_equal(ivsh_regmodel_read32(&m, 1024), 0);
}

static void test_intx_assert_deassert(void **state)
{
	struct ivsh_regmodel m;
	struct calls c = { 0 };

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_INTX);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	ivsh_regmodel_set_ready(&m, 1);
	assert_false(ivsh_regmodel_intx_asserted(&m));

	/* Masked: status set, line stays low. */
	ivsh_regmodel_interrupt(&m, 3);
	assert_int_equal(ivsh_regmodel_peek_status(&m), IVSH_INTR_PEER);
	assert_false(ivsh_regmodel_intx_asserted(&m));
	assert_int_equal(c.msix, 0);

	/* Unmask: asserted. */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, IVSH_INTR_PEER);
	assert_true(ivsh_regmodel_intx_asserted(&m));
	/* Acknowledge sequence: read status (clears) -> deasserted. */
	assert_int_equal(ivsh_regmodel_read32(&m, IVSH_REG_INTR_STATUS),
			 IVSH_INTR_PEER);
	assert_false(ivsh_regmodel_intx_asserted(&m));

	/* Interrupt while unmasked asserts at once; vector is not visible. */
	ivsh_regmodel_interrupt(&m, 0);
	assert_true(ivsh_regmodel_intx_asserted(&m));
	/* Masking deasserts without clearing status. */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, 0);
	assert_false(ivsh_regmodel_intx_asserted(&m));
	assert_int_equal(ivsh_regmodel_peek_status(&m), 1);
	/* Software can clear by writing status too. */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, 1);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 0);
	assert_false(ivsh_regmodel_intx_asserted(&m));
	/* Only bit 0 of the mask gates the peer interrupt. */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, 0xfffffffe);
	ivsh_regmodel_interrupt(&m, 0);
	assert_false(ivsh_regmodel_intx_asserted(&m));
}

static void test_msix_interrupt(void **state)
{
	struct ivsh_regmodel m;
	struct calls c = { 0 };

	(void)state;
	ivsh_regmodel_init(&m, IVSH_REGMODEL_MSIX);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	ivsh_regmodel_set_ready(&m, 1);
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_MASK, 1);
	ivsh_regmodel_interrupt(&m, 5);
	assert_int_equal(c.msix, 1);
	assert_int_equal(c.msix_vector, 5);
	/* MSI-X: no status, never INTx. */
	assert_int_equal(ivsh_regmodel_peek_status(&m), 0);
	assert_false(ivsh_regmodel_intx_asserted(&m));
	/* Even with status forced, a device with MSI-X has no INTx. */
	ivsh_regmodel_write32(&m, IVSH_REG_INTR_STATUS, 1);
	assert_false(ivsh_regmodel_intx_asserted(&m));

	/* Plain: incoming interrupts go nowhere. */
	ivsh_regmodel_init(&m, IVSH_REGMODEL_PLAIN);
	ivsh_regmodel_set_callbacks(&m, on_doorbell, on_msix, &c);
	ivsh_regmodel_interrupt(&m, 0);
	assert_int_equal(c.msix, 1);
	assert_int_equal(ivsh_regmodel_peek_status(&m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_mask_rw),
		cmocka_unit_test(test_status_read_to_clear),
		cmocka_unit_test(test_ivposition_read_only),
		cmocka_unit_test(test_doorbell),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_bad_access),
		cmocka_unit_test(test_intx_assert_deassert),
		cmocka_unit_test(test_msix_interrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
