/*
 * Registry formats, part 3: matching. reg_match_few (interpolation
 * search) and reg_match_merge (one merge pass, through each implementation
 * path) must agree with a brute-force binary search on random, skewed and
 * edge-value data (0, UINT64_MAX, neighbours of every entry);
 * reg_entries_sort must agree with qsort on every shape of input that
 * drives its MSD passes, insertion runs and LSD fallback (uniform, small,
 * repeated, sorted, reversed, one bucket); reg_queries must name exactly
 * the addresses brute force names, whole or in parts, sorted or not;
 * reg_chunk_keys must equal reg_chunk_key at every length around block
 * boundaries; and on a real batch of 100,000 addresses the optimised
 * pipeline (fit and verify every chunk, with its key from reg_chunk_key
 * or from reg_chunk_keys; hash, sort, match, also through reg_queries)
 * must find exactly what the plain baseline finds (full 32-byte hashes,
 * qsort, binary search).
 */
#include "registry_testutil.h"

#include "match_internal.h"

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
  for (size_t j = 0; j < nq; j++) {
    int want = brute(e, n, q[j]);
    assert_int_equal(h1[j], want);
    hits += (size_t)want;
  }
  assert_int_equal(c1, hits);
  /* every path of the merge: AVX2 if present, default vectors, scalar */
  for (int path = REG_HASH_AUTO; path <= REG_HASH_SCALAR; path++) {
    memset(h2, 0xee, nq);
    c2 = reg_match_merge_path(e, n, q, nq, h2, path);
    for (size_t j = 0; j < nq; j++) assert_int_equal(h2[j], h1[j]);
    assert_int_equal(c2, hits);
  }
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
  size_t sizes[] = {0, 1, 2, 3, 17, 31, 32, 33, 64, 65, 1000, 50000};
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

/* fill_shape writes |n| values of one shape: the MSD passes split on the
 * top bits, so values that share them (small, repeated, one bucket)
 * drive the deeper splits and the LSD fallback. */
static void fill_shape(uint64_t *a, size_t n, int shape, t_rng *rng) {
  for (size_t i = 0; i < n; i++) {
    uint64_t r = t_next(rng);
    switch (shape) {
    case 0: a[i] = r; break;                            /* uniform */
    case 1: a[i] = r & 0xffff; break;                   /* small */
    case 2: a[i] = 42; break;                           /* all equal */
    case 3: a[i] = i % 3 == 0 ? r : a[i / 2]; break;    /* repeats */
    case 4: a[i] = (uint64_t)i * 977; break;            /* sorted */
    case 5: a[i] = UINT64_MAX - (uint64_t)i * 977; break; /* reversed */
    case 6: a[i] = 0xabcd000000000000ull | (r >> 20); break; /* one bucket */
    case 7: a[i] = r % 5 == 0 ? UINT64_MAX : r % 5 == 1 ? 0 : r; break;
    default: a[i] = (r & 0xff00ff00ff00ff00ull) | (i & 7); break;
    }
  }
}

static void test_sort(void **state) {
  t_rng rng = {13};
  size_t sizes[] = {0, 1, 2, 31, 32, 33, 255, 256, 257, 1000, 4097, 100000,
                    300000};
  (void)state;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    uint64_t *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    assert_true(a && b);
    for (int shape = 0; shape < 9; shape++) {
      fill_shape(a, n, shape, &rng);
      memcpy(b, a, n * sizeof *a);
      assert_int_equal(reg_entries_sort(a, n), 0);
      qsort(b, n, sizeof *b, cmp_u64);
      if (n) assert_memory_equal(a, b, n * sizeof *a);
    }
    free(a);
    free(b);
  }
  assert_int_equal(reg_entries_sort(NULL, 5), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_entries_sort(NULL, 1), 0); /* nothing to sort */
}

/* ---- reg_queries ------------------------------------------------------------ */

/* Addresses "q<i>@x.test" (every seventh repeats the one before it);
 * the "batch" holds the entries of about a third of them, picked at
 * random, and |extra| random entries. want[i] comes from brute force:
 * the full hash of address i, binary-searched among the entries. */
