/*
 * Measurements taken while a simulation runs: value lists for percentiles,
 * the periodic time series row, engine counters of nodes freed by churn,
 * and heap usage.
 *
 * Memory is measured with glibc's mallinfo2(): heap in use (uordblks, plus
 * hblkhd for chunks served by mmap) at each sample, minus the baseline
 * taken just before the first node starts and minus the simulator's own
 * growing buffers (event heap, datagram buffers, stored copies of put
 * records), divided by the nodes up. It therefore counts everything the
 * engine allocates per node (routing table, key cache, stores, queues)
 * without an allocator hook, which dht_env does not have. Under
 * AddressSanitizer mallinfo2 does not see the heap; figures are then
 * reported as unavailable. mallinfo2 walks the allocator's free lists, so
 * at 100,000 nodes (a 4 GB heap) one call costs a large fraction of a
 * second: the heap is read at most MEMORY_SAMPLES_MAX times in a run,
 * evenly over its samples, and at the last one.
 */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "world_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

/* ---- Value lists --------------------------------------------------------- */

int sim_values_add(sim_values *vals, double v) {
  if (vals->len == vals->cap) {
    size_t cap = vals->cap ? vals->cap * 2 : 256;
    double *p = realloc(vals->v, cap * sizeof *p);
    if (p == NULL)
      return SIM_ERR_NOMEM;
    vals->v = p;
    vals->cap = cap;
  }
  vals->v[vals->len++] = v;
  return 0;
}

void sim_values_free(sim_values *vals) {
  free(vals->v);
  memset(vals, 0, sizeof *vals);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double sim_values_percentile(sim_values *vals, double p) {
  if (vals->len == 0)
    return 0.0;
  qsort(vals->v, vals->len, sizeof *vals->v, cmp_double);
  /* nearest rank: the smallest value with at least p% at or below it */
  size_t rank = (size_t)ceil(p / 100.0 * (double)vals->len);
  size_t i = rank > 0 ? rank - 1 : 0;
  return vals->v[i < vals->len ? i : vals->len - 1];
}

/* ---- Memory ------------------------------------------------------------ */

#define MEMORY_SAMPLES_MAX 32

static size_t heap_in_use(void) {
#ifdef HAVE_ASAN
  return 0;
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

/* sim_owned returns the bytes of the simulator's own growing buffers. */
static size_t sim_owned(const sim_world *w) {
  size_t bytes = w->q.cap * sizeof(sim_event) +
                 w->packets * sizeof(sim_packet) +
                 w->cap_samples * sizeof(sim_sample);
  for (size_t i = 0; i < w->n_records; i++)
    bytes += w->records[i].len;
  bytes += (w->lookup_hops.cap + w->lookup_ms.cap + w->get_hops.cap +
            w->get_ms.cap + w->put_ms.cap) *
           sizeof(double);
  return bytes;
}

void sim_metrics_memory_base(sim_world *w) {
#ifdef HAVE_ASAN
  w->mem.available = 0;
#else
  w->mem.available = 1;
#endif
  w->mem.base = heap_in_use();
}

/* Whether the sample being taken reads the heap: every |every|-th of the
 * run's samples, and the last one. */
static int memory_due(const sim_world *w) {
  uint64_t total = (uint64_t)(w->sc.duration / w->sc.sample_interval);
  uint64_t every = total / MEMORY_SAMPLES_MAX + 1;
  return w->n_samples % every == 0 ||
         w->q.now + w->sc.sample_interval > w->end;
}

static void memory_sample(sim_world *w) {
  if (!memory_due(w))
    return;
  size_t used = heap_in_use();
  if (!w->mem.available || used <= w->mem.peak)
    return;
  w->mem.peak = used;
  w->mem.peak_nodes = w->n_up;
  w->mem.sim_bytes = sim_owned(w);
}

/* ---- Engine counters ---------------------------------------------------- */

void sim_metrics_collect_node(sim_world *w, sim_host *h) {
  dht_stats st;
  dht_node_stats(h->node, &st);
  h->past.tx_datagrams += st.tx_datagrams;
  h->past.tx_bytes += st.tx_bytes;
  h->past.rx_datagrams += st.rx_datagrams;
  h->past.rx_bytes += st.rx_bytes;
  for (int i = 0; i < DHT_DROP_COUNT; i++)
    w->c.dropped[i] += st.dropped[i];
  w->c.engine_lookups_ok += st.lookups_ok;
  w->c.engine_lookups_failed += st.lookups_failed;
}

/* ---- The time series ----------------------------------------------------- */

static int samples_grow(sim_world *w) {
  if (w->n_samples < w->cap_samples)
    return 0;
  size_t cap = w->cap_samples ? w->cap_samples * 2 : 128;
  sim_sample *s = realloc(w->samples, cap * sizeof *s);
  if (s == NULL)
    return SIM_ERR_NOMEM;
  w->samples = s;
  w->cap_samples = cap;
  return 0;
}

/* cumulative fills the running totals a row is the difference of. */
static void cumulative(const sim_world *w, sim_sample *s) {
  memset(s, 0, sizeof *s);
  s->events = w->q.popped;
  s->datagrams = w->net.stats.sent;
  s->bytes = w->net.stats.bytes;
  s->lookups_ok = w->c.lookups_ok;
  s->lookups_failed = w->c.lookups_failed;
  s->gets_ok = w->c.gets_ok;
  s->gets_failed = w->c.gets_failed + w->c.gets_wrong + w->c.gets_stale;
}

static void contacts(const sim_world *w, sim_sample *s) {
  uint64_t sum = 0, min = UINT64_MAX;
  for (uint32_t i = 0; i < w->n_up; i++) {
    dht_stats st;
    dht_node_stats(w->hosts[w->up[i]].node, &st);
    sum += st.contacts;
    if (st.contacts < min)
      min = st.contacts;
  }
  s->nodes_up = w->n_up;
  s->contacts_mean = w->n_up ? (double)sum / w->n_up : 0.0;
  s->contacts_min = w->n_up ? min : 0;
}

void sim_metrics_on_sample(sim_world *w, const sim_event *ev) {
  sim_sample now, *row;
  (void)ev;
  if (samples_grow(w) != 0) {
    w->error = SIM_ERR_NOMEM;
    return;
  }
  cumulative(w, &now);
  row = &w->samples[w->n_samples++];
  *row = now;
  row->t_s = (double)(w->q.now - w->t0) / 1e9;
  row->events -= w->last.events;
  row->datagrams -= w->last.datagrams;
  row->bytes -= w->last.bytes;
  row->lookups_ok -= w->last.lookups_ok;
  row->lookups_failed -= w->last.lookups_failed;
  row->gets_ok -= w->last.gets_ok;
  row->gets_failed -= w->last.gets_failed;
  contacts(w, row);
  w->last = now;
  memory_sample(w);
  sim_probe_on_sample(w);
  if (w->q.now + w->sc.sample_interval <= w->end)
    sim_world_push(w, w->q.now + w->sc.sample_interval, SIM_EV_SAMPLE, 0, 0,
                   NULL);
}

void sim_metrics_free(sim_world *w) {
  sim_values_free(&w->lookup_hops);
  sim_values_free(&w->lookup_ms);
  sim_values_free(&w->get_hops);
  sim_values_free(&w->get_ms);
  sim_values_free(&w->put_ms);
  free(w->samples);
  w->samples = NULL;
}
