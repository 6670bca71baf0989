/*
 * pastry.c — one Pastry peer, sans I/O (see pastry.h).
 *
 * Join (Pastry §2.4): the newcomer J routes a JOIN toward its own id through a
 * bootstrap peer. Every peer on the route sends J the routing-table rows J does
 * not have yet (row r of a peer sharing r digits with J is valid for J); the
 * peer where the route ends, J's numerically closest, sends its leaf set. J
 * probes every peer it learns of (measuring RTTs for proximity neighbour
 * selection, §2.5) with an *announce* PING, which tells that peer about J in
 * turn; a peer that newly puts another into its leaf set sends it its own
 * leaf set, so concurrent joiners of adjacent ids still find each other
 * (MSPastry §3.1's leaf-set probing, simplified).
 *
 * Failure detection and repair (MSPastry §3.2): each peer heartbeats its two
 * adjacent leaf-set neighbours; silence beyond a lease, or a missing per-hop
 * acknowledgement, makes a peer a *suspect* that is probed a few times before
 * it is declared dead. A dead leaf-set member is announced to the rest of the
 * leaf set (a LEAFSET message carrying the failed id, answered with leaf sets
 * from which the hole is refilled); a dead routing-table entry is replaced from
 * the same row of another entry. A routed message whose next hop does not
 * acknowledge is sent through an alternative next hop, but it is not
 * delivered short of a closer leaf-set member that is only suspected
 * before that peer had a probe timeout to answer (pastry_hold), so that a
 * key's routes end at one root even while its owner is slow to answer.
 */
#include "pastry.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "err.h"
#include "leafset.h"
#include "rng.h"
#include "rtable.h"

#define FAILED_SET_MAX 8                        /* recently dead peers remembered */
#define FAILED_TTL_NS  (300ull * 1000000000ull) /* forgotten after 5 minutes */
#define SUSPECTS_MAX   64                       /* concurrent liveness probes */
#define ACKS_MAX       256        /* routed messages awaiting a per-hop ack */
#define FAILED_CLEARED UINT64_MAX /* a failed-set slot whose peer spoke again */
/* Peers probed lately, not probed again: RECENT_SETS sets of RECENT_WAYS,
 * an address always in the same set, each set a ring. 64 rather than the
 * 16 of one ring: a refinement's four answers per row name up to 60 peers,
 * many twice, and every duplicate probe costs three messages (10^4 peers:
 * 16 -> 32 -> 64 -> 128 entries, 564 -> 506 -> 490 -> 486 messages a peer).
 * One set, addresses and times, is one cache line. */
#define RECENT_SETS    8
#define RECENT_WAYS    8
#define RECENT_PING_NS (2ull * 1000000000ull)
/* Their times are kept in units of 2^20 ns (~1 ms), 32 bits: a stale entry
 * could look recent again only after 52 days, and then cost one probe.
 * The sets (512 bytes) exist only while an entry is recent: allocated by
 * the first probe, given back at the leaf-set heartbeat once the newest
 * entry has aged out (at a million peers, 0.5 GB that joining needs and a
 * built overlay does not; the forest's children arrays reuse them). */
#define RECENT_TIME_SHIFT 20
#define RECENT_UNITS      (RECENT_PING_NS >> RECENT_TIME_SHIFT)
#define REFINE_DELAY_NS   (2ull * 1000000000ull)
/* A join whose answer does not come is sent again after 4 s, doubling up to
 * 32 s: one lost datagram on the join's path (2% loss, several hops) must not
 * keep a listener out of the stream for half a minute (it did, on real peers
 * with a flat 30 s), and a slow overlay is not flooded with retries. */
#define JOIN_RETRY_NS            (4ull * 1000000000ull)
#define JOIN_RETRY_DOUBLINGS_MAX 3
#define ROUTE_HOPS_MAX           64 /* a route this long is looping through stale state */
#define ACK_MARGIN_NS            (100ull * 1000000ull)

enum pastry_state { STATE_IDLE, STATE_JOINING, STATE_JOINED };

typedef struct pastry_suspect {
  sc_ref ref;
  uint64_t deadline_ns;
  uint64_t timeout_ns; /* per probe */
  uint32_t tries_left;
} pastry_suspect;

typedef struct pastry_pending_ack {
  uint64_t deadline_ns;
  sc_ref to; /* the next hop */
  uint32_t retries_left;
  bool held;          /* not awaiting an ack but a verdict on `to` (pastry_hold) */
  sc_msg_route route; /* kept to resend through another hop */
} pastry_pending_ack;

typedef struct pastry_recent {
  sc_addr addr;
  uint32_t t; /* units of 2^RECENT_TIME_SHIFT ns */
} pastry_recent;

typedef struct pastry_failed {
  sc_id id;
  uint64_t at_ns;
} pastry_failed;

/*
 * Hot fields first. At 10^5 peers and more every message finds its peer's
 * state out of cache, so what a PING or PONG touches (the header, the send
 * callback, the two configuration words it reads, the routing table's header
 * and the leaf set's header with its far distances) is packed into the first
 * four cache lines, which sc_pastry_prefetch loads; the leaf-set members, the
 * full configuration and callbacks, counters and bookkeeping for rarer
 * events follow.
 */
struct sc_pastry {
  /* Line 0. */
  sc_ref self;
  uint8_t state;
  uint8_t nfailed;
  bool pns; /* cfg.pns */
  uint8_t spare_;
  sc_addr watched_left, watched_right; /* adjacent neighbours under lease */
  uint32_t nsuspects, nacks;
  uint16_t ls_gen_seen; /* ls.gen when the watch last looked at the leaf set */
  uint64_t heard_left_ns, heard_right_ns;
  /* Line 1. */
  uint64_t hb_next_ns;
  uint64_t refine_at_ns; /* next routing-table refinement; 0: none */
  uint64_t join_deadline_ns;
  pastry_suspect *suspects;
  pastry_pending_ack *acks;
  uint64_t msgs_sent, msgs_recv; /* the two counters every message moves */
  void *user;
  /* Lines 2-3. */
  void (*send)(void *user, sc_addr to, const sc_msg *msg); /* cb.send */
  const sc_alloc *alloc;
  uint64_t lease_ns; /* cfg.lease_ns */
  /* A joiner hears of the same neighbours from a dozen leaf sets before the
   * first answers return; these sets keep it from probing each a dozen
   * times. Each message reads one set, one line (prefetched with the slots,
   * sc_pastry_prefetch_msg). RECENT_SETS sets of RECENT_WAYS, or NULL while
   * none is recent (RECENT_TIME_SHIFT). */
  pastry_recent (*recent)[RECENT_WAYS];
  sc_rtable rt;
  sc_leafset ls; /* its header is hot, its members less so */
  /* Cold. */
  uint32_t recent_last; /* the newest entry's time, RECENT_TIME_SHIFT units */
  sc_pastry_config cfg;
  sc_pastry_callbacks cb;
  uint32_t seq_next;
  uint8_t failed_next;
  uint8_t join_attempts; /* joins sent without an answer, for the backoff */
  sc_rng rng;
  sc_addr bootstrap;
  uint32_t suspects_cap, acks_cap;
  uint32_t rtt_max_us; /* the largest RTT measured to any peer; 0: none yet */
  uint8_t recent_ping_next[RECENT_SETS];
  /* FAILED_SET_MAX slots, allocated at the first death this peer declares:
   * most peers of a quiet overlay never need them (192 bytes a peer). */
  pastry_failed *failed;
  struct { /* sc_pastry_stats' counters, less the hot two above */
    uint64_t msgs_dropped_invalid, routes_forwarded, routes_delivered, routes_dropped,
        reroutes, routes_held, peers_declared_dead;
  } stats;
};

/* The hot part: up to and including the leaf set's header. */
_Static_assert(sizeof(pastry_recent) * RECENT_WAYS == 64, "one set, one cache line");
#define PASTRY_HOT_BYTES (offsetof(struct sc_pastry, ls) + offsetof(sc_leafset, left))

