/*
 * The in-process network of the engine tests (see net_harness.h): node
 * creation and addressing, the seeded generator, the queue of datagrams
 * in flight (a binary min-heap on (delivery time, sequence number)) and
 * the event loop that delivers datagrams and runs timers in time order.
 */
#include "net_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Datagrams taken from one node per nh_touch: far above the engine's own
 * bound on its outgoing queue (DHT_OUTQ_MAX), only a guard. */
#define DRAIN_MAX 10000

nh_net *nh_new(int n, uint64_t seed) {
  nh_net *net = calloc(1, sizeof *net);
  assert_non_null(net);
  net->nodes = calloc((size_t)n, sizeof *net->nodes);
  assert_non_null(net->nodes);
  net->n = n;
  net->rng = seed;
  net->now = NH_T0;
  for (int i = 0; i < n; i++) {
    net->nodes[i].net = net;
    net->nodes[i].idx = i;
    net->nodes[i].addr = nh_addr(i);
    net->nodes[i].deadline = DHT_TIME_NONE;
  }
  net->raw_addr.family = 4; /* 192.0.2.7:5000 (TEST-NET-1) */
  net->raw_addr.ip[0] = 192;
  net->raw_addr.ip[2] = 2;
  net->raw_addr.ip[3] = 7;
  net->raw_addr.port = 5000;
  return net;
}

void nh_free(nh_net *net) {
  for (int i = 0; i < net->n; i++) dht_node_free(net->nodes[i].dht);
  for (size_t i = 0; i < net->n_heap; i++) free(net->heap[i].data);
  free(net->heap);
  free(net->nodes);
  free(net);
}

uint64_t nh_rand(nh_net *net) {
  net->rng ^= net->rng >> 12;
  net->rng ^= net->rng << 25;
  net->rng ^= net->rng >> 27;
  return net->rng * 2685821657736338717ull;
}

void nh_rand_fill(nh_net *net, uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(nh_rand(net) >> 56);
}

void nh_random(void *user, uint8_t *buf, size_t len) {
  nh_node *node = user;
  nh_rand_fill(node->net, buf, len);
}

void nh_log(void *user, int level, const char *line) {
  nh_node *node = user;
  assert_non_null(line);
  if (level <= DHT_LOG_WARN) node->warnings++;
}

void nh_identity(nh_net *net, nc_identity *id, unsigned difficulty) {
  uint8_t seed[NC_SEED_LEN];
  nh_rand_fill(net, seed, sizeof seed);
  assert_int_equal(nc_identity_from_seed(id, seed, difficulty, 0, 0), 0);
}

dht_addr nh_addr(int i) {
  dht_addr a;
  memset(&a, 0, sizeof a);
  a.family = 4;
  a.ip[0] = (uint8_t)(10 + i / 256);
  a.ip[1] = (uint8_t)(i % 256);
  a.ip[3] = 1;
  a.port = 4000;
  return a;
}

/* The node at |a|, or -1. */
static int node_of(const nh_net *net, const dht_addr *a) {
  if (a->family != 4 || a->ip[0] < 10 || a->ip[2] != 0 || a->ip[3] != 1 ||
      a->port != 4000)
    return -1;
  int i = (a->ip[0] - 10) * 256 + a->ip[1];
  return i < net->n ? i : -1;
}

void nh_start(nh_net *net, int i, const dht_config *cfg, const dht_env *env) {
  nh_node *s = &net->nodes[i];
  assert_null(s->dht);
  assert_int_equal(dht_node_new(&s->dht, cfg, env, &s->ident, net->now), 0);
  s->alive = 1;
}

void nh_stop(nh_net *net, int i) {
  nh_node *s = &net->nodes[i];
  dht_node_free(s->dht);
  s->dht = NULL;
  s->alive = 0;
  s->deadline = DHT_TIME_NONE;
}

void nh_kill(nh_net *net, int i) {
  net->nodes[i].alive = 0;
  net->nodes[i].deadline = DHT_TIME_NONE;
}

