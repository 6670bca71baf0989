/*
 * stream.h — the streaming data plane: source and receiver, sans I/O.
 *
 * docs/ARCHITECTURE.md §3, "Stream": the source cuts the byte stream into generations of
 * d data chunks plus p parity chunks (d + p = number of stripes), one chunk
 * per stripe, coded with a systematic Reed–Solomon code (fec.h). A receiver
 * decodes a generation from any d of its chunks, keeps a playout buffer with
 * a deadline, delivers bytes in generation order, and counts continuity,
 * start-up delay and lag. It lists what it misses so the host can pull chunks
 * from other peers before the deadline ("repair beyond the trees"), and
 * serves the chunks it holds to peers that ask. docs/stream.md has the chunk
 * fields, the playout clock and the accounting definitions.
 *
 * Both sides take time as an argument and push output through callbacks
 * (docs/ARCHITECTURE.md §2); neither knows about messages or peers: the host (node or
 * simulator) carries sc_chunk in its own chunk message.
 *
 * Symbolic mode (config.symbolic): chunks carry no payload and a generation
 * counts as decodable once d distinct indices arrived. The simulator runs
 * 100,000 peers and cannot afford real bytes; everything else (deadlines,
 * accounting, repair lists) works the same.
 */
#ifndef SC_STREAM_H
#define SC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "fec.h"

#define SC_STREAM_WINDOW_MAX 4096 /* bound on config.window_gens */
/* A chunk at most this far past the newest generation seen is "in
 * sequence": when the window is full of waiting generations, it makes the
 * oldest play early (stats.gens_early) instead of being refused. */
#define SC_STREAM_AHEAD_SLACK 16
/* Bound on generation numbers (far beyond any stream: 2^48 generations of
 * 10 ms are 89,000 years), so that gen + window never wraps. */
#define SC_STREAM_GEN_MAX ((1ull << 48) - 1)

/* One chunk as it travels: the fields a chunk message carries. */
typedef struct sc_chunk {
  uint64_t gen;       /* generation number, counted from 0 by the source */
  uint64_t src_ts_ns; /* source clock when the generation was cut (or when
                       * its first byte was written: stamp_first_byte) */
  uint32_t gen_bytes; /* payload bytes in the whole generation, 1..d*chunk_bytes;
                       * the rest of the last data chunk(s) is zero padding */
  /* The source's epoch: a source that starts anew (a restarted process, a
   * second broadcaster) numbers its generations from 0 again under a later
   * epoch, which receivers follow at once. Epochs compare in serial-number
   * arithmetic (RFC 1982), so they may wrap. */
  uint32_t epoch;
  uint8_t index;       /* 0..d+p-1: the stripe it travels on; < d data, >= d parity */
  const uint8_t *data; /* chunk_bytes bytes; NULL in symbolic mode */
  size_t datalen;      /* chunk_bytes; 0 in symbolic mode */
} sc_chunk;

typedef struct sc_stream_config {
  uint32_t data_chunks;   /* d: 1..SC_FEC_CHUNKS_MAX; default 12 */
  uint32_t parity_chunks; /* p: d + p <= SC_FEC_CHUNKS_MAX; default 4 */
  uint32_t chunk_bytes;   /* payload per chunk; default 1,024 (fits a
                           * 1,200-byte path MTU with headers, docs/ARCHITECTURE.md §5) */
  /* Receiver: playout delay added to the first chunk's one-way delay to
   * give every generation's deadline (docs/stream.md); default 5 s. */
  uint64_t buffer_ns;
  /* Receiver: generations held in the ring (those awaiting playout plus
   * recent ones kept to serve repairs); 1..SC_STREAM_WINDOW_MAX. It should
   * cover more than buffer_ns of stream; if it does not, the window bounds the
   * buffer (stats.gens_early). Default 128. */
  uint32_t window_gens;
  bool symbolic; /* no payload bytes (see above); default false */
  /* Receiver: while nothing has played, a generation that decodes before
   * the ones in front of it starts playout (those are skipped, counted in
   * stats.gens_skipped, not lost): a listener that attached while a
   * generation was in flight hears the next one at once instead of waiting
   * for repair or a whole buffer (docs/stream.md). Default false, the
   * simulator's (its pinned results); the runtime turns it on. */
  bool start_skips_partial;
  /* Source: stamp a generation (sc_chunk.src_ts_ns) with the time its first
   * byte was written rather than the time it was cut, so that a receiver's
   * latency also counts the wait for the generation to fill (a live feed's
   * bytes enter the source as they arrive). Default false, the simulator's
   * (it writes whole generations, where the two are one); the runtime turns
   * it on for a station. */
  bool stamp_first_byte;
  /* Source: the epoch stamped on every chunk (sc_chunk.epoch); default 0.
   * The runtime uses its start time in tenths of a second. */
  uint32_t epoch;
} sc_stream_config;

void sc_stream_config_default(sc_stream_config *c);

