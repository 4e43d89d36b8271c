/*
 * Daemon settings: defaults and the INI config file. The file is flat
 * "key = value" lines (no sections); "listen" and "bootstrap" may repeat.
 * Every key is described by one row of a table (name, setter, field,
 * range), so adding a key is adding a row. The reader counts lines itself
 * because the packaged inih is built without line numbers in the handler;
 * every error names the file, the line and the key.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "errors.h"
#include "log.h"

_Static_assert(sizeof(unsigned) == 4, "config fields assume 32-bit unsigned");

void node_opts_default(node_opts *o) {
  memset(o, 0, sizeof *o);
  dht_config_default(&o->dht);
  reg_config_default(&o->reg);
  o->dht.difficulty = NODE_DIFFICULTY_DEFAULT;
  o->log_level = DHT_LOG_INFO;
  o->control_max_clients = NODE_CONTROL_CLIENTS_DEFAULT;
}

int node_config_add_addr(dht_addr *list, size_t *n, size_t max,
                         const dht_addr *addr) {
  for (size_t i = 0; i < *n; i++)
    if (dht_addr_equal(&list[i], addr)) return 0;
  if (*n >= max) return NODE_ERR_TOO_LARGE;
  list[(*n)++] = *addr;
  return 0;
}

int node_config_add_text(dht_addr *list, size_t *n, size_t max, int listen,
                         const char *text) {
  dht_addr addr;
  int rv =
      listen ? node_listen_parse(&addr, text) : dht_addr_parse(&addr, text);
  if (rv < 0) return NODE_ERR_USAGE;
  return node_config_add_addr(list, n, max, &addr);
}

/* ---- One row per key ----------------------------------------------------- */

struct cfg_key;
typedef int (*cfg_setter)(node_opts *o, const struct cfg_key *key,
                          const char *value, char *msg, size_t cap);

typedef struct cfg_key {
  const char *name;
  cfg_setter set;
  size_t offset;     /* field in node_opts (numeric keys) */
  size_t size;       /* 4 or 8 bytes */
  uint64_t min, max; /* accepted range, in the key's unit */
  uint64_t scale;    /* multiplier to the field's unit (ns for times) */
} cfg_key;

static int set_uint(node_opts *o, const cfg_key *key, const char *value,
                    char *msg, size_t cap) {
  uint64_t v;
  if (node_parse_u64(value, key->min, key->max, &v) < 0) {
    snprintf(msg, cap, "expected an integer from %llu to %llu, got \"%s\"",
             (unsigned long long)key->min, (unsigned long long)key->max, value);
    return NODE_ERR_CONFIG;
  }
  v *= key->scale;
  uint8_t *field = (uint8_t *)o + key->offset;
  if (key->size == 4) {
    uint32_t v32 = (uint32_t)v;
    memcpy(field, &v32, 4);
  } else {
    memcpy(field, &v, 8);
  }
  return 0;
}

static int set_addr(dht_addr *list, size_t *n, size_t max, int listen,
                    const char *value, char *msg, size_t cap) {
  int rv = node_config_add_text(list, n, max, listen, value);
  if (rv == NODE_ERR_USAGE)
    snprintf(msg, cap,
             "expected HOST:PORT (numeric IPv4 or [IPv6]), got "
             "\"%s\"",
             value);
  else if (rv < 0)
    snprintf(msg, cap, "more than %zu addresses", max);
  return rv < 0 ? NODE_ERR_CONFIG : 0;
}

static int set_listen(node_opts *o, const cfg_key *key, const char *value,
                      char *msg, size_t cap) {
  (void)key;
  return set_addr(o->listen, &o->n_listen, NODE_LISTEN_MAX, 1, value, msg, cap);
}

static int set_bootstrap(node_opts *o, const cfg_key *key, const char *value,
                         char *msg, size_t cap) {
  (void)key;
  return set_addr(o->bootstrap, &o->n_bootstrap, NODE_BOOTSTRAP_MAX, 0, value,
                  msg, cap);
}

static int set_log_level(node_opts *o, const cfg_key *key, const char *value,
                         char *msg, size_t cap) {
  (void)key;
  if (node_log_level_parse(value, &o->log_level) < 0) {
    snprintf(msg, cap, "expected error, warn, info or debug, got \"%s\"",
             value);
    return NODE_ERR_CONFIG;
  }
  return 0;
}

#define DHT_FIELD(f) offsetof(node_opts, dht.f), sizeof(((node_opts *)0)->dht.f)
#define NUM(name, field, min, max, scale)                                      \
  { name, set_uint, DHT_FIELD(field), min, max, scale }
#define REG_FIELD(f) offsetof(node_opts, reg.f), sizeof(((node_opts *)0)->reg.f)
#define REG(name, field, min, max, scale)                                      \
  { name, set_uint, REG_FIELD(field), min, max, scale }
#define DAY_S 86400

