/*
 * reg_batch_build: from canonical addresses to a signed, publishable batch.
 *
 * Hash every address with a fresh salt, keep the first 8 bytes of each
 * hash as a big-endian integer, radix-sort and de-duplicate them, cut the
 * entries into data chunks, build the hash-list levels bottom-up, mine the
 * manifest's proof of work and sign every record with the sender key.
 * Memory: the entries (8 bytes each, plus as much again while sorting),
 * the tree's keys (32 bytes per chunk) and the records (< 1000 bytes per
 * 104 entries), so about 18 bytes per address at the peak: a batch of
 * 10,000,000 addresses needs about 180 MB.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define POW_BASE_MAX 40 /* bits; more would take years to mine */

typedef struct builder {
  reg_batch *b;
  reg_shape s;
  const nc_identity *sender;
  uint64_t created, expires;
  unsigned pow_base_bits;
  uint8_t (*keys)[DHT_KEY_LEN]; /* per tree node, top-down numbering */
  size_t blob_cap, blob_len;
} builder;

static int check_args(reg_batch **out, const char *const *canon, size_t n,
                      const nc_identity *sender, uint64_t now_s,
                      uint64_t ttl_s, unsigned pow_base_bits,
                      void (*random)(void *, uint8_t *, size_t)) {
  if (!out || !canon || !sender || !random || n == 0) return 1;
  if (ttl_s == 0 || ttl_s > REG_MAX_LIFETIME_S || now_s > UINT64_MAX - ttl_s)
    return 1;
  return pow_base_bits > POW_BASE_MAX;
}

/* hash_all fills the entries, a block of addresses at a time (lengths
 * checked first: every address must be 1..REG_ADDRESS_MAX bytes). */
static int hash_all(reg_batch *b, const char *const *canon, size_t n) {
  enum { HASH_BLOCK = 1024 };
  size_t len[HASH_BLOCK];
  b->entries = malloc(n * sizeof *b->entries);
  if (!b->entries) return REG_ERR_NOMEM;
  for (size_t i = 0; i < n; i += HASH_BLOCK) {
    size_t k = n - i < HASH_BLOCK ? n - i : HASH_BLOCK;
    for (size_t j = 0; j < k; j++) {
      if (!canon[i + j]) return REG_ERR_INVALID_ARGUMENT;
      len[j] = strnlen(canon[i + j], REG_ADDRESS_MAX + 1);
      if (len[j] == 0 || len[j] > REG_ADDRESS_MAX)
        return REG_ERR_INVALID_ARGUMENT;
    }
    reg_entries_hash(b->entries + i, b->m.salt, canon + i, len, k);
  }
  return 0;
}

static size_t dedup(uint64_t *v, size_t n) {
  size_t out = n > 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] != v[out - 1]) v[out++] = v[i];
  return out;
}

/* node_payload encodes the chunk payload of node |j| of |level|. */
static int node_payload(const builder *bd, uint32_t level, uint64_t j,
                        uint8_t buf[REG_CHUNK_PAYLOAD_MAX], size_t *len) {
  uint8_t content[REG_CHUNK_CONTENT_MAX];
  uint64_t first, n;
  if (level > 0) {
    reg_shape_children(&bd->s, level, j, &first, &n);
    return reg_chunk_encode(
        REG_CHUNK_HASHES, bd->keys[bd->s.level_start[level - 1] + first],
        (size_t)n * DHT_KEY_LEN, buf, REG_CHUNK_PAYLOAD_MAX, len);
  }
  n = reg_shape_items(&bd->s, bd->b->m.count, 0, j);
  for (uint64_t k = 0; k < n; k++)
    reg_put_be64(content + 8 * k, bd->b->entries[j * REG_CHUNK_ENTRIES + k]);
  return reg_chunk_encode(REG_CHUNK_DATA, content, (size_t)n * REG_ENTRY_LEN,
                          buf, REG_CHUNK_PAYLOAD_MAX, len);
}

/* compute_keys hashes the tree bottom-up: a hash list needs its
 * children's keys. */
static int compute_keys(builder *bd) {
  uint8_t payload[REG_CHUNK_PAYLOAD_MAX];
  size_t len;
  bd->keys = malloc((size_t)bd->s.n_nodes * DHT_KEY_LEN);
  if (!bd->keys) return REG_ERR_NOMEM;
  for (uint32_t l = 0; l <= bd->s.depth; l++) {
    for (uint64_t j = 0; j < bd->s.level_n[l]; j++) {
      int rv = node_payload(bd, l, j, payload, &len);
      if (rv != 0) return rv;
      reg_chunk_key(bd->keys[bd->s.level_start[l] + j], payload, len);
    }
  }
  return 0;
}

