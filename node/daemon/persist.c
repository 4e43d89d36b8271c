/*
 * Persistence of records, note sequence numbers and the routing table
 * snapshot (key layout in persist.h). Everything read back from the
 * database is treated as hostile: records are fully verified again by the
 * DHT (dht_node_restore_record) and checked against their database key,
 * snapshot entries are length- and family-checked, and whatever fails is
 * deleted and counted rather than trusted.
 */
#include "persist.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "util.h"

void node_persist_init(node_persist *p, node_store *store,
                       const uint8_t own_pk[NC_PK_LEN]) {
  memset(p, 0, sizeof *p);
  p->store = store;
  memcpy(p->own_pk, own_pk, NC_PK_LEN);
}

void node_record_dbkey(uint8_t out[NODE_RECORD_DBKEY_LEN], uint8_t prefix,
                       const uint8_t key[DHT_KEY_LEN],
                       const uint8_t slot[DHT_KEY_LEN]) {
  out[0] = prefix;
  memcpy(out + 1, key, DHT_KEY_LEN);
  memcpy(out + 1 + DHT_KEY_LEN, slot, DHT_KEY_LEN);
}

/* is_own tells whether the record |rec| (|len| bytes) in |slot| was
 * written by this node: the slot is our pk (ordinary types), or the
 * record decodes and names us as author (multi types). */
static int is_own(const node_persist *p, const uint8_t slot[DHT_KEY_LEN],
                  const uint8_t *rec, size_t len) {
  dht_record r;
  if (sodium_memcmp(slot, p->own_pk, NC_PK_LEN) == 0) return 1;
  return dht_record_decode(&r, rec, len) == 0 &&
         sodium_memcmp(r.author_pk, p->own_pk, NC_PK_LEN) == 0;
}

/* ---- dht_env hooks ------------------------------------------------------- */

/* Every record goes to the write-ahead log without fsync, which survives
 * a crash of the daemon but not of the machine. Before the CLI is told
 * that a put or a batch publish succeeded, the control server syncs the
 * log once (node_persist_sync): one fsync for a batch of a thousand
 * records rather than one per record, which made publishing a batch take
 * seconds of fsyncs. */
static int hook_store_put(void *user, const uint8_t key[DHT_KEY_LEN],
                          const uint8_t slot[DHT_KEY_LEN],
                          const uint8_t *rec, size_t len) {
  node_persist *p = user;
  int own = is_own(p, slot, rec, len);
  uint8_t dbkey[NODE_RECORD_DBKEY_LEN];
  node_record_dbkey(dbkey, own ? 'o' : 'r', key, slot);
  if (node_store_put(p->store, dbkey, sizeof dbkey, rec, len, 0) < 0) {
    p->store_failures++;
    node_log(DHT_LOG_ERROR, "database: cannot store a record: %s",
             node_store_error(p->store));
    return -1;
  }
  return 0;
}

static int hook_store_del(void *user, const uint8_t key[DHT_KEY_LEN],
                          const uint8_t slot[DHT_KEY_LEN]) {
  node_persist *p = user;
  uint8_t dbkey[NODE_RECORD_DBKEY_LEN];
  node_store_batch *b = node_store_batch_new();
  int rv = b ? 0 : NODE_ERR_NOMEM;
  if (b) {
    node_record_dbkey(dbkey, 'r', key, slot);
    node_store_batch_del(b, dbkey, sizeof dbkey);
    dbkey[0] = 'o';
    node_store_batch_del(b, dbkey, sizeof dbkey);
    rv = node_store_batch_write(p->store, b, 0);
    node_store_batch_free(b);
  }
  if (rv < 0) {
    p->store_failures++;
    node_log(DHT_LOG_ERROR, "database: cannot delete a record: %s",
             b ? node_store_error(p->store) : "out of memory");
  }
  return rv < 0 ? -1 : 0;
}

int node_persist_sync(node_persist *p) {
  if (node_store_sync(p->store) == 0) return 0;
  p->store_failures++;
  node_log(DHT_LOG_ERROR, "database: cannot sync the write-ahead log: %s",
           node_store_error(p->store));
  return NODE_ERR_STORE;
}

void node_persist_env(node_persist *p, dht_env *env) {
  env->user = p;
  env->store_put = hook_store_put;
  env->store_del = hook_store_del;
}

