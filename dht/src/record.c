/*
 * Records: the signed, expiring envelope every DHT value travels in, its
 * strict msgpack codec, signing and the checks a storer runs on arrival,
 * plus the built-in "note" type (a named value under the author's key).
 *
 * Envelope: [version, type, key, author_pk, author_nonce, created,
 * expires, seq, payload, sig] in the msgpack subset of mp.h. The
 * signature covers a fixed binary signing input, not the msgpack bytes,
 * so it does not depend on the encoder. docs/PROTOCOL.md is normative.
 */
#include <nointrude/dht.h>

#include <string.h>

#include "mp.h"

#define RECORD_FIELDS 10
#define FUTURE_SLACK_S 300 /* a record may be created this far ahead */
#define NOTE_MAX_PAYLOAD (DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8)
#define NOTE_MAX_LIFETIME_S (7 * 24 * 3600)

static const char record_tag[] = "nointrude-record-v1";
static const char note_tag[] = "nointrude-note";

/* Signing input: tag, version, type, key, author_pk, four le64 fields,
 * le32 payload length, then the payload (at most DHT_MAX_RECORD). */
#define SIGN_PREFIX_LEN \
  (sizeof record_tag - 1 + 2 + DHT_KEY_LEN + NC_PK_LEN + 4 * 8 + 4)
#define SIGN_MAX (SIGN_PREFIX_LEN + DHT_MAX_RECORD)

/* ---- Codec ------------------------------------------------------------ */

int dht_record_encode(const dht_record *rec, uint8_t *buf, size_t cap,
                      size_t *len) {
  dht_mp_writer w;
  if (!len) return DHT_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!rec || !buf || (!rec->payload && rec->payload_len > 0))
    return DHT_ERR_INVALID_ARGUMENT;
  if (rec->payload_len > DHT_MAX_RECORD) return DHT_ERR_TOO_LARGE;
  dht_mp_writer_init(&w, buf, cap < DHT_MAX_RECORD ? cap : DHT_MAX_RECORD);
  msgpack_pack_array(&w.pk, RECORD_FIELDS);
  msgpack_pack_uint8(&w.pk, rec->version);
  msgpack_pack_uint8(&w.pk, rec->type);
  dht_mp_pack_bin(&w, rec->key, DHT_KEY_LEN);
  dht_mp_pack_bin(&w, rec->author_pk, NC_PK_LEN);
  msgpack_pack_uint64(&w.pk, rec->author_nonce);
  msgpack_pack_uint64(&w.pk, rec->created);
  msgpack_pack_uint64(&w.pk, rec->expires);
  msgpack_pack_uint64(&w.pk, rec->seq);
  dht_mp_pack_bin(&w, rec->payload, rec->payload_len);
  dht_mp_pack_bin(&w, rec->sig, NC_SIG_LEN);
  if (w.overflow) return DHT_ERR_TOO_LARGE;
  *len = w.len;
  return 0;
}

/* peek_version returns the version an envelope declares (its first
 * element, as a positive fixint or uint 8), or -1 if the bytes do not
 * start that way. It runs before anything else so that a future version
 * may change everything after the version. */
static int peek_version(const uint8_t *buf, size_t len) {
  size_t pos;
  if (len >= 2 && buf[0] >= 0x91 && buf[0] <= 0x9f) pos = 1;
  else if (len >= 4 && buf[0] == 0xdc) pos = 3;
  else return -1;
  if (buf[pos] <= 0x7f) return buf[pos];
  if (buf[pos] == 0xcc && len - pos >= 2) return buf[pos + 1];
  return -1;
}

static int decode_small(uint8_t *out, const msgpack_object *o) {
  uint64_t v;
  if (dht_mp_uint(o, UINT8_MAX, &v) != 0) return DHT_ERR_MALFORMED;
  *out = (uint8_t)v;
  return 0;
}

