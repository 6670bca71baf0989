/*
 * test_sim_stream.c — small deterministic runs of the streaming experiment
 * (sim/stream_sim.h) that assert what the data plane promises, never how long
 * it took:
 *  - real bytes through the whole path (source, wire codec, trees, decoder)
 *    arrive unchanged at every receiver, with continuity 1;
 *  - no generation is lost when at most p stripes are cut at a time (every
 *    forwarder of those stripes crashes at once; the erasure code covers the
 *    gap while the trees repair), and generations are lost when p + 1 are,
 *    repair or not (the cut chunks exist nowhere) — so the first assertion
 *    can fail;
 *  - repair pulls recover what random loss takes from an uncoded stream;
 *  - a late receiver that backfills starts sooner;
 *  - one seed gives one history, under churn too;
 *  - a bad churn spec is refused before anything runs.
 * Upstream queues are off (uplink_headroom 0) where the test is about the
 * code rather than congestion; N is small so the program stays fast under
 * the sanitizers.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/stream_sim.h"

static sim_stream_params params(uint32_t peers, uint32_t d, uint32_t p, uint64_t seed) {
  sim_stream_params s;
  sim_stream_params_default(&s);
  s.peers = peers;
  s.fec_data = d;
  s.fec_parity = p;
  s.stripes = d + p;
  s.seed = seed;
  s.duration_s = 40;
  s.settle_s = 10;
  s.build_wait_s = 30;
  return s;
}

static void run(const sim_stream_params *p, sim_stream_result *r) {
  assert_int_equal(sim_stream_run(p, r, stderr), 0);
  assert_true(r->gens_published > 0);
}

static void test_payload_arrives_unchanged(void **state) {
  (void)state;
  sim_stream_params p = params(60, 12, 4, 7);
  p.payload = true;
  p.wire_check = true;
  sim_stream_result r;
  run(&p, &r);
  assert_int_equal(r.sessions, 59);
  assert_int_equal(r.payload_mismatches, 0);
  assert_true(r.continuity_min == 1.0);
  assert_true(r.generations_lost_fraction == 0.0);
}

static void test_cut_within_parity_loses_nothing(void **state) {
  (void)state;
  static const struct { uint32_t d, p; } codes[] = {{12, 4}, {14, 2}, {8, 8}};
  for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
      sim_stream_params p = params(150, codes[c].d, codes[c].p, seed);
      p.uplink_headroom = 0;
      /* Repair on: the repair of the cut trees may push a peer out of one
       * more tree for a moment (SplitStream §4.2's drop rule), a gap the
       * pulls fill; the cut stripes' chunks exist nowhere, so only the code
       * covers them (the next test shows it). */
      p.repair = true;
      p.cut_stripes = codes[c].p;
      p.cut_at_s = 15;
      sim_stream_result r;
      run(&p, &r);
      assert_true(r.cut_crashes > 0);
      if (r.generations_lost_fraction != 0.0)
        fail_msg("%u+%u, seed %llu: %u stripes cut lost %.4f of generations", codes[c].d,
                 codes[c].p, (unsigned long long)seed, codes[c].p,
                 r.generations_lost_fraction);
    }
  }
}

static void test_cut_beyond_parity_loses(void **state) {
  (void)state;
  sim_stream_params p = params(150, 12, 4, 1);
  p.uplink_headroom = 0;
  p.repair = false;
  p.cut_stripes = 5;
  p.cut_at_s = 15;
  sim_stream_result r;
  run(&p, &r);
  assert_true(r.generations_lost_fraction > 0.0);
  p.repair = true;
  run(&p, &r);
  assert_true(r.generations_lost_fraction > 0.0);
}

