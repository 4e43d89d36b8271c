/*
 * The record types the registry registers with the DHT, each with its
 * payload limit, maximum lifetime (30 days) and key rule, and
 * reg_record_make, which builds, signs and encodes one record.
 *
 * Key rules bind every record to what it describes, so a storer can
 * refuse records filed under the wrong key without knowing anything else:
 * a manifest sits under H(author, batch id), a chunk under the hash of its
 * payload, an index under its creation window, an opt-out under the inbox
 * of the batch it names, evidence under the sender it accuses. A payload
 * that does not parse fails with DHT_ERR_MALFORMED, a wrong key with
 * DHT_ERR_KEY_RULE.
 */
#include <string.h>

#include "internal.h"

static int key_is(const dht_record *rec, const uint8_t want[DHT_KEY_LEN]) {
  return memcmp(rec->key, want, DHT_KEY_LEN) == 0 ? 0 : DHT_ERR_KEY_RULE;
}

static int batch_key_check(const dht_record *rec, const void *ctx) {
  reg_manifest m;
  uint8_t key[DHT_KEY_LEN];
  (void)ctx;
  if (reg_manifest_decode(&m, rec->payload, rec->payload_len) != 0)
    return DHT_ERR_MALFORMED;
  reg_manifest_key(key, rec->author_pk, m.batch_id);
  return key_is(rec, key);
}

static int chunk_key_check(const dht_record *rec, const void *ctx) {
  uint8_t key[DHT_KEY_LEN], kind;
  const uint8_t *content;
  size_t clen;
  (void)ctx;
  if (reg_chunk_parse(rec->payload, rec->payload_len, &kind, &content,
                      &clen) != 0 ||
      (kind == REG_CHUNK_DATA && !reg_chunk_sorted(content, clen / 8)))
    return DHT_ERR_MALFORMED;
  reg_chunk_key(key, rec->payload, rec->payload_len);
  return key_is(rec, key);
}

/* An index record also carries the index proof of work at the network's
 * base bits (|ctx| is its reg_types): storers refuse announcements that
 * cost nothing, so crowding a window costs work per record. */
static int index_key_check(const dht_record *rec, const void *ctx) {
  const reg_types *rt = ctx;
  reg_index x;
  uint8_t key[DHT_KEY_LEN];
  if (reg_index_decode(&x, rec->payload, rec->payload_len) != 0)
    return DHT_ERR_MALFORMED;
  if (x.window != reg_index_window(rec->created)) return DHT_ERR_KEY_RULE;
  if (!rt || !reg_index_pow_ok(&x, rec->author_pk, rt->pow_base_bits))
    return DHT_ERR_KEY_RULE;
  reg_index_key(key, x.window);
  return key_is(rec, key);
}

static int optout_key_check(const dht_record *rec, const void *ctx) {
  reg_optout_record x;
  uint8_t key[DHT_KEY_LEN];
  (void)ctx;
  if (reg_optout_record_decode(&x, rec->payload, rec->payload_len) != 0)
    return DHT_ERR_MALFORMED;
  reg_inbox_key(key, x.sender_pk, x.batch_id);
  return key_is(rec, key);
}

static int evidence_key_check(const dht_record *rec, const void *ctx) {
  reg_evidence x;
  uint8_t key[DHT_KEY_LEN];
  (void)ctx;
  if (reg_evidence_decode(&x, rec->payload, rec->payload_len) != 0)
    return DHT_ERR_MALFORMED;
  reg_evidence_key(key, x.sender_pk);
  return key_is(rec, key);
}

static const dht_record_type record_types[REG_RECORD_TYPES] = {
    {.type = REG_RECORD_BATCH,
     .name = "batch",
     .max_payload = REG_MANIFEST_PAYLOAD_MAX,
     .max_lifetime = REG_MAX_LIFETIME_S,
     .key_check = batch_key_check,
     .multi = 0},
    {.type = REG_RECORD_CHUNK,
     .name = "chunk",
     .max_payload = REG_CHUNK_PAYLOAD_MAX,
     .max_lifetime = REG_MAX_LIFETIME_S,
     .key_check = chunk_key_check,
     .multi = 0},
    {.type = REG_RECORD_INDEX,
     .name = "index",
     .max_payload = REG_INDEX_PAYLOAD_MAX,
     .max_lifetime = REG_MAX_LIFETIME_S,
     .key_check = index_key_check,
     .multi = 1,
     .key_author_max = REG_INDEX_PER_AUTHOR},
    {.type = REG_RECORD_OPTOUT,
     .name = "optout",
     .max_payload = REG_OPTOUT_RECORD_PAYLOAD_MAX,
     .max_lifetime = REG_MAX_LIFETIME_S,
     .key_check = optout_key_check,
     .multi = 1},
    {.type = REG_RECORD_EVIDENCE,
     .name = "evidence",
     .max_payload = REG_EVIDENCE_PAYLOAD_MAX,
     .max_lifetime = REG_MAX_LIFETIME_S,
     .key_check = evidence_key_check,
     .multi = 1},
};

void reg_types_init(reg_types *rt, unsigned pow_base_bits) {
  memcpy(rt->t, record_types, sizeof record_types);
  rt->pow_base_bits = pow_base_bits;
  for (size_t i = 0; i < REG_RECORD_TYPES; i++) rt->t[i].ctx = rt;
}

int reg_record_make(uint8_t *out, size_t cap, size_t *len, uint8_t type,
                    const uint8_t key[DHT_KEY_LEN], const uint8_t *payload,
                    size_t plen, const nc_identity *author, uint64_t created,
                    uint64_t expires, uint64_t seq) {
  dht_record rec;
  int rv;
  if (!len) return REG_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!out || !key || !author || (!payload && plen > 0))
    return REG_ERR_INVALID_ARGUMENT;
  if (plen > DHT_MAX_RECORD) return REG_ERR_TOO_LARGE;
  memset(&rec, 0, sizeof rec);
  rec.version = DHT_RECORD_VERSION;
  rec.type = type;
  memcpy(rec.key, key, DHT_KEY_LEN);
  rec.created = created;
  rec.expires = expires;
  rec.seq = seq;
  rec.payload = payload;
  rec.payload_len = plen;
  dht_record_sign(&rec, author);
  rv = dht_record_encode(&rec, out, cap, len);
  if (rv == DHT_ERR_TOO_LARGE) return REG_ERR_TOO_LARGE;
  return rv == 0 ? 0 : REG_ERR_INVALID_ARGUMENT;
}
