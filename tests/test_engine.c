/*
 * test_engine.c — the simulator's discrete-event engine (sim/engine.h).
 *
 * Small literal schedules pin down the ordering rules: time first, then the
 * global insertion sequence, shared by events and peer timers. A seeded run
 * of 10,000 mixed operations is then replayed against a brute-force
 * reference (a flat list scanned for the minimum on every pop).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "core/rng.h"
#include "sim/engine.h"

/* ---- helpers ---- */

static int tokens[64]; /* distinct addresses to pass as event pointers */

static void expect_event(sim_engine *e, uint64_t t_ns, uint32_t kind, uint32_t arg,
                         void *ptr) {
  sim_event ev;
  if (!sim_engine_next(e, &ev))
    fail_msg("queue empty, want t=%llu arg=%u", (unsigned long long)t_ns, arg);
  if (ev.t_ns != t_ns || ev.kind != kind || ev.arg != arg)
    fail_msg("popped t=%llu kind=%u arg=%u, want t=%llu kind=%u arg=%u",
             (unsigned long long)ev.t_ns, ev.kind, ev.arg, (unsigned long long)t_ns, kind,
             arg);
  assert_ptr_equal(ev.ptr, ptr);
  assert_int_equal(e->now_ns, t_ns);
}

static void expect_timer(sim_engine *e, uint64_t t_ns, uint32_t peer) {
  expect_event(e, t_ns, SIM_EV_TIMER, peer, NULL);
  /* A timer that fired is disarmed. */
  assert_int_equal(sim_engine_timer(e, peer), SIM_TIME_NEVER);
}

static void expect_empty(sim_engine *e) {
  sim_event ev;
  uint64_t now = e->now_ns;
  assert_int_equal(sim_engine_pending(e), 0);
  assert_false(sim_engine_next(e, &ev));
  assert_int_equal(e->now_ns, now); /* an empty pop does not move the clock */
}

/* ---- events ---- */

static void test_events_time_order(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 0), 0); /* events only, no peers */
  assert_int_equal(e.now_ns, 0);
  expect_empty(&e);

  assert_int_equal(sim_engine_schedule(&e, 30, SIM_EV_USER, 3, &tokens[3]), 0);
  assert_int_equal(sim_engine_schedule(&e, 10, SIM_EV_USER + 1, 1, &tokens[1]), 0);
  assert_int_equal(sim_engine_schedule(&e, 20, SIM_EV_USER + 2, 2, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, 0, SIM_EV_USER, 0, &tokens[0]), 0);
  assert_int_equal(sim_engine_pending(&e), 4);

  expect_event(&e, 0, SIM_EV_USER, 0, &tokens[0]);
  expect_event(&e, 10, SIM_EV_USER + 1, 1, &tokens[1]);
  assert_int_equal(sim_engine_pending(&e), 2);
  /* Scheduling exactly at now is allowed, and pops before later events. */
  assert_int_equal(sim_engine_schedule(&e, 10, SIM_EV_USER, 9, &tokens[9]), 0);
  expect_event(&e, 10, SIM_EV_USER, 9, &tokens[9]);
  expect_event(&e, 20, SIM_EV_USER + 2, 2, NULL);
  expect_event(&e, 30, SIM_EV_USER, 3, &tokens[3]);
  assert_int_equal(e.events_processed, 5);
  expect_empty(&e);
  assert_int_equal(e.now_ns, 30);
  sim_engine_free(&e);
}

