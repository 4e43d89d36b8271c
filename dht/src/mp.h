/*
 * Internal: the strict msgpack subset shared by the message codec (wire.c)
 * and the record codec (record.c). The functions are defined in wire.c.
 *
 * Accepted encodings (docs/PROTOCOL.md, "Conventions"): positive and
 * negative fixint, uint 8/16/32/64, int 8/16/32/64, bin 8/16, fixarray and
 * array 16, each in its shortest form (the form msgpack-c's packer
 * writes). Everything else (nil, bool, float, str, map, ext, bin 32,
 * array 32, and any longer-than-needed form) is malformed. That makes the
 * encoding of a value unique, so decode(encode(x)) == x and
 * encode(decode(b)) == b.
 */
#ifndef NOINTRUDE_DHT_MP_H
#define NOINTRUDE_DHT_MP_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* A msgpack packer that writes into a fixed caller buffer. Once a write
 * does not fit, |overflow| stays set and nothing more is written. */
typedef struct dht_mp_writer {
  msgpack_packer pk;
  uint8_t *buf;
  size_t cap; /* bytes */
  size_t len; /* bytes written so far */
  int overflow;
} dht_mp_writer;

/* dht_mp_writer_init points |w| at |cap| bytes of |buf|. */
void dht_mp_writer_init(dht_mp_writer *w, uint8_t *buf, size_t cap);

/* dht_mp_pack_bin packs |len| bytes of |p| as a bin (|p| may be NULL when
 * |len| is 0). Overflow is reported through the writer. */
void dht_mp_pack_bin(dht_mp_writer *w, const uint8_t *p, size_t len);

/* dht_mp_check returns 0 if |len| bytes of |buf| are exactly one object
 * of the accepted subset in shortest form, with every array count and bin
 * length within the remaining bytes; else DHT_ERR_MALFORMED. This runs
 * before msgpack-c sees the bytes, so msgpack-c never allocates more than
 * one msgpack_object per input byte. */
int dht_mp_check(const uint8_t *buf, size_t len);

/* dht_mp_unpack checks |buf| with dht_mp_check and unpacks it into |u|
 * (initialised here; the caller destroys it with msgpack_unpacked_destroy
 * whatever the result). Bins in |u| point into |buf|. Returns 0 or
 * DHT_ERR_MALFORMED. */
int dht_mp_unpack(msgpack_unpacked *u, const uint8_t *buf, size_t len);

/* dht_mp_array checks that |o| is an array of |min|..|max| elements and
 * sets *items and *n to them (*items may be NULL when *n is 0). Returns 0
 * or DHT_ERR_MALFORMED. */
int dht_mp_array(const msgpack_object *o, size_t min, size_t max,
                 const msgpack_object **items, size_t *n);

/* dht_mp_uint reads a non-negative integer <= |max| into *v. Returns 0 or
 * DHT_ERR_MALFORMED. */
int dht_mp_uint(const msgpack_object *o, uint64_t max, uint64_t *v);

/* dht_mp_bin reads a bin of |min|..|max| bytes; *p points into the
 * unpacked buffer. Returns 0 or DHT_ERR_MALFORMED. */
int dht_mp_bin(const msgpack_object *o, size_t min, size_t max,
               const uint8_t **p, size_t *len);

/* dht_mp_bin_copy copies a bin of exactly |n| bytes into |out|. Returns 0
 * or DHT_ERR_MALFORMED. */
int dht_mp_bin_copy(const msgpack_object *o, uint8_t *out, size_t n);

#endif /* NOINTRUDE_DHT_MP_H */
