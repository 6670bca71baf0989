/*
 * topology.c — GT-ITM-style transit-stub generator and all-pairs shortest
 * paths (see topology.h for the shape, the numbering and the defaults).
 */
#include "sim/topology.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"

struct sim_topo {
  sim_topo_config cfg;
  uint32_t routers;
  uint32_t transit_routers;
  uint32_t links;

  /* Link table, indexed by link id; a < b. */
  uint16_t *link_a;
  uint16_t *link_b;
  uint32_t *link_us;

  /* CSR adjacency: router r's neighbours are adj_*[adj_off[r] .. adj_off[r+1]). */
  uint32_t *adj_off;
  uint16_t *adj_to;
  uint32_t *adj_link;
  uint32_t *adj_us;

  uint32_t *lat_us; /* routers × routers */
  uint16_t *next;   /* routers × routers: first hop from row toward column */
};

sim_topo_config sim_topo_config_default(void) {
  sim_topo_config c;
  memset(&c, 0, sizeof(c));
  c.seed = 1;
  c.transit_domains = 10;
  c.transit_domain_routers = 5;
  c.stubs_per_transit_router = 10;
  c.stub_domain_routers = 10;
  c.domain_edge_prob = 0.3;
  c.transit_edge_prob = 0.5;
  c.stub_edge_prob = 0.2;
  c.stub_transit_extra_prob = 0.0;
  c.inter_transit_us_min = 10000;
  c.inter_transit_us_max = 50000;
  c.intra_transit_us_min = 2000;
  c.intra_transit_us_max = 10000;
  c.transit_stub_us_min = 1000;
  c.transit_stub_us_max = 5000;
  c.intra_stub_us_min = 500;
  c.intra_stub_us_max = 2000;
  return c;
}

/* ---- config validation ---- */

static int topo_prob_ok(double p) {
  /* Written so NaN fails too. */
  return p >= 0.0 && p <= 1.0;
}

static int topo_range_ok(uint32_t lo, uint32_t hi) {
  /* Zero-latency links would let the next-hop walk cycle between equal-cost
   * routers; positive weights make every walk strictly progress. */
  return lo >= 1 && lo <= hi && hi <= SIM_TOPO_LINK_US_MAX;
}

static int topo_config_check(const sim_topo_config *c) {
  if (c->transit_domains == 0 || c->transit_domain_routers == 0 ||
      c->stubs_per_transit_router == 0 || c->stub_domain_routers == 0)
    return SC_ERR_INVALID;
  if (!topo_prob_ok(c->domain_edge_prob) || !topo_prob_ok(c->transit_edge_prob) ||
      !topo_prob_ok(c->stub_edge_prob) || !topo_prob_ok(c->stub_transit_extra_prob))
    return SC_ERR_INVALID;
  if (!topo_range_ok(c->inter_transit_us_min, c->inter_transit_us_max) ||
      !topo_range_ok(c->intra_transit_us_min, c->intra_transit_us_max) ||
      !topo_range_ok(c->transit_stub_us_min, c->transit_stub_us_max) ||
      !topo_range_ok(c->intra_stub_us_min, c->intra_stub_us_max))
    return SC_ERR_INVALID;
  if (c->transit_domain_routers > SIM_TOPO_DOMAIN_ROUTERS_MAX ||
      c->stub_domain_routers > SIM_TOPO_DOMAIN_ROUTERS_MAX ||
      c->transit_domains > SIM_TOPO_DOMAIN_ROUTERS_MAX)
    return SC_ERR_TOO_LARGE;
  /* 64-bit products: the 32-bit ones could wrap and pass the bound. */
  uint64_t transit = (uint64_t)c->transit_domains * c->transit_domain_routers;
  uint64_t stub = transit * c->stubs_per_transit_router * c->stub_domain_routers;
  if (transit + stub > SIM_TOPO_ROUTERS_MAX) return SC_ERR_TOO_LARGE;
  return SC_OK;
}

/* ---- generation ---- */

/* Links as generated, before the CSR view exists. Growable up to
 * SIM_TOPO_LINKS_MAX. */
typedef struct topo_links {
  uint32_t n, cap;
  uint16_t *a, *b;
  uint32_t *us;
} topo_links;

