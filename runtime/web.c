/*
 * web.c — the page's side in the runtime (web.h): the tick that keeps rates
 * and continuity samples, the snapshot /peer.json renders, and the embedded
 * files.
 */
#include "runtime/web.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/err.h"
#include "core/scribe.h"
#include "core/station.h"
#include "runtime/host.h"
#include "runtime/page.h"
#include "runtime/serve.h"

static void web_tick_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  (void)loop;
  (void)revents;
  rt_web_tick(t->data, rt_now_ns());
}

void rt_web_start(rt_web *w, rt_host *h) {
  memset(w, 0, sizeof *w);
  w->h = h;
  ev_timer_init(&w->tick, web_tick_cb, RT_WEB_TICK_S, RT_WEB_TICK_S);
  w->tick.data = w;
  ev_timer_start(h->loop, &w->tick);
  w->running = true;
  rt_web_tick(w, rt_now_ns()); /* the counters' starting point */
}

void rt_web_stop(rt_web *w) {
  if (!w->running) return;
  ev_timer_stop(w->h->loop, &w->tick);
  w->running = false;
}

/* The peer the page shows: the process's first. */
static const rt_peer *web_peer(const rt_web *w) {
  const rt_host *h = w->h;
  return h->npeers > 0 && h->peers[0].node ? &h->peers[0] : NULL;
}

static uint64_t peer_bad(const rt_peer *p) {
  return p->gens_lost + p->gens_skipped;
}

void rt_web_tick(rt_web *w, uint64_t now) {
  const rt_peer *p = web_peer(w);
  if (!p) return;
  double dt = w->tick_ns && now > w->tick_ns ? (double)(now - w->tick_ns) / 1e9 : 0;
  for (unsigned s = 0; s < SC_STRIPES_MAX; s++) {
    const rt_stripe_counters *c = &p->stripe[s];
    w->in_per_s[s] = dt > 0 ? (double)(c->chunks_in - w->prev_in[s]) / dt : 0;
    w->out_per_s[s] = dt > 0 ? (double)(c->chunks_out - w->prev_out[s]) / dt : 0;
    w->prev_in[s] = c->chunks_in;
    w->prev_out[s] = c->chunks_out;
  }
  if (!w->tick_ns) {
    w->period_gens = p->gens_delivered;
    w->period_bad = peer_bad(p);
  } else if (++w->ticks % RT_WEB_SAMPLE_TICKS == 0) {
    rt_web_sample *m = &w->ring[w->head];
    m->end_ns = now;
    m->gens = p->gens_delivered - w->period_gens;
    m->gens_bad = peer_bad(p) - w->period_bad;
    w->period_gens = p->gens_delivered;
    w->period_bad = peer_bad(p);
    w->head = (w->head + 1) % RT_WEB_SAMPLES;
    if (w->n < RT_WEB_SAMPLES) w->n++;
  }
  w->tick_ns = now;
}

static void web_ref(const rt_host *h, const sc_ref *r, sc_peerjson_ref *out) {
  out->id = r->id;
  struct sockaddr_in sa;
  char a[RT_ADDR_STR_MAX];
  if (rt_addr_sockaddr(&h->addrs, r->addr, &sa) == 0) {
    rt_addr_format(ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port), a);
    memcpy(out->addr, a, sizeof out->addr - 1);
    out->addr[sizeof out->addr - 1] = '\0';
  } else {
    out->addr[0] = '\0';
  }
}

static void web_stripes(const rt_web *w, const rt_peer *p, sc_peerjson_snapshot *s) {
  const sc_splitstream *ss = sc_node_forest_c(p->node);
  const sc_scribe *sc = sc_node_scribe_c(p->node);
  unsigned k = sc_splitstream_stripes(ss);
  s->nstripes = k < SC_PEERJSON_STRIPES_MAX ? k : SC_PEERJSON_STRIPES_MAX;
  for (unsigned i = 0; i < s->nstripes; i++) {
    sc_peerjson_stripe *t = &s->stripes[i];
    unsigned g = sc_splitstream_group(ss, i);
    t->wanted = sc_splitstream_wants(ss, i);
    t->attached = sc_scribe_attached(sc, g);
    t->root = sc_scribe_is_root(sc, g);
    sc_ref r;
    t->has_parent = sc_scribe_parent(sc, g, &r);
    if (t->has_parent) web_ref(w->h, &r, &t->parent);
    t->nchildren = sc_scribe_children(sc, g);
    for (unsigned c = 0; c < t->nchildren && c < SC_PEERJSON_CHILDREN_MAX; c++)
      if (sc_scribe_child_at(sc, g, c, &r)) web_ref(w->h, &r, &t->children[c]);
    t->chunks_in = p->stripe[i].chunks_in;
    t->chunks_out = p->stripe[i].chunks_out;
    t->chunks_missed = p->stripe[i].chunks_missed;
    t->in_per_s = w->in_per_s[i];
    t->out_per_s = w->out_per_s[i];
  }
}

