/*
 * wire.h — core messages (core/msg.h) to and from datagrams.
 *
 * A datagram is one version byte (SC_WIRE_VERSION) followed by one packed
 * protobuf Envelope (proto/stripecast.proto): the sender's NodeRef and a oneof
 * body, one member per sc_msg type, its field number given by a table in the
 * proto and in wire.c (docs/ARCHITECTURE.md §2, "Messages: structs inside, protobuf on
 * the wire").
 *
 * The runtime encodes on send and decodes on receive; decoding checks the
 * length first and unpacks into a bounded arena on the stack, so hostile input
 * can neither allocate without bound nor leak. The simulator never encodes:
 * it charges sc_wire_size() bytes to the links instead, and the tests prove
 * that number equal to what sc_wire_encode() writes.
 *
 * Addresses are opaque handles to the core; an sc_wire_addr_map turns them
 * into bytes and back (IPv4:port, IPv6:port, or the simulator's peer index).
 */
#ifndef SC_WIRE_H
#define SC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define SC_WIRE_VERSION      2    /* the first byte of every datagram */
#define SC_WIRE_DATAGRAM_MAX 1400 /* one datagram under a 1,500-byte MTU */
/* The smallest valid datagram: version and a MULTICAST naming only its
 * group (below). Anything shorter is truncated. */
#define SC_WIRE_DATAGRAM_MIN 13
/*
 * A MULTICAST, the stream's chunk and most of every peer's upload, carries
 * no sender and names its group by the first SC_WIRE_GROUP_SHORT_LEN bytes
 * of the id: 36 bytes fewer a chunk than a full NodeRef and id, which is
 * what keeps a broadcaster's upload near the erasure code's own 16/12
 * (docs/ARCHITECTURE.md §5). The receiver's transport says who sent it (the
 * runtime checks every other message's sender against the datagram's source
 * anyway), and sc_wire_decode() leaves sender.addr SC_ADDR_NONE for the
 * caller to fill in. The group decodes with its last 8 bytes zero, and the
 * receiving node completes it from the groups it takes part in (sc_node_recv):
 * a chunk of a group it is not in is of no use to it. Two of its groups
 * sharing 64 bits of their hashed ids would take 2^64 work to arrange.
 */
#define SC_WIRE_GROUP_SHORT_LEN 8
#define SC_WIRE_ADDR_MAX        32 /* bytes an address may take on the wire */
/* The decoder's arena: every allocation protobuf-c makes while unpacking one
 * datagram comes from this many bytes on the stack. With SC_WIRE_ADDR_MAX-byte
 * addresses a full ANYCAST, the most demanding message, needs about 3.7 KiB
 * (a full LEAFSET 3.3 KiB); input that needs more than the arena (e.g.
 * hundreds of tiny unknown fields) is SC_ERR_INVALID. */
#define SC_WIRE_ARENA_BYTES (16 * 1024)
#define SC_WIRE_INDEX6_LEN  6 /* bytes sc_wire_addr_map_index6() writes */

/*
 * Maps address handles to wire bytes and back. user is passed back to both.
 *
 * to_bytes writes a's bytes into out[0, outlen) (outlen is SC_WIRE_ADDR_MAX)
 * and returns how many it wrote, or a negative value if a has no wire form.
 * from_bytes parses in[0, inlen) into *out and returns 0, or a negative value
 * if the bytes are not an address. Neither may keep the pointers.
 */
typedef struct sc_wire_addr_map {
  void *user;
  int (*to_bytes)(void *user, sc_addr a, uint8_t *out, size_t outlen);
  int (*from_bytes)(void *user, const uint8_t *in, size_t inlen, sc_addr *out);
} sc_wire_addr_map;

/*
 * A static map that writes handle a as SC_WIRE_INDEX6_LEN bytes, the size of
 * an IPv4:port: a as 4 big-endian bytes, then 2 zero bytes. It reads back
 * exactly that form and rejects anything else. The simulator and the tests
 * use it.
 */
const sc_wire_addr_map *sc_wire_addr_map_index6(void);

