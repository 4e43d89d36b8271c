/*
 * The subcommands of `nointrude`, one handler each, dispatched by main.c.
 * Each takes the parsed command line and returns the process exit code
 * (NODE_EXIT_OK, NODE_EXIT_FAILURE after printing what failed, or
 * NODE_EXIT_USAGE after printing one line).
 */
#ifndef NOINTRUDE_NODE_COMMANDS_H
#define NOINTRUDE_NODE_COMMANDS_H

#include "args.h"

int node_cmd_keygen(const node_cli *cli);     /* cmd_keygen.c */
int node_cmd_node(const node_cli *cli);       /* cmd_node.c */
int node_cmd_query(const node_cli *cli);      /* cmd_query.c: status, peers,
                                                 put, get, lookup, protect */
int node_cmd_vrf_prove(const node_cli *cli);  /* cmd_vrf.c */
int node_cmd_vrf_verify(const node_cli *cli); /* cmd_vrf.c */
int node_cmd_batch_create(const node_cli *cli);  /* cmd_batch.c */
int node_cmd_batch_publish(const node_cli *cli); /* cmd_batch.c */
int node_cmd_batch_optouts(const node_cli *cli); /* cmd_batch.c */

#endif /* NOINTRUDE_NODE_COMMANDS_H */
