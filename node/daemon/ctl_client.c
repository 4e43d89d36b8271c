/*
 * Control socket client for the CLI. Every step is bounded: one deadline
 * covers connecting, writing and reading; the reply may not exceed
 * NODE_CTL_REPLY_MAX bytes. SIGPIPE is avoided with MSG_NOSIGNAL.
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "errors.h"
#include "util.h"

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* wait_fd polls |fd| for |events| until |deadline| (monotonic ms).
 * Returns 0 when ready, NODE_ERR_TIMEOUT or NODE_ERR_IO. */
static int wait_fd(int fd, short events, uint64_t deadline) {
  for (;;) {
    uint64_t now = mono_ms();
    struct pollfd p = {fd, events, 0};
    if (now >= deadline) return NODE_ERR_TIMEOUT;
    int n = poll(&p, 1, (int)(deadline - now > 60000 ? 60000 : deadline - now));
    if (n > 0) return 0;
    if (n < 0 && errno != EINTR) return NODE_ERR_IO;
  }
}

/* connect_socket connects to the control socket; SO_SNDTIMEO bounds the
 * wait when the node's accept queue is full. */
static int connect_socket(const char *data_dir, uint64_t timeout_ms, int *fd,
                          char *err, size_t cap) {
  struct timeval tv = {(time_t)(timeout_ms / 1000),
                       (suseconds_t)(timeout_ms % 1000) * 1000};
  struct sockaddr_un sa;
  char path[NODE_PATH_MAX];
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (node_path_join(path, sizeof path, data_dir, NODE_CTL_SOCKET) < 0 ||
      strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, cap, "control socket path under %s is too long", data_dir);
    return NODE_ERR_IO;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  *fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (*fd >= 0) setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (*fd < 0 || connect(*fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    snprintf(err, cap, "cannot connect to %s: %s (is the node running?)", path,
             strerror(errno));
    return NODE_ERR_IO;
  }
  return 0;
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline,
                    char *err, size_t cap) {
  while (len > 0) {
    int rv = wait_fd(fd, POLLOUT, deadline);
    ssize_t n = rv == 0 ? send(fd, buf, len, MSG_NOSIGNAL) : -1;
    if (rv == NODE_ERR_TIMEOUT) {
      snprintf(err, cap, "timed out sending the request");
      return rv;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      snprintf(err, cap, "cannot send the request: %s", strerror(errno));
      return NODE_ERR_IO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* grow doubles the reply buffer, up to NODE_CTL_REPLY_MAX bytes. */
static int grow(char **buf, size_t *size, char *err, size_t cap) {
  if (*size >= NODE_CTL_REPLY_MAX) {
    snprintf(err, cap, "reply longer than %u bytes", NODE_CTL_REPLY_MAX);
    return NODE_ERR_TOO_LARGE;
  }
  char *bigger = realloc(*buf, *size * 2);
  if (!bigger) {
    snprintf(err, cap, "out of memory");
    return NODE_ERR_NOMEM;
  }
  *buf = bigger;
  *size *= 2;
  return 0;
}

/* recv_some waits until |deadline| for bytes and reads up to |room| of
 * them. Returns the number read (> 0) or a negative code. */
static ssize_t recv_some(int fd, char *buf, size_t room, uint64_t deadline,
                         char *err, size_t cap) {
  for (;;) {
    int rv = wait_fd(fd, POLLIN, deadline);
    if (rv < 0) {
      snprintf(err, cap, "%s",
               rv == NODE_ERR_TIMEOUT ? "timed out waiting for the node's reply"
                                      : "cannot wait for the reply");
      return rv;
    }
    ssize_t n = recv(fd, buf, room, 0);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) continue;
    snprintf(err, cap, "the node closed the connection without a reply");
    return NODE_ERR_IO;
  }
}

/* read_line reads until a newline into a growing buffer (freed by the
 * caller) of at most NODE_CTL_REPLY_MAX bytes; |*len| excludes the
 * newline. */
static int read_line(int fd, char **out, size_t *len, uint64_t deadline,
                     char *err, size_t cap) {
  size_t size = 4096, used = 0;
  char *buf = malloc(size), *nl = NULL;
  int rv = 0;
  if (!buf) {
    snprintf(err, cap, "out of memory");
    return NODE_ERR_NOMEM;
  }
  while (!nl) {
    ssize_t n;
    if (used == size && (rv = grow(&buf, &size, err, cap)) < 0) break;
    n = recv_some(fd, buf + used, size - used, deadline, err, cap);
    if (n < 0) {
      rv = (int)n;
      break;
    }
    nl = memchr(buf + used, '\n', (size_t)n);
    used += (size_t)n;
  }
  if (rv < 0) {
    free(buf);
    return rv;
  }
  *out = buf;
  *len = (size_t)(nl - buf);
  return 0;
}

static int parse_reply(const char *line, size_t len, json_t **reply, char *err,
                       size_t cap) {
  json_error_t jerr;
  json_t *obj = json_loadb(line, len, 0, &jerr);
  if (!json_is_object(obj) || !json_is_boolean(json_object_get(obj, "ok"))) {
    snprintf(err, cap, "malformed reply from the node");
    json_decref(obj);
    return NODE_ERR_PROTO;
  }
  *reply = obj;
  return 0;
}

int node_ctl_call(const char *data_dir, const json_t *request,
                  uint64_t timeout_ms, json_t **reply, char *err, size_t cap) {
  uint64_t deadline = mono_ms() + timeout_ms;
  size_t len = 0;
  char *line = node_ctl_encode_line(request, &len), *answer = NULL;
  int fd = -1, rv = line ? 0 : NODE_ERR_NOMEM;
  *reply = NULL;
  if (rv < 0) snprintf(err, cap, "out of memory");
  if (rv == 0) rv = connect_socket(data_dir, timeout_ms, &fd, err, cap);
  if (rv == 0) rv = send_all(fd, line, len, deadline, err, cap);
  if (rv == 0) rv = read_line(fd, &answer, &len, deadline, err, cap);
  if (rv == 0) rv = parse_reply(answer, len, reply, err, cap);
  if (fd >= 0) close(fd);
  free(line);
  free(answer);
  return rv;
}
