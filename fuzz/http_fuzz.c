/*
 * http_fuzz.c — libFuzzer target for sc_http (http/http.h): every parser a
 * source client, an admin request or an upstream relay can reach.
 *
 * The first input byte chooses the parser (modulo 6), the rest is its input:
 *   0  request head, then classification, station info, the source and
 *      metadata decisions and the answer writers (a player's head too, with
 *      the request as its own source, and the playlists with its Host, path
 *      and station strings), as a server runs them;
 *   1  SHOUTcast v1 source head;
 *   2  query string and percent-decoding of every value;
 *   3  ICY metadata block, and the builder on the same bytes;
 *   4  Base64 and Basic credentials;
 *   5  percent-decoding and the mount-path check.
 * Beyond the sanitizers' checks, each parser's documented invariants are
 * asserted: results are documented codes, slices lie inside the input,
 * strings are NUL-terminated within their bounds, a head's length is a
 * stable prefix (parsing just that prefix gives the same length, one byte
 * less is incomplete), strict Base64 round-trips exactly.
 *
 * Needs only sc_http and core/err.c:
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I. \
 *     -fsanitize=fuzzer,address,undefined fuzz/http_fuzz.c http/\*.c core/err.c
 * Seeds: fuzz/corpus/http/ (the recorded requests and client heads, each
 * behind its selector byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/http.h"
#include "http/playlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                         \
  do {                                                                                   \
    if (!(x)) abort();                                                                   \
  } while (0)

static void check_slice(sc_http_slice s, const char *buf, size_t len) {
  CHECK(s.len == 0 || (s.ptr >= buf && s.ptr + s.len <= buf + len));
}

static void check_str(const char *s, size_t cap) {
  CHECK(memchr(s, '\0', cap) != NULL);
}

static sc_http_mount_state fuzz_mounts(void *user, const char *mount) {
  (void)user;
  if (strcmp(mount, "/live") == 0) return SC_HTTP_MOUNT_LIVE;
  if (strcmp(mount, "/sc") == 0) return SC_HTTP_MOUNT_LIVE_SHOUTCAST;
  return SC_HTTP_MOUNT_NONE;
}

static void serve(const sc_http_request *req) {
  static const sc_http_server_info srv = {"Icecast 2.4.4",
                                          "Mon, 07 Dec 2026 09:00:00 GMT"};
  static char out[8192];
  char tiny[40];
  sc_http_station_info si;
  sc_http_station_info_parse(req, &si);
  check_str(si.name, sizeof si.name);
  check_str(si.description, sizeof si.description);
  check_str(si.genre, sizeof si.genre);
  check_str(si.url, sizeof si.url);
  check_str(si.bitrate, sizeof si.bitrate);
  check_str(si.audio_info, sizeof si.audio_info);
  check_str(si.content_type, sizeof si.content_type);
  CHECK(si.metaint_bytes >= 0);
  (void)sc_http_is_libshout_probe(req);
  switch (sc_http_classify(req)) {
  case SC_HTTP_KIND_SOURCE_PUT:
  case SC_HTTP_KIND_SOURCE_LEGACY: {
    sc_http_source_policy p = {"source", "hackme", false, false};
    sc_http_source_decision d;
    sc_http_source_decide(req, &p, &d);
    check_str(d.mount, sizeof d.mount);
    CHECK(d.outcome == SC_HTTP_SOURCE_DROP || d.mount[0] == '/');
    if (d.outcome != SC_HTTP_SOURCE_OK && d.outcome != SC_HTTP_SOURCE_DROP) {
      int n = sc_http_write_source_refusal(&srv, d.outcome, out, sizeof out);
      CHECK(n > 0 && (size_t)n == strlen(out));
      CHECK(sc_http_write_source_refusal(&srv, d.outcome, tiny, sizeof tiny) ==
            SC_ERR_NOBUF);
    }
    break;
  }
  case SC_HTTP_KIND_ADMIN:
  case SC_HTTP_KIND_SHOUTCAST_ADMIN: {
    sc_http_meta_policy p = {"source",    "hackme", "admin", "adminpw",
                             fuzz_mounts, NULL,     "/sc"};
    sc_http_meta_request m;
    sc_http_meta_decide(req, &p, &m);
    check_str(m.mount, sizeof m.mount);
    check_str(m.song, sizeof m.song);
    check_str(m.charset, sizeof m.charset);
    int n = sc_http_write_meta_response(&srv, &m, out, sizeof out);
    CHECK(n > 0 && (size_t)n == strlen(out));
    if (m.outcome == SC_HTTP_META_OK && m.has_song) {
      static uint8_t blk[SC_HTTP_ICY_META_MAX_BYTES + 1];
      /* Every accepted song fits one ICY block. */
      int b = sc_http_icy_meta_build(m.song, strlen(m.song), NULL, 0, blk, sizeof blk);
      CHECK(b > 0);
    }
    break;
  }
  case SC_HTTP_KIND_LISTENER: {
    /* The request serves as both the source's head and the player's. */
    int metaint;
    int n = sc_http_write_listener_head(
        &srv, req, si.content_type[0] ? si.content_type : "audio/mpeg", req,
        SC_HTTP_ICY_METAINT_DEFAULT_BYTES, &metaint, out, sizeof out);
    CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
    CHECK(metaint == 0 || metaint == SC_HTTP_ICY_METAINT_DEFAULT_BYTES);
    CHECK(sc_http_write_listener_head(&srv, req, "audio/mpeg", req, 1, &metaint, tiny,
                                      sizeof tiny) == SC_ERR_NOBUF);
    /* Playlists from whatever a player and a source may say: the writers
     * stay within their bound and escape XML text. */
    char host[SC_HTTP_MOUNT_MAX_BYTES + 1] = "127.0.0.1:8000";
    char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
    const sc_http_slice *h = sc_http_header_find(req, "host");
    if (h && h->len < sizeof host) {
      memcpy(host, h->ptr, h->len);
      host[h->len] = '\0';
    }
    if (sc_http_mount_decode(req->path, mount, sizeof mount) < 0) strcpy(mount, "/m");
    sc_http_playlist_entry e = {host, mount, si.name, si.description, si.content_type};
    static char pl[SC_HTTP_PLAYLIST_MAX_BYTES];
    int w = sc_http_write_m3u(&srv, &e, pl, sizeof pl);
    CHECK(w == SC_ERR_NOBUF || (w > 0 && (size_t)w == strlen(pl)));
    w = sc_http_write_pls(&srv, &e, pl, sizeof pl);
    CHECK(w == SC_ERR_NOBUF || (w > 0 && (size_t)w == strlen(pl)));
    w = sc_http_write_xspf(&srv, &e, pl, sizeof pl);
    CHECK(w == SC_ERR_NOBUF || (w > 0 && (size_t)w == strlen(pl)));
    if (w > 0) {
      /* Between the tags, no raw '<' from the strings. */
      const char *body = strstr(pl, "\r\n\r\n");
      CHECK(body != NULL);
      for (const char *p = body; (p = strchr(p, '<')) != NULL; p++)
        CHECK(p[1] == '/' || p[1] == '?' || (p[1] >= 'a' && p[1] <= 'z'));
    }
    CHECK(sc_http_write_m3u(&srv, &e, tiny, sizeof tiny) == SC_ERR_NOBUF);
    break;
  }
  case SC_HTTP_KIND_DROP:
  case SC_HTTP_KIND_STATS:
  case SC_HTTP_KIND_UNKNOWN:
    break;
  }
}

