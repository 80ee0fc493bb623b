/* SPDX-License-Identifier: BSD-3-Clause */
/* struct ivsh_dev: open/close, accessors and the generic interrupt waits. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev_private.h"

static _Thread_local char last_error[256];

void ivsh_dev_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *ivsh_dev_last_error(void)
{
	return last_error;
}

int64_t ivsh_dev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ivsh_dev_ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - ivsh_dev_now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static const struct ivsh_backend_ops *find_backend(const char *prefix)
{
	for (size_t i = 0; ivsh_backends[i] != NULL; i++) {
		if (strcmp(ivsh_backends[i]->prefix, prefix) == 0)
			return ivsh_backends[i];
	}
	return NULL;
}

/* Options handed in by a caller get the same checks as string keys. */
static int check_opts(const struct ivsh_dev_opts *o)
{
	if ((unsigned int)o->irq_mode > IVSH_IRQ_NONE) {
		ivsh_dev_set_error("invalid irq mode %d", (int)o->irq_mode);
		return -EINVAL;
	}
	if (o->vectors > IVSH_DEV_MAX_VECTORS) {
		ivsh_dev_set_error("vectors=%u: expected 1..%d", o->vectors,
				   IVSH_DEV_MAX_VECTORS);
		return -EINVAL;
	}
	if (o->timeout_ms < 0) {
		ivsh_dev_set_error("timeout=%d: expected milliseconds, 1..%d",
				   o->timeout_ms, INT_MAX);
		return -EINVAL;
	}
	if (o->id < 0 || o->id > 65535) {
		ivsh_dev_set_error("id=%d: expected 0..65535", o->id);
		return -EINVAL;
	}
	if (o->size != 0 && (o->size & (o->size - 1)) != 0) {
		ivsh_dev_set_error("size=%llu: must be a power of two",
				   (unsigned long long)o->size);
		return -EINVAL;
	}
	return 0;
}

int ivsh_dev_open(struct ivsh_dev **devp, const char *name,
		  const struct ivsh_dev_opts *opts)
{
	struct ivsh_dev_opts o = { 0 };
	const struct ivsh_backend_ops *ops;
	struct ivsh_dev_name n;
	struct ivsh_dev *dev;
	int rc;

	last_error[0] = '\0';
	if (devp == NULL) {
		ivsh_dev_set_error("no place to return the device (devp is NULL)");
		return -EINVAL;
	}
	*devp = NULL;
	if (opts != NULL)
		o = *opts;
	rc = ivsh_dev_parse_name(name, &o, &n);
	if (rc < 0)
		return rc;
	rc = check_opts(&o);
	if (rc < 0)
		goto out;
	if (o.timeout_ms == 0)
		o.timeout_ms = IVSH_DEV_DEFAULT_TIMEOUT_MS;
	ops = find_backend(n.prefix);
	if (ops == NULL) {
		ivsh_dev_set_error("unknown backend '%s' (known: vfio, uio, pci, server, shm)",
				   n.prefix);
		rc = -EINVAL;
		goto out;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		ivsh_dev_set_error("out of memory");
		rc = -ENOMEM;
		goto out;
	}
	dev->ops = ops;
	rc = ops->open(dev, n.arg, &o);
	if (rc < 0) {
		if (last_error[0] == '\0')
			ivsh_dev_set_error("%s:%s: %s", n.prefix, n.arg,
					   strerror(-rc));
		free(dev);
		goto out;
	}
	*devp = dev;
out:
	ivsh_dev_name_free(&n);
	return rc;
}

void ivsh_dev_close(struct ivsh_dev *dev)
{
	if (dev == NULL)
		return;
	dev->ops->close(dev);
	free(dev);
}

const char *ivsh_dev_backend(const struct ivsh_dev *dev)
{
	return dev->ops->prefix;
}

uint16_t ivsh_dev_id(const struct ivsh_dev *dev)
{
	return dev->id;
}

void *ivsh_dev_shm(const struct ivsh_dev *dev)
{
	return dev->shm;
}

uint64_t ivsh_dev_shm_size(const struct ivsh_dev *dev)
{
	return dev->shm_size;
}

unsigned int ivsh_dev_vectors(const struct ivsh_dev *dev)
{
	return dev->vectors;
}

enum ivsh_irq_mode ivsh_dev_irq_mode(const struct ivsh_dev *dev)
{
	return dev->irq_mode;
}

uint32_t ivsh_dev_reg_read(struct ivsh_dev *dev, enum ivsh_reg reg)
{
	if (dev->removed)
		return UINT32_MAX;
	return dev->ops->reg_read(dev, (uint32_t)reg);
}

void ivsh_dev_reg_write(struct ivsh_dev *dev, enum ivsh_reg reg,
			uint32_t value)
{
	if (dev->removed)
		return;
	dev->ops->reg_write(dev, (uint32_t)reg, value);
}

int ivsh_dev_doorbell(struct ivsh_dev *dev, uint16_t peer, uint16_t vector)
{
	if (dev->removed)
		return -ENODEV;
	if (dev->ops->doorbell != NULL)
		return dev->ops->doorbell(dev, peer, vector);
	dev->ops->reg_write(dev, IVSH_REG_DOORBELL,
			    ivsh_doorbell_value(peer, vector));
	return 0;
}

