/*
 * The simulated world: hosts, the event loop and the glue between the
 * virtual network and each node's sans-IO engine.
 *
 * Each host is driven the way the daemon drives its one node: a datagram
 * event calls dht_node_handle_datagram, a timer event calls
 * dht_node_handle_expiry, and after every input the host's outgoing queue
 * is drained (dht_node_next_datagram until it returns 0) onto the network
 * and its single timer re-armed from dht_node_next_deadline. Only the
 * latest timer is valid: each arming bumps a per-host generation and timer
 * events carrying an older generation are skipped when they come due
 * (cheaper than deleting them from the heap).
 *
 * Nodes get a dht_env whose random hook reads the host's own xoshiro
 * stream, no persistence hooks, and a log hook only when a log file was
 * given. Identities come from nc_identity_from_seed with a seed derived
 * from the run seed and the host index, at the scenario's difficulty.
 */
#include "world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attack.h"
#include "registry.h"
#include "sim.h"
#include "world_int.h"

#define DRAIN_MAX 100000        /* datagrams pulled from one node per input */
#define PROGRESS_EVERY 1024     /* events between progress callbacks */
#define IDENTITY_TRIES_SHIFT 12 /* give up after 2^(difficulty + 12) */
#define NO_HOST UINT32_MAX

static const char identity_tag[] = "nointrude-sim-identity";

/* ---- dht_env hooks ------------------------------------------------------ */

void sim_host_random(void *user, uint8_t *buf, size_t len) {
  sim_host *h = user;
  sim_rng_fill(&h->rng, buf, len);
}

void sim_host_log(void *user, int level, const char *line) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  sim_host *h = user;
  sim_world *w = h->world;
  const char *name = level >= 0 && level < 4 ? names[level] : "?";
  fprintf(w->log, "%.6f node=%u %s %s\n", (double)(w->q.now - w->t0) / 1e9,
          h->index, name, line);
}

static int host_peer_key(void *user, const uint8_t their_pk[NC_PK_LEN],
                         uint8_t key[NC_SHARED_LEN]) {
  sim_host *h = user;
  return sim_keys_pair(h->world, h, their_pk, key);
}

/* ---- Hosts that are up --------------------------------------------------- */

static void up_add(sim_world *w, uint32_t i) {
  w->up_pos[i] = w->n_up;
  w->up[w->n_up++] = i;
}

static void up_remove(sim_world *w, uint32_t i) {
  uint32_t pos = w->up_pos[i];
  uint32_t last = w->up[--w->n_up];
  w->up[pos] = last;
  w->up_pos[last] = pos;
  w->up_pos[i] = NO_HOST;
}

uint32_t sim_world_pick_up(sim_world *w, sim_rng *rng, uint32_t exclude) {
  int excluded_up = exclude != NO_HOST && w->up_pos[exclude] != NO_HOST;
  uint32_t n = w->n_up - (excluded_up ? 1 : 0);
  if (n == 0)
    return NO_HOST;
  uint32_t pick = w->up[sim_rng_below(rng, n)];
  /* The excluded host is stood in for by the last one, which the draw
   * over n = n_up - 1 slots never reaches. */
  return pick == exclude ? w->up[w->n_up - 1] : pick;
}

uint32_t sim_world_pick_honest(sim_world *w, sim_rng *rng, uint32_t exclude) {
  for (int tries = 0; tries < 64; tries++) {
    uint32_t pick = sim_world_pick_up(w, rng, exclude);
    if (pick == NO_HOST || w->hosts[pick].role == SIM_ROLE_HONEST)
      return pick;
  }
  return NO_HOST;
}

/* ---- Events ------------------------------------------------------------- */

int sim_world_push(sim_world *w, dht_time t, uint16_t kind, uint32_t node,
                   uint64_t aux, void *ptr) {
  int rv = sim_queue_push(&w->q, t, kind, node, aux, ptr);
  if (rv != 0 && w->error == 0)
    w->error = rv;
  return rv;
}

static sim_packet *packet_get(sim_world *w) {
  sim_packet *p = w->free_packets;
  if (p != NULL) {
    w->free_packets = p->next;
    return p;
  }
  p = malloc(sizeof *p);
  if (p != NULL)
    w->packets++;
  return p;
}

static void packet_put(sim_world *w, sim_packet *p) {
  p->next = w->free_packets;
  w->free_packets = p;
}

