/*
 * The chunk tree of a batch and the chunk payload codec.
 *
 * Data chunks hold up to REG_CHUNK_ENTRIES consecutive entries; hash-list
 * chunks hold up to REG_TREE_FANOUT keys of the level below. Levels are
 * added until at most REG_ROOTS_MAX keys remain: the manifest's roots.
 * Every chunk is full except the last of its level, so the whole shape
 * follows from the entry count, and a decoder checks it exactly.
 */
#include <string.h>

#include "internal.h"

static uint64_t ceil_div(uint64_t n, uint64_t d) {
  return n / d + (n % d != 0);
}

int reg_shape_of(reg_shape *s, uint64_t count) {
  uint32_t l = 0;
  memset(s, 0, sizeof *s);
  if (count == 0) return REG_ERR_INVALID_ARGUMENT;
  s->level_n[0] = ceil_div(count, REG_CHUNK_ENTRIES);
  /* Each level divides by 26, so 16 levels cover any uint64 count. */
  while (s->level_n[l] > REG_ROOTS_MAX && l + 1 < REG_LEVELS_MAX) {
    s->level_n[l + 1] = ceil_div(s->level_n[l], REG_TREE_FANOUT);
    l++;
  }
  s->depth = l;
  for (uint32_t k = l; k > 0; k--)
    s->level_start[k - 1] = s->level_start[k] + s->level_n[k];
  s->n_nodes = s->level_start[0] + s->level_n[0];
  return 0;
}

void reg_shape_children(const reg_shape *s, uint32_t level, uint64_t j,
                        uint64_t *first, uint64_t *n) {
  uint64_t below = s->level_n[level - 1];
  *first = j * REG_TREE_FANOUT;
  *n = below - *first < REG_TREE_FANOUT ? below - *first : REG_TREE_FANOUT;
}

uint64_t reg_shape_items(const reg_shape *s, uint64_t count, uint32_t level,
                         uint64_t j) {
  uint64_t first, n;
  if (level > 0) {
    reg_shape_children(s, level, j, &first, &n);
    return n;
  }
  first = j * REG_CHUNK_ENTRIES;
  return count - first < REG_CHUNK_ENTRIES ? count - first : REG_CHUNK_ENTRIES;
}

int reg_chunk_encode(uint8_t kind, const uint8_t *content, size_t len,
                     uint8_t *buf, size_t cap, size_t *out_len) {
  reg_mp_writer w;
  *out_len = 0;
  if (len > REG_CHUNK_CONTENT_MAX) return REG_ERR_TOO_LARGE;
  reg_mp_writer_init(&w, buf, cap);
  reg_mp_put_array(&w, 2);
  reg_mp_put_uint(&w, kind);
  reg_mp_put_bin(&w, content, len);
  return reg_mp_writer_done(&w, out_len);
}

int reg_chunk_parse(const uint8_t *payload, size_t len, uint8_t *kind,
                    const uint8_t **content, size_t *content_len) {
  reg_mp_reader r;
  size_t unit;
  reg_mp_reader_init(&r, payload, len);
  reg_mp_get_array(&r, 2, 2);
  *kind = (uint8_t)reg_mp_get_uint(&r, REG_CHUNK_DATA, REG_CHUNK_HASHES);
  unit = *kind == REG_CHUNK_DATA ? REG_ENTRY_LEN : DHT_KEY_LEN;
  *content = reg_mp_get_bin(&r, unit, REG_CHUNK_CONTENT_MAX, content_len);
  if (reg_mp_reader_done(&r) != 0 || *content_len % unit != 0) {
    *content = NULL;
    *content_len = 0;
    return REG_ERR_MALFORMED;
  }
  return 0;
}

int reg_chunk_sorted(const uint8_t *content, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (reg_get_be64(content + 8 * (i - 1)) >= reg_get_be64(content + 8 * i))
      return 0;
  return 1;
}
