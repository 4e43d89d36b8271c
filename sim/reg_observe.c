/*
 * What the registry hosts see, logged the way colluding or curious nodes
 * could log it, and the predecessor attack on opt-out relaying.
 *
 * Two hooks sit in every registry host's dht_env:
 *
 *  - app_message: before handing a relayed opt-out to
 *    reg_node_handle_app_message, the receiving host logs a sighting:
 *    (digest of the sealed opt-out, receiver, predecessor). The app
 *    message is [1, sender_pk bin32, batch_id bin16, sealed bin]
 *    (docs/PROTOCOL.md 12.5): the sealed part starts at byte 56 and is
 *    the same bytes on every hop, so sightings of one opt-out link up,
 *    exactly as the Crowds model grants colluders.
 *  - store_put: every record a host accepts (the DHT calls it before the
 *    record is stored) is decoded; each distinct record (by the digest of
 *    its bytes) is counted by type once, however many storers keep it.
 *    OPTOUT records are opened with the sender key the simulation holds
 *    for their inbox, which gives the ground truth: the address (hence
 *    the protecting node, the true origin), and whether the opt-out names
 *    the batch whose inbox holds it. EVIDENCE records are counted by the
 *    sender they accuse and by who wrote them.
 *
 * The predecessor attack: the first host ever to see an opt-out got it
 * from its origin (only the origin held those bytes before), which the
 * opened content confirms (origin_mismatch counts disagreements). For a
 * colluder set C, an opt-out is observed when some sighting has its
 * receiver in C; the colluders then guess that the first such sighting's
 * predecessor is the origin. Colluders in Crowds are passive (they relay
 * honestly and pool their logs), so one run serves every colluder
 * fraction: C is the first c hosts of one random order of the non-origin
 * hosts, nested as c grows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "sim.h"

#define APP_SEALED_AT 56   /* sealed part of the app message (12.5) */
#define MODEL_ITER_MAX 100000

/* ---- Distinct records --------------------------------------------------- */

static size_t digest_slot(const uint8_t d[SREG_DIGEST_LEN], size_t mask) {
  uint64_t x;
  memcpy(&x, d, sizeof x);
  return (size_t)x & mask; /* a BLAKE2b digest: already uniform */
}

static int rec_set_grow(sim_reg *r) {
  size_t slots = r->rec_mask ? 2 * (r->rec_mask + 1) : 4096;
  uint8_t (*set)[SREG_DIGEST_LEN] = calloc(slots, sizeof *set);
  uint8_t *used = calloc(slots, 1);
  if (set == NULL || used == NULL) {
    free(set);
    free(used);
    return -1;
  }
  for (size_t i = 0; r->rec_used != NULL && i <= r->rec_mask; i++) {
    if (!r->rec_used[i])
      continue;
    size_t j = digest_slot(r->rec_set[i], slots - 1);
    while (used[j])
      j = (j + 1) & (slots - 1);
    memcpy(set[j], r->rec_set[i], SREG_DIGEST_LEN);
    used[j] = 1;
  }
  free(r->rec_set);
  free(r->rec_used);
  r->rec_set = set;
  r->rec_used = used;
  r->rec_mask = slots - 1;
  return 0;
}

/* rec_new returns 1 if the record |d| was not seen before (and remembers
 * it), 0 if it was. Past SREG_RECORDS_MAX every record counts as new. */
static int rec_new(sim_reg *r, const uint8_t d[SREG_DIGEST_LEN]) {
  if (r->n_recs >= SREG_RECORDS_MAX)
    return 1;
  if ((r->n_recs + 1) * 2 > r->rec_mask + 1 && rec_set_grow(r) != 0) {
    r->error = SIM_ERR_NOMEM;
    return 1;
  }
  size_t i = digest_slot(d, r->rec_mask);
  for (; r->rec_used[i]; i = (i + 1) & r->rec_mask)
    if (memcmp(r->rec_set[i], d, SREG_DIGEST_LEN) == 0)
      return 0;
  memcpy(r->rec_set[i], d, SREG_DIGEST_LEN);
  r->rec_used[i] = 1;
  r->n_recs++;
  return 1;
}

/* ---- Messages (sealed opt-outs) -------------------------------------------- */

