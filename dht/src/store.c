/*
 * The in-memory record table (see store.h): a sorted array of pointers
 * to records, a sorted array of per-author quota use, and a byte total.
 * Insertion and removal move pointers (8 bytes each), so a node holding
 * the default 64 MiB of ~500-byte records moves about a megabyte per
 * insertion in the worst case; STOREs are rate-limited well below what
 * that costs.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void dht_store_init(dht_store *st, uint32_t author_max_records,
                    uint32_t author_max_bytes, uint64_t max_bytes) {
  memset(st, 0, sizeof *st);
  st->author_max_records = author_max_records;
  st->author_max_bytes = author_max_bytes;
  st->max_bytes = max_bytes;
  st->min_expires = UINT64_MAX;
}

void dht_store_free(dht_store *st) {
  for (size_t i = 0; i < st->n; i++) free(st->recs[i]);
  free(st->recs);
  free(st->authors);
  memset(st, 0, sizeof *st);
}

void dht_store_set_types(dht_store *st, const dht_record_type *types,
                         size_t n) {
  st->types = types;
  st->n_types = types ? n : 0;
}

/* The extra type |type|, or NULL (unknown, or the built-in note, which
 * always wins). */
static const dht_record_type *extra_type(const dht_store *st, uint8_t type) {
  if (type == DHT_RECORD_NOTE) return NULL;
  for (size_t i = 0; i < st->n_types; i++)
    if (st->types[i].type == type) return &st->types[i];
  return NULL;
}

int dht_store_multi(const dht_store *st, uint8_t type) {
  const dht_record_type *t = extra_type(st, type);
  return t && t->multi != 0;
}

void dht_store_slot(const dht_store *st, const dht_record *rec,
                    uint8_t slot[DHT_KEY_LEN]) {
  dht_record_slot(slot, rec, dht_store_multi(st, rec->type));
}

int dht_store_newer(const dht_store *st, const dht_record *rec,
                    const dht_srec *old) {
  if (dht_store_multi(st, rec->type)) return rec->expires > old->expires;
  return rec->seq > old->seq;
}

static int cmp_ks(const dht_srec *r, const uint8_t key[DHT_KEY_LEN],
                  const uint8_t slot[DHT_KEY_LEN]) {
  int c = memcmp(r->key, key, DHT_KEY_LEN);
  return c ? c : memcmp(r->slot, slot, DHT_KEY_LEN);
}

/* A (key, slot) pair searched for in the records. */
typedef struct key_slot {
  const uint8_t *key, *slot;
} key_slot;

/* dht_sorted_find's order of the records: by (key, slot). */
static int rec_cmp(const void *recs, size_t i, const void *ks) {
  const key_slot *k = ks;
  return cmp_ks(((dht_srec *const *)recs)[i], k->key, k->slot);
}

/* dht_sorted_find's order of the authors: by public key. */
static int author_cmp(const void *authors, size_t i, const void *pk) {
  return memcmp(((const dht_author_use *)authors)[i].pk, pk, NC_PK_LEN);
}

/* Binary search: returns 1 and the index if (key, slot) is held, else 0
 * and the insertion index. */
static int rec_search(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                      const uint8_t slot[DHT_KEY_LEN], size_t *pos) {
  const key_slot ks = {key, slot};
  return dht_sorted_find(st->recs, st->n, &ks, rec_cmp, pos);
}

/* The same for the authors' use, by public key. */
static int author_search(const dht_store *st, const uint8_t pk[NC_PK_LEN],
                         size_t *pos) {
  return dht_sorted_find(st->authors, st->n_authors, pk, author_cmp, pos);
}

const dht_author_use *dht_store_author(const dht_store *st,
                                       const uint8_t author[NC_PK_LEN]) {
  size_t i;
  return author_search(st, author, &i) ? &st->authors[i] : NULL;
}

