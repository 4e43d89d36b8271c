/*
 * The registry in the simulator (see registry.h): parsing of the
 * [registry] section, hosting a reg_node beside each dht_node, the
 * scripted genuine senders (batches built with reg_batch_build, published
 * through reg_node_publish_batch as a batch file, inboxes read with
 * dht_node_get_all and opened with the sender key, as `batch optouts`
 * does), and the "registry" object of the summary.
 *
 * Hosting follows the daemon (node/daemon/runtime.c): the registry's
 * record types are registered in dht_config.types, dht_env.app_message
 * hands relayed opt-outs to reg_node_handle_app_message (through the
 * observer in reg_observe.c, which logs what the receiving node sees),
 * the host's single timer is armed for the earlier of the two deadlines,
 * and a timer event calls dht_node_handle_expiry and then
 * reg_node_handle_expiry, each only if due. The registry keeps its state
 * in memory (no state_put), which is why churn is refused with
 * [registry]: a node coming back would have forgotten its history.
 *
 * Every choice comes from the "registry" PRNG stream or the hosts' own
 * streams, so the registry figures are as deterministic as the rest of
 * the summary; only the CPU time of building batches (a host figure) is
 * not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry_int.h"
#include "sim.h"

#define IDENTITY_TRIES_SHIFT 12 /* give up after 2^(difficulty + 12) */

static const char sender_tag[] = "nointrude-sim-sender";

/* ---- Small shared helpers ------------------------------------------------ */

double sreg_cpu_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

sreg_op *sreg_op_new(sim_world *w, uint32_t host, int kind, int index) {
  sreg_op *op = calloc(1, sizeof *op);
  if (op == NULL) {
    w->error = SIM_ERR_NOMEM;
    return NULL;
  }
  op->w = w;
  op->host = host;
  op->kind = kind;
  op->index = index;
  op->next = w->reg->ops;
  w->reg->ops = op;
  return op;
}

void sreg_push(sim_world *w, dht_time t, uint32_t act, uint32_t arg) {
  sim_world_push(w, t, SIM_EV_REGISTRY, arg, (uint64_t)act << 32 | arg, NULL);
}

static size_t pk_slot(const uint8_t pk[NC_PK_LEN], size_t mask) {
  uint64_t x = 0;
  memcpy(&x, pk, sizeof x);
  return (size_t)sim_mix64(x) & mask;
}

static void pk_insert(sim_reg *r, const sim_world *w, uint32_t host) {
  const uint8_t *pk = w->hosts[host].ident.pk;
  size_t i = pk_slot(pk, r->pk_mask);
  memcpy(r->host_pk[host], pk, NC_PK_LEN);
  for (size_t n = 0; n <= r->pk_mask; n++, i = (i + 1) & r->pk_mask) {
    if (r->pk_index[i] == host + 1)
      return;
    if (r->pk_index[i] == 0) {
      r->pk_index[i] = host + 1;
      return;
    }
  }
}

uint32_t sreg_host_of(const sim_reg *r, const uint8_t pk[NC_PK_LEN]) {
  size_t i = pk_slot(pk, r->pk_mask);
  for (size_t n = 0; n <= r->pk_mask; n++, i = (i + 1) & r->pk_mask) {
    uint32_t v = r->pk_index[i];
    if (v == 0)
      return SREG_NO_HOST;
    if (memcmp(r->host_pk[v - 1], pk, NC_PK_LEN) == 0)
      return v - 1;
  }
  return SREG_NO_HOST;
}

int sreg_sender_of(const sim_reg *r, const uint8_t pk[NC_PK_LEN]) {
  for (size_t i = 0; i < r->n_senders; i++)
    if (memcmp(r->senders[i].id.pk, pk, NC_PK_LEN) == 0)
      return (int)i;
  return -1;
}

int sreg_batch_find(const sim_reg *r, const uint8_t pk[NC_PK_LEN],
                    const uint8_t id[REG_BATCH_ID_LEN]) {
  for (size_t i = 0; i < r->n_batches; i++)
    if (memcmp(r->batches[i].id, id, REG_BATCH_ID_LEN) == 0 &&
        memcmp(r->batches[i].sender_pk, pk, NC_PK_LEN) == 0)
      return (int)i;
  return -1;
}

/* ---- Addresses and batches ------------------------------------------------ */

