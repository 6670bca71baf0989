/* wire.c — core messages to and from protobuf-c datagrams (see wire.h). */
#include "wire.h"

#include <assert.h>
#include <string.h>

#include "err.h"
#include "stripecast.pb-c.h"

#define WIRE_ID_LEN 16 /* sc_id_to_bytes() */

/* The most NodeRefs one message carries: the sender plus a leaf set, a row,
 * or a route's origin. */
#define WIRE_REFS_MAX                                                                    \
  (1 + (SC_LEAFSET_MAX > SC_ROW_ENTRIES ? SC_LEAFSET_MAX : SC_ROW_ENTRIES))

/* Upper bounds on encoded sizes, for the static checks below: a NodeRef with
 * the longest address, and a submessage field (one-byte tag, length < 2^14). */
#define WIRE_REF_BYTES_MAX    (2 + WIRE_ID_LEN + 2 + SC_WIRE_ADDR_MAX)
#define WIRE_EMBED_MAX(inner) (1 + 2 + (inner))
#define WIRE_LEAFSET_BYTES_MAX                                                           \
  (2 + SC_LEAFSET_MAX * WIRE_EMBED_MAX(WIRE_REF_BYTES_MAX) +                             \
   SC_FAILED_HINT_MAX * (2 + WIRE_ID_LEN))
#define WIRE_ROW_BYTES_MAX (2 + SC_ROW_ENTRIES * WIRE_EMBED_MAX(WIRE_REF_BYTES_MAX))

/* Address lengths take one byte, and the largest message fits a datagram with
 * room to spare, so sc_wire_encode() never fails for size with a big buffer. */
_Static_assert(SC_WIRE_ADDR_MAX < 128, "address length must be a one-byte varint");
_Static_assert(1 + WIRE_EMBED_MAX(WIRE_REF_BYTES_MAX) +
                       WIRE_EMBED_MAX(WIRE_LEAFSET_BYTES_MAX) <=
                   SC_WIRE_DATAGRAM_MAX,
               "a full LEAFSET must fit one datagram");
_Static_assert(1 + WIRE_EMBED_MAX(WIRE_REF_BYTES_MAX) +
                       WIRE_EMBED_MAX(WIRE_ROW_BYTES_MAX) <=
                   SC_WIRE_DATAGRAM_MAX,
               "a full ROW must fit one datagram");
_Static_assert(SC_MSG_TYPE_END == 9, "a new message type needs a wire form");

/* --- the index6 address map --- */

static int wire_index6_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  (void)user;
  if (outlen < SC_WIRE_INDEX6_LEN) return -1;
  out[0] = (uint8_t)(a >> 24);
  out[1] = (uint8_t)(a >> 16);
  out[2] = (uint8_t)(a >> 8);
  out[3] = (uint8_t)a;
  out[4] = 0; /* where an IPv4 address would have its port */
  out[5] = 0;
  return SC_WIRE_INDEX6_LEN;
}

static int wire_index6_from_bytes(void *user, const uint8_t *in, size_t inlen,
                                  sc_addr *out) {
  (void)user;
  if (inlen != SC_WIRE_INDEX6_LEN || in[4] != 0 || in[5] != 0) return -1;
  *out = (sc_addr)in[0] << 24 | (sc_addr)in[1] << 16 | (sc_addr)in[2] << 8 | in[3];
  return 0;
}

static const sc_wire_addr_map wire_index6_map = {
    .user = NULL,
    .to_bytes = wire_index6_to_bytes,
    .from_bytes = wire_index6_from_bytes,
};

const sc_wire_addr_map *sc_wire_addr_map_index6(void) {
  return &wire_index6_map;
}

/* --- encoding --- */

/* Stack storage for the protobuf-c structs of one message: packing reads
 * these in place, so encoding allocates nothing. */
typedef struct wire_enc {
  const sc_wire_addr_map *map;
  unsigned nrefs;
  Stripecast__NodeRef refs[WIRE_REFS_MAX];
  Stripecast__NodeRef *entries[WIRE_REFS_MAX];
  uint8_t ids[WIRE_REFS_MAX][WIRE_ID_LEN];
  uint8_t addrs[WIRE_REFS_MAX][SC_WIRE_ADDR_MAX];
  uint8_t key[WIRE_ID_LEN];
  uint8_t failed_ids[SC_FAILED_HINT_MAX][WIRE_ID_LEN];
  ProtobufCBinaryData failed[SC_FAILED_HINT_MAX];
} wire_enc;