static void web_copy(char *dst, size_t cap, const char *src) {
  size_t n = src ? strnlen(src, cap - 1) : 0;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
}

/* A station's container (INFO's container=) as a player's Content-Type. */
static const char *web_container_type(const char *container) {
  static const struct {
    const char *container, *type;
  } map[] = {{"ogg", "audio/ogg"},  {"webm", "video/webm"}, {"mpegts", "video/mp2t"},
             {"mp3", "audio/mpeg"}, {"aac", "audio/aac"},   {"flac", "audio/flac"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(container, map[i].container) == 0) return map[i].type;
  return "";
}

/* The station's content type: the players' server's, else the encoder's
 * (INFO's content-type=), else its container's. */
static void web_content_type(const char *info, char *out, size_t cap) {
  char v[SC_PEERJSON_TEXT_MAX_BYTES + 1];
  if (!info) return;
  if (sc_station_info_get(info, "content-type", v, sizeof v))
    web_copy(out, cap, v);
  else if (sc_station_info_get(info, "container", v, sizeof v))
    web_copy(out, cap, web_container_type(v));
}

static void web_stations(const rt_web *w, sc_peerjson_snapshot *s) {
  const rt_host *h = w->h;
  if (!h->opt.station) return;
  sc_peerjson_station *st = &s->stations[0];
  s->nstations = 1;
  const char *info = NULL;
  if (h->serve) {
    rt_serve_snapshot v;
    rt_serve_snapshot_get(h->serve, &v);
    web_copy(st->mount, sizeof st->mount, v.mount);
    web_copy(st->content_type, sizeof st->content_type, v.content_type);
    web_copy(st->title, sizeof st->title, v.title);
    st->listeners = v.listeners;
    info = v.info;
    const uint8_t *page;
    size_t plen;
    rt_serve_page(h->serve, &page, &plen);
    st->page_bytes = (uint32_t)plen;
  } else {
    st->mount[0] = '/';
    web_copy(st->mount + (h->opt.station[0] != '/'), sizeof st->mount - 1,
             h->opt.station);
    const rt_output *o = h->out ? &h->out[0] : NULL;
    if (o && o->reader) {
      web_copy(st->title, sizeof st->title, sc_station_reader_title(o->reader));
      info = sc_station_reader_info(o->reader);
    }
  }
  if (!st->content_type[0])
    web_content_type(info, st->content_type, sizeof st->content_type);
  char v[SC_PEERJSON_TEXT_MAX_BYTES + 1];
  if (info && sc_station_info_get(info, "name", v, sizeof v))
    web_copy(st->name, sizeof st->name, v);
}

void rt_web_snapshot(const rt_web *w, uint64_t now, sc_peerjson_snapshot *s) {
  const rt_host *h = w->h;
  memset(s, 0, sizeof *s);
  s->source = h->cfg.stream_source;
  s->uptime_s = now > h->start_ns ? (double)(now - h->start_ns) / 1e9 : 0;
  s->sample_period_s = RT_WEB_TICK_S * RT_WEB_SAMPLE_TICKS;
  web_stations(w, s);
  const rt_peer *p = web_peer(w);
  if (!p) return;
  s->id = p->self.id;
  char a[RT_ADDR_STR_MAX];
  rt_addr_format(p->ip, p->port, a);
  web_copy(s->addr, sizeof s->addr, a);
  s->playing = p->got_first;
  s->gens_delivered = p->gens_delivered;
  s->gens_bad = peer_bad(p);
  web_stripes(w, p, s);
  s->nsamples = w->n;
  for (unsigned i = 0; i < w->n; i++) {
    const rt_web_sample *m =
        &w->ring[(w->head + RT_WEB_SAMPLES - w->n + i) % RT_WEB_SAMPLES];
    s->samples[i].age_s = now > m->end_ns ? (double)(now - m->end_ns) / 1e9 : 0;
    s->samples[i].gens = m->gens;
    s->samples[i].gens_bad = m->gens_bad;
  }
}

int rt_web_peer_json(const rt_web *w, uint64_t now, char *out, size_t cap) {
  static sc_peerjson_snapshot s; /* 40 KB: not on the stack; one loop thread */
  rt_web_snapshot(w, now, &s);
  return sc_peerjson_render(&s, out, cap);
}

const rt_web_asset *rt_web_asset_find(const char *path, size_t len) {
  if (len == 1 && path[0] == '/') {
    path = "/index.html";
    len = strlen(path);
  }
  for (unsigned i = 0; i < rt_web_assets_count; i++) {
    const rt_web_asset *a = &rt_web_assets[i];
    if (strlen(a->path) == len && memcmp(a->path, path, len) == 0) return a;
  }
  return NULL;
}

const char *rt_web_content_type(const char *path) {
  static const struct {
    const char *ext, *type;
  } map[] = {{".html", "text/html; charset=utf-8"},
             {".js", "text/javascript; charset=utf-8"},
             {".css", "text/css; charset=utf-8"},
             {".svg", "image/svg+xml"},
             {".png", "image/png"}};
  size_t n = strlen(path);
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    size_t e = strlen(map[i].ext);
    if (n >= e && strcmp(path + n - e, map[i].ext) == 0) return map[i].type;
  }
  return "application/octet-stream";
}

