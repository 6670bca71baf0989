/*
 * msg.h — the core's messages: plain C structs with bounded fields.
 *
 * Inside the core (and inside the simulator) messages travel as these structs;
 * core/wire converts them to and from protobuf-c bytes for real sockets
 * (docs/ARCHITECTURE.md §2, "Messages: structs inside, protobuf on the wire").
 *
 * Addresses are opaque handles: the simulator uses peer indices, the runtime
 * maps handles to socket addresses. Every message names its sender (id and
 * address) so a receiver can learn about, and measure, peers first-hand.
 *
 * A received message may be allocated with only sc_msg_struct_size() bytes:
 * read the union member its type names and nothing beyond.
 */
#ifndef SC_MSG_H
#define SC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

/* An opaque peer address handle. */
typedef uint32_t sc_addr;
#define SC_ADDR_NONE UINT32_MAX

/* A reference to a peer: its id and how to reach it. */
typedef struct sc_ref {
  sc_id id;
  sc_addr addr;
} sc_ref;

#define SC_LEAFSET_MAX     16 /* l: entries in a leaf set, l/2 a side (Pastry §2.1) */
#define SC_FAILED_HINT_MAX 4  /* failed ids a LEAFSET message can carry (MSPastry) */
#define SC_ROW_ENTRIES     SC_ID_BASE

enum sc_msg_type {
  SC_MSG_PING = 1,        /* RTT probe and liveness probe */
  SC_MSG_PONG = 2,        /* answer to PING, echoing its timestamp */
  SC_MSG_HEARTBEAT = 3,   /* leaf-set heartbeat to an adjacent neighbour */
  SC_MSG_ROUTE = 4,       /* a message routed toward a key */
  SC_MSG_ROUTE_ACK = 5,   /* per-hop acknowledgement of a ROUTE (MSPastry) */
  SC_MSG_LEAFSET = 6,     /* the sender's leaf set, optional reply request */
  SC_MSG_ROW_REQUEST = 7, /* asks for one routing-table row */
  SC_MSG_ROW = 8,         /* one routing-table row */
  /* Scribe (Castro et al., JSAC 2002) and SplitStream (SOSP 2003): messages
   * between tree neighbours. Routed Scribe messages (join, anycast, publish)
   * travel as SC_MSG_ROUTE with the route kinds below. */
  SC_MSG_MULTICAST = 9,         /* one message down a tree, parent -> child */
  SC_MSG_SCRIBE_HEARTBEAT = 10, /* parent <-> child liveness, naming the groups */
  SC_MSG_SCRIBE_PATH = 11,      /* parent -> child: accepted / new path to the root */
  SC_MSG_SCRIBE_JOIN = 12,      /* a join sent straight to a peer (push-down) */
  SC_MSG_SCRIBE_LEAVE = 13,     /* child -> parent: remove me from the group */
  SC_MSG_SCRIBE_DROP = 14,      /* parent -> child: dropped; try these peers */
  SC_MSG_ANYCAST = 15,          /* one step of an anycast's depth-first search */
  SC_MSG_ANYCAST_FAIL = 16,     /* the search found no taker */
  /* The stream (docs/ARCHITECTURE.md §3): chunks travel as SC_MSG_MULTICAST with a
   * payload; a receiver pulls what its trees did not bring. */
  SC_MSG_REPAIR_REQ = 17,  /* "send me these chunks of this generation" */
  SC_MSG_SCRIBE_ROOT = 18, /* "I am (not) the root of this group", to a publisher */
  /* An application's state for a peer that attached mid-stream (core/state.h):
   * a station's codec headers, asked of a parent instead of waited for. */
  SC_MSG_STATE_REQ = 19, /* "send me the stream's state" */
  SC_MSG_STATE = 20,     /* one fragment of the answer */
  /* The listener tally (core/tally.h): child -> parent, root -> publisher. */
  SC_MSG_TALLY = 21,
  /* The station directory (core/directory.h): a signed station record,
   * broadcast down the routing tables or sent in answer to an ask. */
  SC_MSG_ANNOUNCE = 22,
  SC_MSG_DIRECTORY_REQ = 23, /* "send me a page of your directory" */
  SC_MSG_TYPE_END
};

