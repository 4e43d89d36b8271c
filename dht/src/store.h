/*
 * Internal: the in-memory record table of one node. Records are kept as
 * their encoded bytes plus the few fields the engine needs, in one array
 * sorted by (key, author): a lookup is a binary search, the records under
 * one key are contiguous and in a stable order (FIND_VALUE offsets page
 * through them), and a sweep is a linear scan. Quotas per author (count,
 * bytes) and in total are enforced here, and the replacement rules:
 *
 *   ordinary types: one record per (key, author), i.e. slot = author_pk,
 *     replaced only by a strictly higher seq;
 *   multi types (dht_record_type.multi): one record per (key, slot) with
 *     slot = BLAKE2b-256(author_pk || payload), so an author holds many
 *     records under one key; a record with the same slot but other bytes
 *     replaces the held one only if it expires later.
 *
 * In both cases the same bytes again are a refresh. The table is sorted by
 * (key, slot); for ordinary types that is (key, author).
 *
 * The table checks no signature: callers verify records first
 * (dht_record_verify) and pass the decoded fields with the bytes.
 */
#ifndef NOINTRUDE_DHT_STORE_H
#define NOINTRUDE_DHT_STORE_H

#include <nointrude/dht.h>

typedef struct dht_srec {
  uint8_t key[DHT_KEY_LEN];
  uint8_t slot[DHT_KEY_LEN]; /* see dht_record_slot */
  uint8_t author[NC_PK_LEN];
  uint64_t seq;
  uint64_t expires;    /* Unix seconds; expired when expires <= now */
  dht_time touched;    /* last time a STORE or put delivered it (ns) */
  dht_time republish;  /* own records: next republish (ns) */
  uint16_t len;        /* bytes[] length, <= DHT_MAX_RECORD */
  uint8_t own;         /* republished by this node */
  uint8_t multi;       /* its type is a multi type */
  uint8_t bytes[];     /* the encoded record */
} dht_srec;

typedef struct dht_author_use {
  uint8_t pk[NC_PK_LEN];
  uint32_t count; /* records */
  uint32_t bytes; /* encoded bytes */
} dht_author_use;

typedef struct dht_store {
  dht_srec **recs; /* sorted by (key, slot) */
  size_t n, cap;
  dht_author_use *authors; /* sorted by pk; entries with count > 0 */
  size_t n_authors, cap_authors;
  uint64_t bytes;          /* sum of len */
  size_t n_own;
  uint32_t author_max_records;
  uint32_t author_max_bytes;
  uint64_t max_bytes;
  uint64_t min_expires; /* no record expires before this (Unix s); may
                           be earlier than the true minimum */
  const dht_record_type *types; /* extra types (multi flags), may be NULL */
  size_t n_types;
} dht_store;

/* Outcomes of dht_store_check / dht_store_put (non-negative) */
enum dht_store_result {
  DHT_STORE_NEW = 0,  /* no record for (key, slot) yet */
  DHT_STORE_REPLACE,  /* replaces a lower seq (multi: earlier expiry) */
  DHT_STORE_SAME,     /* identical bytes already held: a refresh */
};

/* dht_store_init prepares an empty table with the given quotas (records
 * and bytes per author, bytes in total). Allocates nothing. */
void dht_store_init(dht_store *st, uint32_t author_max_records,
                    uint32_t author_max_bytes, uint64_t max_bytes);

/* dht_store_set_types tells the table the extra record types (|n| of
 * |types|, kept by pointer, may be NULL): their multi flags decide slots.
 * The built-in note is never multi. Call before storing anything. */
void dht_store_set_types(dht_store *st, const dht_record_type *types,
                         size_t n);

/* dht_store_multi returns 1 if record type |type| is a multi type. */
int dht_store_multi(const dht_store *st, uint8_t type);

/* dht_store_slot writes |rec|'s slot (dht_record_slot with its type's
 * multi flag) into |slot|. */
void dht_store_slot(const dht_store *st, const dht_record *rec,
                    uint8_t slot[DHT_KEY_LEN]);

/* dht_store_free releases every record. */
void dht_store_free(dht_store *st);

/* dht_store_check says what dht_store_put would do with the verified
 * record |rec| encoded as |bytes| (|len| bytes), without changing
 * anything. Returns a dht_store_result, DHT_ERR_STALE (other bytes
 * that are not newer: same or lower seq, multi: no later expiry),
 * DHT_ERR_QUOTA or DHT_ERR_TOO_LARGE. */
int dht_store_check(const dht_store *st, const dht_record *rec,
                    const uint8_t *bytes, size_t len);

/* dht_store_put stores |bytes| under (rec->key, slot of rec) at |now|
 * (ns), as dht_store_check describes; DHT_STORE_SAME only updates
 * touched. A stored record keeps its own flag across replacement.
 * Returns a dht_store_result or a DHT_ERR_* code (also DHT_ERR_NOMEM). */
int dht_store_put(dht_store *st, const dht_record *rec, const uint8_t *bytes,
                  size_t len, dht_time now);

/* dht_store_find returns the record for (|key|, |slot|) or NULL (for
 * ordinary types the slot is the author's pk). */
dht_srec *dht_store_find(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                         const uint8_t slot[DHT_KEY_LEN]);

/* dht_store_newer returns 1 if the verified |rec| is a newer version than
 * |old| (same key and slot): higher seq, or for multi types a later
 * expiry. */
int dht_store_newer(const dht_store *st, const dht_record *rec,
                    const dht_srec *old);

/* dht_store_range returns how many records (expired ones included) lie
 * under |key| and their first index in st->recs via |first|. */
size_t dht_store_range(const dht_store *st, const uint8_t key[DHT_KEY_LEN],
                       size_t *first);

/* dht_store_set_own marks |r| as ours (republish at |republish| ns) or
 * not (|own| = 0), keeping n_own right. */
void dht_store_set_own(dht_store *st, dht_srec *r, int own,
                       dht_time republish);

/* dht_store_remove deletes the record at index |i|. */
void dht_store_remove_at(dht_store *st, size_t i);

/* Called for each record dht_store_expire deletes. */
typedef void (*dht_store_del_cb)(void *arg, const dht_srec *r);

/* dht_store_expire deletes records with expires <= |now_s|, calling |cb|
 * (may be NULL) before each deletion, at most |max| of them. Returns the
 * number deleted; when it equals |max| more may remain. Recomputes
 * min_expires after a complete sweep. */
size_t dht_store_expire(dht_store *st, uint64_t now_s, size_t max,
                        dht_store_del_cb cb, void *arg);

/* dht_store_author returns the quota use of |author| or NULL. */
const dht_author_use *dht_store_author(const dht_store *st,
                                       const uint8_t author[NC_PK_LEN]);

#endif /* NOINTRUDE_DHT_STORE_H */
