/*
 * station.h — a station's stream as records inside the generations of
 * core/stream, sans I/O.
 *
 * A station is more than bytes: its listeners need the codec headers before
 * any media (an Ogg stream without its header pages cannot be decoded), a
 * decoder must start at a sync point, and a generation lost beyond repair
 * must cost whole pages or frames, not a corrupt stream. So the source
 * writes records (one media unit, the codec headers, the title, the station's
 * description, the end of the broadcast), and every generation begins with
 * the offset of the first record that starts in it — MPEG-TS's pointer_field
 * idea (ISO/IEC 13818-1 §2.4.4.2) — so that a receiver that lost the
 * generation before resynchronises at the next record boundary.
 *
 *   generation = offset (u32, big-endian; SC_STATION_NO_RECORD if no record
 *                starts here) | record bytes ...
 *   record     = type (u8) | length (LEB128, at most 4 bytes) | payload
 *
 * The writer knows where generations end because it is the only writer of
 * the source (core/stream cuts every d * chunk_bytes bytes, and a flush cuts
 * early). The reader is handed generations in order and told of losses; it
 * emits only whole records and keeps the station's state (headers, title,
 * description) for late listeners.
 */
#ifndef SC_STATION_H
#define SC_STATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "id.h"

/* Bytes at the start of every generation. */
#define SC_STATION_PREFIX_BYTES 4
#define SC_STATION_NO_RECORD    0xffffffffu
/* The largest record (a Matroska block of a high-rate video; an Ogg page is
 * 65,307 bytes at most). Larger records are refused by the writer and, when
 * a forged length claims more, dropped by the reader. */
#define SC_STATION_RECORD_MAX ((size_t)1 << 24)
#define SC_STATION_TITLE_MAX  1024 /* bytes of UTF-8 */
#define SC_STATION_INFO_MAX   4096 /* bytes of "key=value\n" lines */
/* The codec headers kept for late listeners (as media.h's bound). */
#define SC_STATION_HEADERS_MAX ((size_t)1 << 20)

typedef enum {
  SC_STATION_MEDIA = 1,      /* one media unit, as the container framer cut it */
  SC_STATION_MEDIA_SYNC = 2, /* one media unit at which a decoder can start */
  SC_STATION_HEADERS = 3,    /* the whole current codec header set (replaces) */
  SC_STATION_TITLE = 4,      /* now playing, UTF-8 */
  SC_STATION_INFO = 5,       /* "key=value\n" lines: content-type, name, ... */
  SC_STATION_END = 6,        /* the broadcast ended: listeners may close */
  /* The station-wide listener count and its peak, as the publisher's tally
   * found them (core/tally.h): SC_STATION_LISTENERS_BYTES, two u32
   * big-endian. A reader older than this type drops the rest of the
   * generation that carries one: publisher and listeners share a version. */
  SC_STATION_LISTENERS = 7,
  /* The station's own web page: a bundle of small files (below, "The
   * station's page"), kept whole and replaced by the next one. Written at
   * the start of a session, then rarely (its size matters), and part of
   * the state a late listener fetches. A reader older than this type drops
   * it (and the rest of its generation: the source cuts the generation
   * after a page that ends inside one) and refuses a fetched state that
   * holds one, then waits for the stream's repeat of INFO and HEADERS. */
  SC_STATION_PAGE = 8,
  /* The station key's signature of its state as it stands after the INFO,
   * HEADERS and TITLE records just before it (sc_station_state_sign): a
   * listener that fetches the state from a peer (core/state.h) checks it,
   * so a relay can no more forge the state than the stream. */
  SC_STATION_STATE_SIG = 9,
} sc_station_record_type;

#define SC_STATION_SIG_BYTES 64 /* Ed25519 (RFC 8032) */
/* A STATE_SIG record on the wire: type, one length byte, the signature. */
#define SC_STATION_SIG_RECORD_BYTES (2 + SC_STATION_SIG_BYTES)

#define SC_STATION_LISTENERS_BYTES 8

/* ------------------------------------------------------------ the page */

/*
 * The station's page: index.html and a few files beside it, served by every
 * listening peer at /page/ (docs/broadcast.md, "The station's page"). Its
 * bytes travel inside the signed generations, so they are the station's as
 * much as its media are. The payload of a PAGE record:
 *
 *   bundle = version (u8, SC_STATION_PAGE_VERSION) | count (u8) | file ...
 *   file   = name length (u8) | name | type (u8, sc_station_page_type)
 *            | data length (u32, big-endian) | data
 *
 * A name is 1..SC_STATION_PAGE_NAME_MAX bytes of [A-Za-z0-9._-] not starting
 * with '.', no two alike, one of them "index.html"; its type is a code from
 * a fixed table (never a string from the network, so a Content-Type header
 * cannot be forged through it). The whole bundle is at most
 * SC_STATION_PAGE_MAX bytes: with INFO (4 KiB), TITLE (1 KiB) and a few KiB
 * of codec headers it fits the 64 KiB a late listener fetches
 * (SC_STATE_BYTES_MAX, core/msg.h); repeated once a minute
 * (RT_STATION_PAGE_EVERY_NS), the largest costs a station 6.6 kbit/s, 5 %
 * of a 128 kbit/s stream.
 */