typedef struct sc_msg_ping {
  uint64_t sent_ns; /* the sender's clock; echoed back to measure the RTT */
  /* Non-zero: "I am new to you, consider me for your tables" (join
   * announcement). The receiver may then probe the sender in turn; a probe
   * sent in answer carries 0, so probing never ping-pongs. */
  uint8_t announce;
  /* Non-zero: the sender is still joining; answer, but do not put it in your
   * tables yet (MSPastry §3.1: a node is used only once its join is done). */
  uint8_t joining;
  /* With announce: the round-trip time the sender measured to the receiver
   * (microseconds, >= 1), which the receiver may use for proximity instead of
   * measuring again; such a PING is a one-way announcement and is not
   * answered. 0: not measured (answer as usual). */
  uint32_t rtt_us;
} sc_msg_ping;

typedef struct sc_msg_pong {
  uint64_t echo_ns; /* the PING's (or PONG's) sent_ns */
  uint64_t sent_ns; /* the sender's clock, for want_echo */
  /* Non-zero: "echo sent_ns back in a PONG", so the answering peer measures
   * the RTT too — three messages instead of a second PING/PONG pair. */
  uint8_t want_echo;
} sc_msg_pong;

enum sc_route_kind {
  SC_ROUTE_JOIN = 1,   /* origin is joining; key = origin id (Pastry §2.4) */
  SC_ROUTE_LOOKUP = 2, /* a lookup: deliver to the key's owner */
  SC_ROUTE_APP = 3,    /* an application message */
  /* Scribe: key = group id. Every peer on the route sees these through the
   * forward upcall before they go on (Scribe §2.2). */
  SC_ROUTE_SCRIBE_JOIN = 4, /* join the group's tree; app_id unused */
  SC_ROUTE_ANYCAST = 5,     /* find a group member that accepts; app_id: the
                               application's word (SplitStream: the stripe) */
  SC_ROUTE_PUBLISH = 6,     /* to the group's root, who multicasts it; app_id:
                               sequence number, app_time_ns: publish time */
  SC_ROUTE_SCRIBE_ROOT = 7, /* a publisher locating the group's root, which
                               answers with SC_MSG_SCRIBE_ROOT (Scribe §2.2) */
  SC_ROUTE_KIND_END
};

typedef struct sc_msg_route {
  sc_id key;
  sc_ref origin;        /* the peer that started the route */
  uint32_t seq;         /* per-hop id for ROUTE_ACK; 0: no ack wanted */
  uint16_t hops;        /* overlay hops taken so far */
  uint8_t kind;         /* enum sc_route_kind */
  uint8_t rows_sent;    /* join: routing-table rows [0, rows_sent) already sent */
  uint64_t app_id;      /* lookup id or application word */
  uint64_t app_time_ns; /* origin's clock when the route started */
} sc_msg_route;

typedef struct sc_msg_route_ack {
  uint32_t seq;
} sc_msg_route_ack;

typedef struct sc_msg_leafset {
  uint8_t want_reply; /* non-zero: answer with your own leaf set */
  uint8_t join_reply; /* non-zero: sent by the root of the receiver's JOIN */
  uint8_t is_reply;   /* non-zero: an answer; never answered in turn */
  uint8_t n;          /* entries in e, <= SC_LEAFSET_MAX */
  uint8_t nfailed;    /* ids in failed, <= SC_FAILED_HINT_MAX */
  sc_id failed[SC_FAILED_HINT_MAX]; /* peers the sender found dead */
  sc_ref e[SC_LEAFSET_MAX];         /* both sides, in no particular order */
} sc_msg_leafset;

typedef struct sc_msg_row_request {
  uint8_t row;
} sc_msg_row_request;

typedef struct sc_msg_row {
  uint8_t row; /* < SC_ID_DIGITS */
  uint8_t n;   /* entries in e, <= SC_ROW_ENTRIES */
  sc_ref e[SC_ROW_ENTRIES];
} sc_msg_row;

/* --- Scribe and SplitStream --- */

#define SC_PATH_MAX          32 /* ancestors a path message carries */
#define SC_SCRIBE_HB_GROUPS  32 /* groups one tree heartbeat can name */
#define SC_DROP_CANDIDATES   16 /* push-down candidates in a drop */
#define SC_ANYCAST_VISIT_MAX 16 /* depth-first search stack */
#define SC_ANYCAST_SEEN_MAX  48 /* peers an anycast remembers having visited */

