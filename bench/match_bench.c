/*
 * `nointrude-bench match`: the matching pipeline of a user node, end to
 * end, against the bound it is held to and a plain baseline, all measured
 * in the same run on the same machine.
 *
 * For batches of 1e6 and 1e7 entries (built once per size, synthetic
 * addresses "user<i>@example<i % 1000>.test") and 10, 1e4 and 1e6
 * protected addresses (half of them in the batch):
 *
 *  end to end  decode and verify the manifest record (signature, fields,
 *              proof of work: dht_record_verify, reg_fetch_new), hash
 *              every chunk payload (reg_chunk_key) and fit it into the
 *              tree, which checks it against its key and assembles the
 *              entries (reg_fetch_add_digest: reg_fetch_add split so the
 *              hashing can run on several threads), hash the protected
 *              addresses with the salt (reg_queries_hash), sort them
 *              (reg_queries_sort) and match (reg_queries_match_part; a
 *              set of a few addresses is searched unsorted). These are
 *              the library's functions; only the scheduling is the
 *              benchmark's: every thread takes blocks of chunks and of
 *              addresses from shared counters, one sorts the set once it
 *              is complete, the main thread verifies the manifest and fits
 *              hashed chunk blocks in tree order as they become ready, and
 *              at the end each thread matches its share of the entries.
 *  bound       (a) reg_entries_hash over the protected addresses plus
 *              (b) one streaming BLAKE2b pass over all chunk payload
 *              bytes (one nc_hasher per thread over its share), each with
 *              the same thread count and the same hash code as end to end.
 *  baseline    the batch as full 32-byte hashes: qsort them, then hash
 *              each protected address (reg_address_hash) and binary-search
 *              it; one thread.
 *
 * With --lanes, chunks are hashed four at a time (reg_chunk_keys) and the
 * bound's pass over the bytes uses the same four-lane code over four
 * streams per thread, so the two stay comparable.
 *
 * The chunk records are decoded once before timing: that is what the DHT
 * hands the registry (dht_node_get verifies every record it returns). The
 * DHT's own per-record cost is printed separately.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nointrude/registry.h>

#include "bench.h"

#define NOW_S 1700000000ull
#define RUNS_LARGE 7      /* warm runs after one cold run, 1e7 entries */
#define RUNS_SMALL 21     /* 1e6 entries: quick rows vary more */
#define CHUNK_BLOCK 64    /* chunks per unit of shared work */
#define ADDR_BLOCK 4096   /* addresses per unit of shared work */
#define THREADS_MAX 16
#define SPIN_MAX 20000    /* flag checks before yielding (~20 us) */
#define IDLE_SPINS 2000   /* idle passes before yielding (~20 us) */
#define WAIT_MAX_NS 60000000000ull /* give a run up after a minute */
#define ADDR_MAX 48       /* bytes of a synthetic address + NUL */
#define MATCH_PARTS 4     /* parts of the entries per thread */

/* ---- The batch under test ------------------------------------------------ */

typedef struct world {
  size_t n;                 /* addresses in the batch */
  reg_batch *b;
  const uint8_t *mrec;      /* manifest record bytes */
  size_t mlen;
  size_t m;                 /* chunk records */
  const uint8_t **payload;  /* per chunk, as the DHT delivers it */
  size_t *plen;
  size_t chunk_bytes;       /* sum of plen */
  uint8_t *bytes;           /* --lanes: the payloads end to end */
  uint8_t (*full)[32];      /* baseline input: full hashes, address order */
  reg_types types;          /* proof-of-work bits 0, as the batch's */
  unsigned threads;
  int lanes;                /* four-lane chunk hashing, both sides */
} world;

/* The protected addresses of one row. */
typedef struct qset {
  size_t q;
  char (*addr)[ADDR_MAX];
  const char **ptr; /* ptr[k] = addr[k] */
  size_t *len;
} qset;

static size_t batch_address(char out[ADDR_MAX], size_t i) {
  return (size_t)snprintf(out, ADDR_MAX, "user%zu@example%zu.test", i,
                          i % 1000);
}

/* ---- Threads --------------------------------------------------------------- */

typedef struct slice {
  void *ctx;
  unsigned index, count;
} slice;

/* run_threads runs fn on |count| slices, slice 0 on the calling thread. */
static int run_threads(unsigned count, void *(*fn)(void *), void *ctx) {
  pthread_t tid[THREADS_MAX];
  slice s[THREADS_MAX];
  unsigned started = 1;
  for (unsigned t = 0; t < count; t++) s[t] = (slice){ctx, t, count};
  for (; started < count; started++)
    if (pthread_create(&tid[started], NULL, fn, &s[started]) != 0) break;
  fn(&s[0]);
  for (unsigned t = 1; t < started; t++) pthread_join(tid[t], NULL);
  return started == count ? 0 : -1;
}

