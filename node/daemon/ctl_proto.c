/*
 * Control protocol: parsing request lines and building JSON objects.
 * Requests are one JSON object per line with a "cmd" string; each command
 * has a row in a table with its parser and the fields it allows, and any
 * other field is an error (a typo should not be silently ignored).
 * Replies are {"ok":true,...} or {"ok":false,"error":"..."}.
 */
#include "ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "util.h"

#define HEX_MAX (2 * DHT_MAX_RECORD + 1) /* hex of any field we send */

/* ---- Field readers ------------------------------------------------------- */

static int field_error(char *err, size_t cap, const char *field,
                       const char *what) {
  snprintf(err, cap, "field \"%s\": %s", field, what);
  return NODE_ERR_PROTO;
}

/* get_bytes reads |field| (a UTF-8 string) or |hex_field| (hex digits),
 * exactly one of them, into |buf|: min..max bytes. */
static int get_bytes(json_t *obj, const char *field, const char *hex_field,
                     uint8_t *buf, size_t min, size_t max, size_t *len,
                     char *err, size_t cap) {
  json_t *s = json_object_get(obj, field), *h = json_object_get(obj, hex_field);
  char what[96];
  *len = 0;
  if (s && h) return field_error(err, cap, field, "given twice (also as hex)");
  if (!s && !h) return field_error(err, cap, field, "missing");
  if (!json_is_string(s ? s : h))
    return field_error(err, cap, s ? field : hex_field, "must be a string");
  const char *text = json_string_value(s ? s : h);
  size_t n = json_string_length(s ? s : h);
  if (h) {
    if (n % 2) return field_error(err, cap, hex_field, "odd number of digits");
    n /= 2;
  }
  snprintf(what, sizeof what, "must be %zu..%zu bytes", min, max);
  if (n < min || n > max)
    return field_error(err, cap, s ? field : hex_field, what);
  if (h && nc_hex_decode(buf, n, text) < 0)
    return field_error(err, cap, hex_field, "not hex");
  if (s) memcpy(buf, text, n);
  *len = n;
  return 0;
}

static int get_key(json_t *obj, const char *field, uint8_t key[DHT_KEY_LEN],
                   char *err, size_t cap) {
  json_t *v = json_object_get(obj, field);
  if (!v) return field_error(err, cap, field, "missing");
  if (!json_is_string(v) ||
      nc_hex_decode(key, DHT_KEY_LEN, json_string_value(v)) < 0)
    return field_error(err, cap, field, "must be 64 hex digits");
  return 0;
}

/* ---- One parser per command ---------------------------------------------- */

typedef int (*req_parser)(node_ctl_request *req, json_t *obj, char *err,
                          size_t cap);

static int parse_none(node_ctl_request *req, json_t *obj, char *err,
                      size_t cap) {
  (void)req;
  (void)obj;
  (void)err;
  (void)cap;
  return 0;
}

static int parse_put(node_ctl_request *req, json_t *obj, char *err,
                     size_t cap) {
  json_t *ttl = json_object_get(obj, "ttl");
  int rv = get_bytes(obj, "name", "name_hex", req->name, 1, DHT_NOTE_NAME_MAX,
                     &req->name_len, err, cap);
  if (rv == 0)
    rv = get_bytes(obj, "value", "value_hex", req->value, 0, DHT_NOTE_VALUE_MAX,
                   &req->value_len, err, cap);
  if (rv < 0) return rv;
  req->ttl_s = NODE_TTL_DEFAULT_S;
  if (!ttl) return 0;
  if (!json_is_integer(ttl) || json_integer_value(ttl) < 1 ||
      json_integer_value(ttl) > NODE_TTL_MAX_S)
    return field_error(err, cap, "ttl", "must be an integer, 1..604800 s");
  req->ttl_s = (uint64_t)json_integer_value(ttl);
  return 0;
}

static int parse_key(node_ctl_request *req, json_t *obj, char *err,
                     size_t cap) {
  return get_key(obj, "key", req->key, err, cap);
}

static int parse_id(node_ctl_request *req, json_t *obj, char *err, size_t cap) {
  return get_key(obj, "id", req->key, err, cap);
}

