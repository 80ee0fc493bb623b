/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory object: a memfd, a POSIX shm object, or a file (a
 * hugetlbfs mount or any directory, or a named file), sized with
 * ftruncate. Its size is a power of two: QEMU maps it as a PCI BAR.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <stdbool.h>
#include <unistd.h>

#include "server_private.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static int open_memfd(char *err, size_t errlen)
{
	/* Sealable: once sized, no client can shrink it (every peer would
	 * die of SIGBUS) or grow it. */
	int fd = memfd_create("ivshmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		int rc = -errno;

		set_err(err, errlen, "memfd_create: %s", strerror(-rc));
		return rc;
	}
	return fd;
}

/*
 * An existing object or file we are about to reuse: it must be a regular
 * file of our own user that nobody else may open, else another user may
 * have planted it to read or write the peers' memory. @return 0 or
 * -EPERM (@p err set, @p fd closed).
 */
static int check_reused(int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int rc = -errno;

		set_err(err, errlen, "%s: %s", what, strerror(-rc));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s exists and is not a regular file", what);
	} else if (st.st_uid != geteuid()) {
		set_err(err, errlen, "%s exists and belongs to uid %u, not to us: refusing to share it (remove it or pick another name)",
			what, (unsigned int)st.st_uid);
	} else if (st.st_mode & 077) {
		set_err(err, errlen, "%s exists with mode %04o: other users could open it (chmod 600 it or remove it)",
			what, (unsigned int)(st.st_mode & 07777));
	} else {
		return 0;
	}
	close(fd);
	return -EPERM;
}

static int open_posix(struct ivsh_server *srv, char *err, size_t errlen)
{
	char name[256];
	const char *n = srv->shm_name;
	int fd;

	if (!n || !*n || strchr(n + (*n == '/'), '/')) {
		set_err(err, errlen, "bad shared memory name '%s' (want NAME, no '/')",
			n ? n : "");
		return -EINVAL;
	}
	if ((size_t)snprintf(name, sizeof(name), "/%s", n + (*n == '/')) >=
	    sizeof(name)) {
		set_err(err, errlen, "shared memory name too long: %s", n);
		return -ENAMETOOLONG;
	}
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		char what[300];

		/* glibc opens it O_NOFOLLOW. */
		fd = shm_open(name, O_RDWR | O_CLOEXEC, 0600);
		snprintf(what, sizeof(what), "shared memory %s", name);
		if (fd >= 0) {
			int refused = check_reused(fd, what, err, errlen);

			if (refused < 0)
				return refused;
		}
	}
	if (fd < 0) {
		int rc = -errno;

		set_err(err, errlen, "shm_open %s: %s", name, strerror(-rc));
		return rc;
	}
	if (srv->conf.unlink_shm) {
		srv->shm_file = strdup(name);
		if (!srv->shm_file) {
			close(fd);
			shm_unlink(name);
			return -ENOMEM;
		}
	}
	return fd;
}

static int open_path(struct ivsh_server *srv, char *err, size_t errlen)
{
	const char *p = srv->shm_name;
	struct stat st;
	int fd, rc;

	if (!p || !*p) {
		set_err(err, errlen, "no shared memory directory or file given");
		return -EINVAL;
	}
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Unnamed file in the directory, gone once the last user
		 * closes it, like the example server's -m. */
		char *tmpl;

		if (asprintf(&tmpl, "%s/ivshmem.XXXXXX", p) < 0)
			return -ENOMEM;
		fd = mkostemp(tmpl, O_CLOEXEC);
		rc = -errno;
		if (fd >= 0)
			unlink(tmpl);
		else
			set_err(err, errlen, "cannot create a file in %s: %s",
				p, strerror(-rc));
		free(tmpl);
		return fd >= 0 ? fd : rc;
	}
	/* Never through a symlink; a file that was there already must be
	 * ours and private. */
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		char what[300];

		fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		snprintf(what, sizeof(what), "shared memory file %s", p);
		if (fd >= 0) {
			int refused = check_reused(fd, what, err, errlen);

			if (refused < 0)
				return refused;
		}
	}
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "shared memory file %s: %s", p,
			rc == -ENOENT ? "directory does not exist" :
			rc == -ELOOP ? "is a symbolic link (refused)" :
			strerror(-rc));
		return rc;
	}
	if (srv->conf.unlink_shm) {
		srv->shm_file = strdup(p);
		if (!srv->shm_file) {
			close(fd);
			return -ENOMEM;
		}
	}
	return fd;
}

