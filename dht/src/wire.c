/*
 * The DHT wire format: the outer datagram framing (clear PROBE and
 * PROBE_REPLY, authenticated-encrypted SEALED datagrams) and the msgpack
 * message bodies carried inside SEALED datagrams. Also home of the strict
 * msgpack subset (mp.h) that record.c shares.
 *
 * Every input is hostile. Bodies go through three gates: dht_mp_check
 * walks the raw bytes (subset, shortest forms, counts and lengths within
 * the remaining bytes, exactly one object, no trailing bytes), msgpack-c
 * builds the object tree, and a per-message-type walker checks element
 * counts, types and ranges. docs/PROTOCOL.md is the normative reference.
 */
#include "wire.h"

#include <string.h>

#include "mp.h"

/* ---- Strict msgpack subset -------------------------------------------- */

static int writer_put(void *data, const char *buf, size_t len) {
  dht_mp_writer *w = data;
  if (w->overflow || len > w->cap - w->len) {
    w->overflow = 1;
    return -1;
  }
  if (len > 0) memcpy(w->buf + w->len, buf, len);
  w->len += len;
  return 0;
}

void dht_mp_writer_init(dht_mp_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = 0;
  msgpack_packer_init(&w->pk, w, writer_put);
}

void dht_mp_pack_bin(dht_mp_writer *w, const uint8_t *p, size_t len) {
  msgpack_pack_bin(&w->pk, len);
  if (len > 0) msgpack_pack_bin_body(&w->pk, p, len);
}

enum mp_kind { MP_UINT, MP_NINT, MP_BIN, MP_ARRAY };

/* A format byte followed by a big-endian field of |width| bytes. It is
 * the shortest form only if the field is at least |min| (for negative
 * integers: if -(value + 1) is at least |min|). */
typedef struct mp_format {
  uint8_t tag;
  uint8_t kind;
  uint8_t width; /* bytes */
  uint64_t min;
} mp_format;

static const mp_format mp_formats[] = {
    {0xc4, MP_BIN, 1, 0},
    {0xc5, MP_BIN, 2, 256},
    {0xcc, MP_UINT, 1, 128},
    {0xcd, MP_UINT, 2, 256},
    {0xce, MP_UINT, 4, 65536},
    {0xcf, MP_UINT, 8, UINT64_C(1) << 32},
    {0xd0, MP_NINT, 1, 32},
    {0xd1, MP_NINT, 2, 128},
    {0xd2, MP_NINT, 4, 32768},
    {0xd3, MP_NINT, 8, UINT64_C(1) << 31},
    {0xdc, MP_ARRAY, 2, 16},
};

/* One object header: its kind and, for bins and arrays, the byte length
 * or element count that follows. */
typedef struct mp_head {
  uint8_t kind;
  uint64_t n;
} mp_head;

static const mp_format *find_format(uint8_t tag) {
  for (size_t i = 0; i < sizeof mp_formats / sizeof mp_formats[0]; i++)
    if (mp_formats[i].tag == tag) return &mp_formats[i];
  return NULL;
}

/* read_field reads a format's big-endian field at *pos and checks that
 * the format was the shortest one. Returns 0 or -1. */
static int read_field(const mp_format *fmt, const uint8_t *buf, size_t len,
                      size_t *pos, mp_head *h) {
  uint64_t v = 0, mask, top;
  if (len - *pos < fmt->width) return -1;
  for (unsigned i = 0; i < fmt->width; i++) v = v << 8 | buf[*pos + i];
  *pos += fmt->width;
  h->kind = fmt->kind;
  h->n = v;
  if (fmt->kind != MP_NINT) return v >= fmt->min ? 0 : -1;
  /* Signed forms are canonical only for negative values too small for
   * the next shorter form. */
  top = UINT64_C(1) << (8 * fmt->width - 1);
  mask = top | (top - 1);
  if (!(v & top)) return -1;
  return (~v & mask) >= fmt->min ? 0 : -1;
}

/* read_head reads one object header at *pos (< len). Returns 0 or -1 for
 * a format outside the subset or not in shortest form. */
