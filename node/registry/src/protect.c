/*
 * The protected addresses and matching them against a batch.
 *
 * The set is a dense array (for listing and matching) plus an open
 * addressing table over it keyed by the address's local reference
 * (BLAKE2b-256 of the canonical address: the user chooses the addresses,
 * so nobody outside can aim collisions at the table). Up to
 * cfg.max_protected addresses (10 million by default: about 70 bytes
 * each plus the address).
 *
 * Matching a batch: up to REG_MATCH_FEW_MAX addresses are hashed with the
 * batch's salt and looked up one by one by interpolation search
 * (reg_match_few). More go through a reg_queries set, as the matching
 * benchmark's end-to-end path does (bench/match_bench.c): hashed four at a
 * time (reg_queries_hash), then, from one address per SORT_PER_ENTRIES
 * entries, radix-sorted (reg_queries_sort) and merged against the entries
 * in one pass; a set too small for that is searched address by address.
 * The engine is single-threaded, so it hashes and matches in one call
 * each where the benchmark shares the work out. Each hit is handed to
 * reg_on_match together with the full hash (the entry is only its first
 * 8 bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"

static const char ref_tag[] = "nointrude-local-addr";

void reg_addr_ref(uint8_t ref[NC_HASH_LEN], const char *canon, size_t len) {
  nc_hasher h;
  nc_hasher_init(&h, NULL, 0, NC_HASH_LEN);
  nc_hasher_update(&h, ref_tag, sizeof ref_tag - 1);
  nc_hasher_update(&h, canon, len);
  nc_hasher_final(&h, ref, NC_HASH_LEN);
}

static size_t slot_of(const uint8_t ref[NC_HASH_LEN], size_t n_slots) {
  uint64_t v;
  memcpy(&v, ref, sizeof v);
  return (size_t)(v & (n_slots - 1));
}

void reg_addrset_free(reg_addrset *s) {
  for (size_t i = 0; i < s->n; i++) {
    sodium_memzero(s->list[i]->canon, s->list[i]->len);
    free(s->list[i]);
  }
  free(s->list);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* Returns the slot holding |ref|, or the empty slot where it would go. */
static size_t probe(const reg_addrset *s, const uint8_t ref[NC_HASH_LEN]) {
  size_t i = slot_of(ref, s->n_slots);
  for (size_t step = 0; step < s->n_slots; step++) {
    uint32_t v = s->slots[i];
    if (v == 0 || memcmp(s->list[v - 1]->ref, ref, NC_HASH_LEN) == 0)
      return i;
    i = (i + 1) & (s->n_slots - 1);
  }
  return SIZE_MAX; /* cannot happen: the table is never full */
}

static int rehash(reg_addrset *s, size_t n_slots) {
  uint32_t *slots = calloc(n_slots, sizeof *slots);
  if (!slots) return REG_ERR_NOMEM;
  free(s->slots);
  s->slots = slots;
  s->n_slots = n_slots;
  for (size_t i = 0; i < s->n; i++)
    s->slots[probe(s, s->list[i]->ref)] = (uint32_t)(i + 1);
  return 0;
}

reg_addr *reg_addrset_find(const reg_addrset *s, const char *canon,
                           size_t len) {
  uint8_t ref[NC_HASH_LEN];
  if (s->n == 0) return NULL;
  reg_addr_ref(ref, canon, len);
  size_t i = probe(s, ref);
  return i != SIZE_MAX && s->slots[i] ? s->list[s->slots[i] - 1] : NULL;
}

int reg_addrset_add(reg_addrset *s, const char *canon, size_t len) {
  if (len > REG_ADDRESS_MAX) return REG_ERR_ADDRESS;
  if (reg_addrset_find(s, canon, len)) return REG_ERR_DUPLICATE;
  if (2 * (s->n + 1) >= s->n_slots &&
      rehash(s, s->n_slots ? s->n_slots * 2 : 64) < 0)
    return REG_ERR_NOMEM;
  reg_addr *a = malloc(sizeof *a + len + 1);
  if (!a) return REG_ERR_NOMEM;
  reg_addr_ref(a->ref, canon, len);
  a->len = (uint16_t)len;
  memcpy(a->canon, canon, len);
  a->canon[len] = '\0';
  if (reg_vec_push((void ***)&s->list, &s->n, &s->cap, a) < 0) {
    free(a);
    return REG_ERR_NOMEM;
  }
  s->slots[probe(s, a->ref)] = (uint32_t)s->n;
  return 0;
}

