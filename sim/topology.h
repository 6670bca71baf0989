/*
 * topology.h — a GT-ITM-style transit-stub router graph with all-pairs
 * shortest-path latencies and router-level paths (docs/ARCHITECTURE.md §4).
 *
 * The default shape is "GATech", the 5,050-router graph of the Pastry, Scribe
 * and SplitStream evaluations (splitstream-pastry-scribe.md, "The SplitStream
 * evaluation"): 10 transit domains × 5 transit routers = 50 transit routers,
 * each transit router with 10 stub domains of 10 routers (5,000 stub routers).
 *
 * Router numbering is fixed so callers can reason about it: transit routers
 * come first, domain by domain ([0, transit_routers)); stub routers follow,
 * stub domain by stub domain in the order of their transit router, so the i-th
 * stub router is router transit_routers + i.
 *
 * Construction (GT-ITM in spirit, not its code):
 *  - every domain (transit or stub) is a random spanning tree over its routers
 *    plus each remaining router pair with probability *_edge_prob, so each
 *    domain is connected on its own;
 *  - transit domains are joined by a random spanning tree over domains plus
 *    each remaining domain pair with probability domain_edge_prob; each
 *    domain-level edge becomes one link between a random router of each side;
 *  - each stub domain hangs off its transit router by one link from a random
 *    stub router (its gateway); with probability stub_transit_extra_prob it
 *    also gets one link to a random *other* transit router (multi-homing;
 *    off by default so the default graph stays simple and strictly
 *    hierarchical).
 *
 * Link latencies are drawn uniformly (integer microseconds) per link class.
 * Defaults and the reasoning behind them:
 *  - inter-transit 10–50 ms: backbone links between providers span regions
 *    or continents, and most paths cross one to three of them;
 *  - intra-transit 2–10 ms: links inside one provider's backbone (a metro
 *    or a country);
 *  - transit-stub 1–5 ms: the uplink from an access/campus network to its
 *    provider;
 *  - intra-stub 0.5–2 ms: links inside one campus or access network.
 * Measured on the default graph (seed 1), stub-to-stub one-way latency:
 * p5 15 ms, median 63 ms, p95 131 ms, max 158 ms: a plausible spread of
 * wide-area one-way delays, from same-region to intercontinental.
 *
 * Memory: two dense n×n matrices (uint32 latency, uint16 next hop), 6 n²
 * bytes: 153 MB for GATech. Construction: a full Dijkstra from each transit
 * router and each multi-homed stub router, and a Dijkstra confined to its own
 * domain for every router of a single-homed stub domain (topology.c explains
 * why that is exact); ~85 ms for GATech at -O2, most of it filling the
 * matrices.
 *
 * Everything is a pure function of the config: same seed, same graph, same
 * matrices, byte for byte. The only randomness is core/rng.h.
 */
#ifndef SIM_TOPOLOGY_H
#define SIM_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

/* Bounds. Routers: the next-hop matrix is uint16 and the dense matrices cost
 * 6 n² bytes (1.6 GB at this bound). Domain routers: the generator keeps an
 * n×n scratch bitmap per domain. Link latency: keeps every shortest path
 * (at most ROUTERS_MAX-1 links) below UINT32_MAX microseconds. Links: the
 * per-pair edge probabilities could otherwise make the graph dense. */
#define SIM_TOPO_ROUTERS_MAX        16384u
#define SIM_TOPO_DOMAIN_ROUTERS_MAX 1024u
#define SIM_TOPO_LINK_US_MAX        200000u
#define SIM_TOPO_LINKS_MAX          (1u << 20)

/* The latency matrix value between two routers in different components;
 * never returned for a valid topology (every generated graph is connected). */
#define SIM_TOPO_US_INF UINT32_MAX

typedef struct sim_topo sim_topo;

typedef struct sim_topo_config {
  uint64_t seed;

  uint32_t transit_domains;          /* 10 */
  uint32_t transit_domain_routers;   /* routers per transit domain: 5 */
  uint32_t stubs_per_transit_router; /* stub domains per transit router: 10 */
  uint32_t stub_domain_routers;      /* routers per stub domain: 10 */

  /* Extra-edge probabilities, each in [0, 1], applied per pair not already
   * joined by the spanning tree. */
  double domain_edge_prob;        /* between transit domains: 0.3 */
  double transit_edge_prob;       /* inside a transit domain: 0.5 */
  double stub_edge_prob;          /* inside a stub domain: 0.2 */
  double stub_transit_extra_prob; /* per stub domain, a second uplink: 0 */

  /* Uniform link latency per class, 1 ≤ min ≤ max ≤ SIM_TOPO_LINK_US_MAX. */
  uint32_t inter_transit_us_min, inter_transit_us_max; /* 10,000–50,000 */
  uint32_t intra_transit_us_min, intra_transit_us_max; /* 2,000–10,000 */
  uint32_t transit_stub_us_min, transit_stub_us_max;   /* 1,000–5,000 */
  uint32_t intra_stub_us_min, intra_stub_us_max;       /* 500–2,000 */
} sim_topo_config;