/* Adds one record of |len| bytes to |pk|'s use. */
static int author_add(dht_store *st, const uint8_t pk[NC_PK_LEN], size_t len) {
  size_t i;
  if (!author_search(st, pk, &i)) {
    if (st->n_authors == st->cap_authors) {
      size_t cap = st->cap_authors ? st->cap_authors * 2 : 4;
      dht_author_use *na = realloc(st->authors, cap * sizeof *na);
      if (!na) return DHT_ERR_NOMEM;
      st->authors = na;
      st->cap_authors = cap;
    }
    memmove(&st->authors[i + 1], &st->authors[i],
            (st->n_authors - i) * sizeof *st->authors);
    memset(&st->authors[i], 0, sizeof *st->authors);
    memcpy(st->authors[i].pk, pk, NC_PK_LEN);
    st->n_authors++;
  }
  st->authors[i].count++;
  st->authors[i].bytes += (uint32_t)len;
  return 0;
}

/* Removes one record of |len| bytes from |pk|'s use. */
static void author_sub(dht_store *st, const uint8_t pk[NC_PK_LEN], size_t len) {
  size_t i;
  if (!author_search(st, pk, &i)) return;
  st->authors[i].count--;
  st->authors[i].bytes -= (uint32_t)len;
  if (st->authors[i].count > 0) return;
  memmove(&st->authors[i], &st->authors[i + 1],
          (st->n_authors - i - 1) * sizeof *st->authors);
  st->n_authors--;
}

/* Checks the quotas for adding |add| bytes (and |new_rec| records) to
 * |pk|'s use while |sub| bytes leave. */
static int quota_ok(const dht_store *st, const uint8_t pk[NC_PK_LEN],
                    size_t add, size_t sub, int new_rec) {
  const dht_author_use *u = dht_store_author(st, pk);
  uint64_t count = (u ? u->count : 0) + (new_rec ? 1u : 0u);
  uint64_t abytes = (u ? u->bytes : 0) + add - sub;
  uint64_t total = st->bytes + add - sub;
  return count <= st->author_max_records && abytes <= st->author_max_bytes &&
         total <= st->max_bytes;
}

/* Whether |pk| may add one more record under |key| of |type| (its
 * key_author_max). Counting scans the key's records: bounded by what the
 * storer holds under one key, and STOREs are rate-limited. */
static int key_author_ok(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                         const uint8_t pk[NC_PK_LEN], uint8_t type) {
  const dht_record_type *t = extra_type(st, type);
  size_t first, n, held = 0;
  if (!t || !t->multi || t->key_author_max == 0) return 1;
  n = dht_store_range(st, key, &first);
  for (size_t i = first; i < first + n; i++)
    if (memcmp(st->recs[i]->author, pk, NC_PK_LEN) == 0 &&
        ++held >= t->key_author_max)
      return 0;
  return 1;
}

int dht_store_check(const dht_store *st, const dht_record *rec,
                    const uint8_t *bytes, size_t len) {
  uint8_t slot[DHT_KEY_LEN];
  size_t i;
  if (len == 0 || len > DHT_MAX_RECORD) return DHT_ERR_TOO_LARGE;
  dht_store_slot(st, rec, slot);
  if (!rec_search(st, rec->key, slot, &i))
    return quota_ok(st, rec->author_pk, len, 0, 1) &&
                   key_author_ok(st, rec->key, rec->author_pk, rec->type)
               ? DHT_STORE_NEW
               : DHT_ERR_QUOTA;
  const dht_srec *old = st->recs[i];
  if (len == old->len && memcmp(bytes, old->bytes, len) == 0)
    return DHT_STORE_SAME;
  if (!dht_store_newer(st, rec, old)) return DHT_ERR_STALE;
  /* For ordinary types the author is the same; a multi slot includes the
   * author too, so the quota moves within one author either way. */
  return quota_ok(st, rec->author_pk, len, old->len, 0) ? DHT_STORE_REPLACE
                                                        : DHT_ERR_QUOTA;
}

static dht_srec *srec_new(const dht_store *st, const dht_record *rec,
                          const uint8_t *bytes, size_t len, dht_time now) {
  dht_srec *r = malloc(sizeof *r + len);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  memcpy(r->key, rec->key, DHT_KEY_LEN);
  r->multi = (uint8_t)dht_store_multi(st, rec->type);
  dht_record_slot(r->slot, rec, r->multi);
  memcpy(r->author, rec->author_pk, NC_PK_LEN);
  r->seq = rec->seq;
  r->expires = rec->expires;
  r->touched = now;
  r->republish = DHT_TIME_NONE;
  r->len = (uint16_t)len;
  memcpy(r->bytes, bytes, len);
  return r;
}

