/*
 * The dht_node object: creation and teardown, the node's clock, pair keys,
 * admission to the routing table, the record acceptance path shared by
 * STORE, put and restore, bootstrap and hints, and the read-only queries
 * (local records, contacts, statistics). The datagram pipeline is in
 * inbound.c, operations in ops.c, timers in maint.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

dht_time dht_node_clock(dht_node *node, dht_time now) {
  if (now > node->now) node->now = now;
  return node->now;
}

void dht_node_log(const dht_node *node, int level, const char *fmt, ...) {
  char line[256];
  va_list ap;
  if (!node->env.log) return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap); /* truncation is acceptable */
  va_end(ap);
  node->env.log(node->env.user, level, line);
}

/* ---- creation ---------------------------------------------------------- */

static int check_identity(const dht_config *cfg, const nc_identity *ident) {
  uint8_t id[NC_ID_LEN];
  int rv = nc_id_verify(id, ident->pk, ident->nonce, cfg->difficulty);
  if (rv == NC_ERR_PUZZLE) return DHT_ERR_PUZZLE;
  if (rv < 0 || memcmp(id, ident->id, NC_ID_LEN) != 0)
    return DHT_ERR_INVALID_ARGUMENT;
  return 0;
}

/* Draws the per-node secrets: table hash keys and the first txid. */
static void seed_secrets(dht_node *node, dht_time now) {
  uint8_t hk[16];
  uint8_t tx[4];
  node->env.random(node->env.user, hk, sizeof hk);
  dht_rl_init(&node->rl, node->cfg.rate_per_ip, node->cfg.burst_per_ip, hk);
  node->env.random(node->env.user, hk, sizeof hk);
  /* Two generations of 2 x clock_skew: a datagram stays acceptable for
   * up to 2 x clock_skew after it is first seen (its time may be ahead
   * of ours by clock_skew), and a nonce is remembered at least one
   * period. */
  dht_replay_init(&node->replay, hk, 2 * node->cfg.clock_skew, now);
  sodium_memzero(hk, sizeof hk);
  node->env.random(node->env.user, tx, sizeof tx);
  node->rpc.head_txid = (uint32_t)tx[0] | (uint32_t)tx[1] << 8 |
                        (uint32_t)tx[2] << 16 | (uint32_t)tx[3] << 24;
}

int dht_node_new(dht_node **out, const dht_config *cfg, const dht_env *env,
                 const nc_identity *ident, dht_time now) {
  if (out) *out = NULL;
  if (!out || !cfg || !env || !env->random || !ident)
    return DHT_ERR_INVALID_ARGUMENT;
  int rv = dht_config_check(cfg);
  if (rv == 0) rv = check_identity(cfg, ident);
  if (rv < 0) return rv;
  dht_node *node = calloc(1, sizeof *node);
  if (!node) return DHT_ERR_NOMEM;
  node->cfg = *cfg;
  node->env = *env;
  node->ident = *ident;
  if (nc_kx_init(&node->kx, ident->sk) != 0) {
    sodium_memzero(node, sizeof *node);
    free(node);
    return DHT_ERR_INVALID_ARGUMENT;
  }
  node->now = now;
  dht_rt_init(&node->rt, ident->id, cfg->k, cfg->bucket_prefix_max,
              cfg->table_prefix_max, now);
  node->rt.ping_after = DHT_RT_PING_AFTER;
  dht_store_init(&node->store, cfg->author_max_records, cfg->author_max_bytes,
                 cfg->store_max_bytes);
  dht_store_set_types(&node->store, cfg->types, cfg->n_types);
  for (size_t i = 0; i < DHT_BOOT_MAX; i++) node->boot[i].sent = DHT_TIME_NONE;
  seed_secrets(node, now);
  dht_maint_init(node, now);
  *out = node;
  return 0;
}

void dht_node_free(dht_node *node) {
  if (!node) return;
  dht_ops_free(node);
  dht_rpc_free(&node->rpc);
  dht_outq_free(&node->outq);
  dht_store_free(&node->store);
  dht_rt_free(&node->rt);
  dht_keycache_free(&node->keys);
  dht_rl_free(&node->rl);
  dht_replay_free(&node->replay);
  dht_tokens_wipe(&node->tokens);
  sodium_memzero(&node->ident, sizeof node->ident);
  nc_kx_wipe(&node->kx);
  free(node);
}

const uint8_t *dht_node_id(const dht_node *node) {
  return node ? node->ident.id : NULL;
}

/* ---- peers ------------------------------------------------------------- */

