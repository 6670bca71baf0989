/*
 * test_wire.c — the wire codec: every message type round-trips, sc_wire_size()
 * equals what the encoder writes, and hostile or broken datagrams are refused
 * without crashing. Randomness is a fixed-seed xorshift (core/rng.h). The
 * randomized tests cover every type; Pastry's edge cases are here, Scribe's
 * in test_wire_scribe.c; the helpers both share are in wire_testutil.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"
#include "core/msg.h"
#include "core/rng.h"
#include "core/wire.h"
#include "stripecast.pb-c.h"
#include "wire_testutil.h"

/* --- tests --- */

static void test_index6_map(void **state) {
  (void)state;
  const sc_wire_addr_map *m = sc_wire_addr_map_index6();
  uint8_t b[SC_WIRE_ADDR_MAX];
  sc_addr a;
  assert_int_equal(m->to_bytes(m->user, 0x01020304u, b, sizeof b), IDX6);
  const uint8_t want[IDX6] = {1, 2, 3, 4, 0, 0};
  assert_memory_equal(b, want, IDX6);
  assert_int_equal(m->from_bytes(m->user, b, IDX6, &a), 0);
  assert_int_equal(a, 0x01020304u);

  const sc_addr edges[] = {0, 1, 0x7fffffffu, SC_ADDR_NONE};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    assert_int_equal(m->to_bytes(m->user, edges[i], b, sizeof b), IDX6);
    assert_int_equal(m->from_bytes(m->user, b, IDX6, &a), 0);
    assert_int_equal(a, edges[i]);
  }
  assert_true(m->to_bytes(m->user, 1, b, IDX6 - 1) < 0);
  assert_true(m->from_bytes(m->user, b, IDX6 - 1, &a) < 0);
  assert_true(m->from_bytes(m->user, b, IDX6 + 1, &a) < 0);
  assert_true(m->from_bytes(m->user, NULL, 0, &a) < 0);
  b[5] = 1; /* a "port" */
  assert_true(m->from_bytes(m->user, b, IDX6, &a) < 0);
}

static void test_roundtrip_edges(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  const sc_id zero = {0, 0}, ones = {UINT64_MAX, UINT64_MAX};
  const sc_ref r0 = {zero, 0}, r1 = {ones, SC_ADDR_NONE};
  sc_msg m;

  for (int hi = 0; hi < 2; hi++) {
    const sc_ref *ref = hi ? &r1 : &r0;
    const uint64_t v64 = hi ? UINT64_MAX : 0;
    const uint32_t v32 = hi ? UINT32_MAX : 0;

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_PING;
    m.sender = *ref;
    m.u.ping.sent_ns = v64;
    m.u.ping.announce = (uint8_t)hi;
    m.u.ping.rtt_us = v32;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_PONG;
    m.sender = *ref;
    m.u.pong.echo_ns = v64;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_HEARTBEAT;
    m.sender = *ref;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ROUTE;
    m.sender = *ref;
    m.u.route.key = ref->id;
    m.u.route.origin = hi ? r0 : r1;
    m.u.route.seq = v32;
    m.u.route.hops = hi ? UINT16_MAX : 0;
    m.u.route.kind = hi ? SC_ROUTE_KIND_END - 1 : SC_ROUTE_JOIN;
    m.u.route.rows_sent = hi ? UINT8_MAX : 0;
    m.u.route.app_id = v64;
    m.u.route.app_time_ns = v64;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ROUTE_ACK;
    m.sender = *ref;
    m.u.route_ack.seq = v32;
    check_roundtrip(&m, map, IDX6);

    /* Empty and full leaf sets, with 0 and SC_FAILED_HINT_MAX failed ids. */
    memset(&m, 0, sizeof m);
    m.type = SC_MSG_LEAFSET;
    m.sender = *ref;
    m.u.leafset.want_reply = (uint8_t)hi;
    if (hi) {
      m.u.leafset.n = SC_LEAFSET_MAX;
      m.u.leafset.nfailed = SC_FAILED_HINT_MAX;
      for (unsigned i = 0; i < SC_LEAFSET_MAX; i++)
        m.u.leafset.e[i] = i & 1 ? r1 : r0;
      for (unsigned i = 0; i < SC_FAILED_HINT_MAX; i++)
        m.u.leafset.failed[i] = i & 1 ? zero : ones;
    }
    check_roundtrip(&m, map, IDX6);
    m.u.leafset.nfailed = (uint8_t)(hi ? 0 : SC_FAILED_HINT_MAX);
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ROW_REQUEST;
    m.sender = *ref;
    m.u.row_request.row = hi ? SC_ID_DIGITS - 1 : 0;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ROW;
    m.sender = *ref;
    m.u.row.row = hi ? SC_ID_DIGITS - 1 : 0;
    if (hi) {
      m.u.row.n = SC_ROW_ENTRIES;
      for (unsigned i = 0; i < SC_ROW_ENTRIES; i++)
        m.u.row.e[i] = i & 1 ? r0 : r1;
    }
    check_roundtrip(&m, map, IDX6);
  }
}

