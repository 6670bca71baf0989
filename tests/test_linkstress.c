/*
 * test_linkstress.c — copies per physical link (sim/linkstress.h).
 *
 * Most tests run on two small transit-stub shapes: a tree (every extra-edge
 * probability 0, so each router pair has exactly one path and expected
 * counts follow from the link table alone) and a meshy graph (probabilities
 * 0.5, so equal-cost ties and direction matter). One test uses the default
 * GATech graph with a few thousand peers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/linkstress.h"
#include "sim/netmodel.h"
#include "sim/topology.h"

#define PEERS 64u

/* ---- fixtures ---- */

/* 2 transit domains × 2 routers, one stub domain of 2 routers per transit
 * router: 4 transit + 8 stub = 12 routers. With every extra-edge
 * probability 0 the graph is a spanning tree: 11 links. */
static sim_net *net_tree(uint32_t peers) {
  sim_net_config cfg = sim_net_config_default();
  cfg.seed = 7;
  cfg.topo.seed = 7;
  cfg.topo.transit_domains = 2;
  cfg.topo.transit_domain_routers = 2;
  cfg.topo.stubs_per_transit_router = 1;
  cfg.topo.stub_domain_routers = 2;
  cfg.topo.domain_edge_prob = 0.0;
  cfg.topo.transit_edge_prob = 0.0;
  cfg.topo.stub_edge_prob = 0.0;
  sim_net *net = NULL;
  assert_int_equal(sim_net_new(&net, &cfg, peers), SC_OK);
  for (uint32_t p = 0; p < peers; p++)
    sim_net_place(net, p);
  return net;
}

/* 3 transit domains × 4 routers, 2 stub domains of 4 routers each, with
 * extra edges everywhere and multi-homed stubs: many alternative paths. */
static sim_net *net_mesh(uint32_t peers) {
  sim_net_config cfg = sim_net_config_default();
  cfg.seed = 11;
  cfg.topo.seed = 11;
  cfg.topo.transit_domains = 3;
  cfg.topo.transit_domain_routers = 4;
  cfg.topo.stubs_per_transit_router = 2;
  cfg.topo.stub_domain_routers = 4;
  cfg.topo.domain_edge_prob = 0.5;
  cfg.topo.transit_edge_prob = 0.5;
  cfg.topo.stub_edge_prob = 0.5;
  cfg.topo.stub_transit_extra_prob = 0.5;
  /* Narrow latency ranges make equal-cost paths likely. */
  cfg.topo.inter_transit_us_min = cfg.topo.inter_transit_us_max = 10;
  cfg.topo.intra_transit_us_min = cfg.topo.intra_transit_us_max = 5;
  cfg.topo.transit_stub_us_min = cfg.topo.transit_stub_us_max = 3;
  cfg.topo.intra_stub_us_min = cfg.topo.intra_stub_us_max = 1;
  sim_net *net = NULL;
  assert_int_equal(sim_net_new(&net, &cfg, peers), SC_OK);
  for (uint32_t p = 0; p < peers; p++)
    sim_net_place(net, p);
  return net;
}

/* The link joining routers a and b, or UINT32_MAX. */
static uint32_t find_link(const sim_topo *t, uint32_t a, uint32_t b) {
  for (uint32_t e = 0; e < sim_topo_links(t); e++) {
    uint32_t x, y;
    assert_int_equal(sim_topo_link(t, e, &x, &y, NULL), SC_OK);
    if ((x == a && y == b) || (x == b && y == a)) return e;
  }
  return UINT32_MAX;
}

/* Oracle for trees: marks in on_path[] the links of the unique path between
 * routers a and b, found by depth-first search over the link table alone
 * (no next-hop matrix). Returns the number of links. */
