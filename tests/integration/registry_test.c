/*
 * Registry integration test (issue 4): 12 real `nointrude node` processes
 * on loopback, driven through the CLI (protect, batch create / publish /
 * optouts, get --all, status) and wire_client (to plant a crafted record).
 *
 * Node i listens on 127.(i+1).0.1:PORT. Every node reads a config file
 * with test settings: 8-bit IDs, a batch proof-of-work base of 6 bits,
 * 8-bit opt-outs, index polls every second, a grace of 1 s, escalation
 * levels 2 s apart, per-author quotas that hold a 100,000-address batch
 * (~1,000 records, all stored on every node of a 12-node network).
 *
 * Roles: node 0 is the bootstrap; the sender publishes and reads through
 * node SENDER_NODE; users U1..U4 are the last four nodes. U1, U2, U3
 * protect A1, A2, A3, which batch 1 (100,000 addresses) holds; U4
 * protects A4, which no batch holds. A5 is in batch 1 but protected by
 * nobody.
 *
 *   a  start the network
 *   b  protect add/remove/list on the users (U3 waits for step e)
 *   c  batch create: batch 1, its key; a malformed address file writes
 *      nothing and names the line
 *   d  bad batch files are refused with their reason and publish nothing:
 *      truncated, a flipped chunk byte, a chunk re-signed with new
 *      content, a forged manifest signature, a manifest signed by another
 *      key, a large batch without enough proof of work
 *   e  batch 1 published (timed); U1, U2 match it; U3 protects A3 only
 *      now and matches it at once; U4 matches nothing
 *   f  batch optouts prints exactly A1..A3; with another key nothing; an
 *      opt-out for A5 sealed to the wrong key, planted in batch 1's inbox,
 *      is counted and never printed
 *   g  batch 2 (created after the grace, still holding A1): U1 publishes
 *      evidence (naming both batches) and escalates 2+4+8 opt-outs
 *   h  nothing reaches any inbox but the batch's own: every opt-out in
 *      batch 1's and 2's inboxes names that batch; batch 3 (another key,
 *      none of the protected addresses) has an empty inbox, and so have
 *      the inboxes of mismatched (key, batch) pairs
 *   i  a user node restarts with its protected addresses
 *   j  every node exits 0 on SIGTERM, no sanitizer report
 *      (it_step_shutdown, harness.c)
 *
 * Every wait is a bounded poll; on a failure the log tails are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <nointrude/dht.h>
#include <nointrude/registry.h>

#include "harness.h"
#include "sender_key.h"

#define N_NODES 12
#define DIFFICULTY 8
#define POW_BASE 6      /* batch_pow_bits of the network */
#define OPTOUT_BITS 8
#define ESC_SPACING_S 2
#define SENDER_NODE 1   /* the sender's own node */
#define PLANT_NODE 5    /* wire_client stores the crafted record here */
#define U1 (N_NODES - 4)
#define U2 (N_NODES - 3)
#define U3 (N_NODES - 2)
#define U4 (N_NODES - 1)
#define BATCH1_SIZE 100000
#define SMALL_BATCH 1000
#define MIN_CONTACTS 6
#define WAIT_S 60.0      /* bound of every poll loop */
#define POLL_MS 200
#define CLI_TIMEOUT_S 60.0
#define PUBLISH_TIMEOUT "300" /* seconds: publishing 1,000 records */
#define MAX_ARGV 40

#define A1 "alice@one.example"
#define A2 "bob@two.example"
#define A2_IN_FILE "Bob@TWO.Example" /* canonicalised on both sides */
#define A3 "carol@three.example"
#define A4 "dave@four.example"
#define A5 "erin@five.example"

/* A batch made in step c/g/h and what later steps need of it. */
typedef struct batch_info {
  char path[IT_PATH_MAX];
  char addrs[IT_PATH_MAX];
  uint8_t id[REG_BATCH_ID_LEN];
  uint8_t salt[REG_SALT_LEN];
  uint8_t sender[NC_PK_LEN];
  size_t records;
  int made, published;
} batch_info;

static it_net net =
    IT_NET_INIT("registry_test", N_NODES, WAIT_S, POLL_MS, CLI_TIMEOUT_S);

/* What later steps need from earlier ones. */
static struct {
  char key1[IT_PATH_MAX], key2[IT_PATH_MAX]; /* sender keys K1, K2 */
  nc_identity k1, k2;
  batch_info b1, b2, b3;
  int optouts_ok; /* step f */
  double first_optout; /* it_now() when U1..U3 had all opted out */
  uint8_t *scratch[2];  /* step d's buffers, freed at teardown if a check
                           failed on the way */
} g;

/* ---- commands -------------------------------------------------------- */

/* run_v runs `nointrude WORDS...` (NULL-terminated list |ap|), with
 * --data-dir of node |n| appended when n >= 0. */
static int run_v(int n, double timeout_s, const char *first, va_list ap) {
  char *argv[MAX_ARGV];
  size_t k = 0;
  argv[k++] = (char *)NI_BIN;
  argv[k++] = (char *)first;
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && k + 3 < MAX_ARGV)
    argv[k++] = (char *)a;
  if (n >= 0) {
    argv[k++] = "--data-dir";
    argv[k++] = net.nodes[n].dir;
  }
  argv[k] = NULL;
  return it_cmd(&net, timeout_s, argv);
}

/* cli(n, word, ..., NULL): a command for node |n|. */
static int cli(int n, const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  int rc = run_v(n, CLI_TIMEOUT_S, first, ap);
  va_end(ap);
  return rc;
}

/* offline(word, ..., NULL): a command without a node. */
static int offline(const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  int rc = run_v(-1, CLI_TIMEOUT_S, first, ap);
  va_end(ap);
  return rc;
}

