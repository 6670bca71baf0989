/*
 * test_leafset.c — Pastry's leaf set (core/leafset.h).
 *
 * Small literal ids show the ordering, eviction and coverage rules one at a
 * time; seeded random ids are checked against a brute-force "true l/2 nearest
 * on each side", both on the whole ring and in a narrow band around id 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/leafset.h"
#include "core/rng.h"

/* ---- helpers ---- */

#define MAX64 UINT64_MAX
#define TOP64 0x8000000000000000ULL

static sc_id mk(uint64_t hi, uint64_t lo) {
  sc_id id = {hi, lo};
  return id;
}

/* A small id (hi = 0) and a reference to it whose address is derived from it. */
static sc_id lo_id(uint64_t lo) {
  return mk(0, lo);
}

static sc_ref ref_of(sc_id id) {
  sc_ref r = {id, (sc_addr)(id.lo ^ id.hi) & 0xffffff};
  return r;
}

static bool ins(sc_leafset *ls, sc_id id) {
  sc_ref r = ref_of(id);
  return sc_leafset_insert(ls, &r);
}

static bool ins_lo(sc_leafset *ls, uint64_t lo) {
  return ins(ls, lo_id(lo));
}

/* Asserts one side holds exactly the given ids, nearest first. */
static void check_side(const sc_ref *side, unsigned n, const sc_id *want, unsigned nwant,
                       const char *name) {
  if (n != nwant) fail_msg("%s side has %u members, want %u", name, n, nwant);
  for (unsigned i = 0; i < n; i++) {
    if (!sc_id_eq(&side[i].id, &want[i]))
      fail_msg("%s[%u] = %016llx%016llx, want %016llx%016llx", name, i,
               (unsigned long long)side[i].id.hi, (unsigned long long)side[i].id.lo,
               (unsigned long long)want[i].hi, (unsigned long long)want[i].lo);
    sc_ref r = ref_of(want[i]);
    assert_int_equal(side[i].addr, r.addr);
  }
}

static void check_lo(const sc_leafset *ls, const uint64_t *left, unsigned nleft,
                     const uint64_t *right, unsigned nright) {
  sc_id l[SC_LEAFSET_HALF_MAX], r[SC_LEAFSET_HALF_MAX];
  assert_true(nleft <= SC_LEAFSET_HALF_MAX && nright <= SC_LEAFSET_HALF_MAX);
  for (unsigned i = 0; i < nleft; i++)
    l[i] = lo_id(left[i]);
  for (unsigned i = 0; i < nright; i++)
    r[i] = lo_id(right[i]);
  check_side(ls->left, ls->nleft, l, nleft, "left");
  check_side(ls->right, ls->nright, r, nright, "right");
  assert_int_equal(sc_leafset_count(ls), nleft + nright);
}

/* Asserts a and b hold the same members in the same places. */
static void check_same(const sc_leafset *a, const sc_leafset *b) {
  assert_true(sc_id_eq(&a->self, &b->self));
  assert_int_equal(a->half, b->half);
  assert_int_equal(a->nleft, b->nleft);
  assert_int_equal(a->nright, b->nright);
  for (unsigned i = 0; i < a->nleft; i++) {
    assert_true(sc_id_eq(&a->left[i].id, &b->left[i].id));
    assert_int_equal(a->left[i].addr, b->left[i].addr);
  }
  for (unsigned i = 0; i < a->nright; i++) {
    assert_true(sc_id_eq(&a->right[i].id, &b->right[i].id));
    assert_int_equal(a->right[i].addr, b->right[i].addr);
  }
}

