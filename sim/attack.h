/*
 * Attack plug-ins: adversarial simulated nodes that run the same DHT code
 * with a twist (dht_env.behaviour) or drive it hostilely, selected by
 * [attack NAME] sections of a scenario (docs/SIMULATOR.md lists the keys):
 *
 *   sybil    count extra identities from few IP prefixes, paying the puzzle
 *   eclipse  count identities mined to share `bits` ID bits with a victim
 *            (its node ID, or the key of its note), optionally probed by
 *            honest lookups and gets of that target
 *   routing  a fraction of the nodes answers NODES/VALUES with colluders
 *            only (optionally a sweep: the S/Kademlia experiment)
 *   storage  a fraction of the nodes drops STOREs (acknowledging them),
 *            withholds values, serves forged records or stale versions
 *   flooder  count extra hosts sending garbage, requests or stores at
 *            `rate` per second each to `victims` honest nodes, whose
 *            memory is followed against a control group
 *
 * A section may be named NAME-LABEL (e.g. [attack flooder-garbage]) to run
 * several instances of one plug-in; figures are keyed by the full name.
 */
#ifndef NOINTRUDE_SIM_ATTACK_H
#define NOINTRUDE_SIM_ATTACK_H

#include <jansson.h>
#include <stdint.h>

#include "scenario.h"

struct sim_world;
struct sim_event;

/* sim_attack_check validates the [attack] sections of |sc| (known
 * plug-ins, known keys, ranges). Writes a message to |err| on failure.
 * Returns 0 or SIM_ERR_SCENARIO. */
int sim_attack_check(const sim_scenario *sc, char *err, size_t cap);

/* sim_attack_extra_hosts returns how many hosts the attacks add to the
 * scenario's honest nodes. */
uint32_t sim_attack_extra_hosts(const sim_scenario *sc);

/* sim_attack_json returns the per-attack figures of the summary (an
 * object keyed by plug-in name; empty without attacks). */
json_t *sim_attack_json(struct sim_world *w);

/* sim_attack_has_sweep returns 1 if the attacks write files of their
 * own: the S/Kademlia sweep (a routing attack with fraction_step) or a
 * flooder's memory series. */
int sim_attack_has_sweep(const struct sim_world *w);

/* sim_attack_write_sweep writes the attacks' own files: with the sweep,
 * DIR/skademlia.csv and, if |plot|, DIR/skademlia.gp and .png (gnuplot);
 * with flooders, DIR/flood_memory.csv (and .gp, .png). Returns 0 or
 * SIM_ERR_IO. */
int sim_attack_write_sweep(struct sim_world *w, const char *dir, int plot);

#endif /* NOINTRUDE_SIM_ATTACK_H */
