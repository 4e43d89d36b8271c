/*
 * Registry formats, part 2: the manifest codec (strictness, byte by byte),
 * the proof-of-work rule, the tree shape, reg_batch_build, the batch file
 * round trip at 10,000 addresses and every refusal of
 * reg_batch_file_decode, and reg_fetch driven chunk by chunk in random
 * order with bad chunks refused and the state left unchanged.
 */
#include "internal.h"
#include "registry_testutil.h"

/* ---- Manifest codec -------------------------------------------------------- */

static void sample_manifest(reg_manifest *m, uint64_t count) {
  reg_shape s;
  memset(m, 0, sizeof *m);
  memset(m->batch_id, 0xb1, sizeof m->batch_id);
  memset(m->salt, 0x5a, sizeof m->salt);
  m->count = count;
  m->entry_width = REG_ENTRY_LEN;
  m->chunk_entries = REG_CHUNK_ENTRIES;
  m->fanout = REG_TREE_FANOUT;
  assert_int_equal(reg_shape_of(&s, count), 0);
  m->depth = s.depth;
  m->n_roots = (uint32_t)s.level_n[s.depth];
  for (uint32_t i = 0; i < m->n_roots; i++) memset(m->roots[i], (int)i, 32);
  m->pow_nonce = 12345;
}

static int decode_bytes(const uint8_t *buf, size_t len) {
  reg_manifest m;
  return reg_manifest_decode(&m, buf, len);
}

