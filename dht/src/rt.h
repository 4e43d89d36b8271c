/*
 * Internal: the routing table. One bucket per common-prefix length with
 * our ID (0..255), k live contacts per bucket plus a small replacement
 * cache, IP-diversity limits, Kademlia's prefer-the-old eviction. Only
 * contacts that proved their key are ever handed to dht_rt_seen; the
 * table stores the pair key with each contact so that talking to a known
 * contact never costs an X25519.
 *
 * Memory grows on demand: the bucket array reaches only the deepest
 * bucket used, and each bucket's arrays grow 2, 4, 8 .. k.
 */
#ifndef NOINTRUDE_DHT_RT_H
#define NOINTRUDE_DHT_RT_H

#include <nointrude/dht.h>

#define DHT_RT_REPL_MAX 4   /* replacement cache entries per bucket */
#define DHT_RT_MAX_FAILS 3  /* consecutive failures before removal */
#define DHT_RT_V4_BUCKET_BITS 24 /* diversity prefixes, see dht_config */
#define DHT_RT_V6_BUCKET_BITS 48
#define DHT_RT_V4_TABLE_BITS 16
#define DHT_RT_V6_TABLE_BITS 32

/* A routing-table entry: the public contact plus what only we need. */
typedef struct dht_rt_entry {
  dht_contact c;
  uint8_t key[NC_SHARED_LEN]; /* pair key (nc_peer_key), secret */
  uint8_t fails;              /* consecutive unanswered requests */
  uint8_t evicting;           /* an eviction ping is outstanding */
} dht_rt_entry;

typedef struct dht_bucket {
  dht_rt_entry *live;  /* n_live used of cap_live */
  dht_rt_entry *repl;  /* replacement cache, n_repl of DHT_RT_REPL_MAX */
  uint8_t n_live, cap_live, n_repl;
  dht_time refreshed;  /* last lookup into this bucket's range, or last
                          message from one of its live contacts (ns) */
} dht_bucket;

/* How many live contacts of the table share one /16 (v6 /32) prefix. */
typedef struct dht_rt_prefix {
  uint64_t word;  /* the prefix, as rt.c's prefix_word */
  uint32_t count; /* live contacts in it, >= 1 */
} dht_rt_prefix;

typedef struct dht_rt {
  uint8_t self[DHT_ID_LEN];
  unsigned k;                 /* live contacts per bucket, 1..DHT_K_MAX */
  unsigned bucket_prefix_max; /* per /24 (v6 /48) in one bucket */
  unsigned table_prefix_max;  /* per /16 (v6 /32) in the table */
  dht_time ping_after; /* a full bucket pings its least-recently-seen
                          contact only if silent this long (ns) */
  dht_bucket *buckets; /* index = common prefix length with self */
  unsigned n_buckets;
  size_t n_live;       /* live contacts in all buckets */
  dht_rt_prefix *prefixes; /* table prefixes of the live contacts, sorted
                              by word: the per-table diversity count
                              without a scan of every contact */
  size_t n_prefixes, cap_prefixes;
} dht_rt;

/* Outcomes of dht_rt_seen (non-negative) */
enum dht_rt_result {
  DHT_RT_UPDATED = 0, /* already a live contact; refreshed */
  DHT_RT_ADDED,       /* inserted as a live contact */
  DHT_RT_CACHED,      /* bucket full: waiting in the replacement cache */
  DHT_RT_PING,        /* as CACHED, and the caller must ping *ping */
  DHT_RT_REFUSED,     /* self, or diversity limits */
};

/* dht_rt_init prepares |rt| for our ID |self| with bucket size |k| and
 * the two diversity limits; the bucket array starts empty and every
 * bucket's refresh clock at |now|. Returns 0 or DHT_ERR_INVALID_ARGUMENT
 * (k is 0 or above DHT_K_MAX). */
int dht_rt_init(dht_rt *rt, const uint8_t self[DHT_ID_LEN], unsigned k,
                unsigned bucket_prefix_max, unsigned table_prefix_max,
                dht_time now);

