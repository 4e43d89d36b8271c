/*
 * The control protocol between the CLI and a running node: JSON lines
 * over a Unix stream socket (docs/OPERATOR.md has the full list). This
 * module is pure: it parses request lines and builds request and reply
 * objects (jansson), so it is tested without a socket or a loop.
 */
#ifndef NOINTRUDE_NODE_CTL_PROTO_H
#define NOINTRUDE_NODE_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nointrude/dht.h>
#include <nointrude/registry.h>

#include "config.h"

#define NODE_CTL_LINE_MAX 65536        /* bytes of a request line, '\n' incl. */
#define NODE_CTL_REPLY_MAX (16u << 20) /* bytes of a reply the CLI accepts */
#define NODE_CTL_SOCKET "control.sock"
#define NODE_CTL_ADDRESS_MAX 1024  /* bytes of an address in a request */
#define NODE_CTL_GET_ALL_MAX 4096  /* records in one get_all reply */
/* Largest batch file publish reads: a batch of REG_BATCH_MAX_ENTRIES
 * entries is ~1 GB with its envelopes; the node holds it in memory while
 * the records go out. */
#define NODE_BATCH_FILE_MAX (1200ull << 20)
#define NODE_CTL_GET_ALL_DEFAULT 1024
#define NODE_CTL_PROTECT_LIST_MAX 100000 /* addresses in one list reply */

enum node_ctl_cmd {
  NODE_CTL_STATUS,
  NODE_CTL_PEERS,
  NODE_CTL_PUT,
  NODE_CTL_GET,
  NODE_CTL_LOOKUP,
  NODE_CTL_LOCAL,
  NODE_CTL_GET_ALL,
  NODE_CTL_PUBLISH,
  NODE_CTL_PROTECT_ADD,
  NODE_CTL_PROTECT_REMOVE,
  NODE_CTL_PROTECT_LIST,
  NODE_CTL_COUNT
};

/* One parsed request. Fields not used by |cmd| are zero. */
typedef struct node_ctl_request {
  int cmd;                         /* enum node_ctl_cmd */
  uint8_t name[DHT_NOTE_NAME_MAX]; /* put */
  size_t name_len;
  uint8_t value[DHT_NOTE_VALUE_MAX]; /* put */
  size_t value_len;
  uint64_t ttl_s;           /* put, seconds */
  uint8_t key[DHT_KEY_LEN]; /* get/local/get_all: key; lookup: target */
  uint32_t max;             /* get_all: records wanted */
  uint32_t offset;          /* get_all: first record of each storer's */
  char path[NODE_PATH_MAX]; /* publish: absolute path of a batch file */
  char address[NODE_CTL_ADDRESS_MAX + 1]; /* protect_add/remove, no NUL */
} node_ctl_request;

/* What `status` reports, gathered by the runtime. */
typedef struct node_status {
  uint8_t id[DHT_ID_LEN];
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  unsigned difficulty;
  dht_addr addrs[NODE_LISTEN_MAX]; /* bound UDP sockets */
  size_t n_addrs;
  dht_stats stats;
  uint64_t uptime_ms;
  uint64_t send_failures;    /* datagrams the kernel refused */
  uint64_t restore_failures; /* stored records refused at start, deleted */
  uint64_t store_failures;   /* database writes that failed */
  size_t control_clients;    /* connected CLI clients */
  reg_stats reg;             /* the registry's counters */
  reg_config reg_cfg;        /* the registry's settings */
} node_status;

/* node_ctl_parse_request parses one request line of |len| bytes (without
 * its newline) into |req|. On failure |err| (|cap| bytes) says what is
 * wrong. Returns 0, NODE_ERR_TOO_LARGE (|len| >= NODE_CTL_LINE_MAX) or
 * NODE_ERR_PROTO. */
int node_ctl_parse_request(node_ctl_request *req, const char *line, size_t len,
                           char *err, size_t cap);

/* node_ctl_cmd_name returns "status", "put"... for an enum node_ctl_cmd,
 * or NULL. */
const char *node_ctl_cmd_name(int cmd);

/* node_ctl_request_json builds the JSON object for |req| (the CLI side);
 * name and value go as strings when they are UTF-8, else as name_hex and
 * value_hex. Returns NULL when out of memory. */
json_t *node_ctl_request_json(const node_ctl_request *req);

/* node_ctl_encode_line serialises |obj| compactly with a final newline into
 * a malloc'd buffer and its length |*len|. Returns NULL on failure. */
char *node_ctl_encode_line(const json_t *obj, size_t *len);

/* Reply builders. node_ctl_error_reply replaces bytes outside printable
 * ASCII in |msg| by '?' and keeps at most NODE_ERR_MSG_MAX - 1. Each returns a
 * new reference or NULL when out of memory; the caller owns it. */
json_t *node_ctl_error_reply(const char *msg);
json_t *node_ctl_stats_json(const dht_lookup_stats *stats);
json_t *node_ctl_contact_json(const dht_contact *c);
json_t *node_ctl_record_json(const dht_record *rec);
/* node_ctl_record_raw_json is node_ctl_record_json plus "record_hex", the
 * whole encoded record (|bytes|, |len|), for get_all. */
json_t *node_ctl_record_raw_json(const dht_record *rec, const uint8_t *bytes,
                                 size_t len);
json_t *node_ctl_reg_stats_json(const reg_stats *s, const reg_config *cfg);
json_t *node_ctl_dropped_json(const uint64_t dropped[DHT_DROP_COUNT]);
json_t *node_ctl_status_json(const node_status *st);

#endif /* NOINTRUDE_NODE_CTL_PROTO_H */