static const cfg_key cfg_keys[] = {
    {"listen", set_listen, 0, 0, 0, 0, 0},
    {"bootstrap", set_bootstrap, 0, 0, 0, 0, 0},
    {"log_level", set_log_level, 0, 0, 0, 0, 0},
    NUM("difficulty", difficulty, 0, NODE_DIFFICULTY_MAX, 1),
    NUM("k", k, 1, DHT_K_MAX, 1),
    NUM("alpha", alpha, 1, 16, 1),
    NUM("disjoint_paths", disjoint_paths, 1, DHT_PATHS_MAX, 1),
    NUM("bucket_prefix_max", bucket_prefix_max, 1, DHT_K_MAX, 1),
    NUM("table_prefix_max", table_prefix_max, 1, 1000000, 1),
    NUM("rate_per_ip", rate_per_ip, 1, 1000000, 1),
    NUM("burst_per_ip", burst_per_ip, 1, 1000000, 1),
    NUM("author_max_records", author_max_records, 1, 1000000, 1),
    NUM("author_max_bytes", author_max_bytes, 1, 1u << 30, 1),
    NUM("store_max_bytes", store_max_bytes, 1, 1ull << 40, 1),
    NUM("max_operations", max_operations, 1, 4096, 1),
    NUM("request_timeout_ms", request_timeout, 10, 60000, DHT_MS),
    NUM("refresh_interval_s", refresh_interval, 1, 86400, DHT_SEC),
    NUM("replicate_interval_s", replicate_interval, 1, 604800, DHT_SEC),
    NUM("republish_interval_s", republish_interval, 1, 604800, DHT_SEC),
    NUM("clock_skew_s", clock_skew, 1, 3600, DHT_SEC),
    {"control_max_clients", set_uint, offsetof(node_opts, control_max_clients),
     sizeof(unsigned), 1, 1024, 1},
    REG("forward_permille", forward_permille, 0, 999, 1),
    REG("optout_pow_bits", optout_pow_bits, 0, 32, 1),
    REG("batch_pow_bits", batch_pow_base_bits, 0, 40, 1),
    REG("grace_s", grace, 0, 365 * DAY_S, DHT_SEC),
    REG("index_poll_s", index_poll_interval, 1, DAY_S, DHT_SEC),
    REG("index_lookback", index_lookback, 1, 30 * 24, 1),
    REG("escalation_levels", escalation_levels, 0, 3, 1),
    REG("escalation_spacing_s", escalation_spacing, 1, 30 * DAY_S, DHT_SEC),
    REG("max_protected", max_protected, 1, 100000000, 1),
};

static const cfg_key *find_key(const char *name) {
  for (size_t i = 0; i < sizeof cfg_keys / sizeof *cfg_keys; i++)
    if (strcmp(cfg_keys[i].name, name) == 0) return &cfg_keys[i];
  return NULL;
}

/* ---- Reading the file ---------------------------------------------------- */

typedef struct cfg_parse {
  node_opts *opts;
  FILE *file;
  const char *path;
  unsigned line;     /* lines read so far */
  unsigned err_line; /* first error we found, 0 = none */
  char *err;
  size_t err_cap;
} cfg_parse;

static void cfg_error(cfg_parse *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cfg_error keeps the first error only: it is the one to fix first. */
static void cfg_error(cfg_parse *p, const char *key, const char *fmt, ...) {
  char msg[NODE_ERR_MSG_MAX];
  va_list ap;
  if (p->err_line) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->err_line = p->line;
  snprintf(p->err, p->err_cap, "%s:%u: %s: %s", p->path, p->line, key, msg);
}

/* cfg_reader hands inih one line at a time and counts them. A line that
 * does not fit inih's buffer is an error, and is skipped whole. */
static char *cfg_reader(char *str, int num, void *stream) {
  cfg_parse *p = stream;
  int c;
  if (!fgets(str, num, p->file)) return NULL;
  p->line++;
  size_t n = strlen(str);
  if (n + 1 < (size_t)num || str[n - 1] == '\n' || feof(p->file)) return str;
  cfg_error(p, "(line)", "longer than %d characters", num - 2);
  while ((c = fgetc(p->file)) != EOF && c != '\n') {
  }
  str[0] = '\0';
  return str;
}

static int cfg_handler(void *user, const char *section, const char *name,
                       const char *value) {
  cfg_parse *p = user;
  char msg[NODE_ERR_MSG_MAX];
  const cfg_key *key = find_key(name);
  if (section && section[0]) {
    cfg_error(p, name,
              "sections are not used; put keys at the top level "
              "(found under [%s])",
              section);
    return 0;
  }
  if (!key) {
    cfg_error(p, name, "unknown key");
    return 0;
  }
  if (key->set(p->opts, key, value, msg, sizeof msg) < 0) {
    cfg_error(p, name, "%s", msg);
    return 0;
  }
  return 1;
}

int node_config_load(node_opts *o, const char *path, char *err, size_t cap) {
  cfg_parse p = {o, NULL, path, 0, 0, err, cap};
  int rv;
  if (cap) err[0] = '\0';
  p.file = fopen(path, "r");
  if (!p.file) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return NODE_ERR_IO;
  }
  rv = ini_parse_stream(cfg_reader, &p, cfg_handler, &p);
  fclose(p.file);
  if (rv > 0 && (p.err_line == 0 || (unsigned)rv < p.err_line)) {
    snprintf(err, cap, "%s:%d: syntax error (expected KEY = VALUE)", path, rv);
    return NODE_ERR_CONFIG;
  }
  if (rv < 0 && !p.err_line) {
    snprintf(err, cap, "%s: cannot parse (out of memory)", path);
    return NODE_ERR_CONFIG;
  }
  return p.err_line ? NODE_ERR_CONFIG : 0;
}
