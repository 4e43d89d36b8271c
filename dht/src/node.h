/*
 * Internal: the dht_node object and the prototypes shared by the engine's
 * modules. The engine is split by concern:
 *
 *   config.c    defaults and validation of dht_config
 *   keys.c      cache of pair keys for peers not in the routing table
 *   rpc.c       the outgoing queue, outstanding requests, sealing/sending
 *   inbound.c   the datagram pipeline (drop and count at each step) and
 *               the dispatch tables by message type and request kind
 *   handlers.c  answers to PROBE, PING, FIND_NODE, FIND_VALUE, STORE,
 *               RELAY
 *   ops.c       operations: lookup, get, put, join, refresh, republish,
 *               app messages
 *   collect.c   the collection phase of get_all (paged FIND_VALUE to the
 *               k closest, merge, de-duplication by slot)
 *   maint.c     timers: request timeouts, refresh, replication,
 *               republishing, expiry, secret rotation
 *   node.c      the public object: create, free, bootstrap, queries
 *
 * Everything hangs off dht_node; nothing is global.
 */
#ifndef NOINTRUDE_DHT_NODE_H
#define NOINTRUDE_DHT_NODE_H

#include <nointrude/dht.h>

#include "guard.h"
#include "lookup.h"
#include "rt.h"
#include "store.h"
#include "wire.h"

#define DHT_OUTQ_MAX 256        /* queued outgoing datagrams */
#define DHT_PENDING_MAX 4096    /* outstanding requests */
#define DHT_KEYCACHE_MAX 128    /* pair keys of peers not in the table */
#define DHT_BOOT_MAX 8          /* bootstrap probes in flight */
#define DHT_BOOT_TRIES 3        /* PROBEs per round, and rounds (PROBE ..
                                   PING) per bootstrap, against UDP loss */
#define DHT_INTERNAL_OPS 16     /* joins, refreshes, republishes at once */
#define DHT_EXPIRE_BATCH 1024   /* records deleted per timer run */
#define DHT_REPLICATE_BATCH 8   /* records pushed per replication tick */
#define DHT_REPLICATE_TICK DHT_SEC /* spacing of replication ticks */
#define DHT_REPUBLISH_RETRY DHT_SEC /* when republishing was throttled */
#define DHT_RT_PING_AFTER (60 * DHT_SEC) /* see dht_rt.ping_after */
#define DHT_TIDY_PERIOD (60 * DHT_SEC) /* idle tables shrink this often */
#define DHT_REJOIN_TIMEOUTS 3 /* second self-lookup, in request timeouts
                                 after the join */
#define DHT_GET_QUORUM 3 /* a get's path ends after this many storers
                            answered with a valid record (10.2) */
#define DHT_JOIN_REFRESH_DELAY (60 * DHT_SEC) /* buckets still empty this
                                 long after the join are refreshed */

/* ---- pair keys of peers outside the routing table ---------------------- */

typedef struct dht_keycache_entry {
  uint8_t pk[NC_PK_LEN];
  uint8_t key[NC_SHARED_LEN]; /* secret */
  uint64_t used;              /* LRU clock */
} dht_keycache_entry;

typedef struct dht_keycache {
  dht_keycache_entry *e;
  size_t n, cap;
  uint64_t clock;
} dht_keycache;

/* dht_keycache_get copies the cached key of |pk| into |key|. Returns 1 if
 * found, else 0. */
int dht_keycache_get(dht_keycache *kc, const uint8_t pk[NC_PK_LEN],
                     uint8_t key[NC_SHARED_LEN]);

/* dht_keycache_put caches |key| for |pk|, evicting the least recently
 * used entry beyond DHT_KEYCACHE_MAX. Memory failure only skips caching. */
void dht_keycache_put(dht_keycache *kc, const uint8_t pk[NC_PK_LEN],
                      const uint8_t key[NC_SHARED_LEN]);

/* dht_keycache_free wipes and releases the cache. */
void dht_keycache_free(dht_keycache *kc);

/* ---- outgoing queue and outstanding requests -------------------------- */

typedef struct dht_outdg {
  dht_addr to;
  uint16_t len;
  uint8_t data[];
} dht_outdg;

typedef struct dht_outq {
  dht_outdg **q; /* ring of cap (power of two) */
  size_t head, n, cap;
} dht_outq;