static void test_manifest_round_trip(void **state) {
  uint8_t buf[REG_MANIFEST_PAYLOAD_MAX + 8], again[REG_MANIFEST_PAYLOAD_MAX];
  uint64_t counts[] = {1, 104, 105, 1664, 1665, 10000, 10000000,
                       REG_BATCH_MAX_ENTRIES};
  size_t len, len2;
  reg_manifest m, d;
  (void)state;
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    sample_manifest(&m, counts[i]);
    assert_int_equal(reg_manifest_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(reg_manifest_decode(&d, buf, len), 0);
    assert_memory_equal(&m, &d, sizeof m);
    assert_int_equal(reg_manifest_encode(&d, again, sizeof again, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
  }
  /* The largest manifest: 16 roots, widest count and nonce. */
  sample_manifest(&m, 16 * 104);
  m.count = UINT32_MAX + 1ull;
  m.n_roots = 16;
  m.pow_nonce = UINT64_MAX;
  assert_int_equal(reg_manifest_encode(&m, buf, sizeof buf, &len), 0);
  assert_int_equal(len, REG_MANIFEST_PAYLOAD_MAX);
  assert_int_equal(reg_manifest_encode(&m, buf, len - 1, &len2),
                   REG_ERR_TOO_LARGE);
  m.n_roots = 0;
  assert_int_equal(reg_manifest_encode(&m, buf, sizeof buf, &len),
                   REG_ERR_INVALID_ARGUMENT);
}

/* Layout of sample_manifest(10000): 9a | 01 | c4 10 id | c4 20 salt |
 * cd 27 10 | 08 | 68 | 1a | 01 | 94 (4 roots) ... | cd 30 39. */
enum {
  OFF_VERSION = 1,
  OFF_ID_TAG = 2,
  OFF_COUNT = 54,
  OFF_WIDTH = 57,
  OFF_CHUNK = 58,
  OFF_FANOUT = 59,
  OFF_DEPTH = 60,
  OFF_ROOTS = 61,
};

static void test_manifest_strict(void **state) {
  uint8_t good[REG_MANIFEST_PAYLOAD_MAX + 8], buf[REG_MANIFEST_PAYLOAD_MAX + 8];
  size_t len;
  reg_manifest m;
  (void)state;
  sample_manifest(&m, 10000);
  assert_int_equal(reg_manifest_encode(&m, good, sizeof good, &len), 0);
  assert_int_equal(good[0], 0x9a);
  assert_int_equal(good[OFF_COUNT], 0xcd);
  assert_int_equal(good[OFF_ROOTS], 0x94);
  assert_int_equal(decode_bytes(good, len), 0);
#define MUTATE(off, val)                                           \
  do {                                                             \
    memcpy(buf, good, len);                                        \
    buf[(off)] = (val);                                            \
    assert_int_equal(decode_bytes(buf, len), REG_ERR_MALFORMED);   \
  } while (0)
  MUTATE(0, 0x9b);             /* eleven elements */
  MUTATE(0, 0x99);             /* nine */
  MUTATE(OFF_VERSION, 0x02);   /* version 2 */
  MUTATE(OFF_ID_TAG, 0xd9);    /* str 8 instead of bin 8 */
  MUTATE(OFF_ID_TAG + 1, 15);  /* batch id of 15 bytes */
  MUTATE(OFF_WIDTH, 16);       /* entry width */
  MUTATE(OFF_CHUNK, 112);      /* chunk entries */
  MUTATE(OFF_FANOUT, 28);      /* fanout */
  MUTATE(OFF_DEPTH, 2);        /* depth not that of the count */
  MUTATE(OFF_ROOTS, 0x93);     /* 3 roots, count says 4 */
  MUTATE(OFF_ROOTS, 0xc0);     /* nil */
  /* Truncated anywhere, or a trailing byte. */
  for (size_t cut = 0; cut < len; cut += 7)
    assert_int_equal(decode_bytes(good, cut), REG_ERR_MALFORMED);
  memcpy(buf, good, len);
  buf[len] = 0;
  assert_int_equal(decode_bytes(buf, len + 1), REG_ERR_MALFORMED);
  /* count 10000 re-encoded as uint 32 (not the shortest form). */
  memcpy(buf, good, OFF_COUNT);
  buf[OFF_COUNT] = 0xce;
  buf[OFF_COUNT + 1] = 0;
  buf[OFF_COUNT + 2] = 0;
  memcpy(buf + OFF_COUNT + 3, good + OFF_COUNT + 1, len - OFF_COUNT - 1);
  assert_int_equal(decode_bytes(buf, len + 2), REG_ERR_MALFORMED);
  /* count 0 (as fixint, shortening the encoding by two bytes). */
  memcpy(buf, good, OFF_COUNT);
  buf[OFF_COUNT] = 0x00;
  memcpy(buf + OFF_COUNT + 1, good + OFF_COUNT + 3, len - OFF_COUNT - 3);
  assert_int_equal(decode_bytes(buf, len - 2), REG_ERR_MALFORMED);
  /* An honest re-encoding of a smaller count with the same shape is
   * accepted: the check is about form, not value. */
  sample_manifest(&m, 9999);
  assert_int_equal(reg_manifest_encode(&m, buf, sizeof buf, &len), 0);
  assert_int_equal(decode_bytes(buf, len), 0);
#undef MUTATE
}

static void test_pow_bits_and_shape(void **state) {
  reg_shape s;
  (void)state;
  assert_int_equal(reg_batch_pow_bits(1, 16), 16);
  assert_int_equal(reg_batch_pow_bits(10000, 16), 16);
  assert_int_equal(reg_batch_pow_bits(10001, 16), 17);
  assert_int_equal(reg_batch_pow_bits(20000, 16), 17);
  assert_int_equal(reg_batch_pow_bits(20001, 16), 18);
  assert_int_equal(reg_batch_pow_bits(1000000, 0), 7);    /* 100 -> 7 */
  assert_int_equal(reg_batch_pow_bits(10000000, 16), 26); /* 1000 -> 10 */
  assert_int_equal(reg_batch_pow_bits(REG_BATCH_MAX_ENTRIES, 0), 14);
  assert_int_equal(reg_shape_of(&s, 0), REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_shape_of(&s, 1), 0);
  assert_true(s.depth == 0 && s.n_nodes == 1);
  assert_int_equal(reg_shape_of(&s, 16 * 104), 0);
  assert_true(s.depth == 0 && s.n_nodes == 16);
  assert_int_equal(reg_shape_of(&s, 16 * 104 + 1), 0);
  assert_true(s.depth == 1 && s.level_n[0] == 17 && s.level_n[1] == 1);
  assert_true(s.level_start[1] == 0 && s.level_start[0] == 1);
  assert_int_equal(reg_shape_of(&s, 10000000), 0);
  assert_true(s.depth == 3 && s.level_n[0] == 96154 && s.level_n[1] == 3699 &&
              s.level_n[2] == 143 && s.level_n[3] == 6);
  assert_true(s.n_nodes == 96154 + 3699 + 143 + 6);
  assert_int_equal(reg_shape_of(&s, UINT64_MAX), 0);
  assert_true(s.level_n[s.depth] <= REG_ROOTS_MAX);
}

/* ---- Building and the batch file --------------------------------------------- */

static void test_build_and_file_round_trip(void **state) {
  nc_identity sender;
  reg_batch *b, *d = NULL;
  const uint64_t *e, *e2;
  uint8_t *file, *file2;
  size_t n, n2, len, len2;
  (void)state;
  t_identity(&sender, 0x41);
  b = t_build(&sender, 0, 10000, 0, 1);
  e = reg_batch_entries(b, &n);
  assert_int_equal(n, 10000); /* no 64-bit collision expected */
  for (size_t i = 1; i < n; i++) assert_true(e[i - 1] < e[i]);
  assert_int_equal(reg_batch_manifest(b)->depth, 1);
  assert_int_equal(reg_batch_manifest(b)->n_roots, 4);
  assert_int_equal(reg_batch_record_count(b), 2 + 4 + 97);
  assert_memory_equal(reg_batch_sender(b), sender.pk, NC_PK_LEN);
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  assert_int_equal(
      reg_batch_file_decode(&d, file, len, 0, 0, T_NOW + 3600), 0);
  e2 = reg_batch_entries(d, &n2);
  assert_int_equal(n, n2);
  assert_memory_equal(e, e2, n * sizeof *e);
  assert_memory_equal(reg_batch_manifest(b), reg_batch_manifest(d),
                      sizeof(reg_manifest));
  assert_memory_equal(reg_batch_sender(d), sender.pk, NC_PK_LEN);
  assert_int_equal(reg_batch_file_encode(d, &file2, &len2), 0);
  assert_int_equal(len, len2);
  assert_memory_equal(file, file2, len);
  free(file);
  free(file2);
  reg_batch_free(b);
  reg_batch_free(d);
}

static void test_build_dedup_and_args(void **state) {
  const char *addrs[] = {"a@b", "c@d", "a@b", "e@f", "c@d"};
  const char *bad[] = {"a@b", NULL};
  nc_identity sender;
  t_rng rng = {3};
  reg_batch *b = (reg_batch *)&rng;
  size_t n;
  (void)state;
  t_identity(&sender, 0x42);
  assert_int_equal(reg_batch_build(&b, addrs, 5, &sender, T_NOW, T_TTL, 0,
                                   t_random, &rng),
                   0);
  reg_batch_entries(b, &n);
  assert_int_equal(n, 3);
  assert_int_equal(reg_batch_manifest(b)->count, 3);
  reg_batch_free(b);
  b = (reg_batch *)&rng;
  assert_int_equal(reg_batch_build(&b, addrs, 0, &sender, T_NOW, T_TTL, 0,
                                   t_random, &rng),
                   REG_ERR_INVALID_ARGUMENT);
  assert_null(b);
  assert_int_equal(reg_batch_build(&b, bad, 2, &sender, T_NOW, T_TTL, 0,
                                   t_random, &rng),
                   REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_batch_build(&b, addrs, 5, &sender, T_NOW,
                                   REG_MAX_LIFETIME_S + 1, 0, t_random, &rng),
                   REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_batch_build(&b, addrs, 5, &sender, T_NOW, T_TTL, 41,
                                   t_random, &rng),
                   REG_ERR_INVALID_ARGUMENT);
}

/* A batch of 10,000 (depth 1: 4 hash lists, 97 data chunks) as records. */
typedef struct file_fixture {
  nc_identity sender, other;
  reg_batch *b;
  t_recs r;
} file_fixture;

static int file_setup(void **state) {
  file_fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  t_identity(&f->sender, 0x43);
  t_identity(&f->other, 0x44);
  f->b = t_build(&f->sender, 1000, 10000, 0, 2);
  t_recs_from(&f->r, f->b);
  *state = f;
  return 0;
}

static int file_teardown(void **state) {
  file_fixture *f = *state;
  t_recs_free(&f->r);
  reg_batch_free(f->b);
  free(f);
  return 0;
}

static int decode_recs(const t_recs *r, size_t n) {
  size_t len;
  uint8_t *file = t_file(r, n, &len);
  int rv = t_decode(file, len);
  free(file);
  return rv;
}

static void test_file_truncated(void **state) {
  file_fixture *f = *state;
  size_t len, cuts[8];
  uint8_t *file = t_file(&f->r, f->r.n, &len);
  (void)state;
  assert_int_equal(t_decode(file, len), 0);
  cuts[0] = 0;                         /* empty */
  cuts[1] = 5;                         /* inside the magic */
  cuts[2] = 12;                        /* header only */
  cuts[3] = 14;                        /* inside the first length */
  cuts[4] = 16 + 10;                   /* inside the manifest */
  cuts[5] = 16 + f->r.len[0];          /* at a record boundary */
  cuts[6] = len / 2;                   /* in the middle */
  cuts[7] = len - 1;                   /* last byte missing */
  for (size_t i = 0; i < 8; i++)
    assert_int_equal(t_decode(file, cuts[i]), REG_ERR_TRUNCATED);
  assert_int_equal(reg_batch_file_decode(NULL, file, len, 0, 0, T_NOW),
                   REG_ERR_INVALID_ARGUMENT);
  free(file);
  /* Fewer records than the manifest's tree needs (count consistent). */
  assert_int_equal(decode_recs(&f->r, f->r.n - 1), REG_ERR_MALFORMED);
}

static void test_file_framing(void **state) {
  file_fixture *f = *state;
  size_t len;
  uint8_t *file = t_file(&f->r, f->r.n, &len), *longer;
  file[0] = 'X';
  assert_int_equal(t_decode(file, len), REG_ERR_MALFORMED);
  file[0] = 'N';
  longer = malloc(len + 1);
  assert_non_null(longer);
  memcpy(longer, file, len);
  longer[len] = 0;
  assert_int_equal(t_decode(longer, len + 1), REG_ERR_MALFORMED);
  /* A record length of 0 or over 1000. */
  memcpy(longer, file, len);
  memset(longer + 12, 0, 4);
  assert_int_equal(t_decode(longer, len), REG_ERR_MALFORMED);
  longer[13] = 0x04; /* 1024 */
  assert_int_equal(t_decode(longer, len), REG_ERR_MALFORMED);
  /* Count of 2 records. */
  memcpy(longer, file, len);
  longer[8] = 2;
  longer[9] = longer[10] = longer[11] = 0;
  assert_int_equal(t_decode(longer, len), REG_ERR_MALFORMED);
  /* Expired at decode time. */
  {
    reg_batch *b = NULL;
    assert_int_equal(reg_batch_file_decode(&b, file, len, 0, 0,
                                           T_NOW + T_TTL),
                     REG_ERR_EXPIRED);
    assert_null(b);
    /* The sender's ID must meet the caller's difficulty. */
    assert_int_equal(reg_batch_file_decode(&b, file, len, 24, 0, T_NOW),
                     DHT_ERR_PUZZLE);
  }
  free(longer);
  free(file);
}

/* flip_byte returns the result of decoding with one byte of record |i|
 * flipped at |off| (negative: from the end). */
static int flip_byte(file_fixture *f, size_t i, long off) {
  size_t at = off >= 0 ? (size_t)off : f->r.len[i] - (size_t)(-off);
  int rv;
  f->r.rec[i][at] ^= 0x20;
  rv = decode_recs(&f->r, f->r.n);
  f->r.rec[i][at] ^= 0x20;
  return rv;
}

static void test_file_tampered(void **state) {
  file_fixture *f = *state;
  size_t last = f->r.n - 1;
  /* A flipped byte in a data chunk's entries, or in a hash list. */
  assert_int_equal(flip_byte(f, last, -100), REG_ERR_CHUNK_HASH);
  assert_int_equal(flip_byte(f, last, -66 - 3), REG_ERR_CHUNK_HASH);
  assert_int_equal(flip_byte(f, 2, -300), REG_ERR_CHUNK_HASH);
  /* The manifest's signature forged (last 64 bytes of the record). */
  assert_int_equal(flip_byte(f, 0, -10), DHT_ERR_BAD_SIGNATURE);
  /* The manifest's salt (payload bytes 22..53, the payload starting at
   * record byte 85) changed: the signature fails too. */
  assert_int_equal(f->r.rec[0][85], 0x9a);
  assert_int_equal(flip_byte(f, 0, 85 + 30), DHT_ERR_BAD_SIGNATURE);
  /* Two chunks swapped: the tree names another key at that place. */
  {
    uint8_t *t = f->r.rec[10];
    size_t tl = f->r.len[10];
    f->r.rec[10] = f->r.rec[11];
    f->r.len[10] = f->r.len[11];
    f->r.rec[11] = t;
    f->r.len[11] = tl;
    assert_int_equal(decode_recs(&f->r, f->r.n), REG_ERR_CHUNK_HASH);
    f->r.rec[11] = f->r.rec[10];
    f->r.len[11] = f->r.len[10];
    f->r.rec[10] = t;
    f->r.len[10] = tl;
  }
  assert_int_equal(decode_recs(&f->r, f->r.n), 0);
}

/* resign replaces record |i| by the same record signed by |who|. */
static void resign(file_fixture *f, size_t i, const nc_identity *who,
                   uint8_t *saved, size_t *saved_len) {
  dht_record r;
  uint8_t out[DHT_MAX_RECORD];
  size_t len;
  memcpy(saved, f->r.rec[i], f->r.len[i]);
  *saved_len = f->r.len[i];
  assert_int_equal(dht_record_decode(&r, f->r.rec[i], f->r.len[i]), 0);
  assert_int_equal(reg_record_make(out, sizeof out, &len, r.type, r.key,
                                   r.payload, r.payload_len, who, r.created,
                                   r.expires, r.seq),
                   0);
  t_recs_set(&f->r, i, out, len);
}

static void test_file_wrong_sender(void **state) {
  file_fixture *f = *state;
  uint8_t saved[DHT_MAX_RECORD];
  size_t saved_len;
  size_t cases[] = {1, 2, 30, f->r.n - 1}; /* index, hash list, data chunks */
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    resign(f, cases[k], &f->other, saved, &saved_len);
    assert_int_equal(decode_recs(&f->r, f->r.n), REG_ERR_MANIFEST);
    t_recs_set(&f->r, cases[k], saved, saved_len);
  }
  /* The manifest signed by another key: its key rule fails. */
  resign(f, 0, &f->other, saved, &saved_len);
  assert_int_equal(decode_recs(&f->r, f->r.n), DHT_ERR_KEY_RULE);
  t_recs_set(&f->r, 0, saved, saved_len);
  /* Re-signed by the right key it is fine again. */
  resign(f, 0, &f->sender, saved, &saved_len);
  assert_int_equal(decode_recs(&f->r, f->r.n), 0);
}

static void test_file_index_mismatch(void **state) {
  file_fixture *f = *state;
  uint8_t payload[64], rec[DHT_MAX_RECORD], key[32], saved[DHT_MAX_RECORD];
  size_t plen, len, saved_len = f->r.len[1];
  reg_index x = {.window = reg_index_window(T_NOW), .count = 10000};
  memcpy(saved, f->r.rec[1], saved_len);
  memset(x.batch_id, 0x99, 16); /* another batch */
  assert_int_equal(reg_index_encode(&x, payload, sizeof payload, &plen), 0);
  reg_index_key(key, x.window);
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, REG_RECORD_INDEX,
                                   key, payload, plen, &f->sender, T_NOW,
                                   T_NOW + T_TTL, 0),
                   0);
  t_recs_set(&f->r, 1, rec, len);
  assert_int_equal(decode_recs(&f->r, f->r.n), REG_ERR_MANIFEST);
  /* A data chunk where the index belongs. */
  t_recs_set(&f->r, 1, f->r.rec[f->r.n - 1], f->r.len[f->r.n - 1]);
  assert_int_equal(decode_recs(&f->r, f->r.n), REG_ERR_MALFORMED);
  t_recs_set(&f->r, 1, saved, saved_len);
}