static uint32_t tree_path(const sim_topo *t, uint32_t a, uint32_t b, uint8_t *on_path) {
  uint32_t n = sim_topo_routers(t), m = sim_topo_links(t);
  uint32_t *via = malloc(n * sizeof(*via)); /* link used to reach a router */
  uint32_t *stack = malloc(n * sizeof(*stack));
  assert_non_null(via);
  assert_non_null(stack);
  for (uint32_t r = 0; r < n; r++)
    via[r] = UINT32_MAX - 1; /* unvisited */
  via[a] = UINT32_MAX;       /* the root */
  uint32_t top = 0;
  stack[top++] = a;
  while (top > 0) {
    uint32_t u = stack[--top];
    for (uint32_t e = 0; e < m; e++) {
      uint32_t x, y;
      assert_int_equal(sim_topo_link(t, e, &x, &y, NULL), SC_OK);
      uint32_t v = x == u ? y : y == u ? x : UINT32_MAX;
      if (v == UINT32_MAX || via[v] != UINT32_MAX - 1) continue;
      via[v] = e;
      stack[top++] = v;
    }
  }
  uint32_t hops = 0;
  for (uint32_t r = b; r != a; hops++) {
    uint32_t e = via[r], x, y;
    assert_true(e < m);
    on_path[e] = 1;
    assert_int_equal(sim_topo_link(t, e, &x, &y, NULL), SC_OK);
    r = x == r ? y : x;
  }
  free(via);
  free(stack);
  return hops;
}

/* Two distinct peers on the same router, or 0 if none (*a, *b set). */
static int same_router_pair(const sim_net *net, uint32_t peers, uint32_t *a,
                            uint32_t *b) {
  for (uint32_t i = 0; i < peers; i++)
    for (uint32_t j = i + 1; j < peers; j++)
      if (sim_net_router(net, i) == sim_net_router(net, j)) {
        *a = i;
        *b = j;
        return 1;
      }
  return 0;
}

/* ---- tests ---- */

static void test_new_rejects(void **state) {
  (void)state;
  sim_linkstress *ls = (sim_linkstress *)0x1;
  sim_net *tree = net_tree(PEERS);
  assert_int_equal(sim_linkstress_new(NULL, tree, PEERS), SC_ERR_INVALID);
  assert_int_equal(sim_linkstress_new(&ls, NULL, PEERS), SC_ERR_INVALID);
  assert_int_equal(sim_linkstress_new(&ls, tree, 0), SC_ERR_INVALID);
  assert_int_equal(sim_linkstress_new(&ls, tree, PEERS + 1), SC_ERR_INVALID);
  assert_ptr_equal(ls, (sim_linkstress *)0x1); /* untouched */

  /* The coordinate models have no routers. */
  sim_net_config cfg = sim_net_config_default();
  cfg.kind = SIM_NET_SPHERE;
  sim_net *sphere = NULL;
  assert_int_equal(sim_net_new(&sphere, &cfg, 4), SC_OK);
  for (uint32_t p = 0; p < 4; p++)
    sim_net_place(sphere, p);
  assert_int_equal(sim_linkstress_new(&ls, sphere, 4), SC_ERR_INVALID);
  uint32_t peers[] = {1, 2, 3};
  sim_linkstress_summary s;
  assert_int_equal(sim_linkstress_central_server(sphere, 0, peers, 3, 16, &s),
                   SC_ERR_INVALID);
  assert_int_equal(sim_linkstress_ip_multicast(sphere, 0, peers, 3, 16, &s),
                   SC_ERR_INVALID);
  sim_net_del(sphere);

  /* Fewer counters than the net has peers is fine. */
  assert_int_equal(sim_linkstress_new(&ls, tree, 8), SC_OK);
  assert_int_equal(sim_linkstress_links(ls), sim_topo_links(sim_net_topo(tree)) + 8);
  assert_int_equal(sim_linkstress_access_link(ls, 3),
                   sim_topo_links(sim_net_topo(tree)) + 3);
  sim_linkstress_del(ls);
  sim_linkstress_del(NULL);
  sim_net_del(tree);
}

/* Two peers on the two routers of one stub domain: in the tree that domain is
 * a single link, so the copy crosses exactly three links. */
