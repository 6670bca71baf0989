/*
 * scribe.c — Scribe trees over one Pastry peer, sans I/O (see scribe.h).
 *
 * A group's state at this peer: whether it is a member, whether it is the
 * root, its parent (if any), its children, and its path to the root. A peer
 * *needs a parent* when it is neither the root nor attached but is a member
 * or has children; it then searches (find_parent) on a timer that doubles
 * with each timeout. Everything a peer learns about its tree neighbours comes
 * from them directly: accepts and path updates from the parent, heartbeats
 * both ways, leaves and drops.
 */
#include "scribe.h"

#include <assert.h>
#include <string.h>

#include "err.h"
#include "rng.h"

#define NEVER UINT64_MAX
/* Depths count tree edges from the root. A peer not (yet) attached to a root
 * reports DEPTH_FLOATING, and its descendants count on from there, so a chain
 * hanging from nothing still has depths that grow along it. Around a cycle
 * depths grow without bound: a depth beyond DEPTH_LOOP (relative to 0 or to
 * DEPTH_FLOATING) betrays one even when the cycle is longer than the ids a
 * path message carries (SC_PATH_MAX). */
#define DEPTH_FLOATING        0x4000u
#define DEPTH_LOOP            1024u
#define DEPTH_MAX             0x7FFFu
#define BACKOFF_DOUBLINGS_MAX 4 /* the join timeout grows to 16x at most */
/* Heartbeat ticks that repeat a changed path (push_path): three periods
 * outlast the 2.5 of silence after which a parent is taken for dead (the
 * default heartbeat_misses). At most 3: a 2-bit field. */
#define PATH_REPEATS 3
/* Searches a peer starts at once in answer to refusals, over all its groups,
 * per join timeout: a second line behind find_parent's rule, so that no
 * exchange of joins and refusals can outpace the retry timer for long. A
 * forest being built answers a few refusals per group in a row (push-downs,
 * then an anycast, bounded by the policy), far fewer than this; beyond it a
 * refusal is answered by the retry timer. */
#define REFUSAL_SEARCHES_MAX 64

/*
 * A child: its id and address, when it was last heard and when it was
 * adopted. 32 bytes, not 40 (sc_ref's padding and two 64-bit times): the
 * times are kept modulo 2^48 ns (78 hours), the adoption time split across
 * since_hi and the top of heard_lo. Differences modulo 2^48 are exact while
 * the true age is below 2^48 ns; heartbeat_tick forgets children silent
 * for child_dead and moves adoption times older than CHILD_AGE_CLAMP_NS up
 * to that age, so no age stored here ever comes near it (see child_since).
 */
typedef struct scribe_child {
  sc_id id;
  sc_addr addr;
  uint32_t since_hi; /* bits 16..47 of the adoption time */
  uint64_t heard_lo; /* bits 0..47: last heard; 48..63: adoption bits 0..15 */
} scribe_child;
_Static_assert(sizeof(scribe_child) == 32, "a child should stay within 32 bytes");

#define T48_MASK ((1ull << 48) - 1)
/* Adoption times matter only against the last heartbeat tick (a child not
 * named in the answer to a tick before its adoption is kept): an age beyond
 * this says "long before the last tick" as well as the true one, and ticks
 * come every heartbeat_ns, so an age never grows past this + an hour. */
#define CHILD_AGE_CLAMP_NS (1ull << 44) /* ~4.9 hours, > SC_SCRIBE_HEARTBEAT_MAX_NS */

/* now - t for a time t kept modulo 2^48. */
static inline uint64_t t48_age(uint64_t now, uint64_t t48) {
  return (now - t48) & T48_MASK;
}
static inline uint64_t child_heard(const scribe_child *c) {
  return c->heard_lo & T48_MASK;
}
static inline uint64_t child_since(const scribe_child *c) {
  return (c->heard_lo >> 48) | ((uint64_t)c->since_hi << 16);
}
static inline void child_set_heard(scribe_child *c, uint64_t t) {
  c->heard_lo = (c->heard_lo & ~T48_MASK) | (t & T48_MASK);
}
static inline void child_set_since(scribe_child *c, uint64_t t) {
  c->heard_lo = (c->heard_lo & T48_MASK) | (t << 48);
  c->since_hi = (uint32_t)((t & T48_MASK) >> 16);
}
static inline sc_ref child_ref(const scribe_child *c) {
  sc_ref r;
  memset(&r, 0, sizeof(r));
  r.id = c->id;
  r.addr = c->addr;
  return r;
}

/* Bits of a multicast's sequence number its group remembers for the
 * duplicate window (serial arithmetic modulo 2^24: 16.7 million generations,
 * six days of a 3 Mbit/s stream, before the comparison wraps, which it may). */
#define SEQ_BITS 24
#define SEQ_MASK ((1u << SEQ_BITS) - 1)
#define SEQ_HALF (1u << (SEQ_BITS - 1))

/* Children arrays grow to 2^CHILDREN_FIRST_LOG slots at first, then double. */
#define CHILDREN_FIRST_LOG 1

/*
 * Memory: at a million peers Scribe's state is the largest part of a peer's
 * (17 groups each in SplitStream), so a group is 88 bytes and its path to
 * the root has no array of its own: the ancestors of all groups are packed
 * into one array per peer (sc_scribe.anc), each group's exactly as long as
 * its path, and this peer, the last entry of every path, is implied.
 */
typedef struct scribe_group {
  sc_id id;
  sc_id parent_id; /* the parent is (parent_id, parent_addr) */
  uint64_t parent_heard_ns;
  uint64_t parent_since_ns; /* attached to the current parent at */
  uint64_t retry_ns;        /* next find_parent while a parent is needed; NEVER */
  scribe_child *children;
  sc_addr parent_addr; /* SC_ADDR_NONE: none */
  uint16_t nchildren;  /* bounded by SC_SCRIBE_CHILDREN_MAX */
  /* The path to the root: npath entries (0: none), the npath - 1 ancestors
   * at s->anc[path_off ..] (nearest last), then this peer. anc_n: entries
   * of s->anc this group holds (npath - 1 since the last set_path; a
   * detached group keeps its entries until the next one). */
  uint16_t path_off;
  /* The newest multicast seen, modulo 2^24 (SEQ_BITS), and the low 8 bits
   * of its source epoch (sc_msg_multicast.epoch). */
  uint32_t last_seq : SEQ_BITS;
  uint32_t epoch_tag : 32 - SEQ_BITS;
  uint32_t seen_mask; /* bit i: last_seq - i seen (a stream's window) */
  uint8_t attempt;
  /* Failed searches carried over from brief parents: the policy sees
   * attempt + carried (search_count), the retry schedule attempt alone. A
   * parent that drops us soon after taking us continues the search that
   * found it (see SCRIBE_DROP); found: its count then. */
  uint8_t carried, found;
  uint8_t member : 1;
  uint8_t root : 1;
  uint8_t have_seq : 1;
  uint8_t changed : 1; /* tree_changed owed (set where the hook may not run) */
  uint8_t fresh : 1;   /* the parent was just lost: search from attempt 0 */
  /* The parent said it is leaving (a polite departure): search for another
   * while it keeps forwarding; the first one to accept us replaces it. */
  uint8_t parent_leaving : 1;
  /* Heartbeat ticks at which the children hear the path again (push_path). */
  uint8_t path_repeats : 2;
  uint32_t depth : 15; /* <= DEPTH_MAX */
  uint32_t npath : 6;  /* <= SC_PATH_MAX */
  uint32_t anc_n : 5;  /* <= SC_PATH_MAX - 1 */
  /* The children array holds min(2^children_log, children_max) (0: none). */
  uint32_t children_log : 5;
} scribe_group;

struct sc_scribe {
  /* First, together, what every message and sc_scribe_get_expiry read (a
   * simulator hands peers hundreds of millions of chunks and fetches these
   * lines ahead: sc_scribe_prefetch). */
  sc_ref self;
  sc_scribe_send_fn send;
  void *user;
  sc_scribe_policy pol;
  scribe_group *groups;
  uint32_t ngroups, groups_cap;
  /* Bit g: groups[g].retry_ns != NEVER (group_set_retry keeps it), so that
   * sc_scribe_get_expiry, which the host calls after every event, reads the
   * few groups searching for a parent instead of all of them. */
  uint32_t retry_mask;
  uint8_t departing; /* sc_scribe_depart() was called */
  /* A byte of each group's id (group_tag), so that finding a group reads
   * this line and the one group, not every group's id (a MULTICAST, the
   * simulator's most common message, looks its group up). */
  uint8_t tags[SC_SCRIBE_GROUPS_MAX];
  uint64_t hb_next_ns;
  uint64_t wake_ns; /* deferred work (peer_failed) */
  /* The counters every message bumps; sc_scribe_get_stats copies them into
   * the rest, kept in stats. */
  uint64_t msgs_sent, msgs_recv, multicasts_recv, multicasts_dup;
  /* The rest. */
  sc_pastry *pastry;
  uint64_t self64;
  sc_scribe_config cfg;
  const sc_alloc *alloc;
  sc_rng rng;
  uint64_t hb_last_ns;        /* the last heartbeat tick: refreshes answer it */
  uint64_t refusal_window_ns; /* REFUSAL_SEARCHES_MAX: the window's start */
  uint32_t refusal_searches;  /* ... and the searches started in it */
  uint32_t *anc;              /* every group's ancestors, packed (scribe_group) */
  uint32_t anc_len, anc_cap;  /* entries used, allocated */
  sc_scribe_stats stats;
};

