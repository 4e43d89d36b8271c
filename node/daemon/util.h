/*
 * Small helpers shared by the daemon and the CLI: strict number parsing,
 * variable-length hex, paths inside the data directory, socket address
 * conversion, the wall clock and ISO-8601 time stamps.
 */
#ifndef NOINTRUDE_NODE_UTIL_H
#define NOINTRUDE_NODE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <nointrude/dht.h>

#define NODE_PATH_MAX 4096   /* bytes of any path we build, NUL included */
#define NODE_ISO_TIME_LEN 32 /* "2025-01-31T12:34:56.789Z" + NUL, rounded */

/* node_parse_u64 parses |text| as a decimal integer in [min, max]: digits
 * only, no sign, no spaces, no trailing characters. Writes |*out| only on
 * success. Returns 0 or NODE_ERR_USAGE. */
int node_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* node_parse_seconds parses a positive decimal number of seconds with at
 * most three decimals ("2", "0.5") into |*ms|, in (0, max_s] seconds.
 * Returns 0 or NODE_ERR_USAGE. */
int node_parse_seconds(const char *text, uint64_t max_s, uint64_t *ms);

/* node_hex_decode_alloc decodes |hex| (an even number of hex digits,
 * possibly zero) into a fresh buffer of at most |max| bytes, freed by the
 * caller; an empty input gives a non-NULL buffer of length 0.
 * Returns 0, NODE_ERR_USAGE (not hex), NODE_ERR_TOO_LARGE or NODE_ERR_NOMEM. */
int node_hex_decode_alloc(const char *hex, size_t max, uint8_t **out,
                          size_t *len);

/* node_listen_parse parses a listen address: like dht_addr_parse, but
 * port 0 ("127.0.0.1:0", "the kernel picks a port") is allowed.
 * Returns 0 or NODE_ERR_USAGE. */
int node_listen_parse(dht_addr *out, const char *text);

/* node_path_join writes "|dir|/|name|" into |out| (|cap| bytes).
 * Returns 0 or NODE_ERR_TOO_LARGE. */
int node_path_join(char *out, size_t cap, const char *dir, const char *name);

/* node_mkdir_private creates |dir| and any missing parents with mode 0700.
 * An existing directory is accepted as is. Returns 0 or NODE_ERR_IO with
 * errno set. */
int node_mkdir_private(const char *dir);

/* node_addr_to_sockaddr converts |addr| into |ss| and its length |*len|.
 * Returns 0 or NODE_ERR_USAGE (unknown family). */
int node_addr_to_sockaddr(const dht_addr *addr, struct sockaddr_storage *ss,
                          socklen_t *len);

/* node_addr_from_sockaddr converts an AF_INET or AF_INET6 |sa| into |out|.
 * Returns 0 or NODE_ERR_USAGE (other families). */
int node_addr_from_sockaddr(dht_addr *out, const struct sockaddr *sa);

/* node_read_file reads the regular file |path| whole (at most |max|
 * bytes) into a fresh buffer (one byte longer than *len, freed by the
 * caller). A file that shrinks while read gives what was there. Returns 0,
 * NODE_ERR_IO (|msg| says why), NODE_ERR_TOO_LARGE or NODE_ERR_NOMEM. */
int node_read_file(const char *path, unsigned long long max, uint8_t **out,
                   size_t *len, char *msg, size_t cap);

/* node_wall_ns returns the wall clock (CLOCK_REALTIME) in ns since the Unix
 * epoch. Not monotonic: the runtime clamps it (see runtime.c). */
dht_time node_wall_ns(void);

/* node_iso_time writes |unix_ms| as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" into
 * |out|. Returns |out|. */
char *node_iso_time(char out[NODE_ISO_TIME_LEN], uint64_t unix_ms);

/* Little-endian 64-bit integers in stored values. */
void node_put_le64(uint8_t out[8], uint64_t v);
uint64_t node_get_le64(const uint8_t in[8]);

#endif /* NOINTRUDE_NODE_UTIL_H */
