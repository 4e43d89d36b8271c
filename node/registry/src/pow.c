/*
 * Proof of work for batches: a batch of more than 10,000 entries must
 * carry a nonce whose hash has base + ceil(log2(ceil(count / 10000)))
 * leading zero bits, so mining cost doubles when the batch doubles: the
 * cost per entry stays constant and flooding the network with large fake
 * batches costs the flooder in proportion to their size.
 *
 * The hash covers the sender key and the whole manifest payload except
 * the nonce (BLAKE2b-256("nointrude-batch-pow" || sender_pk || prefix ||
 * le64 nonce)), so a solution cannot be moved to another batch or key.
 * Mining absorbs the fixed prefix once and copies the hash state per try.
 *
 * An index record carries a proof of its own at the base bits, bound to
 * its author, window, batch id and count: announcing a batch costs what
 * the smallest batch costs, so filling an index window with announcements
 * costs work per record, and an announcement cannot be replayed into
 * another window or for another batch.
 */
#include <string.h>

#include "internal.h"

#define POW_STEP 10000 /* entries per doubling unit */
static const char batch_pow_tag[] = "nointrude-batch-pow";
static const char index_pow_tag[] = "nointrude-index-pow";

unsigned reg_zero_bits(const uint8_t h[32]) {
  unsigned bits = 0;
  for (size_t i = 0; i < 32; i++) {
    uint8_t b = h[i];
    if (b == 0) {
      bits += 8;
      continue;
    }
    while (!(b & 0x80)) bits++, b = (uint8_t)(b << 1);
    break;
  }
  return bits;
}

unsigned reg_batch_pow_bits(uint64_t count, unsigned base_bits) {
  uint64_t units;
  unsigned extra = 0;
  if (count <= POW_STEP) return base_bits;
  units = count / POW_STEP + (count % POW_STEP != 0);
  /* ceil(log2(units)) for units >= 2. */
  while (extra < 64 && (UINT64_C(1) << extra) < units) extra++;
  return base_bits + extra;
}

static void pow_absorb(nc_hasher *h, const uint8_t sender_pk[NC_PK_LEN],
                       const uint8_t *prefix, size_t prefix_len) {
  nc_hasher_init(h, NULL, 0, 32);
  nc_hasher_update(h, batch_pow_tag, sizeof batch_pow_tag - 1);
  nc_hasher_update(h, sender_pk, NC_PK_LEN);
  nc_hasher_update(h, prefix, prefix_len);
}

static void pow_finish(const nc_hasher *base, uint64_t nonce,
                       uint8_t out[32]) {
  nc_hasher h = *base;
  uint8_t le[8];
  reg_put_le(le, nonce, 8);
  nc_hasher_update(&h, le, sizeof le);
  nc_hasher_final(&h, out, 32);
}

void reg_batch_pow_hash(uint8_t out[32], const uint8_t sender_pk[NC_PK_LEN],
                        const uint8_t *prefix, size_t prefix_len,
                        uint64_t nonce) {
  nc_hasher base;
  pow_absorb(&base, sender_pk, prefix, prefix_len);
  pow_finish(&base, nonce, out);
}

/* Finds the smallest nonce whose hash after |base| has |bits| zero bits:
 * 2^bits tries on average; bits <= 64 keeps the search finite in
 * principle, callers keep it practical. Returns 0 or REG_ERR_POW. */
static int mine(const nc_hasher *base, unsigned bits, uint64_t *nonce_out) {
  uint8_t h[32];
  for (uint64_t nonce = 0;; nonce++) {
    pow_finish(base, nonce, h);
    if (reg_zero_bits(h) >= bits) {
      *nonce_out = nonce;
      return 0;
    }
    if (nonce == UINT64_MAX) return REG_ERR_POW;
  }
}

int reg_batch_pow_mine(reg_manifest *m, const uint8_t sender_pk[NC_PK_LEN],
                       unsigned bits) {
  uint8_t prefix[REG_MANIFEST_PAYLOAD_MAX];
  size_t plen;
  nc_hasher base;
  int rv;
  if (bits > 64) return REG_ERR_INVALID_ARGUMENT;
  rv = reg_manifest_pow_prefix(m, prefix, sizeof prefix, &plen);
  if (rv != 0) return rv;
  pow_absorb(&base, sender_pk, prefix, plen);
  return mine(&base, bits, &m->pow_nonce);
}

int reg_batch_pow_ok(const reg_manifest *m, const uint8_t sender_pk[NC_PK_LEN],
                     unsigned bits) {
  uint8_t prefix[REG_MANIFEST_PAYLOAD_MAX], h[32];
  size_t plen;
  if (reg_manifest_pow_prefix(m, prefix, sizeof prefix, &plen) != 0) return 0;
  reg_batch_pow_hash(h, sender_pk, prefix, plen, m->pow_nonce);
  return reg_zero_bits(h) >= bits;
}

/* Absorbs everything of the index proof but the nonce. */
static void index_pow_absorb(nc_hasher *h, const uint8_t author_pk[NC_PK_LEN],
                             const reg_index *x) {
  uint8_t le[8];
  nc_hasher_init(h, NULL, 0, 32);
  nc_hasher_update(h, index_pow_tag, sizeof index_pow_tag - 1);
  nc_hasher_update(h, author_pk, NC_PK_LEN);
  reg_put_le(le, x->window, 8);
  nc_hasher_update(h, le, sizeof le);
  nc_hasher_update(h, x->batch_id, REG_BATCH_ID_LEN);
  reg_put_le(le, x->count, 8);
  nc_hasher_update(h, le, sizeof le);
}

int reg_index_pow_mine(reg_index *x, const uint8_t author_pk[NC_PK_LEN],
                       unsigned bits) {
  nc_hasher base;
  if (!x || !author_pk || bits > 64) return REG_ERR_INVALID_ARGUMENT;
  index_pow_absorb(&base, author_pk, x);
  return mine(&base, bits, &x->pow_nonce);
}

int reg_index_pow_ok(const reg_index *x, const uint8_t author_pk[NC_PK_LEN],
                     unsigned bits) {
  nc_hasher base;
  uint8_t h[32];
  if (!x || !author_pk) return 0;
  index_pow_absorb(&base, author_pk, x);
  pow_finish(&base, x->pow_nonce, h);
  return reg_zero_bits(h) >= bits;
}