/* The ancestors array grows and shrinks in steps of one cache line. */
#define ANC_STEP (64 / sizeof(uint32_t))

/*
 * A path holds each ancestor as the top 32 bits of its id (path32). A path
 * exists to find loops (SplitStream §4.2: no adoption of a peer on one's own
 * path to the root), and a loop is a peer meeting itself; two peers share a
 * 32-bit prefix with odds of 1 in 4.3 x 10^9 per comparison (a whole
 * 10^6-peer build makes a few 10^9: about one false loop), and such a
 * collision only refuses one adoption or breaks one attachment, which the
 * orphan's next search repairs. Half the bytes of 64-bit entries
 * matter at 10^6 peers, where paths are the part of Scribe's state that
 * grows while a forest builds. Path messages carry the 64-bit field of the
 * wire format with the low 32 bits zero.
 */
static inline uint32_t path32(uint64_t p64) {
  return (uint32_t)(p64 >> 32);
}
static inline uint64_t path64(uint32_t p32) {
  return (uint64_t)p32 << 32;
}
_Static_assert(sizeof(scribe_group) <= 88, "a group should stay within 88 bytes");
_Static_assert(SC_PATH_MAX < 64 && DEPTH_MAX < (1u << 15), "npath and depth bit fields");
_Static_assert(SC_SCRIBE_CHILDREN_MAX < (1u << 16), "children_log counts to 16");

/* Slots of a children array of size exponent log (0: none). */
static inline uint32_t children_cap_of(const sc_scribe *s, unsigned log) {
  if (log == 0) return 0;
  uint32_t cap = 1u << log;
  return cap < s->cfg.children_max ? cap : s->cfg.children_max;
}
/* Slots of gr's children array. */
static inline uint32_t children_cap(const sc_scribe *s, const scribe_group *gr) {
  return children_cap_of(s, gr->children_log);
}
/* Reallocates gr's children array to children_cap_of(log) slots (grow or
 * shrink; the children it holds must fit): SC_OK, or SC_ERR_NOMEM with the
 * array unchanged. */
static int children_resize(sc_scribe *s, scribe_group *gr, unsigned log) {
  void *n = s->alloc->realloc(
      gr->children, children_cap_of(s, log) * sizeof(scribe_child), s->alloc->user);
  if (n == NULL) return SC_ERR_NOMEM;
  gr->children = n;
  gr->children_log = log & 31u;
  return SC_OK;
}
_Static_assert(SC_SCRIBE_GROUPS_MAX *(SC_PATH_MAX - 1) <= UINT16_MAX,
               "path_off is 16 bits");

void sc_scribe_config_default(sc_scribe_config *c) {
  c->heartbeat_ns = 10ull * 1000000000ull;   /* FreePastry 2003: every 10 s */
  c->heartbeat_misses = 2;                   /* ... repair after 2 misses */
  c->join_timeout_ns = 5ull * 1000000000ull; /* SplitStream's 2003 timers: 5 s */
  c->children_max = 4096;
}

/* ------------------------------------------------------------- helpers */

static void scribe_send(sc_scribe *s, sc_addr to, sc_msg *m) {
  m->sender = s->self;
  s->msgs_sent++;
  s->send(s->user, to, m);
}

/* Failed searches since the last lasting parent (see scribe_group.carried). */
static unsigned search_count(const scribe_group *gr) {
  unsigned n = (unsigned)gr->attempt + gr->carried;
  return n < UINT8_MAX ? n : UINT8_MAX;
}

static bool needs_parent(const scribe_group *gr) {
  return !gr->root && (gr->parent_addr == SC_ADDR_NONE || gr->parent_leaving) &&
         (gr->member || gr->nchildren > 0);
}

/* Every write of a group's retry_ns goes through here (retry_mask). */
static void group_set_retry(sc_scribe *s, scribe_group *gr, uint64_t t) {
  uint32_t bit = 1u << (uint32_t)(gr - s->groups);
  gr->retry_ns = t;
  if (t == NEVER)
    s->retry_mask &= ~bit;
  else
    s->retry_mask |= bit;
}

static int child_index(const scribe_group *gr, sc_addr a) {
  for (uint32_t i = 0; i < gr->nchildren; i++)
    if (gr->children[i].addr == a) return (int)i;
  return -1;
}

/* (1 + U[0,1)) x timeout x 2^attempt: SplitStream's find-parent schedule. */
static uint64_t retry_delay(sc_scribe *s, unsigned attempt) {
  unsigned d = attempt < BACKOFF_DOUBLINGS_MAX ? attempt : BACKOFF_DOUBLINGS_MAX;
  double f = (1.0 + sc_rng_unit(&s->rng)) * (double)(1u << d);
  return (uint64_t)((double)s->cfg.join_timeout_ns * f);
}

/* Resizes gr's share of s->anc to n entries, moving the shares after it. */
static int anc_resize(sc_scribe *s, scribe_group *gr, unsigned n) {
  int delta = (int)n - (int)gr->anc_n;
  if (delta == 0) return SC_OK;
  uint32_t len = (uint32_t)((int)s->anc_len + delta);
  uint32_t cap = (uint32_t)((len + ANC_STEP - 1) / ANC_STEP * ANC_STEP);
  if (delta > 0 && cap > s->anc_cap) {
    void *np = s->alloc->realloc(s->anc, cap * sizeof(*s->anc), s->alloc->user);
    if (np == NULL) return SC_ERR_NOMEM;
    s->anc = np;
    s->anc_cap = cap;
  }
  uint32_t end = (uint32_t)gr->path_off + gr->anc_n;
  if (s->anc_len > end)
    memmove(s->anc + (int)end + delta, s->anc + end,
            (s->anc_len - end) * sizeof(*s->anc));
  for (uint32_t h = 0; h < s->ngroups; h++)
    if (&s->groups[h] != gr && s->groups[h].path_off >= end)
      s->groups[h].path_off = (uint16_t)((int)s->groups[h].path_off + delta);
  gr->anc_n = (uint8_t)n;
  s->anc_len = len;
  if (delta < 0 && cap < s->anc_cap && cap > 0) { /* give the space back */
    void *np = s->alloc->realloc(s->anc, cap * sizeof(*s->anc), s->alloc->user);
    if (np != NULL) {
      s->anc = np;
      s->anc_cap = cap;
    }
  }
  return SC_OK;
}

static int set_path(sc_scribe *s, scribe_group *gr, const uint64_t *anc, unsigned n,
                    unsigned parent_depth) {
  /* Keep the deepest SC_PATH_MAX - 1 ancestors, then this peer. */
  if (n > SC_PATH_MAX - 1) {
    anc += n - (SC_PATH_MAX - 1);
    n = SC_PATH_MAX - 1;
  }
  int rv = anc_resize(s, gr, n);
  if (rv != SC_OK) return rv;
  for (unsigned i = 0; i < n; i++)
    s->anc[gr->path_off + i] = path32(anc[i]);
  gr->npath = (uint8_t)(n + 1);
  gr->depth = (uint16_t)(parent_depth < DEPTH_MAX ? parent_depth + 1 : DEPTH_MAX);
  return SC_OK;
}

/* Entry i < gr->npath of gr's path: an ancestor, or this peer (the last). */
static uint64_t path_at(const sc_scribe *s, const scribe_group *gr, unsigned i) {
  return path64(i + 1u < gr->npath ? s->anc[gr->path_off + i] : path32(s->self64));
}

static bool path_has(const sc_scribe *s, const scribe_group *gr, uint64_t p64) {
  if (gr->npath == 0) return false;
  uint32_t p = path32(p64);
  if (p == path32(s->self64)) return true;
  const uint32_t *a = s->anc + gr->path_off;
  for (unsigned i = 0; i + 1u < gr->npath; i++)
    if (a[i] == p) return true;
  return false;
}

static void fill_path_msg(const sc_scribe *s, const scribe_group *gr, sc_msg *m,
                          bool accept) {
  m->type = SC_MSG_SCRIBE_PATH;
  m->u.scribe_path.group = gr->id;
  m->u.scribe_path.accept = accept ? 1 : 0;
  if (gr->npath == 0) { /* not attached yet: the path is this peer alone */
    m->u.scribe_path.n = 1;
    m->u.scribe_path.path[0] = path64(path32(s->self64));
    m->u.scribe_path.depth = gr->root ? 0 : DEPTH_FLOATING;
    return;
  }
  m->u.scribe_path.n = gr->npath;
  for (unsigned i = 0; i < gr->npath; i++)
    m->u.scribe_path.path[i] = path_at(s, gr, i);
  m->u.scribe_path.depth = gr->depth;
}

