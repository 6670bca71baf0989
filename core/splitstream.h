/*
 * splitstream.h — the SplitStream forest: k stripe trees and the spare
 * capacity group, as a policy over Scribe (see scribe.h), sans I/O.
 *
 * Castro, Druschel, Kermarrec, Nandi, Rowstron & Singh, "SplitStream:
 * high-bandwidth multicast in cooperative environments" (SOSP 2003):
 *  - §4.1: k = 2^b stripes whose ids differ only in the first digit; a peer's
 *    primary stripe is the one sharing its first digit, and because prefix
 *    routing fixes one more digit per hop, the interior peers of a stripe's
 *    tree share that digit: the trees are interior-node-disjoint.
 *  - §4.2: each peer has a desired in-degree I (stripes it wants) and a
 *    forwarding capacity C (children summed over all stripes). A full peer
 *    that is asked to take a child in its primary stripe makes room: it drops
 *    a child of a non-primary stripe if it has one (chosen at random), else the
 *    primary-stripe child whose id shares the shortest prefix with the stripe
 *    id (possibly the newcomer; ours: of those, the one adopted last, the
 *    newcomer first). (Ours, not the paper's: the root of a stripe
 *    takes one child in it even when full, or a stripe whose id falls next to
 *    a peer without capacity could never be built.) A dropped peer (an orphan) first
 * tries the dropper's children, the newcomer it made room for included (push-down),
 * then anycasts to the spare capacity group,
 * which every peer with free capacity joins; a member adopts an orphan only if it
 * receives that stripe, has room, and the orphan is not on its own path to the stripe's
 * root.
 *  - The authors' 2003 timers: a parent search times out after
 *    (1 + U[0,1)) x 5 s, doubling each retry up to 16 x (scribe.h's schedule); after five
 *    failures the orphan also anycasts inside the stripe tree itself, where a
 *    full peer makes room by dropping a child of another non-primary stripe.
 *    (Ours: any receiver of the stripe, not only its primary forwarders, so
 *    that room can be made where no peer with spare capacity receives the
 *    stripe; and an orphan that carries a subtree in the stripe does this from
 *    its first retry on. A parent that drops a peer soon after taking it does
 *    not restart its count of failures, see scribe.h.)
 *
 * The owner (core/node.h) wires Scribe's policy hooks to the sc_splitstream_*
 * policy functions below.
 */
#ifndef SC_SPLITSTREAM_H
#define SC_SPLITSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "msg.h"
#include "scribe.h"

#define SC_STRIPES_MAX        SC_ID_BASE /* k <= 2^b */
#define SC_CAPACITY_UNBOUNDED UINT32_MAX

typedef struct sc_splitstream sc_splitstream;

typedef struct sc_splitstream_config {
  uint32_t stripes;            /* k: 1, 2, 4, 8 or 16; default 16 */
  uint32_t in_degree;          /* I: stripes wanted, <= k; default k; 0: none */
  uint32_t capacity;           /* C: children over all stripes; default k;
                                  SC_CAPACITY_UNBOUNDED: no bound */
  uint32_t pushdown_max;       /* push-down steps per search; default 8 */
  uint32_t tree_anycast_after; /* failed searches before anycasting inside
                                  the stripe tree; default 5 */
} sc_splitstream_config;

void sc_splitstream_config_default(sc_splitstream_config *c);

typedef struct sc_splitstream_callbacks {
  /* The multicast of a stripe this peer wants arrived. Optional. */
  void (*stripe_data)(void *user, unsigned stripe, const sc_msg_multicast *m,
                      uint64_t now);
  /* This peer's parent in a stripe changed: attached or not. Optional. */
  void (*stripe_changed)(void *user, unsigned stripe, bool attached, uint64_t now);
} sc_splitstream_callbacks;

/* The stripe ids of a channel: stripe i is the channel id with its first
 * digit set to i * 16 / k (SplitStream §4.1). */
sc_id sc_splitstream_stripe_id(const sc_id *channel, unsigned stripes, unsigned i);
/* The spare capacity group of a channel: hash of the channel id and a tag. */
sc_id sc_splitstream_spare_id(const sc_id *channel);
/* The stripe a peer forwards: the one sharing its first digit. */
unsigned sc_splitstream_primary(const sc_id *peer, unsigned stripes);

