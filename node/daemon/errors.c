/*
 * node_strerror: names of the daemon's NODE_ERR_* codes, generated from the
 * same X-macro list as the enum so the two cannot drift apart.
 */
#include "errors.h"

const char *node_strerror(int err) {
  switch (err) {
#define NODE_ERR_CASE(name, value, text)                                       \
  case name:                                                                   \
    return text;
    NODE_ERRORS(NODE_ERR_CASE)
#undef NODE_ERR_CASE
  default:
    return "unknown error";
  }
}
