/*
 * Tests for the registry engine (reg_node) beside the DHT: 24 pairs of
 * dht_node + reg_node in one process over the in-memory network of
 * net_harness.h (datagrams delayed 5-25 ms, a virtual clock and a seeded
 * generator, so every run is the same). Each node's dht_env.app_message
 * is wired to reg_node_handle_app_message and its registry state lives in
 * a small in-memory key/value store, so a node can be restarted from it.
 * Node 0 is the sender's node: it publishes the batches, signed by a
 * separate sender key.
 *
 * The harness watches every record any node accepts (store_put) to check
 * that opt-outs land only in the inboxes of the batches they answer, and
 * every app message delivered, to measure relay path lengths (a relayed
 * message keeps its bytes, so a digest of them follows it).
 *
 * Every loop is bounded in steps and in virtual time.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/registry.h>

#include "engine.h"
#include "net_harness.h"

#define N 24
#define DIFFICULTY 4
#define K 8
#define MIN (60 * DHT_SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define POW_BITS 8      /* opt-outs, lowered for the sanitizer build */
#define BATCH_POW 8     /* batch base bits */
#define BATCH_N 2000
#define MSGS_MAX 512    /* app messages followed */
#define INBOXES_MAX 8
#define POLL_WAIT (65 * MIN) /* two polls, fetch, match, relay, store */

/* ---- an in-memory key/value store for the registry's state --------------- */

typedef struct kv {
  uint8_t *k, *v;
  size_t kl, vl;
} kv;

typedef struct kvstore {
  kv *e;
  size_t n, cap;
} kvstore;

static kv *kv_find(kvstore *s, const uint8_t *k, size_t kl) {
  for (size_t i = 0; i < s->n; i++)
    if (s->e[i].kl == kl && memcmp(s->e[i].k, k, kl) == 0) return &s->e[i];
  return NULL;
}

static int kv_put(void *user, const uint8_t *k, size_t kl, const uint8_t *v,
                  size_t vl);
static int kv_del(void *user, const uint8_t *k, size_t kl);

static void kv_free(kvstore *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->e[i].k);
    free(s->e[i].v);
  }
  free(s->e);
  memset(s, 0, sizeof *s);
}

/* ---- the simulated network ------------------------------------------------ */

/* The registry beside node i of the network (nh_node.user). */
typedef struct peer {
  reg_node *reg;
  kvstore state;
  reg_types types; /* its own copy: the rules may be lax */
} peer;

typedef struct msgtrack {
  uint8_t digest[16];
  unsigned hops;
  int origin; /* first node to send it, -1 = unknown */
} msgtrack;

/* The network (its user is the world) and what the test follows. */
typedef struct world {
  nh_net *net;
  peer p[N];
  reg_config rcfg;
  nc_identity sender;
  /* what the store_put hook saw */
  uint8_t inboxes[INBOXES_MAX][DHT_KEY_LEN]; /* allowed OPTOUT keys */
  int n_inboxes;
  uint64_t optout_records, stray_optouts, evidence_records, stray_evidence;
  /* app messages in flight */
  msgtrack msgs[MSGS_MAX];
  int n_msgs;
} world;

/* Node |i| of the network: its DHT, identity and address. */
static nh_node *nd(const world *w, int i) { return &w->net->nodes[i]; }

static peer *peer_of(void *user) { return ((nh_node *)user)->user; }

static world *world_of(void *user) { return ((nh_node *)user)->net->user; }

static int kv_put(void *user, const uint8_t *k, size_t kl, const uint8_t *v,
                  size_t vl) {
  kvstore *s = &peer_of(user)->state;
  kv *e = kv_find(s, k, kl);
  if (!e) {
    if (s->n == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 16;
      s->e = realloc(s->e, s->cap * sizeof *s->e);
      assert_non_null(s->e);
    }
    e = &s->e[s->n++];
    e->k = malloc(kl);
    assert_non_null(e->k);
    memcpy(e->k, k, kl);
    e->kl = kl;
    e->v = NULL;
  }
  free(e->v);
  e->v = malloc(vl ? vl : 1);
  assert_non_null(e->v);
  memcpy(e->v, v, vl);
  e->vl = vl;
  return 0;
}

static int kv_del(void *user, const uint8_t *k, size_t kl) {
  kvstore *s = &peer_of(user)->state;
  kv *e = kv_find(s, k, kl);
  if (!e) return 0;
  free(e->k);
  free(e->v);
  *e = s->e[--s->n];
  return 0;
}

/* Every record a node accepts: OPTOUT records must sit in an allowed
 * inbox, EVIDENCE records under the sender's evidence key. */
static int env_store_put(void *user, const uint8_t key[DHT_KEY_LEN],
                         const uint8_t slot[DHT_KEY_LEN], const uint8_t *rec,
                         size_t len) {
  world *w = world_of(user);
  dht_record r;
  (void)slot;
  assert_int_equal(dht_record_decode(&r, rec, len), 0);
  assert_memory_equal(r.key, key, DHT_KEY_LEN);
  if (r.type == REG_RECORD_OPTOUT) {
    int ok = 0;
    for (int i = 0; i < w->n_inboxes; i++)
      ok |= memcmp(key, w->inboxes[i], DHT_KEY_LEN) == 0;
    w->optout_records++;
    w->stray_optouts += !ok;
  } else if (r.type == REG_RECORD_EVIDENCE) {
    uint8_t ek[DHT_KEY_LEN];
    reg_evidence_key(ek, w->sender.pk);
    w->evidence_records++;
    w->stray_evidence += memcmp(ek, key, DHT_KEY_LEN) != 0;
  }
  return 0;
}

static int env_store_del(void *user, const uint8_t key[DHT_KEY_LEN],
                         const uint8_t slot[DHT_KEY_LEN]) {
  (void)user, (void)key, (void)slot;
  return 0;
}

static void track_msg(world *w, int node, const uint8_t *msg, size_t len,
                      int origin) {
  uint8_t d[16];
  nc_hash(d, sizeof d, NULL, 0, msg, len);
  for (int i = 0; i < w->n_msgs; i++)
    if (memcmp(w->msgs[i].digest, d, sizeof d) == 0) {
      if (!origin) w->msgs[i].hops++;
      return;
    }
  if (w->n_msgs >= MSGS_MAX) return;
  msgtrack *m = &w->msgs[w->n_msgs++];
  memcpy(m->digest, d, sizeof d);
  m->hops = origin ? 0 : 1;
  m->origin = origin ? node : -1;
}

static int env_app(void *user, dht_time now, const dht_contact *from,
                   const uint8_t *msg, size_t len) {
  peer *p = peer_of(user);
  if (!p->reg) return DHT_ERR_UNKNOWN_TYPE;
  int rv = reg_node_handle_app_message(p->reg, now, from, msg, len);
  if (rv == 0) track_msg(world_of(user), ((nh_node *)user)->idx, msg, len, 0);
  return rv;
}

/* nh_hooks: the registry's deadline and timers beside the DHT's. */
static dht_time reg_deadline(nh_net *net, int i) {
  const reg_node *r = ((world *)net->user)->p[i].reg;
  return r ? reg_node_next_deadline(r) : DHT_TIME_NONE;
}

static void reg_expire(nh_net *net, int i) {
  nh_node *s = &net->nodes[i];
  reg_node *r = ((world *)net->user)->p[i].reg;
  if (dht_node_next_deadline(s->dht) <= net->now)
    dht_node_handle_expiry(s->dht, net->now);
  if (r && reg_node_next_deadline(r) <= net->now)
    reg_node_handle_expiry(r, net->now);
}

/* ---- nodes -------------------------------------------------------------- */

static void test_reg_config(reg_config *c) {
  reg_config_default(c);
  c->optout_pow_bits = POW_BITS;
  c->batch_pow_base_bits = BATCH_POW;
  c->index_poll_interval = 30 * MIN;
  c->index_lookback = 2;
}

/* Creates (or re-creates) node |i|'s DHT and registry; |lax| gives it
 * chunk rules without a key check (so it can hold a tampered chunk) and
 * no per-author cap under one key (so it can file a flood). */
static void node_start(world *w, int i, int lax) {
  peer *s = &w->p[i];
  dht_config cfg = w->net->cfg;
  reg_types_init(&s->types, BATCH_POW);
  if (lax)
    for (size_t j = 0; j < REG_RECORD_TYPES; j++) {
      if (s->types.t[j].type == REG_RECORD_CHUNK)
        s->types.t[j].key_check = NULL;
      s->types.t[j].key_author_max = 0;
    }
  cfg.types = s->types.t;
  cfg.n_types = REG_RECORD_TYPES;
  dht_env env = {.user = nd(w, i),
                 .random = nh_random,
                 .log = nh_log,
                 .store_put = env_store_put,
                 .store_del = env_store_del,
                 .app_message = env_app};
  reg_env renv = {.user = nd(w, i),
                  .random = nh_random,
                  .log = nh_log,
                  .state_put = kv_put,
                  .state_del = kv_del};
  nh_start(w->net, i, &cfg, &env);
  assert_int_equal(reg_node_new(&s->reg, &w->rcfg, &renv, nd(w, i)->dht,
                                &nd(w, i)->ident, w->net->now),
                   0);
  nh_touch(w->net, i);
}

static void node_stop(world *w, int i) {
  reg_node_free(w->p[i].reg);
  w->p[i].reg = NULL;
  nh_stop(w->net, i);
}

static world *world_new(uint64_t seed) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->net = nh_new(N, seed);
  w->net->user = w;
  w->net->hooks.deadline = reg_deadline;
  w->net->hooks.expire = reg_expire;
  dht_config *cfg = &w->net->cfg;
  dht_config_default(cfg);
  cfg->k = K;
  cfg->difficulty = DIFFICULTY;
  /* Scenarios span days of virtual time: slower maintenance keeps the
   * number of datagrams (and the sanitizer build's run time) down. */
  cfg->refresh_interval = HOUR;
  cfg->republish_interval = 6 * HOUR;
  cfg->replicate_interval = 6 * HOUR;
  test_reg_config(&w->rcfg);
  nh_identity(w->net, &w->sender, DIFFICULTY);
  for (int i = 0; i < N; i++) {
    nh_identity(w->net, &nd(w, i)->ident, DIFFICULTY);
    nd(w, i)->user = &w->p[i];
    node_start(w, i, 0);
  }
  return w;
}

