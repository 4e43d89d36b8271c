/*
 * ECVRF-EDWARDS25519-SHA512-TAI from RFC 9381 (sections 5.1-5.5), built on
 * libsodium 1.0.18's edwards25519 primitives; libsodium itself has no VRF.
 *
 * Suite parameters: suite_string 0x03, ptLen 32, cLen 16, qLen 32, cofactor
 * 8, hash SHA-512, points encoded as in RFC 8032 section 5.1.2, integers
 * little-endian. pi = Gamma(32) || c(16) || s(32); beta = 64 bytes.
 *
 * libsodium 1.0.18 shapes the code in three places:
 *  - crypto_scalarmult_ed25519_noclamp and crypto_core_ed25519_is_valid_point
 *    reject points outside the prime-order subgroup, whereas
 *    crypto_core_ed25519_add/sub only require a point on the curve. A raw
 *    hash-derived point may carry a small-order component, so the cofactor
 *    is cleared by three doublings with crypto_core_ed25519_add.
 *  - ge25519_frombytes (behind add/sub) reduces y modulo p and accepts x = 0
 *    with the sign bit set; decode_point() adds the two RFC 8032 section
 *    5.1.3 checks it skips, so "decodes" here means exactly RFC 8032.
 *  - The scalar multiplications fail on a zero scalar or an identity
 *    result. Every scalar we multiply is reduced (k, s < L; c < 2^128) and
 *    every point is a non-identity element of the prime-order subgroup, so
 *    the only identity case is scalar 0; mul()/mul_base() return the
 *    identity for it, as the RFC's arithmetic does, instead of failing.
 *
 * Checks done beyond RFC 9381 (verification only), and why no honest proof
 * is ever rejected by them:
 *  1. The public key Y must pass crypto_core_ed25519_is_valid_point on
 *     every call: canonical encoding, not of small order, and in the
 *     prime-order subgroup. The RFC requires only that Y decodes and, with
 *     its optional validate_key, that Y is not of small order. An honest
 *     Y = x*B, with B generating the prime-order subgroup and x the
 *     clamped scalar: x lies in [2^254, 2^255) and is a multiple of 8, and
 *     no multiple of L (odd, > 2^252) has both properties, so x mod L != 0
 *     and Y is a non-identity point of that subgroup, encoded canonically
 *     by point_to_string.
 *  2. Gamma must pass the same test. The RFC only requires that Gamma
 *     decodes. An honest Gamma = x*H where H = 8*H' is not the identity
 *     (encode_to_curve loops until it is not), so H has order L, and with
 *     x mod L != 0 (see 1), Gamma is a non-identity point of the
 *     prime-order subgroup. What this refuses: a key holder can add a
 *     small-order point T to Gamma and grind the nonce until c*T is the
 *     identity; an RFC verifier accepts that proof (with the same beta,
 *     since 8*T is the identity), ours does not.
 * Everything else follows the RFC: Gamma that does not decode and
 * s >= L are rejected by ECVRF_decode_proof (section 5.4.4) itself.
 *
 * nc_vrf_proof_to_hash decodes exactly as the RFC does (no subgroup test),
 * since it verifies nothing.
 *
 * Only the prover handles secrets (x, the nonce prefix, k, c*x); they are
 * wiped with sodium_memzero before returning. libsodium's scalar
 * arithmetic and scalar multiplications are constant time; the
 * try-and-increment loop runs on public data only (pk and alpha).
 */
#include <nointrude/crypto.h>

#include <string.h>

#include "vrf_internal.h"

#define PT_LEN NC_VRF_POINT_LEN /* encoded point */
#define C_LEN 16                /* challenge c */
#define Q_LEN 32                /* scalar s */
#define SUITE 0x03              /* ECVRF-EDWARDS25519-SHA512-TAI */
#define DS_ENCODE 0x01          /* encode_to_curve_domain_separator_front */
#define DS_CHALLENGE 0x02       /* challenge_generation_..._front */
#define DS_PROOF_TO_HASH 0x03   /* proof_to_hash_domain_separator_front */
#define DS_BACK 0x00            /* every *_domain_separator_back */
#define CTR_MAX 256             /* encode_to_curve counters 0..255 */

