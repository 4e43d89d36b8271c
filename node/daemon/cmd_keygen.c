/*
 * `nointrude keygen`: print the node ID of the identity in DATA_DIR/db,
 * creating it first if there is none. An existing identity is read with a
 * read-only open, which takes no lock, so keygen also works while the node
 * runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "errors.h"
#include "identity.h"
#include "util.h"

/* read_existing returns 1 and fills |ident| if DIR/db holds an identity,
 * 0 if there is no database or no identity, or a negative code. */
static int read_existing(const char *db, nc_identity *ident) {
  node_store *st;
  char err[NODE_ERR_MSG_MAX];
  struct stat sb;
  if (stat(db, &sb) < 0) return 0; /* no database yet */
  if (node_store_open(&st, db, NODE_STORE_READ_ONLY, err, sizeof err) < 0)
    return 0; /* e.g. created but never written: open it for writing */
  int rv = node_identity_load(st, ident);
  node_store_close(st);
  return rv;
}

static int create(const char *db, unsigned difficulty, nc_identity *ident) {
  node_store *st;
  char err[NODE_ERR_MSG_MAX];
  int rv = node_store_open(&st, db, NODE_STORE_CREATE, err, sizeof err);
  if (rv < 0) {
    fprintf(stderr, "nointrude keygen: cannot open %s: %s\n", db, err);
    return rv;
  }
  rv = node_identity_load(st, ident); /* created meanwhile? */
  if (rv == 0) rv = node_identity_create(st, difficulty, ident);
  if (rv < 0)
    fprintf(stderr, "nointrude keygen: %s: %s\n", db,
            rv == NODE_ERR_STORE ? node_store_error(st) : node_strerror(rv));
  node_store_close(st);
  return rv;
}

int node_cmd_keygen(const node_cli *cli) {
  char db[NODE_PATH_MAX], hex[2 * NC_ID_LEN + 1];
  unsigned difficulty = cli->difficulty >= 0 ? (unsigned)cli->difficulty
                                             : NODE_DIFFICULTY_DEFAULT;
  nc_identity ident;
  umask(077);
  if (node_mkdir_private(cli->data_dir) < 0) {
    fprintf(stderr, "nointrude keygen: cannot create %s: %s\n", cli->data_dir,
            strerror(errno));
    return NODE_EXIT_FAILURE;
  }
  if (node_path_join(db, sizeof db, cli->data_dir, "db") < 0) {
    fprintf(stderr, "nointrude keygen: data directory path too long\n");
    return NODE_EXIT_FAILURE;
  }
  int rv = read_existing(db, &ident);
  if (rv < 0) {
    fprintf(stderr, "nointrude keygen: %s: stored identity: %s\n", db,
            node_strerror(rv));
    return NODE_EXIT_FAILURE;
  }
  if (rv == 0 && create(db, difficulty, &ident) < 0) return NODE_EXIT_FAILURE;
  if (rv == 1 && cli->difficulty >= 0 &&
      nc_id_puzzle_bits(ident.id) < difficulty)
    fprintf(stderr,
            "nointrude keygen: warning: the existing identity meets "
            "only %u bits (asked for %u)\n",
            nc_id_puzzle_bits(ident.id), difficulty);
  nc_hex_encode(hex, ident.id, NC_ID_LEN);
  nc_identity_wipe(&ident);
  printf("%s\n", hex);
  return NODE_EXIT_OK;
}
