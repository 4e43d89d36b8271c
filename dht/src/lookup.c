/*
 * One iterative lookup (see lookup.h): a candidate pool sorted by XOR
 * distance, partitioned among the disjoint paths, and the rules that pick
 * the next request and decide the end. The pool holds at most
 * k * (paths + 3) candidates (32..256): enough for every path's k
 * closest plus room for newly named ones; when full, the farthest idle
 * candidate makes way for a closer newcomer.
 */
#include "lookup.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int dht_lookup_init(dht_lookup *lk, const uint8_t target[DHT_ID_LEN],
                    unsigned k, unsigned alpha, unsigned paths) {
  memset(lk, 0, sizeof *lk);
  if (k == 0 || k > DHT_K_MAX || alpha == 0 || alpha > UINT8_MAX ||
      paths == 0 || paths > DHT_PATHS_MAX)
    return DHT_ERR_INVALID_ARGUMENT;
  size_t cap = (size_t)k * (paths + 3);
  if (cap < DHT_LOOKUP_POOL_MIN) cap = DHT_LOOKUP_POOL_MIN;
  if (cap > DHT_LOOKUP_POOL_MAX) cap = DHT_LOOKUP_POOL_MAX;
  lk->pool = calloc(cap, sizeof *lk->pool);
  if (!lk->pool) return DHT_ERR_NOMEM;
  memcpy(lk->target, target, DHT_ID_LEN);
  lk->cap = cap;
  lk->k = k;
  lk->alpha = alpha;
  lk->paths = paths;
  return 0;
}

void dht_lookup_free(dht_lookup *lk) {
  free(lk->pool);
  free(lk->visited);
  memset(lk, 0, sizeof *lk);
}

static uint64_t id_tag(const uint8_t id[DHT_ID_LEN]) {
  uint64_t t;
  memcpy(&t, id, sizeof t);
  return t;
}

static int visited(const dht_lookup *lk, const uint8_t id[DHT_ID_LEN]) {
  uint64_t t = id_tag(id);
  for (size_t i = 0; i < lk->n_visited; i++)
    if (lk->visited[i] == t) return 1;
  return 0;
}

static int visit(dht_lookup *lk, const uint8_t id[DHT_ID_LEN]) {
  if (lk->n_visited == lk->cap_visited) {
    size_t cap = lk->cap_visited ? lk->cap_visited * 2 : 16;
    uint64_t *nv = realloc(lk->visited, cap * sizeof *nv);
    if (!nv) return DHT_ERR_NOMEM;
    lk->visited = nv;
    lk->cap_visited = cap;
  }
  lk->visited[lk->n_visited++] = id_tag(id);
  return 0;
}

/* Orders pool entry |i| of the lookup |arr| against the ID |key| by
 * distance to the target. */
static int cmp_pool(const void *arr, size_t i, const void *key) {
  const dht_lookup *lk = arr;
  return dht_id_cmp_dist(lk->target, lk->pool[i].id, key);
}

/* Binary search by distance: returns 1 and the index if |id| is in the
 * pool, else 0 and its insertion index. */
static int pool_search(const dht_lookup *lk, const uint8_t id[DHT_ID_LEN],
                       size_t *pos) {
  return dht_sorted_find(lk, lk->n, id, cmp_pool, pos);
}

int dht_lookup_find(const dht_lookup *lk, const uint8_t id[DHT_ID_LEN]) {
  size_t i;
  return pool_search(lk, id, &i) ? (int)i : -1;
}

/* Full pool: drops the farthest candidate not in flight, if it lies at or
 * beyond |pos|. Returns 1 if room was made. */
static int pool_make_room(dht_lookup *lk, size_t pos) {
  for (size_t j = lk->n; j-- > pos;) {
    if (lk->pool[j].state == DHT_CAND_INFLIGHT) continue;
    memmove(&lk->pool[j], &lk->pool[j + 1],
            (lk->n - j - 1) * sizeof *lk->pool);
    lk->n--;
    return 1;
  }
  return 0;
}

