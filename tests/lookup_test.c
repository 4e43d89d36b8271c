/*
 * Tests for dht/src/lookup.c, without any network: a synthetic overlay of
 * 400 IDs where each node knows up to k nodes per bucket (what a
 * Kademlia routing table holds), and a driver that answers requests in
 * order. Checked: single-path lookups return the true k closest (brute
 * force), disjoint paths never query a node twice nor exceed alpha in
 * flight, dead nodes are skipped, the pool stays bounded, and a path that
 * the caller ends stops querying.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookup.h"
#include "util.h"

#define N 400
#define K 8
#define MAX_KNOWN (K * 64)

static uint8_t ids[N][DHT_ID_LEN];
static int known[N][MAX_KNOWN];
static size_t n_known[N];
static int dead[N];
static int queried_count[N];

static uint64_t rng_state;
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

/* Node i knows the first K nodes (in index order) of each of its buckets. */
static void build_overlay(uint64_t seed) {
  unsigned per_bucket[257];
  rng_state = seed;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < DHT_ID_LEN; j++) ids[i][j] = (uint8_t)(rng() >> 56);
  for (int i = 0; i < N; i++) {
    memset(per_bucket, 0, sizeof per_bucket);
    n_known[i] = 0;
    for (int j = 0; j < N; j++) {
      unsigned b = dht_id_cpl(ids[i], ids[j]);
      if (j == i || per_bucket[b] >= K || n_known[i] >= MAX_KNOWN) continue;
      per_bucket[b]++;
      known[i][n_known[i]++] = j;
    }
  }
  memset(dead, 0, sizeof dead);
}

static int index_of(const uint8_t id[DHT_ID_LEN]) {
  for (int i = 0; i < N; i++)
    if (memcmp(ids[i], id, DHT_ID_LEN) == 0) return i;
  return -1;
}

static dht_addr addr_of(int i) {
  dht_addr a;
  memset(&a, 0, sizeof a);
  a.family = 4;
  a.ip[0] = 10;
  a.ip[1] = (uint8_t)(i >> 8);
  a.ip[2] = (uint8_t)i;
  a.ip[3] = 1;
  a.port = 1000;
  return a;
}

static void add_node(dht_lookup *lk, int j, unsigned path, unsigned hop) {
  uint8_t pk[NC_PK_LEN];
  dht_addr a = addr_of(j);
  memset(pk, 0, sizeof pk);
  memcpy(pk, &j, sizeof j);
  dht_lookup_add(lk, ids[j], pk, 0, &a, path, hop);
}

static const uint8_t *sort_target;
static int by_dist(const void *a, const void *b) {
  return dht_id_cmp_dist(sort_target, ids[*(const int *)a],
                         ids[*(const int *)b]);
}

/* Node |j|'s answer: the K closest it knows to the target. */
static void answer(dht_lookup *lk, int j, int i) {
  int near[MAX_KNOWN];
  size_t n = n_known[j];
  unsigned path = lk->pool[i].path, hop = lk->pool[i].hop;
  memcpy(near, known[j], n * sizeof *near);
  sort_target = lk->target;
  qsort(near, n, sizeof *near, by_dist);
  dht_lookup_answered(lk, i, 1);
  for (size_t x = 0; x < n && x < K; x++) add_node(lk, near[x], path, hop + 1);
}

/* Runs |lk| to the end from seed node |origin|: requests are answered in
 * the order sent. Returns the number of driver steps. */
static unsigned drive(dht_lookup *lk, int origin, unsigned max_inflight_seen[]) {
  int fifo[4096];
  size_t head = 0, tail = 0;
  unsigned steps = 0;
  sort_target = lk->target;
  int seeds[MAX_KNOWN];
  size_t ns = n_known[origin];
  memcpy(seeds, known[origin], ns * sizeof *seeds);
  qsort(seeds, ns, sizeof *seeds, by_dist);
  for (size_t x = 0; x < ns && x < K; x++)
    add_node(lk, seeds[x], (unsigned)(x % lk->paths), 1);
  for (; steps < 10000; steps++) {
    int i;
    while ((i = dht_lookup_next(lk)) >= 0) {
      int j = index_of(lk->pool[i].id);
      assert_true(j >= 0);
      queried_count[j]++;
      assert_true(tail < 4096);
      fifo[tail++] = j;
    }
    for (unsigned p = 0; p < lk->paths; p++) {
      assert_true(lk->inflight[p] <= lk->alpha);
      if (lk->inflight[p] > max_inflight_seen[p])
        max_inflight_seen[p] = lk->inflight[p];
    }
    assert_true(lk->n <= lk->cap);
    if (head == tail) break;
    int j = fifo[head++];
    int at = dht_lookup_find(lk, ids[j]);
    assert_true(at >= 0); /* in-flight candidates are never dropped */
    if (dead[j])
      dht_lookup_failed(lk, at, 1);
    else
      answer(lk, j, at);
  }
  assert_true(steps < 10000);
  assert_true(dht_lookup_done(lk));
  return steps;
}

