/*
 * Tests for the key-agreement context and the puzzle-only check
 * (nc_kx_*, nc_pk_to_x25519, nc_id_check_puzzle): the keys equal
 * nc_peer_key's byte for byte, and key derivation refuses exactly the
 * public keys crypto_core_ed25519_is_valid_point refuses (non-canonical
 * encodings, small-order points, points with a torsion component), so the
 * engine may check only the puzzle before deriving a key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/crypto.h>

#define DIFF 8
#define RANDOM_KEYS 3000

/* Encodings of small-order points: y = 0, 1, -1 and two of order 8
 * (libsodium's blacklist in ge25519_has_small_order). */
static const uint8_t small_order[][NC_PK_LEN] = {
    {0x00},
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
};

static int group_setup(void **state) {
  (void)state;
  return nc_init();
}

static void make_ident(nc_identity *id, uint8_t tag) {
  uint8_t seed[NC_SEED_LEN] = {tag, 0x5a};
  assert_int_equal(nc_identity_from_seed(id, seed, DIFF, 0, 0), 0);
}

/* nc_kx_peer_key and nc_kx_peer_key_x give nc_peer_key's bytes, both
 * ends the same key, different pairs different keys. */
static void test_kx_matches_peer_key(void **state) {
  nc_identity id[4];
  (void)state;
  for (uint8_t i = 0; i < 4; i++) make_ident(&id[i], (uint8_t)(i + 1));
  for (int a = 0; a < 4; a++) {
    nc_kx kx;
    assert_int_equal(nc_kx_init(&kx, id[a].sk), 0);
    assert_memory_equal(kx.pk, id[a].pk, NC_PK_LEN);
    for (int b = 0; b < 4; b++) {
      uint8_t want[NC_SHARED_LEN], got[NC_SHARED_LEN], got_x[NC_SHARED_LEN];
      uint8_t back[NC_SHARED_LEN], x[32];
      if (a == b) continue;
      assert_int_equal(nc_peer_key(want, id[a].sk, id[a].pk, id[b].pk), 0);
      assert_int_equal(nc_kx_peer_key(got, &kx, id[b].pk), 0);
      assert_memory_equal(got, want, NC_SHARED_LEN);
      assert_int_equal(nc_pk_to_x25519(x, id[b].pk), 0);
      assert_int_equal(nc_kx_peer_key_x(got_x, &kx, id[b].pk, x), 0);
      assert_memory_equal(got_x, want, NC_SHARED_LEN);
      assert_int_equal(nc_peer_key(back, id[b].sk, id[b].pk, id[a].pk), 0);
      assert_memory_equal(back, want, NC_SHARED_LEN);
    }
    nc_kx_wipe(&kx);
    assert_true(sodium_is_zero((const uint8_t *)&kx, sizeof kx));
  }
  uint8_t k01[NC_SHARED_LEN], k02[NC_SHARED_LEN];
  assert_int_equal(nc_peer_key(k01, id[0].sk, id[0].pk, id[1].pk), 0);
  assert_int_equal(nc_peer_key(k02, id[0].sk, id[0].pk, id[2].pk), 0);
  assert_memory_not_equal(k01, k02, NC_SHARED_LEN);
}

/* Derivation refuses |pk|: every entry point, key zeroed. */
static void assert_refused(const uint8_t pk[NC_PK_LEN], const nc_kx *kx,
                           const nc_identity *me) {
  uint8_t key[NC_SHARED_LEN], x[32];
  memset(key, 0xaa, sizeof key);
  assert_int_equal(nc_kx_peer_key(key, kx, pk), NC_ERR_BAD_KEY);
  assert_true(sodium_is_zero(key, sizeof key));
  assert_int_equal(nc_peer_key(key, me->sk, me->pk, pk), NC_ERR_BAD_KEY);
  assert_int_equal(nc_pk_to_x25519(x, pk), NC_ERR_BAD_KEY);
  assert_true(sodium_is_zero(x, sizeof x));
}

static void test_small_order_refused(void **state) {
  nc_identity me;
  nc_kx kx;
  (void)state;
  make_ident(&me, 9);
  assert_int_equal(nc_kx_init(&kx, me.sk), 0);
  for (size_t i = 0; i < sizeof small_order / sizeof *small_order; i++) {
    uint8_t pk[NC_PK_LEN];
    memcpy(pk, small_order[i], NC_PK_LEN);
    assert_false(crypto_core_ed25519_is_valid_point(pk));
    assert_refused(pk, &kx, &me);
    pk[31] ^= 0x80; /* the other sign */
    assert_refused(pk, &kx, &me);
  }
  nc_kx_wipe(&kx);
}

/* y >= p: the 19 aliases y = p + t, both signs. libsodium 1.0.18's
 * pk_to_curve25519 alone does not check canonicity; nc_pk_to_x25519
 * must. */
