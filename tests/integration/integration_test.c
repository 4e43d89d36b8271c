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
 *      (it_step_shutdown, harness.c)
 * A step whose prerequisite failed is skipped, not failed again. Every
 * wait is a bounded poll; on a failure every node's log tail is printed.
 * Teardown SIGKILLs and reaps every child, whatever happened.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <nointrude/dht.h>

#include "harness.h"

#define N_NODES 20
#define DIFFICULTY "8"
#define MIN_CONTACTS 3
#define AUTHOR 3         /* step b writes through this node */
#define FIRST_READER 15  /* and reads through this one first */
#define WAIT_S 30.0      /* bound of every poll loop */
#define POLL_MS 100
#define CLI_TIMEOUT_S 30.0 /* one command; lookups may meet dead nodes */
#define N_LOOKUPS 20
#define N_GETS 5
#define MAX_ARGV 32

static it_net net =
    IT_NET_INIT("integration", N_NODES, WAIT_S, POLL_MS, CLI_TIMEOUT_S);

/* What later steps need from earlier ones. */
static struct {
  char note_key[65];           /* b */
  char note_value[128];
  int note_ok;
  int reader, keeper;          /* c: a non-storer, the one storer left */
  int partition_ok;
} g;

/* ---- commands -------------------------------------------------------- */

/* Runs `nointrude VERB --data-dir DIR ARGS... NULL` for node |n|. */
static int cli(int n, const char *verb, ...) {
  char *argv[MAX_ARGV];
  size_t k = 0;
  argv[k++] = (char *)NI_BIN;
  argv[k++] = (char *)verb;
  argv[k++] = (char *)"--data-dir";
  argv[k++] = net.nodes[n].dir;
  va_list ap;
  va_start(ap, verb);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && k + 1 < MAX_ARGV)
    argv[k++] = (char *)a;
  va_end(ap);
  argv[k] = NULL;
  return it_cmd(&net, CLI_TIMEOUT_S, argv);
}

/* ---- JSON ------------------------------------------------------------ */

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

/* status --json field |name| of node |n|, failing the step if absent. */
static double status_num(int n, const char *name) {
  json_t *st = it_status_json(&net, n);
  double v = -1;
  IT_CHECK(st != NULL, "status of node %d failed: %s", n, it_cmd_output(&net));
  int found = json_num(st, name, &v);
  json_decref(st);
  IT_CHECK(found == 0, "status --json of node %d has no number \"%s\": %s", n,
           name, it_cmd_output(&net));
  return v;
}

/* ---- notes ----------------------------------------------------------- */

/* get [--local] of |key| through node |n|: 1 if it printed |value|, 0 if
 * it exited 1 (absent); anything else fails the step. */
static int get_value(int n, const char *key, const char *value, int local) {
  int rc = local ? cli(n, "get", key, "--local", NULL) : cli(n, "get", key,
                                                              NULL);
  IT_CHECK(rc == 0 || rc == 1, "get through node %d: %s", n,
           it_cmd_output(&net));
  if (rc == 1)
    return 0;
  IT_CHECK(strcmp(it_trim(net.r.out), value) == 0,
           "get through node %d returned \"%s\", expected \"%s\"", n, net.r.out,
           value);
  return 1;
}

/* put NAME VALUE --ttl TTL through node |n|; the key goes to |key|. */
static int put_note(int n, const char *name, const char *value,
                    const char *ttl, char key[65]) {
  int rc = cli(n, "put", name, value, "--ttl", ttl, NULL);
  if (rc != 0)
    return rc;
  it_trim(net.r.out);
  char *first_line = strtok(net.r.out, "\n");
  IT_CHECK(first_line != NULL && it_is_hex32(first_line),
           "put printed \"%s\", not a 64-digit hex key", net.r.out);
  strcpy(key, first_line);
  return 0;
}

/* ---- fixtures -------------------------------------------------------- */

static int group_setup(void **state) {
  (void)state;
  g.reader = g.keeper = -1;
  return it_net_setup(&net, "/tmp/ni-it-XXXXXX", 7, 0);
}

