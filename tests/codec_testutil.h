/*
 * Test helpers shared by wire_test.c and record_test.c: rewrite one array
 * inside a valid msgpack encoding (drop its last element, append one, or
 * replace one with a value of another type) so the tests can show that
 * every such change is refused. Header-only; tests only.
 */
#ifndef NOINTRUDE_CODEC_TESTUTIL_H
#define NOINTRUDE_CODEC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mp.h"

enum edit_op { EDIT_DROP_LAST, EDIT_APPEND, EDIT_REPLACE };

typedef void (*sub_fn)(dht_mp_writer *w);

/* One edit: |path| indexes from the top-level array down to the array to
 * change (|depth| steps; depth 0 = the top-level array itself). */
typedef struct edit {
  const size_t *path;
  size_t depth;
  int op;
  size_t index; /* EDIT_REPLACE: element to replace */
  sub_fn sub;   /* EDIT_APPEND / EDIT_REPLACE: writes the new element */
} edit;

static void sub_nil(dht_mp_writer *w) { msgpack_pack_nil(&w->pk); }
static void sub_true(dht_mp_writer *w) { msgpack_pack_true(&w->pk); }
static void sub_float(dht_mp_writer *w) { msgpack_pack_double(&w->pk, 1.5); }
static void sub_str(dht_mp_writer *w) {
  msgpack_pack_str(&w->pk, 1);
  msgpack_pack_str_body(&w->pk, "x", 1);
}
static void sub_map(dht_mp_writer *w) { msgpack_pack_map(&w->pk, 0); }
static void sub_array(dht_mp_writer *w) { msgpack_pack_array(&w->pk, 0); }
static void sub_uint(dht_mp_writer *w) { msgpack_pack_uint8(&w->pk, 1); }
static void sub_neg(dht_mp_writer *w) { msgpack_pack_int8(&w->pk, -1); }
static void sub_bin(dht_mp_writer *w) {
  static const uint8_t b = 7;
  dht_mp_pack_bin(w, &b, 1);
}
static void sub_ext(dht_mp_writer *w) {
  msgpack_pack_ext(&w->pk, 1, 1);
  msgpack_pack_ext_body(&w->pk, "e", 1);
}

/* Substitutes and the msgpack-c type each one decodes to (-1: a type the
 * codecs never accept anywhere). */
static const struct {
  sub_fn fn;
  int type;
} wrong_types[] = {
    {sub_nil, -1},
    {sub_true, -1},
    {sub_float, -1},
    {sub_str, -1},
    {sub_map, -1},
    {sub_ext, -1},
    {sub_array, MSGPACK_OBJECT_ARRAY},
    {sub_uint, MSGPACK_OBJECT_POSITIVE_INTEGER},
    {sub_neg, MSGPACK_OBJECT_NEGATIVE_INTEGER},
    {sub_bin, MSGPACK_OBJECT_BIN},
};
#define N_WRONG_TYPES (sizeof wrong_types / sizeof wrong_types[0])

static void pack_target(dht_mp_writer *w, const msgpack_object *o,
                        const edit *e) {
  size_t n = o->via.array.size;
  size_t keep = e->op == EDIT_DROP_LAST ? n - 1 : n;
  msgpack_pack_array(&w->pk, e->op == EDIT_APPEND ? n + 1 : keep);
  for (size_t i = 0; i < keep; i++) {
    if (e->op == EDIT_REPLACE && i == e->index) e->sub(w);
    else msgpack_pack_object(&w->pk, o->via.array.ptr[i]);
  }
  if (e->op == EDIT_APPEND) e->sub(w);
}

static void pack_edited(dht_mp_writer *w, const msgpack_object *o,
                        const edit *e, size_t level) {
  if (level == e->depth) {
    pack_target(w, o, e);
    return;
  }
  msgpack_pack_array(&w->pk, o->via.array.size);
  for (size_t i = 0; i < o->via.array.size; i++) {
    if (i == e->path[level]) pack_edited(w, &o->via.array.ptr[i], e, level + 1);
    else msgpack_pack_object(&w->pk, o->via.array.ptr[i]);
  }
}

/* apply_edit rewrites the valid encoding |in| with |e| into |out|.
 * Returns the new length, or 0 if |in| does not parse or |out| is too
 * small. */
static inline size_t apply_edit(uint8_t *out, size_t cap, const uint8_t *in,
                                size_t len, const edit *e) {
  msgpack_unpacked u;
  dht_mp_writer w;
  size_t off = 0;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, (const char *)in, len, &off) !=
      MSGPACK_UNPACK_SUCCESS) {
    msgpack_unpacked_destroy(&u);
    return 0;
  }
  dht_mp_writer_init(&w, out, cap);
  pack_edited(&w, &u.data, e, 0);
  msgpack_unpacked_destroy(&u);
  return w.overflow ? 0 : w.len;
}

/* object_type_at returns the msgpack-c type of element |index| of the
 * array at |path|/|depth| in |in|, or -1. */
static inline int object_type_at(const uint8_t *in, size_t len,
                                 const size_t *path, size_t depth,
                                 size_t index) {
  msgpack_unpacked u;
  const msgpack_object *o;
  size_t off = 0;
  int type = -1;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, (const char *)in, len, &off) ==
      MSGPACK_UNPACK_SUCCESS) {
    o = &u.data;
    for (size_t i = 0; i < depth && o; i++)
      o = o->type == MSGPACK_OBJECT_ARRAY && path[i] < o->via.array.size
              ? &o->via.array.ptr[path[i]]
              : NULL;
    if (o && o->type == MSGPACK_OBJECT_ARRAY && index < o->via.array.size)
      type = (int)o->via.array.ptr[index].type;
  }
  msgpack_unpacked_destroy(&u);
  return type;
}

/* array_size_at returns the element count of the array at |path|/|depth|
 * in |in|, or 0. */
static inline size_t array_size_at(const uint8_t *in, size_t len,
                                   const size_t *path, size_t depth) {
  msgpack_unpacked u;
  const msgpack_object *o;
  size_t off = 0, n = 0;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, (const char *)in, len, &off) ==
      MSGPACK_UNPACK_SUCCESS) {
    o = &u.data;
    for (size_t i = 0; i < depth && o; i++)
      o = o->type == MSGPACK_OBJECT_ARRAY && path[i] < o->via.array.size
              ? &o->via.array.ptr[path[i]]
              : NULL;
    if (o && o->type == MSGPACK_OBJECT_ARRAY) n = o->via.array.size;
  }
  msgpack_unpacked_destroy(&u);
  return n;
}

#endif /* NOINTRUDE_CODEC_TESTUTIL_H */