void sreg_address(char *out, size_t cap, uint32_t h, uint32_t j) {
  snprintf(out, cap, "p%u-%u@protected.test", h, j);
}

uint32_t sreg_protects(const sim_reg *r, uint32_t h) {
  if (h >= r->n_roles)
    return 0;
  if (r->role[h] == SREG_ROLE_PROTECTOR)
    return r->cfg.addresses;
  if (r->role[h] == SREG_ROLE_BYSTANDER)
    return r->cfg.bystander_addresses;
  return 0;
}

void sreg_free_addrs(char **a, size_t n) {
  for (size_t i = 0; a != NULL && i < n; i++)
    free(a[i]);
  free(a);
}

char **sreg_addrs(const sim_reg *r, const uint32_t *hosts, size_t n_hosts,
                  const char *filler_domain, size_t total, size_t *n_out) {
  char buf[REG_ADDRESS_MAX + 1];
  size_t n = 0;
  char **a = calloc(total ? total : 1, sizeof *a);
  *n_out = 0;
  if (a == NULL)
    return NULL;
  for (size_t i = 0; i < n_hosts; i++)
    for (uint32_t j = 0; j < sreg_protects(r, hosts[i]) && n < total; j++) {
      sreg_address(buf, sizeof buf, hosts[i], j);
      if ((a[n++] = strdup(buf)) == NULL)
        goto fail;
    }
  for (size_t k = 0; n < total; k++) {
    snprintf(buf, sizeof buf, "f%zu@%s", k, filler_domain);
    if ((a[n++] = strdup(buf)) == NULL)
      goto fail;
  }
  *n_out = n;
  return a;
fail:
  sreg_free_addrs(a, n);
  return NULL;
}

static void batch_random(void *user, uint8_t *buf, size_t len) {
  sim_reg *r = user;
  sim_rng_fill(&r->rng, buf, len);
}

static int by_full(const void *x, const void *y) {
  return memcmp(((const sreg_expect *)x)->full, ((const sreg_expect *)y)->full,
                REG_FULL_HASH_LEN);
}

/* expect_fill lists the protected addresses of |hosts| as the opt-outs
 * batch |b| should receive. Returns 0 or SIM_ERR_NOMEM. */
static int expect_fill(sim_reg *r, sreg_batch *b, const uint8_t *salt,
                       const uint32_t *hosts, size_t n_hosts) {
  char buf[REG_ADDRESS_MAX + 1];
  size_t n = 0;
  for (size_t i = 0; i < n_hosts; i++)
    n += sreg_protects(r, hosts[i]);
  if ((b->exp = calloc(n ? n : 1, sizeof *b->exp)) == NULL)
    return SIM_ERR_NOMEM;
  for (size_t i = 0; i < n_hosts; i++)
    for (uint32_t j = 0; j < sreg_protects(r, hosts[i]); j++) {
      sreg_address(buf, sizeof buf, hosts[i], j);
      reg_address_hash(b->exp[b->n_exp].full, salt, buf, strlen(buf));
      b->exp[b->n_exp++].owner = hosts[i];
    }
  qsort(b->exp, b->n_exp, sizeof *b->exp, by_full);
  return 0;
}

static sreg_batch *batch_slot(sim_reg *r) {
  if (r->n_batches == r->cap_batches) {
    size_t cap = r->cap_batches ? 2 * r->cap_batches : 8;
    sreg_batch *nb = realloc(r->batches, cap * sizeof *nb);
    if (nb == NULL)
      return NULL;
    r->batches = nb;
    r->cap_batches = cap;
  }
  sreg_batch *b = &r->batches[r->n_batches];
  memset(b, 0, sizeof *b);
  return b;
}

