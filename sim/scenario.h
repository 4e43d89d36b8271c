/*
 * Scenario files: what a simulation runs. A scenario is an INI file
 * (parsed with inih) whose sections are [scenario], [network], [join],
 * [churn], [workload], [dht] and, reserved for behaviour plug-ins,
 * [attack NAME]. docs/SIMULATOR.md documents every key; sim/scenarios/
 * holds examples. Unknown sections and keys are errors, so a typo never
 * silently runs the default.
 *
 * Units: durations take a suffix (ms, s, min, h; a bare number is
 * seconds), rates are per simulated second, latencies are described in
 * vnet.h ("lognormal 40ms 0.5").
 */
#ifndef NOINTRUDE_SIM_SCENARIO_H
#define NOINTRUDE_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/dht.h>

#include "vnet.h"

#define SIM_NAME_MAX 64
#define SIM_ATTACKS_MAX 8
#define SIM_ATTACK_KEYS_MAX 16
#define SIM_NODES_MAX 2000000u
#define SIM_DIFFICULTY_MAX 24 /* each identity costs 2^difficulty hashes */

/* One [attack NAME] section, kept verbatim for its plug-in. */
typedef struct sim_attack_spec {
  char name[SIM_NAME_MAX];
  size_t n_keys;
  char keys[SIM_ATTACK_KEYS_MAX][SIM_NAME_MAX];
  char values[SIM_ATTACK_KEYS_MAX][SIM_NAME_MAX];
} sim_attack_spec;

/* ---- [registry] (sim/registry.c; owner: the registry scenarios) ---- */
#define SIM_REGISTRY_KEYS_MAX 48
#define SIM_REGISTRY_VALUE_MAX 128
/* The [registry] section, kept verbatim for sim/registry.c. */
typedef struct sim_registry_spec {
  int present; /* the scenario has a [registry] section */
  size_t n_keys;
  char keys[SIM_REGISTRY_KEYS_MAX][SIM_NAME_MAX];
  char values[SIM_REGISTRY_KEYS_MAX][SIM_REGISTRY_VALUE_MAX];
} sim_registry_spec;
/* ---- end [registry] ---- */

typedef struct sim_scenario {
  /* [scenario] */
  char name[SIM_NAME_MAX];
  uint64_t seed;            /* default seed, --seed overrides */
  dht_time duration;        /* simulated run time, ns */
  dht_time sample_interval; /* time series row every, ns */
  uint64_t max_events;      /* hard cap on events processed */
  uint64_t max_pending;     /* hard cap on events queued at once */
  unsigned key_memo;        /* 1: memoise pair keys (keys.c), 0: derive */
  unsigned key_model;       /* 1: modelled pair keys (keys.c), no X25519 */
  /* [network] */
  uint32_t nodes;
  sim_latency latency; /* one-way base delay per link */
  double jitter;       /* per-datagram extra, fraction of the base */
  double loss;         /* per-datagram loss probability */
  uint32_t prefixes;   /* distinct /16 prefixes of honest nodes */
  uint32_t subnets;    /* /24 subnets used in each /16 */
  uint32_t port;       /* UDP port nodes prefer */
  double ipv6_fraction; /* share of honest nodes with an IPv6 address */
  uint32_t prefixes6;   /* distinct /32 prefixes of honest v6 nodes */
  uint32_t subnets6;    /* /48 subnets used in each /32 */
  sim_bandwidth bw;     /* honest nodes' access links (0 = unlimited) */
  /* [join] */
  double join_rate;    /* nodes per second */
  dht_time join_start; /* first node starts at, ns after t0 */
  uint32_t join_seeds; /* first nodes acting as bootstrap seeds */
  int join_random;     /* 1: bootstrap via any joined node */
  /* [churn] */
  double churn_fraction;   /* share of nodes that come and go */
  dht_time churn_start;    /* churn begins at, ns after t0 */
  dht_time churn_uptime;   /* mean session, ns (exponential) */
  dht_time churn_downtime; /* mean absence, ns (exponential) */
  /* [workload] */
  dht_time work_start; /* workload begins at, ns after t0 */
  uint32_t lookups;    /* lookups of live node IDs */
  double lookup_rate;  /* per second, Poisson */
  uint32_t puts;       /* notes put, each read back once */
  double put_rate;     /* per second, Poisson */
  dht_time get_delay;  /* get issued this long after a put completes */
  uint32_t value_size; /* bytes of each note's value */
  uint64_t ttl;        /* seconds a note lives */
  uint32_t updates;    /* times each note is re-put with a higher seq */
  dht_time update_delay; /* between a put's completion and the update */
  /* [dht] */
  dht_config dht; /* dht_config_default() plus overrides */
  /* [attack NAME] */
  sim_attack_spec attacks[SIM_ATTACKS_MAX];
  size_t n_attacks;
  /* [registry] (sim/registry.c) */
  sim_registry_spec registry;
} sim_scenario;

/* sim_scenario_default fills |sc| with the defaults documented in
 * docs/SIMULATOR.md (a 200-node honest network). */
void sim_scenario_default(sim_scenario *sc);

/* sim_scenario_load parses the INI file |path| over the defaults. On
 * failure it writes a message naming the line and key to |err| (|cap|
 * bytes). Returns 0, SIM_ERR_IO or SIM_ERR_SCENARIO. */
int sim_scenario_load(sim_scenario *sc, const char *path, char *err,
                      size_t cap);

/* sim_scenario_parse_string is sim_scenario_load for INI text in memory.
 * Returns 0 or SIM_ERR_SCENARIO. */
int sim_scenario_parse_string(sim_scenario *sc, const char *text, char *err,
                              size_t cap);

/* sim_scenario_check validates ranges and cross-field rules (call after
 * command-line overrides). Writes a message to |err| on failure. Returns
 * 0 or SIM_ERR_SCENARIO. */
int sim_scenario_check(const sim_scenario *sc, char *err, size_t cap);

/* sim_parse_duration reads "250ms", "30s", "5min", "2h" or a bare number
 * of seconds into |out| (ns). Returns 0 or SIM_ERR_SCENARIO. */
int sim_parse_duration(const char *text, dht_time *out);

#endif /* NOINTRUDE_SIM_SCENARIO_H */
