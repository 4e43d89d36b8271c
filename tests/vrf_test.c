/*
 * ECVRF-EDWARDS25519-SHA512-TAI tests. The RFC 9381 Appendix B.3 vectors are
 * parsed at run time from tests/vectors/ (path in NI_VRF_VECTORS); for every
 * example prove must give exactly pi, verify must accept with exactly beta,
 * proof_to_hash must give beta, encode_to_curve must give H and ctr, and a
 * flipped bit in pi or alpha, or another key, must be rejected. Further
 * tests build hostile proofs and keys (small-order and torsion points,
 * s >= L, encodings RFC 8032 refuses) and round-trip random keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/crypto.h>

#include "vrf_internal.h"

#ifndef NI_VRF_VECTORS
#error "NI_VRF_VECTORS must name the RFC 9381 vector file"
#endif

#define MAX_EXAMPLES 16
#define MAX_ALPHA 256
#define LINE_CAP 1024 /* longest accepted line, bytes */
#define PT 32

static const char suite_name[] = "ECVRF-EDWARDS25519-SHA512-TAI";

/* The group order L, little-endian. */
static const uint8_t order_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
static const uint8_t identity[PT] = {1};

/* ---- Vector file ------------------------------------------------------- */

enum {
  F_SK = 1 << 0, F_PK = 1 << 1, F_ALPHA = 1 << 2, F_ALPHA_LEN = 1 << 3,
  F_CTR = 1 << 4, F_H = 1 << 5, F_PI = 1 << 6, F_BETA = 1 << 7,
  F_SUITE = 1 << 8,
  F_REQUIRED = (1 << 9) - 1
};

typedef struct example {
  unsigned number, fields, ctr;
  uint8_t sk[NC_SEED_LEN], pk[NC_PK_LEN], h[PT];
  uint8_t pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  uint8_t alpha[MAX_ALPHA];
  size_t alpha_len, alpha_len_field;
} example;

typedef struct vectors {
  example ex[MAX_EXAMPLES];
  size_t count;
} vectors;

/* Fixed-length hex fields: name, flag, offset in |example|, bytes. */
typedef struct hex_field {
  const char *key;
  unsigned flag;
  size_t offset, len;
} hex_field;

static const hex_field hex_fields[] = {
    {"SK", F_SK, offsetof(example, sk), NC_SEED_LEN},
    {"PK", F_PK, offsetof(example, pk), NC_PK_LEN},
    {"H", F_H, offsetof(example, h), PT},
    {"pi", F_PI, offsetof(example, pi), NC_VRF_PROOF_LEN},
    {"beta", F_BETA, offsetof(example, beta), NC_VRF_OUTPUT_LEN},
};

/* Intermediate values we cannot observe through the API: length-checked
 * hex, otherwise ignored. */
static const struct {
  const char *key;
  size_t len;
} ignored_fields[] = {{"x", 32}, {"k_string", 64}, {"k", 32},
                      {"U", 32}, {"V", 32}};

static int fail_parse(unsigned lineno, const char *why) {
  print_error("%s:%u: %s\n", NI_VRF_VECTORS, lineno, why);
  return -1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out) {
  char *end;
  unsigned long v;
  if (*s < '0' || *s > '9') return -1;
  v = strtoul(s, &end, 10);
  if (*end != '\0' || v > max) return -1;
  *out = (unsigned)v;
  return 0;
}

static int parse_hex_any(const char *key, const char *val, example *e) {
  uint8_t scratch[64];
  for (size_t i = 0; i < sizeof hex_fields / sizeof hex_fields[0]; i++) {
    const hex_field *f = &hex_fields[i];
    if (strcmp(key, f->key) != 0) continue;
    e->fields |= f->flag;
    return nc_hex_decode((uint8_t *)e + f->offset, f->len, val);
  }
  for (size_t i = 0; i < sizeof ignored_fields / sizeof ignored_fields[0];
       i++) {
    if (strcmp(key, ignored_fields[i].key) == 0)
      return nc_hex_decode(scratch, ignored_fields[i].len, val);
  }
  return 1; /* unknown key */
}

