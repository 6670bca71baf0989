/*
 * wire_testutil.c — what the wire codec's tests share (see wire_testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "wire_testutil.h"

/* --- address maps for the tests --- */

/* Writes every address as exactly *(size_t *)user bytes: for 4 or more, the
 * handle big-endian then 0x5a padding; for fewer, zeros (lossy: size tests
 * only). */
int fixed_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  size_t len = *(const size_t *)user;
  if (outlen < len) return -1;
  memset(out, len >= 4 ? 0x5a : 0, len);
  if (len >= 4) {
    out[0] = (uint8_t)(a >> 24);
    out[1] = (uint8_t)(a >> 16);
    out[2] = (uint8_t)(a >> 8);
    out[3] = (uint8_t)a;
  }
  return (int)len;
}

int fixed_from_bytes(void *user, const uint8_t *in, size_t inlen, sc_addr *out) {
  size_t len = *(const size_t *)user;
  if (inlen != len) return -1;
  if (len < 4) {
    *out = 0;
    return 0;
  }
  for (size_t i = 4; i < len; i++)
    if (in[i] != 0x5a) return -1;
  *out = (sc_addr)in[0] << 24 | (sc_addr)in[1] << 16 | (sc_addr)in[2] << 8 | in[3];
  return 0;
}

/* index6, except that BAD_ADDR has no wire form and nothing decodes. */
static int bad_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  (void)user;
  if (a == BAD_ADDR) return -1;
  const sc_wire_addr_map *m = sc_wire_addr_map_index6();
  return m->to_bytes(m->user, a, out, outlen);
}

static int bad_from_bytes(void *user, const uint8_t *in, size_t inlen, sc_addr *out) {
  (void)user, (void)in, (void)inlen, (void)out;
  return -1;
}

/* Claims to have written more than the encoder allows. */
static int long_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  (void)user, (void)a, (void)out;
  return (int)outlen + 1;
}

const sc_wire_addr_map bad_map = {NULL, bad_to_bytes, bad_from_bytes};
const sc_wire_addr_map long_map = {NULL, long_to_bytes, bad_from_bytes};

/* --- messages --- */

/* A random value whose bit width is itself random, so every varint length and
 * the zero case come up often. */
uint64_t rand_wide(sc_rng *r) {
  unsigned bits = sc_rng_below(r, 66);
  if (bits == 65) return UINT64_MAX;
  if (bits == 0) return 0;
  return sc_rng_next(r) >> (64 - bits);
}

sc_id rand_id(sc_rng *r) {
  sc_id id = {sc_rng_next(r), sc_rng_next(r)};
  return id;
}

sc_ref rand_ref(sc_rng *r) {
  sc_ref ref;
  ref.id = rand_id(r);
  ref.addr = (sc_addr)rand_wide(r);
  return ref;
}

/* A random, valid message of the given type; unused bytes are zero. Flags
 * take any byte value (the encoder must send non-zero as 1). */