static int topo_links_add(topo_links *l, uint32_t a, uint32_t b, uint32_t us) {
  assert(a != b);
  if (l->n == l->cap) {
    if (l->cap >= SIM_TOPO_LINKS_MAX) return SC_ERR_TOO_LARGE;
    uint32_t cap = l->cap ? l->cap * 2 : 1024;
    if (cap > SIM_TOPO_LINKS_MAX) cap = SIM_TOPO_LINKS_MAX;
    uint16_t *na = realloc(l->a, cap * sizeof(*na));
    if (!na) return SC_ERR_NOMEM;
    l->a = na;
    uint16_t *nb = realloc(l->b, cap * sizeof(*nb));
    if (!nb) return SC_ERR_NOMEM;
    l->b = nb;
    uint32_t *nu = realloc(l->us, cap * sizeof(*nu));
    if (!nu) return SC_ERR_NOMEM;
    l->us = nu;
    l->cap = cap;
  }
  /* Store a < b so a link has one canonical spelling. */
  l->a[l->n] = (uint16_t)(a < b ? a : b);
  l->b[l->n] = (uint16_t)(a < b ? b : a);
  l->us[l->n] = us;
  l->n++;
  return SC_OK;
}

static uint32_t topo_draw_us(sc_rng *r, uint32_t lo, uint32_t hi) {
  return lo + sc_rng_below(r, hi - lo + 1);
}

static int topo_coin(sc_rng *r, double p) {
  /* Always draws, even for p == 0 or 1, so the stream consumed by a domain
   * depends only on its size: changing one probability moves that domain's
   * extra edges, not the shape of every domain generated after it. */
  return sc_rng_unit(r) < p;
}

/* Generator state: one RNG stream in a fixed order makes the graph a pure
 * function of the config. */
typedef struct topo_gen {
  sc_rng rng;
  topo_links links;
  uint8_t *adj;   /* n×n scratch (one byte per pair), n ≤ DOMAIN_ROUTERS_MAX */
  uint32_t *perm; /* n scratch */
} topo_gen;

/* Connects n items as a random spanning tree plus each other pair with
 * probability p, and appends the links.
 * domain_routers == 0: the items are the routers base .. base+n-1.
 * domain_routers > 0: the items are transit domains; item i stands for the
 * routers base + i*domain_routers .. + domain_routers-1, and each edge joins
 * one random router on each side. */
static int topo_gen_domain(topo_gen *g, uint32_t n, double p, uint32_t us_min,
                           uint32_t us_max, uint32_t base, uint32_t domain_routers) {
  assert(n <= SIM_TOPO_DOMAIN_ROUTERS_MAX);
  memset(g->adj, 0, (size_t)n * n);
  for (uint32_t i = 0; i < n; i++)
    g->perm[i] = i;
  for (uint32_t i = n; i > 1; i--) { /* Fisher–Yates */
    uint32_t j = sc_rng_below(&g->rng, i);
    uint32_t t = g->perm[i - 1];
    g->perm[i - 1] = g->perm[j];
    g->perm[j] = t;
  }
  /* Random recursive tree over the shuffled order: each item joins a
   * uniformly chosen earlier one. Connected by construction, so no GT-ITM
   * style "redraw until connected" loop is needed. */
  for (uint32_t k = 1; k < n; k++) {
    uint32_t u = g->perm[k];
    uint32_t v = g->perm[sc_rng_below(&g->rng, k)];
    g->adj[u * n + v] = g->adj[v * n + u] = 1;
  }
  /* Extra edges, pair by pair in a fixed order (determinism). */
  for (uint32_t u = 0; u < n; u++)
    for (uint32_t v = u + 1; v < n; v++)
      if (!g->adj[u * n + v] && topo_coin(&g->rng, p)) g->adj[u * n + v] = 1;
  /* Emit in pair order so link ids do not depend on the tree's draw order. */
  for (uint32_t u = 0; u < n; u++)
    for (uint32_t v = u + 1; v < n; v++) {
      if (!g->adj[u * n + v]) continue; /* the tree set both halves */
      uint32_t ru = base + u, rv = base + v;
      if (domain_routers) {
        ru = base + u * domain_routers + sc_rng_below(&g->rng, domain_routers);
        rv = base + v * domain_routers + sc_rng_below(&g->rng, domain_routers);
      }
      int rc = topo_links_add(&g->links, ru, rv, topo_draw_us(&g->rng, us_min, us_max));
      if (rc) return rc;
    }
  return SC_OK;
}