void sc_pastry_config_default(sc_pastry_config *c) {
  c->leafset_size = SC_LEAFSET_MAX;
  c->heartbeat_ns = 20ull * 1000000000ull; /* FreePastry: leaf-set ping every 20 s */
  c->lease_ns = 30ull * 1000000000ull;     /* ... with a 30 s lease */
  c->probe_timeout_ns = 1000000000ull;
  c->probe_tries = 3;
  c->ack_timeout_ns = 1000000000ull;
  c->ack_timeout_learned = false;
  c->route_retries = 8;
  c->pns = true;
  c->refine_per_row = 8;
  c->rt_maintenance_ns = 0;
}

/* ------------------------------------------------------------------ sending */

static void pastry_send(sc_pastry *p, sc_addr to, sc_msg *m) {
  m->sender = p->self;
  p->msgs_sent++;
  p->send(p->user, to, m);
}

static inline unsigned pastry_recent_set(sc_addr a) {
  return (unsigned)(((uint32_t)a * 0x9E3779B1u) >> 29) % RECENT_SETS;
}

/* While joining, every probe says so: peers answer but keep the joiner out of
 * their tables until its join completes and it announces itself. rtt_us
 * (announcements only; 0: none) makes the PING a one-way announcement. */
static void pastry_send_ping_rtt(sc_pastry *p, sc_addr to, bool announce, uint32_t rtt_us,
                                 uint64_t now) {
  if (p->recent == NULL) {
    /* Out of memory, the probe still goes; only its duplicates may too. */
    p->recent = p->alloc->malloc(RECENT_SETS * sizeof(*p->recent), p->alloc->user);
    if (p->recent) {
      for (unsigned k = 0; k < RECENT_SETS; k++) {
        p->recent_ping_next[k] = 0;
        for (unsigned i = 0; i < RECENT_WAYS; i++) {
          p->recent[k][i].addr = SC_ADDR_NONE;
          p->recent[k][i].t = 0;
        }
      }
    }
  }
  if (p->recent) {
    unsigned set = pastry_recent_set(to), way = p->recent_ping_next[set];
    p->recent[set][way].addr = to;
    p->recent[set][way].t = p->recent_last = (uint32_t)(now >> RECENT_TIME_SHIFT);
    p->recent_ping_next[set] = (uint8_t)((way + 1) % RECENT_WAYS);
  }
  sc_msg m;
  m.type = SC_MSG_PING;
  m.u.ping.sent_ns = now;
  m.u.ping.announce = announce && p->state == STATE_JOINED ? 1 : 0;
  m.u.ping.joining = p->state == STATE_JOINED ? 0 : 1;
  m.u.ping.rtt_us = m.u.ping.announce ? rtt_us : 0;
  pastry_send(p, to, &m);
}

static void pastry_send_ping(sc_pastry *p, sc_addr to, bool announce, uint64_t now) {
  pastry_send_ping_rtt(p, to, announce, 0, now);
}

static bool pastry_pinged_lately(const sc_pastry *p, sc_addr a, uint64_t now) {
  if (p->recent == NULL) return false;
  unsigned set = pastry_recent_set(a);
  uint32_t now32 = (uint32_t)(now >> RECENT_TIME_SHIFT);
  for (unsigned i = 0; i < RECENT_WAYS; i++)
    if (p->recent[set][i].addr == a &&
        (uint32_t)(now32 - p->recent[set][i].t) < RECENT_UNITS)
      return true;
  return false;
}

/* Forgets every recent probe: the sets go back to the allocator. */
static void pastry_recent_clear(sc_pastry *p) {
  p->alloc->free(p->recent, p->alloc->user);
  p->recent = NULL;
}

enum { LS_PLAIN = 0, LS_WANT_REPLY = 1, LS_JOIN_REPLY = 2, LS_REPLY = 4 };

static void pastry_send_leafset(sc_pastry *p, sc_addr to, unsigned flags,
                                const sc_id *failed_id) {
  sc_msg m;
  m.type = SC_MSG_LEAFSET;
  sc_msg_leafset *l = &m.u.leafset;
  l->want_reply = (flags & LS_WANT_REPLY) ? 1 : 0;
  l->join_reply = (flags & LS_JOIN_REPLY) ? 1 : 0;
  l->is_reply = (flags & (LS_REPLY | LS_JOIN_REPLY)) ? 1 : 0;
  l->nfailed = 0;
  if (failed_id) l->failed[l->nfailed++] = *failed_id;
  l->n = 0;
  unsigned count = sc_leafset_count(&p->ls);
  for (unsigned i = 0; i < count; i++) {
    const sc_ref *r = sc_leafset_at(&p->ls, i);
    bool dup = false; /* in small overlays a peer sits on both sides */
    for (unsigned j = 0; j < l->n && !dup; j++)
      dup = sc_id_eq(&l->e[j].id, &r->id);
    if (!dup && r->addr != to) l->e[l->n++] = *r;
  }
  pastry_send(p, to, &m);
}

static void pastry_send_row(sc_pastry *p, sc_addr to, unsigned row) {
  sc_msg m;
  m.type = SC_MSG_ROW;
  m.u.row.row = (uint8_t)row;
  m.u.row.n = 0;
  for (unsigned c = 0; c < SC_ID_BASE; c++) {
    const sc_rt_entry *e = sc_rtable_get(&p->rt, row, c);
    if (e && e->addr != to) {
      m.u.row.e[m.u.row.n].id = e->id;
      m.u.row.e[m.u.row.n].addr = e->addr;
      m.u.row.n++;
    }
  }
  pastry_send(p, to, &m);
}

/* ------------------------------------------------------- suspects and death */

static pastry_suspect *pastry_find_suspect(sc_pastry *p, const sc_id *id) {
  for (uint32_t i = 0; i < p->nsuspects; i++)
    if (sc_id_eq(&p->suspects[i].ref.id, id)) return &p->suspects[i];
  return NULL;
}

static bool pastry_addr_suspected(const sc_pastry *p, sc_addr a) {
  for (uint32_t i = 0; i < p->nsuspects; i++)
    if (p->suspects[i].ref.addr == a) return true;
  return false;
}

static bool pastry_recently_failed(const sc_pastry *p, const sc_id *id, uint64_t now) {
  for (unsigned i = 0; i < p->nfailed; i++)
    if (p->failed[i].at_ns != FAILED_CLEARED && sc_id_eq(&p->failed[i].id, id) &&
        now - p->failed[i].at_ns < FAILED_TTL_NS)
      return true;
  return false;
}

static void pastry_forget_failed(sc_pastry *p, const sc_id *id) {
  for (unsigned i = 0; i < p->nfailed; i++)
    if (sc_id_eq(&p->failed[i].id, id)) p->failed[i].at_ns = FAILED_CLEARED;
}

/* The pending-ack array goes back whenever it empties: a forest being built
 * keeps most of a million peers routing, each with a few hops in flight at
 * a time (104 bytes each), and an array kept per peer cost ~0.5 GB there.
 * (It regrows from 4 slots, doubling, exactly as before, so nothing else
 * changes.) */
static void pastry_acks_release(sc_pastry *p) {
  p->alloc->free(p->acks, p->alloc->user);
  p->acks = NULL;
  p->acks_cap = 0;
}

static int grow(sc_pastry *p, void **arr, uint32_t *cap, uint32_t cap_max, size_t elem) {
  if (*cap >= cap_max) return SC_ERR_FULL;
  uint32_t ncap = *cap ? *cap * 2 : 4;
  if (ncap > cap_max) ncap = cap_max;
  void *n = p->alloc->realloc(*arr, ncap * elem, p->alloc->user);
  if (n == NULL) return SC_ERR_NOMEM;
  *arr = n;
  *cap = ncap;
  return SC_OK;
}

