/*
 * Multi-process integration test: 20 real `nointrude node` processes on
 * loopback, driven only through the CLI contract (keygen, node, status,
 * put, get, lookup) and the wire_client tool.
 *
 * Node i listens on 127.(i+1).0.1:PORT, one /16 each, so the routing
 * tables' IP-diversity limits never bite; PORT is picked per run from the
 * pid and checked free. Everything lives in a fresh /tmp/ni-it-XXXXXX,
 * removed after a clean run and kept (path printed) after a failure.
 *
 * The steps share one network and run in this order:
 *   a  start 20 nodes, wait for >= 3 contacts each
 *   b  put through node 3, get through 15 and others
 *   h  lookup/get statistics (on the whole network, before step c kills
 *      most storers, so the figures describe a healthy overlay)
 *   e  a note with the smallest TTL expires everywhere
 *   c  kill every storer of b's note but one; a non-storer still gets it
 *   d  SIGTERM a survivor (exit 0), restart: same ID, records intact
 *   f  tampered and wrongly keyed STOREs refused (wire_client)
 *   g  malformed and replayed datagrams dropped and counted (wire_client)
 *   i  every remaining node exits 0 on SIGTERM, no sanitizer report
 * A step whose prerequisite failed is skipped, not failed again. Every
 * wait is a bounded poll; on a failure every node's log tail is printed.
 * Teardown SIGKILLs and reaps every child, whatever happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <nointrude/dht.h>

#include "harness.h"

#ifndef NI_BIN
#error "NI_BIN (path of the nointrude binary) must be defined by the build"
#endif
#ifndef NI_WIRE_CLIENT
#error "NI_WIRE_CLIENT (path of the wire_client tool) must be defined"
#endif

#define N_NODES 20
#define DIFFICULTY "8"
#define MIN_CONTACTS 3
#define AUTHOR 3         /* step b writes through this node */
#define FIRST_READER 15  /* and reads through this one first */
#define WAIT_S 30.0      /* bound of every poll loop */
#define POLL_MS 100
#define CLI_TIMEOUT_S 30.0 /* one command; lookups may meet dead nodes */
#define TOOL_BIND "127.250.0.1" /* wire_client's address: its own /16 */
#define N_LOOKUPS 20
#define N_GETS 5
#define MAX_ARGV 32

typedef struct node {
  char dir[IT_PATH_MAX];
  char log[IT_PATH_MAX];
  char addr[32]; /* "127.(i+1).0.1:PORT" */
  char id[65];   /* from keygen */
  pid_t pid;     /* 0 when not running */
  int started;   /* ever started: has a log worth showing */
} node;

static char tmp_dir[64]; /* /tmp/ni-it-XXXXXX */

static struct {
  char self[IT_PATH_MAX];
  unsigned port;
  node nodes[N_NODES];
  char last_cmd[1024];
  it_result r; /* output of the latest command */
  int failures;
  int step_passed, step_skipped;
  /* what later steps need from earlier ones */
  int network_up;              /* a */
  char note_key[65];           /* b */
  char note_value[128];
  int note_ok;
  int reader, keeper;          /* c: a non-storer, the one storer left */
  int partition_ok;
} g;

#define CHECK(cond, ...)       \
  do {                         \
    if (!(cond))               \
      fail_msg(__VA_ARGS__);   \
  } while (0)

#define REQUIRE(cond, why)                              \
  do {                                                  \
    if (!(cond)) {                                      \
      print_message("[ SKIPPED  ] needs: %s\n", why);   \
      g.step_skipped = 1;                               \
      skip();                                           \
    }                                                   \
  } while (0)

/* ---- commands -------------------------------------------------------- */

static void remember_cmd(char *const argv[]) {
  size_t used = 0;
  g.last_cmd[0] = '\0';
  for (size_t i = 0; argv[i] != NULL && used < sizeof g.last_cmd; i++)
    used += (size_t)snprintf(g.last_cmd + used, sizeof g.last_cmd - used,
                             "%s%s", i ? " " : "", argv[i]);
}

/* Runs `nointrude VERB --data-dir DIR ARGS... NULL` for node |n|. */
static int cli(int n, const char *verb, ...) {
  char *argv[MAX_ARGV];
  size_t k = 0;
  argv[k++] = (char *)NI_BIN;
  argv[k++] = (char *)verb;
  argv[k++] = (char *)"--data-dir";
  argv[k++] = g.nodes[n].dir;
  va_list ap;
  va_start(ap, verb);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && k + 1 < MAX_ARGV)
    argv[k++] = (char *)a;
  va_end(ap);
  argv[k] = NULL;
  remember_cmd(argv);
  return it_run(&g.r, CLI_TIMEOUT_S, argv);
}

/* Runs wire_client against node |n| in |mode|. */
static int wire_client(int n, const char *mode) {
  char *argv[] = {(char *)NI_WIRE_CLIENT, "--difficulty", DIFFICULTY,
                  "--bind", TOOL_BIND, g.nodes[n].addr, (char *)mode, NULL};
  remember_cmd(argv);
  return it_run(&g.r, CLI_TIMEOUT_S, argv);
}

