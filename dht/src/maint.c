/*
 * Timers. The node has one deadline, the earliest of: a finished
 * operation waiting for its callback (now), the oldest outstanding
 * request's timeout, bootstrap probe retries, STORE token rotation (every
 * 5 minutes), replay-cache rotation, record expiry, republishing of our
 * own records, the replication pass and bucket refresh.
 * dht_node_handle_expiry runs every due timer through a table; each one
 * either makes progress or moves its own deadline forward, so the driver
 * never spins.
 *
 * Replication: every replicate_interval a pass walks the store,
 * DHT_REPLICATE_BATCH records per tick (ticks DHT_REPLICATE_TICK apart),
 * and pushes each record not refreshed by a STORE within the interval to
 * the k closest contacts we know for its key: FIND_VALUE first, to get a
 * token and see whether the peer already holds that version, then STORE.
 * Records that arrived recently are skipped, since the author's
 * republishing (or another storer) already spread them (Kademlia's
 * optimisation).
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

/* Unix seconds to dht_time, saturating. */
static dht_time at_second(uint64_t s) {
  return s >= DHT_TIME_NONE / DHT_SEC ? DHT_TIME_NONE : s * DHT_SEC;
}

void dht_maint_init(dht_node *node, dht_time now) {
  uint8_t fresh[32];
  node->env.random(node->env.user, fresh, sizeof fresh);
  dht_tokens_rotate(&node->tokens, fresh, now);
  node->env.random(node->env.user, fresh, sizeof fresh);
  dht_tokens_rotate(&node->tokens, fresh, now);
  sodium_memzero(fresh, sizeof fresh);
  node->t_replicate = dht_time_add(now, node->cfg.replicate_interval);
  node->t_republish = DHT_TIME_NONE;
  node->t_expire = DHT_TIME_NONE;
  node->t_rejoin = DHT_TIME_NONE;
  node->t_tidy = dht_time_add(now, DHT_TIDY_PERIOD);
}

void dht_maint_note_store(dht_node *node) {
  node->t_expire =
      dht_time_min(node->t_expire, at_second(node->store.min_expires));
}

/* ---- the timers ------------------------------------------------------- */

static void tm_timeouts(dht_node *node, dht_time now) {
  dht_pending p;
  /* Requests sent from the handlers below are stamped |now| and cannot
   * expire in this call (request_timeout >= 1 ms). */
  for (size_t guard = node->rpc.n; guard > 0; guard--) {
    if (!dht_rpc_pop_expired(node, now, &p)) break;
    dht_rt_failed(&node->rt, p.id);
    if (p.kind == DHT_PEND_LOOKUP || p.kind == DHT_PEND_STORE ||
        p.kind == DHT_PEND_APP)
      dht_ops_timeout(node, &p);
    if (p.kind == DHT_PEND_BOOT && p.op + 1 < DHT_BOOT_TRIES)
      dht_node_boot_start(node, &p.addr, p.op + 1);
    free(p.ctx);
  }
}

/* Unanswered bootstrap probes are sent again, then given up. */
static void tm_boot(dht_node *node, dht_time now) {
  for (size_t i = 0; i < DHT_BOOT_MAX; i++) {
    dht_boot *b = &node->boot[i];
    if (b->sent == DHT_TIME_NONE ||
        dht_time_add(b->sent, node->cfg.request_timeout) > now)
      continue;
    if (b->tries < DHT_BOOT_TRIES && dht_node_send_probe(node, b) == 0)
      continue;
    char a[64];
    dht_node_log(node, DHT_LOG_WARN, "bootstrap via %s: no answer",
                 dht_addr_format(a, sizeof a, &b->addr));
    b->sent = DHT_TIME_NONE;
  }
}

static void tm_tokens(dht_node *node, dht_time now) {
  uint8_t fresh[32];
  if (dht_time_add(node->tokens.rotated, DHT_TOKEN_ROTATE) > now) return;
  node->env.random(node->env.user, fresh, sizeof fresh);
  dht_tokens_rotate(&node->tokens, fresh, now);
  sodium_memzero(fresh, sizeof fresh);
}

static void tm_replay(dht_node *node, dht_time now) {
  dht_replay_rotate(&node->replay, now);
}

static void expired_one(void *arg, const dht_srec *r) {
  dht_node *node = arg;
  node->stats.records_expired++;
  if (node->env.store_del) node->env.store_del(node->env.user, r->key, r->slot);
}

static void tm_expire(dht_node *node, dht_time now) {
  if (node->t_expire > now) return;
  size_t n = dht_store_expire(&node->store, now / DHT_SEC, DHT_EXPIRE_BATCH,
                              expired_one, node);
  node->t_expire = n == DHT_EXPIRE_BATCH ? now
                                         : at_second(node->store.min_expires);
}

