/*
 * The sender's files, in-process (node/daemon/sender_key.c, addr_file.c):
 * the key file's format, creation (mode 0600, never replacing a file) and
 * refusal of loose permissions and bad content; address files with their
 * skipped lines and errors naming the line; and the parsing of the new
 * commands' command lines (args.c).
 */
#include "node_test_util.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "addr_file.h"
#include "args.h"
#include "errors.h"
#include "node_args_testutil.h"
#include "sender_key.h"

static char dir[256], path[512], err[2048];

static int setup(void **state) {
  (void)state;
  return nt_tmpdir(dir, sizeof dir);
}

static int teardown(void **state) {
  (void)state;
  nt_rmtree(dir);
  return 0;
}

/* write_mode writes |text| to |name| in the test directory with |mode|. */
static void write_mode(const char *name, const char *text, mode_t mode) {
  assert_int_equal(nt_write_file(path, sizeof path, dir, name, text), 0);
  assert_int_equal(chmod(path, mode), 0);
}

/* ---- Key file ------------------------------------------------------------ */

static void test_key_roundtrip(void **state) {
  nc_identity a, b;
  char text[NODE_SENDER_KEY_TEXT_MAX];
  (void)state;
  assert_int_equal(nc_identity_generate(&a, 4), 0);
  int n = node_sender_key_format(text, sizeof text, &a);
  assert_true(n > 0);
  const char *head = NODE_SENDER_KEY_MAGIC "\nseed ";
  assert_int_equal(strncmp(text, head, strlen(head)), 0);
  assert_int_equal(node_sender_key_parse(&b, text, (size_t)n, err, sizeof err),
                   0);
  assert_memory_equal(a.pk, b.pk, NC_PK_LEN);
  assert_memory_equal(a.sk, b.sk, NC_SK_LEN);
  assert_memory_equal(a.id, b.id, NC_ID_LEN);
  assert_true(a.nonce == b.nonce);
  assert_true(nc_id_puzzle_bits(b.id) >= 4);
  /* The buffer is too small for the text. */
  assert_int_equal(node_sender_key_format(text, 40, &a), NODE_ERR_TOO_LARGE);
  nc_identity_wipe(&a);
  nc_identity_wipe(&b);
}

/* expect_bad_key checks that |text| is refused with |needle| in the error. */
static void expect_bad_key(const char *text, const char *needle) {
  nc_identity id;
  err[0] = '\0';
  assert_int_equal(node_sender_key_parse(&id, text, strlen(text), err,
                                         sizeof err),
                   NODE_ERR_FORMAT);
  if (!strstr(err, needle)) fail_msg("\"%s\" lacks \"%s\"", err, needle);
  for (size_t i = 0; i < sizeof id.sk; i++) assert_int_equal(id.sk[i], 0);
}

#define SEED64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_key_parse_errors(void **state) {
  nc_identity id;
  (void)state;
  const char *good = NODE_SENDER_KEY_MAGIC "\nseed " SEED64 "\nnonce 7\n";
  assert_int_equal(node_sender_key_parse(&id, good, strlen(good), err,
                                         sizeof err),
                   0);
  assert_true(id.nonce == 7);
  expect_bad_key("", "line 1");
  expect_bad_key("nointrude-sender-key v2\nseed " SEED64 "\nnonce 7\n",
                 "line 1");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed 0123\nnonce 7\n", "line 2");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed  " SEED64 "\nnonce 7\n",
                 "line 2");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed " SEED64 "\nnonce -7\n",
                 "line 3");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed " SEED64 "\nnonce 7",
                 "line 3"); /* no final newline */
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed " SEED64
                                       "\nnonce 18446744073709551616\n",
                 "line 3");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\nseed " SEED64 "\nnonce 7\nextra\n",
                 "line 4");
  expect_bad_key(NODE_SENDER_KEY_MAGIC "\r\nseed " SEED64 "\nnonce 7\n",
                 "line 1");
  nc_identity_wipe(&id);
}

