/*
 * Matching protected addresses against a batch's sorted entries.
 *
 * Entries are truncated BLAKE2b outputs, so they are uniform over the
 * uint64 range and the position of a value v in n entries is close to
 * v / 2^64 * n. reg_match_few exploits that with interpolation search
 * (about log log n probes: 5 for 10^8 entries), and bisects whenever a
 * probe did not at least halve the range, so hostile or skewed data still
 * costs O(log n). reg_match_merge walks sorted queries and entries
 * together once, only forward: counting through windows of 32 entries
 * when queries are dense, jumping (interpolation, then galloping) when
 * they are sparse; O(n / 32 + nq) windows or O(nq log(n / nq)) probes.
 * reg_entries_sort is an MSD radix sort, the "sort" of "hash, sort and
 * merge", and reg_queries ties the three together for many addresses,
 * remembering which address each entry came from.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

/* ---- Sorting ------------------------------------------------------------- */

/* Keys sort with an optional array of 32-bit tags (the address numbers
 * of reg_queries) moved alongside. MSD radix: the top bits scatter the
 * keys into up to 2^11 buckets (one pass over memory; 2^11 write streams
 * still combine in L2), then each bucket, now small enough for the cache,
 * is scattered back by its next bits and finished by one insertion pass,
 * which on uniform keys moves about one key per sub-bucket. A sub-bucket
 * that is still large (skewed or repeated keys: batch building sorts
 * whatever addresses it is given) is split again, up to DEPTH_MAX times,
 * then sorted by an LSD radix sort, so any input costs a bounded number
 * of passes, never O(n^2). Twice as fast as the 8-pass LSD sort it
 * replaced on 10^6 and 10^7 uniform keys (15 against 29 ns a key): one
 * pass over main memory instead of eight, the rest in cache. */
#define TOP_BITS_MAX 11 /* buckets per split: 2^11 */
#define SMALL 32        /* insertion sort up to this many keys */
#define DEPTH_MAX 3     /* splits inside a bucket before the LSD fallback */
#define LSD_BITS 8      /* fallback: passes of 8 bits */
#define LSD_BUCKETS (1u << LSD_BITS)

typedef struct run {
  uint64_t *k;
  uint32_t *t; /* NULL: keys only */
} run;

static run offset(run r, size_t at) {
  return (run){r.k + at, r.t ? r.t + at : NULL};
}

static void copy_run(run dst, run src, size_t n) {
  memcpy(dst.k, src.k, n * sizeof *dst.k);
  if (src.t) memcpy(dst.t, src.t, n * sizeof *dst.t);
}

/* ceil_log2 returns the smallest b with 2^b >= n (n >= 1). */
static unsigned ceil_log2(size_t n) {
  unsigned b = 0;
  while (b < 63 && ((size_t)1 << b) < n) b++;
  return b;
}

/* digit_bits picks how many bits to split |n| keys by: about two keys per
 * bucket, at most TOP_BITS_MAX and at most the |left| unsorted bits. */
static unsigned digit_bits(size_t n, unsigned left) {
  unsigned d = ceil_log2(n);
  d = d > 1 ? d - 1 : 1;
  if (d > TOP_BITS_MAX) d = TOP_BITS_MAX;
  return d < left ? d : left;
}

/* insertion sorts r[0..n), fast when every key is near its place. */
static void insertion(run r, size_t n) {
  for (size_t i = 1; i < n; i++) {
    uint64_t k = r.k[i];
    size_t j = i;
    if (r.k[j - 1] <= k) continue;
    if (!r.t) {
      for (; j > 0 && r.k[j - 1] > k; j--) r.k[j] = r.k[j - 1];
      r.k[j] = k;
      continue;
    }
    uint32_t t = r.t[i];
    for (; j > 0 && r.k[j - 1] > k; j--) {
      r.k[j] = r.k[j - 1];
      r.t[j] = r.t[j - 1];
    }
    r.k[j] = k;
    r.t[j] = t;
  }
}

