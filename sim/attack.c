/*
 * Attack plug-ins (see attack.h): parsing of [attack NAME] sections, the
 * hosts each attack adds or turns, their dht_behaviour hooks, the flood
 * and sweep actions (SIM_EV_ATTACK events), and the per-attack figures.
 *
 * Adversaries are of two sorts. Extra hosts (sybil, eclipse, flooder) are
 * appended after the scenario's honest nodes, get addresses from a pool of
 * their own with few prefixes (so the DHT's diversity limits apply to
 * them) and join like any node, after the honest ones. In-network
 * adversaries (routing, storage) are honest nodes turned: each host draws
 * adv_u uniformly in [0, 1) and those below `fraction` misbehave from
 * `start` on; they join and build their tables honestly (a static network
 * in S/Kademlia's sense). Workload operations start only at honest hosts,
 * and lookups only target honest hosts.
 *
 * A routing adversary answers FIND_NODE (and FIND_VALUE, withholding
 * values) with the k colluders closest to the target: the strongest
 * collusion, every adversary knowing every other one.
 */
#include "attack.h"

#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "attack_int.h"
#include "sim.h"

extern char **environ;

#define SWEEP_POINTS_MAX 256
#define ECLIPSE_BITS_MAX 20
#define FLOOD_VALUE 100 /* bytes of a store flood's note value */


static const char *const kind_names[] = {"sybil", "eclipse", "routing",
                                         "storage", "flooder"};
static const uint8_t kind_roles[] = {SIM_ROLE_SYBIL, SIM_ROLE_ECLIPSE,
                                     SIM_ROLE_ROUTING, SIM_ROLE_STORAGE,
                                     SIM_ROLE_FLOODER};

/* One lookup of the S/Kademlia sweep; the callback argument. */
typedef struct sim_sweep_op {
  sim_world *w;
  sim_atk *a;
  uint32_t target;
  uint16_t point;
} sim_sweep_op;

/* ---- Parsing ------------------------------------------------------------- */

static int has_hosts(int kind) {
  return kind == ATK_SYBIL || kind == ATK_ECLIPSE || kind == ATK_FLOODER;
}

/* kind_of returns the plug-in of section name |name|: the plug-in's name,
 * optionally followed by '-' and a label ("flooder-garbage"), so one
 * scenario can run several instances of a plug-in. */
static int kind_of(const char *name) {
  size_t len = strcspn(name, "-");
  for (int i = 0; i < (int)(sizeof kind_names / sizeof *kind_names); i++)
    if (strlen(kind_names[i]) == len && strncmp(name, kind_names[i], len) == 0)
      return i;
  return -1;
}

/* Mode names by plug-in, in enum order; NULL-terminated. */
static const char *const mode_names[][5] = {
    [ATK_ECLIPSE] = {"node", "note", NULL},
    [ATK_STORAGE] = {"drop", "withhold", "forge", "stale", NULL},
    [ATK_FLOODER] = {"garbage", "requests", "stores", NULL},
};

static int parse_mode(int kind, const char *v, int *out) {
  for (int i = 0; i < 4 && mode_names[kind][i] != NULL; i++)
    if (strcmp(v, mode_names[kind][i]) == 0) {
      *out = i;
      return 0;
    }
  return -1;
}

/* set_rate applies a bandwidth key (bandwidth, uplink, downlink). */
static int set_rate(sim_atk *a, const char *k, const char *v) {
  uint64_t bps;
  if (!has_hosts(a->kind) || sim_rate_parse(v, &bps) != 0)
    return -1;
  if (k[0] != 'd')
    a->bw.up_bps = bps;
  if (k[0] != 'u')
    a->bw.down_bps = bps;
  return 0;
}

static int parse_paths(sim_atk *a, const char *v) {
  char buf[SIM_NAME_MAX], *save = NULL;
  snprintf(buf, sizeof buf, "%s", v);
  a->n_paths = 0;
  for (char *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
    long d = strtol(t, NULL, 10);
    if (d < 1 || d > DHT_PATHS_MAX || a->n_paths == DHT_PATHS_MAX)
      return -1;
    a->paths[a->n_paths++] = (unsigned)d;
  }
  return a->n_paths ? 0 : -1;
}

static int num(const char *v, double lo, double hi, double *out) {
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end != '\0' || !(d >= lo) || d > hi)
    return -1;
  *out = d;
  return 0;
}

