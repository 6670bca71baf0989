/*
 * scribe.h — Scribe multicast trees over one Pastry peer, sans I/O.
 *
 * Castro, Druschel, Kermarrec & Rowstron, "Scribe" (IEEE JSAC 20(8), 2002):
 * a group is named by an id (group id = hash(name), §2); its root is the live
 * peer closest to that id. A JOIN is routed toward the group id and the first
 * peer on the route takes the joiner as a child; if that peer was not in the
 * tree it joins in turn, so the tree is the union of the members' routes
 * (§2.2). Parents heartbeat their children and a child that stops hearing its
 * parent finds a new one (§2.3). A multicast goes to the root and down the
 * tree. An anycast is routed toward the group and, at the first tree member,
 * becomes a depth-first search of the tree (children, then parent) for a
 * member that accepts it (SplitStream §4.2 uses it to find spare capacity).
 *
 * What a tree accepts is a *policy* (FreePastry's ScribePolicy): who may
 * become a child, whether an anycast is taken, and what to do when a parent
 * is lost or a join refused. SplitStream (splitstream.h) is such a policy;
 * without one, every join is accepted and a lost parent is found again by a
 * new JOIN, with the retry schedule of the config.
 *
 * A routed JOIN refused by a full peer that has no child in the group to push
 * the joiner down to travels on toward the root instead of being refused
 * there, and so do a JOIN and an ANYCAST that reach a peer below their
 * origin. A parent that drops a child within the longest wait of the search
 * schedule (2 x 16 x join_timeout_ns) does not restart the count of failed
 * searches the child's policy sees (find_parent's attempt): the search it
 * ended goes on, one failure further; the waits between searches restart.
 *
 * Every path message carries the sender's ancestors (64-bit id prefixes) so a
 * peer refuses a child that is its own ancestor and a peer that finds itself
 * on its new path leaves that parent: trees stay acyclic (SplitStream §4.2).
 *
 * Re-entrancy: the owner routes Pastry's forward/deliver upcalls for the
 * Scribe route kinds into sc_scribe_forward()/sc_scribe_deliver(), Scribe
 * messages into sc_scribe_recv(), and dead peers into sc_scribe_peer_failed()
 * (which defers its work to the next expiry).
 */
#ifndef SC_SCRIBE_H
#define SC_SCRIBE_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "msg.h"
#include "pastry.h"

#define SC_SCRIBE_GROUPS_MAX   SC_SCRIBE_HB_GROUPS /* groups one peer takes part in */
#define SC_SCRIBE_CHILDREN_MAX 65535u              /* the largest children_max */
/* The largest heartbeat_ns and heartbeat_misses: a child's times are kept
 * modulo 2^48 ns (78 hours), and its silence must stay far below that. */
#define SC_SCRIBE_HEARTBEAT_MAX_NS     (3600ull * 1000000000ull)
#define SC_SCRIBE_HEARTBEAT_MISSES_MAX 16u

typedef struct sc_scribe sc_scribe;

typedef struct sc_scribe_config {
  /* Parent -> child heartbeat period; FreePastry's 2003 Scribe: 10 s. At
   * most SC_SCRIBE_HEARTBEAT_MAX_NS (an hour). */
  uint64_t heartbeat_ns;
  /* Heartbeat periods without word before a tree neighbour is dead: 2. At
   * most SC_SCRIBE_HEARTBEAT_MISSES_MAX. */
  uint32_t heartbeat_misses;
  /* First wait for an answer to a join, doubled on each retry: 5 s. */
  uint64_t join_timeout_ns;
  /* Children one group may hold (a bound on memory, even with no policy
   * bound): 4,096; at most SC_SCRIBE_CHILDREN_MAX. */
  uint32_t children_max;
} sc_scribe_config;

void sc_scribe_config_default(sc_scribe_config *c);

/* The policy: every hook optional. `user` is the pointer given to
 * sc_scribe_new(). Hooks may call the sc_scribe_* functions below. */
