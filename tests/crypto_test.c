/*
 * Tests for crypto.c: node identities and the ID puzzle (checked against a
 * reference computation written here from the brief's definition), the
 * per-peer key, XChaCha20-Poly1305 AEAD, sealed boxes, signatures, hashing,
 * hex decoding and nc_strerror.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/crypto.h>

#define DIFF 12 /* test difficulty, bits: ~4096 tries per identity */

static const uint8_t seed_a[NC_SEED_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t seed_b[NC_SEED_LEN] = {0xb0, 0x0b};
static const uint8_t seed_c[NC_SEED_LEN] = {0xc0, 0xff, 0xee};

/* The order-8 torsion point used as a "weak key" (crypto_core_ed25519's
 * small-order blacklist; the test below asserts its order). */
static const uint8_t small_order_pk[NC_PK_LEN] = {
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
    0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
    0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};

static int group_setup(void **state) {
  (void)state;
  return nc_init();
}

/* ---- Reference puzzle, straight from the brief ------------------------- */

/* ref_id: BLAKE2b-256(pk || le64 nonce). */
static void ref_id(uint8_t id[NC_ID_LEN], const uint8_t pk[NC_PK_LEN],
                   uint64_t nonce) {
  uint8_t buf[NC_PK_LEN + 8];
  memcpy(buf, pk, NC_PK_LEN);
  for (int i = 0; i < 8; i++) buf[NC_PK_LEN + i] = (uint8_t)(nonce >> (8 * i));
  crypto_generichash(id, NC_ID_LEN, buf, sizeof buf, NULL, 0);
}

/* ref_bits: leading zero bits of BLAKE2b-256("nointrude-id-pow" || id). */
static unsigned ref_bits(const uint8_t id[NC_ID_LEN]) {
  static const char tag[] = "nointrude-id-pow";
  uint8_t buf[sizeof tag - 1 + NC_ID_LEN], digest[32];
  unsigned bits = 0;
  memcpy(buf, tag, sizeof tag - 1);
  memcpy(buf + sizeof tag - 1, id, NC_ID_LEN);
  crypto_generichash(digest, sizeof digest, buf, sizeof buf, NULL, 0);
  for (unsigned i = 0; i < 256; i++) {
    if (digest[i / 8] & (0x80 >> (i % 8))) break;
    bits++;
  }
  return bits;
}

static int ref_ok(const uint8_t pk[NC_PK_LEN], uint64_t nonce, unsigned d) {
  uint8_t id[NC_ID_LEN];
  ref_id(id, pk, nonce);
  return ref_bits(id) >= d;
}

/* ---- Identities and the puzzle ----------------------------------------- */

static void test_identity_generate(void **state) {
  nc_identity a;
  uint8_t id[NC_ID_LEN], ref[NC_ID_LEN], sig[NC_SIG_LEN];
  (void)state;
  assert_int_equal(nc_identity_generate(&a, DIFF), 0);
  ref_id(ref, a.pk, a.nonce);
  assert_memory_equal(a.id, ref, NC_ID_LEN);
  assert_true(ref_bits(a.id) >= DIFF);
  assert_int_equal(nc_id_puzzle_bits(a.id), ref_bits(a.id));
  assert_int_equal(nc_id_verify(id, a.pk, a.nonce, DIFF), 0);
  assert_memory_equal(id, a.id, NC_ID_LEN);
  assert_int_equal(nc_id_verify(NULL, a.pk, a.nonce, DIFF), 0);
  nc_sign(sig, (const uint8_t *)"x", 1, a.sk); /* sk belongs to pk */
  assert_int_equal(nc_verify(sig, (const uint8_t *)"x", 1, a.pk), 0);
  nc_identity_wipe(&a);
  assert_true(sodium_is_zero(a.sk, sizeof a.sk));
}

/* Every other nonce / key must be judged exactly as the reference does,
 * and at DIFF bits most of them fail. */
static void test_id_verify_wrong_nonce_or_pk(void **state) {
  nc_identity a, b;
  uint8_t id[NC_ID_LEN];
  unsigned rejected = 0;
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, DIFF, 0, 0), 0);
  assert_int_equal(nc_identity_from_seed(&b, seed_b, DIFF, 0, 0), 0);
  for (uint64_t n = a.nonce + 1; n <= a.nonce + 64; n++) {
    int want = ref_ok(a.pk, n, DIFF) ? 0 : NC_ERR_PUZZLE;
    memset(id, 0xaa, sizeof id);
    assert_int_equal(nc_id_verify(id, a.pk, n, DIFF), want);
    if (want != 0) assert_true(sodium_is_zero(id, sizeof id));
    rejected += want != 0;
    want = ref_ok(b.pk, n, DIFF) ? 0 : NC_ERR_PUZZLE;
    assert_int_equal(nc_id_verify(NULL, b.pk, n, DIFF), want);
    rejected += want != 0;
  }
  assert_true(rejected >= 100); /* expected 128 - 128/4096 */
  /* b's key with a's nonce: the proof of work does not transfer. */
  assert_int_equal(nc_id_verify(NULL, b.pk, a.nonce, DIFF),
                   ref_ok(b.pk, a.nonce, DIFF) ? 0 : NC_ERR_PUZZLE);
  assert_int_equal(nc_id_verify(NULL, a.pk, a.nonce + 1, DIFF),
                   NC_ERR_PUZZLE);
}