static const char *cmd_output(void) {
  static char buf[2560];
  snprintf(buf, sizeof buf, "`%s` exit %d after %.1f s\nstdout: %.400s\n"
           "stderr: %.600s", g.last_cmd, g.r.exit_code, g.r.seconds, g.r.out,
           g.r.err);
  return buf;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *output_json(void) {
  json_error_t err;
  return json_loads(g.r.out, 0, &err);
}

/* Finds number |name| at the top of |obj| or one object level down. */
static int json_num(json_t *obj, const char *name, double *out) {
  json_t *v = json_object_get(obj, name);
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return 0;
  }
  const char *k;
  json_t *child;
  json_object_foreach(obj, k, child) {
    v = json_object_get(child, name);
    if (json_is_object(child) && json_is_number(v)) {
      *out = json_number_value(v);
      return 0;
    }
  }
  return -1;
}

/* Length of the first array in |root| (itself or a top-level member). */
static long json_first_array_len(json_t *root) {
  if (json_is_array(root))
    return (long)json_array_size(root);
  const char *k;
  json_t *v;
  json_object_foreach(root, k, v) {
    if (json_is_array(v))
      return (long)json_array_size(v);
  }
  return -1;
}

/* Whether a string equal to |text| occurs in |root|, down to |depth|
 * levels of objects and arrays. */
static int json_has_string(json_t *root, const char *text, int depth) {
  const char *k;
  size_t i;
  json_t *v;
  if (json_is_string(root))
    return strcmp(json_string_value(root), text) == 0;
  if (depth == 0)
    return 0;
  json_object_foreach(root, k, v) {
    if (json_has_string(v, text, depth - 1))
      return 1;
  }
  json_array_foreach(root, i, v) {
    if (json_has_string(v, text, depth - 1))
      return 1;
  }
  return 0;
}

/* Runs `status --json` on node |n|; returns the parsed object or NULL. */
static json_t *status_json(int n) {
  if (cli(n, "status", "--json", NULL) != 0)
    return NULL;
  return output_json();
}

/* status --json field |name| of node |n|, failing the step if absent. */
static double status_num(int n, const char *name) {
  json_t *st = status_json(n);
  double v = -1;
  CHECK(st != NULL, "status of node %d failed: %s", n, cmd_output());
  int found = json_num(st, name, &v);
  json_decref(st);
  CHECK(found == 0, "status --json of node %d has no number \"%s\": %s", n,
        name, cmd_output());
  return v;
}

/* ---- nodes ----------------------------------------------------------- */

static int running(int n) { return g.nodes[n].pid > 0; }

/* Fails the step if node |n| has died. */
static void require_alive(int n) {
  int st;
  if (!running(n) || it_child_exited(g.nodes[n].pid, &st) != 1)
    return;
  char why[32];
  g.nodes[n].pid = 0;
  fail_msg("node %d died unexpectedly (%s)", n, it_status_text(st, why,
                                                               sizeof why));
}

static void node_start(int n, int bootstrap) {
  node *nd = &g.nodes[n];
  char *argv[MAX_ARGV];
  size_t k = 0;
  argv[k++] = (char *)NI_BIN;
  argv[k++] = "node";
  argv[k++] = "--data-dir";
  argv[k++] = nd->dir;
  argv[k++] = "--listen";
  argv[k++] = nd->addr;
  if (bootstrap >= 0) {
    argv[k++] = "--bootstrap";
    argv[k++] = g.nodes[bootstrap].addr;
  }
  argv[k++] = "--difficulty";
  argv[k++] = DIFFICULTY;
  if (getenv("NI_IT_LOG_LEVEL") != NULL) {
    argv[k++] = "--log-level";
    argv[k++] = getenv("NI_IT_LOG_LEVEL");
  }
  argv[k] = NULL;
  FILE *log = fopen(nd->log, "a");
  if (log != NULL) {
    fprintf(log, "===== integration_test: starting node %d =====\n", n);
    fclose(log);
  }
  nd->pid = it_spawn_daemon(argv, nd->log);
  nd->started = 1;
  CHECK(nd->pid > 0, "could not spawn node %d", n);
}

/* Polls node |n|'s status until it answers with its keygen ID. */
static void wait_ready(int n) {
  double deadline = it_now() + WAIT_S;
  for (;;) {
    require_alive(n);
    json_t *st = status_json(n);
    json_t *id = st != NULL ? json_object_get(st, "id") : NULL;
    if (json_is_string(id)) {
      int same = strcasecmp(json_string_value(id), g.nodes[n].id) == 0;
      CHECK(same, "node %d reports id %s, keygen printed %s", n,
            json_string_value(id), g.nodes[n].id);
      json_decref(st);
      return;
    }
    json_decref(st);
    CHECK(it_now() < deadline, "node %d not answering status after %.0f s: %s",
          n, WAIT_S, cmd_output());
    it_sleep_ms(POLL_MS);
  }
}