/* Starts probing r unless it already is; it is declared dead if probe_tries
 * PINGs go unanswered (MSPastry §3.2). */
static int pastry_start_probe_t(sc_pastry *p, const sc_ref *r, uint64_t timeout_ns,
                                uint64_t now) {
  if (sc_id_eq(&r->id, &p->self.id) || pastry_find_suspect(p, &r->id)) return SC_OK;
  if (p->nsuspects == p->suspects_cap) {
    int rv = grow(p, (void **)&p->suspects, &p->suspects_cap, SUSPECTS_MAX,
                  sizeof(pastry_suspect));
    if (rv == SC_ERR_FULL) return SC_OK; /* bounded: probe it later */
    if (rv < 0) return rv;
  }
  pastry_suspect *s = &p->suspects[p->nsuspects++];
  s->ref = *r;
  s->tries_left = p->cfg.probe_tries > 0 ? p->cfg.probe_tries - 1 : 0;
  s->timeout_ns = timeout_ns;
  s->deadline_ns = now + timeout_ns;
  pastry_send_ping(p, r->addr, false, now);
  return SC_OK;
}

static int pastry_start_probe(sc_pastry *p, const sc_ref *r, uint64_t now) {
  return pastry_start_probe_t(p, r, p->cfg.probe_timeout_ns, now);
}

int sc_pastry_probe(sc_pastry *p, const sc_ref *r, uint64_t timeout_ns, uint64_t now) {
  return pastry_start_probe_t(p, r, timeout_ns ? timeout_ns : p->cfg.probe_timeout_ns,
                              now);
}

static void pastry_clear_suspect(sc_pastry *p, const sc_id *id) {
  for (uint32_t i = 0; i < p->nsuspects; i++) {
    if (sc_id_eq(&p->suspects[i].ref.id, id)) {
      p->suspects[i] = p->suspects[--p->nsuspects];
      return;
    }
  }
}

static int pastry_route_step(sc_pastry *p, sc_msg_route *route, const sc_ref *from,
                             uint32_t retries, uint64_t now);
static void pastry_deliver(sc_pastry *p, const sc_msg_route *route, uint64_t now);

static int pastry_declare_dead(sc_pastry *p, const sc_ref *dead, uint64_t now) {
  sc_ref d = *dead; /* dead may point into a table we are about to change */
  pastry_clear_suspect(p, &d.id);
  p->stats.peers_declared_dead++;
  if (p->failed == NULL)
    p->failed = p->alloc->calloc(FAILED_SET_MAX, sizeof(pastry_failed), p->alloc->user);
  if (p->failed != NULL) { /* out of memory: the death goes unremembered */
    pastry_failed *f = &p->failed[p->failed_next];
    f->id = d.id;
    f->at_ns = now;
    p->failed_next = (uint8_t)((p->failed_next + 1) % FAILED_SET_MAX);
    if (p->nfailed < FAILED_SET_MAX) p->nfailed++;
  }
  if (p->cb.peer_failed) p->cb.peer_failed(p->user, &d, now);

  bool in_ls = sc_leafset_remove(&p->ls, &d.id);
  int row = sc_rtable_remove(&p->rt, &d.id);

  if (in_ls) {
    /* MSPastry §3.2: tell the rest of the leaf set, and refill the hole from
     * their answers. */
    unsigned count = sc_leafset_count(&p->ls);
    for (unsigned i = 0; i < count; i++) {
      const sc_ref *r = sc_leafset_at(&p->ls, i);
      bool dup = i >= p->ls.nleft && sc_leafset_find(&p->ls, &r->id) != r;
      if (!dup) pastry_send_leafset(p, r->addr, LS_WANT_REPLY, &d.id);
    }
  }
  if (row >= 0) {
    /* Repair the slot from the same row of another entry (Pastry §2.4,
     * "routing table maintenance"). */
    unsigned start = sc_rng_below(&p->rng, SC_ID_BASE);
    for (unsigned k = 0; k < SC_ID_BASE; k++) {
      const sc_rt_entry *e =
          sc_rtable_get(&p->rt, (unsigned)row, (start + k) % SC_ID_BASE);
      if (e && !pastry_addr_suspected(p, e->addr)) {
        sc_msg m;
        m.type = SC_MSG_ROW_REQUEST;
        m.u.row_request.row = (uint8_t)row;
        pastry_send(p, e->addr, &m);
        break;
      }
    }
  }
  /* Routed messages waiting on the dead peer go another way now. */
  for (uint32_t i = 0; i < p->nacks;) {
    if (p->acks[i].to.addr == d.addr) {
      pastry_pending_ack a = p->acks[i];
      p->acks[i] = p->acks[--p->nacks];
      p->stats.reroutes++;
      int rv = pastry_route_step(p, &a.route, NULL, a.retries_left, now);
      if (rv < 0) return rv;
      i = 0; /* the array may have changed */
      continue;
    }
    i++;
  }
  return SC_OK;
}

/* ------------------------------------------------------- learning of peers */

/*
 * r spoke to us directly, so it is alive: it may enter the leaf set at once,
 * and an empty routing-table slot at once (then measured). A peer that newly
 * enters the leaf set is sent ours, which is how leaf sets converge when peers
 * join side by side. rtt_us is known when the message was a PONG. When r
 * should be measured and *measure is non-NULL (r sent a PING), the caller
 * asks for an echo in its PONG instead of sending a PING of its own.
 */
static int pastry_learn_firsthand(sc_pastry *p, const sc_ref *r, uint32_t rtt_us,
                                  bool announce, bool *measure, uint64_t now) {
  if (sc_id_eq(&r->id, &p->self.id) || r->addr == SC_ADDR_NONE) return SC_OK;
  if (rtt_us != SC_RTT_UNKNOWN && rtt_us > p->rtt_max_us) p->rtt_max_us = rtt_us;
  /* A joiner keeps quiet: its leaf set would name it before it may be used. */
  if (p->state != STATE_IDLE && sc_leafset_insert(&p->ls, r) && p->state == STATE_JOINED)
    pastry_send_leafset(p, r->addr, LS_PLAIN, NULL);
  int rv = sc_rtable_consider(&p->rt, r, rtt_us, p->pns, p->alloc);
  if (rv < 0) return rv;
  if (p->pns && rtt_us == SC_RTT_UNKNOWN) {
    /* Measure r if it just took an empty slot, or if it announced itself and
     * might be nearer than the slot's occupant. */
    const sc_rt_entry *e = sc_rtable_find(&p->rt, &r->id);
    bool in_slot_unmeasured = e != NULL && e->rtt_us == SC_RTT_UNKNOWN;
    bool want =
        rv == SC_RTABLE_INSERTED || (announce && (e == NULL || in_slot_unmeasured));
    if (want && measure)
      *measure = true;
    else if (want && !pastry_pinged_lately(p, r->addr, now))
      pastry_send_ping(p, r->addr, false, now);
  }
  return SC_OK;
}

/* r was named by another peer: probe it (an announce PING) if it could fill a
 * gap in our tables. The answer, first-hand, decides. */
static void pastry_learn_secondhand(sc_pastry *p, const sc_ref *r, bool any_slot,
                                    uint64_t now) {
  if (sc_id_eq(&r->id, &p->self.id) || r->addr == SC_ADDR_NONE) return;
  if (sc_leafset_find(&p->ls, &r->id) || pastry_recently_failed(p, &r->id, now) ||
      pastry_pinged_lately(p, r->addr, now))
    return;
  /* A peer already in the routing table may still belong in the leaf set
   * (after its neighbours died): the probe's answer puts it there. */
  bool want = sc_leafset_would_insert(&p->ls, &r->id);
  if (!want && sc_rtable_find(&p->rt, &r->id) == NULL) {
    unsigned row, col;
    want = sc_rtable_slot(&p->rt, &r->id, &row, &col) &&
           (any_slot || sc_rtable_get(&p->rt, row, col) == NULL);
  }
  if (want) pastry_send_ping(p, r->addr, true, now);
}

