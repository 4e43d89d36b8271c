/*
 * xoshiro256** (Blackman and Vigna, 2018) and splitmix64, written from the
 * published algorithm descriptions, plus the few distributions the
 * simulator needs. The generator is fast (a handful of shifts and
 * rotations per 64 bits), which matters: every simulated node draws its
 * AEAD nonces, cookies and transaction IDs from here.
 *
 * Floating-point draws use libm (log, exp, cos); results are identical
 * from run to run on one build and platform, which is what the
 * determinism guarantee promises (not across libm implementations).
 */
#include "rng.h"

#include <math.h>
#include <string.h>

#include <nointrude/crypto.h>

uint64_t sim_splitmix64(uint64_t *state) {
  *state += UINT64_C(0x9e3779b97f4a7c15);
  return sim_mix64(*state);
}

uint64_t sim_mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* fix_zero guards the one forbidden xoshiro state (all zero). */
static void fix_zero(sim_rng *rng) {
  if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
    rng->s[0] = UINT64_C(0x9e3779b97f4a7c15);
}

void sim_rng_seed(sim_rng *rng, uint64_t seed) {
  uint64_t st = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = sim_splitmix64(&st);
  fix_zero(rng);
}

static void put_le64(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t in[8]) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | in[i];
  return v;
}

void sim_rng_stream(sim_rng *rng, uint64_t seed, const char *name,
                    uint64_t index) {
  static const char tag[] = "nointrude-sim-rng";
  uint8_t le[8], out[32];
  nc_hasher h;

  nc_hasher_init(&h, NULL, 0, sizeof out);
  nc_hasher_update(&h, tag, sizeof tag - 1);
  put_le64(le, seed);
  nc_hasher_update(&h, le, sizeof le);
  nc_hasher_update(&h, name, strlen(name) + 1); /* NUL separates */
  put_le64(le, index);
  nc_hasher_update(&h, le, sizeof le);
  nc_hasher_final(&h, out, sizeof out);
  for (int i = 0; i < 4; i++)
    rng->s[i] = get_le64(out + 8 * i);
  fix_zero(rng);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(sim_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t sim_rng_below(sim_rng *rng, uint64_t n) {
  if (n == 0)
    return 0;
  /* 128-bit product: the high half is uniform once the low half clears
   * the rejection threshold (2^64 mod n). */
  unsigned __int128 m = (unsigned __int128)sim_rng_next(rng) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t threshold = (0 - n) % n;
    while (lo < threshold) {
      m = (unsigned __int128)sim_rng_next(rng) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double sim_unit_from_bits(uint64_t bits) {
  return (double)(bits >> 11) * (1.0 / 9007199254740992.0); /* 2^-53 */
}

double sim_rng_unit(sim_rng *rng) {
  return sim_unit_from_bits(sim_rng_next(rng));
}

int sim_rng_chance(sim_rng *rng, double p) {
  if (p <= 0.0)
    return 0;
  if (p >= 1.0)
    return 1;
  return sim_rng_unit(rng) < p;
}

double sim_rng_exponential(sim_rng *rng, double mean) {
  /* 1 - u lies in (0, 1], so the log is finite. */
  return -mean * log(1.0 - sim_rng_unit(rng));
}

void sim_rng_fill(sim_rng *rng, uint8_t *buf, size_t len) {
  while (len >= 8) {
    put_le64(buf, sim_rng_next(rng));
    buf += 8;
    len -= 8;
  }
  if (len > 0) {
    uint8_t tail[8];
    put_le64(tail, sim_rng_next(rng));
    memcpy(buf, tail, len);
  }
}

double sim_normal_from_bits(uint64_t a, uint64_t b) {
  const double two_pi = 6.283185307179586476925;
  double u1 = 1.0 - sim_unit_from_bits(a); /* (0, 1]: log is finite */
  double u2 = sim_unit_from_bits(b);
  return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}