/* scatter moves |n| (< 2^32) keys from |src| to |dst| by the |d| bits
 * below the top |done| bits, stably, and leaves the bucket starts in
 * start[0..2^d] (start[2^d] = n). */
static void scatter(run src, run dst, size_t n, unsigned done, unsigned d,
                    uint32_t *start) {
  unsigned shift = 64 - done - d;
  size_t buckets = (size_t)1 << d;
  uint64_t mask = buckets - 1;
  uint32_t pos[1u << TOP_BITS_MAX], sum = 0;
  memset(pos, 0, buckets * sizeof *pos);
  for (size_t i = 0; i < n; i++) pos[(src.k[i] >> shift) & mask]++;
  for (size_t b = 0; b < buckets; b++) {
    uint32_t c = pos[b];
    start[b] = pos[b] = sum;
    sum += c;
  }
  start[buckets] = (uint32_t)n;
  if (!src.t) {
    for (size_t i = 0; i < n; i++)
      dst.k[pos[(src.k[i] >> shift) & mask]++] = src.k[i];
    return;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t at = pos[(src.k[i] >> shift) & mask]++;
    dst.k[at] = src.k[i];
    dst.t[at] = src.t[i];
  }
}

/* lsd sorts r[0..n) by its low |left| bits (the others are equal) with
 * stable 8-bit passes through |tmp|; passes where every key shares the
 * digit are skipped. */
static void lsd(run r, run tmp, size_t n, unsigned left) {
  run src = r, dst = tmp;
  for (unsigned shift = 0; shift < left; shift += LSD_BITS) {
    size_t count[LSD_BUCKETS] = {0}, pos[LSD_BUCKETS], sum = 0;
    run t;
    for (size_t i = 0; i < n; i++) count[(src.k[i] >> shift) & 0xff]++;
    if (count[(src.k[0] >> shift) & 0xff] == n) continue;
    for (unsigned b = 0; b < LSD_BUCKETS; b++) {
      pos[b] = sum;
      sum += count[b];
    }
    for (size_t i = 0; i < n; i++) {
      size_t at = pos[(src.k[i] >> shift) & 0xff]++;
      dst.k[at] = src.k[i];
      if (src.t) dst.t[at] = src.t[i];
    }
    t = src, src = dst, dst = t;
  }
  if (src.k != r.k) copy_run(r, src, n);
}

/* bucket sorts the |n| keys of |src|, equal in their top |done| bits,
 * into |dst|; |src| is scratch afterwards. */
static void bucket(run src, run dst, size_t n, unsigned done, unsigned depth) {
  uint32_t start[(1u << TOP_BITS_MAX) + 1];
  unsigned d;
  if (n <= SMALL || done == 64) {
    copy_run(dst, src, n);
    insertion(dst, n);
    return;
  }
  d = digit_bits(n, 64 - done);
  scatter(src, dst, n, done, d, start);
  for (size_t b = 0; b < ((size_t)1 << d); b++) {
    size_t m = start[b + 1] - start[b];
    run in_dst = offset(dst, start[b]), in_src = offset(src, start[b]);
    if (m <= SMALL) continue;
    if (depth < DEPTH_MAX) {
      bucket(in_dst, in_src, m, done + d, depth + 1);
      copy_run(in_dst, in_src, m);
    } else {
      lsd(in_dst, in_src, m, 64 - done - d);
    }
  }
  /* Sub-buckets are in order and each is sorted or small: one pass. */
  insertion(dst, n);
}

/* sort_run sorts r[0..n) (tags alongside when r.t) through |tmp|. */
static void sort_run(run r, run tmp, size_t n) {
  uint32_t start[(1u << TOP_BITS_MAX) + 1];
  unsigned d;
  if (n <= SMALL) {
    insertion(r, n);
    return;
  }
  if (n > UINT32_MAX) { /* beyond the 32-bit counts: plain LSD */
    lsd(r, tmp, n, 64);
    return;
  }
  d = digit_bits(n >> 4, 64); /* top buckets of 32 keys or more */
  scatter(r, tmp, n, 0, d, start);
  for (size_t b = 0; b < ((size_t)1 << d); b++)
    bucket(offset(tmp, start[b]), offset(r, start[b]),
           start[b + 1] - start[b], d, 0);
}

