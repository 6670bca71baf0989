/*
 * test_stats.c — the simulator's measurement helpers (sim/stats.h).
 *
 * sim_select, which finds quantiles in two passes without keeping the
 * values, must give exactly what sim_samples gives for the same values:
 * the forest's delay penalties are reported through it, and results must
 * not depend on how much memory a run had.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "sim/stats.h"

static const double qs[] = {0.0, 0.01, 0.5, 0.9};

/* Runs both on values, checks every answer equal (bit for bit). */
static void check_same(const double *values, size_t n) {
  sim_samples ref;
  sim_samples_init(&ref);
  sim_select sel;
  assert_int_equal(sim_select_init(&sel, qs, 4), 0);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(sim_samples_add(&ref, values[i]), 0);
    assert_int_equal(sim_select_offer(&sel, values[i]), 0);
  }
  sim_select_second_pass(&sel);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(sim_select_offer(&sel, values[i]), 0);
  if (n == 0) {
    assert_true(isnan(sim_select_mean(&sel)));
    assert_true(isnan(sim_select_max(&sel)));
    assert_true(isnan(sim_select_quantile(&sel, 2)));
  } else {
    assert_true(sim_select_mean(&sel) == sim_samples_mean(&ref));
    assert_true(sim_select_max(&sel) == sim_samples_max(&ref));
    for (unsigned i = 0; i < 4; i++)
      assert_true(sim_select_quantile(&sel, i) == sim_samples_quantile(&ref, qs[i]));
  }
  sim_select_free(&sel);
  sim_samples_free(&ref);
}

static void test_select_matches_samples(void **state) {
  (void)state;
  enum { N = 200000 };
  double *v = malloc(N * sizeof(double));
  assert_non_null(v);
  sc_rng rng;
  sc_rng_seed(&rng, 7);
  /* Spread over many binades, with runs of duplicates and a dense cluster
   * (one bin holding most values), as delay penalties are. */
  for (size_t i = 0; i < N; i++) {
    uint64_t r = sc_rng_next(&rng);
    if (i % 5 == 0)
      v[i] = 4.0 + (double)(r % 1000) * 1e-9;
    else if (i % 7 == 0)
      v[i] = 12.5;
    else
      v[i] = ldexp((double)(r >> 11) * 0x1p-53, (int)(r % 20) - 6);
  }
  check_same(v, N);
  check_same(v, 1);
  check_same(v, 2);
  check_same(v, 0);
  /* Negative values and zeros order correctly too. */
  double mixed[] = {3.5, -2.0, 0.0, -1e-300, 1e300, -7.25, 0.5, 0.0, -2.0};
  check_same(mixed, sizeof mixed / sizeof mixed[0]);
  free(v);
}

static void test_select_too_many_quantiles(void **state) {
  (void)state;
  double q[SIM_SELECT_QUANTILES_MAX + 1] = {0};
  sim_select sel;
  assert_int_equal(sim_select_init(&sel, q, SIM_SELECT_QUANTILES_MAX + 1), -1);
  sim_select_free(&sel);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_select_matches_samples),
      cmocka_unit_test(test_select_too_many_quantiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
