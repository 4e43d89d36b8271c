/*
 * Shared helpers of the registry format tests: fixed identities at
 * difficulty 0, a deterministic random source, synthetic addresses, and a
 * batch file writer independent of reg_batch_file_encode (so tests can
 * assemble tampered files record by record).
 */
#ifndef NOINTRUDE_REGISTRY_TESTUTIL_H
#define NOINTRUDE_REGISTRY_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/registry.h>

#define T_NOW 1700000000ull /* Unix seconds */
#define T_TTL (7 * 86400ull)

/* t_identity derives a fixed identity (difficulty 0) from |fill|. */
static inline void t_identity(nc_identity *id, uint8_t fill) {
  uint8_t seed[NC_SEED_LEN];
  memset(seed, fill, sizeof seed);
  assert_int_equal(nc_identity_from_seed(id, seed, 0, 0, 1), 0);
}

/* A splitmix64 generator: deterministic test randomness. */
typedef struct t_rng {
  uint64_t s;
} t_rng;

static inline uint64_t t_next(t_rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline void t_random(void *user, uint8_t *buf, size_t len) {
  t_rng *r = user;
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)t_next(r);
}

/* Synthetic addresses "user<i>@example<i % 97>.test". */
typedef struct t_addrs {
  char **v;
  size_t n;
} t_addrs;

static inline void t_addrs_make(t_addrs *a, size_t first, size_t n) {
  a->v = malloc(n * sizeof *a->v);
  assert_non_null(a->v);
  a->n = n;
  for (size_t i = 0; i < n; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "user%zu@example%zu.test", first + i,
             (first + i) % 97);
    a->v[i] = strdup(buf);
    assert_non_null(a->v[i]);
  }
}

static inline void t_addrs_free(t_addrs *a) {
  for (size_t i = 0; i < a->n; i++) free(a->v[i]);
  free(a->v);
}

/* t_build builds a batch of addresses first..first+n-1. */
static inline reg_batch *t_build(const nc_identity *sender, size_t first,
                                 size_t n, unsigned pow_base, uint64_t seed) {
  t_addrs a;
  t_rng rng = {seed};
  reg_batch *b = NULL;
  t_addrs_make(&a, first, n);
  assert_int_equal(reg_batch_build(&b, (const char *const *)a.v, n, sender,
                                   T_NOW, T_TTL, pow_base, t_random, &rng),
                   0);
  t_addrs_free(&a);
  assert_non_null(b);
  return b;
}

/* A list of records to write as a batch file. */
typedef struct t_recs {
  uint8_t **rec;
  size_t *len;
  size_t n;
} t_recs;

static inline void t_recs_from(t_recs *r, const reg_batch *b) {
  r->n = reg_batch_record_count(b);
  r->rec = calloc(r->n, sizeof *r->rec);
  r->len = calloc(r->n, sizeof *r->len);
  assert_true(r->rec && r->len);
  for (size_t i = 0; i < r->n; i++) {
    const uint8_t *p = reg_batch_record(b, i, &r->len[i]);
    assert_non_null(p);
    r->rec[i] = malloc(r->len[i]);
    assert_non_null(r->rec[i]);
    memcpy(r->rec[i], p, r->len[i]);
  }
}

static inline void t_recs_set(t_recs *r, size_t i, const uint8_t *p,
                              size_t len) {
  free(r->rec[i]);
  r->rec[i] = malloc(len);
  assert_non_null(r->rec[i]);
  memcpy(r->rec[i], p, len);
  r->len[i] = len;
}

static inline void t_recs_free(t_recs *r) {
  for (size_t i = 0; i < r->n; i++) free(r->rec[i]);
  free(r->rec);
  free(r->len);
}

/* t_file writes "NIBATCH1", le32 count, then le32 length + bytes per
 * record, for the first |n| records. */
static inline uint8_t *t_file(const t_recs *r, size_t n, size_t *len) {
  size_t total = 12, pos = 12;
  uint8_t *p;
  for (size_t i = 0; i < n; i++) total += 4 + r->len[i];
  p = malloc(total);
  assert_non_null(p);
  memcpy(p, "NIBATCH1", 8);
  for (int k = 0; k < 4; k++) p[8 + k] = (uint8_t)(n >> (8 * k));
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < 4; k++) p[pos + k] = (uint8_t)(r->len[i] >> (8 * k));
    memcpy(p + pos + 4, r->rec[i], r->len[i]);
    pos += 4 + r->len[i];
  }
  *len = total;
  return p;
}

/* t_decode_file decodes with the test defaults (difficulty 0, base 0). */
static inline int t_decode(const uint8_t *buf, size_t len) {
  reg_batch *b = NULL;
  int rv = reg_batch_file_decode(&b, buf, len, 0, 0, T_NOW + 60);
  if (rv == 0) assert_non_null(b);
  else assert_null(b);
  reg_batch_free(b);
  return rv;
}

#endif /* NOINTRUDE_REGISTRY_TESTUTIL_H */