/* set_key applies one key of an [attack] section to |a|. */
static int set_key(sim_atk *a, const char *k, const char *v) {
  double d;
  dht_time t;
  if (strcmp(k, "mode") == 0)
    return parse_mode(a->kind, v, &a->mode);
  if (strcmp(k, "paths") == 0)
    return a->kind == ATK_ROUTING || a->kind == ATK_ECLIPSE ? parse_paths(a, v)
                                                            : -1;
  if (strcmp(k, "bandwidth") == 0 || strcmp(k, "uplink") == 0 ||
      strcmp(k, "downlink") == 0)
    return set_rate(a, k, v);
  if (strcmp(k, "start") == 0 || strcmp(k, "gap") == 0 ||
      strcmp(k, "put") == 0) {
    if (sim_parse_duration(v, &t) != 0)
      return -1;
    *(k[0] == 's' ? &a->start : k[0] == 'g' ? &a->gap : &a->put_at) = t;
    return 0;
  }
  static const struct {
    const char *key;
    double lo, hi;
  } keys[] = {{"count", 0, 1e6},      {"prefixes", 1, 1000},
              {"subnets", 1, 256},    {"fraction", 0, 1},
              {"target", 0, 2e6},     {"victims", 1, 1e4},
              {"bits", 0, ECLIPSE_BITS_MAX}, {"collude", 0, 1},
              {"rate", 0.001, 1e6},   {"fraction_step", 0.001, 1},
              {"fraction_max", 0, 1}, {"lookups", 0, 1e6},
              {"view", 0.001, 1},     {"ipv6_fraction", 0, 1},
              {"gets", 0, 1e6}};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    if (strcmp(k, keys[i].key) != 0)
      continue;
    if (num(v, keys[i].lo, keys[i].hi, &d) != 0)
      return -1;
    switch (i) {
    case 0: a->count = (uint32_t)d; break;
    case 1: a->prefixes = (uint32_t)d; break;
    case 2: a->subnets = (uint32_t)d; break;
    case 3: a->fraction = d; break;
    case 4: a->target = (uint32_t)d; break;
    case 5: a->victims = (uint32_t)d; break;
    case 6: a->bits = (unsigned)d; break;
    case 7: a->collude = d != 0; break;
    case 8: a->rate = d; break;
    case 9: a->step = d; break;
    case 10: a->fmax = d; break;
    case 11: a->per_point = (uint32_t)d; break;
    case 12: a->view = d; break;
    case 13: a->v6 = d; break;
    default: a->gets = (uint32_t)d; break;
    }
    return 0;
  }
  return -1;
}

static void defaults(sim_atk *a, int kind) {
  memset(a, 0, sizeof *a);
  a->kind = kind;
  snprintf(a->name, sizeof a->name, "%s", kind_names[kind]);
  a->prefixes = kind == ATK_FLOODER ? 1 : 2;
  a->subnets = 2;
  a->count = kind == ATK_FLOODER ? 1 : 50;
  a->fraction = 0.2;
  a->target = 1;
  a->victims = 4;
  a->bits = 8;
  a->rate = 500;
  a->mode = kind == ATK_FLOODER ? FLOOD_REQUESTS : MODE_DROP;
  a->start = DHT_TIME_NONE; /* = the workload start */
  a->fmax = 0.5;
  a->per_point = kind == ATK_ECLIPSE ? 0 : 200; /* eclipse: no probes */
  a->gap = 5 * DHT_SEC;
  a->put_at = DHT_TIME_NONE; /* = when the first eclipse host joins */
  a->view = 1.0;
  a->paths[0] = 1;
  a->n_paths = 1;
}

/* parse_spec turns |spec| into |a|. Returns 0 or -1 with |err| set. */
static int parse_spec(const sim_attack_spec *spec, sim_atk *a, char *err,
                      size_t cap) {
  int kind = kind_of(spec->name);
  if (kind < 0) {
    snprintf(err, cap, "[attack %s]: no such plug-in (sybil, eclipse, "
             "routing, storage, flooder, optionally with -LABEL)",
             spec->name);
    return -1;
  }
  defaults(a, kind);
  snprintf(a->name, sizeof a->name, "%s", spec->name);
  for (size_t i = 0; i < spec->n_keys; i++)
    if (set_key(a, spec->keys[i], spec->values[i]) != 0) {
      snprintf(err, cap, "[attack %s] %s: unknown key or bad value \"%s\"",
               spec->name, spec->keys[i], spec->values[i]);
      return -1;
    }
  if (a->step > 0 && (unsigned)(a->fmax / a->step + 1.5) * a->n_paths >
                         SWEEP_POINTS_MAX) {
    snprintf(err, cap, "[attack %s]: too many sweep points", spec->name);
    return -1;
  }
  if (a->kind == ATK_ROUTING && a->step > 0 && a->per_point == 0) {
    snprintf(err, cap, "[attack %s]: lookups must be > 0", spec->name);
    return -1;
  }
  return 0;
}

int sim_attack_check(const sim_scenario *sc, char *err, size_t cap) {
  sim_atk a;
  uint64_t extra = 0;
  for (size_t i = 0; i < sc->n_attacks; i++) {
    if (parse_spec(&sc->attacks[i], &a, err, cap) != 0)
      return SIM_ERR_SCENARIO;
    if (a.kind == ATK_ECLIPSE && a.target >= sc->nodes) {
      snprintf(err, cap, "[attack eclipse] target is not an honest node");
      return SIM_ERR_SCENARIO;
    }
    extra += has_hosts(a.kind) ? a.count : 0;
  }
  if (sc->nodes + extra > SIM_NODES_MAX) {
    snprintf(err, cap, "too many nodes with the attackers");
    return SIM_ERR_SCENARIO;
  }
  return 0;
}

uint32_t sim_attack_extra_hosts(const sim_scenario *sc) {
  sim_atk a;
  char err[8];
  uint32_t n = 0;
  for (size_t i = 0; i < sc->n_attacks; i++)
    if (parse_spec(&sc->attacks[i], &a, err, sizeof err) == 0 &&
        has_hosts(a.kind))
      n += a.count;
  return n;
}

/* ---- Behaviour hooks ----------------------------------------------------- */

static int closer(const uint8_t a[DHT_ID_LEN], const uint8_t b[DHT_ID_LEN],
                  const uint8_t t[DHT_ID_LEN]) {
  for (int i = 0; i < DHT_ID_LEN; i++) {
    uint8_t x = a[i] ^ t[i], y = b[i] ^ t[i];
    if (x != y)
      return x < y;
  }
  return 0;
}

