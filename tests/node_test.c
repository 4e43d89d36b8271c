/*
 * Tests for the DHT engine as a whole: many dht_node instances in one
 * process over the in-memory network of net_harness.h (datagrams delayed
 * 5-25 ms, a virtual clock and a seeded generator, so every run is the
 * same; nodes at 10.x.y.1, a distinct /16 each; no sockets). A "raw
 * client" builds datagrams by hand (wire.h) to probe the inbound
 * pipeline: tampered records, replays, garbage, floods.
 *
 * Every loop is bounded in steps and in virtual time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_harness.h"
#include "node.h"
#include "util.h"
#include "wire.h"

#define MAXN 256
#define DIFFICULTY 4
#define K 8

/* ---- the simulated network ------------------------------------------- */

/* The harness network; its user is the simnode array. */
typedef nh_net net;

/* What the env hooks of one node saw (nh_node.user). */
typedef struct simnode {
  unsigned puts, dels; /* persistence hook calls */
  int fail_puts;       /* make store_put fail */
  uint8_t put_slot[DHT_KEY_LEN], del_slot[DHT_KEY_LEN]; /* the latest */
  uint8_t put_key[DHT_KEY_LEN];
  /* app messages received (env.app_message) */
  unsigned apps;
  uint8_t app_msg[DHT_APP_MAX];
  size_t app_len;
  dht_contact app_from;
  int app_status;  /* what the hook answers */
  int app_forward; /* >= 0: the hook forwards the payload to that node */
} simnode;

static simnode *sim(const net *w, int i) { return w->nodes[i].user; }

static int env_put(void *user, const uint8_t key[DHT_KEY_LEN],
                   const uint8_t slot[DHT_KEY_LEN], const uint8_t *rec,
                   size_t len) {
  simnode *s = ((nh_node *)user)->user;
  (void)rec, (void)len;
  if (s->fail_puts) return -1;
  s->puts++;
  memcpy(s->put_key, key, DHT_KEY_LEN);
  memcpy(s->put_slot, slot, DHT_KEY_LEN);
  return 0;
}

static int env_app(void *user, dht_time now, const dht_contact *from,
                   const uint8_t *msg, size_t len);

static int env_del(void *user, const uint8_t key[DHT_KEY_LEN],
                   const uint8_t slot[DHT_KEY_LEN]) {
  simnode *s = ((nh_node *)user)->user;
  (void)key;
  s->dels++;
  memcpy(s->del_slot, slot, DHT_KEY_LEN);
  return 0;
}

/* The node that gets no app_message hook in the next net_new, or -1. */
static int no_app_node = -1;

static net *net_new(const dht_config *cfg, int n, uint64_t seed) {
  net *w = nh_new(n, seed);
  simnode *sims = calloc((size_t)n, sizeof *sims);
  assert_non_null(sims);
  w->user = sims;
  w->cfg = *cfg;
  for (int i = 0; i < n; i++) {
    nh_node *s = &w->nodes[i];
    nh_identity(w, &s->ident, DIFFICULTY);
    dht_env env = {.user = s,
                   .random = nh_random,
                   .log = nh_log,
                   .store_put = env_put,
                   .store_del = env_del,
                   .app_message = i == no_app_node ? NULL : env_app};
    sims[i].app_forward = -1;
    s->user = &sims[i];
    nh_start(w, i, cfg, &env);
    nh_touch(w, i);
  }
  return w;
}

static void net_free(net *w) {
  free(w->user);
  nh_free(w);
}

static void test_config(dht_config *cfg, unsigned paths) {
  dht_config_default(cfg);
  cfg->k = K;
  cfg->difficulty = DIFFICULTY;
  cfg->disjoint_paths = paths;
}

/* Node 0 is the bootstrap node; the others join through it, 200 ms apart,
 * then the network settles. */
static net *net_joined_cfg(const dht_config *cfg, int n, uint64_t seed) {
  net *w = net_new(cfg, n, seed);
  nh_join_all(w);
  return w;
}

static net *net_joined(int n, unsigned paths, uint64_t seed) {
  dht_config cfg;
  test_config(&cfg, paths);
  return net_joined_cfg(&cfg, n, seed);
}

/* ---- operation results ------------------------------------------------ */

typedef struct lres {
  int done, status;
  size_t n;
  dht_contact c[DHT_K_MAX];
  dht_lookup_stats st;
} lres;

static void on_lookup(void *arg, int status, const dht_contact *c, size_t n,
                      const dht_lookup_stats *st) {
  lres *r = arg;
  assert_false(r->done); /* exactly once */
  r->done = 1;
  r->status = status;
  r->n = n;
  memcpy(r->c, c, n * sizeof *c);
  r->st = *st;
}

typedef struct gres {
  int done, status;
  uint8_t bytes[DHT_MAX_RECORD];
  size_t len;
  uint64_t seq;
  dht_lookup_stats st;
} gres;

static void on_get(void *arg, int status, const dht_record *rec,
                   const uint8_t *bytes, size_t len,
                   const dht_lookup_stats *st) {
  gres *r = arg;
  assert_false(r->done);
  r->done = 1;
  r->status = status;
  r->st = *st;
  if (status == 0) {
    assert_non_null(rec);
    assert_true(len <= sizeof r->bytes);
    memcpy(r->bytes, bytes, len);
    r->len = len;
    r->seq = rec->seq;
  } else {
    assert_null(rec);
  }
}

typedef struct pres {
  int done, status;
  unsigned stored;
  dht_lookup_stats st;
} pres;

static void on_put(void *arg, int status, unsigned stored,
                   const dht_lookup_stats *st) {
  pres *r = arg;
  assert_false(r->done);
  r->done = 1;
  r->status = status;
  r->stored = stored;
  r->st = *st;
}

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t *sort_target;
static int by_dist(const void *a, const void *b) {
  return dht_id_cmp_dist(sort_target, a, b);
}

/* The true K closest node IDs to |target| among live nodes except |skip|. */
static size_t brute_closest(const net *w, const uint8_t *target, int skip,
                            uint8_t out[][DHT_ID_LEN]) {
  static uint8_t all[MAXN][DHT_ID_LEN];
  size_t n = 0;
  for (int i = 0; i < w->n; i++)
    if (i != skip && w->nodes[i].alive)
      memcpy(all[n++], w->nodes[i].ident.id, DHT_ID_LEN);
  sort_target = target;
  qsort(all, n, DHT_ID_LEN, by_dist);
  size_t m = n < K ? n : K;
  memcpy(out, all, m * DHT_ID_LEN);
  return m;
}

static size_t build_note(const nc_identity *ident, const char *name,
                         const char *value, uint64_t now_s, uint64_t ttl,
                         uint64_t seq, dht_record *rec, uint8_t *out) {
  static uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  size_t len;
  assert_int_equal(dht_note_build(rec, payload, sizeof payload, ident,
                                  (const uint8_t *)name, strlen(name),
                                  (const uint8_t *)value, strlen(value), now_s,
                                  ttl, seq),
                   0);
  assert_int_equal(dht_record_encode(rec, out, DHT_MAX_RECORD, &len), 0);
  return len;
}

static size_t holders(const net *w, const uint8_t key[DHT_KEY_LEN], int *out) {
  size_t n = 0;
  for (int i = 0; i < w->n; i++)
    if (w->nodes[i].alive &&
        dht_node_local_get(w->nodes[i].dht, key, NULL, NULL) > 0)
      out[n++] = i;
  return n;
}

static dht_stats stats_of(const net *w, int i) {
  dht_stats st;
  dht_node_stats(w->nodes[i].dht, &st);
  return st;
}

/* Runs |count| lookups of random targets from random nodes and checks
 * each against brute force. Returns the number of exact matches of the
 * whole K-list and accumulates hops and requests. */
static int lookups_exact(net *w, int count, double *hops, double *queried,
                         int *closest_found) {
  int exact = 0;
  *hops = *queried = 0;
  *closest_found = 0;
  for (int t = 0; t < count; t++) {
    uint8_t target[DHT_ID_LEN], want[K][DHT_ID_LEN];
    int from = (int)(nh_rand(w) % (uint64_t)w->n);
    lres r;
    memset(&r, 0, sizeof r);
    nh_rand_fill(w, target, sizeof target);
    assert_int_equal(
        dht_node_lookup(w->nodes[from].dht, w->now, target, on_lookup, &r), 0);
    nh_touch(w, from);
    nh_wait(w, &r.done, 60 * DHT_SEC);
    assert_true(r.done);
    assert_int_equal(r.status, 0);
    size_t m = brute_closest(w, target, from, want);
    assert_int_equal(r.n, m);
    int same = 1;
    for (size_t j = 0; j < m; j++)
      same &= memcmp(r.c[j].id, want[j], DHT_ID_LEN) == 0;
    exact += same;
    *closest_found += memcmp(r.c[0].id, want[0], DHT_ID_LEN) == 0;
    *hops += r.st.hops;
    *queried += r.st.queried;
    assert_true(r.st.responded >= m);
    assert_true(r.st.duration > 0);
  }
  *hops /= count;
  *queried /= count;
  return exact;
}

static void put_and_wait(net *w, int who, const uint8_t *bytes, size_t len,
                         pres *p) {
  memset(p, 0, sizeof *p);
  assert_int_equal(
      dht_node_put(w->nodes[who].dht, w->now, bytes, len, on_put, p), 0);
  nh_touch(w, who);
  nh_wait(w, &p->done, 60 * DHT_SEC);
  assert_true(p->done);
}

static void get_and_wait(net *w, int who, const uint8_t key[DHT_KEY_LEN],
                         gres *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(dht_node_get(w->nodes[who].dht, w->now, key, on_get, g), 0);
  nh_touch(w, who);
  nh_wait(w, &g->done, 120 * DHT_SEC);
  assert_true(g->done);
}

/* Node |who| puts a note of its own (|name| = |value|, seq 1, |ttl|
 * seconds), encoded into |bytes| (|rec| describes it), and the put
 * succeeds. Returns the encoded length. */
