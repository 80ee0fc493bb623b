/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU placement for the two-thread tests and benchmarks. */
#ifndef IVSH_TEST_CPU_H
#define IVSH_TEST_CPU_H

/**
 * Pin the calling thread to CPU @p cpu modulo the CPUs online. With one
 * CPU it does nothing and lets the scheduler interleave the threads.
 */
void test_pin_self(int cpu);

#endif /* IVSH_TEST_CPU_H */
