/*
 * Identities, the node-ID puzzle, signatures, per-peer datagram keys and
 * AEAD, sealed boxes, hashing and hex helpers, all on libsodium. The VRF
 * lives in vrf.c.
 */
#include <nointrude/crypto.h>

#include <string.h>

static const char puzzle_tag[] = "nointrude-id-pow";
static const char dgram_tag[] = "nointrude-dgram-v1";

const char *nc_strerror(int err) {
  switch (err) {
#define NC_ERR_CASE(name, value, text) \
  case name:                           \
    return text;
    NC_ERRORS(NC_ERR_CASE)
#undef NC_ERR_CASE
  case 0:
    return "success";
  default:
    return "unknown error";
  }
}

int nc_init(void) { return sodium_init() < 0 ? NC_ERR_INIT : 0; }

static void put_le64(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
}

void nc_node_id(uint8_t id[NC_ID_LEN], const uint8_t pk[NC_PK_LEN],
                uint64_t nonce) {
  uint8_t le[8];
  nc_hasher h;
  put_le64(le, nonce);
  nc_hasher_init(&h, NULL, 0, NC_ID_LEN);
  nc_hasher_update(&h, pk, NC_PK_LEN);
  nc_hasher_update(&h, le, sizeof le);
  nc_hasher_final(&h, id, NC_ID_LEN);
}

unsigned nc_id_puzzle_bits(const uint8_t id[NC_ID_LEN]) {
  uint8_t digest[NC_HASH_LEN];
  nc_hasher h;
  unsigned bits = 0;
  nc_hasher_init(&h, NULL, 0, sizeof digest);
  nc_hasher_update(&h, puzzle_tag, sizeof puzzle_tag - 1);
  nc_hasher_update(&h, id, NC_ID_LEN);
  nc_hasher_final(&h, digest, sizeof digest);
  for (size_t i = 0; i < sizeof digest; i++) {
    if (digest[i] == 0) {
      bits += 8;
      continue;
    }
    for (uint8_t b = digest[i]; !(b & 0x80); b = (uint8_t)(b << 1)) bits++;
    break;
  }
  return bits;
}

int nc_id_verify(uint8_t *id_out, const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                 unsigned difficulty) {
  uint8_t id[NC_ID_LEN];
  if (id_out) memset(id_out, 0, NC_ID_LEN);
  if (difficulty > NC_ID_DIFFICULTY_MAX) return NC_ERR_INVALID_ARGUMENT;
  nc_node_id(id, pk, nonce);
  if (nc_id_puzzle_bits(id) < difficulty) return NC_ERR_PUZZLE;
  /* The cheap hash check runs first so a garbage key costs us two
   * hashes, not a point decompression. */
  if (!crypto_core_ed25519_is_valid_point(pk)) return NC_ERR_BAD_KEY;
  if (id_out) memcpy(id_out, id, NC_ID_LEN);
  return 0;
}

int nc_id_check_puzzle(uint8_t *id_out, const uint8_t pk[NC_PK_LEN],
                       uint64_t nonce, unsigned difficulty) {
  uint8_t id[NC_ID_LEN];
  if (id_out) memset(id_out, 0, NC_ID_LEN);
  if (difficulty > NC_ID_DIFFICULTY_MAX) return NC_ERR_INVALID_ARGUMENT;
  nc_node_id(id, pk, nonce);
  if (nc_id_puzzle_bits(id) < difficulty) return NC_ERR_PUZZLE;
  if (id_out) memcpy(id_out, id, NC_ID_LEN);
  return 0;
}

int nc_identity_from_seed(nc_identity *out, const uint8_t seed[NC_SEED_LEN],
                          unsigned difficulty, uint64_t start_nonce,
                          uint64_t max_tries) {
  if (!out || !seed || difficulty > NC_ID_DIFFICULTY_MAX)
    return NC_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (crypto_sign_seed_keypair(out->pk, out->sk, seed) != 0)
    return NC_ERR_INVALID_ARGUMENT;
  for (uint64_t n = start_nonce, tries = 0; max_tries == 0 || tries < max_tries;
       n++, tries++) {
    nc_node_id(out->id, out->pk, n);
    if (nc_id_puzzle_bits(out->id) >= difficulty) {
      out->nonce = n;
      return 0;
    }
    if (n == UINT64_MAX) break;
  }
  /* Leave nothing of the key pair behind, public half included. */
  sodium_memzero(out, sizeof *out);
  return NC_ERR_NOT_FOUND;
}