static int read_head(const uint8_t *buf, size_t len, size_t *pos,
                     mp_head *h) {
  uint8_t tag = buf[(*pos)++];
  const mp_format *fmt;
  h->n = 0;
  if (tag <= 0x7f) {
    h->kind = MP_UINT;
    return 0;
  }
  if (tag >= 0xe0) {
    h->kind = MP_NINT;
    return 0;
  }
  if (tag >= 0x90 && tag <= 0x9f) {
    h->kind = MP_ARRAY;
    h->n = tag & 0x0f;
    return 0;
  }
  fmt = find_format(tag);
  return fmt ? read_field(fmt, buf, len, pos, h) : -1;
}

int dht_mp_check(const uint8_t *buf, size_t len) {
  size_t pos = 0;
  uint64_t pending = 1; /* objects still to read */
  mp_head h;
  while (pending > 0) {
    if (pos >= len || read_head(buf, len, &pos, &h) != 0)
      return DHT_ERR_MALFORMED;
    pending--;
    /* Each pending object needs at least one more byte; an array's
     * elements too. This bounds msgpack-c's allocations by |len|. */
    if (len - pos < pending) return DHT_ERR_MALFORMED;
    if (h.kind == MP_ARRAY || h.kind == MP_BIN) {
      if (h.n > len - pos - pending) return DHT_ERR_MALFORMED;
      if (h.kind == MP_ARRAY) pending += h.n;
      else pos += (size_t)h.n;
    }
  }
  return pos == len ? 0 : DHT_ERR_MALFORMED;
}

int dht_mp_unpack(msgpack_unpacked *u, const uint8_t *buf, size_t len) {
  size_t off = 0;
  msgpack_unpacked_init(u);
  if (dht_mp_check(buf, len) != 0) return DHT_ERR_MALFORMED;
  if (msgpack_unpack_next(u, (const char *)buf, len, &off) !=
          MSGPACK_UNPACK_SUCCESS ||
      off != len)
    return DHT_ERR_MALFORMED;
  return 0;
}

int dht_mp_array(const msgpack_object *o, size_t min, size_t max,
                 const msgpack_object **items, size_t *n) {
  *items = NULL;
  *n = 0;
  if (o->type != MSGPACK_OBJECT_ARRAY) return DHT_ERR_MALFORMED;
  if (o->via.array.size < min || o->via.array.size > max)
    return DHT_ERR_MALFORMED;
  *items = o->via.array.ptr;
  *n = o->via.array.size;
  return 0;
}

int dht_mp_uint(const msgpack_object *o, uint64_t max, uint64_t *v) {
  *v = 0;
  if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
    return DHT_ERR_MALFORMED;
  *v = o->via.u64;
  return 0;
}

int dht_mp_bin(const msgpack_object *o, size_t min, size_t max,
               const uint8_t **p, size_t *len) {
  *p = NULL;
  *len = 0;
  if (o->type != MSGPACK_OBJECT_BIN) return DHT_ERR_MALFORMED;
  if (o->via.bin.size < min || o->via.bin.size > max) return DHT_ERR_MALFORMED;
  *p = (const uint8_t *)o->via.bin.ptr;
  *len = o->via.bin.size;
  return 0;
}

int dht_mp_bin_copy(const msgpack_object *o, uint8_t *out, size_t n) {
  const uint8_t *p;
  size_t len;
  if (dht_mp_bin(o, n, n, &p, &len) != 0) return DHT_ERR_MALFORMED;
  memcpy(out, p, n);
  return 0;
}

/* ---- Datagram framing ------------------------------------------------- */

static void put_le64(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t in[8]) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | in[i];
  return v;
}

/* Offsets shared by every kind (see wire.h). */
enum { OFF_PK = 4, OFF_NONCE = 36, OFF_COOKIE = 44, OFF_AEAD_NONCE = 44 };

/* Length bounds per datagram kind, in bytes. */
typedef struct frame_kind {
  uint8_t kind;
  size_t min_len, max_len;
} frame_kind;

static const frame_kind frame_kinds[] = {
    {DHT_KIND_PROBE, DHT_PROBE_LEN, DHT_PROBE_LEN},
    {DHT_KIND_PROBE_REPLY, DHT_PROBE_LEN, DHT_PROBE_LEN},
    {DHT_KIND_SEALED, DHT_SEALED_OVERHEAD, DHT_MAX_DATAGRAM},
};