static bool covers_lo(const sc_leafset *ls, uint64_t lo) {
  sc_id k = lo_id(lo);
  return sc_leafset_covers(ls, &k);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- basic ordering ---- */

static void test_init_empty(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  assert_int_equal(sc_leafset_count(&ls), 0);
  sc_id k = lo_id(1000);
  assert_null(sc_leafset_find(&ls, &k));
  /* Nothing known: the owner is alone and owns every key. */
  assert_true(covers_lo(&ls, 0));
  assert_true(covers_lo(&ls, 123456789));
  sc_id far = mk(TOP64, 0);
  assert_true(sc_leafset_covers(&ls, &far));
}

static void test_order_nearest_first(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  /* Larger ids in scrambled order, then smaller ones in scrambled order. */
  static const uint64_t in[] = {1030, 1010, 1040, 1020, 970, 990, 960, 980};
  for (size_t i = 0; i < N_OF(in); i++)
    assert_true(ins_lo(&ls, in[i]));
  static const uint64_t left[] = {990, 980, 970, 960};
  static const uint64_t right[] = {1010, 1020, 1030, 1040};
  check_lo(&ls, left, 4, right, 4);

  /* sc_leafset_at walks the left side first, then the right. */
  for (unsigned i = 0; i < 4; i++) {
    assert_int_equal(sc_leafset_at(&ls, i)->id.lo, left[i]);
    assert_int_equal(sc_leafset_at(&ls, 4 + i)->id.lo, right[i]);
  }
  /* find returns the member with its address. */
  sc_id k = lo_id(1030);
  const sc_ref *f = sc_leafset_find(&ls, &k);
  assert_non_null(f);
  assert_true(sc_id_eq(&f->id, &k));
  assert_int_equal(f->addr, ref_of(k).addr);
  k = lo_id(1035);
  assert_null(sc_leafset_find(&ls, &k));
}

static void test_evict_farthest(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  static const uint64_t in[] = {1010, 1020, 1030, 1040, 990, 980, 970, 960};
  for (size_t i = 0; i < N_OF(in); i++)
    ins_lo(&ls, in[i]);

  /* A nearer peer on the right pushes out the farthest right member. */
  assert_true(ins_lo(&ls, 1015));
  static const uint64_t r1[] = {1010, 1015, 1020, 1030};
  static const uint64_t l0[] = {990, 980, 970, 960};
  check_lo(&ls, l0, 4, r1, 4);
  sc_id gone = lo_id(1040);
  assert_null(sc_leafset_find(&ls, &gone));

  /* A new nearest on the left: goes first, 960 drops. */
  assert_true(ins_lo(&ls, 999));
  static const uint64_t l1[] = {999, 990, 980, 970};
  check_lo(&ls, l1, 4, r1, 4);

  /* Beyond the farthest of a full side: refused, nothing moves. */
  assert_false(ins_lo(&ls, 1031));
  assert_false(ins_lo(&ls, 969));
  assert_false(ins_lo(&ls, 1040)); /* the one evicted earlier */
  assert_false(ins(&ls, mk(TOP64, 0)));
  check_lo(&ls, l1, 4, r1, 4);

  /* Just inside the farthest: accepted at the end. */
  assert_true(ins_lo(&ls, 1029));
  static const uint64_t r2[] = {1010, 1015, 1020, 1029};
  check_lo(&ls, l1, 4, r2, 4);
}

static void test_duplicates_and_owner_ignored(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  static const uint64_t in[] = {1010, 1020, 990, 980};
  for (size_t i = 0; i < N_OF(in); i++)
    ins_lo(&ls, in[i]);
  sc_leafset before = ls;

  /* Re-inserting any member (nearest, farthest, other side) changes nothing. */
  for (size_t i = 0; i < N_OF(in); i++) {
    assert_false(ins_lo(&ls, in[i]));
    assert_false(sc_leafset_would_insert(&ls, &(sc_id){0, in[i]}));
  }
  check_same(&ls, &before);

  /* The owner is never a member. */
  assert_false(ins(&ls, self));
  assert_false(sc_leafset_would_insert(&ls, &self));
  assert_null(sc_leafset_find(&ls, &self));
  assert_int_equal(sc_leafset_count(&ls), before.nleft + before.nright);

  /* Also on an empty leaf set, where anything else would be taken. */
  sc_leafset empty;
  sc_leafset_init(&empty, &self, 4);
  assert_false(ins(&empty, self));
  assert_int_equal(sc_leafset_count(&empty), 0);
}

static void test_remove(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  static const uint64_t in[] = {1010, 1020, 1030, 1040, 990, 980, 970, 960};
  for (size_t i = 0; i < N_OF(in); i++)
    ins_lo(&ls, in[i]);

  sc_id k = lo_id(1020);
  assert_true(sc_leafset_remove(&ls, &k));
  static const uint64_t r1[] = {1010, 1030, 1040};
  static const uint64_t l0[] = {990, 980, 970, 960};
  check_lo(&ls, l0, 4, r1, 3);
  assert_null(sc_leafset_find(&ls, &k));
  assert_false(sc_leafset_remove(&ls, &k)); /* already gone */

  k = lo_id(990); /* the predecessor */
  assert_true(sc_leafset_remove(&ls, &k));
  static const uint64_t l1[] = {980, 970, 960};
  check_lo(&ls, l1, 3, r1, 3);

  k = lo_id(960); /* the farthest */
  assert_true(sc_leafset_remove(&ls, &k));
  static const uint64_t l2[] = {980, 970};
  check_lo(&ls, l2, 2, r1, 3);

  /* Absent ids and the owner: false, nothing changes. */
  k = lo_id(1035);
  assert_false(sc_leafset_remove(&ls, &k));
  assert_false(sc_leafset_remove(&ls, &self));
  check_lo(&ls, l2, 2, r1, 3);

  /* A freed place can be refilled. The left side, now short of l/2, takes
   * the newcomer too (as its farthest member, the long way round): a short
   * side stands for "the whole ring is known". */
  assert_true(ins_lo(&ls, 1025));
  static const uint64_t r2[] = {1010, 1025, 1030, 1040};
  static const uint64_t l3[] = {980, 970, 1025};
  check_lo(&ls, l3, 3, r2, 4);
}

/* ---- would_insert ---- */

static void test_would_insert_agrees(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 31);
  for (int round = 0; round < 20; round++) {
    sc_leafset ls;
    sc_id self = lo_id(1u << 20);
    unsigned half = 1 + sc_rng_below(&r, SC_LEAFSET_HALF_MAX);
    sc_leafset_init(&ls, &self, half);
    for (int n = 0; n < 300; n++) {
      /* Ids in a narrow band around self (with repeats and the owner), now
       * and then one from anywhere on the ring. */
      sc_id id = sc_rng_below(&r, 10) == 0 ? mk(sc_rng_next(&r), sc_rng_next(&r))
                                           : lo_id(sc_rng_below(&r, 1u << 21));
      bool would = sc_leafset_would_insert(&ls, &id);
      sc_leafset before = ls;
      bool did = ins(&ls, id);
      if (would != did)
        fail_msg("round %d op %d: would_insert %d, insert %d (half %u)", round, n, would,
                 did, half);
      if (did)
        assert_non_null(sc_leafset_find(&ls, &id));
      else
        check_same(&ls, &before);                      /* untouched */
      assert_false(sc_leafset_would_insert(&ls, &id)); /* now present or refused */
    }
  }
}

