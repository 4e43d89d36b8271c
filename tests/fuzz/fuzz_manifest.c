/*
 * Fuzz target for the registry's payload decoders: the manifest, and the
 * index, opt-out record and evidence payloads. Whatever a decoder
 * accepts must re-encode to exactly the input bytes (the encoding is
 * canonical), and a decoded manifest must have the shape its count
 * implies.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_reg_common.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_manifest(const uint8_t *data, size_t size) {
  uint8_t again[REG_MANIFEST_PAYLOAD_MAX];
  reg_manifest m;
  reg_shape s;
  size_t len;
  if (reg_manifest_decode(&m, data, size) != 0) return;
  FUZZ_CHECK(size <= REG_MANIFEST_PAYLOAD_MAX);
  FUZZ_CHECK(reg_shape_of(&s, m.count) == 0 && s.depth == m.depth &&
             s.level_n[s.depth] == m.n_roots);
  FUZZ_CHECK(reg_manifest_encode(&m, again, sizeof again, &len) == 0);
  FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
}

static void check_small(const uint8_t *data, size_t size) {
  uint8_t again[256];
  size_t len;
  reg_index x;
  reg_optout_record o;
  reg_evidence e;
  if (reg_index_decode(&x, data, size) == 0) {
    FUZZ_CHECK(reg_index_encode(&x, again, sizeof again, &len) == 0);
    FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
  }
  if (reg_optout_record_decode(&o, data, size) == 0) {
    FUZZ_CHECK(reg_optout_record_encode(&o, again, sizeof again, &len) == 0);
    FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
  }
  if (reg_evidence_decode(&e, data, size) == 0) {
    FUZZ_CHECK(reg_evidence_encode(&e, again, sizeof again, &len) == 0);
    FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_manifest(data, size);
  check_small(data, size);
  return 0;
}