static void test_key_create_and_load(void **state) {
  nc_identity a, b;
  struct stat st;
  (void)state;
  snprintf(path, sizeof path, "%s/sender.key", dir);
  unlink(path);
  assert_int_equal(node_sender_key_load(path, &a, err, sizeof err), 0);
  assert_int_equal(node_sender_key_create(path, 6, &a, err, sizeof err), 0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_true(nc_id_puzzle_bits(a.id) >= 6);
  assert_int_equal(node_sender_key_load(path, &b, err, sizeof err), 1);
  assert_memory_equal(a.sk, b.sk, NC_SK_LEN);
  assert_true(a.nonce == b.nonce);
  /* Creating again never replaces the key: the existing one comes back. */
  assert_int_equal(node_sender_key_create(path, 6, &b, err, sizeof err), 1);
  assert_memory_equal(a.sk, b.sk, NC_SK_LEN);
  /* No temporary file is left behind. */
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)))
    assert_null(strstr(e->d_name, "sender.key.tmp-"));
  closedir(d);
  nc_identity_wipe(&a);
  nc_identity_wipe(&b);
  unlink(path);
}

static void test_key_refused(void **state) {
  nc_identity id;
  char text[NODE_SENDER_KEY_TEXT_MAX];
  (void)state;
  assert_int_equal(nc_identity_generate(&id, 2), 0);
  assert_true(node_sender_key_format(text, sizeof text, &id) > 0);
  nc_identity_wipe(&id);
  write_mode("loose.key", text, 0644);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err),
                   NODE_ERR_PERMISSIONS);
  assert_non_null(strstr(err, "chmod 600"));
  write_mode("group.key", text, 0620);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err),
                   NODE_ERR_PERMISSIONS);
  write_mode("ok.key", text, 0400);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err), 1);
  nc_identity_wipe(&id);
  write_mode("bad.key", "nointrude-sender-key v1\nseed xyz\nnonce 1\n", 0600);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err),
                   NODE_ERR_FORMAT);
  assert_non_null(strstr(err, "line 2"));
  assert_non_null(strstr(err, "bad.key"));
  /* Too long to be a key file. */
  char big[NODE_SENDER_KEY_TEXT_MAX + 64];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  write_mode("big.key", big, 0600);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err),
                   NODE_ERR_TOO_LARGE);
  /* A directory is not a key file. */
  snprintf(path, sizeof path, "%s/keydir", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(node_sender_key_load(path, &id, err, sizeof err),
                   NODE_ERR_IO);
}

/* ---- Address files ------------------------------------------------------- */

static void test_addr_parse(void **state) {
  node_addr_list l;
  (void)state;
  const char *text = "# a comment\n"
                     "  Alice@Example.COM  \n"
                     "\n"
                     "   \t\n"
                     "   # indented comment\n"
                     "bob@example.org\r\n"
                     "alice@example.com\n"
                     "j\xc3\xbcrgen@b\xc3\xbc" "cher.de"; /* no final newline */
  assert_int_equal(node_addr_list_parse(&l, "f", text, strlen(text), 100, err,
                                        sizeof err),
                   0);
  assert_int_equal(l.n, 4);
  assert_string_equal(l.canon[0], "alice@example.com");
  assert_string_equal(l.canon[1], "bob@example.org");
  assert_string_equal(l.canon[2], "alice@example.com"); /* kept: file order */
  assert_string_equal(l.canon[3], "j\xc3\xbcrgen@b\xc3\xbc" "cher.de");
  node_addr_list_free(&l);
  assert_int_equal(node_addr_list_parse(&l, "f", "", 0, 100, err, sizeof err),
                   0);
  assert_int_equal(l.n, 0);
  node_addr_list_free(&l);
}

/* expect_addr_error checks the error for |text| names |where|. */
static void expect_addr_error(const char *text, size_t len, int code,
                              const char *where) {
  node_addr_list l;
  err[0] = '\0';
  assert_int_equal(node_addr_list_parse(&l, "list.txt", text, len, 3, err,
                                        sizeof err),
                   code);
  if (!strstr(err, where)) fail_msg("\"%s\" lacks \"%s\"", err, where);
  assert_int_equal(l.n, 0);
  assert_null(l.canon);
}

