/*
 * Seed corpus generator for the registry fuzz targets (built, not run by
 * ctest):
 *
 *   make_reg_corpus MANIFEST_DIR BATCH_FILE_DIR OPTOUT_DIR CHUNK_DIR
 *
 * Deterministic (fixed identities from fuzz_common.h, fixed seeds,
 * FUZZ_NOW) except the sealed boxes, whose ephemeral keys are random.
 * Writes valid payloads, batch files, opt-out plaintexts and sealed boxes
 * (to identity B) and chunks, plus truncated, extended and garbled
 * variants. Existing files of the same names are overwritten.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "fuzz_reg_common.h"
#include "internal.h"

typedef struct out_dir {
  const char *path;
  int failed;
} out_dir;

static void put(out_dir *d, const char *name, const uint8_t *p, size_t n) {
  char path[4096];
  FILE *fp;
  snprintf(path, sizeof path, "%s/%s", d->path, name);
  fp = fopen(path, "wb");
  if (!fp || fwrite(p, 1, n, fp) != n) d->failed = 1;
  if (fp && fclose(fp) != 0) d->failed = 1;
}

/* variants writes |name|, its truncations, a trailing byte and a flip. */
static void variants(out_dir *d, const char *name, const uint8_t *p,
                     size_t n) {
  char v[128];
  uint8_t *tmp = malloc(n + 1);
  FUZZ_CHECK(tmp != NULL);
  put(d, name, p, n);
  snprintf(v, sizeof v, "%s_half", name);
  put(d, v, p, n / 2);
  snprintf(v, sizeof v, "%s_short", name);
  put(d, v, p, n - 1);
  memcpy(tmp, p, n);
  tmp[n] = 0;
  snprintf(v, sizeof v, "%s_trailing", name);
  put(d, v, tmp, n + 1);
  tmp[n / 3] ^= 0x40;
  snprintf(v, sizeof v, "%s_flip", name);
  put(d, v, tmp, n);
  free(tmp);
}

static void record_payload(const reg_batch *b, size_t i, dht_record *r) {
  size_t len;
  const uint8_t *p = reg_batch_record(b, i, &len);
  FUZZ_CHECK(dht_record_decode(r, p, len) == 0);
}

static void manifests(out_dir *d, const reg_batch *small,
                      const reg_batch *mid) {
  uint8_t buf[256], sealed[REG_OPTOUT_SEALED_MIN];
  size_t len;
  dht_record r;
  reg_evidence e = {.optout_time = FUZZ_NOW, .entry = 0x0123456789abcdefull};
  reg_optout_record o = {.sealed = sealed, .sealed_len = sizeof sealed};
  record_payload(small, 0, &r);
  variants(d, "manifest_depth0", r.payload, r.payload_len);
  record_payload(mid, 0, &r);
  variants(d, "manifest_depth1", r.payload, r.payload_len);
  record_payload(mid, 1, &r);
  variants(d, "index", r.payload, r.payload_len);
  memset(e.sender_pk, 0x11, sizeof e.sender_pk);
  memset(e.optout_batch, 0x22, sizeof e.optout_batch);
  memset(e.later_batch, 0x33, sizeof e.later_batch);
  FUZZ_CHECK(reg_evidence_encode(&e, buf, sizeof buf, &len) == 0);
  variants(d, "evidence", buf, len);
  memset(o.sender_pk, 0x44, sizeof o.sender_pk);
  memset(o.batch_id, 0x55, sizeof o.batch_id);
  memset(sealed, 0x66, sizeof sealed);
  FUZZ_CHECK(reg_optout_record_encode(&o, buf, sizeof buf, &len) == 0);
  variants(d, "optout_record", buf, len);
}

