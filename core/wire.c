/* wire.c — core messages to and from protobuf-c datagrams (see wire.h). */
#include "wire.h"

#include <assert.h>
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "stripecast.pb-c.h"

#define WIRE_ID_LEN 16 /* sc_id_to_bytes() */

#define WIRE_MAX2(a, b) ((a) > (b) ? (a) : (b))

/* The most NodeRefs one message carries: the sender plus a leaf set, a row, a
 * drop's candidates, or an anycast's requester and visit stack. */
#define WIRE_REFS_MAX                                                                    \
  (1 + WIRE_MAX2(WIRE_MAX2(SC_LEAFSET_MAX, SC_ROW_ENTRIES),                              \
                 WIRE_MAX2(SC_DROP_CANDIDATES, 1 + SC_ANYCAST_VISIT_MAX)))
/* The most ids one message carries as a repeated bytes field. */
#define WIRE_IDS_MAX WIRE_MAX2(SC_FAILED_HINT_MAX, SC_SCRIBE_HB_GROUPS)
/* The most 64-bit id prefixes one message carries (packed fixed64). */
#define WIRE_PREFIXES_MAX WIRE_MAX2(SC_PATH_MAX, SC_ANYCAST_SEEN_MAX)

/*
 * The Envelope's body field for each message type (proto/stripecast.proto has
 * the same table). Pastry's types are type + 1; Scribe's hot path takes the
 * last one-byte tags before the stream's data (12..15, reserved); Scribe and
 * SplitStream control takes 16 and up, where a tag costs two bytes.
 * protobuf-c numbers a oneof's cases by their field numbers.
 */
static const uint8_t wire_body_field[SC_MSG_TYPE_END] = {
    [SC_MSG_PING] = STRIPECAST__ENVELOPE__BODY_PING,
    [SC_MSG_PONG] = STRIPECAST__ENVELOPE__BODY_PONG,
    [SC_MSG_HEARTBEAT] = STRIPECAST__ENVELOPE__BODY_HEARTBEAT,
    [SC_MSG_ROUTE] = STRIPECAST__ENVELOPE__BODY_ROUTE,
    [SC_MSG_ROUTE_ACK] = STRIPECAST__ENVELOPE__BODY_ROUTE_ACK,
    [SC_MSG_LEAFSET] = STRIPECAST__ENVELOPE__BODY_LEAF_SET,
    [SC_MSG_ROW_REQUEST] = STRIPECAST__ENVELOPE__BODY_ROW_REQUEST,
    [SC_MSG_ROW] = STRIPECAST__ENVELOPE__BODY_ROW,
    [SC_MSG_MULTICAST] = STRIPECAST__ENVELOPE__BODY_MULTICAST,
    [SC_MSG_SCRIBE_HEARTBEAT] = STRIPECAST__ENVELOPE__BODY_SCRIBE_HEARTBEAT,
    [SC_MSG_SCRIBE_PATH] = STRIPECAST__ENVELOPE__BODY_SCRIBE_PATH,
    [SC_MSG_SCRIBE_JOIN] = STRIPECAST__ENVELOPE__BODY_SCRIBE_JOIN,
    [SC_MSG_SCRIBE_LEAVE] = STRIPECAST__ENVELOPE__BODY_SCRIBE_LEAVE,
    [SC_MSG_SCRIBE_DROP] = STRIPECAST__ENVELOPE__BODY_SCRIBE_DROP,
    [SC_MSG_ANYCAST] = STRIPECAST__ENVELOPE__BODY_ANYCAST,
    [SC_MSG_ANYCAST_FAIL] = STRIPECAST__ENVELOPE__BODY_ANYCAST_FAIL,
    [SC_MSG_REPAIR_REQ] = STRIPECAST__ENVELOPE__BODY_REPAIR_REQ,
    [SC_MSG_SCRIBE_ROOT] = STRIPECAST__ENVELOPE__BODY_SCRIBE_ROOT,
    [SC_MSG_STATE_REQ] = STRIPECAST__ENVELOPE__BODY_STATE_REQ,
    [SC_MSG_STATE] = STRIPECAST__ENVELOPE__BODY_STATE,
    [SC_MSG_TALLY] = STRIPECAST__ENVELOPE__BODY_TALLY,
    [SC_MSG_ANNOUNCE] = STRIPECAST__ENVELOPE__BODY_ANNOUNCE,
    [SC_MSG_DIRECTORY_REQ] = STRIPECAST__ENVELOPE__BODY_DIRECTORY_REQ,
};

_Static_assert(SC_MSG_TYPE_END == 24, "a new message type needs a wire form");
_Static_assert(STRIPECAST__ENVELOPE__BODY_MULTICAST == 10 &&
                   STRIPECAST__ENVELOPE__BODY_SCRIBE_HEARTBEAT == 11,
               "the tree's hot path keeps its one-byte tags");
_Static_assert(STRIPECAST__ENVELOPE__BODY_SCRIBE_PATH >= 16 &&
                   STRIPECAST__ENVELOPE__BODY_SCRIBE_JOIN >= 16 &&
                   STRIPECAST__ENVELOPE__BODY_SCRIBE_LEAVE >= 16 &&
                   STRIPECAST__ENVELOPE__BODY_SCRIBE_DROP >= 16 &&
                   STRIPECAST__ENVELOPE__BODY_ANYCAST >= 16 &&
                   STRIPECAST__ENVELOPE__BODY_ANYCAST_FAIL >= 16,
               "fields 12..15 stay free for the stream's data");
_Static_assert(STRIPECAST__ENVELOPE__BODY_ANYCAST_FAIL < 2048,
               "body tags take <= 2 bytes");

/*
 * Exact encoded sizes at compile time, for the static checks below: every
 * field present, every number at its widest, every address SC_WIRE_ADDR_MAX
 * bytes. WIRE_LD_LEN grows with len, so a message's largest body makes its
 * largest datagram. Valid for lengths below 2^21.
 */
