/*
 * Operations: everything that runs a lookup. A user lookup, get or put,
 * and the node's own joins, bucket refreshes and republishes share one
 * life cycle: create, seed the lookup from the routing table (spreading
 * the closest contacts round-robin over the disjoint paths), pump
 * requests as replies and timeouts arrive, then finish: puts and
 * republishes go on to a STORE phase sent to the k closest that answered,
 * with the token each gave. Finished operations wait in the table until
 * dht_ops_reap runs their callback from handle_datagram / handle_expiry,
 * never from inside the API call that started them. Two operations do not
 * fit the pattern: an app message is a single RELAY request (no lookup),
 * and get_all goes on from its node lookup to a collection phase
 * (collect.c).
 *
 * User operations are limited by cfg.max_operations, internal ones by
 * DHT_INTERNAL_OPS.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

/* ---- table of operations ------------------------------------------- */

unsigned dht_ops_slots(const dht_node *node, int user) {
  size_t internal = node->n_ops - node->user_ops;
  if (user)
    return node->user_ops < node->cfg.max_operations
               ? node->cfg.max_operations - node->user_ops
               : 0;
  return internal < DHT_INTERNAL_OPS ? (unsigned)(DHT_INTERNAL_OPS - internal)
                                     : 0;
}

dht_op *dht_ops_find(const dht_node *node, uint32_t id) {
  for (size_t i = 0; i < node->n_ops; i++)
    if (node->ops[i]->id == id) return node->ops[i];
  return NULL;
}

static void op_free(dht_op *op) {
  dht_collect_free(op);
  dht_lookup_free(&op->lk);
  free(op->rec);
  free(op);
}

/* Allocates an operation and adds it to the table. */
static dht_op *op_new(dht_node *node, uint8_t kind, int user) {
  if (node->n_ops == node->cap_ops) {
    size_t cap = node->cap_ops ? node->cap_ops * 2 : 4;
    dht_op **no = realloc(node->ops, cap * sizeof *no);
    if (!no) return NULL;
    node->ops = no;
    node->cap_ops = cap;
  }
  dht_op *op = calloc(1, sizeof *op);
  if (!op) return NULL;
  if (++node->next_op == 0) node->next_op = 1;
  op->id = node->next_op;
  op->kind = kind;
  op->user = (uint8_t)(user != 0);
  op->started = node->now;
  node->ops[node->n_ops++] = op;
  if (user) node->user_ops++;
  return op;
}

/* Removes |op| from the table (without freeing it). */
static void op_unlink(dht_node *node, dht_op *op) {
  for (size_t i = 0; i < node->n_ops; i++) {
    if (node->ops[i] != op) continue;
    node->ops[i] = node->ops[--node->n_ops];
    if (op->user) node->user_ops--;
    return;
  }
}

void dht_ops_finish(dht_node *node, dht_op *op, int status) {
  if (op->phase == DHT_PHASE_DONE) return;
  op->phase = DHT_PHASE_DONE;
  op->status = status;
  if (status == 0)
    node->stats.lookups_ok++;
  else
    node->stats.lookups_failed++;
}

int dht_ops_pending_done(const dht_node *node) {
  for (size_t i = 0; i < node->n_ops; i++)
    if (node->ops[i]->phase == DHT_PHASE_DONE) return 1;
  return 0;
}

void dht_ops_free(dht_node *node) {
  for (size_t i = 0; i < node->n_ops; i++) op_free(node->ops[i]);
  free(node->ops);
  node->ops = NULL;
  node->n_ops = node->cap_ops = 0;
  node->user_ops = 0;
}

void dht_ops_discard(dht_node *node, dht_op *op) {
  op_unlink(node, op);
  op_free(op);
}

/* ---- requests ------------------------------------------------------- */

void dht_ops_peer(dht_peer *p, const dht_cand *c) {
  memcpy(p->id, c->id, DHT_ID_LEN);
  memcpy(p->pk, c->pk, NC_PK_LEN);
  p->nonce = c->nonce;
  p->addr = c->addr;
}

