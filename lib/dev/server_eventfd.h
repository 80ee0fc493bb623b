/* SPDX-License-Identifier: BSD-3-Clause */
/* Eventfd I/O of the server: backend that never blocks. Private to lib/dev. */
#ifndef IVSH_SERVER_EVENTFD_H
#define IVSH_SERVER_EVENTFD_H

#include <stdbool.h>
#include <stdint.h>

/* Drain @fd without blocking, whatever its flags. @return the count it
 * held (0 if none, or on error). */
uint64_t server_eventfd_drain(int fd);

/* Add 1 to @fd if that cannot block (a full counter counts as already
 * signalled). @return 0; -EPIPE (hung up or invalid); other -errno. */
int server_eventfd_signal(int fd);

/* Whether @fd is an eventfd (true too when /proc cannot tell). */
bool server_eventfd_check(int fd);

#endif /* IVSH_SERVER_EVENTFD_H */