static int decode_fields(dht_record *rec, const msgpack_object *o) {
  const msgpack_object *f;
  size_t n;
  if (dht_mp_array(o, RECORD_FIELDS, RECORD_FIELDS, &f, &n) != 0 ||
      decode_small(&rec->version, &f[0]) != 0)
    return DHT_ERR_MALFORMED;
  if (rec->version != DHT_RECORD_VERSION) return DHT_ERR_VERSION;
  if (decode_small(&rec->type, &f[1]) != 0 ||
      dht_mp_bin_copy(&f[2], rec->key, DHT_KEY_LEN) != 0 ||
      dht_mp_bin_copy(&f[3], rec->author_pk, NC_PK_LEN) != 0 ||
      dht_mp_uint(&f[4], UINT64_MAX, &rec->author_nonce) != 0 ||
      dht_mp_uint(&f[5], UINT64_MAX, &rec->created) != 0 ||
      dht_mp_uint(&f[6], UINT64_MAX, &rec->expires) != 0 ||
      dht_mp_uint(&f[7], UINT64_MAX, &rec->seq) != 0 ||
      dht_mp_bin(&f[8], 0, DHT_MAX_RECORD, &rec->payload,
                 &rec->payload_len) != 0 ||
      dht_mp_bin_copy(&f[9], rec->sig, NC_SIG_LEN) != 0)
    return DHT_ERR_MALFORMED;
  return 0;
}

int dht_record_decode(dht_record *rec, const uint8_t *buf, size_t len) {
  msgpack_unpacked u;
  int version, rv;
  if (!rec) return DHT_ERR_INVALID_ARGUMENT;
  memset(rec, 0, sizeof *rec);
  if (!buf) return DHT_ERR_MALFORMED;
  if (len > DHT_MAX_RECORD) return DHT_ERR_TOO_LARGE;
  version = peek_version(buf, len);
  if (version >= 0 && version != DHT_RECORD_VERSION) return DHT_ERR_VERSION;
  rv = dht_mp_unpack(&u, buf, len);
  if (rv == 0) rv = decode_fields(rec, &u.data);
  msgpack_unpacked_destroy(&u);
  if (rv != 0) memset(rec, 0, sizeof *rec);
  return rv;
}

/* ---- Signing ---------------------------------------------------------- */

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
  return p + bytes;
}

static uint8_t *put_bytes(uint8_t *p, const void *src, size_t len) {
  if (len > 0) memcpy(p, src, len);
  return p + len;
}

/* signing_input writes the bytes the author signs; |rec|'s payload must
 * be at most DHT_MAX_RECORD bytes. Returns their length. */
static size_t signing_input(uint8_t out[SIGN_MAX], const dht_record *rec) {
  uint8_t *p = put_bytes(out, record_tag, sizeof record_tag - 1);
  *p++ = rec->version;
  *p++ = rec->type;
  p = put_bytes(p, rec->key, DHT_KEY_LEN);
  p = put_bytes(p, rec->author_pk, NC_PK_LEN);
  p = put_le(p, rec->author_nonce, 8);
  p = put_le(p, rec->created, 8);
  p = put_le(p, rec->expires, 8);
  p = put_le(p, rec->seq, 8);
  p = put_le(p, rec->payload_len, 4);
  p = put_bytes(p, rec->payload, rec->payload_len);
  return (size_t)(p - out);
}

static int signable(const dht_record *rec) {
  return rec->payload_len <= DHT_MAX_RECORD &&
         (rec->payload || rec->payload_len == 0);
}

void dht_record_sign(dht_record *rec, const nc_identity *ident) {
  uint8_t msg[SIGN_MAX];
  memcpy(rec->author_pk, ident->pk, NC_PK_LEN);
  rec->author_nonce = ident->nonce;
  /* A payload that cannot be encoded gets a zero signature, which never
   * verifies. */
  if (!signable(rec)) {
    memset(rec->sig, 0, NC_SIG_LEN);
    return;
  }
  nc_sign(rec->sig, msg, signing_input(msg, rec), ident->sk);
}

/* ---- Verification ----------------------------------------------------- */

static int note_key_check(const dht_record *rec, const void *ctx);

static const dht_record_type note_type = {
    .type = DHT_RECORD_NOTE,
    .name = "note",
    .max_payload = NOTE_MAX_PAYLOAD,
    .max_lifetime = NOTE_MAX_LIFETIME_S,
    .key_check = note_key_check,
    .multi = 0,
};

