/* SPDX-License-Identifier: BSD-3-Clause */
/* Command-line parsing for ivsh-testpmd. */
#ifndef TESTPMD_OPTIONS_H
#define TESTPMD_OPTIONS_H

struct tp_conf;

/**
 * Fill @p c from argv. Prints a one-line error on bad input.
 * @return 0 to run; 1 to exit successfully (--help); -1 on error.
 */
int options_parse(struct tp_conf *c, int argc, char **argv);

#endif /* TESTPMD_OPTIONS_H */
