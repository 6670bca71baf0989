/*
 * wire_testutil.h — what the wire codec's test programs share (test_wire.c for
 * the codec and Pastry's messages, test_wire_scribe.c for Scribe's): address
 * maps, random valid messages of every type, the canonical form a decoder
 * returns, and the round-trip check. Include after <cmocka.h>.
 */
#ifndef SC_WIRE_TESTUTIL_H
#define SC_WIRE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"
#include "core/rng.h"
#include "core/wire.h"
#include "stripecast.pb-c.h"

#define IDX6     SC_WIRE_INDEX6_LEN
#define BAD_ADDR 0xdeadu

/* An address map for a fixed length, user pointing at a size_t: writes every
 * address as exactly that many bytes (for 4 or more, the handle big-endian
 * then 0x5a padding; for fewer, zeros: lossy, size tests only) and reads back
 * only that form. */
int fixed_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen);
int fixed_from_bytes(void *user, const uint8_t *in, size_t inlen, sc_addr *out);

/* index6, except that BAD_ADDR has no wire form and nothing decodes. */
extern const sc_wire_addr_map bad_map;
/* A map whose to_bytes claims one byte more than it was given. */
extern const sc_wire_addr_map long_map;

/* A random value whose bit width is itself random (0 and UINT64_MAX often). */
uint64_t rand_wide(sc_rng *r);
sc_id rand_id(sc_rng *r);
sc_ref rand_ref(sc_rng *r);

/* A random, valid message of the given type: counts uniform in [0, bound],
 * flags any byte value, unused bytes zero. */
void rand_msg(sc_rng *r, unsigned type, sc_msg *m);

/* A random type in [1, SC_MSG_TYPE_END). */
unsigned rand_type(sc_rng *r);

/* The form a decoder returns: m's fields copied into zeroed memory (padding
 * and unused slots zero), flags as 0 or 1. */
void canonical(const sc_msg *m, sc_msg *c);

void check_ref_eq(const sc_ref *a, const sc_ref *b);

/* Field by field; flags compare as booleans. */
void check_msg_eq(const sc_msg *a, const sc_msg *b);

/*
 * Encodes m with map (every address addr_len bytes), checks the size against
 * sc_wire_size(), decodes, and checks the result equal to m field by field
 * and byte for byte (unused slots and padding zeroed) in canonical form.
 */
void check_roundtrip(const sc_msg *m, const sc_wire_addr_map *map, size_t addr_len);

/* Writes the version byte and a packed, hand-built Envelope; returns the
 * datagram's length. */
size_t pack_env(const Stripecast__Envelope *env, uint8_t *buf, size_t buflen);

/* After a successful decode of arbitrary bytes: the struct is within bounds
 * and encodes back to a datagram that decodes to the same struct. */
void check_decoded_sane(const sc_msg *m);

#endif