static size_t put_own_note(net *w, int who, const char *name, const char *value,
                           uint64_t ttl, dht_record *rec, uint8_t *bytes,
                           pres *p) {
  size_t len = build_note(&w->nodes[who].ident, name, value, w->now / DHT_SEC,
                          ttl, 1, rec, bytes);
  put_and_wait(w, who, bytes, len, p);
  assert_int_equal(p->status, 0);
  return len;
}

/* ---- joining and lookups ---------------------------------------------- */

static void test_bootstrap_50(void **state) {
  (void)state;
  net *w = net_joined(50, 1, 1);
  size_t min = SIZE_MAX, sum = 0;
  for (int i = 0; i < w->n; i++) {
    dht_stats st = stats_of(w, i);
    if (st.contacts < min) min = st.contacts;
    sum += st.contacts;
    /* the join was a clean run: nothing dropped on an honest network */
    for (int d = 0; d < DHT_DROP_COUNT; d++)
      assert_int_equal(st.dropped[d], 0);
  }
  print_message("bootstrap 50: contacts per node min %zu avg %.1f\n", min,
                (double)sum / w->n);
  assert_true(min >= K);
  /* Nodes know their own neighbourhood: each at least half of its K
   * closest, nearly all of them on the whole. (Not all: a full bucket
   * keeps its old contacts, which need not be the closest.) */
  size_t known = 0;
  for (int i = 0; i < w->n; i++) {
    uint8_t want[K][DHT_ID_LEN];
    dht_contact c[MAXN];
    size_t m = brute_closest(w, w->nodes[i].ident.id, i, want);
    size_t n = dht_node_contacts(w->nodes[i].dht, c, MAXN);
    size_t found = 0;
    for (size_t j = 0; j < m; j++)
      for (size_t x = 0; x < n; x++)
        found += memcmp(c[x].id, want[j], DHT_ID_LEN) == 0;
    assert_true(found >= m / 2);
    known += found;
  }
  print_message("bootstrap 50: %.1f%% of the K closest known\n",
                100.0 * (double)known / (w->n * K));
  assert_true(known >= (size_t)w->n * K * 9 / 10);
  net_free(w);
}

/* A PROBE that goes unanswered is repeated: the bootstrap node is down
 * for the first one and back for the second. */
static void test_bootstrap_retry(void **state) {
  dht_config cfg;
  (void)state;
  test_config(&cfg, 1);
  net *w = net_new(&cfg, 3, 19);
  assert_int_equal(
      dht_node_bootstrap(w->nodes[1].dht, w->now, &w->nodes[0].addr), 0);
  nh_touch(w, 1);
  nh_kill(w, 0);
  nh_run(w, 500 * DHT_MS);
  assert_int_equal(stats_of(w, 1).contacts, 0);
  w->nodes[0].alive = 1;
  nh_touch(w, 0);
  nh_run(w, 5 * DHT_SEC);
  assert_int_equal(stats_of(w, 1).contacts, 1);
  assert_int_equal(stats_of(w, 0).contacts, 1);
  /* Loss of the PING (or PONG) that follows the PROBE_REPLY: the node
   * starts over. Node 0 answers PROBEs, but its first PONG is lost. */
  {
    net *x = net_new(&cfg, 2, 20);
    assert_int_equal(
        dht_node_bootstrap(x->nodes[1].dht, x->now, &x->nodes[0].addr), 0);
    nh_touch(x, 1);
    /* Deliver until node 0 has sent its PONG, then drop it. */
    for (int guard = 0; guard < 100 && stats_of(x, 0).requests_in < 2;
         guard++)
      nh_step(x, x->now + DHT_SEC);
    assert_int_equal(stats_of(x, 0).requests_in, 2); /* PROBE, PING */
    assert_int_equal(x->n_heap, 1);
    nh_drop_next(x);
    nh_run(x, 10 * DHT_SEC);
    assert_int_equal(stats_of(x, 1).contacts, 1);
    net_free(x);
  }
  /* A bootstrap that never gets an answer gives up after three PROBEs. */
  dht_addr nowhere = nh_addr(200);
  uint64_t sent = w->sent;
  assert_int_equal(dht_node_bootstrap(w->nodes[2].dht, w->now, &nowhere), 0);
  nh_touch(w, 2);
  nh_run(w, 60 * DHT_SEC);
  assert_int_equal(w->sent - sent, DHT_BOOT_TRIES);
  assert_int_equal(w->nodes[2].dht->boot[0].sent, DHT_TIME_NONE);
  assert_int_equal(w->nodes[2].warnings, 1); /* "no answer" */
  net_free(w);
}

static void test_lookup_true_closest(void **state) {
  double hops, queried;
  int first;
  (void)state;
  net *w = net_joined(50, 1, 2);
  int exact = lookups_exact(w, 30, &hops, &queried, &first);
  print_message("lookup n=50 d=1: exact %d/30 hops %.2f requests %.1f\n",
                exact, hops, queried);
  assert_int_equal(exact, 30);
  net_free(w);
}

/* Figures for the report at 100 and 200 nodes; every lookup must still
 * return the true K closest. */
static void test_lookup_larger(void **state) {
  (void)state;
  const int sizes[] = {100, 200};
  for (size_t s = 0; s < 2; s++) {
    double hops, queried;
    int first;
    net *w = net_joined(sizes[s], 1, 3 + s);
    uint64_t before = w->sent;
    int exact = lookups_exact(w, 30, &hops, &queried, &first);
    print_message("lookup n=%d d=1: exact %d/30 hops %.2f requests %.1f "
                  "(datagrams %.1f per lookup)\n",
                  sizes[s], exact, hops, queried,
                  (double)(w->sent - before) / 30);
    assert_int_equal(exact, 30);
    size_t mem = 0;
    for (int i = 0; i < w->n; i++) mem += dht_node_mem(w->nodes[i].dht);
    print_message("memory n=%d: %.1f KiB per node\n", sizes[s],
                  (double)mem / w->n / 1024);
    net_free(w);
  }
}

/* S/Kademlia: d = 4 disjoint paths. Lookups find the closest node and
 * nearly all of the K closest; put and get work. */
static void test_disjoint_paths(void **state) {
  double hops, queried;
  int first;
  (void)state;
  net *w = net_joined(50, 4, 5);
  int exact = lookups_exact(w, 30, &hops, &queried, &first);
  print_message("lookup n=50 d=4: exact %d/30 closest %d/30 hops %.2f "
                "requests %.1f\n",
                exact, first, hops, queried);
  assert_int_equal(first, 30);
  assert_true(exact >= 24);
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  pres p;
  size_t len = put_own_note(w, 3, "d4", "paths", 3600, &rec, bytes, &p);
  assert_true(p.stored >= K / 2);
  gres g;
  get_and_wait(w, 40, rec.key, &g);
  assert_int_equal(g.status, 0);
  assert_memory_equal(g.bytes, bytes, len);
  net_free(w);
}

/* ---- records ------------------------------------------------------------ */

static void test_put_get_and_storer_loss(void **state) {
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  pres p;
  gres g;
  int hold[MAXN];
  (void)state;
  net *w = net_joined(50, 1, 6);
  size_t len = put_own_note(w, 7, "hello", "world", 3600, &rec, bytes, &p);
  assert_int_equal(p.stored, K);
  assert_int_equal(stats_of(w, 7).own_records, 1);
  assert_true(sim(w, 7)->puts >= 1); /* persisted before acknowledging */
  /* The storers are exactly the K closest nodes to the key (plus the
   * author, who keeps its own copy). */
  size_t nh = holders(w, rec.key, hold);
  assert_true(nh >= K);
  uint8_t want[K][DHT_ID_LEN];
  brute_closest(w, rec.key, 7, want);
  for (size_t j = 0; j < K; j++) {
    int held = 0;
    for (size_t h = 0; h < nh; h++)
      held |= memcmp(w->nodes[hold[h]].ident.id, want[j], DHT_ID_LEN) == 0;
    assert_true(held);
  }
  /* Get through another node that holds nothing. */
  int reader = 0;
  for (int i = 0; i < w->n; i++) {
    int is_holder = 0;
    for (size_t h = 0; h < nh; h++) is_holder |= hold[h] == i;
    if (!is_holder && i != 7) reader = i;
  }
  get_and_wait(w, reader, rec.key, &g);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.len, len);
  assert_memory_equal(g.bytes, bytes, len);
  print_message("get: hops %u requests %u\n", g.st.hops, g.st.queried);
  /* Kill every storer but one (the author too). */
  int keep = -1;
  for (size_t h = 0; h < nh; h++) {
    if (hold[h] == 7) continue;
    if (keep < 0)
      keep = hold[h];
    else
      nh_kill(w, hold[h]);
  }
  nh_kill(w, 7);
  assert_true(keep >= 0);
  assert_int_equal(holders(w, rec.key, hold), 1);
  get_and_wait(w, reader, rec.key, &g);
  assert_int_equal(g.status, 0);
  assert_memory_equal(g.bytes, bytes, len);
  print_message("get with one storer left: hops %u requests %u timeouts %u\n",
                g.st.hops, g.st.queried, g.st.timeouts);
  net_free(w);
}

/* A newer version replaces the old one on the storers; get returns it. */
static void test_update_seq(void **state) {
  uint8_t v1[DHT_MAX_RECORD], v2[DHT_MAX_RECORD];
  dht_record r1, r2;
  pres p;
  gres g;
  (void)state;
  net *w = net_joined(30, 1, 7);
  uint64_t now_s = w->now / DHT_SEC;
  size_t l1 = build_note(&w->nodes[2].ident, "n", "one", now_s, 3600, 1, &r1, v1);
  size_t l2 = build_note(&w->nodes[2].ident, "n", "two", now_s, 3600, 2, &r2, v2);
  put_and_wait(w, 2, v1, l1, &p);
  assert_int_equal(p.status, 0);
  put_and_wait(w, 2, v2, l2, &p);
  assert_int_equal(p.status, 0);
  assert_int_equal(p.stored, K);
  /* The old version cannot come back. */
  assert_int_equal(dht_node_put(w->nodes[2].dht, w->now, v1, l1, NULL, NULL),
                   DHT_ERR_STALE);
  get_and_wait(w, 20, r2.key, &g);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.seq, 2);
  net_free(w);
}

