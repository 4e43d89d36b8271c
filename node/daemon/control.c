/*
 * The control server. Each connection has a fixed line buffer of
 * NODE_CTL_LINE_MAX bytes and handles one request at a time: reading stops
 * while a request is in progress and resumes once its reply is written,
 * so a client costs bounded memory however fast it writes. A line that
 * does not fit gets an error reply and the connection is closed (there is
 * no way to find the next request boundary we could trust). Requests are
 * dispatched through a table indexed by command.
 *
 * put, get, get_all, lookup and publish start a DHT or registry
 * operation whose callback sends the reply. The operation outlives its
 * client if the client leaves: the callback then only frees it.
 *
 * publish reads the batch file named in the request (an absolute path,
 * read with the node's own permissions; the socket is private to the
 * node's user) with a bounded size, then hands it to the registry, which
 * verifies all of it before anything is put into the DHT.
 */
#define _POSIX_C_SOURCE 200809L
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "util.h"

#define CTL_PEERS_MAX NODE_SNAPSHOT_MAX /* contacts in one peers reply */

typedef struct ctl_client ctl_client;
typedef struct ctl_op ctl_op;

struct ctl_op {
  node_control *ctl;
  ctl_client *client; /* NULL once the client has gone */
  uint8_t key[DHT_KEY_LEN];
  uint64_t seq; /* put: the note's sequence number */
  uint8_t *file; /* publish: the batch file, until the registry has it */
  size_t file_len;
  json_t *records; /* get_all: records visited so far */
  ctl_op *prev, *next;
};

struct ctl_client {
  uv_pipe_t pipe;
  node_control *ctl;
  ctl_op *op;            /* operation in progress, or NULL */
  int busy;              /* a request is being handled or answered */
  int reading;           /* uv_read_start is in effect */
  int close_after_write; /* the last reply ends the connection */
  size_t len;            /* bytes in buf */
  ctl_client *prev, *next;
  char buf[NODE_CTL_LINE_MAX];
};

struct node_control {
  uv_pipe_t server;
  node_runtime *rt;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  unsigned max_clients;
  size_t n_clients;
  int stopped;
  ctl_client *clients;
  ctl_op *ops;
};

typedef struct ctl_write {
  uv_write_t req;
  ctl_client *client;
  char *line;
} ctl_write;

static void client_process(ctl_client *c);

/* ---- Lists --------------------------------------------------------------- */

static ctl_op *op_new(ctl_client *c) {
  ctl_op *op = calloc(1, sizeof *op);
  if (!op) return NULL;
  op->ctl = c->ctl;
  op->client = c;
  op->next = c->ctl->ops;
  if (op->next) op->next->prev = op;
  c->ctl->ops = op;
  c->op = op;
  return op;
}

/* op_free unlinks |op| and detaches it from its client. */
static void op_free(ctl_op *op) {
  if (op->prev)
    op->prev->next = op->next;
  else
    op->ctl->ops = op->next;
  if (op->next) op->next->prev = op->prev;
  if (op->client) op->client->op = NULL;
  free(op->file);
  json_decref(op->records);
  free(op);
}

static void on_client_closed(uv_handle_t *h) {
  ctl_client *c = h->data;
  node_control *ctl = c->ctl;
  if (c->prev)
    c->prev->next = c->next;
  else
    ctl->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  if (c->op) c->op->client = NULL;
  ctl->n_clients--;
  free(c);
}