int dht_node_peer_key(dht_node *node, const dht_peer *peer,
                      uint8_t key[NC_SHARED_LEN]) {
  const dht_rt_entry *e = dht_rt_find(&node->rt, peer->id);
  if (e) {
    memcpy(key, e->key, NC_SHARED_LEN);
    return 0;
  }
  if (dht_keycache_get(&node->keys, peer->pk, key)) return 0;
  /* Only the cheap puzzle hash here: the key derivation refuses the
   * points nc_id_verify would (non-canonical, small order, off the main
   * subgroup), so validating the point first would do that work twice. */
  int rv = nc_id_check_puzzle(NULL, peer->pk, peer->nonce,
                              node->cfg.difficulty);
  if (rv == NC_ERR_PUZZLE) return DHT_ERR_PUZZLE;
  if (rv < 0) return DHT_ERR_INVALID_ARGUMENT;
  if (node->env.peer_key)
    rv = node->env.peer_key(node->env.user, peer->pk, key);
  else
    rv = nc_kx_peer_key(key, &node->kx, peer->pk);
  if (rv != 0) {
    sodium_memzero(key, NC_SHARED_LEN);
    return DHT_ERR_INVALID_ARGUMENT;
  }
  dht_keycache_put(&node->keys, peer->pk, key);
  return 0;
}

static void peer_from_contact(dht_peer *p, const dht_contact *c) {
  memcpy(p->id, c->id, DHT_ID_LEN);
  memcpy(p->pk, c->pk, NC_PK_LEN);
  p->nonce = c->nonce;
  p->addr = c->addr;
}

void dht_node_admit(dht_node *node, const dht_peer *peer,
                    const uint8_t key[NC_SHARED_LEN], uint32_t rtt_ms) {
  dht_rt_entry e;
  dht_contact lrs;
  memset(&e, 0, sizeof e);
  memcpy(e.c.id, peer->id, DHT_ID_LEN);
  memcpy(e.c.pk, peer->pk, NC_PK_LEN);
  e.c.nonce = peer->nonce;
  e.c.addr = peer->addr;
  memcpy(e.key, key, NC_SHARED_LEN);
  int rv = dht_rt_seen(&node->rt, &e, node->now, rtt_ms, &lrs);
  sodium_memzero(e.key, sizeof e.key);
  if (rv != DHT_RT_PING) return;
  /* Prefer the old: the newcomer waits until this ping fails. */
  dht_peer p;
  dht_msg m;
  peer_from_contact(&p, &lrs);
  dht_msg_start(&m, DHT_MSG_PING);
  dht_rpc_send(node, &p, &m, DHT_PEND_PING, 0, NULL);
}

/* ---- records ----------------------------------------------------------- */

int dht_node_live_record(const dht_node *node, const dht_srec *r) {
  return r->expires > node->now / DHT_SEC;
}

/* Codes that mean the record itself is bad (as opposed to our limits or
 * a newer version being held). */
static int is_invalid(int rv) {
  return rv < 0 && rv != DHT_ERR_STALE && rv != DHT_ERR_QUOTA &&
         rv != DHT_ERR_STORE && rv != DHT_ERR_NOMEM;
}

/* Verifies |bytes| into |rec|: decodes, checks every rule at the node's
 * time. Returns 0 or the first DHT_ERR_* code. */
static int verify(const dht_node *node, dht_record *rec, const uint8_t *bytes,
                  size_t len) {
  int rv = dht_record_decode(rec, bytes, len);
  if (rv < 0) return rv;
  return dht_record_verify(rec, node->now / DHT_SEC, node->cfg.difficulty,
                           node->cfg.types, node->cfg.n_types);
}

static void mark_own(dht_node *node, const dht_record *rec,
                     const uint8_t slot[DHT_KEY_LEN]) {
  dht_srec *r = dht_store_find(&node->store, rec->key, slot);
  if (!r) return;
  if (!r->own)
    dht_store_set_own(&node->store, r, 1,
                      dht_time_add(node->now, node->cfg.republish_interval));
  node->t_republish = dht_time_min(node->t_republish, r->republish);
}