/* Replication: storers push records to the k closest nodes they know.
 * The author is gone and half of the storers lost their copy; within two
 * replication intervals every one of the K closest holds it again. */
static void test_replication(void **state) {
  dht_config cfg;
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  pres p;
  int hold[MAXN];
  (void)state;
  test_config(&cfg, 1);
  cfg.replicate_interval = 10 * 60 * DHT_SEC;
  net *w = net_joined_cfg(&cfg, 30, 22);
  put_own_note(w, 9, "rep", "licated", 3 * 3600, &rec, bytes, &p);
  nh_kill(w, 9);
  size_t nh = holders(w, rec.key, hold);
  assert_int_equal(nh, K);
  for (size_t h = 0; h < nh; h += 2) {
    dht_store *st = &w->nodes[hold[h]].dht->store;
    size_t first;
    assert_int_equal(dht_store_range(st, rec.key, &first), 1);
    dht_store_remove_at(st, first);
  }
  assert_int_equal(holders(w, rec.key, hold), K / 2);
  nh_run(w, 2 * cfg.replicate_interval + 60 * DHT_SEC);
  /* Each storer pushes to the K closest it knows, so a few nodes just
   * outside the true K closest may get a copy too. */
  nh = holders(w, rec.key, hold);
  print_message("replication: %zu holders\n", nh);
  assert_true(nh >= K && nh <= 2 * K);
  uint8_t want[K][DHT_ID_LEN];
  brute_closest(w, rec.key, -1, want);
  for (size_t j = 0; j < K; j++) {
    int held = 0;
    for (size_t h = 0; h < nh; h++)
      held |= memcmp(w->nodes[hold[h]].ident.id, want[j], DHT_ID_LEN) == 0;
    assert_true(held);
  }
  net_free(w);
}

static void test_record_expires(void **state) {
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  pres p;
  gres g;
  int hold[MAXN];
  (void)state;
  net *w = net_joined(30, 1, 8);
  size_t len = put_own_note(w, 4, "short", "lived", 120, &rec, bytes, &p);
  size_t nh = holders(w, rec.key, hold);
  assert_true(nh >= K);
  get_and_wait(w, 25, rec.key, &g);
  assert_int_equal(g.status, 0);
  nh_run(w, 121 * DHT_SEC);
  assert_int_equal(holders(w, rec.key, hold), 0);
  uint64_t expired = 0;
  unsigned dels = 0;
  for (int i = 0; i < w->n; i++) {
    expired += stats_of(w, i).records_expired;
    dels += sim(w, i)->dels;
    assert_int_equal(stats_of(w, i).records, 0);
  }
  assert_int_equal(expired, nh);
  assert_int_equal(dels, nh);
  assert_int_equal(stats_of(w, 4).own_records, 0);
  get_and_wait(w, 25, rec.key, &g);
  assert_int_equal(g.status, DHT_ERR_NOT_FOUND);
  /* An expired record cannot be restored either. */
  assert_int_equal(
      dht_node_restore_record(w->nodes[4].dht, w->now, bytes, len, 1),
      DHT_ERR_EXPIRED);
  net_free(w);
}

/* Own records are republished; a restored record is verified again. */
static void test_republish_and_restore(void **state) {
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  int hold[MAXN];
  (void)state;
  net *w = net_joined(30, 1, 9);
  size_t len = build_note(&w->nodes[5].ident, "kept", "alive",
                          w->now / DHT_SEC, 3 * 3600, 1, &rec, bytes);
  /* Restore as own (no network yet): verified, not persisted again. */
  assert_int_equal(
      dht_node_restore_record(w->nodes[5].dht, w->now, bytes, len, 1), 0);
  assert_int_equal(sim(w, 5)->puts, 0);
  assert_int_equal(stats_of(w, 5).own_records, 1);
  nh_touch(w, 5);
  assert_int_equal(holders(w, rec.key, hold), 1);
  /* After republish_interval (30 min) the K closest hold it. */
  nh_run(w, 31 * 60 * DHT_SEC);
  assert_true(holders(w, rec.key, hold) >= K);
  /* A tampered copy is refused on restore. */
  bytes[len - 1] ^= 1;
  assert_int_equal(
      dht_node_restore_record(w->nodes[6].dht, w->now, bytes, len, 0),
      DHT_ERR_BAD_SIGNATURE);
  net_free(w);
}

/* ---- the raw client ------------------------------------------------------ */

typedef struct raw {
  nc_identity id;
  uint8_t key[NC_SHARED_LEN]; /* with the victim */
} raw;

static void raw_init(net *w, raw *r, int victim) {
  uint8_t seed[NC_SEED_LEN];
  nh_rand_fill(w, seed, sizeof seed);
  assert_int_equal(nc_identity_from_seed(&r->id, seed, DIFFICULTY, 0, 0), 0);
  assert_int_equal(nc_peer_key(r->key, r->id.sk, r->id.pk,
                               w->nodes[victim].ident.pk),
                   0);
}

/* Seals |m| (stamped |ts_ms|) into |out|; returns its length. */
static size_t raw_seal(net *w, raw *r, dht_msg *m, uint64_t ts_ms,
                       uint8_t *out) {
  uint8_t body[DHT_BODY_MAX], nonce[NC_AEAD_NONCE_LEN];
  size_t blen, len;
  m->ts_ms = ts_ms;
  assert_int_equal(dht_msg_encode(m, body, sizeof body, &blen), 0);
  nh_rand_fill(w, nonce, sizeof nonce);
  assert_int_equal(dht_frame_seal(out, DHT_MAX_DATAGRAM, &len, r->id.pk,
                                  r->id.nonce, nonce, r->key, body, blen),
                   0);
  return len;
}

static void deliver(net *w, int victim, const dht_addr *from,
                    const uint8_t *buf, size_t len) {
  w->n_raw = 0;
  dht_node_handle_datagram(w->nodes[victim].dht, w->now, from, buf, len);
  nh_touch(w, victim);
}

/* Opens the first captured datagram into |m|; returns 0 if none. */
static int raw_reply(net *w, raw *r, dht_msg *m, uint8_t *body) {
  dht_frame f;
  int drop;
  size_t blen;
  if (w->n_raw == 0) return 0;
  assert_int_equal(dht_frame_parse(&f, w->raw_buf[0], w->raw_len[0], &drop), 0);
  assert_int_equal(dht_frame_open(&f, r->key, body, &blen), 0);
  assert_int_equal(dht_msg_decode(m, body, blen), 0);
  return 1;
}

/* Seals |m| stamped now and delivers it to |victim| from the raw client. */
static void raw_send(net *w, raw *r, int victim, dht_msg *m) {
  uint8_t dg[DHT_MAX_DATAGRAM];
  size_t len = raw_seal(w, r, m, w->now / DHT_MS, dg);
  deliver(w, victim, &w->raw_addr, dg, len);
}

/* Sends |m| now and returns whether a reply came (decoded into |reply|). */
static int raw_call(net *w, raw *r, int victim, dht_msg *m, dht_msg *reply,
                    uint8_t *body) {
  raw_send(w, r, victim, m);
  return raw_reply(w, r, reply, body);
}

/* Sends |count| PINGs to |victim| now; returns how many were answered. */
static int raw_pings(net *w, raw *r, int victim, int count) {
  dht_msg m;
  int answered = 0;
  for (int i = 0; i < count; i++) {
    dht_msg_start(&m, DHT_MSG_PING);
    m.txid = (uint32_t)i;
    raw_send(w, r, victim, &m);
    answered += w->n_raw;
  }
  return answered;
}

static void get_token(net *w, raw *r, int victim, uint8_t tok[DHT_TOKEN_LEN]) {
  dht_msg m, rep;
  uint8_t body[DHT_BODY_MAX];
  dht_msg_start(&m, DHT_MSG_FIND_NODE);
  m.txid = 77;
  nh_rand_fill(w, m.target, DHT_ID_LEN);
  assert_int_equal(raw_call(w, r, victim, &m, &rep, body), 1);
  assert_int_equal(rep.type, DHT_MSG_NODES);
  assert_int_equal(rep.txid, 77);
  assert_true(rep.n_contacts >= 1 && rep.n_contacts <= K);
  memcpy(tok, rep.token, DHT_TOKEN_LEN);
}

static int32_t raw_store(net *w, raw *r, int victim,
                         const uint8_t tok[DHT_TOKEN_LEN],
                         const uint8_t *rec, size_t len, int *answered) {
  dht_msg m, rep;
  uint8_t body[DHT_BODY_MAX];
  dht_msg_start(&m, DHT_MSG_STORE);
  m.txid = 78;
  memcpy(m.token, tok, DHT_TOKEN_LEN);
  m.record = rec;
  m.record_len = len;
  *answered = raw_call(w, r, victim, &m, &rep, body);
  if (!*answered) return 1;
  assert_int_equal(rep.type, DHT_MSG_STORED);
  return rep.status;
}

