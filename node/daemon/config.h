/*
 * The daemon's settings: defaults, the INI config file (inih) and the
 * merge with the command line. Pure logic apart from reading the file, so
 * the tests drive it directly.
 */
#ifndef NOINTRUDE_NODE_CONFIG_H
#define NOINTRUDE_NODE_CONFIG_H

#include <stddef.h>

#include <nointrude/dht.h>
#include <nointrude/registry.h>

#include "util.h"

#define NODE_LISTEN_MAX 8          /* UDP sockets of one daemon */
#define NODE_BOOTSTRAP_MAX 32      /* bootstrap addresses, file + CLI */
#define NODE_DIFFICULTY_DEFAULT 16 /* ID puzzle bits, keygen and node */
#define NODE_DIFFICULTY_MAX 40     /* 2^40 hash pairs: days of CPU */
#define NODE_CONTROL_CLIENTS_DEFAULT 16
#define NODE_CONFIG_NAME "nointrude.conf"
#define NODE_TTL_DEFAULT_S 86400   /* put: one day */
#define NODE_TTL_MAX_S (7 * 86400) /* note records live at most 7 days */
#define NODE_ERR_MSG_MAX 512       /* bytes of an error message buffer */

/* Everything `nointrude node` runs with. */
typedef struct node_opts {
  char data_dir[NODE_PATH_MAX];
  dht_addr listen[NODE_LISTEN_MAX];
  size_t n_listen;
  dht_addr bootstrap[NODE_BOOTSTRAP_MAX];
  size_t n_bootstrap;
  dht_config dht; /* engine settings; dht.difficulty is also ours */
  reg_config reg; /* registry settings (types go into dht.types) */
  int log_level;  /* DHT_LOG_* */
  unsigned control_max_clients; /* concurrent control connections */
} node_opts;

/* node_opts_default fills |o| with the defaults (dht_config_default,
 * reg_config_default, difficulty NODE_DIFFICULTY_DEFAULT, log level info,
 * no addresses). */
void node_opts_default(node_opts *o);

/* node_config_load reads the INI file |path| into |o| (values replace the
 * defaults; listen and bootstrap lines append). On failure |err| (|cap|
 * bytes) says "FILE:LINE: KEY: problem". Returns 0, NODE_ERR_IO (cannot
 * open) or NODE_ERR_CONFIG. */
int node_config_load(node_opts *o, const char *path, char *err, size_t cap);

/* node_config_add_addr appends |addr| to |list| (|*n| entries, |max|
 * slots), skipping duplicates. Returns 0 or NODE_ERR_TOO_LARGE. */
int node_config_add_addr(dht_addr *list, size_t *n, size_t max,
                         const dht_addr *addr);

/* node_config_add_text parses |text| ("HOST:PORT"; port 0 allowed when
 * |listen|) and appends it as node_config_add_addr does. Returns 0,
 * NODE_ERR_USAGE (not an address) or NODE_ERR_TOO_LARGE (list full). */
int node_config_add_text(dht_addr *list, size_t *n, size_t max, int listen,
                         const char *text);

#endif /* NOINTRUDE_NODE_CONFIG_H */
