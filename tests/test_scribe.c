/*
 * test_scribe.c — Scribe trees (core/scribe.c), the SplitStream policy
 * (core/splitstream.c) and the whole peer (core/node.c) through their public
 * API: a tiny in-test network (a time-ordered queue, literal latencies, every
 * peer's expiry honoured) hands messages between peers; tests assert on what
 * peers send, deliver and report, and on tree shape read through the state
 * accessors.
 *
 * Two kinds of peer: a Scribe peer (sc_pastry + sc_scribe wired by hand, with
 * a test policy that records multicasts and anycasts) and a whole sc_node
 * (Pastry + Scribe + SplitStream). Addresses from PHANTOM_BASE up are
 * phantom peers: what is sent to them is recorded, never delivered, so a test
 * can play a peer by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/node.h"
#include "core/rng.h"
#include "core/scribe.h"
#include "core/splitstream.h"
#include "failalloc.h"

#define NET_PEERS_MAX   48
#define PHANTOM_BASE    1000u
#define PHANTOM_LOG_MAX 256
#define SEQ_MAX         8
#define MS              1000000ull
#define S               1000000000ull

typedef enum { KIND_SCRIBE, KIND_NODE } peer_kind;

typedef struct queued {
  uint64_t at_ns, seq;
  uint32_t from, to;
  sc_msg msg;
} queued;

typedef struct phantom_msg {
  uint32_t from, to;
  sc_msg msg;
} phantom_msg;

typedef struct net {
  peer_kind kind;
  uint32_t n;
  uint64_t now_ns, seq;
  sc_id ids[NET_PEERS_MAX];
  bool alive[NET_PEERS_MAX];
  sc_node_config node_cfg[NET_PEERS_MAX];
  sc_node *node[NET_PEERS_MAX];
  sc_pastry *pastry[NET_PEERS_MAX];
  sc_scribe *scribe[NET_PEERS_MAX];
  /* Set when a peer returned SC_ERR_NOMEM (the allocation-failure test). */
  bool nomem[NET_PEERS_MAX];
  /* The time-ordered message queue: a binary heap of pointers. */
  queued **heap;
  size_t nheap, heap_cap;
  uint64_t sent_by[NET_PEERS_MAX];
  uint64_t recv_invalid;
  phantom_msg phantom[PHANTOM_LOG_MAX];
  size_t nphantom;
  /* Scribe peers' test policy. */
  bool take_anycast[NET_PEERS_MAX];
  uint32_t taken_count[NET_PEERS_MAX];
  uint64_t taken_app_id[NET_PEERS_MAX];
  sc_addr taken_requester[NET_PEERS_MAX];
  uint32_t anycast_failed[NET_PEERS_MAX];
  uint64_t anycast_failed_app_id[NET_PEERS_MAX];
  sc_id anycast_failed_group[NET_PEERS_MAX];
  uint32_t mc_count[NET_PEERS_MAX][SEQ_MAX];
  uint16_t mc_depth[NET_PEERS_MAX][SEQ_MAX];
  /* Whole peers' callbacks. */
  uint32_t stripe_data[NET_PEERS_MAX][SC_STRIPES_MAX][SEQ_MAX];
  bool stripe_attached[NET_PEERS_MAX][SC_STRIPES_MAX];
  uint64_t tally_sent[NET_PEERS_MAX]; /* TALLY messages each peer sent */
  bool stream_on; /* a stream's generations outrun SEQ_MAX: not logged */
  /* Path updates (SCRIBE_PATH but accepts) between the peers of cut_mask
   * are lost from cut_from_ns to cut_until_ns. */
  uint64_t cut_mask, cut_from_ns, cut_until_ns;
} net;

static net *g_net; /* test harness only: callbacks find the net here */

static uint32_t idx(void *user) {
  return (uint32_t)(uintptr_t)user;
}

static uint64_t latency_ns(uint32_t a, uint32_t b) {
  return (5 + (a * 7 + b * 7) % 40) * MS; /* symmetric, 5..44 ms */
}

/* ------------------------------------------------------------ the queue */

static bool q_less(const queued *a, const queued *b) {
  return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq);
}

static void q_push(net *nt, queued *x) {
  if (nt->nheap == nt->heap_cap) {
    nt->heap_cap = nt->heap_cap ? 2 * nt->heap_cap : 1024;
    nt->heap = realloc(nt->heap, nt->heap_cap * sizeof(queued *));
    assert_non_null(nt->heap);
  }
  size_t i = nt->nheap++;
  while (i > 0 && q_less(x, nt->heap[(i - 1) / 2])) {
    nt->heap[i] = nt->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  nt->heap[i] = x;
}

static queued *q_pop(net *nt) {
  queued *top = nt->heap[0];
  queued *last = nt->heap[--nt->nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= nt->nheap) break;
    if (c + 1 < nt->nheap && q_less(nt->heap[c + 1], nt->heap[c])) c++;
    if (!q_less(nt->heap[c], last)) break;
    nt->heap[i] = nt->heap[c];
    i = c;
  }
  if (nt->nheap > 0) nt->heap[i] = last;
  return top;
}

static void enqueue(uint32_t from, sc_addr to, const sc_msg *m) {
  net *nt = g_net;
  assert_true(from < nt->n);
  assert_int_equal(m->sender.addr, from);
  nt->sent_by[from]++;
  if (to >= PHANTOM_BASE) {
    assert_true(nt->nphantom < PHANTOM_LOG_MAX);
    phantom_msg *p = &nt->phantom[nt->nphantom++];
    p->from = from;
    p->to = to;
    memcpy(&p->msg, m, sc_msg_struct_size(m));
    return;
  }
  assert_true(to < nt->n);
  queued *x = malloc(sizeof(queued));
  assert_non_null(x);
  x->at_ns = nt->now_ns + latency_ns(from, to);
  x->seq = nt->seq++;
  x->from = from;
  x->to = to;
  memcpy(&x->msg, m, sc_msg_struct_size(m));
  q_push(nt, x);
}

/* ------------------------------------------------- Scribe peers' wiring */

static bool is_scribe_kind(uint8_t kind) {
  return kind >= SC_ROUTE_SCRIBE_JOIN && kind < SC_ROUTE_KIND_END;
}

static void sp_send(void *user, sc_addr to, const sc_msg *m) {
  enqueue(idx(user), to, m);
}

static void sp_deliver(void *user, const sc_msg *m, uint64_t now) {
  sc_scribe *s = g_net->scribe[idx(user)];
  if (s && is_scribe_kind(m->u.route.kind)) sc_scribe_deliver(s, m, now);
}

static bool sp_forward(void *user, const sc_msg *m, uint64_t now) {
  sc_scribe *s = g_net->scribe[idx(user)];
  return s == NULL || sc_scribe_forward(s, m, now);
}

/* Pastry's peer_failed is deliberately not passed to Scribe: tree failures
 * must be found by Scribe's own heartbeats. */
static const sc_pastry_callbacks sp_pastry_cb = {
    .send = sp_send, .deliver = sp_deliver, .forward = sp_forward};

static bool tp_take(void *user, unsigned g, const sc_msg_anycast *a, uint64_t now) {
  (void)g;
  (void)now;
  uint32_t i = idx(user);
  if (!g_net->take_anycast[i]) return false;
  g_net->taken_count[i]++;
  g_net->taken_app_id[i] = a->app_id;
  g_net->taken_requester[i] = a->requester.addr;
  return true;
}

static void tp_failed(void *user, const sc_id *group, uint64_t app_id, uint64_t now) {
  (void)now;
  uint32_t i = idx(user);
  g_net->anycast_failed[i]++;
  g_net->anycast_failed_app_id[i] = app_id;
  g_net->anycast_failed_group[i] = *group;
}

static bool tp_multicast(void *user, unsigned g, const sc_msg_multicast *m,
                         uint64_t now) {
  (void)g;
  (void)now;
  uint32_t i = idx(user);
  assert_true(m->seq < SEQ_MAX);
  g_net->mc_count[i][m->seq]++;
  g_net->mc_depth[i][m->seq] = m->depth;
  return false; /* Scribe forwards it */
}

static const sc_scribe_policy test_policy = {
    .anycast_take = tp_take, .anycast_failed = tp_failed, .multicast = tp_multicast};

/* --------------------------------------------------- whole peers' wiring */

static void nd_send(void *user, sc_addr to, const sc_msg *m) {
  if (m->type == SC_MSG_TALLY) g_net->tally_sent[idx(user)]++;
  enqueue(idx(user), to, m);
}

static void nd_stripe_data(void *user, unsigned stripe, const sc_msg_multicast *m,
                           uint64_t now) {
  (void)now;
  if (g_net->stream_on) return;
  assert_true(stripe < SC_STRIPES_MAX && m->seq < SEQ_MAX);
  g_net->stripe_data[idx(user)][stripe][m->seq]++;
}

static void nd_stripe_changed(void *user, unsigned stripe, bool attached, uint64_t now) {
  (void)now;
  assert_true(stripe < SC_STRIPES_MAX);
  g_net->stripe_attached[idx(user)][stripe] = attached;
}

static const sc_node_callbacks node_cb = {
    .send = nd_send, .stripe_data = nd_stripe_data, .stripe_changed = nd_stripe_changed};

/* ----------------------------------------------------------- the network */

/* Allocates a network of n peers with ids drawn from seed; tests may change
 * ids and node configs before net_create(). */
static net *net_alloc(peer_kind kind, uint32_t n, uint64_t seed) {
  assert_true(n <= NET_PEERS_MAX);
  net *nt = calloc(1, sizeof(net));
  assert_non_null(nt);
  nt->kind = kind;
  nt->n = n;
  g_net = nt;
  sc_rng r;
  sc_rng_seed(&r, seed);
  for (uint32_t i = 0; i < n; i++) {
    nt->ids[i] = (sc_id){sc_rng_next(&r), sc_rng_next(&r)};
    sc_node_config_default(&nt->node_cfg[i]);
  }
  return nt;
}

static sc_scribe *peer_scribe(net *nt, uint32_t i) {
  return nt->kind == KIND_NODE ? sc_node_scribe(nt->node[i]) : nt->scribe[i];
}

static sc_pastry *peer_pastry(net *nt, uint32_t i) {
  return nt->kind == KIND_NODE ? sc_node_pastry(nt->node[i]) : nt->pastry[i];
}

/* Creates peer i at the current time. */
static void peer_create(net *nt, uint32_t i, uint64_t seed) {
  sc_ref self = {nt->ids[i], i};
  void *user = (void *)(uintptr_t)i;
  uint64_t now = nt->now_ns;
  if (nt->kind == KIND_NODE) {
    assert_int_equal(sc_node_new(&nt->node[i], &self, seed + i, &nt->node_cfg[i],
                                 &node_cb, NULL, user, now),
                     0);
  } else {
    assert_int_equal(sc_pastry_new(&nt->pastry[i], &self, seed + i, NULL, &sp_pastry_cb,
                                   NULL, user, now),
                     0);
    assert_int_equal(sc_scribe_new(&nt->scribe[i], nt->pastry[i], NULL, &test_policy,
                                   sp_send, NULL, user, seed + i, now),
                     0);
  }
  nt->alive[i] = true;
}

static void net_create(net *nt, uint64_t seed) {
  for (uint32_t i = 0; i < nt->n; i++)
    peer_create(nt, i, seed);
}

static net *net_new(peer_kind kind, uint32_t n, uint64_t seed) {
  net *nt = net_alloc(kind, n, seed);
  net_create(nt, seed);
  return nt;
}