static int parse_get_all(node_ctl_request *req, json_t *obj, char *err,
                         size_t cap) {
  json_t *max = json_object_get(obj, "max");
  req->max = NODE_CTL_GET_ALL_DEFAULT;
  if (max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
              json_integer_value(max) > NODE_CTL_GET_ALL_MAX))
    return field_error(err, cap, "max", "must be an integer, 1..4096");
  if (max) req->max = (uint32_t)json_integer_value(max);
  json_t *offset = json_object_get(obj, "offset");
  if (offset && (!json_is_integer(offset) || json_integer_value(offset) < 0 ||
                 json_integer_value(offset) > UINT32_MAX))
    return field_error(err, cap, "offset", "must be an integer, 0..2^32-1");
  if (offset) req->offset = (uint32_t)json_integer_value(offset);
  return get_key(obj, "key", req->key, err, cap);
}

/* get_text reads string |field| of 1..max bytes without NUL into |out|
 * (max + 1 bytes), NUL-terminated. */
static int get_text(json_t *obj, const char *field, char *out, size_t max,
                    char *err, size_t cap) {
  json_t *v = json_object_get(obj, field);
  char what[64];
  if (!v) return field_error(err, cap, field, "missing");
  if (!json_is_string(v)) return field_error(err, cap, field, "must be a string");
  size_t n = json_string_length(v);
  snprintf(what, sizeof what, "must be 1..%zu bytes", max);
  if (n < 1 || n > max) return field_error(err, cap, field, what);
  if (memchr(json_string_value(v), 0, n))
    return field_error(err, cap, field, "must not contain NUL");
  memcpy(out, json_string_value(v), n);
  out[n] = '\0';
  return 0;
}

static int parse_publish(node_ctl_request *req, json_t *obj, char *err,
                         size_t cap) {
  int rv = get_text(obj, "path", req->path, sizeof req->path - 1, err, cap);
  if (rv == 0 && req->path[0] != '/')
    return field_error(err, cap, "path", "must be an absolute path");
  return rv;
}

static int parse_address(node_ctl_request *req, json_t *obj, char *err,
                         size_t cap) {
  return get_text(obj, "address", req->address, NODE_CTL_ADDRESS_MAX, err,
                  cap);
}

static const char *const fields_none[] = {NULL};
static const char *const fields_put[] = {"name",      "name_hex", "value",
                                         "value_hex", "ttl",      NULL};
static const char *const fields_key[] = {"key", NULL};
static const char *const fields_id[] = {"id", NULL};
static const char *const fields_get_all[] = {"key", "max", "offset", NULL};
static const char *const fields_path[] = {"path", NULL};
static const char *const fields_address[] = {"address", NULL};

static const struct req_spec {
  const char *name;
  req_parser parse;
  const char *const *fields; /* allowed besides "cmd" */
} req_specs[NODE_CTL_COUNT] = {
    [NODE_CTL_STATUS] = {"status", parse_none, fields_none},
    [NODE_CTL_PEERS] = {"peers", parse_none, fields_none},
    [NODE_CTL_PUT] = {"put", parse_put, fields_put},
    [NODE_CTL_GET] = {"get", parse_key, fields_key},
    [NODE_CTL_LOOKUP] = {"lookup", parse_id, fields_id},
    [NODE_CTL_LOCAL] = {"local", parse_key, fields_key},
    [NODE_CTL_GET_ALL] = {"get_all", parse_get_all, fields_get_all},
    [NODE_CTL_PUBLISH] = {"publish", parse_publish, fields_path},
    [NODE_CTL_PROTECT_ADD] = {"protect_add", parse_address, fields_address},
    [NODE_CTL_PROTECT_REMOVE] = {"protect_remove", parse_address,
                                 fields_address},
    [NODE_CTL_PROTECT_LIST] = {"protect_list", parse_none, fields_none},
};

const char *node_ctl_cmd_name(int cmd) {
  return cmd >= 0 && cmd < NODE_CTL_COUNT ? req_specs[cmd].name : NULL;
}

static int check_fields(const struct req_spec *spec, json_t *obj, char *err,
                        size_t cap) {
  const char *field;
  json_t *value;
  json_object_foreach(obj, field, value) {
    int known = strcmp(field, "cmd") == 0;
    for (size_t i = 0; !known && spec->fields[i]; i++)
      known = strcmp(field, spec->fields[i]) == 0;
    if (!known) return field_error(err, cap, field, "unknown field");
  }
  return 0;
}