/* The neutral element (0, 1), canonically encoded. */
static const uint8_t identity[PT_LEN] = {1};

/* ---- Points and scalars ------------------------------------------------ */

/* y_is_canonical returns 1 when the 255-bit y in |s| is below
 * p = 2^255 - 19 (RFC 8032 5.1.3 step 1). Public data: not constant time. */
static int y_is_canonical(const uint8_t s[PT_LEN]) {
  if ((s[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i > 0; i--)
    if (s[i] != 0xff) return 1;
  return s[0] < 0xed;
}

/* x_zero_with_sign returns 1 when |s| encodes y = 1 or y = p - 1 (the two
 * points with x = 0) with the sign bit set (RFC 8032 5.1.3 step 4). */
static int x_zero_with_sign(const uint8_t s[PT_LEN]) {
  int one = s[0] == 0x01, minus_one = s[0] == 0xec;
  if (!(s[31] & 0x80)) return 0;
  for (int i = 1; i < 31; i++) {
    one &= s[i] == 0x00;
    minus_one &= s[i] == 0xff;
  }
  return (one && s[31] == 0x80) || (minus_one && s[31] == 0xff);
}

/* decode_point is the RFC's string_to_point: returns 1 when |s| decodes to
 * a point of the curve under RFC 8032 section 5.1.3, else 0. */
static int decode_point(const uint8_t s[PT_LEN]) {
  uint8_t tmp[PT_LEN];
  if (!y_is_canonical(s) || x_zero_with_sign(s)) return 0;
  /* add() runs ge25519_frombytes + on-curve check on both operands. */
  return crypto_core_ed25519_add(tmp, s, identity) == 0;
}

/* mul_cofactor writes 8*|p| to |out| by three doublings; |p| must be on
 * the curve (any subgroup). Returns 0 or -1. */
static int mul_cofactor(uint8_t out[PT_LEN], const uint8_t p[PT_LEN]) {
  uint8_t t[PT_LEN];
  if (crypto_core_ed25519_add(t, p, p) != 0 ||
      crypto_core_ed25519_add(t, t, t) != 0 ||
      crypto_core_ed25519_add(out, t, t) != 0)
    return -1;
  return 0;
}

/* mul_base writes |n|*B to |out| for a reduced scalar |n| (identity when
 * n = 0). Returns 0 or -1. */
static int mul_base(uint8_t out[PT_LEN], const uint8_t n[Q_LEN]) {
  if (sodium_is_zero(n, Q_LEN)) {
    memcpy(out, identity, PT_LEN);
    return 0;
  }
  return crypto_scalarmult_ed25519_base_noclamp(out, n);
}

/* mul writes |n|*|p| to |out| for a reduced scalar |n| and a point |p| of
 * the prime-order subgroup (identity when n = 0). Returns 0 or -1. */
static int mul(uint8_t out[PT_LEN], const uint8_t n[Q_LEN],
               const uint8_t p[PT_LEN]) {
  if (sodium_is_zero(n, Q_LEN)) {
    memcpy(out, identity, PT_LEN);
    return 0;
  }
  return crypto_scalarmult_ed25519_noclamp(out, n, p);
}

/* scalar_is_canonical returns 1 when the little-endian |s| is below L. */
static int scalar_is_canonical(const uint8_t s[Q_LEN]) {
  uint8_t wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES] = {0};
  uint8_t reduced[Q_LEN];
  memcpy(wide, s, Q_LEN);
  crypto_core_ed25519_scalar_reduce(reduced, wide);
  return memcmp(reduced, s, Q_LEN) == 0;
}

/* ---- RFC 9381 section 5.4 building blocks ------------------------------ */

/* expand_secret derives the clamped secret scalar, reduced mod L, into |x|
 * and the nonce prefix from the RFC 8032 secret key |sk| (RFC 9381 5.1
 * step 1, RFC 8032 5.1.5). Reducing keeps x*P unchanged for every P in the
 * prime-order subgroup and gives scalar_mul the reduced input it wants. */
static void expand_secret(uint8_t x[Q_LEN], uint8_t prefix[32],
                          const uint8_t sk[NC_SEED_LEN]) {
  uint8_t h[crypto_hash_sha512_BYTES];
  uint8_t wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES] = {0};
  crypto_hash_sha512(h, sk, NC_SEED_LEN);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  memcpy(wide, h, Q_LEN);
  crypto_core_ed25519_scalar_reduce(x, wide);
  memcpy(prefix, h + 32, 32);
  sodium_memzero(h, sizeof h);
  sodium_memzero(wide, sizeof wide);
}

