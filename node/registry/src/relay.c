/*
 * Opt-outs on the move: Crowds-style relaying and the inbox.
 *
 * The origin seals an opt-out to the batch's sender key and sends it, in
 * an app message [1, sender_pk, batch_id, sealed], to a random contact.
 * A relay that receives one forwards it unchanged to another random
 * contact (not back to the one it came from when it knows another) with
 * probability forward_permille / 1000, or else stores it: an OPTOUT
 * record under the batch's inbox key, authored by the relay. There is no
 * hop count: a relay cannot tell the origin from a relay before it.
 *
 * Sends that fail (no acknowledgement in time, or a refusal) are tried
 * again through another random contact, REG_SEND_TRIES contacts in all;
 * then the origin gives up (its opt-out is not lost for good: the next
 * batch that holds the address gets one) and a relay stores the opt-out
 * itself. The origin never stores its own opt-out: the inbox record's
 * author would name it.
 *
 * A relay acknowledges an app message once it is queued; the work is done
 * at the next expiry (never from inside the DHT's app_message hook).
 * Relaying is rate limited (REG_RELAY_RATE per second, burst
 * REG_RELAY_BURST) and the queues are bounded (REG_RELAY_QUEUE_MAX,
 * REG_PUTS_MAX): beyond, messages are refused and the sender tries
 * someone else. The node's own opt-outs have their own bound
 * (REG_ORIGIN_QUEUE_MAX): a match that finds it full waits (escalate.c,
 * watch.c: the batch is matched again when the queue has drained).
 *
 * When the DHT answers BUSY (its max_operations are in use) the queue
 * stops until REG_BUSY_RETRY later or until one of our operations
 * completes, rather than asking again for every queued item.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"

static void on_sent(void *arg, int status);
static void on_put(void *arg, int status, unsigned stored,
                   const dht_lookup_stats *st);

/* ---- the send queue ------------------------------------------------------ */

int reg_optout_room(const reg_node *r, unsigned copies) {
  return r->n_origin + copies <= REG_ORIGIN_QUEUE_MAX;
}

static int send_queue(reg_node *r, const uint8_t *msg, size_t len,
                      uint8_t role, const uint8_t *avoid) {
  size_t relayed = r->n_sends - r->n_origin;
  if (len > REG_APP_MAX ||
      (role == REG_SEND_ORIGIN ? !reg_optout_room(r, 1)
                               : relayed >= REG_RELAY_QUEUE_MAX))
    return DHT_ERR_BUSY;
  reg_send *s = calloc(1, sizeof *s);
  if (!s) return REG_ERR_NOMEM;
  memcpy(s->msg, msg, len);
  s->len = len;
  s->role = role;
  if (avoid) {
    s->has_avoid = 1;
    memcpy(s->avoid, avoid, NC_PK_LEN);
  }
  s->retry_at = r->now;
  if (reg_vec_push((void ***)&r->sends, &r->n_sends, &r->cap_sends, s) < 0) {
    free(s);
    return REG_ERR_NOMEM;
  }
  if (role == REG_SEND_ORIGIN) r->n_origin++;
  reg_wake(r, r->now);
  return 0;
}

static void send_done(reg_node *r, reg_send *s) {
  for (size_t i = 0; i < r->n_sends; i++)
    if (r->sends[i] == s) {
      reg_vec_remove((void **)r->sends, &r->n_sends, i);
      break;
    }
  if (s->role == REG_SEND_ORIGIN) {
    r->n_origin--;
    if (r->rematch) reg_wake(r, r->now);
  }
  sodium_memzero(s, sizeof *s);
  free(s);
}

/* Picks a random contact that is neither |avoid| nor the one that just
 * failed, if the table offers one. Returns 0 if the table is empty. */
static int pick(reg_node *r, const reg_send *s, dht_contact *out) {
  dht_contact c[3];
  size_t n = dht_node_random_contacts(r->dht, c, 3);
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    int bad = (s->has_avoid && memcmp(c[i].pk, s->avoid, NC_PK_LEN) == 0) ||
              (s->tries && memcmp(c[i].pk, s->last, NC_PK_LEN) == 0);
    if (!bad) {
      *out = c[i];
      return 1;
    }
  }
  *out = c[0]; /* no choice */
  return 1;
}