static void send_path(sc_scribe *s, const scribe_group *gr) {
  if (gr->nchildren == 0) return;
  sc_msg m;
  fill_path_msg(s, gr, &m, false);
  for (uint32_t i = 0; i < gr->nchildren; i++)
    scribe_send(s, gr->children[i].addr, &m);
}

/* Tells every child of gr this peer's (new) path, now and again at the next
 * PATH_REPEATS heartbeat ticks. A path is how a cycle is found (SplitStream
 * §4.2's ancestor check: a peer that finds itself on its parent's path
 * leaves it, and the depths of a cycle count up until one does), and one
 * update lost (to loss, or to a partition shorter than the heartbeat's
 * failure detection) used to leave a cycle whose members heartbeat each
 * other for good. Repeated past the longest silence a parent survives,
 * an update crosses a healed cut; a cycle's members keep changing depth, so
 * keep repeating until one of them finds itself. */
static void push_path(sc_scribe *s, scribe_group *gr) {
  send_path(s, gr);
  gr->path_repeats = PATH_REPEATS;
}

static void send_leave(sc_scribe *s, const sc_id *group, sc_addr to) {
  sc_msg m;
  m.type = SC_MSG_SCRIBE_LEAVE;
  m.u.scribe_group.group = *group;
  scribe_send(s, to, &m);
}

/* Forgets gr's parent (and so its path); the caller decides when to search. */
static void detach(scribe_group *gr) {
  gr->parent_addr = SC_ADDR_NONE;
  gr->parent_leaving = 0;
  gr->npath = 0;
  gr->changed = 1;
  gr->attempt = 0;
  gr->carried = 0;
}

/* The parent is gone (dead, silent, or no longer counting us): search again
 * at the next expiry, from the first attempt. */
static void lose_parent(sc_scribe *s, scribe_group *gr, uint64_t now) {
  detach(gr);
  group_set_retry(s, gr, now);
  gr->fresh = 1;
}

static void become_root(sc_scribe *s, scribe_group *gr) {
  if (gr->parent_addr != SC_ADDR_NONE) {
    send_leave(s, &gr->id, gr->parent_addr);
    gr->parent_addr = SC_ADDR_NONE;
  }
  bool was = gr->root;
  gr->root = 1;
  gr->attempt = 0;
  group_set_retry(s, gr, NEVER);
  if (set_path(s, gr, NULL, 0, 0) == SC_OK) gr->depth = 0;
  if (!was) {
    push_path(s, gr);
    gr->changed = 1;
  }
}

/* Ends this peer's part in gr's tree when nothing needs it there any more. */
static void maybe_leave(sc_scribe *s, scribe_group *gr) {
  if (gr->member || gr->nchildren > 0) return;
  if (gr->parent_addr != SC_ADDR_NONE) {
    send_leave(s, &gr->id, gr->parent_addr);
    gr->parent_addr = SC_ADDR_NONE;
  }
  gr->root = 0;
  gr->npath = 0;
  group_set_retry(s, gr, NEVER);
  gr->attempt = 0;
}

/* Removes gr's child i (the last child takes its slot). An array that falls
 * to a quarter full is halved: children move between stripes while a large
 * forest builds, and arrays that kept their largest size held 0.2 GB at 10^6
 * peers (bench/RESULTS.md, forest memory). Halving at a quarter, not at a
 * half, keeps one adoption and one drop from resizing back and forth. */
static void remove_child_at(sc_scribe *s, scribe_group *gr, uint32_t i) {
  gr->children[i] = gr->children[--gr->nchildren];
  gr->changed = 1;
  if (gr->children_log <= CHILDREN_FIRST_LOG) return;
  uint32_t cap = children_cap(s, gr);
  unsigned log = gr->children_log - 1u;
  if ((uint32_t)gr->nchildren * 4u > cap || children_cap_of(s, log) >= cap) return;
  (void)children_resize(s, gr, log); /* out of memory: keep the larger array */
}

/* Drops `to` (or refuses it) in gr, naming push-down candidates: gr's other
 * children and heir, the newcomer that takes to's place (NULL: none), which
 * is one of the dropper's children by the time the orphan asks (SplitStream
 * §4.2: the orphan tries its former siblings). */
static void send_drop(sc_scribe *s, const scribe_group *gr, sc_addr to,
                      const sc_ref *heir) {
  sc_msg m;
  m.type = SC_MSG_SCRIBE_DROP;
  m.u.scribe_drop.group = gr->id;
  unsigned n = 0;
  /* Push-down candidates: the children that share a digit with the group
   * first (they forward it as their primary stripe, SplitStream §4.2), each
   * kind in random order; the heir counts as one more child. */
  uint32_t nc = gr->nchildren + (heir != NULL);
  uint32_t start = nc ? sc_rng_below(&s->rng, nc) : 0;
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t k = 0; k < nc && n < SC_DROP_CANDIDATES; k++) {
      uint32_t i = (start + k) % nc;
      sc_ref c = i < gr->nchildren ? child_ref(&gr->children[i]) : *heir;
      if (c.addr == to) continue;
      bool match = sc_id_digit(&c.id, 0) == sc_id_digit(&gr->id, 0);
      if (match == (pass == 0)) m.u.scribe_drop.e[n++] = c;
    }
  }
  m.u.scribe_drop.n = (uint8_t)n;
  s->stats.drops_sent++;
  scribe_send(s, to, &m);
}

static void call_changed(sc_scribe *s, unsigned g, uint64_t now) {
  scribe_group *gr = &s->groups[g];
  if (!gr->changed) return;
  gr->changed = 0;
  if (s->pol.tree_changed) s->pol.tree_changed(s->user, g, now);
}

/* Looks for a parent for g now: the policy's way, or a routed JOIN. drop:
 * the refusal this search answers (NULL: the retry timer's search).
 *
 * A refusal is answered at once only by the policy's searches elsewhere
 * (push-down to the refuser's children, an anycast). A routed join is not
 * sent again at once: routes are deterministic, so it would end at the
 * same refuser and be refused again, one join, acknowledgement and refusal
 * every round trip for as long as the refuser refuses (a peer leaving
 * politely refuses every join for its whole grace period, and the spare
 * capacity group, whose policy has no other search, repeated its join that
 * way at ~19,000 messages/s on loopback). The retry timer set here sends
 * it, later each time (SplitStream's find-parent schedule). Behind that,
 * REFUSAL_SEARCHES_MAX bounds the searches refusals start at once. */
static int find_parent(sc_scribe *s, unsigned g, const sc_msg_scribe_drop *drop,
                       uint64_t now) {
  scribe_group *gr = &s->groups[g];
  if (!needs_parent(gr)) return SC_OK;
  if (s->departing) {
    /* Leaving: no parent is worth finding, and no peer would take us. */
    group_set_retry(s, gr, NEVER);
    return SC_OK;
  }
  group_set_retry(s, gr, now + retry_delay(s, gr->attempt));
  if (drop != NULL) {
    if (now - s->refusal_window_ns >= s->cfg.join_timeout_ns) {
      s->refusal_window_ns = now;
      s->refusal_searches = 0;
    }
    if (s->refusal_searches >= REFUSAL_SEARCHES_MAX) {
      s->stats.refusals_deferred++;
      return SC_OK;
    }
    s->refusal_searches++;
  }
  unsigned attempt = search_count(gr);
  if (s->pol.find_parent && s->pol.find_parent(s->user, g, attempt, drop, now))
    return SC_OK;
  if (drop != NULL) {
    s->stats.refusals_deferred++;
    return SC_OK;
  }
  return sc_scribe_join_via(s, g, NULL, now);
}

/* ------------------------------------------------------------ lifecycle */

int sc_scribe_new(sc_scribe **out, sc_pastry *pastry, const sc_scribe_config *cfg,
                  const sc_scribe_policy *policy, sc_scribe_send_fn send,
                  const sc_alloc *alloc, void *user, uint64_t seed, uint64_t now) {
  if (out == NULL || pastry == NULL || send == NULL) return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_scribe *s = alloc->calloc(1, sizeof(*s), alloc->user);
  if (s == NULL) return SC_ERR_NOMEM;
  s->pastry = pastry;
  s->self = *sc_pastry_self(pastry);
  s->self64 = sc_id_prefix64(&s->self.id);
  if (cfg)
    s->cfg = *cfg;
  else
    sc_scribe_config_default(&s->cfg);
  if (s->cfg.heartbeat_ns == 0 || s->cfg.heartbeat_ns > SC_SCRIBE_HEARTBEAT_MAX_NS ||
      s->cfg.heartbeat_misses > SC_SCRIBE_HEARTBEAT_MISSES_MAX ||
      s->cfg.join_timeout_ns == 0 || s->cfg.children_max == 0 ||
      s->cfg.children_max > SC_SCRIBE_CHILDREN_MAX) {
    alloc->free(s, alloc->user);
    return SC_ERR_INVALID;
  }
  if (policy) s->pol = *policy;
  s->send = send;
  s->alloc = alloc;
  s->user = user;
  sc_rng_seed(&s->rng, seed ^ 0x5c21be0000000001ull);
  /* Spread the heartbeat ticks of many peers over a period. */
  s->hb_next_ns =
      now + sc_rng_below(&s->rng, 1000000u) * (s->cfg.heartbeat_ns / 1000000u) + 1;
  s->wake_ns = NEVER;
  *out = s;
  return SC_OK;
}