/* ---- covers ---- */

static void test_covers_full(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  static const uint64_t in[] = {1010, 1020, 1030, 1040, 990, 980, 970, 960};
  for (size_t i = 0; i < N_OF(in); i++)
    ins_lo(&ls, in[i]);

  /* Inside, including the owner and both far ends. */
  for (uint64_t k = 960; k <= 1040; k++)
    if (!covers_lo(&ls, k)) fail_msg("key %llu should be covered", (unsigned long long)k);
  /* Outside, just past either end and far away. */
  assert_false(covers_lo(&ls, 959));
  assert_false(covers_lo(&ls, 1041));
  assert_false(covers_lo(&ls, 0));
  assert_false(covers_lo(&ls, 100000));
  sc_id far = mk(TOP64, 1000);
  assert_false(sc_leafset_covers(&ls, &far));
  far = mk(MAX64, MAX64);
  assert_false(sc_leafset_covers(&ls, &far));
}

static void test_covers_side_not_full(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  static const uint64_t in[] = {1010, 1020, 1030, 1040, 990, 980, 970, 960};
  for (size_t i = 0; i < N_OF(in); i++)
    ins_lo(&ls, in[i]);
  assert_false(covers_lo(&ls, 5000));

  /* Drop one on the right: fewer than l/2 there means the whole ring is
   * known, so every key is covered. */
  sc_id k = lo_id(1030);
  assert_true(sc_leafset_remove(&ls, &k));
  assert_true(covers_lo(&ls, 5000));
  assert_true(covers_lo(&ls, 0));
  sc_id far = mk(TOP64, 0);
  assert_true(sc_leafset_covers(&ls, &far));
  /* Refill: back to a bounded range. */
  ins_lo(&ls, 1030);
  assert_false(covers_lo(&ls, 5000));

  /* Same on the left. */
  k = lo_id(960);
  assert_true(sc_leafset_remove(&ls, &k));
  assert_true(covers_lo(&ls, 5000));
  assert_true(covers_lo(&ls, 900));
}

/* ---- small rings and wrap-around ---- */