static int topo_generate(topo_gen *g, const sim_topo_config *c,
                         uint32_t transit_routers) {
  int rc;
  /* 1. Each transit domain. */
  for (uint32_t d = 0; d < c->transit_domains; d++) {
    rc = topo_gen_domain(g, c->transit_domain_routers, c->transit_edge_prob,
                         c->intra_transit_us_min, c->intra_transit_us_max,
                         d * c->transit_domain_routers, 0);
    if (rc) return rc;
  }
  /* 2. Transit domains to each other. */
  rc =
      topo_gen_domain(g, c->transit_domains, c->domain_edge_prob, c->inter_transit_us_min,
                      c->inter_transit_us_max, 0, c->transit_domain_routers);
  if (rc) return rc;
  /* 3. Stub domains, each inside and up to its transit router. */
  uint32_t stub_base = transit_routers;
  for (uint32_t t = 0; t < transit_routers; t++) {
    for (uint32_t s = 0; s < c->stubs_per_transit_router; s++) {
      rc = topo_gen_domain(g, c->stub_domain_routers, c->stub_edge_prob,
                           c->intra_stub_us_min, c->intra_stub_us_max, stub_base, 0);
      if (rc) return rc;
      uint32_t gw = stub_base + sc_rng_below(&g->rng, c->stub_domain_routers);
      rc = topo_links_add(
          &g->links, t, gw,
          topo_draw_us(&g->rng, c->transit_stub_us_min, c->transit_stub_us_max));
      if (rc) return rc;
      /* Optional multi-homing: a second uplink to another transit router.
       * The coin is always drawn (see topo_coin). */
      if (topo_coin(&g->rng, c->stub_transit_extra_prob) && transit_routers > 1) {
        uint32_t other = sc_rng_below(&g->rng, transit_routers - 1);
        if (other >= t) other++;
        uint32_t from = stub_base + sc_rng_below(&g->rng, c->stub_domain_routers);
        rc = topo_links_add(
            &g->links, other, from,
            topo_draw_us(&g->rng, c->transit_stub_us_min, c->transit_stub_us_max));
        if (rc) return rc;
      }
      stub_base += c->stub_domain_routers;
    }
  }
  return SC_OK;
}

/* Builds the CSR adjacency from the link table (counting sort by router;
 * within a router, neighbours appear in link-id order). */
static int topo_build_csr(sim_topo *t) {
  uint32_t n = t->routers, m = t->links;
  t->adj_off = calloc((size_t)n + 1, sizeof(*t->adj_off));
  t->adj_to = malloc((size_t)2 * m * sizeof(*t->adj_to));
  t->adj_link = malloc((size_t)2 * m * sizeof(*t->adj_link));
  t->adj_us = malloc((size_t)2 * m * sizeof(*t->adj_us));
  if (!t->adj_off || !t->adj_to || !t->adj_link || !t->adj_us) return SC_ERR_NOMEM;
  for (uint32_t e = 0; e < m; e++) {
    t->adj_off[t->link_a[e] + 1]++;
    t->adj_off[t->link_b[e] + 1]++;
  }
  for (uint32_t r = 0; r < n; r++)
    t->adj_off[r + 1] += t->adj_off[r];
  uint32_t *fill = malloc((size_t)n * sizeof(*fill));
  if (!fill) return SC_ERR_NOMEM;
  memcpy(fill, t->adj_off, (size_t)n * sizeof(*fill));
  for (uint32_t e = 0; e < m; e++) {
    uint32_t a = t->link_a[e], b = t->link_b[e];
    uint32_t ia = fill[a]++, ib = fill[b]++;
    t->adj_to[ia] = (uint16_t)b;
    t->adj_link[ia] = e;
    t->adj_us[ia] = t->link_us[e];
    t->adj_to[ib] = (uint16_t)a;
    t->adj_link[ib] = e;
    t->adj_us[ib] = t->link_us[e];
  }
  free(fill);
  return SC_OK;
}

/* ---- all-pairs shortest paths ---- */

/* Indexed binary min-heap of (key, router), with decrease-key. Keys live in
 * the entries so sifting touches one array. */
typedef struct topo_heap_ent {
  uint32_t key;
  uint32_t node;
} topo_heap_ent;

