/*
 * test_guard.c — per-neighbour limits (core/guard.h): a request budget
 * that refills with time, garbage that gets a sender ignored for a while
 * and then forgiven, senders kept apart, and a fixed table whatever the
 * number of senders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/guard.h"

#define S  1000000000ull
#define T0 (100 * S)
#define IP 0x7f000001u

static sc_guard *guard(void) {
  sc_guard *g = NULL;
  assert_int_equal(sc_guard_new(&g, NULL), SC_OK);
  return g;
}

static unsigned requests_passed(sc_guard *g, uint16_t port, unsigned n, uint64_t now) {
  unsigned passed = 0;
  for (unsigned i = 0; i < n; i++)
    passed += sc_guard_request(g, IP, port, 1, now) == SC_GUARD_PASS;
  return passed;
}

static void test_request_budget(void **state) {
  (void)state;
  sc_guard *g = guard();
  /* A burst: the bucket's size, the rest limited. */
  assert_int_equal(requests_passed(g, 1, 2000, T0), SC_GUARD_REQ_BURST);
  /* Another sender has its own budget. */
  assert_int_equal(requests_passed(g, 2, 10, T0), 10);
  /* Half a second refills half the rate's worth. */
  assert_int_equal(requests_passed(g, 1, 2000, T0 + S / 2), SC_GUARD_REQ_PER_S / 2);
  /* Sustained at the rate: every one passes. */
  uint64_t t = T0 + 10 * S;
  unsigned passed = 0;
  for (unsigned i = 0; i < 4 * SC_GUARD_REQ_PER_S; i++)
    passed +=
        sc_guard_request(g, IP, 1, 1, t + i * (S / SC_GUARD_REQ_PER_S)) == SC_GUARD_PASS;
  assert_int_equal(passed, 4 * SC_GUARD_REQ_PER_S);
  sc_guard_stats st;
  sc_guard_get_stats(g, &st);
  assert_int_equal(st.limited,
                   (2000 - SC_GUARD_REQ_BURST) + (2000 - SC_GUARD_REQ_PER_S / 2));
  assert_int_equal(st.ignored, 0);
  /* A request costs what it asks for: 16 chunks' worth takes 16 tokens. */
  uint64_t t3 = T0 + 100 * S;
  unsigned big = 0;
  for (unsigned i = 0; i < 100; i++)
    big += sc_guard_request(g, IP, 3, 16, t3) == SC_GUARD_PASS;
  assert_int_equal(big, SC_GUARD_REQ_BURST / 16);
  /* One token left is not enough for 2, and a refusal takes none. */
  assert_int_equal(sc_guard_request(g, IP, 4, SC_GUARD_REQ_BURST - 1, t3), SC_GUARD_PASS);
  assert_int_equal(sc_guard_request(g, IP, 4, 2, t3), SC_GUARD_LIMITED);
  assert_int_equal(sc_guard_request(g, IP, 4, 1, t3), SC_GUARD_PASS);
  assert_int_equal(sc_guard_request(g, IP, 4, 1, t3), SC_GUARD_LIMITED);
  sc_guard_del(g);
}

static void test_garbage_ignored_then_forgiven(void **state) {
  (void)state;
  sc_guard *g = guard();
  /* Below the bound, and decaying: never ignored. */
  for (unsigned i = 0; i < 10 * SC_GUARD_STRIKES_MAX; i++) {
    sc_guard_strike(g, IP, 7, T0 + i * (S + S / 10));
    assert_int_equal(sc_guard_arrival(g, IP, 7, T0 + i * (S + S / 10)), SC_GUARD_PASS);
  }
  /* A burst of garbage: ignored at the bound, for SC_GUARD_IGNORE_NS. */
  uint64_t t = T0 + 1000 * S;
  for (unsigned i = 0; i + 1 < SC_GUARD_STRIKES_MAX; i++)
    sc_guard_strike(g, IP, 7, t);
  assert_int_equal(sc_guard_arrival(g, IP, 7, t), SC_GUARD_PASS);
  sc_guard_strike(g, IP, 7, t);
  assert_int_equal(sc_guard_arrival(g, IP, 7, t), SC_GUARD_IGNORED);
  assert_int_equal(sc_guard_arrival(g, IP, 8, t), SC_GUARD_PASS); /* another port */
  assert_int_equal(sc_guard_arrival(g, IP, 7, t + SC_GUARD_IGNORE_NS - 1),
                   SC_GUARD_IGNORED);
  assert_int_equal(sc_guard_arrival(g, IP, 7, t + SC_GUARD_IGNORE_NS), SC_GUARD_PASS);
  /* Forgiven whole: one strike more does not ignore it again. */
  sc_guard_strike(g, IP, 7, t + SC_GUARD_IGNORE_NS);
  assert_int_equal(sc_guard_arrival(g, IP, 7, t + SC_GUARD_IGNORE_NS), SC_GUARD_PASS);
  sc_guard_stats st;
  sc_guard_get_stats(g, &st);
  assert_int_equal(st.ignores, 1);
  assert_int_equal(st.ignored, 2);
  sc_guard_del(g);
}

static void test_any_number_of_senders(void **state) {
  (void)state;
  sc_guard *g = guard();
  /* An ignored sender that keeps sending stays ignored while 100,000
   * one-off senders pass through the table. */
  for (unsigned i = 0; i < SC_GUARD_STRIKES_MAX; i++)
    sc_guard_strike(g, IP, 9, T0);
  uint64_t t = T0;
  for (uint32_t i = 0; i < 100000; i++) {
    t += 1000;
    assert_int_equal(sc_guard_request(g, 0x0a000000u + i, (uint16_t)i, 1, t),
                     SC_GUARD_PASS);
    if (i % 100 == 0) assert_int_equal(sc_guard_arrival(g, IP, 9, t), SC_GUARD_IGNORED);
  }
  sc_guard_stats st;
  sc_guard_get_stats(g, &st);
  assert_true(st.evicted >= 100000 - SC_GUARD_SLOTS);
  assert_int_equal(st.limited, 0);
  sc_guard_del(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_budget),
      cmocka_unit_test(test_garbage_ignored_then_forgiven),
      cmocka_unit_test(test_any_number_of_senders),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
