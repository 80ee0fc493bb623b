/* SPDX-License-Identifier: BSD-3-Clause */
/* Resident memory of this process, with and without the shared region. */
#ifndef TESTPMD_RSS_H
#define TESTPMD_RSS_H

#include <stdint.h>

struct rss_info {
	uint64_t vm_rss_kib;   /* VmRSS from /proc/self/status */
	uint64_t shm_rss_kib;  /* resident part of the shared mapping */
	uint64_t private_kib;  /* the difference: what the program costs */
};

/**
 * Measure. @p shm / @p size: the shared mapping (its resident pages are
 * read from /proc/self/smaps). @return 0 or -errno.
 */
int rss_measure(const void *shm, uint64_t size, struct rss_info *ri);

#endif /* TESTPMD_RSS_H */
