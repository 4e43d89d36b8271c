/*
 * The registry's local state in the node's database: protected
 * addresses, opt-out history and batches seen, written by the registry
 * through reg_env.state_put/state_del as opaque key/value pairs and fed
 * back at start with reg_node_restore_state. Database key: 'g' || the
 * registry's key ('s' already holds note sequence numbers).
 */
#ifndef NOINTRUDE_NODE_REG_STATE_H
#define NOINTRUDE_NODE_REG_STATE_H

#include <stddef.h>

#include <nointrude/registry.h>

#include "persist.h"

#define NODE_REG_STATE_PREFIX 'g'
#define NODE_REG_STATE_KEY_MAX 1024 /* bytes of a registry state key */

/* node_reg_state_env sets env->user, state_put and state_del to write
 * through |p|'s database. Every write is synced: a protected address the
 * CLI was told about must survive a crash of the machine. */
void node_reg_state_env(node_persist *p, reg_env *env);

/* node_reg_state_restore hands every stored pair to |r| at |now|; pairs
 * the registry refuses are deleted and counted in p->restore_failures.
 * |*restored| counts the accepted ones. Returns 0 or NODE_ERR_STORE /
 * NODE_ERR_NOMEM. */
int node_reg_state_restore(node_persist *p, reg_node *r, dht_time now,
                           size_t *restored);

#endif /* NOINTRUDE_NODE_REG_STATE_H */
