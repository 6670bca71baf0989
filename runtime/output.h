/*
 * output.h — what a receiving peer writes (--output): a bounded queue in
 * front of a file or pipe that never blocks the peer, and, for a station,
 * a sc_station_reader that turns delivered generations into what a player
 * can decode.
 *
 * A station's output is the codec headers (when INFO's container= says the
 * container has them), then whole media records from the first MEDIA_SYNC
 * one. After anything is missed (a lost generation, a record cut by a
 * loss, a record the queue could not take) it resumes at the next
 * MEDIA_SYNC record. A new session or epoch of the source continues the
 * output at once with the new codec headers (a chained Ogg stream). END
 * closes it (EOF).
 *
 * Everything a listener should have had and did not is counted
 * (rt_output_stats): the honest continuity of what was written.
 */
#ifndef SC_RUNTIME_OUTPUT_H
#define SC_RUNTIME_OUTPUT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/station.h"

/* Bytes queued for an output that cannot take them yet (a paused player, a
 * full pipe): 64 s of a 128 kbit/s station, 2.8 s of 3 Mbit/s. Beyond it
 * whole records are dropped and counted. */
#define RT_OUTPUT_QUEUE_BYTES ((size_t)1 << 20)
/* Write latency histogram: 1 ms bins up to this, then one bin for "this or
 * more" (as the peer's, RT_LAT_BINS_MS). */
#define RT_OUTPUT_LAT_BINS_MS 4096
/* Bound on the codec headers an output remembers having written. */
#define RT_OUTPUT_HEADERS_MAX SC_STATION_HEADERS_MAX

typedef struct rt_output_stats {
  uint64_t bytes_written;   /* taken by the file or pipe */
  uint64_t records_written; /* records queued whole (headers included) */
  uint64_t headers_written; /* codec header sets written */
  uint64_t records_dropped; /* whole records not written: the queue was full,
                             * the output failed, or skipped to the next sync
                             * point after a gap */
  uint64_t bytes_dropped;
  uint64_t queue_max; /* most bytes ever queued */
  uint64_t gens;      /* generations delivered to the reader */
  uint64_t gen_bytes; /* their bytes */
  uint64_t gens_lost; /* lost or skipped over, as the reader saw them */
  /* Generations before the first one received, in an epoch whose start the
   * listener was present for (it had subscribed before the source began). */
  uint64_t gens_missed_at_start;
  uint64_t records_cut; /* records cut by a loss */
  uint64_t bytes_cut;   /* their bytes that arrived, and bytes read while
                         * resynchronising after a loss */
  uint64_t epochs;      /* source epochs followed after the first */
  uint64_t sessions;    /* source sessions seen (INFO session= changes) */
  /* The station's state asked of a peer on attaching (core/state.h). */
  uint64_t state_fetched; /* answers taken: the listener started from them */
  uint64_t state_ignored; /* answers that came after the stream's INFO */
  uint64_t page_fetched;  /* the station's page taken from an answer */
  /* Playing began before the stream itself brought INFO: the state came
   * from a peer, not from the source's next repeat. */
  bool started_on_fetched_state;
} rt_output_stats;

