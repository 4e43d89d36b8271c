/*
 * reg_fetch: incremental verification of a batch fetched chunk by chunk.
 *
 * The manifest (already signature-checked) names the roots; each
 * hash-list chunk, once its content hashes to the key its parent named,
 * reveals the keys of its children; each data chunk is checked the same
 * way and its entries copied to their place. Nothing a storer says is
 * trusted: a chunk is accepted only if BLAKE2b-256("nointrude-chunk" ||
 * payload) is a key the signed tree asked for, and every error leaves the
 * state exactly as it was, so the caller just asks another storer.
 *
 * Wanted keys are found through an open-addressing table indexed by the
 * key's first 8 bytes. Keys come from the batch's signer, who could make
 * them collide on purpose; probes are therefore capped (PROBE_MAX): an
 * honest tree of BLAKE2b outputs at load <= 1/4 never comes near the cap,
 * and a tree that would exceed it is refused as malformed.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PROBE_MAX 256 /* slots; see above */
#define TABLE_MIN 64

enum node_state { NODE_UNKNOWN, NODE_WANTED, NODE_FILLED };

typedef struct fnode {
  uint8_t key[DHT_KEY_LEN];
  uint8_t state; /* enum node_state */
} fnode;

struct reg_fetch {
  reg_manifest m;
  uint8_t sender[NC_PK_LEN];
  reg_shape s;
  fnode *nodes;     /* s.n_nodes, top-down numbering (tree.c) */
  uint32_t *table;  /* node number + 1; 0 = empty */
  size_t mask;      /* table size - 1 */
  uint64_t filled;  /* nodes added */
  uint64_t cursor;  /* every node before it is filled */
  uint64_t hint;    /* the node after the last one added */
  uint64_t *entries; /* m.count, filled as data chunks arrive */
};

/* ---- Key table ---------------------------------------------------------- */

static size_t home_slot(const reg_fetch *f, const uint8_t key[DHT_KEY_LEN]) {
  return (size_t)reg_get_le(key, 8) & f->mask;
}

/* table_insert files node |i|. Returns 0 or -1 past the probe cap. */
static int table_insert(reg_fetch *f, uint64_t i) {
  size_t slot = home_slot(f, f->nodes[i].key);
  for (unsigned p = 0; p < PROBE_MAX; p++, slot = (slot + 1) & f->mask) {
    if (f->table[slot] == 0) {
      f->table[slot] = (uint32_t)(i + 1);
      return 0;
    }
  }
  return -1;
}

/* table_remove clears node |i|'s slot. Only valid for the nodes inserted
 * last, in reverse order, which restores the table exactly. */
static void table_remove(reg_fetch *f, uint64_t i) {
  size_t slot = home_slot(f, f->nodes[i].key);
  for (unsigned p = 0; p < PROBE_MAX; p++, slot = (slot + 1) & f->mask) {
    if (f->table[slot] == i + 1) {
      f->table[slot] = 0;
      return;
    }
  }
}

/* table_find returns the number of a wanted node with |key|, or -1; sets
 * *dup if a filled node has it. */
static int64_t table_find(const reg_fetch *f, const uint8_t key[DHT_KEY_LEN],
                          int *dup) {
  size_t slot = home_slot(f, key);
  *dup = 0;
  for (unsigned p = 0; p < PROBE_MAX; p++, slot = (slot + 1) & f->mask) {
    uint32_t v = f->table[slot];
    const fnode *n;
    if (v == 0) break;
    n = &f->nodes[v - 1];
    if (memcmp(n->key, key, DHT_KEY_LEN) != 0) continue;
    if (n->state == NODE_WANTED) return (int64_t)v - 1;
    *dup = 1;
  }
  return -1;
}

/* find_wanted is table_find with a fast path for chunks arriving in tree
 * order (a batch file, a sequential fetch): the node after the last one
 * added is checked first. */
static int64_t find_wanted(const reg_fetch *f, const uint8_t key[DHT_KEY_LEN],
                           int *dup) {
  const fnode *n = f->hint < f->s.n_nodes ? &f->nodes[f->hint] : NULL;
  if (n && n->state == NODE_WANTED && memcmp(n->key, key, DHT_KEY_LEN) == 0) {
    *dup = 0;
    return (int64_t)f->hint;
  }
  return table_find(f, key, dup);
}