static void world_free(world *w) {
  for (int i = 0; i < N; i++) {
    if (nd(w, i)->dht) node_stop(w, i);
    kv_free(&w->p[i].state);
  }
  nh_free(w->net);
  free(w);
}

/* All nodes join through node 0, 200 ms apart, then the network settles. */
static world *world_joined(uint64_t seed) {
  world *w = world_new(seed);
  nh_join_all(w->net);
  return w;
}

/* Restarts node |i| from its state store: a new DHT node (empty store,
 * same identity and address) and a new registry fed every state entry. */
static void node_restart(world *w, int i, int lax) {
  node_stop(w, i);
  node_start(w, i, lax);
  kvstore *s = &w->p[i].state;
  for (size_t j = 0; j < s->n; j++)
    assert_int_equal(reg_node_restore_state(w->p[i].reg, w->net->now, s->e[j].k,
                                            s->e[j].kl, s->e[j].v, s->e[j].vl),
                     0);
  if (i != 0) nh_join(w->net, i);
  nh_touch(w->net, i);
}

static reg_stats rstats(const world *w, int i) {
  reg_stats st;
  reg_node_stats(w->p[i].reg, &st);
  return st;
}
/* ---- batches -------------------------------------------------------------- */

static void address_of(char *out, size_t cap, size_t i) {
  snprintf(out, cap, "user%zu@example.test", i);
}

typedef struct pubres {
  int done, status;
  size_t published, failed;
} pubres;

static void on_published(void *arg, int status, size_t published,
                         size_t failed) {
  pubres *r = arg;
  assert_false(r->done);
  r->done = 1;
  r->status = status;
  r->published = published;
  r->failed = failed;
}

/* reg_batch_build's generator; |user| is the network. */
static void batch_random(void *user, uint8_t *buf, size_t len) {
  nh_rand_fill(user, buf, len);
}

/* Builds a batch of the addresses numbered |first|..|first|+|n|-1 and
 * |first2|..|first2|+|n2|-1, signed by the sender key, created now. */
static reg_batch *batch_make(world *w, size_t first, size_t n, size_t first2,
                             size_t n2) {
  char **canon = calloc(n + n2, sizeof *canon);
  assert_non_null(canon);
  for (size_t i = 0; i < n + n2; i++) {
    char a[64];
    address_of(a, sizeof a, i < n ? first + i : first2 + i - n);
    canon[i] = strdup(a);
    assert_non_null(canon[i]);
  }
  reg_batch *b = NULL;
  assert_int_equal(reg_batch_build(&b, (const char *const *)canon, n + n2,
                                   &w->sender, w->net->now / DHT_SEC,
                                   30 * 86400, BATCH_POW, batch_random, w->net),
                   0);
  for (size_t i = 0; i < n + n2; i++) free(canon[i]);
  free(canon);
  assert_int_equal(w->n_inboxes < INBOXES_MAX, 1);
  reg_inbox_key(w->inboxes[w->n_inboxes++], w->sender.pk,
                reg_batch_manifest(b)->batch_id);
  return b;
}

/* Node 0 publishes |b| and the test waits for the result. */
static void publish(world *w, const reg_batch *b) {
  uint8_t *file;
  size_t len;
  pubres res = {0};
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  assert_int_equal(reg_node_publish_batch(w->p[0].reg, w->net->now, file, len,
                                          on_published, &res),
                   0);
  free(file);
  nh_touch(w->net, 0);
  nh_wait(w->net, &res.done, 10 * MIN);
  if (!res.done && w->p[0].reg->n_pubs) {
    reg_pub *pp = w->p[0].reg->pubs[0];
    print_message("DEBUG pub n %zu next %zu inflight %zu pub %zu failed %zu "
                  "retry %llu now %llu err %d\n",
                  pp->n, pp->next, pp->in_flight, pp->published, pp->failed,
                  (unsigned long long)pp->retry_at,
                  (unsigned long long)w->net->now, pp->first_err);
  }
  assert_true(res.done);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.published, reg_batch_record_count(b));
  assert_int_equal(res.failed, 0);
}

static void protect(world *w, int i, size_t addr_no) {
  char a[64];
  address_of(a, sizeof a, addr_no);
  assert_int_equal(reg_node_protect_add(w->p[i].reg, w->net->now, a), 0);
  nh_touch(w->net, i);
}

static void full_hash_of(uint8_t full[REG_FULL_HASH_LEN], const reg_batch *b,
                         size_t addr_no) {
  char a[64];
  address_of(a, sizeof a, addr_no);
  reg_address_hash(full, reg_batch_manifest(b)->salt, a, strlen(a));
}

/* ---- reading inboxes as the sender does ------------------------------------ */

#define OPENED_MAX 256

/* The end of a get_all: the first member of what its visits fill. */
typedef struct all_done {
  int done, status;
} all_done;

static void on_all_done(void *arg, int status, unsigned found,
                        const dht_lookup_stats *st) {
  all_done *d = arg;
  (void)found, (void)st;
  d->done = 1;
  d->status = status;
}

/* Node |via| collects up to |max| records under |key|, each handed to
 * |visit| with |d| (the first member of the visit's state), and the test
 * waits until it succeeded. */
static void get_all_and_wait(world *w, int via, const uint8_t key[DHT_KEY_LEN],
                             unsigned max, dht_get_all_visit_cb visit,
                             all_done *d) {
  assert_int_equal(dht_node_get_all(nd(w, via)->dht, w->net->now, key, max,
                                    visit, on_all_done, d),
                   0);
  nh_touch(w->net, via);
  nh_wait(w->net, &d->done, 2 * MIN);
  assert_true(d->done);
  assert_int_equal(d->status, 0);
}

typedef struct inbox {
  all_done end;
  unsigned records, bad;
  uint8_t id[REG_BATCH_ID_LEN];
  uint8_t full[OPENED_MAX][REG_FULL_HASH_LEN];
  uint8_t author[OPENED_MAX][NC_PK_LEN];
  unsigned n;
  const nc_identity *sender;
} inbox;

static void on_inbox_visit(void *arg, const dht_record *rec,
                           const uint8_t *bytes, size_t len) {
  inbox *ib = arg;
  reg_optout_record x;
  reg_optout o;
  (void)bytes, (void)len;
  ib->records++;
  if (rec->type != REG_RECORD_OPTOUT ||
      reg_optout_record_decode(&x, rec->payload, rec->payload_len) != 0 ||
      reg_optout_open(&o, x.sealed, x.sealed_len, ib->sender->pk,
                      ib->sender->sk, POW_BITS) != 0 ||
      memcmp(o.batch_id, ib->id, REG_BATCH_ID_LEN) != 0 ||
      ib->n >= OPENED_MAX) {
    ib->bad++;
    return;
  }
  memcpy(ib->full[ib->n], o.full_hash, REG_FULL_HASH_LEN);
  memcpy(ib->author[ib->n++], rec->author_pk, NC_PK_LEN);
}

/* Reads batch |b|'s inbox from node |via| and opens every opt-out with
 * the sender's key. */
static void read_inbox(world *w, int via, const reg_batch *b, inbox *ib) {
  uint8_t key[DHT_KEY_LEN];
  memset(ib, 0, sizeof *ib);
  ib->sender = &w->sender;
  memcpy(ib->id, reg_batch_manifest(b)->batch_id, REG_BATCH_ID_LEN);
  reg_inbox_key(key, w->sender.pk, ib->id);
  get_all_and_wait(w, via, key, 256, on_inbox_visit, &ib->end);
  assert_int_equal(ib->bad, 0);
}

/* How many opened opt-outs carry |full|. */
static unsigned inbox_count(const inbox *ib,
                            const uint8_t full[REG_FULL_HASH_LEN]) {
  unsigned n = 0;
  for (unsigned i = 0; i < ib->n; i++)
    n += memcmp(ib->full[i], full, REG_FULL_HASH_LEN) == 0;
  return n;
}

typedef struct evidence_read {
  all_done end;
  unsigned n;
  reg_evidence e[8];
  uint8_t author[8][NC_PK_LEN];
} evidence_read;

static void on_evidence_visit(void *arg, const dht_record *rec,
                              const uint8_t *bytes, size_t len) {
  evidence_read *er = arg;
  (void)bytes, (void)len;
  assert_int_equal(rec->type, REG_RECORD_EVIDENCE);
  assert_true(er->n < 8);
  assert_int_equal(
      reg_evidence_decode(&er->e[er->n], rec->payload, rec->payload_len), 0);
  memcpy(er->author[er->n++], rec->author_pk, NC_PK_LEN);
}

static void read_evidence(world *w, int via, evidence_read *er) {
  uint8_t key[DHT_KEY_LEN];
  memset(er, 0, sizeof *er);
  reg_evidence_key(key, w->sender.pk);
  get_all_and_wait(w, via, key, 64, on_evidence_visit, &er->end);
}

/* Relay path lengths of the app messages followed so far. */
static void path_figures(const world *w, const char *what) {
  unsigned hist[12] = {0}, max = 0, n = 0;
  double sum = 0;
  for (int i = 0; i < w->n_msgs; i++) {
    unsigned h = w->msgs[i].hops;
    if (w->msgs[i].origin < 0 || h == 0) continue;
    n++;
    sum += h;
    if (h > max) max = h;
    hist[h < 11 ? h : 11]++;
  }
  print_message("%s: %u opt-outs, relay path length mean %.2f max %u "
                "(expected mean 1/(1-p_f) = %.2f); 1:%u 2:%u 3:%u 4:%u 5:%u "
                "6+:%u\n",
                what, n, n ? sum / n : 0.0, max,
                1.0 / (1.0 - w->rcfg.forward_permille / 1000.0), hist[1],
                hist[2], hist[3], hist[4], hist[5],
                n - hist[1] - hist[2] - hist[3] - hist[4] - hist[5]);
}

