/*
 * reg_entries_hash: the entries of many addresses under one salt, fast.
 *
 * full = BLAKE2b-256(key = salt, address) costs libsodium two compressions
 * per address: the key block, then the message block. The key block is the
 * same for every address of a batch, so it is compressed once (the salt's
 * "midstate") and each address of at most 128 bytes then costs exactly one
 * compression, its final block. Those compressions are independent, so four
 * run side by side in the lanes of 256-bit vectors (GCC/Clang vector
 * extensions: AVX2 when the CPU has it, chosen at run time, else whatever
 * the compiler makes of them, SSE2 on any x86-64). Addresses longer than
 * 128 bytes (two message blocks) take the scalar path. RFC 7693 defines
 * the function; the unit tests compare every path with libsodium.
 */
#include "internal.h"

#define BLOCK 128
#define ROUNDS 12

static const uint64_t iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
    0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
    0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

/* The message schedule of RFC 7693 (rounds 10 and 11 repeat 0 and 1). */
static const uint8_t sigma[ROUNDS][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

/* ---- One message at a time ---------------------------------------------- */

static uint64_t rotr(uint64_t x, unsigned n) {
  return x >> n | x << (64 - n);
}

#define G(v, a, b, c, d, x, y)              \
  do {                                      \
    v[a] = v[a] + v[b] + (x);               \
    v[d] = ROTR(v[d] ^ v[a], 32);           \
    v[c] = v[c] + v[d];                     \
    v[b] = ROTR(v[b] ^ v[c], 24);           \
    v[a] = v[a] + v[b] + (y);               \
    v[d] = ROTR(v[d] ^ v[a], 16);           \
    v[c] = v[c] + v[d];                     \
    v[b] = ROTR(v[b] ^ v[c], 63);           \
  } while (0)

/* ROUND applies the eight G functions of round |r| with words m[]. */
#define ROUND(v, m, r)                                            \
  do {                                                            \
    const uint8_t *s = sigma[r];                                  \
    G(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);                          \
    G(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);                          \
    G(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);                         \
    G(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);                         \
    G(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);                         \
    G(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);                       \
    G(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);                        \
    G(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);                        \
  } while (0)

/* Unrolling the rounds turns the schedule into constant indices (twice
 * as fast). Only in optimised builds without sanitizers: instrumented,
 * the unrolled vector code takes clang minutes to compile. */
#if defined(__SANITIZE_ADDRESS__)
#define NI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NI_SANITIZED 1
#endif
#endif
#if !defined(__OPTIMIZE__) || defined(NI_SANITIZED)
#define UNROLL_ROUNDS
#elif defined(__clang__)
#define UNROLL_ROUNDS _Pragma("unroll")
#elif defined(__GNUC__)
#define UNROLL_ROUNDS _Pragma("GCC unroll 12")
#else
#define UNROLL_ROUNDS
#endif

#define ROTR(x, n) rotr((x), (n))

/* compress mixes one block into h; |t| counts bytes so far, |last| marks
 * the final block. */
static void compress(uint64_t h[8], const uint8_t block[BLOCK], uint64_t t,
                     int last) {
  uint64_t v[16], m[16];
  for (int i = 0; i < 16; i++) m[i] = reg_get_le64(block + 8 * i);
  for (int i = 0; i < 8; i++) v[i] = h[i], v[i + 8] = iv[i];
  v[12] ^= t;
  if (last) v[14] = ~v[14];
  UNROLL_ROUNDS
  for (int r = 0; r < ROUNDS; r++) ROUND(v, m, r);
  for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

#undef ROTR

/* midstate: the state after the key block of BLAKE2b-256 keyed with the
 * 32-byte salt (parameter block: digest 32, key 32, fanout 1, depth 1). */
static void midstate(uint64_t h[8], const uint8_t salt[REG_SALT_LEN]) {
  uint8_t block[BLOCK] = {0};
  for (int i = 0; i < 8; i++) h[i] = iv[i];
  h[0] ^= 0x01010000ull | (uint64_t)REG_SALT_LEN << 8 | REG_FULL_HASH_LEN;
  memcpy(block, salt, REG_SALT_LEN);
  compress(h, block, BLOCK, 0);
}

/* entry_of_h0 turns the first state word into the entry: the digest
 * starts with h[0] little-endian, the entry reads those bytes big-endian. */
static uint64_t entry_of_h0(uint64_t h0) {
  uint8_t b[8];
  reg_put_le(b, h0, 8);
  return reg_get_be64(b);
}

/* entry_one finishes one address of 1..REG_ADDRESS_MAX bytes. */
static uint64_t entry_one(const uint64_t mid[8], const char *a, size_t len) {
  uint8_t block[BLOCK] = {0};
  uint64_t h[8];
  size_t done = 0;
  memcpy(h, mid, sizeof h);
  while (len - done > BLOCK) {
    compress(h, (const uint8_t *)a + done, BLOCK + done + BLOCK, 0);
    done += BLOCK;
  }
  memcpy(block, a + done, len - done);
  compress(h, block, BLOCK + len, 1);
  return entry_of_h0(h[0]);
}

/* ---- Four messages at a time ------------------------------------------------ */

#if defined(__GNUC__)
#define HAVE_LANES 1
typedef uint64_t lanes __attribute__((vector_size(32))); /* 4 x uint64 */

#define ROTR(x, n) ((x) >> (n) | (x) << (64 - (n)))

/* COMPRESS4_BODY finishes four one-block messages a[k] of len[k] (1..128)
 * bytes from the midstate, writing their entries. Written once as a macro
 * so it can be compiled for AVX2 and for the default target. */
#define COMPRESS4_BODY                                                    \
  lanes v[16], m[16];                                                     \
  uint8_t blk[4][BLOCK];                                                  \
  memset(blk, 0, sizeof blk);                                             \
  for (int k = 0; k < 4; k++) memcpy(blk[k], a[k], len[k]);               \
  for (int w = 0; w < 16; w++)                                            \
    m[w] = (lanes){reg_get_le64(blk[0] + 8 * w),                          \
                   reg_get_le64(blk[1] + 8 * w),                          \
                   reg_get_le64(blk[2] + 8 * w),                          \
                   reg_get_le64(blk[3] + 8 * w)};                         \
  for (int i = 0; i < 8; i++) {                                           \
    v[i] = (lanes){mid[i], mid[i], mid[i], mid[i]};                       \
    v[i + 8] = (lanes){iv[i], iv[i], iv[i], iv[i]};                       \
  }                                                                       \
  v[12] ^= (lanes){BLOCK + len[0], BLOCK + len[1], BLOCK + len[2],        \
                   BLOCK + len[3]};                                       \
  v[14] = ~v[14];                                                         \
  UNROLL_ROUNDS                                                           \
  for (int r = 0; r < ROUNDS; r++) ROUND(v, m, r);                        \
  for (int k = 0; k < 4; k++) out[k] = entry_of_h0(mid[0] ^ v[0][k] ^ v[8][k]);

static void compress4_default(const uint64_t mid[8], const char *const a[4],
                              const size_t len[4], uint64_t out[4]) {
  COMPRESS4_BODY
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void compress4_avx2(
    const uint64_t mid[8], const char *const a[4], const size_t len[4],
    uint64_t out[4]) {
  COMPRESS4_BODY
}

static void (*pick_compress4(void))(const uint64_t *, const char *const *,
                                    const size_t *, uint64_t *) {
  /* Reads the CPU features libgcc recorded at start-up (CPUID). */
  return __builtin_cpu_supports("avx2") ? compress4_avx2 : compress4_default;
}
#else
static void (*pick_compress4(void))(const uint64_t *, const char *const *,
                                    const size_t *, uint64_t *) {
  return compress4_default;
}
#endif
#undef ROTR
#endif /* __GNUC__ */

typedef void (*compress4_fn)(const uint64_t *, const char *const *,
                             const size_t *, uint64_t *);

/* hash_lanes gathers one-block addresses four at a time for |c4|; longer
 * ones, and the last few, go through the scalar path. */
static void hash_lanes(compress4_fn c4, const uint64_t mid[8], uint64_t *out,
                       const char *const *canon, const size_t *len,
                       size_t n) {
  const char *a[4];
  size_t l[4], at[4], k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t li = len ? len[i] : strlen(canon[i]);
    if (li == 0 || li > BLOCK) {
      out[i] = li == 0 ? 0 : entry_one(mid, canon[i], li);
      continue;
    }
    a[k] = canon[i], l[k] = li, at[k] = i;
    if (++k == 4) {
      uint64_t e[4];
      c4(mid, a, l, e);
      for (k = 0; k < 4; k++) out[at[k]] = e[k];
      k = 0;
    }
  }
  for (size_t j = 0; j < k; j++) out[at[j]] = entry_one(mid, a[j], l[j]);
}

static void hash_scalar(const uint64_t mid[8], uint64_t *out,
                        const char *const *canon, const size_t *len,
                        size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t li = len ? len[i] : strlen(canon[i]);
    out[i] = li == 0 ? 0 : entry_one(mid, canon[i], li);
  }
}

void reg_entries_hash_path(uint64_t *out, const uint8_t salt[REG_SALT_LEN],
                           const char *const *canon, const size_t *len,
                           size_t n, int path) {
  uint64_t mid[8];
  if (!out || !salt || !canon || n == 0) return;
  midstate(mid, salt);
#ifdef HAVE_LANES
  if (path == REG_HASH_AUTO) {
    hash_lanes(pick_compress4(), mid, out, canon, len, n);
    return;
  }
  if (path == REG_HASH_LANES) {
    hash_lanes(compress4_default, mid, out, canon, len, n);
    return;
  }
#endif
  hash_scalar(mid, out, canon, len, n);
}

void reg_entries_hash(uint64_t *out, const uint8_t salt[REG_SALT_LEN],
                      const char *const *canon, const size_t *len, size_t n) {
  reg_entries_hash_path(out, salt, canon, len, n, REG_HASH_AUTO);
}