/* What an outstanding request is for; selects the reply and timeout
 * handlers (tables in inbound.c and maint.c). */
enum dht_pend_kind {
  DHT_PEND_PING = 0,   /* liveness: eviction ping or hint */
  DHT_PEND_BOOT,       /* bootstrap PING: join on the PONG */
  DHT_PEND_LOOKUP,     /* FIND_NODE / FIND_VALUE of an operation */
  DHT_PEND_STORE,      /* STORE of a put or republish */
  DHT_PEND_REPL_FIND,  /* replication: does the peer hold it? */
  DHT_PEND_REPL_STORE, /* replication: STORE */
  DHT_PEND_APP,        /* RELAY of dht_node_send_app */
  DHT_PEND_KINDS
};

/* Replication context: the record a DHT_PEND_REPL_FIND is about. */
typedef struct dht_repl_ctx {
  uint8_t key[DHT_KEY_LEN];
  uint8_t slot[DHT_KEY_LEN];
} dht_repl_ctx;

typedef struct dht_pending {
  uint8_t id[DHT_ID_LEN]; /* the peer asked; only it may answer */
  dht_addr addr;
  dht_time sent;          /* ns */
  dht_repl_ctx *ctx;      /* DHT_PEND_REPL_FIND only, owned */
  uint32_t op;            /* operation id, 0 = none; DHT_PEND_BOOT: round */
  uint8_t kind;           /* dht_pend_kind */
  uint8_t type;           /* request message type */
  uint8_t live;           /* 0 once answered or timed out */
} dht_pending;

typedef struct dht_rpc {
  dht_pending *ring; /* in send order; cap a power of two */
  size_t head, n, cap;
  uint32_t head_txid; /* txid of ring[head]; txids are consecutive */
} dht_rpc;

/* A peer we talk to: identity and address. */
typedef struct dht_peer {
  uint8_t id[DHT_ID_LEN];
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
} dht_peer;

/* ---- operations -------------------------------------------------------- */

enum dht_op_kind {
  DHT_OP_LOOKUP = 0,
  DHT_OP_GET,
  DHT_OP_PUT,
  DHT_OP_JOIN,
  DHT_OP_REFRESH,
  DHT_OP_REPUBLISH,
  DHT_OP_APP,     /* one RELAY request, no lookup */
  DHT_OP_GET_ALL, /* node lookup, then the collection phase */
  DHT_OP_KINDS
};

enum dht_op_phase {
  DHT_PHASE_LOOKUP = 0,
  DHT_PHASE_STORE,
  DHT_PHASE_COLLECT, /* get_all: paging FIND_VALUE through the k closest */
  DHT_PHASE_DONE
};

/* get_all: one record collected, kept until delivery. */
typedef struct dht_ga_rec {
  uint8_t slot[DHT_KEY_LEN];
  uint64_t seq, expires;
  uint16_t len;
  uint8_t bytes[];
} dht_ga_rec;

/* get_all: one of the k closest nodes being paged through. */
typedef struct dht_ga_peer {
  dht_peer peer;
  uint32_t received; /* offset of its next record (start + records sent) */
  uint32_t total;    /* records it reported holding */
  uint8_t inflight;  /* a FIND_VALUE is outstanding */
} dht_ga_peer;

/* get_all: the collection state. */
typedef struct dht_getall {
  unsigned max;        /* distinct records wanted at most */
  uint32_t start;      /* each node's records are read from this offset */
  dht_ga_rec **recs;   /* sorted by slot, n of cap */
  size_t n, cap;
  dht_ga_peer peers[DHT_K_MAX];
  size_t n_peers;
  unsigned inflight;   /* FIND_VALUE outstanding */
  unsigned refused;    /* records that failed verification */
} dht_getall;

typedef struct dht_op {
  uint32_t id;
  uint8_t kind;  /* dht_op_kind */
  uint8_t phase; /* dht_op_phase */
  uint8_t user;  /* started through the API (counts in max_operations) */
  int status;    /* result once DONE */
  dht_time started;
  dht_lookup lk;
  union {
    dht_lookup_cb lookup;
    dht_get_cb get;
    dht_put_cb put;
    dht_send_cb send;
    dht_get_all_done_cb get_all;
  } cb;
  dht_get_all_visit_cb visit; /* get_all */
  dht_getall *ga;             /* get_all, owned */
  void *arg;
  uint8_t *rec;          /* put: the record; get: the best one found */
  size_t rec_len;
  uint8_t author[NC_PK_LEN]; /* get: author of the first record found */
  uint64_t seq;          /* get: seq of the best record */
  unsigned found_hop;    /* get: hop that delivered it */
  uint8_t found_on[DHT_PATHS_MAX]; /* get: valid replies per path */
  unsigned stored;       /* put: STORED with status 0 */
  unsigned store_wait;   /* put: STOREs outstanding */
  int store_err;         /* put: the first refusal (STORED status < 0) */
  unsigned store_silent; /* put: STOREs that timed out */
} dht_op;

