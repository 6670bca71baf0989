/* id.c — 128-bit ids and digit arithmetic (see id.h). */
#include "id.h"

#include "bytes.h"
#include "err.h"
#include "rng.h"

unsigned sc_id_shl(const sc_id *a, const sc_id *b) {
  uint64_t x = a->hi ^ b->hi;
  if (x != 0) return (unsigned)__builtin_clzll(x) / SC_ID_DIGIT_BITS;
  x = a->lo ^ b->lo;
  if (x != 0) return 16 + (unsigned)__builtin_clzll(x) / SC_ID_DIGIT_BITS;
  return SC_ID_DIGITS;
}

sc_id sc_id_ring_dist(const sc_id *a, const sc_id *b) {
  sc_id d1 = sc_id_sub(a, b);
  sc_id d2 = sc_id_sub(b, a);
  return sc_id_cmp(&d1, &d2) <= 0 ? d1 : d2;
}

bool sc_id_closer(const sc_id *key, const sc_id *a, const sc_id *b) {
  sc_id da = sc_id_ring_dist(a, key);
  sc_id db = sc_id_ring_dist(b, key);
  int c = sc_id_cmp(&da, &db);
  if (c != 0) return c < 0;
  return sc_id_cmp(a, b) < 0;
}

sc_id sc_id_with_digit(const sc_id *id, unsigned i, unsigned d) {
  sc_id r = *id;
  unsigned shift = 60 - 4 * (i & 15);
  uint64_t mask = (uint64_t)0xF << shift;
  uint64_t v = (uint64_t)(d & 0xF) << shift;
  if (i < 16)
    r.hi = (r.hi & ~mask) | v;
  else
    r.lo = (r.lo & ~mask) | v;
  return r;
}

void sc_id_to_hex(const sc_id *id, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < SC_ID_DIGITS; i++)
    out[i] = hex[sc_id_digit(id, i)];
  out[SC_ID_HEX_LEN] = '\0';
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sc_id_from_hex(sc_id *id, const char *hex, size_t hexlen) {
  if (hexlen != SC_ID_HEX_LEN) return SC_ERR_INVALID;
  sc_id r = {0, 0};
  for (unsigned i = 0; i < SC_ID_DIGITS; i++) {
    int v = hex_value(hex[i]);
    if (v < 0) return SC_ERR_INVALID;
    r = sc_id_with_digit(&r, i, (unsigned)v);
  }
  *id = r;
  return SC_OK;
}

/* Two independent 64-bit lanes of a multiply-xorshift hash, each finished
 * with splitmix64: well mixed, fast, and stable across platforms. */
sc_id sc_id_hash(const void *data, size_t datalen) {
  const uint8_t *p = data;
  uint64_t h1 = 0x6a09e667f3bcc908ULL ^ datalen;
  uint64_t h2 = 0xbb67ae8584caa73bULL ^ (datalen * 0x9e3779b97f4a7c15ULL);
  for (size_t i = 0; i < datalen; i++) {
    h1 = (h1 ^ p[i]) * 0x100000001b3ULL;
    h2 = (h2 ^ p[i]) * 0xff51afd7ed558ccdULL;
    h2 ^= h2 >> 29;
  }
  sc_id id = {sc_mix64(h1 ^ sc_mix64(h2)), sc_mix64(h2 ^ 0x3c6ef372fe94f82bULL)};
  return id;
}

void sc_id_to_bytes(const sc_id *id, uint8_t out[16]) {
  sc_put_be64(out, id->hi);
  sc_put_be64(out + 8, id->lo);
}

sc_id sc_id_from_bytes(const uint8_t in[16]) {
  sc_id id = {sc_get_be64(in), sc_get_be64(in + 8)};
  return id;
}
