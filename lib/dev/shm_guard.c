/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host backends' shared memory that another process may truncate: the
 * mapping is registered with the SIGBUS guard (map_guard.c), and the
 * device reports the loss.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dev_private.h"
#include "map_guard.h"

int ivsh_dev_guard_shm(struct ivsh_dev *dev, int fd)
{
	int rc;

	if (!map_guard_needed(fd)) {
		close(fd); /* sealed: it cannot shrink */
		return 0;
	}
	rc = map_guard_add(&dev->shm_guard, dev->shm, (size_t)dev->shm_size,
			   fd);
	if (rc < 0) {
		close(fd);
		if (rc == -ENOSPC)
			ivsh_dev_set_error("more than %d shared-memory files mapped in this process",
					   MAP_GUARD_MAX);
		else
			ivsh_dev_set_error("cannot install the SIGBUS guard: %s",
					   strerror(-rc));
	}
	return rc;
}

void ivsh_dev_unguard_shm(struct ivsh_dev *dev)
{
	map_guard_remove(dev->shm_guard);
	dev->shm_guard = NULL;
}

int ivsh_dev_check_shm(struct ivsh_dev *dev)
{
	if (dev->shm_guard == NULL)
		return 0;
	return map_guard_check(dev->shm_guard);
}

bool ivsh_dev_shm_lost(const struct ivsh_dev *dev)
{
	return dev->shm_guard != NULL && map_guard_lost(dev->shm_guard);
}
