/*
 * id.h — 128-bit overlay identifiers and base-16 digit arithmetic.
 *
 * Pastry (Rowstron & Druschel 2001, §2.1) places peers and keys on a circular
 * 128-bit id space and reads ids as 32 digits of b = 4 bits. The ring distance
 * between two ids is the shorter way round; a key belongs to the live peer at the
 * smallest ring distance, ties going to the smaller id so that every peer and the
 * simulator's oracle agree on one owner.
 */
#ifndef SC_ID_H
#define SC_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_ID_BITS       128
#define SC_ID_DIGIT_BITS 4  /* Pastry's b */
#define SC_ID_BASE       16 /* 2^b columns per routing-table row */
#define SC_ID_DIGITS     32 /* SC_ID_BITS / SC_ID_DIGIT_BITS */
#define SC_ID_HEX_LEN    32 /* characters in sc_id_to_hex (without NUL) */

/* A 128-bit id; hi holds digits 0..15 (digit 0 most significant). */
typedef struct sc_id {
  uint64_t hi;
  uint64_t lo;
} sc_id;

/* Digit i (0 = most significant) of id. i must be < SC_ID_DIGITS. */
static inline unsigned sc_id_digit(const sc_id *id, unsigned i) {
  uint64_t w = i < 16 ? id->hi : id->lo;
  return (unsigned)(w >> (60 - 4 * (i & 15))) & 0xF;
}

static inline bool sc_id_eq(const sc_id *a, const sc_id *b) {
  return a->hi == b->hi && a->lo == b->lo;
}

/* -1, 0, 1 as a is below, equal to, above b as unsigned 128-bit integers. */
static inline int sc_id_cmp(const sc_id *a, const sc_id *b) {
  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
  return 0;
}

/* a - b modulo 2^128: the clockwise distance from b to a. */
static inline sc_id sc_id_sub(const sc_id *a, const sc_id *b) {
  sc_id r;
  r.lo = a->lo - b->lo;
  r.hi = a->hi - b->hi - (a->lo < b->lo);
  return r;
}

/* The id's 64 most significant bits: a compact name for a peer where a
 * collision would only cost a refused adoption (paths to a tree root). */
static inline uint64_t sc_id_prefix64(const sc_id *id) {
  return id->hi;
}

/* Number of leading digits a and b share (0..32). */
unsigned sc_id_shl(const sc_id *a, const sc_id *b);

/* Ring distance: min(a - b, b - a) modulo 2^128. */
sc_id sc_id_ring_dist(const sc_id *a, const sc_id *b);

/*
 * True if a is strictly closer to key than b on the ring, with ties going to
 * the numerically smaller id. This single rule defines key ownership everywhere.
 */
bool sc_id_closer(const sc_id *key, const sc_id *a, const sc_id *b);

/* The id with digit i replaced by d (used to name stripes, SplitStream §4.1). */
sc_id sc_id_with_digit(const sc_id *id, unsigned i, unsigned d);

/* Writes 32 lowercase hex characters and a NUL into out[SC_ID_HEX_LEN + 1]. */
void sc_id_to_hex(const sc_id *id, char *out);

/* Parses exactly 32 hex characters. Returns 0, or SC_ERR_INVALID. */
int sc_id_from_hex(sc_id *id, const char *hex, size_t hexlen);

/*
 * A well-mixed 128-bit hash of data (not cryptographic): names groups (Scribe
 * §2: group id = hash(name)) and derives ids from seeds.
 */
sc_id sc_id_hash(const void *data, size_t datalen);

/* Big-endian bytes <-> id (the wire form). */
void sc_id_to_bytes(const sc_id *id, uint8_t out[16]);
sc_id sc_id_from_bytes(const uint8_t in[16]);

#endif