static int publish(int n, const char *file) {
  char *argv[] = {(char *)NI_BIN,   "batch",     "publish",       (char *)file,
                  "--json",         "--timeout", PUBLISH_TIMEOUT, "--data-dir",
                  net.nodes[n].dir, NULL};
  return it_cmd(&net, atof(PUBLISH_TIMEOUT) + 20, argv);
}

/* ---- JSON and status ------------------------------------------------- */

/* reg_stat returns registry counter |name| of node |n| (-1 if unknown). */
static double reg_stat(int n, const char *name) {
  json_t *st = it_status_json(&net, n);
  json_t *v = json_object_get(json_object_get(st, "registry"), name);
  double out = json_is_number(v) ? json_number_value(v) : -1;
  json_decref(st);
  IT_CHECK(out >= 0, "status --json of node %d has no registry.%s: %s", n, name,
           it_cmd_output(&net));
  return out;
}

static double top_stat(int n, const char *name) {
  json_t *st = it_status_json(&net, n);
  json_t *v = json_object_get(st, name);
  double out = json_is_number(v) ? json_number_value(v) : -1;
  json_decref(st);
  IT_CHECK(out >= 0, "status --json of node %d has no %s: %s", n, name,
           it_cmd_output(&net));
  return out;
}

/* wait_stat polls registry counter |name| of node |n| until >= |min|. */
static double wait_stat(int n, const char *name, double min) {
  double deadline = it_now() + WAIT_S, v;
  while ((v = reg_stat(n, name)) < min) {
    IT_CHECK(it_now() < deadline,
             "node %d: registry.%s is %.0f after %.0f s, "
             "want >= %.0f",
             n, name, v, WAIT_S, min);
    it_sleep_ms(POLL_MS);
  }
  return v;
}

/* get_all returns the records under |key| (get --all --json through node
 * |n|) as a new JSON array, failing the step if the command fails. */
static json_t *get_all(int n, const uint8_t key[DHT_KEY_LEN]) {
  char hex[2 * DHT_KEY_LEN + 1];
  nc_hex_encode(hex, key, DHT_KEY_LEN);
  int rc = cli(n, "get", hex, "--all", "--max", "4096", "--json", NULL);
  json_t *root = rc == 0 ? it_output_json(&net) : NULL;
  json_t *records = json_incref(json_object_get(root, "records"));
  json_decref(root);
  IT_CHECK(json_is_array(records), "get --all through node %d: %s", n,
           it_cmd_output(&net));
  return records;
}

/* record_of decodes entry |e|'s record_hex into |buf| and |rec|. */
static void record_of(json_t *e, uint8_t *buf, dht_record *rec) {
  const char *hex = json_string_value(json_object_get(e, "record_hex"));
  size_t len = hex ? strlen(hex) / 2 : 0;
  IT_CHECK(hex && len <= DHT_MAX_RECORD && nc_hex_decode(buf, len, hex) == 0 &&
               dht_record_decode(rec, buf, len) == 0,
           "get --all gave a record that does not decode");
}

/* ---- nodes ----------------------------------------------------------- */