static void span(const slice *s, size_t n, size_t *lo, size_t *hi) {
  *lo = n * s->index / s->count;
  *hi = n * (s->index + 1) / s->count;
}

/* cpu_ns returns the CPU time of the whole process (every thread), in
 * ns: unlike the wall clock it does not grow while another program has
 * the core, so the ratio of two such times shows what a quiet machine
 * would (spinning while waiting counts). */
static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Set-up ----------------------------------------------------------------- */

static void sodium_random(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

typedef struct full_job {
  world *w;
  const uint8_t *salt;
} full_job;

static void *full_hashes(void *arg) {
  slice *s = arg;
  full_job *j = s->ctx;
  char a[ADDR_MAX];
  size_t lo, hi;
  span(s, j->w->n, &lo, &hi);
  for (size_t i = lo; i < hi; i++)
    reg_address_hash(j->w->full[i], j->salt, a, batch_address(a, i));
  return NULL;
}

static int build_batch(world *w, const nc_identity *sender) {
  char(*store)[ADDR_MAX] = malloc(w->n * ADDR_MAX);
  const char **v = malloc(w->n * sizeof *v);
  uint64_t t0 = bench_now_ns();
  int rv = REG_ERR_NOMEM;
  if (store && v) {
    for (size_t i = 0; i < w->n; i++) {
      batch_address(store[i], i);
      v[i] = store[i];
    }
    rv = reg_batch_build(&w->b, v, w->n, sender, NOW_S, 7 * 86400, 0,
                         sodium_random, NULL);
  }
  free(v);
  free(store);
  if (rv == 0)
    fprintf(stderr, "  built a batch of %zu addresses in %.1f s\n", w->n,
            (double)(bench_now_ns() - t0) / 1e9);
  return rv;
}

/* extract_chunks decodes every chunk record once (the DHT's work). */
static int extract_chunks(world *w) {
  size_t records = reg_batch_record_count(w->b), at = 0;
  w->m = records - 2;
  w->payload = malloc(w->m * sizeof *w->payload);
  w->plen = malloc(w->m * sizeof *w->plen);
  if (!w->payload || !w->plen) return REG_ERR_NOMEM;
  w->mrec = reg_batch_record(w->b, 0, &w->mlen);
  for (size_t i = 0; i < w->m; i++) {
    dht_record r;
    size_t len;
    const uint8_t *p = reg_batch_record(w->b, i + 2, &len);
    int rv = dht_record_decode(&r, p, len);
    if (rv != 0) return rv;
    w->payload[i] = r.payload;
    w->plen[i] = r.payload_len;
    w->chunk_bytes += r.payload_len;
  }
  if (!w->lanes) return 0;
  w->bytes = malloc(w->chunk_bytes);
  if (!w->bytes) return REG_ERR_NOMEM;
  for (size_t i = 0; i < w->m; at += w->plen[i++])
    memcpy(w->bytes + at, w->payload[i], w->plen[i]);
  return 0;
}

static int world_setup(world *w, size_t n, unsigned threads, int lanes) {
  nc_identity sender;
  full_job job;
  int rv;
  memset(w, 0, sizeof *w);
  w->n = n;
  w->threads = threads;
  w->lanes = lanes;
  reg_types_init(&w->types, 0);
  if (nc_identity_generate(&sender, 0) != 0) return -1;
  rv = build_batch(w, &sender);
  nc_identity_wipe(&sender);
  if (rv == 0) rv = extract_chunks(w);
  if (rv != 0) return rv;
  w->full = malloc(n * sizeof *w->full);
  if (!w->full) return REG_ERR_NOMEM;
  job = (full_job){w, reg_batch_manifest(w->b)->salt};
  return run_threads(threads, full_hashes, &job);
}

static void world_free(world *w) {
  reg_batch_free(w->b);
  free(w->payload);
  free(w->plen);
  free(w->bytes);
  free(w->full);
}

/* qset_make: even k names a batch address (spread over the batch), odd k
 * one that is not in it. */
static int qset_make(qset *qs, size_t q, size_t n) {
  qs->q = q;
  qs->addr = malloc(q * sizeof *qs->addr);
  qs->len = malloc(q * sizeof *qs->len);
  qs->ptr = malloc(q * sizeof *qs->ptr);
  if (!qs->addr || !qs->len || !qs->ptr) return -1;
  for (size_t k = 0; k < q; k++) {
    qs->ptr[k] = qs->addr[k];
    if (k % 2 == 0)
      qs->len[k] = batch_address(qs->addr[k], (k * 2654435761u) % n);
    else
      qs->len[k] = (size_t)snprintf(qs->addr[k], ADDR_MAX,
                                    "nobody%zu@example.test", k);
  }
  return 0;
}

static void qset_free(qset *qs) {
  free(qs->ptr);
  free(qs->addr);
  free(qs->len);
}

/* ---- End to end ------------------------------------------------------------------ */

typedef struct e2e {
  const world *w;
  const qset *qs;
  reg_fetch *f;
  reg_queries *set;
  int many;                 /* sort the set and merge (else search) */
  uint8_t (*digest)[32];    /* per chunk */
  size_t chunk_blocks, addr_blocks;
  atomic_size_t next_chunk, next_addr, addr_done, next_part;
  atomic_size_t next_fit;   /* the next chunk block to fit (under fitting) */
  atomic_flag fitting;      /* held by the thread that fits */
  atomic_uchar *done;       /* per chunk block: hashed */
  atomic_int manifest_ready, hashed, sort_claimed, sorted, entries_ready;
  atomic_int error;
  const uint64_t *entries;
  size_t n_entries;
  uint32_t *hits[THREADS_MAX]; /* per thread, room for every query */
  size_t n_hits[THREADS_MAX];
  uint64_t t_manifest, t_ready, t_set; /* ns: manifest, entries, set */
  double sort_s;
} e2e;

typedef struct stages {
  double manifest, parallel, sort, match, total; /* seconds */
  double cpu;                                    /* CPU seconds */
  size_t hits;
} stages;

static void fail(e2e *c) { atomic_store(&c->error, 1); }

static int failed(e2e *c) { return atomic_load(&c->error) != 0; }

static void block_range(size_t b, size_t per, size_t n, size_t *lo,
                        size_t *hi) {
  *lo = b * per;
  *hi = *lo + per < n ? *lo + per : n;
}

static int hash_chunk_block(e2e *c) {
  size_t b = atomic_fetch_add(&c->next_chunk, 1), lo, hi;
  if (b >= c->chunk_blocks) return 0;
  block_range(b, CHUNK_BLOCK, c->w->m, &lo, &hi);
  if (c->w->lanes)
    reg_chunk_keys(c->digest + lo, c->w->payload + lo, c->w->plen + lo,
                   hi - lo);
  else
    for (size_t i = lo; i < hi; i++)
      reg_chunk_key(c->digest[i], c->w->payload[i], c->w->plen[i]);
  atomic_store_explicit(&c->done[b], 1, memory_order_release);
  return 1;
}

/* hash_addr_block claims the next block of addresses and hashes it into
 * the shared set (distinct ranges: no lock). */
static int hash_addr_block(e2e *c) {
  size_t b, lo, hi;
  if (!atomic_load_explicit(&c->manifest_ready, memory_order_acquire))
    return 0;
  b = atomic_fetch_add(&c->next_addr, 1);
  if (b >= c->addr_blocks) return 0;
  block_range(b, ADDR_BLOCK, c->qs->q, &lo, &hi);
  if (reg_queries_hash(c->set, lo, c->qs->ptr + lo, c->qs->len + lo,
                       hi - lo) != 0)
    fail(c);
  if (atomic_fetch_add_explicit(&c->addr_done, 1, memory_order_acq_rel) + 1 ==
      c->addr_blocks) {
    if (!c->many) c->t_set = bench_now_ns();
    atomic_store_explicit(&c->hashed, 1, memory_order_release);
  }
  return 1;
}

/* sort_set sorts the set once every block is hashed, on the first thread
 * that finds it so. */
static int sort_set(e2e *c) {
  uint64_t t0;
  int expected = 0;
  if (!c->many ||
      !atomic_load_explicit(&c->manifest_ready, memory_order_acquire) ||
      atomic_load_explicit(&c->addr_done, memory_order_acquire) <
          c->addr_blocks ||
      !atomic_compare_exchange_strong(&c->sort_claimed, &expected, 1))
    return 0;
  t0 = bench_now_ns();
  if (reg_queries_sort(c->set) != 0) fail(c);
  c->t_set = bench_now_ns();
  c->sort_s = (double)(c->t_set - t0) / 1e9;
  atomic_store_explicit(&c->sorted, 1, memory_order_release);
  return 1;
}

/* fit feeds chunk block |b| to the fetch, in tree order, with the
 * digests in |digest| (indexed from the block's first chunk). */
static void fit(e2e *c, size_t b, uint8_t (*digest)[32]) {
  size_t lo, hi;
  block_range(b, CHUNK_BLOCK, c->w->m, &lo, &hi);
  for (size_t i = lo; i < hi; i++)
    if (reg_fetch_add_digest(c->f, digest[i - lo], c->w->payload[i],
                             c->w->plen[i]) != 0)
      fail(c);
}

/* fit_own hashes block |b| itself and fits it: the thread that claimed
 * it may have lost its core (the machine may be shared), and waiting for
 * it could cost a whole time slice. That thread's digests go unused. */
static void fit_own(e2e *c, size_t b) {
  uint8_t digest[CHUNK_BLOCK][32];
  size_t lo, hi;
  block_range(b, CHUNK_BLOCK, c->w->m, &lo, &hi);
  if (c->w->lanes)
    reg_chunk_keys(digest, c->w->payload + lo, c->w->plen + lo, hi - lo);
  else
    for (size_t i = lo; i < hi; i++)
      reg_chunk_key(digest[i - lo], c->w->payload[i], c->w->plen[i]);
  fit(c, b, digest);
}

/* wait_until spins on |flag| for a few microseconds, then yields (giving
 * the core away at once could cost a whole time slice on a busy machine);
 * gives the run up after WAIT_MAX_NS. Only the end of a run waits: for
 * the entries, and for the sort. */
static void wait_until(e2e *c, atomic_int *flag) {
  uint64_t t0 = bench_now_ns();
  while (!failed(c)) {
    for (unsigned spin = 0; spin < SPIN_MAX; spin++)
      if (atomic_load_explicit(flag, memory_order_acquire)) return;
    sched_yield();
    if (bench_now_ns() - t0 > WAIT_MAX_NS) fail(c);
  }
}

static void verify_manifest(e2e *c) {
  dht_record r;
  int rv = dht_record_decode(&r, c->w->mrec, c->w->mlen);
  if (rv == 0) rv = dht_record_verify(&r, NOW_S, 0, c->w->types.t, REG_RECORD_TYPES);
  if (rv == 0) rv = reg_fetch_new(&c->f, &r, 0);
  if (rv == 0)
    rv = reg_queries_new(&c->set, reg_fetch_manifest(c->f)->salt, c->qs->q);
  c->t_manifest = bench_now_ns();
  if (rv != 0) fail(c);
  atomic_store_explicit(&c->manifest_ready, 1, memory_order_release);
}

/* publish makes the assembled entries visible to every thread. */
static void publish(e2e *c) {
  c->entries = reg_fetch_entries(c->f, &c->n_entries);
  if (!c->entries) fail(c);
  c->t_ready = bench_now_ns();
  atomic_store_explicit(&c->entries_ready, 1, memory_order_release);
}

/* try_fit fits every hashed block that is next in tree order, if no other
 * thread is fitting (reg_fetch takes one thread at a time; any thread may
 * be the one, so a thread that lost its core holds nothing up). With
 * |own|, a block that is not hashed yet is hashed here. The thread that
 * fits the last block publishes the entries. Returns 1 if it did work. */
static int try_fit(e2e *c, int own) {
  size_t next = atomic_load(&c->next_fit), start = next;
  if (next == c->chunk_blocks ||
      !atomic_load_explicit(&c->manifest_ready, memory_order_acquire) ||
      atomic_flag_test_and_set_explicit(&c->fitting, memory_order_acquire))
    return 0;
  next = atomic_load(&c->next_fit);
  while (next < c->chunk_blocks && !failed(c)) {
    if (atomic_load_explicit(&c->done[next], memory_order_acquire))
      fit(c, next, c->digest + next * CHUNK_BLOCK);
    else if (own && next == start)
      fit_own(c, next);
    else
      break;
    atomic_store(&c->next_fit, ++next);
  }
  if (next == c->chunk_blocks && !failed(c)) publish(c);
  atomic_flag_clear_explicit(&c->fitting, memory_order_release);
  return next != start;
}

/* work does one unit: fit what is ready, else hash addresses, sort, hash
 * chunks. */
static int work(e2e *c) {
  return try_fit(c, 0) || hash_addr_block(c) || sort_set(c) ||
         hash_chunk_block(c);
}

/* match_parts matches parts of the entries, claimed one at a time
 * (several per thread, so that a thread without a core holds up little),
 * appending to this thread's hits. */
static void match_parts(e2e *c, const slice *s) {
  size_t p, parts = (size_t)MATCH_PARTS * s->count;
  while ((p = atomic_fetch_add(&c->next_part, 1)) < parts) {
    size_t lo = c->n_entries * p / parts, hi = c->n_entries * (p + 1) / parts;
    c->n_hits[s->index] += reg_queries_match_part(
        c->set, c->entries, lo, hi, c->hits[s->index] + c->n_hits[s->index]);
  }
}

/* fitted: every chunk block is in (or the run failed). */
static int fitted(e2e *c) {
  return failed(c) || atomic_load(&c->next_fit) == c->chunk_blocks;
}

static void *e2e_thread(void *arg) {
  slice *s = arg;
  e2e *c = s->ctx;
  if (s->index == 0) verify_manifest(c);
  /* Bounded: each pass does a unit of work or fits a block itself, and
   * there are finitely many of both (a pass that finds nothing to do
   * while another thread fits yields). */
  for (unsigned idle = 0; !failed(c);) {
    if (work(c) || try_fit(c, 1)) {
      idle = 0;
      continue;
    }
    if (fitted(c) && atomic_load(&c->next_addr) >= c->addr_blocks) break;
    /* Another thread fits: spin a little before giving the core away. */
    if (++idle > IDLE_SPINS) {
      sched_yield();
      idle = 0;
    }
  }
  /* What is left is in other threads' hands: the last address block, the
   * sort, the last fits. */
  wait_until(c, &c->hashed);
  if (c->many) {
    while (!failed(c) && sort_set(c)) continue;
    wait_until(c, &c->sorted);
  }
  wait_until(c, &c->entries_ready);
  if (!failed(c)) match_parts(c, s);
  return NULL;
}

static int e2e_alloc(e2e *c, const world *w, const qset *qs) {
  int ok = 1;
  memset(c, 0, sizeof *c);
  c->w = w;
  c->qs = qs;
  /* Sorting pays from one query per 4096 entries; fewer are searched. */
  c->many = qs->q * 4096 >= w->n;
  for (unsigned t = 0; t < w->threads; t++) {
    c->hits[t] = malloc((qs->q ? qs->q : 1) * sizeof *c->hits[t]);
    ok &= c->hits[t] != NULL;
  }
  c->chunk_blocks = (w->m + CHUNK_BLOCK - 1) / CHUNK_BLOCK;
  c->addr_blocks = (qs->q + ADDR_BLOCK - 1) / ADDR_BLOCK;
  c->digest = malloc(w->m * sizeof *c->digest);
  c->done = calloc(c->chunk_blocks, sizeof *c->done);
  atomic_init(&c->next_chunk, 0);
  atomic_init(&c->next_addr, 0);
  atomic_init(&c->addr_done, 0);
  atomic_init(&c->next_part, 0);
  atomic_init(&c->next_fit, 0);
  atomic_flag_clear(&c->fitting);
  atomic_init(&c->manifest_ready, 0);
  atomic_init(&c->hashed, c->addr_blocks == 0);
  atomic_init(&c->sort_claimed, 0);
  atomic_init(&c->sorted, 0);
  atomic_init(&c->entries_ready, 0);
  atomic_init(&c->error, 0);
  for (size_t b = 0; c->done && b < c->chunk_blocks; b++)
    atomic_init(&c->done[b], 0);
  return ok && c->digest && c->done ? 0 : -1;
}

static void e2e_free(e2e *c) {
  reg_fetch_free(c->f);
  reg_queries_free(c->set);
  for (unsigned t = 0; t < THREADS_MAX; t++) free(c->hits[t]);
  free(c->digest);
  free(c->done);
}

/* check_hits: every hit must be an even-numbered query (those name batch
 * addresses; qset_make) and none may repeat across threads' parts. */
static int check_hits(const e2e *c, size_t *total) {
  *total = 0;
  for (unsigned t = 0; t < c->w->threads; t++) {
    for (size_t k = 0; k < c->n_hits[t]; k++)
      if (c->hits[t][k] % 2 != 0) return -1;
    *total += c->n_hits[t];
  }
  return 0;
}

static int run_e2e(const world *w, const qset *qs, stages *st) {
  uint64_t t0, t1;
  e2e c;
  int rv = e2e_alloc(&c, w, qs);
  uint64_t c0;
  memset(st, 0, sizeof *st);
  c0 = cpu_ns();
  t0 = bench_now_ns();
  if (rv == 0) rv = run_threads(w->threads, e2e_thread, &c);
  t1 = bench_now_ns();
  st->cpu = (double)(cpu_ns() - c0) / 1e9;
  if (rv == 0 && (failed(&c) || c.n_entries != w->n)) rv = -1;
  if (rv == 0) rv = check_hits(&c, &st->hits);
  if (rv == 0) {
    uint64_t both = c.t_ready > c.t_set ? c.t_ready : c.t_set;
    st->manifest = (double)(c.t_manifest - t0) / 1e9;
    st->parallel = (double)(both - c.t_manifest) / 1e9;
    st->sort = c.sort_s;
    st->match = (double)(t1 - both) / 1e9;
    st->total = (double)(t1 - t0) / 1e9;
  }
  e2e_free(&c);
  return rv;
}

/* ---- Bound --------------------------------------------------------------------- */

typedef struct bound_job {
  const world *w;
  const qset *qs;
  const uint8_t *salt;
  uint64_t *q;
  uint8_t sink[THREADS_MAX][4][32];
} bound_job;

static void *bound_addresses(void *arg) {
  slice *s = arg;
  bound_job *j = s->ctx;
  size_t lo, hi;
  span(s, j->qs->q, &lo, &hi);
  if (hi > lo)
    reg_entries_hash(j->q + lo, j->salt, j->qs->ptr + lo, j->qs->len + lo,
                     hi - lo);
  return NULL;
}

/* One streaming hash per thread over its share of the chunk payloads;
 * with --lanes, four streams over its share of the bytes, side by side in
 * the vector lanes (the same code as reg_chunk_keys). */
static void *bound_stream(void *arg) {
  slice *s = arg;
  bound_job *j = s->ctx;
  nc_hasher h;
  size_t lo, hi;
  if (j->w->lanes) {
    const uint8_t *p[4];
    size_t len[4];
    span(s, j->w->chunk_bytes, &lo, &hi);
    for (int k = 0; k < 4; k++) {
      p[k] = j->w->bytes + lo + (hi - lo) * (size_t)k / 4;
      len[k] = (hi - lo) * (size_t)(k + 1) / 4 - (hi - lo) * (size_t)k / 4;
    }
    reg_chunk_keys(j->sink[s->index], p, len, 4);
    return NULL;
  }
  span(s, j->w->m, &lo, &hi);
  nc_hasher_init(&h, NULL, 0, 32);
  for (size_t i = lo; i < hi; i++)
    nc_hasher_update(&h, j->w->payload[i], j->w->plen[i]);
  nc_hasher_final(&h, j->sink[s->index][0], 32);
  return NULL;
}

/* timed returns the wall seconds of fn on |threads|; adds its CPU
 * seconds to *cpu. */
static double timed(unsigned threads, void *(*fn)(void *), void *job,
                    double *cpu) {
  uint64_t c0 = cpu_ns(), t0 = bench_now_ns();
  run_threads(threads, fn, job);
  t0 = bench_now_ns() - t0;
  *cpu += (double)(cpu_ns() - c0) / 1e9;
  return (double)t0 / 1e9;
}

static int runs_for(const world *w) {
  return w->n >= 10000000 ? RUNS_LARGE : RUNS_SMALL;
}

/* run_bound measures the bound once: (a) and (b) separately. */
static int run_bound(const world *w, const qset *qs, double *addr_s,
                     double *stream_s, double *cpu) {
  bound_job j = {w, qs, reg_batch_manifest(w->b)->salt, NULL, {{{0}}}};
  j.q = malloc(qs->q * sizeof *j.q);
  if (!j.q) return -1;
  *cpu = 0;
  *addr_s = timed(w->threads, bound_addresses, &j, cpu);
  *stream_s = timed(w->threads, bound_stream, &j, cpu);
  free(j.q);
  return 0;
}

/* ---- Baseline ------------------------------------------------------------------ */

static int cmp_full(const void *a, const void *b) { return memcmp(a, b, 32); }

/* run_baseline returns the total seconds; *sort_s gets the qsort's. */
static double run_baseline(const world *w, const qset *qs, size_t *hits,
                           double *sort_s) {
  uint8_t(*copy)[32] = malloc(w->n * 32), full[32];
  const uint8_t *salt = reg_batch_manifest(w->b)->salt;
  uint64_t t0, t1;
  *hits = 0;
  *sort_s = 0;
  if (!copy) return -1;
  memcpy(copy, w->full, w->n * 32);
  t0 = bench_now_ns();
  qsort(copy, w->n, 32, cmp_full);
  t1 = bench_now_ns();
  for (size_t k = 0; k < qs->q; k++) {
    reg_address_hash(full, salt, qs->addr[k], qs->len[k]);
    *hits += bsearch(full, copy, w->n, 32, cmp_full) != NULL;
  }
  *sort_s = (double)(t1 - t0) / 1e9;
  t0 = bench_now_ns() - t0;
  free(copy);
  return (double)t0 / 1e9;
}

/* ---- The DHT's share, for reference --------------------------------------------- */

static void dht_cost(const world *w, double *decode_us, double *verify_us) {
  size_t n = w->m < 2000 ? w->m : 2000;
  uint64_t t0 = bench_now_ns(), t1;
  dht_record r;
  for (size_t i = 0; i < n; i++) {
    size_t len;
    const uint8_t *p = reg_batch_record(w->b, i + 2, &len);
    (void)dht_record_decode(&r, p, len);
  }
  t1 = bench_now_ns();
  for (size_t i = 0; i < n; i++) {
    size_t len;
    const uint8_t *p = reg_batch_record(w->b, i + 2, &len);
    if (dht_record_decode(&r, p, len) == 0)
      (void)dht_record_verify(&r, NOW_S, 0, w->types.t, REG_RECORD_TYPES);
  }
  *decode_us = (double)(t1 - t0) / 1e3 / (double)n;
  *verify_us = (double)(bench_now_ns() - t1) / 1e3 / (double)n -
               *decode_us;
}

/* ---- Driver ------------------------------------------------------------------- */

#define SAMPLES_MAX (RUNS_SMALL + 1)
_Static_assert(RUNS_LARGE <= RUNS_SMALL, "samples are sized for RUNS_SMALL");

typedef struct row {
  size_t n, q;
  stages best;   /* best warm run */
  double cold_s; /* the first run: fresh pages for the entries */
  double addr_s, stream_s, base_s, base_sort_s;
  double e2e_med, bound_med; /* medians of the warm runs */
  double cpu_ratio;          /* median e2e CPU / median bound CPU */
} row;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* measure alternates end to end and bound runs, so that both see the same
 * machine (it may be shared), and keeps the best and the median of each.
 * Run 0 is the cold run. */
static int measure(const world *w, const qset *qs, row *out) {
  double e2e_s[SAMPLES_MAX], bound_s[SAMPLES_MAX];
  double e2e_cpu[SAMPLES_MAX], bound_cpu[SAMPLES_MAX];
  int runs = runs_for(w), rv = 0;
  for (int r = 0; rv == 0 && r <= runs; r++) {
    stages st;
    double a, b;
    rv = run_e2e(w, qs, &st);
    if (rv == 0 && r == 0) out->cold_s = st.total;
    if (rv == 0 && r > 0 && st.total < out->best.total) out->best = st;
    if (rv == 0 && r > 0) e2e_s[r - 1] = st.total, e2e_cpu[r - 1] = st.cpu;
    if (rv == 0) rv = run_bound(w, qs, &a, &b, &bound_cpu[r]);
    if (rv == 0 && a < out->addr_s) out->addr_s = a;
    if (rv == 0 && b < out->stream_s) out->stream_s = b;
    if (rv == 0) bound_s[r] = a + b;
  }
  if (rv == 0) {
    out->e2e_med = median(e2e_s, runs);
    out->bound_med = median(bound_s, runs + 1);
    out->cpu_ratio = median(e2e_cpu, runs) / median(bound_cpu, runs + 1);
  }
  return rv;
}

static int run_row(const world *w, size_t q, row *out) {
  qset qs;
  size_t base_hits;
  int rv = qset_make(&qs, q, w->n);
  memset(out, 0, sizeof *out);
  out->n = w->n;
  out->q = q;
  out->best.total = out->addr_s = out->stream_s = 1e9;
  if (rv == 0) rv = measure(w, &qs, out);
  if (rv == 0)
    out->base_s = run_baseline(w, &qs, &base_hits, &out->base_sort_s);
  if (rv == 0 && base_hits != out->best.hits) {
    fprintf(stderr, "match: %zu hits, baseline %zu\n", out->best.hits,
            base_hits);
    rv = -1;
  }
  qset_free(&qs);
  return rv;
}

static void print_row(const row *r) {
  double bound = r->addr_s + r->stream_s;
  printf("%9zu %9zu %8.1f %8.1f %10.3g %8.1f %7.1f %6.2fx %6.2fx %6.2fx "
         "%6.2fx %9.1f %7.1fx\n",
         r->n, r->q, r->best.total * 1e3, r->cold_s * 1e3,
         (double)r->n / r->best.total, bound * 1e3, r->addr_s * 1e3,
         r->best.total / bound, r->e2e_med / r->bound_med, r->cpu_ratio,
         r->cold_s / bound, r->base_s * 1e3, r->base_s / r->best.total);
}

static void print_stages(const row *r) {
  printf("%9zu %9zu %9.2f %9.2f %9.2f %9.2f %9zu %10.1f %10.1f\n", r->n, r->q,
         r->best.manifest * 1e3, r->best.parallel * 1e3, r->best.sort * 1e3,
         r->best.match * 1e3, r->best.hits, r->base_sort_s * 1e3,
         (r->base_s - r->base_sort_s) * 1e3);
}

static void print_machine(unsigned threads, int lanes) {
  char line[256], model[256] = "unknown";
  double load[3] = {0, 0, 0};
  FILE *fp = fopen("/proc/cpuinfo", "r");
  while (fp && fgets(line, sizeof line, fp)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      snprintf(model, sizeof model, "%s", colon + 2);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  }
  if (fp) fclose(fp);
  fp = fopen("/proc/loadavg", "r");
  if (fp && fscanf(fp, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
    load[0] = -1;
  if (fp) fclose(fp);
  printf("machine: %ld online CPUs, %s; %u threads; chunk hashing: %s; "
         "load %.2f %.2f %.2f\n",
         sysconf(_SC_NPROCESSORS_ONLN), model, threads,
         lanes ? "four lanes (reg_chunk_keys)" : "libsodium (reg_chunk_key)",
         load[0], load[1], load[2]);
}

static int parse_args(int argc, char **argv, int *quick, unsigned *threads,
                      int *lanes) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  *quick = *lanes = 0;
  *threads = online < 1 ? 1 : online > THREADS_MAX ? THREADS_MAX
                                                   : (unsigned)online;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      *quick = 1;
    } else if (strcmp(argv[i], "--lanes") == 0) {
      *lanes = 1;
    } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      long t = strtol(argv[++i], NULL, 10);
      if (t < 1 || t > THREADS_MAX) return -1;
      *threads = (unsigned)t;
    } else {
      return -1;
    }
  }
  return 0;
}