static void test_store_refused(void **state) {
  raw r;
  uint8_t tok[DHT_TOKEN_LEN], bytes[DHT_MAX_RECORD];
  dht_record rec;
  int answered;
  (void)state;
  net *w = net_joined(20, 1, 10);
  const int v = 5;
  raw_init(w, &r, v);
  get_token(w, &r, v, tok);
  uint64_t now_s = w->now / DHT_SEC;
  dht_stats before = stats_of(w, v);
  /* Tampered: a value byte changed after signing. */
  size_t len = build_note(&r.id, "evil", "payload", now_s, 600, 1, &rec, bytes);
  bytes[len - NC_SIG_LEN - 4] ^= 0x20;
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered),
                   DHT_ERR_BAD_SIGNATURE);
  assert_true(answered);
  assert_int_equal(dht_node_local_get(w->nodes[v].dht, rec.key, NULL, NULL), 0);
  /* Wrongly keyed: correctly signed, but not under H(author, name). */
  build_note(&r.id, "evil", "payload", now_s, 600, 1, &rec, bytes);
  rec.key[0] ^= 1;
  dht_record_sign(&rec, &r.id);
  assert_int_equal(dht_record_encode(&rec, bytes, sizeof bytes, &len), 0);
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered),
                   DHT_ERR_KEY_RULE);
  assert_int_equal(dht_node_local_get(w->nodes[v].dht, rec.key, NULL, NULL), 0);
  /* Not even msgpack. */
  memset(bytes, 0xc1, 40);
  assert_int_equal(raw_store(w, &r, v, tok, bytes, 40, &answered),
                   DHT_ERR_MALFORMED);
  dht_stats after = stats_of(w, v);
  assert_int_equal(after.records_refused - before.records_refused, 3);
  assert_int_equal(after.dropped[DHT_DROP_BAD_RECORD] -
                       before.dropped[DHT_DROP_BAD_RECORD],
                   3);
  assert_int_equal(after.records_accepted, before.records_accepted);
  /* A wrong token: dropped without an answer. */
  len = build_note(&r.id, "good", "record", now_s, 600, 2, &rec, bytes);
  uint8_t bad[DHT_TOKEN_LEN];
  memcpy(bad, tok, sizeof bad);
  bad[3] ^= 1;
  raw_store(w, &r, v, bad, bytes, len, &answered);
  assert_false(answered);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_BAD_TOKEN], 1);
  /* The same record with the right token is accepted ... */
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered), 0);
  assert_int_equal(dht_node_local_get(w->nodes[v].dht, rec.key, NULL, NULL), 1);
  assert_int_equal(stats_of(w, v).records_accepted,
                   before.records_accepted + 1);
  /* ... and an older seq afterwards is stale. */
  len = build_note(&r.id, "good", "older", now_s, 600, 1, &rec, bytes);
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered),
                   DHT_ERR_STALE);
  /* Tokens are bound to the address: another source cannot use it. */
  dht_msg m;
  uint8_t dg[DHT_MAX_DATAGRAM];
  dht_addr elsewhere = w->raw_addr;
  elsewhere.port = 5001;
  len = build_note(&r.id, "good", "newer", now_s, 600, 3, &rec, bytes);
  dht_msg_start(&m, DHT_MSG_STORE);
  memcpy(m.token, tok, DHT_TOKEN_LEN);
  m.record = bytes;
  m.record_len = len;
  size_t dlen = raw_seal(w, &r, &m, w->now / DHT_MS, dg);
  deliver(w, v, &elsewhere, dg, dlen);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_BAD_TOKEN], 2);
  net_free(w);
}

/* A failing persistence hook refuses the record: nothing is acknowledged
 * that was not persisted. */
static void test_persistence_failure(void **state) {
  raw r;
  uint8_t tok[DHT_TOKEN_LEN], bytes[DHT_MAX_RECORD];
  dht_record rec;
  int answered;
  (void)state;
  net *w = net_joined(10, 1, 21);
  const int v = 6;
  sim(w, v)->fail_puts = 1;
  size_t len = build_note(&w->nodes[v].ident, "p", "q", w->now / DHT_SEC,
                          600, 1, &rec, bytes);
  assert_int_equal(
      dht_node_put(w->nodes[v].dht, w->now, bytes, len, NULL, NULL),
      DHT_ERR_STORE);
  assert_int_equal(stats_of(w, v).records, 0);
  assert_int_equal(stats_of(w, v).operations, 0);
  raw_init(w, &r, v);
  get_token(w, &r, v, tok);
  len = build_note(&r.id, "p", "q", w->now / DHT_SEC, 600, 1, &rec, bytes);
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered),
                   DHT_ERR_STORE);
  assert_int_equal(stats_of(w, v).records, 0);
  assert_true(w->nodes[v].warnings >= 2);
  /* Once the hook works again the same record is taken. */
  sim(w, v)->fail_puts = 0;
  assert_int_equal(raw_store(w, &r, v, tok, bytes, len, &answered), 0);
  assert_int_equal(stats_of(w, v).records, 1);
  assert_int_equal(sim(w, v)->puts, 1);
  net_free(w);
}

/* A record failing verification in a VALUES reply is never returned. */
static void test_get_refuses_bad_values(void **state) {
  uint8_t bytes[DHT_MAX_RECORD];
  dht_record rec;
  pres p;
  gres g;
  int hold[MAXN];
  (void)state;
  net *w = net_joined(30, 1, 11);
  put_own_note(w, 1, "x", "y", 3600, &rec, bytes, &p);
  /* Corrupt the copy on every storer, behind the engine's back. */
  size_t nh = holders(w, rec.key, hold);
  for (size_t h = 0; h < nh; h++) {
    dht_store *st = &w->nodes[hold[h]].dht->store;
    size_t first;
    assert_int_equal(dht_store_range(st, rec.key, &first), 1);
    st->recs[first]->bytes[st->recs[first]->len - 1] ^= 1;
  }
  int reader = 0;
  for (int i = 0; i < w->n; i++) {
    int is_holder = 0;
    for (size_t h = 0; h < nh; h++) is_holder |= hold[h] == i;
    if (!is_holder) reader = i;
  }
  get_and_wait(w, reader, rec.key, &g);
  assert_int_equal(g.status, DHT_ERR_NOT_FOUND);
  assert_true(stats_of(w, reader).records_refused >= 1);
  net_free(w);
}

static void test_replay_and_stale(void **state) {
  raw r;
  dht_msg m, rep;
  uint8_t dg[DHT_MAX_DATAGRAM], body[DHT_BODY_MAX];
  (void)state;
  net *w = net_joined(10, 1, 12);
  const int v = 3;
  raw_init(w, &r, v);
  dht_msg_start(&m, DHT_MSG_PING);
  m.txid = 1;
  size_t len = raw_seal(w, &r, &m, w->now / DHT_MS, dg);
  deliver(w, v, &w->raw_addr, dg, len);
  assert_int_equal(raw_reply(w, &r, &rep, body), 1);
  assert_int_equal(rep.type, DHT_MSG_PONG);
  assert_int_equal(rep.txid, 1);
  /* The very same datagram again, 10 s later. */
  nh_run(w, 10 * DHT_SEC);
  deliver(w, v, &w->raw_addr, dg, len);
  assert_int_equal(w->n_raw, 0);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_REPLAY], 1);
  /* Out of the clock-skew window (60 s) on either side. */
  uint64_t now_ms = w->now / DHT_MS;
  len = raw_seal(w, &r, &m, now_ms - 61000, dg);
  deliver(w, v, &w->raw_addr, dg, len);
  len = raw_seal(w, &r, &m, now_ms + 61000, dg);
  deliver(w, v, &w->raw_addr, dg, len);
  assert_int_equal(w->n_raw, 0);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_STALE_TIME], 2);
  /* Inside the window it is fine. */
  len = raw_seal(w, &r, &m, now_ms + 59000, dg);
  deliver(w, v, &w->raw_addr, dg, len);
  assert_int_equal(w->n_raw, 1);
  /* The driver passes an older time: the node keeps its own clock, so a
   * datagram stamped now is still in the window. */
  len = raw_seal(w, &r, &m, now_ms, dg);
  w->n_raw = 0;
  dht_node_handle_datagram(w->nodes[v].dht, w->now - 3600 * DHT_SEC,
                           &w->raw_addr, dg, len);
  nh_touch(w, v);
  assert_int_equal(w->n_raw, 1);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_STALE_TIME], 2);
  net_free(w);
}

/* Finds a nonce for |pk| whose ID fails the puzzle at DIFFICULTY. */
static uint64_t failing_nonce(const uint8_t pk[NC_PK_LEN]) {
  uint8_t id[NC_ID_LEN];
  for (uint64_t n = 0; n < 1000; n++) {
    nc_node_id(id, pk, n);
    if (nc_id_puzzle_bits(id) < DIFFICULTY) return n;
  }
  fail_msg("no failing nonce");
  return 0;
}

