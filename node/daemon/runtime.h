/*
 * The libuv driver of one DHT node: UDP sockets, one timer armed at the
 * engine's next deadline, the database, the control socket and signals.
 * node_runtime_run is the whole life of `nointrude node`; the node_rt_*
 * accessors are what the control server uses while it runs.
 */
#ifndef NOINTRUDE_NODE_RUNTIME_H
#define NOINTRUDE_NODE_RUNTIME_H

#include <nointrude/dht.h>
#include <nointrude/registry.h>

#include "config.h"
#include "ctl_proto.h"
#include "persist.h"

typedef struct node_runtime node_runtime;

/* node_runtime_run opens the database under o->data_dir (creating the
 * identity if needed), starts the node and runs the loop until SIGINT or
 * SIGTERM. Returns the process exit code: NODE_EXIT_OK after a clean
 * shutdown, NODE_EXIT_FAILURE if anything failed to start (logged). */
int node_runtime_run(const node_opts *o);

/* node_rt_now returns the wall clock in ns, never smaller than a value it
 * returned before (the engine requires non-decreasing time). */
dht_time node_rt_now(node_runtime *rt);

/* node_rt_dht returns the running DHT node. */
dht_node *node_rt_dht(node_runtime *rt);

/* node_rt_reg returns the registry running beside the DHT node. */
reg_node *node_rt_reg(node_runtime *rt);

/* node_rt_identity returns the node's identity (holds the secret key). */
const nc_identity *node_rt_identity(const node_runtime *rt);

/* node_rt_persist returns the node's persistence state. */
node_persist *node_rt_persist(node_runtime *rt);

/* node_rt_flush sends every datagram the engine has queued and re-arms the
 * timer; call it after starting an operation (DHT or registry). */
void node_rt_flush(node_runtime *rt);

/* node_rt_status fills |out| for the `status` command. */
void node_rt_status(node_runtime *rt, node_status *out);

#endif /* NOINTRUDE_NODE_RUNTIME_H */