static void query(dht_node *node, dht_op *op, int i) {
  dht_peer peer;
  dht_msg m;
  dht_ops_peer(&peer, &op->lk.pool[i]);
  dht_msg_start(&m, op->kind == DHT_OP_GET ? DHT_MSG_FIND_VALUE
                                           : DHT_MSG_FIND_NODE);
  memcpy(m.target, op->lk.target, DHT_ID_LEN);
  if (dht_rpc_send(node, &peer, &m, DHT_PEND_LOOKUP, op->id, NULL) < 0)
    dht_lookup_failed(&op->lk, i, 0);
}

/* STORE phase: the record goes to the k closest that answered, each with
 * the token from its own reply. */
static void start_stores(dht_node *node, dht_op *op) {
  int idx[DHT_K_MAX];
  size_t n = dht_lookup_results(&op->lk, idx, node->cfg.k);
  op->phase = DHT_PHASE_STORE;
  for (size_t j = 0; j < n; j++) {
    const dht_cand *c = &op->lk.pool[idx[j]];
    if (!c->has_token) continue;
    dht_peer peer;
    dht_msg m;
    dht_ops_peer(&peer, c);
    dht_msg_start(&m, DHT_MSG_STORE);
    memcpy(m.token, c->token, DHT_TOKEN_LEN);
    m.record = op->rec;
    m.record_len = op->rec_len;
    if (dht_rpc_send(node, &peer, &m, DHT_PEND_STORE, op->id, NULL) == 0) {
      op->store_wait++;
      op->lk.stats.queried++;
    }
  }
  if (op->store_wait == 0) dht_ops_finish(node, op, DHT_ERR_TIMEOUT);
}

/* Kademlia's join: once it knows its neighbours, a node refreshes the
 * buckets farther away than its closest neighbour's, so that it learns
 * contacts all over the ID space and nodes there hear of it. Here only the
 * buckets the self-lookup left empty are refreshed, and only if they are
 * still empty DHT_JOIN_REFRESH_DELAY later: a bucket with a contact
 * already routes lookups into its range, and in a busy network the
 * lookups of other nodes passing through the newcomer fill most empty
 * buckets within that delay (a contact heard from makes its bucket fresh,
 * rt.c), so the refresh lookup is needed only where the network is quiet.
 * (Refreshing every far bucket at once costs about log2(N/k) lookups per
 * join: in a 100,000-node network that storm is most of the join traffic,
 * and it trips honest rate limits in small ones.) The refresh timer runs
 * the due ones, as many at once as the internal operation slots allow.
 * A join that heard from fewer than k nodes (the network, or what the
 * bootstrap node knew of it, was small) is followed by a second
 * self-lookup a few request timeouts later (maint.c), which finds the
 * neighbours that joined or became known meanwhile; after a join that
 * heard from k nodes or more it finds nothing new (measured: same hops
 * and latency at 10,000 nodes, 20 % fewer events). */
static void join_refresh(dht_node *node, dht_op *op) {
  int idx[1];
  if (op->lk.stats.responded < node->cfg.k)
    node->t_rejoin = dht_time_add(
        node->now, DHT_REJOIN_TIMEOUTS * node->cfg.request_timeout);
  if (dht_lookup_results(&op->lk, idx, 1) == 0) return;
  int c = dht_rt_bucket_index(&node->rt, op->lk.pool[idx[0]].id);
  dht_time interval = node->cfg.refresh_interval;
  dht_time at = dht_time_add(node->now, DHT_JOIN_REFRESH_DELAY);
  dht_time due = at > interval ? at - interval : 0;
  for (int b = 0; b < c; b++)
    if (dht_rt_bucket_size(&node->rt, (unsigned)b) == 0)
      dht_rt_set_refreshed(&node->rt, (unsigned)b, due);
}

