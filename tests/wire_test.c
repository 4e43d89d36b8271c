/*
 * Tests for the DHT wire codec (dht/src/wire.c): datagram framing,
 * sealing with real per-peer keys, the strict msgpack subset and every
 * message type's encoder and decoder, including refusal of truncated,
 * miscounted, mistyped, oversized and non-canonical input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec_testutil.h"
#include "wire.h"

#define BUF_CAP 4096

static const uint8_t all_types[] = {
    DHT_MSG_PING,       DHT_MSG_PONG,   DHT_MSG_FIND_NODE, DHT_MSG_NODES,
    DHT_MSG_FIND_VALUE, DHT_MSG_VALUES, DHT_MSG_STORE,     DHT_MSG_STORED,
    DHT_MSG_RELAY,      DHT_MSG_RELAYED,
};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

/* Records referenced by sample messages (opaque bytes to the codec). */
static uint8_t rec_a[40], rec_b[DHT_MAX_RECORD], rec_c[1];

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + 31 * i);
}

static void sample_contact(dht_wire_contact *c, size_t i) {
  fill(c->pk, sizeof c->pk, (uint8_t)(i + 1));
  c->nonce = i % 2 ? UINT64_MAX - i : i * 1000003u;
  c->addr.family = i % 3 == 2 ? 6 : 4;
  fill(c->addr.ip, c->addr.family == 4 ? 4 : 16, (uint8_t)(0x20 + i));
  c->addr.port = (uint16_t)(i == 0 ? 1 : i == 1 ? 65535 : 4000 + i);
}

/* sample builds a message of |type| with every meaningful field set.
 * VALUES carries records small enough to leave room for contacts. */
static void sample(dht_msg *m, uint8_t type, size_t n_contacts) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->txid = 0xdeadbeef;
  m->ts_ms = 1700000000123ull;
  fill(m->target, sizeof m->target, 9);
  m->offset = 3;
  fill(m->token, sizeof m->token, 77);
  m->total = 12;
  m->status = -105;
  for (size_t i = 0; i < n_contacts; i++) sample_contact(&m->contacts[i], i);
  if (type == DHT_MSG_NODES || type == DHT_MSG_VALUES)
    m->n_contacts = n_contacts;
  if (type == DHT_MSG_VALUES) {
    m->records[0] = rec_a;
    m->record_lens[0] = sizeof rec_a;
    m->records[1] = rec_c;
    m->record_lens[1] = sizeof rec_c;
    m->n_records = 2;
  }
  if (type == DHT_MSG_STORE) {
    m->record = rec_b;
    m->record_len = sizeof rec_b;
  }
  if (type == DHT_MSG_RELAY) { /* the largest payload */
    m->payload = rec_b;
    m->payload_len = DHT_APP_MAX;
  }
}

static int setup(void **state) {
  (void)state;
  fill(rec_a, sizeof rec_a, 1);
  fill(rec_b, sizeof rec_b, 2);
  fill(rec_c, sizeof rec_c, 3);
  return nc_init() == 0 ? 0 : -1;
}

static void assert_contact_equal(const dht_wire_contact *a,
                                 const dht_wire_contact *b) {
  assert_memory_equal(a->pk, b->pk, NC_PK_LEN);
  assert_int_equal(a->nonce, b->nonce);
  assert_true(dht_addr_equal(&a->addr, &b->addr));
}

static void assert_bytes_equal(const uint8_t *a, size_t alen, const uint8_t *b,
                               size_t blen) {
  assert_int_equal(alen, blen);
  if (alen > 0) assert_memory_equal(a, b, alen);
}

/* assert_msg_equal compares the fields meaningful for the type. */
static void assert_msg_equal(const dht_msg *a, const dht_msg *b) {
  assert_int_equal(a->type, b->type);
  assert_int_equal(a->txid, b->txid);
  assert_int_equal(a->ts_ms, b->ts_ms);
  switch (a->type) {
  case DHT_MSG_FIND_VALUE:
    assert_int_equal(a->offset, b->offset);
    /* fall through */
  case DHT_MSG_FIND_NODE:
    assert_memory_equal(a->target, b->target, DHT_ID_LEN);
    break;
  case DHT_MSG_VALUES:
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->n_records, b->n_records);
    for (size_t i = 0; i < a->n_records; i++)
      assert_bytes_equal(a->records[i], a->record_lens[i], b->records[i],
                         b->record_lens[i]);
    /* fall through */
  case DHT_MSG_NODES:
    assert_memory_equal(a->token, b->token, DHT_TOKEN_LEN);
    assert_int_equal(a->n_contacts, b->n_contacts);
    for (size_t i = 0; i < a->n_contacts; i++)
      assert_contact_equal(&a->contacts[i], &b->contacts[i]);
    break;
  case DHT_MSG_STORE:
    assert_memory_equal(a->token, b->token, DHT_TOKEN_LEN);
    assert_bytes_equal(a->record, a->record_len, b->record, b->record_len);
    break;
  case DHT_MSG_STORED:
  case DHT_MSG_RELAYED:
    assert_int_equal(a->status, b->status);
    break;
  case DHT_MSG_RELAY:
    assert_bytes_equal(a->payload, a->payload_len, b->payload,
                       b->payload_len);
    break;
  default:
    break;
  }
}