/* ------------------------------------------------------------ source */

typedef struct sc_stream_source sc_stream_source;

/* One chunk out of the source. chunk->data points into the source and is
 * valid only during the call (the host copies it or takes a reference). */
typedef void (*sc_stream_emit_fn)(void *user, const sc_chunk *chunk, uint64_t now);

/*
 * Creates a source (window_gens and buffer_ns are not used). alloc NULL is
 * libc. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_stream_source_new(sc_stream_source **out, const sc_stream_config *cfg,
                         sc_stream_emit_fn emit, void *user, const sc_alloc *alloc);
void sc_stream_source_del(sc_stream_source *s);

/*
 * Appends datalen bytes of the stream. Each time d * chunk_bytes bytes are
 * pending a generation is cut, stamped with now and emitted, index 0 to
 * d+p-1. In symbolic mode data must be NULL (only datalen counts);
 * otherwise data must not be NULL. Returns 0 or SC_ERR_INVALID.
 */
int sc_stream_source_write(sc_stream_source *s, const uint8_t *data, size_t datalen,
                           uint64_t now);
/* Cuts the pending bytes (if any) into a padded generation and emits it:
 * the end of the stream, or a latency bound the host enforces. */
void sc_stream_source_flush(sc_stream_source *s, uint64_t now);
/* The number of the next generation to be cut (= generations emitted). */
uint64_t sc_stream_source_next_gen(const sc_stream_source *s);

/* ---------------------------------------------------------- receiver */

typedef struct sc_stream_receiver sc_stream_receiver;

typedef struct sc_stream_receiver_callbacks {
  /* Generation gen is decoded and every earlier one delivered or lost:
   * datalen (= its gen_bytes) bytes of the stream, in order. data is NULL in
   * symbolic mode and otherwise valid only during the call. Required. */
  void (*deliver)(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                  uint64_t src_ts_ns, uint64_t now);
  /* Generation gen reached its deadline without d chunks and is skipped.
   * Optional. */
  void (*lost)(void *user, uint64_t gen, uint64_t now);
  /* Playout restarted (sc_stream_receiver_restart, or a later epoch): the
   * generations that follow start a new stream, numbered afresh. Optional. */
  void (*restarted)(void *user, uint64_t now);
} sc_stream_receiver_callbacks;

/* Results of sc_stream_receiver_recv() that are not errors. */
enum {
  SC_STREAM_STORED = 0, /* a new chunk, kept */
  SC_STREAM_DUP = 1,    /* already held: counted, dropped */
  SC_STREAM_LATE = 2,   /* its deadline passed, or its generation left the
                         * window: counted, dropped */
  SC_STREAM_STALE = 3,  /* from an earlier epoch than the one playing: a
                         * source that was replaced; counted, dropped */
};

/*
 * Creates a receiver. The playout clock starts with the first chunk
 * (docs/stream.md). alloc NULL is libc; all memory (the ring of
 * window_gens generations, with payload room unless symbolic) is taken
 * here. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_stream_receiver_new(sc_stream_receiver **out, const sc_stream_config *cfg,
                           const sc_stream_receiver_callbacks *cb, void *user,
                           const sc_alloc *alloc);
void sc_stream_receiver_del(sc_stream_receiver *r);

/* Tells the receiver when the host joined the stream, so the stats also
 * give join -> first delivery. */
void sc_stream_receiver_set_join_time(sc_stream_receiver *r, uint64_t join_ns);

/*
 * Hands the receiver one chunk (any order; duplicates and losses expected).
 * The payload is copied. First runs any deadline that passed (as
 * sc_stream_receiver_handle_expiry), then stores the chunk, decodes its
 * generation once d chunks are held, and delivers every generation that is
 * now next in order. Callbacks run inside this call.
 *
 * Returns SC_STREAM_STORED, SC_STREAM_DUP or SC_STREAM_LATE; or, with the
 * chunk counted and nothing else changed: SC_ERR_INVALID (index >= d+p,
 * gen > SC_STREAM_GEN_MAX,
 * wrong datalen, gen_bytes 0 or > d*chunk_bytes, or src_ts/gen_bytes that
 * disagree with the generation's earlier chunks) or SC_ERR_TOO_LARGE (the
 * generation lies beyond the window; see sc_stream_receiver_restart()).
 */
int sc_stream_receiver_recv(sc_stream_receiver *r, const sc_chunk *c, uint64_t now);

/* The next deadline the receiver must act on, UINT64_MAX if none. */
uint64_t sc_stream_receiver_get_expiry(const sc_stream_receiver *r);
/* Acts on every deadline at or before now: generations without d chunks
 * are lost, decoded ones behind them delivered. */
void sc_stream_receiver_handle_expiry(sc_stream_receiver *r, uint64_t now);