/* A key that is not a valid point is refused even with a valid puzzle. */
static void test_id_verify_bad_key(void **state) {
  uint64_t n = 0;
  (void)state;
  while (!ref_ok(small_order_pk, n, 8)) {
    n++;
    assert_true(n < 100000); /* 2^8 expected */
  }
  assert_int_equal(nc_id_verify(NULL, small_order_pk, n, 8), NC_ERR_BAD_KEY);
}

static void test_difficulty_limit(void **state) {
  nc_identity a;
  int want;
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, DIFF, 0, 0), 0);
  assert_int_equal(nc_id_verify(NULL, a.pk, a.nonce, NC_ID_DIFFICULTY_MAX + 1),
                   NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_id_verify(NULL, a.pk, a.nonce, 1000),
                   NC_ERR_INVALID_ARGUMENT);
  /* The maximum itself is a legal target, judged like any other. */
  want = ref_ok(a.pk, a.nonce, NC_ID_DIFFICULTY_MAX) ? 0 : NC_ERR_PUZZLE;
  assert_int_equal(nc_id_verify(NULL, a.pk, a.nonce, NC_ID_DIFFICULTY_MAX),
                   want);
  assert_int_equal(
      nc_identity_from_seed(&a, seed_a, NC_ID_DIFFICULTY_MAX + 1, 0, 0),
      NC_ERR_INVALID_ARGUMENT);
  assert_int_equal(nc_identity_generate(&a, NC_ID_DIFFICULTY_MAX + 1),
                   NC_ERR_INVALID_ARGUMENT);
}

static void test_identity_from_seed_deterministic(void **state) {
  nc_identity a, a2, later;
  uint8_t pk[NC_PK_LEN], sk[NC_SK_LEN];
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, DIFF, 0, 0), 0);
  assert_int_equal(nc_identity_from_seed(&a2, seed_a, DIFF, 0, 0), 0);
  assert_memory_equal(&a, &a2, sizeof a);
  assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed_a), 0);
  assert_memory_equal(a.pk, pk, NC_PK_LEN);
  assert_memory_equal(a.sk, sk, NC_SK_LEN);
  /* The nonce found is the first one meeting the target. */
  for (uint64_t n = 0; n < a.nonce; n++) assert_false(ref_ok(a.pk, n, DIFF));
  /* Starting later finds a later nonce, same key. */
  assert_int_equal(nc_identity_from_seed(&later, seed_a, DIFF, a.nonce + 1, 0),
                   0);
  assert_true(later.nonce > a.nonce);
  assert_memory_equal(later.pk, a.pk, NC_PK_LEN);
  assert_true(ref_ok(later.pk, later.nonce, DIFF));
}

