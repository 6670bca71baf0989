/*
 * test_wire_scribe.c — the wire forms of Scribe's and SplitStream's messages
 * (MULTICAST .. ANYCAST_FAIL) and of the Scribe route kinds: boundary counts
 * round-trip and sc_wire_size() matches the encoder, the largest forms fit a
 * datagram at the sizes proto/stripecast.proto promises, and counts above
 * their bounds, ids of the wrong length, bad kinds and missing refs are
 * refused. The randomized tests over every type live in test_wire.c.
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

#define SCRIBE_FIRST SC_MSG_MULTICAST /* Scribe's types: [SCRIBE_FIRST, END) */

static uint8_t clamp_count(unsigned want, unsigned bound) {
  return (uint8_t)(want < bound ? want : bound);
}

/* Sets every count of m (a Scribe type) to the smaller of its bound and
 * want, filling the slots at random. */
static void set_counts(sc_rng *r, sc_msg *m, unsigned want) {
  switch (m->type) {
  case SC_MSG_SCRIBE_HEARTBEAT:
    m->u.scribe_hb.n = clamp_count(want, SC_SCRIBE_HB_GROUPS);
    for (unsigned i = 0; i < m->u.scribe_hb.n; i++)
      m->u.scribe_hb.groups[i] = rand_id(r);
    break;
  case SC_MSG_SCRIBE_PATH:
    m->u.scribe_path.n = clamp_count(want, SC_PATH_MAX);
    for (unsigned i = 0; i < m->u.scribe_path.n; i++)
      m->u.scribe_path.path[i] = rand_wide(r);
    break;
  case SC_MSG_SCRIBE_DROP:
    m->u.scribe_drop.n = clamp_count(want, SC_DROP_CANDIDATES);
    for (unsigned i = 0; i < m->u.scribe_drop.n; i++)
      m->u.scribe_drop.e[i] = rand_ref(r);
    break;
  case SC_MSG_ANYCAST:
    m->u.anycast.nvisit = clamp_count(want, SC_ANYCAST_VISIT_MAX);
    m->u.anycast.nseen = clamp_count(want, SC_ANYCAST_SEEN_MAX);
    for (unsigned i = 0; i < m->u.anycast.nvisit; i++)
      m->u.anycast.visit[i] = rand_ref(r);
    for (unsigned i = 0; i < m->u.anycast.nseen; i++)
      m->u.anycast.seen[i] = rand_wide(r);
    break;
  default:
    break;
  }
}

/* A Scribe message at its largest: every count at its bound, every number at
 * its widest, every flag set. */
static void max_msg(sc_rng *r, unsigned type, sc_msg *m) {
  rand_msg(r, type, m);
  m->sender.addr = UINT32_MAX;
  set_counts(r, m, UINT8_MAX);
  switch (type) {
  case SC_MSG_MULTICAST:
    m->u.multicast.seq = UINT32_MAX;
    m->u.multicast.depth = UINT16_MAX;
    m->u.multicast.sent_ns = UINT64_MAX;
    m->u.multicast.repair = 1;
    m->u.multicast.gen_bytes = UINT32_MAX;
    m->u.multicast.epoch = UINT32_MAX;
    m->u.multicast.len = SC_CHUNK_BYTES_MAX;
    m->u.multicast.data = NULL;
    break;
  case SC_MSG_REPAIR_REQ:
    m->u.repair_req.generation = UINT32_MAX;
    m->u.repair_req.want = UINT32_MAX;
    m->u.repair_req.back = SC_BACKFILL_MAX;
    break;
  case SC_MSG_SCRIBE_ROOT:
    m->u.scribe_root.is_root = 1;
    m->u.scribe_root.ack = 1;
    m->u.scribe_root.seq = UINT32_MAX;
    break;
  case SC_MSG_STATE_REQ:
    m->u.state_req.nonce = UINT32_MAX;
    break;
  case SC_MSG_STATE: {
    static const uint8_t frag[SC_STATE_FRAGMENT_BYTES];
    m->u.state.nonce = UINT32_MAX;
    m->u.state.total = UINT32_MAX;
    m->u.state.offset = UINT32_MAX;
    m->u.state.len = SC_STATE_FRAGMENT_BYTES;
    m->u.state.data = frag;
    break;
  }
  case SC_MSG_TALLY:
    m->u.tally.listeners = UINT32_MAX;
    break;
  case SC_MSG_ANNOUNCE: {
    static const uint8_t rec[SC_ANNOUNCE_BYTES_MAX];
    m->u.announce.level = UINT8_MAX;
    m->u.announce.next = UINT16_MAX;
    m->u.announce.len = SC_ANNOUNCE_BYTES_MAX;
    m->u.announce.data = rec;
    break;
  }
  case SC_MSG_DIRECTORY_REQ:
    m->u.directory_req.start = UINT16_MAX;
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    m->u.scribe_hb.from_parent = 1;
    break;
  case SC_MSG_SCRIBE_PATH:
    m->u.scribe_path.accept = 1;
    m->u.scribe_path.depth = UINT16_MAX;
    break;
  case SC_MSG_ANYCAST:
    m->u.anycast.app_id = UINT64_MAX;
    break;
  case SC_MSG_ANYCAST_FAIL:
    m->u.anycast_fail.app_id = UINT64_MAX;
    break;
  default:
    break;
  }
}

