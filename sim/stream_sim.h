/*
 * stream_sim.h — the `stripecast-sim stream` experiment: a live stream over
 * the SplitStream forest with erasure coding across stripes, repair pulls,
 * churn, loss and per-peer upstream queues (docs/ARCHITECTURE.md §3–4; docs/stream.md,
 * docs/churn.md).
 *
 * Timeline (simulated time):
 *   overlay   N peers join Pastry (Poisson arrivals), then settle_s of quiet;
 *   forest    every receiver subscribes to its stripes (spread over spread_s)
 *             and the forest gets build_wait_s to build;
 *   stream    at T0 peer 0, the source, starts publishing: one generation of
 *             d data + p parity chunks every d * chunk_bytes * 8 / rate
 *             seconds, each chunk down its own stripe tree. The churn
 *             schedule (`--churn`, its times counted from T0) crashes peers,
 *             lets them leave politely (grace_s of forwarding, then gone) and
 *             brings new ones, who join Pastry, subscribe, and play;
 *   end       at T0 + duration_s; generations still inside a receiver's
 *             playout buffer then are not counted.
 *
 * Continuity is counted per session (a peer from its first chunk to its
 * departure or the end): generations delivered whole before their deadline
 * over generations resolved (delivered or lost).
 */
#ifndef SIM_STREAM_SIM_H
#define SIM_STREAM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/capacity.h"
#include "sim/netmodel.h"
#include "sim/stats.h"

typedef struct sim_stream_params {
  uint32_t peers; /* N >= 2 at T0; peer 0 is the source */
  sim_cap_kind config;
  sim_net_kind topology;
  uint64_t seed;
  uint32_t stripes;     /* k = d + p */
  uint32_t fec_data;    /* d */
  uint32_t fec_parity;  /* p; 0: no coding */
  double rate_kbps;     /* the stream's rate before coding */
  uint32_t chunk_bytes; /* payload per chunk */
  double buffer_ms;     /* playout delay */
  const char *churn;    /* churn spec (docs/churn.md); NULL: none */
  double loss;          /* per-message loss probability */
  double duration_s;    /* streaming time */
  bool repair;          /* repair pulls on */
  bool catchup;         /* asks of a new parent on re-attaching (needs repair) */
  /* A late receiver asks each first parent for this many of its newest
   * generations and starts from them (sc_channel_config.backfill_gens, what
   * the runtime's station listeners use); 0: off, the default. */
  uint32_t backfill_gens;
  double repair_wait_ms;  /* lateness before asking */
  double uplink_headroom; /* uplink = headroom x (capacity/k) x coded rate
                             + control allowance; 0: unlimited */
  double grace_s;         /* polite departure: forwarding after goodbye */
  double settle_s, spread_s, build_wait_s, join_rate;
  /* A stripe cut: at T0 + cut_at_s every peer that forwards only in stripes
   * [0, cut_stripes) (and the roots of those stripes) crashes, so each
   * receiver loses at most those stripes until the trees repair. 0: none. */
  uint32_t cut_stripes;
  double cut_at_s;
  /* A partition that heals: from T0 + partition_at_s for partition_for_s,
   * the peers of a side drawn by the seed (each with probability
   * partition_fraction; never the source) and the rest hear nothing from
   * each other. 0: none. */
  double partition_fraction, partition_at_s, partition_for_s;
  /* The fault sweep's checks (sim_stream_invariants) during and at the end
   * of the run; peers that subscribed within the last quiet_s are not held
   * to the ones that need time (attached, playing to the end). */
  bool invariants;
  double quiet_s;
  double calm_at_s; /* loss stops at T0 + calm_at_s; 0: never */
  /* A test of the checks: the source sends generation 3 with one byte
   * changed (payload mode), which every receiver must report. */
  bool inject_corruption;
  uint32_t refine_per_row;
  bool payload; /* real bytes (checked at delivery); else symbolic */
  /* The signed stream (core/auth.h; needs payload): the source signs with a
   * key derived from the seed, every receiver verifies. Off by default. */
  bool sign;
  /* Forging relays: peers 1..forgers alter every chunk they forward or
   * serve (sim_world_config.forgers). */
  uint32_t forgers;
  bool wire_check;
  bool progress;
  const char *out_dir;
} sim_stream_params;

void sim_stream_params_default(sim_stream_params *p);

/* Invariants of a run (params.invariants): each counts violations, so a
 * sound run has all zero. "Settled" peers are survivors that subscribed at
 * least quiet_s before the end. */
typedef struct sim_stream_invariants {
  uint32_t cycles;          /* (stripe, chain) parent walks that loop, at the end */
  uint32_t extra_roots;     /* roots beyond one per stripe that survivors reach */
  uint32_t unattached;      /* (settled survivor, stripe): no way to a live root */
  uint32_t capacity_excess; /* (peer, tick): children > capacity + root allowance */
  uint32_t order_breaks;    /* generations resolved out of order, twice or skipped */
  uint32_t stalled;         /* settled survivors whose playout stopped short */
  uint32_t stuck_joining;   /* arrivals quiet_s before the end that never subscribed */
  uint32_t accounting;      /* sessions whose counts differ from the core's own */
} sim_stream_invariants;

typedef struct sim_stream_result {
  sim_run_stats run;         /* events, trace digest, simulated time */
  sim_machine_stats machine; /* wall clock and memory of this run */
  uint32_t peers_total;      /* sessions, source included */
  uint32_t sessions;         /* receiver sessions that resolved a generation */
  uint32_t survivors;        /* receivers online at the end */
  uint32_t crashes, polite_departures, arrivals;
  uint32_t cut_crashes; /* peers the stripe cut crashed */
  uint64_t gens_published;
  double continuity_mean, continuity_p01, continuity_min;
  double survivors_continuity_mean, survivors_continuity_p01;
  double generations_lost_fraction;
  double complete_sessions_fraction; /* sessions that lost no generation */
  double startup_ms_p50, startup_ms_p95;
  double lag_ms_p50, lag_ms_p95;
  double repair_pull_fraction;      /* chunks got by repair / chunks stored */
  double control_overhead_fraction; /* non-payload bytes / payload bytes */
  uint64_t repair_asks, repair_chunks_got, chunks_stored, catchup_asks;
  /* Backfill requests sent; generations receivers played from before their
   * first chunk down a stripe (bought by the backfill or a catch-up). */
  uint64_t backfill_asks, backfilled_gens;
  uint64_t payload_mismatches; /* payload mode: delivered bytes != sent bytes */
  /* Signed stream: chunks the forgers altered, and what receivers judged. */
  uint64_t forged_sent, chunks_forged, chunks_good, auth_parent_switches, sig_checks;
  uint64_t messages, messages_lost, uplink_drops, repair_shed, bytes, payload_bytes;
  uint64_t messages_cut; /* dropped by the partition */
  sim_stream_invariants inv;
} sim_stream_result;

/* Runs the experiment; progress and errors on log (may be NULL). Returns 0,
 * -1 on a failure (message on log), or 2 for a bad churn spec. */
int sim_stream_run(const sim_stream_params *p, sim_stream_result *r, FILE *log);

void sim_stream_result_json(const sim_stream_params *p, const sim_stream_result *r,
                            FILE *f, bool pretty);

#endif
