/*
 * Scenario loading: INI text (inih) onto a sim_scenario through one table
 * of (section, key, type, field offset, range). Adding a key is one table
 * row; every value is range-checked where it is parsed and the whole
 * scenario again by sim_scenario_check once command-line overrides are in.
 */
#include "scenario.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attack.h"
#include "registry.h"
#include "sim.h"

enum field_type {
  F_UINT, /* unsigned int (dht_config counts) */
  F_U32,
  F_U64,
  F_DOUBLE,
  F_DURATION,  /* dht_time, ns */
  F_SECONDS,   /* a duration stored as uint64_t seconds */
  F_LATENCY,   /* sim_latency */
  F_NAME,      /* char[SIM_NAME_MAX] */
  F_BOOTSTRAP, /* "random" or "seeds" -> int */
  F_RATE,      /* bit rate (vnet.h) -> uint64_t bps */
  F_RATE2,     /* one bit rate for both directions of a sim_bandwidth */
};

typedef struct field {
  const char *section;
  const char *key;
  int type;
  size_t offset;
  double min, max; /* numeric range, inclusive */
} field;

#define SC(member) offsetof(sim_scenario, member)
#define HOUR 3600.0
#define DAY (24 * HOUR)

static const field fields[] = {
    {"scenario", "name", F_NAME, SC(name), 0, 0},
    {"scenario", "seed", F_U64, SC(seed), 0, (double)UINT64_MAX},
    {"scenario", "duration", F_DURATION, SC(duration), 0.001, 30 * DAY},
    {"scenario", "sample_interval", F_DURATION, SC(sample_interval), 0.01, DAY},
    {"scenario", "max_events", F_U64, SC(max_events), 1, 1e13},
    {"scenario", "max_pending", F_U64, SC(max_pending), 1024, 1e10},
    {"scenario", "key_memo", F_UINT, SC(key_memo), 0, 1},
    {"scenario", "key_model", F_UINT, SC(key_model), 0, 1},
    {"network", "nodes", F_U32, SC(nodes), 1, SIM_NODES_MAX},
    {"network", "latency", F_LATENCY, SC(latency), 0, 0},
    {"network", "jitter", F_DOUBLE, SC(jitter), 0, 10},
    {"network", "loss", F_DOUBLE, SC(loss), 0, 1},
    {"network", "prefixes", F_U32, SC(prefixes), 0, 40000},
    {"network", "subnets", F_U32, SC(subnets), 1, 256},
    {"network", "port", F_U32, SC(port), 1, 65535},
    {"network", "ipv6_fraction", F_DOUBLE, SC(ipv6_fraction), 0, 1},
    {"network", "prefixes6", F_U32, SC(prefixes6), 0, 1e6},
    {"network", "subnets6", F_U32, SC(subnets6), 1, 256},
    {"network", "bandwidth", F_RATE2, SC(bw), 0, 0},
    {"network", "uplink", F_RATE, SC(bw.up_bps), 0, 0},
    {"network", "downlink", F_RATE, SC(bw.down_bps), 0, 0},
    {"network", "queue", F_U32, SC(bw.queue_bytes), DHT_MAX_DATAGRAM,
     SIM_QUEUE_MAX},
    {"join", "rate", F_DOUBLE, SC(join_rate), 0.001, 1e6},
    {"join", "start", F_DURATION, SC(join_start), 0, 30 * DAY},
    {"join", "seeds", F_U32, SC(join_seeds), 1, SIM_NODES_MAX},
    {"join", "bootstrap", F_BOOTSTRAP, SC(join_random), 0, 0},
    {"churn", "fraction", F_DOUBLE, SC(churn_fraction), 0, 1},
    {"churn", "start", F_DURATION, SC(churn_start), 0, 30 * DAY},
    {"churn", "uptime", F_DURATION, SC(churn_uptime), 1, 30 * DAY},
    {"churn", "downtime", F_DURATION, SC(churn_downtime), 1, 30 * DAY},
    {"workload", "start", F_DURATION, SC(work_start), 0, 30 * DAY},
    {"workload", "lookups", F_U32, SC(lookups), 0, 1e8},
    {"workload", "lookup_rate", F_DOUBLE, SC(lookup_rate), 0.001, 1e6},
    {"workload", "puts", F_U32, SC(puts), 0, 1e8},
    {"workload", "put_rate", F_DOUBLE, SC(put_rate), 0.001, 1e6},
    {"workload", "get_delay", F_DURATION, SC(get_delay), 0, 30 * DAY},
    {"workload", "value_size", F_U32, SC(value_size), 0, DHT_NOTE_VALUE_MAX},
    {"workload", "ttl", F_SECONDS, SC(ttl), 60, 7 * DAY},
    {"workload", "updates", F_U32, SC(updates), 0, 100},
    {"workload", "update_delay", F_DURATION, SC(update_delay), 0, 30 * DAY},
    {"dht", "k", F_UINT, SC(dht.k), 1, DHT_K_MAX},
    {"dht", "alpha", F_UINT, SC(dht.alpha), 1, 16},
    {"dht", "disjoint_paths", F_UINT, SC(dht.disjoint_paths), 1, DHT_PATHS_MAX},
    {"dht", "difficulty", F_UINT, SC(dht.difficulty), 0, SIM_DIFFICULTY_MAX},
    {"dht", "bucket_prefix_max", F_UINT, SC(dht.bucket_prefix_max), 1, 1e6},
    {"dht", "table_prefix_max", F_UINT, SC(dht.table_prefix_max), 1, 1e6},
    {"dht", "request_timeout", F_DURATION, SC(dht.request_timeout), 0.001,
     HOUR},
    {"dht", "refresh_interval", F_DURATION, SC(dht.refresh_interval), 1, DAY},
    {"dht", "replicate_interval", F_DURATION, SC(dht.replicate_interval), 1,
     DAY},
    {"dht", "republish_interval", F_DURATION, SC(dht.republish_interval), 1,
     DAY},
    {"dht", "clock_skew", F_DURATION, SC(dht.clock_skew), 1, DAY},
    {"dht", "rate_per_ip", F_U32, SC(dht.rate_per_ip), 1, 1e9},
    {"dht", "burst_per_ip", F_U32, SC(dht.burst_per_ip), 1, 1e9},
    {"dht", "author_max_records", F_U32, SC(dht.author_max_records), 1, 1e9},
    {"dht", "author_max_bytes", F_U32, SC(dht.author_max_bytes), 1, 4e9},
    {"dht", "store_max_bytes", F_U64, SC(dht.store_max_bytes), 1, 1e13},
    {"dht", "max_operations", F_U32, SC(dht.max_operations), 1, 1e6},
};