/* Flag in a routed join's app_id: the joiner has children in the group. */
#define SC_SCRIBE_JOIN_FORWARDER 1u

typedef struct sc_scribe_policy {
  /* A join for group g from newcomer reached this peer (routed or direct).
   * Return true to take newcomer as a child. The policy may first make room
   * with sc_scribe_drop_child(). Without a hook: true. Loops are refused
   * before the hook is asked. forwarder: the newcomer said (in a routed
   * join's app_id, SC_SCRIBE_JOIN_FORWARDER) that it has children in g, so
   * refusing it orphans a whole subtree. */
  bool (*admit)(void *user, unsigned g, const sc_ref *newcomer, bool forwarder,
                uint64_t now);
  /* An anycast for group g reached this tree member. Return true when taken
   * (the policy answers the requester itself, e.g. by sc_scribe_adopt()). */
  bool (*anycast_take)(void *user, unsigned g, const sc_msg_anycast *a, uint64_t now);
  /* Group g needs a parent (after a join timed out, a drop, a dead parent):
   * attempt counts the tries since the last parent, 0 first. drop is the
   * refusal or drop that caused it, or NULL. Return true if the policy
   * started a search itself; false lets Scribe route a new JOIN. */
  bool (*find_parent)(void *user, unsigned g, unsigned attempt,
                      const sc_msg_scribe_drop *drop, uint64_t now);
  /* The anycast this peer started toward group id with app_id found no
   * taker. */
  void (*anycast_failed)(void *user, const sc_id *group, uint64_t app_id, uint64_t now);
  /* A multicast on group g arrived, for a member of g (before it goes on to
   * the children). Return true to keep it from the children: the owner
   * forwards it itself, if at all, with sc_scribe_multicast_children() (the
   * signed stream checks it first). */
  bool (*multicast)(void *user, unsigned g, const sc_msg_multicast *m, uint64_t now);
  /* g's parent, or this peer's children, changed. */
  void (*tree_changed)(void *user, unsigned g, uint64_t now);
} sc_scribe_policy;

/* Sends through the owner, like sc_pastry_callbacks.send. */
typedef void (*sc_scribe_send_fn)(void *user, sc_addr to, const sc_msg *msg);

/*
 * Creates the Scribe layer of pastry's peer. cfg, policy may be NULL; alloc
 * NULL is libc. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_scribe_new(sc_scribe **out, sc_pastry *pastry, const sc_scribe_config *cfg,
                  const sc_scribe_policy *policy, sc_scribe_send_fn send,
                  const sc_alloc *alloc, void *user, uint64_t seed, uint64_t now);
void sc_scribe_del(sc_scribe *s);

/* Registers group id (idempotent) and returns its index g >= 0, or
 * SC_ERR_FULL beyond SC_SCRIBE_GROUPS_MAX, or SC_ERR_NOMEM. Registering
 * joins nothing. */
int sc_scribe_group(sc_scribe *s, const sc_id *id);
/* The index of group id, or SC_ERR_NOT_FOUND. */
int sc_scribe_group_find(const sc_scribe *s, const sc_id *id);

/* Completes *id, a group named by its first 64 bits (id->lo 0: core/wire.h),
 * from the groups this node takes part in; false if none matches. */
bool sc_scribe_group_complete(const sc_scribe *s, sc_id *id);
const sc_id *sc_scribe_group_id(const sc_scribe *s, unsigned g);

/* Subscribes to group g: becomes a member and, unless already in the tree,
 * starts looking for a parent. Returns 0 or SC_ERR_NOMEM. */
int sc_scribe_subscribe(sc_scribe *s, unsigned g, uint64_t now);
/* Stops being a member of g; leaves the tree once no child needs it. */
int sc_scribe_unsubscribe(sc_scribe *s, unsigned g, uint64_t now);

