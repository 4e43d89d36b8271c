/*
 * `nointrude batch create|publish|optouts`: the sender's side of the
 * registry.
 *
 *  - create (offline) reads an address file, loads or creates the sender
 *    key, builds the batch (reg_batch_build) and writes the batch file
 *    atomically (temporary file, fsync, rename): a failure at any step
 *    leaves no file behind, or the previous one untouched.
 *  - publish hands the batch file's absolute path to the running node,
 *    which reads and verifies it whole before putting anything.
 *  - optouts is the compliance tool. Through the node (control command
 *    get_all) it reads the index windows to find the key's batches, each
 *    batch's manifest (for its salt) and inbox; it opens every opt-out
 *    here, with the secret key, which never goes to the node; checks the
 *    opt-out's proof of work and that it names the batch whose inbox held
 *    it; and prints each address of --addresses that some opt-out names,
 *    once. Opt-outs sealed to another key are counted on stderr only.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nointrude/registry.h>

#include "addr_file.h"
#include "commands.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "errors.h"
#include "sender_key.h"
#include "util.h"

#define MSG_MAX (2 * NODE_ERR_MSG_MAX + NODE_PATH_MAX)

static void random_bytes(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

static uint64_t now_s(void) { return node_wall_ns() / DHT_SEC; }

/* ---- The sender key ----------------------------------------------------- */

/* open_key loads --key, or creates it when |create| and it is absent;
 * an explicit --difficulty must be met by an existing key. */
static int open_key(const node_cli *cli, int create, nc_identity *key,
                    char *err, size_t cap) {
  unsigned need = cli->difficulty >= 0 ? (unsigned)cli->difficulty
                                       : NODE_DIFFICULTY_DEFAULT;
  int rv = node_sender_key_load(cli->key_file, key, err, cap);
  if (rv == 0 && !create) {
    snprintf(err, cap, "%s: no such key file", cli->key_file);
    return NODE_ERR_IO;
  }
  if (rv == 0) {
    rv = node_sender_key_create(cli->key_file, need, key, err, cap);
    if (rv == 0)
      fprintf(stderr, "created the sender key %s (%u-bit puzzle)\n",
              cli->key_file, need);
    return rv < 0 ? rv : 0;
  }
  if (rv > 0 && cli->difficulty >= 0 && nc_id_puzzle_bits(key->id) < need) {
    snprintf(err, cap, "%s: the key meets a %u-bit puzzle, --difficulty %u "
             "is required (make a new key)",
             cli->key_file, nc_id_puzzle_bits(key->id), need);
    nc_identity_wipe(key);
    return NODE_ERR_IDENTITY;
  }
  return rv < 0 ? rv : 0;
}

/* ---- batch create ------------------------------------------------------- */

static int write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* write_atomic replaces |path| with |len| bytes, or leaves it as it was. */
static int write_atomic(const char *path, const uint8_t *buf, size_t len,
                        char *err, size_t cap) {
  char tmp[NODE_PATH_MAX];
  mode_t mask = umask(0);
  umask(mask);
  if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp) {
    snprintf(err, cap, "%s: path too long", path);
    return NODE_ERR_IO;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    snprintf(err, cap, "cannot create %s: %s", tmp, strerror(errno));
    return NODE_ERR_IO;
  }
  /* A batch is public: readable like any file the user creates. */
  int ok = fchmod(fd, 0644 & ~mask) == 0 && write_all(fd, buf, len) == 0 &&
           fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp, path) == 0) return 0;
  if (ok) saved = errno;
  unlink(tmp);
  snprintf(err, cap, "cannot write %s: %s", path, strerror(saved));
  return NODE_ERR_IO;
}

static void print_created(const reg_batch *b, size_t bytes) {
  char hex[2 * REG_BATCH_ID_LEN + 1];
  size_t n = 0;
  const reg_manifest *m = reg_batch_manifest(b);
  reg_batch_entries(b, &n);
  nc_hex_encode(hex, m->batch_id, REG_BATCH_ID_LEN);
  printf("batch_id %s\nentries %zu\nrecords %zu\nbytes %zu\n", hex, n,
         reg_batch_record_count(b), bytes);
}

