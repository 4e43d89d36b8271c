/*
 * The fake-batch flood: one flooder node with its own sender keys
 * (flood_keys of them, used in turn: storers keep at most
 * REG_INDEX_PER_AUTHOR index records per author and window) publishes
 * fake batches, one mode per time slot, and the run measures
 * what each mode costs the flooder and the honest nodes, and whether a
 * genuine batch published during the flood still gets its opt-outs.
 *
 * Slots of flood_slot each, from flood_start: 0 baseline (nothing but the
 * DHT's and the registry's own upkeep), 1 a genuine batch alone (what a
 * real batch costs the network, for comparison), then one slot per mode
 * in `modes`, then a final slot in which the flooder repeats every batch
 * mode at once (plus final_index bare index records) and a second genuine
 * batch is published 30 s after the burst began. Honest-side figures are sums over every node but the
 * flooder, taken at each slot boundary; a mode's cost is its slot minus
 * the baseline slot (the registry's work on a batch ends within a slot:
 * polls every poll_interval, fetches and refetches take seconds).
 *
 * Modes (the flooder's node is a modified node: it files its own records
 * without checking key rules, as a hostile implementation would):
 *   junk     valid batches of random entries at the minimum proof of work;
 *   lowpow   the same with batch_pow_bits - flood_pow_deficit bits (the
 *            index record's proof of work too, so storers refuse it);
 *   missing  manifest and index published, no chunk;
 *   garbled  data chunks whose content is changed but filed under the
 *            key of the original (the key rule refuses them);
 *   index    bare index records naming batches that do not exist, each
 *            with its index proof of work, optionally ground so that its
 *            storage slot sorts first (index_grind).
 * Every record is put with dht_node_put from the flooder's node through
 * the scripted put queue (registry.c), flood_inflight at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "sim.h"

#define SLOTS_MAX (SREG_MODES_MAX + 3)
#define FINAL_GENUINE_DELAY (30 * DHT_SEC)

enum { FL_SNAP, FL_MODE, FL_GENUINE, FL_FINAL };

/* Honest-side totals at one instant (sums over every node but the
 * flooder). */
typedef struct agg {
  uint64_t rx_datagrams, rx_bytes, tx_datagrams, tx_bytes;
  uint64_t refused, bad_record, accepted, records, record_bytes;
  uint64_t lookups;
  uint64_t seen, fetched, batches_refused, refetched, live;
  uint64_t flooder_tx_datagrams, flooder_tx_bytes;
  /* index records held under the keys of the current and the previous
   * index window (what a reader reads) */
  uint64_t ix_storers;       /* honest nodes holding at least one */
  uint64_t ix_held;          /* summed over them */
  uint64_t ix_held_max;      /* most at one node */
  uint64_t ix_flood_max;     /* most by the flooder's keys at one node */
  uint64_t ix_key_max;       /* most by one flooder key at one node */
  uint64_t ix_genuine;       /* nodes holding a genuine sender's record */
} agg;

/* What one mode cost the flooder. */
typedef struct mode_cost {
  uint64_t batches, entries, records, pow_hashes;
  uint64_t grind_hashes; /* index mode: slot grinding */
  uint64_t index_pow_hashes; /* batch modes: the index record's own proof
                                of work (nonce + 1), beside pow_hashes */
  uint64_t index_pow_ok;     /* batch modes: index records whose proof
                                meets the network's bits (lowpow: by
                                chance, 2^-deficit each) */
  unsigned pow_bits;
  double cpu_s;
} mode_cost;

typedef struct sreg_flood {
  agg snap[SLOTS_MAX + 1];
  unsigned n_snaps, n_slots;
  mode_cost cost[SREG_FLOOD_NMODES];
  uint32_t next_key; /* fake batches and index records rotate over the
                        flood_keys sender keys, in the order made */
} sreg_flood;

static uint32_t step(int kind, uint32_t value) {
  return (uint32_t)kind << 16 | value;
}

/* ---- Snapshots ------------------------------------------------------------ */

/* What one node holds under an index key, by author. */
typedef struct ix_count {
  const sim_reg *r;
  uint32_t by_sender[SREG_SENDERS_MAX];
  uint64_t held, flood, genuine;
} ix_count;

