/*
 * Daemon logging: one line per event on stderr, "ISO-time LEVEL message".
 * Levels reuse the DHT's (DHT_LOG_ERROR..DHT_LOG_DEBUG) so lines from the
 * engine's log hook and from the daemon share one filter.
 */
#ifndef NOINTRUDE_NODE_LOG_H
#define NOINTRUDE_NODE_LOG_H

#include <nointrude/dht.h>

/* node_log_set_level sets the most verbose level printed (DHT_LOG_*). */
void node_log_set_level(int level);

/* node_log_level_parse maps "error", "warn", "info" or "debug" to a
 * DHT_LOG_* value in |*level|. Returns 0 or NODE_ERR_USAGE. */
int node_log_level_parse(const char *name, int *level);

/* node_log prints one line at |level| if the filter lets it through; the
 * message is printf-formatted and cut at 1 KiB; control characters in it
 * are replaced so a line stays a line. */
void node_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* NOINTRUDE_NODE_LOG_H */