/* The origin of every followed app message is recorded when it is
 * queued: the test peeks at the send queue right after the call that
 * queued it (the registry sends only from handle_expiry). */
static void note_origins(world *w, int i) {
  const reg_node *r = w->p[i].reg;
  for (size_t j = 0; j < r->n_sends; j++)
    if (r->sends[j]->role == REG_SEND_ORIGIN)
      track_msg(w, i, r->sends[j]->msg, r->sends[j]->len, 1);
}

/* Runs for |d|, noting the origin of every opt-out as it is queued. */
static void run_watching(world *w, dht_time d) {
  dht_time until = w->net->now + d;
  uint64_t steps = 0;
  while (nh_step(w->net, until)) {
    assert_true(++steps < NH_MAX_STEPS);
    for (int i = 0; i < w->net->n; i++)
      if (nd(w, i)->alive && w->p[i].reg && w->p[i].reg->n_sends)
        note_origins(w, i);
  }
}

/* ---- scenarios ------------------------------------------------------------- */

#define NODE_A 5    /* protects user10, in batches 1 and 2 */
#define NODE_B 9    /* protects user500, in batch 1 only */
#define NODE_C 13   /* protects user1500, in batch 1 only */
#define NODE_NONE 17 /* protects addresses in no batch */
#define ADDR_A 10
#define ADDR_B 500
#define ADDR_C 1500

/* A joined network, three nodes protecting an address of batch 1 (plus,
 * on node A, one in no batch), one node protecting only addresses in no
 * batch; batch 1 (users 0..1999) published by node 0. */
static world *scenario(uint64_t seed, reg_batch **b1) {
  world *w = world_joined(seed);
  protect(w, NODE_A, ADDR_A);
  protect(w, NODE_A, 90000);
  protect(w, NODE_B, ADDR_B);
  protect(w, NODE_C, ADDR_C);
  protect(w, NODE_NONE, 70000);
  protect(w, NODE_NONE, 70001);
  *b1 = batch_make(w, 0, BATCH_N, 0, 0);
  publish(w, *b1);
  return w;
}

static void test_optouts_reach_the_inbox(void **state) {
  reg_batch *b1;
  inbox ib;
  (void)state;
  world *w = scenario(1, &b1);
  run_watching(w, POLL_WAIT);
  read_inbox(w, 0, b1, &ib);
  uint8_t fa[REG_FULL_HASH_LEN], fb[REG_FULL_HASH_LEN], fc[REG_FULL_HASH_LEN];
  full_hash_of(fa, b1, ADDR_A);
  full_hash_of(fb, b1, ADDR_B);
  full_hash_of(fc, b1, ADDR_C);
  /* Exactly the three addresses, once each. */
  assert_int_equal(ib.n, 3);
  assert_int_equal(inbox_count(&ib, fa), 1);
  assert_int_equal(inbox_count(&ib, fb), 1);
  assert_int_equal(inbox_count(&ib, fc), 1);
  /* Stored by relays, never by the node that opted out. */
  const int who[3] = {NODE_A, NODE_B, NODE_C};
  const uint8_t *fh[3] = {fa, fb, fc};
  for (int j = 0; j < 3; j++)
    for (unsigned i = 0; i < ib.n; i++)
      if (memcmp(ib.full[i], fh[j], REG_FULL_HASH_LEN) == 0)
        assert_memory_not_equal(ib.author[i], nd(w, who[j])->ident.pk,
                                NC_PK_LEN);
  for (int j = 0; j < 3; j++) {
    reg_stats st = rstats(w, who[j]);
    assert_int_equal(st.matches, 1);
    assert_int_equal(st.optouts_sent, 1);
    assert_int_equal(st.batches_fetched, 1);
    assert_int_equal(st.batches_refused, 0);
  }
  reg_stats none = rstats(w, NODE_NONE);
  assert_int_equal(none.batches_fetched, 1); /* it protects addresses */
  assert_int_equal(none.matches, 0);
  assert_int_equal(none.optouts_sent, 0);
  /* Nodes protecting nothing learn of the batch but fetch no chunks. */
  uint64_t relayed = 0, stored = 0;
  for (int i = 0; i < N; i++) {
    reg_stats st = rstats(w, i);
    assert_int_equal(st.batches_seen, 1);
    assert_int_equal(st.live_batches, 1);
    if (i != NODE_A && i != NODE_B && i != NODE_C && i != NODE_NONE)
      assert_int_equal(st.batches_fetched, 0);
    relayed += st.optouts_relayed;
    stored += st.optouts_stored;
  }
  assert_int_equal(stored, 3);
  /* Nothing anywhere but the batch's inbox; no evidence. */
  assert_true(w->optout_records >= 3);
  assert_int_equal(w->stray_optouts, 0);
  assert_int_equal(w->evidence_records, 0);
  print_message("inbox: %u opt-outs, %" PRIu64 " forwards, %" PRIu64
                " OPTOUT copies stored network-wide\n",
                ib.n, relayed, w->optout_records);
  path_figures(w, "batch 1");
  reg_batch_free(b1);
  world_free(w);
}

/* After the grace period a second batch still holds node A's address:
 * evidence under the sender's evidence key, then 2, 4 and 8 opt-outs a
 * day apart into the second batch's inbox, and no more. */
static void test_escalation(void **state) {
  reg_batch *b1, *b2;
  inbox ib;
  evidence_read er;
  uint8_t fa2[REG_FULL_HASH_LEN];
  (void)state;
  world *w = scenario(2, &b1);
  uint64_t published_s = w->net->now / DHT_SEC;
  run_watching(w, POLL_WAIT);
  read_inbox(w, 0, b1, &ib);
  assert_int_equal(ib.n, 3);
  uint64_t optout_s = w->net->now / DHT_SEC;
  nh_run(w->net, 3 * DAY + HOUR); /* past the grace period (3 days) */
  /* Batch 2: users 0..399 and 2000..3599: holds A's address only. */
  b2 = batch_make(w, 0, 400, 2000, BATCH_N - 400);
  publish(w, b2);
  run_watching(w, POLL_WAIT);
  read_evidence(w, 0, &er);
  assert_int_equal(er.n, 1);
  assert_memory_equal(er.author[0], nd(w, NODE_A)->ident.pk, NC_PK_LEN);
  assert_memory_equal(er.e[0].sender_pk, w->sender.pk, NC_PK_LEN);
  assert_memory_equal(er.e[0].optout_batch, reg_batch_manifest(b1)->batch_id,
                      REG_BATCH_ID_LEN);
  assert_memory_equal(er.e[0].later_batch, reg_batch_manifest(b2)->batch_id,
                      REG_BATCH_ID_LEN);
  full_hash_of(fa2, b2, ADDR_A);
  assert_int_equal(er.e[0].entry, reg_entry_of(fa2));
  assert_true(er.e[0].optout_time >= published_s &&
              er.e[0].optout_time <= optout_s);
  const unsigned want[] = {2, 6, 14, 14, 14};
  for (size_t d = 0; d < sizeof want / sizeof want[0]; d++) {
    if (d) run_watching(w, DAY);
    read_inbox(w, 0, b2, &ib);
    print_message("escalation day %zu: %u opt-outs in batch 2's inbox\n", d,
                  inbox_count(&ib, fa2));
    assert_int_equal(inbox_count(&ib, fa2), want[d]);
    assert_int_equal(ib.n, want[d]); /* nobody else's address */
  }
  reg_stats a = rstats(w, NODE_A);
  assert_int_equal(a.evidence_published, 1);
  assert_int_equal(a.escalations_sent, 14);
  assert_int_equal(a.optouts_sent, 15);
  assert_int_equal(a.matches, 2);
  assert_int_equal(rstats(w, NODE_B).matches, 1);
  assert_int_equal(rstats(w, NODE_C).matches, 1);
  assert_int_equal(w->stray_optouts, 0);
  assert_int_equal(w->stray_evidence, 0);
  path_figures(w, "escalation");
  reg_batch_free(b1);
  reg_batch_free(b2);
  world_free(w);
}

/* A restart in the middle of an escalation: the new registry, fed the
 * saved state, keeps the protected addresses, finishes the levels left
 * (4 then 8 copies) and stops at the cap; a third batch that still holds
 * the address gets one ordinary opt-out and no new evidence. */
static int collect_addr(void *arg, const char *canon) {
  char (*seen)[64] = arg;
  for (int i = 0; i < 4; i++)
    if (!seen[i][0]) {
      snprintf(seen[i], 64, "%s", canon);
      return 0;
    }
  fail();
  return 1;
}