void rand_msg(sc_rng *r, unsigned type, sc_msg *m) {
  memset(m, 0, sizeof *m);
  m->type = (uint8_t)type;
  m->sender = rand_ref(r);
  switch (type) {
  case SC_MSG_PING:
    m->u.ping.sent_ns = rand_wide(r);
    m->u.ping.announce = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.ping.joining = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.ping.rtt_us = sc_rng_below(r, 2) ? (uint32_t)sc_rng_next(r) : 0;
    break;
  case SC_MSG_PONG:
    m->u.pong.echo_ns = rand_wide(r);
    m->u.pong.sent_ns = rand_wide(r);
    m->u.pong.want_echo = (uint8_t)(sc_rng_next(r) & 1);
    break;
  case SC_MSG_HEARTBEAT:
    break;
  case SC_MSG_ROUTE:
    m->u.route.key = rand_id(r);
    m->u.route.origin = rand_ref(r);
    m->u.route.seq = (uint32_t)rand_wide(r);
    m->u.route.hops = (uint16_t)rand_wide(r);
    m->u.route.kind = (uint8_t)(SC_ROUTE_JOIN + sc_rng_below(r, SC_ROUTE_KIND_END - 1));
    m->u.route.rows_sent = (uint8_t)rand_wide(r);
    m->u.route.app_id = rand_wide(r);
    m->u.route.app_time_ns = rand_wide(r);
    break;
  case SC_MSG_ROUTE_ACK:
    m->u.route_ack.seq = (uint32_t)rand_wide(r);
    break;
  case SC_MSG_LEAFSET:
    m->u.leafset.want_reply = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.leafset.join_reply = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.leafset.is_reply = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.leafset.n = (uint8_t)sc_rng_below(r, SC_LEAFSET_MAX + 1);
    m->u.leafset.nfailed = (uint8_t)sc_rng_below(r, SC_FAILED_HINT_MAX + 1);
    for (unsigned i = 0; i < m->u.leafset.n; i++)
      m->u.leafset.e[i] = rand_ref(r);
    for (unsigned i = 0; i < m->u.leafset.nfailed; i++)
      m->u.leafset.failed[i] = rand_id(r);
    break;
  case SC_MSG_ROW_REQUEST:
    m->u.row_request.row = (uint8_t)sc_rng_below(r, SC_ID_DIGITS);
    break;
  case SC_MSG_ROW:
    m->u.row.row = (uint8_t)sc_rng_below(r, SC_ID_DIGITS);
    m->u.row.n = (uint8_t)sc_rng_below(r, SC_ROW_ENTRIES + 1);
    for (unsigned i = 0; i < m->u.row.n; i++)
      m->u.row.e[i] = rand_ref(r);
    break;
  case SC_MSG_MULTICAST:
    m->u.multicast.group = rand_id(r);
    m->u.multicast.seq = (uint32_t)rand_wide(r);
    m->u.multicast.depth = (uint16_t)rand_wide(r);
    m->u.multicast.sent_ns = rand_wide(r);
    m->u.multicast.repair = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.multicast.gen_bytes = sc_rng_below(r, 2) ? (uint32_t)rand_wide(r) : 0;
    m->u.multicast.epoch = sc_rng_below(r, 2) ? (uint32_t)rand_wide(r) : 0;
    /* Payloads: none, symbolic (NULL: zeros on the wire) or random bytes,
     * up to the bound. */
    switch (sc_rng_below(r, 3)) {
    case 0:
      break;
    case 1:
      m->u.multicast.len = (uint16_t)(1 + sc_rng_below(r, SC_CHUNK_BYTES_MAX));
      break;
    default: {
      static uint8_t payload[4][SC_CHUNK_BYTES_MAX]; /* outlives the message */
      static unsigned next;
      uint8_t *p = payload[next++ % 4];
      m->u.multicast.len = (uint16_t)(1 + sc_rng_below(r, SC_CHUNK_BYTES_MAX));
      for (unsigned i = 0; i < m->u.multicast.len; i++)
        p[i] = (uint8_t)sc_rng_next(r);
      m->u.multicast.data = p;
    }
    }
    break;
  case SC_MSG_REPAIR_REQ:
    m->u.repair_req.channel = rand_id(r);
    m->u.repair_req.generation = (uint32_t)rand_wide(r);
    m->u.repair_req.want = (uint32_t)rand_wide(r);
    m->u.repair_req.back = (uint8_t)sc_rng_below(r, SC_BACKFILL_MAX + 1);
    break;
  case SC_MSG_SCRIBE_ROOT:
    m->u.scribe_root.group = rand_id(r);
    m->u.scribe_root.is_root = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.scribe_root.ack = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.scribe_root.seq = (uint32_t)rand_wide(r);
    break;
  case SC_MSG_STATE_REQ:
    m->u.state_req.channel = rand_id(r);
    m->u.state_req.nonce = (uint32_t)rand_wide(r);
    break;
  case SC_MSG_STATE: {
    static uint8_t frag[4][SC_STATE_FRAGMENT_BYTES]; /* outlives the message */
    static unsigned next_frag;
    m->u.state.channel = rand_id(r);
    m->u.state.nonce = (uint32_t)rand_wide(r);
    m->u.state.total = (uint32_t)rand_wide(r);
    m->u.state.offset = (uint32_t)rand_wide(r);
    m->u.state.len = (uint16_t)sc_rng_below(r, SC_STATE_FRAGMENT_BYTES + 1);
    uint8_t *p = frag[next_frag++ % 4];
    for (unsigned i = 0; i < m->u.state.len; i++)
      p[i] = (uint8_t)sc_rng_next(r);
    m->u.state.data = m->u.state.len ? p : NULL;
    break;
  }
  case SC_MSG_TALLY:
    m->u.tally.channel = rand_id(r);
    m->u.tally.listeners = (uint32_t)rand_wide(r);
    break;
  case SC_MSG_ANNOUNCE: {
    static uint8_t rec[4][SC_ANNOUNCE_BYTES_MAX]; /* outlives the message */
    static unsigned next_rec;
    m->u.announce.level = (uint8_t)rand_wide(r);
    m->u.announce.next = (uint16_t)rand_wide(r);
    m->u.announce.len = (uint16_t)sc_rng_below(r, SC_ANNOUNCE_BYTES_MAX + 1);
    uint8_t *p = rec[next_rec++ % 4];
    for (unsigned i = 0; i < m->u.announce.len; i++)
      p[i] = (uint8_t)sc_rng_next(r);
    m->u.announce.data = m->u.announce.len ? p : NULL;
    break;
  }
  case SC_MSG_DIRECTORY_REQ:
    m->u.directory_req.start = (uint16_t)rand_wide(r);
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    m->u.scribe_hb.from_parent = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.scribe_hb.n = (uint8_t)sc_rng_below(r, SC_SCRIBE_HB_GROUPS + 1);
    for (unsigned i = 0; i < m->u.scribe_hb.n; i++)
      m->u.scribe_hb.groups[i] = rand_id(r);
    break;
  case SC_MSG_SCRIBE_PATH:
    m->u.scribe_path.group = rand_id(r);
    m->u.scribe_path.accept = (uint8_t)(sc_rng_below(r, 2) ? sc_rng_next(r) : 0);
    m->u.scribe_path.depth = (uint16_t)rand_wide(r);
    m->u.scribe_path.n = (uint8_t)sc_rng_below(r, SC_PATH_MAX + 1);
    for (unsigned i = 0; i < m->u.scribe_path.n; i++)
      m->u.scribe_path.path[i] = rand_wide(r);
    break;
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    m->u.scribe_group.group = rand_id(r);
    break;
  case SC_MSG_SCRIBE_DROP:
    m->u.scribe_drop.group = rand_id(r);
    m->u.scribe_drop.n = (uint8_t)sc_rng_below(r, SC_DROP_CANDIDATES + 1);
    for (unsigned i = 0; i < m->u.scribe_drop.n; i++)
      m->u.scribe_drop.e[i] = rand_ref(r);
    break;
  case SC_MSG_ANYCAST:
    m->u.anycast.group = rand_id(r);
    m->u.anycast.requester = rand_ref(r);
    m->u.anycast.app_id = rand_wide(r);
    m->u.anycast.nvisit = (uint8_t)sc_rng_below(r, SC_ANYCAST_VISIT_MAX + 1);
    m->u.anycast.nseen = (uint8_t)sc_rng_below(r, SC_ANYCAST_SEEN_MAX + 1);
    for (unsigned i = 0; i < m->u.anycast.nvisit; i++)
      m->u.anycast.visit[i] = rand_ref(r);
    for (unsigned i = 0; i < m->u.anycast.nseen; i++)
      m->u.anycast.seen[i] = rand_wide(r);
    break;
  case SC_MSG_ANYCAST_FAIL:
    m->u.anycast_fail.group = rand_id(r);
    m->u.anycast_fail.app_id = rand_wide(r);
    break;
  default:
    fail();
  }
}

