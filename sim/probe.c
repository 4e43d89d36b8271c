/*
 * Measurements made by attack plug-ins (attack_int.h), apart from the
 * plug-ins themselves:
 *
 *  - Eclipse probes. Honest nodes look up the eclipse target (the victim's
 *    node ID, or in note mode the key of a note the victim put before the
 *    eclipse identities joined) over each number of disjoint paths in
 *    `paths`, and in note mode get the note. A lookup succeeds when its
 *    result holds the honest host that was closest to the target when it
 *    started (in node mode the victim itself); the figures are the
 *    success rate, the eclipse nodes' mean share of the returned closest
 *    sets and how many results were eclipse nodes only. A get succeeds
 *    when it returns the note's exact bytes. Probe sources are drawn from
 *    the attack's own PRNG stream, so probes never shift the workload's.
 *  - Flood memory. When the first flooder starts, every flooder's victims
 *    and a control group of as many honest hosts nobody floods are drawn
 *    among the honest non-seed hosts up, no host in two groups. A store
 *    flood lands on the k nodes closest to its victim, so those
 *    neighbourhoods are kept out of every other group: store victims are
 *    drawn first and the k honest hosts closest to each are set aside.
 *    The engine memory of each group member (dht_node_mem: sizes and
 *    capacities of its tables, deterministic) is taken then ("before")
 *    and at every later time series sample. The summary compares the
 *    victims with the control group and with themselves before the
 *    flood; DIR/flood_memory.csv holds the series.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attack_int.h"
#include "sim.h"

#define CSV_VICTIMS_MAX 16 /* per-victim columns in flood_memory.csv */
#define GROUP_TRIES 64     /* draws per group member */

static const char note_name[] = "eclipse-target";

/* ---- Set-up ------------------------------------------------------------ */

static int eclipse_probes(const sim_atk *a) {
  return a->kind == ATK_ECLIPSE &&
         (a->per_point > 0 || (a->mode == ECL_NOTE && a->gets > 0));
}

int sim_probe_init(sim_world *w, sim_atk *a) {
  if (a->kind != ATK_ECLIPSE && a->kind != ATK_FLOODER)
    return 0;
  struct sim_atk_more *m = calloc(1, sizeof *m);
  if (m == NULL)
    return SIM_ERR_NOMEM;
  a->more = m;
  m->w = w;
  m->a = a;
  sim_rng_stream(&m->rng, w->seed, "probe", (uint64_t)(a - w->atk));
  if (a->kind == ATK_FLOODER) {
    a->victim_hosts = malloc(a->victims * sizeof *a->victim_hosts);
    m->control = malloc(a->victims * sizeof *m->control);
    if (a->victim_hosts == NULL || m->control == NULL)
      return SIM_ERR_NOMEM;
    for (uint32_t v = 0; v < a->victims; v++)
      a->victim_hosts[v] = m->control[v] = NO_HOST;
  }
  if (!eclipse_probes(a))
    return 0;
  m->n_ops = (size_t)a->per_point * a->n_paths + a->gets;
  m->ops = calloc(m->n_ops, sizeof *m->ops);
  return m->ops == NULL ? SIM_ERR_NOMEM : 0;
}

void sim_probe_free(sim_atk *a) {
  struct sim_atk_more *m = a->more;
  if (m == NULL)
    return;
  free(m->note);
  free(m->ops);
  free(m->control);
  free(m->mem.t);
  free(m->mem.bytes);
  free(m);
  a->more = NULL;
}

const uint8_t *sim_probe_target(sim_world *w, sim_atk *a) {
  struct sim_atk_more *m = a->more;
  const sim_host *v = &w->hosts[a->target];
  if (a->mode != ECL_NOTE)
    return v->ident.id;
  if (!m->key_set) { /* the victim has joined before any eclipse host */
    dht_note_key(m->key, v->ident.pk, (const uint8_t *)note_name,
                 sizeof note_name - 1);
    m->key_set = 1;
  }
  return m->key;
}

