/*
 * Registry state persistence (see reg_state.h). The registry decides what
 * its keys and values mean; this layer only prefixes, bounds and stores
 * them, and at start hands them back, where they are parsed as hostile
 * bytes like everything read from disk.
 */
#include "reg_state.h"

#include <string.h>

#include "errors.h"
#include "log.h"

static int dbkey(uint8_t out[1 + NODE_REG_STATE_KEY_MAX], const uint8_t *key,
                 size_t klen) {
  if (klen == 0 || klen > NODE_REG_STATE_KEY_MAX) return -1;
  out[0] = NODE_REG_STATE_PREFIX;
  memcpy(out + 1, key, klen);
  return 0;
}

static int hook_put(void *user, const uint8_t *key, size_t klen,
                    const uint8_t *val, size_t vlen) {
  node_persist *p = user;
  uint8_t k[1 + NODE_REG_STATE_KEY_MAX];
  if (dbkey(k, key, klen) < 0) return -1;
  if (node_store_put(p->store, k, klen + 1, val, vlen, 1) < 0) {
    p->store_failures++;
    node_log(DHT_LOG_ERROR, "database: cannot store registry state: %s",
             node_store_error(p->store));
    return -1;
  }
  return 0;
}

static int hook_del(void *user, const uint8_t *key, size_t klen) {
  node_persist *p = user;
  uint8_t k[1 + NODE_REG_STATE_KEY_MAX];
  if (dbkey(k, key, klen) < 0) return -1;
  if (node_store_del(p->store, k, klen + 1, 1) < 0) {
    p->store_failures++;
    node_log(DHT_LOG_ERROR, "database: cannot delete registry state: %s",
             node_store_error(p->store));
    return -1;
  }
  return 0;
}

void node_reg_state_env(node_persist *p, reg_env *env) {
  env->user = p;
  env->state_put = hook_put;
  env->state_del = hook_del;
}

typedef struct state_ctx {
  node_persist *p;
  reg_node *reg;
  dht_time now;
  node_store_batch *doomed;
  size_t restored;
} state_ctx;

static int restore_one(void *arg, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen) {
  state_ctx *c = arg;
  int rv = klen > 1 && klen <= 1 + NODE_REG_STATE_KEY_MAX
               ? reg_node_restore_state(c->reg, c->now, key + 1, klen - 1, val,
                                        vlen)
               : REG_ERR_MALFORMED;
  if (rv < 0) {
    node_log(DHT_LOG_WARN, "restore: dropping stored registry state: %s",
             reg_strerror(rv));
    node_store_batch_del(c->doomed, key, klen);
    c->p->restore_failures++;
    return 0;
  }
  c->restored++;
  return 0;
}

int node_reg_state_restore(node_persist *p, reg_node *r, dht_time now,
                           size_t *restored) {
  static const uint8_t prefix = NODE_REG_STATE_PREFIX;
  state_ctx c = {p, r, now, node_store_batch_new(), 0};
  int rv = c.doomed ? 0 : NODE_ERR_NOMEM;
  if (rv == 0 && node_store_iterate(p->store, &prefix, 1, restore_one, &c) < 0)
    rv = NODE_ERR_STORE;
  if (rv == 0) rv = node_store_batch_write(p->store, c.doomed, 1);
  node_store_batch_free(c.doomed);
  *restored = c.restored;
  return rv;
}