static const frame_kind *find_kind(uint8_t kind) {
  for (size_t i = 0; i < sizeof frame_kinds / sizeof frame_kinds[0]; i++)
    if (frame_kinds[i].kind == kind) return &frame_kinds[i];
  return NULL;
}

/* frame_check validates the header and the kind's length bounds.
 * Returns 0, or -1 with the reason in *drop. */
static int frame_check(const uint8_t *buf, size_t len, int *drop) {
  const frame_kind *k;
  int reason = -1;
  if (len > DHT_MAX_DATAGRAM) reason = DHT_DROP_OVERSIZE;
  else if (len < DHT_WIRE_HEADER_LEN) reason = DHT_DROP_SHORT;
  else if (buf[0] != 'N' || buf[1] != 'I') reason = DHT_DROP_BAD_MAGIC;
  else if (buf[2] != DHT_WIRE_VERSION) reason = DHT_DROP_BAD_VERSION;
  else if (!(k = find_kind(buf[3]))) reason = DHT_DROP_BAD_KIND;
  else if (len < k->min_len) reason = DHT_DROP_SHORT;
  /* Probes have one exact size: a longer one is not a probe. */
  else if (len > k->max_len) reason = DHT_DROP_MALFORMED;
  if (reason < 0) return 0;
  *drop = reason;
  return -1;
}

int dht_frame_parse(dht_frame *f, const uint8_t *buf, size_t len, int *drop) {
  memset(f, 0, sizeof *f);
  if (frame_check(buf, len, drop) != 0) return -1;
  f->kind = buf[3];
  f->pk = buf + OFF_PK;
  f->nonce = get_le64(buf + OFF_NONCE);
  if (f->kind != DHT_KIND_SEALED) {
    f->cookie = get_le64(buf + OFF_COOKIE);
    return 0;
  }
  f->ad = buf;
  f->aead_nonce = buf + OFF_AEAD_NONCE;
  f->cipher = buf + DHT_SEALED_PREFIX_LEN;
  f->cipher_len = len - DHT_SEALED_PREFIX_LEN;
  return 0;
}

static void write_header(uint8_t *buf, uint8_t kind,
                         const uint8_t pk[NC_PK_LEN], uint64_t nonce) {
  buf[0] = 'N';
  buf[1] = 'I';
  buf[2] = DHT_WIRE_VERSION;
  buf[3] = kind;
  memmove(buf + OFF_PK, pk, NC_PK_LEN);
  put_le64(buf + OFF_NONCE, nonce);
}

void dht_frame_write_probe(uint8_t buf[DHT_PROBE_LEN], uint8_t kind,
                           const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                           uint64_t cookie) {
  write_header(buf, kind, pk, nonce);
  put_le64(buf + OFF_COOKIE, cookie);
}

int dht_frame_seal(uint8_t *buf, size_t cap, size_t *len,
                   const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                   const uint8_t aead_nonce[NC_AEAD_NONCE_LEN],
                   const uint8_t key[NC_SHARED_LEN], const uint8_t *body,
                   size_t body_len) {
  *len = 0;
  if (!body && body_len > 0) return DHT_ERR_INVALID_ARGUMENT;
  if (body_len > DHT_BODY_MAX || cap < DHT_SEALED_OVERHEAD ||
      body_len > cap - DHT_SEALED_OVERHEAD)
    return DHT_ERR_TOO_LARGE;
  write_header(buf, DHT_KIND_SEALED, pk, nonce);
  memmove(buf + OFF_AEAD_NONCE, aead_nonce, NC_AEAD_NONCE_LEN);
  nc_aead_seal(buf + DHT_SEALED_PREFIX_LEN, body, body_len, buf,
               DHT_SEALED_AD_LEN, buf + OFF_AEAD_NONCE, key);
  *len = DHT_SEALED_OVERHEAD + body_len;
  return 0;
}

