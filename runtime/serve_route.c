/* serve_route.c — see serve.h: answer buffers, the route table, and what a
 * request head leads to (the mount, its playlists, routes, the ingest
 * server, Icecast's refusals). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "http/playlist.h"
#include "http/status.h"
#include "ingest.h"
#include "serve_priv.h"

/* ------------------------------------------------------------ buffers */

bool rt_serve_buf_put(rt_serve_buf *b, const void *data, size_t len) {
  if (b->overflow) return false;
  if (len > RT_SERVE_RESPONSE_MAX_BYTES - b->len) {
    b->overflow = true;
    return false;
  }
  if (b->cap - b->len < len + 1) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < len + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      b->overflow = true;
      return false;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return true;
}

bool rt_serve_buf_printf(rt_serve_buf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->overflow = true;
    return false;
  }
  if ((size_t)n < sizeof small) return rt_serve_buf_put(b, small, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->overflow = true;
    return false;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  bool ok = rt_serve_buf_put(b, big, (size_t)n);
  free(big);
  return ok;
}

int rt_serve_respond(const rt_serve_request *req, rt_serve_buf *out, int status,
                     const char *content_type, const char *extra_headers,
                     const void *body, size_t body_len) {
  char head[1024];
  int n = sc_http_write_head(req->srv, status, content_type, body_len,
                             extra_headers ? extra_headers : "", head, sizeof head);
  if (n < 0) return n;
  if (!rt_serve_buf_put(out, head, (size_t)n)) return SC_ERR_NOBUF;
  if (!req->head_only && body_len && !rt_serve_buf_put(out, body, body_len))
    return SC_ERR_NOBUF;
  return 0;
}

int rt_serve_respond_error(const rt_serve_request *req, rt_serve_buf *out, int status,
                           const char *message) {
  char buf[2048];
  /* Icecast's client_send_403 writes text/plain, its other errors HTML. */
  int n = sc_http_write_error(req->srv, status, status == 403, message, buf, sizeof buf);
  if (n < 0) return n;
  return rt_serve_buf_put(out, buf, (size_t)n) ? 0 : SC_ERR_NOBUF;
}

static void conn_answer_buf(serve_conn *c, rt_serve_buf *b) {
  char *d = b->data;
  b->data = NULL;
  serve_conn_answer(c, d, b->len);
}

static void conn_error(serve_conn *c, const rt_serve_request *req, int status,
                       const char *msg) {
  rt_serve_buf b = {0};
  if (rt_serve_respond_error(req, &b, status, msg) != 0) {
    free(b.data);
    serve_conn_close(c);
    return;
  }
  conn_answer_buf(c, &b);
}

/* ------------------------------------------------------------ routing */

int rt_serve_add_route(rt_serve *s, const char *pattern, rt_serve_handler_fn fn,
                       void *ctx) {
  size_t n = pattern ? strlen(pattern) : 0;
  if (n == 0 || pattern[0] != '/' || n > SC_HTTP_MOUNT_MAX_BYTES + 1 || !fn)
    return SC_ERR_INVALID;
  if (s->nroutes == RT_SERVE_ROUTES_MAX) return SC_ERR_FULL;
  serve_route *r = &s->routes[s->nroutes++];
  r->prefix = pattern[n - 1] == '*';
  r->len = r->prefix ? n - 1 : n;
  memcpy(r->pattern, pattern, r->len);
  r->pattern[r->len] = '\0';
  r->fn = fn;
  r->ctx = ctx;
  return 0;
}

static const serve_route *route_find(const rt_serve *s, const char *path) {
  size_t n = strlen(path);
  for (size_t i = 0; i < s->nroutes; i++) {
    const serve_route *r = &s->routes[i];
    if (r->prefix ? n >= r->len && memcmp(path, r->pattern, r->len) == 0
                  : n == r->len && memcmp(path, r->pattern, n) == 0)
      return r;
  }
  return NULL;
}

/* The Host a player reached us by, when it is a plain "name:port" (Icecast
 * takes it only with a port); else the bound address. */
