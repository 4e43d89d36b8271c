/*
 * The simulated world: N DHT nodes in one process, each driven exactly as
 * the daemon drives one (dht_node_handle_datagram / next_datagram /
 * next_deadline / handle_expiry, dht_env with a random hook), over the
 * virtual network of vnet.h, under the join, churn and workload schedule
 * of a scenario. Everything is a function of the scenario and its seed.
 */
#ifndef NOINTRUDE_SIM_WORLD_H
#define NOINTRUDE_SIM_WORLD_H

#include <stdint.h>
#include <stdio.h>

#include <nointrude/dht.h>

#include "scenario.h"

/* Simulated time starts at 2026-01-01T00:00:00Z (records carry absolute
 * Unix times, so the clock must look like a real one). */
#define SIM_EPOCH ((dht_time)1767225600 * DHT_SEC)

typedef struct sim_world sim_world;

/* Progress report: simulated |now| and |end| (ns) and |events| processed. */
typedef void (*sim_progress_fn)(void *arg, dht_time now, dht_time end,
                                uint64_t events);

/* sim_world_new builds the world for |sc| (checked with
 * sim_scenario_check) with run seed |seed|. Node log lines go to |log|
 * (NULL = nodes are silent). Returns 0, SIM_ERR_SCENARIO, SIM_ERR_NOMEM,
 * SIM_ERR_ADDRESSES or SIM_ERR_INVALID_ARGUMENT. */
int sim_world_new(sim_world **out, const sim_scenario *sc, uint64_t seed,
                  FILE *log);

/* sim_world_free releases every node and buffer of |w| (NULL: no-op). */
void sim_world_free(sim_world *w);

/* sim_world_run processes events until the scenario's duration has
 * passed, calling |fn| (may be NULL) every 1024 events. Returns 0,
 * SIM_ERR_LIMIT (max_events or max_pending hit: the run stopped early),
 * SIM_ERR_NOMEM, SIM_ERR_IDENTITY or SIM_ERR_NODE. */
int sim_world_run(sim_world *w, sim_progress_fn fn, void *arg);

/* sim_world_now returns the simulated clock (ns since the Unix epoch). */
dht_time sim_world_now(const sim_world *w);

/* sim_world_events returns the number of events processed so far. */
uint64_t sim_world_events(const sim_world *w);

#endif /* NOINTRUDE_SIM_WORLD_H */