int dht_frame_open(const dht_frame *f, const uint8_t key[NC_SHARED_LEN],
                   uint8_t *body, size_t *body_len) {
  *body_len = 0;
  if (f->kind != DHT_KIND_SEALED || !f->cipher ||
      f->cipher_len < NC_AEAD_TAG_LEN ||
      f->cipher_len - NC_AEAD_TAG_LEN > DHT_BODY_MAX)
    return -1;
  if (nc_aead_open(body, f->cipher, f->cipher_len, f->ad, DHT_SEALED_AD_LEN,
                   f->aead_nonce, key) != 0)
    return -1;
  *body_len = f->cipher_len - NC_AEAD_TAG_LEN;
  return 0;
}

/* ---- Message bodies: fields ------------------------------------------- */

static void pack_contact(dht_mp_writer *w, const dht_wire_contact *c) {
  msgpack_pack_array(&w->pk, 4);
  dht_mp_pack_bin(w, c->pk, NC_PK_LEN);
  msgpack_pack_uint64(&w->pk, c->nonce);
  dht_mp_pack_bin(w, c->addr.ip, c->addr.family == 4 ? 4 : 16);
  msgpack_pack_uint16(&w->pk, c->addr.port);
}

static void pack_contacts(dht_mp_writer *w, const dht_msg *m) {
  msgpack_pack_array(&w->pk, m->n_contacts);
  for (size_t i = 0; i < m->n_contacts; i++) pack_contact(w, &m->contacts[i]);
}

static int decode_contact(dht_wire_contact *c, const msgpack_object *o) {
  const msgpack_object *f;
  const uint8_t *ip;
  size_t n, ip_len;
  uint64_t port;
  if (dht_mp_array(o, 4, 4, &f, &n) != 0 ||
      dht_mp_bin_copy(&f[0], c->pk, NC_PK_LEN) != 0 ||
      dht_mp_uint(&f[1], UINT64_MAX, &c->nonce) != 0 ||
      dht_mp_bin(&f[2], 4, 16, &ip, &ip_len) != 0 ||
      (ip_len != 4 && ip_len != 16) ||
      dht_mp_uint(&f[3], 65535, &port) != 0 || port == 0)
    return DHT_ERR_MALFORMED;
  c->addr.family = ip_len == 4 ? 4 : 6;
  memcpy(c->addr.ip, ip, ip_len);
  c->addr.port = (uint16_t)port;
  return 0;
}

static int decode_contacts(dht_msg *m, const msgpack_object *o) {
  const msgpack_object *items;
  size_t n;
  if (dht_mp_array(o, 0, DHT_K_MAX, &items, &n) != 0) return DHT_ERR_MALFORMED;
  for (size_t i = 0; i < n; i++)
    if (decode_contact(&m->contacts[i], &items[i]) != 0)
      return DHT_ERR_MALFORMED;
  m->n_contacts = n;
  return 0;
}

static int check_contacts(const dht_msg *m) {
  if (m->n_contacts > DHT_K_MAX) return DHT_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < m->n_contacts; i++) {
    const dht_addr *a = &m->contacts[i].addr;
    if ((a->family != 4 && a->family != 6) || a->port == 0)
      return DHT_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

/* check_record validates one record reference for encoding. */
static int check_record(const uint8_t *rec, size_t len) {
  if (len == 0 || !rec) return DHT_ERR_INVALID_ARGUMENT;
  return len > DHT_MAX_RECORD ? DHT_ERR_TOO_LARGE : 0;
}

static int decode_token(dht_msg *m, const msgpack_object *o) {
  return dht_mp_bin_copy(o, m->token, DHT_TOKEN_LEN);
}

static int decode_u32(uint32_t *out, const msgpack_object *o) {
  uint64_t v;
  if (dht_mp_uint(o, UINT32_MAX, &v) != 0) return DHT_ERR_MALFORMED;
  *out = (uint32_t)v;
  return 0;
}

/* ---- Message bodies: one encoder, decoder and check per type ---------- */

static void encode_none(dht_mp_writer *w, const dht_msg *m) {
  (void)w;
  (void)m;
}

static int decode_none(dht_msg *m, const msgpack_object *f) {
  (void)m;
  (void)f;
  return 0;
}

static void encode_find_node(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->target, DHT_ID_LEN);
}

static int decode_find_node(dht_msg *m, const msgpack_object *f) {
  return dht_mp_bin_copy(&f[0], m->target, DHT_ID_LEN);
}