void sc_scribe_del(sc_scribe *s) {
  if (s == NULL) return;
  for (uint32_t g = 0; g < s->ngroups; g++)
    s->alloc->free(s->groups[g].children, s->alloc->user);
  s->alloc->free(s->anc, s->alloc->user);
  s->alloc->free(s->groups, s->alloc->user);
  s->alloc->free(s, s->alloc->user);
}

/* SplitStream's stripe ids differ only in their first digit: the tag mixes
 * it with bits the spare group's id differs in. Equal tags are compared in
 * full. */
static inline uint8_t group_tag(const sc_id *id) {
  return (uint8_t)((id->hi >> 56) ^ (id->hi >> 24) ^ id->lo);
}

int sc_scribe_group_find(const sc_scribe *s, const sc_id *id) {
  const uint8_t tag = group_tag(id);
  for (uint32_t g = 0; g < s->ngroups; g++)
    if (s->tags[g] == tag && sc_id_eq(&s->groups[g].id, id)) return (int)g;
  return SC_ERR_NOT_FOUND;
}

bool sc_scribe_group_complete(const sc_scribe *s, sc_id *id) {
  for (uint32_t g = 0; g < s->ngroups; g++)
    if (s->groups[g].id.hi == id->hi) {
      *id = s->groups[g].id;
      return true;
    }
  return false;
}

int sc_scribe_group(sc_scribe *s, const sc_id *id) {
  int g = sc_scribe_group_find(s, id);
  if (g >= 0) return g;
  if (s->ngroups == SC_SCRIBE_GROUPS_MAX) return SC_ERR_FULL;
  if (s->ngroups == s->groups_cap) {
    /* One at a time: a peer takes part in a handful of groups (SplitStream:
     * k + 1), so exact sizing saves more than it costs. */
    uint32_t ncap = s->groups_cap + 1;
    void *n = s->alloc->realloc(s->groups, ncap * sizeof(scribe_group), s->alloc->user);
    if (n == NULL) return SC_ERR_NOMEM;
    s->groups = n;
    s->groups_cap = ncap;
  }
  scribe_group *gr = &s->groups[s->ngroups];
  memset(gr, 0, sizeof(*gr));
  gr->id = *id;
  s->tags[s->ngroups] = group_tag(id);
  gr->parent_addr = SC_ADDR_NONE;
  group_set_retry(s, gr, NEVER);
  gr->path_off = (uint16_t)s->anc_len;
  return (int)s->ngroups++;
}

const sc_id *sc_scribe_group_id(const sc_scribe *s, unsigned g) {
  assert(g < s->ngroups);
  return &s->groups[g].id;
}

/* ---------------------------------------------------------- membership */

int sc_scribe_subscribe(sc_scribe *s, unsigned g, uint64_t now) {
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  gr->member = 1;
  if (!needs_parent(gr) || gr->retry_ns != NEVER) return SC_OK;
  gr->attempt = 0;
  return find_parent(s, g, NULL, now);
}

/* A polite departure, step 1: tell every child in every group that we are
 * leaving; they search for new parents while we keep forwarding (and take no
 * one new). Step 2, after the host's grace period: sc_scribe_depart_finish. */
int sc_scribe_depart(sc_scribe *s, uint64_t now) {
  (void)now;
  s->departing = 1;
  unsigned sent = 0;
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    group_set_retry(s, gr, NEVER); /* a leaving peer searches no more */
    for (uint32_t i = 0; i < gr->nchildren; i++, sent++)
      send_leave(s, &gr->id, gr->children[i].addr);
  }
  return (int)sent;
}

int sc_scribe_release_children(sc_scribe *s, unsigned g, uint64_t now) {
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  if (gr->root || gr->nchildren == 0) return 0;
  int n = 0;
  while (gr->nchildren > 0) {
    sc_addr a = gr->children[gr->nchildren - 1].addr;
    remove_child_at(s, gr, gr->nchildren - 1);
    /* A drop naming nobody: the siblings are let go too. */
    sc_msg m;
    m.type = SC_MSG_SCRIBE_DROP;
    m.u.scribe_drop.group = gr->id;
    m.u.scribe_drop.n = 0;
    s->stats.drops_sent++;
    scribe_send(s, a, &m);
    n++;
  }
  maybe_leave(s, gr);
  (void)now;
  return n;
}

/* Step 2: leave every parent now rather than let it wait for our silence. */
void sc_scribe_depart_finish(sc_scribe *s, uint64_t now) {
  (void)now;
  s->departing = 1;
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    if (gr->parent_addr != SC_ADDR_NONE) send_leave(s, &gr->id, gr->parent_addr);
    detach(gr);
    group_set_retry(s, gr, NEVER);
    gr->member = 0;
  }
}

bool sc_scribe_departing(const sc_scribe *s) {
  return s->departing != 0;
}

int sc_scribe_unsubscribe(sc_scribe *s, unsigned g, uint64_t now) {
  (void)now;
  assert(g < s->ngroups);
  s->groups[g].member = 0;
  maybe_leave(s, &s->groups[g]);
  return SC_OK;
}

int sc_scribe_join_via(sc_scribe *s, unsigned g, const sc_ref *to, uint64_t now) {
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  if (gr->retry_ns == NEVER) group_set_retry(s, gr, now + retry_delay(s, gr->attempt));
  if (to == NULL) {
    s->stats.joins_routed++;
    if (sc_pastry_owns(s->pastry, &gr->id)) {
      become_root(s, gr);
      call_changed(s, g, now);
      return SC_OK;
    }
    /* A forwarder that has already searched once without a place (attempt
     * 2 is its second routed join, after the spare capacity group failed)
     * says it carries a subtree, so that a full peer drops a leaf instead of
     * it (sc_scribe_policy.admit). Not from the first attempt: with no spare
     * capacity at all (d x d), displacing leaves early churns the tree. */
    uint64_t flags =
        gr->nchildren > 0 && search_count(gr) >= 2 ? SC_SCRIBE_JOIN_FORWARDER : 0;
    return sc_pastry_route(s->pastry, &gr->id, SC_ROUTE_SCRIBE_JOIN, flags, now);
  }
  s->stats.joins_direct++;
  sc_msg m;
  m.type = SC_MSG_SCRIBE_JOIN;
  m.u.scribe_group.group = gr->id;
  scribe_send(s, to->addr, &m);
  return SC_OK;
}

int sc_scribe_switch_parent(sc_scribe *s, unsigned g, uint64_t now) {
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  if (gr->parent_addr == SC_ADDR_NONE || gr->parent_leaving || s->departing) return SC_OK;
  /* As when the parent leaves politely: keep it until another accepts. */
  gr->parent_leaving = 1;
  gr->attempt = 0;
  gr->fresh = 1;
  group_set_retry(s, gr, now);
  s->stats.parents_switched++;
  return SC_OK;
}

void sc_scribe_retry_at(sc_scribe *s, unsigned g, uint64_t at_ns) {
  assert(g < s->ngroups);
  group_set_retry(s, &s->groups[g], at_ns);
}

int sc_scribe_adopt(sc_scribe *s, unsigned g, const sc_ref *child, uint64_t now) {
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  int i = child_index(gr, child->addr);
  if (i < 0) {
    if (gr->nchildren >= s->cfg.children_max) {
      send_drop(s, gr, child->addr, NULL);
      return SC_ERR_FULL;
    }
    if (gr->nchildren == children_cap(s, gr)) {
      /* 2^CHILDREN_FIRST_LOG, then doubling, at most children_max. */
      unsigned log = gr->children_log ? gr->children_log + 1u : CHILDREN_FIRST_LOG;
      if (children_resize(s, gr, log) != SC_OK) return SC_ERR_NOMEM;
    }
    i = (int)gr->nchildren++;
    gr->children[i].id = child->id;
    gr->children[i].addr = child->addr;
    child_set_since(&gr->children[i], now);
    gr->changed = 1;
    s->stats.adoptions++;
  }
  child_set_heard(&gr->children[i], now);
  sc_msg m;
  fill_path_msg(s, gr, &m, true);
  scribe_send(s, child->addr, &m);
  /* A peer that was not in the tree joins it for its new child (Scribe §2.2). */
  if (needs_parent(gr) && gr->retry_ns == NEVER) {
    gr->attempt = 0;
    return find_parent(s, g, NULL, now);
  }
  return SC_OK;
}

int sc_scribe_drop_child(sc_scribe *s, unsigned g, const sc_ref *child,
                         const sc_ref *heir, uint64_t now) {
  (void)now;
  assert(g < s->ngroups);
  scribe_group *gr = &s->groups[g];
  int i = child_index(gr, child->addr);
  if (i < 0) return SC_ERR_NOT_FOUND;
  sc_addr a = child->addr;
  remove_child_at(s, gr, (uint32_t)i);
  send_drop(s, gr, a, heir != NULL && heir->addr != a ? heir : NULL);
  return SC_OK;
}