void sim_probe_schedule(sim_world *w, size_t idx) {
  sim_atk *a = &w->atk[idx];
  if (a->kind != ATK_ECLIPSE || a->mode != ECL_NOTE)
    return;
  dht_time at = a->put_at;
  if (at == DHT_TIME_NONE) /* when the first eclipse host joins */
    at = w->sc.join_start +
         (dht_time)((double)a->first / w->sc.join_rate * 1e9);
  sim_attack_push(w, idx, w->t0 + at, ACT_PUT, 0);
}

/* ---- Flood groups -------------------------------------------------------- */

/* draw_group fills |out| with |n| honest non-seed hosts up and not yet
 * |taken| (NO_HOST where none was found) and marks them taken. */
static void draw_group(sim_world *w, sim_rng *rng, uint8_t *taken,
                       uint32_t *out, uint32_t n) {
  uint32_t lo = w->sc.join_seeds < w->n_honest ? w->sc.join_seeds : 0;
  for (uint32_t i = 0; i < n; i++) {
    out[i] = NO_HOST;
    for (int t = 0; t < GROUP_TRIES && out[i] == NO_HOST; t++) {
      uint32_t c = lo + (uint32_t)sim_rng_below(rng, w->n_honest - lo);
      if (!taken[c] && w->hosts[c].role == SIM_ROLE_HONEST &&
          w->hosts[c].state == SIM_HOST_UP) {
        taken[c] = 1;
        out[i] = c;
      }
    }
  }
}

/* closer_to returns 1 if |a| is closer than |b| to |t| (XOR metric). */
static int closer_to(const uint8_t *a, const uint8_t *b, const uint8_t *t) {
  for (int i = 0; i < DHT_ID_LEN; i++)
    if ((a[i] ^ t[i]) != (b[i] ^ t[i]))
      return (a[i] ^ t[i]) < (b[i] ^ t[i]);
  return 0;
}

/* set_aside marks taken the k honest hosts up closest to host |v|'s ID
 * (|v| included): the nodes a store flood aimed at |v| reaches. */
static void set_aside(sim_world *w, uint8_t *taken, uint32_t v) {
  uint32_t best[DHT_K_MAX];
  size_t n = 0, k = w->sc.dht.k;
  const uint8_t *t = w->hosts[v].ident.id;
  for (uint32_t i = 0; i < w->n_honest; i++) {
    const sim_host *h = &w->hosts[i];
    if (h->state != SIM_HOST_UP || h->role != SIM_ROLE_HONEST)
      continue;
    size_t pos = n;
    while (pos > 0 && closer_to(h->ident.id, w->hosts[best[pos - 1]].ident.id,
                                t))
      pos--;
    if (pos >= k)
      continue;
    n += n < k;
    memmove(&best[pos + 1], &best[pos], (n - 1 - pos) * sizeof *best);
    best[pos] = i;
  }
  for (size_t i = 0; i < n; i++)
    taken[best[i]] = 1;
}

static uint64_t host_mem(const sim_world *w, uint32_t i) {
  if (i == NO_HOST || w->hosts[i].state != SIM_HOST_UP)
    return 0;
  return dht_node_mem(w->hosts[i].node);
}

/* Means below are over the members up: a figure of 0 means "no host or
 * not up" (a node up holds at least its own object). */
static double mean_up(const uint64_t *v, uint32_t n, uint64_t *max) {
  double sum = 0;
  uint32_t up = 0;
  for (uint32_t i = 0; i < n; i++) {
    sum += (double)v[i];
    up += v[i] > 0;
    if (max != NULL && v[i] > *max)
      *max = v[i];
  }
  return up ? sum / up : 0.0;
}

/* group_mean returns the mean dht_node_mem of the hosts of |g| up. */
static double group_mean(const sim_world *w, const uint32_t *g, uint32_t n) {
  double sum = 0;
  uint32_t up = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t m = host_mem(w, g[i]);
    sum += (double)m;
    up += m > 0;
  }
  return up ? sum / up : 0.0;
}

