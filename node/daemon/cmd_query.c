/*
 * The CLI commands that talk to a running node: status, peers, put, get
 * (and get --local, get --all), lookup and protect add|remove|list. Each
 * has a row in a table: how to build
 * its control request and how to print a successful reply as text. With
 * --json the reply object is printed as one line, as received, whatever
 * its outcome. Exit 0 when the reply says ok, 1 otherwise (with the
 * node's error on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "errors.h"
#include "util.h"

typedef void (*query_build)(const node_cli *cli, node_ctl_request *req);
typedef void (*query_print)(json_t *reply);

static const char *str(json_t *obj, const char *field) {
  const char *s = json_string_value(json_object_get(obj, field));
  return s ? s : "?";
}

static json_int_t num(json_t *obj, const char *field) {
  return json_integer_value(json_object_get(obj, field));
}

/* ---- Requests ------------------------------------------------------------ */

static void build_put(const node_cli *cli, node_ctl_request *req) {
  req->name_len = strlen(cli->pos[0]); /* lengths checked by args.c */
  req->value_len = strlen(cli->pos[1]);
  memcpy(req->name, cli->pos[0], req->name_len);
  memcpy(req->value, cli->pos[1], req->value_len);
  req->ttl_s = cli->ttl_s;
}

static void build_key(const node_cli *cli, node_ctl_request *req) {
  nc_hex_decode(req->key, DHT_KEY_LEN, cli->pos[0]); /* checked by args.c */
  if (cli->cmd == NODE_CMD_GET && cli->local) req->cmd = NODE_CTL_LOCAL;
  if (cli->cmd == NODE_CMD_GET && cli->all) {
    req->cmd = NODE_CTL_GET_ALL;
    req->max = (uint32_t)(cli->max_records ? cli->max_records
                                           : NODE_CTL_GET_ALL_DEFAULT);
  }
}

static void build_address(const node_cli *cli, node_ctl_request *req) {
  /* args.c checked it is an address, so it fits. */
  snprintf(req->address, sizeof req->address, "%s", cli->pos[0]);
}

/* ---- Text output --------------------------------------------------------- */

static void print_dropped(json_t *dropped) {
  const char *reason;
  json_t *count;
  int any = 0;
  printf("dropped    ");
  json_object_foreach(dropped, reason, count) {
    if (json_integer_value(count) == 0) continue;
    printf("%s%s=%lld", any ? " " : "", reason,
           (long long)json_integer_value(count));
    any = 1;
  }
  printf("%s\n", any ? "" : "none");
}

static void print_registry(json_t *g) {
  printf("protected  %lld addresses\n", (long long)num(g, "protected_addresses"));
  printf("batches    %lld live, %lld seen, %lld fetched, %lld refused, "
         "%lld chunks refetched\n",
         (long long)num(g, "live_batches"), (long long)num(g, "batches_seen"),
         (long long)num(g, "batches_fetched"),
         (long long)num(g, "batches_refused"),
         (long long)num(g, "chunks_refetched"));
  printf("opt-outs   %lld matches, %lld sent, %lld relayed, %lld stored, "
         "%lld relays refused\n",
         (long long)num(g, "matches"), (long long)num(g, "optouts_sent"),
         (long long)num(g, "optouts_relayed"),
         (long long)num(g, "optouts_stored"),
         (long long)num(g, "relays_refused"));
  printf("escalation %lld evidence published, %lld opt-outs repeated\n",
         (long long)num(g, "evidence_published"),
         (long long)num(g, "escalations_sent"));
}

static void print_status(json_t *r) {
  json_t *addrs = json_object_get(r, "addresses"), *a;
  size_t i;
  printf("id         %s\n", str(r, "id"));
  printf("addresses ");
  json_array_foreach(addrs, i, a) printf(" %s", json_string_value(a));
  printf("\ncontacts   %lld\n", (long long)num(r, "contacts"));
  printf("records    %lld (own %lld, %lld bytes)\n",
         (long long)num(r, "records"), (long long)num(r, "own_records"),
         (long long)num(r, "record_bytes"));
  printf("refused    %lld\n", (long long)num(r, "records_refused"));
  print_dropped(json_object_get(r, "dropped"));
  print_registry(json_object_get(r, "registry"));
  printf("uptime     %lld s\n", (long long)(num(r, "uptime_ms") / 1000));
}

static void print_peers(json_t *r) {
  json_t *peer;
  size_t i;
  char when[NODE_ISO_TIME_LEN];
  json_array_foreach(json_object_get(r, "peers"), i, peer) {
    node_iso_time(when, (uint64_t)num(peer, "last_seen_ms"));
    printf("%s %s last_seen=%s rtt=%lldms\n", str(peer, "id"),
           str(peer, "address"), when, (long long)num(peer, "rtt_ms"));
  }
}

static void print_put(json_t *r) { printf("%s\n", str(r, "key")); }