typedef struct topo_heap {
  topo_heap_ent *ent;
  uint32_t *pos; /* node -> index in ent, or TOPO_POS_NONE */
  uint32_t n;
} topo_heap;

#define TOPO_POS_NONE UINT32_MAX

static void topo_heap_up(topo_heap *h, uint32_t i) {
  topo_heap_ent e = h->ent[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (h->ent[p].key <= e.key) break;
    h->ent[i] = h->ent[p];
    h->pos[h->ent[i].node] = i;
    i = p;
  }
  h->ent[i] = e;
  h->pos[e.node] = i;
}

static void topo_heap_down(topo_heap *h, uint32_t i) {
  topo_heap_ent e = h->ent[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->ent[c + 1].key < h->ent[c].key) c++;
    if (h->ent[c].key >= e.key) break;
    h->ent[i] = h->ent[c];
    h->pos[h->ent[i].node] = i;
    i = c;
  }
  h->ent[i] = e;
  h->pos[e.node] = i;
}

/* One Dijkstra from s, writing row s of both matrices. The first hop toward
 * v is inherited from v's predecessor (or is v itself when the predecessor is
 * s), so the next-hop row costs nothing extra. Only strict improvements
 * relax, which makes ties (and so the matrices) deterministic.
 * sink != s: that router is settled but not expanded, which confines the
 * search to a pendant stub domain plus its transit router (see
 * topo_all_pairs); pass sink == s for a full search. */
static void topo_dijkstra(sim_topo *t, topo_heap *h, uint32_t s, uint32_t sink) {
  uint32_t n = t->routers;
  uint32_t *dist = t->lat_us + (size_t)s * n;
  uint16_t *nh = t->next + (size_t)s * n;
  for (uint32_t i = 0; i < n; i++) {
    dist[i] = SIM_TOPO_US_INF;
    h->pos[i] = TOPO_POS_NONE;
  }
  dist[s] = 0;
  nh[s] = (uint16_t)s;
  h->n = 1;
  h->ent[0].key = 0;
  h->ent[0].node = s;
  h->pos[s] = 0;
  while (h->n > 0) {
    uint32_t u = h->ent[0].node;
    uint32_t du = h->ent[0].key;
    h->pos[u] = TOPO_POS_NONE;
    if (--h->n > 0) {
      h->ent[0] = h->ent[h->n];
      topo_heap_down(h, 0);
    }
    if (u == sink && u != s) continue;
    uint16_t first_u = nh[u];
    for (uint32_t i = t->adj_off[u]; i < t->adj_off[u + 1]; i++) {
      uint32_t v = t->adj_to[i];
      /* No overflow: du + w ≤ (routers-1) * LINK_US_MAX < UINT32_MAX. */
      uint32_t nd = du + t->adj_us[i];
      if (nd >= dist[v]) continue;
      dist[v] = nd;
      nh[v] = u == s ? (uint16_t)v : first_u;
      uint32_t p = h->pos[v];
      if (p == TOPO_POS_NONE) {
        p = h->n++;
        h->ent[p].node = v;
      }
      h->ent[p].key = nd;
      topo_heap_up(h, p);
    }
  }
}

/* The transit router a stub domain hangs from, when its only link to the
 * rest of the graph is that one uplink; UINT32_MAX when multi-homed. */
static uint32_t topo_stub_pendant(const sim_topo *t, uint32_t base, uint32_t size) {
  uint32_t exit_router = UINT32_MAX, exits = 0;
  for (uint32_t r = base; r < base + size; r++)
    for (uint32_t i = t->adj_off[r]; i < t->adj_off[r + 1]; i++) {
      uint32_t v = t->adj_to[i];
      if (v >= base && v < base + size) continue;
      exits++;
      exit_router = v;
    }
  return exits == 1 && exit_router < t->transit_routers ? exit_router : UINT32_MAX;
}

/* All-pairs shortest paths. A plain Dijkstra from all 5,050 GATech routers
 * takes ~1.1 s at -O2 (over 4 s under ASan at -O0); this exploits the transit-stub shape,
 * exactly: a single-homed ("pendant") stub domain D joins the graph only through its
 * uplink to transit router T, so for x in D and y outside D every path runs
 * x → T → y: d(x, y) = d(x, T) + d(T, y) and next(x, y) = next(x, T); and a
 * shortest path between two routers of D never leaves D (it would cross the
 * uplink twice). So the "core" routers (transit routers, multi-homed stubs)
 * get a full Dijkstra; a pendant router gets a Dijkstra confined to D + T
 * and copies the rest of its row from T's, which is already complete because
 * cores run first. Entries from outside into D come out right on their own:
 * core rows from their full search, other pendant rows by the copy.
 * GATech: 50 full searches + 5,000 searches over 11 routers + a row copy per
 * router: ~85 ms. The matrices are byte-identical to the plain method's. With
 * multi-homing every multi-homed stub is core, so the result is the same as searching
 * from every router. */
