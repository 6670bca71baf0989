/*
 * test_topology.c — the transit-stub generator (sim/topology.h) and the peer
 * latency models (sim/netmodel.h).
 *
 * The default GATech topology is built once for the group (~0.1 s at -O2)
 * and shared; everything else uses small shapes so the program stays fast
 * under the sanitizers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "sim/netmodel.h"
#include "sim/topology.h"

/* ---- helpers ---- */

typedef struct walk_ctx {
  const sim_topo *topo;
  uint32_t at;      /* router the walk has reached */
  uint64_t sum_us;  /* latencies so far */
  uint32_t hops;    /* links so far */
  uint32_t stop_at; /* stop with 42 after this many hops (UINT32_MAX: never) */
} walk_ctx;

static int walk_cb(void *vctx, uint32_t link, uint32_t from, uint32_t to,
                   uint32_t latency_us) {
  walk_ctx *w = vctx;
  uint32_t a, b, us;
  assert_int_equal(sim_topo_link(w->topo, link, &a, &b, &us), SC_OK);
  /* A valid walk: continues from where it was, over a real link. */
  assert_int_equal(from, w->at);
  assert_true((a == from && b == to) || (a == to && b == from));
  assert_true(a < b);
  assert_int_equal(us, latency_us);
  w->at = to;
  w->sum_us += latency_us;
  w->hops++;
  if (w->hops == w->stop_at) return 42;
  return 0;
}

static void check_path(const sim_topo *t, uint32_t from, uint32_t to) {
  walk_ctx w = {t, from, 0, 0, UINT32_MAX};
  assert_int_equal(sim_topo_path_foreach(t, from, to, walk_cb, &w), SC_OK);
  assert_int_equal(w.at, to);
  assert_int_equal(w.sum_us, sim_topo_latency_us(t, from, to));
  assert_true(w.hops < sim_topo_routers(t));
  if (from != to) assert_int_equal(sim_topo_next_hop(t, from, to) != from, 1);
}

/* Floyd–Warshall over the link table: an independent oracle for the
 * Dijkstra (and its pendant-stub shortcut) on small graphs. */
static void check_against_floyd(const sim_topo *t) {
  uint32_t n = sim_topo_routers(t);
  uint64_t *d = malloc((size_t)n * n * sizeof(*d));
  assert_non_null(d);
  for (size_t i = 0; i < (size_t)n * n; i++)
    d[i] = UINT64_MAX / 4;
  for (uint32_t i = 0; i < n; i++)
    d[(size_t)i * n + i] = 0;
  for (uint32_t e = 0; e < sim_topo_links(t); e++) {
    uint32_t a, b, us;
    assert_int_equal(sim_topo_link(t, e, &a, &b, &us), SC_OK);
    assert_true(us > 0);
    d[(size_t)a * n + b] = d[(size_t)b * n + a] = us;
  }
  for (uint32_t k = 0; k < n; k++)
    for (uint32_t i = 0; i < n; i++)
      for (uint32_t j = 0; j < n; j++) {
        uint64_t via = d[(size_t)i * n + k] + d[(size_t)k * n + j];
        if (via < d[(size_t)i * n + j]) d[(size_t)i * n + j] = via;
      }
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < n; j++) {
      assert_int_equal(sim_topo_latency_us(t, i, j), d[(size_t)i * n + j]);
      check_path(t, i, j);
    }
  free(d);
}

/* ---- group fixture: the default GATech topology ---- */

static int setup_default(void **state) {
  sim_topo *t = NULL;
  if (sim_topo_new(&t, NULL) != SC_OK) return -1;
  *state = t;
  return 0;
}

static int teardown_default(void **state) {
  sim_topo_del(*state);
  return 0;
}

/* ---- topology ---- */

static void test_default_shape(void **state) {
  const sim_topo *t = *state;
  assert_int_equal(sim_topo_routers(t), 5050);
  assert_int_equal(sim_topo_transit_routers(t), 50);
  assert_int_equal(sim_topo_stub_routers(t), 5000);
  assert_int_equal(sim_topo_stub_router(t, 0), 50);
  assert_int_equal(sim_topo_stub_router(t, 4999), 5049);
  /* Spanning trees alone give routers - 1 links; the extras add more. */
  assert_true(sim_topo_links(t) >= sim_topo_routers(t) - 1);
  assert_int_equal(sim_topo_link(t, sim_topo_links(t), NULL, NULL, NULL), SC_ERR_INVALID);
  assert_true(sim_topo_mem_bytes(t) >= (size_t)5050 * 5050 * 6);
  const sim_topo_config *c = sim_topo_config_get(t);
  assert_int_equal(c->transit_domains, 10);
  assert_int_equal(c->stub_domain_routers, 10);
}