unsigned rand_type(sc_rng *r) {
  return 1 + sc_rng_below(r, SC_MSG_TYPE_END - 1);
}

/* A field-by-field copy of a ref (struct assignment may not copy padding). */
static void copy_ref(sc_ref *to, const sc_ref *from) {
  to->id.hi = from->id.hi;
  to->id.lo = from->id.lo;
  to->addr = from->addr;
}

static void copy_id(sc_id *to, const sc_id *from) {
  to->hi = from->hi;
  to->lo = from->lo;
}

/* The form a decoder returns: m's fields copied into zeroed memory (padding
 * and unused slots zero), flags as 0 or 1. */
void canonical(const sc_msg *m, sc_msg *c) {
  memset(c, 0, sizeof *c);
  c->type = m->type;
  copy_ref(&c->sender, &m->sender);
  if (m->type == SC_MSG_MULTICAST) {
    /* A MULTICAST names no sender and half its group (core/wire.h). */
    c->sender.id = (sc_id){0, 0};
    c->sender.addr = SC_ADDR_NONE;
  }
  switch (m->type) {
  case SC_MSG_PING:
    c->u.ping.sent_ns = m->u.ping.sent_ns;
    c->u.ping.announce = m->u.ping.announce != 0;
    c->u.ping.joining = m->u.ping.joining != 0;
    c->u.ping.rtt_us = m->u.ping.rtt_us;
    break;
  case SC_MSG_PONG:
    c->u.pong.echo_ns = m->u.pong.echo_ns;
    c->u.pong.sent_ns = m->u.pong.sent_ns;
    c->u.pong.want_echo = m->u.pong.want_echo;
    break;
  case SC_MSG_ROUTE:
    c->u.route.key.hi = m->u.route.key.hi;
    c->u.route.key.lo = m->u.route.key.lo;
    copy_ref(&c->u.route.origin, &m->u.route.origin);
    c->u.route.seq = m->u.route.seq;
    c->u.route.hops = m->u.route.hops;
    c->u.route.kind = m->u.route.kind;
    c->u.route.rows_sent = m->u.route.rows_sent;
    c->u.route.app_id = m->u.route.app_id;
    c->u.route.app_time_ns = m->u.route.app_time_ns;
    break;
  case SC_MSG_ROUTE_ACK:
    c->u.route_ack.seq = m->u.route_ack.seq;
    break;
  case SC_MSG_LEAFSET:
    c->u.leafset.want_reply = m->u.leafset.want_reply != 0;
    c->u.leafset.join_reply = m->u.leafset.join_reply != 0;
    c->u.leafset.is_reply = m->u.leafset.is_reply != 0;
    c->u.leafset.n = m->u.leafset.n;
    c->u.leafset.nfailed = m->u.leafset.nfailed;
    for (unsigned i = 0; i < m->u.leafset.n; i++)
      copy_ref(&c->u.leafset.e[i], &m->u.leafset.e[i]);
    for (unsigned i = 0; i < m->u.leafset.nfailed; i++) {
      c->u.leafset.failed[i].hi = m->u.leafset.failed[i].hi;
      c->u.leafset.failed[i].lo = m->u.leafset.failed[i].lo;
    }
    break;
  case SC_MSG_ROW_REQUEST:
    c->u.row_request.row = m->u.row_request.row;
    break;
  case SC_MSG_ROW:
    c->u.row.row = m->u.row.row;
    c->u.row.n = m->u.row.n;
    for (unsigned i = 0; i < m->u.row.n; i++)
      copy_ref(&c->u.row.e[i], &m->u.row.e[i]);
    break;
  case SC_MSG_MULTICAST:
    c->u.multicast.group = (sc_id){m->u.multicast.group.hi, 0};
    c->u.multicast.seq = m->u.multicast.seq;
    c->u.multicast.depth = m->u.multicast.depth;
    c->u.multicast.sent_ns = m->u.multicast.sent_ns;
    c->u.multicast.repair = m->u.multicast.repair != 0;
    c->u.multicast.len = m->u.multicast.len;
    c->u.multicast.gen_bytes = m->u.multicast.gen_bytes;
    c->u.multicast.epoch = m->u.multicast.epoch;
    c->u.multicast.data = m->u.multicast.data; /* compared by content */
    break;
  case SC_MSG_REPAIR_REQ:
    copy_id(&c->u.repair_req.channel, &m->u.repair_req.channel);
    c->u.repair_req.generation = m->u.repair_req.generation;
    c->u.repair_req.want = m->u.repair_req.want;
    c->u.repair_req.back = m->u.repair_req.back;
    break;
  case SC_MSG_SCRIBE_ROOT:
    copy_id(&c->u.scribe_root.group, &m->u.scribe_root.group);
    c->u.scribe_root.is_root = m->u.scribe_root.is_root != 0;
    c->u.scribe_root.ack = m->u.scribe_root.ack != 0;
    c->u.scribe_root.seq = m->u.scribe_root.seq;
    break;
  case SC_MSG_STATE_REQ:
    copy_id(&c->u.state_req.channel, &m->u.state_req.channel);
    c->u.state_req.nonce = m->u.state_req.nonce;
    break;
  case SC_MSG_STATE:
    copy_id(&c->u.state.channel, &m->u.state.channel);
    c->u.state.nonce = m->u.state.nonce;
    c->u.state.total = m->u.state.total;
    c->u.state.offset = m->u.state.offset;
    c->u.state.len = m->u.state.len;
    c->u.state.data = m->u.state.data; /* compared by content */
    break;
  case SC_MSG_TALLY:
    copy_id(&c->u.tally.channel, &m->u.tally.channel);
    c->u.tally.listeners = m->u.tally.listeners;
    break;
  case SC_MSG_ANNOUNCE:
    c->u.announce = m->u.announce; /* the record compared by content */
    break;
  case SC_MSG_DIRECTORY_REQ:
    c->u.directory_req = m->u.directory_req;
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    c->u.scribe_hb.from_parent = m->u.scribe_hb.from_parent != 0;
    c->u.scribe_hb.n = m->u.scribe_hb.n;
    for (unsigned i = 0; i < m->u.scribe_hb.n; i++)
      copy_id(&c->u.scribe_hb.groups[i], &m->u.scribe_hb.groups[i]);
    break;
  case SC_MSG_SCRIBE_PATH:
    copy_id(&c->u.scribe_path.group, &m->u.scribe_path.group);
    c->u.scribe_path.accept = m->u.scribe_path.accept != 0;
    c->u.scribe_path.n = m->u.scribe_path.n;
    c->u.scribe_path.depth = m->u.scribe_path.depth;
    for (unsigned i = 0; i < m->u.scribe_path.n; i++)
      c->u.scribe_path.path[i] = m->u.scribe_path.path[i];
    break;
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    copy_id(&c->u.scribe_group.group, &m->u.scribe_group.group);
    break;
  case SC_MSG_SCRIBE_DROP:
    copy_id(&c->u.scribe_drop.group, &m->u.scribe_drop.group);
    c->u.scribe_drop.n = m->u.scribe_drop.n;
    for (unsigned i = 0; i < m->u.scribe_drop.n; i++)
      copy_ref(&c->u.scribe_drop.e[i], &m->u.scribe_drop.e[i]);
    break;
  case SC_MSG_ANYCAST:
    copy_id(&c->u.anycast.group, &m->u.anycast.group);
    copy_ref(&c->u.anycast.requester, &m->u.anycast.requester);
    c->u.anycast.app_id = m->u.anycast.app_id;
    c->u.anycast.nvisit = m->u.anycast.nvisit;
    c->u.anycast.nseen = m->u.anycast.nseen;
    for (unsigned i = 0; i < m->u.anycast.nvisit; i++)
      copy_ref(&c->u.anycast.visit[i], &m->u.anycast.visit[i]);
    for (unsigned i = 0; i < m->u.anycast.nseen; i++)
      c->u.anycast.seen[i] = m->u.anycast.seen[i];
    break;
  case SC_MSG_ANYCAST_FAIL:
    copy_id(&c->u.anycast_fail.group, &m->u.anycast_fail.group);
    c->u.anycast_fail.app_id = m->u.anycast_fail.app_id;
    break;
  default:
    break;
  }
}