/* The built-in note wins over a table entry with the same type byte. */
static const dht_record_type *find_type(uint8_t type,
                                        const dht_record_type *types,
                                        size_t n_types) {
  if (type == DHT_RECORD_NOTE) return &note_type;
  for (size_t i = 0; types && i < n_types; i++)
    if (types[i].type == type) return &types[i];
  return NULL;
}

typedef struct verify_ctx {
  const dht_record *rec;
  const dht_record_type *type;
  uint64_t now_s;
  unsigned difficulty;
} verify_ctx;

static int check_size(const verify_ctx *c) {
  size_t len = c->rec->payload_len;
  if (!c->rec->payload && len > 0) return DHT_ERR_INVALID_ARGUMENT;
  return len > c->type->max_payload || len > DHT_MAX_RECORD
             ? DHT_ERR_TOO_LARGE
             : 0;
}

static int check_puzzle(const verify_ctx *c) {
  int rv = nc_id_verify(NULL, c->rec->author_pk, c->rec->author_nonce,
                        c->difficulty);
  if (rv == NC_ERR_INVALID_ARGUMENT) return DHT_ERR_INVALID_ARGUMENT;
  /* A pk that is not a curve point is no identity at all. */
  return rv == 0 ? 0 : DHT_ERR_PUZZLE;
}

static int check_lifetime(const verify_ctx *c) {
  const dht_record *r = c->rec;
  if (r->expires < r->created) return DHT_ERR_LIFETIME;
  return r->expires - r->created > c->type->max_lifetime ? DHT_ERR_LIFETIME
                                                          : 0;
}

static int check_future(const verify_ctx *c) {
  uint64_t created = c->rec->created;
  return created > c->now_s && created - c->now_s > FUTURE_SLACK_S
             ? DHT_ERR_FUTURE
             : 0;
}

static int check_expired(const verify_ctx *c) {
  return c->rec->expires <= c->now_s ? DHT_ERR_EXPIRED : 0;
}

static int check_key(const verify_ctx *c) {
  return c->type->key_check ? c->type->key_check(c->rec, c->type->ctx) : 0;
}

static int check_signature(const verify_ctx *c) {
  uint8_t msg[SIGN_MAX];
  size_t n = signing_input(msg, c->rec);
  return nc_verify(c->rec->sig, msg, n, c->rec->author_pk) == 0
             ? 0
             : DHT_ERR_BAD_SIGNATURE;
}

/* The checks after the type lookup, in the order dht.h promises: cheap
 * and local first, the signature (the expensive one) last. */
static int (*const verify_steps[])(const verify_ctx *) = {
    check_size,    check_puzzle, check_lifetime,  check_future,
    check_expired, check_key,    check_signature,
};

int dht_record_verify(const dht_record *rec, uint64_t now_s,
                      unsigned difficulty, const dht_record_type *types,
                      size_t n_types) {
  verify_ctx c = {rec, NULL, now_s, difficulty};
  if (!rec) return DHT_ERR_INVALID_ARGUMENT;
  if (rec->version != DHT_RECORD_VERSION) return DHT_ERR_VERSION;
  c.type = find_type(rec->type, types, n_types);
  if (!c.type) return DHT_ERR_UNKNOWN_TYPE;
  for (size_t i = 0; i < sizeof verify_steps / sizeof verify_steps[0]; i++) {
    int rv = verify_steps[i](&c);
    if (rv != 0) return rv;
  }
  return 0;
}

/* ---- The note type ---------------------------------------------------- */

void dht_note_key(uint8_t key[DHT_KEY_LEN], const uint8_t author_pk[NC_PK_LEN],
                  const uint8_t *name, size_t name_len) {
  nc_hasher h;
  nc_hasher_init(&h, NULL, 0, DHT_KEY_LEN);
  nc_hasher_update(&h, note_tag, sizeof note_tag - 1);
  nc_hasher_update(&h, author_pk, NC_PK_LEN);
  if (name_len > 0) nc_hasher_update(&h, name, name_len);
  nc_hasher_final(&h, key, DHT_KEY_LEN);
}

void dht_record_slot(uint8_t slot[DHT_KEY_LEN], const dht_record *rec,
                     int multi) {
  nc_hasher h;
  if (!multi) {
    memcpy(slot, rec->author_pk, NC_PK_LEN);
    return;
  }
  nc_hasher_init(&h, NULL, 0, DHT_KEY_LEN);
  nc_hasher_update(&h, rec->author_pk, NC_PK_LEN);
  if (rec->payload_len > 0) nc_hasher_update(&h, rec->payload, rec->payload_len);
  nc_hasher_final(&h, slot, DHT_KEY_LEN);
}