static void batch_files(out_dir *d, const reg_batch *small,
                        const reg_batch *mid) {
  uint8_t *file;
  size_t len;
  FUZZ_CHECK(reg_batch_file_encode(small, &file, &len) == 0);
  variants(d, "small", file, len);
  file[len - 100] ^= 1; /* inside the last data chunk */
  put(d, "small_bad_chunk", file, len);
  free(file);
  FUZZ_CHECK(reg_batch_file_encode(mid, &file, &len) == 0);
  put(d, "mid", file, len);
  put(d, "mid_cut", file, len - 1000);
  free(file);
}

static void optouts(out_dir *d, const nc_identity *b) {
  uint8_t plain[REG_OPTOUT_PLAIN_MAX], sealed[REG_OPTOUT_SEALED_MAX];
  size_t len;
  reg_optout o;
  memset(&o, 0, sizeof o);
  memset(o.batch_id, 0x77, sizeof o.batch_id);
  memset(o.full_hash, 0x88, sizeof o.full_hash);
  o.time_s = FUZZ_NOW;
  FUZZ_CHECK(reg_optout_seal(sealed, &len, &o, b->pk, 4) == 0);
  put(d, "sealed_pow4", sealed, len);
  sealed[len - 1] ^= 1;
  put(d, "sealed_bad_tag", sealed, len);
  FUZZ_CHECK(reg_optout_plain_encode(&o, plain, sizeof plain, &len) == 0);
  variants(d, "plain", plain, len);
  o.time_s = 0;
  o.pow_nonce = 0;
  FUZZ_CHECK(reg_optout_plain_encode(&o, plain, sizeof plain, &len) == 0);
  put(d, "plain_min", plain, len);
  FUZZ_CHECK(nc_seal(sealed, plain, len, b->pk) == 0);
  put(d, "sealed_no_pow", sealed, len + NC_SEAL_OVERHEAD);
}

static void chunks(out_dir *d, const reg_batch *mid) {
  dht_record r;
  uint8_t tmp[REG_CHUNK_PAYLOAD_MAX];
  record_payload(mid, 2, &r); /* the hash list */
  variants(d, "hash_list", r.payload, r.payload_len);
  record_payload(mid, 3, &r); /* the first data chunk */
  variants(d, "data_first", r.payload, r.payload_len);
  memcpy(tmp, r.payload, r.payload_len);
  memcpy(tmp + 5, r.payload + 13, 8); /* entries 0 and 1 swapped */
  memcpy(tmp + 13, r.payload + 5, 8);
  put(d, "data_unsorted", tmp, r.payload_len);
  tmp[1] = REG_CHUNK_HASHES; /* data under the hash-list kind */
  put(d, "data_as_list", tmp, r.payload_len);
  record_payload(mid, reg_batch_record_count(mid) - 1, &r);
  put(d, "data_last", r.payload, r.payload_len);
}

int main(int argc, char **argv) {
  out_dir dirs[4];
  nc_identity a, b;
  reg_batch *small, *mid;
  int failed = 0;
  if (argc != 5) {
    fprintf(stderr,
            "usage: make_reg_corpus MANIFEST_DIR BATCH_FILE_DIR OPTOUT_DIR "
            "CHUNK_DIR\n");
    return 2;
  }
  for (int i = 0; i < 4; i++) dirs[i] = (out_dir){argv[i + 1], 0};
  FUZZ_CHECK(nc_init() == 0);
  fuzz_identity(&a, FUZZ_SEED_A);
  fuzz_identity(&b, FUZZ_SEED_B);
  small = fuzz_reg_batch(&a, 300, 1);  /* depth 0: three data chunks */
  mid = fuzz_reg_batch(&a, 2000, 42);  /* the batch of fuzz_chunk.c */
  manifests(&dirs[0], small, mid);
  batch_files(&dirs[1], small, mid);
  optouts(&dirs[2], &b);
  chunks(&dirs[3], mid);
  reg_batch_free(small);
  reg_batch_free(mid);
  for (int i = 0; i < 4; i++) {
    if (dirs[i].failed) fprintf(stderr, "cannot write to %s\n", dirs[i].path);
    failed |= dirs[i].failed;
  }
  return failed;
}