typedef struct dht_boot {
  dht_addr addr;
  uint64_t cookie;
  dht_time sent;   /* last PROBE; DHT_TIME_NONE = free slot */
  unsigned tries;  /* PROBEs sent in this round */
  unsigned rounds; /* earlier rounds whose PING went unanswered */
} dht_boot;

/* dht_node_send_probe (re)sends bootstrap slot |b|'s PROBE. Returns 0 or
 * DHT_ERR_BUSY (outgoing queue full). */
int dht_node_send_probe(dht_node *node, dht_boot *b);

/* dht_node_boot_start starts bootstrap round |rounds| (0 = the first)
 * towards |addr|. Returns 0 or DHT_ERR_BUSY. */
int dht_node_boot_start(dht_node *node, const dht_addr *addr,
                        unsigned rounds);

struct dht_node {
  dht_config cfg;
  dht_env env;
  nc_identity ident; /* secret key wiped on free */
  nc_kx kx;          /* our X25519 scalar, converted once; wiped on free */
  dht_time now;      /* latest time seen: never goes backward */
  dht_rt rt;
  dht_keycache keys;
  dht_rl rl;
  dht_replay replay;
  dht_tokens tokens;
  dht_store store;
  dht_outq outq;
  dht_rpc rpc;
  dht_boot boot[DHT_BOOT_MAX];
  dht_op **ops; /* n_ops of cap_ops */
  size_t n_ops, cap_ops;
  unsigned user_ops;
  uint32_t next_op;
  int reaping;           /* inside dht_ops_reap */
  size_t repl_cursor;    /* next record of the replication pass */
  dht_time t_replicate;  /* next replication tick or pass */
  dht_time t_republish;  /* earliest own record due (may be early) */
  dht_time t_expire;     /* next expiry sweep */
  dht_time t_rejoin;     /* second self-lookup after a join, or NONE */
  dht_time t_tidy;       /* next shrink of idle tables */
  dht_stats stats;
};

/* ---- config.c ---------------------------------------------------------- */

/* dht_config_check returns 0 if |cfg| is usable, else
 * DHT_ERR_INVALID_ARGUMENT. */
int dht_config_check(const dht_config *cfg);

/* ---- node.c ------------------------------------------------------------ */

/* dht_node_clock advances the node's clock to |now| unless that is
 * earlier (time never goes backward) and returns the node's time. */
dht_time dht_node_clock(dht_node *node, dht_time now);