static void test_garbage(void **state) {
  raw r;
  dht_msg m;
  uint8_t dg[DHT_MAX_DATAGRAM + 8], good[DHT_MAX_DATAGRAM];
  (void)state;
  net *w = net_joined(10, 1, 13);
  const int v = 2;
  raw_init(w, &r, v);
  dht_stats before = stats_of(w, v);
  dht_msg_start(&m, DHT_MSG_PING);
  size_t glen = raw_seal(w, &r, &m, w->now / DHT_MS, good);

  deliver(w, v, &w->raw_addr, good, 3);
  memset(dg, 0, sizeof dg);
  memcpy(dg, good, glen);
  deliver(w, v, &w->raw_addr, dg, DHT_MAX_DATAGRAM + 1);
  memcpy(dg, "XY", 2);
  deliver(w, v, &w->raw_addr, dg, glen);
  memcpy(dg, good, glen);
  dg[2] = 2;
  deliver(w, v, &w->raw_addr, dg, glen);
  memcpy(dg, good, glen);
  dg[3] = 9;
  deliver(w, v, &w->raw_addr, dg, glen);
  /* Truncated below the sealed overhead, and truncated ciphertext. */
  deliver(w, v, &w->raw_addr, good, 60);
  deliver(w, v, &w->raw_addr, good, glen - 5);
  /* A flipped ciphertext bit. */
  memcpy(dg, good, glen);
  dg[glen - 20] ^= 4;
  deliver(w, v, &w->raw_addr, dg, glen);
  /* Random bytes sealed correctly: the body does not parse. */
  {
    uint8_t junk[64], nonce[NC_AEAD_NONCE_LEN];
    size_t len;
    nh_rand_fill(w, junk, sizeof junk);
    junk[0] = 0xc1; /* never valid msgpack */
    nh_rand_fill(w, nonce, sizeof nonce);
    assert_int_equal(dht_frame_seal(dg, sizeof dg, &len, r.id.pk, r.id.nonce,
                                    nonce, r.key, junk, sizeof junk),
                     0);
    deliver(w, v, &w->raw_addr, dg, len);
  }
  /* A sender whose ID fails the puzzle: no key is ever derived. */
  memcpy(dg, good, glen);
  uint64_t bad_nonce = failing_nonce(r.id.pk);
  for (int i = 0; i < 8; i++) dg[36 + i] = (uint8_t)(bad_nonce >> (8 * i));
  deliver(w, v, &w->raw_addr, dg, glen);
  /* Our own key as sender. */
  memcpy(dg, good, glen);
  memcpy(dg + 4, w->nodes[v].ident.pk, NC_PK_LEN);
  for (int i = 0; i < 8; i++)
    dg[36 + i] = (uint8_t)(w->nodes[v].ident.nonce >> (8 * i));
  deliver(w, v, &w->raw_addr, dg, glen);
  /* A source that cannot exist. */
  dht_addr martian = w->raw_addr;
  martian.port = 0;
  deliver(w, v, &martian, good, glen);
  martian = w->raw_addr;
  martian.ip[0] = 224;
  deliver(w, v, &martian, good, glen);
  /* A reply to nothing we asked. */
  {
    dht_msg pong;
    dht_msg_start(&pong, DHT_MSG_PONG);
    pong.txid = 12345;
    raw_send(w, &r, v, &pong);
  }
  /* A probe reply nobody asked for. */
  dht_frame_write_probe(dg, DHT_KIND_PROBE_REPLY, r.id.pk, r.id.nonce, 42);
  deliver(w, v, &w->raw_addr, dg, DHT_PROBE_LEN);
  assert_int_equal(w->n_raw, 0);

  dht_stats st = stats_of(w, v);
  int expect[DHT_DROP_COUNT] = {0};
  expect[DHT_DROP_SHORT] = 2;
  expect[DHT_DROP_OVERSIZE] = 1;
  expect[DHT_DROP_BAD_MAGIC] = 1;
  expect[DHT_DROP_BAD_VERSION] = 1;
  expect[DHT_DROP_BAD_KIND] = 1;
  expect[DHT_DROP_DECRYPT] = 2;
  expect[DHT_DROP_MALFORMED] = 1;
  expect[DHT_DROP_PUZZLE] = 1;
  expect[DHT_DROP_SELF] = 1;
  expect[DHT_DROP_MARTIAN] = 2;
  expect[DHT_DROP_UNSOLICITED] = 2;
  for (int d = 0; d < DHT_DROP_COUNT; d++)
    if ((int)(st.dropped[d] - before.dropped[d]) != expect[d])
      fail_msg("drop %s: %d, expected %d", dht_drop_reason_name(d),
               (int)(st.dropped[d] - before.dropped[d]), expect[d]);
  assert_int_equal(st.requests_in, before.requests_in);
  /* The node still answers the genuine datagram. */
  deliver(w, v, &w->raw_addr, good, glen);
  assert_int_equal(w->n_raw, 1);
  net_free(w);
}

/* One source floods requests: only the token bucket's depth gets through,
 * then the refill rate; replies to our own requests still pass. */
static void test_flood_rate_limited(void **state) {
  raw r;
  (void)state;
  net *w = net_joined(10, 1, 14);
  const int v = 4;
  raw_init(w, &r, v);
  dht_stats before = stats_of(w, v);
  int answered = raw_pings(w, &r, v, 300);
  dht_stats st = stats_of(w, v);
  assert_int_equal(answered, w->cfg.burst_per_ip);
  assert_int_equal(st.requests_in - before.requests_in, w->cfg.burst_per_ip);
  assert_int_equal(st.dropped[DHT_DROP_RATE_LIMIT] -
                       before.dropped[DHT_DROP_RATE_LIMIT],
                   300 - w->cfg.burst_per_ip);
  /* Other sources are unaffected. */
  lres lr;
  memset(&lr, 0, sizeof lr);
  uint8_t target[DHT_ID_LEN];
  nh_rand_fill(w, target, sizeof target);
  dht_node_lookup(w->nodes[0].dht, w->now, target, on_lookup, &lr);
  nh_touch(w, 0);
  nh_wait(w, &lr.done, 30 * DHT_SEC);
  assert_int_equal(lr.status, 0);
  /* The victim pings the flooder (a hint): the PONG is a reply to its
   * own request and passes although the bucket is empty. */
  raw_pings(w, &r, v, 200); /* drain whatever refilled meanwhile */
  uint64_t limited = stats_of(w, v).dropped[DHT_DROP_RATE_LIMIT];
  w->n_raw = 0;
  /* Forget the flooder (its PINGs had admitted it) to see the PONG admit
   * it again. */
  assert_int_equal(dht_rt_remove(&w->nodes[v].dht->rt, r.id.id), 1);
  assert_int_equal(dht_node_add_hint(w->nodes[v].dht, w->now, r.id.pk,
                                     r.id.nonce, &w->raw_addr),
                   0);
  nh_touch(w, v);
  dht_msg ping;
  uint8_t body[DHT_BODY_MAX];
  assert_int_equal(raw_reply(w, &r, &ping, body), 1);
  assert_int_equal(ping.type, DHT_MSG_PING);
  dht_msg pong;
  dht_msg_start(&pong, DHT_MSG_PONG);
  pong.txid = ping.txid;
  raw_send(w, &r, v, &pong);
  assert_int_equal(stats_of(w, v).dropped[DHT_DROP_RATE_LIMIT], limited);
  dht_contact c[MAXN];
  size_t n = dht_node_contacts(w->nodes[v].dht, c, MAXN);
  int admitted = 0;
  for (size_t i = 0; i < n; i++)
    admitted |= memcmp(c[i].pk, r.id.pk, NC_PK_LEN) == 0;
  assert_true(admitted);
  /* After a second the refill rate lets requests through again. */
  nh_run(w, DHT_SEC);
  assert_int_equal(raw_pings(w, &r, v, 100), w->cfg.rate_per_ip);
  net_free(w);
}

/* PROBE answers are exactly as long as the PROBE (no amplification). */
static void test_probe_no_amplification(void **state) {
  raw r;
  uint8_t probe[DHT_PROBE_LEN];
  (void)state;
  net *w = net_joined(5, 1, 15);
  raw_init(w, &r, 1);
  dht_frame_write_probe(probe, DHT_KIND_PROBE, r.id.pk, r.id.nonce, 0x1234);
  deliver(w, 1, &w->raw_addr, probe, sizeof probe);
  assert_int_equal(w->n_raw, 1);
  assert_int_equal(w->raw_len[0], DHT_PROBE_LEN);
  dht_frame f;
  int drop;
  assert_int_equal(dht_frame_parse(&f, w->raw_buf[0], w->raw_len[0], &drop), 0);
  assert_int_equal(f.kind, DHT_KIND_PROBE_REPLY);
  assert_int_equal(f.cookie, 0x1234);
  assert_memory_equal(f.pk, w->nodes[1].ident.pk, NC_PK_LEN);
  /* A probe from an identity failing the puzzle gets nothing. */
  dht_frame_write_probe(probe, DHT_KIND_PROBE, r.id.pk, failing_nonce(r.id.pk),
                        1);
  deliver(w, 1, &w->raw_addr, probe, sizeof probe);
  assert_int_equal(w->n_raw, 0);
  net_free(w);
}

/* The outgoing queue is bounded: a driver that does not drain it loses
 * the excess, counted as queue_full. */
static void test_queue_full(void **state) {
  raw r;
  dht_msg m;
  uint8_t dg[DHT_MAX_DATAGRAM];
  (void)state;
  net *w = net_joined(5, 1, 17);
  const int v = 1;
  raw_init(w, &r, v);
  dht_stats before = stats_of(w, v);
  for (int i = 0; i < DHT_OUTQ_MAX + 50; i++) {
    dht_addr from = w->raw_addr;
    from.ip[3] = (uint8_t)(10 + i % 200); /* spread over sources */
    from.ip[2] = (uint8_t)(3 + i / 200);
    dht_msg_start(&m, DHT_MSG_PING);
    size_t len = raw_seal(w, &r, &m, w->now / DHT_MS, dg);
    dht_node_handle_datagram(w->nodes[v].dht, w->now, &from, dg, len);
  }
  dht_stats st = stats_of(w, v);
  assert_int_equal(st.dropped[DHT_DROP_QUEUE_FULL], 50);
  assert_int_equal(st.requests_in - before.requests_in, DHT_OUTQ_MAX + 50);
  assert_int_equal(w->nodes[v].dht->outq.n, DHT_OUTQ_MAX);
  nh_touch(w, v);
  assert_int_equal(w->nodes[v].dht->outq.n, 0);
  net_free(w);
}

/* Thousands of mutated copies of genuine datagrams (bit flips, cuts,
 * splices): the node never crashes (ASan/UBSan watch), counts at most one
 * drop per datagram, and still works afterwards. */
