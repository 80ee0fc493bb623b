/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI addresses, sysfs attributes and config space (see pci_sysfs.h). */
#include "pci_sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly @n hex digits at *@p, advancing it. */
static int take_hex(const char **p, unsigned int n, unsigned int *out)
{
	unsigned int v = 0;

	for (unsigned int i = 0; i < n; i++) {
		int d = hex_digit((*p)[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (unsigned int)d;
	}
	*p += n;
	*out = v;
	return 0;
}

int ivsh_pci_parse_bdf(const char *s, char out[IVSH_PCI_BDF_LEN])
{
	unsigned int dom = 0, bus, slot, fn;
	const char *p = s;

	if (s == NULL)
		return -EINVAL;
	/* "dddd:" is present when the fifth character is the second ':'. */
	if (strlen(s) >= 12 && s[4] == ':') {
		if (take_hex(&p, 4, &dom) < 0)
			return -EINVAL;
		p++;
	}
	if (take_hex(&p, 2, &bus) < 0 || *p++ != ':')
		return -EINVAL;
	if (take_hex(&p, 2, &slot) < 0 || *p++ != '.')
		return -EINVAL;
	if (take_hex(&p, 1, &fn) < 0 || *p != '\0')
		return -EINVAL;
	if (slot > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, IVSH_PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, slot,
		 fn);
	return 0;
}

static int dev_path(char *buf, size_t len, const char *root, const char *bdf,
		    const char *attr)
{
	int n = snprintf(buf, len, "%s/bus/pci/devices/%s%s%s", root, bdf,
			 attr != NULL ? "/" : "", attr != NULL ? attr : "");

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* Read a small text attribute, NUL-terminated, trailing newline removed. */
static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int ivsh_pci_sysfs_read_hex(const char *root, const char *bdf,
			    const char *attr, unsigned long *val)
{
	char path[PATH_MAX], text[64], *end;
	int rc = dev_path(path, sizeof(path), root, bdf, attr);

	if (rc < 0)
		return rc;
	rc = read_text(path, text, sizeof(text));
	if (rc < 0)
		return rc;
	errno = 0;
	*val = strtoul(text, &end, 16);
	if (errno != 0 || end == text || *end != '\0')
		return -EINVAL;
	return 0;
}

int ivsh_pci_sysfs_link_name(const char *root, const char *bdf,
			     const char *link, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;
	int rc = dev_path(path, sizeof(path), root, bdf, link);

	if (rc < 0)
		return rc;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int ivsh_pci_sysfs_check_ivshmem(const char *root, const char *bdf)
{
	unsigned long vendor, device;
	int rc;

	rc = ivsh_pci_sysfs_read_hex(root, bdf, "vendor", &vendor);
	if (rc < 0)
		return rc == -EINVAL ? -ENODEV : -ENOENT;
	rc = ivsh_pci_sysfs_read_hex(root, bdf, "device", &device);
	if (rc < 0)
		return rc == -EINVAL ? -ENODEV : -ENOENT;
	if (vendor != 0x1af4 || device != 0x1110)
		return -ENODEV;
	return 0;
}

int ivsh_pci_sysfs_uio_index(const char *root, const char *bdf, int *index)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = dev_path(path, sizeof(path), root, bdf, "uio");

	if (rc < 0)
		return rc;
	d = opendir(path);
	if (d == NULL)
		return -ENOENT;
	rc = -ENOENT;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v;

		if (strncmp(de->d_name, "uio", 3) != 0)
			continue;
		errno = 0;
		v = strtol(de->d_name + 3, &end, 10);
		if (errno != 0 || end == de->d_name + 3 || *end != '\0' ||
		    v < 0 || v > INT_MAX)
			continue;
		*index = (int)v;
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

int ivsh_pci_sysfs_bar(const char *root, const char *bdf, unsigned int bar,
		       uint64_t *start, uint64_t *size, uint64_t *flags)
{
	char path[PATH_MAX], line[256];
	unsigned int i = 0;
	FILE *f;
	int rc = dev_path(path, sizeof(path), root, bdf, "resource");

	if (rc < 0)
		return rc;
	if (bar > 5)
		return -EINVAL;
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	rc = -EINVAL;
	while (fgets(line, sizeof(line), f) != NULL) {
		uint64_t s, e, fl;

		if (i++ != bar)
			continue;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &s, &e,
			   &fl) != 3)
			break;
		*start = s;
		*size = (e > s || (e == s && s != 0)) ? e - s + 1 : 0;
		*flags = fl;
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int ivsh_pci_sysfs_read_config(const char *root, const char *bdf,
			       uint8_t *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, rc = dev_path(path, sizeof(path), root, bdf, "config");

	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	rc = n < 0 ? -errno : (int)n;
	close(fd);
	return rc;
}

unsigned int ivsh_pci_find_cap(const uint8_t *cfg, size_t len,
			       uint8_t cap_id)
{
	unsigned int pos;

	if (len < 64)
		return 0;
	if (!((cfg[IVSH_PCI_CFG_STATUS] |
	       cfg[IVSH_PCI_CFG_STATUS + 1] << 8) & IVSH_PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg[IVSH_PCI_CFG_CAP_PTR] & ~3u;
	/* 48 steps: the most 4-byte capabilities 192 bytes can hold. */
	for (int i = 0; i < 48 && pos >= 0x40 && pos + 1 < len; i++) {
		if (cfg[pos] == cap_id)
			return pos;
		pos = cfg[pos + 1] & ~3u;
	}
	return 0;
}

void ivsh_pci_bind_hint(const char *bdf, const char *driver, char *buf,
			size_t len)
{
	snprintf(buf, len,
		 "bind it with: ivsh-bind --driver %s %s (or: echo %s > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe)",
		 driver, bdf, driver, bdf, bdf);
}
