/*
 * test_arena.c — the simulator's huge-page slab allocator (sim/arena.h).
 *
 * Objects come back line-aligned and reusable; calloc zeroes a recycled
 * object; realloc keeps contents across classes and to and from libc; a
 * used-up reservation fails like any allocator out of memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/arena.h"

static void test_alloc_free_reuse(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new(&a, 256u << 20), 0); /* a 2 MiB page per size class */
  const sc_alloc *al = sim_arena_alloc(a);
  void *p[100];
  for (unsigned i = 0; i < 100; i++) {
    p[i] = al->malloc(1 + i * 37, al->user);
    assert_non_null(p[i]);
    assert_int_equal((uintptr_t)p[i] % SIM_ARENA_GRAIN, 0);
    memset(p[i], (int)i, 1 + i * 37);
  }
  for (unsigned i = 0; i < 100; i++) { /* nothing overlapped */
    const uint8_t *b = p[i];
    for (unsigned k = 0; k < 1 + i * 37; k++)
      assert_int_equal(b[k], (uint8_t)i);
  }
  /* Freed objects of a class come back first (last freed, first reused). */
  void *x = al->malloc(400, al->user), *y = al->malloc(420, al->user); /* 448 bytes */
  al->free(x, al->user);
  al->free(y, al->user);
  assert_ptr_equal(al->malloc(449 - 64, al->user), y);
  assert_ptr_equal(al->malloc(448, al->user), x);
  for (unsigned i = 0; i < 100; i++)
    al->free(p[i], al->user);
  al->free(NULL, al->user);
  assert_true(sim_arena_used_bytes(a) >= SIM_HUGE_PAGE);
  sim_arena_del(a);
}

static void test_calloc_zeroes_recycled(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new(&a, 4u << 20), 0);
  const sc_alloc *al = sim_arena_alloc(a);
  uint8_t *p = al->malloc(200, al->user);
  memset(p, 0xab, 200);
  al->free(p, al->user);
  uint8_t *q = al->calloc(10, 20, al->user);
  assert_ptr_equal(q, p);
  for (unsigned k = 0; k < 200; k++)
    assert_int_equal(q[k], 0);
  assert_null(al->calloc(SIZE_MAX / 2, 4, al->user)); /* overflow */
  sim_arena_del(a);
}

static void test_realloc_keeps_contents(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new(&a, 8u << 20), 0);
  const sc_alloc *al = sim_arena_alloc(a);
  uint8_t *p = al->realloc(NULL, 100, al->user);
  for (unsigned k = 0; k < 100; k++)
    p[k] = (uint8_t)k;
  assert_ptr_equal(al->realloc(p, 120, al->user), p); /* same class: in place */
  uint8_t *q = al->realloc(p, 1000, al->user);        /* larger class */
  for (unsigned k = 0; k < 100; k++)
    assert_int_equal(q[k], (uint8_t)k);
  /* Beyond the largest class: libc, and back. */
  uint8_t *big = al->realloc(q, SIM_ARENA_OBJECT_MAX + 1, al->user);
  assert_non_null(big);
  for (unsigned k = 0; k < 100; k++)
    assert_int_equal(big[k], (uint8_t)k);
  uint8_t *bigger = al->realloc(big, 2 * SIM_ARENA_OBJECT_MAX, al->user);
  for (unsigned k = 0; k < 100; k++)
    assert_int_equal(bigger[k], (uint8_t)k);
  uint8_t *small = al->realloc(bigger, 64, al->user);
  for (unsigned k = 0; k < 64; k++)
    assert_int_equal(small[k], (uint8_t)k);
  al->free(small, al->user);
  sim_arena_del(a);
}