/* in_view returns 1 if colluder |c| is in responder |r|'s view: every
 * colluder with `view` = 1, else a fixed pseudo-random share of them per
 * responder (a hash of the pair), so different responders hand out
 * different colluders. */
static int in_view(const sim_atk *a, uint32_t r, uint32_t c) {
  if (a->view >= 1.0)
    return 1;
  uint64_t x = ((uint64_t)r << 32 | c) * UINT64_C(0x9E3779B97F4A7C15);
  x ^= x >> 29;
  x *= UINT64_C(0xBF58476D1CE4E5B9);
  x ^= x >> 32;
  return (double)(x >> 11) * 0x1.0p-53 < a->view;
}

/* colluders writes the |cap| active colluders in responder |r|'s view
 * closest to |target|. */
static int colluders(sim_atk *a, sim_world *w, uint32_t r,
                     const uint8_t *target, dht_contact *out, size_t cap) {
  uint32_t best[DHT_K_MAX];
  size_t n = 0;
  for (uint32_t m = 0; m < a->n_members; m++) {
    const sim_host *h = &w->hosts[a->members[m]];
    if (h->adv_u >= a->active)
      break; /* members are sorted by adv_u */
    if (h->state != SIM_HOST_UP || !in_view(a, r, h->index))
      continue;
    size_t pos = n;
    while (pos > 0 && closer(h->ident.id, w->hosts[best[pos - 1]].ident.id,
                             target))
      pos--;
    if (pos >= cap)
      continue;
    if (n < cap)
      n++;
    memmove(&best[pos + 1], &best[pos], (n - 1 - pos) * sizeof *best);
    best[pos] = h->index;
  }
  for (size_t i = 0; i < n; i++) {
    const sim_host *h = &w->hosts[best[i]];
    memset(&out[i], 0, sizeof out[i]);
    memcpy(out[i].id, h->ident.id, DHT_ID_LEN);
    memcpy(out[i].pk, h->ident.pk, NC_PK_LEN);
    out[i].nonce = h->ident.nonce;
    out[i].addr = h->addr;
  }
  return (int)n;
}

/* The routing hook; behaviour user = the host. Members below the active
 * fraction answer with colluders, the others honestly. */
static int nodes_reply(void *user, const uint8_t target[DHT_ID_LEN],
                       dht_contact *out, size_t cap) {
  sim_host *h = user;
  sim_world *w = h->world;
  sim_atk *a = &w->atk[h->attack];
  if (h->adv_u >= a->active)
    return -1;
  return colluders(a, w, h->index, target, out, cap);
}

/* find_record returns the workload record under |key|, or NULL. */
static sim_record *find_record(sim_world *w, const uint8_t key[DHT_KEY_LEN]) {
  for (size_t i = 0; i < w->n_records; i++)
    if (w->records[i].bytes != NULL &&
        memcmp(w->records[i].key, key, DHT_KEY_LEN) == 0)
      return &w->records[i];
  return NULL;
}

/* The forging hook: the record put under |key|, one payload byte changed
 * (the signature no longer verifies). */
static int value_reply(void *user, const uint8_t key[DHT_KEY_LEN],
                       uint8_t buf[DHT_MAX_RECORD], size_t *len) {
  sim_host *h = user;
  sim_world *w = h->world;
  sim_atk *a = &w->atk[h->attack];
  const sim_record *r = a->active > 0 ? find_record(w, key) : NULL;
  if (r == NULL || r->len > DHT_MAX_RECORD)
    return 0;
  memcpy(buf, r->bytes, r->len);
  buf[r->len - 70] ^= 0x01; /* inside the value, before the signature */
  *len = r->len;
  a->forged++;
  return 1;
}

/* The stale hook: the version of the record under |key| before its
 * latest update (validly signed, lower seq). The adversary is assumed to
 * have kept every version it ever saw. A get of that record in flight is
 * marked as having been served a stale copy. */
static int stale_reply(void *user, const uint8_t key[DHT_KEY_LEN],
                       uint8_t buf[DHT_MAX_RECORD], size_t *len) {
  sim_host *h = user;
  sim_world *w = h->world;
  sim_atk *a = &w->atk[h->attack];
  const sim_record *r = a->active > 0 ? find_record(w, key) : NULL;
  if (r == NULL || r->old_bytes == NULL || r->old_len > DHT_MAX_RECORD)
    return 0;
  memcpy(buf, r->old_bytes, r->old_len);
  *len = r->old_len;
  a->forged++;
  if (r->get_op != 0 && w->ops[r->get_op - 1].active)
    w->ops[r->get_op - 1].saw_stale = 1;
  return 1;
}

/* ---- Set-up -------------------------------------------------------------- */

int sim_attack_init(sim_world *w) {
  char err[8];
  uint32_t next = w->n_honest;
  for (size_t i = 0; i < w->sc.n_attacks; i++) {
    sim_atk *a = &w->atk[w->n_atk];
    if (parse_spec(&w->sc.attacks[i], a, err, sizeof err) != 0)
      return SIM_ERR_SCENARIO;
    w->n_atk++;
    if (a->start == DHT_TIME_NONE)
      a->start = w->sc.work_start;
    a->cfg = w->sc.dht;
    /* flooders: no self-restraint (operations, or their own node's
     * per-author quota, which would stop a store flood at the source) */
    a->cfg.max_operations = 1000000;
    a->cfg.author_max_records = UINT32_MAX;
    a->cfg.author_max_bytes = UINT32_MAX;
    if (sim_probe_init(w, a) != 0)
      return SIM_ERR_NOMEM;
    if (!has_hosts(a->kind))
      continue;
    a->first = next;
    next += a->count;
    sim_pool_spec spec = {.n16 = a->prefixes, .n24 = a->subnets,
                          .n32 = a->prefixes, .n48 = a->subnets,
                          .v6_fraction = a->v6, .bw = a->bw};
    spec.bw.queue_bytes = w->sc.bw.queue_bytes;
    int rv = sim_vnet_pool_make(&w->net, &a->pool, &spec);
    if (rv != 0)
      return rv;
  }
  return 0;
}

