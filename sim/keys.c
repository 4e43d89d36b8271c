/*
 * Memoised pair keys: the dht_env.peer_key hook of simulated nodes.
 *
 * On a real network each end of a pair derives the pair key itself (one
 * Ed25519->X25519 conversion of the peer's key and one X25519 each). In one
 * process hosting every node that work is pure repetition: the simulator
 * knows every host's key pair, converts each host's keys once when it
 * starts (nc_kx_init, nc_pk_to_x25519) and keeps recently derived pair keys
 * in a direct-mapped table indexed by the unordered host pair, so the
 * second end of a pair usually finds the key the first end derived. The
 * 32 bytes are exactly what nc_peer_key gives (sim_test checks it), so
 * this is memoisation, not a protocol change: the engine still checks the
 * peer's puzzle before asking, and keys of unknown or invalid public keys
 * (an attacker's garbage) are derived, and refused, by nc_kx_peer_key.
 *
 * Memory: 44 bytes per slot, slots = next power of two >= 32 x nodes,
 * between 2^12 and 2^23 (185 MB at 100,000 nodes, at most 369 MB). A collision
 * only overwrites an older entry (a later miss derives it again).
 *
 * Modelled keys ([scenario] key_model = 1), for runs where X25519 would
 * dominate (one per pair of hosts that ever talk, 46 us each here: most
 * of a 100,000-node join): the pair key of two hosts is BLAKE2b-256 keyed
 * by a per-run secret over their public keys in host order. Both ends get
 * the same 32 bytes, every datagram is still sealed and opened by the
 * engine with XChaCha20-Poly1305, and the engine's code path (puzzle
 * check, key caches) is unchanged; only the key's value differs from
 * nc_peer_key's, and no protocol decision depends on that value, so a run
 * gives the same summary as with real keys (sim_test checks it). Public
 * keys of no host are still derived, and refused when invalid, as above.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "world_int.h"

#define MEMO_MIN_SHIFT 12
#define MEMO_MAX_SHIFT 23
#define MEMO_PER_NODE 32

static uint64_t pk_hash(const uint8_t pk[NC_PK_LEN]) {
  uint64_t v;
  memcpy(&v, pk, sizeof v); /* public keys are uniformly distributed */
  return v * UINT64_C(0x9E3779B97F4A7C15);
}

static size_t pow2_at_least(size_t n, unsigned lo, unsigned hi) {
  unsigned s = lo;
  while (s < hi && ((size_t)1 << s) < n)
    s++;
  return (size_t)1 << s;
}

/* The model's hash key: 32 bytes of the run's "keys" random stream. */
static void model_secret(uint8_t out[32], uint64_t seed) {
  sim_rng rng;
  sim_rng_stream(&rng, seed, "keys", 0);
  sim_rng_fill(&rng, out, 32);
  sodium_memzero(&rng, sizeof rng);
}

int sim_keys_init(sim_keys *k, uint32_t hosts, int model, uint64_t seed) {
  memset(k, 0, sizeof *k);
  size_t idx = pow2_at_least((size_t)hosts * 2, 4, 30);
  size_t memo = pow2_at_least((size_t)hosts * MEMO_PER_NODE, MEMO_MIN_SHIFT,
                              MEMO_MAX_SHIFT);
  k->model = model;
  if (model)
    model_secret(k->model_secret, seed);
  k->index = calloc(idx, sizeof *k->index);
  k->memo = model ? NULL : calloc(memo, sizeof *k->memo);
  if (k->index == NULL || (!model && k->memo == NULL)) {
    sim_keys_free(k);
    return SIM_ERR_NOMEM;
  }
  k->index_mask = idx - 1;
  k->memo_mask = memo - 1;
  return 0;
}

void sim_keys_free(sim_keys *k) {
  if (k->memo != NULL)
    sodium_memzero(k->memo, (k->memo_mask + 1) * sizeof *k->memo);
  free(k->memo);
  free(k->index);
  sodium_memzero(k->model_secret, sizeof k->model_secret);
  memset(k, 0, sizeof *k);
}

size_t sim_keys_bytes(const sim_keys *k) {
  if (k->index == NULL)
    return 0;
  return (k->memo ? (k->memo_mask + 1) * sizeof *k->memo : 0) +
         (k->index_mask + 1) * sizeof *k->index;
}

int sim_keys_add_host(sim_keys *k, sim_host *h) {
  if (nc_kx_init(&h->kx, h->ident.sk) != 0 ||
      (!k->model && nc_pk_to_x25519(h->x_pk, h->ident.pk) != 0))
    return SIM_ERR_IDENTITY;
  for (size_t i = pk_hash(h->ident.pk) & k->index_mask;;
       i = (i + 1) & k->index_mask) {
    if (k->index[i] == 0) {
      k->index[i] = h->index + 1;
      return 0;
    }
    if (k->index[i] == h->index + 1)
      return 0; /* a rejoin: already known */
  }
}

/* find_host returns the host whose public key is |pk|, or NULL. */
static const sim_host *find_host(const sim_world *w,
                                 const uint8_t pk[NC_PK_LEN]) {
  const sim_keys *k = &w->keys;
  for (size_t i = pk_hash(pk) & k->index_mask; k->index[i] != 0;
       i = (i + 1) & k->index_mask) {
    const sim_host *h = &w->hosts[k->index[i] - 1];
    if (memcmp(h->ident.pk, pk, NC_PK_LEN) == 0)
      return h;
  }
  return NULL;
}

static size_t memo_slot(const sim_keys *k, uint32_t lo, uint32_t hi) {
  uint64_t v = ((uint64_t)lo << 32 | hi) * UINT64_C(0xD6E8FEB86659FD93);
  return (size_t)(v >> 20) & k->memo_mask;
}

/* The modelled key of hosts |a| and |b| (a's index below b's). */
static void model_key(uint8_t key[NC_SHARED_LEN], sim_keys *k,
                      const sim_host *a, const sim_host *b) {
  nc_hasher hs;
  k->modelled++;
  nc_hasher_init(&hs, k->model_secret, sizeof k->model_secret,
                 NC_SHARED_LEN);
  nc_hasher_update(&hs, a->ident.pk, NC_PK_LEN);
  nc_hasher_update(&hs, b->ident.pk, NC_PK_LEN);
  nc_hasher_final(&hs, key, NC_SHARED_LEN);
}

int sim_keys_pair(sim_world *w, const sim_host *h,
                  const uint8_t their_pk[NC_PK_LEN],
                  uint8_t key[NC_SHARED_LEN]) {
  sim_keys *k = &w->keys;
  const sim_host *t = find_host(w, their_pk);
  if (t == NULL) { /* not one of ours: derive (and refuse bad points) */
    k->derived++;
    return nc_kx_peer_key(key, &h->kx, their_pk) == 0 ? 0 : -1;
  }
  uint32_t lo = h->index < t->index ? h->index : t->index;
  uint32_t hi = h->index ^ t->index ^ lo;
  if (k->model) {
    model_key(key, k, &w->hosts[lo], &w->hosts[hi]);
    return 0;
  }
  sim_key_memo *m = &k->memo[memo_slot(k, lo, hi)];
  if (m->used && m->lo == lo && m->hi == hi) {
    k->hits++;
    memcpy(key, m->key, NC_SHARED_LEN);
    return 0;
  }
  k->derived++;
  if (nc_kx_peer_key_x(key, &h->kx, their_pk, t->x_pk) != 0)
    return -1;
  m->lo = lo;
  m->hi = hi;
  m->used = 1;
  memcpy(m->key, key, NC_SHARED_LEN);
  return 0;
}