/* The true K closest live nodes to |target| (excluding |origin|). */
static size_t true_closest(const uint8_t *target, int origin, int *out) {
  int all[N];
  size_t n = 0;
  for (int i = 0; i < N; i++)
    if (i != origin && !dead[i]) all[n++] = i;
  sort_target = target;
  qsort(all, n, sizeof *all, by_dist);
  memcpy(out, all, K * sizeof *out);
  return K;
}

static unsigned run_one(unsigned paths, uint64_t seed, unsigned *overlap,
                        unsigned *first_found) {
  dht_lookup lk;
  uint8_t target[DHT_ID_LEN];
  int res[K], want[K];
  unsigned inflight_seen[DHT_PATHS_MAX] = {0};
  rng_state = seed;
  for (int j = 0; j < DHT_ID_LEN; j++) target[j] = (uint8_t)(rng() >> 56);
  int origin = (int)(rng() % N);
  memset(queried_count, 0, sizeof queried_count);
  assert_int_equal(dht_lookup_init(&lk, target, K, 3, paths), 0);
  drive(&lk, origin, inflight_seen);
  for (int j = 0; j < N; j++) assert_true(queried_count[j] <= 1);
  size_t n = dht_lookup_results(&lk, res, K);
  assert_int_equal(n, K);
  true_closest(target, origin, want);
  *overlap = 0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < K; b++)
      if (memcmp(lk.pool[res[a]].id, ids[want[b]], DHT_ID_LEN) == 0)
        (*overlap)++;
  *first_found = memcmp(lk.pool[res[0]].id, ids[want[0]], DHT_ID_LEN) == 0;
  /* Results are sorted and all answered. */
  for (size_t a = 1; a < n; a++)
    assert_true(dht_id_cmp_dist(target, lk.pool[res[a - 1]].id,
                                lk.pool[res[a]].id) < 0);
  assert_true(lk.stats.hops >= 1);
  assert_true(lk.stats.responded >= K);
  unsigned queried = lk.stats.queried;
  dht_lookup_free(&lk);
  return queried;
}

static void test_single_path_exact(void **state) {
  unsigned overlap, first;
  (void)state;
  build_overlay(11);
  for (uint64_t s = 1; s <= 40; s++) {
    run_one(1, s * 7919, &overlap, &first);
    assert_int_equal(overlap, K);
  }
}

/* Disjoint paths: no node queried twice (checked in run_one), and the
 * union still holds the closest node and nearly all of the K closest. */
static void test_disjoint_paths(void **state) {
  unsigned overlap, first, total = 0, firsts = 0;
  (void)state;
  build_overlay(12);
  for (uint64_t s = 1; s <= 40; s++) {
    run_one(4, s * 104729, &overlap, &first);
    total += overlap;
    firsts += first;
  }
  assert_int_equal(firsts, 40);
  assert_true(total >= 40 * K * 9 / 10);
}

/* Each path's queried set is disjoint from the others': a node named by
 * two paths belongs to the first. */