int sreg_build(sim_world *w, const sreg_build_args *a, reg_batch **out) {
  sim_reg *r = w->reg;
  sreg_batch *b = batch_slot(r);
  *out = NULL;
  if (b == NULL)
    return SIM_ERR_NOMEM;
  double t = sreg_cpu_now();
  int rv = reg_batch_build(out, (const char *const *)a->addrs, a->n,
                           &r->senders[a->sender].id, w->q.now / DHT_SEC,
                           r->cfg.batch_ttl_s, a->pow_base, batch_random, r);
  r->cpu_s += sreg_cpu_now() - t;
  if (rv != 0)
    return SIM_ERR_INVALID_ARGUMENT;
  const reg_manifest *m = reg_batch_manifest(*out);
  memcpy(b->sender_pk, r->senders[a->sender].id.pk, NC_PK_LEN);
  memcpy(b->id, m->batch_id, REG_BATCH_ID_LEN);
  reg_inbox_key(b->inbox, b->sender_pk, b->id);
  b->sender = a->sender;
  b->kind = a->kind;
  snprintf(b->label, sizeof b->label, "%s", a->label);
  b->count = m->count;
  b->records = reg_batch_record_count(*out);
  b->pow_hashes = m->pow_nonce + 1;
  b->published_at = w->q.now;
  if (expect_fill(r, b, m->salt, a->hosts, a->n_hosts) != 0) {
    reg_batch_free(*out);
    *out = NULL;
    return SIM_ERR_NOMEM;
  }
  return (int)r->n_batches++;
}

void sreg_batch_unlisted(sim_reg *r, int bi) {
  sreg_batch *b = &r->batches[bi];
  b->kind = SREG_B_OTHER;
  free(b->exp);
  b->exp = NULL;
  b->n_exp = 0;
}

/* ---- Publishing and reading inboxes ------------------------------------- */

enum { OP_PUBLISH, OP_READ };

static void on_published(void *arg, int status, size_t published,
                         size_t failed) {
  sreg_op *op = arg;
  sreg_batch *b = &op->w->reg->batches[op->index];
  b->pub_done = 1;
  b->pub_status = status;
  b->published = published;
  b->failed = failed;
}

int sreg_publish(sim_world *w, uint32_t host, int bi, const reg_batch *b) {
  sim_host *h = &w->hosts[host];
  sreg_batch *sb = &w->reg->batches[bi];
  uint8_t *file = NULL;
  size_t len = 0;
  if (h->reg == NULL || reg_batch_file_encode(b, &file, &len) != 0) {
    sb->pub_done = 1;
    sb->pub_status = REG_ERR_NOMEM;
    return SIM_ERR_NOMEM;
  }
  sreg_op *op = sreg_op_new(w, host, OP_PUBLISH, bi);
  int rv = op ? reg_node_publish_batch(h->reg, w->q.now, file, len,
                                       on_published, op)
              : SIM_ERR_NOMEM;
  free(file);
  if (rv < 0) {
    sb->pub_done = 1;
    sb->pub_status = rv;
  }
  sim_world_service(w, h);
  return rv < 0 ? rv : 0;
}

static void on_read_visit(void *arg, const dht_record *rec,
                          const uint8_t *bytes, size_t len) {
  sreg_op *op = arg;
  sim_reg *r = op->w->reg;
  sreg_batch *b = &r->batches[op->index];
  reg_optout_record x;
  reg_optout o;
  int s;
  (void)bytes, (void)len;
  b->read_records++;
  if (rec->type != REG_RECORD_OPTOUT ||
      reg_optout_record_decode(&x, rec->payload, rec->payload_len) != 0 ||
      !sreg_open_optout(r, &x, &o, &s) || s != b->sender ||
      memcmp(o.batch_id, b->id, REG_BATCH_ID_LEN) != 0) {
    b->read_unopened++;
    return;
  }
  b->read_opened++;
  sreg_expect *e = sreg_expect_find(b, o.full_hash);
  if (e != NULL)
    e->read = 1;
}

static void on_read_done(void *arg, int status, unsigned found,
                         const dht_lookup_stats *st) {
  sreg_op *op = arg;
  sreg_batch *b = &op->w->reg->batches[op->index];
  (void)found, (void)st;
  b->read_done = 1;
  b->read_status = status;
}

void sreg_read_inbox(sim_world *w, uint32_t host, int bi) {
  sim_host *h = &w->hosts[host];
  sreg_batch *b = &w->reg->batches[bi];
  sreg_op *op = sreg_op_new(w, host, OP_READ, bi);
  if (op == NULL || h->node == NULL)
    return;
  int rv = dht_node_get_all(h->node, w->q.now, b->inbox, w->reg->cfg.read_max,
                            on_read_visit, on_read_done, op);
  if (rv != 0) {
    b->read_done = 1;
    b->read_status = rv;
  }
  sim_world_service(w, h);
}