/* try_candidate hashes the prefix state |base| with counter |ctr| and, if
 * the digest decodes and 8 times it is not the identity, writes that point
 * to |h| and returns 1 (section 5.4.1.1 steps 5A-5E). */
static int try_candidate(uint8_t h[PT_LEN],
                         const crypto_hash_sha512_state *base, unsigned ctr) {
  crypto_hash_sha512_state st = *base;
  uint8_t tail[2] = {(uint8_t)ctr, DS_BACK};
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512_update(&st, tail, sizeof tail);
  crypto_hash_sha512_final(&st, digest);
  if (!decode_point(digest)) return 0;
  if (mul_cofactor(h, digest) != 0) return 0;
  return memcmp(h, identity, PT_LEN) != 0;
}

int nc_vrf_encode_to_curve(uint8_t h[NC_VRF_POINT_LEN], unsigned *ctr,
                           const uint8_t pk[NC_PK_LEN], const uint8_t *alpha,
                           size_t alpha_len) {
  static const uint8_t head[2] = {SUITE, DS_ENCODE};
  crypto_hash_sha512_state base;
  if (ctr) *ctr = 0;
  if (!h || !pk || (!alpha && alpha_len)) return NC_ERR_INVALID_ARGUMENT;
  memset(h, 0, PT_LEN);
  crypto_hash_sha512_init(&base);
  crypto_hash_sha512_update(&base, head, sizeof head);
  crypto_hash_sha512_update(&base, pk, NC_PK_LEN);
  if (alpha_len) crypto_hash_sha512_update(&base, alpha, alpha_len);
  for (unsigned i = 0; i < CTR_MAX; i++) {
    if (try_candidate(h, &base, i)) {
      if (ctr) *ctr = i;
      return 0;
    }
  }
  memset(h, 0, PT_LEN);
  return NC_ERR_NOT_FOUND;
}

/* nonce_generate is RFC 8032 5.4.2.2's k: SHA-512(prefix || H) mod L. */
static void nonce_generate(uint8_t k[Q_LEN], const uint8_t prefix[32],
                           const uint8_t h[PT_LEN]) {
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, prefix, 32);
  crypto_hash_sha512_update(&st, h, PT_LEN);
  crypto_hash_sha512_final(&st, digest);
  crypto_core_ed25519_scalar_reduce(k, digest);
  sodium_memzero(digest, sizeof digest);
  sodium_memzero(&st, sizeof st);
}

/* challenge writes c (section 5.4.3) over the five points |p| = Y, H,
 * Gamma, U, V as a 32-byte scalar: 16 hash bytes, then zeros. */
static void challenge(uint8_t c[Q_LEN], const uint8_t *const p[5]) {
  static const uint8_t head[2] = {SUITE, DS_CHALLENGE};
  static const uint8_t back = DS_BACK;
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, head, sizeof head);
  for (int i = 0; i < 5; i++) crypto_hash_sha512_update(&st, p[i], PT_LEN);
  crypto_hash_sha512_update(&st, &back, 1);
  crypto_hash_sha512_final(&st, digest);
  memset(c, 0, Q_LEN);
  memcpy(c, digest, C_LEN);
}

