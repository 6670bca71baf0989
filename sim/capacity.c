/*
 * capacity.c — in-degree and forwarding capacity per configuration (see
 * capacity.h for the table and docs/capacity.md for the sources).
 */
#include "sim/capacity.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"

/* Domain separation from the other per-peer streams derived from the run
 * seed (placement uses its own tag in netmodel.c). */
#define CAP_TAG 0x6361706163697479ULL /* "capacity" */

static const struct {
  sim_cap_kind kind;
  const char *name;
} cap_names[] = {
    {SIM_CAP_16X16, "16x16"}, {SIM_CAP_16X18, "16x18"}, {SIM_CAP_16X32, "16x32"},
    {SIM_CAP_16XNB, "16xNB"}, {SIM_CAP_DXD, "dxd"},     {SIM_CAP_GNUTELLA, "gnutella"},
};

#define CAP_KINDS (sizeof(cap_names) / sizeof(cap_names[0]))

int sim_cap_parse(const char *s, sim_cap_kind *out) {
  if (!s || !out) return SC_ERR_INVALID;
  for (size_t i = 0; i < CAP_KINDS; i++)
    if (strcmp(s, cap_names[i].name) == 0) {
      *out = cap_names[i].kind;
      return SC_OK;
    }
  return SC_ERR_INVALID;
}

const char *sim_cap_name(sim_cap_kind kind) {
  for (size_t i = 0; i < CAP_KINDS; i++)
    if (cap_names[i].kind == kind) return cap_names[i].name;
  return "unknown";
}

/* The peer's uniform in [0, 1): the single draw every configuration uses. */
static double cap_unit(uint64_t seed, uint32_t peer) {
  sc_rng r;
  sc_rng_seed(&r, sc_mix64(seed ^ CAP_TAG) + peer);
  return sc_rng_unit(&r);
}

/* Upstream bottleneck bandwidth of Gnutella peers: an approximation of the
 * CDF measured by Saroiu, Gummadi & Gribble (MMCN 2002, the upstream curve
 * of their bottleneck-bandwidth figure), as (kbps, fraction of peers at or
 * below). Only the 100 kbps point (22% of peers at or below) comes from the
 * paper's text as we recall it; the others are our reading of the curve's
 * shape (modems at the bottom, asymmetric DSL and cable in the middle,
 * T1/T3 and campus LANs at the top) and are approximations: docs/capacity.md.
 * Between anchors the CDF is linear in log(bandwidth). */
static const struct {
  double kbps;
  double cdf;
} cap_gnutella_up[] = {
    {10.0, 0.00},   {56.0, 0.12},   {100.0, 0.22},   {384.0, 0.50},
    {1000.0, 0.70}, {5000.0, 0.88}, {10000.0, 0.93}, {100000.0, 1.00},
};

#define CAP_GNUTELLA_ANCHORS (sizeof(cap_gnutella_up) / sizeof(cap_gnutella_up[0]))

static double cap_gnutella_inverse(double u) {
  size_t i = 1;
  while (i < CAP_GNUTELLA_ANCHORS - 1 && u >= cap_gnutella_up[i].cdf)
    i++;
  double c0 = cap_gnutella_up[i - 1].cdf, c1 = cap_gnutella_up[i].cdf;
  double l0 = log(cap_gnutella_up[i - 1].kbps), l1 = log(cap_gnutella_up[i].kbps);
  return exp(l0 + (u - c0) / (c1 - c0) * (l1 - l0));
}

double sim_cap_gnutella_kbps(uint64_t seed, uint32_t peer) {
  return cap_gnutella_inverse(cap_unit(seed, peer));
}

void sim_cap_draw(sim_cap_kind kind, uint64_t seed, uint32_t peer, uint32_t stripes,
                  uint32_t *in_degree, uint32_t *capacity) {
  assert(stripes >= 1 && stripes <= SIM_CAP_STRIPES_MAX);
  assert(in_degree && capacity);
  uint32_t k = stripes;
  switch (kind) {
  case SIM_CAP_16X16:
    *in_degree = k;
    *capacity = k;
    return;
  case SIM_CAP_16X18:
    *in_degree = k;
    *capacity = k + (k + 7) / 8;
    return;
  case SIM_CAP_16X32:
    *in_degree = k;
    *capacity = 2 * k;
    return;
  case SIM_CAP_16XNB:
    *in_degree = k;
    *capacity = SIM_CAP_UNBOUNDED;
    return;
  case SIM_CAP_DXD: {
    /* u < 1, so d ≤ k. */
    uint32_t d = 1 + (uint32_t)(cap_unit(seed, peer) * k);
    *in_degree = d;
    *capacity = d;
    return;
  }
  case SIM_CAP_GNUTELLA: {
    /* A stripe carries STREAM_KBPS / k; a peer forwards as many stripe
     * copies as its upstream holds. ≤ 100,000 · 256 / 384 < 2^17. */
    double b = sim_cap_gnutella_kbps(seed, peer);
    *in_degree = k;
    *capacity = (uint32_t)floor(b * k / SIM_CAP_GNUTELLA_STREAM_KBPS);
    return;
  }
  }
  assert(!"unknown sim_cap_kind");
  *in_degree = k;
  *capacity = k;
}

void sim_cap_draw_or_source(sim_cap_kind kind, uint64_t seed, uint32_t peer,
                            uint32_t source, uint32_t stripes, uint32_t *in_degree,
                            uint32_t *capacity) {
  if (peer != source) {
    sim_cap_draw(kind, seed, peer, stripes, in_degree, capacity);
    return;
  }
  *in_degree = 0;
  *capacity = kind == SIM_CAP_16XNB ? SIM_CAP_UNBOUNDED : stripes;
}