static int note_key_check(const dht_record *rec, const void *ctx) {
  const uint8_t *name, *value;
  size_t name_len, value_len;
  uint8_t key[DHT_KEY_LEN];
  (void)ctx;
  if (dht_note_parse(rec, &name, &name_len, &value, &value_len) != 0)
    return DHT_ERR_MALFORMED;
  dht_note_key(key, rec->author_pk, name, name_len);
  return memcmp(key, rec->key, DHT_KEY_LEN) == 0 ? 0 : DHT_ERR_KEY_RULE;
}

static int note_args_check(const uint8_t *payload_buf, const nc_identity *ident,
                           const uint8_t *name, size_t name_len,
                           const uint8_t *value, size_t value_len) {
  if (!payload_buf || !ident || !name || name_len == 0 ||
      (!value && value_len > 0))
    return DHT_ERR_INVALID_ARGUMENT;
  if (name_len > DHT_NOTE_NAME_MAX || value_len > DHT_NOTE_VALUE_MAX)
    return DHT_ERR_TOO_LARGE;
  return 0;
}

int dht_note_build(dht_record *rec, uint8_t *payload_buf, size_t payload_cap,
                   const nc_identity *ident, const uint8_t *name,
                   size_t name_len, const uint8_t *value, size_t value_len,
                   uint64_t now_s, uint64_t ttl_s, uint64_t seq) {
  dht_mp_writer w;
  int rv;
  if (!rec) return DHT_ERR_INVALID_ARGUMENT;
  memset(rec, 0, sizeof *rec);
  rv = note_args_check(payload_buf, ident, name, name_len, value, value_len);
  if (rv != 0) return rv;
  if (ttl_s == 0 || ttl_s > NOTE_MAX_LIFETIME_S || now_s > UINT64_MAX - ttl_s)
    return DHT_ERR_INVALID_ARGUMENT;
  dht_mp_writer_init(&w, payload_buf, payload_cap);
  msgpack_pack_array(&w.pk, 2);
  dht_mp_pack_bin(&w, name, name_len);
  dht_mp_pack_bin(&w, value, value_len);
  if (w.overflow) return DHT_ERR_TOO_LARGE;
  rec->version = DHT_RECORD_VERSION;
  rec->type = DHT_RECORD_NOTE;
  rec->created = now_s;
  rec->expires = now_s + ttl_s;
  rec->seq = seq;
  rec->payload = payload_buf;
  rec->payload_len = w.len;
  dht_note_key(rec->key, ident->pk, name, name_len);
  dht_record_sign(rec, ident);
  return 0;
}

static int note_fields(const msgpack_object *o, const uint8_t **name,
                       size_t *name_len, const uint8_t **value,
                       size_t *value_len) {
  const msgpack_object *f;
  size_t n;
  if (dht_mp_array(o, 2, 2, &f, &n) != 0 ||
      dht_mp_bin(&f[0], 1, DHT_NOTE_NAME_MAX, name, name_len) != 0 ||
      dht_mp_bin(&f[1], 0, DHT_NOTE_VALUE_MAX, value, value_len) != 0)
    return DHT_ERR_MALFORMED;
  return 0;
}

int dht_note_parse(const dht_record *rec, const uint8_t **name,
                   size_t *name_len, const uint8_t **value,
                   size_t *value_len) {
  msgpack_unpacked u;
  int rv;
  *name = *value = NULL;
  *name_len = *value_len = 0;
  if (rec->type != DHT_RECORD_NOTE || !rec->payload ||
      rec->payload_len > NOTE_MAX_PAYLOAD)
    return DHT_ERR_MALFORMED;
  rv = dht_mp_unpack(&u, rec->payload, rec->payload_len);
  if (rv == 0) rv = note_fields(&u.data, name, name_len, value, value_len);
  msgpack_unpacked_destroy(&u);
  if (rv != 0) {
    *name = *value = NULL;
    *name_len = *value_len = 0;
  }
  return rv;
}