static void test_restart_keeps_state(void **state) {
  reg_batch *b1, *b2, *b3;
  inbox ib;
  evidence_read er;
  uint8_t fa2[REG_FULL_HASH_LEN], fa3[REG_FULL_HASH_LEN];
  char seen[4][64];
  (void)state;
  world *w = scenario(3, &b1);
  run_watching(w, POLL_WAIT);
  nh_run(w->net, 3 * DAY + HOUR);
  b2 = batch_make(w, 0, 400, 2000, BATCH_N - 400);
  publish(w, b2);
  run_watching(w, POLL_WAIT);
  full_hash_of(fa2, b2, ADDR_A);
  read_inbox(w, 0, b2, &ib);
  assert_int_equal(inbox_count(&ib, fa2), 2); /* level 1 */
  node_restart(w, NODE_A, 0);
  reg_stats st = rstats(w, NODE_A);
  assert_int_equal(st.protected_addresses, 2);
  assert_int_equal(st.escalations_sent, 0); /* counters are not state */
  memset(seen, 0, sizeof seen);
  assert_int_equal(reg_node_protect_list(w->p[NODE_A].reg, collect_addr, seen),
                   2);
  assert_true((strcmp(seen[0], "user10@example.test") == 0 &&
               strcmp(seen[1], "user90000@example.test") == 0) ||
              (strcmp(seen[1], "user10@example.test") == 0 &&
               strcmp(seen[0], "user90000@example.test") == 0));
  assert_int_equal(reg_node_protect_add(w->p[NODE_A].reg, w->net->now,
                                        " User10@Example.TEST "),
                   REG_ERR_DUPLICATE);
  run_watching(w, DAY);
  read_inbox(w, 0, b2, &ib);
  assert_int_equal(inbox_count(&ib, fa2), 6); /* level 2 after the restart */
  run_watching(w, DAY);
  read_inbox(w, 0, b2, &ib);
  assert_int_equal(inbox_count(&ib, fa2), 14);
  node_restart(w, NODE_A, 0); /* once more, at the cap */
  run_watching(w, 2 * DAY);
  read_inbox(w, 0, b2, &ib);
  assert_int_equal(inbox_count(&ib, fa2), 14);
  /* The restarted registries learned of no batch again: the seen batches
   * are state too. */
  assert_int_equal(rstats(w, NODE_A).batches_seen, 0);
  /* Batch 3 still holds the address: one ordinary opt-out. */
  b3 = batch_make(w, 0, 100, 5000, BATCH_N - 100);
  publish(w, b3);
  run_watching(w, POLL_WAIT);
  full_hash_of(fa3, b3, ADDR_A);
  read_inbox(w, 0, b3, &ib);
  assert_int_equal(ib.n, 1);
  assert_int_equal(inbox_count(&ib, fa3), 1);
  read_evidence(w, 0, &er);
  assert_int_equal(er.n, 1);
  st = rstats(w, NODE_A);
  assert_int_equal(st.escalations_sent, 0);
  assert_int_equal(st.evidence_published, 0);
  assert_int_equal(st.optouts_sent, 1);
  assert_int_equal(w->stray_optouts, 0);
  reg_batch_free(b1);
  reg_batch_free(b2);
  reg_batch_free(b3);
  world_free(w);
}

/* One node protecting 300 addresses, 120 of them in the batch: matched by
 * sort + merge (more than REG_MATCH_FEW_MAX), 120 opt-outs that each take
 * their own relay path: the path length figures. */
static void test_many_addresses(void **state) {
  reg_batch *b1;
  inbox ib;
  (void)state;
  world *w = world_joined(6);
  const int x = 21;
  for (size_t i = 0; i < 300; i++)
    protect(w, x, i < 120 ? 7 + 16 * i : 50000 + i);
  b1 = batch_make(w, 0, BATCH_N, 0, 0);
  publish(w, b1);
  run_watching(w, POLL_WAIT);
  read_inbox(w, 3, b1, &ib);
  assert_int_equal(ib.n, 120);
  for (size_t i = 0; i < 120; i++) {
    uint8_t f[REG_FULL_HASH_LEN];
    full_hash_of(f, b1, 7 + 16 * i);
    assert_int_equal(inbox_count(&ib, f), 1);
  }
  reg_stats st = rstats(w, x);
  assert_int_equal(st.matches, 120);
  assert_int_equal(st.optouts_sent, 120);
  assert_int_equal(st.protected_addresses, 300);
  assert_int_equal(w->stray_optouts, 0);
  uint64_t relayed = 0, stored = 0, refused = 0;
  for (int i = 0; i < N; i++) {
    reg_stats s = rstats(w, i);
    relayed += s.optouts_relayed;
    stored += s.optouts_stored;
    refused += s.relays_refused;
  }
  assert_int_equal(stored, 120);
  assert_int_equal(refused, 0);
  print_message("120 opt-outs: %" PRIu64 " forwards (%.2f per opt-out)\n",
                relayed, (double)relayed / 120);
  path_figures(w, "many addresses");
  /* Crowds: mean path length 1/(1 - p_f) = 4; allow sampling error. */
  double hops = 0;
  unsigned n = 0;
  for (int i = 0; i < w->n_msgs; i++)
    if (w->msgs[i].origin == x) {
      hops += w->msgs[i].hops;
      n++;
    }
  assert_int_equal(n, 120);
  assert_true(hops / n > 3.0 && hops / n < 5.0);
  reg_batch_free(b1);
  world_free(w);
}

/* A newly protected address is checked against the batches already
 * known: from the cached entries when the node holds them, after
 * fetching them when it does not. */
static void test_protect_add_known_batch(void **state) {
  reg_batch *b1;
  inbox ib;
  uint8_t f1[REG_FULL_HASH_LEN], f2[REG_FULL_HASH_LEN];
  (void)state;
  world *w = world_joined(4);
  const int bare = 7, holder = NODE_NONE;
  protect(w, holder, 70000);
  b1 = batch_make(w, 0, BATCH_N, 0, 0);
  publish(w, b1);
  run_watching(w, POLL_WAIT);
  assert_int_equal(rstats(w, bare).batches_seen, 1);
  assert_int_equal(rstats(w, bare).batches_fetched, 0);
  assert_int_equal(rstats(w, holder).batches_fetched, 1);
  /* The holder has the entries: the match is immediate. */
  protect(w, holder, 43);
  assert_int_equal(rstats(w, holder).matches, 1);
  assert_true(w->p[holder].reg->n_sends >= 1);
  /* The bare node fetches the batch first. */
  protect(w, bare, 42);
  assert_int_equal(rstats(w, bare).matches, 0);
  run_watching(w, 10 * MIN);
  assert_int_equal(rstats(w, bare).batches_fetched, 1);
  assert_int_equal(rstats(w, bare).matches, 1);
  assert_int_equal(rstats(w, holder).batches_fetched, 1);
  read_inbox(w, 0, b1, &ib);
  full_hash_of(f1, b1, 42);
  full_hash_of(f2, b1, 43);
  assert_int_equal(ib.n, 2);
  assert_int_equal(inbox_count(&ib, f1), 1);
  assert_int_equal(inbox_count(&ib, f2), 1);
  /* Removing and adding again sends nothing new for the same batch. */
  char a[64];
  address_of(a, sizeof a, 43);
  assert_int_equal(reg_node_protect_remove(w->p[holder].reg, w->net->now, a),
                   0);
  assert_int_equal(reg_node_protect_remove(w->p[holder].reg, w->net->now, a),
                   DHT_ERR_NOT_FOUND);
  protect(w, holder, 43);
  assert_int_equal(rstats(w, holder).matches, 1);
  reg_batch_free(b1);
  world_free(w);
}

static size_t closest_node(const world *w, const uint8_t key[DHT_KEY_LEN],
                           int skip1, int skip2) {
  int best = -1;
  for (int i = 1; i < w->net->n; i++) {
    if (i == skip1 || i == skip2) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    for (int j = 0; j < DHT_KEY_LEN; j++) {
      uint8_t a = nd(w, i)->ident.id[j] ^ key[j];
      uint8_t b = nd(w, best)->ident.id[j] ^ key[j];
      if (a != b) {
        if (a < b) best = i;
        break;
      }
    }
  }
  return (size_t)best;
}

/* A chunk record under the key of chunk |idx| with the payload of chunk
 * |other|, signed by |author|: valid but for the key rule. */
static size_t tampered_chunk(const reg_batch *b, size_t idx, size_t other,
                             const nc_identity *author, uint64_t now_s,
                             uint8_t out[DHT_MAX_RECORD]) {
  dht_record good, src;
  size_t len, glen, slen;
  const uint8_t *g = reg_batch_record(b, idx, &glen);
  const uint8_t *o = reg_batch_record(b, other, &slen);
  assert_int_equal(dht_record_decode(&good, g, glen), 0);
  assert_int_equal(dht_record_decode(&src, o, slen), 0);
  assert_int_equal(reg_record_make(out, DHT_MAX_RECORD, &len, REG_RECORD_CHUNK,
                                   good.key, src.payload, src.payload_len,
                                   author, now_s, now_s + 86400, 0),
                   0);
  return len;
}

/* A tampered copy of a chunk: on another storer it is refused by the
 * DHT's verification (the key rule binds the payload) and the value is
 * taken from another reply; in the fetching node's own store (where the
 * DHT would hand it over unchecked) reg_fetch_add refuses it and the
 * chunk is read again from every storer. */
