/*
 * serve_station.c — the station as a serving peer sees it (see serve.h):
 * one sc_station_reader, the burst kept for late players, and the fan-out
 * of every record into the players' queues, with ICY metadata where the
 * stream's type carries it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "serve_priv.h"

/* ------------------------------------------------------------ queues */

bool serve_queue_put(serve_conn *c, const void *data, size_t len) {
  if (c->dead || c->send_failed) return false;
  if (len == 0) return true; /* e.g. a container without codec headers */
  if (c->qlen == 0) {
    /* Nothing waits: straight to the socket, no copy; only what the
     * socket does not take now is queued. */
    ssize_t n;
    do
      n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      c->send_failed = true;
      return false;
    }
    if (n > 0) {
      c->s->st.bytes_sent += (uint64_t)n;
      data = (const uint8_t *)data + n;
      len -= (size_t)n;
      if (len == 0) return true;
    }
  }
  size_t max = c->s->cfg.queue_bytes;
  if (len > max - c->qlen) {
    c->dead = true;
    return false;
  }
  if (c->qcap - c->qlen < len) {
    size_t cap = c->qcap ? c->qcap : SERVE_QUEUE_FIRST_BYTES;
    while (cap - c->qlen < len)
      cap *= 2;
    if (cap > max) cap = max;
    uint8_t *q = malloc(cap);
    if (!q) {
      c->dead = true;
      return false;
    }
    /* Unwrap the ring into the new buffer. */
    size_t first = c->qcap - c->qhead < c->qlen ? c->qcap - c->qhead : c->qlen;
    if (c->qlen) {
      memcpy(q, c->q + c->qhead, first);
      memcpy(q + first, c->q, c->qlen - first);
    }
    free(c->q);
    c->q = q;
    c->qcap = cap;
    c->qhead = 0;
  }
  size_t tail = (c->qhead + c->qlen) % c->qcap;
  size_t first = c->qcap - tail < len ? c->qcap - tail : len;
  memcpy(c->q + tail, data, first);
  memcpy(c->q, (const uint8_t *)data + first, len - first);
  c->qlen += len;
  return true;
}

/* The metadata block due every metaint bytes: the title when it changed
 * since this player's last block, else the empty block (Icecast's
 * format_mp3.c). */
static void put_meta(rt_serve *s, serve_conn *c) {
  if (c->title_sent != s->title_ver) {
    const char *t = sc_station_reader_title(s->reader);
    uint8_t blk[SC_HTTP_ICY_META_MAX_BYTES + 1];
    int n = sc_http_icy_meta_build(t, strlen(t), NULL, 0, blk, sizeof blk);
    c->title_sent = s->title_ver;
    if (n > 0) {
      serve_queue_put(c, blk, (size_t)n);
      return;
    }
  }
  static const uint8_t empty = 0;
  serve_queue_put(c, &empty, 1);
}

/* Media bytes, with a metadata block every metaint bytes. */
static void put_media(rt_serve *s, serve_conn *c, const uint8_t *data, size_t len) {
  if (!c->metaint) {
    serve_queue_put(c, data, len);
    return;
  }
  while (len > 0 && !c->dead && !c->send_failed) {
    size_t n = len < (size_t)c->meta_left ? len : (size_t)c->meta_left;
    serve_queue_put(c, data, n);
    data += n;
    len -= n;
    c->meta_left -= (int)n;
    if (c->meta_left == 0) {
      put_meta(s, c);
      c->meta_left = c->metaint;
    }
  }
}

/* ------------------------------------------------------------ burst */

static void burst_drop_head(rt_serve *s) {
  serve_rec *r = s->burst;
  s->burst = r->next;
  if (!s->burst) s->burst_tail = NULL;
  s->burst_bytes -= r->len;
  s->burst_count--;
  free(r);
}

static void burst_clear(rt_serve *s) {
  while (s->burst)
    burst_drop_head(s);
}

/* Drops records up to the next sync point after the first (the burst always
 * starts at one); false when there is none (the burst is then empty). */
static bool burst_drop_to_next_sync(rt_serve *s) {
  if (!s->burst) return false;
  burst_drop_head(s);
  while (s->burst && !s->burst->sync)
    burst_drop_head(s);
  return s->burst != NULL;
}