/* roundtrip encodes |m|, decodes it, compares, and checks that encoding
 * the decoded message gives the same bytes. Returns the length. */
static size_t roundtrip(const dht_msg *m, uint8_t *buf) {
  uint8_t again[BUF_CAP];
  size_t len = 0, len2 = 0;
  dht_msg d;
  assert_int_equal(dht_msg_encode(m, buf, BUF_CAP, &len), 0);
  assert_true(len > 0 && len <= DHT_BODY_MAX);
  assert_int_equal(dht_mp_check(buf, len), 0);
  assert_int_equal(dht_msg_decode(&d, buf, len), 0);
  assert_msg_equal(m, &d);
  assert_int_equal(dht_msg_encode(&d, again, sizeof again, &len2), 0);
  assert_bytes_equal(buf, len, again, len2);
  return len;
}

static void test_roundtrip_every_type(void **state) {
  uint8_t buf[BUF_CAP];
  dht_msg m;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    sample(&m, all_types[t], 5);
    roundtrip(&m, buf);
  }
}

static void test_roundtrip_extremes(void **state) {
  uint8_t buf[BUF_CAP];
  dht_msg m;
  static const int32_t statuses[] = {0, -1, -32, -33, -128, -129, -1000};
  static const uint64_t stamps[] = {0, 127, 128, 255, 256, 65535, 65536,
                                    UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                    UINT64_MAX};
  (void)state;
  sample(&m, DHT_MSG_NODES, DHT_K_MAX); /* the largest NODES */
  roundtrip(&m, buf);
  sample(&m, DHT_MSG_NODES, 0);
  roundtrip(&m, buf);
  sample(&m, DHT_MSG_VALUES, 0);
  m.n_records = 0;
  roundtrip(&m, buf);
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    sample(&m, DHT_MSG_STORED, 0);
    m.status = statuses[i];
    roundtrip(&m, buf);
  }
  for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
    sample(&m, DHT_MSG_FIND_VALUE, 0);
    m.ts_ms = stamps[i];
    m.txid = (uint32_t)stamps[i];
    m.offset = (uint32_t)(stamps[i] >> 1);
    roundtrip(&m, buf);
  }
}

/* VALUES with the maximum number of records, each as large as still fits
 * beside k contacts in one body. */
static void test_roundtrip_full_values(void **state) {
  uint8_t buf[BUF_CAP], big[DHT_VALUES_MAX][64];
  size_t len = 0;
  dht_msg m;
  (void)state;
  sample(&m, DHT_MSG_VALUES, 8);
  for (size_t i = 0; i < DHT_VALUES_MAX; i++) {
    fill(big[i], sizeof big[i], (uint8_t)i);
    m.records[i] = big[i];
    m.record_lens[i] = sizeof big[i];
  }
  m.n_records = DHT_VALUES_MAX;
  len = roundtrip(&m, buf);
  assert_true(len <= DHT_BODY_MAX);
}

/* Hand-derived encodings: the spec's examples, byte for byte. */
static void test_known_encodings(void **state) {
  static const uint8_t ping[] = {0x93, 0x01, 0x01, 0x02};
  static const uint8_t stored[] = {0x94, 0x08, 0xce, 0x00, 0x01, 0x00,
                                   0x00, 0xcc, 0xc8, 0xd1, 0xfc, 0x18};
  static const uint8_t relay[] = {0x94, 0x09, 0x01, 0x02, 0xc4, 0x02, 'h', 'i'};
  static const uint8_t relayed[] = {0x94, 0x0a, 0x01, 0x02, 0xd0, 0x8f};
  uint8_t buf[64];
  size_t len;
  dht_msg m;
  (void)state;
  memset(&m, 0, sizeof m);
  m.type = DHT_MSG_PING;
  m.txid = 1;
  m.ts_ms = 2;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len), 0);
  assert_bytes_equal(buf, len, ping, sizeof ping);
  m.type = DHT_MSG_STORED;
  m.txid = 65536;
  m.ts_ms = 200;
  m.status = -1000;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len), 0);
  assert_bytes_equal(buf, len, stored, sizeof stored);
  assert_int_equal(dht_msg_decode(&m, stored, sizeof stored), 0);
  assert_int_equal(m.status, -1000);
  assert_int_equal(m.txid, 65536);
  memset(&m, 0, sizeof m);
  m.type = DHT_MSG_RELAY;
  m.txid = 1;
  m.ts_ms = 2;
  m.payload = (const uint8_t *)"hi";
  m.payload_len = 2;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len), 0);
  assert_bytes_equal(buf, len, relay, sizeof relay);
  m.type = DHT_MSG_RELAYED;
  m.status = DHT_ERR_UNKNOWN_TYPE; /* -113 */
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len), 0);
  assert_bytes_equal(buf, len, relayed, sizeof relayed);
}