const sim_pool *sim_attack_pool(const sim_world *w, uint32_t i) {
  for (size_t k = 0; k < w->n_atk; k++) {
    const sim_atk *a = &w->atk[k];
    if (has_hosts(a->kind) && i >= a->first && i < a->first + a->count)
      return &a->pool;
  }
  return &w->pool;
}

/* A member and its draw, for sorting members by adv_u. */
typedef struct member_u {
  double u;
  uint32_t host;
} member_u;

static int by_u(const void *x, const void *y) {
  const member_u *a = x, *b = y;
  if (a->u != b->u)
    return a->u < b->u ? -1 : 1;
  return a->host < b->host ? -1 : a->host > b->host;
}

/* sort_members orders a->members by adv_u (colluders() stops at the
 * active fraction). Returns 0 or SIM_ERR_NOMEM. */
static int sort_members(sim_world *w, sim_atk *a) {
  member_u *m = calloc(a->n_members ? a->n_members : 1, sizeof *m);
  if (m == NULL)
    return SIM_ERR_NOMEM;
  for (uint32_t i = 0; i < a->n_members; i++)
    m[i] = (member_u){w->hosts[a->members[i]].adv_u, a->members[i]};
  qsort(m, a->n_members, sizeof *m, by_u);
  for (uint32_t i = 0; i < a->n_members; i++)
    a->members[i] = m[i].host;
  free(m);
  return 0;
}

/* turn makes |h| a member of |a| with behaviour hooks. */
static void turn(sim_atk *a, size_t idx, sim_host *h) {
  h->role = kind_roles[a->kind];
  h->attack = (uint8_t)idx;
  a->members[a->n_members++] = h->index;
  if (a->kind == ATK_FLOODER) {
    h->cfg = &a->cfg;
    return;
  }
  if (a->kind == ATK_SYBIL || a->kind == ATK_ECLIPSE) {
    h->adv_u = 0; /* colluding extra hosts are always active */
    if (!a->collude)
      return;
  }
  h->beh.user = h;
  if (a->kind == ATK_ROUTING || a->collude) {
    h->beh.nodes_reply = nodes_reply;
    h->beh.withhold_values = 0; /* switched on at start */
  }
  if (a->kind == ATK_STORAGE && a->mode == MODE_FORGE)
    h->beh.value_reply = value_reply;
  if (a->kind == ATK_STORAGE && a->mode == MODE_STALE)
    h->beh.value_reply = stale_reply;
  h->behaviour = &h->beh;
}

static int assign_one(sim_world *w, size_t idx) {
  sim_atk *a = &w->atk[idx];
  sim_rng rng;
  uint32_t cap = has_hosts(a->kind) ? a->count : w->n_honest;
  a->members = calloc(cap ? cap : 1, sizeof *a->members);
  if (a->members == NULL)
    return SIM_ERR_NOMEM;
  sim_rng_stream(&rng, w->seed, "attack", idx);
  if (has_hosts(a->kind)) {
    for (uint32_t i = a->first; i < a->first + a->count; i++)
      turn(a, idx, &w->hosts[i]);
  } else {
    double limit = a->step > 0 ? a->fmax : a->fraction;
    for (uint32_t i = 0; i < w->n_honest; i++) {
      double u = sim_rng_unit(&rng);
      if (u < limit && w->hosts[i].role == SIM_ROLE_HONEST &&
          i >= w->sc.join_seeds) {
        w->hosts[i].adv_u = u;
        turn(a, idx, &w->hosts[i]);
      }
    }
    if (sort_members(w, a) != 0)
      return SIM_ERR_NOMEM;
  }
  uint64_t aux = (uint64_t)ACT_START << 32;
  return sim_world_push(w, w->t0 + a->start, SIM_EV_ATTACK, (uint32_t)idx,
                        aux, NULL);
}

static int sweep_alloc(sim_world *w, sim_atk *a) {
  a->n_fracs = (unsigned)(a->fmax / a->step + 1.5);
  size_t points = (size_t)a->n_fracs * a->n_paths;
  a->ok = calloc(points, sizeof *a->ok);
  a->fail = calloc(points, sizeof *a->fail);
  a->hops = calloc(points, sizeof *a->hops);
  a->sops = calloc(points * a->per_point, sizeof *a->sops);
  if (!a->ok || !a->fail || !a->hops || !a->sops)
    return SIM_ERR_NOMEM;
  (void)w;
  return 0;
}

int sim_attack_assign(sim_world *w) {
  for (size_t i = 0; i < w->n_atk; i++) {
    int rv = assign_one(w, i);
    if (rv == 0 && w->atk[i].kind == ATK_ROUTING && w->atk[i].step > 0)
      rv = sweep_alloc(w, &w->atk[i]);
    if (rv != 0)
      return rv;
    sim_probe_schedule(w, i);
  }
  return 0;
}

