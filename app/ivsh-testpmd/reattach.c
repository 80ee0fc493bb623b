/* SPDX-License-Identifier: BSD-3-Clause */
#include "reattach.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testpmd.h"
#include "tsc.h"

#define PROG "ivsh-testpmd"
#define PCI_DEVICES "/sys/bus/pci/devices"
/* How often the PCI bus is scanned for the device to come back. */
#define SCAN_PERIOD_MS 100
/* A device that is back but cannot be opened for this long is an error. */
#define OPEN_GIVE_UP_NS 10000000000ull

/* Driver a guest backend needs: "vfio" -> vfio-pci, "uio" -> uio. */
static const char *driver_of(const char *device)
{
	if (strncmp(device, "vfio:", 5) == 0)
		return "vfio-pci";
	if (strncmp(device, "uio:", 4) == 0)
		return "uio_pci_generic";
	if (strncmp(device, "pci:", 4) == 0)
		return "";
	return NULL;
}

static bool read_attr(const char *bdf, const char *attr, char *buf,
		      size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* An ivshmem device bound to @p driver ("" : vfio-pci or uio). */
static bool usable(const char *bdf, const char *driver)
{
	char v[16], d[16], path[PATH_MAX], link[PATH_MAX];
	const char *name;
	ssize_t n;

	if (!read_attr(bdf, "vendor", v, sizeof(v)) ||
	    !read_attr(bdf, "device", d, sizeof(d)) ||
	    strcmp(v, "0x1af4") != 0 || strcmp(d, "0x1110") != 0)
		return false;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (driver[0] != '\0')
		return strcmp(name, driver) == 0;
	return strcmp(name, "vfio-pci") == 0 ||
	       strcmp(name, "uio_pci_generic") == 0;
}

/* First usable device, in bus order. */
static bool find_device(const char *driver, char *bdf, size_t len)
{
	struct dirent **list;
	bool found = false;
	int n = scandir(PCI_DEVICES, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (!found && list[i]->d_name[0] != '.' &&
		    strlen(list[i]->d_name) < len &&
		    usable(list[i]->d_name, driver)) {
			memcpy(bdf, list[i]->d_name, strlen(list[i]->d_name) + 1);
			found = true;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return found;
}

void reattach_release(struct testpmd *tp)
{
	uint64_t t0 = mono_ns();

	tp->layout_identity = ivsh_port_layout(tp->port)->identity;
	ivsh_port_close(tp->port);
	tp->port = NULL;
	ivsh_dev_close(tp->dev);
	tp->dev = NULL;
	tp->link_up = false;
	fprintf(stderr, PROG ": device %s removed; released in %.1f ms\n",
		tp->conf.device, (double)(mono_ns() - t0) / 1e6);
}

/*
 * Open the device found at @p bdf like the one removed. A device just
 * bound may not be ready yet (its /dev/vfio group appears a moment
 * later): the caller retries.
 */
static int try_open(struct testpmd *tp, const char *prefix, const char *bdf,
		    const char *opts, uint64_t t0)
{
	snprintf(tp->reattach_name, sizeof(tp->reattach_name), "%s:%s%s",
		 prefix, bdf, opts);
	tp->conf.device = tp->reattach_name;
	if (tp->dev_seen_ns == 0)
		tp->dev_seen_ns = mono_ns();
	if (tp_open_port(tp) != 0) {
		ivsh_port_close(tp->port);
		tp->port = NULL;
		ivsh_dev_close(tp->dev);
		tp->dev = NULL;
		return -1;
	}
	tp->dev_seen_ns = 0;
	fprintf(stderr, PROG ": re-attached to %s after %.1f s\n",
		tp->conf.device, (double)(mono_ns() - t0) / 1e9);
	return 0;
}

int reattach_wait(struct testpmd *tp)
{
	const char *driver = driver_of(tp->conf.device);
	const char *colon = strchr(tp->conf.device, ':');
	const char *comma = strchr(tp->conf.device, ',');
	struct timespec period = { 0, SCAN_PERIOD_MS * 1000000L };
	char bdf[NAME_MAX + 1], prefix[8], opts[64];
	uint64_t t0 = mono_ns();

	tp->dev_seen_ns = 0;
	if (driver == NULL || colon == NULL ||
	    (size_t)(colon - tp->conf.device) >= sizeof(prefix) ||
	    (comma && strlen(comma) >= sizeof(opts))) {
		fprintf(stderr, PROG ": --reattach needs a guest device (vfio:, uio: or pci:), not '%s'\n",
			tp->conf.device);
		return -EINVAL;
	}
	/* Copies: conf.device may be the buffer try_open() rewrites. */
	snprintf(prefix, sizeof(prefix), "%.*s",
		 (int)(colon - tp->conf.device), tp->conf.device);
	snprintf(opts, sizeof(opts), "%s", comma ? comma : "");
	fprintf(stderr, PROG ": waiting for an ivshmem device bound to %s\n",
		driver[0] ? driver : "vfio-pci or uio_pci_generic");
	for (;;) {
		if (tp_stop)
			return -EINTR;
		if (find_device(driver, bdf, sizeof(bdf)) &&
		    try_open(tp, prefix, bdf, opts, t0) == 0)
			return 0;
		if (mono_ns() - t0 > OPEN_GIVE_UP_NS && tp->dev_seen_ns != 0 &&
		    mono_ns() - tp->dev_seen_ns > OPEN_GIVE_UP_NS) {
			fprintf(stderr, PROG ": the device came back but cannot be opened\n");
			return -ENODEV;
		}
		nanosleep(&period, NULL);
	}
}
