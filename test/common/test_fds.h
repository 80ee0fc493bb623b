/* SPDX-License-Identifier: BSD-3-Clause */
/* Descriptor counting for the tests that check nothing leaks. */
#ifndef IVSH_TEST_FDS_H
#define IVSH_TEST_FDS_H

/**
 * Number of descriptors this process has open, not counting the one used
 * to list them. Aborts with a message if /proc/self/fd cannot be read, so
 * a leak check never passes by comparing two failures.
 */
int test_count_fds(void);

#endif /* IVSH_TEST_FDS_H */
