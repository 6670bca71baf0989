/*
 * stats.h — small measurement helpers for the simulator: a growable sample
 * vector with exact percentiles, integer histograms, and process facts.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/rng.h"

typedef struct sim_samples {
  double *v;
  size_t n, cap;
  double sum;
  int sorted;
} sim_samples;

void sim_samples_init(sim_samples *s);
void sim_samples_free(sim_samples *s);
int sim_samples_add(sim_samples *s, double x); /* 0 or -1 (out of memory) */
/* Room for cap samples in one allocation (no doubling later): 0 or -1. */
int sim_samples_reserve(sim_samples *s, size_t cap);
double sim_samples_mean(const sim_samples *s); /* NaN when empty */
/* The q-quantile (0..1), nearest-rank; sorts in place. NaN when empty. */
double sim_samples_quantile(sim_samples *s, double q);
double sim_samples_max(sim_samples *s);

/* Exact quantiles of more values than are worth keeping (16 M delay
 * penalties at 10^6 peers: 128 MB as doubles), for a caller that can offer
 * them twice in the same order. The first pass counts them in 2^20 bins of
 * their order-preserving IEEE-754 bits and sums them; the second keeps only
 * the values in the bins that hold the wanted ranks. Each answer, the mean
 * and the maximum are those sim_samples would give for the same values. */
#define SIM_SELECT_QUANTILES_MAX 4
typedef struct sim_select {
  uint64_t *bins; /* counts, first pass */
  uint64_t n;
  double sum, max;
  int pass; /* 1 or 2 */
  unsigned nq;
  double q[SIM_SELECT_QUANTILES_MAX];
  uint32_t bin[SIM_SELECT_QUANTILES_MAX];         /* the bin holding each rank */
  uint64_t rank_in_bin[SIM_SELECT_QUANTILES_MAX]; /* 1-based */
  sim_samples kept[SIM_SELECT_QUANTILES_MAX];
} sim_select;

/* For the nq (<= SIM_SELECT_QUANTILES_MAX) quantiles q (0..1); 0 or -1. */
int sim_select_init(sim_select *s, const double *q, unsigned nq);
/* Offer one value (not NaN) in the current pass; 0 or -1 (out of memory). */
int sim_select_offer(sim_select *s, double x);
/* End the first pass; then offer the same values again. */
void sim_select_second_pass(sim_select *s);
double sim_select_mean(const sim_select *s); /* NaN when empty */
double sim_select_max(const sim_select *s);  /* NaN when empty */
/* After the second pass: quantile i, nearest-rank, as sim_samples_quantile. */
double sim_select_quantile(sim_select *s, unsigned i);
void sim_select_free(sim_select *s);

/* A run's history in brief: equal for runs that did the same things. */
typedef struct sim_run_stats {
  uint64_t sim_events;   /* events processed */
  uint64_t trace_digest; /* a hash of the event history */
  double sim_time_s;     /* the simulated clock at the end */
} sim_run_stats;

/* What a run cost the machine: measured, not part of the run's history. */
typedef struct sim_machine_stats {
  double wall_s;       /* wall-clock seconds of the run */
  double events_per_s; /* simulated events per wall-clock second */
  double peak_rss_mb;  /* the process's peak resident set */
} sim_machine_stats;
/* The run that started at wall_start (sim_wall_s) and processed `events`. */
sim_machine_stats sim_machine_measure(double wall_start, uint64_t events);

/* Opens dir/name for writing; on failure says so on log (may be NULL),
 * prefixed by who, and returns NULL. */
FILE *sim_out_open(const char *dir, const char *name, FILE *log, const char *who);

/* Makes room for one more element in a growable array *v of *cap elements
 * of elem_size bytes holding n: doubles *cap (from first_cap) when full.
 * Returns 0, or -1 with *v untouched when out of memory. */
int sim_array_grow(void **v, size_t *cap, size_t n, size_t elem_size, size_t first_cap);

/* Paces progress lines: true, with *last_s set to the wall clock (sim_wall_s)
 * in *now_s, when forced or interval_s has passed since *last_s. */
bool sim_progress_due(double *last_s, double interval_s, bool force, double *now_s);

/* An exponential gap with mean mean_ns (Poisson arrivals), at least 1 ns. */
uint64_t sim_exp_gap_ns(sc_rng *r, uint64_t mean_ns);

/* Peak resident set size of this process, in MiB. */
double sim_peak_rss_mb(void);
/* Monotonic wall-clock seconds (the simulator, not the core, may read it). */
double sim_wall_s(void);

#endif
