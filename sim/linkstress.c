/*
 * linkstress.c — copies per physical link on the transit-stub model (see
 * linkstress.h for the link numbering and the metric).
 */
#include "sim/linkstress.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct sim_linkstress {
  const sim_net *net;   /* borrowed */
  const sim_topo *topo; /* borrowed from net */
  uint32_t router_links;
  uint32_t peers_max;
  uint32_t links;   /* router_links + peers_max */
  uint32_t *copies; /* links */
};

int sim_linkstress_new(sim_linkstress **out, const sim_net *net, uint32_t peers_max) {
  if (!out || !net || sim_net_kind_get(net) != SIM_NET_TRANSIT_STUB)
    return SC_ERR_INVALID;
  if (peers_max == 0 || peers_max > sim_net_peers_max(net)) return SC_ERR_INVALID;
  const sim_topo *topo = sim_net_topo(net);
  assert(topo);
  uint32_t router_links = sim_topo_links(topo);
  /* Both are bounded far below this (2^20 and 2^24); the check keeps the
   * id arithmetic honest if either bound ever grows. */
  if ((uint64_t)router_links + peers_max > UINT32_MAX - 1) return SC_ERR_INVALID;

  sim_linkstress *ls = calloc(1, sizeof(*ls));
  if (!ls) return SC_ERR_NOMEM;
  ls->net = net;
  ls->topo = topo;
  ls->router_links = router_links;
  ls->peers_max = peers_max;
  ls->links = router_links + peers_max;
  ls->copies = calloc(ls->links, sizeof(*ls->copies));
  if (!ls->copies) {
    sim_linkstress_del(ls);
    return SC_ERR_NOMEM;
  }
  *out = ls;
  return SC_OK;
}

void sim_linkstress_del(sim_linkstress *ls) {
  if (!ls) return;
  free(ls->copies);
  free(ls);
}

void sim_linkstress_reset(sim_linkstress *ls) {
  memset(ls->copies, 0, (size_t)ls->links * sizeof(*ls->copies));
}

static inline void linkstress_bump(sim_linkstress *ls, uint32_t link) {
  uint32_t *c = &ls->copies[link];
  if (*c != UINT32_MAX) ++*c;
}

static uint32_t linkstress_router(const sim_linkstress *ls, uint32_t peer) {
  assert(peer < ls->peers_max);
  uint32_t r = sim_net_router(ls->net, peer);
  assert(r != UINT32_MAX); /* placed */
  return r;
}

void sim_linkstress_add(sim_linkstress *ls, uint32_t from_peer, uint32_t to_peer) {
  uint32_t ra = linkstress_router(ls, from_peer);
  uint32_t rb = linkstress_router(ls, to_peer);
  if (from_peer == to_peer) return;
  linkstress_bump(ls, ls->router_links + from_peer);
  linkstress_bump(ls, ls->router_links + to_peer);
  /* Canonical direction (linkstress.h): from the lower router to the higher.
   * The same walk as sim_topo_path_foreach, without a callback per hop. */
  uint32_t cur = ra < rb ? ra : rb, dst = ra < rb ? rb : ra;
  uint32_t hops = 0, n = sim_topo_routers(ls->topo);
  while (cur != dst) {
    uint32_t nx = sim_topo_next_hop(ls->topo, cur, dst);
    linkstress_bump(ls, sim_topo_link_between(ls->topo, cur, nx));
    cur = nx;
    /* A shortest path visits a router at most once. */
    assert(++hops < n);
  }
  (void)hops;
  (void)n;
}

uint32_t sim_linkstress_links(const sim_linkstress *ls) {
  return ls->links;
}

uint32_t sim_linkstress_access_link(const sim_linkstress *ls, uint32_t peer) {
  assert(peer < ls->peers_max);
  return ls->router_links + peer;
}

uint32_t sim_linkstress_copies(const sim_linkstress *ls, uint32_t link) {
  assert(link < ls->links);
  return ls->copies[link];
}

/* Summary of the counters, each multiplied by scale (the baselines count one
 * stripe and scale: every stripe takes the same links). */
static void linkstress_summarize_scaled(const sim_linkstress *ls, uint64_t scale,
                                        sim_linkstress_summary *out) {
  uint64_t used = 0, total = 0, max = 0;
  uint32_t max_link = UINT32_MAX;
  for (uint32_t l = 0; l < ls->links; l++) {
    uint32_t c = ls->copies[l];
    if (c == 0) continue;
    used++;
    total += c;
    if (c > max) {
      max = c;
      max_link = l;
    }
  }
  out->links_used = used;
  out->total_copies = total * scale;
  out->max = max * scale;
  out->max_link = max_link;
  out->mean = used ? (double)out->total_copies / (double)used : NAN;
}

