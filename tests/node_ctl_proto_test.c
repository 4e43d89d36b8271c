/*
 * Control protocol (node/daemon/ctl_proto.c): request lines are parsed
 * strictly (malformed JSON, wrong types, missing and unknown fields,
 * oversized lines all give an error, never a crash), requests built by
 * the CLI parse back to themselves, and replies carry what the CLI and
 * the integration tests read.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl_proto.h"
#include "errors.h"

#define KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[1024];

static int parse(node_ctl_request *req, const char *line) {
  err[0] = '\0';
  return node_ctl_parse_request(req, line, strlen(line), err, sizeof err);
}

#define EXPECT_BAD(needle, line)                                               \
  do {                                                                         \
    node_ctl_request r_;                                                       \
    assert_int_equal(parse(&r_, line), NODE_ERR_PROTO);                        \
    if (!strstr(err, needle))                                                  \
      fail_msg("error \"%s\" for %s lacks \"%s\"", err, line, needle);         \
    assert_int_equal(r_.cmd, -1);                                              \
  } while (0)

static void test_good_requests(void **state) {
  node_ctl_request req;
  (void)state;
  assert_int_equal(parse(&req, "{\"cmd\":\"status\"}"), 0);
  assert_int_equal(req.cmd, NODE_CTL_STATUS);
  assert_int_equal(parse(&req, " { \"cmd\" : \"peers\" } "), 0);
  assert_int_equal(req.cmd, NODE_CTL_PEERS);
  assert_int_equal(parse(&req, "{\"cmd\":\"put\",\"name\":\"greeting\","
                               "\"value\":\"h\\u00e9llo\",\"ttl\":60}"),
                   0);
  assert_int_equal(req.cmd, NODE_CTL_PUT);
  assert_int_equal(req.name_len, 8);
  assert_memory_equal(req.name, "greeting", 8);
  assert_int_equal(req.value_len, 6); /* UTF-8 bytes */
  assert_memory_equal(req.value, "h\xc3\xa9llo", 6);
  assert_true(req.ttl_s == 60);
  assert_int_equal(parse(&req, "{\"cmd\":\"put\",\"name_hex\":\"00ff\","
                               "\"value\":\"\"}"),
                   0);
  assert_int_equal(req.name_len, 2);
  assert_int_equal(req.name[1], 0xff);
  assert_int_equal(req.value_len, 0);
  assert_true(req.ttl_s == NODE_TTL_DEFAULT_S);
  assert_int_equal(parse(&req, "{\"cmd\":\"get\",\"key\":\"" KEY64 "\"}"), 0);
  assert_int_equal(req.cmd, NODE_CTL_GET);
  assert_int_equal(req.key[1], 0x11);
  assert_int_equal(parse(&req, "{\"cmd\":\"local\",\"key\":\"" KEY64 "\"}"), 0);
  assert_int_equal(req.cmd, NODE_CTL_LOCAL);
  assert_int_equal(parse(&req, "{\"cmd\":\"lookup\",\"id\":\"" KEY64 "\"}"), 0);
  assert_int_equal(req.cmd, NODE_CTL_LOOKUP);
  assert_int_equal(req.key[31], 0xff);
}

static void test_malformed(void **state) {
  (void)state;
  EXPECT_BAD("malformed JSON", "");
  EXPECT_BAD("malformed JSON", "{");
  EXPECT_BAD("malformed JSON", "{\"cmd\":\"status\"} trailing");
  EXPECT_BAD("malformed JSON", "\xff\xfe");
  EXPECT_BAD("malformed JSON", "{\"cmd\":\"status\",\"cmd\":\"peers\"}");
  EXPECT_BAD("JSON object", "[\"status\"]");
  EXPECT_BAD("malformed JSON", "\"status\""); /* not an object or array */
  EXPECT_BAD("malformed JSON", "42");
  EXPECT_BAD("\"cmd\": missing", "{}");
  EXPECT_BAD("\"cmd\": missing", "{\"cmd\":7}");
  EXPECT_BAD("unknown command", "{\"cmd\":\"shutdown\"}");
  EXPECT_BAD("unknown field", "{\"cmd\":\"status\",\"verbose\":true}");
}