#define WIRE_VARINT_LEN(v)      ((v) < (1u << 7) ? 1 : (v) < (1u << 14) ? 2 : 3)
#define WIRE_TAG_LEN(field)     ((field) < 16 ? 1 : 2)
#define WIRE_LD_LEN(field, len) (WIRE_TAG_LEN(field) + WIRE_VARINT_LEN(len) + (len))
#define WIRE_BOOL_LEN           2  /* tag, 1 */
#define WIRE_SMALL_LEN          2  /* tag, a varint < 128 */
#define WIRE_U8_LEN             3  /* tag, a varint <= 255 */
#define WIRE_U16_LEN            4  /* tag, a varint <= 65535 */
#define WIRE_U32_LEN            6  /* tag, a varint < 2^32 */
#define WIRE_U64_LEN            11 /* tag, a varint < 2^64 */
#define WIRE_FIXED64_LEN        9  /* tag, 8 bytes */
#define WIRE_ID_FIELD_LEN       WIRE_LD_LEN(1, WIRE_ID_LEN)
#define WIRE_PACKED64_LEN(n)    WIRE_LD_LEN(1, 8 * (n))
#define WIRE_REF_LEN            (WIRE_ID_FIELD_LEN + WIRE_LD_LEN(1, SC_WIRE_ADDR_MAX))
#define WIRE_REF_FIELD_LEN      WIRE_LD_LEN(1, WIRE_REF_LEN) /* any NodeRef field */
/* Version byte, sender, and a body of len bytes in body field field. */
#define WIRE_DATAGRAM_LEN(field, len) (1 + WIRE_REF_FIELD_LEN + WIRE_LD_LEN(field, len))

#define WIRE_ROUTE_BODY_MAX                                                              \
  (WIRE_ID_FIELD_LEN + WIRE_REF_FIELD_LEN + WIRE_U32_LEN + WIRE_U16_LEN +                \
   WIRE_SMALL_LEN + WIRE_U8_LEN + WIRE_U64_LEN + WIRE_FIXED64_LEN)
#define WIRE_LEAFSET_BODY_MAX                                                            \
  (3 * WIRE_BOOL_LEN + SC_LEAFSET_MAX * WIRE_REF_FIELD_LEN +                             \
   SC_FAILED_HINT_MAX * WIRE_ID_FIELD_LEN)
#define WIRE_ROW_BODY_MAX (WIRE_SMALL_LEN + SC_ROW_ENTRIES * WIRE_REF_FIELD_LEN)
#define WIRE_MULTICAST_BODY_MAX                                                          \
  (WIRE_LD_LEN(1, SC_WIRE_GROUP_SHORT_LEN) + 3 * WIRE_U32_LEN + WIRE_U16_LEN +           \
   WIRE_FIXED64_LEN + WIRE_BOOL_LEN + WIRE_LD_LEN(15, SC_CHUNK_BYTES_MAX))
/* A MULTICAST has no sender: version byte and body. */
#define WIRE_MULTICAST_DATAGRAM_MAX                                                      \
  (1 + WIRE_LD_LEN(STRIPECAST__ENVELOPE__BODY_MULTICAST, WIRE_MULTICAST_BODY_MAX))
#define WIRE_REPAIR_REQ_BODY_MAX  (WIRE_ID_FIELD_LEN + 2 * WIRE_U32_LEN)
#define WIRE_SCRIBE_ROOT_BODY_MAX (WIRE_ID_FIELD_LEN + 2 * WIRE_BOOL_LEN + WIRE_U32_LEN)
#define WIRE_SCRIBE_HB_BODY_MAX   (WIRE_BOOL_LEN + SC_SCRIBE_HB_GROUPS * WIRE_ID_FIELD_LEN)
#define WIRE_SCRIBE_PATH_BODY_MAX                                                        \
  (WIRE_ID_FIELD_LEN + WIRE_BOOL_LEN + WIRE_U16_LEN + WIRE_PACKED64_LEN(SC_PATH_MAX))
#define WIRE_SCRIBE_GROUP_BODY_MAX WIRE_ID_FIELD_LEN
#define WIRE_SCRIBE_DROP_BODY_MAX                                                        \
  (WIRE_ID_FIELD_LEN + SC_DROP_CANDIDATES * WIRE_REF_FIELD_LEN)
#define WIRE_ANYCAST_BODY_MAX                                                            \
  (WIRE_ID_FIELD_LEN + WIRE_REF_FIELD_LEN + WIRE_U64_LEN +                               \
   SC_ANYCAST_VISIT_MAX * WIRE_REF_FIELD_LEN + WIRE_PACKED64_LEN(SC_ANYCAST_SEEN_MAX))
#define WIRE_ANYCAST_FAIL_BODY_MAX (WIRE_ID_FIELD_LEN + WIRE_U64_LEN)
#define WIRE_STATE_REQ_BODY_MAX    (WIRE_ID_FIELD_LEN + WIRE_U32_LEN)
#define WIRE_STATE_BODY_MAX                                                              \
  (WIRE_ID_FIELD_LEN + 3 * WIRE_U32_LEN + WIRE_LD_LEN(15, SC_STATE_FRAGMENT_BYTES))
#define WIRE_ANNOUNCE_BODY_MAX (2 * WIRE_U32_LEN + WIRE_LD_LEN(15, SC_ANNOUNCE_BYTES_MAX))

/* Every message at its largest fits a datagram, so sc_wire_encode() never
 * fails for size with a big enough buffer. (The small fixed-size messages,
 * PING .. ROUTE_ACK and ROW_REQUEST, are far below every bound here.) */