/* The GATech shape with the defaults above and seed 1. */
sim_topo_config sim_topo_config_default(void);

/* Generates the graph described by cfg (NULL: the default) and computes all
 * shortest paths. On success *out owns the topology (free with
 * sim_topo_del). Errors: SC_ERR_INVALID (a zero count, a probability outside
 * [0, 1], a latency range empty, zero or above SIM_TOPO_LINK_US_MAX, or out
 * NULL), SC_ERR_TOO_LARGE (more than SIM_TOPO_ROUTERS_MAX routers, a domain
 * above SIM_TOPO_DOMAIN_ROUTERS_MAX, or more than SIM_TOPO_LINKS_MAX links),
 * SC_ERR_NOMEM. *out is untouched on error. */
int sim_topo_new(sim_topo **out, const sim_topo_config *cfg);

/* Frees topo and everything it owns; NULL is a no-op. */
void sim_topo_del(sim_topo *topo);

/* The config topo was built from. */
const sim_topo_config *sim_topo_config_get(const sim_topo *topo);

/* Router counts; routers = transit routers + stub routers. */
uint32_t sim_topo_routers(const sim_topo *topo);
uint32_t sim_topo_transit_routers(const sim_topo *topo);
uint32_t sim_topo_stub_routers(const sim_topo *topo);

/* The router index of the i-th stub router, i < sim_topo_stub_routers(). */
uint32_t sim_topo_stub_router(const sim_topo *topo, uint32_t i);

/* Number of (undirected) physical links; link ids are 0 .. links-1, stable
 * for a given config. */
uint32_t sim_topo_links(const sim_topo *topo);

/* The endpoints (a < b) and latency of link. Any out pointer may be NULL.
 * Errors: SC_ERR_INVALID (link out of range). */
int sim_topo_link(const sim_topo *topo, uint32_t link, uint32_t *a, uint32_t *b,
                  uint32_t *latency_us);

/* Shortest-path one-way latency between routers a and b, in microseconds;
 * symmetric, 0 on the diagonal. Asserts a, b < routers. */
uint32_t sim_topo_latency_us(const sim_topo *topo, uint32_t a, uint32_t b);

/* The first router after a on the shortest path from a to b (b itself when
 * adjacent; a when a == b). Asserts a, b < routers. */
uint32_t sim_topo_next_hop(const sim_topo *topo, uint32_t a, uint32_t b);

/* The link between adjacent routers a and b (the first in a's adjacency, in
 * link order, should there be two). Asserts that they are adjacent. */
uint32_t sim_topo_link_between(const sim_topo *topo, uint32_t a, uint32_t b);

/* The dense latency matrix, row-major, sim_topo_routers() columns: entry
 * a * routers + b. Borrowed, valid until sim_topo_del. For hot paths (the
 * network model caches it) where a function call per lookup matters. */
const uint32_t *sim_topo_latency_matrix(const sim_topo *topo);

/* Called once per link of a path, in order from source to destination.
 * link is the undirected link id; from → to gives the direction (a directed
 * id, if wanted, is 2 * link + (from > to)). Return 0 to continue; any other
 * value stops the walk and is returned by sim_topo_path_foreach. */
typedef int (*sim_topo_link_cb)(void *ctx, uint32_t link, uint32_t from, uint32_t to,
                                uint32_t latency_us);

/* Walks the router-level shortest path from router `from` to router `to`
 * (the one whose latencies sum to sim_topo_latency_us(from, to)), calling cb
 * for each link; from == to calls nothing. Returns SC_OK, the callback's
 * nonzero return value, or SC_ERR_INVALID (a router out of range, cb NULL). */
int sim_topo_path_foreach(const sim_topo *topo, uint32_t from, uint32_t to,
                          sim_topo_link_cb cb, void *ctx);

/* Bytes owned by topo (matrices, adjacency, link table). */
size_t sim_topo_mem_bytes(const sim_topo *topo);

#endif