int sreg_publish_genuine(sim_world *w, const char *label) {
  sim_reg *r = w->reg;
  size_t n = 0;
  reg_batch *b = NULL;
  char **addrs = sreg_addrs(r, r->protector_hosts, r->n_protectors,
                            "list.test", r->cfg.batch_size, &n);
  if (addrs == NULL)
    return SIM_ERR_NOMEM;
  sreg_build_args a = {.sender = 0, .kind = SREG_B_GENUINE, .label = label,
                       .addrs = addrs, .n = n,
                       .pow_base = r->cfg.rc.batch_pow_base_bits,
                       .hosts = r->protector_hosts,
                       .n_hosts = r->n_protectors};
  int bi = sreg_build(w, &a, &b);
  sreg_free_addrs(addrs, n);
  if (bi < 0)
    return bi;
  int rv = sreg_publish(w, r->senders[0].host, bi, b);
  reg_batch_free(b);
  return rv;
}

/* ---- Set-up --------------------------------------------------------------- */

/* add_sender derives sender key number |n| from the run seed (mined at the
 * DHT difficulty, as every record author must be) for |host|. */
static int add_sender(sim_world *w, uint32_t host, uint8_t role) {
  sim_reg *r = w->reg;
  uint8_t seed[NC_SEED_LEN], le[8];
  nc_hasher hs;
  unsigned d = w->sc.dht.difficulty;
  uint64_t idx = r->n_senders;
  if (r->n_senders == SREG_SENDERS_MAX)
    return SIM_ERR_INVALID_ARGUMENT;
  nc_hasher_init(&hs, NULL, 0, sizeof seed);
  nc_hasher_update(&hs, sender_tag, sizeof sender_tag - 1);
  for (int k = 0; k < 2; k++) {
    uint64_t v = k == 0 ? w->seed : idx;
    for (int i = 0; i < 8; i++)
      le[i] = (uint8_t)(v >> (8 * i));
    nc_hasher_update(&hs, le, sizeof le);
  }
  nc_hasher_final(&hs, seed, sizeof seed);
  sreg_sender *s = &r->senders[r->n_senders];
  int rv = nc_identity_from_seed(&s->id, seed, d, 0,
                                 UINT64_C(1) << (d + IDENTITY_TRIES_SHIFT));
  sodium_memzero(seed, sizeof seed);
  if (rv != 0)
    return SIM_ERR_IDENTITY;
  s->host = host;
  s->role = role;
  r->n_senders++;
  return 0;
}

static int add_senders(sim_world *w) {
  const sreg_cfg *c = &w->reg->cfg;
  int rv;
  if (c->experiment == SREG_PLANTED) {
    if ((rv = add_sender(w, c->bystander, SREG_ROLE_BYSTANDER)) != 0)
      return rv;
    return add_sender(w, c->attacker, SREG_ROLE_ATTACKER);
  }
  if ((rv = add_sender(w, c->publisher, SREG_ROLE_PUBLISHER)) != 0)
    return rv;
  for (uint32_t k = 0; c->experiment == SREG_FLOOD && k < c->flood_keys; k++)
    if ((rv = add_sender(w, c->flooder, SREG_ROLE_FLOODER)) != 0)
      return rv;
  return 0;
}

static int alloc_hosts(sim_reg *r, uint32_t n) {
  size_t slots = 16;
  while (slots < 2 * (size_t)n)
    slots *= 2;
  r->n_roles = n;
  r->role = calloc(n, sizeof *r->role);
  r->expired_at = calloc(n, sizeof *r->expired_at);
  r->app_rx = calloc(n, sizeof *r->app_rx);
  r->host_pk = calloc(n, sizeof *r->host_pk);
  r->pk_index = calloc(slots, sizeof *r->pk_index);
  r->pk_mask = slots - 1;
  r->protector_hosts = calloc(n, sizeof *r->protector_hosts);
  return r->role && r->expired_at && r->app_rx && r->host_pk && r->pk_index &&
                 r->protector_hosts
             ? 0
             : SIM_ERR_NOMEM;
}

/* set_types registers the registry's record types with every node and
 * prepares the configuration of nodes that file records their own node
 * would refuse (flooder, attacker): the same types without key rules and
 * without storage quotas (a modified node; honest storers still apply
 * theirs). */