int nc_identity_generate(nc_identity *out, unsigned difficulty) {
  uint8_t seed[NC_SEED_LEN];
  int rv;
  randombytes_buf(seed, sizeof seed);
  rv = nc_identity_from_seed(out, seed, difficulty, 0, 0);
  sodium_memzero(seed, sizeof seed);
  return rv;
}

void nc_identity_wipe(nc_identity *ident) {
  if (ident) sodium_memzero(ident->sk, sizeof ident->sk);
}

void nc_sign(uint8_t sig[NC_SIG_LEN], const uint8_t *msg, size_t len,
             const uint8_t sk[NC_SK_LEN]) {
  crypto_sign_detached(sig, NULL, msg, len, sk);
}

int nc_verify(const uint8_t sig[NC_SIG_LEN], const uint8_t *msg, size_t len,
              const uint8_t pk[NC_PK_LEN]) {
  return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0
                                                             : NC_ERR_VERIFY;
}

/* is_canonical returns 1 if the y coordinate encoded in |pk| (sign bit
 * cleared) is below p = 2^255 - 19. libsodium 1.0.18's
 * crypto_sign_ed25519_pk_to_curve25519 rejects small-order points and
 * points off the main subgroup but, unlike
 * crypto_core_ed25519_is_valid_point, not non-canonical encodings (y >= p,
 * aliases of y - p): this check closes that gap for 32 compares. */
static int is_canonical(const uint8_t pk[NC_PK_LEN]) {
  if ((pk[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i > 0; i--)
    if (pk[i] != 0xff) return 1;
  return pk[0] < 0xed;
}

int nc_pk_to_x25519(uint8_t x[32], const uint8_t pk[NC_PK_LEN]) {
  if (!is_canonical(pk) || crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0) {
    memset(x, 0, 32);
    return NC_ERR_BAD_KEY;
  }
  return 0;
}

int nc_kx_init(nc_kx *kx, const uint8_t sk[NC_SK_LEN]) {
  memset(kx, 0, sizeof *kx);
  if (crypto_sign_ed25519_sk_to_curve25519(kx->x_sk, sk) != 0)
    return NC_ERR_BAD_KEY;
  memcpy(kx->pk, sk + NC_SEED_LEN, NC_PK_LEN);
  return 0;
}

void nc_kx_wipe(nc_kx *kx) {
  if (kx) sodium_memzero(kx, sizeof *kx);
}

int nc_kx_peer_key_x(uint8_t key[NC_SHARED_LEN], const nc_kx *kx,
                     const uint8_t their_pk[NC_PK_LEN],
                     const uint8_t their_x[32]) {
  uint8_t shared[crypto_scalarmult_curve25519_BYTES];
  const uint8_t *lo = kx->pk, *hi = their_pk;
  nc_hasher h;
  memset(key, 0, NC_SHARED_LEN);
  /* crypto_scalarmult fails on an all-zero (small-order) result. */
  if (crypto_scalarmult(shared, kx->x_sk, their_x) != 0) {
    sodium_memzero(shared, sizeof shared);
    return NC_ERR_BAD_KEY;
  }
  if (memcmp(kx->pk, their_pk, NC_PK_LEN) > 0) {
    lo = their_pk;
    hi = kx->pk;
  }
  nc_hasher_init(&h, shared, sizeof shared, NC_SHARED_LEN);
  nc_hasher_update(&h, dgram_tag, sizeof dgram_tag - 1);
  nc_hasher_update(&h, lo, NC_PK_LEN);
  nc_hasher_update(&h, hi, NC_PK_LEN);
  nc_hasher_final(&h, key, NC_SHARED_LEN);
  sodium_memzero(shared, sizeof shared);
  return 0;
}

int nc_kx_peer_key(uint8_t key[NC_SHARED_LEN], const nc_kx *kx,
                   const uint8_t their_pk[NC_PK_LEN]) {
  uint8_t their_x[crypto_scalarmult_curve25519_BYTES];
  memset(key, 0, NC_SHARED_LEN);
  if (nc_pk_to_x25519(their_x, their_pk) != 0) return NC_ERR_BAD_KEY;
  return nc_kx_peer_key_x(key, kx, their_pk, their_x);
}

int nc_peer_key(uint8_t key[NC_SHARED_LEN], const uint8_t our_sk[NC_SK_LEN],
                const uint8_t our_pk[NC_PK_LEN],
                const uint8_t their_pk[NC_PK_LEN]) {
  nc_kx kx;
  memset(key, 0, NC_SHARED_LEN);
  int rv = nc_kx_init(&kx, our_sk);
  /* nc_kx_init takes our pk from sk; the caller's copy is authoritative */
  if (rv == 0) {
    memcpy(kx.pk, our_pk, NC_PK_LEN);
    rv = nc_kx_peer_key(key, &kx, their_pk);
  }
  nc_kx_wipe(&kx);
  return rv;
}

void nc_aead_seal(uint8_t *out, const uint8_t *plain, size_t plain_len,
                  const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[NC_AEAD_NONCE_LEN],
                  const uint8_t key[NC_SHARED_LEN]) {
  crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, plain, plain_len, ad,
                                             ad_len, NULL, nonce, key);
}

int nc_aead_open(uint8_t *out, const uint8_t *cipher, size_t cipher_len,
                 const uint8_t *ad, size_t ad_len,
                 const uint8_t nonce[NC_AEAD_NONCE_LEN],
                 const uint8_t key[NC_SHARED_LEN]) {
  if (cipher_len < NC_AEAD_TAG_LEN) return NC_ERR_DECRYPT;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, cipher,
                                                 cipher_len, ad, ad_len, nonce,
                                                 key) != 0)
    return NC_ERR_DECRYPT;
  return 0;
}

