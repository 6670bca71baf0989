/*
 * guard.h — per-neighbour limits on what a peer accepts, sans I/O.
 *
 * A peer on an open overlay answers requests from anyone: a REPAIR_REQ of a
 * few dozen bytes makes it send up to 16 chunks (16 KB), a STATE_REQ the
 * station's state, a PING a PONG, a ROUTE or an ANYCAST work for the whole
 * path. A neighbour that floods them, or keeps sending datagrams that do not
 * decode or that claim another sender, must cost a bounded amount whatever
 * it sends. The guard keeps, per sender (its UDP source address and port),
 *
 *  - a token bucket for requests: SC_GUARD_REQ_BURST tokens at once, refilled
 *    at SC_GUARD_REQ_PER_S; a request costs what it asks for (a REPAIR_REQ one
 *    token a chunk it wants, so the answer bytes a sender can buy are bounded,
 *    spoofed or not; others one), and one beyond the budget is dropped
 *    (counted limited);
 *  - a strike score for garbage: each malformed or spoofed datagram adds
 *    one, the score decays by one a second; at SC_GUARD_STRIKES_MAX the
 *    sender is ignored for SC_GUARD_IGNORE_NS (every datagram from it is
 *    dropped before it is decoded).
 *
 * Memory is a fixed table of SC_GUARD_SLOTS senders (open addressing over
 * SC_GUARD_PROBE slots): a sender that finds no room takes the slot of the
 * one heard from longest ago among its probes, ignored senders last, so any
 * number of senders costs the same and an ignored sender is forgotten early
 * only when all its probes hold ignored senders. The bounds are far above what an honest
 * neighbour sends: a child's catch-up after a crash is one request per missing
 * generation, repair pulls one per generation per 300 ms (core/channel.c).
 */
#ifndef SC_GUARD_H
#define SC_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"

#define SC_GUARD_SLOTS       256            /* senders remembered (a power of two) */
#define SC_GUARD_PROBE       8              /* slots a sender may occupy */
#define SC_GUARD_REQ_BURST   512            /* requests at once */
#define SC_GUARD_REQ_PER_S   256            /* requests a second, sustained */
#define SC_GUARD_STRIKES_MAX 64             /* garbage datagrams (less one a second) */
#define SC_GUARD_IGNORE_NS   30000000000ull /* 30 s */

typedef enum sc_guard_verdict {
  SC_GUARD_PASS = 0,    /* take it */
  SC_GUARD_LIMITED = 1, /* a request over the sender's budget: drop it */
  SC_GUARD_IGNORED = 2, /* the sender is ignored: drop it undecoded */
} sc_guard_verdict;

typedef struct sc_guard_stats {
  uint64_t limited; /* requests dropped over budget */
  uint64_t ignored; /* datagrams dropped from ignored senders */
  uint64_t strikes; /* garbage datagrams counted */
  uint64_t ignores; /* times a sender began to be ignored */
  uint64_t evicted; /* senders forgotten for room */
} sc_guard_stats;

typedef struct sc_guard sc_guard;

int sc_guard_new(sc_guard **out, const sc_alloc *alloc);
void sc_guard_del(sc_guard *g);

/* A datagram from ip:port arrived (before decoding): SC_GUARD_IGNORED while
 * the sender is ignored, else SC_GUARD_PASS. */
sc_guard_verdict sc_guard_arrival(sc_guard *g, uint32_t ip, uint16_t port, uint64_t now);
/* A decoded request from ip:port costing cost tokens (1 to
 * SC_GUARD_REQ_BURST): SC_GUARD_PASS within its budget (the tokens taken),
 * else SC_GUARD_LIMITED (none taken). */
sc_guard_verdict sc_guard_request(sc_guard *g, uint32_t ip, uint16_t port, unsigned cost,
                                  uint64_t now);
/* A datagram from ip:port was garbage (did not decode, or named another
 * sender). */
void sc_guard_strike(sc_guard *g, uint32_t ip, uint16_t port, uint64_t now);

void sc_guard_get_stats(const sc_guard *g, sc_guard_stats *out);

#endif