static void test_roundtrip_random(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 1);
  sc_msg m;
  for (int i = 0; i < 20000; i++) {
    rand_msg(&r, rand_type(&r), &m);
    check_roundtrip(&m, sc_wire_addr_map_index6(), IDX6);
  }
}

/* sc_wire_size() against the encoder for several address lengths (including
 * none and the longest), every type, thousands of messages each. */
static void test_size_matches_encode(void **state) {
  (void)state;
  static const size_t lens[] = {0, 2, 4, IDX6, 18, SC_WIRE_ADDR_MAX};
  sc_rng r;
  sc_rng_seed(&r, 2);
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_msg m;
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
    size_t len = lens[li];
    sc_wire_addr_map map = {&len, fixed_to_bytes, fixed_from_bytes};
    for (unsigned type = 1; type < SC_MSG_TYPE_END; type++) {
      for (int i = 0; i < 2000; i++) {
        rand_msg(&r, type, &m);
        int n = sc_wire_encode(&m, &map, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal((size_t)n, sc_wire_size(&m, len));
        if (len >= 4 && i < 200) check_roundtrip(&m, &map, len);
      }
    }
  }
}

/* The largest message, with the longest addresses, fits a datagram and the
 * decoder's arena. */
static void test_largest_message(void **state) {
  (void)state;
  size_t len = SC_WIRE_ADDR_MAX;
  sc_wire_addr_map map = {&len, fixed_to_bytes, fixed_from_bytes};
  sc_rng r;
  sc_rng_seed(&r, 3);
  sc_msg m;
  rand_msg(&r, SC_MSG_LEAFSET, &m);
  m.u.leafset.want_reply = 1;
  m.u.leafset.n = SC_LEAFSET_MAX;
  m.u.leafset.nfailed = SC_FAILED_HINT_MAX;
  for (unsigned i = 0; i < SC_LEAFSET_MAX; i++)
    m.u.leafset.e[i] = rand_ref(&r);
  for (unsigned i = 0; i < SC_FAILED_HINT_MAX; i++)
    m.u.leafset.failed[i] = rand_id(&r);
  check_roundtrip(&m, &map, len);
  assert_true(sc_wire_size(&m, len) <= SC_WIRE_DATAGRAM_MAX);
}

static void test_unknown_type(void **state) {
  (void)state;
  sc_msg m;
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  memset(&m, 0, sizeof m);
  const uint8_t types[] = {0, SC_MSG_TYPE_END, 200, 255};
  for (size_t i = 0; i < sizeof types; i++) {
    m.type = types[i];
    assert_int_equal(sc_wire_encode(&m, sc_wire_addr_map_index6(), buf, sizeof buf),
                     SC_ERR_INVALID);
    assert_int_equal(sc_wire_size(&m, IDX6), 0);
  }
}