/* --- round trips and sizes --- */

/* Every count at 0, 1, its bound - 1 and its bound, for address lengths from
 * none to the longest: sc_wire_size() equals the encoder, and (for lengths the
 * map can read back) the message round-trips. */
static void test_scribe_boundary_counts(void **state) {
  (void)state;
  static const size_t lens[] = {0, 4, IDX6, 18, SC_WIRE_ADDR_MAX};
  static const unsigned counts[] = {0,
                                    1,
                                    SC_DROP_CANDIDATES - 1,
                                    SC_DROP_CANDIDATES,
                                    SC_PATH_MAX - 1,
                                    SC_PATH_MAX,
                                    SC_ANYCAST_SEEN_MAX - 1,
                                    SC_ANYCAST_SEEN_MAX};
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 21);
  sc_msg m;
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
    size_t len = lens[li];
    sc_wire_addr_map map = {&len, fixed_to_bytes, fixed_from_bytes};
    for (unsigned type = SCRIBE_FIRST; type < SC_MSG_TYPE_END; type++) {
      for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        for (int rep = 0; rep < 20; rep++) {
          rand_msg(&r, type, &m);
          set_counts(&r, &m, counts[ci]);
          int n = sc_wire_encode(&m, &map, buf, sizeof buf);
          assert_true(n >= SC_WIRE_DATAGRAM_MIN);
          assert_int_equal((size_t)n, sc_wire_size(&m, len));
          if (len >= 4) check_roundtrip(&m, &map, len);
        }
      }
    }
  }
}