static void test_tampered_chunk(void **state) {
  uint8_t bad[DHT_MAX_RECORD], key[DHT_KEY_LEN];
  dht_record rec;
  size_t glen;
  (void)state;
  world *w = world_joined(5);
  reg_batch *b1 = batch_make(w, 0, BATCH_N, 0, 0);
  size_t last = reg_batch_record_count(b1) - 1;
  const uint8_t *g = reg_batch_record(b1, last, &glen);
  assert_int_equal(dht_record_decode(&rec, g, glen), 0);
  memcpy(key, rec.key, DHT_KEY_LEN);
  /* The fetcher is the node farthest from the chunk (so it stores no
   * honest copy), the storer the closest. */
  int storer = (int)closest_node(w, key, -1, -1), fetcher = -1, honest = -1;
  for (int i = 1; i < N && fetcher < 0; i++) {
    int far = 1;
    for (int j = 1; j < N && far; j++) {
      if (j == i) continue;
      for (int b = 0; b < DHT_KEY_LEN; b++) {
        uint8_t x = nd(w, i)->ident.id[b] ^ key[b];
        uint8_t y = nd(w, j)->ident.id[b] ^ key[b];
        if (x != y) {
          far = x > y;
          break;
        }
      }
    }
    if (far) fetcher = i;
  }
  honest = storer == 15 || fetcher == 15 ? 16 : 15;
  assert_true(fetcher > 0 && storer > 0 && fetcher != storer);
  /* Both get chunk rules without a key check, so their stores take the
   * tampered copies. */
  node_restart(w, fetcher, 1);
  node_restart(w, storer, 1);
  nh_run(w->net, 30 * DHT_SEC);
  uint64_t now_s = w->net->now / DHT_SEC;
  size_t len =
      tampered_chunk(b1, last, last - 1, &nd(w, storer)->ident, now_s, bad);
  assert_int_equal(
      dht_node_restore_record(nd(w, storer)->dht, w->net->now, bad, len, 0), 0);
  len = tampered_chunk(b1, last, last - 2, &nd(w, fetcher)->ident, now_s, bad);
  assert_int_equal(
      dht_node_restore_record(nd(w, fetcher)->dht, w->net->now, bad, len, 0),
      0);
  uint64_t refused_before = 0;
  for (int i = 0; i < N; i++) {
    dht_stats ds;
    dht_node_stats(nd(w, i)->dht, &ds);
    refused_before += ds.records_refused;
  }
  protect(w, fetcher, 1999);
  protect(w, honest, 1998);
  publish(w, b1);
  run_watching(w, POLL_WAIT);
  reg_stats f = rstats(w, fetcher), h = rstats(w, honest);
  print_message("tampered chunk: fetcher refetched %" PRIu64
                " chunk(s); honest node %" PRIu64 "\n",
                f.chunks_refetched, h.chunks_refetched);
  assert_true(f.chunks_refetched >= 1);
  assert_int_equal(f.batches_fetched, 1);
  assert_int_equal(f.batches_refused, 0);
  assert_int_equal(f.matches, 1);
  assert_int_equal(h.batches_fetched, 1);
  assert_int_equal(h.matches, 1);
  /* The storer's copy was refused by those it reached. */
  nh_run(w->net, 13 * HOUR); /* replication passes push it to its neighbours */
  uint64_t refused = 0;
  for (int i = 0; i < N; i++) {
    dht_stats ds;
    dht_node_stats(nd(w, i)->dht, &ds);
    refused += ds.records_refused;
  }
  assert_true(refused > refused_before);
  inbox ib;
  read_inbox(w, 0, b1, &ib);
  assert_int_equal(ib.n, 2);
  reg_batch_free(b1);
  world_free(w);
}

/* ---- single-node checks ------------------------------------------------------ */

/* One node, no network: enough for argument checks, the app message
 * codec, state restore and publishing errors. */
static world *world_single(uint64_t seed) {
  world *w = world_new(seed);
  return w;
}

static size_t app_msg(world *w, uint8_t out[REG_APP_MAX], size_t sealed_len) {
  uint8_t sealed[REG_OPTOUT_SEALED_MAX + 8], id[REG_BATCH_ID_LEN];
  size_t len;
  nh_rand_fill(w->net, sealed, sizeof sealed);
  nh_rand_fill(w->net, id, sizeof id);
  assert_int_equal(
      reg_app_encode(out, &len, w->sender.pk, id, sealed, sealed_len), 0);
  return len;
}

static void test_app_message_strict(void **state) {
  uint8_t m[REG_APP_MAX + 16];
  dht_contact from;
  (void)state;
  world *w = world_single(7);
  reg_node *r = w->p[1].reg;
  memset(&from, 0, sizeof from);
  memcpy(from.pk, nd(w, 2)->ident.pk, NC_PK_LEN);
  from.nonce = nd(w, 2)->ident.nonce;
  from.addr = nd(w, 2)->addr;
  size_t len = app_msg(w, m, 130);
  /* Every mutation of a valid message is refused. */
  unsigned refused = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c[REG_APP_MAX];
    /* Layout: 94 01 c4 20 pk(4..35) c4 10 id(38..53) c4 len sealed(56..):
     * a flipped bit inside the key, id or sealed blob keeps it valid. */
    if ((i >= 4 && i <= 35) || (i >= 38 && i <= 53) || i >= 56) continue;
    memcpy(c, m, len);
    c[i] ^= 0x01;
    assert_int_equal(reg_node_handle_app_message(r, w->net->now, &from, c, len),
                     DHT_ERR_MALFORMED);
    refused++;
  }
  assert_int_equal(refused, 8);
  assert_int_equal(
      reg_node_handle_app_message(r, w->net->now, &from, m, len - 1),
      DHT_ERR_MALFORMED);
  m[len] = 0;
  assert_int_equal(
      reg_node_handle_app_message(r, w->net->now, &from, m, len + 1),
      DHT_ERR_MALFORMED);
  assert_int_equal(reg_node_handle_app_message(r, w->net->now, &from, m, 0),
                   DHT_ERR_MALFORMED);
  uint8_t junk[300];
  for (int t = 0; t < 2000; t++) {
    size_t jl = 1 + nh_rand(w->net) % sizeof junk;
    nh_rand_fill(w->net, junk, jl);
    junk[0] = 0x94; /* an array of four: get past the first check */
    (void)reg_node_handle_app_message(r, w->net->now, &from, junk, jl);
  }
  uint8_t s1[REG_APP_MAX];
  /* Sizes outside REG_OPTOUT_SEALED_MIN..MAX cannot even be encoded. */
  size_t l1;
  uint8_t id[REG_BATCH_ID_LEN] = {0};
  assert_int_equal(reg_app_encode(s1, &l1, w->sender.pk, id, junk,
                                  REG_OPTOUT_SEALED_MIN - 1),
                   REG_ERR_INVALID_ARGUMENT);
  reg_stats st = rstats(w, 1);
  assert_true(st.relays_refused >= refused + 3);
  assert_int_equal(r->n_sends + r->n_puts, 0);
  /* A valid one is taken (forwarded or stored), until the rate limit. */
  unsigned ok = 0, busy = 0;
  for (int t = 0; t < REG_RELAY_BURST + 20; t++) {
    size_t l = app_msg(w, m, REG_OPTOUT_SEALED_MIN + (size_t)t % 50);
    int rv = reg_node_handle_app_message(r, w->net->now, &from, m, l);
    if (rv == 0)
      ok++;
    else if (rv == DHT_ERR_BUSY)
      busy++;
    else
      fail();
  }
  print_message("relay: %u taken, %u refused by the rate limit\n", ok, busy);
  assert_int_equal(ok, REG_RELAY_BURST);
  assert_int_equal(busy, 20);
  assert_int_equal(r->n_sends + r->n_puts, REG_RELAY_BURST);
  /* Roughly p_f of them forwarded. */
  assert_true(r->n_sends > REG_RELAY_BURST / 2 &&
              r->n_sends < REG_RELAY_BURST * 9 / 10);
  world_free(w);
}

/* The stored OPTOUT record a relay makes: author = relay, key = inbox,
 * payload = the message's sender, batch and sealed blob. */
static void test_relay_stores_record(void **state) {
  uint8_t m[REG_APP_MAX], key[DHT_KEY_LEN];
  dht_contact from;
  (void)state;
  world *w = world_new(8);
  w->p[1].reg->cfg.forward_permille = 0; /* always store */
  memset(&from, 0, sizeof from);
  memcpy(from.pk, nd(w, 2)->ident.pk, NC_PK_LEN);
  size_t len = app_msg(w, m, 120);
  uint8_t sender[NC_PK_LEN], id[REG_BATCH_ID_LEN];
  const uint8_t *sealed;
  size_t slen;
  assert_int_equal(reg_app_decode(m, len, sender, id, &sealed, &slen), 0);
  assert_int_equal(slen, 120);
  assert_int_equal(
      reg_node_handle_app_message(w->p[1].reg, w->net->now, &from, m, len), 0);
  assert_int_equal(w->p[1].reg->n_puts, 1);
  /* Nothing happens inside the hook; the expiry does the put. */
  assert_int_equal(reg_node_next_deadline(w->p[1].reg), w->net->now);
  nh_touch(w->net, 1);
  nh_run(w->net, 5 * DHT_SEC);
  reg_inbox_key(key, sender, id);
  assert_int_equal(dht_node_local_get(nd(w, 1)->dht, key, NULL, NULL), 1);
  world_free(w);
}

