/*
 * Tests for dht/src/store.c: one record per (key, author), the seq rule
 * (strictly higher replaces, identical is a refresh, anything else is
 * stale), quotas per author (count and bytes) and in total, the order of
 * records under one key, expiry with its callback, own-record
 * bookkeeping, multi types (one record per slot) and their per-key
 * author cap. The table checks no signatures, so records here are plain
 * field values with arbitrary bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"

#define NOW_S 1700000000ull
#define T0 (NOW_S * DHT_SEC)

static dht_record rec_of(uint8_t key, uint8_t author, uint64_t seq,
                         uint64_t expires) {
  dht_record r;
  memset(&r, 0, sizeof r);
  memset(r.key, key, DHT_KEY_LEN);
  memset(r.author_pk, author, NC_PK_LEN);
  r.seq = seq;
  r.expires = expires;
  return r;
}

static uint8_t bytes[DHT_MAX_RECORD];

static int put(dht_store *st, uint8_t key, uint8_t author, uint64_t seq,
               size_t len, uint8_t fill) {
  dht_record r = rec_of(key, author, seq, NOW_S + 3600);
  memset(bytes, fill, len);
  return dht_store_put(st, &r, bytes, len, T0);
}

static void test_put_find(void **state) {
  dht_store st;
  uint8_t key[DHT_KEY_LEN], au[NC_PK_LEN];
  (void)state;
  dht_store_init(&st, 10, 10000, 100000);
  assert_int_equal(put(&st, 1, 9, 1, 100, 0xa1), DHT_STORE_NEW);
  memset(key, 1, sizeof key);
  memset(au, 9, sizeof au);
  dht_srec *r = dht_store_find(&st, key, au);
  assert_non_null(r);
  assert_int_equal(r->len, 100);
  assert_int_equal(r->seq, 1);
  assert_int_equal(r->bytes[99], 0xa1);
  memset(au, 8, sizeof au);
  assert_null(dht_store_find(&st, key, au));
  assert_int_equal(st.n, 1);
  assert_int_equal(st.bytes, 100);
  /* Empty and oversized records are refused. */
  dht_record z = rec_of(2, 9, 1, NOW_S + 10);
  assert_int_equal(dht_store_put(&st, &z, bytes, 0, T0), DHT_ERR_TOO_LARGE);
  assert_int_equal(dht_store_put(&st, &z, bytes, DHT_MAX_RECORD + 1, T0),
                   DHT_ERR_TOO_LARGE);
  dht_store_free(&st);
}

static void test_seq_rule(void **state) {
  dht_store st;
  uint8_t key[DHT_KEY_LEN], au[NC_PK_LEN];
  (void)state;
  memset(key, 1, sizeof key);
  memset(au, 9, sizeof au);
  dht_store_init(&st, 10, 10000, 100000);
  assert_int_equal(put(&st, 1, 9, 5, 100, 0x01), DHT_STORE_NEW);
  /* Same seq, same bytes: a refresh that changes nothing but the time. */
  dht_record r = rec_of(1, 9, 5, NOW_S + 3600);
  memset(bytes, 0x01, 100);
  assert_int_equal(dht_store_put(&st, &r, bytes, 100, T0 + 7), DHT_STORE_SAME);
  assert_int_equal(dht_store_find(&st, key, au)->touched, T0 + 7);
  /* Same seq, other bytes; lower seq: stale, nothing changes. */
  assert_int_equal(put(&st, 1, 9, 5, 100, 0x02), DHT_ERR_STALE);
  assert_int_equal(put(&st, 1, 9, 4, 50, 0x03), DHT_ERR_STALE);
  assert_int_equal(dht_store_find(&st, key, au)->bytes[0], 0x01);
  /* Strictly higher seq replaces, bytes accounting follows. */
  assert_int_equal(put(&st, 1, 9, 6, 40, 0x04), DHT_STORE_REPLACE);
  dht_srec *s = dht_store_find(&st, key, au);
  assert_int_equal(s->seq, 6);
  assert_int_equal(s->len, 40);
  assert_int_equal(s->bytes[0], 0x04);
  assert_int_equal(st.n, 1);
  assert_int_equal(st.bytes, 40);
  assert_int_equal(dht_store_author(&st, au)->count, 1);
  assert_int_equal(dht_store_author(&st, au)->bytes, 40);
  /* Another author under the same key is a separate record. */
  assert_int_equal(put(&st, 1, 8, 1, 10, 0x05), DHT_STORE_NEW);
  assert_int_equal(st.n, 2);
  dht_store_free(&st);
}

