/* splitstream.c — the SplitStream forest as a Scribe policy (see splitstream.h). */
#include "splitstream.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "err.h"
#include "rng.h"

#define NO_STRIPE 0xFFu
/* An anycast's application word: the stripe wanted, and whether only peers
 * forwarding that stripe as their primary may take it (the first pass). */
#define ANY_STRIPE_MASK  0xFFull
#define ANY_PRIMARY_ONLY 0x100ull
#define VIA_PENDING      0x80u

struct sc_splitstream {
  sc_scribe *scribe;
  sc_splitstream_config cfg;
  sc_splitstream_callbacks cb;
  const sc_alloc *alloc;
  void *user;
  sc_rng rng;
  sc_ref self;
  unsigned primary;
  uint8_t group_of[SC_STRIPES_MAX];        /* stripe -> Scribe group */
  uint8_t stripe_of[SC_SCRIBE_GROUPS_MAX]; /* Scribe group -> stripe */
  uint8_t spare_group;
  uint8_t wants[SC_STRIPES_MAX];
  uint8_t attached[SC_STRIPES_MAX];
  uint8_t pushdowns[SC_STRIPES_MAX]; /* in the current search */
  /* How the search under way found (via) and how the current parent was
   * found (parent_via), sc_splitstream_via values; VIA_PENDING marks a
   * search started since the last parent. Measurement only. */
  uint8_t via[SC_STRIPES_MAX];
  uint8_t parent_via[SC_STRIPES_MAX];
  bool in_spare;
  sc_splitstream_stats stats;
};

void sc_splitstream_config_default(sc_splitstream_config *c) {
  c->stripes = SC_STRIPES_MAX;
  c->in_degree = SC_STRIPES_MAX;
  c->capacity = SC_STRIPES_MAX;
  c->pushdown_max = 8;
  c->tree_anycast_after = 5;
}

sc_id sc_splitstream_stripe_id(const sc_id *channel, unsigned stripes, unsigned i) {
  return sc_id_with_digit(channel, 0, i * (SC_ID_BASE / stripes));
}

sc_id sc_splitstream_spare_id(const sc_id *channel) {
  uint8_t b[16 + 5];
  sc_id_to_bytes(channel, b);
  memcpy(b + 16, "spare", 5);
  return sc_id_hash(b, sizeof(b));
}

unsigned sc_splitstream_primary(const sc_id *peer, unsigned stripes) {
  return sc_id_digit(peer, 0) / (SC_ID_BASE / stripes);
}

static bool valid_stripes(uint32_t k) {
  return k == 1 || k == 2 || k == 4 || k == 8 || k == 16;
}

int sc_splitstream_new(sc_splitstream **out, sc_scribe *scribe, const sc_id *channel,
                       const sc_splitstream_config *cfg,
                       const sc_splitstream_callbacks *cb, const sc_alloc *alloc,
                       void *user, uint64_t seed) {
  sc_splitstream_config c;
  if (cfg)
    c = *cfg;
  else
    sc_splitstream_config_default(&c);
  if (out == NULL || scribe == NULL || channel == NULL || !valid_stripes(c.stripes) ||
      c.in_degree > c.stripes)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_splitstream *ss = alloc->calloc(1, sizeof(*ss), alloc->user);
  if (ss == NULL) return SC_ERR_NOMEM;
  ss->scribe = scribe;
  ss->cfg = c;
  if (cb) ss->cb = *cb;
  ss->alloc = alloc;
  ss->user = user;
  ss->self = *sc_scribe_self(scribe);
  ss->primary = sc_splitstream_primary(&ss->self.id, c.stripes);
  sc_rng_seed(&ss->rng, seed ^ 0x5715e57ea3000001ull);
  memset(ss->stripe_of, NO_STRIPE, sizeof(ss->stripe_of));
  for (unsigned i = 0; i < c.stripes; i++) {
    sc_id sid = sc_splitstream_stripe_id(channel, c.stripes, i);
    int g = sc_scribe_group(scribe, &sid);
    if (g < 0) {
      alloc->free(ss, alloc->user);
      return g == SC_ERR_NOMEM ? g : SC_ERR_INVALID;
    }
    ss->group_of[i] = (uint8_t)g;
    ss->stripe_of[g] = (uint8_t)i;
  }
  sc_id spare = sc_splitstream_spare_id(channel);
  int g = sc_scribe_group(scribe, &spare);
  if (g < 0) {
    alloc->free(ss, alloc->user);
    return g == SC_ERR_NOMEM ? g : SC_ERR_INVALID;
  }
  ss->spare_group = (uint8_t)g;
  *out = ss;
  return SC_OK;
}

