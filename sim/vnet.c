/*
 * Virtual network: address pools, the address -> endpoint table, and the
 * latency and loss models described in vnet.h.
 *
 * The address table is open addressing with linear probing over a power-
 * of-two array at most half full; the key is (ip << 16 | port) + 1 so 0
 * marks a free slot. Memory: 12 bytes per slot, 24 per endpoint, plus the
 * 20-byte dht_addr per endpoint.
 */
#include "vnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MAX_DELAY_MS 5000.0
#define MIN_DELAY_MS 0.1
#define ATTACH_TRIES 64

/* ---- Latency descriptions --------------------------------------------- */

/* parse_ms reads "40", "40ms", "1.5s" or "800us" as milliseconds. */
static int parse_ms(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v >= 0.0) || v > 1e7)
    return SIM_ERR_SCENARIO;
  if (*end == '\0' || strcmp(end, "ms") == 0)
    *out = v;
  else if (strcmp(end, "s") == 0)
    *out = v * 1000.0;
  else if (strcmp(end, "us") == 0)
    *out = v / 1000.0;
  else
    return SIM_ERR_SCENARIO;
  return 0;
}

int sim_latency_parse(sim_latency *out, const char *text) {
  char kind[16], a[32], b[32], extra[2];
  memset(out, 0, sizeof *out);
  out->max_ms = MAX_DELAY_MS;
  int n = sscanf(text, "%15s %31s %31s %1s", kind, a, b, extra);
  if (n == 1) { /* a bare delay: constant */
    out->kind = SIM_LATENCY_CONSTANT;
    return parse_ms(kind, &out->a_ms);
  }
  if (n == 2 && strcmp(kind, "constant") == 0) {
    out->kind = SIM_LATENCY_CONSTANT;
    return parse_ms(a, &out->a_ms);
  }
  if (n != 3)
    return SIM_ERR_SCENARIO;
  if (strcmp(kind, "uniform") == 0) {
    out->kind = SIM_LATENCY_UNIFORM;
    if (parse_ms(a, &out->a_ms) != 0 || parse_ms(b, &out->b_ms) != 0 ||
        out->b_ms < out->a_ms)
      return SIM_ERR_SCENARIO;
    return 0;
  }
  if (strcmp(kind, "lognormal") == 0) {
    char *end;
    out->kind = SIM_LATENCY_LOGNORMAL;
    if (parse_ms(a, &out->a_ms) != 0 || out->a_ms <= 0.0)
      return SIM_ERR_SCENARIO;
    out->b_ms = strtod(b, &end);
    if (end == b || *end != '\0' || !(out->b_ms >= 0.0) || out->b_ms > 5.0)
      return SIM_ERR_SCENARIO;
    return 0;
  }
  return SIM_ERR_SCENARIO;
}

void sim_latency_format(char *out, size_t cap, const sim_latency *lat) {
  switch (lat->kind) {
  case SIM_LATENCY_UNIFORM:
    snprintf(out, cap, "uniform %gms %gms", lat->a_ms, lat->b_ms);
    break;
  case SIM_LATENCY_LOGNORMAL:
    snprintf(out, cap, "lognormal %gms %g", lat->a_ms, lat->b_ms);
    break;
  default:
    snprintf(out, cap, "constant %gms", lat->a_ms);
    break;
  }
}

/* ---- Setup ------------------------------------------------------------ */

int sim_vnet_init(sim_vnet *net, uint64_t seed, const sim_latency *lat,
                  double jitter, double loss, uint16_t port,
                  uint32_t max_endpoints) {
  memset(net, 0, sizeof *net);
  if (lat == NULL || !(jitter >= 0.0) || !(loss >= 0.0) || loss > 1.0 ||
      max_endpoints == 0 || max_endpoints > (UINT32_MAX >> 2) || port == 0)
    return SIM_ERR_INVALID_ARGUMENT;
  net->seed = seed;
  net->latency = *lat;
  net->jitter = jitter;
  net->loss = loss;
  net->port = port;
  net->max_endpoints = max_endpoints;
  sim_rng_stream(&net->rng, seed, "net", 0);
  sim_rng_stream(&net->addr_rng, seed, "addr", 0);
  net->slots = 16;
  while (net->slots < (size_t)max_endpoints * 2)
    net->slots *= 2;
  net->keys = calloc(net->slots, sizeof *net->keys);
  net->vals = calloc(net->slots, sizeof *net->vals);
  net->addrs = calloc(max_endpoints, sizeof *net->addrs);
  if (net->keys == NULL || net->vals == NULL || net->addrs == NULL) {
    sim_vnet_free(net);
    return SIM_ERR_NOMEM;
  }
  return 0;
}