/* ---------------------------------------------------------------- routing */

/* Excluded as a next hop: suspects, and a joiner for its own JOIN. */
static bool pastry_excluded(const sc_pastry *p, const sc_msg_route *route, sc_addr a) {
  if (route->kind == SC_ROUTE_JOIN && a == route->origin.addr) return true;
  return p->nsuspects > 0 && pastry_addr_suspected(p, a);
}

/*
 * Pastry §2.2: the leaf set if the key is in its range, else the routing-table
 * entry that shares one more digit with the key, else (the rare case) any known
 * peer that shares as long a prefix and is numerically closer. Returns NULL
 * when this peer is where the route ends.
 */
static const sc_ref *pastry_next_hop(const sc_pastry *p, const sc_msg_route *route,
                                     sc_ref *scratch) {
  const sc_id *key = &route->key;
  if (sc_leafset_covers(&p->ls, key)) {
    const sc_ref *best = &p->self;
    unsigned count = sc_leafset_count(&p->ls);
    for (unsigned i = 0; i < count; i++) {
      const sc_ref *r = sc_leafset_at(&p->ls, i);
      if (!pastry_excluded(p, route, r->addr) && sc_id_closer(key, &r->id, &best->id))
        best = r;
    }
    return best == &p->self ? NULL : best;
  }
  unsigned l = sc_id_shl(key, &p->self.id);
  const sc_rt_entry *e = sc_rtable_get(&p->rt, l, sc_id_digit(key, l));
  if (e && !pastry_excluded(p, route, e->addr)) {
    scratch->id = e->id;
    scratch->addr = e->addr;
    return scratch;
  }
  /* The rare case: anyone at least as long a prefix match and closer. */
  const sc_id *best = &p->self.id;
  sc_addr best_addr = SC_ADDR_NONE;
  unsigned count = sc_leafset_count(&p->ls);
  for (unsigned i = 0; i < count; i++) {
    const sc_ref *r = sc_leafset_at(&p->ls, i);
    if (!pastry_excluded(p, route, r->addr) && sc_id_shl(&r->id, key) >= l &&
        sc_id_closer(key, &r->id, best))
      best = &r->id, best_addr = r->addr;
  }
  for (unsigned row = l; row < SC_RT_ROWS_MAX; row++) {
    if (!sc_rtable_has_row(&p->rt, row)) continue;
    for (unsigned c = 0; c < SC_ID_BASE; c++) {
      const sc_rt_entry *x = sc_rtable_get(&p->rt, row, c);
      if (x && !pastry_excluded(p, route, x->addr) && sc_id_shl(&x->id, key) >= l &&
          sc_id_closer(key, &x->id, best))
        best = &x->id, best_addr = x->addr;
    }
  }
  if (best_addr == SC_ADDR_NONE) return NULL;
  scratch->id = *best;
  scratch->addr = best_addr;
  return scratch;
}

/* Kinds whose delivery makes the receiver the root of the tree named by the
 * key (Scribe §2.2): a JOIN and a PUBLISH. These wait for a slow owner
 * (pastry_hold); other kinds end at the first peer that answers, as MSPastry's
 * per-hop acks have them. Not a publisher's root lookup: it is how the
 * source finds a crashed stripe root's successor, and held, it cost the
 * generations published meanwhile (1,000 peers, 40 % crashing at once:
 * catch-up no longer recovered them, tests/test_sim_stream.c). */
static bool pastry_ends_at_root(uint8_t kind) {
  return kind == SC_ROUTE_SCRIBE_JOIN || kind == SC_ROUTE_PUBLISH;
}

/* The leaf-set member closest to key among those closer to it than this
 * peer and only suspected, not declared dead; NULL if none. Used where a
 * route would end here because such a peer is skipped. */
static const sc_ref *pastry_closer_suspect(const sc_pastry *p, const sc_id *key) {
  if (p->nsuspects == 0 || !sc_leafset_covers(&p->ls, key)) return NULL;
  const sc_ref *best = &p->self;
  unsigned count = sc_leafset_count(&p->ls);
  for (unsigned i = 0; i < count; i++) {
    const sc_ref *r = sc_leafset_at(&p->ls, i);
    if (pastry_addr_suspected(p, r->addr) && sc_id_closer(key, &r->id, &best->id))
      best = r;
  }
  return best == &p->self ? NULL : best;
}

/*
 * Keeps route here for a probe timeout instead of delivering it at once,
 * when it would end here only because suspect, a leaf-set member closer to
 * its key, is suspected: a route ends at the key's root, the live peer
 * closest to the key (MSPastry, Castro, Costa & Rowstron, DSN 2004, §3:
 * consistent routing; its per-hop acks choose another hop *toward* the key),
 * and a suspect is not known to be dead. Delivered at once, the route made
 * this peer a Scribe root beside the real one whenever the owner's ack was
 * late behind its full uplink: two roots of one stripe in fault-free runs.
 * The route waits as a pending ack on the suspect. The late ack of a copy
 * already sent to it (ack_seq, 0 for none) ends the wait; declared dead
 * meanwhile, the suspect's routes are routed again (here, the root now);
 * at the timeout the route goes to the suspect if it has answered the
 * probe, and is delivered here if it has not. One probe timeout, not the
 * whole verdict (probe_tries of them): a crashed root's groups wait that
 * much longer for a new root, and a slow one rarely answers later.
 */
static int pastry_hold(sc_pastry *p, const sc_msg_route *route, const sc_ref *suspect,
                       uint32_t ack_seq, uint32_t retries, uint64_t now) {
  if (p->nacks == p->acks_cap) {
    int rv =
        grow(p, (void **)&p->acks, &p->acks_cap, ACKS_MAX, sizeof(pastry_pending_ack));
    if (rv == SC_ERR_FULL) {
      p->stats.routes_dropped++;
      return SC_OK;
    }
    if (rv < 0) return rv;
  }
  pastry_pending_ack *a = &p->acks[p->nacks++];
  a->deadline_ns = now + p->cfg.probe_timeout_ns;
  a->to = *suspect;
  a->retries_left = retries;
  a->held = true;
  a->route = *route;
  a->route.seq = ack_seq;
  p->stats.routes_held++;
  return SC_OK;
}

/* The next try of a's route, after its ack did not come in time: held
 * while the route would end here but for a suspect closer to its key, else
 * sent another way, one retry less; dropped when no retry is left. Held,
 * after its suspect's probe had its time: to the suspect if it answered
 * meanwhile, else delivered here after all. */
static int pastry_retry(sc_pastry *p, pastry_pending_ack *a, uint64_t now) {
  sc_ref scratch;
  const sc_ref *suspect = pastry_ends_at_root(a->route.kind) &&
                                  pastry_next_hop(p, &a->route, &scratch) == NULL
                              ? pastry_closer_suspect(p, &a->route.key)
                              : NULL;
  if (a->held && suspect != NULL) {
    pastry_deliver(p, &a->route, now);
    return SC_OK;
  }
  if (a->retries_left == 0) {
    p->stats.routes_dropped++;
    return SC_OK;
  }
  if (suspect != NULL) {
    /* The late copy's ack still ends the wait. */
    uint32_t seq = suspect->addr == a->to.addr ? a->route.seq : 0;
    return pastry_hold(p, &a->route, suspect, seq, a->retries_left - 1, now);
  }
  if (!a->held) p->stats.reroutes++;
  return pastry_route_step(p, &a->route, NULL, a->retries_left - 1, now);
}

/* The per-hop ack wait (MSPastry's per-hop acknowledgements, Castro et al.
 * 2004): twice the next hop's RTT plus a margin when it was measured. A hop
 * never measured (a leaf-set member, a fresh entry) waits ack_timeout_ns;
 * with ack_timeout_learned, the largest RTT measured to any peer stands in
 * for its RTT, bounded by ack_timeout_ns: a join routed towards a listener
 * that left a moment ago (its neighbours have not noticed yet) is rerouted
 * after a few round trips instead of a whole second. */
