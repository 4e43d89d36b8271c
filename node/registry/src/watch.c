/*
 * Learning of batches and fetching them.
 *
 * Polling: every index_poll_interval the node reads the INDEX keys of a
 * range of windows with dht_node_get_all: at the first poll the
 * index_lookback windows before the current one and the current one,
 * later the window before the previous poll's current window up to the
 * current one (so an index record stored just after a window's last read
 * is still seen), newest first, one read starting at most every
 * REG_POLL_GAP. A window whose read failed is read again at the next
 * poll. The first poll waits until the DHT has a contact.
 *
 * Resolving: each unseen (sender, batch id) named by an index record
 * (author = sender) becomes a live batch whose manifest is read with
 * dht_node_get (the DHT verifies the envelope; reg_manifest_check the
 * fields and the proof of work). A manifest not found is asked again with
 * backoff, REG_RESOLVE_TRIES times in all, then forgotten, and not taken
 * up again from index records for REG_FORGOTTEN_HOLD.
 *
 * Fetching: only when the node protects an address (or one is added),
 * chunks are read with dht_node_get through reg_fetch, REG_FETCH_INFLIGHT
 * at a time per batch and REG_FETCH_JOBS batches at a time. A chunk that
 * reg_fetch_add refuses (or that cannot be read) is read again from
 * every storer with dht_node_get_all and each record offered in turn;
 * after REG_CHUNK_TRIES attempts on one key, or failures on more than
 * REG_BAD_KEYS_MAX keys, the batch is refused.
 *
 * The entry cache: the sorted entries of fetched batches stay in memory
 * (for matching a newly protected address) up to REG_CACHE_ENTRIES_MAX
 * entries in all; beyond, the least recently used batch's entries are
 * dropped and fetched again when needed. The manifest of every live batch
 * (under 1000 bytes) is kept.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"

static void on_index_visit(void *arg, const dht_record *rec,
                           const uint8_t *bytes, size_t len);
static void on_index_done(void *arg, int status, unsigned found,
                          const dht_lookup_stats *st);
static void on_manifest(void *arg, int status, const dht_record *rec,
                        const uint8_t *bytes, size_t len,
                        const dht_lookup_stats *st);
static void on_chunk(void *arg, int status, const dht_record *rec,
                     const uint8_t *bytes, size_t len,
                     const dht_lookup_stats *st);
static void on_refetch_visit(void *arg, const dht_record *rec,
                             const uint8_t *bytes, size_t len);
static void on_refetch_done(void *arg, int status, unsigned found,
                            const dht_lookup_stats *st);

/* ---- live batches -------------------------------------------------------- */

reg_live *reg_live_find(const reg_node *r, const uint8_t sender[NC_PK_LEN],
                        const uint8_t id[REG_BATCH_ID_LEN]) {
  /* Linear: at most REG_BATCHES_MAX, and looked up once per index record
   * read and per restored state entry. */
  for (size_t i = 0; i < r->n_batches; i++) {
    reg_live *b = r->batches[i];
    if (memcmp(b->id, id, REG_BATCH_ID_LEN) == 0 &&
        memcmp(b->sender, sender, NC_PK_LEN) == 0)
      return b;
  }
  return NULL;
}

/* Whether a live batch of |sender| has a verified manifest (restored
 * batches had one). */
static int sender_known(const reg_node *r, const uint8_t sender[NC_PK_LEN]) {
  for (size_t i = 0; i < r->n_batches; i++) {
    const reg_live *b = r->batches[i];
    if (b->phase != REG_PH_RESOLVE && b->phase != REG_PH_RESOLVING &&
        b->phase != REG_PH_REFUSED && !b->dead &&
        memcmp(b->sender, sender, NC_PK_LEN) == 0)
      return 1;
  }
  return 0;
}

