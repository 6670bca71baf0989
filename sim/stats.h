/*
 * stats.h — small measurement helpers for the simulator: a growable sample
 * vector with exact percentiles, integer histograms, and process facts.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

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

/* Peak resident set size of this process, in MiB. */
double sim_peak_rss_mb(void);
/* Monotonic wall-clock seconds (the simulator, not the core, may read it). */
double sim_wall_s(void);

#endif
