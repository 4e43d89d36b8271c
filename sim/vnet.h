/*
 * The simulator's virtual network: IPv4 and IPv6 addresses with a
 * realistic prefix structure, per-link latency drawn from a configurable
 * distribution, per-datagram jitter and loss, and optional bandwidth
 * limits on each endpoint's access link.
 *
 * Addresses. Endpoints (simulated hosts) get addresses from prefix pools.
 * A pool has an IPv4 part, a set of distinct /16 prefixes each with a
 * number of distinct /24 subnets, and an IPv6 part, a set of distinct /32
 * prefixes each with a number of distinct /48 subnets (the prefix lengths
 * the DHT's diversity limits count: per /24 or /48 in a bucket, per /16 or
 * /32 in the table). An endpoint gets an IPv6 address with the pool's
 * v6_fraction probability, then lands on a uniformly chosen subnet of that
 * family: host byte 1..254 under a /24; under a /48 a /64 number 0..15 and
 * a random 64-bit interface identifier. Honest nodes come from a pool
 * spread over many prefixes, so the diversity limits bind only as they
 * would on the Internet; an attacker's pool can be a handful of prefixes,
 * which is the case those limits exist for. IPv4 first octets avoid
 * reserved and private ranges (0, 10, 100, 127, 169, 172, 192, 198, 203,
 * 224 and up); IPv6 /32s lie in 2001::/16 .. 2c0f::/16 (global unicast as
 * the RIRs allocate it) without 2001:0::/23 (Teredo, ORCHID, ...),
 * 2001:db8::/32 (documentation) and 2002::/16 (6to4). A /16 or /32 is
 * never shared between two pools. Every endpoint reaches every other one,
 * whatever the families (each host has one address, as a DHT contact has;
 * think of dual-stack hosts each announcing one).
 *
 * Latency. Each link (unordered endpoint pair) has a fixed one-way base
 * delay, a deterministic function of the seed and the pair (a hash, so no
 * per-pair memory is needed for 10^5 endpoints): constant, uniform or
 * lognormal. Each datagram adds jitter drawn uniformly in
 * [0, jitter * base) and is lost with probability |loss|; loss and jitter
 * come from the network's own PRNG stream.
 *
 * Bandwidth (off unless a pool sets it). An endpoint may have an uplink
 * and a downlink capacity in bits per second, each a FIFO serialiser with
 * a queue of queue_bytes: a datagram of L bytes occupies the link for
 * ceil(L * 8e9 / bps) ns after the previous one left; one that would make
 * the backlog (bytes waiting plus the datagram being sent) exceed
 * queue_bytes is tail-dropped and counted (queue_drop_up / _down). The
 * uplink runs when the datagram is sent; the downlink when it reaches
 * the destination (the driver calls sim_vnet_downlink at that moment, so
 * datagrams meet the downlink in arrival order). All integer nanoseconds:
 * deterministic.
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

/* Access-link capacities of an endpoint; 0 bps = unlimited. */
typedef struct sim_bandwidth {
  uint64_t up_bps, down_bps; /* bits per second */
  uint32_t queue_bytes;      /* per direction, >= DHT_MAX_DATAGRAM */
} sim_bandwidth;

#define SIM_QUEUE_DEFAULT 65536 /* bytes: ~0.5 s of a 1 Mbit/s uplink */
#define SIM_QUEUE_MAX 1000000000u

/* What a pool is made of (sim_vnet_pool_make). */
typedef struct sim_pool_spec {
  uint32_t n16, n24;  /* IPv4: /16 prefixes, /24 subnets in each (1..256) */
  uint32_t n32, n48;  /* IPv6: /32 prefixes, /48 subnets in each (1..256) */
  double v6_fraction; /* share of endpoints given an IPv6 address, 0..1 */
  sim_bandwidth bw;   /* access links of its endpoints */
} sim_pool_spec;

/* A set of /24 and /48 subnets endpoints can be placed in. */
typedef struct sim_pool {
  uint32_t *subnets; /* a.b.c as (a << 16 | b << 8 | c) */
  uint32_t n_subnets;
  uint32_t n16, n24; /* /16 prefixes, /24 subnets in each */
  uint64_t *subnets6; /* the 48 prefix bits, right-aligned */
  uint32_t n_subnets6;
  uint32_t n32, n48;  /* /32 prefixes, /48 subnets in each */
  double v6_fraction; /* share of endpoints given an IPv6 address */
  sim_bandwidth bw;
} sim_pool;

/* Access-link state of one endpoint (only when some pool sets limits). */
typedef struct sim_link {
  uint64_t up_free, down_free; /* ns: when each direction falls idle */
  uint64_t up_bps, down_bps;
  uint32_t queue_bytes;
} sim_link;

