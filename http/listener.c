/*
 * listener.c — the response head Icecast 2.4 sends a player (format.c's
 * format_prepare_headers and format_mp3.c's create_client_data).
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Bytewise order of lower-cased names: Icecast keeps a request's headers in
 * an AVL tree keyed that way and walks it in order. */
static int name_cmp(sc_http_slice a, sc_http_slice b) {
  size_t n = a.len < b.len ? a.len : b.len;
  for (size_t i = 0; i < n; i++) {
    int x = lower((unsigned char)a.ptr[i]), y = lower((unsigned char)b.ptr[i]);
    if (x != y) return x - y;
  }
  return a.len < b.len ? -1 : a.len > b.len;
}

static bool prefix_nocase(sc_http_slice s, const char *p) {
  size_t n = strlen(p);
  return s.len >= n && sc_http_slice_eq_nocase((sc_http_slice){s.ptr, n}, p);
}

bool sc_http_wants_icy_metadata(const sc_http_request *listener) {
  const sc_http_slice *v = sc_http_header_find(listener, "icy-metadata");
  if (v == NULL) return false;
  /* atoi(value) != 0 */
  size_t i = 0;
  if (i < v->len && (v->ptr[i] == '+' || v->ptr[i] == '-')) i++;
  for (; i < v->len && v->ptr[i] >= '0' && v->ptr[i] <= '9'; i++)
    if (v->ptr[i] != '0') return true;
  return false;
}

bool sc_http_content_type_has_icy(const char *content_type) {
  /* Icecast 2.4 runs Ogg and Matroska/WebM streams through their own
   * format handlers and everything else through the MP3 one, which alone
   * inserts ICY metadata (format.c: format_get_type). */
  static const char *const own[] = {
      "application/x-ogg", "application/ogg",  "audio/ogg",
      "video/ogg",         "audio/webm",       "video/webm",
      "audio/x-matroska",  "video/x-matroska", "video/x-matroska-3d"};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    if (strcmp(content_type, own[i]) == 0) return false;
  return true;
}

/* One source header as Icecast relays it to players; 0 when it does not. */
static int relay_header(sc_http_header h, bool *br_done, char *out, size_t cap) {
  const char *p = h.value.ptr;
  int vl = (int)h.value.len;
  if (sc_http_slice_eq_nocase(h.name, "ice-audio-info")) {
    /* "bitrate=N" inside ice-audio-info becomes icy-br (once), and the
     * header itself follows under its own name. */
    int n = 0;
    if (!*br_done) {
      for (size_t i = 0; i + 8 <= h.value.len; i++) {
        if (memcmp(p + i, "bitrate=", 8) != 0) continue;
        unsigned long br = 0;
        size_t k = i + 8, d = k;
        while (k < h.value.len && p[k] >= '0' && p[k] <= '9' && br <= 0xffffffffUL)
          br = br * 10 + (unsigned long)(p[k++] - '0');
        if (k > d && br <= 0xffffffffUL) {
          n = snprintf(out, cap, "icy-br:%lu\r\n", br);
          if (n < 0 || (size_t)n >= cap) return SC_ERR_NOBUF;
          *br_done = true;
        }
        break;
      }
    }
    int m = snprintf(out + n, cap - (size_t)n, "ice-audio-info: %.*s\r\n", vl, p);
    return m < 0 || (size_t)m >= cap - (size_t)n ? SC_ERR_NOBUF : n + m;
  }
  if (sc_http_slice_eq_nocase(h.name, "ice-password") ||
      sc_http_slice_eq_nocase(h.name, "icy-metaint"))
    return 0;
  int n;
  if (sc_http_slice_eq_nocase(h.name, "ice-name"))
    n = snprintf(out, cap, "icy-name:%.*s\r\n", vl, p);
  else if (sc_http_slice_eq_nocase(h.name, "ice-public"))
    n = snprintf(out, cap, "icy-pub:%.*s\r\n", vl, p);
  else if (sc_http_slice_eq_nocase(h.name, "ice-bitrate"))
    n = snprintf(out, cap, "icy-br:%.*s\r\n", vl, p);
  else if (prefix_nocase(h.name, "ice-") || prefix_nocase(h.name, "icy-")) {
    /* "icy" + the rest of the name, lower-cased as Icecast stores it. */
    if (cap < 4 + h.name.len) return SC_ERR_NOBUF;
    memcpy(out, "icy", 3);
    for (size_t i = 3; i < h.name.len; i++)
      out[i] = (char)lower((unsigned char)h.name.ptr[i]);
    size_t o = h.name.len;
    int m = snprintf(out + o, cap - o, ":%.*s\r\n", vl, p);
    return m < 0 || (size_t)m >= cap - o ? SC_ERR_NOBUF : (int)o + m;
  } else
    return 0;
  return n < 0 || (size_t)n >= cap ? SC_ERR_NOBUF : n;
}