/* Fills the next NodeRef slot from r; NULL if the address has no wire form. */
static Stripecast__NodeRef *wire_enc_ref(wire_enc *enc, const sc_ref *r) {
  unsigned i = enc->nrefs;
  assert(i < WIRE_REFS_MAX);
  int len = enc->map->to_bytes(enc->map->user, r->addr, enc->addrs[i], SC_WIRE_ADDR_MAX);
  if (len < 0 || len > SC_WIRE_ADDR_MAX) return NULL;
  Stripecast__NodeRef *ref = &enc->refs[i];
  stripecast__node_ref__init(ref);
  sc_id_to_bytes(&r->id, enc->ids[i]);
  ref->id.data = enc->ids[i];
  ref->id.len = WIRE_ID_LEN;
  ref->addr.data = enc->addrs[i];
  ref->addr.len = (size_t)len;
  enc->nrefs = i + 1;
  return ref;
}

/* Points *entries_out at n NodeRefs made from e[0, n). Returns 0 or
 * SC_ERR_INVALID. */
static int wire_enc_refs(wire_enc *enc, const sc_ref *e, unsigned n,
                         Stripecast__NodeRef ***entries_out) {
  Stripecast__NodeRef **entries = &enc->entries[enc->nrefs];
  for (unsigned i = 0; i < n; i++) {
    entries[i] = wire_enc_ref(enc, &e[i]);
    if (entries[i] == NULL) return SC_ERR_INVALID;
  }
  *entries_out = n ? entries : NULL;
  return 0;
}

int sc_wire_encode(const sc_msg *msg, const sc_wire_addr_map *map, uint8_t *buf,
                   size_t buflen) {
  wire_enc enc;
  Stripecast__Envelope env = STRIPECAST__ENVELOPE__INIT;
  /* One of these becomes the body. */
  Stripecast__Ping ping = STRIPECAST__PING__INIT;
  Stripecast__Pong pong = STRIPECAST__PONG__INIT;
  Stripecast__Heartbeat heartbeat = STRIPECAST__HEARTBEAT__INIT;
  Stripecast__Route route = STRIPECAST__ROUTE__INIT;
  Stripecast__RouteAck route_ack = STRIPECAST__ROUTE_ACK__INIT;
  Stripecast__LeafSet leaf_set = STRIPECAST__LEAF_SET__INIT;
  Stripecast__RowRequest row_request = STRIPECAST__ROW_REQUEST__INIT;
  Stripecast__Row row = STRIPECAST__ROW__INIT;
  int rv;

  enc.map = map;
  enc.nrefs = 0;
  env.sender = wire_enc_ref(&enc, &msg->sender);
  if (env.sender == NULL) return SC_ERR_INVALID;

  switch (msg->type) {
  case SC_MSG_PING:
    ping.sent_ns = msg->u.ping.sent_ns;
    ping.announce = msg->u.ping.announce != 0;
    ping.joining = msg->u.ping.joining != 0;
    ping.rtt_us = msg->u.ping.rtt_us;
    env.body_case = STRIPECAST__ENVELOPE__BODY_PING;
    env.ping = &ping;
    break;
  case SC_MSG_PONG:
    pong.echo_ns = msg->u.pong.echo_ns;
    pong.sent_ns = msg->u.pong.sent_ns;
    pong.want_echo = msg->u.pong.want_echo != 0;
    env.body_case = STRIPECAST__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    break;
  case SC_MSG_HEARTBEAT:
    env.body_case = STRIPECAST__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    break;
  case SC_MSG_ROUTE: {
    const sc_msg_route *m = &msg->u.route;
    sc_id_to_bytes(&m->key, enc.key);
    route.key.data = enc.key;
    route.key.len = WIRE_ID_LEN;
    route.origin = wire_enc_ref(&enc, &m->origin);
    if (route.origin == NULL) return SC_ERR_INVALID;
    route.seq = m->seq;
    route.hops = m->hops;
    route.kind = m->kind;
    route.rows_sent = m->rows_sent;
    route.app_id = m->app_id;
    route.app_time_ns = m->app_time_ns;
    env.body_case = STRIPECAST__ENVELOPE__BODY_ROUTE;
    env.route = &route;
    break;
  }
  case SC_MSG_ROUTE_ACK:
    route_ack.seq = msg->u.route_ack.seq;
    env.body_case = STRIPECAST__ENVELOPE__BODY_ROUTE_ACK;
    env.route_ack = &route_ack;
    break;
  case SC_MSG_LEAFSET: {
    const sc_msg_leafset *m = &msg->u.leafset;
    if (m->n > SC_LEAFSET_MAX || m->nfailed > SC_FAILED_HINT_MAX) return SC_ERR_INVALID;
    leaf_set.want_reply = m->want_reply != 0;
    leaf_set.join_reply = m->join_reply != 0;
    leaf_set.is_reply = m->is_reply != 0;
    rv = wire_enc_refs(&enc, m->e, m->n, &leaf_set.entries);
    if (rv != 0) return rv;
    leaf_set.n_entries = m->n;
    for (unsigned i = 0; i < m->nfailed; i++) {
      sc_id_to_bytes(&m->failed[i], enc.failed_ids[i]);
      enc.failed[i].data = enc.failed_ids[i];
      enc.failed[i].len = WIRE_ID_LEN;
    }
    leaf_set.n_failed = m->nfailed;
    leaf_set.failed = m->nfailed ? enc.failed : NULL;
    env.body_case = STRIPECAST__ENVELOPE__BODY_LEAF_SET;
    env.leaf_set = &leaf_set;
    break;
  }
  case SC_MSG_ROW_REQUEST:
    if (msg->u.row_request.row >= SC_ID_DIGITS) return SC_ERR_INVALID;
    row_request.row = msg->u.row_request.row;
    env.body_case = STRIPECAST__ENVELOPE__BODY_ROW_REQUEST;
    env.row_request = &row_request;
    break;
  case SC_MSG_ROW: {
    const sc_msg_row *m = &msg->u.row;
    if (m->row >= SC_ID_DIGITS || m->n > SC_ROW_ENTRIES) return SC_ERR_INVALID;
    row.row = m->row;
    rv = wire_enc_refs(&enc, m->e, m->n, &row.entries);
    if (rv != 0) return rv;
    row.n_entries = m->n;
    env.body_case = STRIPECAST__ENVELOPE__BODY_ROW;
    env.row = &row;
    break;
  }
  default:
    return SC_ERR_INVALID;
  }

  size_t packed = stripecast__envelope__get_packed_size(&env);
  if (1 + packed > SC_WIRE_DATAGRAM_MAX) return SC_ERR_TOO_LARGE;
  if (buflen < 1 + packed) return SC_ERR_NOBUF;
  buf[0] = SC_WIRE_VERSION;
  size_t written = stripecast__envelope__pack(&env, buf + 1);
  assert(written == packed);
  return (int)(1 + written);
}

