/*
 * icecast.c — Icecast 2.4's decisions and answers: query strings, station
 * info, source logins, metadata updates, and the response bytes.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static bool slice_is(sc_http_slice s, const char *str) {
  size_t n = strlen(str);
  return s.len == n && memcmp(s.ptr, str, n) == 0;
}

/* ------------------------------------------------------------------------ */
/* Query strings                                                             */

int sc_http_query_parse(sc_http_slice query, sc_http_query *out) {
  out->count = 0;
  size_t i = 0;
  while (i < query.len) {
    size_t start = i;
    while (i < query.len && query.ptr[i] != '&')
      i++;
    size_t end = i;
    if (i < query.len) i++; /* the '&' */
    size_t eq = start;
    while (eq < end && query.ptr[eq] != '=')
      eq++;
    if (eq == end) continue; /* no '=': Icecast keeps no such pair */
    if (out->count == SC_HTTP_QUERY_PARAMS_MAX) return SC_ERR_FULL;
    sc_http_query_param *p = &out->params[out->count++];
    p->name.ptr = query.ptr + start;
    p->name.len = eq - start;
    p->value.ptr = query.ptr + eq + 1;
    p->value.len = end - eq - 1;
  }
  return SC_OK;
}

int sc_http_query_value(const sc_http_query *q, const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  for (size_t i = q->count; i-- > 0;) {
    const sc_http_query_param *p = &q->params[i];
    if (p->name.len == n && memcmp(p->name.ptr, name, n) == 0)
      return sc_http_percent_decode(p->value.ptr, p->value.len, true, out, cap);
  }
  return SC_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------------ */
/* Station info                                                              */

/* Copy a header value into a bounded field, cut at a UTF-8 character
 * boundary; true when it had to be cut. */
static bool copy_field(char *dst, size_t cap, sc_http_slice v) {
  size_t n = v.len;
  bool cut = false;
  if (n > cap - 1) {
    n = cap - 1;
    cut = true;
    /* Step back over continuation bytes so no character is split. */
    while (n > 0 && ((unsigned char)v.ptr[n] & 0xc0) == 0x80)
      n--;
  }
  memcpy(dst, v.ptr, n);
  dst[n] = '\0';
  return cut;
}

static const sc_http_slice *first_of(const sc_http_request *req,
                                     const char *const *names) {
  for (; *names != NULL; names++) {
    const sc_http_slice *v = sc_http_header_find(req, *names);
    /* Icecast's parser keeps no header whose value is empty. */
    if (v != NULL && v->len > 0) return v;
  }
  return NULL;
}

/* atoi's reading: optional sign, digits, anything after ignored. */
static int leading_int(const sc_http_slice *v) {
  if (v == NULL) return 0;
  size_t i = 0;
  bool neg = false;
  if (i < v->len && (v->ptr[i] == '-' || v->ptr[i] == '+')) neg = v->ptr[i++] == '-';
  long x = 0;
  for (; i < v->len && v->ptr[i] >= '0' && v->ptr[i] <= '9'; i++) {
    x = x * 10 + (v->ptr[i] - '0');
    if (x > 0x7fffffffL) return 0; /* out of range: treated as absent */
  }
  return neg ? (int)-x : (int)x;
}

void sc_http_station_info_parse(const sc_http_request *req, sc_http_station_info *out) {
  static const char *const name[] = {"ice-name", "icy-name", NULL};
  static const char *const desc[] = {"ice-description", "icy-description", NULL};
  static const char *const genre[] = {"ice-genre", "icy-genre", NULL};
  static const char *const url[] = {"ice-url", "icy-url", NULL};
  static const char *const br[] = {"ice-bitrate", "icy-br", NULL};
  static const char *const ai[] = {"ice-audio-info", NULL};
  static const char *const ct[] = {"content-type", NULL};
  static const char *const pub[] = {"ice-public", "icy-pub", "x-audiocast-public",
                                    "icy-public", NULL};
  static const char *const metaint[] = {"icy-metaint", NULL};
  struct {
    char *dst;
    const char *const *names;
  } fields[] = {{out->name, name},      {out->description, desc}, {out->genre, genre},
                {out->url, url},        {out->bitrate, br},       {out->audio_info, ai},
                {out->content_type, ct}};
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const sc_http_slice *v = first_of(req, fields[i].names);
    if (v != NULL && copy_field(fields[i].dst, SC_HTTP_STATION_FIELD_MAX_BYTES + 1, *v))
      out->truncated |= 1u << i;
  }
  out->public_flag = leading_int(first_of(req, pub));
  int mi = leading_int(first_of(req, metaint));
  out->metaint_bytes = mi > 0 ? mi : 0;
}