static void test_author_quota(void **state) {
  dht_store st;
  (void)state;
  dht_store_init(&st, 3, 250, 100000);
  assert_int_equal(put(&st, 1, 9, 1, 100, 1), DHT_STORE_NEW);
  assert_int_equal(put(&st, 2, 9, 1, 100, 1), DHT_STORE_NEW);
  /* 200 + 100 > 250 bytes */
  assert_int_equal(put(&st, 3, 9, 1, 100, 1), DHT_ERR_QUOTA);
  assert_int_equal(put(&st, 3, 9, 1, 50, 1), DHT_STORE_NEW);
  /* fourth record: count quota */
  assert_int_equal(put(&st, 4, 9, 1, 1, 1), DHT_ERR_QUOTA);
  /* a replacement may grow only within the byte quota */
  assert_int_equal(put(&st, 3, 9, 2, 51, 1), DHT_ERR_QUOTA);
  assert_int_equal(put(&st, 3, 9, 2, 49, 1), DHT_STORE_REPLACE);
  /* other authors are unaffected */
  assert_int_equal(put(&st, 4, 7, 1, 200, 1), DHT_STORE_NEW);
  assert_int_equal(st.n, 4);
  /* dht_store_check agrees with put and changes nothing */
  dht_record r = rec_of(5, 9, 1, NOW_S + 10);
  assert_int_equal(dht_store_check(&st, &r, bytes, 1), DHT_ERR_QUOTA);
  assert_int_equal(st.n, 4);
  dht_store_free(&st);
}

static void test_total_quota(void **state) {
  dht_store st;
  (void)state;
  dht_store_init(&st, 100, 100000, 1000);
  for (uint8_t a = 1; a <= 4; a++)
    assert_int_equal(put(&st, a, a, 1, 250, 1), DHT_STORE_NEW);
  assert_int_equal(st.bytes, 1000);
  assert_int_equal(put(&st, 9, 9, 1, 1, 1), DHT_ERR_QUOTA);
  /* Shrinking a record frees room. */
  assert_int_equal(put(&st, 1, 1, 2, 200, 1), DHT_STORE_REPLACE);
  assert_int_equal(put(&st, 9, 9, 1, 50, 1), DHT_STORE_NEW);
  dht_store_free(&st);
}

static void test_range_order(void **state) {
  dht_store st;
  uint8_t key[DHT_KEY_LEN];
  size_t first;
  (void)state;
  dht_store_init(&st, 100, 100000, 100000);
  /* Insert authors out of order under key 5, neighbours under 4 and 6. */
  const uint8_t authors[] = {7, 3, 9, 1, 5};
  for (size_t i = 0; i < sizeof authors; i++)
    assert_int_equal(put(&st, 5, authors[i], 1, 10, authors[i]),
                     DHT_STORE_NEW);
  put(&st, 4, 2, 1, 10, 0);
  put(&st, 6, 2, 1, 10, 0);
  memset(key, 5, sizeof key);
  size_t n = dht_store_range(&st, key, &first);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(st.recs[first + i]->key[0], 5);
    if (i) assert_true(st.recs[first + i - 1]->author[0] <
                       st.recs[first + i]->author[0]);
  }
  memset(key, 8, sizeof key);
  assert_int_equal(dht_store_range(&st, key, &first), 0);
  dht_store_free(&st);
}

static unsigned deleted;
static void on_del(void *arg, const dht_srec *r) {
  (void)arg;
  assert_true(r->expires <= NOW_S + 100);
  deleted++;
}