/* Zero and all-ones values in every field, the empty and the full message. */
static void test_scribe_roundtrip_edges(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  const sc_id zero = {0, 0}, ones = {UINT64_MAX, UINT64_MAX};
  const sc_ref r0 = {zero, 0}, r1 = {ones, SC_ADDR_NONE};
  sc_msg m;

  for (int hi = 0; hi < 2; hi++) {
    const sc_ref *ref = hi ? &r1 : &r0;
    const sc_id *id = hi ? &ones : &zero;
    const uint64_t v64 = hi ? UINT64_MAX : 0;

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_MULTICAST;
    m.sender = *ref;
    m.u.multicast.group = *id;
    m.u.multicast.seq = hi ? UINT32_MAX : 0;
    m.u.multicast.depth = hi ? UINT16_MAX : 0;
    m.u.multicast.sent_ns = v64;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_SCRIBE_HEARTBEAT;
    m.sender = *ref;
    m.u.scribe_hb.from_parent = hi ? 0xff : 0;
    m.u.scribe_hb.n = hi ? SC_SCRIBE_HB_GROUPS : 0;
    for (unsigned i = 0; i < m.u.scribe_hb.n; i++)
      m.u.scribe_hb.groups[i] = i & 1 ? zero : ones;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_SCRIBE_PATH;
    m.sender = *ref;
    m.u.scribe_path.group = *id;
    m.u.scribe_path.accept = (uint8_t)hi;
    m.u.scribe_path.depth = hi ? UINT16_MAX : 0;
    m.u.scribe_path.n = hi ? SC_PATH_MAX : 0;
    for (unsigned i = 0; i < m.u.scribe_path.n; i++)
      m.u.scribe_path.path[i] = i & 1 ? 0 : UINT64_MAX;
    check_roundtrip(&m, map, IDX6);

    for (unsigned type = SC_MSG_SCRIBE_JOIN; type <= SC_MSG_SCRIBE_LEAVE; type++) {
      memset(&m, 0, sizeof m);
      m.type = (uint8_t)type;
      m.sender = *ref;
      m.u.scribe_group.group = *id;
      check_roundtrip(&m, map, IDX6);
    }

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_SCRIBE_DROP;
    m.sender = *ref;
    m.u.scribe_drop.group = *id;
    m.u.scribe_drop.n = hi ? SC_DROP_CANDIDATES : 0;
    for (unsigned i = 0; i < m.u.scribe_drop.n; i++)
      m.u.scribe_drop.e[i] = i & 1 ? r0 : r1;
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ANYCAST;
    m.sender = *ref;
    m.u.anycast.group = *id;
    m.u.anycast.requester = hi ? r0 : r1;
    m.u.anycast.app_id = v64;
    m.u.anycast.nvisit = hi ? SC_ANYCAST_VISIT_MAX : 0;
    m.u.anycast.nseen = hi ? SC_ANYCAST_SEEN_MAX : 0;
    for (unsigned i = 0; i < m.u.anycast.nvisit; i++)
      m.u.anycast.visit[i] = i & 1 ? r0 : r1;
    for (unsigned i = 0; i < m.u.anycast.nseen; i++)
      m.u.anycast.seen[i] = i & 1 ? UINT64_MAX : 0;
    check_roundtrip(&m, map, IDX6);
    /* A full stack and nothing seen, and the other way round. */
    m.u.anycast.nseen = (uint8_t)(hi ? 0 : SC_ANYCAST_SEEN_MAX);
    m.u.anycast.nvisit = (uint8_t)(hi ? SC_ANYCAST_VISIT_MAX : 0);
    check_roundtrip(&m, map, IDX6);

    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ANYCAST_FAIL;
    m.sender = *ref;
    m.u.anycast_fail.group = *id;
    m.u.anycast_fail.app_id = v64;
    check_roundtrip(&m, map, IDX6);
  }
}

/* Scribe's route kinds travel as ROUTE like Pastry's. */
static void test_scribe_route_kinds(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  sc_rng r;
  sc_rng_seed(&r, 22);
  sc_msg m;
  const uint8_t kinds[] = {SC_ROUTE_SCRIBE_JOIN, SC_ROUTE_ANYCAST, SC_ROUTE_PUBLISH};
  for (size_t k = 0; k < sizeof kinds; k++) {
    for (int i = 0; i < 100; i++) {
      rand_msg(&r, SC_MSG_ROUTE, &m);
      m.u.route.kind = kinds[k];
      check_roundtrip(&m, map, IDX6);
    }
  }
}

/*
 * The largest form of each message, with SC_WIRE_ADDR_MAX-byte addresses,
 * round-trips (so the decoder's arena holds it) and takes exactly the bytes
 * proto/stripecast.proto and the report promise: ANYCAST is the one that
 * leaves little room.
 */
static void test_scribe_largest(void **state) {
  (void)state;
  static const struct {
    unsigned type;
    size_t bytes_max; /* with SC_WIRE_ADDR_MAX-byte addresses */
  } largest[] = {
      {SC_MSG_MULTICAST, 1230},   {SC_MSG_SCRIBE_HEARTBEAT, 636},
      {SC_MSG_SCRIBE_PATH, 342},  {SC_MSG_SCRIBE_JOIN, 76},
      {SC_MSG_SCRIBE_LEAVE, 76},  {SC_MSG_SCRIBE_DROP, 941},
      {SC_MSG_ANYCAST, 1393},     {SC_MSG_ANYCAST_FAIL, 87},
      {SC_MSG_REPAIR_REQ, 89},    {SC_MSG_SCRIBE_ROOT, 85},
      {SC_MSG_STATE_REQ, 82},     {SC_MSG_STATE, 1122},
      {SC_MSG_TALLY, 82},         {SC_MSG_ANNOUNCE, 581},
      {SC_MSG_DIRECTORY_REQ, 62},
  };
  _Static_assert(sizeof largest / sizeof largest[0] == SC_MSG_TYPE_END - SCRIBE_FIRST,
                 "one row per Scribe type");
  size_t len = SC_WIRE_ADDR_MAX;
  sc_wire_addr_map map = {&len, fixed_to_bytes, fixed_from_bytes};
  sc_rng r;
  sc_rng_seed(&r, 23);
  sc_msg m;
  for (size_t i = 0; i < sizeof largest / sizeof largest[0]; i++) {
    max_msg(&r, largest[i].type, &m);
    assert_int_equal(sc_wire_size(&m, len), largest[i].bytes_max);
    assert_true(sc_wire_size(&m, len) <= SC_WIRE_DATAGRAM_MAX);
    check_roundtrip(&m, &map, len);
  }
}

