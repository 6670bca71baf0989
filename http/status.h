/*
 * status.h — what a peer tells tools written for Icecast about its stations:
 * /status-json.xsl, SHOUTcast's /7.html, Prometheus /metrics and the
 * Icecast admin commands (listclients, killclient, listmounts, stats), as
 * pure functions of a snapshot the caller fills in.
 *
 * Sans-I/O as the rest of http/: no clock (the caller passes times as Unix
 * seconds), no sockets, no allocation; every writer writes into the
 * caller's buffer and returns the bytes written (a NUL follows when it
 * fits) or SC_ERR_NOBUF.
 *
 * The shapes are Icecast 2.4.4's, checked against a running server
 * (tests/icecast_status_oracle.sh, tests/data/icecast/status_answers.txt):
 *
 * - status-json.xsl: {"icestats":{<server keys>, "source": ..., "dummy":null}}
 *   with keys in alphabetical order; "source" is absent with no station, an
 *   object with one, an array with several (status clients such as butt
 *   test which), and a station key whose value is unknown is absent.
 *   Numbers are JSON numbers. Icecast 2.4.4 writes invalid JSON when it has
 *   no source ({"icestats":"server_start":...}); this writes the valid
 *   object with the same keys.
 * - admin answers: Icecast's raw XML (<icestats>, <iceresponse>).
 */
#ifndef SC_HTTP_STATUS_H
#define SC_HTTP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* Stations one status page lists (a peer carries one; a relay a few). */
#define SC_STATUS_STATIONS_MAX 64
/* Listeners one listclients answer lists. */
#define SC_STATUS_CLIENTS_MAX 1024
/* The bytes of one "Mon, 07 Dec 2026 12:15:45 +0000" or ISO 8601 date. */
#define SC_STATUS_DATE_MAX_BYTES 40

typedef struct sc_status_station {
  const char *mount;        /* "/live.opus" */
  const char *name;         /* server_name; NULL: absent */
  const char *description;  /* server_description; NULL: absent */
  const char *genre;        /* NULL: absent */
  const char *url;          /* server_url; NULL: absent */
  const char *title;        /* now playing; NULL: absent */
  const char *content_type; /* server_type, e.g. "audio/ogg"; NULL: absent */
  const char *subtype;      /* "Opus", "Vorbis", "FLAC" for Ogg; NULL: absent */
  const char *listenurl;    /* "http://host:port/mount" */
  const char *audio_info;   /* ice-audio-info as sent; NULL: absent */
  uint64_t listeners;       /* station-wide, see core/tally.h */
  uint64_t listener_peak;
  unsigned bitrate_kbps;  /* 0: absent */
  unsigned channels;      /* 0: absent */
  unsigned samplerate_hz; /* 0: absent */
  int64_t stream_start_s; /* Unix seconds; < 0: absent */
} sc_status_station;

typedef struct sc_status_server {
  const char *admin;      /* contact; NULL: absent */
  const char *host;       /* NULL: absent */
  const char *location;   /* NULL: absent */
  const char *server_id;  /* "stripecast" */
  int64_t server_start_s; /* Unix seconds */
} sc_status_server;

typedef struct sc_status_snapshot {
  sc_status_server server;
  const sc_status_station *stations;
  size_t nstations; /* <= SC_STATUS_STATIONS_MAX */
} sc_status_snapshot;

/* "Mon, 07 Dec 2026 12:15:45 +0000" (Icecast's stats date, UTC),
 * "2026-12-07T12:15:45+0000", and "Mon, 07 Dec 2026 12:15:45 GMT" (an HTTP
 * Date header: RFC 9110 §5.6.7 IMF-fixdate, as Icecast sends). Return the
 * length or SC_ERR_NOBUF. */
int sc_status_date_rfc822(int64_t unix_s, char *out, size_t cap);
int sc_status_date_iso8601(int64_t unix_s, char *out, size_t cap);
int sc_status_date_http(int64_t unix_s, char *out, size_t cap);

/* The body of /status-json.xsl. Returns the length, SC_ERR_NOBUF or
 * SC_ERR_INVALID (more than SC_STATUS_STATIONS_MAX stations). */
int sc_status_write_json(const sc_status_snapshot *snap, char *out, size_t cap);

/* The body of SHOUTcast v1's /7.html for one station:
 * <html><body>CURRENTLISTENERS,STATUS,PEAK,MAX,UNIQUE,BITRATE,SONGTITLE</body></html>
 * (STATUS 1: a source is on the air; MAX 0: no limit; UNIQUE: the
 * listeners). st NULL: the line of a server without a source. */
int sc_status_write_7html(const sc_status_station *st, char *out, size_t cap);

/* The head of a 200 answer as Icecast 2.4 writes its generated pages:
 * HTTP/1.0 200 OK, Server, Connection: Close, Date, Content-Type, the
 * no-cache headers, Content-Length. srv->date NULL: no Date header. */