/* ------------------------------------------------------------------------ */
/* Source login                                                              */

static bool str_secret_eq(const char *a, const char *b) {
  return sc_http_secret_eq(a, strlen(a), b, strlen(b));
}

/* Icecast's _check_pass_http: Basic credentials whose user and password both
 * match. */
static bool basic_matches(const sc_http_request *req, const char *user,
                          const char *pass) {
  if (user == NULL || pass == NULL) return false;
  const sc_http_slice *h = sc_http_header_find(req, "authorization");
  sc_http_basic_auth auth;
  if (h == NULL || sc_http_basic_auth_parse(*h, &auth) != SC_OK) return false;
  /* Both comparisons run, so the delay does not tell which one failed. */
  bool u = str_secret_eq(auth.user, user);
  bool p = str_secret_eq(auth.password, pass);
  return u & p;
}

static bool contains_nocase(sc_http_slice s, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= s.len; i++)
    if (sc_http_slice_eq_nocase((sc_http_slice){s.ptr + i, n}, needle)) return true;
  return false;
}

void sc_http_source_decide(const sc_http_request *req,
                           const sc_http_source_policy *policy,
                           sc_http_source_decision *out) {
  memset(out, 0, sizeof *out);
  if (sc_http_mount_decode(req->path, out->mount, sizeof out->mount) < 0) {
    out->mount[0] = '\0';
    out->outcome = SC_HTTP_SOURCE_DROP;
    return;
  }
  if (!basic_matches(req, policy->source_user, policy->source_password)) {
    out->outcome = SC_HTTP_SOURCE_UNAUTHORIZED;
    return;
  }
  if (policy->mount_in_use) {
    out->outcome = SC_HTTP_SOURCE_MOUNT_IN_USE;
    return;
  }
  /* Icecast reads Content-Type only when it has a value. */
  const sc_http_slice *ct = sc_http_header_find(req, "content-type");
  if ((ct == NULL || ct->len == 0) && sc_http_slice_eq_nocase(req->method, "PUT")) {
    out->outcome = SC_HTTP_SOURCE_NO_CONTENT_TYPE;
    return;
  }
  if (policy->sources_full) {
    out->outcome = SC_HTTP_SOURCE_TOO_MANY;
    return;
  }
  const sc_http_slice *expect = sc_http_header_find(req, "expect");
  out->expect_continue = expect != NULL && contains_nocase(*expect, "100-continue");
  out->outcome = SC_HTTP_SOURCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                 */

/* snprintf into out; SC_ERR_NOBUF when it does not fit whole. */
static int finish(int n, size_t cap) {
  if (n < 0 || (size_t)n >= cap) return SC_ERR_NOBUF;
  return n;
}

static int copy_str(const char *s, char *out, size_t cap) {
  size_t n = strlen(s);
  if (n >= cap) return SC_ERR_NOBUF;
  memcpy(out, s, n + 1);
  return (int)n;
}

int sc_http_write_continue(char *out, size_t cap) {
  return copy_str("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n", out, cap);
}

int sc_http_write_source_ok(char *out, size_t cap) {
  return copy_str("HTTP/1.0 200 OK\r\n\r\n", out, cap);
}

/* Icecast's reason phrases (util_http_build_header). */
static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Authentication Required";
  case 403:
    return "Forbidden";
  case 404:
    return "File Not Found";
  case 416:
    return "Request Range Not Satisfiable";
  default:
    return "(unknown status code)";
  }
}

