/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A process-wide SIGBUS guard for shared mappings of files that another
 * process may shrink (POSIX shm objects, hugetlbfs and plain files: none
 * can be sealed against it). Private to lib/dev.
 *
 * The first registration installs a SIGBUS handler; a later one installs
 * it again if the default action was put back meanwhile. On SIGBUS in a
 * registered range whose file is now shorter than the range, the range
 * is replaced, in place, by private zero pages and marked lost: the
 * faulting access is retried and reads zeros. The siginfo is read only
 * when the kernel called the handler directly: a handler installed later
 * may chain to this one as a one-argument handler (DPDK's EAL does), and
 * the file sizes then say which range faulted. Any other SIGBUS goes
 * to the handler that was there before, or gets the default action (the
 * process dies of SIGBUS, as without the guard).
 */
#ifndef IVSH_MAP_GUARD_H
#define IVSH_MAP_GUARD_H

#include <stdbool.h>
#include <stddef.h>

struct map_guard;

/* Most ranges guarded at once in a process. */
#define MAP_GUARD_MAX 256

/* Whether @fd can be shrunk by someone holding it (no F_SEAL_SHRINK). */
bool map_guard_needed(int fd);

/*
 * Guard [@base, @base + @len), a MAP_SHARED mapping of @fd. Takes @fd
 * (closed by map_guard_remove(); kept to re-check the size).
 * @return 0; -ENOSPC MAP_GUARD_MAX ranges are guarded already;
 *         -errno from sigaction(). On failure @fd is not taken.
 */
int map_guard_add(struct map_guard **gp, void *base, size_t len, int fd);

/*
 * Re-check the file's size (one fstat()); a file shorter than the range
 * loses the range now, as a fault would. @return 0 intact; -ENODEV lost.
 */
int map_guard_check(struct map_guard *g);

/* Whether the range was lost (no system call; async-signal-safe). */
bool map_guard_lost(const struct map_guard *g);

/* Stop guarding and close the fd. The caller unmaps the range after. */
void map_guard_remove(struct map_guard *g);

#endif /* IVSH_MAP_GUARD_H */