static void test_paths_own_candidates(void **state) {
  dht_lookup lk;
  uint8_t target[DHT_ID_LEN] = {0};
  uint8_t pk[NC_PK_LEN] = {0};
  dht_addr a = addr_of(1);
  (void)state;
  build_overlay(13);
  assert_int_equal(dht_lookup_init(&lk, target, K, 2, 2), 0);
  assert_int_equal(dht_lookup_add(&lk, ids[0], pk, 0, &a, 0, 1), 1);
  assert_int_equal(dht_lookup_add(&lk, ids[0], pk, 0, &a, 1, 1), 0);
  assert_int_equal(dht_lookup_add(&lk, ids[1], pk, 0, &a, 1, 1), 1);
  assert_int_equal(dht_lookup_add(&lk, ids[2], pk, 0, &a, 9, 1), 0); /* bad path */
  int i = dht_lookup_find(&lk, ids[0]);
  assert_int_equal(lk.pool[i].path, 0);
  int x = dht_lookup_next(&lk), y = dht_lookup_next(&lk);
  assert_true(x >= 0 && y >= 0);
  assert_int_not_equal(lk.pool[x].path, lk.pool[y].path);
  assert_int_equal(dht_lookup_next(&lk), -1);
  assert_int_equal(lk.stats.queried, 2);
  assert_false(dht_lookup_done(&lk));
  dht_lookup_free(&lk);
}

/* A quarter of the nodes are dead: the lookup still ends and returns the
 * closest live nodes it could reach; timeouts are counted. */
static void test_dead_nodes(void **state) {
  dht_lookup lk;
  uint8_t target[DHT_ID_LEN];
  int res[K], want[K];
  unsigned seen[DHT_PATHS_MAX] = {0};
  (void)state;
  build_overlay(14);
  rng_state = 99;
  for (int i = 0; i < N; i++) dead[i] = rng() % 4 == 0;
  for (int j = 0; j < DHT_ID_LEN; j++) target[j] = (uint8_t)(rng() >> 56);
  int origin = 0;
  dead[origin] = 0;
  memset(queried_count, 0, sizeof queried_count);
  assert_int_equal(dht_lookup_init(&lk, target, K, 3, 1), 0);
  drive(&lk, origin, seen);
  assert_true(lk.stats.timeouts > 0);
  size_t n = dht_lookup_results(&lk, res, K);
  assert_int_equal(n, K);
  true_closest(target, origin, want);
  for (size_t a = 0; a < n; a++)
    assert_false(dead[index_of(lk.pool[res[a]].id)]);
  assert_memory_equal(lk.pool[res[0]].id, ids[want[0]], DHT_ID_LEN);
  dht_lookup_free(&lk);
}

/* Ending a path stops it; the lookup is done even with its requests still
 * in flight. */
static void test_end_path(void **state) {
  dht_lookup lk;
  uint8_t target[DHT_ID_LEN] = {0};
  uint8_t pk[NC_PK_LEN] = {0};
  dht_addr a = addr_of(1);
  (void)state;
  build_overlay(15);
  assert_int_equal(dht_lookup_init(&lk, target, K, 1, 1), 0);
  for (int j = 0; j < 5; j++) dht_lookup_add(&lk, ids[j], pk, 0, &a, 0, 1);
  int i = dht_lookup_next(&lk);
  assert_true(i >= 0);
  assert_int_equal(dht_lookup_next(&lk), -1); /* alpha = 1 */
  dht_lookup_end_path(&lk, 0);
  assert_true(dht_lookup_done(&lk));
  assert_int_equal(dht_lookup_next(&lk), -1);
  dht_lookup_free(&lk);
}

/* A full pool keeps the closest candidates. */
static void test_pool_bounded(void **state) {
  dht_lookup lk;
  uint8_t target[DHT_ID_LEN] = {0};
  uint8_t pk[NC_PK_LEN] = {0};
  dht_addr a = addr_of(1);
  int all[N];
  (void)state;
  build_overlay(16);
  assert_int_equal(dht_lookup_init(&lk, target, K, 3, 1), 0);
  for (int j = 0; j < N; j++) dht_lookup_add(&lk, ids[j], pk, 0, &a, 0, 1);
  assert_int_equal(lk.n, lk.cap);
  for (int j = 0; j < N; j++) all[j] = j;
  sort_target = target;
  qsort(all, N, sizeof *all, by_dist);
  for (size_t j = 0; j < lk.n; j++)
    assert_memory_equal(lk.pool[j].id, ids[all[j]], DHT_ID_LEN);
  dht_lookup_free(&lk);
  assert_int_equal(dht_lookup_init(&lk, target, 0, 3, 1),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_lookup_init(&lk, target, K, 3, DHT_PATHS_MAX + 1),
                   DHT_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_path_exact),
      cmocka_unit_test(test_disjoint_paths),
      cmocka_unit_test(test_paths_own_candidates),
      cmocka_unit_test(test_dead_nodes),
      cmocka_unit_test(test_end_path),
      cmocka_unit_test(test_pool_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
