/*
 * Registry formats, part 1: canonical addresses, the salted entry hash,
 * record keys (known answers computed with Python's hashlib, a separate
 * BLAKE2b implementation, and recomputed here with nc_hash), the record
 * types' key rules, and the small payload codecs (index, opt-out record,
 * evidence) including their largest encodings.
 */
#include "internal.h"
#include "registry_testutil.h"

/* ---- Canonical addresses ------------------------------------------------- */

static void canon_ok(const char *in, const char *want) {
  char out[REG_ADDRESS_MAX + 1];
  size_t len = 99;
  assert_int_equal(reg_address_canonical(out, &len, in, strlen(in)), 0);
  assert_string_equal(out, want);
  assert_int_equal(len, strlen(want));
}

static void canon_bad(const char *in, size_t len) {
  char out[REG_ADDRESS_MAX + 1];
  size_t out_len = 99;
  assert_int_equal(reg_address_canonical(out, &out_len, in, len),
                   REG_ERR_ADDRESS);
  assert_int_equal(out_len, 0);
  assert_string_equal(out, "");
}

static void test_canonical_accepts(void **state) {
  (void)state;
  canon_ok("alice@example.com", "alice@example.com");
  canon_ok("  Alice@Example.COM\t\r\n", "alice@example.com");
  canon_ok("\v\fBOB+tag@Mail.Example.Org ", "bob+tag@mail.example.org");
  canon_ok("a@b", "a@b");
  /* UTF-8 kept byte for byte, only ASCII letters folded. */
  canon_ok("J\xc3\x96RG@M\xc3\xbcnchen.DE", "j\xc3\x96rg@m\xc3\xbcnchen.de");
}

static void test_canonical_rejects(void **state) {
  char longest[REG_ADDRESS_MAX + 2];
  (void)state;
  canon_bad("alice.example.com", 17);      /* no '@' */
  canon_bad("a@b@c", 5);                   /* two '@' */
  canon_bad("@example.com", 12);           /* empty local part */
  canon_bad("alice@", 6);                  /* empty domain */
  canon_bad("@", 1);
  canon_bad("", 0);
  canon_bad("   \t ", 5);                  /* only whitespace */
  canon_bad("ali ce@example.com", 18);     /* inner space */
  canon_bad("alice@exa\tmple.com", 18);    /* inner tab */
  canon_bad("alice@exa\x01mple.com", 18);  /* control byte */
  canon_bad("alice@exa\x7fmple.com", 18);  /* DEL */
  canon_bad("alice@ex\0ample.com", 18);    /* NUL inside */
  canon_bad(NULL, 0);
  /* Exactly REG_ADDRESS_MAX bytes pass (even with whitespace around),
   * one more fails. */
  memset(longest, 'a', sizeof longest);
  longest[1] = '@';
  {
    char out[REG_ADDRESS_MAX + 1];
    size_t len;
    assert_int_equal(
        reg_address_canonical(out, &len, longest, REG_ADDRESS_MAX), 0);
    assert_int_equal(len, REG_ADDRESS_MAX);
  }
  canon_bad(longest, REG_ADDRESS_MAX + 1);
}

/* ---- Hashes and keys ----------------------------------------------------- */

static void hex(uint8_t *out, size_t n, const char *h) {
  assert_int_equal(nc_hex_decode(out, n, h), 0);
}

static void test_address_hash_known_answer(void **state) {
  uint8_t salt[REG_SALT_LEN], full[REG_FULL_HASH_LEN], want[32], again[32];
  uint64_t entry = 0;
  (void)state;
  for (int i = 0; i < 32; i++) salt[i] = (uint8_t)i;
  /* hashlib.blake2b(b"alice@example.com", key=bytes(range(32)),
   * digest_size=32) */
  hex(want, 32,
      "db991e0af62a5b7d9e0e5a5f11998b39f2ca17cbfb97aa709fd8829304b66f44");
  reg_address_hash(full, salt, "alice@example.com", 17);
  assert_memory_equal(full, want, 32);
  nc_hash(again, 32, salt, 32, (const uint8_t *)"alice@example.com", 17);
  assert_memory_equal(full, again, 32);
  for (int i = 0; i < 8; i++) entry = entry * 256 + want[i];
  assert_true(reg_entry_of(full) == entry);
  assert_true(reg_entry_of(full) == 0xdb991e0af62a5b7dull);
}