/*
 * Encodes msg into buf[0, buflen) as a datagram and returns the number of
 * bytes written (at most SC_WIRE_DATAGRAM_MAX). Flags (ping.announce,
 * leafset.want_reply, scribe_path.accept, ...) travel as booleans: any
 * non-zero value is sent as 1.
 *
 * Returns SC_ERR_INVALID if msg's type is unknown, a count exceeds its bound
 * (leafset.n > SC_LEAFSET_MAX, leafset.nfailed > SC_FAILED_HINT_MAX,
 * row.n > SC_ROW_ENTRIES, scribe_hb.n > SC_SCRIBE_HB_GROUPS,
 * scribe_path.n > SC_PATH_MAX, scribe_drop.n > SC_DROP_CANDIDATES,
 * anycast.nvisit > SC_ANYCAST_VISIT_MAX, anycast.nseen > SC_ANYCAST_SEEN_MAX,
 * state.len > SC_STATE_FRAGMENT_BYTES or a state.len without data),
 * a row number is >= SC_ID_DIGITS, a route kind is outside
 * [SC_ROUTE_JOIN, SC_ROUTE_KIND_END), or map->to_bytes fails for an address
 * (or claims more than SC_WIRE_ADDR_MAX bytes);
 * SC_ERR_NOBUF if the datagram does not fit in buflen (buf is then left in an
 * unspecified state); SC_ERR_TOO_LARGE if it would exceed
 * SC_WIRE_DATAGRAM_MAX (impossible for today's messages, see wire.c).
 */
int sc_wire_encode(const sc_msg *msg, const sc_wire_addr_map *map, uint8_t *buf,
                   size_t buflen);

/*
 * Decodes the datagram buf[0, buflen) into *out. Nothing is allocated on the
 * heap and nothing refers to buf afterwards. On success *out holds the header
 * and the union member its type names, unused array slots and padding zeroed,
 * flags as 0 or 1; on error *out is unspecified. Never asserts on its input.
 *
 * Returns 0, or the first of these that applies, checked in this order:
 * SC_ERR_TRUNCATED if buflen is 0; SC_ERR_TOO_LARGE if buflen >
 * SC_WIRE_DATAGRAM_MAX (before anything is parsed); SC_ERR_VERSION if the
 * first byte is not SC_WIRE_VERSION; SC_ERR_TRUNCATED if buflen is below
 * SC_WIRE_DATAGRAM_MIN; SC_ERR_INVALID if the Envelope does not unpack
 * (malformed, truncated inside, or needing more than SC_WIRE_ARENA_BYTES),
 * the sender or body is missing or unknown, an id is not 16 bytes, a count
 * exceeds its struct bound, a number does not fit its struct field
 * (hops or depth > 65535, rows_sent > 255, row >= SC_ID_DIGITS), a route kind
 * is outside [SC_ROUTE_JOIN, SC_ROUTE_KIND_END), a NodeRef the message needs
 * (sender, origin, requester) is missing, or an address is longer than
 * SC_WIRE_ADDR_MAX or map->from_bytes rejects it.
 */
int sc_wire_decode(const uint8_t *buf, size_t buflen, const sc_wire_addr_map *map,
                   sc_msg *out);

/*
 * The exact number of bytes sc_wire_encode() writes for msg (version byte
 * included) when every address encodes to addr_len bytes
 * (addr_len <= SC_WIRE_ADDR_MAX; SC_WIRE_INDEX6_LEN for the simulator). Pure
 * arithmetic: no protobuf structs, no allocation, constant time. Returns 0 for
 * an unknown type; counts beyond their bounds are a programmer error (assert).
 * A route kind is not checked here: sc_wire_encode() refuses a bad one.
 */
size_t sc_wire_size(const sc_msg *msg, size_t addr_len);

/* What a symbolic payload (sc_msg_multicast.data NULL) is on the wire: zeros. */
extern const uint8_t sc_wire_zero_payload[SC_CHUNK_BYTES_MAX];

#endif