static int msg_index_grow(sim_reg *r) {
  size_t slots = r->msg_mask ? 2 * (r->msg_mask + 1) : 1024;
  uint32_t *idx = calloc(slots, sizeof *idx);
  if (idx == NULL)
    return -1;
  for (size_t m = 0; m < r->n_msgs; m++) {
    size_t j = digest_slot(r->msgs[m].digest, slots - 1);
    while (idx[j])
      j = (j + 1) & (slots - 1);
    idx[j] = (uint32_t)m + 1;
  }
  free(r->msg_index);
  r->msg_index = idx;
  r->msg_mask = slots - 1;
  return 0;
}

static int msg_add(sim_reg *r, const uint8_t d[SREG_DIGEST_LEN],
                   uint32_t first_pred) {
  if (r->n_msgs >= SREG_MSGS_MAX)
    return -1;
  if (r->n_msgs == r->cap_msgs) {
    size_t cap = r->cap_msgs ? 2 * r->cap_msgs : 1024;
    sreg_msg *nm = realloc(r->msgs, cap * sizeof *nm);
    if (nm == NULL)
      return -1;
    r->msgs = nm;
    r->cap_msgs = cap;
  }
  if ((r->n_msgs + 1) * 2 > r->msg_mask + 1 && msg_index_grow(r) != 0)
    return -1;
  sreg_msg *m = &r->msgs[r->n_msgs];
  memset(m, 0, sizeof *m);
  memcpy(m->digest, d, SREG_DIGEST_LEN);
  m->first_pred = first_pred;
  m->origin = SREG_NO_HOST;
  m->batch = -1;
  size_t j = digest_slot(d, r->msg_mask);
  while (r->msg_index[j])
    j = (j + 1) & r->msg_mask;
  r->msg_index[j] = (uint32_t)r->n_msgs + 1;
  return (int)r->n_msgs++;
}

/* msg_get returns the message with digest |d|, adding it (first seen
 * from |pred|) if new; -1 when the table is full or out of memory. */
static int msg_get(sim_reg *r, const uint8_t d[SREG_DIGEST_LEN],
                   uint32_t pred) {
  if (r->msg_index != NULL)
    for (size_t j = digest_slot(d, r->msg_mask); r->msg_index[j];
         j = (j + 1) & r->msg_mask)
      if (memcmp(r->msgs[r->msg_index[j] - 1].digest, d, SREG_DIGEST_LEN) == 0)
        return (int)r->msg_index[j] - 1;
  return msg_add(r, d, pred);
}

static void sealed_digest(uint8_t d[SREG_DIGEST_LEN], const uint8_t *sealed,
                          size_t len) {
  nc_hash(d, SREG_DIGEST_LEN, NULL, 0, sealed, len);
}

/* app_sealed finds the sealed opt-out in an app message laid out as
 * PROTOCOL.md 12.5 says; anything else is followed as a whole. */
static const uint8_t *app_sealed(const uint8_t *msg, size_t len,
                                 size_t *slen) {
  if (len > APP_SEALED_AT && msg[0] == 0x94 && msg[1] == 0x01 &&
      msg[2] == 0xc4 && msg[3] == NC_PK_LEN && msg[36] == 0xc4 &&
      msg[37] == REG_BATCH_ID_LEN && msg[54] == 0xc4 &&
      msg[55] == len - APP_SEALED_AT) {
    *slen = len - APP_SEALED_AT;
    return msg + APP_SEALED_AT;
  }
  *slen = len;
  return msg;
}

static void log_sighting(sim_reg *r, uint32_t msg, uint32_t receiver,
                         uint32_t pred) {
  if (r->n_sights >= SREG_SIGHTINGS_MAX) {
    r->sights_dropped++;
    return;
  }
  if (r->n_sights == r->cap_sights) {
    size_t cap = r->cap_sights ? 2 * r->cap_sights : 4096;
    sreg_sight *ns = realloc(r->sights, cap * sizeof *ns);
    if (ns == NULL) {
      r->error = SIM_ERR_NOMEM;
      return;
    }
    r->sights = ns;
    r->cap_sights = cap;
  }
  r->sights[r->n_sights++] = (sreg_sight){msg, receiver, pred};
}

