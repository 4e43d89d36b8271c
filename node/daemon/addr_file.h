/*
 * Address files (`batch create --addresses FILE`, `batch optouts
 * --addresses FILE`): one e-mail address a line, read into their
 * canonical forms (reg_address_canonical, docs/PROTOCOL.md "Registry").
 *
 * Rules: a line ends at '\n' (a '\r' before it is whitespace and trimmed
 * like any other); a line that is empty or only ASCII whitespace is
 * skipped, and so is one whose first non-whitespace byte is '#' (a
 * comment); every other line must be one valid address of at most
 * NODE_ADDR_LINE_MAX bytes, or the whole file is refused with an error
 * naming the file and the line number. The last line needs no '\n'.
 */
#ifndef NOINTRUDE_NODE_ADDR_FILE_H
#define NOINTRUDE_NODE_ADDR_FILE_H

#include <stddef.h>
#include <stdint.h>

#define NODE_ADDR_LINE_MAX 1024 /* bytes of one line, '\n' excluded */

/* The canonical addresses of a file, in file order (duplicates kept). */
typedef struct node_addr_list {
  const char **canon; /* n pointers into |text|, NUL-terminated strings */
  size_t n;
  char *text;       /* every canonical address, NUL after each */
  size_t text_len;  /* bytes used in |text| */
  size_t text_cap;
  size_t *offsets;  /* start of each address in |text| while reading */
  size_t offsets_cap;
} node_addr_list;

/* node_addr_list_parse reads |len| bytes of file content into |list|
 * (|max| addresses at most); |name| is used in messages. On failure |err|
 * (|cap| bytes) says "NAME:LINE: problem" and |list| is empty.
 * Returns 0, NODE_ERR_FORMAT, NODE_ERR_TOO_LARGE or NODE_ERR_NOMEM. */
int node_addr_list_parse(node_addr_list *list, const char *name,
                         const char *buf, size_t len, uint64_t max, char *err,
                         size_t cap);

/* node_addr_list_read reads the file |path| (at most |max| addresses) as
 * node_addr_list_parse does. Returns 0, NODE_ERR_IO or an error of
 * node_addr_list_parse. */
int node_addr_list_read(node_addr_list *list, const char *path, uint64_t max,
                        char *err, size_t cap);

/* node_addr_list_free releases the list's memory and leaves it empty. */
void node_addr_list_free(node_addr_list *list);

#endif /* NOINTRUDE_NODE_ADDR_FILE_H */