static void net_del(net *nt) {
  for (uint32_t i = 0; i < nt->n; i++) {
    sc_node_del(nt->node[i]);
    sc_scribe_del(nt->scribe[i]);
    sc_pastry_del(nt->pastry[i]);
  }
  while (nt->nheap > 0)
    free(q_pop(nt));
  free(nt->heap);
  free(nt);
  g_net = NULL;
}

static uint64_t peer_expiry(net *nt, uint32_t i) {
  if (nt->kind == KIND_NODE) return sc_node_get_expiry(nt->node[i]);
  uint64_t a = sc_pastry_get_expiry(nt->pastry[i]);
  uint64_t b = sc_scribe_get_expiry(nt->scribe[i]);
  return a < b ? a : b;
}

static int peer_expire(net *nt, uint32_t i, uint64_t now) {
  if (nt->kind == KIND_NODE) return sc_node_handle_expiry(nt->node[i], now);
  int rv = SC_OK;
  if (sc_pastry_get_expiry(nt->pastry[i]) <= now)
    rv = sc_pastry_handle_expiry(nt->pastry[i], now);
  if (rv == SC_OK && sc_scribe_get_expiry(nt->scribe[i]) <= now)
    rv = sc_scribe_handle_expiry(nt->scribe[i], now);
  return rv;
}

static int peer_recv(net *nt, uint32_t i, const sc_msg *m, uint64_t now) {
  if (nt->kind == KIND_NODE) return sc_node_recv(nt->node[i], m, now);
  if (m->type >= SC_MSG_MULTICAST && m->type < SC_MSG_TYPE_END)
    return sc_scribe_recv(nt->scribe[i], m, now);
  return sc_pastry_recv(nt->pastry[i], m, now);
}

/* A peer's answer: 0, SC_ERR_INVALID (counted) or, fatal, SC_ERR_NOMEM, after
 * which the peer is left alone (it falls silent, like a crash). */
static void peer_result(net *nt, uint32_t i, int rv) {
  if (rv == SC_ERR_NOMEM) {
    nt->nomem[i] = true;
    nt->alive[i] = false;
    return;
  }
  if (rv == SC_ERR_INVALID) {
    nt->recv_invalid++;
    return;
  }
  assert_int_equal(rv, 0);
}

/* Runs every message and timer due up to until_ns, in time order. */
static void net_run(net *nt, uint64_t until_ns) {
  for (;;) {
    uint64_t t_msg = nt->nheap ? nt->heap[0]->at_ns : UINT64_MAX;
    uint32_t tp = UINT32_MAX;
    uint64_t t_tm = UINT64_MAX;
    for (uint32_t i = 0; i < nt->n; i++) {
      if (!nt->alive[i]) continue;
      uint64_t e = peer_expiry(nt, i);
      if (e < t_tm) t_tm = e, tp = i;
    }
    uint64_t t = t_msg < t_tm ? t_msg : t_tm;
    if (t > until_ns) break;
    assert_true(t >= nt->now_ns);
    nt->now_ns = t;
    if (t_tm <= t_msg) {
      peer_result(nt, tp, peer_expire(nt, tp, t));
      if (nt->alive[tp]) assert_true(peer_expiry(nt, tp) > t);
    } else {
      queued *x = q_pop(nt);
      bool cut = x->msg.type == SC_MSG_SCRIBE_PATH && !x->msg.u.scribe_path.accept &&
                 t >= nt->cut_from_ns && t < nt->cut_until_ns &&
                 (nt->cut_mask >> x->from & 1) && (nt->cut_mask >> x->to & 1);
      if (nt->alive[x->to] && !cut)
        peer_result(nt, x->to, peer_recv(nt, x->to, &x->msg, t));
      free(x);
    }
  }
  nt->now_ns = until_ns;
}

/* Joins peers one after another, 2 s apart, through peer 0, then settles. */
static void net_build(net *nt) {
  for (uint32_t i = 0; i < nt->n; i++) {
    if (i > 0) net_run(nt, nt->now_ns + 2 * S);
    int rv = nt->kind == KIND_NODE
                 ? sc_node_join(nt->node[i], i == 0 ? SC_ADDR_NONE : 0, nt->now_ns)
                 : sc_pastry_join(nt->pastry[i], i == 0 ? SC_ADDR_NONE : 0, nt->now_ns);
    assert_int_equal(rv, 0);
  }
  net_run(nt, nt->now_ns + 60 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_true(sc_pastry_is_joined(peer_pastry(nt, i)));
}

/* The live peer numerically closest to key (ties to the smaller id). */
static uint32_t owner_of(const net *nt, const sc_id *key) {
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < nt->n; i++) {
    if (!nt->alive[i]) continue;
    if (best == UINT32_MAX || sc_id_closer(key, &nt->ids[i], &nt->ids[best])) best = i;
  }
  return best;
}

/* ------------------------------------------------------ tree inspection */

static int group_at(net *nt, uint32_t i, const sc_id *gid) {
  return sc_scribe_group_find(peer_scribe(nt, i), gid);
}

static bool has_child(net *nt, uint32_t p, const sc_id *gid, uint32_t c) {
  int g = group_at(nt, p, gid);
  if (g < 0) return false;
  const sc_scribe *s = peer_scribe(nt, p);
  for (unsigned k = 0; k < sc_scribe_children(s, (unsigned)g); k++) {
    sc_ref r;
    assert_true(sc_scribe_child_at(s, (unsigned)g, k, &r));
    if (r.addr == c) return true;
  }
  return false;
}

static bool attached(net *nt, uint32_t i, const sc_id *gid) {
  int g = group_at(nt, i, gid);
  return g >= 0 && sc_scribe_attached(peer_scribe(nt, i), (unsigned)g);
}

static bool is_member(net *nt, uint32_t i, const sc_id *gid) {
  int g = group_at(nt, i, gid);
  return g >= 0 && sc_scribe_is_member(peer_scribe(nt, i), (unsigned)g);
}

static unsigned children_of(net *nt, uint32_t i, const sc_id *gid) {
  int g = group_at(nt, i, gid);
  return g < 0 ? 0 : sc_scribe_children(peer_scribe(nt, i), (unsigned)g);
}

/* Parent of i in gid, or UINT32_MAX. */
static uint32_t parent_of(net *nt, uint32_t i, const sc_id *gid) {
  int g = group_at(nt, i, gid);
  sc_ref p;
  if (g < 0 || !sc_scribe_parent(peer_scribe(nt, i), (unsigned)g, &p)) return UINT32_MAX;
  return p.addr;
}

static bool is_root(net *nt, uint32_t i, const sc_id *gid) {
  int g = group_at(nt, i, gid);
  return g >= 0 && sc_scribe_is_root(peer_scribe(nt, i), (unsigned)g);
}

/* Follows i's parents: the root reached, or UINT32_MAX on a dead or missing
 * parent or a cycle. *edges: tree edges walked. */
static uint32_t chain_root(net *nt, uint32_t i, const sc_id *gid, unsigned *edges) {
  unsigned e = 0;
  uint32_t cur = i;
  while (e <= nt->n) {
    if (!nt->alive[cur]) return UINT32_MAX;
    if (is_root(nt, cur, gid)) {
      if (edges) *edges = e;
      return cur;
    }
    uint32_t p = parent_of(nt, cur, gid);
    if (p == UINT32_MAX) return UINT32_MAX;
    cur = p;
    e++;
  }
  return UINT32_MAX; /* a cycle */
}

/*
 * The tree of gid is well formed: exactly one live root, the owner of gid;
 * every member and every peer with children reaches it through live parents;
 * parent and child links agree both ways; and a peer that is neither member
 * nor forwarder keeps no link.
 */
static void assert_tree(net *nt, const sc_id *gid) {
  uint32_t root = owner_of(nt, gid);
  for (uint32_t i = 0; i < nt->n; i++) {
    if (!nt->alive[i]) continue;
    assert_int_equal(is_root(nt, i, gid), i == root);
    unsigned nc = children_of(nt, i, gid);
    if (is_member(nt, i, gid) || nc > 0) {
      assert_int_equal(chain_root(nt, i, gid, NULL), root);
    } else {
      assert_false(attached(nt, i, gid));
    }
    uint32_t p = parent_of(nt, i, gid);
    if (p != UINT32_MAX) assert_true(has_child(nt, p, gid, i));
    int g = group_at(nt, i, gid);
    for (unsigned k = 0; k < nc; k++) {
      sc_ref c;
      assert_true(sc_scribe_child_at(peer_scribe(nt, i), (unsigned)g, k, &c));
      assert_true(c.addr < nt->n && nt->alive[c.addr]);
      assert_int_equal(parent_of(nt, c.addr, gid), i);
    }
  }
}

/* Registers gid at the peers in `members` (a bit mask) and subscribes them. */
static void subscribe_mask(net *nt, const sc_id *gid, uint64_t members) {
  for (uint32_t i = 0; i < nt->n; i++) {
    if (!(members >> i & 1)) continue;
    int g = sc_scribe_group(peer_scribe(nt, i), gid);
    assert_true(g >= 0);
    assert_int_equal(sc_scribe_subscribe(peer_scribe(nt, i), (unsigned)g, nt->now_ns), 0);
  }
}

#define SCRIBE_PEERS 40
/* Members of the test group: every third peer but peer 0 (2/3 of the peers
 * are not members, so routes cross forwarders). */
static uint64_t member_mask(uint32_t n) {
  uint64_t m = 0;
  for (uint32_t i = 3; i < n; i += 3)
    m |= 1ull << i;
  return m;
}

/* A built network of Scribe peers in which group `name` has a tree. With
 * crowd, half the peers share the group id's first digit, so routes toward it
 * take several hops inside that digit and the tree has forwarders below the
 * root (in a network of 40 random ids a group may sit in a digit of its own,
 * and its tree is then a star). */
static net *scribe_net_with_group(uint64_t seed, const char *name, bool crowd, sc_id *gid,
                                  uint64_t *members) {
  *gid = sc_id_hash(name, strlen(name));
  net *nt = net_alloc(KIND_SCRIBE, SCRIBE_PEERS, seed);
  if (crowd)
    for (uint32_t i = 1; i < nt->n; i += 2)
      nt->ids[i] = sc_id_with_digit(&nt->ids[i], 0, sc_id_digit(gid, 0));
  net_create(nt, seed);
  net_build(nt);
  *members = member_mask(nt->n);
  subscribe_mask(nt, gid, *members);
  net_run(nt, nt->now_ns + 30 * S);
  return nt;
}

/* ------------------------------------------------------------ the tests */

static void test_join_builds_tree_rooted_at_closest(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    sc_id gid;
    uint64_t members;
    net *nt = scribe_net_with_group(seed, "group-join", seed == 3, &gid, &members);
    assert_tree(nt, &gid);
    for (uint32_t i = 0; i < nt->n; i++) {
      assert_int_equal(is_member(nt, i, &gid), members >> i & 1);
      if (members >> i & 1) assert_true(attached(nt, i, &gid));
    }
    assert_int_equal(nt->recv_invalid, 0);
    net_del(nt);
  }
}