static void test_file_pow(void **state) {
  nc_identity sender;
  reg_batch *b, *d = NULL;
  uint8_t *file;
  size_t len;
  (void)state;
  t_identity(&sender, 0x45);
  /* 30,000 entries at base 0 need 2 bits; a network asking base 14 wants
   * 16 and refuses it. */
  b = t_build(&sender, 0, 30000, 0, 4);
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  assert_int_equal(reg_batch_file_decode(&d, file, len, 0, 0, T_NOW), 0);
  reg_batch_free(d);
  d = NULL;
  assert_int_equal(reg_batch_file_decode(&d, file, len, 0, 14, T_NOW),
                   REG_ERR_POW);
  assert_null(d);
  free(file);
  reg_batch_free(b);
}

/* ---- Hand-made trees (unsorted entries) --------------------------------------- */

/* remake_chunk re-encodes data chunk record |i| with |entries| (n of
 * them), re-signs it and returns its new key. */
static void remake_chunk(t_recs *r, size_t i, const uint64_t *entries,
                         size_t n, const nc_identity *sender,
                         uint8_t key[32]) {
  uint8_t content[REG_CHUNK_CONTENT_MAX], payload[REG_CHUNK_PAYLOAD_MAX];
  uint8_t rec[DHT_MAX_RECORD];
  size_t plen, len;
  for (size_t k = 0; k < n; k++) reg_put_be64(content + 8 * k, entries[k]);
  assert_int_equal(reg_chunk_encode(REG_CHUNK_DATA, content, 8 * n, payload,
                                    sizeof payload, &plen),
                   0);
  reg_chunk_key(key, payload, plen);
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, REG_RECORD_CHUNK,
                                   key, payload, plen, sender, T_NOW,
                                   T_NOW + T_TTL, 0),
                   0);
  t_recs_set(r, i, rec, len);
}

