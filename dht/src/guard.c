/*
 * Flood and replay defences: per-prefix token buckets, the AEAD nonce
 * replay cache and the STORE token secrets (see limits.h). Tables are
 * open-addressed with linear probing, indexed by SipHash-2-4
 * (crypto_shorthash) under a per-node random key, kept at most half full
 * and grown on demand up to fixed caps; work per call is bounded by the
 * caps.
 */
#include "guard.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- token buckets --------------------------------------------------- */

void dht_rl_init(dht_rl *rl, uint32_t rate, uint32_t burst,
                 const uint8_t hkey[16]) {
  memset(rl, 0, sizeof *rl);
  memcpy(rl->hkey, hkey, sizeof rl->hkey);
  rl->rate = rate;
  /* Levels are kept in milli-tokens in 32 bits. */
  rl->burst = burst > DHT_RL_BURST_MAX ? DHT_RL_BURST_MAX : burst;
}

void dht_rl_free(dht_rl *rl) {
  free(rl->slots);
  rl->slots = NULL;
  rl->cap = rl->n = 0;
}

static uint64_t rl_hash(const dht_rl *rl, const uint8_t prefix[16]) {
  uint8_t out[crypto_shorthash_BYTES];
  uint64_t h = 0;
  crypto_shorthash(out, prefix, 16, rl->hkey);
  for (int i = 0; i < 8; i++) h |= (uint64_t)out[i] << (8 * i);
  return h;
}

/* Token level of |s| refilled up to |now|, in milli-tokens. The elapsed
 * time is clamped to 1000 s (more than any bucket needs to refill) so the
 * product below stays within 64 bits. */
static uint32_t rl_level(const dht_rl *rl, const dht_rl_slot *s,
                         dht_time now) {
  uint64_t full = (uint64_t)rl->burst * 1000u;
  uint64_t us = now > s->last ? (now - s->last) / 1000u : 0;
  if (us > 1000000000u) us = 1000000000u;
  uint64_t level = s->milli + us * rl->rate / 1000u;
  return (uint32_t)(level < full ? level : full);
}

/* Returns the slot index holding |prefix|, or the empty slot where it
 * would go. The table must have an empty slot. */
static size_t rl_probe(const dht_rl *rl, const uint8_t prefix[16]) {
  size_t mask = rl->cap - 1, i = (size_t)rl_hash(rl, prefix) & mask;
  while (rl->slots[i].last != 0 && memcmp(rl->slots[i].prefix, prefix, 16))
    i = (i + 1) & mask;
  return i;
}

/* Rebuilds the table with |cap| slots, dropping buckets that are full at
 * |now| (they are indistinguishable from a fresh bucket). */
static int rl_rebuild(dht_rl *rl, size_t cap, dht_time now) {
  dht_rl_slot *old = rl->slots;
  size_t old_cap = rl->cap;
  dht_rl_slot *ns = calloc(cap, sizeof *ns);
  if (!ns) return DHT_ERR_NOMEM;
  rl->slots = ns;
  rl->cap = cap;
  rl->n = 0;
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i].last == 0) continue;
    if (rl_level(rl, &old[i], now) >= rl->burst * 1000u) continue;
    size_t j = rl_probe(rl, old[i].prefix);
    ns[j] = old[i];
    rl->n++;
  }
  free(old);
  return 0;
}

/* Deletes slot |i| by shifting later members of its probe run back. */
static void rl_delete(dht_rl *rl, size_t i) {
  size_t mask = rl->cap - 1, j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (rl->slots[j].last == 0) break;
    size_t home = (size_t)rl_hash(rl, rl->slots[j].prefix) & mask;
    int movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      rl->slots[i] = rl->slots[j];
      i = j;
    }
  }
  memset(&rl->slots[i], 0, sizeof rl->slots[i]);
  rl->n--;
}

/* At the cap: evict the fullest bucket among 8 probed slots (the most
 * idle source loses the least by being forgotten). */
static void rl_evict(dht_rl *rl, const uint8_t prefix[16], dht_time now) {
  size_t mask = rl->cap - 1, i = (size_t)rl_hash(rl, prefix) & mask;
  size_t victim = SIZE_MAX;
  uint32_t best = 0;
  for (size_t seen = 0, tries = 0; seen < 8 && tries < rl->cap; tries++) {
    size_t s = (i + tries) & mask;
    if (rl->slots[s].last == 0) continue;
    seen++;
    uint32_t lv = rl_level(rl, &rl->slots[s], now);
    if (victim == SIZE_MAX || lv > best) {
      victim = s;
      best = lv;
    }
  }
  if (victim != SIZE_MAX) rl_delete(rl, victim);
}