/* Waits for node |n| to end after its SIGTERM (sent by the caller, once:
 * a second one may legitimately mean "quit now"). Returns its waitpid
 * status. */
static int node_wait_stopped(int n) {
  int st = -1;
  int ended = it_child_wait(g.nodes[n].pid, WAIT_S, &st);
  if (!ended)
    st = it_child_kill(g.nodes[n].pid);
  g.nodes[n].pid = 0;
  CHECK(ended, "node %d still running %.0f s after SIGTERM (killed)", n,
        WAIT_S);
  return st;
}

static void node_kill(int n) {
  it_child_kill(g.nodes[n].pid);
  g.nodes[n].pid = 0;
}

static int sanitizer_report_in(int n) {
  return it_file_has(g.nodes[n].log, "ERROR: AddressSanitizer") ||
         it_file_has(g.nodes[n].log, "ERROR: LeakSanitizer") ||
         it_file_has(g.nodes[n].log, "runtime error:");
}

/* get [--local] of |key| through node |n|: 1 if it printed |value|, 0 if
 * it exited 1 (absent); anything else fails the step. */
static int get_value(int n, const char *key, const char *value, int local) {
  int rc = local ? cli(n, "get", key, "--local", NULL) : cli(n, "get", key,
                                                              NULL);
  CHECK(rc == 0 || rc == 1, "get through node %d: %s", n, cmd_output());
  if (rc == 1)
    return 0;
  CHECK(strcmp(it_trim(g.r.out), value) == 0,
        "get through node %d returned \"%s\", expected \"%s\"", n, g.r.out,
        value);
  return 1;
}

/* put NAME VALUE --ttl TTL through node |n|; the key goes to |key|. */
static int put_note(int n, const char *name, const char *value,
                    const char *ttl, char key[65]) {
  int rc = cli(n, "put", name, value, "--ttl", ttl, NULL);
  if (rc != 0)
    return rc;
  it_trim(g.r.out);
  char *first_line = strtok(g.r.out, "\n");
  CHECK(first_line != NULL && it_is_hex32(first_line),
        "put printed \"%s\", not a 64-digit hex key", g.r.out);
  strcpy(key, first_line);
  return 0;
}

/* ---- fixtures -------------------------------------------------------- */

/* Whether UDP |port| can be bound on every node address right now. */
static int port_free(unsigned port) {
  for (int i = 0; i < N_NODES; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(0x7f000001u + ((uint32_t)i << 16));
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
      close(fd);
    if (!ok)
      return 0;
  }
  return 1;
}

static unsigned pick_port(void) {
  unsigned port = 20000u + ((unsigned)getpid() * 7u) % 30000u;
  for (int tries = 0; tries < 200; tries++, port++) {
    if (port_free(port))
      return port;
  }
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  strcpy(tmp_dir, "/tmp/ni-it-XXXXXX");
  if (mkdtemp(tmp_dir) == NULL || it_init(tmp_dir, g.self) != 0)
    return -1;
  g.port = pick_port();
  if (g.port == 0)
    return -1;
  for (int i = 0; i < N_NODES; i++) {
    node *nd = &g.nodes[i];
    snprintf(nd->dir, sizeof nd->dir, "%s/n%02d", tmp_dir, i);
    snprintf(nd->log, sizeof nd->log, "%s/n%02d.log", tmp_dir, i);
    snprintf(nd->addr, sizeof nd->addr, "127.%d.0.1:%u", i + 1, g.port);
  }
  g.reader = g.keeper = -1;
  printf("integration: %d nodes, port %u, temp dir %s\n", N_NODES, g.port,
         tmp_dir);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  int left = it_children_kill_all();
  if (left > 0)
    printf("teardown: killed %d child process(es)\n", left);
  for (int i = 0; i < N_NODES; i++)
    g.nodes[i].pid = 0;
  if (g.failures == 0 && getenv("NI_IT_KEEP") == NULL)
    it_rm_rf(tmp_dir);
  else
    printf("integration: logs and data kept in %s\n", tmp_dir);
  return 0;
}

static void dump_logs(void) {
  char why[32];
  printf("last command: %s\n", cmd_output());
  for (int i = 0; i < N_NODES; i++) {
    node *nd = &g.nodes[i];
    if (!nd->started)
      continue;
    int st;
    const char *state = "stopped";
    if (running(i) && it_child_exited(nd->pid, &st) == 1) {
      state = it_status_text(st, why, sizeof why);
      nd->pid = 0;
    } else if (running(i)) {
      state = "running";
    }
    char title[96];
    snprintf(title, sizeof title, "node %d %s [%s]", i, nd->addr, state);
    it_print_log_tail(title, nd->log, 15);
  }
}

static int step_setup(void **state) {
  (void)state;
  g.step_passed = g.step_skipped = 0;
  return 0;
}

static int step_teardown(void **state) {
  (void)state;
  if (!g.step_passed && !g.step_skipped) {
    g.failures++;
    dump_logs();
  }
  return 0;
}

