/*
 * test_auth.c — the signed stream (core/auth.c): a signed generation
 * verifies from any d of its chunks; a forged payload, a forged piece, an
 * altered header, a replayed old generation and another station's key are
 * refused and counted; the verdicts of staged chunks come once the manifest
 * is known; allocation failures are handled; station specs parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/auth.h"
#include "core/err.h"
#include "core/fec.h"
#include "core/station.h"
#include "failalloc.h"

#define D  12
#define P  4
#define N  (D + P)
#define CB 1024

typedef struct fixture {
  uint8_t pk[SC_AUTH_PK_BYTES], sk[SC_AUTH_SK_BYTES];
  sc_id channel;
  sc_auth_signer *signer;
  sc_fec *fec;
} fixture;

/* One signed generation: chunks and their pieces. */
typedef struct gen {
  uint8_t data[N][CB];
  uint8_t piece[N][SC_AUTH_PIECE_BYTES_MAX];
  sc_chunk c[N];
} gen;

/* Verdicts the callback saw. */
typedef struct seen {
  int verdict[N];
  unsigned calls;
  unsigned good, forged;
} seen;

static void on_verdict(void *user, const sc_chunk *c, uint64_t tag, int verdict) {
  seen *s = user;
  assert_int_equal(tag, 1000 + c->index);
  s->verdict[c->index] = verdict;
  s->calls++;
  if (verdict == SC_AUTH_GOOD) s->good++;
  if (verdict == SC_AUTH_FORGED) s->forged++;
}

static int setup(void **state) {
  assert_true(sodium_init() >= 0);
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  /* A fixed seed: the test is deterministic. */
  uint8_t seed[32];
  memset(seed, 7, sizeof seed);
  crypto_sign_seed_keypair(f->pk, f->sk, seed);
  f->channel = sc_id_hash("station", 7);
  assert_int_equal(sc_auth_signer_new(&f->signer, f->sk, &f->channel, D, P, CB, NULL), 0);
  assert_int_equal(sc_fec_new(&f->fec, D, P, CB, NULL), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  sc_auth_signer_del(f->signer);
  sc_fec_del(f->fec);
  free(f);
  return 0;
}

static void make_gen(fixture *f, gen *g, uint64_t number, uint32_t epoch) {
  const uint8_t *data[D];
  uint8_t *parity[P];
  for (unsigned i = 0; i < N; i++) {
    for (unsigned b = 0; b < CB; b++)
      g->data[i][b] = (uint8_t)(number * 31 + i * 7 + b);
    if (i < D)
      data[i] = g->data[i];
    else
      parity[i - D] = g->data[i];
  }
  sc_fec_encode(f->fec, data, parity);
  for (unsigned i = 0; i < N; i++)
    g->c[i] = (sc_chunk){.gen = number,
                         .src_ts_ns = 1000000 * number,
                         .gen_bytes = D * CB,
                         .epoch = epoch,
                         .index = (uint8_t)i,
                         .data = g->data[i],
                         .datalen = CB};
  uint8_t pieces[N * SC_AUTH_PIECE_BYTES_MAX];
  assert_int_equal(sc_auth_sign(f->signer, g->c, pieces), 0);
  size_t pb = sc_auth_piece_bytes(D, P);
  for (unsigned i = 0; i < N; i++)
    memcpy(g->piece[i], pieces + i * pb, pb);
}

static sc_auth_verifier *verifier(fixture *f, const uint8_t *pk, seen *s) {
  sc_auth_verifier *v;
  assert_int_equal(
      sc_auth_verifier_new(&v, pk, &f->channel, D, P, CB, 128, on_verdict, s, NULL), 0);
  return v;
}

static int offer(sc_auth_verifier *v, gen *g, unsigned i) {
  return sc_auth_verifier_offer(v, &g->c[i], g->piece[i], 1000 + i);
}

static void piece_size(void **state) {
  (void)state;
  /* 16 hashes of 8 bytes and a 64-byte signature over 12 pieces. */
  assert_int_equal(sc_auth_piece_bytes(D, P), 16);
  assert_int_equal(sc_auth_piece_bytes(0, 4), 0);
  assert_int_equal(sc_auth_piece_bytes(30, 3), 0);
}

static void good_from_any_d(void **state) {
  fixture *f = *state;
  static gen g;
  make_gen(f, &g, 5, 9);
  /* Parity first, then data: the 12th chunk establishes the manifest. */
  seen s = {0};
  sc_auth_verifier *v = verifier(f, f->pk, &s);
  const unsigned order[N] = {15, 14, 13, 12, 0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11};
  for (unsigned k = 0; k < D - 1; k++)
    assert_int_equal(offer(v, &g, order[k]), SC_AUTH_HELD);
  assert_int_equal(s.calls, 0);
  assert_int_equal(offer(v, &g, order[D - 1]), SC_AUTH_HELD);
  assert_int_equal(s.calls, D);
  assert_int_equal(s.good, D);
  /* Later chunks are judged at once. */
  for (unsigned k = D; k < N; k++)
    assert_int_equal(offer(v, &g, order[k]), SC_AUTH_GOOD);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.chunks_good, N);
  assert_int_equal(st.gens_verified, 1);
  assert_int_equal(st.sig_checks, 1);
  assert_int_equal(st.chunks_forged, 0);
  /* The piece to forward is the one the source sent. */
  uint8_t piece[SC_AUTH_PIECE_BYTES_MAX];
  assert_int_equal(sc_auth_verifier_piece(v, 9, 5, 3, piece), 0);
  assert_memory_equal(piece, g.piece[3], sc_auth_piece_bytes(D, P));
  assert_int_equal(sc_auth_verifier_piece(v, 9, 6, 3, piece), SC_ERR_NOT_FOUND);
  sc_auth_verifier_del(v);
}

