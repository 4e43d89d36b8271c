/*
 * The routing table: buckets indexed by common-prefix length with our ID,
 * k live contacts each, a replacement cache of DHT_RT_REPL_MAX, and the
 * admission rules of docs/PROTOCOL.md: IP diversity per bucket (/24, v6
 * /48) and per table (/16, v6 /32), prefer-the-old eviction (a full
 * bucket pings its least-recently-seen contact and evicts it only if the
 * ping fails), and removal after DHT_RT_MAX_FAILS failures in a row.
 * Buckets hold at most DHT_K_MAX entries, so every scan is short.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int dht_rt_init(dht_rt *rt, const uint8_t self[DHT_ID_LEN], unsigned k,
                unsigned bucket_prefix_max, unsigned table_prefix_max,
                dht_time now) {
  (void)now;
  if (!rt || k == 0 || k > DHT_K_MAX) return DHT_ERR_INVALID_ARGUMENT;
  memset(rt, 0, sizeof *rt);
  memcpy(rt->self, self, DHT_ID_LEN);
  rt->k = k;
  rt->bucket_prefix_max = bucket_prefix_max;
  rt->table_prefix_max = table_prefix_max;
  rt->ping_after = 0;
  return 0;
}

void dht_rt_free(dht_rt *rt) {
  if (!rt) return;
  for (unsigned b = 0; b < rt->n_buckets; b++) {
    dht_bucket *bk = &rt->buckets[b];
    if (bk->live) sodium_memzero(bk->live, bk->cap_live * sizeof *bk->live);
    if (bk->repl) sodium_memzero(bk->repl, DHT_RT_REPL_MAX * sizeof *bk->repl);
    free(bk->live);
    free(bk->repl);
  }
  free(rt->buckets);
  free(rt->prefixes);
  memset(rt, 0, sizeof *rt);
}

int dht_rt_bucket_index(const dht_rt *rt, const uint8_t id[DHT_ID_LEN]) {
  unsigned cpl = dht_id_cpl(rt->self, id);
  return cpl >= 8 * DHT_ID_LEN ? -1 : (int)cpl;
}

/* Returns bucket |b|, growing the bucket array to reach it (new buckets
 * start refreshed at |now|), or NULL when out of memory. */
static dht_bucket *bucket_get(dht_rt *rt, unsigned b, dht_time now) {
  if (b < rt->n_buckets) return &rt->buckets[b];
  dht_bucket *nb = realloc(rt->buckets, (b + 1) * sizeof *nb);
  if (!nb) return NULL;
  memset(nb + rt->n_buckets, 0, (b + 1 - rt->n_buckets) * sizeof *nb);
  for (unsigned i = rt->n_buckets; i <= b; i++) nb[i].refreshed = now;
  rt->buckets = nb;
  rt->n_buckets = b + 1;
  return &nb[b];
}

/* A live contact of |bk| was heard from, or a new one joined it: the
 * bucket is active and needs no refresh lookup for a while (BEP 5's rule:
 * refresh only buckets unchanged for the refresh interval). */
static void bucket_active(dht_bucket *bk, dht_time now) {
  if (bk->refreshed < now) bk->refreshed = now;
}

static int find_in(const dht_rt_entry *arr, unsigned n,
                   const uint8_t id[DHT_ID_LEN]) {
  for (unsigned i = 0; i < n; i++)
    if (memcmp(arr[i].c.id, id, DHT_ID_LEN) == 0) return (int)i;
  return -1;
}

/* The first |v4| (IPv4) or |v6| (IPv6) bits of |a|'s IP as the high bits
 * of a word, with the family in the low byte, so that two addresses share
 * the prefix exactly when their words are equal. Both bit counts are at
 * most 48 (the diversity prefixes), so the family byte is never masked. */
_Static_assert(DHT_RT_V4_BUCKET_BITS <= 32 && DHT_RT_V6_BUCKET_BITS <= 56 &&
                   DHT_RT_V4_TABLE_BITS <= 32 && DHT_RT_V6_TABLE_BITS <= 56,
               "diversity prefixes must leave prefix_word's family byte");

static uint64_t prefix_word(const dht_addr *a, unsigned v4, unsigned v6) {
  unsigned bits = a->family == 4 ? v4 : v6;
  uint64_t w = 0;
  for (unsigned i = 0; i < 8; i++) w = w << 8 | a->ip[i];
  w &= bits == 0 ? 0 : ~UINT64_C(0) << (64 - bits);
  return w | a->family;
}

/* Counts live contacts in |bk| whose prefix word (v4/v6 bits) is |want|,
 * skipping |skip|. */
