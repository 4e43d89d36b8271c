/*
 * The workload: lookups of live node IDs, and notes that are put and
 * later read back from another node, started at Poisson arrival times
 * from their own PRNG stream and judged by the simulator, which knows the
 * truth:
 *
 *  - a lookup succeeds when its result contains the target node (a node
 *    that was up when the lookup started; its own ID is the closest
 *    possible contact);
 *  - a put succeeds when at least one storer acknowledged it; each
 *    successful put is read back once, get_delay later, by a random node
 *    other than its author, and the get succeeds only if it returns the
 *    very bytes that were put. A failed get of an acknowledged record
 *    counts as a record lost;
 *  - with [workload] updates = U, the author re-puts each acknowledged
 *    note U times (same name and key, seq + 1, a new value), each
 *    update_delay after the previous put completed, and the read-back
 *    follows the last update: it succeeds only with the newest bytes; a
 *    valid older version of the same author is counted as stale (not
 *    lost), and a get to which a storage adversary served an older
 *    version (attack.c) as "saw stale". An update nobody acknowledged is
 *    forgotten: the previous version counts as the newest again.
 *
 * Operation slots are allocated once for the whole workload (lookups +
 * (2 + updates) x puts) so the pointers handed to the engine as callback arguments
 * never move.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "world_int.h"

#define NO_HOST UINT32_MAX

int sim_workload_init(sim_world *w) {
  const sim_scenario *sc = &w->sc;
  w->cap_ops = (size_t)sc->lookups + (2 + (size_t)sc->updates) * sc->puts;
  if (w->cap_ops > 0 && (w->ops = calloc(w->cap_ops, sizeof *w->ops)) == NULL)
    return SIM_ERR_NOMEM;
  if (sc->puts > 0 &&
      (w->records = calloc(sc->puts, sizeof *w->records)) == NULL)
    return SIM_ERR_NOMEM;
  w->lookups_left = sc->lookups;
  w->puts_left = sc->puts;
  if (sc->lookups > 0)
    sim_world_push(w, w->t0 + sc->work_start, SIM_EV_LOOKUP, 0, 0, NULL);
  if (sc->puts > 0)
    sim_world_push(w, w->t0 + sc->work_start, SIM_EV_PUT, 0, 0, NULL);
  return w->error;
}

void sim_workload_free(sim_world *w) {
  for (size_t i = 0; i < w->n_records; i++) {
    free(w->records[i].bytes);
    free(w->records[i].old_bytes);
  }
  free(w->records);
  free(w->ops);
  w->records = NULL;
  w->ops = NULL;
}

/* next_arrival returns the time of the next Poisson arrival at |rate|/s. */
static dht_time next_arrival(sim_world *w, double rate) {
  return w->q.now + (dht_time)sim_rng_exponential(&w->work_rng, 1e9 / rate);
}

static sim_op *op_new(sim_world *w, int kind, uint32_t host, uint32_t subject) {
  SIM_ASSERT(w->n_ops < w->cap_ops); /* sized for the whole workload */
  sim_op *op = &w->ops[w->n_ops++];
  op->world = w;
  op->start = w->q.now;
  op->host = host;
  op->subject = subject;
  op->kind = (uint8_t)kind;
  op->active = 1;
  w->hosts[host].ops++;
  return op;
}

static void op_end(sim_op *op) {
  op->active = 0;
  op->world->hosts[op->host].ops--;
  if (op->kind == SIM_OP_GET)
    op->world->records[op->subject].get_op = 0;
}

/* count_error adds one to the slot of DHT_ERR_* |status| in |slots|. */
static void count_error(uint64_t slots[SIM_ERR_SLOTS], int status) {
  int i = -status - 101;
  slots[i >= 0 && i < SIM_ERR_SLOTS - 1 ? i : SIM_ERR_SLOTS - 1]++;
}

static double op_ms(const sim_op *op) {
  return (double)(op->world->q.now - op->start) / 1e6;
}

void sim_workload_abort_host(sim_world *w, sim_host *h) {
  static const size_t offsets[] = {offsetof(sim_counters, lookups_aborted),
                                   offsetof(sim_counters, puts_aborted),
                                   offsetof(sim_counters, gets_aborted)};
  for (size_t i = 0; i < w->n_ops && h->ops > 0; i++) {
    sim_op *op = &w->ops[i];
    if (!op->active || op->host != h->index)
      continue;
    (*(uint64_t *)((char *)&w->c + offsets[op->kind]))++;
    op_end(op);
  }
}

/* ---- Lookups ------------------------------------------------------------ */

