/* SPDX-License-Identifier: BSD-3-Clause */
/* Size strings shared by every layer that takes one from a user. */
#ifndef IVSH_SIZE_H
#define IVSH_SIZE_H

#include <stdint.h>

/**
 * Parse a decimal byte count with an optional binary suffix k/K, m/M,
 * g/G or t/T ("4M" = 4 << 20). No sign, blanks, hex or "MB".
 * @return 0 and *out; -EINVAL not a number or a bad suffix; -ERANGE the
 *         value does not fit in 64 bits.
 */
int ivsh_parse_size(const char *s, uint64_t *out);

#endif /* IVSH_SIZE_H */
