/*
 * nointrude crypto: identities, node-ID puzzles, signatures, per-peer
 * datagram encryption, sealed boxes, keyed hashing and ECVRF (RFC 9381).
 *
 * Everything here is built on libsodium and does no I/O: randomness comes
 * from libsodium's CSPRNG only where the API says so (key generation and
 * nonces); every function that can be made deterministic takes its inputs
 * explicitly so the simulator can reproduce runs.
 *
 * Naming: the prefix is nc_ ("nointrude crypto"); crypto_ is libsodium's.
 * Errors: functions return 0 on success or a negative NC_ERR_* code.
 */
#ifndef NOINTRUDE_CRYPTO_H
#define NOINTRUDE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NC_PK_LEN 32        /* Ed25519 public key */
#define NC_SEED_LEN 32      /* Ed25519 secret seed (RFC 8032 secret key) */
#define NC_SK_LEN 64        /* libsodium Ed25519 secret key: seed || pk */
#define NC_SIG_LEN 64       /* Ed25519 signature */
#define NC_ID_LEN 32        /* node ID: BLAKE2b-256(pk || nonce) */
#define NC_HASH_LEN 32      /* default BLAKE2b output */
#define NC_SHARED_LEN 32    /* per-peer datagram key */
#define NC_AEAD_NONCE_LEN 24 /* XChaCha20-Poly1305 nonce */
#define NC_AEAD_TAG_LEN 16  /* Poly1305 tag */
#define NC_SEAL_OVERHEAD 48 /* crypto_box_seal: ephemeral pk + tag */
#define NC_VRF_PROOF_LEN 80 /* ECVRF pi: Gamma(32) || c(16) || s(32) */
#define NC_VRF_OUTPUT_LEN 64 /* ECVRF beta: SHA-512 output */
#define NC_ID_DIFFICULTY_MAX 64 /* bits; a larger target is a usage error */

/* Error codes (negative). nc_strerror() names them. */
#define NC_ERRORS(X)                                              \
  X(NC_ERR_INVALID_ARGUMENT, -1, "invalid argument")              \
  X(NC_ERR_INIT, -2, "libsodium initialisation failed")           \
  X(NC_ERR_PUZZLE, -3, "node ID does not meet the puzzle target") \
  X(NC_ERR_BAD_KEY, -4, "invalid or weak public key")             \
  X(NC_ERR_VERIFY, -5, "signature or proof verification failed")  \
  X(NC_ERR_DECRYPT, -6, "authenticated decryption failed")        \
  X(NC_ERR_NOT_FOUND, -7, "no solution found within the budget")

enum nc_error {
#define NC_ERR_ENUM(name, value, text) name = value,
  NC_ERRORS(NC_ERR_ENUM)
#undef NC_ERR_ENUM
};

/* nc_strerror returns a static description of |err| (never NULL). */
const char *nc_strerror(int err);

/* nc_init initialises libsodium; call once before anything else.
 * Returns 0 or NC_ERR_INIT. Safe to call more than once. */
int nc_init(void);

/* ---- Identities and the node-ID puzzle ------------------------------ */

/* A node identity. |id| = BLAKE2b-256(pk || le64(nonce)); the identity is
 * valid at difficulty D when the first D bits of
 * BLAKE2b-256("nointrude-id-pow" || id) are zero (S/Kademlia's static
 * puzzle; mining cost 2^D hash pairs, verification one). */
typedef struct nc_identity {
  uint8_t pk[NC_PK_LEN];
  uint8_t sk[NC_SK_LEN]; /* secret: wipe with nc_identity_wipe */
  uint64_t nonce;        /* puzzle nonce */
  uint8_t id[NC_ID_LEN];
} nc_identity;

/* nc_node_id computes |id| from |pk| and |nonce| (no puzzle check). */
void nc_node_id(uint8_t id[NC_ID_LEN], const uint8_t pk[NC_PK_LEN],
                uint64_t nonce);

/* nc_id_puzzle_bits returns the number of leading zero bits of the puzzle
 * hash of |id| (0..256). */
unsigned nc_id_puzzle_bits(const uint8_t id[NC_ID_LEN]);

/* nc_id_verify checks that (pk, nonce) yields a node ID meeting
 * |difficulty| bits and writes the ID to |id_out| (may be NULL).
 * Returns 0, NC_ERR_PUZZLE or NC_ERR_BAD_KEY (pk not a valid point). */
int nc_id_verify(uint8_t *id_out, const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                 unsigned difficulty);