void sim_vnet_free(sim_vnet *net) {
  free(net->keys);
  free(net->vals);
  free(net->addrs);
  net->keys = NULL;
  net->vals = NULL;
  net->addrs = NULL;
}

/* usable_first_octet rejects reserved, private and multicast ranges. */
static int usable_first_octet(unsigned a) {
  static const uint8_t reserved[] = {0, 10, 100, 127, 169, 172, 192, 198, 203};
  if (a == 0 || a >= 224)
    return 0;
  for (size_t i = 0; i < sizeof reserved; i++)
    if (a == reserved[i])
      return 0;
  return 1;
}

/* pick16 draws an unused, usable /16 prefix (a << 8 | b). */
static int pick16(sim_vnet *net, uint32_t *out) {
  for (int tries = 0; tries < 100000; tries++) {
    uint32_t p = (uint32_t)sim_rng_below(&net->addr_rng, 65536);
    if (!usable_first_octet(p >> 8) || (net->used16[p >> 3] & (1u << (p & 7))))
      continue;
    net->used16[p >> 3] |= (uint8_t)(1u << (p & 7));
    *out = p;
    return 0;
  }
  return SIM_ERR_ADDRESSES;
}

/* pick_subnets writes |n24| distinct third octets under /16 |p16|. */
static void pick_subnets(sim_vnet *net, uint32_t p16, uint32_t n24,
                         uint32_t *out) {
  uint8_t used[32] = {0};
  for (uint32_t i = 0; i < n24; i++) {
    uint32_t c;
    do
      c = (uint32_t)sim_rng_below(&net->addr_rng, 256);
    while (used[c >> 3] & (1u << (c & 7)));
    used[c >> 3] |= (uint8_t)(1u << (c & 7));
    out[i] = p16 << 8 | c;
  }
}

int sim_vnet_pool_new(sim_vnet *net, sim_pool *pool, uint32_t n16,
                      uint32_t n24) {
  memset(pool, 0, sizeof *pool);
  if (n16 == 0 || n16 > 40000 || n24 == 0 || n24 > 256)
    return SIM_ERR_INVALID_ARGUMENT;
  pool->subnets = calloc((size_t)n16 * n24, sizeof *pool->subnets);
  if (pool->subnets == NULL)
    return SIM_ERR_NOMEM;
  for (uint32_t i = 0; i < n16; i++) {
    uint32_t p16;
    int rv = pick16(net, &p16);
    if (rv != 0) {
      sim_pool_free(pool);
      return rv;
    }
    pick_subnets(net, p16, n24, pool->subnets + (size_t)i * n24);
  }
  pool->n16 = n16;
  pool->n24 = n24;
  pool->n_subnets = n16 * n24;
  return 0;
}

void sim_pool_free(sim_pool *pool) {
  free(pool->subnets);
  memset(pool, 0, sizeof *pool);
}

/* ---- The address table ------------------------------------------------ */

static uint64_t addr_key(const dht_addr *a) {
  uint64_t ip = (uint64_t)a->ip[0] << 24 | (uint64_t)a->ip[1] << 16 |
                (uint64_t)a->ip[2] << 8 | a->ip[3];
  return ((ip << 16) | a->port) + 1;
}

/* slot_of returns the slot holding |key| or the free slot it would take. */
static size_t slot_of(const sim_vnet *net, uint64_t key) {
  size_t mask = net->slots - 1;
  size_t i = (size_t)sim_mix64(key) & mask;
  while (net->keys[i] != 0 && net->keys[i] != key)
    i = (i + 1) & mask;
  return i;
}