typedef struct qcase {
  uint8_t salt[REG_SALT_LEN];
  char (*addr)[32];
  const char **ptr;
  size_t *len, n;
  uint64_t *entries;
  size_t n_entries;
  uint8_t *want; /* per address: in the batch */
} qcase;

static void qcase_make(qcase *c, size_t n, size_t extra, t_rng *rng) {
  size_t k = 0;
  t_random(rng, c->salt, sizeof c->salt);
  c->n = n;
  c->addr = malloc((n + 1) * sizeof *c->addr);
  c->ptr = malloc((n + 1) * sizeof *c->ptr);
  c->len = malloc((n + 1) * sizeof *c->len);
  c->want = calloc(n + 1, 1);
  c->entries = malloc((n + extra + 1) * sizeof *c->entries);
  assert_true(c->addr && c->ptr && c->len && c->want && c->entries);
  for (size_t i = 0; i < n; i++) {
    /* every seventh address twice: the same entry under two numbers */
    size_t name = i % 7 == 6 ? i - 1 : i;
    c->len[i] = (size_t)snprintf(c->addr[i], sizeof c->addr[i],
                                 "q%zu@x.test", name);
    c->ptr[i] = c->addr[i];
  }
  for (size_t i = 0; i < n; i++) {
    uint8_t full[REG_FULL_HASH_LEN];
    if (t_next(rng) % 3 != 0) continue;
    reg_address_hash(full, c->salt, c->addr[i], c->len[i]);
    c->entries[k++] = reg_entry_of(full);
  }
  for (size_t i = 0; i < extra; i++) c->entries[k++] = t_next(rng);
  c->n_entries = unique_sorted(c->entries, k);
  for (size_t i = 0; i < n; i++) {
    uint8_t full[REG_FULL_HASH_LEN];
    reg_address_hash(full, c->salt, c->addr[i], c->len[i]);
    c->want[i] = (uint8_t)brute(c->entries, c->n_entries, reg_entry_of(full));
  }
}

static void qcase_free(qcase *c) {
  free(c->addr);
  free(c->ptr);
  free(c->len);
  free(c->want);
  free(c->entries);
}

/* check_hits: |hits| names each wanted address exactly once. */
static void check_hits(const qcase *c, const uint32_t *hits, size_t found) {
  uint8_t *seen = calloc(c->n + 1, 1);
  size_t wanted = 0;
  assert_non_null(seen);
  for (size_t k = 0; k < found; k++) {
    assert_true(hits[k] < c->n);
    assert_int_equal(c->want[hits[k]], 1);
    assert_int_equal(seen[hits[k]], 0);
    seen[hits[k]] = 1;
  }
  for (size_t i = 0; i < c->n; i++) wanted += c->want[i];
  assert_int_equal(found, wanted);
  free(seen);
}

/* hash_in_blocks hashes the set in uneven ranges, last range first. */
static void hash_in_blocks(reg_queries *q, const qcase *c) {
  size_t cut = c->n / 3;
  assert_int_equal(reg_queries_hash(q, cut, c->ptr + cut,
                                    cut % 2 ? c->len + cut : NULL, c->n - cut),
                   0);
  assert_int_equal(reg_queries_hash(q, 0, c->ptr, c->len, cut), 0);
}

static void match_in_parts(const reg_queries *q, const qcase *c,
                           uint32_t *hits, size_t parts) {
  size_t found = 0;
  for (size_t p = 0; p < parts; p++)
    found += reg_queries_match_part(q, c->entries, c->n_entries * p / parts,
                                    c->n_entries * (p + 1) / parts,
                                    hits + found);
  check_hits(c, hits, found);
}

static void test_queries(void **state) {
  size_t sizes[] = {0, 1, 2, 31, 32, 33, 500, 5000, 60000};
  size_t extras[] = {0, 3, 100000};
  t_rng rng = {21};
  (void)state;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t x = 0; x < 3; x++) {
      qcase c;
      reg_queries *q = NULL;
      uint32_t *hits;
      qcase_make(&c, sizes[s], extras[x], &rng);
      hits = malloc((c.n + 1) * sizeof *hits);
      assert_non_null(hits);
      assert_int_equal(reg_queries_new(&q, c.salt, c.n), 0);
      assert_int_equal(reg_queries_count(q), c.n);
      hash_in_blocks(q, &c);
      /* unsorted: searched one by one */
      check_hits(&c, hits, reg_queries_match(q, c.entries, c.n_entries, hits));
      match_in_parts(q, &c, hits, 3);
      assert_int_equal(reg_queries_sort(q), 0);
      assert_int_equal(reg_queries_sort(q), 0); /* already sorted */
      check_hits(&c, hits, reg_queries_match(q, c.entries, c.n_entries, hits));
      for (size_t parts = 1; parts <= 7; parts += 3)
        match_in_parts(q, &c, hits, parts);
      reg_queries_free(q);
      free(hits);
      qcase_free(&c);
    }
  }
}

