/*
 * Canonical e-mail addresses and their salted entry hashes.
 *
 * The canonical form is deliberately simple (docs/PROTOCOL.md, "Registry
 * formats"): trim ASCII whitespace at both ends, lower-case ASCII
 * letters, exactly one '@' with something on both sides, no whitespace or
 * control byte inside, at most REG_ADDRESS_MAX bytes. Bytes >= 0x80
 * (UTF-8) are kept as they are: no Unicode folding, so two spellings of an
 * internationalised address are two addresses.
 */
#include <string.h>

#include "internal.h"

/* ASCII whitespace: space, TAB, LF, VT, FF, CR. */
static int is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

/* copy_lower copies |n| bytes lower-casing ASCII letters; returns the
 * number of '@' seen, or -1 at a whitespace or control byte. */
static int copy_lower(char *out, const unsigned char *in, size_t n) {
  int at = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = in[i];
    if (is_space(c) || is_control(c)) return -1;
    if (c == '@') at++;
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return at;
}

int reg_address_canonical(char out[REG_ADDRESS_MAX + 1], size_t *out_len,
                          const char *in, size_t len) {
  const unsigned char *p = (const unsigned char *)in;
  const char *at;
  size_t n;
  if (out) out[0] = '\0';
  if (out_len) *out_len = 0;
  if (!out || !out_len || !in) return REG_ERR_ADDRESS;
  while (len > 0 && is_space(p[0])) p++, len--;
  while (len > 0 && is_space(p[len - 1])) len--;
  n = len;
  if (n == 0 || n > REG_ADDRESS_MAX || copy_lower(out, p, n) != 1) {
    out[0] = '\0';
    return REG_ERR_ADDRESS;
  }
  out[n] = '\0';
  at = memchr(out, '@', n);
  if (at == out || at == out + n - 1) {
    out[0] = '\0';
    return REG_ERR_ADDRESS;
  }
  *out_len = n;
  return 0;
}

void reg_address_hash(uint8_t full[REG_FULL_HASH_LEN],
                      const uint8_t salt[REG_SALT_LEN], const char *canon,
                      size_t len) {
  nc_hash(full, REG_FULL_HASH_LEN, salt, REG_SALT_LEN,
          (const uint8_t *)canon, len);
}

uint64_t reg_entry_of(const uint8_t full[REG_FULL_HASH_LEN]) {
  return reg_get_be64(full);
}