/* ---- a: start the network -------------------------------------------- */

static void keygen(int n) {
  node *nd = &g.nodes[n];
  CHECK(it_mkdir(nd->dir) == 0, "mkdir %s: %s", nd->dir, strerror(errno));
  CHECK(cli(n, "keygen", "--difficulty", DIFFICULTY, NULL) == 0,
        "keygen for node %d: %s", n, cmd_output());
  char *line = strtok(it_trim(g.r.out), "\n");
  CHECK(line != NULL && it_is_hex32(line),
        "keygen printed \"%s\", not a 64-digit hex ID", g.r.out);
  strcpy(nd->id, line);
}

/* Reads node |n|'s contacts into *contacts; 0 if it answered. */
static int poll_contacts(int n, long *contacts) {
  json_t *st = status_json(n);
  double c;
  if (st == NULL)
    return -1;
  json_t *id = json_object_get(st, "id");
  int same = json_is_string(id) &&
             strcasecmp(json_string_value(id), g.nodes[n].id) == 0;
  int found = json_num(st, "contacts", &c);
  json_decref(st);
  CHECK(same, "node %d status id differs from its keygen ID: %s", n,
        cmd_output());
  CHECK(found == 0, "node %d status has no \"contacts\": %s", n, cmd_output());
  *contacts = (long)c;
  return 0;
}

static void print_contacts(const char *title, const long *contacts) {
  long lo = -1, hi = -1, sum = 0;
  printf("%s:", title);
  for (int i = 0; i < N_NODES; i++) {
    printf(" %d:%ld", i, contacts[i]);
    if (contacts[i] >= 0) {
      lo = lo < 0 || contacts[i] < lo ? contacts[i] : lo;
      hi = contacts[i] > hi ? contacts[i] : hi;
      sum += contacts[i];
    }
  }
  printf("\n  min %ld, max %ld, mean %.1f\n", lo, hi, (double)sum / N_NODES);
}

static void wait_min_contacts(long *contacts) {
  double start = it_now();
  for (;;) {
    int pending = 0;
    for (int i = 0; i < N_NODES; i++) {
      if (contacts[i] >= MIN_CONTACTS)
        continue;
      require_alive(i);
      poll_contacts(i, &contacts[i]);
      pending += contacts[i] < MIN_CONTACTS;
    }
    if (pending == 0)
      break;
    if (it_now() - start > WAIT_S) {
      print_contacts("contacts (-1 = not answering)", contacts);
      fail_msg("%d node(s) below %d contacts after %.0f s", pending,
               MIN_CONTACTS, WAIT_S);
    }
    it_sleep_ms(POLL_MS);
  }
  printf("every node has >= %d contacts after %.1f s\n", MIN_CONTACTS,
         it_now() - start);
}

/* peers --json of node |n| lists its contacts, each with id and address. */
static void check_peers(int n, long contacts) {
  CHECK(cli(n, "peers", "--json", NULL) == 0, "peers: %s", cmd_output());
  json_t *root = output_json();
  json_t *list = json_object_get(root, "peers");
  size_t i, bad = 0;
  json_t *p;
  json_array_foreach(list, i, p) {
    bad += !json_is_string(json_object_get(p, "id")) ||
           !json_is_string(json_object_get(p, "address"));
  }
  long count = json_is_array(list) ? (long)json_array_size(list) : -1;
  json_decref(root);
  CHECK(count >= MIN_CONTACTS && bad == 0,
        "peers --json of node %d: %ld peers (status said %ld), %zu without "
        "id/address: %s", n, count, contacts, bad, cmd_output());
  printf("peers --json of node %d lists %ld contacts\n", n, count);
}

static void step_a_start_network(void **state) {
  (void)state;
  long contacts[N_NODES];
  double start = it_now();
  for (int i = 0; i < N_NODES; i++) {
    keygen(i);
    contacts[i] = -1;
  }
  node_start(0, -1);
  wait_ready(0);
  for (int i = 1; i < N_NODES; i++)
    node_start(i, 0);
  wait_min_contacts(contacts);
  /* A second look: the counts grow as lookups run; report them all. */
  for (int i = 0; i < N_NODES; i++)
    poll_contacts(i, &contacts[i]);
  print_contacts("contacts per node", contacts);
  check_peers(0, contacts[0]);
  printf("network of %d nodes up in %.1f s\n", N_NODES, it_now() - start);
  g.network_up = 1;
  g.step_passed = 1;
}

/* ---- b: put and get -------------------------------------------------- */