static void test_restore_state_strict(void **state) {
  (void)state;
  world *w = world_joined(9);
  reg_batch *b1 = batch_make(w, 0, BATCH_N, 0, 0);
  protect(w, NODE_A, ADDR_A);
  publish(w, b1);
  run_watching(w, POLL_WAIT);
  kvstore *s = &w->p[NODE_A].state;
  int tags[256] = {0};
  for (size_t i = 0; i < s->n; i++) tags[s->e[i].k[0]]++;
  /* protected address, history, batch seen, opt-out sent */
  assert_int_equal(tags['P'], 1);
  assert_int_equal(tags['H'], 1);
  assert_int_equal(tags['B'], 1);
  assert_int_equal(tags['O'], 1);
  reg_node *r;
  reg_env env = {.user = nd(w, NODE_A), .random = nh_random};
  assert_int_equal(reg_node_new(&r, &w->rcfg, &env, nd(w, NODE_A)->dht,
                                &nd(w, NODE_A)->ident, w->net->now),
                   0);
  for (size_t i = 0; i < s->n; i++) {
    kv *e = &s->e[i];
    uint8_t k[300], v[300];
    memcpy(k, e->k, e->kl);
    memcpy(v, e->v, e->vl);
    /* a bad version, a short or long value, a short or long key */
    v[0] ^= 3;
    assert_int_equal(reg_node_restore_state(r, w->net->now, k, e->kl, v, e->vl),
                     REG_ERR_MALFORMED);
    v[0] ^= 3;
    assert_int_equal(
        reg_node_restore_state(r, w->net->now, k, e->kl, v, e->vl - 1),
        REG_ERR_MALFORMED);
    v[e->vl] = 0;
    assert_int_equal(
        reg_node_restore_state(r, w->net->now, k, e->kl, v, e->vl + 1),
        REG_ERR_MALFORMED);
    if (k[0] != 'P') {
      assert_int_equal(
          reg_node_restore_state(r, w->net->now, k, e->kl - 1, v, e->vl),
          REG_ERR_MALFORMED);
      k[e->kl] = 0;
      assert_int_equal(
          reg_node_restore_state(r, w->net->now, k, e->kl + 1, v, e->vl),
          REG_ERR_MALFORMED);
    }
    assert_int_equal(reg_node_restore_state(r, w->net->now, k, e->kl, v, e->vl),
                     0);
    assert_int_equal(reg_node_restore_state(r, w->net->now, k, e->kl, v, e->vl),
                     k[0] == 'B' ? 0 : REG_ERR_DUPLICATE);
  }
  reg_stats st;
  reg_node_stats(r, &st);
  assert_int_equal(st.protected_addresses, 1);
  assert_int_equal(st.live_batches, 1);
  /* Addresses must already be canonical. */
  const char *bad_addr[] = {"PUser@x.test", "P user@x.test", "Puser@X.test",
                            "Pnoat.test", "Pa@b@c", "P@x.test", "Pu@"};
  uint8_t v9[9] = {1};
  for (size_t i = 0; i < sizeof bad_addr / sizeof *bad_addr; i++)
    assert_int_equal(reg_node_restore_state(r, w->net->now,
                                            (const uint8_t *)bad_addr[i],
                                            strlen(bad_addr[i]), v9, 9),
                     REG_ERR_MALFORMED);
  uint8_t nul[] = {'P', 'a', 0, '@', 'b'};
  assert_int_equal(
      reg_node_restore_state(r, w->net->now, nul, sizeof nul, v9, 9),
      REG_ERR_MALFORMED);
  /* Fields out of range. */
  uint8_t hk[65] = {'H'}, hv[82] = {1};
  hv[25] = 200; /* level */
  assert_int_equal(reg_node_restore_state(r, w->net->now, hk, 65, hv, 82),
                   REG_ERR_MALFORMED);
  hv[25] = 0;
  memset(hv + 26, 0, 8); /* level 0 with a scheduled level */
  assert_int_equal(reg_node_restore_state(r, w->net->now, hk, 65, hv, 82),
                   REG_ERR_MALFORMED);
  uint8_t bk[49] = {'B'}, bv[18] = {1, 4};
  assert_int_equal(reg_node_restore_state(r, w->net->now, bk, 49, bv, 18),
                   REG_ERR_MALFORMED);
  bv[1] = 0;
  bv[2] = 9; /* created 9 > expires 0 */
  assert_int_equal(reg_node_restore_state(r, w->net->now, bk, 49, bv, 18),
                   REG_ERR_MALFORMED);
  uint8_t empty = 0;
  assert_int_equal(reg_node_restore_state(r, w->net->now, &empty, 0, &empty, 0),
                   REG_ERR_MALFORMED);
  /* Random bytes never crash it and are refused (or, rarely, valid). */
  uint8_t k[300], v[300];
  const char tagset[] = "PHBOX";
  for (int t = 0; t < 5000; t++) {
    size_t kl = 1 + nh_rand(w->net) % 100, vl = nh_rand(w->net) % 100;
    nh_rand_fill(w->net, k, kl);
    nh_rand_fill(w->net, v, vl);
    k[0] = (uint8_t)tagset[nh_rand(w->net) % 5];
    if (vl) v[0] = 1;
    (void)reg_node_restore_state(r, w->net->now, k, kl, v, vl);
  }
  reg_node_free(r);
  reg_batch_free(b1);
  world_free(w);
}

static void test_publish_refuses_bad_files(void **state) {
  uint8_t *file;
  size_t len;
  pubres res = {0};
  (void)state;
  world *w = world_single(10);
  reg_batch *b = batch_make(w, 0, 300, 0, 0);
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  reg_node *r = w->p[0].reg;
  /* truncated, tampered anywhere after the header, empty */
  assert_true(reg_node_publish_batch(r, w->net->now, file, len - 1,
                                     on_published, &res) < 0);
  for (size_t at = 12; at < len; at += 97) {
    file[at] ^= 0x20;
    assert_true(reg_node_publish_batch(r, w->net->now, file, len, on_published,
                                       &res) < 0);
    file[at] ^= 0x20;
  }
  assert_int_equal(
      reg_node_publish_batch(r, w->net->now, file, 0, on_published, &res),
      REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(r->n_pubs, 0);
  dht_stats ds;
  dht_node_stats(nd(w, 0)->dht, &ds);
  assert_int_equal(ds.own_records, 0);
  /* Announced two hours ago: stale for running nodes, refused; announced
   * again by the sender, accepted. */
  run_watching(w, 2 * HOUR);
  assert_int_equal(reg_node_publish_batch(r, w->net->now, file, len,
                                          on_published, &res),
                   REG_ERR_STALE);
  assert_int_equal(r->n_pubs, 0);
  assert_int_equal(
      reg_batch_reannounce(b, &w->sender, w->net->now / DHT_SEC, BATCH_POW), 0);
  uint8_t *again;
  size_t again_len;
  assert_int_equal(reg_batch_file_encode(b, &again, &again_len), 0);
  assert_int_equal(reg_node_publish_batch(r, w->net->now, again, again_len,
                                          on_published, &res),
                   0);
  nh_wait(w->net, &res.done, 10 * MIN);
  assert_true(res.done);
  free(again);
  res.done = 0;
  /* Expired by now: refused too. */
  w->net->now += 31 * DAY;
  assert_true(reg_node_publish_batch(r, w->net->now, file, len, on_published,
                                     &res) < 0);
  assert_false(res.done);
  free(file);
  reg_batch_free(b);
  world_free(w);
}

/* A record that no storer answered is put again (REG_PUBLISH_TRIES in
 * all): the network goes silent while a batch is published and comes back
 * a few seconds later; the publish completes with nothing failed. */
static void test_publish_retries_timeouts(void **state) {
  (void)state;
  world *w = world_joined(31);
  reg_batch *b = batch_make(w, 0, 300, 0, 0);
  uint8_t *file;
  size_t len;
  pubres res = {0};
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  for (int i = 1; i < w->net->n; i++) nd(w, i)->alive = 0;
  assert_int_equal(reg_node_publish_batch(w->p[0].reg, w->net->now, file, len,
                                          on_published, &res),
                   0);
  nh_touch(w->net, 0);
  run_watching(w, 3 * DHT_SEC);
  assert_false(res.done);
  for (int i = 1; i < w->net->n; i++) {
    nd(w, i)->alive = 1;
    nh_touch(w->net, i);
  }
  nh_wait(w->net, &res.done, 10 * MIN);
  assert_true(res.done);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.failed, 0);
  assert_int_equal(res.published, reg_batch_record_count(b));
  free(file);
  reg_batch_free(b);
  world_free(w);
}