static void test_identity_budget(void **state) {
  nc_identity a;
  (void)state;
  memset(&a, 0xaa, sizeof a);
  assert_int_equal(nc_identity_from_seed(&a, seed_a, 64, 0, 100),
                   NC_ERR_NOT_FOUND);
  assert_true(sodium_is_zero((const uint8_t *)&a, sizeof a));
  /* Counting up from near UINT64_MAX stops at the top instead of wrapping. */
  assert_int_equal(nc_identity_from_seed(&a, seed_a, 64, UINT64_MAX - 2, 0),
                   NC_ERR_NOT_FOUND);
  assert_int_equal(nc_identity_from_seed(NULL, seed_a, 0, 0, 0),
                   NC_ERR_INVALID_ARGUMENT);
}

/* ---- Signatures and hashing -------------------------------------------- */

static void test_sign_verify(void **state) {
  nc_identity a;
  uint8_t msg[100], sig[NC_SIG_LEN];
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, 0, 0, 0), 0);
  randombytes_buf(msg, sizeof msg);
  nc_sign(sig, msg, sizeof msg, a.sk);
  assert_int_equal(nc_verify(sig, msg, sizeof msg, a.pk), 0);
  msg[50] ^= 1;
  assert_int_equal(nc_verify(sig, msg, sizeof msg, a.pk), NC_ERR_VERIFY);
  msg[50] ^= 1;
  sig[10] ^= 1;
  assert_int_equal(nc_verify(sig, msg, sizeof msg, a.pk), NC_ERR_VERIFY);
}

static void test_hash(void **state) {
  static const uint8_t key[32] = {9};
  uint8_t a[32], b[32], c[32];
  nc_hasher h;
  (void)state;
  nc_hash(a, sizeof a, NULL, 0, (const uint8_t *)"hello world", 11);
  crypto_generichash(b, sizeof b, (const uint8_t *)"hello world", 11, NULL, 0);
  assert_memory_equal(a, b, sizeof a);
  nc_hash(c, sizeof c, key, sizeof key, (const uint8_t *)"hello world", 11);
  assert_memory_not_equal(a, c, sizeof a);
  nc_hasher_init(&h, key, sizeof key, sizeof b);
  nc_hasher_update(&h, "hello", 5);
  nc_hasher_update(&h, " world", 6);
  nc_hasher_final(&h, b, sizeof b);
  assert_memory_equal(b, c, sizeof b);
}

/* ---- Per-peer key and AEAD --------------------------------------------- */

static void test_peer_key(void **state) {
  nc_identity a, b, c;
  uint8_t ab[NC_SHARED_LEN], ba[NC_SHARED_LEN], ac[NC_SHARED_LEN];
  uint8_t ca[NC_SHARED_LEN], bc[NC_SHARED_LEN], bad[NC_SHARED_LEN];
  uint8_t t[NC_PK_LEN];
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, 0, 0, 0), 0);
  assert_int_equal(nc_identity_from_seed(&b, seed_b, 0, 0, 0), 0);
  assert_int_equal(nc_identity_from_seed(&c, seed_c, 0, 0, 0), 0);
  assert_int_equal(nc_peer_key(ab, a.sk, a.pk, b.pk), 0);
  assert_int_equal(nc_peer_key(ba, b.sk, b.pk, a.pk), 0);
  assert_memory_equal(ab, ba, sizeof ab);
  assert_int_equal(nc_peer_key(ac, a.sk, a.pk, c.pk), 0);
  assert_int_equal(nc_peer_key(ca, c.sk, c.pk, a.pk), 0);
  assert_memory_equal(ac, ca, sizeof ac);
  assert_int_equal(nc_peer_key(bc, b.sk, b.pk, c.pk), 0);
  assert_memory_not_equal(ab, ac, sizeof ab);
  assert_memory_not_equal(ab, bc, sizeof ab);
  assert_memory_not_equal(ac, bc, sizeof ab);
  /* The test's weak key really has order 8. */
  memcpy(t, small_order_pk, sizeof t);
  assert_int_equal(crypto_core_ed25519_add(t, t, t), 0);
  assert_int_equal(crypto_core_ed25519_add(t, t, t), 0);
  assert_int_equal(crypto_core_ed25519_add(t, t, t), 0);
  assert_true(t[0] == 1 && sodium_is_zero(t + 1, sizeof t - 1));
  memset(bad, 0xaa, sizeof bad);
  assert_int_equal(nc_peer_key(bad, a.sk, a.pk, small_order_pk),
                   NC_ERR_BAD_KEY);
  assert_true(sodium_is_zero(bad, sizeof bad));
}