void sc_splitstream_del(sc_splitstream *ss) {
  if (ss) ss->alloc->free(ss, ss->alloc->user);
}

/* ------------------------------------------------------------- helpers */

unsigned sc_splitstream_load(const sc_splitstream *ss) {
  unsigned n = 0;
  for (unsigned i = 0; i < ss->cfg.stripes; i++)
    n += sc_scribe_children(ss->scribe, ss->group_of[i]);
  return n;
}

static bool has_room(const sc_splitstream *ss) {
  return ss->cfg.capacity == SC_CAPACITY_UNBOUNDED ||
         sc_splitstream_load(ss) < ss->cfg.capacity;
}

/* Forwarding in stripe i is this peer's own business: its primary stripe, or
 * a stripe it is the root of (small overlays). */
static bool forwards_as_primary(const sc_splitstream *ss, unsigned stripe) {
  return stripe == ss->primary || sc_scribe_is_root(ss->scribe, ss->group_of[stripe]);
}

/* Makes room for one more child in a full peer (SplitStream §4.2): drops a
 * random child of a non-primary stripe other than `keep` (the stripe the room
 * is for; NO_STRIPE: none). Returns true if it did. */
static bool drop_nonprimary(sc_splitstream *ss, unsigned keep, uint64_t now) {
  unsigned total = 0;
  for (unsigned i = 0; i < ss->cfg.stripes; i++)
    if (!forwards_as_primary(ss, i) && i != keep)
      total += sc_scribe_children(ss->scribe, ss->group_of[i]);
  if (total == 0) return false;
  unsigned pick = sc_rng_below(&ss->rng, total);
  for (unsigned i = 0; i < ss->cfg.stripes; i++) {
    if (forwards_as_primary(ss, i) || i == keep) continue;
    unsigned g = ss->group_of[i];
    unsigned n = sc_scribe_children(ss->scribe, g);
    if (pick < n) {
      sc_ref victim;
      sc_scribe_child_at(ss->scribe, g, pick, &victim);
      ss->stats.drops_nonprimary++;
      sc_scribe_drop_child(ss->scribe, g, &victim, NULL, now);
      return true;
    }
    pick -= n;
  }
  return false;
}

/* ------------------------------------------------------------- policy */

bool sc_splitstream_admit(sc_splitstream *ss, unsigned g, const sc_ref *newcomer,
                          bool forwarder, uint64_t now) {
  if (g == ss->spare_group) {
    /* A control tree: no stream data. Ours: a peer that forwards nothing
     * and wants nothing (capacity and in-degree 0: a broadcaster; a free
     * rider that receives needs its place in the tree, whose joins it
     * would otherwise refuse) stays out of it but as its root, since
     * every anycast step through it would be a message of its upload (a
     * broadcaster all listeners bootstrap through sat on the joins' routes:
     * 0.04x the stream's bytes at 50 listeners, bench/RESULTS.md,
     * "Broadcaster overhead"). Refused, a routed join travels on. */
    return ss->cfg.capacity > 0 || ss->cfg.in_degree > 0 ||
           sc_scribe_is_root(ss->scribe, g);
  }
  if (g >= SC_SCRIBE_GROUPS_MAX || ss->stripe_of[g] == NO_STRIPE) return true;
  unsigned stripe = ss->stripe_of[g];
  if (has_room(ss)) return true;
  if (!forwards_as_primary(ss, stripe)) return false;
  if (drop_nonprimary(ss, stripe, now)) return true;
  if (sc_scribe_is_root(ss->scribe, g) && sc_scribe_children(ss->scribe, g) == 0) {
    /* The root of a stripe is where the source's data enters its tree, so
     * it forwards the stripe to one child even with no capacity left (a
     * peer that can forward nothing may still be closest to a stripe id). */
    ss->stats.root_overflows++;
    return true;
  }
  /* Drop the primary-stripe child sharing the shortest prefix with the
   * stripe id, the newcomer included. Ours: ties go to the child adopted
   * last, the newcomer before all. The paper leaves ties open; broken at
   * random, they pushed peers of long standing down below a sibling, each
   * with the subtree it had gathered, and at scale again and again: chains
   * of forwarders one level apart, what made 10^5-peer trees deep (bench/
   * RESULTS.md, "Tree depth at scale"). The youngest child has gathered the
   * least below it. Ours too: a newcomer that carries a subtree (a routed
   * join of a repairing forwarder) is not a candidate. Refused, it would
   * orphan its whole subtree again, and when that subtree holds all the
   * spare capacity left no search can place it; a dropped leaf finds a
   * place in the spare capacity group. */
  const sc_id *sid = sc_scribe_group_id(ss->scribe, g);
  unsigned n = sc_scribe_children(ss->scribe, g);
  unsigned best = forwarder && n > 0 ? UINT_MAX : sc_id_shl(&newcomer->id, sid);
  uint64_t best_age = 0; /* the newcomer's */
  int victim = -1;       /* -1: the newcomer */
  for (unsigned i = 0; i < n; i++) {
    sc_ref c;
    sc_scribe_child_at(ss->scribe, g, i, &c);
    unsigned l = sc_id_shl(&c.id, sid);
    uint64_t age = sc_scribe_child_age_ns(ss->scribe, g, i, now);
    if (l < best || (l == best && age < best_age)) {
      best = l;
      best_age = age;
      victim = (int)i;
    }
  }
  if (victim < 0) return false;
  sc_ref v;
  sc_scribe_child_at(ss->scribe, g, (unsigned)victim, &v);
  ss->stats.drops_primary++;
  sc_scribe_drop_child(ss->scribe, g, &v, newcomer, now);
  return true;
}