/* Hints for a host that knows which receiver gets which chunk next (the
 * simulator's prefetch pipeline); no effect on behaviour.
 * sc_stream_receiver_prefetch starts loading the receiver's own lines that
 * every chunk reads; once they are in cache, sc_stream_receiver_prefetch_gen
 * loads the slots of generation `gen` and of the next one to play (its
 * expiry) and the counter of chunk index `index` (none if out of range). */
void sc_stream_receiver_prefetch(const sc_stream_receiver *r);
void sc_stream_receiver_prefetch_gen(const sc_stream_receiver *r, uint64_t gen,
                                     unsigned index);

/*
 * Resolves the waiting generations (decoded ones played, the others lost),
 * then forgets every generation and the playout clock; the next chunk
 * starts playout afresh (stats are kept). For a host that sees the stream
 * gone for longer than the window (chunks_ahead growing, nothing
 * delivered): a receiver never jumps far ahead on its own, because a forged
 * far-future generation must not wipe its buffer.
 */
void sc_stream_receiver_restart(sc_stream_receiver *r, uint64_t now);

/*
 * Generation gen of epoch exists though none of its chunks can be handed
 * over yet (a signed stream stages chunks until their manifest is known,
 * core/auth.h). Until playout resolves its first generation, one expected
 * before the first generation held becomes the first (within the window),
 * so playout waits for it and its repair instead of starting after it.
 * Ignored once something was played or lost. A false claim costs at most
 * the wait for the first generation's deadline and generations counted
 * lost (the stripe's parent then answers for them).
 */
void sc_stream_receiver_expect(sc_stream_receiver *r, uint64_t gen, uint32_t epoch);

/* What a generation still within its deadline misses. */
typedef struct sc_stream_want {
  uint64_t gen;
  /* The deadline; for a generation of which no chunk arrived, the deadline
   * of the next one that did (an upper bound). */
  uint64_t deadline_ns;
  uint32_t missing; /* bit i set: chunk index i is not held */
  uint32_t needed;  /* more chunks needed to decode (d - held) */
} sc_stream_want;

/*
 * Lists, most urgent first, the generations that are not yet decodable and
 * whose deadline is after now: from the next generation to play up to the
 * newest one seen (including generations of which nothing arrived). Writes
 * at most out_max entries and returns how many.
 */
size_t sc_stream_receiver_wants(const sc_stream_receiver *r, sc_stream_want *out,
                                size_t out_max, uint64_t now);

/*
 * Chunk (gen, index) if this receiver holds it (to answer a peer's repair
 * request): fills *out (out->data points into the receiver, valid until the
 * next call that takes now; NULL in symbolic mode) and returns 0, or
 * SC_ERR_NOT_FOUND. After a generation is decoded every data chunk is held,
 * and parity chunks that arrived.
 */
int sc_stream_receiver_chunk(const sc_stream_receiver *r, uint64_t gen, unsigned index,
                             sc_chunk *out);

typedef struct sc_stream_stats {
  /* Generations, each counted once when resolved (docs/stream.md). */
  uint64_t gens_delivered; /* decodable before their deadline, delivered in order */
  uint64_t gens_lost;      /* deadline passed without d chunks (no chunk at all
                            * included) */
  uint64_t gens_decoded;   /* delivered with at least one data chunk rebuilt */
  uint64_t bytes_delivered;
  /* Chunks. */
  uint64_t chunks_stored;
  uint64_t chunks_dup;
  uint64_t chunks_late;
  uint64_t chunks_invalid;
  uint64_t chunks_ahead;  /* beyond the window */
  uint64_t gens_early;    /* resolved before their deadline: the window was full */
  uint64_t gens_skipped;  /* partial generations before the first one played */
  uint64_t chunks_stale;  /* from an earlier epoch (SC_STREAM_STALE) */
  uint64_t epoch_changes; /* later epochs followed (each a restart) */
  /* Valid chunks (stored, dup, late or ahead) by index: which stripes flow. */
  uint64_t chunks_by_index[SC_FEC_CHUNKS_MAX];
  /* Playout. */
  bool started; /* a chunk started the playout clock */
  bool playing; /* a generation was delivered */
  bool joined;  /* the host gave a join time */
  uint64_t first_chunk_ns;
  uint64_t startup_ns;      /* first chunk -> first delivery */
  uint64_t join_startup_ns; /* join -> first delivery (when joined) */
  /* Lag: delivery time - src_ts over delivered generations (needs the
   * simulator's shared clock or synchronised clocks; negative counts 0). */
  uint64_t lag_sum_ns;
  uint64_t lag_max_ns;
} sc_stream_stats;

void sc_stream_receiver_get_stats(const sc_stream_receiver *r, sc_stream_stats *out);
/* A generation was delivered (stats.playing). */
bool sc_stream_receiver_playing(const sc_stream_receiver *r);
/* The next generation playout delivers or loses (0 before the first chunk). */
uint64_t sc_stream_receiver_next_gen(const sc_stream_receiver *r);
size_t sc_stream_receiver_mem_bytes(const sc_stream_receiver *r);

#endif
