/*
 * The [registry] section of a scenario: its keys (docs/SIMULATOR.md,
 * "Registry scenarios"), their defaults and ranges, and the checks that
 * tie it to the rest of the scenario (roles on distinct existing nodes,
 * batch sizes that hold every protected address, no churn and no
 * [attack] section alongside). The section is kept verbatim by
 * scenario.c and parsed here, like an [attack] section by its plug-in.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "sim.h"

#define MIN_NS (60 * DHT_SEC)

/* ---- Parsing ------------------------------------------------------------- */

static const char *const experiment_names[] = {"anonymity", "flood",
                                               "planted"};
static const char *const mode_names[] = {"junk", "lowpow", "missing",
                                         "garbled", "index"};
static const char *const vector_names[] = {"claim", "wrongkey", "replay",
                                           "lists", "escalate", "junk"};

const char *sreg_experiment_name(int e) {
  return e >= 0 && e <= SREG_PLANTED ? experiment_names[e] : "?";
}

const char *sreg_mode_name(int m) {
  return m >= 0 && m < SREG_FLOOD_NMODES ? mode_names[m] : "?";
}

static int name_index(const char *const *names, size_t n, const char *v) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], v) == 0)
      return (int)i;
  return -1;
}

static int num(const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !(d >= lo) || d > hi)
    return -1;
  *out = d;
  return 0;
}

static int whole(const char *v, double lo, double hi, uint32_t *out) {
  double d;
  if (num(v, lo, hi, &d) != 0 || d != floor(d))
    return -1;
  *out = (uint32_t)d;
  return 0;
}

static int duration(const char *v, dht_time *out) {
  return sim_parse_duration(v, out);
}

/* list_each calls |fn| on every word of |v| (separated by spaces or
 * commas); at most |max| words. Returns the count or -1. */
