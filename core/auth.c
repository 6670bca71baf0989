/* auth.c — the signed stream (see auth.h). */
#include "auth.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "err.h"

#define NMAX SC_FEC_CHUNKS_MAX
/* Ed25519 verifications a staged generation may cost on candidates that
 * the code's redundancy could not check first (exactly d pieces used): a
 * forger's bound on the CPU it makes a peer spend, 4 verifications a
 * generation. A candidate checked by a spare piece costs one more; with
 * all d + p chunks there is always a spare piece (d + p - 2 > d). */
#define SIG_TRIES_MAX 4

static const char signed_tag[16] = "stripecast gen 1";

size_t sc_auth_piece_bytes(unsigned d, unsigned p) {
  if (d == 0 || d + p > NMAX) return 0;
  size_t m = (size_t)(d + p) * SC_AUTH_HASH_BYTES + SC_AUTH_SIG_BYTES;
  return (m + d - 1) / d;
}

/* The header fields a generation's chunks share and the signature covers. */
typedef struct gen_hdr {
  uint64_t gen;
  uint64_t src_ts_ns;
  uint32_t gen_bytes;
  uint32_t epoch;
} gen_hdr;

static gen_hdr hdr_of(const sc_chunk *c) {
  return (gen_hdr){c->gen, c->src_ts_ns, c->gen_bytes, c->epoch};
}

static bool hdr_eq(const gen_hdr *a, const gen_hdr *b) {
  return a->gen == b->gen && a->src_ts_ns == b->src_ts_ns &&
         a->gen_bytes == b->gen_bytes && a->epoch == b->epoch;
}

/* The shape both ends share. */
typedef struct shape {
  sc_id channel;
  unsigned d, p, n;
  size_t chunk_bytes;
  size_t piece_bytes;
  size_t manifest_bytes; /* n hashes + signature */
  sc_fec *fec;           /* the manifest's code: d + p pieces of piece_bytes */
} shape;

static int shape_init(shape *s, const sc_id *channel, unsigned d, unsigned p,
                      size_t chunk_bytes, const sc_alloc *alloc) {
  if (channel == NULL || d == 0 || d + p > NMAX || chunk_bytes == 0 ||
      chunk_bytes > SC_FEC_CHUNK_BYTES_MAX)
    return SC_ERR_INVALID;
  s->channel = *channel;
  s->d = d;
  s->p = p;
  s->n = d + p;
  s->chunk_bytes = chunk_bytes;
  s->piece_bytes = sc_auth_piece_bytes(d, p);
  s->manifest_bytes = (size_t)s->n * SC_AUTH_HASH_BYTES + SC_AUTH_SIG_BYTES;
  return sc_fec_new(&s->fec, d, p, s->piece_bytes, alloc);
}

static void chunk_hash(const shape *s, const uint8_t *data,
                       uint8_t out[SC_AUTH_HASH_BYTES]) {
  uint8_t h[crypto_generichash_BYTES_MIN];
  crypto_generichash(h, sizeof h, data, s->chunk_bytes, NULL, 0);
  memcpy(out, h, SC_AUTH_HASH_BYTES);
}

/* The signed bytes of a generation (auth.h). */
static size_t signed_bytes(const shape *s, const gen_hdr *h, const uint8_t *hashes,
                           uint8_t out[SC_AUTH_SIGNED_MAX]) {
  uint8_t *b = out;
  memcpy(b, signed_tag, sizeof signed_tag);
  b += sizeof signed_tag;
  sc_id_to_bytes(&s->channel, b);
  b += 16;
  sc_put_be32(b, h->epoch);
  sc_put_be64(b + 4, h->gen);
  sc_put_be64(b + 12, h->src_ts_ns);
  sc_put_be32(b + 20, h->gen_bytes);
  b[24] = (uint8_t)s->d;
  b[25] = (uint8_t)s->p;
  b[26] = (uint8_t)(s->chunk_bytes >> 8);
  b[27] = (uint8_t)s->chunk_bytes;
  b += 28;
  memcpy(b, hashes, (size_t)s->n * SC_AUTH_HASH_BYTES);
  b += (size_t)s->n * SC_AUTH_HASH_BYTES;
  return (size_t)(b - out);
}