static void step_b_put_get(void **state) {
  (void)state;
  static const int readers[] = {FIRST_READER, 0, 7, 19};
  REQUIRE(g.network_up, "step a (network up)");
  char name[64];
  snprintf(name, sizeof name, "it-note-%ld", (long)getpid());
  snprintf(g.note_value, sizeof g.note_value,
           "hello from node %d, integration run %ld", AUTHOR, (long)getpid());
  int rc = put_note(AUTHOR, name, g.note_value, "3600", g.note_key);
  CHECK(rc == 0, "put through node %d: %s", AUTHOR, cmd_output());
  printf("put through node %d: key %s (%.2f s)\n", AUTHOR, g.note_key,
         g.r.seconds);
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    int n = readers[i];
    int got = get_value(n, g.note_key, g.note_value, 0);
    CHECK(got, "get through node %d: not found: %s", n, cmd_output());
    printf("get through node %d: value matches (%.2f s)\n", n, g.r.seconds);
  }
  g.note_ok = 1;
  g.step_passed = 1;
}

/* ---- h: lookup statistics -------------------------------------------- */

typedef struct sample_set {
  double hops[N_LOOKUPS], ms[N_LOOKUPS], queried[N_LOOKUPS];
  double timeouts;
  size_t n;
} sample_set;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Mean, median and max of |n| values (sorts a copy). */
static void summarize(const double *v, size_t n, double *mean, double *p50,
                      double *max) {
  double sorted[N_LOOKUPS], sum = 0;
  memcpy(sorted, v, n * sizeof *v);
  qsort(sorted, n, sizeof *sorted, cmp_double);
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  *mean = n ? sum / (double)n : 0;
  *p50 = n ? sorted[(n - 1) / 2] : 0;
  *max = n ? sorted[n - 1] : 0;
}

/* Parses the stats of the latest --json output into |s|. */
static void take_stats(sample_set *s, const char *what) {
  json_t *root = output_json();
  CHECK(root != NULL, "%s: output is not JSON: %s", what, cmd_output());
  double hops, ms, queried, timeouts;
  int ok = json_num(root, "hops", &hops) == 0 &&
           json_num(root, "duration_ms", &ms) == 0 &&
           json_num(root, "queried", &queried) == 0 &&
           json_num(root, "timeouts", &timeouts) == 0;
  json_decref(root);
  CHECK(ok, "%s: JSON lacks hops/duration_ms/queried/timeouts: %s", what,
        cmd_output());
  s->hops[s->n] = hops;
  s->ms[s->n] = ms;
  s->queried[s->n] = queried;
  s->timeouts += timeouts;
  s->n++;
}

static void random_id(char hex[65]) {
  uint8_t raw[32];
  FILE *f = fopen("/dev/urandom", "rb");
  CHECK(f != NULL && fread(raw, 1, sizeof raw, f) == sizeof raw,
        "cannot read /dev/urandom");
  fclose(f);
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf(hex + 2 * i, "%02x", raw[i]);
}

static void run_lookups(sample_set *s) {
  static const int from[] = {0, 4, 9, 13, 18};
  char id[65];
  for (int i = 0; i < N_LOOKUPS; i++) {
    int n = from[i % 5];
    random_id(id);
    CHECK(cli(n, "lookup", id, "--json", NULL) == 0, "lookup through %d: %s",
          n, cmd_output());
    json_t *root = output_json();
    long found = root != NULL ? json_first_array_len(root) : -1;
    json_decref(root);
    CHECK(found > 0, "lookup through %d found no node list: %s", n,
          cmd_output());
    take_stats(s, "lookup --json");
  }
}

/* get --json through up to N_GETS nodes without a local copy (a storer
 * answers from its own store: 0 hops, nothing to measure). */
static void run_gets(sample_set *s) {
  for (int n = N_NODES - 1; n >= 0 && s->n < N_GETS; n--) {
    if (get_value(n, g.note_key, g.note_value, 1))
      continue;
    CHECK(cli(n, "get", g.note_key, "--json", NULL) == 0,
          "get --json through %d: %s", n, cmd_output());
    json_t *root = output_json();
    int has = root != NULL && json_has_string(root, g.note_value, 3);
    json_decref(root);
    CHECK(has, "get --json through %d: value missing: %s", n, cmd_output());
    take_stats(s, "get --json (non-storer)");
  }
  if (s->n == 0)
    printf("every node holds the note: no get needed a lookup\n");
}

static void print_summary(const char *what, const sample_set *s) {
  double hm, hp, hx, mm, mp, mx, qm, qp, qx;
  summarize(s->hops, s->n, &hm, &hp, &hx);
  summarize(s->ms, s->n, &mm, &mp, &mx);
  summarize(s->queried, s->n, &qm, &qp, &qx);
  printf("STATS %s n=%zu nodes=%d: hops mean %.2f max %.0f; duration_ms mean "
         "%.1f p50 %.0f max %.0f; queried mean %.1f; timeouts %.0f\n",
         what, s->n, N_NODES, hm, hx, mm, mp, mx, qm, s->timeouts);
}

static void step_h_lookup_stats(void **state) {
  (void)state;
  static sample_set lookups, gets;
  REQUIRE(g.network_up && g.note_ok, "steps a and b");
  memset(&lookups, 0, sizeof lookups);
  memset(&gets, 0, sizeof gets);
  run_lookups(&lookups);
  run_gets(&gets);
  print_summary("lookup", &lookups);
  print_summary("get", &gets);
  g.step_passed = 1;
}

