/*
 * The batch file: what `nointrude batch create` writes and `batch publish`
 * hands to the node.
 *
 *   "NIBATCH1" | le32 record count | (le32 length | record bytes) x count
 *
 * Records in order: manifest, index, hash-list chunks top-down level by
 * level, data chunks. The decoder trusts nothing: it frames every record
 * (bounded lengths, no trailing bytes), verifies every envelope at the
 * caller's time and difficulty, the manifest's fields, key and proof of
 * work, that every record has the manifest's author, that the index
 * names this batch, and every chunk by hash against the tree (so a
 * tampered chunk is reported as CHUNK_HASH before its signature is even
 * looked at), entries strictly increasing and exactly |count| of them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAGIC "NIBATCH1"
#define MAGIC_LEN 8
#define HEAD_LEN (MAGIC_LEN + 4)
#define FRAME_MIN 5 /* length prefix + at least one byte */

int reg_batch_file_encode(const reg_batch *b, uint8_t **buf, size_t *len) {
  size_t total = HEAD_LEN, pos = HEAD_LEN;
  uint8_t *p;
  if (buf) *buf = NULL;
  if (len) *len = 0;
  if (!b || !buf || !len || b->n_records > UINT32_MAX)
    return REG_ERR_INVALID_ARGUMENT;
  total += 4 * b->n_records + b->off[b->n_records];
  p = malloc(total);
  if (!p) return REG_ERR_NOMEM;
  memcpy(p, MAGIC, MAGIC_LEN);
  reg_put_le(p + MAGIC_LEN, b->n_records, 4);
  for (size_t i = 0; i < b->n_records; i++) {
    size_t n = b->off[i + 1] - b->off[i];
    reg_put_le(p + pos, n, 4);
    memcpy(p + pos + 4, b->blob + b->off[i], n);
    pos += 4 + n;
  }
  *buf = p;
  *len = total;
  return 0;
}

/* ---- Decoding ------------------------------------------------------------ */

typedef struct file_ctx {
  const uint8_t *buf;
  size_t *off, *rlen; /* per record: offset and length in buf */
  size_t n;           /* records */
  unsigned difficulty, pow_base_bits;
  uint64_t now_s;
  reg_types types;
  reg_fetch *f;
  reg_shape s;
} file_ctx;

/* frame splits the records. Returns 0, REG_ERR_TRUNCATED,
 * REG_ERR_MALFORMED or REG_ERR_NOMEM. */
static int frame(file_ctx *c, size_t len) {
  size_t pos = HEAD_LEN;
  if (len < HEAD_LEN) return REG_ERR_TRUNCATED;
  if (memcmp(c->buf, MAGIC, MAGIC_LEN) != 0) return REG_ERR_MALFORMED;
  c->n = (size_t)reg_get_le(c->buf + MAGIC_LEN, 4);
  if (c->n < 3) return REG_ERR_MALFORMED;
  if (c->n > (len - HEAD_LEN) / FRAME_MIN) return REG_ERR_TRUNCATED;
  c->off = malloc(c->n * sizeof *c->off);
  c->rlen = malloc(c->n * sizeof *c->rlen);
  if (!c->off || !c->rlen) return REG_ERR_NOMEM;
  for (size_t i = 0; i < c->n; i++) {
    if (len - pos < 4) return REG_ERR_TRUNCATED;
    c->rlen[i] = (size_t)reg_get_le(c->buf + pos, 4);
    pos += 4;
    if (c->rlen[i] == 0 || c->rlen[i] > DHT_MAX_RECORD)
      return REG_ERR_MALFORMED;
    if (c->rlen[i] > len - pos) return REG_ERR_TRUNCATED;
    c->off[i] = pos;
    pos += c->rlen[i];
  }
  return pos == len ? 0 : REG_ERR_MALFORMED;
}

static int dht_code(int err) {
  return err == DHT_ERR_EXPIRED ? REG_ERR_EXPIRED : err;
}

/* open_record decodes record |i|, which must be of |type|. */
static int open_record(const file_ctx *c, size_t i, uint8_t type,
                       dht_record *rec) {
  int rv = dht_record_decode(rec, c->buf + c->off[i], c->rlen[i]);
  if (rv != 0) return rv;
  return rec->type == type ? 0 : REG_ERR_MALFORMED;
}

static int verify(const file_ctx *c, const dht_record *rec) {
  return dht_code(dht_record_verify(rec, c->now_s, c->difficulty, c->types.t,
                                    REG_RECORD_TYPES));
}

static int same_author(const file_ctx *c, const dht_record *rec) {
  return memcmp(rec->author_pk, reg_fetch_sender(c->f), NC_PK_LEN) == 0;
}

