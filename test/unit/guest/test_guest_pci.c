/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest backend helpers without a device: PCI address parsing, sysfs
 * reading against a fake tree in a temporary folder, config-space
 * capability walking, interrupt mode and ID choice, and ivsh-bind --list
 * on the fake tree.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pci_guest.h"
#include "pci_sysfs.h"

static char root[256];

static void put(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_text(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void mkdirs(const char *rel)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

#define D4 "bus/pci/devices/0000:00:04.0/"
#define D5 "bus/pci/devices/0000:00:05.0/"
#define D6 "bus/pci/devices/0000:00:06.0/"

/* Config space with a vendor capability at 0x40 then MSI-X at 0x50. */
static void make_config(uint8_t *cfg)
{
	memset(cfg, 0, 256);
	cfg[0] = 0xf4; cfg[1] = 0x1a; cfg[2] = 0x10; cfg[3] = 0x11;
	cfg[IVSH_PCI_CFG_STATUS] = IVSH_PCI_STATUS_CAP_LIST;
	cfg[IVSH_PCI_CFG_CAP_PTR] = 0x40;
	cfg[0x40] = 0x09; cfg[0x41] = 0x50;
	cfg[0x50] = IVSH_PCI_CAP_ID_MSIX; cfg[0x51] = 0x00;
	cfg[0x52] = 0x01; /* table size 2 (encoded N-1) */
}

static int setup_tree(void **state)
{
	uint8_t cfg[256];
	(void)state;

	snprintf(root, sizeof(root), "/tmp/ivsh-guest-sysfs-%d", getpid());
	mkdirs(D4 "uio/uio3");
	mkdirs(D5);
	mkdirs(D6);
	mkdirs("bus/pci/drivers/vfio-pci");
	mkdirs("kernel/iommu_groups/7");
	put_text(D4 "vendor", "0x1af4\n");
	put_text(D4 "device", "0x1110\n");
	put_text(D4 "resource",
		 "0x00000000fea00000 0x00000000fea000ff 0x0000000000040200\n"
		 "0x00000000fea01000 0x00000000fea01fff 0x0000000000040200\n"
		 "0x0000000800000000 0x00000008003fffff 0x000000000014220c\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	make_config(cfg);
	put(D4 "config", cfg, sizeof(cfg));
	link_to("../../../bus/pci/drivers/vfio-pci", D4 "driver");
	link_to("../../../kernel/iommu_groups/7", D4 "iommu_group");
	put_text(D5 "vendor", "0x8086\n");
	put_text(D5 "device", "0x100e\n");
	put_text(D6 "vendor", "1af4-garbage\n");
	put_text(D6 "device", "0x1110\n");
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_bdf(void **state)
{
	char out[IVSH_PCI_BDF_LEN];
	static const char *const bad[] = {
		"", "0000:00:04", "0000:00:20.0", "00:04.8", "0000:00:04.0x",
		"zz:00.0", "0:00:04.0", "0000-00:04.0", "00:4.0", "00.04.0",
		"00000:00:04.0",
	};
	(void)state;

	assert_int_equal(ivsh_pci_parse_bdf("0000:00:04.0", out), 0);
	assert_string_equal(out, "0000:00:04.0");
	assert_int_equal(ivsh_pci_parse_bdf("00:04.0", out), 0);
	assert_string_equal(out, "0000:00:04.0");
	assert_int_equal(ivsh_pci_parse_bdf("ABCD:0A:1F.7", out), 0);
	assert_string_equal(out, "abcd:0a:1f.7");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ivsh_pci_parse_bdf(bad[i], out), -EINVAL);
	assert_int_equal(ivsh_pci_parse_bdf(NULL, out), -EINVAL);
}

static void test_sysfs_identity(void **state)
{
	unsigned long v;
	(void)state;

	assert_int_equal(ivsh_pci_sysfs_check_ivshmem(root, "0000:00:04.0"), 0);
	assert_int_equal(ivsh_pci_sysfs_check_ivshmem(root, "0000:00:05.0"),
			 -ENODEV);
	assert_int_equal(ivsh_pci_sysfs_check_ivshmem(root, "0000:00:06.0"),
			 -ENODEV);
	assert_int_equal(ivsh_pci_sysfs_check_ivshmem(root, "0000:00:07.0"),
			 -ENOENT);
	assert_int_equal(ivsh_pci_sysfs_read_hex(root, "0000:00:05.0",
						 "device", &v), 0);
	assert_int_equal(v, 0x100e);
}

static void test_sysfs_links(void **state)
{
	char buf[64], tiny[3];
	int idx = -1;
	(void)state;

	assert_int_equal(ivsh_pci_sysfs_link_name(root, "0000:00:04.0",
						  "driver", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(ivsh_pci_sysfs_link_name(root, "0000:00:04.0",
						  "iommu_group", buf,
						  sizeof(buf)), 0);
	assert_string_equal(buf, "7");
	assert_int_equal(ivsh_pci_sysfs_link_name(root, "0000:00:04.0",
						  "driver", tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	assert_int_equal(ivsh_pci_sysfs_link_name(root, "0000:00:05.0",
						  "driver", buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(ivsh_pci_sysfs_uio_index(root, "0000:00:04.0", &idx),
			 0);
	assert_int_equal(idx, 3);
	assert_int_equal(ivsh_pci_sysfs_uio_index(root, "0000:00:05.0", &idx),
			 -ENOENT);
}

static void test_sysfs_bars(void **state)
{
	uint64_t start, size, flags;
	(void)state;

	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:04.0", 0, &start,
					    &size, &flags), 0);
	assert_int_equal(start, 0xfea00000);
	assert_int_equal(size, 256);
	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:04.0", 2, &start,
					    &size, &flags), 0);
	assert_int_equal(start, 0x800000000ull);
	assert_int_equal(size, 4u << 20);
	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:04.0", 3, &start,
					    &size, &flags), 0);
	assert_int_equal(size, 0);
	/* Line 5 is missing from the file; BAR 6 does not exist. */
	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:04.0", 4, &start,
					    &size, &flags), -EINVAL);
	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:04.0", 6, &start,
					    &size, &flags), -EINVAL);
	assert_int_equal(ivsh_pci_sysfs_bar(root, "0000:00:07.0", 0, &start,
					    &size, &flags), -ENOENT);
}