/* pick_groups draws every flooder's victims (store floods first, their
 * neighbourhoods set aside), then the control groups, and notes their
 * memory. Returns 0 or SIM_ERR_NOMEM. */
static int pick_groups(sim_world *w) {
  uint8_t *taken = calloc(w->n_honest ? w->n_honest : 1, 1);
  if (taken == NULL)
    return SIM_ERR_NOMEM;
  for (int pass = 0; pass < 3; pass++)
    for (size_t i = 0; i < w->n_atk; i++) {
      sim_atk *a = &w->atk[i];
      sim_rng *rng = a->kind == ATK_FLOODER ? &a->more->rng : NULL;
      int store = a->kind == ATK_FLOODER && a->mode == FLOOD_STORES;
      if (rng == NULL || (pass == 0 && !store) || (pass == 1 && store))
        continue;
      if (pass == 2) {
        draw_group(w, rng, taken, a->more->control, a->victims);
        continue;
      }
      draw_group(w, rng, taken, a->victim_hosts, a->victims);
      for (uint32_t v = 0; store && v < a->victims; v++)
        if (a->victim_hosts[v] != NO_HOST)
          set_aside(w, taken, a->victim_hosts[v]);
    }
  for (size_t i = 0; i < w->n_atk; i++) {
    sim_atk *a = &w->atk[i];
    if (a->kind != ATK_FLOODER)
      continue;
    a->more->grouped = 1;
    a->more->before_victims = group_mean(w, a->victim_hosts, a->victims);
    a->more->before_control = group_mean(w, a->more->control, a->victims);
  }
  free(taken);
  return 0;
}

/* ---- Flood memory series ------------------------------------------------ */

static int series_add(sim_world *w, sim_atk *a) {
  mem_series *s = &a->more->mem;
  size_t width = 2 * (size_t)a->victims;
  if (s->rows == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    double *t = realloc(s->t, cap * sizeof *t);
    if (t != NULL)
      s->t = t;
    uint64_t *b = realloc(s->bytes, cap * width * sizeof *b);
    if (t == NULL || b == NULL)
      return SIM_ERR_NOMEM;
    s->bytes = b;
    s->cap = cap;
  }
  uint64_t *row = s->bytes + s->rows * width;
  for (uint32_t v = 0; v < a->victims; v++) {
    row[v] = host_mem(w, a->victim_hosts[v]);
    row[a->victims + v] = host_mem(w, a->more->control[v]);
  }
  s->t[s->rows++] = (double)(w->q.now - w->t0) / 1e9;
  return 0;
}

void sim_probe_on_sample(sim_world *w) {
  for (size_t i = 0; i < w->n_atk && w->error == 0; i++)
    if (w->atk[i].kind == ATK_FLOODER && w->atk[i].more->grouped &&
        series_add(w, &w->atk[i]) != 0)
      w->error = SIM_ERR_NOMEM;
}

/* Over the rows with t in [from, to): the largest single figure and the
 * mean of the row means, for victims (group 0) or controls (group 1). */
typedef struct mem_figs {
  uint64_t peak;
  double mean;
  size_t rows;
} mem_figs;

static mem_figs series_figs(const sim_atk *a, int group, double from,
                            double to) {
  const mem_series *s = &a->more->mem;
  mem_figs f = {0, 0.0, 0};
  for (size_t r = 0; r < s->rows; r++) {
    if (s->t[r] < from || s->t[r] >= to)
      continue;
    const uint64_t *row = s->bytes + r * 2 * a->victims + group * a->victims;
    f.mean += mean_up(row, a->victims, &f.peak);
    f.rows++;
  }
  if (f.rows > 0)
    f.mean /= (double)f.rows;
  return f;
}

