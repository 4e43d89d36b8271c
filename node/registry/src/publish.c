/*
 * Publishing a batch file: decode and verify it whole (every envelope and
 * signature, the proof of work, every chunk against the tree, the
 * entries), then dht_node_put every record, REG_PUBLISH_INFLIGHT at a
 * time (the DHT's max_operations is shared with everything else; a BUSY
 * answer is retried after REG_BUSY_RETRY).
 *
 * Order: the chunks first, then the manifest, and the index record only
 * once all of those have completed, so that a node that learns of the
 * batch from the index finds everything it names. Each record is put
 * once; the DHT keeps them as the publishing node's own and republishes
 * them until they expire, so a put that failed now is repeated anyway.
 *
 * A batch whose index record announces it in a window older than the
 * previous one is refused (REG_ERR_STALE): running nodes would never
 * read that window. The sender announces it again (reg_batch_reannounce,
 * `batch publish --key`).
 *
 * The batch file is decoded at puzzle difficulty 0 (the registry does not
 * know the DHT's), and the first put, made before returning, checks the
 * sender key's puzzle at the DHT's difficulty: every record of a batch
 * has the same author, so if it passes, all do.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static void on_pub_put(void *arg, int status, unsigned stored,
                       const dht_lookup_stats *st);

static void pub_free(reg_pub *p) {
  reg_batch_free(p->b);
  free(p->order);
  free(p);
}

static void pub_remove(reg_node *r, reg_pub *p) {
  for (size_t i = 0; i < r->n_pubs; i++)
    if (r->pubs[i] == p) {
      reg_vec_remove((void **)r->pubs, &r->n_pubs, i);
      break;
    }
}

/* Puts record |i| of |p| (|tries| puts of it came before). Returns 0
 * (started), DHT_ERR_BUSY, or the put's error. */
static int pub_put(reg_node *r, reg_pub *p, size_t i, unsigned tries) {
  size_t len;
  const uint8_t *rec = reg_batch_record(p->b, i, &len);
  if (!rec) return REG_ERR_MALFORMED;
  reg_req *q = reg_req_new(r, REG_REQ_PUBLISH);
  if (!q) return DHT_ERR_BUSY;
  q->job = p;
  q->rec = i;
  q->tries = tries;
  int rv = dht_node_put(r->dht, r->now, rec, len, on_pub_put, q);
  if (rv < 0) reg_req_free(q);
  return rv;
}

/* Puts record |order[next]|. Returns as pub_put. */
static int pub_put_next(reg_node *r, reg_pub *p) {
  int rv = pub_put(r, p, p->order[p->next], 0);
  if (rv < 0) return rv;
  p->next++;
  p->in_flight++;
  return 0;
}

static void pub_note_failure(reg_pub *p, int err) {
  p->failed++;
  if (!p->first_err) p->first_err = err;
}

/* Reports and frees |p| once every record is accounted for. Returns 1 if
 * it did. */
static int pub_settle(reg_node *r, reg_pub *p) {
  if (p->published + p->failed < p->n) return 0;
  pub_remove(r, p);
  if (p->cb)
    p->cb(p->arg, p->failed ? (p->first_err ? p->first_err : DHT_ERR_TIMEOUT)
                            : 0,
          p->published, p->failed);
  pub_free(p);
  return 1;
}

/* Starts puts as far as the bounds allow; |p| waits for a timer only
 * after a BUSY (retry_at), else for completions. */
static void pub_pump_one(reg_node *r, reg_pub *p) {
  p->retry_at = DHT_TIME_NONE;
  while (p->in_flight < REG_PUBLISH_INFLIGHT && p->next < p->n) {
    if (p->next == p->barrier && p->published + p->failed < p->barrier)
      break; /* the index waits for the rest */
    if (p->next == p->barrier && reg_batch_stale(p->b, reg_now_s(r))) {
      /* A batch that took hours to put: its index would land in a window
       * running nodes no longer read. Announce it again (12.8). */
      p->next++;
      p->failed++;
      p->first_err = REG_ERR_STALE; /* the one to act on */
      continue;
    }
    int rv = pub_put_next(r, p);
    if (rv == DHT_ERR_BUSY) {
      p->retry_at = r->now + REG_BUSY_RETRY;
      reg_wake(r, p->retry_at);
      break;
    }
    if (rv < 0) {
      p->next++;
      pub_note_failure(p, rv);
    }
  }
  pub_settle(r, p);
}