static uint64_t pastry_ack_timeout(const sc_pastry *p, const sc_id *id) {
  const sc_rt_entry *e = sc_rtable_find(&p->rt, id);
  if (e && e->rtt_us != SC_RTT_UNKNOWN) return 2ull * e->rtt_us * 1000ull + ACK_MARGIN_NS;
  if (p->cfg.ack_timeout_learned && p->rtt_max_us > 0) {
    uint64_t t = 2ull * p->rtt_max_us * 1000ull + ACK_MARGIN_NS;
    if (t < p->cfg.ack_timeout_ns) return t;
  }
  return p->cfg.ack_timeout_ns;
}

static void pastry_deliver(sc_pastry *p, const sc_msg_route *route, uint64_t now) {
  p->stats.routes_delivered++;
  if (route->kind == SC_ROUTE_JOIN) {
    /* The joiner's closest peer hands over its leaf set (Pastry §2.4); that
     * answer, and no other, completes the join. */
    pastry_send_leafset(p, route->origin.addr, LS_JOIN_REPLY, NULL);
    return;
  }
  if (p->cb.deliver) {
    sc_msg m;
    m.type = SC_MSG_ROUTE;
    m.sender = p->self;
    m.u.route = *route;
    p->cb.deliver(p->user, &m, now);
  }
}

/* Delivers route here or forwards it one hop, expecting an ack. from is the
 * peer it just arrived from; NULL when it starts here or is sent again. */
static int pastry_route_step(sc_pastry *p, sc_msg_route *route, const sc_ref *from,
                             uint32_t retries, uint64_t now) {
  if (route->kind == SC_ROUTE_JOIN && route->origin.addr != p->self.addr) {
    /* Send the joiner the rows it can take from us (Pastry §2.4). */
    unsigned shl = sc_id_shl(&route->origin.id, &p->self.id);
    unsigned upto = shl + 1 < SC_RT_ROWS_MAX ? shl + 1 : SC_RT_ROWS_MAX;
    for (unsigned r = route->rows_sent; r < upto; r++)
      if (sc_rtable_has_row(&p->rt, r)) pastry_send_row(p, route->origin.addr, r);
    if (upto > route->rows_sent) route->rows_sent = (uint8_t)upto;
  }
  if (route->hops >= ROUTE_HOPS_MAX) {
    p->stats.routes_dropped++;
    return SC_OK;
  }
  sc_ref scratch;
  const sc_ref *next = pastry_next_hop(p, route, &scratch);
  if (next == NULL) {
    const sc_ref *suspect =
        pastry_ends_at_root(route->kind) ? pastry_closer_suspect(p, &route->key) : NULL;
    if (suspect == NULL) {
      pastry_deliver(p, route, now);
      return SC_OK;
    }
    if (retries == 0) {
      p->stats.routes_dropped++;
      return SC_OK;
    }
    return pastry_hold(p, route, suspect, 0, retries - 1, now);
  }
  if (from && route->kind >= SC_ROUTE_SCRIBE_JOIN && p->cb.forward) {
    /* Pastry §2.2's forward upcall, once per arrival, only where the route
     * goes on. A callback that consumes the route may route anew, so next
     * is not used after that. */
    sc_msg fm;
    fm.type = SC_MSG_ROUTE;
    fm.sender = *from;
    fm.u.route = *route;
    if (!p->cb.forward(p->user, &fm, now)) return SC_OK;
  }
  if (p->nacks == p->acks_cap) {
    int rv =
        grow(p, (void **)&p->acks, &p->acks_cap, ACKS_MAX, sizeof(pastry_pending_ack));
    if (rv == SC_ERR_FULL) {
      p->stats.routes_dropped++; /* bounded: shed load rather than grow */
      return SC_OK;
    }
    if (rv < 0) return rv;
  }
  sc_msg m;
  m.type = SC_MSG_ROUTE;
  m.u.route = *route;
  m.u.route.hops = (uint16_t)(route->hops + 1);
  if (++p->seq_next == 0) p->seq_next = 1;
  m.u.route.seq = p->seq_next;
  pastry_pending_ack *a = &p->acks[p->nacks++];
  a->deadline_ns = now + pastry_ack_timeout(p, &next->id);
  a->to = *next;
  a->retries_left = retries;
  a->held = false;
  a->route = m.u.route;
  p->stats.routes_forwarded++;
  pastry_send(p, next->addr, &m);
  return SC_OK;
}

/* --------------------------------------------------------------- lifecycle */

int sc_pastry_new(sc_pastry **pp, const sc_ref *self, uint64_t seed,
                  const sc_pastry_config *cfg, const sc_pastry_callbacks *cb,
                  const sc_alloc *alloc, void *user, uint64_t now) {
  (void)now;
  if (pp == NULL || self == NULL || cb == NULL || cb->send == NULL ||
      self->addr == SC_ADDR_NONE)
    return SC_ERR_INVALID;
  sc_pastry_config def;
  if (cfg == NULL) {
    sc_pastry_config_default(&def);
    cfg = &def;
  }
  if (cfg->leafset_size < 2 || cfg->leafset_size > SC_LEAFSET_MAX ||
      cfg->leafset_size % 2 != 0 || cfg->heartbeat_ns == 0 || cfg->lease_ns == 0 ||
      cfg->probe_timeout_ns == 0 || cfg->ack_timeout_ns == 0 ||
      cfg->refine_per_row > SC_ID_BASE)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_pastry *p = alloc->calloc(1, sizeof(*p), alloc->user);
  if (p == NULL) return SC_ERR_NOMEM;
  p->self = *self;
  p->cfg = *cfg;
  p->cb = *cb;
  p->send = cb->send;
  p->lease_ns = cfg->lease_ns;
  p->pns = cfg->pns;
  p->alloc = alloc;
  p->user = user;
  sc_rng_seed(&p->rng, seed);
  p->state = STATE_IDLE;
  p->bootstrap = SC_ADDR_NONE;
  p->watched_left = p->watched_right = SC_ADDR_NONE;
  p->recent = NULL;
  sc_leafset_init(&p->ls, &self->id, cfg->leafset_size / 2);
  sc_rtable_init(&p->rt, &self->id);
  *pp = p;
  return SC_OK;
}

void sc_pastry_del(sc_pastry *p) {
  if (p == NULL) return;
  const sc_alloc *a = p->alloc;
  sc_rtable_free(&p->rt, a);
  a->free(p->suspects, a->user);
  a->free(p->acks, a->user);
  a->free(p->failed, a->user);
  a->free(p->recent, a->user);
  a->free(p, a->user);
}

static void pastry_start_heartbeats(sc_pastry *p, uint64_t now) {
  p->refine_at_ns = p->cfg.refine_per_row ? now + REFINE_DELAY_NS : 0;
  /* Leases start now: while joining nobody was expected to heartbeat us. */
  p->heard_left_ns = p->heard_right_ns = now;
  /* A random phase keeps a million peers from heartbeating in lockstep. */
  p->hb_next_ns = now + (uint64_t)(sc_rng_unit(&p->rng) * (double)p->cfg.heartbeat_ns);
}

static void pastry_send_join(sc_pastry *p) {
  sc_msg m;
  m.type = SC_MSG_ROUTE;
  memset(&m.u.route, 0, sizeof(m.u.route));
  m.u.route.key = p->self.id;
  m.u.route.origin = p->self;
  m.u.route.kind = SC_ROUTE_JOIN;
  pastry_send(p, p->bootstrap, &m);
}

