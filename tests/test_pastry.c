/*
 * test_pastry.c — the Pastry peer through its public API only: a tiny
 * in-test network (a time-ordered queue, literal latencies) hands messages
 * between peers; tests assert on what peers send and deliver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/pastry.h"
#include "failalloc.h"
#include "core/rng.h"

#define NET_PEERS_MAX 64
#define NET_QUEUE_MAX 200000
#define MS            1000000ull
#define S             1000000000ull

typedef struct queued {
  uint64_t at_ns;
  uint64_t seq;
  uint32_t to;
  sc_msg msg;
} queued;

typedef struct delivery {
  sc_id key;
  uint32_t at_peer;
  uint64_t app_id;
  uint16_t hops;
  uint64_t at_ns;
} delivery;

typedef struct net {
  uint64_t now_ns, seq;
  uint32_t n;
  sc_pastry *peers[NET_PEERS_MAX];
  bool alive[NET_PEERS_MAX];
  sc_id ids[NET_PEERS_MAX];
  queued *q;
  size_t nq;
  uint64_t sent_by_type[SC_MSG_TYPE_END];
  delivery deliveries[4096];
  size_t ndeliveries;
  uint32_t peer_of_user[NET_PEERS_MAX];
  uint64_t slow_ns[NET_PEERS_MAX]; /* added to what a peer sends: a full uplink */
} net;

static net *g_net_for_cb; /* test harness only: callbacks find the net here */

static uint64_t latency_ns(uint32_t a, uint32_t b) {
  return (5 + (a * 7 + b * 7) % 40) * MS; /* symmetric, 5..44 ms */
}

static void cb_send(void *user, sc_addr to, const sc_msg *m) {
  net *nt = g_net_for_cb;
  uint32_t from = (uint32_t)(uintptr_t)user;
  assert_true(to < nt->n);
  assert_true(nt->nq < NET_QUEUE_MAX);
  nt->sent_by_type[m->type]++;
  queued *x = &nt->q[nt->nq++];
  x->at_ns = nt->now_ns + latency_ns(from, to) + nt->slow_ns[from];
  x->seq = nt->seq++;
  x->to = to;
  memcpy(&x->msg, m, sc_msg_struct_size(m));
}

static void cb_deliver(void *user, const sc_msg *m, uint64_t now) {
  net *nt = g_net_for_cb;
  assert_int_equal(m->type, SC_MSG_ROUTE);
  delivery *d = &nt->deliveries[nt->ndeliveries++];
  d->key = m->u.route.key;
  d->at_peer = (uint32_t)(uintptr_t)user;
  d->app_id = m->u.route.app_id;
  d->hops = m->u.route.hops;
  d->at_ns = now;
}

static const sc_pastry_callbacks callbacks = {.send = cb_send, .deliver = cb_deliver};

static net *net_new_cfg(uint32_t n, uint64_t seed, const sc_pastry_config *cfg) {
  net *nt = calloc(1, sizeof(net));
  nt->q = malloc(NET_QUEUE_MAX * sizeof(queued));
  nt->n = n;
  g_net_for_cb = nt;
  sc_rng r;
  sc_rng_seed(&r, seed);
  for (uint32_t i = 0; i < n; i++) {
    nt->ids[i] = (sc_id){sc_rng_next(&r), sc_rng_next(&r)};
    sc_ref self = {nt->ids[i], i};
    assert_int_equal(sc_pastry_new(&nt->peers[i], &self, seed + i, cfg, &callbacks, NULL,
                                   (void *)(uintptr_t)i, 0),
                     0);
    nt->alive[i] = true;
  }
  return nt;
}

static net *net_new(uint32_t n, uint64_t seed) {
  return net_new_cfg(n, seed, NULL);
}

static void net_del(net *nt) {
  for (uint32_t i = 0; i < nt->n; i++)
    sc_pastry_del(nt->peers[i]);
  free(nt->q);
  free(nt);
}