/* ---- Network glue -------------------------------------------------------- */

/* route hands |p| (from host |h|, addressed to |to|) to the network. */
static void route(sim_world *w, sim_host *h, const dht_addr *to,
                  sim_packet *p) {
  uint32_t dst = sim_vnet_find(&w->net, to);
  uint64_t delay;

  if (dst == SIM_NO_ENDPOINT) {
    w->net.stats.sent++;
    w->net.stats.bytes += p->len;
    w->net.stats.undeliverable++;
    packet_put(w, p);
    return;
  }
  if (!sim_vnet_transit(&w->net, w->q.now, h->index, dst, p->len, &delay)) {
    packet_put(w, p);
    return;
  }
  p->src = h->index;
  if (sim_world_push(w, w->q.now + delay, SIM_EV_DATAGRAM, dst, 0, p) != 0)
    packet_put(w, p); /* not queued: still ours */
}

void sim_world_send_raw(sim_world *w, sim_host *h, const dht_addr *to,
                        const uint8_t *data, size_t len) {
  sim_packet *p = packet_get(w);
  if (p == NULL) {
    w->error = SIM_ERR_NOMEM;
    return;
  }
  SIM_ASSERT(len <= DHT_MAX_DATAGRAM);
  memcpy(p->data, data, len);
  p->len = (uint32_t)len;
  route(w, h, to, p);
}

/* arm keeps exactly one valid timer event per host, for its deadline. */
static void arm(sim_world *w, sim_host *h) {
  dht_time d = dht_node_next_deadline(h->node);
  if (h->reg != NULL) /* registry beside the node: the earlier deadline */
    d = sim_registry_deadline(h, d);
  if (d == h->armed)
    return; /* the valid event is already queued */
  h->armed = d;
  h->timer_gen++;
  if (d == DHT_TIME_NONE)
    return;
  sim_world_push(w, d < w->q.now ? w->q.now : d, SIM_EV_TIMER, h->index,
                 h->timer_gen, NULL);
}

void sim_world_service(sim_world *w, sim_host *h) {
  for (unsigned n = 0; n < DRAIN_MAX && w->error == 0; n++) {
    sim_packet *p = packet_get(w);
    dht_addr to;
    size_t len;
    if (p == NULL) {
      w->error = SIM_ERR_NOMEM;
      return;
    }
    if (!dht_node_next_datagram(h->node, &to, p->data, sizeof p->data, &len)) {
      packet_put(w, p);
      break;
    }
    SIM_ASSERT(len <= DHT_MAX_DATAGRAM);
    p->len = (uint32_t)len;
    route(w, h, &to, p);
  }
  if (w->error == 0)
    arm(w, h);
}

/* ---- Host life cycle ----------------------------------------------------- */

static void put_le64(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(v >> (8 * i));
}

/* derive_identity computes |h|'s identity from the run seed: seed =
 * BLAKE2b-256(tag || le64 run seed || le64 index), then the puzzle. */
static int derive_identity(sim_world *w, sim_host *h) {
  uint8_t seed[NC_SEED_LEN], le[8];
  nc_hasher hs;
  unsigned d = w->sc.dht.difficulty;
  int mined;

  if (sim_attack_identity(w, h, &mined))
    return mined != 0 ? mined : sim_keys_add_host(&w->keys, h);

  nc_hasher_init(&hs, NULL, 0, sizeof seed);
  nc_hasher_update(&hs, identity_tag, sizeof identity_tag - 1);
  put_le64(le, w->seed);
  nc_hasher_update(&hs, le, sizeof le);
  put_le64(le, h->index);
  nc_hasher_update(&hs, le, sizeof le);
  nc_hasher_final(&hs, seed, sizeof seed);
  int rv = nc_identity_from_seed(&h->ident, seed, d, 0,
                                 UINT64_C(1) << (d + IDENTITY_TRIES_SHIFT));
  sodium_memzero(seed, sizeof seed);
  if (rv != 0)
    return SIM_ERR_IDENTITY;
  return sim_keys_add_host(&w->keys, h);
}

