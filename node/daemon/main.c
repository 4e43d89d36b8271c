/*
 * `nointrude`: the daemon and command line of a nointrude node. main parses
 * the command line (args.c) and dispatches through a table indexed by
 * command; each handler returns the exit code: 0 success, 1 failure (what
 * failed is on stderr), 2 usage error (one line on stderr).
 */
#include <stdio.h>
#include <string.h>

#include <nointrude/crypto.h>

#include "args.h"
#include "commands.h"
#include "errors.h"

#define NOINTRUDE_VERSION "0.1.0"

typedef int (*cmd_handler)(const node_cli *cli);

static const cmd_handler cmd_handlers[NODE_CMD_COUNT] = {
    [NODE_CMD_KEYGEN] = node_cmd_keygen,
    [NODE_CMD_NODE] = node_cmd_node,
    [NODE_CMD_STATUS] = node_cmd_query,
    [NODE_CMD_PEERS] = node_cmd_query,
    [NODE_CMD_PUT] = node_cmd_query,
    [NODE_CMD_GET] = node_cmd_query,
    [NODE_CMD_LOOKUP] = node_cmd_query,
    [NODE_CMD_VRF_PROVE] = node_cmd_vrf_prove,
    [NODE_CMD_VRF_VERIFY] = node_cmd_vrf_verify,
    [NODE_CMD_BATCH_CREATE] = node_cmd_batch_create,
    [NODE_CMD_BATCH_PUBLISH] = node_cmd_batch_publish,
    [NODE_CMD_BATCH_OPTOUTS] = node_cmd_batch_optouts,
    [NODE_CMD_PROTECT_ADD] = node_cmd_query,
    [NODE_CMD_PROTECT_REMOVE] = node_cmd_query,
    [NODE_CMD_PROTECT_LIST] = node_cmd_query,
};

static void usage(FILE *out) {
  fprintf(out, "nointrude %s: a node of the nointrude registry\n\nUsage:\n",
          NOINTRUDE_VERSION);
  for (int i = 0; i < NODE_CMD_COUNT; i++)
    fprintf(out, "  nointrude %s\n", node_args_synopsis(i));
  fprintf(out,
          "\nCommon options: --json (machine-readable output), --timeout "
          "SECONDS (wait for\nthe node, default %d). Difficulty defaults to "
          "%d bits. See docs/OPERATOR.md.\nExit codes: 0 success, 1 failure, "
          "2 usage error.\n",
          NODE_TIMEOUT_DEFAULT_MS / 1000, NODE_DIFFICULTY_DEFAULT);
}

int main(int argc, char **argv) {
  node_cli cli;
  char err[2 * NODE_ERR_MSG_MAX];
  if (node_args_is_help(argc, argv)) {
    usage(stdout);
    return NODE_EXIT_OK;
  }
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("nointrude %s\n", NOINTRUDE_VERSION);
    return NODE_EXIT_OK;
  }
  if (node_args_parse(&cli, argc, argv, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return NODE_EXIT_USAGE;
  }
  if (nc_init() < 0) {
    fprintf(stderr, "nointrude: cannot initialise libsodium\n");
    return NODE_EXIT_FAILURE;
  }
  return cmd_handlers[cli.cmd](&cli);
}