/* --- decoding --- */

/*
 * A bump allocator over a fixed buffer (after FRRouting's qpb linear
 * allocator): protobuf-c's unpack takes everything from here, free is a no-op,
 * and the whole arena vanishes when sc_wire_decode() returns. A request past
 * the end returns NULL, which protobuf-c turns into a failed unpack.
 */
typedef struct wire_arena {
  unsigned char *base;
  size_t used;
  size_t cap;
} wire_arena;

#define WIRE_ARENA_ALIGN _Alignof(max_align_t)

static void *wire_arena_alloc(void *user, size_t size) {
  wire_arena *a = user;
  size_t need = (size + WIRE_ARENA_ALIGN - 1) & ~(size_t)(WIRE_ARENA_ALIGN - 1);
  if (need < size || need > a->cap - a->used) return NULL;
  void *p = a->base + a->used;
  a->used += need;
  return p;
}

static void wire_arena_free(void *user, void *ptr) {
  (void)user;
  (void)ptr;
}

static int wire_dec_id(const ProtobufCBinaryData *b, sc_id *out) {
  if (b->len != WIRE_ID_LEN) return SC_ERR_INVALID;
  *out = sc_id_from_bytes(b->data);
  return 0;
}

static int wire_dec_ref(const Stripecast__NodeRef *in, const sc_wire_addr_map *map,
                        sc_ref *out) {
  if (in == NULL || wire_dec_id(&in->id, &out->id) != 0) return SC_ERR_INVALID;
  if (in->addr.len > SC_WIRE_ADDR_MAX) return SC_ERR_INVALID;
  if (map->from_bytes(map->user, in->addr.data, in->addr.len, &out->addr) < 0)
    return SC_ERR_INVALID;
  return 0;
}

static int wire_dec_refs(Stripecast__NodeRef *const *in, size_t n,
                         const sc_wire_addr_map *map, sc_ref *out) {
  for (size_t i = 0; i < n; i++)
    if (wire_dec_ref(in[i], map, &out[i]) != 0) return SC_ERR_INVALID;
  return 0;
}