/* The lookup is over: finish, or go on to the STORE phase. */
static void lookup_over(dht_node *node, dht_op *op) {
  switch (op->kind) {
  case DHT_OP_JOIN:
    join_refresh(node, op);
    dht_node_log(node, DHT_LOG_INFO, "joined: %u nodes answered, %zu contacts",
                 op->lk.stats.responded, node->rt.n_live);
    dht_ops_finish(node, op, op->lk.stats.responded ? 0 : DHT_ERR_TIMEOUT);
    return;
  case DHT_OP_PUT:
  case DHT_OP_REPUBLISH:
    start_stores(node, op);
    return;
  case DHT_OP_GET:
    dht_ops_finish(node, op, op->rec ? 0 : DHT_ERR_NOT_FOUND);
    return;
  case DHT_OP_GET_ALL:
    dht_collect_begin(node, op);
    return;
  default:
    dht_ops_finish(node, op, op->lk.stats.responded ? 0 : DHT_ERR_TIMEOUT);
  }
}

/* Sends every request the lookup allows now; each call of
 * dht_lookup_next settles one candidate, so the pool size bounds it. */
static void pump(dht_node *node, dht_op *op) {
  if (op->phase != DHT_PHASE_LOOKUP) return;
  for (size_t guard = 0; guard <= op->lk.cap; guard++) {
    int i = dht_lookup_next(&op->lk);
    if (i < 0) break;
    query(node, op, i);
  }
  if (dht_lookup_done(&op->lk)) lookup_over(node, op);
}

/* Seeds the paths round-robin from our closest contacts to the target, so
 * each path starts from its own part of the neighbourhood. */
static void seed(dht_node *node, dht_op *op) {
  const dht_rt_entry *near[DHT_K_MAX * DHT_PATHS_MAX];
  size_t want = node->cfg.k;
  if (want < node->cfg.alpha * op->lk.paths)
    want = node->cfg.alpha * op->lk.paths;
  if (want > sizeof near / sizeof *near) want = sizeof near / sizeof *near;
  size_t n = dht_rt_closest(&node->rt, op->lk.target, NULL, near, want);
  for (size_t i = 0; i < n; i++)
    dht_lookup_add(&op->lk, near[i]->c.id, near[i]->c.pk, near[i]->c.nonce,
                   &near[i]->c.addr, (unsigned)(i % op->lk.paths), 1);
}

dht_op *dht_ops_create(dht_node *node, uint8_t kind,
                       const uint8_t target[DHT_ID_LEN], int user,
                       const uint8_t *rec, size_t rec_len, int *err) {
  *err = 0;
  if (dht_ops_slots(node, user) == 0) {
    *err = DHT_ERR_BUSY;
    return NULL;
  }
  dht_op *op = op_new(node, kind, user);
  if (!op) goto nomem;
  if (dht_lookup_init(&op->lk, target, node->cfg.k, node->cfg.alpha,
                      node->cfg.disjoint_paths) < 0)
    goto nomem;
  if (rec) {
    op->rec = malloc(rec_len);
    if (!op->rec) goto nomem;
    memcpy(op->rec, rec, rec_len);
    op->rec_len = rec_len;
  }
  return op;
nomem:
  if (op) dht_ops_discard(node, op);
  *err = DHT_ERR_NOMEM;
  return NULL;
}

void dht_ops_run(dht_node *node, dht_op *op) {
  dht_rt_touch(&node->rt, op->lk.target, node->now);
  seed(node, op);
  pump(node, op);
}

dht_op *dht_ops_start(dht_node *node, uint8_t kind,
                      const uint8_t target[DHT_ID_LEN], int user,
                      const uint8_t *rec, size_t rec_len, int *err) {
  dht_op *op = dht_ops_create(node, kind, target, user, rec, rec_len, err);
  if (op) dht_ops_run(node, op);
  return op;
}

/* ---- replies and timeouts -------------------------------------------- */

/* Checks one record of a VALUES reply for a get: it must decode, verify
 * and sit under the key asked for. The first author found is kept, with
 * its highest seq. Returns 1 if the record is valid. */