static void test_api_arguments(void **state) {
  reg_config c;
  reg_node *r = (reg_node *)1;
  (void)state;
  world *w = world_single(11);
  reg_env env = {.user = nd(w, 0), .random = nh_random};
  test_reg_config(&c);
  c.forward_permille = 1000; /* forwarding forever */
  assert_int_equal(
      reg_node_new(&r, &c, &env, nd(w, 0)->dht, &nd(w, 0)->ident, w->net->now),
      REG_ERR_INVALID_ARGUMENT);
  assert_null(r);
  test_reg_config(&c);
  env.random = NULL;
  assert_int_equal(
      reg_node_new(&r, &c, &env, nd(w, 0)->dht, &nd(w, 0)->ident, w->net->now),
      REG_ERR_INVALID_ARGUMENT);
  reg_node *n = w->p[3].reg;
  const char *bad[] = {"", "nobody", "a@b@c", "a b@c", "@x", "x@"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(reg_node_protect_add(n, w->net->now, bad[i]),
                     REG_ERR_ADDRESS);
  assert_int_equal(reg_node_protect_add(n, w->net->now, NULL), REG_ERR_ADDRESS);
  assert_int_equal(reg_node_protect_add(n, w->net->now, "A@B.c"), 0);
  assert_int_equal(reg_node_protect_add(n, w->net->now, "a@b.C"),
                   REG_ERR_DUPLICATE);
  assert_int_equal(reg_node_protect_remove(n, w->net->now, "x@y.z"),
                   DHT_ERR_NOT_FOUND);
  assert_int_equal(w->p[3].state.n, 1);
  assert_int_equal(reg_node_protect_remove(n, w->net->now, " a@B.c"), 0);
  assert_int_equal(w->p[3].state.n, 0); /* state_del ran */
  assert_int_equal(reg_node_protect_list(n, NULL, NULL), 0);
  n->cfg.max_protected = 2;
  assert_int_equal(reg_node_protect_add(n, w->net->now, "a@b.c"), 0);
  assert_int_equal(reg_node_protect_add(n, w->net->now, "b@b.c"), 0);
  assert_int_equal(reg_node_protect_add(n, w->net->now, "c@b.c"),
                   REG_ERR_TOO_LARGE);
  /* Time never goes backward: an earlier now is taken as the latest. */
  reg_node_handle_expiry(n, w->net->now + DHT_SEC);
  reg_node_handle_expiry(n, w->net->now);
  assert_true(reg_node_next_deadline(n) >= w->net->now);
  world_free(w);
}

/* A provider's node with more hits in one batch than its queue of own
 * opt-outs holds: the rest wait, the batch stays "not yet matched" in the
 * state, and it is matched again once the queue has drained. White box:
 * the batch's entries are handed to the registry directly, and with no
 * contact nothing leaves the queue until the test empties it. */
static void test_origin_backpressure(void **state) {
  (void)state;
  world *w = world_single(12);
  reg_node *r = w->p[1].reg;
  const size_t n_prot = REG_ORIGIN_QUEUE_MAX + 100, n_batch = n_prot + 700;
  for (size_t i = 0; i < n_prot; i++) {
    char a[64];
    address_of(a, sizeof a, i);
    assert_int_equal(reg_node_protect_add(r, w->net->now, a), 0);
  }
  reg_batch *b = batch_make(w, 0, n_batch, 0, 0);
  const reg_manifest *m = reg_batch_manifest(b);
  size_t n;
  const uint64_t *e = reg_batch_entries(b, &n);
  reg_live *lb =
      reg_live_add(r, w->sender.pk, m->batch_id, w->net->now / DHT_SEC,
                   w->net->now / DHT_SEC + DAY / DHT_SEC, REG_PH_READY);
  assert_non_null(lb);
  memcpy(lb->salt, m->salt, REG_SALT_LEN);
  lb->entries = malloc(n * sizeof *e);
  assert_non_null(lb->entries);
  memcpy(lb->entries, e, n * sizeof *e);
  lb->n_entries = n;
  r->cached_entries += n;
  reg_match_live(r, lb, NULL);
  reg_stats st = rstats(w, 1);
  print_message("backpressure: %" PRIu64 " of %zu hits answered at once\n",
                st.matches, n_prot);
  assert_true(st.matches >= REG_ORIGIN_QUEUE_MAX - 2 &&
              st.matches <= REG_ORIGIN_QUEUE_MAX);
  assert_int_equal(r->n_origin, st.matches);
  assert_int_equal(lb->rematch, 1);
  uint8_t k[49] = {'B'};
  memcpy(k + 1, w->sender.pk, NC_PK_LEN);
  memcpy(k + 33, m->batch_id, REG_BATCH_ID_LEN);
  kv *ent = kv_find(&w->p[1].state, k, sizeof k);
  assert_non_null(ent);
  assert_int_equal(ent->v[1], 2); /* not yet matched */
  /* Still full: nothing more. */
  reg_node_handle_expiry(r, w->net->now);
  assert_int_equal(rstats(w, 1).matches, st.matches);
  /* The queue drains (here: emptied by hand). */
  for (size_t i = 0; i < r->n_sends; i++) free(r->sends[i]);
  r->n_sends = r->n_origin = 0;
  reg_node_handle_expiry(r, w->net->now);
  assert_int_equal(rstats(w, 1).matches, n_prot);
  assert_int_equal(r->n_origin, n_prot - st.matches);
  assert_int_equal(lb->rematch, 0);
  ent = kv_find(&w->p[1].state, k, sizeof k); /* the store grew since */
  assert_non_null(ent);
  assert_int_equal(ent->v[1], 0);
  reg_batch_free(b);
  world_free(w);
}

/* ---- many addresses against synthetic batches -------------------------- */

#define SYN_PROT 100 /* protected addresses: above REG_MATCH_FEW_MAX */

/* splitmix64 step: the filler entries' own deterministic sequence. */
static uint64_t mix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The entry of protected address |i| under |salt|, as a sender hashes. */
static uint64_t syn_entry(const uint8_t salt[REG_SALT_LEN], size_t i) {
  uint8_t full[REG_FULL_HASH_LEN];
  char a[64];
  address_of(a, sizeof a, i);
  reg_address_hash(full, salt, a, strlen(a));
  return reg_entry_of(full);
}

/* Hands |r| a ready batch (sender and id filled with |tag|): |n_fill|
 * filler entries, the entry of every even protected address and the
 * neighbours (entry - 1, entry + 1) of every odd one, sorted, duplicates
 * removed. */
static reg_live *syn_batch(world *w, reg_node *r, uint8_t tag,
                           size_t n_fill) {
  uint8_t sender[NC_PK_LEN], id[REG_BATCH_ID_LEN];
  uint64_t seed = tag, *e = malloc((n_fill + 2 * SYN_PROT) * sizeof *e);
  size_t n = 0, u = 0;
  assert_non_null(e);
  memset(sender, tag, sizeof sender);
  memset(id, tag, sizeof id);
  reg_live *lb = reg_live_add(r, sender, id, w->net->now / DHT_SEC,
                              w->net->now / DHT_SEC + DAY / DHT_SEC,
                              REG_PH_READY);
  assert_non_null(lb);
  nh_rand_fill(w->net, lb->salt, REG_SALT_LEN);
  for (size_t i = 0; i < n_fill; i++) e[n++] = mix64(&seed);
  for (size_t i = 0; i < SYN_PROT; i++) {
    uint64_t v = syn_entry(lb->salt, i);
    if (i % 2 == 0) {
      e[n++] = v;
      continue;
    }
    if (v > 0) e[n++] = v - 1;
    if (v < UINT64_MAX) e[n++] = v + 1;
  }
  qsort(e, n, sizeof *e, cmp_u64);
  for (size_t i = 0; i < n; i++)
    if (u == 0 || e[u - 1] != e[i]) e[u++] = e[i];
  lb->entries = e;
  lb->n_entries = u;
  r->cached_entries += u;
  return lb;
}

/* Matching |lb| reports exactly the protected addresses whose entry it
 * holds (oracle: bsearch over the entries), each once. */
static void syn_check(world *w, reg_node *r, reg_live *lb) {
  uint64_t before = rstats(w, 1).matches;
  size_t expect = 0;
  uint8_t in[SYN_PROT];
  for (size_t i = 0; i < SYN_PROT; i++) {
    uint64_t v = syn_entry(lb->salt, i);
    in[i] = bsearch(&v, lb->entries, lb->n_entries, sizeof v, cmp_u64) != NULL;
    expect += in[i];
    if (i % 2 == 0) assert_true(in[i]);
  }
  assert_int_equal(expect, SYN_PROT / 2); /* no filler hit an odd one */
  assert_int_equal(reg_match_live(r, lb, NULL), expect);
  assert_int_equal(rstats(w, 1).matches - before, expect);
  for (size_t i = 0; i < SYN_PROT; i++) {
    char a[64];
    address_of(a, sizeof a, i);
    const reg_addr *ad = reg_addrset_find(&r->addrs, a, strlen(a));
    assert_non_null(ad);
    assert_int_equal(reg_live_sent_has(lb, ad->ref), in[i]);
  }
  /* Matching again finds the same hits, all answered already. */
  assert_int_equal(reg_match_live(r, lb, NULL), expect);
  assert_int_equal(rstats(w, 1).matches - before, expect);
}

/* An index record naming a batch whose manifest is nowhere (one signature
 * to make): each node tries the manifest REG_RESOLVE_TRIES times, forgets
 * the batch, and does not take it up again at the following polls. */
typedef struct putres {
  int done, status;
} putres;

static void on_put(void *arg, int status, unsigned stored,
                   const dht_lookup_stats *st) {
  putres *r = arg;
  (void)stored, (void)st;
  r->done = 1;
  r->status = status;
}

static void test_bare_index_forgotten(void **state) {
  (void)state;
  world *w = world_joined(21);
  reg_batch *b = batch_make(w, 0, 100, 0, 0);
  size_t len;
  const uint8_t *index = reg_batch_record(b, 1, &len); /* 1 = index */
  putres res = {0};
  assert_int_equal(dht_node_put(nd(w, 0)->dht, w->net->now, index, len,
                                on_put, &res),
                   0);
  nh_touch(w->net, 0);
  nh_wait(w->net, &res.done, 2 * MIN);
  assert_true(res.done);
  assert_int_equal(res.status, 0);
  /* Two and a half polls (30 min apart): the record's window is read by
   * each of them; the manifest lookups fail within minutes of the first. */
  run_watching(w, 75 * MIN);
  for (int i = 1; i < w->net->n; i++) {
    reg_stats st = rstats(w, i);
    assert_int_equal(st.batches_seen, 1);
    assert_int_equal(st.live_batches, 0);
  }
  reg_batch_free(b);
  world_free(w);
}

/* Crowding the index (PROTOCOL.md 12.1): CROWD_KEYS sender keys announce
 * CROWD_PER_KEY batches each in the current window, every announcement
 * with a valid index proof of work and ground so that its slot sorts
 * before the genuine announcement's (storers serve a key's records in
 * slot order, and a reader used to take only the first 256). Storers keep
 * REG_INDEX_PER_AUTHOR per key (more than 256 in all), readers here take
 * CROWD_READ per read, and every node still learns of the genuine batch
 * by reading the crowded window on from where it stopped, a page a poll. */
#define CROWD_KEYS 40
#define CROWD_PER_KEY 10
#define CROWD_READ 64 /* index_read_max of the readers */

#define CROWD_NODE 3 /* lax: its own store keeps the whole flood */

/* Puts one index record by |id| naming a random batch, whose slot sorts
 * before |before|, from CROWD_NODE. */
static void crowd_put(world *w, const nc_identity *id,
                      const uint8_t before[DHT_KEY_LEN]) {
  uint64_t now_s = w->net->now / DHT_SEC;
  reg_index x = {.window = reg_index_window(now_s), .count = 100};
  uint8_t payload[REG_INDEX_PAYLOAD_MAX], key[DHT_KEY_LEN], slot[DHT_KEY_LEN];
  uint8_t rec[DHT_MAX_RECORD];
  size_t plen, len;
  dht_record probe;
  int tries = 0;
  do {
    assert_true(++tries < (1 << 16));
    batch_random(w->net, x.batch_id, sizeof x.batch_id);
    assert_int_equal(reg_index_pow_mine(&x, id->pk, BATCH_POW), 0);
    assert_int_equal(reg_index_encode(&x, payload, sizeof payload, &plen), 0);
    memset(&probe, 0, sizeof probe);
    memcpy(probe.author_pk, id->pk, NC_PK_LEN);
    probe.payload = payload;
    probe.payload_len = plen;
    dht_record_slot(slot, &probe, 1);
  } while (memcmp(slot, before, DHT_KEY_LEN) >= 0);
  reg_index_key(key, x.window);
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, REG_RECORD_INDEX,
                                   key, payload, plen, id, now_s,
                                   now_s + 86400, 0),
                   0);
  putres res = {0};
  assert_int_equal(
      dht_node_put(nd(w, CROWD_NODE)->dht, w->net->now, rec, len, on_put, &res),
      0);
  nh_touch(w->net, CROWD_NODE);
  nh_wait(w->net, &res.done, 2 * MIN);
  assert_true(res.done);
  /* Storers keep REG_INDEX_PER_AUTHOR of each key: the rest is refused. */
  assert_true(res.status == 0 || res.status == DHT_ERR_QUOTA);
}

