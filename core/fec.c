/*
 * fec.c — systematic Reed–Solomon over GF(2^8) with ISA-L (see fec.h).
 *
 * Encoding: the generator G is (d+p) x d, identity on top (systematic) and
 * a Cauchy block below; parity = G[d..d+p-1] * data. Decoding from the chosen
 * source chunks S (d of them): data = inverse(G[S]) * chunks[S], and only the
 * rows of that inverse that belong to missing data chunks are needed, so a
 * decode costs as many output rows as there are erasures among the data.
 */
#include "fec.h"

#include <assert.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "err.h"

/* ISA-L expands each coefficient into 32 bytes of lookup tables. */
#define GFTBL_BYTES 32u

typedef struct fec_pattern {
  uint32_t sources; /* the d chunks decoded from, as a bit mask; 0: empty */
  uint32_t used;    /* recency stamp for least-recently-used replacement */
  uint8_t nmiss;    /* missing data chunks: rows of tables */
  uint8_t miss[SC_FEC_CHUNKS_MAX];
  uint8_t *tables; /* GFTBL_BYTES * d * nmiss_max, in the owner's block */
} fec_pattern;

struct sc_fec {
  const sc_alloc *alloc;
  unsigned d, p;
  size_t chunk_bytes;
  unsigned nmiss_max; /* min(p, d): at most this many data chunks to rebuild */
  uint8_t *block;     /* one allocation for everything below */
  uint8_t *matrix;    /* (d+p) x d generator */
  uint8_t *enc_tables;
  uint32_t clock;
  fec_pattern cache[SC_FEC_CACHE_MAX];
  sc_fec_stats stats;
};

int sc_fec_new(sc_fec **out, unsigned d, unsigned p, size_t chunk_bytes,
               const sc_alloc *alloc) {
  if (out == NULL || d == 0 || d + p > SC_FEC_CHUNKS_MAX || chunk_bytes == 0 ||
      chunk_bytes > SC_FEC_CHUNK_BYTES_MAX)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_fec *f = alloc->calloc(1, sizeof(*f), alloc->user);
  if (f == NULL) return SC_ERR_NOMEM;
  f->alloc = alloc;
  f->d = d;
  f->p = p;
  f->chunk_bytes = chunk_bytes;
  f->nmiss_max = p < d ? p : d;

  size_t matrix_bytes = (size_t)(d + p) * d;
  size_t enc_bytes = (size_t)GFTBL_BYTES * d * p;
  size_t dec_bytes = (size_t)GFTBL_BYTES * d * f->nmiss_max;
  f->block =
      alloc->malloc(matrix_bytes + enc_bytes + SC_FEC_CACHE_MAX * dec_bytes, alloc->user);
  if (f->block == NULL) {
    alloc->free(f, alloc->user);
    return SC_ERR_NOMEM;
  }
  f->matrix = f->block;
  f->enc_tables = f->matrix + matrix_bytes;
  for (unsigned i = 0; i < SC_FEC_CACHE_MAX; i++)
    f->cache[i].tables = f->enc_tables + enc_bytes + i * dec_bytes;

  gf_gen_cauchy1_matrix(f->matrix, (int)(d + p), (int)d);
  if (p > 0) ec_init_tables((int)d, (int)p, f->matrix + (size_t)d * d, f->enc_tables);
  *out = f;
  return SC_OK;
}

void sc_fec_del(sc_fec *fec) {
  if (fec == NULL) return;
  fec->alloc->free(fec->block, fec->alloc->user);
  fec->alloc->free(fec, fec->alloc->user);
}

unsigned sc_fec_data_chunks(const sc_fec *fec) {
  return fec->d;
}
unsigned sc_fec_parity_chunks(const sc_fec *fec) {
  return fec->p;
}
size_t sc_fec_chunk_bytes(const sc_fec *fec) {
  return fec->chunk_bytes;
}

void sc_fec_encode(sc_fec *fec, const uint8_t *const data[], uint8_t *const parity[]) {
  fec->stats.encodes++;
  if (fec->p == 0) return;
  /* ISA-L's signature is not const-correct; it only reads the sources. */
  uint8_t *src[SC_FEC_CHUNKS_MAX];
  uint8_t *dst[SC_FEC_CHUNKS_MAX];
  for (unsigned i = 0; i < fec->d; i++)
    src[i] = (uint8_t *)(uintptr_t)data[i];
  for (unsigned i = 0; i < fec->p; i++)
    dst[i] = parity[i];
  ec_encode_data((int)fec->chunk_bytes, (int)fec->d, (int)fec->p, fec->enc_tables, src,
                 dst);
}