/* build_and_write builds the batch of |list| and writes the batch file. */
static int build_and_write(const node_cli *cli, const node_addr_list *list,
                           const nc_identity *key, char *err, size_t cap) {
  reg_config cfg;
  reg_batch *b = NULL;
  uint8_t *file = NULL;
  size_t len = 0;
  reg_config_default(&cfg);
  unsigned pow = cli->pow_bits >= 0 ? (unsigned)cli->pow_bits
                                    : cfg.batch_pow_base_bits;
  int rv = reg_batch_build(&b, list->canon, list->n, key, now_s(), cli->ttl_s,
                           pow, random_bytes, NULL);
  if (rv == 0) rv = reg_batch_file_encode(b, &file, &len);
  if (rv < 0) {
    snprintf(err, cap, "cannot build the batch: %s", reg_strerror(rv));
    reg_batch_free(b);
    return NODE_ERR_FORMAT;
  }
  rv = write_atomic(cli->out, file, len, err, cap);
  if (rv == 0) print_created(b, len);
  free(file);
  reg_batch_free(b);
  return rv;
}

int node_cmd_batch_create(const node_cli *cli) {
  char err[MSG_MAX];
  node_addr_list list;
  nc_identity key;
  memset(&key, 0, sizeof key);
  int rv = node_addr_list_read(&list, cli->addresses, REG_BATCH_MAX_ENTRIES,
                               err, sizeof err);
  if (rv == 0 && list.n == 0) {
    snprintf(err, sizeof err, "%s: no addresses", cli->addresses);
    rv = NODE_ERR_FORMAT;
  }
  if (rv == 0) rv = open_key(cli, 1, &key, err, sizeof err);
  if (rv == 0) rv = build_and_write(cli, &list, &key, err, sizeof err);
  nc_identity_wipe(&key);
  node_addr_list_free(&list);
  if (rv < 0) {
    fprintf(stderr, "nointrude batch create: %s (nothing written)\n", err);
    return NODE_EXIT_FAILURE;
  }
  return NODE_EXIT_OK;
}

/* ---- batch publish ------------------------------------------------------ */

/* The network settings a node's status reports, which records are
 * checked against. */
typedef struct net_settings {
  unsigned difficulty, optout_bits, batch_bits;
} net_settings;

/* read_settings asks the node (cli->data_dir) for its status. Returns 0,
 * or a NODE_ERR_* with |err| saying why. */
static int read_settings(const node_cli *cli, net_settings *ns, char *err,
                         size_t cap) {
  json_t *reply = NULL, *request = json_pack("{ss}", "cmd", "status");
  int rv = request ? node_ctl_call(cli->data_dir, request, cli->timeout_ms,
                                   &reply, err, cap)
                   : NODE_ERR_NOMEM;
  json_decref(request);
  if (rv == NODE_ERR_NOMEM) snprintf(err, cap, "out of memory");
  if (rv < 0) return rv;
  if (!json_is_true(json_object_get(reply, "ok"))) {
    snprintf(err, cap, "the node refused status: %s",
             json_string_value(json_object_get(reply, "error")));
    json_decref(reply);
    return NODE_ERR_PROTO;
  }
  json_t *reg = json_object_get(reply, "registry");
  json_t *d = json_object_get(reply, "difficulty");
  json_t *bits = json_object_get(reg, "optout_pow_bits");
  json_t *batch_bits = json_object_get(reg, "batch_pow_bits");
  int ok = json_is_integer(d) && json_is_integer(bits) &&
           json_is_integer(batch_bits);
  if (ok) {
    ns->difficulty = (unsigned)json_integer_value(d);
    ns->optout_bits = (unsigned)json_integer_value(bits);
    ns->batch_bits = (unsigned)json_integer_value(batch_bits);
  } else {
    snprintf(err, cap, "the node's status lacks registry fields");
  }
  json_decref(reply);
  return ok ? 0 : NODE_ERR_PROTO;
}

/* reannounce: with --key, a batch whose index record is too old for
 * running nodes to read (reg_batch_stale) gets a new one, written back to
 * the file (atomically) before it is published. */