static void test_event_ties_insertion_order(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 1), 0);

  /* Interleaved times: ties keep insertion order within each time. */
  assert_int_equal(sim_engine_schedule(&e, 5, SIM_EV_USER, 0, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, 3, SIM_EV_USER, 1, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, 5, SIM_EV_USER, 2, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, 3, SIM_EV_USER, 3, NULL), 0);
  expect_event(&e, 3, SIM_EV_USER, 1, NULL);
  expect_event(&e, 3, SIM_EV_USER, 3, NULL);
  expect_event(&e, 5, SIM_EV_USER, 0, NULL);
  expect_event(&e, 5, SIM_EV_USER, 2, NULL);

  /* Many at one instant (several heap levels deep). */
  for (uint32_t i = 0; i < 300; i++)
    assert_int_equal(sim_engine_schedule(&e, 500, SIM_EV_USER, i, &tokens[i % 64]), 0);
  for (uint32_t i = 0; i < 300; i++)
    expect_event(&e, 500, SIM_EV_USER, i, &tokens[i % 64]);
  expect_empty(&e);
  sim_engine_free(&e);
}

static void test_many_events_grow(void **state) {
  (void)state;
  enum { N = 5000 }; /* several times the initial capacity */
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 1), 0);
  sc_rng r;
  sc_rng_seed(&r, 17);
  static uint8_t seen[N];
  for (uint32_t i = 0; i < N; i++)
    assert_int_equal(
        sim_engine_schedule(&e, sc_rng_below(&r, 1000), SIM_EV_USER, i, NULL), 0);
  assert_int_equal(sim_engine_pending(&e), N);
  sim_event ev, prev = {0, 0, 0, 0, NULL};
  for (uint32_t i = 0; i < N; i++) {
    assert_true(sim_engine_next(&e, &ev));
    assert_true(ev.t_ns >= prev.t_ns);
    if (i > 0 && ev.t_ns == prev.t_ns)
      assert_true(ev.arg > prev.arg); /* insertion order */
    assert_int_equal(e.now_ns, ev.t_ns);
    assert_int_equal(seen[ev.arg], 0);
    seen[ev.arg] = 1;
    prev = ev;
  }
  expect_empty(&e);
  assert_int_equal(e.events_processed, N);
  sim_engine_free(&e);
}

/* ---- timers ---- */

static void test_timers_interleave(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 4), 0);
  for (uint32_t p = 0; p < 4; p++)
    assert_int_equal(sim_engine_timer(&e, p), SIM_TIME_NEVER);

  /* At t = 100: event A, timer 1, event B, in that order of insertion. */
  assert_int_equal(sim_engine_schedule(&e, 100, SIM_EV_USER, 'A', NULL), 0);
  sim_engine_set_timer(&e, 1, 100);
  assert_int_equal(sim_engine_schedule(&e, 100, SIM_EV_USER, 'B', NULL), 0);
  sim_engine_set_timer(&e, 0, 50);
  sim_engine_set_timer(&e, 3, 150);
  assert_int_equal(sim_engine_schedule(&e, 120, SIM_EV_USER, 'C', NULL), 0);
  assert_int_equal(sim_engine_timer(&e, 1), 100);
  assert_int_equal(sim_engine_timer(&e, 0), 50);
  assert_int_equal(sim_engine_timer(&e, 3), 150);
  assert_int_equal(sim_engine_timer(&e, 2), SIM_TIME_NEVER);
  assert_int_equal(sim_engine_pending(&e), 6);

  expect_timer(&e, 50, 0);
  expect_event(&e, 100, SIM_EV_USER, 'A', NULL);
  expect_timer(&e, 100, 1);
  expect_event(&e, 100, SIM_EV_USER, 'B', NULL);
  expect_event(&e, 120, SIM_EV_USER, 'C', NULL);
  expect_timer(&e, 150, 3);
  expect_empty(&e);

  /* A timer armed for now, after an event at now, pops after it; a fired
   * timer can be armed again. */
  assert_int_equal(sim_engine_schedule(&e, 150, SIM_EV_USER, 'D', NULL), 0);
  sim_engine_set_timer(&e, 3, 150);
  assert_int_equal(sim_engine_schedule(&e, 150, SIM_EV_USER, 'E', NULL), 0);
  expect_event(&e, 150, SIM_EV_USER, 'D', NULL);
  expect_timer(&e, 150, 3);
  expect_event(&e, 150, SIM_EV_USER, 'E', NULL);
  expect_empty(&e);
  assert_int_equal(e.events_processed, 9);
  sim_engine_free(&e);
}

