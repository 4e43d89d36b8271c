/*
 * Internal: the reg_node object and the prototypes shared by the registry
 * engine's modules (the sans-IO state machine of registry.h's "The
 * registry node"). The engine is split by concern:
 *
 *   node.c      the public object: config, create, free, stats, timers,
 *               deadlines, the dispatch of handle_expiry
 *   protect.c   the protected addresses (a hash set) and matching them
 *               against a batch's entries
 *   watch.c     index polling, manifest resolution, chunk fetching and
 *               refetching, the live batches and their entry cache
 *   relay.c     opt-outs: sending (origin), relaying (Crowds), storing
 *               in the inbox, and the generic put queue
 *   escalate.c  the opt-out history per (sender, address), evidence and
 *               the repeated opt-outs
 *   publish.c   reg_node_publish_batch
 *   state.c     persisted local state: keys, values, strict restore
 *   appmsg.c    the opt-out app message codec
 *
 * Everything hangs off reg_node; nothing is global. Every DHT operation
 * the engine starts carries a reg_req (the callback argument), linked in
 * r->reqs so that reg_node_free can release those still outstanding.
 */
#ifndef NOINTRUDE_REG_ENGINE_H
#define NOINTRUDE_REG_ENGINE_H

#include <nointrude/registry.h>

/* ---- bounds (each one a limit on memory or work driven from outside) -- */

#define REG_POLLS_INFLIGHT 4     /* index windows read at once */
/* Index records read per window (the default of reg_config's
 * index_read_max). Storers keep at most
 * REG_INDEX_PER_AUTHOR per author and window and refuse those without the
 * index proof of work, so hiding a batch behind this many records takes
 * REG_INDEX_READ_MAX / REG_INDEX_PER_AUTHOR = 512 puzzle-solving author
 * keys and 4096 index proofs per window (PROTOCOL.md 12.1). */
#define REG_INDEX_READ_MAX 4096
/* A window whose read returned index_read_max records is read on from
 * the next offset at the following poll (storers serve a key's records in
 * the same slot order), so a flood beyond the bound delays discovery by a
 * poll per 4096 records instead of hiding what lies past it. At most
 * REG_CONT_MAX windows are followed that way at once, each up to
 * REG_INDEX_OFFSET_MAX records deep. */
#define REG_CONT_MAX 16
#define REG_INDEX_OFFSET_MAX (1u << 24)
#define REG_LOOKBACK_MAX 720     /* windows read at start (30 days of 1 h) */
#define REG_RESOLVE_INFLIGHT 4   /* manifest gets at once */
#define REG_RESOLVE_TRIES 4      /* manifest gets before a batch is dropped */
#define REG_RESOLVE_BACKOFF (30 * DHT_SEC) /* doubled per failed get */
#define REG_FETCH_JOBS 2         /* batches whose chunks are fetched at once */
#define REG_FETCH_INFLIGHT 16    /* chunk gets per batch at once */
/* A chunk key whose get failed is read from every storer (get_all) up
 * to REG_CHUNK_TRIES times, then its batch is refused; a batch with more
 * than REG_BAD_KEYS_MAX failing keys is refused at once. So a batch whose
 * chunks are missing costs each fetching node at most REG_BAD_KEYS_MAX x
 * REG_CHUNK_TRIES = 12 refetches (it was 16 x 4 = 64, measured by
 * fake_batch_flood.ini), while an honest chunk that one lookup missed is
 * still found by the reads from every storer. */
#define REG_CHUNK_TRIES 3
#define REG_BAD_KEYS_MAX 4
#define REG_REFETCH_READ_MAX 16  /* records read when refetching a chunk */
#define REG_REFETCH_DELAY (5 * DHT_SEC)
#define REG_BATCHES_MAX 4096     /* live batches tracked */
#define REG_MATCH_FEW_MAX 64     /* up to this many addresses: interpolation
                                    search; above: sort + merge */
#define REG_CACHE_ENTRIES_MAX (16u << 20) /* entries kept in memory over all
                                             live batches (128 MiB) */