#define WIRE_FITS(body_case, body_max)                                                   \
  (WIRE_DATAGRAM_LEN(STRIPECAST__ENVELOPE__BODY_##body_case, body_max) <=                \
   SC_WIRE_DATAGRAM_MAX)
_Static_assert(SC_WIRE_ADDR_MAX < 128, "address length must be a one-byte varint");
_Static_assert(SC_ROUTE_KIND_END <= 128 && SC_ID_DIGITS <= 128, "kind and row: one byte");
_Static_assert(WIRE_FITS(ROUTE, WIRE_ROUTE_BODY_MAX), "a ROUTE must fit one datagram");
_Static_assert(WIRE_FITS(LEAF_SET, WIRE_LEAFSET_BODY_MAX),
               "a full LEAFSET must fit one datagram");
_Static_assert(WIRE_FITS(ROW, WIRE_ROW_BODY_MAX), "a full ROW must fit one datagram");
_Static_assert(WIRE_MULTICAST_DATAGRAM_MAX <= 1232,
               "a MULTICAST crosses IPv6's minimum MTU unfragmented (msg.h)");
_Static_assert(WIRE_FITS(REPAIR_REQ, WIRE_REPAIR_REQ_BODY_MAX),
               "a REPAIR_REQ must fit one datagram");
_Static_assert(WIRE_FITS(SCRIBE_ROOT, WIRE_SCRIBE_ROOT_BODY_MAX),
               "a SCRIBE_ROOT must fit one datagram");
_Static_assert(WIRE_FITS(SCRIBE_HEARTBEAT, WIRE_SCRIBE_HB_BODY_MAX),
               "a full SCRIBE_HEARTBEAT must fit one datagram");
_Static_assert(WIRE_FITS(SCRIBE_PATH, WIRE_SCRIBE_PATH_BODY_MAX),
               "a full SCRIBE_PATH must fit one datagram");
_Static_assert(WIRE_FITS(SCRIBE_JOIN, WIRE_SCRIBE_GROUP_BODY_MAX) &&
                   WIRE_FITS(SCRIBE_LEAVE, WIRE_SCRIBE_GROUP_BODY_MAX),
               "SCRIBE_JOIN and SCRIBE_LEAVE must fit one datagram");
_Static_assert(WIRE_FITS(SCRIBE_DROP, WIRE_SCRIBE_DROP_BODY_MAX),
               "a full SCRIBE_DROP must fit one datagram");
_Static_assert(WIRE_FITS(ANYCAST, WIRE_ANYCAST_BODY_MAX),
               "a full ANYCAST must fit one datagram (see SC_ANYCAST_*_MAX)");
_Static_assert(WIRE_FITS(ANYCAST_FAIL, WIRE_ANYCAST_FAIL_BODY_MAX),
               "an ANYCAST_FAIL must fit one datagram");
_Static_assert(WIRE_FITS(STATE_REQ, WIRE_STATE_REQ_BODY_MAX),
               "a STATE_REQ must fit one datagram");
_Static_assert(WIRE_FITS(STATE, WIRE_STATE_BODY_MAX), "a STATE must fit one datagram");
_Static_assert(WIRE_FITS(ANNOUNCE, WIRE_ANNOUNCE_BODY_MAX),
               "an ANNOUNCE must fit one datagram");

/* --- the index6 address map --- */

static int wire_index6_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  (void)user;
  if (outlen < SC_WIRE_INDEX6_LEN) return -1;
  sc_put_be32(out, a);
  out[4] = 0; /* where an IPv4 address would have its port */
  out[5] = 0;
  return SC_WIRE_INDEX6_LEN;
}

static int wire_index6_from_bytes(void *user, const uint8_t *in, size_t inlen,
                                  sc_addr *out) {
  (void)user;
  if (inlen != SC_WIRE_INDEX6_LEN || in[4] != 0 || in[5] != 0) return -1;
  *out = sc_get_be32(in);
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
  uint8_t key[WIRE_ID_LEN]; /* a route's key or a Scribe group */
  uint8_t list_ids[WIRE_IDS_MAX][WIRE_ID_LEN];
  ProtobufCBinaryData list[WIRE_IDS_MAX];
  uint64_t prefixes[WIRE_PREFIXES_MAX];
} wire_enc;

/* The body: one member is initialised and packed. */
typedef union wire_body {
  Stripecast__Ping ping;
  Stripecast__Pong pong;
  Stripecast__Heartbeat heartbeat;
  Stripecast__Route route;
  Stripecast__RouteAck route_ack;
  Stripecast__LeafSet leaf_set;
  Stripecast__RowRequest row_request;
  Stripecast__Row row;
  Stripecast__Multicast multicast;
  Stripecast__ScribeHeartbeat scribe_hb;
  Stripecast__ScribePath scribe_path;
  Stripecast__ScribeGroup scribe_group;
  Stripecast__ScribeDrop scribe_drop;
  Stripecast__Anycast anycast;
  Stripecast__AnycastFail anycast_fail;
  Stripecast__RepairRequest repair_req;
  Stripecast__ScribeRoot scribe_root;
  Stripecast__StateRequest state_req;
  Stripecast__State state;
  Stripecast__Tally tally;
  Stripecast__Announce announce;
  Stripecast__DirectoryRequest directory_req;
} wire_body;

const uint8_t sc_wire_zero_payload[SC_CHUNK_BYTES_MAX];

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

/* The key slot as a 16-byte field holding id. */
static ProtobufCBinaryData wire_enc_key(wire_enc *enc, const sc_id *id) {
  sc_id_to_bytes(id, enc->key);
  return (ProtobufCBinaryData){.len = WIRE_ID_LEN, .data = enc->key};
}

/* A MULTICAST's group by its first SC_WIRE_GROUP_SHORT_LEN bytes (wire.h). */
static ProtobufCBinaryData wire_enc_short_group(wire_enc *enc, const sc_id *id) {
  sc_id_to_bytes(id, enc->key);
  return (ProtobufCBinaryData){.len = SC_WIRE_GROUP_SHORT_LEN, .data = enc->key};
}

/* ids[0, n) as a repeated bytes field; the caller checked n <= WIRE_IDS_MAX. */
static ProtobufCBinaryData *wire_enc_ids(wire_enc *enc, const sc_id *ids, unsigned n) {
  assert(n <= WIRE_IDS_MAX);
  for (unsigned i = 0; i < n; i++) {
    sc_id_to_bytes(&ids[i], enc->list_ids[i]);
    enc->list[i].data = enc->list_ids[i];
    enc->list[i].len = WIRE_ID_LEN;
  }
  return n ? enc->list : NULL;
}

/* v[0, n) as a packed fixed64 field. Copied rather than pointed at, because
 * protobuf-c's field is not const. */
static uint64_t *wire_enc_prefixes(wire_enc *enc, const uint64_t *v, unsigned n) {
  assert(n <= WIRE_PREFIXES_MAX);
  if (n == 0) return NULL;
  memcpy(enc->prefixes, v, n * sizeof v[0]);
  return enc->prefixes;
}

