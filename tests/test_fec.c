/*
 * test_fec.c — the Reed–Solomon erasure code (core/fec.c) through its public
 * API: for small codes every loss pattern of up to p chunks decodes
 * byte-exact; larger codes are sampled with a fixed seed; fewer than d
 * chunks fail cleanly; p = 0 works; the decode-table cache gives the same
 * answers as fresh tables; allocation failures are handled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/fec.h"
#include "core/rng.h"
#include "failalloc.h"

/* One generation's buffers for a (d, p, cb) code. */
typedef struct gen {
  unsigned d, p;
  size_t cb;
  uint8_t *chunk[SC_FEC_CHUNKS_MAX]; /* data then parity, as encoded */
  uint8_t *out[SC_FEC_CHUNKS_MAX];   /* decode output, one per data chunk */
} gen;

static void gen_make(gen *g, sc_fec *fec, unsigned d, unsigned p, size_t cb,
                     uint64_t seed) {
  sc_rng r;
  sc_rng_seed(&r, seed);
  g->d = d;
  g->p = p;
  g->cb = cb;
  for (unsigned i = 0; i < d + p; i++) {
    g->chunk[i] = malloc(cb);
    assert_non_null(g->chunk[i]);
    if (i < d)
      for (size_t j = 0; j < cb; j++)
        g->chunk[i][j] = (uint8_t)sc_rng_next(&r);
  }
  for (unsigned i = 0; i < d; i++) {
    g->out[i] = malloc(cb);
    assert_non_null(g->out[i]);
  }
  const uint8_t *data[SC_FEC_CHUNKS_MAX];
  for (unsigned i = 0; i < d; i++)
    data[i] = g->chunk[i];
  sc_fec_encode(fec, data, &g->chunk[d]);
}

static void gen_free(gen *g) {
  for (unsigned i = 0; i < g->d + g->p; i++)
    free(g->chunk[i]);
  for (unsigned i = 0; i < g->d; i++)
    free(g->out[i]);
}

/* Decodes with the chunks in `lost` (a bit mask) missing and checks every
 * data chunk byte for byte. */
static void decode_check(sc_fec *fec, gen *g, uint32_t lost) {
  const uint8_t *present[SC_FEC_CHUNKS_MAX];
  for (unsigned i = 0; i < g->d + g->p; i++)
    present[i] = lost & (1u << i) ? NULL : g->chunk[i];
  for (unsigned i = 0; i < g->d; i++)
    memset(g->out[i], 0xA5, g->cb);
  assert_int_equal(sc_fec_decode(fec, present, g->out), SC_OK);
  for (unsigned i = 0; i < g->d; i++)
    assert_memory_equal(g->out[i], g->chunk[i], g->cb);
}

static unsigned popcount(uint32_t x) {
  unsigned n = 0;
  for (; x; x &= x - 1)
    n++;
  return n;
}

/* Every pattern of at most p losses among d + p chunks. */
static void all_patterns(unsigned d, unsigned p, size_t cb) {
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, d, p, cb, NULL), SC_OK);
  gen g;
  gen_make(&g, fec, d, p, cb, 1000 * d + p);
  unsigned checked = 0;
  for (uint32_t lost = 0; lost < (1u << (d + p)); lost++) {
    if (popcount(lost) > p) continue;
    decode_check(fec, &g, lost);
    checked++;
  }
  assert_true(checked > 0);
  gen_free(&g);
  sc_fec_del(fec);
}

static void test_every_pattern_small_codes(void **state) {
  (void)state;
  all_patterns(4, 2, 64);
  all_patterns(3, 3, 100);
  all_patterns(6, 2, 1024);
  all_patterns(1, 1, 7);
  all_patterns(2, 5, 33);
  /* 12+4 has 2,517 patterns of at most 4 losses: all of them. */
  all_patterns(12, 4, 512);
}

/* Larger codes: random patterns of exactly p losses (the hardest). */
static void test_sampled_large_codes(void **state) {
  (void)state;
  static const unsigned codes[][2] = {{16, 16}, {14, 2}, {31, 1}, {1, 31}, {20, 12}};
  sc_rng r;
  sc_rng_seed(&r, 7);
  for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
    unsigned d = codes[c][0], p = codes[c][1];
    sc_fec *fec = NULL;
    assert_int_equal(sc_fec_new(&fec, d, p, 256, NULL), SC_OK);
    gen g;
    gen_make(&g, fec, d, p, 256, c);
    for (int trial = 0; trial < 200; trial++) {
      uint32_t lost = 0;
      while (popcount(lost) < p)
        lost |= 1u << sc_rng_below(&r, d + p);
      decode_check(fec, &g, lost);
    }
    gen_free(&g);
    sc_fec_del(fec);
  }
}