int sreg_app_hook(void *user, dht_time now, const dht_contact *from,
                  const uint8_t *msg, size_t len) {
  sim_host *h = user;
  sim_reg *r = h->world->reg;
  uint8_t d[SREG_DIGEST_LEN];
  size_t slen;
  if (h->reg == NULL)
    return DHT_ERR_UNKNOWN_TYPE;
  const uint8_t *sealed = app_sealed(msg, len, &slen);
  uint32_t pred = sreg_host_of(r, from->pk);
  sealed_digest(d, sealed, slen);
  int m = msg_get(r, d, pred);
  r->app_rx[h->index]++;
  if (m >= 0) {
    r->msgs[m].sightings++;
    log_sighting(r, (uint32_t)m, h->index, pred);
  }
  return reg_node_handle_app_message(h->reg, now, from, msg, len);
}

/* ---- Records -------------------------------------------------------------- */

int sreg_open_optout(const sim_reg *r, const reg_optout_record *x,
                     reg_optout *o, int *sender) {
  *sender = sreg_sender_of(r, x->sender_pk);
  if (*sender < 0)
    return 0;
  const nc_identity *id = &r->senders[*sender].id;
  return reg_optout_open(o, x->sealed, x->sealed_len, id->pk, id->sk,
                         r->cfg.rc.optout_pow_bits) == 0;
}