static void test_queries_edges(void **state) {
  uint8_t salt[REG_SALT_LEN] = {7};
  const char *a[3] = {"a@b.c", "d@e.f", "g@h.i"};
  uint64_t e[3];
  uint32_t hits[3];
  reg_queries *q = NULL;
  (void)state;
  assert_int_equal(reg_queries_new(NULL, salt, 3), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_new(&q, NULL, 3), REG_ERR_INVALID_ARGUMENT);
  assert_null(q);
  if (SIZE_MAX > UINT32_MAX)
    assert_int_equal(reg_queries_new(&q, salt, (size_t)UINT32_MAX + 1),
                     REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_new(&q, salt, 3), 0);
  /* ranges past the set are refused and change nothing */
  assert_int_equal(reg_queries_hash(q, 2, a, NULL, 2), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_hash(q, 4, a, NULL, 0), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_hash(q, 0, NULL, NULL, 1),
                   REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_hash(q, 0, a, NULL, 2), 0);
  /* not every address hashed: no sort, no match */
  reg_entries_hash(e, salt, a, NULL, 3);
  assert_int_equal(reg_entries_sort(e, 3), 0);
  assert_int_equal(reg_queries_sort(q), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_queries_match(q, e, 3, hits), 0);
  assert_int_equal(reg_queries_hash(q, 2, a + 2, NULL, 1), 0);
  assert_int_equal(reg_queries_match(q, e, 3, hits), 3);
  assert_int_equal(reg_queries_sort(q), 0);
  assert_int_equal(reg_queries_match(q, e, 3, hits), 3);
  /* empty and inverted parts, no entries */
  assert_int_equal(reg_queries_match_part(q, e, 2, 2, hits), 0);
  assert_int_equal(reg_queries_match_part(q, e, 3, 1, hits), 0);
  assert_int_equal(reg_queries_match(q, NULL, 3, hits), 0);
  assert_int_equal(reg_queries_match(q, e, 0, hits), 0);
  assert_int_equal(reg_queries_match(NULL, e, 3, hits), 0);
  reg_queries_free(q);
  reg_queries_free(NULL);
  /* an empty set */
  assert_int_equal(reg_queries_new(&q, salt, 0), 0);
  assert_int_equal(reg_queries_sort(q), 0);
  assert_int_equal(reg_queries_match(q, e, 3, hits), 0);
  reg_queries_free(q);
}

/* ---- reg_chunk_keys ------------------------------------------------------------ */

static void test_chunk_keys(void **state) {
  enum { N = 61, MAX = 1100 };
  static uint8_t data[N][MAX];
  const uint8_t *p[N];
  size_t len[N];
  uint8_t got[N][DHT_KEY_LEN], want[DHT_KEY_LEN];
  t_rng rng = {31};
  (void)state;
  t_random(&rng, (uint8_t *)data, sizeof data);
  for (int round = 0; round < 40; round++) {
    /* lengths around the block boundaries of tag (15 bytes) + payload:
     * 113, 241, ... in some rounds, all equal in others, random else */
    for (size_t i = 0; i < N; i++) {
      size_t base = 113 + 128 * (size_t)(round % 8);
      len[i] = round < 16   ? base - 2 + (i % 5)
               : round < 24 ? 837
               : round < 28 ? i % 3
                            : (size_t)(t_next(&rng) % MAX);
      p[i] = len[i] ? data[i] : NULL;
    }
    for (size_t n = 0; n <= N; n += n < 9 ? 1 : 13) {
      int path = (int)((n + (size_t)round) % 3);
      memset(got, 0, sizeof got);
      reg_chunk_keys_path(got, p, len, n, path);
      for (size_t i = 0; i < n; i++) {
        reg_chunk_key(want, p[i], len[i]);
        assert_memory_equal(got[i], want, DHT_KEY_LEN);
      }
    }
  }
}