static void test_hand_counted_pair(void **state) {
  (void)state;
  sim_net *net = net_tree(PEERS);
  const sim_topo *t = sim_net_topo(net);
  assert_int_equal(sim_topo_routers(t), 12);
  assert_int_equal(sim_topo_links(t), 11);
  /* Stub domain 0 is routers 4 and 5 (topology.h numbering). */
  uint32_t a = UINT32_MAX, b = UINT32_MAX;
  for (uint32_t p = 0; p < PEERS; p++) {
    if (sim_net_router(net, p) == 4 && a == UINT32_MAX) a = p;
    if (sim_net_router(net, p) == 5 && b == UINT32_MAX) b = p;
  }
  assert_true(a != UINT32_MAX && b != UINT32_MAX);
  uint32_t l45 = find_link(t, 4, 5);
  assert_true(l45 != UINT32_MAX);

  sim_linkstress *ls = NULL;
  assert_int_equal(sim_linkstress_new(&ls, net, PEERS), SC_OK);
  sim_linkstress_add(ls, a, b);
  for (uint32_t l = 0; l < sim_linkstress_links(ls); l++) {
    uint32_t want = (l == l45 || l == sim_linkstress_access_link(ls, a) ||
                     l == sim_linkstress_access_link(ls, b))
                        ? 1
                        : 0;
    assert_int_equal(sim_linkstress_copies(ls, l), want);
  }
  sim_linkstress_summary s;
  sim_linkstress_summarize(ls, &s);
  assert_int_equal(s.links_used, 3);
  assert_int_equal(s.total_copies, 3);
  assert_int_equal(s.max, 1);
  assert_int_equal(s.max_link, l45); /* the lowest id at the max */
  assert_true(s.mean == 1.0);

  /* Twice more, once in each direction: every count is 3. */
  sim_linkstress_add(ls, a, b);
  sim_linkstress_add(ls, b, a);
  sim_linkstress_summarize(ls, &s);
  assert_int_equal(s.links_used, 3);
  assert_int_equal(s.total_copies, 9);
  assert_int_equal(s.max, 3);
  assert_true(s.mean == 3.0);

  /* Reset, then nothing is used. */
  sim_linkstress_reset(ls);
  sim_linkstress_summarize(ls, &s);
  assert_int_equal(s.links_used, 0);
  assert_int_equal(s.total_copies, 0);
  assert_int_equal(s.max, 0);
  assert_int_equal(s.max_link, UINT32_MAX);
  assert_true(isnan(s.mean));
  sim_linkstress_del(ls);
  sim_net_del(net);
}

/* Every pair in the tree: the counted router links are exactly the oracle's
 * path, plus the two access links. */
static void test_tree_paths_match_oracle(void **state) {
  (void)state;
  sim_net *net = net_tree(PEERS);
  const sim_topo *t = sim_net_topo(net);
  uint32_t m = sim_topo_links(t);
  uint8_t *on_path = malloc(m);
  assert_non_null(on_path);
  sim_linkstress *ls = NULL;
  assert_int_equal(sim_linkstress_new(&ls, net, PEERS), SC_OK);
  for (uint32_t a = 0; a < PEERS; a++)
    for (uint32_t b = 0; b < PEERS; b++) {
      if (a == b) continue;
      sim_linkstress_reset(ls);
      sim_linkstress_add(ls, a, b);
      memset(on_path, 0, m);
      uint32_t hops =
          tree_path(t, sim_net_router(net, a), sim_net_router(net, b), on_path);
      for (uint32_t l = 0; l < m; l++)
        assert_int_equal(sim_linkstress_copies(ls, l), on_path[l]);
      for (uint32_t p = 0; p < PEERS; p++)
        assert_int_equal(sim_linkstress_copies(ls, sim_linkstress_access_link(ls, p)),
                         p == a || p == b);
      sim_linkstress_summary s;
      sim_linkstress_summarize(ls, &s);
      assert_int_equal(s.links_used, hops + 2);
      assert_int_equal(s.total_copies, hops + 2);
    }
  sim_linkstress_del(ls);
  free(on_path);
  sim_net_del(net);
}

static void test_same_router_and_self(void **state) {
  (void)state;
  sim_net *net = net_tree(PEERS);
  uint32_t a = 0, b = 0;
  /* 64 peers on 8 stub routers: a collision is certain. */
  assert_true(same_router_pair(net, PEERS, &a, &b));
  sim_linkstress *ls = NULL;
  assert_int_equal(sim_linkstress_new(&ls, net, PEERS), SC_OK);
  sim_linkstress_add(ls, a, b);
  sim_linkstress_summary s;
  sim_linkstress_summarize(ls, &s);
  assert_int_equal(s.links_used, 2);
  assert_int_equal(s.total_copies, 2);
  assert_int_equal(sim_linkstress_copies(ls, sim_linkstress_access_link(ls, a)), 1);
  assert_int_equal(sim_linkstress_copies(ls, sim_linkstress_access_link(ls, b)), 1);
  for (uint32_t l = 0; l < sim_topo_links(sim_net_topo(net)); l++)
    assert_int_equal(sim_linkstress_copies(ls, l), 0);

  /* A peer sending to itself uses no link. */
  sim_linkstress_reset(ls);
  sim_linkstress_add(ls, a, a);
  sim_linkstress_summarize(ls, &s);
  assert_int_equal(s.links_used, 0);
  sim_linkstress_del(ls);
  sim_net_del(net);
}