/* want makes node |i| wanted under |key|. Returns 0 or -1. */
static int want(reg_fetch *f, uint64_t i, const uint8_t key[DHT_KEY_LEN]) {
  memcpy(f->nodes[i].key, key, DHT_KEY_LEN);
  f->nodes[i].state = NODE_WANTED;
  if (table_insert(f, i) == 0) return 0;
  f->nodes[i].state = NODE_UNKNOWN;
  return -1;
}

/* ---- Creation ------------------------------------------------------------ */

static int alloc_state(reg_fetch *f) {
  size_t size = TABLE_MIN;
  while (size < 4 * f->s.n_nodes) size <<= 1;
  f->mask = size - 1;
  f->nodes = calloc((size_t)f->s.n_nodes, sizeof *f->nodes);
  f->table = calloc(size, sizeof *f->table);
  f->entries = malloc((size_t)f->m.count * sizeof *f->entries);
  return f->nodes && f->table && f->entries ? 0 : REG_ERR_NOMEM;
}

int reg_fetch_new(reg_fetch **out, const dht_record *manifest_rec,
                  unsigned pow_base_bits) {
  reg_fetch *f;
  int rv;
  if (!out) return REG_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!manifest_rec) return REG_ERR_INVALID_ARGUMENT;
  f = calloc(1, sizeof *f);
  if (!f) return REG_ERR_NOMEM;
  rv = reg_manifest_check(manifest_rec, pow_base_bits, &f->m);
  if (rv == 0) rv = reg_shape_of(&f->s, f->m.count);
  if (rv == 0) rv = alloc_state(f);
  for (uint32_t i = 0; rv == 0 && i < f->m.n_roots; i++)
    if (want(f, i, f->m.roots[i]) != 0) rv = REG_ERR_MANIFEST;
  if (rv != 0) {
    reg_fetch_free(f);
    return rv;
  }
  memcpy(f->sender, manifest_rec->author_pk, NC_PK_LEN);
  *out = f;
  return 0;
}

void reg_fetch_free(reg_fetch *f) {
  if (!f) return;
  free(f->nodes);
  free(f->table);
  free(f->entries);
  free(f);
}

/* ---- Adding chunks ------------------------------------------------------- */

static uint32_t level_of(const reg_shape *s, uint64_t i) {
  uint32_t l = 0;
  while (l < s->depth && i < s->level_start[l]) l++;
  return l;
}

static int filled(const reg_fetch *f, uint64_t i) {
  return f->nodes[i].state == NODE_FILLED;
}

/* add_data converts data chunk |j|'s |n| (>= 1) entries straight into
 * their place (unused until the chunk counts as added, so a refusal
 * changes nothing visible), checking in the same pass that they increase
 * strictly (one pass over the bytes instead of two; the order flag is
 * accumulated without a branch), then that they fit between the
 * neighbours already added. */
static int add_data(reg_fetch *f, uint64_t j, const uint8_t *c, size_t n) {
  uint64_t base = f->s.level_start[0], first = j * REG_CHUNK_ENTRIES;
  uint64_t *v = f->entries + first, prev = reg_get_be64(c);
  unsigned unsorted = 0;
  v[0] = prev;
  for (size_t k = 1; k < n; k++) {
    uint64_t x = reg_get_be64(c + 8 * k);
    unsorted |= prev >= x;
    v[k] = prev = x;
  }
  if (unsorted) return REG_ERR_NOT_SORTED;
  if (j > 0 && filled(f, base + j - 1) && v[-1] >= v[0])
    return REG_ERR_NOT_SORTED;
  if (j + 1 < f->s.level_n[0] && filled(f, base + j + 1) &&
      v[n - 1] >= v[REG_CHUNK_ENTRIES])
    return REG_ERR_NOT_SORTED;
  return 0;
}

/* add_hashes reveals the children of hash-list node |j| of |level|;
 * undoes everything if one cannot be filed. */
static int add_hashes(reg_fetch *f, uint32_t level, uint64_t j,
                      const uint8_t *c, size_t n) {
  uint64_t first, count, base = f->s.level_start[level - 1];
  reg_shape_children(&f->s, level, j, &first, &count);
  for (size_t k = 0; k < n; k++) {
    if (want(f, base + first + k, c + DHT_KEY_LEN * k) == 0) continue;
    while (k-- > 0) {
      table_remove(f, base + first + k);
      f->nodes[base + first + k].state = NODE_UNKNOWN;
    }
    return REG_ERR_MALFORMED;
  }
  return 0;
}

