/*
 * capacity.h — per-peer desired in-degree I and forwarding capacity C for
 * the SplitStream evaluation's configurations (splitstream-pastry-scribe.md,
 * "The SplitStream evaluation"; docs/capacity.md has the sources, the
 * formulas and the resulting distributions).
 *
 * I is the number of stripes a peer wants; C is the number of children it
 * accepts, summed over all stripes. With k stripes (16 in the paper):
 *
 *   16x16     I = k, C = k
 *   16x18     I = k, C = k + ⌈k/8⌉        (18 for k = 16)
 *   16x32     I = k, C = 2k
 *   16xNB     I = k, C = SIM_CAP_UNBOUNDED (no bound)
 *   dxd       I = C = d, d uniform in 1..k (the paper's range is unconfirmed)
 *   gnutella  I = k, C = ⌊b · k / SIM_CAP_GNUTELLA_STREAM_KBPS⌋, with b an
 *             upstream bandwidth in kbps drawn from an approximation of the
 *             Gnutella measurements of Saroiu, Gummadi & Gribble (MMCN 2002)
 *
 * SplitStream's feasibility conditions (§3 of the paper, as summarized in the
 * reference doc): Σ I ≤ Σ C, and a peer whose C exceeds its I receives all k
 * stripes. Every configuration here meets the second by construction (either
 * I = k or C = I); docs/capacity.md shows the first for each.
 *
 * Draws are a pure function of (seed, peer): no state, any order, and a peer
 * keeps its draw however many peers a run has. The same seed gives every
 * configuration the same underlying uniform per peer (common random numbers
 * across configurations). The only randomness is core/rng.h.
 */
#ifndef SIM_CAPACITY_H
#define SIM_CAPACITY_H

#include <stdint.h>

/* Bound on k: keeps 2k and b·k far from overflow; SplitStream uses
 * k = 2^b = 16 and b ≤ 8 would give 256. */
#define SIM_CAP_STRIPES_MAX 256u

/* C for 16xNB: "no bound". */
#define SIM_CAP_UNBOUNDED UINT32_MAX

/* The stream rate assumed by "gnutella", in kbps: each of k stripes carries
 * 384/k kbps (24 kbps for k = 16). 384 kbps is the median of the upstream
 * bandwidth model, so the median peer forwards exactly one stream's worth
 * (C = 16 = I); see docs/capacity.md. */
#define SIM_CAP_GNUTELLA_STREAM_KBPS 384u

typedef enum {
  SIM_CAP_16X16,
  SIM_CAP_16X18,
  SIM_CAP_16X32,
  SIM_CAP_16XNB,
  SIM_CAP_DXD,
  SIM_CAP_GNUTELLA,
} sim_cap_kind;

/* Parses "16x16", "16x18", "16x32", "16xNB", "dxd" or "gnutella" (exact
 * spelling). Errors: SC_ERR_INVALID (s or out NULL, or another string;
 * *out untouched). */
int sim_cap_parse(const char *s, sim_cap_kind *out);

/* The name sim_cap_parse accepts for kind; "unknown" otherwise. Static. */
const char *sim_cap_name(sim_cap_kind kind);

/* Peer's desired in-degree and forwarding capacity under configuration kind
 * with `stripes` stripes (the table above). *capacity is SIM_CAP_UNBOUNDED
 * for 16xNB. Asserts 1 ≤ stripes ≤ SIM_CAP_STRIPES_MAX, a known kind, and
 * both out pointers non-NULL. */
void sim_cap_draw(sim_cap_kind kind, uint64_t seed, uint32_t peer, uint32_t stripes,
                  uint32_t *in_degree, uint32_t *capacity);

/* sim_cap_draw for peer i of an experiment whose source is peer `source`:
 * the source wants nothing but forwards up to `stripes` children (unbounded
 * under 16xNB), so that it can serve a stripe it happens to be the root of. */
void sim_cap_draw_or_source(sim_cap_kind kind, uint64_t seed, uint32_t peer,
                            uint32_t source, uint32_t stripes, uint32_t *in_degree,
                            uint32_t *capacity);

/* The upstream bandwidth, in kbps, that "gnutella" gives peer (the b of the
 * table), from the same (seed, peer) draw. For reports and tests. */
double sim_cap_gnutella_kbps(uint64_t seed, uint32_t peer);

#endif
