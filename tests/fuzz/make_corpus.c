/*
 * Seed corpus generator for the fuzz targets (built, not run by ctest).
 *
 *   make_corpus DATAGRAM_DIR RECORD_DIR
 *
 * Writes, with the fixed identities of fuzz_common.h and fixed nonces so
 * the output is reproducible: a raw body and a sealed datagram (A to B)
 * of every message type, probes, valid notes and records of an extra
 * type, records that decode but fail verification, and truncated or
 * garbled variants. Existing files of the same names are overwritten.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire.h"

#define DAY 86400ull

typedef struct out_dir {
  const char *path;
  int failed;
  unsigned written;
} out_dir;

static void put(out_dir *d, const char *name, const uint8_t *p, size_t n) {
  char path[4096];
  FILE *fp;
  snprintf(path, sizeof path, "%s/%s", d->path, name);
  fp = fopen(path, "wb");
  if (!fp || fwrite(p, 1, n, fp) != n) d->failed = 1;
  if (fp && fclose(fp) != 0) d->failed = 1;
  d->written++;
}

static nc_identity id_a, id_b;

/* ---- Records ---------------------------------------------------------- */

typedef struct built {
  uint8_t bytes[DHT_MAX_RECORD];
  size_t len;
} built;

static void note(built *out, dht_record *rec, uint8_t *payload,
                 const char *name, size_t value_len, uint64_t created,
                 uint64_t ttl, uint64_t seq) {
  static const uint8_t value[DHT_NOTE_VALUE_MAX] = "do not intrude";
  FUZZ_CHECK(dht_note_build(rec, payload, DHT_MAX_RECORD, &id_a,
                            (const uint8_t *)name, strlen(name), value,
                            value_len, created, ttl, seq) == 0);
  FUZZ_CHECK(dht_record_encode(rec, out->bytes, sizeof out->bytes,
                               &out->len) == 0);
}

static void resign(built *out, dht_record *rec) {
  dht_record_sign(rec, &id_a);
  FUZZ_CHECK(dht_record_encode(rec, out->bytes, sizeof out->bytes,
                               &out->len) == 0);
}

static void put_built(out_dir *d, const char *name, const built *b) {
  put(d, name, b->bytes, b->len);
}

static void garbled_records(out_dir *d, const built *good) {
  uint8_t tmp[DHT_MAX_RECORD + 1];
  put(d, "trunc_half", good->bytes, good->len / 2);
  put(d, "trunc_last", good->bytes, good->len - 1);
  memcpy(tmp, good->bytes, good->len);
  tmp[good->len] = 0x00;
  put(d, "trailing_byte", tmp, good->len + 1);
  tmp[0] = 0x9b; /* 11 fields claimed */
  put(d, "wrong_count", tmp, good->len + 1);
  memcpy(tmp, good->bytes, good->len);
  tmp[1] = 0x02; /* version 2 */
  put(d, "version2", tmp, good->len);
  tmp[1] = 0x01;
  tmp[good->len - 5] ^= 0xff; /* inside the signature */
  put(d, "bad_sig", tmp, good->len);
}