static void request_host(const rt_serve *s, const sc_http_request *http, char *out,
                         size_t cap) {
  const sc_http_slice *h = sc_http_header_find(http, "host");
  bool ok = h && h->len > 0 && h->len < cap && memchr(h->ptr, ':', h->len);
  for (size_t i = 0; ok && i < h->len; i++) {
    char ch = h->ptr[i];
    ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' || ch == '[' ||
         ch == ']';
  }
  if (ok) {
    memcpy(out, h->ptr, h->len);
    out[h->len] = '\0';
  } else {
    snprintf(out, cap, "%s", s->bound);
  }
}

/* path is the mount followed by ext. */
static bool is_playlist(const rt_serve *s, const char *path, const char *ext) {
  size_t m = strlen(s->cfg.mount), e = strlen(ext);
  return strlen(path) == m + e && memcmp(path, s->cfg.mount, m) == 0 &&
         strcmp(path + m, ext) == 0;
}

static void serve_playlist(serve_conn *c, const rt_serve_request *req, int which) {
  rt_serve *s = c->s;
  char info_name[SC_HTTP_STATION_FIELD_MAX_BYTES + 1] = "";
  const char *info = s->reader ? sc_station_reader_info(s->reader) : "";
  sc_station_info_get(info, "name", info_name, sizeof info_name);
  sc_http_playlist_entry e = {.host = req->host,
                              .mount = s->cfg.mount,
                              .name = info_name,
                              .title =
                                  s->reader ? sc_station_reader_title(s->reader) : "",
                              .content_type = s->content_type};
  char *buf = malloc(SC_HTTP_PLAYLIST_MAX_BYTES);
  if (!buf) {
    serve_conn_close(c);
    return;
  }
  int n = which == 0 ? sc_http_write_m3u(req->srv, &e, buf, SC_HTTP_PLAYLIST_MAX_BYTES)
          : which == 1
              ? sc_http_write_pls(req->srv, &e, buf, SC_HTTP_PLAYLIST_MAX_BYTES)
              : sc_http_write_xspf(req->srv, &e, buf, SC_HTTP_PLAYLIST_MAX_BYTES);
  if (n < 0) {
    free(buf);
    conn_error(c, req, 500, "Internal Server Error");
    return;
  }
  if (req->head_only) {
    char *end = strstr(buf, "\r\n\r\n");
    if (end) n = (int)(end + 4 - buf);
  }
  serve_conn_answer(c, buf, (size_t)n);
}

static void serve_mount(serve_conn *c, const rt_serve_request *req) {
  rt_serve *s = c->s;
  if (!serve_station_known(s)) {
    s->st.not_found++;
    conn_error(c, req, 404, "The file you requested could not be found");
    return;
  }
  if (!req->head_only && s->nlisteners >= s->cfg.max_listeners) {
    /* Icecast's answer when a mount's max-listeners is reached. */
    s->st.refused_full++;
    serve_log(s, "player %s refused: %u listeners", c->addr, s->nlisteners);
    conn_error(c, req, 403, "max listeners reached");
    return;
  }
  char head[4096];
  int metaint = 0;
  int n = serve_station_head(s, req, head, sizeof head, &metaint);
  if (n < 0) {
    conn_error(c, req, 500, "Internal Server Error");
    return;
  }
  n = (int)serve_add_extra_headers(head, (size_t)n, sizeof head);
  if (req->head_only) {
    char *d = malloc((size_t)n);
    if (!d) {
      serve_conn_close(c);
      return;
    }
    memcpy(d, head, (size_t)n);
    serve_conn_answer(c, d, (size_t)n);
    return;
  }
  int sndbuf = RT_SERVE_SNDBUF_BYTES;
  (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  s->npending--;
  c->state = SERVE_STREAM;
  char *h = realloc(c->head, c->head_len ? c->head_len : 1);
  if (h) {
    c->head = h;
    c->head_cap = c->head_len;
  }
  s->nlisteners++;
  s->st.listeners++;
  if (s->nlisteners > s->st.listeners_peak) s->st.listeners_peak = s->nlisteners;
  c->metaint = metaint;
  c->meta_left = metaint;
  ev_timer_stop(s->loop, &c->timer);
  serve_log(s, "player %s on %s%s", c->addr, s->cfg.mount, metaint ? " (ICY)" : "");
  if (!serve_queue_put(c, head, (size_t)n)) {
    serve_conn_close(c);
    return;
  }
  serve_station_attach(s, c);
  if (c->dead || !serve_conn_flush(c)) serve_conn_close(c);
}

/* Whether an /admin request is the ingest server's (a title update). */
static bool ingest_path(const char *path) {
  return strcmp(path, "/admin/metadata") == 0 || strcmp(path, "/admin.cgi") == 0 ||
         strcmp(path, "/admin/metadata.xsl") == 0;
}

static void hand_to_ingest(serve_conn *c) {
  rt_serve *s = c->s;
  s->st.handed_to_ingest++;
  int fd = c->fd;
  c->fd = -1;
  if (rt_ingest_adopt(s->ingest, fd, c->addr, c->head, c->head_len) != 0) close(fd);
  serve_conn_close(c);
}

void serve_dispatch(serve_conn *c) {
  rt_serve *s = c->s;
  static sc_http_request http; /* large; single-threaded, used only here */
  int n =
      sc_http_parse_request(c->head, c->head_len, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &http);
  if (n == SC_HTTP_INCOMPLETE) return;
  char date[64], host[SC_HTTP_MOUNT_MAX_BYTES + 1], path[SC_HTTP_MOUNT_MAX_BYTES + 1];
  (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
  sc_http_server_info srv = {.server_id = RT_SERVE_SERVER_ID, .date = date};
  rt_serve_request req = {.http = &http,
                          .path = path,
                          .peer_addr = c->addr,
                          .host = host,
                          .srv = &srv,
                          .server = s};
  path[0] = '\0';
  snprintf(host, sizeof host, "%s", s->bound);
  if (n < 0) {
    /* Icecast closes on a head it cannot read; a clear 400 costs nothing. */
    s->st.bad_heads++;
    conn_error(c, &req, 400, "Bad Request");
    return;
  }
  sc_http_kind kind = sc_http_classify(&http);
  bool get = sc_http_slice_eq_nocase(http.method, "GET") &&
             (kind == SC_HTTP_KIND_LISTENER || kind == SC_HTTP_KIND_ADMIN ||
              kind == SC_HTTP_KIND_SHOUTCAST_ADMIN);
  bool head = sc_http_slice_eq_nocase(http.method, "HEAD");
  if (kind == SC_HTTP_KIND_SOURCE_PUT || kind == SC_HTTP_KIND_SOURCE_LEGACY) {
    if (s->ingest) {
      hand_to_ingest(c);
      return;
    }
    /* No source password: every source is refused, as Icecast refuses
     * one whose credentials do not match. */
    s->st.bad_methods++;
    rt_serve_buf b = {0};
    char buf[2048];
    int w =
        sc_http_write_source_refusal(&srv, SC_HTTP_SOURCE_UNAUTHORIZED, buf, sizeof buf);
    if (w < 0 || !rt_serve_buf_put(&b, buf, (size_t)w)) {
      free(b.data);
      serve_conn_close(c);
      return;
    }
    conn_answer_buf(c, &b);
    return;
  }
  if (kind == SC_HTTP_KIND_DROP &&
      (sc_http_slice_eq_nocase(http.method, "GET") || head) &&
      sc_http_mount_decode(http.path, path, sizeof path) < 0) {
    /* "..", "//", bad escapes, control bytes: Icecast closes; say why. */
    s->st.bad_paths++;
    conn_error(c, &req, 400, "Bad Request");
    return;
  }
  if (!get && !head) {
    s->st.bad_methods++;
    if (kind == SC_HTTP_KIND_DROP || kind == SC_HTTP_KIND_STATS)
      conn_error(c, &req, 400, "Bad Request");
    else
      conn_error(c, &req, 400, "unknown request");
    return;
  }
  if (sc_http_mount_decode(http.path, path, sizeof path) < 0) {
    /* "..", "//", bad escapes, control bytes: Icecast closes; say why. */
    s->st.bad_paths++;
    path[0] = '\0';
    conn_error(c, &req, 400, "Bad Request");
    return;
  }
  req.head_only = head;
  request_host(s, &http, host, sizeof host);
  if (get && s->ingest && ingest_path(path)) {
    hand_to_ingest(c);
    return;
  }
  const serve_route *r = route_find(s, path);
  if (r) {
    rt_serve_buf b = {0};
    int rv = r->fn(&req, r->ctx, &b);
    if (rv < 0 || b.overflow) {
      free(b.data);
      conn_error(c, &req, 500, "Internal Server Error");
      return;
    }
    if (head && b.data) {
      char *end = strstr(b.data, "\r\n\r\n");
      if (end) b.len = (size_t)(end + 4 - b.data);
    }
    conn_answer_buf(c, &b);
    return;
  }
  if (strcmp(path, s->cfg.mount) == 0) {
    serve_mount(c, &req);
    return;
  }
  static const char *const ext[] = {".m3u", ".pls", ".xspf"};
  for (int i = 0; i < 3; i++)
    if (is_playlist(s, path, ext[i])) {
      serve_playlist(c, &req, i);
      return;
    }
  s->st.not_found++;
  conn_error(c, &req, 404, "The file you requested could not be found");
}