void sim_attack_free(sim_world *w) {
  for (size_t i = 0; i < w->n_atk; i++) {
    sim_atk *a = &w->atk[i];
    free(a->members);
    free(a->victim_hosts);
    free(a->ok);
    free(a->fail);
    free(a->hops);
    free(a->sops);
    sim_probe_free(a);
    sim_pool_free(&a->pool);
  }
  w->n_atk = 0;
}

/* ---- Eclipse identities -------------------------------------------------- */

static int shares_bits(const uint8_t *a, const uint8_t *b, unsigned bits) {
  for (unsigned i = 0; i < bits; i++) {
    unsigned m = 0x80u >> (i % 8);
    if ((a[i / 8] & m) != (b[i / 8] & m))
      return 0;
  }
  return 1;
}

/* mine searches nonces of one key pair for an ID that meets the puzzle
 * and shares a->bits leading bits with the target (the victim's ID or
 * its note's key): 2^(bits + difficulty) hashes expected, the attacker's
 * real cost. */
static int mine(sim_world *w, sim_atk *a, sim_host *h) {
  const uint8_t *victim = sim_probe_target(w, a);
  uint8_t seed[NC_SEED_LEN] = {0};
  unsigned d = w->sc.dht.difficulty;
  uint64_t start = 0, budget = UINT64_C(1) << (a->bits + d + 8);
  for (int i = 0; i < 8; i++) {
    seed[i] = (uint8_t)(w->seed >> (8 * i));
    seed[8 + i] = (uint8_t)((uint64_t)h->index >> (8 * i));
  }
  seed[31] = 0xec;
  for (;;) {
    if (nc_identity_from_seed(&h->ident, seed, d, start, budget) != 0)
      return SIM_ERR_IDENTITY;
    if (shares_bits(h->ident.id, victim, a->bits))
      return 0;
    budget -= h->ident.nonce + 1 - start < budget ? h->ident.nonce + 1 - start
                                                  : budget;
    start = h->ident.nonce + 1;
    if (budget == 0)
      return SIM_ERR_IDENTITY;
  }
}

int sim_attack_identity(sim_world *w, sim_host *h, int *rv) {
  *rv = 0;
  if (h->role != SIM_ROLE_ECLIPSE ||
      w->hosts[w->atk[h->attack].target].state == SIM_HOST_IDLE)
    return 0;
  *rv = mine(w, &w->atk[h->attack], h);
  return 1;
}

/* ---- Actions ------------------------------------------------------------- */

void sim_attack_push(sim_world *w, size_t idx, dht_time t, unsigned act,
                     uint32_t arg) {
  sim_world_push(w, t, SIM_EV_ATTACK, (uint32_t)idx,
                 (uint64_t)act << 32 | arg, NULL);
}

static void on_start(sim_world *w, size_t idx) {
  sim_atk *a = &w->atk[idx];
  a->active = a->step > 0 ? 0 : (a->kind == ATK_ROUTING ? a->fraction : 1);
  for (uint32_t m = 0; m < a->n_members; m++) {
    sim_host *h = &w->hosts[a->members[m]];
    if (a->kind == ATK_ROUTING || a->collude)
      h->beh.withhold_values = 1;
    if (a->kind == ATK_STORAGE) {
      h->beh.drop_stores = a->mode == MODE_DROP;
      h->beh.withhold_values = a->mode == MODE_WITHHOLD;
    }
  }
  sim_probe_start(w, idx); /* flooders: victims chosen here */
  if (a->kind == ATK_FLOODER && a->count > 0)
    for (uint32_t f = 0; f < a->count; f++)
      sim_attack_push(w, idx, w->q.now, ACT_FLOOD, f);
  if (a->step > 0)
    sim_attack_push(w, idx, w->q.now, ACT_SWEEP, 0);
}

static void victim_contact(const sim_host *v, dht_contact *c) {
  memset(c, 0, sizeof *c);
  memcpy(c->id, v->ident.id, DHT_ID_LEN);
  memcpy(c->pk, v->ident.pk, NC_PK_LEN);
  c->nonce = v->ident.nonce;
  c->addr = v->addr;
}

/* aimed_name writes to |name| a note name of |h| whose key shares a->bits
 * leading bits with |victim|'s ID, so the victim is among the note's
 * closest storers (2^bits hashes expected; after 2^(bits + 6) tries the
 * last name is taken as it is). Returns the name's length. */
static int aimed_name(const sim_atk *a, const sim_host *h,
                      const sim_host *victim, char name[48]) {
  uint8_t key[DHT_KEY_LEN];
  int n = 0;
  for (uint64_t t = 0; t < UINT64_C(1) << (a->bits + 6); t++) {
    n = snprintf(name, 48, "flood-%u-%llu-%llu", h->index,
                 (unsigned long long)a->ticks, (unsigned long long)t);
    dht_note_key(key, h->ident.pk, (const uint8_t *)name, (size_t)n);
    if (shares_bits(key, victim->ident.id, a->bits))
      break;
  }
  return n;
}

/* flood_store puts a fresh note aimed at |victim| (lookup + STOREs to the
 * closest nodes of its key, the victim among them). */
static void flood_store(sim_world *w, sim_atk *a, sim_host *h,
                        const sim_host *victim) {
  uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  uint8_t value[FLOOD_VALUE], enc[DHT_MAX_RECORD];
  char name[48];
  dht_record rec;
  size_t len;
  int n = aimed_name(a, h, victim, name);
  sim_rng_fill(&h->rng, value, sizeof value);
  if (dht_note_build(&rec, payload, sizeof payload, &h->ident,
                     (const uint8_t *)name, (size_t)n, value, sizeof value,
                     w->q.now / DHT_SEC, 3600, 1) == 0 &&
      dht_record_encode(&rec, enc, sizeof enc, &len) == 0 &&
      dht_node_put(h->node, w->q.now, enc, len, NULL, NULL) == 0)
    a->sent++;
}

