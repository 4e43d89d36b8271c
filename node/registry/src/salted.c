/*
 * reg_entries_hash: the entries of many addresses under one salt, fast;
 * reg_chunk_keys: the keys of many chunks, fast.
 *
 * full = BLAKE2b-256(key = salt, address) costs libsodium two compressions
 * per address: the key block, then the message block. The key block is the
 * same for every address of a batch, so it is compressed once (the salt's
 * "midstate") and each address of at most 128 bytes then costs exactly one
 * compression, its final block. Those compressions are independent, so four
 * run side by side in the lanes of 256-bit vectors (GCC/Clang vector
 * extensions: AVX2 when the CPU has it, chosen at run time, else whatever
 * the compiler makes of them, SSE2 on any x86-64). Addresses longer than
 * 128 bytes (two message blocks) take the scalar path. Chunk keys are
 * unkeyed BLAKE2b-256 of tag || payload, about seven blocks each: four
 * payloads are hashed side by side, block by block, in the same lanes.
 * RFC 7693 defines the function; the unit tests compare every path with
 * libsodium.
 */
#include "match_internal.h"

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

/* Four messages in flight, one per lane of a 256-bit vector: their states
 * (word-major: h[i][k] is word i of lane k) and what the next compression
 * takes. A lane whose message has no block left idles: its |live| mask is
 * 0 and its state does not change. */
typedef struct four {
  uint64_t h[8][4];
  const uint8_t *blk[4]; /* each lane's next 128-byte block */
  uint64_t t[4];         /* bytes of the message once that block is in */
  uint64_t last[4];      /* ~0 on a lane's final block, else 0 */
  uint64_t live[4];      /* ~0 while the lane has a block, else 0 */
} four;

typedef void (*compress4_fn)(four *f);
typedef void (*address4_fn)(const uint64_t *mid, const char *const *a,
                            const size_t *len, uint64_t *out);

#if defined(__GNUC__)
#define HAVE_LANES 1
typedef uint64_t lanes __attribute__((vector_size(32))); /* 4 x uint64 */

#define ROTR(x, n) ((x) >> (n) | (x) << (64 - (n)))

/* COMPRESS4_BODY compresses one block in each lane of |f|. Written once
 * as a macro so it can be compiled for AVX2 and for the default target. */
#define COMPRESS4_BODY                                                    \
  lanes v[16], m[16], h[8], t, last, live;                                \
  for (int w = 0; w < 16; w++)                                            \
    m[w] = (lanes){reg_get_le64(f->blk[0] + 8 * w),                       \
                   reg_get_le64(f->blk[1] + 8 * w),                       \
                   reg_get_le64(f->blk[2] + 8 * w),                       \
                   reg_get_le64(f->blk[3] + 8 * w)};                      \
  memcpy(h, f->h, sizeof h);                                              \
  memcpy(&t, f->t, sizeof t);                                             \
  memcpy(&last, f->last, sizeof last);                                    \
  memcpy(&live, f->live, sizeof live);                                    \
  for (int i = 0; i < 8; i++) {                                           \
    v[i] = h[i];                                                          \
    v[i + 8] = (lanes){iv[i], iv[i], iv[i], iv[i]};                       \
  }                                                                       \
  v[12] ^= t;                                                             \
  v[14] ^= last;                                                          \
  UNROLL_ROUNDS                                                           \
  for (int r = 0; r < ROUNDS; r++) ROUND(v, m, r);                        \
  for (int i = 0; i < 8; i++) h[i] ^= (v[i] ^ v[i + 8]) & live;           \
  memcpy(f->h, h, sizeof h);

/* ADDRESS4_BODY is the same for four one-block addresses a[k] of len[k]
 * (1..128) bytes from the salt's midstate |mid|, writing their entries:
 * no state to load or mask, about 12 % faster than going through |four|
 * (measured), and addresses come by the million. */
#define ADDRESS4_BODY                                                     \
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

static void compress4_default(four *f) { COMPRESS4_BODY }

static void address4_default(const uint64_t mid[8], const char *const a[4],
                             const size_t len[4], uint64_t out[4]) {
  ADDRESS4_BODY
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void compress4_avx2(four *f) {
  COMPRESS4_BODY
}

__attribute__((target("avx2"))) static void address4_avx2(
    const uint64_t mid[8], const char *const a[4], const size_t len[4],
    uint64_t out[4]) {
  ADDRESS4_BODY
}

/* The pickers read the CPU features libgcc recorded at start-up (CPUID). */
static compress4_fn pick_compress4(void) {
  return __builtin_cpu_supports("avx2") ? compress4_avx2 : compress4_default;
}

static address4_fn pick_address4(void) {
  return __builtin_cpu_supports("avx2") ? address4_avx2 : address4_default;
}
#else
static compress4_fn pick_compress4(void) { return compress4_default; }
static address4_fn pick_address4(void) { return address4_default; }
#endif
#undef ROTR
#endif /* __GNUC__ */

/* ---- Addresses ---------------------------------------------------------------- */

/* hash_lanes gathers one-block addresses four at a time; longer ones, and
 * the last few, go through the scalar path. */
static void hash_lanes(address4_fn c4, const uint64_t mid[8], uint64_t *out,
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
    hash_lanes(pick_address4(), mid, out, canon, len, n);
    return;
  }
  if (path == REG_HASH_LANES) {
    hash_lanes(address4_default, mid, out, canon, len, n);
    return;
  }
#endif
  hash_scalar(mid, out, canon, len, n);
}

