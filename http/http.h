/*
 * http.h — the Icecast 2.4 source and admin protocol, as pure functions.
 *
 * A station goes on the air with the encoder it already owns (ffmpeg, butt,
 * DarkIce, liquidsoap, OBS, ezstream, libshout's shout), all of which speak
 * the source protocol of Icecast 2.4: an HTTP/1.x request head (PUT, or the
 * older SOURCE method) with Basic credentials and ice-* station headers, then
 * the stream; or the SHOUTcast v1 protocol on the port above (a password line,
 * then icy-* lines). This module parses those heads, decides what Icecast 2.4
 * would decide, and writes the exact bytes Icecast 2.4 answers with, so that
 * every encoder sees the server it was written for.
 *
 * Sans-I/O like the core: no sockets, no clock (the caller passes the Date
 * value it formatted), no stdio, no allocation. Every parser reads the
 * caller's buffer and returns slices into it or writes into caller-provided,
 * bounded buffers; every bound has a name below. Network input never asserts:
 * malformed input yields a negative code and changes nothing else.
 *
 * Icecast behaviour cited here is that of Icecast 2.4.4, checked against a
 * running server (tests/icecast_oracle.sh, tests/data/icecast/answers.txt).
 */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Bounds                                                                    */

/* Largest request head (request line, headers, empty line) we accept.
 * Icecast 2.4 itself reads at most 4095 bytes and closes the connection
 * without an answer beyond that (SC_HTTP_ICECAST_HEAD_MAX_BYTES). */
#define SC_HTTP_HEAD_MAX_BYTES         8192
#define SC_HTTP_ICECAST_HEAD_MAX_BYTES 4095
/* Most header fields in one head (Icecast 2.4 keeps 31 and ignores the rest). */
#define SC_HTTP_HEADERS_MAX 64
/* A decoded mount point, without the terminating NUL. */
#define SC_HTTP_MOUNT_MAX_BYTES 255
/* Each station-info string, without the terminating NUL. */
#define SC_HTTP_STATION_FIELD_MAX_BYTES 255
/* A Basic credential's user and password, decoded, without the NUL. */
#define SC_HTTP_USER_MAX_BYTES     127
#define SC_HTTP_PASSWORD_MAX_BYTES 255
/* Query parameters kept from one query string. */
#define SC_HTTP_QUERY_PARAMS_MAX 16
/* One SHOUTcast v1 line (password or icy-* header), without its line end. */
#define SC_HTTP_SHOUTCAST_LINE_MAX_BYTES 1024
/* ICY metadata: the length byte counts 16-byte units, so a block carries at
 * most 255 * 16 bytes (Icecast's MAX_META_LEN in format_mp3.c). */
#define SC_HTTP_ICY_META_MAX_BYTES  (255 * 16)
#define SC_HTTP_ICY_META_UNIT_BYTES 16

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

/* Negative codes of this module; SC_ERR_* of core/err.h are used for the
 * generic cases (SC_ERR_NOBUF: an output buffer is too small, SC_ERR_INVALID,
 * SC_ERR_TOO_LARGE). */
enum {
  SC_HTTP_INCOMPLETE = -100,       /* need more bytes; nothing was consumed */
  SC_HTTP_ERR_REQUEST_LINE = -101, /* malformed request line */
  SC_HTTP_ERR_HEADER = -102,       /* malformed header line */
  SC_HTTP_ERR_TOO_MANY_HEADERS = -103,
  SC_HTTP_ERR_HEAD_TOO_LARGE = -104,
  SC_HTTP_ERR_LINE_TOO_LONG = -105, /* a SHOUTcast v1 line over its bound */
};

/* A static description of code (this module's codes, then core/err.h's). */
const char *sc_http_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Request head                                                              */

/* A view of bytes inside the caller's buffer; not NUL-terminated. */
typedef struct {
  const char *ptr;
  size_t len;
} sc_http_slice;

typedef struct {
  sc_http_slice name;  /* as sent; compare case-insensitively */
  sc_http_slice value; /* leading and trailing spaces and tabs removed */
} sc_http_header;

typedef struct {
  sc_http_slice method;   /* e.g. "PUT", as sent (case kept) */
  sc_http_slice target;   /* the request target as sent, query included */
  sc_http_slice path;     /* target up to '?', not decoded */
  sc_http_slice query;    /* after '?', not decoded; empty if none */
  sc_http_slice protocol; /* "HTTP" or "ICE" (Icecast accepts both) */
  int version_major;
  int version_minor;
  bool lf_only; /* the head ended with a bare LF pair (DarkIce) */
  size_t header_count;
  sc_http_header headers[SC_HTTP_HEADERS_MAX];
} sc_http_request;

