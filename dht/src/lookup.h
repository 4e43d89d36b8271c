/*
 * Internal: the state of one iterative lookup, without any I/O. The node
 * asks it whom to query next, and tells it who answered (with which
 * contacts) and who failed; it decides when the lookup is over.
 *
 * S/Kademlia disjoint paths: the candidate pool is shared, sorted by XOR
 * distance to the target, and every candidate belongs to exactly one
 * path (the one whose reply, or seed, named it first), so no two paths
 * ever query the same node; a visited set of ID prefixes also prevents a
 * node from being queried twice if it was dropped from the pool and named
 * again. Each path keeps at most alpha requests in flight and ends when
 * the k closest live candidates it owns have all answered (or when the
 * node ends it, e.g. because it found a value).
 */
#ifndef NOINTRUDE_DHT_LOOKUP_H
#define NOINTRUDE_DHT_LOOKUP_H

#include <nointrude/dht.h>

#include "wire.h"

#define DHT_LOOKUP_POOL_MIN 32
#define DHT_LOOKUP_POOL_MAX 256

enum dht_cand_state {
  DHT_CAND_NEW = 0,  /* not queried yet */
  DHT_CAND_INFLIGHT, /* request outstanding */
  DHT_CAND_DONE,     /* answered */
  DHT_CAND_FAILED,   /* timed out, unreachable, or skipped */
};

typedef struct dht_cand {
  uint8_t id[DHT_ID_LEN];
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
  uint8_t token[DHT_TOKEN_LEN]; /* from its NODES / VALUES reply */
  uint8_t state;                /* dht_cand_state */
  uint8_t path;                 /* owning path, < paths */
  uint8_t hop;                  /* 1 for seeds, parent's hop + 1 */
  uint8_t has_token;
  dht_time replied;             /* when it answered (ns) */
} dht_cand;

typedef struct dht_lookup {
  uint8_t target[DHT_ID_LEN];
  unsigned k, alpha, paths;
  dht_cand *pool; /* sorted by distance to target, n of cap */
  size_t n, cap;
  uint64_t *visited; /* first 8 bytes of every queried ID */
  size_t n_visited, cap_visited;
  uint8_t inflight[DHT_PATHS_MAX];
  uint8_t ended[DHT_PATHS_MAX]; /* ended early by the caller */
  dht_lookup_stats stats;       /* hops filled by dht_lookup_results */
} dht_lookup;

/* dht_lookup_init prepares a lookup of |target| with bucket size |k|
 * (1..DHT_K_MAX), |alpha| (>= 1) requests per path and |paths|
 * (1..DHT_PATHS_MAX) disjoint paths. Returns 0, DHT_ERR_INVALID_ARGUMENT
 * or DHT_ERR_NOMEM. */
int dht_lookup_init(dht_lookup *lk, const uint8_t target[DHT_ID_LEN],
                    unsigned k, unsigned alpha, unsigned paths);

/* dht_lookup_free releases |lk|'s memory. */
void dht_lookup_free(dht_lookup *lk);

/* dht_lookup_add offers a candidate for |path| at depth |hop|. It is
 * ignored if already in the pool (whichever path owns it) or if the pool
 * is full of closer candidates. Returns 1 if added, else 0. */
int dht_lookup_add(dht_lookup *lk, const uint8_t id[DHT_ID_LEN],
                   const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                   const dht_addr *addr, unsigned path, unsigned hop);

/* dht_lookup_find returns the pool index of |id| or -1. */
int dht_lookup_find(const dht_lookup *lk, const uint8_t id[DHT_ID_LEN]);

/* dht_lookup_next picks the next candidate to query (closest new one
 * among a path's k closest live candidates, on a path with fewer than
 * alpha in flight), marks it in flight and counts the request. Returns
 * its pool index (valid until the next add) or -1 if none is due. */
int dht_lookup_next(dht_lookup *lk);

/* dht_lookup_answered marks candidate |i| as answered at |now|. */
void dht_lookup_answered(dht_lookup *lk, int i, dht_time now);

/* dht_lookup_failed marks candidate |i| as failed; |timeout| counts it
 * in stats.timeouts. */
void dht_lookup_failed(dht_lookup *lk, int i, int timeout);

/* dht_lookup_end_path ends |path| early: it queries no one more. */
void dht_lookup_end_path(dht_lookup *lk, unsigned path);

/* dht_lookup_done returns 1 when every path has ended or has nothing in
 * flight and no new candidate among its k closest live ones. */
int dht_lookup_done(const dht_lookup *lk);

/* dht_lookup_results writes the pool indexes of the (at most |max|)
 * closest answered candidates of all paths, nearest first, sets
 * stats.hops to the deepest of them and returns the count. */
size_t dht_lookup_results(dht_lookup *lk, int *out, size_t max);

#endif /* NOINTRUDE_DHT_LOOKUP_H */