/* True if a drop from gr would name a useful push-down candidate: a child
 * sharing the group's first digit (SplitStream §4.2; see find_parent). */
static bool has_pushdown_candidate(const scribe_group *gr) {
  for (uint32_t i = 0; i < gr->nchildren; i++)
    if (sc_id_digit(&gr->children[i].id, 0) == sc_id_digit(&gr->id, 0)) return true;
  return false;
}

/* handle_join's answer when a routed join should travel on (see there). */
#define JOIN_PASSED 1

/* A join for g from newcomer reached this peer (routed or direct). may_pass:
 * a routed join not at its last hop, which this peer may let travel on
 * instead of refusing it. Returns 0, JOIN_PASSED or a negative error. */
static int handle_join(sc_scribe *s, unsigned g, const sc_ref *newcomer, bool forwarder,
                       bool may_pass, uint64_t now) {
  scribe_group *gr = &s->groups[g];
  if (newcomer->addr == s->self.addr) return SC_OK;
  if (child_index(gr, newcomer->addr) >= 0) return sc_scribe_adopt(s, g, newcomer, now);
  if (s->departing) { /* leaving: take nobody new */
    send_drop(s, gr, newcomer->addr, NULL);
    return SC_OK;
  }
  if (path_has(s, gr, sc_id_prefix64(&newcomer->id))) {
    /* The newcomer is our ancestor: taking it would close a loop. */
    s->stats.loops_refused++;
    sc_msg m;
    m.type = SC_MSG_SCRIBE_DROP;
    m.u.scribe_drop.group = gr->id;
    m.u.scribe_drop.n = 0;
    s->stats.drops_sent++;
    scribe_send(s, newcomer->addr, &m);
    return SC_OK;
  }
  if (s->pol.admit && !s->pol.admit(s->user, g, newcomer, forwarder, now)) {
    gr = &s->groups[g];
    if (may_pass && !has_pushdown_candidate(gr)) {
      /* Refused by a full peer with no child to push the newcomer down to:
       * its drop would name nobody, and the newcomer, sent back to the
       * spare capacity group, would meet this same peer first on its next
       * routed join (a leaf that cannot forward, or a forwarder without
       * room, sitting on every route to the root). The join travels on
       * toward the root, where the drop rule of SplitStream §4.2 can make
       * room for it. */
      s->stats.joins_passed++;
      return JOIN_PASSED;
    }
    send_drop(s, gr, newcomer->addr, NULL);
    return SC_OK;
  }
  int rv = sc_scribe_adopt(s, g, newcomer, now);
  call_changed(s, g, now);
  return rv == SC_ERR_FULL ? SC_OK : rv;
}

/* ------------------------------------------------------------- anycast */

static bool seen_has(const sc_msg_anycast *a, uint64_t p64) {
  for (unsigned i = 0; i < a->nseen; i++)
    if (a->seen[i] == p64) return true;
  return false;
}

static void visit_push(sc_msg_anycast *a, const sc_ref *r) {
  if (a->nvisit >= SC_ANYCAST_VISIT_MAX || seen_has(a, sc_id_prefix64(&r->id))) return;
  if (r->addr == a->requester.addr) return;
  for (unsigned i = 0; i < a->nvisit; i++)
    if (a->visit[i].addr == r->addr) return;
  a->visit[a->nvisit++] = *r;
}

static void anycast_fail(sc_scribe *s, const sc_msg_anycast *a, uint64_t now) {
  if (a->requester.addr == s->self.addr) {
    s->stats.anycasts_failed++;
    if (s->pol.anycast_failed) s->pol.anycast_failed(s->user, &a->group, a->app_id, now);
    return;
  }
  sc_msg m;
  m.type = SC_MSG_ANYCAST_FAIL;
  m.u.anycast_fail.group = a->group;
  m.u.anycast_fail.app_id = a->app_id;
  scribe_send(s, a->requester.addr, &m);
}

/* One step of the depth-first search (Scribe §2.3): this peer, then its
 * children (those sharing the group's first digit first, as FreePastry's
 * SplitStream policy orders them), then its parent. */
static void anycast_visit(sc_scribe *s, int g, sc_msg_anycast *a, uint64_t now) {
  uint64_t me = s->self64;
  if (!seen_has(a, me) && a->nseen < SC_ANYCAST_SEEN_MAX) a->seen[a->nseen++] = me;
  if (g >= 0) {
    if (!s->departing && s->pol.anycast_take &&
        s->pol.anycast_take(s->user, (unsigned)g, a, now)) {
      s->stats.anycasts_taken++;
      return;
    }
    scribe_group *gr = &s->groups[g];
    /* The stack pops from the end: push the parent first, children after. */
    if (gr->parent_addr != SC_ADDR_NONE) {
      sc_ref pr;
      memset(&pr, 0, sizeof(pr));
      pr.id = gr->parent_id;
      pr.addr = gr->parent_addr;
      visit_push(a, &pr);
    }
    uint32_t n = gr->nchildren;
    uint32_t start = n ? sc_rng_below(&s->rng, n) : 0;
    for (int pass = 0; pass < 2; pass++) {
      for (uint32_t k = 0; k < n; k++) {
        sc_ref c = child_ref(&gr->children[(start + k) % n]);
        bool match = sc_id_digit(&c.id, 0) == sc_id_digit(&gr->id, 0);
        if (match == (pass == 1)) visit_push(a, &c);
      }
    }
  }
  while (a->nvisit > 0) {
    sc_ref next = a->visit[--a->nvisit];
    if (seen_has(a, sc_id_prefix64(&next.id))) continue;
    if (a->nseen >= SC_ANYCAST_SEEN_MAX) break; /* the search is bounded */
    sc_msg m;
    m.type = SC_MSG_ANYCAST;
    m.u.anycast = *a;
    s->stats.anycast_steps++;
    scribe_send(s, next.addr, &m);
    return;
  }
  anycast_fail(s, a, now);
}

static bool in_tree(const scribe_group *gr) {
  return gr->root || gr->member || gr->nchildren > 0 || gr->parent_addr != SC_ADDR_NONE;
}

static void anycast_start(sc_scribe *s, int g, const sc_msg_route *r, uint64_t now) {
  sc_msg_anycast a;
  memset(&a, 0, sizeof(a));
  a.group = r->key;
  a.requester = r->origin;
  a.app_id = r->app_id;
  anycast_visit(s, g, &a, now);
}

int sc_scribe_anycast(sc_scribe *s, const sc_id *group, uint64_t app_id, uint64_t now) {
  /* Always routed, even from inside the tree: the search should start where
   * the route enters the tree, not in the requester's own subtree. */
  s->stats.anycasts_started++;
  return sc_pastry_route(s->pastry, group, SC_ROUTE_ANYCAST, app_id, now);
}

/* ----------------------------------------------------------- multicast */

int sc_scribe_publish(sc_scribe *s, const sc_id *group, uint32_t seq, uint64_t now) {
  return sc_pastry_route(s->pastry, group, SC_ROUTE_PUBLISH, seq, now);
}

int sc_scribe_locate_root(sc_scribe *s, const sc_id *group, uint64_t now) {
  return sc_pastry_route(s->pastry, group, SC_ROUTE_SCRIBE_ROOT, 0, now);
}

static void send_root_answer(sc_scribe *s, const sc_id *group, bool is_root, bool ack,
                             uint32_t seq, sc_addr to) {
  sc_msg m;
  memset(&m, 0, sizeof(m));
  m.type = SC_MSG_SCRIBE_ROOT;
  m.u.scribe_root.group = *group;
  m.u.scribe_root.is_root = is_root;
  m.u.scribe_root.ack = ack;
  m.u.scribe_root.seq = seq;
  scribe_send(s, to, &m);
}

static void multicast_down(sc_scribe *s, unsigned g, const sc_msg_multicast *in,
                           uint64_t now) {
  scribe_group *gr = &s->groups[g];
  /* A new source epoch numbers its generations from 0 again: its sequence
   * numbers start a new window instead of being taken for old ones, which
   * dropped a restarted source's first generations in every tree until its
   * numbers passed the last source's. The tag is the epoch's low byte: two
   * epochs 25.6 s apart (a multiple) look alike and fall back to the window;
   * two sources sending at once reset it in turn, and receivers drop the
   * earlier epoch's chunks (core/stream). */
  const uint32_t tag = in->epoch & 0xffu;
  if (gr->have_seq && tag != gr->epoch_tag) gr->have_seq = 0;
  /* Duplicates (a publisher resending to a new root, two parents during a
   * switch) stop here instead of flowing down the whole tree: the last 32
   * sequence numbers are remembered, older ones dropped as stale. */
  const uint32_t seq = in->seq & SEQ_MASK;
  if (gr->have_seq) {
    uint32_t back = (gr->last_seq - seq) & SEQ_MASK; /* wraps for newer seqs */
    if (back < 32) {
      if (gr->seen_mask & (1u << back)) {
        s->multicasts_dup++;
        return;
      }
      gr->seen_mask |= 1u << back;
    } else if (back < SEQ_HALF) {
      s->multicasts_dup++; /* older than the window */
      return;
    } else {
      uint32_t ahead = (seq - gr->last_seq) & SEQ_MASK;
      gr->seen_mask = ahead < 32 ? (gr->seen_mask << ahead) | 1 : 1;
      gr->last_seq = seq;
    }
  } else {
    gr->have_seq = 1;
    gr->last_seq = seq;
    gr->epoch_tag = tag;
    gr->seen_mask = 1;
  }
  s->multicasts_recv++;
  const bool held =
      gr->member && s->pol.multicast && s->pol.multicast(s->user, g, in, now);
  gr = &s->groups[g];
  if (held) return;
  if (gr->nchildren == 0) return;
  sc_msg m;
  m.type = SC_MSG_MULTICAST;
  m.u.multicast = *in;
  m.u.multicast.depth = (uint16_t)(in->depth + 1);
  for (uint32_t i = 0; i < gr->nchildren; i++)
    scribe_send(s, gr->children[i].addr, &m);
}