bool sc_splitstream_anycast_take(sc_splitstream *ss, unsigned g, const sc_msg_anycast *a,
                                 uint64_t now) {
  if (a->requester.addr == ss->self.addr ||
      (a->app_id & ANY_STRIPE_MASK) >= ss->cfg.stripes)
    return false;
  unsigned stripe = (unsigned)(a->app_id & ANY_STRIPE_MASK);
  /* FreePastry's SplitStream policy lets an anycast visit the peers that
   * forward the stripe as their primary first; we do it as two searches. */
  if ((a->app_id & ANY_PRIMARY_ONLY) && !forwards_as_primary(ss, stripe)) return false;
  unsigned sg = ss->group_of[stripe];
  bool in_stripe_tree = g == sg;
  if (g != ss->spare_group && !in_stripe_tree) return false;
  /* Adoption conditions (SplitStream §4.2): receives the stripe, has room,
   * and the orphan is not on its own path to the stripe's root. */
  if (!sc_scribe_attached(ss->scribe, sg)) return false;
  if (sc_scribe_on_path(ss->scribe, sg, sc_id_prefix64(&a->requester.id))) return false;
  if (!has_room(ss)) {
    /* Inside the stripe tree (the last resort), a full peer makes room by
     * dropping a child of another stripe that is not its primary, as a full
     * peer does for a join (SplitStream §4.2); in the spare capacity group,
     * room is the condition. Ours: not only a forwarder of the stripe as its
     * primary. When no peer with spare capacity receives the stripe (d x d:
     * the peers with room want other stripes), only a receiver of the
     * stripe can make room in it, and the child it drops goes to the spare
     * capacity group of its own stripe, where there is room. */
    if (!in_stripe_tree || !drop_nonprimary(ss, stripe, now)) return false;
  }
  ss->stats.adoptions++;
  sc_scribe_adopt(ss->scribe, sg, &a->requester, now);
  return true;
}

