/*
 * Tests for dht/src/record.c: the record envelope codec, signing (checked
 * against an independently built signing input), every verification
 * failure and its order, extra record types, and the note type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec_testutil.h"
#include "wire.h"

#define NOW 1700000000ull
#define DAY 86400ull
#define NOTE_PAYLOAD_MAX (DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8)
#define BUF_CAP 4096

static nc_identity author, other;

static int setup(void **state) {
  uint8_t seed[NC_SEED_LEN];
  (void)state;
  if (nc_init() != 0) return -1;
  memset(seed, 0x33, sizeof seed);
  if (nc_identity_from_seed(&author, seed, 2, 0, 0) != 0) return -1;
  memset(seed, 0x44, sizeof seed);
  return nc_identity_from_seed(&other, seed, 2, 0, 0);
}

static void make_note(dht_record *rec, uint8_t *payload, const char *name,
                      const char *value, uint64_t ttl, uint64_t seq) {
  assert_int_equal(dht_note_build(rec, payload, NOTE_PAYLOAD_MAX, &author,
                                  (const uint8_t *)name, strlen(name),
                                  (const uint8_t *)value, strlen(value), NOW,
                                  ttl, seq),
                   0);
}

static int verify(const dht_record *rec) {
  return dht_record_verify(rec, NOW, 0, NULL, 0);
}

static void assert_record_equal(const dht_record *a, const dht_record *b) {
  assert_int_equal(a->version, b->version);
  assert_int_equal(a->type, b->type);
  assert_memory_equal(a->key, b->key, DHT_KEY_LEN);
  assert_memory_equal(a->author_pk, b->author_pk, NC_PK_LEN);
  assert_int_equal(a->author_nonce, b->author_nonce);
  assert_int_equal(a->created, b->created);
  assert_int_equal(a->expires, b->expires);
  assert_int_equal(a->seq, b->seq);
  assert_int_equal(a->payload_len, b->payload_len);
  if (a->payload_len > 0)
    assert_memory_equal(a->payload, b->payload, a->payload_len);
  assert_memory_equal(a->sig, b->sig, NC_SIG_LEN);
}

/* roundtrip encodes |rec|, decodes, compares and re-encodes. Returns the
 * encoded length. */
static size_t roundtrip(const dht_record *rec, uint8_t *buf) {
  uint8_t again[BUF_CAP];
  size_t len, len2;
  dht_record d;
  assert_int_equal(dht_record_encode(rec, buf, BUF_CAP, &len), 0);
  assert_true(len <= DHT_MAX_RECORD);
  assert_int_equal(dht_record_decode(&d, buf, len), 0);
  assert_true(d.payload >= buf && d.payload + d.payload_len <= buf + len);
  assert_record_equal(rec, &d);
  assert_int_equal(dht_record_encode(&d, again, sizeof again, &len2), 0);
  assert_int_equal(len, len2);
  assert_memory_equal(buf, again, len);
  return len;
}

/* ---- Signing and the codec ------------------------------------------- */

static void test_note_roundtrip(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP];
  const uint8_t *name, *value;
  size_t name_len, value_len, len;
  dht_record rec, d;
  (void)state;
  make_note(&rec, payload, "contact", "do not call me", 3600, 7);
  assert_int_equal(verify(&rec), 0);
  assert_int_equal(rec.version, DHT_RECORD_VERSION);
  assert_int_equal(rec.type, DHT_RECORD_NOTE);
  assert_int_equal(rec.created, NOW);
  assert_int_equal(rec.expires, NOW + 3600);
  assert_int_equal(rec.seq, 7);
  assert_memory_equal(rec.author_pk, author.pk, NC_PK_LEN);
  assert_int_equal(rec.author_nonce, author.nonce);
  len = roundtrip(&rec, buf);
  assert_int_equal(dht_record_decode(&d, buf, len), 0);
  assert_int_equal(verify(&d), 0);
  assert_int_equal(dht_note_parse(&d, &name, &name_len, &value, &value_len), 0);
  assert_int_equal(name_len, 7);
  assert_memory_equal(name, "contact", 7);
  assert_int_equal(value_len, 14);
  assert_memory_equal(value, "do not call me", 14);
}