/* reg_entries_hash (midstate + four lanes) against libsodium's keyed
 * BLAKE2b through reg_address_hash, at every length 1..254 (one and two
 * message blocks, the 128/129 boundary), in groups that are not a
 * multiple of four, with lengths given and with strlen, through each
 * implementation path. */
static void test_entries_hash_matches(void **state) {
  enum { N = 2 * REG_ADDRESS_MAX + 7 };
  static char store[N][REG_ADDRESS_MAX + 1];
  const char *v[N];
  size_t len[N];
  uint64_t got[N], again[N];
  uint8_t salt[REG_SALT_LEN], full[REG_FULL_HASH_LEN];
  t_rng rng = {5};
  (void)state;
  for (int round = 0; round < 4; round++) {
    t_random(&rng, salt, sizeof salt);
    for (size_t i = 0; i < N; i++) {
      len[i] = 1 + (round % 2 ? (size_t)(t_next(&rng) % REG_ADDRESS_MAX)
                              : i % REG_ADDRESS_MAX);
      for (size_t k = 0; k < len[i]; k++)
        store[i][k] = (char)('a' + t_next(&rng) % 26);
      store[i][len[i]] = '\0';
      v[i] = store[i];
    }
    for (size_t n = 1; n <= N; n += (n < 9 ? 1 : 97)) {
      int path = (int)(n % 3); /* auto, lanes (default target), scalar */
      reg_entries_hash_path(got, salt, v, len, n, path);
      reg_entries_hash(again, salt, v, NULL, n);
      for (size_t i = 0; i < n; i++) {
        reg_address_hash(full, salt, v[i], len[i]);
        assert_true(got[i] == reg_entry_of(full));
        assert_true(again[i] == got[i]);
      }
    }
  }
}

/* tagged recomputes tag || a || b with nc_hash over one buffer. */
static void tagged(uint8_t out[32], const char *tag, const uint8_t *a,
                   size_t alen, const uint8_t *b, size_t blen) {
  uint8_t buf[128];
  size_t n = strlen(tag);
  memcpy(buf, tag, n);
  memcpy(buf + n, a, alen);
  if (blen) memcpy(buf + n + alen, b, blen);
  nc_hash(out, 32, NULL, 0, buf, n + alen + blen);
}

static void test_keys_known_answer(void **state) {
  uint8_t pk[32], bid[16], key[32], want[32], again[32], le[8];
  const uint8_t chunk[12] = {0x92, 0x00, 0xc4, 0x08, 0, 1, 2, 3, 4, 5, 6, 7};
  (void)state;
  memset(pk, 0x11, sizeof pk);
  memset(bid, 0x22, sizeof bid);
  reg_manifest_key(key, pk, bid);
  hex(want, 32,
      "57ed3179c19b58ea59e683f91bb5a44870d86d5da6b3e2d827d1598cbc17e85b");
  assert_memory_equal(key, want, 32);
  tagged(again, "nointrude-batch", pk, 32, bid, 16);
  assert_memory_equal(key, again, 32);

  reg_inbox_key(key, pk, bid);
  hex(want, 32,
      "0efab652aee22b3b572e2ba94805ac9e0e91cae6e452b26bed5a49523665c63f");
  assert_memory_equal(key, want, 32);

  reg_evidence_key(key, pk);
  hex(want, 32,
      "61d71b8ef125b93a1542e630d511409e943487fe63da8b2344a473aa185cd8d4");
  assert_memory_equal(key, want, 32);
  tagged(again, "nointrude-evidence", pk, 32, NULL, 0);
  assert_memory_equal(key, again, 32);

  assert_true(reg_index_window(1700000000ull) == 472222);
  assert_true(reg_index_window(3599) == 0 && reg_index_window(3600) == 1);
  reg_index_key(key, 472222);
  hex(want, 32,
      "6d9f2c92c0c1ad4ab2cfbadc287ae73311b701c0ac775b40fbc7b8559e7098b5");
  assert_memory_equal(key, want, 32);
  for (int i = 0; i < 8; i++) le[i] = (uint8_t)(472222ull >> (8 * i));
  tagged(again, "nointrude-index", le, 8, NULL, 0);
  assert_memory_equal(key, again, 32);

  reg_chunk_key(key, chunk, sizeof chunk);
  hex(want, 32,
      "cadcafc46bedf55d96f48a9977a57eb95fcfcca5a71cccc9a2f8b0f8624a3b87");
  assert_memory_equal(key, want, 32);
}

/* ---- Record types --------------------------------------------------------- */