static int reannounce(const node_cli *cli, const char *path, char *err,
                      size_t cap) {
  uint8_t *file = NULL, *out = NULL;
  size_t len = 0, olen = 0;
  reg_batch *b = NULL;
  nc_identity key;
  net_settings ns;
  memset(&key, 0, sizeof key);
  int rv = node_read_file(path, NODE_BATCH_FILE_MAX, &file, &len, err, cap);
  if (rv == 0) rv = read_settings(cli, &ns, err, cap);
  unsigned bits = rv == 0 ? ns.batch_bits : 0;
  if (rv == 0 &&
      (rv = reg_batch_file_decode(&b, file, len, 0, bits, now_s())) < 0)
    snprintf(err, cap, "batch file refused: %s", reg_strerror(rv));
  if (rv == 0 && reg_batch_stale(b, now_s())) {
    rv = open_key(cli, 0, &key, err, cap);
    if (rv == 0 && (rv = reg_batch_reannounce(b, &key, now_s(), bits)) < 0)
      snprintf(err, cap, "cannot announce the batch again: %s%s",
               reg_strerror(rv),
               rv == REG_ERR_INVALID_ARGUMENT ? " (not the batch's key?)" : "");
    if (rv == 0 && (rv = reg_batch_file_encode(b, &out, &olen)) < 0)
      snprintf(err, cap, "out of memory");
    if (rv == 0) rv = write_atomic(path, out, olen, err, cap);
    if (rv == 0)
      fprintf(stderr, "announced the batch again in the current index "
              "window (%s rewritten)\n", path);
  }
  nc_identity_wipe(&key);
  reg_batch_free(b);
  free(out);
  free(file);
  return rv < 0 ? rv : 0;
}

int node_cmd_batch_publish(const node_cli *cli) {
  node_ctl_request req;
  char err[MSG_MAX];
  json_t *request = NULL, *reply = NULL;
  memset(&req, 0, sizeof req);
  req.cmd = NODE_CTL_PUBLISH;
  if (!realpath(cli->pos[0], req.path)) {
    fprintf(stderr, "nointrude batch publish: %s: %s\n", cli->pos[0],
            strerror(errno));
    return NODE_EXIT_FAILURE;
  }
  if (cli->key_file && reannounce(cli, req.path, err, sizeof err) < 0) {
    fprintf(stderr, "nointrude batch publish: %s: %s (nothing published)\n",
            cli->pos[0], err);
    return NODE_EXIT_FAILURE;
  }
  request = node_ctl_request_json(&req);
  int rv = request ? node_ctl_call(cli->data_dir, request, cli->timeout_ms,
                                   &reply, err, sizeof err)
                   : NODE_ERR_NOMEM;
  json_decref(request);
  if (rv < 0) {
    fprintf(stderr, "nointrude batch publish: %s\n",
            rv == NODE_ERR_NOMEM ? "out of memory" : err);
    return NODE_EXIT_FAILURE;
  }
  int ok = json_is_true(json_object_get(reply, "ok"));
  json_t *stored = json_object_get(reply, "stored");
  if (cli->json) {
    json_dumpf(reply, stdout, JSON_COMPACT);
    printf("\n");
  } else if (json_is_integer(stored)) {
    printf("stored %lld\nfailed %lld\n", (long long)json_integer_value(stored),
           (long long)json_integer_value(json_object_get(reply, "failed")));
  }
  if (!ok)
    fprintf(stderr, "nointrude batch publish: %s: %s\n", cli->pos[0],
            json_string_value(json_object_get(reply, "error")));
  json_decref(reply);
  return ok ? NODE_EXIT_OK : NODE_EXIT_FAILURE;
}

/* ---- batch optouts: state ----------------------------------------------- */

typedef struct opt_batch {
  uint8_t id[REG_BATCH_ID_LEN];
  uint8_t salt[REG_SALT_LEN];
  int have_salt;
  uint8_t (*hashes)[REG_FULL_HASH_LEN]; /* full hashes opted out, sorted */
  size_t n_hashes, cap_hashes;
} opt_batch;

typedef struct opt_counts {
  uint64_t windows, records, refused; /* records that fail verification */
  uint64_t opened, foreign, wrong_batch, invalid, no_manifest, full_inboxes;
} opt_counts;

typedef struct optouts_run {
  const node_cli *cli;
  nc_identity key;
  unsigned difficulty, optout_bits;
  uint64_t now_s;
  reg_types types; /* at the node's batch_pow_bits (read_status) */
  opt_batch *batches;
  size_t n_batches, cap_batches;
  opt_counts count;
  char err[MSG_MAX];
} optouts_run;

/* Called with each verified record of a get_all reply. */
typedef int (*record_fn)(optouts_run *o, const dht_record *rec, void *arg);