/* Integers at every encoding width, an empty value, a full note. */
static void test_roundtrip_variants(void **state) {
  static const uint64_t nums[] = {0, 1, 127, 128, 255, 256, 65535, 65536,
                                  UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                  UINT64_MAX};
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP];
  uint8_t name[DHT_NOTE_NAME_MAX], value[DHT_NOTE_VALUE_MAX];
  dht_record rec;
  size_t len;
  (void)state;
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    make_note(&rec, payload, "n", "", 60, nums[i]);
    rec.author_nonce = nums[i];
    rec.created = nums[i];
    rec.expires = UINT64_MAX - nums[i];
    roundtrip(&rec, buf);
  }
  memset(name, 'n', sizeof name);
  memset(value, 'v', sizeof value);
  assert_int_equal(dht_note_build(&rec, payload, sizeof payload, &author, name,
                                  sizeof name, value, sizeof value, UINT32_MAX,
                                  7 * DAY, UINT64_MAX),
                   0);
  assert_int_equal(dht_record_verify(&rec, UINT32_MAX, 0, NULL, 0), 0);
  len = roundtrip(&rec, buf);
  assert_true(len <= DHT_MAX_RECORD);
}

/* The largest note still fits one STORE datagram. */
static void test_largest_note_fits_store(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP], body[DHT_BODY_MAX];
  uint8_t name[DHT_NOTE_NAME_MAX], value[DHT_NOTE_VALUE_MAX];
  dht_record rec;
  dht_msg m;
  size_t len, body_len;
  (void)state;
  memset(name, 0xff, sizeof name);
  memset(value, 0xee, sizeof value);
  assert_int_equal(dht_note_build(&rec, payload, sizeof payload, &author, name,
                                  sizeof name, value, sizeof value,
                                  UINT64_MAX / 2, 7 * DAY, UINT64_MAX),
                   0);
  rec.author_nonce = UINT64_MAX;
  assert_int_equal(dht_record_encode(&rec, buf, sizeof buf, &len), 0);
  memset(&m, 0, sizeof m);
  m.type = DHT_MSG_STORE;
  m.txid = UINT32_MAX;
  m.ts_ms = UINT64_MAX;
  m.record = buf;
  m.record_len = len;
  assert_int_equal(dht_msg_encode(&m, body, sizeof body, &body_len), 0);
}

/* signing_input rebuilds the signed bytes from the spec, independently of
 * record.c. */
static size_t signing_input(uint8_t *out, const dht_record *r) {
  size_t n = 0;
  const uint64_t nums[] = {r->author_nonce, r->created, r->expires, r->seq};
  memcpy(out, "nointrude-record-v1", 19);
  n = 19;
  out[n++] = r->version;
  out[n++] = r->type;
  memcpy(out + n, r->key, 32);
  memcpy(out + n + 32, r->author_pk, 32);
  n += 64;
  for (size_t i = 0; i < 4; i++)
    for (size_t b = 0; b < 8; b++) out[n++] = (uint8_t)(nums[i] >> (8 * b));
  for (size_t b = 0; b < 4; b++)
    out[n++] = (uint8_t)(r->payload_len >> (8 * b));
  memcpy(out + n, r->payload, r->payload_len);
  return n + r->payload_len;
}

static void test_signing_input(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], msg[2048];
  dht_record rec;
  size_t n;
  (void)state;
  make_note(&rec, payload, "k", "v", 60, 0x0102030405060708ull);
  n = signing_input(msg, &rec);
  assert_int_equal(n, 121 + rec.payload_len);
  assert_int_equal(nc_verify(rec.sig, msg, n, author.pk), 0);
  msg[n - 1] ^= 1;
  assert_int_not_equal(nc_verify(rec.sig, msg, n, author.pk), 0);
}

/* Fields not guarded by an earlier check are covered by the signature. */
static void test_signature_covers_fields(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  dht_record rec, t;
  (void)state;
  make_note(&rec, payload, "k", "value", 3600, 5);
  t = rec;
  t.seq++;
  assert_int_equal(verify(&t), DHT_ERR_BAD_SIGNATURE);
  t = rec;
  t.created--;
  assert_int_equal(verify(&t), DHT_ERR_BAD_SIGNATURE);
  t = rec;
  t.expires--;
  assert_int_equal(verify(&t), DHT_ERR_BAD_SIGNATURE);
  t = rec;
  t.author_nonce ^= 0x100000; /* still passes the puzzle at difficulty 0 */
  assert_int_equal(verify(&t), DHT_ERR_BAD_SIGNATURE);
  t = rec;
  t.sig[10] ^= 1;
  assert_int_equal(verify(&t), DHT_ERR_BAD_SIGNATURE);
}