int sc_scribe_multicast_children(sc_scribe *s, const sc_msg_multicast *mc, uint64_t now) {
  (void)now;
  int g = sc_scribe_group_find(s, &mc->group);
  if (g < 0) return SC_ERR_NOT_FOUND;
  const scribe_group *gr = &s->groups[g];
  sc_msg m;
  m.type = SC_MSG_MULTICAST;
  m.u.multicast = *mc;
  m.u.multicast.depth = (uint16_t)(mc->depth + 1);
  m.u.multicast.repair = 0;
  for (uint32_t i = 0; i < gr->nchildren; i++)
    scribe_send(s, gr->children[i].addr, &m);
  return SC_OK;
}

int sc_scribe_publish_local(sc_scribe *s, const sc_msg_multicast *mc, uint64_t now) {
  int g = sc_scribe_group_find(s, &mc->group);
  if (g < 0 || !s->groups[g].root) return SC_ERR_NOT_FOUND;
  sc_msg_multicast m = *mc;
  m.depth = 0;
  m.repair = 0;
  multicast_down(s, (unsigned)g, &m, now);
  return SC_OK;
}

/* ------------------------------------------------------- route upcalls */

bool sc_scribe_forward(sc_scribe *s, const sc_msg *rm, uint64_t now) {
  const sc_msg_route *r = &rm->u.route;
  if (r->kind == SC_ROUTE_SCRIBE_JOIN) {
    if (s->departing) return true; /* leaving: let the next peer take it */
    int have = sc_scribe_group_find(s, &r->key);
    if (have >= 0 && path_has(s, &s->groups[have], sc_id_prefix64(&r->origin.id))) {
      /* We hang below the joiner: a repairing peer whose subtree holds the
       * peers on its route. Taking it would close a loop and refusing it
       * would leave it no way out of its own subtree, so the join travels on
       * toward the root, which is nobody's descendant (SplitStream §4.2's
       * loop rule, applied where the route would otherwise end). */
      s->stats.loops_passed++;
      return true;
    }
    int g = have >= 0 ? have : sc_scribe_group(s, &r->key);
    if (g < 0) return true; /* no room for the group here: let it pass */
    return handle_join(s, (unsigned)g, &r->origin,
                       (r->app_id & SC_SCRIBE_JOIN_FORWARDER) != 0, true,
                       now) == JOIN_PASSED;
  }
  if (r->kind == SC_ROUTE_ANYCAST) {
    int g = sc_scribe_group_find(s, &r->key);
    if (g < 0 || !in_tree(&s->groups[g])) return true;
    if (path_has(s, &s->groups[g], sc_id_prefix64(&r->origin.id))) {
      /* We hang below the requester: a search started here could only
       * wander its own subtree, where nobody may take it (no loops), so the
       * anycast travels on toward the group, as a join does. */
      s->stats.loops_passed++;
      return true;
    }
    anycast_start(s, g, r, now);
    return false;
  }
  return true;
}

void sc_scribe_deliver(sc_scribe *s, const sc_msg *rm, uint64_t now) {
  const sc_msg_route *r = &rm->u.route;
  if (r->kind == SC_ROUTE_SCRIBE_JOIN) {
    int g = sc_scribe_group(s, &r->key);
    if (g < 0) return;
    become_root(s, &s->groups[g]);
    call_changed(s, (unsigned)g, now);
    if (r->origin.addr != s->self.addr)
      (void)handle_join(s, (unsigned)g, &r->origin,
                        (r->app_id & SC_SCRIBE_JOIN_FORWARDER) != 0, false, now);
    return;
  }
  if (r->kind == SC_ROUTE_ANYCAST) {
    int g = sc_scribe_group_find(s, &r->key);
    sc_msg_anycast a;
    memset(&a, 0, sizeof(a));
    a.group = r->key;
    a.requester = r->origin;
    a.app_id = r->app_id;
    if (g >= 0 && in_tree(&s->groups[g]))
      anycast_visit(s, g, &a, now);
    else
      anycast_fail(s, &a, now);
    return;
  }
  if (r->kind == SC_ROUTE_PUBLISH) {
    int g = sc_scribe_group_find(s, &r->key);
    if (g < 0) return; /* no tree here: nobody subscribed */
    scribe_group *gr = &s->groups[g];
    if (!gr->root && in_tree(gr)) become_root(s, gr);
    sc_msg_multicast mc;
    memset(&mc, 0, sizeof(mc));
    mc.group = r->key;
    mc.seq = (uint32_t)r->app_id;
    mc.depth = 0;
    mc.sent_ns = r->app_time_ns;
    multicast_down(s, (unsigned)g, &mc, now);
    return;
  }
  if (r->kind == SC_ROUTE_SCRIBE_ROOT) {
    /* A publisher locating the root (Scribe §2.2): the route ended here, so
     * this peer is, or from now on will be, the root; it answers so the
     * publisher can send straight here. */
    int g = sc_scribe_group(s, &r->key);
    if (g < 0) return;
    if (!s->groups[g].root) {
      become_root(s, &s->groups[g]);
      call_changed(s, (unsigned)g, now);
    }
    s->stats.roots_located++;
    /* Also when the publisher is this peer: the answer then comes back to
     * it like any other, and it publishes locally. */
    send_root_answer(s, &r->key, true, false, 0, r->origin.addr);
  }
}

/* ------------------------------------------------------------ messages */

static void handle_path(sc_scribe *s, unsigned g, const sc_ref *from,
                        const sc_msg_scribe_path *p, uint64_t now) {
  scribe_group *gr = &s->groups[g];
  bool from_parent = gr->parent_addr == from->addr;
  if (!from_parent) {
    if (!p->accept) return; /* stale: not our parent any more */
    if (!needs_parent(gr)) {
      /* Already attached (or the root, or no longer interested): a second
       * answer to a search; decline it. */
      send_leave(s, &gr->id, from->addr);
      return;
    }
  }
  bool loop = false;
  for (unsigned i = 0; i < p->n; i++)
    if (path32(p->path[i]) == path32(s->self64)) loop = true;
  unsigned rel = p->depth >= DEPTH_FLOATING ? p->depth - DEPTH_FLOATING : p->depth;
  if (rel >= DEPTH_LOOP) loop = true;
  if (loop) {
    /* We are on our would-be parent's path to the root. */
    s->stats.loops_broken++;
    send_leave(s, &gr->id, from->addr);
    if (from_parent) lose_parent(s, gr, now);
    return;
  }
  uint16_t old_depth = gr->depth;
  uint8_t old_n = gr->npath;
  uint64_t old_last = old_n >= 2 ? path_at(s, gr, old_n - 2u) : 0;
  uint64_t old_first = old_n ? path_at(s, gr, 0) : 0;
  if (!from_parent) {
    /* Only a peer whose parent is leaving accepts a new one while it has
     * one: let the old parent stop sending now. */
    if (gr->parent_addr != SC_ADDR_NONE) send_leave(s, &gr->id, gr->parent_addr);
    gr->parent_leaving = 0;
    gr->parent_id = from->id;
    gr->parent_addr = from->addr;
    gr->parent_since_ns = now;
    gr->fresh = 0;
    gr->found = (uint8_t)search_count(gr);
    gr->attempt = 0;
    gr->carried = 0;
    group_set_retry(s, gr, NEVER);
    gr->changed = 1;
  }
  gr->parent_heard_ns = now;
  if (set_path(s, gr, p->path, p->n, p->depth) != SC_OK) return;
  bool changed = !from_parent || gr->depth != old_depth || gr->npath != old_n ||
                 (gr->npath >= 2 && path_at(s, gr, gr->npath - 2u) != old_last) ||
                 path_at(s, gr, 0) != old_first;
  if (changed) push_path(s, gr);
  call_changed(s, g, now);
}

