/*
 * RocksDB persistence (node/daemon/store_rocks.c) in a temporary
 * directory: put, get, delete, prefix iteration, batches, reopening, the
 * read-only open beside a writer; then what is stored in it: the identity
 * (identity.c), note sequence numbers and routing snapshot entries
 * (persist.c), the registry's state (reg_state.c), including corrupt
 * stored bytes.
 */
#include "node_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "errors.h"
#include "identity.h"
#include "persist.h"
#include "reg_state.h"
#include "store_rocks.h"

typedef struct fixture {
  char dir[256];
  char db[300];
  node_store *st;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  char err[512];
  if (!f || nt_tmpdir(f->dir, sizeof f->dir) < 0) return -1;
  snprintf(f->db, sizeof f->db, "%s/db", f->dir);
  if (node_store_open(&f->st, f->db, NODE_STORE_CREATE, err, sizeof err) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  node_store_close(f->st);
  nt_rmtree(f->dir);
  free(f);
  return 0;
}

static void reopen(fixture *f, unsigned flags) {
  char err[512];
  node_store_close(f->st);
  f->st = NULL;
  assert_int_equal(node_store_open(&f->st, f->db, flags, err, sizeof err), 0);
}

#define K(s) (const uint8_t *)(s), strlen(s)

typedef struct seen {
  char keys[16][16];
  size_t n;
  int stop_after;
} seen;

static int collect(void *arg, const uint8_t *key, size_t klen,
                   const uint8_t *val, size_t vlen) {
  seen *s = arg;
  (void)val;
  (void)vlen;
  assert_true(klen < sizeof s->keys[0] && s->n < 16);
  memcpy(s->keys[s->n], key, klen);
  s->keys[s->n][klen] = '\0';
  s->n++;
  return s->stop_after && (int)s->n >= s->stop_after;
}

static int count_one(void *arg, const uint8_t *key, size_t klen,
                     const uint8_t *val, size_t vlen) {
  (void)arg;
  (void)key;
  (void)klen;
  (void)val;
  (void)vlen;
  return 0;
}

static void test_put_get_del(void **state) {
  fixture *f = *state;
  uint8_t val[16];
  size_t len = 99;
  assert_int_equal(node_store_get(f->st, K("a1"), val, sizeof val, &len), 0);
  assert_int_equal(len, 0);
  assert_int_equal(node_store_put(f->st, K("a1"), K("hello"), 0), 0);
  assert_int_equal(node_store_get(f->st, K("a1"), val, sizeof val, &len), 1);
  assert_int_equal(len, 5);
  assert_memory_equal(val, "hello", 5);
  assert_int_equal(node_store_get(f->st, K("a1"), val, 4, &len),
                   NODE_ERR_TOO_LARGE);
  assert_int_equal(node_store_put(f->st, K("a1"), K("bye"), 1), 0);
  assert_int_equal(node_store_get(f->st, K("a1"), val, sizeof val, &len), 1);
  assert_int_equal(len, 3);
  assert_int_equal(node_store_del(f->st, K("a1"), 0), 0);
  assert_int_equal(node_store_get(f->st, K("a1"), val, sizeof val, &len), 0);
  assert_int_equal(node_store_del(f->st, K("never"), 0), 0);
}

static void test_iterate_prefix(void **state) {
  fixture *f = *state;
  seen s = {.n = 0};
  const char *keys[] = {"a", "b2", "b1", "b", "c1", "ab"};
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(node_store_put(f->st, K(keys[i]), K("v"), 0), 0);
  assert_int_equal(node_store_iterate(f->st, K("b"), collect, &s), 3);
  assert_int_equal(s.n, 3);
  assert_string_equal(s.keys[0], "b"); /* key order */
  assert_string_equal(s.keys[1], "b1");
  assert_string_equal(s.keys[2], "b2");
  memset(&s, 0, sizeof s);
  s.stop_after = 2;
  assert_int_equal(node_store_iterate(f->st, K("a"), collect, &s), 2);
  memset(&s, 0, sizeof s);
  assert_int_equal(node_store_iterate(f->st, K("z"), collect, &s), 0);
}

static void test_batch_and_reopen(void **state) {
  fixture *f = *state;
  uint8_t val[16];
  size_t len;
  seen s = {.n = 0};
  node_store_batch *b = node_store_batch_new();
  assert_non_null(b);
  assert_int_equal(node_store_put(f->st, K("x1"), K("old"), 0), 0);
  node_store_batch_put(b, K("x2"), K("two"));
  node_store_batch_del(b, K("x1"));
  node_store_batch_put(b, K("x3"), K("three"));
  assert_int_equal(node_store_batch_write(f->st, b, 1), 0);
  node_store_batch_free(b);
  reopen(f, NODE_STORE_CREATE);
  assert_int_equal(node_store_iterate(f->st, K("x"), collect, &s), 2);
  assert_string_equal(s.keys[0], "x2");
  assert_string_equal(s.keys[1], "x3");
  assert_int_equal(node_store_get(f->st, K("x3"), val, sizeof val, &len), 1);
  assert_memory_equal(val, "three", 5);
}

static void test_read_only_and_lock(void **state) {
  fixture *f = *state;
  node_store *ro = NULL, *rw = NULL;
  uint8_t val[8];
  size_t len;
  char err[512];
  assert_int_equal(node_store_put(f->st, K("k"), K("v"), 1), 0);
  /* A second writer is refused (RocksDB's LOCK file)... */
  assert_int_equal(
      node_store_open(&rw, f->db, NODE_STORE_CREATE, err, sizeof err),
      NODE_ERR_STORE);
  assert_null(rw);
  assert_true(strlen(err) > 0);
  /* ...a reader is not, and sees what the writer wrote. */
  assert_int_equal(
      node_store_open(&ro, f->db, NODE_STORE_READ_ONLY, err, sizeof err), 0);
  assert_int_equal(node_store_get(ro, K("k"), val, sizeof val, &len), 1);
  node_store_close(ro);
}

static void test_missing_db(void **state) {
  fixture *f = *state;
  node_store *st = NULL;
  char path[400], err[512];
  snprintf(path, sizeof path, "%s/none", f->dir);
  assert_int_equal(node_store_open(&st, path, 0, err, sizeof err),
                   NODE_ERR_STORE);
  assert_null(st);
  assert_int_equal(
      node_store_open(&st, path, NODE_STORE_READ_ONLY, err, sizeof err),
      NODE_ERR_STORE);
}

static void test_identity(void **state) {
  fixture *f = *state;
  nc_identity a, b;
  uint8_t bad[NODE_IDENTITY_LEN + 1];
  assert_int_equal(node_identity_load(f->st, &a), 0);
  assert_int_equal(node_identity_create(f->st, 6, &a), 0);
  assert_true(nc_id_puzzle_bits(a.id) >= 6);
  reopen(f, NODE_STORE_READ_ONLY);
  assert_int_equal(node_identity_load(f->st, &b), 1);
  assert_memory_equal(a.id, b.id, NC_ID_LEN);
  assert_memory_equal(a.pk, b.pk, NC_PK_LEN);
  assert_memory_equal(a.sk, b.sk, NC_SK_LEN);
  assert_true(a.nonce == b.nonce);
  /* Corrupt stored forms are refused, not trusted. */
  reopen(f, NODE_STORE_CREATE);
  memset(bad, 0, sizeof bad);
  assert_int_equal(node_store_put(f->st, K("i"), bad, sizeof bad, 0), 0);
  assert_int_equal(node_identity_load(f->st, &b), NODE_ERR_PROTO);
  node_identity_encode(bad, &a);
  bad[0] = 2; /* unknown version */
  assert_int_equal(node_store_put(f->st, K("i"), bad, NODE_IDENTITY_LEN, 0), 0);
  assert_int_equal(node_identity_load(f->st, &b), NODE_ERR_PROTO);
  assert_int_equal(node_identity_create(f->st, 41, &b), NODE_ERR_USAGE);
  nc_identity_wipe(&a);
  nc_identity_wipe(&b);
}

static void test_next_seq(void **state) {
  fixture *f = *state;
  node_persist p;
  uint8_t pk[NC_PK_LEN] = {1}, key[DHT_KEY_LEN] = {2}, other[DHT_KEY_LEN] = {3};
  uint64_t seq;
  node_persist_init(&p, f->st, pk);
  assert_int_equal(node_persist_next_seq(&p, key, 1000, &seq), 0);
  assert_true(seq == 1000);
  /* The clock went back, or two puts in one millisecond: still increases. */
  assert_int_equal(node_persist_next_seq(&p, key, 900, &seq), 0);
  assert_true(seq == 1001);
  assert_int_equal(node_persist_next_seq(&p, key, 1001, &seq), 0);
  assert_true(seq == 1002);
  assert_int_equal(node_persist_next_seq(&p, key, 5000, &seq), 0);
  assert_true(seq == 5000);
  assert_int_equal(node_persist_next_seq(&p, other, 10, &seq), 0);
  assert_true(seq == 10); /* per key */
  reopen(f, NODE_STORE_CREATE);
  p.store = f->st;
  assert_int_equal(node_persist_next_seq(&p, key, 10, &seq), 0);
  assert_true(seq == 5001); /* survives a restart */
}

static void test_snapshot_codec(void **state) {
  dht_contact c;
  uint8_t key[NODE_SNAP_KEY_LEN], val[NODE_SNAP_VAL_LEN], pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
  (void)state;
  memset(&c, 0, sizeof c);
  memset(c.pk, 0xab, sizeof c.pk);
  c.nonce = 0x0102030405060708ull;
  assert_int_equal(dht_addr_parse(&c.addr, "[2001:db8::7]:65535"), 0);
  node_snapshot_encode(&c, key, val);
  assert_int_equal(key[0], 'c');
  assert_int_equal(
      node_snapshot_decode(key, sizeof key, val, sizeof val, pk, &nonce, &addr),
      0);
  assert_memory_equal(pk, c.pk, NC_PK_LEN);
  assert_true(nonce == c.nonce);
  assert_true(dht_addr_equal(&addr, &c.addr));
  /* Hostile stored bytes. */
  assert_int_equal(node_snapshot_decode(key, sizeof key - 1, val, sizeof val,
                                        pk, &nonce, &addr),
                   NODE_ERR_PROTO);
  assert_int_equal(node_snapshot_decode(key, sizeof key, val, sizeof val - 1,
                                        pk, &nonce, &addr),
                   NODE_ERR_PROTO);
  val[8] = 5;
  assert_int_equal(
      node_snapshot_decode(key, sizeof key, val, sizeof val, pk, &nonce, &addr),
      NODE_ERR_PROTO);
  val[8] = 4;
  val[25] = val[26] = 0;
  assert_int_equal(
      node_snapshot_decode(key, sizeof key, val, sizeof val, pk, &nonce, &addr),
      NODE_ERR_PROTO);
  key[0] = 'r';
  val[26] = 1;
  assert_int_equal(
      node_snapshot_decode(key, sizeof key, val, sizeof val, pk, &nonce, &addr),
      NODE_ERR_PROTO);
}

static void test_record_dbkey(void **state) {
  uint8_t out[NODE_RECORD_DBKEY_LEN], key[DHT_KEY_LEN], pk[NC_PK_LEN];
  (void)state;
  memset(key, 1, sizeof key);
  memset(pk, 2, sizeof pk);
  node_record_dbkey(out, 'o', key, pk);
  assert_int_equal(out[0], 'o');
  assert_memory_equal(out + 1, key, DHT_KEY_LEN);
  assert_memory_equal(out + 1 + DHT_KEY_LEN, pk, NC_PK_LEN);
}

/* ---- Persistence through a real engine ----------------------------------- */

#define TEST_DIFFICULTY 4

static void test_random(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

typedef struct engine {
  nc_identity ident;
  node_persist p;
  dht_node *dht;
  dht_time now;
} engine;

static void engine_start(engine *e, node_store *st) {
  dht_config cfg;
  dht_env env;
  memset(e, 0, sizeof *e);
  memset(&env, 0, sizeof env);
  dht_config_default(&cfg);
  cfg.difficulty = TEST_DIFFICULTY;
  assert_int_equal(nc_identity_generate(&e->ident, TEST_DIFFICULTY), 0);
  node_persist_init(&e->p, st, e->ident.pk);
  node_persist_env(&e->p, &env);
  env.random = test_random;
  e->now = (dht_time)1800000000 * DHT_SEC;
  assert_int_equal(dht_node_new(&e->dht, &cfg, &env, &e->ident, e->now), 0);
}

static void engine_stop(engine *e) {
  dht_node_free(e->dht);
  nc_identity_wipe(&e->ident);
}

/* encode_note signs a note by |ident| created at |created_s|. */
static size_t encode_note(const nc_identity *ident, const char *name,
                          uint64_t created_s, uint8_t key[DHT_KEY_LEN],
                          uint8_t out[DHT_MAX_RECORD]) {
  uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  dht_record rec;
  size_t len = 0;
  assert_int_equal(dht_note_build(&rec, payload, sizeof payload, ident,
                                  (const uint8_t *)name, strlen(name),
                                  (const uint8_t *)"value", 5, created_s, 3600,
                                  1),
                   0);
  assert_int_equal(dht_record_encode(&rec, out, DHT_MAX_RECORD, &len), 0);
  memcpy(key, rec.key, DHT_KEY_LEN);
  return len;
}

static long count_prefix(node_store *st, uint8_t prefix) {
  return node_store_iterate(st, &prefix, 1, count_one, NULL);
}

static void test_restore(void **state) {
  fixture *f = *state;
  engine e;
  nc_identity other;
  uint8_t rec[DHT_MAX_RECORD], key[DHT_KEY_LEN], dbkey[NODE_RECORD_DBKEY_LEN];
  size_t restored = 9, own = 9;
  engine_start(&e, f->st);
  uint64_t now_s = e.now / DHT_SEC;
  assert_int_equal(nc_identity_generate(&other, TEST_DIFFICULTY), 0);
  /* Good: ours (o) and someone else's (r). */
  size_t len = encode_note(&e.ident, "mine", now_s, key, rec);
  node_record_dbkey(dbkey, 'o', key, e.ident.pk);
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, rec, len, 0), 0);
  len = encode_note(&other, "theirs", now_s, key, rec);
  node_record_dbkey(dbkey, 'r', key, other.pk);
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, rec, len, 0), 0);
  /* Bad: stored under another key, expired, tampered, garbage. */
  memset(dbkey + 1, 0x5a, DHT_KEY_LEN);
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, rec, len, 0), 0);
  len = encode_note(&other, "old", now_s - 3 * 3600, key, rec);
  node_record_dbkey(dbkey, 'r', key, other.pk);
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, rec, len, 0), 0);
  len = encode_note(&other, "tampered", now_s, key, rec);
  rec[len - 70] ^= 1; /* a payload byte: the signature no longer holds */
  node_record_dbkey(dbkey, 'r', key, other.pk);
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, rec, len, 0), 0);
  dbkey[1] ^= 0xff;
  assert_int_equal(node_store_put(f->st, dbkey, sizeof dbkey, K("junk"), 0), 0);
  assert_int_equal(node_persist_restore(&e.p, e.dht, e.now, &restored, &own),
                   0);
  assert_int_equal(restored, 2);
  assert_int_equal(own, 1);
  assert_true(e.p.restore_failures == 4);
  assert_int_equal(count_prefix(f->st, 'r'), 1); /* refused ones deleted */
  assert_int_equal(count_prefix(f->st, 'o'), 1);
  dht_stats st;
  dht_node_stats(e.dht, &st);
  assert_int_equal(st.records, 2);
  assert_int_equal(st.own_records, 1);
  nc_identity_wipe(&other);
  engine_stop(&e);
}