static void mark_filled(reg_fetch *f, uint64_t i) {
  f->nodes[i].state = NODE_FILLED;
  f->filled++;
  f->hint = i + 1;
  while (f->cursor < f->s.n_nodes && filled(f, f->cursor)) f->cursor++;
}

int reg_fetch_add_digest(reg_fetch *f, const uint8_t digest[DHT_KEY_LEN],
                         const uint8_t *payload, size_t len) {
  const uint8_t *c;
  size_t clen, unit;
  uint8_t kind;
  uint32_t level;
  int64_t i;
  int dup, rv;
  if (!f || !digest || !payload) return REG_ERR_INVALID_ARGUMENT;
  i = find_wanted(f, digest, &dup);
  if (i < 0) return dup ? REG_ERR_DUPLICATE : REG_ERR_CHUNK_HASH;
  level = level_of(&f->s, (uint64_t)i);
  if (reg_chunk_parse(payload, len, &kind, &c, &clen) != 0 ||
      kind != (level == 0 ? REG_CHUNK_DATA : REG_CHUNK_HASHES))
    return REG_ERR_MALFORMED;
  unit = level == 0 ? REG_ENTRY_LEN : DHT_KEY_LEN;
  if (clen / unit != reg_shape_items(&f->s, f->m.count, level,
                                     (uint64_t)i - f->s.level_start[level]))
    return REG_ERR_MALFORMED;
  if (level == 0)
    rv = add_data(f, (uint64_t)i - f->s.level_start[0], c, clen / unit);
  else
    rv = add_hashes(f, level, (uint64_t)i - f->s.level_start[level], c,
                    clen / unit);
  if (rv == 0) mark_filled(f, (uint64_t)i);
  return rv;
}

int reg_fetch_add(reg_fetch *f, const uint8_t key[DHT_KEY_LEN],
                  const uint8_t *payload, size_t len) {
  uint8_t digest[DHT_KEY_LEN];
  if (!f || !key || !payload) return REG_ERR_INVALID_ARGUMENT;
  reg_chunk_key(digest, payload, len);
  if (memcmp(digest, key, DHT_KEY_LEN) != 0) return REG_ERR_CHUNK_HASH;
  return reg_fetch_add_digest(f, digest, payload, len);
}

/* ---- Queries ------------------------------------------------------------ */

size_t reg_fetch_wanted_from(const reg_fetch *f, size_t *pos,
                             uint8_t (*keys)[DHT_KEY_LEN], size_t max) {
  size_t copied = 0;
  uint64_t i;
  if (!f || !pos || (!keys && max > 0)) return 0;
  i = *pos > f->cursor ? *pos : f->cursor;
  for (; i < f->s.n_nodes && copied < max; i++)
    if (f->nodes[i].state == NODE_WANTED)
      memcpy(keys[copied++], f->nodes[i].key, DHT_KEY_LEN);
  *pos = (size_t)i;
  return copied;
}

size_t reg_fetch_wanted(const reg_fetch *f, uint8_t (*keys)[DHT_KEY_LEN],
                        size_t max) {
  size_t pos = 0;
  return reg_fetch_wanted_from(f, &pos, keys, max);
}

size_t reg_fetch_missing(const reg_fetch *f) {
  return f ? (size_t)(f->s.n_nodes - f->filled) : 0;
}

int reg_fetch_complete(const reg_fetch *f) {
  return f && f->filled == f->s.n_nodes;
}

const uint64_t *reg_fetch_entries(const reg_fetch *f, size_t *n) {
  if (n) *n = 0;
  if (!reg_fetch_complete(f) || !f->entries) return NULL;
  if (n) *n = (size_t)f->m.count;
  return f->entries;
}

const reg_manifest *reg_fetch_manifest(const reg_fetch *f) {
  return f ? &f->m : NULL;
}

const uint8_t *reg_fetch_node_key(const reg_fetch *f, uint64_t i) {
  if (!f || i >= f->s.n_nodes || f->nodes[i].state == NODE_UNKNOWN)
    return NULL;
  return f->nodes[i].key;
}

const uint8_t *reg_fetch_sender(const reg_fetch *f) {
  return f ? f->sender : NULL;
}

uint64_t *reg_fetch_take_entries(reg_fetch *f, size_t *n) {
  uint64_t *e;
  *n = 0;
  if (!reg_fetch_complete(f)) return NULL;
  e = f->entries;
  *n = (size_t)f->m.count;
  f->entries = NULL;
  return e;
}