static void forged_payload(void **state) {
  fixture *f = *state;
  static gen g;
  make_gen(f, &g, 1, 1);
  seen s = {0};
  sc_auth_verifier *v = verifier(f, f->pk, &s);
  /* Chunk 3's payload altered (its piece intact): staged, then forged once
   * the manifest is known from the others' pieces. */
  g.data[3][100] ^= 1;
  for (unsigned i = 0; i < D; i++)
    assert_int_equal(offer(v, &g, i), SC_AUTH_HELD);
  assert_int_equal(s.calls, D);
  assert_int_equal(s.verdict[3], SC_AUTH_FORGED);
  assert_int_equal(s.good, D - 1);
  /* Altered after the manifest is known: forged at once. */
  g.data[13][0] ^= 0x80;
  assert_int_equal(offer(v, &g, 13), SC_AUTH_FORGED);
  assert_int_equal(offer(v, &g, 12), SC_AUTH_GOOD);
  /* A shape that is not a chunk. */
  sc_chunk bad = g.c[14];
  bad.datalen = CB - 1;
  assert_int_equal(sc_auth_verifier_offer(v, &bad, g.piece[14], 0), SC_ERR_INVALID);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.chunks_forged, 3);
  sc_auth_verifier_del(v);
}

static void forged_pieces(void **state) {
  fixture *f = *state;
  static gen g;
  make_gen(f, &g, 2, 1);
  seen s = {0};
  sc_auth_verifier *v = verifier(f, f->pk, &s);
  /* Two relays forge whole chunks, pieces included: the manifest is found
   * by leaving their pieces out once enough chunks arrived. */
  g.data[0][0] ^= 1;
  g.piece[0][0] ^= 1;
  g.data[7][5] ^= 1;
  g.piece[7][9] ^= 0x40;
  for (unsigned i = 0; i < N; i++)
    (void)offer(v, &g, i);
  /* With 0..14 held, 13 pieces are left after leaving 2 out: one to check
   * the candidate with before its signature. Chunk 15 is judged at once. */
  assert_int_equal(s.calls, N - 1);
  assert_int_equal(s.forged, 2);
  assert_int_equal(s.verdict[0], SC_AUTH_FORGED);
  assert_int_equal(s.verdict[7], SC_AUTH_FORGED);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.gens_verified, 1);
  assert_int_equal(st.chunks_good, N - 2);
  assert_int_equal(st.chunks_forged, 2);
  /* Bounded: candidates of exactly d pieces (no spare to check them) cost
   * at most 4 verifications, the checked one 1. */
  assert_true(st.sig_checks <= 1 + 4 + 1);
  sc_auth_verifier_del(v);
}