static void test_truncated_at_every_length(void **state) {
  uint8_t buf[BUF_CAP];
  dht_msg m, d;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    size_t len;
    sample(&m, all_types[t], 3);
    len = roundtrip(&m, buf);
    for (size_t n = 0; n < len; n++) {
      assert_int_equal(dht_msg_decode(&d, buf, n), DHT_ERR_MALFORMED);
      assert_int_equal(d.type, 0); /* cleared on failure */
    }
  }
}

static void test_trailing_bytes(void **state) {
  uint8_t buf[BUF_CAP];
  dht_msg m, d;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    size_t len;
    sample(&m, all_types[t], 2);
    len = roundtrip(&m, buf);
    buf[len] = 0x00;
    assert_int_equal(dht_msg_decode(&d, buf, len + 1), DHT_ERR_MALFORMED);
    buf[len] = 0xc0;
    assert_int_equal(dht_msg_decode(&d, buf, len + 1), DHT_ERR_MALFORMED);
  }
}

/* expect_edit_refused applies |e| to |buf| and requires decode to fail. */
static void expect_edit_refused(const uint8_t *buf, size_t len, const edit *e) {
  uint8_t out[BUF_CAP];
  size_t n = apply_edit(out, sizeof out, buf, len, e);
  dht_msg d;
  assert_true(n > 0);
  if (n > DHT_BODY_MAX) return; /* refused by size; not the point here */
  assert_int_equal(dht_msg_decode(&d, out, n), DHT_ERR_MALFORMED);
}

static void test_wrong_counts(void **state) {
  uint8_t buf[BUF_CAP];
  static const size_t first_contact[] = {4, 0}; /* NODES: body[4][0] */
  dht_msg m;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    size_t len;
    edit drop = {NULL, 0, EDIT_DROP_LAST, 0, NULL};
    edit add = {NULL, 0, EDIT_APPEND, 0, sub_uint};
    sample(&m, all_types[t], 2);
    len = roundtrip(&m, buf);
    expect_edit_refused(buf, len, &drop);
    expect_edit_refused(buf, len, &add);
  }
  /* A contact with 3 or 5 fields. */
  {
    size_t len;
    edit drop = {first_contact, 2, EDIT_DROP_LAST, 0, NULL};
    edit add = {first_contact, 2, EDIT_APPEND, 0, sub_uint};
    sample(&m, DHT_MSG_NODES, 2);
    len = roundtrip(&m, buf);
    expect_edit_refused(buf, len, &drop);
    expect_edit_refused(buf, len, &add);
  }
}

/* replace_each_field replaces every element of the array at |path| with
 * every value of a different type and expects refusal. Returns how many
 * variants were tried. */
static size_t replace_each_field(const uint8_t *buf, size_t len,
                                 const size_t *path, size_t depth) {
  size_t tried = 0, n = array_size_at(buf, len, path, depth);
  assert_true(n > 0);
  for (size_t i = 0; i < n; i++) {
    int orig = object_type_at(buf, len, path, depth, i);
    for (size_t s = 0; s < N_WRONG_TYPES; s++) {
      edit e = {path, depth, EDIT_REPLACE, i, wrong_types[s].fn};
      if (wrong_types[s].type == orig) continue;
      expect_edit_refused(buf, len, &e);
      tried++;
    }
  }
  return tried;
}

static void test_wrong_types(void **state) {
  uint8_t buf[BUF_CAP];
  static const size_t contact_in_nodes[] = {4, 1};
  static const size_t contact_in_values[] = {6, 0};
  static const size_t records_in_values[] = {5};
  dht_msg m;
  size_t len, tried = 0;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    sample(&m, all_types[t], 2);
    len = roundtrip(&m, buf);
    tried += replace_each_field(buf, len, NULL, 0);
  }
  sample(&m, DHT_MSG_NODES, 2);
  len = roundtrip(&m, buf);
  tried += replace_each_field(buf, len, contact_in_nodes, 2);
  sample(&m, DHT_MSG_VALUES, 1);
  len = roundtrip(&m, buf);
  tried += replace_each_field(buf, len, contact_in_values, 2);
  tried += replace_each_field(buf, len, records_in_values, 1);
  assert_true(tried > 200);
}

/* Writers of hand-built bodies for the range and size tests. */
static void pack_head(dht_mp_writer *w, size_t n, uint64_t type) {
  msgpack_pack_array(&w->pk, n);
  msgpack_pack_uint64(&w->pk, type);
  msgpack_pack_uint64(&w->pk, 7);
  msgpack_pack_uint64(&w->pk, 8);
}

