/*
 * test_id.c — 128-bit ids and digit arithmetic (core/id.h).
 *
 * Fixed ids check the edges (digit 15/16 and the 64-bit word boundary, the
 * wrap at 0, the antipode); seeded random ids are checked against an
 * independent 128-bit reference built on the compiler's unsigned __int128.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/id.h"
#include "core/rng.h"

/* ---- helpers ---- */

/* The reference: plain 128-bit unsigned arithmetic. __extension__ keeps
 * -Wpedantic quiet about a type ISO C does not have. */
__extension__ typedef unsigned __int128 u128;

static u128 to_u128(sc_id id) {
  return ((u128)id.hi << 64) | id.lo;
}

static sc_id from_u128(u128 v) {
  sc_id id = {(uint64_t)(v >> 64), (uint64_t)v};
  return id;
}

static sc_id mk(uint64_t hi, uint64_t lo) {
  sc_id id = {hi, lo};
  return id;
}

static sc_id rand_id(sc_rng *r) {
  sc_id id;
  id.hi = sc_rng_next(r);
  id.lo = sc_rng_next(r);
  return id;
}

static void assert_id_equal(sc_id got, sc_id want) {
  if (!sc_id_eq(&got, &want))
    fail_msg("id %016llx%016llx, want %016llx%016llx", (unsigned long long)got.hi,
             (unsigned long long)got.lo, (unsigned long long)want.hi,
             (unsigned long long)want.lo);
}

static u128 ref_dist(u128 a, u128 b) {
  u128 d1 = a - b, d2 = b - a;
  return d1 < d2 ? d1 : d2;
}

#define MAX64 UINT64_MAX
#define TOP64 0x8000000000000000ULL

/* digits 0..15 = 0,1,..,f; digits 16..31 = f,e,..,0 */
static const sc_id kDigits = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};

/* ---- digits ---- */

static void test_digit(void **state) {
  (void)state;
  for (unsigned i = 0; i < 16; i++)
    assert_int_equal(sc_id_digit(&kDigits, i), i);
  for (unsigned i = 16; i < 32; i++)
    assert_int_equal(sc_id_digit(&kDigits, i), 31 - i);

  sc_id zero = mk(0, 0), ones = mk(MAX64, MAX64);
  for (unsigned i = 0; i < SC_ID_DIGITS; i++) {
    assert_int_equal(sc_id_digit(&zero, i), 0);
    assert_int_equal(sc_id_digit(&ones, i), 15);
  }
  /* One set bit at each word's top and bottom lands in the right digit. */
  sc_id top = mk(TOP64, 0), hi_low = mk(1, 0), lo_top = mk(0, TOP64), lo_low = mk(0, 1);
  assert_int_equal(sc_id_digit(&top, 0), 8);
  assert_int_equal(sc_id_digit(&hi_low, 15), 1);
  assert_int_equal(sc_id_digit(&hi_low, 16), 0);
  assert_int_equal(sc_id_digit(&lo_top, 16), 8);
  assert_int_equal(sc_id_digit(&lo_top, 15), 0);
  assert_int_equal(sc_id_digit(&lo_low, 31), 1);
}

static void test_cmp_eq(void **state) {
  (void)state;
  sc_id a = mk(1, 0), b = mk(0, MAX64), c = mk(1, 0);
  assert_true(sc_id_eq(&a, &c));
  assert_false(sc_id_eq(&a, &b));
  assert_int_equal(sc_id_cmp(&a, &b), 1); /* hi decides first */
  assert_int_equal(sc_id_cmp(&b, &a), -1);
  assert_int_equal(sc_id_cmp(&a, &c), 0);
  sc_id d = mk(5, 3), e = mk(5, 4);
  assert_int_equal(sc_id_cmp(&d, &e), -1);
  assert_int_equal(sc_id_cmp(&e, &d), 1);

  sc_rng r;
  sc_rng_seed(&r, 11);
  for (int n = 0; n < 2000; n++) {
    sc_id x = rand_id(&r), y = rand_id(&r);
    if (n % 4 == 0) y.hi = x.hi; /* exercise the lo comparison too */
    u128 ux = to_u128(x), uy = to_u128(y);
    assert_int_equal(sc_id_cmp(&x, &y), ux < uy ? -1 : ux > uy ? 1 : 0);
  }
}