static void test_encode_invalid(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 4);
  sc_msg m;

  rand_msg(&r, SC_MSG_LEAFSET, &m);
  m.u.leafset.n = SC_LEAFSET_MAX + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  m.u.leafset.n = 0;
  m.u.leafset.nfailed = SC_FAILED_HINT_MAX + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);

  rand_msg(&r, SC_MSG_ROW, &m);
  m.u.row.n = SC_ROW_ENTRIES + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  m.u.row.n = 0;
  m.u.row.row = SC_ID_DIGITS;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);

  rand_msg(&r, SC_MSG_ROW_REQUEST, &m);
  m.u.row_request.row = SC_ID_DIGITS;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);

  rand_msg(&r, SC_MSG_ROUTE, &m);
  const uint8_t bad_kinds[] = {0, SC_ROUTE_KIND_END, UINT8_MAX};
  for (size_t i = 0; i < sizeof bad_kinds; i++) {
    m.u.route.kind = bad_kinds[i];
    assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  }

  /* Addresses without a wire form: sender, origin, a leaf-set entry, a row
   * entry; and a map that overruns its buffer. */
  rand_msg(&r, SC_MSG_HEARTBEAT, &m);
  m.sender.addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_ROUTE, &m);
  m.sender.addr = 1;
  m.u.route.origin.addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_LEAFSET, &m);
  m.sender.addr = 1;
  m.u.leafset.n = SC_LEAFSET_MAX;
  for (unsigned i = 0; i < SC_LEAFSET_MAX; i++)
    m.u.leafset.e[i].addr = i;
  m.u.leafset.e[SC_LEAFSET_MAX - 1].addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_ROW, &m);
  m.sender.addr = 1;
  m.u.row.n = 1;
  m.u.row.e[0].addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_PING, &m);
  assert_int_equal(sc_wire_encode(&m, &long_map, buf, sizeof buf), SC_ERR_INVALID);
}

/* Every buffer shorter than the datagram is refused; the exact size works. */
static void test_encode_nobuf(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 5);
  sc_msg m;
  for (unsigned type = 1; type < SC_MSG_TYPE_END; type++) {
    rand_msg(&r, type, &m);
    if (type == SC_MSG_LEAFSET) m.u.leafset.n = SC_LEAFSET_MAX;
    size_t need = sc_wire_size(&m, IDX6);
    for (size_t len = 0; len < need; len++)
      assert_int_equal(sc_wire_encode(&m, map, buf, len), SC_ERR_NOBUF);
    assert_int_equal(sc_wire_encode(&m, map, buf, need), (int)need);
  }
}

/* Every prefix of a valid datagram is refused, and short ones as truncated. */
static void test_decode_truncated(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 6);
  sc_msg m, got;
  for (int round = 0; round < 20; round++) {
    for (unsigned type = 1; type < SC_MSG_TYPE_END; type++) {
      rand_msg(&r, type, &m);
      int len = sc_wire_encode(&m, map, buf, sizeof buf);
      assert_true(len > 0);
      for (int cut = 0; cut < len; cut++) {
        int rv = sc_wire_decode(buf, (size_t)cut, map, &got);
        if (cut < SC_WIRE_DATAGRAM_MIN)
          assert_int_equal(rv, SC_ERR_TRUNCATED);
        else
          assert_int_equal(rv, SC_ERR_INVALID);
      }
      assert_int_equal(sc_wire_decode(buf, (size_t)len, map, &got), 0);
    }
  }
  assert_int_equal(sc_wire_decode(NULL, 0, map, &got), SC_ERR_TRUNCATED);
}

static void test_decode_version(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 7);
  sc_msg m, got;
  rand_msg(&r, SC_MSG_PING, &m);
  int len = sc_wire_encode(&m, map, buf, sizeof buf);
  assert_true(len > 0);
  const uint8_t versions[] = {0, SC_WIRE_VERSION + 1, 0x0a, 0xff};
  for (size_t i = 0; i < sizeof versions; i++) {
    buf[0] = versions[i];
    assert_int_equal(sc_wire_decode(buf, (size_t)len, map, &got), SC_ERR_VERSION);
    assert_int_equal(sc_wire_decode(buf, 1, map, &got), SC_ERR_VERSION);
  }
}

/* A valid datagram padded with an unknown field to exactly the bound decodes;
 * one byte more is refused before parsing. */
static void test_decode_too_large(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 64];
  sc_rng r;
  sc_rng_seed(&r, 8);
  sc_msg m, got;
  rand_msg(&r, SC_MSG_ROUTE, &m);
  int len = sc_wire_encode(&m, map, buf, sizeof buf);
  assert_true(len > 0);
  /* Field 100, length-delimited: tag 0xa2 0x06, a 2-byte length, filler. */
  size_t fill = SC_WIRE_DATAGRAM_MAX - (size_t)len - 4;
  uint8_t *p = buf + len;
  *p++ = 0xa2;
  *p++ = 0x06;
  *p++ = (uint8_t)(0x80 | (fill & 0x7f));
  *p++ = (uint8_t)(fill >> 7);
  memset(p, 0x33, fill + 64);
  assert_int_equal(sc_wire_decode(buf, SC_WIRE_DATAGRAM_MAX, map, &got), 0);
  check_msg_eq(&m, &got);
  assert_int_equal(sc_wire_decode(buf, SC_WIRE_DATAGRAM_MAX + 1, map, &got),
                   SC_ERR_TOO_LARGE);
  buf[0] = 0; /* the size is checked before the version */
  assert_int_equal(sc_wire_decode(buf, sizeof buf, map, &got), SC_ERR_TOO_LARGE);
}