/* ---- e: expiry ------------------------------------------------------- */

/* Puts a note with the smallest TTL the CLI accepts; returns the TTL. */
static long put_short_lived(int n, const char *value, char key[65]) {
  static const char *const ttls[] = {"3", "5", "10", "30", "60"};
  char name[64];
  snprintf(name, sizeof name, "it-ttl-%ld", (long)getpid());
  for (size_t i = 0; i < sizeof ttls / sizeof ttls[0]; i++) {
    int rc = put_note(n, name, value, ttls[i], key);
    if (rc == 0)
      return strtol(ttls[i], NULL, 10);
    CHECK(rc == 2, "put --ttl %s through %d: %s", ttls[i], n, cmd_output());
    printf("put refused --ttl %s as a usage error; trying more\n", ttls[i]);
  }
  fail_msg("put accepts none of --ttl 3..60: %s", cmd_output());
  return -1;
}

/* One expiry round: 1 once every running node's local store and a few
 * network gets no longer return the note. */
static int expired_everywhere(const char *key, const char *value) {
  static const int net_readers[] = {2, 12, 17};
  for (int i = 0; i < N_NODES; i++) {
    if (running(i) && get_value(i, key, value, 1))
      return 0;
  }
  for (size_t i = 0; i < sizeof net_readers / sizeof net_readers[0]; i++) {
    if (running(net_readers[i]) && get_value(net_readers[i], key, value, 0))
      return 0;
  }
  return 1;
}

static void step_e_expiry(void **state) {
  (void)state;
  REQUIRE(g.network_up, "step a");
  const int writer = 5;
  const int readers[] = {5, 14};
  char key[65], value[96];
  snprintf(value, sizeof value, "short-lived note, run %ld", (long)getpid());
  double put_at = it_now();
  long ttl = put_short_lived(writer, value, key);
  printf("put --ttl %ld through node %d took %.2f s\n", ttl, writer,
         g.r.seconds);
  for (size_t i = 0; i < 2; i++) {
    int got = get_value(readers[i], key, value, 0);
    CHECK(got, "get through node %d %.1f s after a put with ttl %ld: "
          "absent: %s", readers[i], it_now() - put_at, ttl, cmd_output());
  }
  double deadline = put_at + (double)ttl + WAIT_S;
  while (!expired_everywhere(key, value)) {
    CHECK(it_now() < deadline, "note with ttl %ld still returned %.0f s "
          "after its put: %s", ttl, it_now() - put_at, cmd_output());
    it_sleep_ms(5 * POLL_MS);
  }
  printf("ttl %ld note gone from all %d nodes' stores and from network gets "
         "%.1f s after the put\n", ttl, N_NODES, it_now() - put_at);
  g.step_passed = 1;
}

/* ---- c: survive the loss of all storers but one --------------------- */

static int hexval(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : 0;
}

/* Marks the nodes holding the note (get --local); returns their count. */
static int find_storers(int storer[N_NODES]) {
  int count = 0;
  printf("storers of %.16s...:", g.note_key);
  for (int i = 0; i < N_NODES; i++) {
    require_alive(i);
    storer[i] = get_value(i, g.note_key, g.note_value, 1);
    count += storer[i];
    if (storer[i])
      printf(" %d", i);
  }
  printf(" (%d of %d)\n", count, N_NODES);
  return count;
}

static int pick_reader(const int storer[N_NODES]) {
  if (!storer[FIRST_READER])
    return FIRST_READER;
  for (int i = N_NODES - 1; i >= 0; i--) {
    if (!storer[i])
      return i;
  }
  return -1;
}

/* xor_less reports whether node |a|'s ID is closer to |key| than |b|'s
 * (hex strings compared digit by digit under XOR). */
static int xor_less(const char *key, int a, int b) {
  for (size_t i = 0; i < 64; i++) {
    int k = hexval(key[i]);
    int da = hexval(g.nodes[a].id[i]) ^ k, db = hexval(g.nodes[b].id[i]) ^ k;
    if (da != db)
      return da < db;
  }
  return 0;
}

/* The storer closest to the key other than the author (whose own copy
 * proves less). A storer further out may hold the note only because some
 * node's view of the k closest differed; the closest one is among the k
 * closest in every view that knows it, so a reader's lookup reaches it
 * even when every other storer is dead. */
static int pick_keeper(const int storer[N_NODES]) {
  int best = -1;
  for (int i = 0; i < N_NODES; i++) {
    if (storer[i] && i != AUTHOR && (best < 0 || xor_less(g.note_key, i, best)))
      best = i;
  }
  return best;
}

