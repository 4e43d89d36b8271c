/*
 * Answers to requests, one function per message type, chosen through a
 * table: PING, FIND_NODE, FIND_VALUE, STORE, and RELAY (an application
 * message handed to env.app_message). Each handler fills in the reply (type and txid already set); the
 * caller seals and queues it. Replies are never larger than what fits in
 * one datagram, and a PROBE_REPLY is exactly as long as the PROBE, so a
 * spoofed source gains no amplification.
 */
#include <string.h>

#include "node.h"
#include "util.h"

typedef int (*request_fn)(dht_node *node, dht_rx *rx, dht_msg *reply);

/* Fills |reply|'s contacts with the k closest contacts we know to
 * |target|, leaving out the requester. */
static void put_closest(dht_node *node, const dht_rx *rx,
                        const uint8_t target[DHT_ID_LEN], dht_msg *reply) {
  const dht_rt_entry *near[DHT_K_MAX];
  size_t n = dht_rt_closest(&node->rt, target, rx->peer.id, near,
                            node->cfg.k);
  for (size_t i = 0; i < n; i++) {
    memcpy(reply->contacts[i].pk, near[i]->c.pk, NC_PK_LEN);
    reply->contacts[i].nonce = near[i]->c.nonce;
    reply->contacts[i].addr = near[i]->c.addr;
  }
  reply->n_contacts = n;
}

/* A routing adversary's NODES: the contacts its behaviour hook chose.
 * Returns 1 if the hook answered, 0 to answer honestly. */
static int put_chosen(dht_node *node, const uint8_t target[DHT_ID_LEN],
                      dht_msg *reply) {
  const dht_behaviour *b = node->env.behaviour;
  dht_contact c[DHT_K_MAX];
  if (!b || !b->nodes_reply) return 0;
  int n = b->nodes_reply(b->user, target, c, node->cfg.k);
  if (n < 0) return 0;
  if ((size_t)n > node->cfg.k) n = (int)node->cfg.k;
  for (int i = 0; i < n; i++) {
    memcpy(reply->contacts[i].pk, c[i].pk, NC_PK_LEN);
    reply->contacts[i].nonce = c[i].nonce;
    reply->contacts[i].addr = c[i].addr;
  }
  reply->n_contacts = (size_t)n;
  return 1;
}

static int on_ping(dht_node *node, dht_rx *rx, dht_msg *reply) {
  (void)node;
  (void)rx;
  (void)reply;
  return -1;
}

static int on_find_node(dht_node *node, dht_rx *rx, dht_msg *reply) {
  dht_tokens_make(&node->tokens, rx->from, rx->peer.pk, reply->token);
  if (!put_chosen(node, rx->m.target, reply))
    put_closest(node, rx, rx->m.target, reply);
  return -1;
}

/* Adds the live records under |key| from the |offset|-th on, as many as
 * DHT_VALUES_MAX and the datagram allow; sets reply->total. */
static void put_values(dht_node *node, const uint8_t key[DHT_KEY_LEN],
                       uint32_t offset, dht_msg *reply) {
  uint8_t scratch[DHT_BODY_MAX];
  size_t first, len, n = dht_store_range(&node->store, key, &first);
  uint32_t live = 0;
  int full = 0;
  /* Size the reply with a total no smaller than the final one (msgpack
   * widens the integer at 128 and 65,536): a page sized with total 0
   * and sent with 321 overflowed the datagram and was never sent. */
  reply->total = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
  for (size_t i = first; i < first + n; i++) {
    const dht_srec *r = node->store.recs[i];
    if (!dht_node_live_record(node, r)) continue;
    if (live++ < offset || full || reply->n_records >= DHT_VALUES_MAX) continue;
    reply->records[reply->n_records] = r->bytes;
    reply->record_lens[reply->n_records++] = r->len;
    if (dht_msg_encode(reply, scratch, sizeof scratch, &len) != 0) {
      reply->n_records--;
      full = 1;
    }
  }
  reply->total = live;
}

static int on_find_value(dht_node *node, dht_rx *rx, dht_msg *reply) {
  const dht_behaviour *b = node->env.behaviour;
  dht_tokens_make(&node->tokens, rx->from, rx->peer.pk, reply->token);
  rx->alt_len = 0;
  if (b && b->value_reply &&
      b->value_reply(b->user, rx->m.target, rx->alt,
                     &rx->alt_len) == 1 &&
      rx->alt_len > 0 && rx->alt_len <= DHT_MAX_RECORD) {
    reply->records[0] = rx->alt;
    reply->record_lens[0] = rx->alt_len;
    reply->n_records = reply->total = 1;
    return -1;
  }
  if (!b || !b->withhold_values)
    put_values(node, rx->m.target, rx->m.offset, reply);
  if (reply->total == 0 && !put_chosen(node, rx->m.target, reply))
    put_closest(node, rx, rx->m.target, reply);
  return -1;
}

/* STORE: the token proves the requester asked us from this address with
 * this key recently; then the record is checked like any other. */