static void encode_nodes(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->token, DHT_TOKEN_LEN);
  pack_contacts(w, m);
}

static int decode_nodes(dht_msg *m, const msgpack_object *f) {
  if (decode_token(m, &f[0]) != 0) return DHT_ERR_MALFORMED;
  return decode_contacts(m, &f[1]);
}

static void encode_find_value(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->target, DHT_ID_LEN);
  msgpack_pack_uint32(&w->pk, m->offset);
}

static int decode_find_value(dht_msg *m, const msgpack_object *f) {
  if (dht_mp_bin_copy(&f[0], m->target, DHT_ID_LEN) != 0)
    return DHT_ERR_MALFORMED;
  return decode_u32(&m->offset, &f[1]);
}

static void encode_values(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->token, DHT_TOKEN_LEN);
  msgpack_pack_uint32(&w->pk, m->total);
  msgpack_pack_array(&w->pk, m->n_records);
  for (size_t i = 0; i < m->n_records; i++)
    dht_mp_pack_bin(w, m->records[i], m->record_lens[i]);
  pack_contacts(w, m);
}

static int decode_records(dht_msg *m, const msgpack_object *o) {
  const msgpack_object *items;
  size_t n;
  if (dht_mp_array(o, 0, DHT_VALUES_MAX, &items, &n) != 0)
    return DHT_ERR_MALFORMED;
  for (size_t i = 0; i < n; i++)
    if (dht_mp_bin(&items[i], 1, DHT_MAX_RECORD, &m->records[i],
                   &m->record_lens[i]) != 0)
      return DHT_ERR_MALFORMED;
  m->n_records = n;
  return 0;
}

static int decode_values(dht_msg *m, const msgpack_object *f) {
  if (decode_token(m, &f[0]) != 0 || decode_u32(&m->total, &f[1]) != 0 ||
      decode_records(m, &f[2]) != 0)
    return DHT_ERR_MALFORMED;
  return decode_contacts(m, &f[3]);
}

static int check_values(const dht_msg *m) {
  if (m->n_records > DHT_VALUES_MAX) return DHT_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < m->n_records; i++) {
    int rv = check_record(m->records[i], m->record_lens[i]);
    if (rv != 0) return rv;
  }
  return check_contacts(m);
}

static void encode_store(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->token, DHT_TOKEN_LEN);
  dht_mp_pack_bin(w, m->record, m->record_len);
}

static int decode_store(dht_msg *m, const msgpack_object *f) {
  if (decode_token(m, &f[0]) != 0) return DHT_ERR_MALFORMED;
  return dht_mp_bin(&f[1], 1, DHT_MAX_RECORD, &m->record, &m->record_len);
}

static int check_store(const dht_msg *m) {
  return check_record(m->record, m->record_len);
}


static void encode_stored(dht_mp_writer *w, const dht_msg *m) {
  msgpack_pack_int32(&w->pk, m->status);
}

static int decode_stored(dht_msg *m, const msgpack_object *f) {
  if (f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && f[0].via.u64 == 0) {
    m->status = 0;
    return 0;
  }
  if (f[0].type != MSGPACK_OBJECT_NEGATIVE_INTEGER ||
      f[0].via.i64 < DHT_STATUS_MIN)
    return DHT_ERR_MALFORMED;
  m->status = (int32_t)f[0].via.i64;
  return 0;
}

static int check_stored(const dht_msg *m) {
  return m->status > 0 || m->status < DHT_STATUS_MIN
             ? DHT_ERR_INVALID_ARGUMENT
             : 0;
}

static void encode_relay(dht_mp_writer *w, const dht_msg *m) {
  dht_mp_pack_bin(w, m->payload, m->payload_len);
}

static int decode_relay(dht_msg *m, const msgpack_object *f) {
  return dht_mp_bin(&f[0], 1, DHT_APP_MAX, &m->payload, &m->payload_len);
}

static int check_relay(const dht_msg *m) {
  if (!m->payload || m->payload_len == 0) return DHT_ERR_INVALID_ARGUMENT;
  return m->payload_len > DHT_APP_MAX ? DHT_ERR_TOO_LARGE : 0;
}

