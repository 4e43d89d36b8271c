/*
 * What a match leads to: the opt-out history per (sender key, address)
 * and escalation against senders who ignore opt-outs.
 *
 * The first hit of an address in a batch of a sender records the time of
 * that first opt-out and sends one opt-out. A hit in another batch of the
 * same sender whose creation time is more than |grace| after that first
 * opt-out means the sender ignored it: the node publishes EVIDENCE
 * (author = the node's identity, key = reg_evidence_key(sender)) and
 * starts escalating: level 1 sends 2 copies of the opt-out to that later
 * batch's inbox, level 2 four copies one escalation_spacing later, level
 * 3 eight copies one spacing after that; each copy is sealed afresh and
 * takes its own random path. A (sender, address) pair escalates once,
 * escalation_levels levels at most (2 + 4 + 8 = 14 extra opt-outs with
 * the defaults), and the level reached is persisted, so a restart does
 * not reset the cap (levels are at most once: a level whose copies do
 * not fit the queue loses them). Any other hit (within the grace period, or after
 * the escalation) sends one ordinary opt-out to that batch's inbox; a
 * (batch, address) pair is acted on once.
 *
 * Notices go to one place only: the inbox of the key that signed the
 * batch. Nothing in a batch names any other target.
 *
 * The table is open addressing keyed by a keyed BLAKE2b of (sender,
 * address reference) with a random per-node key: sender keys are chosen
 * by outsiders. At most REG_HISTORY_MAX entries; beyond, opt-outs are
 * still sent but not remembered (logged).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static size_t hslot(const reg_histtab *t, const uint8_t sender[NC_PK_LEN],
                    const uint8_t ref[NC_HASH_LEN]) {
  uint8_t in[NC_PK_LEN + NC_HASH_LEN], out[16];
  uint64_t v;
  memcpy(in, sender, NC_PK_LEN);
  memcpy(in + NC_PK_LEN, ref, NC_HASH_LEN);
  nc_hash(out, sizeof out, t->key, sizeof t->key, in, sizeof in);
  memcpy(&v, out, sizeof v);
  return (size_t)(v & (t->n_slots - 1));
}

static size_t hprobe(const reg_histtab *t, const uint8_t sender[NC_PK_LEN],
                     const uint8_t ref[NC_HASH_LEN]) {
  size_t i = hslot(t, sender, ref);
  for (size_t step = 0; step < t->n_slots; step++) {
    uint32_t v = t->slots[i];
    if (v == 0) return i;
    const reg_hist *h = &t->h[v - 1];
    if (memcmp(h->sender, sender, NC_PK_LEN) == 0 &&
        memcmp(h->ref, ref, NC_HASH_LEN) == 0)
      return i;
    i = (i + 1) & (t->n_slots - 1);
  }
  return SIZE_MAX; /* never: the table is kept under half full */
}

void reg_hist_free(reg_histtab *t) {
  free(t->h);
  free(t->slots);
  t->h = NULL;
  t->slots = NULL;
  t->n = t->cap = t->n_slots = 0;
}

reg_hist *reg_hist_find(const reg_histtab *t, const uint8_t sender[NC_PK_LEN],
                        const uint8_t ref[NC_HASH_LEN]) {
  if (t->n == 0) return NULL;
  size_t i = hprobe(t, sender, ref);
  return i != SIZE_MAX && t->slots[i] ? &t->h[t->slots[i] - 1] : NULL;
}

static int hgrow(reg_histtab *t) {
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 16;
    reg_hist *nh = realloc(t->h, nc * sizeof *nh);
    if (!nh) return REG_ERR_NOMEM;
    t->h = nh;
    t->cap = nc;
  }
  if (2 * (t->n + 1) < t->n_slots) return 0;
  size_t ns = t->n_slots ? t->n_slots * 2 : 64;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return REG_ERR_NOMEM;
  free(t->slots);
  t->slots = slots;
  t->n_slots = ns;
  for (size_t i = 0; i < t->n; i++)
    t->slots[hprobe(t, t->h[i].sender, t->h[i].ref)] = (uint32_t)(i + 1);
  return 0;
}

reg_hist *reg_hist_add(reg_histtab *t, const reg_hist *h) {
  reg_hist *old = reg_hist_find(t, h->sender, h->ref);
  if (old) return old;
  if (t->n >= REG_HISTORY_MAX || hgrow(t) < 0) return NULL;
  t->h[t->n] = *h;
  t->slots[hprobe(t, h->sender, h->ref)] = (uint32_t)(t->n + 1);
  return &t->h[t->n++];
}

/* ---- evidence --------------------------------------------------------------- */

static int evidence_publish(reg_node *r, const reg_evidence *e) {
  uint8_t payload[REG_EVIDENCE_PAYLOAD_MAX], out[DHT_MAX_RECORD];
  uint8_t key[DHT_KEY_LEN];
  size_t plen, len;
  int rv = reg_evidence_encode(e, payload, sizeof payload, &plen);
  if (rv < 0) return rv;
  reg_evidence_key(key, e->sender_pk);
  uint64_t now_s = reg_now_s(r);
  rv = reg_record_make(out, sizeof out, &len, REG_RECORD_EVIDENCE, key,
                       payload, plen, &r->ident, now_s,
                       now_s + REG_MAX_LIFETIME_S, 0);
  if (rv < 0) return rv;
  return reg_put_queue(r, out, len, REG_PUT_EVIDENCE);
}

