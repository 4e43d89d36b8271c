/*
 * The running daemon, end to end on loopback: two `nointrude node`
 * processes find each other through --bootstrap, a note put through one is
 * read through the other; the control socket answers malformed and
 * oversized lines with errors and refuses clients beyond its limit; the
 * socket and data directory are private; SIGTERM exits 0 and removes the
 * socket; a restart re-admits the node's own record from RocksDB; a
 * second node on the same data directory and a bad config file fail with
 * exit 1. Every wait is bounded.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>
#include <jansson.h>

#define CLI_TIMEOUT_S 30.0
#define START_WAIT_S 30.0 /* a node answering status (ASan is slow) */
#define JOIN_WAIT_S 30.0  /* both routing tables non-empty */
#define STOP_WAIT_S 15.0

typedef struct node {
  char dir[300];
  char log[320];
  char addr[64];
  pid_t pid;
} node;

static char base[256];
static node a, b;
static nt_run r;

/* ---- Helpers ------------------------------------------------------------- */

static json_t *cli_json(const node *n, const char *cmd) {
  json_error_t jerr;
  NT_RUN(&r, CLI_TIMEOUT_S, (char *)cmd, "--data-dir", (char *)n->dir,
         "--json");
  return r.code == 0 ? json_loads(r.out, 0, &jerr) : NULL;
}

static void show_log(const node *n) {
  char line[512];
  FILE *f = fopen(n->log, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) print_message("  | %s", line);
  fclose(f);
}

/* start_node runs `nointrude node` for |n| and waits until status answers;
 * |extra| are more arguments (NULL-terminated). Returns 0 or -1. */
static int start_node(node *n, const char *const *extra) {
  char *argv[32];
  int k = 0, fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  argv[k++] = NOINTRUDE_BIN;
  argv[k++] = "node";
  argv[k++] = "--data-dir";
  argv[k++] = n->dir;
  argv[k++] = "--difficulty";
  argv[k++] = "4";
  argv[k++] = "--log-level";
  argv[k++] = "debug";
  for (; extra && *extra && k < 31; extra++) argv[k++] = (char *)*extra;
  argv[k] = NULL;
  n->pid = nt_spawn(argv, NULL, NULL, fd);
  close(fd);
  for (double end = nt_now() + START_WAIT_S; nt_now() < end;) {
    json_t *st = cli_json(n, "status");
    if (st) {
      json_t *addr0 = json_array_get(json_object_get(st, "addresses"), 0);
      snprintf(n->addr, sizeof n->addr, "%s", json_string_value(addr0));
      json_decref(st);
      return 0;
    }
    if (waitpid(n->pid, NULL, WNOHANG) == n->pid) break;
    usleep(100000);
  }
  show_log(n);
  return -1;
}

/* stop_node sends SIGTERM and returns the exit code (-1: killed). */
static int stop_node(node *n) {
  if (n->pid <= 0) return -1;
  kill(n->pid, SIGTERM);
  int code = nt_wait(n->pid, STOP_WAIT_S);
  n->pid = 0;
  if (code != 0) show_log(n);
  return code;
}

static long contacts(const node *n) {
  json_t *st = cli_json(n, "status");
  long c = st ? (long)json_integer_value(json_object_get(st, "contacts")) : -1;
  json_decref(st);
  return c;
}

static int ctl_connect(const node *n) {
  struct sockaddr_un sa;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", n->dir) >=
      (int)sizeof sa.sun_path) {
    close(fd);
    return -1;
  }
  struct timeval tv = {10, 0}; /* no read blocks forever */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ctl_read_reply reads one reply line (or EOF) into |buf|. Returns its
 * length, 0 on EOF before any byte, -1 on error or timeout. */
static ssize_t ctl_read_reply(int fd, char *buf, size_t cap) {
  size_t used = 0;
  while (used + 1 < cap) {
    ssize_t n = read(fd, buf + used, 1);
    if (n <= 0) return n == 0 && used == 0 ? 0 : -1;
    if (buf[used++] == '\n') break;
  }
  buf[used] = '\0';
  return (ssize_t)used;
}