reg_live *reg_live_add(reg_node *r, const uint8_t sender[NC_PK_LEN],
                       const uint8_t id[REG_BATCH_ID_LEN], uint64_t created_s,
                       uint64_t expires_s, uint8_t phase) {
  if (r->n_batches >= REG_BATCHES_MAX) return NULL;
  reg_live *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  memcpy(b->sender, sender, NC_PK_LEN);
  memcpy(b->id, id, REG_BATCH_ID_LEN);
  b->created_s = created_s;
  b->expires_s = expires_s;
  b->phase = phase;
  b->sender_known = (uint8_t)sender_known(r, sender);
  b->retry_at = phase == REG_PH_RESOLVE ? r->now : DHT_TIME_NONE;
  if (reg_vec_push((void ***)&r->batches, &r->n_batches, &r->cap_batches, b)) {
    free(b);
    return NULL;
  }
  if (phase == REG_PH_RESOLVE) reg_wake(r, r->now);
  return b;
}

static void live_drop_entries(reg_node *r, reg_live *b) {
  r->cached_entries -= b->n_entries;
  free(b->entries);
  b->entries = NULL;
  b->n_entries = 0;
}

static void live_free(reg_node *r, reg_live *b) {
  live_drop_entries(r, b);
  reg_fetch_free(b->f);
  free(b->manifest);
  free(b->sent);
  free(b);
}

void reg_live_release(reg_node *r, reg_live *b) {
  if (b->refs > 0) b->refs--;
  if (b->dead && b->refs == 0) live_free(r, b);
}

/* Ends a fetch in progress (its outstanding gets find the batch no longer
 * fetching and drop what they bring). */
static void stop_fetch(reg_node *r, reg_live *b) {
  if (b->phase != REG_PH_FETCH) return;
  reg_fetch_free(b->f);
  b->f = NULL;
  b->n_inflight = 0;
  b->n_bad = 0;
  r->fetching--;
  reg_wake(r, r->now); /* a batch may wait for the slot */
}

/* Removes |b| from the live list; freed now or when its last request
 * completes. */
static void live_remove(reg_node *r, reg_live *b) {
  for (size_t i = 0; i < r->n_batches; i++)
    if (r->batches[i] == b) {
      reg_vec_remove((void **)r->batches, &r->n_batches, i);
      break;
    }
  stop_fetch(r, b);
  if (b->phase == REG_PH_RESOLVING) {
    r->resolving--;
    reg_wake(r, r->now); /* a batch may wait for the slot */
  }
  b->dead = 1;
  b->refs++;
  reg_live_release(r, b);
}

static void refuse(reg_node *r, reg_live *b, int err) {
  reg_log(r, DHT_LOG_WARN, "registry: batch refused: %s", reg_strerror(err));
  stop_fetch(r, b);
  live_drop_entries(r, b);
  b->phase = REG_PH_REFUSED;
  b->retry_at = DHT_TIME_NONE;
  r->stats.batches_refused++;
  reg_state_put_batch(r, b);
}

void reg_live_want(reg_node *r, reg_live *b) {
  int was = b->want;
  b->want = 1;
  /* Persisted batches remember that they still have to be matched. */
  if (!was && b->phase != REG_PH_RESOLVE && b->phase != REG_PH_RESOLVING)
    reg_state_put_batch(r, b);
  if (b->phase == REG_PH_IDLE) b->phase = REG_PH_RESOLVE;
  if (b->phase == REG_PH_RESOLVE || b->phase == REG_PH_KNOWN) {
    b->retry_at = r->now;
    reg_wake(r, r->now);
  }
}

int reg_live_sent_has(const reg_live *b, const uint8_t ref[NC_HASH_LEN]) {
  for (size_t i = 0; i < b->n_sent; i++)
    if (memcmp(b->sent[i], ref, NC_HASH_LEN) == 0) return 1;
  return 0;
}

int reg_live_sent_add(reg_live *b, const uint8_t ref[NC_HASH_LEN]) {
  if (b->n_sent == b->cap_sent) {
    size_t nc = b->cap_sent ? b->cap_sent * 2 : 4;
    void *ns = realloc(b->sent, nc * sizeof *b->sent);
    if (!ns) return REG_ERR_NOMEM;
    b->sent = ns;
    b->cap_sent = nc;
  }
  memcpy(b->sent[b->n_sent++], ref, NC_HASH_LEN);
  return 0;
}

void reg_watch_free(reg_node *r) {
  for (size_t i = 0; i < r->n_batches; i++) live_free(r, r->batches[i]);
  free(r->batches);
  free(r->poll_queue);
  free(r->forgotten);
  r->forgotten = NULL;
  r->n_forgotten = r->next_forgotten = 0;
  r->batches = NULL;
  r->n_batches = 0;
}