/* Chunk sizes that are not multiples of ISA-L's vector widths. */
static void test_odd_chunk_sizes(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 15, 16, 31, 33, 63, 65, 1000, 1201};
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    sc_fec *fec = NULL;
    assert_int_equal(sc_fec_new(&fec, 5, 3, sizes[s], NULL), SC_OK);
    gen g;
    gen_make(&g, fec, 5, 3, sizes[s], s);
    decode_check(fec, &g, 0x07); /* three data chunks */
    decode_check(fec, &g, 0x31); /* data 0, data 4, parity 0 */
    decode_check(fec, &g, 0xE0); /* all parity */
    gen_free(&g);
    sc_fec_del(fec);
  }
}

static void test_too_few_chunks(void **state) {
  (void)state;
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 4, 2, 32, NULL), SC_OK);
  gen g;
  gen_make(&g, fec, 4, 2, 32, 3);
  const uint8_t *present[6];
  for (unsigned i = 0; i < 6; i++)
    present[i] = g.chunk[i];
  present[0] = present[2] = present[5] = NULL; /* 3 of 6: one short */
  for (unsigned i = 0; i < 4; i++)
    memset(g.out[i], 0x5A, 32);
  assert_int_equal(sc_fec_decode(fec, present, g.out), SC_ERR_NOT_FOUND);
  for (unsigned i = 0; i < 4; i++)
    for (unsigned j = 0; j < 32; j++)
      assert_int_equal(g.out[i][j], 0x5A);
  /* Nothing at all. */
  const uint8_t *none[6] = {0};
  assert_int_equal(sc_fec_decode(fec, none, g.out), SC_ERR_NOT_FOUND);
  /* Enough chunks but no buffer for a missing one. */
  present[2] = g.chunk[2];
  uint8_t *out[4] = {g.out[0], g.out[1], g.out[2], g.out[3]};
  out[0] = NULL;
  assert_int_equal(sc_fec_decode(fec, present, out), SC_ERR_INVALID);
  /* ... while a NULL output for a present chunk is fine. */
  out[0] = g.out[0];
  out[1] = NULL;
  assert_int_equal(sc_fec_decode(fec, present, out), SC_OK);
  assert_memory_equal(out[0], g.chunk[0], 32);
  gen_free(&g);
  sc_fec_del(fec);
}

/* Decoding in place: present data chunks are their own outputs. */
static void test_in_place(void **state) {
  (void)state;
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 6, 2, 128, NULL), SC_OK);
  gen g;
  gen_make(&g, fec, 6, 2, 128, 4);
  uint8_t *buf = malloc(8 * 128);
  assert_non_null(buf);
  for (unsigned i = 0; i < 8; i++)
    memcpy(buf + i * 128, g.chunk[i], 128);
  memset(buf + 1 * 128, 0, 128); /* lose data 1 and 4 */
  memset(buf + 4 * 128, 0, 128);
  const uint8_t *present[8];
  uint8_t *out[6];
  for (unsigned i = 0; i < 8; i++)
    present[i] = i == 1 || i == 4 ? NULL : buf + i * 128;
  for (unsigned i = 0; i < 6; i++)
    out[i] = buf + i * 128;
  assert_int_equal(sc_fec_decode(fec, present, out), SC_OK);
  for (unsigned i = 0; i < 6; i++)
    assert_memory_equal(buf + i * 128, g.chunk[i], 128);
  free(buf);
  gen_free(&g);
  sc_fec_del(fec);
}

static void test_no_parity(void **state) {
  (void)state;
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 16, 0, 100, NULL), SC_OK);
  assert_int_equal(sc_fec_parity_chunks(fec), 0);
  gen g;
  gen_make(&g, fec, 16, 0, 100, 5); /* encode with no parity: a no-op */
  decode_check(fec, &g, 0);
  const uint8_t *present[16];
  for (unsigned i = 0; i < 16; i++)
    present[i] = g.chunk[i];
  present[9] = NULL;
  assert_int_equal(sc_fec_decode(fec, present, g.out), SC_ERR_NOT_FOUND);
  sc_fec_stats st;
  sc_fec_get_stats(fec, &st);
  assert_int_equal(st.decodes, 0);
  assert_int_equal(st.decode_copies, 1);
  gen_free(&g);
  sc_fec_del(fec);

  /* 32+0: the largest data count. */
  assert_int_equal(sc_fec_new(&fec, 32, 0, 8, NULL), SC_OK);
  gen_make(&g, fec, 32, 0, 8, 6);
  decode_check(fec, &g, 0);
  gen_free(&g);
  sc_fec_del(fec);
}

