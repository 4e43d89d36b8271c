/*
 * Fuzz target for the batch file decoder: reg_batch_file_decode at
 * FUZZ_NOW, difficulty 0 and PoW base 0. An accepted file must hold
 * strictly increasing entries, exactly the manifest's count of them, and
 * re-encode to exactly the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_reg_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  reg_batch *b = NULL;
  const uint64_t *e;
  uint8_t *again;
  size_t n, len;
  int rv;
  if (!ready) {
    FUZZ_CHECK(nc_init() == 0);
    ready = 1;
  }
  rv = reg_batch_file_decode(&b, data, size, 0, 0, FUZZ_NOW);
  FUZZ_CHECK(rv <= 0 && (rv == 0) == (b != NULL));
  if (rv != 0) return 0;
  e = reg_batch_entries(b, &n);
  FUZZ_CHECK(n == reg_batch_manifest(b)->count && n > 0);
  for (size_t i = 1; i < n; i++) FUZZ_CHECK(e[i - 1] < e[i]);
  FUZZ_CHECK(reg_batch_file_encode(b, &again, &len) == 0);
  FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
  free(again);
  reg_batch_free(b);
  return 0;
}
