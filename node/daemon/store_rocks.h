/*
 * Persistence for the daemon: a thin layer over RocksDB's C API holding
 * byte-string keys and values. What the keys mean (the 'i', 'r', 'o', 's',
 * 'c' prefixes) is decided by persist.c and identity.c; docs/OPERATOR.md
 * lists them.
 */
#ifndef NOINTRUDE_NODE_STORE_ROCKS_H
#define NOINTRUDE_NODE_STORE_ROCKS_H

#include <stddef.h>
#include <stdint.h>

typedef struct node_store node_store;
typedef struct node_store_batch node_store_batch;

enum node_store_flags {
  NODE_STORE_CREATE = 1,    /* create the database if missing */
  NODE_STORE_READ_ONLY = 2, /* no lock taken: works beside a running node */
};

/* node_store_open opens the database directory |path| with |flags|
 * (NODE_STORE_*). On failure |err| (|cap| bytes) holds RocksDB's message.
 * Returns 0, NODE_ERR_STORE or NODE_ERR_NOMEM. */
int node_store_open(node_store **out, const char *path, unsigned flags,
                    char *err, size_t cap);

/* node_store_close flushes nothing extra (the write-ahead log holds every
 * acknowledged write), closes the database and frees |st|. NULL is a
 * no-op. */
void node_store_close(node_store *st);

/* node_store_error returns the message of the last failed call on |st|. */
const char *node_store_error(const node_store *st);

/* node_store_get copies the value under |key| (|klen| bytes) into |val|
 * (|cap| bytes) and its length into |*len|. Returns 1 if found, 0 if
 * absent, NODE_ERR_TOO_LARGE (value longer than |cap|) or NODE_ERR_STORE. */
int node_store_get(node_store *st, const uint8_t *key, size_t klen,
                   uint8_t *val, size_t cap, size_t *len);

/* node_store_put writes |val| under |key|; |sync| = 1 waits for the
 * write-ahead log to reach the disk (fsync), 0 leaves it in the OS cache,
 * which survives a crash of the process but not of the machine.
 * Returns 0 or NODE_ERR_STORE. */
int node_store_put(node_store *st, const uint8_t *key, size_t klen,
                   const uint8_t *val, size_t vlen, int sync);

/* node_store_sync waits until every write so far is on the disk (fsync of
 * the write-ahead log). Returns 0 or NODE_ERR_STORE. */
int node_store_sync(node_store *st);

/* node_store_del removes |key| (absent keys are fine).
 * Returns 0 or NODE_ERR_STORE. */
int node_store_del(node_store *st, const uint8_t *key, size_t klen, int sync);

/* Visitor over stored pairs; return nonzero to stop. */
typedef int (*node_store_visit_cb)(void *arg, const uint8_t *key, size_t klen,
                                   const uint8_t *val, size_t vlen);

/* node_store_iterate visits, in key order, every pair whose key starts with
 * |prefix| (|plen| bytes). Returns the number visited or NODE_ERR_STORE. */
long node_store_iterate(node_store *st, const uint8_t *prefix, size_t plen,
                        node_store_visit_cb cb, void *arg);

/* Atomic groups of writes. node_store_batch_new returns NULL when out of
 * memory; put/del only queue; write applies all or nothing and returns 0
 * or NODE_ERR_STORE; free accepts NULL. */
node_store_batch *node_store_batch_new(void);
void node_store_batch_put(node_store_batch *b, const uint8_t *key, size_t klen,
                          const uint8_t *val, size_t vlen);
void node_store_batch_del(node_store_batch *b, const uint8_t *key, size_t klen);
int node_store_batch_write(node_store *st, node_store_batch *b, int sync);
void node_store_batch_free(node_store_batch *b);

#endif /* NOINTRUDE_NODE_STORE_ROCKS_H */