static int group_teardown(void **state) {
  (void)state;
  it_net_teardown(&net);
  return 0;
}

/* ---- a: start the network -------------------------------------------- */

/* What `nointrude node` gets besides --data-dir, --listen, --bootstrap. */
static const char *const node_args[] = {"--difficulty", DIFFICULTY, NULL};

/* Reads node |n|'s contacts into *contacts; 0 if it answered. */
static int poll_contacts(int n, long *contacts) {
  json_t *st = it_status_json(&net, n);
  double c;
  if (st == NULL)
    return -1;
  json_t *id = json_object_get(st, "id");
  int same = json_is_string(id) &&
             strcasecmp(json_string_value(id), net.nodes[n].id) == 0;
  int found = json_num(st, "contacts", &c);
  json_decref(st);
  IT_CHECK(same, "node %d status id differs from its keygen ID: %s", n,
           it_cmd_output(&net));
  IT_CHECK(found == 0, "node %d status has no \"contacts\": %s", n,
           it_cmd_output(&net));
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
      it_require_alive(&net, i);
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
  IT_CHECK(cli(n, "peers", "--json", NULL) == 0, "peers: %s",
           it_cmd_output(&net));
  json_t *root = it_output_json(&net);
  json_t *list = json_object_get(root, "peers");
  size_t i, bad = 0;
  json_t *p;
  json_array_foreach(list, i, p) {
    bad += !json_is_string(json_object_get(p, "id")) ||
           !json_is_string(json_object_get(p, "address"));
  }
  long count = json_is_array(list) ? (long)json_array_size(list) : -1;
  json_decref(root);
  IT_CHECK(count >= MIN_CONTACTS && bad == 0,
           "peers --json of node %d: %ld peers (status said %ld), %zu without "
           "id/address: %s",
           n, count, contacts, bad, it_cmd_output(&net));
  printf("peers --json of node %d lists %ld contacts\n", n, count);
}

static void step_a_start_network(void **state) {
  (void)state;
  long contacts[N_NODES];
  double start = it_now();
  for (int i = 0; i < N_NODES; i++) {
    it_keygen(&net, i, DIFFICULTY);
    contacts[i] = -1;
  }
  it_node_start(&net, 0, -1, node_args);
  it_wait_ready(&net, 0);
  for (int i = 1; i < N_NODES; i++)
    it_node_start(&net, i, 0, node_args);
  wait_min_contacts(contacts);
  /* A second look: the counts grow as lookups run; report them all. */
  for (int i = 0; i < N_NODES; i++)
    poll_contacts(i, &contacts[i]);
  print_contacts("contacts per node", contacts);
  check_peers(0, contacts[0]);
  printf("network of %d nodes up in %.1f s\n", N_NODES, it_now() - start);
  net.network_up = 1;
  net.step_passed = 1;
}

/* ---- b: put and get -------------------------------------------------- */

static void step_b_put_get(void **state) {
  (void)state;
  static const int readers[] = {FIRST_READER, 0, 7, 19};
  IT_REQUIRE(&net, net.network_up, "step a (network up)");
  char name[64];
  snprintf(name, sizeof name, "it-note-%ld", (long)getpid());
  snprintf(g.note_value, sizeof g.note_value,
           "hello from node %d, integration run %ld", AUTHOR, (long)getpid());
  int rc = put_note(AUTHOR, name, g.note_value, "3600", g.note_key);
  IT_CHECK(rc == 0, "put through node %d: %s", AUTHOR, it_cmd_output(&net));
  printf("put through node %d: key %s (%.2f s)\n", AUTHOR, g.note_key,
         net.r.seconds);
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    int n = readers[i];
    int got = get_value(n, g.note_key, g.note_value, 0);
    IT_CHECK(got, "get through node %d: not found: %s", n, it_cmd_output(&net));
    printf("get through node %d: value matches (%.2f s)\n", n, net.r.seconds);
  }
  g.note_ok = 1;
  net.step_passed = 1;
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
  json_t *root = it_output_json(&net);
  IT_CHECK(root != NULL, "%s: output is not JSON: %s", what,
           it_cmd_output(&net));
  double hops, ms, queried, timeouts;
  int ok = json_num(root, "hops", &hops) == 0 &&
           json_num(root, "duration_ms", &ms) == 0 &&
           json_num(root, "queried", &queried) == 0 &&
           json_num(root, "timeouts", &timeouts) == 0;
  json_decref(root);
  IT_CHECK(ok, "%s: JSON lacks hops/duration_ms/queried/timeouts: %s", what,
           it_cmd_output(&net));
  s->hops[s->n] = hops;
  s->ms[s->n] = ms;
  s->queried[s->n] = queried;
  s->timeouts += timeouts;
  s->n++;
}

