/*
 * The collection phase of dht_node_get_all. A get stops at the first valid
 * record; get_all wants every record under a key (many authors, or many
 * slots of a multi type such as an opt-out inbox), so after a node lookup
 * of the key it asks each of the k closest nodes that answered with
 * FIND_VALUE, paging with offsets while a node reports more records
 * (total) than it has sent. Requests to different nodes run in parallel;
 * the pages of one node follow each other (the size of a page is known
 * only once it arrives).
 *
 * Every record is decoded, verified and checked to lie under the key;
 * refused ones are counted (records_refused, dropped bad_record) and never
 * visited. Records are de-duplicated by slot (dht_record_slot): for
 * ordinary types the highest seq of each author is kept, for multi types
 * the latest expiry of each slot. Bytes identical to a record already kept
 * are not verified again, since the k closest nodes mostly hold the same
 * records. The collection stops once |max| distinct records are kept or
 * every node is done; a node is asked for at most |max| records, since an
 * honest node's first |max| records are distinct. A collection may start
 * at an offset into every node's records (and our own): honest nodes
 * order a key's records alike (by slot), so successive collections from
 * offsets 0, max, 2 max, ... page through a key holding more than |max|.
 * The records are kept
 * (sorted by slot) until delivery, so that each is visited once, in its
 * newest version, from dht_ops_reap.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

/* dht_sorted_find's order of kept records: by slot. */
static int slot_cmp(const void *recs, size_t i, const void *slot) {
  return memcmp(((dht_ga_rec *const *)recs)[i]->slot, slot, DHT_KEY_LEN);
}

/* Binary search by slot: returns 1 and the index if held, else 0 and the
 * insertion index. */
static int slot_search(const dht_getall *ga, const uint8_t slot[DHT_KEY_LEN],
                       size_t *pos) {
  return dht_sorted_find(ga->recs, ga->n, slot, slot_cmp, pos);
}

static dht_ga_rec *rec_copy(const dht_record *rec,
                            const uint8_t slot[DHT_KEY_LEN],
                            const uint8_t *bytes, size_t len) {
  dht_ga_rec *r = malloc(sizeof *r + len);
  if (!r) return NULL;
  memcpy(r->slot, slot, DHT_KEY_LEN);
  r->seq = rec->seq;
  r->expires = rec->expires;
  r->len = (uint16_t)len;
  memcpy(r->bytes, bytes, len);
  return r;
}

/* Inserts |r| at |pos|. Returns 0 or DHT_ERR_NOMEM (|r| not taken). */
static int insert_at(dht_getall *ga, size_t pos, dht_ga_rec *r) {
  if (ga->n == ga->cap) {
    size_t cap = ga->cap ? ga->cap * 2 : 16;
    dht_ga_rec **nr = realloc(ga->recs, cap * sizeof *nr);
    if (!nr) return DHT_ERR_NOMEM;
    ga->recs = nr;
    ga->cap = cap;
  }
  memmove(&ga->recs[pos + 1], &ga->recs[pos], (ga->n - pos) * sizeof *ga->recs);
  ga->recs[pos] = r;
  ga->n++;
  return 0;
}

static void refuse(dht_node *node, dht_getall *ga) {
  ga->refused++;
  node->stats.records_refused++;
  node->stats.dropped[DHT_DROP_BAD_RECORD]++;
}

/* Returns 1 if |rec| is newer than the kept |old| of the same slot. */
static int newer(const dht_node *node, const dht_record *rec,
                 const dht_ga_rec *old) {
  if (dht_store_multi(&node->store, rec->type))
    return rec->expires > old->expires;
  return rec->seq > old->seq;
}

/* Verifies one record and merges it into the collection. */
static void take(dht_node *node, dht_op *op, const uint8_t *bytes,
                 size_t len) {
  dht_getall *ga = op->ga;
  dht_record rec;
  uint8_t slot[DHT_KEY_LEN];
  size_t pos;
  if (len == 0 || len > DHT_MAX_RECORD ||
      dht_record_decode(&rec, bytes, len) != 0) {
    refuse(node, ga);
    return;
  }
  dht_store_slot(&node->store, &rec, slot);
  int found = slot_search(ga, slot, &pos);
  if (found && ga->recs[pos]->len == len &&
      memcmp(ga->recs[pos]->bytes, bytes, len) == 0)
    return; /* verified when it first came */
  int rv = dht_record_verify(&rec, node->now / DHT_SEC, node->cfg.difficulty,
                             node->cfg.types, node->cfg.n_types);
  if (rv == 0 && memcmp(rec.key, op->lk.target, DHT_KEY_LEN) != 0)
    rv = DHT_ERR_KEY_RULE;
  if (rv < 0) {
    refuse(node, ga);
    return;
  }
  if (found && !newer(node, &rec, ga->recs[pos])) return;
  if (!found && ga->n >= ga->max) return;
  dht_ga_rec *r = rec_copy(&rec, slot, bytes, len);
  if (!r) return; /* out of memory: the record is missed, not fatal */
  if (found) {
    free(ga->recs[pos]);
    ga->recs[pos] = r;
  } else if (insert_at(ga, pos, r) < 0) {
    free(r);
  }
}

/* Asks peer |i| for its records from its |received|-th on. */
static void ask(dht_node *node, dht_op *op, size_t i) {
  dht_ga_peer *gp = &op->ga->peers[i];
  dht_msg m;
  dht_msg_start(&m, DHT_MSG_FIND_VALUE);
  memcpy(m.target, op->lk.target, DHT_ID_LEN);
  m.offset = gp->received;
  if (dht_rpc_send(node, &gp->peer, &m, DHT_PEND_LOOKUP, op->id, NULL) < 0)
    return;
  gp->inflight = 1;
  op->ga->inflight++;
  op->lk.stats.queried++;
}