static int parse_field(example *e, const char *key, const char *val) {
  unsigned n;
  if (strcmp(key, "suite") == 0) {
    e->fields |= F_SUITE;
    return strcmp(val, suite_name) == 0 ? 0 : -1;
  }
  if (strcmp(key, "alpha") == 0) {
    size_t hex_len = strlen(val);
    e->fields |= F_ALPHA;
    if (hex_len % 2 || hex_len / 2 > MAX_ALPHA) return -1;
    e->alpha_len = hex_len / 2;
    return nc_hex_decode(e->alpha, e->alpha_len, val);
  }
  if (strcmp(key, "alpha_len") == 0) {
    e->fields |= F_ALPHA_LEN;
    if (parse_uint(val, MAX_ALPHA, &n) != 0) return -1;
    e->alpha_len_field = n;
    return 0;
  }
  if (strcmp(key, "ctr") == 0) {
    e->fields |= F_CTR;
    return parse_uint(val, 255, &e->ctr);
  }
  return parse_hex_any(key, val, e);
}

/* finish_example checks that the example now closing is complete. */
static int finish_example(vectors *v, unsigned lineno) {
  example *e;
  if (v->count == 0) return 0;
  e = &v->ex[v->count - 1];
  if ((e->fields & F_REQUIRED) != F_REQUIRED)
    return fail_parse(lineno, "example is missing fields");
  if (e->alpha_len != e->alpha_len_field)
    return fail_parse(lineno, "alpha_len does not match alpha");
  return 0;
}

static int parse_line(vectors *v, char *line, unsigned lineno) {
  char *colon = strchr(line, ':'), *val;
  unsigned n;
  int rv;
  if (line[0] == '#' || line[0] == '\0') return 0;
  if (!colon) return fail_parse(lineno, "expected 'key: value'");
  *colon = '\0';
  for (val = colon + 1; *val == ' '; val++) {}
  if (strcmp(line, "example") == 0) {
    if (finish_example(v, lineno) != 0) return -1;
    if (v->count == MAX_EXAMPLES) return fail_parse(lineno, "too many");
    if (parse_uint(val, 1000, &n) != 0) return fail_parse(lineno, "number");
    memset(&v->ex[v->count], 0, sizeof v->ex[0]);
    v->ex[v->count++].number = n;
    return 0;
  }
  if (v->count == 0) return fail_parse(lineno, "field before 'example:'");
  rv = parse_field(&v->ex[v->count - 1], line, val);
  if (rv > 0) return fail_parse(lineno, "unknown key");
  return rv == 0 ? 0 : fail_parse(lineno, "bad value");
}

/* strip_eol removes the line end; returns -1 if the line did not fit. */
static int strip_eol(char *line, FILE *f) {
  size_t len = strlen(line);
  if (len == 0 || line[len - 1] != '\n') {
    if (!feof(f)) return -1;
  } else {
    line[--len] = '\0';
  }
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
    line[--len] = '\0';
  return 0;
}

static int load_vectors(vectors *v) {
  char line[LINE_CAP];
  unsigned lineno = 0;
  int rv = 0;
  FILE *f = fopen(NI_VRF_VECTORS, "r");
  if (!f) return fail_parse(0, "cannot open the vector file");
  while (rv == 0 && fgets(line, sizeof line, f)) {
    if (++lineno > 10000 || strip_eol(line, f) != 0)
      rv = fail_parse(lineno, "line too long or file too large");
    else
      rv = parse_line(v, line, lineno);
  }
  if (rv == 0 && ferror(f)) rv = fail_parse(lineno, "read error");
  fclose(f);
  if (rv == 0) rv = finish_example(v, lineno);
  if (rv == 0 && v->count == 0) rv = fail_parse(lineno, "zero examples");
  return rv;
}

