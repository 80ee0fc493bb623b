/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI helpers shared by the guest backends (vfio:, uio:, pci:) and
 * ivsh-bind: PCI addresses, the sysfs view of a device, config space.
 *
 * Every sysfs function takes the sysfs root ("/sys" normally) so tests
 * can point it at a fake tree in a temporary folder. They return 0 or a
 * negative errno and print nothing; callers word the error.
 */
#ifndef IVSH_PCI_SYSFS_H
#define IVSH_PCI_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Length of a canonical PCI address "dddd:bb:dd.f" plus its NUL. */
#define IVSH_PCI_BDF_LEN 13

/** Where sysfs lives on a real system. */
#define IVSH_SYSFS_ROOT "/sys"

/** PCI config space offsets used here. */
#define IVSH_PCI_CFG_COMMAND 0x04
#define IVSH_PCI_CFG_STATUS 0x06
#define IVSH_PCI_CFG_CAP_PTR 0x34
#define IVSH_PCI_CFG_INT_PIN 0x3d
#define IVSH_PCI_CMD_MEMORY 0x0002
#define IVSH_PCI_CMD_MASTER 0x0004
#define IVSH_PCI_CMD_INTX_DISABLE 0x0400
#define IVSH_PCI_STATUS_CAP_LIST 0x0010
#define IVSH_PCI_CAP_ID_MSIX 0x11

/**
 * Parse a PCI address: "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hex digits
 * in either case. Writes the canonical lower-case form with a domain.
 * @return 0; -EINVAL not a PCI address (or trailing characters).
 */
int ivsh_pci_parse_bdf(const char *s, char out[IVSH_PCI_BDF_LEN]);

/**
 * Read a hexadecimal sysfs attribute of a device ("vendor", "device",
 * "class"), e.g. "0x1af4\n".
 * @return 0; -ENOENT no such device or attribute; -EINVAL unparsable.
 */
int ivsh_pci_sysfs_read_hex(const char *root, const char *bdf,
			    const char *attr, unsigned long *val);

/**
 * Final component of a symbolic link under the device's folder, such as
 * "driver" (-> "vfio-pci") or "iommu_group" (-> "7").
 * @return 0; -ENOENT no such link (e.g. device bound to no driver);
 *         -ENAMETOOLONG @p len too small.
 */
int ivsh_pci_sysfs_link_name(const char *root, const char *bdf,
			     const char *link, char *buf, size_t len);

/**
 * Whether @p bdf exists and is an ivshmem device (1af4:1110).
 * @return 0 it is; -ENOENT no such device; -ENODEV another device.
 */
int ivsh_pci_sysfs_check_ivshmem(const char *root, const char *bdf);

/**
 * Index N of the device's /dev/uioN (from the "uio" folder uio_pci_generic
 * creates under the device).
 * @return 0; -ENOENT the device has no uio node.
 */
int ivsh_pci_sysfs_uio_index(const char *root, const char *bdf, int *index);

/**
 * Start, size and flags of BAR @p bar, from the device's "resource" file
 * (one "0xSTART 0xEND 0xFLAGS" line per resource).
 * @return 0 (size 0 if the BAR is unused); -ENOENT no such device;
 *         -EINVAL @p bar out of range or the file is malformed.
 */
int ivsh_pci_sysfs_bar(const char *root, const char *bdf, unsigned int bar,
		       uint64_t *start, uint64_t *size, uint64_t *flags);

/**
 * Read up to @p len bytes of config space from the "config" attribute.
 * @return the number of bytes read; -ENOENT; -errno.
 */
int ivsh_pci_sysfs_read_config(const char *root, const char *bdf,
			       uint8_t *buf, size_t len);

/**
 * Find capability @p cap_id in a copy of config space (@p len bytes,
 * at least 64). The list is followed at most 48 steps, so a looping or
 * out-of-range list cannot hang or overrun.
 * @return the capability's offset; 0 not found.
 */
unsigned int ivsh_pci_find_cap(const uint8_t *cfg, size_t len,
			       uint8_t cap_id);

/**
 * The command that binds @p bdf to @p driver, for error messages:
 * "bind it with: ivsh-bind --driver DRIVER BDF (or: echo DRIVER >
 * .../driver_override; echo BDF > /sys/bus/pci/drivers_probe)".
 */
void ivsh_pci_bind_hint(const char *bdf, const char *driver, char *buf,
			size_t len);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_PCI_SYSFS_H */
