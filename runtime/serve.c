/* serve.c — see serve.h: connections, request heads, the route table. */
#define _GNU_SOURCE /* accept4 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "http/playlist.h"
#include "ingest.h"
#include "serve_priv.h"

uint64_t serve_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void serve_log(const rt_serve *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void serve_log(const rt_serve *s, const char *fmt, ...) {
  if (!s->cfg.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "stripecast[%d] serve: ", (int)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* The Date header value (RFC 9110 §5.6.7 IMF-fixdate), as Icecast sends. */
static void http_date(char *out, size_t cap) {
  static const char wday[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday % 7],
           tm.tm_mday, mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
           tm.tm_sec);
}

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
  int n = sc_http_write_error(req->srv, status, false, message, buf, sizeof buf);
  if (n < 0) return n;
  return rt_serve_buf_put(out, buf, (size_t)n) ? 0 : SC_ERR_NOBUF;
}

/* ------------------------------------------------------------ connections */

static void conn_set_events(serve_conn *c, int ev) {
  if (c->io.events == ev && ev_is_active(&c->io)) return;
  ev_io_stop(c->s->loop, &c->io);
  ev_io_set(&c->io, c->fd, ev);
  if (ev) ev_io_start(c->s->loop, &c->io);
}

/* Frees the slot; the fd is closed unless it was handed on (fd < 0). */
static void conn_free(serve_conn *c) {
  rt_serve *s = c->s;
  ev_io_stop(s->loop, &c->io);
  ev_timer_stop(s->loop, &c->timer);
  if (c->fd >= 0) close(c->fd);
  if (c->state == SERVE_HEAD) s->npending--;
  if (c->state == SERVE_STREAM) s->nlisteners--;
  s->conns[c->slot] = NULL;
  s->nconns--;
  free(c->ans);
  free(c->q);
  free(c);
}

void serve_conn_close(serve_conn *c) {
  conn_free(c);
}

static void conn_arm(serve_conn *c, uint64_t deadline_ns) {
  uint64_t now = serve_now_ns();
  c->deadline_ns = deadline_ns;
  ev_timer_stop(c->s->loop, &c->timer);
  ev_timer_set(&c->timer, deadline_ns > now ? (double)(deadline_ns - now) / 1e9 : 0.0,
               0.0);
  ev_timer_start(c->s->loop, &c->timer);
}

bool serve_conn_flush(serve_conn *c) {
  rt_serve *s = c->s;
  if (c->state == SERVE_ANSWER) {
    while (c->ans_off < c->ans_len) {
      ssize_t n = send(c->fd, c->ans + c->ans_off, c->ans_len - c->ans_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return false;
      }
      c->ans_off += (size_t)n;
      s->st.bytes_sent += (uint64_t)n;
    }
    if (c->ans_off == c->ans_len) return false; /* done: close */
    conn_set_events(c, EV_WRITE);
    return true;
  }
  while (c->qlen > 0) {
    size_t run = c->qcap - c->qhead < c->qlen ? c->qcap - c->qhead : c->qlen;
    ssize_t n = send(c->fd, c->q + c->qhead, run, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c->qhead = (c->qhead + (size_t)n) % c->qcap;
    c->qlen -= (size_t)n;
    s->st.bytes_sent += (uint64_t)n;
  }
  if (c->qlen == 0 && c->ending) return false;
  /* A player sends nothing after its head; reading tells of its close. */
  conn_set_events(c, EV_READ | (c->qlen ? EV_WRITE : 0));
  return true;
}

/* Where Icecast writes its configured <http-headers>: after the no-cache
 * headers (util_http_build_header). Returns the offset, or 0 when the head
 * has no such line or carries the extra headers already. */
static size_t extra_at(const char *data, size_t len) {
  static const char pragma[] = "Pragma: no-cache\r\n";
  const char *end = memmem(data, len, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - data) + 2;
  if (memmem(data, head, RT_SERVE_EXTRA_HEADERS, sizeof RT_SERVE_EXTRA_HEADERS - 1))
    return 0;
  const char *p = memmem(data, head, pragma, sizeof pragma - 1);
  return p ? (size_t)(p - data) + sizeof pragma - 1 : 0;
}

size_t serve_add_extra_headers(char *data, size_t len, size_t cap) {
  size_t at = extra_at(data, len), n = sizeof RT_SERVE_EXTRA_HEADERS - 1;
  if (!at || cap - len < n) return len;
  memmove(data + at + n, data + at, len - at);
  memcpy(data + at, RT_SERVE_EXTRA_HEADERS, n);
  return len + n;
}

/* Answers with a whole response and closes once it is written. */
static void conn_answer(serve_conn *c, char *data, size_t len) {
  rt_serve *s = c->s;
  if (extra_at(data, len)) {
    char *d = realloc(data, len + sizeof RT_SERVE_EXTRA_HEADERS);
    if (d) {
      data = d;
      len = serve_add_extra_headers(data, len, len + sizeof RT_SERVE_EXTRA_HEADERS);
    }
  }
  if (c->state == SERVE_HEAD) s->npending--;
  c->state = SERVE_ANSWER;
  free(c->ans);
  c->ans = data;
  c->ans_len = len;
  c->ans_off = 0;
  s->st.answers++;
  /* The client's further bytes are not read: the answer is all it gets. */
  shutdown(c->fd, SHUT_RD);
  if (!serve_conn_flush(c)) {
    shutdown(c->fd, SHUT_WR);
    conn_free(c);
    return;
  }
  conn_arm(c, serve_now_ns() + RT_SERVE_ANSWER_TIMEOUT_NS);
}

static void conn_answer_buf(serve_conn *c, rt_serve_buf *b) {
  char *d = b->data;
  b->data = NULL;
  conn_answer(c, d, b->len);
}

static void conn_error(serve_conn *c, const rt_serve_request *req, int status,
                       const char *msg) {
  rt_serve_buf b = {0};
  if (rt_serve_respond_error(req, &b, status, msg) != 0) {
    free(b.data);
    conn_free(c);
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
    conn_free(c);
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
  conn_answer(c, buf, (size_t)n);
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
      conn_free(c);
      return;
    }
    memcpy(d, head, (size_t)n);
    conn_answer(c, d, (size_t)n);
    return;
  }
  s->npending--;
  c->state = SERVE_STREAM;
  s->nlisteners++;
  s->st.listeners++;
  if (s->nlisteners > s->st.listeners_peak) s->st.listeners_peak = s->nlisteners;
  c->metaint = metaint;
  c->meta_left = metaint;
  ev_timer_stop(s->loop, &c->timer);
  serve_log(s, "player %s on %s%s", c->addr, s->cfg.mount, metaint ? " (ICY)" : "");
  if (!serve_queue_put(c, head, (size_t)n)) {
    conn_free(c);
    return;
  }
  serve_station_attach(s, c);
  if (c->dead || !serve_conn_flush(c)) conn_free(c);
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
  conn_free(c);
}

static void dispatch(serve_conn *c) {
  rt_serve *s = c->s;
  static sc_http_request http; /* large; single-threaded, used only here */
  int n =
      sc_http_parse_request(c->head, c->head_len, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &http);
  if (n == SC_HTTP_INCOMPLETE) return;
  char date[64], host[SC_HTTP_MOUNT_MAX_BYTES + 1], path[SC_HTTP_MOUNT_MAX_BYTES + 1];
  http_date(date, sizeof date);
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
      conn_free(c);
      return;
    }
    conn_answer_buf(c, &b);
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

/* ------------------------------------------------------------ I/O */

static void conn_read_head(serve_conn *c) {
  size_t room = sizeof c->head - c->head_len;
  if (room == 0) {
    dispatch(c); /* the parser says the head is too large */
    return;
  }
  ssize_t r = recv(c->fd, c->head + c->head_len, room, 0);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
    conn_free(c);
    return;
  }
  if (r == 0) {
    conn_free(c);
    return;
  }
  c->head_len += (size_t)r;
  dispatch(c);
}