int reg_entries_sort(uint64_t *v, size_t n) {
  uint64_t *tmp;
  if (n < 2) return 0;
  if (!v) return REG_ERR_INVALID_ARGUMENT;
  tmp = n > SMALL ? malloc(n * sizeof *tmp) : NULL;
  if (n > SMALL && !tmp) return REG_ERR_NOMEM;
  sort_run((run){v, NULL}, (run){tmp, NULL}, n);
  free(tmp);
  return 0;
}

/* ---- Interpolation search --------------------------------------------------- */

/* probe_at estimates where |q| sits in e[lo..hi), e[lo] < q <= e[hi-1]. */
static size_t probe_at(const uint64_t *e, size_t lo, size_t hi, uint64_t q) {
  double frac = (double)(q - e[lo]) / (double)(e[hi - 1] - e[lo]);
  size_t pos = lo + (size_t)(frac * (double)(hi - 1 - lo));
  return pos < hi ? pos : hi - 1;
}

/* sqrt_up returns a power of two between sqrt(w) and 2 sqrt(w). */
static size_t sqrt_up(size_t w) {
  unsigned b = 0;
  while (b < 32 && ((size_t)1 << (2 * b)) < w) b++;
  return (size_t)1 << b;
}

/* step_to narrows [*lo, *hi) by one look at e[p]: everything before *lo
 * is below q, e[*hi] (if any) is not. */
static void step_to(const uint64_t *e, size_t p, uint64_t q, size_t *lo,
                    size_t *hi) {
  if (e[p] < q) *lo = p + 1;
  else *hi = p;
}

/* lower_bound returns the first k in [lo, hi) with e[k] >= q, or hi,
 * given that everything before lo is below q. Each round probes where q
 * should be if the entries are uniform, then a guard about sqrt(width)
 * further towards q: on uniform data the range shrinks from w to about
 * sqrt(w) per round (O(log log n) probes). A round that did not halve
 * the range bisects too, so any data costs O(log n) probes. */
static size_t lower_bound(const uint64_t *e, size_t lo, size_t hi,
                          uint64_t q) {
  while (lo < hi) {
    size_t width = hi - lo, g = sqrt_up(width), pos;
    if (e[lo] >= q) return lo;
    if (e[hi - 1] < q) return hi;
    pos = probe_at(e, lo, hi, q);
    step_to(e, pos, q, &lo, &hi);
    if (lo == pos + 1 && g < hi - lo) step_to(e, pos + g, q, &lo, &hi);
    else if (hi == pos && pos >= lo + g) step_to(e, pos - g, q, &lo, &hi);
    if (hi - lo > width / 2) step_to(e, lo + (hi - lo) / 2, q, &lo, &hi);
  }
  return lo;
}

size_t reg_match_few(const uint64_t *entries, size_t n, const uint64_t *queries,
                     size_t nq, uint8_t *hit) {
  size_t hits = 0;
  if (!queries || !hit) return 0;
  if (!entries) n = 0;
  for (size_t j = 0; j < nq; j++) {
    size_t k = lower_bound(entries, 0, n, queries[j]);
    hit[j] = (uint8_t)(k < n && entries[k] == queries[j]);
    hits += hit[j];
  }
  return hits;
}

/* ---- Merge ------------------------------------------------------------------- */

/* Sorted queries meet sorted entries once, forward only. Where queries are
 * dense, the next one is a few cache lines ahead at most: count the
 * entries below it in a window of 32 (eight 4-lane compares, no branch),
 * moving a window on only when all 32 are below. Where they are sparse
 * (more than SPARSE_GAP entries per query left), seek instead: a probe or
 * two near where v should be beat streaming past the entries between. The window compares are compiled twice, for AVX2 (chosen at
 * run time) and for the default target; a scalar scan remains for other
 * compilers and for the tests. */
