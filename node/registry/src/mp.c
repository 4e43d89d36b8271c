/*
 * The registry's strict msgpack: a writer into a fixed buffer that always
 * picks the shortest form, and a cursor reader that accepts only that
 * form (positive integers, bin 8/16, fixarray/array 16: the subset of
 * docs/PROTOCOL.md 1.1 the registry's payloads use), checks every count
 * and length against the remaining bytes before trusting it, and keeps
 * its first error so decoders read like the format they parse.
 */
#include <string.h>

#include "internal.h"

/* ---- Writer ------------------------------------------------------------- */

void reg_mp_writer_init(reg_mp_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = 0;
}

static void put_raw(reg_mp_writer *w, const void *p, size_t n) {
  if (w->overflow || w->cap - w->len < n) {
    w->overflow = 1;
    return;
  }
  if (n > 0) memcpy(w->buf + w->len, p, n);
  w->len += n;
}

/* put_tagged writes |tag| and the low |width| bytes of |v| big-endian. */
static void put_tagged(reg_mp_writer *w, uint8_t tag, uint64_t v,
                       unsigned width) {
  uint8_t b[9];
  b[0] = tag;
  for (unsigned i = 0; i < width; i++)
    b[1 + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
  put_raw(w, b, 1 + width);
}

void reg_mp_put_array(reg_mp_writer *w, size_t n) {
  if (n <= 15) put_tagged(w, (uint8_t)(0x90 | n), 0, 0);
  else if (n <= 0xffff) put_tagged(w, 0xdc, n, 2);
  else w->overflow = 1;
}

void reg_mp_put_uint(reg_mp_writer *w, uint64_t v) {
  if (v <= 0x7f) put_tagged(w, (uint8_t)v, 0, 0);
  else if (v <= 0xff) put_tagged(w, 0xcc, v, 1);
  else if (v <= 0xffff) put_tagged(w, 0xcd, v, 2);
  else if (v <= 0xffffffffu) put_tagged(w, 0xce, v, 4);
  else put_tagged(w, 0xcf, v, 8);
}

void reg_mp_put_bin(reg_mp_writer *w, const uint8_t *p, size_t len) {
  if (len <= 0xff) put_tagged(w, 0xc4, len, 1);
  else if (len <= 0xffff) put_tagged(w, 0xc5, len, 2);
  else w->overflow = 1;
  put_raw(w, p, len);
}

int reg_mp_writer_done(const reg_mp_writer *w, size_t *len) {
  *len = w->overflow ? 0 : w->len;
  return w->overflow ? REG_ERR_TOO_LARGE : 0;
}

/* ---- Reader ------------------------------------------------------------- */

void reg_mp_reader_init(reg_mp_reader *r, const uint8_t *buf, size_t len) {
  r->buf = buf;
  r->len = buf ? len : 0;
  r->pos = 0;
  r->bad = buf == NULL;
}

static int fail(reg_mp_reader *r) {
  r->bad = 1;
  return 0;
}

static size_t left(const reg_mp_reader *r) { return r->len - r->pos; }

/* get_field reads a |width|-byte big-endian field; the form was the
 * shortest one only if the value is at least |min|. */
static int get_field(reg_mp_reader *r, unsigned width, uint64_t min,
                     uint64_t *v) {
  *v = 0;
  if (left(r) < width) return fail(r);
  for (unsigned i = 0; i < width; i++) *v = *v << 8 | r->buf[r->pos + i];
  r->pos += width;
  return *v >= min ? 1 : fail(r);
}

/* get_tag consumes and returns the next format byte, or -1. */
static int get_tag(reg_mp_reader *r) {
  if (r->bad || left(r) < 1) {
    r->bad = 1;
    return -1;
  }
  return r->buf[r->pos++];
}

size_t reg_mp_get_array(reg_mp_reader *r, size_t min, size_t max) {
  uint64_t n = 0;
  int tag = get_tag(r);
  if (tag >= 0x90 && tag <= 0x9f) n = (uint64_t)tag & 0x0f;
  else if (tag != 0xdc || !get_field(r, 2, 16, &n)) return fail(r);
  /* Each element takes at least one byte. */
  if (n < min || n > max || n > left(r)) return fail(r);
  return (size_t)n;
}

typedef struct uint_form {
  uint8_t tag;
  uint8_t width;
  uint64_t min; /* smallest value that needs this form */
} uint_form;

static const uint_form uint_forms[] = {
    {0xcc, 1, 0x80},
    {0xcd, 2, 0x100},
    {0xce, 4, 0x10000},
    {0xcf, 8, UINT64_C(0x100000000)},
};

uint64_t reg_mp_get_uint(reg_mp_reader *r, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  int tag = get_tag(r), found = 0;
  if (tag < 0) return 0;
  if (tag <= 0x7f) {
    v = (uint64_t)tag;
    found = 1;
  }
  for (size_t i = 0; !found && i < sizeof uint_forms / sizeof uint_forms[0];
       i++) {
    if (uint_forms[i].tag != tag) continue;
    if (!get_field(r, uint_forms[i].width, uint_forms[i].min, &v)) return 0;
    found = 1;
  }
  if (!found || v < min || v > max) return fail(r);
  return v;
}

const uint8_t *reg_mp_get_bin(reg_mp_reader *r, size_t min, size_t max,
                              size_t *len) {
  uint64_t n = 0;
  const uint8_t *p;
  int tag = get_tag(r);
  *len = 0;
  if (tag == 0xc4) {
    if (!get_field(r, 1, 0, &n)) return NULL;
  } else if (tag != 0xc5 || !get_field(r, 2, 0x100, &n)) {
    fail(r);
    return NULL;
  }
  if (n < min || n > max || n > left(r)) {
    fail(r);
    return NULL;
  }
  p = r->buf + r->pos;
  r->pos += (size_t)n;
  *len = (size_t)n;
  return n > 0 ? p : NULL;
}

void reg_mp_get_bin_copy(reg_mp_reader *r, uint8_t *out, size_t n) {
  size_t got;
  const uint8_t *p = reg_mp_get_bin(r, n, n, &got);
  if (p && got == n) memcpy(out, p, n);
  else memset(out, 0, n);
}

int reg_mp_reader_done(const reg_mp_reader *r) {
  return r->bad || r->pos != r->len ? REG_ERR_MALFORMED : 0;
}