bool sc_splitstream_find_parent(sc_splitstream *ss, unsigned g, unsigned attempt,
                                const sc_msg_scribe_drop *drop, uint64_t now) {
  if (g >= SC_SCRIBE_GROUPS_MAX || ss->stripe_of[g] == NO_STRIPE) return false;
  unsigned stripe = ss->stripe_of[g];
  if (drop && drop->n > 0 && ss->pushdowns[stripe] < ss->cfg.pushdown_max) {
    /* Push-down (SplitStream §4.2): ask one of the dropper's children that
     * shares the stripe's first digit, i.e. forwards it as its primary
     * stripe; they come first in the drop, in random order. A child that
     * does not forward the stripe could only adopt out of spare capacity,
     * which is the spare capacity group's job. */
    const sc_id *sid = sc_scribe_group_id(ss->scribe, g);
    if (sc_id_digit(&drop->e[0].id, 0) == sc_id_digit(sid, 0)) {
      ss->pushdowns[stripe]++;
      ss->stats.pushdowns++;
      ss->via[stripe] = SC_VIA_PUSHDOWN | VIA_PENDING;
      sc_scribe_join_via(ss->scribe, g, &drop->e[0], now);
      return true;
    }
  }
  ss->pushdowns[stripe] = 0;
  /* A routed join first, and again on every other retry: it is the one
   * search that can leave the orphan's own subtree when only the stripe's
   * root has room for it. */
  if (drop == NULL && attempt % 2 == 0) {
    ss->via[stripe] = SC_VIA_ROUTED | VIA_PENDING;
    return false;
  }
  /* An orphan that carries a subtree in this stripe searches inside the
   * stripe tree from its first anycast retry on, not after five failures:
   * when the spare capacity group has no room in this stripe outside its own
   * subtree, only a full forwarder of the stripe that drops a non-primary
   * child (SplitStream §4.2) can take it, and the routed join reaches only
   * the first tree member on its route. */
  unsigned after = sc_scribe_children(ss->scribe, g) > 0 ? 1 : ss->cfg.tree_anycast_after;
  if (attempt >= after && attempt % 2 == 1) {
    ss->stats.tree_anycasts++;
    ss->via[stripe] = SC_VIA_TREE_ANYCAST | VIA_PENDING;
    sc_scribe_anycast(ss->scribe, sc_scribe_group_id(ss->scribe, g), stripe, now);
    return true;
  }
  ss->stats.spare_anycasts++;
  ss->via[stripe] = SC_VIA_SPARE_ANYCAST | VIA_PENDING;
  sc_scribe_anycast(ss->scribe, sc_scribe_group_id(ss->scribe, ss->spare_group),
                    stripe | ANY_PRIMARY_ONLY, now);
  return true;
}

void sc_splitstream_anycast_failed(sc_splitstream *ss, const sc_id *group,
                                   uint64_t app_id, uint64_t now) {
  /* The first pass (primary forwarders only) failed: search again, taking
   * any peer with room. Otherwise the search timer of scribe.h tries again,
   * later each time. */
  unsigned stripe = (unsigned)(app_id & ANY_STRIPE_MASK);
  if ((app_id & ANY_PRIMARY_ONLY) && stripe < ss->cfg.stripes &&
      !sc_scribe_attached(ss->scribe, ss->group_of[stripe])) {
    sc_scribe_anycast(ss->scribe, group, stripe, now);
    return;
  }
  ss->stats.anycast_failures++;
}

void sc_splitstream_multicast(sc_splitstream *ss, unsigned g, const sc_msg_multicast *m,
                              uint64_t now) {
  if (g >= SC_SCRIBE_GROUPS_MAX || ss->stripe_of[g] == NO_STRIPE) return;
  if (ss->cb.stripe_data) ss->cb.stripe_data(ss->user, ss->stripe_of[g], m, now);
}

void sc_splitstream_tree_changed(sc_splitstream *ss, unsigned g, uint64_t now) {
  if (g < SC_SCRIBE_GROUPS_MAX && ss->stripe_of[g] != NO_STRIPE) {
    unsigned stripe = ss->stripe_of[g];
    bool att = sc_scribe_attached(ss->scribe, g);
    if (att != (bool)ss->attached[stripe]) {
      ss->attached[stripe] = att;
      if (att) ss->pushdowns[stripe] = 0;
      if (ss->cb.stripe_changed) ss->cb.stripe_changed(ss->user, stripe, att, now);
    }
    if (att && (ss->via[stripe] & VIA_PENDING)) {
      ss->via[stripe] &= (uint8_t)~VIA_PENDING;
      ss->parent_via[stripe] = ss->via[stripe];
    }
    /* Ours: a peer beyond its capacity holds children only under the root
     * allowance (sc_splitstream_admit). When a closer peer takes the root
     * over, Scribe's handover (§2.3) has it join toward the new root to go on
     * feeding them; one that wants no stripe at all (a broadcaster) drops them
     * instead (each finds another parent and asks it for what it missed, the
     * catch-up). A broadcaster (capacity 0) otherwise went on receiving its
     * own chunks back from the new roots and forwarding them: half again the
     * stream at 10 listeners; telling the children to go while it still
     * forwarded (make-before-break) kept it forwarding for tens of seconds
     * (bench/RESULTS.md, "Broadcaster overhead"). */
    if (ss->cfg.in_degree == 0 && !sc_scribe_is_root(ss->scribe, g) &&
        sc_scribe_children(ss->scribe, g) > 0 &&
        sc_splitstream_load(ss) > ss->cfg.capacity)
      (void)sc_scribe_release_children(ss->scribe, g, now);
  }
  /* Peers with free forwarding capacity belong to the spare capacity group
   * (SplitStream §4.2); those that filled up leave it. */
  bool room = ss->cfg.capacity > 0 && has_room(ss);
  if (room && !ss->in_spare) {
    ss->in_spare = true;
    sc_scribe_subscribe(ss->scribe, ss->spare_group, now);
  } else if (!room && ss->in_spare) {
    ss->in_spare = false;
    sc_scribe_unsubscribe(ss->scribe, ss->spare_group, now);
  }
}

