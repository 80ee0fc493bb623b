/* SPDX-License-Identifier: BSD-3-Clause */
#include "rss.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int read_vm_rss(uint64_t *kib)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64, kib) == 1) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* Sum "Rss:" of every mapping that lies inside [lo, hi). */
static int read_range_rss(uintptr_t lo, uintptr_t hi, uint64_t *kib)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;
	uint64_t v;

	if (!f)
		return -errno;
	*kib = 0;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t a, b;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &a, &b) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= lo && b <= hi;
			continue;
		}
		if (inside && sscanf(line, "Rss: %" SCNu64, &v) == 1)
			*kib += v;
	}
	fclose(f);
	return 0;
}

int rss_measure(const void *shm, uint64_t size, struct rss_info *ri)
{
	int ret;

	*ri = (struct rss_info){ 0 };
	ret = read_vm_rss(&ri->vm_rss_kib);
	if (ret)
		return ret;
	if (shm && size) {
		uintptr_t lo = (uintptr_t)shm;

		ret = read_range_rss(lo, lo + (uintptr_t)size, &ri->shm_rss_kib);
		if (ret)
			return ret;
	}
	ri->private_kib = ri->vm_rss_kib > ri->shm_rss_kib ?
			  ri->vm_rss_kib - ri->shm_rss_kib : 0;
	return 0;
}