/* Codes manifest (d * piece_bytes, zero padded) into n pieces. */
static void encode_pieces(const shape *s, const uint8_t *manifest, uint8_t *pieces) {
  const uint8_t *data[NMAX];
  uint8_t *parity[NMAX];
  memcpy(pieces, manifest, (size_t)s->d * s->piece_bytes);
  for (unsigned i = 0; i < s->d; i++)
    data[i] = pieces + (size_t)i * s->piece_bytes;
  for (unsigned i = 0; i < s->p; i++)
    parity[i] = pieces + (size_t)(s->d + i) * s->piece_bytes;
  sc_fec_encode(s->fec, data, parity);
}

/* ------------------------------------------------------------ signer */

struct sc_auth_signer {
  shape s;
  const sc_alloc *alloc;
  uint8_t sk[SC_AUTH_SK_BYTES];
};

int sc_auth_signer_new(sc_auth_signer **out, const uint8_t sk[SC_AUTH_SK_BYTES],
                       const sc_id *channel, unsigned d, unsigned p, size_t chunk_bytes,
                       const sc_alloc *alloc) {
  if (out == NULL || sk == NULL) return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_auth_signer *g = alloc->calloc(1, sizeof *g, alloc->user);
  if (g == NULL) return SC_ERR_NOMEM;
  g->alloc = alloc;
  int rv = shape_init(&g->s, channel, d, p, chunk_bytes, alloc);
  if (rv != SC_OK) {
    alloc->free(g, alloc->user);
    return rv;
  }
  memcpy(g->sk, sk, SC_AUTH_SK_BYTES);
  *out = g;
  return SC_OK;
}

void sc_auth_signer_del(sc_auth_signer *g) {
  if (g == NULL) return;
  sodium_memzero(g->sk, sizeof g->sk);
  sc_fec_del(g->s.fec);
  g->alloc->free(g, g->alloc->user);
}

int sc_auth_sign(sc_auth_signer *g, const sc_chunk chunks[], uint8_t *pieces) {
  const shape *s = &g->s;
  const gen_hdr h = hdr_of(&chunks[0]);
  uint8_t manifest[NMAX * SC_AUTH_PIECE_BYTES_MAX];
  memset(manifest, 0, (size_t)s->d * s->piece_bytes);
  for (unsigned i = 0; i < s->n; i++) {
    const gen_hdr hi = hdr_of(&chunks[i]);
    if (chunks[i].index != i || chunks[i].data == NULL ||
        chunks[i].datalen != s->chunk_bytes || !hdr_eq(&h, &hi))
      return SC_ERR_INVALID;
    chunk_hash(s, chunks[i].data, manifest + (size_t)i * SC_AUTH_HASH_BYTES);
  }
  uint8_t msg[SC_AUTH_SIGNED_MAX];
  size_t mlen = signed_bytes(s, &h, manifest, msg);
  crypto_sign_detached(manifest + (size_t)s->n * SC_AUTH_HASH_BYTES, NULL, msg, mlen,
                       g->sk);
  encode_pieces(s, manifest, pieces);
  return SC_OK;
}

/* ---------------------------------------------------------- verifier */

/* A verified generation: what its chunks must be. */
typedef struct manifest_slot {
  gen_hdr h;
  bool used;
  uint8_t hashes[NMAX * SC_AUTH_HASH_BYTES];
} manifest_slot;

/* A generation whose chunks wait for their manifest. */
typedef struct stage_slot {
  bool used;
  uint32_t present;   /* indices staged */
  uint32_t tried;     /* the pieces of the last failed search */
  uint32_t sig_tries; /* Ed25519 verifications spent on it */
  uint64_t age;       /* insertion order, for eviction */
  uint64_t gen;       /* with epoch: which generation */
  uint32_t epoch;
  gen_hdr h[NMAX]; /* each staged chunk's header */
  uint64_t tag[NMAX];
} stage_slot;