static int group_setup(void **state) {
  vectors *v = calloc(1, sizeof *v);
  if (!v || nc_init() != 0 || load_vectors(v) != 0) {
    free(v);
    return -1;
  }
  *state = v;
  return 0;
}

static int group_teardown(void **state) {
  free(*state);
  return 0;
}

/* ---- Point helpers (test side, built on crypto_core_ed25519_add) ------- */

/* mul_any computes n*P by double-and-add for any point on the curve,
 * including points outside the prime-order subgroup. */
static void mul_any(uint8_t out[PT], const uint8_t n[32], const uint8_t p[PT]) {
  uint8_t acc[PT];
  memcpy(acc, identity, PT);
  for (int bit = 255; bit >= 0; bit--) {
    assert_int_equal(crypto_core_ed25519_add(acc, acc, acc), 0);
    if ((n[bit / 8] >> (bit % 8)) & 1)
      assert_int_equal(crypto_core_ed25519_add(acc, acc, p), 0);
  }
  memcpy(out, acc, PT);
}

static int on_curve(const uint8_t p[PT]) {
  uint8_t tmp[PT];
  return crypto_core_ed25519_add(tmp, p, identity) == 0;
}

/* candidate writes 32 hash bytes derived from |tag| and |i|. */
static void candidate(uint8_t out[PT], const char *tag, unsigned i) {
  uint8_t digest[crypto_hash_sha512_BYTES];
  uint8_t in[64];
  size_t n = strlen(tag);
  assert_true(n + 1 <= sizeof in);
  memcpy(in, tag, n);
  in[n] = (uint8_t)i;
  crypto_hash_sha512(digest, in, n + 1);
  memcpy(out, digest, PT);
}

/* torsion8 finds a point of order exactly 8 as L*Q for curve points Q. */
static void torsion8(uint8_t t[PT]) {
  uint8_t q[PT], t4[PT];
  for (unsigned i = 0; i < 128; i++) {
    candidate(q, "torsion", i);
    if (!on_curve(q)) continue;
    mul_any(t, order_l, q);
    assert_int_equal(crypto_core_ed25519_add(t4, t, t), 0);
    assert_int_equal(crypto_core_ed25519_add(t4, t4, t4), 0);
    if (memcmp(t4, identity, PT) == 0) continue; /* order < 8 */
    assert_int_equal(crypto_core_ed25519_add(t4, t4, t4), 0);
    assert_memory_equal(t4, identity, PT); /* 8T = 0: T is torsion */
    return;
  }
  fail_msg("no order-8 point found in 128 candidates");
}

/* off_curve finds 32 bytes with canonical y that decode to no point. */
static void off_curve(uint8_t p[PT]) {
  for (unsigned i = 0; i < 128; i++) {
    candidate(p, "off-curve", i);
    p[31] &= 0x3f; /* y well below p: canonical */
    if (!on_curve(p)) return;
  }
  fail_msg("no off-curve encoding found in 128 candidates");
}

static void assert_zero(const uint8_t *p, size_t len) {
  assert_true(sodium_is_zero(p, len));
}

/* expect_reject checks that verify fails with |want| and clears beta. */
static void expect_reject(const uint8_t pk[NC_PK_LEN],
                          const uint8_t pi[NC_VRF_PROOF_LEN],
                          const uint8_t *alpha, size_t alpha_len, int want) {
  uint8_t beta[NC_VRF_OUTPUT_LEN];
  memset(beta, 0xaa, sizeof beta);
  assert_int_equal(nc_vrf_verify(beta, pk, pi, alpha, alpha_len), want);
  assert_zero(beta, sizeof beta);
}

/* ---- RFC 9381 vectors -------------------------------------------------- */

static void test_vectors_loaded(void **state) {
  const vectors *v = *state;
  assert_true(v->count >= 1);
  for (size_t i = 0; i < v->count; i++)
    assert_int_equal(v->ex[i].fields & F_REQUIRED, F_REQUIRED);
}