static void altered_header(void **state) {
  fixture *f = *state;
  static gen g;
  make_gen(f, &g, 3, 1);
  seen s = {0};
  sc_auth_verifier *v = verifier(f, f->pk, &s);
  /* Every chunk with a later timestamp: no manifest holds. */
  for (unsigned i = 0; i < N; i++) {
    sc_chunk c = g.c[i];
    c.src_ts_ns += 1;
    assert_int_equal(sc_auth_verifier_offer(v, &c, g.piece[i], 1000 + i), SC_AUTH_HELD);
  }
  assert_int_equal(s.calls, 0);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.gens_verified, 0);
  assert_true(st.sig_failures >= 1);
  sc_auth_verifier_del(v);

  /* One chunk's size altered among honest ones: forged. */
  memset(&s, 0, sizeof s);
  v = verifier(f, f->pk, &s);
  for (unsigned i = 0; i < N; i++) {
    sc_chunk c = g.c[i];
    if (i == 4) c.gen_bytes -= 1;
    (void)sc_auth_verifier_offer(v, &c, g.piece[i], 1000 + i);
  }
  assert_int_equal(s.verdict[4], SC_AUTH_FORGED);
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.chunks_good, N - 1);
  assert_int_equal(st.chunks_forged, 1);
  /* An altered epoch after the manifest is known: another generation, held
   * (and never verified). */
  sc_chunk c = g.c[4];
  c.epoch = 2;
  assert_int_equal(sc_auth_verifier_offer(v, &c, g.piece[4], 1004), SC_AUTH_HELD);
  sc_auth_verifier_del(v);
}

static void replayed_generation(void **state) {
  fixture *f = *state;
  static gen old, g;
  make_gen(f, &old, 10, 1);
  seen s = {0};
  sc_auth_verifier *v = verifier(f, f->pk, &s);
  for (unsigned i = 0; i < N; i++)
    (void)offer(v, &old, i);
  assert_int_equal(s.good, D); /* the rest judged at once */
  /* The stream moves on past the window of 128 manifests. */
  make_gen(f, &g, 10 + 128, 1);
  for (unsigned i = 0; i < D; i++)
    (void)offer(v, &g, i);
  /* The old generation, authentic but replayed, is refused. */
  for (unsigned i = 0; i < N; i++)
    assert_int_equal(offer(v, &old, i), SC_AUTH_REPLAYED);
  /* An earlier epoch is stale, blamed on nobody. */
  static gen e0;
  make_gen(f, &e0, 200, 0);
  assert_int_equal(offer(v, &e0, 0), SC_AUTH_STALE);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.chunks_replayed, N);
  assert_int_equal(st.chunks_stale, 1);
  sc_auth_verifier_del(v);
}