/* Fills *out from an unpacked Envelope. Returns 0 or SC_ERR_INVALID. */
static int wire_dec_env(const Stripecast__Envelope *env, const sc_wire_addr_map *map,
                        sc_msg *out) {
  unsigned type;
  switch (env->body_case) {
  case STRIPECAST__ENVELOPE__BODY_PING:
    type = SC_MSG_PING;
    break;
  case STRIPECAST__ENVELOPE__BODY_PONG:
    type = SC_MSG_PONG;
    break;
  case STRIPECAST__ENVELOPE__BODY_HEARTBEAT:
    type = SC_MSG_HEARTBEAT;
    break;
  case STRIPECAST__ENVELOPE__BODY_ROUTE:
    type = SC_MSG_ROUTE;
    break;
  case STRIPECAST__ENVELOPE__BODY_ROUTE_ACK:
    type = SC_MSG_ROUTE_ACK;
    break;
  case STRIPECAST__ENVELOPE__BODY_LEAF_SET:
    type = SC_MSG_LEAFSET;
    break;
  case STRIPECAST__ENVELOPE__BODY_ROW_REQUEST:
    type = SC_MSG_ROW_REQUEST;
    break;
  case STRIPECAST__ENVELOPE__BODY_ROW:
    type = SC_MSG_ROW;
    break;
  default:
    return SC_ERR_INVALID;
  }
  /* protobuf-c sets the pointer of the case it reports; all members alias. */
  if (env->ping == NULL) return SC_ERR_INVALID;

  /* Zero exactly the bytes this type uses (the caller may hold no more). */
  out->type = (uint8_t)type;
  memset(out, 0, sc_msg_struct_size(out));
  out->type = (uint8_t)type;
  if (wire_dec_ref(env->sender, map, &out->sender) != 0) return SC_ERR_INVALID;

  switch (type) {
  case SC_MSG_PING:
    out->u.ping.sent_ns = env->ping->sent_ns;
    out->u.ping.announce = env->ping->announce != 0;
    out->u.ping.joining = env->ping->joining != 0;
    out->u.ping.rtt_us = env->ping->rtt_us;
    return 0;
  case SC_MSG_PONG:
    out->u.pong.echo_ns = env->pong->echo_ns;
    out->u.pong.sent_ns = env->pong->sent_ns;
    out->u.pong.want_echo = env->pong->want_echo ? 1 : 0;
    return 0;
  case SC_MSG_HEARTBEAT:
    return 0;
  case SC_MSG_ROUTE: {
    const Stripecast__Route *r = env->route;
    sc_msg_route *m = &out->u.route;
    if (r->hops > UINT16_MAX || r->kind > UINT8_MAX || r->rows_sent > UINT8_MAX)
      return SC_ERR_INVALID;
    if (wire_dec_id(&r->key, &m->key) != 0) return SC_ERR_INVALID;
    if (wire_dec_ref(r->origin, map, &m->origin) != 0) return SC_ERR_INVALID;
    m->seq = r->seq;
    m->hops = (uint16_t)r->hops;
    m->kind = (uint8_t)r->kind;
    m->rows_sent = (uint8_t)r->rows_sent;
    m->app_id = r->app_id;
    m->app_time_ns = r->app_time_ns;
    return 0;
  }
  case SC_MSG_ROUTE_ACK:
    out->u.route_ack.seq = env->route_ack->seq;
    return 0;
  case SC_MSG_LEAFSET: {
    const Stripecast__LeafSet *l = env->leaf_set;
    sc_msg_leafset *m = &out->u.leafset;
    if (l->n_entries > SC_LEAFSET_MAX || l->n_failed > SC_FAILED_HINT_MAX)
      return SC_ERR_INVALID;
    m->want_reply = l->want_reply != 0;
    m->join_reply = l->join_reply != 0;
    m->is_reply = l->is_reply != 0;
    m->n = (uint8_t)l->n_entries;
    m->nfailed = (uint8_t)l->n_failed;
    for (size_t i = 0; i < l->n_failed; i++)
      if (wire_dec_id(&l->failed[i], &m->failed[i]) != 0) return SC_ERR_INVALID;
    return wire_dec_refs(l->entries, l->n_entries, map, m->e);
  }
  case SC_MSG_ROW_REQUEST:
    if (env->row_request->row >= SC_ID_DIGITS) return SC_ERR_INVALID;
    out->u.row_request.row = (uint8_t)env->row_request->row;
    return 0;
  case SC_MSG_ROW: {
    const Stripecast__Row *r = env->row;
    sc_msg_row *m = &out->u.row;
    if (r->row >= SC_ID_DIGITS || r->n_entries > SC_ROW_ENTRIES) return SC_ERR_INVALID;
    m->row = (uint8_t)r->row;
    m->n = (uint8_t)r->n_entries;
    return wire_dec_refs(r->entries, r->n_entries, map, m->e);
  }
  default:
    return SC_ERR_INVALID;
  }
}