void sim_scenario_default(sim_scenario *sc) {
  memset(sc, 0, sizeof *sc);
  snprintf(sc->name, sizeof sc->name, "unnamed");
  sc->seed = 1;
  sc->duration = 180 * DHT_SEC;
  sc->sample_interval = DHT_SEC;
  sc->max_events = UINT64_C(10000000000);
  sc->max_pending = UINT64_C(200000000);
  sc->key_memo = 1;
  sc->nodes = 200;
  sim_latency_parse(&sc->latency, "lognormal 40ms 0.5");
  sc->jitter = 0.1;
  sc->subnets = 8;
  sc->port = 4433;
  sc->subnets6 = 8;
  sc->bw.queue_bytes = SIM_QUEUE_DEFAULT;
  sc->join_rate = 50;
  sc->join_seeds = 1;
  sc->join_random = 1;
  sc->churn_uptime = 1800 * DHT_SEC;
  sc->churn_downtime = 600 * DHT_SEC;
  sc->work_start = 60 * DHT_SEC;
  sc->lookup_rate = 10;
  sc->put_rate = 5;
  sc->get_delay = 10 * DHT_SEC;
  sc->value_size = 100;
  sc->ttl = 3600;
  sc->update_delay = 5 * DHT_SEC;
  dht_config_default(&sc->dht);
}

int sim_parse_duration(const char *text, dht_time *out) {
  static const struct {
    const char *suffix;
    double ns;
  } units[] = {{"", 1e9},     {"s", 1e9},    {"ms", 1e6},   {"us", 1e3},
               {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || errno != 0 || !(v >= 0.0))
    return SIM_ERR_SCENARIO;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix) != 0)
      continue;
    double ns = v * units[i].ns;
    if (ns > 1e18)
      return SIM_ERR_SCENARIO;
    *out = (dht_time)ns;
    return 0;
  }
  return SIM_ERR_SCENARIO;
}

/* ---- One value ---------------------------------------------------------- */

/* parse_double reads a decimal number inside [f->min, f->max]. */
static int parse_double(const field *f, const char *text, double *out) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(v >= f->min) || v > f->max)
    return SIM_ERR_SCENARIO;
  *out = v;
  return 0;
}

/* parse_count reads a whole number inside [f->min, f->max]: plain digits
 * keep all 64 bits (seeds), "1e5" notation is accepted for readability. */
