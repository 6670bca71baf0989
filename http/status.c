/*
 * status.c — status pages, admin answers and Prometheus metrics (status.h).
 */
#include "http/status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

/* ------------------------------------------------------------------------ */
/* A bounded output buffer                                                   */

typedef struct {
  char *p;
  size_t cap;
  size_t len;
  bool overflow;
} obuf;

static void ob_init(obuf *b, char *out, size_t cap) {
  b->p = out;
  b->cap = cap;
  b->len = 0;
  b->overflow = cap == 0;
  if (cap > 0) out[0] = '\0';
}

static void ob_put(obuf *b, const char *s, size_t n) {
  if (b->overflow) return;
  if (b->len + n + 1 > b->cap) {
    b->overflow = true;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void ob_str(obuf *b, const char *s) {
  ob_put(b, s, strlen(s));
}

static void ob_fmt(obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_fmt(obuf *b, const char *fmt, ...) {
  if (b->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= b->cap - b->len) {
    b->overflow = true;
    b->p[b->len] = '\0';
    return;
  }
  b->len += (size_t)n;
}

static int ob_done(const obuf *b) {
  if (b->overflow || b->len > 0x7fffffff) return SC_ERR_NOBUF;
  return (int)b->len;
}

/* JSON string contents (RFC 8259 §7): quote, backslash and control bytes
 * escaped; other bytes as they are (the caller's strings are UTF-8). */
static void ob_json_str(obuf *b, const char *s) {
  ob_put(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      ob_put(b, e, 2);
    } else if (*c < 0x20) {
      ob_fmt(b, "\\u%04x", *c);
    } else {
      ob_put(b, (const char *)c, 1);
    }
  }
  ob_put(b, "\"", 1);
}

/* XML character data and attribute values (XML 1.0 §2.4). Control bytes
 * other than tab, LF and CR are not allowed in XML 1.0: written as '?'. */
static void ob_xml_str(obuf *b, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
    case '&':
      ob_str(b, "&amp;");
      break;
    case '<':
      ob_str(b, "&lt;");
      break;
    case '>':
      ob_str(b, "&gt;");
      break;
    case '"':
      ob_str(b, "&quot;");
      break;
    case '\'':
      ob_str(b, "&apos;");
      break;
    default:
      if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r')
        ob_put(b, "?", 1);
      else
        ob_put(b, (const char *)c, 1);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                     */

/* Civil date from days since 1970-01-01 (the proleptic Gregorian calendar;
 * the algorithm of Hinnant's "chrono-Compatible Low-Level Date Algorithms"). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  uint64_t doe = (uint64_t)(z - era * 146097);
  uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  uint64_t mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yy + (*m <= 2);
}

typedef struct {
  int64_t year;
  unsigned month, day, hour, min, sec, wday; /* wday 0: Sunday */
} civil;

static void to_civil(int64_t s, civil *c) {
  int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  int64_t rem = s - days * 86400;
  civil_from_days(days, &c->year, &c->month, &c->day);
  c->hour = (unsigned)(rem / 3600);
  c->min = (unsigned)(rem / 60 % 60);
  c->sec = (unsigned)(rem % 60);
  /* 1970-01-01 was a Thursday. */
  int64_t w = (days + 4) % 7;
  c->wday = (unsigned)(w < 0 ? w + 7 : w);
}

/* "Mon, 07 Dec 2026 12:15:45 " then zone. */
static int date_with_zone(int64_t unix_s, const char *zone, char *out, size_t cap) {
  static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char mo[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  civil c;
  to_civil(unix_s, &c);
  obuf b;
  ob_init(&b, out, cap);
  ob_fmt(&b, "%s, %02u %s %04" PRId64 " %02u:%02u:%02u %s", wd[c.wday], c.day,
         mo[c.month - 1], c.year, c.hour, c.min, c.sec, zone);
  return ob_done(&b);
}

int sc_status_date_rfc822(int64_t unix_s, char *out, size_t cap) {
  return date_with_zone(unix_s, "+0000", out, cap);
}

int sc_status_date_http(int64_t unix_s, char *out, size_t cap) {
  return date_with_zone(unix_s, "GMT", out, cap);
}

int sc_status_date_iso8601(int64_t unix_s, char *out, size_t cap) {
  civil c;
  to_civil(unix_s, &c);
  obuf b;
  ob_init(&b, out, cap);
  ob_fmt(&b, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u+0000", c.year, c.month, c.day,
         c.hour, c.min, c.sec);
  return ob_done(&b);
}

/* ------------------------------------------------------------------------ */
/* status-json.xsl                                                           */

/* Keys in alphabetical order, as Icecast's stats tree holds them. */
static void json_key_str(obuf *b, bool *first, const char *key, const char *v) {
  if (v == NULL) return;
  if (!*first) ob_put(b, ",", 1);
  *first = false;
  ob_json_str(b, key);
  ob_put(b, ":", 1);
  ob_json_str(b, v);
}

static void json_key_u64(obuf *b, bool *first, const char *key, uint64_t v) {
  if (!*first) ob_put(b, ",", 1);
  *first = false;
  ob_json_str(b, key);
  ob_fmt(b, ":%" PRIu64, v);
}

static void json_key_dates(obuf *b, bool *first, const char *key, int64_t s) {
  char d[SC_STATUS_DATE_MAX_BYTES], iso[SC_STATUS_DATE_MAX_BYTES], k[32];
  if (sc_status_date_rfc822(s, d, sizeof d) < 0 ||
      sc_status_date_iso8601(s, iso, sizeof iso) < 0) {
    b->overflow = true;
    return;
  }
  json_key_str(b, first, key, d);
  snprintf(k, sizeof k, "%s_iso8601", key);
  json_key_str(b, first, k, iso);
}

static void json_station(obuf *b, const sc_status_station *st) {
  bool first = true;
  ob_put(b, "{", 1);
  json_key_str(b, &first, "audio_info", st->audio_info);
  if (st->bitrate_kbps) json_key_u64(b, &first, "bitrate", st->bitrate_kbps);
  if (st->channels) json_key_u64(b, &first, "channels", st->channels);
  json_key_str(b, &first, "genre", st->genre);
  json_key_u64(b, &first, "listener_peak", st->listener_peak);
  json_key_u64(b, &first, "listeners", st->listeners);
  json_key_str(b, &first, "listenurl", st->listenurl);
  if (st->samplerate_hz) json_key_u64(b, &first, "samplerate", st->samplerate_hz);
  json_key_str(b, &first, "server_description", st->description);
  json_key_str(b, &first, "server_name", st->name);
  json_key_str(b, &first, "server_type", st->content_type);
  json_key_str(b, &first, "server_url", st->url);
  if (st->stream_start_s >= 0)
    json_key_dates(b, &first, "stream_start", st->stream_start_s);
  json_key_str(b, &first, "subtype", st->subtype);
  json_key_str(b, &first, "title", st->title);
  ob_str(b, first ? "\"dummy\":null}" : ",\"dummy\":null}");
}

int sc_status_write_json(const sc_status_snapshot *snap, char *out, size_t cap) {
  if (snap->nstations > SC_STATUS_STATIONS_MAX) return SC_ERR_INVALID;
  obuf b;
  ob_init(&b, out, cap);
  const sc_status_server *s = &snap->server;
  bool first = true;
  ob_str(&b, "{\"icestats\":{");
  json_key_str(&b, &first, "admin", s->admin);
  json_key_str(&b, &first, "host", s->host);
  json_key_str(&b, &first, "location", s->location);
  json_key_str(&b, &first, "server_id", s->server_id);
  json_key_dates(&b, &first, "server_start", s->server_start_s);
  if (snap->nstations > 0) {
    ob_str(&b, first ? "\"source\":" : ",\"source\":");
    first = false;
    if (snap->nstations > 1) ob_put(&b, "[", 1);
    for (size_t i = 0; i < snap->nstations; i++) {
      if (i) ob_put(&b, ",", 1);
      json_station(&b, &snap->stations[i]);
    }
    if (snap->nstations > 1) ob_put(&b, "]", 1);
    /* Icecast's stylesheet closes icestats after the sources without the
     * "dummy" it ends every other object with. */
    ob_str(&b, "}}");
    return ob_done(&b);
  }
  ob_str(&b, first ? "\"dummy\":null}}" : ",\"dummy\":null}}");
  return ob_done(&b);
}

/* ------------------------------------------------------------------------ */
/* SHOUTcast /7.html                                                         */

int sc_status_write_7html(const sc_status_station *st, char *out, size_t cap) {
  obuf b;
  ob_init(&b, out, cap);
  if (st == NULL) {
    ob_str(&b, "<html><body>0,0,0,0,0,0,</body></html>");
    return ob_done(&b);
  }
  ob_fmt(&b, "<html><body>%" PRIu64 ",1,%" PRIu64 ",0,%" PRIu64 ",%u,", st->listeners,
         st->listener_peak, st->listeners, st->bitrate_kbps);
  /* The title is the last field, so commas in it are harmless; markup is
   * escaped so that the body stays one text node. */
  if (st->title) ob_xml_str(&b, st->title);
  ob_str(&b, "</body></html>");
  return ob_done(&b);
}

/* ------------------------------------------------------------------------ */
/* The head                                                                  */

int sc_status_write_head(const sc_http_server_info *srv, const char *content_type,
                         size_t content_length, char *out, size_t cap) {
  obuf b;
  ob_init(&b, out, cap);
  ob_fmt(&b, "HTTP/1.0 200 OK\r\nServer: %s\r\nConnection: Close\r\n",
         srv->server_id ? srv->server_id : "stripecast");
  if (srv->date) ob_fmt(&b, "Date: %s\r\n", srv->date);
  ob_fmt(&b,
         "Content-Type: %s\r\nCache-Control: no-cache, no-store\r\n"
         "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\nPragma: no-cache\r\n"
         "Content-Length: %zu\r\n\r\n",
         content_type, content_length);
  return ob_done(&b);
}

/* ------------------------------------------------------------------------ */
/* Admin                                                                     */

static bool path_is(sc_http_slice p, const char *s) {
  size_t n = strlen(s);
  return p.len == n && memcmp(p.ptr, s, n) == 0;
}

static bool admin_auth(const sc_http_request *req, const sc_status_admin_policy *p) {
  if (p->admin_user == NULL || p->admin_password == NULL) return false;
  const sc_http_slice *h = sc_http_header_find(req, "authorization");
  sc_http_basic_auth a;
  if (h == NULL || sc_http_basic_auth_parse(*h, &a) != SC_OK) return false;
  bool u =
      sc_http_secret_eq(a.user, strlen(a.user), p->admin_user, strlen(p->admin_user));
  bool w = sc_http_secret_eq(a.password, strlen(a.password), p->admin_password,
                             strlen(p->admin_password));
  return u & w;
}

/* A decimal id of at most 19 digits (no sign, no spaces). */
static bool parse_id(const char *s, uint64_t *out) {
  uint64_t v = 0;
  size_t n = 0;
  for (; s[n]; n++) {
    if (s[n] < '0' || s[n] > '9' || n >= 19) return false;
    v = v * 10 + (uint64_t)(s[n] - '0');
  }
  if (n == 0) return false;
  *out = v;
  return true;
}

void sc_status_admin_decide(const sc_http_request *req,
                            const sc_status_admin_policy *policy,
                            sc_status_admin_request *out) {
  memset(out, 0, sizeof *out);
  if (!admin_auth(req, policy)) {
    out->command = SC_STATUS_ADMIN_UNAUTHORIZED;
    return;
  }
  static const struct {
    const char *path;
    sc_status_admin_command cmd;
    bool needs_mount;
  } table[] = {
      {"/admin/", SC_STATUS_ADMIN_PAGE, false},
      {"/admin/index.html", SC_STATUS_ADMIN_PAGE, false},
      {"/admin/stats", SC_STATUS_ADMIN_STATS, false},
      {"/admin/stats.xml", SC_STATUS_ADMIN_STATS, false},
      {"/admin/listmounts", SC_STATUS_ADMIN_LISTMOUNTS, false},
      {"/admin/listclients", SC_STATUS_ADMIN_LISTCLIENTS, true},
      {"/admin/killclient", SC_STATUS_ADMIN_KILLCLIENT, true},
      {"/admin/metadata", SC_STATUS_ADMIN_METADATA, true},
  };
  size_t i = 0, n = sizeof table / sizeof table[0];
  while (i < n && !path_is(req->path, table[i].path))
    i++;
  if (i == n) {
    out->command = SC_STATUS_ADMIN_UNRECOGNISED;
    return;
  }
  if (!table[i].needs_mount) {
    out->command = table[i].cmd;
    return;
  }
  sc_http_query q;
  if (sc_http_query_parse(req->query, &q) != SC_OK) {
    out->command = SC_STATUS_ADMIN_BAD_REQUEST;
    return;
  }
  char raw[SC_HTTP_MOUNT_MAX_BYTES + 1];
  int m = sc_http_query_value(&q, "mount", raw, sizeof raw);
  if (m == SC_ERR_NOT_FOUND) {
    out->command = SC_STATUS_ADMIN_UNKNOWN;
    return;
  }
  if (m < 0 || sc_http_mount_decode((sc_http_slice){raw, (size_t)m}, out->mount,
                                    sizeof out->mount) < 0) {
    out->mount[0] = '\0';
    out->command = SC_STATUS_ADMIN_BAD_REQUEST;
    return;
  }
  if (policy->has_mount == NULL || !policy->has_mount(policy->user, out->mount)) {
    out->command = SC_STATUS_ADMIN_NO_SOURCE;
    return;
  }
  if (table[i].cmd == SC_STATUS_ADMIN_KILLCLIENT) {
    char id[24];
    int k = sc_http_query_value(&q, "id", id, sizeof id);
    if (k == SC_ERR_NOT_FOUND) {
      out->command = SC_STATUS_ADMIN_MISSING_PARAM;
      return;
    }
    if (k < 0 || !parse_id(id, &out->client_id)) {
      out->command = SC_STATUS_ADMIN_BAD_REQUEST;
      return;
    }
  }
  out->command = table[i].cmd;
}

static void xml_elem_str(obuf *b, const char *name, const char *v) {
  if (v == NULL) return;
  ob_fmt(b, "<%s>", name);
  ob_xml_str(b, v);
  ob_fmt(b, "</%s>", name);
}

static void xml_elem_u64(obuf *b, const char *name, uint64_t v) {
  ob_fmt(b, "<%s>%" PRIu64 "</%s>", name, v, name);
}

static void xml_dates(obuf *b, const char *name, int64_t s) {
  char d[SC_STATUS_DATE_MAX_BYTES], iso[SC_STATUS_DATE_MAX_BYTES], k[32];
  if (sc_status_date_rfc822(s, d, sizeof d) < 0 ||
      sc_status_date_iso8601(s, iso, sizeof iso) < 0) {
    b->overflow = true;
    return;
  }
  xml_elem_str(b, name, d);
  snprintf(k, sizeof k, "%s_iso8601", name);
  xml_elem_str(b, k, iso);
}

static uint64_t total_listeners(const sc_status_snapshot *snap) {
  uint64_t t = 0;
  for (size_t i = 0; i < snap->nstations; i++)
    t += snap->stations[i].listeners;
  return t;
}

int sc_status_write_admin_stats(const sc_status_snapshot *snap, char *out, size_t cap) {
  if (snap->nstations > SC_STATUS_STATIONS_MAX) return SC_ERR_INVALID;
  obuf b;
  ob_init(&b, out, cap);
  const sc_status_server *s = &snap->server;
  uint64_t l = total_listeners(snap);
  ob_str(&b, "<?xml version=\"1.0\"?>\n<icestats>");
  xml_elem_str(&b, "admin", s->admin);
  xml_elem_str(&b, "host", s->host);
  xml_elem_u64(&b, "listeners", l);
  xml_elem_str(&b, "location", s->location);
  xml_elem_str(&b, "server_id", s->server_id);
  xml_dates(&b, "server_start", s->server_start_s);
  xml_elem_u64(&b, "sources", snap->nstations);
  for (size_t i = 0; i < snap->nstations; i++) {
    const sc_status_station *st = &snap->stations[i];
    ob_str(&b, "<source mount=\"");
    ob_xml_str(&b, st->mount);
    ob_str(&b, "\">");
    xml_elem_str(&b, "audio_info", st->audio_info);
    if (st->bitrate_kbps) xml_elem_u64(&b, "bitrate", st->bitrate_kbps);
    if (st->channels) xml_elem_u64(&b, "channels", st->channels);
    xml_elem_str(&b, "genre", st->genre);
    xml_elem_u64(&b, "listener_peak", st->listener_peak);
    xml_elem_u64(&b, "listeners", st->listeners);
    xml_elem_str(&b, "listenurl", st->listenurl);
    xml_elem_str(&b, "max_listeners", "unlimited");
    xml_elem_u64(&b, "public", 0);
    if (st->samplerate_hz) xml_elem_u64(&b, "samplerate", st->samplerate_hz);
    xml_elem_str(&b, "server_description", st->description);
    xml_elem_str(&b, "server_name", st->name);
    xml_elem_str(&b, "server_type", st->content_type);
    xml_elem_str(&b, "server_url", st->url);
    if (st->stream_start_s >= 0) xml_dates(&b, "stream_start", st->stream_start_s);
    xml_elem_str(&b, "subtype", st->subtype);
    xml_elem_str(&b, "title", st->title);
    ob_str(&b, "</source>");
  }
  ob_str(&b, "</icestats>\n");
  return ob_done(&b);
}

int sc_status_write_listmounts(const sc_status_snapshot *snap, int64_t now_s, char *out,
                               size_t cap) {
  if (snap->nstations > SC_STATUS_STATIONS_MAX) return SC_ERR_INVALID;
  obuf b;
  ob_init(&b, out, cap);
  if (snap->nstations == 0) {
    ob_str(&b, "<?xml version=\"1.0\"?>\n<icestats/>\n");
    return ob_done(&b);
  }
  ob_str(&b, "<?xml version=\"1.0\"?>\n<icestats>");
  for (size_t i = 0; i < snap->nstations; i++) {
    const sc_status_station *st = &snap->stations[i];
    int64_t up = st->stream_start_s >= 0 && now_s > st->stream_start_s
                     ? now_s - st->stream_start_s
                     : 0;
    ob_str(&b, "<source mount=\"");
    ob_xml_str(&b, st->mount);
    ob_str(&b, "\"><fallback></fallback>");
    xml_elem_u64(&b, "listeners", st->listeners);
    xml_elem_u64(&b, "Connected", (uint64_t)up);
    xml_elem_str(&b, "content-type", st->content_type ? st->content_type : "");
    ob_str(&b, "</source>");
  }
  ob_str(&b, "</icestats>\n");
  return ob_done(&b);
}

int sc_status_write_listclients(const char *mount, const sc_status_client *clients,
                                size_t nclients, char *out, size_t cap) {
  if (nclients > SC_STATUS_CLIENTS_MAX) return SC_ERR_INVALID;
  obuf b;
  ob_init(&b, out, cap);
  ob_str(&b, "<?xml version=\"1.0\"?>\n<icestats><source mount=\"");
  ob_xml_str(&b, mount);
  ob_str(&b, "\">");
  xml_elem_u64(&b, "Listeners", nclients);
  for (size_t i = 0; i < nclients; i++) {
    const sc_status_client *c = &clients[i];
    ob_str(&b, "<listener>");
    xml_elem_str(&b, "IP", c->ip ? c->ip : "");
    xml_elem_str(&b, "UserAgent", c->user_agent);
    xml_elem_u64(&b, "Connected", c->connected_s);
    xml_elem_u64(&b, "ID", c->id);
    ob_str(&b, "</listener>");
  }
  ob_str(&b, "</source></icestats>\n");
  return ob_done(&b);
}

int sc_status_write_iceresponse(const char *message, int ret, char *out, size_t cap) {
  obuf b;
  ob_init(&b, out, cap);
  ob_str(&b, "<?xml version=\"1.0\"?>\n<iceresponse><message>");
  ob_xml_str(&b, message);
  ob_fmt(&b, "</message><return>%d</return></iceresponse>\n", ret);
  return ob_done(&b);
}

int sc_status_write_admin_page(const sc_status_snapshot *snap, char *out, size_t cap) {
  if (snap->nstations > SC_STATUS_STATIONS_MAX) return SC_ERR_INVALID;
  obuf b;
  ob_init(&b, out, cap);
  ob_str(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>stripecast admin</title></head><body><h1>");
  ob_xml_str(&b, snap->server.server_id ? snap->server.server_id : "stripecast");
  ob_str(&b, "</h1><p><a href=\"/admin/stats\">stats</a> | "
             "<a href=\"/admin/listmounts\">mounts</a> | "
             "<a href=\"/status-json.xsl\">status-json</a> | "
             "<a href=\"/metrics\">metrics</a></p>\n<table border=\"1\">"
             "<tr><th>mount</th><th>name</th><th>listeners</th><th>peak</th>"
             "<th>title</th><th></th></tr>\n");
  for (size_t i = 0; i < snap->nstations; i++) {
    const sc_status_station *st = &snap->stations[i];
    ob_str(&b, "<tr><td>");
    ob_xml_str(&b, st->mount);
    ob_str(&b, "</td><td>");
    if (st->name) ob_xml_str(&b, st->name);
    ob_fmt(&b, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>", st->listeners,
           st->listener_peak);
    if (st->title) ob_xml_str(&b, st->title);
    /* The mount goes into a query: its bytes are all above 0x20 and carry
     * no quote (sc_http_mount_decode), and '&' is escaped for HTML. */
    ob_str(&b, "</td><td><a href=\"/admin/listclients?mount=");
    ob_xml_str(&b, st->mount);
    ob_str(&b, "\">listeners</a></td></tr>\n");
  }
  ob_str(&b, "</table></body></html>\n");
  return ob_done(&b);
}

/* ------------------------------------------------------------------------ */
/* Prometheus text format 0.0.4                                              */

static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
static bool metric_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SC_METRICS_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void sc_metrics_init(sc_metrics_writer *w, char *out, size_t cap) {
  memset(w, 0, sizeof *w);
  w->out = out;
  w->cap = cap;
  w->overflow = cap == 0;
  if (cap > 0) out[0] = '\0';
}

static void mw_fmt(sc_metrics_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mw_fmt(sc_metrics_writer *w, const char *fmt, ...) {
  if (w->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(w->out + w->len, w->cap - w->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= w->cap - w->len) {
    w->overflow = true;
    w->out[w->len] = '\0';
    return;
  }
  w->len += (size_t)n;
}

void sc_metrics_family(sc_metrics_writer *w, const char *name, const char *type,
                       const char *help) {
  uint64_t h = name_hash(name);
  bool dup = false;
  for (unsigned i = 0; i < w->ndeclared; i++)
    dup |= w->declared[i] == h;
  if (!metric_name_ok(name) || dup || w->ndeclared == SC_METRICS_FAMILIES_MAX ||
      strchr(help, '\n') != NULL || strchr(help, '\\') != NULL) {
    w->invalid = true;
    return;
  }
  w->declared[w->ndeclared++] = h;
  memcpy(w->family, name, strlen(name) + 1);
  mw_fmt(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool sample_in_family(const sc_metrics_writer *w, const char *name) {
  size_t f = strlen(w->family);
  if (f == 0 || strncmp(name, w->family, f) != 0) return false;
  const char *rest = name + f;
  return *rest == '\0' || strcmp(rest, "_bucket") == 0 || strcmp(rest, "_sum") == 0 ||
         strcmp(rest, "_count") == 0;
}

void sc_metrics_sample(sc_metrics_writer *w, const char *name, const char *labels,
                       double value) {
  if (!sample_in_family(w, name)) {
    w->invalid = true;
    return;
  }
  mw_fmt(w, "%s%s%s%s %.17g\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
         value);
}

void sc_metrics_sample_u64(sc_metrics_writer *w, const char *name, const char *labels,
                           uint64_t value) {
  if (!sample_in_family(w, name)) {
    w->invalid = true;
    return;
  }
  mw_fmt(w, "%s%s%s%s %" PRIu64 "\n", name, *labels ? "{" : "", labels,
         *labels ? "}" : "", value);
}

void sc_metrics_histogram(sc_metrics_writer *w, const char *name, const char *help,
                          const double *le, const uint64_t *counts, size_t nbuckets,
                          uint64_t above_last, double sum) {
  sc_metrics_family(w, name, "histogram", help);
  if (w->invalid) return;
  char bucket[SC_METRICS_NAME_MAX + 16], lab[48];
  snprintf(bucket, sizeof bucket, "%s_bucket", name);
  uint64_t cum = 0;
  for (size_t i = 0; i < nbuckets; i++) {
    if (i > 0 && !(le[i] > le[i - 1])) {
      w->invalid = true;
      return;
    }
    cum += counts[i];
    snprintf(lab, sizeof lab, "le=\"%.9g\"", le[i]);
    sc_metrics_sample_u64(w, bucket, lab, cum);
  }
  cum += above_last;
  sc_metrics_sample_u64(w, bucket, "le=\"+Inf\"", cum);
  snprintf(bucket, sizeof bucket, "%s_sum", name);
  sc_metrics_sample(w, bucket, "", sum);
  snprintf(bucket, sizeof bucket, "%s_count", name);
  sc_metrics_sample_u64(w, bucket, "", cum);
}

int sc_metrics_finish(const sc_metrics_writer *w) {
  if (w->invalid) return SC_ERR_INVALID;
  if (w->overflow || w->len > 0x7fffffff) return SC_ERR_NOBUF;
  return (int)w->len;
}