static void pack_contact_raw(dht_mp_writer *w, size_t pk_len, size_t ip_len,
                             uint64_t port) {
  uint8_t bytes[64] = {1, 2, 3};
  msgpack_pack_array(&w->pk, 4);
  dht_mp_pack_bin(w, bytes, pk_len);
  msgpack_pack_uint64(&w->pk, 5);
  dht_mp_pack_bin(w, bytes, ip_len);
  msgpack_pack_uint64(&w->pk, port);
}

/* nodes_body writes NODES with |n| contacts of the given shape. */
static size_t nodes_body(uint8_t *buf, size_t token_len, size_t n,
                         size_t pk_len, size_t ip_len, uint64_t port) {
  uint8_t token[32] = {0};
  dht_mp_writer w;
  dht_mp_writer_init(&w, buf, BUF_CAP);
  pack_head(&w, 5, DHT_MSG_NODES);
  dht_mp_pack_bin(&w, token, token_len);
  msgpack_pack_array(&w.pk, n);
  for (size_t i = 0; i < n; i++) pack_contact_raw(&w, pk_len, ip_len, port);
  assert_false(w.overflow);
  return w.len;
}

static int decode_raw(const uint8_t *buf, size_t len) {
  dht_msg d;
  return dht_msg_decode(&d, buf, len);
}

static void test_contact_ranges(void **state) {
  uint8_t buf[BUF_CAP];
  (void)state;
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 32, 4, 1)), 0);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 32, 16, 65535)), 0);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 32, 4, 0)),
                   DHT_ERR_MALFORMED);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 32, 4, 65536)),
                   DHT_ERR_MALFORMED);
  for (size_t ip = 0; ip <= 17; ip++) {
    if (ip == 4 || ip == 16) continue;
    assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 32, ip, 80)),
                     DHT_ERR_MALFORMED);
  }
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 31, 4, 80)),
                   DHT_ERR_MALFORMED);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, 1, 33, 4, 80)),
                   DHT_ERR_MALFORMED);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 15, 1, 32, 4, 80)),
                   DHT_ERR_MALFORMED);
  assert_int_equal(decode_raw(buf, nodes_body(buf, 17, 1, 32, 4, 80)),
                   DHT_ERR_MALFORMED);
}

static void test_oversize_counts(void **state) {
  uint8_t buf[BUF_CAP], rec[DHT_MAX_RECORD + 1] = {0}, tok[16] = {0};
  dht_mp_writer w;
  (void)state;
  assert_int_equal(decode_raw(buf, nodes_body(buf, 16, DHT_K_MAX, 32, 4, 80)),
                   0);
  assert_int_equal(
      decode_raw(buf, nodes_body(buf, 16, DHT_K_MAX + 1, 32, 4, 80)),
      DHT_ERR_MALFORMED);
  /* VALUES with DHT_VALUES_MAX and DHT_VALUES_MAX + 1 tiny records. */
  for (size_t n = DHT_VALUES_MAX; n <= DHT_VALUES_MAX + 1; n++) {
    dht_mp_writer_init(&w, buf, sizeof buf);
    pack_head(&w, 7, DHT_MSG_VALUES);
    dht_mp_pack_bin(&w, tok, 16);
    msgpack_pack_uint32(&w.pk, 1);
    msgpack_pack_array(&w.pk, n);
    for (size_t i = 0; i < n; i++) dht_mp_pack_bin(&w, rec, 10);
    msgpack_pack_array(&w.pk, 0);
    assert_int_equal(decode_raw(buf, w.len),
                     n > DHT_VALUES_MAX ? DHT_ERR_MALFORMED : 0);
  }
  /* STORE with records of 0, 1, DHT_MAX_RECORD and one byte more. */
  {
    static const size_t sizes[] = {0, 1, DHT_MAX_RECORD, DHT_MAX_RECORD + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      int ok = sizes[i] >= 1 && sizes[i] <= DHT_MAX_RECORD;
      dht_mp_writer_init(&w, buf, sizeof buf);
      pack_head(&w, 5, DHT_MSG_STORE);
      dht_mp_pack_bin(&w, tok, 16);
      dht_mp_pack_bin(&w, rec, sizes[i]);
      assert_int_equal(decode_raw(buf, w.len), ok ? 0 : DHT_ERR_MALFORMED);
    }
  }
}