/* Runs every message and timer due up to until_ns, in time order. */
static void net_run(net *nt, uint64_t until_ns) {
  for (;;) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < nt->nq; i++)
      if (best == SIZE_MAX || nt->q[i].at_ns < nt->q[best].at_ns ||
          (nt->q[i].at_ns == nt->q[best].at_ns && nt->q[i].seq < nt->q[best].seq))
        best = i;
    uint64_t t_msg = best == SIZE_MAX ? UINT64_MAX : nt->q[best].at_ns;
    uint32_t tp = UINT32_MAX;
    uint64_t t_tm = UINT64_MAX;
    for (uint32_t i = 0; i < nt->n; i++) {
      if (!nt->alive[i]) continue;
      uint64_t e = sc_pastry_get_expiry(nt->peers[i]);
      if (e < t_tm) t_tm = e, tp = i;
    }
    uint64_t t = t_msg < t_tm ? t_msg : t_tm;
    if (t > until_ns) break;
    assert_true(t >= nt->now_ns);
    nt->now_ns = t;
    if (t_tm < t_msg || (t_tm == t_msg && tp != UINT32_MAX && best == SIZE_MAX)) {
      assert_int_equal(sc_pastry_handle_expiry(nt->peers[tp], t), 0);
      assert_true(sc_pastry_get_expiry(nt->peers[tp]) > t);
    } else {
      queued x = nt->q[best];
      nt->q[best] = nt->q[--nt->nq];
      if (nt->alive[x.to]) sc_pastry_recv(nt->peers[x.to], &x.msg, t);
    }
  }
  nt->now_ns = until_ns;
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

/* Joins peers one after another, 2 s apart, through peer 0, then settles. */
static void net_build(net *nt) {
  assert_int_equal(sc_pastry_join(nt->peers[0], SC_ADDR_NONE, 0), 0);
  for (uint32_t i = 1; i < nt->n; i++) {
    net_run(nt, nt->now_ns + 2 * S);
    assert_int_equal(sc_pastry_join(nt->peers[i], 0, nt->now_ns), 0);
  }
  net_run(nt, nt->now_ns + 60 * S);
}

/* True if peer i's leaf set is exactly its l/2 live neighbours on each side. */
static bool leafset_true(const net *nt, uint32_t i) {
  sc_ref got[SC_LEAFSET_MAX];
  unsigned nleft;
  unsigned cnt = sc_pastry_leafset(nt->peers[i], got, SC_LEAFSET_MAX, &nleft);
  for (unsigned side = 0; side < 2; side++) {
    unsigned have = side == 0 ? nleft : cnt - nleft;
    const sc_ref *g = side == 0 ? got : got + nleft;
    /* Expected: live peers sorted by distance on this side. */
    uint32_t order[NET_PEERS_MAX];
    unsigned no = 0;
    for (uint32_t j = 0; j < nt->n; j++)
      if (j != i && nt->alive[j]) order[no++] = j;
    for (unsigned a = 0; a < no; a++)
      for (unsigned b = a + 1; b < no; b++) {
        sc_id da = side == 0 ? sc_id_sub(&nt->ids[i], &nt->ids[order[a]])
                             : sc_id_sub(&nt->ids[order[a]], &nt->ids[i]);
        sc_id db = side == 0 ? sc_id_sub(&nt->ids[i], &nt->ids[order[b]])
                             : sc_id_sub(&nt->ids[order[b]], &nt->ids[i]);
        if (sc_id_cmp(&db, &da) < 0) {
          uint32_t t = order[a];
          order[a] = order[b];
          order[b] = t;
        }
      }
    unsigned want = no < SC_LEAFSET_MAX / 2 ? no : SC_LEAFSET_MAX / 2;
    if (have != want) return false;
    for (unsigned k = 0; k < want; k++)
      if (!sc_id_eq(&g[k].id, &nt->ids[order[k]])) return false;
  }
  return true;
}