int dht_node_accept_record(dht_node *node, const uint8_t *bytes, size_t len,
                           int persist, int own) {
  dht_record rec;
  uint8_t slot[DHT_KEY_LEN];
  int rv = verify(node, &rec, bytes, len);
  if (rv == 0) rv = dht_store_check(&node->store, &rec, bytes, len);
  if (rv >= 0) dht_store_slot(&node->store, &rec, slot);
  if (rv >= 0 && rv != DHT_STORE_SAME && persist && node->env.store_put &&
      node->env.store_put(node->env.user, rec.key, slot, bytes, len) != 0) {
    dht_node_log(node, DHT_LOG_WARN, "store_put failed: record refused");
    rv = DHT_ERR_STORE;
  }
  if (rv >= 0) rv = dht_store_put(&node->store, &rec, bytes, len, node->now);
  if (rv < 0) {
    if (is_invalid(rv)) node->stats.dropped[DHT_DROP_BAD_RECORD]++;
    if (is_invalid(rv) || rv == DHT_ERR_QUOTA) node->stats.records_refused++;
    return rv;
  }
  if (rv != DHT_STORE_SAME) node->stats.records_accepted++;
  if (own) mark_own(node, &rec, slot);
  dht_maint_note_store(node);
  return rv;
}

int dht_node_restore_record(dht_node *node, dht_time now, const uint8_t *rec,
                            size_t len, int own) {
  if (!node || !rec) return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  int rv = dht_node_accept_record(node, rec, len, 0, own);
  return rv < 0 ? rv : 0;
}

size_t dht_node_local_get(const dht_node *node, const uint8_t key[DHT_KEY_LEN],
                          dht_record_visit_cb cb, void *arg) {
  size_t first, visited = 0;
  if (!node || !key) return 0;
  size_t n = dht_store_range(&node->store, key, &first);
  for (size_t i = first; i < first + n; i++) {
    const dht_srec *r = node->store.recs[i];
    dht_record rec;
    if (!dht_node_live_record(node, r)) continue;
    if (dht_record_decode(&rec, r->bytes, r->len) != 0) continue;
    visited++;
    if (cb && cb(arg, &rec, r->bytes, r->len)) break;
  }
  return visited;
}

/* ---- joining ----------------------------------------------------------- */

static int addr_usable(const dht_addr *a) {
  return a && (a->family == 4 || a->family == 6) && a->port != 0;
}

int dht_node_send_probe(dht_node *node, dht_boot *b) {
  uint8_t probe[DHT_PROBE_LEN];
  dht_frame_write_probe(probe, DHT_KIND_PROBE, node->ident.pk,
                        node->ident.nonce, b->cookie);
  b->sent = node->now;
  b->tries++;
  return dht_outq_push(node, &b->addr, probe, sizeof probe);
}

/* A bootstrap is at most DHT_BOOT_TRIES rounds. In each round the PROBE
 * is repeated (same cookie) up to DHT_BOOT_TRIES times, one
 * request_timeout apart, until a PROBE_REPLY comes (maint.c); then a PING
 * goes to the key it announced, and if that PING times out the next round
 * starts (maint.c). */
int dht_node_boot_start(dht_node *node, const dht_addr *addr,
                        unsigned rounds) {
  dht_boot *slot = NULL;
  for (size_t i = 0; i < DHT_BOOT_MAX && !slot; i++)
    if (node->boot[i].sent == DHT_TIME_NONE) slot = &node->boot[i];
  if (!slot) return DHT_ERR_BUSY;
  uint8_t c[8];
  node->env.random(node->env.user, c, sizeof c);
  slot->cookie = 0;
  for (int i = 0; i < 8; i++) slot->cookie |= (uint64_t)c[i] << (8 * i);
  slot->addr = *addr;
  slot->tries = 0;
  slot->rounds = rounds;
  if (dht_node_send_probe(node, slot) < 0) {
    slot->sent = DHT_TIME_NONE;
    return DHT_ERR_BUSY;
  }
  return 0;
}

int dht_node_bootstrap(dht_node *node, dht_time now, const dht_addr *addr) {
  if (!node || !addr_usable(addr)) return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  return dht_node_boot_start(node, addr, 0);
}

int dht_node_add_hint(dht_node *node, dht_time now, const uint8_t pk[NC_PK_LEN],
                      uint64_t nonce, const dht_addr *addr) {
  dht_peer p;
  dht_msg m;
  if (!node || !pk || !addr_usable(addr)) return DHT_ERR_INVALID_ARGUMENT;
  if (memcmp(pk, node->ident.pk, NC_PK_LEN) == 0)
    return DHT_ERR_INVALID_ARGUMENT;
  dht_node_clock(node, now);
  int rv = nc_id_verify(p.id, pk, nonce, node->cfg.difficulty);
  if (rv == NC_ERR_PUZZLE) return DHT_ERR_PUZZLE;
  if (rv < 0) return DHT_ERR_INVALID_ARGUMENT;
  memcpy(p.pk, pk, NC_PK_LEN);
  p.nonce = nonce;
  p.addr = *addr;
  dht_msg_start(&m, DHT_MSG_PING);
  return dht_rpc_send(node, &p, &m, DHT_PEND_PING, 0, NULL);
}