static void test_small_ring_both_sides(void **state) {
  (void)state;
  sc_leafset ls;
  sc_id self = lo_id(1000);
  sc_leafset_init(&ls, &self, 4);
  /* Three other peers in the whole overlay: each is among the four nearest
   * both clockwise and counter-clockwise. */
  assert_true(ins_lo(&ls, 2000));
  assert_true(ins_lo(&ls, 500));
  assert_true(ins_lo(&ls, 1010));
  /* Clockwise from 1000: 1010, 2000, then round the ring to 500. */
  static const uint64_t right[] = {1010, 2000, 500};
  /* Counter-clockwise from 1000: 500, then round the ring to 2000, 1010. */
  static const uint64_t left[] = {500, 2000, 1010};
  check_lo(&ls, left, 3, right, 3);
  assert_int_equal(sc_leafset_count(&ls), 6); /* members counted per side */
  /* Every key belongs to one of the four. */
  assert_true(covers_lo(&ls, 0));
  sc_id far = mk(TOP64, 0);
  assert_true(sc_leafset_covers(&ls, &far));

  /* Removing a peer removes it from both sides. */
  sc_id k = lo_id(2000);
  assert_true(sc_leafset_remove(&ls, &k));
  static const uint64_t right2[] = {1010, 500};
  static const uint64_t left2[] = {500, 1010};
  check_lo(&ls, left2, 2, right2, 2);
  assert_null(sc_leafset_find(&ls, &k));

  /* Exactly l peers with half = 2: sides fill from opposite ends. */
  sc_leafset_init(&ls, &self, 2);
  static const uint64_t in[] = {1100, 900, 1200, 800};
  for (size_t i = 0; i < N_OF(in); i++)
    assert_true(ins_lo(&ls, in[i]));
  static const uint64_t l3[] = {900, 800};
  static const uint64_t r3[] = {1100, 1200};
  check_lo(&ls, l3, 2, r3, 2);

  /* One peer alone: it is both predecessor and successor. */
  sc_leafset_init(&ls, &self, 1);
  assert_true(ins_lo(&ls, 7));
  static const uint64_t only[] = {7};
  check_lo(&ls, only, 1, only, 1);
  assert_true(covers_lo(&ls, 123));
  assert_true(covers_lo(&ls, 1000000));
}

static void test_wrap_around_zero(void **state) {
  (void)state;
  sc_leafset ls;
  /* Owner just above 0: its left side wraps to the top of the ring. */
  sc_id self = lo_id(2);
  sc_leafset_init(&ls, &self, 2);
  sc_id in[] = {
      mk(MAX64, MAX64 - 1), lo_id(4), mk(MAX64, MAX64), lo_id(3), lo_id(1), lo_id(5),
      mk(MAX64, MAX64 - 5)};
  for (size_t i = 0; i < N_OF(in); i++)
    ins(&ls, in[i]);
  sc_id left[] = {lo_id(1), mk(MAX64, MAX64)};
  sc_id right[] = {lo_id(3), lo_id(4)};
  check_side(ls.left, ls.nleft, left, 2, "left");
  check_side(ls.right, ls.nright, right, 2, "right");

  /* Coverage wraps too: from 2^128 - 1 through 0 up to 4. */
  assert_true(covers_lo(&ls, 0));
  assert_true(covers_lo(&ls, 1));
  assert_true(covers_lo(&ls, 4));
  sc_id k = mk(MAX64, MAX64);
  assert_true(sc_leafset_covers(&ls, &k));
  k = mk(MAX64, MAX64 - 1);
  assert_false(sc_leafset_covers(&ls, &k));
  assert_false(covers_lo(&ls, 5));
  k = mk(TOP64, 0);
  assert_false(sc_leafset_covers(&ls, &k));

  /* Owner at the top of the ring: its right side wraps past 0. */
  self = mk(MAX64, MAX64 - 1);
  sc_leafset_init(&ls, &self, 2);
  sc_id in2[] = {lo_id(1),         mk(MAX64, MAX64 - 3),
                 lo_id(0),         mk(MAX64, MAX64 - 2),
                 mk(MAX64, MAX64), lo_id(9)};
  for (size_t i = 0; i < N_OF(in2); i++)
    ins(&ls, in2[i]);
  sc_id left2[] = {mk(MAX64, MAX64 - 2), mk(MAX64, MAX64 - 3)};
  sc_id right2[] = {mk(MAX64, MAX64), lo_id(0)};
  check_side(ls.left, ls.nleft, left2, 2, "left");
  check_side(ls.right, ls.nright, right2, 2, "right");
  assert_true(covers_lo(&ls, 0));
  assert_false(covers_lo(&ls, 1));
  k = mk(MAX64, MAX64 - 3);
  assert_true(sc_leafset_covers(&ls, &k));
  k = mk(MAX64, MAX64 - 4);
  assert_false(sc_leafset_covers(&ls, &k));
}

/* ---- randomized against brute force ---- */