static void test_lone_peer_owns_everything(void **state) {
  (void)state;
  net *nt = net_new(1, 1);
  assert_int_equal(sc_pastry_join(nt->peers[0], SC_ADDR_NONE, 0), 0);
  assert_true(sc_pastry_is_joined(nt->peers[0]));
  assert_int_equal(sc_pastry_join(nt->peers[0], SC_ADDR_NONE, 0), SC_ERR_INVALID);
  sc_id key = {42, 43};
  assert_int_equal(sc_pastry_route(nt->peers[0], &key, SC_ROUTE_LOOKUP, 7, 0), 0);
  assert_int_equal(nt->ndeliveries, 1);
  assert_int_equal(nt->deliveries[0].at_peer, 0);
  assert_int_equal(nt->deliveries[0].hops, 0);
  assert_int_equal(nt->nq, 0); /* nothing sent: it is alone */
  net_del(nt);
}

static void test_join_builds_consistent_overlay(void **state) {
  (void)state;
  net *nt = net_new(40, 2);
  net_build(nt);
  for (uint32_t i = 0; i < nt->n; i++) {
    assert_true(sc_pastry_is_joined(nt->peers[i]));
    assert_true(leafset_true(nt, i));
  }
  /* Every routing-table entry sits in the slot its id names. */
  for (uint32_t i = 0; i < nt->n; i++)
    for (unsigned row = 0; row < 4; row++)
      for (unsigned col = 0; col < 16; col++) {
        sc_ref e;
        if (!sc_pastry_rt_entry(nt->peers[i], row, col, &e, NULL)) continue;
        assert_int_equal(sc_id_shl(&e.id, &nt->ids[i]), row);
        assert_int_equal(sc_id_digit(&e.id, row), col);
      }
  net_del(nt);
}

static void test_lookups_reach_owner(void **state) {
  (void)state;
  net *nt = net_new(48, 3);
  net_build(nt);
  sc_rng r;
  sc_rng_seed(&r, 99);
  for (uint64_t k = 0; k < 400; k++) {
    sc_id key = {sc_rng_next(&r), sc_rng_next(&r)};
    uint32_t from = sc_rng_below(&r, nt->n);
    size_t before = nt->ndeliveries;
    sc_pastry_route(nt->peers[from], &key, SC_ROUTE_LOOKUP, k, nt->now_ns);
    net_run(nt, nt->now_ns + 5 * S);
    assert_int_equal(nt->ndeliveries, before + 1);
    assert_int_equal(nt->deliveries[before].at_peer, owner_of(nt, &key));
    assert_int_equal(nt->deliveries[before].app_id, k);
    assert_true(nt->deliveries[before].hops <= 3); /* ⌈log16 48⌉ + 1 */
  }
  net_del(nt);
}

static void test_crash_is_detected_and_repaired(void **state) {
  (void)state;
  net *nt = net_new(40, 4);
  net_build(nt);
  /* Crash three peers at once: they simply fall silent. */
  uint32_t dead[3] = {5, 6, 17};
  for (unsigned k = 0; k < 3; k++)
    nt->alive[dead[k]] = false;
  net_run(nt, nt->now_ns + 120 * S);
  for (uint32_t i = 0; i < nt->n; i++) {
    if (!nt->alive[i]) continue;
    assert_true(leafset_true(nt, i));
    sc_pastry_stats st;
    sc_pastry_get_stats(nt->peers[i], &st);
    assert_int_equal(st.suspects, 0);
  }
  /* Keys the dead owned now go to the live owners. */
  for (unsigned k = 0; k < 3; k++) {
    size_t before = nt->ndeliveries;
    sc_pastry_route(nt->peers[0], &nt->ids[dead[k]], SC_ROUTE_LOOKUP, k, nt->now_ns);
    net_run(nt, nt->now_ns + 10 * S);
    assert_int_equal(nt->ndeliveries, before + 1);
    assert_int_equal(nt->deliveries[before].at_peer, owner_of(nt, &nt->ids[dead[k]]));
  }
  net_del(nt);
}

