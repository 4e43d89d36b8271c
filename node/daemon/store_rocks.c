/*
 * RocksDB persistence through its C API. The options are chosen for a
 * small daemon of which twenty may share one machine: a 4 MiB write
 * buffer, few open files, and RocksDB's own LOG kept short and at error
 * level. Errors from RocksDB arrive as malloc'd strings; the last one is
 * kept in the handle for the caller's message.
 */
#include "store_rocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "errors.h"

#define STORE_ERR_MAX 256             /* bytes of a kept message */
#define STORE_WRITE_BUFFER (4u << 20) /* memtable size */
#define STORE_MAX_OPEN_FILES 64
#define STORE_LOG_FILE_MAX (1u << 20) /* RocksDB's LOG file */

struct node_store {
  rocksdb_t *db;
  rocksdb_options_t *opts;
  rocksdb_readoptions_t *ropts;
  rocksdb_writeoptions_t *wopts_async, *wopts_sync;
  char err[STORE_ERR_MAX];
};

struct node_store_batch {
  rocksdb_writebatch_t *wb;
};

/* take_error moves a RocksDB error string into |st| and frees it. */
static int take_error(node_store *st, char *rerr) {
  snprintf(st->err, sizeof st->err, "%s", rerr ? rerr : "unknown error");
  rocksdb_free(rerr);
  return NODE_ERR_STORE;
}

static rocksdb_options_t *make_options(unsigned flags) {
  rocksdb_options_t *o = rocksdb_options_create();
  if (!o) return NULL;
  rocksdb_options_set_create_if_missing(o, (flags & NODE_STORE_CREATE) != 0);
  rocksdb_options_set_write_buffer_size(o, STORE_WRITE_BUFFER);
  rocksdb_options_set_max_open_files(o, STORE_MAX_OPEN_FILES);
  rocksdb_options_set_info_log_level(o, 3 /* ERROR_LEVEL */);
  rocksdb_options_set_keep_log_file_num(o, 2);
  rocksdb_options_set_max_log_file_size(o, STORE_LOG_FILE_MAX);
  return o;
}

static int make_handles(node_store *st, unsigned flags) {
  st->opts = make_options(flags);
  st->ropts = rocksdb_readoptions_create();
  st->wopts_async = rocksdb_writeoptions_create();
  st->wopts_sync = rocksdb_writeoptions_create();
  if (!st->opts || !st->ropts || !st->wopts_async || !st->wopts_sync)
    return NODE_ERR_NOMEM;
  rocksdb_writeoptions_set_sync(st->wopts_sync, 1);
  return 0;
}

int node_store_open(node_store **out, const char *path, unsigned flags,
                    char *err, size_t cap) {
  char *rerr = NULL;
  node_store *st = calloc(1, sizeof *st);
  int rv = st ? make_handles(st, flags) : NODE_ERR_NOMEM;
  *out = NULL;
  if (rv < 0) {
    snprintf(err, cap, "out of memory");
    goto fail;
  }
  if (flags & NODE_STORE_READ_ONLY)
    st->db = rocksdb_open_for_read_only(st->opts, path, 0, &rerr);
  else
    st->db = rocksdb_open(st->opts, path, &rerr);
  if (!st->db) {
    rv = take_error(st, rerr);
    snprintf(err, cap, "%s", st->err);
    goto fail;
  }
  *out = st;
  return 0;
fail:
  node_store_close(st);
  return rv;
}

void node_store_close(node_store *st) {
  if (!st) return;
  if (st->db) rocksdb_close(st->db);
  if (st->wopts_sync) rocksdb_writeoptions_destroy(st->wopts_sync);
  if (st->wopts_async) rocksdb_writeoptions_destroy(st->wopts_async);
  if (st->ropts) rocksdb_readoptions_destroy(st->ropts);
  if (st->opts) rocksdb_options_destroy(st->opts);
  free(st);
}

const char *node_store_error(const node_store *st) { return st->err; }

int node_store_get(node_store *st, const uint8_t *key, size_t klen,
                   uint8_t *val, size_t cap, size_t *len) {
  char *rerr = NULL;
  size_t vlen = 0;
  char *v =
      rocksdb_get(st->db, st->ropts, (const char *)key, klen, &vlen, &rerr);
  *len = 0;
  if (rerr) return take_error(st, rerr);
  if (!v) return 0;
  int rv = 1;
  if (vlen > cap) {
    snprintf(st->err, sizeof st->err, "stored value of %zu bytes exceeds %zu",
             vlen, cap);
    rv = NODE_ERR_TOO_LARGE;
  } else {
    memcpy(val, v, vlen);
    *len = vlen;
  }
  rocksdb_free(v);
  return rv;
}

static rocksdb_writeoptions_t *wopts(node_store *st, int sync) {
  return sync ? st->wopts_sync : st->wopts_async;
}

int node_store_put(node_store *st, const uint8_t *key, size_t klen,
                   const uint8_t *val, size_t vlen, int sync) {
  char *rerr = NULL;
  rocksdb_put(st->db, wopts(st, sync), (const char *)key, klen,
              (const char *)val, vlen, &rerr);
  return rerr ? take_error(st, rerr) : 0;
}

int node_store_sync(node_store *st) {
  char *rerr = NULL;
  rocksdb_flush_wal(st->db, 1, &rerr);
  return rerr ? take_error(st, rerr) : 0;
}

int node_store_del(node_store *st, const uint8_t *key, size_t klen, int sync) {
  char *rerr = NULL;
  rocksdb_delete(st->db, wopts(st, sync), (const char *)key, klen, &rerr);
  return rerr ? take_error(st, rerr) : 0;
}

long node_store_iterate(node_store *st, const uint8_t *prefix, size_t plen,
                        node_store_visit_cb cb, void *arg) {
  char *rerr = NULL;
  long n = 0;
  rocksdb_iterator_t *it = rocksdb_create_iterator(st->db, st->ropts);
  if (!it) return NODE_ERR_NOMEM;
  for (rocksdb_iter_seek(it, (const char *)prefix, plen);
       rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
    size_t klen, vlen;
    const char *k = rocksdb_iter_key(it, &klen);
    const char *v = rocksdb_iter_value(it, &vlen);
    if (klen < plen || memcmp(k, prefix, plen) != 0) break;
    n++;
    if (cb(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen)) break;
  }
  rocksdb_iter_get_error(it, &rerr);
  rocksdb_iter_destroy(it);
  return rerr ? take_error(st, rerr) : n;
}

node_store_batch *node_store_batch_new(void) {
  node_store_batch *b = calloc(1, sizeof *b);
  if (b && !(b->wb = rocksdb_writebatch_create())) {
    free(b);
    b = NULL;
  }
  return b;
}

void node_store_batch_put(node_store_batch *b, const uint8_t *key, size_t klen,
                          const uint8_t *val, size_t vlen) {
  rocksdb_writebatch_put(b->wb, (const char *)key, klen, (const char *)val,
                         vlen);
}

void node_store_batch_del(node_store_batch *b, const uint8_t *key,
                          size_t klen) {
  rocksdb_writebatch_delete(b->wb, (const char *)key, klen);
}

int node_store_batch_write(node_store *st, node_store_batch *b, int sync) {
  char *rerr = NULL;
  rocksdb_write(st->db, wopts(st, sync), b->wb, &rerr);
  return rerr ? take_error(st, rerr) : 0;
}

void node_store_batch_free(node_store_batch *b) {
  if (!b) return;
  rocksdb_writebatch_destroy(b->wb);
  free(b);
}