/* The common head of util_http_build_header, without its final empty line:
 * "HTTP/1.0 <status> <reason>", Server, Connection: Close, Date, Content-Type
 * with charset utf-8, WWW-Authenticate for 401, the no-cache headers. */
static int write_head(const sc_http_server_info *srv, int status,
                      const char *content_type, char *out, size_t cap) {
  char date[128] = "";
  if (srv->date != NULL) {
    int d = snprintf(date, sizeof date, "Date: %s\r\n", srv->date);
    if (d < 0 || (size_t)d >= sizeof date) return SC_ERR_INVALID;
  }
  int n = snprintf(out, cap,
                   "HTTP/1.0 %d %s\r\nServer: %s\r\nConnection: Close\r\n%s"
                   "Content-Type: %s; charset=utf-8\r\n%s"
                   "Cache-Control: no-cache, no-store\r\n"
                   "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
                   "Pragma: no-cache\r\n",
                   status, reason(status), srv->server_id, date, content_type,
                   status == 401 ? "WWW-Authenticate: Basic realm=\"Icecast2 Server\"\r\n"
                                 : "");
  return finish(n, cap);
}

int sc_http_write_error(const sc_http_server_info *srv, int status, bool plain,
                        const char *message, char *out, size_t cap) {
  int h = write_head(srv, status, plain ? "text/plain" : "text/html", out, cap);
  if (h < 0) return h;
  int n;
  if (plain)
    n = snprintf(out + h, cap - (size_t)h, "\r\n%s", message);
  else
    n = snprintf(out + h, cap - (size_t)h,
                 "\r\n<html><head><title>Error %d</title></head>"
                 "<body><b>%d - %s</b></body></html>\r\n",
                 status, status, message);
  n = finish(n, cap - (size_t)h);
  return n < 0 ? n : h + n;
}

int sc_http_write_source_refusal(const sc_http_server_info *srv,
                                 sc_http_source_outcome outcome, char *out, size_t cap) {
  switch (outcome) {
  case SC_HTTP_SOURCE_UNAUTHORIZED:
    return sc_http_write_error(srv, 401, true, "You need to authenticate\r\n", out, cap);
  case SC_HTTP_SOURCE_MOUNT_IN_USE:
    return sc_http_write_error(srv, 403, true, "Mountpoint in use", out, cap);
  case SC_HTTP_SOURCE_NO_CONTENT_TYPE:
    return sc_http_write_error(srv, 403, true, "No Content-type given", out, cap);
  case SC_HTTP_SOURCE_TOO_MANY:
    return sc_http_write_error(srv, 403, true, "too many sources connected", out, cap);
  case SC_HTTP_SOURCE_OK:
  case SC_HTTP_SOURCE_DROP:
    break;
  }
  return SC_ERR_INVALID;
}

int sc_http_write_admin_xml(const sc_http_server_info *srv, const char *message, int ret,
                            char *out, size_t cap) {
  /* The document libxml2's xmlDocDumpMemory writes for Icecast's
   * <iceresponse>; message is plain text without XML specials. */
  char body[512];
  int b = snprintf(body, sizeof body,
                   "<?xml version=\"1.0\"?>\n<iceresponse><message>%s</message>"
                   "<return>%d</return></iceresponse>\n",
                   message, ret);
  if (b < 0 || (size_t)b >= sizeof body) return SC_ERR_INVALID;
  int h = write_head(srv, 200, "text/xml", out, cap);
  if (h < 0) return h;
  int n = snprintf(out + h, cap - (size_t)h, "Content-Length: %d\r\n\r\n%s", b, body);
  n = finish(n, cap - (size_t)h);
  return n < 0 ? n : h + n;
}