uint32_t sim_vnet_find(const sim_vnet *net, const dht_addr *addr) {
  if (addr->family != 4)
    return SIM_NO_ENDPOINT;
  size_t i = slot_of(net, addr_key(addr));
  return net->keys[i] != 0 ? net->vals[i] : SIM_NO_ENDPOINT;
}

const dht_addr *sim_vnet_addr(const sim_vnet *net, uint32_t endpoint) {
  SIM_ASSERT(endpoint < net->n_endpoints);
  return &net->addrs[endpoint];
}

/* draw_addr places a candidate on a random /24 of |pool|; after half the
 * tries it also varies the port (several endpoints behind one address). */
static void draw_addr(sim_vnet *net, const sim_pool *pool, int attempt,
                      dht_addr *a) {
  uint32_t subnet =
      pool->subnets[sim_rng_below(&net->addr_rng, pool->n_subnets)];
  memset(a, 0, sizeof *a);
  a->family = 4;
  a->ip[0] = (uint8_t)(subnet >> 16);
  a->ip[1] = (uint8_t)(subnet >> 8);
  a->ip[2] = (uint8_t)subnet;
  a->ip[3] = (uint8_t)(1 + sim_rng_below(&net->addr_rng, 254));
  a->port = net->port;
  if (attempt >= ATTACH_TRIES / 2)
    a->port = (uint16_t)(1024 + sim_rng_below(&net->addr_rng, 64512));
}

int sim_vnet_attach(sim_vnet *net, const sim_pool *pool, uint32_t *endpoint,
                    dht_addr *addr) {
  if (net->n_endpoints >= net->max_endpoints)
    return SIM_ERR_LIMIT;
  if (pool == NULL || pool->n_subnets == 0)
    return SIM_ERR_INVALID_ARGUMENT;
  for (int attempt = 0; attempt < ATTACH_TRIES; attempt++) {
    dht_addr a;
    draw_addr(net, pool, attempt, &a);
    uint64_t key = addr_key(&a);
    size_t i = slot_of(net, key);
    if (net->keys[i] != 0)
      continue; /* taken: draw again */
    net->keys[i] = key;
    net->vals[i] = net->n_endpoints;
    net->addrs[net->n_endpoints] = a;
    *endpoint = net->n_endpoints++;
    *addr = a;
    return 0;
  }
  return SIM_ERR_ADDRESSES;
}

/* ---- Delay and loss --------------------------------------------------- */

static double clamp_ms(double ms, double max_ms) {
  if (!(ms >= MIN_DELAY_MS))
    return MIN_DELAY_MS;
  return ms > max_ms ? max_ms : ms;
}

uint64_t sim_vnet_base_delay(const sim_vnet *net, uint32_t a, uint32_t b) {
  uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
  uint64_t h = sim_mix64(net->seed ^ sim_mix64(lo << 32 | hi));
  const sim_latency *lat = &net->latency;
  double ms;

  switch (lat->kind) {
  case SIM_LATENCY_UNIFORM:
    ms = lat->a_ms + (lat->b_ms - lat->a_ms) * sim_unit_from_bits(h);
    break;
  case SIM_LATENCY_LOGNORMAL: {
    double z = sim_normal_from_bits(h, sim_mix64(h ^ UINT64_C(0x5bd1e995)));
    ms = lat->a_ms * exp(lat->b_ms * z);
    break;
  }
  default:
    ms = lat->a_ms;
    break;
  }
  return (uint64_t)(clamp_ms(ms, lat->max_ms) * 1e6);
}

int sim_vnet_transit(sim_vnet *net, uint32_t src, uint32_t dst, size_t len,
                     uint64_t *delay) {
  net->stats.sent++;
  net->stats.bytes += len;
  if (net->loss > 0.0 && sim_rng_chance(&net->rng, net->loss)) {
    net->stats.lost++;
    return 0;
  }
  uint64_t base = sim_vnet_base_delay(net, src, dst);
  *delay = base;
  if (net->jitter > 0.0)
    *delay += (uint64_t)((double)base * net->jitter * sim_rng_unit(&net->rng));
  return 1;
}