/* ---- polling the index ------------------------------------------------- */

void reg_watch_start(reg_node *r) { r->t_poll = r->now; }

/* The next poll: index_poll_interval from now, give or take 10% at
 * random, so that nodes started together do not all read the (hot)
 * current index key at the same moment. */
static dht_time next_poll(reg_node *r) {
  uint8_t b[2];
  dht_time iv = r->cfg.index_poll_interval;
  r->env.random(r->env.user, b, sizeof b);
  uint64_t x = (uint64_t)b[0] << 8 | b[1]; /* 0..65535 */
  return r->now + iv - iv / 10 + (dht_time)((iv / 5) / 65536 * x);
}

void reg_watch_poll(reg_node *r) {
  dht_stats ds;
  dht_node_stats(r->dht, &ds);
  if (ds.contacts == 0 || r->poll_next < r->poll_n) {
    /* Not joined yet, or the previous poll still runs. */
    r->t_poll = ds.contacts ? next_poll(r) : r->now + REG_NO_CONTACT_RETRY;
    return;
  }
  uint64_t cur = reg_index_window(reg_now_s(r)), from;
  if (!r->polled)
    from = cur > r->cfg.index_lookback ? cur - r->cfg.index_lookback : 0;
  else
    from = r->last_window;
  if (cur - from > REG_LOOKBACK_MAX) from = cur - REG_LOOKBACK_MAX;
  size_t n = (size_t)(cur - from + 1) + r->n_conts;
  reg_window_read *q = realloc(r->poll_queue, n * sizeof *q);
  if (!q) {
    r->t_poll = r->now + REG_NO_CONTACT_RETRY;
    return;
  }
  r->poll_queue = q;
  r->poll_n = 0;
  r->poll_next = 0;
  /* Newest first: a batch announced now is found at once, not after
   * the lookback's older windows; then the crowded windows read on. */
  for (uint64_t w = cur + 1; w-- > from;)
    q[r->poll_n++] = (reg_window_read){w, 0};
  for (size_t i = 0; i < r->n_conts; i++) q[r->poll_n++] = r->conts[i];
  r->n_conts = 0;
  r->polled = 1;
  r->last_window = cur > 0 ? cur - 1 : 0;
  r->t_poll = next_poll(r);
}

static void poll_pump(reg_node *r) {
  while (r->polls_inflight < REG_POLLS_INFLIGHT && r->poll_next < r->poll_n &&
         r->t_poll_read <= r->now) {
    reg_window_read w = r->poll_queue[r->poll_next];
    reg_req *q = reg_req_new(r, REG_REQ_POLL);
    if (!q) break;
    q->window = w.window;
    q->offset = w.offset;
    reg_index_key(q->key, w.window);
    int rv = dht_node_get_all_from(r->dht, r->now, q->key, w.offset,
                                   r->cfg.index_read_max, on_index_visit,
                                   on_index_done, q);
    if (rv < 0) {
      reg_req_free(q);
      reg_wake(r, r->now + REG_BUSY_RETRY);
      break;
    }
    r->poll_next++;
    r->polls_inflight++;
    r->t_poll_read = r->now + REG_POLL_GAP;
  }
}

/* Remembers that |b|'s manifest could not be found (see
 * REG_FORGOTTEN_HOLD); without memory the batch is simply forgotten. */
static void forget(reg_node *r, const reg_live *b) {
  if (!r->forgotten &&
      !(r->forgotten = calloc(REG_FORGOTTEN_MAX, sizeof *r->forgotten)))
    return;
  reg_forgotten *f = &r->forgotten[r->next_forgotten];
  memcpy(f->sender, b->sender, NC_PK_LEN);
  memcpy(f->id, b->id, REG_BATCH_ID_LEN);
  f->until = r->now + REG_FORGOTTEN_HOLD;
  r->next_forgotten = (r->next_forgotten + 1) % REG_FORGOTTEN_MAX;
  if (r->n_forgotten < REG_FORGOTTEN_MAX) r->n_forgotten++;
}

