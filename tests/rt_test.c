/*
 * Tests for dht/src/rt.c: bucket indexing, closest-contact selection
 * against a brute-force sort, the IP-diversity limits (per bucket and per
 * table, IPv4 and IPv6), prefer-the-old eviction through the replacement
 * cache, removal after repeated failures, and bucket refresh bookkeeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt.h"
#include "util.h"

#define T0 (1000 * DHT_SEC)

static uint8_t self_id[DHT_ID_LEN];

/* xorshift64*: deterministic test randomness. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}
static void rng_fill(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rng() >> 56);
}

static int setup(void **state) {
  (void)state;
  rng_state = 0x9e3779b97f4a7c15ull;
  rng_fill(self_id, sizeof self_id);
  return 0;
}

/* A contact in bucket |b| at IPv4 a.b.c.d:port. */
static dht_rt_entry mk(const dht_rt *rt, unsigned b, uint8_t a0, uint8_t a1,
                       uint8_t a2, uint8_t a3) {
  dht_rt_entry e;
  uint8_t rnd[DHT_ID_LEN];
  memset(&e, 0, sizeof e);
  rng_fill(rnd, sizeof rnd);
  dht_rt_random_in_bucket(rt, b, rnd, e.c.id);
  rng_fill(e.c.pk, sizeof e.c.pk);
  rng_fill(e.key, sizeof e.key);
  e.c.addr.family = 4;
  e.c.addr.ip[0] = a0;
  e.c.addr.ip[1] = a1;
  e.c.addr.ip[2] = a2;
  e.c.addr.ip[3] = a3;
  e.c.addr.port = 4000;
  return e;
}

static void init_rt(dht_rt *rt, unsigned k, unsigned bpm, unsigned tpm) {
  assert_int_equal(dht_rt_init(rt, self_id, k, bpm, tpm, T0), 0);
}

static void test_bucket_index(void **state) {
  dht_rt rt;
  uint8_t id[DHT_ID_LEN];
  (void)state;
  init_rt(&rt, 8, 2, 10);
  assert_int_equal(dht_rt_bucket_index(&rt, self_id), -1);
  for (unsigned b = 0; b < 256; b++) {
    memcpy(id, self_id, sizeof id);
    id[b / 8] ^= (uint8_t)(0x80u >> (b % 8));
    assert_int_equal(dht_rt_bucket_index(&rt, id), (int)b);
    /* Bits after the first difference do not matter. */
    if (b < 255) id[31] ^= 0x01;
    assert_int_equal(dht_rt_bucket_index(&rt, id), (int)b);
    uint8_t rnd[DHT_ID_LEN];
    rng_fill(rnd, sizeof rnd);
    dht_rt_random_in_bucket(&rt, b, rnd, id);
    assert_int_equal(dht_rt_bucket_index(&rt, id), (int)b);
  }
  assert_int_equal(dht_rt_init(&rt, self_id, 0, 2, 10, T0),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_rt_init(&rt, self_id, DHT_K_MAX + 1, 2, 10, T0),
                   DHT_ERR_INVALID_ARGUMENT);
  dht_rt_free(&rt);
}

static void test_self_refused(void **state) {
  dht_rt rt;
  dht_rt_entry e;
  (void)state;
  init_rt(&rt, 8, 2, 10);
  e = mk(&rt, 3, 10, 0, 0, 1);
  memcpy(e.c.id, self_id, DHT_ID_LEN);
  assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_REFUSED);
  assert_int_equal(rt.n_live, 0);
  dht_rt_free(&rt);
}

static int cmp_target(const void *a, const void *b, const uint8_t *target) {
  return dht_id_cmp_dist(target, a, b);
}
static const uint8_t *sort_target;
static int cmp_sort(const void *a, const void *b) {
  return cmp_target(a, b, sort_target);
}

/* 200 contacts over distinct /16s: dht_rt_closest must agree with a
 * brute-force sort of the live contacts. */