static void check_id_eq(const sc_id *a, const sc_id *b) {
  assert_int_equal(a->hi, b->hi);
  assert_int_equal(a->lo, b->lo);
}

void check_ref_eq(const sc_ref *a, const sc_ref *b) {
  check_id_eq(&a->id, &b->id);
  assert_int_equal(a->addr, b->addr);
}

/* Field by field; flags compare as booleans. */
void check_msg_eq(const sc_msg *a, const sc_msg *b) {
  assert_int_equal(a->type, b->type);
  if (a->type == SC_MSG_MULTICAST) {
    /* No sender on the wire, and the group's first 64 bits (core/wire.h). */
    assert_int_equal(b->sender.addr, SC_ADDR_NONE);
    assert_int_equal(b->sender.id.hi | b->sender.id.lo, 0);
    assert_int_equal(a->u.multicast.group.hi, b->u.multicast.group.hi);
    assert_int_equal(b->u.multicast.group.lo, 0);
  } else {
    check_ref_eq(&a->sender, &b->sender);
  }
  switch (a->type) {
  case SC_MSG_PING:
    assert_int_equal(a->u.ping.sent_ns, b->u.ping.sent_ns);
    assert_int_equal(!!a->u.ping.announce, !!b->u.ping.announce);
    assert_int_equal(!!a->u.ping.joining, !!b->u.ping.joining);
    assert_int_equal(a->u.ping.rtt_us, b->u.ping.rtt_us);
    break;
  case SC_MSG_PONG:
    assert_int_equal(a->u.pong.echo_ns, b->u.pong.echo_ns);
    assert_int_equal(a->u.pong.sent_ns, b->u.pong.sent_ns);
    assert_int_equal(a->u.pong.want_echo, b->u.pong.want_echo);
    break;
  case SC_MSG_HEARTBEAT:
    break;
  case SC_MSG_ROUTE:
    assert_int_equal(a->u.route.key.hi, b->u.route.key.hi);
    assert_int_equal(a->u.route.key.lo, b->u.route.key.lo);
    check_ref_eq(&a->u.route.origin, &b->u.route.origin);
    assert_int_equal(a->u.route.seq, b->u.route.seq);
    assert_int_equal(a->u.route.hops, b->u.route.hops);
    assert_int_equal(a->u.route.kind, b->u.route.kind);
    assert_int_equal(a->u.route.rows_sent, b->u.route.rows_sent);
    assert_int_equal(a->u.route.app_id, b->u.route.app_id);
    assert_int_equal(a->u.route.app_time_ns, b->u.route.app_time_ns);
    break;
  case SC_MSG_ROUTE_ACK:
    assert_int_equal(a->u.route_ack.seq, b->u.route_ack.seq);
    break;
  case SC_MSG_LEAFSET:
    assert_int_equal(!!a->u.leafset.want_reply, !!b->u.leafset.want_reply);
    assert_int_equal(!!a->u.leafset.join_reply, !!b->u.leafset.join_reply);
    assert_int_equal(!!a->u.leafset.is_reply, !!b->u.leafset.is_reply);
    assert_int_equal(a->u.leafset.n, b->u.leafset.n);
    assert_int_equal(a->u.leafset.nfailed, b->u.leafset.nfailed);
    for (unsigned i = 0; i < a->u.leafset.n; i++)
      check_ref_eq(&a->u.leafset.e[i], &b->u.leafset.e[i]);
    for (unsigned i = 0; i < a->u.leafset.nfailed; i++) {
      assert_int_equal(a->u.leafset.failed[i].hi, b->u.leafset.failed[i].hi);
      assert_int_equal(a->u.leafset.failed[i].lo, b->u.leafset.failed[i].lo);
    }
    break;
  case SC_MSG_ROW_REQUEST:
    assert_int_equal(a->u.row_request.row, b->u.row_request.row);
    break;
  case SC_MSG_ROW:
    assert_int_equal(a->u.row.row, b->u.row.row);
    assert_int_equal(a->u.row.n, b->u.row.n);
    for (unsigned i = 0; i < a->u.row.n; i++)
      check_ref_eq(&a->u.row.e[i], &b->u.row.e[i]);
    break;
  case SC_MSG_MULTICAST:
    assert_int_equal(a->u.multicast.seq, b->u.multicast.seq);
    assert_int_equal(a->u.multicast.depth, b->u.multicast.depth);
    assert_int_equal(a->u.multicast.sent_ns, b->u.multicast.sent_ns);
    assert_int_equal(!!a->u.multicast.repair, !!b->u.multicast.repair);
    assert_int_equal(a->u.multicast.len, b->u.multicast.len);
    assert_int_equal(a->u.multicast.gen_bytes, b->u.multicast.gen_bytes);
    assert_int_equal(a->u.multicast.epoch, b->u.multicast.epoch);
    /* Content equal; a symbolic payload (NULL) reads as zeros. */
    for (unsigned i = 0; i < a->u.multicast.len; i++) {
      uint8_t x = a->u.multicast.data ? a->u.multicast.data[i] : 0;
      uint8_t y = b->u.multicast.data ? b->u.multicast.data[i] : 0;
      if (x != y) fail_msg("payload byte %u: %u != %u", i, x, y);
    }
    break;
  case SC_MSG_REPAIR_REQ:
    check_id_eq(&a->u.repair_req.channel, &b->u.repair_req.channel);
    assert_int_equal(a->u.repair_req.generation, b->u.repair_req.generation);
    assert_int_equal(a->u.repair_req.want, b->u.repair_req.want);
    assert_int_equal(a->u.repair_req.back, b->u.repair_req.back);
    break;
  case SC_MSG_SCRIBE_ROOT:
    check_id_eq(&a->u.scribe_root.group, &b->u.scribe_root.group);
    assert_int_equal(!!a->u.scribe_root.is_root, !!b->u.scribe_root.is_root);
    assert_int_equal(!!a->u.scribe_root.ack, !!b->u.scribe_root.ack);
    assert_int_equal(a->u.scribe_root.seq, b->u.scribe_root.seq);
    break;
  case SC_MSG_STATE_REQ:
    check_id_eq(&a->u.state_req.channel, &b->u.state_req.channel);
    assert_int_equal(a->u.state_req.nonce, b->u.state_req.nonce);
    break;
  case SC_MSG_STATE:
    check_id_eq(&a->u.state.channel, &b->u.state.channel);
    assert_int_equal(a->u.state.nonce, b->u.state.nonce);
    assert_int_equal(a->u.state.total, b->u.state.total);
    assert_int_equal(a->u.state.offset, b->u.state.offset);
    assert_int_equal(a->u.state.len, b->u.state.len);
    if (a->u.state.len)
      assert_memory_equal(a->u.state.data, b->u.state.data, a->u.state.len);
    break;
  case SC_MSG_TALLY:
    check_id_eq(&a->u.tally.channel, &b->u.tally.channel);
    assert_int_equal(a->u.tally.listeners, b->u.tally.listeners);
    break;
  case SC_MSG_ANNOUNCE:
    assert_int_equal(a->u.announce.level, b->u.announce.level);
    assert_int_equal(a->u.announce.next, b->u.announce.next);
    assert_int_equal(a->u.announce.len, b->u.announce.len);
    if (a->u.announce.len)
      assert_memory_equal(a->u.announce.data, b->u.announce.data, a->u.announce.len);
    break;
  case SC_MSG_DIRECTORY_REQ:
    assert_int_equal(a->u.directory_req.start, b->u.directory_req.start);
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    assert_int_equal(!!a->u.scribe_hb.from_parent, !!b->u.scribe_hb.from_parent);
    assert_int_equal(a->u.scribe_hb.n, b->u.scribe_hb.n);
    for (unsigned i = 0; i < a->u.scribe_hb.n; i++)
      check_id_eq(&a->u.scribe_hb.groups[i], &b->u.scribe_hb.groups[i]);
    break;
  case SC_MSG_SCRIBE_PATH:
    check_id_eq(&a->u.scribe_path.group, &b->u.scribe_path.group);
    assert_int_equal(!!a->u.scribe_path.accept, !!b->u.scribe_path.accept);
    assert_int_equal(a->u.scribe_path.depth, b->u.scribe_path.depth);
    assert_int_equal(a->u.scribe_path.n, b->u.scribe_path.n);
    for (unsigned i = 0; i < a->u.scribe_path.n; i++)
      assert_int_equal(a->u.scribe_path.path[i], b->u.scribe_path.path[i]);
    break;
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    check_id_eq(&a->u.scribe_group.group, &b->u.scribe_group.group);
    break;
  case SC_MSG_SCRIBE_DROP:
    check_id_eq(&a->u.scribe_drop.group, &b->u.scribe_drop.group);
    assert_int_equal(a->u.scribe_drop.n, b->u.scribe_drop.n);
    for (unsigned i = 0; i < a->u.scribe_drop.n; i++)
      check_ref_eq(&a->u.scribe_drop.e[i], &b->u.scribe_drop.e[i]);
    break;
  case SC_MSG_ANYCAST:
    check_id_eq(&a->u.anycast.group, &b->u.anycast.group);
    check_ref_eq(&a->u.anycast.requester, &b->u.anycast.requester);
    assert_int_equal(a->u.anycast.app_id, b->u.anycast.app_id);
    assert_int_equal(a->u.anycast.nvisit, b->u.anycast.nvisit);
    assert_int_equal(a->u.anycast.nseen, b->u.anycast.nseen);
    for (unsigned i = 0; i < a->u.anycast.nvisit; i++)
      check_ref_eq(&a->u.anycast.visit[i], &b->u.anycast.visit[i]);
    for (unsigned i = 0; i < a->u.anycast.nseen; i++)
      assert_int_equal(a->u.anycast.seen[i], b->u.anycast.seen[i]);
    break;
  case SC_MSG_ANYCAST_FAIL:
    check_id_eq(&a->u.anycast_fail.group, &b->u.anycast_fail.group);
    assert_int_equal(a->u.anycast_fail.app_id, b->u.anycast_fail.app_id);
    break;
  default:
    fail();
  }
}

