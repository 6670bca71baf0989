/*
 * station_source.h — the broadcasting side of a station on its peer: bytes
 * from whatever feeds it (a file or stdin, an Icecast/SHOUTcast source
 * connection, a relayed stream, the built-in encoder) go through the
 * container framer (media/) into station records (core/station.h), which the
 * peer's stream source cuts into generations.
 *
 * Sources come and go; the station stays. Each connected source is a
 * "session" (begin ... end): a new session re-probes the container and its
 * codec headers replace the old ones, while the generation numbering, the
 * epoch and the listeners carry on. Only the end of the broadcast (the peer
 * leaving, or --source's end of input) writes the END record that lets
 * listeners close.
 *
 * Pacing is not done here: a live feed is paced by its arrival, a file by its
 * container's timestamps (rt_station_source_media_us says how far the fed
 * media reaches) or by --rate-kbps where the container has none.
 */
#ifndef SC_RUNTIME_STATION_SOURCE_H
#define SC_RUNTIME_STATION_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/node.h"
#include "core/station.h"
#include "media/media.h"

/* How often the station's state (INFO, HEADERS, TITLE) is written again for
 * listeners that joined since, by default. A listener that attaches asks a
 * peer for the state at once (core/state.h), so a repeat serves only those
 * whose fetch failed: every 15 s costs every peer's upload 0.2 % of a
 * 128 kbit/s stream, where every 5 s cost 0.6 % (bench/RESULTS.md, "On the
 * air"). */
#define RT_STATION_STATE_EVERY_NS (15ull * 1000000000ull)

/* How often the station's page (a PAGE record, up to SC_STATION_PAGE_MAX
 * bytes) is written again: with every state repeat it would cost a station
 * up to 79 kbit/s (48 KiB every 5 s); once a minute the largest costs 6.6
 * kbit/s (test_station_runtime's test_page_overhead), and a listener that joins between
 * repeats fetches it with the state (core/state.h) rather than wait. */
#define RT_STATION_PAGE_EVERY_NS (60ull * 1000000000ull)

/* Bytes of a session's start held to probe its container when its kind is
 * not given. */
#define RT_STATION_PROBE_BYTES 4096
/* Room INFO keeps for the lines the station source adds (container=,
 * epoch=, session=, page=) after the caller's. */
#define RT_STATION_INFO_OWN 96
/* A partial generation's first byte waits at most this many flush_ns. */
#define RT_STATION_WAIT_MAX_FLUSHES 4

typedef struct rt_station_source_config {
  /* A partial generation is cut once no bytes arrived for this long (a
   * feed that paused; a feed that comes in bursts, such as an encoder's
   * one-second Ogg pages, for 1.5 times its usual pause), or once its first
   * byte waited
   * RT_STATION_WAIT_MAX_FLUSHES times this long (the latency bound of a
   * slow feed): while bytes keep flowing, generations fill and carry no
   * padding. 0: only when full. */
  uint64_t flush_ns;
  uint64_t state_every_ns; /* RT_STATION_STATE_EVERY_NS by default */
  /* The stream's generation size, d * chunk_bytes of the node's stream
   * config; 0: the core's default. */
  uint32_t gen_bytes;
  /* The node's source epoch (sc_stream_config.epoch), told to listeners in
   * INFO (epoch=) so that one present at the start can count what it
   * missed; 0: not told. */
  uint32_t epoch;
  /* A signed station: its secret key (libsodium's 64 bytes) and channel.
   * Every state written (a repeat, new headers, a title) is followed by its
   * signature (SC_STATION_STATE_SIG), and the state given to a peer that
   * asks carries one, so a listener can check a state fetched from any
   * peer. NULL: unsigned. */
  const uint8_t *sign_sk;
  sc_id channel;
} rt_station_source_config;