static void test_vectors_keys(void **state) {
  const vectors *v = *state;
  uint8_t pk[NC_PK_LEN], sk[NC_SK_LEN];
  for (size_t i = 0; i < v->count; i++) {
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, v->ex[i].sk), 0);
    assert_memory_equal(pk, v->ex[i].pk, NC_PK_LEN);
  }
}

static void test_vectors_encode_to_curve(void **state) {
  const vectors *v = *state;
  uint8_t h[PT];
  unsigned ctr;
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    assert_int_equal(
        nc_vrf_encode_to_curve(h, &ctr, e->pk, e->alpha, e->alpha_len), 0);
    assert_memory_equal(h, e->h, PT);
    assert_int_equal(ctr, e->ctr);
  }
}

static void test_vectors_prove(void **state) {
  const vectors *v = *state;
  uint8_t pi[NC_VRF_PROOF_LEN];
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    assert_int_equal(nc_vrf_prove(pi, e->sk, e->alpha, e->alpha_len), 0);
    assert_memory_equal(pi, e->pi, NC_VRF_PROOF_LEN);
  }
}

static void test_vectors_verify(void **state) {
  const vectors *v = *state;
  uint8_t beta[NC_VRF_OUTPUT_LEN];
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    assert_int_equal(nc_vrf_verify(beta, e->pk, e->pi, e->alpha, e->alpha_len),
                     0);
    assert_memory_equal(beta, e->beta, NC_VRF_OUTPUT_LEN);
    memset(beta, 0, sizeof beta);
    assert_int_equal(nc_vrf_proof_to_hash(beta, e->pi), 0);
    assert_memory_equal(beta, e->beta, NC_VRF_OUTPUT_LEN);
  }
}

static void test_vectors_pi_bitflip(void **state) {
  const vectors *v = *state;
  uint8_t pi[NC_VRF_PROOF_LEN];
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    for (unsigned bit = 0; bit < 8 * NC_VRF_PROOF_LEN; bit++) {
      memcpy(pi, e->pi, sizeof pi);
      pi[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
    }
  }
}

static void test_vectors_alpha_changed(void **state) {
  const vectors *v = *state;
  uint8_t alpha[MAX_ALPHA + 1];
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    for (unsigned bit = 0; bit < 8 * e->alpha_len; bit++) {
      memcpy(alpha, e->alpha, e->alpha_len);
      alpha[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      expect_reject(e->pk, e->pi, alpha, e->alpha_len, NC_ERR_VERIFY);
    }
    /* One byte longer (covers the empty alpha) and, if any, one shorter. */
    memcpy(alpha, e->alpha, e->alpha_len);
    alpha[e->alpha_len] = 0;
    expect_reject(e->pk, e->pi, alpha, e->alpha_len + 1, NC_ERR_VERIFY);
    if (e->alpha_len > 0)
      expect_reject(e->pk, e->pi, alpha, e->alpha_len - 1, NC_ERR_VERIFY);
  }
}

static void test_vectors_other_pk(void **state) {
  const vectors *v = *state;
  uint8_t pk[NC_PK_LEN], sk[NC_SK_LEN];
  for (size_t i = 0; i < v->count; i++) {
    const example *e = &v->ex[i];
    for (size_t j = 0; j < v->count; j++)
      if (j != i)
        expect_reject(v->ex[j].pk, e->pi, e->alpha, e->alpha_len,
                      NC_ERR_VERIFY);
    crypto_sign_keypair(pk, sk);
    expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
    /* -Y: a valid key of the prime-order subgroup, not the prover's. */
    memcpy(pk, e->pk, sizeof pk);
    pk[31] ^= 0x80;
    assert_true(crypto_core_ed25519_is_valid_point(pk));
    expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
  }
}

/* ---- Hostile keys and proofs ------------------------------------------- */

