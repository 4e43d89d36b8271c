/*
 * Fixed inputs of the registry fuzz targets and their corpus generator:
 * the sender (fuzz_common.h's identity A), a deterministic random source
 * and synthetic batches built at FUZZ_NOW, valid for 30 days.
 */
#ifndef NOINTRUDE_FUZZ_REG_COMMON_H
#define NOINTRUDE_FUZZ_REG_COMMON_H

#include <stdio.h>

#include <nointrude/registry.h>

#include "fuzz_common.h"

#define FUZZ_REG_TTL (30 * 86400ull)

static inline void fuzz_reg_random(void *user, uint8_t *buf, size_t len) {
  uint64_t *s = user;
  for (size_t i = 0; i < len; i++) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    buf[i] = (uint8_t)(*s >> 56);
  }
}

/* fuzz_reg_batch builds a batch of |n| addresses "u<i>@fuzz.test". */
static inline reg_batch *fuzz_reg_batch(const nc_identity *sender, size_t n,
                                        uint64_t seed) {
  char(*store)[32] = calloc(n, 32);
  const char **v = calloc(n, sizeof *v);
  reg_batch *b = NULL;
  FUZZ_CHECK(store != NULL && v != NULL);
  for (size_t i = 0; i < n; i++) {
    snprintf(store[i], sizeof store[i], "u%zu@fuzz.test", i);
    v[i] = store[i];
  }
  FUZZ_CHECK(reg_batch_build(&b, v, n, sender, FUZZ_NOW, FUZZ_REG_TTL, 0,
                             fuzz_reg_random, &seed) == 0);
  free(v);
  free(store);
  return b;
}

#endif /* NOINTRUDE_FUZZ_REG_COMMON_H */