/* ---- shared prefix length ---- */

static void test_shl_fixed(void **state) {
  (void)state;
  sc_id a, b;

  a = mk(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  assert_int_equal(sc_id_shl(&a, &a), 32); /* equal */

  b = sc_id_with_digit(&a, 0, 0xf); /* first digit differs */
  assert_int_equal(sc_id_shl(&a, &b), 0);
  b = mk(a.hi ^ 1, a.lo); /* last digit of hi */
  assert_int_equal(sc_id_shl(&a, &b), 15);
  b = mk(a.hi, a.lo ^ TOP64); /* first digit of lo */
  assert_int_equal(sc_id_shl(&a, &b), 16);
  b = mk(a.hi, a.lo ^ 1); /* last bit */
  assert_int_equal(sc_id_shl(&a, &b), 31);
  b = mk(a.hi, a.lo ^ 0x10); /* digit 30 */
  assert_int_equal(sc_id_shl(&a, &b), 30);

  /* Adjacent ids: x and x + 1. */
  a = mk(0, 0x10);
  b = mk(0, 0x11);
  assert_int_equal(sc_id_shl(&a, &b), 31);
  a = mk(0, 0x0f);
  b = mk(0, 0x10); /* a carry into digit 30 */
  assert_int_equal(sc_id_shl(&a, &b), 30);
  /* Adjacent across the 64-bit boundary: 5:ff..ff + 1 = 6:00..00. */
  a = mk(5, MAX64);
  b = mk(6, 0);
  assert_int_equal(sc_id_shl(&a, &b), 15);
  assert_int_equal(sc_id_shl(&b, &a), 15);
  /* 0:ff..ff + 1 = 1:00..00 */
  a = mk(0, MAX64);
  b = mk(1, 0);
  assert_int_equal(sc_id_shl(&a, &b), 15);
  /* 0x0f..ff:ff..ff + 1 = 0x10..00:00..00 */
  a = mk(0x0fffffffffffffffULL, MAX64);
  b = mk(0x1000000000000000ULL, 0);
  assert_int_equal(sc_id_shl(&a, &b), 0);

  /* Distant ids. */
  a = mk(0, 0);
  b = mk(MAX64, MAX64);
  assert_int_equal(sc_id_shl(&a, &b), 0);
  b = mk(TOP64, 0);
  assert_int_equal(sc_id_shl(&a, &b), 0);
  b = mk(0x0800000000000000ULL, 0); /* differs in digit 1 */
  assert_int_equal(sc_id_shl(&a, &b), 1);
  b = mk(0, TOP64); /* numerically far (2^63) yet shares the whole hi word */
  assert_int_equal(sc_id_shl(&a, &b), 16);
}

static unsigned ref_shl(sc_id a, sc_id b) {
  unsigned n = 0;
  while (n < SC_ID_DIGITS && sc_id_digit(&a, n) == sc_id_digit(&b, n))
    n++;
  return n;
}

static void test_shl_random(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 1234);
  for (int n = 0; n < 5000; n++) {
    sc_id a = rand_id(&r);
    /* b shares a random number of leading digits with a, then differs. */
    unsigned keep = sc_rng_below(&r, SC_ID_DIGITS + 1);
    sc_id b = a;
    if (keep < SC_ID_DIGITS) {
      unsigned d = (sc_id_digit(&a, keep) + 1 + sc_rng_below(&r, 15)) & 15;
      b = sc_id_with_digit(&b, keep, d);
      for (unsigned i = keep + 1; i < SC_ID_DIGITS; i++)
        b = sc_id_with_digit(&b, i, sc_rng_below(&r, 16));
    }
    assert_int_equal(sc_id_shl(&a, &b), keep);
    assert_int_equal(sc_id_shl(&b, &a), keep);
    assert_int_equal(sc_id_shl(&a, &b), ref_shl(a, b));
  }
}

/* ---- subtraction and ring distance ---- */