typedef struct aead_case {
  uint8_t key[NC_SHARED_LEN], nonce[NC_AEAD_NONCE_LEN], ad[44];
  uint8_t plain[1000], cipher[1000 + NC_AEAD_TAG_LEN], out[1000];
} aead_case;

static void aead_fill(aead_case *t) {
  randombytes_buf(t->key, sizeof t->key);
  randombytes_buf(t->nonce, sizeof t->nonce);
  randombytes_buf(t->ad, sizeof t->ad);
  randombytes_buf(t->plain, sizeof t->plain);
  nc_aead_seal(t->cipher, t->plain, sizeof t->plain, t->ad, sizeof t->ad,
               t->nonce, t->key);
}

static int aead_try(aead_case *t) {
  return nc_aead_open(t->out, t->cipher, sizeof t->cipher, t->ad,
                      sizeof t->ad, t->nonce, t->key);
}

static void test_aead_roundtrip(void **state) {
  static aead_case t;
  uint8_t buf[64 + NC_AEAD_TAG_LEN], tag_only[NC_AEAD_TAG_LEN];
  (void)state;
  aead_fill(&t);
  assert_memory_not_equal(t.cipher, t.plain, sizeof t.plain);
  assert_int_equal(aead_try(&t), 0);
  assert_memory_equal(t.out, t.plain, sizeof t.plain);
  /* In place, as the header allows. */
  memcpy(buf, t.plain, 64);
  nc_aead_seal(buf, buf, 64, t.ad, sizeof t.ad, t.nonce, t.key);
  assert_int_equal(nc_aead_open(buf, buf, sizeof buf, t.ad, sizeof t.ad,
                                t.nonce, t.key), 0);
  assert_memory_equal(buf, t.plain, 64);
  /* Empty plaintext, no AD: a bare tag. */
  nc_aead_seal(tag_only, NULL, 0, NULL, 0, t.nonce, t.key);
  assert_int_equal(
      nc_aead_open(buf, tag_only, sizeof tag_only, NULL, 0, t.nonce, t.key), 0);
}

static void test_aead_tamper(void **state) {
  static aead_case t;
  static const size_t spots[] = {0, 500, 999, 1000, 1015};
  (void)state;
  aead_fill(&t);
  for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
    t.cipher[spots[i]] ^= 0x01;
    assert_int_equal(aead_try(&t), NC_ERR_DECRYPT);
    t.cipher[spots[i]] ^= 0x01;
  }
  t.ad[43] ^= 0x80;
  assert_int_equal(aead_try(&t), NC_ERR_DECRYPT);
  t.ad[43] ^= 0x80;
  t.nonce[23] ^= 0x01;
  assert_int_equal(aead_try(&t), NC_ERR_DECRYPT);
  t.nonce[23] ^= 0x01;
  t.key[0] ^= 0x01;
  assert_int_equal(aead_try(&t), NC_ERR_DECRYPT);
  t.key[0] ^= 0x01;
  assert_int_equal(nc_aead_open(t.out, t.cipher, NC_AEAD_TAG_LEN - 1, t.ad,
                                sizeof t.ad, t.nonce, t.key), NC_ERR_DECRYPT);
  assert_int_equal(nc_aead_open(t.out, t.cipher, sizeof t.cipher - 1, t.ad,
                                sizeof t.ad, t.nonce, t.key), NC_ERR_DECRYPT);
  assert_int_equal(aead_try(&t), 0); /* restored: opens again */
}

/* ---- Sealed boxes ------------------------------------------------------ */