/* Common prefix of every body: [type, txid, ts_ms]. */
#define BODY_COMMON 3u
#define BODY_FIELDS_MAX 4u

typedef struct msg_codec {
  uint8_t n_fields; /* after the common prefix */
  void (*encode)(dht_mp_writer *w, const dht_msg *m);
  int (*decode)(dht_msg *m, const msgpack_object *fields);
  int (*check)(const dht_msg *m); /* encoder's argument check, or NULL */
} msg_codec;

static const msg_codec msg_codecs[] = {
    [DHT_MSG_PING] = {0, encode_none, decode_none, NULL},
    [DHT_MSG_PONG] = {0, encode_none, decode_none, NULL},
    [DHT_MSG_FIND_NODE] = {1, encode_find_node, decode_find_node, NULL},
    [DHT_MSG_NODES] = {2, encode_nodes, decode_nodes, check_contacts},
    [DHT_MSG_FIND_VALUE] = {2, encode_find_value, decode_find_value, NULL},
    [DHT_MSG_VALUES] = {4, encode_values, decode_values, check_values},
    [DHT_MSG_STORE] = {2, encode_store, decode_store, check_store},
    [DHT_MSG_STORED] = {1, encode_stored, decode_stored, check_stored},
    [DHT_MSG_RELAY] = {1, encode_relay, decode_relay, check_relay},
    [DHT_MSG_RELAYED] = {1, encode_stored, decode_stored, check_stored},
};

static const msg_codec *find_codec(uint64_t type) {
  if (type >= sizeof msg_codecs / sizeof msg_codecs[0]) return NULL;
  return msg_codecs[type].encode ? &msg_codecs[type] : NULL;
}

int dht_msg_encode(const dht_msg *m, uint8_t *buf, size_t cap, size_t *len) {
  const msg_codec *c;
  dht_mp_writer w;
  int rv;
  if (!len) return DHT_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!m || !buf) return DHT_ERR_INVALID_ARGUMENT;
  c = find_codec(m->type);
  if (!c) return DHT_ERR_INVALID_ARGUMENT;
  if (c->check && (rv = c->check(m)) != 0) return rv;
  /* A body longer than DHT_BODY_MAX cannot travel in one datagram. */
  dht_mp_writer_init(&w, buf, cap < DHT_BODY_MAX ? cap : DHT_BODY_MAX);
  msgpack_pack_array(&w.pk, BODY_COMMON + c->n_fields);
  msgpack_pack_uint8(&w.pk, m->type);
  msgpack_pack_uint32(&w.pk, m->txid);
  msgpack_pack_uint64(&w.pk, m->ts_ms);
  c->encode(&w, m);
  if (w.overflow) return DHT_ERR_TOO_LARGE;
  *len = w.len;
  return 0;
}

static int decode_body(dht_msg *m, const msgpack_object *o) {
  const msgpack_object *f;
  const msg_codec *c;
  size_t n;
  uint64_t type, ts;
  if (dht_mp_array(o, BODY_COMMON, BODY_COMMON + BODY_FIELDS_MAX, &f, &n) !=
          0 ||
      dht_mp_uint(&f[0], UINT8_MAX, &type) != 0)
    return DHT_ERR_MALFORMED;
  c = find_codec(type);
  if (!c || n != BODY_COMMON + c->n_fields) return DHT_ERR_MALFORMED;
  if (decode_u32(&m->txid, &f[1]) != 0 ||
      dht_mp_uint(&f[2], UINT64_MAX, &ts) != 0)
    return DHT_ERR_MALFORMED;
  m->type = (uint8_t)type;
  m->ts_ms = ts;
  return c->decode(m, f + BODY_COMMON);
}

int dht_msg_decode(dht_msg *m, const uint8_t *buf, size_t len) {
  msgpack_unpacked u;
  int rv;
  memset(m, 0, sizeof *m);
  if (!buf || len > DHT_BODY_MAX) return DHT_ERR_MALFORMED;
  rv = dht_mp_unpack(&u, buf, len);
  if (rv == 0) rv = decode_body(m, &u.data);
  msgpack_unpacked_destroy(&u);
  if (rv != 0) memset(m, 0, sizeof *m);
  return rv != 0 ? DHT_ERR_MALFORMED : 0;
}