static void test_missing_and_bad_fields(void **state) {
  (void)state;
  EXPECT_BAD("\"name\": missing", "{\"cmd\":\"put\",\"value\":\"v\"}");
  EXPECT_BAD("\"value\": missing", "{\"cmd\":\"put\",\"name\":\"n\"}");
  EXPECT_BAD("\"name\": must be 1..64", "{\"cmd\":\"put\",\"name\":\"\","
                                        "\"value\":\"v\"}");
  EXPECT_BAD("\"name\": must be a string", "{\"cmd\":\"put\",\"name\":5,"
                                           "\"value\":\"v\"}");
  EXPECT_BAD("given twice", "{\"cmd\":\"put\",\"name\":\"a\",\"name_hex\":"
                            "\"61\",\"value\":\"v\"}");
  EXPECT_BAD("\"name_hex\": odd", "{\"cmd\":\"put\",\"name_hex\":\"616\","
                                  "\"value\":\"v\"}");
  EXPECT_BAD("\"value_hex\": not hex", "{\"cmd\":\"put\",\"name\":\"a\","
                                       "\"value_hex\":\"zz\"}");
  EXPECT_BAD("\"ttl\"", "{\"cmd\":\"put\",\"name\":\"a\",\"value\":\"v\","
                        "\"ttl\":0}");
  EXPECT_BAD("\"ttl\"", "{\"cmd\":\"put\",\"name\":\"a\",\"value\":\"v\","
                        "\"ttl\":604801}");
  EXPECT_BAD("\"ttl\"", "{\"cmd\":\"put\",\"name\":\"a\",\"value\":\"v\","
                        "\"ttl\":\"60\"}");
  EXPECT_BAD("\"key\": missing", "{\"cmd\":\"get\"}");
  EXPECT_BAD("\"key\": must be 64 hex", "{\"cmd\":\"get\",\"key\":\"00\"}");
  EXPECT_BAD("\"key\": must be 64 hex", "{\"cmd\":\"local\",\"key\":[]}");
  EXPECT_BAD("\"id\": missing", "{\"cmd\":\"lookup\"}");
  EXPECT_BAD("\"key\": unknown field",
             "{\"cmd\":\"lookup\",\"key\":\"" KEY64 "\"}");
}

static void test_registry_requests(void **state) {
  node_ctl_request req;
  char line[NODE_PATH_MAX + 128];
  (void)state;
  assert_int_equal(parse(&req, "{\"cmd\":\"get_all\",\"key\":\"" KEY64
                               "\",\"max\":4096}"),
                   0);
  assert_int_equal(req.cmd, NODE_CTL_GET_ALL);
  assert_int_equal(req.max, 4096);
  assert_int_equal(req.offset, 0);
  assert_int_equal(parse(&req, "{\"cmd\":\"get_all\",\"key\":\"" KEY64
                               "\",\"offset\":4294967295}"),
                   0);
  assert_true(req.offset == UINT32_MAX);
  assert_int_equal(parse(&req, "{\"cmd\":\"publish\",\"path\":\"/a/b.nib\"}"),
                   0);
  assert_string_equal(req.path, "/a/b.nib");
  assert_int_equal(parse(&req, "{\"cmd\":\"protect_add\",\"address\":"
                               "\"A@B.c\"}"),
                   0);
  assert_string_equal(req.address, "A@B.c"); /* the node canonicalises */
  assert_int_equal(parse(&req, "{\"cmd\":\"protect_list\"}"), 0);
  assert_int_equal(req.cmd, NODE_CTL_PROTECT_LIST);
  EXPECT_BAD("\"max\": must be an integer, 1..4096",
             "{\"cmd\":\"get_all\",\"key\":\"" KEY64 "\",\"max\":0}");
  EXPECT_BAD("\"max\"",
             "{\"cmd\":\"get_all\",\"key\":\"" KEY64 "\",\"max\":4097}");
  EXPECT_BAD("\"max\"",
             "{\"cmd\":\"get_all\",\"key\":\"" KEY64 "\",\"max\":\"9\"}");
  EXPECT_BAD("\"key\": missing", "{\"cmd\":\"get_all\"}");
  EXPECT_BAD("\"offset\": must be an integer, 0..2^32-1",
             "{\"cmd\":\"get_all\",\"key\":\"" KEY64 "\",\"offset\":-1}");
  EXPECT_BAD("\"offset\"", "{\"cmd\":\"get_all\",\"key\":\"" KEY64
                          "\",\"offset\":4294967296}");
  EXPECT_BAD("\"path\": must be an absolute path",
             "{\"cmd\":\"publish\",\"path\":\"b.nib\"}");
  EXPECT_BAD("\"path\": must be 1..", "{\"cmd\":\"publish\",\"path\":\"\"}");
  /* jansson itself refuses NUL in strings (JSON_ALLOW_NUL is not set). */
  EXPECT_BAD("\\u0000 is not allowed",
             "{\"cmd\":\"publish\",\"path\":\"/a\\u0000b\"}");
  EXPECT_BAD("\"path\": missing", "{\"cmd\":\"publish\"}");
  EXPECT_BAD("\"address\": must be a string",
             "{\"cmd\":\"protect_remove\",\"address\":1}");
  EXPECT_BAD("\"address\": unknown field",
             "{\"cmd\":\"protect_list\",\"address\":\"a@b\"}");
  /* A path of NODE_PATH_MAX bytes does not fit. */
  size_t n = (size_t)snprintf(line, sizeof line, "{\"cmd\":\"publish\",\"path\":\"/");
  memset(line + n, 'p', NODE_PATH_MAX - 1);
  snprintf(line + n + NODE_PATH_MAX - 1, sizeof line - n - NODE_PATH_MAX + 1,
           "\"}");
  EXPECT_BAD("\"path\": must be 1..4095 bytes", line);
}

