/*
 * The registry node object: configuration, creation and release,
 * statistics, and the timer side of the sans-IO shape. handle_expiry runs
 * a table of steps (poll the index, progress batch fetches, send and put
 * what is queued, publish, escalate, expire batches); each step either
 * makes progress or moves its own deadline forward, so a driver that
 * calls it at next_deadline never spins. Time never goes backward: an
 * earlier |now| than one already seen is taken as the latest.
 *
 * The registry starts DHT operations from inside its own calls and from
 * DHT completion callbacks (which the DHT allows). It never calls the DHT
 * from inside dht_env.app_message: relayed opt-outs are queued there and
 * handled at the next expiry, whose deadline is then "now".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"

#define DAY (86400 * DHT_SEC)

void reg_config_default(reg_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->forward_permille = 750;
  cfg->optout_pow_bits = 12;
  cfg->batch_pow_base_bits = 16;
  cfg->grace = 3 * DAY;
  cfg->index_poll_interval = 5 * 60 * DHT_SEC;
  cfg->index_window = 3600 * DHT_SEC;
  cfg->index_lookback = 168;
  cfg->index_read_max = REG_INDEX_READ_MAX;
  cfg->escalation_levels = 3;
  cfg->escalation_spacing = DAY;
  cfg->max_protected = 10000000;
}

/* index_window must be the network's (REG_INDEX_WINDOW_S): the INDEX key
 * rule fixes it. forward_permille < 1000, or a message is never stored. */
static int config_ok(const reg_config *c) {
  return c->forward_permille < 1000 && c->optout_pow_bits <= 32 &&
         c->batch_pow_base_bits <= 64 && c->index_poll_interval >= DHT_SEC &&
         c->index_window == REG_INDEX_WINDOW_S * DHT_SEC &&
         c->index_lookback <= REG_LOOKBACK_MAX && c->index_read_max >= 1 &&
         c->index_read_max <= 65536 &&
         c->escalation_levels <= REG_ESC_LEVELS_MAX &&
         c->escalation_spacing >= DHT_SEC && c->max_protected > 0 &&
         c->max_protected < UINT32_MAX / 2;
}

void reg_log(const reg_node *r, int level, const char *fmt, ...) {
  char line[256];
  va_list ap;
  if (!r->env.log) return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap); /* a cut line is still useful */
  va_end(ap);
  r->env.log(r->env.user, level, line);
}

uint64_t reg_now_s(const reg_node *r) { return r->now / DHT_SEC; }

void reg_wake(reg_node *r, dht_time t) {
  if (t < r->t_wake) r->t_wake = t;
}

static void clock_at(reg_node *r, dht_time now) {
  if (now > r->now) r->now = now;
}

/* ---- small shared helpers ------------------------------------------------ */

int reg_vec_push(void ***v, size_t *n, size_t *cap, void *item) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    void **nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return REG_ERR_NOMEM;
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = item;
  return 0;
}

void reg_vec_remove(void **v, size_t *n, size_t i) {
  memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
  (*n)--;
}

reg_req *reg_req_new(reg_node *r, uint8_t kind) {
  reg_req *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->r = r;
  q->kind = kind;
  q->next = r->reqs;
  if (r->reqs) r->reqs->prev = q;
  r->reqs = q;
  return q;
}

void reg_req_free(reg_req *q) {
  if (!q) return;
  reg_node *r = q->r;
  if (q->prev)
    q->prev->next = q->next;
  else
    r->reqs = q->next;
  if (q->next) q->next->prev = q->prev;
  for (unsigned i = 0; i < q->n_got; i++) free(q->got[i]);
  free(q);
}

/* ---- the object ---------------------------------------------------------- */

int reg_node_new(reg_node **out, const reg_config *cfg, const reg_env *env,
                 dht_node *dht, const nc_identity *ident, dht_time now) {
  if (out) *out = NULL;
  if (!out || !cfg || !env || !env->random || !dht || !ident ||
      !config_ok(cfg))
    return REG_ERR_INVALID_ARGUMENT;
  reg_node *r = calloc(1, sizeof *r);
  if (!r) return REG_ERR_NOMEM;
  r->cfg = *cfg;
  r->env = *env;
  r->dht = dht;
  r->ident = *ident;
  r->now = now;
  r->t_wake = DHT_TIME_NONE;
  r->t_esc = DHT_TIME_NONE;
  r->relay_tokens = REG_RELAY_BURST * 1000;
  r->relay_refill = now;
  env->random(env->user, r->hist.key, sizeof r->hist.key);
  reg_watch_start(r);
  *out = r;
  return 0;
}

