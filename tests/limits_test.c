/*
 * Tests for dht/src/guard.c: the per-prefix token buckets (depth, refill,
 * refunds, prefix granularity, bounded table), the replay cache (repeats,
 * generations, the memory cap) and the STORE token secrets (binding to
 * address, port and key; rotation with one previous secret accepted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"

#define T0 (1700000000ull * DHT_SEC)

static const uint8_t hkey[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                 9, 10, 11, 12, 13, 14, 15, 16};

static dht_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  dht_addr x;
  memset(&x, 0, sizeof x);
  x.family = 4;
  x.ip[0] = a;
  x.ip[1] = b;
  x.ip[2] = c;
  x.ip[3] = d;
  x.port = port;
  return x;
}

static dht_addr v6(uint16_t g3, uint16_t g4, uint8_t last) {
  dht_addr x;
  memset(&x, 0, sizeof x);
  x.family = 6;
  x.ip[0] = 0x20;
  x.ip[1] = 0x01;
  x.ip[2] = 0x0d;
  x.ip[3] = 0xb8;
  x.ip[6] = (uint8_t)(g3 >> 8);
  x.ip[7] = (uint8_t)g3;
  x.ip[8] = (uint8_t)(g4 >> 8);
  x.ip[9] = (uint8_t)g4;
  x.ip[15] = last;
  x.port = 7;
  return x;
}

static void test_bucket_depth_and_refill(void **state) {
  dht_rl rl;
  dht_addr a = v4(10, 0, 0, 1, 1), b = v4(10, 0, 0, 2, 1);
  (void)state;
  dht_rl_init(&rl, 10, 5, hkey);
  for (int i = 0; i < 5; i++) assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 0);
  /* Another address has its own bucket. */
  assert_int_equal(dht_rl_take(&rl, &b, T0), 1);
  /* 10 tokens/s: after 99 ms still nothing, after 100 ms one token. */
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 99 * DHT_MS), 0);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 100 * DHT_MS), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 100 * DHT_MS), 0);
  /* A long pause refills to the depth, never beyond. */
  for (int i = 0; i < 5; i++)
    assert_int_equal(dht_rl_take(&rl, &a, T0 + 3600 * DHT_SEC), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 3600 * DHT_SEC), 0);
  /* The port does not matter: the bucket is per address. */
  dht_addr a2 = v4(10, 0, 0, 1, 999);
  assert_int_equal(dht_rl_take(&rl, &a2, T0 + 3600 * DHT_SEC), 0);
  dht_rl_free(&rl);
}

static void test_refund(void **state) {
  dht_rl rl;
  dht_addr a = v4(192, 0, 2, 1, 1);
  (void)state;
  dht_rl_init(&rl, 1, 2, hkey);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 0);
  dht_rl_refund(&rl, &a);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 0);
  /* Refunds never exceed the depth. */
  for (int i = 0; i < 10; i++) dht_rl_refund(&rl, &a);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0), 0);
  dht_rl_free(&rl);
}

static void test_v6_prefix(void **state) {
  dht_rl rl;
  dht_addr a = v6(1, 1, 1), same64 = v6(1, 9, 2), other64 = v6(2, 1, 1);
  (void)state;
  dht_rl_init(&rl, 1, 3, hkey);
  for (int i = 0; i < 3; i++) assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  assert_int_equal(dht_rl_take(&rl, &same64, T0), 0);
  assert_int_equal(dht_rl_take(&rl, &other64, T0), 1);
  dht_rl_free(&rl);
}

/* Many sources: the table stays within DHT_RL_MAX, and a source that
 * keeps flooding while others come and go stays limited. */
static void test_table_bounded(void **state) {
  dht_rl rl;
  dht_addr flooder = v4(203, 0, 113, 9, 1);
  (void)state;
  dht_rl_init(&rl, 1, 4, hkey);
  for (int i = 0; i < 4; i++) dht_rl_take(&rl, &flooder, T0);
  assert_int_equal(dht_rl_take(&rl, &flooder, T0), 0);
  for (unsigned i = 0; i < 5000; i++) {
    dht_addr x = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1);
    assert_int_equal(dht_rl_take(&rl, &x, T0), 1);
    dht_rl_take(&rl, &x, T0); /* drain a bit so it is not idle */
    assert_true(rl.n <= DHT_RL_MAX);
    assert_true(rl.cap <= 2 * DHT_RL_MAX);
    if (i % 100 == 0) assert_int_equal(dht_rl_take(&rl, &flooder, T0), 0);
  }
  /* An hour later every bucket has refilled: new sources are all served
   * and the flooder has its burst back. */
  for (unsigned i = 0; i < 2 * DHT_RL_MAX; i++) {
    dht_addr y = v4(11, (uint8_t)(i >> 8), (uint8_t)i, 1, 1);
    assert_int_equal(dht_rl_take(&rl, &y, T0 + 3600 * DHT_SEC), 1);
    assert_true(rl.n <= DHT_RL_MAX);
  }
  assert_int_equal(dht_rl_take(&rl, &flooder, T0 + 3600 * DHT_SEC), 1);
  dht_rl_free(&rl);
}