/* decode_proof is section 5.4.4: splits |pi| into Gamma, c (as a 32-byte
 * scalar) and s. Returns 0, or -1 if Gamma does not decode or s >= L. */
static int decode_proof(uint8_t gamma[PT_LEN], uint8_t c[Q_LEN],
                        uint8_t s[Q_LEN], const uint8_t pi[NC_VRF_PROOF_LEN]) {
  memcpy(gamma, pi, PT_LEN);
  memset(c, 0, Q_LEN);
  memcpy(c, pi + PT_LEN, C_LEN);
  memcpy(s, pi + PT_LEN + C_LEN, Q_LEN);
  if (!decode_point(gamma)) return -1;
  return scalar_is_canonical(s) ? 0 : -1;
}

/* gamma_to_beta is section 5.2 step 4: SHA-512(suite || 0x03 ||
 * point_to_string(8*Gamma) || 0x00). Returns 0 or -1 (Gamma off curve). */
static int gamma_to_beta(uint8_t beta[NC_VRF_OUTPUT_LEN],
                         const uint8_t gamma[PT_LEN]) {
  static const uint8_t head[2] = {SUITE, DS_PROOF_TO_HASH};
  static const uint8_t back = DS_BACK;
  uint8_t g8[PT_LEN];
  crypto_hash_sha512_state st;
  if (mul_cofactor(g8, gamma) != 0) return -1;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, head, sizeof head);
  crypto_hash_sha512_update(&st, g8, PT_LEN);
  crypto_hash_sha512_update(&st, &back, 1);
  crypto_hash_sha512_final(&st, beta);
  return 0;
}

/* ---- Prove (section 5.1) ----------------------------------------------- */

/* Working state of one proof; every field is wiped when done. */
typedef struct prover {
  uint8_t x[Q_LEN], prefix[32], k[Q_LEN], cx[Q_LEN];
  uint8_t y[PT_LEN], h[PT_LEN], gamma[PT_LEN], u[PT_LEN], v[PT_LEN];
  uint8_t c[Q_LEN], s[Q_LEN];
} prover;

/* prove_points fills Y, H, Gamma, k, U and V (section 5.1 steps 1-6).
 * Returns 0 or a negative NC_ERR_* code. */
static int prove_points(prover *p, const uint8_t *alpha, size_t alpha_len) {
  int rv;
  if (mul_base(p->y, p->x) != 0) return NC_ERR_INVALID_ARGUMENT;
  rv = nc_vrf_encode_to_curve(p->h, NULL, p->y, alpha, alpha_len);
  if (rv != 0) return rv;
  if (mul(p->gamma, p->x, p->h) != 0) return NC_ERR_INVALID_ARGUMENT;
  nonce_generate(p->k, p->prefix, p->h);
  if (mul_base(p->u, p->k) != 0 || mul(p->v, p->k, p->h) != 0)
    return NC_ERR_INVALID_ARGUMENT;
  return 0;
}

int nc_vrf_prove(uint8_t pi[NC_VRF_PROOF_LEN],
                 const uint8_t sk_seed[NC_SEED_LEN], const uint8_t *alpha,
                 size_t alpha_len) {
  prover p;
  int rv;
  if (!pi) return NC_ERR_INVALID_ARGUMENT;
  memset(pi, 0, NC_VRF_PROOF_LEN);
  if (!sk_seed || (!alpha && alpha_len)) return NC_ERR_INVALID_ARGUMENT;
  expand_secret(p.x, p.prefix, sk_seed);
  rv = prove_points(&p, alpha, alpha_len);
  if (rv != 0) goto out;
  challenge(p.c, (const uint8_t *const[5]){p.y, p.h, p.gamma, p.u, p.v});
  /* s = (k + c*x) mod L; all inputs are reduced, as scalar_add needs. */
  crypto_core_ed25519_scalar_mul(p.cx, p.c, p.x);
  crypto_core_ed25519_scalar_add(p.s, p.k, p.cx);
  memcpy(pi, p.gamma, PT_LEN);
  memcpy(pi + PT_LEN, p.c, C_LEN);
  memcpy(pi + PT_LEN + C_LEN, p.s, Q_LEN);
out:
  sodium_memzero(&p, sizeof p);
  return rv;
}