static void test_default_connected_symmetric(void **state) {
  const sim_topo *t = *state;
  uint32_t n = sim_topo_routers(t);
  const uint32_t *m = sim_topo_latency_matrix(t);
  /* Bound from the config: a shortest path has at most n-1 links. */
  uint64_t bound = (uint64_t)(n - 1) * 50000;
  for (uint32_t a = 0; a < n; a++) {
    assert_int_equal(m[(size_t)a * n + a], 0);
    assert_int_equal(sim_topo_next_hop(t, a, a), a);
    for (uint32_t b = a + 1; b < n; b++) {
      uint32_t ab = m[(size_t)a * n + b];
      if (ab == SIM_TOPO_US_INF || ab == 0 || ab > bound || ab != m[(size_t)b * n + a])
        fail_msg("routers %u, %u: %u vs %u", a, b, ab, m[(size_t)b * n + a]);
    }
  }
}

static void test_default_triangle(void **state) {
  const sim_topo *t = *state;
  uint32_t n = sim_topo_routers(t);
  sc_rng r;
  sc_rng_seed(&r, 7);
  for (int i = 0; i < 200000; i++) {
    uint32_t a = sc_rng_below(&r, n), b = sc_rng_below(&r, n), c = sc_rng_below(&r, n);
    uint64_t ac = sim_topo_latency_us(t, a, c);
    uint64_t abc = (uint64_t)sim_topo_latency_us(t, a, b) + sim_topo_latency_us(t, b, c);
    if (ac > abc)
      fail_msg("triangle %u %u %u: %lu > %lu", a, b, c, (unsigned long)ac,
               (unsigned long)abc);
  }
}

static void test_default_paths(void **state) {
  const sim_topo *t = *state;
  uint32_t n = sim_topo_routers(t);
  sc_rng r;
  sc_rng_seed(&r, 11);
  for (int i = 0; i < 5000; i++)
    check_path(t, sc_rng_below(&r, n), sc_rng_below(&r, n));
  /* Transit to transit, stub to its own domain, and the empty path. */
  check_path(t, 0, 49);
  check_path(t, 50, 59);
  check_path(t, 5049, 50);
  check_path(t, 1234, 1234);

  /* The callback's nonzero value stops the walk and comes back. */
  walk_ctx w = {t, 50, 0, 0, 1};
  assert_int_equal(sim_topo_path_foreach(t, 50, 5049, walk_cb, &w), 42);
  assert_int_equal(w.hops, 1);

  assert_int_equal(sim_topo_path_foreach(t, n, 0, walk_cb, &w), SC_ERR_INVALID);
  assert_int_equal(sim_topo_path_foreach(t, 0, n, walk_cb, &w), SC_ERR_INVALID);
  assert_int_equal(sim_topo_path_foreach(t, 0, 1, NULL, &w), SC_ERR_INVALID);
}

static void test_default_seeded(void **state) {
  const sim_topo *t = *state;
  uint32_t n = sim_topo_routers(t);
  size_t cells = (size_t)n * n;

  sim_topo *same = NULL;
  assert_int_equal(sim_topo_new(&same, sim_topo_config_get(t)), SC_OK);
  assert_int_equal(sim_topo_links(same), sim_topo_links(t));
  assert_memory_equal(sim_topo_latency_matrix(same), sim_topo_latency_matrix(t),
                      cells * sizeof(uint32_t));
  for (uint32_t e = 0; e < sim_topo_links(t); e++) {
    uint32_t a1, b1, u1, a2, b2, u2;
    sim_topo_link(t, e, &a1, &b1, &u1);
    sim_topo_link(same, e, &a2, &b2, &u2);
    assert_true(a1 == a2 && b1 == b2 && u1 == u2);
  }
  sc_rng r;
  sc_rng_seed(&r, 3);
  for (int i = 0; i < 100000; i++) {
    uint32_t a = sc_rng_below(&r, n), b = sc_rng_below(&r, n);
    assert_int_equal(sim_topo_next_hop(same, a, b), sim_topo_next_hop(t, a, b));
  }
  sim_topo_del(same);

  sim_topo_config c = *sim_topo_config_get(t);
  c.seed++;
  sim_topo *other = NULL;
  assert_int_equal(sim_topo_new(&other, &c), SC_OK);
  assert_int_equal(sim_topo_routers(other), n);
  assert_true(memcmp(sim_topo_latency_matrix(other), sim_topo_latency_matrix(t),
                     cells * sizeof(uint32_t)) != 0);
  sim_topo_del(other);
}