/* Starts a republish of each own record due, as long as internal
 * operation slots last; the rest retry after DHT_REPUBLISH_RETRY. */
static void tm_republish(dht_node *node, dht_time now) {
  dht_time next = DHT_TIME_NONE;
  int throttled = 0;
  if (node->t_republish > now) return;
  for (size_t i = 0; i < node->store.n; i++) {
    dht_srec *r = node->store.recs[i];
    if (!r->own || !dht_node_live_record(node, r)) continue;
    if (r->republish <= now) {
      int err;
      if (dht_ops_slots(node, 0) == 0) {
        throttled = 1;
        continue;
      }
      dht_ops_start(node, DHT_OP_REPUBLISH, r->key, 0, r->bytes, r->len, &err);
      r->republish = dht_time_add(now, node->cfg.republish_interval);
    }
    next = dht_time_min(next, r->republish);
  }
  if (throttled) next = dht_time_min(next, now + DHT_REPUBLISH_RETRY);
  node->t_republish = next;
}

/* Pushes record |r| to the k closest contacts we know for its key. */
static void push_record(dht_node *node, dht_srec *r) {
  const dht_rt_entry *near[DHT_K_MAX];
  size_t n = dht_rt_closest(&node->rt, r->key, NULL, near, node->cfg.k);
  r->touched = node->now;
  for (size_t i = 0; i < n; i++) {
    dht_repl_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx) return;
    memcpy(ctx->key, r->key, DHT_KEY_LEN);
    memcpy(ctx->slot, r->slot, DHT_KEY_LEN);
    dht_peer peer;
    memcpy(peer.id, near[i]->c.id, DHT_ID_LEN);
    memcpy(peer.pk, near[i]->c.pk, NC_PK_LEN);
    peer.nonce = near[i]->c.nonce;
    peer.addr = near[i]->c.addr;
    dht_msg m;
    dht_msg_start(&m, DHT_MSG_FIND_VALUE);
    memcpy(m.target, r->key, DHT_KEY_LEN);
    if (dht_rpc_send(node, &peer, &m, DHT_PEND_REPL_FIND, 0, ctx) < 0) return;
  }
}

static void tm_replicate(dht_node *node, dht_time now) {
  size_t pushed = 0;
  if (node->t_replicate > now) return;
  while (node->repl_cursor < node->store.n && pushed < DHT_REPLICATE_BATCH) {
    dht_srec *r = node->store.recs[node->repl_cursor++];
    if (!dht_node_live_record(node, r)) continue;
    if (dht_time_add(r->touched, node->cfg.replicate_interval) > now) continue;
    push_record(node, r);
    pushed++;
  }
  if (node->repl_cursor < node->store.n) {
    node->t_replicate = dht_time_add(now, DHT_REPLICATE_TICK);
    return;
  }
  node->repl_cursor = 0;
  node->t_replicate = dht_time_add(now, node->cfg.replicate_interval);
}

/* Refreshes idle buckets with a lookup of a random ID in their range
 * (dht_ops_start marks the bucket refreshed). With no contact to ask the
 * bucket waits a full interval; with no free operation slot it is
 * postponed by DHT_REPUBLISH_RETRY. */
static void tm_refresh(dht_node *node, dht_time now) {
  dht_time interval = node->cfg.refresh_interval;
  for (unsigned guard = 0; guard < node->rt.n_buckets; guard++) {
    int b = dht_rt_refresh_due(&node->rt, now, interval, NULL);
    if (b < 0) return;
    if (dht_ops_slots(node, 0) == 0 && node->rt.n_live > 0) {
      dht_time later = dht_time_add(now, DHT_REPUBLISH_RETRY);
      dht_rt_set_refreshed(&node->rt, (unsigned)b,
                           later > interval ? later - interval : 0);
      continue;
    }
    uint8_t rnd[DHT_ID_LEN], target[DHT_ID_LEN];
    node->env.random(node->env.user, rnd, sizeof rnd);
    dht_rt_random_in_bucket(&node->rt, (unsigned)b, rnd, target);
    dht_rt_touch(&node->rt, target, now);
    int err;
    if (node->rt.n_live > 0)
      dht_ops_start(node, DHT_OP_REFRESH, target, 0, NULL, 0, &err);
  }
}

/* The second self-lookup after a join (see join_refresh in ops.c). */
static void tm_rejoin(dht_node *node, dht_time now) {
  int err;
  if (node->t_rejoin > now) return;
  if (dht_ops_slots(node, 0) == 0) {
    node->t_rejoin = dht_time_add(now, DHT_REPUBLISH_RETRY);
    return;
  }
  node->t_rejoin = DHT_TIME_NONE;
  dht_ops_start(node, DHT_OP_REFRESH, node->ident.id, 0, NULL, 0, &err);
}