static void handle_heartbeat(sc_scribe *s, const sc_ref *from,
                             const sc_msg_scribe_heartbeat *hb, uint64_t now) {
  bool listed[SC_SCRIBE_GROUPS_MAX] = {false};
  for (unsigned i = 0; i < hb->n; i++) {
    int g = sc_scribe_group_find(s, &hb->groups[i]);
    if (g >= 0) listed[g] = true;
  }
  if (hb->from_parent) {
    sc_msg m;
    m.type = SC_MSG_SCRIBE_HEARTBEAT;
    m.u.scribe_hb.from_parent = 0;
    unsigned n = 0;
    for (uint32_t g = 0; g < s->ngroups; g++) {
      scribe_group *gr = &s->groups[g];
      if (gr->parent_addr != from->addr) continue;
      if (listed[g]) {
        gr->parent_heard_ns = now;
        m.u.scribe_hb.groups[n++] = gr->id;
      } else if (now - gr->parent_since_ns >= s->cfg.heartbeat_ns / 2) {
        /* The parent no longer counts us as its child (a lost drop). A
         * parent that adopted us after sending this heartbeat would not name
         * the group yet: over a network that reorders, its accept may have
         * overtaken the heartbeat, hence the grace period. */
        lose_parent(s, gr, now);
        s->stats.parents_lost++;
      }
    }
    m.u.scribe_hb.n = (uint8_t)n;
    scribe_send(s, from->addr, &m); /* the child's refresh */
  } else {
    for (uint32_t g = 0; g < s->ngroups; g++) {
      scribe_group *gr = &s->groups[g];
      int i = child_index(gr, from->addr);
      if (i < 0) continue;
      if (listed[g]) {
        child_set_heard(&gr->children[i], now);
      } else if (t48_age(now, child_since(&gr->children[i])) > now - s->hb_last_ns) {
        /* Not listed in the answer to a heartbeat that named this group: the
         * child left. (A child adopted since that heartbeat may simply not
         * have heard of its adoption when it answered.) */
        remove_child_at(s, gr, (uint32_t)i);
        maybe_leave(s, gr);
      }
    }
  }
  for (uint32_t g = 0; g < s->ngroups; g++)
    call_changed(s, g, now);
}

int sc_scribe_recv(sc_scribe *s, const sc_msg *m, uint64_t now) {
  s->msgs_recv++;
  const sc_id *gid;
  switch (m->type) {
  case SC_MSG_MULTICAST:
    gid = &m->u.multicast.group;
    break;
  case SC_MSG_SCRIBE_PATH:
    if (m->u.scribe_path.n == 0 || m->u.scribe_path.n > SC_PATH_MAX) goto invalid;
    gid = &m->u.scribe_path.group;
    break;
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    gid = &m->u.scribe_group.group;
    break;
  case SC_MSG_SCRIBE_DROP:
    if (m->u.scribe_drop.n > SC_DROP_CANDIDATES) goto invalid;
    gid = &m->u.scribe_drop.group;
    break;
  case SC_MSG_ANYCAST:
    if (m->u.anycast.nvisit > SC_ANYCAST_VISIT_MAX ||
        m->u.anycast.nseen > SC_ANYCAST_SEEN_MAX)
      goto invalid;
    gid = &m->u.anycast.group;
    break;
  case SC_MSG_ANYCAST_FAIL:
    gid = &m->u.anycast_fail.group;
    break;
  case SC_MSG_SCRIBE_HEARTBEAT:
    if (m->u.scribe_hb.n > SC_SCRIBE_HB_GROUPS) goto invalid;
    handle_heartbeat(s, &m->sender, &m->u.scribe_hb, now);
    return SC_OK;
  default:
    goto invalid;
  }
  if (m->sender.addr == s->self.addr && m->type != SC_MSG_ANYCAST) goto invalid;
  int g = sc_scribe_group_find(s, gid);
  switch (m->type) {
  case SC_MSG_MULTICAST:
    if (m->u.multicast.repair) return SC_OK; /* the stream's business (node) */
    if (g >= 0 && s->groups[g].parent_addr == m->sender.addr) {
      multicast_down(s, (unsigned)g, &m->u.multicast, now);
    } else if (m->u.multicast.depth == 0) {
      /* A publisher sending straight to the root it located (Scribe §2.2).
       * Anyone else tells it to locate the root again. */
      if (g >= 0 && s->groups[g].root) {
        /* Acknowledged first, so the answer does not queue behind the
         * copies: a publisher that hears nothing suspects the root. */
        s->stats.publishes_direct++;
        send_root_answer(s, gid, true, true, m->u.multicast.seq, m->sender.addr);
        multicast_down(s, (unsigned)g, &m->u.multicast, now);
      } else {
        send_root_answer(s, gid, false, false, 0, m->sender.addr);
      }
    }
    return SC_OK;
  case SC_MSG_SCRIBE_PATH:
    if (g >= 0) {
      handle_path(s, (unsigned)g, &m->sender, &m->u.scribe_path, now);
    } else if (m->u.scribe_path.accept) {
      send_leave(s, gid, m->sender.addr);
    }
    return SC_OK;
  case SC_MSG_SCRIBE_JOIN:
    if (g < 0) g = sc_scribe_group(s, gid);
    if (g < 0) return g == SC_ERR_NOMEM ? g : SC_OK;
    return handle_join(s, (unsigned)g, &m->sender, false, false, now);
  case SC_MSG_SCRIBE_LEAVE:
    if (g >= 0 && s->groups[g].parent_addr == m->sender.addr && !s->departing) {
      /* From our parent: it is leaving politely and forwards until we have
       * found another (sc_scribe_depart). Search now, from attempt 0. */
      scribe_group *gr = &s->groups[g];
      if (!gr->parent_leaving) {
        gr->parent_leaving = 1;
        gr->attempt = 0;
        gr->fresh = 1;
        group_set_retry(s, gr, now);
        s->stats.parents_leaving++;
      }
      return SC_OK;
    }
    if (g >= 0) {
      scribe_group *gr = &s->groups[g];
      int i = child_index(gr, m->sender.addr);
      if (i >= 0) {
        remove_child_at(s, gr, (uint32_t)i);
        maybe_leave(s, gr);
        call_changed(s, (unsigned)g, now);
      }
    }
    return SC_OK;
  case SC_MSG_SCRIBE_DROP: {
    if (g < 0) return SC_OK;
    scribe_group *gr = &s->groups[g];
    s->stats.drops_recv++;
    if (gr->parent_addr == m->sender.addr && gr->parent_leaving) {
      /* Our leaving parent refused a join: it still forwards, keep it. */
    } else if (gr->parent_addr == m->sender.addr) {
      /* Dropped by a parent that held us for less than the longest wait of
       * the search schedule: the policy's count of failed searches goes on
       * from the search that found that parent, one failure further, instead
       * of starting again. Where the peers that want a full peer's last slot
       * outnumber its slots, each drop makes room for another of them, and
       * with the count restarted at every brief parent none would ever reach
       * the last resort of the schedule (SplitStream §4.2's anycast inside
       * the stripe tree after five failures). The waits restart: a longer
       * wait would only slow the search down. */
      bool brief = now - gr->parent_since_ns <
                   2 * (s->cfg.join_timeout_ns << BACKOFF_DOUBLINGS_MAX);
      unsigned found = gr->found;
      detach(gr);
      if (brief) gr->carried = (uint8_t)(found < UINT8_MAX ? found + 1 : found);
      group_set_retry(s, gr, NEVER); /* find_parent below sets it */
      call_changed(s, (unsigned)g, now);
    } else if (gr->parent_addr != SC_ADDR_NONE || gr->root) {
      return SC_OK; /* a late refusal: we found a parent meanwhile */
    }
    if (!needs_parent(&s->groups[g])) return SC_OK;
    return find_parent(s, (unsigned)g, &m->u.scribe_drop, now);
  }
  case SC_MSG_ANYCAST: {
    sc_msg_anycast a = m->u.anycast;
    if (g >= 0 && !in_tree(&s->groups[g])) g = -1;
    anycast_visit(s, g, &a, now);
    return SC_OK;
  }
  case SC_MSG_ANYCAST_FAIL:
    s->stats.anycasts_failed++;
    if (s->pol.anycast_failed)
      s->pol.anycast_failed(s->user, gid, m->u.anycast_fail.app_id, now);
    return SC_OK;
  default:
    break;
  }
invalid:
  s->stats.msgs_invalid++;
  return SC_ERR_INVALID;
}

void sc_scribe_peer_failed(sc_scribe *s, const sc_ref *dead, uint64_t now) {
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    if (gr->parent_addr == dead->addr) {
      lose_parent(s, gr, now);
      s->stats.parents_lost++;
    }
    int i = child_index(gr, dead->addr);
    if (i >= 0) {
      remove_child_at(s, gr, (uint32_t)i);
      maybe_leave(s, gr); /* a forwarder whose last child died */
    }
  }
  s->wake_ns = now;
}

/* --------------------------------------------------------------- timers */

/* Sends each child one heartbeat naming the groups it is our child in, and
 * forgets tree neighbours that have been silent too long. */
