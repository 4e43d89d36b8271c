/*
 * Internal to the simulator: the layout of sim_world and the functions
 * world.c, workload.c, metrics.c and report.c share. Nothing outside sim/
 * includes this.
 */
#ifndef NOINTRUDE_SIM_WORLD_INT_H
#define NOINTRUDE_SIM_WORLD_INT_H

#include <stdint.h>
#include <stdio.h>

#include <nointrude/crypto.h>
#include <nointrude/dht.h>

#include "event.h"
#include "rng.h"
#include "scenario.h"
#include "vnet.h"
#include "world.h"

enum sim_event_kind {
  SIM_EV_JOIN,     /* node: first start */
  SIM_EV_DATAGRAM, /* node: destination; ptr: sim_packet */
  SIM_EV_TIMER,    /* node; aux: timer generation */
  SIM_EV_LEAVE,    /* node goes down (churn) */
  SIM_EV_REJOIN,   /* node comes back (churn) */
  SIM_EV_LOOKUP,   /* workload: start the next lookup */
  SIM_EV_PUT,      /* workload: start the next put */
  SIM_EV_GET,      /* workload; aux: record index */
  SIM_EV_SAMPLE,   /* time series row */
  SIM_EV_ATTACK,   /* attack plug-in; node: attack index, aux: action */
  SIM_EV_REGISTRY, /* registry.c; aux: action << 32 | argument */
  SIM_EV_COUNT
};

/* What a host is; honest hosts alone start workload operations. */
enum sim_role {
  SIM_ROLE_HONEST = 0,
  SIM_ROLE_SYBIL,
  SIM_ROLE_ECLIPSE,
  SIM_ROLE_ROUTING,
  SIM_ROLE_STORAGE,
  SIM_ROLE_FLOODER,
};

enum sim_host_state { SIM_HOST_IDLE, SIM_HOST_UP, SIM_HOST_DOWN };

typedef struct sim_packet {
  struct sim_packet *next; /* free list link */
  uint32_t src;            /* sending endpoint */
  uint32_t len;            /* bytes in data */
  uint8_t data[DHT_MAX_DATAGRAM];
} sim_packet;

/* Traffic of a host's earlier incarnations (churn frees the node). */
typedef struct sim_traffic {
  uint64_t tx_datagrams, tx_bytes, rx_datagrams, rx_bytes;
} sim_traffic;

typedef struct sim_host {
  struct sim_world *world;
  dht_node *node;    /* NULL unless state == SIM_HOST_UP */
  sim_rng rng;       /* the node's dht_env random stream */
  nc_identity ident; /* derived from the seed when first started */
  nc_kx kx;          /* ident's X25519 scalar (keys.c), secret */
  uint8_t x_pk[32];  /* ident's X25519 public key (keys.c) */
  dht_addr addr;     /* fixed for the host's life, endpoint == index */
  const dht_behaviour *behaviour; /* NULL = honest (attack.c) */
  const dht_config *cfg;          /* NULL = the scenario's [dht] */
  double adv_u;                   /* uniform draw placing in-N adversaries */
  uint8_t role;                   /* enum sim_role */
  uint8_t attack;                 /* index of its attack when role != 0 */
  dht_behaviour beh;              /* its hooks when adversarial */
  uint32_t index;
  uint32_t ops;       /* workload operations in flight from this node */
  uint8_t state;      /* enum sim_host_state */
  uint8_t churns;     /* takes part in churn */
  dht_time armed;     /* deadline of the valid timer event, or NONE */
  uint64_t timer_gen; /* generation of the valid timer event */
  sim_traffic past;   /* earlier incarnations */
  struct reg_node *reg; /* registry beside the node (registry.c), or NULL */
} sim_host;

enum sim_op_kind { SIM_OP_LOOKUP, SIM_OP_PUT, SIM_OP_GET };

/* One workload operation; slots are single-use so callback pointers stay
 * valid (the array is allocated once for the whole workload). */
typedef struct sim_op {
  struct sim_world *world;
  dht_time start;
  uint32_t host;    /* node that started it */
  uint32_t subject; /* lookup: target host; put/get: record index */
  uint8_t kind;     /* enum sim_op_kind */
  uint8_t active;   /* started, callback not yet run */
  uint8_t saw_stale; /* get: an adversary served it an older version */
} sim_op;