/* A chunk's payload is at most this long: with its header a MULTICAST stays
 * within 1,232 bytes, the UDP payload that IPv6's minimum MTU carries
 * (RFC 8200 §5: 1,280 less 40 bytes of IPv6 and 8 of UDP), so it crosses
 * any path unfragmented (docs/ARCHITECTURE.md §5; core/wire.c checks). */
#define SC_CHUNK_BYTES_MAX 1180

typedef struct sc_msg_multicast {
  sc_id group;
  uint32_t seq;        /* the publisher's sequence number (a stream: the generation) */
  uint16_t depth;      /* tree edges from the root to the receiver */
  uint16_t len : 15;   /* payload bytes, <= SC_CHUNK_BYTES_MAX */
  uint16_t repair : 1; /* an answer to a REPAIR_REQ, not forwarded down */
  uint32_t gen_bytes;  /* a stream chunk: the stream bytes its generation
                        * holds (the rest is padding); 0 otherwise */
  /* A stream chunk: the source's epoch (sc_chunk.epoch); 0 in the
   * simulator. Fits what was padding: the struct stays 48 bytes, which
   * the simulator's packet classes depend on. */
  uint32_t epoch;
  uint64_t sent_ns; /* the publisher's clock at publish */
  /* The payload, immutable, owned by whoever handed the message over and
   * valid for that call only (the receiver copies what it keeps). NULL with
   * len > 0: a payload of len bytes whose content nobody reads (the
   * simulator's symbolic chunks: charged to the links, never stored). */
  const uint8_t *data;
} sc_msg_multicast;

/* Chunks a receiver asks a peer for: those of generation `generation` whose
 * index (stripe) has its bit set in `want`. The peer answers with what it
 * holds, each as a MULTICAST with repair set; silence means it has none. */
typedef struct sc_msg_repair_req {
  sc_id channel;
  uint32_t generation;
  uint32_t want;
  /* > 0: a backfill. generation is not read; the answer is the chunks in
   * want of the peer's `back` newest generations (core/channel.h,
   * backfill_gens). At most SC_BACKFILL_MAX. */
  uint8_t back;
} sc_msg_repair_req;

#define SC_BACKFILL_MAX 8

/* A group's root to a publisher: the answer to a routed SC_ROUTE_SCRIBE_ROOT
 * (is_root 1: send later messages straight here), the acknowledgement of a
 * MULTICAST of depth 0 it took (is_root 1, ack 1, seq: the message's), or
 * the answer of a peer that is not the root to such a MULTICAST (is_root 0:
 * locate it again). */
typedef struct sc_msg_scribe_root {
  sc_id group;
  uint8_t is_root;
  uint8_t ack;
  uint32_t seq;
} sc_msg_scribe_root;

/* The state an application keeps beside its stream (a station's INFO,
 * codec headers and title, core/station.h) travels in fragments of at most
 * SC_STATE_FRAGMENT_BYTES; the whole is at most SC_STATE_BYTES_MAX, so one
 * 64-bit mask tracks which fragments came. */
#define SC_STATE_FRAGMENT_BYTES 1024
#define SC_STATE_FRAGMENTS_MAX  64
#define SC_STATE_BYTES_MAX      (SC_STATE_FRAGMENT_BYTES * SC_STATE_FRAGMENTS_MAX)

/* Asks a peer of the stream for its state; nonce names this ask. */
typedef struct sc_msg_state_req {
  sc_id channel;
  uint32_t nonce;
} sc_msg_state_req;

/* One fragment of the answer: bytes [offset, offset + len) of a state of
 * total bytes. total 0: the peer holds none (ask another). */
typedef struct sc_msg_state {
  sc_id channel;
  uint32_t nonce; /* the ask's */
  uint32_t total;
  uint32_t offset;
  uint16_t len; /* <= SC_STATE_FRAGMENT_BYTES */
  /* As a MULTICAST's payload: valid for the call only. */
  const uint8_t *data;
} sc_msg_state;

/* A peer's station-wide listener count so far: its own listeners plus its
 * children's latest reports (core/tally.h). */
typedef struct sc_msg_tally {
  sc_id channel;
  uint32_t listeners;
} sc_msg_tally;

/* The largest station record an ANNOUNCE carries
 * (SC_DIRECTORY_RECORD_MAX is below it; core/directory_record.h). */
