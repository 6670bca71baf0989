/*
 * media.h — container framers: find unit boundaries, codec headers and sync
 * points in a station's byte stream without changing a byte of it.
 *
 * Pure code, like the core: no clock, no sockets, no stdio. The broadcasting
 * peer feeds what the encoder sent; the framer hands back the same bytes cut
 * into units (an Ogg page, an MP3 or ADTS frame, a Matroska element or block, a
 * 188-byte transport packet), each marked as a codec header, a sync point (a
 * decoder holding the headers can start here) or garbage (bytes outside any
 * recognised unit, relayed unchanged and counted). It also keeps the current
 * codec headers, which a late listener must receive before its first sync unit
 * (Ogg's header pages, including those of a new link in a chained stream; the
 * WebM initialisation segment; the last PAT and PMT of a transport stream).
 *
 * Invariant: the concatenation of every unit emitted equals the input, byte for
 * byte, in order. Malformed input is never an error: it becomes garbage units
 * and the framer resynchronises.
 */
#ifndef SC_MEDIA_H
#define SC_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

typedef enum {
  SC_MEDIA_UNKNOWN = 0, /* opaque bytes: one garbage-free unit per feed, no headers */
  SC_MEDIA_OGG,         /* Ogg: Opus, Vorbis, FLAC, Theora (RFC 3533, RFC 7845) */
  SC_MEDIA_MP3,         /* MPEG-1/2/2.5 audio layer III (and I/II) frames */
  SC_MEDIA_AAC,         /* AAC in ADTS frames */
  SC_MEDIA_WEBM,        /* WebM / Matroska */
  SC_MEDIA_MPEGTS,      /* MPEG-2 transport stream */
} sc_media_kind;

/* Unit flags. */
enum {
  /* A codec header: kept as station state, sent to late listeners first. */
  SC_MEDIA_UNIT_HEADER = 1u << 0,
  /* The first header unit of a new header set (a new link of a chained Ogg
   * stream, a new PAT): the headers kept so far are replaced, not extended. */
  SC_MEDIA_UNIT_NEW_HEADERS = 1u << 1,
  /* A decoder that holds the current headers can start at this unit. */
  SC_MEDIA_UNIT_SYNC = 1u << 2,
  /* Bytes outside any recognised unit (or a unit that failed its checksum). */
  SC_MEDIA_UNIT_GARBAGE = 1u << 3,
};

typedef struct {
  const uint8_t *data; /* valid only during the callback */
  size_t datalen;
  uint32_t flags; /* SC_MEDIA_UNIT_* */
  int64_t end_us; /* media time at the unit's end from the container's own
                   * timestamps, microseconds from the stream's start; -1
                   * where the container says nothing */
} sc_media_unit;

typedef void (*sc_media_unit_cb)(void *user, const sc_media_unit *unit);

typedef struct {
  uint64_t bytes;         /* bytes fed */
  uint64_t units;         /* units emitted, garbage included */
  uint64_t sync_units;    /* units flagged SYNC */
  uint64_t header_units;  /* units flagged HEADER */
  uint64_t garbage_bytes; /* bytes in units flagged GARBAGE */
  uint64_t header_sets;   /* header sets begun (chained links, new PATs) */
} sc_media_stats;

/* The largest header set a framer keeps (a Vorbis comment with cover art can
 * be large); a longer set is dropped whole (its units still pass), and late
 * listeners start without headers until the next set. */
#define SC_MEDIA_HEADERS_MAX ((size_t)1 << 20)

typedef struct sc_media_framer sc_media_framer;

/* The kind named by an HTTP Content-Type (parameters ignored, case-insensitive):
 * application/ogg, audio/ogg, video/ogg, audio/opus, audio/flac -> OGG
 * (Icecast's and the encoders' usage), audio/mpeg -> MP3, audio/aac,
 * audio/aacp -> AAC, audio/webm, video/webm, video/x-matroska,
 * audio/x-matroska -> WEBM, video/mp2t -> MPEGTS; anything else UNKNOWN. */
sc_media_kind sc_media_kind_from_content_type(const char *content_type);
/* A short name ("ogg", "mp3", "aac", "webm", "mpegts", "unknown"). */
const char *sc_media_kind_name(sc_media_kind kind);
/* The kind that the first bytes of a stream announce ("OggS", an ID3 tag or an
 * MPEG audio sync word, an ADTS sync word, the EBML magic, 0x47 every 188
 * bytes); UNKNOWN when unsure. */
sc_media_kind sc_media_probe(const uint8_t *data, size_t datalen);

/* Create a framer for kind. Returns SC_OK, SC_ERR_INVALID or SC_ERR_NOMEM. */
int sc_media_framer_new(sc_media_framer **out, sc_media_kind kind, const sc_alloc *alloc);
void sc_media_framer_del(sc_media_framer *f);

/* Feed datalen bytes; every unit completed by them goes to cb, in stream
 * order. Bytes of an incomplete unit stay buffered (at most the format's
 * largest unit; beyond it they are emitted as garbage). Returns SC_OK or
 * SC_ERR_NOMEM (fatal for the framer). */
int sc_media_framer_feed(sc_media_framer *f, const uint8_t *data, size_t datalen,
                         sc_media_unit_cb cb, void *user);
/* The source has ended: emit what is still buffered (as garbage if it is not a
 * whole unit). The framer can be fed again after it (a new source). */
void sc_media_framer_flush(sc_media_framer *f, sc_media_unit_cb cb, void *user);

/* The current codec headers (empty for MP3, AAC and UNKNOWN). Valid until the
 * next call on f. */
void sc_media_framer_headers(const sc_media_framer *f, const uint8_t **data,
                             size_t *datalen);
sc_media_kind sc_media_framer_kind(const sc_media_framer *f);
const sc_media_stats *sc_media_framer_stats(const sc_media_framer *f);

/* The longest "now playing" line sc_media_now_playing writes, NUL included. */
#define SC_MEDIA_NOW_PLAYING_MAX 1024

/* The "now playing" line of a station, "ARTIST - TITLE", from the Vorbis
 * comment (OpusTags, the Vorbis or Theora comment header, FLAC's VORBIS_COMMENT
 * block, Speex's comment packet) of the first audio stream of an Ogg header
 * set as sc_media_framer_headers returns it; only the title or only the artist
 * when just one is there. Writes at most min(outcap, SC_MEDIA_NOW_PLAYING_MAX)
 * - 1 bytes and a NUL to out: control characters become spaces (the line ends
 * up in HTTP headers and ICY metadata) and a cut never splits a UTF-8
 * character. Pure: reads nothing but headers. Returns the length written,
 * SC_ERR_NOT_FOUND when the headers carry neither field (any other format's
 * headers included), SC_ERR_INVALID when out is NULL or outcap is 0. */
int sc_media_now_playing(const uint8_t *headers, size_t headerslen, char *out,
                         size_t outcap);

#endif