struct sc_auth_verifier {
  shape s;
  const sc_alloc *alloc;
  uint8_t pk[SC_AUTH_PK_BYTES];
  sc_auth_verdict_fn verdict;
  void *user;
  uint32_t window;
  manifest_slot *ms;  /* [window] */
  uint8_t *ms_pieces; /* [window][n][piece_bytes] */
  stage_slot stage[SC_AUTH_STAGE_GENS];
  uint8_t *st_data;   /* [SC_AUTH_STAGE_GENS][n][chunk_bytes] */
  uint8_t *st_pieces; /* [SC_AUTH_STAGE_GENS][n][piece_bytes] */
  uint64_t age;
  bool have;       /* a generation was verified */
  uint32_t epoch;  /* ... in this epoch */
  uint64_t newest; /* the newest verified in it */
  sc_auth_stats st;
};

int sc_auth_verifier_new(sc_auth_verifier **out, const uint8_t pk[SC_AUTH_PK_BYTES],
                         const sc_id *channel, unsigned d, unsigned p, size_t chunk_bytes,
                         uint32_t window_gens, sc_auth_verdict_fn verdict, void *user,
                         const sc_alloc *alloc) {
  if (out == NULL || pk == NULL || verdict == NULL || window_gens == 0 ||
      window_gens > SC_AUTH_WINDOW_MAX || !crypto_core_ed25519_is_valid_point(pk))
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_auth_verifier *v = alloc->calloc(1, sizeof *v, alloc->user);
  if (v == NULL) return SC_ERR_NOMEM;
  v->alloc = alloc;
  int rv = shape_init(&v->s, channel, d, p, chunk_bytes, alloc);
  if (rv != SC_OK) {
    alloc->free(v, alloc->user);
    return rv;
  }
  memcpy(v->pk, pk, SC_AUTH_PK_BYTES);
  v->verdict = verdict;
  v->user = user;
  v->window = window_gens;
  const size_t n = v->s.n;
  v->ms = alloc->calloc(window_gens, sizeof *v->ms, alloc->user);
  v->ms_pieces = alloc->calloc((size_t)window_gens * n, v->s.piece_bytes, alloc->user);
  v->st_data = alloc->calloc(SC_AUTH_STAGE_GENS * n, chunk_bytes, alloc->user);
  v->st_pieces = alloc->calloc(SC_AUTH_STAGE_GENS * n, v->s.piece_bytes, alloc->user);
  if (!v->ms || !v->ms_pieces || !v->st_data || !v->st_pieces) {
    sc_auth_verifier_del(v);
    return SC_ERR_NOMEM;
  }
  *out = v;
  return SC_OK;
}

void sc_auth_verifier_del(sc_auth_verifier *v) {
  if (v == NULL) return;
  const sc_alloc *a = v->alloc;
  sc_fec_del(v->s.fec);
  if (v->ms) a->free(v->ms, a->user);
  if (v->ms_pieces) a->free(v->ms_pieces, a->user);
  if (v->st_data) a->free(v->st_data, a->user);
  if (v->st_pieces) a->free(v->st_pieces, a->user);
  a->free(v, a->user);
}

static uint8_t *ms_piece(const sc_auth_verifier *v, size_t slot, unsigned i) {
  return v->ms_pieces + (slot * v->s.n + i) * v->s.piece_bytes;
}

static uint8_t *st_data(const sc_auth_verifier *v, size_t slot, unsigned i) {
  return v->st_data + (slot * v->s.n + i) * v->s.chunk_bytes;
}

static uint8_t *st_piece(const sc_auth_verifier *v, size_t slot, unsigned i) {
  return v->st_pieces + (slot * v->s.n + i) * v->s.piece_bytes;
}

