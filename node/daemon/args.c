/*
 * Command-line parsing. Two tables drive it: the options (name, whether it
 * takes a value, how to store it) and the commands (their words, which
 * options they accept and require, their positional arguments and a check
 * run after parsing). Every usage error becomes one line naming the
 * problem and the command's synopsis; main prints it and exits 2.
 */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nointrude/registry.h>

#include "errors.h"
#include "log.h"
#include "util.h"

/* ---- Options ------------------------------------------------------------- */

enum {
  O_DATA_DIR = 1u << 0,
  O_LISTEN = 1u << 1,
  O_BOOTSTRAP = 1u << 2,
  O_DIFFICULTY = 1u << 3,
  O_CONFIG = 1u << 4,
  O_LOG_LEVEL = 1u << 5,
  O_JSON = 1u << 6,
  O_LOCAL = 1u << 7,
  O_TTL = 1u << 8,
  O_TIMEOUT = 1u << 9,
  O_SK = 1u << 10,
  O_PK = 1u << 11,
  O_ALPHA = 1u << 12,
  O_PI = 1u << 13,
  O_ALL = 1u << 14,
  O_MAX = 1u << 15,
  O_KEY = 1u << 16,
  O_ADDRESSES = 1u << 17,
  O_OUT = 1u << 18,
  O_POW_BITS = 1u << 19,
  O_SINCE = 1u << 20,
};
#define O_REPEATABLE (O_LISTEN | O_BOOTSTRAP)

typedef int (*opt_setter)(node_cli *cli, const char *value, char *msg,
                          size_t cap);

typedef struct opt_spec {
  const char *name; /* without the leading "--" */
  unsigned bit;
  opt_setter set; /* NULL for flags */
} opt_spec;

static int set_data_dir(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (!*v || strlen(v) >= NODE_PATH_MAX - 64) {
    snprintf(msg, cap, "--data-dir must be a non-empty path");
    return NODE_ERR_USAGE;
  }
  cli->data_dir = v;
  return 0;
}

static int set_addr(dht_addr *list, size_t *n, size_t max, int listen,
                    const char *opt, const char *v, char *msg, size_t cap) {
  int rv = node_config_add_text(list, n, max, listen, v);
  if (rv == NODE_ERR_USAGE)
    snprintf(msg, cap,
             "%s: expected HOST:PORT (numeric IPv4 or [IPv6]), "
             "got '%s'",
             opt, v);
  else if (rv < 0)
    snprintf(msg, cap, "%s: at most %zu addresses", opt, max);
  return rv < 0 ? NODE_ERR_USAGE : 0;
}

static int set_listen(node_cli *cli, const char *v, char *msg, size_t cap) {
  return set_addr(cli->listen, &cli->n_listen, NODE_LISTEN_MAX, 1, "--listen",
                  v, msg, cap);
}

static int set_bootstrap(node_cli *cli, const char *v, char *msg, size_t cap) {
  return set_addr(cli->bootstrap, &cli->n_bootstrap, NODE_BOOTSTRAP_MAX, 0,
                  "--bootstrap", v, msg, cap);
}

static int set_difficulty(node_cli *cli, const char *v, char *msg, size_t cap) {
  uint64_t bits;
  if (node_parse_u64(v, 0, NODE_DIFFICULTY_MAX, &bits) < 0) {
    snprintf(msg, cap, "--difficulty: expected 0..%d bits, got '%s'",
             NODE_DIFFICULTY_MAX, v);
    return NODE_ERR_USAGE;
  }
  cli->difficulty = (int)bits;
  return 0;
}

static int set_config(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (!*v) {
    snprintf(msg, cap, "--config must be a non-empty path");
    return NODE_ERR_USAGE;
  }
  cli->config = v;
  return 0;
}

static int set_log_level(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (node_log_level_parse(v, &cli->log_level) < 0) {
    snprintf(msg, cap,
             "--log-level: expected error, warn, info or debug, "
             "got '%s'",
             v);
    return NODE_ERR_USAGE;
  }
  return 0;
}