static int set_types(sim_world *w) {
  sim_reg *r = w->reg;
  reg_types_init(&r->types, r->cfg.rc.batch_pow_base_bits);
  memcpy(r->lax_types, r->types.t, sizeof r->lax_types);
  for (size_t i = 0; i < REG_RECORD_TYPES; i++) {
    r->lax_types[i].key_check = NULL;
    r->lax_types[i].key_author_max = 0;
  }
  w->sc.dht.types = r->types.t;
  w->sc.dht.n_types = REG_RECORD_TYPES;
  r->lax_cfg = w->sc.dht;
  r->lax_cfg.types = r->lax_types;
  r->lax_cfg.author_max_records = UINT32_MAX; /* nor quotas on its own */
  r->lax_cfg.author_max_bytes = UINT32_MAX;
  r->lax_cfg.store_max_bytes = UINT64_MAX;
  r->lax_cfg.max_operations = 4096;
  return 0;
}

int sim_registry_init(sim_world *w) {
  char err[256];
  int rv;
  if (!w->sc.registry.present)
    return 0;
  if ((w->reg = calloc(1, sizeof *w->reg)) == NULL)
    return SIM_ERR_NOMEM;
  if (sreg_cfg_parse(&w->sc, &w->reg->cfg, err, sizeof err) != 0)
    return SIM_ERR_SCENARIO;
  sim_rng_stream(&w->reg->rng, w->seed, "registry", 0);
  if ((rv = set_types(w)) != 0 || (rv = alloc_hosts(w->reg, w->n_hosts)) != 0)
    return rv;
  return add_senders(w);
}

/* pick_protectors gives the protector role to cfg.protectors hosts drawn
 * uniformly among the honest hosts without a role. */
static void pick_protectors(sim_world *w) {
  sim_reg *r = w->reg;
  uint32_t n = w->n_honest, want = r->cfg.protectors;
  for (uint64_t guard = 0; r->n_protectors < want && guard < 64ull * n;
       guard++) {
    uint32_t h = (uint32_t)sim_rng_below(&r->rng, n);
    if (r->role[h] != SREG_ROLE_NONE)
      continue;
    r->role[h] = SREG_ROLE_PROTECTOR;
    r->protector_hosts[r->n_protectors++] = h;
  }
}

int sim_registry_assign(sim_world *w) {
  sim_reg *r = w->reg;
  if (r == NULL)
    return 0;
  for (size_t i = 0; i < r->n_senders; i++)
    r->role[r->senders[i].host] = r->senders[i].role;
  pick_protectors(w);
  if (r->n_protectors < r->cfg.protectors)
    return SIM_ERR_SCENARIO;
  int rv = 0;
  if (r->cfg.experiment == SREG_ANONYMITY)
    for (uint32_t i = 0; i < r->cfg.batches; i++)
      sreg_push(w, w->t0 + r->cfg.publish_at + i * r->cfg.batch_gap,
                SREG_ACT_PUBLISH, i);
  else if (r->cfg.experiment == SREG_FLOOD)
    rv = sreg_flood_assign(w);
  else
    rv = sreg_planted_assign(w);
  sreg_push(w, w->t0 + r->cfg.read_at, SREG_ACT_READ, 0);
  return rv ? rv : w->error;
}

/* ---- Hosting -------------------------------------------------------------- */

void sim_registry_env(sim_world *w, sim_host *h, dht_env *env) {
  (void)w, (void)h;
  env->app_message = sreg_app_hook;
  env->store_put = sreg_store_hook;
}

int sim_registry_host_start(sim_world *w, sim_host *h) {
  sim_reg *r = w->reg;
  char addr[REG_ADDRESS_MAX + 1];
  reg_env env;
  memset(&env, 0, sizeof env);
  env.user = h;
  env.random = sim_host_random;
  env.log = w->log != NULL ? sim_host_log : NULL;
  pk_insert(r, w, h->index);
  if (reg_node_new(&h->reg, &r->cfg.rc, &env, h->node, &h->ident, w->q.now))
    return SIM_ERR_NODE;
  for (uint32_t j = 0; j < sreg_protects(r, h->index); j++) {
    sreg_address(addr, sizeof addr, h->index, j);
    if (reg_node_protect_add(h->reg, w->q.now, addr) != 0)
      return SIM_ERR_NODE;
  }
  return 0;
}

void sim_registry_host_stop(sim_host *h) {
  reg_node_free(h->reg);
  h->reg = NULL;
}