/* A player sends nothing after its head; anything it does send is
 * dropped, and its close (or reset) ends it. */
static void conn_read_stream(serve_conn *c) {
  rt_serve *s = c->s;
  ssize_t r = recv(c->fd, s->rbuf, sizeof s->rbuf, 0);
  if (r > 0 || (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)))
    return;
  s->st.listeners_left++;
  serve_log(s, "player %s left", c->addr);
  conn_free(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  serve_conn *c = w->data;
  switch (c->state) {
  case SERVE_HEAD:
    if (revents & EV_READ) conn_read_head(c);
    return;
  case SERVE_ANSWER:
    if (!serve_conn_flush(c)) conn_free(c);
    return;
  case SERVE_STREAM:
    if ((revents & EV_WRITE) && !serve_conn_flush(c)) {
      if (!c->ending) c->s->st.listeners_left++;
      conn_free(c);
      return;
    }
    if (revents & EV_READ) conn_read_stream(c);
    return;
  }
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  serve_conn *c = w->data;
  if (c->state == SERVE_HEAD) c->s->st.header_timeouts++;
  conn_free(c);
}

static void listen_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  rt_serve *s = w->data;
  for (int i = 0; i < 64; i++) {
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    int fd =
        accept4(s->lfd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    s->st.connections++;
    size_t slot = RT_SERVE_CONNS_MAX;
    if (s->npending < RT_SERVE_PENDING_MAX &&
        s->nconns < s->cfg.max_listeners + RT_SERVE_PENDING_MAX)
      for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++)
        if (!s->conns[k]) {
          slot = k;
          break;
        }
    serve_conn *c = slot < RT_SERVE_CONNS_MAX ? calloc(1, sizeof *c) : NULL;
    if (!c) {
      /* Too many at once: closed before a byte is read, so a flood of idle
       * connections holds no memory here. */
      s->st.refused_busy++;
      close(fd);
      continue;
    }
    c->s = s;
    c->slot = slot;
    c->fd = fd;
    c->id = s->st.connections;
    c->since_ns = serve_now_ns();
    c->state = SERVE_HEAD;
    s->conns[slot] = c;
    s->nconns++;
    s->npending++;
    char ip[INET_ADDRSTRLEN] = "?";
    if (sa.sin_family == AF_INET) inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(c->addr, sizeof c->addr, "%s:%u", ip,
             sa.sin_family == AF_INET ? ntohs(sa.sin_port) : 0u);
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_io_start(s->loop, &c->io);
    ev_timer_init(&c->timer, conn_timer_cb, 0.0, 0.0);
    c->timer.data = c;
    conn_arm(c, serve_now_ns() + s->cfg.header_timeout_ns);
  }
}