/* run_size builds the batch of |n| and runs its three rows. */
static int run_size(size_t n, unsigned threads, int lanes, row *rows) {
  static const size_t queries[] = {10, 10000, 1000000};
  double dec_us, ver_us;
  world w;
  int rv = world_setup(&w, n, threads, lanes);
  if (rv != 0) fprintf(stderr, "match: cannot build the batch of %zu\n", n);
  if (rv == 0) {
    dht_cost(&w, &dec_us, &ver_us);
    fprintf(stderr,
            "  %zu chunks, %.1f MB of payload; the DHT's own cost per chunk "
            "record: decode %.2f us, verify %.1f us\n",
            w.m, (double)w.chunk_bytes / 1e6, dec_us, ver_us);
  }
  for (size_t k = 0; rv == 0 && k < 3; k++) {
    rv = run_row(&w, queries[k], &rows[k]);
    if (rv != 0)
      fprintf(stderr, "match: run failed (%zu x %zu)\n", n, queries[k]);
  }
  world_free(&w);
  return rv;
}

static void print_tables(const row *rows, size_t n_rows) {
  printf("%9s %9s %8s %8s %10s %8s %7s %7s %7s %7s %7s %9s %8s\n",
         "entries", "protected", "e2e ms", "cold ms", "entries/s", "bound ms",
         "(addr)", "ratio", "median", "cpu", "cold", "base ms", "speed-up");
  for (size_t i = 0; i < n_rows; i++) print_row(&rows[i]);
  printf("\nratio: best e2e / best bound; median: median e2e / median bound "
         "over the same runs;\ncpu: the same with CPU time (all threads) "
         "instead of wall time\n");
  printf("\nwhere the best end-to-end run's time goes (ms): \"manifest\" "
         "verifies it (other\nthreads already hash chunks); \"parallel\" "
         "hashes chunks and addresses on\nevery thread, fits chunks into the "
         "tree and sorts the set (\"(sort)\", on\none thread, included), "
         "until both the entries and the set are ready;\n\"match\" matches "
         "the set against the entries, parts claimed by every thread\n");
  printf("%9s %9s %9s %9s %9s %9s %9s %10s %10s\n", "entries", "protected",
         "manifest", "parallel", "(sort)", "match", "hits", "base qsort",
         "base look");
  for (size_t i = 0; i < n_rows; i++) print_stages(&rows[i]);
}

int bench_match(int argc, char **argv) {
  static const size_t sizes[] = {1000000, 10000000};
  row rows[6];
  size_t n_sizes;
  int quick, lanes;
  unsigned threads;
  if (parse_args(argc, argv, &quick, &threads, &lanes) != 0) {
    fprintf(stderr, "usage: nointrude-bench match [--quick] [--threads N] "
                    "[--lanes]\n");
    return 2;
  }
  if (nc_init() != 0) return 1;
#ifdef __GLIBC__
  /* Keep freed memory mapped, as a long-running node's heap is after its
   * first batch: warm runs then reuse pages instead of faulting fresh
   * ones. The first (cold) run of every row is reported too. */
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
  print_machine(threads, lanes);
  n_sizes = quick ? 1 : 2;
  for (size_t s = 0; s < n_sizes; s++)
    if (run_size(sizes[s], threads, lanes, rows + 3 * s) != 0) return 1;
  print_tables(rows, 3 * n_sizes);
  return 0;
}