/* ---- Restoring records --------------------------------------------------- */

typedef struct restore_ctx {
  node_persist *p;
  dht_node *dht;
  dht_time now;
  node_store_batch *doomed; /* keys to delete once iteration ends */
  size_t restored, own;
} restore_ctx;

/* matches_dbkey checks that a stored record sits under its own key and
 * slot (its author's pk, or for multi types BLAKE2b-256(author_pk ||
 * payload); the DHT, which knows the types, verifies it again) and sets
 * *author_is to whether |own_pk| wrote it. */
static int matches_dbkey(const uint8_t *dbkey, size_t klen, const uint8_t *val,
                         size_t vlen, const uint8_t own_pk[NC_PK_LEN],
                         int *author_is) {
  dht_record rec;
  uint8_t plain[DHT_KEY_LEN], multi[DHT_KEY_LEN];
  *author_is = 0;
  if (klen != NODE_RECORD_DBKEY_LEN || dht_record_decode(&rec, val, vlen) < 0)
    return 0;
  *author_is = memcmp(rec.author_pk, own_pk, NC_PK_LEN) == 0;
  dht_record_slot(plain, &rec, 0);
  dht_record_slot(multi, &rec, 1);
  return memcmp(dbkey + 1, rec.key, DHT_KEY_LEN) == 0 &&
         (memcmp(dbkey + 1 + DHT_KEY_LEN, plain, DHT_KEY_LEN) == 0 ||
          memcmp(dbkey + 1 + DHT_KEY_LEN, multi, DHT_KEY_LEN) == 0);
}

static int restore_one(void *arg, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen) {
  restore_ctx *c = arg;
  int mine = 0;
  int match = matches_dbkey(key, klen, val, vlen, c->p->own_pk, &mine);
  int own = key[0] == 'o' && mine;
  int rv = match
               ? dht_node_restore_record(c->dht, c->now, val, vlen, own)
               : DHT_ERR_MALFORMED;
  if (rv < 0) {
    node_log(DHT_LOG_DEBUG, "restore: dropping a stored record: %s",
             dht_strerror(rv));
    node_store_batch_del(c->doomed, key, klen);
    c->p->restore_failures++;
    return 0;
  }
  c->restored++;
  c->own += (size_t)own;
  return 0;
}

int node_persist_restore(node_persist *p, dht_node *dht, dht_time now,
                         size_t *restored, size_t *own) {
  static const uint8_t prefixes[] = {'o', 'r'};
  restore_ctx c = {p, dht, now, node_store_batch_new(), 0, 0};
  int rv = c.doomed ? 0 : NODE_ERR_NOMEM;
  for (size_t i = 0; rv == 0 && i < sizeof prefixes; i++)
    if (node_store_iterate(p->store, &prefixes[i], 1, restore_one, &c) < 0)
      rv = NODE_ERR_STORE;
  if (rv == 0) rv = node_store_batch_write(p->store, c.doomed, 0);
  node_store_batch_free(c.doomed);
  *restored = c.restored;
  *own = c.own;
  return rv;
}

/* ---- Note sequence numbers ----------------------------------------------- */

int node_persist_next_seq(node_persist *p, const uint8_t key[DHT_KEY_LEN],
                          uint64_t now_ms, uint64_t *seq) {
  uint8_t dbkey[1 + DHT_KEY_LEN], val[8];
  size_t len = 0;
  uint64_t next = now_ms;
  dbkey[0] = 's';
  memcpy(dbkey + 1, key, DHT_KEY_LEN);
  int rv = node_store_get(p->store, dbkey, sizeof dbkey, val, sizeof val, &len);
  if (rv == NODE_ERR_STORE) return rv;
  /* A value of the wrong size is corrupt: start again from the clock. */
  if (rv == 1 && len == 8) {
    uint64_t last = node_get_le64(val);
    if (last != UINT64_MAX && last + 1 > next) next = last + 1;
  }
  node_put_le64(val, next);
  if (node_store_put(p->store, dbkey, sizeof dbkey, val, 8, 1) < 0) {
    p->store_failures++;
    return NODE_ERR_STORE;
  }
  *seq = next;
  return 0;
}

/* ---- Routing table snapshot ---------------------------------------------- */