void reg_entries_hash(uint64_t *out, const uint8_t salt[REG_SALT_LEN],
                      const char *const *canon, const size_t *len, size_t n) {
  reg_entries_hash_path(out, salt, canon, len, n, REG_HASH_AUTO);
}

/* ---- Chunk keys ------------------------------------------------------------------ */

/* A chunk key is BLAKE2b-256 (unkeyed) of the tag, then the payload
 * (keys.c). Each lane hashes one payload, block by block; the four
 * messages of a group need not have the same length (shorter ones idle
 * through the last blocks), but chunks of one batch nearly all do. */
static const uint8_t chunk_tag[] = "nointrude-chunk";
#define TAG_LEN (sizeof chunk_tag - 1)

static size_t blocks_of(size_t len) {
  return (TAG_LEN + len + BLOCK - 1) / BLOCK;
}

/* block_at points at block |b| of tag || body (|len| bytes of body):
 * into the body when the block lies wholly inside it, else into |buf|,
 * assembled and zero-padded (the first block, which holds the tag, and a
 * final partial block). */
static const uint8_t *block_at(const uint8_t *body, size_t len, size_t b,
                               uint8_t buf[BLOCK]) {
  size_t total = TAG_LEN + len, off = b * BLOCK, take;
  if (off >= TAG_LEN && total - off >= BLOCK) return body + (off - TAG_LEN);
  if (b == 0) {
    take = len < BLOCK - TAG_LEN ? len : BLOCK - TAG_LEN;
    memcpy(buf, chunk_tag, TAG_LEN);
    if (take > 0) memcpy(buf + TAG_LEN, body, take);
    memset(buf + TAG_LEN + take, 0, BLOCK - TAG_LEN - take);
    return buf;
  }
  take = total - off; /* 1..BLOCK - 1: the tag lies in block 0 only */
  memcpy(buf, body + (off - TAG_LEN), take);
  memset(buf + take, 0, BLOCK - take);
  return buf;
}

/* lane_next sets lane |k| of |f| up for block |b| of its message (|nb|
 * blocks; b >= nb idles the lane). */
static void lane_next(four *f, int k, const uint8_t *body, size_t len,
                      size_t nb, size_t b, uint8_t buf[BLOCK]) {
  static const uint8_t zero[BLOCK];
  int on = b < nb;
  f->blk[k] = on ? block_at(body, len, b, buf) : zero;
  f->t[k] = (b + 1) * BLOCK < TAG_LEN + len ? (b + 1) * BLOCK : TAG_LEN + len;
  f->last[k] = on && b + 1 == nb ? ~0ull : 0;
  f->live[k] = on ? ~0ull : 0;
}

/* inner_blocks sets every lane up for block |b| when all four lanes are
 * inside their bodies, the common case (the blocks between the first and
 * the last of four payloads of one length): no checks, no copies. */
static void inner_blocks(four *f, const uint8_t *const *body, size_t b) {
  for (int k = 0; k < 4; k++) {
    f->blk[k] = body[k] + (b * BLOCK - TAG_LEN);
    f->t[k] = (b + 1) * BLOCK;
    f->last[k] = 0;
    f->live[k] = ~0ull;
  }
}

/* chunk_group hashes |n| (1..4) payloads, one per lane. */
static void chunk_group(compress4_fn c4, uint8_t (*keys)[DHT_KEY_LEN],
                        const uint8_t *const *body, const size_t *len,
                        size_t n) {
  uint8_t buf[4][BLOCK];
  size_t nb[4] = {0}, most = 0, fewest = SIZE_MAX;
  four f;
  for (int k = 0; k < 4; k++) {
    for (int i = 0; i < 8; i++) f.h[i][k] = iv[i];
    /* parameter block: digest length 32, no key, fanout 1, depth 1 */
    f.h[0][k] ^= 0x01010000ull | DHT_KEY_LEN;
    if ((size_t)k < n) nb[k] = blocks_of(len[k]);
    if (nb[k] > most) most = nb[k];
    if (nb[k] < fewest) fewest = nb[k];
  }
  for (size_t b = 0; b < most; b++) {
    if (b > 0 && b + 1 < fewest)
      inner_blocks(&f, body, b);
    else
      for (int k = 0; k < 4; k++)
        lane_next(&f, k, (size_t)k < n ? body[k] : NULL,
                  (size_t)k < n ? len[k] : 0, nb[k], b, buf[k]);
    c4(&f);
  }
  for (size_t k = 0; k < n; k++)
    for (int i = 0; i < 4; i++) reg_put_le(keys[k] + 8 * i, f.h[i][k], 8);
}

void reg_chunk_keys_path(uint8_t (*keys)[DHT_KEY_LEN],
                         const uint8_t *const *payload, const size_t *len,
                         size_t n, int path) {
  if (!keys || !payload || !len) return;
#ifdef HAVE_LANES
  if (path != REG_HASH_SCALAR) {
    compress4_fn c4 =
        path == REG_HASH_AUTO ? pick_compress4() : compress4_default;
    for (size_t i = 0; i < n; i += 4)
      chunk_group(c4, keys + i, payload + i, len + i, n - i < 4 ? n - i : 4);
    return;
  }
#endif
  for (size_t i = 0; i < n; i++) reg_chunk_key(keys[i], payload[i], len[i]);
}

void reg_chunk_keys(uint8_t (*keys)[DHT_KEY_LEN], const uint8_t *const *payload,
                    const size_t *len, size_t n) {
  reg_chunk_keys_path(keys, payload, len, n, REG_HASH_AUTO);
}
