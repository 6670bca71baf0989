/*
 * request.c — the request-head parser, header lookup, classification and
 * mount-path check.
 */
#include "http/http.h"

#include <string.h>

#include "core/err.h"

const char *sc_http_strerror(int code) {
  switch (code) {
  case SC_HTTP_INCOMPLETE:
    return "incomplete request head";
  case SC_HTTP_ERR_REQUEST_LINE:
    return "malformed request line";
  case SC_HTTP_ERR_HEADER:
    return "malformed header line";
  case SC_HTTP_ERR_TOO_MANY_HEADERS:
    return "too many header lines";
  case SC_HTTP_ERR_HEAD_TOO_LARGE:
    return "request head too large";
  case SC_HTTP_ERR_LINE_TOO_LONG:
    return "line too long";
  default:
    return sc_strerror(code);
  }
}

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool sc_http_slice_eq_nocase(sc_http_slice s, const char *str) {
  size_t n = strlen(str);
  if (s.len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)s.ptr[i]) != lower((unsigned char)str[i])) return false;
  return true;
}

/* RFC 9110 §5.6.2 token characters. */
static bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes (RFC 9110 §5.5): visible ASCII, SP, HTAB and obs-text. */
static bool is_vchar_or_ws(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Find the end of the head within buf[0..len): the index just past the empty
 * line, or 0 if there is none yet. An empty line is LF LF, or LF CR LF. */
static size_t find_head_end(const char *buf, size_t len, bool *lf_only) {
  for (size_t i = 0; i + 1 < len; i++) {
    if (buf[i] != '\n') continue;
    if (buf[i + 1] == '\n') {
      *lf_only = true;
      return i + 2;
    }
    if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
      *lf_only = false;
      return i + 3;
    }
  }
  return 0;
}

/* The next line of buf[*pos..end): its content without CR LF or LF. The head
 * end was found, so a LF always comes; a CR anywhere but before the LF makes
 * the line malformed (returns false). */
static bool next_line(const char *buf, size_t end, size_t *pos, sc_http_slice *line) {
  size_t start = *pos, i = start;
  while (i < end && buf[i] != '\n')
    i++;
  if (i >= end) return false;
  size_t stop = i;
  if (stop > start && buf[stop - 1] == '\r') stop--;
  for (size_t k = start; k < stop; k++)
    if (buf[k] == '\r') return false;
  line->ptr = buf + start;
  line->len = stop - start;
  *pos = i + 1;
  return true;
}

static bool slice_eq(sc_http_slice s, const char *str) {
  size_t n = strlen(str);
  return s.len == n && memcmp(s.ptr, str, n) == 0;
}

static int parse_version(const char *p, size_t n, sc_http_request *req) {
  /* PROTOCOL "/" DIGIT "." DIGIT */
  size_t slash = 0;
  while (slash < n && p[slash] != '/')
    slash++;
  if (slash == 0 || slash == n) return SC_HTTP_ERR_REQUEST_LINE;
  req->protocol.ptr = p;
  req->protocol.len = slash;
  /* Icecast compares the protocol name case-sensitively (connection.c). */
  if (!slice_eq(req->protocol, "HTTP") && !slice_eq(req->protocol, "ICE"))
    return SC_HTTP_ERR_REQUEST_LINE;
  if (n - slash != 4 || p[slash + 1] < '0' || p[slash + 1] > '9' || p[slash + 2] != '.' ||
      p[slash + 3] < '0' || p[slash + 3] > '9')
    return SC_HTTP_ERR_REQUEST_LINE;
  req->version_major = p[slash + 1] - '0';
  req->version_minor = p[slash + 3] - '0';
  return SC_OK;
}

static int parse_request_line(sc_http_slice line, sc_http_request *req) {
  const char *p = line.ptr;
  size_t n = line.len, i = 0;
  while (i < n && is_tchar((unsigned char)p[i]))
    i++;
  if (i == 0 || i >= n || p[i] != ' ') return SC_HTTP_ERR_REQUEST_LINE;
  req->method.ptr = p;
  req->method.len = i;
  size_t t = ++i;
  while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
    i++;
  if (i == t || i >= n || p[i] != ' ') return SC_HTTP_ERR_REQUEST_LINE;
  req->target.ptr = p + t;
  req->target.len = i - t;
  i++;
  int rc = parse_version(p + i, n - i, req);
  if (rc != SC_OK) return rc;
  req->path = req->target;
  req->query.ptr = req->target.ptr + req->target.len;
  req->query.len = 0;
  for (size_t k = 0; k < req->target.len; k++) {
    if (req->target.ptr[k] == '?') {
      req->path.len = k;
      req->query.ptr = req->target.ptr + k + 1;
      req->query.len = req->target.len - k - 1;
      break;
    }
  }
  return SC_OK;
}