int sc_http_write_listener_head(const sc_http_server_info *srv,
                                const sc_http_request *source, const char *content_type,
                                const sc_http_request *listener, int metaint_bytes,
                                int *metaint_out, char *out, size_t cap) {
  *metaint_out = 0;
  char date[128] = "";
  if (srv->date != NULL) {
    int d = snprintf(date, sizeof date, "Date: %s\r\n", srv->date);
    if (d < 0 || (size_t)d >= sizeof date) return SC_ERR_INVALID;
  }
  int n = snprintf(out, cap,
                   "HTTP/1.0 200 OK\r\nServer: %s\r\nConnection: Close\r\n%s"
                   "Content-Type: %s\r\n"
                   "Cache-Control: no-cache, no-store\r\n"
                   "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
                   "Pragma: no-cache\r\n",
                   srv->server_id, date, content_type);
  if (n < 0 || (size_t)n >= cap) return SC_ERR_NOBUF;
  size_t o = (size_t)n;

  /* The source's headers in name order; of a repeated name (any case) the
   * last one, and none with an empty value (Icecast keeps neither). */
  size_t order[SC_HTTP_HEADERS_MAX], count = 0;
  for (size_t i = 0; i < source->header_count; i++) {
    const sc_http_header *h = &source->headers[i];
    if (h->value.len == 0) continue;
    bool later = false;
    for (size_t j = i + 1; j < source->header_count && !later; j++)
      later = source->headers[j].value.len > 0 &&
              name_cmp(source->headers[j].name, h->name) == 0;
    if (later) continue;
    size_t k = count++;
    while (k > 0 && name_cmp(source->headers[order[k - 1]].name, h->name) > 0) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = i;
  }
  bool br_done = false;
  for (size_t i = 0; i < count; i++) {
    int w = relay_header(source->headers[order[i]], &br_done, out + o, cap - o);
    if (w < 0) return w;
    o += (size_t)w;
  }

  const char *extra = "";
  const sc_http_slice *ua = sc_http_header_find(listener, "user-agent");
  bool msie = false;
  for (size_t i = 0; ua != NULL && i + 4 <= ua->len && !msie; i++)
    msie = memcmp(ua->ptr + i, "MSIE", 4) == 0;
  bool icy = sc_http_content_type_has_icy(content_type);
  /* Icecast's workaround for Flash and Internet Explorer players, which
   * want a length (format_mp3.c). */
  if (icy && (sc_http_header_find(listener, "x-flash-version") != NULL || msie))
    extra = "Content-Length: 221183499\r\n";
  int metaint = 0;
  if (icy && metaint_bytes > 0 && sc_http_wants_icy_metadata(listener))
    metaint = metaint_bytes;
  if (metaint > 0)
    n = snprintf(out + o, cap - o, "%sicy-metaint:%d\r\n\r\n", extra, metaint);
  else
    n = snprintf(out + o, cap - o, "%s\r\n", extra);
  if (n < 0 || (size_t)n >= cap - o) return SC_ERR_NOBUF;
  *metaint_out = metaint;
  return (int)(o + (size_t)n);
}