static void test_bad_keys(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t t8[PT], pk[NC_PK_LEN];
  uint8_t minus_one[PT]; /* y = p - 1: the order-2 point */
  memset(minus_one, 0xff, PT);
  minus_one[0] = 0xec;
  minus_one[31] = 0x7f;
  torsion8(t8);
  expect_reject(identity, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  expect_reject(minus_one, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  expect_reject(t8, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  memset(pk, 0, sizeof pk); /* y = 0: order 4 */
  expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  off_curve(pk);
  expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  /* Y + T: on the curve, not small order, outside the subgroup. */
  assert_int_equal(crypto_core_ed25519_add(pk, e->pk, t8), 0);
  expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
  /* y = p, a non-canonical encoding of y = 0. */
  memset(pk, 0xff, sizeof pk);
  pk[0] = 0xed;
  pk[31] = 0x7f;
  expect_reject(pk, e->pi, e->alpha, e->alpha_len, NC_ERR_BAD_KEY);
}

/* add_l writes s + L (fits: s < L < 2^253) into |out|. */
static void add_l(uint8_t out[32], const uint8_t s[32]) {
  unsigned carry = 0;
  for (int i = 0; i < 32; i++) {
    carry += (unsigned)s[i] + order_l[i];
    out[i] = (uint8_t)carry;
    carry >>= 8;
  }
  assert_int_equal(carry, 0);
}

static void test_s_not_canonical(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN], zero[64] = {0};
  uint8_t reduced[32];
  memcpy(zero, order_l, 32);
  crypto_core_ed25519_scalar_reduce(reduced, zero);
  assert_zero(reduced, 32); /* order_l really is L */
  memcpy(pi, e->pi, sizeof pi);
  add_l(pi + 48, e->pi + 48);
  expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
  memset(beta, 0xaa, sizeof beta);
  assert_int_equal(nc_vrf_proof_to_hash(beta, pi), NC_ERR_VERIFY);
  assert_zero(beta, sizeof beta);
  memcpy(pi + 48, order_l, 32); /* s = L exactly */
  expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
}

static void test_gamma_torsion_rejected(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t t8[PT], t2[PT], pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  const uint8_t *ts[2] = {t8, t2};
  torsion8(t8);
  assert_int_equal(crypto_core_ed25519_add(t2, t8, t8), 0);
  assert_int_equal(crypto_core_ed25519_add(t2, t2, t2), 0); /* order 2 */
  for (int i = 0; i < 2; i++) {
    memcpy(pi, e->pi, sizeof pi);
    assert_int_equal(crypto_core_ed25519_add(pi, e->pi, ts[i]), 0);
    expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
    /* proof_to_hash follows the RFC: the cofactor clears the torsion. */
    assert_int_equal(nc_vrf_proof_to_hash(beta, pi), 0);
    assert_memory_equal(beta, e->beta, sizeof beta);
  }
}

static void test_gamma_not_decoding(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t bad[4][PT], pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  off_curve(bad[0]);
  memset(bad[1], 0, PT); /* y = 1 with the sign bit: x = 0 is not negative */
  bad[1][0] = 0x01;
  bad[1][31] = 0x80;
  memset(bad[2], 0xff, PT); /* y = p - 1 with the sign bit */
  bad[2][0] = 0xec;
  memset(bad[3], 0xff, PT); /* y = p: not canonical */
  bad[3][0] = 0xed;
  bad[3][31] = 0x7f;
  for (int i = 0; i < 4; i++) {
    memcpy(pi, e->pi, sizeof pi);
    memcpy(pi, bad[i], PT);
    expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
    memset(beta, 0xaa, sizeof beta);
    assert_int_equal(nc_vrf_proof_to_hash(beta, pi), NC_ERR_VERIFY);
    assert_zero(beta, sizeof beta);
  }
}

/* Zero c or zero s makes libsodium's scalar multiplication refuse; the
 * VRF must still answer (reject) instead of failing differently. */
static void test_zero_scalars(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  memcpy(pi, e->pi, sizeof pi);
  memset(pi + 32, 0, 16);
  expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
  memcpy(pi, e->pi, sizeof pi);
  memset(pi + 48, 0, 32);
  expect_reject(e->pk, pi, e->alpha, e->alpha_len, NC_ERR_VERIFY);
  assert_int_equal(nc_vrf_proof_to_hash(beta, pi), 0); /* s = 0 < L */
  assert_memory_equal(beta, e->beta, sizeof beta);
}

static void test_random_roundtrip(void **state) {
  uint8_t seed[NC_SEED_LEN], pk[NC_PK_LEN], sk[NC_SK_LEN], alpha[100];
  uint8_t pi[NC_VRF_PROOF_LEN], pi2[NC_VRF_PROOF_LEN];
  uint8_t beta[NC_VRF_OUTPUT_LEN], beta2[NC_VRF_OUTPUT_LEN];
  (void)state;
  for (unsigned i = 0; i < 24; i++) {
    size_t len = randombytes_uniform(sizeof alpha + 1);
    randombytes_buf(seed, sizeof seed);
    randombytes_buf(alpha, sizeof alpha);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    assert_int_equal(nc_vrf_prove(pi, seed, alpha, len), 0);
    assert_int_equal(nc_vrf_prove(pi2, seed, alpha, len), 0);
    assert_memory_equal(pi, pi2, sizeof pi); /* deterministic */
    assert_int_equal(nc_vrf_verify(beta, pk, pi, alpha, len), 0);
    assert_int_equal(nc_vrf_proof_to_hash(beta2, pi), 0);
    assert_memory_equal(beta, beta2, sizeof beta);
    alpha[0] ^= 1;
    expect_reject(pk, pi, alpha, len ? len : 1, NC_ERR_VERIFY);
  }
}

static void test_invalid_arguments(void **state) {
  const example *e = &((const vectors *)*state)->ex[0];
  uint8_t pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN], h[PT];
  memset(pi, 0xaa, sizeof pi);
  assert_int_equal(nc_vrf_prove(pi, e->sk, NULL, 1), NC_ERR_INVALID_ARGUMENT);
  assert_zero(pi, sizeof pi);
  assert_int_equal(nc_vrf_prove(pi, NULL, NULL, 0), NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_vrf_prove(NULL, e->sk, NULL, 0),
                   NC_ERR_INVALID_ARGUMENT);
  expect_reject(e->pk, e->pi, NULL, 1, NC_ERR_INVALID_ARGUMENT);
  expect_reject(NULL, e->pi, NULL, 0, NC_ERR_INVALID_ARGUMENT);
  expect_reject(e->pk, NULL, NULL, 0, NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_vrf_verify(NULL, e->pk, e->pi, NULL, 0),
                   NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_vrf_proof_to_hash(beta, NULL), NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_vrf_proof_to_hash(NULL, e->pi),
                   NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_vrf_encode_to_curve(h, NULL, e->pk, NULL, 3),
                   NC_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors_loaded),
      cmocka_unit_test(test_vectors_keys),
      cmocka_unit_test(test_vectors_encode_to_curve),
      cmocka_unit_test(test_vectors_prove),
      cmocka_unit_test(test_vectors_verify),
      cmocka_unit_test(test_vectors_pi_bitflip),
      cmocka_unit_test(test_vectors_alpha_changed),
      cmocka_unit_test(test_vectors_other_pk),
      cmocka_unit_test(test_bad_keys),
      cmocka_unit_test(test_s_not_canonical),
      cmocka_unit_test(test_gamma_torsion_rejected),
      cmocka_unit_test(test_gamma_not_decoding),
      cmocka_unit_test(test_zero_scalars),
      cmocka_unit_test(test_random_roundtrip),
      cmocka_unit_test(test_invalid_arguments),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
