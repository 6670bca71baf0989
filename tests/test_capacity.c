/*
 * test_capacity.c — in-degree and forwarding capacity per configuration
 * (sim/capacity.h). Statistical checks use 40,000 peers, the paper's size,
 * and fixed seeds; their tolerances are several standard errors wide.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "core/err.h"
#include "sim/capacity.h"

#define N 40000u

static const sim_cap_kind all_kinds[] = {SIM_CAP_16X16, SIM_CAP_16X18, SIM_CAP_16X32,
                                         SIM_CAP_16XNB, SIM_CAP_DXD,   SIM_CAP_GNUTELLA};

static void test_parse_name(void **state) {
  (void)state;
  static const char *names[] = {"16x16", "16x18", "16x32", "16xNB", "dxd", "gnutella"};
  for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
    sim_cap_kind k;
    assert_string_equal(sim_cap_name(all_kinds[i]), names[i]);
    assert_int_equal(sim_cap_parse(names[i], &k), SC_OK);
    assert_int_equal(k, all_kinds[i]);
    assert_int_equal(sim_cap_parse(sim_cap_name(all_kinds[i]), &k), SC_OK);
    assert_int_equal(k, all_kinds[i]);
  }
  static const char *bad[] = {"",         "16X16",     "16xnb", "16x17", "DxD",
                              "Gnutella", "gnutella ", " dxd",  "16x",   "16x16x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sim_cap_kind k = SIM_CAP_DXD;
    assert_int_equal(sim_cap_parse(bad[i], &k), SC_ERR_INVALID);
    assert_int_equal(k, SIM_CAP_DXD); /* untouched */
  }
  sim_cap_kind k;
  assert_int_equal(sim_cap_parse(NULL, &k), SC_ERR_INVALID);
  assert_int_equal(sim_cap_parse("dxd", NULL), SC_ERR_INVALID);
  assert_string_equal(sim_cap_name((sim_cap_kind)99), "unknown");
}

static void test_fixed_configs(void **state) {
  (void)state;
  for (uint32_t p = 0; p < 1000; p++) {
    uint32_t in, cap;
    sim_cap_draw(SIM_CAP_16X16, 1, p, 16, &in, &cap);
    assert_int_equal(in, 16);
    assert_int_equal(cap, 16);
    sim_cap_draw(SIM_CAP_16X18, 1, p, 16, &in, &cap);
    assert_int_equal(in, 16);
    assert_int_equal(cap, 18);
    sim_cap_draw(SIM_CAP_16X32, 1, p, 16, &in, &cap);
    assert_int_equal(in, 16);
    assert_int_equal(cap, 32);
    sim_cap_draw(SIM_CAP_16XNB, 1, p, 16, &in, &cap);
    assert_int_equal(in, 16);
    assert_int_equal(cap, UINT32_MAX);
    assert_int_equal(cap, SIM_CAP_UNBOUNDED);
  }
  /* Other stripe counts scale: k, k + ⌈k/8⌉, 2k. */
  uint32_t in, cap;
  sim_cap_draw(SIM_CAP_16X18, 1, 0, 8, &in, &cap);
  assert_int_equal(in, 8);
  assert_int_equal(cap, 9);
  sim_cap_draw(SIM_CAP_16X18, 1, 0, 1, &in, &cap);
  assert_int_equal(cap, 2);
  sim_cap_draw(SIM_CAP_16X32, 1, 0, 4, &in, &cap);
  assert_int_equal(in, 4);
  assert_int_equal(cap, 8);
}

static void test_deterministic(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
    uint32_t differs = 0;
    /* Draws in reverse order give the same values as forward ones: no state. */
    for (uint32_t p = 0; p < 2000; p++) {
      uint32_t in1, cap1, in2, cap2, in3, cap3;
      sim_cap_draw(all_kinds[i], 42, p, 16, &in1, &cap1);
      sim_cap_draw(all_kinds[i], 42, 1999 - p, 16, &in3, &cap3);
      sim_cap_draw(all_kinds[i], 42, p, 16, &in2, &cap2);
      assert_int_equal(in1, in2);
      assert_int_equal(cap1, cap2);
      sim_cap_draw(all_kinds[i], 43, p, 16, &in2, &cap2);
      differs += in1 != in2 || cap1 != cap2;
    }
    /* Another seed changes the random configurations. */
    if (all_kinds[i] == SIM_CAP_DXD || all_kinds[i] == SIM_CAP_GNUTELLA)
      assert_true(differs > 1000);
    else
      assert_int_equal(differs, 0);
  }
  assert_true(sim_cap_gnutella_kbps(42, 7) == sim_cap_gnutella_kbps(42, 7));
}

static void test_dxd(void **state) {
  (void)state;
  uint32_t hist[17] = {0};
  uint64_t sum_in = 0, sum_cap = 0;
  for (uint32_t p = 0; p < N; p++) {
    uint32_t in, cap;
    sim_cap_draw(SIM_CAP_DXD, 1, p, 16, &in, &cap);
    assert_int_equal(in, cap);
    assert_in_range(in, 1, 16);
    hist[in]++;
    sum_in += in;
    sum_cap += cap;
  }
  assert_true(sum_in <= sum_cap);
  /* Uniform on 1..16: 2,500 expected per value, sd ~48. */
  for (uint32_t d = 1; d <= 16; d++)
    assert_in_range(hist[d], 2200, 2800);
  double mean = (double)sum_in / N;
  assert_true(fabs(mean - 8.5) < 0.1); /* sd of the mean ~0.023 */
  /* With k = 4, d stays in 1..4. */
  for (uint32_t p = 0; p < 1000; p++) {
    uint32_t in, cap;
    sim_cap_draw(SIM_CAP_DXD, 1, p, 4, &in, &cap);
    assert_in_range(in, 1, 4);
  }
}

static void test_gnutella(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 5; seed++) {
    uint64_t sum_in = 0, sum_cap = 0;
    uint32_t at_most_100k = 0, cap_ge_16 = 0, cap_zero = 0;
    for (uint32_t p = 0; p < N; p++) {
      uint32_t in, cap;
      sim_cap_draw(SIM_CAP_GNUTELLA, seed, p, 16, &in, &cap);
      double kbps = sim_cap_gnutella_kbps(seed, p);
      assert_int_equal(in, 16);
      assert_true(kbps >= 10.0 && kbps <= 100000.0);
      /* C = ⌊b · 16 / 384⌋ = ⌊b / 24⌋. */
      assert_int_equal(cap, (uint32_t)floor(kbps * 16 / SIM_CAP_GNUTELLA_STREAM_KBPS));
      sum_in += in;
      sum_cap += cap;
      at_most_100k += kbps <= 100.0;
      cap_ge_16 += cap >= 16;
      cap_zero += cap == 0;
    }
    /* Feasibility (SplitStream §3): Σ I ≤ Σ C, with a wide margin. */
    assert_true(sum_in <= sum_cap);
    assert_true(sum_cap > 4 * sum_in);
    /* The anchors: 22% at or below 100 kbps; the median at 384 kbps, where
     * C = 16; below 24 kbps (C = 0): 0.12 · ln(2.4) / ln(5.6) ≈ 6.1%. */
    assert_true(fabs((double)at_most_100k / N - 0.22) < 0.01);
    assert_true(fabs((double)cap_ge_16 / N - 0.50) < 0.01);
    assert_true(fabs((double)cap_zero / N - 0.061) < 0.006);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_name),    cmocka_unit_test(test_fixed_configs),
      cmocka_unit_test(test_deterministic), cmocka_unit_test(test_dxd),
      cmocka_unit_test(test_gnutella),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