dht_time sim_registry_deadline(const sim_host *h, dht_time dht_deadline) {
  if (h->reg == NULL)
    return dht_deadline;
  dht_time now = h->world->q.now;
  dht_time d = reg_node_next_deadline(h->reg);
  if (d <= now && h->world->reg->expired_at[h->index] == now)
    d = now + DHT_MS; /* still due right after its expiry: no spinning */
  return d < dht_deadline ? d : dht_deadline;
}

void sim_registry_expiry(sim_world *w, sim_host *h) {
  dht_time now = w->q.now;
  if (dht_node_next_deadline(h->node) <= now)
    dht_node_handle_expiry(h->node, now);
  if (h->reg != NULL && reg_node_next_deadline(h->reg) <= now)
    reg_node_handle_expiry(h->reg, now);
  w->reg->expired_at[h->index] = now;
}

/* ---- Events --------------------------------------------------------------- */

static void act_publish(sim_world *w, uint32_t arg) {
  char label[32];
  snprintf(label, sizeof label, "genuine-%u", arg);
  int rv = sreg_publish_genuine(w, label);
  if (rv == SIM_ERR_NOMEM)
    w->error = rv;
}

static void act_read(sim_world *w, uint32_t arg) {
  sim_reg *r = w->reg;
  (void)arg;
  for (size_t i = 0; i < r->n_batches; i++)
    if (r->batches[i].kind != SREG_B_OTHER)
      sreg_read_inbox(w, r->senders[r->batches[i].sender].host, (int)i);
}

static void act_pump(sim_world *w, uint32_t arg) {
  (void)arg;
  w->reg->putq.armed = 0;
  sreg_putq_kick(w);
}

typedef void (*act_fn)(sim_world *w, uint32_t arg);

static const act_fn actions[] = {
    [SREG_ACT_PUBLISH] = act_publish,
    [SREG_ACT_READ] = act_read,
    [SREG_ACT_FLOOD] = sreg_flood_on_event,
    [SREG_ACT_PLANTED] = sreg_planted_on_event,
    [SREG_ACT_PUMP] = act_pump,
};

void sim_registry_on_event(sim_world *w, const sim_event *ev) {
  uint32_t act = (uint32_t)(ev->aux >> 32);
  SIM_ASSERT(w->reg != NULL && act < sizeof actions / sizeof *actions);
  actions[act](w, (uint32_t)ev->aux);
}

/* ---- The scripted put queue ---------------------------------------------- */

#define PUTQ_RETRY (200 * DHT_MS) /* the node said BUSY: try again */

void sreg_rng_fill(void *user, uint8_t *buf, size_t len) {
  sim_rng_fill(user, buf, len);
}

int sreg_putq_add(sim_world *w, uint32_t host, const uint8_t *rec, size_t len,
                  int tag) {
  sreg_putq *q = &w->reg->putq;
  if (q->n == q->cap) {
    size_t cap = q->cap ? 2 * q->cap : 256;
    sreg_qput *nq = realloc(q->items, cap * sizeof *nq);
    if (nq == NULL)
      return SIM_ERR_NOMEM;
    q->items = nq;
    q->cap = cap;
  }
  uint8_t *copy = malloc(len);
  if (copy == NULL)
    return SIM_ERR_NOMEM;
  memcpy(copy, rec, len);
  q->items[q->n++] = (sreg_qput){copy, len, host, tag};
  return 0;
}

static void on_queued_put(void *arg, int status, unsigned stored,
                          const dht_lookup_stats *st) {
  sreg_op *op = arg;
  sim_reg *r = op->w->reg;
  sreg_putstat *p = &r->putstat[op->index];
  (void)st;
  r->putq.inflight--;
  p->acked += status == 0 && stored > 0;
  p->not_stored += stored == 0;
  p->stored_sum += stored;
  sreg_putq_kick(op->w);
}

/* The queue is in order: a BUSY head waits PUTQ_RETRY (one event). */
void sreg_putq_kick(sim_world *w) {
  sim_reg *r = w->reg;
  sreg_putq *q = &r->putq;
  while (q->next < q->n && q->inflight < r->cfg.flood_inflight) {
    sreg_qput *p = &q->items[q->next];
    sim_host *h = &w->hosts[p->host];
    sreg_op *op = sreg_op_new(w, p->host, 0, p->tag);
    if (op == NULL || h->node == NULL)
      return;
    int rv = dht_node_put(h->node, w->q.now, p->bytes, p->len, on_queued_put,
                          op);
    if (rv == DHT_ERR_BUSY) {
      if (!q->armed) {
        q->armed = 1;
        sreg_push(w, w->q.now + PUTQ_RETRY, SREG_ACT_PUMP, 0);
      }
      return;
    }
    r->putstat[p->tag].puts++;
    if (rv < 0)
      r->putstat[p->tag].refused_locally++;
    else
      q->inflight++;
    free(p->bytes);
    p->bytes = NULL;
    q->next++;
    sim_world_service(w, h);
  }
}

