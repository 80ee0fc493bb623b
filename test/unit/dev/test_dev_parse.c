/* SPDX-License-Identifier: BSD-3-Clause */
/* Device strings: every key, every bad key and value, clear errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev_private.h"
#include "ivsh_size.h"
#include "ivsh_dev.h"

static void test_split(void **state)
{
	struct ivsh_dev_opts o = { 0 };
	struct ivsh_dev_name n;

	(void)state;
	assert_int_equal(ivsh_dev_parse_name("vfio:0000:00:04.0", &o, &n), 0);
	assert_string_equal(n.prefix, "vfio");
	assert_string_equal(n.arg, "0000:00:04.0");
	ivsh_dev_name_free(&n);

	assert_int_equal(ivsh_dev_parse_name("server:/run/x.sock,vectors=4,irq=intx-poll,timeout=250",
					     &o, &n), 0);
	assert_string_equal(n.prefix, "server");
	assert_string_equal(n.arg, "/run/x.sock");
	assert_int_equal(o.vectors, 4);
	assert_int_equal(o.irq_mode, IVSH_IRQ_INTX_POLL);
	assert_int_equal(o.timeout_ms, 250);
	ivsh_dev_name_free(&n);

	assert_int_equal(ivsh_dev_parse_name("shm:/dev/shm/a,id=65535,size=4M", &o, &n), 0);
	assert_int_equal(o.id, 65535);
	assert_int_equal(o.size, 4u << 20);
	ivsh_dev_name_free(&n);
}

static void test_keys_override_opts(void **state)
{
	struct ivsh_dev_opts o = { .irq_mode = IVSH_IRQ_MSIX, .vectors = 2,
				   .id = 5, .size = 4096 };
	struct ivsh_dev_name n;

	(void)state;
	assert_false(o.id_set);
	assert_int_equal(ivsh_dev_parse_name("shm:/x,id=0,irq=none", &o, &n), 0);
	assert_int_equal(o.id, 0);
	assert_true(o.id_set); /* id=0 given, not just left at 0 */
	assert_int_equal(o.irq_mode, IVSH_IRQ_NONE);
	assert_int_equal(o.vectors, 2);   /* untouched */
	assert_int_equal(o.size, 4096);   /* untouched */
	ivsh_dev_name_free(&n);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ivsh_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ivsh_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ivsh_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ivsh_parse_size("2M", &v), 0);
	assert_int_equal(v, 2u << 20);
	assert_int_equal(ivsh_parse_size("1G", &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(ivsh_parse_size("", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("M", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("1MB", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(ivsh_parse_size("1X", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size(" 1", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("0x10", &v), -EINVAL);
	assert_int_equal(ivsh_parse_size("99999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(ivsh_parse_size("17179869184G", &v), -ERANGE);
}

static void test_irq_names(void **state)
{
	enum ivsh_irq_mode m;

	(void)state;
	for (int i = IVSH_IRQ_AUTO; i <= IVSH_IRQ_NONE; i++) {
		const char *name = ivsh_dev_irq_mode_name((enum ivsh_irq_mode)i);

		assert_int_equal(ivsh_dev_parse_irq_mode(name, &m), 0);
		assert_int_equal(m, i);
	}
	assert_string_equal(ivsh_dev_irq_mode_name(IVSH_IRQ_INTX_POLL),
			    "intx-poll");
	assert_string_equal(ivsh_dev_irq_mode_name((enum ivsh_irq_mode)99), "?");
	assert_int_equal(ivsh_dev_parse_irq_mode("MSIX", &m), -EINVAL);
	assert_int_equal(ivsh_dev_parse_irq_mode("intx_poll", &m), -EINVAL);
}

/* Each bad string: ivsh_dev_open fails with -EINVAL, message has @needle. */
static const struct bad_case {
	const char *name;
	const char *needle;
} bad_cases[] = {
	{ "", "empty device string" },
	{ "shm", "expected BACKEND:ARGUMENT" },
	{ ":/dev/shm/x", "expected BACKEND:ARGUMENT" },
	{ "shm:", "missing argument" },
	{ "shm:,id=1", "missing argument" },
	{ "bogus:/x", "unknown backend 'bogus'" },
	{ "shm:/x,", "not key=value" },
	{ "shm:/x,id", "not key=value" },
	{ "shm:/x,=1", "not key=value" },
	{ "shm:/x,id=", "not key=value" },
	{ "shm:/x,,id=1", "not key=value" },
	{ "shm:/x,colour=red", "unknown key 'colour'" },
	{ "shm:/x,ID=1", "unknown key 'ID'" },
	{ "shm:/x,id=1,id=2", "given twice" },
	{ "shm:/x,id=65536", "id=65536: expected 0..65535" },
	{ "shm:/x,id=-1", "id=-1" },
	{ "shm:/x,id=1x", "id=1x" },
	{ "shm:/x,id=0x10", "id=0x10" },
	{ "shm:/x,vectors=0", "vectors=0: expected 1..64" },
	{ "shm:/x,vectors=65", "vectors=65" },
	{ "shm:/x,vectors=two", "vectors=two" },
	{ "shm:/x,size=0", "size=0" },
	{ "shm:/x,size=3000", "power of two" },
	{ "shm:/x,size=1MB", "size=1MB" },
	{ "shm:/x,size=k", "size=k" },
	{ "shm:/x,size=99999999999999999999", "size=" },
	{ "shm:/x,timeout=0", "timeout=0" },
	{ "shm:/x,timeout=-5", "timeout=-5" },
	{ "shm:/x,timeout=2147483648", "timeout=" },
	{ "shm:/x,timeout=1s", "timeout=1s" },
	{ "shm:/x,irq=msi", "irq=msi: expected auto, msix, intx, intx-poll or none" },
	{ "shm:/x,irq=", "not key=value" },
	{ "server:/x,irq=INTX", "irq=INTX" },
};

static void test_bad_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct ivsh_dev *dev = (struct ivsh_dev *)0x1;
		int rc = ivsh_dev_open(&dev, bad_cases[i].name, NULL);

		if (rc != -EINVAL || strstr(ivsh_dev_last_error(),
					    bad_cases[i].needle) == NULL)
			fail_msg("'%s': rc %d, message '%s', want -EINVAL and '%s'",
				 bad_cases[i].name, rc, ivsh_dev_last_error(),
				 bad_cases[i].needle);
		assert_null(dev);
		/* One line. */
		assert_null(strchr(ivsh_dev_last_error(), '\n'));
	}
	{
		struct ivsh_dev *dev;

		assert_int_equal(ivsh_dev_open(&dev, NULL, NULL), -EINVAL);
	}
}

static void test_bad_opts(void **state)
{
	struct ivsh_dev *dev;
	struct ivsh_dev_opts o;

	(void)state;
	o = (struct ivsh_dev_opts){ .irq_mode = (enum ivsh_irq_mode)17 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "irq mode"));
	o = (struct ivsh_dev_opts){ .vectors = 65 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	o = (struct ivsh_dev_opts){ .id = 70000 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	o = (struct ivsh_dev_opts){ .id = -1 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	o = (struct ivsh_dev_opts){ .timeout_ms = -1 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	o = (struct ivsh_dev_opts){ .size = 12345 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/x", &o), -EINVAL);
	assert_non_null(strstr(ivsh_dev_last_error(), "power of two"));
	/* A key in the string fixes a bad struct field. */
	o = (struct ivsh_dev_opts){ .id = 70000 };
	assert_int_equal(ivsh_dev_open(&dev, "shm:/nonexistent-dir-ivsh/x,id=3",
				       &o), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_keys_override_opts),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_irq_names),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_bad_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