static void make_records(out_dir *d, built *keep) {
  uint8_t payload[DHT_MAX_RECORD], blob[64];
  dht_record rec;
  built b;
  note(&b, &rec, payload, "contact", 14, FUZZ_NOW, 3600, 1);
  put_built(d, "note_small", &b);
  *keep = b;
  garbled_records(d, &b);
  note(&b, &rec, payload, "e", 0, FUZZ_NOW - 10, 60, 0);
  put_built(d, "note_empty_value", &b);
  note(&b, &rec, payload,
       "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
       DHT_NOTE_VALUE_MAX, FUZZ_NOW, 7 * DAY, UINT64_MAX);
  put_built(d, "note_max", &b);
  note(&b, &rec, payload, "old", 4, FUZZ_NOW - 2 * DAY, DAY, 300);
  put_built(d, "note_expired", &b);
  note(&b, &rec, payload, "soon", 4, FUZZ_NOW + 1000, DAY, 70000);
  put_built(d, "note_future", &b);
  note(&b, &rec, payload, "life", 4, FUZZ_NOW, DAY, 2);
  rec.expires = FUZZ_NOW + 8 * DAY;
  resign(&b, &rec);
  put_built(d, "note_lifetime", &b);
  note(&b, &rec, payload, "key", 4, FUZZ_NOW, DAY, 3);
  rec.key[0] ^= 1;
  resign(&b, &rec);
  put_built(d, "note_wrong_key", &b);
  /* Records of the extra type 42 (any key) and of an unknown type. */
  memset(&rec, 0, sizeof rec);
  memset(blob, 0x42, sizeof blob);
  rec.version = DHT_RECORD_VERSION;
  rec.type = 42;
  rec.created = FUZZ_NOW;
  rec.expires = FUZZ_NOW + 600;
  rec.seq = (uint64_t)1 << 33;
  rec.payload = blob;
  rec.payload_len = sizeof blob;
  nc_hash(rec.key, DHT_KEY_LEN, NULL, 0, blob, sizeof blob);
  resign(&b, &rec);
  put_built(d, "type42", &b);
  rec.type = 99;
  resign(&b, &rec);
  put_built(d, "type99_unknown", &b);
  rec.type = DHT_RECORD_NOTE; /* a note whose payload is not [name, value] */
  resign(&b, &rec);
  put_built(d, "note_bad_payload", &b);
}

/* ---- Messages and datagrams ------------------------------------------- */

static void contact(dht_wire_contact *c, const nc_identity *id, int v6,
                    uint16_t port) {
  memcpy(c->pk, id->pk, NC_PK_LEN);
  c->nonce = id->nonce;
  c->addr.family = v6 ? 6 : 4;
  memset(c->addr.ip, 0, sizeof c->addr.ip);
  c->addr.ip[0] = v6 ? 0xfd : 10;
  c->addr.ip[v6 ? 15 : 3] = 7;
  c->addr.port = port;
}

static void sample_msg(dht_msg *m, uint8_t type, const built *rec) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->txid = 0x01000000u + type;
  m->ts_ms = FUZZ_NOW * 1000 + type;
  memset(m->target, 0x5a, sizeof m->target);
  memset(m->token, 0x70 + type, sizeof m->token);
  m->offset = type == DHT_MSG_FIND_VALUE ? 2 : 0;
  if (type == DHT_MSG_NODES || type == DHT_MSG_VALUES) {
    contact(&m->contacts[0], &id_a, 0, 4000);
    contact(&m->contacts[1], &id_b, 1, 65535);
    contact(&m->contacts[2], &id_a, 1, 1);
    m->n_contacts = type == DHT_MSG_NODES ? 3 : 1;
  }
  if (type == DHT_MSG_VALUES) {
    m->total = 3;
    m->records[0] = m->records[1] = rec->bytes;
    m->record_lens[0] = m->record_lens[1] = rec->len;
    m->n_records = 2;
  }
  if (type == DHT_MSG_STORE) {
    m->record = rec->bytes;
    m->record_len = rec->len;
  }
  m->status = type == DHT_MSG_STORED    ? DHT_ERR_PUZZLE
              : type == DHT_MSG_RELAYED ? DHT_ERR_UNKNOWN_TYPE
                                        : 0;
  if (type == DHT_MSG_RELAY) { /* an opaque application payload */
    m->payload = rec->bytes;
    m->payload_len = rec->len;
  }
}

static size_t seal(uint8_t *dgram, const nc_identity *from,
                   const uint8_t *key, const uint8_t *body, size_t len,
                   uint8_t nonce_fill) {
  uint8_t nonce[NC_AEAD_NONCE_LEN];
  size_t out;
  memset(nonce, nonce_fill, sizeof nonce);
  FUZZ_CHECK(dht_frame_seal(dgram, DHT_MAX_DATAGRAM, &out, from->pk,
                            from->nonce, nonce, key, body, len) == 0);
  return out;
}

static const char *const type_names[] = {
    [DHT_MSG_PING] = "ping",     [DHT_MSG_PONG] = "pong",
    [DHT_MSG_FIND_NODE] = "find_node", [DHT_MSG_NODES] = "nodes",
    [DHT_MSG_FIND_VALUE] = "find_value", [DHT_MSG_VALUES] = "values",
    [DHT_MSG_STORE] = "store",   [DHT_MSG_STORED] = "stored",
    [DHT_MSG_RELAY] = "relay",   [DHT_MSG_RELAYED] = "relayed",
};

