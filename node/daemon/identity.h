/*
 * The node's identity (Ed25519 seed and ID puzzle nonce), kept in the
 * node's database under the key "i". Created by `nointrude keygen` or on
 * the first start of `nointrude node`.
 */
#ifndef NOINTRUDE_NODE_IDENTITY_H
#define NOINTRUDE_NODE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/crypto.h>

#include "store_rocks.h"

#define NODE_IDENTITY_VERSION 1
/* Stored value: version(1) || Ed25519 seed(32) || le64 puzzle nonce. */
#define NODE_IDENTITY_LEN (1 + NC_SEED_LEN + 8)

/* node_identity_encode writes |ident|'s stored form into |out|. The caller
 * wipes |out| after use (it holds the secret seed). */
void node_identity_encode(uint8_t out[NODE_IDENTITY_LEN],
                          const nc_identity *ident);

/* node_identity_decode rebuilds |out| from |len| stored bytes (key pair
 * from the seed, ID from pk and nonce; the puzzle is not checked here).
 * Returns 0 or NODE_ERR_PROTO (wrong length or version). */
int node_identity_decode(nc_identity *out, const uint8_t *buf, size_t len);

/* node_identity_load reads the identity from |st| into |out|.
 * Returns 1 if found, 0 if none is stored, NODE_ERR_STORE or
 * NODE_ERR_PROTO (stored value is corrupt). */
int node_identity_load(node_store *st, nc_identity *out);

/* node_identity_create mines a fresh identity meeting |difficulty| bits
 * (about 2^difficulty hash pairs) and stores it with a synced write.
 * Returns 0, NODE_ERR_USAGE (difficulty too large) or NODE_ERR_STORE. */
int node_identity_create(node_store *st, unsigned difficulty, nc_identity *out);

#endif /* NOINTRUDE_NODE_IDENTITY_H */