int sc_pastry_join(sc_pastry *p, sc_addr bootstrap, uint64_t now) {
  if (p->state != STATE_IDLE) return SC_ERR_INVALID;
  if (bootstrap == SC_ADDR_NONE || bootstrap == p->self.addr) {
    p->state = STATE_JOINED; /* the first peer: an overlay of one */
    pastry_start_heartbeats(p, now);
    return SC_OK;
  }
  p->state = STATE_JOINING;
  p->bootstrap = bootstrap;
  p->join_attempts = 0;
  p->join_deadline_ns = now + JOIN_RETRY_NS;
  pastry_send_join(p);
  return SC_OK;
}

/* ---------------------------------------------------------------- receive */

static bool pastry_valid(const sc_msg *m) {
  if (m->sender.addr == SC_ADDR_NONE) return false;
  switch (m->type) {
  case SC_MSG_PING:
  case SC_MSG_PONG:
  case SC_MSG_HEARTBEAT:
  case SC_MSG_ROUTE_ACK:
    return true;
  case SC_MSG_ROUTE:
    return m->u.route.origin.addr != SC_ADDR_NONE && m->u.route.kind >= SC_ROUTE_JOIN &&
           m->u.route.kind < SC_ROUTE_KIND_END && m->u.route.rows_sent <= SC_RT_ROWS_MAX;
  case SC_MSG_LEAFSET:
    return m->u.leafset.n <= SC_LEAFSET_MAX && m->u.leafset.nfailed <= SC_FAILED_HINT_MAX;
  case SC_MSG_ROW_REQUEST:
    return m->u.row_request.row < SC_ID_DIGITS;
  case SC_MSG_ROW:
    return m->u.row.row < SC_ID_DIGITS && m->u.row.n <= SC_ROW_ENTRIES;
  default:
    return false;
  }
}

/* Keeps the lease on whoever is adjacent now (MSPastry §3.2 heartbeats). */
static void pastry_update_watch(sc_pastry *p, uint64_t now) {
  /* Called after every event: read the members only when they changed. */
  if (p->ls.gen == p->ls_gen_seen) return;
  p->ls_gen_seen = p->ls.gen;
  sc_addr l = p->ls.nleft ? p->ls.left[0].addr : SC_ADDR_NONE;
  sc_addr r = p->ls.nright ? p->ls.right[0].addr : SC_ADDR_NONE;
  if (l != p->watched_left) p->watched_left = l, p->heard_left_ns = now;
  if (r != p->watched_right) p->watched_right = r, p->heard_right_ns = now;
}

/* A measured RTT as an announcement carries it: 0 means none. */
static inline uint32_t pastry_rtt_to_wire(uint32_t rtt_us) {
  return rtt_us == SC_RTT_UNKNOWN ? 0 : rtt_us == 0 ? 1 : rtt_us;
}

/* The join is done: tell every peer in our tables that we exist (Pastry
 * §2.4: the new node sends its state to the nodes in it), and each may adopt
 * us (PNS). We measured most of them while joining; the announcement then
 * carries that RTT (the same both ways), is not answered, and costs one
 * message instead of PING, PONG and echo. The rest measure us through the
 * PONG echo. */
static void pastry_announce(sc_pastry *p, uint64_t now) {
  unsigned count = sc_leafset_count(&p->ls);
  for (unsigned i = 0; i < count; i++) {
    const sc_ref *r = sc_leafset_at(&p->ls, i);
    if (i >= p->ls.nleft && sc_leafset_find(&p->ls, &r->id) != r)
      continue; /* both sides */
    const sc_rt_entry *e = sc_rtable_find(&p->rt, &r->id);
    pastry_send_ping_rtt(p, r->addr, true, e ? pastry_rtt_to_wire(e->rtt_us) : 0, now);
  }
  for (unsigned row = 0; row < SC_RT_ROWS_MAX; row++) {
    if (!sc_rtable_has_row(&p->rt, row)) continue;
    for (unsigned c = 0; c < SC_ID_BASE; c++) {
      const sc_rt_entry *e = sc_rtable_get(&p->rt, row, c);
      if (e && !sc_leafset_find(&p->ls, &e->id))
        pastry_send_ping_rtt(p, e->addr, true, pastry_rtt_to_wire(e->rtt_us), now);
    }
  }
}

static int pastry_on_leafset(sc_pastry *p, const sc_msg *m, uint64_t now) {
  const sc_msg_leafset *l = &m->u.leafset;
  for (unsigned i = 0; i < l->nfailed; i++) {
    /* Do not trust the hint blindly: probe the peer ourselves. */
    const sc_ref *r = sc_leafset_find(&p->ls, &l->failed[i]);
    const sc_rt_entry *e = r ? NULL : sc_rtable_find(&p->rt, &l->failed[i]);
    sc_ref tmp;
    if (e) tmp.id = e->id, tmp.addr = e->addr, r = &tmp;
    if (r) {
      int rv = pastry_start_probe(p, r, now);
      if (rv < 0) return rv;
    }
  }
  /* Only the root of our own join makes us a full member: a leaf set from
   * any other peer may be a partial view that seems to cover every key. */
  if (p->state == STATE_JOINING && l->join_reply) {
    p->state = STATE_JOINED;
    pastry_start_heartbeats(p, now);
    /* Probes sent while joining told nobody about us: they must not keep
     * the announcing probes below, or those of the next seconds, from going
     * out. */
    pastry_recent_clear(p);
    pastry_announce(p, now);
  }
  for (unsigned i = 0; i < l->n; i++)
    pastry_learn_secondhand(p, &l->e[i], false, now);
  /* Answer when asked, and also when the sender counts us as a neighbour but
   * is not one of ours: it holds a stale view of our part of the ring (e.g.
   * from the flash crowd that built the overlay) and our leaf set names the
   * peers it is missing (Chord's stabilisation, in Pastry's terms). */
  if (l->want_reply || (!l->is_reply && p->state == STATE_JOINED &&
                        !sc_leafset_find(&p->ls, &m->sender.id)))
    pastry_send_leafset(p, m->sender.addr, LS_REPLY, NULL);
  return SC_OK;
}