static void test_value_limits(void **state) {
  char line[4096];
  char value[DHT_NOTE_VALUE_MAX + 2];
  node_ctl_request req;
  (void)state;
  memset(value, 'v', sizeof value);
  value[DHT_NOTE_VALUE_MAX] = '\0';
  snprintf(line, sizeof line,
           "{\"cmd\":\"put\",\"name\":\"n\",\"value\":"
           "\"%s\"}",
           value);
  assert_int_equal(parse(&req, line), 0);
  assert_int_equal(req.value_len, DHT_NOTE_VALUE_MAX);
  value[DHT_NOTE_VALUE_MAX] = 'v';
  value[DHT_NOTE_VALUE_MAX + 1] = '\0';
  snprintf(line, sizeof line,
           "{\"cmd\":\"put\",\"name\":\"n\",\"value\":"
           "\"%s\"}",
           value);
  EXPECT_BAD("\"value\": must be 0..700 bytes", line);
}

static void test_oversized_line(void **state) {
  node_ctl_request req;
  char *line = malloc(NODE_CTL_LINE_MAX + 1);
  (void)state;
  assert_non_null(line);
  memset(line, ' ', NODE_CTL_LINE_MAX);
  memcpy(line, "{\"cmd\":\"status\"}", 16);
  assert_int_equal(
      node_ctl_parse_request(&req, line, NODE_CTL_LINE_MAX, err, sizeof err),
      NODE_ERR_TOO_LARGE);
  assert_non_null(strstr(err, "longer than"));
  /* One byte less is a valid (if padded) request. */
  assert_int_equal(node_ctl_parse_request(&req, line, NODE_CTL_LINE_MAX - 1,
                                          err, sizeof err),
                   0);
  assert_int_equal(req.cmd, NODE_CTL_STATUS);
  free(line);
}

static void test_deep_nesting(void **state) {
  size_t depth = 5000;
  char *line = malloc(2 * depth + 64);
  node_ctl_request req;
  (void)state;
  assert_non_null(line);
  strcpy(line, "{\"cmd\":\"status\",\"x\":");
  size_t n = strlen(line);
  memset(line + n, '[', depth);
  memset(line + n + depth, ']', depth);
  strcpy(line + n + 2 * depth, "}");
  assert_int_equal(parse(&req, line), NODE_ERR_PROTO);
  free(line);
}

