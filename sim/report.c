/*
 * The JSON summary and the CSV time series of a finished simulation.
 *
 * Every figure in the summary except the "host" object is computed from
 * simulated state only, so two runs of one scenario and seed produce the
 * same bytes (sorted keys, fixed real precision). Percentiles are nearest
 * rank over successful operations; latencies are measured by the
 * simulator's clock from the API call to the completion callback.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "attack.h"
#include "registry.h"
#include "sim.h"
#include "world_int.h"

#define J(v) ((json_int_t)(v))

/* ---- Helpers ------------------------------------------------------------- */

static double mean_of(const sim_values *v) {
  double sum = 0.0;
  for (size_t i = 0; i < v->len; i++)
    sum += v->v[i];
  return v->len ? sum / (double)v->len : 0.0;
}

/* dist summarises |v| as {count, min, mean, p50, p90, p99, max}. */
static json_t *dist(sim_values *v) {
  double mean = mean_of(v);
  return json_pack(
      "{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count", J(v->len), "min",
      sim_values_percentile(v, 0), "mean", mean, "p50",
      sim_values_percentile(v, 50), "p90", sim_values_percentile(v, 90), "p99",
      sim_values_percentile(v, 99), "max", sim_values_percentile(v, 100));
}

/* errors_json maps each nonzero failure slot to its count, keyed by the
 * DHT_ERR_* name; |missed| (if not NULL) adds "missed_target". */
static json_t *errors_json(const uint64_t slots[SIM_ERR_SLOTS],
                           const uint64_t *missed) {
  static const struct {
    int code;
    const char *name;
  } names[] = {
#define SIM_ERR_NAME(name, value, text) {value, #name},
      DHT_ERRORS(SIM_ERR_NAME)
#undef SIM_ERR_NAME
  };
  json_t *o = json_object();
  for (int i = 0; o != NULL && i < SIM_ERR_SLOTS; i++) {
    const char *name = "other";
    if (slots[i] == 0)
      continue;
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
      if (i < SIM_ERR_SLOTS - 1 && names[j].code == -101 - i)
        name = names[j].name;
    json_object_set_new(o, name, json_integer(J(slots[i])));
  }
  if (o != NULL && missed != NULL)
    json_object_set_new(o, "missed_target", json_integer(J(*missed)));
  return o;
}

static double ratio(uint64_t a, uint64_t b) {
  return b ? (double)a / (double)b : 0.0;
}

/* Per-node totals over every host that ever started. */
typedef struct node_totals {
  sim_values tx_datagrams, tx_bytes, rx_datagrams, rx_bytes, contacts;
  sim_values engine_bytes; /* dht_node_mem of each node up */
  uint64_t dropped[DHT_DROP_COUNT];
  uint64_t engine_lookups_ok, engine_lookups_failed, requests_in;
  uint64_t records, record_bytes, below_k;
} node_totals;

static int add_host(node_totals *t, const sim_host *h, unsigned k) {
  sim_traffic tr = h->past;
  dht_stats st;
  int rv = 0;

  if (h->state == SIM_HOST_UP) {
    dht_node_stats(h->node, &st);
    tr.tx_datagrams += st.tx_datagrams;
    tr.tx_bytes += st.tx_bytes;
    tr.rx_datagrams += st.rx_datagrams;
    tr.rx_bytes += st.rx_bytes;
    for (int i = 0; i < DHT_DROP_COUNT; i++)
      t->dropped[i] += st.dropped[i];
    t->engine_lookups_ok += st.lookups_ok;
    t->engine_lookups_failed += st.lookups_failed;
    t->requests_in += st.requests_in;
    t->records += st.records;
    t->record_bytes += st.record_bytes;
    t->below_k += st.contacts < k;
    rv |= sim_values_add(&t->contacts, (double)st.contacts);
    rv |= sim_values_add(&t->engine_bytes, (double)dht_node_mem(h->node));
  }
  rv |= sim_values_add(&t->tx_datagrams, (double)tr.tx_datagrams);
  rv |= sim_values_add(&t->tx_bytes, (double)tr.tx_bytes);
  rv |= sim_values_add(&t->rx_datagrams, (double)tr.rx_datagrams);
  rv |= sim_values_add(&t->rx_bytes, (double)tr.rx_bytes);
  return rv;
}