#define SC_ANNOUNCE_BYTES_MAX 512
/* An ANNOUNCE's level for an answer to a DIRECTORY_REQ: not passed on. */
#define SC_ANNOUNCE_ANSWER 0xffu
/* One station record. level: how far the broadcast has gone, as in
 * El-Ansary et al.'s broadcast over prefix routing tables: the receiver
 * passes it on to its routing-table rows from level on (core/directory.c).
 * next: in an answer's last record of a full page, where the next page
 * starts (0: no more). */
typedef struct sc_msg_announce {
  uint8_t level;
  uint16_t next;
  uint16_t len; /* <= SC_ANNOUNCE_BYTES_MAX */
  /* As a MULTICAST's payload: valid for the call only. */
  const uint8_t *data;
} sc_msg_announce;

/* Asks a peer for the records of its directory from index start on; it
 * answers with a page of ANNOUNCEs of level SC_ANNOUNCE_ANSWER. */
typedef struct sc_msg_directory_req {
  uint16_t start;
} sc_msg_directory_req;

typedef struct sc_msg_scribe_heartbeat {
  /* Non-zero: from a parent, naming the groups in which the receiver is its
   * child. Zero: from a child, naming the groups in which the receiver is its
   * parent (the child's refresh). A group absent from the list is a group the
   * link no longer exists in. */
  uint8_t from_parent;
  uint8_t n;
  sc_id groups[SC_SCRIBE_HB_GROUPS];
} sc_msg_scribe_heartbeat;

typedef struct sc_msg_scribe_path {
  sc_id group;
  uint8_t accept; /* non-zero: the answer to a join: you are my child now */
  uint8_t n;      /* ids in path */
  uint16_t depth; /* the sender's depth (root: 0); may exceed n */
  /* The sender's ancestors nearest last, ending with the sender itself, as
   * 64-bit id prefixes (sc_id_prefix64); the deepest SC_PATH_MAX of them. Used
   * to refuse children that would close a loop (SplitStream §4.2). */
  uint64_t path[SC_PATH_MAX];
} sc_msg_scribe_path;

/* SCRIBE_JOIN (direct) and SCRIBE_LEAVE carry only the group. */
typedef struct sc_msg_scribe_group {
  sc_id group;
} sc_msg_scribe_group;

typedef struct sc_msg_scribe_drop {
  sc_id group;
  uint8_t n;                    /* entries in e */
  sc_ref e[SC_DROP_CANDIDATES]; /* the dropper's children in group (push-down) */
} sc_msg_scribe_drop;

typedef struct sc_msg_anycast {
  sc_id group;      /* the tree searched */
  sc_ref requester; /* who wants an answer */
  uint64_t app_id;  /* the application's word (SplitStream: stripe wanted) */
  uint8_t nvisit;   /* DFS stack, next peer last */
  uint8_t nseen;
  sc_ref visit[SC_ANYCAST_VISIT_MAX];
  uint64_t seen[SC_ANYCAST_SEEN_MAX]; /* id prefixes of peers already visited */
} sc_msg_anycast;

typedef struct sc_msg_anycast_fail {
  sc_id group;
  uint64_t app_id;
} sc_msg_anycast_fail;

typedef struct sc_msg {
  uint8_t type; /* enum sc_msg_type */
  sc_ref sender;
  union {
    sc_msg_ping ping;
    sc_msg_pong pong;
    sc_msg_route route;
    sc_msg_route_ack route_ack;
    sc_msg_leafset leafset;
    sc_msg_row_request row_request;
    sc_msg_row row;
    sc_msg_multicast multicast;
    sc_msg_scribe_heartbeat scribe_hb;
    sc_msg_scribe_path scribe_path;
    sc_msg_scribe_group scribe_group; /* SCRIBE_JOIN, SCRIBE_LEAVE */
    sc_msg_scribe_drop scribe_drop;
    sc_msg_anycast anycast;
    sc_msg_anycast_fail anycast_fail;
    sc_msg_repair_req repair_req;
    sc_msg_scribe_root scribe_root;
    sc_msg_state_req state_req;
    sc_msg_state state;
    sc_msg_tally tally;
    sc_msg_announce announce;
    sc_msg_directory_req directory_req;
  } u;
} sc_msg;

/*
 * Bytes of an sc_msg of this type that hold data: the header plus the union
 * member its type uses. The simulator allocates in-flight messages this size.
 * Returns 0 for an unknown type.
 */
size_t sc_msg_struct_size(const sc_msg *msg);

/* A static name for a message type ("ping", "route", ...), "?" if unknown. */
const char *sc_msg_type_name(unsigned type);

#endif
