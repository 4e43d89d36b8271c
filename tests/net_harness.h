/*
 * In-process network for the engine tests (node_test, reg_node_test): n
 * dht_node instances in one process, joined by an in-memory network under
 * a virtual clock and a seeded generator, so every run is the same.
 * Datagrams are delayed NH_LATENCY_MIN_MS plus up to NH_LATENCY_SPREAD_MS
 * (uniform) in a priority queue, ties broken by sequence number. Node i
 * lives at (10 + i / 256).(i % 256).0.1:4000, a /16 of its own; no
 * sockets. Datagrams sent to raw_addr (a "raw client" that tests drive by
 * hand) are kept in raw_buf instead.
 *
 * A test may run a second engine beside each DHT node (the registry): its
 * deadline and timers come in through nh_hooks. The test's own state hangs
 * off nh_net.user and nh_node.user; nh_random and nh_log are dht_env /
 * reg_env hooks whose |user| is the nh_node.
 *
 * Failures are cmocka assertions. Every loop is bounded in steps
 * (NH_MAX_STEPS) and in virtual time.
 */
#ifndef NOINTRUDE_TEST_NET_HARNESS_H
#define NOINTRUDE_TEST_NET_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/crypto.h>
#include <nointrude/dht.h>

#define NH_T0 (1700000000ull * DHT_SEC) /* the virtual clock's start */
#define NH_LATENCY_MIN_MS 5             /* one-way delay, uniform in */
#define NH_LATENCY_SPREAD_MS 20         /* [min, min + spread] ms */
#define NH_MAX_STEPS 50000000ull        /* events in one nh_run / nh_wait */
#define NH_RAW_MAX 64                   /* datagrams kept for raw_addr */

typedef struct nh_net nh_net;

/* A datagram in flight. */
typedef struct nh_pkt {
  dht_time at;  /* delivery time */
  uint64_t seq; /* tie-break: sending order */
  int to;       /* receiving node */
  dht_addr from;
  size_t len;
  uint8_t *data; /* malloc'd */
} nh_pkt;

typedef struct nh_node {
  nh_net *net;
  int idx;       /* index in net->nodes */
  dht_node *dht; /* NULL while stopped (nh_stop) */
  nc_identity ident;
  dht_addr addr;
  int alive;         /* receives datagrams and runs timers */
  dht_time deadline; /* next event, as nh_touch last saw it */
  unsigned warnings; /* log lines at DHT_LOG_WARN or worse (nh_log) */
  void *user;        /* the test's own per-node state */
} nh_node;

/* A second engine beside each node; either hook may be NULL. */
typedef struct nh_hooks {
  /* Node |i|'s next deadline other than its DHT's (DHT_TIME_NONE: none). */
  dht_time (*deadline)(nh_net *net, int i);
  /* Runs node |i|'s due timers at net->now; NULL: the harness calls
   * dht_node_handle_expiry. */
  void (*expire)(nh_net *net, int i);
} nh_hooks;

struct nh_net {
  dht_time now;
  int n;
  nh_node *nodes; /* n of them */
  nh_pkt *heap;   /* datagrams in flight, a binary min-heap */
  size_t n_heap, cap_heap;
  uint64_t seq, rng;
  uint64_t sent;  /* datagrams the nodes sent, wherever to */
  dht_config cfg; /* for the test: the configuration it starts nodes with */
  nh_hooks hooks;
  void *user; /* the test's own state */
  dht_addr raw_addr;
  uint8_t raw_buf[NH_RAW_MAX][DHT_MAX_DATAGRAM];
  size_t raw_len[NH_RAW_MAX];
  int n_raw; /* reset by the test; counts up to NH_RAW_MAX */
};

/* nh_new makes a network of |n| stopped nodes with their addresses, the
 * clock at NH_T0 and the generator seeded with |seed| (non-zero). */
nh_net *nh_new(int n, uint64_t seed);

/* nh_free frees every node still running (stop a second engine first),
 * the datagrams in flight and |net|. */
void nh_free(nh_net *net);

/* nh_rand returns the next 64 bits of |net|'s generator (xorshift*). */
uint64_t nh_rand(nh_net *net);

/* nh_rand_fill fills |p| (|n| bytes) from |net|'s generator. */
void nh_rand_fill(nh_net *net, uint8_t *p, size_t n);

/* nh_random is a dht_env / reg_env random hook; |user| is an nh_node. */
void nh_random(void *user, uint8_t *buf, size_t len);

/* nh_log is a dht_env / reg_env log hook; |user| is an nh_node, whose
 * warnings it counts. */
void nh_log(void *user, int level, const char *line);

/* nh_identity derives |id| from a seed drawn from |net|'s generator,
 * meeting the ID puzzle at |difficulty| bits. */
void nh_identity(nh_net *net, nc_identity *id, unsigned difficulty);

/* nh_addr returns node |i|'s address. */
dht_addr nh_addr(int i);

/* nh_start creates node |i|'s DHT (its ident set already) with |cfg| and
 * |env| at net->now and marks it alive. Call nh_touch after. */
void nh_start(nh_net *net, int i, const dht_config *cfg, const dht_env *env);

/* nh_stop frees node |i|'s DHT (stop a second engine first). */
void nh_stop(nh_net *net, int i);

/* nh_kill silences node |i| (no datagrams in, no timers) but keeps it. */
void nh_kill(nh_net *net, int i);

/* nh_touch moves node |i|'s outgoing datagrams into the network and
 * refreshes its deadline. Call it after every call into the node. */
void nh_touch(nh_net *net, int i);

/* nh_step runs one event, the earliest datagram or node deadline, if not
 * after |until|. Returns 0 when nothing is due by then (the clock moves to
 * |until|), else 1. */
int nh_step(nh_net *net, dht_time until);

/* nh_run runs every event of the next |duration|. */
void nh_run(nh_net *net, dht_time duration);

/* nh_wait runs until *|flag| is set or |max| of virtual time passed. */
void nh_wait(nh_net *net, const int *flag, dht_time max);

/* nh_drop_next loses the earliest datagram in flight (there must be one). */
void nh_drop_next(nh_net *net);

/* nh_join bootstraps node |i| through node 0. */
void nh_join(nh_net *net, int i);

/* nh_join_all joins nodes 1..n-1 through node 0, 200 ms apart, then lets
 * the network settle for 30 s. */
void nh_join_all(nh_net *net);

#endif /* NOINTRUDE_TEST_NET_HARNESS_H */
