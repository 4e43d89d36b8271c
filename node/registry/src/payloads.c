/*
 * Codecs of the small record payloads: INDEX [window, batch_id, count, pow_nonce],
 * OPTOUT [sender_pk, batch_id, sealed] and EVIDENCE [sender_pk,
 * optout_batch, later_batch, optout_time, entry]. Canonical msgpack both
 * ways; decoders refuse anything else (docs/PROTOCOL.md, "Registry
 * formats").
 */
#include <string.h>

#include "internal.h"

int reg_index_encode(const reg_index *x, uint8_t *buf, size_t cap,
                     size_t *len) {
  reg_mp_writer w;
  if (!len) return REG_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!x || !buf || x->count == 0 || x->count > REG_BATCH_MAX_ENTRIES)
    return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, buf, cap);
  reg_mp_put_array(&w, 4);
  reg_mp_put_uint(&w, x->window);
  reg_mp_put_bin(&w, x->batch_id, REG_BATCH_ID_LEN);
  reg_mp_put_uint(&w, x->count);
  reg_mp_put_uint(&w, x->pow_nonce);
  return reg_mp_writer_done(&w, len);
}

int reg_index_decode(reg_index *x, const uint8_t *buf, size_t len) {
  reg_mp_reader r;
  int rv;
  if (!x) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_reader_init(&r, buf, len);
  reg_mp_get_array(&r, 4, 4);
  x->window = reg_mp_get_uint(&r, 0, UINT64_MAX);
  reg_mp_get_bin_copy(&r, x->batch_id, REG_BATCH_ID_LEN);
  x->count = reg_mp_get_uint(&r, 1, REG_BATCH_MAX_ENTRIES);
  x->pow_nonce = reg_mp_get_uint(&r, 0, UINT64_MAX);
  rv = reg_mp_reader_done(&r);
  if (rv != 0) memset(x, 0, sizeof *x);
  return rv;
}

int reg_optout_record_encode(const reg_optout_record *x, uint8_t *buf,
                             size_t cap, size_t *len) {
  reg_mp_writer w;
  if (!len) return REG_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!x || !buf || !x->sealed || x->sealed_len < REG_OPTOUT_SEALED_MIN ||
      x->sealed_len > REG_OPTOUT_SEALED_MAX)
    return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, buf, cap);
  reg_mp_put_array(&w, 3);
  reg_mp_put_bin(&w, x->sender_pk, NC_PK_LEN);
  reg_mp_put_bin(&w, x->batch_id, REG_BATCH_ID_LEN);
  reg_mp_put_bin(&w, x->sealed, x->sealed_len);
  return reg_mp_writer_done(&w, len);
}

int reg_optout_record_decode(reg_optout_record *x, const uint8_t *buf,
                             size_t len) {
  reg_mp_reader r;
  int rv;
  if (!x) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_reader_init(&r, buf, len);
  reg_mp_get_array(&r, 3, 3);
  reg_mp_get_bin_copy(&r, x->sender_pk, NC_PK_LEN);
  reg_mp_get_bin_copy(&r, x->batch_id, REG_BATCH_ID_LEN);
  x->sealed = reg_mp_get_bin(&r, REG_OPTOUT_SEALED_MIN, REG_OPTOUT_SEALED_MAX,
                             &x->sealed_len);
  rv = reg_mp_reader_done(&r);
  if (rv != 0) memset(x, 0, sizeof *x);
  return rv;
}

int reg_evidence_encode(const reg_evidence *x, uint8_t *buf, size_t cap,
                        size_t *len) {
  reg_mp_writer w;
  if (!len) return REG_ERR_INVALID_ARGUMENT;
  *len = 0;
  if (!x || !buf) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_writer_init(&w, buf, cap);
  reg_mp_put_array(&w, 5);
  reg_mp_put_bin(&w, x->sender_pk, NC_PK_LEN);
  reg_mp_put_bin(&w, x->optout_batch, REG_BATCH_ID_LEN);
  reg_mp_put_bin(&w, x->later_batch, REG_BATCH_ID_LEN);
  reg_mp_put_uint(&w, x->optout_time);
  reg_mp_put_uint(&w, x->entry);
  return reg_mp_writer_done(&w, len);
}

int reg_evidence_decode(reg_evidence *x, const uint8_t *buf, size_t len) {
  reg_mp_reader r;
  int rv;
  if (!x) return REG_ERR_INVALID_ARGUMENT;
  reg_mp_reader_init(&r, buf, len);
  reg_mp_get_array(&r, 5, 5);
  reg_mp_get_bin_copy(&r, x->sender_pk, NC_PK_LEN);
  reg_mp_get_bin_copy(&r, x->optout_batch, REG_BATCH_ID_LEN);
  reg_mp_get_bin_copy(&r, x->later_batch, REG_BATCH_ID_LEN);
  x->optout_time = reg_mp_get_uint(&r, 0, UINT64_MAX);
  x->entry = reg_mp_get_uint(&r, 0, UINT64_MAX);
  rv = reg_mp_reader_done(&r);
  if (rv != 0) memset(x, 0, sizeof *x);
  return rv;
}
