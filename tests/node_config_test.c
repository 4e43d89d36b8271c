/*
 * Config file parsing (node/daemon/config.c): a good file with every kind
 * of key, unknown keys, bad values and syntax errors reported with file,
 * line and key, and the merge with the command line.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "args.h"
#include "config.h"
#include "errors.h"

typedef struct fixture {
  char dir[256];
  char path[512];
  char err[1024];
  node_opts opts;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || nt_tmpdir(f->dir, sizeof f->dir) < 0) return -1;
  node_opts_default(&f->opts);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  nt_rmtree(f->dir);
  free(f);
  return 0;
}

static int load(fixture *f, const char *text) {
  assert_int_equal(
      nt_write_file(f->path, sizeof f->path, f->dir, "n.conf", text), 0);
  return node_config_load(&f->opts, f->path, f->err, sizeof f->err);
}

/* expect_error checks the message starts with "PATH:LINE: KEY:". */
static void expect_error(fixture *f, unsigned line, const char *key) {
  char prefix[700];
  snprintf(prefix, sizeof prefix, "%s:%u: %s:", f->path, line, key);
  if (strncmp(f->err, prefix, strlen(prefix)) != 0)
    fail_msg("error \"%s\" does not start with \"%s\"", f->err, prefix);
}

static void test_good_file(void **state) {
  fixture *f = *state;
  int rv = load(f, "; a comment\n"
                   "# another\n"
                   "listen = 127.0.0.1:4000\n"
                   "listen = [::1]:4001\n"
                   "bootstrap = 127.0.0.2:5000\n"
                   "difficulty = 8\n"
                   "k = 12\n"
                   "alpha = 4\n"
                   "disjoint_paths = 3\n"
                   "rate_per_ip = 7\n"
                   "burst_per_ip = 9\n"
                   "author_max_records = 11\n"
                   "author_max_bytes = 65536\n"
                   "store_max_bytes = 1048576\n"
                   "request_timeout_ms = 250\n"
                   "republish_interval_s = 60\n"
                   "control_max_clients = 3\n"
                   "log_level = debug\n");
  assert_int_equal(rv, 0);
  assert_int_equal(f->opts.n_listen, 2);
  assert_int_equal(f->opts.listen[0].family, 4);
  assert_int_equal(f->opts.listen[0].port, 4000);
  assert_int_equal(f->opts.listen[1].family, 6);
  assert_int_equal(f->opts.listen[1].port, 4001);
  assert_int_equal(f->opts.n_bootstrap, 1);
  assert_int_equal(f->opts.bootstrap[0].port, 5000);
  assert_int_equal(f->opts.dht.difficulty, 8);
  assert_int_equal(f->opts.dht.k, 12);
  assert_int_equal(f->opts.dht.alpha, 4);
  assert_int_equal(f->opts.dht.disjoint_paths, 3);
  assert_int_equal(f->opts.dht.rate_per_ip, 7);
  assert_int_equal(f->opts.dht.burst_per_ip, 9);
  assert_int_equal(f->opts.dht.author_max_records, 11);
  assert_int_equal(f->opts.dht.author_max_bytes, 65536);
  assert_true(f->opts.dht.store_max_bytes == 1048576);
  assert_true(f->opts.dht.request_timeout == 250 * DHT_MS);
  assert_true(f->opts.dht.republish_interval == 60 * DHT_SEC);
  assert_int_equal(f->opts.control_max_clients, 3);
  assert_int_equal(f->opts.log_level, DHT_LOG_DEBUG);
}

static void test_defaults_kept(void **state) {
  fixture *f = *state;
  dht_config d;
  dht_config_default(&d);
  assert_int_equal(load(f, "k = 9\n"), 0);
  assert_int_equal(f->opts.dht.k, 9);
  assert_int_equal(f->opts.dht.alpha, d.alpha);
  assert_int_equal(f->opts.dht.difficulty, NODE_DIFFICULTY_DEFAULT);
  assert_int_equal(f->opts.log_level, DHT_LOG_INFO);
}

static void test_registry_keys(void **state) {
  fixture *f = *state;
  reg_config d;
  reg_config_default(&d);
  assert_true(f->opts.reg.grace == d.grace);
  assert_int_equal(f->opts.reg.batch_pow_base_bits, 16);
  assert_int_equal(load(f, "forward_permille = 500\n"
                           "optout_pow_bits = 8\n"
                           "batch_pow_bits = 6\n"
                           "grace_s = 1\n"
                           "index_poll_s = 2\n"
                           "index_lookback = 24\n"
                           "escalation_levels = 2\n"
                           "escalation_spacing_s = 3\n"
                           "max_protected = 1000\n"),
                   0);
  assert_int_equal(f->opts.reg.forward_permille, 500);
  assert_int_equal(f->opts.reg.optout_pow_bits, 8);
  assert_int_equal(f->opts.reg.batch_pow_base_bits, 6);
  assert_true(f->opts.reg.grace == 1 * DHT_SEC);
  assert_true(f->opts.reg.index_poll_interval == 2 * DHT_SEC);
  assert_int_equal(f->opts.reg.index_lookback, 24);
  assert_int_equal(f->opts.reg.escalation_levels, 2);
  assert_true(f->opts.reg.escalation_spacing == 3 * DHT_SEC);
  assert_int_equal(f->opts.reg.max_protected, 1000);
  /* Untouched: the protocol's index window. */
  assert_true(f->opts.reg.index_window == d.index_window);
  assert_int_equal(f->opts.dht.k, 16);
}

