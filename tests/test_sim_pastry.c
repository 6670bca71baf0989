/*
 * test_sim_pastry.c — small deterministic simulations of the Pastry overlay
 * that assert invariants, not timings: lookups reach the oracle's owner, hop
 * counts stay within ⌈log16 N⌉ + 1 for 99% of lookups, leaf sets match the
 * truth after stabilisation, one seed gives one history, the overlay repairs
 * itself after a burst of crashes, and the wire codec agrees with the structs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/pastry_sim.h"

static sim_pastry_params small(uint32_t peers, uint64_t lookups, uint64_t seed) {
  sim_pastry_params p;
  sim_pastry_params_default(&p);
  p.peers = peers;
  p.lookups = lookups;
  p.seed = seed;
  return p;
}

static void run(const sim_pastry_params *p, sim_pastry_result *r) {
  FILE *devnull = fopen("/dev/null", "w");
  assert_non_null(devnull);
  assert_int_equal(sim_pastry_run(p, r, devnull), 0);
  fclose(devnull);
}

static unsigned log16_ceil(uint32_t n) {
  return (unsigned)ceil(log((double)n) / log(16.0) - 1e-9);
}

static void test_lookups_reach_owner(void **state) {
  (void)state;
  sim_pastry_params p = small(600, 3000, 7);
  sim_pastry_result r;
  run(&p, &r);
  assert_int_equal(r.lookups, 3000);
  assert_int_equal(r.lookups_delivered, 3000);
  assert_int_equal(r.lookups_correct, 3000);
  assert_int_equal(r.leafset_errors_settled, 0);
  assert_true(r.hops_p99 <= log16_ceil(600) + 1);
  assert_true(r.rt_entries_mean > 10);
  assert_int_equal(r.wire_errors, 0);
}

static void test_hop_bound_sphere(void **state) {
  (void)state;
  sim_pastry_params p = small(1500, 3000, 3);
  p.topology = SIM_NET_SPHERE;
  sim_pastry_result r;
  run(&p, &r);
  assert_int_equal(r.lookups_correct, 3000);
  uint64_t within = 0;
  for (unsigned h = 0; h <= log16_ceil(1500) + 1; h++)
    within += r.hop_hist[h];
  assert_true(within * 100 >= r.lookups_delivered * 99);
}

static void test_one_seed_one_history(void **state) {
  (void)state;
  sim_pastry_params p = small(300, 500, 11);
  sim_pastry_result a, b, c;
  run(&p, &a);
  run(&p, &b);
  assert_int_equal(a.run.trace_digest, b.run.trace_digest);
  assert_int_equal(a.run.sim_events, b.run.sim_events);
  assert_int_equal(a.messages, b.messages);
  assert_true(a.hops_mean == b.hops_mean);
  assert_true(a.rdp_mean == b.rdp_mean);
  p.seed = 12;
  run(&p, &c);
  assert_true(a.run.trace_digest != c.run.trace_digest);
}

static void test_wire_check_agrees(void **state) {
  (void)state;
  /* Every message through the real encoder and decoder: no disagreement, and
   * the same history as the run that hands structs across. */
  sim_pastry_params p = small(200, 400, 5);
  sim_pastry_result plain, wired;
  run(&p, &plain);
  p.wire_check = true;
  run(&p, &wired);
  assert_int_equal(wired.wire_errors, 0);
  assert_int_equal(plain.run.trace_digest, wired.run.trace_digest);
  assert_int_equal(plain.bytes, wired.bytes);
}

static void test_recovers_from_crash_burst(void **state) {
  (void)state;
  sim_pastry_params p = small(800, 3000, 9);
  p.fail_fraction = 0.25;
  sim_pastry_result r;
  run(&p, &r);
  assert_int_equal(r.peers_crashed, 200);
  assert_int_equal(r.peers_alive, 600);
  assert_true(r.peers_declared_dead > 0);
  assert_int_equal(r.leafset_errors_final, 0);
  assert_int_equal(r.lookups_correct, r.lookups);
}

static void test_random_loss(void **state) {
  (void)state;
  /* 2% of all messages lost: per-hop acks and retries keep lookups correct. */
  sim_pastry_params p = small(400, 2000, 13);
  p.loss = 0.02;
  sim_pastry_result r;
  run(&p, &r);
  assert_true(r.messages_lost > 0);
  assert_true(r.lookups_correct * 100 >= r.lookups * 99);
}

static void test_single_peer(void **state) {
  (void)state;
  sim_pastry_params p = small(1, 50, 1);
  sim_pastry_result r;
  run(&p, &r);
  assert_int_equal(r.lookups_correct, 50);
  assert_true(r.hops_max == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookups_reach_owner),
      cmocka_unit_test(test_hop_bound_sphere),
      cmocka_unit_test(test_one_seed_one_history),
      cmocka_unit_test(test_wire_check_agrees),
      cmocka_unit_test(test_recovers_from_crash_burst),
      cmocka_unit_test(test_random_loss),
      cmocka_unit_test(test_single_peer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