static json_t *memory_json(sim_world *w, const sim_atk *a) {
  const mem_series *s = &a->more->mem;
  double start = s->rows ? s->t[0] : 0.0;
  double end = s->rows ? s->t[s->rows - 1] + 1e-9 : start;
  double cut = start + (end - start) * 2 / 3;
  mem_figs v = series_figs(a, 0, start, end), c = series_figs(a, 1, start, end);
  mem_figs v1 = series_figs(a, 0, start, cut), v2 = series_figs(a, 0, cut, end);
  (void)w;
  return json_pack(
      "{s:s, s:f, s:f, s:I, s:f, s:I, s:f, s:I, s:f, s:I}", "method",
      "dht_node_mem of each victim and control host at every sample",
      "victims_before_bytes", a->more->before_victims,
      "control_before_bytes", a->more->before_control,
      "victims_peak_bytes", (json_int_t)v.peak, "victims_mean_bytes", v.mean,
      "control_peak_bytes", (json_int_t)c.peak, "control_mean_bytes", c.mean,
      "raised_bytes", (json_int_t)v.peak - (json_int_t)c.peak,
      "raised_factor", c.peak ? (double)v.peak / (double)c.peak : 0.0,
      "victims_growth_last_third_bytes",
      (json_int_t)v2.peak - (json_int_t)v1.peak);
}

void sim_probe_flood_json(sim_world *w, const sim_atk *a, json_t *o) {
  const struct sim_atk_more *m = a->more;
  uint64_t ok = w->c.lookups_ok - m->lookups_ok0;
  uint64_t failed = w->c.lookups_failed - m->lookups_failed0;
  if (a->victims > 0)
    json_object_set_new(o, "memory", memory_json(w, a));
  json_object_set_new(
      o, "honest_lookups_during_flood",
      json_pack("{s:I, s:I, s:f}", "ok", (json_int_t)ok, "failed",
                (json_int_t)failed,
                "success_rate", ok + failed ? (double)ok / (double)(ok + failed)
                                            : 0.0));
}

int sim_probe_has_flood(const sim_world *w) {
  for (size_t i = 0; i < w->n_atk; i++)
    if (w->atk[i].kind == ATK_FLOODER && w->atk[i].more != NULL &&
        w->atk[i].more->mem.rows > 0)
      return 1;
  return 0;
}

/* csv_header writes the columns of every flooder: per victim (at most
 * CSV_VICTIMS_MAX), then the victims' and the control group's mean and
 * maximum. */
static void csv_header(FILE *f, const sim_world *w) {
  fprintf(f, "t_s");
  for (size_t i = 0; i < w->n_atk; i++) {
    const sim_atk *a = &w->atk[i];
    if (a->kind != ATK_FLOODER || a->victims == 0)
      continue;
    for (uint32_t v = 0; v < a->victims && v < CSV_VICTIMS_MAX; v++)
      fprintf(f, ",%s_victim%u", a->name, a->victim_hosts[v]);
    fprintf(f, ",%s_victims_mean,%s_victims_max,%s_control_mean,"
               "%s_control_max", a->name, a->name, a->name, a->name);
  }
  fprintf(f, "\n");
}

static void csv_group(FILE *f, const sim_atk *a, const uint64_t *g) {
  uint64_t max = 0;
  double mean = mean_up(g, a->victims, &max);
  fprintf(f, ",%.1f,%llu", mean, (unsigned long long)max);
}

static void csv_row(FILE *f, const sim_world *w, size_t r) {
  int first = 1;
  for (size_t i = 0; i < w->n_atk; i++) {
    const sim_atk *a = &w->atk[i];
    if (a->kind != ATK_FLOODER || a->victims == 0 || r >= a->more->mem.rows)
      continue;
    const uint64_t *row = a->more->mem.bytes + r * 2 * a->victims;
    if (first)
      fprintf(f, "%.3f", a->more->mem.t[r]);
    first = 0;
    for (uint32_t v = 0; v < a->victims && v < CSV_VICTIMS_MAX; v++)
      fprintf(f, ",%llu", (unsigned long long)row[v]);
    csv_group(f, a, row);
    csv_group(f, a, row + a->victims);
  }
  fprintf(f, "\n");
}

static const char flood_plot_head[] =
    "set terminal pngcairo size 900,600 noenhanced\n"
    "set output '%s/flood_memory.png'\n"
    "set title 'Engine memory (dht_node_mem): flood victims and control'\n"
    "set xlabel 'simulated s'\nset ylabel 'bytes'\nset yrange [0:*]\n"
    "set key outside bottom center horizontal\n"
    "set datafile separator ','\nplot ";