/* ------------------------------------------------------------ lifecycle */

int rt_serve_new(rt_serve **out, struct ev_loop *loop, const rt_serve_config *cfg) {
  *out = NULL;
  if (!cfg->mount || cfg->mount[0] != '/' ||
      strlen(cfg->mount) > SC_HTTP_MOUNT_MAX_BYTES ||
      cfg->max_listeners > RT_SERVE_LISTENERS_MAX)
    return SC_ERR_INVALID;
  rt_serve *s = calloc(1, sizeof *s);
  if (!s) return SC_ERR_NOMEM;
  s->loop = loop;
  s->cfg = *cfg;
  if (!s->cfg.max_listeners) s->cfg.max_listeners = RT_SERVE_LISTENERS_DEFAULT;
  if (!s->cfg.burst_set) s->cfg.burst_ns = RT_SERVE_BURST_DEFAULT_NS;
  if (!s->cfg.header_timeout_ns) s->cfg.header_timeout_ns = RT_SERVE_HEADER_TIMEOUT_NS;
  s->started_ns = serve_now_ns();
  s->lfd = -1;
  int rv = serve_station_init(s);
  if (rv != 0) {
    free(s);
    return rv;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) goto sys;
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(cfg->ip);
  sa.sin_port = htons(cfg->port);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) goto sys;
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) goto sys;
  s->port = ntohs(sa.sin_port);
  s->lfd = fd;
  {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(s->bound, sizeof s->bound, "%s:%u", ip, s->port);
  }
  ev_io_init(&s->lio, listen_cb, fd, EV_READ);
  s->lio.data = s;
  ev_io_start(loop, &s->lio);
  *out = s;
  return 0;