static int insert_at(dht_store *st, size_t i, dht_srec *r) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 8;
    dht_srec **nr = realloc(st->recs, cap * sizeof *nr);
    if (!nr) return DHT_ERR_NOMEM;
    st->recs = nr;
    st->cap = cap;
  }
  if (author_add(st, r->author, r->len) < 0) return DHT_ERR_NOMEM;
  memmove(&st->recs[i + 1], &st->recs[i], (st->n - i) * sizeof *st->recs);
  st->recs[i] = r;
  st->n++;
  st->bytes += r->len;
  return 0;
}

int dht_store_put(dht_store *st, const dht_record *rec, const uint8_t *bytes,
                  size_t len, dht_time now) {
  uint8_t slot[DHT_KEY_LEN];
  size_t i;
  int rv = dht_store_check(st, rec, bytes, len);
  if (rv < 0) return rv;
  dht_store_slot(st, rec, slot);
  int found = rec_search(st, rec->key, slot, &i);
  if (rv == DHT_STORE_SAME) {
    st->recs[i]->touched = now;
    return rv;
  }
  dht_srec *r = srec_new(st, rec, bytes, len, now);
  if (!r) return DHT_ERR_NOMEM;
  if (found) {
    dht_srec *old = st->recs[i];
    r->own = old->own;
    r->republish = old->republish;
    st->bytes = st->bytes - old->len + len;
    author_sub(st, old->author, old->len);
    author_add(st, r->author, len); /* the entry exists: cannot fail */
    st->recs[i] = r;
    free(old);
  } else if (insert_at(st, i, r) < 0) {
    free(r);
    return DHT_ERR_NOMEM;
  }
  if (r->expires < st->min_expires) st->min_expires = r->expires;
  return rv;
}

dht_srec *dht_store_find(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                         const uint8_t slot[DHT_KEY_LEN]) {
  size_t i;
  return rec_search(st, key, slot, &i) ? st->recs[i] : NULL;
}

size_t dht_store_range(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                       size_t *first) {
  static const uint8_t zero[DHT_KEY_LEN];
  size_t i, n = 0;
  rec_search(st, key, zero, &i);
  *first = i;
  while (i + n < st->n && memcmp(st->recs[i + n]->key, key, DHT_KEY_LEN) == 0)
    n++;
  return n;
}

void dht_store_set_own(dht_store *st, dht_srec *r, int own,
                       dht_time republish) {
  if (own && !r->own) st->n_own++;
  if (!own && r->own) st->n_own--;
  r->own = (uint8_t)(own != 0);
  r->republish = own ? republish : DHT_TIME_NONE;
}

/* Drops |r|'s accounting and frees it (the caller fixes the array). */
static void srec_release(dht_store *st, dht_srec *r) {
  st->bytes -= r->len;
  if (r->own) st->n_own--;
  author_sub(st, r->author, r->len);
  free(r);
}

void dht_store_remove_at(dht_store *st, size_t i) {
  if (i >= st->n) return;
  srec_release(st, st->recs[i]);
  memmove(&st->recs[i], &st->recs[i + 1], (st->n - i - 1) * sizeof *st->recs);
  st->n--;
}

size_t dht_store_expire(dht_store *st, uint64_t now_s, size_t max,
                        dht_store_del_cb cb, void *arg) {
  size_t w = 0, removed = 0;
  uint64_t min_left = UINT64_MAX;
  for (size_t i = 0; i < st->n; i++) {
    dht_srec *r = st->recs[i];
    if (r->expires <= now_s && removed < max) {
      if (cb) cb(arg, r);
      srec_release(st, r);
      removed++;
      continue;
    }
    if (r->expires < min_left) min_left = r->expires;
    st->recs[w++] = r;
  }
  st->n = w;
  st->min_expires = min_left;
  return removed;
}