static int host_start(sim_world *w, sim_host *h) {
  dht_env env;
  memset(&env, 0, sizeof env);
  env.user = h;
  env.random = sim_host_random;
  env.log = w->log != NULL ? sim_host_log : NULL;
  env.peer_key =
      w->sc.key_memo || w->sc.key_model ? host_peer_key : NULL;
  env.behaviour = h->behaviour;
  if (w->reg != NULL) /* registry hooks (registry.c) */
    sim_registry_env(w, h, &env);
  if (dht_node_new(&h->node, h->cfg ? h->cfg : &w->sc.dht, &env, &h->ident, w->q.now) != 0)
    return SIM_ERR_NODE;
  if (w->reg != NULL && sim_registry_host_start(w, h) != 0)
    return SIM_ERR_NODE;
  h->state = SIM_HOST_UP;
  h->armed = DHT_TIME_NONE;
  h->timer_gen++;
  up_add(w, h->index);
  return 0;
}

/* bootstrap_via chooses whom |h| joins through: a random seed node that
 * is up, or with bootstrap = random any host that is up. */
static uint32_t bootstrap_via(sim_world *w, sim_host *h) {
  uint32_t seeds = w->sc.join_seeds;
  if (!w->sc.join_random) {
    for (int tries = 0; tries < 16; tries++) {
      uint32_t s = (uint32_t)sim_rng_below(&w->join_rng, seeds);
      if (s != h->index && w->hosts[s].state == SIM_HOST_UP)
        return s;
    }
  }
  return sim_world_pick_up(w, &w->join_rng, h->index);
}

static void host_bootstrap(sim_world *w, sim_host *h) {
  uint32_t via = bootstrap_via(w, h);
  if (via == NO_HOST)
    return; /* the first node: nobody to join through */
  if (dht_node_bootstrap(h->node, w->q.now, &w->hosts[via].addr) != 0)
    w->c.bootstrap_errors++;
}

static dht_time draw_time(sim_world *w, dht_time mean) {
  return (dht_time)sim_rng_exponential(&w->churn_rng, (double)mean);
}

static void schedule_leave(sim_world *w, sim_host *h) {
  dht_time from = w->t0 + w->sc.churn_start;
  if (from < w->q.now)
    from = w->q.now;
  sim_world_push(w, from + draw_time(w, w->sc.churn_uptime), SIM_EV_LEAVE,
                 h->index, 0, NULL);
}

static void host_up(sim_world *w, sim_host *h) {
  int rv = host_start(w, h);
  if (rv != 0) {
    w->error = rv;
    return;
  }
  host_bootstrap(w, h);
  sim_world_service(w, h);
  if (h->churns)
    schedule_leave(w, h);
}

static void host_down(sim_world *w, sim_host *h) {
  sim_workload_abort_host(w, h);
  sim_metrics_collect_node(w, h);
  sim_registry_host_stop(h); /* before the DHT node it uses */
  dht_node_free(h->node);
  h->node = NULL;
  h->state = SIM_HOST_DOWN;
  h->armed = DHT_TIME_NONE;
  h->timer_gen++;
  up_remove(w, h->index);
}

/* ---- Event handlers ------------------------------------------------------ */

static void on_join(sim_world *w, const sim_event *ev) {
  sim_host *h = &w->hosts[ev->node];
  uint32_t next = ev->node + 1;

  if (next < w->n_hosts) /* joins form a chain: one pending at a time */
    sim_world_push(w,
                   w->t0 + w->sc.join_start +
                       (dht_time)((double)next / w->sc.join_rate * 1e9),
                   SIM_EV_JOIN, next, 0, NULL);
  int rv = derive_identity(w, h);
  if (rv != 0) {
    w->error = rv;
    return;
  }
  w->c.joins++;
  host_up(w, h);
}

static void on_datagram(sim_world *w, const sim_event *ev) {
  sim_host *h = &w->hosts[ev->node];
  sim_packet *p = ev->ptr;

  if (ev->aux == 0 && sim_vnet_has_downlink(&w->net, ev->node)) {
    uint64_t wait; /* through the receiver's downlink first (aux = 1) */
    if (!sim_vnet_downlink(&w->net, w->q.now, ev->node, p->len, &wait) ||
        sim_world_push(w, w->q.now + wait, SIM_EV_DATAGRAM, ev->node, 1, p))
      packet_put(w, p);
    return;
  }
  if (h->state != SIM_HOST_UP) {
    w->c.to_down_host++;
    packet_put(w, p);
    return;
  }
  dht_node_handle_datagram(h->node, w->q.now, &w->net.addrs[p->src], p->data,
                           p->len);
  packet_put(w, p);
  sim_world_service(w, h);
}