/* The cached tables for decoding from `sources`, built on a miss into the
 * least recently used entry. */
static fec_pattern *fec_pattern_get(sc_fec *f, uint32_t sources, const uint8_t *src_idx) {
  fec_pattern *victim = &f->cache[0];
  f->clock++;
  for (unsigned i = 0; i < SC_FEC_CACHE_MAX; i++) {
    fec_pattern *e = &f->cache[i];
    if (e->sources == sources) {
      e->used = f->clock;
      f->stats.cache_hits++;
      return e;
    }
    if (e->sources == 0 || (victim->sources != 0 && e->used < victim->used)) victim = e;
  }
  f->stats.cache_misses++;

  const unsigned d = f->d;
  uint8_t sub[SC_FEC_CHUNKS_MAX * SC_FEC_CHUNKS_MAX];
  uint8_t inv[SC_FEC_CHUNKS_MAX * SC_FEC_CHUNKS_MAX];
  uint8_t rows[SC_FEC_CHUNKS_MAX * SC_FEC_CHUNKS_MAX];
  for (unsigned r = 0; r < d; r++)
    memcpy(&sub[r * d], &f->matrix[(size_t)src_idx[r] * d], d);
  /* Cauchy: every square submatrix of the generator is invertible. */
  int singular = gf_invert_matrix(sub, inv, (int)d);
  assert(singular == 0);
  (void)singular;

  victim->nmiss = 0;
  for (unsigned i = 0; i < d; i++) {
    if (sources & (1u << i)) continue;
    memcpy(&rows[victim->nmiss * d], &inv[i * d], d);
    victim->miss[victim->nmiss++] = (uint8_t)i;
  }
  assert(victim->nmiss > 0 && victim->nmiss <= f->nmiss_max);
  ec_init_tables((int)d, victim->nmiss, rows, victim->tables);
  victim->sources = sources;
  victim->used = f->clock;
  return victim;
}

int sc_fec_decode(sc_fec *fec, const uint8_t *const present[],
                  uint8_t *const out_data[]) {
  const unsigned d = fec->d, n = fec->d + fec->p;
  uint8_t src_idx[SC_FEC_CHUNKS_MAX];
  uint32_t sources = 0;
  unsigned nsrc = 0;
  /* The first d present chunks: every present data chunk is among them, so
   * the data chunks left out are exactly the missing ones. */
  for (unsigned i = 0; i < n && nsrc < d; i++) {
    if (present[i] == NULL) continue;
    src_idx[nsrc++] = (uint8_t)i;
    sources |= 1u << i;
  }
  if (nsrc < d) return SC_ERR_NOT_FOUND;
  for (unsigned i = 0; i < d; i++)
    if (present[i] == NULL && out_data[i] == NULL) return SC_ERR_INVALID;

  const uint32_t data_mask = d == 32 ? UINT32_MAX : (1u << d) - 1u;
  if ((sources & data_mask) == data_mask) {
    fec->stats.decode_copies++;
  } else {
    fec->stats.decodes++;
    const fec_pattern *e = fec_pattern_get(fec, sources, src_idx);
    uint8_t *src[SC_FEC_CHUNKS_MAX];
    uint8_t *dst[SC_FEC_CHUNKS_MAX];
    for (unsigned j = 0; j < d; j++)
      src[j] = (uint8_t *)(uintptr_t)present[src_idx[j]];
    for (unsigned k = 0; k < e->nmiss; k++)
      dst[k] = out_data[e->miss[k]];
    ec_encode_data((int)fec->chunk_bytes, (int)d, e->nmiss, e->tables, src, dst);
  }
  for (unsigned i = 0; i < d; i++)
    if (present[i] != NULL && out_data[i] != NULL && out_data[i] != present[i])
      memcpy(out_data[i], present[i], fec->chunk_bytes);
  return SC_OK;
}

void sc_fec_get_stats(const sc_fec *fec, sc_fec_stats *out) {
  *out = fec->stats;
}

size_t sc_fec_mem_bytes(const sc_fec *fec) {
  size_t d = fec->d, p = fec->p;
  return sizeof(*fec) + (d + p) * d + GFTBL_BYTES * d * p +
         SC_FEC_CACHE_MAX * GFTBL_BYTES * d * fec->nmiss_max;
}