/* ---- Verification failures ------------------------------------------- */

static void test_tampered_payload(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], copy[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "name", "value", 3600, 1);
  memcpy(copy, payload, rec.payload_len);
  rec.payload = copy;
  assert_int_equal(verify(&rec), 0);
  copy[rec.payload_len - 1] ^= 0x20; /* inside the value: key rule holds */
  assert_int_equal(verify(&rec), DHT_ERR_BAD_SIGNATURE);
}

static void test_key_rule(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], key[DHT_KEY_LEN];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "name", "value", 3600, 1);
  rec.key[31] ^= 1;
  assert_int_equal(verify(&rec), DHT_ERR_KEY_RULE);
  dht_record_sign(&rec, &author); /* a valid signature does not help */
  assert_int_equal(verify(&rec), DHT_ERR_KEY_RULE);
  /* Another author's key for the same name. */
  dht_note_key(key, other.pk, (const uint8_t *)"name", 4);
  memcpy(rec.key, key, sizeof key);
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_KEY_RULE);
  /* Someone else signing the author's key. */
  make_note(&rec, payload, "name", "value", 3600, 1);
  dht_record_sign(&rec, &other);
  assert_int_equal(verify(&rec), DHT_ERR_KEY_RULE);
}

static void test_expired(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "n", "v", 100, 1);
  assert_int_equal(dht_record_verify(&rec, NOW + 99, 0, NULL, 0), 0);
  assert_int_equal(dht_record_verify(&rec, NOW + 100, 0, NULL, 0),
                   DHT_ERR_EXPIRED);
  assert_int_equal(dht_record_verify(&rec, UINT64_MAX, 0, NULL, 0),
                   DHT_ERR_EXPIRED);
}

static void test_lifetime(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "n", "v", 7 * DAY, 1);
  assert_int_equal(verify(&rec), 0);
  rec.expires++;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_LIFETIME);
  rec.expires = rec.created - 1;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_LIFETIME);
  /* ttl beyond the note maximum cannot be built either. */
  assert_int_equal(dht_note_build(&rec, payload, sizeof payload, &author,
                                  (const uint8_t *)"n", 1, NULL, 0, NOW,
                                  7 * DAY + 1, 1),
                   DHT_ERR_INVALID_ARGUMENT);
}

static void test_future(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "n", "v", 3600, 1);
  rec.created = NOW + 300;
  rec.expires = NOW + 3600;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), 0);
  rec.created = NOW + 301;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_FUTURE);
  /* No overflow near the top of the range. */
  assert_int_equal(dht_record_verify(&rec, UINT64_MAX - 10, 0, NULL, 0),
                   DHT_ERR_EXPIRED);
}

/* find_identity returns a seeded identity and its puzzle strength. */
static unsigned find_identity(nc_identity *id, uint8_t fill) {
  uint8_t seed[NC_SEED_LEN];
  memset(seed, fill, sizeof seed);
  assert_int_equal(nc_identity_from_seed(id, seed, 0, 0, 1), 0);
  return nc_id_puzzle_bits(id->id);
}

static void test_puzzle(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  nc_identity weak;
  dht_record rec;
  unsigned bits = find_identity(&weak, 0x55);
  (void)state;
  assert_int_equal(
      dht_note_build(&rec, payload, sizeof payload, &weak,
                     (const uint8_t *)"n", 1, NULL, 0, NOW, 60, 1),
      0);
  assert_int_equal(dht_record_verify(&rec, NOW, bits, NULL, 0), 0);
  assert_int_equal(dht_record_verify(&rec, NOW, bits + 1, NULL, 0),
                   DHT_ERR_PUZZLE);
  assert_int_equal(dht_record_verify(&rec, NOW, 65, NULL, 0),
                   DHT_ERR_INVALID_ARGUMENT);
  /* A public key that is not a curve point is no identity. */
  memset(rec.author_pk, 0xff, NC_PK_LEN);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, NULL, 0), DHT_ERR_PUZZLE);
}