static void test_find_cap(void **state)
{
	uint8_t cfg[256], got[256];
	(void)state;

	make_config(cfg);
	assert_int_equal(ivsh_pci_sysfs_read_config(root, "0000:00:04.0", got,
						    sizeof(got)), 256);
	assert_memory_equal(cfg, got, 256);
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, IVSH_PCI_CAP_ID_MSIX),
			 0x50);
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, 0x09), 0x40);
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, 0x05), 0);
	/* Too short to hold a header: nothing is read. */
	assert_int_equal(ivsh_pci_find_cap(cfg, 63, 0x09), 0);
	/* A capability list that points to itself ends, not hangs. */
	cfg[0x41] = 0x40;
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, IVSH_PCI_CAP_ID_MSIX), 0);
	/* Pointers into the header or beyond the copy are not followed. */
	cfg[0x41] = 0x10;
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, IVSH_PCI_CAP_ID_MSIX), 0);
	make_config(cfg);
	assert_int_equal(ivsh_pci_find_cap(cfg, 0x50, IVSH_PCI_CAP_ID_MSIX), 0);
	/* No capability list bit: no capabilities. */
	cfg[IVSH_PCI_CFG_STATUS] = 0;
	assert_int_equal(ivsh_pci_find_cap(cfg, 256, 0x09), 0);
}

struct choose_case {
	unsigned int msix;
	bool usable, intx;
	enum ivsh_irq_mode req;
	unsigned int req_vectors;
	int rc;
	enum ivsh_irq_mode mode;
	unsigned int vectors;
};