void sim_linkstress_summarize(const sim_linkstress *ls, sim_linkstress_summary *out) {
  linkstress_summarize_scaled(ls, 1, out);
}

int sim_linkstress_write_csv(const sim_linkstress *ls, FILE *f) {
  if (!ls || !f) return SC_ERR_INVALID;
  fputs("link,kind,copies\n", f);
  for (uint32_t l = 0; l < ls->links; l++) {
    if (ls->copies[l] == 0) continue;
    fprintf(f, "%u,%s,%u\n", (unsigned)l, l < ls->router_links ? "router" : "access",
            (unsigned)ls->copies[l]);
  }
  return SC_OK;
}

/* ---- baselines ---- */

static int linkstress_peer_ok(const sim_net *net, uint32_t peer) {
  return peer < sim_net_peers_max(net) && sim_net_router(net, peer) != UINT32_MAX;
}

/* Validates a baseline's arguments and creates its scratch counters. */
static int linkstress_baseline_begin(sim_linkstress **ls, const sim_net *net,
                                     uint32_t source, const uint32_t *peers,
                                     uint32_t npeers, uint32_t stripes,
                                     const sim_linkstress_summary *out) {
  if (!net || !out || sim_net_kind_get(net) != SIM_NET_TRANSIT_STUB)
    return SC_ERR_INVALID;
  if (stripes == 0 || (npeers > 0 && !peers)) return SC_ERR_INVALID;
  if (!linkstress_peer_ok(net, source)) return SC_ERR_INVALID;
  for (uint32_t i = 0; i < npeers; i++)
    if (!linkstress_peer_ok(net, peers[i])) return SC_ERR_INVALID;
  return sim_linkstress_new(ls, net, sim_net_peers_max(net));
}

int sim_linkstress_central_server(const sim_net *net, uint32_t source,
                                  const uint32_t *peers, uint32_t npeers,
                                  uint32_t stripes, sim_linkstress_summary *out) {
  sim_linkstress *ls = NULL;
  int rc = linkstress_baseline_begin(&ls, net, source, peers, npeers, stripes, out);
  if (rc) return rc;
  /* One stripe's unicasts, then scaled: every stripe crosses the same links,
   * and counting them once keeps the counters within npeers. */
  for (uint32_t i = 0; i < npeers; i++)
    if (peers[i] != source) sim_linkstress_add(ls, source, peers[i]);
  linkstress_summarize_scaled(ls, stripes, out);
  sim_linkstress_del(ls);
  return SC_OK;
}

int sim_linkstress_ip_multicast(const sim_net *net, uint32_t source,
                                const uint32_t *peers, uint32_t npeers, uint32_t stripes,
                                sim_linkstress_summary *out) {
  sim_linkstress *ls = NULL;
  int rc = linkstress_baseline_begin(&ls, net, source, peers, npeers, stripes, out);
  if (rc) return rc;
  uint32_t n = sim_topo_routers(ls->topo);
  uint8_t *in_tree = calloc(n, 1);
  if (!in_tree) {
    sim_linkstress_del(ls);
    return SC_ERR_NOMEM;
  }
  uint32_t rs = sim_net_router(net, source);
  in_tree[rs] = 1;
  int any = 0;
  for (uint32_t i = 0; i < npeers; i++) {
    uint32_t p = peers[i];
    if (p == source) continue;
    any = 1;
    ls->copies[ls->router_links + p] = 1;
    /* Reverse-path tree: walk from the receiver's router toward the source
     * until the walk meets the tree. Each router has one next hop toward rs,
     * so the rest of the way is already in the tree. */
    uint32_t cur = sim_net_router(net, p);
    while (!in_tree[cur]) {
      in_tree[cur] = 1;
      uint32_t nx = sim_topo_next_hop(ls->topo, cur, rs);
      ls->copies[sim_topo_link_between(ls->topo, cur, nx)] = 1;
      cur = nx;
    }
  }
  if (any) ls->copies[ls->router_links + source] = 1;
  free(in_tree);
  linkstress_summarize_scaled(ls, stripes, out);
  sim_linkstress_del(ls);
  return SC_OK;
}