static void test_unknown_type_and_version(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "n", "v", 60, 1);
  rec.type = 200;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_UNKNOWN_TYPE);
  rec.type = 0;
  assert_int_equal(verify(&rec), DHT_ERR_UNKNOWN_TYPE);
  make_note(&rec, payload, "n", "v", 60, 1);
  rec.version = 2;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_VERSION);
}

static void test_too_large(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX + 1];
  dht_record rec;
  (void)state;
  make_note(&rec, payload, "n", "v", 60, 1);
  memset(payload, 0, sizeof payload);
  rec.payload_len = NOTE_PAYLOAD_MAX + 1;
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_TOO_LARGE);
  rec.payload_len = NOTE_PAYLOAD_MAX; /* size fine, payload not a note */
  dht_record_sign(&rec, &author);
  assert_int_equal(verify(&rec), DHT_ERR_MALFORMED);
}

/* The documented order: the first failing check wins. */
static void test_verify_order(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  nc_identity weak;
  dht_record rec;
  unsigned bits = find_identity(&weak, 0x55);
  (void)state;
  make_note(&rec, payload, "n", "v", 60, 1);
  rec.key[0] ^= 1;
  rec.sig[0] ^= 1;
  assert_int_equal(verify(&rec), DHT_ERR_KEY_RULE);        /* before sig */
  rec.expires = NOW;
  assert_int_equal(verify(&rec), DHT_ERR_EXPIRED);         /* before key */
  rec.created = NOW + 1000;
  rec.expires = NOW + 2000;
  assert_int_equal(verify(&rec), DHT_ERR_FUTURE);          /* before expiry */
  rec.expires = rec.created + 8 * DAY;
  assert_int_equal(verify(&rec), DHT_ERR_LIFETIME);        /* before future */
  memcpy(rec.author_pk, weak.pk, NC_PK_LEN);
  rec.author_nonce = weak.nonce;
  assert_int_equal(dht_record_verify(&rec, NOW, bits + 1, NULL, 0),
                   DHT_ERR_PUZZLE);                        /* before life */
  rec.payload_len = NOTE_PAYLOAD_MAX + 1;
  assert_int_equal(dht_record_verify(&rec, NOW, bits + 1, NULL, 0),
                   DHT_ERR_TOO_LARGE);                     /* before puzzle */
  rec.type = 99;
  assert_int_equal(dht_record_verify(&rec, NOW, bits + 1, NULL, 0),
                   DHT_ERR_UNKNOWN_TYPE);                  /* first */
}

/* An extra type: key = BLAKE2b-256 of the payload. */
static int hash_key_check(const dht_record *rec, const void *ctx) {
  uint8_t key[DHT_KEY_LEN];
  (void)ctx;
  nc_hash(key, sizeof key, NULL, 0, rec->payload, rec->payload_len);
  return memcmp(key, rec->key, sizeof key) == 0 ? 0 : DHT_ERR_KEY_RULE;
}

static void test_extra_types(void **state) {
  static const dht_record_type types[] = {
      {.type = 40,
       .name = "blob",
       .max_payload = 16,
       .max_lifetime = 3600,
       .key_check = hash_key_check},
      {.type = 41, .name = "free", .max_payload = 100, .max_lifetime = 60},
      /* cannot replace the note */
      {.type = DHT_RECORD_NOTE, .name = "shadow"},
  };
  uint8_t payload[17] = "0123456789abcdef";
  uint8_t note_payload[NOTE_PAYLOAD_MAX];
  dht_record rec;
  (void)state;
  memset(&rec, 0, sizeof rec);
  rec.version = DHT_RECORD_VERSION;
  rec.type = 40;
  rec.created = NOW;
  rec.expires = NOW + 3600;
  rec.payload = payload;
  rec.payload_len = 16;
  nc_hash(rec.key, DHT_KEY_LEN, NULL, 0, payload, 16);
  dht_record_sign(&rec, &author);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3), 0);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, NULL, 0),
                   DHT_ERR_UNKNOWN_TYPE);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types + 1, 2),
                   DHT_ERR_UNKNOWN_TYPE);
  rec.key[0] ^= 1;
  dht_record_sign(&rec, &author);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3),
                   DHT_ERR_KEY_RULE);
  rec.payload_len = 17;
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3),
                   DHT_ERR_TOO_LARGE);
  rec.expires = NOW + 3601;
  rec.payload_len = 16;
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3),
                   DHT_ERR_LIFETIME);
  /* Type 41 has no key rule: any key, as long as it is signed. */
  rec.type = 41;
  rec.expires = NOW + 60;
  dht_record_sign(&rec, &author);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3), 0);
  /* The built-in note keeps its own rules despite the table entry. */
  make_note(&rec, note_payload, "n", "v", 60, 1);
  assert_int_equal(dht_record_verify(&rec, NOW, 0, types, 3), 0);
}