/* Whether (sender, id) was forgotten less than REG_FORGOTTEN_HOLD ago. */
static int forgotten(const reg_node *r, const uint8_t sender[NC_PK_LEN],
                     const uint8_t id[REG_BATCH_ID_LEN]) {
  for (size_t i = 0; i < r->n_forgotten; i++) {
    const reg_forgotten *f = &r->forgotten[i];
    if (f->until > r->now && memcmp(f->id, id, REG_BATCH_ID_LEN) == 0 &&
        memcmp(f->sender, sender, NC_PK_LEN) == 0)
      return 1;
  }
  return 0;
}

static void on_index_visit(void *arg, const dht_record *rec,
                           const uint8_t *bytes, size_t len) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_index x;
  (void)bytes, (void)len;
  if (!rec || rec->type != REG_RECORD_INDEX) return;
  if (reg_index_decode(&x, rec->payload, rec->payload_len) < 0 ||
      x.window != q->window)
    return;
  if (reg_live_find(r, rec->author_pk, x.batch_id) ||
      forgotten(r, rec->author_pk, x.batch_id))
    return;
  if (!reg_live_add(r, rec->author_pk, x.batch_id, rec->created, rec->expires,
                    REG_PH_RESOLVE)) {
    if (q->dropped++ == 0)
      reg_log(r, DHT_LOG_WARN, "registry: too many live batches, "
              "announcements left for the next poll");
    return;
  }
  r->stats.batches_seen++;
}

/* Reads |window| on from |offset| at the next poll (a crowded window, or
 * a continuation that failed), unless already followed or over the
 * bounds. With REG_CONT_MAX windows followed, the oldest gives way. */
static void follow(reg_node *r, uint64_t window, uint32_t offset) {
  size_t oldest = 0;
  if (offset > REG_INDEX_OFFSET_MAX) return;
  for (size_t i = 0; i < r->n_conts; i++) {
    if (r->conts[i].window == window) {
      if (offset > r->conts[i].offset) r->conts[i].offset = offset;
      return;
    }
    if (r->conts[i].window < r->conts[oldest].window) oldest = i;
  }
  if (r->n_conts == REG_CONT_MAX) {
    if (r->conts[oldest].window > window) return;
    reg_log(r, DHT_LOG_WARN, "registry: too many crowded index windows, "
            "the oldest is no longer read on");
    r->conts[oldest] = (reg_window_read){window, offset};
    return;
  }
  r->conts[r->n_conts++] = (reg_window_read){window, offset};
}

static void on_index_done(void *arg, int status, unsigned found,
                          const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  r->polls_inflight--;
  /* A window that could not be read is read again at the next poll, and
   * so is a page whose announcements did not all fit the live table; a
   * full page is read on from where no storer's records are skipped. */
  if (status < 0 && q->offset == 0 && q->window < r->last_window)
    r->last_window = q->window;
  if ((status < 0 && q->offset > 0) || q->dropped)
    follow(r, q->window, q->offset);
  else if (status == 0 && found >= r->cfg.index_read_max)
    follow(r, q->window,
           st && st->resume_offset > q->offset
               ? st->resume_offset
               : q->offset + r->cfg.index_read_max);
  reg_req_free(q);
  poll_pump(r);
  reg_watch_pump(r);
}

/* ---- resolving manifests -------------------------------------------------- */

static void resolve_start(reg_node *r, reg_live *b) {
  reg_req *q = reg_req_new(r, REG_REQ_MANIFEST);
  if (!q) return;
  reg_manifest_key(q->key, b->sender, b->id);
  q->b = b;
  if (dht_node_get(r->dht, r->now, q->key, on_manifest, q) < 0) {
    reg_req_free(q);
    b->retry_at = r->now + REG_BUSY_RETRY;
    reg_wake(r, b->retry_at);
    return;
  }
  b->refs++;
  b->phase = REG_PH_RESOLVING;
  b->retry_at = DHT_TIME_NONE;
  r->resolving++;
}

static void resolve_failed(reg_node *r, reg_live *b) {
  b->phase = REG_PH_RESOLVE; /* on_manifest already gave the slot back */
  if (++b->tries >= REG_RESOLVE_TRIES) {
    reg_log(r, DHT_LOG_INFO, "registry: manifest not found, batch forgotten");
    forget(r, b);
    reg_state_del_batch(r, b);
    live_remove(r, b);
    return;
  }
  b->phase = REG_PH_RESOLVE;
  b->retry_at = r->now + (REG_RESOLVE_BACKOFF << (b->tries - 1));
  reg_wake(r, b->retry_at);
}