#define SC_STATION_PAGE_VERSION   1
#define SC_STATION_PAGE_MAX       ((size_t)48 << 10)
#define SC_STATION_PAGE_FILES_MAX 16
#define SC_STATION_PAGE_NAME_MAX  64
#define SC_STATION_PAGE_INDEX     "index.html"

typedef enum {
  SC_STATION_PAGE_HTML = 1,
  SC_STATION_PAGE_CSS,
  SC_STATION_PAGE_PNG,
  SC_STATION_PAGE_JPEG,
  SC_STATION_PAGE_GIF,
  SC_STATION_PAGE_SVG,
  SC_STATION_PAGE_WEBP,
  SC_STATION_PAGE_ICO,
  SC_STATION_PAGE_TEXT,
} sc_station_page_type;

/* One file of a page. data points into the bundle when decoded. */
typedef struct sc_station_page_file {
  char name[SC_STATION_PAGE_NAME_MAX + 1];
  sc_station_page_type type;
  const uint8_t *data;
  size_t len;
} sc_station_page_file;

/* Whether name[0, len) may name a page's file. */
bool sc_station_page_name_ok(const char *name, size_t len);
/* The type of a file named name, from its extension (.html .htm .css .png
 * .jpg .jpeg .gif .svg .webp .ico .txt, any case); 0 for another. */
sc_station_page_type sc_station_page_type_of(const char *name);
/* The Content-Type a type is served with; NULL for an unknown code. */
const char *sc_station_page_mime(sc_station_page_type type);

/* Writes the bundle of files[0, n) into buf[0, cap). Returns its length,
 * SC_ERR_INVALID (no file, more than SC_STATION_PAGE_FILES_MAX, a bad or
 * repeated name, an unknown type, no index.html) or SC_ERR_TOO_LARGE (over
 * SC_STATION_PAGE_MAX or cap). */
int sc_station_page_encode(const sc_station_page_file *files, size_t n, uint8_t *buf,
                           size_t cap);
/* Checks a bundle from the network: every rule above, no byte left over.
 * Returns 0 (with the file count in *nfiles when not NULL) or
 * SC_ERR_INVALID. */
int sc_station_page_check(const uint8_t *p, size_t n, size_t *nfiles);
/* The file named name (NUL-terminated) of a checked bundle. Returns 0 or
 * SC_ERR_NOT_FOUND (also for a bundle that does not check). */
int sc_station_page_find(const uint8_t *p, size_t n, const char *name,
                         sc_station_page_file *out);

/* The payload of a LISTENERS record. */
void sc_station_listeners_encode(uint32_t listeners, uint32_t peak,
                                 uint8_t out[SC_STATION_LISTENERS_BYTES]);

/* The largest station name (an Icecast mount such as "/live.opus"). */
#define SC_STATION_NAME_MAX 255

/* A station's id, from which its stripe groups derive: the hash of its name
 * with a leading '/' added when missing ("live.opus" and "/live.opus" are one
 * station). Returns SC_ERR_INVALID for an empty name, one over
 * SC_STATION_NAME_MAX bytes, or one with bytes below 0x21 (spaces, control
 * characters), as Icecast's mount names have none. */
int sc_station_id(const char *name, sc_id *out);

/* A signed station's id: the hash of its Ed25519 public key (core/auth.h),
 * so only the holder of the secret key can broadcast "the same" station;
 * the name is then a label (the mount encoders use, INFO's station=). */
#define SC_STATION_KEY_BYTES     32
#define SC_STATION_KEY_HEX_BYTES 64
void sc_station_key_id(const uint8_t pk[SC_STATION_KEY_BYTES], sc_id *out);

/* A station as a listener names it (docs/broadcast.md, "Signed stations"):
 *   KEYHEX        the public key, 64 hex digits: a signed station
 *   NAME@KEYHEX   the same, with its name (a label, checked as a name)
 *   NAME          an unsigned station (its id is the name's hash)
 */
typedef struct sc_station_spec {
  bool is_signed;
  uint8_t pk[SC_STATION_KEY_BYTES];   /* when is_signed */
  char name[SC_STATION_NAME_MAX + 1]; /* empty for KEYHEX alone */
  sc_id id;
} sc_station_spec;