static int on_store(dht_node *node, dht_rx *rx, dht_msg *reply) {
  if (!dht_tokens_check(&node->tokens, rx->from, rx->peer.pk, rx->m.token))
    return DHT_DROP_BAD_TOKEN;
  if (node->env.behaviour && node->env.behaviour->drop_stores) {
    reply->status = 0; /* a storage adversary: acknowledged, not kept */
    return -1;
  }
  int rv = dht_node_accept_record(node, rx->m.record, rx->m.record_len, 1, 0);
  reply->status = rv < 0 ? rv : 0;
  return -1;
}

/* The sender as the application sees it: what the table knows of it,
 * or a contact first seen now. */
static void sender_contact(const dht_node *node, const dht_rx *rx,
                           dht_contact *c) {
  const dht_rt_entry *e = dht_rt_find(&node->rt, rx->peer.id);
  memset(c, 0, sizeof *c);
  memcpy(c->id, rx->peer.id, DHT_ID_LEN);
  memcpy(c->pk, rx->peer.pk, NC_PK_LEN);
  c->nonce = rx->peer.nonce;
  c->addr = *rx->from;
  c->first_seen = e ? e->c.first_seen : node->now;
  c->last_seen = node->now;
  c->rtt_ms = e ? e->c.rtt_ms : 0;
}

/* RELAY: the payload goes to the application, whose answer (0 or a
 * negative code, clamped into the status range) is sent back. The hook
 * may call into the node (send_app, put): nothing here holds a pointer
 * into the node's tables across the call. */
static int on_relay(dht_node *node, dht_rx *rx, dht_msg *reply) {
  dht_contact from;
  int rv = DHT_ERR_UNKNOWN_TYPE;
  if (node->env.app_message) {
    sender_contact(node, rx, &from);
    rv = node->env.app_message(node->env.user, node->now, &from,
                               rx->m.payload, rx->m.payload_len);
  }
  if (rv > 0) rv = 0;
  reply->status = rv < DHT_STATUS_MIN ? DHT_ERR_INVALID_ARGUMENT : rv;
  return -1;
}

static const struct {
  request_fn fn;
  uint8_t reply_type;
} request_table[] = {
    [DHT_MSG_PING] = {on_ping, DHT_MSG_PONG},
    [DHT_MSG_FIND_NODE] = {on_find_node, DHT_MSG_NODES},
    [DHT_MSG_FIND_VALUE] = {on_find_value, DHT_MSG_VALUES},
    [DHT_MSG_STORE] = {on_store, DHT_MSG_STORED},
    [DHT_MSG_RELAY] = {on_relay, DHT_MSG_RELAYED},
};

int dht_handle_request(dht_node *node, dht_rx *rx) {
  dht_msg reply;
  size_t t = rx->m.type;
  if (t >= sizeof request_table / sizeof *request_table ||
      !request_table[t].fn)
    return DHT_DROP_MALFORMED;
  dht_msg_start(&reply, request_table[t].reply_type);
  reply.txid = rx->m.txid;
  reply.ts_ms = node->now / DHT_MS; /* size checks must see the real stamp */
  int drop = request_table[t].fn(node, rx, &reply);
  if (drop >= 0) return drop;
  /* A full queue is counted by dht_outq_push; nothing else can fail for
   * replies built within the limits above. */
  dht_rpc_reply(node, rx->from, rx->key, &reply);
  return -1;
}

static int on_probe(dht_node *node, dht_rx *rx) {
  uint8_t out[DHT_PROBE_LEN];
  dht_frame_write_probe(out, DHT_KIND_PROBE_REPLY, node->ident.pk,
                        node->ident.nonce, rx->f.cookie);
  dht_outq_push(node, rx->from, out, sizeof out);
  node->stats.requests_in++;
  return -1;
}

/* PROBE_REPLY: must echo the cookie of a probe we sent to that address.
 * We now know the peer's key and send it a sealed PING; its PONG admits
 * it to the table and starts the join (inbound.c). */
static int on_probe_reply(dht_node *node, dht_rx *rx) {
  dht_boot *b = NULL;
  for (size_t i = 0; i < DHT_BOOT_MAX && !b; i++)
    if (node->boot[i].sent != DHT_TIME_NONE &&
        node->boot[i].cookie == rx->f.cookie &&
        dht_addr_same(&node->boot[i].addr, rx->from))
      b = &node->boot[i];
  if (!b) return DHT_DROP_UNSOLICITED;
  b->sent = DHT_TIME_NONE;
  if (rx->took_token) dht_rl_refund(&node->rl, rx->from);
  dht_msg m;
  dht_msg_start(&m, DHT_MSG_PING);
  /* The request's op field carries the round, for a retry on timeout. */
  int rv = dht_rpc_send(node, &rx->peer, &m, DHT_PEND_BOOT, b->rounds, NULL);
  if (rv == DHT_ERR_PUZZLE) return DHT_DROP_PUZZLE;
  if (rv == DHT_ERR_INVALID_ARGUMENT) return DHT_DROP_BAD_KEY;
  return -1;
}

int dht_handle_probe(dht_node *node, dht_rx *rx) {
  if (rx->f.kind == DHT_KIND_PROBE) return on_probe(node, rx);
  if (rx->f.kind == DHT_KIND_PROBE_REPLY) return on_probe_reply(node, rx);
  return DHT_DROP_BAD_KIND;
}