static void test_store_hooks(void **state) {
  fixture *f = *state;
  engine e;
  dht_env env;
  uint8_t key[DHT_KEY_LEN], other_pk[NC_PK_LEN];
  engine_start(&e, f->st);
  memset(&env, 0, sizeof env);
  node_persist_env(&e.p, &env);
  memset(key, 7, sizeof key);
  memset(other_pk, 8, sizeof other_pk);
  assert_int_equal(env.store_put(env.user, key, e.ident.pk, K("a")), 0);
  assert_int_equal(env.store_put(env.user, key, other_pk, K("b")), 0);
  assert_int_equal(count_prefix(f->st, 'o'), 1); /* by author */
  assert_int_equal(count_prefix(f->st, 'r'), 1);
  assert_int_equal(env.store_del(env.user, key, e.ident.pk), 0);
  assert_int_equal(env.store_del(env.user, key, other_pk), 0);
  assert_int_equal(count_prefix(f->st, 'o'), 0);
  assert_int_equal(count_prefix(f->st, 'r'), 0);
  engine_stop(&e);
}

static void test_snapshot_store(void **state) {
  fixture *f = *state;
  engine e;
  nc_identity peer;
  dht_contact c;
  uint8_t key[NODE_SNAP_KEY_LEN], val[NODE_SNAP_VAL_LEN];
  engine_start(&e, f->st);
  /* An empty routing table leaves an older snapshot alone. */
  assert_int_equal(nc_identity_generate(&peer, TEST_DIFFICULTY), 0);
  memset(&c, 0, sizeof c);
  memcpy(c.pk, peer.pk, NC_PK_LEN);
  c.nonce = peer.nonce;
  assert_int_equal(dht_addr_parse(&c.addr, "127.0.0.1:4000"), 0);
  node_snapshot_encode(&c, key, val);
  assert_int_equal(node_store_put(f->st, key, sizeof key, val, sizeof val, 0),
                   0);
  assert_int_equal(node_persist_snapshot_save(&e.p, e.dht, 0), 0);
  assert_int_equal(count_prefix(f->st, 'c'), 1);
  /* Loading proposes the good entry and deletes a corrupt one. */
  key[1] ^= 1;
  assert_int_equal(node_store_put(f->st, key, sizeof key, val, 5, 0), 0);
  assert_int_equal(node_persist_snapshot_load(&e.p, e.dht, e.now), 1);
  assert_int_equal(count_prefix(f->st, 'c'), 1);
  nc_identity_wipe(&peer);
  engine_stop(&e);
}