/* --- refused on encode --- */

static void test_scribe_encode_invalid(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 24);
  sc_msg m;

  /* Counts one above their bounds. */
  rand_msg(&r, SC_MSG_SCRIBE_HEARTBEAT, &m);
  m.u.scribe_hb.n = SC_SCRIBE_HB_GROUPS + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_SCRIBE_PATH, &m);
  m.u.scribe_path.n = SC_PATH_MAX + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_SCRIBE_DROP, &m);
  m.u.scribe_drop.n = SC_DROP_CANDIDATES + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_REPAIR_REQ, &m);
  m.u.repair_req.back = SC_BACKFILL_MAX + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  rand_msg(&r, SC_MSG_ANYCAST, &m);
  m.u.anycast.nvisit = SC_ANYCAST_VISIT_MAX + 1;
  m.u.anycast.nseen = 0;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);
  m.u.anycast.nvisit = 0;
  m.u.anycast.nseen = SC_ANYCAST_SEEN_MAX + 1;
  assert_int_equal(sc_wire_encode(&m, map, buf, sizeof buf), SC_ERR_INVALID);

  /* Addresses without a wire form: a drop candidate, the anycast's requester,
   * the last peer on its stack. */
  rand_msg(&r, SC_MSG_SCRIBE_DROP, &m);
  m.sender.addr = 1;
  m.u.scribe_drop.n = SC_DROP_CANDIDATES;
  for (unsigned i = 0; i < SC_DROP_CANDIDATES; i++)
    m.u.scribe_drop.e[i].addr = i;
  assert_true(sc_wire_encode(&m, &bad_map, buf, sizeof buf) > 0);
  m.u.scribe_drop.e[SC_DROP_CANDIDATES - 1].addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);

  rand_msg(&r, SC_MSG_ANYCAST, &m);
  m.sender.addr = 1;
  m.u.anycast.requester.addr = 2;
  m.u.anycast.nvisit = SC_ANYCAST_VISIT_MAX;
  for (unsigned i = 0; i < SC_ANYCAST_VISIT_MAX; i++)
    m.u.anycast.visit[i].addr = i;
  assert_true(sc_wire_encode(&m, &bad_map, buf, sizeof buf) > 0);
  m.u.anycast.visit[SC_ANYCAST_VISIT_MAX - 1].addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  m.u.anycast.visit[SC_ANYCAST_VISIT_MAX - 1].addr = 3;
  m.u.anycast.requester.addr = BAD_ADDR;
  assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);

  /* A sender without a wire form, for every Scribe type but MULTICAST,
   * which names no sender (core/wire.h). */
  for (unsigned type = SCRIBE_FIRST; type < SC_MSG_TYPE_END; type++) {
    if (type == SC_MSG_MULTICAST) continue;
    rand_msg(&r, type, &m);
    m.sender.addr = BAD_ADDR;
    assert_int_equal(sc_wire_encode(&m, &bad_map, buf, sizeof buf), SC_ERR_INVALID);
  }
}

/* Every buffer shorter than the largest form is refused; the exact size works. */
static void test_scribe_encode_nobuf(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  sc_rng r;
  sc_rng_seed(&r, 25);
  sc_msg m;
  for (unsigned type = SCRIBE_FIRST; type < SC_MSG_TYPE_END; type++) {
    max_msg(&r, type, &m);
    size_t need = sc_wire_size(&m, IDX6);
    for (size_t len = 0; len < need; len++)
      assert_int_equal(sc_wire_encode(&m, map, buf, len), SC_ERR_NOBUF);
    assert_int_equal(sc_wire_encode(&m, map, buf, need), (int)need);
  }
}

/* --- refused on decode --- */

/* NodeRefs, ids and prefixes to build Envelopes from by hand. */
/* The sender, a requester, and one more visit entry than the bound. */
enum { NREFS = 2 + SC_ANYCAST_VISIT_MAX + 1, NIDS = SC_SCRIBE_HB_GROUPS + 1 };
_Static_assert(SC_DROP_CANDIDATES + 1 <= NREFS, "NREFS covers a drop");
_Static_assert(SC_PATH_MAX <= SC_ANYCAST_SEEN_MAX, "prefixes cover a path and one more");