static int check_manifest(file_ctx *c) {
  dht_record rec;
  int rv = open_record(c, 0, REG_RECORD_BATCH, &rec);
  if (rv == 0) rv = verify(c, &rec);
  if (rv == 0) rv = reg_fetch_new(&c->f, &rec, c->pow_base_bits);
  if (rv == 0) rv = reg_shape_of(&c->s, reg_fetch_manifest(c->f)->count);
  if (rv == 0 && c->n != 2 + c->s.n_nodes) rv = REG_ERR_MALFORMED;
  return rv;
}

static int check_index(const file_ctx *c) {
  const reg_manifest *m = reg_fetch_manifest(c->f);
  dht_record rec;
  reg_index x;
  int rv = open_record(c, 1, REG_RECORD_INDEX, &rec);
  if (rv == 0) rv = verify(c, &rec);
  if (rv != 0) return rv;
  if (!same_author(c, &rec) ||
      reg_index_decode(&x, rec.payload, rec.payload_len) != 0 ||
      memcmp(x.batch_id, m->batch_id, REG_BATCH_ID_LEN) != 0 ||
      x.count != m->count)
    return REG_ERR_MANIFEST;
  return 0;
}

/* check_chunk verifies tree node |node| (record 2 + node): by hash
 * against the key its parent named first, then its place in the tree,
 * then its envelope and author. */
static int check_chunk(file_ctx *c, uint64_t node) {
  const uint8_t *want = reg_fetch_node_key(c->f, node);
  uint8_t digest[DHT_KEY_LEN];
  dht_record rec;
  int rv = open_record(c, 2 + (size_t)node, REG_RECORD_CHUNK, &rec);
  if (rv != 0) return rv;
  if (!want) return REG_ERR_MALFORMED;
  reg_chunk_key(digest, rec.payload, rec.payload_len);
  if (memcmp(digest, want, DHT_KEY_LEN) != 0 ||
      memcmp(rec.key, want, DHT_KEY_LEN) != 0)
    return REG_ERR_CHUNK_HASH;
  rv = reg_fetch_add_digest(c->f, digest, rec.payload, rec.payload_len);
  if (rv == 0) rv = verify(c, &rec);
  if (rv == 0 && !same_author(c, &rec)) rv = REG_ERR_MANIFEST;
  return rv;
}

/* to_batch copies the verified records into a new batch. */
static int to_batch(file_ctx *c, reg_batch **out) {
  reg_batch *b = calloc(1, sizeof *b);
  size_t total = 0, n;
  if (!b) return REG_ERR_NOMEM;
  for (size_t i = 0; i < c->n; i++) total += c->rlen[i];
  b->blob = malloc(total);
  b->off = malloc((c->n + 1) * sizeof *b->off);
  b->entries = reg_fetch_take_entries(c->f, &n);
  if (!b->blob || !b->off || !b->entries) {
    reg_batch_free(b);
    return REG_ERR_NOMEM;
  }
  b->m = *reg_fetch_manifest(c->f);
  memcpy(b->sender, reg_fetch_sender(c->f), NC_PK_LEN);
  b->off[0] = 0;
  for (size_t i = 0; i < c->n; i++) {
    memcpy(b->blob + b->off[i], c->buf + c->off[i], c->rlen[i]);
    b->off[i + 1] = b->off[i] + c->rlen[i];
  }
  b->n_records = c->n;
  *out = b;
  return 0;
}

static int decode(file_ctx *c, size_t len, reg_batch **out) {
  int rv = frame(c, len);
  if (rv == 0) rv = check_manifest(c);
  if (rv == 0) rv = check_index(c);
  for (uint64_t i = 0; rv == 0 && i < c->s.n_nodes; i++)
    rv = check_chunk(c, i);
  if (rv == 0 && !reg_fetch_complete(c->f)) rv = REG_ERR_MALFORMED;
  if (rv == 0) rv = to_batch(c, out);
  return rv;
}

int reg_batch_file_decode(reg_batch **out, const uint8_t *buf, size_t len,
                          unsigned difficulty, unsigned pow_base_bits,
                          uint64_t now_s) {
  file_ctx c;
  int rv;
  if (!out) return REG_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!buf) return len == 0 ? REG_ERR_TRUNCATED : REG_ERR_INVALID_ARGUMENT;
  memset(&c, 0, sizeof c);
  c.buf = buf;
  c.difficulty = difficulty;
  c.pow_base_bits = pow_base_bits;
  c.now_s = now_s;
  reg_types_init(&c.types, pow_base_bits);
  rv = decode(&c, len, out);
  reg_fetch_free(c.f);
  free(c.off);
  free(c.rlen);
  return rv;
}