/* wire_enc_body's Pastry half: fills b from msg's union member (a PING up to a
 * ROW) and points env at it. Returns 0 or SC_ERR_INVALID. */
static int wire_enc_pastry_body(wire_enc *enc, const sc_msg *msg, wire_body *b,
                                Stripecast__Envelope *env) {
  int rv;
  switch (msg->type) {
  case SC_MSG_PING:
    stripecast__ping__init(&b->ping);
    b->ping.sent_ns = msg->u.ping.sent_ns;
    b->ping.announce = msg->u.ping.announce != 0;
    b->ping.joining = msg->u.ping.joining != 0;
    b->ping.rtt_us = msg->u.ping.rtt_us;
    env->ping = &b->ping;
    break;
  case SC_MSG_PONG:
    stripecast__pong__init(&b->pong);
    b->pong.echo_ns = msg->u.pong.echo_ns;
    b->pong.sent_ns = msg->u.pong.sent_ns;
    b->pong.want_echo = msg->u.pong.want_echo != 0;
    env->pong = &b->pong;
    break;
  case SC_MSG_HEARTBEAT:
    stripecast__heartbeat__init(&b->heartbeat);
    env->heartbeat = &b->heartbeat;
    break;
  case SC_MSG_ROUTE: {
    const sc_msg_route *m = &msg->u.route;
    Stripecast__Route *r = &b->route;
    if (m->kind < SC_ROUTE_JOIN || m->kind >= SC_ROUTE_KIND_END) return SC_ERR_INVALID;
    stripecast__route__init(r);
    r->key = wire_enc_key(enc, &m->key);
    r->origin = wire_enc_ref(enc, &m->origin);
    if (r->origin == NULL) return SC_ERR_INVALID;
    r->seq = m->seq;
    r->hops = m->hops;
    r->kind = m->kind;
    r->rows_sent = m->rows_sent;
    r->app_id = m->app_id;
    r->app_time_ns = m->app_time_ns;
    env->route = r;
    break;
  }
  case SC_MSG_ROUTE_ACK:
    stripecast__route_ack__init(&b->route_ack);
    b->route_ack.seq = msg->u.route_ack.seq;
    env->route_ack = &b->route_ack;
    break;
  case SC_MSG_LEAFSET: {
    const sc_msg_leafset *m = &msg->u.leafset;
    Stripecast__LeafSet *l = &b->leaf_set;
    if (m->n > SC_LEAFSET_MAX || m->nfailed > SC_FAILED_HINT_MAX) return SC_ERR_INVALID;
    stripecast__leaf_set__init(l);
    l->want_reply = m->want_reply != 0;
    l->join_reply = m->join_reply != 0;
    l->is_reply = m->is_reply != 0;
    rv = wire_enc_refs(enc, m->e, m->n, &l->entries);
    if (rv != 0) return rv;
    l->n_entries = m->n;
    l->failed = wire_enc_ids(enc, m->failed, m->nfailed);
    l->n_failed = m->nfailed;
    env->leaf_set = l;
    break;
  }
  case SC_MSG_ROW_REQUEST:
    if (msg->u.row_request.row >= SC_ID_DIGITS) return SC_ERR_INVALID;
    stripecast__row_request__init(&b->row_request);
    b->row_request.row = msg->u.row_request.row;
    env->row_request = &b->row_request;
    break;
  case SC_MSG_ROW: {
    const sc_msg_row *m = &msg->u.row;
    if (m->row >= SC_ID_DIGITS || m->n > SC_ROW_ENTRIES) return SC_ERR_INVALID;
    stripecast__row__init(&b->row);
    b->row.row = m->row;
    rv = wire_enc_refs(enc, m->e, m->n, &b->row.entries);
    if (rv != 0) return rv;
    b->row.n_entries = m->n;
    env->row = &b->row;
    break;
  }
  default:
    return SC_ERR_INVALID;
  }
  return 0;
}

/* The station directory's ANNOUNCE and DIRECTORY_REQ (core/directory.h). */
static int wire_enc_directory(const sc_msg *msg, wire_body *b,
                              Stripecast__Envelope *env) {
  if (msg->type == SC_MSG_DIRECTORY_REQ) {
    stripecast__directory_request__init(&b->directory_req);
    b->directory_req.start = msg->u.directory_req.start;
    env->directory_req = &b->directory_req;
    return 0;
  }
  const sc_msg_announce *m = &msg->u.announce;
  if (m->len > SC_ANNOUNCE_BYTES_MAX || (m->len && !m->data)) return SC_ERR_INVALID;
  stripecast__announce__init(&b->announce);
  b->announce.level = m->level;
  b->announce.next = m->next;
  b->announce.record.len = m->len;
  b->announce.record.data = (uint8_t *)m->data;
  env->announce = &b->announce;
  return 0;
}

/* wire_enc_body's other half: the same for the Scribe, SplitStream and stream
 * messages (a MULTICAST up to a SCRIBE_ROOT). */
