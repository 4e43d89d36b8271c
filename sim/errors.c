/*
 * Error names of the simulator and the failure path of SIM_ASSERT. The
 * simulator is a driver (like the daemon), so printing to stderr and
 * aborting on a broken contract is allowed here, unlike in the core.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>

const char *sim_strerror(int err) {
  switch (err) {
#define SIM_ERR_CASE(name, value, text)                                        \
  case name:                                                                   \
    return text;
    SIM_ERRORS(SIM_ERR_CASE)
#undef SIM_ERR_CASE
  default:
    return "unknown error";
  }
}

#ifndef SIM_MOCK_ASSERT
void sim_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "nointrude-sim: %s:%d: assertion failed: %s\n", file, line,
          expr);
  abort();
}
#endif
