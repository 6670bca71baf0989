/* stats.c — measurement helpers (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

void sim_samples_init(sim_samples *s) {
  s->v = NULL;
  s->n = s->cap = 0;
  s->sum = 0;
  s->sorted = 1;
}

void sim_samples_free(sim_samples *s) {
  free(s->v);
  sim_samples_init(s);
}

int sim_samples_add(sim_samples *s, double x) {
  if (s->n == s->cap) {
    size_t ncap = s->cap ? 2 * s->cap : 1024;
    double *n = realloc(s->v, ncap * sizeof(double));
    if (n == NULL) return -1;
    s->v = n;
    s->cap = ncap;
  }
  s->v[s->n++] = x;
  s->sum += x;
  s->sorted = 0;
  return 0;
}

int sim_samples_reserve(sim_samples *s, size_t cap) {
  if (cap <= s->cap) return 0;
  double *n = realloc(s->v, cap * sizeof(double));
  if (n == NULL) return -1;
  s->v = n;
  s->cap = cap;
  return 0;
}

double sim_samples_mean(const sim_samples *s) { return s->n ? s->sum / (double)s->n : NAN; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double sim_samples_quantile(sim_samples *s, double q) {
  if (s->n == 0) return NAN;
  if (!s->sorted) {
    qsort(s->v, s->n, sizeof(double), cmp_double);
    s->sorted = 1;
  }
  if (q <= 0) return s->v[0];
  size_t rank = (size_t)ceil(q * (double)s->n);
  if (rank < 1) rank = 1;
  if (rank > s->n) rank = s->n;
  return s->v[rank - 1];
}

double sim_samples_max(sim_samples *s) { return sim_samples_quantile(s, 1.0); }

double sim_peak_rss_mb(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
  return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

double sim_wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