static void test_small_shape(void **state) {
  (void)state;
  sim_topo_config c = sim_topo_config_default();
  c.transit_domains = 2;
  c.transit_domain_routers = 2;
  c.stubs_per_transit_router = 2;
  c.stub_domain_routers = 3;
  sim_topo *t = NULL;
  assert_int_equal(sim_topo_new(&t, &c), SC_OK);
  assert_int_equal(sim_topo_routers(t), 4 + 4 * 2 * 3);
  assert_int_equal(sim_topo_transit_routers(t), 4);
  assert_int_equal(sim_topo_stub_routers(t), 24);
  assert_int_equal(sim_topo_stub_router(t, 23), 27);
  check_against_floyd(t);
  sim_topo_del(t);

  /* One router everywhere: a single transit router with one one-router stub. */
  c.transit_domains = c.transit_domain_routers = 1;
  c.stubs_per_transit_router = c.stub_domain_routers = 1;
  assert_int_equal(sim_topo_new(&t, &c), SC_OK);
  assert_int_equal(sim_topo_routers(t), 2);
  assert_int_equal(sim_topo_links(t), 1);
  check_against_floyd(t);
  sim_topo_del(t);
}

/* Multi-homed stubs disable the pendant-stub shortcut for their routers and
 * can carry transit traffic; the oracle must still agree. */
static void test_multihomed_matches_oracle(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    sim_topo_config c = sim_topo_config_default();
    c.seed = seed;
    c.transit_domains = 3;
    c.transit_domain_routers = 3;
    c.stubs_per_transit_router = 3;
    c.stub_domain_routers = 4;
    c.stub_transit_extra_prob = seed == 4 ? 1.0 : 0.5;
    c.domain_edge_prob = 0.0;
    sim_topo *t = NULL;
    assert_int_equal(sim_topo_new(&t, &c), SC_OK);
    assert_int_equal(sim_topo_routers(t), 9 + 9 * 3 * 4);
    check_against_floyd(t);
    sim_topo_del(t);
  }
}

static void test_invalid_config(void **state) {
  (void)state;
  sim_topo *t = NULL; /* must stay untouched on every error */
  const sim_topo_config d = sim_topo_config_default();
  sim_topo_config c;

  c = d;
  c.transit_domains = 0;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.transit_domain_routers = 0;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.stubs_per_transit_router = 0;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.stub_domain_routers = 0;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.stub_edge_prob = 1.5;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.transit_edge_prob = nan("");
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.intra_stub_us_min = 0;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.inter_transit_us_min = 60000; /* above max */
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.inter_transit_us_max = SIM_TOPO_LINK_US_MAX + 1;
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_INVALID);
  c = d;
  c.stub_domain_routers = 100; /* 50 + 50,000 routers */
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_TOO_LARGE);
  c = d;
  c.stubs_per_transit_router = UINT32_MAX; /* must not wrap */
  assert_int_equal(sim_topo_new(&t, &c), SC_ERR_TOO_LARGE);
  assert_null(t);
  assert_int_equal(sim_topo_new(NULL, &d), SC_ERR_INVALID);
}

/* ---- network models ---- */

static sim_net_config small_ts_config(void) {
  sim_net_config c = sim_net_config_default();
  c.topo.transit_domains = 4;
  c.topo.transit_domain_routers = 3;
  c.topo.stubs_per_transit_router = 5;
  c.topo.stub_domain_routers = 6;
  return c;
}