static int pkt_less(const nh_pkt *a, const nh_pkt *b) {
  return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void heap_swap(nh_net *net, size_t a, size_t b) {
  nh_pkt t = net->heap[a];
  net->heap[a] = net->heap[b];
  net->heap[b] = t;
}

static void heap_push(nh_net *net, nh_pkt p) {
  if (net->n_heap == net->cap_heap) {
    net->cap_heap = net->cap_heap ? net->cap_heap * 2 : 1024;
    net->heap = realloc(net->heap, net->cap_heap * sizeof *net->heap);
    assert_non_null(net->heap);
  }
  size_t i = net->n_heap++;
  net->heap[i] = p;
  while (i > 0 && pkt_less(&net->heap[i], &net->heap[(i - 1) / 2])) {
    heap_swap(net, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static nh_pkt heap_pop(nh_net *net) {
  nh_pkt top = net->heap[0];
  net->heap[0] = net->heap[--net->n_heap];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < net->n_heap && pkt_less(&net->heap[l], &net->heap[m])) m = l;
    if (r < net->n_heap && pkt_less(&net->heap[r], &net->heap[m])) m = r;
    if (m == i) break;
    heap_swap(net, i, m);
    i = m;
  }
  return top;
}

void nh_drop_next(nh_net *net) {
  assert_true(net->n_heap > 0);
  free(heap_pop(net).data);
}

/* Sends one datagram of node |from|: kept for the raw client, queued for
 * a node with a random delay, or lost (no such address). */
static void route(nh_net *net, int from, const dht_addr *to, const uint8_t *buf,
                  size_t len) {
  net->sent++;
  if (dht_addr_equal(to, &net->raw_addr)) {
    if (net->n_raw < NH_RAW_MAX) {
      memcpy(net->raw_buf[net->n_raw], buf, len);
      net->raw_len[net->n_raw++] = len;
    }
    return;
  }
  int j = node_of(net, to);
  if (j < 0) return;
  dht_time delay =
      (NH_LATENCY_MIN_MS + nh_rand(net) % (NH_LATENCY_SPREAD_MS + 1)) * DHT_MS;
  nh_pkt p = {net->now + delay,      net->seq++, j,
              net->nodes[from].addr, len,        malloc(len)};
  assert_non_null(p.data);
  memcpy(p.data, buf, len);
  heap_push(net, p);
}

void nh_touch(nh_net *net, int i) {
  nh_node *s = &net->nodes[i];
  dht_addr to;
  uint8_t buf[DHT_MAX_DATAGRAM];
  size_t len;
  s->deadline = DHT_TIME_NONE;
  if (!s->dht) return;
  for (int guard = 0; guard < DRAIN_MAX; guard++) {
    if (!dht_node_next_datagram(s->dht, &to, buf, sizeof buf, &len)) break;
    route(net, i, &to, buf, len);
  }
  if (!s->alive) return;
  s->deadline = dht_node_next_deadline(s->dht);
  if (net->hooks.deadline) {
    dht_time other = net->hooks.deadline(net, i);
    if (other < s->deadline) s->deadline = other;
  }
  if (s->deadline < net->now) s->deadline = net->now;
}

static void deliver(nh_net *net) {
  nh_pkt p = heap_pop(net);
  nh_node *s = &net->nodes[p.to];
  if (s->alive) {
    dht_node_handle_datagram(s->dht, net->now, &p.from, p.data, p.len);
    nh_touch(net, p.to);
  }
  free(p.data);
}

static void expire(nh_net *net, int i) {
  if (net->hooks.expire)
    net->hooks.expire(net, i);
  else
    dht_node_handle_expiry(net->nodes[i].dht, net->now);
  nh_touch(net, i);
}

int nh_step(nh_net *net, dht_time until) {
  dht_time next = net->n_heap ? net->heap[0].at : DHT_TIME_NONE;
  int who = -1;
  for (int i = 0; i < net->n; i++)
    if (net->nodes[i].alive && net->nodes[i].deadline < next) {
      next = net->nodes[i].deadline;
      who = i;
    }
  if (next > until) {
    net->now = until;
    return 0;
  }
  assert_true(next >= net->now); /* time never runs backward */
  net->now = next;
  if (who < 0)
    deliver(net);
  else
    expire(net, who);
  return 1;
}

void nh_run(nh_net *net, dht_time duration) {
  dht_time until = net->now + duration;
  uint64_t steps = 0;
  while (nh_step(net, until)) assert_true(++steps < NH_MAX_STEPS);
}

void nh_wait(nh_net *net, const int *flag, dht_time max) {
  dht_time until = net->now + max;
  uint64_t steps = 0;
  while (!*flag && nh_step(net, until)) assert_true(++steps < NH_MAX_STEPS);
}

void nh_join(nh_net *net, int i) {
  assert_int_equal(
      dht_node_bootstrap(net->nodes[i].dht, net->now, &net->nodes[0].addr), 0);
  nh_touch(net, i);
}

void nh_join_all(nh_net *net) {
  for (int i = 1; i < net->n; i++) {
    nh_run(net, 200 * DHT_MS);
    nh_join(net, i);
  }
  nh_run(net, 30 * DHT_SEC);
}