static void putq_free(sreg_putq *q) {
  for (size_t i = 0; i < q->n; i++)
    free(q->items[i].bytes);
  free(q->items);
  memset(q, 0, sizeof *q);
}

/* ---- Figures ----------------------------------------------------------------- */

static const char *const kind_names[] = {"genuine", "attacker", "bystander",
                                         "other"};

/* delivery_json: seconds from publishing to the first stored opt-out of
 * each delivered address. */
static json_t *delivery_json(const sreg_batch *b) {
  sim_values v = {0};
  for (size_t i = 0; i < b->n_exp; i++)
    if (b->exp[i].copies > 0)
      sim_values_add(&v, (double)(b->exp[i].first_at - b->published_at) / 1e9);
  json_t *o = json_pack("{s:f, s:f, s:f}", "p50", sim_values_percentile(&v, 50),
                        "p90", sim_values_percentile(&v, 90), "max",
                        sim_values_percentile(&v, 100));
  sim_values_free(&v);
  return o;
}

static json_t *batch_json(const sreg_batch *b) {
  uint64_t delivered = 0, read = 0;
  for (size_t i = 0; i < b->n_exp; i++) {
    delivered += b->exp[i].copies > 0;
    read += b->exp[i].read;
  }
  json_t *o = json_pack(
      "{s:s, s:s, s:I, s:I, s:I, s:f, s:b, s:I, s:I, s:I, s:I, s:I, s:I, "
      "s:I, s:I, s:I, s:I, s:I, s:I}",
      "label", b->label, "kind", kind_names[b->kind], "entries",
      (json_int_t)b->count, "records", (json_int_t)b->records, "pow_hashes",
      (json_int_t)b->pow_hashes, "published_at_s",
      (double)(b->published_at - SIM_EPOCH) / 1e9, "publish_ok",
      b->pub_done && b->pub_status == 0, "records_published",
      (json_int_t)b->published, "expected_optouts", (json_int_t)b->n_exp,
      "delivered_addresses", (json_int_t)delivered, "optout_records",
      (json_int_t)b->optout_records, "opened", (json_int_t)b->opened,
      "unopened", (json_int_t)b->unopened, "misfiled",
      (json_int_t)b->misfiled, "by_honest", (json_int_t)b->by_honest,
      "by_attacker", (json_int_t)b->by_attacker, "inbox_read_records",
      (json_int_t)b->read_records, "inbox_read_addresses", (json_int_t)read,
      "inbox_read_unopened", (json_int_t)b->read_unopened);
  if (o != NULL) {
    json_object_set_new(o, "delivery_s", delivery_json(b));
    json_object_set_new(o, "inbox_read_done",
                        json_boolean(b->read_done && b->read_status == 0));
  }
  return o;
}

/* nodes_json sums the registry counters of every node that runs one. */
static json_t *nodes_json(sim_world *w) {
  reg_stats sum = {0};
  for (uint32_t i = 0; i < w->n_hosts; i++) {
    reg_stats s;
    if (w->hosts[i].reg == NULL)
      continue;
    reg_node_stats(w->hosts[i].reg, &s);
    sum.batches_seen += s.batches_seen;
    sum.batches_fetched += s.batches_fetched;
    sum.batches_refused += s.batches_refused;
    sum.chunks_refetched += s.chunks_refetched;
    sum.matches += s.matches;
    sum.optouts_sent += s.optouts_sent;
    sum.optouts_relayed += s.optouts_relayed;
    sum.optouts_stored += s.optouts_stored;
    sum.relays_refused += s.relays_refused;
    sum.evidence_published += s.evidence_published;
    sum.escalations_sent += s.escalations_sent;
  }
  return json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
      "batches_seen", (json_int_t)sum.batches_seen, "batches_fetched",
      (json_int_t)sum.batches_fetched, "batches_refused",
      (json_int_t)sum.batches_refused, "chunks_refetched",
      (json_int_t)sum.chunks_refetched, "matches", (json_int_t)sum.matches,
      "optouts_sent", (json_int_t)sum.optouts_sent, "optouts_relayed",
      (json_int_t)sum.optouts_relayed, "optouts_stored",
      (json_int_t)sum.optouts_stored, "relays_refused",
      (json_int_t)sum.relays_refused, "evidence_published",
      (json_int_t)sum.evidence_published, "escalations_sent",
      (json_int_t)sum.escalations_sent);
}