void reg_node_free(reg_node *r) {
  if (!r) return;
  /* Outstanding DHT operations keep their reg_req as callback argument:
   * the DHT must not run them after this (free it, or stop driving it). */
  for (reg_req *q = r->reqs; q; q = q->next)
    if (q->b) reg_live_release(r, q->b);
  while (r->reqs) reg_req_free(r->reqs);
  reg_publish_free(r);
  reg_relay_free(r);
  reg_watch_free(r);
  reg_hist_free(&r->hist);
  reg_addrset_free(&r->addrs);
  nc_identity_wipe(&r->ident);
  free(r);
}

void reg_node_stats(const reg_node *r, reg_stats *out) {
  *out = r->stats;
  out->protected_addresses = r->addrs.n;
  out->live_batches = r->n_batches;
}

/* ---- timers -------------------------------------------------------------- */

dht_time reg_node_next_deadline(const reg_node *r) {
  dht_time d = r->t_wake;
  if (r->t_poll < d) d = r->t_poll;
  if (r->t_esc < d) d = r->t_esc;
  return d;
}

static void tm_poll(reg_node *r) {
  if (r->t_poll <= r->now) reg_watch_poll(r);
}

static void tm_escalate(reg_node *r) {
  if (r->t_esc <= r->now) reg_escalate_due(r);
}

/* Recomputes the cached earliest deadline of the queues (t_wake was
 * cleared before the steps ran; what they woke for stays). */
static void tm_rearm(reg_node *r) {
  reg_wake(r, reg_watch_deadline(r));
  reg_wake(r, reg_relay_deadline(r));
  reg_wake(r, reg_publish_deadline(r));
}

static void (*const timer_steps[])(reg_node *) = {
    reg_watch_expire, tm_poll,          reg_watch_pump,  reg_watch_rematch,
    reg_relay_pump,   reg_publish_pump, tm_escalate,
};

void reg_node_handle_expiry(reg_node *r, dht_time now) {
  if (!r) return;
  clock_at(r, now);
  r->t_wake = DHT_TIME_NONE;
  for (size_t i = 0; i < sizeof timer_steps / sizeof timer_steps[0]; i++)
    timer_steps[i](r);
  tm_rearm(r);
}

/* ---- protected addresses ------------------------------------------------- */

static int canonical(char out[REG_ADDRESS_MAX + 1], size_t *len,
                     const char *address) {
  if (!address) return REG_ERR_ADDRESS;
  size_t n = strnlen(address, 4 * REG_ADDRESS_MAX + 1);
  if (n > 4 * REG_ADDRESS_MAX) return REG_ERR_ADDRESS; /* whitespace bound */
  return reg_address_canonical(out, len, address, n);
}

/* Checks a newly protected address against every live batch: at once for
 * batches whose entries are held, after fetching them for the others. */
static void check_new_address(reg_node *r, const reg_addr *a) {
  for (size_t i = 0; i < r->n_batches; i++) {
    reg_live *b = r->batches[i];
    if (b->dead || b->phase == REG_PH_REFUSED) continue;
    if (b->phase == REG_PH_READY)
      reg_match_live(r, b, a);
    else
      reg_live_want(r, b);
  }
}

int reg_node_protect_add(reg_node *r, dht_time now, const char *address) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t len;
  if (!r) return REG_ERR_INVALID_ARGUMENT;
  clock_at(r, now);
  int rv = canonical(canon, &len, address);
  if (rv < 0) return rv;
  if (reg_addrset_find(&r->addrs, canon, len)) return REG_ERR_DUPLICATE;
  if (r->addrs.n >= r->cfg.max_protected) return REG_ERR_TOO_LARGE;
  if ((rv = reg_addrset_add(&r->addrs, canon, len)) < 0) return rv;
  const reg_addr *a = reg_addrset_find(&r->addrs, canon, len);
  reg_state_put_addr(r, a, reg_now_s(r));
  check_new_address(r, a);
  sodium_memzero(canon, sizeof canon);
  return 0;
}

int reg_node_protect_remove(reg_node *r, dht_time now, const char *address) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t len;
  if (!r) return REG_ERR_INVALID_ARGUMENT;
  clock_at(r, now);
  int rv = canonical(canon, &len, address);
  if (rv < 0) return rv;
  if (reg_addrset_remove(&r->addrs, canon, len) < 0) return DHT_ERR_NOT_FOUND;
  reg_state_del_addr(r, canon, len);
  sodium_memzero(canon, sizeof canon);
  return 0;
}

size_t reg_node_protect_list(const reg_node *r, reg_address_visit_cb cb,
                             void *arg) {
  if (!r) return 0;
  size_t n = 0;
  for (size_t i = 0; i < r->addrs.n; i++) {
    n++;
    if (cb && cb(arg, r->addrs.list[i]->canon) != 0) break;
  }
  return n;
}

int reg_node_restore_state(reg_node *r, dht_time now, const uint8_t *key,
                           size_t klen, const uint8_t *val, size_t vlen) {
  if (!r || !key || (!val && vlen)) return REG_ERR_INVALID_ARGUMENT;
  clock_at(r, now);
  return reg_state_restore(r, key, klen, val, vlen);
}