static int reply_ok(const char *line, const char *error_part) {
  json_error_t jerr;
  json_t *obj = json_loads(line, 0, &jerr);
  int ok = json_is_true(json_object_get(obj, "ok"));
  const char *e = json_string_value(json_object_get(obj, "error"));
  int matches = error_part ? (!ok && e && strstr(e, error_part)) : ok;
  json_decref(obj);
  return matches;
}

static int send_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---- Fixture: two joined nodes ------------------------------------------- */

static int setup(void **state) {
  (void)state;
  if (nt_tmpdir(base, sizeof base) < 0) return -1;
  snprintf(a.dir, sizeof a.dir, "%s/a", base);
  snprintf(b.dir, sizeof b.dir, "%s/b", base);
  snprintf(a.log, sizeof a.log, "%s/a.log", base);
  snprintf(b.log, sizeof b.log, "%s/b.log", base);
  /* A's config file: found in its data directory without --config. */
  char conf[400];
  if (mkdir(a.dir, 0700) < 0 ||
      nt_write_file(conf, sizeof conf, a.dir, "nointrude.conf",
                    "# test node A\ncontrol_max_clients = 2\n"
                    "listen = 127.0.0.1:0\n") < 0)
    return -1;
  if (start_node(&a, NULL) < 0) return -1;
  const char *extra[] = {"--listen", "127.0.0.1:0", "--bootstrap", a.addr,
                         NULL};
  if (start_node(&b, extra) < 0) return -1;
  for (double end = nt_now() + JOIN_WAIT_S; nt_now() < end; usleep(200000))
    if (contacts(&a) > 0 && contacts(&b) > 0) return 0;
  show_log(&a);
  show_log(&b);
  return -1;
}

static int teardown(void **state) {
  (void)state;
  if (a.pid > 0) stop_node(&a);
  if (b.pid > 0) stop_node(&b);
  nt_rmtree(base);
  return 0;
}

/* ---- Tests --------------------------------------------------------------- */

static char note_key[65];

static void test_put_get_lookup(void **state) {
  json_error_t jerr;
  (void)state;
  NT_RUN(&r, CLI_TIMEOUT_S, "put", "--data-dir", a.dir, "motd",
         "no spam please", "--ttl", "3600", "--json");
  if (r.code != 0) fail_msg("put: exit %d: %s %s", r.code, r.out, r.err);
  json_t *put = json_loads(r.out, 0, &jerr);
  assert_non_null(put);
  assert_true(json_integer_value(json_object_get(put, "stored")) >= 1);
  json_t *stats = json_object_get(put, "stats");
  assert_non_null(json_object_get(stats, "hops"));
  assert_non_null(json_object_get(stats, "duration_ms"));
  snprintf(note_key, sizeof note_key, "%s",
           json_string_value(json_object_get(put, "key")));
  json_decref(put);
  assert_int_equal(strlen(note_key), 64);

  NT_RUN(&r, CLI_TIMEOUT_S, "get", "--data-dir", b.dir, note_key);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, "no spam please\n");
  NT_RUN(&r, CLI_TIMEOUT_S, "get", "--data-dir", b.dir, note_key, "--local");
  assert_int_equal(r.code, 0); /* B is one of the k closest: it stores it */
  assert_string_equal(r.out, "no spam please\n");

  /* A second put under the same name replaces the value (higher seq). */
  NT_RUN(&r, CLI_TIMEOUT_S, "put", "--data-dir", a.dir, "motd", "v2");
  assert_int_equal(r.code, 0);
  assert_memory_equal(r.out, note_key, 64);
  NT_RUN(&r, CLI_TIMEOUT_S, "get", "--data-dir", b.dir, note_key);
  assert_string_equal(r.out, "v2\n");

  /* Absent key: exit 1. */
  NT_RUN(&r, CLI_TIMEOUT_S, "get", "--data-dir", b.dir, "--local",
         "0000000000000000000000000000000000000000000000000000000000000000");
  assert_int_equal(r.code, 1);

  /* Looking up A's ID from B finds A. */
  json_t *st = cli_json(&a, "status");
  assert_non_null(st);
  char id[65];
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(st, "id")));
  json_decref(st);
  NT_RUN(&r, CLI_TIMEOUT_S, "lookup", "--data-dir", b.dir, id);
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, id));
  NT_RUN(&r, CLI_TIMEOUT_S, "peers", "--data-dir", b.dir);
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, id));
}