sreg_expect *sreg_expect_find(sreg_batch *b,
                              const uint8_t full[REG_FULL_HASH_LEN]) {
  size_t lo = 0, hi = b->n_exp;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = memcmp(b->exp[mid].full, full, REG_FULL_HASH_LEN);
    if (c == 0)
      return &b->exp[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* by_attacker: the author is one of the adversary's nodes, or a key that
 * belongs to no node (a sender key used as an author). */
static int by_attacker(const sim_reg *r, const uint8_t author[NC_PK_LEN]) {
  uint32_t h = sreg_host_of(r, author);
  if (h == SREG_NO_HOST)
    return 1;
  uint8_t role = r->role[h];
  return role == SREG_ROLE_ATTACKER || role == SREG_ROLE_FORGER ||
         role == SREG_ROLE_FLOODER;
}

/* Links the stored opt-out to its message and, through the opened
 * address, to its true origin. */
static void note_origin(sim_reg *r, const reg_optout_record *x, int bi,
                        const sreg_expect *e) {
  uint8_t d[SREG_DIGEST_LEN];
  sealed_digest(d, x->sealed, x->sealed_len);
  int m = msg_get(r, d, SREG_NO_HOST);
  if (m < 0)
    return;
  sreg_msg *msg = &r->msgs[m];
  msg->stored++;
  msg->batch = bi;
  if (e == NULL || msg->origin != SREG_NO_HOST)
    return;
  msg->origin = e->owner;
  if (msg->first_pred != SREG_NO_HOST && msg->first_pred != e->owner)
    r->origin_mismatch++;
}

static void observe_optout(sim_reg *r, const dht_record *rec, dht_time now) {
  reg_optout_record x;
  reg_optout o;
  int s, bad = by_attacker(r, rec->author_pk);
  if (reg_optout_record_decode(&x, rec->payload, rec->payload_len) != 0)
    return;
  int bi = sreg_batch_find(r, x.sender_pk, x.batch_id);
  int opened = sreg_open_optout(r, &x, &o, &s);
  sreg_batch *b = bi >= 0 ? &r->batches[bi] : NULL;
  sreg_expect *e = NULL;
  if (s >= 0) {
    *(bad ? &r->keys[s].optout_attacker : &r->keys[s].optout_honest) += 1;
    r->keys[s].optout_opened += opened;
  }
  if (b != NULL) {
    b->optout_records++;
    *(bad ? &b->by_attacker : &b->by_honest) += 1;
  }
  if (!opened) {
    r->optouts_unopened++;
    if (b != NULL)
      b->unopened++;
  } else if (b != NULL && memcmp(o.batch_id, b->id, REG_BATCH_ID_LEN) == 0) {
    r->optouts_in_signer_inbox++;
    b->opened++;
    if ((e = sreg_expect_find(b, o.full_hash)) != NULL && e->copies++ == 0)
      e->first_at = now;
  } else {
    r->optouts_elsewhere++;
    if (b != NULL)
      b->misfiled++;
  }
  note_origin(r, &x, bi, e);
}

static void observe_evidence(sim_reg *r, const dht_record *rec) {
  reg_evidence e;
  if (reg_evidence_decode(&e, rec->payload, rec->payload_len) != 0)
    return;
  int s = sreg_sender_of(r, e.sender_pk);
  if (s < 0)
    return;
  if (by_attacker(r, rec->author_pk))
    r->keys[s].evidence_attacker++;
  else
    r->keys[s].evidence_honest++;
}

int sreg_store_hook(void *user, const uint8_t key[DHT_KEY_LEN],
                    const uint8_t slot[DHT_KEY_LEN], const uint8_t *rec,
                    size_t len) {
  sim_host *h = user;
  sim_reg *r = h->world->reg;
  uint8_t d[SREG_DIGEST_LEN];
  dht_record x;
  (void)key, (void)slot;
  if (dht_record_decode(&x, rec, len) != 0 || x.type >= SREG_TYPES_MAX)
    return 0;
  r->rec.copies[x.type]++;
  nc_hash(d, sizeof d, NULL, 0, rec, len);
  if (!rec_new(r, d))
    return 0;
  r->rec.distinct[x.type]++;
  if (x.type == REG_RECORD_OPTOUT)
    observe_optout(r, &x, h->world->q.now);
  else if (x.type == REG_RECORD_EVIDENCE)
    observe_evidence(r, &x);
  return 0;
}

/* ---- The predecessor attack ------------------------------------------------ */

/* variant_model computes, for this engine's relaying (origin hop to one
 * of the n - 1 others; each relay forwards with p_f to one of the n - 2
 * nodes other than itself and its predecessor, the origin included),
 * P(some colluder on the path) and P(the first colluder's predecessor is
 * the origin | some colluder on the path), by iterating the absorbing
 * chain over (holder honest non-origin, predecessor the origin) = 0,
 * (honest non-origin, honest non-origin) = 1, (origin, honest) = 2. */
static void variant_model(double n, double c, double pf, double *p_ident,
                          double *p_obs) {
  double m = n - 1 - c, d = n - 2, s[3] = {0}, t[3] = {0};
  *p_ident = *p_obs = 0;
  if (n < 4 || c <= 0 || m < 2)
    return;
  for (int it = 0; it < MODEL_ITER_MAX; it++) {
    double ns[3] = {pf * (m - 1) / d * s[1],
                    pf * (s[2] / d + (m - 2) / d * s[1]),
                    pf * (c / d + (m - 1) / d * s[0])};
    double nt[3] = {pf * (c / d + (m - 1) / d * t[1]),
                    pf * (c / d + t[2] / d + (m - 2) / d * t[1]),
                    pf * (c / d + (m - 1) / d * t[0])};
    double delta = 0;
    for (int k = 0; k < 3; k++) {
      delta += fabs(ns[k] - s[k]) + fabs(nt[k] - t[k]);
      s[k] = ns[k];
      t[k] = nt[k];
    }
    if (delta < 1e-15)
      break;
  }
  double s0 = c / (n - 1) + m / (n - 1) * s[0];
  double t0 = c / (n - 1) + m / (n - 1) * t[0];
  *p_obs = t0;
  *p_ident = t0 > 0 ? s0 / t0 : 0;
}

/* One row of the table. */
typedef struct anon_row {
  double fraction;        /* as given (< 1) or count / n */
  uint32_t c, n;
  uint64_t messages, observed, identified;
  uint64_t hops, colluder_hops; /* sightings, and those at colluders */
  double p_obs, p_ident, ci_lo, ci_hi;
  double crowds, n_min, model_ident, model_obs;
  double share, crowds_eff; /* colluders' share of relay picks, and the
                               Crowds value for that share */
} anon_row;

/* Wilson score interval at 95 % for |k| successes in |n|. */
static void wilson(uint64_t k, uint64_t n, double *lo, double *hi) {
  const double z = 1.959964;
  *lo = *hi = 0;
  if (n == 0)
    return;
  double p = (double)k / n, z2 = z * z / n;
  double mid = (p + z2 / 2) / (1 + z2);
  double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n)) / (1 + z2);
  *lo = mid - half < 0 ? 0 : mid - half;
  *hi = mid + half > 1 ? 1 : mid + half;
}