/* reg_start attaches a registry to |e| whose state goes to the store. */
static reg_node *reg_start(engine *e) {
  reg_config cfg;
  reg_env env;
  reg_node *r = NULL;
  reg_config_default(&cfg);
  memset(&env, 0, sizeof env);
  node_reg_state_env(&e->p, &env);
  env.random = test_random;
  assert_int_equal(reg_node_new(&r, &cfg, &env, e->dht, &e->ident, e->now), 0);
  return r;
}

static int first_address(void *arg, const char *canon) {
  snprintf(arg, REG_ADDRESS_MAX + 1, "%s", canon);
  return 1;
}

static void test_reg_state(void **state) {
  fixture *f = *state;
  engine e;
  char addr[REG_ADDRESS_MAX + 1] = "";
  size_t restored = 9;
  engine_start(&e, f->st);
  reg_node *r = reg_start(&e);
  assert_int_equal(reg_node_protect_add(r, e.now, " Alice@Example.ORG"), 0);
  long stored = count_prefix(f->st, NODE_REG_STATE_PREFIX);
  assert_true(stored >= 1);
  reg_node_free(r);
  /* A corrupt entry beside the good ones: refused, counted, deleted. */
  assert_int_equal(node_store_put(f->st, K("gP\x01junk"), K("zz"), 0), 0);
  r = reg_start(&e);
  assert_int_equal(node_reg_state_restore(&e.p, r, e.now, &restored), 0);
  assert_int_equal((long)restored, stored);
  assert_true(e.p.restore_failures == 1);
  assert_int_equal(count_prefix(f->st, NODE_REG_STATE_PREFIX), stored);
  assert_int_equal(reg_node_protect_list(r, first_address, addr), 1);
  assert_string_equal(addr, "alice@example.org");
  /* Removing deletes its entry. */
  assert_int_equal(reg_node_protect_remove(r, e.now, "alice@example.org"), 0);
  assert_int_equal(count_prefix(f->st, NODE_REG_STATE_PREFIX), stored - 1);
  reg_node_free(r);
  engine_stop(&e);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_put_get_del),
      T(test_iterate_prefix),
      T(test_batch_and_reopen),
      T(test_read_only_and_lock),
      T(test_missing_db),
      T(test_identity),
      T(test_next_seq),
      T(test_restore),
      T(test_store_hooks),
      T(test_snapshot_store),
      T(test_reg_state),
      cmocka_unit_test(test_snapshot_codec),
      cmocka_unit_test(test_record_dbkey),
  };
  if (nc_init() < 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
