/*
 * auth_bench.c — the signed stream's CPU cost (core/auth.c): signing a
 * generation at the source and verifying it at a receiver, 12 + 4 chunks of
 * 1,024 bytes, the chunks offered in index order (the manifest is known at
 * the 12th; the last 4 are checked at once), and once with one forged chunk
 * of the 16 (a forging relay below: the manifest is found by leaving its
 * piece out).
 *
 *   build/bench/auth_bench [generations]   (default 20,000)
 *
 * Prints µs per generation and per chunk, CPU seconds per GB of stream
 * (data chunks), and the share of one core a 1 Mbit/s stream costs, to set
 * beside bench/forward_bench's relaying cost. CPU time is
 * CLOCK_PROCESS_CPUTIME_ID. Benchmarks measure, tests assert
 * (docs/ARCHITECTURE.md §6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/auth.h"
#include "core/fec.h"

#define D  12
#define P  4
#define N  (D + P)
#define CB 1024

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_verdict(void *user, const sc_chunk *c, uint64_t tag, int verdict) {
  (void)c;
  (void)tag;
  if (verdict == SC_AUTH_GOOD) ++*(uint64_t *)user;
}

static uint8_t g_data[N][CB];
static sc_chunk g_chunks[N];

static void make(sc_fec *fec, uint64_t gen) {
  const uint8_t *data[D];
  uint8_t *parity[P];
  for (unsigned i = 0; i < N; i++) {
    if (i < D) {
      memset(g_data[i], (int)(gen + i), CB);
      data[i] = g_data[i];
    } else {
      parity[i - D] = g_data[i];
    }
  }
  sc_fec_encode(fec, data, parity);
  for (unsigned i = 0; i < N; i++)
    g_chunks[i] = (sc_chunk){.gen = gen,
                             .src_ts_ns = gen * 1000,
                             .gen_bytes = D * CB,
                             .epoch = 1,
                             .index = (uint8_t)i,
                             .data = g_data[i],
                             .datalen = CB};
}

int main(int argc, char **argv) {
  long gens = argc > 1 ? atol(argv[1]) : 20000;
  if (gens <= 0 || sodium_init() < 0) return 2;
  uint8_t pk[SC_AUTH_PK_BYTES], sk[SC_AUTH_SK_BYTES];
  crypto_sign_keypair(pk, sk);
  sc_id ch = sc_id_hash("bench", 5);
  sc_fec *fec;
  sc_auth_signer *s;
  sc_auth_verifier *v;
  uint64_t good = 0;
  if (sc_fec_new(&fec, D, P, CB, NULL) ||
      sc_auth_signer_new(&s, sk, &ch, D, P, CB, NULL) ||
      sc_auth_verifier_new(&v, pk, &ch, D, P, CB, 128, on_verdict, &good, NULL))
    return 1;
  const size_t pb = sc_auth_piece_bytes(D, P);
  uint8_t *pieces = malloc((size_t)gens * N * pb);
  if (!pieces) return 1;
  /* Signing (and coding the manifest), the source's share. */
  double t0 = cpu_s();
  for (long g = 0; g < gens; g++) {
    make(fec, (uint64_t)g);
    if (sc_auth_sign(s, g_chunks, pieces + (size_t)g * N * pb)) return 1;
  }
  double t_sign_make = cpu_s() - t0;
  t0 = cpu_s();
  for (long g = 0; g < gens; g++)
    make(fec, (uint64_t)g);
  double t_make = cpu_s() - t0;
  double t_sign = t_sign_make - t_make;
  /* Verifying, every receiver's share. */
  for (int forged = 0; forged < 2; forged++) {
    good = 0;
    sc_auth_stats st0, st1;
    sc_auth_verifier_get_stats(v, &st0);
    double t = 0;
    for (long g = 0; g < gens; g++) {
      uint64_t gen = (uint64_t)g + (uint64_t)forged * (uint64_t)gens;
      make(fec, (uint64_t)g);
      for (unsigned i = 0; i < N; i++)
        g_chunks[i].gen = gen;
      uint8_t *pc = pieces + (size_t)g * N * pb;
      if (forged) {
        /* Chunk 3 and its piece altered (the signature is over the real
         * generation number: the pieces of the first pass do not fit a
         * renumbered one, so the second pass re-signs first). */
        if (sc_auth_sign(s, g_chunks, pc)) return 1;
        g_data[3][0] ^= 1;
        pc[3 * pb] ^= 1;
      }
      double a = cpu_s();
      for (unsigned i = 0; i < N; i++) {
        int rv = sc_auth_verifier_offer(v, &g_chunks[i], pc + i * pb, 0);
        if (rv == SC_AUTH_GOOD) good++;
      }
      t += cpu_s() - a;
    }
    sc_auth_verifier_get_stats(v, &st1);
    double per_gen_us = t / (double)gens * 1e6;
    double gb = (double)gens * D * CB / 1e9;
    double gens_per_mbit = 1e6 / 8.0 / (D * CB); /* generations a second at 1 Mbit/s */
    printf("verify%s: %.1f us/generation, %.2f us/chunk, %.2f CPU-s per GB of stream, "
           "%.4f%% of a core per Mbit/s; good %llu of %ld, Ed25519 checks %.2f/gen\n",
           forged ? " (1 of 16 forged)" : "", per_gen_us, per_gen_us / N, t / gb,
           per_gen_us * gens_per_mbit / 1e4, (unsigned long long)good, gens * N,
           (double)(st1.sig_checks - st0.sig_checks) / (double)gens);
  }
  printf("sign: %.1f us/generation (%.2f CPU-s per GB of stream)\n",
         t_sign / (double)gens * 1e6, t_sign / ((double)gens * D * CB / 1e9));
  printf("overhead: %zu-byte piece + 1-byte flag on %d-byte chunks = %.3f%% of the "
         "chunks' bytes, %.3f%% of a full generation's data\n",
         pb, CB, 100.0 * (double)(pb + 1) / CB, 100.0 * (double)(pb + 1) * N / (D * CB));
  sc_auth_verifier_del(v);
  sc_auth_signer_del(s);
  sc_fec_del(fec);
  free(pieces);
  return 0;
}