/* ctl runs one control request; the reply must say ok. */
static int ctl(optouts_run *o, json_t *request, json_t **reply) {
  int rv = request ? node_ctl_call(o->cli->data_dir, request,
                                   o->cli->timeout_ms, reply, o->err,
                                   sizeof o->err)
                   : NODE_ERR_NOMEM;
  const char *cmd = json_string_value(json_object_get(request, "cmd"));
  if (rv == NODE_ERR_NOMEM) snprintf(o->err, sizeof o->err, "out of memory");
  if (rv == 0 && !json_is_true(json_object_get(*reply, "ok"))) {
    snprintf(o->err, sizeof o->err, "the node refused %s: %s",
             cmd ? cmd : "a request",
             json_string_value(json_object_get(*reply, "error")));
    rv = NODE_ERR_PROTO;
  }
  json_decref(request); /* |cmd| points into it */
  if (rv < 0) { /* node_ctl_call set *reply (NULL when it failed) */
    json_decref(*reply);
    *reply = NULL;
  }
  return rv;
}

/* read_status learns the network's difficulty and registry settings. */
static int read_status(optouts_run *o) {
  net_settings ns;
  int rv = read_settings(o->cli, &ns, o->err, sizeof o->err);
  if (rv < 0) return rv;
  o->difficulty = ns.difficulty;
  o->optout_bits = ns.optout_bits;
  reg_types_init(&o->types, ns.batch_bits);
  return 0;
}

/* each_record verifies the record of one get_all entry and calls |fn|. */
static int each_record(optouts_run *o, json_t *entry, record_fn fn,
                       void *arg) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  dht_record rec;
  const char *hex = json_string_value(json_object_get(entry, "record_hex"));
  o->count.records++;
  int rv = hex ? node_hex_decode_alloc(hex, DHT_MAX_RECORD, &bytes, &len)
               : NODE_ERR_PROTO;
  if (rv == 0) rv = dht_record_decode(&rec, bytes, len);
  if (rv == 0)
    rv = dht_record_verify(&rec, o->now_s, o->difficulty, o->types.t,
                           REG_RECORD_TYPES);
  if (rv == 0) {
    rv = fn(o, &rec, arg);
  } else {
    o->count.refused++;
    rv = 0;
  }
  free(bytes);
  return rv;
}

/* get_all reads every record under |key| through the node, in pages of
 * NODE_CTL_GET_ALL_MAX: each page goes on from the offset the node says
 * skips no storer's records (stats.resume_offset; a record may then come
 * twice, which callers tolerate). At most GET_ALL_PAGES pages: *full (may
 * be NULL) says whether more may remain. */
#define GET_ALL_PAGES 4096 /* 16.7 million records */
static int get_all(optouts_run *o, const uint8_t key[DHT_KEY_LEN], record_fn fn,
                   void *arg, int *full) {
  char hex[2 * DHT_KEY_LEN + 1];
  const int max = NODE_CTL_GET_ALL_MAX;
  size_t got = (size_t)max, i;
  json_int_t offset = 0;
  int rv = 0;
  nc_hex_encode(hex, key, DHT_KEY_LEN);
  for (int page = 0; rv == 0 && got == (size_t)max; page++) {
    json_t *reply = NULL, *entry;
    if (page == GET_ALL_PAGES) break;
    json_t *req = json_pack("{sssssi}", "cmd", "get_all", "key", hex, "max",
                            max);
    if (req && offset > 0 &&
        json_object_set_new(req, "offset", json_integer(offset)) < 0) {
      json_decref(req);
      req = NULL;
    }
    rv = ctl(o, req, &reply);
    if (rv < 0) return rv;
    json_t *records = json_object_get(reply, "records");
    json_t *resume = json_object_get(json_object_get(reply, "stats"),
                                     "resume_offset");
    got = json_array_size(records);
    json_array_foreach(records, i, entry) {
      if ((rv = each_record(o, entry, fn, arg)) < 0) break;
    }
    offset = json_is_integer(resume) && json_integer_value(resume) > offset
                 ? json_integer_value(resume)
                 : offset + max;
    json_decref(reply);
  }
  if (full) *full = got == (size_t)max;
  return rv;
}

/* ---- batch optouts: finding the batches --------------------------------- */

static int add_batch(optouts_run *o, const uint8_t id[REG_BATCH_ID_LEN]) {
  for (size_t i = 0; i < o->n_batches; i++)
    if (memcmp(o->batches[i].id, id, REG_BATCH_ID_LEN) == 0) return 0;
  if (o->n_batches == o->cap_batches) {
    size_t cap = o->cap_batches ? 2 * o->cap_batches : 16;
    opt_batch *more = realloc(o->batches, cap * sizeof *more);
    if (!more) {
      snprintf(o->err, sizeof o->err, "out of memory");
      return NODE_ERR_NOMEM;
    }
    o->batches = more;
    o->cap_batches = cap;
  }
  opt_batch *b = &o->batches[o->n_batches++];
  memset(b, 0, sizeof *b);
  memcpy(b->id, id, REG_BATCH_ID_LEN);
  return 0;
}