typedef struct hand {
  uint8_t ids[NIDS][16];
  uint8_t addrs[NREFS][IDX6];
  Stripecast__NodeRef refs[NREFS];
  Stripecast__NodeRef *ptrs[NREFS];
  ProtobufCBinaryData groups[NIDS];
  uint64_t prefixes[SC_ANYCAST_SEEN_MAX + 1];
  Stripecast__Envelope env;
} hand;

static void hand_init(hand *h) {
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  for (unsigned i = 0; i < NIDS; i++) {
    memset(h->ids[i], (int)i + 1, 16);
    h->groups[i].data = h->ids[i];
    h->groups[i].len = 16;
  }
  for (unsigned i = 0; i < NREFS; i++) {
    stripecast__node_ref__init(&h->refs[i]);
    assert_int_equal(map->to_bytes(map->user, i, h->addrs[i], IDX6), IDX6);
    h->refs[i].id.data = h->ids[i];
    h->refs[i].id.len = 16;
    h->refs[i].addr.data = h->addrs[i];
    h->refs[i].addr.len = IDX6;
    h->ptrs[i] = &h->refs[i];
  }
  for (unsigned i = 0; i <= SC_ANYCAST_SEEN_MAX; i++)
    h->prefixes[i] = 0x0102030405060708ull * (i + 1);
  stripecast__envelope__init(&h->env);
  h->env.sender = &h->refs[0];
}

/* Packs h's Envelope and decodes it with the index6 map. */
static int hand_decode(const hand *h, sc_msg *got) {
  uint8_t buf[4 * SC_WIRE_DATAGRAM_MAX];
  size_t len = pack_env(&h->env, buf, sizeof buf);
  int rv = sc_wire_decode(buf, len, sc_wire_addr_map_index6(), got);
  if (rv == 0) check_decoded_sane(got);
  return rv;
}

/* Lengths an id must not have. */
static const size_t bad_id_lens[] = {0, 1, 8, 15, 17, 32};
#define NBAD_ID_LENS (sizeof bad_id_lens / sizeof bad_id_lens[0])

static void test_scribe_decode_multicast(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__Multicast mc = STRIPECAST__MULTICAST__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_MULTICAST;
  h.env.multicast = &mc;
  h.env.sender = NULL; /* the transport names it (core/wire.h) */
  mc.group = h.groups[1];
  mc.group.len = SC_WIRE_GROUP_SHORT_LEN;
  mc.seq = UINT32_MAX;
  mc.depth = UINT16_MAX;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.type, SC_MSG_MULTICAST);
  assert_int_equal(got.sender.addr, SC_ADDR_NONE);
  assert_int_equal(got.u.multicast.group.hi, 0x0202020202020202ull);
  assert_int_equal(got.u.multicast.group.lo, 0);
  assert_int_equal(got.u.multicast.depth, UINT16_MAX);
  /* A sender, or a whole group, is not a MULTICAST's. */
  h.env.sender = &h.refs[0];
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.env.sender = NULL;
  mc.group.len = 16;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  mc.group.len = SC_WIRE_GROUP_SHORT_LEN;
  mc.depth = UINT16_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  mc.depth = UINT32_MAX;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  mc.depth = 0;
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    if (bad_id_lens[i] == SC_WIRE_GROUP_SHORT_LEN) continue;
    mc.group.len = bad_id_lens[i];
    /* Refused (a bare empty one is too short to be a datagram). */
    assert_true(hand_decode(&h, &got) < 0);
  }
}

/* A backfill asks for at most SC_BACKFILL_MAX generations. */
static void test_scribe_decode_repair_back(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__RepairRequest rq = STRIPECAST__REPAIR_REQUEST__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_REPAIR_REQ;
  h.env.repair_req = &rq;
  rq.channel = h.groups[1];
  rq.want = 1;
  rq.back = SC_BACKFILL_MAX;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.type, SC_MSG_REPAIR_REQ);
  assert_int_equal(got.u.repair_req.back, SC_BACKFILL_MAX);
  rq.back = SC_BACKFILL_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  rq.back = UINT32_MAX;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
}