static unsigned count_prefix(const dht_bucket *bk, uint64_t want,
                             unsigned v4, unsigned v6,
                             const dht_rt_entry *skip) {
  unsigned n = 0;
  for (unsigned i = 0; i < bk->n_live; i++)
    if (&bk->live[i] != skip &&
        prefix_word(&bk->live[i].c.addr, v4, v6) == want)
      n++;
  return n;
}

/* ---- per-table prefix counts ------------------------------------------ */

static uint64_t table_word(const dht_addr *a) {
  return prefix_word(a, DHT_RT_V4_TABLE_BITS, DHT_RT_V6_TABLE_BITS);
}

static int cmp_prefix(const void *arr, size_t i, const void *key) {
  uint64_t w = ((const dht_rt_prefix *)arr)[i].word, k = *(const uint64_t *)key;
  return w < k ? -1 : w > k;
}

/* Live contacts of the table in the prefix |word|. */
static unsigned prefix_count(const dht_rt *rt, uint64_t word) {
  size_t pos;
  return dht_sorted_find(rt->prefixes, rt->n_prefixes, &word, cmp_prefix, &pos)
             ? rt->prefixes[pos].count
             : 0;
}

/* Counts one more live contact in the prefix |word|. Returns 0 or
 * DHT_ERR_NOMEM (nothing changed). */
static int prefix_add(dht_rt *rt, uint64_t word) {
  size_t pos;
  if (dht_sorted_find(rt->prefixes, rt->n_prefixes, &word, cmp_prefix, &pos)) {
    rt->prefixes[pos].count++;
    return 0;
  }
  if (rt->n_prefixes == rt->cap_prefixes) {
    size_t cap = rt->cap_prefixes ? rt->cap_prefixes * 2 : 8;
    dht_rt_prefix *np = realloc(rt->prefixes, cap * sizeof *np);
    if (!np) return DHT_ERR_NOMEM;
    rt->prefixes = np;
    rt->cap_prefixes = cap;
  }
  memmove(&rt->prefixes[pos + 1], &rt->prefixes[pos],
          (rt->n_prefixes - pos) * sizeof *rt->prefixes);
  rt->prefixes[pos].word = word;
  rt->prefixes[pos].count = 1;
  rt->n_prefixes++;
  return 0;
}

/* Counts one live contact fewer in the prefix |word| (never frees, so a
 * prefix_add right after cannot fail). */
static void prefix_del(dht_rt *rt, uint64_t word) {
  size_t pos;
  if (!dht_sorted_find(rt->prefixes, rt->n_prefixes, &word, cmp_prefix, &pos))
    return;
  if (--rt->prefixes[pos].count > 0) return;
  memmove(&rt->prefixes[pos], &rt->prefixes[pos + 1],
          (rt->n_prefixes - pos - 1) * sizeof *rt->prefixes);
  rt->n_prefixes--;
}

/* Returns 1 if a contact at |addr| may join bucket |b| without breaking
 * the per-bucket or per-table prefix limits (|skip|, a live contact, is
 * not counted). */
static int diversity_ok(const dht_rt *rt, unsigned b, const dht_addr *addr,
                        const dht_rt_entry *skip) {
  uint64_t in_bucket = prefix_word(addr, DHT_RT_V4_BUCKET_BITS,
                                   DHT_RT_V6_BUCKET_BITS);
  uint64_t table = table_word(addr);
  if (count_prefix(&rt->buckets[b], in_bucket, DHT_RT_V4_BUCKET_BITS,
                   DHT_RT_V6_BUCKET_BITS, skip) >= rt->bucket_prefix_max)
    return 0;
  unsigned in_table = prefix_count(rt, table);
  if (skip && in_table > 0 && table_word(&skip->c.addr) == table) in_table--;
  return in_table < rt->table_prefix_max;
}

/* Appends |e| to |bk|'s live contacts, growing the array (2, 4, .. k). */
static int live_append(dht_rt *rt, dht_bucket *bk, const dht_rt_entry *e) {
  if (prefix_add(rt, table_word(&e->c.addr)) < 0) return DHT_ERR_NOMEM;
  if (bk->n_live == bk->cap_live) {
    unsigned cap = bk->cap_live ? bk->cap_live * 2u : 2u;
    if (cap > rt->k) cap = rt->k;
    dht_rt_entry *nl = malloc(cap * sizeof *nl);
    if (!nl) {
      prefix_del(rt, table_word(&e->c.addr));
      return DHT_ERR_NOMEM;
    }
    if (bk->n_live) memcpy(nl, bk->live, bk->n_live * sizeof *nl);
    if (bk->live) sodium_memzero(bk->live, bk->cap_live * sizeof *nl);
    free(bk->live);
    bk->live = nl;
    bk->cap_live = (uint8_t)cap;
  }
  bk->live[bk->n_live++] = *e;
  rt->n_live++;
  return 0;
}

