/* stats.c — measurement helpers (see stats.h). */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
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
  void *v = s->v;
  if (sim_array_grow(&v, &s->cap, s->n, sizeof(double), 1024) != 0) return -1;
  s->v = v;
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

double sim_samples_mean(const sim_samples *s) {
  return s->n ? s->sum / (double)s->n : NAN;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void samples_sort(sim_samples *s) {
  if (!s->sorted) {
    qsort(s->v, s->n, sizeof(double), cmp_double);
    s->sorted = 1;
  }
}

/* Nearest rank of quantile q among n > 0 values, 1-based. */
static uint64_t rank_of(double q, uint64_t n) {
  if (q <= 0) return 1;
  uint64_t rank = (uint64_t)ceil(q * (double)n);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return rank;
}

double sim_samples_quantile(sim_samples *s, double q) {
  if (s->n == 0) return NAN;
  samples_sort(s);
  return s->v[rank_of(q, s->n) - 1];
}

double sim_samples_max(sim_samples *s) {
  return sim_samples_quantile(s, 1.0);
}

#define SELECT_BIN_BITS 20

/* The top bits of x's bits, mapped so that unsigned order is numeric order
 * (negatives flipped whole, positives with the sign bit set). */
static uint32_t select_bin(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  b = (b >> 63) ? ~b : b | (1ull << 63);
  return (uint32_t)(b >> (64 - SELECT_BIN_BITS));
}

int sim_select_init(sim_select *s, const double *q, unsigned nq) {
  memset(s, 0, sizeof *s);
  if (nq > SIM_SELECT_QUANTILES_MAX) return -1;
  s->bins = calloc((size_t)1 << SELECT_BIN_BITS, sizeof(uint64_t));
  if (!s->bins) return -1;
  s->pass = 1;
  s->nq = nq;
  for (unsigned i = 0; i < nq; i++) {
    s->q[i] = q[i];
    sim_samples_init(&s->kept[i]);
  }
  return 0;
}

int sim_select_offer(sim_select *s, double x) {
  uint32_t b = select_bin(x);
  if (s->pass == 1) {
    s->bins[b]++;
    if (s->n == 0 || x > s->max) s->max = x;
    s->n++;
    s->sum += x;
    return 0;
  }
  for (unsigned i = 0; i < s->nq; i++)
    if (b == s->bin[i] && sim_samples_add(&s->kept[i], x) != 0) return -1;
  return 0;
}

void sim_select_second_pass(sim_select *s) {
  s->pass = 2;
  for (unsigned i = 0; i < s->nq; i++) {
    if (s->n == 0) continue;
    uint64_t rank = rank_of(s->q[i], s->n), below = 0;
    uint32_t b = 0;
    while (below + s->bins[b] < rank)
      below += s->bins[b++];
    s->bin[i] = b;
    s->rank_in_bin[i] = rank - below;
  }
}

double sim_select_mean(const sim_select *s) {
  return s->n ? s->sum / (double)s->n : NAN;
}
double sim_select_max(const sim_select *s) {
  return s->n ? s->max : NAN;
}

double sim_select_quantile(sim_select *s, unsigned i) {
  if (i >= s->nq || s->n == 0 || s->pass != 2) return NAN;
  sim_samples *k = &s->kept[i];
  if (k->n < s->rank_in_bin[i]) return NAN; /* not offered the same values */
  samples_sort(k);
  return k->v[s->rank_in_bin[i] - 1];
}

void sim_select_free(sim_select *s) {
  free(s->bins);
  for (unsigned i = 0; i < s->nq; i++)
    sim_samples_free(&s->kept[i]);
  memset(s, 0, sizeof *s);
}

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

sim_machine_stats sim_machine_measure(double wall_start, uint64_t events) {
  sim_machine_stats m;
  m.wall_s = sim_wall_s() - wall_start;
  m.events_per_s = m.wall_s > 0 ? (double)events / m.wall_s : 0;
  m.peak_rss_mb = sim_peak_rss_mb();
  return m;
}

FILE *sim_out_open(const char *dir, const char *name, FILE *log, const char *who) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f && log) fprintf(log, "%s: cannot write %s: %s\n", who, path, strerror(errno));
  return f;
}

uint64_t sim_exp_gap_ns(sc_rng *r, uint64_t mean_ns) {
  double u = sc_rng_unit(r);
  return (uint64_t)(-log(1.0 - u) * (double)mean_ns) + 1;
}

int sim_array_grow(void **v, size_t *cap, size_t n, size_t elem_size, size_t first_cap) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? 2 * *cap : first_cap;
  void *nv = realloc(*v, ncap * elem_size);
  if (!nv) return -1;
  *v = nv;
  *cap = ncap;
  return 0;
}

bool sim_progress_due(double *last_s, double interval_s, bool force, double *now_s) {
  *now_s = sim_wall_s();
  if (!force && *now_s - *last_s < interval_s) return false;
  *last_s = *now_s;
  return true;
}