static void test_sub(void **state) {
  (void)state;
  sc_id a, b;
  a = mk(0, 5);
  b = mk(0, 3);
  assert_id_equal(sc_id_sub(&a, &b), mk(0, 2));
  assert_id_equal(sc_id_sub(&b, &a), mk(MAX64, MAX64 - 1)); /* -2 */
  a = mk(0, 0);
  b = mk(0, 1);
  assert_id_equal(sc_id_sub(&a, &b), mk(MAX64, MAX64)); /* 0 - 1 wraps */
  a = mk(1, 0);
  assert_id_equal(sc_id_sub(&a, &b), mk(0, MAX64)); /* borrow across the words */
  a = mk(7, 9);
  assert_id_equal(sc_id_sub(&a, &a), mk(0, 0));
  a = mk(0, 0);
  b = mk(TOP64, 0);
  assert_id_equal(sc_id_sub(&a, &b), mk(TOP64, 0)); /* -2^127 = 2^127 */

  sc_rng r;
  sc_rng_seed(&r, 77);
  for (int n = 0; n < 5000; n++) {
    a = rand_id(&r);
    b = rand_id(&r);
    if (n % 3 == 0) b.lo = a.lo - 1; /* no borrow */
    if (n % 3 == 1) b.lo = a.lo + 1; /* borrow (unless a.lo = max) */
    assert_id_equal(sc_id_sub(&a, &b), from_u128(to_u128(a) - to_u128(b)));
  }
}

static void test_ring_dist(void **state) {
  (void)state;
  sc_id a, b;
  a = mk(0, 0);
  assert_id_equal(sc_id_ring_dist(&a, &a), mk(0, 0));
  b = mk(0, 1);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(0, 1));
  assert_id_equal(sc_id_ring_dist(&b, &a), mk(0, 1));
  /* Wrap-around: 0 and 2^128 - 1 are neighbours. */
  b = mk(MAX64, MAX64);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(0, 1));
  assert_id_equal(sc_id_ring_dist(&b, &a), mk(0, 1));
  b = mk(MAX64, MAX64 - 9);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(0, 10));
  a = mk(0, 5);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(0, 15));
  /* Across the 64-bit boundary. */
  a = mk(3, MAX64 - 1);
  b = mk(4, 2);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(0, 4));
  assert_id_equal(sc_id_ring_dist(&b, &a), mk(0, 4));
  /* The antipode is the farthest anything gets: 2^127. */
  a = mk(0, 0);
  b = mk(TOP64, 0);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(TOP64, 0));
  assert_id_equal(sc_id_ring_dist(&b, &a), mk(TOP64, 0));
  b = mk(TOP64, 1); /* just past the antipode: shorter the other way */
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(TOP64 - 1, MAX64));
  b = mk(TOP64 - 1, MAX64);
  assert_id_equal(sc_id_ring_dist(&a, &b), mk(TOP64 - 1, MAX64));

  sc_rng r;
  sc_rng_seed(&r, 99);
  for (int n = 0; n < 5000; n++) {
    a = rand_id(&r);
    b = rand_id(&r);
    sc_id d = sc_id_ring_dist(&a, &b);
    assert_id_equal(d, from_u128(ref_dist(to_u128(a), to_u128(b))));
    assert_id_equal(sc_id_ring_dist(&b, &a), d); /* symmetric */
    assert_true(d.hi < TOP64 || (d.hi == TOP64 && d.lo == 0));
  }
}

/* ---- key ownership ---- */

static void test_closer_fixed(void **state) {
  (void)state;
  sc_id key = mk(0, 0x10);
  sc_id a, b;

  a = mk(0, 0x11); /* distance 1 */
  b = mk(0, 0x0e); /* distance 2 */
  assert_true(sc_id_closer(&key, &a, &b));
  assert_false(sc_id_closer(&key, &b, &a));

  /* Tie: equidistant on both sides, the smaller id wins. */
  a = mk(0, 0x0e);
  b = mk(0, 0x12);
  assert_true(sc_id_closer(&key, &a, &b));
  assert_false(sc_id_closer(&key, &b, &a));

  /* Never strictly closer than itself. */
  assert_false(sc_id_closer(&key, &a, &a));
  /* The key itself is closest. */
  assert_true(sc_id_closer(&key, &key, &a));
  assert_false(sc_id_closer(&key, &a, &key));

  /* Around 0: 2^128 - 1 is at distance 1 from 0, 2 at distance 2. */
  key = mk(0, 0);
  a = mk(MAX64, MAX64);
  b = mk(0, 2);
  assert_true(sc_id_closer(&key, &a, &b));
  assert_false(sc_id_closer(&key, &b, &a));
  /* Tie around 0: 1 and 2^128 - 1; the numerically smaller id, 1, wins. */
  b = mk(0, 1);
  assert_true(sc_id_closer(&key, &b, &a));
  assert_false(sc_id_closer(&key, &a, &b));

  /* Tie across the word boundary: key 1:0, a = 0:ff..ff, b = 1:1. */
  key = mk(1, 0);
  a = mk(0, MAX64);
  b = mk(1, 1);
  assert_true(sc_id_closer(&key, &a, &b));
  assert_false(sc_id_closer(&key, &b, &a));
}

