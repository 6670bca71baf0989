/*
 * shoutcast.c — the SHOUTcast v1 source protocol as Icecast 2.4 reads it on
 * its port + 1: a password line, header lines, an empty line, the stream.
 */
#include "http/http.h"

#include "core/err.h"

int sc_http_shoutcast_line(const char *buf, size_t len, sc_http_slice *line) {
  size_t limit = SC_HTTP_SHOUTCAST_LINE_MAX_BYTES + 3; /* content + CR CR LF */
  for (size_t i = 0; i < len && i < limit; i++) {
    if (buf[i] != '\n') continue;
    /* LF, CR LF, or nsvcap's CR CR LF (connection.c). */
    size_t stop = i;
    for (int k = 0; k < 2 && stop > 0 && buf[stop - 1] == '\r'; k++)
      stop--;
    if (stop > SC_HTTP_SHOUTCAST_LINE_MAX_BYTES) return SC_HTTP_ERR_LINE_TOO_LONG;
    line->ptr = buf;
    line->len = stop;
    return (int)(i + 1);
  }
  return len >= limit ? SC_HTTP_ERR_LINE_TOO_LONG : SC_HTTP_INCOMPLETE;
}

int sc_http_shoutcast_header(sc_http_slice line, sc_http_header *out) {
  size_t i = 0;
  while (i < line.len && line.ptr[i] != ':')
    i++;
  if (i == 0 || i == line.len) return SC_ERR_INVALID;
  out->name.ptr = line.ptr;
  out->name.len = i;
  i++;
  /* Icecast's parser skips spaces after the colon only. */
  while (i < line.len && line.ptr[i] == ' ')
    i++;
  size_t e = line.len;
  while (e > i && (line.ptr[e - 1] == ' ' || line.ptr[e - 1] == '\t'))
    e--;
  out->value.ptr = line.ptr + i;
  out->value.len = e - i;
  return SC_OK;
}

int sc_http_shoutcast_headers(const char *buf, size_t len, size_t head_max_bytes,
                              sc_http_request *req) {
  if (head_max_bytes == 0 || head_max_bytes > SC_HTTP_HEAD_MAX_BYTES)
    head_max_bytes = SC_HTTP_HEAD_MAX_BYTES;
  size_t scan = len < head_max_bytes ? len : head_max_bytes;
  size_t pos = 0, count = 0;
  sc_http_slice line;
  /* A first pass finds the end without writing req, so that an incomplete
   * or bad head leaves req as it was. */
  for (;;) {
    int rc = sc_http_shoutcast_line(buf + pos, scan - pos, &line);
    if (rc == SC_HTTP_INCOMPLETE && len >= head_max_bytes)
      return SC_HTTP_ERR_HEAD_TOO_LARGE;
    if (rc < 0) return rc;
    pos += (size_t)rc;
    if (line.len == 0) break;
    sc_http_header h;
    if (sc_http_shoutcast_header(line, &h) == SC_OK && ++count > SC_HTTP_HEADERS_MAX)
      return SC_HTTP_ERR_TOO_MANY_HEADERS;
  }
  *req = (sc_http_request){0};
  for (size_t p = 0;;) {
    p += (size_t)sc_http_shoutcast_line(buf + p, scan - p, &line);
    if (line.len == 0) break;
    if (sc_http_shoutcast_header(line, &req->headers[req->header_count]) == SC_OK)
      req->header_count++;
  }
  return (int)pos;
}

int sc_http_shoutcast_parse(const char *buf, size_t len, size_t head_max_bytes,
                            sc_http_slice *password, sc_http_request *req) {
  if (head_max_bytes == 0 || head_max_bytes > SC_HTTP_HEAD_MAX_BYTES)
    head_max_bytes = SC_HTTP_HEAD_MAX_BYTES;
  size_t scan = len < head_max_bytes ? len : head_max_bytes;
  sc_http_slice pass;
  int rc = sc_http_shoutcast_line(buf, scan, &pass);
  if (rc == SC_HTTP_INCOMPLETE && len >= head_max_bytes)
    return SC_HTTP_ERR_HEAD_TOO_LARGE;
  if (rc < 0) return rc;
  size_t first = (size_t)rc;
  if (first == head_max_bytes) /* no room left for the empty line */
    return SC_HTTP_ERR_HEAD_TOO_LARGE;
  int n =
      sc_http_shoutcast_headers(buf + first, len - first, head_max_bytes - first, req);
  if (n < 0) return n;
  *password = pass;
  return (int)first + n;
}
