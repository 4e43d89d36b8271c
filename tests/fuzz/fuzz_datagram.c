/*
 * Fuzz target for everything a datagram reaches: dht_frame_parse, then
 * for SEALED frames dht_frame_open under the fixed A/B key (so corpus
 * entries sealed by make_corpus get through to the body decoder), and
 * dht_msg_decode on both the opened body and the raw input. Whatever
 * decodes must re-encode to the same bytes, and records carried in
 * VALUES or STORE go through dht_record_decode.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const dht_msg *m) {
  dht_record rec;
  for (size_t i = 0; i < m->n_records; i++)
    (void)dht_record_decode(&rec, m->records[i], m->record_lens[i]);
  if (m->record) (void)dht_record_decode(&rec, m->record, m->record_len);
}

static void check_body(const uint8_t *body, size_t len) {
  uint8_t again[DHT_BODY_MAX];
  size_t again_len;
  dht_msg m;
  if (dht_msg_decode(&m, body, len) != 0) return;
  FUZZ_CHECK(dht_msg_encode(&m, again, sizeof again, &again_len) == 0);
  FUZZ_CHECK(again_len == len && memcmp(again, body, len) == 0);
  check_records(&m);
}

static void check_frame(const dht_frame *f, const uint8_t *data, size_t size,
                        const uint8_t key[NC_SHARED_LEN]) {
  uint8_t body[DHT_BODY_MAX], probe[DHT_PROBE_LEN];
  size_t body_len;
  if (f->kind != DHT_KIND_SEALED) {
    dht_frame_write_probe(probe, f->kind, f->pk, f->nonce, f->cookie);
    FUZZ_CHECK(size == DHT_PROBE_LEN && memcmp(probe, data, size) == 0);
    return;
  }
  FUZZ_CHECK(f->cipher_len + DHT_SEALED_PREFIX_LEN == size);
  if (dht_frame_open(f, key, body, &body_len) == 0) check_body(body, body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t key[NC_SHARED_LEN];
  static int ready;
  dht_frame f;
  int drop = -1;
  if (!ready) {
    fuzz_shared_key(key);
    ready = 1;
  }
  if (dht_frame_parse(&f, data, size, &drop) == 0)
    check_frame(&f, data, size, key);
  else
    FUZZ_CHECK(drop >= 0 && drop < DHT_DROP_COUNT);
  check_body(data, size);
  return 0;
}
