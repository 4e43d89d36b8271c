/*
 * Internal to the attack plug-ins: what attack.c (parsing, hooks,
 * actions, figures) and probe.c (the measurements some plug-ins make:
 * the eclipse plug-in's victim lookups and gets, flood victims' memory
 * over time) share. Nothing else includes this.
 */
#ifndef NOINTRUDE_SIM_ATTACK_INT_H
#define NOINTRUDE_SIM_ATTACK_INT_H

#include <jansson.h>
#include <stdint.h>

#include "world_int.h"

#define NO_HOST UINT32_MAX

enum atk_kind { ATK_SYBIL, ATK_ECLIPSE, ATK_ROUTING, ATK_STORAGE, ATK_FLOODER };
enum { MODE_DROP, MODE_WITHHOLD, MODE_FORGE, MODE_STALE }; /* storage */
enum { FLOOD_GARBAGE, FLOOD_REQUESTS, FLOOD_STORES };      /* flooder */
enum { ECL_NODE, ECL_NOTE };                               /* eclipse */
/* Actions: aux >> 32 of a SIM_EV_ATTACK event (aux & 0xffffffff is the
 * action's argument). */
enum { ACT_START, ACT_FLOOD, ACT_SWEEP, ACT_PUT, ACT_PROBE };

/* One victim lookup or get of the eclipse plug-in (callback argument). */
typedef struct ecl_op {
  struct sim_world *w;
  sim_atk *a;
  uint32_t expect; /* lookups: honest host closest to the target */
  uint16_t point;  /* lookups: index into a->paths */
} ecl_op;

/* Figures of the victim lookups over one number of paths. */
typedef struct ecl_point {
  uint64_t done, ok;  /* completed (or refused), found the expected host */
  uint64_t answered;  /* returned at least one contact */
  uint64_t eclipsed;  /* returned only eclipse nodes */
  double share_sum;   /* sum of the eclipse nodes' share of each result */
} ecl_point;

/* Memory of flood victims and of a control group, one row per sample. */
typedef struct mem_series {
  double *t;       /* sample time, s since the start */
  uint64_t *bytes; /* per row: victims, then controls (dht_node_mem) */
  size_t rows, cap;
} mem_series;

/* attack.c's per-attack state beyond sim_atk (sim_atk.more). */
struct sim_atk_more {
  struct sim_world *w;
  sim_atk *a;
  sim_rng rng; /* eclipse: sources of the probes, the note's value */
  /* eclipse, note mode: the target note */
  uint8_t key[DHT_KEY_LEN];
  int key_set;
  uint8_t *note;
  size_t note_len;
  int note_status; /* 0 = not put yet, 1 = acknowledged, -1 = failed */
  unsigned note_stored;
  /* eclipse probes */
  ecl_op *ops; /* lookups (per_point x n_paths), then gets */
  size_t n_ops;
  ecl_point pts[DHT_PATHS_MAX];
  uint64_t gets_started, gets_ok, gets_failed, gets_wrong;
  /* flooder */
  uint32_t *control; /* honest hosts not flooded, as many as victims */
  int grouped;       /* victims and control chosen (at the first start) */
  double before_victims, before_control; /* mean memory when chosen */
  mem_series mem;    /* from the first sample after they were chosen */
  uint64_t lookups_ok0, lookups_failed0; /* workload totals at the start */
};

/* sim_attack_push queues action |act| with argument |arg| of attack
 * |idx| at |t|. */
void sim_attack_push(struct sim_world *w, size_t idx, dht_time t,
                     unsigned act, uint32_t arg);

/* sim_attack_gnuplot runs gnuplot on the script at |path| and waits for
 * it. Returns 0 or SIM_ERR_IO. */
int sim_attack_gnuplot(char *path);

/* ---- probe.c ---- */

/* sim_probe_init allocates |a|'s extra state (eclipse and flooder
 * attacks only). Returns 0 or SIM_ERR_NOMEM. */
int sim_probe_init(struct sim_world *w, sim_atk *a);
/* sim_probe_free releases |a|'s extra state. */
void sim_probe_free(sim_atk *a);
/* sim_probe_target returns the ID an eclipse attack mines near: the
 * victim's node ID, or in note mode the key of the victim's note. */
const uint8_t *sim_probe_target(struct sim_world *w, sim_atk *a);
/* sim_probe_schedule queues an eclipse attack's note put (note mode, at
 * put_at) once the hosts exist. */
void sim_probe_schedule(struct sim_world *w, size_t idx);
/* sim_probe_start runs at an attack's start: eclipse probes begin; a
 * flooder notes the workload totals and, the first one to start, chooses
 * every flooder's victims and control group (see probe.c). */
void sim_probe_start(struct sim_world *w, size_t idx);
/* sim_probe_on_put puts the eclipse victim's note (ACT_PUT). */
void sim_probe_on_put(struct sim_world *w, size_t idx);
/* sim_probe_on_probe runs eclipse probe |i| (ACT_PROBE). */
void sim_probe_on_probe(struct sim_world *w, size_t idx, uint32_t i);
/* sim_probe_eclipse_json adds the probes' figures to |o|. */
void sim_probe_eclipse_json(struct sim_world *w, const sim_atk *a, json_t *o);
/* sim_probe_flood_json adds the memory and lookup figures to |o|. */
void sim_probe_flood_json(struct sim_world *w, const sim_atk *a, json_t *o);
/* sim_probe_has_flood returns 1 if a flooder recorded a memory series. */
int sim_probe_has_flood(const struct sim_world *w);
/* sim_probe_write_flood writes DIR/flood_memory.csv and, if |plot|,
 * DIR/flood_memory.gp and .png. Returns 0 or SIM_ERR_IO. */
int sim_probe_write_flood(struct sim_world *w, const char *dir, int plot);

#endif /* NOINTRUDE_SIM_ATTACK_INT_H */