static int wire_enc_tree_body(wire_enc *enc, const sc_msg *msg, wire_body *b,
                              Stripecast__Envelope *env) {
  int rv;
  switch (msg->type) {
  case SC_MSG_MULTICAST: {
    const sc_msg_multicast *m = &msg->u.multicast;
    stripecast__multicast__init(&b->multicast);
    b->multicast.group = wire_enc_short_group(enc, &m->group);
    b->multicast.seq = m->seq;
    b->multicast.depth = m->depth;
    b->multicast.sent_ns = m->sent_ns;
    if (m->len > SC_CHUNK_BYTES_MAX) return SC_ERR_INVALID;
    b->multicast.repair = m->repair != 0;
    b->multicast.gen_bytes = m->gen_bytes;
    b->multicast.epoch = m->epoch;
    b->multicast.data.len = m->len;
    b->multicast.data.data = (uint8_t *)(m->data ? m->data : sc_wire_zero_payload);
    env->multicast = &b->multicast;
    break;
  }
  case SC_MSG_SCRIBE_HEARTBEAT: {
    const sc_msg_scribe_heartbeat *m = &msg->u.scribe_hb;
    if (m->n > SC_SCRIBE_HB_GROUPS) return SC_ERR_INVALID;
    stripecast__scribe_heartbeat__init(&b->scribe_hb);
    b->scribe_hb.from_parent = m->from_parent != 0;
    b->scribe_hb.groups = wire_enc_ids(enc, m->groups, m->n);
    b->scribe_hb.n_groups = m->n;
    env->scribe_heartbeat = &b->scribe_hb;
    break;
  }
  case SC_MSG_SCRIBE_PATH: {
    const sc_msg_scribe_path *m = &msg->u.scribe_path;
    if (m->n > SC_PATH_MAX) return SC_ERR_INVALID;
    stripecast__scribe_path__init(&b->scribe_path);
    b->scribe_path.group = wire_enc_key(enc, &m->group);
    b->scribe_path.accept = m->accept != 0;
    b->scribe_path.depth = m->depth;
    b->scribe_path.path = wire_enc_prefixes(enc, m->path, m->n);
    b->scribe_path.n_path = m->n;
    env->scribe_path = &b->scribe_path;
    break;
  }
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    stripecast__scribe_group__init(&b->scribe_group);
    b->scribe_group.group = wire_enc_key(enc, &msg->u.scribe_group.group);
    if (msg->type == SC_MSG_SCRIBE_JOIN)
      env->scribe_join = &b->scribe_group;
    else
      env->scribe_leave = &b->scribe_group;
    break;
  case SC_MSG_SCRIBE_DROP: {
    const sc_msg_scribe_drop *m = &msg->u.scribe_drop;
    if (m->n > SC_DROP_CANDIDATES) return SC_ERR_INVALID;
    stripecast__scribe_drop__init(&b->scribe_drop);
    b->scribe_drop.group = wire_enc_key(enc, &m->group);
    rv = wire_enc_refs(enc, m->e, m->n, &b->scribe_drop.candidates);
    if (rv != 0) return rv;
    b->scribe_drop.n_candidates = m->n;
    env->scribe_drop = &b->scribe_drop;
    break;
  }
  case SC_MSG_ANYCAST: {
    const sc_msg_anycast *m = &msg->u.anycast;
    Stripecast__Anycast *a = &b->anycast;
    if (m->nvisit > SC_ANYCAST_VISIT_MAX || m->nseen > SC_ANYCAST_SEEN_MAX)
      return SC_ERR_INVALID;
    stripecast__anycast__init(a);
    a->group = wire_enc_key(enc, &m->group);
    a->requester = wire_enc_ref(enc, &m->requester);
    if (a->requester == NULL) return SC_ERR_INVALID;
    a->app_id = m->app_id;
    rv = wire_enc_refs(enc, m->visit, m->nvisit, &a->visit);
    if (rv != 0) return rv;
    a->n_visit = m->nvisit;
    a->seen = wire_enc_prefixes(enc, m->seen, m->nseen);
    a->n_seen = m->nseen;
    env->anycast = a;
    break;
  }
  case SC_MSG_ANYCAST_FAIL:
    stripecast__anycast_fail__init(&b->anycast_fail);
    b->anycast_fail.group = wire_enc_key(enc, &msg->u.anycast_fail.group);
    b->anycast_fail.app_id = msg->u.anycast_fail.app_id;
    env->anycast_fail = &b->anycast_fail;
    break;
  case SC_MSG_REPAIR_REQ:
    if (msg->u.repair_req.back > SC_BACKFILL_MAX) return SC_ERR_INVALID;
    stripecast__repair_request__init(&b->repair_req);
    b->repair_req.channel = wire_enc_key(enc, &msg->u.repair_req.channel);
    b->repair_req.generation = msg->u.repair_req.generation;
    b->repair_req.want = msg->u.repair_req.want;
    b->repair_req.back = msg->u.repair_req.back;
    env->repair_req = &b->repair_req;
    break;
  case SC_MSG_SCRIBE_ROOT:
    stripecast__scribe_root__init(&b->scribe_root);
    b->scribe_root.group = wire_enc_key(enc, &msg->u.scribe_root.group);
    b->scribe_root.is_root = msg->u.scribe_root.is_root != 0;
    b->scribe_root.ack = msg->u.scribe_root.ack != 0;
    b->scribe_root.seq = msg->u.scribe_root.seq;
    env->scribe_root = &b->scribe_root;
    break;
  case SC_MSG_STATE_REQ:
    stripecast__state_request__init(&b->state_req);
    b->state_req.channel = wire_enc_key(enc, &msg->u.state_req.channel);
    b->state_req.nonce = msg->u.state_req.nonce;
    env->state_req = &b->state_req;
    break;
  case SC_MSG_STATE: {
    const sc_msg_state *m = &msg->u.state;
    if (m->len > SC_STATE_FRAGMENT_BYTES || (m->len && !m->data)) return SC_ERR_INVALID;
    stripecast__state__init(&b->state);
    b->state.channel = wire_enc_key(enc, &m->channel);
    b->state.nonce = m->nonce;
    b->state.total = m->total;
    b->state.offset = m->offset;
    b->state.data.len = m->len;
    b->state.data.data = (uint8_t *)m->data;
    env->state = &b->state;
    break;
  }
  case SC_MSG_TALLY:
    stripecast__tally__init(&b->tally);
    b->tally.channel = wire_enc_key(enc, &msg->u.tally.channel);
    b->tally.listeners = msg->u.tally.listeners;
    env->tally = &b->tally;
    break;
  case SC_MSG_ANNOUNCE:
  case SC_MSG_DIRECTORY_REQ:
    return wire_enc_directory(msg, b, env);
  default:
    return SC_ERR_INVALID;
  }
  return 0;
}

/* Fills b from msg's union member and points env at it. Returns 0 or
 * SC_ERR_INVALID. */
static int wire_enc_body(wire_enc *enc, const sc_msg *msg, wire_body *b,
                         Stripecast__Envelope *env) {
  int rv;
  if (msg->type >= SC_MSG_PING && msg->type <= SC_MSG_ROW)
    rv = wire_enc_pastry_body(enc, msg, b, env);
  else
    rv = wire_enc_tree_body(enc, msg, b, env);
  if (rv != 0) return rv;
  env->body_case = (Stripecast__Envelope__BodyCase)wire_body_field[msg->type];
  return 0;
}