static int parse_count(const field *f, const char *text, uint64_t *out) {
  char *end;
  double d;
  errno = 0;
  if (text[0] == '-')
    return SIM_ERR_SCENARIO;
  uint64_t v = strtoull(text, &end, 10);
  if (end != text && *end == '\0' && errno == 0) {
    if ((double)v < f->min || (double)v > f->max)
      return SIM_ERR_SCENARIO;
    *out = v;
    return 0;
  }
  if (parse_double(f, text, &d) != 0 || d != (double)(uint64_t)d)
    return SIM_ERR_SCENARIO;
  *out = (uint64_t)d;
  return 0;
}

static int set_number(const field *f, void *dst, const char *text) {
  uint64_t v;
  if (f->type == F_DOUBLE)
    return parse_double(f, text, (double *)dst);
  if (parse_count(f, text, &v) != 0)
    return SIM_ERR_SCENARIO;
  if (f->type == F_UINT)
    *(unsigned *)dst = (unsigned)v;
  else if (f->type == F_U32)
    *(uint32_t *)dst = (uint32_t)v;
  else
    *(uint64_t *)dst = v;
  return 0;
}

static int set_duration(const field *f, void *dst, const char *text) {
  dht_time t;
  if (sim_parse_duration(text, &t) != 0 || (double)t < f->min * 1e9 ||
      (double)t > f->max * 1e9)
    return SIM_ERR_SCENARIO;
  *(dht_time *)dst = t;
  return 0;
}

static int set_seconds(const field *f, void *dst, const char *text) {
  dht_time t;
  if (set_duration(f, &t, text) != 0)
    return SIM_ERR_SCENARIO;
  *(uint64_t *)dst = t / DHT_SEC;
  return 0;
}

static int set_value(const field *f, sim_scenario *sc, const char *text) {
  void *dst = (char *)sc + f->offset;
  switch (f->type) {
  case F_DURATION:
    return set_duration(f, dst, text);
  case F_SECONDS:
    return set_seconds(f, dst, text);
  case F_LATENCY:
    return sim_latency_parse(dst, text);
  case F_NAME:
    if (strlen(text) == 0 || strlen(text) >= SIM_NAME_MAX)
      return SIM_ERR_SCENARIO;
    memcpy(dst, text, strlen(text) + 1);
    return 0;
  case F_RATE:
    return sim_rate_parse(text, (uint64_t *)dst);
  case F_RATE2: {
    sim_bandwidth *bw = dst;
    int rv = sim_rate_parse(text, &bw->up_bps);
    bw->down_bps = bw->up_bps;
    return rv;
  }
  case F_BOOTSTRAP:
    if (strcmp(text, "random") != 0 && strcmp(text, "seeds") != 0)
      return SIM_ERR_SCENARIO;
    *(int *)dst = strcmp(text, "random") == 0;
    return 0;
  default:
    return set_number(f, dst, text);
  }
}

/* ---- The inih handler ---------------------------------------------------- */

typedef struct parse_state {
  sim_scenario *sc;
  char *err;
  size_t cap;
  int failed; /* first error already reported */
} parse_state;

static void fail(parse_state *ps, const char *fmt, ...) {
  va_list ap;
  if (ps->failed++)
    return; /* keep the first message */
  va_start(ap, fmt);
  vsnprintf(ps->err, ps->cap, fmt, ap);
  va_end(ap);
}

/* attack_name returns the plug-in name of "attack NAME" / "attack.NAME"
 * sections, or NULL for any other section. */
static const char *attack_name(const char *section) {
  if (strncmp(section, "attack", 6) != 0 ||
      (section[6] != ' ' && section[6] != '.'))
    return NULL;
  return section[7] != '\0' ? section + 7 : NULL;
}

static sim_attack_spec *attack_for(sim_scenario *sc, const char *name) {
  for (size_t i = 0; i < sc->n_attacks; i++)
    if (strcmp(sc->attacks[i].name, name) == 0)
      return &sc->attacks[i];
  if (sc->n_attacks == SIM_ATTACKS_MAX || strlen(name) >= SIM_NAME_MAX)
    return NULL;
  sim_attack_spec *a = &sc->attacks[sc->n_attacks++];
  memset(a, 0, sizeof *a);
  memcpy(a->name, name, strlen(name) + 1);
  return a;
}

static int add_attack_key(parse_state *ps, const char *name, const char *key,
                          const char *value) {
  sim_attack_spec *a = attack_for(ps->sc, name);
  if (a == NULL || a->n_keys == SIM_ATTACK_KEYS_MAX ||
      strlen(key) >= SIM_NAME_MAX || strlen(value) >= SIM_NAME_MAX) {
    fail(ps, "[attack %s] too many sections or keys, or too long", name);
    return 0;
  }
  memcpy(a->keys[a->n_keys], key, strlen(key) + 1);
  memcpy(a->values[a->n_keys], value, strlen(value) + 1);
  a->n_keys++;
  return 1;
}