/* Checks the manifest record (type, author, fields, proof of work) and
 * keeps it. Returns 0 or a REG_ERR_*. */
static int manifest_accept(reg_node *r, reg_live *b, const dht_record *rec,
                           const uint8_t *bytes, size_t len) {
  reg_manifest m;
  if (rec->type != REG_RECORD_BATCH ||
      memcmp(rec->author_pk, b->sender, NC_PK_LEN) != 0)
    return REG_ERR_MANIFEST;
  int rv = reg_manifest_check(rec, r->cfg.batch_pow_base_bits, &m);
  if (rv < 0) return rv;
  if (memcmp(m.batch_id, b->id, REG_BATCH_ID_LEN) != 0)
    return REG_ERR_MANIFEST;
  uint8_t *copy = malloc(len);
  if (!copy) return REG_ERR_NOMEM;
  memcpy(copy, bytes, len);
  free(b->manifest);
  b->manifest = copy;
  b->manifest_len = len;
  memcpy(b->salt, m.salt, REG_SALT_LEN);
  b->count = m.count;
  b->created_s = rec->created;
  b->expires_s = rec->expires;
  return 0;
}

static void on_manifest(void *arg, int status, const dht_record *rec,
                        const uint8_t *bytes, size_t len,
                        const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_live *b = q->b;
  (void)st;
  reg_req_free(q);
  if (b->dead) {
    reg_live_release(r, b);
    return;
  }
  b->refs--;
  r->resolving--;
  reg_wake(r, r->now); /* a batch may wait for the slot */
  int rv = status < 0 || !rec ? DHT_ERR_NOT_FOUND
                              : manifest_accept(r, b, rec, bytes, len);
  if (rv == DHT_ERR_NOT_FOUND || rv == REG_ERR_NOMEM) {
    resolve_failed(r, b);
  } else if (rv < 0) {
    refuse(r, b, rv);
  } else {
    b->phase = REG_PH_KNOWN;
    if (r->addrs.n > 0) b->want = 1;
    b->retry_at = b->want ? r->now : DHT_TIME_NONE;
    reg_state_put_batch(r, b);
  }
  reg_watch_pump(r);
}

/* ---- fetching chunks ------------------------------------------------------ */

static int in_flight(const reg_live *b, const uint8_t key[DHT_KEY_LEN]) {
  for (unsigned i = 0; i < b->n_inflight; i++)
    if (memcmp(b->inflight[i], key, DHT_KEY_LEN) == 0) return 1;
  return 0;
}

static void inflight_remove(reg_live *b, const uint8_t key[DHT_KEY_LEN]) {
  for (unsigned i = 0; i < b->n_inflight; i++)
    if (memcmp(b->inflight[i], key, DHT_KEY_LEN) == 0) {
      memmove(b->inflight[i], b->inflight[b->n_inflight - 1], DHT_KEY_LEN);
      b->n_inflight--;
      return;
    }
}

static reg_badkey *bad_find(reg_live *b, const uint8_t key[DHT_KEY_LEN]) {
  for (unsigned i = 0; i < b->n_bad; i++)
    if (memcmp(b->bad[i].key, key, DHT_KEY_LEN) == 0) return &b->bad[i];
  return NULL;
}

static int fetch_begin(reg_node *r, reg_live *b) {
  dht_record rec;
  int rv = dht_record_decode(&rec, b->manifest, b->manifest_len);
  if (rv == 0) rv = reg_fetch_new(&b->f, &rec, r->cfg.batch_pow_base_bits);
  if (rv < 0) return rv;
  b->phase = REG_PH_FETCH;
  b->n_inflight = 0;
  b->n_bad = 0;
  r->fetching++;
  return 0;
}

/* Keeps the entries (taken over from reg_fetch, not copied: a batch may
 * hold 800 MB), matches them and trims the cache. */