int sc_wire_encode(const sc_msg *msg, const sc_wire_addr_map *map, uint8_t *buf,
                   size_t buflen) {
  wire_enc enc;
  wire_body body;
  Stripecast__Envelope env = STRIPECAST__ENVELOPE__INIT;

  enc.map = map;
  enc.nrefs = 0;
  if (msg->type != SC_MSG_MULTICAST) { /* a MULTICAST names no sender (wire.h) */
    env.sender = wire_enc_ref(&enc, &msg->sender);
    if (env.sender == NULL) return SC_ERR_INVALID;
  }
  int rv = wire_enc_body(&enc, msg, &body, &env);
  if (rv != 0) return rv;

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

/* ids in[0, n) into out[0, n). Returns 0 or SC_ERR_INVALID. */
static int wire_dec_ids(const ProtobufCBinaryData *in, size_t n, sc_id *out) {
  for (size_t i = 0; i < n; i++)
    if (wire_dec_id(&in[i], &out[i]) != 0) return SC_ERR_INVALID;
  return 0;
}

/* The message type whose body travels in this Envelope field; 0 if none. */
static unsigned wire_body_type(Stripecast__Envelope__BodyCase body_case) {
  if (body_case == STRIPECAST__ENVELOPE__BODY__NOT_SET) return 0;
  for (unsigned type = 1; type < SC_MSG_TYPE_END; type++)
    if (wire_body_field[type] == (unsigned)body_case) return type;
  return 0;
}

/* wire_dec_env's STATE_REQ and STATE (core/state.h). */
static int wire_dec_state(const Stripecast__Envelope *env, sc_msg *out) {
  if (out->type == SC_MSG_STATE_REQ) {
    out->u.state_req.nonce = env->state_req->nonce;
    return wire_dec_id(&env->state_req->channel, &out->u.state_req.channel);
  }
  const Stripecast__State *c = env->state;
  sc_msg_state *m = &out->u.state;
  if (c->data.len > SC_STATE_FRAGMENT_BYTES) return SC_ERR_INVALID;
  m->nonce = c->nonce;
  m->total = c->total;
  m->offset = c->offset;
  m->len = (uint16_t)c->data.len;
  m->data = c->data.len ? c->data.data : NULL; /* re-pointed by sc_wire_decode */
  return wire_dec_id(&c->channel, &m->channel);
}

/* wire_dec_env's ANNOUNCE and DIRECTORY_REQ (core/directory.h). */
static int wire_dec_directory(const Stripecast__Envelope *env, sc_msg *out) {
  if (out->type == SC_MSG_DIRECTORY_REQ) {
    if (env->directory_req->start > UINT16_MAX) return SC_ERR_INVALID;
    out->u.directory_req.start = (uint16_t)env->directory_req->start;
    return 0;
  }
  const Stripecast__Announce *a = env->announce;
  sc_msg_announce *m = &out->u.announce;
  if (a->level > UINT8_MAX || a->next > UINT16_MAX ||
      a->record.len > SC_ANNOUNCE_BYTES_MAX)
    return SC_ERR_INVALID;
  m->level = (uint8_t)a->level;
  m->next = (uint16_t)a->next;
  m->len = (uint16_t)a->record.len;
  m->data = a->record.len ? a->record.data : NULL; /* re-pointed by sc_wire_decode */
  return 0;
}

/* Fills *out from an unpacked Envelope. Returns 0 or SC_ERR_INVALID. */
/* A MULTICAST's body: the tree's hot path. */
static int wire_dec_multicast(const Stripecast__Multicast *c, sc_msg_multicast *m) {
  if (c->depth > UINT16_MAX) return SC_ERR_INVALID;
  if (c->group.len != SC_WIRE_GROUP_SHORT_LEN) return SC_ERR_INVALID;
  uint8_t group[WIRE_ID_LEN] = {0};
  memcpy(group, c->group.data, SC_WIRE_GROUP_SHORT_LEN);
  m->group = sc_id_from_bytes(group); /* lo 0: completed by the node (wire.h) */
  m->seq = c->seq;
  m->depth = (uint16_t)c->depth;
  m->sent_ns = c->sent_ns;
  m->repair = c->repair != 0;
  m->gen_bytes = c->gen_bytes;
  m->epoch = c->epoch;
  if (c->data.len > SC_CHUNK_BYTES_MAX) return SC_ERR_INVALID;
  m->len = (uint16_t)c->data.len;
  m->data = c->data.len ? c->data.data : NULL; /* re-pointed by sc_wire_decode */
  return 0;
}

static int wire_dec_env(const Stripecast__Envelope *env, const sc_wire_addr_map *map,
                        sc_msg *out) {
  unsigned type = wire_body_type(env->body_case);
  if (type == 0) return SC_ERR_INVALID;
  /* protobuf-c sets the pointer of the case it reports; all members alias. */
  if (env->ping == NULL) return SC_ERR_INVALID;

  /* Zero exactly the bytes this type uses (the caller may hold no more). */
  out->type = (uint8_t)type;
  memset(out, 0, sc_msg_struct_size(out));
  out->type = (uint8_t)type;
  if (type == SC_MSG_MULTICAST) {
    /* The transport names a MULTICAST's sender (wire.h). */
    if (env->sender != NULL) return SC_ERR_INVALID;
    out->sender.addr = SC_ADDR_NONE;
  } else if (wire_dec_ref(env->sender, map, &out->sender) != 0) {
    return SC_ERR_INVALID;
  }

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
    if (r->hops > UINT16_MAX || r->rows_sent > UINT8_MAX) return SC_ERR_INVALID;
    if (r->kind < SC_ROUTE_JOIN || r->kind >= SC_ROUTE_KIND_END) return SC_ERR_INVALID;
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
    if (wire_dec_ids(l->failed, l->n_failed, m->failed) != 0) return SC_ERR_INVALID;
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
  case SC_MSG_MULTICAST:
    return wire_dec_multicast(env->multicast, &out->u.multicast);
  case SC_MSG_SCRIBE_HEARTBEAT: {
    const Stripecast__ScribeHeartbeat *h = env->scribe_heartbeat;
    sc_msg_scribe_heartbeat *m = &out->u.scribe_hb;
    if (h->n_groups > SC_SCRIBE_HB_GROUPS) return SC_ERR_INVALID;
    m->from_parent = h->from_parent != 0;
    m->n = (uint8_t)h->n_groups;
    return wire_dec_ids(h->groups, h->n_groups, m->groups);
  }
  case SC_MSG_SCRIBE_PATH: {
    const Stripecast__ScribePath *p = env->scribe_path;
    sc_msg_scribe_path *m = &out->u.scribe_path;
    if (p->depth > UINT16_MAX || p->n_path > SC_PATH_MAX) return SC_ERR_INVALID;
    if (wire_dec_id(&p->group, &m->group) != 0) return SC_ERR_INVALID;
    m->accept = p->accept != 0;
    m->depth = (uint16_t)p->depth;
    m->n = (uint8_t)p->n_path;
    if (p->n_path) memcpy(m->path, p->path, p->n_path * sizeof m->path[0]);
    return 0;
  }
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    return wire_dec_id(type == SC_MSG_SCRIBE_JOIN ? &env->scribe_join->group
                                                  : &env->scribe_leave->group,
                       &out->u.scribe_group.group);
  case SC_MSG_SCRIBE_DROP: {
    const Stripecast__ScribeDrop *d = env->scribe_drop;
    sc_msg_scribe_drop *m = &out->u.scribe_drop;
    if (d->n_candidates > SC_DROP_CANDIDATES) return SC_ERR_INVALID;
    if (wire_dec_id(&d->group, &m->group) != 0) return SC_ERR_INVALID;
    m->n = (uint8_t)d->n_candidates;
    return wire_dec_refs(d->candidates, d->n_candidates, map, m->e);
  }
  case SC_MSG_ANYCAST: {
    const Stripecast__Anycast *a = env->anycast;
    sc_msg_anycast *m = &out->u.anycast;
    if (a->n_visit > SC_ANYCAST_VISIT_MAX || a->n_seen > SC_ANYCAST_SEEN_MAX)
      return SC_ERR_INVALID;
    if (wire_dec_id(&a->group, &m->group) != 0) return SC_ERR_INVALID;
    if (wire_dec_ref(a->requester, map, &m->requester) != 0) return SC_ERR_INVALID;
    m->app_id = a->app_id;
    m->nvisit = (uint8_t)a->n_visit;
    m->nseen = (uint8_t)a->n_seen;
    if (a->n_seen) memcpy(m->seen, a->seen, a->n_seen * sizeof m->seen[0]);
    return wire_dec_refs(a->visit, a->n_visit, map, m->visit);
  }
  case SC_MSG_ANYCAST_FAIL:
    out->u.anycast_fail.app_id = env->anycast_fail->app_id;
    return wire_dec_id(&env->anycast_fail->group, &out->u.anycast_fail.group);
  case SC_MSG_REPAIR_REQ:
    out->u.repair_req.generation = env->repair_req->generation;
    out->u.repair_req.want = env->repair_req->want;
    if (env->repair_req->back > SC_BACKFILL_MAX) return SC_ERR_INVALID;
    out->u.repair_req.back = (uint8_t)env->repair_req->back;
    return wire_dec_id(&env->repair_req->channel, &out->u.repair_req.channel);
  case SC_MSG_SCRIBE_ROOT:
    out->u.scribe_root.is_root = env->scribe_root->is_root != 0;
    out->u.scribe_root.ack = env->scribe_root->ack != 0;
    out->u.scribe_root.seq = env->scribe_root->seq;
    return wire_dec_id(&env->scribe_root->group, &out->u.scribe_root.group);
  case SC_MSG_STATE_REQ:
  case SC_MSG_STATE:
    return wire_dec_state(env, out);
  case SC_MSG_TALLY:
    out->u.tally.listeners = env->tally->listeners;
    return wire_dec_id(&env->tally->channel, &out->u.tally.channel);
  case SC_MSG_ANNOUNCE:
  case SC_MSG_DIRECTORY_REQ:
    return wire_dec_directory(env, out);
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
  int rv = wire_dec_env(env, map, out);
  if (rv == 0 && out->type == SC_MSG_MULTICAST && out->u.multicast.len > 0) {
    /* The payload must be the datagram's last bytes (field 15, written last
     * by an encoder in field order): then it is read where it lies, and
     * stays valid as long as buf does, without a copy out of the arena. */
    size_t len = out->u.multicast.len;
    const uint8_t *tail = buf + buflen - len;
    if (memcmp(tail, out->u.multicast.data, len) != 0) return SC_ERR_INVALID;
    out->u.multicast.data = tail;
  }
  if (rv == 0 && out->type == SC_MSG_STATE && out->u.state.len > 0) {
    /* The same for a STATE's fragment. */
    size_t len = out->u.state.len;
    const uint8_t *tail = buf + buflen - len;
    if (memcmp(tail, out->u.state.data, len) != 0) return SC_ERR_INVALID;
    out->u.state.data = tail;
  }
  if (rv == 0 && out->type == SC_MSG_ANNOUNCE && out->u.announce.len > 0) {
    /* And for an ANNOUNCE's record. */
    size_t len = out->u.announce.len;
    const uint8_t *tail = buf + buflen - len;
    if (memcmp(tail, out->u.announce.data, len) != 0) return SC_ERR_INVALID;
    out->u.announce.data = tail;
  }
  return rv;
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

/* A proto3 bool field with a one-byte tag: absent when false. */
static inline size_t wire_bool_len(uint8_t v) {
  return v ? 2 : 0;
}

/* A packed repeated fixed64 field with a one-byte tag: absent when empty. */
static inline size_t wire_packed64_len(size_t n) {
  return n ? wire_ld_len(8 * n) : 0;
}

size_t sc_wire_size(const sc_msg *msg, size_t addr_len) {
  assert(addr_len <= SC_WIRE_ADDR_MAX);
  /* NodeRef: id (always 16 bytes) and addr (absent when empty). */
  size_t ref = wire_ld_len(WIRE_ID_LEN) + (addr_len ? wire_ld_len(addr_len) : 0);
  size_t ref_field = wire_ld_len(ref); /* any NodeRef field: sender, origin, entry */
  size_t id_field = wire_ld_len(WIRE_ID_LEN); /* a key, a group, an id in a list */
  size_t body;

  switch (msg->type) {
  case SC_MSG_PING:
    body = wire_fixed64_len(msg->u.ping.sent_ns) + wire_bool_len(msg->u.ping.announce) +
           wire_bool_len(msg->u.ping.joining) + wire_uint_len(msg->u.ping.rtt_us);
    break;
  case SC_MSG_PONG:
    body = wire_fixed64_len(msg->u.pong.echo_ns) + wire_fixed64_len(msg->u.pong.sent_ns) +
           wire_bool_len(msg->u.pong.want_echo);
    break;
  case SC_MSG_HEARTBEAT:
    body = 0;
    break;
  case SC_MSG_ROUTE: {
    const sc_msg_route *m = &msg->u.route;
    body = id_field + ref_field + wire_uint_len(m->seq) + wire_uint_len(m->hops) +
           wire_uint_len(m->kind) + wire_uint_len(m->rows_sent) +
           wire_uint_len(m->app_id) + wire_fixed64_len(m->app_time_ns);
    break;
  }
  case SC_MSG_ROUTE_ACK:
    body = wire_uint_len(msg->u.route_ack.seq);
    break;
  case SC_MSG_LEAFSET: {
    const sc_msg_leafset *m = &msg->u.leafset;
    assert(m->n <= SC_LEAFSET_MAX && m->nfailed <= SC_FAILED_HINT_MAX);
    body = wire_bool_len(m->want_reply) + wire_bool_len(m->join_reply) +
           wire_bool_len(m->is_reply) + m->n * ref_field + m->nfailed * id_field;
    break;
  }
  case SC_MSG_ROW_REQUEST:
    body = wire_uint_len(msg->u.row_request.row);
    break;
  case SC_MSG_ROW:
    assert(msg->u.row.n <= SC_ROW_ENTRIES);
    body = wire_uint_len(msg->u.row.row) + msg->u.row.n * ref_field;
    break;
  case SC_MSG_MULTICAST: {
    const sc_msg_multicast *m = &msg->u.multicast;
    body = wire_ld_len(SC_WIRE_GROUP_SHORT_LEN) + wire_uint_len(m->seq) +
           wire_uint_len(m->depth) + wire_fixed64_len(m->sent_ns) +
           wire_bool_len(m->repair) + wire_uint_len(m->gen_bytes) +
           wire_uint_len(m->epoch) + (m->len ? wire_ld_len(m->len) : 0);
    break;
  }
  case SC_MSG_SCRIBE_HEARTBEAT: {
    const sc_msg_scribe_heartbeat *m = &msg->u.scribe_hb;
    assert(m->n <= SC_SCRIBE_HB_GROUPS);
    body = wire_bool_len(m->from_parent) + m->n * id_field;
    break;
  }
  case SC_MSG_SCRIBE_PATH: {
    const sc_msg_scribe_path *m = &msg->u.scribe_path;
    assert(m->n <= SC_PATH_MAX);
    body = id_field + wire_bool_len(m->accept) + wire_uint_len(m->depth) +
           wire_packed64_len(m->n);
    break;
  }
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    body = id_field;
    break;
  case SC_MSG_SCRIBE_DROP:
    assert(msg->u.scribe_drop.n <= SC_DROP_CANDIDATES);
    body = id_field + msg->u.scribe_drop.n * ref_field;
    break;
  case SC_MSG_ANYCAST: {
    const sc_msg_anycast *m = &msg->u.anycast;
    assert(m->nvisit <= SC_ANYCAST_VISIT_MAX && m->nseen <= SC_ANYCAST_SEEN_MAX);
    body = id_field + ref_field + wire_uint_len(m->app_id) + m->nvisit * ref_field +
           wire_packed64_len(m->nseen);
    break;
  }
  case SC_MSG_ANYCAST_FAIL:
    body = id_field + wire_uint_len(msg->u.anycast_fail.app_id);
    break;
  case SC_MSG_REPAIR_REQ:
    body = id_field + wire_uint_len(msg->u.repair_req.generation) +
           wire_uint_len(msg->u.repair_req.want) + wire_uint_len(msg->u.repair_req.back);
    break;
  case SC_MSG_SCRIBE_ROOT:
    body = id_field + wire_bool_len(msg->u.scribe_root.is_root) +
           wire_bool_len(msg->u.scribe_root.ack) + wire_uint_len(msg->u.scribe_root.seq);
    break;
  case SC_MSG_STATE_REQ:
    body = id_field + wire_uint_len(msg->u.state_req.nonce);
    break;
  case SC_MSG_STATE: {
    const sc_msg_state *m = &msg->u.state;
    body = id_field + wire_uint_len(m->nonce) + wire_uint_len(m->total) +
           wire_uint_len(m->offset) + (m->len ? wire_ld_len(m->len) : 0);
    break;
  }
  case SC_MSG_TALLY:
    body = id_field + wire_uint_len(msg->u.tally.listeners);
    break;
  case SC_MSG_ANNOUNCE: {
    const sc_msg_announce *m = &msg->u.announce;
    body = wire_uint_len(m->level) + wire_uint_len(m->next) +
           (m->len ? wire_ld_len(m->len) : 0);
    break;
  }
  case SC_MSG_DIRECTORY_REQ:
    body = wire_uint_len(msg->u.directory_req.start);
    break;
  default:
    return 0;
  }
  /* Version byte, sender, and the oneof body: emitted even when empty. Body
   * fields from 16 up take a two-byte tag. */
  size_t body_tag = wire_body_field[msg->type] < 16 ? 1 : 2;
  size_t sender = msg->type == SC_MSG_MULTICAST ? 0 : ref_field;
  return 1 + sender + body_tag + wire_varint_len(body) + body;
}