/* dht_node_log formats a line and hands it to env.log, if set. */
void dht_node_log(const dht_node *node, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* dht_node_peer_key finds or derives the pair key for |peer| (routing
 * table, key cache, or nc_id_check_puzzle + env.peer_key or
 * nc_kx_peer_key, which refuses every point nc_id_verify refuses).
 * Returns 0, or DHT_ERR_PUZZLE if (pk, nonce) fails the puzzle at the
 * configured difficulty (no key is derived then), or
 * DHT_ERR_INVALID_ARGUMENT if no shared key exists. */
int dht_node_peer_key(dht_node *node, const dht_peer *peer,
                      uint8_t key[NC_SHARED_LEN]);

/* dht_node_admit records an authenticated message from |peer| (pair key
 * |key|) in the routing table, pinging the least-recently-seen contact of
 * a full bucket when the table asks for it. |rtt_ms| 0 = unknown. */
void dht_node_admit(dht_node *node, const dht_peer *peer,
                    const uint8_t key[NC_SHARED_LEN], uint32_t rtt_ms);

/* dht_node_accept_record verifies |bytes| (|len|) and stores it: calls
 * env.store_put if |persist|, marks it ours if |own|. Counts
 * records_accepted / records_refused. Returns a dht_store_result or the
 * DHT_ERR_* code that refused it. */
int dht_node_accept_record(dht_node *node, const uint8_t *bytes, size_t len,
                           int persist, int own);

/* dht_node_mem returns the bytes |node| holds on the heap (its object
 * and every table, record, queued datagram and operation), without the
 * allocator's own overhead. For tests and the simulator's figures. */
size_t dht_node_mem(const dht_node *node);

/* dht_node_live_record returns 1 if |r| has not expired at the node's
 * current time. */
int dht_node_live_record(const dht_node *node, const dht_srec *r);

/* ---- keys / outq / rpc ------------------------------------------------- */

/* dht_outq_push queues a copy of |len| bytes for |to|. When full the
 * datagram is dropped and counted (queue_full). Returns 0 or
 * DHT_ERR_BUSY. */
int dht_outq_push(dht_node *node, const dht_addr *to, const uint8_t *data,
                  size_t len);

/* dht_outq_free releases every queued datagram. */
void dht_outq_free(dht_outq *q);

/* dht_rpc_send sends request |m| (type set; txid and ts filled here) to
 * |peer| and remembers it as |kind| for operation |op| with |ctx| (owned
 * from now on, freed on any failure). Returns 0, DHT_ERR_PUZZLE,
 * DHT_ERR_INVALID_ARGUMENT (no key), DHT_ERR_BUSY (too many outstanding or
 * queue full) or DHT_ERR_TOO_LARGE. */
int dht_rpc_send(dht_node *node, const dht_peer *peer, dht_msg *m,
                 uint8_t kind, uint32_t op, dht_repl_ctx *ctx);

/* dht_rpc_reply seals reply |m| (type and txid set by the caller; ts
 * filled here) to |to| under |key|. Returns 0 or a DHT_ERR_* code. */
int dht_rpc_reply(dht_node *node, const dht_addr *to,
                  const uint8_t key[NC_SHARED_LEN], dht_msg *m);

/* dht_rpc_match finds the live request a reply of |type| with |txid|
 * from |id| answers, copies it to |out|, marks it answered and returns 1;
 * returns 0 if there is none (unsolicited). */
int dht_rpc_match(dht_node *node, uint32_t txid, uint8_t type,
                  const uint8_t id[DHT_ID_LEN], dht_pending *out);

/* dht_rpc_expects returns 1 if a request or bootstrap probe to |addr| is
 * outstanding (its reply must not be rate-limited). */
int dht_rpc_expects(const dht_node *node, const dht_addr *addr);

/* dht_rpc_pop_expired removes the oldest outstanding request if it timed
 * out by |now|, copying it to |out|. Returns 1 if one was removed. */
int dht_rpc_pop_expired(dht_node *node, dht_time now, dht_pending *out);

/* dht_rpc_deadline returns when the oldest live request times out. */
dht_time dht_rpc_deadline(const dht_node *node);

/* dht_rpc_tidy releases the request ring and the outgoing queue's ring
 * when they are empty (they grow again on demand). */
void dht_rpc_tidy(dht_node *node);

/* dht_rpc_free releases the outstanding requests and their contexts. */
void dht_rpc_free(dht_rpc *rpc);

/* dht_msg_start clears |m| and sets its type. */
void dht_msg_start(dht_msg *m, uint8_t type);

/* ---- inbound.c / handlers.c -------------------------------------------- */

/* What the inbound pipeline knows about a datagram so far. */
typedef struct dht_rx {
  const dht_addr *from;
  const uint8_t *buf;
  size_t len;
  dht_frame f;
  dht_peer peer;              /* sender: id, pk, nonce, from */
  uint8_t key[NC_SHARED_LEN]; /* pair key, secret */
  int took_token;             /* a rate-limit token was taken */
  uint8_t body[DHT_BODY_MAX];
  size_t body_len;
  dht_msg m;
  uint8_t alt[DHT_MAX_RECORD]; /* a behaviour hook's record (simulations) */
  size_t alt_len;
} dht_rx;

/* dht_handle_request answers the authenticated request in |rx|. Returns
 * -1 if answered, or a DHT_DROP_* reason to count. */
int dht_handle_request(dht_node *node, dht_rx *rx);

/* dht_handle_probe answers a PROBE or completes a bootstrap on a
 * PROBE_REPLY. Returns -1 if handled, or a DHT_DROP_* reason. */
int dht_handle_probe(dht_node *node, dht_rx *rx);

/* ---- ops.c -------------------------------------------------------------- */

/* dht_ops_start creates an operation of |kind| for |target| (FIND_VALUE
 * lookups for DHT_OP_GET), keeps a copy of |rec| (|rec_len| bytes, may be
 * NULL) for the STORE phase of puts, seeds the lookup from the routing
 * table and sends the first requests; |user| counts it in max_operations.
 * Returns the operation, or NULL with *err = DHT_ERR_BUSY or
 * DHT_ERR_NOMEM. */
dht_op *dht_ops_start(dht_node *node, uint8_t kind,
                      const uint8_t target[DHT_ID_LEN], int user,
                      const uint8_t *rec, size_t rec_len, int *err);

/* dht_ops_create is dht_ops_start without seeding and sending: the
 * caller sets up the operation, then calls dht_ops_run. Same returns. */
dht_op *dht_ops_create(dht_node *node, uint8_t kind,
                       const uint8_t target[DHT_ID_LEN], int user,
                       const uint8_t *rec, size_t rec_len, int *err);

/* dht_ops_run seeds |op|'s lookup from the routing table and sends the
 * first requests (the lookup may end at once). */
void dht_ops_run(dht_node *node, dht_op *op);

/* dht_ops_discard unlinks and frees |op| without calling back. */
void dht_ops_discard(dht_node *node, dht_op *op);

/* dht_ops_peer writes the peer of lookup candidate |c| to |p|. */
void dht_ops_peer(dht_peer *p, const dht_cand *c);

/* dht_ops_find returns the operation with |id| or NULL. */
dht_op *dht_ops_find(const dht_node *node, uint32_t id);

/* dht_ops_reply feeds an authenticated reply |m| from |peer| to the
 * operation of request |p|. */
void dht_ops_reply(dht_node *node, const dht_pending *p, const dht_peer *peer,
                   const dht_msg *m);

/* dht_ops_timeout tells the operation of request |p| that it failed. */
void dht_ops_timeout(dht_node *node, const dht_pending *p);

/* dht_ops_finish marks |op| done with |status|; its callback runs from
 * dht_ops_reap. */
void dht_ops_finish(dht_node *node, dht_op *op, int status);

/* dht_ops_reap runs the callbacks of finished operations and frees them. */
void dht_ops_reap(dht_node *node);

/* dht_ops_pending_done returns 1 if a finished operation awaits its
 * callback. */
int dht_ops_pending_done(const dht_node *node);

/* dht_ops_free frees every operation without calling back. */
void dht_ops_free(dht_node *node);

/* dht_ops_slots returns how many more operations of the given class
 * (|user| or internal) may start now. */
unsigned dht_ops_slots(const dht_node *node, int user);

/* ---- collect.c ---------------------------------------------------------- */

/* dht_collect_begin starts the collection phase of get_all |op| once its
 * node lookup is over: merges the local records, then sends FIND_VALUE
 * to the k closest nodes that answered. May finish |op|. */
void dht_collect_begin(dht_node *node, dht_op *op);

/* dht_collect_reply feeds the VALUES reply |m| from |peer| (to request
 * |p|) to get_all |op|: records merged, next page asked for. */
void dht_collect_reply(dht_node *node, dht_op *op, const dht_pending *p,
                       const dht_peer *peer, const dht_msg *m);

/* dht_collect_timeout tells get_all |op| that request |p| failed. */
void dht_collect_timeout(dht_node *node, dht_op *op, const dht_pending *p);

/* dht_collect_deliver visits every collected record, then calls done. */
void dht_collect_deliver(dht_node *node, dht_op *op,
                         const dht_lookup_stats *st);

/* dht_collect_free releases the collection state of |op|. */
void dht_collect_free(dht_op *op);

/* ---- maint.c ------------------------------------------------------------ */

/* dht_maint_init schedules the node's timers from |now|. */
void dht_maint_init(dht_node *node, dht_time now);

/* dht_maint_repl_reply handles the VALUES answer to a replication probe
 * |p| (sends STORE if the peer lacks our version). */
void dht_maint_repl_reply(dht_node *node, const dht_pending *p,
                          const dht_peer *peer, const dht_msg *m);

/* dht_maint_note_store tells the timers that records changed (expiry and
 * republish times may be earlier). */
void dht_maint_note_store(dht_node *node);

#endif /* NOINTRUDE_DHT_NODE_H */