typedef struct path_sum {
  uint32_t links;
  uint64_t us;
} path_sum;

/* On the meshy graph: counts do not depend on the direction, and the router
 * links of one copy form a shortest path (their latencies add up to the
 * router-to-router latency). */
static void test_mesh_symmetric_shortest(void **state) {
  (void)state;
  sim_net *net = net_mesh(PEERS);
  const sim_topo *t = sim_net_topo(net);
  uint32_t m = sim_topo_links(t);
  sim_linkstress *fwd = NULL, *rev = NULL, *one = NULL;
  assert_int_equal(sim_linkstress_new(&fwd, net, PEERS), SC_OK);
  assert_int_equal(sim_linkstress_new(&rev, net, PEERS), SC_OK);
  assert_int_equal(sim_linkstress_new(&one, net, PEERS), SC_OK);
  for (uint32_t a = 0; a < PEERS; a++)
    for (uint32_t b = a + 1; b < PEERS; b++) {
      sim_linkstress_add(fwd, a, b);
      sim_linkstress_add(rev, b, a);
      sim_linkstress_reset(one);
      sim_linkstress_add(one, a, b);
      uint64_t us = 0;
      uint32_t hops = 0;
      for (uint32_t l = 0; l < m; l++) {
        uint32_t c = sim_linkstress_copies(one, l), lat;
        assert_true(c <= 1);
        if (!c) continue;
        assert_int_equal(sim_topo_link(t, l, NULL, NULL, &lat), SC_OK);
        us += lat;
        hops++;
      }
      uint32_t ra = sim_net_router(net, a), rb = sim_net_router(net, b);
      assert_int_equal(us, sim_topo_latency_us(t, ra, rb));
      assert_true(ra != rb || hops == 0);
    }
  for (uint32_t l = 0; l < sim_linkstress_links(fwd); l++)
    assert_int_equal(sim_linkstress_copies(fwd, l), sim_linkstress_copies(rev, l));
  sim_linkstress_del(fwd);
  sim_linkstress_del(rev);
  sim_linkstress_del(one);
  sim_net_del(net);
}

static void test_central_server(void **state) {
  (void)state;
  const uint32_t stripes = 16, source = 5;
  sim_net *net = net_mesh(PEERS);
  uint32_t peers[PEERS];
  for (uint32_t p = 0; p < PEERS; p++)
    peers[p] = p; /* includes the source: skipped */

  sim_linkstress_summary s;
  assert_int_equal(sim_linkstress_central_server(net, source, peers, PEERS, stripes, &s),
                   SC_OK);
  assert_int_equal(s.max, (uint64_t)stripes * (PEERS - 1));

  /* Against counting every copy of every stripe one by one. */
  sim_linkstress *ls = NULL;
  assert_int_equal(sim_linkstress_new(&ls, net, PEERS), SC_OK);
  for (uint32_t k = 0; k < stripes; k++)
    for (uint32_t p = 0; p < PEERS; p++)
      if (p != source) sim_linkstress_add(ls, source, p);
  sim_linkstress_summary want;
  sim_linkstress_summarize(ls, &want);
  assert_int_equal(s.links_used, want.links_used);
  assert_int_equal(s.total_copies, want.total_copies);
  assert_int_equal(s.max, want.max);
  assert_int_equal(s.max_link, sim_linkstress_access_link(ls, source));
  assert_int_equal(want.max_link, s.max_link);
  assert_true(fabs(s.mean - want.mean) < 1e-9);
  sim_linkstress_del(ls);

  /* Duplicates count twice; nobody but the source: nothing used. */
  uint32_t dup[] = {1, 1, source};
  assert_int_equal(sim_linkstress_central_server(net, source, dup, 3, stripes, &s),
                   SC_OK);
  assert_int_equal(s.max, 2 * stripes);
  uint32_t only_source[] = {source};
  assert_int_equal(
      sim_linkstress_central_server(net, source, only_source, 1, stripes, &s), SC_OK);
  assert_int_equal(s.links_used, 0);
  assert_true(isnan(s.mean));
  assert_int_equal(sim_linkstress_central_server(net, source, NULL, 0, stripes, &s),
                   SC_OK);
  assert_int_equal(s.links_used, 0);
  sim_net_del(net);
}

