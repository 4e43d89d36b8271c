/*
 * Command-line parsing helpers shared by node_args_test.c and
 * node_batch_test.c. Include after <cmocka.h>, "args.h" and "errors.h".
 * PARSE and EXPECT_USAGE write the parser's message into the including
 * file's `char err[]` array, which the assertions then read.
 */
#ifndef NOINTRUDE_NODE_ARGS_TESTUTIL_H
#define NOINTRUDE_NODE_ARGS_TESTUTIL_H

#include <string.h>

/* nt_parse_words runs node_args_parse on a NULL-terminated word list
 * (at most 62 words), with "nointrude" as argv[0]. */
static inline int nt_parse_words(node_cli *cli, const char *const *words,
                                 char *err, size_t cap) {
  char *argv[64];
  int argc = 0;
  argv[argc++] = "nointrude";
  while (words[argc - 1] && argc < 63) {
    argv[argc] = (char *)words[argc - 1];
    argc++;
  }
  argv[argc] = NULL;
  err[0] = '\0';
  return node_args_parse(cli, argc, argv, err, cap);
}

#define PARSE(cli, ...)                                                \
  nt_parse_words(cli, (const char *const[]){__VA_ARGS__, NULL}, err, \
                 sizeof err)

/* EXPECT_USAGE checks a usage error whose one-line message contains
 * |needle|. */
#define EXPECT_USAGE(needle, ...)                                              \
  do {                                                                         \
    node_cli c_;                                                               \
    assert_int_equal(PARSE(&c_, __VA_ARGS__), NODE_ERR_USAGE);                 \
    if (!strstr(err, needle))                                                  \
      fail_msg("message \"%s\" lacks \"%s\"", err, needle);                    \
    assert_null(strchr(err, '\n'));                                            \
  } while (0)

#endif /* NOINTRUDE_NODE_ARGS_TESTUTIL_H */
