/*
 * The registry in the simulator: a reg_node (nointrude/registry.h) beside
 * every simulated dht_node, driven exactly as the daemon drives its one
 * (the DHT's app_message hook hands relayed opt-outs to
 * reg_node_handle_app_message, the registry's record types go into
 * dht_config.types, the host's single timer covers the earlier of the two
 * deadlines and expiry calls whichever is due), plus the scripted actors
 * of the registry experiments, selected by a [registry] section:
 *
 *   anonymity  opt-outs relayed Crowds-style, every sighting of a sealed
 *              opt-out logged, the predecessor attack of c colluding
 *              relays measured against the Crowds bound;
 *   flood      a flooder publishing fake batches (random entries, too
 *              little proof of work, missing or garbled chunks, bare index
 *              records) and what it costs both sides;
 *   planted    an attacker trying to aim opt-outs, evidence and
 *              escalation at an innocent bystander.
 *
 * Without a [registry] section nothing here runs and the world is the
 * plain DHT simulator. docs/SIMULATOR.md ("Registry scenarios") lists the
 * keys and the figures.
 */
#ifndef NOINTRUDE_SIM_REGISTRY_H
#define NOINTRUDE_SIM_REGISTRY_H

#include <jansson.h>

#include <nointrude/dht.h>

#include "scenario.h"

struct sim_world;
struct sim_host;
struct sim_event;

/* sim_registry_check validates the [registry] section of |sc| (known
 * keys, ranges, host indices inside the network). Writes a message to
 * |err| (|cap| bytes) on failure. Returns 0 or SIM_ERR_SCENARIO. */
int sim_registry_check(const sim_scenario *sc, char *err, size_t cap);

/* sim_registry_init parses the section, registers the registry's record
 * types in w->sc.dht and derives the sender keys. Call before the attack
 * plug-ins copy the DHT configuration. No-op without [registry].
 * Returns 0, SIM_ERR_SCENARIO, SIM_ERR_NOMEM or SIM_ERR_IDENTITY. */
int sim_registry_init(struct sim_world *w);

/* sim_registry_assign gives hosts their registry roles (protectors,
 * flooder, attacker, bystander; per-host DHT configuration where a role
 * needs one) and queues the experiment's events. Call once the hosts
 * exist. Returns 0 or SIM_ERR_NOMEM. */
int sim_registry_assign(struct sim_world *w);

/* sim_registry_env sets the registry's hooks (app_message, store_put) in
 * the dht_env of |h| before its node is created. */
void sim_registry_env(struct sim_world *w, struct sim_host *h, dht_env *env);

/* sim_registry_host_start creates |h|'s reg_node once its dht_node
 * exists and protects the host's addresses. Returns 0 or SIM_ERR_NODE. */
int sim_registry_host_start(struct sim_world *w, struct sim_host *h);

/* sim_registry_host_stop frees |h|'s reg_node (before its dht_node). */
void sim_registry_host_stop(struct sim_host *h);

/* sim_registry_deadline returns the earlier of |dht_deadline| and the
 * registry's deadline of |h|; a registry deadline still due right after
 * an expiry call waits 1 ms (as in the daemon), so it cannot spin. */
dht_time sim_registry_deadline(const struct sim_host *h,
                               dht_time dht_deadline);

/* sim_registry_expiry runs |h|'s timers the daemon's way: the DHT's
 * handle_expiry if due, then the registry's if due. */
void sim_registry_expiry(struct sim_world *w, struct sim_host *h);

/* sim_registry_on_event runs a scripted registry action (SIM_EV_REGISTRY). */
void sim_registry_on_event(struct sim_world *w, const struct sim_event *ev);

/* sim_registry_json returns the "registry" object of the summary
 * (deterministic), or NULL without [registry]. */
json_t *sim_registry_json(struct sim_world *w);

/* sim_registry_host_json returns the registry's non-deterministic figures
 * (CPU time spent building batches), or NULL. */
json_t *sim_registry_host_json(struct sim_world *w);

/* sim_registry_write_files writes the experiment's tables into |dir|
 * (anonymity: anonymity.csv). Returns 0 or SIM_ERR_IO. */
int sim_registry_write_files(struct sim_world *w, const char *dir);

/* sim_registry_free frees every reg_node and the registry's state; call
 * before the DHT nodes are freed. NULL-safe. */
void sim_registry_free(struct sim_world *w);

#endif /* NOINTRUDE_SIM_REGISTRY_H */