/*
 * A polite departure (a crash sends nothing). sc_scribe_depart tells every
 * child, in every group, that this peer is leaving (a SCRIBE_LEAVE from a
 * parent); each child searches for a new parent at once while this peer keeps
 * forwarding to it, and switches (leaving this peer) when one accepts. From
 * then on this peer takes no new child and lets routed joins pass. Returns
 * the notices sent. After a grace period the host calls
 * sc_scribe_depart_finish, which leaves every parent, and then stops the peer.
 */
int sc_scribe_depart(sc_scribe *s, uint64_t now);
void sc_scribe_depart_finish(sc_scribe *s, uint64_t now);
bool sc_scribe_departing(const sc_scribe *s);

/*
 * Lets every child of g go at once (a SCRIBE_DROP naming no one; each
 * searches for another parent and asks it for what it missed), then leaves
 * g's tree unless this peer is a member. Nothing for g's root or a group
 * without children. Returns the children dropped.
 */
int sc_scribe_release_children(sc_scribe *s, unsigned g, uint64_t now);

/* Routes a publish toward group id; its root multicasts it down the tree. */
int sc_scribe_publish(sc_scribe *s, const sc_id *group, uint32_t seq, uint64_t now);
/* A publisher locating a group's root (Scribe §2.2): routes to the group id;
 * the peer where the route ends becomes the root if it was not and answers
 * with SC_MSG_SCRIBE_ROOT (is_root 1). The publisher then sends MULTICAST of
 * depth 0 straight to that peer, which multicasts them if it is still the
 * root and otherwise answers SCRIBE_ROOT with is_root 0. The answers are the
 * owner's to handle (sc_scribe_recv ignores them). */
int sc_scribe_locate_root(sc_scribe *s, const sc_id *group, uint64_t now);
/* Multicasts mc down the tree of mc->group from this peer, which must be its
 * root (a publisher that is its own stripe's root). Returns 0 or
 * SC_ERR_NOT_FOUND (not the root). */
int sc_scribe_publish_local(sc_scribe *s, const sc_msg_multicast *mc, uint64_t now);
/* Sends m (as received, at m->depth) to the current children of its group,
 * at depth + 1: a multicast the policy held. Returns 0 or SC_ERR_NOT_FOUND. */
int sc_scribe_multicast_children(sc_scribe *s, const sc_msg_multicast *m, uint64_t now);
/* Starts an anycast toward group id carrying app_id (Scribe §2.3). */
int sc_scribe_anycast(sc_scribe *s, const sc_id *group, uint64_t app_id, uint64_t now);

/* --- for policies --- */

/* Takes child into g and tells it (a path message with accept). */
int sc_scribe_adopt(sc_scribe *s, unsigned g, const sc_ref *child, uint64_t now);
/* Removes child from g and tells it (a drop naming g's other children, for
 * push-down). heir, if not NULL, is the newcomer the policy makes room for: it
 * is named among the candidates too, since it is the dropper's child by the
 * time the orphan asks (SplitStream §4.2's push-down to former siblings).
 * Returns 0 or SC_ERR_NOT_FOUND. */
int sc_scribe_drop_child(sc_scribe *s, unsigned g, const sc_ref *child,
                         const sc_ref *heir, uint64_t now);
/* Sends a join for g straight to peer `to` (push-down), or routes one toward
 * g's id when to is NULL. Either way g waits for an answer until the
 * current attempt's timeout. */
int sc_scribe_join_via(sc_scribe *s, unsigned g, const sc_ref *to, uint64_t now);
/* The owner finds g's parent alive but useless (its data stopped): search
 * for another parent while keeping this one until one accepts, as when a
 * parent leaves politely. Returns 0. */
int sc_scribe_switch_parent(sc_scribe *s, unsigned g, uint64_t now);
/* Sets when g, still without a parent, next calls find_parent. */
void sc_scribe_retry_at(sc_scribe *s, unsigned g, uint64_t at_ns);

/* --- state --- */

