/*
 * Loading, creating and storing the node's identity. Only the 32-byte
 * Ed25519 seed and the puzzle nonce are stored; the key pair and the ID
 * are derived again on load, so a stored value cannot carry a public key
 * that does not match its secret key. The database directory is 0700 and
 * its files 0600 (umask 077), which is what protects the seed at rest.
 */
#include "identity.h"

#include <string.h>

#include "config.h"
#include "errors.h"
#include "util.h"

static const uint8_t identity_key[] = {'i'};

void node_identity_encode(uint8_t out[NODE_IDENTITY_LEN],
                          const nc_identity *ident) {
  out[0] = NODE_IDENTITY_VERSION;
  memcpy(out + 1, ident->sk, NC_SEED_LEN); /* libsodium sk = seed || pk */
  node_put_le64(out + 1 + NC_SEED_LEN, ident->nonce);
}

int node_identity_decode(nc_identity *out, const uint8_t *buf, size_t len) {
  memset(out, 0, sizeof *out);
  if (len != NODE_IDENTITY_LEN || buf[0] != NODE_IDENTITY_VERSION)
    return NODE_ERR_PROTO;
  uint64_t nonce = node_get_le64(buf + 1 + NC_SEED_LEN);
  /* Difficulty 0 and one try: derive the keys and the ID for exactly this
   * nonce; the caller compares the puzzle bits with what it needs. */
  if (nc_identity_from_seed(out, buf + 1, 0, nonce, 1) < 0)
    return NODE_ERR_PROTO;
  return 0;
}

int node_identity_load(node_store *st, nc_identity *out) {
  uint8_t buf[NODE_IDENTITY_LEN + 1];
  size_t len;
  int rv = node_store_get(st, identity_key, sizeof identity_key, buf,
                          sizeof buf, &len);
  memset(out, 0, sizeof *out);
  if (rv == NODE_ERR_TOO_LARGE) rv = NODE_ERR_PROTO;
  if (rv == 1)
    rv = node_identity_decode(out, buf, len) < 0 ? NODE_ERR_PROTO : 1;
  sodium_memzero(buf, sizeof buf);
  return rv;
}

int node_identity_create(node_store *st, unsigned difficulty,
                         nc_identity *out) {
  uint8_t buf[NODE_IDENTITY_LEN];
  int rv;
  memset(out, 0, sizeof *out);
  if (difficulty > NODE_DIFFICULTY_MAX) return NODE_ERR_USAGE;
  if (nc_identity_generate(out, difficulty) < 0) return NODE_ERR_USAGE;
  node_identity_encode(buf, out);
  rv =
      node_store_put(st, identity_key, sizeof identity_key, buf, sizeof buf, 1);
  sodium_memzero(buf, sizeof buf);
  if (rv < 0) nc_identity_wipe(out);
  return rv;
}