static int list_each(const char *v, unsigned max,
                     int (*fn)(sreg_cfg *c, const char *word), sreg_cfg *c) {
  char buf[SIM_REGISTRY_VALUE_MAX], *save = NULL;
  unsigned n = 0;
  snprintf(buf, sizeof buf, "%s", v);
  for (char *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
    if (n++ >= max || fn(c, t) != 0)
      return -1;
  return (int)n;
}

static int add_collude(sreg_cfg *c, const char *word) {
  double d;
  if (num(word, 0, SIM_NODES_MAX, &d) != 0 || (d >= 1 && d != floor(d)))
    return -1;
  c->collude[c->n_collude++] = d;
  return 0;
}

static int add_mode(sreg_cfg *c, const char *word) {
  int m = name_index(mode_names, SREG_FLOOD_NMODES, word);
  if (m < 0)
    return -1;
  c->modes[c->n_modes++] = m;
  return 0;
}

static int add_vector(sreg_cfg *c, const char *word) {
  int v = name_index(vector_names, sizeof vector_names / sizeof *vector_names,
                     word);
  if (v < 0)
    return -1;
  c->vectors |= 1u << v;
  return 0;
}

static void cfg_default(sreg_cfg *c) {
  memset(c, 0, sizeof *c);
  c->experiment = -1;
  reg_config_default(&c->rc);
  c->rc.index_poll_interval = MIN_NS;
  c->rc.index_lookback = 1;
  c->protectors = 20;
  c->addresses = 5;
  c->batch_size = 1000;
  c->batches = 1;
  c->publisher = 1;
  c->publish_at = 60 * DHT_SEC;
  c->batch_gap = 60 * DHT_SEC;
  c->batch_ttl_s = 86400;
  c->read_max = 4096;
  c->flooder = SREG_NO_HOST; /* the last node */
  c->flood_batches = 10;
  c->flood_entries = 1000;
  c->flood_index = 100;
  c->flood_keys = 1;
  c->flood_pow_deficit = 4;
  c->flood_inflight = 8;
  c->flood_slot = 5 * MIN_NS;
  c->attacker = 2;
  c->bystander = 3;
  c->bystander_addresses = 3;
  c->attack_at = 4 * MIN_NS;
  c->second_at = 10 * MIN_NS;
  c->junk_records = 20;
}

/* Keys with a plain numeric value: name, range, where it goes. */
typedef struct num_key {
  const char *key;
  double lo, hi;
  size_t offset; /* in sreg_cfg, a uint32_t */
} num_key;

#define CO(m) offsetof(sreg_cfg, m)
static const num_key num_keys[] = {
    {"protectors", 0, SIM_NODES_MAX, CO(protectors)},
    {"addresses", 1, 100000, CO(addresses)},
    {"batch_size", 1, 1e7, CO(batch_size)},
    {"batches", 1, 64, CO(batches)},
    {"publisher", 0, SIM_NODES_MAX, CO(publisher)},
    {"read_max", 1, 1e6, CO(read_max)},
    {"flooder", 0, SIM_NODES_MAX, CO(flooder)},
    {"flood_batches", 0, 10000, CO(flood_batches)},
    {"flood_entries", 1, 1e7, CO(flood_entries)},
    {"flood_index", 0, 1e6, CO(flood_index)},
    {"final_index", 0, 1e6, CO(final_index)},
    {"flood_keys", 1, SREG_SENDERS_MAX - 1, CO(flood_keys)},
    {"index_grind", 0, 24, CO(index_grind)},
    {"flood_pow_deficit", 1, 30, CO(flood_pow_deficit)},
    {"flood_inflight", 1, 64, CO(flood_inflight)},
    {"attacker", 0, SIM_NODES_MAX, CO(attacker)},
    {"bystander", 0, SIM_NODES_MAX, CO(bystander)},
    {"bystander_addresses", 1, 1000, CO(bystander_addresses)},
    {"junk_records", 0, 100000, CO(junk_records)},
};

/* Keys with a duration: name and where it goes (a dht_time). */
typedef struct dur_key {
  const char *key;
  size_t offset;
} dur_key;

static const dur_key dur_keys[] = {
    {"publish_at", CO(publish_at)},       {"batch_gap", CO(batch_gap)},
    {"read_at", CO(read_at)},             {"flood_start", CO(flood_start)},
    {"flood_slot", CO(flood_slot)},       {"attack_at", CO(attack_at)},
    {"second_at", CO(second_at)},         {"grace", CO(rc.grace)},
    {"poll_interval", CO(rc.index_poll_interval)},
    {"escalation_spacing", CO(rc.escalation_spacing)},
};

/* reg_key sets the keys of the registry's own configuration. */
static int reg_key(sreg_cfg *c, const char *k, const char *v) {
  double d;
  if (strcmp(k, "forward") == 0) {
    if (num(v, 0, 0.999, &d) != 0)
      return -1;
    c->rc.forward_permille = (uint32_t)lround(d * 1000);
    return 0;
  }
  static const struct {
    const char *key;
    double hi;
  } units[] = {{"optout_pow_bits", 24}, {"batch_pow_bits", 30},
               {"lookback", 720},       {"escalation_levels", 8}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    if (strcmp(k, units[i].key) != 0)
      continue;
    uint32_t u;
    if (whole(v, 0, units[i].hi, &u) != 0)
      return -1;
    unsigned *dst[] = {&c->rc.optout_pow_bits, &c->rc.batch_pow_base_bits,
                       &c->rc.index_lookback, &c->rc.escalation_levels};
    *dst[i] = u;
    return 0;
  }
  return 1; /* not one of these */
}

/* set_key applies one key. Returns 0, or -1 (unknown key or bad value). */
static int set_key(sreg_cfg *c, const char *k, const char *v) {
  int rv = reg_key(c, k, v);
  if (rv <= 0)
    return rv;
  if (strcmp(k, "experiment") == 0)
    return (c->experiment = name_index(experiment_names, 3, v)) < 0 ? -1 : 0;
  if (strcmp(k, "batch_ttl") == 0) {
    dht_time t;
    if (duration(v, &t) != 0 || t < MIN_NS || t > REG_MAX_LIFETIME_S * DHT_SEC)
      return -1;
    c->batch_ttl_s = t / DHT_SEC;
    return 0;
  }
  if (strcmp(k, "collude") == 0)
    return (c->n_collude = 0, list_each(v, SREG_COLLUDE_MAX, add_collude, c)) > 0 ? 0 : -1;
  if (strcmp(k, "modes") == 0)
    return (c->n_modes = 0, list_each(v, SREG_MODES_MAX, add_mode, c)) > 0 ? 0 : -1;
  if (strcmp(k, "vectors") == 0)
    return (c->vectors = 0, list_each(v, 8, add_vector, c)) > 0 ? 0 : -1;
  for (size_t i = 0; i < sizeof num_keys / sizeof *num_keys; i++)
    if (strcmp(k, num_keys[i].key) == 0)
      return whole(v, num_keys[i].lo, num_keys[i].hi,
                   (uint32_t *)((char *)c + num_keys[i].offset));
  for (size_t i = 0; i < sizeof dur_keys / sizeof *dur_keys; i++)
    if (strcmp(k, dur_keys[i].key) == 0)
      return duration(v, (dht_time *)((char *)c + dur_keys[i].offset));
  return -1;
}

/* Fills what depends on the rest of the scenario. */
static void cfg_finish(sreg_cfg *c, const sim_scenario *sc) {
  if (c->n_collude == 0) {
    static const double dflt[] = {0.05, 0.1, 0.2, 0.3};
    memcpy(c->collude, dflt, sizeof dflt);
    c->n_collude = 4;
  }
  if (c->n_modes == 0)
    for (int m = 0; m < SREG_FLOOD_NMODES; m++)
      c->modes[c->n_modes++] = m;
  if (c->vectors == 0)
    c->vectors = (1u << (sizeof vector_names / sizeof *vector_names)) - 1;
  if (c->flooder == SREG_NO_HOST)
    c->flooder = sc->nodes > 0 ? sc->nodes - 1 : 0;
  if (c->read_at == 0)
    c->read_at = sc->duration > MIN_NS ? sc->duration - MIN_NS : sc->duration;
  if (c->flood_start == 0)
    c->flood_start = c->publish_at + 2 * c->flood_slot;
}

int sreg_cfg_parse(const sim_scenario *sc, sreg_cfg *c, char *err,
                   size_t cap) {
  const sim_registry_spec *s = &sc->registry;
  cfg_default(c);
  for (size_t i = 0; i < s->n_keys; i++)
    if (set_key(c, s->keys[i], s->values[i]) != 0) {
      snprintf(err, cap, "[registry] %s: unknown key or bad value \"%s\"",
               s->keys[i], s->values[i]);
      return SIM_ERR_SCENARIO;
    }
  cfg_finish(c, sc);
  return 0;
}

static int reject(char *err, size_t cap, const char *msg) {
  snprintf(err, cap, "[registry] %s", msg);
  return SIM_ERR_SCENARIO;
}

/* The hosts with a fixed role must exist and differ. */
static int check_hosts(const sreg_cfg *c, const sim_scenario *sc, char *err,
                       size_t cap) {
  uint32_t n = sc->nodes;
  uint32_t fixed[3] = {c->publisher, SREG_NO_HOST, SREG_NO_HOST};
  if (c->experiment == SREG_FLOOD)
    fixed[1] = c->flooder;
  if (c->experiment == SREG_PLANTED) {
    fixed[1] = c->attacker;
    fixed[2] = c->bystander;
  }
  for (int i = 0; i < 3; i++) {
    if (fixed[i] != SREG_NO_HOST && fixed[i] >= n)
      return reject(err, cap, "a role's host index is not a node");
    for (int j = 0; j < i; j++)
      if (fixed[i] != SREG_NO_HOST && fixed[i] == fixed[j])
        return reject(err, cap, "publisher, flooder, attacker and bystander "
                                "must be different nodes");
  }
  if ((uint64_t)c->protectors + 4 > n)
    return reject(err, cap, "protectors: too many for the network");
  return 0;
}

static int check_sizes(const sreg_cfg *c, const sim_scenario *sc, char *err,
                       size_t cap) {
  uint64_t prot = (uint64_t)c->protectors * c->addresses +
                  (c->experiment == SREG_PLANTED ? c->bystander_addresses : 0);
  if (prot > c->batch_size)
    return reject(err, cap, "batch_size is smaller than the protected "
                            "addresses it must list");
  for (unsigned i = 0; c->experiment == SREG_ANONYMITY && i < c->n_collude;
       i++)
    if ((c->collude[i] < 1 ? c->collude[i] * sc->nodes : c->collude[i]) +
            c->protectors + 1 > sc->nodes)
      return reject(err, cap, "collude: more colluders than non-origin nodes");
  if (c->rc.forward_permille >= 1000 || c->rc.index_poll_interval < DHT_SEC ||
      c->rc.escalation_spacing < DHT_SEC)
    return reject(err, cap, "forward, poll_interval or escalation_spacing "
                            "out of range");
  return 0;
}

int sim_registry_check(const sim_scenario *sc, char *err, size_t cap) {
  sreg_cfg c;
  if (!sc->registry.present)
    return 0;
  if (sreg_cfg_parse(sc, &c, err, cap) != 0)
    return SIM_ERR_SCENARIO;
  if (c.experiment < 0)
    return reject(err, cap, "experiment (anonymity, flood, planted) missing");
  if (sc->churn_fraction > 0)
    return reject(err, cap, "cannot be combined with churn (the registry "
                            "keeps its state in memory)");
  if (sc->n_attacks > 0)
    return reject(err, cap, "cannot be combined with [attack] sections");
  int rv = check_hosts(&c, sc, err, cap);
  return rv ? rv : check_sizes(&c, sc, err, cap);
}