/* remake_manifest sets root |j| to |key|, mines and re-signs. */
static void remake_manifest(t_recs *r, const reg_batch *b, uint32_t j,
                            const uint8_t key[32], const nc_identity *sender) {
  reg_manifest m = *reg_batch_manifest(b);
  uint8_t payload[REG_MANIFEST_PAYLOAD_MAX], rec[DHT_MAX_RECORD], mkey[32];
  size_t plen, len;
  memcpy(m.roots[j], key, 32);
  assert_int_equal(reg_batch_pow_mine(&m, sender->pk, 0), 0);
  assert_int_equal(reg_manifest_encode(&m, payload, sizeof payload, &plen), 0);
  reg_manifest_key(mkey, sender->pk, m.batch_id);
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, REG_RECORD_BATCH,
                                   mkey, payload, plen, sender, T_NOW,
                                   T_NOW + T_TTL, 0),
                   0);
  t_recs_set(r, 0, rec, len);
}

static void test_file_not_sorted(void **state) {
  nc_identity sender;
  reg_batch *b;
  t_recs r;
  uint64_t e[REG_CHUNK_ENTRIES], t;
  const uint64_t *all;
  uint8_t key[32];
  size_t n;
  (void)state;
  t_identity(&sender, 0x46);
  b = t_build(&sender, 0, 500, 0, 5); /* depth 0: 5 data chunks = roots */
  all = reg_batch_entries(b, &n);
  assert_int_equal(reg_batch_manifest(b)->depth, 0);
  t_recs_from(&r, b);
  assert_int_equal(decode_recs(&r, r.n), 0);
  /* Within a chunk: two entries of chunk 2 swapped. */
  memcpy(e, all + 2 * REG_CHUNK_ENTRIES, sizeof e);
  t = e[5], e[5] = e[6], e[6] = t;
  remake_chunk(&r, 2 + 2, e, REG_CHUNK_ENTRIES, &sender, key);
  remake_manifest(&r, b, 2, key, &sender);
  assert_int_equal(decode_recs(&r, r.n), REG_ERR_NOT_SORTED);
  t_recs_free(&r);
  /* Across chunks: chunk 0 ends with chunk 1's first entry. */
  t_recs_from(&r, b);
  memcpy(e, all, sizeof e);
  e[REG_CHUNK_ENTRIES - 1] = all[REG_CHUNK_ENTRIES];
  remake_chunk(&r, 2, e, REG_CHUNK_ENTRIES, &sender, key);
  remake_manifest(&r, b, 0, key, &sender);
  assert_int_equal(decode_recs(&r, r.n), REG_ERR_NOT_SORTED);
  /* A data chunk one entry short of what the count implies. */
  t_recs_free(&r);
  t_recs_from(&r, b);
  remake_chunk(&r, 2, all, REG_CHUNK_ENTRIES - 1, &sender, key);
  remake_manifest(&r, b, 0, key, &sender);
  assert_int_equal(decode_recs(&r, r.n), REG_ERR_MALFORMED);
  t_recs_free(&r);
  reg_batch_free(b);
}

