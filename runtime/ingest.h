/*
 * ingest.h — the broadcasting peer's Icecast-compatible ingest server: the
 * station's encoder (ffmpeg, butt, DarkIce, liquidsoap, OBS, ezstream,
 * libshout's shout) connects here as it would to Icecast 2.4, and its stream
 * feeds the station (runtime/station_source.h) through a sink.
 *
 * Two TCP listeners in the process's libev loop: Icecast's HTTP source
 * protocol (PUT, or SOURCE) and admin metadata updates on ADDR:PORT, and the
 * SHOUTcast v1 source protocol on ADDR:PORT+1 (Icecast's convention). The
 * protocol itself (parsing, login decisions, answer bytes) is sc_http's
 * (http/http.h), verified against a real icecast2; this file only moves
 * bytes and keeps time.
 *
 * Each connection is a small state machine (docs/ARCHITECTURE.md §5):
 *   HEAD     read a request head into a bounded buffer until it is complete,
 *            too large (Icecast's 4095-byte limit: closed without an answer),
 *            or the header deadline passes (a slow-loris defence: closed);
 *   PASS     (SHOUTcast) read the password line, answer OK2 or close;
 *   SCHEAD   (SHOUTcast) read the icy-* lines up to the empty line;
 *   STREAM   the accepted source: every byte goes to the sink until the
 *            connection closes (bodies are close-delimited) or is silent for
 *            the source timeout;
 *   LINGER   an answer was written; the write side is shut and the rest of
 *            the client's bytes read and dropped for a short while, so that a
 *            client still sending does not turn the close into a reset that
 *            destroys the answer before it is read.
 *
 * One source per mount: the station's mount (its name, e.g. "/live.opus").
 * A second source gets "403 Mountpoint in use"; a source that leaves ends its
 * session (sink end) and another may log in, while the station and its
 * listeners carry on. Bad input never touches the live source.
 */
#ifndef SC_RUNTIME_INGEST_H
#define SC_RUNTIME_INGEST_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http/http.h"
#include "media/media.h"

/* Connections open at once (sources, probes, admin requests); beyond it a new
 * connection is closed at once and counted as refused "busy". */
#define RT_INGEST_CONNS_MAX 32
/* A connection must finish its head within this (Icecast's header-timeout
 * defaults to 15 s). */
#define RT_INGEST_HEADER_TIMEOUT_NS (15ull * 1000000000ull)
/* A source silent this long is dropped (its session ends). */
#define RT_INGEST_SOURCE_TIMEOUT_NS (10ull * 1000000000ull)
/* How long a closing connection's remaining input is read and dropped. */
#define RT_INGEST_LINGER_NS (2ull * 1000000000ull)
/* Bytes read from a source per read call (one buffer shared by all). */
#define RT_INGEST_READ_BYTES (64 * 1024)
/* Reads per readiness callback, so one fast source cannot starve the loop. */
#define RT_INGEST_READ_BURST 16
/* The longest answer this server writes (the largest is an HTML error page). */
#define RT_INGEST_OUT_MAX_BYTES 2048
/* A source's user agent as kept for the counters. */
#define RT_INGEST_AGENT_MAX_BYTES 127
/* The Server header of every answer. Encoders read only the status line. */
#define RT_INGEST_SERVER_ID "Icecast 2.4.4 compatible (stripecast)"

/* Where an accepted source's stream goes; the runtime connects these to
 * rt_station_source_begin/feed/title/end(station_over=false). Each returns 0
 * or a negative code (counted, never fatal to the connection). */
typedef struct rt_ingest_sink {
  /* A source logged in. kind: from its Content-Type (SC_MEDIA_UNKNOWN:
   * probe the bytes); info: "key=value\n" lines (content-type, name,
   * description, genre, url, bitrate, audio-info, public, user-agent). */
  int (*begin)(void *user, sc_media_kind kind, const char *info, uint64_t now);
  int (*feed)(void *user, const uint8_t *data, size_t len, uint64_t now);
  int (*title)(void *user, const char *title, uint64_t now);
  void (*end)(void *user, uint64_t now);
  void *user;
} rt_ingest_sink;

