/*
 * Virtual network: address pools, the address -> endpoint table, the
 * latency and loss models and the access-link serialisers described in
 * vnet.h.
 *
 * The address table is open addressing with linear probing over a power-
 * of-two array at most half full. An IPv4 key is (ip << 16 | port) + 1,
 * exact and below 2^48, so 0 marks a free slot; an IPv6 key is a 63-bit
 * hash of address and port with the top bit set, so the two never meet,
 * and a v6 match is confirmed against the stored address. Memory: 12
 * bytes per slot, 24 per endpoint, plus the 20-byte dht_addr per endpoint
 * (and a 40-byte sim_link per endpoint once a pool limits bandwidth).
 */
#include "vnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#define MAX_DELAY_MS 5000.0
#define MIN_DELAY_MS 0.1
#define ATTACH_TRIES 64
#define PICK_TRIES 100000   /* draws for an unused prefix */
#define SUBNETS_MAX 256     /* /24s per /16, /48s per /32 */
#define V6_FIRST 0x2001u    /* first /16 of the v6 range we draw from */
#define V6_SPAN 0x0c0fu     /* first hextets: 0x2001 .. 0x2c0f */
#define V6_SUBNET64_MAX 16  /* /64 numbers used under a /48 */
#define NS_PER_BYTE_BIT 8000000000ull /* 8 bits x 1e9 ns */

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
  free(net->links);
  free(net->used32);
  net->keys = NULL;
  net->vals = NULL;
  net->addrs = NULL;
  net->links = NULL;
  net->used32 = NULL;
}

/* ---- Bit rates ------------------------------------------------------- */

int sim_rate_parse(const char *text, uint64_t *bps) {
  static const struct {
    const char *unit;
    double mult;
  } units[] = {{"", 1},       {"bit", 1},     {"kbit", 1e3},
               {"mbit", 1e6}, {"gbit", 1e9}};
  char *end;
  if (strcasecmp(text, "off") == 0) {
    *bps = 0;
    return 0;
  }
  double v = strtod(text, &end);
  if (end == text || !(v >= 0.0))
    return SIM_ERR_SCENARIO;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(end, units[i].unit) != 0)
      continue;
    double r = v * units[i].mult;
    if (r > 1e12 || (r > 0 && r < 1000)) /* 1 kbit/s .. 1 Tbit/s */
      return SIM_ERR_SCENARIO;
    *bps = (uint64_t)(r + 0.5);
    return 0;
  }
  return SIM_ERR_SCENARIO;
}

