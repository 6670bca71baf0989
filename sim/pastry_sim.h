/*
 * pastry_sim.h — the `stripecast-sim pastry` experiment: N peers join a Pastry
 * overlay over a modelled Internet, optionally a fraction crash at once, then
 * peers look up random keys while a global oracle judges every delivery.
 *
 * Timeline (simulated time):
 *   joins      Poisson arrivals at join_rate; each newcomer joins through a
 *              nearby peer (the nearest of 64 sampled joined peers: Pastry §2.4
 *              assumes a newcomer knows a nearby peer);
 *   settle     settle_s after the last arrival, so leaf sets stabilise;
 *   crash      if fail_fraction > 0: that fraction of live peers crash at once
 *              (no goodbye), followed by repair_s of quiet repair;
 *   lookups    L lookups at lookup_rate from random live peers to random keys;
 *   drain      30 s for the last lookups (and their retries) to finish.
 */
#ifndef SIM_PASTRY_SIM_H
#define SIM_PASTRY_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/msg.h"
#include "sim/netmodel.h"
#include "sim/stats.h"

typedef struct sim_pastry_params {
  uint32_t peers;   /* N >= 1 */
  uint64_t lookups; /* L */
  uint64_t seed;
  sim_net_kind topology;
  double fail_fraction;    /* [0, 1) */
  double join_rate;        /* arrivals per simulated second; 0: automatic */
  double settle_s;         /* quiet time after the last arrival */
  double repair_s;         /* quiet time after the crash, before lookups */
  double lookup_rate;      /* lookups per simulated second; 0: L over 10 s */
  double loss;             /* probability that any message is lost, [0, 1) */
  bool pns;                /* proximity neighbour selection */
  uint32_t refine_per_row; /* sc_pastry_config.refine_per_row */
  double rt_maintenance_s; /* sc_pastry_config.rt_maintenance_ns, in s */
  bool wire_check;         /* send every message through encode and decode */
  bool progress;           /* progress lines on the log stream */
  const char *out_dir;     /* hops.csv goes here; NULL: no files */
} sim_pastry_params;

void sim_pastry_params_default(sim_pastry_params *p);

#define SIM_PASTRY_HOPS_MAX 64

typedef struct sim_pastry_result {
  uint32_t peers, peers_alive, peers_crashed;
  uint32_t peers_not_joined; /* live peers whose join never completed */
  uint64_t lookups, lookups_delivered, lookups_correct;
  double correct_fraction;
  double hops_mean, hops_p50, hops_p99, hops_max;
  double rdp_mean, rdp_p50, rdp_p95;
  double lookup_latency_ms_mean;
  uint64_t hop_hist[SIM_PASTRY_HOPS_MAX + 1];
  uint64_t messages, messages_lost, bytes;
  uint64_t messages_by_type[SC_MSG_TYPE_END];
  double messages_per_peer, bytes_per_peer_sent;
  uint32_t leafset_errors_settled; /* peers whose leaf set differs from the truth */
  uint32_t leafset_errors_final;
  double rt_entries_mean;
  double state_bytes_per_peer; /* core state through its allocator */
  uint64_t peers_declared_dead;
  uint64_t false_deaths; /* live peers some peer declared dead */
  uint64_t reroutes, routes_dropped;
  uint64_t wire_errors; /* --wire-check disagreements */
  double join_end_s, lookup_start_s;
  sim_run_stats run;
  sim_machine_stats machine;
} sim_pastry_result;

/*
 * Runs the experiment. Progress and warnings go to log (may be NULL).
 * Returns 0, or -1 with a message on log (out of memory, bad out_dir).
 */
int sim_pastry_run(const sim_pastry_params *p, sim_pastry_result *r, FILE *log);

/* Prints r as one JSON object on f. */
void sim_pastry_result_json(const sim_pastry_params *p, const sim_pastry_result *r,
                            FILE *f, bool pretty);

#endif
