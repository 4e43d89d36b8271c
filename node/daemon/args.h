/*
 * Command-line parsing for every subcommand of `nointrude`: which words
 * name a command, which options it takes, which are required, and how
 * many positional arguments follow. Pure: no I/O, so the tests call it
 * with made-up argv arrays.
 */
#ifndef NOINTRUDE_NODE_ARGS_H
#define NOINTRUDE_NODE_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/dht.h>

#include "config.h"

enum node_cmd_id {
  NODE_CMD_KEYGEN,
  NODE_CMD_NODE,
  NODE_CMD_STATUS,
  NODE_CMD_PEERS,
  NODE_CMD_PUT,
  NODE_CMD_GET,
  NODE_CMD_LOOKUP,
  NODE_CMD_VRF_PROVE,
  NODE_CMD_VRF_VERIFY,
  NODE_CMD_BATCH_CREATE,
  NODE_CMD_BATCH_PUBLISH,
  NODE_CMD_BATCH_OPTOUTS,
  NODE_CMD_PROTECT_ADD,
  NODE_CMD_PROTECT_REMOVE,
  NODE_CMD_PROTECT_LIST,
  NODE_CMD_COUNT
};

#define NODE_ARGS_POS_MAX 2           /* positional arguments of any command */
#define NODE_TIMEOUT_DEFAULT_MS 30000 /* CLI wait for the node's answer */
#define NODE_TIMEOUT_MAX_S 3600
#define NODE_VRF_ALPHA_MAX 65536 /* bytes of a vrf --alpha */
#define NODE_BATCH_TTL_DEFAULT_S (7 * 86400) /* batch create --ttl */
#define NODE_BATCH_TTL_MAX_S (30 * 86400)    /* batch records: 30 days */
#define NODE_SINCE_DEFAULT_S (7 * 86400)     /* batch optouts --since */
#define NODE_SINCE_MAX_S (30 * 86400)        /* nothing older lives */
#define NODE_POW_BITS_MAX 40                 /* batch create --pow-bits */
#define NODE_GET_ALL_MAX 4096 /* get --all --max: records in one reply */

/* One parsed command line. Strings point into argv. */
typedef struct node_cli {
  int cmd;              /* enum node_cmd_id */
  const char *data_dir; /* --data-dir */
  const char *config;   /* --config FILE, NULL = DIR/nointrude.conf */
  int log_level;        /* --log-level, -1 = not given */
  dht_addr listen[NODE_LISTEN_MAX];
  size_t n_listen;
  dht_addr bootstrap[NODE_BOOTSTRAP_MAX];
  size_t n_bootstrap;
  int difficulty;                   /* --difficulty, -1 = not given */
  uint64_t ttl_s;                   /* --ttl, NODE_TTL_DEFAULT_S if not given */
  uint64_t timeout_ms;              /* --timeout, NODE_TIMEOUT_DEFAULT_MS */
  int json;                         /* --json */
  int local;                        /* get --local */
  int all;                          /* get --all */
  uint64_t max_records;             /* get --all --max */
  const char *key_file;             /* batch --key KEYFILE */
  const char *addresses;            /* batch --addresses FILE */
  const char *out;                  /* batch create --out BATCH */
  int pow_bits;                     /* --pow-bits, -1 = not given */
  uint64_t since_s;                 /* batch optouts --since */
  const char *sk, *pk, *alpha, *pi; /* vrf hex arguments, unchecked */
  const char *pos[NODE_ARGS_POS_MAX];
  size_t n_pos;
} node_cli;

/* node_args_parse parses |argc|/|argv| (argv[0] is the program name) into
 * |cli|. On a usage error |err| (|cap| bytes) holds one line naming the
 * problem and the command's synopsis. Returns 0 or NODE_ERR_USAGE. */
int node_args_parse(node_cli *cli, int argc, char **argv, char *err,
                    size_t cap);

/* node_opts_apply_cli lays the command line over settings read from the
 * config file: --difficulty and --log-level replace, --listen replaces the
 * file's listen list when given, --bootstrap adds to the file's list.
 * Returns 0 or NODE_ERR_USAGE (too many bootstrap addresses). */
int node_opts_apply_cli(node_opts *o, const node_cli *cli);

/* node_args_synopsis returns the one-line synopsis of command |cmd|. */
const char *node_args_synopsis(int cmd);

/* node_args_is_help returns 1 if argv asks for help (no arguments count
 * as a usage error, not help). */
int node_args_is_help(int argc, char **argv);

#endif /* NOINTRUDE_NODE_ARGS_H */
