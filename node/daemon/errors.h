/*
 * Error codes of the daemon and CLI (node/daemon). Negative ints, like the
 * DHT_ERR_* and NC_ERR_* codes of the libraries underneath, generated from
 * one X-macro list that also gives node_strerror.
 */
#ifndef NOINTRUDE_NODE_ERRORS_H
#define NOINTRUDE_NODE_ERRORS_H

#define NODE_ERRORS(X)                                                         \
  X(NODE_ERR_USAGE, -201, "usage error")                                       \
  X(NODE_ERR_CONFIG, -202, "configuration error")                              \
  X(NODE_ERR_NOMEM, -203, "out of memory")                                     \
  X(NODE_ERR_IO, -204, "input/output error")                                   \
  X(NODE_ERR_STORE, -205, "database error")                                    \
  X(NODE_ERR_PROTO, -206, "malformed control request or reply")                \
  X(NODE_ERR_TOO_LARGE, -207, "exceeds a size limit")                          \
  X(NODE_ERR_NOT_FOUND, -208, "not found")                                     \
  X(NODE_ERR_TIMEOUT, -209, "timed out")                                       \
  X(NODE_ERR_IDENTITY, -210, "identity does not meet the difficulty")          \
  X(NODE_ERR_PERMISSIONS, -211, "file is accessible to other users")           \
  X(NODE_ERR_FORMAT, -212, "malformed file")

enum node_error {
#define NODE_ERR_ENUM(name, value, text) name = value,
  NODE_ERRORS(NODE_ERR_ENUM)
#undef NODE_ERR_ENUM
};

/* Process exit codes of every subcommand (docs/OPERATOR.md). */
enum node_exit {
  NODE_EXIT_OK = 0,      /* success */
  NODE_EXIT_FAILURE = 1, /* the command ran and failed; stderr says why */
  NODE_EXIT_USAGE = 2    /* bad command line; one line on stderr */
};

/* node_strerror returns a static description of |err| (never NULL). */
const char *node_strerror(int err);

#endif /* NOINTRUDE_NODE_ERRORS_H */