/* The verified manifest of (epoch, gen), or -1. */
static long find_manifest(const sc_auth_verifier *v, uint32_t epoch, uint64_t gen) {
  size_t k = gen % v->window;
  const manifest_slot *m = &v->ms[k];
  return m->used && m->h.gen == gen && m->h.epoch == epoch ? (long)k : -1;
}

/* A chunk against its generation's verified manifest. */
static int judge(const sc_auth_verifier *v, size_t k, const sc_chunk *c,
                 const uint8_t *piece) {
  const manifest_slot *m = &v->ms[k];
  const gen_hdr h = hdr_of(c);
  uint8_t hash[SC_AUTH_HASH_BYTES];
  chunk_hash(&v->s, c->data, hash);
  if (!hdr_eq(&h, &m->h) ||
      memcmp(hash, m->hashes + (size_t)c->index * SC_AUTH_HASH_BYTES, sizeof hash) != 0 ||
      memcmp(piece, ms_piece(v, k, c->index), v->s.piece_bytes) != 0)
    return SC_AUTH_FORGED;
  return SC_AUTH_GOOD;
}

static int count(sc_auth_verifier *v, int verdict) {
  switch (verdict) {
  case SC_AUTH_GOOD:
    v->st.chunks_good++;
    break;
  case SC_AUTH_FORGED:
    v->st.chunks_forged++;
    break;
  case SC_AUTH_REPLAYED:
    v->st.chunks_replayed++;
    break;
  default:
    break;
  }
  return verdict;
}

/* Decodes the candidate manifest from the first d pieces of set (a mask)
 * into out (d * piece_bytes); checks it against the set's other pieces.
 * Returns true when they all agree. */
static bool candidate(sc_auth_verifier *v, size_t slot, uint32_t set, uint8_t *out) {
  const shape *s = &v->s;
  const uint8_t *present[NMAX] = {0};
  uint8_t *dst[NMAX];
  unsigned used = 0;
  for (unsigned i = 0; i < s->n && used < s->d; i++)
    if (set & (1u << i)) {
      present[i] = st_piece(v, slot, i);
      used++;
    }
  for (unsigned i = 0; i < s->d; i++)
    dst[i] = out + (size_t)i * s->piece_bytes;
  if (sc_fec_decode(s->fec, present, dst) != SC_OK) return false;
  v->st.manifest_decodes++;
  uint32_t rest = set;
  for (unsigned i = 0; i < s->n; i++)
    if (present[i]) rest &= ~(1u << i);
  if (rest == 0) return true;
  uint8_t all[NMAX * SC_AUTH_PIECE_BYTES_MAX];
  encode_pieces(s, out, all);
  for (unsigned i = 0; i < s->n; i++)
    if ((rest & (1u << i)) &&
        memcmp(all + (size_t)i * s->piece_bytes, st_piece(v, slot, i), s->piece_bytes))
      return false;
  return true;
}

static bool signature_holds(sc_auth_verifier *v, const gen_hdr *h, const uint8_t *mf) {
  uint8_t msg[SC_AUTH_SIGNED_MAX];
  size_t mlen = signed_bytes(&v->s, h, mf, msg);
  v->st.sig_checks++;
  if (crypto_sign_verify_detached(mf + (size_t)v->s.n * SC_AUTH_HASH_BYTES, msg, mlen,
                                  v->pk) == 0)
    return true;
  v->st.sig_failures++;
  return false;
}

/* The next mask of k bits after x (Gosper's hack), 0 past the last below
 * 2^n. */
static uint32_t next_combination(uint32_t x, unsigned n) {
  uint32_t c = x & (0u - x), r = x + c;
  uint32_t y = (((r ^ x) >> 2) / c) | r;
  return n < 32 && (y >> n) != 0 ? 0 : y;
}

/* The pieces of set without the members chosen by the bits of pick over
 * set's members in index order. */
