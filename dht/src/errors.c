/*
 * Names for the DHT's error codes and datagram drop reasons. Both come
 * from the X-macro lists in dht.h, so a code added there is named here
 * without touching this file.
 */
#include <nointrude/dht.h>

const char *dht_strerror(int err) {
  switch (err) {
#define DHT_ERR_CASE(name, value, text) \
  case name:                            \
    return text;
    DHT_ERRORS(DHT_ERR_CASE)
#undef DHT_ERR_CASE
  case 0:
    return "success";
  default:
    return "unknown error";
  }
}

/* Indexed by enum dht_drop_reason, which counts up from 0 in list order. */
static const char *const drop_names[DHT_DROP_COUNT] = {
#define DHT_DROP_NAME(name, text) [name] = text,
    DHT_DROP_REASONS(DHT_DROP_NAME)
#undef DHT_DROP_NAME
};

const char *dht_drop_reason_name(int reason) {
  if (reason < 0 || reason >= DHT_DROP_COUNT) return "unknown";
  return drop_names[reason];
}