typedef struct rt_fixture {
  nc_identity author, other;
  reg_types types; /* at RT_POW_BITS */
} rt_fixture;

#define RT_POW_BITS 8 /* the index proof of work in these tests */

static int verify_bytes(const rt_fixture *f, const uint8_t *rec, size_t len) {
  dht_record r;
  int rv = dht_record_decode(&r, rec, len);
  if (rv != 0) return rv;
  return dht_record_verify(&r, T_NOW, 0, f->types.t, REG_RECORD_TYPES);
}

/* check_rule makes a record of |type| with |payload| under the right key
 * and a wrong one and checks both verdicts. */
static void check_rule(const rt_fixture *f, const nc_identity *author,
                       uint8_t type, const uint8_t right[32],
                       const uint8_t *payload, size_t plen,
                       uint64_t created) {
  uint8_t rec[DHT_MAX_RECORD], wrong[32];
  size_t len;
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, type, right,
                                   payload, plen, author, created,
                                   created + 3600, 0),
                   0);
  assert_int_equal(verify_bytes(f, rec, len), 0);
  memcpy(wrong, right, 32);
  wrong[31] ^= 1;
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, type, wrong,
                                   payload, plen, author, created,
                                   created + 3600, 0),
                   0);
  assert_int_equal(verify_bytes(f, rec, len), DHT_ERR_KEY_RULE);
  /* A payload that does not parse is malformed, whatever the key. */
  assert_int_equal(reg_record_make(rec, sizeof rec, &len, type, right,
                                   payload, plen - 1, author, created,
                                   created + 3600, 0),
                   0);
  assert_int_equal(verify_bytes(f, rec, len), DHT_ERR_MALFORMED);
}

static void test_record_types(void **state) {
  rt_fixture f;
  uint8_t payload[DHT_MAX_RECORD], key[32], sealed[REG_OPTOUT_SEALED_MIN];
  size_t len;
  reg_index x = {.window = reg_index_window(T_NOW), .count = 5};
  reg_evidence ev = {.optout_time = 5, .entry = 7};
  reg_optout_record o = {.sealed = sealed, .sealed_len = sizeof sealed};
  (void)state;
  t_identity(&f.author, 0x31);
  t_identity(&f.other, 0x32);
  reg_types_init(&f.types, RT_POW_BITS);
  for (size_t i = 0; i < REG_RECORD_TYPES; i++) {
    const dht_record_type *t = &f.types.t[i];
    assert_int_equal(t->type, REG_RECORD_BATCH + i);
    assert_true(t->max_lifetime == REG_MAX_LIFETIME_S);
    assert_int_equal(t->multi, t->type >= REG_RECORD_INDEX);
    assert_int_equal(t->key_author_max,
                     t->type == REG_RECORD_INDEX ? REG_INDEX_PER_AUTHOR : 0);
  }
  /* Index: key from the window of |created|, proof of work by its
   * author over window, batch id and count. */
  memset(x.batch_id, 0x44, 16);
  assert_int_equal(reg_index_pow_mine(&x, f.author.pk, RT_POW_BITS), 0);
  assert_true(reg_index_pow_ok(&x, f.author.pk, RT_POW_BITS));
  assert_int_equal(reg_index_encode(&x, payload, sizeof payload, &len), 0);
  reg_index_key(key, x.window);
  check_rule(&f, &f.author, REG_RECORD_INDEX, key, payload, len, T_NOW);
  /* ... the same announcement signed by another author lacks the work
   * (the proof binds the author), and so does one for another count. */
  {
    uint8_t rec[DHT_MAX_RECORD], p2[REG_INDEX_PAYLOAD_MAX];
    size_t rlen, l2;
    reg_index y = x;
    unsigned refused = 0;
    for (int i = 0; i < 2; i++) { /* a proof can hold by chance: 2^-8 */
      assert_int_equal(reg_record_make(rec, sizeof rec, &rlen,
                                       REG_RECORD_INDEX, key, payload, len,
                                       i ? &f.author : &f.other, T_NOW,
                                       T_NOW + 60, 0),
                       0);
      refused += verify_bytes(&f, rec, rlen) == DHT_ERR_KEY_RULE;
    }
    assert_int_equal(refused, reg_index_pow_ok(&x, f.other.pk, RT_POW_BITS)
                                  ? 0 : 1);
    y.count = x.count + 1;
    assert_int_equal(reg_index_encode(&y, p2, sizeof p2, &l2), 0);
    assert_int_equal(reg_record_make(rec, sizeof rec, &rlen, REG_RECORD_INDEX,
                                     key, p2, l2, &f.author, T_NOW, T_NOW + 60,
                                     0),
                     0);
    assert_int_equal(verify_bytes(&f, rec, rlen),
                     reg_index_pow_ok(&y, f.author.pk, RT_POW_BITS)
                         ? 0 : DHT_ERR_KEY_RULE);
  }
  /* ... an index created in another window breaks the rule. */
  {
    uint8_t rec[DHT_MAX_RECORD];
    size_t rlen;
    assert_int_equal(reg_record_make(rec, sizeof rec, &rlen, REG_RECORD_INDEX,
                                     key, payload, len, &f.author,
                                     T_NOW - REG_INDEX_WINDOW_S,
                                     T_NOW + 60, 0),
                     0);
    assert_int_equal(verify_bytes(&f, rec, rlen), DHT_ERR_KEY_RULE);
  }
  /* Opt-out: the inbox of the payload's sender and batch. */
  memset(sealed, 0x55, sizeof sealed);
  memset(o.sender_pk, 0x66, 32);
  memset(o.batch_id, 0x77, 16);
  assert_int_equal(reg_optout_record_encode(&o, payload, sizeof payload, &len),
                   0);
  reg_inbox_key(key, o.sender_pk, o.batch_id);
  check_rule(&f, &f.author, REG_RECORD_OPTOUT, key, payload, len, T_NOW);
  /* Evidence: under the accused sender. */
  memcpy(ev.sender_pk, f.other.pk, 32);
  assert_int_equal(reg_evidence_encode(&ev, payload, sizeof payload, &len), 0);
  reg_evidence_key(key, f.other.pk);
  check_rule(&f, &f.author, REG_RECORD_EVIDENCE, key, payload, len, T_NOW);
}

