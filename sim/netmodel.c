/*
 * netmodel.c — transit-stub and coordinate latency models (see netmodel.h).
 */
#include "sim/netmodel.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "sim/arena.h"

#define NET_PI 3.14159265358979323846

/* 0xFFFF in access_us marks a peer not placed yet. */
#define NET_UNPLACED UINT16_MAX

/* Domain separation: other modules also derive per-peer streams from
 * (seed, peer); the tag keeps placement uncorrelated with them. */
#define NET_PLACE_TAG 0x6e65746d6f64656cULL /* "netmodel" */

typedef struct net_ts_peer {
  uint16_t router;
  uint16_t access_us;
} net_ts_peer;

/* One 16-byte record per peer so a lookup touches one cache line per peer.
 * Sphere: a unit vector. Plane: x, y in km, z = 0. Floats: 24-bit mantissas
 * place a peer within ~0.4 m on Earth, far below a microsecond. */
typedef struct net_geo_peer {
  float x, y, z;
  uint16_t access_us;
  uint16_t pad;
} net_geo_peer;

struct sim_net {
  sim_net_config cfg;
  uint32_t peers_max;
  uint64_t place_seed;

  /* Transit-stub. */
  sim_topo *topo;
  const uint32_t *lat_us; /* borrowed from topo */
  uint32_t routers;
  net_ts_peer *ts;

  /* Sphere and plane. */
  net_geo_peer *geo;
  double ns_per_unit; /* sphere: ns per radian of arc; plane: ns per km */
};

sim_net_config sim_net_config_default(void) {
  sim_net_config c;
  memset(&c, 0, sizeof(c));
  c.kind = SIM_NET_TRANSIT_STUB;
  c.seed = 1;
  c.topo = sim_topo_config_default();
  c.ts_access_us_min = 500;
  c.ts_access_us_max = 2000;
  c.geo_access_us_min = 1000;
  c.geo_access_us_max = 10000;
  c.sphere_radius_km = 6371.0;
  c.plane_side_km = 14142.0;
  c.propagation_km_per_ms = 200.0;
  return c;
}

static int net_positive(double v) {
  /* Rejects NaN and infinities too; 1e12 is a sanity cap, the real bound is
   * SIM_NET_GEO_MS_MAX on the resulting diameter. */
  return v > 0.0 && v <= 1e12;
}

static int net_config_check(const sim_net_config *c, uint32_t peers_max) {
  if (peers_max == 0) return SC_ERR_INVALID;
  if (peers_max > SIM_NET_PEERS_MAX) return SC_ERR_TOO_LARGE;
  uint32_t lo, hi;
  switch (c->kind) {
  case SIM_NET_TRANSIT_STUB:
    lo = c->ts_access_us_min;
    hi = c->ts_access_us_max;
    break;
  case SIM_NET_SPHERE:
  case SIM_NET_PLANE:
    lo = c->geo_access_us_min;
    hi = c->geo_access_us_max;
    if (!net_positive(c->propagation_km_per_ms)) return SC_ERR_INVALID;
    break;
  default:
    return SC_ERR_INVALID;
  }
  if (lo > hi || hi > SIM_NET_ACCESS_US_MAX) return SC_ERR_INVALID;
  if (c->kind == SIM_NET_SPHERE) {
    if (!net_positive(c->sphere_radius_km)) return SC_ERR_INVALID;
    if (NET_PI * c->sphere_radius_km / c->propagation_km_per_ms > SIM_NET_GEO_MS_MAX)
      return SC_ERR_TOO_LARGE;
  } else if (c->kind == SIM_NET_PLANE) {
    if (!net_positive(c->plane_side_km)) return SC_ERR_INVALID;
    if (sqrt(2.0) * c->plane_side_km / c->propagation_km_per_ms > SIM_NET_GEO_MS_MAX)
      return SC_ERR_TOO_LARGE;
  }
  return SC_OK;
}