typedef struct crowd_count {
  uint8_t authors[CROWD_KEYS + 1][NC_PK_LEN];
  unsigned per_author[CROWD_KEYS + 1], n_authors, total;
  int done;
} crowd_count;

static void crowd_visit(void *arg, const dht_record *rec,
                        const uint8_t *bytes, size_t len) {
  crowd_count *c = arg;
  unsigned i;
  (void)bytes, (void)len;
  c->total++;
  for (i = 0; i < c->n_authors; i++)
    if (memcmp(c->authors[i], rec->author_pk, NC_PK_LEN) == 0) break;
  if (i == c->n_authors) {
    assert_true(c->n_authors < CROWD_KEYS + 1);
    memcpy(c->authors[c->n_authors++], rec->author_pk, NC_PK_LEN);
  }
  c->per_author[i]++;
}

static int crowd_local(void *arg, const dht_record *rec, const uint8_t *bytes,
                       size_t len) {
  crowd_visit(arg, rec, bytes, len);
  return 0;
}

static void crowd_done(void *arg, int status, unsigned found,
                       const dht_lookup_stats *st) {
  crowd_count *c = arg;
  (void)found, (void)st;
  assert_int_equal(status, 0);
  c->done = 1;
}

static void test_index_crowd(void **state) {
  (void)state;
  world *w = world_joined(23);
  reg_batch *b = batch_make(w, 0, 100, 0, 0);
  size_t len;
  const uint8_t *genuine = reg_batch_record(b, 1, &len); /* 1 = index */
  dht_record g;
  uint8_t gslot[DHT_KEY_LEN], key[DHT_KEY_LEN];
  assert_int_equal(dht_record_decode(&g, genuine, len), 0);
  dht_record_slot(gslot, &g, 1);
  node_restart(w, CROWD_NODE, 1);
  run_watching(w, MIN);
  for (int i = 0; i < w->net->n; i++)
    w->p[i].reg->cfg.index_read_max = CROWD_READ; /* white box */
  for (int k = 0; k < CROWD_KEYS; k++) {
    nc_identity id;
    nh_identity(w->net, &id, DIFFICULTY);
    for (int j = 0; j < CROWD_PER_KEY; j++) crowd_put(w, &id, gslot);
  }
  publish(w, b);
  /* What the honest storers hold: at most REG_INDEX_PER_AUTHOR of each
   * key (the flooder's own node holds all it made). */
  int full_storers = 0;
  reg_index_key(key, reg_index_window(g.created));
  for (int i = 0; i < w->net->n; i++) {
    crowd_count cc;
    memset(&cc, 0, sizeof cc);
    dht_node_local_get(nd(w, i)->dht, key, crowd_local, &cc);
    for (unsigned j = 0; i != CROWD_NODE && j < cc.n_authors; j++)
      assert_true(cc.per_author[j] <= REG_INDEX_PER_AUTHOR);
    full_storers += i != CROWD_NODE && cc.total > 256;
  }
  assert_true(full_storers >= K / 2);
  /* A reader meets more than 256 records ahead of the genuine one. */
  crowd_count c;
  memset(&c, 0, sizeof c);
  assert_int_equal(dht_node_get_all(nd(w, 1)->dht, w->net->now, key, 4096,
                                    crowd_visit, crowd_done, &c),
                   0);
  nh_touch(w->net, 1);
  nh_wait(w->net, &c.done, 2 * MIN);
  assert_true(c.done);
  assert_int_equal(c.n_authors, CROWD_KEYS + 1);
  assert_true(c.total > 256);
  print_message("index window: %d honest storers with more than 256 "
                "records; a reader got %u records from %u authors\n",
                full_storers, c.total, c.n_authors);
  /* A page a poll (30 min + 10 %), each going on from the read's resume
   * offset (30 to 64 records further here, where storers answer at
   * different speeds): the genuine one, behind 400 others at the
   * flooder's node and 320 at the honest ones, is found within twice as
   * many polls as full pages would take, and not at once. */
  const reg_manifest *m = reg_batch_manifest(b);
  int pages = (int)(c.total / CROWD_READ) + 1, found_at = -1;
  for (int poll = 0; poll <= 2 * pages && found_at < 0; poll++) {
    run_watching(w, 33 * MIN);
    int seen = 0;
    for (int i = 1; i < w->net->n; i++)
      seen += reg_live_find(w->p[i].reg, w->sender.pk, m->batch_id) != NULL;
    if (seen == w->net->n - 1) found_at = poll;
  }
  print_message("genuine batch seen by every node after %d polls\n",
                found_at + 1);
  assert_true(found_at >= 2);
  reg_batch_free(b);
  world_free(w);
}

/* Batches of a sender already verified are resolved before announcements
 * from new keys: 320 bare announcements from 40 new keys, ground to sort
 * before the known sender's second batch in the same window, do not hold
 * that batch up. Every node resolves it while some of the flood's
 * announcements have not even been tried (in arrival order, all 320
 * would be tried first). */
static int resolved(const reg_live *b) {
  return b && (b->phase == REG_PH_KNOWN || b->phase == REG_PH_FETCH ||
               b->phase == REG_PH_READY);
}

static void test_known_sender_first(void **state) {
  (void)state;
  world *w = world_joined(29);
  reg_batch *b1 = batch_make(w, 0, 100, 0, 0);
  publish(w, b1);
  run_watching(w, 35 * MIN); /* every node verifies batch 1 */
  const reg_manifest *m1 = reg_batch_manifest(b1);
  for (int i = 1; i < w->net->n; i++)
    assert_true(resolved(reg_live_find(w->p[i].reg, w->sender.pk, m1->batch_id)));
  reg_batch *b2 = batch_make(w, 200, 100, 0, 0);
  size_t len;
  dht_record g;
  uint8_t gslot[DHT_KEY_LEN];
  const uint8_t *index = reg_batch_record(b2, 1, &len);
  assert_int_equal(dht_record_decode(&g, index, len), 0);
  dht_record_slot(gslot, &g, 1);
  node_restart(w, CROWD_NODE, 1);
  run_watching(w, MIN);
  for (int k = 0; k < CROWD_KEYS; k++) {
    nc_identity id;
    nh_identity(w->net, &id, DIFFICULTY);
    for (int j = 0; j < REG_INDEX_PER_AUTHOR; j++) crowd_put(w, &id, gslot);
  }
  publish(w, b2);
  const reg_manifest *m2 = reg_batch_manifest(b2);
  int done = 0, untried_min = -1;
  uint8_t seen[N] = {0};
  for (int step = 0; step < 40 * 60 && done < w->net->n - 1; step++) {
    run_watching(w, DHT_SEC);
    for (int i = 1; i < w->net->n; i++) {
      reg_node *r = w->p[i].reg;
      if (seen[i] || !resolved(reg_live_find(r, w->sender.pk, m2->batch_id)))
        continue;
      int untried = 0;
      for (size_t j = 0; j < r->n_batches; j++)
        untried += r->batches[j]->phase == REG_PH_RESOLVE &&
                   r->batches[j]->tries == 0 &&
                   memcmp(r->batches[j]->sender, w->sender.pk, NC_PK_LEN);
      if (i != CROWD_NODE && (untried_min < 0 || untried < untried_min))
        untried_min = untried;
      seen[i] = 1;
      done++;
    }
  }
  print_message("batch 2 resolved by %d nodes; flood announcements not yet "
                "tried then: at least %d\n", done, untried_min);
  assert_int_equal(done, w->net->n - 1);
  assert_true(untried_min > 0);
  reg_batch_free(b1);
  reg_batch_free(b2);
  world_free(w);
}

/* More than REG_MATCH_FEW_MAX protected addresses go through a
 * reg_queries set: sorted and merged against a batch of fewer than 4096
 * entries per address, searched address by address in a larger one.
 * Either way exactly the addresses the batch holds match, not those whose
 * entry is off by one. White box: the entries are handed over directly. */
static void test_match_many_paths(void **state) {
  (void)state;
  world *w = world_single(13);
  reg_node *r = w->p[1].reg;
  assert_true(SYN_PROT > REG_MATCH_FEW_MAX);
  for (size_t i = 0; i < SYN_PROT; i++) {
    char a[64];
    address_of(a, sizeof a, i);
    assert_int_equal(reg_node_protect_add(r, w->net->now, a), 0);
  }
  reg_live *small = syn_batch(w, r, 1, 2000);
  assert_true(SYN_PROT * 4096 >= small->n_entries); /* merged */
  syn_check(w, r, small);
  reg_live *large = syn_batch(w, r, 2, SYN_PROT * 4096 + 5000);
  assert_true(SYN_PROT * 4096 < large->n_entries); /* searched */
  syn_check(w, r, large);
  world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_optouts_reach_the_inbox),
      cmocka_unit_test(test_escalation),
      cmocka_unit_test(test_restart_keeps_state),
      cmocka_unit_test(test_many_addresses),
      cmocka_unit_test(test_protect_add_known_batch),
      cmocka_unit_test(test_tampered_chunk),
      cmocka_unit_test(test_app_message_strict),
      cmocka_unit_test(test_relay_stores_record),
      cmocka_unit_test(test_restore_state_strict),
      cmocka_unit_test(test_publish_refuses_bad_files),
      cmocka_unit_test(test_publish_retries_timeouts),
      cmocka_unit_test(test_api_arguments),
      cmocka_unit_test(test_origin_backpressure),
      cmocka_unit_test(test_match_many_paths),
      cmocka_unit_test(test_bare_index_forgotten),
      cmocka_unit_test(test_index_crowd),
      cmocka_unit_test(test_known_sender_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