int sc_pastry_recv(sc_pastry *p, const sc_msg *m, uint64_t now) {
  p->msgs_recv++;
  if (!pastry_valid(m) || sc_id_eq(&m->sender.id, &p->self.id)) {
    p->stats.msgs_dropped_invalid++;
    return SC_ERR_INVALID;
  }
  const sc_ref *from = &m->sender;
  /* Any message is proof of life. */
  if (from->addr == p->watched_left) p->heard_left_ns = now;
  if (from->addr == p->watched_right) p->heard_right_ns = now;
  if (p->nsuspects) pastry_clear_suspect(p, &from->id);
  if (p->nfailed) pastry_forget_failed(p, &from->id);

  int rv = SC_OK;
  uint32_t rtt_us = SC_RTT_UNKNOWN;
  bool announce = false;
  if (m->type == SC_MSG_PONG && m->u.pong.echo_ns <= now) {
    uint64_t rtt = (now - m->u.pong.echo_ns) / 1000u;
    rtt_us = rtt >= SC_RTT_UNKNOWN ? SC_RTT_UNKNOWN - 1 : (uint32_t)rtt;
  }
  if (m->type == SC_MSG_PING) announce = m->u.ping.announce != 0;
  /* An announcement with the sender's RTT to us: one way, not answered. */
  bool one_way = announce && m->u.ping.rtt_us != 0 && m->u.ping.rtt_us != SC_RTT_UNKNOWN;
  if (one_way) rtt_us = m->u.ping.rtt_us;
  bool measure = false;
  bool from_joiner = (m->type == SC_MSG_PING && m->u.ping.joining) ||
                     (m->type == SC_MSG_ROUTE && m->u.route.kind == SC_ROUTE_JOIN &&
                      m->u.route.origin.addr == from->addr);
  if (!from_joiner) {
    rv = pastry_learn_firsthand(p, from, rtt_us, announce,
                                m->type == SC_MSG_PING ? &measure : NULL, now);
    if (rv < 0) return rv;
  }

  switch (m->type) {
  case SC_MSG_PING: {
    if (one_way) break;
    sc_msg r;
    r.type = SC_MSG_PONG;
    r.u.pong.echo_ns = m->u.ping.sent_ns;
    r.u.pong.sent_ns = now;
    r.u.pong.want_echo = measure ? 1 : 0;
    pastry_send(p, from->addr, &r);
    break;
  }
  case SC_MSG_PONG:
    if (m->u.pong.want_echo) {
      sc_msg r;
      r.type = SC_MSG_PONG;
      r.u.pong.echo_ns = m->u.pong.sent_ns;
      r.u.pong.sent_ns = now;
      r.u.pong.want_echo = 0;
      pastry_send(p, from->addr, &r);
    }
    break;
  case SC_MSG_HEARTBEAT:
    break;
  case SC_MSG_ROUTE: {
    if (m->u.route.seq != 0) {
      sc_msg ack;
      ack.type = SC_MSG_ROUTE_ACK;
      ack.u.route_ack.seq = m->u.route.seq;
      pastry_send(p, from->addr, &ack);
    }
    sc_msg_route route = m->u.route;
    rv = pastry_route_step(p, &route, from, p->cfg.route_retries, now);
    break;
  }
  case SC_MSG_ROUTE_ACK:
    for (uint32_t i = 0; i < p->nacks; i++) {
      if (p->acks[i].route.seq == m->u.route_ack.seq &&
          p->acks[i].to.addr == from->addr) {
        p->acks[i] = p->acks[--p->nacks];
        if (p->nacks == 0) pastry_acks_release(p);
        break;
      }
    }
    break;
  case SC_MSG_LEAFSET:
    rv = pastry_on_leafset(p, m, now);
    break;
  case SC_MSG_ROW_REQUEST:
    pastry_send_row(p, from->addr, m->u.row_request.row);
    break;
  case SC_MSG_ROW:
    /* Rows arrive while joining or repairing: measure every new peer in them,
     * so the table keeps the nearest (Pastry §2.5). */
    for (unsigned i = 0; i < m->u.row.n; i++)
      pastry_learn_secondhand(p, &m->u.row.e[i], true, now);
    break;
  }
  pastry_update_watch(p, now);
  return rv;
}

/* ----------------------------------------------------------------- timers */

uint64_t sc_pastry_get_expiry(const sc_pastry *p) {
  uint64_t t = UINT64_MAX;
  if (p->state == STATE_JOINING && p->join_deadline_ns < t) t = p->join_deadline_ns;
  if (p->state == STATE_JOINED) {
    if (p->hb_next_ns < t) t = p->hb_next_ns;
    if (p->refine_at_ns && p->refine_at_ns < t) t = p->refine_at_ns;
    if (p->watched_left != SC_ADDR_NONE && p->heard_left_ns + p->lease_ns < t)
      t = p->heard_left_ns + p->lease_ns;
    if (p->watched_right != SC_ADDR_NONE && p->heard_right_ns + p->lease_ns < t)
      t = p->heard_right_ns + p->lease_ns;
  }
  for (uint32_t i = 0; i < p->nsuspects; i++)
    if (p->suspects[i].deadline_ns < t) t = p->suspects[i].deadline_ns;
  for (uint32_t i = 0; i < p->nacks; i++)
    if (p->acks[i].deadline_ns < t) t = p->acks[i].deadline_ns;
  return t;
}

/* The heartbeat to each adjacent neighbour carries our leaf set, so leaf sets
 * keep converging after concurrent joins: a peer that missed a neighbour
 * hears of it from the peer beside it within a period (MSPastry §3.2 sends
 * leaf sets with its probes for the same reason). */
/*
 * Locality refinement (Castro et al., "Exploiting network proximity in
 * peer-to-peer overlay networks", 2002, §3 — the second phase of a join): ask
 * entries of each row for their own row and probe the peers named there, so
 * that every slot ends up holding the nearest peer we have heard of. The
 * same step is FreePastry's periodic routing-table maintenance.
 */
static void pastry_refine(sc_pastry *p) {
  for (unsigned row = 0; row < SC_RT_ROWS_MAX; row++) {
    if (!sc_rtable_has_row(&p->rt, row)) continue;
    unsigned asked = 0;
    unsigned start = sc_rng_below(&p->rng, SC_ID_BASE);
    for (unsigned k = 0; k < SC_ID_BASE && asked < p->cfg.refine_per_row; k++) {
      const sc_rt_entry *e = sc_rtable_get(&p->rt, row, (start + k) % SC_ID_BASE);
      if (e == NULL || pastry_addr_suspected(p, e->addr)) continue;
      sc_msg m;
      m.type = SC_MSG_ROW_REQUEST;
      m.u.row_request.row = (uint8_t)row;
      pastry_send(p, e->addr, &m);
      asked++;
    }
  }
}

static void pastry_heartbeat(sc_pastry *p) {
  if (p->ls.nleft) pastry_send_leafset(p, p->ls.left[0].addr, LS_PLAIN, NULL);
  if (p->ls.nright && (!p->ls.nleft || p->ls.right[0].addr != p->ls.left[0].addr))
    pastry_send_leafset(p, p->ls.right[0].addr, LS_PLAIN, NULL);
}

int sc_pastry_handle_expiry(sc_pastry *p, uint64_t now) {
  int rv;
  if (p->state == STATE_JOINING && now >= p->join_deadline_ns) {
    if (p->join_attempts < JOIN_RETRY_DOUBLINGS_MAX) p->join_attempts++;
    p->join_deadline_ns = now + (JOIN_RETRY_NS << p->join_attempts);
    pastry_send_join(p);
  }
  if (p->state == STATE_JOINED) {
    if (p->refine_at_ns && now >= p->refine_at_ns) {
      p->refine_at_ns = p->cfg.rt_maintenance_ns ? now + p->cfg.rt_maintenance_ns : 0;
      pastry_refine(p);
    }
    if (now >= p->hb_next_ns) {
      pastry_heartbeat(p);
      p->hb_next_ns = now + p->cfg.heartbeat_ns;
      if (p->nacks == 0) pastry_acks_release(p);
      if (p->recent && (uint32_t)((uint32_t)(now >> RECENT_TIME_SHIFT) -
                                  p->recent_last) >= RECENT_UNITS)
        pastry_recent_clear(p);
    }
    if (p->watched_left != SC_ADDR_NONE && now >= p->heard_left_ns + p->lease_ns) {
      p->heard_left_ns = now;
      if ((rv = pastry_start_probe(p, &p->ls.left[0], now)) < 0) return rv;
    }
    if (p->watched_right != SC_ADDR_NONE && now >= p->heard_right_ns + p->lease_ns) {
      p->heard_right_ns = now;
      if ((rv = pastry_start_probe(p, &p->ls.right[0], now)) < 0) return rv;
    }
  }
  for (uint32_t i = 0; i < p->nsuspects;) {
    pastry_suspect *s = &p->suspects[i];
    if (now < s->deadline_ns) {
      i++;
      continue;
    }
    if (s->tries_left > 0) {
      s->tries_left--;
      s->deadline_ns = now + s->timeout_ns;
      pastry_send_ping(p, s->ref.addr, false, now);
      i++;
      continue;
    }
    if ((rv = pastry_declare_dead(p, &s->ref, now)) < 0) return rv;
    i = 0; /* the suspects array changed */
  }
  for (uint32_t i = 0; i < p->nacks;) {
    if (now < p->acks[i].deadline_ns) {
      i++;
      continue;
    }
    pastry_pending_ack a = p->acks[i];
    p->acks[i] = p->acks[--p->nacks];
    if (!a.held) {
      /* MSPastry §3.3: no ack in time, so suspect the hop and try another. */
      if ((rv = pastry_start_probe(p, &a.to, now)) < 0) return rv;
    }
    if ((rv = pastry_retry(p, &a, now)) < 0) return rv;
    i = 0;
  }
  pastry_update_watch(p, now);
  return SC_OK;
}