static int ix_visit(void *arg, const dht_record *rec, const uint8_t *bytes,
                    size_t len) {
  ix_count *c = arg;
  (void)bytes, (void)len;
  if (rec->type != REG_RECORD_INDEX)
    return 0;
  c->held++;
  int s = sreg_sender_of(c->r, rec->author_pk);
  if (s < 0)
    return 0;
  c->by_sender[s]++;
  if (c->r->senders[s].role == SREG_ROLE_FLOODER)
    c->flood++;
  else
    c->genuine++;
  return 0;
}

/* add_index adds what honest node |h| holds under the index keys of the
 * current and the previous window. */
static void add_index(agg *a, const sim_reg *r, sim_host *h, dht_time now) {
  ix_count c;
  uint64_t cur = reg_index_window(now / DHT_SEC);
  uint8_t key[DHT_KEY_LEN];
  memset(&c, 0, sizeof c);
  c.r = r;
  for (uint64_t win = cur > 0 ? cur - 1 : 0; win <= cur; win++) {
    reg_index_key(key, win);
    dht_node_local_get(h->node, key, ix_visit, &c);
  }
  if (c.held == 0)
    return;
  a->ix_storers++;
  a->ix_held += c.held;
  a->ix_genuine += c.genuine > 0;
  if (c.held > a->ix_held_max)
    a->ix_held_max = c.held;
  if (c.flood > a->ix_flood_max)
    a->ix_flood_max = c.flood;
  for (size_t i = 0; i < r->n_senders; i++)
    if (r->senders[i].role == SREG_ROLE_FLOODER &&
        c.by_sender[i] > a->ix_key_max)
      a->ix_key_max = c.by_sender[i];
}

static void add_host(agg *a, sim_host *h, int flooder) {
  dht_stats st;
  reg_stats rs;
  dht_node_stats(h->node, &st);
  if (flooder) {
    a->flooder_tx_datagrams += st.tx_datagrams;
    a->flooder_tx_bytes += st.tx_bytes;
    return;
  }
  a->rx_datagrams += st.rx_datagrams;
  a->rx_bytes += st.rx_bytes;
  a->tx_datagrams += st.tx_datagrams;
  a->tx_bytes += st.tx_bytes;
  a->refused += st.records_refused;
  a->bad_record += st.dropped[DHT_DROP_BAD_RECORD];
  a->accepted += st.records_accepted;
  a->records += st.records;
  a->record_bytes += st.record_bytes;
  a->lookups += st.lookups_ok + st.lookups_failed;
  if (h->reg == NULL)
    return;
  reg_node_stats(h->reg, &rs);
  a->seen += rs.batches_seen;
  a->fetched += rs.batches_fetched;
  a->batches_refused += rs.batches_refused;
  a->refetched += rs.chunks_refetched;
  a->live += rs.live_batches;
}

static void snapshot(sim_world *w) {
  sreg_flood *f = w->reg->flood;
  if (f->n_snaps > SLOTS_MAX)
    return;
  agg *a = &f->snap[f->n_snaps++];
  memset(a, 0, sizeof *a);
  for (uint32_t i = 0; i < w->n_hosts; i++)
    if (w->hosts[i].state == SIM_HOST_UP) {
      add_host(a, &w->hosts[i], i == w->reg->cfg.flooder);
      if (i != w->reg->cfg.flooder && w->hosts[i].node != NULL)
        add_index(a, w->reg, &w->hosts[i], w->q.now);
    }
}

/* ---- Building fake batches ---------------------------------------------------- */

/* random_addrs makes |n| random addresses (fresh entries nobody protects). */
static char **random_addrs(sim_reg *r, size_t n) {
  char **a = calloc(n ? n : 1, sizeof *a);
  char buf[64];
  for (size_t i = 0; a != NULL && i < n; i++) {
    snprintf(buf, sizeof buf, "x%016llx@junk.test",
             (unsigned long long)sim_rng_next(&r->rng));
    if ((a[i] = strdup(buf)) == NULL) {
      sreg_free_addrs(a, i);
      return NULL;
    }
  }
  return a;
}

/* garble re-signs a data chunk record with its last entry changed by one
 * (still sorted) under the original key. Returns 1 if |rec| was a data
 * chunk and |out| holds the garbled record, 0 to use |rec| as it is. */