static void random_id(char hex[65]) {
  uint8_t raw[32];
  FILE *f = fopen("/dev/urandom", "rb");
  IT_CHECK(f != NULL && fread(raw, 1, sizeof raw, f) == sizeof raw,
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
    IT_CHECK(cli(n, "lookup", id, "--json", NULL) == 0, "lookup through %d: %s",
             n, it_cmd_output(&net));
    json_t *root = it_output_json(&net);
    long found = root != NULL ? json_first_array_len(root) : -1;
    json_decref(root);
    IT_CHECK(found > 0, "lookup through %d found no node list: %s", n,
             it_cmd_output(&net));
    take_stats(s, "lookup --json");
  }
}

/* get --json through up to N_GETS nodes without a local copy (a storer
 * answers from its own store: 0 hops, nothing to measure). */
static void run_gets(sample_set *s) {
  for (int n = N_NODES - 1; n >= 0 && s->n < N_GETS; n--) {
    if (get_value(n, g.note_key, g.note_value, 1))
      continue;
    IT_CHECK(cli(n, "get", g.note_key, "--json", NULL) == 0,
             "get --json through %d: %s", n, it_cmd_output(&net));
    json_t *root = it_output_json(&net);
    int has = root != NULL && json_has_string(root, g.note_value, 3);
    json_decref(root);
    IT_CHECK(has, "get --json through %d: value missing: %s", n,
             it_cmd_output(&net));
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
  IT_REQUIRE(&net, net.network_up && g.note_ok, "steps a and b");
  memset(&lookups, 0, sizeof lookups);
  memset(&gets, 0, sizeof gets);
  run_lookups(&lookups);
  run_gets(&gets);
  print_summary("lookup", &lookups);
  print_summary("get", &gets);
  net.step_passed = 1;
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
    IT_CHECK(rc == 2, "put --ttl %s through %d: %s", ttls[i], n,
             it_cmd_output(&net));
    printf("put refused --ttl %s as a usage error; trying more\n", ttls[i]);
  }
  fail_msg("put accepts none of --ttl 3..60: %s", it_cmd_output(&net));
  return -1;
}

/* One expiry round: 1 once every running node's local store and a few
 * network gets no longer return the note. */
static int expired_everywhere(const char *key, const char *value) {
  static const int net_readers[] = {2, 12, 17};
  for (int i = 0; i < N_NODES; i++) {
    if (it_running(&net, i) && get_value(i, key, value, 1))
      return 0;
  }
  for (size_t i = 0; i < sizeof net_readers / sizeof net_readers[0]; i++) {
    if (it_running(&net, net_readers[i]) &&
        get_value(net_readers[i], key, value, 0))
      return 0;
  }
  return 1;
}