/* Keeps the `half` smallest distances (and their ids) in sorted order. */
typedef struct nearest {
  unsigned n, half;
  sc_id dist[SC_LEAFSET_HALF_MAX];
  sc_id id[SC_LEAFSET_HALF_MAX];
} nearest;

static void nearest_offer(nearest *t, sc_id id, sc_id dist) {
  unsigned i = t->n;
  while (i > 0 && sc_id_cmp(&dist, &t->dist[i - 1]) < 0)
    i--;
  if (i >= t->half) return;
  unsigned end = t->n < t->half ? t->n : t->half - 1;
  memmove(&t->dist[i + 1], &t->dist[i], (end - i) * sizeof(sc_id));
  memmove(&t->id[i + 1], &t->id[i], (end - i) * sizeof(sc_id));
  t->dist[i] = dist;
  t->id[i] = id;
  if (t->n < t->half) t->n++;
}

/* Inserts n distinct ids in the given order and, after every insertion,
 * compares both sides with the true nearest of the ids inserted so far. */
static void check_against_brute_force(const sc_id *self, const sc_id *ids, unsigned n,
                                      unsigned half) {
  sc_leafset ls;
  sc_leafset_init(&ls, self, half);
  for (unsigned k = 0; k < n; k++) {
    bool would = sc_leafset_would_insert(&ls, &ids[k]);
    assert_int_equal(ins(&ls, ids[k]), would);

    nearest cw = {0, half, {{0, 0}}, {{0, 0}}}, ccw = cw;
    for (unsigned j = 0; j <= k; j++) {
      nearest_offer(&cw, ids[j], sc_id_sub(&ids[j], self));
      nearest_offer(&ccw, ids[j], sc_id_sub(self, &ids[j]));
    }
    check_side(ls.right, ls.nright, cw.id, cw.n, "right");
    check_side(ls.left, ls.nleft, ccw.id, ccw.n, "left");
  }
}

/* Fills ids with n distinct values from gen, none equal to self. */
static void distinct_ids(sc_id *ids, unsigned n, const sc_id *self, sc_rng *r,
                         sc_id (*gen)(sc_rng *)) {
  unsigned have = 0;
  while (have < n) {
    sc_id c = gen(r);
    if (sc_id_eq(&c, self)) continue;
    bool dup = false;
    for (unsigned j = 0; j < have && !dup; j++)
      dup = sc_id_eq(&ids[j], &c);
    if (!dup) ids[have++] = c;
  }
}

static sc_id gen_anywhere(sc_rng *r) {
  sc_id id;
  id.hi = sc_rng_next(r);
  id.lo = sc_rng_next(r);
  return id;
}

/* Within 2^16 of id 0, on either side of it. */
static sc_id gen_near_zero(sc_rng *r) {
  uint64_t off = sc_rng_below(r, 1u << 16);
  return sc_rng_below(r, 2) ? mk(0, off) : mk(MAX64, MAX64 - off);
}

static void test_random_vs_brute_force(void **state) {
  (void)state;
  enum { N = 1000, HALF = 8 };
  static sc_id ids[N];
  sc_rng r;
  sc_rng_seed(&r, 20240611);

  /* Whole ring, random owner, random order. */
  sc_id self = gen_anywhere(&r);
  distinct_ids(ids, N, &self, &r, gen_anywhere);
  check_against_brute_force(&self, ids, N, HALF);

  /* Dense band around 0 with the owner at 0 (both sides wrap) and at the top
   * of the ring: every insertion contends for a place. */
  self = mk(0, 0);
  distinct_ids(ids, N, &self, &r, gen_near_zero);
  check_against_brute_force(&self, ids, N, HALF);
  self = mk(MAX64, MAX64 - 3);
  distinct_ids(ids, N, &self, &r, gen_near_zero);
  check_against_brute_force(&self, ids, N, HALF);

  /* The largest leaf set the header allows. */
  self = gen_anywhere(&r);
  distinct_ids(ids, N, &self, &r, gen_anywhere);
  check_against_brute_force(&self, ids, N, SC_LEAFSET_HALF_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_empty),
      cmocka_unit_test(test_order_nearest_first),
      cmocka_unit_test(test_evict_farthest),
      cmocka_unit_test(test_duplicates_and_owner_ignored),
      cmocka_unit_test(test_remove),
      cmocka_unit_test(test_would_insert_agrees),
      cmocka_unit_test(test_covers_full),
      cmocka_unit_test(test_covers_side_not_full),
      cmocka_unit_test(test_small_ring_both_sides),
      cmocka_unit_test(test_wrap_around_zero),
      cmocka_unit_test(test_random_vs_brute_force),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
