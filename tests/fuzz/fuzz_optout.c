/*
 * Fuzz target for opt-outs: the plaintext decoder (whatever it accepts
 * re-encodes to the same bytes), and reg_optout_open on the input as a
 * sealed box to identity B (fuzzed ciphertext must fail cleanly; the
 * corpus holds real boxes so the path past decryption runs too).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_reg_common.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nc_identity b;
  static int ready;
  uint8_t again[REG_OPTOUT_PLAIN_MAX];
  reg_optout o;
  size_t len;
  int rv;
  if (!ready) {
    FUZZ_CHECK(nc_init() == 0);
    fuzz_identity(&b, FUZZ_SEED_B);
    ready = 1;
  }
  if (reg_optout_plain_decode(&o, data, size) == 0) {
    FUZZ_CHECK(size >= REG_OPTOUT_PLAIN_MIN && size <= REG_OPTOUT_PLAIN_MAX);
    FUZZ_CHECK(reg_optout_plain_encode(&o, again, sizeof again, &len) == 0);
    FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
  }
  rv = reg_optout_open(&o, data, size, b.pk, b.sk, 4);
  FUZZ_CHECK(rv == 0 || rv == REG_ERR_DECRYPT || rv == REG_ERR_MALFORMED ||
             rv == REG_ERR_POW);
  if (rv == 0) FUZZ_CHECK(reg_optout_pow_bits_of(&o) >= 4);
  return 0;
}