/* Tidying keeps only the buckets still refilling and shrinks the table;
 * the buckets it keeps go on limiting as before. */
static void test_tidy(void **state) {
  dht_rl rl;
  dht_addr a = v4(198, 51, 100, 1, 1);
  (void)state;
  dht_rl_init(&rl, 1, 4, hkey);
  for (int i = 0; i < 4; i++) assert_int_equal(dht_rl_take(&rl, &a, T0), 1);
  for (unsigned i = 0; i < 300; i++) {
    dht_addr x = v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i, 1);
    assert_int_equal(dht_rl_take(&rl, &x, T0), 1);
  }
  assert_true(rl.cap >= 512);
  /* Two seconds later the others are full again, |a| holds 2 tokens. */
  dht_rl_tidy(&rl, T0 + 2 * DHT_SEC);
  assert_int_equal(rl.n, 1);
  assert_int_equal(rl.cap, 16);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 2 * DHT_SEC), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 2 * DHT_SEC), 1);
  assert_int_equal(dht_rl_take(&rl, &a, T0 + 2 * DHT_SEC), 0);
  dht_rl_tidy(&rl, T0 + 100 * DHT_SEC);
  assert_int_equal(rl.n, 0);
  assert_int_equal(rl.cap, 0);
  dht_rl_free(&rl);
}

static void nonce_of(uint8_t n[NC_AEAD_NONCE_LEN], unsigned i) {
  memset(n, 0, NC_AEAD_NONCE_LEN);
  memcpy(n, &i, sizeof i);
}

static void test_replay_basic(void **state) {
  dht_replay rp;
  uint8_t pk1[NC_PK_LEN], pk2[NC_PK_LEN], n[NC_AEAD_NONCE_LEN];
  (void)state;
  memset(pk1, 1, sizeof pk1);
  memset(pk2, 2, sizeof pk2);
  dht_replay_init(&rp, hkey, 120 * DHT_SEC, T0);
  assert_int_equal(dht_replay_next(&rp), DHT_TIME_NONE); /* empty: idle */
  nonce_of(n, 1);
  assert_int_equal(dht_replay_check(&rp, pk1, n), DHT_REPLAY_FRESH);
  assert_int_equal(dht_replay_check(&rp, pk1, n), DHT_REPLAY_SEEN);
  /* The same nonce from another key is a different datagram. */
  assert_int_equal(dht_replay_check(&rp, pk2, n), DHT_REPLAY_FRESH);
  assert_int_equal(dht_replay_next(&rp), T0 + 120 * DHT_SEC);
  /* One rotation: still remembered (previous generation). */
  dht_replay_rotate(&rp, T0 + 120 * DHT_SEC);
  assert_int_equal(dht_replay_check(&rp, pk1, n), DHT_REPLAY_SEEN);
  /* Two rotations: forgotten. */
  dht_replay_rotate(&rp, T0 + 240 * DHT_SEC);
  assert_int_equal(dht_replay_check(&rp, pk1, n), DHT_REPLAY_FRESH);
  dht_replay_free(&rp);
}

/* A nonce is kept at least one period whatever the phase of insertion,
 * even after a long idle time (rotation catches up first). */
static void test_replay_min_retention(void **state) {
  dht_replay rp;
  uint8_t pk[NC_PK_LEN], n[NC_AEAD_NONCE_LEN];
  const dht_time P = 100 * DHT_SEC;
  (void)state;
  memset(pk, 7, sizeof pk);
  dht_replay_init(&rp, hkey, P, T0);
  for (unsigned i = 0; i < 50; i++) {
    dht_time t = T0 + 10 * P + i * 7 * DHT_SEC;
    dht_replay_rotate(&rp, t);
    nonce_of(n, 1000 + i);
    assert_int_equal(dht_replay_check(&rp, pk, n), DHT_REPLAY_FRESH);
    dht_replay_rotate(&rp, t + P - 1);
    assert_int_equal(dht_replay_check(&rp, pk, n), DHT_REPLAY_SEEN);
  }
  dht_replay_free(&rp);
}

