/*
 * bytes.h — big-endian (network order) integers in byte buffers.
 *
 * Every format the core writes (generation prefixes, records, signed
 * headers, addresses) puts integers most significant byte first; these are
 * the one copy of that, so a format never depends on the host's byte order.
 * The caller owns the bounds: p has room for the width read or written.
 */
#ifndef SC_BYTES_H
#define SC_BYTES_H

#include <stdint.h>

/* Writes v to p[0, 2) most significant byte first. */
static inline void sc_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Writes v to p[0, 4) most significant byte first. */
static inline void sc_put_be32(uint8_t *p, uint32_t v) {
  sc_put_be16(p, (uint16_t)(v >> 16));
  sc_put_be16(p + 2, (uint16_t)v);
}

/* Writes v to p[0, 8) most significant byte first. */
static inline void sc_put_be64(uint8_t *p, uint64_t v) {
  sc_put_be32(p, (uint32_t)(v >> 32));
  sc_put_be32(p + 4, (uint32_t)v);
}

/* Reads p[0, 2) as a big-endian integer. */
static inline uint16_t sc_get_be16(const uint8_t *p) {
  return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Reads p[0, 4) as a big-endian integer. */
static inline uint32_t sc_get_be32(const uint8_t *p) {
  return (uint32_t)sc_get_be16(p) << 16 | sc_get_be16(p + 2);
}

/* Reads p[0, 8) as a big-endian integer. */
static inline uint64_t sc_get_be64(const uint8_t *p) {
  return (uint64_t)sc_get_be32(p) << 32 | sc_get_be32(p + 4);
}

#endif