int sc_http_write_admin_html(const sc_http_server_info *srv, const char *message,
                             char *out, size_t cap) {
  int h = write_head(srv, 200, "text/html", out, cap);
  if (h < 0) return h;
  int n = snprintf(out + h, cap - (size_t)h,
                   "\r\n<html><head><title>Admin request successful</title></head>"
                   "<body><p>%s</p></body></html>",
                   message);
  n = finish(n, cap - (size_t)h);
  return n < 0 ? n : h + n;
}

/* ------------------------------------------------------------------------ */
/* Metadata updates (Icecast's admin.c)                                      */

/* A query value, or absent: Icecast's parser keeps a value it cannot
 * decode as no value at all. */
static int query_get(const sc_http_query *q, const char *name, char *out, size_t cap,
                     bool *too_long) {
  int n = sc_http_query_value(q, name, out, cap);
  if (n == SC_ERR_NOBUF) *too_long = true;
  return n;
}

static sc_http_mount_state mount_state(const sc_http_meta_policy *p, const char *mount) {
  return p->mount_state != NULL ? p->mount_state(p->user, mount) : SC_HTTP_MOUNT_NONE;
}

void sc_http_meta_decide(const sc_http_request *req, const sc_http_meta_policy *policy,
                         sc_http_meta_request *out) {
  memset(out, 0, sizeof *out);
  sc_http_query q;
  bool too_long = false;
  if (sc_http_query_parse(req->query, &q) != SC_OK) {
    out->outcome = SC_HTTP_META_TOO_LONG;
    return;
  }
  char mode[32];
  bool has_mode;

  if (slice_is(req->path, "/admin.cgi")) {
    out->shoutcast = true;
    char pass[SC_HTTP_PASSWORD_MAX_BYTES + 1];
    if (query_get(&q, "pass", pass, sizeof pass, &too_long) < 0) {
      out->outcome = too_long ? SC_HTTP_META_UNAUTHORIZED : SC_HTTP_META_MISSING_PASS;
      return;
    }
    if (policy->shoutcast_mount == NULL ||
        copy_str(policy->shoutcast_mount, out->mount, sizeof out->mount) < 0) {
      out->outcome = SC_HTTP_META_NO_SOURCE;
      return;
    }
    /* SHOUTcast logins carry a password only: the admin's or the source's. */
    bool a =
        policy->admin_password != NULL && str_secret_eq(pass, policy->admin_password);
    bool s =
        policy->source_password != NULL && str_secret_eq(pass, policy->source_password);
    if (!(a | s)) {
      out->outcome = SC_HTTP_META_UNAUTHORIZED;
      return;
    }
    sc_http_mount_state st = mount_state(policy, out->mount);
    if (st == SC_HTTP_MOUNT_NONE) {
      out->outcome = SC_HTTP_META_NO_SOURCE;
      return;
    }
    if (st != SC_HTTP_MOUNT_LIVE_SHOUTCAST) {
      out->outcome = SC_HTTP_META_NOT_SHOUTCAST;
      return;
    }
    has_mode = query_get(&q, "mode", mode, sizeof mode, &too_long) >= 0;
    out->has_song = query_get(&q, "song", out->song, sizeof out->song, &too_long) >= 0;
    if (too_long) {
      out->outcome = SC_HTTP_META_TOO_LONG;
      return;
    }
    if (!has_mode || !out->has_song) {
      out->outcome = SC_HTTP_META_MISSING_PARAM;
      return;
    }
    out->outcome = strcmp(mode, "updinfo") == 0 ? SC_HTTP_META_OK : SC_HTTP_META_BAD_MODE;
    return;
  }

  if (!slice_is(req->path, "/admin/metadata")) {
    out->outcome = SC_HTTP_META_UNKNOWN_COMMAND;
    return;
  }
  bool admin = basic_matches(req, policy->admin_user, policy->admin_password);
  if (query_get(&q, "mount", out->mount, sizeof out->mount, &too_long) < 0) {
    out->mount[0] = '\0';
    out->outcome = too_long ? SC_HTTP_META_TOO_LONG
                   : admin  ? SC_HTTP_META_NO_MOUNT
                            : SC_HTTP_META_UNAUTHORIZED;
    return;
  }
  if (!admin && !basic_matches(req, policy->source_user, policy->source_password)) {
    out->outcome = SC_HTTP_META_UNAUTHORIZED;
    return;
  }
  if (mount_state(policy, out->mount) == SC_HTTP_MOUNT_NONE) {
    out->outcome = SC_HTTP_META_NO_SOURCE;
    return;
  }
  has_mode = query_get(&q, "mode", mode, sizeof mode, &too_long) >= 0;
  if (!has_mode) {
    out->outcome = too_long ? SC_HTTP_META_BAD_MODE : SC_HTTP_META_MISSING_PARAM;
    return;
  }
  if (strcmp(mode, "updinfo") != 0) {
    out->outcome = SC_HTTP_META_BAD_MODE;
    return;
  }
  if (query_get(&q, "charset", out->charset, sizeof out->charset, &too_long) < 0)
    out->charset[0] = '\0';
  if (query_get(&q, "song", out->song, sizeof out->song, &too_long) >= 0) {
    out->has_song = true;
  } else {
    /* artist= and title= together make "artist - title" (format_mp3.c). */
    char artist[sizeof out->song], title[sizeof out->song];
    if (query_get(&q, "artist", artist, sizeof artist, &too_long) >= 0 &&
        query_get(&q, "title", title, sizeof title, &too_long) >= 0) {
      int n = snprintf(out->song, sizeof out->song, "%s - %s", artist, title);
      if (n < 0 || (size_t)n >= sizeof out->song)
        too_long = true;
      else
        out->has_song = true;
    }
  }
  if (too_long) {
    out->has_song = false;
    out->song[0] = '\0';
    out->outcome = SC_HTTP_META_TOO_LONG;
    return;
  }
  out->outcome = SC_HTTP_META_OK;
}