static void test_scribe_decode_heartbeat(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__ScribeHeartbeat hb = STRIPECAST__SCRIBE_HEARTBEAT__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_SCRIBE_HEARTBEAT;
  h.env.scribe_heartbeat = &hb;
  hb.from_parent = 1;
  hb.groups = h.groups;
  hb.n_groups = SC_SCRIBE_HB_GROUPS;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.u.scribe_hb.n, SC_SCRIBE_HB_GROUPS);
  assert_int_equal(got.u.scribe_hb.from_parent, 1);
  hb.n_groups = SC_SCRIBE_HB_GROUPS + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  /* One group of the wrong length, first or last. */
  hb.n_groups = SC_SCRIBE_HB_GROUPS;
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    h.groups[SC_SCRIBE_HB_GROUPS - 1].len = bad_id_lens[i];
    assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  }
  h.groups[SC_SCRIBE_HB_GROUPS - 1].len = 16;
  h.groups[0].len = 15;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
}

static void test_scribe_decode_path(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__ScribePath p = STRIPECAST__SCRIBE_PATH__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_SCRIBE_PATH;
  h.env.scribe_path = &p;
  p.group = h.groups[2];
  p.accept = 1;
  p.depth = UINT16_MAX;
  p.path = h.prefixes;
  p.n_path = SC_PATH_MAX;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.u.scribe_path.n, SC_PATH_MAX);
  assert_int_equal(got.u.scribe_path.path[SC_PATH_MAX - 1], h.prefixes[SC_PATH_MAX - 1]);
  p.n_path = SC_PATH_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  p.n_path = SC_ANYCAST_SEEN_MAX + 1; /* far above */
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  p.n_path = 1;
  p.depth = UINT16_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  p.depth = 0;
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    p.group.len = bad_id_lens[i];
    assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  }
}

static void test_scribe_decode_group(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__ScribeGroup g = STRIPECAST__SCRIBE_GROUP__INIT;
  g.group = h.groups[3];
  const struct {
    Stripecast__Envelope__BodyCase body_case;
    unsigned type;
  } cases[] = {
      {STRIPECAST__ENVELOPE__BODY_SCRIBE_JOIN, SC_MSG_SCRIBE_JOIN},
      {STRIPECAST__ENVELOPE__BODY_SCRIBE_LEAVE, SC_MSG_SCRIBE_LEAVE},
  };
  for (size_t c = 0; c < 2; c++) {
    h.env.body_case = cases[c].body_case;
    if (cases[c].type == SC_MSG_SCRIBE_JOIN)
      h.env.scribe_join = &g;
    else
      h.env.scribe_leave = &g;
    g.group.len = 16;
    assert_int_equal(hand_decode(&h, &got), 0);
    assert_int_equal(got.type, cases[c].type);
    for (size_t i = 0; i < NBAD_ID_LENS; i++) {
      g.group.len = bad_id_lens[i];
      assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
    }
  }
}

static void test_scribe_decode_drop(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__ScribeDrop d = STRIPECAST__SCRIBE_DROP__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_SCRIBE_DROP;
  h.env.scribe_drop = &d;
  d.group = h.groups[4];
  d.candidates = h.ptrs;
  d.n_candidates = SC_DROP_CANDIDATES;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.u.scribe_drop.n, SC_DROP_CANDIDATES);
  assert_int_equal(got.u.scribe_drop.e[SC_DROP_CANDIDATES - 1].addr,
                   SC_DROP_CANDIDATES - 1);
  d.n_candidates = SC_DROP_CANDIDATES + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  d.n_candidates = SC_DROP_CANDIDATES;
  /* A candidate with a short id, or an address index6 does not read. */
  h.refs[SC_DROP_CANDIDATES - 1].id.len = 15;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.refs[SC_DROP_CANDIDATES - 1].id.len = 16;
  h.refs[SC_DROP_CANDIDATES - 1].addr.len = IDX6 - 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.refs[SC_DROP_CANDIDATES - 1].addr.len = IDX6;
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    d.group.len = bad_id_lens[i];
    assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  }
}