static void repl_drop(dht_bucket *bk, unsigned i) {
  bk->repl[i] = bk->repl[bk->n_repl - 1];
  sodium_memzero(&bk->repl[bk->n_repl - 1], sizeof *bk->repl);
  bk->n_repl--;
}

/* Moves the most recently seen replacement that passes the diversity
 * limits into bucket |b|'s live contacts. */
static void promote(dht_rt *rt, unsigned b) {
  dht_bucket *bk = &rt->buckets[b];
  int best = -1;
  for (unsigned i = 0; i < bk->n_repl; i++) {
    if (best >= 0 && bk->repl[i].c.last_seen <= bk->repl[best].c.last_seen)
      continue;
    if (diversity_ok(rt, b, &bk->repl[i].c.addr, NULL)) best = (int)i;
  }
  if (best < 0 || bk->n_live >= rt->k) return;
  bk->repl[best].fails = 0;
  bk->repl[best].evicting = 0;
  if (live_append(rt, bk, &bk->repl[best]) == 0) repl_drop(bk, (unsigned)best);
}

static void live_remove(dht_rt *rt, unsigned b, unsigned i) {
  dht_bucket *bk = &rt->buckets[b];
  prefix_del(rt, table_word(&bk->live[i].c.addr));
  bk->live[i] = bk->live[bk->n_live - 1];
  sodium_memzero(&bk->live[bk->n_live - 1], sizeof *bk->live);
  bk->n_live--;
  rt->n_live--;
  promote(rt, b);
}

/* Puts |e| into |bk|'s replacement cache, replacing an older copy of the
 * same contact or else the least recently seen entry when full. */
static int repl_put(dht_bucket *bk, const dht_rt_entry *e) {
  int i = find_in(bk->repl, bk->n_repl, e->c.id);
  if (i < 0 && !bk->repl) {
    bk->repl = calloc(DHT_RT_REPL_MAX, sizeof *bk->repl);
    if (!bk->repl) return DHT_ERR_NOMEM;
  }
  if (i < 0 && bk->n_repl < DHT_RT_REPL_MAX) i = bk->n_repl++;
  if (i < 0) {
    i = 0;
    for (unsigned j = 1; j < bk->n_repl; j++)
      if (bk->repl[j].c.last_seen < bk->repl[i].c.last_seen) i = (int)j;
  }
  bk->repl[i] = *e;
  return 0;
}

/* Refreshes live contact |x| from the authenticated message |e|. The
 * address follows the peer only if the new one passes the limits. */
static void refresh_live(dht_rt *rt, unsigned b, dht_rt_entry *x,
                         const dht_rt_entry *e, dht_time now,
                         uint32_t rtt_ms) {
  x->c.last_seen = now;
  x->fails = 0;
  x->evicting = 0;
  if (rtt_ms)
    x->c.rtt_ms = x->c.rtt_ms ? (x->c.rtt_ms * 7u + rtt_ms) / 8u : rtt_ms;
  if (!dht_addr_same(&x->c.addr, &e->c.addr) &&
      diversity_ok(rt, b, &e->c.addr, x)) {
    prefix_del(rt, table_word(&x->c.addr));
    if (prefix_add(rt, table_word(&e->c.addr)) < 0) {
      /* out of memory: keep the old address (re-adding its prefix needs
       * no allocation, prefix_del never shrinks the array) */
      (void)prefix_add(rt, table_word(&x->c.addr));
      return;
    }
    x->c.addr = e->c.addr;
  }
}

/* Full bucket: returns the least-recently-seen live contact of |bk|. */
static dht_rt_entry *least_recent(dht_bucket *bk) {
  dht_rt_entry *lrs = &bk->live[0];
  for (unsigned i = 1; i < bk->n_live; i++)
    if (bk->live[i].c.last_seen < lrs->c.last_seen) lrs = &bk->live[i];
  return lrs;
}