int dht_lookup_add(dht_lookup *lk, const uint8_t id[DHT_ID_LEN],
                   const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                   const dht_addr *addr, unsigned path, unsigned hop) {
  size_t pos;
  if (path >= lk->paths || pool_search(lk, id, &pos)) return 0;
  if (lk->n == lk->cap && !pool_make_room(lk, pos)) return 0;
  memmove(&lk->pool[pos + 1], &lk->pool[pos], (lk->n - pos) * sizeof *lk->pool);
  dht_cand *c = &lk->pool[pos];
  memset(c, 0, sizeof *c);
  memcpy(c->id, id, DHT_ID_LEN);
  memcpy(c->pk, pk, NC_PK_LEN);
  c->nonce = nonce;
  c->addr = *addr;
  c->path = (uint8_t)path;
  c->hop = (uint8_t)(hop > UINT8_MAX ? UINT8_MAX : hop);
  c->state = DHT_CAND_NEW;
  lk->n++;
  return 1;
}

/* Returns the index of the next candidate |path| should query, or -1:
 * the closest new one among its k closest candidates not failed. */
static int path_next(dht_lookup *lk, unsigned path) {
  unsigned live = 0;
  for (size_t i = 0; i < lk->n && live < lk->k; i++) {
    dht_cand *c = &lk->pool[i];
    if (c->path != path || c->state == DHT_CAND_FAILED) continue;
    if (c->state == DHT_CAND_NEW && visited(lk, c->id)) {
      c->state = DHT_CAND_FAILED; /* named again after leaving the pool */
      continue;
    }
    live++;
    if (c->state == DHT_CAND_NEW) return (int)i;
  }
  return -1;
}

int dht_lookup_next(dht_lookup *lk) {
  for (unsigned p = 0; p < lk->paths; p++) {
    if (lk->ended[p] || lk->inflight[p] >= lk->alpha) continue;
    int i = path_next(lk, p);
    if (i < 0) continue;
    if (visit(lk, lk->pool[i].id) < 0) return -1;
    lk->pool[i].state = DHT_CAND_INFLIGHT;
    lk->inflight[p]++;
    lk->stats.queried++;
    return i;
  }
  return -1;
}

static void settle(dht_lookup *lk, int i, uint8_t state) {
  dht_cand *c = &lk->pool[i];
  if (c->state == DHT_CAND_INFLIGHT && lk->inflight[c->path] > 0)
    lk->inflight[c->path]--;
  c->state = state;
}

void dht_lookup_answered(dht_lookup *lk, int i, dht_time now) {
  if (i < 0 || (size_t)i >= lk->n) return;
  settle(lk, i, DHT_CAND_DONE);
  lk->pool[i].replied = now;
  lk->stats.responded++;
}

void dht_lookup_failed(dht_lookup *lk, int i, int timeout) {
  if (i < 0 || (size_t)i >= lk->n) return;
  settle(lk, i, DHT_CAND_FAILED);
  if (timeout) lk->stats.timeouts++;
}

void dht_lookup_end_path(dht_lookup *lk, unsigned path) {
  if (path < lk->paths) lk->ended[path] = 1;
}

int dht_lookup_done(const dht_lookup *lk) {
  for (unsigned p = 0; p < lk->paths; p++) {
    if (lk->ended[p]) continue; /* late replies no longer matter */
    if (lk->inflight[p]) return 0;
    unsigned live = 0;
    for (size_t i = 0; i < lk->n && live < lk->k; i++) {
      const dht_cand *c = &lk->pool[i];
      if (c->path != p || c->state == DHT_CAND_FAILED) continue;
      if (c->state == DHT_CAND_NEW) {
        if (!visited(lk, c->id)) return 0;
        continue; /* will be skipped by path_next */
      }
      live++;
    }
  }
  return 1;
}

size_t dht_lookup_results(dht_lookup *lk, int *out, size_t max) {
  size_t n = 0;
  unsigned hops = 0;
  for (size_t i = 0; i < lk->n && n < max; i++) {
    if (lk->pool[i].state != DHT_CAND_DONE) continue;
    out[n++] = (int)i;
    if (lk->pool[i].hop > hops) hops = lk->pool[i].hop;
  }
  lk->stats.hops = hops;
  return n;
}