static void on_flood(sim_world *w, size_t idx, uint32_t f) {
  sim_atk *a = &w->atk[idx];
  sim_host *h = &w->hosts[a->first + f];
  uint32_t v = a->victim_hosts[a->ticks++ % a->victims];
  sim_attack_push(w, idx, w->q.now + (dht_time)(1e9 / a->rate), ACT_FLOOD, f);
  if (h->state != SIM_HOST_UP || v == NO_HOST ||
      w->hosts[v].state != SIM_HOST_UP)
    return;
  if (a->mode == FLOOD_GARBAGE) {
    uint8_t junk[DHT_MAX_DATAGRAM];
    size_t len = 1 + (size_t)sim_rng_below(&h->rng, sizeof junk);
    sim_rng_fill(&h->rng, junk, len);
    sim_world_send_raw(w, h, &w->hosts[v].addr, junk, len);
    a->sent++;
    return;
  }
  if (a->mode == FLOOD_REQUESTS) {
    dht_contact c;
    static const uint8_t msg[] = "flood";
    victim_contact(&w->hosts[v], &c);
    if (dht_node_send_app(h->node, w->q.now, &c, msg, sizeof msg, NULL,
                          NULL) == 0)
      a->sent++;
  } else {
    flood_store(w, a, h, &w->hosts[v]);
  }
  sim_world_service(w, h);
}

/* ---- The S/Kademlia sweep ------------------------------------------------ */

static void sweep_done(void *arg, int status, const dht_contact *closest,
                       size_t n, const dht_lookup_stats *stats) {
  sim_sweep_op *op = arg;
  sim_atk *a = op->a;
  const uint8_t *target = op->w->hosts[op->target].ident.id;
  int found = 0;
  for (size_t i = 0; status == 0 && i < n && !found; i++)
    found = memcmp(closest[i].id, target, DHT_ID_LEN) == 0;
  if (found) {
    a->ok[op->point]++;
    a->hops[op->point] += stats->hops;
  } else {
    a->fail[op->point]++;
  }
}

/* Lookup |i| of the sweep: phase i / (per_point x paths) sets the
 * fraction, paths alternate within a phase; phases are separated by the
 * gap so no lookup straddles two fractions. */
static void on_sweep(sim_world *w, size_t idx, uint32_t i) {
  sim_atk *a = &w->atk[idx];
  uint32_t per_phase = a->per_point * a->n_paths;
  uint32_t phase = i / per_phase, j = i % per_phase;
  if (phase >= a->n_fracs)
    return;
  a->active = phase * a->step;
  dht_time next = w->q.now + (dht_time)(1e9 / w->sc.lookup_rate);
  if (j + 1 == per_phase)
    next += a->gap;
  sim_attack_push(w, idx, next, ACT_SWEEP, i + 1);
  uint32_t src = sim_world_pick_honest(w, &w->work_rng, NO_HOST);
  uint32_t dst = src == NO_HOST ? NO_HOST
                                : sim_world_pick_honest(w, &w->work_rng, src);
  uint16_t point = (uint16_t)(phase * a->n_paths + j % a->n_paths);
  if (dst == NO_HOST) {
    a->fail[point]++;
    return;
  }
  sim_sweep_op *op = &a->sops[i];
  *op = (sim_sweep_op){w, a, dst, point};
  sim_host *h = &w->hosts[src];
  if (dht_node_lookup_paths(h->node, w->q.now, w->hosts[dst].ident.id,
                            a->paths[j % a->n_paths], sweep_done, op) != 0)
    a->fail[point]++;
  sim_world_service(w, h);
}

void sim_attack_on_event(sim_world *w, const sim_event *ev) {
  size_t idx = ev->node;
  unsigned act = (unsigned)(ev->aux >> 32);
  uint32_t arg = (uint32_t)ev->aux;
  SIM_ASSERT(idx < w->n_atk);
  if (act == ACT_START)
    on_start(w, idx);
  else if (act == ACT_FLOOD)
    on_flood(w, idx, arg);
  else if (act == ACT_SWEEP)
    on_sweep(w, idx, arg);
  else if (act == ACT_PUT)
    sim_probe_on_put(w, idx);
  else
    sim_probe_on_probe(w, idx, arg);
}

/* ---- Figures ------------------------------------------------------------- */

/* Sum of |h|'s dropped counters into |d|, and other stats. */
static void host_stats(const sim_host *h, dht_stats *st) {
  memset(st, 0, sizeof *st);
  if (h->state == SIM_HOST_UP)
    dht_node_stats(h->node, st);
}

static json_t *drops_json(const uint64_t d[DHT_DROP_COUNT]) {
  json_t *o = json_object();
  for (int i = 0; o && i < DHT_DROP_COUNT; i++)
    if (d[i])
      json_object_set_new(o, dht_drop_reason_name(i), json_integer((json_int_t)d[i]));
  return o;
}