/*
 * Encodes m with map (every address addr_len bytes), checks the size against
 * sc_wire_size(), decodes, and checks the result equal to m field by field
 * and byte for byte (unused slots and padding zeroed) in canonical form.
 */
void check_roundtrip(const sc_msg *m, const sc_wire_addr_map *map, size_t addr_len) {
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  int len = sc_wire_encode(m, map, buf, sizeof buf);
  assert_true(len >= SC_WIRE_DATAGRAM_MIN);
  assert_int_equal(buf[0], SC_WIRE_VERSION);
  assert_int_equal((size_t)len, sc_wire_size(m, addr_len));

  sc_msg got;
  memset(&got, 0xa5, sizeof got); /* the decoder must zero what it owns */
  assert_int_equal(sc_wire_decode(buf, (size_t)len, map, &got), 0);
  check_msg_eq(m, &got);

  sc_msg want;
  canonical(m, &want);
  if (want.type == SC_MSG_MULTICAST) {
    /* A payload is read where it lies: the datagram's last bytes. */
    if (got.u.multicast.len > 0)
      assert_ptr_equal(got.u.multicast.data, buf + len - got.u.multicast.len);
    else
      assert_null(got.u.multicast.data);
    want.u.multicast.data = got.u.multicast.data; /* content compared above */
  }
  if (want.type == SC_MSG_STATE) {
    if (got.u.state.len > 0)
      assert_ptr_equal(got.u.state.data, buf + len - got.u.state.len);
    else
      assert_null(got.u.state.data);
    want.u.state.data = got.u.state.data; /* content compared above */
  }
  if (want.type == SC_MSG_ANNOUNCE) {
    if (got.u.announce.len > 0)
      assert_ptr_equal(got.u.announce.data, buf + len - got.u.announce.len);
    else
      assert_null(got.u.announce.data);
    want.u.announce.data = got.u.announce.data; /* content compared above */
  }
  assert_memory_equal(&want, &got, sc_msg_struct_size(&want));
}