typedef struct rt_ingest_config {
  uint32_t ip;   /* listen address, host order */
  uint16_t port; /* HTTP; SHOUTcast v1 on port + 1 unless no_shoutcast */
  bool no_shoutcast;
  const char *mount;           /* the station's mount, with its leading '/' */
  const char *source_password; /* user "source"; never logged */
  const char *admin_password;  /* user "admin" (/admin/metadata); NULL: none */
  uint64_t header_timeout_ns;  /* 0: RT_INGEST_HEADER_TIMEOUT_NS */
  uint64_t source_timeout_ns;  /* 0: RT_INGEST_SOURCE_TIMEOUT_NS */
  uint64_t linger_ns;          /* 0: RT_INGEST_LINGER_NS */
  bool verbose;                /* log logins and departures to stderr */
  /* No HTTP listener of its own: the HTTP port is the players' server's
   * (runtime/serve.h), which hands sources over with rt_ingest_adopt. */
  bool http_adopted;
} rt_ingest_config;

typedef struct rt_ingest_stats {
  uint64_t connections;           /* accepted on the HTTP port */
  uint64_t shoutcast_connections; /* accepted on the SHOUTcast port */
  uint64_t sources_accepted;      /* sessions begun */
  uint64_t sources_ended;         /* by the source closing (or resetting) */
  uint64_t source_timeouts;       /* dropped after the source timeout */
  uint64_t libshout_probes; /* libshout's probes: an unauthenticated SOURCE, "!POKE" */
  /* Refusals, by reason (Icecast's answer in parentheses). */
  uint64_t refused_unauthorized;       /* wrong or missing credentials (401) */
  uint64_t refused_mount_in_use;       /* a source is live (403) */
  uint64_t refused_no_content_type;    /* PUT without Content-Type (403) */
  uint64_t refused_wrong_mount;        /* another mount than the station's (403) */
  uint64_t refused_bad_request;        /* bad mount, method or protocol (closed) */
  uint64_t refused_bad_head;           /* unparsable or oversized head (closed) */
  uint64_t refused_header_timeout;     /* head not complete in time (closed) */
  uint64_t refused_busy;               /* RT_INGEST_CONNS_MAX reached (closed) */
  uint64_t refused_shoutcast_password; /* wrong SHOUTcast password (closed) */
  uint64_t refused_other;              /* players (404), unknown methods (400) */
  uint64_t admin_requests;             /* /admin/... and /admin.cgi */
  uint64_t titles;                     /* title updates passed to the sink */
  uint64_t bytes_in;                   /* stream bytes passed to the sink */
  uint64_t sink_errors;                /* the sink refused something */
} rt_ingest_stats;

typedef struct rt_ingest rt_ingest;

/* A system call failed; errno says why. */
#define RT_INGEST_ERR_SYS (-100)

/* Reads a password file: its contents with trailing newlines (LF, CR LF)
 * removed. Returns the length, or RT_INGEST_ERR_SYS (errno set),
 * SC_ERR_TOO_LARGE (over cap - 1 bytes), SC_ERR_INVALID (empty, or a NUL or
 * line break inside). */
int rt_ingest_read_password_file(const char *path, char *out, size_t cap);

/* Binds the listeners and starts accepting. Returns 0, SC_ERR_INVALID (a
 * bad mount or no password), SC_ERR_NOMEM, or RT_INGEST_ERR_SYS with errno
 * set by socket, bind or listen (e.g. EADDRINUSE). The config's strings must
 * outlive the server. */
int rt_ingest_new(rt_ingest **out, struct ev_loop *loop, const rt_ingest_config *cfg,
                  const rt_ingest_sink *sink);
/* A connection whose head (head_len bytes, at most Icecast's head limit)
 * another server on the HTTP port read: a PUT or SOURCE, or an admin
 * metadata update. The ingest server owns fd from here on (it closes it
 * even on failure). Returns 0 or SC_ERR_FULL (RT_INGEST_CONNS_MAX). */
int rt_ingest_adopt(rt_ingest *in, int fd, const char *addr, const char *head,
                    size_t head_len);
/* Closes every connection (a live source's session ends through the sink)
 * and the listeners; the counters stay readable. Idempotent. */
void rt_ingest_stop(rt_ingest *in);
/* rt_ingest_stop, then frees. NULL is allowed. */
void rt_ingest_del(rt_ingest *in);

/* The bound HTTP port (useful with port 0 in tests). */
uint16_t rt_ingest_port(const rt_ingest *in);
bool rt_ingest_source_live(const rt_ingest *in);
void rt_ingest_get_stats(const rt_ingest *in, rt_ingest_stats *out);
/* Writes the counters as one JSON object (the --stats "ingest" value),
 * with the live source's address, user agent and content type. */
void rt_ingest_stats_json(const rt_ingest *in, FILE *f);

#endif