static void test_non_canonical_refused(void **state) {
  nc_identity me;
  nc_kx kx;
  (void)state;
  make_ident(&me, 10);
  assert_int_equal(nc_kx_init(&kx, me.sk), 0);
  for (unsigned t = 0; t < 19; t++) {
    for (unsigned sign = 0; sign < 2; sign++) {
      uint8_t pk[NC_PK_LEN];
      memset(pk, 0xff, sizeof pk);
      pk[0] = (uint8_t)(0xed + t);
      pk[31] = sign ? 0xff : 0x7f;
      assert_false(crypto_core_ed25519_is_valid_point(pk));
      assert_refused(pk, &kx, &me);
    }
  }
  nc_kx_wipe(&kx);
}

/* A valid point plus a torsion point: on the curve, not in the prime-order
 * subgroup. */
static void test_mixed_order_refused(void **state) {
  nc_identity me, other;
  nc_kx kx;
  uint8_t mixed[NC_PK_LEN];
  (void)state;
  make_ident(&me, 11);
  make_ident(&other, 12);
  assert_int_equal(nc_kx_init(&kx, me.sk), 0);
  for (size_t i = 3; i < sizeof small_order / sizeof *small_order; i++) {
    assert_int_equal(crypto_core_ed25519_add(mixed, other.pk, small_order[i]),
                     0);
    assert_false(crypto_core_ed25519_is_valid_point(mixed));
    assert_refused(mixed, &kx, &me);
  }
  nc_kx_wipe(&kx);
}

/* Over random 32-byte strings (about half decode to curve points, an
 * eighth of those lie in the prime-order subgroup) derivation succeeds
 * exactly when crypto_core_ed25519_is_valid_point accepts. */
static void test_random_keys_agree_with_validation(void **state) {
  nc_identity me;
  nc_kx kx;
  unsigned valid = 0;
  (void)state;
  make_ident(&me, 13);
  assert_int_equal(nc_kx_init(&kx, me.sk), 0);
  for (int i = 0; i < RANDOM_KEYS; i++) {
    uint8_t pk[NC_PK_LEN], x[32];
    randombytes_buf(pk, sizeof pk);
    if (i % 3 == 0) crypto_core_ed25519_from_uniform(pk, pk); /* on curve */
    int ok = crypto_core_ed25519_is_valid_point(pk);
    assert_int_equal(nc_pk_to_x25519(x, pk) == 0, ok);
    valid += (unsigned)ok;
  }
  assert_true(valid > RANDOM_KEYS / 8); /* both branches were exercised */
  nc_kx_wipe(&kx);
}

/* The puzzle-only check: same verdict on the puzzle as nc_id_verify, no
 * verdict on the point (that is the derivation's job). */
static void test_check_puzzle(void **state) {
  nc_identity a;
  uint8_t id[NC_ID_LEN], id2[NC_ID_LEN];
  uint64_t n = 0;
  (void)state;
  make_ident(&a, 14);
  assert_int_equal(nc_id_check_puzzle(id, a.pk, a.nonce, DIFF), 0);
  assert_int_equal(nc_id_verify(id2, a.pk, a.nonce, DIFF), 0);
  assert_memory_equal(id, id2, NC_ID_LEN);
  assert_memory_equal(id, a.id, NC_ID_LEN);
  for (uint64_t k = 0; k < 64; k++) {
    int want = nc_id_puzzle_bits((nc_node_id(id2, a.pk, k), id2)) >= DIFF
                   ? 0
                   : NC_ERR_PUZZLE;
    assert_int_equal(nc_id_check_puzzle(NULL, a.pk, k, DIFF), want);
    assert_int_equal(nc_id_verify(NULL, a.pk, k, DIFF), want);
  }
  memset(id, 0xaa, sizeof id);
  assert_int_equal(nc_id_check_puzzle(id, a.pk, a.nonce, NC_ID_DIFFICULTY_MAX + 1),
                   NC_ERR_INVALID_ARGUMENT);
  assert_true(sodium_is_zero(id, sizeof id));
  /* A small-order key with a solved puzzle passes the puzzle check but
   * not nc_id_verify; key derivation then refuses it. */
  while (nc_id_check_puzzle(NULL, small_order[3], n, DIFF) != 0) {
    n++;
    assert_true(n < 100000);
  }
  assert_int_equal(nc_id_verify(NULL, small_order[3], n, DIFF), NC_ERR_BAD_KEY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kx_matches_peer_key),
      cmocka_unit_test(test_small_order_refused),
      cmocka_unit_test(test_non_canonical_refused),
      cmocka_unit_test(test_mixed_order_refused),
      cmocka_unit_test(test_random_keys_agree_with_validation),
      cmocka_unit_test(test_check_puzzle),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