static void test_closest_matches_sort(void **state) {
  dht_rt rt;
  static uint8_t ids[400][DHT_ID_LEN];
  const dht_rt_entry *out[DHT_K_MAX];
  dht_contact all[400];
  (void)state;
  init_rt(&rt, 16, 2, 10);
  for (unsigned i = 0; i < 400; i++) {
    unsigned b = (unsigned)(rng() % 12);
    dht_rt_entry e = mk(&rt, b, 10, (uint8_t)i, (uint8_t)(i >> 8), 1);
    e.c.addr.ip[1] = (uint8_t)i;
    e.c.addr.ip[2] = (uint8_t)(i >> 8);
    int rv = dht_rt_seen(&rt, &e, T0 + i, 0, NULL);
    assert_true(rv >= 0);
  }
  size_t n = dht_rt_copy(&rt, all, 400);
  assert_int_equal(n, rt.n_live);
  assert_true(n >= 100);
  for (size_t i = 0; i < n; i++) memcpy(ids[i], all[i].id, DHT_ID_LEN);
  /* Random targets (mostly in the far buckets), targets inside each
   * bucket's range and beyond the deepest, and our own ID; several list
   * lengths, so that the bucket-by-bucket selection is checked against
   * the sort wherever it stops. */
  static const size_t maxes[] = {1, 5, 16, DHT_K_MAX};
  for (int round = 0; round < 20 + 16 + 1; round++) {
    uint8_t target[DHT_ID_LEN], rnd[DHT_ID_LEN];
    rng_fill(target, sizeof target);
    if (round >= 20 && round < 36) {
      rng_fill(rnd, sizeof rnd);
      dht_rt_random_in_bucket(&rt, (unsigned)(round - 20), rnd, target);
    } else if (round == 36) {
      memcpy(target, rt.self, DHT_ID_LEN);
    }
    sort_target = target;
    qsort(ids, n, DHT_ID_LEN, cmp_sort);
    for (size_t m = 0; m < sizeof maxes / sizeof *maxes; m++) {
      size_t got = dht_rt_closest(&rt, target, NULL, out, maxes[m]);
      assert_int_equal(got, maxes[m] < n ? maxes[m] : n);
      for (size_t j = 0; j < got; j++)
        assert_memory_equal(out[j]->c.id, ids[j], DHT_ID_LEN);
    }
    /* Excluding the closest shifts the list by one. */
    size_t got = dht_rt_closest(&rt, target, ids[0], out, 16);
    assert_int_equal(got, 16);
    for (size_t j = 0; j < got; j++)
      assert_memory_equal(out[j]->c.id, ids[j + 1], DHT_ID_LEN);
  }
  dht_rt_free(&rt);
}

/* "Closest buckets last": bucket indexes never decrease along the copy. */
static void test_copy_order(void **state) {
  dht_rt rt;
  dht_contact all[64];
  (void)state;
  init_rt(&rt, 4, 2, 100);
  for (unsigned i = 0; i < 40; i++) {
    dht_rt_entry e = mk(&rt, 9 - i % 10, 10, (uint8_t)i, 0, 1);
    dht_rt_seen(&rt, &e, T0, 0, NULL);
  }
  size_t n = dht_rt_copy(&rt, all, 64);
  assert_int_equal(n, 40);
  for (size_t i = 1; i < n; i++)
    assert_true(dht_rt_bucket_index(&rt, all[i - 1].id) <=
                dht_rt_bucket_index(&rt, all[i].id));
  dht_rt_free(&rt);
}

static void test_diversity_bucket_v4(void **state) {
  dht_rt rt;
  (void)state;
  init_rt(&rt, 8, 2, 10);
  dht_rt_entry a = mk(&rt, 0, 10, 1, 2, 3), b = mk(&rt, 0, 10, 1, 2, 4),
               c = mk(&rt, 0, 10, 1, 2, 5), d = mk(&rt, 1, 10, 1, 2, 6),
               e = mk(&rt, 0, 10, 1, 3, 7);
  assert_int_equal(dht_rt_seen(&rt, &a, T0, 0, NULL), DHT_RT_ADDED);
  assert_int_equal(dht_rt_seen(&rt, &b, T0, 0, NULL), DHT_RT_ADDED);
  /* A third from the same /24 in the same bucket is refused ... */
  assert_int_equal(dht_rt_seen(&rt, &c, T0, 0, NULL), DHT_RT_REFUSED);
  assert_null(dht_rt_find(&rt, c.c.id));
  /* ... but another bucket, or another /24, is fine. */
  assert_int_equal(dht_rt_seen(&rt, &d, T0, 0, NULL), DHT_RT_ADDED);
  assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_ADDED);
  assert_int_equal(rt.n_live, 4);
  /* Seeing a known contact again is an update, not a new admission. */
  assert_int_equal(dht_rt_seen(&rt, &a, T0 + 1, 5, NULL), DHT_RT_UPDATED);
  assert_int_equal(dht_rt_find(&rt, a.c.id)->c.rtt_ms, 5);
  assert_int_equal(dht_rt_find(&rt, a.c.id)->c.last_seen, T0 + 1);
  dht_rt_free(&rt);
}

