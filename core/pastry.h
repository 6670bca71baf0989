/*
 * pastry.h — one peer of the Pastry overlay, sans I/O.
 *
 * The peer never reads a clock, opens a socket or prints: every entry point is
 * told the time (`now`, integer nanoseconds of a monotonic clock), messages are
 * handed in with sc_pastry_recv(), and everything the peer wants done goes out
 * through the callbacks given at creation (docs/ARCHITECTURE.md §2, after ngtcp2).
 *
 * The peer keeps its own timers (heartbeats, leases, liveness probes, per-hop
 * acknowledgements) and exposes the earliest as one expiry: the owner arms one
 * timer per peer and calls sc_pastry_handle_expiry() when it fires.
 *
 * Protocol: Rowstron & Druschel, "Pastry" (Middleware 2001), with the failure
 * detection and repair of Castro, Costa & Rowstron, "Performance and
 * dependability of structured peer-to-peer overlays" (MSPastry, DSN 2004).
 */
#ifndef SC_PASTRY_H
#define SC_PASTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "msg.h"

typedef struct sc_pastry sc_pastry;

typedef struct sc_pastry_config {
  uint32_t leafset_size;     /* l, even, 2..SC_LEAFSET_MAX; default 16 */
  uint64_t heartbeat_ns;     /* leaf-set heartbeat period; default 20 s */
  uint64_t lease_ns;         /* silence before an adjacent neighbour is probed; 30 s */
  uint64_t probe_timeout_ns; /* wait for one liveness-probe answer; default 1 s */
  uint32_t probe_tries;      /* probes before a peer is declared dead; default 3 */
  uint64_t ack_timeout_ns;   /* per-hop ack wait when the RTT is unknown; 1 s */
  /* For a next hop whose RTT is unknown, wait 2 x the largest RTT measured to
   * any peer + 100 ms instead, when less than ack_timeout_ns. Default off (the
   * simulator's pinned results); the runtime turns it on. */
  bool ack_timeout_learned;
  uint32_t route_retries; /* alternative next hops tried per hop; default 8 */
  bool pns;               /* proximity neighbour selection; default on */
  /* Locality refinement 2 s after joining: ask this many entries of each
   * routing-table row for their row (0: never; default 8, at most 16). */
  uint32_t refine_per_row;
  /* Repeat the refinement this often (FreePastry's routing-table
   * maintenance); 0: only once (the default). */
  uint64_t rt_maintenance_ns;
} sc_pastry_config;

/* Fills c with the defaults above. */
void sc_pastry_config_default(sc_pastry_config *c);

/*
 * What the peer asks of its owner. Callbacks must not re-enter the peer.
 * `user` is the pointer given to sc_pastry_new().
 */
typedef struct sc_pastry_callbacks {
  /* Send msg to address to. msg is valid only during the call. Required. */
  void (*send)(void *user, sc_addr to, const sc_msg *msg);
  /* A routed message whose key this peer owns arrived (Pastry's deliver
   * upcall). msg->type is SC_MSG_ROUTE. Optional. */
  void (*deliver)(void *user, const sc_msg *msg, uint64_t now);
  /* The peer declared another peer dead. Optional. Must not call back into
   * the peer (it is in the middle of repairing its tables). */
  void (*peer_failed)(void *user, const sc_ref *dead, uint64_t now);
  /* A routed message of an application kind (>= SC_ROUTE_SCRIBE_JOIN) that
   * came from another peer is about to go on to a next hop (Pastry's forward
   * upcall, §2.2; Scribe §2.2 builds trees with it). Return false when the
   * application consumed it: it then goes no further. Optional. forward and
   * deliver may call sc_pastry_route(). */
  bool (*forward)(void *user, const sc_msg *msg, uint64_t now);
} sc_pastry_callbacks;

/*
 * Creates a peer with identity self. seed feeds its private PRNG; cfg may be
 * NULL for the defaults; alloc may be NULL for libc. The peer is idle until
 * sc_pastry_join(). Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_pastry_new(sc_pastry **pp, const sc_ref *self, uint64_t seed,
                  const sc_pastry_config *cfg, const sc_pastry_callbacks *cb,
                  const sc_alloc *alloc, void *user, uint64_t now);

/* Frees the peer and everything it owns. p may be NULL. Sends nothing. */
void sc_pastry_del(sc_pastry *p);

