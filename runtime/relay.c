/* relay.c — relaying an Icecast/SHOUTcast stream (see relay.h). */
#include "relay.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "peer.h"

/* ------------------------------------------------------------ the relay */

typedef struct relay_sock {
  ev_io io;
  struct rt_relay *r;
  curl_socket_t fd;
} relay_sock;

struct rt_relay {
  rt_relay_config cfg;
  char url[RT_RELAY_URL_MAX + 1];
  char info_prefix[SC_STATION_INFO_MAX / 2];
  struct ev_loop *loop;
  rt_station_source *st;
  CURLM *multi;
  CURL *easy;
  char errbuf[CURL_ERROR_SIZE];
  struct curl_slist *req_headers;
  ev_timer curl_timer;
  ev_timer retry_timer;
  bool running;
  bool in_session;
  bool got_audio;
  uint64_t backoff_ms;
  uint64_t rng;
  /* The current response's head. */
  long status;
  rt_relay_head head;
  rt_icy_reader icy;
  uint64_t now;
  rt_relay_stats s;
};

int rt_relay_check_url(const char *url, char *why, size_t whylen) {
  if (strlen(url) > RT_RELAY_URL_MAX) {
    snprintf(why, whylen, "longer than %d bytes", RT_RELAY_URL_MAX);
    return SC_ERR_INVALID;
  }
  CURLU *u = curl_url();
  if (!u) return SC_ERR_NOMEM;
  int rv = SC_ERR_INVALID;
  char *scheme = NULL, *host = NULL;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (uc != CURLUE_OK) {
    snprintf(why, whylen, "'%s' is not a URL (%s)", url, curl_url_strerror(uc));
  } else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
    snprintf(why, whylen, "'%s': only http:// and https:// URLs are relayed", url);
  } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
    snprintf(why, whylen, "'%s' names no host", url);
  } else {
    rv = 0;
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rv;
}

static void after_feed(rt_relay *r) {
  if (r->cfg.after_feed) r->cfg.after_feed(r->cfg.user, r->now);
}

static void head_reset(rt_relay *r) {
  r->status = 0;
  rt_relay_head_reset(&r->head, r->info_prefix, r->url);
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *user) {
  rt_relay *r = user;
  size_t len = size * nitems;
  if (rt_relay_head_line(&r->head, buf, len)) head_reset(r);
  return len;
}

static void icy_audio(void *user, const uint8_t *data, size_t datalen) {
  rt_relay *r = user;
  r->s.audio_bytes += datalen;
  if (rt_station_source_feed(r->st, data, datalen, r->now) != 0) r->s.feed_errors++;
}

static void icy_meta(void *user, const uint8_t *block, size_t blocklen) {
  rt_relay *r = user;
  r->s.meta_blocks++;
  if (blocklen == 1) return; /* an empty block: no change */
  sc_http_icy_meta m;
  if (sc_http_icy_meta_parse(block, blocklen, &m) < 0) {
    r->s.meta_bad++;
    return;
  }
  if (!m.has_title) return;
  size_t n = m.title.len < sizeof r->s.title - 1 ? m.title.len : sizeof r->s.title - 1;
  memcpy(r->s.title, m.title.ptr, n);
  r->s.title[n] = '\0';
  r->s.titles++;
  (void)rt_station_source_title(r->st, r->s.title, r->now);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *user) {
  rt_relay *r = user;
  size_t len = size * nmemb;
  r->now = rt_now_ns();
  if (!r->in_session) {
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    r->s.last_status = code;
    r->s.connects++;
    r->s.metaint = r->head.metaint;
    rt_icy_reader_init(&r->icy, r->head.metaint);
    sc_media_kind kind = sc_media_kind_from_content_type(r->head.content_type);
    (void)rt_station_source_begin(r->st, kind, r->head.info, r->now);
    r->in_session = true;
  }
  r->s.bytes_in += len;
  if (len > 0) r->got_audio = true;
  rt_icy_sink sink = {icy_audio, icy_meta, r};
  rt_icy_reader_feed(&r->icy, (const uint8_t *)data, len, &sink);
  after_feed(r);
  return len;
}

static uint64_t rng_next(rt_relay *r) {
  /* xorshift64*: the jitter needs no more. */
  r->rng ^= r->rng >> 12;
  r->rng ^= r->rng << 25;
  r->rng ^= r->rng >> 27;
  return r->rng * 0x2545F4914F6CDD1Dull;
}

static void connect_now(rt_relay *r);

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_relay *r = w->data;
  if (!r->running) return;
  r->s.reconnects++;
  connect_now(r);
}

/* The connection is over: end its session, schedule the next one. */
static void connection_done(rt_relay *r, CURLcode res) {
  r->now = rt_now_ns();
  long code = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
  if (code) r->s.last_status = code;
  if (res != CURLE_OK)
    snprintf(r->s.last_error, sizeof r->s.last_error, "%s",
             r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
  else
    snprintf(r->s.last_error, sizeof r->s.last_error, "the stream ended");
  curl_multi_remove_handle(r->multi, r->easy);
  if (r->in_session) {
    rt_station_source_end(r->st, false, r->now);
    r->in_session = false;
    after_feed(r);
  }
  if (!r->running) return;
  if (r->got_audio) r->backoff_ms = RT_RELAY_BACKOFF_MIN_MS;
  uint64_t base = r->backoff_ms;
  /* Jitter: base * (1 +- RT_RELAY_JITTER_PCT %). */
  uint64_t span = base * 2 * RT_RELAY_JITTER_PCT / 100;
  uint64_t delay = base - base * RT_RELAY_JITTER_PCT / 100 + rng_next(r) % (span + 1);
  r->backoff_ms = base * 2 > RT_RELAY_BACKOFF_MAX_MS ? RT_RELAY_BACKOFF_MAX_MS : base * 2;
  r->s.backoff_ms = r->backoff_ms;
  ev_timer_set(&r->retry_timer, (double)delay / 1e3, 0.0);
  ev_timer_start(r->loop, &r->retry_timer);
}

static void check_done(rt_relay *r) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(r->multi, &left))) {
    if (m->msg == CURLMSG_DONE && m->easy_handle == r->easy) {
      connection_done(r, m->data.result);
      return; /* the handle is out of the multi now */
    }
  }
}

