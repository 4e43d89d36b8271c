/*
 * A small least-recently-used cache of pair keys for peers that are not
 * in the routing table (routing-table contacts keep their key with them).
 * X25519 is the expensive step of talking to a new peer; this cache makes
 * a lookup's request and its reply cost one derivation, not two. At most
 * DHT_KEYCACHE_MAX entries (9 KiB); linear scans compare a 64-bit prefix
 * first. Keys are wiped when evicted.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"

static int kc_index(const dht_keycache *kc, const uint8_t pk[NC_PK_LEN]) {
  uint64_t want, have;
  memcpy(&want, pk, sizeof want);
  for (size_t i = 0; i < kc->n; i++) {
    memcpy(&have, kc->e[i].pk, sizeof have);
    if (have == want && memcmp(kc->e[i].pk, pk, NC_PK_LEN) == 0) return (int)i;
  }
  return -1;
}

int dht_keycache_get(dht_keycache *kc, const uint8_t pk[NC_PK_LEN],
                     uint8_t key[NC_SHARED_LEN]) {
  int i = kc_index(kc, pk);
  if (i < 0) return 0;
  kc->e[i].used = ++kc->clock;
  memcpy(key, kc->e[i].key, NC_SHARED_LEN);
  return 1;
}

/* Returns a slot for a new entry: a fresh one while below the cap (the
 * array grows 8, 16, .. DHT_KEYCACHE_MAX), else the least recently used. */
static dht_keycache_entry *kc_slot(dht_keycache *kc) {
  if (kc->n == kc->cap && kc->cap < DHT_KEYCACHE_MAX) {
    size_t cap = kc->cap ? kc->cap * 2 : 8;
    if (cap > DHT_KEYCACHE_MAX) cap = DHT_KEYCACHE_MAX;
    dht_keycache_entry *ne = malloc(cap * sizeof *ne);
    if (ne) {
      if (kc->n) memcpy(ne, kc->e, kc->n * sizeof *ne);
      if (kc->e) sodium_memzero(kc->e, kc->cap * sizeof *ne);
      free(kc->e);
      kc->e = ne;
      kc->cap = cap;
    }
  }
  if (kc->n < kc->cap) return &kc->e[kc->n++];
  if (kc->n == 0) return NULL;
  size_t lru = 0;
  for (size_t i = 1; i < kc->n; i++)
    if (kc->e[i].used < kc->e[lru].used) lru = i;
  return &kc->e[lru];
}

void dht_keycache_put(dht_keycache *kc, const uint8_t pk[NC_PK_LEN],
                      const uint8_t key[NC_SHARED_LEN]) {
  int i = kc_index(kc, pk);
  dht_keycache_entry *e = i >= 0 ? &kc->e[i] : kc_slot(kc);
  if (!e) return;
  memcpy(e->pk, pk, NC_PK_LEN);
  memcpy(e->key, key, NC_SHARED_LEN);
  e->used = ++kc->clock;
}

void dht_keycache_free(dht_keycache *kc) {
  if (kc->e) sodium_memzero(kc->e, kc->cap * sizeof *kc->e);
  free(kc->e);
  memset(kc, 0, sizeof *kc);
}