/* nc_id_check_puzzle is the cheap half of nc_id_verify: it checks only
 * that (pk, nonce) yields a node ID meeting |difficulty| bits (two BLAKE2b
 * hashes, no point decompression) and writes the ID to |id_out| (may be
 * NULL). Use it before key agreement: nc_peer_key / nc_kx_peer_key refuse
 * every key that nc_id_verify refuses (non-canonical, small-order, off the
 * prime-order subgroup), so the point check need not run twice.
 * Returns 0, NC_ERR_PUZZLE or NC_ERR_INVALID_ARGUMENT (difficulty). */
int nc_id_check_puzzle(uint8_t *id_out, const uint8_t pk[NC_PK_LEN],
                       uint64_t nonce, unsigned difficulty);

/* nc_identity_from_seed derives the key pair from |seed| and searches
 * nonces from |start_nonce| upward until the puzzle holds at |difficulty|,
 * trying at most |max_tries| nonces (0 = no limit).
 * Returns 0, NC_ERR_INVALID_ARGUMENT or NC_ERR_NOT_FOUND. */
int nc_identity_from_seed(nc_identity *out, const uint8_t seed[NC_SEED_LEN],
                          unsigned difficulty, uint64_t start_nonce,
                          uint64_t max_tries);

/* nc_identity_generate makes a fresh random identity meeting |difficulty|.
 * Returns 0 or NC_ERR_INVALID_ARGUMENT. */
int nc_identity_generate(nc_identity *out, unsigned difficulty);

/* nc_identity_wipe zeroes the secret parts of |ident|. */
void nc_identity_wipe(nc_identity *ident);

/* ---- Signatures ----------------------------------------------------- */

void nc_sign(uint8_t sig[NC_SIG_LEN], const uint8_t *msg, size_t len,
             const uint8_t sk[NC_SK_LEN]);
/* Returns 0 or NC_ERR_VERIFY. */
int nc_verify(const uint8_t sig[NC_SIG_LEN], const uint8_t *msg, size_t len,
              const uint8_t pk[NC_PK_LEN]);

/* ---- Per-peer datagram encryption ----------------------------------- */

/* nc_peer_key derives the symmetric key two nodes share:
 * BLAKE2b-256(key = X25519(our_x, their_x),
 *             msg = "nointrude-dgram-v1" || min(pkA,pkB) || max(pkA,pkB))
 * where X25519 keys are converted from the Ed25519 keys. Both ends get the
 * same key. Returns 0, NC_ERR_BAD_KEY (conversion failed or the shared
 * point is all zero). */
int nc_peer_key(uint8_t key[NC_SHARED_LEN], const uint8_t our_sk[NC_SK_LEN],
                const uint8_t our_pk[NC_PK_LEN],
                const uint8_t their_pk[NC_PK_LEN]);

/* A key-agreement context: our Ed25519 key converted to X25519 once, so
 * each peer costs one conversion of their key and one X25519, not two
 * conversions. Holds a secret: wipe with nc_kx_wipe. */
typedef struct nc_kx {
  uint8_t x_sk[32];       /* secret: our X25519 scalar */
  uint8_t pk[NC_PK_LEN];  /* our Ed25519 public key */
} nc_kx;

/* nc_kx_init converts the Ed25519 secret key |sk| (seed || pk) into |kx|.
 * Returns 0 or NC_ERR_BAD_KEY. */
int nc_kx_init(nc_kx *kx, const uint8_t sk[NC_SK_LEN]);

/* nc_kx_wipe zeroes |kx|. */
void nc_kx_wipe(nc_kx *kx);

/* nc_pk_to_x25519 converts a peer's Ed25519 public key |pk| to X25519,
 * refusing non-canonical encodings, small-order points and points off the
 * prime-order subgroup (the checks of crypto_core_ed25519_is_valid_point).
 * Returns 0 or NC_ERR_BAD_KEY (|x| zeroed). */
int nc_pk_to_x25519(uint8_t x[32], const uint8_t pk[NC_PK_LEN]);

/* nc_kx_peer_key derives the same key as nc_peer_key(our sk, our pk,
 * |their_pk|) from the context |kx|. Returns 0 or NC_ERR_BAD_KEY. */
int nc_kx_peer_key(uint8_t key[NC_SHARED_LEN], const nc_kx *kx,
                   const uint8_t their_pk[NC_PK_LEN]);

/* nc_kx_peer_key_x is nc_kx_peer_key for a peer whose X25519 key |their_x|
 * the caller already obtained from nc_pk_to_x25519(|their_pk|) (a
 * simulator memoises conversions; never pass an unchecked |their_x|).
 * Returns 0 or NC_ERR_BAD_KEY. */
int nc_kx_peer_key_x(uint8_t key[NC_SHARED_LEN], const nc_kx *kx,
                     const uint8_t their_pk[NC_PK_LEN],
                     const uint8_t their_x[32]);