static void test_closer_random(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 4242);
  for (int n = 0; n < 5000; n++) {
    sc_id key = rand_id(&r), a = rand_id(&r), b;
    u128 uk = to_u128(key), ua = to_u128(a), ub;
    if (n % 2 == 0) {
      b = from_u128(2 * uk - ua); /* mirror of a about key: a tie */
    } else {
      b = rand_id(&r);
    }
    ub = to_u128(b);
    u128 da = ref_dist(ua, uk), db = ref_dist(ub, uk);
    bool want = da < db || (da == db && ua < ub);
    assert_int_equal(sc_id_closer(&key, &a, &b), want);
    if (!sc_id_eq(&a, &b)) /* exactly one of two distinct ids is closer */
      assert_int_equal(sc_id_closer(&key, &b, &a), !want);
  }
}

/* ---- with_digit ---- */

static void test_with_digit(void **state) {
  (void)state;
  sc_id zero = mk(0, 0), ones = mk(MAX64, MAX64);
  assert_id_equal(sc_id_with_digit(&zero, 0, 0xa), mk(0xa000000000000000ULL, 0));
  assert_id_equal(sc_id_with_digit(&zero, 15, 0xa), mk(0xa, 0));
  assert_id_equal(sc_id_with_digit(&zero, 16, 0xa), mk(0, 0xa000000000000000ULL));
  assert_id_equal(sc_id_with_digit(&zero, 31, 0xa), mk(0, 0xa));
  assert_id_equal(sc_id_with_digit(&ones, 0, 0), mk(0x0fffffffffffffffULL, MAX64));
  assert_id_equal(sc_id_with_digit(&ones, 16, 0), mk(MAX64, 0x0fffffffffffffffULL));
  assert_id_equal(sc_id_with_digit(&kDigits, 4, 4), kDigits); /* same digit: no-op */

  /* Every (position, digit): that digit changes, no other does. */
  for (unsigned i = 0; i < SC_ID_DIGITS; i++) {
    for (unsigned d = 0; d < SC_ID_BASE; d++) {
      sc_id x = sc_id_with_digit(&kDigits, i, d);
      for (unsigned j = 0; j < SC_ID_DIGITS; j++)
        assert_int_equal(sc_id_digit(&x, j), j == i ? d : sc_id_digit(&kDigits, j));
    }
  }
}

/* ---- hex ---- */

static void test_hex_known(void **state) {
  (void)state;
  char out[SC_ID_HEX_LEN + 1];
  memset(out, 'X', sizeof(out));
  sc_id_to_hex(&kDigits, out);
  assert_string_equal(out, "0123456789abcdeffedcba9876543210");
  assert_int_equal(out[SC_ID_HEX_LEN], '\0');

  sc_id zero = mk(0, 0);
  sc_id_to_hex(&zero, out);
  assert_string_equal(out, "00000000000000000000000000000000");

  sc_id id;
  assert_int_equal(sc_id_from_hex(&id, "0123456789abcdeffedcba9876543210", 32), SC_OK);
  assert_id_equal(id, kDigits);
  /* Upper case is hex too. */
  assert_int_equal(sc_id_from_hex(&id, "0123456789ABCDEFFEDCBA9876543210", 32), SC_OK);
  assert_id_equal(id, kDigits);
  assert_int_equal(sc_id_from_hex(&id, "ffffffffffffffffffffffffffffffff", 32), SC_OK);
  assert_id_equal(id, mk(MAX64, MAX64));
  /* Only hexlen characters are read: a longer buffer is fine. */
  assert_int_equal(sc_id_from_hex(&id, "00000000000000000000000000000001zzzz", 32),
                   SC_OK);
  assert_id_equal(id, mk(0, 1));
}