/* ---- Strict decoding -------------------------------------------------- */

static size_t sample_encoding(uint8_t *buf, dht_record *rec,
                              uint8_t *payload) {
  make_note(rec, payload, "name", "value", 3600, 300);
  return roundtrip(rec, buf);
}

static void test_decode_truncated_and_trailing(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP];
  dht_record rec, d;
  size_t len = sample_encoding(buf, &rec, payload);
  (void)state;
  for (size_t n = 0; n < len; n++) {
    assert_int_equal(dht_record_decode(&d, buf, n), DHT_ERR_MALFORMED);
    assert_null(d.payload);
  }
  buf[len] = 0;
  assert_int_equal(dht_record_decode(&d, buf, len + 1), DHT_ERR_MALFORMED);
  assert_int_equal(dht_record_decode(&d, NULL, 0), DHT_ERR_MALFORMED);
}

static void expect_record_refused(const uint8_t *buf, size_t len,
                                  const edit *e, int code) {
  uint8_t out[BUF_CAP];
  size_t n = apply_edit(out, sizeof out, buf, len, e);
  dht_record d;
  assert_true(n > 0);
  assert_int_equal(dht_record_decode(&d, out, n), code);
}

static void test_decode_wrong_shape(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP];
  dht_record rec;
  size_t len = sample_encoding(buf, &rec, payload), tried = 0;
  edit drop = {NULL, 0, EDIT_DROP_LAST, 0, NULL};
  edit add = {NULL, 0, EDIT_APPEND, 0, sub_uint};
  (void)state;
  expect_record_refused(buf, len, &drop, DHT_ERR_MALFORMED);
  expect_record_refused(buf, len, &add, DHT_ERR_MALFORMED);
  for (size_t i = 0; i < 10; i++) {
    int orig = object_type_at(buf, len, NULL, 0, i);
    for (size_t s = 0; s < N_WRONG_TYPES; s++) {
      edit e = {NULL, 0, EDIT_REPLACE, i, wrong_types[s].fn};
      if (wrong_types[s].type == orig) continue;
      expect_record_refused(buf, len, &e, DHT_ERR_MALFORMED);
      tried++;
    }
  }
  assert_true(tried >= 80);
}

static void pack_version(dht_mp_writer *w, uint64_t v) {
  msgpack_pack_uint64(&w->pk, v);
}
static void sub_v0(dht_mp_writer *w) { pack_version(w, 0); }
static void sub_v2(dht_mp_writer *w) { pack_version(w, 2); }
static void sub_v255(dht_mp_writer *w) { pack_version(w, 255); }
static void sub_v256(dht_mp_writer *w) { pack_version(w, 256); }

static void test_decode_version(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP], out[BUF_CAP];
  static const uint8_t v2_short[] = {0x92, 0x02, 0xc0}; /* [2, nil] */
  dht_record rec, d;
  size_t len = sample_encoding(buf, &rec, payload);
  edit v0 = {NULL, 0, EDIT_REPLACE, 0, sub_v0};
  edit v2 = {NULL, 0, EDIT_REPLACE, 0, sub_v2};
  edit v255 = {NULL, 0, EDIT_REPLACE, 0, sub_v255};
  edit v256 = {NULL, 0, EDIT_REPLACE, 0, sub_v256};
  (void)state;
  expect_record_refused(buf, len, &v0, DHT_ERR_VERSION);
  expect_record_refused(buf, len, &v2, DHT_ERR_VERSION);
  expect_record_refused(buf, len, &v255, DHT_ERR_VERSION);
  expect_record_refused(buf, len, &v256, DHT_ERR_MALFORMED);
  /* A later version may change the whole layout. */
  assert_int_equal(dht_record_decode(&d, v2_short, sizeof v2_short),
                   DHT_ERR_VERSION);
  /* Encoding a version-2 record is allowed; decoding refuses it. */
  rec.version = 2;
  assert_int_equal(dht_record_encode(&rec, out, sizeof out, &len), 0);
  assert_int_equal(dht_record_decode(&d, out, len), DHT_ERR_VERSION);
}