/* write_plot writes the gnuplot script: per flooder, the largest victim
 * and the control group's mean. */
static void write_plot(FILE *f, const sim_world *w, const char *dir) {
  const char *sep = "";
  fprintf(f, flood_plot_head, dir);
  for (size_t i = 0; i < w->n_atk; i++) {
    const sim_atk *a = &w->atk[i];
    if (a->kind != ATK_FLOODER || a->victims == 0)
      continue;
    fprintf(f, "%s'%s/flood_memory.csv' using 1:'%s_victims_max' with lines "
               "title '%s victims max', '%s/flood_memory.csv' using "
               "1:'%s_control_mean' with lines dt 2 title '%s control mean'",
            sep, dir, a->name, a->name, dir, a->name, a->name);
    sep = ", ";
  }
  fprintf(f, "\n");
}

int sim_probe_write_flood(sim_world *w, const char *dir, int plot) {
  char path[4096];
  size_t rows = 0;
  snprintf(path, sizeof path, "%s/flood_memory.csv", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return SIM_ERR_IO;
  csv_header(f, w);
  for (size_t i = 0; i < w->n_atk; i++)
    if (w->atk[i].kind == ATK_FLOODER && w->atk[i].more->mem.rows > rows)
      rows = w->atk[i].more->mem.rows;
  for (size_t r = 0; r < rows; r++)
    csv_row(f, w, r);
  if (fclose(f) != 0)
    return SIM_ERR_IO;
  if (!plot)
    return 0;
  snprintf(path, sizeof path, "%s/flood_memory.gp", dir);
  if ((f = fopen(path, "w")) == NULL)
    return SIM_ERR_IO;
  write_plot(f, w, dir);
  if (fclose(f) != 0)
    return SIM_ERR_IO;
  return sim_attack_gnuplot(path);
}

/* ---- Eclipse: the victim's note ------------------------------------------ */

static void note_put_done(void *arg, int status, unsigned stored,
                          const dht_lookup_stats *stats) {
  struct sim_atk_more *m = arg;
  (void)stats;
  m->note_stored = stored;
  m->note_status = status == 0 && stored > 0 ? 1 : -1;
}

void sim_probe_on_put(sim_world *w, size_t idx) {
  sim_atk *a = &w->atk[idx];
  struct sim_atk_more *m = a->more;
  sim_host *v = &w->hosts[a->target];
  uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  uint8_t value[DHT_NOTE_VALUE_MAX], enc[DHT_MAX_RECORD];
  dht_record rec;
  size_t len;

  if (v->state != SIM_HOST_UP) {
    m->note_status = -1;
    return;
  }
  sim_rng_fill(&m->rng, value, w->sc.value_size);
  if (dht_note_build(&rec, payload, sizeof payload, &v->ident,
                     (const uint8_t *)note_name, sizeof note_name - 1, value,
                     w->sc.value_size, w->q.now / DHT_SEC, w->sc.ttl, 1) != 0 ||
      dht_record_encode(&rec, enc, sizeof enc, &len) != 0 ||
      (m->note = malloc(len)) == NULL) {
    w->error = SIM_ERR_NOMEM;
    return;
  }
  memcpy(m->note, enc, len);
  m->note_len = len;
  if (dht_node_put(v->node, w->q.now, m->note, len, note_put_done, m) != 0)
    m->note_status = -1;
  sim_world_service(w, v);
}

/* ---- Eclipse: probes ------------------------------------------------------- */

void sim_probe_start(sim_world *w, size_t idx) {
  sim_atk *a = &w->atk[idx];
  if (a->kind == ATK_FLOODER) {
    a->more->lookups_ok0 = w->c.lookups_ok;
    a->more->lookups_failed0 = w->c.lookups_failed;
    if (!a->more->grouped && pick_groups(w) != 0)
      w->error = SIM_ERR_NOMEM;
  }
  if (eclipse_probes(a))
    sim_attack_push(w, idx, w->q.now, ACT_PROBE, 0);
}

/* closest_honest returns the honest host up, other than |exclude|,
 * closest to |target| by XOR distance, or NO_HOST. */
static uint32_t closest_honest(const sim_world *w, const uint8_t *target,
                               uint32_t exclude) {
  uint32_t best = NO_HOST;
  uint8_t bd[DHT_ID_LEN];
  for (uint32_t i = 0; i < w->n_honest; i++) {
    const sim_host *h = &w->hosts[i];
    if (i == exclude || h->state != SIM_HOST_UP || h->role != SIM_ROLE_HONEST)
      continue;
    int j = 0;
    if (best != NO_HOST)
      while (j < DHT_ID_LEN && (h->ident.id[j] ^ target[j]) == bd[j])
        j++;
    if (best != NO_HOST && (j == DHT_ID_LEN ||
                            (h->ident.id[j] ^ target[j]) > bd[j]))
      continue;
    best = i;
    for (j = 0; j < DHT_ID_LEN; j++)
      bd[j] = h->ident.id[j] ^ target[j];
  }
  return best;
}

/* is_member returns 1 if |c| is an eclipse host of attack |a|. */
static int is_member(const sim_world *w, const sim_atk *a,
                     const dht_contact *c) {
  uint32_t e = sim_vnet_find(&w->net, &c->addr);
  return e != SIM_NO_ENDPOINT && e >= a->first && e < a->first + a->count;
}

static void probe_lookup_done(void *arg, int status, const dht_contact *closest,
                              size_t n, const dht_lookup_stats *stats) {
  ecl_op *op = arg;
  const sim_world *w = op->w;
  ecl_point *p = &op->a->more->pts[op->point];
  int found = 0;
  size_t bad = 0;
  (void)stats;
  for (size_t i = 0; i < n; i++) {
    bad += (size_t)is_member(w, op->a, &closest[i]);
    found |= op->expect != NO_HOST &&
             memcmp(closest[i].id, w->hosts[op->expect].ident.id,
                    DHT_ID_LEN) == 0;
  }
  p->done++;
  p->ok += status == 0 && found;
  if (n > 0) {
    p->answered++;
    p->share_sum += (double)bad / (double)n;
    p->eclipsed += bad == n;
  }
}

static void probe_lookup(sim_world *w, sim_atk *a, uint32_t i) {
  struct sim_atk_more *m = a->more;
  unsigned point = i % a->n_paths;
  uint32_t src = sim_world_pick_honest(w, &m->rng, a->target);
  if (src == NO_HOST) {
    m->pts[point].done++; /* nobody to ask from: a failure */
    return;
  }
  const uint8_t *target = sim_probe_target(w, a);
  ecl_op *op = &m->ops[i];
  *op = (ecl_op){w, a, closest_honest(w, target, src), (uint16_t)point};
  sim_host *h = &w->hosts[src];
  if (dht_node_lookup_paths(h->node, w->q.now, target, a->paths[point],
                            probe_lookup_done, op) != 0)
    m->pts[point].done++;
  sim_world_service(w, h);
}

static void probe_get_done(void *arg, int status, const dht_record *rec,
                           const uint8_t *bytes, size_t len,
                           const dht_lookup_stats *stats) {
  ecl_op *op = arg;
  struct sim_atk_more *m = op->a->more;
  (void)rec;
  (void)stats;
  if (status == 0 && bytes != NULL && len == m->note_len &&
      memcmp(bytes, m->note, len) == 0)
    m->gets_ok++;
  else if (status == 0)
    m->gets_wrong++;
  else
    m->gets_failed++;
}

static void probe_get(sim_world *w, sim_atk *a, uint32_t i) {
  struct sim_atk_more *m = a->more;
  uint32_t reader = sim_world_pick_honest(w, &m->rng, a->target);
  m->gets_started++;
  if (reader == NO_HOST || m->note == NULL) {
    m->gets_failed++;
    return;
  }
  ecl_op *op = &m->ops[(size_t)a->per_point * a->n_paths + i];
  *op = (ecl_op){w, a, NO_HOST, 0};
  sim_host *h = &w->hosts[reader];
  if (dht_node_get(h->node, w->q.now, sim_probe_target(w, a), probe_get_done,
                   op) != 0)
    m->gets_failed++;
  sim_world_service(w, h);
}

void sim_probe_on_probe(sim_world *w, size_t idx, uint32_t i) {
  sim_atk *a = &w->atk[idx];
  uint32_t lookups = a->per_point * a->n_paths;
  uint32_t gets = a->mode == ECL_NOTE ? a->gets : 0;
  uint32_t total = lookups > gets ? lookups : gets;
  if (i >= total)
    return;
  if (i + 1 < total)
    sim_attack_push(w, idx, w->q.now + (dht_time)(1e9 / w->sc.lookup_rate),
                    ACT_PROBE, i + 1);
  if (i < lookups)
    probe_lookup(w, a, i);
  if (i < gets && w->error == 0)
    probe_get(w, a, i);
}

/* ---- Eclipse: figures ----------------------------------------------------- */

static int count_visit(void *arg, const dht_record *rec, const uint8_t *bytes,
                       size_t len) {
  (void)rec;
  (void)bytes;
  (void)len;
  ++*(unsigned *)arg;
  return 0;
}

/* note_json: where the note is held at the end, and the gets. */
static json_t *note_json(sim_world *w, const sim_atk *a) {
  const struct sim_atk_more *m = a->more;
  unsigned honest = 0, eclipse = 0;
  for (uint32_t i = 0; i < w->n_hosts; i++) {
    const sim_host *h = &w->hosts[i];
    unsigned n = 0;
    if (h->state != SIM_HOST_UP || i == a->target || !m->key_set)
      continue;
    dht_node_local_get(h->node, m->key, count_visit, &n);
    honest += n > 0 && h->role == SIM_ROLE_HONEST;
    eclipse += n > 0 && i >= a->first && i < a->first + a->count;
  }
  uint64_t done = m->gets_ok + m->gets_failed + m->gets_wrong;
  return json_pack(
      "{s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:f}}", "put",
      m->note_status > 0 ? "acknowledged" : m->note_status < 0 ? "failed"
                                                              : "not yet",
      "storers", (json_int_t)m->note_stored, "honest_holders",
      (json_int_t)honest, "eclipse_holders", (json_int_t)eclipse, "gets",
      "paths", (json_int_t)w->sc.dht.disjoint_paths, "started",
      (json_int_t)m->gets_started, "ok", (json_int_t)m->gets_ok, "failed",
      (json_int_t)m->gets_failed, "wrong", (json_int_t)m->gets_wrong,
      "success_rate", done ? (double)m->gets_ok / (double)done : 0.0);
}

void sim_probe_eclipse_json(sim_world *w, const sim_atk *a, json_t *o) {
  const struct sim_atk_more *m = a->more;
  json_object_set_new(o, "mode", json_string(a->mode == ECL_NOTE ? "note"
                                                                 : "node"));
  if (a->per_point > 0) {
    json_t *arr = json_array();
    for (unsigned p = 0; arr != NULL && p < a->n_paths; p++) {
      const ecl_point *pt = &m->pts[p];
      json_array_append_new(
          arr, json_pack("{s:i, s:I, s:I, s:f, s:f, s:I}", "d", a->paths[p],
                         "lookups", (json_int_t)pt->done, "ok",
                         (json_int_t)pt->ok, "success_rate",
                         pt->done ? (double)pt->ok / (double)pt->done : 0.0,
                         "attacker_share",
                         pt->answered ? pt->share_sum / (double)pt->answered
                                      : 0.0,
                         "eclipsed", (json_int_t)pt->eclipsed));
    }
    json_object_set_new(o, "target_lookups", arr);
  }
  if (a->mode == ECL_NOTE)
    json_object_set_new(o, "note", note_json(w, a));
}