static void test_route_around_silent_next_hop(void **state) {
  (void)state;
  /* A peer dies and lookups start at once, before any heartbeat notices: the
   * per-hop acknowledgement times out and the route takes another hop. */
  net *nt = net_new(40, 5);
  net_build(nt);
  uint32_t victim = 9;
  nt->alive[victim] = false;
  uint64_t rerouted = 0;
  /* Keys at the victim's id: every route ends by heading for the victim. */
  size_t before = nt->ndeliveries;
  for (uint64_t k = 0; k < 30; k++) {
    uint32_t from = (victim + 1 + (uint32_t)k) % nt->n;
    if (from == victim) continue;
    sc_id key = nt->ids[victim];
    key.lo += k;
    sc_pastry_route(nt->peers[from], &key, SC_ROUTE_LOOKUP, k, nt->now_ns);
  }
  net_run(nt, nt->now_ns + 10 * S);
  assert_true(nt->ndeliveries - before >= 29);
  for (size_t d = before; d < nt->ndeliveries; d++)
    assert_int_equal(nt->deliveries[d].at_peer, owner_of(nt, &nt->deliveries[d].key));
  for (uint32_t i = 0; i < nt->n; i++) {
    if (i == victim) continue;
    sc_pastry_stats st;
    sc_pastry_get_stats(nt->peers[i], &st);
    rerouted += st.reroutes;
  }
  assert_true(rerouted > 0);
  net_del(nt);
}

/* An owner alive but slow to answer (its acks queued behind a full uplink)
 * is suspected by the peers that route to it, and not yet known dead: the
 * routes that make a Scribe root where they end (here PUBLISH) wait at their
 * last hop for its answer to the probe and still end at the owner. Delivered at the
 * suspecting neighbour instead, a Scribe JOIN or root lookup made that neighbour a second
 * root of the group. */
static void test_slow_owner_keeps_its_keys(void **state) {
  (void)state;
  net *nt = net_new(40, 6);
  net_build(nt);
  const uint32_t owner = 11;
  /* Later than the ack wait for a measured neighbour (2 RTT + 100 ms),
   * sooner than a probe timeout (1 s). */
  nt->slow_ns[owner] = 600 * MS;
  size_t before = nt->ndeliveries;
  unsigned sent = 0;
  for (uint64_t k = 0; k < 30; k++) {
    uint32_t from = (owner + 1 + (uint32_t)k) % nt->n;
    if (from == owner) continue;
    sc_id key = nt->ids[owner];
    key.lo += k;
    if (owner_of(nt, &key) != owner) continue;
    sc_pastry_route(nt->peers[from], &key, SC_ROUTE_PUBLISH, k, nt->now_ns);
    sent++;
  }
  assert_true(sent >= 20);
  net_run(nt, nt->now_ns + 20 * S);
  /* Every lookup arrives; some twice, as per-hop acks allow (a first hop
   * that gave up on the slow owner sent another copy through a neighbour). */
  bool arrived[30] = {false};
  for (size_t d = before; d < nt->ndeliveries; d++) {
    assert_int_equal(nt->deliveries[d].at_peer, owner);
    arrived[nt->deliveries[d].app_id] = true;
  }
  unsigned n = 0;
  for (unsigned k = 0; k < 30; k++)
    n += arrived[k];
  assert_int_equal(n, sent);
  uint64_t held = 0, dead = 0;
  for (uint32_t i = 0; i < nt->n; i++) {
    sc_pastry_stats st;
    sc_pastry_get_stats(nt->peers[i], &st);
    held += st.routes_held;
    dead += st.peers_declared_dead;
  }
  assert_true(held > 0); /* the routes did meet a suspected owner */
  assert_int_equal(dead, 0);
  net_del(nt);
}

/* The latest delivery of 30 lookups for keys at a peer that just died
 * silently, measured from their start. */