/* Notes live at most 7 days, batch records 30. */
static int set_ttl(node_cli *cli, const char *v, char *msg, size_t cap) {
  uint64_t max = cli->cmd == NODE_CMD_BATCH_CREATE ? NODE_BATCH_TTL_MAX_S
                                                   : NODE_TTL_MAX_S;
  if (node_parse_u64(v, 1, max, &cli->ttl_s) < 0) {
    snprintf(msg, cap, "--ttl: expected 1..%llu seconds, got '%s'",
             (unsigned long long)max, v);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int set_max(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (node_parse_u64(v, 1, NODE_GET_ALL_MAX, &cli->max_records) < 0) {
    snprintf(msg, cap, "--max: expected 1..%d records, got '%s'",
             NODE_GET_ALL_MAX, v);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int set_pow_bits(node_cli *cli, const char *v, char *msg, size_t cap) {
  uint64_t bits;
  if (node_parse_u64(v, 0, NODE_POW_BITS_MAX, &bits) < 0) {
    snprintf(msg, cap, "--pow-bits: expected 0..%d bits, got '%s'",
             NODE_POW_BITS_MAX, v);
    return NODE_ERR_USAGE;
  }
  cli->pow_bits = (int)bits;
  return 0;
}

static int set_since(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (node_parse_u64(v, 1, NODE_SINCE_MAX_S, &cli->since_s) < 0) {
    snprintf(msg, cap, "--since: expected 1..%d seconds, got '%s'",
             NODE_SINCE_MAX_S, v);
    return NODE_ERR_USAGE;
  }
  return 0;
}

/* PATH_SETTER stores a non-empty file name. */
#define PATH_SETTER(field, opt)                                                \
  static int set_##field(node_cli *cli, const char *v, char *msg,              \
                         size_t cap) {                                         \
    if (!*v || strlen(v) >= NODE_PATH_MAX) {                                   \
      snprintf(msg, cap, "--%s must be a non-empty path", opt);                \
      return NODE_ERR_USAGE;                                                   \
    }                                                                          \
    cli->field = v;                                                            \
    return 0;                                                                  \
  }
PATH_SETTER(key_file, "key")
PATH_SETTER(addresses, "addresses")
PATH_SETTER(out, "out")

static int set_timeout(node_cli *cli, const char *v, char *msg, size_t cap) {
  if (node_parse_seconds(v, NODE_TIMEOUT_MAX_S, &cli->timeout_ms) < 0) {
    snprintf(msg, cap, "--timeout: expected seconds in (0, %d], got '%s'",
             NODE_TIMEOUT_MAX_S, v);
    return NODE_ERR_USAGE;
  }
  return 0;
}

#define HEX_SETTER(field)                                                      \
  static int set_##field(node_cli *cli, const char *v, char *msg,              \
                         size_t cap) {                                         \
    (void)msg;                                                                 \
    (void)cap;                                                                 \
    cli->field = v;                                                            \
    return 0;                                                                  \
  }
HEX_SETTER(sk)
HEX_SETTER(pk)
HEX_SETTER(alpha)
HEX_SETTER(pi)

static const opt_spec opt_specs[] = {
    {"data-dir", O_DATA_DIR, set_data_dir},
    {"listen", O_LISTEN, set_listen},
    {"bootstrap", O_BOOTSTRAP, set_bootstrap},
    {"difficulty", O_DIFFICULTY, set_difficulty},
    {"config", O_CONFIG, set_config},
    {"log-level", O_LOG_LEVEL, set_log_level},
    {"json", O_JSON, NULL},
    {"local", O_LOCAL, NULL},
    {"ttl", O_TTL, set_ttl},
    {"timeout", O_TIMEOUT, set_timeout},
    {"sk", O_SK, set_sk},
    {"pk", O_PK, set_pk},
    {"alpha", O_ALPHA, set_alpha},
    {"pi", O_PI, set_pi},
    {"all", O_ALL, NULL},
    {"max", O_MAX, set_max},
    {"key", O_KEY, set_key_file},
    {"addresses", O_ADDRESSES, set_addresses},
    {"out", O_OUT, set_out},
    {"pow-bits", O_POW_BITS, set_pow_bits},
    {"since", O_SINCE, set_since},
};

static const opt_spec *find_opt(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof opt_specs / sizeof *opt_specs; i++)
    if (strlen(opt_specs[i].name) == len &&
        memcmp(opt_specs[i].name, name, len) == 0)
      return &opt_specs[i];
  return NULL;
}

/* ---- Post-parse checks --------------------------------------------------- */

typedef int (*cmd_check)(const node_cli *cli, char *msg, size_t cap);

static int check_hex(const char *what, const char *hex, size_t bytes, char *msg,
                     size_t cap) {
  uint8_t buf[NC_VRF_PROOF_LEN];
  if (bytes > sizeof buf || nc_hex_decode(buf, bytes, hex) < 0) {
    snprintf(msg, cap, "%s: expected %zu hex digits", what, 2 * bytes);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

static int check_alpha(const char *hex, char *msg, size_t cap) {
  size_t n = strlen(hex);
  int ok = n % 2 == 0 && n / 2 <= NODE_VRF_ALPHA_MAX;
  for (size_t i = 0; ok && i < n; i++) ok = is_hex_digit(hex[i]);
  if (!ok) {
    snprintf(msg, cap,
             "--alpha: expected an even number of hex digits, at "
             "most %d bytes (empty for the empty string)",
             NODE_VRF_ALPHA_MAX);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int check_put(const node_cli *cli, char *msg, size_t cap) {
  size_t name_len = strlen(cli->pos[0]), value_len = strlen(cli->pos[1]);
  if (name_len < 1 || name_len > DHT_NOTE_NAME_MAX) {
    snprintf(msg, cap, "NAME must be 1..%d bytes", DHT_NOTE_NAME_MAX);
    return NODE_ERR_USAGE;
  }
  if (value_len > DHT_NOTE_VALUE_MAX) {
    snprintf(msg, cap, "VALUE must be at most %d bytes", DHT_NOTE_VALUE_MAX);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int check_key(const node_cli *cli, char *msg, size_t cap) {
  const char *what = cli->cmd == NODE_CMD_LOOKUP ? "ID" : "KEY";
  if (cli->local && cli->all) {
    snprintf(msg, cap, "--local and --all exclude each other");
    return NODE_ERR_USAGE;
  }
  if (cli->max_records && !cli->all) {
    snprintf(msg, cap, "--max needs --all");
    return NODE_ERR_USAGE;
  }
  return check_hex(what, cli->pos[0], DHT_KEY_LEN, msg, cap);
}

/* check_address refuses an ADDRESS the registry would refuse anyway, so a
 * typo is a usage error before any node is asked. */
static int check_address(const node_cli *cli, char *msg, size_t cap) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t len;
  if (reg_address_canonical(canon, &len, cli->pos[0], strlen(cli->pos[0])) <
      0) {
    snprintf(msg, cap,
             "ADDRESS: not a valid e-mail address (one '@', non-empty "
             "local part and domain, at most %d bytes)",
             REG_ADDRESS_MAX);
    return NODE_ERR_USAGE;
  }
  return 0;
}

static int check_vrf_prove(const node_cli *cli, char *msg, size_t cap) {
  int rv = check_hex("--sk", cli->sk, NC_SEED_LEN, msg, cap);
  return rv < 0 ? rv : check_alpha(cli->alpha, msg, cap);
}

static int check_vrf_verify(const node_cli *cli, char *msg, size_t cap) {
  int rv = check_hex("--pk", cli->pk, NC_PK_LEN, msg, cap);
  if (rv == 0) rv = check_hex("--pi", cli->pi, NC_VRF_PROOF_LEN, msg, cap);
  return rv < 0 ? rv : check_alpha(cli->alpha, msg, cap);
}

/* ---- Commands ------------------------------------------------------------ */

#define O_CTL (O_DATA_DIR | O_JSON | O_TIMEOUT)

typedef struct cmd_spec {
  int id;
  const char *word, *sub; /* "vrf" "prove"; sub NULL for one-word commands */
  unsigned opts;          /* accepted options */
  unsigned required;      /* options that must be given */
  size_t n_pos;           /* exact number of positional arguments */
  const char *pos_names[NODE_ARGS_POS_MAX];
  cmd_check check; /* NULL or a check after parsing */
  const char *synopsis;
} cmd_spec;

static const cmd_spec cmd_specs[] = {
    {NODE_CMD_KEYGEN,
     "keygen",
     NULL,
     O_DATA_DIR | O_DIFFICULTY,
     O_DATA_DIR,
     0,
     {NULL, NULL},
     NULL,
     "keygen --data-dir DIR [--difficulty BITS]"},
    {NODE_CMD_NODE,
     "node",
     NULL,
     O_DATA_DIR | O_LISTEN | O_BOOTSTRAP | O_DIFFICULTY | O_CONFIG |
         O_LOG_LEVEL,
     O_DATA_DIR,
     0,
     {NULL, NULL},
     NULL,
     "node --data-dir DIR --listen HOST:PORT [--listen ...] "
     "[--bootstrap HOST:PORT]... [--difficulty BITS] [--config FILE] "
     "[--log-level LEVEL]"},
    {NODE_CMD_STATUS,
     "status",
     NULL,
     O_CTL,
     O_DATA_DIR,
     0,
     {NULL, NULL},
     NULL,
     "status --data-dir DIR [--json] [--timeout SECONDS]"},
    {NODE_CMD_PEERS,
     "peers",
     NULL,
     O_CTL,
     O_DATA_DIR,
     0,
     {NULL, NULL},
     NULL,
     "peers --data-dir DIR [--json] [--timeout SECONDS]"},
    {NODE_CMD_PUT,
     "put",
     NULL,
     O_CTL | O_TTL,
     O_DATA_DIR,
     2,
     {"NAME", "VALUE"},
     check_put,
     "put --data-dir DIR NAME VALUE [--ttl SECONDS] [--json] "
     "[--timeout SECONDS]"},
    {NODE_CMD_GET,
     "get",
     NULL,
     O_CTL | O_LOCAL | O_ALL | O_MAX,
     O_DATA_DIR,
     1,
     {"KEY", NULL},
     check_key,
     "get --data-dir DIR KEY [--local | --all [--max N]] [--json] "
     "[--timeout SECONDS]"},
    {NODE_CMD_LOOKUP,
     "lookup",
     NULL,
     O_CTL,
     O_DATA_DIR,
     1,
     {"ID", NULL},
     check_key,
     "lookup --data-dir DIR ID [--json] [--timeout SECONDS]"},
    {NODE_CMD_VRF_PROVE,
     "vrf",
     "prove",
     O_SK | O_ALPHA | O_JSON,
     O_SK | O_ALPHA,
     0,
     {NULL, NULL},
     check_vrf_prove,
     "vrf prove --sk HEX --alpha HEX [--json]"},
    {NODE_CMD_VRF_VERIFY,
     "vrf",
     "verify",
     O_PK | O_ALPHA | O_PI | O_JSON,
     O_PK | O_ALPHA | O_PI,
     0,
     {NULL, NULL},
     check_vrf_verify,
     "vrf verify --pk HEX --alpha HEX --pi HEX [--json]"},
    {NODE_CMD_BATCH_CREATE,
     "batch",
     "create",
     O_ADDRESSES | O_OUT | O_KEY | O_TTL | O_DIFFICULTY | O_POW_BITS,
     O_ADDRESSES | O_OUT | O_KEY,
     0,
     {NULL, NULL},
     NULL,
     "batch create --addresses FILE --out BATCH --key KEYFILE "
     "[--ttl SECONDS] [--difficulty BITS] [--pow-bits BITS]"},
    {NODE_CMD_BATCH_PUBLISH,
     "batch",
     "publish",
     O_CTL | O_KEY,
     O_DATA_DIR,
     1,
     {"BATCH", NULL},
     NULL,
     "batch publish --data-dir DIR BATCH [--key KEYFILE] [--json] "
     "[--timeout SECONDS]"},
    {NODE_CMD_BATCH_OPTOUTS,
     "batch",
     "optouts",
     O_DATA_DIR | O_KEY | O_ADDRESSES | O_SINCE | O_TIMEOUT,
     O_DATA_DIR | O_KEY | O_ADDRESSES,
     0,
     {NULL, NULL},
     NULL,
     "batch optouts --data-dir DIR --key KEYFILE --addresses FILE "
     "[--since SECONDS] [--timeout SECONDS]"},
    {NODE_CMD_PROTECT_ADD,
     "protect",
     "add",
     O_CTL,
     O_DATA_DIR,
     1,
     {"ADDRESS", NULL},
     check_address,
     "protect add --data-dir DIR ADDRESS [--json] [--timeout SECONDS]"},
    {NODE_CMD_PROTECT_REMOVE,
     "protect",
     "remove",
     O_CTL,
     O_DATA_DIR,
     1,
     {"ADDRESS", NULL},
     check_address,
     "protect remove --data-dir DIR ADDRESS [--json] [--timeout SECONDS]"},
    {NODE_CMD_PROTECT_LIST,
     "protect",
     "list",
     O_CTL,
     O_DATA_DIR,
     0,
     {NULL, NULL},
     NULL,
     "protect list --data-dir DIR [--json] [--timeout SECONDS]"},
};
#define N_CMDS (sizeof cmd_specs / sizeof *cmd_specs)

const char *node_args_synopsis(int cmd) {
  for (size_t i = 0; i < N_CMDS; i++)
    if (cmd_specs[i].id == cmd) return cmd_specs[i].synopsis;
  return "";
}

int node_args_is_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) return 0;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
        (i == 1 && strcmp(argv[i], "help") == 0))
      return 1;
  }
  return 0;
}

/* usage_error writes "nointrude CMD: problem (usage: nointrude SYNOPSIS)". */
static int usage_error(char *err, size_t cap, const cmd_spec *spec,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int usage_error(char *err, size_t cap, const cmd_spec *spec,
                       const char *fmt, ...) {
  char msg[NODE_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!spec)
    snprintf(err, cap, "nointrude: %s (try 'nointrude --help')", msg);
  else if (spec->sub)
    snprintf(err, cap, "nointrude %s %s: %s (usage: nointrude %s)", spec->word,
             spec->sub, msg, spec->synopsis);
  else
    snprintf(err, cap, "nointrude %s: %s (usage: nointrude %s)", spec->word,
             msg, spec->synopsis);
  return NODE_ERR_USAGE;
}

/* sub_list names the second words of two-word command |word|:
 * "'prove' or 'verify'". Static storage. */
static const char *sub_list(const char *word) {
  static char list[128];
  size_t n = 0, used = 0, total = 0;
  for (size_t i = 0; i < N_CMDS; i++)
    total += cmd_specs[i].sub && strcmp(cmd_specs[i].word, word) == 0;
  list[0] = '\0';
  for (size_t i = 0; i < N_CMDS && used < sizeof list; i++) {
    const cmd_spec *c = &cmd_specs[i];
    if (!c->sub || strcmp(c->word, word) != 0) continue;
    n++;
    const char *sep = n == 1 ? "" : n == total ? " or " : ", ";
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", sep, c->sub);
    if (w > 0) used += (size_t)w;
  }
  return list;
}

/* find_cmd matches argv[1] (and argv[2] for two-word commands); |*used| is
 * the number of words consumed. */
static const cmd_spec *find_cmd(int argc, char **argv, int *used, char *err,
                                size_t cap) {
  if (argc < 2) {
    usage_error(err, cap, NULL, "missing command");
    return NULL;
  }
  int word_known = 0;
  for (size_t i = 0; i < N_CMDS; i++) {
    const cmd_spec *c = &cmd_specs[i];
    if (strcmp(c->word, argv[1]) != 0) continue;
    word_known = 1;
    if (!c->sub) {
      *used = 2;
      return c;
    }
    if (argc > 2 && strcmp(c->sub, argv[2]) == 0) {
      *used = 3;
      return c;
    }
  }
  if (word_known)
    usage_error(err, cap, NULL, "%s: expected %s", argv[1],
                sub_list(argv[1]));
  else
    usage_error(err, cap, NULL, "unknown command '%s'", argv[1]);
  return NULL;
}

static void cli_defaults(node_cli *cli, int cmd) {
  memset(cli, 0, sizeof *cli);
  cli->cmd = cmd;
  cli->log_level = -1;
  cli->difficulty = -1;
  cli->ttl_s = cmd == NODE_CMD_BATCH_CREATE ? NODE_BATCH_TTL_DEFAULT_S
                                            : NODE_TTL_DEFAULT_S;
  cli->timeout_ms = NODE_TIMEOUT_DEFAULT_MS;
  cli->pow_bits = -1;
  cli->since_s = NODE_SINCE_DEFAULT_S;
}

/* parse_option handles argv[*i] = "--name[=value]", taking the value from
 * the next word when there is no '='. */
static int parse_option(node_cli *cli, const cmd_spec *spec, unsigned *seen,
                        int argc, char **argv, int *i, char *err, size_t cap) {
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value = NULL;
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const opt_spec *o = find_opt(arg, len);
  char msg[NODE_ERR_MSG_MAX];
  if (!o || !(spec->opts & o->bit))
    return usage_error(err, cap, spec, "unknown option '--%.*s'", (int)len,
                       arg);
  if ((*seen & o->bit) && !(o->bit & O_REPEATABLE))
    return usage_error(err, cap, spec, "--%s given twice", o->name);
  *seen |= o->bit;
  if (!o->set) {
    if (eq) return usage_error(err, cap, spec, "--%s takes no value", o->name);
    if (o->bit == O_JSON) cli->json = 1;
    if (o->bit == O_LOCAL) cli->local = 1;
    if (o->bit == O_ALL) cli->all = 1;
    return 0;
  }
  if (eq)
    value = eq + 1;
  else if (*i + 1 < argc)
    value = argv[++*i];
  else
    return usage_error(err, cap, spec, "--%s needs a value", o->name);
  if (o->set(cli, value, msg, sizeof msg) < 0)
    return usage_error(err, cap, spec, "%s", msg);
  return 0;
}

static int check_complete(node_cli *cli, const cmd_spec *spec, unsigned seen,
                          char *err, size_t cap) {
  char msg[NODE_ERR_MSG_MAX];
  for (size_t i = 0; i < sizeof opt_specs / sizeof *opt_specs; i++)
    if ((spec->required & opt_specs[i].bit) && !(seen & opt_specs[i].bit))
      return usage_error(err, cap, spec, "missing --%s", opt_specs[i].name);
  if (cli->n_pos < spec->n_pos)
    return usage_error(err, cap, spec, "missing %s",
                       spec->pos_names[cli->n_pos]);
  if (spec->check && spec->check(cli, msg, sizeof msg) < 0)
    return usage_error(err, cap, spec, "%s", msg);
  return 0;
}

int node_args_parse(node_cli *cli, int argc, char **argv, char *err,
                    size_t cap) {
  int used = 0, only_pos = 0;
  unsigned seen = 0;
  const cmd_spec *spec = find_cmd(argc, argv, &used, err, cap);
  cli_defaults(cli, spec ? spec->id : -1);
  if (!spec) return NODE_ERR_USAGE;
  for (int i = used; i < argc; i++) {
    if (!only_pos && strcmp(argv[i], "--") == 0) {
      only_pos = 1;
    } else if (!only_pos && strncmp(argv[i], "--", 2) == 0) {
      int rv = parse_option(cli, spec, &seen, argc, argv, &i, err, cap);
      if (rv < 0) return rv;
    } else if (cli->n_pos < spec->n_pos) {
      cli->pos[cli->n_pos++] = argv[i];
    } else {
      return usage_error(err, cap, spec, "unexpected argument '%s'", argv[i]);
    }
  }
  return check_complete(cli, spec, seen, err, cap);
}

int node_opts_apply_cli(node_opts *o, const node_cli *cli) {
  if (cli->difficulty >= 0) o->dht.difficulty = (unsigned)cli->difficulty;
  if (cli->log_level >= 0) o->log_level = cli->log_level;
  if (cli->n_listen > 0) {
    memcpy(o->listen, cli->listen, cli->n_listen * sizeof *cli->listen);
    o->n_listen = cli->n_listen;
  }
  for (size_t i = 0; i < cli->n_bootstrap; i++)
    if (node_config_add_addr(o->bootstrap, &o->n_bootstrap, NODE_BOOTSTRAP_MAX,
                             &cli->bootstrap[i]) < 0)
      return NODE_ERR_USAGE;
  return 0;
}