/* Parse one request head from buf[0..len). Line ends may be CRLF or a bare LF
 * (RFC 9112 §2.2 lets a recipient accept a bare LF; DarkIce sends only LF).
 * The request line is METHOD SP TARGET SP PROTOCOL/MAJOR.MINOR with PROTOCOL
 * "HTTP" or "ICE". Header lines are NAME ":" OWS VALUE OWS; obsolete line
 * folding is rejected (RFC 9112 §5.2).
 *
 * head_max_bytes bounds the head (0 means SC_HTTP_HEAD_MAX_BYTES; larger
 * values are clamped to it). Returns the head's length in bytes (the stream
 * body starts there), SC_HTTP_INCOMPLETE when buf holds no complete head yet
 * and is below the bound, or SC_HTTP_ERR_*. On any return but a length, req is
 * left unspecified and nothing refers to buf. */
int sc_http_parse_request(const char *buf, size_t len, size_t head_max_bytes,
                          sc_http_request *req);

/* The value of the header named name (ASCII case-insensitive), or NULL. When
 * a name repeats, the last one wins, as in Icecast's parser. */
const sc_http_slice *sc_http_header_find(const sc_http_request *req, const char *name);

/* ASCII case-insensitive comparison of a slice with a C string. */
bool sc_http_slice_eq_nocase(sc_http_slice s, const char *str);

/* ------------------------------------------------------------------------ */
/* Basic authentication (RFC 7617) and Base64 (RFC 4648 §4)                  */

/* Strict Base64 decoding: the standard alphabet, length a multiple of 4, '='
 * only as final padding, unused bits zero. Writes at most cap bytes. Returns
 * the decoded length, SC_ERR_INVALID or SC_ERR_NOBUF. */
int sc_http_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap);

/* Base64 encoding with padding; writes a NUL after the text. Returns the
 * text's length or SC_ERR_NOBUF. (Used by tests and by relays that log in.) */
int sc_http_base64_encode(const uint8_t *in, size_t inlen, char *out, size_t cap);

typedef struct {
  char user[SC_HTTP_USER_MAX_BYTES + 1];
  char password[SC_HTTP_PASSWORD_MAX_BYTES + 1];
} sc_http_basic_auth;

/* Parse an Authorization value "Basic <base64(user:password)>". The scheme
 * name is case-insensitive (RFC 7617 §2; Icecast 2.4 accepts only "Basic "
 * and is lenient with bad Base64 instead); the user ends at the first ':'.
 * Decoded bytes 0x00 are refused. Returns SC_OK, SC_ERR_NOT_FOUND (another
 * scheme), SC_ERR_INVALID or SC_ERR_TOO_LARGE. */
int sc_http_basic_auth_parse(sc_http_slice value, sc_http_basic_auth *out);

/* Compare two byte strings in time that depends only on their lengths, so a
 * remote guesser learns nothing from the reply delay but the length. */
bool sc_http_secret_eq(const void *a, size_t alen, const void *b, size_t blen);

/* ------------------------------------------------------------------------ */
/* Query strings and percent-decoding                                        */

/* Decode %XX escapes (and '+' as a space when plus_is_space) from in into
 * out, stopping at a '#' as Icecast does. Decoded NUL bytes are refused.
 * Writes a NUL after the text. Returns the decoded length, SC_ERR_INVALID (a
 * bad escape) or SC_ERR_NOBUF. */
int sc_http_percent_decode(const char *in, size_t inlen, bool plus_is_space, char *out,
                           size_t cap);

typedef struct {
  sc_http_slice name;  /* raw, not decoded (as Icecast) */
  sc_http_slice value; /* raw; decode with sc_http_query_value */
} sc_http_query_param;

typedef struct {
  size_t count;
  sc_http_query_param params[SC_HTTP_QUERY_PARAMS_MAX];
} sc_http_query;

/* Split a query string ("a=1&b=2") into name/value slices. Pairs without
 * '=' are skipped, as Icecast does. Returns SC_OK, or SC_ERR_FULL beyond
 * SC_HTTP_QUERY_PARAMS_MAX pairs. */
