/*
 * fec.h — a systematic Reed–Solomon erasure code over GF(2^8), sans I/O.
 *
 * A generation is d data chunks and p parity chunks of chunk_bytes each
 * (docs/ARCHITECTURE.md §3, "Stream": one chunk per stripe). The code is systematic
 * (chunks 0..d-1 are the data itself) and MDS: any d of the d+p chunks
 * rebuild the data. The arithmetic is ISA-L's (ec_encode_data); the
 * generator is ISA-L's Cauchy matrix (gf_gen_cauchy1_matrix), whose every
 * square submatrix is invertible, so every pattern of at most p erasures
 * decodes. (ISA-L's Vandermonde-style gf_gen_rs_matrix does not promise
 * that for every (d, p): see its comment in <isa-l/erasure_code.h>.)
 *
 * Decoding inverts the d x d submatrix of the chosen chunks; the inverse's
 * expanded tables are cached per erasure pattern (SC_FEC_CACHE_MAX patterns,
 * least recently used replaced) because under a cut stripe the same pattern
 * repeats for every generation. Neither encode nor decode allocates: all
 * memory is taken in sc_fec_new().
 *
 * p == 0 is allowed ("16+0", coding off): encode does nothing and decode
 * needs every data chunk.
 */
#ifndef SC_FEC_H
#define SC_FEC_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define SC_FEC_CHUNKS_MAX      32         /* d + p: up to 32 stripes (we use 16) */
#define SC_FEC_CHUNK_BYTES_MAX (1u << 20) /* bound on chunk_bytes (ISA-L takes int) */
#define SC_FEC_CACHE_MAX       4          /* decode tables kept, one per pattern */

typedef struct sc_fec sc_fec;

/*
 * Creates a code with d data chunks (1..SC_FEC_CHUNKS_MAX), p parity chunks
 * (d + p <= SC_FEC_CHUNKS_MAX) of chunk_bytes (1..SC_FEC_CHUNK_BYTES_MAX).
 * alloc NULL is libc. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_fec_new(sc_fec **out, unsigned d, unsigned p, size_t chunk_bytes,
               const sc_alloc *alloc);
void sc_fec_del(sc_fec *fec);

unsigned sc_fec_data_chunks(const sc_fec *fec);
unsigned sc_fec_parity_chunks(const sc_fec *fec);
size_t sc_fec_chunk_bytes(const sc_fec *fec);

/*
 * Computes the p parity chunks of data[0..d-1] into parity[0..p-1] (chunk
 * index d + i is parity[i]). The caller owns every buffer; each holds
 * chunk_bytes. Buffers must not overlap. Does not allocate; cannot fail.
 */
void sc_fec_encode(sc_fec *fec, const uint8_t *const data[], uint8_t *const parity[]);

/*
 * Rebuilds the data chunks from present[0..d+p-1] (NULL: that chunk is
 * missing; the first d entries are data chunks, the rest parity chunks).
 * Writes data chunk i into out_data[i] for i < d: a missing chunk is
 * computed; a present one is copied, unless out_data[i] == present[i] (the
 * caller decodes in place) or out_data[i] is NULL (the caller does not want
 * it). Every missing data chunk needs a non-NULL out_data[i], not
 * overlapping any present chunk.
 *
 * Returns 0, or SC_ERR_NOT_FOUND when fewer than d chunks are present (the
 * outputs are untouched), or SC_ERR_INVALID for a NULL out_data[i] of a
 * missing chunk. Does not allocate.
 */
int sc_fec_decode(sc_fec *fec, const uint8_t *const present[], uint8_t *const out_data[]);

typedef struct sc_fec_stats {
  uint64_t encodes;
  uint64_t decodes;       /* calls that computed at least one missing chunk */
  uint64_t decode_copies; /* calls where every data chunk was present */
  uint64_t cache_hits;    /* decodes that reused cached tables */
  uint64_t cache_misses;  /* decodes that inverted a matrix */
} sc_fec_stats;

void sc_fec_get_stats(const sc_fec *fec, sc_fec_stats *out);
size_t sc_fec_mem_bytes(const sc_fec *fec);

#endif