/*
 * Joins the overlay through bootstrap, a peer that is already in it (ideally a
 * nearby one: Pastry §2.4). With SC_ADDR_NONE the peer starts a new overlay
 * alone. Returns 0 or SC_ERR_INVALID if already joined.
 */
int sc_pastry_join(sc_pastry *p, sc_addr bootstrap, uint64_t now);

/*
 * Hands the peer a message that arrived for it. Malformed content (bad counts,
 * unknown type) is dropped and counted, never asserted. Returns 0 or
 * SC_ERR_INVALID for a dropped message; SC_ERR_NOMEM is fatal.
 */
int sc_pastry_recv(sc_pastry *p, const sc_msg *msg, uint64_t now);

/* The time at which sc_pastry_handle_expiry() must next be called,
 * UINT64_MAX if none. */
uint64_t sc_pastry_get_expiry(const sc_pastry *p);

/* Runs every timer due at or before now. Returns 0 or SC_ERR_NOMEM. */
int sc_pastry_handle_expiry(sc_pastry *p, uint64_t now);

/*
 * Starts routing a message of the given kind toward key (delivered here if this
 * peer owns key). Returns 0 or SC_ERR_NOMEM.
 */
int sc_pastry_route(sc_pastry *p, const sc_id *key, uint8_t kind, uint64_t app_id,
                    uint64_t now);

/* True if this peer is where a route toward key would end now: the live peer
 * numerically closest to key as far as its leaf set knows, a suspect counting
 * as live until it is declared dead (Scribe: the root of the group named
 * key). */
bool sc_pastry_owns(const sc_pastry *p, const sc_id *key);

/* --- Inspection (tests, the simulator's checks, status pages) --- */

const sc_ref *sc_pastry_self(const sc_pastry *p);
bool sc_pastry_is_joined(const sc_pastry *p);

/* An upper layer suspects r (a tree parent whose data stopped): probe it as
 * a silent neighbour is probed, waiting timeout_ns (0: probe_timeout_ns) for
 * each answer, and declare it dead through the peer_failed upcall if
 * probe_tries PINGs go unanswered (MSPastry §3.2). A probe already running
 * is left alone. Returns 0 or SC_ERR_NOMEM. */
int sc_pastry_probe(sc_pastry *p, const sc_ref *r, uint64_t timeout_ns, uint64_t now);

/* Copies up to max leaf-set members, left side then right side, each side
 * nearest first. Returns how many there are in all. */
unsigned sc_pastry_leafset(const sc_pastry *p, sc_ref *out, unsigned max,
                           unsigned *left_count);

/* Routing-table entry (row, col) into out. Returns true if the slot is set. */
bool sc_pastry_rt_entry(const sc_pastry *p, unsigned row, unsigned col, sc_ref *out,
                        uint32_t *rtt_us);

/* Counters a peer keeps about itself. */
typedef struct sc_pastry_stats {
  uint64_t msgs_sent;
  uint64_t msgs_recv;
  uint64_t msgs_dropped_invalid; /* malformed content */
  uint64_t routes_forwarded;
  uint64_t routes_delivered;
  uint64_t routes_dropped; /* no next hop left after retries */
  uint64_t reroutes;       /* per-hop ack timeouts answered by another hop */
  uint64_t routes_held;    /* kept at their last hop for a closer suspect's answer */
  uint64_t peers_declared_dead;
  uint32_t rt_entries;
  uint32_t pending_acks;
  uint32_t suspects;
} sc_pastry_stats;

void sc_pastry_get_stats(const sc_pastry *p, sc_pastry_stats *out);

/* A hint, for owners that know which peer they will hand a message next (the
 * simulator): start pulling the peer's state into the cache. No effect on
 * behaviour. */
void sc_pastry_prefetch(const sc_pastry *p);
/* The same for a message that is not Pastry's (the peer's expiry is read
 * after it): only the lines sc_pastry_get_expiry reads. */
void sc_pastry_prefetch_expiry(const sc_pastry *p);

/* A second hint, once p's state is in cache: start loading the routing-table
 * slots that receiving m will look at (its sender's, a route's key's, and
 * those of the peers a LEAFSET or ROW names). No effect on behaviour. */
void sc_pastry_prefetch_msg(const sc_pastry *p, const sc_msg *m);

/* Bytes this peer holds through its allocator (state size per peer). */
size_t sc_pastry_mem_bytes(const sc_pastry *p);

#endif