static void garbled_datagrams(out_dir *d, const uint8_t *dgram, size_t len,
                              const uint8_t *body, size_t body_len) {
  uint8_t tmp[DHT_MAX_DATAGRAM + 1];
  put(d, "sealed_trunc", dgram, len - 1);
  put(d, "sealed_short", dgram, DHT_SEALED_OVERHEAD - 1);
  put(d, "header_only", dgram, 3);
  memcpy(tmp, dgram, len);
  tmp[len - 20] ^= 0x01; /* ciphertext */
  put(d, "sealed_flip_cipher", tmp, len);
  tmp[len - 20] ^= 0x01;
  tmp[10] ^= 0x01; /* sender key, inside the AD */
  put(d, "sealed_flip_ad", tmp, len);
  tmp[10] ^= 0x01;
  tmp[0] = 'X';
  put(d, "bad_magic", tmp, len);
  tmp[0] = 'N';
  tmp[2] = 9;
  put(d, "bad_version", tmp, len);
  tmp[2] = DHT_WIRE_VERSION;
  tmp[3] = 7;
  put(d, "bad_kind", tmp, len);
  put(d, "body_trunc", body, body_len / 2);
  memcpy(tmp, body, body_len);
  tmp[body_len] = 0xc0;
  put(d, "body_trailing", tmp, body_len + 1);
}

static void make_datagrams(out_dir *d, const built *rec) {
  uint8_t key[NC_SHARED_LEN], body[DHT_BODY_MAX], dgram[DHT_MAX_DATAGRAM];
  uint8_t g_body[DHT_BODY_MAX], g_dgram[DHT_MAX_DATAGRAM];
  uint8_t probe[DHT_PROBE_LEN + 1] = {0};
  char name[64];
  size_t body_len = 0, len = 0, g_body_len = 0, g_len = 0;
  dht_msg m;
  FUZZ_CHECK(nc_peer_key(key, id_a.sk, id_a.pk, id_b.pk) == 0);
  for (uint8_t t = DHT_MSG_PING; t <= DHT_MSG_RELAYED; t++) {
    sample_msg(&m, t, rec);
    FUZZ_CHECK(dht_msg_encode(&m, body, sizeof body, &body_len) == 0);
    snprintf(name, sizeof name, "body_%s", type_names[t]);
    put(d, name, body, body_len);
    len = seal(dgram, t % 2 ? &id_a : &id_b, key, body, body_len, t);
    snprintf(name, sizeof name, "sealed_%s", type_names[t]);
    put(d, name, dgram, len);
    if (t != DHT_MSG_STORED) continue;
    /* The garbled variants derive from STORED. */
    memcpy(g_body, body, body_len);
    g_body_len = body_len;
    memcpy(g_dgram, dgram, len);
    g_len = len;
  }
  garbled_datagrams(d, g_dgram, g_len, g_body, g_body_len);
  dht_frame_write_probe(probe, DHT_KIND_PROBE, id_a.pk, id_a.nonce,
                        0x1122334455667788ull);
  put(d, "probe", probe, DHT_PROBE_LEN);
  put(d, "probe_long", probe, DHT_PROBE_LEN + 1);
  dht_frame_write_probe(probe, DHT_KIND_PROBE_REPLY, id_b.pk, id_b.nonce,
                        0x1122334455667788ull);
  put(d, "probe_reply", probe, DHT_PROBE_LEN);
}

int main(int argc, char **argv) {
  out_dir dgrams, records;
  built rec;
  if (argc != 3) {
    fprintf(stderr, "usage: %s DATAGRAM_DIR RECORD_DIR\n", argv[0]);
    return 2;
  }
  FUZZ_CHECK(nc_init() == 0);
  fuzz_identity(&id_a, FUZZ_SEED_A);
  fuzz_identity(&id_b, FUZZ_SEED_B);
  dgrams = (out_dir){argv[1], 0, 0};
  records = (out_dir){argv[2], 0, 0};
  make_records(&records, &rec);
  make_datagrams(&dgrams, &rec);
  printf("wrote %u datagram and %u record files\n", dgrams.written,
         records.written);
  return dgrams.failed || records.failed ? 1 : 0;
}
