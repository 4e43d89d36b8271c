/*
 * Registry formats, part 4: opt-outs. Seal and open round trip; the wrong
 * key gives DECRYPT; too little proof of work gives POW; a sealed box
 * holding something other than a valid plaintext gives MALFORMED; sizes
 * outside the sealed range are refused before any decryption; and the
 * plaintext codec is strict.
 */
#include "internal.h"
#include "registry_testutil.h"

static void sample(reg_optout *o, uint64_t time_s) {
  memset(o, 0, sizeof *o);
  memset(o->batch_id, 0xab, sizeof o->batch_id);
  for (int i = 0; i < REG_FULL_HASH_LEN; i++) o->full_hash[i] = (uint8_t)i;
  o->time_s = time_s;
}

static void test_seal_open(void **state) {
  nc_identity sender, other;
  uint8_t sealed[REG_OPTOUT_SEALED_MAX];
  size_t len;
  reg_optout o, got;
  (void)state;
  t_identity(&sender, 0x61);
  t_identity(&other, 0x62);
  sample(&o, T_NOW);
  assert_int_equal(reg_optout_seal(sealed, &len, &o, sender.pk, 10), 0);
  assert_true(len >= REG_OPTOUT_SEALED_MIN && len <= REG_OPTOUT_SEALED_MAX);
  assert_true(reg_optout_pow_bits_of(&o) >= 10);
  assert_int_equal(
      reg_optout_open(&got, sealed, len, sender.pk, sender.sk, 10), 0);
  assert_memory_equal(&got, &o, sizeof o);
  /* The wrong key pair cannot open it. */
  assert_int_equal(reg_optout_open(&got, sealed, len, other.pk, other.sk, 10),
                   REG_ERR_DECRYPT);
  /* A flipped ciphertext byte. */
  sealed[len / 2] ^= 1;
  assert_int_equal(
      reg_optout_open(&got, sealed, len, sender.pk, sender.sk, 10),
      REG_ERR_DECRYPT);
  sealed[len / 2] ^= 1;
  /* Sizes outside the sealed range are malformed. */
  assert_int_equal(reg_optout_open(&got, sealed, REG_OPTOUT_SEALED_MIN - 1,
                                   sender.pk, sender.sk, 10),
                   REG_ERR_MALFORMED);
  assert_int_equal(reg_optout_open(&got, sealed, REG_OPTOUT_SEALED_MAX,
                                   sender.pk, sender.sk, 10),
                   REG_ERR_MALFORMED);
  assert_int_equal(reg_optout_seal(sealed, &len, &o, sender.pk, 33),
                   REG_ERR_INVALID_ARGUMENT);
}

static void test_bad_pow(void **state) {
  nc_identity sender;
  uint8_t sealed[REG_OPTOUT_SEALED_MAX];
  size_t len;
  reg_optout o, got;
  uint64_t t = T_NOW;
  (void)state;
  t_identity(&sender, 0x63);
  /* Find a time whose nonce 0 has fewer than 12 bits (almost any). */
  do sample(&o, t++);
  while (reg_optout_pow_bits_of(&o) >= 12);
  assert_int_equal(reg_optout_seal(sealed, &len, &o, sender.pk, 0), 0);
  assert_true(o.pow_nonce == 0);
  assert_int_equal(reg_optout_open(&got, sealed, len, sender.pk, sender.sk, 0),
                   0);
  assert_int_equal(
      reg_optout_open(&got, sealed, len, sender.pk, sender.sk, 12),
      REG_ERR_POW);
  /* Mined at 12 it passes 12; a nonce changed afterwards breaks it. */
  assert_int_equal(reg_optout_seal(sealed, &len, &o, sender.pk, 12), 0);
  assert_int_equal(
      reg_optout_open(&got, sealed, len, sender.pk, sender.sk, 12), 0);
  o.pow_nonce++;
  if (reg_optout_pow_bits_of(&o) < 12) {
    uint8_t plain[REG_OPTOUT_PLAIN_MAX];
    size_t plen;
    assert_int_equal(reg_optout_plain_encode(&o, plain, sizeof plain, &plen),
                     0);
    assert_int_equal(nc_seal(sealed, plain, plen, sender.pk), 0);
    assert_int_equal(reg_optout_open(&got, sealed, plen + NC_SEAL_OVERHEAD,
                                     sender.pk, sender.sk, 12),
                     REG_ERR_POW);
  }
}

static void test_malformed_plaintext(void **state) {
  nc_identity sender;
  uint8_t plain[REG_OPTOUT_PLAIN_MAX + 1], sealed[REG_OPTOUT_SEALED_MAX];
  size_t plen;
  reg_optout o, got;
  (void)state;
  t_identity(&sender, 0x64);
  sample(&o, 1);
  assert_int_equal(reg_optout_plain_encode(&o, plain, sizeof plain, &plen), 0);
  assert_int_equal(plen, REG_OPTOUT_PLAIN_MIN);
  assert_int_equal(reg_optout_plain_decode(&got, plain, plen), 0);
  assert_memory_equal(&got, &o, sizeof o);
  /* Version 2 inside a valid box. */
  plain[1] = 2;
  assert_int_equal(nc_seal(sealed, plain, plen, sender.pk), 0);
  assert_int_equal(reg_optout_open(&got, sealed, plen + NC_SEAL_OVERHEAD,
                                   sender.pk, sender.sk, 0),
                   REG_ERR_MALFORMED);
  plain[1] = 1;
  /* Trailing byte, truncation, a non-shortest integer. */
  plain[plen] = 0;
  assert_int_equal(reg_optout_plain_decode(&got, plain, plen + 1),
                   REG_ERR_MALFORMED);
  assert_int_equal(reg_optout_plain_decode(&got, plain, plen - 1),
                   REG_ERR_MALFORMED);
  plain[plen - 2] = 0xcc; /* time 1 as uint 8, nonce 0 as its value */
  plain[plen - 1] = 0x01;
  plain[plen] = 0x00;
  assert_int_equal(reg_optout_plain_decode(&got, plain, plen + 1),
                   REG_ERR_MALFORMED);
  /* The largest plaintext is REG_OPTOUT_PLAIN_MAX. */
  o.time_s = UINT64_MAX;
  o.pow_nonce = UINT64_MAX;
  assert_int_equal(reg_optout_plain_encode(&o, plain, sizeof plain, &plen), 0);
  assert_int_equal(plen, REG_OPTOUT_PLAIN_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seal_open),
      cmocka_unit_test(test_bad_pow),
      cmocka_unit_test(test_malformed_plaintext),
  };
  if (nc_init() != 0) return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