int sim_net_new(sim_net **out, const sim_net_config *cfg, uint32_t peers_max) {
  if (!out) return SC_ERR_INVALID;
  sim_net_config def;
  if (!cfg) {
    def = sim_net_config_default();
    cfg = &def;
  }
  int rc = net_config_check(cfg, peers_max);
  if (rc) return rc;

  sim_net *net = calloc(1, sizeof(*net));
  if (!net) return SC_ERR_NOMEM;
  net->cfg = *cfg;
  net->peers_max = peers_max;
  net->place_seed = sc_mix64(cfg->seed ^ NET_PLACE_TAG);

  if (cfg->kind == SIM_NET_TRANSIT_STUB) {
    rc = sim_topo_new(&net->topo, &cfg->topo);
    if (rc) goto fail;
    net->lat_us = sim_topo_latency_matrix(net->topo);
    net->routers = sim_topo_routers(net->topo);
    net->ts = sim_huge_calloc(peers_max, sizeof(*net->ts));
    if (!net->ts) goto nomem;
    for (uint32_t i = 0; i < peers_max; i++) {
      net->ts[i].router = UINT16_MAX;
      net->ts[i].access_us = NET_UNPLACED;
    }
  } else {
    net->geo = sim_huge_calloc(peers_max, sizeof(*net->geo));
    if (!net->geo) goto nomem;
    for (uint32_t i = 0; i < peers_max; i++)
      net->geo[i].access_us = NET_UNPLACED;
    if (cfg->kind == SIM_NET_SPHERE)
      net->ns_per_unit = cfg->sphere_radius_km / cfg->propagation_km_per_ms * 1e6;
    else
      net->ns_per_unit = 1e6 / cfg->propagation_km_per_ms;
  }
  *out = net;
  return SC_OK;
nomem:
  rc = SC_ERR_NOMEM;
fail:
  sim_net_del(net);
  return rc;
}

int sim_net_new_kind(sim_net **out, sim_net_kind kind, uint64_t seed,
                     uint32_t peers_max) {
  sim_net_config c = sim_net_config_default();
  c.kind = kind;
  c.seed = seed;
  return sim_net_new(out, &c, peers_max);
}

void sim_net_del(sim_net *net) {
  if (!net) return;
  sim_topo_del(net->topo);
  free(net->ts);
  free(net->geo);
  free(net);
}

void sim_net_place(sim_net *net, uint32_t peer) {
  assert(peer < net->peers_max);
  sc_rng r;
  sc_rng_seed(&r, net->place_seed ^ peer);
  const sim_net_config *c = &net->cfg;
  if (c->kind == SIM_NET_TRANSIT_STUB) {
    /* SplitStream evaluation: peers attach to random stub routers. */
    uint32_t stub = sc_rng_below(&r, sim_topo_stub_routers(net->topo));
    net->ts[peer].router = (uint16_t)sim_topo_stub_router(net->topo, stub);
    net->ts[peer].access_us =
        (uint16_t)(c->ts_access_us_min +
                   sc_rng_below(&r, c->ts_access_us_max - c->ts_access_us_min + 1));
    return;
  }
  net_geo_peer *g = &net->geo[peer];
  if (c->kind == SIM_NET_SPHERE) {
    /* Uniform on the sphere: z uniform in [-1, 1] (Archimedes' hat-box
     * theorem) and longitude uniform. */
    double z = 2.0 * sc_rng_unit(&r) - 1.0;
    double phi = 2.0 * NET_PI * sc_rng_unit(&r);
    double rho = sqrt(1.0 - z * z);
    g->x = (float)(rho * cos(phi));
    g->y = (float)(rho * sin(phi));
    g->z = (float)z;
  } else {
    g->x = (float)(c->plane_side_km * sc_rng_unit(&r));
    g->y = (float)(c->plane_side_km * sc_rng_unit(&r));
    g->z = 0.0f;
  }
  g->access_us =
      (uint16_t)(c->geo_access_us_min +
                 sc_rng_below(&r, c->geo_access_us_max - c->geo_access_us_min + 1));
}

/* asin(h) for h in [0, 1], after Abramowitz & Stegun 4.4.46
 * (asin = π/2 - acos): absolute error ≤ 2.2e-8 rad, i.e. under 1.5 ns of
 * great-circle delay on Earth at 200 km/ms. libm's asin cost ~15 ns here and
 * this runs on every message. Its value at 0 is +2.2e-8, never negative. */
static inline double net_asin01(double h) {
  double p = -0.0012624911;
  p = p * h + 0.0066700901;
  p = p * h - 0.0170881256;
  p = p * h + 0.0308918810;
  p = p * h - 0.0501743046;
  p = p * h + 0.0889789874;
  p = p * h - 0.2145988016;
  p = p * h + 1.5707963050;
  return NET_PI / 2 - sqrt(1.0 - h) * p;
}