/* dht_rt_free releases |rt|'s memory and wipes the stored keys. */
void dht_rt_free(dht_rt *rt);

/* dht_rt_bucket_index returns the bucket of |id| (common prefix length
 * with self, 0..255) or -1 for self. */
int dht_rt_bucket_index(const dht_rt *rt, const uint8_t id[DHT_ID_LEN]);

/* dht_rt_seen records an authenticated message from |e| (its c.id, c.pk,
 * c.nonce, c.addr and key are read) at |now|; |rtt_ms| > 0 updates the
 * smoothed round-trip time. If the bucket is full the contact goes to the
 * replacement cache and, when the least-recently-seen live contact has
 * been silent for ping_after, that contact is copied to |ping| and marked
 * as being evicted. Returns a dht_rt_result or DHT_ERR_NOMEM. */
int dht_rt_seen(dht_rt *rt, const dht_rt_entry *e, dht_time now,
                uint32_t rtt_ms, dht_contact *ping);

/* dht_rt_failed records that a request to |id| went unanswered. A contact
 * under an eviction ping, or one with DHT_RT_MAX_FAILS failures in a
 * row, is removed and the best replacement (most recently seen, passing
 * the diversity limits) promoted. Returns 1 if a contact was removed. */
int dht_rt_failed(dht_rt *rt, const uint8_t id[DHT_ID_LEN]);

/* dht_rt_remove removes |id| from the live contacts and the replacement
 * cache, promoting a replacement. Returns 1 if it was present. */
int dht_rt_remove(dht_rt *rt, const uint8_t id[DHT_ID_LEN]);

/* dht_rt_find returns the live or cached entry for |id|, or NULL. The
 * pointer is valid until the next change to the table. */
dht_rt_entry *dht_rt_find(const dht_rt *rt, const uint8_t id[DHT_ID_LEN]);

/* dht_rt_closest writes to |out| pointers to the (at most |max|) live
 * contacts closest to |target|, nearest first, skipping |exclude| (may be
 * NULL). Pointers are valid until the next change. Returns the count. */
size_t dht_rt_closest(const dht_rt *rt, const uint8_t target[DHT_ID_LEN],
                      const uint8_t *exclude, const dht_rt_entry **out,
                      size_t max);

/* dht_rt_copy copies up to |max| live contacts to |out|, farthest
 * buckets first (closest buckets last). Returns the count. */
size_t dht_rt_copy(const dht_rt *rt, dht_contact *out, size_t max);

/* dht_rt_touch marks the bucket that |target| falls in as refreshed at
 * |now| (a lookup went into its range). dht_rt_seen does the same for the
 * bucket of a live contact heard from or added. */
void dht_rt_touch(dht_rt *rt, const uint8_t target[DHT_ID_LEN], dht_time now);

/* dht_rt_set_refreshed sets bucket |b|'s refresh clock to |t| (a time
 * in the past makes it due sooner, one in the future postpones it). */
void dht_rt_set_refreshed(dht_rt *rt, unsigned b, dht_time t);

/* dht_rt_bucket_size returns the number of live contacts in bucket |b|
 * (0 for a bucket beyond the deepest one in use). */
unsigned dht_rt_bucket_size(const dht_rt *rt, unsigned b);

/* dht_rt_refresh_due returns the index of a bucket idle for at least
 * |interval| at |now| (buckets up to the deepest one in use), or -1.
 * *next (may be NULL) receives the earliest time a bucket becomes due. */
int dht_rt_refresh_due(const dht_rt *rt, dht_time now, dht_time interval,
                       dht_time *next);

/* dht_rt_random_in_bucket writes to |out| an ID in bucket |b|'s range:
 * self's first |b| bits, bit |b| flipped, the rest from |rnd| (32
 * random bytes). */
void dht_rt_random_in_bucket(const dht_rt *rt, unsigned b,
                             const uint8_t rnd[DHT_ID_LEN],
                             uint8_t out[DHT_ID_LEN]);

#endif /* NOINTRUDE_DHT_RT_H */