int ivsh_dev_irq_fd(struct ivsh_dev *dev, unsigned int vector)
{
	if (dev->removed)
		return -ENODEV;
	if (dev->ops->irq_fd == NULL)
		return -ENOTSUP;
	return dev->ops->irq_fd(dev, vector);
}

int ivsh_dev_irq_ack(struct ivsh_dev *dev, unsigned int vector)
{
	if (dev->removed)
		return -ENODEV;
	if (dev->ops->irq_ack == NULL)
		return -ENOTSUP;
	return dev->ops->irq_ack(dev, vector);
}

/* Busy-poll checks the clock every this many register reads. */
#define POLL_CLOCK_EVERY 256

int ivsh_dev_intx_poll(struct ivsh_dev *dev, int timeout_ms)
{
	int64_t deadline = -1;

	if (dev->irq_mode != IVSH_IRQ_INTX_POLL)
		return -ENOTSUP;
	if (dev->removed)
		return -ENODEV;
	if (timeout_ms >= 0)
		deadline = ivsh_dev_now_ms() + timeout_ms;
	for (;;) {
		for (int i = 0; i < POLL_CLOCK_EVERY; i++) {
			/* The read clears the status, as on the device. */
			uint32_t st = dev->ops->reg_read(dev,
						IVSH_REG_INTR_STATUS);

			if (st & IVSH_INTR_PEER)
				return 1;
			if (timeout_ms == 0)
				return 0;
		}
		if (deadline >= 0 && ivsh_dev_ms_left(deadline) == 0)
			return 0;
	}
}

int ivsh_dev_irq_wait(struct ivsh_dev *dev, unsigned int vector,
		      int timeout_ms)
{
	int64_t deadline = -1;
	int fd, rc;

	if (dev->irq_mode == IVSH_IRQ_INTX_POLL) {
		if (vector >= dev->vectors && dev->vectors != 0)
			return -EINVAL;
		return ivsh_dev_intx_poll(dev, timeout_ms);
	}
	fd = ivsh_dev_irq_fd(dev, vector);
	if (fd < 0)
		return fd;
	if (timeout_ms >= 0)
		deadline = ivsh_dev_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = ivsh_dev_removal_fd(dev), .events = POLLIN },
		};

		/* A negative fd is ignored by poll(): no removal fd. */
		rc = poll(pfd, 2, ivsh_dev_ms_left(deadline));
		if (rc < 0)
			return -errno;
		if ((pfd[1].revents & POLLIN) && ivsh_dev_check_removed(dev))
			return -ENODEV;
		if (pfd[0].revents != 0) {
			rc = ivsh_dev_irq_ack(dev, vector);
			if (rc != 0)
				return rc < 0 ? rc : 1;
			/* Someone else consumed it: keep waiting. */
		}
		if (deadline >= 0 && ivsh_dev_ms_left(deadline) == 0)
			return 0;
	}
}

int ivsh_dev_event_fd(struct ivsh_dev *dev)
{
	if (dev->ops->event_fd == NULL)
		return -ENOTSUP;
	return dev->ops->event_fd(dev);
}

int ivsh_dev_process_events(struct ivsh_dev *dev)
{
	if (dev->ops->process_events == NULL)
		return -ENOTSUP;
	return dev->ops->process_events(dev);
}

int ivsh_dev_last_notice_peer(const struct ivsh_dev *dev)
{
	if (dev->ops->last_notice_peer == NULL)
		return -ENOTSUP;
	return dev->ops->last_notice_peer(dev);
}

int ivsh_dev_peer_vectors(const struct ivsh_dev *dev, uint16_t peer)
{
	if (dev->ops->peer_vectors == NULL)
		return -ENOTSUP;
	return dev->ops->peer_vectors(dev, peer);
}

int ivsh_dev_peer_connected(const struct ivsh_dev *dev, uint16_t peer)
{
	int n = ivsh_dev_peer_vectors(dev, peer);

	if (n < 0)
		return n;
	return n > 0;
}

int ivsh_dev_peers(const struct ivsh_dev *dev, uint16_t *ids, size_t max)
{
	size_t count = 0;

	if (dev->ops->peer_vectors == NULL)
		return -ENOTSUP;
	/* IDs are 16 bits: a bounded scan keeps backends simple. */
	for (uint32_t p = 0; p <= 65535; p++) {
		if (p == dev->id)
			continue;
		if (dev->ops->peer_vectors(dev, (uint16_t)p) > 0) {
			if (count < max)
				ids[count] = (uint16_t)p;
			count++;
		}
	}
	return (int)count;
}

int ivsh_dev_removal_fd(struct ivsh_dev *dev)
{
	if (dev->ops->removal_fd == NULL)
		return -ENOTSUP;
	return dev->ops->removal_fd(dev);
}

int ivsh_dev_check_removed(struct ivsh_dev *dev)
{
	if (dev->removed)
		return 1;
	if (dev->ops->check_removed == NULL || dev->ops->check_removed(dev) != 1)
		return 0;
	dev->removed = true;
	return 1;
}

bool ivsh_dev_removed(const struct ivsh_dev *dev)
{
	return dev->removed;
}
