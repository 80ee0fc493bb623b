/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-bind: list ivshmem PCI devices (1af4:1110) and bind them to
 * vfio-pci or uio_pci_generic through driver_override.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pci_sysfs.h"

#define PROG "ivsh-bind"

static const char *sysfs = IVSH_SYSFS_ROOT;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--driver vfio-pci|uio_pci_generic] BDF...\n"
		"       " PROG " --unbind BDF...\n"
		"       " PROG " --list\n"
		"Bind ivshmem devices (%04x:%04x) to a user-space driver.\n"
		"  -d, --driver NAME  vfio-pci (default) or uio_pci_generic\n"
		"  -l, --list         list ivshmem devices and their drivers\n"
		"  -u, --unbind       unbind from the current driver, clear the override\n"
		"      --sysfs DIR    sysfs root (default /sys; for tests)\n"
		"  -h, --help\n", 0x1af4, 0x1110);
}

static int write_attr(const char *path, const char *val)
{
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

static void show(const char *bdf)
{
	char drv[64] = "none", grp[32] = "-";
	int uio;

	(void)ivsh_pci_sysfs_link_name(sysfs, bdf, "driver", drv, sizeof(drv));
	(void)ivsh_pci_sysfs_link_name(sysfs, bdf, "iommu_group", grp,
				       sizeof(grp));
	printf("%s driver=%s iommu_group=%s", bdf, drv, grp);
	if (ivsh_pci_sysfs_uio_index(sysfs, bdf, &uio) == 0)
		printf(" uio=/dev/uio%d", uio);
	printf("\n");
}

static int list(void)
{
	char path[PATH_MAX];
	struct dirent **names;
	int n, found = 0;

	snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    ivsh_pci_sysfs_check_ivshmem(sysfs, names[i]->d_name) == 0) {
			show(names[i]->d_name);
			found++;
		}
		free(names[i]);
	}
	free(names);
	if (found == 0)
		printf("no ivshmem devices\n");
	return 0;
}

static bool driver_loaded(const char *driver)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", sysfs, driver);
	return stat(path, &st) == 0;
}

/* modprobe DRIVER; the driver may be built in or loaded already. */
static int load_driver(const char *driver)
{
	pid_t pid;
	int status;

	if (driver_loaded(driver))
		return 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("modprobe", "modprobe", driver, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!driver_loaded(driver)) {
		fprintf(stderr, PROG ": driver %s is not loaded and 'modprobe %s' %s\n",
			driver, driver,
			WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
			"could not run" : "failed");
		return -ENOENT;
	}
	return 0;
}

static int check(const char *arg, char bdf[IVSH_PCI_BDF_LEN])
{
	int rc;

	if (ivsh_pci_parse_bdf(arg, bdf) < 0) {
		fprintf(stderr, PROG ": '%s' is not a PCI address (expected DDDD:BB:DD.F)\n",
			arg);
		return -EINVAL;
	}
	rc = ivsh_pci_sysfs_check_ivshmem(sysfs, bdf);
	if (rc == -ENOENT)
		fprintf(stderr, PROG ": no PCI device %s (see " PROG " --list)\n",
			bdf);
	else if (rc < 0)
		fprintf(stderr, PROG ": %s is not an ivshmem device\n", bdf);
	return rc;
}

static int unbind_current(const char *bdf)
{
	char path[PATH_MAX], cur[64];
	int rc;

	if (ivsh_pci_sysfs_link_name(sysfs, bdf, "driver", cur,
				     sizeof(cur)) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver/unbind",
		 sysfs, bdf);
	rc = write_attr(path, bdf);
	if (rc < 0)
		fprintf(stderr, PROG ": %s: unbinding from %s: %s\n", bdf, cur,
			strerror(-rc));
	return rc;
}

static int set_override(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
		 sysfs, bdf);
	rc = write_attr(path, driver);
	if (rc < 0)
		fprintf(stderr, PROG ": %s: writing driver_override: %s%s\n",
			bdf, strerror(-rc),
			rc == -EACCES || rc == -EPERM ? " (run as root)" : "");
	return rc;
}

static int bind(const char *arg, const char *driver)
{
	char bdf[IVSH_PCI_BDF_LEN], cur[64], path[PATH_MAX], grp[32];
	int rc;

	if (check(arg, bdf) < 0)
		return 1;
	if (ivsh_pci_sysfs_link_name(sysfs, bdf, "driver", cur,
				     sizeof(cur)) == 0 &&
	    strcmp(cur, driver) == 0) {
		printf("%s already bound to %s\n", bdf, driver);
		return 0;
	}
	if (load_driver(driver) < 0)
		return 1;
	if (unbind_current(bdf) < 0 || set_override(bdf, driver) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", sysfs);
	rc = write_attr(path, bdf);
	if (rc < 0 ||
	    ivsh_pci_sysfs_link_name(sysfs, bdf, "driver", cur,
				     sizeof(cur)) < 0 ||
	    strcmp(cur, driver) != 0) {
		fprintf(stderr, PROG ": %s: %s did not take the device%s%s (see dmesg)\n",
			bdf, driver, rc < 0 ? ": " : "",
			rc < 0 ? strerror(-rc) : "");
		if (strcmp(driver, "vfio-pci") == 0 &&
		    ivsh_pci_sysfs_link_name(sysfs, bdf, "iommu_group", grp,
					     sizeof(grp)) < 0)
			fprintf(stderr, PROG ": %s has no IOMMU group: the guest needs an IOMMU (intel_iommu=on) or vfio no-IOMMU mode\n",
				bdf);
		return 1;
	}
	printf("%s bound to %s\n", bdf, driver);
	return 0;
}

static int unbind(const char *arg)
{
	char bdf[IVSH_PCI_BDF_LEN];

	if (check(arg, bdf) < 0)
		return 1;
	if (unbind_current(bdf) < 0 || set_override(bdf, "\n") < 0)
		return 1;
	printf("%s unbound\n", bdf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "list", no_argument, NULL, 'l' },
		{ "unbind", no_argument, NULL, 'u' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *driver = "vfio-pci";
	bool do_list = false, do_unbind = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "d:luh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (strcmp(optarg, "vfio-pci") != 0 &&
			    strcmp(optarg, "uio_pci_generic") != 0) {
				fprintf(stderr, PROG ": unknown driver '%s' (expected vfio-pci or uio_pci_generic)\n",
					optarg);
				return 2;
			}
			driver = optarg;
			break;
		case 'l': do_list = true; break;
		case 'u': do_unbind = true; break;
		case 's': sysfs = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (do_list) {
		if (optind != argc) {
			fprintf(stderr, PROG ": --list takes no device\n");
			return 2;
		}
		return list();
	}
	if (optind == argc) {
		fprintf(stderr, PROG ": no device given (see --help; --list shows the devices)\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		rc |= do_unbind ? unbind(argv[i]) : bind(argv[i], driver);
	return rc;
}