static void sock_cb_ev(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  relay_sock *rs = w->data;
  rt_relay *r = rs->r;
  int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
               (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
  int running;
  curl_multi_socket_action(r->multi, rs->fd, action, &running);
  check_done(r);
}

static void timer_cb_ev(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_relay *r = w->data;
  int running;
  curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(r);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what curl waits on. */
static int socket_cb(CURL *e, curl_socket_t s, int what, void *user, void *sockp) {
  (void)e;
  rt_relay *r = user;
  relay_sock *rs = sockp;
  if (what == CURL_POLL_REMOVE) {
    if (rs) {
      ev_io_stop(r->loop, &rs->io);
      free(rs);
      curl_multi_assign(r->multi, s, NULL);
    }
    return 0;
  }
  int ev = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
  if (!rs) {
    rs = calloc(1, sizeof *rs);
    if (!rs) return -1;
    rs->r = r;
    rs->fd = s;
    rs->io.data = rs;
    curl_multi_assign(r->multi, s, rs);
  } else {
    ev_io_stop(r->loop, &rs->io);
  }
  ev_io_init(&rs->io, sock_cb_ev, s, ev);
  rs->io.data = rs;
  ev_io_start(r->loop, &rs->io);
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants a call after timeout_ms (-1: none). */
static int timer_cb(CURLM *m, long timeout_ms, void *user) {
  (void)m;
  rt_relay *r = user;
  ev_timer_stop(r->loop, &r->curl_timer);
  if (timeout_ms >= 0) {
    ev_timer_set(&r->curl_timer, (double)timeout_ms / 1e3, 0.0);
    ev_timer_start(r->loop, &r->curl_timer);
  }
  return 0;
}

static void connect_now(rt_relay *r) {
  r->s.attempts++;
  r->got_audio = false;
  r->errbuf[0] = '\0';
  head_reset(r);
  CURLMcode mc = curl_multi_add_handle(r->multi, r->easy);
  if (mc != CURLM_OK) {
    snprintf(r->s.last_error, sizeof r->s.last_error, "%s", curl_multi_strerror(mc));
    ev_timer_set(&r->retry_timer, (double)r->backoff_ms / 1e3, 0.0);
    ev_timer_start(r->loop, &r->retry_timer);
  }
}

int rt_relay_new(rt_relay **out, struct ev_loop *loop, rt_station_source *st,
                 const rt_relay_config *cfg, char *err, size_t errlen) {
  *out = NULL;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return SC_ERR_NOMEM;
  int rv = rt_relay_check_url(cfg->url, err, errlen);
  if (rv != 0) return rv;
  rt_relay *r = calloc(1, sizeof *r);
  if (!r) return SC_ERR_NOMEM;
  r->cfg = *cfg;
  snprintf(r->url, sizeof r->url, "%s", cfg->url);
  if (cfg->info) snprintf(r->info_prefix, sizeof r->info_prefix, "%s", cfg->info);
  r->loop = loop;
  r->st = st;
  r->backoff_ms = RT_RELAY_BACKOFF_MIN_MS;
  r->s.backoff_ms = r->backoff_ms;
  r->rng = cfg->seed | 1;
  r->multi = curl_multi_init();
  r->easy = curl_easy_init();
  r->req_headers = curl_slist_append(NULL, "Icy-MetaData: 1");
  if (!r->multi || !r->easy || !r->req_headers) {
    rt_relay_del(r);
    return SC_ERR_NOMEM;
  }
  ev_timer_init(&r->curl_timer, timer_cb_ev, 0., 0.);
  r->curl_timer.data = r;
  ev_timer_init(&r->retry_timer, retry_cb, 0., 0.);
  r->retry_timer.data = r;
  curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
  curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
  CURL *e = r->easy;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->req_headers);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "stripecast");
  curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)RT_RELAY_CONNECT_TIMEOUT_S);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)RT_RELAY_STALL_S);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  *out = r;
  return 0;
}

void rt_relay_start(rt_relay *r) {
  if (r->running) return;
  r->running = true;
  connect_now(r);
}

void rt_relay_stop(rt_relay *r) {
  if (!r->running) return;
  r->running = false;
  ev_timer_stop(r->loop, &r->retry_timer);
  ev_timer_stop(r->loop, &r->curl_timer);
  /* Removing the handle closes its sockets (socket_cb frees their watchers). */
  curl_multi_remove_handle(r->multi, r->easy);
  /* Removing the handle may have set curl's timer again. */
  ev_timer_stop(r->loop, &r->curl_timer);
  if (r->in_session) {
    r->now = rt_now_ns();
    rt_station_source_end(r->st, false, r->now);
    r->in_session = false;
    after_feed(r);
  }
}

void rt_relay_del(rt_relay *r) {
  if (!r) return;
  rt_relay_stop(r);
  if (r->easy) curl_easy_cleanup(r->easy);
  if (r->multi) curl_multi_cleanup(r->multi);
  /* No watcher may outlive the relay. */
  ev_timer_stop(r->loop, &r->curl_timer);
  ev_timer_stop(r->loop, &r->retry_timer);
  curl_slist_free_all(r->req_headers);
  free(r);
}

void rt_relay_get_stats(const rt_relay *r, rt_relay_stats *out) {
  *out = r->s;
}