static void sub_bin31(dht_mp_writer *w) {
  uint8_t b[33] = {0};
  dht_mp_pack_bin(w, b, 31);
}
static void sub_bin33(dht_mp_writer *w) {
  uint8_t b[33] = {0};
  dht_mp_pack_bin(w, b, 33);
}
static void sub_u256(dht_mp_writer *w) { msgpack_pack_uint64(&w->pk, 256); }

static void test_decode_field_sizes(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX], buf[BUF_CAP];
  dht_record rec;
  size_t len = sample_encoding(buf, &rec, payload);
  (void)state;
  /* key (2), author_pk (3) and sig (9) have exact sizes; type fits a byte. */
  for (size_t f = 2; f <= 9; f += f == 3 ? 6 : 1) {
    edit s31 = {NULL, 0, EDIT_REPLACE, f, sub_bin31};
    edit s33 = {NULL, 0, EDIT_REPLACE, f, sub_bin33};
    expect_record_refused(buf, len, &s31, DHT_ERR_MALFORMED);
    expect_record_refused(buf, len, &s33, DHT_ERR_MALFORMED);
  }
  {
    edit type = {NULL, 0, EDIT_REPLACE, 1, sub_u256};
    expect_record_refused(buf, len, &type, DHT_ERR_MALFORMED);
  }
}

static void test_decode_too_large_and_noncanonical(void **state) {
  uint8_t payload[DHT_MAX_RECORD], buf[BUF_CAP], big[DHT_MAX_RECORD + 1];
  dht_record rec, d;
  size_t len;
  (void)state;
  memset(big, 0x90, sizeof big);
  assert_int_equal(dht_record_decode(&d, big, sizeof big), DHT_ERR_TOO_LARGE);
  /* seq 300 is uint16 (0xcd 0x01 0x2c); spell it as uint32 instead. */
  len = sample_encoding(buf, &rec, payload);
  for (size_t i = 0; i + 2 < len; i++) {
    if (buf[i] == 0xcd && buf[i + 1] == 0x01 && buf[i + 2] == 0x2c) {
      uint8_t wide[BUF_CAP];
      memcpy(wide, buf, i);
      wide[i] = 0xce;
      wide[i + 1] = wide[i + 2] = 0;
      wide[i + 3] = 0x01;
      wide[i + 4] = 0x2c;
      memcpy(wide + i + 5, buf + i + 3, len - i - 3);
      assert_int_equal(dht_record_decode(&d, wide, len + 2),
                       DHT_ERR_MALFORMED);
      return;
    }
  }
  fail_msg("seq not found in the encoding");
}

static void test_encode_limits(void **state) {
  uint8_t payload[DHT_MAX_RECORD + 1] = {0}, buf[BUF_CAP], small[BUF_CAP];
  dht_record rec;
  size_t len, got;
  (void)state;
  len = sample_encoding(buf, &rec, payload);
  for (size_t cap = 0; cap < len; cap++) {
    got = 5;
    assert_int_equal(dht_record_encode(&rec, small, cap, &got),
                     DHT_ERR_TOO_LARGE);
    assert_int_equal(got, 0);
  }
  rec.payload = payload;
  rec.payload_len = DHT_MAX_RECORD + 1;
  assert_int_equal(dht_record_encode(&rec, buf, sizeof buf, &got),
                   DHT_ERR_TOO_LARGE);
  rec.payload_len = DHT_MAX_RECORD - 100; /* envelope pushes it over */
  assert_int_equal(dht_record_encode(&rec, buf, sizeof buf, &got),
                   DHT_ERR_TOO_LARGE);
  rec.payload = NULL;
  rec.payload_len = 1;
  assert_int_equal(dht_record_encode(&rec, buf, sizeof buf, &got),
                   DHT_ERR_INVALID_ARGUMENT);
  /* A record that cannot be encoded is not signed either. */
  rec.payload = payload;
  rec.payload_len = DHT_MAX_RECORD + 1;
  memset(rec.sig, 1, NC_SIG_LEN);
  dht_record_sign(&rec, &author);
  for (size_t i = 0; i < NC_SIG_LEN; i++) assert_int_equal(rec.sig[i], 0);
}

