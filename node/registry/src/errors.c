/*
 * Error descriptions for the registry: REG_ERR_* from the X-macro list in
 * registry.h, DHT_ERR_* passed through to dht_strerror.
 */
#include <nointrude/registry.h>

const char *reg_strerror(int err) {
  switch (err) {
#define REG_ERR_CASE(name, value, text) \
  case name:                            \
    return text;
    REG_ERRORS(REG_ERR_CASE)
#undef REG_ERR_CASE
  case 0:
    return "success";
  default:
    return dht_strerror(err);
  }
}
