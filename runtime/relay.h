/*
 * relay.h — a broadcasting peer that relays an existing Icecast or SHOUTcast
 * stream: libcurl pulls the URL (http or https) inside the libev loop (the
 * multi socket API: curl says which sockets and which timeout to watch, an
 * ev_io and an ev_timer watch them), asking for ICY metadata
 * ("Icy-MetaData: 1"). The server's icy-metaint says how many audio bytes
 * come between two metadata blocks; the blocks are taken out of the audio
 * (their StreamTitle becomes a title update) and only the audio is fed to
 * the station source. The Content-Type picks the container; the ice-/icy-
 * response headers become the station's info.
 *
 * Each connection is one session of the station. When a connection fails
 * or ends, the relay connects again after a back-off that starts at
 * RT_RELAY_BACKOFF_MIN_MS, doubles up to RT_RELAY_BACKOFF_MAX_MS and is
 * jittered (to +-RT_RELAY_JITTER_PCT %) so that many relays of one server do
 * not come back in step; a connection that delivered audio starts it over.
 */
#ifndef SC_RUNTIME_RELAY_H
#define SC_RUNTIME_RELAY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "station_source.h"

#define RT_RELAY_BACKOFF_MIN_MS 1000
#define RT_RELAY_BACKOFF_MAX_MS 30000
#define RT_RELAY_JITTER_PCT     25
/* A connection that sends nothing for this long is given up (and retried). */
#define RT_RELAY_STALL_S           10
#define RT_RELAY_CONNECT_TIMEOUT_S 10
/* The longest URL taken. */
#define RT_RELAY_URL_MAX 2048
/* The last error kept for the counters. */
#define RT_RELAY_ERROR_MAX 256
/* A metaint above this is refused as garbage (Icecast uses 16000; SHOUTcast
 * servers 8192 to 32768). */
#define RT_RELAY_METAINT_MAX (1 << 20)

/* Takes ICY metadata blocks out of a stream with metaint audio bytes
 * between them (metaint 0: all audio). */
typedef struct rt_icy_reader {
  uint32_t metaint;
  uint32_t audio_left; /* audio bytes before the next block */
  uint32_t meta_need;  /* bytes of the block being read (0: its length byte) */
  uint32_t meta_have;
  bool in_meta;
  uint8_t meta[SC_HTTP_ICY_META_MAX_BYTES + 1];
} rt_icy_reader;

typedef struct rt_icy_sink {
  void (*audio)(void *user, const uint8_t *data, size_t datalen);
  /* A whole block: its length byte and 16 * n bytes (n may be 0). */
  void (*meta)(void *user, const uint8_t *block, size_t blocklen);
  void *user;
} rt_icy_sink;

void rt_icy_reader_init(rt_icy_reader *r, uint32_t metaint);
void rt_icy_reader_feed(rt_icy_reader *r, const uint8_t *data, size_t datalen,
                        const rt_icy_sink *sink);

/* An upstream answer's head as the relay keeps it: the Content-Type, the
 * icy-metaint, and the station info its ice-/icy- headers give, as
 * "key=value\n" lines after the configured prefix and "relay=URL". Pure
 * code over the header lines (icy_reader.c), so that it can be fuzzed. */
#define RT_RELAY_HDR_VALUE_MAX 256 /* a Content-Type kept, NUL included */
typedef struct rt_relay_head {
  char content_type[RT_RELAY_HDR_VALUE_MAX];
  char info[SC_STATION_INFO_MAX];
  size_t infolen;
  uint32_t metaint; /* 0: none, or one out of (0, RT_RELAY_METAINT_MAX] */
} rt_relay_head;

/* Starts a head: the info is prefix (NULL: none; cut to half the info) and
 * then relay=url. */
void rt_relay_head_reset(rt_relay_head *h, const char *prefix, const char *url);
/* Takes one header line as libcurl hands it over (the line end included or
 * not; any bytes). A status line ("HTTP/..." or "ICY ...") begins a new head
 * (a redirect or a 100 may come first): returns true and changes nothing,
 * and the caller resets the head. A header without a value, with a control
 * byte in its value or not kept is ignored; a value that does not fit the
 * info is left out. */
bool rt_relay_head_line(rt_relay_head *h, const char *line, size_t len);

typedef struct rt_relay_config {
  const char *url;
  const char *info; /* "key=value\n" lines put before each session's own, or NULL */
  uint64_t seed;    /* of the jitter */
  /* Called after bytes went into the station source (the peer's timers
   * need re-arming); may be NULL. */
  void (*after_feed)(void *user, uint64_t now);
  void *user;
} rt_relay_config;

typedef struct rt_relay_stats {
  uint64_t attempts;    /* connections tried */
  uint64_t connects;    /* answered 2xx and delivered a body */
  uint64_t reconnects;  /* connections tried again after one failed or ended */
  uint64_t bytes_in;    /* body bytes received, metadata included */
  uint64_t audio_bytes; /* fed to the station */
  uint64_t meta_blocks; /* ICY metadata blocks taken out */
  uint64_t meta_bad;    /* blocks that did not parse (dropped, not relayed) */
  uint64_t titles;      /* title updates from them */
  uint64_t feed_errors; /* the station source refused bytes */
  long last_status;     /* HTTP status of the last answer */
  uint32_t metaint;     /* of the current or last connection */
  uint64_t backoff_ms;  /* the current back-off */
  char last_error[RT_RELAY_ERROR_MAX];
  char title[SC_HTTP_ICY_META_MAX_BYTES + 1]; /* the last title */
} rt_relay_stats;

typedef struct rt_relay rt_relay;

/* An http:// or https:// URL with a host. Returns 0, or SC_ERR_INVALID with
 * why. */
int rt_relay_check_url(const char *url, char *why, size_t whylen);

/* Returns 0, SC_ERR_INVALID (a bad URL: err says why) or SC_ERR_NOMEM. */
int rt_relay_new(rt_relay **out, struct ev_loop *loop, rt_station_source *st,
                 const rt_relay_config *cfg, char *err, size_t errlen);
/* Connects (now; again and again until stopped). */
void rt_relay_start(rt_relay *r);
/* Disconnects, ends a session still open (not the station), stops
 * retrying. */
void rt_relay_stop(rt_relay *r);
void rt_relay_del(rt_relay *r);
void rt_relay_get_stats(const rt_relay *r, rt_relay_stats *out);

#endif