/* Sends |s| to a random contact. Returns DHT_ERR_BUSY if the DHT has no
 * room (nothing else should be tried now), else 0. */
static int send_try(reg_node *r, reg_send *s) {
  dht_contact c;
  if (!pick(r, s, &c)) {
    s->retry_at = r->now + REG_NO_CONTACT_RETRY;
    return 0;
  }
  reg_req *q = reg_req_new(r, REG_REQ_SEND);
  if (!q) return DHT_ERR_BUSY;
  q->job = s;
  int rv = dht_node_send_app(r->dht, r->now, &c, s->msg, s->len, on_sent, q);
  if (rv == DHT_ERR_BUSY || rv == DHT_ERR_NOMEM) {
    reg_req_free(q);
    return DHT_ERR_BUSY;
  }
  memcpy(s->last, c.pk, NC_PK_LEN);
  if (rv < 0) { /* this contact cannot be used: another one */
    reg_req_free(q);
    s->tries++;
    return 0;
  }
  s->in_flight = 1;
  s->retry_at = DHT_TIME_NONE;
  return 0;
}

/* Builds and queues the OPTOUT record a relay stores: author = this
 * node, key = the batch's inbox. */
static int store_optout(reg_node *r, const uint8_t sender[NC_PK_LEN],
                        const uint8_t id[REG_BATCH_ID_LEN],
                        const uint8_t *sealed, size_t sealed_len) {
  uint8_t payload[REG_OPTOUT_RECORD_PAYLOAD_MAX], out[DHT_MAX_RECORD];
  uint8_t key[DHT_KEY_LEN];
  size_t plen, len;
  reg_optout_record x;
  memcpy(x.sender_pk, sender, NC_PK_LEN);
  memcpy(x.batch_id, id, REG_BATCH_ID_LEN);
  x.sealed = sealed;
  x.sealed_len = sealed_len;
  int rv = reg_optout_record_encode(&x, payload, sizeof payload, &plen);
  if (rv < 0) return rv;
  reg_inbox_key(key, sender, id);
  uint64_t now_s = reg_now_s(r);
  rv = reg_record_make(out, sizeof out, &len, REG_RECORD_OPTOUT, key, payload,
                       plen, &r->ident, now_s, now_s + REG_MAX_LIFETIME_S, 0);
  if (rv < 0) return rv;
  return reg_put_queue(r, out, len, REG_PUT_OPTOUT);
}

/* A relay that could not forward stores the opt-out itself. */
static void relay_fallback(reg_node *r, const reg_send *s) {
  uint8_t sender[NC_PK_LEN], id[REG_BATCH_ID_LEN];
  const uint8_t *sealed;
  size_t slen;
  if (reg_app_decode(s->msg, s->len, sender, id, &sealed, &slen) == 0 &&
      store_optout(r, sender, id, sealed, slen) == 0)
    return;
  reg_log(r, DHT_LOG_WARN, "registry: relayed opt-out lost");
}

static void on_sent(void *arg, int status) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_send *s = q->job;
  reg_req_free(q);
  s->in_flight = 0;
  r->sends_blocked = 0; /* a DHT operation slot is free again */
  reg_wake(r, r->now);
  if (status == 0) {
    if (s->role == REG_SEND_ORIGIN)
      r->stats.optouts_sent++;
    else
      r->stats.optouts_relayed++;
    send_done(r, s);
    return;
  }
  if (++s->tries < REG_SEND_TRIES) {
    s->retry_at = r->now; /* through another random contact */
    reg_wake(r, r->now);
    return;
  }
  if (s->role == REG_SEND_RELAY)
    relay_fallback(r, s);
  else
    reg_log(r, DHT_LOG_WARN, "registry: opt-out not sent: %s",
            reg_strerror(status));
  send_done(r, s);
}

static void sends_pump(reg_node *r) {
  if (r->sends_blocked > r->now) return;
  for (size_t i = 0; i < r->n_sends;) {
    reg_send *s = r->sends[i];
    if (s->in_flight || s->retry_at > r->now) {
      i++;
      continue;
    }
    if (s->tries >= REG_SEND_TRIES) { /* contacts kept refusing locally */
      if (s->role == REG_SEND_RELAY) relay_fallback(r, s);
      send_done(r, s);
      continue;
    }
    if (send_try(r, s) == DHT_ERR_BUSY) {
      r->sends_blocked = r->now + REG_BUSY_RETRY;
      return;
    }
    i++;
  }
}