static void lookup_done(void *arg, int status, const dht_contact *closest,
                        size_t n, const dht_lookup_stats *stats) {
  sim_op *op = arg;
  sim_world *w = op->world;
  const uint8_t *target = w->hosts[op->subject].ident.id;
  int found = 0;

  for (size_t i = 0; status == 0 && i < n && !found; i++)
    found = memcmp(closest[i].id, target, DHT_ID_LEN) == 0;
  if (found) {
    w->c.lookups_ok++;
    if (sim_values_add(&w->lookup_hops, stats->hops) != 0 ||
        sim_values_add(&w->lookup_ms, op_ms(op)) != 0)
      w->error = SIM_ERR_NOMEM;
  } else {
    w->c.lookups_failed++;
    if (status == 0)
      w->c.lookups_missed++;
    else
      count_error(w->c.lookup_errors, status);
  }
  op_end(op);
}

void sim_workload_on_lookup(sim_world *w, const sim_event *ev) {
  (void)ev;
  if (--w->lookups_left > 0)
    sim_world_push(w, next_arrival(w, w->sc.lookup_rate), SIM_EV_LOOKUP, 0, 0,
                   NULL);
  uint32_t src = sim_world_pick_honest(w, &w->work_rng, NO_HOST);
  uint32_t dst =
      src == NO_HOST ? NO_HOST : sim_world_pick_honest(w, &w->work_rng, src);
  if (dst == NO_HOST) {
    w->c.lookups_busy++; /* fewer than two nodes up */
    return;
  }
  sim_host *h = &w->hosts[src];
  sim_op *op = op_new(w, SIM_OP_LOOKUP, src, dst);
  if (dht_node_lookup(h->node, w->q.now, w->hosts[dst].ident.id, lookup_done,
                      op) != 0) {
    op_end(op);
    w->c.lookups_busy++;
  } else {
    w->c.lookups_started++;
  }
  sim_world_service(w, h);
}

/* ---- Puts -------------------------------------------------------------- */

/* read_back_later queues record |idx|'s next step after a put of it
 * completed: its next update (SIM_EV_PUT with aux = idx + 1), or the
 * get once no update is left. */
static void read_back_later(sim_world *w, size_t idx) {
  sim_record *r = &w->records[idx];
  if (r->updates_left > 0)
    sim_world_push(w, w->q.now + w->sc.update_delay, SIM_EV_PUT, 0,
                   (uint64_t)idx + 1, NULL);
  else
    sim_world_push(w, w->q.now + w->sc.get_delay, SIM_EV_GET, 0, idx, NULL);
}

/* forget_update makes the previous version of |r| the newest again (an
 * update no storer acknowledged, or one never sent). */
static void forget_update(sim_record *r) {
  free(r->bytes);
  r->bytes = r->old_bytes;
  r->len = r->old_len;
  r->old_bytes = NULL;
  r->old_len = 0;
  r->seq--;
}

static void put_done(void *arg, int status, unsigned stored,
                     const dht_lookup_stats *stats) {
  sim_op *op = arg;
  sim_world *w = op->world;
  sim_record *r = &w->records[op->subject];

  (void)stats;
  r->stored = stored;
  w->c.put_stored_sum += stored;
  if (status == 0 && stored > 0) {
    w->c.puts_ok++;
    r->put_ok = 1;
    if (sim_values_add(&w->put_ms, op_ms(op)) != 0)
      w->error = SIM_ERR_NOMEM;
    read_back_later(w, op->subject);
  } else {
    w->c.puts_failed++;
  }
  op_end(op);
}

/* build_note makes version |seq| of record |idx| authored by |h|: name
 * "sim-note-IDX", value_size random bytes, signed, encoded into r->bytes
 * (the previous version, if any, moves to r->old_bytes). */
static int build_note(sim_world *w, sim_host *h, sim_record *r, size_t idx,
                      uint64_t seq) {
  uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  uint8_t value[DHT_NOTE_VALUE_MAX], enc[DHT_MAX_RECORD];
  char name[32];
  dht_record rec;
  size_t len;

  int n = snprintf(name, sizeof name, "sim-note-%zu", idx);
  sim_rng_fill(&w->work_rng, value, w->sc.value_size);
  if (dht_note_build(&rec, payload, sizeof payload, &h->ident,
                     (const uint8_t *)name, (size_t)n, value, w->sc.value_size,
                     w->q.now / DHT_SEC, w->sc.ttl, seq) != 0 ||
      dht_record_encode(&rec, enc, sizeof enc, &len) != 0)
    return SIM_ERR_SCENARIO;
  uint8_t *copy = malloc(len);
  if (copy == NULL)
    return SIM_ERR_NOMEM;
  memcpy(copy, enc, len);
  free(r->old_bytes);
  r->old_bytes = r->bytes;
  r->old_len = r->len;
  r->bytes = copy;
  r->len = len;
  r->seq = seq;
  memcpy(r->key, rec.key, DHT_KEY_LEN);
  r->author = h->index;
  return 0;
}