static void test_integer_ranges(void **state) {
  uint8_t buf[BUF_CAP], id[32] = {0};
  static const struct {
    uint64_t type, txid;
  } heads[] = {
      {0, 1}, {11, 1}, {255, 1}, {256, 1}, {1, (uint64_t)UINT32_MAX + 1},
  };
  dht_mp_writer w;
  (void)state;
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    dht_mp_writer_init(&w, buf, sizeof buf);
    msgpack_pack_array(&w.pk, 3);
    msgpack_pack_uint64(&w.pk, heads[i].type);
    msgpack_pack_uint64(&w.pk, heads[i].txid);
    msgpack_pack_uint64(&w.pk, 0);
    assert_int_equal(decode_raw(buf, w.len), DHT_ERR_MALFORMED);
  }
  /* FIND_VALUE offset just above uint32. */
  dht_mp_writer_init(&w, buf, sizeof buf);
  pack_head(&w, 5, DHT_MSG_FIND_VALUE);
  dht_mp_pack_bin(&w, id, 32);
  msgpack_pack_uint64(&w.pk, (uint64_t)UINT32_MAX + 1);
  assert_int_equal(decode_raw(buf, w.len), DHT_ERR_MALFORMED);
  /* STORED and RELAYED status outside [-1000, 0]. */
  for (int64_t s = -1002; s <= 2; s++) {
    if (s > -999 && s < -1) continue;
    for (uint8_t t = DHT_MSG_STORED; t <= DHT_MSG_RELAYED; t += 2) {
      dht_mp_writer_init(&w, buf, sizeof buf);
      pack_head(&w, 4, t);
      msgpack_pack_int64(&w.pk, s);
      assert_int_equal(decode_raw(buf, w.len),
                       s < -1000 || s > 0 ? DHT_ERR_MALFORMED : 0);
    }
  }
  /* RELAY payload of 0, 1, DHT_APP_MAX and DHT_APP_MAX + 1 bytes. */
  static const size_t sizes[] = {0, 1, DHT_APP_MAX, DHT_APP_MAX + 1};
  static uint8_t big[DHT_APP_MAX + 1];
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    dht_mp_writer_init(&w, buf, sizeof buf);
    pack_head(&w, 4, DHT_MSG_RELAY);
    dht_mp_pack_bin(&w, big, sizes[i]);
    assert_int_equal(decode_raw(buf, w.len),
                     sizes[i] >= 1 && sizes[i] <= DHT_APP_MAX
                         ? 0
                         : DHT_ERR_MALFORMED);
  }
}

/* Valid values in a longer-than-needed form are refused. */
static void test_noncanonical(void **state) {
  /* PING [1, 1, 2] with each element spelled differently. */
  static const uint8_t ok[] = {0x93, 0x01, 0x01, 0x02};
  static const uint8_t bad[][8] = {
      {0x93, 0xcc, 0x01, 0x01, 0x02},       /* uint8 1 */
      {0x93, 0x01, 0xcd, 0x00, 0x01, 0x02}, /* uint16 1 */
      {0x93, 0x01, 0x01, 0xd0, 0x02},       /* int8 2 */
      {0xdc, 0x00, 0x03, 0x01, 0x01, 0x02}, /* array16 of 3 */
  };
  static const size_t bad_len[] = {5, 6, 5, 6};
  (void)state;
  assert_int_equal(decode_raw(ok, sizeof ok), 0);
  for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++)
    assert_int_equal(decode_raw(bad[i], bad_len[i]), DHT_ERR_MALFORMED);
}