static void fetch_finish(reg_node *r, reg_live *b) {
  size_t n = 0;
  uint64_t *e = reg_fetch_take_entries(b->f, &n);
  if (!e) {
    refuse(r, b, REG_ERR_MALFORMED); /* cannot happen once complete */
    return;
  }
  stop_fetch(r, b);
  b->entries = e;
  b->n_entries = n;
  r->cached_entries += n;
  b->phase = REG_PH_READY;
  b->want = 0;
  r->stats.batches_fetched++;
  b->rematch = 0;
  reg_match_live(r, b, NULL);
  b->want = b->rematch; /* else matched: no longer pending */
  reg_state_put_batch(r, b);
  /* Trim the cache, least recently used first (|b| included: it has just
   * been matched). */
  for (size_t guard = 0; r->cached_entries > REG_CACHE_ENTRIES_MAX &&
                         guard < REG_BATCHES_MAX;
       guard++) {
    reg_live *old = NULL;
    for (size_t i = 0; i < r->n_batches; i++) {
      reg_live *x = r->batches[i];
      if (x->phase == REG_PH_READY && (!old || x->used < old->used)) old = x;
    }
    if (!old) break;
    live_drop_entries(r, old);
    old->phase = REG_PH_KNOWN;
  }
}

static int chunk_get(reg_node *r, reg_live *b, const uint8_t key[DHT_KEY_LEN]) {
  reg_req *q = reg_req_new(r, REG_REQ_CHUNK);
  if (!q) return REG_ERR_NOMEM;
  memcpy(q->key, key, DHT_KEY_LEN);
  q->b = b;
  int rv = dht_node_get(r->dht, r->now, key, on_chunk, q);
  if (rv < 0) {
    reg_req_free(q);
    return rv;
  }
  b->refs++;
  return 0;
}

static int refetch_start(reg_node *r, reg_live *b, reg_badkey *k) {
  reg_req *q = reg_req_new(r, REG_REQ_REFETCH);
  if (!q) return REG_ERR_NOMEM;
  memcpy(q->key, k->key, DHT_KEY_LEN);
  q->b = b;
  int rv = dht_node_get_all(r->dht, r->now, k->key, REG_REFETCH_READ_MAX,
                            on_refetch_visit, on_refetch_done, q);
  if (rv < 0) {
    reg_req_free(q);
    return rv;
  }
  b->refs++;
  k->running = 1;
  k->due = DHT_TIME_NONE;
  r->stats.chunks_refetched++;
  return 0;
}

/* Sets the batch's timer to the earliest delayed refetch. */
static void fetch_rearm(reg_node *r, reg_live *b) {
  b->retry_at = DHT_TIME_NONE;
  for (unsigned i = 0; i < b->n_bad; i++)
    if (!b->bad[i].running && b->bad[i].due < b->retry_at)
      b->retry_at = b->bad[i].due;
  reg_wake(r, b->retry_at);
}

/* New gets up to the in-flight bound (keys being refetched stay in
 * flight). Stops at the first DHT refusal (BUSY) and retries later. */
static void fetch_fill(reg_node *r, reg_live *b) {
  uint8_t keys[2 * REG_FETCH_INFLIGHT][DHT_KEY_LEN];
  if (reg_fetch_complete(b->f)) {
    fetch_finish(r, b);
    return;
  }
  while (b->n_inflight < REG_FETCH_INFLIGHT) {
    size_t n = reg_fetch_wanted(b->f, keys, 2 * REG_FETCH_INFLIGHT), i;
    for (i = 0; i < n && in_flight(b, keys[i]); i++) {
    }
    if (i == n) break; /* everything wanted is being read */
    if (chunk_get(r, b, keys[i]) < 0) {
      dht_time t = r->now + REG_BUSY_RETRY;
      if (t < b->retry_at) b->retry_at = t;
      reg_wake(r, t);
      return;
    }
    memcpy(b->inflight[b->n_inflight++], keys[i], DHT_KEY_LEN);
  }
}

/* A chunk read failed or was refused by reg_fetch_add: count an attempt
 * on its key and read it from every storer (now, or after a delay when
 * that was already tried). */
