/*
 * The simulator's virtual network: IPv4 addresses with a realistic prefix
 * structure, per-link latency drawn from a configurable distribution,
 * per-datagram jitter and loss.
 *
 * Addresses. Endpoints (simulated hosts) get addresses from prefix pools.
 * A pool is a set of distinct /16 prefixes, each with a number of distinct
 * /24 subnets; an endpoint lands on a uniformly chosen /24 of its pool with
 * a host byte in 1..254. Honest nodes come from a pool spread over many
 * /16s, so the DHT's diversity limits (per /24 in a bucket, per /16 in the
 * table) bind only as they would on the Internet; an attacker's pool can
 * be a handful of prefixes, which is the case those limits exist for.
 * First octets avoid reserved and private ranges (0, 10, 100, 127, 169,
 * 172, 192, 198, 203, 224 and up) so no address looks martian. IPv6 is not
 * modelled yet.
 *
 * Latency. Each link (unordered endpoint pair) has a fixed one-way base
 * delay, a deterministic function of the seed and the pair (a hash, so no
 * per-pair memory is needed for 10^5 endpoints): constant, uniform or
 * lognormal. Each datagram adds jitter drawn uniformly in
 * [0, jitter * base) and is lost with probability |loss|; loss and jitter
 * come from the network's own PRNG stream.
 */
#ifndef NOINTRUDE_SIM_VNET_H
#define NOINTRUDE_SIM_VNET_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/dht.h>

#include "rng.h"

#define SIM_NO_ENDPOINT UINT32_MAX

enum sim_latency_kind {
  SIM_LATENCY_CONSTANT,
  SIM_LATENCY_UNIFORM,
  SIM_LATENCY_LOGNORMAL,
};

typedef struct sim_latency {
  int kind;      /* enum sim_latency_kind */
  double a_ms;   /* constant: the delay; uniform: low; lognormal: median */
  double b_ms;   /* uniform: high; lognormal: sigma (dimensionless) */
  double max_ms; /* every base delay is clamped to [0.1 ms, max_ms] */
} sim_latency;

/* A set of /24 subnets endpoints can be placed in. */
typedef struct sim_pool {
  uint32_t *subnets; /* a.b.c as (a << 16 | b << 8 | c) */
  uint32_t n_subnets;
  uint32_t n16, n24; /* /16 prefixes, /24 subnets in each */
} sim_pool;

typedef struct sim_vnet_stats {
  uint64_t sent;          /* datagrams handed to the network */
  uint64_t bytes;         /* their bytes */
  uint64_t lost;          /* dropped by the loss model */
  uint64_t undeliverable; /* no live endpoint at the destination */
} sim_vnet_stats;

typedef struct sim_vnet {
  uint64_t seed;
  sim_latency latency;
  double jitter;        /* per-datagram extra delay, fraction of the base */
  double loss;          /* per-datagram loss probability, 0..1 */
  uint16_t port;        /* preferred UDP port of every endpoint */
  sim_rng rng;          /* loss and jitter draws */
  sim_rng addr_rng;     /* address assignment */
  uint8_t used16[8192]; /* bitmap of /16 prefixes handed to pools */
  /* address -> endpoint: open addressing, linear probing, key 0 = free */
  uint64_t *keys;
  uint32_t *vals;
  size_t slots;
  dht_addr *addrs; /* endpoint -> address */
  uint32_t n_endpoints, max_endpoints;
  sim_vnet_stats stats;
} sim_vnet;

/* sim_latency_parse reads "constant 40ms", "uniform 10ms 150ms" or
 * "lognormal 50ms 0.6" (median, then sigma) into |out|; a bare number
 * means milliseconds. max_ms is set to 5000. Returns 0 or
 * SIM_ERR_SCENARIO. */
int sim_latency_parse(sim_latency *out, const char *text);

/* sim_latency_format writes a parseable description of |lat| to |out|. */
void sim_latency_format(char *out, size_t cap, const sim_latency *lat);

/* sim_vnet_init prepares |net| for at most |max_endpoints| endpoints with
 * the run seed |seed|, base-delay model |lat|, |jitter| (fraction >= 0),
 * |loss| (0..1) and preferred |port|. Returns 0, SIM_ERR_INVALID_ARGUMENT
 * or SIM_ERR_NOMEM. */
int sim_vnet_init(sim_vnet *net, uint64_t seed, const sim_latency *lat,
                  double jitter, double loss, uint16_t port,
                  uint32_t max_endpoints);

/* sim_vnet_free releases |net|'s tables (not its pools). */
void sim_vnet_free(sim_vnet *net);

/* sim_vnet_pool_new fills |pool| with |n16| fresh /16 prefixes (never
 * shared with another pool of |net|) and |n24| (1..256) /24 subnets in
 * each. Returns 0, SIM_ERR_INVALID_ARGUMENT, SIM_ERR_ADDRESSES (not
 * enough unused /16s) or SIM_ERR_NOMEM. */
int sim_vnet_pool_new(sim_vnet *net, sim_pool *pool, uint32_t n16,
                      uint32_t n24);

/* sim_pool_free releases |pool|'s subnet list. */
void sim_pool_free(sim_pool *pool);

/* sim_vnet_attach creates an endpoint on a random /24 of |pool| and writes
 * its index to |endpoint| and its address to |addr|. Endpoint indices are
 * consecutive from 0. Returns 0, SIM_ERR_LIMIT (max_endpoints reached) or
 * SIM_ERR_ADDRESSES (no free address found). */
int sim_vnet_attach(sim_vnet *net, const sim_pool *pool, uint32_t *endpoint,
                    dht_addr *addr);

/* sim_vnet_find returns the endpoint at |addr|, or SIM_NO_ENDPOINT. */
uint32_t sim_vnet_find(const sim_vnet *net, const dht_addr *addr);

/* sim_vnet_addr returns the address of |endpoint| (which must exist). */
const dht_addr *sim_vnet_addr(const sim_vnet *net, uint32_t endpoint);

/* sim_vnet_base_delay returns the fixed one-way delay of the link between
 * endpoints |a| and |b| in ns (symmetric in a and b). */
uint64_t sim_vnet_base_delay(const sim_vnet *net, uint32_t a, uint32_t b);

/* sim_vnet_transit decides the fate of a |len|-byte datagram from |src| to
 * |dst|: returns 1 and its one-way delay in |*delay| (ns), or 0 if the
 * loss model dropped it. Counts both in net->stats. */
int sim_vnet_transit(sim_vnet *net, uint32_t src, uint32_t dst, size_t len,
                     uint64_t *delay);

#endif /* NOINTRUDE_SIM_VNET_H */