int nc_seal(uint8_t *out, const uint8_t *plain, size_t plain_len,
            const uint8_t recipient_pk[NC_PK_LEN]) {
  uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
  if (crypto_sign_ed25519_pk_to_curve25519(x_pk, recipient_pk) != 0)
    return NC_ERR_BAD_KEY;
  if (crypto_box_seal(out, plain, plain_len, x_pk) != 0) return NC_ERR_BAD_KEY;
  return 0;
}

int nc_seal_open(uint8_t *out, const uint8_t *sealed, size_t sealed_len,
                 const uint8_t pk[NC_PK_LEN], const uint8_t sk[NC_SK_LEN]) {
  uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
  uint8_t x_sk[crypto_box_SECRETKEYBYTES];
  int rv = NC_ERR_BAD_KEY;
  if (sealed_len < NC_SEAL_OVERHEAD) return NC_ERR_DECRYPT;
  if (crypto_sign_ed25519_pk_to_curve25519(x_pk, pk) != 0) goto out;
  if (crypto_sign_ed25519_sk_to_curve25519(x_sk, sk) != 0) goto out;
  rv = crypto_box_seal_open(out, sealed, sealed_len, x_pk, x_sk) == 0
           ? 0
           : NC_ERR_DECRYPT;
out:
  sodium_memzero(x_sk, sizeof x_sk);
  return rv;
}

void nc_hash(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
             const uint8_t *msg, size_t len) {
  crypto_generichash_blake2b(out, out_len, msg, len, key, key_len);
}

void nc_hasher_init(nc_hasher *h, const uint8_t *key, size_t key_len,
                    size_t out_len) {
  crypto_generichash_blake2b_init(&h->state, key, key_len, out_len);
}

void nc_hasher_update(nc_hasher *h, const void *data, size_t len) {
  crypto_generichash_blake2b_update(&h->state, data, len);
}

void nc_hasher_final(nc_hasher *h, uint8_t *out, size_t out_len) {
  crypto_generichash_blake2b_final(&h->state, out, out_len);
}

void nc_hex_encode(char *out, const uint8_t *in, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int nc_hex_decode(uint8_t *out, size_t len, const char *hex) {
  if (!out || len > SIZE_MAX / 2) return NC_ERR_INVALID_ARGUMENT;
  memset(out, 0, len);
  if (!hex || strlen(hex) != 2 * len) return NC_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < len; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      memset(out, 0, len);
      return NC_ERR_INVALID_ARGUMENT;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
