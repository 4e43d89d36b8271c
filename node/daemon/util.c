/*
 * Helpers shared by the daemon and the CLI. Everything here that parses
 * text is strict (whole string, bounded range) because its input comes
 * from the command line, a config file or the control socket.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"

int node_parse_u64(const char *text, uint64_t min, uint64_t max,
                   uint64_t *out) {
  uint64_t v = 0;
  if (!text || !*text) return NODE_ERR_USAGE;
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9') return NODE_ERR_USAGE;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return NODE_ERR_USAGE;
    v = v * 10 + d;
  }
  if (v < min || v > max) return NODE_ERR_USAGE;
  *out = v;
  return 0;
}

int node_parse_seconds(const char *text, uint64_t max_s, uint64_t *ms) {
  char whole[24];
  uint64_t s, frac = 0;
  const char *dot = text ? strchr(text, '.') : NULL;
  size_t wlen = dot ? (size_t)(dot - text) : (text ? strlen(text) : 0);
  if (!text || wlen == 0 || wlen >= sizeof whole) return NODE_ERR_USAGE;
  memcpy(whole, text, wlen);
  whole[wlen] = '\0';
  if (node_parse_u64(whole, 0, max_s, &s) < 0) return NODE_ERR_USAGE;
  if (dot) {
    size_t flen = strlen(dot + 1);
    if (flen < 1 || flen > 3) return NODE_ERR_USAGE;
    if (node_parse_u64(dot + 1, 0, 999, &frac) < 0) return NODE_ERR_USAGE;
    for (size_t i = flen; i < 3; i++) frac *= 10;
  }
  if ((s == 0 && frac == 0) || (s == max_s && frac > 0)) return NODE_ERR_USAGE;
  *ms = s * 1000 + frac;
  return 0;
}

int node_hex_decode_alloc(const char *hex, size_t max, uint8_t **out,
                          size_t *len) {
  size_t n = hex ? strlen(hex) : 0;
  *out = NULL;
  *len = 0;
  if (!hex || n % 2) return NODE_ERR_USAGE;
  if (n / 2 > max) return NODE_ERR_TOO_LARGE;
  uint8_t *buf = malloc(n / 2 + 1); /* +1: never malloc(0) */
  if (!buf) return NODE_ERR_NOMEM;
  if (nc_hex_decode(buf, n / 2, hex) < 0) {
    free(buf);
    return NODE_ERR_USAGE;
  }
  *out = buf;
  *len = n / 2;
  return 0;
}

int node_listen_parse(dht_addr *out, const char *text) {
  char copy[80];
  size_t n = strlen(text);
  if (n >= sizeof copy) return NODE_ERR_USAGE;
  memcpy(copy, text, n + 1);
  /* dht_addr_parse refuses port 0 (no peer has it); parse the address with
   * port 1 and put the 0 back. */
  int any_port = n >= 2 && strcmp(copy + n - 2, ":0") == 0;
  if (any_port) copy[n - 1] = '1';
  if (dht_addr_parse(out, copy) < 0) return NODE_ERR_USAGE;
  if (any_port) out->port = 0;
  return 0;
}

int node_path_join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap) return NODE_ERR_TOO_LARGE;
  return 0;
}

/* make_one creates one directory level, accepting an existing directory. */
static int make_one(const char *path) {
  struct stat st;
  if (mkdir(path, 0700) == 0) return 0;
  if (errno != EEXIST) return NODE_ERR_IO;
  if (stat(path, &st) < 0) return NODE_ERR_IO;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return NODE_ERR_IO;
  }
  return 0;
}

int node_mkdir_private(const char *dir) {
  char path[NODE_PATH_MAX];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof path) {
    errno = ENAMETOOLONG;
    return NODE_ERR_IO;
  }
  memcpy(path, dir, n + 1);
  /* Create each parent in turn; the leading '/' of an absolute path is
   * skipped. */
  for (size_t i = 1; i < n; i++) {
    if (path[i] != '/') continue;
    path[i] = '\0';
    int rv = make_one(path);
    path[i] = '/';
    if (rv < 0) return rv;
  }
  return make_one(path);
}

int node_addr_to_sockaddr(const dht_addr *addr, struct sockaddr_storage *ss,
                          socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (addr->family == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(addr->port);
    memcpy(&in->sin_addr, addr->ip, 4);
    *len = sizeof *in;
    return 0;
  }
  if (addr->family == 6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(addr->port);
    memcpy(&in6->sin6_addr, addr->ip, 16);
    *len = sizeof *in6;
    return 0;
  }
  return NODE_ERR_USAGE;
}

int node_addr_from_sockaddr(dht_addr *out, const struct sockaddr *sa) {
  memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    out->family = 4;
    memcpy(out->ip, &in->sin_addr, 4);
    out->port = ntohs(in->sin_port);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    out->family = 6;
    memcpy(out->ip, &in6->sin6_addr, 16);
    out->port = ntohs(in6->sin6_port);
    return 0;
  }
  return NODE_ERR_USAGE;
}

dht_time node_wall_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0) return 0;
  return (dht_time)ts.tv_sec * DHT_SEC + (dht_time)ts.tv_nsec;
}

char *node_iso_time(char out[NODE_ISO_TIME_LEN], uint64_t unix_ms) {
  time_t secs = (time_t)(unix_ms / 1000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) {
    snprintf(out, NODE_ISO_TIME_LEN, "?");
    return out;
  }
  /* strftime bounds the date part itself; the year may exceed 4 digits
   * for absurd inputs, in which case the text is cut, never overrun. */
  size_t n = strftime(out, NODE_ISO_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, NODE_ISO_TIME_LEN - n, ".%03uZ",
           (unsigned)(unix_ms % 1000));
  return out;
}

void node_put_le64(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
}

uint64_t node_get_le64(const uint8_t in[8]) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | in[i];
  return v;
}

int node_read_file(const char *path, unsigned long long max, uint8_t **out,
                   size_t *len, char *msg, size_t cap) {
  struct stat st;
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    snprintf(msg, cap, "cannot read the file: %s",
             fd < 0 ? strerror(errno) : "not a regular file");
    if (fd >= 0) close(fd);
    return NODE_ERR_IO;
  }
  if ((unsigned long long)st.st_size > max) {
    snprintf(msg, cap, "larger than %llu bytes", max);
    close(fd);
    return NODE_ERR_TOO_LARGE;
  }
  uint8_t *buf = malloc((size_t)st.st_size + 1);
  size_t used = 0;
  while (buf && used < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* error, or the file shrank: what we have is it */
    used += (size_t)n;
  }
  close(fd);
  if (!buf) {
    snprintf(msg, cap, "out of memory");
    return NODE_ERR_NOMEM;
  }
  *out = buf;
  *len = used;
  return 0;
}
