/*
 * nointrude-bench: one program, one subcommand per benchmark.
 *
 *   nointrude-bench crypto          crypto operations, ops/s
 *   nointrude-bench match [--quick] batch matching end to end, against
 *                                   its bound and a plain baseline
 *
 * Numbers are only meaningful from a release build (--preset release).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

typedef struct subcommand {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} subcommand;

static const subcommand subcommands[] = {
    {"crypto", bench_crypto, "crypto operations (ops/s)"},
    {"match", bench_match,
     "batch matching end to end vs bound and baseline [--quick] "
     "[--threads N]"},
};

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int usage(void) {
  fprintf(stderr, "usage: nointrude-bench SUBCOMMAND [OPTIONS]\n");
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf(stderr, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp(argv[1], subcommands[i].name) == 0)
      return subcommands[i].run(argc - 1, argv + 1);
  return usage();
}