static int garble(const nc_identity *author, const uint8_t *rec, size_t len,
                  uint8_t out[DHT_MAX_RECORD], size_t *out_len) {
  dht_record x;
  uint8_t payload[REG_CHUNK_PAYLOAD_MAX];
  if (dht_record_decode(&x, rec, len) != 0 || x.type != REG_RECORD_CHUNK ||
      x.payload_len < 3 || x.payload_len > sizeof payload ||
      x.payload[1] != 0 /* [kind 0 = data, content] */)
    return 0;
  memcpy(payload, x.payload, x.payload_len);
  uint8_t *last = &payload[x.payload_len - 1];
  *last = *last != 0xff ? *last + 1 : *last - 1;
  return reg_record_make(out, DHT_MAX_RECORD, out_len, REG_RECORD_CHUNK,
                         x.key, payload, x.payload_len,
                         author, x.created, x.expires, 0) == 0;
}

/* The index record of a fake batch is accounted under its own put tag
 * (IX_TAG(mode)) so that what storers did with it shows apart. */
#define IX_TAG(m) (SREG_FLOOD_NMODES + (m))
_Static_assert(IX_TAG(SREG_FLOOD_NMODES) <= SREG_TAGS_MAX, "put tags");

/* queue_batch queues the records of fake batch |b| as mode |m| wants:
 * chunks first, then manifest and index (the publishing order). */
static int queue_batch(sim_world *w, const reg_batch *b, int m,
                       const nc_identity *author) {
  uint32_t host = w->reg->cfg.flooder;
  size_t n = reg_batch_record_count(b), len, glen;
  uint8_t garbled[DHT_MAX_RECORD];
  int rv = 0;
  for (size_t k = 0; k < n && rv == 0; k++) {
    size_t i = k + 2 < n ? k + 2 : k + 2 - n; /* 2..n-1, then 0, 1 */
    const uint8_t *rec = reg_batch_record(b, i, &len);
    if (rec == NULL || (m == SREG_FLOOD_MISSING && i >= 2))
      continue;
    if (m == SREG_FLOOD_GARBLED && i >= 2 &&
        garble(author, rec, len, garbled, &glen)) {
      rv = sreg_putq_add(w, host, garbled, glen, m);
      continue;
    }
    rv = sreg_putq_add(w, host, rec, len, i == 1 ? IX_TAG(m) : m);
  }
  return rv;
}

/* fake_batch builds and queues one fake batch of mode |m| signed by
 * flooder key number |k| (sender 1 + k). */
static int fake_batch(sim_world *w, int m, uint32_t k) {
  sim_reg *r = w->reg;
  mode_cost *c = &r->flood->cost[m];
  const nc_identity *author = &r->senders[1 + k].id;
  unsigned base = r->cfg.rc.batch_pow_base_bits;
  if (m == SREG_FLOOD_LOWPOW)
    base = base > r->cfg.flood_pow_deficit ? base - r->cfg.flood_pow_deficit
                                           : 0;
  char **addrs = random_addrs(r, r->cfg.flood_entries);
  reg_batch *b = NULL;
  if (addrs == NULL)
    return SIM_ERR_NOMEM;
  double t = sreg_cpu_now();
  int rv = reg_batch_build(&b, (const char *const *)addrs,
                           r->cfg.flood_entries, author,
                           w->q.now / DHT_SEC, r->cfg.batch_ttl_s, base,
                           sreg_rng_fill, &r->rng);
  c->cpu_s += sreg_cpu_now() - t;
  sreg_free_addrs(addrs, r->cfg.flood_entries);
  if (rv != 0)
    return SIM_ERR_INVALID_ARGUMENT;
  const reg_manifest *man = reg_batch_manifest(b);
  c->batches++;
  c->entries += man->count;
  c->records += reg_batch_record_count(b);
  c->pow_hashes += man->pow_nonce + 1;
  c->pow_bits = reg_batch_pow_bits(man->count, base);
  size_t ilen;
  const uint8_t *irec = reg_batch_record(b, 1, &ilen);
  dht_record ir;
  reg_index ix;
  if (irec != NULL && dht_record_decode(&ir, irec, ilen) == 0 &&
      reg_index_decode(&ix, ir.payload, ir.payload_len) == 0) {
    c->index_pow_hashes += ix.pow_nonce + 1;
    c->index_pow_ok +=
        reg_index_pow_ok(&ix, author->pk, r->cfg.rc.batch_pow_base_bits) == 1;
  }
  rv = queue_batch(w, b, m, author);
  reg_batch_free(b);
  return rv;
}

