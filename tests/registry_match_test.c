/*
 * Registry formats, part 3: matching. reg_match_few (interpolation
 * search) and reg_match_merge (one galloping merge pass) must agree with
 * a brute-force binary search on random, skewed and edge-value data
 * (0, UINT64_MAX, neighbours of every entry); reg_entries_sort must agree
 * with qsort; and on a real batch of 100,000 addresses the optimised
 * pipeline (fetch and verify every chunk, hash, sort, match) must find
 * exactly what the plain baseline finds (full 32-byte hashes, qsort,
 * binary search).
 */
#include "registry_testutil.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int brute(const uint64_t *e, size_t n, uint64_t q) {
  return bsearch(&q, e, n, sizeof *e, cmp_u64) != NULL;
}

static size_t unique_sorted(uint64_t *v, size_t n) {
  size_t out = n > 0;
  qsort(v, n, sizeof *v, cmp_u64);
  for (size_t i = 1; i < n; i++)
    if (v[i] != v[out - 1]) v[out++] = v[i];
  return out;
}

/* check_all matches |q| against |e| three ways and compares. */
static void check_all(const uint64_t *e, size_t n, uint64_t *q, size_t nq) {
  uint8_t *h1 = malloc(nq + 1), *h2 = malloc(nq + 1);
  size_t hits = 0, c1, c2;
  assert_true(h1 && h2);
  qsort(q, nq, sizeof *q, cmp_u64);
  c1 = reg_match_few(e, n, q, nq, h1);
  c2 = reg_match_merge(e, n, q, nq, h2);
  for (size_t j = 0; j < nq; j++) {
    int want = brute(e, n, q[j]);
    assert_int_equal(h1[j], want);
    assert_int_equal(h2[j], want);
    hits += (size_t)want;
  }
  assert_int_equal(c1, hits);
  assert_int_equal(c2, hits);
  free(h1);
  free(h2);
}

/* queries_for picks hits, neighbours of entries and random values. */
static size_t queries_for(const uint64_t *e, size_t n, uint64_t *q, size_t nq,
                          t_rng *rng) {
  size_t k = 0;
  q[k++] = 0;
  q[k++] = UINT64_MAX;
  q[k++] = 1;
  q[k++] = UINT64_MAX - 1;
  while (k < nq) {
    uint64_t r = t_next(rng);
    if (n == 0 || r % 4 == 0) {
      q[k++] = t_next(rng);
      continue;
    }
    uint64_t v = e[r % n];
    q[k++] = r % 4 == 1 ? v : r % 4 == 2 ? v + 1 : v - 1;
  }
  return k;
}

static void run_case(uint64_t *e, size_t n, size_t nq, t_rng *rng) {
  uint64_t *q = malloc((nq + 4) * sizeof *q);
  assert_non_null(q);
  n = unique_sorted(e, n);
  check_all(e, n, q, queries_for(e, n, q, nq + 4, rng));
  free(q);
}

static void test_match_random_and_edges(void **state) {
  t_rng rng = {11};
  size_t sizes[] = {0, 1, 2, 3, 17, 1000, 50000};
  (void)state;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    uint64_t *e = malloc((n + 2) * sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < n; i++) e[i] = t_next(&rng);
    run_case(e, n, 2000, &rng);
    /* Sparse queries: the merge interpolates instead of galloping. */
    for (size_t i = 0; i < n; i++) e[i] = t_next(&rng);
    run_case(e, n, 12, &rng);
    /* With the extreme values present. */
    for (size_t i = 0; i < n; i++) e[i] = t_next(&rng);
    e[n] = 0;
    e[n + 1] = UINT64_MAX;
    run_case(e, n + 2, 2000, &rng);
    free(e);
  }
}

static void test_match_skewed(void **state) {
  t_rng rng = {12};
  size_t n = 40000;
  uint64_t *e = malloc(n * sizeof *e);
  (void)state;
  assert_non_null(e);
  /* Dense small values, then a few huge ones: interpolation guesses badly
   * and must fall back to bisection. */
  for (size_t i = 0; i < n; i++)
    e[i] = i < n - 8 ? i * 3 : UINT64_MAX - (n - i) * 1000003ull;
  run_case(e, n, 5000, &rng);
  for (size_t i = 0; i < n; i++)
    e[i] = i < n - 8 ? i * 3 : UINT64_MAX - (n - i) * 1000003ull;
  run_case(e, n, 30, &rng); /* sparse: interpolation in the merge too */
  /* Geometric spacing. */
  for (size_t i = 0; i < 64; i++) e[i] = (1ull << i) - 1;
  run_case(e, 64, 500, &rng);
  /* Consecutive integers around a point. */
  for (size_t i = 0; i < n; i++) e[i] = (1ull << 63) - n / 2 + i;
  run_case(e, n, 5000, &rng);
  free(e);
}