static void burst_add(rt_serve *s, bool sync, const uint8_t *data, size_t len,
                      uint64_t now) {
  if (!s->cfg.burst_ns) return;
  if (!sync && !s->burst) return; /* a burst starts at a sync point */
  if (len > RT_SERVE_BURST_MAX_BYTES) {
    burst_clear(s);
    return;
  }
  while (s->burst && (s->burst_bytes + len > RT_SERVE_BURST_MAX_BYTES ||
                      s->burst_count + 1 > RT_SERVE_BURST_RECORDS_MAX))
    burst_drop_to_next_sync(s);
  if (!sync && !s->burst) return;
  serve_rec *r = malloc(sizeof *r + len);
  if (!r) {
    burst_clear(s);
    return;
  }
  r->next = NULL;
  r->t_ns = now;
  r->sync = sync;
  r->len = len;
  memcpy(r->data, data, len);
  if (s->burst_tail)
    s->burst_tail->next = r;
  else
    s->burst = r;
  s->burst_tail = r;
  s->burst_bytes += len;
  s->burst_count++;
  if (!sync) return;
  /* Keep only from the newest sync point at least burst_ns old. */
  uint64_t cutoff = now > s->cfg.burst_ns ? now - s->cfg.burst_ns : 0;
  for (;;) {
    serve_rec *n = s->burst->next;
    while (n && !n->sync)
      n = n->next;
    if (!n || n->t_ns > cutoff) break;
    while (s->burst != n)
      burst_drop_head(s);
  }
}

/* ------------------------------------------------------------ records */

static bool container_has_headers(const char *c) {
  return strcmp(c, "ogg") == 0 || strcmp(c, "webm") == 0 || strcmp(c, "mpegts") == 0;
}

/* The Content-Type players get: the source's, else the container's usual
 * one (a --source file or a relay says no type). */
static void station_type(rt_serve *s, const char *info) {
  char ct[sizeof s->content_type], cont[24] = "";
  sc_station_info_get(info, "container", cont, sizeof cont);
  if (!sc_station_info_get(info, "content-type", ct, sizeof ct) || !ct[0]) {
    const char *d = strcmp(cont, "ogg") == 0      ? "audio/ogg"
                    : strcmp(cont, "mp3") == 0    ? "audio/mpeg"
                    : strcmp(cont, "aac") == 0    ? "audio/aac"
                    : strcmp(cont, "webm") == 0   ? "video/webm"
                    : strcmp(cont, "mpegts") == 0 ? "video/mp2t"
                                                  : "application/octet-stream";
    snprintf(ct, sizeof ct, "%s", d);
  }
  memcpy(s->content_type, ct, sizeof ct);
  s->icy = sc_http_content_type_has_icy(ct);
}

static bool station_ready(const rt_serve *s) {
  return s->info_seen && (!s->need_headers || s->headers_seen);
}

static void fan_out_media(rt_serve *s, bool sync, const uint8_t *data, size_t len) {
  for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++) {
    serve_conn *c = s->conns[k];
    if (!c || c->state != SERVE_STREAM || c->ending) continue;
    if (c->hdr_sent != s->hdr_ver || c->gap) {
      if (!sync) continue; /* a player starts (again) at a sync point */
      if (c->hdr_sent != s->hdr_ver) {
        serve_queue_put(c, s->hdr, s->hdr_len);
        c->hdr_sent = s->hdr_ver;
      }
      c->gap = false;
    }
    put_media(s, c, data, len);
  }
}

/* After a fan-out: write to every player, and drop the ones whose queue
 * overflowed (they fell too far behind) or whose socket failed. */
