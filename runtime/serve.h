/*
 * serve.h — a peer's listeners' face: an HTTP server in the peer's libev
 * loop that serves the station to players as a small Icecast 2.4 server
 * does (GET /mount, playlists), with a route table for other endpoints.
 *
 * Every peer that carries a station may serve it: `stripecast listen ...
 * --http [ADDR:]PORT`, and the broadcaster's `--http ADDR:PORT`, where
 * sources and players share the port as they do on Icecast (a PUT or
 * SOURCE, and /admin/metadata, are handed to the ingest server,
 * runtime/ingest.h).
 *
 * The station comes in as generations (rt_serve_deliver, or the
 * broadcaster's own through rt_serve_tee_sink) and goes through one
 * sc_station_reader. Its records fan out to every listening player, each
 * with its own bounded queue: a player that falls behind by more than
 * RT_SERVE_QUEUE_MAX_BYTES is dropped, and nobody else notices. A late
 * player gets the codec headers first, then a burst of the last burst_ns of
 * media starting at a sync point (MEDIA_SYNC record), then the live stream;
 * MP3 and AAC players that ask for it get ICY metadata every
 * SC_HTTP_ICY_METAINT_DEFAULT_BYTES, as Icecast inserts it.
 *
 * Connections (docs/ARCHITECTURE.md §5):
 *   HEAD    read a request head (Icecast's 4095-byte bound) before the
 *           header deadline (a slow-loris defence), at most
 *           RT_SERVE_PENDING_MAX at once;
 *   STREAM  a player: its queue is written as the socket takes it;
 *   ANSWER  a whole response is written, then the connection closes.
 * Beyond RT_SERVE_CONNS_MAX connections a new one is closed at once.
 */
#ifndef SC_RUNTIME_SERVE_H
#define SC_RUNTIME_SERVE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/node.h"
#include "core/station.h"
#include "http/http.h"

/* Players listening at once by default (--max-listeners). */
#define RT_SERVE_LISTENERS_DEFAULT 100
#define RT_SERVE_LISTENERS_MAX     4096
/* Connections still sending their request head; beyond it a new connection
 * is closed without an answer (a flood of idle connections costs one slot
 * each, never more). */
#define RT_SERVE_PENDING_MAX 64
/* Every connection (players, heads, answers being written). */
#define RT_SERVE_CONNS_MAX (RT_SERVE_LISTENERS_MAX + RT_SERVE_PENDING_MAX)
/* A request head must be complete within this (Icecast's header-timeout
 * defaults to 15 s; a player sends its head at once). */
#define RT_SERVE_HEADER_TIMEOUT_NS (5ull * 1000000000ull)
/* A whole answer (not a stream) must be taken within this. */
#define RT_SERVE_ANSWER_TIMEOUT_NS (10ull * 1000000000ull)
/* How long an answered client's remaining input is read and dropped. */
#define RT_SERVE_LINGER_NS (2ull * 1000000000ull)
/* A player's queue by default: beyond it the player is dropped (Icecast's
 * queue-size defaults to 512 KiB; this leaves room for a video burst). A
 * burst takes at most half of the queue. */
#define RT_SERVE_QUEUE_MAX_BYTES ((size_t)2 << 20)
#define RT_SERVE_QUEUE_MIN_BYTES ((size_t)16 << 10)
/* The kernel's send buffer of a player's socket: bounded, so that a player
 * that stopped reading is seen in the queue soon and costs little memory
 * (an autotuned buffer would hide megabytes). */
#define RT_SERVE_SNDBUF_BYTES (128 << 10)
/* The burst kept for late players, at most this many bytes. */
#define RT_SERVE_BURST_MAX_BYTES ((size_t)1 << 20)
/* ... and at most this many records. */
#define RT_SERVE_BURST_RECORDS_MAX 4096
/* The default burst (--burst-s). */
#define RT_SERVE_BURST_DEFAULT_NS (2ull * 1000000000ull)
/* The largest whole response a route may write (head and body). */
#define RT_SERVE_RESPONSE_MAX_BYTES ((size_t)4 << 20)
/* Routes that may be added. */
#define RT_SERVE_ROUTES_MAX 32
/* Bytes read per read call. */
#define RT_SERVE_READ_BYTES 4096
/* The Server header of every answer. */
#define RT_SERVE_SERVER_ID "Icecast 2.4.4 compatible (stripecast)"
/* Header lines every answer carries after the no-cache ones (the server
 * inserts them in whatever a route writes), as Debian's default icecast.xml
 * configures them: web players on other origins may read the stream. */