static void test_irq_choose(void **state)
{
	static const struct choose_case cases[] = {
		/* vfio on ivshmem-doorbell: MSI-X, all vectors by default */
		{ 2, true, false, IVSH_IRQ_AUTO, 0, 0, IVSH_IRQ_MSIX, 2 },
		{ 4, true, false, IVSH_IRQ_AUTO, 1, 0, IVSH_IRQ_MSIX, 1 },
		{ 2, true, false, IVSH_IRQ_MSIX, 3, -EINVAL, 0, 0 },
		{ 2, true, false, IVSH_IRQ_NONE, 0, 0, IVSH_IRQ_NONE, 0 },
		{ 2, true, false, IVSH_IRQ_INTX, 0, -ENOTSUP, 0, 0 },
		{ 2, true, false, IVSH_IRQ_INTX_POLL, 0, -ENOTSUP, 0, 0 },
		/* uio on ivshmem-doorbell: polling */
		{ 2, false, false, IVSH_IRQ_AUTO, 0, 0, IVSH_IRQ_NONE, 0 },
		{ 2, false, false, IVSH_IRQ_MSIX, 0, -ENOTSUP, 0, 0 },
		/* legacy INTx device */
		{ 0, true, true, IVSH_IRQ_AUTO, 0, 0, IVSH_IRQ_INTX, 1 },
		{ 0, false, true, IVSH_IRQ_INTX_POLL, 0, 0, IVSH_IRQ_INTX_POLL, 1 },
		{ 0, true, true, IVSH_IRQ_MSIX, 0, -ENOTSUP, 0, 0 },
		/* ivshmem-plain: nothing */
		{ 0, true, false, IVSH_IRQ_AUTO, 0, 0, IVSH_IRQ_NONE, 0 },
		{ 0, true, false, IVSH_IRQ_INTX, 0, -ENOTSUP, 0, 0 },
		{ 0, true, false, IVSH_IRQ_INTX_POLL, 0, 0, IVSH_IRQ_INTX_POLL, 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct choose_case *c = &cases[i];
		struct ivsh_guest_irq_caps caps = {
			.msix_vectors = c->msix, .msix_usable = c->usable,
			.has_intx = c->intx,
		};
		struct ivsh_dev_opts o = { .irq_mode = c->req,
					   .vectors = c->req_vectors };
		struct ivsh_guest_irq_choice ch = { 0 };
		char why[200] = "";
		int rc = ivsh_guest_irq_choose(&caps, &o, &ch, why,
					       sizeof(why));

		print_message("case %zu: rc %d mode %d vectors %u (%s)\n", i,
			      rc, ch.mode, ch.vectors, why);
		assert_int_equal(rc, c->rc);
		if (rc == 0) {
			assert_int_equal(ch.mode, c->mode);
			assert_int_equal(ch.vectors, c->vectors);
		} else {
			assert_true(why[0] != '\0');
		}
	}
}

static void test_apply_id(void **state)
{
	struct ivsh_dev_opts o = { 0 };
	uint16_t id = 99;
	(void)state;

	assert_int_equal(ivsh_guest_apply_id(3, &o, &id), 0);
	assert_int_equal(id, 3);
	/* ivshmem-plain: every device reads 0; id= tells them apart. */
	o.id = 5;
	assert_int_equal(ivsh_guest_apply_id(0, &o, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(ivsh_guest_apply_id(5, &o, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(ivsh_guest_apply_id(4, &o, &id), -EINVAL);
	assert_int_equal(ivsh_guest_apply_id(65536, &o, &id), -ERANGE);
	assert_int_equal(ivsh_guest_apply_id(-1, &o, &id), -ERANGE);
	/* An explicit id=0 is an ID like any other: it must match a
	 * non-zero IVPosition, and names an ivshmem-plain device 0. */
	o = (struct ivsh_dev_opts){ .id = 0, .id_set = true };
	assert_int_equal(ivsh_guest_apply_id(3, &o, &id), -EINVAL);
	id = 99;
	assert_int_equal(ivsh_guest_apply_id(0, &o, &id), 0);
	assert_int_equal(id, 0);
}

struct fake_pos {
	int reads_until_ready;
	int reads;
};

static uint32_t fake_pos_read(void *ctx, uint32_t off)
{
	struct fake_pos *f = ctx;

	assert_int_equal(off, IVSH_REG_IVPOSITION);
	f->reads++;
	return f->reads > f->reads_until_ready ? 2 : UINT32_MAX;
}

static void test_wait_position(void **state)
{
	struct fake_pos f = { .reads_until_ready = 3 };
	int32_t pos = -5;
	(void)state;

	assert_int_equal(ivsh_guest_wait_position(fake_pos_read, &f, 1000,
						  &pos), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(f.reads, 4);
	f = (struct fake_pos){ .reads_until_ready = 1 << 30 };
	assert_int_equal(ivsh_guest_wait_position(fake_pos_read, &f, 30,
						  &pos), -ETIMEDOUT);
	assert_true(f.reads >= 2);
}

/* ivsh-bind --list on the fake tree lists only the ivshmem device. */
static void test_bind_list(void **state)
{
	const char *bind = getenv("IVSH_BIND");
	char cmd[2 * PATH_MAX], out[1024] = "";
	FILE *p;
	size_t n;
	(void)state;

	if (bind == NULL)
		skip();
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' --list", bind, root);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(out, "0000:00:04.0 driver=vfio-pci iommu_group=7 uio=/dev/uio3\n");
	/* Errors: not a PCI address, no device, not ivshmem, bad driver. */
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' 00:zz.0 2>/dev/null",
		 bind, root);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' 0000:00:07.0 2>/dev/null",
		 bind, root);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' 0000:00:05.0 2>/dev/null",
		 bind, root);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' --driver e1000 0000:00:04.0 2>/dev/null",
		 bind, root);
	assert_int_not_equal(system(cmd), 0);
	/* Already bound to vfio-pci: nothing to do. */
	snprintf(cmd, sizeof(cmd), "'%s' --sysfs '%s' 0000:00:04.0 >/dev/null",
		 bind, root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bdf),
		cmocka_unit_test(test_sysfs_identity),
		cmocka_unit_test(test_sysfs_links),
		cmocka_unit_test(test_sysfs_bars),
		cmocka_unit_test(test_find_cap),
		cmocka_unit_test(test_irq_choose),
		cmocka_unit_test(test_apply_id),
		cmocka_unit_test(test_wait_position),
		cmocka_unit_test(test_bind_list),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