static void test_net_kind_parse(void **state) {
  (void)state;
  sim_net_kind k = SIM_NET_PLANE;
  assert_int_equal(sim_net_kind_parse("transit-stub", &k), SC_OK);
  assert_int_equal(k, SIM_NET_TRANSIT_STUB);
  assert_int_equal(sim_net_kind_parse("sphere", &k), SC_OK);
  assert_int_equal(k, SIM_NET_SPHERE);
  assert_int_equal(sim_net_kind_parse("plane", &k), SC_OK);
  assert_int_equal(k, SIM_NET_PLANE);
  assert_int_equal(sim_net_kind_parse("Sphere", &k), SC_ERR_INVALID);
  assert_int_equal(sim_net_kind_parse("", &k), SC_ERR_INVALID);
  assert_int_equal(sim_net_kind_parse(NULL, &k), SC_ERR_INVALID);
  assert_int_equal(k, SIM_NET_PLANE);
  for (int i = SIM_NET_TRANSIT_STUB; i <= SIM_NET_PLANE; i++) {
    assert_int_equal(sim_net_kind_parse(sim_net_kind_name((sim_net_kind)i), &k), SC_OK);
    assert_int_equal(k, i);
  }
}

static void test_net_transit_stub(void **state) {
  (void)state;
  enum { PEERS = 3000 };
  sim_net_config c = small_ts_config();
  sim_net *net = NULL, *rev = NULL;
  assert_int_equal(sim_net_new(&net, &c, PEERS), SC_OK);
  assert_int_equal(sim_net_new(&rev, &c, 2 * PEERS), SC_OK);
  assert_int_equal(sim_net_kind_get(net), SIM_NET_TRANSIT_STUB);
  assert_int_equal(sim_net_peers_max(net), PEERS);
  const sim_topo *t = sim_net_topo(net);
  assert_non_null(t);
  assert_true(sim_net_mem_bytes(net) > sim_topo_mem_bytes(t));

  assert_int_equal(sim_net_router(net, 5), UINT32_MAX);
  assert_int_equal(sim_net_access_us(net, 5), UINT32_MAX);
  /* Forward here; backwards, interleaved with extra peers, there. */
  for (uint32_t p = 0; p < PEERS; p++)
    sim_net_place(net, p);
  for (uint32_t p = 2 * PEERS; p-- > 0;)
    sim_net_place(rev, p);
  sim_net_place(net, 17); /* idempotent */

  for (uint32_t p = 0; p < PEERS; p++) {
    uint32_t r = sim_net_router(net, p);
    assert_true(r >= sim_topo_transit_routers(t) && r < sim_topo_routers(t));
    assert_int_equal(r, sim_net_router(rev, p));
    uint32_t acc = sim_net_access_us(net, p);
    assert_true(acc >= c.ts_access_us_min && acc <= c.ts_access_us_max);
    assert_int_equal(acc, sim_net_access_us(rev, p));
    assert_int_equal(sim_net_latency_ns(net, p, p), 0);
  }
  sc_rng r;
  sc_rng_seed(&r, 5);
  for (int i = 0; i < 20000; i++) {
    uint32_t a = sc_rng_below(&r, PEERS), b = sc_rng_below(&r, PEERS);
    if (a == b) continue;
    uint64_t ab = sim_net_latency_ns(net, a, b);
    uint64_t want =
        1000u * ((uint64_t)sim_net_access_us(net, a) + sim_net_access_us(net, b) +
                 sim_topo_latency_us(t, sim_net_router(net, a), sim_net_router(net, b)));
    assert_int_equal(ab, want);
    assert_int_equal(ab, sim_net_latency_ns(net, b, a));
    assert_int_equal(ab, sim_net_latency_ns(rev, a, b));
  }
  sim_net_del(net);
  sim_net_del(rev);
}