/* version byte + a packed Envelope built by hand. */
size_t pack_env(const Stripecast__Envelope *env, uint8_t *buf, size_t buflen) {
  size_t len = stripecast__envelope__get_packed_size(env);
  assert_true(1 + len <= buflen);
  buf[0] = SC_WIRE_VERSION;
  assert_int_equal(stripecast__envelope__pack(env, buf + 1), len);
  return 1 + len;
}

/* After a successful decode of arbitrary bytes: the struct is within bounds
 * and encodes back to a datagram that decodes to the same struct. */
void check_decoded_sane(const sc_msg *m) {
  assert_true(m->type >= 1 && m->type < SC_MSG_TYPE_END);
  switch (m->type) {
  case SC_MSG_PING:
    assert_true(m->u.ping.announce <= 1);
    assert_true(m->u.ping.joining <= 1);
    break;
  case SC_MSG_LEAFSET:
    assert_true(m->u.leafset.n <= SC_LEAFSET_MAX);
    assert_true(m->u.leafset.nfailed <= SC_FAILED_HINT_MAX);
    assert_true(m->u.leafset.want_reply <= 1);
    assert_true(m->u.leafset.join_reply <= 1);
    assert_true(m->u.leafset.is_reply <= 1);
    break;
  case SC_MSG_ROW_REQUEST:
    assert_true(m->u.row_request.row < SC_ID_DIGITS);
    break;
  case SC_MSG_ROUTE:
    assert_true(m->u.route.kind >= SC_ROUTE_JOIN && m->u.route.kind < SC_ROUTE_KIND_END);
    break;
  case SC_MSG_ROW:
    assert_true(m->u.row.row < SC_ID_DIGITS);
    assert_true(m->u.row.n <= SC_ROW_ENTRIES);
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    assert_true(m->u.scribe_hb.n <= SC_SCRIBE_HB_GROUPS);
    assert_true(m->u.scribe_hb.from_parent <= 1);
    break;
  case SC_MSG_SCRIBE_PATH:
    assert_true(m->u.scribe_path.n <= SC_PATH_MAX);
    assert_true(m->u.scribe_path.accept <= 1);
    break;
  case SC_MSG_SCRIBE_DROP:
    assert_true(m->u.scribe_drop.n <= SC_DROP_CANDIDATES);
    break;
  case SC_MSG_ANYCAST:
    assert_true(m->u.anycast.nvisit <= SC_ANYCAST_VISIT_MAX);
    assert_true(m->u.anycast.nseen <= SC_ANYCAST_SEEN_MAX);
    break;
  default:
    break;
  }
  check_roundtrip(m, sc_wire_addr_map_index6(), IDX6);
}