static void test_unknown_key(void **state) {
  fixture *f = *state;
  assert_int_equal(load(f, "k = 8\n\nfrobnicate = 1\n"), NODE_ERR_CONFIG);
  expect_error(f, 3, "frobnicate");
  assert_non_null(strstr(f->err, "unknown key"));
}

static void test_bad_values(void **state) {
  fixture *f = *state;
  static const struct {
    const char *text;
    unsigned line;
    const char *key;
  } cases[] = {
      {"k = 8\nalpha = zero\n", 2, "alpha"},
      {"k = 0\n", 1, "k"},
      {"k = 17\n", 1, "k"},
      {"difficulty = -1\n", 1, "difficulty"},
      {"difficulty = 41\n", 1, "difficulty"},
      {"rate_per_ip = 99999999999999999999999\n", 1, "rate_per_ip"},
      {"k = 8 8\n", 1, "k"},
      {"\n\n\nlisten = localhost:4000\n", 4, "listen"},
      {"listen = 127.0.0.1\n", 1, "listen"},
      {"bootstrap = [::1:4000\n", 1, "bootstrap"},
      {"log_level = loud\n", 1, "log_level"},
      {"request_timeout_ms = 5\n", 1, "request_timeout_ms"},
      {"control_max_clients = 0\n", 1, "control_max_clients"},
      {"forward_permille = 1000\n", 1, "forward_permille"},
      {"optout_pow_bits = 33\n", 1, "optout_pow_bits"},
      {"batch_pow_bits = 41\n", 1, "batch_pow_bits"},
      {"index_poll_s = 0\n", 1, "index_poll_s"},
      {"index_lookback = 721\n", 1, "index_lookback"},
      {"escalation_levels = 4\n", 1, "escalation_levels"},
      {"escalation_spacing_s = 0\n", 1, "escalation_spacing_s"},
      {"max_protected = 0\n", 1, "max_protected"},
      {"grace_s = 31536001\n", 1, "grace_s"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    node_opts_default(&f->opts);
    assert_int_equal(load(f, cases[i].text), NODE_ERR_CONFIG);
    expect_error(f, cases[i].line, cases[i].key);
  }
}

static void test_first_error_wins(void **state) {
  fixture *f = *state;
  assert_int_equal(load(f, "k = 8\nalpha = x\nbogus = 1\n"), NODE_ERR_CONFIG);
  expect_error(f, 2, "alpha");
}

static void test_syntax_and_sections(void **state) {
  fixture *f = *state;
  char prefix[600];
  assert_int_equal(load(f, "k = 8\nthis line has no equals sign\n"),
                   NODE_ERR_CONFIG);
  snprintf(prefix, sizeof prefix, "%s:2: syntax error", f->path);
  assert_memory_equal(f->err, prefix, strlen(prefix));
  assert_int_equal(load(f, "[dht]\nk = 8\n"), NODE_ERR_CONFIG);
  expect_error(f, 2, "k");
  assert_non_null(strstr(f->err, "sections"));
}

static void test_long_line(void **state) {
  fixture *f = *state;
  char text[1024];
  memset(text, 'x', sizeof text);
  memcpy(text, "k = 8\nbootstrap = ", 18);
  memcpy(text + sizeof text - 16, "\nalpha = zero\n", 15);
  assert_int_equal(load(f, text), NODE_ERR_CONFIG);
  expect_error(f, 2, "(line)");
}

static void test_too_many_addresses(void **state) {
  fixture *f = *state;
  char text[2048] = "";
  size_t used = 0;
  for (int i = 0; i <= NODE_LISTEN_MAX; i++)
    used += (size_t)snprintf(text + used, sizeof text - used,
                             "listen = 127.0.0.1:%d\n", 4000 + i);
  assert_int_equal(load(f, text), NODE_ERR_CONFIG);
  expect_error(f, NODE_LISTEN_MAX + 1, "listen");
}

static void test_missing_file(void **state) {
  fixture *f = *state;
  char path[600];
  snprintf(path, sizeof path, "%s/absent.conf", f->dir);
  assert_int_equal(node_config_load(&f->opts, path, f->err, sizeof f->err),
                   NODE_ERR_IO);
  assert_non_null(strstr(f->err, "absent.conf"));
}

static void test_cli_overrides(void **state) {
  fixture *f = *state;
  node_cli cli;
  char err[1024];
  char *argv[] = {"nointrude",   "node",        "--data-dir",
                  "d",           "--listen",    "127.0.0.1:7000",
                  "--bootstrap", "127.0.0.3:1", "--difficulty",
                  "3",           "--log-level", "warn",
                  NULL};
  assert_int_equal(load(f, "listen = 127.0.0.1:4000\nlisten = [::1]:4000\n"
                           "bootstrap = 127.0.0.2:1\ndifficulty = 9\n"
                           "log_level = debug\n"),
                   0);
  assert_int_equal(node_args_parse(&cli, 12, argv, err, sizeof err), 0);
  assert_int_equal(node_opts_apply_cli(&f->opts, &cli), 0);
  assert_int_equal(f->opts.n_listen, 1); /* replaced */
  assert_int_equal(f->opts.listen[0].port, 7000);
  assert_int_equal(f->opts.n_bootstrap, 2); /* file + command line */
  assert_int_equal(f->opts.dht.difficulty, 3);
  assert_int_equal(f->opts.log_level, DHT_LOG_WARN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(test_registry_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
      cmocka_unit_test_setup_teardown(test_first_error_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_syntax_and_sections, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_addresses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_overrides, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