#define REG_SEND_TRIES 4         /* random contacts tried per app message */
#define REG_NO_CONTACT_RETRY (5 * DHT_SEC)
#define REG_ORIGIN_QUEUE_MAX 8192 /* queued own opt-outs; more wait (12.5) */
#define REG_RELAY_QUEUE_MAX 1024 /* queued relayed app messages */
#define REG_PUTS_MAX 1024        /* queued records to put */
#define REG_PUT_TRIES 3
#define REG_PUT_RETRY (10 * DHT_SEC)
#define REG_RELAY_RATE 20        /* relayed opt-outs per second ... */
#define REG_RELAY_BURST 200      /* ... and bucket depth */
#define REG_PUBLISH_INFLIGHT 8   /* records of one batch being put at once */
#define REG_PUBLISH_TRIES 3      /* puts of a record that no storer answered */
#define REG_BUSY_RETRY (200 * DHT_MS) /* the DHT said BUSY: try again */
/* Index window reads start at most one per REG_POLL_GAP. The first poll
 * reads index_lookback + 1 windows (169 by default), and in a small
 * network every index key lands on the same few peers: unpaced, those
 * reads ran into the peers' per-source rate limits (PROTOCOL.md 10.5). */
#define REG_POLL_GAP (DHT_SEC / 8)
/* A batch whose manifest was not found REG_RESOLVE_TRIES times is not
 * taken up again from its index record for REG_FORGOTTEN_HOLD (longer
 * than a window stays among the polled ones): otherwise one bare index
 * record, one signature to make, costs every node 4 manifest lookups at
 * every poll. At most REG_FORGOTTEN_MAX are remembered (oldest replaced):
 * twice a read of REG_INDEX_READ_MAX, so that one crowded window's bare
 * announcements do not push each other out of the memory. */
#define REG_FORGOTTEN_MAX 8192
#define REG_FORGOTTEN_HOLD (3 * 3600 * DHT_SEC)
#define REG_HISTORY_MAX (1u << 20) /* (sender, address) opt-out histories */
#define REG_ESC_LEVELS_MAX 8         /* escalation_levels accepted (2^8 copies) */
#define REG_APP_MAX 256          /* bytes of an encoded app message */
#define REG_APP_VERSION 1

/* ---- logging ------------------------------------------------------------ */