static void test_scribe_decode_anycast(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__Anycast a = STRIPECAST__ANYCAST__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_ANYCAST;
  h.env.anycast = &a;
  a.group = h.groups[5];
  a.requester = &h.refs[1];
  a.app_id = UINT64_MAX;
  a.visit = &h.ptrs[2];
  a.n_visit = SC_ANYCAST_VISIT_MAX;
  a.seen = h.prefixes;
  a.n_seen = SC_ANYCAST_SEEN_MAX;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.u.anycast.nvisit, SC_ANYCAST_VISIT_MAX);
  assert_int_equal(got.u.anycast.nseen, SC_ANYCAST_SEEN_MAX);
  assert_int_equal(got.u.anycast.requester.addr, 1);
  assert_int_equal(got.u.anycast.visit[SC_ANYCAST_VISIT_MAX - 1].addr,
                   SC_ANYCAST_VISIT_MAX + 1);
  assert_int_equal(got.u.anycast.seen[SC_ANYCAST_SEEN_MAX - 1],
                   h.prefixes[SC_ANYCAST_SEEN_MAX - 1]);

  a.n_visit = SC_ANYCAST_VISIT_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  a.n_visit = 0;
  a.n_seen = SC_ANYCAST_SEEN_MAX + 1;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  a.n_seen = 0;
  assert_int_equal(hand_decode(&h, &got), 0);

  /* No requester, a requester with a short id, a visit entry that does not
   * read, a group of the wrong length. */
  a.requester = NULL;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  a.requester = &h.refs[1];
  h.refs[1].id.len = 15;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.refs[1].id.len = 16;
  a.n_visit = 3;
  h.refs[4].addr.len = 0;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.refs[4].addr.len = IDX6;
  h.refs[4].id.len = 17;
  assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  h.refs[4].id.len = 16;
  assert_int_equal(hand_decode(&h, &got), 0);
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    a.group.len = bad_id_lens[i];
    assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  }
}

static void test_scribe_decode_anycast_fail(void **state) {
  (void)state;
  hand h;
  sc_msg got;
  hand_init(&h);
  Stripecast__AnycastFail f = STRIPECAST__ANYCAST_FAIL__INIT;
  h.env.body_case = STRIPECAST__ENVELOPE__BODY_ANYCAST_FAIL;
  h.env.anycast_fail = &f;
  f.group = h.groups[6];
  f.app_id = 7;
  assert_int_equal(hand_decode(&h, &got), 0);
  assert_int_equal(got.u.anycast_fail.app_id, 7);
  for (size_t i = 0; i < NBAD_ID_LENS; i++) {
    f.group.len = bad_id_lens[i];
    assert_int_equal(hand_decode(&h, &got), SC_ERR_INVALID);
  }
}

/* A datagram by hand: version, sender (field 1), and body[0, body_len) as an
 * Anycast (field 20: tag 0xa2 0x01) whose length takes two bytes. */
static size_t wrap_anycast(const uint8_t *sender, size_t sender_len, const uint8_t *body,
                           size_t body_len, uint8_t *buf) {
  assert_true(sender_len < 128 && body_len >= 128 && body_len < 16384);
  size_t n = 0;
  buf[n++] = SC_WIRE_VERSION;
  buf[n++] = 0x0a;
  buf[n++] = (uint8_t)sender_len;
  memcpy(buf + n, sender, sender_len);
  n += sender_len;
  buf[n++] = 0xa2;
  buf[n++] = 0x01;
  buf[n++] = (uint8_t)(0x80 | (body_len & 0x7f));
  buf[n++] = (uint8_t)(body_len >> 7);
  memcpy(buf + n, body, body_len);
  return n + body_len;
}

/*
 * Bytes protobuf-c's packer never writes: seen as unpacked fixed64 fields (a
 * valid protobuf encoding the decoder must bound like the packed one), a
 * packed run whose length is not a multiple of 8, and a body in the fields
 * reserved for the stream's data.
 */
