/*
 * Sending: the bounded queue of outgoing datagrams the driver pulls, the
 * table of outstanding requests and the sealing of messages.
 *
 * Outstanding requests live in a ring in send order. Every request has
 * the same timeout, so the oldest one always expires first: the next
 * deadline is the head's, and timeouts pop from the head. Transaction ids
 * are consecutive from a random start, so a reply finds its request by
 * subtraction; guessing one gains nothing, since a reply is accepted only
 * sealed under the pair key of the peer that was asked.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

/* ---- outgoing queue -------------------------------------------------- */

static int outq_grow(dht_outq *q) {
  size_t cap = q->cap ? q->cap * 2 : 8;
  dht_outdg **nq = malloc(cap * sizeof *nq);
  if (!nq) return DHT_ERR_NOMEM;
  for (size_t i = 0; i < q->n; i++) nq[i] = q->q[(q->head + i) & (q->cap - 1)];
  free(q->q);
  q->q = nq;
  q->cap = cap;
  q->head = 0;
  return 0;
}

int dht_outq_push(dht_node *node, const dht_addr *to, const uint8_t *data,
                  size_t len) {
  dht_outq *q = &node->outq;
  if (len > DHT_MAX_DATAGRAM) return DHT_ERR_TOO_LARGE;
  if (q->n == q->cap && (q->cap >= DHT_OUTQ_MAX || outq_grow(q) < 0)) {
    node->stats.dropped[DHT_DROP_QUEUE_FULL]++;
    return DHT_ERR_BUSY;
  }
  dht_outdg *d = malloc(sizeof *d + len);
  if (!d) {
    node->stats.dropped[DHT_DROP_QUEUE_FULL]++;
    return DHT_ERR_BUSY;
  }
  d->to = *to;
  d->len = (uint16_t)len;
  memcpy(d->data, data, len);
  q->q[(q->head + q->n) & (q->cap - 1)] = d;
  q->n++;
  return 0;
}

void dht_outq_free(dht_outq *q) {
  for (size_t i = 0; i < q->n; i++) free(q->q[(q->head + i) & (q->cap - 1)]);
  free(q->q);
  memset(q, 0, sizeof *q);
}

int dht_node_next_datagram(dht_node *node, dht_addr *to, uint8_t *buf,
                           size_t cap, size_t *len) {
  if (len) *len = 0;
  if (!node || !to || !buf || !len || node->outq.n == 0) return 0;
  dht_outq *q = &node->outq;
  dht_outdg *d = q->q[q->head];
  if (cap < d->len) return 0; /* documented: cap >= DHT_MAX_DATAGRAM */
  *to = d->to;
  memcpy(buf, d->data, d->len);
  *len = d->len;
  node->stats.tx_datagrams++;
  node->stats.tx_bytes += d->len;
  q->head = (q->head + 1) & (q->cap - 1);
  q->n--;
  free(d);
  return 1;
}

/* ---- sealing ----------------------------------------------------------- */

void dht_msg_start(dht_msg *m, uint8_t type) {
  memset(m, 0, sizeof *m);
  m->type = type;
}

/* Stamps, encodes and seals |m| to |to| under |key| and queues it. */
static int seal_to(dht_node *node, const dht_addr *to,
                   const uint8_t key[NC_SHARED_LEN], dht_msg *m) {
  uint8_t body[DHT_BODY_MAX], dg[DHT_MAX_DATAGRAM];
  uint8_t nonce[NC_AEAD_NONCE_LEN];
  size_t blen = 0, dlen = 0;
  m->ts_ms = node->now / DHT_MS;
  int rv = dht_msg_encode(m, body, sizeof body, &blen);
  if (rv < 0) return rv;
  node->env.random(node->env.user, nonce, sizeof nonce);
  rv = dht_frame_seal(dg, sizeof dg, &dlen, node->ident.pk, node->ident.nonce,
                      nonce, key, body, blen);
  if (rv < 0) return rv;
  return dht_outq_push(node, to, dg, dlen);
}

int dht_rpc_reply(dht_node *node, const dht_addr *to,
                  const uint8_t key[NC_SHARED_LEN], dht_msg *m) {
  return seal_to(node, to, key, m);
}

/* ---- outstanding requests --------------------------------------------- */

static dht_pending *ring_at(const dht_rpc *r, size_t off) {
  return &r->ring[(r->head + off) & (r->cap - 1)];
}