/* ---- escalation ----------------------------------------------------------- */

/* Sends the copies of |h|'s current level and schedules the next. */
static void level_send(reg_node *r, reg_hist *h) {
  unsigned copies = 1u << h->level;
  h->esc_next = h->level < r->cfg.escalation_levels
                    ? r->now + r->cfg.escalation_spacing
                    : DHT_TIME_NONE;
  if (h->esc_next < r->t_esc) r->t_esc = h->esc_next;
  /* Persist before sending: after a crash the cap holds (at most once). */
  reg_state_put_hist(r, h);
  r->stats.escalations_sent +=
      reg_optout_send(r, h->sender, h->esc_batch, h->esc_full, copies);
}

static void escalate_start(reg_node *r, reg_hist *h, const reg_live *b,
                           const uint8_t full[REG_FULL_HASH_LEN]) {
  reg_evidence e;
  memcpy(e.sender_pk, b->sender, NC_PK_LEN);
  memcpy(e.optout_batch, h->first_batch, REG_BATCH_ID_LEN);
  e.optout_time = h->first_s;
  memcpy(e.later_batch, b->id, REG_BATCH_ID_LEN);
  e.entry = reg_entry_of(full);
  int rv = evidence_publish(r, &e);
  if (rv < 0)
    reg_log(r, DHT_LOG_WARN, "registry: evidence not published: %s",
            reg_strerror(rv));
  reg_log(r, DHT_LOG_INFO,
          "registry: a sender ignored an opt-out: evidence, escalation");
  memcpy(h->esc_batch, b->id, REG_BATCH_ID_LEN);
  memcpy(h->esc_full, full, REG_FULL_HASH_LEN);
  h->level = 1;
  level_send(r, h);
}

static void first_optout(reg_node *r, const reg_live *b, const reg_addr *a,
                         const uint8_t full[REG_FULL_HASH_LEN]) {
  reg_hist h;
  memset(&h, 0, sizeof h);
  memcpy(h.sender, b->sender, NC_PK_LEN);
  memcpy(h.ref, a->ref, NC_HASH_LEN);
  h.first_s = reg_now_s(r);
  memcpy(h.first_batch, b->id, REG_BATCH_ID_LEN);
  h.esc_next = DHT_TIME_NONE;
  const reg_hist *added = reg_hist_add(&r->hist, &h);
  if (added)
    reg_state_put_hist(r, added);
  else
    reg_log(r, DHT_LOG_WARN, "registry: opt-out history full");
  reg_optout_send(r, b->sender, b->id, full, 1);
}

/* No room for our own opt-outs: the hit stays unanswered and the batch
 * is matched again once the queue drains (reg_watch_rematch); its state
 * entry says "not yet matched" meanwhile. */
static void defer(reg_node *r, reg_live *b) {
  if (!b->rematch) {
    b->rematch = 1;
    b->want = 1;
    reg_state_put_batch(r, b);
  }
  r->rematch = 1;
}

void reg_on_match(reg_node *r, reg_live *b, const reg_addr *a,
                  const uint8_t full[REG_FULL_HASH_LEN]) {
  if (reg_live_sent_has(b, a->ref)) return;
  if (!reg_optout_room(r, 2)) {
    defer(r, b);
    return;
  }
  r->stats.matches++;
  if (reg_live_sent_add(b, a->ref) == 0)
    reg_state_put_sent(r, b, a->ref, reg_now_s(r));
  reg_hist *h = reg_hist_find(&r->hist, b->sender, a->ref);
  if (!h) {
    first_optout(r, b, a, full);
    return;
  }
  uint64_t grace_s = r->cfg.grace / DHT_SEC;
  if (h->level == 0 && r->cfg.escalation_levels > 0 &&
      b->created_s > h->first_s + grace_s) {
    escalate_start(r, h, b, full);
    return;
  }
  reg_optout_send(r, b->sender, b->id, full, 1);
}

void reg_escalate_rearm(reg_node *r) {
  r->t_esc = DHT_TIME_NONE;
  for (size_t i = 0; i < r->hist.n; i++)
    if (r->hist.h[i].esc_next < r->t_esc) r->t_esc = r->hist.h[i].esc_next;
}

void reg_escalate_due(reg_node *r) {
  /* O(history) per run; runs only when a level is due (days apart). */
  for (size_t i = 0; i < r->hist.n; i++) {
    reg_hist *h = &r->hist.h[i];
    if (h->esc_next > r->now) continue;
    if (h->level >= r->cfg.escalation_levels) { /* cap (config lowered) */
      h->esc_next = DHT_TIME_NONE;
      reg_state_put_hist(r, h);
      continue;
    }
    h->level++;
    level_send(r, h);
  }
  reg_escalate_rearm(r);
}
