/* SPDX-License-Identifier: BSD-3-Clause */
/* shm: backend: create, open, size checks, ID, no interrupts. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivsh_dev.h"

static char path[128];
static char name[192];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/ivsh-test-dev-shm-%d",
		 (int)getpid());
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static const char *devname(const char *opts)
{
	snprintf(name, sizeof(name), "shm:%s%s", path, opts);
	return name;
}

static void test_missing_without_size(void **state)
{
	struct ivsh_dev *dev;

	(void)state;
	assert_int_equal(ivsh_dev_open(&dev, devname(""), NULL), -ENOENT);
	assert_non_null(strstr(ivsh_dev_last_error(), "size="));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_create_and_share(void **state)
{
	struct ivsh_dev *a, *b;
	struct stat st;

	(void)state;
	assert_int_equal(ivsh_dev_open(&a, devname(",size=64k,id=3"), NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 65536);
	assert_string_equal(ivsh_dev_backend(a), "shm");
	assert_int_equal(ivsh_dev_id(a), 3);
	assert_int_equal(ivsh_dev_shm_size(a), 65536);
	assert_int_equal(ivsh_dev_vectors(a), 0);
	assert_int_equal(ivsh_dev_irq_mode(a), IVSH_IRQ_NONE);
	assert_string_equal(ivsh_dev_last_error(), "");

	/* Second peer: existing file, no size needed; same memory. */
	assert_int_equal(ivsh_dev_open(&b, devname(",id=0"), NULL), 0);
	assert_int_equal(ivsh_dev_id(b), 0);
	assert_int_equal(ivsh_dev_shm_size(b), 65536);
	((volatile uint32_t *)ivsh_dev_shm(a))[100] = 0xcafe;
	assert_int_equal(((volatile uint32_t *)ivsh_dev_shm(b))[100], 0xcafe);
	/* Matching size= is fine. */
	ivsh_dev_close(b);
	assert_int_equal(ivsh_dev_open(&b, devname(",size=64k"), NULL), 0);
	ivsh_dev_close(b);
	ivsh_dev_close(a);
	ivsh_dev_close(NULL);
}

/* A shrunk file is noticed by the size check, before any fault; two
 * devices on one file each lose their own mapping, and a file that is
 * shrunk and grown back (no fault possible) is not reported. */
static void test_truncated_by_another(void **state)
{
	struct ivsh_dev *a, *b;
	volatile uint8_t *ma, *mb;

	(void)state;
	/* cmocka's SIGBUS handler does not chain: drop it for this test, so
	 * that the guard (re)installs its own at open. */
	signal(SIGBUS, SIG_DFL);
	assert_int_equal(ivsh_dev_open(&a, devname(",size=64k,id=0"), NULL), 0);
	assert_int_equal(ivsh_dev_open(&b, devname(",id=1"), NULL), 0);
	ma = ivsh_dev_shm(a);
	mb = ivsh_dev_shm(b);
	ma[65535] = 0x5a;
	assert_int_equal(ivsh_dev_check_shm(a), 0);
	assert_false(ivsh_dev_shm_lost(a));

	/* Shrunk and grown back: the size is right again, nothing lost. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(truncate(path, 65536), 0);
	assert_int_equal(ivsh_dev_check_shm(a), 0);
	assert_int_equal(mb[65535], 0);

	/* Halved: the first check loses the mapping; it then reads zeros
	 * everywhere, also below the new end, and takes writes. */
	mb[100] = 0x77;
	assert_int_equal(truncate(path, 32768), 0);
	assert_int_equal(ivsh_dev_check_shm(a), -ENODEV);
	assert_true(ivsh_dev_shm_lost(a));
	assert_int_equal(ivsh_dev_check_shm(a), -ENODEV);
	assert_int_equal(ma[100], 0);
	assert_int_equal(ma[65535], 0);
	ma[65535] = 1;
	/* b has not looked yet: its low half is still the file. */
	assert_false(ivsh_dev_shm_lost(b));
	assert_int_equal(mb[100], 0x77);
	/* Its first access past the end faults; the guard makes it zero. */
	assert_int_equal(mb[40000], 0);
	assert_true(ivsh_dev_shm_lost(b));
	assert_int_equal(mb[100], 0);
	ivsh_dev_close(a);
	ivsh_dev_close(b);
	/* A new device on the shrunk file is refused, not guarded. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(ivsh_dev_open(&a, devname(""), NULL), -EINVAL);
}

/* Peers started together all ask to create the file: each one must see it
 * whole, never the empty file another is still sizing. */
static void test_concurrent_create(void **state)
{
	enum { ROUNDS = 40, PEERS = 6 };

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		int go[2], failed = 0;
		pid_t pids[PEERS];

		unlink(path);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < PEERS; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				struct ivsh_dev *dev;
				char c;

				close(go[1]);
				(void)!read(go[0], &c, 1);
				if (ivsh_dev_open(&dev, devname(",size=4M,id=1"),
						  NULL) != 0) {
					printf("round %d peer %d: %s\n", round, i,
					       ivsh_dev_last_error());
					_exit(1);
				}
				_exit(ivsh_dev_shm_size(dev) == 4u << 20 ? 0 : 2);
			}
		}
		close(go[0]);
		close(go[1]); /* releases every peer at once */
		for (int i = 0; i < PEERS; i++) {
			int st;

			assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failed++;
		}
		assert_int_equal(failed, 0);
	}
}

