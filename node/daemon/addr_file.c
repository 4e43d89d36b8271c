/*
 * Reading address files (rules in addr_file.h). The file is read whole
 * (a sender's list of ten million addresses is a few hundred MB, which
 * the batch built from it needs in memory anyway), then cut into lines;
 * the canonical forms go into one growing text arena, so a list costs two
 * allocations however long it is.
 */
#define _POSIX_C_SOURCE 200809L
#include "addr_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nointrude/registry.h>

#include "errors.h"

#define ADDR_FILE_MAX (4ull << 30) /* bytes of an address file we read */

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

/* is_skipped tells blank lines and comments from address lines. */
static int is_skipped(const char *line, size_t len) {
  size_t i = 0;
  while (i < len && is_space(line[i])) i++;
  return i == len || line[i] == '#';
}

/* grow returns |buf| (|*cap| elements of |size| bytes) enlarged by
 * doubling to hold |need| elements, or NULL (|buf| is then unchanged). */
static void *grow(void *buf, size_t *cap, size_t need, size_t size) {
  size_t n = *cap ? *cap : 1024;
  if (need <= *cap) return buf;
  while (n < need) n *= 2;
  void *bigger = realloc(buf, n * size);
  if (bigger) *cap = n;
  return bigger;
}

/* add_one appends the canonical form |canon| (|len| bytes). */
static int add_one(node_addr_list *l, const char *canon, size_t len) {
  char *text = grow(l->text, &l->text_cap, l->text_len + len + 1, 1);
  if (text) l->text = text;
  size_t *offsets =
      text ? grow(l->offsets, &l->offsets_cap, l->n + 1, sizeof *offsets)
           : NULL;
  if (!offsets) return NODE_ERR_NOMEM;
  l->offsets = offsets;
  memcpy(l->text + l->text_len, canon, len + 1);
  l->offsets[l->n++] = l->text_len;
  l->text_len += len + 1;
  return 0;
}

/* finish turns the offsets into pointers (the arena no longer moves). */
static int finish(node_addr_list *l) {
  l->canon = malloc((l->n ? l->n : 1) * sizeof *l->canon);
  if (!l->canon) return NODE_ERR_NOMEM;
  for (size_t i = 0; i < l->n; i++) l->canon[i] = l->text + l->offsets[i];
  free(l->offsets);
  l->offsets = NULL;
  l->offsets_cap = 0;
  return 0;
}

/* take_line handles line |lineno| (|len| bytes at |line|). */
static int take_line(node_addr_list *l, const char *name, unsigned long lineno,
                     const char *line, size_t len, uint64_t max, char *err,
                     size_t cap) {
  char canon[REG_ADDRESS_MAX + 1];
  size_t clen;
  if (len > NODE_ADDR_LINE_MAX) {
    snprintf(err, cap, "%s:%lu: line longer than %d bytes", name, lineno,
             NODE_ADDR_LINE_MAX);
    return NODE_ERR_FORMAT;
  }
  if (is_skipped(line, len)) return 0;
  if (reg_address_canonical(canon, &clen, line, len) < 0) {
    snprintf(err, cap,
             "%s:%lu: not a valid e-mail address (one '@', non-empty local "
             "part and domain, no spaces or control bytes, at most %d bytes)",
             name, lineno, REG_ADDRESS_MAX);
    return NODE_ERR_FORMAT;
  }
  if (l->n >= max) {
    snprintf(err, cap, "%s:%lu: more than %llu addresses", name, lineno,
             (unsigned long long)max);
    return NODE_ERR_TOO_LARGE;
  }
  if (add_one(l, canon, clen) < 0) {
    snprintf(err, cap, "%s:%lu: out of memory", name, lineno);
    return NODE_ERR_NOMEM;
  }
  return 0;
}

int node_addr_list_parse(node_addr_list *list, const char *name,
                         const char *buf, size_t len, uint64_t max, char *err,
                         size_t cap) {
  size_t pos = 0;
  unsigned long lineno = 0;
  int rv = 0;
  memset(list, 0, sizeof *list);
  while (rv == 0 && pos < len) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - buf) : len;
    rv = take_line(list, name, ++lineno, buf + pos, end - pos, max, err, cap);
    pos = end + 1;
  }
  if (rv == 0) rv = finish(list);
  if (rv == NODE_ERR_NOMEM && lineno == 0) snprintf(err, cap, "out of memory");
  if (rv < 0) node_addr_list_free(list);
  return rv;
}

/* read_whole reads |path| into a fresh buffer. */
static int read_whole(const char *path, char **out, size_t *len, char *err,
                      size_t cap) {
  struct stat st;
  FILE *f = fopen(path, "rb");
  *out = NULL;
  *len = 0;
  if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, cap, "%s: %s", path,
             f ? "not a regular file" : strerror(errno));
    if (f) fclose(f);
    return NODE_ERR_IO;
  }
  if ((unsigned long long)st.st_size > ADDR_FILE_MAX) {
    snprintf(err, cap, "%s: larger than %llu bytes", path, ADDR_FILE_MAX);
    fclose(f);
    return NODE_ERR_TOO_LARGE;
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size ? size : 1);
  size_t got = buf ? fread(buf, 1, size, f) : 0;
  int bad = !buf || ferror(f) || got != size;
  fclose(f);
  if (bad) {
    int rv = buf ? NODE_ERR_IO : NODE_ERR_NOMEM;
    snprintf(err, cap, "%s: %s", path, buf ? "read error" : "out of memory");
    free(buf);
    return rv;
  }
  *out = buf;
  *len = size;
  return 0;
}

int node_addr_list_read(node_addr_list *list, const char *path, uint64_t max,
                        char *err, size_t cap) {
  char *buf;
  size_t len;
  memset(list, 0, sizeof *list);
  int rv = read_whole(path, &buf, &len, err, cap);
  if (rv < 0) return rv;
  rv = node_addr_list_parse(list, path, buf, len, max, err, cap);
  free(buf);
  return rv;
}

void node_addr_list_free(node_addr_list *list) {
  free(list->canon);
  free(list->text);
  free(list->offsets);
  memset(list, 0, sizeof *list);
}