/* dht_mp_check on single objects: the subset and its shortest forms. */
static void test_mp_subset(void **state) {
  static const struct {
    uint8_t b[10];
    size_t len;
    int ok;
  } cases[] = {
      {{0x00}, 1, 1},
      {{0x7f}, 1, 1},
      {{0xff}, 1, 1}, /* -1 */
      {{0xe0}, 1, 1}, /* -32 */
      {{0xcc, 0x80}, 2, 1},
      {{0xcc, 0x7f}, 2, 0},
      {{0xcd, 0x01, 0x00}, 3, 1},
      {{0xcd, 0x00, 0xff}, 3, 0},
      {{0xce, 0x00, 0x01, 0x00, 0x00}, 5, 1},
      {{0xce, 0x00, 0x00, 0xff, 0xff}, 5, 0},
      {{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, 9, 1},
      {{0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 9, 0},
      {{0xd0, 0xdf}, 2, 1}, /* -33 */
      {{0xd0, 0xe0}, 2, 0}, /* -32 fits a fixint */
      {{0xd0, 0x05}, 2, 0}, /* positive in a signed form */
      {{0xd1, 0xff, 0x7f}, 3, 1}, /* -129 */
      {{0xd1, 0xff, 0x80}, 3, 0}, /* -128 fits int8 */
      {{0xd2, 0xff, 0xff, 0x7f, 0xff}, 5, 1},
      {{0xd2, 0xff, 0xff, 0x80, 0x00}, 5, 0},
      {{0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}, 9, 1},
      {{0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0}, 9, 0},
      {{0xc4, 0x00}, 2, 1},
      {{0xc4, 0x01, 0xaa}, 3, 1},
      {{0xc4, 0x02, 0xaa}, 3, 0}, /* bin longer than the input */
      {{0xc5, 0x00, 0x01, 0xaa}, 4, 0},
      {{0xc6, 0, 0, 0, 1, 0xaa}, 6, 0}, /* bin32 */
      {{0x90}, 1, 1},
      {{0x91, 0x00}, 2, 1},
      {{0x92, 0x00}, 2, 0}, /* truncated */
      {{0xdc, 0x00, 0x01, 0x00}, 4, 0},
      {{0xdc, 0xff, 0xff}, 3, 0}, /* 65535 elements claimed */
      {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5, 0}, /* array32 */
      {{0xc0}, 1, 0}, {{0xc2}, 1, 0}, {{0xc3}, 1, 0}, /* nil, bools */
      {{0xa1, 'x'}, 2, 0}, {{0x80}, 1, 0},            /* str, map */
      {{0xca, 0, 0, 0, 0}, 5, 0},                     /* float32 */
      {{0xd4, 0x01, 0x00}, 3, 0},                     /* fixext */
      {{0xc1}, 1, 0},                                 /* never used */
      {{0x00, 0x00}, 2, 0},                           /* trailing */
      {{0}, 0, 0},                                    /* empty */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rv = dht_mp_check(cases[i].b, cases[i].len);
    if (rv != (cases[i].ok ? 0 : DHT_ERR_MALFORMED))
      fail_msg("case %zu: got %d", i, rv);
  }
}

static void test_decode_bounds(void **state) {
  uint8_t big[DHT_BODY_MAX + 1];
  (void)state;
  memset(big, 0, sizeof big);
  assert_int_equal(decode_raw(NULL, 0), DHT_ERR_MALFORMED);
  assert_int_equal(decode_raw(big, sizeof big), DHT_ERR_MALFORMED);
}

static void test_encode_overflow(void **state) {
  uint8_t buf[BUF_CAP], small[BUF_CAP];
  dht_msg m;
  (void)state;
  for (size_t t = 0; t < N_TYPES; t++) {
    size_t len, got = 99;
    sample(&m, all_types[t], 4);
    len = roundtrip(&m, buf);
    for (size_t cap = 0; cap < len; cap++) {
      assert_int_equal(dht_msg_encode(&m, small, cap, &got), DHT_ERR_TOO_LARGE);
      assert_int_equal(got, 0);
    }
    assert_int_equal(dht_msg_encode(&m, small, len, &got), 0);
    assert_bytes_equal(buf, len, small, got);
  }
  /* A body over DHT_BODY_MAX is refused even with room in the buffer. */
  sample(&m, DHT_MSG_VALUES, DHT_K_MAX);
  m.records[0] = rec_b;
  m.record_lens[0] = sizeof rec_b;
  {
    size_t got;
    assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &got),
                     DHT_ERR_TOO_LARGE);
  }
}

static void test_encode_invalid(void **state) {
  uint8_t buf[BUF_CAP];
  size_t len;
  dht_msg m;
  (void)state;
  sample(&m, 0, 0);
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, 11, 0);
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_RELAY, 0);
  m.payload_len = DHT_APP_MAX + 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_TOO_LARGE);
  m.payload_len = 0;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  m.payload = NULL;
  m.payload_len = 5;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_RELAYED, 0);
  m.status = 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_NODES, 2);
  m.n_contacts = DHT_K_MAX + 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_NODES, 2);
  m.contacts[1].addr.family = 5;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_NODES, 2);
  m.contacts[0].addr.port = 0;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_VALUES, 0);
  m.n_records = DHT_VALUES_MAX + 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_STORE, 0);
  m.record_len = DHT_MAX_RECORD + 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_TOO_LARGE);
  m.record = NULL;
  m.record_len = 0;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  sample(&m, DHT_MSG_STORED, 0);
  m.status = 1;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
  m.status = -1001;
  assert_int_equal(dht_msg_encode(&m, buf, sizeof buf, &len),
                   DHT_ERR_INVALID_ARGUMENT);
}

/* ---- Framing ---------------------------------------------------------- */

static int parse_drop(const uint8_t *buf, size_t len) {
  dht_frame f;
  int drop = -1;
  if (dht_frame_parse(&f, buf, len, &drop) == 0) return -1;
  return drop;
}

static void test_probe_roundtrip(void **state) {
  uint8_t buf[DHT_PROBE_LEN], pk[NC_PK_LEN];
  static const uint8_t kinds[] = {DHT_KIND_PROBE, DHT_KIND_PROBE_REPLY};
  dht_frame f;
  int drop = -1;
  (void)state;
  fill(pk, sizeof pk, 5);
  for (size_t i = 0; i < 2; i++) {
    dht_frame_write_probe(buf, kinds[i], pk, 0x0102030405060708ull,
                          0xa1a2a3a4a5a6a7a8ull);
    assert_memory_equal(buf, "NI\x01", 3);
    assert_int_equal(buf[3], kinds[i]);
    assert_int_equal(buf[36], 0x08); /* nonce is little-endian */
    assert_int_equal(buf[51], 0xa1);
    assert_int_equal(dht_frame_parse(&f, buf, sizeof buf, &drop), 0);
    assert_int_equal(drop, -1);
    assert_int_equal(f.kind, kinds[i]);
    assert_memory_equal(f.pk, pk, NC_PK_LEN);
    assert_int_equal(f.nonce, 0x0102030405060708ull);
    assert_int_equal(f.cookie, 0xa1a2a3a4a5a6a7a8ull);
    assert_null(f.cipher);
  }
}

