/*
 * Tests for dht/src/addr.c (numeric address parsing, formatting and
 * comparison) and dht/src/errors.c (error and drop-reason names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <nointrude/dht.h>

static void test_parse_v4(void **state) {
  dht_addr a;
  static const uint8_t ip[4] = {192, 0, 2, 17};
  (void)state;
  assert_int_equal(dht_addr_parse(&a, "192.0.2.17:4000"), 0);
  assert_int_equal(a.family, 4);
  assert_memory_equal(a.ip, ip, 4);
  assert_int_equal(a.port, 4000);
  assert_int_equal(dht_addr_parse(&a, "0.0.0.0:1"), 0);
  assert_int_equal(a.port, 1);
  assert_int_equal(dht_addr_parse(&a, "255.255.255.255:65535"), 0);
  assert_int_equal(a.port, 65535);
}

static void test_parse_v6(void **state) {
  dht_addr a;
  uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};
  (void)state;
  ip[15] = 1;
  assert_int_equal(dht_addr_parse(&a, "[2001:db8::1]:443"), 0);
  assert_int_equal(a.family, 6);
  assert_memory_equal(a.ip, ip, 16);
  assert_int_equal(a.port, 443);
  assert_int_equal(dht_addr_parse(&a, "[::1]:5"), 0);
  assert_int_equal(a.ip[15], 1);
  assert_int_equal(dht_addr_parse(&a, "[::ffff:192.0.2.1]:9"), 0);
  assert_int_equal(a.family, 6);
}

static void test_parse_rejects(void **state) {
  static const char *const bad[] = {
      "",
      "1.2.3.4",
      "1.2.3.4:",
      ":80",
      "1.2.3.4:0",
      "1.2.3.4:65536",
      "1.2.3.4:99999",
      "1.2.3.4:080",
      "1.2.3.4:80x",
      "1.2.3.4:+80",
      "1.2.3.4:-1",
      "1.2.3.4: 80",
      "1.2.3.4:80 ",
      " 1.2.3.4:80",
      "1.2.3.4:80:90",
      "01.2.3.4:80",
      "1.2.3:80",
      "1.2.3.4.5:80",
      "256.1.1.1:80",
      "localhost:80",
      "::1:80",
      "[::1]",
      "[::1]80",
      "[::1]:",
      "[::1]:0",
      "[::1]:70000",
      "[1.2.3.4]:80",
      "[fe80::1%eth0]:80",
      "[]:80",
      "[::1:80",
      "::1]:80",
      "[[::1]]:80",
      "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:80",
  };
  dht_addr a;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&a, 0xaa, sizeof a);
    if (dht_addr_parse(&a, bad[i]) != DHT_ERR_INVALID_ARGUMENT)
      fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(a.family, 0); /* cleared */
    assert_int_equal(a.port, 0);
  }
  assert_int_equal(dht_addr_parse(&a, NULL), DHT_ERR_INVALID_ARGUMENT);
  assert_int_equal(dht_addr_parse(NULL, "1.2.3.4:5"), DHT_ERR_INVALID_ARGUMENT);
}

static void test_format_roundtrip(void **state) {
  static const char *const good[] = {
      "1.2.3.4:5",    "127.0.0.1:65535", "[::1]:5",
      "[2001:db8::1]:443", "[::ffff:192.0.2.1]:9", "0.0.0.0:1",
  };
  char out[64];
  dht_addr a, b;
  (void)state;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(dht_addr_parse(&a, good[i]), 0);
    assert_string_equal(dht_addr_format(out, sizeof out, &a), good[i]);
    assert_int_equal(dht_addr_parse(&b, out), 0);
    assert_true(dht_addr_equal(&a, &b));
  }
}

static void test_format_edges(void **state) {
  char out[64], small[6];
  dht_addr a;
  (void)state;
  memset(&a, 0, sizeof a);
  a.family = 9;
  assert_string_equal(dht_addr_format(out, sizeof out, &a), "(invalid)");
  assert_int_equal(dht_addr_parse(&a, "10.0.0.1:80"), 0);
  assert_ptr_equal(dht_addr_format(small, sizeof small, &a), small);
  assert_string_equal(small, "10.0.");
  out[0] = 'x';
  dht_addr_format(out, 0, &a);
  assert_int_equal(out[0], 'x');
}

static void test_equal(void **state) {
  dht_addr a, b;
  (void)state;
  assert_int_equal(dht_addr_parse(&a, "10.0.0.1:80"), 0);
  b = a;
  assert_true(dht_addr_equal(&a, &b));
  b.ip[9] = 7; /* beyond the 4 IPv4 bytes: ignored */
  assert_true(dht_addr_equal(&a, &b));
  b.port = 81;
  assert_false(dht_addr_equal(&a, &b));
  b = a;
  b.ip[3] = 2;
  assert_false(dht_addr_equal(&a, &b));
  b = a;
  b.family = 6;
  assert_false(dht_addr_equal(&a, &b));
  assert_int_equal(dht_addr_parse(&a, "[::1]:80"), 0);
  b = a;
  assert_true(dht_addr_equal(&a, &b));
  b.ip[0] = 1;
  assert_false(dht_addr_equal(&a, &b));
  a.family = b.family = 0;
  assert_false(dht_addr_equal(&a, &a));
}

/* Every error code has its own text; unknown codes do not crash. */
static void test_strerror(void **state) {
  static const int codes[] = {
#define CODE(name, value, text) name,
      DHT_ERRORS(CODE)
#undef CODE
  };
  static const char *const texts[] = {
#define TEXT(name, value, text) text,
      DHT_ERRORS(TEXT)
#undef TEXT
  };
  (void)state;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    assert_string_equal(dht_strerror(codes[i]), texts[i]);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(dht_strerror(codes[i]), dht_strerror(codes[j]));
  }
  assert_string_equal(dht_strerror(0), "success");
  assert_string_equal(dht_strerror(1), "unknown error");
  assert_string_equal(dht_strerror(-100), "unknown error");
  assert_string_equal(dht_strerror(DHT_ERR_MALFORMED), "malformed encoding");
}

static void test_drop_names(void **state) {
  static const char *const names[] = {
#define NAME(name, text) text,
      DHT_DROP_REASONS(NAME)
#undef NAME
  };
  (void)state;
  assert_int_equal(sizeof names / sizeof names[0], DHT_DROP_COUNT);
  for (int i = 0; i < DHT_DROP_COUNT; i++)
    assert_string_equal(dht_drop_reason_name(i), names[i]);
  assert_string_equal(dht_drop_reason_name(DHT_DROP_REPLAY), "replay");
  assert_string_equal(dht_drop_reason_name(DHT_DROP_QUEUE_FULL), "queue_full");
  assert_string_equal(dht_drop_reason_name(-1), "unknown");
  assert_string_equal(dht_drop_reason_name(DHT_DROP_COUNT), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_v4),
      cmocka_unit_test(test_parse_v6),
      cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_format_roundtrip),
      cmocka_unit_test(test_format_edges),
      cmocka_unit_test(test_equal),
      cmocka_unit_test(test_strerror),
      cmocka_unit_test(test_drop_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