static void on_timer(sim_world *w, const sim_event *ev) {
  sim_host *h = &w->hosts[ev->node];

  if (h->state != SIM_HOST_UP || ev->aux != h->timer_gen) {
    w->c.timers_stale++;
    return;
  }
  w->c.timers_fired++;
  h->armed = DHT_TIME_NONE; /* consumed: any deadline now needs a new event */
  h->timer_gen++;
  if (h->reg != NULL) /* DHT, then registry, each if due (registry.c) */
    sim_registry_expiry(w, h);
  else
    dht_node_handle_expiry(h->node, w->q.now);
  sim_world_service(w, h);
}

static void on_leave(sim_world *w, const sim_event *ev) {
  sim_host *h = &w->hosts[ev->node];
  if (h->state != SIM_HOST_UP)
    return;
  host_down(w, h);
  w->c.leaves++;
  sim_world_push(w, w->q.now + draw_time(w, w->sc.churn_downtime),
                 SIM_EV_REJOIN, h->index, 0, NULL);
}

static void on_rejoin(sim_world *w, const sim_event *ev) {
  sim_host *h = &w->hosts[ev->node];
  if (h->state != SIM_HOST_DOWN)
    return;
  w->c.rejoins++;
  host_up(w, h);
}

typedef void (*event_handler)(sim_world *w, const sim_event *ev);

static const event_handler handlers[SIM_EV_COUNT] = {
    [SIM_EV_JOIN] = on_join,
    [SIM_EV_DATAGRAM] = on_datagram,
    [SIM_EV_TIMER] = on_timer,
    [SIM_EV_LEAVE] = on_leave,
    [SIM_EV_REJOIN] = on_rejoin,
    [SIM_EV_LOOKUP] = sim_workload_on_lookup,
    [SIM_EV_PUT] = sim_workload_on_put,
    [SIM_EV_GET] = sim_workload_on_get,
    [SIM_EV_SAMPLE] = sim_metrics_on_sample,
    [SIM_EV_ATTACK] = sim_attack_on_event,
    [SIM_EV_REGISTRY] = sim_registry_on_event,
};

/* ---- The world ----------------------------------------------------------- */

/* auto_prefixes spreads honest nodes over about one /16 per two nodes
 * (residential users rarely share a /24), at least 16 and at most 30,000
 * prefixes. */
static uint32_t auto_prefixes(uint32_t nodes) {
  uint32_t p = nodes / 2;
  return p < 16 ? 16 : p > 30000 ? 30000 : p;
}

static int make_hosts(sim_world *w) {
  w->hosts = calloc(w->n_hosts, sizeof *w->hosts);
  w->up = calloc(w->n_hosts, sizeof *w->up);
  w->up_pos = calloc(w->n_hosts, sizeof *w->up_pos);
  if (w->hosts == NULL || w->up == NULL || w->up_pos == NULL)
    return SIM_ERR_NOMEM;
  for (uint32_t i = 0; i < w->n_hosts; i++) {
    sim_host *h = &w->hosts[i];
    uint32_t endpoint;
    int rv = sim_vnet_attach(&w->net, sim_attack_pool(w, i), &endpoint,
                             &h->addr);
    if (rv != 0)
      return rv;
    SIM_ASSERT(endpoint == i);
    h->world = w;
    h->index = i;
    h->armed = DHT_TIME_NONE;
    h->churns = i >= w->sc.join_seeds &&
                sim_rng_chance(&w->churn_rng, w->sc.churn_fraction);
    sim_rng_stream(&h->rng, w->seed, "node", i);
    w->up_pos[i] = NO_HOST;
  }
  return 0;
}

static int make_network(sim_world *w) {
  const sim_scenario *sc = &w->sc;
  sim_pool_spec spec = {
      .n16 = sc->prefixes ? sc->prefixes : auto_prefixes(sc->nodes),
      .n24 = sc->subnets,
      .n32 = sc->prefixes6 ? sc->prefixes6 : auto_prefixes(sc->nodes),
      .n48 = sc->subnets6,
      .v6_fraction = sc->ipv6_fraction,
      .bw = sc->bw};
  int rv = sim_vnet_init(&w->net, w->seed, &sc->latency, sc->jitter, sc->loss,
                         (uint16_t)sc->port, w->n_hosts);
  if (rv != 0)
    return rv;
  return sim_vnet_pool_make(&w->net, &w->pool, &spec);
}

