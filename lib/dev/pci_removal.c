/* SPDX-License-Identifier: BSD-3-Clause */
/* Noticing that a PCI device went away; disarming stale BAR mappings. */
#include "pci_removal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int ivsh_pci_removal_open(const char *root, const char *bdf)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", root,
		     bdf) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ivsh_pci_removal_gone(int cfg_fd)
{
	uint32_t id = 0;

	/* Vendor and device ID: never all-ones on a present device. */
	if (pread(cfg_fd, &id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return 1;
	return id == UINT32_MAX;
}

int ivsh_mapping_neutralize(void *addr, size_t len)
{
	void *m;

	if (addr == NULL || len == 0)
		return -EINVAL;
	m = mmap(addr, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return m == MAP_FAILED ? -errno : 0;
}