/* ---- Verify (section 5.3) and proof_to_hash (section 5.2) -------------- */

/* lincomb writes s*P - c*Q to |out|; P = B when |p| is NULL. Returns 0 or
 * -1. Both points are in the prime-order subgroup (checked by callers). */
static int lincomb(uint8_t out[PT_LEN], const uint8_t s[Q_LEN],
                   const uint8_t *p, const uint8_t c[Q_LEN],
                   const uint8_t q[PT_LEN]) {
  uint8_t sp[PT_LEN], cq[PT_LEN];
  int rv = p ? mul(sp, s, p) : mul_base(sp, s);
  if (rv != 0 || mul(cq, c, q) != 0) return -1;
  return crypto_core_ed25519_sub(out, sp, cq);
}

int nc_vrf_verify(uint8_t beta[NC_VRF_OUTPUT_LEN],
                  const uint8_t pk[NC_PK_LEN],
                  const uint8_t pi[NC_VRF_PROOF_LEN], const uint8_t *alpha,
                  size_t alpha_len) {
  uint8_t gamma[PT_LEN], c[Q_LEN], s[Q_LEN], h[PT_LEN], u[PT_LEN], v[PT_LEN];
  uint8_t c2[Q_LEN], out[NC_VRF_OUTPUT_LEN];
  if (!beta) return NC_ERR_INVALID_ARGUMENT;
  memset(beta, 0, NC_VRF_OUTPUT_LEN);
  if (!pk || !pi || (!alpha && alpha_len)) return NC_ERR_INVALID_ARGUMENT;
  if (!crypto_core_ed25519_is_valid_point(pk)) return NC_ERR_BAD_KEY;
  if (decode_proof(gamma, c, s, pi) != 0) return NC_ERR_VERIFY;
  if (!crypto_core_ed25519_is_valid_point(gamma)) return NC_ERR_VERIFY;
  if (nc_vrf_encode_to_curve(h, NULL, pk, alpha, alpha_len) != 0)
    return NC_ERR_VERIFY;
  if (lincomb(u, s, NULL, c, pk) != 0 || lincomb(v, s, h, c, gamma) != 0)
    return NC_ERR_VERIFY;
  challenge(c2, (const uint8_t *const[5]){pk, h, gamma, u, v});
  if (sodium_memcmp(c, c2, C_LEN) != 0) return NC_ERR_VERIFY;
  if (gamma_to_beta(out, gamma) != 0) return NC_ERR_VERIFY;
  memcpy(beta, out, NC_VRF_OUTPUT_LEN);
  return 0;
}

int nc_vrf_proof_to_hash(uint8_t beta[NC_VRF_OUTPUT_LEN],
                         const uint8_t pi[NC_VRF_PROOF_LEN]) {
  uint8_t gamma[PT_LEN], c[Q_LEN], s[Q_LEN];
  if (!beta) return NC_ERR_INVALID_ARGUMENT;
  memset(beta, 0, NC_VRF_OUTPUT_LEN);
  if (!pi) return NC_ERR_INVALID_ARGUMENT;
  if (decode_proof(gamma, c, s, pi) != 0) return NC_ERR_VERIFY;
  if (gamma_to_beta(beta, gamma) != 0) {
    memset(beta, 0, NC_VRF_OUTPUT_LEN);
    return NC_ERR_VERIFY;
  }
  return 0;
}