sys : {
  int e = errno;
  if (fd >= 0) close(fd);
  serve_station_free(s);
  free(s);
  errno = e;
  return RT_SERVE_ERR_SYS;
}
}

void rt_serve_set_ingest(rt_serve *s, struct rt_ingest *in) {
  s->ingest = in;
}

void rt_serve_stop(rt_serve *s) {
  for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++)
    if (s->conns[k]) conn_free(s->conns[k]);
  if (s->lfd >= 0) {
    ev_io_stop(s->loop, &s->lio);
    close(s->lfd);
    s->lfd = -1;
  }
}

void rt_serve_del(rt_serve *s) {
  if (!s) return;
  rt_serve_stop(s);
  serve_station_free(s);
  free(s);
}

uint16_t rt_serve_port(const rt_serve *s) {
  return s->port;
}

void rt_serve_get_stats(const rt_serve *s, rt_serve_stats *out) {
  *out = s->st;
}

void rt_serve_snapshot_get(const rt_serve *s, rt_serve_snapshot *out) {
  memset(out, 0, sizeof *out);
  out->mount = s->cfg.mount;
  out->content_type = s->content_type;
  out->info = s->reader ? sc_station_reader_info(s->reader) : "";
  out->title = s->reader ? sc_station_reader_title(s->reader) : "";
  out->on_air = serve_station_known(s) && !s->ended;
  out->listeners = s->nlisteners;
  out->listeners_max = s->cfg.max_listeners;
  out->listeners_peak = (uint32_t)s->st.listeners_peak;
  out->listener_connections = s->st.listeners;
  out->bytes_sent = s->st.bytes_sent;
  out->started_ns = s->started_ns;
  out->port = s->port;
}

void rt_serve_stats_json(const rt_serve *s, FILE *f) {
  const rt_serve_stats *t = &s->st;
  fprintf(
      f,
      "{\"port\":%u,\"listeners_now\":%u,\"max_listeners\":%u,\"connections\":%" PRIu64
      ",\"listeners\":%" PRIu64 ",\"listeners_peak\":%" PRIu64
      ",\"listeners_left\":%" PRIu64 ",\"listeners_slow\":%" PRIu64
      ",\"bytes_sent\":%" PRIu64 ",\"bursts\":%" PRIu64 ",\"burst_bytes\":%" PRIu64
      ",\"answers\":%" PRIu64 ",\"handed_to_ingest\":%" PRIu64 ",\"records\":%" PRIu64
      ",\"gaps\":%" PRIu64 ",\"refused\":{\"busy\":%" PRIu64 ",\"full\":%" PRIu64
      ",\"header_timeout\":%" PRIu64 ",\"bad_head\":%" PRIu64 ",\"bad_path\":%" PRIu64
      ",\"not_found\":%" PRIu64 ",\"bad_method\":%" PRIu64 "}}",
      s->port, s->nlisteners, s->cfg.max_listeners, t->connections, t->listeners,
      t->listeners_peak, t->listeners_left, t->listeners_slow, t->bytes_sent, t->bursts,
      t->burst_bytes, t->answers, t->handed_to_ingest, t->records, t->gaps,
      t->refused_busy, t->refused_full, t->header_timeouts, t->bad_heads, t->bad_paths,
      t->not_found, t->bad_methods);
}