/* The analysis state: sightings grouped per message, the colluder order. */
typedef struct anon {
  uint32_t *first;  /* per message: start in |order| */
  uint32_t *order;  /* sighting indices grouped by message, in time order */
  uint32_t *rank;   /* per host: place in the colluder order, or NO_HOST */
  uint32_t n_hosts;
} anon;

static void anon_free(anon *a) {
  free(a->first);
  free(a->order);
  free(a->rank);
}

/* group sorts the sightings by message, keeping time order (counting
 * sort over message indices). */
static int group(const sim_reg *r, anon *a) {
  a->first = calloc(r->n_msgs + 1, sizeof *a->first);
  a->order = calloc(r->n_sights ? r->n_sights : 1, sizeof *a->order);
  if (a->first == NULL || a->order == NULL)
    return -1;
  for (size_t i = 0; i < r->n_sights; i++)
    a->first[r->sights[i].msg + 1]++;
  for (size_t m = 0; m < r->n_msgs; m++)
    a->first[m + 1] += a->first[m];
  uint32_t *fill = calloc(r->n_msgs ? r->n_msgs : 1, sizeof *fill);
  if (fill == NULL)
    return -1;
  for (size_t i = 0; i < r->n_sights; i++) {
    uint32_t m = r->sights[i].msg;
    a->order[a->first[m] + fill[m]++] = (uint32_t)i;
  }
  free(fill);
  return 0;
}

/* colluder_order ranks the hosts that originate nothing (neither
 * protectors nor the bystander) in one random order. */