static void test_mutations(void **state) {
  raw r;
  uint8_t seeds[6][DHT_MAX_DATAGRAM], dg[DHT_MAX_DATAGRAM];
  size_t lens[6];
  uint8_t tok[DHT_TOKEN_LEN];
  (void)state;
  net *w = net_joined(8, 1, 18);
  const int v = 3;
  raw_init(w, &r, v);
  get_token(w, &r, v, tok);
  dht_msg m;
  dht_record rec;
  uint8_t recb[DHT_MAX_RECORD];
  size_t rlen = build_note(&r.id, "m", "v", w->now / DHT_SEC, 600, 1, &rec,
                           recb);
  const uint8_t types[] = {DHT_MSG_PING, DHT_MSG_FIND_NODE, DHT_MSG_FIND_VALUE,
                           DHT_MSG_STORE, DHT_MSG_NODES};
  for (int t = 0; t < 5; t++) {
    dht_msg_start(&m, types[t]);
    memcpy(m.token, tok, DHT_TOKEN_LEN);
    m.record = recb;
    m.record_len = rlen;
    lens[t] = raw_seal(w, &r, &m, w->now / DHT_MS, seeds[t]);
  }
  dht_frame_write_probe(seeds[5], DHT_KIND_PROBE, r.id.pk, r.id.nonce, 9);
  lens[5] = DHT_PROBE_LEN;
  uint64_t sent = 0;
  dht_stats before = stats_of(w, v);
  for (int i = 0; i < 6000; i++) {
    int s = (int)(nh_rand(w) % 6);
    size_t len = lens[s];
    memcpy(dg, seeds[s], len);
    switch (nh_rand(w) % 4) {
    case 0: /* flip 1..8 bits anywhere */
      for (int b = 1 + (int)(nh_rand(w) % 8); b > 0; b--)
        dg[nh_rand(w) % len] ^= (uint8_t)(1u << (nh_rand(w) % 8));
      break;
    case 1: /* cut */
      len = (size_t)(nh_rand(w) % len);
      break;
    case 2: /* random tail */
      for (size_t x = 4 + nh_rand(w) % (len - 4); x < len; x++)
        dg[x] = (uint8_t)nh_rand(w);
      break;
    default: /* grow with junk */
      while (len < DHT_MAX_DATAGRAM && nh_rand(w) % 8)
        dg[len++] = (uint8_t)nh_rand(w);
    }
    deliver(w, v, &w->raw_addr, dg, len);
    sent++;
    if (i % 500 == 0) nh_run(w, 3 * DHT_SEC); /* let the bucket refill */
  }
  dht_stats st = stats_of(w, v);
  uint64_t drops = 0;
  for (int d = 0; d < DHT_DROP_COUNT; d++)
    drops += st.dropped[d] - before.dropped[d];
  assert_true(drops <= sent);
  assert_true(st.dropped[DHT_DROP_DECRYPT] > before.dropped[DHT_DROP_DECRYPT]);
  /* Still alive and answering. */
  lres lr;
  memset(&lr, 0, sizeof lr);
  uint8_t target[DHT_ID_LEN];
  nh_rand_fill(w, target, sizeof target);
  assert_int_equal(
      dht_node_lookup(w->nodes[v].dht, w->now, target, on_lookup, &lr), 0);
  nh_touch(w, v);
  nh_wait(w, &lr.done, 30 * DHT_SEC);
  assert_int_equal(lr.status, 0);
  net_free(w);
}

/* An idle node stays small, and idle nodes do not spin their timers. */
static void test_idle_memory_and_timers(void **state) {
  (void)state;
  net *w = net_joined(100, 1, 16);
  nh_run(w, 65 * 60 * DHT_SEC); /* past the first bucket refreshes */
  size_t mem = 0, max = 0;
  for (int i = 0; i < w->n; i++) {
    size_t m = dht_node_mem(w->nodes[i].dht);
    mem += m;
    if (m > max) max = m;
    assert_true(dht_node_next_deadline(w->nodes[i].dht) > w->now);
  }
  print_message("idle n=100: %.1f KiB per node (max %.1f)\n",
                (double)mem / w->n / 1024, (double)max / 1024);
  assert_true(max < 100 * 1024);
  /* An hour of idling costs few datagrams per node. */
  uint64_t before = w->sent;
  nh_run(w, 3600 * DHT_SEC);
  double per_node = (double)(w->sent - before) / w->n;
  print_message("idle n=100: %.1f datagrams per node per hour\n", per_node);
  assert_true(per_node < 2000);
  net_free(w);
}

