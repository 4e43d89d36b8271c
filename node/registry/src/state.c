/*
 * The registry's persisted local state, through reg_env.state_put /
 * state_del, and its strict restore (reg_node_restore_state: the bytes
 * come back from a file and are treated as hostile).
 *
 * Four kinds of entries; the key's first byte says which. Integers are
 * little-endian, every value starts with a version byte (1), and every
 * length is exact:
 *
 *   'P' canon                      -> 1, le64 added_s           (9 bytes)
 *       a protected address (1..254 bytes, canonical form)
 *   'H' sender(32) ref(32)         -> 1, le64 first_s, first_batch(16),
 *       level(1), le64 esc_next_ns (all ones = none), esc_batch(16),
 *       esc_full(32)                                          (82 bytes)
 *       the opt-out history of one address (ref = its local reference)
 *       towards one sender key, with the escalation level reached
 *   'B' sender(32) batch_id(16)    -> 1, flags(1), le64 created_s,
 *       le64 expires_s                                        (18 bytes)
 *       a batch seen (flags: bit 0 = refused, bit 1 = not yet matched
 *       against every protected address; other bits zero)
 *   'O' sender(32) batch_id(16) ref(32) -> 1, le64 time_s     (9 bytes)
 *       an opt-out sent for an address in a batch
 *
 * Failing hooks are logged, not fatal: the state is the node's memory of
 * what it did; the DHT side already happened.
 */
#include <string.h>

#include <sodium.h>

#include "engine.h"

#define STATE_VERSION 1
#define HIST_VLEN 82
#define BATCH_VLEN 18
#define STAMP_VLEN 9