/* Makes room for one more request: grows the ring up to DHT_PENDING_MAX. */
static int ring_reserve(dht_rpc *r) {
  if (r->n < r->cap) return 0;
  if (r->cap >= DHT_PENDING_MAX) return DHT_ERR_BUSY;
  size_t cap = r->cap ? r->cap * 2 : 16;
  dht_pending *nr = malloc(cap * sizeof *nr);
  if (!nr) return DHT_ERR_NOMEM;
  for (size_t i = 0; i < r->n; i++) nr[i] = *ring_at(r, i);
  free(r->ring);
  r->ring = nr;
  r->cap = cap;
  r->head = 0;
  return 0;
}

/* Pops answered or expired requests off the head. */
static void ring_pop_settled(dht_rpc *r) {
  while (r->n > 0 && !ring_at(r, 0)->live) {
    r->head = (r->head + 1) & (r->cap - 1);
    r->head_txid++;
    r->n--;
  }
}

int dht_rpc_send(dht_node *node, const dht_peer *peer, dht_msg *m,
                 uint8_t kind, uint32_t op, dht_repl_ctx *ctx) {
  uint8_t key[NC_SHARED_LEN];
  dht_rpc *r = &node->rpc;
  int rv = dht_node_peer_key(node, peer, key);
  if (rv == 0) rv = ring_reserve(r);
  if (rv == 0) {
    m->txid = r->head_txid + (uint32_t)r->n;
    rv = seal_to(node, &peer->addr, key, m);
  }
  sodium_memzero(key, sizeof key);
  if (rv < 0) {
    free(ctx);
    return rv;
  }
  dht_pending *p = ring_at(r, r->n);
  memcpy(p->id, peer->id, DHT_ID_LEN);
  p->addr = peer->addr;
  p->sent = node->now;
  p->ctx = ctx;
  p->op = op;
  p->kind = kind;
  p->type = m->type;
  p->live = 1;
  r->n++;
  return 0;
}

int dht_rpc_match(dht_node *node, uint32_t txid, uint8_t type,
                  const uint8_t id[DHT_ID_LEN], dht_pending *out) {
  dht_rpc *r = &node->rpc;
  uint32_t off = txid - r->head_txid;
  if (off >= r->n) return 0;
  dht_pending *p = ring_at(r, off);
  if (!p->live || p->type + 1 != type || memcmp(p->id, id, DHT_ID_LEN) != 0)
    return 0;
  *out = *p;
  p->live = 0;
  p->ctx = NULL; /* now owned by |out| */
  ring_pop_settled(r);
  return 1;
}

int dht_rpc_expects(const dht_node *node, const dht_addr *addr) {
  const dht_rpc *r = &node->rpc;
  for (size_t i = 0; i < r->n; i++) {
    const dht_pending *p = ring_at(r, i);
    if (p->live && dht_addr_same(&p->addr, addr)) return 1;
  }
  for (size_t i = 0; i < DHT_BOOT_MAX; i++)
    if (node->boot[i].sent != DHT_TIME_NONE &&
        dht_addr_same(&node->boot[i].addr, addr))
      return 1;
  return 0;
}

int dht_rpc_pop_expired(dht_node *node, dht_time now, dht_pending *out) {
  dht_rpc *r = &node->rpc;
  ring_pop_settled(r);
  if (r->n == 0) return 0;
  dht_pending *p = ring_at(r, 0);
  if (dht_time_add(p->sent, node->cfg.request_timeout) > now) return 0;
  *out = *p;
  p->live = 0;
  p->ctx = NULL;
  ring_pop_settled(r);
  return 1;
}

dht_time dht_rpc_deadline(const dht_node *node) {
  const dht_rpc *r = &node->rpc;
  for (size_t i = 0; i < r->n; i++) {
    const dht_pending *p = ring_at(r, i);
    if (p->live) return dht_time_add(p->sent, node->cfg.request_timeout);
  }
  return DHT_TIME_NONE;
}

void dht_rpc_tidy(dht_node *node) {
  if (node->rpc.n == 0) {
    uint32_t txid = node->rpc.head_txid;
    dht_rpc_free(&node->rpc);
    node->rpc.head_txid = txid; /* txids stay consecutive */
  }
  if (node->outq.n == 0) dht_outq_free(&node->outq);
}

void dht_rpc_free(dht_rpc *rpc) {
  for (size_t i = 0; i < rpc->n; i++) free(ring_at(rpc, i)->ctx);
  free(rpc->ring);
  memset(rpc, 0, sizeof *rpc);
}