static void client_close(ctl_client *c) {
  if (!uv_is_closing((uv_handle_t *)&c->pipe))
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

/* ---- Replies ------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status) {
  ctl_write *w = (ctl_write *)req;
  ctl_client *c = w->client;
  free(w->line);
  free(w);
  c->busy = 0;
  if (status < 0 || c->close_after_write || c->ctl->stopped) {
    client_close(c);
    return;
  }
  client_process(c);
}

/* reply sends |obj| (consumed) as one line; a NULL |obj| means the reply
 * could not be built, which the client hears as an error. */
static void reply(ctl_client *c, json_t *obj) {
  ctl_write *w = calloc(1, sizeof *w);
  size_t len = 0;
  if (!obj) obj = node_ctl_error_reply("out of memory");
  if (w) w->line = obj ? node_ctl_encode_line(obj, &len) : NULL;
  json_decref(obj);
  if (!w || !w->line) {
    free(w);
    client_close(c); /* nothing sensible can be said */
    return;
  }
  w->client = c;
  uv_buf_t buf = uv_buf_init(w->line, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
    free(w->line);
    free(w);
    client_close(c);
  }
}

static void reply_error(ctl_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reply_error(ctl_client *c, const char *fmt, ...) {
  char msg[NODE_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  reply(c, node_ctl_error_reply(msg));
}

/* set_result adds ok/error and the lookup statistics to a reply. */
static json_t *set_result(json_t *obj, int ok, const char *error,
                          const dht_lookup_stats *stats) {
  if (!obj) return NULL;
  int rv = json_object_set_new(obj, "ok", json_boolean(ok));
  if (!ok) rv |= json_object_set_new(obj, "error", json_string(error));
  if (stats)
    rv |= json_object_set_new(obj, "stats", node_ctl_stats_json(stats));
  if (rv < 0) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

/* op_finish frees |op| and returns the client still waiting for it, or
 * NULL if that client has gone. */
static ctl_client *op_finish(ctl_op *op) {
  ctl_client *c = op->client;
  op_free(op);
  return c;
}

/* ---- Commands ------------------------------------------------------------ */

static void cmd_status(ctl_client *c, const node_ctl_request *req) {
  node_status st;
  (void)req;
  node_rt_status(c->ctl->rt, &st);
  reply(c, node_ctl_status_json(&st));
}

static json_t *contacts_json(const dht_contact *list, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++) {
    if (json_array_append_new(arr, node_ctl_contact_json(&list[i])) < 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

static void cmd_peers(ctl_client *c, const node_ctl_request *req) {
  dht_contact *list = calloc(CTL_PEERS_MAX, sizeof *list);
  (void)req;
  if (!list) {
    reply_error(c, "out of memory");
    return;
  }
  size_t n = dht_node_contacts(node_rt_dht(c->ctl->rt), list, CTL_PEERS_MAX);
  json_t *arr = contacts_json(list, n);
  free(list);
  reply(c, arr ? json_pack("{sbso}", "ok", 1, "peers", arr) : NULL);
}

static void on_put(void *arg, int status, unsigned stored,
                   const dht_lookup_stats *stats) {
  ctl_op *op = arg;
  uint8_t key[DHT_KEY_LEN];
  uint64_t seq = op->seq;
  node_persist *p = node_rt_persist(op->ctl->rt);
  memcpy(key, op->key, sizeof key);
  ctl_client *c = op_finish(op);
  if (!c) return;
  char hex[2 * DHT_KEY_LEN + 1];
  nc_hex_encode(hex, key, sizeof key);
  /* Durable before it is reported (persist.c writes without fsync). */
  int synced = node_persist_sync(p) == 0;
  int ok = status == 0 && stored > 0 && synced;
  const char *error = status < 0 ? dht_strerror(status)
                      : !synced  ? "database sync failed"
                                 : "no storer acknowledged";
  json_t *obj = json_pack("{sssIsI}", "key", hex, "seq", (json_int_t)seq,
                          "stored", (json_int_t)stored);
  reply(c, set_result(obj, ok, error, stats));
}

/* build_note signs a note of ours for |req| into |enc| (DHT_MAX_RECORD). */
static int build_note(node_runtime *rt, const node_ctl_request *req,
                      dht_time now, ctl_op *op, uint8_t *enc, size_t *len) {
  const nc_identity *ident = node_rt_identity(rt);
  uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  dht_record rec;
  dht_note_key(op->key, ident->pk, req->name, req->name_len);
  if (node_persist_next_seq(node_rt_persist(rt), op->key, now / DHT_MS,
                            &op->seq) < 0)
    return DHT_ERR_STORE;
  int rv = dht_note_build(&rec, payload, sizeof payload, ident, req->name,
                          req->name_len, req->value, req->value_len,
                          now / DHT_SEC, req->ttl_s, op->seq);
  return rv < 0 ? rv : dht_record_encode(&rec, enc, DHT_MAX_RECORD, len);
}

static void cmd_put(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  uint8_t enc[DHT_MAX_RECORD];
  size_t len = 0;
  dht_time now = node_rt_now(rt);
  ctl_op *op = op_new(c);
  int rv = op ? build_note(rt, req, now, op, enc, &len) : DHT_ERR_NOMEM;
  if (rv == 0) rv = dht_node_put(node_rt_dht(rt), now, enc, len, on_put, op);
  if (rv < 0) {
    if (op) op_free(op);
    reply_error(c, "put: %s", dht_strerror(rv));
    return;
  }
  node_rt_flush(rt);
}

static void on_get(void *arg, int status, const dht_record *rec,
                   const uint8_t *bytes, size_t len,
                   const dht_lookup_stats *stats) {
  ctl_client *c = op_finish(arg);
  (void)bytes;
  (void)len;
  if (!c) return;
  if (status < 0 || !rec) {
    const char *error = status < 0 ? dht_strerror(status) : "not found";
    reply(c, set_result(json_object(), 0, error, stats));
    return;
  }
  reply(c, set_result(node_ctl_record_json(rec), 1, NULL, stats));
}

static void cmd_get(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  ctl_op *op = op_new(c);
  int rv =
      op ? dht_node_get(node_rt_dht(rt), node_rt_now(rt), req->key, on_get, op)
         : DHT_ERR_NOMEM;
  if (rv < 0) {
    if (op) op_free(op);
    reply_error(c, "get: %s", dht_strerror(rv));
    return;
  }
  node_rt_flush(rt);
}

static void on_lookup(void *arg, int status, const dht_contact *closest,
                      size_t n, const dht_lookup_stats *stats) {
  ctl_client *c = op_finish(arg);
  if (!c) return;
  json_t *arr = contacts_json(closest, n);
  json_t *obj = arr ? json_pack("{so}", "closest", arr) : NULL;
  reply(c, set_result(obj, status == 0, dht_strerror(status), stats));
}

static void cmd_lookup(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  ctl_op *op = op_new(c);
  int rv = op ? dht_node_lookup(node_rt_dht(rt), node_rt_now(rt), req->key,
                                on_lookup, op)
              : DHT_ERR_NOMEM;
  if (rv < 0) {
    if (op) op_free(op);
    reply_error(c, "lookup: %s", dht_strerror(rv));
    return;
  }
  node_rt_flush(rt);
}

static int visit_local(void *arg, const dht_record *rec, const uint8_t *bytes,
                       size_t len) {
  (void)bytes;
  (void)len;
  /* A record that cannot be shown still counts: the array gets a null. */
  json_t *obj = node_ctl_record_json(rec);
  return json_array_append_new(arg, obj ? obj : json_null()) < 0;
}

static void cmd_local(ctl_client *c, const node_ctl_request *req) {
  json_t *arr = json_array();
  size_t n = arr ? dht_node_local_get(node_rt_dht(c->ctl->rt), req->key,
                                      visit_local, arr)
                 : 0;
  json_t *obj = arr ? json_pack("{so}", "records", arr) : NULL;
  reply(c, set_result(obj, n > 0, "not found", NULL));
}

/* ---- Registry commands ---------------------------------------------------- */

static void on_get_all_visit(void *arg, const dht_record *rec,
                             const uint8_t *bytes, size_t len) {
  ctl_op *op = arg;
  json_t *obj = node_ctl_record_raw_json(rec, bytes, len);
  json_array_append_new(op->records, obj ? obj : json_null());
}

static void on_get_all_done(void *arg, int status, unsigned found,
                            const dht_lookup_stats *stats) {
  ctl_op *op = arg;
  json_t *records = json_incref(op->records);
  ctl_client *c = op_finish(op);
  if (!c) {
    json_decref(records);
    return;
  }
  json_t *obj = json_pack("{sosI}", "records", records, "found",
                          (json_int_t)found);
  reply(c, set_result(obj, status == 0, dht_strerror(status), stats));
}

static void cmd_get_all(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  ctl_op *op = op_new(c);
  int rv = op && (op->records = json_array()) ? 0 : DHT_ERR_NOMEM;
  if (rv == 0)
    rv = dht_node_get_all_from(node_rt_dht(rt), node_rt_now(rt), req->key,
                               req->offset, req->max, on_get_all_visit,
                               on_get_all_done, op);
  if (rv < 0) {
    if (op) op_free(op);
    reply_error(c, "get_all: %s", dht_strerror(rv));
    return;
  }
  node_rt_flush(rt);
}

/* read_batch_file reads the regular file |path| (at most
 * NODE_BATCH_FILE_MAX bytes) into |op|. On failure |msg| says why. */
static int read_batch_file(ctl_op *op, const char *path, char *msg,
                           size_t cap) {
  return node_read_file(path, NODE_BATCH_FILE_MAX, &op->file, &op->file_len,
                        msg, cap);
}

static void on_publish(void *arg, int status, size_t published,
                       size_t failed) {
  ctl_op *op = arg;
  node_persist *p = node_rt_persist(op->ctl->rt);
  ctl_client *c = op_finish(op);
  char msg[NODE_ERR_MSG_MAX];
  if (node_persist_sync(p) < 0 && status == 0) status = DHT_ERR_STORE;
  node_log(failed ? DHT_LOG_WARN : DHT_LOG_INFO,
           "batch published: %zu records stored, %zu found no storer%s%s",
           published, failed, status < 0 ? ": " : "",
           status < 0 ? reg_strerror(status) : "");
  if (!c) return;
  if (status < 0)
    snprintf(msg, sizeof msg, "publish: %s", reg_strerror(status));
  else
    snprintf(msg, sizeof msg, "publish: %zu of %zu records found no storer",
             failed, published + failed);
  json_t *obj = json_pack("{sIsI}", "stored", (json_int_t)published, "failed",
                          (json_int_t)failed);
  reply(c, set_result(obj, status == 0 && failed == 0, msg, NULL));
}

static void cmd_publish(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  char msg[NODE_ERR_MSG_MAX];
  ctl_op *op = op_new(c);
  if (!op) {
    reply_error(c, "out of memory");
    return;
  }
  if (read_batch_file(op, req->path, msg, sizeof msg) < 0) {
    op_free(op);
    reply_error(c, "publish: %s", msg);
    return;
  }
  node_log(DHT_LOG_INFO, "publishing the batch file %s (%zu bytes)", req->path,
           op->file_len);
  int rv = reg_node_publish_batch(node_rt_reg(rt), node_rt_now(rt), op->file,
                                  op->file_len, on_publish, op);
  /* On failure the callback has not run (op is still the client's). */
  if (rv < 0 && c->op == op) {
    op_free(op);
    node_log(DHT_LOG_WARN, "batch file %s refused: %s", req->path,
             reg_strerror(rv));
    reply_error(c, "batch file refused: %s%s", reg_strerror(rv),
                rv == REG_ERR_STALE ? " (publish it with --key KEYFILE to "
                                      "announce it again)"
                                    : "");
    return;
  }
  if (c->op == op) { /* the registry keeps its own decoded copy */
    free(op->file);
    op->file = NULL;
  }
  node_rt_flush(rt);
}

/* protect_reply answers add/remove with the canonical address. */
static void protect_reply(ctl_client *c, const char *address, int rv,
                          const char *verb) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t len;
  if (reg_address_canonical(canon, &len, address, strlen(address)) < 0)
    rv = REG_ERR_ADDRESS;
  if (rv == DHT_ERR_NOT_FOUND) {
    reply_error(c, "%s: %s is not a protected address", verb, canon);
    return;
  }
  if (rv < 0 && rv != REG_ERR_DUPLICATE) {
    reply_error(c, "%s: %s", verb, reg_strerror(rv));
    return;
  }
  reply(c, json_pack("{sbsssb}", "ok", 1, "address", canon, "changed",
                     rv == 0));
}

static void cmd_protect_add(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  int rv = reg_node_protect_add(node_rt_reg(rt), node_rt_now(rt), req->address);
  protect_reply(c, req->address, rv, "protect add");
  node_rt_flush(rt); /* a match against a known batch sends an opt-out */
}

static void cmd_protect_remove(ctl_client *c, const node_ctl_request *req) {
  node_runtime *rt = c->ctl->rt;
  int rv =
      reg_node_protect_remove(node_rt_reg(rt), node_rt_now(rt), req->address);
  protect_reply(c, req->address, rv, "protect remove");
  node_rt_flush(rt);
}

/* visit_protected stops the walk once the reply is full. */
static int visit_protected(void *arg, const char *canon) {
  json_t *arr = arg;
  json_array_append_new(arr, json_string(canon));
  return json_array_size(arr) >= NODE_CTL_PROTECT_LIST_MAX;
}

static void cmd_protect_list(ctl_client *c, const node_ctl_request *req) {
  json_t *arr = json_array();
  reg_stats st;
  (void)req;
  reg_node_stats(node_rt_reg(c->ctl->rt), &st);
  if (arr) reg_node_protect_list(node_rt_reg(c->ctl->rt), visit_protected, arr);
  size_t total = st.protected_addresses;
  int truncated = arr && json_array_size(arr) < total;
  reply(c, arr ? json_pack("{sbsosIsb}", "ok", 1, "addresses", arr, "total",
                           (json_int_t)total, "truncated", truncated)
               : NULL);
}

typedef void (*ctl_handler)(ctl_client *c, const node_ctl_request *req);

static const ctl_handler ctl_handlers[NODE_CTL_COUNT] = {
    [NODE_CTL_STATUS] = cmd_status, [NODE_CTL_PEERS] = cmd_peers,
    [NODE_CTL_PUT] = cmd_put,       [NODE_CTL_GET] = cmd_get,
    [NODE_CTL_LOOKUP] = cmd_lookup, [NODE_CTL_LOCAL] = cmd_local,
    [NODE_CTL_GET_ALL] = cmd_get_all, [NODE_CTL_PUBLISH] = cmd_publish,
    [NODE_CTL_PROTECT_ADD] = cmd_protect_add,
    [NODE_CTL_PROTECT_REMOVE] = cmd_protect_remove,
    [NODE_CTL_PROTECT_LIST] = cmd_protect_list,
};

/* ---- Reading requests ---------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  ctl_client *c = h->data;
  (void)suggested;
  buf->base = c->buf + c->len;
  buf->len = sizeof c->buf - c->len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  ctl_client *c = s->data;
  (void)buf;
  if (nread < 0) {
    client_close(c); /* EOF or error: the client is gone */
    return;
  }
  c->len += (size_t)nread;
  client_process(c);
}

static void set_reading(ctl_client *c, int on) {
  if (on == c->reading) return;
  if (on && uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
    client_close(c);
    return;
  }
  if (!on) uv_read_stop((uv_stream_t *)&c->pipe);
  c->reading = on;
}

static int closing(ctl_client *c) {
  return uv_is_closing((uv_handle_t *)&c->pipe);
}

/* take_line handles the line that ends at |nl| and drops it from the
 * buffer. Blank lines are ignored; a trailing CR is tolerated. */
static void take_line(ctl_client *c, char *nl) {
  size_t len = (size_t)(nl - c->buf), rest = c->len - len - 1;
  node_ctl_request req;
  char err[NODE_ERR_MSG_MAX];
  int rv = 0;
  if (len > 0 && c->buf[len - 1] == '\r') len--;
  /* Parse before moving the rest down: the request is copied out. */
  if (len > 0) rv = node_ctl_parse_request(&req, c->buf, len, err, sizeof err);
  memmove(c->buf, nl + 1, rest);
  c->len = rest;
  if (len == 0) return;
  c->busy = 1;
  set_reading(c, 0);
  if (rv < 0)
    reply_error(c, "%s", err);
  else
    ctl_handlers[req.cmd](c, &req);
}

/* client_process handles the next complete line in the buffer, if any, or
 * goes back to reading. */
static void client_process(ctl_client *c) {
  while (!c->busy && !closing(c)) {
    char *nl = memchr(c->buf, '\n', c->len);
    if (!nl) break;
    take_line(c, nl);
  }
  if (c->busy || closing(c)) return;
  if (c->len == sizeof c->buf) {
    c->busy = 1;
    c->close_after_write = 1;
    c->len = 0;
    set_reading(c, 0);
    reply_error(c, "request line longer than %d bytes", NODE_CTL_LINE_MAX - 1);
    return;
  }
  set_reading(c, 1);
}

/* ---- The listening socket ------------------------------------------------ */

static void on_connection(uv_stream_t *server, int status) {
  node_control *ctl = server->data;
  ctl_client *c;
  if (status < 0 || ctl->stopped || !(c = calloc(1, sizeof *c))) return;
  c->ctl = ctl;
  uv_pipe_init(server->loop, &c->pipe, 0);
  c->pipe.data = c;
  c->next = ctl->clients;
  if (c->next) c->next->prev = c;
  ctl->clients = c;
  ctl->n_clients++;
  if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
    client_close(c);
    return;
  }
  if (ctl->n_clients > ctl->max_clients) {
    c->busy = 1;
    c->close_after_write = 1;
    reply_error(c, "too many control clients (at most %u)", ctl->max_clients);
    return;
  }
  client_process(c);
}

static int bind_socket(node_control *ctl, uv_loop_t *loop, const char *path,
                       char *err, size_t cap) {
  int rv;
  if (strlen(path) >= sizeof ctl->path) {
    snprintf(err, cap, "control socket path %s is longer than %zu bytes", path,
             sizeof ctl->path - 1);
    return NODE_ERR_TOO_LARGE;
  }
  snprintf(ctl->path, sizeof ctl->path, "%s", path);
  unlink(path); /* a stale socket of a node that did not stop cleanly */
  if ((rv = uv_pipe_init(loop, &ctl->server, 0)) < 0) {
    snprintf(err, cap, "control socket %s: %s", path, uv_strerror(rv));
    return NODE_ERR_IO;
  }
  ctl->server.data = ctl;
  if ((rv = uv_pipe_bind(&ctl->server, path)) < 0) {
    snprintf(err, cap, "control socket %s: %s", path, uv_strerror(rv));
    return NODE_ERR_IO;
  }
  if (chmod(path, 0600) < 0) {
    snprintf(err, cap, "control socket %s: chmod: %s", path, strerror(errno));
    return NODE_ERR_IO;
  }
  if ((rv = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection)) < 0) {
    snprintf(err, cap, "control socket %s: listen: %s", path, uv_strerror(rv));
    return NODE_ERR_IO;
  }
  return 0;
}

int node_control_start(node_control **out, uv_loop_t *loop, node_runtime *rt,
                       const char *path, unsigned max_clients, char *err,
                       size_t cap) {
  node_control *ctl = calloc(1, sizeof *ctl);
  int rv;
  *out = NULL;
  if (!ctl) {
    snprintf(err, cap, "out of memory");
    return NODE_ERR_NOMEM;
  }
  ctl->rt = rt;
  ctl->max_clients = max_clients;
  rv = bind_socket(ctl, loop, path, err, cap);
  *out = ctl; /* even on failure: the handle may need closing */
  if (rv < 0) node_control_stop(ctl);
  return rv;
}

void node_control_stop(node_control *ctl) {
  if (!ctl || ctl->stopped) return;
  ctl->stopped = 1;
  if (ctl->server.loop && !uv_is_closing((uv_handle_t *)&ctl->server)) {
    uv_close((uv_handle_t *)&ctl->server, NULL);
    if (ctl->path[0]) unlink(ctl->path);
  }
  for (ctl_client *c = ctl->clients; c; c = c->next) client_close(c);
}

void node_control_free(node_control *ctl) {
  if (!ctl) return;
  while (ctl->ops) op_free(ctl->ops);
  free(ctl);
}

size_t node_control_clients(const node_control *ctl) {
  return ctl ? ctl->n_clients : 0;
}