void reg_log(const reg_node *r, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- protected addresses ------------------------------------------------ */

typedef struct reg_addr {
  uint8_t ref[NC_HASH_LEN]; /* local reference: BLAKE2b-256("nointrude-
                               local-addr" || canon); never sent */
  uint16_t len;
  char canon[]; /* NUL-terminated */
} reg_addr;

typedef struct reg_addrset {
  reg_addr **list; /* dense, insertion order (with swap-remove) */
  size_t n, cap;
  uint32_t *slots; /* open addressing: list index + 1, 0 = empty */
  size_t n_slots;  /* power of two, > 2n */
} reg_addrset;

/* ---- live batches ---------------------------------------------------- */

enum reg_phase {
  REG_PH_IDLE,      /* restored from state: manifest not held, nothing due */
  REG_PH_RESOLVE,   /* manifest to get */
  REG_PH_RESOLVING, /* manifest get in flight */
  REG_PH_KNOWN,     /* manifest verified and held, entries not held */
  REG_PH_FETCH,     /* chunks being fetched */
  REG_PH_READY,     /* entries held */
  REG_PH_REFUSED,   /* failed verification: ignored until it expires */
};

typedef struct reg_badkey {
  uint8_t key[DHT_KEY_LEN];
  unsigned tries;  /* attempts that failed */
  uint8_t running; /* a refetch (get_all) is in flight */
  dht_time due;    /* when the next refetch starts, if not running */
} reg_badkey;

typedef struct reg_forgotten {
  uint8_t sender[NC_PK_LEN];
  uint8_t id[REG_BATCH_ID_LEN];
  dht_time until; /* not taken up again before */
} reg_forgotten;

typedef struct reg_live {
  uint8_t sender[NC_PK_LEN];
  uint8_t id[REG_BATCH_ID_LEN];
  uint64_t created_s, expires_s; /* of the manifest (or the index record
                                    until the manifest is known) */
  uint8_t phase;                 /* enum reg_phase */
  uint8_t want;                  /* entries needed for matching */
  uint8_t dead;                  /* dropped; freed when refs == 0 */
  uint8_t waiting;               /* waits for a resolve or fetch slot */
  uint8_t sender_known;          /* another batch of its sender verified
                                    when it was added: resolved first */
  unsigned tries;                /* manifest gets that failed */
  dht_time retry_at;             /* next manifest get or chunk refetch */
  unsigned refs;                 /* reg_req naming this batch */
  uint8_t salt[REG_SALT_LEN];
  uint64_t count;
  uint8_t *manifest; /* the verified manifest record's bytes */
  size_t manifest_len;
  reg_fetch *f;                          /* while REG_PH_FETCH */
  uint8_t inflight[REG_FETCH_INFLIGHT][DHT_KEY_LEN];
  unsigned n_inflight;
  reg_badkey bad[REG_BAD_KEYS_MAX];
  unsigned n_bad;
  uint64_t *entries; /* sorted, while REG_PH_READY */
  size_t n_entries;
  uint8_t (*sent)[NC_HASH_LEN]; /* address refs opted out of this batch */
  size_t n_sent, cap_sent;
  uint64_t used; /* LRU stamp of the entry cache */
  uint8_t rematch; /* hits left unanswered (origin queue full) */
} reg_live;

/* ---- opt-out history ---------------------------------------------------- */

typedef struct reg_hist {
  uint8_t sender[NC_PK_LEN];
  uint8_t ref[NC_HASH_LEN];               /* the address (local ref) */
  uint64_t first_s;                       /* first opt-out, Unix s */
  uint8_t first_batch[REG_BATCH_ID_LEN];
  uint8_t level;                          /* escalation levels started */
  dht_time esc_next;                      /* next level, or NONE */
  uint8_t esc_batch[REG_BATCH_ID_LEN];    /* batch that ignored it */
  uint8_t esc_full[REG_FULL_HASH_LEN];    /* address hash in that batch */
} reg_hist;

typedef struct reg_histtab {
  uint8_t key[16]; /* random: keys the slot hash */
  reg_hist *h;
  size_t n, cap;
  uint32_t *slots; /* index + 1, 0 = empty; power of two > 2n */
  size_t n_slots;
} reg_histtab;

/* ---- queues ----------------------------------------------------------- */

enum reg_send_role { REG_SEND_ORIGIN, REG_SEND_RELAY };

typedef struct reg_send {
  uint8_t msg[REG_APP_MAX];
  size_t len;
  uint8_t role;       /* enum reg_send_role */
  uint8_t in_flight;
  uint8_t has_avoid;  /* do not pick |avoid| when there is a choice */
  uint8_t avoid[NC_PK_LEN];
  uint8_t last[NC_PK_LEN]; /* contact of the latest attempt */
  unsigned tries;
  dht_time retry_at;
} reg_send;

enum reg_put_kind { REG_PUT_OPTOUT, REG_PUT_EVIDENCE };

typedef struct reg_put {
  uint8_t rec[DHT_MAX_RECORD];
  size_t len;
  uint8_t kind; /* enum reg_put_kind */
  uint8_t in_flight;
  unsigned tries;
  dht_time retry_at;
} reg_put;

typedef struct reg_pub {
  reg_batch *b;
  size_t *order; /* record indexes in publishing order */
  size_t n, next, in_flight, published, failed;
  size_t barrier; /* records before it finish before the rest start */
  dht_time retry_at;
  reg_publish_cb cb;
  void *arg;
  int first_err; /* first error seen, reported with the result */
} reg_pub;

/* ---- outstanding DHT operations ----------------------------------------- */

enum reg_req_kind {
  REG_REQ_POLL,
  REG_REQ_MANIFEST,
  REG_REQ_CHUNK,
  REG_REQ_REFETCH,
  REG_REQ_SEND,
  REG_REQ_PUT,
  REG_REQ_PUBLISH,
};

/* One read of an index window: its records from |offset| on. */
typedef struct reg_window_read {
  uint64_t window;
  uint32_t offset;
} reg_window_read;

typedef struct reg_req reg_req;
struct reg_req {
  reg_node *r;
  reg_req *prev, *next;
  uint8_t kind;
  uint8_t key[DHT_KEY_LEN];
  uint64_t window;         /* REG_REQ_POLL */
  uint32_t offset;         /* REG_REQ_POLL: first record read ... */
  unsigned dropped;        /* ... and announcements it could not take */
  size_t rec;              /* REG_REQ_PUBLISH: the record's index ... */
  unsigned tries;          /* ... and puts of it before this one */
  reg_live *b;             /* MANIFEST, CHUNK, REFETCH (holds a ref) */
  void *job;               /* SEND, PUT, PUBLISH */
  uint8_t *got[REG_REFETCH_READ_MAX]; /* REFETCH: records collected */
  size_t got_len[REG_REFETCH_READ_MAX];
  unsigned n_got;
};

/* ---- the node ------------------------------------------------------------ */

struct reg_node {
  reg_config cfg;
  reg_env env;
  dht_node *dht;
  nc_identity ident;
  dht_time now;           /* latest time seen */
  dht_time t_wake;        /* earliest queued work (a lower bound) */
  dht_time t_poll;        /* next index poll */
  dht_time t_poll_read;   /* earliest start of the next window read */
  reg_forgotten *forgotten; /* ring of REG_FORGOTTEN_MAX, allocated on
                               first use */
  size_t n_forgotten, next_forgotten;
  dht_time t_esc;         /* earliest escalation level due */
  int polled;             /* a poll ran before: read only recent windows */
  uint64_t last_window;   /* current window at the previous poll */
  reg_window_read *poll_queue; /* windows still to read in this poll */
  size_t poll_n, poll_next;
  reg_window_read conts[REG_CONT_MAX]; /* crowded windows to read on */
  size_t n_conts;
  unsigned polls_inflight;
  unsigned resolving;     /* manifest gets in flight */
  unsigned fetching;      /* batches in REG_PH_FETCH */
  reg_addrset addrs;
  reg_live **batches;
  size_t n_batches, cap_batches;
  size_t cached_entries;
  uint64_t lru_clock;
  reg_histtab hist;
  reg_send **sends;
  size_t n_sends, cap_sends;
  size_t n_origin;        /* sends whose role is REG_SEND_ORIGIN */
  dht_time sends_blocked; /* the DHT said BUSY: no send before this */
  int rematch;            /* some batch has rematch set */
  reg_put **puts;
  size_t n_puts, cap_puts;
  dht_time puts_blocked;
  reg_pub **pubs;
  size_t n_pubs, cap_pubs;
  uint32_t relay_tokens;  /* relay token bucket, x1000 */
  dht_time relay_refill;
  uint64_t record_lifetime; /* seconds, for OPTOUT and EVIDENCE records */
  uint64_t evidence_lifetime;
  reg_req *reqs;          /* outstanding DHT operations */
  reg_stats stats;
};

/* node.c */
uint64_t reg_now_s(const reg_node *r);
/* reg_wake lowers the cached earliest deadline to |t|. */
void reg_wake(reg_node *r, dht_time t);
reg_req *reg_req_new(reg_node *r, uint8_t kind);
void reg_req_free(reg_req *q);
/* reg_vec_push appends |item| to a vector of pointers. Returns 0 or
 * REG_ERR_NOMEM. */
int reg_vec_push(void ***v, size_t *n, size_t *cap, void *item);
void reg_vec_remove(void **v, size_t *n, size_t i);

/* protect.c */
void reg_addr_ref(uint8_t ref[NC_HASH_LEN], const char *canon, size_t len);
void reg_addrset_free(reg_addrset *s);
reg_addr *reg_addrset_find(const reg_addrset *s, const char *canon,
                           size_t len);
/* reg_addrset_add inserts |canon|. Returns 0, REG_ERR_DUPLICATE or
 * REG_ERR_NOMEM. */
int reg_addrset_add(reg_addrset *s, const char *canon, size_t len);
int reg_addrset_remove(reg_addrset *s, const char *canon, size_t len);
/* reg_match_live matches every protected address (or only |only| when
 * not NULL) against the entries of the ready batch |b| and acts on each
 * hit. Returns the number of hits. */
size_t reg_match_live(reg_node *r, reg_live *b, const reg_addr *only);

/* watch.c */
void reg_watch_start(reg_node *r);
void reg_watch_poll(reg_node *r);
void reg_watch_pump(reg_node *r);
void reg_watch_expire(reg_node *r);
dht_time reg_watch_deadline(const reg_node *r);
reg_live *reg_live_find(const reg_node *r, const uint8_t sender[NC_PK_LEN],
                        const uint8_t id[REG_BATCH_ID_LEN]);
/* reg_live_add creates a batch in |phase|. Returns it or NULL (full or no
 * memory). */
reg_live *reg_live_add(reg_node *r, const uint8_t sender[NC_PK_LEN],
                       const uint8_t id[REG_BATCH_ID_LEN], uint64_t created_s,
                       uint64_t expires_s, uint8_t phase);
/* reg_live_want asks for |b|'s entries (for matching); they are fetched
 * if not held. */
void reg_live_want(reg_node *r, reg_live *b);
int reg_live_sent_has(const reg_live *b, const uint8_t ref[NC_HASH_LEN]);
int reg_live_sent_add(reg_live *b, const uint8_t ref[NC_HASH_LEN]);
void reg_live_release(reg_node *r, reg_live *b);
/* reg_watch_rematch matches again the batches whose hits could not all
 * be answered, once the origin queue has room. */
void reg_watch_rematch(reg_node *r);
void reg_watch_free(reg_node *r);

/* relay.c */
/* reg_optout_send seals |copies| fresh opt-outs for |full| in batch |id|
 * of |sender| and queues each for its own random first hop. Returns the
 * number queued. */
unsigned reg_optout_send(reg_node *r, const uint8_t sender[NC_PK_LEN],
                         const uint8_t id[REG_BATCH_ID_LEN],
                         const uint8_t full[REG_FULL_HASH_LEN],
                         unsigned copies);
/* reg_optout_room returns 1 if |copies| more own opt-outs fit the queue. */
int reg_optout_room(const reg_node *r, unsigned copies);
/* reg_put_queue queues the signed record |rec| for dht_node_put. Returns
 * 0, REG_ERR_TOO_LARGE or REG_ERR_NOMEM. */
int reg_put_queue(reg_node *r, const uint8_t *rec, size_t len, uint8_t kind);
void reg_relay_pump(reg_node *r);
dht_time reg_relay_deadline(const reg_node *r);
void reg_relay_free(reg_node *r);

/* escalate.c */
void reg_hist_free(reg_histtab *t);
reg_hist *reg_hist_find(const reg_histtab *t, const uint8_t sender[NC_PK_LEN],
                        const uint8_t ref[NC_HASH_LEN]);
reg_hist *reg_hist_add(reg_histtab *t, const reg_hist *h);
/* reg_on_match acts on a hit of address |a| (full hash |full|) in |b|:
 * first opt-out, an ordinary one, or the start of escalation. */
void reg_on_match(reg_node *r, reg_live *b, const reg_addr *a,
                  const uint8_t full[REG_FULL_HASH_LEN]);
void reg_escalate_due(reg_node *r);
void reg_escalate_rearm(reg_node *r);

/* publish.c */
void reg_publish_pump(reg_node *r);
dht_time reg_publish_deadline(const reg_node *r);
void reg_publish_free(reg_node *r);

/* state.c: persistence. Failures are logged, never fatal: state is a
 * cache of what the node decided, and the DHT side already happened. */
void reg_state_put_addr(reg_node *r, const reg_addr *a, uint64_t now_s);
void reg_state_del_addr(reg_node *r, const char *canon, size_t len);
void reg_state_put_hist(reg_node *r, const reg_hist *h);
void reg_state_put_batch(reg_node *r, const reg_live *b);
void reg_state_del_batch(reg_node *r, const reg_live *b);
void reg_state_put_sent(reg_node *r, const reg_live *b,
                        const uint8_t ref[NC_HASH_LEN], uint64_t now_s);
int reg_state_restore(reg_node *r, const uint8_t *key, size_t klen,
                      const uint8_t *val, size_t vlen);

/* appmsg.c: the opt-out app message (strict). */
int reg_app_encode(uint8_t out[REG_APP_MAX], size_t *len,
                   const uint8_t sender[NC_PK_LEN],
                   const uint8_t id[REG_BATCH_ID_LEN], const uint8_t *sealed,
                   size_t sealed_len);
/* reg_app_decode parses an app message strictly; |*sealed| points into
 * |msg|. Returns 0 or REG_ERR_MALFORMED. */
int reg_app_decode(const uint8_t *msg, size_t len, uint8_t sender[NC_PK_LEN],
                   uint8_t id[REG_BATCH_ID_LEN], const uint8_t **sealed,
                   size_t *sealed_len);

#endif /* NOINTRUDE_REG_ENGINE_H */
