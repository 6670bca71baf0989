/*
 * fec_bench.c — throughput of the stream's erasure code (core/fec.c, ISA-L)
 * next to a naive table-driven GF(2^8) Reed–Solomon loop, in one run.
 *
 *   build/bench/fec_bench [seconds_per_case]     (default 0.3)
 *
 * For a 12+4 code (docs/ARCHITECTURE.md §3: 16 stripes) with 1 KB and 8 KB chunks it
 * measures encode (12 data chunks -> 4 parity chunks) and decode with 4 data
 * chunks missing (rebuilt from 8 data + 4 parity; sc_fec's tables cached,
 * as under cut stripes). GB/s counts the d data chunks of a generation
 * (10^9 bytes), so encode and decode figures compare directly.
 *
 * The naive coder is what one writes without ISA-L: a 64 KB product table,
 * one byte at a time, and, for decode, a Gauss–Jordan inverse per
 * generation. It uses the same Cauchy generator, so its output must equal
 * sc_fec's byte for byte; the bench checks that before timing anything.
 *
 * Benchmarks measure, tests assert (docs/ARCHITECTURE.md §6): nothing here is a
 * pass/fail criterion. Results go to bench/RESULTS.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isa-l/erasure_code.h>

#include "core/fec.h"
#include "core/rng.h"

#define D       12
#define P       4
#define N       (D + P)
#define GENS    16    /* distinct generations cycled through: 1.5 MB at 8 KB */
#define MISSING 4     /* data chunks lost in the decode case */
#define GF_POLY 0x11d /* ISA-L's field polynomial */

static uint8_t gf_table[256][256]; /* a * b */
static uint8_t gf_inverse[256];

static void gf_init(void) {
  uint8_t exp[512], log[256] = {0};
  unsigned x = 1;
  for (unsigned i = 0; i < 255; i++) {
    exp[i] = exp[i + 255] = (uint8_t)x;
    log[x] = (uint8_t)i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLY;
  }
  for (unsigned a = 0; a < 256; a++)
    for (unsigned b = 0; b < 256; b++)
      gf_table[a][b] = a && b ? exp[log[a] + log[b]] : 0;
  for (unsigned a = 1; a < 256; a++)
    gf_inverse[a] = exp[255 - log[a]];
}

/* out[r] = sum_i m[r*k + i] * in[i], one byte at a time. */
static void naive_mul(const uint8_t *m, unsigned rows, unsigned k, size_t len,
                      uint8_t *const *in, uint8_t *const *out) {
  for (unsigned r = 0; r < rows; r++) {
    memset(out[r], 0, len);
    for (unsigned i = 0; i < k; i++) {
      const uint8_t *t = gf_table[m[r * k + i]];
      const uint8_t *src = in[i];
      uint8_t *dst = out[r];
      for (size_t b = 0; b < len; b++)
        dst[b] ^= t[src[b]];
    }
  }
}

/* Gauss–Jordan inverse of the n x n matrix a (destroyed) into inv. */
static int naive_invert(uint8_t *a, uint8_t *inv, unsigned n) {
  memset(inv, 0, n * n);
  for (unsigned i = 0; i < n; i++)
    inv[i * n + i] = 1;
  for (unsigned c = 0; c < n; c++) {
    unsigned piv = c;
    while (piv < n && a[piv * n + c] == 0)
      piv++;
    if (piv == n) return -1;
    for (unsigned j = 0; j < n; j++) {
      uint8_t t = a[c * n + j];
      a[c * n + j] = a[piv * n + j];
      a[piv * n + j] = t;
      t = inv[c * n + j];
      inv[c * n + j] = inv[piv * n + j];
      inv[piv * n + j] = t;
    }
    const uint8_t *scale = gf_table[gf_inverse[a[c * n + c]]];
    for (unsigned j = 0; j < n; j++) {
      a[c * n + j] = scale[a[c * n + j]];
      inv[c * n + j] = scale[inv[c * n + j]];
    }
    for (unsigned r = 0; r < n; r++) {
      if (r == c || a[r * n + c] == 0) continue;
      const uint8_t *f = gf_table[a[r * n + c]];
      for (unsigned j = 0; j < n; j++) {
        a[r * n + j] ^= f[a[c * n + j]];
        inv[r * n + j] ^= f[inv[c * n + j]];
      }
    }
  }
  return 0;
}

typedef struct generation {
  uint8_t *chunk[N]; /* data then parity */
  uint8_t *out[D];   /* decode output */
} generation;