/* Parses spec. Returns 0 or SC_ERR_INVALID (a bad name, a key that is not
 * 64 hex digits). Whether the key is a valid Ed25519 point is checked where
 * it is used (sc_auth_verifier_new). */
int sc_station_spec_parse(const char *spec, sc_station_spec *out);

/* ------------------------------------------------------------ writer */

/* Where the writer's bytes go: the station source's sc_stream_source (write
 * and flush), which cuts a generation every gen_bytes bytes. */
typedef struct sc_station_sink {
  int (*write)(void *user, const uint8_t *data, size_t datalen);
  int (*flush)(void *user); /* cut the partial generation now */
  void *user;
} sc_station_sink;

typedef struct sc_station_writer {
  sc_station_sink sink;
  size_t gen_bytes; /* d * chunk_bytes */
  size_t fill;      /* bytes written into the current generation */
  uint64_t records; /* records written */
  uint64_t bytes;   /* record bytes written (headers and payloads) */
} sc_station_writer;

/* gen_bytes must exceed SC_STATION_PREFIX_BYTES + the longest record
 * header (5 bytes). Returns 0 or SC_ERR_INVALID. */
int sc_station_writer_init(sc_station_writer *w, size_t gen_bytes,
                           const sc_station_sink *sink);

/* Writes one record. Returns 0, SC_ERR_INVALID (unknown type),
 * SC_ERR_TOO_LARGE (over SC_STATION_RECORD_MAX) or the sink's error. */
int sc_station_writer_put(sc_station_writer *w, sc_station_record_type type,
                          const uint8_t *data, size_t datalen);

/* Cuts the partial generation (the latency bound of a slow stream): the
 * next record starts a new generation. Nothing to cut is not an error. */
int sc_station_writer_flush(sc_station_writer *w);

/* ------------------------------------------------------------ reader */

typedef struct sc_station_reader sc_station_reader;

/* One whole record; data valid only during the call. */
typedef void (*sc_station_record_fn)(void *user, sc_station_record_type type,
                                     const uint8_t *data, size_t datalen);

typedef struct sc_station_reader_stats {
  uint64_t gens;            /* generations read */
  uint64_t gens_lost;       /* generations reported lost or skipped over */
  uint64_t records;         /* whole records emitted */
  uint64_t records_cut;     /* records cut by a loss: their bytes are dropped */
  uint64_t bytes_dropped;   /* bytes of cut records and of generations read
                             * while resynchronising */
  uint64_t media_bytes;     /* payload bytes of MEDIA and MEDIA_SYNC records */
  uint64_t records_invalid; /* unknown type or a length over the bound */
} sc_station_reader_stats;

/* Creates a reader; alloc NULL is libc. Returns 0 or SC_ERR_NOMEM. */
int sc_station_reader_new(sc_station_reader **out, sc_station_record_fn fn, void *user,
                          const sc_alloc *alloc);
void sc_station_reader_del(sc_station_reader *r);

/* A delivered generation (core/stream delivers in order). A generation
 * number that skips ahead counts the ones between as lost. Returns 0 or
 * SC_ERR_NOMEM (the record being assembled is dropped). */
int sc_station_reader_gen(sc_station_reader *r, uint64_t gen, const uint8_t *data,
                          size_t datalen);
/* Generation gen was lost: the record it cut is dropped and reading
 * resumes at the next record boundary. */
void sc_station_reader_lost(sc_station_reader *r, uint64_t gen);
/* The stream restarted (a new source epoch): forget position and any
 * partial record; state (headers, title, info) is kept until replaced. */
void sc_station_reader_restart(sc_station_reader *r);
/* ... and the page is dropped too: a new epoch is a new broadcaster
 * process, which sends its own page (or has none). */

/* The station's state handed over whole (core/state.h's answer to a
 * listener that attached mid-stream): INFO, HEADERS, TITLE and PAGE records
 * back to back, as sc_station_state_encode and sc_station_state_add_page
 * write them. Each is kept and emitted as if read from the stream; the
 * position in the stream is untouched. Returns 0, or SC_ERR_INVALID (a cut
 * record, another type, a length over its bound, a page that does not
 * check: nothing is kept or emitted). */
int sc_station_reader_state(sc_station_reader *r, const uint8_t *data, size_t datalen);

/* Only the PAGE of such a state, for a listener whose stream brought INFO
 * first but no page yet (INFO's page= says the station has one). Returns 0,
 * SC_ERR_NOT_FOUND (the state holds no page) or SC_ERR_INVALID (as
 * sc_station_reader_state: nothing is kept). */
int sc_station_reader_state_page(sc_station_reader *r, const uint8_t *data,
                                 size_t datalen);

