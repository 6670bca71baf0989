/* status.c — see status.h: status routes, admin, metrics, the tally's I/O. */
#include "status.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/station.h"
#include "core/tally.h"
#include "host.h"
#include "http/status.h"
#include "serve_priv.h"

struct rt_status {
  rt_host *h;
  ev_timer timer;
  char admin_pw[SC_HTTP_PASSWORD_MAX_BYTES + 1];
  bool admin_set;
  int64_t server_start_s; /* realtime */
  int64_t stream_start_s; /* realtime when the station was first on the air; -1 */
  uint32_t peak;          /* broadcaster: the station-wide peak */
  uint64_t next_publish_ns;
};

static int64_t realtime_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

/* ------------------------------------------------------------ the tally */

static rt_peer *source_peer(rt_host *h) {
  return h->opt.source || h->opt.ingest ? &h->peers[0] : NULL;
}

/* This peer's own listeners: its players, and one for an --output. */
static uint32_t local_listeners(const rt_host *h, uint32_t i) {
  uint32_t n = h->opt.output ? 1 : 0;
  if (i == 0 && h->serve) n += h->serve->nlisteners;
  return n;
}

static void status_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_status *st = w->data;
  rt_host *h = st->h;
  uint64_t now = rt_now_ns();
  for (uint32_t i = 0; i < h->npeers; i++)
    if (h->peers[i].node)
      sc_node_tally_set_local(h->peers[i].node, local_listeners(h, i));
  if (h->serve && st->stream_start_s < 0) {
    rt_serve_snapshot snap;
    rt_serve_snapshot_get(h->serve, &snap);
    if (snap.on_air) st->stream_start_s = realtime_s();
  }
  rt_peer *p = source_peer(h);
  if (p && p->node && h->src.station && now >= st->next_publish_ns &&
      rt_station_source_in_session(h->src.station)) {
    st->next_publish_ns = now + SC_TALLY_PERIOD_NS;
    uint32_t total = sc_node_tally_total(p->node, now);
    if (total > st->peak) st->peak = total;
    rt_station_source_listeners(h->src.station, total, st->peak, now);
    rt_peer_after_core(p, now);
  }
}

/* ------------------------------------------------------------ snapshot */

/* What the status pages say of the station: the reader's state, the
 * tally's count, the server's start. Strings point into bufs. */