static uint32_t leave_out(uint32_t set, uint32_t pick) {
  uint32_t out = set;
  unsigned j = 0;
  for (unsigned i = 0; i < 32; i++)
    if (set & (1u << i)) {
      if (pick & (1u << j)) out &= ~(1u << i);
      j++;
    }
  return out;
}

/* Searches a manifest among the staged pieces that agree on the most common
 * header: all of them first, then leaving out 1, 2 pieces. A candidate is
 * checked against the pieces it did not use before its signature is; with
 * no piece to spare, each costs a verification (SIG_TRIES_MAX a
 * generation). */
static bool search(sc_auth_verifier *v, size_t slot, gen_hdr *h_out, uint8_t *mf) {
  stage_slot *st = &v->stage[slot];
  const shape *s = &v->s;
  unsigned best = 0, best_n = 0;
  for (unsigned i = 0; i < s->n; i++) {
    if (!(st->present & (1u << i))) continue;
    unsigned k = 0;
    for (unsigned j = 0; j < s->n; j++)
      if ((st->present & (1u << j)) && hdr_eq(&st->h[i], &st->h[j])) k++;
    if (k > best_n) best_n = k, best = i;
  }
  if (best_n < s->d) return false;
  uint32_t set = 0;
  for (unsigned j = 0; j < s->n; j++)
    if ((st->present & (1u << j)) && hdr_eq(&st->h[best], &st->h[j])) set |= 1u << j;
  if (set == st->tried) return false;
  st->tried = set;
  const gen_hdr h = st->h[best];
  unsigned spare = best_n - s->d;
  for (unsigned e = 0; e <= spare && e <= SC_AUTH_LEAVE_OUT_MAX; e++) {
    for (uint32_t pick = (1u << e) - 1u; e == 0 || pick != 0;
         pick = next_combination(pick, best_n)) {
      uint32_t use = leave_out(set, pick);
      bool checked = e < spare; /* pieces to spare: checked by the code */
      if ((checked || st->sig_tries < SIG_TRIES_MAX) && candidate(v, slot, use, mf)) {
        if (!checked) st->sig_tries++;
        if (signature_holds(v, &h, mf)) {
          *h_out = h;
          return true;
        }
      }
      if (e == 0) break;
    }
  }
  return false;
}

/* The manifest mf of generation h is authentic: keep it, and judge the
 * generation's staged chunks. */
static void establish(sc_auth_verifier *v, size_t slot, const gen_hdr *h,
                      const uint8_t *mf) {
  size_t k = h->gen % v->window;
  manifest_slot *m = &v->ms[k];
  m->h = *h;
  m->used = true;
  memcpy(m->hashes, mf, (size_t)v->s.n * SC_AUTH_HASH_BYTES);
  encode_pieces(&v->s, mf, ms_piece(v, k, 0));
  v->st.gens_verified++;
  if (!v->have || (int32_t)(h->epoch - v->epoch) > 0) {
    v->have = true;
    v->epoch = h->epoch;
    v->newest = h->gen;
  } else if (h->epoch == v->epoch && h->gen > v->newest) {
    v->newest = h->gen;
  }
  stage_slot *st = &v->stage[slot];
  uint32_t present = st->present;
  st->used = false; /* free before the callbacks, which may offer more */
  for (unsigned i = 0; i < v->s.n; i++) {
    if (!(present & (1u << i))) continue;
    sc_chunk c = {.gen = st->h[i].gen,
                  .src_ts_ns = st->h[i].src_ts_ns,
                  .gen_bytes = st->h[i].gen_bytes,
                  .epoch = st->h[i].epoch,
                  .index = (uint8_t)i,
                  .data = st_data(v, slot, i),
                  .datalen = v->s.chunk_bytes};
    int verdict = count(v, judge(v, k, &c, st_piece(v, slot, i)));
    v->verdict(v->user, &c, st->tag[i], verdict);
  }
}

