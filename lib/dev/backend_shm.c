/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shm: backend: a file in /dev/shm or on hugetlbfs, mapped shared.
 * Like ivshmem-plain: no interrupts; the ID comes from id= and IVPosition
 * reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev_private.h"
#include "regmodel.h"

struct shm_priv {
	struct ivsh_regmodel regs;
};

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Create @path with @size bytes in one step: the file is built unnamed (or
 * under a private name) and linked into place only once it has its size, so
 * a peer never opens an empty file that another is still sizing.
 * Returns the fd, -EEXIST if another peer linked its file first, or -errno. */
static int create_sized(const char *path, uint64_t size)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16], proc[64];
	const char *slash = strrchr(path, '/');
	bool named = false;
	int fd, err;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
	fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* No O_TMPFILE on this filesystem: a private name instead. */
		snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		named = true;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		err = errno;
		ivsh_dev_set_error("shm:%s: cannot size to %llu bytes: %s", path,
				   (unsigned long long)size, strerror(err));
		goto fail;
	}
	if (!named) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
			return fd;
		err = errno;
		goto fail;
	}
	err = link(tmp, path) == 0 ? 0 : errno;
	unlink(tmp);
	if (err == 0)
		return fd;
fail:
	close(fd);
	if (named && err != 0)
		unlink(tmp);
	return -err;
}

/* Open @path, creating it with @size bytes if it is missing and size != 0. */
static int open_or_create(const char *path, uint64_t size, bool *created)
{
	*created = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : -errno;
		if (size == 0) {
			ivsh_dev_set_error("shm:%s: no such file (give size= to create it)",
					   path);
			return -ENOENT;
		}
		fd = create_sized(path, size);
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		/* Lost a creation race with another peer: open theirs. */
		if (fd != -EEXIST)
			return fd;
	}
	return -EEXIST;
}

/* A creator outside this library (QEMU's memory backend, a script) may
 * create the file first and size it a moment later: give it a second. */
static int stat_sized(int fd, struct stat *st, uint64_t want)
{
	for (int waited_ms = 0;; waited_ms += 10) {
		if (fstat(fd, st) < 0)
			return -errno;
		if (st->st_size != 0 || want == 0 || !S_ISREG(st->st_mode) ||
		    waited_ms >= 1000)
			return 0;
		usleep(10 * 1000);
	}
}

static int shm_open_dev(struct ivsh_dev *dev, const char *arg,
			const struct ivsh_dev_opts *opts)
{
	struct shm_priv *p;
	struct stat st;
	bool created;
	void *map;
	int fd, rc;

	if (opts->irq_mode != IVSH_IRQ_AUTO && opts->irq_mode != IVSH_IRQ_NONE) {
		ivsh_dev_set_error("shm:%s: irq=%s: shm: has no interrupts (use irq=none)",
				   arg, ivsh_dev_irq_mode_name(opts->irq_mode));
		return -EINVAL;
	}
	if (opts->size != 0 && !is_pow2(opts->size)) {
		ivsh_dev_set_error("shm:%s: size must be a power of two", arg);
		return -EINVAL;
	}
	fd = open_or_create(arg, opts->size, &created);
	if (fd < 0) {
		if (ivsh_dev_last_error()[0] == '\0')
			ivsh_dev_set_error("shm:%s: %s", arg, strerror(-fd));
		return fd;
	}
	rc = stat_sized(fd, &st, opts->size);
	if (rc < 0) {
		ivsh_dev_set_error("shm:%s: %s", arg, strerror(-rc));
		goto fail_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		ivsh_dev_set_error("shm:%s: not a regular file", arg);
		rc = -EINVAL;
		goto fail_fd;
	}
	if (!is_pow2((uint64_t)st.st_size)) {
		ivsh_dev_set_error("shm:%s: size %lld is not a power of two",
				   arg, (long long)st.st_size);
		rc = -EINVAL;
		goto fail_fd;
	}
	if (opts->size != 0 && (uint64_t)st.st_size != opts->size) {
		ivsh_dev_set_error("shm:%s: file has %lld bytes, size= asks for %llu",
				   arg, (long long)st.st_size,
				   (unsigned long long)opts->size);
		rc = -EINVAL;
		goto fail_fd;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		ivsh_dev_set_error("shm:%s: mmap of %lld bytes: %s", arg,
				   (long long)st.st_size, strerror(errno));
		goto fail_fd;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		munmap(map, (size_t)st.st_size);
		ivsh_dev_set_error("out of memory");
		rc = -ENOMEM;
		goto fail_fd;
	}
	dev->shm = map;
	dev->shm_size = (uint64_t)st.st_size;
	/* Any process that may open the file can truncate it: guard the
	 * mapping against SIGBUS; the guard keeps fd to re-check the size. */
	rc = ivsh_dev_guard_shm(dev, fd);
	if (rc < 0) {
		char why[200];

		snprintf(why, sizeof(why), "%s", ivsh_dev_last_error());
		ivsh_dev_set_error("shm:%s: %s", arg, why);
		munmap(map, (size_t)st.st_size);
		dev->shm = NULL;
		free(p);
		goto fail_created;
	}
	ivsh_regmodel_init(&p->regs, IVSH_REGMODEL_PLAIN);
	ivsh_regmodel_set_ready(&p->regs, (uint16_t)opts->id);
	dev->priv = p;
	dev->id = (uint16_t)opts->id;
	dev->vectors = 0;
	dev->irq_mode = IVSH_IRQ_NONE;
	return 0;

fail_fd:
	close(fd);
fail_created:
	if (created)
		unlink(arg);
	return rc;
}

static void shm_close(struct ivsh_dev *dev)
{
	ivsh_dev_unguard_shm(dev);
	if (dev->shm != NULL)
		munmap(dev->shm, (size_t)dev->shm_size);
	free(dev->priv);
	dev->priv = NULL;
	dev->shm = NULL;
}

static uint32_t shm_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	struct shm_priv *p = dev->priv;

	return ivsh_regmodel_read32(&p->regs, off);
}

static void shm_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	struct shm_priv *p = dev->priv;

	ivsh_regmodel_write32(&p->regs, off, val);
}

static int shm_doorbell(struct ivsh_dev *dev, uint16_t peer, uint16_t vector)
{
	(void)dev;
	(void)peer;
	(void)vector;
	return -ENOTSUP;
}

const struct ivsh_backend_ops ivsh_backend_shm = {
	.prefix = "shm",
	.open = shm_open_dev,
	.close = shm_close,
	.reg_read = shm_reg_read,
	.reg_write = shm_reg_write,
	.doorbell = shm_doorbell,
};