typedef struct sim_record {
  uint8_t key[DHT_KEY_LEN];
  uint8_t *bytes; /* the encoded record as last put (the newest seq) */
  size_t len;
  uint8_t *old_bytes; /* the version before the last update, or NULL */
  size_t old_len;
  uint64_t seq;      /* of |bytes| */
  uint32_t author;
  uint32_t updates_left; /* updates still to put before the get */
  uint32_t get_op;   /* index + 1 of the get in flight, 0 = none */
  unsigned stored; /* storers that acknowledged the put */
  uint8_t put_ok;  /* put acknowledged by at least one storer */
} sim_record;

/* A growable array of samples for percentiles. */
typedef struct sim_values {
  double *v;
  size_t len, cap;
} sim_values;

/* One time series row; counts are per interval unless said otherwise. */
typedef struct sim_sample {
  double t_s; /* seconds since the start */
  uint64_t events;
  uint64_t datagrams; /* handed to the network */
  uint64_t bytes;
  uint64_t lookups_ok, lookups_failed;
  uint64_t gets_ok, gets_failed;
  uint32_t nodes_up;    /* at the sample time */
  double contacts_mean; /* over nodes up */
  uint64_t contacts_min;
} sim_sample;

/* Slots for counting operation failures by DHT_ERR_* code: codes -101 ..
 * -(100 + SIM_ERR_SLOTS - 1); the last slot takes any other code. */
#define SIM_ERR_SLOTS 32

typedef struct sim_counters {
  uint64_t lookups_started, lookups_busy, lookups_ok, lookups_failed,
      lookups_aborted;
  uint64_t lookups_missed;               /* status 0, target absent */
  uint64_t lookup_errors[SIM_ERR_SLOTS]; /* by status code */
  uint64_t get_errors[SIM_ERR_SLOTS];    /* by status code */
  uint64_t puts_started, puts_busy, puts_ok, puts_failed, puts_aborted,
      put_stored_sum;
  uint64_t gets_started, gets_busy, gets_ok, gets_failed, gets_wrong,
      gets_aborted, records_lost;
  uint64_t gets_stale;     /* returned an older version than the newest */
  uint64_t gets_saw_stale; /* were served an older version by an adversary */
  uint64_t updates_started, updates_busy, updates_ok, updates_failed;
  uint64_t joins, leaves, rejoins, bootstrap_errors;
  uint64_t timers_fired, timers_stale;
  uint64_t to_down_host; /* datagrams reaching a host that is down */
  /* engine counters of freed incarnations (live ones are read at the
   * end) */
  uint64_t dropped[DHT_DROP_COUNT];
  uint64_t engine_lookups_ok, engine_lookups_failed;
} sim_counters;

/* Memory figures (not deterministic: kept out of the compared summary). */
typedef struct sim_memory {
  int available;     /* 0 under AddressSanitizer (mallinfo2 is blind) */
  size_t base;       /* heap in use before the first node */
  size_t peak;       /* highest heap in use seen at a sample */
  size_t peak_nodes; /* nodes up at that sample */
  size_t sim_bytes;  /* simulator-owned bytes at that sample */
} sim_memory;

/* One memoised pair key (keys.c): hosts lo < hi. */
typedef struct sim_key_memo {
  uint32_t lo, hi;
  uint8_t used;
  uint8_t key[NC_SHARED_LEN];
} sim_key_memo;

/* Pair keys (keys.c): memoised X25519, or modelled. */
typedef struct sim_keys {
  uint32_t *index; /* open addressing: host index + 1 by public key */
  size_t index_mask;
  sim_key_memo *memo; /* direct-mapped by host pair; NULL when modelled */
  size_t memo_mask;
  int model;                  /* 1: keyed hash of the pair, no X25519 */
  uint8_t model_secret[32];   /* the model's per-run hash key, secret */
  uint64_t hits, derived;     /* keys served from the table / computed */
  uint64_t modelled;          /* keys given by the model */
} sim_keys;

