/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfio backend's device-request interrupt: how a hot-unplug or an
 * unbind of the device is noticed (ivsh_dev_removal_fd(),
 * ivsh_dev_check_removed()).
 */
#include "backend_vfio.h"

#include <errno.h>
#include <linux/vfio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * The device-request interrupt: vfio-pci signals it when the kernel wants
 * the device back (hot-unplug, unbind) and then waits for the device fd
 * to be closed. Without it armed the kernel only logs "No device request
 * channel registered, blocked until released by user" and the unplug
 * never completes while the program runs.
 */
int vfio_arm_request(struct vfio_priv *p)
{
	int rc;

	if (vfio_irq_count(p, VFIO_PCI_REQ_IRQ_INDEX) < 1)
		return 0; /* an old kernel: nothing to arm */
	p->req_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->req_fd < 0) {
		rc = -errno;
		ivsh_dev_set_error("vfio:%s: eventfd: %s", p->bdf,
				   strerror(-rc));
		return rc;
	}
	rc = vfio_set_irqs(p, VFIO_PCI_REQ_IRQ_INDEX,
			   VFIO_IRQ_SET_DATA_EVENTFD |
			   VFIO_IRQ_SET_ACTION_TRIGGER, 1, &p->req_fd);
	if (rc < 0) {
		close(p->req_fd);
		p->req_fd = -1;
		ivsh_dev_set_error("vfio:%s: cannot arm the device-request interrupt: %s",
				   p->bdf, strerror(-rc));
	}
	return rc;
}

void vfio_disarm_request(struct vfio_priv *p)
{
	if (p->req_fd < 0)
		return;
	if (p->device >= 0)
		(void)vfio_set_irqs(p, VFIO_PCI_REQ_IRQ_INDEX,
				    VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	close(p->req_fd);
	p->req_fd = -1;
}

int vfio_removal_fd(struct ivsh_dev *dev)
{
	struct vfio_priv *p = priv_of(dev);

	return p->req_fd >= 0 ? p->req_fd : -ENOTSUP;
}

/* The mappings stay until close: the caller may still say goodbye in
 * shared memory, and the kernel waits for the close anyway. */
int vfio_check_removed(struct ivsh_dev *dev)
{
	struct vfio_priv *p = priv_of(dev);

	return p->req_fd >= 0 && vfio_drain(p->req_fd) > 0;
}