static void on_pub_put(void *arg, int status, unsigned stored,
                       const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_pub *p = q->job;
  size_t i = q->rec;
  unsigned tries = q->tries + 1;
  (void)st;
  reg_req_free(q);
  /* No storer answered (an overloaded network, say): put it again at
   * once, REG_PUBLISH_TRIES times in all; the put's own timeouts space
   * the tries. A refusal (quota, key rule) is final. */
  if ((status == DHT_ERR_TIMEOUT || (status == 0 && stored == 0)) &&
      tries < REG_PUBLISH_TRIES && pub_put(r, p, i, tries) == 0)
    return;
  p->in_flight--;
  if (status == 0 && stored > 0)
    p->published++;
  else
    pub_note_failure(p, status ? status : DHT_ERR_TIMEOUT);
  if (!pub_settle(r, p)) pub_pump_one(r, p);
}

/* Chunks (records 2..n-1), the manifest (0), then the index (1). */
static int pub_order(reg_pub *p) {
  size_t n = p->n, k = 0;
  if (n < 2 || !(p->order = malloc(n * sizeof *p->order)))
    return n < 2 ? REG_ERR_MALFORMED : REG_ERR_NOMEM;
  for (size_t i = 2; i < n; i++) p->order[k++] = i;
  p->order[k++] = 0;
  p->order[k++] = 1;
  p->barrier = n - 1;
  return 0;
}

int reg_node_publish_batch(reg_node *r, dht_time now, const uint8_t *file,
                           size_t len, reg_publish_cb cb, void *arg) {
  reg_batch *b = NULL;
  if (!r || !file || len == 0) return REG_ERR_INVALID_ARGUMENT;
  if (now > r->now) r->now = now;
  int rv = reg_batch_file_decode(&b, file, len, 0, r->cfg.batch_pow_base_bits,
                                 reg_now_s(r));
  if (rv == 0 && reg_batch_stale(b, reg_now_s(r))) rv = REG_ERR_STALE;
  if (rv < 0) {
    reg_batch_free(b);
    return rv;
  }
  reg_pub *p = calloc(1, sizeof *p);
  if (!p) {
    reg_batch_free(b);
    return REG_ERR_NOMEM;
  }
  p->b = b;
  p->n = reg_batch_record_count(b);
  p->cb = cb;
  p->arg = arg;
  p->retry_at = DHT_TIME_NONE;
  if ((rv = pub_order(p)) < 0 ||
      (rv = reg_vec_push((void ***)&r->pubs, &r->n_pubs, &r->cap_pubs, p)) < 0) {
    pub_free(p);
    return rv;
  }
  /* The first put now: its verification errors are the caller's. */
  rv = pub_put_next(r, p);
  if (rv < 0 && rv != DHT_ERR_BUSY) {
    pub_remove(r, p);
    pub_free(p);
    return rv;
  }
  p->retry_at = r->now;
  reg_wake(r, r->now);
  return 0;
}

void reg_publish_pump(reg_node *r) {
  /* pub_pump_one may settle (remove) the job it runs. */
  for (size_t i = 0; i < r->n_pubs;) {
    size_t before = r->n_pubs;
    if (r->pubs[i]->retry_at <= r->now) pub_pump_one(r, r->pubs[i]);
    if (r->n_pubs == before) i++;
  }
}

dht_time reg_publish_deadline(const reg_node *r) {
  dht_time d = DHT_TIME_NONE;
  for (size_t i = 0; i < r->n_pubs; i++)
    if (r->pubs[i]->retry_at < d) d = r->pubs[i]->retry_at;
  return d;
}

void reg_publish_free(reg_node *r) {
  for (size_t i = 0; i < r->n_pubs; i++) pub_free(r->pubs[i]);
  free(r->pubs);
  r->pubs = NULL;
  r->n_pubs = 0;
}