/* Hand-built Envelopes that protobuf accepts but our structs cannot hold. */
static void test_decode_out_of_bounds(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[4 * SC_WIRE_DATAGRAM_MAX];
  sc_msg got;
  enum { NREFS = SC_LEAFSET_MAX + 2 };
  uint8_t ids[NREFS][16], addrs[NREFS][IDX6];
  Stripecast__NodeRef refs[NREFS], *ptrs[NREFS];
  ProtobufCBinaryData failed[SC_FAILED_HINT_MAX + 1];
  for (unsigned i = 0; i < NREFS; i++) {
    stripecast__node_ref__init(&refs[i]);
    memset(ids[i], (int)i, 16);
    assert_int_equal(map->to_bytes(map->user, i, addrs[i], IDX6), IDX6);
    refs[i].id.data = ids[i];
    refs[i].id.len = 16;
    refs[i].addr.data = addrs[i];
    refs[i].addr.len = IDX6;
    ptrs[i] = &refs[i];
  }
  for (unsigned i = 0; i <= SC_FAILED_HINT_MAX; i++) {
    failed[i].data = ids[i];
    failed[i].len = 16;
  }
  Stripecast__Envelope env = STRIPECAST__ENVELOPE__INIT;
  env.sender = &refs[0];

  /* Leaf set: 16 entries and 4 failed ids fit; 17 or 5 do not. */
  Stripecast__LeafSet ls = STRIPECAST__LEAF_SET__INIT;
  env.body_case = STRIPECAST__ENVELOPE__BODY_LEAF_SET;
  env.leaf_set = &ls;
  ls.entries = ptrs;
  ls.failed = failed;
  ls.n_entries = SC_LEAFSET_MAX;
  ls.n_failed = SC_FAILED_HINT_MAX;
  size_t len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), 0);
  assert_int_equal(got.u.leafset.n, SC_LEAFSET_MAX);
  assert_int_equal(got.u.leafset.e[SC_LEAFSET_MAX - 1].addr, SC_LEAFSET_MAX - 1);
  ls.n_entries = SC_LEAFSET_MAX + 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  ls.n_entries = SC_LEAFSET_MAX;
  ls.n_failed = SC_FAILED_HINT_MAX + 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  ls.n_failed = 1;
  failed[0].len = 15; /* a failed id of the wrong length */
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  failed[0].len = 16;

  /* Row: 17 entries, or row 32. */
  Stripecast__Row row = STRIPECAST__ROW__INIT;
  env.body_case = STRIPECAST__ENVELOPE__BODY_ROW;
  env.row = &row;
  row.entries = ptrs;
  row.n_entries = SC_ROW_ENTRIES;
  row.row = SC_ID_DIGITS - 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), 0);
  row.n_entries = SC_ROW_ENTRIES + 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  row.n_entries = 1;
  row.row = SC_ID_DIGITS;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);

  Stripecast__RowRequest rreq = STRIPECAST__ROW_REQUEST__INIT;
  env.body_case = STRIPECAST__ENVELOPE__BODY_ROW_REQUEST;
  env.row_request = &rreq;
  rreq.row = SC_ID_DIGITS;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);

  /* Route: numbers too wide for their struct fields, a bad key, no origin. */
  Stripecast__Route route = STRIPECAST__ROUTE__INIT;
  env.body_case = STRIPECAST__ENVELOPE__BODY_ROUTE;
  env.route = &route;
  route.key.data = ids[1];
  route.key.len = 16;
  route.origin = &refs[1];
  route.hops = UINT16_MAX;
  route.kind = SC_ROUTE_KIND_END - 1;
  route.rows_sent = UINT8_MAX;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), 0);
  route.hops = UINT16_MAX + 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  route.hops = 0;
  /* Kinds outside [SC_ROUTE_JOIN, SC_ROUTE_KIND_END): none, the end, too wide. */
  const uint32_t bad_kinds[] = {0, SC_ROUTE_KIND_END, UINT8_MAX, UINT8_MAX + 1,
                                UINT32_MAX};
  for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
    route.kind = bad_kinds[i];
    len = pack_env(&env, buf, sizeof buf);
    assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  }
  route.kind = SC_ROUTE_JOIN;
  route.rows_sent = UINT8_MAX + 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  route.rows_sent = 0;
  route.key.len = 17;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  route.key.len = 0;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  route.key.len = 16;
  env.sender = NULL; /* a route with no sender */
  len = pack_env(&env, buf, sizeof buf);
  assert_true(len >= SC_WIRE_DATAGRAM_MIN);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  env.sender = &refs[0];
  route.origin = NULL;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);

  /* A sender id of the wrong length. */
  Stripecast__Heartbeat hb = STRIPECAST__HEARTBEAT__INIT;
  env.body_case = STRIPECAST__ENVELOPE__BODY_HEARTBEAT;
  env.heartbeat = &hb;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), 0);
  const size_t bad_id_lens[] = {0, 15, 17};
  for (size_t i = 0; i < 3; i++) {
    refs[0].id.len = bad_id_lens[i];
    len = pack_env(&env, buf, sizeof buf);
    int rv = sc_wire_decode(buf, len, map, &got);
    assert_true(rv == SC_ERR_INVALID ||
                (rv == SC_ERR_TRUNCATED && len < SC_WIRE_DATAGRAM_MIN));
  }
  refs[0].id.len = 16;

  /* No body at all: a sender only. */
  env.body_case = STRIPECAST__ENVELOPE__BODY__NOT_SET;
  env.heartbeat = NULL;
  len = pack_env(&env, buf, sizeof buf);
  assert_true(len >= SC_WIRE_DATAGRAM_MIN);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
}