static void test_hex_roundtrip(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 5);
  char out[SC_ID_HEX_LEN + 1];
  for (int n = 0; n < 2000; n++) {
    sc_id a = rand_id(&r), b;
    sc_id_to_hex(&a, out);
    assert_int_equal(strlen(out), SC_ID_HEX_LEN);
    for (unsigned i = 0; i < SC_ID_HEX_LEN; i++)
      assert_non_null(strchr("0123456789abcdef", out[i]));
    assert_int_equal(sc_id_from_hex(&b, out, SC_ID_HEX_LEN), SC_OK);
    assert_id_equal(b, a);
  }
}

static void test_hex_reject(void **state) {
  (void)state;
  const char *good = "0123456789abcdeffedcba9876543210";
  sc_id id;

  /* Wrong lengths. */
  assert_int_equal(sc_id_from_hex(&id, good, 0), SC_ERR_INVALID);
  assert_int_equal(sc_id_from_hex(&id, good, 1), SC_ERR_INVALID);
  assert_int_equal(sc_id_from_hex(&id, good, 31), SC_ERR_INVALID);
  assert_int_equal(sc_id_from_hex(&id, "0123456789abcdeffedcba98765432100", 33),
                   SC_ERR_INVALID);
  assert_int_equal(sc_id_from_hex(&id, "0123456789abcdeffedcba98765432100123", 36),
                   SC_ERR_INVALID);

  /* One bad character, at the first, a middle and the last position. */
  static const char bad[] = {'g', 'G', 'x', ' ', '-',  '+',
                             '/', ':', '@', '`', '\0', '\xff'};
  static const unsigned pos[] = {0, 15, 16, 31};
  char buf[SC_ID_HEX_LEN + 1];
  for (size_t b = 0; b < sizeof(bad); b++) {
    for (size_t p = 0; p < sizeof(pos) / sizeof(pos[0]); p++) {
      memcpy(buf, good, sizeof(buf));
      buf[pos[p]] = bad[b];
      if (sc_id_from_hex(&id, buf, SC_ID_HEX_LEN) != SC_ERR_INVALID)
        fail_msg("accepted byte 0x%02x at position %u", (unsigned)(unsigned char)bad[b],
                 pos[p]);
    }
  }
  /* A "0x" prefix makes it 34 characters, and 'x' is not hex anyway. */
  assert_int_equal(sc_id_from_hex(&id, "0x0123456789abcdeffedcba98765432", 32),
                   SC_ERR_INVALID);
}

/* ---- bytes ---- */