#define SPARSE_GAP 256 /* entries per query from which seeking wins */
#define WINDOW 32      /* entries per counted window: four cache lines */
#define STRIDE 8       /* first gallop step of a seek: a cache line */
#define REACH 32       /* entries either side of a guess to prefetch */

#if defined(__GNUC__)
#define HAVE_VECTORS 1
#define ALWAYS_INLINE inline __attribute__((always_inline))
typedef int64_t i64x4 __attribute__((vector_size(32)));

/* below_window counts the entries of e[0..WINDOW) below |v| (sorted: the
 * offset of the first that is not). Unsigned order is signed order after
 * flipping the top bit, and vector compares are signed. */
static ALWAYS_INLINE size_t below_window(const uint64_t *e, uint64_t v) {
  const int64_t flip = INT64_MIN;
  i64x4 c = {0, 0, 0, 0}, x, vv = c + (int64_t)(v ^ (uint64_t)flip);
  for (int k = 0; k < WINDOW / 4; k++) {
    memcpy(&x, e + 4 * k, sizeof x);
    c += (x ^ flip) < vv; /* -1 where below */
  }
  return (size_t)-(c[0] + c[1] + c[2] + c[3]);
}
#else
#define ALWAYS_INLINE inline
#endif

/* seek returns the first k > i with e[k] >= v, or n (e[i] < v): a probe
 * where uniform entries put v (on uniform data off by about the square
 * root of the gap to it), then galloping from there in steps of 8, 16, ...
 * and a binary search in the last step: one or two cache misses where a
 * fresh interpolation search would guard far away first. O(log n) probes
 * on any data. */
static size_t seek(const uint64_t *e, size_t i, size_t n, uint64_t v) {
  size_t lo, hi, p, step = STRIDE;
  if (e[n - 1] < v) return n;
  p = probe_at(e, i, n, v); /* e[i] < v <= e[n - 1] */
  if (p <= i) p = i + 1;
  if (e[p] < v) {
    lo = p;
    while (step < n - 1 - lo && e[lo + step] < v) lo += step, step <<= 1;
    hi = step < n - 1 - lo ? lo + step : n - 1;
  } else {
    hi = p;
    while (step < hi - i && e[hi - step] >= v) hi -= step, step <<= 1;
    lo = step < hi - i ? hi - step : i;
  }
  while (hi - lo > 1) { /* e[lo] < v <= e[hi] */
    size_t mid = lo + (hi - lo) / 2;
    if (e[mid] < v) lo = mid;
    else hi = mid;
  }
  return hi;
}

/* ahead prefetches where seek(e, i, n, v) will look: the cache lines
 * within REACH entries of the guess (which uniform entries miss by about
 * the square root of the gap), so that those misses overlap the current
 * query's work. */
static void ahead(const uint64_t *e, size_t i, size_t n, uint64_t v) {
#if defined(__GNUC__)
  if (i + 1 < n && e[i] < v && v <= e[n - 1]) {
    size_t p = probe_at(e, i, n, v), lo = p > i + REACH ? p - REACH : i;
    size_t hi = p + REACH < n ? p + REACH : n - 1;
    for (size_t k = lo; k <= hi; k += STRIDE) __builtin_prefetch(e + k);
  }
#else
  (void)e, (void)i, (void)n, (void)v;
#endif
}

/* scan returns the first k >= i with e[k] >= v, or n (e[i] < v). */
static ALWAYS_INLINE size_t scan(const uint64_t *e, size_t i, size_t n,
                                 uint64_t v, int vec) {
#ifdef HAVE_VECTORS
  while (vec && n - i >= WINDOW) {
    size_t below = below_window(e + i, v);
    if (below < WINDOW) return i + below;
    i += WINDOW;
  }
#else
  (void)vec;
#endif
  while (i < n && e[i] < v) i++;
  return i;
}

/* merge_body finds the sorted |q| in the sorted |e| (n >= 1). Writes each
 * query's 0/1 to flag[j] when |flag|, else the positions of the hits to
 * pos[] (room for nq). Returns the number of hits. */