/* ------------------------------------------------------------------ route */

int sc_pastry_route(sc_pastry *p, const sc_id *key, uint8_t kind, uint64_t app_id,
                    uint64_t now) {
  sc_msg_route route;
  memset(&route, 0, sizeof(route));
  route.key = *key;
  route.origin = p->self;
  route.kind = kind;
  route.app_id = app_id;
  route.app_time_ns = now;
  int rv = pastry_route_step(p, &route, NULL, p->cfg.route_retries, now);
  pastry_update_watch(p, now);
  return rv;
}

/* ------------------------------------------------------------- inspection */

bool sc_pastry_owns(const sc_pastry *p, const sc_id *key) {
  if (p->state != STATE_JOINED) return false;
  sc_msg_route route;
  memset(&route, 0, sizeof(route));
  route.key = *key;
  route.kind = SC_ROUTE_LOOKUP;
  sc_ref scratch;
  return pastry_next_hop(p, &route, &scratch) == NULL &&
         pastry_closer_suspect(p, key) == NULL;
}

const sc_ref *sc_pastry_self(const sc_pastry *p) {
  return &p->self;
}
bool sc_pastry_is_joined(const sc_pastry *p) {
  return p->state == STATE_JOINED;
}

unsigned sc_pastry_leafset(const sc_pastry *p, sc_ref *out, unsigned max,
                           unsigned *left_count) {
  unsigned count = sc_leafset_count(&p->ls);
  for (unsigned i = 0; i < count && i < max; i++)
    out[i] = *sc_leafset_at(&p->ls, i);
  if (left_count) *left_count = p->ls.nleft;
  return count;
}

bool sc_pastry_rt_entry(const sc_pastry *p, unsigned row, unsigned col, sc_ref *out,
                        uint32_t *rtt_us) {
  const sc_rt_entry *e = sc_rtable_get(&p->rt, row, col);
  if (e == NULL) return false;
  if (out) out->id = e->id, out->addr = e->addr;
  if (rtt_us) *rtt_us = e->rtt_us;
  return true;
}

void sc_pastry_get_stats(const sc_pastry *p, sc_pastry_stats *out) {
  memset(out, 0, sizeof(*out));
  out->msgs_dropped_invalid = p->stats.msgs_dropped_invalid;
  out->routes_forwarded = p->stats.routes_forwarded;
  out->routes_delivered = p->stats.routes_delivered;
  out->routes_dropped = p->stats.routes_dropped;
  out->reroutes = p->stats.reroutes;
  out->routes_held = p->stats.routes_held;
  out->peers_declared_dead = p->stats.peers_declared_dead;
  out->msgs_sent = p->msgs_sent;
  out->msgs_recv = p->msgs_recv;
  out->rt_entries = p->rt.count;
  out->pending_acks = p->nacks;
  out->suspects = p->nsuspects;
}

void sc_pastry_prefetch(const sc_pastry *p) {
  /* Every received message touches the hot lines; a million peers' state
   * does not fit in any cache. Prefetching all of it instead saturates the
   * core's outstanding-miss buffers and stalls the prefetches themselves. */
  const char *base = (const char *)p;
  for (size_t off = 0; off < PASTRY_HOT_BYTES; off += 64)
    __builtin_prefetch(base + off);
  __builtin_prefetch(base + PASTRY_HOT_BYTES - 1);
}

void sc_pastry_prefetch_expiry(const sc_pastry *p) {
  /* The fields sc_pastry_get_expiry reads (lines 0 and 1, and the lease). */
  __builtin_prefetch(&p->self);
  __builtin_prefetch(&p->heard_right_ns);
  __builtin_prefetch(&p->hb_next_ns);
  __builtin_prefetch(&p->acks);
  __builtin_prefetch(&p->lease_ns);
}

/* The leaf-set members, for messages that read them all. */
static void pastry_prefetch_members(const sc_pastry *p) {
  const char *a = (const char *)&p->ls.left[0];
  const char *end = (const char *)&p->ls.right[SC_LEAFSET_HALF_MAX];
  for (; a < end; a += 64)
    __builtin_prefetch(a);
}

static inline void pastry_prefetch_slot(const sc_pastry *p, const sc_id *id) {
  unsigned row, col;
  if (sc_rtable_slot(&p->rt, id, &row, &col) && sc_rtable_has_row(&p->rt, row))
    __builtin_prefetch(sc_rtable_slot_at(&p->rt, row, col));
}

/* The lines of a routing-table row. */
static void pastry_prefetch_row(const sc_pastry *p, unsigned row) {
  if (!sc_rtable_has_row(&p->rt, row)) return;
  const char *a = (const char *)sc_rtable_slot_at(&p->rt, row, 0);
  if (a == NULL) return; /* a sparse row, no entries */
  size_t bytes = sc_rtable_row_dense(&p->rt, row) ? SC_ID_BASE * sizeof(sc_rt_entry)
                                                  : p->rt.ntail * sizeof(sc_rt_entry);
  for (unsigned off = 0; off < bytes; off += 64)
    __builtin_prefetch(a + off);
}

static inline void pastry_prefetch_recent(const sc_pastry *p, sc_addr a) {
  if (p->recent) __builtin_prefetch(p->recent[pastry_recent_set(a)]);
}

void sc_pastry_prefetch_msg(const sc_pastry *p, const sc_msg *m) {
  pastry_prefetch_slot(p, &m->sender.id);
  /* PING and PONG never probe the sender (a PING's answer asks for the echo
   * instead; a PONG has measured it): no recent-ping set for them. */
  if (m->type != SC_MSG_PING && m->type != SC_MSG_PONG)
    pastry_prefetch_recent(p, m->sender.addr);
  if (m->type == SC_MSG_ROUTE || m->type == SC_MSG_LEAFSET || m->type == SC_MSG_ROW ||
      sc_leafset_would_insert(&p->ls, &m->sender.id) ||
      sc_leafset_find(&p->ls, &m->sender.id))
    pastry_prefetch_members(p);
  switch (m->type) {
  case SC_MSG_ROUTE: {
    const sc_msg_route *r = &m->u.route;
    pastry_prefetch_slot(p, &r->key);
    if (r->kind == SC_ROUTE_JOIN) { /* the rows we will send the joiner */
      unsigned upto = sc_id_shl(&r->origin.id, &p->self.id) + 1;
      for (unsigned row = r->rows_sent; row < upto && row < SC_RT_ROWS_MAX; row++)
        pastry_prefetch_row(p, row);
    }
    break;
  }
  case SC_MSG_ROW_REQUEST:
    pastry_prefetch_row(p, m->u.row_request.row);
    break;
  case SC_MSG_LEAFSET:
    for (unsigned i = 0; i < m->u.leafset.n && i < SC_LEAFSET_MAX; i++) {
      pastry_prefetch_slot(p, &m->u.leafset.e[i].id);
      pastry_prefetch_recent(p, m->u.leafset.e[i].addr);
    }
    break;
  case SC_MSG_ROW:
    for (unsigned i = 0; i < m->u.row.n && i < SC_ROW_ENTRIES; i++) {
      pastry_prefetch_slot(p, &m->u.row.e[i].id);
      pastry_prefetch_recent(p, m->u.row.e[i].addr);
    }
    break;
  default:
    break;
  }
}

size_t sc_pastry_mem_bytes(const sc_pastry *p) {
  return sizeof(*p) + sc_rtable_mem_bytes(&p->rt) +
         (p->failed ? FAILED_SET_MAX * sizeof(pastry_failed) : 0) +
         (p->recent ? RECENT_SETS * sizeof(*p->recent) : 0) +
         p->suspects_cap * sizeof(pastry_suspect) +
         p->acks_cap * sizeof(pastry_pending_ack);
}