/* ------------------------------------------------------------ lifecycle */

int sc_splitstream_start(sc_splitstream *ss, uint64_t now) {
  unsigned k = ss->cfg.stripes;
  unsigned order[SC_STRIPES_MAX];
  unsigned n = 0;
  order[n++] = ss->primary;
  for (unsigned i = 0; i < k; i++)
    if (i != ss->primary) order[n++] = i;
  /* I - 1 others at random: a partial Fisher-Yates shuffle of the rest. */
  for (unsigned i = 1; i < ss->cfg.in_degree && i < k; i++) {
    unsigned j = i + sc_rng_below(&ss->rng, k - i);
    unsigned t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (unsigned i = 0; i < ss->cfg.in_degree && i < k; i++)
    ss->wants[order[i]] = 1;
  for (unsigned i = 0; i < k; i++) {
    if (!ss->wants[i]) continue;
    int rv = sc_scribe_subscribe(ss->scribe, ss->group_of[i], now);
    if (rv < 0) return rv;
  }
  sc_splitstream_tree_changed(ss, ss->spare_group, now);
  return SC_OK;
}

int sc_splitstream_publish(sc_splitstream *ss, uint32_t seq, uint64_t now) {
  for (unsigned i = 0; i < ss->cfg.stripes; i++) {
    int rv = sc_scribe_publish(ss->scribe,
                               sc_scribe_group_id(ss->scribe, ss->group_of[i]), seq, now);
    if (rv < 0) return rv;
  }
  return SC_OK;
}

/* ---------------------------------------------------------------- state */

unsigned sc_splitstream_stripes(const sc_splitstream *ss) {
  return ss->cfg.stripes;
}

unsigned sc_splitstream_root_allowance(const sc_splitstream *ss) {
  unsigned n = 0;
  for (unsigned i = 0; i < ss->cfg.stripes; i++) {
    unsigned g = ss->group_of[i];
    if (sc_scribe_is_root(ss->scribe, g) && sc_scribe_children(ss->scribe, g) > 0) n++;
  }
  return n;
}
unsigned sc_splitstream_group(const sc_splitstream *ss, unsigned stripe) {
  assert(stripe < ss->cfg.stripes);
  return ss->group_of[stripe];
}
unsigned sc_splitstream_spare_group(const sc_splitstream *ss) {
  return ss->spare_group;
}
int sc_splitstream_stripe_of(const sc_splitstream *ss, unsigned g) {
  return g < SC_SCRIBE_GROUPS_MAX && ss->stripe_of[g] != NO_STRIPE ? ss->stripe_of[g]
                                                                   : -1;
}
bool sc_splitstream_wants(const sc_splitstream *ss, unsigned stripe) {
  return stripe < ss->cfg.stripes && ss->wants[stripe];
}
const sc_splitstream_config *sc_splitstream_config_get(const sc_splitstream *ss) {
  return &ss->cfg;
}
size_t sc_splitstream_mem_bytes(const sc_splitstream *ss) {
  return sizeof(*ss);
}

sc_splitstream_via sc_splitstream_parent_via(const sc_splitstream *ss, unsigned stripe) {
  if (stripe >= ss->cfg.stripes) return SC_VIA_NONE;
  return (sc_splitstream_via)ss->parent_via[stripe];
}

void sc_splitstream_get_stats(const sc_splitstream *ss, sc_splitstream_stats *out) {
  *out = ss->stats;
}