static void test_expire(void **state) {
  dht_store st;
  uint8_t au[NC_PK_LEN];
  (void)state;
  dht_store_init(&st, 100, 100000, 100000);
  for (uint8_t i = 0; i < 10; i++) {
    dht_record r = rec_of(i, 1, 1, NOW_S + 50 + (i % 2 ? 100 : 0));
    memset(bytes, i, 20);
    assert_int_equal(dht_store_put(&st, &r, bytes, 20, T0), DHT_STORE_NEW);
  }
  assert_int_equal(st.min_expires, NOW_S + 50);
  deleted = 0;
  assert_int_equal(dht_store_expire(&st, NOW_S + 49, 100, on_del, NULL), 0);
  /* The bound limits one call; the next call finishes. */
  assert_int_equal(dht_store_expire(&st, NOW_S + 50, 3, on_del, NULL), 3);
  assert_int_equal(st.min_expires, NOW_S + 50);
  assert_int_equal(dht_store_expire(&st, NOW_S + 50, 100, on_del, NULL), 2);
  assert_int_equal(deleted, 5);
  assert_int_equal(st.n, 5);
  assert_int_equal(st.bytes, 100);
  assert_int_equal(st.min_expires, NOW_S + 150);
  memset(au, 1, sizeof au);
  assert_int_equal(dht_store_author(&st, au)->count, 5);
  for (size_t i = 0; i < st.n; i++) assert_int_equal(st.recs[i]->key[0] % 2, 1);
  dht_store_free(&st);
}

static void test_own(void **state) {
  dht_store st;
  uint8_t key[DHT_KEY_LEN], au[NC_PK_LEN];
  (void)state;
  memset(key, 1, sizeof key);
  memset(au, 9, sizeof au);
  dht_store_init(&st, 10, 10000, 100000);
  put(&st, 1, 9, 1, 10, 1);
  dht_srec *r = dht_store_find(&st, key, au);
  assert_int_equal(r->republish, DHT_TIME_NONE);
  dht_store_set_own(&st, r, 1, T0 + 5);
  dht_store_set_own(&st, r, 1, T0 + 5);
  assert_int_equal(st.n_own, 1);
  /* A newer version stays ours. */
  assert_int_equal(put(&st, 1, 9, 2, 10, 2), DHT_STORE_REPLACE);
  r = dht_store_find(&st, key, au);
  assert_int_equal(r->own, 1);
  assert_int_equal(r->republish, T0 + 5);
  assert_int_equal(st.n_own, 1);
  dht_store_remove_at(&st, 0);
  assert_int_equal(st.n_own, 0);
  assert_int_equal(st.n, 0);
  assert_int_equal(st.bytes, 0);
  assert_null(dht_store_author(&st, au));
  dht_store_free(&st);
}

/* Multi types: records are told apart by slot = BLAKE2b-256(author ||
 * payload); a later expiry replaces, identical bytes refresh; the author
 * quota counts every slot; the built-in note is never multi. */
static void test_multi(void **state) {
  static const dht_record_type types[] = {
      {.type = 50, .name = "multi", .max_payload = 100, .multi = 1},
      {.type = DHT_RECORD_NOTE, .name = "shadow", .multi = 1},
  };
  dht_store st;
  uint8_t p1[8] = "payload1", p2[8] = "payload2", slot[DHT_KEY_LEN];
  (void)state;
  dht_store_init(&st, 3, 10000, 100000);
  dht_store_set_types(&st, types, 2);
  assert_int_equal(dht_store_multi(&st, 50), 1);
  assert_int_equal(dht_store_multi(&st, DHT_RECORD_NOTE), 0);
  assert_int_equal(dht_store_multi(&st, 51), 0);
  dht_record a = rec_of(1, 9, 0, NOW_S + 100);
  a.type = 50;
  a.payload = p1;
  a.payload_len = sizeof p1;
  dht_record b = a;
  b.payload = p2;
  memset(bytes, 0xa1, 50);
  assert_int_equal(dht_store_put(&st, &a, bytes, 50, T0), DHT_STORE_NEW);
  memset(bytes, 0xb2, 50);
  assert_int_equal(dht_store_put(&st, &b, bytes, 50, T0), DHT_STORE_NEW);
  assert_int_equal(st.n, 2);
  assert_int_equal(dht_store_author(&st, a.author_pk)->count, 2);
  dht_store_slot(&st, &b, slot);
  dht_srec *r = dht_store_find(&st, b.key, slot);
  assert_non_null(r);
  assert_int_equal(r->bytes[0], 0xb2);
  assert_memory_equal(r->author, b.author_pk, NC_PK_LEN);
  assert_int_equal(r->multi, 1);
  assert_null(dht_store_find(&st, b.key, b.author_pk));
  /* Same bytes: refresh. Other bytes, same slot: only a later expiry
   * replaces; a higher seq alone does not. */
  assert_int_equal(dht_store_put(&st, &b, bytes, 50, T0 + 1), DHT_STORE_SAME);
  b.seq = 99;
  memset(bytes, 0xb3, 50);
  assert_int_equal(dht_store_check(&st, &b, bytes, 50), DHT_ERR_STALE);
  b.expires++;
  assert_int_equal(dht_store_put(&st, &b, bytes, 50, T0), DHT_STORE_REPLACE);
  assert_int_equal(dht_store_find(&st, b.key, slot)->bytes[0], 0xb3);
  assert_int_equal(st.n, 2);
  /* The quota counts slots. */
  dht_record c = a;
  c.payload_len = 7;
  assert_int_equal(dht_store_put(&st, &c, bytes, 50, T0), DHT_STORE_NEW);
  c.payload_len = 6;
  assert_int_equal(dht_store_put(&st, &c, bytes, 50, T0), DHT_ERR_QUOTA);
  dht_store_free(&st);
}