/* Finishes |op| when it has all it wants or nothing is outstanding. A
 * collection in which nodes were asked and none ever answered failed. */
static void check_end(dht_node *node, dht_op *op) {
  const dht_getall *ga = op->ga;
  if (ga->n < ga->max && ga->inflight > 0) return;
  int silent = op->lk.stats.queried > 0 && op->lk.stats.responded == 0;
  dht_ops_finish(node, op, silent && ga->n == 0 ? DHT_ERR_TIMEOUT : 0);
}

/* Takes our own live records under the key from the start-th on, in
 * the order a FIND_VALUE would page through them. */
static void merge_local(dht_node *node, dht_op *op) {
  size_t first, n = dht_store_range(&node->store, op->lk.target, &first);
  uint32_t live = 0;
  for (size_t i = first; i < first + n && op->ga->n < op->ga->max; i++) {
    const dht_srec *r = node->store.recs[i];
    if (dht_node_live_record(node, r) && live++ >= op->ga->start)
      take(node, op, r->bytes, r->len);
  }
}

void dht_collect_begin(dht_node *node, dht_op *op) {
  int idx[DHT_K_MAX];
  dht_getall *ga = op->ga;
  op->phase = DHT_PHASE_COLLECT;
  merge_local(node, op);
  size_t n = dht_lookup_results(&op->lk, idx, node->cfg.k);
  for (size_t j = 0; j < n && ga->n < ga->max; j++) {
    dht_ga_peer *gp = &ga->peers[ga->n_peers];
    memset(gp, 0, sizeof *gp);
    dht_ops_peer(&gp->peer, &op->lk.pool[idx[j]]);
    gp->received = ga->start; /* the offset of the first page */
    ga->n_peers++;
    ask(node, op, ga->n_peers - 1);
  }
  check_end(node, op);
}

/* Returns the index of the peer |id| with a request outstanding, or -1. */
static int find_peer(const dht_getall *ga, const uint8_t id[DHT_ID_LEN]) {
  for (size_t i = 0; i < ga->n_peers; i++)
    if (ga->peers[i].inflight &&
        memcmp(ga->peers[i].peer.id, id, DHT_ID_LEN) == 0)
      return (int)i;
  return -1;
}

void dht_collect_reply(dht_node *node, dht_op *op, const dht_pending *p,
                       const dht_peer *peer, const dht_msg *m) {
  dht_getall *ga = op->ga;
  if (p->type != DHT_MSG_FIND_VALUE || m->type != DHT_MSG_VALUES) return;
  int i = find_peer(ga, peer->id);
  if (i < 0) return; /* a late reply of the lookup phase */
  dht_ga_peer *gp = &ga->peers[i];
  gp->inflight = 0;
  ga->inflight--;
  op->lk.stats.responded++;
  for (size_t j = 0; j < m->n_records; j++)
    take(node, op, m->records[j], m->record_lens[j]);
  gp->received += (uint32_t)m->n_records;
  gp->total = m->total;
  if (ga->n < ga->max && m->n_records > 0 && gp->received < m->total &&
      gp->received - ga->start < ga->max)
    ask(node, op, (size_t)i);
  check_end(node, op);
}

void dht_collect_timeout(dht_node *node, dht_op *op, const dht_pending *p) {
  dht_getall *ga = op->ga;
  if (p->type != DHT_MSG_FIND_VALUE) return;
  int i = find_peer(ga, p->id);
  if (i < 0) return;
  ga->peers[i].inflight = 0;
  ga->inflight--;
  op->lk.stats.timeouts++;
  check_end(node, op);
}

/* Where a further collection must start so that no node's records are
 * skipped: a collection stops at |max| distinct records, and nodes that
 * hold different records (or answer at different speeds) are then at
 * different positions; the least position of a node that had more wins
 * (at worst records are read twice). A position that did not move past
 * the start (a node that claims more but sends nothing) does not hold the
 * others back. */
static uint32_t resume_offset(const dht_getall *ga) {
  uint32_t at = UINT32_MAX;
  for (size_t i = 0; i < ga->n_peers; i++) {
    const dht_ga_peer *gp = &ga->peers[i];
    if (gp->received > ga->start && gp->received < gp->total &&
        gp->received < at)
      at = gp->received;
  }
  return at != UINT32_MAX ? at : ga->start + ga->max;
}

void dht_collect_deliver(dht_node *node, dht_op *op,
                         const dht_lookup_stats *st) {
  unsigned found = 0;
  dht_getall *ga = op->ga;
  dht_lookup_stats out = *st;
  (void)node;
  if (ga) out.resume_offset = resume_offset(ga);
  st = &out;
  for (size_t i = 0; ga && i < ga->n; i++) {
    dht_record rec;
    if (dht_record_decode(&rec, ga->recs[i]->bytes, ga->recs[i]->len) != 0)
      continue; /* cannot happen: it decoded when it came */
    found++;
    op->visit(op->arg, &rec, ga->recs[i]->bytes, ga->recs[i]->len);
  }
  if (op->cb.get_all) op->cb.get_all(op->arg, op->status, found, st);
}

void dht_collect_free(dht_op *op) {
  dht_getall *ga = op->ga;
  if (!ga) return;
  for (size_t i = 0; i < ga->n; i++) free(ga->recs[i]);
  free(ga->recs);
  free(ga);
  op->ga = NULL;
}
