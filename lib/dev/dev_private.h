/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backend interface of struct ivsh_dev. Private to lib/dev.
 *
 * dev.c parses the device string and options, finds the backend by prefix
 * in ivsh_backends[] (backend_registry.c), and calls its open(). The
 * backend fills in the public fields of struct ivsh_dev (shm, shm_size,
 * id, vectors, irq_mode) and keeps its own state in priv.
 */
#ifndef IVSH_DEV_PRIVATE_H
#define IVSH_DEV_PRIVATE_H

#include "ivsh_dev.h"

struct ivsh_backend_ops {
	const char *prefix; /* "vfio", "uio", "pci", "server", "shm" */

	/*
	 * Open the device named by @arg (the text after "prefix:", with the
	 * ",key=value" options already removed and applied to @opts).
	 * On failure: release everything, call ivsh_dev_set_error() with a
	 * one-line reason, return -errno.
	 */
	int (*open)(struct ivsh_dev *dev, const char *arg,
		    const struct ivsh_dev_opts *opts);
	void (*close)(struct ivsh_dev *dev);

	/* Register access at a BAR0 offset, with the spec's side effects. */
	uint32_t (*reg_read)(struct ivsh_dev *dev, uint32_t off);
	void (*reg_write)(struct ivsh_dev *dev, uint32_t off, uint32_t val);

	/* Optional; NULL means "write the Doorbell register". */
	int (*doorbell)(struct ivsh_dev *dev, uint16_t peer, uint16_t vector);

	/* Interrupts; NULL means -ENOTSUP. */
	int (*irq_fd)(struct ivsh_dev *dev, unsigned int vector);
	int (*irq_ack)(struct ivsh_dev *dev, unsigned int vector);

	/* Peer knowledge (host backends); NULL means -ENOTSUP. */
	int (*event_fd)(struct ivsh_dev *dev);
	int (*process_events)(struct ivsh_dev *dev);
	int (*peer_vectors)(const struct ivsh_dev *dev, uint16_t peer);
};

struct ivsh_dev {
	const struct ivsh_backend_ops *ops;
	void *priv;               /* backend state */
	void *shm;                /* BAR2 mapping */
	uint64_t shm_size;
	uint16_t id;
	unsigned int vectors;     /* own connected vectors */
	enum ivsh_irq_mode irq_mode;
};

/* NULL-terminated table of every backend, in backend_registry.c. */
extern const struct ivsh_backend_ops *const ivsh_backends[];

extern const struct ivsh_backend_ops ivsh_backend_shm;
extern const struct ivsh_backend_ops ivsh_backend_server;
extern const struct ivsh_backend_ops ivsh_backend_vfio;
extern const struct ivsh_backend_ops ivsh_backend_uio;
extern const struct ivsh_backend_ops ivsh_backend_pci;

/* Record the one-line reason returned by ivsh_dev_last_error(). */
void ivsh_dev_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* IVSH_DEV_PRIVATE_H */