static int topo_all_pairs(sim_topo *t) {
  const sim_topo_config *c = &t->cfg;
  uint32_t n = t->routers;
  size_t cells = (size_t)n * n;
  t->lat_us = malloc(cells * sizeof(*t->lat_us));
  t->next = malloc(cells * sizeof(*t->next));
  uint32_t stubs = t->transit_routers * c->stubs_per_transit_router;
  uint32_t *pendant = malloc((size_t)stubs * sizeof(*pendant));
  topo_heap h;
  h.ent = malloc((size_t)n * sizeof(*h.ent));
  h.pos = malloc((size_t)n * sizeof(*h.pos));
  h.n = 0;
  if (!t->lat_us || !t->next || !pendant || !h.ent || !h.pos) {
    free(pendant);
    free(h.ent);
    free(h.pos);
    return SC_ERR_NOMEM;
  }
  uint32_t size = c->stub_domain_routers;
  for (uint32_t d = 0; d < stubs; d++)
    pendant[d] = topo_stub_pendant(t, t->transit_routers + d * size, size);

  /* Pass 1: the core, searched in full. */
  for (uint32_t s = 0; s < n; s++) {
    if (s >= t->transit_routers && pendant[(s - t->transit_routers) / size] != UINT32_MAX)
      continue;
    topo_dijkstra(t, &h, s, s);
  }
  /* Pass 2: pendant routers, confined search then the copy from T's row. */
  for (uint32_t d = 0; d < stubs; d++) {
    uint32_t up = pendant[d];
    if (up == UINT32_MAX) continue;
    uint32_t base = t->transit_routers + d * size;
    const uint32_t *lat_up = t->lat_us + (size_t)up * n;
    for (uint32_t x = base; x < base + size; x++) {
      topo_dijkstra(t, &h, x, up);
      uint32_t *lat = t->lat_us + (size_t)x * n;
      uint16_t *nh = t->next + (size_t)x * n;
      uint32_t to_up = lat[up];
      uint16_t via = nh[up];
      for (uint32_t y = 0; y < n; y++) {
        if ((y >= base && y < base + size) || y == up) continue;
        lat[y] = to_up + lat_up[y];
        nh[y] = via;
      }
    }
  }
  free(pendant);
  free(h.ent);
  free(h.pos);
  return SC_OK;
}

/* ---- lifecycle ---- */

int sim_topo_new(sim_topo **out, const sim_topo_config *cfg) {
  if (!out) return SC_ERR_INVALID;
  sim_topo_config def;
  if (!cfg) {
    def = sim_topo_config_default();
    cfg = &def;
  }
  int rc = topo_config_check(cfg);
  if (rc) return rc;

  sim_topo *t = calloc(1, sizeof(*t));
  if (!t) return SC_ERR_NOMEM;
  t->cfg = *cfg;
  t->transit_routers = cfg->transit_domains * cfg->transit_domain_routers;
  t->routers = t->transit_routers + t->transit_routers * cfg->stubs_per_transit_router *
                                        cfg->stub_domain_routers;

  topo_gen g;
  memset(&g, 0, sizeof(g));
  sc_rng_seed(&g.rng, cfg->seed);
  size_t dmax = cfg->transit_domain_routers;
  if (cfg->stub_domain_routers > dmax) dmax = cfg->stub_domain_routers;
  if (cfg->transit_domains > dmax) dmax = cfg->transit_domains;
  g.adj = malloc(dmax * dmax);
  g.perm = malloc(dmax * sizeof(*g.perm));
  rc = (g.adj && g.perm) ? topo_generate(&g, cfg, t->transit_routers) : SC_ERR_NOMEM;
  free(g.adj);
  free(g.perm);
  /* The link table moves into the topology either way, so one unwind frees it. */
  t->links = g.links.n;
  t->link_a = g.links.a;
  t->link_b = g.links.b;
  t->link_us = g.links.us;
  if (rc) goto fail;

  rc = topo_build_csr(t);
  if (rc) goto fail;
  rc = topo_all_pairs(t);
  if (rc) goto fail;
  *out = t;
  return SC_OK;
fail:
  sim_topo_del(t);
  return rc;
}