/*
 * Creates the forest state of one peer on top of scribe (which must already
 * exist) for channel; registers the k stripe groups and the spare capacity
 * group with scribe. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_splitstream_new(sc_splitstream **out, sc_scribe *scribe, const sc_id *channel,
                       const sc_splitstream_config *cfg,
                       const sc_splitstream_callbacks *cb, const sc_alloc *alloc,
                       void *user, uint64_t seed);
void sc_splitstream_del(sc_splitstream *ss);

/* Subscribes to I stripes: the primary stripe and I-1 others at random.
 * Call once the Pastry peer has joined. */
int sc_splitstream_start(sc_splitstream *ss, uint64_t now);

/* The source's side: publishes message seq on every stripe. */
int sc_splitstream_publish(sc_splitstream *ss, uint32_t seq, uint64_t now);

/* --- Scribe policy hooks (see sc_scribe_policy) --- */
bool sc_splitstream_admit(sc_splitstream *ss, unsigned g, const sc_ref *newcomer,
                          bool forwarder, uint64_t now);
bool sc_splitstream_anycast_take(sc_splitstream *ss, unsigned g, const sc_msg_anycast *a,
                                 uint64_t now);
bool sc_splitstream_find_parent(sc_splitstream *ss, unsigned g, unsigned attempt,
                                const sc_msg_scribe_drop *drop, uint64_t now);
void sc_splitstream_anycast_failed(sc_splitstream *ss, const sc_id *group,
                                   uint64_t app_id, uint64_t now);
void sc_splitstream_multicast(sc_splitstream *ss, unsigned g, const sc_msg_multicast *m,
                              uint64_t now);
void sc_splitstream_tree_changed(sc_splitstream *ss, unsigned g, uint64_t now);

/* --- state --- */

unsigned sc_splitstream_stripes(const sc_splitstream *ss);
/* The Scribe group index of stripe i; of the spare capacity group. */
unsigned sc_splitstream_group(const sc_splitstream *ss, unsigned stripe);
unsigned sc_splitstream_spare_group(const sc_splitstream *ss);
/* The stripe of Scribe group g, or -1. */
int sc_splitstream_stripe_of(const sc_splitstream *ss, unsigned g);
bool sc_splitstream_wants(const sc_splitstream *ss, unsigned stripe);
/* Children summed over the stripes (the spare capacity group not counted). */
unsigned sc_splitstream_load(const sc_splitstream *ss);
/* Children the peer may hold beyond its capacity: one per stripe it is the
 * root of (and forwards), see sc_splitstream_admit. */
unsigned sc_splitstream_root_allowance(const sc_splitstream *ss);
const sc_splitstream_config *sc_splitstream_config_get(const sc_splitstream *ss);

typedef struct sc_splitstream_stats {
  uint64_t pushdowns;        /* joins sent to a dropper's child */
  uint64_t spare_anycasts;   /* searches in the spare capacity group */
  uint64_t tree_anycasts;    /* last-resort searches inside a stripe tree */
  uint64_t anycast_failures; /* searches that found no taker */
  uint64_t drops_primary;    /* primary-stripe children dropped */
  uint64_t drops_nonprimary; /* non-primary children dropped to make room */
  uint64_t adoptions;        /* orphans adopted through an anycast */
  uint64_t root_overflows;   /* children a full root took in its own stripe */
} sc_splitstream_stats;

/* How a peer found its current parent in a stripe (the search that ended
 * with the parent's acceptance); for measurement. */
typedef enum sc_splitstream_via {
  SC_VIA_NONE = 0,          /* never attached, or the stripe's root */
  SC_VIA_ROUTED = 1,        /* a routed join toward the stripe id */
  SC_VIA_PUSHDOWN = 2,      /* a join sent to a dropper's child (§4.2) */
  SC_VIA_SPARE_ANYCAST = 3, /* the spare capacity group (§4.3) */
  SC_VIA_TREE_ANYCAST = 4,  /* the anycast inside the stripe tree */
} sc_splitstream_via;
#define SC_VIA_KINDS 5
sc_splitstream_via sc_splitstream_parent_via(const sc_splitstream *ss, unsigned stripe);

void sc_splitstream_get_stats(const sc_splitstream *ss, sc_splitstream_stats *out);
/* Bytes this peer's forest state holds (its Scribe groups not included). */
size_t sc_splitstream_mem_bytes(const sc_splitstream *ss);

#endif