static void test_api_arguments(void **state) {
  dht_config cfg;
  dht_node *node = NULL;
  nc_identity id;
  uint8_t seed[NC_SEED_LEN] = {1};
  (void)state;
  test_config(&cfg, 1);
  assert_int_equal(nc_identity_from_seed(&id, seed, DIFFICULTY, 0, 0), 0);
  dht_env env = {.random = nh_random};
  dht_env no_rand = {.user = NULL};
  assert_int_equal(dht_node_new(&node, &cfg, &no_rand, &id, NH_T0),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_null(node);
  cfg.disjoint_paths = DHT_PATHS_MAX + 1;
  assert_int_equal(dht_node_new(&node, &cfg, &env, &id, NH_T0),
                   DHT_ERR_INVALID_ARGUMENT);
  test_config(&cfg, 1);
  cfg.difficulty = 40; /* this identity does not meet it */
  assert_int_equal(dht_node_new(&node, &cfg, &env, &id, NH_T0), DHT_ERR_PUZZLE);
  dht_config_default(&cfg);
  assert_int_equal(cfg.k, 16);
  assert_int_equal(cfg.alpha, 3);
  assert_int_equal(cfg.disjoint_paths, 1);
  assert_int_equal(cfg.difficulty, 16);
  assert_int_equal(cfg.request_timeout, DHT_SEC);
  assert_int_equal(cfg.clock_skew, 60 * DHT_SEC);
  assert_int_equal(cfg.store_max_bytes, 64u * 1024 * 1024);
  assert_int_equal(cfg.max_operations, 64);
  dht_node_free(NULL);
}

/* ---- registry extensions: multi records, app messages, random contacts,
 * get_all ---------------------------------------------------------------- */

#define MULTI_TYPE 77

static const dht_record_type ext_types[] = {
    {.type = MULTI_TYPE,
     .name = "test-multi",
     .max_payload = 600,
     .max_lifetime = 86400,
     .key_check = NULL,
     .multi = 1},
};

static void ext_config(dht_config *cfg) {
  test_config(cfg, 1);
  cfg->types = ext_types;
  cfg->n_types = sizeof ext_types / sizeof *ext_types;
}

static void ext_identity(nc_identity *id, uint32_t n) {
  uint8_t seed[NC_SEED_LEN] = {0xee};
  seed[1] = (uint8_t)n;
  seed[2] = (uint8_t)(n >> 8);
  assert_int_equal(nc_identity_from_seed(id, seed, DIFFICULTY, 0, 0), 0);
}

/* Builds a signed multi record of |author| under |key|: payload "multi",
 * le32 |n|, padded with 'p' to |pad| (>= 9) bytes, written to |payload|
 * (which |rec| points to). Returns the encoded length in |out|. */
static size_t build_multi(const nc_identity *author,
                          const uint8_t key[DHT_KEY_LEN], uint32_t n,
                          size_t pad, uint64_t created, uint64_t ttl,
                          uint8_t *payload, dht_record *rec, uint8_t *out) {
  size_t len;
  memset(payload, 'p', pad);
  memcpy(payload, "multi", 5);
  for (int b = 0; b < 4; b++) payload[5 + b] = (uint8_t)(n >> (8 * b));
  memset(rec, 0, sizeof *rec);
  rec->version = DHT_RECORD_VERSION;
  rec->type = MULTI_TYPE;
  memcpy(rec->key, key, DHT_KEY_LEN);
  rec->created = created;
  rec->expires = created + ttl;
  rec->payload = payload;
  rec->payload_len = pad;
  dht_record_sign(rec, author);
  assert_int_equal(dht_record_encode(rec, out, DHT_MAX_RECORD, &len), 0);
  return len;
}

/* The slot of a multi record, computed here independently of the engine:
 * BLAKE2b-256(author_pk || payload). */
static void expect_slot(uint8_t out[DHT_KEY_LEN], const uint8_t pk[NC_PK_LEN],
                        const uint8_t *payload, size_t len) {
  nc_hasher h;
  nc_hasher_init(&h, NULL, 0, DHT_KEY_LEN);
  nc_hasher_update(&h, pk, NC_PK_LEN);
  nc_hasher_update(&h, payload, len);
  nc_hasher_final(&h, out, DHT_KEY_LEN);
}

/* Multi records on one storer: several payloads of one author under one
 * key are all kept, each in its own slot, and the persistence hooks are
 * told the slot; identical bytes are a refresh, a later expiry replaces,
 * an earlier one is stale; the per-author quota counts every slot. */
static void test_multi_records(void **state) {
  dht_config cfg;
  nc_identity a, b;
  uint8_t key[DHT_KEY_LEN], slot[DHT_KEY_LEN];
  uint8_t p1[64], p2[64], p3[64];
  uint8_t b1[DHT_MAX_RECORD], b2[DHT_MAX_RECORD], b3[DHT_MAX_RECORD];
  dht_record r1, r2, r3;
  (void)state;
  ext_config(&cfg);
  cfg.author_max_records = 3;
  net *w = net_new(&cfg, 1, 40);
  simnode *s = sim(w, 0);
  dht_node *node = w->nodes[0].dht;
  uint64_t now_s = w->now / DHT_SEC;
  ext_identity(&a, 1);
  ext_identity(&b, 2);
  memset(key, 0x33, sizeof key);
  size_t l1 = build_multi(&a, key, 1, 40, now_s, 3600, p1, &r1, b1);
  size_t l2 = build_multi(&a, key, 2, 40, now_s, 60, p2, &r2, b2);
  assert_int_equal(dht_node_put(node, w->now, b1, l1, NULL, NULL), 0);
  expect_slot(slot, a.pk, p1, 40);
  assert_memory_equal(s->put_key, key, DHT_KEY_LEN);
  assert_memory_equal(s->put_slot, slot, DHT_KEY_LEN);
  assert_int_equal(dht_node_put(node, w->now, b2, l2, NULL, NULL), 0);
  expect_slot(slot, a.pk, p2, 40);
  assert_memory_equal(s->put_slot, slot, DHT_KEY_LEN);
  assert_int_equal(s->puts, 2);
  assert_int_equal(dht_node_local_get(node, key, NULL, NULL), 2);
  assert_int_equal(dht_store_author(&node->store, a.pk)->count, 2);
  assert_non_null(dht_store_find(&node->store, key, slot));
  assert_null(dht_store_find(&node->store, key, a.pk));
  /* The same bytes again: a refresh, not persisted again. */
  assert_int_equal(dht_node_put(node, w->now, b1, l1, NULL, NULL), 0);
  assert_int_equal(s->puts, 2);
  /* The same slot (payload) with a later expiry replaces; then the old
   * one, expiring earlier, is stale. */
  size_t l3 = build_multi(&a, key, 1, 40, now_s, 7200, p3, &r3, b3);
  assert_int_equal(dht_node_put(node, w->now, b3, l3, NULL, NULL), 0);
  assert_int_equal(s->puts, 3);
  expect_slot(slot, a.pk, p1, 40);
  assert_memory_equal(s->put_slot, slot, DHT_KEY_LEN);
  assert_int_equal(dht_node_local_get(node, key, NULL, NULL), 2);
  assert_int_equal(dht_store_find(&node->store, key, slot)->expires,
                   now_s + 7200);
  assert_int_equal(dht_node_put(node, w->now, b1, l1, NULL, NULL),
                   DHT_ERR_STALE);
  /* Quota: three records of |a| at most, whatever the slots. */
  l3 = build_multi(&a, key, 3, 40, now_s, 3600, p3, &r3, b3);
  assert_int_equal(dht_node_put(node, w->now, b3, l3, NULL, NULL), 0);
  l3 = build_multi(&a, key, 4, 40, now_s, 3600, p3, &r3, b3);
  assert_int_equal(dht_node_put(node, w->now, b3, l3, NULL, NULL),
                   DHT_ERR_QUOTA);
  assert_int_equal(dht_node_local_get(node, key, NULL, NULL), 3);
  assert_int_equal(dht_store_author(&node->store, a.pk)->count, 3);
  /* Ordinary types keep slot = author pk, as before. */
  size_t ln = build_note(&b, "n", "v", now_s, 3600, 1, &r3, b3);
  assert_int_equal(dht_node_put(node, w->now, b3, ln, NULL, NULL), 0);
  assert_memory_equal(s->put_slot, b.pk, NC_PK_LEN);
  /* Expiry of r2 deletes its slot only. */
  nh_touch(w, 0);
  nh_run(w, 120 * DHT_SEC);
  assert_int_equal(s->dels, 1);
  expect_slot(slot, a.pk, p2, 40);
  assert_memory_equal(s->del_slot, slot, DHT_KEY_LEN);
  assert_int_equal(dht_node_local_get(node, key, NULL, NULL), 2);
  net_free(w);
}

typedef struct ares {
  int done, status;
  unsigned calls;
} ares;

static void on_sent(void *arg, int status) {
  ares *r = arg;
  r->calls++;
  assert_false(r->done); /* exactly once */
  r->done = 1;
  r->status = status;
}

static dht_contact contact_of(const nh_node *s) {
  dht_contact c;
  memset(&c, 0, sizeof c);
  memcpy(c.id, s->ident.id, DHT_ID_LEN);
  memcpy(c.pk, s->ident.pk, NC_PK_LEN);
  c.nonce = s->ident.nonce;
  c.addr = s->addr;
  return c;
}

static int env_app(void *user, dht_time now, const dht_contact *from,
                   const uint8_t *msg, size_t len) {
  nh_node *node = user;
  simnode *s = node->user;
  assert_true(len >= 1 && len <= DHT_APP_MAX);
  assert_true(now >= NH_T0);
  s->apps++;
  memcpy(s->app_msg, msg, len);
  s->app_len = len;
  s->app_from = *from;
  if (s->app_forward >= 0) {
    dht_contact c = contact_of(&node->net->nodes[s->app_forward]);
    assert_int_equal(
        dht_node_send_app(node->dht, now, &c, msg, len, NULL, NULL), 0);
  }
  return s->app_status;
}

static void send_and_wait(net *w, int from, int to, const uint8_t *msg,
                          size_t len, ares *r) {
  dht_contact c = contact_of(&w->nodes[to]);
  memset(r, 0, sizeof *r);
  assert_int_equal(
      dht_node_send_app(w->nodes[from].dht, w->now, &c, msg, len, on_sent, r),
      0);
  assert_false(r->done); /* never from inside the call */
  nh_touch(w, from);
  nh_wait(w, &r->done, 10 * DHT_SEC);
  assert_true(r->done);
}

static void test_app_messages(void **state) {
  dht_config cfg;
  uint8_t msg[DHT_APP_MAX + 1];
  ares r;
  (void)state;
  ext_config(&cfg);
  no_app_node = 4;
  net *w = net_joined_cfg(&cfg, 12, 41);
  no_app_node = -1;
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 1);
  /* Round trip: the payload arrives intact, from the sender's identity. */
  uint64_t req = stats_of(w, 2).requests_in;
  send_and_wait(w, 1, 2, msg, DHT_APP_MAX, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(sim(w, 2)->apps, 1);
  assert_int_equal(sim(w, 2)->app_len, DHT_APP_MAX);
  assert_memory_equal(sim(w, 2)->app_msg, msg, DHT_APP_MAX);
  assert_memory_equal(sim(w, 2)->app_from.pk, w->nodes[1].ident.pk, NC_PK_LEN);
  assert_memory_equal(sim(w, 2)->app_from.id, w->nodes[1].ident.id, DHT_ID_LEN);
  assert_int_equal(sim(w, 2)->app_from.nonce, w->nodes[1].ident.nonce);
  assert_true(dht_addr_equal(&sim(w, 2)->app_from.addr, &w->nodes[1].addr));
  assert_int_equal(stats_of(w, 2).requests_in, req + 1);
  /* The receiver's answer comes back as the status. */
  sim(w, 2)->app_status = DHT_ERR_QUOTA;
  send_and_wait(w, 1, 2, msg + 5, 1, &r);
  assert_int_equal(r.status, DHT_ERR_QUOTA);
  assert_int_equal(sim(w, 2)->app_len, 1);
  assert_int_equal(sim(w, 2)->app_msg[0], msg[5]);
  sim(w, 2)->app_status = 0;
  /* The hook may send from inside the call (opt-out relaying). */
  sim(w, 2)->app_forward = 3;
  send_and_wait(w, 1, 2, msg, 10, &r);
  assert_int_equal(r.status, 0);
  nh_run(w, 2 * DHT_SEC);
  assert_int_equal(sim(w, 3)->apps, 1);
  assert_int_equal(sim(w, 3)->app_len, 10);
  assert_memory_equal(sim(w, 3)->app_msg, msg, 10);
  assert_memory_equal(sim(w, 3)->app_from.pk, w->nodes[2].ident.pk, NC_PK_LEN);
  sim(w, 2)->app_forward = -1;
  /* No hook: refused. */
  send_and_wait(w, 1, 4, msg, 10, &r);
  assert_int_equal(r.status, DHT_ERR_UNKNOWN_TYPE);
  assert_int_equal(sim(w, 4)->apps, 0);
  /* The peer is gone: a timeout, reported once. */
  nh_kill(w, 5);
  dht_time sent = w->now;
  send_and_wait(w, 1, 5, msg, 10, &r);
  assert_int_equal(r.status, DHT_ERR_TIMEOUT);
  assert_true(w->now - sent >= cfg.request_timeout);
  nh_run(w, 5 * DHT_SEC);
  assert_int_equal(r.calls, 1);
  /* Arguments. */
  dht_node *n1 = w->nodes[1].dht;
  dht_contact c = contact_of(&w->nodes[2]);
  assert_int_equal(dht_node_send_app(n1, w->now, &c, msg, 0, on_sent, &r),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_node_send_app(n1, w->now, &c, NULL, 5, on_sent, &r),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_node_send_app(n1, w->now, &c, msg, DHT_APP_MAX + 1,
                                     on_sent, &r),
                   DHT_ERR_TOO_LARGE);
  dht_contact self = contact_of(&w->nodes[1]);
  assert_int_equal(dht_node_send_app(n1, w->now, &self, msg, 5, on_sent, &r),
                   DHT_ERR_INVALID_ARGUMENT);
  int guard = 0;
  do /* a nonce for this key that fails the puzzle */
    c.nonce++;
  while (nc_id_verify(NULL, c.pk, c.nonce, DIFFICULTY) != NC_ERR_PUZZLE &&
         ++guard < 10000);
  assert_int_equal(dht_node_send_app(n1, w->now, &c, msg, 5, on_sent, &r),
                   DHT_ERR_PUZZLE);
  net_free(w);
}

static int contact_index(const dht_contact *all, size_t n,
                         const dht_contact *c) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(all[i].id, c->id, DHT_ID_LEN) == 0) return (int)i;
  return -1;
}

static void test_random_contacts(void **state) {
  static dht_contact all[MAXN], pick[MAXN], pick2[MAXN];
  unsigned hits[MAXN] = {0};
  (void)state;
  net *w = net_joined(20, 1, 42);
  net *w2 = net_joined(20, 1, 42); /* the same seed */
  dht_node *node = w->nodes[3].dht;
  size_t n_all = dht_node_contacts(node, all, MAXN);
  assert_true(n_all >= 8);
  for (size_t round = 0; round < 3; round++) {
    size_t want = round == 1 ? MAXN : 5;
    size_t n = dht_node_random_contacts(node, pick, want);
    assert_int_equal(n, want < n_all ? want : n_all);
    for (size_t i = 0; i < n; i++) {
      int at = contact_index(all, n_all, &pick[i]);
      assert_true(at >= 0); /* from the table */
      assert_memory_equal(&pick[i], &all[at], sizeof pick[i]);
      for (size_t j = 0; j < i; j++) /* distinct */
        assert_memory_not_equal(pick[i].id, pick[j].id, DHT_ID_LEN);
    }
    /* Deterministic under a seeded generator. */
    size_t n2 = dht_node_random_contacts(w2->nodes[3].dht, pick2, want);
    assert_int_equal(n2, n);
    assert_memory_equal(pick, pick2, n * sizeof *pick);
  }
  /* Uniform: 40 draws per contact hit each of them 20..80 times. */
  for (size_t t = 0; t < 40 * n_all; t++) {
    assert_int_equal(dht_node_random_contacts(node, pick, 1), 1);
    hits[contact_index(all, n_all, &pick[0])]++;
  }
  for (size_t i = 0; i < n_all; i++)
    assert_true(hits[i] >= 20 && hits[i] <= 80);
  assert_int_equal(dht_node_random_contacts(NULL, pick, 1), 0);
  assert_int_equal(dht_node_random_contacts(node, pick, 0), 0);
  net_free(w);
  net_free(w2);
}

typedef struct gares {
  int done, status;
  unsigned found, visits;
  uint64_t now_s, max_seq;
  uint8_t (*slots)[DHT_KEY_LEN];
  size_t cap;
  dht_lookup_stats st;
} gares;