static size_t stage_slot_for(sc_auth_verifier *v, uint32_t epoch, uint64_t gen) {
  size_t free_k = SC_AUTH_STAGE_GENS, old_k = 0;
  for (size_t k = 0; k < SC_AUTH_STAGE_GENS; k++) {
    stage_slot *st = &v->stage[k];
    if (!st->used) {
      if (free_k == SC_AUTH_STAGE_GENS) free_k = k;
      continue;
    }
    if (st->gen == gen && st->epoch == epoch) return k;
    if (st->age < v->stage[old_k].age || !v->stage[old_k].used) old_k = k;
  }
  size_t k = free_k;
  if (k == SC_AUTH_STAGE_GENS) {
    k = old_k;
    v->st.gens_evicted++;
  }
  stage_slot *st = &v->stage[k];
  memset(st, 0, sizeof *st);
  st->used = true;
  st->gen = gen;
  st->epoch = epoch;
  st->age = ++v->age;
  return k;
}

int sc_auth_verifier_offer(sc_auth_verifier *v, const sc_chunk *c, const uint8_t *piece,
                           uint64_t tag) {
  if (c == NULL || piece == NULL || c->data == NULL || c->datalen != v->s.chunk_bytes ||
      c->index >= v->s.n || c->gen > SC_STREAM_GEN_MAX) {
    v->st.chunks_forged++;
    return SC_ERR_INVALID;
  }
  if (v->have && (int32_t)(c->epoch - v->epoch) < 0) {
    v->st.chunks_stale++;
    return SC_AUTH_STALE;
  }
  if (v->have && c->epoch == v->epoch && c->gen + v->window <= v->newest)
    return count(v, SC_AUTH_REPLAYED);
  long k = find_manifest(v, c->epoch, c->gen);
  if (k >= 0) return count(v, judge(v, (size_t)k, c, piece));
  size_t slot = stage_slot_for(v, c->epoch, c->gen);
  stage_slot *st = &v->stage[slot];
  if (st->present & (1u << c->index)) {
    v->st.chunks_dup++;
    return SC_AUTH_DUP;
  }
  st->present |= 1u << c->index;
  st->h[c->index] = hdr_of(c);
  st->tag[c->index] = tag;
  memcpy(st_data(v, slot, c->index), c->data, v->s.chunk_bytes);
  memcpy(st_piece(v, slot, c->index), piece, v->s.piece_bytes);
  gen_hdr h;
  uint8_t mf[NMAX * SC_AUTH_PIECE_BYTES_MAX];
  if (search(v, slot, &h, mf)) establish(v, slot, &h, mf);
  return SC_AUTH_HELD;
}

bool sc_auth_verifier_staged(const sc_auth_verifier *v, uint32_t epoch, uint64_t gen,
                             uint32_t *present) {
  for (size_t k = 0; k < SC_AUTH_STAGE_GENS; k++) {
    const stage_slot *st = &v->stage[k];
    if (st->used && st->gen == gen && st->epoch == epoch) {
      *present = st->present;
      return true;
    }
  }
  return false;
}

int sc_auth_verifier_piece(const sc_auth_verifier *v, uint32_t epoch, uint64_t gen,
                           unsigned index, uint8_t *out) {
  long k = find_manifest(v, epoch, gen);
  if (k < 0 || index >= v->s.n) return SC_ERR_NOT_FOUND;
  memcpy(out, ms_piece(v, (size_t)k, index), v->s.piece_bytes);
  return SC_OK;
}

void sc_auth_verifier_get_stats(const sc_auth_verifier *v, sc_auth_stats *out) {
  *out = v->st;
}

size_t sc_auth_verifier_mem_bytes(const sc_auth_verifier *v) {
  const size_t n = v->s.n;
  return sizeof *v + sc_fec_mem_bytes(v->s.fec) + v->window * sizeof *v->ms +
         (size_t)v->window * n * v->s.piece_bytes +
         SC_AUTH_STAGE_GENS * n * (v->s.chunk_bytes + v->s.piece_bytes);
}
