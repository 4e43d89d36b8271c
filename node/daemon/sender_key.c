/*
 * The sender key file (format in sender_key.h and docs/OPERATOR.md).
 * Parsing is strict: exactly three lines in order, fixed labels, 64 hex
 * digits, a decimal nonce, nothing else. Loading refuses a file that other
 * users may read or write, as ssh does with private keys: a sender key
 * leaked once lets anyone sign batches in the sender's name for good.
 * Every buffer that held the seed is wiped.
 */
#define _POSIX_C_SOURCE 200809L
#include "sender_key.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "util.h"

int node_sender_key_format(char *out, size_t cap, const nc_identity *ident) {
  char hex[2 * NC_SEED_LEN + 1];
  nc_hex_encode(hex, ident->sk, NC_SEED_LEN); /* sk = seed || pk */
  int n = snprintf(out, cap, "%s\nseed %s\nnonce %" PRIu64 "\n",
                   NODE_SENDER_KEY_MAGIC, hex, ident->nonce);
  sodium_memzero(hex, sizeof hex);
  if (n < 0 || (size_t)n >= cap) return NODE_ERR_TOO_LARGE;
  return n;
}

/* next_line cuts the line starting at *pos (ending in '\n', which is
 * required) into |line| (|cap| bytes). Returns 0 or -1. */
static int next_line(const char *text, size_t len, size_t *pos, char *line,
                     size_t cap) {
  const char *start = text + *pos;
  const char *nl = memchr(start, '\n', len - *pos);
  if (!nl) return -1;
  size_t n = (size_t)(nl - start);
  if (n >= cap || memchr(start, '\0', n)) return -1;
  memcpy(line, start, n);
  line[n] = '\0';
  *pos += n + 1;
  return 0;
}

static int format_error(char *err, size_t cap, unsigned line,
                        const char *what) {
  snprintf(err, cap, "line %u: %s", line, what);
  return NODE_ERR_FORMAT;
}

/* parse_lines reads the three lines into |seed| and |nonce|. */
static int parse_lines(const char *text, size_t len, uint8_t *seed,
                       uint64_t *nonce, char *err, size_t cap) {
  char line[NODE_SENDER_KEY_TEXT_MAX];
  size_t pos = 0;
  int rv = 0;
  if (next_line(text, len, &pos, line, sizeof line) < 0 ||
      strcmp(line, NODE_SENDER_KEY_MAGIC) != 0)
    rv = format_error(err, cap, 1, "expected \"" NODE_SENDER_KEY_MAGIC "\"");
  else if (next_line(text, len, &pos, line, sizeof line) < 0 ||
           strncmp(line, "seed ", 5) != 0 ||
           nc_hex_decode(seed, NC_SEED_LEN, line + 5) < 0)
    rv = format_error(err, cap, 2, "expected \"seed\" and 64 hex digits");
  else if (next_line(text, len, &pos, line, sizeof line) < 0 ||
           strncmp(line, "nonce ", 6) != 0 ||
           node_parse_u64(line + 6, 0, UINT64_MAX, nonce) < 0)
    rv = format_error(err, cap, 3, "expected \"nonce\" and a decimal number");
  else if (pos != len)
    rv = format_error(err, cap, 4, "unexpected text after the nonce");
  sodium_memzero(line, sizeof line);
  return rv;
}

int node_sender_key_parse(nc_identity *out, const char *text, size_t len,
                          char *err, size_t cap) {
  uint8_t seed[NC_SEED_LEN];
  uint64_t nonce = 0;
  memset(out, 0, sizeof *out);
  int rv = parse_lines(text, len, seed, &nonce, err, cap);
  /* Difficulty 0, one try: exactly this nonce. */
  if (rv == 0 && nc_identity_from_seed(out, seed, 0, nonce, 1) < 0)
    rv = format_error(err, cap, 2, "seed does not give a key pair");
  sodium_memzero(seed, sizeof seed);
  if (rv < 0) nc_identity_wipe(out);
  return rv;
}

/* check_file refuses anything but a private regular file of sane size. */
static int check_file(int fd, const char *path, char *err, size_t cap) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return NODE_ERR_IO;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, cap, "%s: not a regular file", path);
    return NODE_ERR_IO;
  }
  if (st.st_mode & 077) {
    snprintf(err, cap,
             "%s: mode %03o lets other users read or change the sender "
             "key; run chmod 600 on it",
             path, (unsigned)st.st_mode & 0777);
    return NODE_ERR_PERMISSIONS;
  }
  if (st.st_size > NODE_SENDER_KEY_TEXT_MAX) {
    snprintf(err, cap, "%s: %lld bytes, not a sender key file (at most %d)",
             path, (long long)st.st_size, NODE_SENDER_KEY_TEXT_MAX);
    return NODE_ERR_TOO_LARGE;
  }
  return 0;
}