static int make_manifest(builder *bd, unsigned pow_base_bits) {
  reg_manifest *m = &bd->b->m;
  m->entry_width = REG_ENTRY_LEN;
  m->chunk_entries = REG_CHUNK_ENTRIES;
  m->fanout = REG_TREE_FANOUT;
  m->depth = bd->s.depth;
  m->n_roots = (uint32_t)bd->s.level_n[bd->s.depth];
  memcpy(m->roots, bd->keys, (size_t)m->n_roots * DHT_KEY_LEN);
  return reg_batch_pow_mine(m, bd->sender->pk,
                            reg_batch_pow_bits(m->count, pow_base_bits));
}

/* emit appends one signed record to the blob. */
static int emit(builder *bd, uint8_t type, const uint8_t key[DHT_KEY_LEN],
                const uint8_t *payload, size_t plen) {
  reg_batch *b = bd->b;
  size_t len;
  int rv = reg_record_make(b->blob + bd->blob_len, DHT_MAX_RECORD, &len, type,
                           key, payload, plen, bd->sender, bd->created,
                           bd->expires, 0);
  if (rv != 0) return rv;
  b->off[b->n_records++] = bd->blob_len;
  bd->blob_len += len;
  b->off[b->n_records] = bd->blob_len;
  return 0;
}

static int emit_head(builder *bd) {
  uint8_t payload[REG_MANIFEST_PAYLOAD_MAX], key[DHT_KEY_LEN];
  reg_batch *b = bd->b;
  reg_index x;
  size_t len;
  int rv = reg_manifest_encode(&b->m, payload, sizeof payload, &len);
  reg_manifest_key(key, bd->sender->pk, b->m.batch_id);
  if (rv == 0) rv = emit(bd, REG_RECORD_BATCH, key, payload, len);
  x.window = reg_index_window(bd->created);
  memcpy(x.batch_id, b->m.batch_id, REG_BATCH_ID_LEN);
  x.count = b->m.count;
  if (rv == 0) rv = reg_index_pow_mine(&x, bd->sender->pk, bd->pow_base_bits);
  if (rv == 0) rv = reg_index_encode(&x, payload, sizeof payload, &len);
  reg_index_key(key, x.window);
  if (rv == 0) rv = emit(bd, REG_RECORD_INDEX, key, payload, len);
  return rv;
}

/* emit_all writes manifest, index and every chunk, in node order. */
static int emit_all(builder *bd) {
  uint8_t payload[REG_CHUNK_PAYLOAD_MAX];
  reg_batch *b = bd->b;
  size_t total = 2 + (size_t)bd->s.n_nodes, len;
  int rv;
  bd->blob_cap = total * DHT_MAX_RECORD;
  b->blob = malloc(bd->blob_cap);
  b->off = malloc((total + 1) * sizeof *b->off);
  if (!b->blob || !b->off) return REG_ERR_NOMEM;
  b->off[0] = 0;
  rv = emit_head(bd);
  for (uint32_t l = bd->s.depth + 1; rv == 0 && l-- > 0;) {
    for (uint64_t j = 0; rv == 0 && j < bd->s.level_n[l]; j++) {
      rv = node_payload(bd, l, j, payload, &len);
      if (rv == 0)
        rv = emit(bd, REG_RECORD_CHUNK, bd->keys[bd->s.level_start[l] + j],
                  payload, len);
    }
  }
  return rv;
}

static int build(builder *bd, const char *const *canon, size_t n,
                 unsigned pow_base_bits) {
  reg_batch *b = bd->b;
  uint8_t *shrunk;
  int rv = hash_all(b, canon, n);
  if (rv == 0) rv = reg_entries_sort(b->entries, n);
  if (rv != 0) return rv;
  b->m.count = dedup(b->entries, n);
  rv = reg_shape_of(&bd->s, b->m.count);
  if (rv == 0) rv = compute_keys(bd);
  if (rv == 0) rv = make_manifest(bd, pow_base_bits);
  if (rv == 0) rv = emit_all(bd);
  if (rv != 0) return rv;
  shrunk = realloc(b->blob, bd->blob_len);
  if (shrunk) b->blob = shrunk;
  return 0;
}

