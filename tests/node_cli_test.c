/*
 * The built `nointrude` binary, offline commands: vrf prove and vrf verify
 * against every ECVRF-EDWARDS25519-SHA512-TAI example of RFC 9381 (read
 * from tests/vectors at run time), a tampered proof (exit 1), usage errors
 * (exit 2, one line on stderr, nothing on stdout), help, keygen in a
 * temporary directory, and a query with no node running (exit 1).
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#define RUN_TIMEOUT_S 60.0
#define MAX_EXAMPLES 8

typedef struct vrf_example {
  char sk[65], pk[65], alpha[512], pi[161], beta[129];
} vrf_example;

static vrf_example examples[MAX_EXAMPLES];
static size_t n_examples;
static nt_run r;

/* read_field copies "NAME: value" into |out| when |line| starts so. */
static void read_field(const char *line, const char *name, char *out,
                       size_t cap) {
  size_t n = strlen(name);
  if (strncmp(line, name, n) != 0 || line[n] != ':') return;
  const char *v = line + n + 1;
  while (*v == ' ') v++;
  snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
}

static int load_vectors(void **state) {
  char line[1024];
  FILE *f = fopen(NI_VRF_VECTORS, "r");
  (void)state;
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "example:", 8) == 0) {
      if (n_examples == MAX_EXAMPLES) break;
      n_examples++;
      continue;
    }
    if (n_examples == 0) continue;
    vrf_example *e = &examples[n_examples - 1];
    read_field(line, "SK", e->sk, sizeof e->sk);
    read_field(line, "PK", e->pk, sizeof e->pk);
    read_field(line, "alpha", e->alpha, sizeof e->alpha);
    read_field(line, "pi", e->pi, sizeof e->pi);
    read_field(line, "beta", e->beta, sizeof e->beta);
  }
  fclose(f);
  return n_examples >= 2 ? 0 : -1; /* the file holds examples 16 and 17 */
}

static void expect_success(void) {
  if (r.code != 0) fail_msg("exit %d, stderr: %s", r.code, r.err);
}

static void test_vrf_prove_vectors(void **state) {
  char expect[512];
  (void)state;
  for (size_t i = 0; i < n_examples; i++) {
    vrf_example *e = &examples[i];
    NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "prove", "--sk", e->sk, "--alpha",
           e->alpha);
    expect_success();
    snprintf(expect, sizeof expect, "pi: %s\nbeta: %s\n", e->pi, e->beta);
    assert_string_equal(r.out, expect);
    assert_int_equal(r.err_len, 0);
  }
}

static void test_vrf_prove_json(void **state) {
  json_error_t jerr;
  vrf_example *e = &examples[0]; /* example 16: empty alpha */
  (void)state;
  assert_string_equal(e->alpha, "");
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "prove", "--sk", e->sk, "--alpha", "",
         "--json");
  expect_success();
  json_t *obj = json_loads(r.out, 0, &jerr);
  assert_non_null(obj);
  assert_string_equal(json_string_value(json_object_get(obj, "pi")), e->pi);
  assert_string_equal(json_string_value(json_object_get(obj, "beta")), e->beta);
  json_decref(obj);
}

static void test_vrf_verify_vectors(void **state) {
  char expect[256];
  (void)state;
  for (size_t i = 0; i < n_examples; i++) {
    vrf_example *e = &examples[i];
    NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "verify", "--pk", e->pk, "--alpha",
           e->alpha, "--pi", e->pi);
    expect_success();
    snprintf(expect, sizeof expect, "%s\n", e->beta);
    assert_string_equal(r.out, expect);
  }
}

static void test_vrf_verify_rejects(void **state) {
  vrf_example *e = &examples[0];
  char pi[161], alpha[] = "00";
  (void)state;
  /* A flipped bit in s, in c, and the right proof for another alpha. */
  static const size_t flip_at[] = {150, 70};
  for (size_t i = 0; i < 2; i++) {
    memcpy(pi, e->pi, sizeof pi);
    pi[flip_at[i]] = pi[flip_at[i]] == '0' ? '1' : '0';
    NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "verify", "--pk", e->pk, "--alpha",
           e->alpha, "--pi", pi);
    assert_int_equal(r.code, 1);
    assert_int_equal(r.out_len, 0);
    assert_true(r.err_len > 0);
  }
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "verify", "--pk", e->pk, "--alpha", alpha,
         "--pi", e->pi);
  assert_int_equal(r.code, 1);
  /* Another example's key. */
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "verify", "--pk", examples[1].pk, "--alpha",
         e->alpha, "--pi", e->pi);
  assert_int_equal(r.code, 1);
}