static void test_ip_multicast(void **state) {
  (void)state;
  const uint32_t stripes = 16, source = 3;
  uint32_t peers[PEERS];
  for (uint32_t p = 0; p < PEERS; p++)
    peers[p] = p;

  /* Tree graph: the distribution tree is the union of the unique paths. */
  sim_net *net = net_tree(PEERS);
  const sim_topo *t = sim_net_topo(net);
  uint32_t m = sim_topo_links(t);
  uint8_t *on_tree = calloc(m, 1);
  assert_non_null(on_tree);
  for (uint32_t p = 0; p < PEERS; p++)
    (void)tree_path(t, sim_net_router(net, source), sim_net_router(net, p), on_tree);
  uint64_t tree_links = 0;
  for (uint32_t l = 0; l < m; l++)
    tree_links += on_tree[l];
  free(on_tree);

  sim_linkstress_summary ip, cs;
  assert_int_equal(sim_linkstress_ip_multicast(net, source, peers, PEERS, stripes, &ip),
                   SC_OK);
  assert_int_equal(ip.links_used, tree_links + PEERS); /* + every access link */
  assert_int_equal(ip.max, stripes);
  assert_true(ip.mean == (double)stripes);
  assert_int_equal(ip.total_copies, ip.links_used * stripes);
  assert_int_equal(sim_linkstress_central_server(net, source, peers, PEERS, stripes, &cs),
                   SC_OK);
  assert_true(ip.mean <= cs.mean);
  assert_true(ip.links_used <= cs.links_used);
  sim_net_del(net);

  /* Meshy graph: still one copy per stripe per link, on fewer links than
   * the unicasts use. */
  net = net_mesh(PEERS);
  assert_int_equal(sim_linkstress_ip_multicast(net, source, peers, PEERS, stripes, &ip),
                   SC_OK);
  assert_int_equal(sim_linkstress_central_server(net, source, peers, PEERS, stripes, &cs),
                   SC_OK);
  assert_int_equal(ip.max, stripes);
  assert_true(ip.mean == (double)stripes);
  assert_true(ip.mean <= cs.mean);
  /* (No order between the links_used: off a tree graph, the reverse-path
   * tree may pass through routers that no unicast path visits.) */
  assert_true(ip.total_copies < cs.total_copies);

  /* Duplicates once. */
  uint32_t dup[] = {1, 1, 1};
  sim_linkstress_summary one;
  assert_int_equal(sim_linkstress_ip_multicast(net, source, dup, 3, stripes, &one),
                   SC_OK);
  assert_int_equal(sim_linkstress_ip_multicast(net, source, dup, 1, stripes, &ip), SC_OK);
  assert_int_equal(one.links_used, ip.links_used);
  assert_int_equal(one.max, stripes);
  sim_net_del(net);
}

static void test_baselines_reject(void **state) {
  (void)state;
  sim_net_config cfg = sim_net_config_default();
  cfg.topo.transit_domains = 2;
  cfg.topo.transit_domain_routers = 2;
  cfg.topo.stubs_per_transit_router = 1;
  cfg.topo.stub_domain_routers = 2;
  sim_net *net = NULL;
  assert_int_equal(sim_net_new(&net, &cfg, 8), SC_OK);
  for (uint32_t p = 0; p < 7; p++) /* peer 7 stays unplaced */
    sim_net_place(net, p);
  uint32_t ok[] = {1, 2};
  uint32_t unplaced[] = {1, 7};
  uint32_t out_of_range[] = {1, 8};
  sim_linkstress_summary s, before;
  memset(&s, 0xab, sizeof(s));
  before = s;
  int (*fn[2])(const sim_net *, uint32_t, const uint32_t *, uint32_t, uint32_t,
               sim_linkstress_summary *) = {sim_linkstress_central_server,
                                            sim_linkstress_ip_multicast};
  for (int i = 0; i < 2; i++) {
    s = before;
    assert_int_equal(fn[i](NULL, 0, ok, 2, 16, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 0, ok, 2, 16, NULL), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 0, ok, 2, 0, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 0, NULL, 2, 16, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 7, ok, 2, 16, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 8, ok, 2, 16, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 0, unplaced, 2, 16, &s), SC_ERR_INVALID);
    assert_int_equal(fn[i](net, 0, out_of_range, 2, 16, &s), SC_ERR_INVALID);
    assert_memory_equal(&s, &before, sizeof(s)); /* untouched on error */
    assert_int_equal(fn[i](net, 0, ok, 2, 16, &s), SC_OK);
  }
  sim_net_del(net);
}

