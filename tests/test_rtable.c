/*
 * test_rtable.c — Pastry's routing table (core/rtable.h).
 *
 * Peers are built from the owner's id by keeping `row` leading digits and
 * setting digit `row` to `col`, so every test names its slot literally.
 * Allocation goes through a counting allocator that can be told to fail
 * (nghttp2's failmalloc): a failed row allocation must leave the table as it
 * was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/rtable.h"

/* ---- helpers ---- */

/* Digits 0..15 = 0..f, 16..31 = 0..f. */
static const sc_id kSelf = {0x0123456789abcdefULL, 0x0123456789abcdefULL};

#define ROW_BYTES   (SC_ID_BASE * sizeof(sc_rt_entry))
#define ENTRY_BYTES sizeof(sc_rt_entry)
/* Bytes of a tail holding n entries. */
#define TAIL_BYTES(n)                                                                    \
  (((n) + SC_RT_TAIL_STEP - 1) / SC_RT_TAIL_STEP * SC_RT_TAIL_STEP * ENTRY_BYTES)

/* A peer sharing exactly `row` digits with kSelf, digit `row` = col; tail
 * varies the last two digits so one slot can hold different peers. */
static sc_id peer_id(unsigned row, unsigned col, unsigned tail) {
  assert_true(row < 30);
  assert_int_not_equal(col, sc_id_digit(&kSelf, row));
  sc_id id = sc_id_with_digit(&kSelf, row, col);
  id = sc_id_with_digit(&id, 30, (tail >> 4) & 15);
  id = sc_id_with_digit(&id, 31, tail & 15);
  return id;
}

static sc_ref peer(unsigned row, unsigned col, unsigned tail) {
  sc_ref r = {peer_id(row, col, tail), 1000 + row * 100 + col * 4 + tail};
  return r;
}

/* Counts calls; fails the fail_at-th malloc (0-based), or every malloc if
 * fail_all. */
typedef struct counting {
  unsigned mallocs, frees;
  unsigned fail_at; /* UINT32_MAX: never */
  bool fail_all;
  size_t live_bytes;
} counting;

static void *counting_malloc(size_t size, void *user) {
  counting *c = user;
  unsigned n = c->mallocs++;
  if (c->fail_all || n == c->fail_at) return NULL;
  size_t *p = malloc(sizeof(size_t) * 2 + size); /* keep the size, stay aligned */
  assert_non_null(p);
  p[0] = size;
  c->live_bytes += size;
  return p + 2;
}

static void counting_free(void *ptr, void *user) {
  counting *c = user;
  if (ptr == NULL) return;
  size_t *p = (size_t *)ptr - 2;
  c->frees++;
  c->live_bytes -= p[0];
  free(p);
}

static void *never_calloc(size_t nmemb, size_t size, void *user) {
  (void)nmemb;
  (void)size;
  (void)user;
  fail_msg("rtable called calloc");
  return NULL;
}

static void *never_realloc(void *ptr, size_t size, void *user) {
  (void)ptr;
  (void)size;
  (void)user;
  fail_msg("rtable called realloc");
  return NULL;
}

static sc_alloc counting_alloc(counting *c) {
  sc_alloc a = {c, counting_malloc, counting_free, never_calloc, never_realloc};
  return a;
}

static void check_entry(const sc_rtable *rt, const sc_ref *r, uint32_t rtt_us) {
  unsigned row = 0, col = 0; /* cmocka asserts are not known to be noreturn */
  assert_true(sc_rtable_slot(rt, &r->id, &row, &col));
  const sc_rt_entry *e = sc_rtable_get(rt, row, col);
  assert_non_null(e);
  assert_true(sc_id_eq(&e->id, &r->id));
  assert_int_equal(e->addr, r->addr);
  assert_int_equal(e->rtt_us, rtt_us);
  assert_ptr_equal(sc_rtable_find(rt, &r->id), e);
}

/* ---- slots ---- */

