/*
 * Internal interfaces of the registry's formats half: the strict msgpack
 * reader and writer every payload codec uses, the chunk tree's shape, the
 * chunk payload codec, proof-of-work helpers, the opt-out plaintext codec
 * and what the batch file decoder needs from reg_fetch. Not installed;
 * tests and fuzz targets include it through the PRIVATE include path.
 */
#ifndef NOINTRUDE_REGISTRY_INTERNAL_H
#define NOINTRUDE_REGISTRY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nointrude/registry.h>

/* ---- Strict msgpack (the subset of PROTOCOL.md 1.1) -------------------- */

/* A writer into a fixed buffer, in shortest form. Once something does not
 * fit, |overflow| stays set and nothing more is written. */
typedef struct reg_mp_writer {
  uint8_t *buf;
  size_t cap; /* bytes */
  size_t len; /* bytes written */
  int overflow;
} reg_mp_writer;

void reg_mp_writer_init(reg_mp_writer *w, uint8_t *buf, size_t cap);
/* reg_mp_put_array writes an array header of |n| (<= 65535) elements. */
void reg_mp_put_array(reg_mp_writer *w, size_t n);
void reg_mp_put_uint(reg_mp_writer *w, uint64_t v);
/* reg_mp_put_bin writes a bin of |len| (<= 65535) bytes. */
void reg_mp_put_bin(reg_mp_writer *w, const uint8_t *p, size_t len);
/* reg_mp_writer_done returns 0 and sets *len, or REG_ERR_TOO_LARGE. */
int reg_mp_writer_done(const reg_mp_writer *w, size_t *len);

/* A reader with a sticky error: after the first failure every get returns
 * a zero value and reg_mp_reader_done reports REG_ERR_MALFORMED. Every
 * count and length is checked against the bytes that remain. */
typedef struct reg_mp_reader {
  const uint8_t *buf;
  size_t len, pos; /* bytes */
  int bad;
} reg_mp_reader;

void reg_mp_reader_init(reg_mp_reader *r, const uint8_t *buf, size_t len);
/* reg_mp_get_array reads an array header of |min|..|max| elements. */
size_t reg_mp_get_array(reg_mp_reader *r, size_t min, size_t max);
/* reg_mp_get_uint reads an unsigned integer in |min|..|max|. */
uint64_t reg_mp_get_uint(reg_mp_reader *r, uint64_t min, uint64_t max);
/* reg_mp_get_bin reads a bin of |min|..|max| bytes; returns a pointer
 * into the buffer (NULL on failure or for an empty bin). */
const uint8_t *reg_mp_get_bin(reg_mp_reader *r, size_t min, size_t max,
                              size_t *len);
/* reg_mp_get_bin_copy reads a bin of exactly |n| bytes into |out|. */
void reg_mp_get_bin_copy(reg_mp_reader *r, uint8_t *out, size_t n);
/* reg_mp_reader_done returns 0 if nothing failed and every byte was
 * consumed, else REG_ERR_MALFORMED. */
int reg_mp_reader_done(const reg_mp_reader *r);

/* ---- Byte order --------------------------------------------------------- */

/* Big-endian 64-bit loads and stores: one bswap where the compiler
 * offers it (entries are converted by the million), bytes otherwise. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void reg_put_be64(uint8_t out[8], uint64_t v) {
  v = __builtin_bswap64(v);
  memcpy(out, &v, 8);
}

static inline uint64_t reg_get_be64(const uint8_t in[8]) {
  uint64_t v;
  memcpy(&v, in, 8);
  return __builtin_bswap64(v);
}
#else
static inline void reg_put_be64(uint8_t out[8], uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) out[i] = (uint8_t)v;
}

static inline uint64_t reg_get_be64(const uint8_t in[8]) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | in[i];
  return v;
}
#endif

/* reg_get_le64 loads 8 bytes little-endian (one load where possible). */
static inline uint64_t reg_get_le64(const uint8_t in[8]) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  memcpy(&v, in, 8);
  return v;
#else
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | in[i];
  return v;
#endif
}

static inline void reg_put_le(uint8_t *out, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; i++, v >>= 8) out[i] = (uint8_t)v;
}

static inline uint64_t reg_get_le(const uint8_t *in, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = bytes; i > 0; i--) v = v << 8 | in[i - 1];
  return v;
}

/* ---- The chunk tree ------------------------------------------------------ */

#define REG_LEVELS_MAX 16 /* enough for any uint64 count */
#define REG_CHUNK_DATA 0  /* chunk kinds */
#define REG_CHUNK_HASHES 1
#define REG_CHUNK_CONTENT_MAX (REG_CHUNK_ENTRIES * REG_ENTRY_LEN) /* 832 */

/* The tree of a batch of |count| entries. Level 0 holds the data chunks,
 * level |depth| the roots. Nodes are numbered top-down: the roots first,
 * then each level in order, the data chunks last (the batch file's and
 * reg_fetch_wanted's order). */
typedef struct reg_shape {
  uint32_t depth;
  uint64_t level_n[REG_LEVELS_MAX];     /* nodes per level */
  uint64_t level_start[REG_LEVELS_MAX]; /* first node number per level */
  uint64_t n_nodes;
} reg_shape;

/* reg_shape_of computes the tree of |count| (>= 1) entries. Returns 0 or
 * REG_ERR_INVALID_ARGUMENT (count 0). */
int reg_shape_of(reg_shape *s, uint64_t count);

/* reg_shape_children gives the first child and the number of children of
 * node |j| (index within |level| >= 1) in level - 1. */