void sim_topo_del(sim_topo *topo) {
  if (!topo) return;
  free(topo->link_a);
  free(topo->link_b);
  free(topo->link_us);
  free(topo->adj_off);
  free(topo->adj_to);
  free(topo->adj_link);
  free(topo->adj_us);
  free(topo->lat_us);
  free(topo->next);
  free(topo);
}

/* ---- queries ---- */

const sim_topo_config *sim_topo_config_get(const sim_topo *topo) {
  return &topo->cfg;
}

uint32_t sim_topo_routers(const sim_topo *topo) {
  return topo->routers;
}

uint32_t sim_topo_transit_routers(const sim_topo *topo) {
  return topo->transit_routers;
}

uint32_t sim_topo_stub_routers(const sim_topo *topo) {
  return topo->routers - topo->transit_routers;
}

uint32_t sim_topo_stub_router(const sim_topo *topo, uint32_t i) {
  assert(i < topo->routers - topo->transit_routers);
  return topo->transit_routers + i;
}

uint32_t sim_topo_links(const sim_topo *topo) {
  return topo->links;
}

int sim_topo_link(const sim_topo *topo, uint32_t link, uint32_t *a, uint32_t *b,
                  uint32_t *latency_us) {
  if (link >= topo->links) return SC_ERR_INVALID;
  if (a) *a = topo->link_a[link];
  if (b) *b = topo->link_b[link];
  if (latency_us) *latency_us = topo->link_us[link];
  return SC_OK;
}

uint32_t sim_topo_latency_us(const sim_topo *topo, uint32_t a, uint32_t b) {
  assert(a < topo->routers && b < topo->routers);
  return topo->lat_us[(size_t)a * topo->routers + b];
}

uint32_t sim_topo_next_hop(const sim_topo *topo, uint32_t a, uint32_t b) {
  assert(a < topo->routers && b < topo->routers);
  return topo->next[(size_t)a * topo->routers + b];
}

const uint32_t *sim_topo_latency_matrix(const sim_topo *topo) {
  return topo->lat_us;
}

/* The index of b in adjacent router a's adjacency. Degrees are small (tens),
 * so a scan beats storing a second n² matrix of link ids. */
static uint32_t topo_adj_index(const sim_topo *topo, uint32_t a, uint32_t b) {
  uint32_t i = topo->adj_off[a], end = topo->adj_off[a + 1];
  while (i < end && topo->adj_to[i] != b)
    i++;
  assert(i < end);
  return i;
}

uint32_t sim_topo_link_between(const sim_topo *topo, uint32_t a, uint32_t b) {
  assert(a < topo->routers && b < topo->routers);
  return topo->adj_link[topo_adj_index(topo, a, b)];
}

int sim_topo_path_foreach(const sim_topo *topo, uint32_t from, uint32_t to,
                          sim_topo_link_cb cb, void *ctx) {
  if (!cb || from >= topo->routers || to >= topo->routers) return SC_ERR_INVALID;
  uint32_t n = topo->routers;
  uint32_t cur = from;
  /* A shortest path visits each router at most once: the bound turns a
   * corrupted matrix into an assertion instead of an endless loop. */
  for (uint32_t hops = 0; cur != to; hops++) {
    assert(hops < n);
    uint32_t nx = topo->next[(size_t)cur * n + to];
    uint32_t i = topo_adj_index(topo, cur, nx);
    int rc = cb(ctx, topo->adj_link[i], cur, nx, topo->adj_us[i]);
    if (rc) return rc;
    cur = nx;
  }
  return SC_OK;
}

size_t sim_topo_mem_bytes(const sim_topo *topo) {
  size_t n = topo->routers, m = topo->links;
  return sizeof(*topo) + n * n * (sizeof(uint32_t) + sizeof(uint16_t)) +
         m * (2 * sizeof(uint16_t) + sizeof(uint32_t)) + (n + 1) * sizeof(uint32_t) +
         2 * m * (sizeof(uint16_t) + 2 * sizeof(uint32_t));
}
