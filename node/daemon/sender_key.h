/*
 * The sender's long-lived key file (`batch create --key KEYFILE`,
 * `batch optouts --key KEYFILE`): an nc_identity that signs batches and
 * opens the opt-outs sealed to it. A text file, mode 0600, exactly:
 *
 *   nointrude-sender-key v1
 *   seed <64 hex digits: the Ed25519 secret seed>
 *   nonce <decimal ID puzzle nonce>
 *
 * each line ending in '\n'. The key pair and the ID are derived from the
 * seed and the nonce on every load, so the file cannot hold a public key
 * that does not belong to its secret key.
 */
#ifndef NOINTRUDE_NODE_SENDER_KEY_H
#define NOINTRUDE_NODE_SENDER_KEY_H

#include <stddef.h>

#include <nointrude/crypto.h>

#define NODE_SENDER_KEY_MAGIC "nointrude-sender-key v1"
#define NODE_SENDER_KEY_TEXT_MAX 160 /* bytes of a key file (~121 used) */

/* node_sender_key_format writes the key file text of |ident| into |out|
 * (|cap| >= NODE_SENDER_KEY_TEXT_MAX bytes, NUL-terminated) and returns
 * its length, or NODE_ERR_TOO_LARGE. The caller wipes |out|. */
int node_sender_key_format(char *out, size_t cap, const nc_identity *ident);

/* node_sender_key_parse parses |len| bytes of key file text into |out|
 * (the puzzle is not checked here: compare nc_id_puzzle_bits(out->id)
 * with the difficulty needed). On failure |err| (|cap| bytes) names the
 * line and the problem. Returns 0 or NODE_ERR_FORMAT. */
int node_sender_key_parse(nc_identity *out, const char *text, size_t len,
                          char *err, size_t cap);

/* node_sender_key_load reads the key file |path|: a regular file of at
 * most NODE_SENDER_KEY_TEXT_MAX bytes that no other user may read or write
 * (mode & 077 == 0). On failure |err| says what is wrong.
 * Returns 1 (loaded), 0 (no such file), NODE_ERR_IO, NODE_ERR_PERMISSIONS,
 * NODE_ERR_TOO_LARGE or NODE_ERR_FORMAT. */
int node_sender_key_load(const char *path, nc_identity *out, char *err,
                         size_t cap);

/* node_sender_key_create mines a fresh identity at |difficulty| bits and
 * writes it to |path| with mode 0600, atomically (a temporary file in the
 * same directory, fsync, then link(2), which never replaces an existing
 * file). If |path| appeared meanwhile, that key is loaded instead and 1 is
 * returned. Returns 0 (created), 1, NODE_ERR_USAGE (difficulty too large),
 * NODE_ERR_IO or an error of node_sender_key_load. */
int node_sender_key_create(const char *path, unsigned difficulty,
                           nc_identity *out, char *err, size_t cap);

#endif /* NOINTRUDE_NODE_SENDER_KEY_H */
