/*
 * Simulator randomness: xoshiro256** seeded through splitmix64.
 *
 * Every random choice of a simulation comes from a sim_rng that is part of
 * the simulator state, so a run is a pure function of its scenario and
 * seed. Streams are independent by construction (each is seeded from a
 * BLAKE2b hash of the run seed, a stream name and an index), so adding a
 * draw in one place (say, the loss model) does not shift any other stream
 * (the workload, the nodes' own randomness). Not for cryptographic use
 * outside the simulator.
 */
#ifndef NOINTRUDE_SIM_RNG_H
#define NOINTRUDE_SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_rng {
  uint64_t s[4]; /* xoshiro256** state, never all zero */
} sim_rng;

/* sim_splitmix64 advances |*state| and returns the next splitmix64 output
 * (a good 64-bit mixer for seeding and hashing small integers). */
uint64_t sim_splitmix64(uint64_t *state);

/* sim_mix64 returns a stateless 64-bit hash of |x| (splitmix64's
 * finaliser). */
uint64_t sim_mix64(uint64_t x);

/* sim_rng_seed seeds |rng| from the 64-bit |seed| through splitmix64. */
void sim_rng_seed(sim_rng *rng, uint64_t seed);

/* sim_rng_stream seeds |rng| for the stream called |name| (a short ASCII
 * tag such as "net") with index |index|, under the run seed |seed|: the
 * state is BLAKE2b-256("nointrude-sim-rng" || le64 seed || name || 0 ||
 * le64 index). */
void sim_rng_stream(sim_rng *rng, uint64_t seed, const char *name,
                    uint64_t index);

/* sim_rng_next returns 64 uniformly distributed bits. */
uint64_t sim_rng_next(sim_rng *rng);

/* sim_rng_below returns a uniform integer in [0, |n|) without modulo bias
 * (Lemire's multiply-and-reject); |n| == 0 returns 0. */
uint64_t sim_rng_below(sim_rng *rng, uint64_t n);

/* sim_rng_unit returns a uniform double in [0, 1) with 53 random bits. */
double sim_rng_unit(sim_rng *rng);

/* sim_rng_chance returns 1 with probability |p| (clamped to [0, 1]). */
int sim_rng_chance(sim_rng *rng, double p);

/* sim_rng_exponential returns an exponentially distributed value with the
 * given |mean| (> 0), in the caller's unit. */
double sim_rng_exponential(sim_rng *rng, double mean);

/* sim_rng_fill writes |len| random bytes into |buf|. */
void sim_rng_fill(sim_rng *rng, uint8_t *buf, size_t len);

/* sim_unit_from_bits maps 64 bits to a double in [0, 1) (53 bits kept). */
double sim_unit_from_bits(uint64_t bits);

/* sim_normal_from_bits turns two 64-bit values into one standard normal
 * variate (Box-Muller). Deterministic for a given libm. */
double sim_normal_from_bits(uint64_t a, uint64_t b);

#endif /* NOINTRUDE_SIM_RNG_H */