/* ---- origin ---------------------------------------------------------------- */

unsigned reg_optout_send(reg_node *r, const uint8_t sender[NC_PK_LEN],
                         const uint8_t id[REG_BATCH_ID_LEN],
                         const uint8_t full[REG_FULL_HASH_LEN],
                         unsigned copies) {
  unsigned queued = 0;
  for (unsigned c = 0; c < copies; c++) {
    uint8_t sealed[REG_OPTOUT_SEALED_MAX], msg[REG_APP_MAX];
    size_t slen, mlen;
    reg_optout o;
    memset(&o, 0, sizeof o);
    memcpy(o.batch_id, id, REG_BATCH_ID_LEN);
    memcpy(o.full_hash, full, REG_FULL_HASH_LEN);
    o.time_s = reg_now_s(r);
    int rv = reg_optout_seal(sealed, &slen, &o, sender, r->cfg.optout_pow_bits);
    if (rv == 0) rv = reg_app_encode(msg, &mlen, sender, id, sealed, slen);
    if (rv == 0) rv = send_queue(r, msg, mlen, REG_SEND_ORIGIN, NULL);
    sodium_memzero(&o, sizeof o);
    if (rv < 0) {
      reg_log(r, DHT_LOG_WARN, "registry: opt-out not queued: %s",
              reg_strerror(rv));
      continue;
    }
    queued++;
  }
  return queued;
}

/* ---- relaying ------------------------------------------------------------- */

/* Token bucket over relayed messages, in thousandths of a message. */
static int relay_token(reg_node *r) {
  dht_time dt = r->now - r->relay_refill;
  uint64_t add = dt / (DHT_MS / REG_RELAY_RATE); /* 1/1000 per 1/RATE ms */
  uint64_t t = r->relay_tokens + add;
  if (add) r->relay_refill = r->now;
  r->relay_tokens = (uint32_t)(t > REG_RELAY_BURST * 1000u
                                   ? REG_RELAY_BURST * 1000u
                                   : t);
  if (r->relay_tokens < 1000) return 0;
  r->relay_tokens -= 1000;
  return 1;
}

/* Draws the Crowds coin: 1 = forward, with probability p_f. */
static int coin_forward(reg_node *r) {
  uint8_t b[4];
  r->env.random(r->env.user, b, sizeof b);
  uint32_t x = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
               (uint32_t)b[2] << 8 | b[3];
  return ((uint64_t)x * 1000 >> 32) < r->cfg.forward_permille;
}

int reg_node_handle_app_message(reg_node *r, dht_time now,
                                const dht_contact *from, const uint8_t *msg,
                                size_t len) {
  uint8_t sender[NC_PK_LEN], id[REG_BATCH_ID_LEN];
  const uint8_t *sealed;
  size_t slen;
  if (!r || !from || !msg) return DHT_ERR_INVALID_ARGUMENT;
  if (now > r->now) r->now = now;
  if (reg_app_decode(msg, len, sender, id, &sealed, &slen) < 0) {
    r->stats.relays_refused++;
    return DHT_ERR_MALFORMED;
  }
  if (!relay_token(r)) {
    r->stats.relays_refused++;
    return DHT_ERR_BUSY;
  }
  int rv = coin_forward(r)
               ? send_queue(r, msg, len, REG_SEND_RELAY, from->pk)
               : store_optout(r, sender, id, sealed, slen);
  if (rv < 0) {
    r->stats.relays_refused++;
    return rv == DHT_ERR_BUSY ? rv : DHT_ERR_BUSY;
  }
  return 0;
}

/* ---- the put queue ---------------------------------------------------------- */

int reg_put_queue(reg_node *r, const uint8_t *rec, size_t len, uint8_t kind) {
  if (len > DHT_MAX_RECORD) return REG_ERR_TOO_LARGE;
  if (r->n_puts >= REG_PUTS_MAX) return DHT_ERR_BUSY;
  reg_put *p = calloc(1, sizeof *p);
  if (!p) return REG_ERR_NOMEM;
  memcpy(p->rec, rec, len);
  p->len = len;
  p->kind = kind;
  p->retry_at = r->now;
  if (reg_vec_push((void ***)&r->puts, &r->n_puts, &r->cap_puts, p) < 0) {
    free(p);
    return REG_ERR_NOMEM;
  }
  reg_wake(r, r->now);
  return 0;
}