/* nc_aead_seal encrypts |plain| into |out| (plain_len + NC_AEAD_TAG_LEN
 * bytes) with XChaCha20-Poly1305-IETF, binding |ad|. |out| may alias
 * |plain|. */
void nc_aead_seal(uint8_t *out, const uint8_t *plain, size_t plain_len,
                  const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[NC_AEAD_NONCE_LEN],
                  const uint8_t key[NC_SHARED_LEN]);

/* nc_aead_open decrypts |cipher| (cipher_len >= NC_AEAD_TAG_LEN) into
 * |out| (cipher_len - NC_AEAD_TAG_LEN bytes). Returns 0 or NC_ERR_DECRYPT. */
int nc_aead_open(uint8_t *out, const uint8_t *cipher, size_t cipher_len,
                 const uint8_t *ad, size_t ad_len,
                 const uint8_t nonce[NC_AEAD_NONCE_LEN],
                 const uint8_t key[NC_SHARED_LEN]);

/* ---- Sealed boxes (anonymous sender, to an Ed25519 key) -------------- */

/* nc_seal encrypts |plain| to the X25519 key converted from |recipient_pk|;
 * |out| holds plain_len + NC_SEAL_OVERHEAD bytes. Returns 0 or
 * NC_ERR_BAD_KEY. */
int nc_seal(uint8_t *out, const uint8_t *plain, size_t plain_len,
            const uint8_t recipient_pk[NC_PK_LEN]);
/* nc_seal_open opens a sealed box with the recipient's Ed25519 key pair.
 * Returns 0, NC_ERR_BAD_KEY or NC_ERR_DECRYPT. */
int nc_seal_open(uint8_t *out, const uint8_t *sealed, size_t sealed_len,
                 const uint8_t pk[NC_PK_LEN], const uint8_t sk[NC_SK_LEN]);

/* ---- Hashing -------------------------------------------------------- */

/* nc_hash writes BLAKE2b with |out_len| bytes (16..64) of |len| bytes,
 * keyed with |key| (key_len 0..64; NULL/0 = unkeyed). */
void nc_hash(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
             const uint8_t *msg, size_t len);

/* Incremental BLAKE2b-256 over several parts, for domain-separated hashes
 * like H(tag || a || b). */
typedef struct nc_hasher {
  crypto_generichash_blake2b_state state;
} nc_hasher;
void nc_hasher_init(nc_hasher *h, const uint8_t *key, size_t key_len,
                    size_t out_len);
void nc_hasher_update(nc_hasher *h, const void *data, size_t len);
void nc_hasher_final(nc_hasher *h, uint8_t *out, size_t out_len);

/* ---- ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381) ------------------------ */

/* nc_vrf_prove computes the proof |pi| for |alpha| under the secret seed
 * |sk_seed| (the RFC's SK). Returns 0 or NC_ERR_INVALID_ARGUMENT. */
int nc_vrf_prove(uint8_t pi[NC_VRF_PROOF_LEN],
                 const uint8_t sk_seed[NC_SEED_LEN], const uint8_t *alpha,
                 size_t alpha_len);

/* nc_vrf_verify checks |pi| for |alpha| under public key |pk| and writes
 * the output |beta| (zeroed unless 0 is returned). Returns 0,
 * NC_ERR_BAD_KEY (pk invalid, small order or outside the prime-order
 * subgroup), NC_ERR_VERIFY (proof invalid) or NC_ERR_INVALID_ARGUMENT
 * (NULL pointer, or NULL alpha with alpha_len > 0). */
int nc_vrf_verify(uint8_t beta[NC_VRF_OUTPUT_LEN],
                  const uint8_t pk[NC_PK_LEN],
                  const uint8_t pi[NC_VRF_PROOF_LEN], const uint8_t *alpha,
                  size_t alpha_len);

/* nc_vrf_proof_to_hash computes beta from a proof (no verification!).
 * Returns 0, NC_ERR_VERIFY (Gamma does not decode or s >= L) or
 * NC_ERR_INVALID_ARGUMENT (NULL pointer). */
int nc_vrf_proof_to_hash(uint8_t beta[NC_VRF_OUTPUT_LEN],
                         const uint8_t pi[NC_VRF_PROOF_LEN]);

/* ---- Encoding helpers ----------------------------------------------- */

/* nc_hex_encode writes 2*len hex digits and a NUL into |out|. */
void nc_hex_encode(char *out, const uint8_t *in, size_t len);
/* nc_hex_decode parses exactly 2*|len| hex digits (no prefix, no
 * trailing characters). Returns 0 or NC_ERR_INVALID_ARGUMENT. */
int nc_hex_decode(uint8_t *out, size_t len, const char *hex);

#ifdef __cplusplus
}
#endif

#endif /* NOINTRUDE_CRYPTO_H */