static void totals_free(node_totals *t) {
  sim_values_free(&t->tx_datagrams);
  sim_values_free(&t->tx_bytes);
  sim_values_free(&t->rx_datagrams);
  sim_values_free(&t->rx_bytes);
  sim_values_free(&t->contacts);
  sim_values_free(&t->engine_bytes);
}

static int gather(const sim_world *w, node_totals *t) {
  memset(t, 0, sizeof *t);
  memcpy(t->dropped, w->c.dropped, sizeof t->dropped);
  t->engine_lookups_ok = w->c.engine_lookups_ok;
  t->engine_lookups_failed = w->c.engine_lookups_failed;
  for (uint32_t i = 0; i < w->n_hosts; i++)
    if (w->hosts[i].state != SIM_HOST_IDLE &&
        add_host(t, &w->hosts[i], w->sc.dht.k) != 0)
      return SIM_ERR_NOMEM;
  return 0;
}

/* ---- Sections ------------------------------------------------------------ */

/* links_json adds the optional network features to |o|: the IPv6 share
 * and prefixes, the access-link limits (only when set). */
static json_t *links_json(const sim_world *w, json_t *o) {
  const sim_scenario *sc = &w->sc;
  char up[32], down[32];
  if (o != NULL && sc->ipv6_fraction > 0) {
    json_object_set_new(o, "ipv6_fraction", json_real(sc->ipv6_fraction));
    json_object_set_new(o, "prefixes32", json_integer(J(w->pool.n32)));
    json_object_set_new(o, "subnets48", json_integer(J(w->pool.n_subnets6)));
  }
  if (o != NULL && (sc->bw.up_bps > 0 || sc->bw.down_bps > 0)) {
    sim_rate_format(up, sizeof up, sc->bw.up_bps);
    sim_rate_format(down, sizeof down, sc->bw.down_bps);
    json_object_set_new(o, "bandwidth",
                        json_pack("{s:s, s:s, s:I}", "uplink", up, "downlink",
                                  down, "queue_bytes", J(sc->bw.queue_bytes)));
  }
  return o;
}

static json_t *scenario_json(const sim_world *w) {
  const sim_scenario *sc = &w->sc;
  char lat[64];
  sim_latency_format(lat, sizeof lat, &sc->latency);
  return links_json(w, json_pack(
      "{s:s, s:I, s:I, s:f, s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
      "name", sc->name, "seed", J(w->seed), "nodes", J(sc->nodes), "duration_s",
      (double)sc->duration / 1e9, "latency", lat, "jitter", sc->jitter, "loss",
      sc->loss, "prefixes16", J(w->pool.n16), "subnets24", J(w->pool.n_subnets),
      "k", J(sc->dht.k), "alpha", J(sc->dht.alpha), "disjoint_paths",
      J(sc->dht.disjoint_paths), "difficulty", J(sc->dht.difficulty)));
}

static json_t *run_json(const sim_world *w, int status) {
  const sim_counters *c = &w->c;
  return json_pack("{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                   "status", status == 0 ? "completed" : sim_strerror(status),
                   "simulated_s", (double)(w->q.now - w->t0) / 1e9, "events",
                   J(w->q.popped), "nodes_up", J(w->n_up), "joins", J(c->joins),
                   "leaves", J(c->leaves), "rejoins", J(c->rejoins),
                   "bootstrap_errors", J(c->bootstrap_errors), "timers_fired",
                   J(c->timers_fired), "timers_stale", J(c->timers_stale));
}

static json_t *network_json(const sim_world *w) {
  const sim_vnet_stats *s = &w->net.stats;
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "datagrams",
                   J(s->sent), "bytes", J(s->bytes), "lost", J(s->lost),
                   "undeliverable", J(s->undeliverable), "to_down_host",
                   J(w->c.to_down_host), "queue_drop_up", J(s->queue_drop_up),
                   "queue_drop_down", J(s->queue_drop_down));
}

static json_t *lookups_json(sim_world *w) {
  const sim_counters *c = &w->c;
  uint64_t done = c->lookups_ok + c->lookups_failed;
  uint64_t pending = c->lookups_started - done - c->lookups_aborted;
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:f, s:o, s:o}",
                   "planned", J(w->sc.lookups), "started",
                   J(c->lookups_started), "busy", J(c->lookups_busy), "ok",
                   J(c->lookups_ok), "failed", J(c->lookups_failed),
                   "failed_by",
                   errors_json(c->lookup_errors, &c->lookups_missed), "aborted",
                   J(c->lookups_aborted), "pending", J(pending), "success_rate",
                   ratio(c->lookups_ok, done), "hops", dist(&w->lookup_hops),
                   "latency_ms", dist(&w->lookup_ms));
}

