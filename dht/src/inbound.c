/*
 * The inbound pipeline. Every datagram passes a fixed list of stages, each
 * of which either lets it through or names the reason it is dropped (then
 * counted in dht_stats.dropped): framing, martian source, our own key,
 * per-source token bucket (requests only: a datagram from an address we
 * are waiting on is let through, and its token refunded once it proves to
 * be a reply), ID puzzle, pair key, AEAD, body decoding, timestamp window,
 * replay cache. The cheap stages come first so that garbage costs little:
 * no X25519 runs before the puzzle holds, no AEAD before the rate limit.
 * Authenticated messages are then dispatched by type through a table:
 * requests to handlers.c, replies to the operation that sent the request.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

#define STAGE_NEXT (-1) /* go on */
#define STAGE_DONE (-2) /* handled, stop */

typedef int (*stage_fn)(dht_node *node, dht_rx *rx);

static int st_frame(dht_node *node, dht_rx *rx) {
  int drop = DHT_DROP_MALFORMED;
  (void)node;
  if (dht_frame_parse(&rx->f, rx->buf, rx->len, &drop) != 0) return drop;
  memcpy(rx->peer.pk, rx->f.pk, NC_PK_LEN);
  rx->peer.nonce = rx->f.nonce;
  rx->peer.addr = *rx->from;
  return STAGE_NEXT;
}

/* Sources that cannot send us anything: port 0, unspecified, multicast
 * and broadcast. Loopback is allowed (tests and local networks). */
static int st_martian(dht_node *node, dht_rx *rx) {
  const dht_addr *a = rx->from;
  static const uint8_t zero[16];
  (void)node;
  if (a->port == 0) return DHT_DROP_MARTIAN;
  if (a->family == 4) {
    if (a->ip[0] == 0 || a->ip[0] >= 224) return DHT_DROP_MARTIAN;
    return STAGE_NEXT;
  }
  if (a->family != 6 || memcmp(a->ip, zero, 16) == 0 || a->ip[0] == 0xff)
    return DHT_DROP_MARTIAN;
  return STAGE_NEXT;
}

static int st_self(dht_node *node, dht_rx *rx) {
  return memcmp(rx->peer.pk, node->ident.pk, NC_PK_LEN) == 0 ? DHT_DROP_SELF
                                                            : STAGE_NEXT;
}

static int st_rate(dht_node *node, dht_rx *rx) {
  rx->took_token = dht_rl_take(&node->rl, rx->from, node->now);
  if (rx->took_token || dht_rpc_expects(node, rx->from)) return STAGE_NEXT;
  return DHT_DROP_RATE_LIMIT;
}

/* The puzzle costs two hashes; after it, clear probes leave the pipeline. */
static int st_puzzle(dht_node *node, dht_rx *rx) {
  nc_node_id(rx->peer.id, rx->peer.pk, rx->peer.nonce);
  if (nc_id_puzzle_bits(rx->peer.id) < node->cfg.difficulty)
    return DHT_DROP_PUZZLE;
  if (rx->f.kind == DHT_KIND_SEALED) return STAGE_NEXT;
  int drop = dht_handle_probe(node, rx);
  return drop >= 0 ? drop : STAGE_DONE;
}

static int st_key(dht_node *node, dht_rx *rx) {
  int rv = dht_node_peer_key(node, &rx->peer, rx->key);
  if (rv == DHT_ERR_PUZZLE) return DHT_DROP_PUZZLE;
  return rv < 0 ? DHT_DROP_BAD_KEY : STAGE_NEXT;
}

static int st_open(dht_node *node, dht_rx *rx) {
  (void)node;
  if (dht_frame_open(&rx->f, rx->key, rx->body, &rx->body_len) != 0)
    return DHT_DROP_DECRYPT;
  return STAGE_NEXT;
}

static int st_decode(dht_node *node, dht_rx *rx) {
  (void)node;
  if (dht_msg_decode(&rx->m, rx->body, rx->body_len) != 0)
    return DHT_DROP_MALFORMED;
  return STAGE_NEXT;
}

/* |ts - now| <= clock_skew, compared in ms without overflow. */
static int st_time(dht_node *node, dht_rx *rx) {
  uint64_t now_ms = node->now / DHT_MS, ts = rx->m.ts_ms;
  uint64_t skew_ms = node->cfg.clock_skew / DHT_MS;
  uint64_t diff = ts > now_ms ? ts - now_ms : now_ms - ts;
  return diff > skew_ms ? DHT_DROP_STALE_TIME : STAGE_NEXT;
}