static void test_scribe_decode_raw(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  hand h;
  sc_msg got;
  hand_init(&h);
  uint8_t sender[64], body[SC_WIRE_DATAGRAM_MAX], buf[2 * SC_WIRE_DATAGRAM_MAX];
  size_t sender_len = stripecast__node_ref__pack(&h.refs[0], sender);
  assert_true(sender_len < 128);

  Stripecast__Anycast a = STRIPECAST__ANYCAST__INIT;
  a.group = h.groups[1];
  a.requester = &h.refs[1];
  size_t base = stripecast__anycast__pack(&a, body);
  size_t n;
  for (unsigned count = SC_ANYCAST_SEEN_MAX; count <= SC_ANYCAST_SEEN_MAX + 1; count++) {
    size_t blen = base;
    for (unsigned i = 0; i < count; i++) {
      body[blen++] = 0x29; /* field 5, fixed64 */
      for (int b = 0; b < 8; b++)
        body[blen++] = (uint8_t)(h.prefixes[i] >> (8 * b));
    }
    n = wrap_anycast(sender, sender_len, body, blen, buf);
    int rv = sc_wire_decode(buf, n, map, &got);
    if (count <= SC_ANYCAST_SEEN_MAX) {
      assert_int_equal(rv, 0);
      assert_int_equal(got.u.anycast.nseen, count);
      assert_int_equal(got.u.anycast.seen[count - 1], h.prefixes[count - 1]);
    } else {
      assert_int_equal(rv, SC_ERR_INVALID);
    }
  }

  /* A packed run of 8k + 1..7 bytes: pad it out to >= 128 so the body's
   * length takes two bytes. */
  for (unsigned extra = 1; extra < 8; extra++) {
    size_t blen = base;
    size_t run = 8 * 15 + extra;
    body[blen++] = 0x2a; /* field 5, length-delimited */
    body[blen++] = (uint8_t)run;
    memset(body + blen, 0x11, run);
    blen += run;
    n = wrap_anycast(sender, sender_len, body, blen, buf);
    assert_int_equal(sc_wire_decode(buf, n, map, &got), SC_ERR_INVALID);
  }

  /* Fields 12..15 are reserved, so a body there is unknown: no body. */
  for (uint8_t field = 12; field <= 15; field++) {
    n = 0;
    buf[n++] = SC_WIRE_VERSION;
    buf[n++] = 0x0a;
    buf[n++] = (uint8_t)sender_len;
    memcpy(buf + n, sender, sender_len);
    n += sender_len;
    buf[n++] = (uint8_t)(field << 3 | 2);
    buf[n++] = 0;
    assert_true(n >= SC_WIRE_DATAGRAM_MIN);
    assert_int_equal(sc_wire_decode(buf, n, map, &got), SC_ERR_INVALID);
  }
}

/* Full-size Scribe datagrams with a few bytes changed, cut or extended: the
 * repeated fields give the mutations plenty to hit. */
static void test_scribe_decode_mutated(void **state) {
  (void)state;
  const sc_wire_addr_map *map = sc_wire_addr_map_index6();
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 100];
  sc_rng r;
  sc_rng_seed(&r, 26);
  sc_msg m, got;
  int decoded = 0;
  for (int i = 0; i < 40000; i++) {
    unsigned type = SCRIBE_FIRST + sc_rng_below(&r, SC_MSG_TYPE_END - SCRIBE_FIRST);
    if (sc_rng_below(&r, 2))
      max_msg(&r, type, &m);
    else
      rand_msg(&r, type, &m);
    int n = sc_wire_encode(&m, map, buf, sizeof buf);
    assert_true(n > 0);
    size_t len = (size_t)n;
    unsigned flips = 1 + sc_rng_below(&r, 3);
    for (unsigned k = 0; k < flips; k++) {
      size_t at = 1 + sc_rng_below(&r, (uint32_t)len - 1);
      buf[at] ^= (uint8_t)(1u << sc_rng_below(&r, 8));
    }
    if (sc_rng_below(&r, 4) == 0) len -= sc_rng_below(&r, (uint32_t)len);
    int rv = sc_wire_decode(buf, len, map, &got);
    if (rv == 0) {
      decoded++;
      check_decoded_sane(&got);
    } else {
      assert_true(rv == SC_ERR_INVALID || rv == SC_ERR_TRUNCATED);
    }
  }
  assert_true(decoded > 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scribe_boundary_counts),
      cmocka_unit_test(test_scribe_roundtrip_edges),
      cmocka_unit_test(test_scribe_route_kinds),
      cmocka_unit_test(test_scribe_largest),
      cmocka_unit_test(test_scribe_encode_invalid),
      cmocka_unit_test(test_scribe_encode_nobuf),
      cmocka_unit_test(test_scribe_decode_multicast),
      cmocka_unit_test(test_scribe_decode_repair_back),
      cmocka_unit_test(test_scribe_decode_heartbeat),
      cmocka_unit_test(test_scribe_decode_path),
      cmocka_unit_test(test_scribe_decode_group),
      cmocka_unit_test(test_scribe_decode_drop),
      cmocka_unit_test(test_scribe_decode_anycast),
      cmocka_unit_test(test_scribe_decode_anycast_fail),
      cmocka_unit_test(test_scribe_decode_raw),
      cmocka_unit_test(test_scribe_decode_mutated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