/* One attack plug-in instance (attack.c). */
typedef struct sim_atk {
  int kind;              /* enum in attack.c */
  char name[SIM_NAME_MAX];
  uint32_t count;        /* extra hosts (sybil, eclipse, flooder) */
  uint32_t prefixes, subnets; /* their pool: /16s and /24s per /16 */
  double fraction;       /* routing, storage: share of the honest nodes */
  dht_time start;        /* behaviour on from (ns after t0) */
  uint32_t target;       /* eclipse: victim host */
  uint32_t victims;      /* flooder: honest nodes flooded */
  unsigned bits;         /* eclipse: ID bits shared with the victim */
  int mode;              /* storage / flooder mode */
  int collude;           /* sybil, eclipse: also answer with colluders */
  double rate;           /* flooder: sends per second per flooder */
  uint32_t first;        /* extra hosts: [first, first + count) */
  double v6;             /* extra hosts: share with IPv6 addresses */
  sim_bandwidth bw;      /* extra hosts: access links */
  uint32_t gets;         /* eclipse (note mode): gets of the note */
  dht_time put_at;       /* eclipse (note mode): the note is put at */
  sim_pool pool;
  dht_behaviour beh;
  dht_config cfg;        /* flooder nodes: no operation limit */
  uint32_t *members;     /* routing/storage/colluding hosts, by adv_u */
  uint32_t n_members;
  double active;         /* routing: fraction now answering with colluders */
  uint32_t *victim_hosts;
  uint64_t sent, forged, ticks;
  /* S/Kademlia sweep (routing with fraction_step) */
  double step, fmax;
  double view;           /* routing: share of colluders each one names */
  unsigned paths[DHT_PATHS_MAX];
  unsigned n_paths, n_fracs;
  uint32_t per_point;    /* lookups per (d, fraction) */
  dht_time gap;          /* quiet time between fraction phases */
  struct sim_sweep_op *sops;
  uint64_t *ok, *fail, *hops; /* per point */
  struct sim_atk_more *more;  /* attack.c's own state (eclipse, flood) */
} sim_atk;

struct sim_world {
  sim_scenario sc;
  uint64_t seed;
  dht_time t0, end; /* ns since the Unix epoch */
  sim_queue q;
  sim_vnet net;
  sim_pool pool; /* honest nodes' prefixes */
  sim_host *hosts;
  uint32_t n_hosts;
  uint32_t *up;     /* indices of hosts up, any order */
  uint32_t *up_pos; /* host -> position in up, UINT32_MAX if not up */
  uint32_t n_up;
  sim_rng join_rng, work_rng, churn_rng;
  sim_packet *free_packets;
  size_t packets; /* allocated, free or in flight */
  sim_op *ops;
  size_t n_ops, cap_ops;
  sim_record *records;
  size_t n_records;
  uint32_t lookups_left, puts_left;
  sim_values lookup_hops, lookup_ms, get_hops, get_ms, put_ms;
  sim_sample *samples;
  size_t n_samples, cap_samples;
  sim_sample last; /* cumulative values at the previous sample */
  sim_counters c;
  sim_memory mem;
  sim_keys keys;
  sim_atk atk[SIM_ATTACKS_MAX];
  size_t n_atk;
  uint32_t n_honest; /* hosts 0 .. n_honest-1 are the scenario's nodes */
  FILE *log;
  int error; /* first fatal error inside a handler */
  struct sim_reg *reg; /* [registry] state (registry.c), NULL without */
};

/* sim_world_service drains every datagram |h|'s node queued onto the
 * network and re-arms its timer; call after each input to the node. */
void sim_world_service(struct sim_world *w, sim_host *h);

/* sim_world_pick_up returns a uniformly chosen host that is up other than
 * |exclude| (UINT32_MAX excludes none), or UINT32_MAX if there is none. */
uint32_t sim_world_pick_up(struct sim_world *w, sim_rng *rng, uint32_t exclude);

/* sim_world_push schedules an event (see sim_queue_push) and records a
 * failure in w->error, which stops the run. Returns 0, SIM_ERR_LIMIT or
 * SIM_ERR_NOMEM. */
int sim_world_push(struct sim_world *w, dht_time t, uint16_t kind,
                   uint32_t node, uint64_t aux, void *ptr);

/* sim_world_pick_honest is sim_world_pick_up restricted to honest hosts
 * (at most 64 draws; UINT32_MAX if none found). */
uint32_t sim_world_pick_honest(struct sim_world *w, sim_rng *rng,
                               uint32_t exclude);

/* sim_world_send_raw puts |len| bytes (<= DHT_MAX_DATAGRAM) on the
 * network from host |h| to |to| (a flooder's garbage). */
void sim_world_send_raw(struct sim_world *w, sim_host *h, const dht_addr *to,
                        const uint8_t *data, size_t len);

/* ---- Attacks (attack.c) ---- */

/* sim_attack_init creates the attacks' address pools and host ranges
 * (before the hosts are attached). Returns 0 or a SIM_ERR_* code. */
int sim_attack_init(struct sim_world *w);
/* sim_attack_pool returns the address pool of host |i|. */
const sim_pool *sim_attack_pool(const struct sim_world *w, uint32_t i);
/* sim_attack_assign gives hosts their roles and behaviours and queues the
 * attacks' events (after the hosts exist). Returns 0 or SIM_ERR_NOMEM. */
int sim_attack_assign(struct sim_world *w);
/* sim_attack_identity derives an attacker's identity when it differs
 * from the honest derivation (eclipse: mined near the victim). Returns 1
 * if it did (0 on success in *rv), 0 to derive normally. */