static void roundtrip(const node_ctl_request *in) {
  node_ctl_request out;
  size_t len;
  json_t *obj = node_ctl_request_json(in);
  assert_non_null(obj);
  char *line = node_ctl_encode_line(obj, &len);
  json_decref(obj);
  assert_non_null(line);
  assert_int_equal(line[len - 1], '\n');
  assert_null(memchr(line, '\n', len - 1)); /* one line */
  assert_int_equal(node_ctl_parse_request(&out, line, len - 1, err, sizeof err),
                   0);
  free(line);
  assert_int_equal(out.cmd, in->cmd);
  assert_int_equal(out.name_len, in->name_len);
  assert_memory_equal(out.name, in->name, in->name_len);
  assert_int_equal(out.value_len, in->value_len);
  assert_memory_equal(out.value, in->value, in->value_len);
  assert_true(out.ttl_s == in->ttl_s);
  assert_memory_equal(out.key, in->key, DHT_KEY_LEN);
  assert_true(out.max == in->max);
  assert_string_equal(out.path, in->path);
  assert_string_equal(out.address, in->address);
}

static void test_request_roundtrip(void **state) {
  node_ctl_request req;
  (void)state;
  for (int cmd = 0; cmd < NODE_CTL_COUNT; cmd++) {
    memset(&req, 0, sizeof req);
    req.cmd = cmd;
    if (cmd == NODE_CTL_PUT) {
      req.name_len = 5;
      memcpy(req.name, "n\nm\"e", 5);
      req.value_len = 3;
      memcpy(req.value, "\xff\x00\x80", 3); /* not UTF-8: goes as hex */
      req.ttl_s = 3600;
    } else if (cmd == NODE_CTL_PUBLISH) {
      snprintf(req.path, sizeof req.path, "/tmp/a \"batch\".nib");
    } else if (cmd == NODE_CTL_PROTECT_ADD || cmd == NODE_CTL_PROTECT_REMOVE) {
      snprintf(req.address, sizeof req.address, " J\xc3\xbcrgen@Example.de");
    } else if (cmd != NODE_CTL_STATUS && cmd != NODE_CTL_PEERS &&
               cmd != NODE_CTL_PROTECT_LIST) {
      for (int i = 0; i < DHT_KEY_LEN; i++) req.key[i] = (uint8_t)(i * 7 + cmd);
      if (cmd == NODE_CTL_GET_ALL) req.max = 77, req.offset = 4096;
    }
    roundtrip(&req);
    /* get_all without "max" means the default. */
    if (cmd == NODE_CTL_GET_ALL) {
      req.max = 0;
      json_t *obj = node_ctl_request_json(&req);
      size_t len;
      char *line = node_ctl_encode_line(obj, &len);
      node_ctl_request out;
      json_decref(obj);
      assert_int_equal(node_ctl_parse_request(&out, line, len - 1, err,
                                              sizeof err),
                       0);
      free(line);
      assert_int_equal(out.max, NODE_CTL_GET_ALL_DEFAULT);
    }
  }
}

static void test_replies(void **state) {
  dht_lookup_stats stats = {3, 12, 10, 2, 45 * DHT_MS + 999, 4096};
  uint64_t dropped[DHT_DROP_COUNT] = {0};
  (void)state;
  json_t *e = node_ctl_error_reply("boom");
  assert_true(json_is_false(json_object_get(e, "ok")));
  assert_string_equal(json_string_value(json_object_get(e, "error")), "boom");
  json_decref(e);
  /* Request bytes quoted in a message never make the reply invalid. */
  e = node_ctl_error_reply("near '\xff\xfe\n'");
  assert_non_null(e);
  assert_string_equal(json_string_value(json_object_get(e, "error")),
                      "near '?"
                      "?"
                      "?'"); /* no trigraph */
  json_decref(e);
  json_t *s = node_ctl_stats_json(&stats);
  assert_int_equal(json_integer_value(json_object_get(s, "hops")), 3);
  assert_int_equal(json_integer_value(json_object_get(s, "queried")), 12);
  assert_int_equal(json_integer_value(json_object_get(s, "responded")), 10);
  assert_int_equal(json_integer_value(json_object_get(s, "timeouts")), 2);
  assert_int_equal(json_integer_value(json_object_get(s, "duration_ms")), 45);
  assert_int_equal(json_integer_value(json_object_get(s, "resume_offset")), 4096);
  json_decref(s);
  dropped[DHT_DROP_REPLAY] = 4;
  json_t *d = node_ctl_dropped_json(dropped);
  assert_int_equal(json_object_size(d), DHT_DROP_COUNT);
  assert_int_equal(json_integer_value(json_object_get(d, "replay")), 4);
  assert_int_equal(json_integer_value(json_object_get(d, "decrypt")), 0);
  json_decref(d);
}