static void on_visit(void *arg, const dht_record *rec, const uint8_t *bytes,
                     size_t len) {
  gares *r = arg;
  dht_record again;
  assert_false(r->done);
  assert_true(r->visits < r->cap);
  /* Every visited record is valid, and visited once. */
  assert_int_equal(dht_record_decode(&again, bytes, len), 0);
  assert_int_equal(dht_record_verify(&again, r->now_s, DIFFICULTY, ext_types,
                                     sizeof ext_types / sizeof *ext_types),
                   0);
  dht_record_slot(r->slots[r->visits], rec, rec->type == MULTI_TYPE);
  for (unsigned j = 0; j < r->visits; j++)
    assert_memory_not_equal(r->slots[j], r->slots[r->visits], DHT_KEY_LEN);
  r->visits++;
  if (rec->seq > r->max_seq) r->max_seq = rec->seq;
}

static void on_all_done(void *arg, int status, unsigned found,
                        const dht_lookup_stats *st) {
  gares *r = arg;
  assert_false(r->done);
  assert_non_null(st);
  r->done = 1;
  r->status = status;
  r->found = found;
  r->st = *st;
}

static void get_all_from_and_wait(net *w, int who,
                                  const uint8_t key[DHT_KEY_LEN],
                                  uint32_t offset, unsigned max, gares *r) {
  size_t cap = r->cap;
  uint8_t(*slots)[DHT_KEY_LEN] = r->slots;
  memset(r, 0, sizeof *r);
  r->cap = cap;
  r->slots = slots;
  r->now_s = w->now / DHT_SEC;
  assert_int_equal(dht_node_get_all_from(w->nodes[who].dht, w->now, key,
                                         offset, max, on_visit, on_all_done,
                                         r),
                   0);
  assert_false(r->done);
  nh_touch(w, who);
  nh_wait(w, &r->done, 300 * DHT_SEC);
  assert_true(r->done);
  assert_int_equal(r->found, r->visits);
}

static void get_all_and_wait(net *w, int who, const uint8_t key[DHT_KEY_LEN],
                             unsigned max, gares *r) {
  get_all_from_and_wait(w, who, key, 0, max, r);
}

/* Indexes of the K live nodes closest to |key|. */
static void closest_nodes(const net *w, const uint8_t key[DHT_KEY_LEN],
                          int out[K]) {
  uint8_t want[K][DHT_ID_LEN];
  assert_int_equal(brute_closest(w, key, -1, want), K);
  for (int j = 0; j < K; j++) {
    out[j] = -1;
    for (int i = 0; i < w->n; i++)
      if (memcmp(w->nodes[i].ident.id, want[j], DHT_ID_LEN) == 0) out[j] = i;
    assert_true(out[j] >= 0);
  }
}

static int is_among(const int *set, int n, int x) {
  for (int i = 0; i < n; i++)
    if (set[i] == x) return 1;
  return 0;
}

static void restore_on(net *w, int who, const uint8_t *bytes, size_t len) {
  assert_int_equal(
      dht_node_restore_record(w->nodes[who].dht, w->now, bytes, len, 0), 0);
}

/* get_all: 300 multi records of 5 authors spread over the K closest (each
 * holds about a quarter of them, so the collection must merge and page),
 * one tampered record among them, one record only in the reader's store;
 * then a cap on the count, the newest version of an ordinary type, and
 * 1200 records held by every one of the K closest. */
static void test_get_all(void **state) {
  dht_config cfg;
  nc_identity authors[10];
  uint8_t key[DHT_KEY_LEN], payload[DHT_MAX_RECORD], bytes[DHT_MAX_RECORD];
  int near[K];
  dht_record rec;
  gares r;
  pres p;
  (void)state;
  ext_config(&cfg);
  net *w = net_joined_cfg(&cfg, 30, 43);
  uint64_t now_s = w->now / DHT_SEC;
  r.cap = 2000;
  r.slots = calloc(r.cap, DHT_KEY_LEN);
  assert_non_null(r.slots);
  for (uint32_t a = 0; a < 10; a++) ext_identity(&authors[a], 100 + a);
  /* Over the network: two payloads of one author under one key are both
   * stored by each of the K closest. */
  memset(key, 0x44, sizeof key);
  closest_nodes(w, key, near);
  for (uint32_t i = 0; i < 2; i++) {
    size_t len = build_multi(&w->nodes[5].ident, key, i, 30, now_s, 3600,
                             payload, &rec, bytes);
    put_and_wait(w, 5, bytes, len, &p);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.stored, K);
  }
  for (int j = 0; j < K; j++)
    assert_int_equal(dht_node_local_get(w->nodes[near[j]].dht, key, NULL, NULL),
                     2);
  /* 300 records spread over the K closest, two copies each. */
  memset(key, 0x55, sizeof key);
  closest_nodes(w, key, near);
  int reader = 0;
  while (is_among(near, K, reader)) reader++;
  for (uint32_t i = 0; i < 300; i++) {
    size_t len = build_multi(&authors[i % 5], key, i, 120, now_s, 3600,
                             payload, &rec, bytes);
    restore_on(w, near[i % K], bytes, len);
    restore_on(w, near[(i + 3) % K], bytes, len);
  }
  /* A tampered record slipped into one storer's table. */
  size_t len = build_multi(&authors[0], key, 9999, 120, now_s, 3600, payload,
                           &rec, bytes);
  payload[50] ^= 1; /* after signing */
  assert_int_equal(dht_record_encode(&rec, bytes, sizeof bytes, &len), 0);
  assert_int_equal(
      dht_store_put(&w->nodes[near[0]].dht->store, &rec, bytes, len, w->now),
      DHT_STORE_NEW);
  /* One record only the reader holds. */
  len = build_multi(&authors[6], key, 5000, 120, now_s, 3600, payload, &rec,
                    bytes);
  restore_on(w, reader, bytes, len);
  uint64_t refused = stats_of(w, reader).records_refused;
  get_all_and_wait(w, reader, key, 1000, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.found, 301);
  assert_true(stats_of(w, reader).records_refused > refused);
  /* At most max_records. */
  get_all_and_wait(w, reader, key, 50, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.found, 50);
  /* Ordinary types: the highest seq of each author. */
  size_t l1 = build_note(&authors[7], "inbox", "one", now_s, 3600, 1, &rec,
                         bytes);
  closest_nodes(w, rec.key, near);
  memcpy(key, rec.key, DHT_KEY_LEN);
  restore_on(w, near[0], bytes, l1);
  l1 = build_note(&authors[7], "inbox", "two", now_s, 3600, 2, &rec, bytes);
  restore_on(w, near[1], bytes, l1);
  l1 = build_note(&authors[8], "inbox", "three", now_s, 3600, 1, &rec, bytes);
  assert_memory_not_equal(rec.key, key, DHT_KEY_LEN); /* note keys differ */
  reader = 0;
  while (is_among(near, K, reader)) reader++;
  get_all_and_wait(w, reader, key, 10, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.found, 1);
  assert_int_equal(r.max_seq, 2);
  /* 1200 records under one key (an opt-out inbox), on each of the K
   * closest: paged through many VALUES replies. */
  memset(key, 0x66, sizeof key);
  closest_nodes(w, key, near);
  for (uint32_t i = 0; i < 1200; i++) {
    len = build_multi(&authors[i % 10], key, i, 100, now_s, 3600, payload,
                      &rec, bytes);
    for (int j = 0; j < K; j++) restore_on(w, near[j], bytes, len);
  }
  reader = 0;
  while (is_among(near, K, reader)) reader++;
  get_all_and_wait(w, reader, key, 5000, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.found, 1200);
  print_message("get_all 1200 records: %u requests, %.1f s\n", r.st.queried,
                (double)r.st.duration / DHT_SEC);
  /* Paged by starting offsets: 500 + 500 + 200 distinct records, together
   * all 1200 (every storer orders them alike, by slot); past the end,
   * nothing. */
  {
    uint8_t(*all)[DHT_KEY_LEN] = calloc(1200, DHT_KEY_LEN);
    unsigned n_all = 0;
    assert_non_null(all);
    for (uint32_t off = 0; off < 1500; off += 500) {
      get_all_from_and_wait(w, reader, key, off, 500, &r);
      assert_int_equal(r.status, 0);
      assert_int_equal(r.found, off < 1000 ? 500 : 200);
      for (unsigned i = 0; i < r.visits; i++) {
        for (unsigned j = 0; j < n_all; j++)
          assert_memory_not_equal(all[j], r.slots[i], DHT_KEY_LEN);
        memcpy(all[n_all++], r.slots[i], DHT_KEY_LEN);
      }
    }
    assert_int_equal(n_all, 1200);
    get_all_from_and_wait(w, reader, key, 1200, 500, &r);
    assert_int_equal(r.found, 0);
    free(all);
  }
  /* Nothing under a key: status 0, nothing visited. */
  memset(key, 0x77, sizeof key);
  get_all_and_wait(w, reader, key, 10, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.found, 0);
  assert_int_equal(dht_node_get_all(w->nodes[0].dht, w->now, key, 0, on_visit,
                                    on_all_done, &r),
                   DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      dht_node_get_all(w->nodes[0].dht, w->now, key, 5, NULL, on_all_done, &r),
      DHT_ERR_INVALID_ARGUMENT);
  free(r.slots);
  net_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_api_arguments),
      cmocka_unit_test(test_bootstrap_50),
      cmocka_unit_test(test_bootstrap_retry),
      cmocka_unit_test(test_lookup_true_closest),
      cmocka_unit_test(test_lookup_larger),
      cmocka_unit_test(test_disjoint_paths),
      cmocka_unit_test(test_put_get_and_storer_loss),
      cmocka_unit_test(test_update_seq),
      cmocka_unit_test(test_replication),
      cmocka_unit_test(test_record_expires),
      cmocka_unit_test(test_republish_and_restore),
      cmocka_unit_test(test_store_refused),
      cmocka_unit_test(test_persistence_failure),
      cmocka_unit_test(test_get_refuses_bad_values),
      cmocka_unit_test(test_replay_and_stale),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_flood_rate_limited),
      cmocka_unit_test(test_probe_no_amplification),
      cmocka_unit_test(test_queue_full),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_idle_memory_and_timers),
      cmocka_unit_test(test_multi_records),
      cmocka_unit_test(test_app_messages),
      cmocka_unit_test(test_random_contacts),
      cmocka_unit_test(test_get_all),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