static void put_done(reg_node *r, reg_put *p) {
  for (size_t i = 0; i < r->n_puts; i++)
    if (r->puts[i] == p) {
      reg_vec_remove((void **)r->puts, &r->n_puts, i);
      break;
    }
  free(p);
}

static void on_put(void *arg, int status, unsigned stored,
                   const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_put *p = q->job;
  (void)st;
  reg_req_free(q);
  p->in_flight = 0;
  r->puts_blocked = 0; /* a DHT operation slot is free again */
  reg_wake(r, r->now);
  if (status == 0 && stored > 0) {
    if (p->kind == REG_PUT_OPTOUT)
      r->stats.optouts_stored++;
    else
      r->stats.evidence_published++;
    put_done(r, p);
    return;
  }
  if (++p->tries >= REG_PUT_TRIES) {
    /* The DHT keeps the record as our own and republishes it. */
    reg_log(r, DHT_LOG_WARN, "registry: put not acknowledged: %s",
            reg_strerror(status ? status : DHT_ERR_TIMEOUT));
    put_done(r, p);
    return;
  }
  p->retry_at = r->now + REG_PUT_RETRY;
  reg_wake(r, p->retry_at);
}

/* Starts one put. Returns 0, DHT_ERR_BUSY (try later) or another error
 * (the record is dropped). */
static int put_try(reg_node *r, reg_put *p) {
  reg_req *q = reg_req_new(r, REG_REQ_PUT);
  if (!q) return DHT_ERR_BUSY;
  q->job = p;
  int rv = dht_node_put(r->dht, r->now, p->rec, p->len, on_put, q);
  if (rv < 0) {
    reg_req_free(q);
    return rv;
  }
  p->in_flight = 1;
  p->retry_at = DHT_TIME_NONE;
  return 0;
}

static void puts_pump(reg_node *r) {
  if (r->puts_blocked > r->now) return;
  for (size_t i = 0; i < r->n_puts;) {
    reg_put *p = r->puts[i];
    if (p->in_flight || p->retry_at > r->now) {
      i++;
      continue;
    }
    int rv = put_try(r, p);
    if (rv == DHT_ERR_BUSY || rv == DHT_ERR_NOMEM) {
      r->puts_blocked = r->now + REG_BUSY_RETRY;
      return;
    } else if (rv < 0) {
      reg_log(r, DHT_LOG_WARN, "registry: record refused by the DHT: %s",
              reg_strerror(rv));
      put_done(r, p);
    } else {
      i++;
    }
  }
}

void reg_relay_pump(reg_node *r) {
  sends_pump(r);
  puts_pump(r);
}

/* The earliest time a queued item wants to go, but not before its queue
 * is unblocked. */
static dht_time not_before(dht_time d, dht_time blocked) {
  return d != DHT_TIME_NONE && d < blocked ? blocked : d;
}

dht_time reg_relay_deadline(const reg_node *r) {
  dht_time s = DHT_TIME_NONE, p = DHT_TIME_NONE;
  for (size_t i = 0; i < r->n_sends; i++)
    if (!r->sends[i]->in_flight && r->sends[i]->retry_at < s)
      s = r->sends[i]->retry_at;
  for (size_t i = 0; i < r->n_puts; i++)
    if (!r->puts[i]->in_flight && r->puts[i]->retry_at < p)
      p = r->puts[i]->retry_at;
  s = not_before(s, r->sends_blocked);
  p = not_before(p, r->puts_blocked);
  return s < p ? s : p;
}

void reg_relay_free(reg_node *r) {
  for (size_t i = 0; i < r->n_sends; i++) {
    sodium_memzero(r->sends[i], sizeof *r->sends[i]);
    free(r->sends[i]);
  }
  for (size_t i = 0; i < r->n_puts; i++) free(r->puts[i]);
  free(r->sends);
  free(r->puts);
  r->sends = NULL;
  r->puts = NULL;
  r->n_sends = r->n_puts = 0;
}