int reg_batch_build(reg_batch **out, const char *const *canon, size_t n,
                    const nc_identity *sender, uint64_t now_s, uint64_t ttl_s,
                    unsigned pow_base_bits,
                    void (*random)(void *user, uint8_t *buf, size_t len),
                    void *random_user) {
  builder bd;
  int rv;
  if (out) *out = NULL;
  if (check_args(out, canon, n, sender, now_s, ttl_s, pow_base_bits, random))
    return REG_ERR_INVALID_ARGUMENT;
  if (n > REG_BATCH_MAX_ENTRIES) return REG_ERR_TOO_LARGE;
  memset(&bd, 0, sizeof bd);
  bd.b = calloc(1, sizeof *bd.b);
  if (!bd.b) return REG_ERR_NOMEM;
  bd.sender = sender;
  bd.created = now_s;
  bd.expires = now_s + ttl_s;
  bd.pow_base_bits = pow_base_bits;
  memcpy(bd.b->sender, sender->pk, NC_PK_LEN);
  random(random_user, bd.b->m.salt, REG_SALT_LEN);
  random(random_user, bd.b->m.batch_id, REG_BATCH_ID_LEN);
  rv = build(&bd, canon, n, pow_base_bits);
  free(bd.keys);
  if (rv != 0) {
    reg_batch_free(bd.b);
    return rv;
  }
  *out = bd.b;
  return 0;
}

void reg_batch_free(reg_batch *b) {
  if (!b) return;
  free(b->entries);
  free(b->blob);
  free(b->off);
  free(b);
}

const reg_manifest *reg_batch_manifest(const reg_batch *b) {
  return b ? &b->m : NULL;
}

const uint8_t *reg_batch_sender(const reg_batch *b) {
  return b ? b->sender : NULL;
}

const uint64_t *reg_batch_entries(const reg_batch *b, size_t *n) {
  if (n) *n = b ? (size_t)b->m.count : 0;
  return b ? b->entries : NULL;
}

const uint8_t *reg_batch_record(const reg_batch *b, size_t i, size_t *len) {
  if (len) *len = 0;
  if (!b || i >= b->n_records) return NULL;
  if (len) *len = b->off[i + 1] - b->off[i];
  return b->blob + b->off[i];
}

size_t reg_batch_record_count(const reg_batch *b) {
  return b ? b->n_records : 0;
}

/* ---- the index record: when a batch is announced ------------------------- */

#define INDEX_RECORD 1 /* the index record's place among the records */

/* Decodes |b|'s index record (valid: the batch was built or decoded). */
static int index_record(const reg_batch *b, dht_record *rec) {
  size_t len;
  const uint8_t *bytes = reg_batch_record(b, INDEX_RECORD, &len);
  return bytes ? dht_record_decode(rec, bytes, len) : REG_ERR_INVALID_ARGUMENT;
}

uint64_t reg_batch_announced(const reg_batch *b) {
  dht_record rec;
  return b && index_record(b, &rec) == 0 ? reg_index_window(rec.created) : 0;
}

int reg_batch_stale(const reg_batch *b, uint64_t now_s) {
  return b && reg_batch_announced(b) + 1 < reg_index_window(now_s);
}

/* Replaces record |i| of |b| by |len| bytes of |rec|. */
static int replace_record(reg_batch *b, size_t i, const uint8_t *rec,
                          size_t len) {
  size_t old = b->off[i + 1] - b->off[i], total = b->off[b->n_records];
  size_t n = total - old + len;
  uint8_t *blob = malloc(n);
  if (!blob) return REG_ERR_NOMEM;
  memcpy(blob, b->blob, b->off[i]);
  memcpy(blob + b->off[i], rec, len);
  memcpy(blob + b->off[i] + len, b->blob + b->off[i + 1], total - b->off[i + 1]);
  for (size_t j = i + 1; j <= b->n_records; j++) b->off[j] = b->off[j] - old + len;
  free(b->blob);
  b->blob = blob;
  return 0;
}

int reg_batch_reannounce(reg_batch *b, const nc_identity *sender,
                         uint64_t now_s, unsigned pow_base_bits) {
  uint8_t payload[REG_INDEX_PAYLOAD_MAX], key[DHT_KEY_LEN];
  uint8_t rec[DHT_MAX_RECORD];
  size_t plen, len;
  dht_record old;
  if (!b || !sender || pow_base_bits > 64 ||
      memcmp(sender->pk, b->sender, NC_PK_LEN) != 0 ||
      index_record(b, &old) != 0)
    return REG_ERR_INVALID_ARGUMENT;
  if (now_s >= old.expires) return REG_ERR_EXPIRED;
  reg_index x = {.window = reg_index_window(now_s), .count = b->m.count};
  memcpy(x.batch_id, b->m.batch_id, REG_BATCH_ID_LEN);
  int rv = reg_index_pow_mine(&x, sender->pk, pow_base_bits);
  if (rv == 0) rv = reg_index_encode(&x, payload, sizeof payload, &plen);
  reg_index_key(key, x.window);
  if (rv == 0)
    rv = reg_record_make(rec, sizeof rec, &len, REG_RECORD_INDEX, key, payload,
                         plen, sender, now_s, old.expires, 0);
  return rv == 0 ? replace_record(b, INDEX_RECORD, rec, len) : rv;
}