static json_t *records_json(sim_world *w) {
  const sim_counters *c = &w->c;
  uint64_t puts_done = c->puts_ok + c->puts_failed;
  uint64_t gets_done = c->gets_ok + c->gets_failed + c->gets_wrong +
                       c->gets_stale;
  json_t *puts = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:o}", "planned", J(w->sc.puts),
      "started", J(c->puts_started), "busy", J(c->puts_busy), "ok",
      J(c->puts_ok), "failed", J(c->puts_failed), "aborted", J(c->puts_aborted),
      "success_rate", ratio(c->puts_ok, puts_done), "storers_mean",
      ratio(c->put_stored_sum, puts_done), "latency_ms", dist(&w->put_ms));
  json_t *gets = json_pack(
      "{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:f, s:o, s:o}", "started",
      J(c->gets_started), "busy", J(c->gets_busy), "ok", J(c->gets_ok),
      "failed", J(c->gets_failed), "failed_by",
      errors_json(c->get_errors, NULL), "wrong", J(c->gets_wrong), "aborted",
      J(c->gets_aborted), "success_rate", ratio(c->gets_ok, gets_done), "hops",
      dist(&w->get_hops), "latency_ms", dist(&w->get_ms));
  if (gets != NULL && puts != NULL && w->sc.updates > 0) {
    json_object_set_new(gets, "stale", json_integer(J(c->gets_stale)));
    json_object_set_new(gets, "saw_stale", json_integer(J(c->gets_saw_stale)));
    json_object_set_new(
        puts, "updates",
        json_pack("{s:I, s:I, s:I, s:I}", "started", J(c->updates_started),
                  "busy", J(c->updates_busy), "ok", J(c->updates_ok), "failed",
                  J(c->updates_failed)));
  }
  return json_pack("{s:o, s:o, s:I}", "puts", puts, "gets", gets, "lost",
                   J(c->records_lost));
}

static json_t *dropped_json(const node_totals *t) {
  json_t *o = json_object();
  uint64_t total = 0;
  for (int i = 0; o != NULL && i < DHT_DROP_COUNT; i++) {
    json_object_set_new(o, dht_drop_reason_name(i),
                        json_integer(J(t->dropped[i])));
    total += t->dropped[i];
  }
  if (o != NULL)
    json_object_set_new(o, "total", json_integer(J(total)));
  return o;
}

static json_t *per_node_json(node_totals *t) {
  return json_pack("{s:o, s:o, s:o, s:o}", "tx_datagrams",
                   dist(&t->tx_datagrams), "tx_bytes", dist(&t->tx_bytes),
                   "rx_datagrams", dist(&t->rx_datagrams), "rx_bytes",
                   dist(&t->rx_bytes));
}

static json_t *routing_json(node_totals *t) {
  return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "contacts",
                   dist(&t->contacts), "engine_bytes", dist(&t->engine_bytes),
                   "nodes_below_k", J(t->below_k),
                   "records_stored", J(t->records), "record_bytes",
                   J(t->record_bytes), "engine_lookups_ok",
                   J(t->engine_lookups_ok), "engine_lookups_failed",
                   J(t->engine_lookups_failed));
}

json_t *sim_report_summary(sim_world *w, int status) {
  node_totals t;
  json_t *out = NULL;
  if (gather(w, &t) == 0)
    out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "scenario",
                    scenario_json(w), "run", run_json(w, status), "network",
                    network_json(w), "lookups", lookups_json(w), "records",
                    records_json(w), "dropped", dropped_json(&t),
                    "traffic_per_node", per_node_json(&t), "routing",
                    routing_json(&t));
  if (out != NULL && w->n_atk > 0)
    json_object_set_new(out, "attacks", sim_attack_json(w));
  if (out != NULL && w->reg != NULL) /* [registry] scenarios */
    json_object_set_new(out, "registry", sim_registry_json(w));
  if (out != NULL)
    json_object_set_new(
        out, "keys",
        json_pack("{s:I, s:I, s:I}", "memo_hits", J(w->keys.hits),
                  "derived", J(w->keys.derived), "modelled",
                  J(w->keys.modelled)));
  totals_free(&t);
  return out;
}

/* ---- Host figures -------------------------------------------------------- */