static int parse_object(node_ctl_request *req, json_t *obj, char *err,
                        size_t cap) {
  json_t *cmd = json_object_get(obj, "cmd");
  if (!json_is_object(obj)) {
    snprintf(err, cap, "request must be a JSON object");
    return NODE_ERR_PROTO;
  }
  if (!json_is_string(cmd)) return field_error(err, cap, "cmd", "missing");
  for (int i = 0; i < NODE_CTL_COUNT; i++) {
    if (strcmp(json_string_value(cmd), req_specs[i].name) != 0) continue;
    req->cmd = i;
    int rv = check_fields(&req_specs[i], obj, err, cap);
    return rv < 0 ? rv : req_specs[i].parse(req, obj, err, cap);
  }
  return field_error(err, cap, "cmd", "unknown command");
}

int node_ctl_parse_request(node_ctl_request *req, const char *line, size_t len,
                           char *err, size_t cap) {
  json_error_t jerr;
  json_t *obj;
  int rv;
  memset(req, 0, sizeof *req);
  req->cmd = -1;
  if (len >= NODE_CTL_LINE_MAX) {
    snprintf(err, cap, "request line longer than %d bytes",
             NODE_CTL_LINE_MAX - 1);
    return NODE_ERR_TOO_LARGE;
  }
  obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!obj) {
    snprintf(err, cap, "malformed JSON at column %d: %s", jerr.column,
             jerr.text);
    return NODE_ERR_PROTO;
  }
  rv = parse_object(req, obj, err, cap);
  json_decref(obj);
  if (rv < 0) {
    memset(req, 0, sizeof *req);
    req->cmd = -1;
  }
  return rv;
}

/* ---- Building objects ---------------------------------------------------- */

/* json_u64 keeps integers above INT64_MAX representable (as a real). */
static json_t *json_u64(uint64_t v) {
  return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v)
                                  : json_real((double)v);
}

static json_t *json_hex(const uint8_t *bytes, size_t len) {
  char hex[HEX_MAX];
  if (2 * len + 1 > sizeof hex) return NULL;
  nc_hex_encode(hex, bytes, len);
  return json_string(hex);
}

static json_t *json_addr(const dht_addr *addr) {
  char text[64];
  return json_string(dht_addr_format(text, sizeof text, addr));
}

/* text_string returns |bytes| as a JSON string if they are UTF-8 without
 * NUL (which requests may not carry), else NULL. */
static json_t *text_string(const uint8_t *bytes, size_t len) {
  if (memchr(bytes, 0, len)) return NULL;
  return json_stringn((const char *)bytes, len);
}

/* set_bytes adds |field| when the bytes are text (see text_string), and
 * always |hex_field|. */
static int set_bytes(json_t *obj, const char *field, const char *hex_field,
                     const uint8_t *bytes, size_t len) {
  json_t *s = text_string(bytes, len);
  int rv = s ? json_object_set_new(obj, field, s) : 0;
  return rv | json_object_set_new(obj, hex_field, json_hex(bytes, len));
}

/* ---- One request builder per command (the CLI side) ---------------------- */

typedef int (*req_builder)(json_t *obj, const node_ctl_request *req);

static int build_none(json_t *obj, const node_ctl_request *req) {
  (void)obj;
  (void)req;
  return 0;
}

static int build_put(json_t *obj, const node_ctl_request *req) {
  json_t *s = text_string(req->name, req->name_len);
  json_t *v = text_string(req->value, req->value_len);
  int rv = json_object_set_new(obj, s ? "name" : "name_hex",
                               s ? s : json_hex(req->name, req->name_len));
  rv |= json_object_set_new(obj, v ? "value" : "value_hex",
                            v ? v : json_hex(req->value, req->value_len));
  return rv | json_object_set_new(obj, "ttl", json_u64(req->ttl_s));
}

static int build_key(json_t *obj, const node_ctl_request *req) {
  const char *f = req->cmd == NODE_CTL_LOOKUP ? "id" : "key";
  int rv = json_object_set_new(obj, f, json_hex(req->key, DHT_KEY_LEN));
  if (req->cmd == NODE_CTL_GET_ALL && req->max)
    rv |= json_object_set_new(obj, "max", json_u64(req->max));
  if (req->cmd == NODE_CTL_GET_ALL && req->offset)
    rv |= json_object_set_new(obj, "offset", json_u64(req->offset));
  return rv;
}