static void test_diversity_table(void **state) {
  dht_rt rt;
  (void)state;
  init_rt(&rt, 8, 2, 3);
  /* Same /16, different /24s and buckets: three fit, the fourth not. */
  for (unsigned i = 0; i < 3; i++) {
    dht_rt_entry e = mk(&rt, i, 10, 9, (uint8_t)i, 1);
    assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_ADDED);
  }
  dht_rt_entry e = mk(&rt, 5, 10, 9, 200, 1);
  assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_REFUSED);
  dht_rt_entry f = mk(&rt, 5, 10, 10, 200, 1);
  assert_int_equal(dht_rt_seen(&rt, &f, T0, 0, NULL), DHT_RT_ADDED);
  dht_rt_free(&rt);
}

/* The table's prefix counts (rt->prefixes) must equal a recount of the
 * live contacts after any sequence of admissions, address changes,
 * failures and removals; and the limit they enforce must hold. */
static void check_prefix_counts(const dht_rt *rt) {
  size_t total = 0;
  for (size_t p = 0; p < rt->n_prefixes; p++) {
    unsigned n = 0;
    if (p > 0) assert_true(rt->prefixes[p - 1].word < rt->prefixes[p].word);
    for (unsigned b = 0; b < rt->n_buckets; b++)
      for (unsigned i = 0; i < rt->buckets[b].n_live; i++) {
        const dht_addr *a = &rt->buckets[b].live[i].c.addr;
        uint64_t w = (uint64_t)a->ip[0] << 56 | (uint64_t)a->ip[1] << 48;
        if ((w | a->family) == rt->prefixes[p].word) n++;
      }
    assert_int_equal(n, rt->prefixes[p].count);
    assert_true(n >= 1 && n <= rt->table_prefix_max);
    total += n;
  }
  assert_int_equal(total, rt->n_live);
}

static void test_prefix_counts_consistent(void **state) {
  dht_rt rt;
  dht_rt_entry known[64];
  size_t n_known = 0;
  (void)state;
  init_rt(&rt, 4, 2, 3);
  for (int step = 0; step < 3000; step++) {
    unsigned op = (unsigned)(rng() % 8);
    if (op < 5 || n_known == 0) { /* a new contact from one of 6 /16s */
      dht_rt_entry e = mk(&rt, (unsigned)(rng() % 10), 10,
                          (uint8_t)(rng() % 6), (uint8_t)(rng() % 4),
                          (uint8_t)rng());
      int rv = dht_rt_seen(&rt, &e, T0 + (dht_time)step, 0, NULL);
      assert_true(rv >= 0);
      if (n_known < 64) known[n_known++] = e;
    } else if (op < 7) { /* a known one seen from a new address */
      dht_rt_entry e = known[rng() % n_known];
      e.c.addr.ip[1] = (uint8_t)(rng() % 6);
      e.c.addr.ip[2] = (uint8_t)(rng() % 4);
      assert_true(dht_rt_seen(&rt, &e, T0 + (dht_time)step, 0, NULL) >= 0);
    } else { /* fails, or leaves */
      size_t i = (size_t)(rng() % n_known);
      if (rng() % 2)
        dht_rt_failed(&rt, known[i].c.id);
      else
        dht_rt_remove(&rt, known[i].c.id);
      known[i] = known[--n_known];
    }
    check_prefix_counts(&rt);
  }
  assert_true(rt.n_live > 0);
  dht_rt_free(&rt);
}