int sim_attack_identity(struct sim_world *w, sim_host *h, int *rv);
/* sim_attack_on_event runs an attack action (SIM_EV_ATTACK). */
void sim_attack_on_event(struct sim_world *w, const sim_event *ev);
/* sim_attack_free releases the attacks' tables and pools. */
void sim_attack_free(struct sim_world *w);
/* sim_probe_on_sample records the attacks' periodic figures (flood
 * victims' memory, probe.c) at a time series sample. */
void sim_probe_on_sample(struct sim_world *w);

/* ---- dht_env hooks of a host (world.c), shared by the registry's env ---- */

/* sim_host_random fills |buf| from host |user|'s own random stream. */
void sim_host_random(void *user, uint8_t *buf, size_t len);
/* sim_host_log writes |line| of host |user| at |level| to the world's log
 * with the simulated time. */
void sim_host_log(void *user, int level, const char *line);

/* ---- Pair keys (keys.c) ---- */

/* sim_keys_init sizes the key tables for |hosts| hosts; |model| = 1 picks
 * modelled pair keys, keyed by a secret derived from the run |seed|.
 * Returns 0 or SIM_ERR_NOMEM. */
int sim_keys_init(sim_keys *k, uint32_t hosts, int model, uint64_t seed);
/* sim_keys_free wipes and releases the tables. */
void sim_keys_free(sim_keys *k);
/* sim_keys_bytes returns the bytes the tables hold. */
size_t sim_keys_bytes(const sim_keys *k);
/* sim_keys_add_host converts |h|'s identity once (h->kx, h->x_pk) and
 * indexes its public key. Returns 0 or SIM_ERR_IDENTITY. */
int sim_keys_add_host(sim_keys *k, sim_host *h);
/* sim_keys_pair writes the pair key of host |h| and |their_pk|, exactly
 * nc_peer_key's, from the memo table or derived. Returns 0 or -1 (no key:
 * invalid point). */
int sim_keys_pair(struct sim_world *w, const sim_host *h,
                  const uint8_t their_pk[NC_PK_LEN],
                  uint8_t key[NC_SHARED_LEN]);

/* ---- Workload (workload.c) ---- */

/* sim_workload_init allocates the operation slots and records of the
 * scenario's workload and queues its first lookup and put events.
 * Returns 0, SIM_ERR_NOMEM or SIM_ERR_LIMIT. */
int sim_workload_init(struct sim_world *w);
/* sim_workload_free releases the workload's slots and record copies. */
void sim_workload_free(struct sim_world *w);
/* sim_workload_on_lookup starts one lookup and queues the next (event
 * handler for SIM_EV_LOOKUP). */
void sim_workload_on_lookup(struct sim_world *w, const sim_event *ev);
/* sim_workload_on_put builds, signs and puts one note and queues the next
 * (SIM_EV_PUT). */
void sim_workload_on_put(struct sim_world *w, const sim_event *ev);
/* sim_workload_on_get reads back record ev->aux from a random node other
 * than its author (SIM_EV_GET). */
void sim_workload_on_get(struct sim_world *w, const sim_event *ev);
/* sim_workload_abort_host counts |h|'s in-flight operations as aborted
 * (its node is about to be freed and will never call back). */
void sim_workload_abort_host(struct sim_world *w, sim_host *h);

/* ---- Metrics (metrics.c) ---- */

/* sim_values_add appends |v| to |vals|. Returns 0 or SIM_ERR_NOMEM. */
int sim_values_add(sim_values *vals, double v);
/* sim_values_free releases |vals| and empties it. */
void sim_values_free(sim_values *vals);
/* sim_values_percentile returns the nearest-rank |p|-th percentile
 * (0..100) of |vals| after sorting them in place; 0 when empty. */
double sim_values_percentile(sim_values *vals, double p);
/* sim_metrics_on_sample appends one time series row, samples the heap
 * and queues the next sample (SIM_EV_SAMPLE). */
void sim_metrics_on_sample(struct sim_world *w, const sim_event *ev);
/* sim_metrics_memory_base records the heap in use before any node runs. */
void sim_metrics_memory_base(struct sim_world *w);
/* sim_metrics_free releases value lists and the time series. */
void sim_metrics_free(struct sim_world *w);
/* sim_metrics_collect_node adds the dht_stats of |h|'s node to the
 * counters of past incarnations (before it is freed). */
void sim_metrics_collect_node(struct sim_world *w, sim_host *h);

#endif /* NOINTRUDE_SIM_WORLD_INT_H */