/* ---- The note type ---------------------------------------------------- */

static void test_note_key(void **state) {
  uint8_t key[DHT_KEY_LEN], expect[DHT_KEY_LEN], msg[14 + 32 + 5];
  (void)state;
  memcpy(msg, "nointrude-note", 14);
  memcpy(msg + 14, author.pk, 32);
  memcpy(msg + 46, "hello", 5);
  nc_hash(expect, sizeof expect, NULL, 0, msg, sizeof msg);
  dht_note_key(key, author.pk, (const uint8_t *)"hello", 5);
  assert_memory_equal(key, expect, sizeof key);
  dht_note_key(expect, other.pk, (const uint8_t *)"hello", 5);
  assert_memory_not_equal(key, expect, sizeof key);
  dht_note_key(expect, author.pk, (const uint8_t *)"hellp", 5);
  assert_memory_not_equal(key, expect, sizeof key);
}

/* Slots: the author's pk for ordinary types; BLAKE2b-256(author_pk ||
 * payload) for multi types. */
static void test_record_slot(void **state) {
  uint8_t slot[DHT_KEY_LEN], expect[DHT_KEY_LEN], msg[32 + 5];
  dht_record rec;
  (void)state;
  memset(&rec, 0, sizeof rec);
  memcpy(rec.author_pk, author.pk, NC_PK_LEN);
  rec.payload = (const uint8_t *)"hello";
  rec.payload_len = 5;
  dht_record_slot(slot, &rec, 0);
  assert_memory_equal(slot, author.pk, NC_PK_LEN);
  memcpy(msg, author.pk, 32);
  memcpy(msg + 32, "hello", 5);
  nc_hash(expect, sizeof expect, NULL, 0, msg, sizeof msg);
  dht_record_slot(slot, &rec, 1);
  assert_memory_equal(slot, expect, sizeof slot);
  rec.payload = (const uint8_t *)"hellp"; /* another payload, another slot */
  dht_record_slot(expect, &rec, 1);
  assert_memory_not_equal(slot, expect, sizeof slot);
  rec.payload_len = 0; /* empty payload: the hash of the pk alone */
  dht_record_slot(slot, &rec, 1);
  nc_hash(expect, sizeof expect, NULL, 0, author.pk, NC_PK_LEN);
  assert_memory_equal(slot, expect, sizeof slot);
}

static int build(dht_record *rec, uint8_t *payload, size_t cap,
                 size_t name_len, size_t value_len, uint64_t now,
                 uint64_t ttl) {
  static const uint8_t bytes[DHT_NOTE_VALUE_MAX + 1];
  return dht_note_build(rec, payload, cap, &author, bytes, name_len, bytes,
                        value_len, now, ttl, 1);
}