static dht_rt_entry mk6(const dht_rt *rt, unsigned b, uint16_t g2,
                        uint16_t g3) {
  dht_rt_entry e = mk(rt, b, 0, 0, 0, 0);
  e.c.addr.family = 6;
  memset(e.c.addr.ip, 0, 16);
  e.c.addr.ip[0] = 0x20;
  e.c.addr.ip[1] = 0x01;
  e.c.addr.ip[2] = 0x0d;
  e.c.addr.ip[3] = 0xb8;
  e.c.addr.ip[4] = (uint8_t)(g2 >> 8);
  e.c.addr.ip[5] = (uint8_t)g2;
  e.c.addr.ip[6] = (uint8_t)(g3 >> 8);
  e.c.addr.ip[7] = (uint8_t)g3;
  e.c.addr.ip[15] = (uint8_t)rng();
  return e;
}

static void test_diversity_v6(void **state) {
  dht_rt rt;
  (void)state;
  init_rt(&rt, 8, 2, 3);
  /* /48 = first three groups: 2001:db8:g2. */
  dht_rt_entry a = mk6(&rt, 0, 1, 1), b = mk6(&rt, 0, 1, 2),
               c = mk6(&rt, 0, 1, 3), d = mk6(&rt, 0, 2, 1),
               e = mk6(&rt, 1, 3, 1);
  assert_int_equal(dht_rt_seen(&rt, &a, T0, 0, NULL), DHT_RT_ADDED);
  assert_int_equal(dht_rt_seen(&rt, &b, T0, 0, NULL), DHT_RT_ADDED);
  assert_int_equal(dht_rt_seen(&rt, &c, T0, 0, NULL), DHT_RT_REFUSED);
  assert_int_equal(dht_rt_seen(&rt, &d, T0, 0, NULL), DHT_RT_ADDED);
  /* All share the /32 2001:db8: the table limit (3) is reached. */
  assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_REFUSED);
  /* An IPv4 contact never counts against an IPv6 prefix. */
  dht_rt_entry v4 = mk(&rt, 1, 32, 1, 13, 184);
  assert_int_equal(dht_rt_seen(&rt, &v4, T0, 0, NULL), DHT_RT_ADDED);
  dht_rt_free(&rt);
}

/* Fills bucket 0 of a k=4 table; contact i seen at T0 + i. */
static void fill_bucket(dht_rt *rt, dht_rt_entry *live) {
  for (unsigned i = 0; i < 4; i++) {
    live[i] = mk(rt, 0, 10, (uint8_t)(i + 1), 0, 1);
    assert_int_equal(dht_rt_seen(rt, &live[i], T0 + i * DHT_SEC, 0, NULL),
                     DHT_RT_ADDED);
  }
}

static int is_live(const dht_rt *rt, const uint8_t id[DHT_ID_LEN]) {
  dht_contact all[64];
  size_t n = dht_rt_copy(rt, all, 64);
  for (size_t i = 0; i < n; i++)
    if (memcmp(all[i].id, id, DHT_ID_LEN) == 0) return 1;
  return 0;
}

/* Full bucket: the newcomer waits, the least-recently-seen contact is
 * pinged; it answers, so it stays and the newcomer stays out. */
static void test_prefer_old(void **state) {
  dht_rt rt;
  dht_rt_entry live[4];
  dht_contact ping;
  (void)state;
  init_rt(&rt, 4, 8, 100);
  rt.ping_after = 10 * DHT_SEC;
  fill_bucket(&rt, live);
  dht_rt_entry n = mk(&rt, 0, 10, 50, 0, 1);
  /* Everyone was seen within ping_after: no ping. */
  assert_int_equal(dht_rt_seen(&rt, &n, T0 + 5 * DHT_SEC, 0, &ping),
                   DHT_RT_CACHED);
  memset(&ping, 0, sizeof ping);
  assert_int_equal(dht_rt_seen(&rt, &n, T0 + 60 * DHT_SEC, 0, &ping),
                   DHT_RT_PING);
  assert_memory_equal(ping.id, live[0].c.id, DHT_ID_LEN); /* LRS */
  assert_false(is_live(&rt, n.c.id));
  assert_non_null(dht_rt_find(&rt, n.c.id)); /* in the cache */
  /* A second newcomer does not ping again while one is outstanding. */
  dht_rt_entry n2 = mk(&rt, 0, 10, 51, 0, 1);
  assert_int_equal(dht_rt_seen(&rt, &n2, T0 + 61 * DHT_SEC, 0, &ping),
                   DHT_RT_CACHED);
  /* The old contact answers. */
  assert_int_equal(dht_rt_seen(&rt, &live[0], T0 + 62 * DHT_SEC, 3, NULL),
                   DHT_RT_UPDATED);
  for (unsigned i = 0; i < 4; i++) assert_true(is_live(&rt, live[i].c.id));
  assert_false(is_live(&rt, n.c.id));
  assert_int_equal(rt.n_live, 4);
  dht_rt_free(&rt);
}