static void test_addr_errors(void **state) {
  char long_line[NODE_ADDR_LINE_MAX + 40];
  (void)state;
  expect_addr_error("a@b\nnot-an-address\nc@d\n", 22, NODE_ERR_FORMAT,
                    "list.txt:2: not a valid e-mail address");
  expect_addr_error("a@b\n\n# x\ntwo@@ats\n", 18, NODE_ERR_FORMAT,
                    "list.txt:4:");
  expect_addr_error("@b\n", 3, NODE_ERR_FORMAT, "list.txt:1:");
  expect_addr_error("a@\n", 3, NODE_ERR_FORMAT, "list.txt:1:");
  expect_addr_error("a b@c\n", 6, NODE_ERR_FORMAT, "list.txt:1:");
  expect_addr_error("a@b\nx\0y@z\n", 10, NODE_ERR_FORMAT, "list.txt:2:");
  expect_addr_error("a@b\nc@d\ne@f\ng@h\n", 16, NODE_ERR_TOO_LARGE,
                    "list.txt:4: more than 3 addresses");
  memset(long_line, 'a', sizeof long_line);
  long_line[10] = '@';
  expect_addr_error(long_line, sizeof long_line, NODE_ERR_FORMAT,
                    "list.txt:1: line longer than 1024 bytes");
  /* 255 bytes: one more than a canonical address may have. */
  memset(long_line, 'a', 255);
  long_line[100] = '@';
  expect_addr_error(long_line, 255, NODE_ERR_FORMAT, "list.txt:1:");
}

static void test_addr_read_file(void **state) {
  node_addr_list l;
  (void)state;
  write_mode("addrs.txt", "x@y.z\n# c\nu@v.w\n", 0600);
  assert_int_equal(node_addr_list_read(&l, path, 10, err, sizeof err), 0);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.canon[1], "u@v.w");
  node_addr_list_free(&l);
  write_mode("bad.txt", "x@y.z\nbroken\n", 0600);
  assert_int_equal(node_addr_list_read(&l, path, 10, err, sizeof err),
                   NODE_ERR_FORMAT);
  assert_non_null(strstr(err, "bad.txt:2:"));
  snprintf(path, sizeof path, "%s/missing.txt", dir);
  assert_int_equal(node_addr_list_read(&l, path, 10, err, sizeof err),
                   NODE_ERR_IO);
  assert_non_null(strstr(err, "missing.txt"));
}

/* ---- Command lines ------------------------------------------------------- */