static void update_done(void *arg, int status, unsigned stored,
                        const dht_lookup_stats *stats) {
  sim_op *op = arg;
  sim_world *w = op->world;
  sim_record *r = &w->records[op->subject];

  (void)stats;
  if (status == 0 && stored > 0) {
    w->c.updates_ok++;
  } else {
    w->c.updates_failed++;
    forget_update(r);
  }
  read_back_later(w, op->subject);
  op_end(op);
}

/* on_update re-puts record |idx| with the next seq and a new value from
 * its author (who may have left: then the update is skipped). */
static void on_update(sim_world *w, size_t idx) {
  sim_record *r = &w->records[idx];
  sim_host *h = &w->hosts[r->author];
  r->updates_left--;
  if (h->state != SIM_HOST_UP) {
    w->c.updates_busy++;
    read_back_later(w, idx);
    return;
  }
  int rv = build_note(w, h, r, idx, r->seq + 1);
  if (rv != 0) {
    w->error = rv;
    return;
  }
  sim_op *op = op_new(w, SIM_OP_PUT, r->author, (uint32_t)idx);
  if (dht_node_put(h->node, w->q.now, r->bytes, r->len, update_done, op) !=
      0) {
    op_end(op);
    w->c.updates_busy++;
    forget_update(r);
    read_back_later(w, idx);
  } else {
    w->c.updates_started++;
  }
  sim_world_service(w, h);
}

void sim_workload_on_put(sim_world *w, const sim_event *ev) {
  if (ev->aux != 0) { /* an update of record aux - 1 */
    on_update(w, (size_t)(ev->aux - 1));
    return;
  }
  if (--w->puts_left > 0)
    sim_world_push(w, next_arrival(w, w->sc.put_rate), SIM_EV_PUT, 0, 0, NULL);
  uint32_t author = sim_world_pick_honest(w, &w->work_rng, NO_HOST);
  if (author == NO_HOST) {
    w->c.puts_busy++;
    return;
  }
  sim_host *h = &w->hosts[author];
  size_t idx = w->n_records;
  int rv = build_note(w, h, &w->records[idx], idx, 1);
  if (rv != 0) {
    w->error = rv;
    return;
  }
  w->records[idx].updates_left = w->sc.updates;
  w->n_records++;
  sim_op *op = op_new(w, SIM_OP_PUT, author, (uint32_t)idx);
  if (dht_node_put(h->node, w->q.now, w->records[idx].bytes,
                   w->records[idx].len, put_done, op) != 0) {
    op_end(op);
    w->c.puts_busy++;
  } else {
    w->c.puts_started++;
  }
  sim_world_service(w, h);
}

/* ---- Gets -------------------------------------------------------------- */

static void get_done(void *arg, int status, const dht_record *rec,
                     const uint8_t *bytes, size_t len,
                     const dht_lookup_stats *stats) {
  sim_op *op = arg;
  sim_world *w = op->world;
  const sim_record *r = &w->records[op->subject];

  w->c.gets_saw_stale += op->saw_stale;
  if (status == 0 && bytes != NULL && len == r->len &&
      memcmp(bytes, r->bytes, len) == 0) {
    w->c.gets_ok++;
    if (sim_values_add(&w->get_hops, stats->hops) != 0 ||
        sim_values_add(&w->get_ms, op_ms(op)) != 0)
      w->error = SIM_ERR_NOMEM;
  } else if (status == 0 && rec != NULL && rec->seq < r->seq &&
             memcmp(rec->author_pk, w->hosts[r->author].ident.pk,
                    NC_PK_LEN) == 0) {
    w->c.gets_stale++; /* a valid, superseded version */
  } else {
    if (status == 0) {
      w->c.gets_wrong++; /* something else came back */
    } else {
      w->c.gets_failed++;
      count_error(w->c.get_errors, status);
    }
    w->c.records_lost++;
  }
  op_end(op);
}

void sim_workload_on_get(sim_world *w, const sim_event *ev) {
  const sim_record *r = &w->records[ev->aux];
  uint32_t reader = sim_world_pick_honest(w, &w->work_rng, r->author);
  if (reader == NO_HOST) {
    w->c.gets_busy++;
    return;
  }
  sim_host *h = &w->hosts[reader];
  sim_op *op = op_new(w, SIM_OP_GET, reader, (uint32_t)ev->aux);
  w->records[ev->aux].get_op = (uint32_t)(op - w->ops) + 1;
  if (dht_node_get(h->node, w->q.now, r->key, get_done, op) != 0) {
    op_end(op);
    w->c.gets_busy++;
  } else {
    w->c.gets_started++;
  }
  sim_world_service(w, h);
}
