/*
 * Answers to requests, one function per message type, chosen through a
 * table. Each handler fills in the reply (type and txid already set); the
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

static int on_ping(dht_node *node, dht_rx *rx, dht_msg *reply) {
  (void)node;
  (void)rx;
  (void)reply;
  return -1;
}

static int on_find_node(dht_node *node, dht_rx *rx, dht_msg *reply) {
  dht_tokens_make(&node->tokens, rx->from, rx->peer.pk, reply->token);
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
  dht_tokens_make(&node->tokens, rx->from, rx->peer.pk, reply->token);
  put_values(node, rx->m.target, rx->m.offset, reply);
  if (reply->total == 0) put_closest(node, rx, rx->m.target, reply);
  return -1;
}

/* STORE: the token proves the requester asked us from this address with
 * this key recently; then the record is checked like any other. */
static int on_store(dht_node *node, dht_rx *rx, dht_msg *reply) {
  if (!dht_tokens_check(&node->tokens, rx->from, rx->peer.pk, rx->m.token))
    return DHT_DROP_BAD_TOKEN;
  int rv = dht_node_accept_record(node, rx->m.record, rx->m.record_len, 1, 0);
  reply->status = rv < 0 ? rv : 0;
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
};

int dht_handle_request(dht_node *node, dht_rx *rx) {
  dht_msg reply;
  size_t t = rx->m.type;
  if (t >= sizeof request_table / sizeof *request_table ||
      !request_table[t].fn)
    return DHT_DROP_MALFORMED;
  dht_msg_start(&reply, request_table[t].reply_type);
  reply.txid = rx->m.txid;
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
