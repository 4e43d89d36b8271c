/*
 * The opt-out app message a node hands to dht_node_send_app, and that a
 * relay forwards unchanged:
 *
 *   [1, sender_pk bin32, batch_id bin16, sealed bin(104..160)]
 *
 * canonical msgpack (PROTOCOL.md 1.1), decoded strictly with the formats'
 * reader (exactly four elements, version 1, exact bin lengths, no
 * trailing bytes). The record payloads (OPTOUT, EVIDENCE, INDEX) have
 * their own codecs in payloads.c.
 */
#include <string.h>

#include "engine.h"
#include "internal.h"

int reg_app_encode(uint8_t out[REG_APP_MAX], size_t *len,
                   const uint8_t sender[NC_PK_LEN],
                   const uint8_t id[REG_BATCH_ID_LEN], const uint8_t *sealed,
                   size_t sealed_len) {
  reg_mp_writer w;
  *len = 0;
  if (!sealed || sealed_len < REG_OPTOUT_SEALED_MIN ||
      sealed_len > REG_OPTOUT_SEALED_MAX)
    return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, out, REG_APP_MAX);
  reg_mp_put_array(&w, 4);
  reg_mp_put_uint(&w, REG_APP_VERSION);
  reg_mp_put_bin(&w, sender, NC_PK_LEN);
  reg_mp_put_bin(&w, id, REG_BATCH_ID_LEN);
  reg_mp_put_bin(&w, sealed, sealed_len);
  return reg_mp_writer_done(&w, len);
}

int reg_app_decode(const uint8_t *msg, size_t len, uint8_t sender[NC_PK_LEN],
                   uint8_t id[REG_BATCH_ID_LEN], const uint8_t **sealed,
                   size_t *sealed_len) {
  reg_mp_reader r;
  size_t slen = 0;
  *sealed = NULL;
  *sealed_len = 0;
  if (!msg || len > REG_APP_MAX) return REG_ERR_MALFORMED;
  reg_mp_reader_init(&r, msg, len);
  reg_mp_get_array(&r, 4, 4);
  reg_mp_get_uint(&r, REG_APP_VERSION, REG_APP_VERSION);
  reg_mp_get_bin_copy(&r, sender, NC_PK_LEN);
  reg_mp_get_bin_copy(&r, id, REG_BATCH_ID_LEN);
  const uint8_t *s =
      reg_mp_get_bin(&r, REG_OPTOUT_SEALED_MIN, REG_OPTOUT_SEALED_MAX, &slen);
  if (reg_mp_reader_done(&r) != 0 || !s) return REG_ERR_MALFORMED;
  *sealed = s;
  *sealed_len = slen;
  return 0;
}