static ALWAYS_INLINE size_t merge_body(const uint64_t *e, size_t n,
                                       const uint64_t *q, size_t nq,
                                       uint8_t *flag, uint32_t *pos, int vec) {
  size_t i = 0, hits = 0;
  for (size_t j = 0; j < nq; j++) {
    uint64_t v = q[j];
    size_t h;
    if (i < n && e[i] < v) {
      /* (n - i) / (nq - j) < SPARSE_GAP, without a division */
      if ((n - i) / SPARSE_GAP < nq - j) {
        i = scan(e, i, n, v, vec);
      } else {
        i = seek(e, i, n, v);
        if (j + 1 < nq) ahead(e, i, n, q[j + 1]);
      }
    }
    h = (size_t)(i < n) & (size_t)(e[i < n ? i : n - 1] == v);
    if (flag) {
      flag[j] = (uint8_t)h;
    } else {
      pos[hits] = (uint32_t)j; /* kept only if a hit */
    }
    hits += h;
  }
  return hits;
}

typedef size_t (*merge_fn)(const uint64_t *, size_t, const uint64_t *, size_t,
                           uint8_t *, uint32_t *);

static size_t merge_scalar(const uint64_t *e, size_t n, const uint64_t *q,
                           size_t nq, uint8_t *flag, uint32_t *pos) {
  return merge_body(e, n, q, nq, flag, pos, 0);
}

#ifdef HAVE_VECTORS
static size_t merge_default(const uint64_t *e, size_t n, const uint64_t *q,
                            size_t nq, uint8_t *flag, uint32_t *pos) {
  return merge_body(e, n, q, nq, flag, pos, 1);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static size_t merge_avx2(
    const uint64_t *e, size_t n, const uint64_t *q, size_t nq, uint8_t *flag,
    uint32_t *pos) {
  return merge_body(e, n, q, nq, flag, pos, 1);
}
#endif
#endif

static merge_fn pick_merge(int path) {
  if (path == REG_HASH_SCALAR) return merge_scalar;
#ifdef HAVE_VECTORS
#if defined(__x86_64__) || defined(__i386__)
  /* Reads the CPU features libgcc recorded at start-up (CPUID). */
  if (path == REG_HASH_AUTO && __builtin_cpu_supports("avx2"))
    return merge_avx2;
#endif
  return merge_default;
#else
  return merge_scalar;
#endif
}

/* merge runs the merge through |path| (enum reg_hash_path). */
static size_t merge(const uint64_t *e, size_t n, const uint64_t *q, size_t nq,
                    uint8_t *flag, uint32_t *pos, int path) {
  if (n == 0 || nq == 0) {
    if (flag && nq > 0) memset(flag, 0, nq);
    return 0;
  }
  return pick_merge(path)(e, n, q, nq, flag, pos);
}

size_t reg_match_merge_path(const uint64_t *entries, size_t n,
                            const uint64_t *queries, size_t nq, uint8_t *hit,
                            int path) {
  if (!queries || !hit) return 0;
  if (!entries) n = 0;
  return merge(entries, n, queries, nq, hit, NULL, path);
}

size_t reg_match_merge(const uint64_t *entries, size_t n,
                       const uint64_t *queries, size_t nq, uint8_t *hit) {
  return reg_match_merge_path(entries, n, queries, nq, hit, REG_HASH_AUTO);
}

/* ---- Many addresses --------------------------------------------------------- */

struct reg_queries {
  uint8_t salt[REG_SALT_LEN];
  uint64_t *entry;       /* n; sorted once |sorted| */
  uint32_t *num;         /* n; the caller's number of each entry */
  size_t n;
  atomic_size_t hashed;  /* addresses hashed so far (threads add ranges) */
  int sorted;
};

int reg_queries_new(reg_queries **out, const uint8_t salt[REG_SALT_LEN],
                    size_t n) {
  reg_queries *q;
  if (!out) return REG_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!salt || n > UINT32_MAX) return REG_ERR_INVALID_ARGUMENT;
  q = calloc(1, sizeof *q);
  if (!q) return REG_ERR_NOMEM;
  q->entry = malloc((n ? n : 1) * sizeof *q->entry);
  q->num = malloc((n ? n : 1) * sizeof *q->num);
  if (!q->entry || !q->num) {
    reg_queries_free(q);
    return REG_ERR_NOMEM;
  }
  memcpy(q->salt, salt, REG_SALT_LEN);
  q->n = n;
  atomic_init(&q->hashed, 0);
  *out = q;
  return 0;
}