static void test_slot(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  unsigned row = 99, col = 99;

  sc_id id = peer_id(0, 5, 0);
  assert_true(sc_rtable_slot(&rt, &id, &row, &col));
  assert_int_equal(row, 0);
  assert_int_equal(col, 5);

  id = peer_id(3, 0xf, 7);
  assert_true(sc_rtable_slot(&rt, &id, &row, &col));
  assert_int_equal(row, 3);
  assert_int_equal(col, 0xf);

  id = peer_id(15, 0, 0); /* digit 15 of kSelf is f: last row of the table */
  assert_true(sc_rtable_slot(&rt, &id, &row, &col));
  assert_int_equal(row, 15);
  assert_int_equal(col, 0);

  /* The owner, and peers sharing 16 or more digits, have no slot. */
  row = col = 99;
  assert_false(sc_rtable_slot(&rt, &kSelf, &row, &col));
  id = peer_id(16, 5, 0);
  assert_false(sc_rtable_slot(&rt, &id, &row, &col));
  id = kSelf;
  id.lo ^= 1; /* shares 31 digits */
  assert_false(sc_rtable_slot(&rt, &id, &row, &col));
  assert_int_equal(row, 99); /* untouched on false */
  assert_int_equal(col, 99);

  /* An empty table has nothing anywhere. */
  for (unsigned r = 0; r < SC_RT_ROWS_MAX + 2; r++)
    for (unsigned c = 0; c < SC_ID_BASE; c++)
      assert_null(sc_rtable_get(&rt, r, c));
  assert_null(sc_rtable_find(&rt, &kSelf));
  assert_int_equal(rt.count, 0);
  assert_int_equal(sc_rtable_mem_bytes(&rt), 0);
}

/* ---- insertion ---- */