int sc_http_write_meta_response(const sc_http_server_info *srv,
                                const sc_http_meta_request *meta, char *out, size_t cap) {
  switch (meta->outcome) {
  case SC_HTTP_META_OK:
    if (meta->shoutcast)
      return sc_http_write_admin_html(srv, "Metadata update successful", out, cap);
    return sc_http_write_admin_xml(srv, "Metadata update successful", 1, out, cap);
  case SC_HTTP_META_UNAUTHORIZED:
    return sc_http_write_error(srv, 401, true, "You need to authenticate\r\n", out, cap);
  case SC_HTTP_META_MISSING_PASS:
    return sc_http_write_error(srv, 400, false, "missing pass parameter", out, cap);
  case SC_HTTP_META_NO_SOURCE:
    return sc_http_write_error(srv, 400, false, "Source does not exist", out, cap);
  case SC_HTTP_META_NOT_SHOUTCAST:
    return sc_http_write_error(srv, 400, false, "illegal metadata call", out, cap);
  case SC_HTTP_META_MISSING_PARAM:
    return sc_http_write_error(srv, 400, false, "Missing parameter", out, cap);
  case SC_HTTP_META_BAD_MODE:
    if (meta->shoutcast)
      return sc_http_write_error(srv, 400, false, "No such action", out, cap);
    return sc_http_write_admin_xml(srv, "No such action", 0, out, cap);
  case SC_HTTP_META_UNKNOWN_COMMAND:
    return sc_http_write_error(srv, 400, false, "Unrecognised command", out, cap);
  case SC_HTTP_META_NO_MOUNT:
    return sc_http_write_error(srv, 400, false, "Unknown admin request", out, cap);
  case SC_HTTP_META_TOO_LONG:
    return sc_http_write_error(srv, 400, false, "Metadata too long", out, cap);
  }
  return SC_ERR_INVALID;
}