/* Coordinate models: symmetric, bounded, and a pure function of (seed, peer). */
static void check_coord_model(sim_net_kind kind, double geo_ns_max) {
  enum { PEERS = 4000 };
  sim_net_config c = sim_net_config_default();
  c.kind = kind;
  c.seed = 99;
  sim_net *net = NULL, *rev = NULL, *other = NULL;
  assert_int_equal(sim_net_new(&net, &c, PEERS), SC_OK);
  assert_int_equal(sim_net_new(&rev, &c, 1000000), SC_OK); /* 1M: 16 MB */
  c.seed = 100;
  assert_int_equal(sim_net_new(&other, &c, PEERS), SC_OK);
  assert_null(sim_net_topo(net));
  assert_true(sim_net_mem_bytes(rev) <= (size_t)1000000 * 16 + 4096);

  for (uint32_t p = 0; p < PEERS; p++)
    sim_net_place(net, p);
  for (uint32_t p = 0; p < PEERS; p++)
    sim_net_place(other, p);
  /* Placed backwards, and peers far beyond PEERS first. */
  for (uint32_t p = 999999; p > 900000; p -= 997)
    sim_net_place(rev, p);
  for (uint32_t p = PEERS; p-- > 0;)
    sim_net_place(rev, p);
  assert_int_equal(sim_net_access_us(rev, PEERS), UINT32_MAX);

  uint64_t lo = 2000u * c.geo_access_us_min;
  uint64_t hi = 2000u * c.geo_access_us_max + (uint64_t)geo_ns_max;
  sc_rng r;
  sc_rng_seed(&r, 13);
  int differ = 0;
  uint64_t far_ns = 0;
  for (int i = 0; i < 50000; i++) {
    uint32_t a = sc_rng_below(&r, PEERS), b = sc_rng_below(&r, PEERS);
    uint64_t ab = sim_net_latency_ns(net, a, b);
    if (a == b) {
      assert_int_equal(ab, 0);
      continue;
    }
    assert_int_equal(ab, sim_net_latency_ns(net, b, a));
    assert_int_equal(ab, sim_net_latency_ns(rev, a, b));
    if (ab < lo || ab > hi)
      fail_msg("%s %u-%u: %lu ns", sim_net_kind_name(kind), a, b, (unsigned long)ab);
    uint64_t geo =
        ab - 1000u * ((uint64_t)sim_net_access_us(net, a) + sim_net_access_us(net, b));
    if (geo > far_ns) far_ns = geo;
    differ += ab != sim_net_latency_ns(other, a, b);
    assert_int_equal(sim_net_router(net, a), UINT32_MAX);
  }
  /* Random pairs reach most of the diameter; another seed moves peers. */
  assert_true((double)far_ns > 0.9 * geo_ns_max);
  assert_true(differ > 45000);
  sim_net_del(net);
  sim_net_del(rev);
  sim_net_del(other);
}

static void test_net_sphere(void **state) {
  (void)state;
  /* Half the circumference at 200 km/ms, plus float slack. */
  check_coord_model(SIM_NET_SPHERE, 3.14159265358979 * 6371.0 / 200.0 * 1e6 + 1000);
}

static void test_net_plane(void **state) {
  (void)state;
  check_coord_model(SIM_NET_PLANE, sqrt(2.0) * 14142.0 / 200.0 * 1e6 + 1000);
}

static void test_net_invalid(void **state) {
  (void)state;
  sim_net *net = NULL; /* must stay untouched on every error */
  const sim_net_config d = sim_net_config_default();
  sim_net_config c;

  assert_int_equal(sim_net_new(&net, &d, 0), SC_ERR_INVALID);
  assert_int_equal(sim_net_new(&net, &d, SIM_NET_PEERS_MAX + 1), SC_ERR_TOO_LARGE);
  c = d;
  c.kind = (sim_net_kind)7;
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  c = d;
  c.ts_access_us_max = SIM_NET_ACCESS_US_MAX + 1;
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  c = d;
  c.kind = SIM_NET_SPHERE;
  c.geo_access_us_min = 20000; /* above max */
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  c = d;
  c.kind = SIM_NET_SPHERE;
  c.sphere_radius_km = nan("");
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  c = d;
  c.kind = SIM_NET_SPHERE;
  c.sphere_radius_km = 6371000.0; /* metres */
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_TOO_LARGE);
  c = d;
  c.kind = SIM_NET_PLANE;
  c.propagation_km_per_ms = 0.0;
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  c = d;
  c.topo.stub_domain_routers = 0;
  assert_int_equal(sim_net_new(&net, &c, 10), SC_ERR_INVALID);
  assert_null(net);
  assert_int_equal(sim_net_new(NULL, &d, 10), SC_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_shape),
      cmocka_unit_test(test_default_connected_symmetric),
      cmocka_unit_test(test_default_triangle),
      cmocka_unit_test(test_default_paths),
      cmocka_unit_test(test_default_seeded),
      cmocka_unit_test(test_small_shape),
      cmocka_unit_test(test_multihomed_matches_oracle),
      cmocka_unit_test(test_invalid_config),
      cmocka_unit_test(test_net_kind_parse),
      cmocka_unit_test(test_net_transit_stub),
      cmocka_unit_test(test_net_sphere),
      cmocka_unit_test(test_net_plane),
      cmocka_unit_test(test_net_invalid),
  };
  return cmocka_run_group_tests(tests, setup_default, teardown_default);
}