static int take_value(dht_node *node, dht_op *op, const uint8_t *bytes,
                      size_t len, unsigned hop) {
  dht_record rec;
  int rv = dht_record_decode(&rec, bytes, len);
  if (rv == 0)
    rv = dht_record_verify(&rec, node->now / DHT_SEC, node->cfg.difficulty,
                           node->cfg.types, node->cfg.n_types);
  if (rv == 0 && memcmp(rec.key, op->lk.target, DHT_KEY_LEN) != 0)
    rv = DHT_ERR_KEY_RULE;
  if (rv < 0) {
    node->stats.records_refused++;
    node->stats.dropped[DHT_DROP_BAD_RECORD]++;
    return 0;
  }
  int first = op->rec == NULL;
  if (!first && (memcmp(rec.author_pk, op->author, NC_PK_LEN) != 0 ||
                 rec.seq <= op->seq))
    return 1;
  uint8_t *copy = malloc(len);
  if (!copy) return 1;
  memcpy(copy, bytes, len);
  free(op->rec);
  op->rec = copy;
  op->rec_len = len;
  memcpy(op->author, rec.author_pk, NC_PK_LEN);
  op->seq = rec.seq;
  op->found_hop = hop;
  return 1;
}

/* Adds the contacts of a reply to the path that asked, one hop deeper.
 * Only the cheap checks run here (puzzle, not us, plausible address);
 * the key is checked when the contact is queried. */
static void take_contacts(dht_node *node, dht_op *op, const dht_msg *m,
                          unsigned path, unsigned hop) {
  for (size_t j = 0; j < m->n_contacts; j++) {
    const dht_wire_contact *w = &m->contacts[j];
    uint8_t id[DHT_ID_LEN];
    if (w->addr.port == 0 || (w->addr.family != 4 && w->addr.family != 6))
      continue;
    if (memcmp(w->pk, node->ident.pk, NC_PK_LEN) == 0) continue;
    nc_node_id(id, w->pk, w->nonce);
    if (nc_id_puzzle_bits(id) < node->cfg.difficulty) continue;
    dht_lookup_add(&op->lk, id, w->pk, w->nonce, &w->addr, path, hop + 1);
  }
}

static void lookup_reply(dht_node *node, dht_op *op, const dht_peer *peer,
                         const dht_msg *m) {
  if (op->phase != DHT_PHASE_LOOKUP) return;
  int i = dht_lookup_find(&op->lk, peer->id);
  if (i < 0) return;
  dht_cand *c = &op->lk.pool[i];
  unsigned path = c->path, hop = c->hop;
  memcpy(c->token, m->token, DHT_TOKEN_LEN);
  c->has_token = 1;
  dht_lookup_answered(&op->lk, i, node->now);
  int found = 0;
  if (op->kind == DHT_OP_GET && m->type == DHT_MSG_VALUES)
    for (size_t j = 0; j < m->n_records; j++)
      found |= take_value(node, op, m->records[j], m->record_lens[j], hop);
  /* A path that found a record asks on until DHT_GET_QUORUM storers
   * answered with one, so that a single storer serving an old version
   * (or answering first) does not decide what the get returns. */
  if (!found)
    take_contacts(node, op, m, path, hop);
  else if (++op->found_on[path] >= DHT_GET_QUORUM)
    dht_lookup_end_path(&op->lk, path);
  pump(node, op);
}

/* A put succeeds when one storer kept the record; otherwise it reports a
 * timeout when any storer did not answer (trying again may help), else
 * the first refusal a storer gave (a quota, say). */
static void put_finish(dht_node *node, dht_op *op) {
  dht_ops_finish(node, op,
                 op->stored                           ? 0
                 : op->store_silent || !op->store_err ? DHT_ERR_TIMEOUT
                                                      : op->store_err);
}

static void store_reply(dht_node *node, dht_op *op, const dht_msg *m) {
  if (op->phase != DHT_PHASE_STORE || op->store_wait == 0) return;
  op->lk.stats.responded++;
  if (m->status == 0) op->stored++;
  else if (op->store_err == 0) op->store_err = m->status;
  if (--op->store_wait == 0) put_finish(node, op);
}

