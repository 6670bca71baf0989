/*
 * wire_fuzz.c — libFuzzer target for the datagram decoder (core/wire.h)
 * with the runtime's address table (runtime/addr.h), i.e. exactly what a
 * stripecast peer runs on every datagram it reads.
 *
 * For every input: decoding must never crash, leak, read out of bounds or
 * take unbounded memory (the sanitizers and libFuzzer's limits watch), and
 * must fail with one of the documented codes. What decodes must re-encode,
 * and re-encoding is a fixed point: encode(decode(encode(m))) is the same
 * bytes as encode(m), so no field is lost or invented on a round trip.
 *
 * The table is small (RT_FUZZ_ADDRS) and shared across inputs, as in a
 * long-running peer, so the "table full" path is exercised too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/wire.h"
#include "runtime/addr.h"

#define RT_FUZZ_ADDRS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rt_addr_table *fuzz_table(void) {
  static rt_addr_table t;
  static int ready;
  if (!ready) {
    if (rt_addr_init(&t, RT_FUZZ_ADDRS) != 0) abort();
    ready = 1;
  }
  return &t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rt_addr_table *t = fuzz_table();
  const sc_wire_addr_map *map = rt_addr_map(t);
  /* The runtime never hands the decoder more than SC_WIRE_DATAGRAM_MAX + 1
   * bytes; give it what it would get, in a buffer of exactly that size so
   * ASan sees any read past the end. */
  size_t n = size > SC_WIRE_DATAGRAM_MAX + 1 ? SC_WIRE_DATAGRAM_MAX + 1 : size;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return 0;
  if (n) memcpy(buf, data, n);
  sc_msg m;
  int rv = sc_wire_decode(buf, n, map, &m);
  if (rv != 0) {
    if (rv != SC_ERR_TRUNCATED && rv != SC_ERR_TOO_LARGE && rv != SC_ERR_VERSION &&
        rv != SC_ERR_INVALID)
      abort(); /* an undocumented error code */
    if (n > SC_WIRE_DATAGRAM_MAX && rv != SC_ERR_TOO_LARGE) abort();
    free(buf);
    return 0;
  }
  if (n > SC_WIRE_DATAGRAM_MAX || n < SC_WIRE_DATAGRAM_MIN) abort();
  if (m.type == 0 || m.type >= SC_MSG_TYPE_END) abort();
  /* A MULTICAST's payload points into buf: it must lie inside it. */
  if (m.type == SC_MSG_MULTICAST && m.u.multicast.data &&
      (m.u.multicast.data < buf || m.u.multicast.data + m.u.multicast.len > buf + n))
    abort();

  uint8_t enc1[SC_WIRE_DATAGRAM_MAX], enc2[SC_WIRE_DATAGRAM_MAX];
  int n1 = sc_wire_encode(&m, map, enc1, sizeof enc1);
  if (n1 <= 0) abort(); /* everything that decodes is encodable */
  if ((size_t)n1 != sc_wire_size(&m, RT_ADDR_WIRE_LEN)) abort();
  sc_msg m2;
  if (sc_wire_decode(enc1, (size_t)n1, map, &m2) != 0) abort();
  int n2 = sc_wire_encode(&m2, map, enc2, sizeof enc2);
  if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1) != 0) abort();
  free(buf);
  return 0;
}
