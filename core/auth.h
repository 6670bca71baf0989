/*
 * auth.h — the signed stream: a station's generations signed by its
 * Ed25519 key (RFC 8032) and verified by every peer before it plays or
 * forwards a chunk, sans I/O (docs/ARCHITECTURE.md §3, "Signed stream").
 *
 * A signature on every chunk (64 bytes on 1,024) would cost 6.25 % of the
 * stream. Instead the source signs one manifest a generation:
 *
 *   signed = "stripecast gen 1" | channel id (16) | epoch (u32) | gen (u64)
 *            | src_ts_ns (u64) | gen_bytes (u32) | d (u8) | p (u8)
 *            | chunk_bytes (u16) | H(chunk 0) ... H(chunk d+p-1)
 *   manifest = H(chunk 0) ... H(chunk d+p-1) | Ed25519 signature of signed
 *
 * (integers big-endian; H is BLAKE2b cut to SC_AUTH_HASH_BYTES), and codes
 * the manifest with the stream's own Reed–Solomon code (core/fec.h) into
 * d + p pieces of sc_auth_piece_bytes(): piece i rides behind chunk i's
 * payload. Any d chunks of a generation therefore carry the whole manifest,
 * as they carry the whole generation: 16 bytes a chunk at 12 + 4 (1.6 %).
 *
 * A receiver stages a generation's chunks until d pieces agree on a
 * manifest whose signature holds; a forged piece is found by leaving pieces
 * out (the code's other pieces must agree with the candidate before its
 * signature is checked). Then each staged chunk is good (its hash and piece
 * are the manifest's) or forged, and later chunks of the generation are
 * checked at once. The header fields are signed, so an altered epoch,
 * timestamp or size is a forgery too; a generation older than the window of
 * manifests kept is refused as a replay.
 *
 * Signing with a given secret key is deterministic (RFC 8032 §5.1.6); key
 * generation needs entropy and belongs to the host. The host calls
 * sodium_init() once before any of these functions.
 */
#ifndef SC_AUTH_H
#define SC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "fec.h"
#include "id.h"
#include "stream.h"

#define SC_AUTH_PK_BYTES  32 /* Ed25519 public key */
#define SC_AUTH_SK_BYTES  64 /* libsodium's secret key: seed | public key */
#define SC_AUTH_SIG_BYTES 64
/* A chunk's hash in the manifest. A forger must find a second preimage of
 * one chunk's 64-bit hash (bound to its generation by the signature) before
 * the generation's deadline, seconds away: 2^64 BLAKE2b calls. */
#define SC_AUTH_HASH_BYTES   8
#define SC_AUTH_MANIFEST_MAX (SC_FEC_CHUNKS_MAX * SC_AUTH_HASH_BYTES + SC_AUTH_SIG_BYTES)
/* The largest piece: the manifest of 32 chunks coded into one data piece. */
#define SC_AUTH_PIECE_BYTES_MAX SC_AUTH_MANIFEST_MAX
/* Manifests a verifier keeps (a ring by generation): chunks of older
 * generations are replays. Covers the stream's largest window. */
#define SC_AUTH_WINDOW_MAX SC_STREAM_WINDOW_MAX
/* Generations whose chunks wait for their manifest at once; the oldest is
 * given up (stats.gens_evicted) when a new one needs room. */
#define SC_AUTH_STAGE_GENS 32
/* Pieces left out when searching for the forged ones: up to 2 forged
 * pieces in a generation are found without waiting for repairs. */
#define SC_AUTH_LEAVE_OUT_MAX 2

/* Bytes of the piece a chunk carries: ceil(manifest / d). */
size_t sc_auth_piece_bytes(unsigned d, unsigned p);

/* The bytes signed for a generation (see above) into out (at least
 * SC_AUTH_SIGNED_MAX bytes); returns their length. */
#define SC_AUTH_SIGNED_MAX                                                               \
  (16 + 16 + 4 + 8 + 8 + 4 + 4 + SC_FEC_CHUNKS_MAX * SC_AUTH_HASH_BYTES)

/* ------------------------------------------------------------ signer */

typedef struct sc_auth_signer sc_auth_signer;

/* A signer for channel with the stream's shape. sk: libsodium's 64-byte
 * Ed25519 secret key. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM. */
