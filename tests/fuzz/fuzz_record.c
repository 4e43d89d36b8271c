/*
 * Fuzz target for the record decoder: dht_record_decode, then
 * dht_record_verify at FUZZ_NOW and difficulty 0 (with one extra type so
 * the table path runs too), dht_note_parse for notes, and a re-encode
 * that must give back exactly the input bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const dht_record_type extra_types[] = {
    {.type = 42,
     .name = "fuzz",
     .max_payload = 200,
     .max_lifetime = 3600,
     .key_check = NULL,
     .multi = 1},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  uint8_t again[DHT_MAX_RECORD], slot[DHT_KEY_LEN];
  const uint8_t *name, *value;
  size_t again_len, name_len, value_len;
  dht_record rec;
  int rv;
  if (!ready) {
    FUZZ_CHECK(nc_init() == 0);
    ready = 1;
  }
  if (dht_record_decode(&rec, data, size) != 0) return 0;
  rv = dht_record_verify(&rec, FUZZ_NOW, 0, extra_types, 1);
  FUZZ_CHECK(rv <= 0);
  dht_record_slot(slot, &rec, 0);
  FUZZ_CHECK(memcmp(slot, rec.author_pk, NC_PK_LEN) == 0);
  dht_record_slot(slot, &rec, 1); /* any payload length hashes */
  if (rec.type == DHT_RECORD_NOTE &&
      dht_note_parse(&rec, &name, &name_len, &value, &value_len) == 0)
    FUZZ_CHECK(name_len >= 1 && name_len <= DHT_NOTE_NAME_MAX &&
               value_len <= DHT_NOTE_VALUE_MAX);
  FUZZ_CHECK(dht_record_encode(&rec, again, sizeof again, &again_len) == 0);
  FUZZ_CHECK(again_len == size && memcmp(again, data, size) == 0);
  return 0;
}