static void test_control_socket(void **state) {
  char buf[4096];
  struct stat st;
  (void)state;
  snprintf(buf, sizeof buf, "%s/control.sock", a.dir);
  assert_int_equal(stat(buf, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(a.dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);

  int fd = ctl_connect(&a);
  assert_true(fd >= 0);
  /* Garbage, then a good request on the same connection. */
  const char *lines = "this is not json\n\n{\"cmd\":\"put\"}\r\n"
                      "{\"cmd\":\"status\"}\n";
  assert_int_equal(send_all(fd, lines, strlen(lines)), 0);
  assert_true(ctl_read_reply(fd, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, "malformed JSON"));
  assert_true(ctl_read_reply(fd, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, "\"name\": missing"));
  assert_true(ctl_read_reply(fd, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, NULL));

  /* An oversized line: an error reply, then the node hangs up. */
  char *big = malloc(70000);
  assert_non_null(big);
  memset(big, 'x', 70000);
  send_all(fd, big, 70000); /* may fail once the node has closed */
  free(big);
  assert_true(ctl_read_reply(fd, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, "longer than"));
  /* Closed: EOF, or a reset since the node left bytes unread (not a
   * timeout, which would be EAGAIN). */
  ssize_t n = read(fd, buf, 1);
  assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
  close(fd);

  /* control_max_clients = 2 in A's config file: a third is refused. */
  int c1 = ctl_connect(&a), c2 = ctl_connect(&a), c3 = ctl_connect(&a);
  assert_true(c1 >= 0 && c2 >= 0 && c3 >= 0);
  assert_true(ctl_read_reply(c3, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, "too many control clients"));
  assert_int_equal(send_all(c1, "{\"cmd\":\"peers\"}\n", 16), 0);
  assert_true(ctl_read_reply(c1, buf, sizeof buf) > 0);
  assert_true(reply_ok(buf, NULL));
  close(c1);
  close(c2);
  close(c3);
}

static void test_second_node_same_dir(void **state) {
  (void)state;
  NT_RUN(&r, CLI_TIMEOUT_S, "node", "--data-dir", a.dir, "--listen",
         "127.0.0.1:0", "--difficulty", "4");
  assert_int_equal(r.code, 1);
  assert_non_null(strstr(r.err, "another node"));
}

static void test_bad_config(void **state) {
  char dir[400], conf[500];
  (void)state;
  snprintf(dir, sizeof dir, "%s/c", base);
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(nt_write_file(conf, sizeof conf, dir, "nointrude.conf",
                                 "listen = 127.0.0.1:0\nk = 99\n"),
                   0);
  NT_RUN(&r, CLI_TIMEOUT_S, "node", "--data-dir", dir);
  assert_int_equal(r.code, 1);
  assert_non_null(strstr(r.err, "nointrude.conf:2: k:"));
}

static void test_restart_restores(void **state) {
  char sock[400];
  struct stat st;
  (void)state;
  assert_int_equal(stop_node(&b), 0);
  assert_int_equal(stop_node(&a), 0);
  snprintf(sock, sizeof sock, "%s/control.sock", a.dir);
  assert_int_equal(stat(sock, &st), -1); /* removed at shutdown */
  assert_int_equal(start_node(&a, NULL), 0);
  NT_RUN(&r, CLI_TIMEOUT_S, "get", "--data-dir", a.dir, note_key, "--local");
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, "v2\n");
  json_t *s = cli_json(&a, "status");
  assert_non_null(s);
  assert_int_equal(json_integer_value(json_object_get(s, "own_records")), 1);
  assert_int_equal(json_integer_value(json_object_get(s, "restore_failures")),
                   0);
  json_decref(s);
  assert_int_equal(stop_node(&a), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_get_lookup),
      cmocka_unit_test(test_control_socket),
      cmocka_unit_test(test_second_node_same_dir),
      cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_restart_restores), /* stops both nodes: last */
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, setup, teardown);
}