int sc_auth_signer_new(sc_auth_signer **out, const uint8_t sk[SC_AUTH_SK_BYTES],
                       const sc_id *channel, unsigned d, unsigned p, size_t chunk_bytes,
                       const sc_alloc *alloc);
void sc_auth_signer_del(sc_auth_signer *s);

/* Signs one generation: chunks[0..d+p-1] (index i at i, same gen, epoch,
 * src_ts_ns, gen_bytes, each chunk_bytes of data) and writes piece i to
 * pieces + i * piece_bytes. Returns 0 or SC_ERR_INVALID. */
int sc_auth_sign(sc_auth_signer *s, const sc_chunk chunks[], uint8_t *pieces);

/* ---------------------------------------------------------- verifier */

/* Verdicts of sc_auth_verifier_offer(). */
enum {
  SC_AUTH_GOOD = 0,     /* authentic: play it, forward it */
  SC_AUTH_HELD = 1,     /* staged until its manifest is known; the verdict
                         * comes through the callback */
  SC_AUTH_DUP = 2,      /* this index is already staged: dropped */
  SC_AUTH_FORGED = 3,   /* payload, piece or header not the signed ones */
  SC_AUTH_REPLAYED = 4, /* a generation older than the manifests kept */
  SC_AUTH_STALE = 5,    /* an epoch older than the one verified: dropped,
                         * nobody blamed (a replaced source's last chunks) */
};

/* The verdict on a staged chunk (GOOD or FORGED), once its generation's
 * manifest is known, or SC_AUTH_REPLAYED when the generation was given up.
 * chunk->data is valid only during the call; tag is the offer's. */
typedef void (*sc_auth_verdict_fn)(void *user, const sc_chunk *chunk, uint64_t tag,
                                   int verdict);

typedef struct sc_auth_verifier sc_auth_verifier;

/* A verifier of channel's chunks signed by pk. window_gens:
 * 1..SC_AUTH_WINDOW_MAX manifests kept. Returns 0, SC_ERR_INVALID (also for
 * a public key that is not a valid Ed25519 point) or SC_ERR_NOMEM. */
int sc_auth_verifier_new(sc_auth_verifier **out, const uint8_t pk[SC_AUTH_PK_BYTES],
                         const sc_id *channel, unsigned d, unsigned p, size_t chunk_bytes,
                         uint32_t window_gens, sc_auth_verdict_fn verdict, void *user,
                         const sc_alloc *alloc);
void sc_auth_verifier_del(sc_auth_verifier *v);

/*
 * Offers one chunk (c->data: chunk_bytes) and the piece it carried
 * (piece_bytes). Returns a verdict above, or SC_ERR_INVALID (a chunk of the
 * wrong shape: counted as forged). Verdicts of staged chunks, this one's
 * included, may come through the callback during the call.
 */
int sc_auth_verifier_offer(sc_auth_verifier *v, const sc_chunk *c, const uint8_t *piece,
                           uint64_t tag);

/* Whether generation (epoch, gen) is staged (chunks held, its manifest not
 * yet known); *present gets the indices held. A staged generation is
 * unknown to playout and to its repair (only verified chunks play), so the
 * channel asks for what it lacks (core/channel.c). */
bool sc_auth_verifier_staged(const sc_auth_verifier *v, uint32_t epoch, uint64_t gen,
                             uint32_t *present);

/* The piece of chunk (epoch, gen, index) of a verified generation, to send
 * with the chunk (a forward, a repair answer). Returns 0 or
 * SC_ERR_NOT_FOUND. */
int sc_auth_verifier_piece(const sc_auth_verifier *v, uint32_t epoch, uint64_t gen,
                           unsigned index, uint8_t *out);

typedef struct sc_auth_stats {
  uint64_t chunks_good;
  uint64_t chunks_forged; /* payload, piece, header or shape */
  uint64_t chunks_replayed;
  uint64_t chunks_stale;
  uint64_t chunks_dup;       /* a second copy of a staged index */
  uint64_t gens_verified;    /* manifests established */
  uint64_t gens_evicted;     /* staged generations given up for room */
  uint64_t sig_checks;       /* Ed25519 verifications */
  uint64_t sig_failures;     /* of which failed */
  uint64_t manifest_decodes; /* candidate manifests decoded */
} sc_auth_stats;

void sc_auth_verifier_get_stats(const sc_auth_verifier *v, sc_auth_stats *out);
size_t sc_auth_verifier_mem_bytes(const sc_auth_verifier *v);

#endif