/* read_small reads at most |cap| bytes of |fd| into |buf|. */
static ssize_t read_small(int fd, char *buf, size_t cap) {
  size_t used = 0;
  while (used < cap) {
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    used += (size_t)n;
  }
  return (ssize_t)used;
}

int node_sender_key_load(const char *path, nc_identity *out, char *err,
                         size_t cap) {
  char text[NODE_SENDER_KEY_TEXT_MAX + 1], why[NODE_ERR_MSG_MAX];
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return 0;
  if (fd < 0) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return NODE_ERR_IO;
  }
  int rv = check_file(fd, path, err, cap);
  ssize_t n = rv == 0 ? read_small(fd, text, sizeof text) : 0;
  close(fd);
  if (rv == 0 && n < 0) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    rv = NODE_ERR_IO;
  }
  if (rv == 0 && n > NODE_SENDER_KEY_TEXT_MAX) {
    snprintf(err, cap, "%s: not a sender key file (too long)", path);
    rv = NODE_ERR_TOO_LARGE;
  }
  if (rv == 0 && node_sender_key_parse(out, text, (size_t)n, why,
                                       sizeof why) < 0) {
    snprintf(err, cap, "%s: not a sender key file: %s", path, why);
    rv = NODE_ERR_FORMAT;
  }
  sodium_memzero(text, sizeof text);
  return rv < 0 ? rv : 1;
}

/* write_all writes |len| bytes of |buf| to |fd|. Returns 0 or -1. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* write_temp writes the key text to a fresh 0600 file next to |path|,
 * whose name goes to |tmp|. Returns 0 or NODE_ERR_IO. */
static int write_temp(const char *path, char *tmp, size_t tmp_cap,
                      const char *text, size_t len, char *err, size_t cap) {
  if (snprintf(tmp, tmp_cap, "%s.tmp-XXXXXX", path) >= (int)tmp_cap) {
    snprintf(err, cap, "%s: path too long", path);
    return NODE_ERR_IO;
  }
  int fd = mkstemp(tmp); /* mode 0600 */
  if (fd < 0) {
    snprintf(err, cap, "cannot create %s: %s", tmp, strerror(errno));
    return NODE_ERR_IO;
  }
  int ok = fchmod(fd, 0600) == 0 && write_all(fd, text, len) == 0 &&
           fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok) {
    unlink(tmp);
    snprintf(err, cap, "cannot write %s: %s", tmp, strerror(saved));
    return NODE_ERR_IO;
  }
  return 0;
}

/* sync_parent makes the new directory entry durable (best effort). */
static void sync_parent(const char *path) {
  char dir[NODE_PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, sizeof dir, ".");
  } else {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir) return;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

int node_sender_key_create(const char *path, unsigned difficulty,
                           nc_identity *out, char *err, size_t cap) {
  char text[NODE_SENDER_KEY_TEXT_MAX], tmp[NODE_PATH_MAX];
  memset(out, 0, sizeof *out);
  if (difficulty > NODE_DIFFICULTY_MAX ||
      nc_identity_generate(out, difficulty) < 0) {
    snprintf(err, cap, "difficulty %u is out of range", difficulty);
    return NODE_ERR_USAGE;
  }
  int len = node_sender_key_format(text, sizeof text, out);
  int rv = len < 0 ? len
                   : write_temp(path, tmp, sizeof tmp, text, (size_t)len, err,
                                cap);
  sodium_memzero(text, sizeof text);
  if (rv == 0) {
    int linked = link(tmp, path) == 0, saved = errno;
    unlink(tmp);
    if (linked) {
      sync_parent(path);
      return 0;
    }
    if (saved != EEXIST) {
      snprintf(err, cap, "cannot create %s: %s", path, strerror(saved));
      rv = NODE_ERR_IO;
    }
  }
  nc_identity_wipe(out);
  if (rv < 0) return rv;
  /* Someone else created the key meanwhile: use theirs. */
  rv = node_sender_key_load(path, out, err, cap);
  if (rv == 0) {
    snprintf(err, cap, "%s: vanished while being created", path);
    return NODE_ERR_IO;
  }
  return rv;
}
