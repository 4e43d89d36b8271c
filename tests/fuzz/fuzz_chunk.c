/*
 * Fuzz target for chunk payloads: reg_chunk_parse (accepted payloads
 * re-encode to the same bytes), the CHUNK key rule, and reg_fetch_add
 * with the input presented as the content of a wanted key (as if its
 * hash had matched), on a fresh fetch of a fixed batch of 2,000 entries
 * (one hash list over 20 data chunks): the input is tried as that hash
 * list and as the first data chunk, so the fetch's shape, order and
 * undo paths all see fuzzed content.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_reg_common.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
  int ready;
  reg_batch *batch;
  dht_record manifest;
  dht_record list; /* the hash-list chunk */
  reg_types types;
} fx;

static void setup(void) {
  nc_identity a;
  size_t len;
  const uint8_t *p;
  FUZZ_CHECK(nc_init() == 0);
  fuzz_identity(&a, FUZZ_SEED_A);
  fx.batch = fuzz_reg_batch(&a, 2000, 42);
  p = reg_batch_record(fx.batch, 0, &len);
  FUZZ_CHECK(dht_record_decode(&fx.manifest, p, len) == 0);
  p = reg_batch_record(fx.batch, 2, &len);
  FUZZ_CHECK(dht_record_decode(&fx.list, p, len) == 0);
  reg_types_init(&fx.types, 0);
  fx.ready = 1;
}

static void check_parse(const uint8_t *data, size_t size) {
  uint8_t again[REG_CHUNK_PAYLOAD_MAX], kind;
  const uint8_t *c;
  size_t clen, len;
  if (reg_chunk_parse(data, size, &kind, &c, &clen) != 0) return;
  FUZZ_CHECK(size <= REG_CHUNK_PAYLOAD_MAX && clen > 0);
  FUZZ_CHECK(reg_chunk_encode(kind, c, clen, again, sizeof again, &len) == 0);
  FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);
}

static void check_rule(const uint8_t *data, size_t size) {
  dht_record r = fx.list;
  r.payload = data;
  r.payload_len = size;
  reg_chunk_key(r.key, data, size);
  /* The key is right by construction: only the payload can fail. */
  int rv = fx.types.t[1].key_check(&r, fx.types.t[1].ctx);
  FUZZ_CHECK(rv == 0 || rv == DHT_ERR_MALFORMED);
}

/* try_as offers |data| as the content of the first wanted key. */
static void try_as(const uint8_t *data, size_t size, int as_data) {
  reg_fetch *f = NULL;
  uint8_t key[1][DHT_KEY_LEN];
  size_t missing;
  int rv;
  FUZZ_CHECK(reg_fetch_new(&f, &fx.manifest, 0) == 0);
  if (as_data)
    FUZZ_CHECK(reg_fetch_add(f, fx.list.key, fx.list.payload,
                             fx.list.payload_len) == 0);
  FUZZ_CHECK(reg_fetch_wanted(f, key, 1) == 1);
  missing = reg_fetch_missing(f);
  rv = reg_fetch_add_digest(f, key[0], data, size);
  FUZZ_CHECK(rv <= 0);
  FUZZ_CHECK(reg_fetch_missing(f) == missing - (rv == 0));
  reg_fetch_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!fx.ready) setup();
  check_parse(data, size);
  check_rule(data, size);
  if (size > 0) {
    try_as(data, size, 0);
    try_as(data, size, 1);
  }
  return 0;
}