void dht_ops_reply(dht_node *node, const dht_pending *p, const dht_peer *peer,
                   const dht_msg *m) {
  dht_op *op = dht_ops_find(node, p->op);
  if (!op) return;
  if (p->kind == DHT_PEND_APP) {
    if (op->kind == DHT_OP_APP) dht_ops_finish(node, op, m->status);
  } else if (p->kind == DHT_PEND_STORE) {
    store_reply(node, op, m);
  } else if (op->phase == DHT_PHASE_COLLECT) {
    dht_collect_reply(node, op, p, peer, m);
  } else {
    lookup_reply(node, op, peer, m);
  }
}

void dht_ops_timeout(dht_node *node, const dht_pending *p) {
  dht_op *op = dht_ops_find(node, p->op);
  if (!op) return;
  if (p->kind == DHT_PEND_APP) {
    if (op->kind == DHT_OP_APP) dht_ops_finish(node, op, DHT_ERR_TIMEOUT);
    return;
  }
  if (op->phase == DHT_PHASE_COLLECT) {
    dht_collect_timeout(node, op, p);
    return;
  }
  if (p->kind == DHT_PEND_STORE) {
    if (op->phase != DHT_PHASE_STORE || op->store_wait == 0) return;
    op->lk.stats.timeouts++;
    op->store_silent++;
    if (--op->store_wait == 0) put_finish(node, op);
    return;
  }
  if (op->phase != DHT_PHASE_LOOKUP) return;
  dht_lookup_failed(&op->lk, dht_lookup_find(&op->lk, p->id), 1);
  pump(node, op);
}

/* ---- completion ------------------------------------------------------ */

static void deliver_lookup(dht_node *node, dht_op *op,
                           const dht_lookup_stats *st) {
  dht_contact out[DHT_K_MAX];
  int idx[DHT_K_MAX];
  size_t n = dht_lookup_results(&op->lk, idx, node->cfg.k);
  for (size_t j = 0; j < n; j++) {
    const dht_cand *c = &op->lk.pool[idx[j]];
    const dht_rt_entry *e = dht_rt_find(&node->rt, c->id);
    memset(&out[j], 0, sizeof out[j]);
    memcpy(out[j].id, c->id, DHT_ID_LEN);
    memcpy(out[j].pk, c->pk, NC_PK_LEN);
    out[j].nonce = c->nonce;
    out[j].addr = c->addr;
    out[j].first_seen = e ? e->c.first_seen : c->replied;
    out[j].last_seen = c->replied;
    out[j].rtt_ms = e ? e->c.rtt_ms : 0;
  }
  dht_lookup_stats s = *st;
  s.hops = op->lk.stats.hops;
  op->cb.lookup(op->arg, op->status, out, n, &s);
}

static void deliver_get(dht_node *node, dht_op *op,
                        const dht_lookup_stats *st) {
  dht_record rec;
  (void)node;
  if (op->rec && op->status == 0 &&
      dht_record_decode(&rec, op->rec, op->rec_len) == 0) {
    op->cb.get(op->arg, 0, &rec, op->rec, op->rec_len, st);
    return;
  }
  op->cb.get(op->arg, op->status ? op->status : DHT_ERR_NOT_FOUND, NULL, NULL,
             0, st);
}

static void deliver(dht_node *node, dht_op *op) {
  dht_lookup_stats st = op->lk.stats;
  int idx[DHT_K_MAX];
  st.duration = node->now - op->started;
  if (op->kind == DHT_OP_GET) {
    st.hops = op->found_hop;
    if (op->cb.get) deliver_get(node, op, &st);
  } else if (op->kind == DHT_OP_LOOKUP) {
    if (op->cb.lookup) deliver_lookup(node, op, &st);
  } else if (op->kind == DHT_OP_PUT) {
    dht_lookup_results(&op->lk, idx, node->cfg.k);
    st.hops = op->lk.stats.hops;
    if (op->cb.put) op->cb.put(op->arg, op->status, op->stored, &st);
  } else if (op->kind == DHT_OP_APP) {
    if (op->cb.send) op->cb.send(op->arg, op->status);
  } else if (op->kind == DHT_OP_GET_ALL) {
    dht_lookup_results(&op->lk, idx, node->cfg.k);
    st.hops = op->lk.stats.hops;
    dht_collect_deliver(node, op, &st);
  }
}