static json_t *memory_json(const sim_world *w, const sim_host_figures *fig) {
  const sim_memory *m = &w->mem;
  size_t per_host = sizeof(sim_host) + 2 * sizeof(uint32_t) + sizeof(dht_addr) +
                    w->net.slots * (sizeof(uint64_t) + sizeof(uint32_t)) /
                        (w->n_hosts ? w->n_hosts : 1);
  size_t engine =
      m->peak > m->base + m->sim_bytes ? m->peak - m->base - m->sim_bytes : 0;
  size_t nodes = m->peak_nodes ? m->peak_nodes : 1;
  return json_pack(
      "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "method",
      "mallinfo2: glibc heap in use (uordblks + hblkhd) at the peak sample, "
      "minus the pre-node baseline and the simulator's own buffers, per "
      "node up",
      "available", m->available, "nodes_at_peak", J(m->peak_nodes),
      "heap_peak_bytes", J(m->peak), "engine_bytes_per_node",
      J(m->available ? engine / nodes : 0), "sim_bytes_per_node",
      J(per_host + m->sim_bytes / nodes), "sim_buffers_bytes", J(m->sim_bytes),
      "peak_rss_bytes", J(fig->peak_rss_bytes));
}

json_t *sim_report_host(sim_world *w, const sim_host_figures *fig) {
  double simulated = (double)(w->q.now - w->t0) / 1e9;
  double wall = fig->wall_s > 0 ? fig->wall_s : 1e-9;
  json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:o}", "wall_s", fig->wall_s,
                        "setup_s", fig->setup_s, "events_per_s",
                        (double)w->q.popped / wall, "speedup",
                        simulated / wall, "memory", memory_json(w, fig));
  if (o != NULL && w->reg != NULL) /* [registry]: CPU of batch building */
    json_object_set_new(o, "registry", sim_registry_host_json(w));
  return o;
}

char *sim_report_dumps(const json_t *summary) {
  return json_dumps(summary,
                    JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(12));
}

/* ---- CSV ----------------------------------------------------------------- */

int sim_report_write_csv(const sim_world *w, FILE *out) {
  fprintf(out, "t_s,events,datagrams,bytes,lookups_ok,lookups_failed,"
               "gets_ok,gets_failed,nodes_up,contacts_mean,contacts_min\n");
  for (size_t i = 0; i < w->n_samples; i++) {
    const sim_sample *s = &w->samples[i];
    fprintf(out, "%.3f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%u,%.3f,%llu\n",
            s->t_s, (unsigned long long)s->events,
            (unsigned long long)s->datagrams, (unsigned long long)s->bytes,
            (unsigned long long)s->lookups_ok,
            (unsigned long long)s->lookups_failed,
            (unsigned long long)s->gets_ok, (unsigned long long)s->gets_failed,
            s->nodes_up, s->contacts_mean, (unsigned long long)s->contacts_min);
  }
  return ferror(out) ? SIM_ERR_IO : 0;
}

static void node_row(FILE *out, const sim_host *h) {
  static const char *const states[] = {"idle", "up", "down"};
  char addr[64];
  dht_stats st;
  sim_traffic tr = h->past;
  uint64_t dropped = 0;

  memset(&st, 0, sizeof st);
  if (h->state == SIM_HOST_UP)
    dht_node_stats(h->node, &st);
  for (int i = 0; i < DHT_DROP_COUNT; i++)
    dropped += st.dropped[i];
  dht_addr_format(addr, sizeof addr, &h->addr);
  fprintf(out, "%u,%s,%s,%zu,%zu,%llu,%llu,%llu,%llu,%llu\n", h->index, addr,
          states[h->state], st.contacts, st.records,
          (unsigned long long)(tr.tx_datagrams + st.tx_datagrams),
          (unsigned long long)(tr.tx_bytes + st.tx_bytes),
          (unsigned long long)(tr.rx_datagrams + st.rx_datagrams),
          (unsigned long long)(tr.rx_bytes + st.rx_bytes),
          (unsigned long long)dropped);
}

int sim_report_write_nodes(const sim_world *w, FILE *out) {
  fprintf(out, "node,addr,state,contacts,records,tx_datagrams,tx_bytes,"
               "rx_datagrams,rx_bytes,dropped\n");
  for (uint32_t i = 0; i < w->n_hosts; i++)
    node_row(out, &w->hosts[i]);
  return ferror(out) ? SIM_ERR_IO : 0;
}
