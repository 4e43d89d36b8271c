/*
 * nointrude-bench: the subcommands of the benchmark program and what
 * they share. Benchmarks are not tests: they run from a release build and
 * print tables; only bench/ uses threads and clocks this way.
 */
#ifndef NOINTRUDE_BENCH_H
#define NOINTRUDE_BENCH_H

#include <stdint.h>

/* bench_now_ns returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Subcommands: argv[0] is the subcommand's name. Return the exit code
 * (0 success, 1 failure, 2 usage). */
int bench_crypto(int argc, char **argv);
int bench_match(int argc, char **argv);

#endif /* NOINTRUDE_BENCH_H */