static int world_setup(sim_world *w) {
  const sim_scenario *sc = &w->sc;
  int rv;

  if (nc_init() != 0)
    return SIM_ERR_INVALID_ARGUMENT;
  w->t0 = SIM_EPOCH;
  w->end = w->t0 + sc->duration;
  w->n_honest = sc->nodes;
  w->n_hosts = sc->nodes + sim_attack_extra_hosts(sc);
  sim_rng_stream(&w->join_rng, w->seed, "join", 0);
  sim_rng_stream(&w->work_rng, w->seed, "workload", 0);
  sim_rng_stream(&w->churn_rng, w->seed, "churn", 0);
  if ((rv = sim_queue_init(&w->q, w->t0, sc->max_pending, sc->max_events)) ||
      (rv = sim_keys_init(&w->keys, w->n_hosts, (int)sc->key_model,
                             w->seed)) ||
      (rv = sim_registry_init(w)) ||
      (rv = make_network(w)) || (rv = sim_attack_init(w)) ||
      (rv = make_hosts(w)) || (rv = sim_attack_assign(w)) ||
      (rv = sim_registry_assign(w)) || (rv = sim_workload_init(w)))
    return rv;
  sim_metrics_memory_base(w);
  sim_world_push(w, w->t0 + sc->join_start, SIM_EV_JOIN, 0, 0, NULL);
  sim_world_push(w, w->t0 + sc->sample_interval, SIM_EV_SAMPLE, 0, 0, NULL);
  return w->error;
}

int sim_world_new(sim_world **out, const sim_scenario *sc, uint64_t seed,
                  FILE *log) {
  char msg[256];
  *out = NULL;
  if (sc == NULL || sim_scenario_check(sc, msg, sizeof msg) != 0)
    return SIM_ERR_SCENARIO;
  sim_world *w = calloc(1, sizeof *w);
  if (w == NULL)
    return SIM_ERR_NOMEM;
  w->sc = *sc;
  w->seed = seed;
  w->log = log;
  int rv = world_setup(w);
  if (rv != 0) {
    sim_world_free(w);
    return rv;
  }
  *out = w;
  return 0;
}

int sim_world_run(sim_world *w, sim_progress_fn fn, void *arg) {
  sim_event ev;
  for (;;) {
    const sim_event *next = sim_queue_peek(&w->q);
    if (next == NULL || next->time > w->end)
      break;
    int rv = sim_queue_pop(&w->q, &ev);
    if (rv < 0)
      return rv;
    SIM_ASSERT(ev.kind < SIM_EV_COUNT);
    handlers[ev.kind](w, &ev);
    if (w->error != 0)
      return w->error;
    if (fn != NULL && w->q.popped % PROGRESS_EVERY == 0)
      fn(arg, w->q.now, w->end, w->q.popped);
  }
  if (fn != NULL)
    fn(arg, w->end, w->end, w->q.popped);
  return 0;
}

dht_time sim_world_now(const sim_world *w) { return w->q.now; }

uint64_t sim_world_events(const sim_world *w) { return w->q.popped; }

/* drain_queue returns the packets of datagram events still queued. */
static void drain_queue(sim_world *w) {
  for (size_t i = 0; i < w->q.len; i++)
    if (w->q.heap[i].kind == SIM_EV_DATAGRAM)
      packet_put(w, w->q.heap[i].ptr);
  w->q.len = 0;
}

void sim_world_free(sim_world *w) {
  if (w == NULL)
    return;
  sim_registry_free(w); /* the reg_nodes go before their DHT nodes */
  for (uint32_t i = 0; w->hosts != NULL && i < w->n_hosts; i++) {
    dht_node_free(w->hosts[i].node);
    nc_identity_wipe(&w->hosts[i].ident);
    nc_kx_wipe(&w->hosts[i].kx);
  }
  drain_queue(w);
  while (w->free_packets != NULL) {
    sim_packet *p = w->free_packets;
    w->free_packets = p->next;
    free(p);
  }
  sim_queue_free(&w->q);
  sim_pool_free(&w->pool);
  sim_vnet_free(&w->net);
  sim_workload_free(w);
  sim_metrics_free(w);
  sim_keys_free(&w->keys);
  sim_attack_free(w);
  free(w->hosts);
  free(w->up);
  free(w->up_pos);
  free(w);
}
