/*
 * Internal: the node's defences against floods and replays.
 *
 *  - dht_rl: token buckets per source prefix (IPv4 address, IPv6 /64),
 *    in an open-addressed table keyed with SipHash under a random secret
 *    so that peers cannot aim collisions; at most DHT_RL_MAX entries.
 *  - dht_replay: AEAD nonces seen recently, as 32-bit keyed hashes of
 *    (sender pk, nonce) in two generations; at most DHT_REPLAY_MAX per
 *    generation. A fingerprint collision drops a genuine datagram as a
 *    replay with probability (entries / 2^32), below 2e-5 even when
 *    full: far less than ordinary UDP loss, and not something a peer can
 *    aim, since the hash is keyed with a per-node secret.
 *  - dht_tokens: the rotating secrets behind STORE tokens.
 *
 * Each table grows on demand, so an idle node pays almost nothing.
 * (Not named limits.h: dht/src is on the include path and would shadow
 * the standard <limits.h>.)
 */
#ifndef NOINTRUDE_DHT_GUARD_H
#define NOINTRUDE_DHT_GUARD_H

#include <nointrude/dht.h>

#include "wire.h"

#define DHT_RL_MAX 512          /* tracked source prefixes */
#define DHT_RL_BURST_MAX 4000000u /* largest bucket depth, tokens */
#define DHT_RL_V4_BITS 32       /* one bucket per IPv4 address */
#define DHT_RL_V6_BITS 64       /* one bucket per IPv6 /64 */
#define DHT_REPLAY_MAX 65536    /* nonces per generation */
#define DHT_TOKEN_ROTATE (300 * DHT_SEC) /* STORE token secret lifetime */

typedef struct dht_rl_slot {
  uint8_t prefix[16]; /* dht_addr_prefix form */
  uint64_t last;      /* ns of the last refill; 0 = empty slot */
  uint32_t milli;     /* tokens x 1000 */
} dht_rl_slot;

typedef struct dht_rl {
  uint8_t hkey[16];   /* SipHash key, random */
  uint32_t rate;      /* tokens per second */
  uint32_t burst;     /* bucket depth, tokens */
  dht_rl_slot *slots; /* cap slots, power of two, at most half full */
  size_t cap, n;
  dht_time purged;    /* last sweep of refilled buckets (ns) */
} dht_rl;

/* dht_rl_init prepares |rl| with |rate| tokens/s, depth |burst| and the
 * 16-byte hash key |hkey|. Allocates nothing. */
void dht_rl_init(dht_rl *rl, uint32_t rate, uint32_t burst,
                 const uint8_t hkey[16]);

/* dht_rl_free releases |rl|'s table. */
void dht_rl_free(dht_rl *rl);

/* dht_rl_take takes one token from |from|'s prefix bucket at |now| (ns).
 * Returns 1 if a token was available, 0 if the request must be dropped
 * (also when out of memory: fail closed). At DHT_RL_MAX prefixes the
 * fullest of a few sampled buckets is forgotten to make room. */
int dht_rl_take(dht_rl *rl, const dht_addr *from, dht_time now);

/* dht_rl_tidy forgets the buckets that have refilled by |now| (they are
 * the same as a fresh bucket) and shrinks the table to fit the rest. */
void dht_rl_tidy(dht_rl *rl, dht_time now);

/* dht_rl_refund gives back the token a datagram from |from| took (it
 * turned out to be a reply to one of our requests). */
void dht_rl_refund(dht_rl *rl, const dht_addr *from);

typedef struct dht_replay_gen {
  uint32_t *h;   /* open addressing, 0 = empty */
  size_t cap, n; /* cap a power of two, n <= 3 cap / 4 */
} dht_replay_gen;

typedef struct dht_replay {
  uint8_t hkey[16];
  dht_replay_gen gen[2]; /* [0] current, [1] previous */
  dht_time rotated;      /* when [0] became current (ns) */
  dht_time period;       /* rotation period (ns) */
} dht_replay;

/* Results of dht_replay_check */
enum { DHT_REPLAY_FRESH = 0, DHT_REPLAY_SEEN = 1, DHT_REPLAY_FULL = 2 };

/* dht_replay_init prepares |rp| to rotate every |period| ns from |now|. */
void dht_replay_init(dht_replay *rp, const uint8_t hkey[16], dht_time period,
                     dht_time now);

/* dht_replay_free releases both generations. */
void dht_replay_free(dht_replay *rp);

/* dht_replay_rotate drops the previous generation if |now| is at least a
 * period after the last rotation (twice if two periods passed). */
void dht_replay_rotate(dht_replay *rp, dht_time now);

/* dht_replay_next returns when dht_replay_rotate next has work
 * (DHT_TIME_NONE while both generations are empty). */
dht_time dht_replay_next(const dht_replay *rp);

/* dht_replay_check remembers (|pk|, |nonce|) and returns DHT_REPLAY_FRESH,
 * DHT_REPLAY_SEEN if either generation holds it, or DHT_REPLAY_FULL if
 * the current generation is at DHT_REPLAY_MAX or memory ran out (fail
 * closed: freshness cannot be proven). */
int dht_replay_check(dht_replay *rp, const uint8_t pk[NC_PK_LEN],
                     const uint8_t nonce[NC_AEAD_NONCE_LEN]);

typedef struct dht_tokens {
  uint8_t cur[32], prev[32]; /* secret */
  dht_time rotated;          /* when cur was drawn (ns) */
} dht_tokens;

/* dht_tokens_rotate makes |fresh| (32 random bytes) the current secret
 * and keeps the old one as previous, at |now|. */
void dht_tokens_rotate(dht_tokens *t, const uint8_t fresh[32], dht_time now);

/* dht_tokens_make computes the token for a requester at |addr| with
 * public key |pk| under the current secret. */
void dht_tokens_make(const dht_tokens *t, const dht_addr *addr,
                     const uint8_t pk[NC_PK_LEN],
                     uint8_t token[DHT_TOKEN_LEN]);

/* dht_tokens_check returns 1 if |token| matches |addr| and |pk| under the
 * current or previous secret (constant-time compare), else 0. */
int dht_tokens_check(const dht_tokens *t, const dht_addr *addr,
                     const uint8_t pk[NC_PK_LEN],
                     const uint8_t token[DHT_TOKEN_LEN]);

/* dht_tokens_wipe zeroes both secrets. */
void dht_tokens_wipe(dht_tokens *t);

#endif /* NOINTRUDE_DHT_GUARD_H */