static void step_c_storers_killed(void **state) {
  (void)state;
  int storer[N_NODES];
  REQUIRE(g.network_up && g.note_ok, "steps a and b");
  int count = find_storers(storer);
  CHECK(count >= 2, "only %d node(s) store the note: the put was not "
        "replicated", count);
  g.reader = pick_reader(storer);
  g.keeper = pick_keeper(storer);
  CHECK(g.reader >= 0, "all %d nodes store the note: no non-storer to read "
        "through", N_NODES);
  CHECK(g.keeper >= 0, "no storer besides the author");
  printf("killing every storer but node %d; reading through node %d\n",
         g.keeper, g.reader);
  for (int i = 0; i < N_NODES; i++) {
    if (storer[i] && i != g.keeper)
      node_kill(i);
  }
  int rc = cli(g.reader, "get", g.note_key, "--json", NULL);
  json_t *root = rc == 0 ? output_json() : NULL;
  int got = root != NULL && json_has_string(root, g.note_value, 3);
  json_decref(root);
  CHECK(got, "get through non-storer %d with only node %d storing: %s",
        g.reader, g.keeper, cmd_output());
  sample_set one;
  memset(&one, 0, sizeof one);
  take_stats(&one, "get --json");
  printf("get through node %d found the last copy in %.2f s\n", g.reader,
         g.r.seconds);
  print_summary("get-after-kills", &one);
  g.partition_ok = 1;
  g.step_passed = 1;
}

/* ---- d: restart ------------------------------------------------------ */

static void step_d_restart(void **state) {
  (void)state;
  char why[32];
  REQUIRE(g.keeper >= 0 && running(g.keeper) && g.reader >= 0 &&
              running(g.reader), "step c (a surviving storer and reader)");
  int n = g.keeper;
  double records_before = status_num(n, "records");
  kill(g.nodes[n].pid, SIGTERM);
  int st = node_wait_stopped(n);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "node %d ended with %s on SIGTERM, expected exit 0", n,
        it_status_text(st, why, sizeof why));
  CHECK(!sanitizer_report_in(n), "node %d: sanitizer report in its log", n);
  printf("node %d exited 0 on SIGTERM (held %.0f records)\n", n,
         records_before);
  node_start(n, g.reader);
  wait_ready(n); /* checks the ID against keygen's */
  double deadline = it_now() + WAIT_S;
  while (!get_value(n, g.note_key, g.note_value, 1)) {
    CHECK(it_now() < deadline, "restarted node %d lost the note: %s", n,
          cmd_output());
    it_sleep_ms(POLL_MS);
  }
  double records_after = status_num(n, "records");
  CHECK(records_after >= records_before, "node %d held %.0f records, %.0f "
        "after restart", n, records_before, records_after);
  printf("node %d restarted: same ID, note intact, %.0f records\n", n,
         records_after);
  g.step_passed = 1;
}

/* ---- f: refused records ---------------------------------------------- */

/* Finds "word VALUE" in the wire_client output and copies VALUE into
 * |value| (128 bytes). Returns |value|, or NULL if absent. */
static const char *tool_field(const char *word, char value[128]) {
  size_t wl = strlen(word);
  for (const char *p = g.r.out; p != NULL && *p != '\0';) {
    if (strncmp(p, word, wl) == 0 && p[wl] == ' ') {
      size_t n = strcspn(p + wl + 1, "\n");
      if (n >= 128)
        return NULL;
      memcpy(value, p + wl + 1, n);
      value[n] = '\0';
      return value;
    }
    p = strchr(p, '\n');
    p = p != NULL ? p + 1 : NULL;
  }
  return NULL;
}

static void refused_store(int n, const char *mode, int expected) {
  double refused_before = status_num(n, "records_refused");
  CHECK(wire_client(n, mode) == 0, "wire_client %s: %s", mode, cmd_output());
  char status[128], key[128];
  CHECK(tool_field("status", status) != NULL &&
            tool_field("key", key) != NULL &&
            it_is_hex32(key),
        "wire_client %s printed no status/key: %s", mode, cmd_output());
  int code = atoi(status);
  printf("%s STORE answered with status %d (%s)\n", mode, code,
         dht_strerror(code));
  CHECK(code != 0, "node %d accepted a %s record (STORED status 0)", n, mode);
  CHECK(code == expected, "%s record refused with %d, expected %d (%s)", mode,
        code, expected, dht_strerror(expected));
  double deadline = it_now() + WAIT_S, refused = refused_before;
  while ((refused = status_num(n, "records_refused")) <= refused_before)
    CHECK(it_now() < deadline, "records_refused stayed at %.0f after a %s "
          "STORE", refused, mode);
  int rc = cli(n, "get", key, "--local", NULL);
  CHECK(rc == 1, "get --local of the %s record on node %d: want exit 1: %s",
        mode, n, cmd_output());
}

static void step_f_refused_records(void **state) {
  (void)state;
  REQUIRE(g.reader >= 0 && running(g.reader), "a running node from step c");
  refused_store(g.reader, "tamper", DHT_ERR_BAD_SIGNATURE);
  refused_store(g.reader, "wrongkey", DHT_ERR_KEY_RULE);
  require_alive(g.reader);
  g.step_passed = 1;
}

/* ---- g: malformed and replayed datagrams ----------------------------- */