static void test_root_moves_to_a_closer_newcomer(void **state) {
  (void)state;
  /* Scribe §2.3: the root is the live peer closest to the group id, also
   * after a closer peer joins the overlay; the old root hands over by joining
   * toward the group id like anyone else. */
  sc_id gid = sc_id_hash("group-handover", 14);
  net *nt = net_alloc(KIND_SCRIBE, SCRIBE_PEERS, 8);
  const uint32_t late = SCRIBE_PEERS - 1;
  nt->ids[late] = gid;
  nt->ids[late].lo ^= 1; /* closer to gid than anyone else */
  nt->n = late;          /* the last peer is not there yet */
  net_create(nt, 8);
  net_build(nt);
  uint64_t members = member_mask(nt->n);
  subscribe_mask(nt, &gid, members);
  net_run(nt, nt->now_ns + 30 * S);
  uint32_t old_root = owner_of(nt, &gid);
  assert_tree(nt, &gid);
  nt->n = late + 1;
  peer_create(nt, late, 8);
  assert_int_equal(sc_pastry_join(nt->pastry[late], 0, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 60 * S);
  assert_int_equal(owner_of(nt, &gid), late);
  assert_false(is_root(nt, old_root, &gid));
  assert_tree(nt, &gid);
  assert_int_equal(sc_scribe_publish(peer_scribe(nt, 0), &gid, 1, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(nt->mc_count[i][1], members >> i & 1);
  net_del(nt);
}

static void test_multicast_reaches_every_member_once(void **state) {
  (void)state;
  sc_id gid;
  uint64_t members;
  net *nt = scribe_net_with_group(4, "group-multicast", true, &gid, &members);
  assert_tree(nt, &gid);
  /* Published by a non-member (peer 1) and by a member (peer 3). */
  uint32_t publisher[2] = {1, 3};
  for (uint32_t seq = 1; seq <= 2; seq++) {
    assert_int_equal(
        sc_scribe_publish(peer_scribe(nt, publisher[seq - 1]), &gid, seq, nt->now_ns), 0);
    net_run(nt, nt->now_ns + 5 * S);
    for (uint32_t i = 0; i < nt->n; i++) {
      bool member = members >> i & 1;
      assert_int_equal(nt->mc_count[i][seq], member ? 1 : 0);
      if (!member) continue;
      /* The depth it carries is this member's distance from the root. */
      unsigned edges;
      assert_int_equal(chain_root(nt, i, &gid, &edges), owner_of(nt, &gid));
      assert_int_equal(nt->mc_depth[i][seq], edges);
    }
  }
  /* Publishing seq 2 again: duplicates stop at the root. */
  assert_int_equal(sc_scribe_publish(peer_scribe(nt, 1), &gid, 2, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  uint64_t dups = 0;
  for (uint32_t i = 0; i < nt->n; i++) {
    if (members >> i & 1) assert_int_equal(nt->mc_count[i][2], 1);
    sc_scribe_stats st;
    sc_scribe_get_stats(peer_scribe(nt, i), &st);
    dups += st.multicasts_dup;
  }
  assert_int_equal(dups, 1);

  /* A new source epoch numbers from 0 again: its seq 1 is new, not a
   * duplicate of the first epoch's (which dropped a restarted source's first
   * generations); within it, duplicates stop at the root again. */
  sc_scribe *root = peer_scribe(nt, owner_of(nt, &gid));
  sc_msg_multicast mc;
  memset(&mc, 0, sizeof mc);
  mc.group = gid;
  mc.seq = 1;
  mc.epoch = 7;
  assert_int_equal(sc_scribe_publish_local(root, &mc, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(nt->mc_count[i][1], (members >> i & 1) ? 2 : 0);
  assert_int_equal(sc_scribe_publish_local(root, &mc, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(nt->mc_count[i][1], (members >> i & 1) ? 2 : 0);
  net_del(nt);
}

/* Members below peer f in gid (f included). */
static uint64_t members_below(net *nt, const sc_id *gid, uint64_t members, uint32_t f) {
  uint64_t below = 0;
  for (uint32_t i = 0; i < nt->n; i++) {
    if (!(members >> i & 1)) continue;
    uint32_t cur = i;
    for (unsigned e = 0; e <= nt->n && cur != UINT32_MAX; e++) {
      if (cur == f) {
        below |= 1ull << i;
        break;
      }
      cur = parent_of(nt, cur, gid);
    }
  }
  return below;
}

static void test_unsubscribe_prunes_forwarders(void **state) {
  (void)state;
  /* Find a forwarder (in the tree, not a member, not the root) whose
   * subtree does not hold every member. */
  for (uint64_t seed = 5; seed < 25; seed++) {
    sc_id gid;
    uint64_t members;
    net *nt = scribe_net_with_group(seed, "group-prune", true, &gid, &members);
    uint32_t root = owner_of(nt, &gid), f = UINT32_MAX;
    uint64_t below = 0;
    for (uint32_t i = 0; i < nt->n && f == UINT32_MAX; i++) {
      if (i == root || (members >> i & 1) || children_of(nt, i, &gid) == 0) continue;
      below = members_below(nt, &gid, members, i);
      if (below != members) f = i;
    }
    if (f == UINT32_MAX) {
      net_del(nt);
      continue;
    }
    uint32_t fparent = parent_of(nt, f, &gid);
    assert_true(fparent != UINT32_MAX);
    /* Every member below f leaves: f has nothing left to forward to. */
    for (uint32_t i = 0; i < nt->n; i++) {
      if (!(below >> i & 1)) continue;
      int g = group_at(nt, i, &gid);
      assert_int_equal(sc_scribe_unsubscribe(peer_scribe(nt, i), (unsigned)g, nt->now_ns),
                       0);
    }
    net_run(nt, nt->now_ns + 30 * S);
    assert_int_equal(children_of(nt, f, &gid), 0);
    assert_false(attached(nt, f, &gid));
    assert_false(has_child(nt, fparent, &gid, f));
    for (uint32_t i = 0; i < nt->n; i++)
      if (below >> i & 1) assert_false(attached(nt, i, &gid));
    /* The rest of the tree stands and still delivers. */
    uint64_t rest = members & ~below;
    assert_tree(nt, &gid);
    assert_int_equal(sc_scribe_publish(peer_scribe(nt, 0), &gid, 1, nt->now_ns), 0);
    net_run(nt, nt->now_ns + 5 * S);
    for (uint32_t i = 0; i < nt->n; i++)
      assert_int_equal(nt->mc_count[i][1], rest >> i & 1);
    /* And when everyone leaves, nobody keeps any state of the group. */
    for (uint32_t i = 0; i < nt->n; i++) {
      if (!(rest >> i & 1)) continue;
      int g = group_at(nt, i, &gid);
      assert_int_equal(sc_scribe_unsubscribe(peer_scribe(nt, i), (unsigned)g, nt->now_ns),
                       0);
    }
    net_run(nt, nt->now_ns + 30 * S);
    for (uint32_t i = 0; i < nt->n; i++) {
      assert_false(attached(nt, i, &gid));
      assert_int_equal(children_of(nt, i, &gid), 0);
    }
    assert_int_equal(nt->recv_invalid, 0);
    net_del(nt);
    return;
  }
  fail_msg("no seed gave a tree with a prunable forwarder");
}

/* The non-root peer of gid with the most children (at least one), and its
 * children in orphans. */
static uint32_t busiest_forwarder(net *nt, const sc_id *gid, uint32_t *orphans,
                                  uint32_t *norphans) {
  uint32_t root = owner_of(nt, gid), f = UINT32_MAX;
  unsigned most = 0;
  for (uint32_t i = 0; i < nt->n; i++) {
    unsigned c = children_of(nt, i, gid);
    if (i != root && c > most) most = c, f = i;
  }
  assert_true(f != UINT32_MAX);
  *norphans = 0;
  for (uint32_t i = 0; i < nt->n; i++)
    if (parent_of(nt, i, gid) == f) orphans[(*norphans)++] = i;
  assert_int_equal(*norphans, most);
  return f;
}

/* A silent parent is replaced; with start_ns given, the peers' clocks start
 * there and run for `quiet_ns` before the parent falls silent. */
static void dead_parent_detected(uint64_t start_ns, uint64_t quiet_ns) {
  sc_id gid;
  uint64_t members;
  const char *name = "group-repair";
  gid = sc_id_hash(name, strlen(name));
  net *nt = net_alloc(KIND_SCRIBE, SCRIBE_PEERS, 6);
  nt->now_ns = start_ns;
  for (uint32_t i = 1; i < nt->n; i += 2)
    nt->ids[i] = sc_id_with_digit(&nt->ids[i], 0, sc_id_digit(&gid, 0));
  net_create(nt, 6);
  net_build(nt);
  members = member_mask(nt->n);
  subscribe_mask(nt, &gid, members);
  net_run(nt, nt->now_ns + 30 * S);
  assert_tree(nt, &gid);
  if (quiet_ns) {
    /* Nothing is lost or dropped for heartbeats in a quiet tree. */
    unsigned children_before = 0, children_after = 0;
    for (uint32_t i = 0; i < nt->n; i++)
      children_before += children_of(nt, i, &gid);
    net_run(nt, nt->now_ns + quiet_ns);
    assert_tree(nt, &gid);
    for (uint32_t i = 0; i < nt->n; i++) {
      children_after += children_of(nt, i, &gid);
      sc_scribe_stats st;
      sc_scribe_get_stats(peer_scribe(nt, i), &st);
      assert_int_equal(st.parents_lost, 0);
    }
    assert_int_equal(children_after, children_before);
  }
  /* The non-root peer with the most children falls silent. */
  uint32_t orphans[NET_PEERS_MAX], norphans;
  uint32_t victim = busiest_forwarder(nt, &gid, orphans, &norphans);
  nt->alive[victim] = false;
  members &= ~(1ull << victim);
  /* Parent heartbeats every 10 s, repair after 2 missed: well within 90 s. */
  net_run(nt, nt->now_ns + 90 * S);
  assert_tree(nt, &gid);
  for (uint32_t k = 0; k < norphans; k++) {
    uint32_t o = orphans[k];
    assert_true(parent_of(nt, o, &gid) != victim);
    sc_scribe_stats st;
    sc_scribe_get_stats(peer_scribe(nt, o), &st);
    assert_true(st.parents_lost >= 1);
  }
  for (uint32_t i = 0; i < nt->n; i++)
    if (nt->alive[i]) assert_false(has_child(nt, i, &gid, victim));
  /* Every live member receives again, once. */
  uint32_t publisher = victim == 1 ? 2 : 1;
  assert_int_equal(sc_scribe_publish(peer_scribe(nt, publisher), &gid, 3, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    if (nt->alive[i]) assert_int_equal(nt->mc_count[i][3], members >> i & 1);
  net_del(nt);
}

static void test_dead_parent_detected_by_heartbeats(void **state) {
  (void)state;
  dead_parent_detected(0, 0);
}

/* A cycle whose path updates were lost is still found once they get
 * through again. D hangs below Y below X; D holds a stale path without X (as
 * after an update lost earlier), and X, dropped by its parent, joins D: the
 * ancestor check passes, and X -> D -> Y -> X is a cycle. The path updates
 * that would show it (X's new path to Y, Y's to D) are lost for 15 s, as in
 * a partition shorter than the heartbeats' failure detection, during which
 * the three keep heartbeating each other. Once updates pass again, the
 * cycle is found and left, and the tree is whole. */
static void test_cycle_found_after_lost_path_updates(void **state) {
  (void)state;
  sc_id gid;
  uint64_t members;
  net *nt = scribe_net_with_group(3, "group-join", true, &gid, &members);
  assert_tree(nt, &gid);
  uint32_t x = UINT32_MAX, y = UINT32_MAX, d = UINT32_MAX, xp = UINT32_MAX;
  for (uint32_t i = 0; i < nt->n && d == UINT32_MAX; i++) {
    uint32_t p1 = parent_of(nt, i, &gid);
    uint32_t p2 = p1 == UINT32_MAX ? UINT32_MAX : parent_of(nt, p1, &gid);
    uint32_t p3 = p2 == UINT32_MAX ? UINT32_MAX : parent_of(nt, p2, &gid);
    if (p3 != UINT32_MAX) d = i, y = p1, x = p2, xp = p3;
  }
  assert_true(d != UINT32_MAX); /* a chain of three edges below the root */
  int gx = group_at(nt, x, &gid), gd = group_at(nt, d, &gid);
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_SCRIBE_PATH;
  m.sender = (sc_ref){nt->ids[y], y};
  m.u.scribe_path.group = gid;
  m.u.scribe_path.n = 2;
  m.u.scribe_path.depth = 1;
  m.u.scribe_path.path[0] = sc_id_prefix64(&nt->ids[xp]);
  m.u.scribe_path.path[1] = sc_id_prefix64(&nt->ids[y]);
  peer_result(nt, d, peer_recv(nt, d, &m, nt->now_ns));
  assert_false(
      sc_scribe_on_path(peer_scribe(nt, d), (unsigned)gd, sc_id_prefix64(&nt->ids[x])));
  nt->cut_mask = 1ull << x | 1ull << y | 1ull << d;
  nt->cut_from_ns = nt->now_ns;
  nt->cut_until_ns = nt->now_ns + 15 * S;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_SCRIBE_DROP;
  m.sender = (sc_ref){nt->ids[xp], xp};
  m.u.scribe_drop.group = gid;
  peer_result(nt, x, peer_recv(nt, x, &m, nt->now_ns));
  sc_ref to = {nt->ids[d], d};
  assert_int_equal(sc_scribe_join_via(peer_scribe(nt, x), (unsigned)gx, &to, nt->now_ns),
                   0);
  net_run(nt, nt->now_ns + 1 * S);
  assert_int_equal(parent_of(nt, x, &gid), d);
  assert_int_equal(chain_root(nt, x, &gid, NULL), UINT32_MAX); /* the cycle */
  net_run(nt, nt->cut_until_ns);
  assert_int_equal(chain_root(nt, x, &gid, NULL), UINT32_MAX); /* still there */
  net_run(nt, nt->now_ns + 60 * S);
  assert_tree(nt, &gid);
  net_del(nt);
}

/* Scribe keeps a child's times modulo 2^48 ns and moves adoption times older
 * than ~4.9 hours up: clocks that cross 2^48 during the build, and a tree
 * quiet for six hours, change nothing. */
static void test_heartbeats_across_clock_wrap_and_hours(void **state) {
  (void)state;
  dead_parent_detected((1ull << 48) - 100 * S, 6ull * 3600 * S);
}

/* A polite departure: the children find new parents while the leaving peer
 * still forwards (nothing is lost in between), well before heartbeats would
 * have noticed, and its parent forgets it at once when it finishes. */
static void test_polite_departure_loses_nothing(void **state) {
  (void)state;
  sc_id gid;
  uint64_t members;
  net *nt = scribe_net_with_group(6, "group-repair", true, &gid, &members);
  assert_tree(nt, &gid);
  uint32_t orphans[NET_PEERS_MAX], norphans;
  uint32_t leaver = busiest_forwarder(nt, &gid, orphans, &norphans);
  uint32_t up = parent_of(nt, leaver, &gid);
  assert_int_equal(sc_scribe_depart(peer_scribe(nt, leaver), nt->now_ns), (int)norphans);
  assert_true(sc_scribe_departing(peer_scribe(nt, leaver)));
  /* Published while the children are still searching: everyone gets it. */
  uint32_t publisher = leaver == 1 ? 2 : 1;
  assert_int_equal(sc_scribe_publish(peer_scribe(nt, publisher), &gid, 4, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 3 * S); /* far below the 25 s of a silent parent */
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(nt->mc_count[i][4], members >> i & 1);
  for (uint32_t k = 0; k < norphans; k++) {
    uint32_t o = orphans[k];
    assert_true(attached(nt, o, &gid));
    assert_true(parent_of(nt, o, &gid) != leaver);
    sc_scribe_stats st;
    sc_scribe_get_stats(peer_scribe(nt, o), &st);
    assert_int_equal(st.parents_leaving, 1);
    assert_int_equal(st.parents_lost, 0);
  }
  assert_int_equal(children_of(nt, leaver, &gid), 0);
  /* Step 2: leave the parent, then go. */
  sc_scribe_depart_finish(peer_scribe(nt, leaver), nt->now_ns);
  net_run(nt, nt->now_ns + 1 * S);
  assert_false(has_child(nt, up, &gid, leaver));
  nt->alive[leaver] = false;
  members &= ~(1ull << leaver);
  assert_tree(nt, &gid);
  assert_int_equal(sc_scribe_publish(peer_scribe(nt, publisher), &gid, 5, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    if (nt->alive[i]) assert_int_equal(nt->mc_count[i][5], members >> i & 1);
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

static void test_anycast(void **state) {
  (void)state;
  sc_id gid;
  uint64_t members;
  net *nt = scribe_net_with_group(7, "group-anycast", true, &gid, &members);
  uint32_t root = owner_of(nt, &gid);
  /* Only the deepest member accepts: the depth-first search must find it. */
  uint32_t taker = UINT32_MAX;
  unsigned deepest = 0;
  for (uint32_t i = 0; i < nt->n; i++) {
    unsigned e;
    if ((members >> i & 1) && chain_root(nt, i, &gid, &e) == root && e >= deepest)
      deepest = e, taker = i;
  }
  assert_true(taker != UINT32_MAX);
  nt->take_anycast[taker] = true;
  uint32_t requester = 1; /* not a member */
  assert_false(members >> requester & 1);
  assert_int_equal(sc_scribe_anycast(peer_scribe(nt, requester), &gid, 77, nt->now_ns),
                   0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(nt->taken_count[i], i == taker);
  assert_int_equal(nt->taken_app_id[taker], 77);
  assert_int_equal(nt->taken_requester[taker], requester);
  assert_int_equal(nt->anycast_failed[requester], 0);

  /* Nobody accepts: the requester hears of the failure, once. */
  nt->take_anycast[taker] = false;
  assert_int_equal(sc_scribe_anycast(peer_scribe(nt, requester), &gid, 78, nt->now_ns),
                   0);
  net_run(nt, nt->now_ns + 5 * S);
  assert_int_equal(nt->taken_count[taker], 1);
  assert_int_equal(nt->anycast_failed[requester], 1);
  assert_int_equal(nt->anycast_failed_app_id[requester], 78);
  assert_true(sc_id_eq(&nt->anycast_failed_group[requester], &gid));

  /* A group with no tree at all: the failure comes back from its root. */
  sc_id empty = sc_id_hash("nobody", 6);
  assert_int_equal(sc_scribe_anycast(peer_scribe(nt, requester), &empty, 79, nt->now_ns),
                   0);
  net_run(nt, nt->now_ns + 5 * S);
  assert_int_equal(nt->anycast_failed[requester], 2);
  assert_int_equal(nt->anycast_failed_app_id[requester], 79);
  assert_true(sc_id_eq(&nt->anycast_failed_group[requester], &empty));
  uint32_t other = 0;
  for (uint32_t i = 0; i < nt->n; i++)
    if (i != requester) other += nt->anycast_failed[i];
  assert_int_equal(other, 0);
  net_del(nt);
}

/* ------------------------------------------------------ SplitStream */

#define FOREST_PEERS 32

static void test_forest_delivers_every_stripe_once(void **state) {
  (void)state;
  /* A small forest of whole peers: 4 stripes, I = 4, C = 6; peer 0 is the
   * source (wants nothing, forwards up to 4). */
  net *nt = net_alloc(KIND_NODE, FOREST_PEERS, 11);
  for (uint32_t i = 0; i < nt->n; i++) {
    nt->node_cfg[i].forest.stripes = 4;
    nt->node_cfg[i].forest.in_degree = i == 0 ? 0 : 4;
    nt->node_cfg[i].forest.capacity = i == 0 ? 4 : 6;
  }
  net_create(nt, 11);
  net_build(nt);
  for (uint32_t i = 1; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 120 * S);
  const sc_id *channel = &nt->node_cfg[0].channel;
  for (unsigned st = 0; st < 4; st++) {
    sc_id sid = sc_splitstream_stripe_id(channel, 4, st);
    uint32_t root = owner_of(nt, &sid);
    for (uint32_t i = 1; i < nt->n; i++) {
      assert_true(sc_splitstream_wants(sc_node_forest_c(nt->node[i]), st));
      assert_true(nt->stripe_attached[i][st]);
      assert_int_equal(chain_root(nt, i, &sid, NULL), root);
    }
  }
  for (uint32_t i = 0; i < nt->n; i++) {
    const sc_splitstream *ss = sc_node_forest_c(nt->node[i]);
    assert_true(sc_splitstream_load(ss) <=
                nt->node_cfg[i].forest.capacity + sc_splitstream_root_allowance(ss));
  }
  assert_int_equal(sc_splitstream_publish(sc_node_forest(nt->node[0]), 1, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    for (unsigned st = 0; st < 4; st++)
      assert_int_equal(nt->stripe_data[i][st][1], i > 0);
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

/* ------------------------------------------------------ listener tally */

static void test_tally_table(void **state) {
  (void)state;
  sc_tally t;
  sc_tally_init(&t, 0);
  assert_int_equal(sc_tally_get_expiry(&t), SC_TALLY_PERIOD_NS);
  assert_false(sc_tally_due(&t, SC_TALLY_PERIOD_NS - 1));
  sc_tally_set_local(&t, 3);
  assert_int_equal(sc_tally_total(&t, 0), 3);
  assert_int_equal(sc_tally_report(&t, 7, 10, 0), 0);
  assert_int_equal(sc_tally_report(&t, 8, 5, 0), 0);
  assert_int_equal(sc_tally_report(&t, 7, 2, 1 * S), 0); /* replaces, not adds */
  assert_int_equal(sc_tally_total(&t, 1 * S), 3 + 2 + 5);
  /* A report older than the TTL counts no more. */
  assert_int_equal(sc_tally_total(&t, SC_TALLY_TTL_NS + 1), 3 + 2);
  /* Pruning by membership: 7 left the children. */
  sc_tally_prune(&t, NULL, NULL, SC_TALLY_TTL_NS + 1);
  assert_int_equal(t.n, 1);
  /* Saturation, not wrap. */
  assert_int_equal(sc_tally_report(&t, 9, UINT32_MAX, 2 * S), 0);
  assert_int_equal(sc_tally_total(&t, 2 * S), UINT32_MAX);
  /* The table's bound: a full table of fresh reports refuses and changes
   * nothing; a stale slot is reused. */
  sc_tally_clear(&t);
  for (unsigned i = 0; i < SC_TALLY_REPORTS_MAX; i++)
    assert_int_equal(sc_tally_report(&t, 100 + i, 1, i == 0 ? 0 : 10 * S), 0);
  assert_int_equal(sc_tally_report(&t, 999, 1, 10 * S), SC_ERR_FULL);
  assert_int_equal(t.refused, 1);
  assert_int_equal(sc_tally_total(&t, 10 * S), 3 + SC_TALLY_REPORTS_MAX);
  assert_int_equal(sc_tally_report(&t, 999, 4, SC_TALLY_TTL_NS + 1 * S), 0);
  assert_int_equal(t.n, SC_TALLY_REPORTS_MAX);
  assert_int_equal(sc_tally_total(&t, SC_TALLY_TTL_NS + 1 * S),
                   3 + SC_TALLY_REPORTS_MAX - 1 + 4);
  /* A late host gets one report, not a burst. */
  assert_true(sc_tally_due(&t, 100 * S));
  assert_false(sc_tally_due(&t, 100 * S));
  assert_int_equal(sc_tally_get_expiry(&t), 100 * S + SC_TALLY_PERIOD_NS);
}

#define TALLY_PEERS 24

static void tally_feed(net *nt, uint64_t until_ns) {
  static uint8_t chunk[2000];
  while (nt->now_ns < until_ns) {
    assert_int_equal(sc_node_source_write(nt->node[0], chunk, sizeof chunk, nt->now_ns),
                     0);
    assert_int_equal(sc_node_source_flush(nt->node[0], nt->now_ns), 0);
    net_run(nt, nt->now_ns + 200 * MS);
  }
}

/* Every peer's own listeners summed up stripe 0's tree reach the publisher,
 * whatever the tree's shape; a change shows within a few periods, and each
 * peer sends one TALLY a period. source_root: the publisher's id is stripe
 * 0's, so it is the tally tree's root and its children report to it. */
static void tally_run(bool source_root) {
  net *nt = net_alloc(KIND_NODE, TALLY_PEERS, 31);
  nt->stream_on = true;
  for (uint32_t i = 0; i < nt->n; i++) {
    nt->node_cfg[i].stream = true;
    nt->node_cfg[i].stream_source = i == 0;
    nt->node_cfg[i].tally = true;
  }
  const sc_splitstream_config *fc = &nt->node_cfg[0].forest;
  sc_id s0 = sc_splitstream_stripe_id(&nt->node_cfg[0].channel, fc->stripes, 0);
  if (source_root) nt->ids[0] = s0;
  net_create(nt, 31);
  net_build(nt);
  for (uint32_t i = 1; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  uint32_t want = 2; /* the publisher's own (say, its --output and a player) */
  sc_node_tally_set_local(nt->node[0], 2);
  for (uint32_t i = 1; i < nt->n; i++) {
    sc_node_tally_set_local(nt->node[i], i % 4);
    want += i % 4;
  }
  tally_feed(nt, nt->now_ns + 60 * S);
  assert_int_equal(sc_node_tally_total(nt->node[0], nt->now_ns), want);
  /* The sum crossed more than one level of the tree. */
  unsigned deepest = 0;
  for (uint32_t i = 1; i < nt->n; i++) {
    unsigned g = sc_splitstream_group(sc_node_forest_c(nt->node[i]), 0);
    unsigned d = sc_scribe_depth(sc_node_scribe_c(nt->node[i]), g);
    if (d > deepest) deepest = d;
  }
  assert_true(deepest >= 2);
  assert_int_equal(owner_of(nt, &s0) == 0, source_root);

  /* A peer's audience changes: the sum follows. */
  sc_node_tally_set_local(nt->node[5], 40);
  want += 40 - 5 % 4;
  tally_feed(nt, nt->now_ns + 4 * SC_TALLY_PERIOD_NS);
  assert_int_equal(sc_node_tally_total(nt->node[0], nt->now_ns), want);

  /* Rate: over 20 periods, at most 21 reports a peer; the publisher sends
   * none. */
  uint64_t before[TALLY_PEERS];
  for (uint32_t i = 0; i < nt->n; i++)
    before[i] = nt->tally_sent[i];
  tally_feed(nt, nt->now_ns + 20 * SC_TALLY_PERIOD_NS);
  assert_int_equal(nt->tally_sent[0], 0);
  for (uint32_t i = 1; i < nt->n; i++) {
    assert_true(nt->tally_sent[i] - before[i] <= 21);
    assert_true(nt->tally_sent[i] - before[i] >= 19);
  }
  assert_int_equal(sc_node_tally_total(nt->node[0], nt->now_ns), want);

  /* A forged report from a peer that is nobody's child changes nothing. */
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_TALLY;
  m.sender = (sc_ref){nt->ids[3], 3};
  m.u.tally.channel = nt->node_cfg[0].channel;
  m.u.tally.listeners = 1000;
  for (uint32_t i = 1; i < nt->n; i++) {
    const sc_scribe *s = sc_node_scribe_c(nt->node[i]);
    unsigned g = sc_splitstream_group(sc_node_forest_c(nt->node[i]), 0);
    sc_ref p;
    if (sc_scribe_parent(s, g, &p) && p.addr == 3) continue;
    bool child = false;
    for (unsigned k = 0; k < sc_scribe_children(s, g); k++) {
      sc_ref c;
      child |= sc_scribe_child_at(s, g, k, &c) && c.addr == 3;
    }
    if (child) continue;
    uint32_t t = sc_node_tally_total(nt->node[i], nt->now_ns);
    assert_int_equal(sc_node_recv(nt->node[i], &m, nt->now_ns), 0);
    assert_int_equal(sc_node_tally_total(nt->node[i], nt->now_ns), t);
  }
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

static void test_tally_sums_up_the_tree(void **state) {
  (void)state;
  tally_run(false);
}

static void test_tally_publisher_is_the_root(void **state) {
  (void)state;
  tally_run(true);
}

/* An id sharing exactly `shl` leading digits with base (shl < 32). */
static sc_id id_with_shl(const sc_id *base, unsigned shl, unsigned salt) {
  sc_id id = *base;
  id = sc_id_with_digit(&id, shl, (sc_id_digit(base, shl) + 1 + salt % 15) % 16);
  id.lo ^= 0x5a5a0000u + salt; /* vary the tail (digits well past shl) */
  assert_int_equal(sc_id_shl(&id, base), shl);
  return id;
}

/* Hands x a direct SCRIBE_JOIN for stripe id sid from phantom peer `from`. */
static void phantom_join(net *nt, uint32_t x, const sc_ref *from, const sc_id *sid) {
  sc_msg m;
  memset(&m, 0, sizeof(m));
  m.type = SC_MSG_SCRIBE_JOIN;
  m.sender = *from;
  m.u.scribe_group.group = *sid;
  assert_int_equal(sc_node_recv(nt->node[x], &m, nt->now_ns), 0);
}

/* What x told phantom `to` about group sid since mark: 'A' accepted,
 * 'D' dropped, 0 nothing. */
static char phantom_answer(net *nt, size_t mark, sc_addr to, const sc_id *sid) {
  char a = 0;
  for (size_t k = mark; k < nt->nphantom; k++) {
    const sc_msg *m = &nt->phantom[k].msg;
    if (nt->phantom[k].to != to) continue;
    if (m->type == SC_MSG_SCRIBE_PATH && m->u.scribe_path.accept &&
        sc_id_eq(&m->u.scribe_path.group, sid))
      a = 'A';
    if (m->type == SC_MSG_SCRIBE_DROP && sc_id_eq(&m->u.scribe_drop.group, sid)) a = 'D';
  }
  return a;
}

static void test_source_lets_go_of_a_handed_over_stripe(void **state) {
  (void)state;
  /* Peer 0 is a source (wants nothing) with capacity 0: it forwards only as
   * a stripe's root, to one child (the root allowance). A closer peer joins
   * and takes stripe 0's root over; the source then drops its child
   * instead of joining the tree to go on feeding it (its own chunks would
   * come back to it from the new root). */
  const uint32_t late = FOREST_PEERS - 1;
  net *nt = net_alloc(KIND_NODE, FOREST_PEERS, 12);
  for (uint32_t i = 0; i < nt->n; i++) {
    nt->node_cfg[i].forest.stripes = 4;
    nt->node_cfg[i].forest.in_degree = i == 0 ? 0 : 4;
    nt->node_cfg[i].forest.capacity = i == 0 ? 0 : 6;
  }
  const sc_id *channel = &nt->node_cfg[0].channel;
  sc_id sid = sc_splitstream_stripe_id(channel, 4, 0);
  nt->ids[0] = sid;
  nt->ids[0].lo ^= 2;
  nt->ids[late] = sid;
  nt->ids[late].lo ^= 1; /* closer to stripe 0 than peer 0 */
  nt->n = late;          /* not there yet */
  net_create(nt, 12);
  net_build(nt);
  for (uint32_t i = 1; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 120 * S);
  const sc_splitstream *src = sc_node_forest_c(nt->node[0]);
  assert_true(is_root(nt, 0, &sid));
  assert_int_equal(sc_splitstream_load(src), 1);
  nt->n = late + 1;
  peer_create(nt, late, 12);
  assert_int_equal(sc_node_join(nt->node[late], 0, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 30 * S);
  assert_int_equal(sc_node_start_forest(nt->node[late], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 120 * S);
  assert_int_equal(owner_of(nt, &sid), late);
  assert_true(is_root(nt, late, &sid));
  assert_false(is_root(nt, 0, &sid));
  /* Gone from the tree: no child, no parent, forwarding nothing. */
  assert_int_equal(sc_splitstream_load(src), 0);
  assert_false(attached(nt, 0, &sid));
  /* Every receiver still gets every stripe once. */
  assert_int_equal(sc_splitstream_publish(sc_node_forest(nt->node[0]), 1, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  for (uint32_t i = 0; i < nt->n; i++)
    for (unsigned k = 0; k < 4; k++)
      assert_int_equal(nt->stripe_data[i][k][1], i > 0);
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

/* A peer with capacity 0 (a broadcaster) takes no one into the spare
 * capacity group's tree (whose anycasts it would relay); a peer with
 * capacity does, full or not. */
static void test_capacity0_stays_out_of_the_spare_tree(void **state) {
  (void)state;
  net *nt = net_alloc(KIND_NODE, FOREST_PEERS, 13);
  for (uint32_t i = 0; i < nt->n; i++) {
    nt->node_cfg[i].forest.stripes = 4;
    nt->node_cfg[i].forest.in_degree = i == 0 ? 0 : 4;
    nt->node_cfg[i].forest.capacity = i == 0 ? 0 : 6;
  }
  net_create(nt, 13);
  net_build(nt);
  for (uint32_t i = 1; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 60 * S);
  sc_id spare = sc_splitstream_spare_id(&nt->node_cfg[0].channel);
  uint32_t owner = owner_of(nt, &spare);
  assert_true(owner != 0 && owner != 1);
  sc_ref p1 = {id_with_shl(&spare, 1, 1), PHANTOM_BASE + 1};
  sc_ref p2 = {id_with_shl(&spare, 1, 2), PHANTOM_BASE + 2};
  size_t mark = nt->nphantom;
  phantom_join(nt, 0, &p1, &spare);
  phantom_join(nt, 1, &p2, &spare);
  assert_int_equal(phantom_answer(nt, mark, p1.addr, &spare), 'D');
  assert_int_equal(phantom_answer(nt, mark, p2.addr, &spare), 'A');
  const sc_scribe *s0 = sc_node_scribe_c(nt->node[0]);
  int g = sc_scribe_group_find(s0, &spare);
  assert_true(g < 0 || sc_scribe_children(s0, (unsigned)g) == 0);
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

static void test_full_peer_drops_by_the_paper_rule(void **state) {
  (void)state;
  /* Peer X (index 5) has capacity 4 and primary stripe 3 (k = 16); phantoms
   * ask it for children by hand. SplitStream §4.2: a full peer asked for a
   * child in its primary stripe first drops a non-primary child; when it has
   * none, it drops the primary child sharing the shortest prefix with the
   * stripe id, which may be the newcomer. A join in another stripe is
   * refused. */
  const uint32_t x = 5;
  net *nt = net_alloc(KIND_NODE, 16, 12);
  nt->ids[x] = sc_id_with_digit(&nt->ids[x], 0, 3);
  nt->node_cfg[x].forest.capacity = 4;
  nt->node_cfg[x].forest.in_degree = 0;
  net_create(nt, 12);
  net_build(nt);
  const sc_id *channel = &nt->node_cfg[x].channel;
  sc_id s3 = sc_splitstream_stripe_id(channel, 16, 3);
  sc_id s7 = sc_splitstream_stripe_id(channel, 16, 7);
  assert_int_equal(sc_splitstream_primary(&nt->ids[x], 16), 3);
  assert_false(sc_pastry_owns(sc_node_pastry_c(nt->node[x]), &s7));
  sc_scribe *sx = sc_node_scribe(nt->node[x]);
  sc_splitstream *fx = sc_node_forest(nt->node[x]);
  int g3 = sc_scribe_group_find(sx, &s3), g7 = sc_scribe_group_find(sx, &s7);
  assert_true(g3 >= 0 && g7 >= 0);

  /* Two primary children (shl 2 and 3 with s3), two in stripe 7. */
  sc_ref p2 = {id_with_shl(&s3, 2, 1), PHANTOM_BASE + 2};
  sc_ref p3 = {id_with_shl(&s3, 3, 2), PHANTOM_BASE + 3};
  sc_ref n1 = {id_with_shl(&s7, 1, 3), PHANTOM_BASE + 71};
  sc_ref n2 = {id_with_shl(&s7, 1, 4), PHANTOM_BASE + 72};
  size_t mark = nt->nphantom;
  phantom_join(nt, x, &p2, &s3);
  phantom_join(nt, x, &p3, &s3);
  phantom_join(nt, x, &n1, &s7);
  phantom_join(nt, x, &n2, &s7);
  assert_int_equal(phantom_answer(nt, mark, p2.addr, &s3), 'A');
  assert_int_equal(phantom_answer(nt, mark, p3.addr, &s3), 'A');
  assert_int_equal(phantom_answer(nt, mark, n1.addr, &s7), 'A');
  assert_int_equal(phantom_answer(nt, mark, n2.addr, &s7), 'A');
  assert_int_equal(sc_splitstream_load(fx), 4);

  /* Full. A join in stripe 7 (not X's primary) is refused; nobody dropped. */
  sc_ref n3 = {id_with_shl(&s7, 5, 5), PHANTOM_BASE + 73};
  mark = nt->nphantom;
  phantom_join(nt, x, &n3, &s7);
  assert_int_equal(phantom_answer(nt, mark, n3.addr, &s7), 'D');
  assert_int_equal(phantom_answer(nt, mark, n1.addr, &s7), 0);
  assert_int_equal(phantom_answer(nt, mark, n2.addr, &s7), 0);
  assert_int_equal(sc_scribe_children(sx, (unsigned)g7), 2);

  /* Two joins in stripe 3: each drops one stripe-7 child, whatever the
   * newcomer's prefix. */
  sc_ref p1 = {id_with_shl(&s3, 1, 6), PHANTOM_BASE + 1};
  sc_ref p4 = {id_with_shl(&s3, 4, 7), PHANTOM_BASE + 4};
  for (int k = 0; k < 2; k++) {
    const sc_ref *nc = k == 0 ? &p1 : &p4;
    mark = nt->nphantom;
    phantom_join(nt, x, nc, &s3);
    assert_int_equal(phantom_answer(nt, mark, nc->addr, &s3), 'A');
    int dropped = (phantom_answer(nt, mark, n1.addr, &s7) == 'D') +
                  (phantom_answer(nt, mark, n2.addr, &s7) == 'D');
    assert_int_equal(dropped, 1);
    assert_int_equal(sc_scribe_children(sx, (unsigned)g7), 1 - k);
    assert_int_equal(sc_splitstream_load(fx), 4);
  }
  sc_splitstream_stats fst;
  sc_splitstream_get_stats(fx, &fst);
  assert_int_equal(fst.drops_nonprimary, 2);
  assert_int_equal(fst.drops_primary, 0);

  /* Only primary children now (shl 1, 2, 3, 4). A newcomer with shl 5: the
   * child with the shortest prefix (p1, shl 1) goes, and its drop names the
   * other children for push-down, the newcomer that took its place among
   * them (it is p1's former sibling by the time p1 asks). */
  sc_ref p5 = {id_with_shl(&s3, 5, 8), PHANTOM_BASE + 5};
  mark = nt->nphantom;
  phantom_join(nt, x, &p5, &s3);
  assert_int_equal(phantom_answer(nt, mark, p5.addr, &s3), 'A');
  assert_int_equal(phantom_answer(nt, mark, p1.addr, &s3), 'D');
  for (size_t k = mark; k < nt->nphantom; k++) {
    const sc_msg *m = &nt->phantom[k].msg;
    if (nt->phantom[k].to != p1.addr || m->type != SC_MSG_SCRIBE_DROP) continue;
    assert_int_equal(m->u.scribe_drop.n, 4); /* p2, p3, p4 and p5 */
    bool heir = false;
    for (unsigned c = 0; c < m->u.scribe_drop.n; c++) {
      assert_true(m->u.scribe_drop.e[c].addr != p1.addr);
      heir |= m->u.scribe_drop.e[c].addr == p5.addr;
    }
    assert_true(heir);
  }
  for (sc_addr a = PHANTOM_BASE + 2; a <= PHANTOM_BASE + 4; a++)
    assert_int_equal(phantom_answer(nt, mark, a, &s3), 0);
  /* A newcomer with shl 1, shorter than every child's: refused itself. */
  sc_ref p6 = {id_with_shl(&s3, 1, 9), PHANTOM_BASE + 6};
  mark = nt->nphantom;
  phantom_join(nt, x, &p6, &s3);
  assert_int_equal(phantom_answer(nt, mark, p6.addr, &s3), 'D');
  for (sc_addr a = PHANTOM_BASE + 2; a <= PHANTOM_BASE + 5; a++)
    assert_int_equal(phantom_answer(nt, mark, a, &s3), 0);
  assert_int_equal(sc_scribe_children(sx, (unsigned)g3), 4);
  sc_splitstream_get_stats(fx, &fst);
  assert_int_equal(fst.drops_primary, 1);
  assert_int_equal(fst.drops_nonprimary, 2);
  net_del(nt);
}

static void test_full_peer_drops_the_youngest_of_tied_children(void **state) {
  (void)state;
  /* Ties on the prefix (SplitStream §4.2 leaves them open) go to the child
   * adopted last, the newcomer first: the youngest has gathered the least
   * below it, so pushing it down deepens the tree least (bench/RESULTS.md,
   * "Tree depth at scale"). Peer X: capacity 4, primary stripe 3; three
   * children share one digit with the stripe id, adopted a second apart. */
  const uint32_t x = 5;
  net *nt = net_alloc(KIND_NODE, 16, 12);
  nt->ids[x] = sc_id_with_digit(&nt->ids[x], 0, 3);
  nt->node_cfg[x].forest.capacity = 4;
  nt->node_cfg[x].forest.in_degree = 0;
  net_create(nt, 12);
  net_build(nt);
  sc_id s3 = sc_splitstream_stripe_id(&nt->node_cfg[x].channel, 16, 3);
  sc_scribe *sx = sc_node_scribe(nt->node[x]);
  int g3 = sc_scribe_group_find(sx, &s3);
  assert_true(g3 >= 0);
  sc_ref kids[4] = {
      {id_with_shl(&s3, 1, 11), PHANTOM_BASE + 11}, /* oldest */
      {id_with_shl(&s3, 1, 12), PHANTOM_BASE + 12},
      {id_with_shl(&s3, 3, 13), PHANTOM_BASE + 13},
      {id_with_shl(&s3, 1, 14), PHANTOM_BASE + 14}, /* youngest of shl 1 */
  };
  size_t mark = nt->nphantom;
  for (unsigned k = 0; k < 4; k++) {
    phantom_join(nt, x, &kids[k], &s3);
    nt->now_ns += S;
  }
  for (unsigned k = 0; k < 4; k++)
    assert_int_equal(phantom_answer(nt, mark, kids[k].addr, &s3), 'A');
  assert_int_equal(sc_scribe_children(sx, (unsigned)g3), 4);

  /* A newcomer with a longer prefix: the youngest of the three tied at shl 1
   * goes, the older two stay. */
  sc_ref p5 = {id_with_shl(&s3, 5, 15), PHANTOM_BASE + 15};
  mark = nt->nphantom;
  phantom_join(nt, x, &p5, &s3);
  assert_int_equal(phantom_answer(nt, mark, p5.addr, &s3), 'A');
  assert_int_equal(phantom_answer(nt, mark, kids[3].addr, &s3), 'D');
  for (unsigned k = 0; k < 3; k++)
    assert_int_equal(phantom_answer(nt, mark, kids[k].addr, &s3), 0);
  nt->now_ns += S;

  /* A newcomer tied with the shortest children: it is the youngest, so it is
   * refused and nobody is dropped. */
  sc_ref q = {id_with_shl(&s3, 1, 16), PHANTOM_BASE + 16};
  mark = nt->nphantom;
  phantom_join(nt, x, &q, &s3);
  assert_int_equal(phantom_answer(nt, mark, q.addr, &s3), 'D');
  for (unsigned k = 0; k < 3; k++)
    assert_int_equal(phantom_answer(nt, mark, kids[k].addr, &s3), 0);
  assert_int_equal(phantom_answer(nt, mark, p5.addr, &s3), 0);
  assert_int_equal(sc_scribe_children(sx, (unsigned)g3), 4);
  net_del(nt);
}

static void test_stripe_ids(void **state) {
  (void)state;
  sc_id ch = sc_id_hash("stripecast", 10);
  for (unsigned k = 1; k <= 16; k *= 2) {
    for (unsigned i = 0; i < k; i++) {
      sc_id sid = sc_splitstream_stripe_id(&ch, k, i);
      /* Stripe ids differ from the channel id in the first digit only. */
      assert_int_equal(sc_id_digit(&sid, 0), i * (16 / k));
      assert_true(sc_id_shl(&sid, &ch) == 32 || sc_id_digit(&ch, 0) != i * (16 / k));
      for (unsigned d = 1; d < 32; d++)
        assert_int_equal(sc_id_digit(&sid, d), sc_id_digit(&ch, d));
      /* A peer whose id starts like the stripe's forwards it as primary. */
      assert_int_equal(sc_splitstream_primary(&sid, k), i);
    }
  }
  sc_id sp = sc_splitstream_spare_id(&ch);
  assert_false(sc_id_eq(&sp, &ch));
}

/* ------------------------------------------------- malformed messages */

#define SNAP_GROUPS SC_SCRIBE_GROUPS_MAX
typedef struct tree_snap {
  unsigned groups;
  struct {
    sc_id id;
    bool member, root, attached;
    sc_addr parent;
    unsigned depth, nchildren;
    sc_addr children[64];
  } g[SNAP_GROUPS];
} tree_snap;

static void snap_take(const sc_scribe *s, tree_snap *out) {
  memset(out, 0, sizeof(*out));
  out->groups = sc_scribe_groups(s);
  for (unsigned g = 0; g < out->groups; g++) {
    out->g[g].id = *sc_scribe_group_id(s, g);
    out->g[g].member = sc_scribe_is_member(s, g);
    out->g[g].root = sc_scribe_is_root(s, g);
    out->g[g].attached = sc_scribe_attached(s, g);
    sc_ref p;
    out->g[g].parent = sc_scribe_parent(s, g, &p) ? p.addr : SC_ADDR_NONE;
    out->g[g].depth = sc_scribe_depth(s, g);
    out->g[g].nchildren = sc_scribe_children(s, g);
    assert_true(out->g[g].nchildren <= 64);
    for (unsigned c = 0; c < out->g[g].nchildren; c++) {
      sc_ref r;
      assert_true(sc_scribe_child_at(s, g, c, &r));
      out->g[g].children[c] = r.addr;
    }
  }
}

static void snap_assert_same(const tree_snap *a, const tree_snap *b) {
  assert_int_equal(a->groups, b->groups);
  for (unsigned g = 0; g < a->groups; g++) {
    assert_true(sc_id_eq(&a->g[g].id, &b->g[g].id));
    assert_int_equal(a->g[g].member, b->g[g].member);
    assert_int_equal(a->g[g].root, b->g[g].root);
    assert_int_equal(a->g[g].attached, b->g[g].attached);
    assert_int_equal(a->g[g].parent, b->g[g].parent);
    assert_int_equal(a->g[g].depth, b->g[g].depth);
    assert_int_equal(a->g[g].nchildren, b->g[g].nchildren);
    assert_memory_equal(a->g[g].children, b->g[g].children,
                        a->g[g].nchildren * sizeof(sc_addr));
  }
}

/* Refusals fed to a peer faster than any search could be answered (here all
 * at one instant, from its parent, which is leaving): the peer starts at
 * most 64 searches for them within a join timeout (REFUSAL_SEARCHES_MAX in
 * scribe.c) and leaves the rest to its retry timer. Behind the rule that a
 * refused routed join waits for that timer, this bounds any exchange of
 * joins and refusals the policy's own searches might make. */
static void test_refusals_answered_at_once_are_bounded(void **state) {
  (void)state;
  net *nt = net_alloc(KIND_NODE, 16, 17);
  for (uint32_t i = 0; i < nt->n; i++)
    nt->node_cfg[i].forest.capacity = 20;
  net_create(nt, 17);
  net_build(nt);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 60 * S);
  const uint32_t x = 4;
  sc_node *nx = nt->node[x];
  sc_scribe *sx = sc_node_scribe(nx);
  const sc_splitstream *ssx = sc_node_forest_c(nx);
  int g = -1;
  for (unsigned h = 0; h < sc_scribe_groups(sx) && g < 0; h++)
    if (sc_splitstream_stripe_of(ssx, h) >= 0 && sc_scribe_parent(sx, h, NULL))
      g = (int)h;
  assert_true(g >= 0);
  sc_ref parent;
  assert_true(sc_scribe_parent(sx, (unsigned)g, &parent));
  const sc_id gid = *sc_scribe_group_id(sx, (unsigned)g);
  /* The parent is leaving: x searches while it keeps it. */
  assert_int_equal(sc_scribe_switch_parent(sx, (unsigned)g, nt->now_ns), SC_OK);

  enum { REFUSALS = 200 };
  sc_scribe_stats st0, st1;
  sc_scribe_get_stats(sx, &st0);
  for (unsigned k = 0; k < REFUSALS; k++) {
    sc_msg m;
    memset(&m, 0, sizeof(m));
    m.sender = parent;
    m.type = SC_MSG_SCRIBE_DROP;
    m.u.scribe_drop.group = gid;
    /* One push-down candidate forwarding the stripe (its first digit), a
     * phantom that never answers. */
    m.u.scribe_drop.n = 1;
    m.u.scribe_drop.e[0].id = gid;
    m.u.scribe_drop.e[0].id.lo ^= k + 1;
    m.u.scribe_drop.e[0].addr = PHANTOM_BASE + k % 8;
    assert_int_equal(sc_node_recv(nx, &m, nt->now_ns), SC_OK);
  }
  sc_scribe_get_stats(sx, &st1);
  uint64_t searches = (st1.joins_direct - st0.joins_direct) +
                      (st1.joins_routed - st0.joins_routed) +
                      (st1.anycasts_started - st0.anycasts_started);
  uint64_t deferred = st1.refusals_deferred - st0.refusals_deferred;
  print_message("%d refusals at once: %llu searches, %llu left to the retry timer\n",
                REFUSALS, (unsigned long long)searches, (unsigned long long)deferred);
  assert_true(searches > 0);
  assert_true(searches <= 64);
  assert_int_equal(searches + deferred, REFUSALS);
  /* The retry timer still runs: x finds a parent again. */
  net_run(nt, nt->now_ns + 120 * S);
  assert_true(sc_scribe_attached(sx, (unsigned)g));
  net_del(nt);
}

static void test_malformed_messages_change_nothing(void **state) {
  (void)state;
  net *nt = net_alloc(KIND_NODE, 16, 13);
  for (uint32_t i = 0; i < nt->n; i++)
    nt->node_cfg[i].forest.capacity = 20;
  net_create(nt, 13);
  net_build(nt);
  for (uint32_t i = 0; i < nt->n; i++)
    assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
  net_run(nt, nt->now_ns + 60 * S);
  /* Peer x: attached in a stripe g_att through a parent; y: another peer. */
  const uint32_t x = 4;
  sc_node *nx = nt->node[x];
  const sc_scribe *sx = sc_node_scribe_c(nx);
  int g_att = -1;
  for (unsigned g = 0; g < sc_scribe_groups(sx) && g_att < 0; g++)
    if (sc_scribe_parent(sx, g, NULL) && sc_scribe_children(sx, g) > 0) g_att = (int)g;
  for (unsigned g = 0; g < sc_scribe_groups(sx) && g_att < 0; g++)
    if (sc_scribe_parent(sx, g, NULL)) g_att = (int)g;
  assert_true(g_att >= 0);
  sc_id known = *sc_scribe_group_id(sx, (unsigned)g_att);
  sc_ref parent;
  assert_true(sc_scribe_parent(sx, (unsigned)g_att, &parent));
  uint32_t y = parent.addr == 0 ? 1 : 0; /* neither x nor x's parent in g_att */
  sc_id unknown = sc_id_hash("no such group", 13);
  assert_true(sc_scribe_group_find(sx, &unknown) < 0);
  sc_ref self = {nt->ids[x], x}, other = {nt->ids[y], y};

  tree_snap before, after;
  snap_take(sx, &before);
  sc_scribe_stats st0;
  sc_scribe_get_stats(sx, &st0);
  uint64_t sent0 = nt->sent_by[x];
  uint32_t data0[SC_STRIPES_MAX];
  for (unsigned st = 0; st < SC_STRIPES_MAX; st++)
    data0[st] = nt->stripe_data[x][st][5];

  sc_msg m;
  unsigned invalid = 0;
#define EXPECT(rv_expected)                                                              \
  do {                                                                                   \
    assert_int_equal(sc_node_recv(nx, &m, nt->now_ns), (rv_expected));                   \
    invalid += (rv_expected) == SC_ERR_INVALID;                                          \
  } while (0)

  /* Counts above their bounds. */
  memset(&m, 0, sizeof(m));
  m.sender = parent;
  m.type = SC_MSG_SCRIBE_PATH;
  m.u.scribe_path.group = known;
  m.u.scribe_path.accept = 1;
  m.u.scribe_path.n = SC_PATH_MAX + 1;
  EXPECT(SC_ERR_INVALID);
  m.u.scribe_path.n = 0;
  EXPECT(SC_ERR_INVALID);
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_SCRIBE_DROP;
  m.u.scribe_drop.group = known;
  m.u.scribe_drop.n = SC_DROP_CANDIDATES + 1;
  EXPECT(SC_ERR_INVALID);
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_ANYCAST;
  m.u.anycast.group = known;
  m.u.anycast.requester = other;
  m.u.anycast.nvisit = SC_ANYCAST_VISIT_MAX + 1;
  EXPECT(SC_ERR_INVALID);
  m.u.anycast.nvisit = 0;
  m.u.anycast.nseen = SC_ANYCAST_SEEN_MAX + 1;
  EXPECT(SC_ERR_INVALID);
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_SCRIBE_HEARTBEAT;
  m.u.scribe_hb.from_parent = 1;
  m.u.scribe_hb.n = SC_SCRIBE_HB_GROUPS + 1;
  EXPECT(SC_ERR_INVALID);
  /* Unknown types, at both layers. */
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_TYPE_END;
  EXPECT(SC_ERR_INVALID);
  m.type = 200;
  EXPECT(SC_ERR_INVALID);
  m.type = SC_MSG_PING; /* not Scribe's: refused by sc_scribe_recv itself */
  assert_int_equal(sc_scribe_recv(sc_node_scribe(nx), &m, nt->now_ns), SC_ERR_INVALID);
  invalid++;

  /* Self-sent tree messages. */
  static const uint8_t tree_types[] = {SC_MSG_MULTICAST, SC_MSG_SCRIBE_PATH,
                                       SC_MSG_SCRIBE_JOIN, SC_MSG_SCRIBE_LEAVE,
                                       SC_MSG_SCRIBE_DROP};
  for (size_t k = 0; k < sizeof(tree_types); k++) {
    memset(&m, 0, sizeof(m));
    m.type = tree_types[k];
    m.sender = self;
    m.u.scribe_group.group = known; /* every one of these starts with the group */
    if (m.type == SC_MSG_SCRIBE_PATH) m.u.scribe_path.n = 1, m.u.scribe_path.accept = 1;
    if (m.type == SC_MSG_MULTICAST) m.u.multicast.seq = 5;
    EXPECT(SC_ERR_INVALID);
  }

  /* Unknown groups: ignored (no group appears, nothing is sent). */
  static const uint8_t unknown_types[] = {SC_MSG_MULTICAST, SC_MSG_SCRIBE_LEAVE,
                                          SC_MSG_SCRIBE_DROP, SC_MSG_SCRIBE_PATH};
  for (size_t k = 0; k < sizeof(unknown_types); k++) {
    memset(&m, 0, sizeof(m));
    m.type = unknown_types[k];
    m.sender = other;
    m.u.scribe_group.group = unknown;
    if (m.type == SC_MSG_SCRIBE_PATH) m.u.scribe_path.n = 1; /* an update, no accept */
    if (m.type == SC_MSG_MULTICAST) m.u.multicast.seq = 5, m.u.multicast.depth = 1;
    EXPECT(0);
  }
  assert_int_equal(nt->sent_by[x], sent0);

  /* Messages about a known group from a peer with no say in it: a multicast
   * from a non-parent is not delivered or forwarded; a drop and a path
   * update from a non-parent, a leave from a non-child change nothing. */
  memset(&m, 0, sizeof(m));
  m.sender = other;
  m.type = SC_MSG_MULTICAST;
  m.u.multicast.group = known;
  m.u.multicast.seq = 5;
  m.u.multicast.depth = 1; /* relayed (depth 0 would be a publish, below) */
  EXPECT(0);
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_SCRIBE_DROP;
  m.u.scribe_drop.group = known;
  EXPECT(0);
  memset(&m.u, 0, sizeof(m.u));
  m.type = SC_MSG_SCRIBE_PATH;
  m.u.scribe_path.group = known;
  m.u.scribe_path.n = 1;
  m.u.scribe_path.path[0] = sc_id_prefix64(&other.id);
  EXPECT(0);
  bool y_is_child = false;
  for (unsigned c = 0; c < before.g[g_att].nchildren; c++)
    y_is_child |= before.g[g_att].children[c] == y;
  if (!y_is_child) {
    memset(&m.u, 0, sizeof(m.u));
    m.type = SC_MSG_SCRIBE_LEAVE;
    m.u.scribe_group.group = known;
    EXPECT(0);
  }
  assert_int_equal(nt->sent_by[x], sent0);

  /* An accept for an unknown group is declined with one LEAVE, and so is a
   * second accept for a group x is already attached in. */
  memset(&m, 0, sizeof(m));
  m.sender = other;
  m.type = SC_MSG_SCRIBE_PATH;
  m.u.scribe_path.group = unknown;
  m.u.scribe_path.accept = 1;
  m.u.scribe_path.n = 1;
  m.u.scribe_path.path[0] = sc_id_prefix64(&other.id);
  EXPECT(0);
  m.u.scribe_path.group = known;
  EXPECT(0);
  assert_int_equal(nt->sent_by[x], sent0 + 2);
  unsigned leaves = 0;
  for (size_t k = 0; k < nt->nheap; k++) {
    const queued *q = nt->heap[k];
    if (q->from == x && q->to == y && q->msg.type == SC_MSG_SCRIBE_LEAVE) leaves++;
  }
  assert_int_equal(leaves, 2);

  /* A MULTICAST of depth 0 from a non-parent is a publisher's (Scribe §2.2);
   * x is the root of neither group, so it forwards nothing and answers "not
   * the root" to each, sending the publisher to locate the root again. */
  uint64_t sent1 = nt->sent_by[x];
  assert_false(sc_scribe_is_root(sx, (unsigned)sc_scribe_group_find(sx, &known)));
  memset(&m, 0, sizeof(m));
  m.sender = other;
  m.type = SC_MSG_MULTICAST;
  m.u.multicast.group = known;
  m.u.multicast.seq = 6;
  EXPECT(0);
  m.u.multicast.group = unknown;
  EXPECT(0);
  assert_int_equal(nt->sent_by[x], sent1 + 2);
  unsigned not_root = 0;
  for (size_t k = 0; k < nt->nheap; k++) {
    const queued *q = nt->heap[k];
    if (q->from == x && q->to == other.addr && q->msg.type == SC_MSG_SCRIBE_ROOT &&
        !q->msg.u.scribe_root.is_root)
      not_root++;
  }
  assert_int_equal(not_root, 2);
#undef EXPECT

  snap_take(sx, &after);
  snap_assert_same(&before, &after);
  sc_scribe_stats st1;
  sc_scribe_get_stats(sx, &st1);
  /* sc_node_recv hands unknown types to Pastry, which counts them itself. */
  assert_int_equal(st1.msgs_invalid - st0.msgs_invalid, invalid - 2);
  for (unsigned st = 0; st < SC_STRIPES_MAX; st++)
    assert_int_equal(nt->stripe_data[x][st][5], data0[st]);
  assert_true(sc_scribe_group_find(sx, &unknown) < 0);

  /* And x goes on working: a message on every stripe still arrives. */
  nt->recv_invalid = 0;
  net_run(nt, nt->now_ns + 30 * S);
  assert_int_equal(sc_splitstream_publish(sc_node_forest(nt->node[0]), 6, nt->now_ns), 0);
  net_run(nt, nt->now_ns + 5 * S);
  const sc_splitstream *fx = sc_node_forest_c(nx);
  for (unsigned st = 0; st < 16; st++)
    if (sc_splitstream_wants(fx, st)) assert_int_equal(nt->stripe_data[x][st][6], 1);
  assert_int_equal(nt->recv_invalid, 0);
  net_del(nt);
}

/* ------------------------------------------------------ allocation failures */

static void test_node_new_out_of_memory(void **state) {
  (void)state;
  sc_ref self = {{0x3333333333333333ull, 7}, 0};
  sc_node_config cfg;
  sc_node_config_default(&cfg);
  long budget = 0;
  for (;; budget++) {
    assert_true(budget < 1000);
    failalloc fa;
    failalloc_init_budget(&fa, budget);
    sc_node *n = NULL;
    int rv = sc_node_new(&n, &self, 1, &cfg, &node_cb, &fa.alloc, NULL, 0);
    if (rv == SC_ERR_NOMEM) {
      assert_null(n);
      assert_int_equal(fa.live, 0); /* everything given back */
      continue;
    }
    assert_int_equal(rv, 0);
    assert_true(fa.live > 0);
    sc_node_del(n);
    assert_int_equal(fa.live, 0);
    break;
  }
  /* Pastry, Scribe, its k + 1 groups, SplitStream: many failure points. */
  assert_true(budget >= 1 + 1 + 1 + 17 + 1);
}

static void test_running_out_of_memory(void **state) {
  (void)state;
  /* A whole peer whose allocator fails after some budget joins a small
   * forest: whatever call fails, it says SC_ERR_NOMEM (the harness then
   * leaves it alone) and gives every block back when deleted. */
  sc_node_config cfg;
  sc_node_config_default(&cfg);
  cfg.forest.stripes = 4;
  cfg.forest.in_degree = 4;
  cfg.forest.capacity = 6;
  unsigned nomem_seen = 0;
  for (long extra = 0; extra < 120; extra += 3) {
    net *nt = net_alloc(KIND_NODE, 12, 14);
    for (uint32_t i = 0; i < nt->n; i++)
      nt->node_cfg[i] = cfg;
    net_create(nt, 14);
    net_build(nt);
    const uint32_t v = 7;
    failalloc fa;
    failalloc_init(&fa, -1);
    sc_node *victim = NULL;
    sc_ref self = {nt->ids[v], v};
    assert_int_equal(sc_node_new(&victim, &self, 99, &cfg, &node_cb, &fa.alloc,
                                 (void *)(uintptr_t)v, nt->now_ns),
                     0);
    fa.budget = 1; /* from here on, `extra` more allocations succeed */
    fa.fail_at = fa.calls + extra;
    sc_node_del(nt->node[v]);
    nt->node[v] = victim;
    /* v rejoins under the same id and address, as after a restart. */
    int rv = sc_node_join(victim, 0, nt->now_ns);
    assert_true(rv == 0 || rv == SC_ERR_NOMEM);
    if (rv == SC_ERR_NOMEM) nt->nomem[v] = true, nt->alive[v] = false;
    net_run(nt, nt->now_ns + 20 * S);
    for (uint32_t i = 0; i < nt->n && nt->alive[v]; i++) {
      if (i == v) {
        rv = sc_node_start_forest(victim, nt->now_ns);
        assert_true(rv == 0 || rv == SC_ERR_NOMEM);
        if (rv == SC_ERR_NOMEM) nt->nomem[v] = true, nt->alive[v] = false;
      } else {
        assert_int_equal(sc_node_start_forest(nt->node[i], nt->now_ns), 0);
      }
    }
    net_run(nt, nt->now_ns + 60 * S);
    for (uint32_t i = 0; i < nt->n; i++)
      if (i != v) assert_false(nt->nomem[i]);
    nomem_seen += nt->nomem[v];
    net_del(nt);
    assert_int_equal(fa.live, 0);
  }
  assert_true(nomem_seen > 0);
}

static void test_invalid_arguments(void **state) {
  (void)state;
  sc_ref self = {{1, 1}, 0};
  sc_node *n = NULL;
  sc_node_callbacks none = {0};
  assert_int_equal(sc_node_new(&n, &self, 1, NULL, &none, NULL, NULL, 0), SC_ERR_INVALID);
  sc_node_config cfg;
  sc_node_config_default(&cfg);
  cfg.forest.stripes = 3;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_node_config_default(&cfg);
  cfg.forest.in_degree = 17;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_node_config_default(&cfg);
  cfg.scribe.heartbeat_ns = 0;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0),
                   SC_ERR_INVALID);
  /* A child's times are kept modulo 2^48 ns: heartbeats are bounded. */
  cfg.scribe.heartbeat_ns = SC_SCRIBE_HEARTBEAT_MAX_NS + 1;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_node_config_default(&cfg);
  cfg.scribe.heartbeat_misses = SC_SCRIBE_HEARTBEAT_MISSES_MAX + 1;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_node_config_default(&cfg);
  cfg.scribe.heartbeat_ns = SC_SCRIBE_HEARTBEAT_MAX_NS;
  cfg.scribe.heartbeat_misses = SC_SCRIBE_HEARTBEAT_MISSES_MAX;
  assert_int_equal(sc_node_new(&n, &self, 1, &cfg, &node_cb, NULL, NULL, 0), 0);
  sc_node_del(n);
  sc_node_del(NULL);

  /* A peer takes part in at most SC_SCRIBE_GROUPS_MAX groups. */
  net *nt = net_new(KIND_SCRIBE, 1, 15);
  sc_scribe *s = nt->scribe[0];
  for (unsigned g = 0; g < SC_SCRIBE_GROUPS_MAX; g++) {
    sc_id id = {g + 1, 0};
    assert_int_equal(sc_scribe_group(s, &id), (int)g);
    assert_int_equal(sc_scribe_group(s, &id), (int)g); /* idempotent */
  }
  sc_id more = {1000, 0};
  assert_int_equal(sc_scribe_group(s, &more), SC_ERR_FULL);
  assert_int_equal(sc_scribe_group_find(s, &more), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_scribe_groups(s), SC_SCRIBE_GROUPS_MAX);
  net_del(nt);
}

/* children_max is bounded: a group counts its children in 16 bits. */
static void test_children_max_bounded(void **state) {
  (void)state;
  sc_ref self = {sc_id_hash("cm", 2), 0};
  sc_pastry *p;
  assert_int_equal(sc_pastry_new(&p, &self, 1, NULL, &sp_pastry_cb, NULL, NULL, 0), 0);
  sc_scribe_config c;
  sc_scribe_config_default(&c);
  sc_scribe *s = NULL;
  c.children_max = SC_SCRIBE_CHILDREN_MAX + 1;
  assert_int_equal(sc_scribe_new(&s, p, &c, NULL, sp_send, NULL, NULL, 1, 0),
                   SC_ERR_INVALID);
  c.children_max = SC_SCRIBE_CHILDREN_MAX;
  assert_int_equal(sc_scribe_new(&s, p, &c, NULL, sp_send, NULL, NULL, 1, 0), 0);
  sc_scribe_del(s);
  sc_pastry_del(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_children_max_bounded),
      cmocka_unit_test(test_join_builds_tree_rooted_at_closest),
      cmocka_unit_test(test_root_moves_to_a_closer_newcomer),
      cmocka_unit_test(test_multicast_reaches_every_member_once),
      cmocka_unit_test(test_unsubscribe_prunes_forwarders),
      cmocka_unit_test(test_dead_parent_detected_by_heartbeats),
      cmocka_unit_test(test_cycle_found_after_lost_path_updates),
      cmocka_unit_test(test_heartbeats_across_clock_wrap_and_hours),
      cmocka_unit_test(test_polite_departure_loses_nothing),
      cmocka_unit_test(test_anycast),
      cmocka_unit_test(test_forest_delivers_every_stripe_once),
      cmocka_unit_test(test_source_lets_go_of_a_handed_over_stripe),
      cmocka_unit_test(test_capacity0_stays_out_of_the_spare_tree),
      cmocka_unit_test(test_full_peer_drops_by_the_paper_rule),
      cmocka_unit_test(test_full_peer_drops_the_youngest_of_tied_children),
      cmocka_unit_test(test_stripe_ids),
      cmocka_unit_test(test_malformed_messages_change_nothing),
      cmocka_unit_test(test_refusals_answered_at_once_are_bounded),
      cmocka_unit_test(test_node_new_out_of_memory),
      cmocka_unit_test(test_running_out_of_memory),
      cmocka_unit_test(test_invalid_arguments),
      cmocka_unit_test(test_tally_table),
      cmocka_unit_test(test_tally_sums_up_the_tree),
      cmocka_unit_test(test_tally_publisher_is_the_root),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