/* ---- Optimised pipeline vs plain baseline on a 100,000 batch -------------- */

static int cmp_full(const void *a, const void *b) {
  return memcmp(a, b, REG_FULL_HASH_LEN);
}

/* fetch_all verifies every chunk of |b| through reg_fetch, in file order:
 * with reg_fetch_add, or (|lanes|) with the keys computed four at a time
 * by reg_chunk_keys and handed to reg_fetch_add_digest, as the benchmark
 * does. */
static reg_fetch *fetch_all(const reg_batch *b, int lanes) {
  size_t m = reg_batch_record_count(b) - 2, len;
  const uint8_t **pl = malloc(m * sizeof *pl);
  size_t *plen = malloc(m * sizeof *plen);
  uint8_t(*keys)[DHT_KEY_LEN] = malloc(m * DHT_KEY_LEN);
  dht_record r;
  reg_fetch *f = NULL;
  const uint8_t *p = reg_batch_record(b, 0, &len);
  assert_true(pl && plen && keys);
  assert_int_equal(dht_record_decode(&r, p, len), 0);
  assert_int_equal(reg_fetch_new(&f, &r, 0), 0);
  for (size_t i = 0; i < m; i++) {
    p = reg_batch_record(b, i + 2, &len);
    assert_int_equal(dht_record_decode(&r, p, len), 0);
    pl[i] = r.payload;
    plen[i] = r.payload_len;
    memcpy(keys[i], r.key, DHT_KEY_LEN);
  }
  if (lanes) reg_chunk_keys(keys, pl, plen, m);
  for (size_t i = 0; i < m; i++)
    assert_int_equal(lanes ? reg_fetch_add_digest(f, keys[i], pl[i], plen[i])
                           : reg_fetch_add(f, keys[i], pl[i], plen[i]),
                     0);
  assert_true(reg_fetch_complete(f));
  free(pl);
  free(plen);
  free(keys);
  return f;
}

/* queries_pipeline matches |prot| through reg_queries (hashed in two
 * ranges, sorted, matched in two parts) and checks the hits are exactly
 * the addresses numbered 0 mod 3. */
static void queries_pipeline(const uint64_t *e, size_t ne,
                             const uint8_t salt[REG_SALT_LEN],
                             const t_addrs *prot) {
  reg_queries *q = NULL;
  uint32_t *hits = malloc(prot->n * sizeof *hits);
  const char *const *v = (const char *const *)prot->v;
  size_t found, half = prot->n / 2;
  assert_non_null(hits);
  assert_int_equal(reg_queries_new(&q, salt, prot->n), 0);
  assert_int_equal(reg_queries_hash(q, half, v + half, NULL, prot->n - half),
                   0);
  assert_int_equal(reg_queries_hash(q, 0, v, NULL, half), 0);
  assert_int_equal(reg_queries_sort(q), 0);
  found = reg_queries_match_part(q, e, 0, ne / 2, hits);
  found += reg_queries_match_part(q, e, ne / 2, ne, hits + found);
  assert_int_equal(found, (prot->n + 2) / 3);
  for (size_t k = 0; k < found; k++) assert_int_equal(hits[k] % 3, 0);
  for (size_t k = 1; k < found; k++) assert_true(hits[k] != hits[k - 1]);
  reg_queries_free(q);
  free(hits);
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
  f = fetch_all(b, 0);
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
  queries_pipeline(e, ne, m->salt, &prot);
  reg_fetch_free(f);
  /* The same batch verified with four-lane chunk keys: same entries. */
  f = fetch_all(b, 1);
  e = reg_fetch_entries(f, &ne);
  assert_int_equal(ne, n);
  assert_memory_equal(e, reg_batch_entries(b, &ne), n * sizeof *e);
  queries_pipeline(e, ne, m->salt, &prot);
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
      cmocka_unit_test(test_queries),
      cmocka_unit_test(test_queries_edges),
      cmocka_unit_test(test_chunk_keys),
      cmocka_unit_test(test_pipeline_matches_baseline),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
