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
	int (*last_notice_peer)(const struct ivsh_dev *dev);
	int (*peer_vectors)(const struct ivsh_dev *dev, uint16_t peer);

	/* Removal (guest backends); NULL: the device is never removed.
	 * check_removed() returns 1 once the device is gone or its removal
	 * was requested (after disarming what must not be touched), else 0;
	 * dev.c then sets dev->removed and calls it no more. */
	int (*removal_fd)(struct ivsh_dev *dev);
	int (*check_removed)(struct ivsh_dev *dev);
};

struct ivsh_dev {
	const struct ivsh_backend_ops *ops;
	void *priv;               /* backend state */
	void *shm;                /* BAR2 mapping */
	uint64_t shm_size;
	struct map_guard *shm_guard; /* a file others may shrink; or NULL */
	uint16_t id;
	unsigned int vectors;     /* own connected vectors */
	enum ivsh_irq_mode irq_mode;
	bool removed;             /* removal seen: registers and irqs off */
};

/* NULL-terminated table of every backend, in backend_registry.c. */
extern const struct ivsh_backend_ops *const ivsh_backends[];

extern const struct ivsh_backend_ops ivsh_backend_shm;
extern const struct ivsh_backend_ops ivsh_backend_server;
extern const struct ivsh_backend_ops ivsh_backend_vfio;
extern const struct ivsh_backend_ops ivsh_backend_uio;
extern const struct ivsh_backend_ops ivsh_backend_pci;
/* Not in ivsh_backends[]: reached only through ivsh_dev_open_mapped(). */
extern const struct ivsh_backend_ops ivsh_backend_mapped;

/* Record the one-line reason returned by ivsh_dev_last_error(). */
void ivsh_dev_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Default handshake / IVPosition wait when opts.timeout_ms is 0. */
#define IVSH_DEV_DEFAULT_TIMEOUT_MS 5000
/* Most vectors a device string may ask for (the protocol's limit). */
#define IVSH_DEV_MAX_VECTORS 64

/* A device string split into its parts (dev_parse.c). */
struct ivsh_dev_name {
	char *buf;          /* owns the storage of prefix and arg */
	const char *prefix; /* "shm", "server", ... (not yet looked up) */
	const char *arg;    /* text after "prefix:", keys removed */
};

/*
 * Split @name into prefix, argument and ",key=value" options; each key
 * overrides its field of @opts. On error: ivsh_dev_set_error(), -EINVAL
 * (-ENOMEM), and @out holds nothing to free.
 */
int ivsh_dev_parse_name(const char *name, struct ivsh_dev_opts *opts,
			struct ivsh_dev_name *out);
void ivsh_dev_name_free(struct ivsh_dev_name *n);

/* "auto", "msix", "intx", "intx-poll", "none" -> mode; -EINVAL. */
int ivsh_dev_parse_irq_mode(const char *s, enum ivsh_irq_mode *out);

/*
 * Host backends, right after mapping dev->shm from @fd: guard the mapping
 * if the file can shrink (map_guard.h), else close @fd. Takes @fd either
 * way. @return 0; -ENOSPC, -errno (error set). shm_guard.c.
 */
int ivsh_dev_guard_shm(struct ivsh_dev *dev, int fd);
/* Before unmapping dev->shm: stop guarding it. NULL guard ok. */
void ivsh_dev_unguard_shm(struct ivsh_dev *dev);

/* CLOCK_MONOTONIC in milliseconds (dev.c). */
int64_t ivsh_dev_now_ms(void);
/* Milliseconds left until @deadline (>= 0); -1 stays -1 (forever). */
int ivsh_dev_ms_left(int64_t deadline);

#endif /* IVSH_DEV_PRIVATE_H */