const sc_ref *sc_scribe_self(const sc_scribe *s);
unsigned sc_scribe_groups(const sc_scribe *s);
bool sc_scribe_is_member(const sc_scribe *s, unsigned g);
bool sc_scribe_is_root(const sc_scribe *s, unsigned g);
/* In the tree with a way to the root: the root, or a peer with a parent. */
bool sc_scribe_attached(const sc_scribe *s, unsigned g);
/* g's parent into out; false if none. */
bool sc_scribe_parent(const sc_scribe *s, unsigned g, sc_ref *out);
unsigned sc_scribe_children(const sc_scribe *s, unsigned g);
/* Child i of g into out; false if i is out of range. */
bool sc_scribe_child_at(const sc_scribe *s, unsigned g, unsigned i, sc_ref *out);
/* How long ago (ns) child i of g was adopted; 0 if i is out of range. */
uint64_t sc_scribe_child_age_ns(const sc_scribe *s, unsigned g, unsigned i, uint64_t now);
/* Children summed over all groups. */
unsigned sc_scribe_children_total(const sc_scribe *s);
/* Depth of this peer in g's tree as it knows it (root 0). */
unsigned sc_scribe_depth(const sc_scribe *s, unsigned g);
/* True if the peer with id prefix p64 is on this peer's path to g's root
 * (this peer included). */
bool sc_scribe_on_path(const sc_scribe *s, unsigned g, uint64_t p64);

uint64_t sc_scribe_get_expiry(const sc_scribe *s);

/* Hints for a host that knows which peer gets which message next (the
 * simulator's prefetch pipeline), each once the lines the one before asked
 * for are in cache; no effect on behaviour. sc_scribe_prefetch: the lines
 * of s that every message and sc_scribe_get_expiry read;
 * sc_scribe_prefetch_msg: the group a MULTICAST names;
 * sc_scribe_prefetch_children: that group's children (whom it forwards to). */
void sc_scribe_prefetch(const sc_scribe *s);
void sc_scribe_prefetch_msg(const sc_scribe *s, const sc_msg *m);
void sc_scribe_prefetch_children(const sc_scribe *s, const sc_msg *m);
/* Then, for a host that prefetches its own state of each peer a MULTICAST
 * will be forwarded to: up to max of that group's children into out; their
 * number. */
unsigned sc_scribe_prefetch_targets(const sc_scribe *s, const sc_msg *m, sc_addr *out,
                                    unsigned max);
int sc_scribe_handle_expiry(sc_scribe *s, uint64_t now);

/* Entry points for the owner (see the note on re-entrancy above). */
bool sc_scribe_forward(sc_scribe *s, const sc_msg *route_msg, uint64_t now);
void sc_scribe_deliver(sc_scribe *s, const sc_msg *route_msg, uint64_t now);
/* Returns 0, SC_ERR_INVALID (counted, dropped) or SC_ERR_NOMEM. */
int sc_scribe_recv(sc_scribe *s, const sc_msg *msg, uint64_t now);
void sc_scribe_peer_failed(sc_scribe *s, const sc_ref *dead, uint64_t now);

typedef struct sc_scribe_stats {
  uint64_t msgs_sent, msgs_recv, msgs_invalid;
  uint64_t joins_routed, joins_direct, adoptions, drops_sent, drops_recv;
  uint64_t joins_passed; /* refused with no push-down candidate, passed on */
  uint64_t parents_lost, parents_leaving, loops_refused, loops_passed, loops_broken;
  uint64_t anycasts_started, anycast_steps, anycasts_taken, anycasts_failed;
  uint64_t multicasts_recv, multicasts_dup;
  uint64_t roots_located;     /* publishers told "I am the root" */
  uint64_t parents_switched;  /* sc_scribe_switch_parent searches */
  uint64_t publishes_direct;  /* MULTICASTs a publisher sent straight here */
  uint64_t refusals_deferred; /* refusals left to the retry timer: a routed
                                 join refused, or REFUSAL_SEARCHES_MAX */
} sc_scribe_stats;

void sc_scribe_get_stats(const sc_scribe *s, sc_scribe_stats *out);
size_t sc_scribe_mem_bytes(const sc_scribe *s);

#endif