/* print_value writes a record's value bytes as they are, then a newline. */
static void print_value(json_t *rec) {
  uint8_t *value = NULL;
  size_t len = 0;
  if (node_hex_decode_alloc(str(rec, "value_hex"), DHT_MAX_RECORD, &value,
                            &len) == 0)
    fwrite(value, 1, len, stdout);
  printf("\n");
  free(value);
}

/* print_all writes one line per record of get --all. */
static void print_all(json_t *records) {
  char created[NODE_ISO_TIME_LEN], expires[NODE_ISO_TIME_LEN];
  json_t *rec;
  size_t i;
  json_array_foreach(records, i, rec) {
    node_iso_time(created, (uint64_t)num(rec, "created") * 1000);
    node_iso_time(expires, (uint64_t)num(rec, "expires") * 1000);
    printf("type=%lld author=%s seq=%lld created=%s expires=%s bytes=%zu\n",
           (long long)num(rec, "type"), str(rec, "author"),
           (long long)num(rec, "seq"), created, expires,
           strlen(str(rec, "record_hex")) / 2);
  }
}

static void print_get(json_t *r) {
  json_t *records = json_object_get(r, "records");
  if (json_is_integer(json_object_get(r, "found"))) {
    print_all(records);
    return;
  }
  /* get --local answers with every author's record; a note key belongs to
   * one author, so the first is the one. */
  print_value(records ? json_array_get(records, 0) : r);
}

static void print_lookup(json_t *r) {
  json_t *c;
  size_t i;
  json_array_foreach(json_object_get(r, "closest"), i, c)
      printf("%s %s\n", str(c, "id"), str(c, "address"));
}

static void print_protect(json_t *r) {
  printf("%s\n", str(r, "address"));
  if (json_is_false(json_object_get(r, "changed")))
    fprintf(stderr, "nointrude protect add: %s was already protected\n",
            str(r, "address"));
}

static void print_protect_list(json_t *r) {
  json_t *a;
  size_t i;
  json_array_foreach(json_object_get(r, "addresses"), i, a)
      printf("%s\n", json_string_value(a));
  if (json_is_true(json_object_get(r, "truncated")))
    fprintf(stderr,
            "nointrude protect list: only the first %zu of %lld addresses "
            "shown\n",
            json_array_size(json_object_get(r, "addresses")),
            (long long)num(r, "total"));
}

static const struct query_spec {
  const char *name; /* for messages */
  int ctl_cmd;
  query_build build; /* NULL: no fields */
  query_print print;
} query_specs[NODE_CMD_COUNT] = {
    [NODE_CMD_STATUS] = {"status", NODE_CTL_STATUS, NULL, print_status},
    [NODE_CMD_PEERS] = {"peers", NODE_CTL_PEERS, NULL, print_peers},
    [NODE_CMD_PUT] = {"put", NODE_CTL_PUT, build_put, print_put},
    [NODE_CMD_GET] = {"get", NODE_CTL_GET, build_key, print_get},
    [NODE_CMD_LOOKUP] = {"lookup", NODE_CTL_LOOKUP, build_key, print_lookup},
    [NODE_CMD_PROTECT_ADD] = {"protect add", NODE_CTL_PROTECT_ADD,
                              build_address, print_protect},
    [NODE_CMD_PROTECT_REMOVE] = {"protect remove", NODE_CTL_PROTECT_REMOVE,
                                 build_address, print_protect},
    [NODE_CMD_PROTECT_LIST] = {"protect list", NODE_CTL_PROTECT_LIST, NULL,
                               print_protect_list},
};

static void print_json(json_t *reply) {
  json_dumpf(reply, stdout, JSON_COMPACT);
  printf("\n");
}

int node_cmd_query(const node_cli *cli) {
  const struct query_spec *spec = &query_specs[cli->cmd];
  const char *name = spec->name;
  node_ctl_request req;
  char err[NODE_ERR_MSG_MAX];
  json_t *request, *reply = NULL;
  memset(&req, 0, sizeof req);
  req.cmd = spec->ctl_cmd;
  if (spec->build) spec->build(cli, &req);
  request = node_ctl_request_json(&req);
  int rv = request ? node_ctl_call(cli->data_dir, request, cli->timeout_ms,
                                   &reply, err, sizeof err)
                   : NODE_ERR_NOMEM;
  json_decref(request);
  if (rv < 0) {
    fprintf(stderr, "nointrude %s: %s\n", name,
            rv == NODE_ERR_NOMEM ? "out of memory" : err);
    return NODE_EXIT_FAILURE;
  }
  int ok = json_is_true(json_object_get(reply, "ok"));
  if (cli->json)
    print_json(reply);
  else if (ok)
    spec->print(reply);
  if (!ok) fprintf(stderr, "nointrude %s: %s\n", name, str(reply, "error"));
  json_decref(reply);
  return ok ? NODE_EXIT_OK : NODE_EXIT_FAILURE;
}
