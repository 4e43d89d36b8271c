/*
 * Keys of the registry's records: each is BLAKE2b-256 of a tag that names
 * the record type followed by what the key depends on, so keys of
 * different types never coincide (docs/PROTOCOL.md, "Registry formats").
 */
#include <string.h>

#include "internal.h"

/* tagged hashes tag || a || b (b may be NULL). */
static void tagged(uint8_t out[DHT_KEY_LEN], const char *tag, const void *a,
                   size_t alen, const void *b, size_t blen) {
  nc_hasher h;
  nc_hasher_init(&h, NULL, 0, DHT_KEY_LEN);
  nc_hasher_update(&h, tag, strlen(tag));
  if (alen > 0) nc_hasher_update(&h, a, alen);
  if (blen > 0) nc_hasher_update(&h, b, blen);
  nc_hasher_final(&h, out, DHT_KEY_LEN);
}

void reg_manifest_key(uint8_t key[DHT_KEY_LEN],
                      const uint8_t sender_pk[NC_PK_LEN],
                      const uint8_t batch_id[REG_BATCH_ID_LEN]) {
  tagged(key, "nointrude-batch", sender_pk, NC_PK_LEN, batch_id,
         REG_BATCH_ID_LEN);
}

void reg_chunk_key(uint8_t key[DHT_KEY_LEN], const uint8_t *content,
                   size_t len) {
  tagged(key, "nointrude-chunk", content, content ? len : 0, NULL, 0);
}

void reg_index_key(uint8_t key[DHT_KEY_LEN], uint64_t window) {
  uint8_t le[8];
  reg_put_le(le, window, 8);
  tagged(key, "nointrude-index", le, sizeof le, NULL, 0);
}

void reg_inbox_key(uint8_t key[DHT_KEY_LEN], const uint8_t sender_pk[NC_PK_LEN],
                   const uint8_t batch_id[REG_BATCH_ID_LEN]) {
  tagged(key, "nointrude-inbox", sender_pk, NC_PK_LEN, batch_id,
         REG_BATCH_ID_LEN);
}

void reg_evidence_key(uint8_t key[DHT_KEY_LEN],
                      const uint8_t sender_pk[NC_PK_LEN]) {
  tagged(key, "nointrude-evidence", sender_pk, NC_PK_LEN, NULL, 0);
}

uint64_t reg_index_window(uint64_t created_s) {
  return created_s / REG_INDEX_WINDOW_S;
}
