/*
 * Internal interfaces of the matching code (salted.c, match.c) beyond
 * internal.h: the implementation paths the unit tests force, so that
 * every path is compared with the plain one. Not installed.
 */
#ifndef NOINTRUDE_REGISTRY_MATCH_INTERNAL_H
#define NOINTRUDE_REGISTRY_MATCH_INTERNAL_H

#include "internal.h"

/* reg_chunk_keys_path is reg_chunk_keys with the implementation forced
 * (enum reg_hash_path: REG_HASH_SCALAR is one reg_chunk_key, i.e.
 * libsodium, per payload). */
void reg_chunk_keys_path(uint8_t (*keys)[DHT_KEY_LEN],
                         const uint8_t *const *payload, const size_t *len,
                         size_t n, int path);

/* reg_match_merge_path is reg_match_merge with the window compares forced
 * (REG_HASH_AUTO: AVX2 when the CPU has it; REG_HASH_LANES: vectors for
 * the default target; REG_HASH_SCALAR: one entry at a time). */
size_t reg_match_merge_path(const uint64_t *entries, size_t n,
                            const uint64_t *queries, size_t nq, uint8_t *hit,
                            int path);

#endif /* NOINTRUDE_REGISTRY_MATCH_INTERNAL_H */