static void test_seal(void **state) {
  nc_identity a, b;
  uint8_t plain[200], sealed[200 + NC_SEAL_OVERHEAD], out[200];
  (void)state;
  assert_int_equal(nc_identity_from_seed(&a, seed_a, 0, 0, 0), 0);
  assert_int_equal(nc_identity_from_seed(&b, seed_b, 0, 0, 0), 0);
  randombytes_buf(plain, sizeof plain);
  assert_int_equal(nc_seal(sealed, plain, sizeof plain, b.pk), 0);
  assert_int_equal(nc_seal_open(out, sealed, sizeof sealed, b.pk, b.sk), 0);
  assert_memory_equal(out, plain, sizeof plain);
  assert_int_equal(nc_seal_open(out, sealed, sizeof sealed, a.pk, a.sk),
                   NC_ERR_DECRYPT);
  sealed[100] ^= 1;
  assert_int_equal(nc_seal_open(out, sealed, sizeof sealed, b.pk, b.sk),
                   NC_ERR_DECRYPT);
  sealed[100] ^= 1;
  assert_int_equal(nc_seal_open(out, sealed, NC_SEAL_OVERHEAD - 1, b.pk, b.sk),
                   NC_ERR_DECRYPT);
  assert_int_equal(nc_seal(sealed, plain, sizeof plain, small_order_pk),
                   NC_ERR_BAD_KEY);
}

/* ---- Hex and errors ---------------------------------------------------- */

static void test_hex(void **state) {
  static const uint8_t bytes[4] = {0x00, 0xff, 0x10, 0xab};
  uint8_t out[4];
  char hex[9];
  (void)state;
  nc_hex_encode(hex, bytes, sizeof bytes);
  assert_string_equal(hex, "00ff10ab");
  assert_int_equal(nc_hex_decode(out, 4, hex), 0);
  assert_memory_equal(out, bytes, 4);
  assert_int_equal(nc_hex_decode(out, 4, "00FF10AB"), 0);
  assert_memory_equal(out, bytes, 4);
  assert_int_equal(nc_hex_decode(out, 0, ""), 0);
}

static void test_hex_rejects(void **state) {
  static const char *const bad[] = {
      "00ff10a",   /* odd length */
      "00ff10abc", /* odd, one too many */
      "00ff10ab00", /* trailing characters */
      "00ff10ab ", "00ff10ab\n", " 00ff10a",
      "00fg10ab",  /* non-hex */
      "0xff10ab", "00ff-0ab", "",
  };
  uint8_t out[4];
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(out, 0xaa, sizeof out);
    assert_int_equal(nc_hex_decode(out, 4, bad[i]), NC_ERR_INVALID_ARGUMENT);
    assert_true(sodium_is_zero(out, sizeof out));
  }
  assert_int_equal(nc_hex_decode(out, 4, NULL), NC_ERR_INVALID_ARGUMENT);
}

static void test_strerror(void **state) {
  static const struct {
    int code;
    const char *text;
  } codes[] = {
#define NC_ERR_ROW(name, value, text) {name, text},
      NC_ERRORS(NC_ERR_ROW)
#undef NC_ERR_ROW
  };
  const size_t n = sizeof codes / sizeof codes[0];
  (void)state;
  assert_true(n >= 7);
  for (size_t i = 0; i < n; i++) {
    const char *s = nc_strerror(codes[i].code);
    assert_true(codes[i].code < 0);
    assert_non_null(s);
    assert_string_equal(s, codes[i].text);
    assert_string_not_equal(s, "unknown error");
    for (size_t j = 0; j < i; j++) assert_string_not_equal(s, codes[j].text);
  }
  assert_string_equal(nc_strerror(0), "success");
  assert_string_equal(nc_strerror(-1000), "unknown error");
  assert_string_equal(nc_strerror(1), "unknown error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity_generate),
      cmocka_unit_test(test_id_verify_wrong_nonce_or_pk),
      cmocka_unit_test(test_id_verify_bad_key),
      cmocka_unit_test(test_difficulty_limit),
      cmocka_unit_test(test_identity_from_seed_deterministic),
      cmocka_unit_test(test_identity_budget),
      cmocka_unit_test(test_sign_verify),
      cmocka_unit_test(test_hash),
      cmocka_unit_test(test_peer_key),
      cmocka_unit_test(test_aead_roundtrip),
      cmocka_unit_test(test_aead_tamper),
      cmocka_unit_test(test_seal),
      cmocka_unit_test(test_hex),
      cmocka_unit_test(test_hex_rejects),
      cmocka_unit_test(test_strerror),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