/* The pinged contact fails: it is evicted and the most recently seen
 * newcomer takes its place. */
static void test_evict_on_failed_ping(void **state) {
  dht_rt rt;
  dht_rt_entry live[4];
  dht_contact ping;
  (void)state;
  init_rt(&rt, 4, 8, 100);
  rt.ping_after = 0;
  fill_bucket(&rt, live);
  dht_rt_entry n1 = mk(&rt, 0, 10, 50, 0, 1), n2 = mk(&rt, 0, 10, 51, 0, 1);
  assert_int_equal(dht_rt_seen(&rt, &n1, T0 + 10 * DHT_SEC, 0, &ping),
                   DHT_RT_PING);
  assert_memory_equal(ping.id, live[0].c.id, DHT_ID_LEN);
  assert_int_equal(dht_rt_seen(&rt, &n2, T0 + 11 * DHT_SEC, 0, &ping),
                   DHT_RT_CACHED);
  assert_int_equal(dht_rt_failed(&rt, live[0].c.id), 1);
  assert_false(is_live(&rt, live[0].c.id));
  assert_null(dht_rt_find(&rt, live[0].c.id));
  assert_true(is_live(&rt, n2.c.id)); /* most recently seen replacement */
  assert_false(is_live(&rt, n1.c.id));
  assert_int_equal(rt.n_live, 4);
  /* The promoted contact kept its key. */
  assert_memory_equal(dht_rt_find(&rt, n2.c.id)->key, n2.key, NC_SHARED_LEN);
  dht_rt_free(&rt);
}

/* Replacement cache: bounded, least recently seen dropped first. */
static void test_replacement_cache_bounded(void **state) {
  dht_rt rt;
  dht_rt_entry live[4], extra[DHT_RT_REPL_MAX + 2];
  (void)state;
  init_rt(&rt, 4, 8, 100);
  rt.ping_after = 1000 * DHT_SEC;
  fill_bucket(&rt, live);
  for (unsigned i = 0; i < DHT_RT_REPL_MAX + 2; i++) {
    extra[i] = mk(&rt, 0, 10, (uint8_t)(60 + i), 0, 1);
    assert_int_equal(dht_rt_seen(&rt, &extra[i], T0 + (10 + i) * DHT_SEC, 0,
                                 NULL),
                     DHT_RT_CACHED);
  }
  assert_int_equal(rt.buckets[0].n_repl, DHT_RT_REPL_MAX);
  assert_null(dht_rt_find(&rt, extra[0].c.id));
  assert_null(dht_rt_find(&rt, extra[1].c.id));
  assert_non_null(dht_rt_find(&rt, extra[DHT_RT_REPL_MAX + 1].c.id));
  dht_rt_free(&rt);
}

static void test_remove_after_failures(void **state) {
  dht_rt rt;
  dht_rt_entry e;
  (void)state;
  init_rt(&rt, 4, 8, 100);
  e = mk(&rt, 2, 10, 1, 1, 1);
  assert_int_equal(dht_rt_seen(&rt, &e, T0, 0, NULL), DHT_RT_ADDED);
  for (unsigned i = 1; i < DHT_RT_MAX_FAILS; i++)
    assert_int_equal(dht_rt_failed(&rt, e.c.id), 0);
  /* An answer in between resets the count. */
  dht_rt_seen(&rt, &e, T0 + 1, 0, NULL);
  for (unsigned i = 1; i < DHT_RT_MAX_FAILS; i++)
    assert_int_equal(dht_rt_failed(&rt, e.c.id), 0);
  assert_int_equal(dht_rt_failed(&rt, e.c.id), 1);
  assert_null(dht_rt_find(&rt, e.c.id));
  assert_int_equal(rt.n_live, 0);
  /* Failing an unknown contact is harmless. */
  assert_int_equal(dht_rt_failed(&rt, e.c.id), 0);
  dht_rt_free(&rt);
}

