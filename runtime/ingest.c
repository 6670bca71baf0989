/* ingest.c — see ingest.h. */
#define _GNU_SOURCE /* accept4 */
#include "ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/station.h"
#include "http/status.h"

enum conn_state {
  CONN_FREE = 0,
  CONN_HEAD,   /* HTTP: reading the request head */
  CONN_PASS,   /* SHOUTcast: reading the password line */
  CONN_SCHEAD, /* SHOUTcast: reading the icy-* lines */
  CONN_STREAM, /* the live source */
  CONN_LINGER, /* answered; draining input before the close */
};

/* The head buffer: Icecast's head limit plus one byte, so that a head that
 * reaches the limit without ending is seen as too large. */
#define HEAD_BUF_BYTES (SC_HTTP_ICECAST_HEAD_MAX_BYTES + 1)
#define ADDR_STR_BYTES 24 /* "255.255.255.255:65535" */

typedef struct ingest_conn {
  struct rt_ingest *in;
  enum conn_state state;
  bool shoutcast; /* came in on the SHOUTcast port */
  bool write_shut;
  int fd;
  ev_io io;
  ev_timer timer;
  uint64_t deadline_ns;   /* HEAD/PASS/SCHEAD/LINGER: absolute */
  uint64_t last_input_ns; /* STREAM: for the source timeout */
  char addr[ADDR_STR_BYTES];
  size_t head_len;
  char head[HEAD_BUF_BYTES];
  size_t out_len, out_off;
  char out[RT_INGEST_OUT_MAX_BYTES];
} ingest_conn;

