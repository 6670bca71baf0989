/*
 * netmodel.h — peer-to-peer one-way latency for the simulator (docs/ARCHITECTURE.md §4).
 *
 * The engine asks for a latency on every message, so sim_net_latency_ns is
 * O(1), allocation-free and a handful of loads and flops. Three models:
 *
 *  - SIM_NET_TRANSIT_STUB: the GT-ITM "GATech" router graph (topology.h).
 *    Each peer attaches to a uniformly random stub router, as in the
 *    SplitStream evaluation. latency = access(a) + d(router(a), router(b))
 *    + access(b). Access delay uniform 0.5–2 ms: only the last-mile hop,
 *    because the stub domain already models the campus/access network.
 *    Memory: the topology's 153 MB plus 4 bytes per peer.
 *  - SIM_NET_SPHERE: a uniform point on an Earth-sized sphere (radius
 *    6,371 km); latency = access(a) + great-circle distance / propagation
 *    speed + access(b). Propagation ~2/3 c in fibre = 200 km/ms, so the
 *    geographic part is at most π·6,371/200 ≈ 100 ms. Access delay uniform
 *    1–10 ms: it stands for the last mile and for routing detours, the role
 *    of the height in Vivaldi's 2-D + height coordinates; uniform because it
 *    is bounded and easy to reason about (an exponential tail would make a few
 *    peers pathologically slow, which churn models should decide instead).
 *  - SIM_NET_PLANE: a uniform point in a square of side 14,142 km (so the
 *    diagonal, like the sphere's antipode, is ~100 ms at 200 km/ms);
 *    Euclidean distance; same access delay as the sphere.
 *  The coordinate models hold 16 bytes per peer: millions of peers fit.
 *
 * Placement is a pure function of (seed, peer index): placing peers in any
 * order, or placing more of them, never moves another peer. The transit-stub
 * graph itself is generated from cfg.topo.seed, so placements can be varied
 * over a fixed graph (set both to the run seed to tie them together).
 *
 * Latencies are integers (ns); every model is exactly symmetric and 0 from a
 * peer to itself.
 */
#ifndef SIM_NETMODEL_H
#define SIM_NETMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/topology.h"

/* Bounds. Peers: 16 bytes each in the coordinate models (256 MB at the
 * bound). Access delay: stored as uint16 microseconds, 0xFFFF marks "not
 * placed". Geographic delay: keeps the float-to-integer conversion in range
 * and catches a radius given in metres instead of kilometres. */
#define SIM_NET_PEERS_MAX     (1u << 24)
#define SIM_NET_ACCESS_US_MAX 65534u
#define SIM_NET_GEO_MS_MAX    10000.0

typedef enum {
  SIM_NET_TRANSIT_STUB,
  SIM_NET_SPHERE,
  SIM_NET_PLANE,
} sim_net_kind;

typedef struct sim_net_config {
  sim_net_kind kind;    /* SIM_NET_TRANSIT_STUB */
  uint64_t seed;        /* peer placement and access delays: 1 */
  sim_topo_config topo; /* transit-stub only: sim_topo_config_default() */

  /* Per-peer access delay, uniform in [min, max] microseconds,
   * max ≤ SIM_NET_ACCESS_US_MAX. */
  uint32_t ts_access_us_min, ts_access_us_max;   /* transit-stub: 500–2,000 */
  uint32_t geo_access_us_min, geo_access_us_max; /* sphere, plane: 1,000–10,000 */

  double sphere_radius_km;      /* 6,371 */
  double plane_side_km;         /* 14,142 */
  double propagation_km_per_ms; /* 200 (~2/3 c, light in fibre) */
} sim_net_config;

/* The defaults above. */
sim_net_config sim_net_config_default(void);

typedef struct sim_net sim_net;

/* Creates a model for peers 0 .. peers_max-1 (cfg NULL: the default), none
 * placed yet; for SIM_NET_TRANSIT_STUB this generates the topology (~0.1 s
 * for GATech). On success *out owns the model (free with sim_net_del).
 * Errors: SC_ERR_INVALID (out NULL, unknown kind, peers_max 0, an access
 * range empty or above SIM_NET_ACCESS_US_MAX, a non-positive or non-finite
 * radius/side/speed, or an invalid topology config), SC_ERR_TOO_LARGE
 * (peers_max above SIM_NET_PEERS_MAX, a geographic diameter above
 * SIM_NET_GEO_MS_MAX, or a topology above its bounds), SC_ERR_NOMEM.
 * *out is untouched on error. */
int sim_net_new(sim_net **out, const sim_net_config *cfg, uint32_t peers_max);
/* The same with sim_net_config_default() of `kind`, peers placed by seed. */
int sim_net_new_kind(sim_net **out, sim_net_kind kind, uint64_t seed, uint32_t peers_max);

/* Frees net and its topology; NULL is a no-op. */
void sim_net_del(sim_net *net);

/* Places peer (its router or point, and its access delay) from (seed, peer)
 * alone. Idempotent: placing again gives the same result. Asserts
 * peer < peers_max. */
void sim_net_place(sim_net *net, uint32_t peer);

/* One-way latency from peer a to peer b in nanoseconds; 0 when a == b.
 * Both must be placed (asserted). O(1), no allocation. For transit-stub the
 * cost is dominated by one load from the 102 MB latency matrix. */
uint64_t sim_net_latency_ns(const sim_net *net, uint32_t a, uint32_t b);

/* Hints with no effect on results: start loading what sim_net_latency_ns
 * will read for peer (its placement), or for the pair (a, b) (transit-stub:
 * the latency matrix entry; both placements must be in cache already). */
void sim_net_prefetch(const sim_net *net, uint32_t peer);
void sim_net_prefetch_pair(const sim_net *net, uint32_t a, uint32_t b);

/* The stub router peer is attached to (transit-stub); UINT32_MAX for the
 * coordinate models or an unplaced peer. */
uint32_t sim_net_router(const sim_net *net, uint32_t peer);

/* Peer's access delay in microseconds; UINT32_MAX if not placed. */
uint32_t sim_net_access_us(const sim_net *net, uint32_t peer);

/* The topology (borrowed, owned by net) for transit-stub; NULL otherwise. */
const sim_topo *sim_net_topo(const sim_net *net);

sim_net_kind sim_net_kind_get(const sim_net *net);
uint32_t sim_net_peers_max(const sim_net *net);

/* Bytes owned by net, including its topology. */
size_t sim_net_mem_bytes(const sim_net *net);

/* Parses "transit-stub", "sphere" or "plane" (exact, lower case).
 * Errors: SC_ERR_INVALID (s or out NULL, or another string; *out untouched). */
int sim_net_kind_parse(const char *s, sim_net_kind *out);

/* The name sim_net_kind_parse accepts for kind; "unknown" otherwise. Static. */
const char *sim_net_kind_name(sim_net_kind kind);

#endif