void node_snapshot_encode(const dht_contact *c, uint8_t key[NODE_SNAP_KEY_LEN],
                          uint8_t val[NODE_SNAP_VAL_LEN]) {
  key[0] = 'c';
  memcpy(key + 1, c->pk, NC_PK_LEN);
  node_put_le64(val, c->nonce);
  val[8] = c->addr.family;
  memcpy(val + 9, c->addr.ip, 16);
  val[25] = (uint8_t)(c->addr.port >> 8);
  val[26] = (uint8_t)(c->addr.port & 0xff);
}

int node_snapshot_decode(const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen, uint8_t pk[NC_PK_LEN], uint64_t *nonce,
                         dht_addr *addr) {
  memset(addr, 0, sizeof *addr);
  if (klen != NODE_SNAP_KEY_LEN || key[0] != 'c' || vlen != NODE_SNAP_VAL_LEN)
    return NODE_ERR_PROTO;
  if (val[8] != 4 && val[8] != 6) return NODE_ERR_PROTO;
  uint16_t port = (uint16_t)(val[25] << 8 | val[26]);
  if (port == 0) return NODE_ERR_PROTO;
  memcpy(pk, key + 1, NC_PK_LEN);
  *nonce = node_get_le64(val);
  addr->family = val[8];
  memcpy(addr->ip, val + 9, 16);
  addr->port = port;
  return 0;
}

static int doom_key(void *arg, const uint8_t *key, size_t klen,
                    const uint8_t *val, size_t vlen) {
  (void)val;
  (void)vlen;
  node_store_batch_del(arg, key, klen);
  return 0;
}

long node_persist_snapshot_save(node_persist *p, const dht_node *dht,
                                int sync) {
  static const uint8_t prefix = 'c';
  dht_contact *contacts = calloc(NODE_SNAPSHOT_MAX, sizeof *contacts);
  node_store_batch *b = node_store_batch_new();
  long rv = (contacts && b) ? 0 : NODE_ERR_NOMEM;
  size_t n = rv == 0 ? dht_node_contacts(dht, contacts, NODE_SNAPSHOT_MAX) : 0;
  if (rv == 0 && n > 0 &&
      node_store_iterate(p->store, &prefix, 1, doom_key, b) < 0)
    rv = NODE_ERR_STORE;
  for (size_t i = 0; rv == 0 && i < n; i++) {
    uint8_t key[NODE_SNAP_KEY_LEN], val[NODE_SNAP_VAL_LEN];
    node_snapshot_encode(&contacts[i], key, val);
    node_store_batch_put(b, key, sizeof key, val, sizeof val);
  }
  if (rv == 0 && n > 0) rv = node_store_batch_write(p->store, b, sync);
  if (rv == NODE_ERR_STORE) p->store_failures++;
  node_store_batch_free(b);
  free(contacts);
  return rv < 0 ? rv : (long)n;
}

typedef struct hint_ctx {
  dht_node *dht;
  dht_time now;
  node_store_batch *doomed;
  long hints;
} hint_ctx;

static int hint_one(void *arg, const uint8_t *key, size_t klen,
                    const uint8_t *val, size_t vlen) {
  hint_ctx *c = arg;
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
  if (node_snapshot_decode(key, klen, val, vlen, pk, &nonce, &addr) < 0) {
    node_store_batch_del(c->doomed, key, klen);
    return 0;
  }
  /* A hint that fails the puzzle at today's difficulty is just skipped:
   * the next snapshot will not contain it. */
  if (dht_node_add_hint(c->dht, c->now, pk, nonce, &addr) == 0) c->hints++;
  return 0;
}

long node_persist_snapshot_load(node_persist *p, dht_node *dht, dht_time now) {
  static const uint8_t prefix = 'c';
  hint_ctx c = {dht, now, node_store_batch_new(), 0};
  long rv = c.doomed ? 0 : NODE_ERR_NOMEM;
  if (rv == 0 && node_store_iterate(p->store, &prefix, 1, hint_one, &c) < 0)
    rv = NODE_ERR_STORE;
  if (rv == 0) rv = node_store_batch_write(p->store, c.doomed, 0);
  node_store_batch_free(c.doomed);
  return rv < 0 ? rv : c.hints;
}