typedef struct station_view {
  sc_status_station st;
  sc_status_snapshot snap;
  char name[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  char description[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  char genre[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  char url[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  char audio_info[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  char listenurl[2 * SC_HTTP_MOUNT_MAX_BYTES + 16];
  char hostname[SC_HTTP_MOUNT_MAX_BYTES + 1];
  char title[SC_STATION_TITLE_MAX + 1];
} station_view;

static const char *info_or_null(const char *info, const char *key, char *out,
                                size_t cap) {
  return sc_station_info_get(info, key, out, cap) && out[0] ? out : NULL;
}

/* A "key=N" inside ice-audio-info ("channels=2;samplerate=44100"). */
static unsigned audio_info_num(const char *ai, const char *key) {
  size_t k = strlen(key);
  for (const char *p = ai; p && *p;) {
    if (strncmp(p, key, k) == 0 && p[k] == '=')
      return (unsigned)strtoul(p + k + 1, 0, 10);
    p = strchr(p, ';');
    if (p) p++;
  }
  return 0;
}

static void view_build(const rt_status *s, const rt_serve_request *req, station_view *v) {
  memset(v, 0, sizeof *v);
  rt_serve *sv = s->h->serve;
  rt_serve_snapshot snap;
  rt_serve_snapshot_get(sv, &snap);
  /* The host part of the Host the client used. */
  snprintf(v->hostname, sizeof v->hostname, "%s", req->host);
  char *colon = strrchr(v->hostname, ':');
  if (colon) *colon = '\0';
  v->snap.server = (sc_status_server){.admin = RT_STATUS_ADMIN,
                                      .host = v->hostname,
                                      .location = RT_STATUS_LOCATION,
                                      .server_id = RT_SERVE_SERVER_ID,
                                      .server_start_s = s->server_start_s};
  if (!snap.on_air) return;
  sc_status_station *st = &v->st;
  const char *info = snap.info;
  st->mount = snap.mount;
  st->name = info_or_null(info, "name", v->name, sizeof v->name);
  st->description =
      info_or_null(info, "description", v->description, sizeof v->description);
  st->genre = info_or_null(info, "genre", v->genre, sizeof v->genre);
  st->url = info_or_null(info, "url", v->url, sizeof v->url);
  st->audio_info = info_or_null(info, "audio-info", v->audio_info, sizeof v->audio_info);
  char br[32];
  if (sc_station_info_get(info, "bitrate", br, sizeof br))
    st->bitrate_kbps = (unsigned)strtoul(br, 0, 10);
  if (!st->bitrate_kbps) st->bitrate_kbps = audio_info_num(st->audio_info, "bitrate");
  st->channels = audio_info_num(st->audio_info, "channels");
  if (!st->channels) st->channels = audio_info_num(st->audio_info, "ice-channels");
  st->samplerate_hz = audio_info_num(st->audio_info, "samplerate");
  if (!st->samplerate_hz)
    st->samplerate_hz = audio_info_num(st->audio_info, "ice-samplerate");
  st->content_type = snap.content_type[0] ? snap.content_type : NULL;
  if (snap.title[0]) {
    snprintf(v->title, sizeof v->title, "%s", snap.title);
    st->title = v->title;
  }
  snprintf(v->listenurl, sizeof v->listenurl, "http://%s%s", req->host, snap.mount);
  st->listenurl = v->listenurl;
  uint32_t l, peak;
  if (sv->reader && sc_station_reader_listeners(sv->reader, &l, &peak)) {
    st->listeners = l;
    st->listener_peak = peak;
  } else {
    st->listeners = snap.listeners;
    st->listener_peak = snap.listeners_peak;
  }
  /* started= (tenths of a second, realtime) when the broadcaster gave it. */
  char started[32];
  st->stream_start_s = s->stream_start_s;
  if (sc_station_info_get(info, "started", started, sizeof started))
    st->stream_start_s = (int64_t)(strtoull(started, 0, 10) / 10);
  v->snap.stations = st;
  v->snap.nstations = 1;
}

/* ------------------------------------------------------------ routes */

static int respond_text(const rt_serve_request *req, rt_serve_buf *out, const char *type,
                        int (*write)(const void *, char *, size_t), const void *arg) {
  size_t cap = 64 << 10;
  char *body = malloc(cap);
  if (!body) return SC_ERR_NOMEM;
  int n = write(arg, body, cap);
  int rv = n < 0 ? n : rt_serve_respond(req, out, 200, type, NULL, body, (size_t)n);
  free(body);
  return rv;
}

static int w_json(const void *v, char *out, size_t cap) {
  return sc_status_write_json(&((const station_view *)v)->snap, out, cap);
}
static int w_7html(const void *v, char *out, size_t cap) {
  const station_view *sv = v;
  return sc_status_write_7html(sv->snap.nstations ? &sv->st : NULL, out, cap);
}
static int w_stats(const void *v, char *out, size_t cap) {
  return sc_status_write_admin_stats(&((const station_view *)v)->snap, out, cap);
}
static int w_listmounts(const void *v, char *out, size_t cap) {
  return sc_status_write_listmounts(&((const station_view *)v)->snap, realtime_s(), out,
                                    cap);
}
static int w_page(const void *v, char *out, size_t cap) {
  return sc_status_write_admin_page(&((const station_view *)v)->snap, out, cap);
}

static int route_status_json(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  static station_view v;
  view_build(ctx, req, &v);
  return respond_text(req, out, "application/json; charset=UTF-8", w_json, &v);
}

static int route_7html(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  static station_view v;
  view_build(ctx, req, &v);
  return respond_text(req, out, "text/html", w_7html, &v);
}

/* ------------------------------------------------------------ metrics */

/* Buckets of the playout latency histogram, in seconds; the runtime's bins
 * are milliseconds (RT_LAT_BINS_MS, the last one "that or more"). */
static const double lat_le_s[] = {0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4};
#define LAT_BUCKETS (sizeof lat_le_s / sizeof lat_le_s[0])

typedef struct metrics_arg {
  const rt_status *s;
  const station_view *v;
} metrics_arg;

static void counter(sc_metrics_writer *w, const char *name, const char *help,
                    uint64_t v) {
  sc_metrics_family(w, name, "counter", help);
  sc_metrics_sample_u64(w, name, "", v);
}

static void gauge(sc_metrics_writer *w, const char *name, const char *help, double v) {
  sc_metrics_family(w, name, "gauge", help);
  sc_metrics_sample(w, name, "", v);
}

static int w_metrics(const void *arg, char *out, size_t cap) {
  const metrics_arg *a = arg;
  const rt_host *h = a->s->h;
  uint64_t known = 0, attached = 0, delivered = 0, lost = 0, skipped = 0;
  uint64_t chunks_in = 0, chunks_out = 0, repair_got = 0, repair_sent = 0, asks = 0;
  uint64_t dg_in = 0, dg_out = 0, by_in = 0, by_out = 0;
  uint64_t counts[LAT_BUCKETS] = {0}, above = 0;
  double sum_s = 0;
  for (uint32_t i = 0; i < h->npeers; i++) {
    const rt_peer *p = &h->peers[i];
    dg_in += p->c.dgrams_in;
    dg_out += p->c.dgrams_out;
    by_in += p->c.bytes_in;
    by_out += p->c.bytes_out;
    delivered += p->gens_delivered;
    lost += p->gens_lost;
    skipped += p->gens_skipped;
    for (unsigned b = 0; b <= RT_LAT_BINS_MS; b++) {
      uint32_t c = p->lat_ms[b];
      if (!c) continue;
      double s = (double)b / 1e3;
      sum_s += s * c;
      unsigned k = 0;
      while (k < LAT_BUCKETS && s > lat_le_s[k])
        k++;
      if (k < LAT_BUCKETS && b < RT_LAT_BINS_MS)
        counts[k] += c;
      else
        above += c;
    }
    if (!p->node) continue;
    sc_ref ls[SC_LEAFSET_MAX];
    unsigned left;
    sc_pastry_stats ps;
    sc_pastry_get_stats(sc_node_pastry_c(p->node), &ps);
    known += sc_pastry_leafset(sc_node_pastry_c(p->node), ls, SC_LEAFSET_MAX, &left) +
             ps.rt_entries;
    attached += rt_peer_stripes_attached(p);
    sc_channel_stats cs;
    sc_node_stream_stats(p->node, &cs);
    chunks_in += cs.stripe_chunks + cs.repair_chunks_got;
    chunks_out += cs.chunks_published + cs.repair_chunks_sent;
    repair_got += cs.repair_chunks_got;
    repair_sent += cs.repair_chunks_sent;
    asks += cs.repair_asks;
  }
  uint64_t resolved = delivered + lost + skipped;
  const sc_status_station *st = a->v->snap.nstations ? &a->v->st : NULL;
  sc_metrics_writer w;
  sc_metrics_init(&w, out, cap);
  gauge(&w, "stripecast_peers_known", "Peers in the leaf sets and routing tables.",
        (double)known);
  gauge(&w, "stripecast_stripes_attached", "Stripes this process's peers receive.",
        (double)attached);
  counter(&w, "stripecast_generations_delivered_total", "Generations played out.",
          delivered);
  counter(&w, "stripecast_generations_missed_total",
          "Generations lost or skipped at playout.", lost + skipped);
  gauge(&w, "stripecast_continuity",
        "Generations played out over generations due (1: nothing missed).",
        resolved ? (double)delivered / (double)resolved : 1.0);
  counter(&w, "stripecast_chunks_in_total", "Chunks received (stripes and repairs).",
          chunks_in);
  counter(&w, "stripecast_chunks_out_total", "Chunks published and sent as repairs.",
          chunks_out);
  counter(&w, "stripecast_repair_asks_total", "Repair requests sent.", asks);
  counter(&w, "stripecast_repair_chunks_received_total", "Chunks repairs brought.",
          repair_got);
  counter(&w, "stripecast_repair_chunks_sent_total", "Chunks sent to repair others.",
          repair_sent);
  counter(&w, "stripecast_datagrams_in_total", "UDP datagrams read.", dg_in);
  counter(&w, "stripecast_datagrams_out_total", "UDP datagrams sent.", dg_out);
  counter(&w, "stripecast_bytes_in_total", "UDP bytes read.", by_in);
  counter(&w, "stripecast_bytes_out_total", "UDP bytes sent.", by_out);
  gauge(&w, "stripecast_listeners_local",
        "This peer's own listeners: its players, plus one per --output.",
        (double)local_listeners(h, 0));
  gauge(&w, "stripecast_listeners", "Listeners of the whole station (the tally).",
        st ? (double)st->listeners : 0);
  gauge(&w, "stripecast_listener_peak", "The station's most listeners at once.",
        st ? (double)st->listener_peak : 0);
  sc_metrics_histogram(&w, "stripecast_playout_latency_seconds",
                       "From the source's publish to playout, per generation.", lat_le_s,
                       counts, LAT_BUCKETS, above, sum_s);
  return sc_metrics_finish(&w);
}

static int route_metrics(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  static station_view v;
  view_build(ctx, req, &v);
  metrics_arg a = {ctx, &v};
  return respond_text(req, out, "text/plain; version=0.0.4; charset=utf-8", w_metrics,
                      &a);
}

/* ------------------------------------------------------------ admin */

static bool admin_has_mount(void *user, const char *mount) {
  const rt_status *s = user;
  rt_serve_snapshot snap;
  rt_serve_snapshot_get(s->h->serve, &snap);
  return snap.on_air && strcmp(mount, snap.mount) == 0;
}

/* The players, as listclients lists them (the user agent read from the
 * head each sent). */
typedef struct clients_arg {
  const char *mount;
  sc_status_client c[RT_STATUS_CLIENTS_MAX];
  char ip[RT_STATUS_CLIENTS_MAX][SERVE_ADDR_BYTES];
  char ua[RT_STATUS_CLIENTS_MAX][128];
  size_t n;
} clients_arg;

static void clients_collect(const rt_serve *sv, clients_arg *a) {
  static sc_http_request req;
  uint64_t now = serve_now_ns();
  a->n = 0;
  for (size_t k = 0; k < RT_SERVE_CONNS_MAX && a->n < RT_STATUS_CLIENTS_MAX; k++) {
    const serve_conn *c = sv->conns[k];
    if (!c || c->state != SERVE_STREAM || c->dead) continue;
    size_t i = a->n++;
    snprintf(a->ip[i], sizeof a->ip[i], "%s", c->addr);
    char *colon = strrchr(a->ip[i], ':');
    if (colon) *colon = '\0';
    a->ua[i][0] = '\0';
    if (sc_http_parse_request(c->head, c->head_len, SC_HTTP_ICECAST_HEAD_MAX_BYTES,
                              &req) > 0) {
      const sc_http_slice *v = sc_http_header_find(&req, "user-agent");
      if (v)
        snprintf(a->ua[i], sizeof a->ua[i], "%.*s", (int)(v->len < 127 ? v->len : 127),
                 v->ptr);
    }
    a->c[i] = (sc_status_client){.id = c->id,
                                 .ip = a->ip[i],
                                 .user_agent = a->ua[i][0] ? a->ua[i] : NULL,
                                 .connected_s = (now - c->since_ns) / 1000000000ull};
  }
}

static int w_listclients(const void *arg, char *out, size_t cap) {
  const clients_arg *a = arg;
  return sc_status_write_listclients(a->mount, a->c, a->n, out, cap);
}

static bool kill_client(rt_serve *sv, uint64_t id) {
  for (size_t k = 0; k < RT_SERVE_CONNS_MAX; k++) {
    serve_conn *c = sv->conns[k];
    if (c && c->state == SERVE_STREAM && c->id == id) {
      serve_conn_close(c);
      return true;
    }
  }
  return false;
}

static int respond_xml(const rt_serve_request *req, rt_serve_buf *out,
                       const char *message, int ret) {
  char body[1024];
  int n = sc_status_write_iceresponse(message, ret, body, sizeof body);
  if (n < 0) return n;
  return rt_serve_respond(req, out, 200, "text/xml", NULL, body, (size_t)n);
}

static int route_admin(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  rt_status *s = ctx;
  sc_status_admin_policy pol = {.admin_user = "admin",
                                .admin_password = s->admin_set ? s->admin_pw : NULL,
                                .has_mount = admin_has_mount,
                                .user = s};
  sc_status_admin_request a;
  sc_status_admin_decide(req->http, &pol, &a);
  static station_view v;
  char msg[96];
  switch (a.command) {
  case SC_STATUS_ADMIN_UNAUTHORIZED: {
    /* Icecast's admin 401 is plain text, with its Basic realm. */
    char buf[2048];
    int n = sc_http_write_error(req->srv, 401, true, "You need to authenticate", buf,
                                sizeof buf);
    if (n < 0) return n;
    return rt_serve_buf_put(out, buf, (size_t)n) ? 0 : SC_ERR_NOBUF;
  }
  case SC_STATUS_ADMIN_PAGE:
    view_build(s, req, &v);
    return respond_text(req, out, "text/html; charset=utf-8", w_page, &v);
  case SC_STATUS_ADMIN_STATS:
    view_build(s, req, &v);
    return respond_text(req, out, "text/xml", w_stats, &v);
  case SC_STATUS_ADMIN_LISTMOUNTS:
    view_build(s, req, &v);
    return respond_text(req, out, "text/xml", w_listmounts, &v);
  case SC_STATUS_ADMIN_LISTCLIENTS: {
    clients_arg *ca = malloc(sizeof *ca);
    if (!ca) return SC_ERR_NOMEM;
    ca->mount = a.mount;
    clients_collect(s->h->serve, ca);
    int rv = respond_text(req, out, "text/xml", w_listclients, ca);
    free(ca);
    return rv;
  }
  case SC_STATUS_ADMIN_KILLCLIENT: {
    bool ok = kill_client(s->h->serve, a.client_id);
    snprintf(msg, sizeof msg, "Client %" PRIu64 " %s", a.client_id,
             ok ? "removed" : "not found");
    return respond_xml(req, out, msg, ok ? 1 : 0);
  }
  case SC_STATUS_ADMIN_METADATA:
    /* Only the broadcaster changes the station; its /admin/metadata is the
     * ingest server's and never reaches this route. */
    return respond_xml(req, out, "Metadata updates go to the broadcasting peer", 0);
  case SC_STATUS_ADMIN_MISSING_PARAM:
    return rt_serve_respond_error(req, out, 400, "Missing parameter");
  case SC_STATUS_ADMIN_NO_SOURCE:
    return rt_serve_respond_error(req, out, 400, "Source does not exist");
  case SC_STATUS_ADMIN_UNKNOWN:
    return rt_serve_respond_error(req, out, 400, "Unknown admin request");
  case SC_STATUS_ADMIN_UNRECOGNISED:
    return rt_serve_respond_error(req, out, 400, "Unrecognised command");
  case SC_STATUS_ADMIN_BAD_REQUEST:
  default:
    return rt_serve_respond_error(req, out, 400, "Bad request");
  }
}

/* ------------------------------------------------------------ lifecycle */

int rt_status_new(rt_status **out, rt_host *h) {
  *out = NULL;
  rt_status *s = calloc(1, sizeof *s);
  if (!s) return SC_ERR_NOMEM;
  s->h = h;
  s->server_start_s = realtime_s();
  s->stream_start_s = -1;
  const rt_options *o = &h->opt;
  if (o->admin_password) {
    snprintf(s->admin_pw, sizeof s->admin_pw, "%s", o->admin_password);
    s->admin_set = true;
  } else if (o->admin_password_file) {
    int n = rt_ingest_read_password_file(o->admin_password_file, s->admin_pw,
                                         sizeof s->admin_pw);
    if (n < 0) {
      fprintf(stderr, "stripecast: --admin-password-file %s: %s\n",
              o->admin_password_file,
              n == SC_ERR_TOO_LARGE ? "longer than a password may be"
                                    : "not readable as one non-empty line");
      free(s);
      return SC_ERR_INVALID;
    }
    s->admin_set = true;
  }
  if (h->serve) {
    int rv = 0;
    rv |= rt_serve_add_route(h->serve, "/status-json.xsl", route_status_json, s);
    rv |= rt_serve_add_route(h->serve, "/7.html", route_7html, s);
    rv |= rt_serve_add_route(h->serve, "/metrics", route_metrics, s);
    rv |= rt_serve_add_route(h->serve, "/admin/*", route_admin, s);
    if (rv != 0) {
      fprintf(stderr, "stripecast: --http: the status routes do not fit\n");
      free(s);
      return SC_ERR_FULL;
    }
  }
  double tick = (double)RT_STATUS_TICK_NS / 1e9;
  ev_timer_init(&s->timer, status_tick, tick, tick);
  s->timer.data = s;
  ev_timer_start(h->loop, &s->timer);
  *out = s;
  return 0;
}

void rt_status_del(rt_status *s) {
  if (!s) return;
  ev_timer_stop(s->h->loop, &s->timer);
  free(s);
}

const char *rt_status_admin_password(const rt_status *s) {
  return s && s->admin_set ? s->admin_pw : NULL;
}