static unsigned leading_zero_bits(const uint8_t *h, size_t len) {
  unsigned n = 0;
  for (size_t i = 0; i < len; i++) {
    if (h[i] != 0) {
      for (uint8_t b = h[i]; !(b & 0x80); b <<= 1)
        n++;
      return n;
    }
    n += 8;
  }
  return n;
}

/* index_payload draws batch ids and mines each one's index proof of
 * work (storers refuse index records without it) until the record's
 * storage slot (BLAKE2b-256(author || payload), the order in which
 * storers serve a key's records) has index_grind leading zero bits, so
 * that readers meet the flooder's records first. Counts the hashes in
 * |c|. Returns 0 or -1. */
static int index_payload(sim_reg *r, const nc_identity *author, reg_index *x,
                         uint8_t *payload, size_t *plen, mode_cost *c) {
  uint64_t max = UINT64_C(1) << (r->cfg.index_grind + 12);
  for (uint64_t tries = 0; tries < max; tries++) {
    uint8_t slot[DHT_KEY_LEN];
    dht_record probe;
    sim_rng_fill(&r->rng, x->batch_id, sizeof x->batch_id);
    if (reg_index_pow_mine(x, author->pk, r->cfg.rc.batch_pow_base_bits) != 0)
      return -1;
    c->pow_hashes += x->pow_nonce + 1;
    if (reg_index_encode(x, payload, REG_INDEX_PAYLOAD_MAX, plen) != 0)
      return -1;
    if (r->cfg.index_grind == 0)
      return 0;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.author_pk, author->pk, NC_PK_LEN);
    probe.payload = payload;
    probe.payload_len = *plen;
    dht_record_slot(slot, &probe, 1);
    c->grind_hashes++;
    if (leading_zero_bits(slot, sizeof slot) >= r->cfg.index_grind)
      return 0;
  }
  return -1;
}

/* fake_index queues one bare index record naming a random batch id,
 * signed by flooder key number |k| (sender 1 + k). */
static int fake_index(sim_world *w, uint32_t k) {
  sim_reg *r = w->reg;
  mode_cost *c = &r->flood->cost[SREG_FLOOD_INDEX];
  uint64_t now_s = w->q.now / DHT_SEC;
  reg_index x = {.window = reg_index_window(now_s),
                 .count = r->cfg.flood_entries};
  uint8_t payload[REG_INDEX_PAYLOAD_MAX], key[DHT_KEY_LEN];
  uint8_t rec[DHT_MAX_RECORD];
  size_t plen, len;
  reg_index_key(key, x.window);
  double t = sreg_cpu_now();
  int rv = index_payload(r, &r->senders[1 + k].id, &x, payload, &plen, c);
  if (rv == 0)
    rv = reg_record_make(rec, sizeof rec, &len, REG_RECORD_INDEX, key, payload,
                         plen, &r->senders[1 + k].id, now_s,
                         now_s + r->cfg.batch_ttl_s, 0);
  c->cpu_s += sreg_cpu_now() - t;
  if (rv != 0)
    return SIM_ERR_INVALID_ARGUMENT;
  c->records++;
  c->pow_bits = r->cfg.rc.batch_pow_base_bits;
  return sreg_putq_add(w, r->cfg.flooder, rec, len, SREG_FLOOD_INDEX);
}

/* flood_mode publishes |n| fake batches (or bare index records) of mode
 * |m|. Batches and index records rotate over the flood_keys sender keys
 * (storers keep REG_INDEX_PER_AUTHOR index records per author and
 * window, so a flooder announcing more needs more keys). */
static void flood_mode(sim_world *w, int m, uint32_t n) {
  sim_reg *r = w->reg;
  for (uint32_t i = 0; i < n && w->error == 0; i++) {
    uint32_t k = r->flood->next_key++ % r->cfg.flood_keys;
    int rv = m == SREG_FLOOD_INDEX ? fake_index(w, k) : fake_batch(w, m, k);
    if (rv == SIM_ERR_NOMEM)
      w->error = rv;
  }
  if (m == SREG_FLOOD_INDEX)
    r->flood->cost[m].batches += n;
  sreg_putq_kick(w);
}

/* ---- Events ---------------------------------------------------------------- */

/* The final burst: every batch mode again, and final_index bare index
 * records. */
static void on_final(sim_world *w) {
  const sreg_cfg *c = &w->reg->cfg;
  for (unsigned i = 0; i < c->n_modes; i++)
    if (c->modes[i] != SREG_FLOOD_INDEX)
      flood_mode(w, c->modes[i], c->flood_batches);
  if (c->final_index > 0)
    flood_mode(w, SREG_FLOOD_INDEX, c->final_index);
}