static void flush_all(rt_serve *s) {
  for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++) {
    serve_conn *c = s->conns[k];
    if (!c || c->state != SERVE_STREAM) continue;
    if (c->dead) {
      s->st.listeners_slow++;
      serve_conn_close(c);
      continue;
    }
    if (!serve_conn_flush(c)) {
      if (!c->ending) s->st.listeners_left++;
      serve_conn_close(c);
    }
  }
}

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t len) {
  rt_serve *s = user;
  s->st.records++;
  switch (type) {
  case SC_STATION_INFO: {
    const char *info = sc_station_reader_info(s->reader);
    char v[24];
    s->info_seen = true;
    s->ended = false;
    s->need_headers =
        sc_station_info_get(info, "container", v, sizeof v) && container_has_headers(v);
    station_type(s, info);
    if (sc_station_info_get(info, "session", v, sizeof v) && strcmp(v, s->session) != 0) {
      if (s->session[0]) {
        /* A new session: its headers begin a new link (a chained Ogg
         * stream); players go on there, at its first sync point. */
        s->new_link = true;
        s->headers_seen = false;
        burst_clear(s);
      }
      snprintf(s->session, sizeof s->session, "%s", v);
    }
    if (s->new_link && !s->need_headers) {
      /* A container without codec headers (MP3, AAC): the new link is
       * ready at once; players go on at its first sync point. */
      free(s->hdr);
      s->hdr = NULL;
      s->hdr_len = 0;
      s->hdr_ver++;
      s->new_link = false;
      burst_clear(s);
    }
    break;
  }
  case SC_STATION_HEADERS:
    s->headers_seen = true;
    if (s->new_link || len != s->hdr_len || (len && memcmp(data, s->hdr, len) != 0)) {
      uint8_t *h = len ? malloc(len) : NULL;
      if (len && !h) break;
      if (len) memcpy(h, data, len);
      free(s->hdr);
      s->hdr = h;
      s->hdr_len = len;
      s->hdr_ver++;
      s->new_link = false;
      burst_clear(s);
    }
    break;
  case SC_STATION_MEDIA_SYNC:
  case SC_STATION_MEDIA: {
    bool sync = type == SC_STATION_MEDIA_SYNC;
    if (!station_ready(s) || s->new_link) break;
    if (s->gap) {
      if (!sync) break;
      s->gap = false;
    }
    burst_add(s, sync, data, len, serve_now_ns());
    fan_out_media(s, sync, data, len);
    flush_all(s);
    break;
  }
  case SC_STATION_TITLE:
    /* The source repeats its state for late listeners; players get a
     * title block only when the title changed (as Icecast sends it). */
    if (len != s->title_len || memcmp(data, s->title, len) != 0) {
      s->title_len = len < sizeof s->title ? len : sizeof s->title;
      memcpy(s->title, data, s->title_len);
      s->title_ver++;
    }
    break;
  case SC_STATION_LISTENERS: /* kept by the reader for the status pages */
  case SC_STATION_PAGE:      /* kept by the reader for /page/ (runtime/page.h) */
  case SC_STATION_STATE_SIG: /* the listener's output keeps it (output.c) */
    break;
  case SC_STATION_END:
    /* The broadcast is over: players get what is queued, then EOF (Icecast
     * closes its listeners when the source leaves). */
    s->ended = true;
    burst_clear(s);
    for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++) {
      serve_conn *c = s->conns[k];
      if (c && c->state == SERVE_STREAM) {
        c->ending = true;
        /* What is queued goes out, within a bound for a stalled player. */
        serve_conn_deadline(c, serve_now_ns() + RT_SERVE_ANSWER_TIMEOUT_NS);
      }
    }
    flush_all(s);
    break;
  }
}

/* What the reader counted since the last look: a loss means a gap. */
static void reader_delta(rt_serve *s) {
  sc_station_reader_stats now;
  sc_station_reader_get_stats(s->reader, &now);
  if (now.gens_lost != s->rs.gens_lost || now.records_cut != s->rs.records_cut) {
    s->st.gaps++;
    s->gap = true;
    burst_clear(s);
    for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++)
      if (s->conns[k]) s->conns[k]->gap = true;
  }
  s->rs = now;
}

/* ------------------------------------------------------------ API */

int serve_station_init(rt_serve *s) {
  s->hdr_ver = 1;
  return sc_station_reader_new(&s->reader, on_record, s, NULL) == SC_OK ? 0
                                                                        : SC_ERR_NOMEM;
}

void serve_station_free(rt_serve *s) {
  burst_clear(s);
  sc_station_reader_del(s->reader);
  s->reader = NULL;
  free(s->hdr);
  s->hdr = NULL;
  free(s->gen_buf);
  s->gen_buf = NULL;
}

bool serve_station_known(const rt_serve *s) {
  return s->info_seen && !s->ended;
}

int serve_station_head(rt_serve *s, const rt_serve_request *req, char *out, size_t cap,
                       int *metaint) {
  /* The station's description as the source's ice-* headers, so that the
   * head is the one Icecast sends for such a source. */
  static const char *const keys[][2] = {
      {"name", "ice-name"},       {"description", "ice-description"},
      {"genre", "ice-genre"},     {"url", "ice-url"},
      {"bitrate", "ice-bitrate"}, {"audio-info", "ice-audio-info"},
      {"public", "ice-public"},
  };
  static sc_http_request src; /* large; single-threaded */
  static char vals[sizeof keys / sizeof keys[0]][SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  memset(&src, 0, sizeof src);
  const char *info = sc_station_reader_info(s->reader);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (!sc_station_info_get(info, keys[i][0], vals[i], sizeof vals[i]) || !vals[i][0])
      continue;
    sc_http_header *h = &src.headers[src.header_count++];
    h->name = (sc_http_slice){keys[i][1], strlen(keys[i][1])};
    h->value = (sc_http_slice){vals[i], strlen(vals[i])};
  }
  return sc_http_write_listener_head(req->srv, &src, s->content_type, req->http,
                                     s->icy ? SC_HTTP_ICY_METAINT_DEFAULT_BYTES : 0,
                                     metaint, out, cap);
}