static void test_size_mismatch(void **state)
{
	struct ivsh_dev *dev;

	(void)state;
	assert_int_equal(ivsh_dev_open(&dev, devname(",size=4096"), NULL), 0);
	ivsh_dev_close(dev);
	assert_int_equal(ivsh_dev_open(&dev, devname(",size=8192"), NULL),
			 -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "4096"));
	assert_null(dev);
	/* The existing file was not removed by the failed open. */
	assert_int_equal(access(path, F_OK), 0);
}

static void test_existing_not_pow2(void **state)
{
	struct ivsh_dev *dev;
	int fd;

	(void)state;
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3000), 0);
	close(fd);
	assert_int_equal(ivsh_dev_open(&dev, devname(""), NULL), -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "power of two"));
	/* Empty file too. */
	fd = open(path, O_RDWR | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ivsh_dev_open(&dev, devname(""), NULL), -EINVAL);
}

static void test_not_regular(void **state)
{
	struct ivsh_dev *dev;

	(void)state;
	assert_int_equal(ivsh_dev_open(&dev, "shm:/dev/shm", NULL), -EISDIR);
	assert_int_equal(ivsh_dev_open(&dev, "shm:/dev/null", NULL), -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "regular"));
}

static void test_no_interrupts(void **state)
{
	struct ivsh_dev *dev;
	uint16_t ids[4];

	(void)state;
	assert_int_equal(ivsh_dev_open(&dev, devname(",irq=msix,size=4k"), NULL),
			 -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "no interrupts"));
	/* Nothing was created by the rejected open. */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ivsh_dev_open(&dev, devname(",irq=intx-poll,size=4k"),
				       NULL), -EINVAL);
	assert_int_equal(ivsh_dev_open(&dev, devname(",irq=none,size=4k,id=9"),
				       NULL), 0);
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_fd(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_ack(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_intx_poll(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_event_fd(dev), -ENOTSUP);
	assert_int_equal(ivsh_dev_process_events(dev), -ENOTSUP);
	assert_int_equal(ivsh_dev_peer_connected(dev, 1), -ENOTSUP);
	assert_int_equal(ivsh_dev_peers(dev, ids, 4), -ENOTSUP);
	assert_int_equal(ivsh_dev_peer_vectors(dev, 1), -ENOTSUP);
	ivsh_dev_close(dev);
}

static void test_registers(void **state)
{
	struct ivsh_dev *dev;

	(void)state;
	assert_int_equal(ivsh_dev_open(&dev, devname(",size=4k,id=42"), NULL), 0);
	/* IVPosition reads the configured ID and is read-only. */
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_IVPOSITION), 42);
	ivsh_dev_reg_write(dev, IVSH_REG_IVPOSITION, 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_IVPOSITION), 42);
	ivsh_dev_reg_write(dev, IVSH_REG_INTR_MASK, 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_MASK), 1);
	ivsh_dev_reg_write(dev, IVSH_REG_INTR_STATUS, 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 0);
	ivsh_dev_reg_write(dev, IVSH_REG_DOORBELL, 0x10000);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_DOORBELL), 0);
	ivsh_dev_close(dev);
}

/* A hugetlbfs file, where one is mounted with a free page. */
static void test_hugetlbfs(void **state)
{
	const uint32_t hugetlbfs_magic = 0x958458f6;
	struct ivsh_dev *dev;
	struct statfs sf;
	char hpath[128], hname[192];
	int rc;

	(void)state;
	if (statfs("/dev/hugepages", &sf) < 0 ||
	    (uint32_t)sf.f_type != hugetlbfs_magic || sf.f_bfree < 1) {
		printf("no hugetlbfs at /dev/hugepages with a free page\n");
		skip();
	}
	snprintf(hpath, sizeof(hpath), "/dev/hugepages/ivsh-test-dev-%d",
		 (int)getpid());
	unlink(hpath);
	snprintf(hname, sizeof(hname), "shm:%s,size=%llu,id=1", hpath,
		 (unsigned long long)sf.f_bsize);
	rc = ivsh_dev_open(&dev, hname, NULL);
	if (rc == -EACCES || rc == -EPERM) {
		unlink(hpath);
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(ivsh_dev_shm_size(dev), (uint64_t)sf.f_bsize);
	((volatile uint8_t *)ivsh_dev_shm(dev))[0] = 1;
	ivsh_dev_close(dev);
	unlink(hpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_without_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_and_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_by_another, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_not_pow2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test(test_hugetlbfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