/* Idle nodes give back what bursts of traffic made their tables grow
 * to: refilled rate-limit buckets, empty request and send rings. */
static void tm_tidy(dht_node *node, dht_time now) {
  if (node->t_tidy > now) return;
  dht_rl_tidy(&node->rl, now);
  dht_rpc_tidy(node);
  node->t_tidy = dht_time_add(now, DHT_TIDY_PERIOD);
}

/* Whether tm_tidy has anything to give back. */
static int tidy_pending(const dht_node *node) {
  return node->rl.cap > 0 || (node->rpc.cap > 0 && node->rpc.n == 0) ||
         (node->outq.cap > 0 && node->outq.n == 0);
}

typedef void (*timer_fn)(dht_node *node, dht_time now);

static const timer_fn timers[] = {
    tm_timeouts, tm_boot,      tm_tokens,    tm_replay,
    tm_expire,   tm_republish, tm_replicate, tm_refresh,
    tm_rejoin,   tm_tidy,
};

void dht_node_handle_expiry(dht_node *node, dht_time now) {
  if (!node) return;
  now = dht_node_clock(node, now);
  for (size_t i = 0; i < sizeof timers / sizeof *timers; i++)
    timers[i](node, now);
  dht_ops_reap(node);
}

/* ---- the deadline ------------------------------------------------------ */

static dht_time boot_deadline(const dht_node *node) {
  dht_time d = DHT_TIME_NONE;
  for (size_t i = 0; i < DHT_BOOT_MAX; i++)
    if (node->boot[i].sent != DHT_TIME_NONE)
      d = dht_time_min(d, dht_time_add(node->boot[i].sent,
                                       node->cfg.request_timeout));
  return d;
}

dht_time dht_node_next_deadline(const dht_node *node) {
  dht_time d, refresh = DHT_TIME_NONE;
  if (!node) return DHT_TIME_NONE;
  if (dht_ops_pending_done(node)) return node->now;
  d = dht_rpc_deadline(node);
  d = dht_time_min(d, boot_deadline(node));
  d = dht_time_min(d, dht_time_add(node->tokens.rotated, DHT_TOKEN_ROTATE));
  d = dht_time_min(d, dht_replay_next(&node->replay));
  d = dht_time_min(d, node->t_expire);
  d = dht_time_min(d, node->t_republish);
  d = dht_time_min(d, node->t_rejoin);
  if (tidy_pending(node)) d = dht_time_min(d, node->t_tidy);
  if (node->store.n > 0 || node->repl_cursor > 0)
    d = dht_time_min(d, node->t_replicate);
  if (node->rt.n_buckets > 0)
    dht_rt_refresh_due(&node->rt, node->now, node->cfg.refresh_interval,
                       &refresh);
  return dht_time_min(d, refresh);
}

/* ---- replication replies ---------------------------------------------- */

/* Returns 1 if the VALUES reply |m| shows a record in |r|'s slot that is
 * not older (the peer already has our version or a newer one). Only the
 * first page is looked at: under a key with many records (multi types)
 * the peer may be sent a STORE of a record it holds, which it answers as
 * a refresh. */
static int peer_has(const dht_node *node, const dht_msg *m,
                    const dht_srec *r) {
  for (size_t i = 0; i < m->n_records; i++) {
    dht_record rec;
    uint8_t slot[DHT_KEY_LEN];
    if (dht_record_decode(&rec, m->records[i], m->record_lens[i]) != 0)
      continue;
    dht_store_slot(&node->store, &rec, slot);
    if (memcmp(slot, r->slot, DHT_KEY_LEN) != 0) continue;
    if (r->multi ? rec.expires >= r->expires : rec.seq >= r->seq) return 1;
  }
  return 0;
}

void dht_maint_repl_reply(dht_node *node, const dht_pending *p,
                          const dht_peer *peer, const dht_msg *m) {
  if (!p->ctx || m->type != DHT_MSG_VALUES) return;
  dht_srec *r = dht_store_find(&node->store, p->ctx->key, p->ctx->slot);
  if (!r || !dht_node_live_record(node, r)) return;
  if (peer_has(node, m, r)) return;
  dht_msg s;
  dht_msg_start(&s, DHT_MSG_STORE);
  memcpy(s.token, m->token, DHT_TOKEN_LEN);
  s.record = r->bytes;
  s.record_len = r->len;
  dht_rpc_send(node, peer, &s, DHT_PEND_REPL_STORE, 0, NULL);
}