static void test_bytes(void **state) {
  (void)state;
  uint8_t b[16];
  static const uint8_t want[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                   0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
  sc_id_to_bytes(&kDigits, b);
  assert_memory_equal(b, want, 16); /* big-endian, hi first */
  assert_id_equal(sc_id_from_bytes(want), kDigits);

  static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  assert_id_equal(sc_id_from_bytes(one), mk(0, 1));
  static const uint8_t top[16] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  assert_id_equal(sc_id_from_bytes(top), mk(TOP64, 0));

  sc_rng r;
  sc_rng_seed(&r, 6);
  for (int n = 0; n < 2000; n++) {
    sc_id a = rand_id(&r);
    sc_id_to_bytes(&a, b);
    assert_id_equal(sc_id_from_bytes(b), a);
    /* Byte order agrees with digit order: byte k holds digits 2k, 2k+1. */
    for (unsigned k = 0; k < 16; k++)
      assert_int_equal(b[k], sc_id_digit(&a, 2 * k) << 4 | sc_id_digit(&a, 2 * k + 1));
  }
}

/* ---- hash ---- */

static void test_hash_deterministic(void **state) {
  (void)state;
  const char *s = "stripecast/group/news";
  sc_id h1 = sc_id_hash(s, strlen(s));
  char copy[64];
  strcpy(copy, s);
  sc_id h2 = sc_id_hash(copy, strlen(copy)); /* same bytes, other buffer */
  assert_id_equal(h1, h2);

  /* Different inputs, different ids. */
  sc_id ha = sc_id_hash("a", 1), hb = sc_id_hash("b", 1);
  assert_false(sc_id_eq(&ha, &hb));
  /* The length is part of the input: "", "\0" and "\0\0" all differ. */
  static const uint8_t zeros[2] = {0, 0};
  sc_id h0 = sc_id_hash(zeros, 0), h1z = sc_id_hash(zeros, 1), h2z = sc_id_hash(zeros, 2);
  assert_false(sc_id_eq(&h0, &h1z));
  assert_false(sc_id_eq(&h1z, &h2z));
  assert_false(sc_id_eq(&h0, &h2z));
  /* A prefix hashes differently from the whole. */
  sc_id hp = sc_id_hash("ab", 1), hw = sc_id_hash("ab", 2);
  assert_false(sc_id_eq(&hp, &hw));
  /* Order matters. */
  sc_id hab = sc_id_hash("ab", 2), hba = sc_id_hash("ba", 2);
  assert_false(sc_id_eq(&hab, &hba));
}

static void test_hash_spread(void **state) {
  (void)state;
  enum { N = 16000, EXPECT = N / 16 };
  unsigned first[16] = {0}, last[16] = {0};
  unsigned bits[128] = {0};
  char name[32];
  for (unsigned i = 0; i < N; i++) {
    int len = snprintf(name, sizeof(name), "group-%u", i);
    sc_id h = sc_id_hash(name, (size_t)len);
    first[sc_id_digit(&h, 0)]++;
    last[sc_id_digit(&h, SC_ID_DIGITS - 1)]++;
    for (unsigned b = 0; b < 64; b++) {
      bits[b] += (unsigned)(h.hi >> b) & 1;
      bits[64 + b] += (unsigned)(h.lo >> b) & 1;
    }
  }
  /* Chi-square with 15 degrees of freedom: 40 is beyond p = 0.0005 for a
   * uniform source; the inputs are fixed, so this never flakes. */
  double chi_first = 0, chi_last = 0;
  for (unsigned d = 0; d < 16; d++) {
    double a = (double)first[d] - EXPECT, b = (double)last[d] - EXPECT;
    chi_first += a * a / EXPECT;
    chi_last += b * b / EXPECT;
    assert_in_range(first[d], EXPECT - 150, EXPECT + 150);
    assert_in_range(last[d], EXPECT - 150, EXPECT + 150);
  }
  if (chi_first > 40.0) fail_msg("first digit chi-square %.1f", chi_first);
  if (chi_last > 40.0) fail_msg("last digit chi-square %.1f", chi_last);
  /* Every output bit is set about half the time (sigma = 63). */
  for (unsigned b = 0; b < 128; b++)
    assert_in_range(bits[b], N / 2 - 400, N / 2 + 400);
}

static void test_hash_avalanche(void **state) {
  (void)state;
  /* Flipping one input bit flips about half of the 128 output bits. */
  sc_rng r;
  sc_rng_seed(&r, 8);
  uint8_t buf[24];
  uint64_t flipped = 0, trials = 0;
  for (int n = 0; n < 200; n++) {
    for (size_t i = 0; i < sizeof(buf); i++)
      buf[i] = (uint8_t)sc_rng_next(&r);
    sc_id h = sc_id_hash(buf, sizeof(buf));
    for (unsigned bit = 0; bit < 8 * sizeof(buf); bit++) {
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      sc_id g = sc_id_hash(buf, sizeof(buf));
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      unsigned d = (unsigned)__builtin_popcountll(h.hi ^ g.hi) +
                   (unsigned)__builtin_popcountll(h.lo ^ g.lo);
      assert_true(d >= 20); /* never a near-collision */
      flipped += d;
      trials++;
    }
  }
  double mean = (double)flipped / (double)trials;
  if (mean < 62.0 || mean > 66.0) fail_msg("mean flipped bits %.2f, want ~64", mean);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digit),         cmocka_unit_test(test_cmp_eq),
      cmocka_unit_test(test_shl_fixed),     cmocka_unit_test(test_shl_random),
      cmocka_unit_test(test_sub),           cmocka_unit_test(test_ring_dist),
      cmocka_unit_test(test_closer_fixed),  cmocka_unit_test(test_closer_random),
      cmocka_unit_test(test_with_digit),    cmocka_unit_test(test_hex_known),
      cmocka_unit_test(test_hex_roundtrip), cmocka_unit_test(test_hex_reject),
      cmocka_unit_test(test_bytes),         cmocka_unit_test(test_hash_deterministic),
      cmocka_unit_test(test_hash_spread),   cmocka_unit_test(test_hash_avalanche),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