static void test_note_build_args(void **state) {
  uint8_t payload[NOTE_PAYLOAD_MAX];
  const size_t cap = sizeof payload;
  dht_record rec;
  (void)state;
  assert_int_equal(build(&rec, payload, cap, 1, 0, NOW, 1), 0);
  assert_int_equal(build(&rec, payload, cap, 64, 700, NOW, 1), 0);
  assert_int_equal(build(&rec, payload, cap, 0, 0, NOW, 1),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(build(&rec, payload, cap, 65, 0, NOW, 1),
                   DHT_ERR_TOO_LARGE);
  assert_int_equal(build(&rec, payload, cap, 1, 701, NOW, 1),
                   DHT_ERR_TOO_LARGE);
  assert_int_equal(build(&rec, payload, 10, 5, 5, NOW, 1), DHT_ERR_TOO_LARGE);
  assert_int_equal(build(&rec, payload, cap, 1, 0, NOW, 0),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(build(&rec, payload, cap, 1, 0, UINT64_MAX, 1),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_null(rec.payload); /* cleared on failure */
  assert_int_equal(dht_note_build(&rec, payload, cap, &author, NULL, 1, NULL,
                                  0, NOW, 1, 1),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_note_build(&rec, payload, cap, NULL,
                                  (const uint8_t *)"n", 1, NULL, 0, NOW, 1, 1),
                   DHT_ERR_INVALID_ARGUMENT);
}

/* set_payload points |rec| at a hand-written note payload. */
static int parse_raw(const uint8_t *p, size_t len) {
  const uint8_t *name, *value;
  size_t name_len, value_len;
  dht_record rec;
  memset(&rec, 0, sizeof rec);
  rec.type = DHT_RECORD_NOTE;
  rec.payload = p;
  rec.payload_len = len;
  return dht_note_parse(&rec, &name, &name_len, &value, &value_len);
}

static void test_note_parse_strict(void **state) {
  static const uint8_t ok[] = {0x92, 0xc4, 0x01, 'a', 0xc4, 0x00};
  static const uint8_t empty_name[] = {0x92, 0xc4, 0x00, 0xc4, 0x00};
  static const uint8_t one[] = {0x91, 0xc4, 0x01, 'a'};
  static const uint8_t three[] = {0x93, 0xc4, 0x01, 'a', 0xc4, 0x00, 0x00};
  static const uint8_t str_name[] = {0x92, 0xa1, 'a', 0xc4, 0x00};
  static const uint8_t trailing[] = {0x92, 0xc4, 0x01, 'a', 0xc4, 0x00, 0x00};
  uint8_t long_name[4 + 65] = {0x92, 0xc4, 65};
  dht_record rec;
  const uint8_t *n, *v;
  size_t nl, vl;
  (void)state;
  assert_int_equal(parse_raw(ok, sizeof ok), 0);
  assert_int_equal(parse_raw(empty_name, sizeof empty_name), DHT_ERR_MALFORMED);
  assert_int_equal(parse_raw(one, sizeof one), DHT_ERR_MALFORMED);
  assert_int_equal(parse_raw(three, sizeof three), DHT_ERR_MALFORMED);
  assert_int_equal(parse_raw(str_name, sizeof str_name), DHT_ERR_MALFORMED);
  assert_int_equal(parse_raw(trailing, sizeof trailing), DHT_ERR_MALFORMED);
  long_name[3 + 65] = 0xc4; /* value header would follow; name too long */
  assert_int_equal(parse_raw(long_name, sizeof long_name), DHT_ERR_MALFORMED);
  /* Not a note. */
  memset(&rec, 0, sizeof rec);
  rec.type = 40;
  rec.payload = ok;
  rec.payload_len = sizeof ok;
  assert_int_equal(dht_note_parse(&rec, &n, &nl, &v, &vl), DHT_ERR_MALFORMED);
  assert_null(n);
  assert_int_equal(nl, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_note_roundtrip),
      cmocka_unit_test(test_roundtrip_variants),
      cmocka_unit_test(test_largest_note_fits_store),
      cmocka_unit_test(test_signing_input),
      cmocka_unit_test(test_signature_covers_fields),
      cmocka_unit_test(test_tampered_payload),
      cmocka_unit_test(test_key_rule),
      cmocka_unit_test(test_expired),
      cmocka_unit_test(test_lifetime),
      cmocka_unit_test(test_future),
      cmocka_unit_test(test_puzzle),
      cmocka_unit_test(test_unknown_type_and_version),
      cmocka_unit_test(test_too_large),
      cmocka_unit_test(test_verify_order),
      cmocka_unit_test(test_extra_types),
      cmocka_unit_test(test_decode_truncated_and_trailing),
      cmocka_unit_test(test_decode_wrong_shape),
      cmocka_unit_test(test_decode_version),
      cmocka_unit_test(test_decode_field_sizes),
      cmocka_unit_test(test_decode_too_large_and_noncanonical),
      cmocka_unit_test(test_encode_limits),
      cmocka_unit_test(test_note_key),
      cmocka_unit_test(test_record_slot),
      cmocka_unit_test(test_note_build_args),
      cmocka_unit_test(test_note_parse_strict),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