static void write_config(int n) {
  char path[IT_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/nointrude.conf", net.nodes[n].dir);
  FILE *f = fopen(path, "w");
  IT_CHECK(f != NULL, "cannot write %s", path);
  fprintf(f,
          "# registry_test: a fast, small network\n"
          "difficulty = %d\n"
          "author_max_records = 4096\n"
          "author_max_bytes = 16777216\n"
          "store_max_bytes = 268435456\n"
          "rate_per_ip = 100000\n"
          "burst_per_ip = 100000\n"
          "max_operations = 256\n"
          "batch_pow_bits = %d\n"
          "optout_pow_bits = %d\n"
          "index_poll_s = 1\n"
          "grace_s = 1\n"
          "escalation_spacing_s = %d\n",
          DIFFICULTY, POW_BASE, OPTOUT_BITS, ESC_SPACING_S);
  fclose(f);
}

/* ---- files ----------------------------------------------------------- */

/* write_list writes the address file |path|: |extra| addresses (NULL-
 * terminated) spread through |n_bulk| generated ones "PREFIX%06zu@DOMAIN";
 * |bad_line| > 0 makes that line malformed. */
static void write_list(const char *path, size_t n_bulk, const char *prefix,
                       const char *const *extra, size_t bad_line) {
  FILE *f = fopen(path, "w");
  size_t n_extra = 0, line = 1, next_extra = 0;
  IT_CHECK(f != NULL, "cannot write %s", path);
  while (extra && extra[n_extra])
    n_extra++;
  fprintf(f, "# registry_test address list\n\n");
  line += 2;
  for (size_t i = 0; i < n_bulk; i++, line++) {
    if (n_extra && next_extra < n_extra &&
        i == (next_extra + 1) * (n_bulk / (n_extra + 1))) {
      fprintf(f, "%s\n", extra[next_extra++]);
      line++;
    }
    if (line == bad_line)
      fprintf(f, "not an address\n");
    else
      fprintf(f, "%s%06zu@bulk.example\n", prefix, i);
  }
  while (next_extra < n_extra)
    fprintf(f, "%s\n", extra[next_extra++]);
  fclose(f);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  IT_CHECK(f != NULL, "cannot read %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)size + 1);
  IT_CHECK(buf && fread(buf, 1, (size_t)size, f) == (size_t)size, "read %s",
           path);
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  IT_CHECK(f && fwrite(buf, 1, len, f) == len, "cannot write %s", path);
  fclose(f);
}

/* load_key reads the sender key file |path| into |id|. */
static void load_key(const char *path, nc_identity *id) {
  char err[1024];
  IT_CHECK(node_sender_key_load(path, id, err, sizeof err) == 1, "key %s: %s",
           path, err);
}

/* make_batch runs batch create for |b| with key |key| and records what
 * the batch file says about itself. */
static void make_batch(batch_info *b, const char *key, const char *pow) {
  size_t len;
  reg_batch *rb = NULL;
  int rc = offline("batch", "create", "--addresses", b->addrs, "--out",
                   b->path, "--key", key, "--difficulty", "8", "--pow-bits",
                   pow, "--ttl", "3600", NULL);
  IT_CHECK(rc == 0, "batch create: %s", it_cmd_output(&net));
  printf("batch create %s: %.1f s\n", b->path, net.r.seconds);
  uint8_t *buf = read_file(b->path, &len);
  rc = reg_batch_file_decode(&rb, buf, len, DIFFICULTY, 0,
                             (uint64_t)time(NULL));
  free(buf);
  IT_CHECK(rc == 0, "%s does not decode: %s", b->path, reg_strerror(rc));
  memcpy(b->id, reg_batch_manifest(rb)->batch_id, REG_BATCH_ID_LEN);
  memcpy(b->salt, reg_batch_manifest(rb)->salt, REG_SALT_LEN);
  memcpy(b->sender, reg_batch_sender(rb), NC_PK_LEN);
  b->records = reg_batch_record_count(rb);
  reg_batch_free(rb);
  b->made = 1;
}

/* ---- fixtures -------------------------------------------------------- */

static int group_setup(void **state) {
  (void)state;
  if (nc_init() < 0 || it_net_setup(&net, "/tmp/ni-reg-XXXXXX", 13, 7) != 0)
    return -1;
  const char *tmp = net.tmp_dir;
  snprintf(g.key1, sizeof g.key1, "%s/sender1.key", tmp);
  snprintf(g.key2, sizeof g.key2, "%s/sender2.key", tmp);
  batch_info *bs[] = {&g.b1, &g.b2, &g.b3};
  for (int i = 0; i < 3; i++) {
    snprintf(bs[i]->path, sizeof bs[i]->path, "%s/batch%d.nib", tmp, i + 1);
    snprintf(bs[i]->addrs, sizeof bs[i]->addrs, "%s/list%d.txt", tmp, i + 1);
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  nc_identity_wipe(&g.k1);
  nc_identity_wipe(&g.k2);
  free(g.scratch[0]);
  free(g.scratch[1]);
  it_net_teardown(&net);
  return 0;
}

/* ---- a: the network -------------------------------------------------- */

/* Makes node |n|'s directory, its config file and its key. */
static void keygen(int n) {
  const char *dir = net.nodes[n].dir;
  IT_CHECK(it_mkdir(dir) == 0, "mkdir %s: %s", dir, strerror(errno));
  write_config(n);
  it_keygen(&net, n, "8");
}

static void step_a_network(void **state) {
  (void)state;
  double start = it_now();
  for (int i = 0; i < N_NODES; i++)
    keygen(i);
  it_node_start(&net, 0, -1, NULL);
  it_wait_ready(&net, 0);
  for (int i = 1; i < N_NODES; i++)
    it_node_start(&net, i, 0, NULL);
  for (int i = 1; i < N_NODES; i++)
    it_wait_ready(&net, i);
  double deadline = it_now() + WAIT_S;
  for (int i = 0; i < N_NODES; i++) {
    while (top_stat(i, "contacts") < MIN_CONTACTS) {
      it_require_alive(&net, i);
      IT_CHECK(it_now() < deadline, "node %d below %d contacts after %.0f s", i,
               MIN_CONTACTS, WAIT_S);
      it_sleep_ms(POLL_MS);
    }
  }
  printf("network of %d nodes up in %.1f s\n", N_NODES, it_now() - start);
  net.network_up = 1;
  net.step_passed = 1;
}

/* ---- b: protected addresses ------------------------------------------ */

static void expect_list(int n, const char *expect) {
  IT_CHECK(cli(n, "protect", "list", NULL) == 0, "protect list: %s",
           it_cmd_output(&net));
  IT_CHECK(strcmp(net.r.out, expect) == 0,
           "protect list of node %d: \"%s\", "
           "expected \"%s\"",
           n, net.r.out, expect);
}

static void step_b_protect(void **state) {
  (void)state;
  IT_REQUIRE(&net, net.network_up, "step a");
  IT_CHECK(cli(U1, "protect", "add", "  Alice@One.Example ", NULL) == 0,
           "protect add: %s", it_cmd_output(&net));
  IT_CHECK(strcmp(net.r.out, A1 "\n") == 0, "protect add printed \"%s\"",
           net.r.out);
  IT_CHECK(cli(U2, "protect", "add", A2, NULL) == 0, "%s", it_cmd_output(&net));
  IT_CHECK(cli(U4, "protect", "add", A4, NULL) == 0, "%s", it_cmd_output(&net));
  /* Adding again is fine and says so; removing works once. */
  IT_CHECK(cli(U4, "protect", "add", A4, NULL) == 0, "%s", it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, "already protected") != NULL, "%s",
           it_cmd_output(&net));
  IT_CHECK(cli(U4, "protect", "add", "temp@four.example", NULL) == 0, "%s",
           it_cmd_output(&net));
  expect_list(U4, A4 "\ntemp@four.example\n");
  IT_CHECK(cli(U4, "protect", "remove", "TEMP@four.example", NULL) == 0, "%s",
           it_cmd_output(&net));
  IT_CHECK(cli(U4, "protect", "remove", "temp@four.example", NULL) == 1,
           "removing twice: %s", it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, "not a protected address") != NULL, "%s",
           it_cmd_output(&net));
  IT_CHECK(cli(U4, "protect", "add", "no-at-sign", NULL) == 2, "%s",
           it_cmd_output(&net));
  expect_list(U1, A1 "\n");
  expect_list(U4, A4 "\n");
  IT_CHECK(reg_stat(U4, "protected_addresses") == 1, "U4 protected count");
  net.step_passed = 1;
}

/* ---- c: batch create ------------------------------------------------- */

static void step_c_create(void **state) {
  (void)state;
  char bad[IT_PATH_MAX + 16], out[IT_PATH_MAX + 16], expect[IT_PATH_MAX + 64];
  const char *const extra1[] = {A1, A2_IN_FILE, A3, A5, NULL};
  IT_REQUIRE(&net, net.network_up, "step a");
  /* A malformed line: exit 1, the line named, nothing written, and the
   * missing key not created either. */
  snprintf(bad, sizeof bad, "%s/bad.txt", net.tmp_dir);
  snprintf(out, sizeof out, "%s/bad.nib", net.tmp_dir);
  write_list(bad, BATCH1_SIZE - 4, "u", extra1, 50001);
  IT_CHECK(offline("batch", "create", "--addresses", bad, "--out", out, "--key",
                   g.key1, "--difficulty", "8", NULL) == 1,
           "malformed list: %s", it_cmd_output(&net));
  snprintf(expect, sizeof expect, "%s:50001: not a valid e-mail address", bad);
  IT_CHECK(strstr(net.r.err, expect) != NULL, "%s", it_cmd_output(&net));
  IT_CHECK(access(out, F_OK) != 0 && access(g.key1, F_OK) != 0,
           "a failed batch create left files behind");
  /* Batch 1: 100,000 addresses, A1..A3 and A5 among them. */
  write_list(g.b1.addrs, BATCH1_SIZE - 4, "u", extra1, 0);
  make_batch(&g.b1, g.key1, "6");
  load_key(g.key1, &g.k1);
  IT_CHECK(memcmp(g.b1.sender, g.k1.pk, NC_PK_LEN) == 0, "batch 1 sender");
  IT_CHECK(strstr(net.r.out, "entries 100000\n") != NULL, "%s",
           it_cmd_output(&net));
  printf("batch 1: %zu records\n", g.b1.records);
  net.step_passed = 1;
}

/* ---- d: bad batch files ---------------------------------------------- */

/* Offsets of the records in a batch file (magic, le32 count, then le32
 * length + record per record). */
static size_t record_offsets(const uint8_t *buf, size_t len, size_t *off,
                             size_t *rlen, size_t max) {
  size_t pos = 12, n = 0;
  uint32_t count = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 |
                   (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
  while (n < count && n < max && pos + 4 <= len) {
    uint32_t l = (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 |
                 (uint32_t)buf[pos + 2] << 16 | (uint32_t)buf[pos + 3] << 24;
    off[n] = pos + 4;
    rlen[n] = l;
    pos += 4 + (size_t)l;
    n++;
  }
  return n;
}

/* resign rewrites the batch file |buf| (|*len| bytes, room for
 * DHT_MAX_RECORD more) with the record at |off| (|rlen| bytes) re-signed
 * by |by|: |flip_payload| changes its last payload byte first and
 * |rekey_chunk| recomputes a chunk's content key. The record's length may
 * change (another author's nonce), so its length prefix is rewritten and
 * the rest moved. */
static void resign(uint8_t *buf, size_t *len, size_t off, size_t rlen,
                   const nc_identity *by, int flip_payload, int rekey_chunk) {
  static uint8_t payload[DHT_MAX_RECORD], out[DHT_MAX_RECORD];
  dht_record rec;
  size_t out_len;
  IT_CHECK(dht_record_decode(&rec, buf + off, rlen) == 0, "record decode");
  memcpy(payload, rec.payload, rec.payload_len);
  if (flip_payload)
    payload[rec.payload_len - 1] ^= 0x01;
  rec.payload = payload;
  if (rekey_chunk)
    reg_chunk_key(rec.key, payload, rec.payload_len);
  dht_record_sign(&rec, by);
  IT_CHECK(dht_record_encode(&rec, out, sizeof out, &out_len) == 0, "encode");
  memmove(buf + off + out_len, buf + off + rlen, *len - off - rlen);
  memcpy(buf + off, out, out_len);
  for (int i = 0; i < 4; i++)
    buf[off - 4 + i] = (uint8_t)(out_len >> (8 * i));
  *len = *len - rlen + out_len;
}

/* expect_refused publishes |variant| of batch 1 and checks the refusal
 * names |reason|. */
static void expect_refused(const char *name, const uint8_t *buf, size_t len,
                           const char *reason) {
  char path[IT_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s.nib", net.tmp_dir, name);
  write_file(path, buf, len);
  int rc = publish(SENDER_NODE, path);
  IT_CHECK(rc == 1, "publishing the %s batch: %s", name, it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, reason) != NULL,
           "the %s batch was refused without naming \"%s\": %s", name, reason,
           it_cmd_output(&net));
  printf("%-22s %s", name, strstr(net.r.err, "refused"));
}

static void step_d_bad_input(void **state) {
  (void)state;
  size_t len, off[4096], rlen[4096];
  batch_info weak;
  IT_REQUIRE(&net, g.b1.made, "batch 1 from step c");
  double records_before = top_stat(SENDER_NODE, "records");
  uint8_t *good = g.scratch[0] = read_file(g.b1.path, &len);
  uint8_t *buf = g.scratch[1] = malloc(len + DHT_MAX_RECORD);
  size_t blen;
  size_t n = record_offsets(good, len, off, rlen, 4096);
  IT_CHECK(n == g.b1.records && n > 3, "batch file layout: %zu records", n);
  /* Truncated. */
  expect_refused("truncated", good, len - 100, "truncated");
  /* A data chunk byte flipped (the chunk no longer hashes to its key,
   * checked before its signature). */
  memcpy(buf, good, len);
  buf[off[n - 1] + rlen[n - 1] - 70] ^= 0x10;
  expect_refused("flipped-chunk-byte", buf, len,
                 "chunk content does not match its hash");
  /* A data chunk with new content, re-keyed and re-signed by the sender
   * itself: the envelope is valid, the hash tree is not. */
  memcpy(buf, good, len);
  blen = len;
  resign(buf, &blen, off[n - 1], rlen[n - 1], &g.k1, 1, 1);
  expect_refused("tampered-chunk", buf, blen,
                 "chunk content does not match its hash");
  /* The manifest's signature forged (one bit). */
  memcpy(buf, good, len);
  buf[off[0] + rlen[0] - 1] ^= 0x01;
  expect_refused("forged-manifest-sig", buf, len, "signature");
  /* The manifest signed by another key. */
  nc_identity other;
  IT_CHECK(nc_identity_generate(&other, DIFFICULTY) == 0, "identity");
  memcpy(buf, good, len);
  blen = len;
  resign(buf, &blen, off[0], rlen[0], &other, 0, 0);
  nc_identity_wipe(&other);
  expect_refused("manifest-other-key", buf, blen, "refused");
  free(buf);
  free(good);
  g.scratch[0] = g.scratch[1] = NULL;
  /* A large batch without enough proof of work: the same 100,000
   * addresses mined at base 0 (4 bits) where the network demands base 6
   * (10 bits). A lucky nonce may meet 10 bits anyway (1 in 64): retry. */
  memset(&weak, 0, sizeof weak);
  snprintf(weak.path, sizeof weak.path, "%s/weak.nib", net.tmp_dir);
  snprintf(weak.addrs, sizeof weak.addrs, "%s", g.b1.addrs);
  int weak_ok = 0;
  for (int tries = 0; tries < 6 && !weak_ok; tries++) {
    reg_batch *rb = NULL;
    make_batch(&weak, g.key1, "0");
    uint8_t *w = read_file(weak.path, &len);
    weak_ok = reg_batch_file_decode(&rb, w, len, DIFFICULTY, POW_BASE,
                                    (uint64_t)time(NULL)) == REG_ERR_POW;
    reg_batch_free(rb);
    free(w);
  }
  IT_CHECK(weak_ok, "could not make an under-powered batch");
  IT_CHECK(publish(SENDER_NODE, weak.path) == 1, "weak batch: %s",
           it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, "proof of work") != NULL, "%s",
           it_cmd_output(&net));
  printf("%-22s %s", "not-enough-pow", strstr(net.r.err, "refused"));
  /* Nothing was published: no new record on the sender's node, and the
   * index of this hour names no batch. */
  double records_after = top_stat(SENDER_NODE, "records");
  IT_CHECK(records_after == records_before, "records went from %.0f to %.0f",
           records_before, records_after);
  uint8_t key[DHT_KEY_LEN];
  reg_index_key(key, reg_index_window((uint64_t)time(NULL)));
  json_t *idx = get_all(0, key);
  size_t found = json_array_size(idx);
  json_decref(idx);
  IT_CHECK(found == 0, "the index holds %zu records after refused batches",
           found);
  net.step_passed = 1;
}

/* ---- e: publish and match ---------------------------------------------- */

/* print_drops prints the non-zero drop counters of every node (what a
 * publish of 1,000 records costs the network). */
static void print_drops(void) {
  printf("drops after the publish:");
  for (int i = 0; i < N_NODES; i++) {
    json_t *st = it_status_json(&net, i), *v;
    const char *reason;
    json_object_foreach(json_object_get(st, "dropped"), reason, v) {
      if (json_integer_value(v) > 0)
        printf(" n%d:%s=%lld", i, reason, (long long)json_integer_value(v));
    }
    json_t *t = json_object_get(st, "traffic");
    if (json_integer_value(json_object_get(t, "send_failures")) > 0)
      printf(" n%d:send_failures=%lld", i,
             (long long)json_integer_value(json_object_get(t, "send_failures")));
    json_t *l = json_object_get(st, "lookups");
    if (json_integer_value(json_object_get(l, "failed")) > 0)
      printf(" n%d:lookups_failed=%lld", i,
             (long long)json_integer_value(json_object_get(l, "failed")));
    json_decref(st);
  }
  printf("\n");
}

static void step_e_publish(void **state) {
  (void)state;
  IT_REQUIRE(&net, g.b1.made, "batch 1 from step c");
  int rc = publish(SENDER_NODE, g.b1.path);
  IT_CHECK(rc == 0, "publish batch 1: %s", it_cmd_output(&net));
  json_t *reply = it_output_json(&net);
  double stored = json_number_value(json_object_get(reply, "stored"));
  json_decref(reply);
  IT_CHECK(stored == (double)g.b1.records, "stored %.0f of %zu records", stored,
           g.b1.records);
  printf("TIMING publish of %d addresses (%zu records): %.1f s\n", BATCH1_SIZE,
         g.b1.records, net.r.seconds);
  print_drops();
  g.b1.published = 1;
  double start = it_now();
  wait_stat(U1, "optouts_sent", 1);
  wait_stat(U2, "optouts_sent", 1);
  printf("TIMING U1 and U2 opted out %.1f s after the publish\n",
         it_now() - start);
  /* U3 protects A3 only once it knows the batch: matched at once. */
  wait_stat(U3, "live_batches", 1);
  IT_CHECK(reg_stat(U3, "matches") == 0, "U3 matched before protecting");
  IT_CHECK(cli(U3, "protect", "add", A3, NULL) == 0, "%s", it_cmd_output(&net));
  wait_stat(U3, "optouts_sent", 1);
  IT_CHECK(reg_stat(U1, "matches") == 1 && reg_stat(U2, "matches") == 1 &&
               reg_stat(U3, "matches") == 1,
           "each user should match exactly once");
  wait_stat(U4, "live_batches", 1);
  IT_CHECK(reg_stat(U4, "matches") == 0 && reg_stat(U4, "optouts_sent") == 0,
           "U4 protects nothing in batch 1");
  g.first_optout = it_now();
  net.step_passed = 1;
}

/* ---- f: the sender's compliance tool ----------------------------------- */

static int optouts(const char *key, const char *addrs) {
  return cli(SENDER_NODE, "batch", "optouts", "--key", key, "--addresses",
             addrs, "--since", "7200", NULL);
}

/* wait_optouts polls batch optouts until it prints |expect|. */
static void wait_optouts(const char *key, const char *addrs,
                         const char *expect) {
  double deadline = it_now() + WAIT_S;
  for (;;) {
    IT_CHECK(optouts(key, addrs) == 0, "batch optouts: %s",
             it_cmd_output(&net));
    if (strcmp(net.r.out, expect) == 0)
      return;
    IT_CHECK(it_now() < deadline,
             "batch optouts printed \"%s\", expected "
             "\"%s\" after %.0f s: %s",
             net.r.out, expect, WAIT_S, it_cmd_output(&net));
    it_sleep_ms(500);
  }
}

/* plant_foreign_optout stores in batch 1's inbox an opt-out for A5 sealed
 * to K2 instead of K1, through wire_client. */
static void plant_foreign_optout(void) {
  reg_optout o;
  uint8_t sealed[REG_OPTOUT_SEALED_MAX], payload[REG_OPTOUT_RECORD_PAYLOAD_MAX];
  uint8_t key[DHT_KEY_LEN], rec[DHT_MAX_RECORD];
  size_t slen, plen, rlen;
  char hex[2 * DHT_MAX_RECORD + 1], path[IT_PATH_MAX + 16];
  nc_identity relay;
  memset(&o, 0, sizeof o);
  memcpy(o.batch_id, g.b1.id, REG_BATCH_ID_LEN);
  reg_address_hash(o.full_hash, g.b1.salt, A5, strlen(A5));
  o.time_s = (uint64_t)time(NULL);
  IT_CHECK(reg_optout_seal(sealed, &slen, &o, g.k2.pk, OPTOUT_BITS) == 0,
           "seal");
  reg_optout_record x = {.sealed = sealed, .sealed_len = slen};
  memcpy(x.sender_pk, g.k1.pk, NC_PK_LEN);
  memcpy(x.batch_id, g.b1.id, REG_BATCH_ID_LEN);
  IT_CHECK(reg_optout_record_encode(&x, payload, sizeof payload, &plen) == 0,
           "encode");
  reg_inbox_key(key, g.k1.pk, g.b1.id);
  IT_CHECK(nc_identity_generate(&relay, DIFFICULTY) == 0, "identity");
  uint64_t now = (uint64_t)time(NULL);
  IT_CHECK(reg_record_make(rec, sizeof rec, &rlen, REG_RECORD_OPTOUT, key,
                           payload, plen, &relay, now, now + 3600, 0) == 0,
           "record");
  nc_identity_wipe(&relay);
  nc_hex_encode(hex, rec, rlen);
  snprintf(path, sizeof path, "%s/foreign.hex", net.tmp_dir);
  write_file(path, (const uint8_t *)hex, strlen(hex));
  char mode[IT_PATH_MAX + 32];
  snprintf(mode, sizeof mode, "store:%s", path);
  IT_CHECK(it_wire_client(&net, PLANT_NODE, "8", mode) == 0 &&
               strstr(net.r.out, "status 0\n") != NULL,
           "planting the foreign opt-out: %s", it_cmd_output(&net));
}

static void step_f_optouts(void **state) {
  (void)state;
  const char *expect = A1 "\n" A2 "\n" A3 "\n";
  IT_REQUIRE(&net, g.b1.published, "batch 1 published in step e");
  double start = it_now();
  wait_optouts(g.key1, g.b1.addrs, expect);
  printf("TIMING batch optouts found the three addresses after %.1f s; one "
         "run: %.1f s\n",
         it_now() - start, net.r.seconds);
  printf("  stderr: %s", net.r.err);
  /* Another key has no batches: nothing to remove. Its key file is
   * created by batch create (batch 3, published in step h). */
  const char *const none[] = {NULL};
  write_list(g.b3.addrs, SMALL_BATCH, "w", none, 0);
  make_batch(&g.b3, g.key2, "6");
  load_key(g.key2, &g.k2);
  IT_CHECK(optouts(g.key2, g.b1.addrs) == 0 && net.r.out[0] == '\0',
           "optouts with another key: %s", it_cmd_output(&net));
  /* An opt-out for A5 sealed to the wrong key, planted in batch 1's
   * inbox: counted, never printed. */
  plant_foreign_optout();
  double deadline = it_now() + WAIT_S;
  for (;;) {
    IT_CHECK(optouts(g.key1, g.b1.addrs) == 0, "%s", it_cmd_output(&net));
    IT_CHECK(strcmp(net.r.out, expect) == 0, "after the planted opt-out: %s",
             it_cmd_output(&net));
    if (strstr(net.r.err, "; 1 sealed to another key") != NULL)
      break;
    IT_CHECK(it_now() < deadline, "the planted opt-out was not seen: %s",
             it_cmd_output(&net));
    it_sleep_ms(500);
  }
  printf("  with the planted opt-out: %s", net.r.err);
  g.optouts_ok = 1;
  net.step_passed = 1;
}

/* ---- g: escalation ------------------------------------------------------ */

/* open_inbox opens every record of batch |b|'s inbox (sender |k|) and
 * counts those naming |b| (and A's hash when |addr|), those naming
 * another batch and those that do not open. */
typedef struct inbox_count {
  size_t records, own, other_batch, unopened, addr_hits;
} inbox_count;

static inbox_count open_inbox(int n, const nc_identity *k,
                              const batch_info *b, const char *addr) {
  inbox_count c;
  uint8_t key[DHT_KEY_LEN], buf[DHT_MAX_RECORD], full[REG_FULL_HASH_LEN];
  json_t *e;
  size_t i;
  memset(&c, 0, sizeof c);
  reg_inbox_key(key, k->pk, b->id);
  json_t *records = get_all(n, key);
  if (addr)
    reg_address_hash(full, b->salt, addr, strlen(addr));
  json_array_foreach(records, i, e) {
    dht_record rec;
    reg_optout_record x;
    reg_optout o;
    record_of(e, buf, &rec);
    c.records++;
    IT_CHECK(rec.type == REG_RECORD_OPTOUT &&
                 reg_optout_record_decode(&x, rec.payload, rec.payload_len) ==
                     0,
             "a non-opt-out record in an inbox");
    if (reg_optout_open(&o, x.sealed, x.sealed_len, k->pk, k->sk,
                        OPTOUT_BITS) != 0) {
      c.unopened++;
      continue;
    }
    if (memcmp(o.batch_id, b->id, REG_BATCH_ID_LEN) != 0) {
      c.other_batch++;
      continue;
    }
    c.own++;
    c.addr_hits += addr && memcmp(o.full_hash, full, REG_FULL_HASH_LEN) == 0;
  }
  json_decref(records);
  return c;
}

static void step_g_escalation(void **state) {
  (void)state;
  const char *const extra2[] = {A1, NULL};
  uint8_t key[DHT_KEY_LEN], buf[DHT_MAX_RECORD];
  IT_REQUIRE(&net, g.optouts_ok, "step f");
  /* Batch 2 must be created after opt-out time + grace (1 s). */
  while (it_now() < g.first_optout + 2.5)
    it_sleep_ms(100);
  write_list(g.b2.addrs, SMALL_BATCH - 1, "v", extra2, 0);
  make_batch(&g.b2, g.key1, "6");
  IT_CHECK(publish(SENDER_NODE, g.b2.path) == 0, "publish batch 2: %s",
           it_cmd_output(&net));
  g.b2.published = 1;
  double start = it_now();
  wait_stat(U1, "evidence_published", 1);
  printf("TIMING evidence %.1f s after batch 2 was published\n",
         it_now() - start);
  /* 2 + 4 + 8 repeated opt-outs, ESC_SPACING_S apart. */
  wait_stat(U1, "escalations_sent", 14);
  printf("TIMING 14 escalated opt-outs sent %.1f s after the publish\n",
         it_now() - start);
  it_sleep_ms(3000);
  IT_CHECK(reg_stat(U1, "escalations_sent") == 14,
           "escalation is capped at 14");
  /* The evidence record: signed by U1, names both batches. */
  json_t *st = it_status_json(&net, U1);
  char u1_pk[65];
  snprintf(u1_pk, sizeof u1_pk, "%s",
           json_string_value(json_object_get(st, "pk")));
  json_decref(st);
  reg_evidence_key(key, g.k1.pk);
  json_t *ev = get_all(0, key);
  IT_CHECK(json_array_size(ev) == 1, "%zu evidence records",
           json_array_size(ev));
  dht_record rec;
  reg_evidence x;
  record_of(json_array_get(ev, 0), buf, &rec);
  char author[65];
  nc_hex_encode(author, rec.author_pk, NC_PK_LEN);
  IT_CHECK(rec.type == REG_RECORD_EVIDENCE &&
               reg_evidence_decode(&x, rec.payload, rec.payload_len) == 0,
           "evidence does not decode");
  IT_CHECK(strcmp(author, u1_pk) == 0, "evidence by %s, U1 is %s", author,
           u1_pk);
  IT_CHECK(memcmp(x.sender_pk, g.k1.pk, NC_PK_LEN) == 0 &&
               memcmp(x.optout_batch, g.b1.id, REG_BATCH_ID_LEN) == 0 &&
               memcmp(x.later_batch, g.b2.id, REG_BATCH_ID_LEN) == 0,
           "evidence names the wrong sender or batches");
  json_decref(ev);
  /* The escalated copies arrive in batch 2's inbox, all for A1. */
  double deadline = it_now() + WAIT_S;
  inbox_count c;
  for (;;) {
    c = open_inbox(0, &g.k1, &g.b2, A1);
    if (c.own >= 14)
      break;
    IT_CHECK(it_now() < deadline, "batch 2's inbox holds %zu opt-outs, want 14",
             c.own);
    it_sleep_ms(500);
  }
  IT_CHECK(c.addr_hits == c.own && c.unopened == 0 && c.other_batch == 0,
           "batch 2's inbox: %zu records, %zu for A1, %zu unopened, %zu for "
           "another batch",
           c.records, c.addr_hits, c.unopened, c.other_batch);
  printf("batch 2's inbox: %zu opt-outs, all for A1\n", c.own);
  /* The compliance tool still lists exactly the three. */
  wait_optouts(g.key1, g.b1.addrs, A1 "\n" A2 "\n" A3 "\n");
  net.step_passed = 1;
}

/* ---- h: inbox isolation ---------------------------------------------------- */

static void expect_empty_inbox(const uint8_t pk[NC_PK_LEN],
                               const uint8_t id[REG_BATCH_ID_LEN],
                               const char *what) {
  uint8_t key[DHT_KEY_LEN];
  reg_inbox_key(key, pk, id);
  json_t *records = get_all(0, key);
  size_t n = json_array_size(records);
  json_decref(records);
  IT_CHECK(n == 0, "%s holds %zu records", what, n);
}

static void step_h_isolation(void **state) {
  (void)state;
  IT_REQUIRE(&net, g.b2.published && g.b3.made, "steps f and g");
  IT_CHECK(publish(SENDER_NODE, g.b3.path) == 0, "publish batch 3: %s",
           it_cmd_output(&net));
  for (int u = U1; u <= U4; u++)
    wait_stat(u, "live_batches", 3);
  it_sleep_ms(2000); /* any opt-out batch 3 would cause is under way */
  expect_empty_inbox(g.k2.pk, g.b3.id, "batch 3's inbox");
  expect_empty_inbox(g.k1.pk, g.b3.id, "the inbox of (K1, batch 3)");
  expect_empty_inbox(g.k2.pk, g.b1.id, "the inbox of (K2, batch 1)");
  expect_empty_inbox(g.k2.pk, g.b2.id, "the inbox of (K2, batch 2)");
  inbox_count c1 = open_inbox(0, &g.k1, &g.b1, NULL);
  IT_CHECK(c1.own >= 3 && c1.other_batch == 0 && c1.unopened == 1,
           "batch 1's inbox: %zu records, %zu for batch 1, %zu for another, "
           "%zu unopened (the planted one)",
           c1.records, c1.own, c1.other_batch, c1.unopened);
  inbox_count c2 = open_inbox(0, &g.k1, &g.b2, NULL);
  IT_CHECK(c2.own == c2.records && c2.records >= 14,
           "batch 2's inbox: %zu records, %zu for batch 2", c2.records, c2.own);
  IT_CHECK(reg_stat(U4, "optouts_sent") == 0 && reg_stat(U4, "matches") == 0,
           "U4 sent an opt-out");
  printf("inboxes: batch 1 %zu (+1 planted), batch 2 %zu, batch 3 0, "
         "mismatched pairs 0\n", c1.own, c2.own);
  net.step_passed = 1;
}

/* ---- i: restart ------------------------------------------------------------ */

static void step_i_restart(void **state) {
  (void)state;
  IT_REQUIRE(&net, net.network_up && it_running(&net, U4), "a running U4");
  it_node_term(&net, U4);
  it_node_start(&net, U4, 0, NULL);
  it_wait_ready(&net, U4);
  expect_list(U4, A4 "\n");
  net.step_passed = 1;
}

/* ---- j: a stale announcement ---------------------------------------------- */

/* A batch whose index record is two hours old (re-dated through the
 * registry API, as if the file had waited): batch publish refuses it with
 * the reason and publishes nothing; with --key it announces the batch
 * again, rewrites the file, and the running nodes find it. */
static void step_j_stale(void **state) {
  (void)state;
  const char *const none[] = {NULL};
  batch_info st;
  size_t len;
  reg_batch *rb = NULL;
  uint8_t *out = NULL;
  IT_REQUIRE(&net, net.network_up && g.b1.made, "key K1 (step c)");
  memset(&st, 0, sizeof st);
  snprintf(st.path, sizeof st.path, "%s/stale.nib", net.tmp_dir);
  snprintf(st.addrs, sizeof st.addrs, "%s/stale.txt", net.tmp_dir);
  write_list(st.addrs, 20, "stale", none, 0);
  make_batch(&st, g.key1, "6");
  uint64_t now = (uint64_t)time(NULL);
  uint8_t *buf = read_file(st.path, &len);
  IT_CHECK(reg_batch_file_decode(&rb, buf, len, DIFFICULTY, POW_BASE, now) == 0 &&
               reg_batch_reannounce(rb, &g.k1, now - 2 * 3600, POW_BASE) == 0 &&
               reg_batch_file_encode(rb, &out, &len) == 0,
           "re-dating the index record");
  write_file(st.path, out, len);
  free(out);
  free(buf);
  reg_batch_free(rb);
  double records_before = top_stat(SENDER_NODE, "records");
  double seen = reg_stat(U3, "batches_seen");
  IT_CHECK(publish(SENDER_NODE, st.path) == 1, "stale batch: %s",
           it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, "no longer read") != NULL &&
               strstr(net.r.err, "--key") != NULL,
           "%s", it_cmd_output(&net));
  printf("%-22s %s", "stale-index", strstr(net.r.err, "refused"));
  IT_CHECK(top_stat(SENDER_NODE, "records") == records_before,
           "a refused stale batch was stored");
  char *argv[] = {(char *)NI_BIN,   "batch",      "publish",       st.path,
                  "--key",          g.key1,       "--timeout",     PUBLISH_TIMEOUT,
                  "--data-dir",     net.nodes[SENDER_NODE].dir, NULL};
  IT_CHECK(it_cmd(&net, atof(PUBLISH_TIMEOUT) + 20, argv) == 0,
           "publish --key: %s", it_cmd_output(&net));
  IT_CHECK(strstr(net.r.err, "announced the batch again") != NULL, "%s",
           it_cmd_output(&net));
  buf = read_file(st.path, &len);
  IT_CHECK(reg_batch_file_decode(&rb, buf, len, DIFFICULTY, POW_BASE,
                                 (uint64_t)time(NULL)) == 0 &&
               !reg_batch_stale(rb, (uint64_t)time(NULL)),
           "the rewritten file is not current");
  reg_batch_free(rb);
  free(buf);
  wait_stat(U3, "batches_seen", seen + 1);
  net.step_passed = 1;
}

int main(int argc, char **argv) {
  const struct CMUnitTest steps[] = {
      IT_STEP(step_a_network, &net),    IT_STEP(step_b_protect, &net),
      IT_STEP(step_c_create, &net),     IT_STEP(step_d_bad_input, &net),
      IT_STEP(step_e_publish, &net),    IT_STEP(step_f_optouts, &net),
      IT_STEP(step_g_escalation, &net), IT_STEP(step_h_isolation, &net),
      IT_STEP(step_i_restart, &net),    IT_STEP(step_j_stale, &net),
      IT_STEP(it_step_shutdown, &net),
  };
  int rc = it_prologue(&net, argc, argv);
  if (rc >= 0)
    return rc; /* the exec wrapper's */
  return cmocka_run_group_tests_name("registry", steps, group_setup,
                                     group_teardown);
}
