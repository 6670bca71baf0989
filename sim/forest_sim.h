/*
 * forest_sim.h — the `stripecast-sim forest` experiment: the SplitStream
 * forest construction of the SOSP 2003 evaluation (§5.2–5.4; the
 * published results and our deviations: papers/splitstream-sosp03/README.md).
 *
 * Timeline (simulated time):
 *   overlay   N peers join Pastry (Poisson arrivals, each through a nearby
 *             peer), then settle_s of quiet;
 *   build     at T0 every receiver subscribes to the stripes it wants (spread
 *             over spread_s); the forest is *built* at the first moment
 *             (checked whenever the last wanted stripe attaches, and every
 *             second) at which every live receiver is attached to every stripe
 *             it wants and each parent chain ends at that stripe's root;
 *             build_s = that time - T0 (null if build_max_s passes first);
 *   publish   peer 0, the source (in-degree 0, capacity k), publishes one
 *             message on every stripe; each arrival gives a depth and a delay
 *             penalty (tree delay / direct unicast delay from the source), and
 *             each copy on the wire a count of link stress (transit-stub);
 *   failure   optionally, fail_fraction of the receivers crash at once; the
 *             forest repairs itself and a second message measures it.
 */
#ifndef SIM_FOREST_SIM_H
#define SIM_FOREST_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/capacity.h"
#include "sim/netmodel.h"
#include "sim/stats.h"

typedef struct sim_forest_params {
  uint32_t peers;      /* N >= 2; peer 0 is the source */
  sim_cap_kind config; /* per-peer in-degree and capacity */
  sim_net_kind topology;
  uint64_t seed;
  uint32_t stripes;        /* k: 1, 2, 4, 8 or 16 */
  double join_rate;        /* Pastry arrivals per s; 0: N/100 within [10, 2000] */
  double settle_s;         /* quiet after the last arrival; 60 */
  double spread_s;         /* subscriptions spread over this window; 1 */
  double build_max_s;      /* give up on completion after this; 900 */
  double fail_fraction;    /* receivers crashing at once after the build; 0 */
  double repair_max_s;     /* give up on repair after this; 600 */
  double loss;             /* message loss probability, [0, 1) */
  uint32_t refine_per_row; /* Pastry's locality refinement; 4 */
  bool baselines;          /* also central server and IP multicast link stress */
  bool wire_check;
  bool progress;
  const char *out_dir; /* per-peer CSVs and time series; NULL: none */
} sim_forest_params;

void sim_forest_params_default(sim_forest_params *p);

typedef struct sim_linkstress_row {
  double mean;
  uint64_t max;
  uint64_t links;
} sim_linkstress_row;

typedef struct sim_forest_result {
  sim_run_stats run;         /* events, trace digest, simulated time */
  sim_machine_stats machine; /* wall clock and memory of this run */
  uint32_t peers, receivers;
  double build_s; /* NaN: not complete within build_max_s */
  uint32_t complete_peers;
  double complete_fraction;  /* receivers that got every stripe they want */
  double msgs_per_peer_mean; /* forest messages handled during the build */
  uint64_t msgs_per_peer_max;
  uint32_t children_max;
  double children_mean;
  uint32_t capacity_violations; /* peers whose children exceed capacity, ever */
  double multi_interior_fraction;
  uint64_t nonprimary_children; /* children held in non-primary stripes */
  uint64_t
      nonprimary_interior; /* (peer, stripe) interior, stripe not primary, not root */
  uint64_t root_overflows; /* children full roots took in their own stripe */
  double depth_mean;
  uint32_t depth_max;
  double delay_penalty_mean, delay_penalty_p50, delay_penalty_p90, delay_penalty_max;
  bool have_link_stress;
  sim_linkstress_row link_stress, central_server, ip_multicast;
  uint32_t cycles, wrong_roots, unattached; /* tree checks at the end of the build */
  uint64_t anycast_failures, pushdowns, spare_anycasts, tree_anycasts;
  uint64_t drops_primary, drops_nonprimary, loops_refused, loops_passed, loops_broken;
  uint64_t anycast_steps; /* peers an anycast visited after the first */
  /* Tree edges on a receiver's path to the stripe's root, mean over
   * (receiver, stripe): by how the child found that parent (index:
   * sc_splitstream_via), and those whose parent does not forward the stripe
   * as its primary, or between two primary forwarders where the parent
   * shares no longer a prefix with the stripe id (flat, by kind).
   * parent_via_fraction: the receiver's own edge. */
  double depth_via_mean[5], depth_nonprimary_mean, depth_flat_mean[5];
  double parent_via_fraction[5];
  /* failure phase */
  uint32_t crashed;
  double repair_s;                /* NaN: not repaired within repair_max_s */
  double complete_fraction_after; /* survivors with every stripe, 2nd message */
  double repair_msgs_per_peer;
  uint64_t messages, bytes;
  double state_bytes_per_peer;
  double scribe_bytes_per_peer; /* of which Scribe and SplitStream */
} sim_forest_result;

/* Runs the experiment; progress and warnings on log (may be NULL). Returns 0,
 * or -1 with a message on log. */
int sim_forest_run(const sim_forest_params *p, sim_forest_result *r, FILE *log);

void sim_forest_result_json(const sim_forest_params *p, const sim_forest_result *r,
                            FILE *f, bool pretty);

#endif
