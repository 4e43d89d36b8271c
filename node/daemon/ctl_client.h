/*
 * The CLI side of the control socket: connect to DATA_DIR/control.sock,
 * send one request line, wait (bounded) for the one reply line. Blocking
 * POSIX I/O with poll(); the CLI has nothing else to do meanwhile.
 */
#ifndef NOINTRUDE_NODE_CTL_CLIENT_H
#define NOINTRUDE_NODE_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* node_ctl_call sends |request| to the node running on |data_dir| and
 * waits at most |timeout_ms| for its reply, stored in |*reply| (a JSON
 * object with a boolean "ok"; the caller decrefs it). On failure |err|
 * (|cap| bytes) says what failed. Returns 0, NODE_ERR_IO (cannot connect,
 * connection lost), NODE_ERR_TIMEOUT, NODE_ERR_TOO_LARGE or
 * NODE_ERR_PROTO (reply is not a JSON object with "ok"). */
int node_ctl_call(const char *data_dir, const json_t *request,
                  uint64_t timeout_ms, json_t **reply, char *err, size_t cap);

#endif /* NOINTRUDE_NODE_CTL_CLIENT_H */