static void fuzz_request(const char *buf, size_t len) {
  static sc_http_request req;
  int n = sc_http_parse_request(buf, len, 0, &req);
  if (n < 0) {
    CHECK(n == SC_HTTP_INCOMPLETE || n == SC_HTTP_ERR_REQUEST_LINE ||
          n == SC_HTTP_ERR_HEADER || n == SC_HTTP_ERR_TOO_MANY_HEADERS ||
          n == SC_HTTP_ERR_HEAD_TOO_LARGE);
    CHECK(n != SC_HTTP_INCOMPLETE || len < SC_HTTP_HEAD_MAX_BYTES);
    return;
  }
  CHECK((size_t)n <= len && n <= SC_HTTP_HEAD_MAX_BYTES);
  CHECK(req.header_count <= SC_HTTP_HEADERS_MAX);
  check_slice(req.method, buf, (size_t)n);
  check_slice(req.target, buf, (size_t)n);
  check_slice(req.path, buf, (size_t)n);
  check_slice(req.query, buf, (size_t)n);
  check_slice(req.protocol, buf, (size_t)n);
  for (size_t i = 0; i < req.header_count; i++) {
    check_slice(req.headers[i].name, buf, (size_t)n);
    check_slice(req.headers[i].value, buf, (size_t)n);
    CHECK(req.headers[i].name.len > 0);
  }
  serve(&req);
  static sc_http_request again;
  CHECK(sc_http_parse_request(buf, (size_t)n, 0, &again) == n);
  CHECK(again.header_count == req.header_count);
  CHECK(sc_http_parse_request(buf, (size_t)n - 1, 0, &again) == SC_HTTP_INCOMPLETE);
}

