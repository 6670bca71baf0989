/*
 * playlist.h — answers that point a player at a stream: the /mount.m3u,
 * /mount.pls and /mount.xspf playlists, and a plain answer head in
 * Icecast 2.4's shape for other whole answers. Pure writers, as http.h's.
 */
#ifndef SC_HTTP_PLAYLIST_H
#define SC_HTTP_PLAYLIST_H

#include <stddef.h>

#include "http/http.h"

/* The largest playlist answer (head and body; strings are bounded). */
#define SC_HTTP_PLAYLIST_MAX_BYTES 8192

typedef struct sc_http_playlist_entry {
  const char *host;         /* "ADDR:PORT" the player reaches the server at */
  const char *mount;        /* "/live.opus" */
  const char *name;         /* the station's name, or "" */
  const char *title;        /* now playing, or "" */
  const char *content_type; /* the stream's, or "" */
} sc_http_playlist_entry;

/* The head of a whole answer as Icecast's util_http_build_header writes it:
 * "HTTP/1.0 <status> <reason>", Server, Connection: Close, Date,
 * Content-Type (as given), Content-Length when content_length >= 0, the
 * no-cache headers, extra (may be ""), the empty line.
 * Returns the length or SC_ERR_NOBUF / SC_ERR_INVALID. */
int sc_http_write_head(const sc_http_server_info *srv, int status,
                       const char *content_type, long long content_length,
                       const char *extra, char *out, size_t cap);

/* Icecast 2.4's /mount.m3u: audio/x-mpegurl, "http://HOST/mount\r\n". */
int sc_http_write_m3u(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                      char *out, size_t cap);
/* A PLS playlist (audio/x-scpls; Icecast 2.4 has none, SHOUTcast's shape):
 * [playlist], File1, Title1, Length1=-1, NumberOfEntries=1, Version=2. */
int sc_http_write_pls(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                      char *out, size_t cap);
/* An XSPF playlist (application/xspf+xml) in the shape of Icecast 2.4's
 * xspf.xsl: one track, its location the stream, its annotation the
 * station's name and type. Text is XML-escaped. */
int sc_http_write_xspf(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                       char *out, size_t cap);

#endif
