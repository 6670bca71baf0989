/* serve.c — see serve.h: the listening socket, connections and their I/O,
 * the server's life and counters (requests: serve_route.c). */
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
#include "http/status.h"
#include "ingest.h"
#include "serve_priv.h"

uint64_t serve_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void serve_log(const rt_serve *s, const char *fmt, ...) {
  if (!s->cfg.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "stripecast[%d] serve: ", (int)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------ connections */

static void conn_set_events(serve_conn *c, int ev) {
  if (c->io.events == ev && ev_is_active(&c->io)) return;
  ev_io_stop(c->s->loop, &c->io);
  ev_io_set(&c->io, c->fd, ev);
  if (ev) ev_io_start(c->s->loop, &c->io);
}

/* Frees the slot; the fd is closed unless it was handed on (fd < 0). */
void serve_conn_close(serve_conn *c) {
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
  free(c->head);
  free(c);
}

static void conn_arm(serve_conn *c, uint64_t deadline_ns) {
  uint64_t now = serve_now_ns();
  c->deadline_ns = deadline_ns;
  ev_timer_stop(c->s->loop, &c->timer);
  ev_timer_set(&c->timer, deadline_ns > now ? (double)(deadline_ns - now) / 1e9 : 0.0,
               0.0);
  ev_timer_start(c->s->loop, &c->timer);
}

void serve_conn_deadline(serve_conn *c, uint64_t deadline_ns) {
  conn_arm(c, deadline_ns);
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
    if (c->ans_off == c->ans_len && !c->write_shut) {
      /* All written: the client reads it to the end (FIN). What it still
       * sends is read and dropped for a while, so that the close does not
       * turn into a reset that destroys the answer before it is read. */
      shutdown(c->fd, SHUT_WR);
      c->write_shut = true;
      conn_arm(c, serve_now_ns() + RT_SERVE_LINGER_NS);
    }
    conn_set_events(c, EV_READ | (c->ans_off < c->ans_len ? EV_WRITE : 0));
    return true;
  }
  if (c->send_failed) return false;
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
  if (c->qlen == 0 && c->q) {
    free(c->q);
    c->q = NULL;
    c->qcap = c->qhead = 0;
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
void serve_conn_answer(serve_conn *c, char *data, size_t len) {
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
  c->write_shut = false;
  conn_arm(c, serve_now_ns() + RT_SERVE_ANSWER_TIMEOUT_NS);
  if (!serve_conn_flush(c)) serve_conn_close(c);
}

/* An answered client's further bytes are dropped; its close, once the
 * answer is out, ends the connection. */
static void conn_read_answered(serve_conn *c) {
  rt_serve *s = c->s;
  for (int i = 0; i < 16; i++) {
    ssize_t r = recv(c->fd, s->rbuf, sizeof s->rbuf, 0);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r < 0 || c->write_shut) serve_conn_close(c);
    return;
  }
}

/* ------------------------------------------------------------ I/O */

static void conn_read_head(serve_conn *c) {
  if (c->head_len == c->head_cap && c->head_cap < SERVE_HEAD_BUF_BYTES) {
    size_t cap =
        c->head_cap * 2 < SERVE_HEAD_BUF_BYTES ? c->head_cap * 2 : SERVE_HEAD_BUF_BYTES;
    char *h = realloc(c->head, cap);
    if (!h) {
      serve_conn_close(c);
      return;
    }
    c->head = h;
    c->head_cap = cap;
  }
  size_t room = c->head_cap - c->head_len;
  if (room == 0) {
    serve_dispatch(c); /* the parser says the head is too large */
    return;
  }
  ssize_t r = recv(c->fd, c->head + c->head_len, room, 0);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
    serve_conn_close(c);
    return;
  }
  if (r == 0) {
    serve_conn_close(c);
    return;
  }
  c->head_len += (size_t)r;
  serve_dispatch(c);
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
  serve_conn_close(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  serve_conn *c = w->data;
  switch (c->state) {
  case SERVE_HEAD:
    if (revents & EV_READ) conn_read_head(c);
    return;
  case SERVE_ANSWER:
    if ((revents & EV_WRITE) && !serve_conn_flush(c)) {
      serve_conn_close(c);
      return;
    }
    if (revents & EV_READ) conn_read_answered(c);
    return;
  case SERVE_STREAM:
    if ((revents & EV_WRITE) && !serve_conn_flush(c)) {
      if (!c->ending) c->s->st.listeners_left++;
      serve_conn_close(c);
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
  serve_conn_close(c);
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
    if (c) c->head_cap = SERVE_HEAD_FIRST_BYTES;
    if (c && !(c->head = malloc(SERVE_HEAD_FIRST_BYTES))) {
      free(c);
      c = NULL;
    }
    if (!c) {
      /* Too many at once: Icecast's answer when its client limit is
       * reached, written once without waiting, and closed before a byte
       * is read, so a flood of idle connections holds no memory here. */
      s->st.refused_busy++;
      char date[64], buf[1024];
      (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
      sc_http_server_info srv = {.server_id = RT_SERVE_SERVER_ID, .date = date};
      int n = sc_http_write_error(&srv, 403, true, "Icecast connection limit reached",
                                  buf, sizeof buf);
      if (n > 0) {
        n = (int)serve_add_extra_headers(buf, (size_t)n, sizeof buf);
        (void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
      }
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
  if (!s->cfg.queue_bytes) s->cfg.queue_bytes = RT_SERVE_QUEUE_MAX_BYTES;
  if (s->cfg.queue_bytes < RT_SERVE_QUEUE_MIN_BYTES)
    s->cfg.queue_bytes = RT_SERVE_QUEUE_MIN_BYTES;
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
    if (s->conns[k]) serve_conn_close(s->conns[k]);
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