static void test_frame_drops(void **state) {
  uint8_t buf[DHT_MAX_DATAGRAM + 1], pk[NC_PK_LEN] = {0};
  (void)state;
  memset(buf, 0, sizeof buf);
  dht_frame_write_probe(buf, DHT_KIND_PROBE, pk, 1, 2);
  for (size_t n = 0; n < DHT_WIRE_HEADER_LEN; n++)
    assert_int_equal(parse_drop(buf, n), DHT_DROP_SHORT);
  assert_int_equal(parse_drop(buf, DHT_PROBE_LEN - 1), DHT_DROP_SHORT);
  assert_int_equal(parse_drop(buf, DHT_PROBE_LEN + 1), DHT_DROP_MALFORMED);
  assert_int_equal(parse_drop(buf, sizeof buf), DHT_DROP_OVERSIZE);
  buf[3] = DHT_KIND_SEALED;
  assert_int_equal(parse_drop(buf, DHT_SEALED_OVERHEAD - 1), DHT_DROP_SHORT);
  assert_int_equal(parse_drop(buf, DHT_SEALED_OVERHEAD), -1);
  assert_int_equal(parse_drop(buf, DHT_MAX_DATAGRAM), -1);
  for (unsigned k = 0; k < 256; k++) {
    buf[3] = (uint8_t)k;
    if (k >= DHT_KIND_PROBE && k <= DHT_KIND_SEALED) continue;
    assert_int_equal(parse_drop(buf, 100), DHT_DROP_BAD_KIND);
  }
  buf[3] = DHT_KIND_PROBE;
  buf[2] = 2;
  assert_int_equal(parse_drop(buf, DHT_PROBE_LEN), DHT_DROP_BAD_VERSION);
  buf[2] = 1;
  buf[1] = 'J';
  assert_int_equal(parse_drop(buf, DHT_PROBE_LEN), DHT_DROP_BAD_MAGIC);
}

typedef struct peers {
  nc_identity a, b;
  uint8_t key_ab[NC_SHARED_LEN]; /* as derived by a */
  uint8_t key_ba[NC_SHARED_LEN]; /* as derived by b */
} peers;

static void make_peers(peers *p) {
  uint8_t seed[NC_SEED_LEN];
  memset(seed, 0x11, sizeof seed);
  assert_int_equal(nc_identity_from_seed(&p->a, seed, 4, 0, 0), 0);
  memset(seed, 0x22, sizeof seed);
  assert_int_equal(nc_identity_from_seed(&p->b, seed, 4, 0, 0), 0);
  assert_int_equal(nc_peer_key(p->key_ab, p->a.sk, p->a.pk, p->b.pk), 0);
  assert_int_equal(nc_peer_key(p->key_ba, p->b.sk, p->b.pk, p->a.pk), 0);
  assert_memory_equal(p->key_ab, p->key_ba, NC_SHARED_LEN);
}

/* seal_sample seals a FIND_NODE from a to b. Returns the datagram length. */
static size_t seal_sample(const peers *p, uint8_t *dgram, dht_msg *m) {
  uint8_t body[DHT_BODY_MAX], nonce[NC_AEAD_NONCE_LEN];
  size_t body_len, len;
  sample(m, DHT_MSG_FIND_NODE, 0);
  assert_int_equal(dht_msg_encode(m, body, sizeof body, &body_len), 0);
  fill(nonce, sizeof nonce, 42);
  assert_int_equal(dht_frame_seal(dgram, DHT_MAX_DATAGRAM, &len, p->a.pk,
                                  p->a.nonce, nonce, p->key_ab, body,
                                  body_len),
                   0);
  assert_int_equal(len, DHT_SEALED_OVERHEAD + body_len);
  return len;
}

/* open_msg parses, opens with |key| and decodes. Returns 0, or 1 if the
 * frame did not parse, 2 if it did not open, 3 if the body did not
 * decode. */
static int open_msg(const uint8_t *dgram, size_t len, const uint8_t *key,
                    dht_msg *out) {
  uint8_t body[DHT_BODY_MAX];
  size_t body_len = 1;
  dht_frame f;
  int drop;
  if (dht_frame_parse(&f, dgram, len, &drop) != 0) return 1;
  if (dht_frame_open(&f, key, body, &body_len) != 0) {
    assert_int_equal(body_len, 0);
    return 2;
  }
  return dht_msg_decode(out, body, body_len) == 0 ? 0 : 3;
}