static bool on_hugetlbfs(int fd, uint64_t *page)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0 || (unsigned long)fs.f_type != HUGETLBFS_MAGIC)
		return false;
	*page = fs.f_bsize > 0 ? (uint64_t)fs.f_bsize : 1;
	return true;
}

/* On hugetlbfs the size must be a multiple of the huge page size. */
static int check_hugetlbfs_size(int fd, uint64_t size, char *err,
				size_t errlen)
{
	uint64_t page;

	if (!on_hugetlbfs(fd, &page) || size % page == 0)
		return 0;
	set_err(err, errlen, "size %llu is not a multiple of the huge page size %llu",
		(unsigned long long)size, (unsigned long long)page);
	return -EINVAL;
}

/*
 * ftruncate() on hugetlbfs does not check that the pages exist: a trial
 * shared mapping reserves them now (the reservation stays with the file)
 * instead of letting every peer fail to map the memory later.
 */
static int reserve_hugetlbfs(int fd, uint64_t size, char *err, size_t errlen)
{
	uint64_t page;
	void *p;

	if (!on_hugetlbfs(fd, &page))
		return 0;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int rc = -errno;

		set_err(err, errlen, "cannot reserve %llu bytes of huge pages: %s",
			(unsigned long long)size, strerror(-rc));
		return rc;
	}
	munmap(p, (size_t)size);
	return 0;
}

int srv_shm_open(struct ivsh_server *srv, char *err, size_t errlen)
{
	uint64_t size = srv->conf.shm_size;
	int fd, rc;

	switch (srv->conf.shm_kind) {
	case IVSH_SERVER_SHM_MEMFD:
		fd = open_memfd(err, errlen);
		break;
	case IVSH_SERVER_SHM_POSIX:
		fd = open_posix(srv, err, errlen);
		break;
	case IVSH_SERVER_SHM_PATH:
		fd = open_path(srv, err, errlen);
		break;
	default:
		set_err(err, errlen, "unknown shared memory kind %d",
			(int)srv->conf.shm_kind);
		return -EINVAL;
	}
	if (fd < 0)
		return fd;

	rc = check_hugetlbfs_size(fd, size, err, errlen);
	if (rc == 0 && ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		set_err(err, errlen, "cannot size shared memory to %llu bytes: %s",
			(unsigned long long)size, strerror(-rc));
	}
	if (rc == 0)
		rc = reserve_hugetlbfs(fd, size, err, errlen);
	if (rc == 0 && srv->conf.shm_kind == IVSH_SERVER_SHM_MEMFD &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
		    0) {
		rc = -errno;
		set_err(err, errlen, "cannot seal the shared memory: %s",
			strerror(-rc));
	}
	if (rc == 0) {
		srv->shm = fdref_new(fd);
		if (!srv->shm)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		close(fd);
		srv_shm_close(srv);
		return rc;
	}
	srv->shm_size = size;
	return 0;
}

void srv_shm_close(struct ivsh_server *srv)
{
	fdref_put(srv->shm);
	srv->shm = NULL;
	if (srv->shm_file) {
		if (srv->conf.shm_kind == IVSH_SERVER_SHM_POSIX)
			shm_unlink(srv->shm_file);
		else
			unlink(srv->shm_file);
		free(srv->shm_file);
		srv->shm_file = NULL;
	}
}