static int build_path(json_t *obj, const node_ctl_request *req) {
  return json_object_set_new(obj, "path", json_string(req->path));
}

static int build_address(json_t *obj, const node_ctl_request *req) {
  return json_object_set_new(obj, "address", json_string(req->address));
}

static const req_builder req_builders[NODE_CTL_COUNT] = {
    [NODE_CTL_STATUS] = build_none,        [NODE_CTL_PEERS] = build_none,
    [NODE_CTL_PUT] = build_put,            [NODE_CTL_GET] = build_key,
    [NODE_CTL_LOOKUP] = build_key,         [NODE_CTL_LOCAL] = build_key,
    [NODE_CTL_GET_ALL] = build_key,        [NODE_CTL_PUBLISH] = build_path,
    [NODE_CTL_PROTECT_ADD] = build_address,
    [NODE_CTL_PROTECT_REMOVE] = build_address,
    [NODE_CTL_PROTECT_LIST] = build_none,
};

json_t *node_ctl_request_json(const node_ctl_request *req) {
  const char *name = node_ctl_cmd_name(req->cmd);
  json_t *obj = name ? json_pack("{ss}", "cmd", name) : NULL;
  int rv = obj ? req_builders[req->cmd](obj, req) : -1;
  if (rv < 0) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

char *node_ctl_encode_line(const json_t *obj, size_t *len) {
  char *text = json_dumps(obj, JSON_COMPACT);
  char *line = NULL;
  *len = 0;
  if (!text) return NULL;
  size_t n = strlen(text);
  line = malloc(n + 2);
  if (line) {
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
  }
  free(text);
  return line;
}

json_t *node_ctl_error_reply(const char *msg) {
  char clean[NODE_ERR_MSG_MAX];
  size_t i = 0;
  /* Messages may quote request bytes (jansson's "near '...'"): keep them
   * printable ASCII, which is also always valid UTF-8. */
  for (; msg[i] && i + 1 < sizeof clean; i++)
    clean[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
  clean[i] = '\0';
  return json_pack("{sbss}", "ok", 0, "error", clean);
}

json_t *node_ctl_stats_json(const dht_lookup_stats *s) {
  json_t *o = json_pack("{sIsIsIsIsI}", "hops", (json_int_t)s->hops,
                        "queried", (json_int_t)s->queried, "responded",
                        (json_int_t)s->responded, "timeouts",
                        (json_int_t)s->timeouts, "duration_ms",
                        (json_int_t)(s->duration / DHT_MS));
  if (o && s->resume_offset &&
      json_object_set_new(o, "resume_offset", json_u64(s->resume_offset))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *node_ctl_contact_json(const dht_contact *c) {
  return json_pack("{sosososososI}", "id", json_hex(c->id, DHT_ID_LEN),
                   "address", json_addr(&c->addr), "nonce", json_u64(c->nonce),
                   "first_seen_ms", json_u64(c->first_seen / DHT_MS),
                   "last_seen_ms", json_u64(c->last_seen / DHT_MS), "rtt_ms",
                   (json_int_t)c->rtt_ms);
}

json_t *node_ctl_record_json(const dht_record *rec) {
  const uint8_t *name, *value;
  size_t name_len, value_len;
  uint8_t author_id[DHT_ID_LEN];
  nc_node_id(author_id, rec->author_pk, rec->author_nonce);
  json_t *obj = json_pack("{sisosososososo}", "type", (int)rec->type, "key",
                          json_hex(rec->key, DHT_KEY_LEN), "author",
                          json_hex(rec->author_pk, NC_PK_LEN), "author_id",
                          json_hex(author_id, DHT_ID_LEN), "seq",
                          json_u64(rec->seq), "created", json_u64(rec->created),
                          "expires", json_u64(rec->expires));
  if (obj && rec->type != DHT_RECORD_NOTE &&
      json_object_set_new(obj, "payload_hex",
                          json_hex(rec->payload, rec->payload_len)) < 0) {
    json_decref(obj);
    return NULL;
  }
  if (!obj || rec->type != DHT_RECORD_NOTE) return obj;
  if (dht_note_parse(rec, &name, &name_len, &value, &value_len) < 0 ||
      set_bytes(obj, "name", "name_hex", name, name_len) < 0 ||
      set_bytes(obj, "value", "value_hex", value, value_len) < 0) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

json_t *node_ctl_record_raw_json(const dht_record *rec, const uint8_t *bytes,
                                 size_t len) {
  json_t *obj = node_ctl_record_json(rec);
  if (obj && json_object_set_new(obj, "record_hex", json_hex(bytes, len)) < 0) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

json_t *node_ctl_reg_stats_json(const reg_stats *s, const reg_config *cfg) {
  return json_pack(
      "{so so so so so so so so so so so sI sI so so so so}", "batches_seen",
      json_u64(s->batches_seen), "batches_fetched",
      json_u64(s->batches_fetched), "batches_refused",
      json_u64(s->batches_refused), "chunks_refetched",
      json_u64(s->chunks_refetched), "matches", json_u64(s->matches),
      "optouts_sent", json_u64(s->optouts_sent), "optouts_relayed",
      json_u64(s->optouts_relayed), "optouts_stored",
      json_u64(s->optouts_stored), "relays_refused",
      json_u64(s->relays_refused), "evidence_published",
      json_u64(s->evidence_published), "escalations_sent",
      json_u64(s->escalations_sent), "protected_addresses",
      (json_int_t)s->protected_addresses, "live_batches",
      (json_int_t)s->live_batches, "optout_pow_bits",
      json_u64(cfg->optout_pow_bits), "batch_pow_bits",
      json_u64(cfg->batch_pow_base_bits), "index_window_s",
      json_u64(cfg->index_window / DHT_SEC), "index_lookback",
      json_u64(cfg->index_lookback));
}

json_t *node_ctl_dropped_json(const uint64_t dropped[DHT_DROP_COUNT]) {
  json_t *obj = json_object();
  for (int i = 0; obj && i < DHT_DROP_COUNT; i++) {
    if (json_object_set_new(obj, dht_drop_reason_name(i),
                            json_u64(dropped[i])) < 0) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

static json_t *addrs_json(const node_status *st) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < st->n_addrs; i++) {
    if (json_array_append_new(arr, json_addr(&st->addrs[i])) < 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

json_t *node_ctl_status_json(const node_status *st) {
  const dht_stats *s = &st->stats;
  return json_pack(
      "{sb so so so si so so" /* ok id pk nonce difficulty addrs uptime */
      " sI sI sI so so"       /* contacts records bytes own operations */
      " so so so so so so"    /* accepted refused expired dropped traffic
                                 lookups */
      " so so so so}",        /* restore store clients registry */
      "ok", 1, "id", json_hex(st->id, DHT_ID_LEN), "pk",
      json_hex(st->pk, NC_PK_LEN), "nonce", json_u64(st->nonce), "difficulty",
      (int)st->difficulty, "addresses", addrs_json(st), "uptime_ms",
      json_u64(st->uptime_ms), "contacts", (json_int_t)s->contacts, "records",
      (json_int_t)s->records, "record_bytes", (json_int_t)s->record_bytes,
      "own_records", json_u64(s->own_records), "operations",
      json_u64(s->operations), "records_accepted",
      json_u64(s->records_accepted), "records_refused",
      json_u64(s->records_refused), "records_expired",
      json_u64(s->records_expired), "dropped",
      node_ctl_dropped_json(s->dropped), "traffic",
      json_pack("{sosososososo}", "rx_datagrams", json_u64(s->rx_datagrams),
                "rx_bytes", json_u64(s->rx_bytes), "tx_datagrams",
                json_u64(s->tx_datagrams), "tx_bytes", json_u64(s->tx_bytes),
                "requests_in", json_u64(s->requests_in), "send_failures",
                json_u64(st->send_failures)),
      "lookups",
      json_pack("{soso}", "ok", json_u64(s->lookups_ok), "failed",
                json_u64(s->lookups_failed)),
      "restore_failures", json_u64(st->restore_failures), "store_failures",
      json_u64(st->store_failures), "control_clients",
      json_u64(st->control_clients), "registry",
      node_ctl_reg_stats_json(&st->reg, &st->reg_cfg));
}
