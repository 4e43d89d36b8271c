/*
 * The control server: a Unix domain stream socket (DATA_DIR/control.sock,
 * mode 0600) speaking the JSON-lines protocol of ctl_proto.h. One request
 * at a time per connection; put, get and lookup reply when the DHT
 * operation completes.
 */
#ifndef NOINTRUDE_NODE_CONTROL_H
#define NOINTRUDE_NODE_CONTROL_H

#include <stddef.h>

#include <uv.h>

#include "runtime.h"

typedef struct node_control node_control;

/* node_control_start binds |path| (an existing socket file there is
 * replaced: the caller holds the data directory's database lock, so no
 * other node can own it) and accepts up to |max_clients| connections.
 * On failure |err| (|cap| bytes) says why. Returns 0, NODE_ERR_IO,
 * NODE_ERR_TOO_LARGE (path longer than sun_path) or NODE_ERR_NOMEM. */
int node_control_start(node_control **out, uv_loop_t *loop, node_runtime *rt,
                       const char *path, unsigned max_clients, char *err,
                       size_t cap);

/* node_control_stop stops accepting requests: closes the listening socket,
 * removes the socket file and closes every client. Idempotent. */
void node_control_stop(node_control *ctl);

/* node_control_free releases |ctl| once the loop has run the close
 * callbacks, along with operations still pending in the DHT (whose
 * callbacks will never run: call after dht_node_free). NULL is a no-op. */
void node_control_free(node_control *ctl);

/* node_control_clients returns the number of connected clients. */
size_t node_control_clients(const node_control *ctl);

#endif /* NOINTRUDE_NODE_CONTROL_H */