/* A diverse-enough replacement is promoted; one from a full /24 is not. */
static void test_promotion_respects_diversity(void **state) {
  dht_rt rt;
  dht_rt_entry live[4];
  (void)state;
  init_rt(&rt, 4, 2, 100);
  rt.ping_after = 1000 * DHT_SEC;
  live[0] = mk(&rt, 0, 10, 1, 1, 1);
  live[1] = mk(&rt, 0, 10, 1, 1, 2);
  live[2] = mk(&rt, 0, 10, 2, 1, 1);
  live[3] = mk(&rt, 0, 10, 3, 1, 1);
  for (unsigned i = 0; i < 4; i++)
    assert_int_equal(dht_rt_seen(&rt, &live[i], T0, 0, NULL), DHT_RT_ADDED);
  dht_rt_entry same24 = mk(&rt, 0, 10, 1, 1, 9);
  assert_int_equal(dht_rt_seen(&rt, &same24, T0 + 1, 0, NULL), DHT_RT_CACHED);
  /* Removing a contact outside 10.1.1/24 leaves no room for same24. */
  dht_rt_remove(&rt, live[2].c.id);
  assert_false(is_live(&rt, same24.c.id));
  assert_int_equal(rt.n_live, 3);
  /* Removing one inside it does. */
  dht_rt_remove(&rt, live[0].c.id);
  assert_true(is_live(&rt, same24.c.id));
  dht_rt_free(&rt);
}

static void test_refresh_due(void **state) {
  dht_rt rt;
  dht_time next;
  (void)state;
  init_rt(&rt, 4, 8, 100);
  assert_int_equal(dht_rt_refresh_due(&rt, T0, DHT_SEC, &next), -1);
  assert_int_equal(next, DHT_TIME_NONE);
  dht_rt_entry e = mk(&rt, 3, 10, 1, 1, 1);
  dht_rt_seen(&rt, &e, T0, 0, NULL);
  assert_int_equal(rt.n_buckets, 4);
  assert_int_equal(dht_rt_refresh_due(&rt, T0 + 5, 100, &next), -1);
  assert_int_equal(next, T0 + 100);
  assert_int_equal(dht_rt_refresh_due(&rt, T0 + 100, 100, &next), 0);
  /* Touching buckets 0..2 leaves bucket 3 the due one. */
  uint8_t id[DHT_ID_LEN], rnd[DHT_ID_LEN];
  for (unsigned b = 0; b < 3; b++) {
    rng_fill(rnd, sizeof rnd);
    dht_rt_random_in_bucket(&rt, b, rnd, id);
    dht_rt_touch(&rt, id, T0 + 100);
  }
  assert_int_equal(dht_rt_refresh_due(&rt, T0 + 100, 100, &next), 3);
  dht_rt_free(&rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_bucket_index, setup),
      cmocka_unit_test_setup(test_self_refused, setup),
      cmocka_unit_test_setup(test_closest_matches_sort, setup),
      cmocka_unit_test_setup(test_prefix_counts_consistent, setup),
      cmocka_unit_test_setup(test_copy_order, setup),
      cmocka_unit_test_setup(test_diversity_bucket_v4, setup),
      cmocka_unit_test_setup(test_diversity_table, setup),
      cmocka_unit_test_setup(test_diversity_v6, setup),
      cmocka_unit_test_setup(test_prefer_old, setup),
      cmocka_unit_test_setup(test_evict_on_failed_ping, setup),
      cmocka_unit_test_setup(test_replacement_cache_bounded, setup),
      cmocka_unit_test_setup(test_remove_after_failures, setup),
      cmocka_unit_test_setup(test_promotion_respects_diversity, setup),
      cmocka_unit_test_setup(test_refresh_due, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