static int parse_header_line(sc_http_slice line, sc_http_header *h) {
  const char *p = line.ptr;
  size_t n = line.len, i = 0;
  while (i < n && is_tchar((unsigned char)p[i]))
    i++;
  /* No space before the colon (RFC 9112 §5.1), no obs-fold, no empty name. */
  if (i == 0 || i >= n || p[i] != ':') return SC_HTTP_ERR_HEADER;
  h->name.ptr = p;
  h->name.len = i;
  i++;
  for (size_t k = i; k < n; k++)
    if (!is_vchar_or_ws((unsigned char)p[k])) return SC_HTTP_ERR_HEADER;
  while (i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  size_t e = n;
  while (e > i && (p[e - 1] == ' ' || p[e - 1] == '\t'))
    e--;
  h->value.ptr = p + i;
  h->value.len = e - i;
  return SC_OK;
}

int sc_http_parse_request(const char *buf, size_t len, size_t head_max_bytes,
                          sc_http_request *req) {
  if (head_max_bytes == 0 || head_max_bytes > SC_HTTP_HEAD_MAX_BYTES)
    head_max_bytes = SC_HTTP_HEAD_MAX_BYTES;
  size_t scan = len < head_max_bytes ? len : head_max_bytes;
  bool lf_only = false;
  size_t end = find_head_end(buf, scan, &lf_only);
  if (end == 0)
    return len >= head_max_bytes ? SC_HTTP_ERR_HEAD_TOO_LARGE : SC_HTTP_INCOMPLETE;

  memset(req, 0, sizeof *req);
  req->lf_only = lf_only;
  size_t pos = 0;
  sc_http_slice line;
  if (!next_line(buf, end, &pos, &line)) return SC_HTTP_ERR_REQUEST_LINE;
  int rc = parse_request_line(line, req);
  if (rc != SC_OK) return rc;
  for (;;) {
    if (!next_line(buf, end, &pos, &line)) return SC_HTTP_ERR_HEADER;
    if (line.len == 0) break;
    if (req->header_count == SC_HTTP_HEADERS_MAX) return SC_HTTP_ERR_TOO_MANY_HEADERS;
    rc = parse_header_line(line, &req->headers[req->header_count]);
    if (rc != SC_OK) return rc;
    req->header_count++;
  }
  return (int)end;
}

const sc_http_slice *sc_http_header_find(const sc_http_request *req, const char *name) {
  for (size_t i = req->header_count; i-- > 0;)
    if (sc_http_slice_eq_nocase(req->headers[i].name, name))
      return &req->headers[i].value;
  return NULL;
}

static bool slice_prefix(sc_http_slice s, const char *str) {
  size_t n = strlen(str);
  return s.len >= n && memcmp(s.ptr, str, n) == 0;
}

sc_http_kind sc_http_classify(const sc_http_request *req) {
  /* Icecast matches methods case-insensitively (httpp.c). */
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
  const sc_http_slice m = req->method;
  bool put = sc_http_slice_eq_nocase(m, "PUT"),
       source = sc_http_slice_eq_nocase(m, "SOURCE");
  bool get = sc_http_slice_eq_nocase(m, "GET");
  bool known = put || source || get || sc_http_slice_eq_nocase(m, "STATS") ||
               sc_http_slice_eq_nocase(m, "POST") || sc_http_slice_eq_nocase(m, "HEAD") ||
               sc_http_slice_eq_nocase(m, "PLAY");
  if (!known) return SC_HTTP_KIND_DROP;
  /* Every path goes through util_normalise_uri before dispatch. */
  if (sc_http_mount_decode(req->path, mount, sizeof mount) < 0) return SC_HTTP_KIND_DROP;
  if (put) return SC_HTTP_KIND_SOURCE_PUT;
  if (source) return SC_HTTP_KIND_SOURCE_LEGACY;
  if (sc_http_slice_eq_nocase(m, "STATS")) return SC_HTTP_KIND_STATS;
  if (!get) return SC_HTTP_KIND_UNKNOWN;
  /* Icecast dispatches on the raw path, before decoding. */
  if (slice_eq(req->path, "/admin.cgi")) return SC_HTTP_KIND_SHOUTCAST_ADMIN;
  if (slice_prefix(req->path, "/admin/")) return SC_HTTP_KIND_ADMIN;
  return SC_HTTP_KIND_LISTENER;
}

bool sc_http_is_libshout_probe(const sc_http_request *req) {
  if (!sc_http_slice_eq_nocase(req->method, "SOURCE") &&
      !sc_http_slice_eq_nocase(req->method, "PUT"))
    return false;
  if (sc_http_header_find(req, "authorization") != NULL) return false;
  const sc_http_slice *cl = sc_http_header_find(req, "content-length");
  return cl != NULL && cl->len == 1 && cl->ptr[0] == '0';
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sc_http_percent_decode(const char *in, size_t inlen, bool plus_is_space, char *out,
                           size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < inlen; i++) {
    int c = (unsigned char)in[i];
    if (c == '#') break;
    if (c == '%') {
      if (i + 2 >= inlen) return SC_ERR_INVALID;
      int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
      if (h < 0 || l < 0) return SC_ERR_INVALID;
      c = h * 16 + l;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == 0) return SC_ERR_INVALID;
    if (o + 1 >= cap) return SC_ERR_NOBUF;
    out[o++] = (char)c;
  }
  if (cap == 0) return SC_ERR_NOBUF;
  out[o] = '\0';
  return (int)o;
}

int sc_http_mount_decode(sc_http_slice path, char *out, size_t cap) {
  if (path.len == 0 || path.ptr[0] != '/') return SC_ERR_INVALID;
  if (cap > SC_HTTP_MOUNT_MAX_BYTES + 1) cap = SC_HTTP_MOUNT_MAX_BYTES + 1;
  int n = sc_http_percent_decode(path.ptr, path.len, false, out, cap);
  if (n == SC_ERR_NOBUF) return SC_ERR_TOO_LARGE;
  if (n < 0) return n;
  /* Icecast's verify_path: '/' and '\\' separate segments; an empty segment
   * or a segment of dots followed by a separator is refused. */
  bool after_sep = false, dots = false;
  for (int i = 0; i < n; i++) {
    unsigned char c = (unsigned char)out[i];
    if (c < 0x20 || c == 0x7f) return SC_ERR_INVALID;
    if (c == '/' || c == '\\') {
      if (dots || after_sep) return SC_ERR_INVALID;
      after_sep = true;
      continue;
    }
    if (after_sep || dots) dots = c == '.';
    after_sep = false;
  }
  return n;
}