void sreg_flood_on_event(sim_world *w, uint32_t arg) {
  int kind = (int)(arg >> 16);
  uint32_t value = arg & 0xffff;
  if (kind == FL_SNAP) {
    snapshot(w);
  } else if (kind == FL_MODE) {
    const sreg_cfg *c = &w->reg->cfg;
    flood_mode(w, (int)value,
               (int)value == SREG_FLOOD_INDEX ? c->flood_index
                                              : c->flood_batches);
  } else if (kind == FL_GENUINE) {
    int rv = sreg_publish_genuine(w, value ? "genuine-during-flood"
                                           : "genuine-calm");
    if (rv == SIM_ERR_NOMEM)
      w->error = rv;
  } else {
    on_final(w);
  }
}

int sreg_flood_assign(sim_world *w) {
  sim_reg *r = w->reg;
  const sreg_cfg *c = &r->cfg;
  if ((r->flood = calloc(1, sizeof *r->flood)) == NULL)
    return SIM_ERR_NOMEM;
  sreg_flood *f = r->flood;
  w->hosts[c->flooder].cfg = &r->lax_cfg;
  f->n_slots = c->n_modes + 3;
  dht_time t0 = w->t0 + c->flood_start;
  for (unsigned s = 0; s <= f->n_slots; s++)
    sreg_push(w, t0 + s * c->flood_slot, SREG_ACT_FLOOD, step(FL_SNAP, s));
  sreg_push(w, t0 + c->flood_slot, SREG_ACT_FLOOD, step(FL_GENUINE, 0));
  for (unsigned i = 0; i < c->n_modes; i++)
    sreg_push(w, t0 + (2 + i) * c->flood_slot, SREG_ACT_FLOOD,
              step(FL_MODE, (uint32_t)c->modes[i]));
  dht_time final = t0 + (f->n_slots - 1) * c->flood_slot;
  sreg_push(w, final, SREG_ACT_FLOOD, step(FL_FINAL, 0));
  sreg_push(w, final + FINAL_GENUINE_DELAY, SREG_ACT_FLOOD,
            step(FL_GENUINE, 1));
  return 0;
}

/* ---- Figures ------------------------------------------------------------- */

static json_t *cost_json(const sim_reg *r, int m) {
  const mode_cost *c = &r->flood->cost[m];
  const sreg_putstat *ix = &r->putstat[IX_TAG(m)];
  sreg_putstat all = r->putstat[m], *p = &all; /* every record of the mode */
  all.puts += ix->puts;
  all.acked += ix->acked;
  all.stored_sum += ix->stored_sum;
  all.not_stored += ix->not_stored;
  all.refused_locally += ix->refused_locally;
  json_t *ixj = m == SREG_FLOOD_INDEX
                    ? json_null()
                    : json_pack("{s:I, s:I, s:I, s:f}", "puts",
                                (json_int_t)ix->puts, "pow_ok",
                                (json_int_t)c->index_pow_ok, "stored_nowhere",
                                (json_int_t)ix->not_stored,
                                "storers_mean",
                                ix->puts ? (double)ix->stored_sum / ix->puts
                                         : 0.0);
  double per_batch = c->batches ? (double)c->pow_hashes / c->batches : 0;
  double per_entry = c->entries ? (double)c->pow_hashes / c->entries : 0;
  return json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:f, s:I, "
      "s:I, s:o}",
      "batches", (json_int_t)c->batches, "entries", (json_int_t)c->entries,
      "slot_grind_hashes", (json_int_t)c->grind_hashes,
      "records_signed", (json_int_t)c->records, "pow_bits",
      (json_int_t)c->pow_bits, "pow_hashes", (json_int_t)c->pow_hashes,
      "pow_hashes_per_batch", per_batch, "pow_hashes_per_entry", per_entry,
      "puts", (json_int_t)p->puts, "puts_acknowledged", (json_int_t)p->acked,
      "puts_stored_nowhere", (json_int_t)p->not_stored, "storers_mean",
      p->puts ? (double)p->stored_sum / p->puts : 0.0, "refused_locally",
      (json_int_t)p->refused_locally, "index_pow_hashes",
      (json_int_t)c->index_pow_hashes, "index_records", ixj);
}