static void test_record_types_batch_and_chunk(void **state) {
  rt_fixture f;
  nc_identity sender;
  reg_batch *b;
  dht_record r;
  const uint8_t *rec;
  size_t len;
  (void)state;
  t_identity(&f.author, 0x33);
  reg_types_init(&f.types, 0);
  t_identity(&sender, 0x34);
  b = t_build(&sender, 0, 300, 0, 7);
  /* Every record of a built batch passes its type's rules. */
  for (size_t i = 0; i < reg_batch_record_count(b); i++) {
    rec = reg_batch_record(b, i, &len);
    assert_true(len <= DHT_MAX_RECORD);
    assert_int_equal(verify_bytes(&f, rec, len), 0);
  }
  /* The manifest's key rule; re-signed by another author it breaks. */
  rec = reg_batch_record(b, 0, &len);
  assert_int_equal(dht_record_decode(&r, rec, len), 0);
  check_rule(&f, &sender, REG_RECORD_BATCH, r.key, r.payload, r.payload_len,
             T_NOW);
  {
    uint8_t out[DHT_MAX_RECORD];
    size_t olen;
    assert_int_equal(reg_record_make(out, sizeof out, &olen, REG_RECORD_BATCH,
                                     r.key, r.payload, r.payload_len,
                                     &f.author, T_NOW, T_NOW + 60, 0),
                     0);
    assert_int_equal(verify_bytes(&f, out, olen), DHT_ERR_KEY_RULE);
  }
  /* A chunk under the wrong key, or with unsorted entries. */
  rec = reg_batch_record(b, 2, &len);
  assert_int_equal(dht_record_decode(&r, rec, len), 0);
  {
    uint8_t payload[REG_CHUNK_PAYLOAD_MAX], key[32], out[DHT_MAX_RECORD];
    size_t olen;
    uint8_t t[8];
    check_rule(&f, &f.author, REG_RECORD_CHUNK, r.key, r.payload,
               r.payload_len, T_NOW);
    memcpy(payload, r.payload, r.payload_len);
    /* swap the first two entries of the data chunk (content at byte 5) */
    memcpy(t, payload + 5, 8);
    memcpy(payload + 5, payload + 13, 8);
    memcpy(payload + 13, t, 8);
    reg_chunk_key(key, payload, r.payload_len);
    assert_int_equal(reg_record_make(out, sizeof out, &olen, REG_RECORD_CHUNK,
                                     key, payload, r.payload_len, &f.author,
                                     T_NOW, T_NOW + 60, 0),
                     0);
    assert_int_equal(verify_bytes(&f, out, olen), DHT_ERR_MALFORMED);
  }
  reg_batch_free(b);
}

/* ---- Payload codecs -------------------------------------------------------- */