static void le64_put(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le64_get(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void put(reg_node *r, const uint8_t *k, size_t kl, const uint8_t *v,
                size_t vl) {
  if (r->env.state_put && r->env.state_put(r->env.user, k, kl, v, vl) < 0)
    reg_log(r, DHT_LOG_ERROR, "registry: state_put failed ('%c')", k[0]);
}

static void del(reg_node *r, const uint8_t *k, size_t kl) {
  if (r->env.state_del && r->env.state_del(r->env.user, k, kl) < 0)
    reg_log(r, DHT_LOG_ERROR, "registry: state_del failed ('%c')", k[0]);
}

/* Key builders: tag followed by the parts. */
static size_t key_batch(uint8_t k[1 + NC_PK_LEN + REG_BATCH_ID_LEN],
                        uint8_t tag, const reg_live *b) {
  k[0] = tag;
  memcpy(k + 1, b->sender, NC_PK_LEN);
  memcpy(k + 1 + NC_PK_LEN, b->id, REG_BATCH_ID_LEN);
  return 1 + NC_PK_LEN + REG_BATCH_ID_LEN;
}

static void stamp(uint8_t v[STAMP_VLEN], uint64_t t) {
  v[0] = STATE_VERSION;
  le64_put(v + 1, t);
}

/* ---- writers ---------------------------------------------------------------- */

void reg_state_put_addr(reg_node *r, const reg_addr *a, uint64_t now_s) {
  uint8_t k[1 + REG_ADDRESS_MAX], v[STAMP_VLEN];
  k[0] = 'P';
  memcpy(k + 1, a->canon, a->len);
  stamp(v, now_s);
  put(r, k, 1 + (size_t)a->len, v, sizeof v);
  sodium_memzero(k, sizeof k);
}

void reg_state_del_addr(reg_node *r, const char *canon, size_t len) {
  uint8_t k[1 + REG_ADDRESS_MAX];
  k[0] = 'P';
  memcpy(k + 1, canon, len);
  del(r, k, 1 + len);
  sodium_memzero(k, sizeof k);
}

void reg_state_put_hist(reg_node *r, const reg_hist *h) {
  uint8_t k[1 + NC_PK_LEN + NC_HASH_LEN], v[HIST_VLEN], *p = v;
  k[0] = 'H';
  memcpy(k + 1, h->sender, NC_PK_LEN);
  memcpy(k + 1 + NC_PK_LEN, h->ref, NC_HASH_LEN);
  *p++ = STATE_VERSION;
  le64_put(p, h->first_s);
  p += 8;
  memcpy(p, h->first_batch, REG_BATCH_ID_LEN);
  p += REG_BATCH_ID_LEN;
  *p++ = h->level;
  le64_put(p, h->esc_next);
  p += 8;
  memcpy(p, h->esc_batch, REG_BATCH_ID_LEN);
  p += REG_BATCH_ID_LEN;
  memcpy(p, h->esc_full, REG_FULL_HASH_LEN);
  put(r, k, sizeof k, v, sizeof v);
}

void reg_state_put_batch(reg_node *r, const reg_live *b) {
  uint8_t k[1 + NC_PK_LEN + REG_BATCH_ID_LEN], v[BATCH_VLEN];
  size_t kl = key_batch(k, 'B', b);
  v[0] = STATE_VERSION;
  v[1] = (uint8_t)((b->phase == REG_PH_REFUSED ? 1 : 0) |
                   (b->want && b->phase != REG_PH_REFUSED ? 2 : 0));
  le64_put(v + 2, b->created_s);
  le64_put(v + 10, b->expires_s);
  put(r, k, kl, v, sizeof v);
}

void reg_state_del_batch(reg_node *r, const reg_live *b) {
  uint8_t k[1 + NC_PK_LEN + REG_BATCH_ID_LEN + NC_HASH_LEN];
  size_t kl = key_batch(k, 'B', b);
  del(r, k, kl);
  k[0] = 'O';
  for (size_t i = 0; i < b->n_sent; i++) {
    memcpy(k + kl, b->sent[i], NC_HASH_LEN);
    del(r, k, kl + NC_HASH_LEN);
  }
}

void reg_state_put_sent(reg_node *r, const reg_live *b,
                        const uint8_t ref[NC_HASH_LEN], uint64_t now_s) {
  uint8_t k[1 + NC_PK_LEN + REG_BATCH_ID_LEN + NC_HASH_LEN], v[STAMP_VLEN];
  size_t kl = key_batch(k, 'O', b);
  memcpy(k + kl, ref, NC_HASH_LEN);
  stamp(v, now_s);
  put(r, k, sizeof k, v, sizeof v);
}

/* ---- restore ---------------------------------------------------------------- */

static int restore_addr(reg_node *r, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t len;
  (void)v, (void)vl;
  if (kl < 2 || kl > 1 + REG_ADDRESS_MAX) return REG_ERR_MALFORMED;
  /* Must already be canonical: canonicalising changes nothing. */
  if (reg_address_canonical(canon, &len, (const char *)k + 1, kl - 1) < 0 ||
      len != kl - 1 || memcmp(canon, k + 1, len) != 0)
    return REG_ERR_MALFORMED;
  if (reg_addrset_find(&r->addrs, canon, len)) return REG_ERR_DUPLICATE;
  if (r->addrs.n >= r->cfg.max_protected) return REG_ERR_TOO_LARGE;
  int rv = reg_addrset_add(&r->addrs, canon, len);
  sodium_memzero(canon, sizeof canon);
  return rv;
}

static int restore_hist(reg_node *r, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl) {
  reg_hist h;
  const uint8_t *p = v + 1;
  (void)kl, (void)vl;
  memcpy(h.sender, k + 1, NC_PK_LEN);
  memcpy(h.ref, k + 1 + NC_PK_LEN, NC_HASH_LEN);
  h.first_s = le64_get(p);
  p += 8;
  memcpy(h.first_batch, p, REG_BATCH_ID_LEN);
  p += REG_BATCH_ID_LEN;
  h.level = *p++;
  h.esc_next = le64_get(p);
  p += 8;
  memcpy(h.esc_batch, p, REG_BATCH_ID_LEN);
  p += REG_BATCH_ID_LEN;
  memcpy(h.esc_full, p, REG_FULL_HASH_LEN);
  if (h.level > REG_ESC_LEVELS_MAX || (h.level == 0 && h.esc_next != DHT_TIME_NONE))
    return REG_ERR_MALFORMED;
  if (reg_hist_find(&r->hist, h.sender, h.ref)) return REG_ERR_DUPLICATE;
  if (!reg_hist_add(&r->hist, &h)) return REG_ERR_NOMEM;
  if (h.esc_next < r->t_esc) r->t_esc = h.esc_next;
  return 0;
}

/* The batch of a 'B' or 'O' key, created idle if unknown (an 'O' may come
 * before its 'B'; the 'B' then sets the times). */
static reg_live *restore_live(reg_node *r, const uint8_t *k, uint64_t created,
                              uint64_t expires) {
  reg_live *b = reg_live_find(r, k + 1, k + 1 + NC_PK_LEN);
  if (b) return b;
  return reg_live_add(r, k + 1, k + 1 + NC_PK_LEN, created, expires,
                      REG_PH_IDLE);
}

static int restore_batch(reg_node *r, const uint8_t *k, size_t kl,
                         const uint8_t *v, size_t vl) {
  (void)vl;
  uint8_t flags = v[1];
  uint64_t created = le64_get(v + 2), expires = le64_get(v + 10);
  if ((flags & ~3u) || flags == 3 || created > expires)
    return REG_ERR_MALFORMED;
  if (expires <= reg_now_s(r)) { /* stale: forget it */
    del(r, k, kl);
    return 0;
  }
  reg_live *b = restore_live(r, k, created, expires);
  if (!b) return REG_ERR_NOMEM;
  b->created_s = created;
  b->expires_s = expires;
  if (flags & 1) b->phase = REG_PH_REFUSED;
  if (flags & 2) { /* matching was interrupted: do it again */
    b->want = 1;
    reg_live_want(r, b);
  }
  return 0;
}

static int restore_sent(reg_node *r, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl) {
  const uint8_t *ref = k + 1 + NC_PK_LEN + REG_BATCH_ID_LEN;
  (void)kl, (void)v, (void)vl;
  uint64_t now_s = reg_now_s(r);
  reg_live *b = restore_live(r, k, now_s, now_s + REG_MAX_LIFETIME_S);
  if (!b) return REG_ERR_NOMEM;
  if (reg_live_sent_has(b, ref)) return REG_ERR_DUPLICATE;
  return reg_live_sent_add(b, ref);
}

typedef struct restorer {
  uint8_t tag;
  size_t klen_min, klen_max, vlen;
  int (*fn)(reg_node *, const uint8_t *, size_t, const uint8_t *, size_t);
} restorer;

static const restorer restorers[] = {
    {'P', 2, 1 + REG_ADDRESS_MAX, STAMP_VLEN, restore_addr},
    {'H', 1 + NC_PK_LEN + NC_HASH_LEN, 1 + NC_PK_LEN + NC_HASH_LEN, HIST_VLEN,
     restore_hist},
    {'B', 1 + NC_PK_LEN + REG_BATCH_ID_LEN, 1 + NC_PK_LEN + REG_BATCH_ID_LEN,
     BATCH_VLEN, restore_batch},
    {'O', 1 + NC_PK_LEN + REG_BATCH_ID_LEN + NC_HASH_LEN,
     1 + NC_PK_LEN + REG_BATCH_ID_LEN + NC_HASH_LEN, STAMP_VLEN, restore_sent},
};

int reg_state_restore(reg_node *r, const uint8_t *key, size_t klen,
                      const uint8_t *val, size_t vlen) {
  if (klen == 0) return REG_ERR_MALFORMED;
  for (size_t i = 0; i < sizeof restorers / sizeof restorers[0]; i++) {
    const restorer *x = &restorers[i];
    if (key[0] != x->tag) continue;
    if (klen < x->klen_min || klen > x->klen_max || vlen != x->vlen ||
        val[0] != STATE_VERSION)
      return REG_ERR_MALFORMED;
    return x->fn(r, key, klen, val, vlen);
  }
  return REG_ERR_MALFORMED;
}
