/*
 * What the daemon keeps in its database besides the identity: records
 * (through the dht_env store hooks, re-admitted at start), the sequence
 * number of each note this node wrote, and the routing table snapshot.
 *
 * Keys (one prefix byte, then fixed-size fields):
 *   'r' key(32) slot(32)       record stored for others (encoded record)
 *   'o' key(32) slot(32)       record written by this node (republished)
 *                              slot: see dht_record_slot (the author's pk,
 *                              or BLAKE2b-256(author_pk || payload) for
 *                              multi record types)
 *   's' key(32)                last seq used for a note of ours (le64)
 *   'c' pk(32)                 snapshot contact: le64 nonce, family(1),
 *                              ip(16), port(2, big-endian)
 */
#ifndef NOINTRUDE_NODE_PERSIST_H
#define NOINTRUDE_NODE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/dht.h>

#include "store_rocks.h"

#define NODE_RECORD_DBKEY_LEN (1 + DHT_KEY_LEN + NC_PK_LEN)
#define NODE_SNAP_KEY_LEN (1 + NC_PK_LEN)
#define NODE_SNAP_VAL_LEN (8 + 1 + 16 + 2)
#define NODE_SNAPSHOT_MAX 4096 /* contacts written to one snapshot */

/* Persistence state of one running node. */
typedef struct node_persist {
  node_store *store;
  uint8_t own_pk[NC_PK_LEN];
  uint64_t restore_failures; /* records refused at start (deleted) */
  uint64_t store_failures;   /* failed database writes */
} node_persist;

/* node_persist_init sets up |p| for |store| and our public key |own_pk|. */
void node_persist_init(node_persist *p, node_store *store,
                       const uint8_t own_pk[NC_PK_LEN]);

/* node_persist_env fills the persistence hooks of |env| (user, store_put,
 * store_del) to write through |p|. */
void node_persist_env(node_persist *p, dht_env *env);

/* node_persist_sync makes every record written so far durable (one fsync
 * of the write-ahead log); the control server calls it before it reports
 * a put or a publish as done. Returns 0 or NODE_ERR_STORE. */
int node_persist_sync(node_persist *p);

/* node_persist_restore re-admits every stored record into |dht| at |now|
 * ('o' records as our own). Records that are refused or whose database
 * key does not match their content are deleted and counted in
 * p->restore_failures. |*restored| and |*own| count what was accepted.
 * Returns 0 or NODE_ERR_STORE. */
int node_persist_restore(node_persist *p, dht_node *dht, dht_time now,
                         size_t *restored, size_t *own);

/* node_persist_next_seq returns in |*seq| the sequence number for a new
 * note under |key|: max(|now_ms|, last + 1), and stores it (synced) so it
 * only ever increases. Returns 0 or NODE_ERR_STORE. */
int node_persist_next_seq(node_persist *p, const uint8_t key[DHT_KEY_LEN],
                          uint64_t now_ms, uint64_t *seq);

/* node_persist_snapshot_save replaces the stored routing table snapshot
 * with |dht|'s contacts; an empty table leaves the old snapshot in place
 * (a node that just restarted has not re-admitted anyone yet). |sync| as
 * in node_store_put. Returns the number written or NODE_ERR_STORE /
 * NODE_ERR_NOMEM. */
long node_persist_snapshot_save(node_persist *p, const dht_node *dht, int sync);

/* node_persist_snapshot_load proposes every snapshot contact to |dht| as a
 * hint (each is pinged before admission). Corrupt entries are deleted.
 * Returns the number of hints given or NODE_ERR_STORE. */
long node_persist_snapshot_load(node_persist *p, dht_node *dht, dht_time now);

/* node_record_dbkey writes the database key of a record: |prefix| ('r' or
 * 'o') || key || slot (dht_record_slot). */
void node_record_dbkey(uint8_t out[NODE_RECORD_DBKEY_LEN], uint8_t prefix,
                       const uint8_t key[DHT_KEY_LEN],
                       const uint8_t slot[DHT_KEY_LEN]);

/* node_snapshot_encode writes the database key and value of contact |c|. */
void node_snapshot_encode(const dht_contact *c, uint8_t key[NODE_SNAP_KEY_LEN],
                          uint8_t val[NODE_SNAP_VAL_LEN]);

/* node_snapshot_decode parses a stored snapshot entry (hostile bytes: exact
 * lengths, family 4 or 6, non-zero port). Returns 0 or NODE_ERR_PROTO. */
int node_snapshot_decode(const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen, uint8_t pk[NC_PK_LEN], uint64_t *nonce,
                         dht_addr *addr);

#endif /* NOINTRUDE_NODE_PERSIST_H */