/* In honest routing tables: contacts that are members of |a|. */
static json_t *tables_json(sim_world *w, const sim_atk *a) {
  dht_contact *c = calloc(4096, sizeof *c);
  uint64_t total = 0, bad = 0, worst = 0, tables = 0;
  if (c == NULL)
    return NULL;
  for (uint32_t i = 0; i < w->n_honest; i++) {
    const sim_host *h = &w->hosts[i];
    if (h->state != SIM_HOST_UP || h->role != SIM_ROLE_HONEST)
      continue;
    size_t n = dht_node_contacts(h->node, c, 4096);
    uint64_t mine = 0;
    for (size_t j = 0; j < n; j++) {
      uint32_t e = sim_vnet_find(&w->net, &c[j].addr);
      mine += e != SIM_NO_ENDPOINT && w->hosts[e].role != SIM_ROLE_HONEST &&
              w->hosts[e].attack == (uint8_t)(a - w->atk);
    }
    total += n;
    bad += mine;
    worst = mine > worst ? mine : worst;
    tables += mine > 0;
  }
  free(c);
  double share = (double)a->count / (double)(w->n_honest + a->count);
  return json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:f}", "honest_contacts",
                   (json_int_t)total, "attacker_contacts", (json_int_t)bad,
                   "admitted_fraction", total ? (double)bad / (double)total : 0.0,
                   "max_in_one_table", (json_int_t)worst,
                   "tables_with_attackers", (json_int_t)tables,
                   "bound_per_table",
                   (json_int_t)((uint64_t)w->sc.dht.table_prefix_max *
                                (a->pool.n16 + a->pool.n32)),
                   "identity_share", share);
}

/* The victim's closest contacts to its own ID that are eclipse nodes. */
static json_t *eclipse_json(sim_world *w, const sim_atk *a) {
  const sim_host *v = &w->hosts[a->target];
  dht_contact c[4096];
  unsigned k = w->sc.dht.k, in_k = 0;
  if (v->state != SIM_HOST_UP)
    return json_pack("{s:s}", "victim", "down");
  size_t n = dht_node_contacts(v->node, c, 4096);
  /* dht_node_contacts lists the closest buckets last */
  for (size_t j = n > k ? n - k : 0; j < n; j++) {
    uint32_t e = sim_vnet_find(&w->net, &c[j].addr);
    in_k += e != SIM_NO_ENDPOINT && w->hosts[e].role == SIM_ROLE_ECLIPSE;
  }
  json_t *o = tables_json(w, a);
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "victim_closest_k_eclipse", json_integer(in_k));
  json_object_set_new(o, "victim_contacts", json_integer((json_int_t)n));
  sim_probe_eclipse_json(w, a, o);
  return o;
}

static json_t *flooder_json(sim_world *w, const sim_atk *a) {
  uint64_t drops[DHT_DROP_COUNT] = {0}, tx = 0, honest_tx = 0, records = 0,
           bytes = 0, req = 0;
  dht_stats st;
  double secs = (double)(w->q.now - w->t0 - a->start) / 1e9;
  double all = (double)(w->q.now - w->t0) / 1e9;
  for (uint32_t i = 0; i < a->victims && a->victim_hosts; i++) {
    if (a->victim_hosts[i] == NO_HOST)
      continue;
    host_stats(&w->hosts[a->victim_hosts[i]], &st);
    for (int r = 0; r < DHT_DROP_COUNT; r++)
      drops[r] += st.dropped[r];
    records += st.records;
    bytes += st.record_bytes;
    req += st.requests_in;
  }
  for (uint32_t i = 0; i < a->count; i++) {
    host_stats(&w->hosts[a->first + i], &st);
    tx += st.tx_datagrams;
  }
  if (a->mode == FLOOD_GARBAGE)
    tx += a->sent;
  for (uint32_t i = 0; i < w->n_honest; i++) {
    host_stats(&w->hosts[i], &st);
    honest_tx += st.tx_datagrams;
  }
  double f_rate = secs > 0 && a->count ? (double)tx / a->count / secs : 0;
  double h_rate = all > 0 ? (double)honest_tx / w->n_honest / all : 0;
  json_t *o = json_pack(
      "{s:s, s:I, s:f, s:f, s:f, s:o, s:I, s:I, s:I}", "mode",
      mode_names[ATK_FLOODER][a->mode], "sent", (json_int_t)a->sent,
      "flooder_datagrams_per_s", f_rate, "honest_datagrams_per_s", h_rate,
      "rate_multiple", h_rate > 0 ? f_rate / h_rate : 0.0, "victim_dropped",
      drops_json(drops), "victim_records", (json_int_t)records,
      "victim_record_bytes", (json_int_t)bytes, "victim_requests_answered",
      (json_int_t)req);
  if (o != NULL)
    sim_probe_flood_json(w, a, o);
  return o;
}

static json_t *sweep_json(const sim_atk *a) {
  json_t *arr = json_array();
  for (unsigned f = 0; arr && f < a->n_fracs; f++)
    for (unsigned p = 0; p < a->n_paths; p++) {
      size_t i = (size_t)f * a->n_paths + p;
      uint64_t n = a->ok[i] + a->fail[i];
      json_array_append_new(
          arr, json_pack("{s:i, s:f, s:f, s:I}", "d", a->paths[p],
                         "adversary_fraction", f * a->step, "success_rate",
                         n ? (double)a->ok[i] / (double)n : 0.0, "lookups",
                         (json_int_t)n));
    }
  return arr;
}