static void test_rearm_moves_timer(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 8), 0);
  sim_engine_set_timer(&e, 0, 100);
  sim_engine_set_timer(&e, 1, 200);
  sim_engine_set_timer(&e, 2, 300);
  sim_engine_set_timer(&e, 2, 50);  /* earlier: now first */
  sim_engine_set_timer(&e, 0, 400); /* later: now last */
  assert_int_equal(sim_engine_timer(&e, 0), 400);
  assert_int_equal(sim_engine_timer(&e, 1), 200);
  assert_int_equal(sim_engine_timer(&e, 2), 50);
  assert_int_equal(sim_engine_pending(&e), 3); /* one slot per peer */
  expect_timer(&e, 50, 2);
  expect_timer(&e, 200, 1);
  expect_timer(&e, 400, 0);
  expect_empty(&e);

  /* Re-arming is a new insertion: it goes behind ties armed since. */
  sim_engine_set_timer(&e, 4, 500);
  sim_engine_set_timer(&e, 5, 500);
  sim_engine_set_timer(&e, 4, 600);
  sim_engine_set_timer(&e, 4, 500);
  expect_timer(&e, 500, 5);
  expect_timer(&e, 500, 4);

  /* Re-arming for the time already set changes nothing, not even its place
   * among ties (the core re-reports an unchanged expiry on every call). */
  sim_engine_set_timer(&e, 6, 700);
  sim_engine_set_timer(&e, 7, 700);
  sim_engine_set_timer(&e, 6, 700);
  expect_timer(&e, 700, 6);
  expect_timer(&e, 700, 7);
  expect_empty(&e);

  /* Moving one timer among many keeps the rest in order. */
  for (uint32_t p = 0; p < 8; p++)
    sim_engine_set_timer(&e, p, 1000 + 10 * p);
  sim_engine_set_timer(&e, 7, 1001); /* last to first */
  sim_engine_set_timer(&e, 0, 1065); /* first to last */
  sim_engine_set_timer(&e, 3, 1015); /* middle, earlier */
  static const uint32_t order[] = {7, 1, 3, 2, 4, 5, 6, 0};
  static const uint64_t when[] = {1001, 1010, 1015, 1020, 1040, 1050, 1060, 1065};
  for (unsigned i = 0; i < 8; i++)
    expect_timer(&e, when[i], order[i]);
  expect_empty(&e);
  sim_engine_free(&e);
}