static void wrong_key(void **state) {
  fixture *f = *state;
  static gen g;
  make_gen(f, &g, 4, 1);
  uint8_t pk2[SC_AUTH_PK_BYTES], sk2[SC_AUTH_SK_BYTES], seed[32];
  memset(seed, 8, sizeof seed);
  crypto_sign_seed_keypair(pk2, sk2, seed);
  seen s = {0};
  sc_auth_verifier *v = verifier(f, pk2, &s);
  for (unsigned i = 0; i < N; i++)
    assert_int_equal(offer(v, &g, i), SC_AUTH_HELD);
  assert_int_equal(s.calls, 0);
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  assert_int_equal(st.gens_verified, 0);
  assert_true(st.sig_failures >= 1);
  /* Another channel with the right key: the signature binds the channel. */
  sc_auth_verifier_del(v);
  memset(&s, 0, sizeof s);
  sc_id other = sc_id_hash("other", 5);
  assert_int_equal(
      sc_auth_verifier_new(&v, f->pk, &other, D, P, CB, 128, on_verdict, &s, NULL), 0);
  for (unsigned i = 0; i < N; i++)
    (void)offer(v, &g, i);
  assert_int_equal(s.calls, 0);
  sc_auth_verifier_del(v);
  /* A key that is not a curve point is refused at creation. */
  uint8_t junk[SC_AUTH_PK_BYTES];
  memset(junk, 0xff, sizeof junk);
  assert_int_equal(
      sc_auth_verifier_new(&v, junk, &f->channel, D, P, CB, 128, on_verdict, &s, NULL),
      SC_ERR_INVALID);
}

static void alloc_failures(void **state) {
  fixture *f = *state;
  seen s = {0};
  for (long k = 0; k < 16; k++) {
    failalloc fa;
    failalloc_init(&fa, k);
    sc_auth_verifier *v = NULL;
    int rv = sc_auth_verifier_new(&v, f->pk, &f->channel, D, P, CB, 128, on_verdict, &s,
                                  &fa.alloc);
    if (rv == SC_OK) {
      sc_auth_verifier_del(v);
      break;
    }
    assert_int_equal(rv, SC_ERR_NOMEM);
  }
}

static void station_specs(void **state) {
  fixture *f = *state;
  char hex[SC_STATION_KEY_HEX_BYTES + 1];
  for (int i = 0; i < SC_AUTH_PK_BYTES; i++)
    snprintf(hex + 2 * i, 3, "%02x", f->pk[i]);
  sc_station_spec a, b, c;
  assert_int_equal(sc_station_spec_parse(hex, &a), 0);
  assert_true(a.is_signed);
  assert_memory_equal(a.pk, f->pk, SC_AUTH_PK_BYTES);
  assert_string_equal(a.name, "");
  char both[300];
  snprintf(both, sizeof both, "/live.opus@%s", hex);
  assert_int_equal(sc_station_spec_parse(both, &b), 0);
  assert_true(b.is_signed);
  assert_string_equal(b.name, "/live.opus");
  assert_true(sc_id_eq(&a.id, &b.id)); /* the id is the key's */
  assert_int_equal(sc_station_spec_parse("/live.opus", &c), 0);
  assert_false(c.is_signed);
  sc_id named;
  assert_int_equal(sc_station_id("/live.opus", &named), 0);
  assert_true(sc_id_eq(&c.id, &named));
  assert_false(sc_id_eq(&a.id, &named));
  assert_int_equal(sc_station_spec_parse("/live.opus@abcd", &c), SC_ERR_INVALID);
  hex[5] = 'g';
  assert_int_equal(sc_station_spec_parse(hex, &c), 0); /* a 64-char name */
  assert_false(c.is_signed);
  snprintf(both, sizeof both, "bad name@%s", hex);
  assert_int_equal(sc_station_spec_parse(both, &c), SC_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(piece_size),
      cmocka_unit_test_setup_teardown(good_from_any_d, setup, teardown),
      cmocka_unit_test_setup_teardown(forged_payload, setup, teardown),
      cmocka_unit_test_setup_teardown(forged_pieces, setup, teardown),
      cmocka_unit_test_setup_teardown(altered_header, setup, teardown),
      cmocka_unit_test_setup_teardown(replayed_generation, setup, teardown),
      cmocka_unit_test_setup_teardown(wrong_key, setup, teardown),
      cmocka_unit_test_setup_teardown(alloc_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(station_specs, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