/* Makes room for one more entry; returns 0 or DHT_ERR_NOMEM. Refilled
 * buckets are forgotten first, but at most once a second: a rebuild
 * hashes every entry, and a flood of new sources must not pay that per
 * datagram. */
static int rl_reserve(dht_rl *rl, const uint8_t prefix[16], dht_time now) {
  if (rl->cap && rl->n + 1 <= rl->cap / 2) return 0;
  int at_max = rl->cap / 2 >= DHT_RL_MAX;
  if (rl->cap &&
      (!at_max || now < rl->purged || now - rl->purged >= DHT_SEC)) {
    rl->purged = now;
    if (rl_rebuild(rl, rl->cap, now) < 0) return DHT_ERR_NOMEM;
    if (rl->n + 1 <= rl->cap / 2) return 0;
  }
  if (at_max) {
    rl_evict(rl, prefix, now);
    return 0;
  }
  return rl_rebuild(rl, rl->cap ? rl->cap * 2 : 16, now);
}

int dht_rl_take(dht_rl *rl, const dht_addr *from, dht_time now) {
  uint8_t prefix[16];
  dht_time stamp = now ? now : 1; /* 0 marks an empty slot */
  dht_addr_prefix(prefix, from, DHT_RL_V4_BITS, DHT_RL_V6_BITS);
  size_t i = rl->cap ? rl_probe(rl, prefix) : 0;
  if (!rl->cap || rl->slots[i].last == 0) {
    if (rl_reserve(rl, prefix, stamp) < 0) return 0;
    i = rl_probe(rl, prefix);
    memcpy(rl->slots[i].prefix, prefix, 16);
    rl->slots[i].milli = rl->burst * 1000u;
    rl->slots[i].last = stamp;
    rl->n++;
  }
  dht_rl_slot *s = &rl->slots[i];
  s->milli = rl_level(rl, s, stamp);
  if (stamp > s->last) s->last = stamp;
  if (s->milli < 1000u) return 0;
  s->milli -= 1000u;
  return 1;
}

void dht_rl_tidy(dht_rl *rl, dht_time now) {
  size_t live = 0, cap = 16;
  for (size_t i = 0; i < rl->cap; i++)
    if (rl->slots[i].last != 0 &&
        rl_level(rl, &rl->slots[i], now) < rl->burst * 1000u)
      live++;
  if (live == 0) {
    dht_rl_free(rl);
    return;
  }
  while (cap / 2 < live + 1) cap *= 2;
  rl_rebuild(rl, cap, now); /* on failure the old table stays */
}

void dht_rl_refund(dht_rl *rl, const dht_addr *from) {
  uint8_t prefix[16];
  if (!rl->cap) return;
  dht_addr_prefix(prefix, from, DHT_RL_V4_BITS, DHT_RL_V6_BITS);
  dht_rl_slot *s = &rl->slots[rl_probe(rl, prefix)];
  if (s->last == 0) return;
  s->milli += 1000u;
  if (s->milli > rl->burst * 1000u) s->milli = rl->burst * 1000u;
}

/* ---- replay cache ---------------------------------------------------- */

void dht_replay_init(dht_replay *rp, const uint8_t hkey[16], dht_time period,
                     dht_time now) {
  memset(rp, 0, sizeof *rp);
  memcpy(rp->hkey, hkey, sizeof rp->hkey);
  rp->period = period ? period : 1;
  rp->rotated = now;
}

static void gen_free(dht_replay_gen *g) {
  free(g->h);
  memset(g, 0, sizeof *g);
}

void dht_replay_free(dht_replay *rp) {
  gen_free(&rp->gen[0]);
  gen_free(&rp->gen[1]);
}

void dht_replay_rotate(dht_replay *rp, dht_time now) {
  for (int i = 0; i < 2 && now >= dht_time_add(rp->rotated, rp->period); i++) {
    gen_free(&rp->gen[1]);
    rp->gen[1] = rp->gen[0];
    memset(&rp->gen[0], 0, sizeof rp->gen[0]);
    rp->rotated = dht_time_add(rp->rotated, rp->period);
  }
  if (now >= dht_time_add(rp->rotated, rp->period)) rp->rotated = now;
}

dht_time dht_replay_next(const dht_replay *rp) {
  /* Nothing to forget: no wake-up needed. Rotation then resets the clock
   * before the next nonce can be dropped, so every nonce is still kept
   * for at least one period. */
  if (rp->gen[0].n == 0 && rp->gen[1].n == 0) return DHT_TIME_NONE;
  return dht_time_add(rp->rotated, rp->period);
}