void sim_rate_format(char *out, size_t cap, uint64_t bps) {
  if (bps == 0)
    snprintf(out, cap, "off");
  else if (bps % 1000000000 == 0)
    snprintf(out, cap, "%llugbit", (unsigned long long)(bps / 1000000000));
  else if (bps >= 1000000)
    snprintf(out, cap, "%gmbit", (double)bps / 1e6);
  else
    snprintf(out, cap, "%gkbit", (double)bps / 1e3);
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
  for (int tries = 0; tries < PICK_TRIES; tries++) {
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

/* make_v4 draws |n16| /16s with |n24| /24s each into |pool|. */
static int make_v4(sim_vnet *net, sim_pool *pool, uint32_t n16, uint32_t n24) {
  pool->subnets = calloc((size_t)n16 * n24, sizeof *pool->subnets);
  if (pool->subnets == NULL)
    return SIM_ERR_NOMEM;
  for (uint32_t i = 0; i < n16; i++) {
    uint32_t p16;
    int rv = pick16(net, &p16);
    if (rv != 0)
      return rv;
    pick_subnets(net, p16, n24, pool->subnets + (size_t)i * n24);
  }
  pool->n16 = n16;
  pool->n24 = n24;
  pool->n_subnets = n16 * n24;
  return 0;
}

/* used32_add inserts |p| into the set of /32s handed out. Returns 1 if
 * it was new, 0 if already there, SIM_ERR_NOMEM. */
static int used32_add(sim_vnet *net, uint32_t p) {
  if (2 * (net->used32_n + 1) > net->used32_cap) {
    size_t cap = net->used32_cap ? 2 * net->used32_cap : 1024;
    uint32_t *t = calloc(cap, sizeof *t), *old = net->used32;
    if (t == NULL)
      return SIM_ERR_NOMEM;
    for (size_t i = 0; i < net->used32_cap; i++) {
      if (old[i] == 0)
        continue;
      size_t j = (size_t)sim_mix64(old[i] - 1u) & (cap - 1);
      while (t[j] != 0)
        j = (j + 1) & (cap - 1);
      t[j] = old[i];
    }
    free(old);
    net->used32 = t;
    net->used32_cap = cap;
  }
  size_t mask = net->used32_cap - 1, j = (size_t)sim_mix64(p) & mask;
  while (net->used32[j] != 0) {
    if (net->used32[j] == p + 1u)
      return 0;
    j = (j + 1) & mask;
  }
  net->used32[j] = p + 1u;
  net->used32_n++;
  return 1;
}

/* usable_v6_32 rejects special-purpose /32s of the range we draw from. */
static int usable_v6_32(uint32_t p) {
  uint32_t hi = p >> 16, lo = p & 0xffff;
  if (hi == 0x2002)
    return 0; /* 6to4 */
  return hi != 0x2001 || (lo >= 0x0200 && lo != 0x0db8);
}

/* pick32 draws an unused, usable /32 prefix (the first 32 bits). */
static int pick32(sim_vnet *net, uint32_t *out) {
  for (int tries = 0; tries < PICK_TRIES; tries++) {
    uint32_t p = (uint32_t)((V6_FIRST + sim_rng_below(&net->addr_rng,
                                                      V6_SPAN)) << 16 |
                            sim_rng_below(&net->addr_rng, 65536));
    if (!usable_v6_32(p))
      continue;
    int rv = used32_add(net, p);
    if (rv < 0)
      return rv;
    if (rv == 1) {
      *out = p;
      return 0;
    }
  }
  return SIM_ERR_ADDRESSES;
}

/* make_v6 draws |n32| /32s with |n48| distinct /48s each into |pool|. */
static int make_v6(sim_vnet *net, sim_pool *pool, uint32_t n32, uint32_t n48) {
  pool->subnets6 = calloc((size_t)n32 * n48, sizeof *pool->subnets6);
  if (pool->subnets6 == NULL)
    return SIM_ERR_NOMEM;
  for (uint32_t i = 0; i < n32; i++) {
    uint32_t p32;
    int rv = pick32(net, &p32);
    if (rv != 0)
      return rv;
    uint64_t *row = pool->subnets6 + (size_t)i * n48;
    for (uint32_t j = 0; j < n48; j++) {
      uint64_t s;
      int fresh;
      do { /* n48 <= 256 of 65536 third hextets: few redraws */
        s = (uint64_t)p32 << 16 | sim_rng_below(&net->addr_rng, 65536);
        fresh = 1;
        for (uint32_t k = 0; k < j && fresh; k++)
          fresh = row[k] != s;
      } while (!fresh);
      row[j] = s;
    }
  }
  pool->n32 = n32;
  pool->n48 = n48;
  pool->n_subnets6 = n32 * n48;
  return 0;
}

static int bandwidth_ok(const sim_bandwidth *bw) {
  if (bw->up_bps == 0 && bw->down_bps == 0)
    return 1;
  return bw->queue_bytes >= DHT_MAX_DATAGRAM && bw->queue_bytes <= SIM_QUEUE_MAX;
}

static int count_ok(uint32_t n, uint32_t sub, uint32_t max) {
  return n > 0 && n <= max && sub > 0 && sub <= SUBNETS_MAX;
}

int sim_vnet_pool_make(sim_vnet *net, sim_pool *pool,
                       const sim_pool_spec *spec) {
  int want4 = spec->v6_fraction < 1.0, want6 = spec->v6_fraction > 0.0;
  int rv = 0;
  memset(pool, 0, sizeof *pool);
  if (!(spec->v6_fraction >= 0.0) || spec->v6_fraction > 1.0 ||
      (want4 && !count_ok(spec->n16, spec->n24, 40000)) ||
      (want6 && !count_ok(spec->n32, spec->n48, 1000000)) ||
      !bandwidth_ok(&spec->bw))
    return SIM_ERR_INVALID_ARGUMENT;
  if (want4)
    rv = make_v4(net, pool, spec->n16, spec->n24);
  if (rv == 0 && want6)
    rv = make_v6(net, pool, spec->n32, spec->n48);
  if (rv != 0) {
    sim_pool_free(pool);
    return rv;
  }
  pool->v6_fraction = spec->v6_fraction;
  pool->bw = spec->bw;
  return 0;
}

int sim_vnet_pool_new(sim_vnet *net, sim_pool *pool, uint32_t n16,
                      uint32_t n24) {
  sim_pool_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.n16 = n16;
  spec.n24 = n24;
  return sim_vnet_pool_make(net, pool, &spec);
}

void sim_pool_free(sim_pool *pool) {
  free(pool->subnets);
  free(pool->subnets6);
  memset(pool, 0, sizeof *pool);
}

/* ---- The address table ------------------------------------------------ */

/* addr_key: exact for IPv4, a hash with the top bit set for IPv6. */
static uint64_t addr_key(const dht_addr *a) {
  if (a->family == 4) {
    uint64_t ip = (uint64_t)a->ip[0] << 24 | (uint64_t)a->ip[1] << 16 |
                  (uint64_t)a->ip[2] << 8 | a->ip[3];
    return ((ip << 16) | a->port) + 1;
  }
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; i++) {
    hi = hi << 8 | a->ip[i];
    lo = lo << 8 | a->ip[8 + i];
  }
  return sim_mix64(hi ^ sim_mix64(lo ^ a->port)) | UINT64_C(1) << 63;
}

/* same_addr compares family, the 16 IP bytes and port (no dht/ call: the
 * network links without the engine in its unit test). */
static int same_addr(const dht_addr *a, const dht_addr *b) {
  return a->family == b->family && a->port == b->port &&
         memcmp(a->ip, b->ip, sizeof a->ip) == 0;
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
  if (addr->family != 4 && addr->family != 6)
    return SIM_NO_ENDPOINT;
  size_t i = slot_of(net, addr_key(addr));
  if (net->keys[i] == 0)
    return SIM_NO_ENDPOINT;
  uint32_t e = net->vals[i];
  /* a v6 key is a hash: confirm (a colliding address was never stored) */
  if (addr->family == 6 && !same_addr(&net->addrs[e], addr))
    return SIM_NO_ENDPOINT;
  return e;
}

const dht_addr *sim_vnet_addr(const sim_vnet *net, uint32_t endpoint) {
  SIM_ASSERT(endpoint < net->n_endpoints);
  return &net->addrs[endpoint];
}

static void draw_v4(sim_vnet *net, const sim_pool *pool, dht_addr *a) {
  uint32_t subnet =
      pool->subnets[sim_rng_below(&net->addr_rng, pool->n_subnets)];
  a->family = 4;
  a->ip[0] = (uint8_t)(subnet >> 16);
  a->ip[1] = (uint8_t)(subnet >> 8);
  a->ip[2] = (uint8_t)subnet;
  a->ip[3] = (uint8_t)(1 + sim_rng_below(&net->addr_rng, 254));
}

/* draw_v6: a /48 of the pool, a small /64 number, a random interface
 * identifier (never all zero). */
static void draw_v6(sim_vnet *net, const sim_pool *pool, dht_addr *a) {
  uint64_t subnet =
      pool->subnets6[sim_rng_below(&net->addr_rng, pool->n_subnets6)];
  uint64_t net64 = subnet << 16 |
                   sim_rng_below(&net->addr_rng, V6_SUBNET64_MAX);
  uint64_t iid = sim_rng_next(&net->addr_rng) | 1;
  a->family = 6;
  for (int i = 0; i < 8; i++) {
    a->ip[i] = (uint8_t)(net64 >> (56 - 8 * i));
    a->ip[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
  }
}

/* draw_addr places a candidate on a random subnet of |pool| (the family
 * drawn first when the pool has both); after half the tries it also
 * varies the port (several endpoints behind one address). */
static void draw_addr(sim_vnet *net, const sim_pool *pool, int attempt,
                      dht_addr *a) {
  int v6 = pool->n_subnets == 0;
  if (pool->n_subnets > 0 && pool->n_subnets6 > 0)
    v6 = sim_rng_chance(&net->addr_rng, pool->v6_fraction);
  memset(a, 0, sizeof *a);
  if (v6)
    draw_v6(net, pool, a);
  else
    draw_v4(net, pool, a);
  a->port = net->port;
  if (attempt >= ATTACH_TRIES / 2)
    a->port = (uint16_t)(1024 + sim_rng_below(&net->addr_rng, 64512));
}

/* set_link gives |endpoint| |bw|'s limits, creating the link table on
 * the first limited endpoint. Returns 0 or SIM_ERR_NOMEM. */
static int set_link(sim_vnet *net, uint32_t endpoint, const sim_bandwidth *bw) {
  if (bw->up_bps == 0 && bw->down_bps == 0)
    return 0;
  if (net->links == NULL &&
      (net->links = calloc(net->max_endpoints, sizeof *net->links)) == NULL)
    return SIM_ERR_NOMEM;
  sim_link *l = &net->links[endpoint];
  l->up_bps = bw->up_bps;
  l->down_bps = bw->down_bps;
  l->queue_bytes = bw->queue_bytes;
  return 0;
}

int sim_vnet_attach(sim_vnet *net, const sim_pool *pool, uint32_t *endpoint,
                    dht_addr *addr) {
  if (net->n_endpoints >= net->max_endpoints)
    return SIM_ERR_LIMIT;
  if (pool == NULL || (pool->n_subnets == 0 && pool->n_subnets6 == 0))
    return SIM_ERR_INVALID_ARGUMENT;
  for (int attempt = 0; attempt < ATTACH_TRIES; attempt++) {
    dht_addr a;
    draw_addr(net, pool, attempt, &a);
    uint64_t key = addr_key(&a);
    size_t i = slot_of(net, key);
    if (net->keys[i] != 0)
      continue; /* taken (or a v6 hash collision): draw again */
    if (set_link(net, net->n_endpoints, &pool->bw) != 0)
      return SIM_ERR_NOMEM;
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

/* ---- Access links ------------------------------------------------------ */

/* serialise_ns: time |len| bytes occupy a link of |bps| (rounded up). */
static uint64_t serialise_ns(uint64_t len, uint64_t bps) {
  return (len * NS_PER_BYTE_BIT + bps - 1) / bps;
}

/* serialiser runs one FIFO link direction: a |len|-byte datagram meets
 * the link (idle from |*free_at|) at |now|. Returns 0 and the ns until
 * it has left in |*wait|, or -1 if the backlog would exceed |queue|
 * bytes (tail drop; the link is unchanged). */
static int serialiser(uint64_t *free_at, uint64_t bps, uint32_t queue,
                      uint64_t now, size_t len, uint64_t *wait) {
  uint64_t start = *free_at > now ? *free_at : now;
  uint64_t ser = serialise_ns(len, bps);
  if (start - now + ser > serialise_ns(queue, bps))
    return -1;
  *free_at = start + ser;
  *wait = *free_at - now;
  return 0;
}

int sim_vnet_transit(sim_vnet *net, uint64_t now, uint32_t src, uint32_t dst,
                     size_t len, uint64_t *delay) {
  uint64_t up = 0;
  net->stats.sent++;
  net->stats.bytes += len;
  if (net->links != NULL && net->links[src].up_bps > 0) {
    sim_link *l = &net->links[src];
    if (serialiser(&l->up_free, l->up_bps, l->queue_bytes, now, len, &up) !=
        0) {
      net->stats.queue_drop_up++;
      return 0;
    }
  }
  if (net->loss > 0.0 && sim_rng_chance(&net->rng, net->loss)) {
    net->stats.lost++;
    return 0;
  }
  uint64_t base = sim_vnet_base_delay(net, src, dst);
  *delay = up + base;
  if (net->jitter > 0.0)
    *delay += (uint64_t)((double)base * net->jitter * sim_rng_unit(&net->rng));
  return 1;
}

int sim_vnet_has_downlink(const sim_vnet *net, uint32_t endpoint) {
  return net->links != NULL && net->links[endpoint].down_bps > 0;
}

int sim_vnet_downlink(sim_vnet *net, uint64_t now, uint32_t dst, size_t len,
                      uint64_t *wait) {
  *wait = 0;
  if (!sim_vnet_has_downlink(net, dst))
    return 1;
  sim_link *l = &net->links[dst];
  if (serialiser(&l->down_free, l->down_bps, l->queue_bytes, now, len,
                 wait) != 0) {
    net->stats.queue_drop_down++;
    return 0;
  }
  return 1;
}
