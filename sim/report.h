/*
 * Results of a simulation: the JSON summary (jansson) and the CSV time
 * series. The summary is deterministic (a function of scenario and seed)
 * except for the "host" object, which holds wall-clock and memory figures
 * of the machine that ran it; compare runs with "host" removed.
 */
#ifndef NOINTRUDE_SIM_REPORT_H
#define NOINTRUDE_SIM_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "world.h"

/* Measurements of the run on this machine. */
typedef struct sim_host_figures {
  double wall_s;         /* wall-clock seconds of sim_world_run */
  double setup_s;        /* wall-clock seconds of sim_world_new */
  size_t peak_rss_bytes; /* getrusage maximum resident set, 0 = unknown */
} sim_host_figures;

/* sim_report_summary builds the deterministic summary of |w| (after
 * sim_world_run; |status| is its return code). Returns a new reference or
 * NULL when out of memory. */
json_t *sim_report_summary(sim_world *w, int status);

/* sim_report_host builds the "host" object (wall time, events per second,
 * memory per node and how it was measured). Returns a new reference or
 * NULL. */
json_t *sim_report_host(sim_world *w, const sim_host_figures *fig);

/* sim_report_write_csv writes the time series of |w| to |out|, one row per
 * sample interval. Returns 0 or SIM_ERR_IO. */
int sim_report_write_csv(const sim_world *w, FILE *out);

/* sim_report_write_nodes writes one CSV row per host of |w| (index,
 * address, state, contacts, records, datagrams and bytes sent and
 * received, datagrams dropped) to |out|. Returns 0 or SIM_ERR_IO. */
int sim_report_write_nodes(const sim_world *w, FILE *out);

/* sim_report_dumps serialises |summary| the way summary.json is written
 * (sorted keys, two-space indent, 12 significant digits). Returns a
 * malloc'ed string or NULL. */
char *sim_report_dumps(const json_t *summary);

#endif /* NOINTRUDE_SIM_REPORT_H */