static int seen_full(dht_rt *rt, dht_bucket *bk, const dht_rt_entry *e,
                     dht_time now, dht_contact *ping) {
  dht_rt_entry cand = *e;
  cand.c.last_seen = now;
  int i = find_in(bk->repl, bk->n_repl, e->c.id);
  cand.c.first_seen = i >= 0 ? bk->repl[i].c.first_seen : now;
  cand.fails = 0;
  cand.evicting = 0;
  int rv = repl_put(bk, &cand);
  sodium_memzero(cand.key, sizeof cand.key);
  if (rv < 0) return rv;
  dht_rt_entry *lrs = least_recent(bk);
  if (lrs->evicting || now - lrs->c.last_seen < rt->ping_after)
    return DHT_RT_CACHED;
  lrs->evicting = 1;
  if (ping) *ping = lrs->c;
  return DHT_RT_PING;
}

int dht_rt_seen(dht_rt *rt, const dht_rt_entry *e, dht_time now,
                uint32_t rtt_ms, dht_contact *ping) {
  int b = dht_rt_bucket_index(rt, e->c.id);
  if (b < 0) return DHT_RT_REFUSED;
  dht_bucket *bk = bucket_get(rt, (unsigned)b, now);
  if (!bk) return DHT_ERR_NOMEM;
  int i = find_in(bk->live, bk->n_live, e->c.id);
  if (i >= 0) {
    refresh_live(rt, (unsigned)b, &bk->live[i], e, now, rtt_ms);
    bucket_active(bk, now);
    return DHT_RT_UPDATED;
  }
  if (bk->n_live >= rt->k) return seen_full(rt, bk, e, now, ping);
  if (!diversity_ok(rt, (unsigned)b, &e->c.addr, NULL)) return DHT_RT_REFUSED;
  dht_rt_entry n = *e;
  n.c.first_seen = now;
  n.c.last_seen = now;
  n.c.rtt_ms = rtt_ms;
  n.fails = 0;
  n.evicting = 0;
  int rv = live_append(rt, bk, &n);
  sodium_memzero(n.key, sizeof n.key);
  if (rv < 0) return rv;
  i = find_in(bk->repl, bk->n_repl, e->c.id);
  if (i >= 0) repl_drop(bk, (unsigned)i);
  bucket_active(bk, now);
  return DHT_RT_ADDED;
}

int dht_rt_failed(dht_rt *rt, const uint8_t id[DHT_ID_LEN]) {
  int b = dht_rt_bucket_index(rt, id);
  if (b < 0 || (unsigned)b >= rt->n_buckets) return 0;
  dht_bucket *bk = &rt->buckets[b];
  int i = find_in(bk->live, bk->n_live, id);
  if (i < 0) {
    /* A replacement that does not answer is worth nothing. */
    i = find_in(bk->repl, bk->n_repl, id);
    if (i >= 0) repl_drop(bk, (unsigned)i);
    return 0;
  }
  dht_rt_entry *x = &bk->live[i];
  if (x->fails < UINT8_MAX) x->fails++;
  if (!x->evicting && x->fails < DHT_RT_MAX_FAILS) return 0;
  live_remove(rt, (unsigned)b, (unsigned)i);
  return 1;
}

int dht_rt_remove(dht_rt *rt, const uint8_t id[DHT_ID_LEN]) {
  int b = dht_rt_bucket_index(rt, id);
  if (b < 0 || (unsigned)b >= rt->n_buckets) return 0;
  dht_bucket *bk = &rt->buckets[b];
  int r = find_in(bk->repl, bk->n_repl, id);
  if (r >= 0) repl_drop(bk, (unsigned)r);
  int i = find_in(bk->live, bk->n_live, id);
  if (i >= 0) live_remove(rt, (unsigned)b, (unsigned)i);
  return i >= 0 || r >= 0;
}

dht_rt_entry *dht_rt_find(const dht_rt *rt, const uint8_t id[DHT_ID_LEN]) {
  int b = dht_rt_bucket_index(rt, id);
  if (b < 0 || (unsigned)b >= rt->n_buckets) return NULL;
  dht_bucket *bk = &rt->buckets[b];
  int i = find_in(bk->live, bk->n_live, id);
  if (i >= 0) return &bk->live[i];
  i = find_in(bk->repl, bk->n_repl, id);
  return i >= 0 ? &bk->repl[i] : NULL;
}

/* Inserts |e| into the sorted array |out| of |*n| (at most |max|). */
static void closest_insert(const uint8_t target[DHT_ID_LEN],
                           const dht_rt_entry *e, const dht_rt_entry **out,
                           size_t *n, size_t max) {
  size_t pos = *n;
  while (pos > 0 && dht_id_cmp_dist(target, e->c.id, out[pos - 1]->c.id) < 0)
    pos--;
  if (pos >= max) return;
  size_t last = *n < max ? *n : max - 1;
  memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof *out);
  out[pos] = e;
  if (*n < max) (*n)++;
}