/* The naive decoder: sources are the first D present chunks. */
static void naive_decode(const uint8_t *gen_matrix, uint8_t *const *chunk, uint32_t lost,
                         size_t len, uint8_t *const *out) {
  uint8_t sub[D * D], inv[D * D], rows[D * D];
  uint8_t *src[D], *dst[D];
  unsigned ns = 0, nm = 0;
  for (unsigned i = 0; i < N && ns < D; i++) {
    if (lost & (1u << i)) continue;
    memcpy(&sub[ns * D], &gen_matrix[i * D], D);
    src[ns++] = chunk[i];
  }
  if (naive_invert(sub, inv, D) != 0) abort();
  for (unsigned i = 0; i < D; i++)
    if (lost & (1u << i)) {
      memcpy(&rows[nm * D], &inv[i * D], D);
      dst[nm++] = out[i];
    }
  naive_mul(rows, nm, D, len, src, dst);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { ISAL_ENCODE, ISAL_DECODE, NAIVE_ENCODE, NAIVE_DECODE };

typedef struct bench_ctx {
  sc_fec *fec;
  uint8_t matrix[N * D];
  generation gen[GENS];
  size_t len;
  uint32_t lost;
} bench_ctx;

static void run_once(bench_ctx *c, int kind, unsigned g) {
  generation *x = &c->gen[g];
  switch (kind) {
  case ISAL_ENCODE:
    sc_fec_encode(c->fec, (const uint8_t *const *)x->chunk, &x->chunk[D]);
    break;
  case ISAL_DECODE: {
    const uint8_t *present[N];
    for (unsigned i = 0; i < N; i++)
      present[i] = c->lost & (1u << i) ? NULL : x->chunk[i];
    if (sc_fec_decode(c->fec, present, x->out) != 0) abort();
    break;
  }
  case NAIVE_ENCODE:
    naive_mul(&c->matrix[D * D], P, D, c->len, x->chunk, &x->chunk[D]);
    break;
  case NAIVE_DECODE:
    naive_decode(c->matrix, x->chunk, c->lost, c->len, x->out);
    break;
  }
}

/* Data bytes per second (GB/s) over at least `seconds`. */
static double measure(bench_ctx *c, int kind, double seconds) {
  for (unsigned g = 0; g < GENS; g++)
    run_once(c, kind, g); /* warm up */
  uint64_t gens = 0;
  double t0 = now_s(), t;
  do {
    for (unsigned g = 0; g < GENS; g++)
      run_once(c, kind, g);
    gens += GENS;
    t = now_s();
  } while (t - t0 < seconds);
  return (double)gens * D * (double)c->len / (t - t0) / 1e9;
}

static void check_agree(bench_ctx *c) {
  generation *x = &c->gen[0];
  uint8_t *ref[P];
  for (unsigned j = 0; j < P; j++) {
    ref[j] = malloc(c->len);
    if (!ref[j]) abort();
  }
  run_once(c, ISAL_ENCODE, 0);
  naive_mul(&c->matrix[D * D], P, D, c->len, x->chunk, ref);
  for (unsigned j = 0; j < P; j++)
    if (memcmp(ref[j], x->chunk[D + j], c->len) != 0) {
      fprintf(stderr, "fec_bench: naive and ISA-L parity differ\n");
      exit(1);
    }
  static const int decoders[] = {ISAL_DECODE, NAIVE_DECODE};
  for (int k = 0; k < 2; k++) {
    const int kind = decoders[k];
    for (unsigned i = 0; i < D; i++)
      memset(x->out[i], 0, c->len);
    run_once(c, kind, 0);
    for (unsigned i = 0; i < D; i++)
      if ((c->lost & (1u << i)) && memcmp(x->out[i], x->chunk[i], c->len) != 0) {
        fprintf(stderr, "fec_bench: decode (%s) is wrong\n",
                kind == ISAL_DECODE ? "ISA-L" : "naive");
        exit(1);
      }
  }
  for (unsigned j = 0; j < P; j++)
    free(ref[j]);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0.3;
  if (!(seconds > 0 && seconds < 60)) {
    fprintf(stderr, "usage: fec_bench [seconds_per_case (0..60)]\n");
    return 2;
  }
  gf_init();
  for (unsigned a = 1; a < 256; a += 17) /* our field is ISA-L's */
    for (unsigned b = 1; b < 256; b += 13)
      if (gf_table[a][b] != gf_mul((unsigned char)a, (unsigned char)b)) {
        fprintf(stderr, "fec_bench: GF tables disagree with ISA-L\n");
        return 1;
      }

  static const size_t lens[] = {1024, 8192};
  printf("| chunk | op | ISA-L (sc_fec) GB/s | naive GB/s | ISA-L / naive |\n");
  printf("|---:|---|---:|---:|---:|\n");
  for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
    bench_ctx c = {.len = lens[l], .lost = 0};
    /* Data chunks 1, 4, 7, 10 lost: decoded from 8 data + 4 parity. */
    for (unsigned i = 0; i < MISSING; i++)
      c.lost |= 1u << (1 + 3 * i);
    if (sc_fec_new(&c.fec, D, P, c.len, NULL) != 0) return 1;
    gf_gen_cauchy1_matrix(c.matrix, N, D);
    sc_rng r;
    sc_rng_seed(&r, 42);
    for (unsigned g = 0; g < GENS; g++) {
      for (unsigned i = 0; i < N; i++) {
        c.gen[g].chunk[i] = malloc(c.len);
        if (!c.gen[g].chunk[i]) return 1;
        for (size_t b = 0; b < c.len; b++)
          c.gen[g].chunk[i][b] = (uint8_t)sc_rng_next(&r);
      }
      for (unsigned i = 0; i < D; i++) {
        c.gen[g].out[i] = malloc(c.len);
        if (!c.gen[g].out[i]) return 1;
      }
      run_once(&c, ISAL_ENCODE, g);
    }
    check_agree(&c);
    static const char *const ops[] = {"encode 12+4", "decode, 4 data missing"};
    for (int op = 0; op < 2; op++) {
      double fast = measure(&c, op == 0 ? ISAL_ENCODE : ISAL_DECODE, seconds);
      double slow = measure(&c, op == 0 ? NAIVE_ENCODE : NAIVE_DECODE, seconds);
      printf("| %zu B | %s | %.2f | %.3f | %.0fx |\n", c.len, ops[op], fast, slow,
             fast / slow);
    }
    for (unsigned g = 0; g < GENS; g++) {
      for (unsigned i = 0; i < N; i++)
        free(c.gen[g].chunk[i]);
      for (unsigned i = 0; i < D; i++)
        free(c.gen[g].out[i]);
    }
    sc_fec_del(c.fec);
  }
  return 0;
}
