/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device removal helpers shared by the guest backends (private to
 * lib/dev): noticing that a PCI device went away, and making sure that
 * stale pointers into its BARs can no longer reach any device.
 */
#ifndef IVSH_PCI_REMOVAL_H
#define IVSH_PCI_REMOVAL_H

#include <stddef.h>

/*
 * Open the device's sysfs config file and keep it: a descriptor opened on
 * a device that is later removed fails every read (-ENODEV), even when a
 * new device appears at the same address, so it identifies this device.
 * @return the descriptor; -ENOENT no such device; another -errno.
 */
int ivsh_pci_removal_open(const char *root, const char *bdf);

/*
 * Whether the device behind @p cfg_fd (from ivsh_pci_removal_open()) is
 * gone: its config space cannot be read any more, or reads all-ones (a
 * surprise-removed device answers reads with ~0).
 * @return 1 gone; 0 present.
 */
int ivsh_pci_removal_gone(int cfg_fd);

/*
 * Replace the mapping [@p addr, @p addr + @p len) in place with private
 * anonymous zero pages: pointers into it stay valid, read zeros, and
 * writes reach no device (a re-plugged device may get the same bus
 * address, and the old mapping would write into it).
 * @return 0; -EINVAL bad range; another -errno from mmap.
 */
int ivsh_mapping_neutralize(void *addr, size_t len);

#endif /* IVSH_PCI_REMOVAL_H */