static void test_sealed_roundtrip(void **state) {
  uint8_t dgram[DHT_MAX_DATAGRAM];
  dht_msg m, d;
  dht_frame f;
  peers p;
  size_t len;
  int drop;
  (void)state;
  make_peers(&p);
  len = seal_sample(&p, dgram, &m);
  assert_int_equal(dht_frame_parse(&f, dgram, len, &drop), 0);
  assert_int_equal(f.kind, DHT_KIND_SEALED);
  assert_memory_equal(f.pk, p.a.pk, NC_PK_LEN);
  assert_int_equal(f.nonce, p.a.nonce);
  assert_ptr_equal(f.ad, dgram);
  assert_int_equal(f.cipher_len, len - DHT_SEALED_PREFIX_LEN);
  assert_int_equal(open_msg(dgram, len, p.key_ba, &d), 0);
  assert_msg_equal(&m, &d);
}

static void test_sealed_tamper(void **state) {
  uint8_t dgram[DHT_MAX_DATAGRAM], other[NC_SHARED_LEN];
  dht_msg m, d;
  peers p;
  size_t len;
  (void)state;
  make_peers(&p);
  len = seal_sample(&p, dgram, &m);
  /* Every byte of the AD, the AEAD nonce, the ciphertext and the tag. */
  for (size_t i = 0; i < len; i++) {
    int rv;
    dgram[i] ^= 0x01;
    rv = open_msg(dgram, len, p.key_ba, &d);
    if (i < DHT_WIRE_HEADER_LEN) assert_true(rv == 1 || rv == 2);
    else assert_int_equal(rv, 2);
    dgram[i] ^= 0x01;
  }
  assert_int_equal(open_msg(dgram, len, p.key_ba, &d), 0);
  /* Truncation and a wrong key. */
  assert_int_equal(open_msg(dgram, len - 1, p.key_ba, &d), 2);
  memcpy(other, p.key_ba, sizeof other);
  other[0] ^= 0x80;
  assert_int_equal(open_msg(dgram, len, other, &d), 2);
}

static void test_seal_limits(void **state) {
  uint8_t dgram[DHT_MAX_DATAGRAM + 64], body[DHT_BODY_MAX + 1] = {0};
  uint8_t nonce[NC_AEAD_NONCE_LEN] = {0}, out[DHT_BODY_MAX];
  dht_frame f;
  peers p;
  size_t len = 7, out_len;
  int drop;
  (void)state;
  make_peers(&p);
  assert_int_equal(dht_frame_seal(dgram, sizeof dgram, &len, p.a.pk, 0, nonce,
                                  p.key_ab, body, DHT_BODY_MAX + 1),
                   DHT_ERR_TOO_LARGE);
  assert_int_equal(len, 0);
  assert_int_equal(dht_frame_seal(dgram, DHT_SEALED_OVERHEAD + 9, &len, p.a.pk,
                                  0, nonce, p.key_ab, body, 10),
                   DHT_ERR_TOO_LARGE);
  assert_int_equal(dht_frame_seal(dgram, 10, &len, p.a.pk, 0, nonce, p.key_ab,
                                  body, 0),
                   DHT_ERR_TOO_LARGE);
  assert_int_equal(dht_frame_seal(dgram, sizeof dgram, &len, p.a.pk, 0, nonce,
                                  p.key_ab, body, DHT_BODY_MAX),
                   0);
  assert_int_equal(len, DHT_MAX_DATAGRAM);
  assert_int_equal(dht_frame_parse(&f, dgram, len, &drop), 0);
  assert_int_equal(dht_frame_open(&f, p.key_ba, out, &out_len), 0);
  assert_int_equal(out_len, DHT_BODY_MAX);
  /* dht_frame_open refuses frames that are not SEALED. */
  f.kind = DHT_KIND_PROBE;
  assert_int_equal(dht_frame_open(&f, p.key_ba, out, &out_len), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_every_type),
      cmocka_unit_test(test_roundtrip_extremes),
      cmocka_unit_test(test_roundtrip_full_values),
      cmocka_unit_test(test_known_encodings),
      cmocka_unit_test(test_truncated_at_every_length),
      cmocka_unit_test(test_trailing_bytes),
      cmocka_unit_test(test_wrong_counts),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_contact_ranges),
      cmocka_unit_test(test_oversize_counts),
      cmocka_unit_test(test_integer_ranges),
      cmocka_unit_test(test_noncanonical),
      cmocka_unit_test(test_mp_subset),
      cmocka_unit_test(test_decode_bounds),
      cmocka_unit_test(test_encode_overflow),
      cmocka_unit_test(test_encode_invalid),
      cmocka_unit_test(test_probe_roundtrip),
      cmocka_unit_test(test_frame_drops),
      cmocka_unit_test(test_sealed_roundtrip),
      cmocka_unit_test(test_sealed_tamper),
      cmocka_unit_test(test_seal_limits),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