int sc_status_write_head(const sc_http_server_info *srv, const char *content_type,
                         size_t content_length, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Admin (Icecast's admin.c, raw XML answers)                                */

typedef enum {
  SC_STATUS_ADMIN_UNAUTHORIZED = 0, /* 401; nothing changes */
  SC_STATUS_ADMIN_PAGE,             /* GET /admin/ or /admin/index.html */
  SC_STATUS_ADMIN_STATS,            /* /admin/stats */
  SC_STATUS_ADMIN_LISTMOUNTS,       /* /admin/listmounts */
  SC_STATUS_ADMIN_LISTCLIENTS,      /* /admin/listclients?mount= */
  SC_STATUS_ADMIN_KILLCLIENT,       /* /admin/killclient?mount=&id= */
  SC_STATUS_ADMIN_METADATA,         /* /admin/metadata: sc_http_meta_decide */
  SC_STATUS_ADMIN_MISSING_PARAM,    /* 400 "Missing parameter" */
  SC_STATUS_ADMIN_NO_SOURCE,        /* 400 "Source does not exist" */
  SC_STATUS_ADMIN_UNKNOWN,          /* 400 "Unknown admin request": a mount
                                     * command without mount= */
  SC_STATUS_ADMIN_UNRECOGNISED,     /* 400 "Unrecognised command" */
  SC_STATUS_ADMIN_BAD_REQUEST,      /* 400 "Bad request": an undecodable value */
} sc_status_admin_command;

typedef struct sc_status_admin_policy {
  const char *admin_user;     /* "admin" */
  const char *admin_password; /* NULL: every admin request is refused */
  /* Whether a station is on mount (decoded); NULL: none is. */
  bool (*has_mount)(void *user, const char *mount);
  void *user;
} sc_status_admin_policy;

typedef struct sc_status_admin_request {
  sc_status_admin_command command;
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1]; /* decoded mount=, "" if none */
  uint64_t client_id;                      /* killclient's id= */
} sc_status_admin_request;

/* Decide an admin request of kind SC_HTTP_KIND_ADMIN in Icecast 2.4's order:
 * credentials first (the admin user and password, compared in constant
 * time), then the command, then its mount (which must be live) and id.
 * Network input: never asserts, every outcome is one of the enum. */
void sc_status_admin_decide(const sc_http_request *req,
                            const sc_status_admin_policy *policy,
                            sc_status_admin_request *out);

/* One listener in listclients. */
typedef struct sc_status_client {
  uint64_t id;
  const char *ip;
  const char *user_agent; /* NULL: absent */
  uint64_t connected_s;
} sc_status_client;

/* The XML bodies Icecast 2.4.4 answers with (without the HTTP head). */
int sc_status_write_admin_stats(const sc_status_snapshot *snap, char *out, size_t cap);
int sc_status_write_listmounts(const sc_status_snapshot *snap, int64_t now_s, char *out,
                               size_t cap);
int sc_status_write_listclients(const char *mount, const sc_status_client *clients,
                                size_t nclients, char *out, size_t cap);
/* <iceresponse><message>..</message><return>ret</return></iceresponse> */
int sc_status_write_iceresponse(const char *message, int ret, char *out, size_t cap);
/* The small admin page: the stations, their listeners and links to the
 * admin commands. */
int sc_status_write_admin_page(const sc_status_snapshot *snap, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Prometheus text exposition format 0.0.4                                   */

/* A bounded writer that keeps the format's order: a family's HELP and TYPE
 * lines come before its samples, and each family is declared once. */
#define SC_METRICS_FAMILIES_MAX 64
#define SC_METRICS_NAME_MAX     64

typedef struct sc_metrics_writer {
  char *out;
  size_t cap;
  size_t len;
  bool overflow;
  bool invalid;                         /* a sample outside its family, a bad name */
  char family[SC_METRICS_NAME_MAX + 1]; /* the family being written */
  uint64_t declared[SC_METRICS_FAMILIES_MAX]; /* hashes of families declared */
  unsigned ndeclared;
} sc_metrics_writer;

void sc_metrics_init(sc_metrics_writer *w, char *out, size_t cap);
/* # HELP name help / # TYPE name type ("counter", "gauge", "histogram"). */
void sc_metrics_family(sc_metrics_writer *w, const char *name, const char *type,
                       const char *help);
/* name{labels} value: labels "" or 'a="b",c="d"' (already escaped); name
 * must be the family's or, for a histogram, its _bucket/_sum/_count. */
void sc_metrics_sample(sc_metrics_writer *w, const char *name, const char *labels,
                       double value);
void sc_metrics_sample_u64(sc_metrics_writer *w, const char *name, const char *labels,
                           uint64_t value);
/* A whole histogram family from cumulative-free bucket counts: bucket i
 * counts observations <= le[i] (ascending); above_last those beyond. */
void sc_metrics_histogram(sc_metrics_writer *w, const char *name, const char *help,
                          const double *le, const uint64_t *counts, size_t nbuckets,
                          uint64_t above_last, double sum);
/* The length written, or SC_ERR_NOBUF / SC_ERR_INVALID. */
int sc_metrics_finish(const sc_metrics_writer *w);

#endif