static void fuzz_shoutcast(const char *buf, size_t len) {
  static sc_http_request req;
  sc_http_slice pw;
  int n = sc_http_shoutcast_parse(buf, len, 0, &pw, &req);
  if (n < 0) {
    CHECK(n == SC_HTTP_INCOMPLETE || n == SC_HTTP_ERR_LINE_TOO_LONG ||
          n == SC_HTTP_ERR_TOO_MANY_HEADERS || n == SC_HTTP_ERR_HEAD_TOO_LARGE);
    return;
  }
  CHECK((size_t)n <= len);
  check_slice(pw, buf, (size_t)n);
  CHECK(req.header_count <= SC_HTTP_HEADERS_MAX);
  for (size_t i = 0; i < req.header_count; i++) {
    check_slice(req.headers[i].name, buf, (size_t)n);
    check_slice(req.headers[i].value, buf, (size_t)n);
  }
  sc_http_station_info si;
  sc_http_station_info_parse(&req, &si);
  CHECK(sc_http_shoutcast_parse(buf, (size_t)n - 1, 0, &pw, &req) == SC_HTTP_INCOMPLETE);
}

static void fuzz_query(const char *buf, size_t len) {
  sc_http_query q;
  int rc = sc_http_query_parse((sc_http_slice){buf, len}, &q);
  CHECK(rc == SC_OK || rc == SC_ERR_FULL);
  if (rc != SC_OK) return;
  CHECK(q.count <= SC_HTTP_QUERY_PARAMS_MAX);
  char name[64];
  static char out[8192];
  for (size_t i = 0; i < q.count; i++) {
    check_slice(q.params[i].name, buf, len);
    check_slice(q.params[i].value, buf, len);
    size_t nl = q.params[i].name.len < sizeof name - 1 ? q.params[i].name.len : 0;
    memcpy(name, q.params[i].name.ptr, nl);
    name[nl] = '\0';
    int n = sc_http_query_value(&q, name, out, sizeof out);
    CHECK(n == SC_ERR_INVALID || n == SC_ERR_NOBUF || n == SC_ERR_NOT_FOUND ||
          (n >= 0 && (size_t)n <= len && strlen(out) == (size_t)n));
  }
}

