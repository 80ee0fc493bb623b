/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device removal without a device: the sysfs config descriptor that
 * notices a removed device (fake tree in a temporary folder), the
 * neutralising of stale BAR mappings, and the removal API on a host
 * backend that is never removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "pci_removal.h"

#define BDF "0000:00:04.0"

static char root[256];
static char cfg_path[PATH_MAX];

static void write_cfg(const uint8_t *b, size_t n)
{
	int fd = open(cfg_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static int setup(void **state)
{
	char cmd[PATH_MAX + 64];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/ivsh-removal-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/bus/pci/devices/" BDF "'",
		 root);
	assert_int_equal(system(cmd), 0);
	snprintf(cfg_path, sizeof(cfg_path),
		 "%s/bus/pci/devices/" BDF "/config", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void present_then_all_ones(void **state)
{
	static const uint8_t ivshmem[8] = { 0xf4, 0x1a, 0x10, 0x11 };
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff };
	int fd;

	(void)state;
	write_cfg(ivshmem, sizeof(ivshmem));
	fd = ivsh_pci_removal_open(root, BDF);
	assert_true(fd >= 0);
	assert_int_equal(ivsh_pci_removal_gone(fd), 0);
	/* A surprise-removed device answers config reads with ~0. */
	write_cfg(ones, sizeof(ones));
	assert_int_equal(ivsh_pci_removal_gone(fd), 1);
	/* A short read (no config space any more) is removal too. */
	write_cfg(ivshmem, 2);
	assert_int_equal(ivsh_pci_removal_gone(fd), 1);
	close(fd);
}

static void unreadable_is_gone(void **state)
{
	char dir[PATH_MAX];
	int fd;

	(void)state;
	/* A read that fails (sysfs answers -ENODEV after removal). */
	snprintf(dir, sizeof(dir), "%s/bus", root);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ivsh_pci_removal_gone(fd), 1);
	close(fd);
}

static void missing_device(void **state)
{
	(void)state;
	assert_int_equal(ivsh_pci_removal_open(root, "0000:00:05.0"),
			 -ENOENT);
}

static void neutralized_mapping_reaches_no_file(void **state)
{
	char path[PATH_MAX];
	size_t len = 2 * 4096;
	uint8_t buf[16] = { 0 };
	volatile uint8_t *m;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/bar2", root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	m[0] = 0x5a;
	m[4096] = 0x5b;
	assert_int_equal(ivsh_mapping_neutralize((void *)(uintptr_t)m, len), 0);
	/* Same addresses, now zero pages: reads zeros, writes stay here. */
	assert_int_equal(m[0], 0);
	assert_int_equal(m[4096], 0);
	m[0] = 0xa5;
	m[4096] = 0xa6;
	assert_int_equal(pread(fd, buf, 1, 0), 1);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(pread(fd, buf, 1, 4096), 1);
	assert_int_equal(buf[0], 0x5b);
	assert_int_equal(ivsh_mapping_neutralize(NULL, len), -EINVAL);
	munmap((void *)(uintptr_t)m, len);
	close(fd);
}

static void host_backend_never_removed(void **state)
{
	char name[PATH_MAX + 16];
	struct ivsh_dev_opts o = { .size = 1 << 20 };
	struct ivsh_dev *dev;

	(void)state;
	snprintf(name, sizeof(name), "shm:%s/region", root);
	assert_int_equal(ivsh_dev_open(&dev, name, &o), 0);
	assert_int_equal(ivsh_dev_removal_fd(dev), -ENOTSUP);
	assert_int_equal(ivsh_dev_check_removed(dev), 0);
	assert_false(ivsh_dev_removed(dev));
	ivsh_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(present_then_all_ones),
		cmocka_unit_test(unreadable_is_gone),
		cmocka_unit_test(missing_device),
		cmocka_unit_test(neutralized_mapping_reaches_no_file),
		cmocka_unit_test(host_backend_never_removed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