static int colluder_order(sim_world *w, anon *a) {
  sim_reg *r = w->reg;
  sim_rng rng;
  uint32_t n = w->n_honest, k = 0;
  uint32_t *pool = calloc(n ? n : 1, sizeof *pool);
  a->n_hosts = n;
  a->rank = malloc((n ? n : 1) * sizeof *a->rank);
  if (pool == NULL || a->rank == NULL) {
    free(pool);
    return -1;
  }
  for (uint32_t h = 0; h < n; h++) {
    a->rank[h] = SREG_NO_HOST;
    if (sreg_protects(r, h) == 0)
      pool[k++] = h;
  }
  sim_rng_stream(&rng, w->seed, "registry-colluders", 0);
  for (uint32_t i = 0; i + 1 < k; i++) { /* Fisher-Yates */
    uint32_t j = i + (uint32_t)sim_rng_below(&rng, k - i);
    uint32_t t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  for (uint32_t i = 0; i < k; i++)
    a->rank[pool[i]] = i;
  free(pool);
  return 0;
}

static uint32_t msg_origin(const sreg_msg *m) {
  return m->origin != SREG_NO_HOST ? m->origin : m->first_pred;
}

/* attack_row measures the predecessor attack for |c| colluders. */
static void attack_row(const sim_reg *r, const anon *a, uint32_t c,
                       anon_row *row) {
  for (size_t m = 0; m < r->n_msgs; m++) {
    const sreg_msg *msg = &r->msgs[m];
    uint32_t origin = msg_origin(msg);
    if (origin == SREG_NO_HOST || origin >= a->n_hosts ||
        a->rank[origin] != SREG_NO_HOST || msg->sightings == 0)
      continue; /* not an honest origin's opt-out */
    row->messages++;
    int seen = 0;
    for (uint32_t i = a->first[m]; i < a->first[m + 1]; i++) {
      const sreg_sight *s = &r->sights[a->order[i]];
      int colluder = s->receiver < a->n_hosts && a->rank[s->receiver] < c;
      row->hops++;
      row->colluder_hops += colluder;
      if (!colluder || seen)
        continue;
      seen = 1;
      row->observed++;
      row->identified += s->pred == origin;
    }
  }
}

static void fill_row(const sim_reg *r, const anon *a, double f,
                     anon_row *row) {
  double pf = r->cfg.rc.forward_permille / 1000.0;
  memset(row, 0, sizeof *row);
  row->n = a->n_hosts;
  row->c = f < 1 ? (uint32_t)lround(f * row->n) : (uint32_t)f;
  row->fraction = (double)row->c / row->n;
  attack_row(r, a, row->c, row);
  row->p_obs = row->messages ? (double)row->observed / row->messages : 0;
  row->p_ident = row->observed ? (double)row->identified / row->observed : 0;
  wilson(row->identified, row->observed, &row->ci_lo, &row->ci_hi);
  row->crowds = 1 - pf * (row->n - row->c - 1.0) / row->n;
  row->share = row->hops ? (double)row->colluder_hops / row->hops : 0;
  row->crowds_eff = 1 - pf * (row->n - row->share * row->n - 1.0) / row->n;
  row->n_min = pf / (pf - 0.5) * (row->c + 1.0);
  variant_model(row->n, row->c, pf, &row->model_ident, &row->model_obs);
}

/* analyse fills one row per colluder value. Returns the count or -1. */
static int analyse(sim_world *w, anon_row *rows) {
  sim_reg *r = w->reg;
  anon a;
  memset(&a, 0, sizeof a);
  if (group(r, &a) != 0 || colluder_order(w, &a) != 0) {
    anon_free(&a);
    return -1;
  }
  for (unsigned i = 0; i < r->cfg.n_collude; i++)
    fill_row(r, &a, r->cfg.collude[i], &rows[i]);
  anon_free(&a);
  return (int)r->cfg.n_collude;
}

static json_t *row_json(const anon_row *x) {
  return json_pack(
      "{s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
      "s:f, s:f, s:f, s:b, s:b, s:b}",
      "colluder_fraction", x->fraction, "colluders", (json_int_t)x->c,
      "nodes", (json_int_t)x->n, "optouts", (json_int_t)x->messages,
      "observed", (json_int_t)x->observed, "identified",
      (json_int_t)x->identified, "p_observed", x->p_obs, "p_observed_model",
      x->model_obs, "p_identified", x->p_ident, "ci95_low", x->ci_lo,
      "ci95_high", x->ci_hi, "crowds", x->crowds, "model", x->model_ident,
      "n_min", x->n_min, "hops_at_colluders", x->share,
      "crowds_at_measured_share", x->crowds_eff, "bound_holds",
      x->n >= x->n_min,
      "crowds_probable_innocence", x->crowds <= 0.5,
      "measured_probable_innocence", x->p_ident <= 0.5);
}

/* picks_json: the origins' (protecting nodes') share of all relay picks
 * against their share of the nodes; relays pick from routing tables, and
 * a node that sends app messages enters more of them. */
static json_t *picks_json(const sim_world *w) {
  const sim_reg *r = w->reg;
  uint64_t at_origins = 0;
  for (size_t i = 0; i < r->n_sights; i++)
    at_origins += sreg_protects(r, r->sights[i].receiver) > 0;
  return json_pack("{s:f, s:f}", "origins_share_of_picks",
                   r->n_sights ? (double)at_origins / r->n_sights : 0.0,
                   "origins_share_of_nodes",
                   w->n_honest ? (double)r->n_protectors / w->n_honest : 0.0);
}

/* path_json: relays visited per opt-out (sightings), over honest
 * origins' opt-outs that reached an inbox. */
static json_t *path_json(const sim_reg *r) {
  uint64_t n = 0, sum = 0, max = 0, first_stored = 0;
  for (size_t m = 0; m < r->n_msgs; m++) {
    const sreg_msg *msg = &r->msgs[m];
    if (msg->stored == 0 || msg->sightings == 0)
      continue;
    n++;
    sum += msg->sightings;
    max = msg->sightings > max ? msg->sightings : max;
    first_stored += msg->sightings == 1;
  }
  double pf = r->cfg.rc.forward_permille / 1000.0;
  return json_pack("{s:I, s:f, s:f, s:I, s:f, s:f}", "optouts", (json_int_t)n,
                   "relays_mean", n ? (double)sum / n : 0.0,
                   "relays_mean_expected", 1 / (1 - pf), "relays_max",
                   (json_int_t)max, "stored_by_first_relay",
                   n ? (double)first_stored / n : 0.0,
                   "stored_by_first_relay_expected", 1 - pf);
}

json_t *sreg_anonymity_json(sim_world *w) {
  sim_reg *r = w->reg;
  anon_row rows[SREG_COLLUDE_MAX];
  int n = analyse(w, rows);
  json_t *table = json_array();
  for (int i = 0; table != NULL && i < n; i++)
    json_array_append_new(table, row_json(&rows[i]));
  return json_pack("{s:f, s:o, s:o, s:o, s:I, s:I, s:I}", "p_f",
                   r->cfg.rc.forward_permille / 1000.0, "table", table,
                   "paths", path_json(r), "relay_picks", picks_json(w),
                   "sightings",
                   (json_int_t)r->n_sights, "sightings_dropped",
                   (json_int_t)r->sights_dropped, "origin_mismatch",
                   (json_int_t)r->origin_mismatch);
}

int sreg_anonymity_csv(sim_world *w, FILE *out) {
  anon_row rows[SREG_COLLUDE_MAX];
  int n = analyse(w, rows);
  if (n < 0)
    return -1;
  fprintf(out, "colluder_fraction,colluders,nodes,optouts,observed,"
               "identified,p_observed,p_observed_model,p_identified,"
               "ci95_low,ci95_high,crowds,model,n_min,hops_at_colluders,"
               "crowds_at_measured_share,bound_holds,"
               "measured_probable_innocence\n");
  for (int i = 0; i < n; i++) {
    const anon_row *x = &rows[i];
    fprintf(out, "%.4f,%u,%u,%llu,%llu,%llu,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,"
                 "%.4f,%.1f,%.4f,%.4f,%d,%d\n",
            x->fraction, x->c, x->n, (unsigned long long)x->messages,
            (unsigned long long)x->observed,
            (unsigned long long)x->identified, x->p_obs, x->model_obs,
            x->p_ident, x->ci_lo, x->ci_hi, x->crowds, x->model_ident,
            x->n_min, x->share, x->crowds_eff, x->n >= x->n_min,
            x->p_ident <= 0.5);
  }
  return ferror(out) ? -1 : 0;
}

/* ---- Counters ------------------------------------------------------------- */

static json_t *keys_json(const sim_reg *r) {
  json_t *o = json_object();
  for (size_t i = 0; o != NULL && i < r->n_senders; i++) {
    const sreg_keystats *k = &r->keys[i];
    char name[32];
    /* Flooder keys past the first: only those something was put under
     * (an index flood may use hundreds of keys that nothing names). */
    if (i >= 2 && r->senders[i].role == SREG_ROLE_FLOODER &&
        (k->optout_honest | k->optout_attacker | k->optout_opened |
         k->evidence_honest | k->evidence_attacker) == 0)
      continue;
    snprintf(name, sizeof name, "sender%zu", i);
    json_object_set_new(
        o, name,
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "optout_records_by_honest",
                  (json_int_t)k->optout_honest, "optout_records_by_attacker",
                  (json_int_t)k->optout_attacker, "optout_records_opened",
                  (json_int_t)k->optout_opened, "evidence_by_honest",
                  (json_int_t)k->evidence_honest, "evidence_by_attacker",
                  (json_int_t)k->evidence_attacker));
  }
  return o;
}

json_t *sreg_observe_json(sim_world *w) {
  sim_reg *r = w->reg;
  json_t *types = json_object();
  const dht_record_type *t = r->types.t;
  for (size_t i = 0; types != NULL && i < REG_RECORD_TYPES; i++)
    if (t[i].type < SREG_TYPES_MAX)
      json_object_set_new(
          types, t[i].name,
          json_pack("{s:I, s:I}", "distinct",
                    (json_int_t)r->rec.distinct[t[i].type], "stored_copies",
                    (json_int_t)r->rec.copies[t[i].type]));
  return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}", "records", types,
                   "under_sender_keys", keys_json(r),
                   "optouts_in_signer_inbox",
                   (json_int_t)r->optouts_in_signer_inbox,
                   "optouts_elsewhere", (json_int_t)r->optouts_elsewhere,
                   "optouts_unopened", (json_int_t)r->optouts_unopened,
                   "sealed_optouts_followed", (json_int_t)r->n_msgs);
}

void sreg_observe_free(sim_reg *r) {
  free(r->rec_set);
  free(r->rec_used);
  free(r->msgs);
  free(r->msg_index);
  free(r->sights);
}
