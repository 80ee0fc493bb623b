/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the vfio guest backend: its state, and what its files
 * share (backend_vfio.c opens and closes; backend_vfio_request.c handles
 * the kernel's device-request interrupt).
 */
#ifndef IVSH_BACKEND_VFIO_H
#define IVSH_BACKEND_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev_private.h"
#include "pci_sysfs.h"

struct vfio_priv {
	int container;
	int group;
	int device;
	char bdf[IVSH_PCI_BDF_LEN];
	volatile uint32_t *regs; /* BAR0 mapping, NULL: pread/pwrite */
	size_t regs_len;
	uint64_t bar0_off;       /* region offsets in the device fd */
	uint64_t cfg_off;
	void *shm;
	size_t shm_len;
	uint16_t saved_cmd;      /* command register before we changed it */
	bool cmd_saved;
	int irq_index;           /* VFIO_PCI_{MSIX,INTX}_IRQ_INDEX or -1 */
	unsigned int nfds;
	int efd[IVSH_DEV_MAX_VECTORS];
	int req_fd;              /* device-request eventfd, -1: not armed */
};

static inline struct vfio_priv *priv_of(struct ivsh_dev *dev)
{
	return dev->priv;
}

/* VFIO_DEVICE_SET_IRQS on @p index with @p count eventfds (or none).
 * @return 0; -ENOMEM; another -errno from the ioctl. */
int vfio_set_irqs(struct vfio_priv *p, unsigned int index, uint32_t flags,
		  unsigned int count, const int *fds);

/* The number of interrupts of @p index; 0 when the kernel cannot say. */
int vfio_irq_count(struct vfio_priv *p, unsigned int index);

/* Consume an eventfd's count without blocking; the count, 0 if none. */
int vfio_drain(int fd);

/* Arm the device-request interrupt (nothing on kernels without it).
 * @return 0; -errno from eventfd or VFIO_DEVICE_SET_IRQS. */
int vfio_arm_request(struct vfio_priv *p);

/* Disarm it and close its eventfd; nothing if it was not armed. */
void vfio_disarm_request(struct vfio_priv *p);

/* Backend ops: the device-request eventfd (-ENOTSUP if not armed), and
 * whether the kernel asked for the device back (1) or not (0). */
int vfio_removal_fd(struct ivsh_dev *dev);
int vfio_check_removed(struct ivsh_dev *dev);

#endif /* IVSH_BACKEND_VFIO_H */