static void test_payload_codecs(void **state) {
  uint8_t buf[256], sealed[REG_OPTOUT_SEALED_MAX];
  size_t len;
  reg_index x = {.window = UINT64_MAX,
               .count = REG_BATCH_MAX_ENTRIES,
               .pow_nonce = UINT64_MAX},
            x2;
  reg_evidence e = {.optout_time = UINT64_MAX, .entry = UINT64_MAX}, e2;
  reg_optout_record o = {.sealed = sealed, .sealed_len = sizeof sealed}, o2;
  (void)state;
  memset(x.batch_id, 1, 16);
  memset(e.sender_pk, 2, 32);
  memset(e.optout_batch, 3, 16);
  memset(e.later_batch, 4, 16);
  memset(o.sender_pk, 5, 32);
  memset(o.batch_id, 6, 16);
  memset(sealed, 7, sizeof sealed);
  /* Largest encodings are exactly the advertised maxima. */
  assert_int_equal(reg_index_encode(&x, buf, sizeof buf, &len), 0);
  assert_int_equal(len, REG_INDEX_PAYLOAD_MAX);
  assert_int_equal(reg_index_decode(&x2, buf, len), 0);
  assert_memory_equal(&x, &x2, sizeof x);
  assert_int_equal(reg_index_decode(&x2, buf, len - 1), REG_ERR_MALFORMED);
  buf[len] = 0;
  assert_int_equal(reg_index_decode(&x2, buf, len + 1), REG_ERR_MALFORMED);
  assert_int_equal(reg_index_encode(&x, buf, len - 1, &len),
                   REG_ERR_TOO_LARGE);
  x.count = 0;
  assert_int_equal(reg_index_encode(&x, buf, sizeof buf, &len),
                   REG_ERR_INVALID_ARGUMENT);

  assert_int_equal(reg_evidence_encode(&e, buf, sizeof buf, &len), 0);
  assert_int_equal(len, REG_EVIDENCE_PAYLOAD_MAX);
  assert_int_equal(reg_evidence_decode(&e2, buf, len), 0);
  assert_memory_equal(&e, &e2, sizeof e);
  buf[0] = 0x94; /* four elements claimed */
  assert_int_equal(reg_evidence_decode(&e2, buf, len), REG_ERR_MALFORMED);

  assert_int_equal(reg_optout_record_encode(&o, buf, sizeof buf, &len), 0);
  assert_int_equal(len, REG_OPTOUT_RECORD_PAYLOAD_MAX);
  assert_int_equal(reg_optout_record_decode(&o2, buf, len), 0);
  assert_memory_equal(o2.sender_pk, o.sender_pk, 32);
  assert_memory_equal(o2.batch_id, o.batch_id, 16);
  assert_int_equal(o2.sealed_len, sizeof sealed);
  assert_memory_equal(o2.sealed, sealed, sizeof sealed);
  o.sealed_len = REG_OPTOUT_SEALED_MIN - 1;
  assert_int_equal(reg_optout_record_encode(&o, buf, sizeof buf, &len),
                   REG_ERR_INVALID_ARGUMENT);
}

/* The index proof of work's known answer (PROTOCOL.md 11.7). */
static void test_index_pow_known_answer(void **state) {
  reg_index x = {.window = 472222, .count = 5};
  uint8_t pk[NC_PK_LEN];
  (void)state;
  memset(pk, 0x11, sizeof pk);
  memset(x.batch_id, 0x44, sizeof x.batch_id);
  assert_int_equal(reg_index_pow_mine(&x, pk, 8), 0);
  assert_true(x.pow_nonce == 685);
  assert_int_equal(reg_index_pow_mine(&x, pk, 16), 0);
  assert_true(x.pow_nonce == 80644);
  assert_true(reg_index_pow_ok(&x, pk, 16));
  x.pow_nonce = 80643;
  assert_false(reg_index_pow_ok(&x, pk, 16));
  assert_int_equal(reg_index_pow_mine(&x, pk, 65), REG_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical_accepts),
      cmocka_unit_test(test_canonical_rejects),
      cmocka_unit_test(test_address_hash_known_answer),
      cmocka_unit_test(test_entries_hash_matches),
      cmocka_unit_test(test_keys_known_answer),
      cmocka_unit_test(test_record_types),
      cmocka_unit_test(test_record_types_batch_and_chunk),
      cmocka_unit_test(test_payload_codecs),
      cmocka_unit_test(test_index_pow_known_answer),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