struct rt_ingest {
  struct ev_loop *loop;
  rt_ingest_config cfg;
  rt_ingest_sink sink;
  int lfd[2]; /* HTTP, SHOUTcast; -1: none */
  ev_io lio[2];
  uint16_t port;
  bool shoutcast; /* the SHOUTcast listener was opened */
  ingest_conn conns[RT_INGEST_CONNS_MAX];
  ingest_conn *live; /* the connection streaming the mount, or NULL */
  char agent[RT_INGEST_AGENT_MAX_BYTES + 1];
  char content_type[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  uint64_t live_since_ns;
  rt_ingest_stats st;
  uint8_t rbuf[RT_INGEST_READ_BYTES];
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ingest_log(const rt_ingest *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ingest_log(const rt_ingest *in, const char *fmt, ...) {
  if (!in->cfg.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "stripecast[%d] ingest: ", (int)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------ password */

int rt_ingest_read_password_file(const char *path, char *out, size_t cap) {
  if (cap < 2) return SC_ERR_NOBUF;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return RT_INGEST_ERR_SYS;
  size_t n = 0;
  for (;;) {
    if (n == cap) break;
    ssize_t r = read(fd, out + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      errno = e;
      return RT_INGEST_ERR_SYS;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  /* A full buffer may hide more lines: refuse rather than cut. */
  char extra;
  bool more = n == cap && read(fd, &extra, 1) > 0;
  close(fd);
  if (more) return SC_ERR_TOO_LARGE;
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    n--;
  if (n >= cap) return SC_ERR_TOO_LARGE;
  out[n] = '\0';
  if (n == 0 || memchr(out, '\0', n) || memchr(out, '\n', n) || memchr(out, '\r', n))
    return SC_ERR_INVALID;
  return (int)n;
}

/* ------------------------------------------------------------ helpers */

static void conn_arm_timer(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  uint64_t due;
  if (c->state == CONN_STREAM) {
    uint64_t to = in->cfg.source_timeout_ns;
    due = c->last_input_ns + to;
  } else {
    due = c->deadline_ns;
  }
  ev_timer_stop(in->loop, &c->timer);
  double after = due > now ? (double)(due - now) / 1e9 : 0.0;
  ev_timer_set(&c->timer, after, 0.0);
  ev_timer_start(in->loop, &c->timer);
}

static void conn_close(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  if (c->state == CONN_FREE) return;
  if (in->live == c) {
    in->live = NULL;
    if (in->sink.end) in->sink.end(in->sink.user, now);
    ingest_log(in, "source %s left %s", c->addr, in->cfg.mount);
  }
  ev_io_stop(in->loop, &c->io);
  ev_timer_stop(in->loop, &c->timer);
  close(c->fd);
  c->fd = -1;
  c->state = CONN_FREE;
}

static void conn_set_events(ingest_conn *c) {
  int ev = EV_READ;
  if (c->out_off < c->out_len) ev |= EV_WRITE;
  if ((c->io.events & (EV_READ | EV_WRITE)) == ev) return;
  ev_io_stop(c->in->loop, &c->io);
  ev_io_set(&c->io, c->fd, ev);
  ev_io_start(c->in->loop, &c->io);
}

/* Writes what is pending; returns false when the connection failed. */
static bool conn_flush(ingest_conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c->out_off += (size_t)n;
  }
  if (c->out_off == c->out_len) {
    c->out_off = c->out_len = 0;
    if (c->state == CONN_LINGER && !c->write_shut) {
      shutdown(c->fd, SHUT_WR);
      c->write_shut = true;
    }
  }
  conn_set_events(c);
  return true;
}

/* Queues an answer written by one of sc_http's writers (its return value
 * n); false when it did not fit (a bug: RT_INGEST_OUT_MAX_BYTES is meant to
 * hold every answer). */
static bool conn_queue(ingest_conn *c, const char *data, int n) {
  if (n < 0 || (size_t)n > sizeof c->out - c->out_len) return false;
  memmove(c->out + c->out_len, data, (size_t)n);
  c->out_len += (size_t)n;
  return true;
}

/* The answer is queued: send it, then linger until the client closes. */
static void conn_answer_and_close(ingest_conn *c, uint64_t now) {
  c->state = CONN_LINGER;
  c->deadline_ns = now + c->in->cfg.linger_ns;
  if (!conn_flush(c)) {
    conn_close(c, now);
    return;
  }
  conn_arm_timer(c, now);
}

static void conn_refuse(ingest_conn *c, int status, bool plain, const char *msg,
                        uint64_t now) {
  char date[64], buf[RT_INGEST_OUT_MAX_BYTES];
  (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
  sc_http_server_info srv = {.server_id = RT_INGEST_SERVER_ID, .date = date};
  int n = sc_http_write_error(&srv, status, plain, msg, buf, sizeof buf);
  if (!conn_queue(c, buf, n)) {
    conn_close(c, now);
    return;
  }
  conn_answer_and_close(c, now);
}

/* Appends "key=value\n" when value is not empty and it fits. */
static void info_add(char *info, size_t cap, size_t *len, const char *key,
                     const char *value) {
  if (!value || !*value) return;
  int n = snprintf(info + *len, cap - *len, "%s=%s\n", key, value);
  if (n < 0 || (size_t)n >= cap - *len) {
    info[*len] = '\0';
    return;
  }
  *len += (size_t)n;
}

/* Keeps printable ASCII only, for the counters' copy of the user agent. */
static void copy_printable(char *out, size_t cap, const sc_http_slice *s) {
  size_t n = 0;
  if (s)
    for (size_t i = 0; i < s->len && n + 1 < cap; i++) {
      unsigned char ch = (unsigned char)s->ptr[i];
      out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
  out[n] = '\0';
}

/* The source is in: begin the session and feed what followed its head. */
static void conn_go_live(ingest_conn *c, const sc_http_request *req, size_t head_len,
                         uint64_t now) {
  rt_ingest *in = c->in;
  sc_http_station_info si;
  sc_http_station_info_parse(req, &si);
  copy_printable(in->agent, sizeof in->agent, sc_http_header_find(req, "User-Agent"));
  /* A SOURCE or SHOUTcast login without a type is MP3 to Icecast. */
  sc_http_slice ct = {si.content_type[0] ? si.content_type : "audio/mpeg", 0};
  ct.len = strlen(ct.ptr);
  copy_printable(in->content_type, sizeof in->content_type, &ct);
  sc_media_kind kind = si.content_type[0]
                           ? sc_media_kind_from_content_type(si.content_type)
                           : SC_MEDIA_UNKNOWN;
  char info[SC_STATION_INFO_MAX];
  size_t ilen = 0;
  info[0] = '\0';
  char pub[16] = "";
  if (sc_http_header_find(req, "ice-public") || sc_http_header_find(req, "icy-pub") ||
      sc_http_header_find(req, "icy-public") ||
      sc_http_header_find(req, "x-audiocast-public"))
    snprintf(pub, sizeof pub, "%d", si.public_flag);
  info_add(info, sizeof info, &ilen, "content-type", in->content_type);
  info_add(info, sizeof info, &ilen, "name", si.name);
  info_add(info, sizeof info, &ilen, "description", si.description);
  info_add(info, sizeof info, &ilen, "genre", si.genre);
  info_add(info, sizeof info, &ilen, "url", si.url);
  info_add(info, sizeof info, &ilen, "bitrate", si.bitrate);
  info_add(info, sizeof info, &ilen, "audio-info", si.audio_info);
  info_add(info, sizeof info, &ilen, "public", pub);
  info_add(info, sizeof info, &ilen, "user-agent", in->agent);

  in->live = c;
  in->live_since_ns = now;
  c->state = CONN_STREAM;
  c->last_input_ns = now;
  in->st.sources_accepted++;
  ingest_log(in, "source %s (%s, %s) on the air on %s", c->addr,
             in->agent[0] ? in->agent : "no user agent", in->content_type, in->cfg.mount);
  if (in->sink.begin && in->sink.begin(in->sink.user, kind, info, now) < 0)
    in->st.sink_errors++;
  size_t rest = c->head_len - head_len;
  if (rest > 0) {
    in->st.bytes_in += rest;
    if (in->sink.feed &&
        in->sink.feed(in->sink.user, (const uint8_t *)c->head + head_len, rest, now) < 0)
      in->st.sink_errors++;
  }
  c->head_len = 0;
  conn_arm_timer(c, now);
}

/* ------------------------------------------------------------ requests */

static sc_http_mount_state meta_mount_state(void *user, const char *mount) {
  rt_ingest *in = user;
  if (!in->live || strcmp(mount, in->cfg.mount) != 0) return SC_HTTP_MOUNT_NONE;
  return in->live->shoutcast ? SC_HTTP_MOUNT_LIVE_SHOUTCAST : SC_HTTP_MOUNT_LIVE;
}

static void handle_source(ingest_conn *c, const sc_http_request *req, size_t head_len,
                          uint64_t now) {
  rt_ingest *in = c->in;
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
  bool ours = sc_http_mount_decode(req->path, mount, sizeof mount) >= 0 &&
              strcmp(mount, in->cfg.mount) == 0;
  sc_http_source_policy pol = {.source_user = "source",
                               .source_password = in->cfg.source_password,
                               .mount_in_use = ours && in->live != NULL,
                               .sources_full = false};
  sc_http_source_decision d;
  sc_http_source_decide(req, &pol, &d);
  if (sc_http_is_libshout_probe(req)) in->st.libshout_probes++;
  char buf[RT_INGEST_OUT_MAX_BYTES];
  char date[64];
  (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
  sc_http_server_info srv = {.server_id = RT_INGEST_SERVER_ID, .date = date};
  switch (d.outcome) {
  case SC_HTTP_SOURCE_DROP:
    in->st.refused_bad_request++;
    conn_close(c, now);
    return;
  case SC_HTTP_SOURCE_OK:
    break;
  default:
    if (d.outcome == SC_HTTP_SOURCE_UNAUTHORIZED)
      in->st.refused_unauthorized++;
    else if (d.outcome == SC_HTTP_SOURCE_MOUNT_IN_USE)
      in->st.refused_mount_in_use++;
    else if (d.outcome == SC_HTTP_SOURCE_NO_CONTENT_TYPE)
      in->st.refused_no_content_type++;
    else
      in->st.refused_other++;
    if (!conn_queue(c, buf,
                    sc_http_write_source_refusal(&srv, d.outcome, buf, sizeof buf))) {
      conn_close(c, now);
      return;
    }
    conn_answer_and_close(c, now);
    return;
  }
  if (!ours) {
    /* Icecast would open any mount; this peer carries one station, whose id
     * is its name's hash, so a source for another name has nowhere to go. */
    in->st.refused_wrong_mount++;
    conn_refuse(c, 403, true, "Mountpoint not served here", now);
    return;
  }
  if (d.expect_continue && !conn_queue(c, buf, sc_http_write_continue(buf, sizeof buf))) {
    conn_close(c, now);
    return;
  }
  if (!conn_queue(c, buf, sc_http_write_source_ok(buf, sizeof buf))) {
    conn_close(c, now);
    return;
  }
  if (!conn_flush(c)) {
    conn_close(c, now);
    return;
  }
  conn_go_live(c, req, head_len, now);
}

static void handle_admin(ingest_conn *c, const sc_http_request *req, uint64_t now) {
  rt_ingest *in = c->in;
  in->st.admin_requests++;
  sc_http_meta_policy pol = {.source_user = "source",
                             .source_password = in->cfg.source_password,
                             .admin_user = "admin",
                             .admin_password = in->cfg.admin_password,
                             .mount_state = meta_mount_state,
                             .user = in,
                             .shoutcast_mount = in->cfg.mount};
  sc_http_meta_request m;
  sc_http_meta_decide(req, &pol, &m);
  if (m.outcome == SC_HTTP_META_OK && m.has_song) {
    in->st.titles++;
    ingest_log(in, "title update on %s", in->cfg.mount);
    if (in->sink.title && in->sink.title(in->sink.user, m.song, now) < 0)
      in->st.sink_errors++;
  }
  char date[64], buf[RT_INGEST_OUT_MAX_BYTES];
  (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
  sc_http_server_info srv = {.server_id = RT_INGEST_SERVER_ID, .date = date};
  if (!conn_queue(c, buf, sc_http_write_meta_response(&srv, &m, buf, sizeof buf))) {
    conn_close(c, now);
    return;
  }
  conn_answer_and_close(c, now);
}

static void handle_head(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  static sc_http_request req; /* large; single-threaded, used only here */
  int n =
      sc_http_parse_request(c->head, c->head_len, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &req);
  if (n == SC_HTTP_INCOMPLETE) return;
  if (n < 0) {
    /* Icecast closes on a head it cannot read, and on one over its limit. */
    in->st.refused_bad_head++;
    conn_close(c, now);
    return;
  }
  switch (sc_http_classify(&req)) {
  case SC_HTTP_KIND_SOURCE_PUT:
  case SC_HTTP_KIND_SOURCE_LEGACY:
    handle_source(c, &req, (size_t)n, now);
    return;
  case SC_HTTP_KIND_ADMIN:
  case SC_HTTP_KIND_SHOUTCAST_ADMIN:
    handle_admin(c, &req, now);
    return;
  case SC_HTTP_KIND_STATS:
    /* A stats stream needs the admin login, which this server has none of. */
    in->st.refused_unauthorized++;
    conn_refuse(c, 401, true, "You need to authenticate\r\n", now);
    return;
  case SC_HTTP_KIND_LISTENER:
    /* Listeners are peers of the overlay; over HTTP there is no file here. */
    in->st.refused_other++;
    conn_refuse(c, 404, false, "The file you requested could not be found", now);
    return;
  case SC_HTTP_KIND_UNKNOWN:
    in->st.refused_other++;
    conn_refuse(c, 400, false, "unknown request", now);
    return;
  case SC_HTTP_KIND_DROP:
  default:
    in->st.refused_bad_request++;
    conn_close(c, now);
    return;
  }
}

/* SHOUTcast v1: the password line, then OK2 at once (SHOUTcast encoders wait
 * for it before sending their icy- lines). */
static void handle_pass(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  sc_http_slice line;
  int n = sc_http_shoutcast_line(c->head, c->head_len, &line);
  if (n == SC_HTTP_INCOMPLETE) return;
  const char *pw = in->cfg.source_password;
  if (n < 0 || !sc_http_secret_eq(line.ptr, line.len, pw, strlen(pw))) {
    /* Icecast closes without a byte on a wrong password. */
    if (n < 0)
      in->st.refused_bad_head++;
    else if (line.len == 5 && memcmp(line.ptr, "!POKE", 5) == 0)
      in->st.libshout_probes++; /* libshout's ICY probe */
    else
      in->st.refused_shoutcast_password++;
    conn_close(c, now);
    return;
  }
  memmove(c->head, c->head + n, c->head_len - (size_t)n);
  c->head_len -= (size_t)n;
  if (!conn_queue(c, SC_HTTP_SHOUTCAST_OK, (int)strlen(SC_HTTP_SHOUTCAST_OK)) ||
      !conn_flush(c)) {
    conn_close(c, now);
    return;
  }
  c->state = CONN_SCHEAD;
}

static void handle_schead(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  static sc_http_request req; /* large; single-threaded, used only here */
  int n = sc_http_shoutcast_headers(c->head, c->head_len, SC_HTTP_ICECAST_HEAD_MAX_BYTES,
                                    &req);
  if (n == SC_HTTP_INCOMPLETE) return;
  if (n < 0) {
    in->st.refused_bad_head++;
    conn_close(c, now);
    return;
  }
  if (in->live) {
    /* Icecast turns a SHOUTcast login into a SOURCE on its shoutcast-mount
     * after OK2, so a busy mount answers as for SOURCE. */
    in->st.refused_mount_in_use++;
    char date[64], buf[RT_INGEST_OUT_MAX_BYTES];
    (void)sc_status_date_http((int64_t)time(NULL), date, sizeof date);
    sc_http_server_info srv = {.server_id = RT_INGEST_SERVER_ID, .date = date};
    if (!conn_queue(c, buf,
                    sc_http_write_source_refusal(&srv, SC_HTTP_SOURCE_MOUNT_IN_USE, buf,
                                                 sizeof buf))) {
      conn_close(c, now);
      return;
    }
    conn_answer_and_close(c, now);
    return;
  }
  conn_go_live(c, &req, (size_t)n, now);
}

/* ------------------------------------------------------------ I/O */

static void conn_stream_read(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  for (int i = 0; i < RT_INGEST_READ_BURST; i++) {
    ssize_t r = recv(c->fd, in->rbuf, sizeof in->rbuf, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      in->st.sources_ended++; /* a reset: the source is gone too */
      conn_close(c, now);
      return;
    }
    if (r == 0) {
      in->st.sources_ended++;
      conn_close(c, now);
      return;
    }
    c->last_input_ns = now;
    in->st.bytes_in += (uint64_t)r;
    if (in->sink.feed && in->sink.feed(in->sink.user, in->rbuf, (size_t)r, now) < 0)
      in->st.sink_errors++;
    if ((size_t)r < sizeof in->rbuf) return;
  }
}

static void conn_linger_read(ingest_conn *c, uint64_t now) {
  rt_ingest *in = c->in;
  for (int i = 0; i < RT_INGEST_READ_BURST; i++) {
    ssize_t r = recv(c->fd, in->rbuf, sizeof in->rbuf, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      conn_close(c, now);
      return;
    }
    if (r == 0) {
      /* The client has read what it wanted and closed; once our answer is
       * out, so can we. */
      if (c->out_off == c->out_len) conn_close(c, now);
      return;
    }
  }
}

/* Reads head bytes; returns false when the connection was closed. */
static bool conn_head_read(ingest_conn *c, uint64_t now) {
  size_t room = sizeof c->head - c->head_len;
  if (room == 0) {
    /* Full without a complete head: over Icecast's limit. */
    c->in->st.refused_bad_head++;
    conn_close(c, now);
    return false;
  }
  ssize_t r = recv(c->fd, c->head + c->head_len, room, 0);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return true;
    conn_close(c, now);
    return false;
  }
  if (r == 0) {
    /* Closed before its head was complete: libshout's OPTIONS probe and
     * any port scanner end here. */
    conn_close(c, now);
    return false;
  }
  c->head_len += (size_t)r;
  return true;
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  ingest_conn *c = w->data;
  uint64_t now = now_ns();
  if ((revents & EV_WRITE) && !conn_flush(c)) {
    conn_close(c, now);
    return;
  }
  if (!(revents & EV_READ) || c->state == CONN_FREE) return;
  switch (c->state) {
  case CONN_STREAM:
    conn_stream_read(c, now);
    return;
  case CONN_LINGER:
    conn_linger_read(c, now);
    return;
  case CONN_HEAD:
    if (conn_head_read(c, now)) handle_head(c, now);
    return;
  case CONN_PASS:
  case CONN_SCHEAD:
    if (!conn_head_read(c, now)) return;
    if (c->state == CONN_PASS) handle_pass(c, now);
    /* The password line may arrive with the headers (libshout sends all at
     * once); read on from the same bytes. */
    if (c->state == CONN_SCHEAD) handle_schead(c, now);
    return;
  default:
    return;
  }
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  ingest_conn *c = w->data;
  rt_ingest *in = c->in;
  uint64_t now = now_ns();
  if (c->state == CONN_STREAM) {
    if (now - c->last_input_ns < in->cfg.source_timeout_ns) {
      conn_arm_timer(c, now); /* input came since: the "last activity" pattern */
      return;
    }
    in->st.source_timeouts++;
    ingest_log(in, "source %s silent for %.1f s: dropped", c->addr,
               (double)in->cfg.source_timeout_ns / 1e9);
    conn_close(c, now);
    return;
  }
  if (now < c->deadline_ns) {
    conn_arm_timer(c, now);
    return;
  }
  if (c->state != CONN_LINGER) in->st.refused_header_timeout++;
  conn_close(c, now);
}

static void conn_start(ingest_conn *c, int fd, bool shoutcast, const char *addr,
                       uint64_t now) {
  rt_ingest *in = c->in;
  c->fd = fd;
  c->shoutcast = shoutcast;
  c->write_shut = false;
  c->state = shoutcast ? CONN_PASS : CONN_HEAD;
  c->head_len = 0;
  c->out_len = c->out_off = 0;
  c->deadline_ns = now + in->cfg.header_timeout_ns;
  snprintf(c->addr, sizeof c->addr, "%s", addr);
  ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
  c->io.data = c;
  ev_io_start(in->loop, &c->io);
  ev_timer_init(&c->timer, conn_timer_cb, 0.0, 0.0);
  c->timer.data = c;
  conn_arm_timer(c, now);
}

static void listen_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  rt_ingest *in = w->data;
  bool shoutcast = w == &in->lio[1];
  for (int i = 0; i < RT_INGEST_READ_BURST; i++) {
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    int fd = accept4(in->lfd[shoutcast], (struct sockaddr *)&sa, &salen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or an error the next readiness retries */
    uint64_t now = now_ns();
    if (shoutcast)
      in->st.shoutcast_connections++;
    else
      in->st.connections++;
    ingest_conn *c = NULL;
    for (size_t k = 0; k < RT_INGEST_CONNS_MAX; k++)
      if (in->conns[k].state == CONN_FREE) {
        c = &in->conns[k];
        break;
      }
    if (!c) {
      in->st.refused_busy++;
      close(fd);
      continue;
    }
    char ip[INET_ADDRSTRLEN] = "?", addr[ADDR_STR_BYTES];
    if (salen >= sizeof sa && sa.sin_family == AF_INET)
      inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(addr, sizeof addr, "%s:%u", ip,
             sa.sin_family == AF_INET ? ntohs(sa.sin_port) : 0u);
    conn_start(c, fd, shoutcast, addr, now);
  }
}

int rt_ingest_adopt(rt_ingest *in, int fd, const char *addr, const char *head,
                    size_t head_len) {
  uint64_t now = now_ns();
  in->st.connections++;
  ingest_conn *c = NULL;
  for (size_t k = 0; k < RT_INGEST_CONNS_MAX && !c; k++)
    if (in->conns[k].state == CONN_FREE) c = &in->conns[k];
  if (!c || head_len > sizeof c->head) {
    in->st.refused_busy += c == NULL;
    close(fd);
    return SC_ERR_FULL;
  }
  conn_start(c, fd, false, addr, now);
  memcpy(c->head, head, head_len);
  c->head_len = head_len;
  handle_head(c, now);
  return 0;
}

/* ------------------------------------------------------------ lifecycle */

static int listen_socket(uint32_t ip, uint16_t port, uint16_t *bound) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return RT_INGEST_ERR_SYS;
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return RT_INGEST_ERR_SYS;
  }
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0) *bound = ntohs(sa.sin_port);
  return fd;
}

int rt_ingest_new(rt_ingest **out, struct ev_loop *loop, const rt_ingest_config *cfg,
                  const rt_ingest_sink *sink) {
  *out = NULL;
  if (!cfg->mount || cfg->mount[0] != '/' ||
      strlen(cfg->mount) > SC_HTTP_MOUNT_MAX_BYTES || !cfg->source_password ||
      !cfg->source_password[0] ||
      strlen(cfg->source_password) > SC_HTTP_PASSWORD_MAX_BYTES)
    return SC_ERR_INVALID;
  if (!cfg->no_shoutcast && cfg->port == 65535) return SC_ERR_INVALID;
  rt_ingest *in = calloc(1, sizeof *in);
  if (!in) return SC_ERR_NOMEM;
  in->loop = loop;
  in->cfg = *cfg;
  if (!in->cfg.header_timeout_ns) in->cfg.header_timeout_ns = RT_INGEST_HEADER_TIMEOUT_NS;
  if (!in->cfg.source_timeout_ns) in->cfg.source_timeout_ns = RT_INGEST_SOURCE_TIMEOUT_NS;
  if (!in->cfg.linger_ns) in->cfg.linger_ns = RT_INGEST_LINGER_NS;
  if (sink) in->sink = *sink;
  in->lfd[0] = in->lfd[1] = -1;
  for (size_t k = 0; k < RT_INGEST_CONNS_MAX; k++) {
    in->conns[k].fd = -1;
    in->conns[k].in = in;
  }
  int fd;
  if (cfg->http_adopted) {
    in->port = cfg->port;
  } else {
    fd = listen_socket(cfg->ip, cfg->port, &in->port);
    if (fd < 0) {
      free(in);
      return fd;
    }
    in->lfd[0] = fd;
  }
  if (!cfg->no_shoutcast) {
    uint16_t scport;
    /* With port 0 (tests), the kernel picked the HTTP port; the SHOUTcast
     * one is the port above it. */
    fd = listen_socket(cfg->ip, (uint16_t)(in->port + 1), &scport);
    if (fd < 0) {
      int e = errno;
      if (in->lfd[0] >= 0) close(in->lfd[0]);
      free(in);
      errno = e;
      return fd;
    }
    in->lfd[1] = fd;
    in->shoutcast = true;
  }
  for (int i = 0; i < 2; i++) {
    if (in->lfd[i] < 0) continue;
    ev_io_init(&in->lio[i], listen_cb, in->lfd[i], EV_READ);
    in->lio[i].data = in;
    ev_io_start(loop, &in->lio[i]);
  }
  *out = in;
  return 0;
}

void rt_ingest_stop(rt_ingest *in) {
  uint64_t now = now_ns();
  for (size_t k = 0; k < RT_INGEST_CONNS_MAX; k++)
    conn_close(&in->conns[k], now);
  for (int i = 0; i < 2; i++) {
    if (in->lfd[i] < 0) continue;
    ev_io_stop(in->loop, &in->lio[i]);
    close(in->lfd[i]);
    in->lfd[i] = -1;
  }
}

void rt_ingest_del(rt_ingest *in) {
  if (!in) return;
  rt_ingest_stop(in);
  free(in);
}

uint16_t rt_ingest_port(const rt_ingest *in) {
  return in->port;
}

bool rt_ingest_source_live(const rt_ingest *in) {
  return in->live != NULL;
}

void rt_ingest_get_stats(const rt_ingest *in, rt_ingest_stats *out) {
  *out = in->st;
}

/* A JSON string; anything but printable ASCII shows as '?'. */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fputc('\\', f);
    fputc(ch >= 0x20 && ch < 0x7f ? ch : '?', f);
  }
  fputc('"', f);
}

void rt_ingest_stats_json(const rt_ingest *in, FILE *f) {
  const rt_ingest_stats *s = &in->st;
  fputs("{\"mount\":", f);
  json_str(f, in->cfg.mount);
  fprintf(f,
          ",\"port\":%u,\"shoutcast_port\":%d,\"connections\":%" PRIu64
          ",\"shoutcast_connections\":%" PRIu64 ",\"sources_accepted\":%" PRIu64
          ",\"sources_ended\":%" PRIu64 ",\"source_timeouts\":%" PRIu64
          ",\"libshout_probes\":%" PRIu64 ",\"refused\":{\"unauthorized\":%" PRIu64
          ",\"mount_in_use\":%" PRIu64 ",\"no_content_type\":%" PRIu64
          ",\"wrong_mount\":%" PRIu64 ",\"bad_request\":%" PRIu64 ",\"bad_head\":%" PRIu64
          ",\"header_timeout\":%" PRIu64 ",\"busy\":%" PRIu64
          ",\"shoutcast_password\":%" PRIu64 ",\"other\":%" PRIu64
          "},\"admin_requests\":%" PRIu64 ",\"titles\":%" PRIu64 ",\"bytes_in\":%" PRIu64
          ",\"sink_errors\":%" PRIu64 ",\"live\":",
          in->port, in->shoutcast ? (int)in->port + 1 : -1, s->connections,
          s->shoutcast_connections, s->sources_accepted, s->sources_ended,
          s->source_timeouts, s->libshout_probes, s->refused_unauthorized,
          s->refused_mount_in_use, s->refused_no_content_type, s->refused_wrong_mount,
          s->refused_bad_request, s->refused_bad_head, s->refused_header_timeout,
          s->refused_busy, s->refused_shoutcast_password, s->refused_other,
          s->admin_requests, s->titles, s->bytes_in, s->sink_errors);
  if (!in->live) {
    fputs("null}", f);
    return;
  }
  fputs("{\"addr\":", f);
  json_str(f, in->live->addr);
  fputs(",\"user_agent\":", f);
  json_str(f, in->agent);
  fputs(",\"content_type\":", f);
  json_str(f, in->content_type);
  fprintf(f, ",\"shoutcast\":%s,\"for_s\":%.3f}}", in->live->shoutcast ? "true" : "false",
          (double)(now_ns() - in->live_since_ns) / 1e9);
}