static uint64_t reroute_time_ns(bool learned) {
  sc_pastry_config cfg;
  sc_pastry_config_default(&cfg);
  cfg.ack_timeout_learned = learned;
  net *nt = net_new_cfg(40, 5, &cfg);
  net_build(nt);
  const uint32_t victim = 9;
  nt->alive[victim] = false;
  const uint64_t t0 = nt->now_ns;
  size_t before = nt->ndeliveries;
  for (uint64_t k = 0; k < 30; k++) {
    uint32_t from = (victim + 1 + (uint32_t)k) % nt->n;
    sc_id key = nt->ids[victim];
    key.lo += k;
    sc_pastry_route(nt->peers[from], &key, SC_ROUTE_LOOKUP, k, nt->now_ns);
  }
  net_run(nt, t0 + 10 * S);
  assert_int_equal(nt->ndeliveries - before, 30);
  uint64_t last = 0;
  for (size_t d = before; d < nt->ndeliveries; d++) {
    assert_int_equal(nt->deliveries[d].at_peer, owner_of(nt, &nt->deliveries[d].key));
    if (nt->deliveries[d].at_ns - t0 > last) last = nt->deliveries[d].at_ns - t0;
  }
  net_del(nt);
  return last;
}

/* A next hop never measured (here the dead peer, a leaf-set member of the
 * routes' last hops) has its ack waited for ack_timeout_ns (1 s); with
 * ack_timeout_learned, 2 x the largest RTT measured (at most 88 ms here)
 * + 100 ms, so the reroute comes within well under a second. */
static void test_ack_timeout_learned(void **state) {
  (void)state;
  uint64_t fixed = reroute_time_ns(false), learned = reroute_time_ns(true);
  assert_true(fixed >= 1 * S);
  assert_true(learned < 600 * MS);
}

static void test_malformed_messages_are_dropped(void **state) {
  (void)state;
  net *nt = net_new(8, 6);
  net_build(nt);
  sc_pastry *p = nt->peers[3];
  sc_msg m;
  memset(&m, 0, sizeof(m));
  m.sender.id = (sc_id){1, 2};
  m.sender.addr = 4;
  m.type = SC_MSG_LEAFSET;
  m.u.leafset.n = SC_LEAFSET_MAX + 1;
  assert_int_equal(sc_pastry_recv(p, &m, nt->now_ns), SC_ERR_INVALID);
  m.type = SC_MSG_ROW;
  m.u.row.row = 0;
  m.u.row.n = 200;
  assert_int_equal(sc_pastry_recv(p, &m, nt->now_ns), SC_ERR_INVALID);
  m.type = 99;
  assert_int_equal(sc_pastry_recv(p, &m, nt->now_ns), SC_ERR_INVALID);
  m.type = SC_MSG_PING;
  m.sender.addr = SC_ADDR_NONE;
  assert_int_equal(sc_pastry_recv(p, &m, nt->now_ns), SC_ERR_INVALID);
  m.type = SC_MSG_ROUTE;
  m.sender.addr = 4;
  m.u.route.kind = 77;
  m.u.route.origin.addr = 4;
  assert_int_equal(sc_pastry_recv(p, &m, nt->now_ns), SC_ERR_INVALID);
  sc_pastry_stats st;
  sc_pastry_get_stats(p, &st);
  assert_int_equal(st.msgs_dropped_invalid, 5);
  /* ... and the peer carries on routing correctly. */
  sc_id key = {7, 7};
  size_t before = nt->ndeliveries;
  sc_pastry_route(p, &key, SC_ROUTE_LOOKUP, 1, nt->now_ns);
  net_run(nt, nt->now_ns + 5 * S);
  assert_int_equal(nt->ndeliveries, before + 1);
  assert_int_equal(nt->deliveries[before].at_peer, owner_of(nt, &key));
  net_del(nt);
}

