/*
 * `nointrude-bench crypto`: times the crypto module's hot operations with
 * clock_gettime(CLOCK_MONOTONIC) and prints one table row per operation
 * (iterations, total ms, us/op, ops/s). Every operation runs a fixed
 * number of iterations or until its time budget (BUDGET_NS) is spent,
 * whichever comes first, so the whole run takes a few seconds. Numbers are
 * only meaningful from a release build (cmake --preset release).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <nointrude/crypto.h>

#include "bench.h"

#define BUDGET_NS 400000000ull /* per operation: 0.4 s */
#define MINE_DIFFICULTY 16     /* bits */
#define MINE_MAX_TRIES (1ull << 24) /* per identity: 256x the mean */
#define MSG_LEN 1024           /* AEAD payload, bytes */
#define ADDR_LEN 30            /* a typical e-mail address, bytes */

/* Shared inputs and scratch space for the operations below. */
typedef struct bench_ctx {
  nc_identity a, b;
  uint8_t seed[NC_SEED_LEN], key[NC_SHARED_LEN], nonce[NC_AEAD_NONCE_LEN];
  uint8_t msg[MSG_LEN], sealed[MSG_LEN + NC_AEAD_TAG_LEN], opened[MSG_LEN];
  uint8_t sig[NC_SIG_LEN], pi[NC_VRF_PROOF_LEN], beta[NC_VRF_OUTPUT_LEN];
  uint8_t salt[32], addr[ADDR_LEN], entry[16];
  uint64_t counter; /* varies inputs between iterations */
  int failures;     /* operations that returned an error */
} bench_ctx;

typedef void (*bench_fn)(bench_ctx *ctx);

typedef struct bench_op {
  const char *name;
  bench_fn run;
  unsigned max_iters;
  double unit; /* printed per-op figure: 1e3 = us, 1e6 = ms */
} bench_op;

static void op_mine(bench_ctx *c) {
  nc_identity id;
  c->seed[0] = (uint8_t)c->counter;
  c->seed[1] = (uint8_t)(c->counter >> 8);
  c->counter++;
  if (nc_identity_from_seed(&id, c->seed, MINE_DIFFICULTY, 0,
                            MINE_MAX_TRIES) != 0)
    c->failures++;
  nc_identity_wipe(&id);
}

static void op_sign(bench_ctx *c) {
  nc_sign(c->sig, c->msg, 64, c->a.sk);
}

static void op_verify(bench_ctx *c) {
  if (nc_verify(c->sig, c->msg, 64, c->a.pk) != 0) c->failures++;
}

static void op_peer_key(bench_ctx *c) {
  if (nc_peer_key(c->key, c->a.sk, c->a.pk, c->b.pk) != 0) c->failures++;
}

static void op_aead_seal(bench_ctx *c) {
  c->nonce[0] = (uint8_t)c->counter++;
  nc_aead_seal(c->sealed, c->msg, MSG_LEN, c->msg, 44, c->nonce, c->key);
}

static void op_aead_open(bench_ctx *c) {
  if (nc_aead_open(c->opened, c->sealed, sizeof c->sealed, c->msg, 44,
                   c->nonce, c->key) != 0)
    c->failures++;
}

static void op_vrf_prove(bench_ctx *c) {
  if (nc_vrf_prove(c->pi, c->seed, c->msg, 40) != 0) c->failures++;
}

static void op_vrf_verify(bench_ctx *c) {
  if (nc_vrf_verify(c->beta, c->a.pk, c->pi, c->msg, 40) != 0) c->failures++;
}

/* trunc64(BLAKE2b(key = salt, address)), the batch entry of DESIGN.md:
 * nc_hash's smallest documented output (16 bytes), first 8 kept. */
static void op_entry_hash(bench_ctx *c) {
  c->addr[0] = (uint8_t)c->counter++;
  nc_hash(c->entry, 16, c->salt, sizeof c->salt, c->addr, ADDR_LEN);
}

/* Run in this order: verify checks the signature sign made, aead open the
 * box seal made, vrf verify the proof prove made. */
static const bench_op ops[] = {
    {"id mining (difficulty 16)", op_mine, 40, 1e6},
    {"ed25519 sign (64 B)", op_sign, 20000, 1e3},
    {"ed25519 verify (64 B)", op_verify, 20000, 1e3},
    {"nc_peer_key", op_peer_key, 20000, 1e3},
    {"aead seal 1 KiB", op_aead_seal, 200000, 1e3},
    {"aead open 1 KiB", op_aead_open, 200000, 1e3},
    {"vrf prove (40 B alpha)", op_vrf_prove, 10000, 1e3},
    {"vrf verify (40 B alpha)", op_vrf_verify, 10000, 1e3},
    {"blake2b-64 keyed, 30 B addr", op_entry_hash, 2000000, 1e3},
};

static void run_op(bench_ctx *ctx, const bench_op *op) {
  uint64_t start = bench_now_ns(), elapsed = 0;
  unsigned n = 0;
  while (n < op->max_iters && elapsed < BUDGET_NS) {
    op->run(ctx);
    n++;
    elapsed = bench_now_ns() - start;
  }
  double ms = (double)elapsed / 1e6;
  double per_op = (double)elapsed / n / op->unit;
  printf("%-30s %9u %10.1f %10.2f %-2s %12.0f\n", op->name, n, ms, per_op,
         op->unit == 1e6 ? "ms" : "us", n / ((double)elapsed / 1e9));
}

static int setup(bench_ctx *ctx) {
  memset(ctx, 0, sizeof *ctx);
  randombytes_buf(ctx->seed, sizeof ctx->seed);
  randombytes_buf(ctx->msg, sizeof ctx->msg);
  randombytes_buf(ctx->salt, sizeof ctx->salt);
  randombytes_buf(ctx->addr, sizeof ctx->addr);
  randombytes_buf(ctx->nonce, sizeof ctx->nonce);
  if (nc_identity_generate(&ctx->a, 0) != 0) return -1;
  if (nc_identity_generate(&ctx->b, 0) != 0) return -1;
  /* The VRF key is a's seed, the first half of libsodium's sk. */
  memcpy(ctx->seed, ctx->a.sk, NC_SEED_LEN);
  return nc_peer_key(ctx->key, ctx->a.sk, ctx->a.pk, ctx->b.pk);
}

int bench_crypto(int argc, char **argv) {
  static bench_ctx ctx;
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "usage: nointrude-bench crypto\n");
    return 2;
  }
  if (nc_init() != 0 || setup(&ctx) != 0) {
    fprintf(stderr, "nointrude-bench crypto: setup failed\n");
    return 1;
  }
  printf("%-30s %9s %10s %13s %12s\n", "operation", "iters", "total ms",
         "per op", "ops/s");
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    /* Mining varies the seed; later ops sign and prove with a's key. */
    memcpy(ctx.seed, ctx.a.sk, NC_SEED_LEN);
    run_op(&ctx, &ops[i]);
  }
  nc_identity_wipe(&ctx.a);
  nc_identity_wipe(&ctx.b);
  sodium_memzero(ctx.seed, sizeof ctx.seed);
  if (ctx.failures) {
    fprintf(stderr, "nointrude-bench crypto: %d operations failed\n",
            ctx.failures);
    return 1;
  }
  return 0;
}