/* The drop counters step g expects to rise, and by how much at least. */
static const struct {
  const char *reason;
  double min_rise;
} expected_drops[] = {
    {"short", 1},       {"oversize", 3}, {"bad_magic", 1},
    {"bad_version", 1}, {"bad_kind", 1}, {"decrypt", 1},
    {"stale_time", 1},  {"puzzle", 1},   {"replay", 1},
};
#define N_EXPECTED_DROPS (sizeof expected_drops / sizeof expected_drops[0])

/* Reads the dropped counters of node |n| into |out| (0 if absent). */
static void read_drops(int n, double out[N_EXPECTED_DROPS]) {
  json_t *st = status_json(n);
  CHECK(st != NULL, "status of node %d: %s", n, cmd_output());
  json_t *dropped = json_object_get(st, "dropped");
  int is_obj = json_is_object(dropped);
  for (size_t i = 0; i < N_EXPECTED_DROPS; i++) {
    json_t *v = is_obj ? json_object_get(dropped, expected_drops[i].reason)
                       : NULL;
    out[i] = json_is_number(v) ? json_number_value(v) : 0;
  }
  json_decref(st);
  CHECK(is_obj, "status --json of node %d has no \"dropped\" object: %s", n,
        cmd_output());
}

/* Number of counters that have not risen enough; names them in |why|. */
static int drops_missing(const double *before, const double *after,
                         char *why, size_t cap) {
  int missing = 0;
  why[0] = '\0';
  for (size_t i = 0; i < N_EXPECTED_DROPS; i++) {
    double rise = after[i] - before[i];
    if (rise >= expected_drops[i].min_rise)
      continue;
    missing++;
    size_t used = strlen(why);
    snprintf(why + used, cap - used, " %s +%.0f (want +%.0f)",
             expected_drops[i].reason, rise, expected_drops[i].min_rise);
  }
  return missing;
}

static void step_g_garbage(void **state) {
  (void)state;
  double before[N_EXPECTED_DROPS], after[N_EXPECTED_DROPS];
  char why[512];
  REQUIRE(g.reader >= 0 && running(g.reader), "a running node from step c");
  int n = g.reader;
  read_drops(n, before);
  int rc = wire_client(n, "garbage");
  char replay_buf[128];
  const char *replayed = tool_field("replay_answered", replay_buf);
  CHECK(rc == 0, "wire_client garbage: node stopped answering PINGs: %s",
        cmd_output());
  CHECK(replayed != NULL && strcmp(replayed, "0") == 0,
        "node %d answered a replayed PING: %s", n, cmd_output());
  require_alive(n);
  double deadline = it_now() + WAIT_S;
  for (;;) {
    read_drops(n, after);
    if (drops_missing(before, after, why, sizeof why) == 0)
      break;
    CHECK(it_now() < deadline, "drop counters of node %d did not rise:%s", n,
          why);
    it_sleep_ms(POLL_MS);
  }
  printf("node %d alive; drops:", n);
  for (size_t i = 0; i < N_EXPECTED_DROPS; i++)
    printf(" %s +%.0f", expected_drops[i].reason, after[i] - before[i]);
  printf("\n");
  g.step_passed = 1;
}

/* ---- i: clean shutdown ----------------------------------------------- */

static void step_i_clean_shutdown(void **state) {
  (void)state;
  char why[32];
  int stopped = 0, bad = 0;
  REQUIRE(g.network_up, "step a");
  for (int i = 0; i < N_NODES; i++) {
    if (running(i))
      kill(g.nodes[i].pid, SIGTERM);
  }
  for (int i = 0; i < N_NODES; i++) {
    if (!running(i))
      continue;
    int st = node_wait_stopped(i);
    stopped++;
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
                !sanitizer_report_in(i);
    if (!clean) {
      bad++;
      printf("node %d: %s%s on SIGTERM\n", i,
             it_status_text(st, why, sizeof why),
             sanitizer_report_in(i) ? ", sanitizer report in log" : "");
    }
  }
  CHECK(bad == 0, "%d of %d nodes did not shut down cleanly", bad, stopped);
  printf("%d nodes exited 0 on SIGTERM, no sanitizer reports\n", stopped);
  g.step_passed = 1;
}

#define STEP(f) cmocka_unit_test_setup_teardown(f, step_setup, step_teardown)

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], IT_EXEC_FLAG) == 0)
    return it_exec_child(argc, argv);
  ssize_t n = readlink("/proc/self/exe", g.self, sizeof g.self - 1);
  if (n <= 0) {
    fprintf(stderr, "cannot resolve /proc/self/exe\n");
    return 1;
  }
  g.self[n] = '\0';
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest steps[] = {
      STEP(step_a_start_network), STEP(step_b_put_get),
      STEP(step_h_lookup_stats),  STEP(step_e_expiry),
      STEP(step_c_storers_killed), STEP(step_d_restart),
      STEP(step_f_refused_records), STEP(step_g_garbage),
      STEP(step_i_clean_shutdown),
  };
  return cmocka_run_group_tests_name("integration", steps, group_setup,
                                     group_teardown);
}