/* ---- reg_fetch ------------------------------------------------------------------ */

static const uint8_t *record_with_key(const reg_batch *b, const uint8_t *key,
                                      dht_record *r) {
  for (size_t i = 2; i < reg_batch_record_count(b); i++) {
    size_t len;
    const uint8_t *p = reg_batch_record(b, i, &len);
    assert_int_equal(dht_record_decode(r, p, len), 0);
    if (memcmp(r->key, key, 32) == 0) return p;
  }
  fail_msg("no record for a wanted key");
  return NULL;
}

static reg_fetch *start_fetch(const reg_batch *b, unsigned base) {
  dht_record mr;
  size_t len;
  const uint8_t *p = reg_batch_record(b, 0, &len);
  reg_fetch *f = NULL;
  assert_int_equal(dht_record_decode(&mr, p, len), 0);
  assert_int_equal(reg_fetch_new(&f, &mr, base), 0);
  return f;
}

/* offer_bad offers a corrupted copy of |r|'s payload and checks the
 * refusal left the fetch unchanged. */
static void offer_bad(reg_fetch *f, const dht_record *r, size_t at) {
  uint8_t bad[REG_CHUNK_PAYLOAD_MAX], before[64][32], after[64][32];
  size_t nb, na, missing = reg_fetch_missing(f);
  nb = reg_fetch_wanted(f, before, 64);
  memcpy(bad, r->payload, r->payload_len);
  bad[at % r->payload_len] ^= 0x01;
  assert_int_equal(reg_fetch_add(f, r->key, bad, r->payload_len),
                   REG_ERR_CHUNK_HASH);
  /* Also the right content under a key nobody asked for. */
  {
    uint8_t other[32];
    memcpy(other, r->key, 32);
    other[0] ^= 0x80;
    assert_int_equal(reg_fetch_add(f, other, r->payload, r->payload_len),
                     REG_ERR_CHUNK_HASH);
  }
  na = reg_fetch_wanted(f, after, 64);
  assert_int_equal(nb, na);
  assert_memory_equal(before, after, nb * 32);
  assert_int_equal(missing, reg_fetch_missing(f));
  assert_false(reg_fetch_complete(f));
}

