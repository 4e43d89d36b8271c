/*
 * `nointrude vrf prove` and `nointrude vrf verify`: ECVRF-EDWARDS25519-
 * SHA512-TAI (RFC 9381) on hex arguments, offline. The arguments were
 * checked by args.c (lengths and hex digits), so decoding cannot fail
 * here except for lack of memory.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <nointrude/crypto.h>

#include "commands.h"
#include "errors.h"
#include "util.h"

/* err_text names a failure from either layer (NC_ERR_* are -1..-7, the
 * NODE_ERR_* codes start at -201). */
static const char *err_text(int rv) {
  return rv <= NODE_ERR_USAGE ? node_strerror(rv) : nc_strerror(rv);
}

/* The longest thing printed is the 80-byte proof. */
_Static_assert(NC_VRF_PROOF_LEN >= NC_VRF_OUTPUT_LEN, "hex buffer size");

static void print_hex(const char *label, const uint8_t *bytes, size_t len) {
  char hex[2 * NC_VRF_PROOF_LEN + 1];
  if (len > NC_VRF_PROOF_LEN) return;
  nc_hex_encode(hex, bytes, len);
  if (label)
    printf("%s: %s\n", label, hex);
  else
    printf("%s\n", hex);
}

static void print_json(const uint8_t pi[NC_VRF_PROOF_LEN],
                       const uint8_t beta[NC_VRF_OUTPUT_LEN]) {
  char pi_hex[2 * NC_VRF_PROOF_LEN + 1], beta_hex[2 * NC_VRF_OUTPUT_LEN + 1];
  nc_hex_encode(beta_hex, beta, NC_VRF_OUTPUT_LEN);
  json_t *obj = json_pack("{ss}", "beta", beta_hex);
  if (obj && pi) {
    nc_hex_encode(pi_hex, pi, NC_VRF_PROOF_LEN);
    json_object_set_new(obj, "pi", json_string(pi_hex));
  }
  if (obj) json_dumpf(obj, stdout, JSON_COMPACT | JSON_SORT_KEYS);
  printf("\n");
  json_decref(obj);
}

int node_cmd_vrf_prove(const node_cli *cli) {
  uint8_t sk[NC_SEED_LEN], pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  uint8_t *alpha = NULL;
  size_t alpha_len = 0;
  int rv =
      node_hex_decode_alloc(cli->alpha, NODE_VRF_ALPHA_MAX, &alpha, &alpha_len);
  if (rv == 0) rv = nc_hex_decode(sk, sizeof sk, cli->sk);
  if (rv == 0) rv = nc_vrf_prove(pi, sk, alpha, alpha_len);
  if (rv == 0) rv = nc_vrf_proof_to_hash(beta, pi);
  sodium_memzero(sk, sizeof sk);
  free(alpha);
  if (rv < 0) {
    fprintf(stderr, "nointrude vrf prove: %s\n", err_text(rv));
    return NODE_EXIT_FAILURE;
  }
  if (cli->json) {
    print_json(pi, beta);
  } else {
    print_hex("pi", pi, sizeof pi);
    print_hex("beta", beta, sizeof beta);
  }
  return NODE_EXIT_OK;
}

int node_cmd_vrf_verify(const node_cli *cli) {
  uint8_t pk[NC_PK_LEN], pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  uint8_t *alpha = NULL;
  size_t alpha_len = 0;
  int rv =
      node_hex_decode_alloc(cli->alpha, NODE_VRF_ALPHA_MAX, &alpha, &alpha_len);
  if (rv == 0) rv = nc_hex_decode(pk, sizeof pk, cli->pk);
  if (rv == 0) rv = nc_hex_decode(pi, sizeof pi, cli->pi);
  if (rv == 0) rv = nc_vrf_verify(beta, pk, pi, alpha, alpha_len);
  free(alpha);
  if (rv < 0) {
    fprintf(stderr, "nointrude vrf verify: %s\n", err_text(rv));
    return NODE_EXIT_FAILURE;
  }
  if (cli->json)
    print_json(NULL, beta);
  else
    print_hex(NULL, beta, sizeof beta);
  return NODE_EXIT_OK;
}