typedef struct sim_vnet_stats {
  uint64_t sent;            /* datagrams handed to the network */
  uint64_t bytes;           /* their bytes */
  uint64_t lost;            /* dropped by the loss model */
  uint64_t undeliverable;   /* no live endpoint at the destination */
  uint64_t queue_drop_up;   /* tail-dropped at the sender's uplink */
  uint64_t queue_drop_down; /* tail-dropped at the receiver's downlink */
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
  uint32_t *used32;     /* /32 prefixes handed to pools: open addressing,
                           value + 1, 0 = free */
  size_t used32_cap, used32_n;
  /* address -> endpoint: open addressing, linear probing, key 0 = free */
  uint64_t *keys;
  uint32_t *vals;
  size_t slots;
  dht_addr *addrs; /* endpoint -> address */
  sim_link *links; /* endpoint -> access link, NULL while all unlimited */
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

/* sim_rate_parse reads a bit rate: a number with an optional unit, bit,
 * kbit, mbit or gbit (per second, SI multiples, any case; none = bit/s),
 * or "0" / "off" for unlimited, into |bps|. Returns 0 or
 * SIM_ERR_SCENARIO. */
int sim_rate_parse(const char *text, uint64_t *bps);

/* sim_rate_format writes |bps| as parsed by sim_rate_parse ("1.5mbit",
 * "off") into |out|. */
void sim_rate_format(char *out, size_t cap, uint64_t bps);

/* sim_vnet_pool_make fills |pool| per |spec|: an IPv4 part of spec->n16
 * fresh /16 prefixes with n24 /24s each unless v6_fraction is 1, an IPv6
 * part of n32 fresh /32 prefixes with n48 /48s each if v6_fraction > 0
 * (prefixes are never shared with another pool of |net|), and the
 * access-link limits of spec->bw. Returns 0, SIM_ERR_INVALID_ARGUMENT
 * (counts out of range, a queue below DHT_MAX_DATAGRAM with a limit),
 * SIM_ERR_ADDRESSES (not enough unused prefixes) or SIM_ERR_NOMEM. */
int sim_vnet_pool_make(sim_vnet *net, sim_pool *pool,
                       const sim_pool_spec *spec);

/* sim_vnet_pool_new is sim_vnet_pool_make for an IPv4-only pool of |n16|
 * /16s with |n24| /24s each and unlimited links. Same return codes. */
int sim_vnet_pool_new(sim_vnet *net, sim_pool *pool, uint32_t n16,
                      uint32_t n24);

/* sim_pool_free releases |pool|'s subnet list. */
void sim_pool_free(sim_pool *pool);

/* sim_vnet_attach creates an endpoint on a random subnet of |pool| (IPv6
 * with the pool's v6_fraction, drawn only when the pool has both
 * families) with the pool's access-link limits, and writes its index to
 * |endpoint| and its address to |addr|. Endpoint indices are consecutive
 * from 0. Returns 0, SIM_ERR_LIMIT (max_endpoints reached),
 * SIM_ERR_ADDRESSES (no free address found) or SIM_ERR_NOMEM. */
int sim_vnet_attach(sim_vnet *net, const sim_pool *pool, uint32_t *endpoint,
                    dht_addr *addr);

/* sim_vnet_find returns the endpoint at |addr|, or SIM_NO_ENDPOINT. */
uint32_t sim_vnet_find(const sim_vnet *net, const dht_addr *addr);

/* sim_vnet_addr returns the address of |endpoint| (which must exist). */
const dht_addr *sim_vnet_addr(const sim_vnet *net, uint32_t endpoint);

/* sim_vnet_base_delay returns the fixed one-way delay of the link between
 * endpoints |a| and |b| in ns (symmetric in a and b). */
uint64_t sim_vnet_base_delay(const sim_vnet *net, uint32_t a, uint32_t b);

/* sim_vnet_transit decides the fate of a |len|-byte datagram sent from
 * |src| to |dst| at |now| (ns, non-decreasing across calls): it passes
 * |src|'s uplink (tail drop, queueing and serialisation), then the loss
 * model, then the link delay plus jitter. Returns 1 and the delay until
 * it reaches |dst|'s downlink in |*delay| (ns), or 0 if it was dropped.
 * Counts everything in net->stats. */
int sim_vnet_transit(sim_vnet *net, uint64_t now, uint32_t src, uint32_t dst,
                     size_t len, uint64_t *delay);

/* sim_vnet_has_downlink returns 1 if |endpoint|'s downlink is limited (the
 * driver must then pass each datagram through sim_vnet_downlink). */
int sim_vnet_has_downlink(const sim_vnet *net, uint32_t endpoint);

/* sim_vnet_downlink passes a |len|-byte datagram that reached |dst|'s
 * downlink at |now| (ns; call in arrival order): returns 1 and the wait
 * until it is delivered in |*wait| (ns, queueing plus serialisation; 0
 * when unlimited), or 0 if the queue was full (tail drop, counted). */
int sim_vnet_downlink(sim_vnet *net, uint64_t now, uint32_t dst, size_t len,
                      uint64_t *wait);

#endif /* NOINTRUDE_SIM_VNET_H */