void dht_ops_reap(dht_node *node) {
  if (node->reaping) return;
  node->reaping = 1;
  /* Callbacks may start operations that finish at once; those beyond
   * this bound wait for the next call (the deadline is then "now"). */
  size_t budget = node->n_ops + 64;
  for (size_t i = 0; i < node->n_ops && budget > 0;) {
    dht_op *op = node->ops[i];
    if (op->phase != DHT_PHASE_DONE) {
      i++;
      continue;
    }
    op_unlink(node, op);
    deliver(node, op);
    op_free(op);
    budget--;
    i = 0;
  }
  node->reaping = 0;
}

/* ---- the public operations ------------------------------------------- */

int dht_node_lookup(dht_node *node, dht_time now,
                    const uint8_t target[DHT_ID_LEN], dht_lookup_cb cb,
                    void *arg) {
  int err;
  if (!node || !target) return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  dht_op *op = dht_ops_start(node, DHT_OP_LOOKUP, target, 1, NULL, 0, &err);
  if (!op) return err;
  op->cb.lookup = cb;
  op->arg = arg;
  return 0;
}

int dht_node_lookup_paths(dht_node *node, dht_time now,
                          const uint8_t target[DHT_ID_LEN], unsigned paths,
                          dht_lookup_cb cb, void *arg) {
  int err;
  if (!node || !target || paths == 0 || paths > DHT_PATHS_MAX)
    return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  dht_op *op = dht_ops_create(node, DHT_OP_LOOKUP, target, 1, NULL, 0, &err);
  if (!op) return err;
  dht_lookup_free(&op->lk);
  err = dht_lookup_init(&op->lk, target, node->cfg.k, node->cfg.alpha, paths);
  if (err < 0) {
    dht_ops_discard(node, op);
    return DHT_ERR_NOMEM;
  }
  op->cb.lookup = cb;
  op->arg = arg;
  dht_ops_run(node, op);
  return 0;
}

int dht_node_put(dht_node *node, dht_time now, const uint8_t *rec, size_t len,
                 dht_put_cb cb, void *arg) {
  dht_record r;
  int err;
  if (!node || !rec || len == 0) return DHT_ERR_INVALID_ARGUMENT;
  if (len > DHT_MAX_RECORD) return DHT_ERR_TOO_LARGE;
  dht_node_clock(node, now);
  if (dht_ops_slots(node, 1) == 0) return DHT_ERR_BUSY;
  int rv = dht_node_accept_record(node, rec, len, 1, 1);
  if (rv < 0) return rv;
  if (dht_record_decode(&r, rec, len) != 0) return DHT_ERR_MALFORMED;
  dht_op *op = dht_ops_start(node, DHT_OP_PUT, r.key, 1, rec, len, &err);
  if (!op) return err;
  op->cb.put = cb;
  op->arg = arg;
  return 0;
}

/* Answers a get from the local store: the first author's record. */
static int local_first(const dht_node *node, const uint8_t key[DHT_KEY_LEN],
                       const dht_srec **out) {
  size_t first, n = dht_store_range(&node->store, key, &first);
  for (size_t i = first; i < first + n; i++) {
    if (!dht_node_live_record(node, node->store.recs[i])) continue;
    *out = node->store.recs[i];
    return 1;
  }
  return 0;
}

