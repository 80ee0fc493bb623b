/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh_dev_open_mapped(): a device over BARs that someone else mapped.
 * Plain memory stands in for BAR0/BAR2, so register accesses are visible.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_dev.h"

static uint32_t bar0[IVSH_BAR0_SIZE / 4];
static uint8_t bar2[4096];

static struct ivsh_dev_mapped mapping(const int *fds, unsigned int n)
{
	struct ivsh_dev_mapped m = {
		.regs = bar0, .shm = bar2, .shm_size = sizeof(bar2),
		.irq_fds = fds, .nb_irq_fds = n, .name = "0000:00:04.0",
	};
	return m;
}

static void test_registers_are_mmio(void **state)
{
	int fds[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };
	struct ivsh_dev_mapped m = mapping(fds, 2);
	struct ivsh_dev *dev;
	uint64_t one = 1;

	(void)state;
	memset(bar0, 0, sizeof(bar0));
	bar0[IVSH_REG_IVPOSITION / 4] = 3;
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, NULL), 0);
	assert_int_equal(ivsh_dev_id(dev), 3);
	assert_ptr_equal(ivsh_dev_shm(dev), bar2);
	assert_int_equal(ivsh_dev_vectors(dev), 2);
	assert_int_equal(ivsh_dev_irq_mode(dev), IVSH_IRQ_MSIX);

	assert_int_equal(ivsh_dev_doorbell(dev, 7, 1), 0);
	assert_int_equal(bar0[IVSH_REG_DOORBELL / 4], (7u << 16) | 1);
	ivsh_dev_reg_write(dev, IVSH_REG_INTR_MASK, 1);
	assert_int_equal(bar0[0], 1);
	/* Out-of-range offsets touch nothing. */
	ivsh_dev_reg_write(dev, (enum ivsh_reg)IVSH_BAR0_SIZE, 5);
	assert_int_equal(ivsh_dev_reg_read(dev, (enum ivsh_reg)IVSH_BAR0_SIZE), 0);

	assert_int_equal(ivsh_dev_irq_fd(dev, 1), fds[1]);
	assert_int_equal(ivsh_dev_irq_fd(dev, 2), -EINVAL);
	assert_int_equal(write(fds[1], &one, sizeof(one)), sizeof(one));
	assert_int_equal(ivsh_dev_irq_wait(dev, 1, 1000), 1);
	assert_int_equal(ivsh_dev_irq_ack(dev, 1), 0);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), 0);
	ivsh_dev_close(dev);

	/* The caller owns the fds: still open after close. */
	assert_int_equal(write(fds[0], &one, sizeof(one)), sizeof(one));
	close(fds[0]);
	close(fds[1]);
}

static void test_no_interrupts(void **state)
{
	struct ivsh_dev_mapped m = mapping(NULL, 0);
	struct ivsh_dev_opts o = { .id = 2 };
	struct ivsh_dev *dev;

	(void)state;
	memset(bar0, 0, sizeof(bar0));
	/* ivshmem-plain: IVPosition 0 for everyone, id= names the peer. */
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, &o), 0);
	assert_int_equal(ivsh_dev_id(dev), 2);
	assert_int_equal(ivsh_dev_irq_mode(dev), IVSH_IRQ_NONE);
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_fd(dev, 0), -ENOTSUP);
	ivsh_dev_close(dev);
}

static void test_bad_input(void **state)
{
	int bad_fd = -1;
	struct ivsh_dev_mapped m = mapping(NULL, 0);
	struct ivsh_dev_opts quick = { .timeout_ms = 20 };
	struct ivsh_dev *dev = (struct ivsh_dev *)&m;

	(void)state;
	memset(bar0, 0, sizeof(bar0));
	m.shm = NULL;
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, NULL), -EINVAL);
	assert_null(dev);
	assert_non_null(strstr(ivsh_dev_last_error(), "BAR0 and BAR2"));

	m = mapping(&bad_fd, 1);
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, NULL), -EINVAL);
	m = mapping(NULL, 65);
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, NULL), -EINVAL);
	assert_int_equal(ivsh_dev_open_mapped(NULL, &m, NULL), -EINVAL);

	/* The server has not answered yet: IVPosition stays -1. */
	m = mapping(NULL, 0);
	bar0[IVSH_REG_IVPOSITION / 4] = UINT32_MAX;
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, &quick), -ETIMEDOUT);
	assert_null(dev);
	assert_true(ivsh_dev_last_error()[0] != '\0');

	/* id= may not contradict an ID the server assigned. */
	bar0[IVSH_REG_IVPOSITION / 4] = 4;
	quick.id = 5;
	assert_int_equal(ivsh_dev_open_mapped(&dev, &m, &quick), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_are_mmio),
		cmocka_unit_test(test_no_interrupts),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