int sc_http_query_parse(sc_http_slice query, sc_http_query *out);

/* Decode the value of parameter name (the last one when it repeats) into out
 * with sc_http_percent_decode ('+' is a space). Returns the length,
 * SC_ERR_NOT_FOUND, SC_ERR_INVALID or SC_ERR_NOBUF. */
int sc_http_query_value(const sc_http_query *q, const char *name, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* What a request is (Icecast 2.4's dispatch in connection.c)                */

typedef enum {
  /* Close the connection without an answer: Icecast 2.4 does so for an
   * unknown method, a protocol other than HTTP or ICE, or a target that is
   * not an absolute path free of "//" and dot segments. */
  SC_HTTP_KIND_DROP = 0,
  SC_HTTP_KIND_SOURCE_PUT,      /* PUT: a source (Icecast 2.4 and later) */
  SC_HTTP_KIND_SOURCE_LEGACY,   /* SOURCE: a source (Icecast 1 and 2 clients) */
  SC_HTTP_KIND_ADMIN,           /* GET /admin/<command> */
  SC_HTTP_KIND_SHOUTCAST_ADMIN, /* GET /admin.cgi (SHOUTcast metadata update) */
  SC_HTTP_KIND_STATS,           /* STATS method (a stats stream, admin login) */
  SC_HTTP_KIND_LISTENER,        /* any other GET: a player or a file */
  SC_HTTP_KIND_UNKNOWN,         /* POST, HEAD, PLAY: 400 "unknown request" */
} sc_http_kind;

/* Classify a parsed request. */
sc_http_kind sc_http_classify(const sc_http_request *req);

/* True for libshout's first request (its "challenge"): a SOURCE or PUT
 * without Authorization that carries "Content-Length: 0" (and Connection:
 * Keep-Alive). libshout learns the server's methods from an Allow header in
 * the answer; Icecast 2.4 answers the plain 401 below, without Allow, and
 * libshout then logs in with SOURCE on a new connection. */
bool sc_http_is_libshout_probe(const sc_http_request *req);

/* Decode and check a request path the way Icecast's util_normalise_uri does:
 * it must start with '/', its escapes must be valid, and no segment may be
 * empty or made only of dots followed by another '/'. Stricter than Icecast:
 * decoded control bytes are refused. Writes the decoded path and a NUL.
 * Returns its length, SC_ERR_INVALID or SC_ERR_TOO_LARGE. */
int sc_http_mount_decode(sc_http_slice path, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Station info from ice-* / icy-* headers (Icecast's source.c)              */

typedef struct {
  char name[SC_HTTP_STATION_FIELD_MAX_BYTES + 1]; /* ice-name, icy-name */
  char description[SC_HTTP_STATION_FIELD_MAX_BYTES +
                   1];                             /* ice-description, icy-description */
  char genre[SC_HTTP_STATION_FIELD_MAX_BYTES + 1]; /* ice-genre, icy-genre */
  char url[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];   /* ice-url, icy-url */
  char bitrate[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];      /* ice-bitrate, icy-br */
  char audio_info[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];   /* ice-audio-info */
  char content_type[SC_HTTP_STATION_FIELD_MAX_BYTES + 1]; /* Content-Type */
  int public_flag; /* ice-public, icy-pub, x-audiocast-public, icy-public; 0 if absent */
  int metaint_bytes;  /* icy-metaint a source announces; 0 if absent */
  uint32_t truncated; /* bit i set: the i-th field above was cut at its bound */
} sc_http_station_info;

/* Collect station info from a source's headers (ice-* first, then the legacy
 * icy-* name, as Icecast reads them). Strings longer than the bound are cut
 * at a UTF-8 character boundary and flagged in truncated. */
void sc_http_station_info_parse(const sc_http_request *req, sc_http_station_info *out);

/* ------------------------------------------------------------------------ */
/* Source login decision (Icecast's connection.c and client.c)               */

typedef struct {
  const char *source_user;     /* "source" in Icecast unless a mount sets one */
  const char *source_password; /* NULL: every source is refused (401) */
  bool mount_in_use;           /* a source is already live on this mount */
  bool sources_full;           /* the configured source limit is reached */
} sc_http_source_policy;

typedef enum {
  SC_HTTP_SOURCE_OK = 0,          /* answer 200 (after 100 if expect_continue) */
  SC_HTTP_SOURCE_DROP,            /* close without an answer (bad mount) */
  SC_HTTP_SOURCE_UNAUTHORIZED,    /* 401, wrong or missing credentials */
  SC_HTTP_SOURCE_MOUNT_IN_USE,    /* 403 "Mountpoint in use" */
  SC_HTTP_SOURCE_NO_CONTENT_TYPE, /* 403 "No Content-type given" (PUT only) */
  SC_HTTP_SOURCE_TOO_MANY,        /* 403 "too many sources connected" */
} sc_http_source_outcome;

typedef struct {
  sc_http_source_outcome outcome;
  bool expect_continue;                    /* "Expect: 100-continue" present (any case) */
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1]; /* decoded mount ("" on DROP) */
} sc_http_source_decision;

/* Decide a PUT or SOURCE login in Icecast 2.4's order: mount path, then
 * credentials (user must equal source_user, password source_password; both
 * compared in constant time), then mount in use, then Content-Type (required
 * for PUT only; a SOURCE without one is taken as MP3, and any type is
 * accepted: Icecast 2.4.4 never sends "Content-type not supported"), then the
 * source limit. req must be of kind SOURCE_PUT or SOURCE_LEGACY. */
void sc_http_source_decide(const sc_http_request *req,
                           const sc_http_source_policy *policy,
                           sc_http_source_decision *out);

/* ------------------------------------------------------------------------ */
/* Responses, byte for byte as Icecast 2.4 writes them                       */

typedef struct {
  const char *server_id; /* Server header value, e.g. "Icecast 2.4.4" */
  const char *date;      /* Date header value (RFC 9110 §5.6.7, under 100 bytes), or
                          * NULL: no Date header */
} sc_http_server_info;

/* Every writer below writes into out[0..cap), returns the number of bytes
 * written (no NUL counted; one is written when it fits) or SC_ERR_NOBUF. */

/* "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n" */
int sc_http_write_continue(char *out, size_t cap);
/* "HTTP/1.0 200 OK\r\n\r\n": a source may start sending. */
int sc_http_write_source_ok(char *out, size_t cap);
/* The answer to a source login outcome other than OK and DROP: 401 with
 * WWW-Authenticate: Basic realm="Icecast2 Server" and a text/plain body, or
 * 403 with the reason as text/plain body. */
int sc_http_write_source_refusal(const sc_http_server_info *srv,
                                 sc_http_source_outcome outcome, char *out, size_t cap);
/* Icecast's client_send_error: status line, Server, Connection: Close,
 * Date, Content-Type (text/plain or text/html; charset=utf-8), for 401 the
 * WWW-Authenticate header, the no-cache headers, an empty line, and message
 * as plain text or inside Icecast's small HTML page. */
int sc_http_write_error(const sc_http_server_info *srv, int status, bool plain,
                        const char *message, char *out, size_t cap);
/* The text/xml answer of /admin/metadata (Content-Length included), e.g.
 * message "Metadata update successful", ret 1. */
int sc_http_write_admin_xml(const sc_http_server_info *srv, const char *message, int ret,
                            char *out, size_t cap);
/* The text/html success page of /admin.cgi. */
int sc_http_write_admin_html(const sc_http_server_info *srv, const char *message,
                             char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Players (listeners)                                                       */

/* Icecast's default ICY metadata interval (format_mp3.c). */
#define SC_HTTP_ICY_METAINT_DEFAULT_BYTES 16000

/* The player sent "Icy-MetaData: <n>" with n != 0. */
bool sc_http_wants_icy_metadata(const sc_http_request *listener);

/* Whether Icecast 2.4 would insert ICY metadata into a stream of this
 * Content-Type: every type but the Ogg and Matroska/WebM ones (those have
 * their own format handlers; all else goes through the MP3 one). */
bool sc_http_content_type_has_icy(const char *content_type);

/* The head Icecast 2.4 sends a player of a live mount: 200, Server,
 * Connection: Close, Date, the stream's Content-Type (no charset), the
 * no-cache headers, then the source's ice-* and icy-* headers relayed in
 * Icecast's order and spelling (ice-name -> icy-name:, ice-public ->
 * icy-pub:, ice-bitrate -> icy-br:, other ice-x / icy-x -> icy-x:, a
 * bitrate= inside ice-audio-info -> icy-br: plus ice-audio-info itself;
 * never ice-password or icy-metaint), Content-Length: 221183499 for Flash
 * and MSIE players of ICY-capable types, and icy-metaint when the player
 * asked for metadata, the type carries it and metaint_bytes > 0 (the
 * mount's interval: the source's icy-metaint, else
 * SC_HTTP_ICY_METAINT_DEFAULT_BYTES). source is the source's parsed head
 * (SHOUTcast heads too); content_type what the source sent, "audio/mpeg" if
 * nothing. Sets *metaint_out to the interval to use (0: no metadata). */
int sc_http_write_listener_head(const sc_http_server_info *srv,
                                const sc_http_request *source, const char *content_type,
                                const sc_http_request *listener, int metaint_bytes,
                                int *metaint_out, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Admin metadata updates                                                    */

typedef enum {
  SC_HTTP_META_OK = 0,          /* update the title; answer the success page */
  SC_HTTP_META_UNAUTHORIZED,    /* 401 */
  SC_HTTP_META_MISSING_PASS,    /* admin.cgi without pass: 400 "missing pass parameter" */
  SC_HTTP_META_NO_SOURCE,       /* 400 "Source does not exist" */
  SC_HTTP_META_NOT_SHOUTCAST,   /* admin.cgi on a non-SHOUTcast source: 400 "illegal
                                 * metadata call" */
  SC_HTTP_META_MISSING_PARAM,   /* mode (or admin.cgi's song) absent: 400 "Missing
                                 * parameter" */
  SC_HTTP_META_BAD_MODE,        /* mode other than updinfo: XML "No such action" with
                                 * return 0, or for admin.cgi 400 "No such action" */
  SC_HTTP_META_UNKNOWN_COMMAND, /* /admin/<other>: 400 "Unrecognised command" */
  SC_HTTP_META_NO_MOUNT,        /* /admin/metadata without mount=, admin login ok:
                                 * 400 "Unknown admin request" */
  SC_HTTP_META_TOO_LONG,        /* a value over its bound (not Icecast: its head limit
                                 * keeps such values out): 400 "Metadata too long" */
} sc_http_meta_outcome;

/* What the caller's mount table says of a mount. */
typedef enum {
  SC_HTTP_MOUNT_NONE = 0,       /* no live source */
  SC_HTTP_MOUNT_LIVE,           /* a source that logged in over HTTP */
  SC_HTTP_MOUNT_LIVE_SHOUTCAST, /* a source that logged in with SHOUTcast v1 */
} sc_http_mount_state;

typedef struct {
  const char *source_user;     /* "source" */
  const char *source_password; /* NULL: no source login */
  const char *admin_user;      /* NULL: no admin login */
  const char *admin_password;
  sc_http_mount_state (*mount_state)(void *user, const char *mount);
  void *user;
  /* The mount an /admin.cgi update applies to (Icecast's shoutcast-mount;
   * Icecast ignores any mount= of that request). */
  const char *shoutcast_mount;
} sc_http_meta_policy;

typedef struct {
  sc_http_meta_outcome outcome;
  bool shoutcast; /* the request was /admin.cgi: HTML answers, not XML */
  bool has_song;  /* an update carries a title (else OK changes nothing) */
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
  /* The new title: song=, or "artist - title" from artist= and title=; fits
   * an ICY block with its "StreamTitle='';" frame. */
  char song[SC_HTTP_ICY_META_MAX_BYTES - 16 + 1];
  char charset[64]; /* decoded charset= value, or "" */
} sc_http_meta_request;

/* Decide a metadata update: GET /admin/metadata?mount=&mode=updinfo&song=
 * (or artist= and title=, joined "artist - title"; charset= optional) with
 * the source's or the admin's Basic credentials, or GET
 * /admin.cgi?pass=&mode=updinfo&song= (SHOUTcast; the password alone, on the
 * SHOUTcast mount). req must be of kind ADMIN or SHOUTCAST_ADMIN. Every
 * /admin/ command but metadata gets UNKNOWN_COMMAND, Icecast's answer to a
 * command it does not know (libshout's "GET /admin/!POKE" probe gets it);
 * a server that implements more commands dispatches them first. Not
 * modelled: Icecast's refusal ("Mountpoint will not accept URL updates")
 * of an update from another address than the source's without admin
 * credentials, and its conversion of the title from charset= to the
 * mount's charset (ISO8859-1 for MP3 unless configured). */
void sc_http_meta_decide(const sc_http_request *req, const sc_http_meta_policy *policy,
                         sc_http_meta_request *out);

/* Icecast 2.4's answer to a metadata outcome. */
int sc_http_write_meta_response(const sc_http_server_info *srv,
                                const sc_http_meta_request *meta, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* SHOUTcast v1 source protocol (Icecast's port + 1)                         */

/* The password is the whole first line: Icecast 2.4 compares it with the
 * source password as is ("pass:#mount" is not understood), answers
 * "OK2\r\nicy-caps:11\r\n\r\n" when it matches and closes the connection
 * without a byte when it does not. Header lines (icy-name:, icy-genre:,
 * icy-br:, icy-pub:, icy-url:, ...) follow until an empty line; the stream
 * follows that. Line ends: LF, CRLF, or CR CR LF (nsvcap). */
#define SC_HTTP_SHOUTCAST_OK "OK2\r\nicy-caps:11\r\n\r\n"

/* Read one line from buf[0..len): sets *line to its content (line end
 * excluded) and returns the bytes consumed, or SC_HTTP_INCOMPLETE, or
 * SC_HTTP_ERR_LINE_TOO_LONG when no line end comes within
 * SC_HTTP_SHOUTCAST_LINE_MAX_BYTES. */
int sc_http_shoutcast_line(const char *buf, size_t len, sc_http_slice *line);

/* Split a SHOUTcast header line "name:value" (value with leading spaces
 * removed). Returns SC_OK or SC_ERR_INVALID (no ':' or empty name). */
int sc_http_shoutcast_header(sc_http_slice line, sc_http_header *out);

/* The header lines after the password line, up to and including the empty
 * line, into req->headers (method, target and protocol stay empty). Returns
 * their length (the stream starts there), SC_HTTP_INCOMPLETE,
 * SC_HTTP_ERR_LINE_TOO_LONG, SC_HTTP_ERR_TOO_MANY_HEADERS, or
 * SC_HTTP_ERR_HEAD_TOO_LARGE beyond head_max_bytes (0:
 * SC_HTTP_HEAD_MAX_BYTES). Lines without ':' are skipped, as Icecast's
 * parser skips them. On an error or INCOMPLETE, req is untouched.
 *
 * A server reads the password line alone (sc_http_shoutcast_line), answers
 * SC_HTTP_SHOUTCAST_OK at once when it matches (SHOUTcast encoders wait for
 * it before they send their header lines; libshout sends everything at
 * once), then reads the header lines with this function. */
int sc_http_shoutcast_headers(const char *buf, size_t len, size_t head_max_bytes,
                              sc_http_request *req);

/* Both steps on a buffer that holds the whole head: the password line into
 * *password, then sc_http_shoutcast_headers. Returns the head's length or
 * the first error; head_max_bytes bounds the whole head. */
int sc_http_shoutcast_parse(const char *buf, size_t len, size_t head_max_bytes,
                            sc_http_slice *password, sc_http_request *req);

/* ------------------------------------------------------------------------ */
/* ICY in-stream metadata                                                    */

/* Build the metadata block Icecast inserts every icy-metaint bytes:
 * one length byte n, then 16 * n bytes holding "StreamTitle='<title>';"
 * (and "StreamUrl='<url>';" when url is not NULL) padded with NUL bytes; at
 * least one NUL always follows the text, as in Icecast's mp3_set_title.
 * Icecast does not escape quotes and drops (does not truncate) a title that
 * does not fit; so does this: SC_ERR_TOO_LARGE. Returns the block's size
 * (1 + 16 * n) or SC_ERR_NOBUF. */
int sc_http_icy_meta_build(const char *title, size_t title_len, const char *url,
                           size_t url_len, uint8_t *out, size_t cap);

/* The empty block a listener receives between title changes: one 0 byte. */
#define SC_HTTP_ICY_META_EMPTY_BYTES 1

typedef struct {
  sc_http_slice title; /* StreamTitle value, into the caller's block */
  sc_http_slice url;   /* StreamUrl value, or empty */
  bool has_title;
} sc_http_icy_meta;

/* Parse a metadata block from an upstream stream: buf starts at the length
 * byte. Returns the block's size (1 + 16 * n; 1 for an empty block),
 * SC_HTTP_INCOMPLETE, or SC_ERR_INVALID when the text is not a sequence of
 * key='value'; fields (a value ends at the first "';"). Unknown keys are
 * skipped. */
int sc_http_icy_meta_parse(const uint8_t *buf, size_t len, sc_http_icy_meta *out);

#endif
