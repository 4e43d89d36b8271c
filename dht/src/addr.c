/*
 * Network addresses as the DHT sees them: a family (4 or 6), the IP in
 * network order and a host-order port. Parsing and formatting accept only
 * numeric literals ("192.0.2.1:4000", "[2001:db8::1]:4000"): the core
 * never resolves names. inet_pton/inet_ntop are pure conversions, no I/O.
 */
#define _POSIX_C_SOURCE 200809L

#include <nointrude/dht.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Longest HOST part we accept: a full IPv6 literal is at most 45 chars. */
#define HOST_MAX 46

static size_t ip_len(uint8_t family) { return family == 4 ? 4 : 16; }

int dht_addr_equal(const dht_addr *a, const dht_addr *b) {
  if (a->family != b->family || a->port != b->port) return 0;
  if (a->family != 4 && a->family != 6) return 0;
  return memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

char *dht_addr_format(char *out, size_t cap, const dht_addr *addr) {
  char host[INET6_ADDRSTRLEN];
  int af = addr->family == 4 ? AF_INET : AF_INET6;
  if (cap == 0) return out;
  if ((addr->family != 4 && addr->family != 6) ||
      !inet_ntop(af, addr->ip, host, sizeof host)) {
    snprintf(out, cap, "(invalid)");
    return out;
  }
  /* snprintf truncates to |cap|; callers pass >= 64 bytes, which always
   * fits "[" + 45 + "]:" + 5 + NUL. */
  if (addr->family == 4)
    snprintf(out, cap, "%s:%u", host, (unsigned)addr->port);
  else
    snprintf(out, cap, "[%s]:%u", host, (unsigned)addr->port);
  return out;
}

/* parse_port reads 1..65535 written as 1-5 decimal digits with no sign,
 * no leading zero and nothing after. Returns 0 or -1. */
static int parse_port(uint16_t *out, const char *s) {
  unsigned long v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 5 || s[0] == '0') return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > 65535) return -1;
  *out = (uint16_t)v;
  return 0;
}

/* copy_host copies |len| bytes of |s| into |host| as a C string, refusing
 * empty or overlong hosts. Returns 0 or -1. */
static int copy_host(char host[HOST_MAX], const char *s, size_t len) {
  if (len == 0 || len >= HOST_MAX) return -1;
  memcpy(host, s, len);
  host[len] = '\0';
  return 0;
}

static int parse_v6(dht_addr *out, const char *text) {
  char host[HOST_MAX];
  const char *close = strchr(text, ']');
  if (!close || close[1] != ':') return -1;
  if (copy_host(host, text + 1, (size_t)(close - text - 1)) != 0) return -1;
  if (inet_pton(AF_INET6, host, out->ip) != 1) return -1;
  out->family = 6;
  return parse_port(&out->port, close + 2);
}

static int parse_v4(dht_addr *out, const char *text) {
  char host[HOST_MAX];
  const char *colon = strchr(text, ':');
  if (!colon) return -1;
  if (copy_host(host, text, (size_t)(colon - text)) != 0) return -1;
  if (inet_pton(AF_INET, host, out->ip) != 1) return -1;
  out->family = 4;
  return parse_port(&out->port, colon + 1);
}

int dht_addr_parse(dht_addr *out, const char *text) {
  int rv;
  if (!out) return DHT_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (!text) return DHT_ERR_INVALID_ARGUMENT;
  rv = text[0] == '[' ? parse_v6(out, text) : parse_v4(out, text);
  if (rv != 0) {
    memset(out, 0, sizeof *out);
    return DHT_ERR_INVALID_ARGUMENT;
  }
  return 0;
}