/* If-None-Match names etag (RFC 9110 §13.1.2: the weak comparison, so
 * W/"x" matches "x"; "*" matches any). */
static bool web_etag_match(const char *inm, size_t len, const char *etag) {
  if (!inm) return false;
  while (len && (*inm == ' ' || *inm == '\t'))
    inm++, len--;
  while (len && (inm[len - 1] == ' ' || inm[len - 1] == '\t'))
    len--;
  if (len == 1 && inm[0] == '*') return true;
  size_t e = strlen(etag);
  for (size_t i = 0; i + e <= len; i++)
    if (memcmp(inm + i, etag, e) == 0) return true;
  return false;
}

int rt_web_route(const rt_web *w, uint64_t now, const char *path, size_t len,
                 const char *if_none_match, size_t inm_len, char *buf, size_t cap,
                 rt_web_reply *out) {
  memset(out, 0, sizeof *out);
  static const char json_path[] = "/peer.json";
  if (len == sizeof json_path - 1 && memcmp(path, json_path, len) == 0) {
    int n = rt_web_peer_json(w, now, buf, cap);
    if (n < 0) return n;
    *out = (rt_web_reply){.status = 200,
                          .content_type = "application/json",
                          .cache_control = RT_WEB_CACHE_LIVE,
                          .body = buf,
                          .body_len = (size_t)n};
    return 0;
  }
  const rt_web_asset *a = rt_web_asset_find(path, len);
  if (!a) return SC_ERR_NOT_FOUND;
  bool fresh = web_etag_match(if_none_match, inm_len, a->etag);
  *out = (rt_web_reply){.status = fresh ? 304 : 200,
                        .content_type = rt_web_content_type(a->path),
                        .cache_control = RT_WEB_CACHE_ASSET,
                        .etag = a->etag,
                        .body = fresh ? NULL : (const char *)a->data,
                        .body_len = fresh ? 0 : a->len};
  return 0;
}

/* The head of a page answer: serve.h's shape (Server, Connection: Close,
 * Date, RT_SERVE_EXTRA_HEADERS), with this route's own caching
 * (rt_serve_respond's are the stream's: never cache). A 304 carries no
 * body and no Content-Length (RFC 9110 §15.4.5). */
static int web_respond(const rt_serve_request *req, const rt_web_reply *r,
                       rt_serve_buf *out) {
  const sc_http_server_info *srv = req->srv;
  bool ok = rt_serve_buf_printf(
      out, "HTTP/1.0 %d %s\r\nServer: %s\r\nConnection: Close\r\n", r->status,
      r->status == 304 ? "Not Modified" : "OK", srv->server_id);
  if (srv->date) ok = ok && rt_serve_buf_printf(out, "Date: %s\r\n", srv->date);
  ok = ok && rt_serve_buf_printf(out, "Content-Type: %s\r\nCache-Control: %s\r\n",
                                 r->content_type, r->cache_control);
  if (r->status != 304)
    ok = ok && rt_serve_buf_printf(out, "Content-Length: %zu\r\n", r->body_len);
  if (r->etag) ok = ok && rt_serve_buf_printf(out, "ETag: %s\r\n", r->etag);
  /* The server's own extra headers, as on its other answers. */
  ok = ok && rt_serve_buf_printf(out, "%s\r\n", RT_SERVE_EXTRA_HEADERS);
  if (ok && !req->head_only && r->body_len)
    ok = rt_serve_buf_put(out, r->body, r->body_len);
  return ok ? 0 : SC_ERR_NOBUF;
}

static int web_handler(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  const rt_web *w = ctx;
  const sc_http_slice *inm = sc_http_header_find(req->http, "If-None-Match");
  static char buf[SC_PEERJSON_MAX_BYTES]; /* one loop thread; copied out at once */
  rt_web_reply r;
  int rv = rt_web_route(w, rt_now_ns(), req->path, strlen(req->path),
                        inm ? inm->ptr : NULL, inm ? inm->len : 0, buf, sizeof buf, &r);
  if (rv == SC_ERR_NOT_FOUND) return rt_serve_respond_error(req, out, 404, "Not Found");
  if (rv < 0) return rv;
  return web_respond(req, &r, out);
}

int rt_web_add_routes(rt_web *w, rt_serve *s) {
  int rv = rt_serve_add_route(s, "/", web_handler, w);
  if (rv == 0) rv = rt_serve_add_route(s, "/peer.json", web_handler, w);
  for (unsigned i = 0; rv == 0 && i < rt_web_assets_count; i++)
    rv = rt_serve_add_route(s, rt_web_assets[i].path, web_handler, w);
  return rv == 0 ? rt_page_add_routes(s) : rv;
}
