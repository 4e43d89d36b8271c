/*
 * Internal: small helpers shared by the DHT engine modules: the XOR
 * metric on 256-bit IDs, overflow-safe time arithmetic, address prefixes
 * and binary search in sorted arrays. Everything is static inline; no
 * state.
 */
#ifndef NOINTRUDE_DHT_UTIL_H
#define NOINTRUDE_DHT_UTIL_H

#include <string.h>

#include <nointrude/dht.h>

/* dht_id_cpl returns the length of the common bit prefix of |a| and |b|
 * (0..256); 256 means equal IDs. */
static inline unsigned dht_id_cpl(const uint8_t a[DHT_ID_LEN],
                                  const uint8_t b[DHT_ID_LEN]) {
  for (unsigned i = 0; i < DHT_ID_LEN; i++) {
    unsigned x = (unsigned)(a[i] ^ b[i]);
    if (x == 0) continue;
    unsigned bits = i * 8;
    while (!(x & 0x80u)) {
      bits++;
      x <<= 1;
    }
    return bits;
  }
  return 8 * DHT_ID_LEN;
}

/* dht_id_cmp_dist compares the XOR distances of |a| and |b| to |target|:
 * negative if |a| is closer, 0 if equal (same ID), positive if farther. */
static inline int dht_id_cmp_dist(const uint8_t target[DHT_ID_LEN],
                                  const uint8_t a[DHT_ID_LEN],
                                  const uint8_t b[DHT_ID_LEN]) {
  for (unsigned i = 0; i < DHT_ID_LEN; i++) {
    uint8_t da = (uint8_t)(a[i] ^ target[i]);
    uint8_t db = (uint8_t)(b[i] ^ target[i]);
    if (da != db) return da < db ? -1 : 1;
  }
  return 0;
}

/* dht_time_add returns |t| + |d|, saturating at DHT_TIME_NONE. */
static inline dht_time dht_time_add(dht_time t, dht_time d) {
  return t >= DHT_TIME_NONE - d ? DHT_TIME_NONE : t + d;
}

/* dht_time_min returns the earlier of |a| and |b|. */
static inline dht_time dht_time_min(dht_time a, dht_time b) {
  return a < b ? a : b;
}

/* dht_addr_prefix writes the first |v4_bits| (IPv4) or |v6_bits| (IPv6)
 * bits of |a|'s IP into |out| (16 bytes, zero-padded) with the family in
 * out[15] for IPv4 so that v4 and v6 prefixes never compare equal. */
static inline void dht_addr_prefix(uint8_t out[16], const dht_addr *a,
                                   unsigned v4_bits, unsigned v6_bits) {
  unsigned bits = a->family == 4 ? v4_bits : v6_bits;
  memset(out, 0, 16);
  for (unsigned i = 0; i < bits / 8 && i < 16; i++) out[i] = a->ip[i];
  if (bits % 8 && bits / 8 < 16)
    out[bits / 8] = (uint8_t)(a->ip[bits / 8] & (0xffu << (8 - bits % 8)));
  if (a->family == 4) out[15] = 4;
}

/* dht_addr_same returns 1 if |a| and |b| are the same endpoint. Unlike
 * dht_addr_equal (addr.c) it is inline and ignores bytes past the
 * family's length. */
static inline int dht_addr_same(const dht_addr *a, const dht_addr *b) {
  size_t n = a->family == 4 ? 4 : 16;
  return a->family == b->family && a->port == b->port &&
         memcmp(a->ip, b->ip, n) == 0;
}

/* dht_sorted_find binary-searches the |n| elements of |arr|, sorted
 * ascending, for |key|; |cmp| compares element |i| of |arr| with |key|
 * (negative: the element sorts before it, 0: it is the key). Returns 1
 * and the element's index in |*pos| if found, else 0 and in |*pos| the
 * index where |key| would be inserted. Inline, so that a constant |cmp|
 * is inlined too. */
static inline int dht_sorted_find(const void *arr, size_t n, const void *key,
                                  int (*cmp)(const void *arr, size_t i,
                                             const void *key),
                                  size_t *pos) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp(arr, mid, key);
    if (c == 0) {
      *pos = mid;
      return 1;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *pos = lo;
  return 0;
}

#endif /* NOINTRUDE_DHT_UTIL_H */