static void test_repair_recovers_random_loss(void **state) {
  (void)state;
  sim_stream_params p = params(100, 16, 0, 3);
  p.uplink_headroom = 0;
  p.loss = 0.01;
  sim_stream_result off, on;
  p.repair = false;
  run(&p, &off);
  p.repair = true;
  run(&p, &on);
  /* Uncoded, 1% loss per hop loses most generations; pulls bring back
   * nearly all of them. */
  assert_true(off.generations_lost_fraction > 0.05);
  assert_true(on.repair_chunks_got > 0);
  assert_true(on.generations_lost_fraction < off.generations_lost_fraction / 10);
}

/* A peer re-attaching after its parent crashed asks the new parent at once
 * for what it missed (sc_channel_on_attach): fewer generations lost than
 * with the repair pulls alone, after 40% of 1,000 peers crash at once. */
static void test_catchup_after_crash(void **state) {
  (void)state;
  sim_stream_params p = params(1000, 12, 4, 3);
  p.churn = "fail:40%@20s";
  sim_stream_result off, on;
  p.catchup = false;
  run(&p, &off);
  p.catchup = true;
  run(&p, &on);
  assert_int_equal(off.catchup_asks, 0);
  assert_true(on.catchup_asks > 0);
  assert_true(off.generations_lost_fraction > 0.0);
  if (!(on.generations_lost_fraction < off.generations_lost_fraction))
    fail_msg("catch-up on lost %.5f of generations, off %.5f",
             on.generations_lost_fraction, off.generations_lost_fraction);
}

/* A late receiver that backfills (sc_channel_config.backfill_gens, what the
 * runtime's station listeners do) starts from generations its first
 * parents already hold: under churn the arrivals start sooner than without,
 * at no cost in continuity here, and the backfill is what did it. */
static void test_backfill_starts_sooner(void **state) {
  (void)state;
  sim_stream_params p = params(100, 12, 4, 2);
  p.churn = "exp:mean=30s";
  sim_stream_result off, on;
  run(&p, &off);
  p.backfill_gens = 3;
  run(&p, &on);
  assert_int_equal(off.backfill_asks, 0);
  assert_true(on.backfill_asks > 0);
  assert_true(on.backfilled_gens > off.backfilled_gens);
  if (!(on.startup_ms_p50 < off.startup_ms_p50 && on.startup_ms_p95 < off.startup_ms_p95))
    fail_msg("startup p50 / p95: %.0f / %.0f ms with the backfill, %.0f / %.0f without",
             on.startup_ms_p50, on.startup_ms_p95, off.startup_ms_p50,
             off.startup_ms_p95);
  assert_true(on.continuity_mean >= off.continuity_mean);
}

static void test_churn_is_deterministic(void **state) {
  (void)state;
  sim_stream_params p = params(120, 12, 4, 5);
  p.churn = "weibull:median=2min,shape=0.5,polite=0.5";
  sim_stream_result a, b;
  run(&p, &a);
  run(&p, &b);
  assert_true(a.arrivals > 0 && a.crashes + a.polite_departures > 0);
  assert_int_equal(a.run.trace_digest, b.run.trace_digest);
  assert_int_equal(a.sessions, b.sessions);
  assert_true(a.continuity_mean == b.continuity_mean);
  assert_true(a.survivors_continuity_mean > 0.9);
}

static void test_bad_churn_spec_refused(void **state) {
  (void)state;
  sim_stream_params p = params(20, 12, 4, 1);
  p.churn = "weibull:median=10";
  sim_stream_result r;
  assert_int_equal(sim_stream_run(&p, &r, NULL), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_payload_arrives_unchanged),
      cmocka_unit_test(test_cut_within_parity_loses_nothing),
      cmocka_unit_test(test_cut_beyond_parity_loses),
      cmocka_unit_test(test_repair_recovers_random_loss),
      cmocka_unit_test(test_catchup_after_crash),
      cmocka_unit_test(test_backfill_starts_sooner),
      cmocka_unit_test(test_churn_is_deterministic),
      cmocka_unit_test(test_bad_churn_spec_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