/* The station's state as last received (empty when none). Valid until the
 * next call on r. */
void sc_station_reader_headers(const sc_station_reader *r, const uint8_t **data,
                               size_t *datalen);
const char *sc_station_reader_title(const sc_station_reader *r);
const char *sc_station_reader_info(const sc_station_reader *r);
/* The station's page as last received (a checked bundle), or NULL and 0
 * when none. */
void sc_station_reader_page(const sc_station_reader *r, const uint8_t **data,
                            size_t *datalen);
/* The last LISTENERS record's count and peak; false when none arrived. */
bool sc_station_reader_listeners(const sc_station_reader *r, uint32_t *listeners,
                                 uint32_t *peak);
/* True once an END record arrived (and no media since). */
bool sc_station_reader_ended(const sc_station_reader *r);
void sc_station_reader_get_stats(const sc_station_reader *r,
                                 sc_station_reader_stats *out);

/* The station's state as records for sc_station_reader_state: INFO (none
 * when info is empty: then nothing is written, a state without INFO says
 * nothing), HEADERS when hlen > 0, TITLE when title is not empty. Returns
 * the bytes written into buf[0, cap), 0 when info is empty, or
 * SC_ERR_TOO_LARGE. */
int sc_station_state_encode(uint8_t *buf, size_t cap, const char *info,
                            const uint8_t *headers, size_t hlen, const char *title);
/* Appends the page (a bundle, plen > 0) as a PAGE record to a state of len
 * bytes in buf[0, cap) when it fits, so that a late listener has it at
 * once; else the state is left as it is (the page is optional there: the
 * stream repeats it). Returns the state's new length. A state with no INFO
 * (len 0) stays empty. */
size_t sc_station_state_add_page(uint8_t *buf, size_t cap, size_t len,
                                 const uint8_t *page, size_t plen);

/* A signed station's state before its STATE_SIG record, into buf[0, cap):
 * sc_station_state_encode's records, then the page when it fits with
 * SC_STATION_SIG_RECORD_BYTES of cap to spare. The broadcaster signs these
 * bytes and a relay rebuilds them from the stream, both with the same cap
 * (SC_STATE_BYTES_MAX, core/msg.h), so this one rule gives both the same
 * bytes and the station's signature holds for either. Returns the bytes
 * written (what sc_station_state_sign covers), 0 when info is empty, or
 * SC_ERR_TOO_LARGE (as sc_station_state_encode). Records that fit cap but
 * leave less than SC_STATION_SIG_RECORD_BYTES free are still written and
 * counted (the broadcaster signs them for the stream all the same);
 * sc_station_state_append_sig then refuses them. */
int sc_station_state_encode_signable(uint8_t *buf, size_t cap, const char *info,
                                     const uint8_t *headers, size_t hlen,
                                     const char *title, const uint8_t *page, size_t plen);
/* Appends the STATE_SIG record of sig to the state in buf[0, len). Returns
 * the state's new length, or 0 when the record does not fit in cap (buf is
 * left as it is: a state that cannot carry its signature is not served). */
size_t sc_station_state_append_sig(uint8_t *buf, size_t cap, size_t len,
                                   const uint8_t sig[SC_STATION_SIG_BYTES]);

/*
 * The state's signature: Ed25519 with the station's secret key (libsodium's
 * 64 bytes) over "stripecast state 1" | channel (16 bytes, big-endian) |
 * BLAKE2b-256 of state[0, len), state as sc_station_state_encode writes it.
 * The host calls sodium_init() first.
 */
void sc_station_state_sign(const uint8_t sk[64], const sc_id *channel,
                           const uint8_t *state, size_t len,
                           uint8_t sig[SC_STATION_SIG_BYTES]);
bool sc_station_state_verify(const uint8_t pk[32], const sc_id *channel,
                             const uint8_t *state, size_t len,
                             const uint8_t sig[SC_STATION_SIG_BYTES]);
/* Writes the STATE_SIG record of sig to out[0, SC_STATION_SIG_RECORD_BYTES). */
void sc_station_sig_record(const uint8_t sig[SC_STATION_SIG_BYTES],
                           uint8_t out[SC_STATION_SIG_RECORD_BYTES]);
/* A fetched state's last record, when it is a STATE_SIG: *state_len gets
 * the bytes before it and sig points at the signature. Returns false when
 * the state does not end with one. */
bool sc_station_state_split(const uint8_t *data, size_t len, size_t *state_len,
                            const uint8_t **sig);

/* The value of key in "key=value\n" lines (info), copied NUL-terminated into
 * out (at most outlen - 1 bytes). Returns false when absent. */
bool sc_station_info_get(const char *info, const char *key, char *out, size_t outlen);

#endif
