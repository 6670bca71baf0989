/*
 * auth_fuzz.c — libFuzzer target for the signed stream's check
 * (core/auth.c): a verifier is offered what relays could send around one
 * generation that the source really signed: its chunks in any order, with
 * payload bytes, piece bytes or header fields altered, duplicates, other
 * generations and epochs, and chunks of the wrong shape.
 *
 * The input is a list of 6-byte operations:
 *   index (u8, mod d+p) | what (u8) | where (u16) | value (u8) | gen delta (u8)
 * what & 7: 0 the genuine chunk, 1 a payload byte xored with value, 2 a piece
 * byte xored with value, 3 src_ts + value, 4 gen_bytes - value, 5 epoch +
 * value, 6 gen + delta, 7 datalen - 1 (a chunk of the wrong shape).
 *
 * Checked: every offer returns a documented verdict or SC_ERR_INVALID; a
 * genuine chunk of the signed generation is never judged forged once the
 * manifest is known; an altered payload or piece is never judged good; the
 * counters add up (good + forged <= offers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/auth.h"
#include "core/err.h"
#include "core/fec.h"

#define D  12
#define P  4
#define N  (D + P)
#define CB 64 /* small chunks: the check does not depend on their size */

static uint8_t g_pk[SC_AUTH_PK_BYTES];
static sc_id g_channel;
static uint8_t g_data[N][CB];
static uint8_t g_pieces[N * SC_AUTH_PIECE_BYTES_MAX];
static sc_chunk g_chunks[N];
static size_t g_pb;

/* Which offers were altered (by index): their verdicts must not be good. */
typedef struct run {
  uint32_t altered; /* indices offered altered in the signed generation */
  uint64_t offers;
} run;

static void on_verdict(void *user, const sc_chunk *c, uint64_t tag, int verdict) {
  run *r = user;
  if (c->gen != 7 || c->epoch != 3) return;
  /* tag 1: this copy was altered; 0: genuine. */
  if (tag == 1 && verdict == SC_AUTH_GOOD) abort();
  if (tag == 0 && verdict != SC_AUTH_GOOD) abort();
  (void)r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (sodium_init() < 0) abort();
  uint8_t sk[SC_AUTH_SK_BYTES], seed[32];
  memset(seed, 3, sizeof seed);
  crypto_sign_seed_keypair(g_pk, sk, seed);
  g_channel = sc_id_hash("fuzz", 4);
  sc_fec *fec;
  if (sc_fec_new(&fec, D, P, CB, NULL) != 0) abort();
  const uint8_t *data[D];
  uint8_t *parity[P];
  for (unsigned i = 0; i < N; i++) {
    for (unsigned b = 0; b < CB; b++)
      g_data[i][b] = (uint8_t)(i * 13 + b);
    if (i < D)
      data[i] = g_data[i];
    else
      parity[i - D] = g_data[i];
  }
  sc_fec_encode(fec, data, parity);
  sc_fec_del(fec);
  for (unsigned i = 0; i < N; i++)
    g_chunks[i] = (sc_chunk){.gen = 7,
                             .src_ts_ns = 1000,
                             .gen_bytes = D * CB - 5,
                             .epoch = 3,
                             .index = (uint8_t)i,
                             .data = g_data[i],
                             .datalen = CB};
  sc_auth_signer *s;
  if (sc_auth_signer_new(&s, sk, &g_channel, D, P, CB, NULL) != 0) abort();
  if (sc_auth_sign(s, g_chunks, g_pieces) != 0) abort();
  sc_auth_signer_del(s);
  g_pb = sc_auth_piece_bytes(D, P);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len) {
  run r = {0};
  sc_auth_verifier *v;
  if (sc_auth_verifier_new(&v, g_pk, &g_channel, D, P, CB, 8, on_verdict, &r, NULL) != 0)
    abort();
  uint8_t data[CB], piece[SC_AUTH_PIECE_BYTES_MAX];
  for (size_t k = 0; k + 6 <= len; k += 6) {
    const uint8_t *op = in + k;
    unsigned i = op[0] % N;
    unsigned what = op[1] & 7;
    unsigned where = (unsigned)op[2] << 8 | op[3];
    uint8_t value = op[4] ? op[4] : 1;
    sc_chunk c = g_chunks[i];
    memcpy(data, g_data[i], CB);
    memcpy(piece, g_pieces + i * g_pb, g_pb);
    c.data = data;
    bool altered = true;
    switch (what) {
    case 0:
      altered = false;
      break;
    case 1:
      data[where % CB] ^= value;
      break;
    case 2:
      piece[where % g_pb] ^= value;
      break;
    case 3:
      c.src_ts_ns += value;
      break;
    case 4:
      c.gen_bytes -= value;
      break;
    case 5:
      c.epoch += value;
      break;
    case 6:
      c.gen += op[5] ? op[5] : 1;
      break;
    default:
      c.datalen = CB - 1;
      break;
    }
    int rv = sc_auth_verifier_offer(v, &c, piece, altered ? 1 : 0);
    r.offers++;
    switch (rv) {
    case SC_AUTH_GOOD:
      if (altered) abort();
      break;
    case SC_AUTH_FORGED:
      if (!altered) abort();
      break;
    case SC_AUTH_HELD:
    case SC_AUTH_DUP:
    case SC_AUTH_REPLAYED:
    case SC_AUTH_STALE:
    case SC_ERR_INVALID:
      break;
    default:
      abort();
    }
    uint8_t out[SC_AUTH_PIECE_BYTES_MAX];
    if (sc_auth_verifier_piece(v, 3, 7, i, out) == 0 &&
        memcmp(out, g_pieces + i * g_pb, g_pb) != 0)
      abort();
  }
  sc_auth_stats st;
  sc_auth_verifier_get_stats(v, &st);
  if (st.chunks_good + st.chunks_forged > r.offers) abort();
  sc_auth_verifier_del(v);
  return 0;
}