void reg_queries_free(reg_queries *q) {
  if (!q) return;
  free(q->entry);
  free(q->num);
  free(q);
}

int reg_queries_hash(reg_queries *q, size_t first, const char *const *canon,
                     const size_t *len, size_t count) {
  if (!q || (!canon && count > 0) || first > q->n || count > q->n - first)
    return REG_ERR_INVALID_ARGUMENT;
  reg_entries_hash(q->entry + first, q->salt, canon, len, count);
  for (size_t i = 0; i < count; i++) q->num[first + i] = (uint32_t)(first + i);
  atomic_fetch_add_explicit(&q->hashed, count, memory_order_relaxed);
  return 0;
}

/* complete: every address hashed (a range hashed twice would count
 * twice; the contract is distinct ranges). */
static int complete(const reg_queries *q) {
  return atomic_load_explicit(&q->hashed, memory_order_relaxed) == q->n;
}

int reg_queries_sort(reg_queries *q) {
  uint64_t *tk;
  uint32_t *tt;
  if (!q || !complete(q)) return REG_ERR_INVALID_ARGUMENT;
  if (q->sorted) return 0;
  if (q->n <= SMALL) {
    insertion((run){q->entry, q->num}, q->n);
    q->sorted = 1;
    return 0;
  }
  tk = malloc(q->n * sizeof *tk);
  tt = malloc(q->n * sizeof *tt);
  if (tk && tt) {
    sort_run((run){q->entry, q->num}, (run){tk, tt}, q->n);
    q->sorted = 1;
  }
  free(tk);
  free(tt);
  return q->sorted ? 0 : REG_ERR_NOMEM;
}

size_t reg_queries_count(const reg_queries *q) { return q ? q->n : 0; }

/* first_at_least returns the first j with v[j] >= x in the sorted
 * v[0..n) (queries are uniform too: interpolation). */
static size_t first_at_least(const uint64_t *v, size_t n, uint64_t x) {
  return n == 0 ? 0 : lower_bound(v, 0, n, x);
}

/* match_sorted merges the queries within [e[0], e[n - 1]] (n >= 1). */
static size_t match_sorted(const reg_queries *q, const uint64_t *e, size_t n,
                           uint32_t *hits) {
  size_t j0 = first_at_least(q->entry, q->n, e[0]);
  size_t j1 = e[n - 1] == UINT64_MAX
                  ? q->n
                  : first_at_least(q->entry, q->n, e[n - 1] + 1);
  size_t found;
  if (j1 <= j0) return 0;
  found = merge(e, n, q->entry + j0, j1 - j0, NULL, hits, REG_HASH_AUTO);
  /* Positions to address numbers; positions rise, so num[] is read in
   * order. */
  for (size_t k = 0; k < found; k++) hits[k] = q->num[j0 + hits[k]];
  return found;
}

size_t reg_queries_match_part(const reg_queries *q, const uint64_t *entries,
                              size_t from, size_t to, uint32_t *hits) {
  size_t found = 0;
  if (!q || !hits || !entries || to <= from || !complete(q)) return 0;
  if (q->sorted) return match_sorted(q, entries + from, to - from, hits);
  for (size_t j = 0; j < q->n; j++) {
    size_t k = lower_bound(entries, from, to, q->entry[j]);
    if (k < to && entries[k] == q->entry[j]) hits[found++] = q->num[j];
  }
  return found;
}

size_t reg_queries_match(const reg_queries *q, const uint64_t *entries,
                         size_t n, uint32_t *hits) {
  return reg_queries_match_part(q, entries, 0, n, hits);
}