/* Addresses the map rejects, or longer than any address may be. */
static void test_decode_bad_address(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 9);
  sc_msg m, got;
  for (unsigned type = 1; type < SC_MSG_TYPE_END; type++) {
    if (type == SC_MSG_MULTICAST) continue; /* names no address (core/wire.h) */
    rand_msg(&r, type, &m);
    int len = sc_wire_encode(&m, map, buf, sizeof buf);
    assert_true(len > 0);
    assert_int_equal(sc_wire_decode(buf, (size_t)len, map, &got), 0);
    assert_int_equal(sc_wire_decode(buf, (size_t)len, &bad_map, &got), SC_ERR_INVALID);
  }

  /* index6 bytes of the wrong length, a non-zero "port", and an overlong one
   * (which a permissive map would accept). */
  uint8_t id[16] = {0}, addr[SC_WIRE_ADDR_MAX + 1] = {0};
  Stripecast__NodeRef sender = STRIPECAST__NODE_REF__INIT;
  Stripecast__Heartbeat hb = STRIPECAST__HEARTBEAT__INIT;
  Stripecast__Envelope env = STRIPECAST__ENVELOPE__INIT;
  sender.id.data = id;
  sender.id.len = 16;
  sender.addr.data = addr;
  env.sender = &sender;
  env.body_case = STRIPECAST__ENVELOPE__BODY_HEARTBEAT;
  env.heartbeat = &hb;
  const size_t lens[] = {0, 4, 5, 7, 18};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    sender.addr.len = lens[i];
    size_t len = pack_env(&env, buf, sizeof buf);
    assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);
  }
  sender.addr.len = IDX6;
  size_t len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), 0);
  addr[4] = 1;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, map, &got), SC_ERR_INVALID);

  size_t fixed = SC_WIRE_ADDR_MAX + 1;
  sc_wire_addr_map permissive = {&fixed, fixed_to_bytes, fixed_from_bytes};
  memset(addr, 0x5a, sizeof addr);
  sender.addr.len = fixed;
  len = pack_env(&env, buf, sizeof buf);
  assert_int_equal(sc_wire_decode(buf, len, &permissive, &got), SC_ERR_INVALID);
}

/* A datagram of many tiny unknown fields unpacks fine with malloc but needs
 * more than the arena: refused, with nothing on the heap. A few unknown fields
 * (a newer peer's additions) are skipped. */