static void test_fetch_random_order(void **state) {
  nc_identity sender;
  reg_batch *b;
  reg_fetch *f;
  t_rng rng = {99};
  uint8_t (*wanted)[32] = malloc(256 * 32);
  const uint64_t *want, *got;
  size_t n, ng, added = 0, bad_at;
  (void)state;
  assert_non_null(wanted);
  t_identity(&sender, 0x47);
  b = t_build(&sender, 0, 10000, 0, 6);
  f = start_fetch(b, 0);
  assert_null(reg_fetch_entries(f, &ng));
  assert_int_equal(reg_fetch_missing(f), 4 + 97);
  bad_at = (size_t)(t_next(&rng) % 101);
  while (!reg_fetch_complete(f)) {
    size_t k = reg_fetch_wanted(f, wanted, 256), pick;
    dht_record r;
    assert_true(k > 0 && added < 101);
    pick = (size_t)(t_next(&rng) % k);
    record_with_key(b, wanted[pick], &r);
    if (added == bad_at || added == 0) offer_bad(f, &r, (size_t)t_next(&rng));
    assert_int_equal(reg_fetch_add(f, wanted[pick], r.payload, r.payload_len),
                     0);
    assert_int_equal(reg_fetch_add(f, wanted[pick], r.payload, r.payload_len),
                     REG_ERR_DUPLICATE);
    added++;
    assert_int_equal(reg_fetch_missing(f), 101 - added);
  }
  assert_int_equal(added, 101);
  assert_int_equal(reg_fetch_wanted(f, wanted, 256), 0);
  want = reg_batch_entries(b, &n);
  got = reg_fetch_entries(f, &ng);
  assert_int_equal(n, ng);
  assert_memory_equal(want, got, n * 8);
  assert_memory_equal(reg_fetch_manifest(f), reg_batch_manifest(b),
                      sizeof(reg_manifest));
  reg_fetch_free(f);
  reg_batch_free(b);
  free(wanted);
}

