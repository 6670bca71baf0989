/*
 * rng.h — a small per-peer PRNG (splitmix64 seeding a xorshift64*).
 *
 * Randomness enters the core once, as a seed (docs/ARCHITECTURE.md §2); each peer owns
 * one of these, so adding a peer never perturbs another peer's stream.
 */
#ifndef SC_RNG_H
#define SC_RNG_H

#include <stdint.h>

typedef struct sc_rng {
  uint64_t s;
} sc_rng;

/* splitmix64 step: also a good 64-bit mixer for deriving seeds. */
static inline uint64_t sc_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static inline void sc_rng_seed(sc_rng *r, uint64_t seed) {
  r->s = sc_mix64(seed);
  if (r->s == 0) r->s = 0x2545f4914f6cdd1dULL;
}

/* A uniformly distributed 64-bit value (xorshift64*). */
static inline uint64_t sc_rng_next(sc_rng *r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n) for n > 0 (Lemire's multiply-shift; bias below 2^-32). */
static inline uint32_t sc_rng_below(sc_rng *r, uint32_t n) {
  return (uint32_t)(((sc_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double sc_rng_unit(sc_rng *r) {
  return (double)(sc_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