static void test_disarm(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 10), 0);

  sim_engine_set_timer(&e, 3, 100);
  assert_int_equal(sim_engine_pending(&e), 1);
  sim_engine_set_timer(&e, 3, SIM_TIME_NEVER);
  assert_int_equal(sim_engine_timer(&e, 3), SIM_TIME_NEVER);
  expect_empty(&e);
  /* Disarming an unarmed timer is harmless. */
  sim_engine_set_timer(&e, 3, SIM_TIME_NEVER);
  sim_engine_set_timer(&e, 9, SIM_TIME_NEVER);
  expect_empty(&e);

  /* Disarm from the middle, the end and the top of a full heap. */
  for (uint32_t p = 0; p < 10; p++)
    sim_engine_set_timer(&e, p, 100 * (10 - p));
  sim_engine_set_timer(&e, 4, SIM_TIME_NEVER);
  sim_engine_set_timer(&e, 7, SIM_TIME_NEVER);
  sim_engine_set_timer(&e, 9, SIM_TIME_NEVER); /* the earliest */
  sim_engine_set_timer(&e, 0, SIM_TIME_NEVER); /* the latest */
  assert_int_equal(sim_engine_pending(&e), 6);
  assert_int_equal(sim_engine_timer(&e, 4), SIM_TIME_NEVER);
  assert_int_equal(sim_engine_timer(&e, 5), 500);
  static const uint32_t order[] = {8, 6, 5, 3, 2, 1};
  for (unsigned i = 0; i < 6; i++)
    expect_timer(&e, 100 * (10 - order[i]), order[i]);
  expect_empty(&e);

  /* Disarming a timer whose place is taken by an earlier one from another
   * branch. Armed in this order, p14 (1007) sits last, under p2's branch;
   * removing p3 (1101), a child of p1 (1100), moves p14 into p3's place
   * under p1, and it must rise past p1 or it would fire after it. */
  sim_engine_free(&e);
  assert_int_equal(sim_engine_init(&e, 15), 0);
  static const uint64_t t15[] = {1000, 1100, 1001, 1101, 1102, 1002, 1003, 1103,
                                 1104, 1105, 1106, 1004, 1005, 1006, 1007};
  for (uint32_t p = 0; p < 15; p++)
    sim_engine_set_timer(&e, p, t15[p]);
  sim_engine_set_timer(&e, 3, SIM_TIME_NEVER);
  static const uint32_t order15[] = {0, 2, 5, 6, 11, 12, 13, 14, 1, 4, 7, 8, 9, 10};
  for (unsigned i = 0; i < 14; i++)
    expect_timer(&e, t15[order15[i]], order15[i]);
  expect_empty(&e);

  /* A disarmed timer can be armed again. */
  sim_engine_set_timer(&e, 4, 2000);
  assert_int_equal(sim_engine_timer(&e, 4), 2000);
  expect_timer(&e, 2000, 4);
  expect_empty(&e);
  sim_engine_free(&e);
}

/* ---- randomized against a brute-force reference ---- */

typedef struct ref_item {
  uint64_t t_ns, seq;
  uint32_t kind, arg;
  void *ptr;
} ref_item;

typedef struct ref_model {
  uint64_t seq_next, now_ns;
  ref_item *ev;
  size_t nev;
  bool *armed;
  uint64_t *tm_t, *tm_seq;
  uint32_t peers;
} ref_model;

static bool ref_before(uint64_t ta, uint64_t sa, uint64_t tb, uint64_t sb) {
  return ta < tb || (ta == tb && sa < sb);
}

static void ref_set_timer(ref_model *m, uint32_t p, uint64_t t_ns) {
  if (m->armed[p] && m->tm_t[p] == t_ns) return; /* unchanged */
  if (t_ns == SIM_TIME_NEVER) {
    m->armed[p] = false;
    return;
  }
  m->armed[p] = true;
  m->tm_t[p] = t_ns;
  m->tm_seq[p] = m->seq_next++;
}

/* Pops the minimum (time, seq) by linear scan. False when empty. */
static bool ref_next(ref_model *m, ref_item *out) {
  bool found = false, is_timer = false;
  size_t at = 0;
  ref_item best = {0, 0, 0, 0, NULL};
  for (size_t i = 0; i < m->nev; i++)
    if (!found || ref_before(m->ev[i].t_ns, m->ev[i].seq, best.t_ns, best.seq)) {
      found = true;
      at = i;
      best = m->ev[i];
    }
  for (uint32_t p = 0; p < m->peers; p++)
    if (m->armed[p] &&
        (!found || ref_before(m->tm_t[p], m->tm_seq[p], best.t_ns, best.seq))) {
      ref_item x = {m->tm_t[p], m->tm_seq[p], SIM_EV_TIMER, p, NULL};
      found = is_timer = true;
      best = x;
    }
  if (!found) return false;
  if (is_timer)
    m->armed[best.arg] = false;
  else
    m->ev[at] = m->ev[--m->nev]; /* order in the list does not matter */
  *out = best;
  m->now_ns = best.t_ns;
  return true;
}

