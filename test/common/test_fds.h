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

/**
 * Send @p len bytes of @p data on stream socket @p sock, with @p nfds
 * descriptors (0..TEST_SEND_MAX_FDS) in one SCM_RIGHTS control message,
 * as a peer forging messages would. Aborts on nfds out of range.
 * @return sendmsg()'s result (MSG_NOSIGNAL).
 */
#define TEST_SEND_MAX_FDS 32
long test_send_fds(int sock, const void *data, unsigned long len,
		   const int *fds, int nfds);

#endif /* IVSH_TEST_FDS_H */