typedef struct rt_output {
  struct ev_loop *loop;
  int fd;       /* -1: none (a relaying peer: records are only counted) */
  bool owns_fd; /* close it at the end (not stdout) */
  bool failed;
  bool closed; /* END, or failed */
  ev_io wio;
  uint8_t *q; /* the queue: a ring of RT_OUTPUT_QUEUE_BYTES */
  size_t qhead, qlen;
  bool station; /* records through the reader; else raw bytes */
  sc_station_reader *reader;
  /* Station playout state. */
  bool playing;      /* media flows in this session */
  bool gap;          /* something was missed: resume at the next sync */
  bool info_seen;    /* INFO of the current epoch */
  bool need_headers; /* its container has codec headers */
  bool headers_seen; /* HEADERS of the current session */
  bool new_link;     /* the next headers begin a new link: write them */
  bool state_asked;  /* the state was asked of a peer in this epoch */
  bool page_asked;   /* ... for the page alone: INFO came and says page=, the
                      * page did not (the stream repeats it once a minute) */
  bool in_state;     /* records come from a fetched state, not the stream */
  bool stream_info;  /* the stream brought INFO in this epoch */
  char session[24];  /* INFO session= of the one playing */
  uint8_t *written;  /* the headers last written */
  size_t writtenlen;
  /* Accounting of the current epoch. */
  uint64_t present_rt_ds; /* realtime (tenths of a second) the peer subscribed;
                           * 0: not yet */
  bool epoch_first_seen;  /* a generation of this epoch arrived */
  uint64_t epoch_first_gen;
  bool epoch_resolved; /* INFO told the epoch: present-at-start decided */
  bool epoch_record;   /* the reader emitted a record of the stream (not of a fetched
                        * state) in this epoch */
  uint64_t pre_bytes;  /* media skipped before playing in this epoch */
  uint64_t pre_records;
  /* Media that came before the station's state (a late listener's
   * backfilled generations deliver at once, the state a round trip later):
   * held from a sync point on, at most RT_OUTPUT_HOLD_BYTES, and written
   * behind the headers once they are known. */
  uint8_t *held;
  size_t heldlen;
  uint64_t held_records;
  uint64_t held_src_ts_ns; /* the stamp of the generation of its first byte */
  uint64_t cur_src_ts_ns;  /* the stamp of the generation being read */
  /* A signed station: the state is given to peers only with the station's
   * signature of it (SC_STATION_STATE_SIG), the last one the stream or a
   * checked fetch brought, while no INFO, HEADERS or TITLE came since. */
  bool signed_state;
  bool state_sig_ok;
  uint8_t state_sig[SC_STATION_SIG_BYTES];
  bool ended;                 /* END arrived: the output is closed */
  sc_station_reader_stats rs; /* the reader's, as last seen */
  rt_output_stats st;
  /* Encoder to listener: for each delivered generation that wrote bytes,
   * the time of the write minus the generation's stamp (a station's: when
   * its first byte reached the broadcaster, so its oldest byte), in ms. An
   * output that cannot take the bytes at once (a full pipe) holds them in
   * the queue after this (queue_max says how much). */
  uint32_t lat_ms[RT_OUTPUT_LAT_BINS_MS + 1];
  bool wrote_any;
  uint64_t first_write_ns; /* press play to first byte: the first write */
} rt_output;

/* Media held before the station's state is known (see rt_output.held). */
#define RT_OUTPUT_HOLD_BYTES ((size_t)256 * 1024)

/* Opens path ("-": stdout; NULL: none) for a peer. station: read records,
 * else write the delivered bytes as they are. Returns 0, or -errno with
 * nothing left open. */
int rt_output_open(rt_output *o, struct ev_loop *loop, const char *path, bool station);
/* Writes what is queued (blocking until the reader takes it or fails), then
 * closes the file or pipe (stdout included: a player sees EOF). The counters
 * stay. Idempotent. */
void rt_output_close(rt_output *o);
/* rt_output_close, and frees the reader. */
void rt_output_free(rt_output *o);

/* The peer subscribed to the stream (realtime, in tenths of a second). */
void rt_output_present(rt_output *o, uint64_t realtime_ds);
/* The stream's callbacks (core/node.h). new_epoch: the restart is a later
 * source epoch (else a gap beyond the window, numbered on). src_ts_ns: the
 * generation's stamp; now: the time of delivery (and of the write). */
void rt_output_deliver(rt_output *o, uint64_t gen, const uint8_t *data, size_t datalen,
                       uint64_t src_ts_ns, uint64_t now);
void rt_output_lost(rt_output *o, uint64_t gen);
void rt_output_restarted(rt_output *o, bool new_epoch);

/* A listener that has generations but no INFO yet should ask a peer for the
 * station's state (once per epoch); the caller marks it asked. So should one
 * that plays but lacks the page INFO announces (page=): it went by before
 * the listener came (once per epoch, page_asked). */
bool rt_output_wants_state(const rt_output *o);
/* The station's state as records (sc_station_state_encode) for a peer that
 * asks; 0 when none is held. */
size_t rt_output_state(const rt_output *o, uint8_t *buf, size_t cap);
/* A peer's answer: taken as if the stream had brought it, unless the
 * stream's own INFO came first (then only its page, if this one has none);
 * media held for it are written now. sig: the station's signature of data,
 * checked by the caller (NULL: unsigned). */
void rt_output_state_got(rt_output *o, const uint8_t *data, size_t len,
                         const uint8_t *sig, uint64_t now);

/* Continuity of what was written: bytes written over those plus every byte
 * missed (dropped, cut, and lost or missed generations at the mean size of
 * those received). 1 when nothing was expected. */
double rt_output_continuity(const rt_output *o);
/* The estimated bytes of lost and missed generations. */
uint64_t rt_output_missed_bytes_est(const rt_output *o);

#endif