void serve_station_attach(rt_serve *s, serve_conn *c) {
  c->hdr_sent = 0;
  c->title_sent = 0;
  c->gap = false;
  if (!station_ready(s) || s->new_link || s->gap || !s->burst) return;
  /* The codec headers, then the burst from its newest sync point at least
   * burst_ns old (else its oldest), then live. */
  uint64_t now = serve_now_ns();
  uint64_t cutoff = now > s->cfg.burst_ns ? now - s->cfg.burst_ns : 0;
  serve_rec *start = NULL;
  size_t left = s->burst_bytes; /* bytes from r to the end */
  for (serve_rec *r = s->burst; r; left -= r->len, r = r->next)
    if (r->sync && left <= s->cfg.queue_bytes / 2 && (!start || r->t_ns <= cutoff))
      start = r;
  if (!start) return; /* wait for the next sync point */
  serve_queue_put(c, s->hdr, s->hdr_len);
  c->hdr_sent = s->hdr_ver;
  uint64_t before = c->qlen;
  for (serve_rec *r = start; r && !c->dead; r = r->next)
    put_media(s, c, r->data, r->len);
  s->st.bursts++;
  s->st.burst_bytes += c->qlen - before;
}

void rt_serve_state(rt_serve *s, const uint8_t *data, size_t len) {
  if (!s->reader) return;
  const uint8_t *page;
  size_t plen;
  sc_station_reader_page(s->reader, &page, &plen);
  if (!s->info_seen)
    (void)sc_station_reader_state(s->reader, data, len);
  else if (plen == 0) /* the stream brought INFO first, not the page */
    (void)sc_station_reader_state_page(s->reader, data, len);
}

void rt_serve_page(const rt_serve *s, const uint8_t **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (s->reader && serve_station_known(s)) sc_station_reader_page(s->reader, data, len);
}

void rt_serve_deliver(rt_serve *s, uint64_t gen, const uint8_t *data, size_t datalen) {
  if (!data) return;
  sc_station_reader_gen(s->reader, gen, data, datalen);
  reader_delta(s);
}

void rt_serve_lost(rt_serve *s, uint64_t gen) {
  sc_station_reader_lost(s->reader, gen);
  reader_delta(s);
}

void rt_serve_restarted(rt_serve *s, bool new_epoch) {
  if (!new_epoch) return; /* same epoch: numbering goes on */
  sc_station_reader_restart(s->reader);
  reader_delta(s);
  s->gap = false;
  s->info_seen = false;
  s->headers_seen = false;
  s->new_link = true;
  s->session[0] = '\0';
  burst_clear(s);
}

/* ------------------------------------------------------------ the tee */

static void tee_gen(rt_serve *s) {
  if (s->gen_fill == 0) return;
  rt_serve_deliver(s, s->tee_gen++, s->gen_buf, s->gen_fill);
  s->gen_fill = 0;
}

static int tee_write(void *user, const uint8_t *data, size_t len) {
  rt_serve *s = user;
  int rc = sc_node_source_write(s->tee_node, data, len, serve_now_ns());
  while (len > 0 && s->gen_buf) {
    size_t n = s->gen_bytes - s->gen_fill < len ? s->gen_bytes - s->gen_fill : len;
    memcpy(s->gen_buf + s->gen_fill, data, n);
    s->gen_fill += n;
    data += n;
    len -= n;
    if (s->gen_fill == s->gen_bytes) tee_gen(s);
  }
  return rc;
}

static int tee_flush(void *user) {
  rt_serve *s = user;
  int rc = sc_node_source_flush(s->tee_node, serve_now_ns());
  tee_gen(s);
  return rc;
}

void rt_serve_tee_sink(rt_serve *s, sc_node *node, uint32_t gen_bytes,
                       sc_station_sink *out) {
  s->tee_node = node;
  s->gen_bytes = gen_bytes;
  s->gen_fill = 0;
  free(s->gen_buf);
  s->gen_buf = malloc(gen_bytes);
  *out = (sc_station_sink){tee_write, tee_flush, s};
}