int sc_wire_decode(const uint8_t *buf, size_t buflen, const sc_wire_addr_map *map,
                   sc_msg *out) {
  if (buflen == 0) return SC_ERR_TRUNCATED;
  if (buflen > SC_WIRE_DATAGRAM_MAX) return SC_ERR_TOO_LARGE;
  if (buf[0] != SC_WIRE_VERSION) return SC_ERR_VERSION;
  if (buflen < SC_WIRE_DATAGRAM_MIN) return SC_ERR_TRUNCATED;

  union {
    max_align_t align;
    unsigned char bytes[SC_WIRE_ARENA_BYTES];
  } mem;
  wire_arena arena = {.base = mem.bytes, .used = 0, .cap = sizeof mem.bytes};
  ProtobufCAllocator pa = {
      .alloc = wire_arena_alloc,
      .free = wire_arena_free,
      .allocator_data = &arena,
  };
  Stripecast__Envelope *env = stripecast__envelope__unpack(&pa, buflen - 1, buf + 1);
  if (env == NULL) return SC_ERR_INVALID;
  /* No free_unpacked: everything lives in mem and goes with this frame. */
  return wire_dec_env(env, map, out);
}

/* --- sizes without encoding --- */

/* Bytes of v as a varint (1..10). */
static inline size_t wire_varint_len(uint64_t v) {
#if defined(__GNUC__)
  return 1 + (size_t)(63 - __builtin_clzll(v | 1)) / 7;
#else
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
#endif
}

/* A length-delimited field with a one-byte tag around len bytes. */
static inline size_t wire_ld_len(size_t len) {
  return 1 + wire_varint_len(len) + len;
}

/* A proto3 varint field with a one-byte tag: absent when zero. */
static inline size_t wire_uint_len(uint64_t v) {
  return v ? 1 + wire_varint_len(v) : 0;
}

/* A proto3 fixed64 field with a one-byte tag: absent when zero. */
static inline size_t wire_fixed64_len(uint64_t v) {
  return v ? 1 + 8 : 0;
}

size_t sc_wire_size(const sc_msg *msg, size_t addr_len) {
  assert(addr_len <= SC_WIRE_ADDR_MAX);
  /* NodeRef: id (always 16 bytes) and addr (absent when empty). */
  size_t ref = wire_ld_len(WIRE_ID_LEN) + (addr_len ? wire_ld_len(addr_len) : 0);
  size_t ref_field = wire_ld_len(ref); /* any NodeRef field: sender, origin, entry */
  size_t body;

  switch (msg->type) {
  case SC_MSG_PING:
    body = wire_fixed64_len(msg->u.ping.sent_ns) + (msg->u.ping.announce ? 2 : 0) +
           (msg->u.ping.joining ? 2 : 0) + wire_uint_len(msg->u.ping.rtt_us);
    break;
  case SC_MSG_PONG:
    body = wire_fixed64_len(msg->u.pong.echo_ns) + wire_fixed64_len(msg->u.pong.sent_ns) +
           (msg->u.pong.want_echo ? 2 : 0);
    break;
  case SC_MSG_HEARTBEAT:
    body = 0;
    break;
  case SC_MSG_ROUTE: {
    const sc_msg_route *m = &msg->u.route;
    body = wire_ld_len(WIRE_ID_LEN) + ref_field + wire_uint_len(m->seq) +
           wire_uint_len(m->hops) + wire_uint_len(m->kind) + wire_uint_len(m->rows_sent) +
           wire_uint_len(m->app_id) + wire_fixed64_len(m->app_time_ns);
    break;
  }
  case SC_MSG_ROUTE_ACK:
    body = wire_uint_len(msg->u.route_ack.seq);
    break;
  case SC_MSG_LEAFSET: {
    const sc_msg_leafset *m = &msg->u.leafset;
    assert(m->n <= SC_LEAFSET_MAX && m->nfailed <= SC_FAILED_HINT_MAX);
    body = (m->want_reply ? 2 : 0) + (m->join_reply ? 2 : 0) + (m->is_reply ? 2 : 0) + m->n * ref_field +
           m->nfailed * wire_ld_len(WIRE_ID_LEN);
    break;
  }
  case SC_MSG_ROW_REQUEST:
    body = wire_uint_len(msg->u.row_request.row);
    break;
  case SC_MSG_ROW:
    assert(msg->u.row.n <= SC_ROW_ENTRIES);
    body = wire_uint_len(msg->u.row.row) + msg->u.row.n * ref_field;
    break;
  default:
    return 0;
  }
  /* Version byte, sender, and the oneof body: emitted even when empty. */
  return 1 + ref_field + wire_ld_len(body);
}