static void test_reservation_used_up(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new(&a, 2 * SIM_HUGE_PAGE), 0);
  const sc_alloc *al = sim_arena_alloc(a);
  /* Two classes take the two pages; a third class has none left. */
  assert_non_null(al->malloc(64, al->user));
  assert_non_null(al->malloc(128, al->user));
  assert_null(al->malloc(192, al->user));
  /* A class with a page keeps serving until the page is full. */
  unsigned n = 0;
  while (al->malloc(64, al->user))
    n++;
  assert_int_equal(n, SIM_HUGE_PAGE / 64 - 1);
  sim_arena_del(a);
}

/* A packed arena rounds to 16 bytes; sizes that are multiples of 64 still
 * start on a cache line. */
static void test_packed_grain(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new_packed(&a, 16u << 20), 0);
  const sc_alloc *al = sim_arena_alloc(a);
  uint8_t *x = al->malloc(70, al->user), *y = al->malloc(80, al->user); /* 80 bytes */
  assert_int_equal((uintptr_t)x % SIM_ARENA_GRAIN_PACKED, 0);
  assert_int_equal(y - x, 80);
  for (unsigned i = 0; i < 10; i++) {
    void *p = al->malloc(1536, al->user);
    assert_int_equal((uintptr_t)p % 64, 0);
  }
  uint8_t *q = al->realloc(x, 96, al->user); /* another class: moved, contents kept */
  memset(y, 7, 80);
  assert_ptr_not_equal(q, x);
  assert_ptr_equal(al->realloc(q, 90, al->user), q); /* same class */
  al->free(q, al->user);
  al->free(y, al->user);
  sim_arena_del(a);
}

/* A class with nothing free borrows a free object of a class at most a
 * quarter larger before carving new memory; the object goes back to its own
 * class when freed. */
static void test_lends_larger_free_objects(void **state) {
  (void)state;
  sim_arena *a;
  assert_int_equal(sim_arena_new_packed(&a, 256u << 20), 0);
  const sc_alloc *al = sim_arena_alloc(a);
  uint8_t *big = al->malloc(1536, al->user);
  assert_non_null(big);
  al->free(big, al->user);
  size_t used = sim_arena_used_bytes(a);
  /* 1,536 is more than a quarter above 1,200: new memory. */
  uint8_t *small = al->malloc(1200, al->user);
  assert_ptr_not_equal(small, big);
  assert_int_equal(sim_arena_used_bytes(a), used + SIM_HUGE_PAGE);
  used = sim_arena_used_bytes(a);
  /* Within a quarter: the free 1,536-byte object, no new memory. */
  uint8_t *lent = al->malloc(1300, al->user);
  assert_ptr_equal(lent, big);
  assert_int_equal(sim_arena_used_bytes(a), used);
  memset(lent, 3, 1300);
  /* Growing it within its own class keeps it in place. */
  assert_ptr_equal(al->realloc(lent, 1536, al->user), big);
  al->free(lent, al->user);
  /* Back in its own class: the next 1,536-byte request takes it. */
  assert_ptr_equal(al->malloc(1536, al->user), big);
  al->free(small, al->user);
  sim_arena_del(a);
}

static void test_huge_calloc(void **state) {
  (void)state;
  uint8_t *p = sim_huge_calloc(3, SIM_HUGE_PAGE);
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % SIM_HUGE_PAGE, 0);
  assert_int_equal(p[0] | p[3 * SIM_HUGE_PAGE - 1], 0);
  free(p);
  uint8_t *s = sim_huge_calloc(10, 10); /* small: plain calloc */
  assert_non_null(s);
  for (unsigned k = 0; k < 100; k++)
    assert_int_equal(s[k], 0);
  free(s);
  assert_null(sim_huge_calloc(SIZE_MAX / 2, 4));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_free_reuse),
      cmocka_unit_test(test_calloc_zeroes_recycled),
      cmocka_unit_test(test_realloc_keeps_contents),
      cmocka_unit_test(test_reservation_used_up),
      cmocka_unit_test(test_packed_grain),
      cmocka_unit_test(test_lends_larger_free_objects),
      cmocka_unit_test(test_huge_calloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