/* Cycling through more patterns than the cache holds, and back: each
 * decode is right whether its tables were cached, evicted or rebuilt. */
static void test_cache_reuse(void **state) {
  (void)state;
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 12, 4, 1024, NULL), SC_OK);
  gen a, b;
  gen_make(&a, fec, 12, 4, 1024, 10);
  gen_make(&b, fec, 12, 4, 1024, 11);
  const uint32_t patterns[] = {0x000F, 0x0F00, 0x1001, 0x8421, 0x0110, 0x7001};
  const size_t np = sizeof(patterns) / sizeof(patterns[0]);

  /* The same pattern twice in a row (a cut stripe): one miss, then hits. */
  decode_check(fec, &a, 0x0004);
  decode_check(fec, &b, 0x0004);
  decode_check(fec, &a, 0x0004);
  sc_fec_stats st;
  sc_fec_get_stats(fec, &st);
  assert_int_equal(st.cache_misses, 1);
  assert_int_equal(st.cache_hits, 2);

  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < np; i++) {
      decode_check(fec, (i + round) % 2 ? &a : &b, patterns[i]);
      decode_check(fec, (i + round) % 2 ? &b : &a, patterns[i]);
    }
  sc_fec_get_stats(fec, &st);
  assert_true(st.cache_hits >= 2 + 3 * np); /* the second of each pair */
  assert_true(st.cache_misses > np);        /* more patterns than entries */
  assert_true(np > SC_FEC_CACHE_MAX);
  /* All parity lost: a copy, no tables. */
  decode_check(fec, &a, 0xF000);
  sc_fec_stats st2;
  sc_fec_get_stats(fec, &st2);
  assert_int_equal(st2.decode_copies, st.decode_copies + 1);
  assert_int_equal(st2.cache_misses, st.cache_misses);
  gen_free(&a);
  gen_free(&b);
  sc_fec_del(fec);
}

static void test_invalid_params(void **state) {
  (void)state;
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 0, 2, 64, NULL), SC_ERR_INVALID);
  assert_int_equal(sc_fec_new(&fec, 30, 3, 64, NULL), SC_ERR_INVALID);
  assert_int_equal(sc_fec_new(&fec, 4, 2, 0, NULL), SC_ERR_INVALID);
  assert_int_equal(sc_fec_new(&fec, 4, 2, SC_FEC_CHUNK_BYTES_MAX + 1, NULL),
                   SC_ERR_INVALID);
  assert_int_equal(sc_fec_new(NULL, 4, 2, 64, NULL), SC_ERR_INVALID);
  assert_null(fec);
  sc_fec_del(NULL);
}

/* Fail each allocation of sc_fec_new in turn; then nothing fails and the
 * code works, and every block is freed. */
static void test_alloc_failure(void **state) {
  (void)state;
  failalloc fa;
  failalloc_init(&fa, -1);
  sc_fec *fec = NULL;
  assert_int_equal(sc_fec_new(&fec, 12, 4, 256, &fa.alloc), SC_OK);
  const long total = fa.calls;
  assert_true(total >= 1);
  assert_true(sc_fec_mem_bytes(fec) > 0);
  sc_fec_del(fec);
  assert_int_equal(fa.live, 0);

  for (long k = 0; k < total; k++) {
    failalloc_init(&fa, k);
    fec = NULL;
    assert_int_equal(sc_fec_new(&fec, 12, 4, 256, &fa.alloc), SC_ERR_NOMEM);
    assert_null(fec);
    assert_int_equal(fa.live, 0);
  }
  /* Encode and decode never allocate. */
  failalloc_init(&fa, -1);
  assert_int_equal(sc_fec_new(&fec, 12, 4, 256, &fa.alloc), SC_OK);
  long after_new = fa.calls;
  gen g;
  gen_make(&g, fec, 12, 4, 256, 12);
  decode_check(fec, &g, 0x0303);
  decode_check(fec, &g, 0x8001);
  assert_int_equal(fa.calls, after_new);
  gen_free(&g);
  sc_fec_del(fec);
  assert_int_equal(fa.live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_pattern_small_codes),
      cmocka_unit_test(test_sampled_large_codes),
      cmocka_unit_test(test_odd_chunk_sizes),
      cmocka_unit_test(test_too_few_chunks),
      cmocka_unit_test(test_in_place),
      cmocka_unit_test(test_no_parity),
      cmocka_unit_test(test_cache_reuse),
      cmocka_unit_test(test_invalid_params),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