static void test_decode_arena_bound(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 10);
  sc_msg m, got;
  rand_msg(&r, SC_MSG_PONG, &m);
  int len = sc_wire_encode(&m, map, buf, sizeof buf);
  assert_true(len > 0);
  size_t n = (size_t)len;

  /* Field 15, varint 1: two bytes each. */
  size_t few = n + 2 * 8;
  for (; n < few; n += 2)
    buf[n] = 0x78, buf[n + 1] = 0x01;
  assert_int_equal(sc_wire_decode(buf, n, map, &got), 0);
  check_msg_eq(&m, &got);

  for (; n + 2 <= SC_WIRE_DATAGRAM_MAX; n += 2)
    buf[n] = 0x78, buf[n + 1] = 0x01;
  Stripecast__Envelope *env = stripecast__envelope__unpack(NULL, n - 1, buf + 1);
  assert_non_null(env);
  assert_true(env->base.n_unknown_fields > 600);
  stripecast__envelope__free_unpacked(env, NULL);
  assert_int_equal(sc_wire_decode(buf, n, map, &got), SC_ERR_INVALID);
}

static void test_decode_random_bytes(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 100];
  sc_rng r;
  sc_rng_seed(&r, 11);
  sc_msg got;
  for (int i = 0; i < 100000; i++) {
    size_t len = sc_rng_below(&r, sizeof buf + 1);
    for (size_t j = 0; j < len; j++)
      buf[j] = (uint8_t)sc_rng_next(&r);
    if (len > 0 && sc_rng_below(&r, 10) != 0) buf[0] = SC_WIRE_VERSION;
    int rv = sc_wire_decode(buf, len, map, &got);
    if (rv == 0)
      check_decoded_sane(&got);
    else
      assert_true(rv == SC_ERR_INVALID || rv == SC_ERR_TRUNCATED ||
                  rv == SC_ERR_VERSION || rv == SC_ERR_TOO_LARGE);
  }
}

/* Valid datagrams with a few bytes changed, cut or extended: these get past
 * protobuf's framing far more often than random bytes do. */
static void test_decode_mutated(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 100];
  sc_rng r;
  sc_rng_seed(&r, 12);
  sc_msg m, got;
  int decoded = 0;
  for (int i = 0; i < 100000; i++) {
    rand_msg(&r, rand_type(&r), &m);
    int n = sc_wire_encode(&m, map, buf, sizeof buf);
    assert_true(n > 0);
    size_t len = (size_t)n;
    unsigned flips = 1 + sc_rng_below(&r, 4);
    for (unsigned k = 0; k < flips; k++) {
      size_t at = 1 + sc_rng_below(&r, (uint32_t)len - 1);
      if (sc_rng_below(&r, 2))
        buf[at] ^= (uint8_t)(1u << sc_rng_below(&r, 8));
      else
        buf[at] = (uint8_t)sc_rng_next(&r);
    }
    switch (sc_rng_below(&r, 4)) {
    case 0:
      len -= sc_rng_below(&r, (uint32_t)len);
      break;
    case 1: {
      size_t more = sc_rng_below(&r, 64);
      for (size_t k = 0; k < more; k++)
        buf[len + k] = (uint8_t)sc_rng_next(&r);
      len += more;
      break;
    }
    default:
      break;
    }
    int rv = sc_wire_decode(buf, len, map, &got);
    if (rv == 0) {
      decoded++;
      check_decoded_sane(&got);
    } else {
      assert_true(rv == SC_ERR_INVALID || rv == SC_ERR_TRUNCATED);
    }
  }
  assert_true(decoded > 1000); /* the mutations do reach the decoder's checks */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_index6_map),
      cmocka_unit_test(test_roundtrip_edges),
      cmocka_unit_test(test_roundtrip_random),
      cmocka_unit_test(test_size_matches_encode),
      cmocka_unit_test(test_largest_message),
      cmocka_unit_test(test_unknown_type),
      cmocka_unit_test(test_encode_invalid),
      cmocka_unit_test(test_encode_nobuf),
      cmocka_unit_test(test_decode_truncated),
      cmocka_unit_test(test_decode_version),
      cmocka_unit_test(test_decode_too_large),
      cmocka_unit_test(test_decode_out_of_bounds),
      cmocka_unit_test(test_decode_bad_address),
      cmocka_unit_test(test_decode_arena_bound),
      cmocka_unit_test(test_decode_random_bytes),
      cmocka_unit_test(test_decode_mutated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
