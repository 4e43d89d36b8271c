/*
 * The built `nointrude` binary, registry commands that need no node:
 * batch create writes a batch file that verifies (reg_batch_file_decode)
 * and creates the sender key with mode 0600; a malformed address file, an
 * empty one or a key file others may read make it exit 1 naming the
 * problem, writing nothing (an older batch file stays as it was); usage
 * errors exit 2 with one line; the commands that talk to a node exit 1
 * when none runs.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <nointrude/registry.h>

#define RUN_TIMEOUT_S 60.0

static nt_run r;
static char dir[256], addrs[320], key[320], out[320], text[64 * 1024];

static int setup(void **state) {
  (void)state;
  if (nc_init() < 0 || nt_tmpdir(dir, sizeof dir) < 0) return -1;
  snprintf(key, sizeof key, "%s/sender.key", dir);
  snprintf(out, sizeof out, "%s/batch.nib", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  nt_rmtree(dir);
  return 0;
}

static void expect_success(void) {
  if (r.code != 0) fail_msg("exit %d, stderr: %s", r.code, r.err);
}

/* expect_failure: exit 1 and |needle| on stderr. */
static void expect_failure(const char *needle) {
  if (r.code != 1) fail_msg("exit %d (want 1), stderr: %s", r.code, r.err);
  if (!strstr(r.err, needle))
    fail_msg("stderr \"%s\" lacks \"%s\"", r.err, needle);
}

/* expect_usage: exit 2, nothing on stdout, exactly one line on stderr. */
static void expect_usage(const char *needle) {
  if (r.code != 2) fail_msg("exit %d (want 2), stderr: %s", r.code, r.err);
  assert_int_equal(r.out_len, 0);
  assert_true(r.err_len > 0 && r.err[r.err_len - 1] == '\n');
  assert_ptr_equal(strchr(r.err, '\n'), r.err + r.err_len - 1);
  if (!strstr(r.err, needle))
    fail_msg("stderr \"%s\" lacks \"%s\"", r.err, needle);
}

/* write_addresses writes |n| generated addresses (with a comment and a
 * blank line) to |name|; |bad_line| > 0 replaces that line by garbage. */
static void write_addresses(const char *name, size_t n, size_t bad_line) {
  size_t used = 0;
  used += (size_t)snprintf(text + used, sizeof text - used, "# list\n\n");
  for (size_t i = 0; i < n && used < sizeof text - 64; i++) {
    if (i + 3 == bad_line)
      used += (size_t)snprintf(text + used, sizeof text - used, "broken\n");
    else
      used += (size_t)snprintf(text + used, sizeof text - used,
                               "User%zu@Example.org\n", i);
  }
  assert_int_equal(nt_write_file(addrs, sizeof addrs, dir, name, text), 0);
}

/* read_file reads |path| whole into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* field returns the value of the "word value" line |word| of stdout. */
static const char *field(const char *word, char *buf, size_t cap) {
  size_t n = strlen(word);
  for (const char *p = r.out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1
                                                          : NULL) {
    if (strncmp(p, word, n) == 0 && p[n] == ' ') {
      snprintf(buf, cap, "%.*s", (int)strcspn(p + n + 1, "\n"), p + n + 1);
      return buf;
    }
  }
  fail_msg("no \"%s\" line in \"%s\"", word, r.out);
  return NULL;
}

static void create(void) {
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "create", "--addresses", addrs, "--out",
         out, "--key", key, "--difficulty", "4", "--pow-bits", "2", "--ttl",
         "3600");
}