static uint64_t ref_pending(const ref_model *m) {
  uint64_t n = m->nev;
  for (uint32_t p = 0; p < m->peers; p++)
    n += m->armed[p];
  return n;
}

static void compare_pop(sim_engine *e, ref_model *m, uint64_t *last_t, unsigned op) {
  sim_event got;
  ref_item want = {0, 0, 0, 0, NULL};
  bool have = sim_engine_next(e, &got), want_have = ref_next(m, &want);
  if (have != want_have)
    fail_msg("op %u: engine %s, reference %s", op, have ? "popped" : "empty",
             want_have ? "popped" : "empty");
  if (!have) return;
  if (got.t_ns != want.t_ns || got.kind != want.kind || got.arg != want.arg ||
      got.ptr != want.ptr)
    fail_msg("op %u: popped t=%llu kind=%u arg=%u, want t=%llu kind=%u arg=%u", op,
             (unsigned long long)got.t_ns, got.kind, got.arg,
             (unsigned long long)want.t_ns, want.kind, want.arg);
  assert_true(got.t_ns >= *last_t); /* the clock never runs backwards */
  assert_int_equal(e->now_ns, got.t_ns);
  if (got.kind == SIM_EV_TIMER)
    assert_int_equal(sim_engine_timer(e, got.arg), SIM_TIME_NEVER);
  *last_t = got.t_ns;
}

/* scale stretches the larger delays: 1 keeps everything within a few of the
 * event wheel's buckets; 2^16 spreads events over the whole wheel and beyond
 * its horizon, into the overflow heap and back. */
static void random_vs_reference(uint64_t seed, uint64_t scale) {
  /* 100 peers keep the timer heap deep enough that disarming from its middle
   * needs the sift-up as well as the sift-down (40 peers never did). */
  enum { OPS = 10000, PEERS = 100 };
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, PEERS), 0);
  ref_model m = {0, 0, NULL, 0, NULL, NULL, NULL, PEERS};
  m.ev = calloc(OPS, sizeof(*m.ev));
  m.armed = calloc(PEERS, sizeof(*m.armed));
  m.tm_t = calloc(PEERS, sizeof(*m.tm_t));
  m.tm_seq = calloc(PEERS, sizeof(*m.tm_seq));
  assert_true(m.ev && m.armed && m.tm_t && m.tm_seq);

  sc_rng r;
  sc_rng_seed(&r, seed);
  uint64_t last_t = 0, pops = 0;
  for (unsigned op = 0; op < OPS; op++) {
    uint32_t what = sc_rng_below(&r, 100);
    /* Delays are drawn small (many ties) or large (deep heaps). */
    uint64_t delay;
    switch (sc_rng_below(&r, 4)) {
    case 0:
      delay = 0;
      break;
    case 1:
      delay = sc_rng_below(&r, 4);
      break;
    case 2:
      delay = sc_rng_below(&r, 100) * scale;
      break;
    default:
      delay = sc_rng_below(&r, 100000) * scale;
      break;
    }
    if (what < 40) { /* schedule */
      uint32_t kind = SIM_EV_USER + sc_rng_below(&r, 3), arg = sc_rng_below(&r, 1u << 20);
      void *ptr = &tokens[sc_rng_below(&r, 64)];
      assert_int_equal(sim_engine_schedule(&e, e.now_ns + delay, kind, arg, ptr), 0);
      ref_item x = {m.now_ns + delay, m.seq_next++, kind, arg, ptr};
      m.ev[m.nev++] = x;
    } else if (what < 70) { /* arm, re-arm, disarm */
      uint32_t p = sc_rng_below(&r, PEERS), how = sc_rng_below(&r, 10);
      uint64_t t = e.now_ns + delay;
      if (how == 0) t = SIM_TIME_NEVER;
      if (how == 1 && m.armed[p]) t = m.tm_t[p]; /* same time again */
      sim_engine_set_timer(&e, p, t);
      ref_set_timer(&m, p, t);
      assert_int_equal(sim_engine_timer(&e, p), m.armed[p] ? m.tm_t[p] : SIM_TIME_NEVER);
    } else if (what < 97) { /* pop */
      compare_pop(&e, &m, &last_t, op);
      pops++;
    } else { /* look at every timer */
      for (uint32_t p = 0; p < PEERS; p++)
        assert_int_equal(sim_engine_timer(&e, p),
                         m.armed[p] ? m.tm_t[p] : SIM_TIME_NEVER);
    }
    assert_int_equal(sim_engine_pending(&e), ref_pending(&m));
    assert_int_equal(e.now_ns, m.now_ns);
  }
  /* Drain whatever is left, still in step. */
  while (ref_pending(&m) > 0) {
    compare_pop(&e, &m, &last_t, OPS);
    pops++;
  }
  expect_empty(&e);
  assert_true(pops > 3000); /* the run exercised the queues, not just filled them */

  free(m.ev);
  free(m.armed);
  free(m.tm_t);
  free(m.tm_seq);
  sim_engine_free(&e);
}