static void test_replay_cap(void **state) {
  dht_replay rp;
  uint8_t pk[NC_PK_LEN], n[NC_AEAD_NONCE_LEN];
  (void)state;
  memset(pk, 3, sizeof pk);
  dht_replay_init(&rp, hkey, 60 * DHT_SEC, T0);
  /* 32-bit fingerprints: about 0.5 false repeats are expected among 2^16
   * distinct nonces (birthday bound); allow a few. */
  unsigned fresh = 0, seen = 0, i = 0;
  for (; i < DHT_REPLAY_MAX + 8; i++) {
    nonce_of(n, i);
    int rv = dht_replay_check(&rp, pk, n);
    if (rv == DHT_REPLAY_FULL) break;
    fresh += rv == DHT_REPLAY_FRESH;
    seen += rv == DHT_REPLAY_SEEN;
  }
  assert_int_equal(fresh, DHT_REPLAY_MAX);
  assert_true(seen <= 4);
  assert_int_equal(i, DHT_REPLAY_MAX + seen);
  nonce_of(n, 5);
  assert_int_equal(dht_replay_check(&rp, pk, n), DHT_REPLAY_SEEN);
  assert_true(rp.gen[0].cap <= 2 * DHT_REPLAY_MAX);
  /* After a rotation there is room again. */
  dht_replay_rotate(&rp, T0 + 60 * DHT_SEC);
  nonce_of(n, DHT_REPLAY_MAX + 100);
  assert_int_equal(dht_replay_check(&rp, pk, n), DHT_REPLAY_FRESH);
  dht_replay_free(&rp);
}

static void test_tokens(void **state) {
  dht_tokens t;
  uint8_t s1[32], s2[32], s3[32], pk[NC_PK_LEN], pk2[NC_PK_LEN];
  uint8_t tok[DHT_TOKEN_LEN], tok2[DHT_TOKEN_LEN];
  dht_addr a = v4(10, 1, 2, 3, 4000), port = v4(10, 1, 2, 3, 4001),
           ip = v4(10, 1, 2, 4, 4000);
  (void)state;
  memset(&t, 0, sizeof t);
  memset(s1, 0x11, 32);
  memset(s2, 0x22, 32);
  memset(s3, 0x33, 32);
  memset(pk, 0xaa, sizeof pk);
  memset(pk2, 0xab, sizeof pk2);
  dht_tokens_rotate(&t, s1, T0);
  dht_tokens_make(&t, &a, pk, tok);
  assert_int_equal(dht_tokens_check(&t, &a, pk, tok), 1);
  assert_int_equal(dht_tokens_check(&t, &port, pk, tok), 0);
  assert_int_equal(dht_tokens_check(&t, &ip, pk, tok), 0);
  assert_int_equal(dht_tokens_check(&t, &a, pk2, tok), 0);
  tok2[0] = (uint8_t)(tok[0] ^ 1);
  memcpy(tok2 + 1, tok + 1, DHT_TOKEN_LEN - 1);
  assert_int_equal(dht_tokens_check(&t, &a, pk, tok2), 0);
  /* An IPv4 address and its v4-mapped IPv6 form get the same token. */
  dht_addr mapped;
  memset(&mapped, 0, sizeof mapped);
  mapped.family = 6;
  mapped.ip[10] = mapped.ip[11] = 0xff;
  memcpy(mapped.ip + 12, a.ip, 4);
  mapped.port = a.port;
  assert_int_equal(dht_tokens_check(&t, &mapped, pk, tok), 1);
  /* One rotation: the previous secret is still accepted; two: not. */
  dht_tokens_rotate(&t, s2, T0 + DHT_TOKEN_ROTATE);
  assert_int_equal(dht_tokens_check(&t, &a, pk, tok), 1);
  dht_tokens_make(&t, &a, pk, tok2);
  assert_memory_not_equal(tok, tok2, DHT_TOKEN_LEN);
  dht_tokens_rotate(&t, s3, T0 + 2 * DHT_TOKEN_ROTATE);
  assert_int_equal(dht_tokens_check(&t, &a, pk, tok), 0);
  assert_int_equal(dht_tokens_check(&t, &a, pk, tok2), 1);
  dht_tokens_wipe(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket_depth_and_refill),
      cmocka_unit_test(test_refund),
      cmocka_unit_test(test_v6_prefix),
      cmocka_unit_test(test_table_bounded),
      cmocka_unit_test(test_tidy),
      cmocka_unit_test(test_replay_basic),
      cmocka_unit_test(test_replay_min_retention),
      cmocka_unit_test(test_replay_cap),
      cmocka_unit_test(test_tokens),
  };
  if (sodium_init() < 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