static void heartbeat_tick(sc_scribe *s, uint64_t now) {
  uint64_t period = s->cfg.heartbeat_ns;
  uint64_t parent_dead = period * s->cfg.heartbeat_misses + period / 2;
  uint64_t child_dead = period * (s->cfg.heartbeat_misses + 1) + period / 2;
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    if (gr->parent_addr != SC_ADDR_NONE && now - gr->parent_heard_ns > parent_dead) {
      lose_parent(s, gr, now);
      s->stats.parents_lost++;
    }
    uint32_t before = gr->nchildren;
    for (uint32_t i = 0; i < gr->nchildren;) {
      scribe_child *c = &gr->children[i];
      if (t48_age(now, child_heard(c)) > child_dead) {
        remove_child_at(s, gr, i);
        continue;
      }
      if (t48_age(now, child_since(c)) > CHILD_AGE_CLAMP_NS)
        child_set_since(c, now - CHILD_AGE_CLAMP_NS);
      i++;
    }
    if (gr->nchildren < before) maybe_leave(s, gr);
    if (gr->path_repeats > 0) {
      gr->path_repeats--;
      send_path(s, gr);
    }
  }
  /* One message per child peer: walk the children of every group and name,
   * for each peer not yet sent to, all groups it is a child in. Groups are
   * few (<= 32), so the quadratic scan stays small except for unbounded
   * roots, where it is still linear per group. */
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    for (uint32_t i = 0; i < gr->nchildren; i++) {
      sc_addr a = gr->children[i].addr;
      bool sent = false;
      for (uint32_t h = 0; h < g && !sent; h++)
        sent = child_index(&s->groups[h], a) >= 0;
      if (sent) continue;
      sc_msg m;
      m.type = SC_MSG_SCRIBE_HEARTBEAT;
      m.u.scribe_hb.from_parent = 1;
      unsigned n = 0;
      for (uint32_t h = g; h < s->ngroups; h++)
        if (child_index(&s->groups[h], a) >= 0)
          m.u.scribe_hb.groups[n++] = s->groups[h].id;
      m.u.scribe_hb.n = (uint8_t)n;
      scribe_send(s, a, &m);
    }
  }
}

void sc_scribe_prefetch(const sc_scribe *s) {
  /* The hot fields: see struct sc_scribe. */
  const char *a = (const char *)s, *end = (const char *)(&s->multicasts_dup + 1);
  for (; a < end; a += 64)
    __builtin_prefetch(a);
  __builtin_prefetch(end - 1);
}

void sc_scribe_prefetch_msg(const sc_scribe *s, const sc_msg *m) {
  if (m->type != SC_MSG_MULTICAST) return;
  const uint8_t tag = group_tag(&m->u.multicast.group);
  for (uint32_t g = 0; g < s->ngroups; g++)
    if (s->tags[g] == tag) {
      const scribe_group *gr = &s->groups[g];
      __builtin_prefetch(gr);
      __builtin_prefetch((const char *)(gr + 1) - 1);
      return;
    }
}

void sc_scribe_prefetch_children(const sc_scribe *s, const sc_msg *m) {
  if (m->type != SC_MSG_MULTICAST) return;
  int g = sc_scribe_group_find(s, &m->u.multicast.group);
  if (g < 0) return;
  const scribe_group *gr = &s->groups[g];
  const char *a = (const char *)gr->children;
  const char *end = (const char *)(gr->children + gr->nchildren);
  for (unsigned k = 0; a < end && k < 4; a += 64, k++)
    __builtin_prefetch(a);
}

unsigned sc_scribe_prefetch_targets(const sc_scribe *s, const sc_msg *m, sc_addr *out,
                                    unsigned max) {
  if (m->type != SC_MSG_MULTICAST || m->u.multicast.repair) return 0;
  int g = sc_scribe_group_find(s, &m->u.multicast.group);
  if (g < 0) return 0;
  const scribe_group *gr = &s->groups[g];
  unsigned n = gr->nchildren < max ? gr->nchildren : max;
  for (unsigned i = 0; i < n; i++)
    out[i] = gr->children[i].addr;
  return n;
}

uint64_t sc_scribe_get_expiry(const sc_scribe *s) {
  uint64_t t = s->hb_next_ns < s->wake_ns ? s->hb_next_ns : s->wake_ns;
  for (uint32_t m = s->retry_mask; m; m &= m - 1) {
    const scribe_group *gr = &s->groups[__builtin_ctz(m)];
    if (gr->retry_ns < t && needs_parent(gr)) t = gr->retry_ns;
  }
  return t;
}

/* A root that is no longer closest to its group (a closer peer joined the
 * overlay) hands over by joining toward the group id like anyone else
 * (Scribe §2.3). Checked once per heartbeat period. */
static int check_roots(sc_scribe *s, uint64_t now) {
  if (!sc_pastry_is_joined(s->pastry)) return SC_OK;
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    if (!gr->root || sc_pastry_owns(s->pastry, &gr->id)) continue;
    gr->root = 0;
    gr->npath = 0;
    gr->attempt = 0;
    group_set_retry(s, gr, NEVER);
    gr->changed = 1;
    if (needs_parent(gr)) {
      int rv = sc_scribe_join_via(s, g, NULL, now);
      if (rv < 0) return rv;
    }
  }
  return SC_OK;
}

int sc_scribe_handle_expiry(sc_scribe *s, uint64_t now) {
  s->wake_ns = NEVER;
  if (now >= s->hb_next_ns) {
    heartbeat_tick(s, now);
    s->hb_last_ns = now;
    s->hb_next_ns += s->cfg.heartbeat_ns;
    if (s->hb_next_ns <= now) s->hb_next_ns = now + s->cfg.heartbeat_ns;
    int rv = check_roots(s, now);
    if (rv < 0) return rv;
  }
  for (uint32_t g = 0; g < s->ngroups; g++) {
    scribe_group *gr = &s->groups[g];
    if (!needs_parent(gr)) {
      group_set_retry(s, gr, NEVER);
    } else if (gr->retry_ns <= now) {
      /* Each expiry without a parent is one more attempt: the next wait
       * doubles (SplitStream's 2003 schedule). */
      if (gr->fresh)
        gr->fresh = 0;
      else if (gr->attempt < UINT8_MAX)
        gr->attempt++;
      int rv = find_parent(s, g, NULL, now);
      if (rv < 0) return rv;
    }
    call_changed(s, g, now);
  }
  return SC_OK;
}

/* ----------------------------------------------------------------- state */

const sc_ref *sc_scribe_self(const sc_scribe *s) {
  return &s->self;
}
unsigned sc_scribe_groups(const sc_scribe *s) {
  return s->ngroups;
}
bool sc_scribe_is_member(const sc_scribe *s, unsigned g) {
  return s->groups[g].member;
}
bool sc_scribe_is_root(const sc_scribe *s, unsigned g) {
  return s->groups[g].root;
}
bool sc_scribe_attached(const sc_scribe *s, unsigned g) {
  return s->groups[g].root || s->groups[g].parent_addr != SC_ADDR_NONE;
}
bool sc_scribe_parent(const sc_scribe *s, unsigned g, sc_ref *out) {
  if (s->groups[g].parent_addr == SC_ADDR_NONE) return false;
  if (out) {
    memset(out, 0, sizeof(*out));
    out->id = s->groups[g].parent_id;
    out->addr = s->groups[g].parent_addr;
  }
  return true;
}
unsigned sc_scribe_children(const sc_scribe *s, unsigned g) {
  return s->groups[g].nchildren;
}
bool sc_scribe_child_at(const sc_scribe *s, unsigned g, unsigned i, sc_ref *out) {
  if (i >= s->groups[g].nchildren) return false;
  *out = child_ref(&s->groups[g].children[i]);
  return true;
}
uint64_t sc_scribe_child_age_ns(const sc_scribe *s, unsigned g, unsigned i,
                                uint64_t now) {
  if (i >= s->groups[g].nchildren) return 0;
  return t48_age(now, child_since(&s->groups[g].children[i]));
}
unsigned sc_scribe_children_total(const sc_scribe *s) {
  unsigned n = 0;
  for (uint32_t g = 0; g < s->ngroups; g++)
    n += s->groups[g].nchildren;
  return n;
}
unsigned sc_scribe_depth(const sc_scribe *s, unsigned g) {
  return s->groups[g].depth;
}
bool sc_scribe_on_path(const sc_scribe *s, unsigned g, uint64_t p64) {
  return path_has(s, &s->groups[g], p64);
}

void sc_scribe_get_stats(const sc_scribe *s, sc_scribe_stats *out) {
  *out = s->stats;
  out->msgs_sent = s->msgs_sent;
  out->msgs_recv = s->msgs_recv;
  out->multicasts_recv = s->multicasts_recv;
  out->multicasts_dup = s->multicasts_dup;
}

size_t sc_scribe_mem_bytes(const sc_scribe *s) {
  size_t n =
      sizeof(*s) + s->groups_cap * sizeof(scribe_group) + s->anc_cap * sizeof(*s->anc);
  for (uint32_t g = 0; g < s->ngroups; g++)
    n += children_cap(s, &s->groups[g]) * sizeof(scribe_child);
  return n;
}