/* ---- queries ----------------------------------------------------------- */

size_t dht_node_contacts(const dht_node *node, dht_contact *out, size_t max) {
  if (!node || !out) return 0;
  return dht_rt_copy(&node->rt, out, max);
}

/* Returns a uniform random number below |bound| (>= 1) drawn with
 * env.random; rejection sampling avoids the bias of a plain modulo. Each
 * draw is rejected with probability < 1/2, so 64 draws fail only with a
 * broken generator, which then gets the modulo. */
static uint32_t uniform_below(dht_node *node, uint32_t bound) {
  uint32_t limit = UINT32_MAX - UINT32_MAX % bound, v = 0;
  for (int tries = 0; tries < 64; tries++) {
    uint8_t b[4];
    node->env.random(node->env.user, b, sizeof b);
    v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
        (uint32_t)b[3] << 24;
    if (v < limit) break;
  }
  return v % bound;
}

/* A partial Fisher-Yates shuffle of a copy of the table: the first |n|
 * places are a uniform choice of distinct contacts. The table holds at
 * most 256 x DHT_K_MAX contacts, so the copy is bounded. */
size_t dht_node_random_contacts(dht_node *node, dht_contact *out, size_t n) {
  if (!node || !out || n == 0 || node->rt.n_live == 0) return 0;
  dht_contact *all = malloc(node->rt.n_live * sizeof *all);
  if (!all) return 0;
  size_t total = dht_rt_copy(&node->rt, all, node->rt.n_live);
  if (n > total) n = total;
  for (size_t i = 0; i < n; i++) {
    size_t j = i + uniform_below(node, (uint32_t)(total - i));
    dht_contact t = all[i];
    all[i] = all[j];
    all[j] = t;
    out[i] = all[i];
  }
  free(all);
  return n;
}

void dht_node_stats(const dht_node *node, dht_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!node) return;
  *out = node->stats;
  out->contacts = node->rt.n_live;
  out->records = node->store.n;
  out->record_bytes = (size_t)node->store.bytes;
  out->own_records = node->store.n_own;
  out->operations = node->n_ops;
}

/* ---- memory accounting ------------------------------------------------ */

static size_t rt_mem(const dht_rt *rt) {
  size_t m = rt->n_buckets * sizeof *rt->buckets +
             rt->cap_prefixes * sizeof *rt->prefixes;
  for (unsigned b = 0; b < rt->n_buckets; b++) {
    m += rt->buckets[b].cap_live * sizeof(dht_rt_entry);
    if (rt->buckets[b].repl) m += DHT_RT_REPL_MAX * sizeof(dht_rt_entry);
  }
  return m;
}

static size_t store_mem(const dht_store *st) {
  size_t m = st->cap * sizeof *st->recs + st->cap_authors * sizeof *st->authors;
  for (size_t i = 0; i < st->n; i++) m += sizeof(dht_srec) + st->recs[i]->len;
  return m;
}

static size_t ops_mem(const dht_node *node) {
  size_t m = node->cap_ops * sizeof *node->ops;
  for (size_t i = 0; i < node->n_ops; i++) {
    const dht_op *op = node->ops[i];
    m += sizeof *op + op->lk.cap * sizeof(dht_cand) +
         op->lk.cap_visited * sizeof(uint64_t) + op->rec_len;
    if (!op->ga) continue;
    m += sizeof *op->ga + op->ga->cap * sizeof *op->ga->recs;
    for (size_t j = 0; j < op->ga->n; j++)
      m += sizeof(dht_ga_rec) + op->ga->recs[j]->len;
  }
  return m;
}

static size_t queues_mem(const dht_node *node) {
  size_t m = node->outq.cap * sizeof *node->outq.q;
  for (size_t i = 0; i < node->outq.n; i++)
    m += sizeof(dht_outdg) +
         node->outq.q[(node->outq.head + i) & (node->outq.cap - 1)]->len;
  m += node->rpc.cap * sizeof(dht_pending);
  for (size_t i = 0; i < node->rpc.n; i++)
    if (node->rpc.ring[(node->rpc.head + i) & (node->rpc.cap - 1)].ctx)
      m += sizeof(dht_repl_ctx);
  return m;
}

size_t dht_node_mem(const dht_node *node) {
  if (!node) return 0;
  return sizeof *node + rt_mem(&node->rt) + store_mem(&node->store) +
         ops_mem(node) + queues_mem(node) +
         node->keys.cap * sizeof(dht_keycache_entry) +
         node->rl.cap * sizeof(dht_rl_slot) +
         (node->replay.gen[0].cap + node->replay.gen[1].cap) * sizeof(uint32_t);
}
