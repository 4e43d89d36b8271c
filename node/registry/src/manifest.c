/*
 * The batch manifest: the payload of a BATCH record.
 *
 *   [version = 1, batch_id bin16, salt bin32, count, entry_width = 8,
 *    chunk_entries = 104, fanout = 26, depth, roots [bin32 x n], pow_nonce]
 *
 * The fixed fields are spelt out so that a later version can change them;
 * version 1 accepts only these values. depth and the number of roots
 * follow from count (tree.c), and the decoder insists on exactly that
 * shape. The proof of work covers every byte before pow_nonce (pow.c).
 */
#include <string.h>

#include "internal.h"

#define MANIFEST_VERSION 1
#define MANIFEST_FIELDS 10

static int encodable(const reg_manifest *m) {
  return m && m->n_roots >= 1 && m->n_roots <= REG_ROOTS_MAX;
}

/* put_prefix writes everything but pow_nonce. */
static void put_prefix(reg_mp_writer *w, const reg_manifest *m) {
  reg_mp_put_array(w, MANIFEST_FIELDS);
  reg_mp_put_uint(w, MANIFEST_VERSION);
  reg_mp_put_bin(w, m->batch_id, REG_BATCH_ID_LEN);
  reg_mp_put_bin(w, m->salt, REG_SALT_LEN);
  reg_mp_put_uint(w, m->count);
  reg_mp_put_uint(w, m->entry_width);
  reg_mp_put_uint(w, m->chunk_entries);
  reg_mp_put_uint(w, m->fanout);
  reg_mp_put_uint(w, m->depth);
  reg_mp_put_array(w, m->n_roots);
  for (uint32_t i = 0; i < m->n_roots; i++)
    reg_mp_put_bin(w, m->roots[i], DHT_KEY_LEN);
}

int reg_manifest_encode(const reg_manifest *m, uint8_t *buf, size_t cap,
                        size_t *len) {
  reg_mp_writer w;
  if (!len) return REG_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!encodable(m) || !buf) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, buf, cap);
  put_prefix(&w, m);
  reg_mp_put_uint(&w, m->pow_nonce);
  return reg_mp_writer_done(&w, len);
}

int reg_manifest_pow_prefix(const reg_manifest *m, uint8_t *buf, size_t cap,
                            size_t *len) {
  reg_mp_writer w;
  *len = 0;
  if (!encodable(m)) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, buf, cap);
  put_prefix(&w, m);
  return reg_mp_writer_done(&w, len);
}

static void read_fields(reg_mp_reader *r, reg_manifest *m) {
  reg_mp_get_array(r, MANIFEST_FIELDS, MANIFEST_FIELDS);
  reg_mp_get_uint(r, MANIFEST_VERSION, MANIFEST_VERSION);
  reg_mp_get_bin_copy(r, m->batch_id, REG_BATCH_ID_LEN);
  reg_mp_get_bin_copy(r, m->salt, REG_SALT_LEN);
  m->count = reg_mp_get_uint(r, 1, UINT64_MAX);
  m->entry_width = (uint32_t)reg_mp_get_uint(r, REG_ENTRY_LEN, REG_ENTRY_LEN);
  m->chunk_entries =
      (uint32_t)reg_mp_get_uint(r, REG_CHUNK_ENTRIES, REG_CHUNK_ENTRIES);
  m->fanout = (uint32_t)reg_mp_get_uint(r, REG_TREE_FANOUT, REG_TREE_FANOUT);
  m->depth = (uint32_t)reg_mp_get_uint(r, 0, REG_LEVELS_MAX - 1);
  m->n_roots = (uint32_t)reg_mp_get_array(r, 1, REG_ROOTS_MAX);
  for (uint32_t i = 0; i < m->n_roots; i++)
    reg_mp_get_bin_copy(r, m->roots[i], DHT_KEY_LEN);
  m->pow_nonce = reg_mp_get_uint(r, 0, UINT64_MAX);
}

int reg_manifest_decode(reg_manifest *m, const uint8_t *buf, size_t len) {
  reg_mp_reader r;
  reg_shape s;
  int rv;
  if (!m) return REG_ERR_INVALID_ARGUMENT;
  memset(m, 0, sizeof *m);
  reg_mp_reader_init(&r, buf, len);
  read_fields(&r, m);
  rv = reg_mp_reader_done(&r);
  if (rv == 0 && (reg_shape_of(&s, m->count) != 0 || s.depth != m->depth ||
                  s.level_n[s.depth] != m->n_roots))
    rv = REG_ERR_MALFORMED;
  if (rv != 0) memset(m, 0, sizeof *m);
  return rv;
}

int reg_manifest_check(const dht_record *rec, unsigned pow_base_bits,
                       reg_manifest *out) {
  uint8_t key[DHT_KEY_LEN];
  reg_manifest m;
  if (out) memset(out, 0, sizeof *out);
  if (!rec) return REG_ERR_INVALID_ARGUMENT;
  if (rec->type != REG_RECORD_BATCH ||
      reg_manifest_decode(&m, rec->payload, rec->payload_len) != 0)
    return REG_ERR_MANIFEST;
  reg_manifest_key(key, rec->author_pk, m.batch_id);
  if (memcmp(key, rec->key, DHT_KEY_LEN) != 0) return REG_ERR_MANIFEST;
  if (m.count > REG_BATCH_MAX_ENTRIES) return REG_ERR_TOO_LARGE;
  if (!reg_batch_pow_ok(&m, rec->author_pk,
                        reg_batch_pow_bits(m.count, pow_base_bits)))
    return REG_ERR_POW;
  if (out) *out = m;
  return 0;
}