static void test_create(void **state) {
  char id[80], entries[32], hex[2 * REG_BATCH_ID_LEN + 1];
  struct stat st;
  size_t len, n = 0;
  reg_batch *b = NULL;
  (void)state;
  write_addresses("good.txt", 500, 0);
  unlink(key);
  create();
  expect_success();
  assert_non_null(strstr(r.err, "created the sender key"));
  assert_int_equal(stat(key, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  field("batch_id", id, sizeof id);
  field("entries", entries, sizeof entries);
  assert_string_equal(entries, "500");
  uint8_t *buf = read_file(out, &len);
  assert_int_equal(memcmp(buf, "NIBATCH1", 8), 0);
  assert_int_equal(reg_batch_file_decode(&b, buf, len, 4, 2,
                                         (uint64_t)time(NULL)),
                   0);
  nc_hex_encode(hex, reg_batch_manifest(b)->batch_id, REG_BATCH_ID_LEN);
  assert_string_equal(hex, id);
  reg_batch_entries(b, &n);
  assert_int_equal(n, 500);
  uint8_t sender[NC_PK_LEN];
  memcpy(sender, reg_batch_sender(b), NC_PK_LEN);
  reg_batch_free(b);
  free(buf);
  /* A second batch with the same key: same sender, new batch id. */
  create();
  expect_success();
  assert_null(strstr(r.err, "created the sender key"));
  buf = read_file(out, &len);
  assert_int_equal(reg_batch_file_decode(&b, buf, len, 4, 2,
                                         (uint64_t)time(NULL)),
                   0);
  assert_memory_equal(reg_batch_sender(b), sender, NC_PK_LEN);
  nc_hex_encode(hex, reg_batch_manifest(b)->batch_id, REG_BATCH_ID_LEN);
  assert_string_not_equal(hex, id);
  reg_batch_free(b);
  free(buf);
}

/* expect_untouched checks the batch file still holds |before|. */
static void expect_untouched(const uint8_t *before, size_t before_len) {
  size_t len;
  uint8_t *now = read_file(out, &len);
  assert_int_equal(len, before_len);
  assert_memory_equal(now, before, len);
  free(now);
}

static void test_create_refused(void **state) {
  char expect[400];
  size_t before_len;
  (void)state;
  write_addresses("first.txt", 20, 0);
  create();
  expect_success();
  uint8_t *before = read_file(out, &before_len);
  /* A malformed line: the message names the file and the line. */
  write_addresses("bad.txt", 20, 7);
  create();
  snprintf(expect, sizeof expect, "%s:7: not a valid e-mail address", addrs);
  expect_failure(expect);
  assert_non_null(strstr(r.err, "nothing written"));
  expect_untouched(before, before_len);
  /* Only comments. */
  assert_int_equal(nt_write_file(addrs, sizeof addrs, dir, "empty.txt",
                                 "# nothing\n\n"),
                   0);
  create();
  expect_failure("no addresses");
  expect_untouched(before, before_len);
  /* A missing address file. */
  snprintf(addrs, sizeof addrs, "%s/missing.txt", dir);
  create();
  expect_failure("missing.txt");
  expect_untouched(before, before_len);
  /* A key file others may read. */
  write_addresses("good2.txt", 20, 0);
  assert_int_equal(chmod(key, 0640), 0);
  create();
  expect_failure("chmod 600");
  expect_untouched(before, before_len);
  assert_int_equal(chmod(key, 0600), 0);
  /* A key below an explicit difficulty. */
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "create", "--addresses", addrs, "--out",
         out, "--key", key, "--difficulty", "30", "--pow-bits", "2");
  expect_failure("--difficulty 30");
  expect_untouched(before, before_len);
  /* A fresh key is not created when the address file is bad. */
  char fresh[400];
  snprintf(fresh, sizeof fresh, "%s/fresh.key", dir);
  write_addresses("bad2.txt", 5, 3);
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "create", "--addresses", addrs, "--out",
         out, "--key", fresh);
  expect_failure(":3:");
  assert_int_equal(access(fresh, F_OK), -1);
  free(before);
}

static void test_usage(void **state) {
  (void)state;
  NT_RUN(&r, RUN_TIMEOUT_S, "batch");
  expect_usage("expected 'create', 'publish' or 'optouts'");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "create", "--addresses", "a", "--key",
         "k");
  expect_usage("missing --out");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "create", "--addresses", "a", "--out",
         "o", "--key", "k", "--ttl", "0");
  expect_usage("--ttl");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "publish", "--data-dir", dir);
  expect_usage("missing BATCH");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "optouts", "--data-dir", dir, "--key",
         "k");
  expect_usage("missing --addresses");
  NT_RUN(&r, RUN_TIMEOUT_S, "protect", "add", "--data-dir", dir, "nobody");
  expect_usage("not a valid e-mail address");
  NT_RUN(&r, RUN_TIMEOUT_S, "protect", "drop", "--data-dir", dir, "a@b");
  expect_usage("expected 'add', 'remove' or 'list'");
  NT_RUN(&r, RUN_TIMEOUT_S, "--help");
  expect_success();
  assert_non_null(strstr(r.out, "nointrude batch optouts --data-dir"));
  assert_non_null(strstr(r.out, "nointrude protect list --data-dir"));
}

static void test_no_node(void **state) {
  (void)state;
  write_addresses("some.txt", 3, 0);
  create();
  expect_success();
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "publish", "--data-dir", dir, out,
         "--timeout", "2");
  expect_failure("cannot connect");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "publish", "--data-dir", dir,
         "/nonexistent/batch.nib");
  expect_failure("/nonexistent/batch.nib");
  NT_RUN(&r, RUN_TIMEOUT_S, "batch", "optouts", "--data-dir", dir, "--key",
         key, "--addresses", addrs, "--timeout", "2");
  expect_failure("cannot connect");
  assert_int_equal(r.out_len, 0);
  NT_RUN(&r, RUN_TIMEOUT_S, "protect", "add", "--data-dir", dir, "a@b.c",
         "--timeout", "2");
  expect_failure("cannot connect");
  NT_RUN(&r, RUN_TIMEOUT_S, "protect", "list", "--data-dir", dir, "--timeout",
         "2");
  expect_failure("cannot connect");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create),
      cmocka_unit_test(test_create_refused),
      cmocka_unit_test(test_usage),
      cmocka_unit_test(test_no_node),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