static void test_args(void **state) {
  node_cli cli;
  (void)state;
  assert_int_equal(PARSE(&cli, "batch", "create", "--addresses", "a.txt",
                         "--out", "b.nib", "--key", "k"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_BATCH_CREATE);
  assert_true(cli.ttl_s == NODE_BATCH_TTL_DEFAULT_S);
  assert_int_equal(cli.pow_bits, -1);
  assert_int_equal(PARSE(&cli, "batch", "create", "--addresses", "a", "--out",
                         "b", "--key", "k", "--ttl", "2592000", "--pow-bits",
                         "3", "--difficulty", "5"),
                   0);
  assert_true(cli.ttl_s == 2592000);
  assert_int_equal(cli.pow_bits, 3);
  assert_int_equal(cli.difficulty, 5);
  assert_int_equal(PARSE(&cli, "batch", "publish", "--data-dir", "d", "f"), 0);
  assert_int_equal(cli.cmd, NODE_CMD_BATCH_PUBLISH);
  assert_string_equal(cli.pos[0], "f");
  assert_int_equal(PARSE(&cli, "batch", "optouts", "--data-dir", "d", "--key",
                         "k", "--addresses", "a"),
                   0);
  assert_true(cli.since_s == NODE_SINCE_DEFAULT_S);
  assert_int_equal(PARSE(&cli, "batch", "optouts", "--data-dir", "d", "--key",
                         "k", "--addresses", "a", "--since", "60"),
                   0);
  assert_true(cli.since_s == 60);
  assert_int_equal(PARSE(&cli, "protect", "add", "--data-dir", "d",
                         "Alice@Example.com"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_PROTECT_ADD);
  assert_int_equal(PARSE(&cli, "protect", "remove", "--data-dir", "d", "a@b"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_PROTECT_REMOVE);
  assert_int_equal(PARSE(&cli, "protect", "list", "--data-dir", "d", "--json"),
                   0);
  assert_int_equal(cli.cmd, NODE_CMD_PROTECT_LIST);
  assert_int_equal(PARSE(&cli, "get", "--data-dir", "d",
                         "00112233445566778899aabbccddeeff00112233445566778899"
                         "aabbccddeeff",
                         "--all", "--max", "10"),
                   0);
  assert_int_equal(cli.all, 1);
  assert_true(cli.max_records == 10);
}

#define KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_args_usage(void **state) {
  (void)state;
  EXPECT_USAGE("batch: expected 'create', 'publish' or 'optouts'", "batch");
  EXPECT_USAGE("batch: expected 'create', 'publish' or 'optouts'", "batch",
               "send");
  EXPECT_USAGE("protect: expected 'add', 'remove' or 'list'", "protect");
  EXPECT_USAGE("missing --addresses", "batch", "create", "--out", "b", "--key",
               "k");
  EXPECT_USAGE("missing --out", "batch", "create", "--addresses", "a", "--key",
               "k");
  EXPECT_USAGE("missing --key", "batch", "create", "--addresses", "a", "--out",
               "b");
  EXPECT_USAGE("--ttl: expected 1..2592000", "batch", "create", "--addresses",
               "a", "--out", "b", "--key", "k", "--ttl", "2592001");
  EXPECT_USAGE("--pow-bits", "batch", "create", "--addresses", "a", "--out",
               "b", "--key", "k", "--pow-bits", "41");
  EXPECT_USAGE("--out must be a non-empty path", "batch", "create",
               "--addresses", "a", "--out", "", "--key", "k");
  EXPECT_USAGE("unknown option '--data-dir'", "batch", "create", "--data-dir",
               "d", "--addresses", "a", "--out", "b", "--key", "k");
  EXPECT_USAGE("unexpected argument 'x'", "batch", "create", "--addresses",
               "a", "--out", "b", "--key", "k", "x");
  EXPECT_USAGE("missing BATCH", "batch", "publish", "--data-dir", "d");
  EXPECT_USAGE("missing --data-dir", "batch", "publish", "f");
  EXPECT_USAGE("missing --key", "batch", "optouts", "--data-dir", "d",
               "--addresses", "a");
  EXPECT_USAGE("--since", "batch", "optouts", "--data-dir", "d", "--key", "k",
               "--addresses", "a", "--since", "0");
  EXPECT_USAGE("unknown option '--json'", "batch", "optouts", "--data-dir",
               "d", "--key", "k", "--addresses", "a", "--json");
  EXPECT_USAGE("missing ADDRESS", "protect", "add", "--data-dir", "d");
  EXPECT_USAGE("ADDRESS: not a valid e-mail address", "protect", "add",
               "--data-dir", "d", "no-at-sign");
  EXPECT_USAGE("ADDRESS: not a valid e-mail address", "protect", "remove",
               "--data-dir", "d", "a@b@c");
  EXPECT_USAGE("unexpected argument", "protect", "list", "--data-dir", "d",
               "a@b");
  EXPECT_USAGE("--local and --all", "get", "--data-dir", "d", KEY64, "--all",
               "--local");
  EXPECT_USAGE("--max needs --all", "get", "--data-dir", "d", KEY64, "--max",
               "3");
  EXPECT_USAGE("--max", "get", "--data-dir", "d", KEY64, "--all", "--max",
               "4097");
  /* Put keeps its own 7-day limit. */
  EXPECT_USAGE("--ttl: expected 1..604800", "put", "--data-dir", "d", "n", "v",
               "--ttl", "604801");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_roundtrip),
      cmocka_unit_test(test_key_parse_errors),
      cmocka_unit_test(test_key_create_and_load),
      cmocka_unit_test(test_key_refused),
      cmocka_unit_test(test_addr_parse),
      cmocka_unit_test(test_addr_errors),
      cmocka_unit_test(test_addr_read_file),
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_args_usage),
  };
  if (nc_init() < 0) return 1;
  return cmocka_run_group_tests(tests, setup, teardown);
}