int dht_node_get(dht_node *node, dht_time now, const uint8_t key[DHT_KEY_LEN],
                 dht_get_cb cb, void *arg) {
  const dht_srec *r;
  int err;
  if (!node || !key) return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  if (dht_ops_slots(node, 1) == 0) return DHT_ERR_BUSY;
  if (!local_first(node, key, &r)) {
    dht_op *op = dht_ops_start(node, DHT_OP_GET, key, 1, NULL, 0, &err);
    if (!op) return err;
    op->cb.get = cb;
    op->arg = arg;
    return 0;
  }
  dht_op *op = op_new(node, DHT_OP_GET, 1);
  if (!op || !(op->rec = malloc(r->len))) {
    if (op) {
      op_unlink(node, op);
      op_free(op);
    }
    return DHT_ERR_NOMEM;
  }
  memcpy(op->rec, r->bytes, r->len);
  op->rec_len = r->len;
  op->cb.get = cb;
  op->arg = arg;
  dht_ops_finish(node, op, 0);
  return 0;
}

/* ---- app messages and get_all ----------------------------------------- */

static int addr_usable(const dht_addr *a) {
  return (a->family == 4 || a->family == 6) && a->port != 0;
}

/* The contact's key is known, so no PROBE: the puzzle is checked here
 * (before any key is derived, by dht_rpc_send) and the RELAY goes out
 * sealed at once. */
int dht_node_send_app(dht_node *node, dht_time now, const dht_contact *to,
                      const uint8_t *msg, size_t len, dht_send_cb cb,
                      void *arg) {
  dht_peer peer;
  dht_msg m;
  if (!node || !to || !msg || len == 0 || !addr_usable(&to->addr) ||
      memcmp(to->pk, node->ident.pk, NC_PK_LEN) == 0)
    return DHT_ERR_INVALID_ARGUMENT;
  if (len > DHT_APP_MAX) return DHT_ERR_TOO_LARGE;
  dht_node_clock(node, now);
  int rv = nc_id_verify(peer.id, to->pk, to->nonce, node->cfg.difficulty);
  if (rv == NC_ERR_PUZZLE) return DHT_ERR_PUZZLE;
  if (rv < 0) return DHT_ERR_INVALID_ARGUMENT;
  if (dht_ops_slots(node, 1) == 0) return DHT_ERR_BUSY;
  memcpy(peer.pk, to->pk, NC_PK_LEN);
  peer.nonce = to->nonce;
  peer.addr = to->addr;
  dht_op *op = op_new(node, DHT_OP_APP, 1);
  if (!op) return DHT_ERR_NOMEM;
  op->phase = DHT_PHASE_STORE; /* waiting for the RELAYED */
  dht_msg_start(&m, DHT_MSG_RELAY);
  m.payload = msg;
  m.payload_len = len;
  rv = dht_rpc_send(node, &peer, &m, DHT_PEND_APP, op->id, NULL);
  if (rv < 0) {
    dht_ops_discard(node, op);
    return rv;
  }
  op->cb.send = cb;
  op->arg = arg;
  return 0;
}

int dht_node_get_all(dht_node *node, dht_time now,
                     const uint8_t key[DHT_KEY_LEN], unsigned max_records,
                     dht_get_all_visit_cb visit, dht_get_all_done_cb done,
                     void *arg) {
  return dht_node_get_all_from(node, now, key, 0, max_records, visit, done,
                               arg);
}

int dht_node_get_all_from(dht_node *node, dht_time now,
                          const uint8_t key[DHT_KEY_LEN], uint32_t offset,
                          unsigned max_records, dht_get_all_visit_cb visit,
                          dht_get_all_done_cb done, void *arg) {
  int err;
  if (!node || !key || max_records == 0 || !visit ||
      offset > UINT32_MAX - max_records)
    return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  dht_op *op = dht_ops_create(node, DHT_OP_GET_ALL, key, 1, NULL, 0, &err);
  if (!op) return err;
  op->ga = calloc(1, sizeof *op->ga);
  if (!op->ga) {
    dht_ops_discard(node, op);
    return DHT_ERR_NOMEM;
  }
  op->ga->max = max_records;
  op->ga->start = offset;
  op->visit = visit;
  op->cb.get_all = done;
  op->arg = arg;
  dht_ops_run(node, op);
  return 0;
}