static void test_fetch_wanted_from_and_refusals(void **state) {
  nc_identity sender;
  reg_batch *b;
  reg_fetch *f = NULL;
  uint8_t keys[8][32];
  size_t pos = 0, len;
  dht_record mr;
  (void)state;
  t_identity(&sender, 0x48);
  b = t_build(&sender, 0, 2000, 0, 8); /* 20 data chunks, 1 hash list */
  f = start_fetch(b, 0);
  assert_int_equal(reg_fetch_wanted_from(f, &pos, keys, 8), 1);
  assert_int_equal(reg_fetch_wanted_from(f, &pos, keys, 8), 0);
  {
    dht_record r;
    record_with_key(b, reg_batch_manifest(b)->roots[0], &r);
    /* A data-chunk payload kind where a hash list belongs is refused
     * by hash first; feed the right one. */
    assert_int_equal(reg_fetch_add(f, r.key, r.payload, r.payload_len), 0);
  }
  pos = 0;
  assert_int_equal(reg_fetch_wanted_from(f, &pos, keys, 8), 8);
  assert_int_equal(reg_fetch_wanted_from(f, &pos, keys, 8), 8);
  assert_int_equal(reg_fetch_wanted_from(f, &pos, keys, 8), 4);
  reg_fetch_free(f);
  /* Manifest refusals: not enough PoW for a higher base, wrong type. */
  {
    const uint8_t *p = reg_batch_record(b, 0, &len);
    assert_int_equal(dht_record_decode(&mr, p, len), 0);
  }
  assert_int_equal(reg_fetch_new(&f, &mr, 30), REG_ERR_POW);
  assert_null(f);
  mr.type = REG_RECORD_CHUNK;
  assert_int_equal(reg_fetch_new(&f, &mr, 0), REG_ERR_MANIFEST);
  mr.type = REG_RECORD_BATCH;
  mr.author_pk[0] ^= 1; /* the key no longer matches the author */
  assert_int_equal(reg_fetch_new(&f, &mr, 0), REG_ERR_MANIFEST);
  reg_batch_free(b);
}

/* A signer who makes hundreds of child keys collide in the fetch's key
 * table gets the batch refused once the probe cap is reached, and the
 * refused hash list leaves the fetch unchanged. */
static void test_fetch_hostile_tree(void **state) {
  enum { LISTS = 11, KIDS = LISTS * REG_TREE_FANOUT };
  nc_identity sender;
  reg_manifest m;
  uint8_t lists[LISTS][REG_CHUNK_PAYLOAD_MAX], content[REG_CHUNK_CONTENT_MAX];
  uint8_t payload[REG_MANIFEST_PAYLOAD_MAX], rec[DHT_MAX_RECORD], key[32];
  size_t llen[LISTS], plen, len, refused = 0;
  t_rng rng = {21};
  dht_record r;
  reg_fetch *f = NULL;
  (void)state;
  t_identity(&sender, 0x49);
  sample_manifest(&m, (uint64_t)KIDS * REG_CHUNK_ENTRIES);
  assert_int_equal(m.depth, 1);
  assert_int_equal(m.n_roots, LISTS);
  for (size_t l = 0; l < LISTS; l++) {
    t_random(&rng, content, sizeof content);
    for (size_t k = 0; k < REG_TREE_FANOUT; k++) memset(content + 32 * k, 0, 8);
    assert_int_equal(reg_chunk_encode(REG_CHUNK_HASHES, content,
                                      sizeof content, lists[l],
                                      sizeof lists[l], &llen[l]),
                     0);
    reg_chunk_key(m.roots[l], lists[l], llen[l]);
  }
  assert_int_equal(reg_batch_pow_mine(&m, sender.pk,
                                      reg_batch_pow_bits(m.count, 0)),
                   0);
  assert_int_equal(reg_manifest_encode(&m, payload, sizeof payload, &plen), 0);
  reg_manifest_key(key, sender.pk, m.batch_id);
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, REG_RECORD_BATCH,
                                   key, payload, plen, &sender, T_NOW,
                                   T_NOW + T_TTL, 0),
                   0);
  assert_int_equal(dht_record_decode(&r, rec, len), 0);
  assert_int_equal(reg_fetch_new(&f, &r, 0), 0);
  for (size_t l = 0; l < LISTS; l++) {
    size_t missing = reg_fetch_missing(f);
    uint8_t k0[1][32], k1[1][32];
    size_t pos0 = 0, pos1 = 0, n0, n1;
    n0 = reg_fetch_wanted_from(f, &pos0, k0, 1);
    int rv = reg_fetch_add(f, m.roots[l], lists[l], llen[l]);
    if (rv == 0) continue;
    assert_int_equal(rv, REG_ERR_MALFORMED);
    assert_int_equal(reg_fetch_missing(f), missing);
    n1 = reg_fetch_wanted_from(f, &pos1, k1, 1);
    assert_int_equal(n0, n1);
    assert_memory_equal(k0, k1, 32);
    assert_int_equal(pos0, pos1);
    refused++;
  }
  assert_true(refused >= 1);
  assert_false(reg_fetch_complete(f));
  reg_fetch_free(f);
}