/* sim_engine_next_time names the earliest event or timer even when it lies
 * beyond the bucket being consumed (sim_engine_peek sees only that bucket:
 * a run loop that stopped on its NULL lost the rest of the schedule). */
static void test_next_time_beyond_bucket(void **state) {
  (void)state;
  sim_engine e;
  assert_int_equal(sim_engine_init(&e, 4), 0);
  assert_int_equal(sim_engine_next_time(&e), SIM_TIME_NEVER);
  const uint64_t far = 50ull * 1000000000ull; /* past the wheel's horizon */
  assert_int_equal(sim_engine_schedule(&e, 5, SIM_EV_USER, 1, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, far, SIM_EV_USER, 2, NULL), 0);
  assert_int_equal(sim_engine_schedule(&e, 3000000, SIM_EV_USER, 3, NULL), 0);
  assert_int_equal(sim_engine_next_time(&e), 5);
  expect_event(&e, 5, SIM_EV_USER, 1, NULL);
  assert_null(sim_engine_peek(&e)); /* the next event is in a later bucket */
  assert_int_equal(sim_engine_next_time(&e), 3000000);
  assert_int_equal(e.now_ns, 5); /* asking moves no clock */
  sim_engine_set_timer(&e, 0, 2000000);
  assert_int_equal(sim_engine_next_time(&e), 2000000);
  expect_timer(&e, 2000000, 0);
  expect_event(&e, 3000000, SIM_EV_USER, 3, NULL);
  assert_int_equal(sim_engine_next_time(&e), far);
  sim_engine_set_timer(&e, 1, far + 1);
  assert_int_equal(sim_engine_next_time(&e), far);
  expect_event(&e, far, SIM_EV_USER, 2, NULL);
  assert_int_equal(sim_engine_next_time(&e), far + 1);
  expect_timer(&e, far + 1, 1);
  assert_int_equal(sim_engine_next_time(&e), SIM_TIME_NEVER);
  sim_engine_free(&e);
}

static void test_random_vs_reference(void **state) {
  (void)state;
  random_vs_reference(0x5eed, 1);
}

static void test_random_long_delays_vs_reference(void **state) {
  (void)state;
  random_vs_reference(0x5eed, 1u << 16);
  random_vs_reference(0xfeed, 1u << 9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events_time_order),
      cmocka_unit_test(test_event_ties_insertion_order),
      cmocka_unit_test(test_many_events_grow),
      cmocka_unit_test(test_timers_interleave),
      cmocka_unit_test(test_rearm_moves_timer),
      cmocka_unit_test(test_disarm),
      cmocka_unit_test(test_next_time_beyond_bucket),
      cmocka_unit_test(test_random_vs_reference),
      cmocka_unit_test(test_random_long_delays_vs_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