#define RT_SERVE_EXTRA_HEADERS "Access-Control-Allow-Origin: *\r\n"

/* A system call failed; errno says why. */
#define RT_SERVE_ERR_SYS (-100)

typedef struct rt_serve rt_serve;
struct rt_ingest;

/* ------------------------------------------------------------ routes */

/* A growable response buffer bounded by RT_SERVE_RESPONSE_MAX_BYTES. */
typedef struct rt_serve_buf {
  char *data;
  size_t len, cap;
  bool overflow; /* something did not fit: the answer becomes a 500 */
} rt_serve_buf;

/* Appends bytes; false (and overflow set) beyond the bound. */
bool rt_serve_buf_put(rt_serve_buf *b, const void *data, size_t len);
bool rt_serve_buf_printf(rt_serve_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What a handler gets. */
typedef struct rt_serve_request {
  const sc_http_request *http;    /* the parsed head */
  const char *path;               /* decoded path (sc_http_mount_decode), NUL-ended */
  bool head_only;                 /* HEAD: write the head, the body is dropped */
  const char *peer_addr;          /* the client, "a.b.c.d:port" */
  const char *host;               /* "ADDR:PORT" players reach this server at: the
                                   * request's Host when it is plain, else the bound
                                   * address */
  const sc_http_server_info *srv; /* Server and Date, for sc_http's writers */
  rt_serve *server;               /* for rt_serve_snapshot */
} rt_serve_request;

/* A handler writes one whole response (head and body) into out and returns
 * 0; a negative return answers 500. The connection closes after it. */
typedef int (*rt_serve_handler_fn)(const rt_serve_request *req, void *ctx,
                                   rt_serve_buf *out);

/* Adds a route: pattern is an exact path ("/status-json.xsl") or a prefix
 * ending in "*" (e.g. "/admin/" followed by "*"). Routes are tried in the order added,
 * before the built-in ones (the mount and its playlists). Returns 0, SC_ERR_FULL or
 * SC_ERR_INVALID. */
int rt_serve_add_route(rt_serve *s, const char *pattern, rt_serve_handler_fn fn,
                       void *ctx);

/* Writes a whole answer in Icecast's shape (status line, Server,
 * Connection: Close, Date, Content-Type, Content-Length, the no-cache
 * headers, extra_headers (may be NULL), the body); with
 * req->head_only the body is left out (its length is still told). */
int rt_serve_respond(const rt_serve_request *req, rt_serve_buf *out, int status,
                     const char *content_type, const char *extra_headers,
                     const void *body, size_t body_len);
/* Icecast's error answer (sc_http_write_error): text/plain for 403, as
 * Icecast's client_send_403, its HTML page for the others. */
int rt_serve_respond_error(const rt_serve_request *req, rt_serve_buf *out, int status,
                           const char *message);

/* What a handler may want to know of the station and its players. */
typedef struct rt_serve_snapshot {
  const char *mount;        /* "/live.opus" */
  const char *content_type; /* "" until INFO arrived */
  const char *info;         /* the station's INFO lines ("" before) */
  const char *title;        /* now playing ("" if none) */
  bool on_air;              /* media arrived and a player would get it */
  uint32_t listeners;       /* players being streamed to */
  uint32_t listeners_max;
  uint32_t listeners_peak;
  uint64_t listener_connections; /* players accepted, ever */
  uint64_t bytes_sent;           /* to players, heads included */
  uint64_t started_ns;           /* the server's start (CLOCK_MONOTONIC) */
  uint16_t port;
} rt_serve_snapshot;

void rt_serve_snapshot_get(const rt_serve *s, rt_serve_snapshot *out);

/* ------------------------------------------------------------ server */

typedef struct rt_serve_config {
  uint32_t ip;   /* listen address, host order */
  uint16_t port; /* 0: any (tests) */
  const char *mount;
  uint32_t max_listeners;     /* 0: RT_SERVE_LISTENERS_DEFAULT */
  size_t queue_bytes;         /* a player's queue; 0: RT_SERVE_QUEUE_MAX_BYTES */
  uint64_t burst_ns;          /* RT_SERVE_BURST_DEFAULT_NS unless burst_set */
  bool burst_set;             /* burst_ns given (0: no burst) */
  uint64_t header_timeout_ns; /* 0: RT_SERVE_HEADER_TIMEOUT_NS */
  bool verbose;
} rt_serve_config;

typedef struct rt_serve_stats {
  uint64_t connections;      /* accepted */
  uint64_t refused_busy;     /* RT_SERVE_PENDING_MAX or every slot in use: closed */
  uint64_t refused_full;     /* --max-listeners reached: 403 */
  uint64_t header_timeouts;  /* head not complete in time: closed */
  uint64_t bad_heads;        /* unparsable or oversized heads: closed */
  uint64_t bad_paths;        /* 400 (a path that does not decode) */
  uint64_t not_found;        /* 404 */
  uint64_t bad_methods;      /* 400 or closed, as Icecast */
  uint64_t handed_to_ingest; /* sources and metadata updates */
  uint64_t answers;          /* whole answers (routes, playlists, HEAD) */
  uint64_t listeners;        /* players accepted */
  uint64_t listeners_left;   /* closed by the player */
  uint64_t listeners_slow;   /* dropped: the queue was full */
  uint64_t listeners_peak;
  uint64_t bytes_sent;
  uint64_t bursts;      /* players that got a burst */
  uint64_t burst_bytes; /* its bytes */
  uint64_t records;     /* station records read */
  uint64_t gaps;        /* losses the players' streams skipped over */
} rt_serve_stats;

/* Binds and starts accepting. Returns 0, SC_ERR_INVALID, SC_ERR_NOMEM or
 * RT_SERVE_ERR_SYS (errno set). cfg's strings must outlive the server. */
int rt_serve_new(rt_serve **out, struct ev_loop *loop, const rt_serve_config *cfg);
/* Sources (PUT, SOURCE) and /admin/metadata, /admin.cgi go to in
 * (rt_ingest_adopt); NULL: refused as Icecast refuses them without a
 * source password. */
void rt_serve_set_ingest(rt_serve *s, struct rt_ingest *in);
/* Closes every connection and the listener. Idempotent. */
void rt_serve_stop(rt_serve *s);
void rt_serve_del(rt_serve *s);
uint16_t rt_serve_port(const rt_serve *s);
void rt_serve_get_stats(const rt_serve *s, rt_serve_stats *out);
/* The counters as one JSON object (the --stats "serve" value). */
void rt_serve_stats_json(const rt_serve *s, FILE *f);

/* ------------------------------------------------------------ station */

/* The peer's stream callbacks (core/node.h), as rt_output's. */
void rt_serve_deliver(rt_serve *s, uint64_t gen, const uint8_t *data, size_t datalen);
void rt_serve_lost(rt_serve *s, uint64_t gen);
/* The station's state a peer gave this one on attaching (core/state.h):
 * taken as the stream's records would be, unless the stream's INFO came
 * first. */
void rt_serve_state(rt_serve *s, const uint8_t *data, size_t len);
void rt_serve_restarted(rt_serve *s, bool new_epoch);
/* The station's page (a checked bundle, core/station.h) as this server
 * last received it; NULL and 0 when it has none or the station is not on
 * the air. Valid until the loop runs on. */
void rt_serve_page(const rt_serve *s, const uint8_t **data, size_t *len);

/* The broadcaster's own generations: a station sink that writes into
 * node's stream source and reads the same bytes, cut every gen_bytes (as
 * the stream cuts them), as generations. For rt_station_source_new_sink. */
void rt_serve_tee_sink(rt_serve *s, sc_node *node, uint32_t gen_bytes,
                       sc_station_sink *out);

#endif