static int gen_has(const dht_replay_gen *g, uint32_t h) {
  if (!g->cap) return 0;
  size_t mask = g->cap - 1;
  for (size_t i = (size_t)h & mask; g->h[i]; i = (i + 1) & mask)
    if (g->h[i] == h) return 1;
  return 0;
}

static void gen_put(dht_replay_gen *g, uint32_t h) {
  size_t mask = g->cap - 1, i = (size_t)h & mask;
  while (g->h[i]) i = (i + 1) & mask;
  g->h[i] = h;
  g->n++;
}

static int gen_grow(dht_replay_gen *g) {
  size_t cap = g->cap ? g->cap * 2 : 64;
  dht_replay_gen ng = {calloc(cap, sizeof(uint32_t)), cap, 0};
  if (!ng.h) return DHT_ERR_NOMEM;
  for (size_t i = 0; i < g->cap; i++)
    if (g->h[i]) gen_put(&ng, g->h[i]);
  free(g->h);
  *g = ng;
  return 0;
}

int dht_replay_check(dht_replay *rp, const uint8_t pk[NC_PK_LEN],
                     const uint8_t nonce[NC_AEAD_NONCE_LEN]) {
  uint8_t in[NC_PK_LEN + NC_AEAD_NONCE_LEN], out[crypto_shorthash_BYTES];
  uint32_t h = 0;
  memcpy(in, pk, NC_PK_LEN);
  memcpy(in + NC_PK_LEN, nonce, NC_AEAD_NONCE_LEN);
  crypto_shorthash(out, in, sizeof in, rp->hkey);
  for (int i = 0; i < 4; i++) h |= (uint32_t)out[i] << (8 * i);
  if (h == 0) h = 1; /* 0 marks an empty slot */
  if (gen_has(&rp->gen[0], h) || gen_has(&rp->gen[1], h))
    return DHT_REPLAY_SEEN;
  dht_replay_gen *g = &rp->gen[0];
  if (g->n >= DHT_REPLAY_MAX) return DHT_REPLAY_FULL;
  /* Linear probing stays short up to a load of 3/4. */
  if (4 * (g->n + 1) > 3 * g->cap && gen_grow(g) < 0) return DHT_REPLAY_FULL;
  gen_put(g, h);
  return DHT_REPLAY_FRESH;
}

/* ---- STORE tokens ---------------------------------------------------- */

void dht_tokens_rotate(dht_tokens *t, const uint8_t fresh[32], dht_time now) {
  memcpy(t->prev, t->cur, sizeof t->prev);
  memcpy(t->cur, fresh, sizeof t->cur);
  t->rotated = now;
}

static void token_under(const uint8_t secret[32], const dht_addr *addr,
                        const uint8_t pk[NC_PK_LEN],
                        uint8_t token[DHT_TOKEN_LEN]) {
  static const char tag[] = "nointrude-token";
  uint8_t msg[sizeof tag - 1 + 16 + 2 + NC_PK_LEN];
  uint8_t *p = msg;
  memcpy(p, tag, sizeof tag - 1);
  p += sizeof tag - 1;
  memset(p, 0, 16);
  if (addr->family == 4) {
    p[10] = p[11] = 0xff; /* v4-mapped ::ffff:a.b.c.d */
    memcpy(p + 12, addr->ip, 4);
  } else {
    memcpy(p, addr->ip, 16);
  }
  p += 16;
  *p++ = (uint8_t)(addr->port >> 8);
  *p++ = (uint8_t)addr->port;
  memcpy(p, pk, NC_PK_LEN);
  nc_hash(token, DHT_TOKEN_LEN, secret, 32, msg, sizeof msg);
}

void dht_tokens_make(const dht_tokens *t, const dht_addr *addr,
                     const uint8_t pk[NC_PK_LEN],
                     uint8_t token[DHT_TOKEN_LEN]) {
  token_under(t->cur, addr, pk, token);
}

int dht_tokens_check(const dht_tokens *t, const dht_addr *addr,
                     const uint8_t pk[NC_PK_LEN],
                     const uint8_t token[DHT_TOKEN_LEN]) {
  uint8_t want[DHT_TOKEN_LEN];
  int ok;
  token_under(t->cur, addr, pk, want);
  ok = sodium_memcmp(want, token, DHT_TOKEN_LEN) == 0;
  token_under(t->prev, addr, pk, want);
  ok |= sodium_memcmp(want, token, DHT_TOKEN_LEN) == 0;
  sodium_memzero(want, sizeof want);
  return ok;
}

void dht_tokens_wipe(dht_tokens *t) { sodium_memzero(t, sizeof *t); }
