/* SPDX-License-Identifier: BSD-3-Clause */
/* Every device backend, looked up by the prefix of a device string. */
#include "dev_private.h"

#include <stddef.h>

const struct ivsh_backend_ops *const ivsh_backends[] = {
	&ivsh_backend_vfio,
	&ivsh_backend_uio,
	&ivsh_backend_pci,
	&ivsh_backend_server,
	&ivsh_backend_shm,
	NULL,
};