static int own(const optouts_run *o, const dht_record *rec, uint8_t type) {
  return rec->type == type &&
         memcmp(rec->author_pk, o->key.pk, NC_PK_LEN) == 0;
}

static int take_index(optouts_run *o, const dht_record *rec, void *arg) {
  reg_index x;
  (void)arg;
  if (!own(o, rec, REG_RECORD_INDEX) ||
      reg_index_decode(&x, rec->payload, rec->payload_len) < 0)
    return 0; /* another sender's batch, or not ours to judge */
  return add_batch(o, x.batch_id);
}

static int read_windows(optouts_run *o) {
  uint64_t since = o->cli->since_s > o->now_s ? o->now_s : o->cli->since_s;
  uint64_t first = reg_index_window(o->now_s - since);
  uint64_t last = reg_index_window(o->now_s);
  for (uint64_t w = first; w <= last; w++) {
    uint8_t key[DHT_KEY_LEN];
    reg_index_key(key, w);
    int rv = get_all(o, key, take_index, NULL, NULL);
    if (rv < 0) return rv;
    o->count.windows++;
  }
  return 0;
}

static int take_manifest(optouts_run *o, const dht_record *rec, void *arg) {
  opt_batch *b = arg;
  reg_manifest m;
  if (!own(o, rec, REG_RECORD_BATCH) || b->have_salt) return 0;
  /* Base bits 0: this is our own batch, and only its salt is wanted. */
  if (reg_manifest_check(rec, 0, &m) < 0) return 0;
  if (memcmp(m.batch_id, b->id, REG_BATCH_ID_LEN) == 0) {
    memcpy(b->salt, m.salt, REG_SALT_LEN);
    b->have_salt = 1;
  }
  return 0;
}

/* ---- batch optouts: reading the inboxes ---------------------------------- */

static int add_hash(opt_batch *b, const uint8_t full[REG_FULL_HASH_LEN]) {
  if (b->n_hashes == b->cap_hashes) {
    size_t cap = b->cap_hashes ? 2 * b->cap_hashes : 64;
    uint8_t(*more)[REG_FULL_HASH_LEN] =
        realloc(b->hashes, cap * REG_FULL_HASH_LEN);
    if (!more) return NODE_ERR_NOMEM;
    b->hashes = more;
    b->cap_hashes = cap;
  }
  memcpy(b->hashes[b->n_hashes++], full, REG_FULL_HASH_LEN);
  return 0;
}

static int take_optout(optouts_run *o, const dht_record *rec, void *arg) {
  opt_batch *b = arg;
  reg_optout_record x;
  reg_optout opt;
  if (rec->type != REG_RECORD_OPTOUT ||
      reg_optout_record_decode(&x, rec->payload, rec->payload_len) < 0 ||
      memcmp(x.sender_pk, o->key.pk, NC_PK_LEN) != 0 ||
      memcmp(x.batch_id, b->id, REG_BATCH_ID_LEN) != 0) {
    o->count.invalid++;
    return 0;
  }
  int rv = reg_optout_open(&opt, x.sealed, x.sealed_len, o->key.pk, o->key.sk,
                           o->optout_bits);
  if (rv == REG_ERR_DECRYPT) {
    o->count.foreign++;
  } else if (rv < 0) {
    o->count.invalid++;
  } else if (memcmp(opt.batch_id, b->id, REG_BATCH_ID_LEN) != 0) {
    o->count.wrong_batch++;
  } else {
    o->count.opened++;
    if (add_hash(b, opt.full_hash) < 0) {
      snprintf(o->err, sizeof o->err, "out of memory");
      return NODE_ERR_NOMEM;
    }
  }
  sodium_memzero(&opt, sizeof opt);
  return 0;
}

static int cmp_hash(const void *a, const void *b) {
  return memcmp(a, b, REG_FULL_HASH_LEN);
}