static void chunk_bad(reg_node *r, reg_live *b, const uint8_t key[DHT_KEY_LEN],
                      int err, int delay) {
  reg_badkey *k = bad_find(b, key);
  if (!k && b->n_bad < REG_BAD_KEYS_MAX) {
    k = &b->bad[b->n_bad++];
    memset(k, 0, sizeof *k);
    memcpy(k->key, key, DHT_KEY_LEN);
  }
  if (!k || ++k->tries > REG_CHUNK_TRIES) {
    refuse(r, b, err);
    return;
  }
  reg_log(r, DHT_LOG_INFO, "registry: chunk refused (%s), reading it again",
          reg_strerror(err));
  k->running = 0;
  k->due = r->now + (delay ? REG_REFETCH_DELAY : 0);
  if (!delay && refetch_start(r, b, k) < 0) k->due = r->now + REG_BUSY_RETRY;
  fetch_rearm(r, b);
}

/* Callbacks on a batch: drop the request and the batch's reference;
 * returns |b| if its fetch still runs, else NULL. */
static reg_live *fetch_callback(reg_req *q) {
  reg_node *r = q->r;
  reg_live *b = q->b;
  reg_req_free(q);
  if (b->dead) {
    reg_live_release(r, b);
    return NULL;
  }
  b->refs--;
  return b->phase == REG_PH_FETCH ? b : NULL;
}

/* What reg_fetch_add's answer means for the fetch: 0 = chunk in place
 * (or already was), 1 = this copy is bad (ask other storers), -1 = the
 * signer built a bad tree (give the batch up). */
static int add_verdict(int rv) {
  if (rv == 0 || rv == REG_ERR_DUPLICATE) return 0;
  if (rv == REG_ERR_NOT_SORTED || rv == REG_ERR_MALFORMED) return -1;
  return 1;
}

static void chunk_in(reg_node *r, reg_live *b, const uint8_t key[DHT_KEY_LEN],
                     int rv, int delay) {
  int v = add_verdict(rv);
  if (v < 0) {
    refuse(r, b, rv);
  } else if (v > 0) {
    chunk_bad(r, b, key, rv, delay);
  } else {
    inflight_remove(b, key);
    fetch_fill(r, b);
  }
}

static void on_chunk(void *arg, int status, const dht_record *rec,
                     const uint8_t *bytes, size_t len,
                     const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  uint8_t key[DHT_KEY_LEN];
  (void)bytes, (void)len, (void)st;
  memcpy(key, q->key, DHT_KEY_LEN);
  reg_live *b = fetch_callback(q);
  if (!b || !in_flight(b, key)) return;
  int rv = status < 0 ? status
           : !rec || rec->type != REG_RECORD_CHUNK
               ? REG_ERR_CHUNK_HASH
               : reg_fetch_add(b->f, key, rec->payload, rec->payload_len);
  chunk_in(r, b, key, rv, 0);
}

static void on_refetch_visit(void *arg, const dht_record *rec,
                             const uint8_t *bytes, size_t len) {
  reg_req *q = arg;
  if (!rec || rec->type != REG_RECORD_CHUNK || q->n_got >= REG_REFETCH_READ_MAX)
    return;
  uint8_t *copy = malloc(len);
  if (!copy) return;
  memcpy(copy, bytes, len);
  q->got[q->n_got] = copy;
  q->got_len[q->n_got++] = len;
}

/* Offers every record the refetch found until one is taken; returns the
 * answer that decides (see add_verdict). */
static int refetch_offer(reg_live *b, const reg_req *q) {
  int rv = DHT_ERR_NOT_FOUND;
  for (unsigned i = 0; i < q->n_got && add_verdict(rv) > 0; i++) {
    dht_record rec;
    if (dht_record_decode(&rec, q->got[i], q->got_len[i]) != 0) continue;
    rv = reg_fetch_add(b->f, q->key, rec.payload, rec.payload_len);
  }
  return rv;
}

static void on_refetch_done(void *arg, int status, unsigned found,
                            const dht_lookup_stats *st) {
  reg_req *q = arg;
  reg_node *r = q->r;
  reg_live *b = q->b;
  uint8_t key[DHT_KEY_LEN];
  (void)status, (void)found, (void)st;
  memcpy(key, q->key, DHT_KEY_LEN);
  if (b->dead || b->phase != REG_PH_FETCH || !in_flight(b, key)) {
    fetch_callback(q);
    return;
  }
  int rv = refetch_offer(b, q);
  reg_badkey *k = bad_find(b, key);
  if (k) k->running = 0;
  fetch_callback(q);
  chunk_in(r, b, key, rv, 1);
}