/* A full replay cache cannot prove freshness: fail closed, counted as an
 * overload (rate_limit). */
static int st_replay(dht_node *node, dht_rx *rx) {
  /* Rotate first: the generation a nonce enters must be current for it
   * to be kept at least one full period. */
  dht_replay_rotate(&node->replay, node->now);
  int rv = dht_replay_check(&node->replay, rx->peer.pk, rx->f.aead_nonce);
  if (rv == DHT_REPLAY_SEEN) return DHT_DROP_REPLAY;
  if (rv == DHT_REPLAY_FULL) return DHT_DROP_RATE_LIMIT;
  return STAGE_NEXT;
}

/* A reply: it must answer a live request of ours, from the very peer
 * asked. It proves the peer's key, so the peer enters the table. */
static int on_reply(dht_node *node, dht_rx *rx) {
  dht_pending p;
  if (!dht_rpc_match(node, rx->m.txid, rx->m.type, rx->peer.id, &p))
    return DHT_DROP_UNSOLICITED;
  if (rx->took_token) dht_rl_refund(&node->rl, rx->from);
  dht_time rtt = node->now - p.sent;
  uint32_t rtt_ms = (uint32_t)(rtt / DHT_MS);
  dht_node_admit(node, &rx->peer, rx->key, rtt_ms ? rtt_ms : 1);
  if (p.kind == DHT_PEND_LOOKUP || p.kind == DHT_PEND_STORE ||
      p.kind == DHT_PEND_APP) {
    dht_ops_reply(node, &p, &rx->peer, &rx->m);
  } else if (p.kind == DHT_PEND_BOOT) {
    int err = 0;
    dht_ops_start(node, DHT_OP_JOIN, node->ident.id, 0, NULL, 0, &err);
  } else if (p.kind == DHT_PEND_REPL_FIND) {
    dht_maint_repl_reply(node, &p, &rx->peer, &rx->m);
  }
  free(p.ctx);
  return STAGE_DONE;
}

static int on_request(dht_node *node, dht_rx *rx) {
  int drop = dht_handle_request(node, rx);
  if (drop >= 0) return drop;
  node->stats.requests_in++;
  dht_node_admit(node, &rx->peer, rx->key, 0);
  return STAGE_DONE;
}

/* Dispatch by message type: odd types are requests, even types replies. */
static const stage_fn dispatch_table[] = {
    [DHT_MSG_PING] = on_request,  [DHT_MSG_PONG] = on_reply,
    [DHT_MSG_FIND_NODE] = on_request, [DHT_MSG_NODES] = on_reply,
    [DHT_MSG_FIND_VALUE] = on_request, [DHT_MSG_VALUES] = on_reply,
    [DHT_MSG_STORE] = on_request, [DHT_MSG_STORED] = on_reply,
    [DHT_MSG_RELAY] = on_request, [DHT_MSG_RELAYED] = on_reply,
};

static int st_dispatch(dht_node *node, dht_rx *rx) {
  size_t t = rx->m.type;
  if (t >= sizeof dispatch_table / sizeof *dispatch_table ||
      !dispatch_table[t])
    return DHT_DROP_MALFORMED;
  return dispatch_table[t](node, rx);
}

static const stage_fn stages[] = {
    st_frame, st_martian, st_self,  st_rate,   st_puzzle, st_key,
    st_open,  st_decode,  st_time,  st_replay, st_dispatch,
};

void dht_node_handle_datagram(dht_node *node, dht_time now,
                              const dht_addr *from, const uint8_t *buf,
                              size_t len) {
  dht_rx rx;
  if (!node || !from || (!buf && len)) return;
  dht_node_clock(node, now);
  node->stats.rx_datagrams++;
  node->stats.rx_bytes += len;
  memset(&rx.f, 0, sizeof rx.f);
  memset(&rx.peer, 0, sizeof rx.peer);
  rx.from = from;
  rx.buf = buf;
  rx.len = len;
  rx.took_token = 0;
  rx.body_len = 0;
  for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
    int rv = stages[i](node, &rx);
    if (rv == STAGE_NEXT) continue;
    if (rv >= 0 && rv < DHT_DROP_COUNT) node->stats.dropped[rv]++;
    break;
  }
  sodium_memzero(rx.key, sizeof rx.key);
  dht_ops_reap(node);
}