static const char *slot_name(const sreg_cfg *c, unsigned s) {
  if (s == 0)
    return "baseline";
  if (s == 1)
    return "genuine";
  if (s - 2 < c->n_modes)
    return sreg_mode_name(c->modes[s - 2]);
  return "final";
}

#define D(field) (json_int_t)(b->field - a->field)
static json_t *slot_json(const sim_world *w, unsigned s) {
  const sreg_flood *f = w->reg->flood;
  const agg *a = &f->snap[s], *b = &f->snap[s + 1], *z = &f->snap[0];
  const agg *z1 = &f->snap[1];
  uint32_t honest = w->n_honest > 1 ? w->n_honest - 1 : 1;
  double base_rx = (double)(z1->rx_bytes - z->rx_bytes);
  json_t *ix = json_pack(
      "{s:I, s:f, s:I, s:I, s:I, s:I}", "storers", (json_int_t)b->ix_storers,
      "records_mean", b->ix_storers ? (double)b->ix_held / b->ix_storers : 0.0,
      "records_max", (json_int_t)b->ix_held_max, "flooder_records_max",
      (json_int_t)b->ix_flood_max, "per_flooder_key_max",
      (json_int_t)b->ix_key_max, "storers_with_genuine",
      (json_int_t)b->ix_genuine);
  return json_pack(
      "{s:s, s:f, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, "
      "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
      "slot", slot_name(&w->reg->cfg, s), "start_s",
      (double)(w->reg->cfg.flood_start + s * w->reg->cfg.flood_slot) / 1e9,
      "rx_datagrams", D(rx_datagrams), "rx_bytes", D(rx_bytes),
      "tx_datagrams", D(tx_datagrams), "tx_bytes", D(tx_bytes),
      "extra_rx_bytes_per_node", ((double)(b->rx_bytes - a->rx_bytes) - base_rx) /
                                     honest,
      "records_accepted", D(accepted), "records_refused", D(refused),
      "refused_invalid", D(bad_record), "refused_quota",
      (json_int_t)((b->refused - a->refused) - (b->bad_record - a->bad_record)),
      "record_bytes_growth", (json_int_t)((int64_t)b->record_bytes - (int64_t)a->record_bytes),
      "record_bytes_end", (json_int_t)b->record_bytes, "engine_operations",
      D(lookups), "batches_seen", D(seen), "batches_fetched", D(fetched),
      "batches_refused", D(batches_refused), "chunks_refetched", D(refetched),
      "live_batches_end", (json_int_t)b->live, "flooder_tx_bytes",
      D(flooder_tx_bytes), "index_held_end", ix);
}
#undef D

json_t *sreg_flood_json(sim_world *w) {
  sim_reg *r = w->reg;
  sreg_flood *f = r->flood;
  json_t *costs = json_object(), *slots = json_array();
  for (unsigned i = 0; costs != NULL && i < r->cfg.n_modes; i++)
    json_object_set_new(costs, sreg_mode_name(r->cfg.modes[i]),
                        cost_json(r, r->cfg.modes[i]));
  for (unsigned s = 0; slots != NULL && s + 1 < f->n_snaps; s++)
    json_array_append_new(slots, slot_json(w, s));
  return json_pack("{s:f, s:I, s:I, s:I, s:I, s:o, s:o}", "slot_s",
                   (double)r->cfg.flood_slot / 1e9, "sender_keys",
                   (json_int_t)r->cfg.flood_keys, "key_puzzle_bits",
                   (json_int_t)w->sc.dht.difficulty, "honest_nodes",
                   (json_int_t)(w->n_honest - 1), "flooder_host",
                   (json_int_t)r->cfg.flooder, "flooder", costs,
                   "honest_slots", slots);
}

/* sreg_flood_cpu_json: the flooder's CPU seconds per mode (host figure). */
json_t *sreg_flood_cpu_json(sim_world *w) {
  sim_reg *r = w->reg;
  json_t *o = json_object();
  for (unsigned i = 0; o != NULL && i < r->cfg.n_modes; i++) {
    const mode_cost *c = &r->flood->cost[r->cfg.modes[i]];
    json_object_set_new(
        o, sreg_mode_name(r->cfg.modes[i]),
        json_pack("{s:f, s:f}", "cpu_s", c->cpu_s, "cpu_s_per_batch",
                  c->batches ? c->cpu_s / c->batches : 0.0));
  }
  return o;
}

void sreg_flood_free(sim_reg *r) {
  free(r->flood);
  r->flood = NULL;
}