static void test_write_csv(void **state) {
  (void)state;
  sim_net *net = net_tree(PEERS);
  sim_linkstress *ls = NULL;
  assert_int_equal(sim_linkstress_new(&ls, net, PEERS), SC_OK);
  uint32_t a = 0, b = PEERS - 1;
  sim_linkstress_add(ls, a, b);
  sim_linkstress_add(ls, a, b);
  FILE *f = tmpfile();
  assert_non_null(f);
  assert_int_equal(sim_linkstress_write_csv(ls, f), SC_OK);
  assert_int_equal(sim_linkstress_write_csv(NULL, f), SC_ERR_INVALID);
  assert_int_equal(sim_linkstress_write_csv(ls, NULL), SC_ERR_INVALID);
  rewind(f);
  char line[128];
  assert_non_null(fgets(line, sizeof(line), f));
  assert_string_equal(line, "link,kind,copies\n");
  uint32_t router_links = sim_topo_links(sim_net_topo(net));
  sim_linkstress_summary s;
  sim_linkstress_summarize(ls, &s);
  uint64_t rows = 0, access = 0, sum = 0;
  long prev = -1;
  while (fgets(line, sizeof(line), f)) {
    unsigned link, copies;
    char kind[16];
    assert_int_equal(sscanf(line, "%u,%15[a-z],%u", &link, kind, &copies), 3);
    assert_true((long)link > prev); /* link id order */
    prev = (long)link;
    assert_string_equal(kind, link < router_links ? "router" : "access");
    assert_int_equal(copies, 2);
    assert_int_equal(copies, sim_linkstress_copies(ls, link));
    access += link >= router_links;
    sum += copies;
    rows++;
  }
  assert_int_equal(rows, s.links_used);
  assert_int_equal(sum, s.total_copies);
  assert_int_equal(access, 2);
  fclose(f);
  sim_linkstress_del(ls);
  sim_net_del(net);
}

/* The paper's setting in miniature: GATech, 2,000 peers, 16 stripes. */
static void test_gatech_baselines(void **state) {
  (void)state;
  const uint32_t n = 2000, stripes = 16, source = 0;
  sim_net *net = NULL;
  assert_int_equal(sim_net_new(&net, NULL, n), SC_OK);
  uint32_t *peers = malloc(n * sizeof(*peers));
  assert_non_null(peers);
  for (uint32_t p = 0; p < n; p++) {
    sim_net_place(net, p);
    peers[p] = p;
  }
  sim_linkstress_summary cs, ip;
  assert_int_equal(sim_linkstress_central_server(net, source, peers, n, stripes, &cs),
                   SC_OK);
  assert_int_equal(sim_linkstress_ip_multicast(net, source, peers, n, stripes, &ip),
                   SC_OK);
  assert_int_equal(cs.max, (uint64_t)stripes * (n - 1));
  assert_int_equal(cs.max_link, sim_topo_links(sim_net_topo(net)) + source);
  assert_int_equal(ip.max, stripes);
  assert_true(ip.mean == (double)stripes);
  assert_true(ip.mean < cs.mean);
  assert_true(ip.total_copies < cs.total_copies);
  /* Every receiver's access link plus the source's carries traffic. */
  assert_true(cs.links_used >= n && ip.links_used >= n);
  free(peers);
  sim_net_del(net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_rejects),
      cmocka_unit_test(test_hand_counted_pair),
      cmocka_unit_test(test_tree_paths_match_oracle),
      cmocka_unit_test(test_same_router_and_self),
      cmocka_unit_test(test_mesh_symmetric_shortest),
      cmocka_unit_test(test_central_server),
      cmocka_unit_test(test_ip_multicast),
      cmocka_unit_test(test_baselines_reject),
      cmocka_unit_test(test_write_csv),
      cmocka_unit_test(test_gatech_baselines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