static json_t *inside_json(sim_world *w, const sim_atk *a) {
  uint64_t refused = 0;
  dht_stats st;
  for (uint32_t i = 0; i < w->n_honest; i++) {
    if (w->hosts[i].role != SIM_ROLE_HONEST)
      continue;
    host_stats(&w->hosts[i], &st);
    refused += st.records_refused;
  }
  json_t *o = json_pack("{s:I, s:f, s:I, s:I}", "adversaries",
                        (json_int_t)a->n_members, "fraction",
                        a->kind == ATK_ROUTING ? a->active : a->fraction,
                        a->kind == ATK_STORAGE && a->mode == MODE_STALE
                            ? "stale_served"
                            : "forged_served",
                        (json_int_t)a->forged, "honest_records_refused",
                        (json_int_t)refused);
  if (o && a->kind == ATK_STORAGE)
    json_object_set_new(o, "mode",
                        json_string(mode_names[ATK_STORAGE][a->mode]));
  if (o && a->step > 0)
    json_object_set_new(o, "sweep", sweep_json(a));
  return o;
}

json_t *sim_attack_json(sim_world *w) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < w->n_atk; i++) {
    const sim_atk *a = &w->atk[i];
    json_t *v;
    if (a->kind == ATK_SYBIL)
      v = tables_json(w, a);
    else if (a->kind == ATK_ECLIPSE)
      v = eclipse_json(w, a);
    else if (a->kind == ATK_FLOODER)
      v = flooder_json(w, a);
    else
      v = inside_json(w, a);
    json_object_set_new(o, a->name, v ? v : json_null());
  }
  return o;
}

int sim_attack_has_sweep(const sim_world *w) {
  for (size_t i = 0; i < w->n_atk; i++)
    if (w->atk[i].kind == ATK_ROUTING && w->atk[i].step > 0)
      return 1;
  return sim_probe_has_flood(w);
}

/* Analytical success of a lookup over |d| disjoint paths of |h| hops when
 * a fraction |f| of nodes is adversarial (S/Kademlia, section 5):
 * 1 - (1 - (1 - f)^h)^d. */
static double analytical(double f, double h, unsigned d) {
  return 1.0 - pow(1.0 - pow(1.0 - f, h), (double)d);
}

/* The hop count of the model: mean hops of successful lookups at f = 0
 * over every d, at least 1. */
static double model_hops(const sim_atk *a) {
  uint64_t ok = 0, hops = 0;
  for (unsigned p = 0; p < a->n_paths; p++) {
    ok += a->ok[p];
    hops += a->hops[p];
  }
  double h = ok ? (double)hops / (double)ok : 1.0;
  return h < 1.0 ? 1.0 : h;
}

static const char sweep_plot[] =
    "set terminal pngcairo size 900,600\n"
    "set output '%s/skademlia.png'\n"
    "set title 'S/Kademlia experiment: lookup success vs adversarial nodes'\n"
    "set xlabel 'adversarial fraction'\nset ylabel 'success rate'\n"
    "set yrange [0:1.02]\nset key bottom left\nset datafile separator ','\n"
    "plot for [d in '%s'] '%s/skademlia.csv' using "
    "(strcol(1) eq d ? $2 : 1/0):3 with linespoints title 'd='.d.' sim', "
    "for [d in '%s'] '%s/skademlia.csv' using "
    "(strcol(1) eq d ? $2 : 1/0):4 with lines dt 2 title 'd='.d.' analytical'\n";

int sim_attack_gnuplot(char *path) {
  char *argv[] = {"gnuplot", path, NULL};
  pid_t pid;
  int st;
  if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ) != 0)
    return SIM_ERR_IO;
  if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return SIM_ERR_IO;
  return 0;
}

/* write_sweep writes the S/Kademlia sweep's files (see
 * sim_attack_write_sweep). */
static int write_sweep(sim_world *w, const char *dir, int plot) {
  char path[4096], ds[64] = "";
  const sim_atk *a = NULL;
  for (size_t i = 0; i < w->n_atk && !a; i++)
    if (w->atk[i].kind == ATK_ROUTING && w->atk[i].step > 0)
      a = &w->atk[i];
  if (a == NULL)
    return 0;
  double h = model_hops(a);
  snprintf(path, sizeof path, "%s/skademlia.csv", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return SIM_ERR_IO;
  fprintf(f, "d,adversary_fraction,success_rate,analytical,lookups,"
             "model_hops\n");
  for (unsigned p = 0; p < a->n_paths; p++)
    for (unsigned k = 0; k < a->n_fracs; k++) {
      size_t i = (size_t)k * a->n_paths + p;
      uint64_t n = a->ok[i] + a->fail[i];
      double fr = k * a->step;
      fprintf(f, "%u,%.4f,%.6f,%.6f,%llu,%.3f\n", a->paths[p], fr,
              n ? (double)a->ok[i] / (double)n : 0.0,
              analytical(fr, h, a->paths[p]), (unsigned long long)n, h);
    }
  if (fclose(f) != 0)
    return SIM_ERR_IO;
  if (!plot)
    return 0;
  for (unsigned p = 0; p < a->n_paths; p++)
    snprintf(ds + strlen(ds), sizeof ds - strlen(ds), "%s%u", p ? " " : "",
             a->paths[p]);
  snprintf(path, sizeof path, "%s/skademlia.gp", dir);
  f = fopen(path, "w");
  if (f == NULL)
    return SIM_ERR_IO;
  fprintf(f, sweep_plot, dir, ds, dir, ds, dir);
  if (fclose(f) != 0)
    return SIM_ERR_IO;
  return sim_attack_gnuplot(path);
}

int sim_attack_write_sweep(sim_world *w, const char *dir, int plot) {
  int rv = write_sweep(w, dir, plot);
  if (rv == 0 && sim_probe_has_flood(w))
    rv = sim_probe_write_flood(w, dir, plot);
  return rv;
}