static void test_insert_empty_slot(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();

  sc_ref p = peer(0, 5, 1);
  assert_int_equal(sc_rtable_consider(&rt, &p, 100, true, a), SC_RTABLE_INSERTED);
  check_entry(&rt, &p, 100);
  assert_int_equal(rt.count, 1);
  /* A new row starts sparse: one tail step, not a row of 16 slots. */
  assert_int_equal(sc_rtable_mem_bytes(&rt), TAIL_BYTES(1));
  for (unsigned c = 0; c < SC_ID_BASE; c++)
    if (c != 5) assert_null(sc_rtable_get(&rt, 0, c));

  /* Same row. Unknown RTT and pns=false still fill an empty slot. */
  sc_ref q = peer(0, 6, 1);
  assert_int_equal(sc_rtable_consider(&rt, &q, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_INSERTED);
  check_entry(&rt, &q, SC_RTT_UNKNOWN);
  sc_ref s = peer(0, 0xf, 3);
  assert_int_equal(sc_rtable_consider(&rt, &s, 70, false, a), SC_RTABLE_INSERTED);
  check_entry(&rt, &s, 70);
  assert_int_equal(rt.count, 3);
  assert_int_equal(sc_rtable_mem_bytes(&rt), TAIL_BYTES(3));

  /* Another row: one more entry in the tail. */
  sc_ref t = peer(4, 2, 0);
  assert_int_equal(sc_rtable_consider(&rt, &t, 5, true, a), SC_RTABLE_INSERTED);
  check_entry(&rt, &t, 5);
  assert_int_equal(rt.count, 4);
  assert_int_equal(sc_rtable_mem_bytes(&rt), TAIL_BYTES(4));

  /* A peer that merely shares the slot's prefix is not found. */
  sc_id other = peer_id(0, 5, 2);
  assert_null(sc_rtable_find(&rt, &other));
  sc_rtable_free(&rt, a);
}

static void test_unplaceable_refs(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  counting c = {0, 0, UINT32_MAX, false, 0};
  sc_alloc a = counting_alloc(&c);

  /* The owner, a peer beyond the last row, a peer without an address:
   * nothing changes and nothing is allocated. */
  sc_ref me = {kSelf, 7};
  assert_int_equal(sc_rtable_consider(&rt, &me, 10, true, &a), SC_RTABLE_UNCHANGED);
  sc_ref deep = {peer_id(20, 3, 0), 8};
  assert_int_equal(sc_rtable_consider(&rt, &deep, 10, true, &a), SC_RTABLE_UNCHANGED);
  sc_ref noaddr = {peer_id(2, 3, 0), SC_ADDR_NONE};
  assert_int_equal(sc_rtable_consider(&rt, &noaddr, 10, true, &a), SC_RTABLE_UNCHANGED);
  assert_int_equal(rt.count, 0);
  assert_int_equal(sc_rtable_mem_bytes(&rt), 0);
  assert_int_equal(c.mallocs, 0);
  assert_null(sc_rtable_find(&rt, &noaddr.id));
  sc_rtable_free(&rt, &a);
}

/* ---- proximity neighbour selection ---- */

static void test_pns_strictly_smaller(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();
  sc_ref occ = peer(1, 4, 1), cand = peer(1, 4, 2);

  assert_int_equal(sc_rtable_consider(&rt, &occ, 100, true, a), SC_RTABLE_INSERTED);
  /* Equal, larger, unmeasured: the occupant stays. */
  assert_int_equal(sc_rtable_consider(&rt, &cand, 100, true, a), SC_RTABLE_UNCHANGED);
  assert_int_equal(sc_rtable_consider(&rt, &cand, 101, true, a), SC_RTABLE_UNCHANGED);
  assert_int_equal(sc_rtable_consider(&rt, &cand, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_UNCHANGED);
  check_entry(&rt, &occ, 100);
  assert_null(sc_rtable_find(&rt, &cand.id));

  /* One microsecond nearer: replaced, count unchanged. */
  assert_int_equal(sc_rtable_consider(&rt, &cand, 99, true, a), SC_RTABLE_REPLACED);
  check_entry(&rt, &cand, 99);
  assert_null(sc_rtable_find(&rt, &occ.id));
  assert_int_equal(rt.count, 1);

  /* And back only if strictly nearer than the new occupant. */
  assert_int_equal(sc_rtable_consider(&rt, &occ, 99, true, a), SC_RTABLE_UNCHANGED);
  assert_int_equal(sc_rtable_consider(&rt, &occ, 0, true, a), SC_RTABLE_REPLACED);
  check_entry(&rt, &occ, 0);
  assert_int_equal(rt.count, 1);
  sc_rtable_free(&rt, a);
}

static void test_pns_unknown_occupant_yields(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();
  sc_ref occ = peer(2, 9, 1), cand = peer(2, 9, 2);

  assert_int_equal(sc_rtable_consider(&rt, &occ, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_INSERTED);
  /* Unknown does not displace unknown. */
  assert_int_equal(sc_rtable_consider(&rt, &cand, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_UNCHANGED);
  check_entry(&rt, &occ, SC_RTT_UNKNOWN);
  /* Any measured RTT, however large, does. */
  assert_int_equal(sc_rtable_consider(&rt, &cand, SC_RTT_UNKNOWN - 1, true, a),
                   SC_RTABLE_REPLACED);
  check_entry(&rt, &cand, SC_RTT_UNKNOWN - 1);
  assert_int_equal(rt.count, 1);
  sc_rtable_free(&rt, a);
}

static void test_no_replacement_without_pns(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();
  sc_ref occ = peer(0, 3, 1), cand = peer(0, 3, 2);
  sc_ref occ_u = peer(5, 1, 1), cand_u = peer(5, 1, 2);

  assert_int_equal(sc_rtable_consider(&rt, &occ, 1000, false, a), SC_RTABLE_INSERTED);
  assert_int_equal(sc_rtable_consider(&rt, &cand, 1, false, a), SC_RTABLE_UNCHANGED);
  assert_int_equal(sc_rtable_consider(&rt, &cand, 0, false, a), SC_RTABLE_UNCHANGED);
  check_entry(&rt, &occ, 1000);

  /* Not even over an unmeasured occupant. */
  assert_int_equal(sc_rtable_consider(&rt, &occ_u, SC_RTT_UNKNOWN, false, a),
                   SC_RTABLE_INSERTED);
  assert_int_equal(sc_rtable_consider(&rt, &cand_u, 1, false, a), SC_RTABLE_UNCHANGED);
  check_entry(&rt, &occ_u, SC_RTT_UNKNOWN);
  assert_null(sc_rtable_find(&rt, &cand.id));
  assert_null(sc_rtable_find(&rt, &cand_u.id));
  assert_int_equal(rt.count, 2);
  sc_rtable_free(&rt, a);
}

static void test_update_same_peer(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();
  sc_ref p = peer(7, 0, 5);

  assert_int_equal(sc_rtable_consider(&rt, &p, 100, true, a), SC_RTABLE_INSERTED);
  /* A new measurement replaces the old, smaller or larger. */
  assert_int_equal(sc_rtable_consider(&rt, &p, 50, true, a), SC_RTABLE_UPDATED);
  check_entry(&rt, &p, 50);
  assert_int_equal(sc_rtable_consider(&rt, &p, 200, true, a), SC_RTABLE_UPDATED);
  check_entry(&rt, &p, 200);
  /* Without pns too: it is the same peer. */
  assert_int_equal(sc_rtable_consider(&rt, &p, 150, false, a), SC_RTABLE_UPDATED);
  check_entry(&rt, &p, 150);
  /* No measurement, same address: nothing to update; the RTT is kept. */
  assert_int_equal(sc_rtable_consider(&rt, &p, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_UNCHANGED);
  check_entry(&rt, &p, 150);
  /* No measurement, new address: address updated, RTT kept. */
  sc_ref moved = p;
  moved.addr = 4242;
  assert_int_equal(sc_rtable_consider(&rt, &moved, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_UPDATED);
  check_entry(&rt, &moved, 150);
  /* New address and measurement together. */
  moved.addr = 4343;
  assert_int_equal(sc_rtable_consider(&rt, &moved, 60, false, a), SC_RTABLE_UPDATED);
  check_entry(&rt, &moved, 60);
  assert_int_equal(rt.count, 1);
  sc_rtable_free(&rt, a);
}

/* ---- removal ---- */

static void test_remove(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  const sc_alloc *a = sc_alloc_default();
  sc_ref p0 = peer(0, 9, 0), p3 = peer(3, 1, 0), p12 = peer(12, 4, 0);
  assert_int_equal(sc_rtable_consider(&rt, &p0, 10, true, a), SC_RTABLE_INSERTED);
  assert_int_equal(sc_rtable_consider(&rt, &p3, 10, true, a), SC_RTABLE_INSERTED);
  assert_int_equal(sc_rtable_consider(&rt, &p12, 10, true, a), SC_RTABLE_INSERTED);
  assert_int_equal(rt.count, 3);

  assert_int_equal(sc_rtable_remove(&rt, &p3.id), 3);
  assert_int_equal(rt.count, 2);
  assert_null(sc_rtable_get(&rt, 3, 1));
  assert_null(sc_rtable_find(&rt, &p3.id));
  assert_int_equal(sc_rtable_remove(&rt, &p3.id), -1); /* already gone */
  assert_int_equal(rt.count, 2);

  /* Another peer of the same slot is not the occupant: -1, occupant stays. */
  sc_id same_slot = peer_id(12, 4, 9);
  assert_int_equal(sc_rtable_remove(&rt, &same_slot), -1);
  check_entry(&rt, &p12, 10);
  /* The owner, a row never allocated, beyond the table: -1. */
  assert_int_equal(sc_rtable_remove(&rt, &kSelf), -1);
  sc_id unrow = peer_id(8, 9, 0);
  assert_int_equal(sc_rtable_remove(&rt, &unrow), -1);
  sc_id deep = peer_id(20, 1, 0);
  assert_int_equal(sc_rtable_remove(&rt, &deep), -1);
  assert_int_equal(rt.count, 2);

  assert_int_equal(sc_rtable_remove(&rt, &p12.id), 12);
  assert_int_equal(sc_rtable_remove(&rt, &p0.id), 0);
  assert_int_equal(rt.count, 0);
  for (unsigned r = 0; r < SC_RT_ROWS_MAX; r++)
    for (unsigned c = 0; c < SC_ID_BASE; c++)
      assert_null(sc_rtable_get(&rt, r, c));

  /* An emptied slot takes a newcomer as an empty slot, whatever its RTT. */
  sc_ref q = peer(3, 1, 7);
  assert_int_equal(sc_rtable_consider(&rt, &q, SC_RTT_UNKNOWN, true, a),
                   SC_RTABLE_INSERTED);
  check_entry(&rt, &q, SC_RTT_UNKNOWN);
  assert_int_equal(rt.count, 1);
  sc_rtable_free(&rt, a);
}

/* ---- sparse rows ---- */

static void test_sparse_rows(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  counting c = {0, 0, UINT32_MAX, false, 0};
  sc_alloc a = counting_alloc(&c);

  /* Rows 3 and 5 share the tail, their entries interleaved. */
  static const unsigned cols3[] = {0, 4, 9, 0xe}, cols5[] = {1, 2};
  for (unsigned i = 0; i < 4; i++) {
    sc_ref p = peer(3, cols3[i], 0);
    assert_int_equal(sc_rtable_consider(&rt, &p, 50 + i, true, &a), SC_RTABLE_INSERTED);
    if (i < 2) {
      sc_ref q = peer(5, cols5[i], 0);
      assert_int_equal(sc_rtable_consider(&rt, &q, 80 + i, true, &a), SC_RTABLE_INSERTED);
    }
  }
  assert_int_equal(rt.count, 6);
  assert_true(sc_rtable_has_row(&rt, 3));
  assert_false(sc_rtable_row_dense(&rt, 3));
  assert_false(sc_rtable_row_dense(&rt, 5));
  assert_false(sc_rtable_has_row(&rt, 4));
  assert_int_equal(sc_rtable_mem_bytes(&rt), TAIL_BYTES(6));
  assert_int_equal(c.live_bytes, sc_rtable_mem_bytes(&rt));
  for (unsigned col = 0; col < SC_ID_BASE; col++) {
    bool in3 = col == 0 || col == 4 || col == 9 || col == 0xe;
    assert_int_equal(sc_rtable_get(&rt, 3, col) != NULL, in3);
    assert_int_equal(sc_rtable_get(&rt, 5, col) != NULL, col == 1 || col == 2);
  }
  /* In a sparse row as in a dense one: PNS replaces, the same peer
   * updates, a farther one does not get in. */
  sc_ref near = peer(3, 4, 7), far = peer(3, 9, 7), same = peer(3, 0, 0);
  assert_int_equal(sc_rtable_consider(&rt, &near, 10, true, &a), SC_RTABLE_REPLACED);
  assert_int_equal(sc_rtable_consider(&rt, &far, 999, true, &a), SC_RTABLE_UNCHANGED);
  assert_int_equal(sc_rtable_consider(&rt, &same, 20, true, &a), SC_RTABLE_UPDATED);
  check_entry(&rt, &near, 10);
  check_entry(&rt, &same, 20);
  assert_int_equal(rt.count, 6);

  /* Row 3's fifth entry makes it dense; row 5 stays in the tail, which
   * shrinks to fit. */
  sc_ref fifth = peer(3, 0xf, 0);
  assert_int_equal(sc_rtable_consider(&rt, &fifth, 60, true, &a), SC_RTABLE_INSERTED);
  assert_true(sc_rtable_row_dense(&rt, 3));
  assert_false(sc_rtable_row_dense(&rt, 5));
  assert_int_equal(rt.count, 7);
  assert_int_equal(sc_rtable_mem_bytes(&rt), ROW_BYTES + TAIL_BYTES(2));
  assert_int_equal(c.live_bytes, sc_rtable_mem_bytes(&rt));
  check_entry(&rt, &near, 10);
  check_entry(&rt, &same, 20);
  check_entry(&rt, &fifth, 60);
  sc_ref p39 = peer(3, 9, 0), q51 = peer(5, 1, 0), q52 = peer(5, 2, 0);
  check_entry(&rt, &p39, 52);
  check_entry(&rt, &q51, 80);
  check_entry(&rt, &q52, 81);

  /* Removing from a sparse row: the row stays known (has_row), the tail
   * keeps its size, and the slot takes a new peer. */
  assert_int_equal(sc_rtable_remove(&rt, &q51.id), 5);
  assert_int_equal(sc_rtable_remove(&rt, &q51.id), -1);
  sc_id other = peer_id(5, 2, 9); /* same slot, not the occupant */
  assert_int_equal(sc_rtable_remove(&rt, &other), -1);
  assert_int_equal(rt.count, 6);
  assert_true(sc_rtable_has_row(&rt, 5));
  assert_null(sc_rtable_get(&rt, 5, 1));
  check_entry(&rt, &q52, 81);
  assert_int_equal(sc_rtable_remove(&rt, &q52.id), 5);
  assert_true(sc_rtable_has_row(&rt, 5));
  assert_int_equal(sc_rtable_mem_bytes(&rt), ROW_BYTES + TAIL_BYTES(2));
  sc_ref q53 = peer(5, 3, 0);
  assert_int_equal(sc_rtable_consider(&rt, &q53, 5, true, &a), SC_RTABLE_INSERTED);
  check_entry(&rt, &q53, 5);
  assert_int_equal(rt.count, 6);

  /* A dense row that was sparse keeps its slots when emptied. */
  assert_int_equal(sc_rtable_remove(&rt, &fifth.id), 3);
  assert_true(sc_rtable_row_dense(&rt, 3));
  assert_null(sc_rtable_get(&rt, 3, 0xf));
  sc_rtable_free(&rt, &a);
  assert_int_equal(c.frees, c.mallocs);
  assert_int_equal(c.live_bytes, 0);
}

/* ---- count, memory, free ---- */

static void test_count_mem_full_table(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  counting c = {0, 0, UINT32_MAX, false, 0};
  sc_alloc a = counting_alloc(&c);

  unsigned n = 0;
  for (unsigned r = 0; r < SC_RT_ROWS_MAX; r++) {
    for (unsigned col = 0; col < SC_ID_BASE; col++) {
      if (col == sc_id_digit(&kSelf, r)) continue;
      sc_ref p = peer(r, col, r);
      assert_int_equal(sc_rtable_consider(&rt, &p, r * 16 + col, true, &a),
                       SC_RTABLE_INSERTED);
      n++;
      assert_int_equal(rt.count, n);
      /* SC_RT_SPARSE_MAX entries in the tail, then a dense row. */
      unsigned in_row = n - r * (SC_ID_BASE - 1);
      size_t want = in_row <= SC_RT_SPARSE_MAX ? r * ROW_BYTES + TAIL_BYTES(in_row)
                                               : (r + 1) * ROW_BYTES;
      assert_int_equal(sc_rtable_mem_bytes(&rt), want);
    }
    /* The owner's own column stays empty in every row. */
    assert_null(sc_rtable_get(&rt, r, sc_id_digit(&kSelf, r)));
  }
  assert_int_equal(n, SC_RT_ROWS_MAX * (SC_ID_BASE - 1));
  /* Per row: the tail's steps to SC_RT_SPARSE_MAX, then the block. */
  assert_int_equal(c.mallocs, SC_RT_ROWS_MAX * (SC_RT_SPARSE_MAX / SC_RT_TAIL_STEP + 1));
  assert_int_equal(c.live_bytes, sc_rtable_mem_bytes(&rt));
  for (unsigned r = 0; r < SC_RT_ROWS_MAX; r++)
    for (unsigned col = 0; col < SC_ID_BASE; col++)
      if (col != sc_id_digit(&kSelf, r)) {
        sc_ref p = peer(r, col, r);
        check_entry(&rt, &p, r * 16 + col);
      }

  sc_rtable_free(&rt, &a);
  assert_int_equal(c.frees, c.mallocs);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(rt.count, 0);
  assert_int_equal(sc_rtable_mem_bytes(&rt), 0);
  sc_ref p = peer(0, 5, 0);
  assert_null(sc_rtable_find(&rt, &p.id));
  /* Usable again after free. */
  assert_int_equal(sc_rtable_consider(&rt, &p, 1, true, &a), SC_RTABLE_INSERTED);
  assert_int_equal(rt.count, 1);
  sc_rtable_free(&rt, &a);
  assert_int_equal(c.frees, c.mallocs);
}

/* ---- allocation failure ---- */

static void test_nomem(void **state) {
  (void)state;
  sc_rtable rt;
  sc_rtable_init(&rt, &kSelf);
  counting fail = {0, 0, UINT32_MAX, true, 0};
  sc_alloc bad = counting_alloc(&fail);
  const sc_alloc *good = sc_alloc_default();

  /* Empty table: the first row cannot be allocated. */
  sc_ref p = peer(0, 5, 0);
  assert_int_equal(sc_rtable_consider(&rt, &p, 10, true, &bad), SC_ERR_NOMEM);
  assert_int_equal(fail.mallocs, 1);
  assert_int_equal(rt.count, 0);
  assert_int_equal(sc_rtable_mem_bytes(&rt), 0);
  assert_null(sc_rtable_find(&rt, &p.id));
  assert_null(sc_rtable_get(&rt, 0, 5));

  /* With room in the tail, row 0 needs no allocation; row 1, a second tail
   * step, still fails. */
  sc_ref q = peer(0, 6, 0);
  assert_int_equal(sc_rtable_consider(&rt, &q, 10, true, good), SC_RTABLE_INSERTED);
  assert_int_equal(sc_rtable_consider(&rt, &p, 20, true, &bad), SC_RTABLE_INSERTED);
  sc_ref s = peer(1, 0, 0);
  assert_int_equal(sc_rtable_consider(&rt, &s, 10, true, &bad), SC_ERR_NOMEM);
  assert_int_equal(rt.count, 2);
  assert_int_equal(sc_rtable_mem_bytes(&rt), TAIL_BYTES(2));
  assert_null(sc_rtable_find(&rt, &s.id));
  assert_null(sc_rtable_get(&rt, 1, 0));
  check_entry(&rt, &p, 20);
  check_entry(&rt, &q, 10);
  /* Replacement and update in an existing row need no memory either. */
  sc_ref p2 = peer(0, 5, 1);
  assert_int_equal(sc_rtable_consider(&rt, &p2, 5, true, &bad), SC_RTABLE_REPLACED);
  assert_int_equal(sc_rtable_consider(&rt, &q, 7, true, &bad), SC_RTABLE_UPDATED);
  check_entry(&rt, &p2, 5);
  check_entry(&rt, &q, 7);

  /* The failed call left nothing half-done: a retry with memory succeeds. */
  assert_int_equal(sc_rtable_consider(&rt, &s, 10, true, good), SC_RTABLE_INSERTED);
  check_entry(&rt, &s, 10);
  assert_int_equal(rt.count, 3);
  sc_rtable_free(&rt, good);
}

/* failmalloc: run one scenario failing the k-th allocation, for every k. */
static void test_failmalloc_sweep(void **state) {
  (void)state;
  static const unsigned spec[][3] = {
      {0, 5, 0},  {0, 7, 0}, {2, 0, 0}, {0, 5, 1}, {9, 3, 0},  {2, 1, 0},
      {15, 1, 0}, {9, 4, 0}, {4, 5, 0}, {2, 0, 2}, {15, 2, 0}, {1, 0, 0},
      {9, 5, 0},  {9, 6, 0}, {9, 7, 0}, {9, 8, 0}, {0, 8, 0},
  };
  enum { N = sizeof(spec) / sizeof(spec[0]) };
  sc_ref refs[N];
  for (unsigned i = 0; i < N; i++)
    refs[i] = peer(spec[i][0], spec[i][1], spec[i][2]);

  /* Reference run without failures. */
  sc_rtable want;
  sc_rtable_init(&want, &kSelf);
  counting c0 = {0, 0, UINT32_MAX, false, 0};
  sc_alloc a0 = counting_alloc(&c0);
  int want_rc[N];
  for (unsigned i = 0; i < N; i++) {
    want_rc[i] = sc_rtable_consider(&want, &refs[i], 100 - i, true, &a0);
    assert_true(want_rc[i] >= 0);
  }
  /* Tail steps at 0, 2, 4, 6, 8 and 10 entries; row 9's fifth entry makes
   * it dense (the block, and the tail shrunk from 12 slots to 8), then one
   * more tail step. */
  assert_int_equal(c0.mallocs, 9);
  assert_true(sc_rtable_row_dense(&want, 9));
  assert_false(sc_rtable_row_dense(&want, 0));

  for (unsigned k = 0; k < c0.mallocs; k++) {
    sc_rtable rt;
    sc_rtable_init(&rt, &kSelf);
    counting c = {0, 0, k, false, 0};
    sc_alloc a = counting_alloc(&c);
    unsigned failures = 0;
    for (unsigned i = 0; i < N; i++) {
      uint32_t count = rt.count;
      size_t mem = sc_rtable_mem_bytes(&rt);
      int rc = sc_rtable_consider(&rt, &refs[i], 100 - i, true, &a);
      if (rc == SC_ERR_NOMEM) {
        failures++;
        assert_int_equal(rt.count, count);
        assert_int_equal(sc_rtable_mem_bytes(&rt), mem);
        assert_null(sc_rtable_find(&rt, &refs[i].id));
        rc = sc_rtable_consider(&rt, &refs[i], 100 - i, true, &a); /* retry */
      }
      assert_int_equal(rc, want_rc[i]);
    }
    assert_int_equal(failures, 1);
    /* Same table as without the failure. */
    assert_int_equal(rt.count, want.count);
    assert_int_equal(sc_rtable_mem_bytes(&rt), sc_rtable_mem_bytes(&want));
    for (unsigned r = 0; r < SC_RT_ROWS_MAX; r++)
      for (unsigned col = 0; col < SC_ID_BASE; col++) {
        const sc_rt_entry *x = sc_rtable_get(&rt, r, col),
                          *y = sc_rtable_get(&want, r, col);
        assert_int_equal(x == NULL, y == NULL);
        if (x) {
          assert_true(sc_id_eq(&x->id, &y->id));
          assert_int_equal(x->addr, y->addr);
          assert_int_equal(x->rtt_us, y->rtt_us);
        }
      }
    sc_rtable_free(&rt, &a);
    assert_int_equal(c.live_bytes, 0);
  }
  sc_rtable_free(&want, &a0);
  assert_int_equal(c0.live_bytes, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slot),
      cmocka_unit_test(test_insert_empty_slot),
      cmocka_unit_test(test_unplaceable_refs),
      cmocka_unit_test(test_pns_strictly_smaller),
      cmocka_unit_test(test_pns_unknown_occupant_yields),
      cmocka_unit_test(test_no_replacement_without_pns),
      cmocka_unit_test(test_update_same_peer),
      cmocka_unit_test(test_remove),
      cmocka_unit_test(test_sparse_rows),
      cmocka_unit_test(test_count_mem_full_table),
      cmocka_unit_test(test_nomem),
      cmocka_unit_test(test_failmalloc_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