static void step_e_expiry(void **state) {
  (void)state;
  IT_REQUIRE(&net, net.network_up, "step a");
  const int writer = 5;
  const int readers[] = {5, 14};
  char key[65], value[96];
  snprintf(value, sizeof value, "short-lived note, run %ld", (long)getpid());
  double put_at = it_now();
  long ttl = put_short_lived(writer, value, key);
  printf("put --ttl %ld through node %d took %.2f s\n", ttl, writer,
         net.r.seconds);
  for (size_t i = 0; i < 2; i++) {
    int got = get_value(readers[i], key, value, 0);
    IT_CHECK(got,
             "get through node %d %.1f s after a put with ttl %ld: "
             "absent: %s",
             readers[i], it_now() - put_at, ttl, it_cmd_output(&net));
  }
  double deadline = put_at + (double)ttl + WAIT_S;
  while (!expired_everywhere(key, value)) {
    IT_CHECK(it_now() < deadline,
             "note with ttl %ld still returned %.0f s "
             "after its put: %s",
             ttl, it_now() - put_at, it_cmd_output(&net));
    it_sleep_ms(5 * POLL_MS);
  }
  printf("ttl %ld note gone from all %d nodes' stores and from network gets "
         "%.1f s after the put\n", ttl, N_NODES, it_now() - put_at);
  net.step_passed = 1;
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
    it_require_alive(&net, i);
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
    int da = hexval(net.nodes[a].id[i]) ^ k,
        db = hexval(net.nodes[b].id[i]) ^ k;
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
  IT_REQUIRE(&net, net.network_up && g.note_ok, "steps a and b");
  int count = find_storers(storer);
  IT_CHECK(count >= 2,
           "only %d node(s) store the note: the put was not "
           "replicated",
           count);
  g.reader = pick_reader(storer);
  g.keeper = pick_keeper(storer);
  IT_CHECK(g.reader >= 0,
           "all %d nodes store the note: no non-storer to read "
           "through",
           N_NODES);
  IT_CHECK(g.keeper >= 0, "no storer besides the author");
  printf("killing every storer but node %d; reading through node %d\n",
         g.keeper, g.reader);
  for (int i = 0; i < N_NODES; i++) {
    if (storer[i] && i != g.keeper)
      it_node_kill(&net, i);
  }
  int rc = cli(g.reader, "get", g.note_key, "--json", NULL);
  json_t *root = rc == 0 ? it_output_json(&net) : NULL;
  int got = root != NULL && json_has_string(root, g.note_value, 3);
  json_decref(root);
  IT_CHECK(got, "get through non-storer %d with only node %d storing: %s",
           g.reader, g.keeper, it_cmd_output(&net));
  sample_set one;
  memset(&one, 0, sizeof one);
  take_stats(&one, "get --json");
  printf("get through node %d found the last copy in %.2f s\n", g.reader,
         net.r.seconds);
  print_summary("get-after-kills", &one);
  g.partition_ok = 1;
  net.step_passed = 1;
}

/* ---- d: restart ------------------------------------------------------ */

static void step_d_restart(void **state) {
  (void)state;
  IT_REQUIRE(&net,
             g.keeper >= 0 && it_running(&net, g.keeper) && g.reader >= 0 &&
                 it_running(&net, g.reader),
             "step c (a surviving storer and reader)");
  int n = g.keeper;
  double records_before = status_num(n, "records");
  it_node_term(&net, n);
  printf("node %d exited 0 on SIGTERM (held %.0f records)\n", n,
         records_before);
  it_node_start(&net, n, g.reader, node_args);
  it_wait_ready(&net, n); /* checks the ID against keygen's */
  double deadline = it_now() + WAIT_S;
  while (!get_value(n, g.note_key, g.note_value, 1)) {
    IT_CHECK(it_now() < deadline, "restarted node %d lost the note: %s", n,
             it_cmd_output(&net));
    it_sleep_ms(POLL_MS);
  }
  double records_after = status_num(n, "records");
  IT_CHECK(records_after >= records_before,
           "node %d held %.0f records, %.0f "
           "after restart",
           n, records_before, records_after);
  printf("node %d restarted: same ID, note intact, %.0f records\n", n,
         records_after);
  net.step_passed = 1;
}

/* ---- f: refused records ---------------------------------------------- */

/* Finds "word VALUE" in the wire_client output and copies VALUE into
 * |value| (128 bytes). Returns |value|, or NULL if absent. */