static void test_pns_keeps_nearest(void **state) {
  (void)state;
  /* With PNS every measured slot holds the lowest-RTT peer the owner measured;
   * at least check that entries carry measured RTTs matching the model. */
  net *nt = net_new(48, 7);
  net_build(nt);
  unsigned measured = 0;
  for (uint32_t i = 0; i < nt->n; i++)
    for (unsigned col = 0; col < 16; col++) {
      sc_ref e;
      uint32_t rtt_us;
      if (!sc_pastry_rt_entry(nt->peers[i], 0, col, &e, &rtt_us)) continue;
      if (rtt_us == UINT32_MAX) continue;
      measured++;
      assert_int_equal((uint64_t)rtt_us * 1000, 2 * latency_ns(i, e.addr));
    }
  assert_true(measured > 0);
  net_del(nt);
}

static void test_allocation_failures(void **state) {
  (void)state;
  for (int budget = 0; budget < 12; budget++) {
    net *nt = net_new(6, 8);
    net_build(nt);
    /* Every failure point must surface as SC_ERR_NOMEM, never a crash or a
     * leak (nghttp2's failmalloc). */
    failalloc fa;
    failalloc_init_budget(&fa, budget);
    const sc_alloc *a = &fa.alloc;
    sc_ref self = {{0x123456789abcdef0ull, 1}, 5};
    sc_pastry *victim = NULL;
    int rv =
        sc_pastry_new(&victim, &self, 1, NULL, &callbacks, a, (void *)(uintptr_t)5, 0);
    if (rv == SC_ERR_NOMEM) {
      assert_int_equal(fa.live, 0);
      net_del(nt);
      continue;
    }
    assert_int_equal(rv, 0);
    sc_pastry_del(nt->peers[5]);
    nt->peers[5] = victim;
    nt->ids[5] = self.id;
    sc_pastry_join(victim, 0, nt->now_ns);
    /* Run the join by hand so the first SC_ERR_NOMEM is seen. */
    bool nomem = false;
    for (int step = 0; step < 200000 && nt->nq > 0 && !nomem; step++) {
      size_t best = 0;
      for (size_t i = 1; i < nt->nq; i++)
        if (nt->q[i].at_ns < nt->q[best].at_ns ||
            (nt->q[i].at_ns == nt->q[best].at_ns && nt->q[i].seq < nt->q[best].seq))
          best = i;
      queued x = nt->q[best];
      nt->q[best] = nt->q[--nt->nq];
      nt->now_ns = x.at_ns;
      rv = sc_pastry_recv(nt->peers[x.to], &x.msg, x.at_ns);
      if (x.to == 5 && rv == SC_ERR_NOMEM)
        nomem = true;
      else
        assert_true(rv == 0 || rv == SC_ERR_INVALID);
    }
    net_del(nt);
    assert_int_equal(fa.live, 0);
  }
}

static void test_invalid_arguments(void **state) {
  (void)state;
  sc_pastry *p = NULL;
  sc_ref self = {{1, 1}, 0};
  sc_pastry_config c;
  sc_pastry_config_default(&c);
  c.leafset_size = 3;
  assert_int_equal(sc_pastry_new(&p, &self, 1, &c, &callbacks, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_pastry_callbacks none = {0};
  assert_int_equal(sc_pastry_new(&p, &self, 1, NULL, &none, NULL, NULL, 0),
                   SC_ERR_INVALID);
  self.addr = SC_ADDR_NONE;
  assert_int_equal(sc_pastry_new(&p, &self, 1, NULL, &callbacks, NULL, NULL, 0),
                   SC_ERR_INVALID);
  sc_pastry_del(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lone_peer_owns_everything),
      cmocka_unit_test(test_join_builds_consistent_overlay),
      cmocka_unit_test(test_lookups_reach_owner),
      cmocka_unit_test(test_crash_is_detected_and_repaired),
      cmocka_unit_test(test_route_around_silent_next_hop),
      cmocka_unit_test(test_ack_timeout_learned),
      cmocka_unit_test(test_slow_owner_keeps_its_keys),
      cmocka_unit_test(test_malformed_messages_are_dropped),
      cmocka_unit_test(test_pns_keeps_nearest),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_invalid_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