/* A batch's timer: refetches whose delay is over, then new gets. */
static void fetch_timer(reg_node *r, reg_live *b) {
  for (unsigned i = 0; i < b->n_bad; i++) {
    reg_badkey *k = &b->bad[i];
    if (k->running || k->due > r->now) continue;
    if (refetch_start(r, b, k) < 0) k->due = r->now + REG_BUSY_RETRY;
  }
  fetch_rearm(r, b);
  fetch_fill(r, b);
}

/* ---- the pump --------------------------------------------------------------- */

/* One batch's due work, by phase. */
static void batch_step(reg_node *r, reg_live *b) {
  if (b->retry_at > r->now && !b->waiting) return;
  b->waiting = 0;
  switch (b->phase) {
  case REG_PH_RESOLVE:
    if (r->resolving < REG_RESOLVE_INFLIGHT) {
      resolve_start(r, b);
    } else {
      b->waiting = 1; /* woken when a manifest get completes */
      b->retry_at = DHT_TIME_NONE;
    }
    break;
  case REG_PH_KNOWN:
    if (!b->want) {
      b->retry_at = DHT_TIME_NONE;
    } else if (r->fetching < REG_FETCH_JOBS) {
      int rv = fetch_begin(r, b);
      if (rv < 0)
        refuse(r, b, rv);
      else
        fetch_fill(r, b);
    } else {
      b->waiting = 1; /* woken when a fetch ends */
      b->retry_at = DHT_TIME_NONE;
    }
    break;
  case REG_PH_FETCH:
    fetch_timer(r, b);
    break;
  default:
    b->retry_at = DHT_TIME_NONE;
  }
}

void reg_watch_pump(reg_node *r) {
  poll_pump(r);
  /* Stepping never removes a batch (DHT callbacks do not run from
   * inside the DHT calls made here), so the list is stable. Batches of
   * senders already verified take the resolve and fetch slots first: a
   * flood of announcements from new keys (each costing one index proof
   * of work) then delays mainly batches of new senders, not those of the
   * senders a node already follows (and escalates against). */
  for (int known = 1; known >= 0; known--)
    for (size_t i = 0; i < r->n_batches; i++)
      if (r->batches[i]->sender_known == known) batch_step(r, r->batches[i]);
}

void reg_watch_rematch(reg_node *r) {
  if (!r->rematch || !reg_optout_room(r, REG_ORIGIN_QUEUE_MAX / 2)) return;
  r->rematch = 0;
  for (size_t i = 0; i < r->n_batches; i++) {
    reg_live *b = r->batches[i];
    if (!b->rematch) continue;
    if (b->phase != REG_PH_READY) { /* entries evicted: fetch again */
      b->rematch = 0;
      if (b->phase != REG_PH_REFUSED) reg_live_want(r, b);
      continue;
    }
    b->rematch = 0;
    reg_match_live(r, b, NULL);
    if (!b->rematch) {
      b->want = 0;
      reg_state_put_batch(r, b);
    }
  }
}

void reg_watch_expire(reg_node *r) {
  uint64_t now_s = reg_now_s(r);
  for (size_t i = 0; i < r->n_batches;) {
    reg_live *b = r->batches[i];
    if (b->expires_s > now_s) {
      i++;
      continue;
    }
    reg_state_del_batch(r, b);
    live_remove(r, b);
  }
}

dht_time reg_watch_deadline(const reg_node *r) {
  dht_time d = DHT_TIME_NONE;
  if (r->poll_next < r->poll_n && r->polls_inflight < REG_POLLS_INFLIGHT)
    d = r->t_poll_read > r->now ? r->t_poll_read : r->now + REG_BUSY_RETRY;
  for (size_t i = 0; i < r->n_batches; i++) {
    const reg_live *b = r->batches[i];
    dht_time t = b->retry_at, e = b->expires_s * DHT_SEC;
    if (b->expires_s < DHT_TIME_NONE / DHT_SEC && e < t) t = e;
    if (t < d) d = t;
  }
  return d;
}