static json_t *config_json(const sim_world *w) {
  const sreg_cfg *c = &w->reg->cfg;
  return json_pack(
      "{s:s, s:f, s:I, s:I, s:f, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I}",
      "experiment", sreg_experiment_name(c->experiment), "p_f",
      c->rc.forward_permille / 1000.0, "optout_pow_bits",
      (json_int_t)c->rc.optout_pow_bits, "batch_pow_bits",
      (json_int_t)c->rc.batch_pow_base_bits, "poll_interval_s",
      (double)c->rc.index_poll_interval / 1e9, "lookback",
      (json_int_t)c->rc.index_lookback, "grace_s",
      (double)c->rc.grace / 1e9, "escalation_spacing_s",
      (double)c->rc.escalation_spacing / 1e9, "escalation_levels",
      (json_int_t)c->rc.escalation_levels, "protectors",
      (json_int_t)w->reg->n_protectors, "addresses_each",
      (json_int_t)c->addresses, "batch_size", (json_int_t)c->batch_size,
      "nodes", (json_int_t)w->n_honest);
}

json_t *sim_registry_json(sim_world *w) {
  sim_reg *r = w->reg;
  if (r == NULL)
    return NULL;
  json_t *batches = json_array();
  for (size_t i = 0; batches != NULL && i < r->n_batches; i++)
    json_array_append_new(batches, batch_json(&r->batches[i]));
  json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "config", config_json(w),
                        "batches", batches, "nodes", nodes_json(w),
                        "observed", sreg_observe_json(w));
  if (o == NULL)
    return NULL;
  if (r->cfg.experiment == SREG_ANONYMITY)
    json_object_set_new(o, "anonymity", sreg_anonymity_json(w));
  else if (r->cfg.experiment == SREG_FLOOD)
    json_object_set_new(o, "flood", sreg_flood_json(w));
  else
    json_object_set_new(o, "planted", sreg_planted_json(w));
  return o;
}

json_t *sim_registry_host_json(sim_world *w) {
  sim_reg *r = w->reg;
  if (r == NULL)
    return NULL;
  json_t *o = json_pack("{s:f}", "batch_build_cpu_s", r->cpu_s);
  if (o != NULL && r->flood != NULL)
    json_object_set_new(o, "flooder", sreg_flood_cpu_json(w));
  return o;
}

int sim_registry_write_files(sim_world *w, const char *dir) {
  char path[4096];
  if (w->reg == NULL || w->reg->cfg.experiment != SREG_ANONYMITY)
    return 0;
  int n = snprintf(path, sizeof path, "%s/anonymity.csv", dir);
  if (n < 0 || (size_t)n >= sizeof path)
    return SIM_ERR_IO;
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return SIM_ERR_IO;
  int rv = sreg_anonymity_csv(w, f);
  if (fclose(f) != 0)
    rv = -1;
  return rv == 0 ? 0 : SIM_ERR_IO;
}

void sim_registry_free(sim_world *w) {
  sim_reg *r = w->reg;
  if (r == NULL)
    return;
  for (uint32_t i = 0; w->hosts != NULL && i < w->n_hosts; i++)
    sim_registry_host_stop(&w->hosts[i]);
  for (size_t i = 0; i < r->n_senders; i++)
    nc_identity_wipe(&r->senders[i].id);
  for (size_t i = 0; i < r->n_batches; i++)
    free(r->batches[i].exp);
  while (r->ops != NULL) {
    sreg_op *next = r->ops->next;
    free(r->ops);
    r->ops = next;
  }
  putq_free(&r->putq);
  sreg_observe_free(r);
  sreg_flood_free(r);
  sreg_planted_free(r);
  free(r->batches);
  free(r->role);
  free(r->expired_at);
  free(r->app_rx);
  free(r->host_pk);
  free(r->pk_index);
  free(r->protector_hosts);
  free(r);
  w->reg = NULL;
}
