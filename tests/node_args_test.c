/*
 * Command-line parsing (node/daemon/args.c) and the strict number parsers
 * behind it (util.c): every command's good form, and the usage errors
 * that make `nointrude` exit 2, each with a message naming the problem.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "args.h"
#include "errors.h"
#include "node_args_testutil.h"
#include "util.h"

#define KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[2048]; /* the parser's message, read by the assertions */

static void test_node_command(void **state) {
  node_cli cli;
  (void)state;
  assert_int_equal(PARSE(&cli, "node", "--data-dir", "/tmp/x", "--listen",
                         "127.0.0.1:4000", "--listen=[::1]:4001", "--bootstrap",
                         "127.0.0.2:1", "--difficulty", "8", "--config",
                         "c.conf", "--log-level", "debug"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_NODE);
  assert_string_equal(cli.data_dir, "/tmp/x");
  assert_int_equal(cli.n_listen, 2);
  assert_int_equal(cli.listen[1].family, 6);
  assert_int_equal(cli.listen[1].port, 4001);
  assert_int_equal(cli.n_bootstrap, 1);
  assert_int_equal(cli.difficulty, 8);
  assert_string_equal(cli.config, "c.conf");
  assert_int_equal(cli.log_level, 3);
}

static void test_defaults(void **state) {
  node_cli cli;
  (void)state;
  assert_int_equal(PARSE(&cli, "keygen", "--data-dir", "d"), 0);
  assert_int_equal(cli.cmd, NODE_CMD_KEYGEN);
  assert_int_equal(cli.difficulty, -1);
  assert_int_equal(PARSE(&cli, "put", "--data-dir", "d", "n", "v"), 0);
  assert_true(cli.ttl_s == NODE_TTL_DEFAULT_S);
  assert_true(cli.timeout_ms == NODE_TIMEOUT_DEFAULT_MS);
  assert_int_equal(cli.json, 0);
}

static void test_query_commands(void **state) {
  node_cli cli;
  (void)state;
  assert_int_equal(PARSE(&cli, "status", "--data-dir", "d", "--json"), 0);
  assert_int_equal(cli.cmd, NODE_CMD_STATUS);
  assert_int_equal(cli.json, 1);
  assert_int_equal(PARSE(&cli, "peers", "--data-dir", "d"), 0);
  assert_int_equal(cli.cmd, NODE_CMD_PEERS);
  assert_int_equal(PARSE(&cli, "put", "--data-dir", "d", "name", "", "--ttl",
                         "60", "--timeout", "2.5"),
                   0);
  assert_int_equal(cli.n_pos, 2);
  assert_string_equal(cli.pos[0], "name");
  assert_string_equal(cli.pos[1], "");
  assert_true(cli.ttl_s == 60);
  assert_true(cli.timeout_ms == 2500);
  assert_int_equal(PARSE(&cli, "get", "--data-dir", "d", KEY64, "--local"), 0);
  assert_int_equal(cli.local, 1);
  assert_int_equal(PARSE(&cli, "lookup", "--data-dir", "d", KEY64), 0);
  assert_int_equal(cli.cmd, NODE_CMD_LOOKUP);
  /* "--" ends the options: a value may then start with "--". */
  assert_int_equal(PARSE(&cli, "put", "--data-dir", "d", "--", "n", "--v"), 0);
  assert_string_equal(cli.pos[1], "--v");
}

static void test_vrf_commands(void **state) {
  node_cli cli;
  (void)state;
  assert_int_equal(PARSE(&cli, "vrf", "prove", "--sk", KEY64, "--alpha", ""),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_VRF_PROVE);
  assert_string_equal(cli.alpha, "");
  assert_int_equal(PARSE(&cli, "vrf", "verify", "--pk", KEY64, "--alpha", "72",
                         "--pi", KEY64 KEY64 "00112233445566778899aabbccddeeff",
                         "--json"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_VRF_VERIFY);
  assert_int_equal(cli.json, 1);
}

static void test_usage_errors(void **state) {
  node_cli cli;
  char *only[] = {"nointrude", NULL};
  (void)state;
  assert_int_equal(node_args_parse(&cli, 1, only, err, sizeof err),
                   NODE_ERR_USAGE);
  assert_non_null(strstr(err, "missing command"));
  EXPECT_USAGE("unknown command 'frob'", "frob");
  EXPECT_USAGE("expected 'prove' or 'verify'", "vrf");
  EXPECT_USAGE("expected 'prove' or 'verify'", "vrf", "sign");
  EXPECT_USAGE("missing --data-dir", "status");
  EXPECT_USAGE("unknown option '--bogus'", "status", "--data-dir", "d",
               "--bogus");
  EXPECT_USAGE("unknown option '--ttl'", "get", "--data-dir", "d", KEY64,
               "--ttl", "5");
  EXPECT_USAGE("--data-dir needs a value", "status", "--data-dir");
  EXPECT_USAGE("--json takes no value", "status", "--data-dir", "d",
               "--json=1");
  EXPECT_USAGE("--json given twice", "status", "--data-dir", "d", "--json",
               "--json");
  EXPECT_USAGE("missing VALUE", "put", "--data-dir", "d", "name");
  EXPECT_USAGE("missing KEY", "get", "--data-dir", "d");
  EXPECT_USAGE("unexpected argument 'x'", "status", "--data-dir", "d", "x");
  EXPECT_USAGE("--listen", "node", "--data-dir", "d", "--listen", "nohost");
  EXPECT_USAGE("--bootstrap", "node", "--data-dir", "d", "--bootstrap",
               "1.2.3.4");
  EXPECT_USAGE("--difficulty", "node", "--data-dir", "d", "--difficulty", "41");
  EXPECT_USAGE("--difficulty", "keygen", "--data-dir", "d", "--difficulty",
               "-3");
  EXPECT_USAGE("--log-level", "node", "--data-dir", "d", "--log-level", "x");
  EXPECT_USAGE("--ttl", "put", "--data-dir", "d", "n", "v", "--ttl", "0");
  EXPECT_USAGE("--ttl", "put", "--data-dir", "d", "n", "v", "--ttl", "604801");
  EXPECT_USAGE("--timeout", "status", "--data-dir", "d", "--timeout", "0");
  EXPECT_USAGE("--timeout", "status", "--data-dir", "d", "--timeout", "1.2345");
  EXPECT_USAGE("KEY: expected 64 hex digits", "get", "--data-dir", "d", "abc");
  EXPECT_USAGE("ID: expected 64 hex digits", "lookup", "--data-dir", "d",
               KEY64 "0");
  EXPECT_USAGE("NAME must be", "put", "--data-dir", "d", "", "v");
  EXPECT_USAGE("missing --sk", "vrf", "prove", "--alpha", "");
  EXPECT_USAGE("--sk: expected 64 hex digits", "vrf", "prove", "--sk", "00",
               "--alpha", "");
  EXPECT_USAGE("--alpha", "vrf", "prove", "--sk", KEY64, "--alpha", "abc");
  EXPECT_USAGE("--alpha", "vrf", "prove", "--sk", KEY64, "--alpha", "zz");
  EXPECT_USAGE("--pi: expected 160 hex digits", "vrf", "verify", "--pk", KEY64,
               "--alpha", "", "--pi", KEY64);
  /* The synopsis of the command is part of the line. */
  EXPECT_USAGE("(usage: nointrude get --data-dir DIR KEY", "get");
}

static void test_long_values(void **state) {
  char name[DHT_NOTE_NAME_MAX + 2], value[DHT_NOTE_VALUE_MAX + 2];
  node_cli cli;
  (void)state;
  memset(name, 'n', sizeof name);
  memset(value, 'v', sizeof value);
  name[DHT_NOTE_NAME_MAX] = value[DHT_NOTE_VALUE_MAX] = '\0';
  assert_int_equal(PARSE(&cli, "put", "--data-dir", "d", name, value), 0);
  name[DHT_NOTE_NAME_MAX] = 'n';
  name[DHT_NOTE_NAME_MAX + 1] = '\0';
  EXPECT_USAGE("NAME must be", "put", "--data-dir", "d", name, value);
  name[DHT_NOTE_NAME_MAX] = '\0';
  value[DHT_NOTE_VALUE_MAX] = 'v';
  value[DHT_NOTE_VALUE_MAX + 1] = '\0';
  EXPECT_USAGE("VALUE must be", "put", "--data-dir", "d", name, value);
}

static void test_help(void **state) {
  char *a[] = {"nointrude", "--help", NULL};
  char *b[] = {"nointrude", "put", "-h", NULL};
  char *c[] = {"nointrude", "put", "--", "-h", NULL};
  (void)state;
  assert_int_equal(node_args_is_help(2, a), 1);
  assert_int_equal(node_args_is_help(3, b), 1);
  assert_int_equal(node_args_is_help(4, c), 0);
}

static void test_parse_u64(void **state) {
  uint64_t v = 7;
  (void)state;
  assert_int_equal(node_parse_u64("0", 0, 10, &v), 0);
  assert_true(v == 0);
  assert_int_equal(node_parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
                   0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(node_parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
                   NODE_ERR_USAGE);
  assert_int_equal(node_parse_u64("", 0, 10, &v), NODE_ERR_USAGE);
  assert_int_equal(node_parse_u64("+1", 0, 10, &v), NODE_ERR_USAGE);
  assert_int_equal(node_parse_u64(" 1", 0, 10, &v), NODE_ERR_USAGE);
  assert_int_equal(node_parse_u64("11", 0, 10, &v), NODE_ERR_USAGE);
  assert_int_equal(node_parse_u64("4", 5, 10, &v), NODE_ERR_USAGE);
  assert_true(v == UINT64_MAX); /* untouched by failures */
}

static void test_parse_seconds(void **state) {
  uint64_t ms = 0;
  (void)state;
  assert_int_equal(node_parse_seconds("3", 10, &ms), 0);
  assert_true(ms == 3000);
  assert_int_equal(node_parse_seconds("0.05", 10, &ms), 0);
  assert_true(ms == 50);
  assert_int_equal(node_parse_seconds("10", 10, &ms), 0);
  assert_int_equal(node_parse_seconds("10.001", 10, &ms), NODE_ERR_USAGE);
  assert_int_equal(node_parse_seconds("0", 10, &ms), NODE_ERR_USAGE);
  assert_int_equal(node_parse_seconds(".5", 10, &ms), NODE_ERR_USAGE);
  assert_int_equal(node_parse_seconds("1.", 10, &ms), NODE_ERR_USAGE);
  assert_int_equal(node_parse_seconds("1e3", 10000, &ms), NODE_ERR_USAGE);
}

static void test_hex_alloc(void **state) {
  uint8_t *buf;
  size_t len;
  (void)state;
  assert_int_equal(node_hex_decode_alloc("", 4, &buf, &len), 0);
  assert_non_null(buf);
  assert_int_equal(len, 0);
  free(buf);
  assert_int_equal(node_hex_decode_alloc("0aFF", 4, &buf, &len), 0);
  assert_int_equal(len, 2);
  assert_int_equal(buf[0], 0x0a);
  assert_int_equal(buf[1], 0xff);
  free(buf);
  assert_int_equal(node_hex_decode_alloc("0a0", 4, &buf, &len), NODE_ERR_USAGE);
  assert_int_equal(node_hex_decode_alloc("0g", 4, &buf, &len), NODE_ERR_USAGE);
  assert_int_equal(node_hex_decode_alloc("0011223344", 4, &buf, &len),
                   NODE_ERR_TOO_LARGE);
  assert_null(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_node_command),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_query_commands),
      cmocka_unit_test(test_vrf_commands),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_long_values),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_parse_u64),
      cmocka_unit_test(test_parse_seconds),
      cmocka_unit_test(test_hex_alloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
