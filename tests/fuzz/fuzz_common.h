/*
 * Fixed inputs shared by the fuzz targets and the corpus generator: two
 * identities from fixed seeds (difficulty 0), the key they share, the
 * clock the record target verifies at, and an abort-on-false check that
 * libFuzzer and the replay runner both report as a crash.
 */
#ifndef NOINTRUDE_FUZZ_COMMON_H
#define NOINTRUDE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nointrude/crypto.h>

#define FUZZ_NOW 1700000000ull /* Unix seconds */
#define FUZZ_SEED_A 0xa1
#define FUZZ_SEED_B 0xb2

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) abort(); \
  } while (0)

/* fuzz_identity derives the fixed identity for |fill| (every seed byte). */
static inline void fuzz_identity(nc_identity *id, uint8_t fill) {
  uint8_t seed[NC_SEED_LEN];
  memset(seed, fill, sizeof seed);
  FUZZ_CHECK(nc_identity_from_seed(id, seed, 0, 0, 1) == 0);
}

/* fuzz_shared_key computes the key A and B share (either side). */
static inline void fuzz_shared_key(uint8_t key[NC_SHARED_LEN]) {
  nc_identity a, b;
  FUZZ_CHECK(nc_init() == 0);
  fuzz_identity(&a, FUZZ_SEED_A);
  fuzz_identity(&b, FUZZ_SEED_B);
  FUZZ_CHECK(nc_peer_key(key, a.sk, a.pk, b.pk) == 0);
  nc_identity_wipe(&a);
  nc_identity_wipe(&b);
}

#endif /* NOINTRUDE_FUZZ_COMMON_H */