static void fuzz_icy(const uint8_t *buf, size_t len) {
  sc_http_icy_meta m;
  int n = sc_http_icy_meta_parse(buf, len, &m);
  if (n >= 0) {
    CHECK((size_t)n <= len && (n - 1) % SC_HTTP_ICY_META_UNIT_BYTES == 0);
    check_slice(m.title, (const char *)buf, (size_t)n);
    check_slice(m.url, (const char *)buf, (size_t)n);
  } else {
    CHECK(n == SC_HTTP_INCOMPLETE || n == SC_ERR_INVALID);
  }
  /* Build a block from the same bytes as a title; when the title cannot end
   * a value early and holds no NUL, parsing gives it back. */
  static uint8_t blk[SC_HTTP_ICY_META_MAX_BYTES + 1];
  int b = sc_http_icy_meta_build((const char *)buf, len, NULL, 0, blk, sizeof blk);
  if (b < 0) {
    CHECK(b == SC_ERR_TOO_LARGE);
    return;
  }
  bool plain = memchr(buf, 0, len) == NULL;
  for (size_t i = 0; plain && i + 1 < len; i++)
    if (buf[i] == '\'' && buf[i + 1] == ';') plain = false;
  if (plain) {
    CHECK(sc_http_icy_meta_parse(blk, (size_t)b, &m) == b);
    CHECK(m.has_title && m.title.len == len && memcmp(m.title.ptr, buf, len) == 0);
  }
}

static void fuzz_base64(const char *buf, size_t len) {
  static uint8_t dec[8192];
  static char enc[8192 * 2];
  int n = sc_http_base64_decode(buf, len, dec, sizeof dec);
  if (n >= 0) {
    /* Strict decoding accepts one encoding per byte string: it round-trips. */
    int e = sc_http_base64_encode(dec, (size_t)n, enc, sizeof enc);
    CHECK(e >= 0 && (size_t)e == len && memcmp(enc, buf, len) == 0);
  } else {
    CHECK(n == SC_ERR_INVALID || n == SC_ERR_NOBUF);
  }
  sc_http_basic_auth a;
  int rc = sc_http_basic_auth_parse((sc_http_slice){buf, len}, &a);
  CHECK(rc == SC_OK || rc == SC_ERR_NOT_FOUND || rc == SC_ERR_INVALID ||
        rc == SC_ERR_TOO_LARGE);
  if (rc == SC_OK) {
    check_str(a.user, sizeof a.user);
    check_str(a.password, sizeof a.password);
    CHECK(strchr(a.user, ':') == NULL);
  }
  (void)sc_http_secret_eq(buf, len, "hackme", 6);
}

static void fuzz_mount(const char *buf, size_t len) {
  static char out[8192];
  int n = sc_http_percent_decode(buf, len, true, out, sizeof out);
  CHECK(n == SC_ERR_INVALID || n == SC_ERR_NOBUF || (n >= 0 && (size_t)n <= len));
  char m[SC_HTTP_MOUNT_MAX_BYTES + 1];
  n = sc_http_mount_decode((sc_http_slice){buf, len}, m, sizeof m);
  if (n >= 0) {
    CHECK(m[0] == '/' && strlen(m) == (size_t)n && n <= SC_HTTP_MOUNT_MAX_BYTES);
    CHECK(strstr(m, "//") == NULL && strstr(m, "/../") == NULL);
  } else {
    CHECK(n == SC_ERR_INVALID || n == SC_ERR_TOO_LARGE);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *in = data + 1;
  size_t len = size - 1;
  /* Copy into an exact-size heap block so ASan sees any read past the end. */
  char *buf = malloc(len ? len : 1);
  if (buf == NULL) return 0;
  memcpy(buf, in, len);
  switch (data[0] % 6) {
  case 0:
    fuzz_request(buf, len);
    break;
  case 1:
    fuzz_shoutcast(buf, len);
    break;
  case 2:
    fuzz_query(buf, len);
    break;
  case 3:
    fuzz_icy((const uint8_t *)buf, len);
    break;
  case 4:
    fuzz_base64(buf, len);
    break;
  default:
    fuzz_mount(buf, len);
    break;
  }
  free(buf);
  return 0;
}