static const char *tool_field(const char *word, char value[128]) {
  size_t wl = strlen(word);
  for (const char *p = net.r.out; p != NULL && *p != '\0';) {
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
  IT_CHECK(it_wire_client(&net, n, DIFFICULTY, mode) == 0, "wire_client %s: %s",
           mode, it_cmd_output(&net));
  char status[128], key[128];
  IT_CHECK(tool_field("status", status) != NULL &&
               tool_field("key", key) != NULL && it_is_hex32(key),
           "wire_client %s printed no status/key: %s", mode,
           it_cmd_output(&net));
  int code = atoi(status);
  printf("%s STORE answered with status %d (%s)\n", mode, code,
         dht_strerror(code));
  IT_CHECK(code != 0, "node %d accepted a %s record (STORED status 0)", n,
           mode);
  IT_CHECK(code == expected, "%s record refused with %d, expected %d (%s)",
           mode, code, expected, dht_strerror(expected));
  double deadline = it_now() + WAIT_S, refused = refused_before;
  while ((refused = status_num(n, "records_refused")) <= refused_before)
    IT_CHECK(it_now() < deadline,
             "records_refused stayed at %.0f after a %s "
             "STORE",
             refused, mode);
  int rc = cli(n, "get", key, "--local", NULL);
  IT_CHECK(rc == 1, "get --local of the %s record on node %d: want exit 1: %s",
           mode, n, it_cmd_output(&net));
}

static void step_f_refused_records(void **state) {
  (void)state;
  IT_REQUIRE(&net, g.reader >= 0 && it_running(&net, g.reader),
             "a running node from step c");
  refused_store(g.reader, "tamper", DHT_ERR_BAD_SIGNATURE);
  refused_store(g.reader, "wrongkey", DHT_ERR_KEY_RULE);
  it_require_alive(&net, g.reader);
  net.step_passed = 1;
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
  json_t *st = it_status_json(&net, n);
  IT_CHECK(st != NULL, "status of node %d: %s", n, it_cmd_output(&net));
  json_t *dropped = json_object_get(st, "dropped");
  int is_obj = json_is_object(dropped);
  for (size_t i = 0; i < N_EXPECTED_DROPS; i++) {
    json_t *v = is_obj ? json_object_get(dropped, expected_drops[i].reason)
                       : NULL;
    out[i] = json_is_number(v) ? json_number_value(v) : 0;
  }
  json_decref(st);
  IT_CHECK(is_obj, "status --json of node %d has no \"dropped\" object: %s", n,
           it_cmd_output(&net));
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
  IT_REQUIRE(&net, g.reader >= 0 && it_running(&net, g.reader),
             "a running node from step c");
  int n = g.reader;
  read_drops(n, before);
  int rc = it_wire_client(&net, n, DIFFICULTY, "garbage");
  char replay_buf[128];
  const char *replayed = tool_field("replay_answered", replay_buf);
  IT_CHECK(rc == 0, "wire_client garbage: node stopped answering PINGs: %s",
           it_cmd_output(&net));
  IT_CHECK(replayed != NULL && strcmp(replayed, "0") == 0,
           "node %d answered a replayed PING: %s", n, it_cmd_output(&net));
  it_require_alive(&net, n);
  double deadline = it_now() + WAIT_S;
  for (;;) {
    read_drops(n, after);
    if (drops_missing(before, after, why, sizeof why) == 0)
      break;
    IT_CHECK(it_now() < deadline, "drop counters of node %d did not rise:%s", n,
             why);
    it_sleep_ms(POLL_MS);
  }
  printf("node %d alive; drops:", n);
  for (size_t i = 0; i < N_EXPECTED_DROPS; i++)
    printf(" %s +%.0f", expected_drops[i].reason, after[i] - before[i]);
  printf("\n");
  net.step_passed = 1;
}

int main(int argc, char **argv) {
  const struct CMUnitTest steps[] = {
      IT_STEP(step_a_start_network, &net),   IT_STEP(step_b_put_get, &net),
      IT_STEP(step_h_lookup_stats, &net),    IT_STEP(step_e_expiry, &net),
      IT_STEP(step_c_storers_killed, &net),  IT_STEP(step_d_restart, &net),
      IT_STEP(step_f_refused_records, &net), IT_STEP(step_g_garbage, &net),
      IT_STEP(it_step_shutdown, &net),
  };
  int rc = it_prologue(&net, argc, argv);
  if (rc >= 0)
    return rc; /* the exec wrapper's */
  return cmocka_run_group_tests_name("integration", steps, group_setup,
                                     group_teardown);
}