/* expect_usage: exit 2, nothing on stdout, exactly one line on stderr. */
static void expect_usage(const char *needle) {
  assert_int_equal(r.code, 2);
  assert_int_equal(r.out_len, 0);
  assert_true(r.err_len > 0 && r.err[r.err_len - 1] == '\n');
  assert_ptr_equal(strchr(r.err, '\n'), r.err + r.err_len - 1);
  if (!strstr(r.err, needle))
    fail_msg("stderr \"%s\" lacks \"%s\"", r.err, needle);
}

static void test_usage_errors(void **state) {
  (void)state;
  nt_run_argv(&r, RUN_TIMEOUT_S, (char *const[]){NOINTRUDE_BIN, NULL});
  expect_usage("missing command");
  NT_RUN(&r, RUN_TIMEOUT_S, "frobnicate");
  expect_usage("unknown command");
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf");
  expect_usage("prove");
  NT_RUN(&r, RUN_TIMEOUT_S, "status");
  expect_usage("missing --data-dir");
  NT_RUN(&r, RUN_TIMEOUT_S, "get", "--data-dir", "/nonexistent", "xyz");
  expect_usage("KEY");
  NT_RUN(&r, RUN_TIMEOUT_S, "put", "--data-dir", "/nonexistent", "n", "v",
         "--ttl", "forever");
  expect_usage("--ttl");
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "prove", "--sk", "00", "--alpha", "");
  expect_usage("--sk");
  NT_RUN(&r, RUN_TIMEOUT_S, "vrf", "verify", "--pk", examples[0].pk, "--alpha",
         "");
  expect_usage("missing --pi");
  NT_RUN(&r, RUN_TIMEOUT_S, "node", "--data-dir", "/nonexistent/ni-x");
  expect_usage("listen");
  NT_RUN(&r, RUN_TIMEOUT_S, "node", "--data-dir", "d", "--listen",
         "localhost:4000");
  expect_usage("--listen");
}

static void test_help(void **state) {
  (void)state;
  NT_RUN(&r, RUN_TIMEOUT_S, "--help");
  expect_success();
  assert_non_null(strstr(r.out, "nointrude vrf verify"));
  assert_non_null(strstr(r.out, "nointrude node --data-dir"));
}

static void test_keygen(void **state) {
  char dir[256], sub[300], first[128];
  struct stat st;
  (void)state;
  assert_int_equal(nt_tmpdir(dir, sizeof dir), 0);
  snprintf(sub, sizeof sub, "%s/a/b", dir); /* parents are created too */
  NT_RUN(&r, RUN_TIMEOUT_S, "keygen", "--data-dir", sub, "--difficulty", "6");
  expect_success();
  assert_int_equal(r.out_len, 65);
  assert_int_equal(strspn(r.out, "0123456789abcdef"), 64);
  memcpy(first, r.out, 66); /* 64 digits, newline, NUL */
  assert_int_equal(stat(sub, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  NT_RUN(&r, RUN_TIMEOUT_S, "keygen", "--data-dir", sub);
  expect_success();
  assert_string_equal(r.out, first); /* the existing identity */
  /* No node runs there: a query fails with exit 1 and says why. */
  NT_RUN(&r, RUN_TIMEOUT_S, "status", "--data-dir", sub, "--timeout", "2");
  assert_int_equal(r.code, 1);
  assert_non_null(strstr(r.err, "cannot connect"));
  nt_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vrf_prove_vectors),
      cmocka_unit_test(test_vrf_prove_json),
      cmocka_unit_test(test_vrf_verify_vectors),
      cmocka_unit_test(test_vrf_verify_rejects),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_keygen),
  };
  return cmocka_run_group_tests(tests, load_vectors, NULL);
}
