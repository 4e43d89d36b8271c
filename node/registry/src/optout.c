/*
 * Opt-outs: the plaintext a user node seals to a batch's sender key.
 *
 *   [1, batch_id bin16, full_hash bin32, time_s, pow_nonce]
 *
 * The small proof of work (BLAKE2b-256("nointrude-optout-pow" ||
 * batch_id || full_hash || le64 time_s || le64 pow_nonce) with pow_bits
 * leading zero bits) makes flooding an inbox cost the flooder something;
 * it binds the batch, the address hash and the time, so a solution cannot
 * be replayed for another address. The box is libsodium's sealed box to
 * the X25519 form of the sender's Ed25519 key (nc_seal): relays and
 * storers see only ciphertext, and nobody learns who sealed it.
 */
#include <string.h>

#include "internal.h"

#define OPTOUT_VERSION 1
#define OPTOUT_POW_MAX 32 /* bits a sealer will mine (4e9 hashes) */
static const char optout_pow_tag[] = "nointrude-optout-pow";

int reg_optout_plain_encode(const reg_optout *o, uint8_t *buf, size_t cap,
                            size_t *len) {
  reg_mp_writer w;
  reg_mp_writer_init(&w, buf, cap);
  reg_mp_put_array(&w, 5);
  reg_mp_put_uint(&w, OPTOUT_VERSION);
  reg_mp_put_bin(&w, o->batch_id, REG_BATCH_ID_LEN);
  reg_mp_put_bin(&w, o->full_hash, REG_FULL_HASH_LEN);
  reg_mp_put_uint(&w, o->time_s);
  reg_mp_put_uint(&w, o->pow_nonce);
  return reg_mp_writer_done(&w, len);
}

int reg_optout_plain_decode(reg_optout *o, const uint8_t *buf, size_t len) {
  reg_mp_reader r;
  int rv;
  reg_mp_reader_init(&r, buf, len);
  reg_mp_get_array(&r, 5, 5);
  reg_mp_get_uint(&r, OPTOUT_VERSION, OPTOUT_VERSION);
  reg_mp_get_bin_copy(&r, o->batch_id, REG_BATCH_ID_LEN);
  reg_mp_get_bin_copy(&r, o->full_hash, REG_FULL_HASH_LEN);
  o->time_s = reg_mp_get_uint(&r, 0, UINT64_MAX);
  o->pow_nonce = reg_mp_get_uint(&r, 0, UINT64_MAX);
  rv = reg_mp_reader_done(&r);
  if (rv != 0) memset(o, 0, sizeof *o);
  return rv;
}

/* absorb hashes the fixed part of the PoW input. */
static void absorb(nc_hasher *h, const reg_optout *o) {
  uint8_t le[8];
  nc_hasher_init(h, NULL, 0, 32);
  nc_hasher_update(h, optout_pow_tag, sizeof optout_pow_tag - 1);
  nc_hasher_update(h, o->batch_id, REG_BATCH_ID_LEN);
  nc_hasher_update(h, o->full_hash, REG_FULL_HASH_LEN);
  reg_put_le(le, o->time_s, 8);
  nc_hasher_update(h, le, sizeof le);
}

static unsigned bits_with(const nc_hasher *base, uint64_t nonce) {
  nc_hasher h = *base;
  uint8_t le[8], out[32];
  reg_put_le(le, nonce, 8);
  nc_hasher_update(&h, le, sizeof le);
  nc_hasher_final(&h, out, sizeof out);
  return reg_zero_bits(out);
}

unsigned reg_optout_pow_bits_of(const reg_optout *o) {
  nc_hasher base;
  absorb(&base, o);
  return bits_with(&base, o->pow_nonce);
}

int reg_optout_seal(uint8_t out[REG_OPTOUT_SEALED_MAX], size_t *len,
                    reg_optout *o, const uint8_t sender_pk[NC_PK_LEN],
                    unsigned pow_bits) {
  uint8_t plain[REG_OPTOUT_PLAIN_MAX];
  size_t plen;
  nc_hasher base;
  uint64_t nonce = 0;
  if (len) *len = 0;
  if (!out || !len || !o || !sender_pk || pow_bits > OPTOUT_POW_MAX)
    return REG_ERR_INVALID_ARGUMENT;
  absorb(&base, o);
  /* Expected 2^pow_bits tries; 2^40 bounds the loop far above that. */
  while (bits_with(&base, nonce) < pow_bits)
    if (++nonce >> 40) return REG_ERR_INVALID_ARGUMENT;
  o->pow_nonce = nonce;
  if (reg_optout_plain_encode(o, plain, sizeof plain, &plen) != 0 ||
      nc_seal(out, plain, plen, sender_pk) != 0)
    return REG_ERR_INVALID_ARGUMENT;
  *len = plen + NC_SEAL_OVERHEAD;
  return 0;
}

int reg_optout_open(reg_optout *o, const uint8_t *sealed, size_t len,
                    const uint8_t pk[NC_PK_LEN], const uint8_t sk[NC_SK_LEN],
                    unsigned pow_bits) {
  uint8_t plain[REG_OPTOUT_PLAIN_MAX];
  size_t plen;
  int rv;
  if (!o) return REG_ERR_INVALID_ARGUMENT;
  memset(o, 0, sizeof *o);
  if (!sealed || !pk || !sk) return REG_ERR_INVALID_ARGUMENT;
  if (len < REG_OPTOUT_SEALED_MIN ||
      len > REG_OPTOUT_PLAIN_MAX + NC_SEAL_OVERHEAD)
    return REG_ERR_MALFORMED;
  plen = len - NC_SEAL_OVERHEAD;
  if (nc_seal_open(plain, sealed, len, pk, sk) != 0) return REG_ERR_DECRYPT;
  rv = reg_optout_plain_decode(o, plain, plen);
  sodium_memzero(plain, sizeof plain);
  if (rv == 0 && reg_optout_pow_bits_of(o) < pow_bits) rv = REG_ERR_POW;
  if (rv != 0) memset(o, 0, sizeof *o);
  return rv;
}
