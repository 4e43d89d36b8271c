/*
 * Logging for the daemon: one line per event on stderr with a UTC time
 * stamp, a level and the message. The level filter is the only state; the
 * daemon is one node per process, so a file-static level is enough here
 * (the DHT core itself has no globals and logs through dht_env.log).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "util.h"

#define LOG_LINE_MAX 1024 /* bytes of one message; longer ones are cut */

static int log_level = DHT_LOG_INFO;

static const char *const level_names[] = {
    [DHT_LOG_ERROR] = "error",
    [DHT_LOG_WARN] = "warn",
    [DHT_LOG_INFO] = "info",
    [DHT_LOG_DEBUG] = "debug",
};

/* Printed in upper case so levels stand out from the message. */
static const char *const level_tags[] = {
    [DHT_LOG_ERROR] = "ERROR",
    [DHT_LOG_WARN] = "WARN",
    [DHT_LOG_INFO] = "INFO",
    [DHT_LOG_DEBUG] = "DEBUG",
};

void node_log_set_level(int level) { log_level = level; }

int node_log_level_parse(const char *name, int *level) {
  for (int i = 0; i < (int)(sizeof level_names / sizeof *level_names); i++) {
    if (name && strcmp(name, level_names[i]) == 0) {
      *level = i;
      return 0;
    }
  }
  return NODE_ERR_USAGE;
}

void node_log(int level, const char *fmt, ...) {
  char msg[LOG_LINE_MAX], stamp[NODE_ISO_TIME_LEN];
  va_list ap;
  if (level < DHT_LOG_ERROR || level > log_level) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  node_iso_time(stamp, node_wall_ns() / DHT_MS);
  fprintf(stderr, "%s %s %s\n", stamp, level_tags[level], msg);
}