int reg_addrset_remove(reg_addrset *s, const char *canon, size_t len) {
  reg_addr *a = reg_addrset_find(s, canon, len);
  if (!a) return DHT_ERR_NOT_FOUND;
  size_t i = s->slots[probe(s, a->ref)] - 1;
  s->list[i] = s->list[--s->n];
  sodium_memzero(a->canon, a->len);
  free(a);
  /* Deletion from linear probing: rebuilding is simplest and removals
   * are rare (a user's command). */
  return rehash(s, s->n_slots);
}

/* ---- matching ------------------------------------------------------------ */

#define HASH_BLOCK 256 /* addresses handed to reg_queries_hash at once */
/* Sorting the set pays from one address per this many entries; below,
 * each address is searched (the benchmark's rule, measured there). */
#define SORT_PER_ENTRIES 4096

/* Re-hashes |a| to get the full hash of a hit (hits are rare, so this is
 * cheaper than keeping every full hash) and acts on it. */
static void hit(reg_node *r, reg_live *b, const reg_addr *a) {
  uint8_t full[REG_FULL_HASH_LEN];
  reg_address_hash(full, b->salt, a->canon, a->len);
  reg_on_match(r, b, a, full);
}

static size_t match_one(reg_node *r, reg_live *b, const reg_addr *a) {
  uint8_t full[REG_FULL_HASH_LEN], yes = 0;
  reg_address_hash(full, b->salt, a->canon, a->len);
  uint64_t q = reg_entry_of(full);
  if (reg_match_few(b->entries, b->n_entries, &q, 1, &yes) == 0) return 0;
  reg_on_match(r, b, a, full);
  return 1;
}

/* hash_all hashes every protected address into |q| (address i is set
 * member i), HASH_BLOCK at a time through pointers and lengths on the
 * stack. Returns 0 or a negative REG_ERR_*. */
static int hash_all(const reg_addrset *s, reg_queries *q) {
  const char *canon[HASH_BLOCK];
  size_t len[HASH_BLOCK];
  for (size_t first = 0; first < s->n; first += HASH_BLOCK) {
    size_t count = s->n - first < HASH_BLOCK ? s->n - first : HASH_BLOCK;
    for (size_t k = 0; k < count; k++) {
      canon[k] = s->list[first + k]->canon;
      len[k] = s->list[first + k]->len;
    }
    int rv = reg_queries_hash(q, first, canon, len, count);
    if (rv < 0) return rv;
  }
  return 0;
}

/* Hash, sort and merge (or search) for many addresses. Returns hits, or 0
 * with a log line if memory for the set is lacking (the batch is matched
 * again when it is next fetched). Peak memory: 24 bytes per address while
 * sorting, then 16 (the set and the hit numbers). */
static size_t match_many(reg_node *r, reg_live *b) {
  size_t n = r->addrs.n, found = 0;
  reg_queries *q = NULL;
  uint32_t *hits = NULL;
  int rv = reg_queries_new(&q, b->salt, n);
  if (rv == 0) rv = hash_all(&r->addrs, q);
  if (rv == 0 &&
      n >= (b->n_entries + SORT_PER_ENTRIES - 1) / SORT_PER_ENTRIES)
    rv = reg_queries_sort(q);
  if (rv == 0 && !(hits = malloc(n * sizeof *hits))) rv = REG_ERR_NOMEM;
  if (rv < 0) {
    reg_log(r, DHT_LOG_ERROR, "registry: no memory to match %zu addresses", n);
    goto out;
  }
  /* Collect first, then act: acting on a hit never changes the address
   * list, but the numbers in hits[] index it, so keep the passes apart. */
  found = reg_queries_match(q, b->entries, b->n_entries, hits);
  for (size_t k = 0; k < found; k++) hit(r, b, r->addrs.list[hits[k]]);
out:
  reg_queries_free(q);
  free(hits);
  return found;
}

size_t reg_match_live(reg_node *r, reg_live *b, const reg_addr *only) {
  size_t hits = 0;
  if (b->phase != REG_PH_READY || !b->entries) return 0;
  b->used = ++r->lru_clock;
  if (only) return match_one(r, b, only);
  if (r->addrs.n > REG_MATCH_FEW_MAX) return match_many(r, b);
  for (size_t i = 0; i < r->addrs.n; i++)
    hits += match_one(r, b, r->addrs.list[i]);
  return hits;
}