/* key_author_max: an author holds at most that many slots under one key
 * of the type; other keys, other authors and other types are not
 * limited by it, refreshes and replacements still pass, and a slot that
 * leaves frees room. */
static void test_key_author_max(void **state) {
  static const dht_record_type types[] = {
      {.type = 50, .name = "capped", .multi = 1, .key_author_max = 2},
      {.type = 51, .name = "open", .multi = 1},
  };
  dht_store st;
  uint8_t p[4][1] = {{1}, {2}, {3}, {4}};
  (void)state;
  dht_store_init(&st, 100, 100000, 1000000);
  dht_store_set_types(&st, types, 2);
  dht_record r = rec_of(1, 9, 0, NOW_S + 100);
  r.type = 50;
  r.payload_len = 1;
  memset(bytes, 0xc1, 40);
  for (int i = 0; i < 2; i++) {
    r.payload = p[i];
    assert_int_equal(dht_store_put(&st, &r, bytes, 40, T0), DHT_STORE_NEW);
  }
  r.payload = p[2];
  assert_int_equal(dht_store_check(&st, &r, bytes, 40), DHT_ERR_QUOTA);
  assert_int_equal(dht_store_put(&st, &r, bytes, 40, T0), DHT_ERR_QUOTA);
  /* The held ones: a refresh and a later expiry still pass. */
  r.payload = p[1];
  assert_int_equal(dht_store_put(&st, &r, bytes, 40, T0), DHT_STORE_SAME);
  r.expires++;
  memset(bytes, 0xc2, 40);
  assert_int_equal(dht_store_put(&st, &r, bytes, 40, T0), DHT_STORE_REPLACE);
  /* Another author, another key, an uncapped type. */
  dht_record o = r;
  memset(o.author_pk, 8, NC_PK_LEN);
  o.payload = p[3];
  assert_int_equal(dht_store_put(&st, &o, bytes, 40, T0), DHT_STORE_NEW);
  o = r;
  memset(o.key, 2, DHT_KEY_LEN);
  o.payload = p[3];
  assert_int_equal(dht_store_put(&st, &o, bytes, 40, T0), DHT_STORE_NEW);
  o = r;
  o.type = 51;
  o.payload = p[3];
  assert_int_equal(dht_store_put(&st, &o, bytes, 40, T0), DHT_STORE_NEW);
  /* Once the author's records under key 1 expire and are swept, there
   * is room again. */
  assert_int_equal(st.n, 5);
  assert_int_equal(dht_store_expire(&st, NOW_S + 102, 100, NULL, NULL), 5);
  r.payload = p[2];
  r.expires = NOW_S + 200;
  assert_int_equal(dht_store_put(&st, &r, bytes, 40, T0), DHT_STORE_NEW);
  dht_store_free(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_find),    cmocka_unit_test(test_seq_rule),
      cmocka_unit_test(test_author_quota), cmocka_unit_test(test_total_quota),
      cmocka_unit_test(test_range_order), cmocka_unit_test(test_expire),
      cmocka_unit_test(test_own),        cmocka_unit_test(test_multi),
      cmocka_unit_test(test_key_author_max),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