void reg_shape_children(const reg_shape *s, uint32_t level, uint64_t j,
                        uint64_t *first, uint64_t *n);

/* reg_shape_items returns how many entries (level 0) or keys (level >= 1)
 * node |j| of |level| must hold. */
uint64_t reg_shape_items(const reg_shape *s, uint64_t count, uint32_t level,
                         uint64_t j);

/* reg_chunk_encode writes the chunk payload [kind, content] (content at
 * most REG_CHUNK_CONTENT_MAX bytes). Returns 0 or REG_ERR_TOO_LARGE. */
int reg_chunk_encode(uint8_t kind, const uint8_t *content, size_t len,
                     uint8_t *buf, size_t cap, size_t *out_len);

/* reg_chunk_parse splits a chunk payload strictly: kind 0 with 1..104
 * entries (8 bytes each) or kind 1 with 1..26 keys (32 bytes each).
 * Does not check the order of entries. Returns 0 or REG_ERR_MALFORMED. */
int reg_chunk_parse(const uint8_t *payload, size_t len, uint8_t *kind,
                    const uint8_t **content, size_t *content_len);

/* reg_chunk_sorted returns 1 if the |n| big-endian entries of a data
 * chunk's content are strictly increasing. */
int reg_chunk_sorted(const uint8_t *content, size_t n);

/* ---- Proof of work ------------------------------------------------------- */

/* reg_zero_bits returns the number of leading zero bits of a 32-byte
 * hash (most significant bit of byte 0 first). */
unsigned reg_zero_bits(const uint8_t h[32]);

/* reg_manifest_pow_prefix encodes |m| without its pow_nonce: the bytes
 * the batch proof of work covers. Returns 0 or REG_ERR_TOO_LARGE. */
int reg_manifest_pow_prefix(const reg_manifest *m, uint8_t *buf, size_t cap,
                            size_t *len);

/* reg_batch_pow_hash computes BLAKE2b-256("nointrude-batch-pow" ||
 * sender_pk || prefix || le64 nonce). */
void reg_batch_pow_hash(uint8_t out[32], const uint8_t sender_pk[NC_PK_LEN],
                        const uint8_t *prefix, size_t prefix_len,
                        uint64_t nonce);

/* reg_batch_pow_mine finds the smallest nonce meeting |bits| for |m| and
 * |sender_pk| and stores it in m->pow_nonce. Returns 0,
 * REG_ERR_INVALID_ARGUMENT (bits > 64 or |m| not encodable) or
 * REG_ERR_POW (no nonce at all, for absurd bit counts). */
int reg_batch_pow_mine(reg_manifest *m, const uint8_t sender_pk[NC_PK_LEN],
                       unsigned bits);

/* reg_batch_pow_ok returns 1 if m->pow_nonce meets |bits|. */
int reg_batch_pow_ok(const reg_manifest *m, const uint8_t sender_pk[NC_PK_LEN],
                     unsigned bits);

/* ---- Opt-out plaintext ----------------------------------------------------- */

#define REG_OPTOUT_PLAIN_MIN 56
#define REG_OPTOUT_PLAIN_MAX 72

/* reg_optout_plain_encode writes [1, batch_id, full_hash, time, nonce].
 * Returns 0 or REG_ERR_TOO_LARGE. */
int reg_optout_plain_encode(const reg_optout *o, uint8_t *buf, size_t cap,
                            size_t *len);
/* reg_optout_plain_decode parses it strictly. Returns 0 or
 * REG_ERR_MALFORMED. */
int reg_optout_plain_decode(reg_optout *o, const uint8_t *buf, size_t len);
/* reg_optout_pow_bits_of returns the leading zero bits of o's PoW hash. */
unsigned reg_optout_pow_bits_of(const reg_optout *o);

/* ---- Salted hashing (salted.c) ------------------------------------------- */

enum reg_hash_path {
  REG_HASH_AUTO,   /* four lanes, AVX2 when the CPU has it */
  REG_HASH_LANES,  /* four lanes, compiled for the default target */
  REG_HASH_SCALAR, /* one address at a time (midstate only) */
};

/* reg_entries_hash_path is reg_entries_hash with the implementation
 * forced, so the tests can compare every path with libsodium. */
void reg_entries_hash_path(uint64_t *out, const uint8_t salt[REG_SALT_LEN],
                           const char *const *canon, const size_t *len,
                           size_t n, int path);

/* ---- Batches ---------------------------------------------------------------- */

struct reg_batch {
  reg_manifest m;
  uint8_t sender[NC_PK_LEN];
  uint64_t *entries;  /* m.count, sorted */
  uint8_t *blob;      /* every record's bytes, back to back */
  size_t *off;        /* n_records + 1 offsets into blob */
  size_t n_records;   /* 2 + tree nodes */
};

/* ---- reg_fetch internals for the batch file decoder --------------------- */

/* reg_fetch_node_key returns the key of tree node |i| (top-down numbering),
 * or NULL if it is not known yet. */
const uint8_t *reg_fetch_node_key(const reg_fetch *f, uint64_t i);
/* reg_fetch_sender returns the manifest's author key. */
const uint8_t *reg_fetch_sender(const reg_fetch *f);
/* reg_fetch_take_entries hands the entries of a complete fetch over to
 * the caller (free()), or returns NULL. */
uint64_t *reg_fetch_take_entries(reg_fetch *f, size_t *n);

#endif /* NOINTRUDE_REGISTRY_INTERNAL_H */