static void test_sort(void **state) {
  t_rng rng = {13};
  size_t sizes[] = {0, 1, 2, 255, 256, 257, 100000};
  (void)state;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    uint64_t *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    assert_true(a && b);
    for (size_t i = 0; i < n; i++) {
      uint64_t r = t_next(&rng);
      /* mix full-range values, small values and repeats */
      a[i] = i % 3 == 0 ? r : i % 3 == 1 ? r & 0xffff : a[i / 2];
    }
    memcpy(b, a, n * sizeof *a);
    assert_int_equal(reg_entries_sort(a, n), 0);
    qsort(b, n, sizeof *b, cmp_u64);
    if (n) assert_memory_equal(a, b, n * sizeof *a);
    free(a);
    free(b);
  }
}

/* ---- Optimised pipeline vs plain baseline on a 100,000 batch -------------- */

static int cmp_full(const void *a, const void *b) {
  return memcmp(a, b, REG_FULL_HASH_LEN);
}

/* fetch_all verifies every chunk of |b| through reg_fetch, in file order. */
static reg_fetch *fetch_all(const reg_batch *b) {
  dht_record r;
  reg_fetch *f = NULL;
  size_t len;
  const uint8_t *p = reg_batch_record(b, 0, &len);
  assert_int_equal(dht_record_decode(&r, p, len), 0);
  assert_int_equal(reg_fetch_new(&f, &r, 0), 0);
  for (size_t i = 2; i < reg_batch_record_count(b); i++) {
    p = reg_batch_record(b, i, &len);
    assert_int_equal(dht_record_decode(&r, p, len), 0);
    assert_int_equal(reg_fetch_add(f, r.key, r.payload, r.payload_len), 0);
  }
  assert_true(reg_fetch_complete(f));
  return f;
}

static void test_pipeline_matches_baseline(void **state) {
  const size_t n = 100000, nq = 3000;
  nc_identity sender;
  t_addrs batch, prot;
  t_rng rng = {14};
  reg_batch *b = NULL;
  reg_fetch *f;
  const reg_manifest *m;
  const uint64_t *e;
  uint8_t(*full)[32] = malloc(n * 32), (*qfull)[32] = malloc(nq * 32);
  uint64_t *q = malloc(nq * sizeof *q);
  uint8_t *hit_few = malloc(nq), *hit_merge = malloc(nq);
  size_t ne, base_hits = 0, want_hits = 0;
  (void)state;
  assert_true(full && qfull && q && hit_few && hit_merge);
  t_identity(&sender, 0x51);
  t_addrs_make(&batch, 0, n);
  assert_int_equal(reg_batch_build(&b, (const char *const *)batch.v, n,
                                   &sender, T_NOW, T_TTL, 0, t_random, &rng),
                   0);
  m = reg_batch_manifest(b);
  /* Protected: every third is in the batch (user 0..), others are not. */
  t_addrs_make(&prot, 0, nq);
  for (size_t j = 0; j < nq; j++) {
    if (j % 3 != 0) {
      char buf[64];
      snprintf(buf, sizeof buf, "other%zu@example.test", j);
      free(prot.v[j]);
      prot.v[j] = strdup(buf);
    } else {
      free(prot.v[j]);
      prot.v[j] = strdup(batch.v[(j * 31) % n]);
      want_hits++;
    }
    assert_non_null(prot.v[j]);
  }
  /* Baseline: full hashes of the batch, qsort, binary search. */
  for (size_t i = 0; i < n; i++)
    reg_address_hash(full[i], m->salt, batch.v[i], strlen(batch.v[i]));
  qsort(full, n, 32, cmp_full);
  /* Optimised: verify and assemble the batch, hash, sort, match. */
  f = fetch_all(b);
  e = reg_fetch_entries(f, &ne);
  assert_int_equal(ne, n);
  for (size_t j = 0; j < nq; j++) {
    reg_address_hash(qfull[j], m->salt, prot.v[j], strlen(prot.v[j]));
    q[j] = reg_entry_of(qfull[j]);
  }
  /* few works on unsorted queries; merge needs them sorted. */
  assert_int_equal(reg_match_few(e, ne, q, nq, hit_few), want_hits);
  for (size_t j = 0; j < nq; j++) {
    int found = bsearch(qfull[j], full, n, 32, cmp_full) != NULL;
    assert_int_equal(hit_few[j], found);
    base_hits += (size_t)found;
  }
  assert_int_equal(base_hits, want_hits);
  assert_int_equal(reg_entries_sort(q, nq), 0);
  assert_int_equal(reg_match_merge(e, ne, q, nq, hit_merge), want_hits);
  reg_fetch_free(f);
  reg_batch_free(b);
  t_addrs_free(&batch);
  t_addrs_free(&prot);
  free(full);
  free(qfull);
  free(q);
  free(hit_few);
  free(hit_merge);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_match_random_and_edges),
      cmocka_unit_test(test_match_skewed),
      cmocka_unit_test(test_sort),
      cmocka_unit_test(test_pipeline_matches_baseline),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