typedef struct rt_station_source_stats {
  uint64_t sessions; /* sources that connected */
  uint64_t bytes_in; /* bytes fed, all sessions */
  uint64_t units;    /* media units written as records */
  uint64_t sync_units;
  uint64_t garbage_bytes; /* bytes the framer could not place after the
                           * session's first unit (still relayed) */
  /* A unit the source cut short by leaving (the framer's last bytes of a
   * session, not a whole page or frame): counted, not relayed. */
  uint64_t tail_dropped_bytes;
  /* Bytes before a session's first page or frame (the source began
   * mid-unit): counted, not relayed; listeners start at the sync point. */
  uint64_t lead_dropped_bytes;
  uint64_t header_sets;   /* codec header sets seen */
  uint64_t titles;        /* title updates written */
  uint64_t state_repeats; /* state records written again for late listeners */
  uint64_t pages;         /* PAGE records written */
  uint64_t page_bytes;    /* their payload bytes */
  uint64_t flushes;       /* partial generations cut by flush_ns */
  uint64_t write_errors;  /* the node refused bytes */
} rt_station_source_stats;

typedef struct rt_station_source rt_station_source;

/* node must be a stream source (sc_node_config.stream_source). Returns 0,
 * SC_ERR_INVALID or SC_ERR_NOMEM. */
int rt_station_source_new(rt_station_source **out, sc_node *node,
                          const rt_station_source_config *cfg);
/* The same over any sink instead of a node's stream source (tests, a
 * recorder): sink->write and sink->flush take the generation bytes as the
 * node's sc_node_source_write/flush would, cutting every cfg->gen_bytes. */
int rt_station_source_new_sink(rt_station_source **out, const sc_station_sink *sink,
                               const rt_station_source_config *cfg);
void rt_station_source_del(rt_station_source *s);

/* The station's page (a bundle, sc_station_page_check'ed), copied: written
 * at every session's start and every RT_STATION_PAGE_EVERY_NS, announced in
 * INFO (page=BYTES) so that a listener that lacks it asks for the state.
 * Call before the first session. Returns 0, SC_ERR_INVALID or
 * SC_ERR_NOMEM. */
int rt_station_source_page(rt_station_source *s, const uint8_t *page, size_t len);

/* A source connected. kind: from its Content-Type, or SC_MEDIA_UNKNOWN to
 * probe the first bytes. info: "key=value\n" lines for listeners
 * (content-type, name, description, genre, url, bitrate, public, ...), at
 * most SC_STATION_INFO_MAX bytes. Ends a session still open. */
int rt_station_source_begin(rt_station_source *s, sc_media_kind kind, const char *info,
                            uint64_t now);
/* Bytes of the current session, exactly as the source sent them. */
int rt_station_source_feed(rt_station_source *s, const uint8_t *data, size_t datalen,
                           uint64_t now);
/* Now playing (ICY StreamTitle, /admin/metadata, a comment header). */
int rt_station_source_title(rt_station_source *s, const char *title, uint64_t now);
/* The station-wide listener count and its peak (core/tally.h), as a
 * LISTENERS record. */
int rt_station_source_listeners(rt_station_source *s, uint32_t listeners, uint32_t peak,
                                uint64_t now);
/* The session ended (the source disconnected). station_over: the broadcast
 * ends too (an END record; listeners may close). */
void rt_station_source_end(rt_station_source *s, bool station_over, uint64_t now);

/* Timers: cut a waiting partial generation, repeat the state. The next
 * moment that needs a call, UINT64_MAX if none. */
uint64_t rt_station_source_get_expiry(const rt_station_source *s);
void rt_station_source_handle_expiry(rt_station_source *s, uint64_t now);

/* Media time the fed units reach, from the container's timestamps
 * (sc_media_unit.end_us), -1 when the container has none: a file source
 * reads ahead of the clock by at most the playout it wants. */
/* The station's state (INFO, HEADERS, TITLE, and PAGE when it fits) as
 * records for a listener that asks (sc_station_state_encode,
 * sc_station_state_add_page); 0 before a session said its container. */
size_t rt_station_source_state(const rt_station_source *s, uint8_t *buf, size_t cap);

int64_t rt_station_source_media_us(const rt_station_source *s);
bool rt_station_source_in_session(const rt_station_source *s);
/* The station's INFO lines as listeners get them ("key=value\n": station,
 * name, description, genre, bitrate, container, ...); "" before a session. */
const char *rt_station_source_info(const rt_station_source *s);
void rt_station_source_get_stats(const rt_station_source *s,
                                 rt_station_source_stats *out);

#endif