/* read_batch fetches batch |b|'s salt and opens its inbox. */
static int read_batch(optouts_run *o, opt_batch *b) {
  uint8_t key[DHT_KEY_LEN];
  char hex[2 * REG_BATCH_ID_LEN + 1];
  int full = 0;
  nc_hex_encode(hex, b->id, REG_BATCH_ID_LEN);
  reg_manifest_key(key, o->key.pk, b->id);
  int rv = get_all(o, key, take_manifest, b, NULL);
  if (rv < 0) return rv;
  if (!b->have_salt) {
    o->count.no_manifest++;
    fprintf(stderr, "batch %s: manifest not found (expired?): its opt-outs "
            "cannot be matched\n", hex);
    return 0;
  }
  reg_inbox_key(key, o->key.pk, b->id);
  rv = get_all(o, key, take_optout, b, &full);
  if (rv < 0) return rv;
  if (full) {
    o->count.full_inboxes++;
    fprintf(stderr, "batch %s: inbox holds more than %d records; only that "
            "many were read\n", hex, GET_ALL_PAGES * NODE_CTL_GET_ALL_MAX);
  }
  if (b->n_hashes)
    qsort(b->hashes, b->n_hashes, REG_FULL_HASH_LEN, cmp_hash);
  return 0;
}

/* ---- batch optouts: matching and printing -------------------------------- */

/* opted_out reports whether canonical |addr| is named by an opt-out. */
static int opted_out(const optouts_run *o, const char *addr) {
  uint8_t full[REG_FULL_HASH_LEN];
  for (size_t i = 0; i < o->n_batches; i++) {
    const opt_batch *b = &o->batches[i];
    if (!b->n_hashes) continue;
    reg_address_hash(full, b->salt, addr, strlen(addr));
    if (bsearch(full, b->hashes, b->n_hashes, REG_FULL_HASH_LEN, cmp_hash))
      return 1;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* print_matches prints every address to remove once, sorted. */
static int print_matches(const optouts_run *o, const node_addr_list *list,
                         size_t *printed) {
  const char **hits = malloc((list->n ? list->n : 1) * sizeof *hits);
  size_t n = 0;
  *printed = 0;
  if (!hits) return NODE_ERR_NOMEM;
  for (size_t i = 0; i < list->n; i++)
    if (opted_out(o, list->canon[i])) hits[n++] = list->canon[i];
  qsort(hits, n, sizeof *hits, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && strcmp(hits[i], hits[i - 1]) == 0) continue;
    printf("%s\n", hits[i]);
    (*printed)++;
  }
  free(hits);
  return 0;
}

static void print_summary(const optouts_run *o, size_t printed) {
  const opt_counts *c = &o->count;
  fprintf(stderr,
          "batch optouts: %zu batch(es) of this key in %llu index window(s); "
          "%llu opt-out(s) opened; %llu sealed to another key (ignored); "
          "%llu naming another batch (ignored); %llu invalid (ignored); "
          "%llu record(s) failing verification; %zu address(es) to remove\n",
          o->n_batches, (unsigned long long)c->windows,
          (unsigned long long)c->opened, (unsigned long long)c->foreign,
          (unsigned long long)c->wrong_batch, (unsigned long long)c->invalid,
          (unsigned long long)c->refused, printed);
}

static int run_optouts(optouts_run *o) {
  node_addr_list list;
  size_t printed = 0;
  int rv = open_key(o->cli, 0, &o->key, o->err, sizeof o->err);
  if (rv == 0) rv = node_addr_list_read(&list, o->cli->addresses,
                                        REG_BATCH_MAX_ENTRIES, o->err,
                                        sizeof o->err);
  if (rv < 0) return rv;
  rv = read_status(o);
  if (rv == 0) rv = read_windows(o);
  for (size_t i = 0; rv == 0 && i < o->n_batches; i++)
    rv = read_batch(o, &o->batches[i]);
  if (rv == 0 && print_matches(o, &list, &printed) < 0) {
    snprintf(o->err, sizeof o->err, "out of memory");
    rv = NODE_ERR_NOMEM;
  }
  if (rv == 0) print_summary(o, printed);
  node_addr_list_free(&list);
  return rv;
}

int node_cmd_batch_optouts(const node_cli *cli) {
  optouts_run *o = calloc(1, sizeof *o);
  if (!o) {
    fprintf(stderr, "nointrude batch optouts: out of memory\n");
    return NODE_EXIT_FAILURE;
  }
  o->cli = cli;
  o->now_s = now_s();
  int rv = run_optouts(o);
  if (rv < 0) fprintf(stderr, "nointrude batch optouts: %s\n", o->err);
  for (size_t i = 0; i < o->n_batches; i++) free(o->batches[i].hashes);
  free(o->batches);
  nc_identity_wipe(&o->key);
  free(o);
  return rv < 0 ? NODE_EXIT_FAILURE : NODE_EXIT_OK;
}