/* A batch announced more than a window ago is stale for running nodes;
 * reg_batch_reannounce gives it an index record of now (a new proof of
 * work, the same expiry) by the same key and leaves every other record as
 * it was; the file still decodes and verifies. Another key, or a time past
 * the expiry, is refused. */
static void test_reannounce(void **state) {
  nc_identity sender, other;
  uint8_t *file = NULL;
  size_t len, n_before;
  reg_batch *b, *back = NULL;
  const uint64_t later = T_NOW + 2 * REG_INDEX_WINDOW_S;
  (void)state;
  t_identity(&sender, 0x51);
  t_identity(&other, 0x52);
  b = t_build(&sender, 0, 3000, 6, 9);
  assert_true(reg_batch_announced(b) == reg_index_window(T_NOW));
  assert_false(reg_batch_stale(b, T_NOW + REG_INDEX_WINDOW_S));
  assert_true(reg_batch_stale(b, later));
  n_before = reg_batch_record_count(b);
  size_t mlen, clen;
  uint8_t manifest[DHT_MAX_RECORD], last[DHT_MAX_RECORD];
  const uint8_t *r0 = reg_batch_record(b, 0, &mlen);
  memcpy(manifest, r0, mlen);
  const uint8_t *rl = reg_batch_record(b, n_before - 1, &clen);
  memcpy(last, rl, clen);
  assert_int_equal(reg_batch_reannounce(b, &other, later, 6),
                   REG_ERR_INVALID_ARGUMENT);
  assert_int_equal(reg_batch_reannounce(b, &sender, T_NOW + T_TTL, 6),
                   REG_ERR_EXPIRED);
  assert_int_equal(reg_batch_reannounce(b, &sender, later, 6), 0);
  assert_true(reg_batch_announced(b) == reg_index_window(later));
  assert_false(reg_batch_stale(b, later));
  assert_int_equal(reg_batch_record_count(b), n_before);
  size_t l2;
  assert_memory_equal(reg_batch_record(b, 0, &l2), manifest, mlen);
  assert_memory_equal(reg_batch_record(b, n_before - 1, &l2), last, clen);
  dht_record ix;
  const uint8_t *rec = reg_batch_record(b, 1, &l2);
  assert_int_equal(dht_record_decode(&ix, rec, l2), 0);
  assert_true(ix.created == later && ix.expires == T_NOW + T_TTL);
  assert_int_equal(reg_batch_file_encode(b, &file, &len), 0);
  assert_int_equal(reg_batch_file_decode(&back, file, len, 0, 6, later), 0);
  assert_true(reg_batch_announced(back) == reg_index_window(later));
  free(file);
  reg_batch_free(back);
  reg_batch_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reannounce),
      cmocka_unit_test(test_manifest_round_trip),
      cmocka_unit_test(test_manifest_strict),
      cmocka_unit_test(test_pow_bits_and_shape),
      cmocka_unit_test(test_build_and_file_round_trip),
      cmocka_unit_test(test_build_dedup_and_args),
      cmocka_unit_test_setup_teardown(test_file_truncated, file_setup,
                                      file_teardown),
      cmocka_unit_test_setup_teardown(test_file_framing, file_setup,
                                      file_teardown),
      cmocka_unit_test_setup_teardown(test_file_tampered, file_setup,
                                      file_teardown),
      cmocka_unit_test_setup_teardown(test_file_wrong_sender, file_setup,
                                      file_teardown),
      cmocka_unit_test_setup_teardown(test_file_index_mismatch, file_setup,
                                      file_teardown),
      cmocka_unit_test(test_file_pow),
      cmocka_unit_test(test_file_not_sorted),
      cmocka_unit_test(test_fetch_random_order),
      cmocka_unit_test(test_fetch_wanted_from_and_refusals),
      cmocka_unit_test(test_fetch_hostile_tree),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