uint64_t sim_net_latency_ns(const sim_net *net, uint32_t a, uint32_t b) {
  assert(a < net->peers_max && b < net->peers_max);
  if (a == b) return 0;
  if (net->ts) {
    net_ts_peer pa = net->ts[a], pb = net->ts[b];
    assert(pa.access_us != NET_UNPLACED && pb.access_us != NET_UNPLACED);
    uint64_t us = (uint64_t)pa.access_us + pb.access_us +
                  net->lat_us[(size_t)pa.router * net->routers + pb.router];
    return us * 1000u;
  }
  const net_geo_peer *pa = &net->geo[a], *pb = &net->geo[b];
  assert(pa->access_us != NET_UNPLACED && pb->access_us != NET_UNPLACED);
  /* Differences, not a dot product: (a-b)² == (b-a)² exactly, so the result
   * is exactly symmetric, and nearby peers keep their precision (1 - dot
   * would cancel catastrophically). */
  double dx = (double)pa->x - pb->x, dy = (double)pa->y - pb->y,
         dz = (double)pa->z - pb->z;
  double d = sqrt(dx * dx + dy * dy + dz * dz);
  double geo_ns;
  if (net->cfg.kind == SIM_NET_SPHERE) {
    /* Chord length d on the unit sphere → arc 2·asin(d/2). Float rounding
     * can push d/2 a hair past 1 for antipodes. */
    double h = d * 0.5;
    geo_ns = 2.0 * net_asin01(h < 1.0 ? h : 1.0) * net->ns_per_unit;
  } else {
    geo_ns = d * net->ns_per_unit;
  }
  return ((uint64_t)pa->access_us + pb->access_us) * 1000u + (uint64_t)(geo_ns + 0.5);
}

void sim_net_prefetch(const sim_net *net, uint32_t peer) {
  if (peer >= net->peers_max) return;
  if (net->ts)
    __builtin_prefetch(&net->ts[peer]);
  else
    __builtin_prefetch(&net->geo[peer]);
}

void sim_net_prefetch_pair(const sim_net *net, uint32_t a, uint32_t b) {
  if (!net->ts || a >= net->peers_max || b >= net->peers_max) return;
  net_ts_peer pa = net->ts[a], pb = net->ts[b];
  if (pa.access_us == NET_UNPLACED || pb.access_us == NET_UNPLACED) return;
  __builtin_prefetch(&net->lat_us[(size_t)pa.router * net->routers + pb.router]);
}

uint32_t sim_net_router(const sim_net *net, uint32_t peer) {
  assert(peer < net->peers_max);
  if (!net->ts || net->ts[peer].access_us == NET_UNPLACED) return UINT32_MAX;
  return net->ts[peer].router;
}

uint32_t sim_net_access_us(const sim_net *net, uint32_t peer) {
  assert(peer < net->peers_max);
  uint16_t us = net->ts ? net->ts[peer].access_us : net->geo[peer].access_us;
  return us == NET_UNPLACED ? UINT32_MAX : us;
}

const sim_topo *sim_net_topo(const sim_net *net) {
  return net->topo;
}

sim_net_kind sim_net_kind_get(const sim_net *net) {
  return net->cfg.kind;
}

uint32_t sim_net_peers_max(const sim_net *net) {
  return net->peers_max;
}

size_t sim_net_mem_bytes(const sim_net *net) {
  size_t bytes = sizeof(*net);
  if (net->topo) bytes += sim_topo_mem_bytes(net->topo);
  if (net->ts) bytes += (size_t)net->peers_max * sizeof(*net->ts);
  if (net->geo) bytes += (size_t)net->peers_max * sizeof(*net->geo);
  return bytes;
}

int sim_net_kind_parse(const char *s, sim_net_kind *out) {
  if (!s || !out) return SC_ERR_INVALID;
  if (strcmp(s, "transit-stub") == 0)
    *out = SIM_NET_TRANSIT_STUB;
  else if (strcmp(s, "sphere") == 0)
    *out = SIM_NET_SPHERE;
  else if (strcmp(s, "plane") == 0)
    *out = SIM_NET_PLANE;
  else
    return SC_ERR_INVALID;
  return SC_OK;
}

const char *sim_net_kind_name(sim_net_kind kind) {
  switch (kind) {
  case SIM_NET_TRANSIT_STUB:
    return "transit-stub";
  case SIM_NET_SPHERE:
    return "sphere";
  case SIM_NET_PLANE:
    return "plane";
  }
  return "unknown";
}