static void test_status_reply(void **state) {
  node_status st;
  (void)state;
  memset(&st, 0, sizeof st);
  st.id[0] = 0xab;
  st.difficulty = 8;
  st.n_addrs = 2;
  assert_int_equal(dht_addr_parse(&st.addrs[0], "127.0.0.1:4000"), 0);
  assert_int_equal(dht_addr_parse(&st.addrs[1], "[::1]:4001"), 0);
  st.stats.contacts = 5;
  st.stats.records_refused = 2;
  st.stats.dropped[DHT_DROP_DECRYPT] = 9;
  st.uptime_ms = 1234;
  json_t *r = node_ctl_status_json(&st);
  assert_non_null(r);
  assert_true(json_is_true(json_object_get(r, "ok")));
  assert_int_equal(strlen(json_string_value(json_object_get(r, "id"))), 64);
  assert_memory_equal(json_string_value(json_object_get(r, "id")), "ab00", 4);
  json_t *addrs = json_object_get(r, "addresses");
  assert_int_equal(json_array_size(addrs), 2);
  assert_string_equal(json_string_value(json_array_get(addrs, 1)),
                      "[::1]:4001");
  assert_int_equal(json_integer_value(json_object_get(r, "contacts")), 5);
  assert_int_equal(json_integer_value(json_object_get(r, "records_refused")),
                   2);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(r, "dropped"), "decrypt")),
                   9);
  assert_int_equal(json_integer_value(json_object_get(r, "uptime_ms")), 1234);
  json_decref(r);
  /* The registry's counters and settings. */
  st.reg.matches = 3;
  st.reg.escalations_sent = 14;
  st.reg.protected_addresses = 2;
  reg_config_default(&st.reg_cfg);
  r = node_ctl_status_json(&st);
  json_t *g = json_object_get(r, "registry");
  assert_int_equal(json_integer_value(json_object_get(g, "matches")), 3);
  assert_int_equal(json_integer_value(json_object_get(g, "escalations_sent")),
                   14);
  assert_int_equal(
      json_integer_value(json_object_get(g, "protected_addresses")), 2);
  assert_int_equal(json_integer_value(json_object_get(g, "optout_pow_bits")),
                   12);
  assert_int_equal(json_integer_value(json_object_get(g, "index_window_s")),
                   3600);
  json_decref(r);
}

static void test_record_json(void **state) {
  dht_record rec;
  uint8_t payload[3] = {0x93, 0x01, 0x02};
  (void)state;
  memset(&rec, 0, sizeof rec);
  rec.version = 1;
  rec.type = REG_RECORD_INDEX;
  rec.payload = payload;
  rec.payload_len = sizeof payload;
  json_t *r = node_ctl_record_raw_json(&rec, payload, 2);
  assert_non_null(r);
  assert_int_equal(json_integer_value(json_object_get(r, "type")), 4);
  assert_string_equal(json_string_value(json_object_get(r, "payload_hex")),
                      "930102");
  assert_string_equal(json_string_value(json_object_get(r, "record_hex")),
                      "9301");
  assert_null(json_object_get(r, "value_hex"));
  json_decref(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_requests),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_missing_and_bad_fields),
      cmocka_unit_test(test_registry_requests),
      cmocka_unit_test(test_record_json),
      cmocka_unit_test(test_value_limits),
      cmocka_unit_test(test_oversized_line),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_request_roundtrip),
      cmocka_unit_test(test_replies),
      cmocka_unit_test(test_status_reply),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