/* Adds the live contacts of buckets |lo|..|hi| (inclusive) to |out|
 * after its first |n| entries, keeping the nearest |max| - |n| of them in
 * order. Returns the new count. */
static size_t closest_from(const dht_rt *rt, unsigned lo, unsigned hi,
                           const uint8_t target[DHT_ID_LEN],
                           const uint8_t *exclude, const dht_rt_entry **out,
                           size_t n, size_t max) {
  size_t m = 0;
  for (unsigned b = lo; b <= hi; b++) {
    const dht_bucket *bk = &rt->buckets[b];
    for (unsigned i = 0; i < bk->n_live; i++) {
      if (exclude && memcmp(bk->live[i].c.id, exclude, DHT_ID_LEN) == 0)
        continue;
      closest_insert(target, &bk->live[i], out + n, &m, max - n);
    }
  }
  return n + m;
}

/* The XOR metric orders whole buckets: with t = the target's bucket, every
 * contact of bucket t is nearer the target than any other (it shares t + 1
 * bits with it), then come buckets deeper than t (they share exactly t
 * bits), then buckets t - 1, t - 2 .. 0, each farther than the one before.
 * So only the buckets needed to fill |max| are scanned. */
size_t dht_rt_closest(const dht_rt *rt, const uint8_t target[DHT_ID_LEN],
                      const uint8_t *exclude, const dht_rt_entry **out,
                      size_t max) {
  size_t n = 0;
  unsigned nb = rt->n_buckets;
  int tb = dht_rt_bucket_index(rt, target);
  unsigned t = tb < 0 || (unsigned)tb >= nb ? nb : (unsigned)tb;
  if (max == 0 || nb == 0) return 0;
  if (t < nb) {
    n = closest_from(rt, t, t, target, exclude, out, n, max);
    if (n < max && t + 1 < nb)
      n = closest_from(rt, t + 1, nb - 1, target, exclude, out, n, max);
  }
  for (unsigned b = t; b-- > 0 && n < max;)
    n = closest_from(rt, b, b, target, exclude, out, n, max);
  return n;
}

size_t dht_rt_copy(const dht_rt *rt, dht_contact *out, size_t max) {
  size_t n = 0;
  for (unsigned b = 0; b < rt->n_buckets && n < max; b++)
    for (unsigned i = 0; i < rt->buckets[b].n_live && n < max; i++)
      out[n++] = rt->buckets[b].live[i].c;
  return n;
}

void dht_rt_touch(dht_rt *rt, const uint8_t target[DHT_ID_LEN], dht_time now) {
  int b = dht_rt_bucket_index(rt, target);
  if (b >= 0 && (unsigned)b < rt->n_buckets) rt->buckets[b].refreshed = now;
}

void dht_rt_set_refreshed(dht_rt *rt, unsigned b, dht_time t) {
  if (b < rt->n_buckets) rt->buckets[b].refreshed = t;
}

unsigned dht_rt_bucket_size(const dht_rt *rt, unsigned b) {
  return b < rt->n_buckets ? rt->buckets[b].n_live : 0;
}

int dht_rt_refresh_due(const dht_rt *rt, dht_time now, dht_time interval,
                       dht_time *next) {
  dht_time earliest = DHT_TIME_NONE;
  int due = -1;
  for (unsigned b = 0; b < rt->n_buckets; b++) {
    dht_time at = dht_time_add(rt->buckets[b].refreshed, interval);
    if (at <= now && due < 0) due = (int)b;
    earliest = dht_time_min(earliest, at);
  }
  if (next) *next = earliest;
  return due;
}

void dht_rt_random_in_bucket(const dht_rt *rt, unsigned b,
                             const uint8_t rnd[DHT_ID_LEN],
                             uint8_t out[DHT_ID_LEN]) {
  if (b >= 8 * DHT_ID_LEN) b = 8 * DHT_ID_LEN - 1;
  for (unsigned i = 0; i < DHT_ID_LEN; i++) {
    unsigned keep = b >= 8 * (i + 1) ? 8 : (b > 8 * i ? b - 8 * i : 0);
    uint8_t mask = (uint8_t)(keep ? 0xffu << (8 - keep) : 0);
    out[i] = (uint8_t)((rt->self[i] & mask) | (rnd[i] & (uint8_t)~mask));
  }
  out[b / 8] ^= (uint8_t)((out[b / 8] ^ ~rt->self[b / 8]) & (0x80u >> (b % 8)));
}