/* [registry]: keys kept verbatim for sim/registry.c (registry scenarios). */
static int add_registry_key(parse_state *ps, const char *key,
                            const char *value) {
  sim_registry_spec *r = &ps->sc->registry;
  if (r->n_keys == SIM_REGISTRY_KEYS_MAX || strlen(key) >= SIM_NAME_MAX ||
      strlen(value) >= SIM_REGISTRY_VALUE_MAX) {
    fail(ps, "[registry] too many keys, or too long");
    return 0;
  }
  memcpy(r->keys[r->n_keys], key, strlen(key) + 1);
  memcpy(r->values[r->n_keys], value, strlen(value) + 1);
  r->n_keys++;
  r->present = 1;
  return 1;
}

static int handler(void *user, const char *section, const char *key,
                   const char *value) {
  parse_state *ps = user;
  const char *attack = attack_name(section);
  if (attack != NULL)
    return add_attack_key(ps, attack, key, value);
  if (strcmp(section, "registry") == 0)
    return add_registry_key(ps, key, value);
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const field *f = &fields[i];
    if (strcmp(f->section, section) != 0 || strcmp(f->key, key) != 0)
      continue;
    if (set_value(f, ps->sc, value) == 0)
      return 1;
    fail(ps, "[%s] %s: bad value \"%s\"", section, key, value);
    return 0;
  }
  fail(ps, "unknown key [%s] %s", section, key);
  return 0;
}

/* finish turns inih's result into our error code and message. */
static int finish(parse_state *ps, int rv, const char *where) {
  char msg[256];
  if (rv == 0)
    return 0;
  if (rv == -1) {
    snprintf(ps->err, ps->cap, "%s: cannot open", where);
    return SIM_ERR_IO;
  }
  if (!ps->failed)
    snprintf(ps->err, ps->cap, "syntax error");
  snprintf(msg, sizeof msg, "%s:%d: %s", where, rv, ps->err);
  snprintf(ps->err, ps->cap, "%s", msg);
  return SIM_ERR_SCENARIO;
}

int sim_scenario_load(sim_scenario *sc, const char *path, char *err,
                      size_t cap) {
  parse_state ps = {sc, err, cap, 0};
  if (cap > 0)
    err[0] = '\0';
  return finish(&ps, ini_parse(path, handler, &ps), path);
}

int sim_scenario_parse_string(sim_scenario *sc, const char *text, char *err,
                              size_t cap) {
  parse_state ps = {sc, err, cap, 0};
  if (cap > 0)
    err[0] = '\0';
  int rv = finish(&ps, ini_parse_string(text, handler, &ps), "<string>");
  return rv == SIM_ERR_IO ? SIM_ERR_SCENARIO : rv;
}

/* ---- Whole-scenario rules ----------------------------------------------- */

static int reject(char *err, size_t cap, const char *msg) {
  snprintf(err, cap, "%s", msg);
  return SIM_ERR_SCENARIO;
}

int sim_scenario_check(const sim_scenario *sc, char *err, size_t cap) {
  if (sc->nodes == 0 || sc->nodes > SIM_NODES_MAX)
    return reject(err, cap, "[network] nodes out of range");
  if (sc->join_seeds > sc->nodes)
    return reject(err, cap, "[join] seeds exceeds [network] nodes");
  if (sc->dht.k == 0 || sc->dht.k > DHT_K_MAX || sc->dht.alpha == 0)
    return reject(err, cap, "[dht] k or alpha out of range");
  if (sc->dht.disjoint_paths == 0 || sc->dht.disjoint_paths > DHT_PATHS_MAX)
    return reject(err, cap, "[dht] disjoint_paths out of range");
  if (sc->dht.difficulty > SIM_DIFFICULTY_MAX)
    return reject(err, cap, "[dht] difficulty too high for a simulation");
  if (sc->puts > 0 && sc->nodes < 2)
    return reject(err, cap, "[workload] puts need at least two nodes");
  if (sc->sample_interval == 0 || sc->duration == 0)
    return reject(err, cap, "[scenario] duration and interval must be > 0");
  if (sc->bw.queue_bytes < DHT_MAX_DATAGRAM)
    return reject(err, cap, "[network] queue below one datagram");
  int rv = sim_attack_check(sc, err, cap);
  return rv != 0 ? rv : sim_registry_check(sc, err, cap);
}
