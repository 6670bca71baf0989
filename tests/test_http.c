/*
 * test_http.c — sc_http: the request-head parser, Basic auth, query strings,
 * SHOUTcast v1 lines, ICY metadata, and Icecast 2.4's decisions and answers
 * checked byte for byte against a recording of a real icecast2
 * (tests/data/icecast/answers.txt, made by tests/icecast_oracle.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/http.h"

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

static int parse(const char *s, sc_http_request *req) {
  return sc_http_parse_request(s, strlen(s), 0, req);
}

static void assert_slice(sc_http_slice s, const char *want) {
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.ptr, want, s.len);
}

static const char *find_header(const sc_http_request *req, const char *name, char *buf,
                               size_t cap) {
  const sc_http_slice *v = sc_http_header_find(req, name);
  if (v == NULL) return NULL;
  assert_true(v->len < cap);
  memcpy(buf, v->ptr, v->len);
  buf[v->len] = '\0';
  return buf;
}

/* ------------------------------------------------------------------------ */
/* request-head parser                                                       */

static const char put_crlf[] = "PUT /live.ogg?x=1 HTTP/1.1\r\n"
                               "Host: 127.0.0.1:8000\r\n"
                               "Authorization: Basic c291cmNlOmhhY2ttZQ==\r\n"
                               "Content-Type:   audio/ogg  \r\n"
                               "ice-name: Radio \xc3\xa9t\xc3\xa9\r\n"
                               "\r\n"
                               "OggS";

static void test_parse_put(void **state) {
  (void)state;
  sc_http_request req;
  int n = parse(put_crlf, &req);
  assert_int_equal(n, (int)strlen(put_crlf) - 4);
  assert_slice(req.method, "PUT");
  assert_slice(req.target, "/live.ogg?x=1");
  assert_slice(req.path, "/live.ogg");
  assert_slice(req.query, "x=1");
  assert_slice(req.protocol, "HTTP");
  assert_int_equal(req.version_major, 1);
  assert_int_equal(req.version_minor, 1);
  assert_false(req.lf_only);
  assert_int_equal(req.header_count, 4);
  char buf[64];
  assert_string_equal(find_header(&req, "content-type", buf, sizeof buf), "audio/ogg");
  assert_string_equal(find_header(&req, "CONTENT-TYPE", buf, sizeof buf), "audio/ogg");
  assert_string_equal(find_header(&req, "Ice-Name", buf, sizeof buf),
                      "Radio \xc3\xa9t\xc3\xa9");
  assert_null(sc_http_header_find(&req, "expect"));
  assert_int_equal(sc_http_classify(&req), SC_HTTP_KIND_SOURCE_PUT);
}

static void test_parse_lf_only(void **state) {
  (void)state;
  /* DarkIce's head: bare LF line ends. */
  static const char s[] = "SOURCE /darkice HTTP/1.0\n"
                          "Authorization: Basic c291cmNlOmhhY2ttZQ==\n"
                          "Content-Type: audio/mpeg\n"
                          "ice-bitrate: 128\n"
                          "\n\xff\xfb";
  sc_http_request req;
  int n = parse(s, &req);
  assert_int_equal(n, (int)strlen(s) - 2);
  assert_true(req.lf_only);
  assert_int_equal(req.header_count, 3);
  assert_int_equal(sc_http_classify(&req), SC_HTTP_KIND_SOURCE_LEGACY);
  /* Mixed: CRLF lines, a bare LF empty line. */
  static const char mixed[] = "GET / HTTP/1.0\r\nA: b\r\n\n";
  assert_int_equal(parse(mixed, &req), (int)strlen(mixed));
  static const char mixed2[] = "GET / HTTP/1.0\nA: b\n\r\n";
  assert_int_equal(parse(mixed2, &req), (int)strlen(mixed2));
}

static void test_parse_byte_by_byte(void **state) {
  (void)state;
  size_t total = strlen(put_crlf) - 4; /* without the body */
  sc_http_request req;
  for (size_t len = 0; len < total; len++)
    assert_int_equal(sc_http_parse_request(put_crlf, len, 0, &req), SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_parse_request(put_crlf, total, 0, &req), (int)total);
  assert_int_equal(sc_http_parse_request(put_crlf, total + 4, 0, &req), (int)total);
}

static void test_parse_limits(void **state) {
  (void)state;
  static char buf[SC_HTTP_HEAD_MAX_BYTES + 512];
  sc_http_request req;
  /* SC_HTTP_HEADERS_MAX headers pass; one more fails. */
  for (int extra = 0; extra <= 1; extra++) {
    size_t o = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.0\r\n");
    for (int i = 0; i < SC_HTTP_HEADERS_MAX + extra; i++)
      o += (size_t)snprintf(buf + o, sizeof buf - o, "X-%d: v\r\n", i);
    o += (size_t)snprintf(buf + o, sizeof buf - o, "\r\n");
    int n = sc_http_parse_request(buf, o, 0, &req);
    if (extra == 0) {
      assert_int_equal(n, (int)o);
      assert_int_equal(req.header_count, SC_HTTP_HEADERS_MAX);
    } else {
      assert_int_equal(n, SC_HTTP_ERR_TOO_MANY_HEADERS);
    }
  }
  /* A head without its end: incomplete below the bound, too large at it. */
  size_t o = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.0\r\nX-Pad: ");
  memset(buf + o, 'a', sizeof buf - o);
  assert_int_equal(sc_http_parse_request(buf, SC_HTTP_HEAD_MAX_BYTES - 1, 0, &req),
                   SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_parse_request(buf, SC_HTTP_HEAD_MAX_BYTES, 0, &req),
                   SC_HTTP_ERR_HEAD_TOO_LARGE);
  assert_int_equal(sc_http_parse_request(buf, sizeof buf, 0, &req),
                   SC_HTTP_ERR_HEAD_TOO_LARGE);
  /* A head that ends exactly at the bound is accepted; one byte over is not. */
  memcpy(buf + SC_HTTP_HEAD_MAX_BYTES - 4, "\r\n\r\n", 4);
  assert_int_equal(sc_http_parse_request(buf, sizeof buf, 0, &req),
                   SC_HTTP_HEAD_MAX_BYTES);
  assert_int_equal(
      sc_http_parse_request(buf, sizeof buf, SC_HTTP_HEAD_MAX_BYTES - 1, &req),
      SC_HTTP_ERR_HEAD_TOO_LARGE);
  /* Icecast's own bound. */
  assert_int_equal(
      sc_http_parse_request(buf, sizeof buf, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &req),
      SC_HTTP_ERR_HEAD_TOO_LARGE);
}

static void test_parse_bad_request_line(void **state) {
  (void)state;
  static const char *const bad[] = {
      "\r\n\r\n",                       /* empty request line */
      "GET\r\n\r\n",                    /* no target */
      "GET /\r\n\r\n",                  /* no version */
      "GET  / HTTP/1.0\r\n\r\n",        /* two spaces */
      "GET / HTTP/1.0 \r\n\r\n",        /* trailing space */
      "GET / http/1.0\r\n\r\n",         /* Icecast compares case-sensitively */
      "GET / FOO/1.0\r\n\r\n",          /* unknown protocol */
      "GET / HTTP/1\r\n\r\n",           /* bad version */
      "GET / HTTP/1.10\r\n\r\n",        /* bad version */
      "GET / HTTP/\r\n\r\n",            /* bad version */
      "G(T / HTTP/1.0\r\n\r\n",         /* not a token */
      "\x01\x02 garbage\r\n\r\n",       /* control bytes */
      "GET /a\rb HTTP/1.0\r\n\r\n",     /* bare CR */
      "GET /\x7f HTTP/1.0\r\n\r\n",     /* DEL in target */
      "GET /\xc3\xa9 HTTP/1.0\r\n\r\n", /* raw UTF-8 in target */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sc_http_request req;
    assert_int_equal(parse(bad[i], &req), SC_HTTP_ERR_REQUEST_LINE);
  }
  sc_http_request req;
  assert_int_equal(parse("GET / ICE/1.0\r\n\r\n", &req), 17);
  assert_slice(req.protocol, "ICE");
}

static void test_parse_bad_header(void **state) {
  (void)state;
  static const char *const bad[] = {
      "GET / HTTP/1.0\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.0\r\nName : v\r\n\r\n",   /* space before colon */
      "GET / HTTP/1.0\r\n: v\r\n\r\n",        /* empty name */
      "GET / HTTP/1.0\r\nA: b\r\n c\r\n\r\n", /* obs-fold */
      "GET / HTTP/1.0\r\nA: b\x01\r\n\r\n",   /* control byte */
      "GET / HTTP/1.0\r\nA: b\rc\r\n\r\n",    /* bare CR */
      "GET / HTTP/1.0\r\nA\xc3\xa9: b\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sc_http_request req;
    assert_int_equal(parse(bad[i], &req), SC_HTTP_ERR_HEADER);
  }
}

static void test_header_find_last_wins(void **state) {
  (void)state;
  sc_http_request req;
  assert_true(
      parse("GET / HTTP/1.0\r\nX: 1\r\nx: 2\r\nEmpty:\r\nTab:\t v \t\r\n\r\n", &req) > 0);
  char buf[16];
  assert_string_equal(find_header(&req, "X", buf, sizeof buf), "2");
  assert_string_equal(find_header(&req, "empty", buf, sizeof buf), "");
  assert_string_equal(find_header(&req, "tab", buf, sizeof buf), "v");
  assert_true(sc_http_slice_eq_nocase((sc_http_slice){"AbC", 3}, "aBc"));
  assert_false(sc_http_slice_eq_nocase((sc_http_slice){"AbC", 3}, "aBcd"));
  assert_string_equal(sc_http_strerror(SC_HTTP_ERR_HEADER), "malformed header line");
  assert_non_null(sc_http_strerror(SC_ERR_NOBUF));
}

/* ------------------------------------------------------------------------ */
/* Base64 and Basic auth                                                     */

static void test_base64_vectors(void **state) {
  (void)state;
  /* RFC 4648 §10. */
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; i++) {
    char e[16];
    uint8_t d[16];
    assert_int_equal(
        sc_http_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), e, sizeof e),
        (int)strlen(enc[i]));
    assert_string_equal(e, enc[i]);
    int n = sc_http_base64_decode(enc[i], strlen(enc[i]), d, sizeof d);
    assert_int_equal(n, (int)strlen(plain[i]));
    assert_memory_equal(d, plain[i], (size_t)n);
  }
  char e[4];
  assert_int_equal(sc_http_base64_encode((const uint8_t *)"foo", 3, e, sizeof e),
                   SC_ERR_NOBUF);
  uint8_t d[2];
  assert_int_equal(sc_http_base64_decode("Zm9v", 4, d, sizeof d), SC_ERR_NOBUF);
}

static void test_base64_strict(void **state) {
  (void)state;
  static const char *const bad[] = {
      "Zg=",               /* length not a multiple of 4 */
      "Zg",                /* no padding */
      "Zh==",              /* unused bits not zero */
      "Zm9=",              /* unused bits not zero */
      "Z===",              /* padding too early */
      "=g==",              /* padding first */
      "Zg==Zg==",          /* padding in the middle */
      "Zm9v YmFy", "Zm9-", /* URL-safe alphabet */
      "Zm9\x80",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t d[16];
    assert_int_equal(sc_http_base64_decode(bad[i], strlen(bad[i]), d, sizeof d),
                     SC_ERR_INVALID);
  }
}

static sc_http_slice sl(const char *s) {
  return (sc_http_slice){s, strlen(s)};
}

static void test_basic_auth(void **state) {
  (void)state;
  sc_http_basic_auth a;
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic c291cmNlOmhhY2ttZQ=="), &a), SC_OK);
  assert_string_equal(a.user, "source");
  assert_string_equal(a.password, "hackme");
  /* RFC 7617: scheme case-insensitive; the password may hold ':'. */
  assert_int_equal(sc_http_basic_auth_parse(sl("basic   dTpwOnE="), &a), SC_OK);
  assert_string_equal(a.user, "u");
  assert_string_equal(a.password, "p:q");
  assert_int_equal(sc_http_basic_auth_parse(sl("Bearer abc"), &a), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_http_basic_auth_parse(sl("Basicc291"), &a), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic"), &a), SC_ERR_INVALID);
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic "), &a), SC_ERR_INVALID);
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic c291cmNl"), &a), SC_ERR_INVALID);
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic c291cmNl!"), &a), SC_ERR_INVALID);
  /* "a\0:b" */
  assert_int_equal(sc_http_basic_auth_parse(sl("Basic YQA6Yg=="), &a), SC_ERR_INVALID);
  /* A user over its bound. */
  uint8_t raw[SC_HTTP_USER_MAX_BYTES + 3];
  memset(raw, 'u', sizeof raw);
  raw[sizeof raw - 2] = ':';
  char hdr[640] = "Basic ";
  assert_true(sc_http_base64_encode(raw, sizeof raw, hdr + 6, sizeof hdr - 6) > 0);
  assert_int_equal(sc_http_basic_auth_parse(sl(hdr), &a), SC_ERR_TOO_LARGE);
  /* Exactly at the bounds. */
  uint8_t ok[SC_HTTP_USER_MAX_BYTES + 1 + SC_HTTP_PASSWORD_MAX_BYTES];
  memset(ok, 'p', sizeof ok);
  ok[SC_HTTP_USER_MAX_BYTES] = ':';
  assert_true(sc_http_base64_encode(ok, sizeof ok, hdr + 6, sizeof hdr - 6) > 0);
  assert_int_equal(sc_http_basic_auth_parse(sl(hdr), &a), SC_OK);
  assert_int_equal(strlen(a.user), SC_HTTP_USER_MAX_BYTES);
  assert_int_equal(strlen(a.password), SC_HTTP_PASSWORD_MAX_BYTES);
}

static void test_secret_eq(void **state) {
  (void)state;
  assert_true(sc_http_secret_eq("hackme", 6, "hackme", 6));
  assert_false(sc_http_secret_eq("hackme", 6, "hackmf", 6));
  assert_false(sc_http_secret_eq("hackme", 6, "hackme!", 7));
  assert_false(sc_http_secret_eq("", 0, "x", 1));
  assert_true(sc_http_secret_eq("", 0, "", 0));
  assert_false(sc_http_secret_eq("a\0", 2, "a", 1));
}

/* ------------------------------------------------------------------------ */
/* query strings, mounts, classification                                    */

static void test_query(void **state) {
  (void)state;
  sc_http_query q;
  assert_int_equal(
      sc_http_query_parse(sl("mount=/m1&mode=updinfo&song=A%20-%20B+C&flag&charset=UTF-8&"
                             "song2=%e2%82%ac#x&mode=again"),
                          &q),
      SC_OK);
  assert_int_equal(q.count, 6);
  char v[64];
  assert_int_equal(sc_http_query_value(&q, "song", v, sizeof v), 7);
  assert_string_equal(v, "A - B C");
  assert_int_equal(sc_http_query_value(&q, "mode", v, sizeof v), 5);
  assert_string_equal(v, "again"); /* the last one wins */
  assert_int_equal(sc_http_query_value(&q, "song2", v, sizeof v), 3);
  assert_string_equal(v, "\xe2\x82\xac"); /* stops at '#' */
  assert_int_equal(sc_http_query_value(&q, "flag", v, sizeof v), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_http_query_value(&q, "song", v, 7), SC_ERR_NOBUF);
  assert_int_equal(sc_http_query_value(&q, "song", v, 8), 7);

  static const char *const bad[] = {"%", "%4", "a%4", "%zz", "%g1", "%00", "a%0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sc_http_percent_decode(bad[i], strlen(bad[i]), true, v, sizeof v),
                     SC_ERR_INVALID);
  assert_int_equal(sc_http_percent_decode("a%41", 4, true, v, sizeof v), 2);
  assert_string_equal(v, "aA");
  assert_int_equal(sc_http_percent_decode("a+b", 3, false, v, sizeof v), 3);
  assert_string_equal(v, "a+b");
  assert_int_equal(sc_http_percent_decode("", 0, true, v, 0), SC_ERR_NOBUF);

  /* Bound on pairs. */
  char many[512] = "";
  for (int i = 0; i <= SC_HTTP_QUERY_PARAMS_MAX; i++)
    snprintf(many + strlen(many), sizeof many - strlen(many), "k%d=v&", i);
  assert_int_equal(sc_http_query_parse(sl(many), &q), SC_ERR_FULL);
  assert_int_equal(sc_http_query_parse(sl(""), &q), SC_OK);
  assert_int_equal(q.count, 0);
}

static void test_mount_decode(void **state) {
  (void)state;
  char m[SC_HTTP_MOUNT_MAX_BYTES + 1];
  assert_int_equal(sc_http_mount_decode(sl("/live"), m, sizeof m), 5);
  assert_int_equal(sc_http_mount_decode(sl("/a%20b/c.ogg"), m, sizeof m), 10);
  assert_string_equal(m, "/a b/c.ogg");
  assert_int_equal(sc_http_mount_decode(sl("/a+b"), m, sizeof m), 4);
  assert_string_equal(m, "/a+b"); /* '+' stays in a path */
  assert_int_equal(sc_http_mount_decode(sl("/."), m, sizeof m), 2); /* as Icecast */
  assert_int_equal(sc_http_mount_decode(sl("/.hidden"), m, sizeof m), 8);
  assert_int_equal(sc_http_mount_decode(sl("/a/"), m, sizeof m), 3);   /* as Icecast */
  assert_int_equal(sc_http_mount_decode(sl("/a%5c"), m, sizeof m), 3); /* as Icecast */
  static const char *const bad[] = {"",      "live",     "//x",     "/a//b",
                                    "/../x", "/./x",     "/a/../b", "/%2e%2e/x",
                                    "/a%00", "/a%0d%0a", "/a%zz",   "/a\\..\\b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_true(sc_http_mount_decode(sl(bad[i]), m, sizeof m) < 0);
  char longp[SC_HTTP_MOUNT_MAX_BYTES + 2];
  memset(longp, 'a', sizeof longp);
  longp[0] = '/';
  assert_int_equal(
      sc_http_mount_decode((sc_http_slice){longp, SC_HTTP_MOUNT_MAX_BYTES}, m, sizeof m),
      SC_HTTP_MOUNT_MAX_BYTES);
  assert_int_equal(sc_http_mount_decode(
                       (sc_http_slice){longp, SC_HTTP_MOUNT_MAX_BYTES + 1}, m, sizeof m),
                   SC_ERR_TOO_LARGE);
}

static void test_classify(void **state) {
  (void)state;
  static const struct {
    const char *req;
    sc_http_kind kind;
  } cases[] = {
      {"PUT /a HTTP/1.1\r\n\r\n", SC_HTTP_KIND_SOURCE_PUT},
      {"put /a HTTP/1.1\r\n\r\n", SC_HTTP_KIND_SOURCE_PUT},
      {"SOURCE /a ICE/1.0\r\n\r\n", SC_HTTP_KIND_SOURCE_LEGACY},
      {"SOURCE a HTTP/1.0\r\n\r\n", SC_HTTP_KIND_DROP},
      {"GET /admin/metadata?mount=/a HTTP/1.0\r\n\r\n", SC_HTTP_KIND_ADMIN},
      {"GET /admin.cgi?pass=x HTTP/1.0\r\n\r\n", SC_HTTP_KIND_SHOUTCAST_ADMIN},
      {"GET /admin.cgix HTTP/1.0\r\n\r\n", SC_HTTP_KIND_LISTENER},
      {"GET /live HTTP/1.1\r\n\r\n", SC_HTTP_KIND_LISTENER},
      {"STATS / HTTP/1.0\r\n\r\n", SC_HTTP_KIND_STATS},
      {"POST /admin/metadata HTTP/1.0\r\n\r\n", SC_HTTP_KIND_UNKNOWN},
      {"HEAD /live HTTP/1.0\r\n\r\n", SC_HTTP_KIND_UNKNOWN},
      {"BREW /pot HTTP/1.0\r\n\r\n", SC_HTTP_KIND_DROP},
      {"GET /../etc HTTP/1.0\r\n\r\n", SC_HTTP_KIND_DROP},
      {"OPTIONS * HTTP/1.1\r\n\r\n", SC_HTTP_KIND_DROP},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sc_http_request req;
    assert_true(parse(cases[i].req, &req) > 0);
    assert_int_equal(sc_http_classify(&req), cases[i].kind);
  }
}

static void test_libshout_probe(void **state) {
  (void)state;
  sc_http_request req;
  assert_true(parse("SOURCE /m HTTP/1.0\r\nHost: h:8000\r\nUser-Agent: libshout/2.4.6\r\n"
                    "Content-Type: audio/mpeg\r\nContent-Length: 0\r\n"
                    "Connection: Keep-Alive\r\nice-public: 0\r\n\r\n",
                    &req) > 0);
  assert_true(sc_http_is_libshout_probe(&req));
  assert_true(parse("SOURCE /m HTTP/1.0\r\nAuthorization: Basic c291cmNlOmhhY2ttZQ==\r\n"
                    "Content-Length: 0\r\n\r\n",
                    &req) > 0);
  assert_false(sc_http_is_libshout_probe(&req));
  assert_true(parse("GET /m HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &req) > 0);
  assert_false(sc_http_is_libshout_probe(&req));
}

/* ------------------------------------------------------------------------ */
/* station info and source decisions                                         */

static void test_station_info(void **state) {
  (void)state;
  static char buf[2048];
  char longname[400];
  /* 253 ASCII bytes then a 3-byte character: it cannot fit whole in 255. */
  memset(longname, 'n', 253);
  memcpy(longname + 253, "\xe2\x82\xac", 3);
  longname[256] = '\0';
  snprintf(buf, sizeof buf,
           "SOURCE /m HTTP/1.0\r\nicy-name: Old\r\nice-name: %s\r\nicy-genre: Jazz\r\n"
           "icy-url: http://x/\r\nice-url:\r\nicy-br: 128\r\nicy-pub: 1\r\n"
           "ice-audio-info: ice-samplerate=44100;ice-channels=2\r\n"
           "icy-metaint: 8192\r\nContent-Type: audio/mpeg\r\n\r\n",
           longname);
  sc_http_request req;
  assert_true(parse(buf, &req) > 0);
  sc_http_station_info si;
  sc_http_station_info_parse(&req, &si);
  assert_int_equal(strlen(si.name), 253);
  assert_int_equal(si.truncated, 1u);
  assert_string_equal(si.genre, "Jazz");
  assert_string_equal(si.url, "http://x/"); /* empty ice-url: icy-url is used */
  assert_string_equal(si.bitrate, "128");
  assert_string_equal(si.audio_info, "ice-samplerate=44100;ice-channels=2");
  assert_string_equal(si.content_type, "audio/mpeg");
  assert_string_equal(si.description, "");
  assert_int_equal(si.public_flag, 1);
  assert_int_equal(si.metaint_bytes, 8192);

  assert_true(parse("PUT /m HTTP/1.1\r\nice-public: 0\r\nicy-pub: 1\r\nice-name: N\r\n"
                    "icy-metaint: -5\r\n\r\n",
                    &req) > 0);
  sc_http_station_info_parse(&req, &si);
  assert_int_equal(si.public_flag, 0);
  assert_string_equal(si.name, "N");
  assert_int_equal(si.metaint_bytes, 0);
  assert_int_equal(si.truncated, 0u);
}

static sc_http_source_outcome decide(const char *s, bool busy, bool full,
                                     sc_http_source_decision *d) {
  sc_http_request req;
  assert_true(parse(s, &req) > 0);
  sc_http_source_policy p = {"source", "hackme", busy, full};
  sc_http_source_decide(&req, &p, d);
  return d->outcome;
}

#define AUTH_OK  "Authorization: Basic c291cmNlOmhhY2ttZQ==\r\n"
#define AUTH_BAD "Authorization: Basic c291cmNlOndyb25n\r\n"

static void test_source_decide_order(void **state) {
  (void)state;
  sc_http_source_decision d;
  /* Credentials come before the mount-in-use check... */
  assert_int_equal(decide("PUT /m HTTP/1.1\r\n" AUTH_BAD "\r\n", true, true, &d),
                   SC_HTTP_SOURCE_UNAUTHORIZED);
  /* ...which comes before Content-Type, which comes before the source limit. */
  assert_int_equal(decide("PUT /m HTTP/1.1\r\n" AUTH_OK "\r\n", true, true, &d),
                   SC_HTTP_SOURCE_MOUNT_IN_USE);
  assert_int_equal(decide("PUT /m HTTP/1.1\r\n" AUTH_OK "\r\n", false, true, &d),
                   SC_HTTP_SOURCE_NO_CONTENT_TYPE);
  assert_int_equal(
      decide("PUT /m HTTP/1.1\r\n" AUTH_OK "Content-Type:\r\n\r\n", false, false, &d),
      SC_HTTP_SOURCE_NO_CONTENT_TYPE);
  assert_int_equal(
      decide("PUT /m HTTP/1.1\r\n" AUTH_OK "Content-Type: a/b\r\n\r\n", false, true, &d),
      SC_HTTP_SOURCE_TOO_MANY);
  /* SOURCE without Content-Type is taken as MP3. */
  assert_int_equal(decide("SOURCE /m HTTP/1.0\r\n" AUTH_OK "\r\n", false, false, &d),
                   SC_HTTP_SOURCE_OK);
  assert_false(d.expect_continue);
  assert_string_equal(d.mount, "/m");
  assert_int_equal(decide("PUT /a%20b HTTP/1.1\r\n" AUTH_OK
                          "Content-Type: audio/ogg\r\nExpect: 100-Continue\r\n\r\n",
                          false, false, &d),
                   SC_HTTP_SOURCE_OK);
  assert_true(d.expect_continue);
  assert_string_equal(d.mount, "/a b");
  /* Only the configured user logs in. */
  assert_int_equal(decide("PUT /m HTTP/1.1\r\nAuthorization: Basic ZGo6aGFja21l\r\n"
                          "Content-Type: audio/ogg\r\n\r\n",
                          false, false, &d),
                   SC_HTTP_SOURCE_UNAUTHORIZED);
  assert_int_equal(
      decide("PUT /m HTTP/1.1\r\nContent-Type: audio/ogg\r\n\r\n", false, false, &d),
      SC_HTTP_SOURCE_UNAUTHORIZED);
  assert_int_equal(decide("PUT m HTTP/1.1\r\n" AUTH_OK "\r\n", false, false, &d),
                   SC_HTTP_SOURCE_DROP);
  assert_string_equal(d.mount, "");
  /* No source password configured: nobody logs in. */
  sc_http_request req;
  assert_true(parse("PUT /m HTTP/1.1\r\n" AUTH_OK "Content-Type: a/b\r\n\r\n", &req) > 0);
  sc_http_source_policy p = {"source", NULL, false, false};
  sc_http_source_decide(&req, &p, &d);
  assert_int_equal(d.outcome, SC_HTTP_SOURCE_UNAUTHORIZED);
}

static void test_writers_nobuf(void **state) {
  (void)state;
  sc_http_server_info srv = {"Icecast 2.4.4", "Mon, 07 Dec 2026 09:00:00 GMT"};
  char big[2048];
  int full = sc_http_write_error(&srv, 401, true, "You need to authenticate\r\n", big,
                                 sizeof big);
  assert_true(full > 0);
  assert_int_equal(strlen(big), (size_t)full);
  assert_non_null(strstr(big, "\r\nDate: Mon, 07 Dec 2026 09:00:00 GMT\r\n"));
  for (size_t cap = 0; cap <= (size_t)full; cap++) {
    char small[2048];
    assert_int_equal(
        sc_http_write_error(&srv, 401, true, "You need to authenticate\r\n", small, cap),
        SC_ERR_NOBUF);
  }
  assert_int_equal(sc_http_write_source_ok(big, 19), SC_ERR_NOBUF);
  assert_int_equal(sc_http_write_source_ok(big, 20), 19);
  assert_int_equal(sc_http_write_continue(big, sizeof big), 44);
  assert_int_equal(sc_http_write_source_refusal(&srv, SC_HTTP_SOURCE_OK, big, sizeof big),
                   SC_ERR_INVALID);
  sc_http_server_info nodate = {"X", NULL};
  assert_true(sc_http_write_error(&nodate, 999, true, "m", big, sizeof big) > 0);
  assert_string_equal(big,
                      "HTTP/1.0 999 (unknown status code)\r\nServer: X\r\n"
                      "Connection: Close\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Cache-Control: no-cache, no-store\r\n"
                      "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\nPragma: no-cache\r\n"
                      "\r\nm");
}

static void test_listener_head(void **state) {
  (void)state;
  sc_http_request src, player;
  assert_true(
      parse("PUT /m HTTP/1.1\r\nICE-Name: N\r\nice-name: Last\r\nIce-Password: x\r\n"
            "icy-metaint: 8192\r\nice-genre:\r\nIcy-MetaData: 1\r\n"
            "ice-audio-info: bitrate=64;channels=1\r\nice-bitrate: 65\r\n"
            "Authorization: Basic c291cmNlOmhhY2ttZQ==\r\n\r\n",
            &src) > 0);
  assert_true(parse("GET /m HTTP/1.1\r\nIcy-MetaData: 01\r\nX-Flash-Version: 9\r\n\r\n",
                    &player) > 0);
  sc_http_server_info srv = {"S", NULL};
  char out[1024];
  int metaint;
  int n = sc_http_write_listener_head(&srv, &src, "audio/aac", &player, 8192, &metaint,
                                      out, sizeof out);
  assert_true(n > 0);
  assert_int_equal(metaint, 8192);
  /* Name order, last of a repeated name, no password, no metaint, no empty
   * value, ffmpeg's Icy-MetaData relayed as Icecast does. */
  assert_string_equal(out,
                      "HTTP/1.0 200 OK\r\nServer: S\r\nConnection: Close\r\n"
                      "Content-Type: audio/aac\r\nCache-Control: no-cache, no-store\r\n"
                      "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\nPragma: no-cache\r\n"
                      "icy-br:64\r\nice-audio-info: bitrate=64;channels=1\r\n"
                      "icy-br:65\r\nicy-name:Last\r\nicy-metadata:1\r\n"
                      "Content-Length: 221183499\r\nicy-metaint:8192\r\n\r\n");
  /* Ogg: no metadata, no length. */
  n = sc_http_write_listener_head(&srv, &src, "audio/ogg", &player, 8192, &metaint, out,
                                  sizeof out);
  assert_true(n > 0);
  assert_int_equal(metaint, 0);
  assert_null(strstr(out, "icy-metaint"));
  assert_null(strstr(out, "Content-Length"));
  assert_false(sc_http_content_type_has_icy("application/ogg"));
  assert_true(sc_http_content_type_has_icy("audio/mpeg"));
  assert_true(parse("GET /m HTTP/1.1\r\nIcy-MetaData: 0\r\n\r\n", &player) > 0);
  assert_false(sc_http_wants_icy_metadata(&player));
  for (size_t cap = 0; cap < 200; cap++)
    assert_int_equal(sc_http_write_listener_head(&srv, &src, "audio/mpeg", &player, 8192,
                                                 &metaint, out, cap),
                     SC_ERR_NOBUF);
}

/* ------------------------------------------------------------------------ */
/* metadata updates                                                          */

static sc_http_mount_state test_mounts(void *user, const char *mount) {
  (void)user;
  if (strcmp(mount, "/m1") == 0) return SC_HTTP_MOUNT_LIVE;
  if (strcmp(mount, "/sc") == 0) return SC_HTTP_MOUNT_LIVE_SHOUTCAST;
  return SC_HTTP_MOUNT_NONE;
}

static const sc_http_meta_policy meta_policy = {"source",    "hackme", "admin", "adminpw",
                                                test_mounts, NULL,     "/sc"};

static sc_http_meta_outcome meta(const char *s, sc_http_meta_request *m) {
  sc_http_request req;
  assert_true(parse(s, &req) > 0);
  sc_http_meta_decide(&req, &meta_policy, m);
  return m->outcome;
}

static void test_meta_decide(void **state) {
  (void)state;
  sc_http_meta_request m;
  assert_int_equal(
      meta(
          "GET "
          "/admin/metadata?mount=/m1&mode=updinfo&artist=A%26B&title=T&charset=ISO-8859-1"
          " HTTP/1.0\r\n" AUTH_OK "\r\n",
          &m),
      SC_HTTP_META_OK);
  assert_true(m.has_song);
  assert_string_equal(m.song, "A&B - T");
  assert_string_equal(m.charset, "ISO-8859-1");
  assert_string_equal(m.mount, "/m1");
  assert_false(m.shoutcast);
  /* Neither song nor artist and title: success, nothing to change. */
  assert_int_equal(
      meta("GET /admin/metadata?mount=/m1&mode=updinfo&artist=A HTTP/1.0\r\n" AUTH_OK
           "\r\n",
           &m),
      SC_HTTP_META_OK);
  assert_false(m.has_song);
  assert_int_equal(meta("GET /admin/metadata?mount=/m1 HTTP/1.0\r\n" AUTH_OK "\r\n", &m),
                   SC_HTTP_META_MISSING_PARAM);
  assert_int_equal(
      meta("GET /admin/metadata?mode=updinfo HTTP/1.0\r\n" AUTH_OK "\r\n", &m),
      SC_HTTP_META_UNAUTHORIZED);
  assert_int_equal(meta("GET /admin/metadata?mode=updinfo HTTP/1.0\r\n"
                        "Authorization: Basic YWRtaW46YWRtaW5wdw==\r\n\r\n",
                        &m),
                   SC_HTTP_META_NO_MOUNT);
  assert_int_equal(
      meta("GET /admin/metadata?mount=/m1&mode=updinfo&song=x HTTP/1.0\r\n\r\n", &m),
      SC_HTTP_META_UNAUTHORIZED);
  /* admin.cgi applies to the SHOUTcast mount only, whatever mount= says. */
  assert_int_equal(
      meta("GET /admin.cgi?pass=adminpw&mode=updinfo&song=S&mount=/m1 HTTP/1.0\r\n\r\n",
           &m),
      SC_HTTP_META_OK);
  assert_true(m.shoutcast);
  assert_string_equal(m.mount, "/sc");
  assert_string_equal(m.song, "S");
  assert_int_equal(meta("GET /admin.cgi?pass=hackme&mode=updinfo HTTP/1.0\r\n\r\n", &m),
                   SC_HTTP_META_MISSING_PARAM);
  /* A song too long for one ICY block. */
  static char buf[SC_HTTP_HEAD_MAX_BYTES];
  int o = snprintf(buf, sizeof buf, "GET /admin/metadata?mount=/m1&mode=updinfo&song=");
  memset(buf + o, 'x', SC_HTTP_ICY_META_MAX_BYTES);
  strcpy(buf + o + SC_HTTP_ICY_META_MAX_BYTES, " HTTP/1.0\r\n" AUTH_OK "\r\n");
  assert_int_equal(meta(buf, &m), SC_HTTP_META_TOO_LONG);
  assert_false(m.has_song);
  sc_http_meta_policy nosc = meta_policy;
  nosc.shoutcast_mount = "/m1";
  sc_http_request req;
  assert_true(
      parse("GET /admin.cgi?pass=hackme&mode=updinfo&song=x HTTP/1.0\r\n\r\n", &req) > 0);
  sc_http_meta_decide(&req, &nosc, &m);
  assert_int_equal(m.outcome, SC_HTTP_META_NOT_SHOUTCAST);
  char out[1024];
  sc_http_server_info srv = {"Icecast 2.4.4", NULL};
  assert_true(sc_http_write_meta_response(&srv, &m, out, sizeof out) > 0);
  assert_non_null(strstr(out, "<b>400 - illegal metadata call</b>"));
}

/* ------------------------------------------------------------------------ */
/* SHOUTcast v1                                                              */

static void test_shoutcast_lines(void **state) {
  (void)state;
  sc_http_slice line;
  assert_int_equal(sc_http_shoutcast_line("pw\nx", 4, &line), 3);
  assert_slice(line, "pw");
  assert_int_equal(sc_http_shoutcast_line("pw\r\nx", 5, &line), 4);
  assert_slice(line, "pw");
  assert_int_equal(sc_http_shoutcast_line("pw\r\r\nx", 6, &line), 5);
  assert_slice(line, "pw");
  assert_int_equal(sc_http_shoutcast_line("pw", 2, &line), SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_shoutcast_line("\n", 1, &line), 1);
  assert_int_equal(line.len, 0);
  static char longl[SC_HTTP_SHOUTCAST_LINE_MAX_BYTES + 8];
  memset(longl, 'a', sizeof longl);
  assert_int_equal(sc_http_shoutcast_line(longl, SC_HTTP_SHOUTCAST_LINE_MAX_BYTES, &line),
                   SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_shoutcast_line(longl, sizeof longl, &line),
                   SC_HTTP_ERR_LINE_TOO_LONG);
  longl[SC_HTTP_SHOUTCAST_LINE_MAX_BYTES] = '\n';
  assert_int_equal(sc_http_shoutcast_line(longl, sizeof longl, &line),
                   SC_HTTP_SHOUTCAST_LINE_MAX_BYTES + 1);
  longl[SC_HTTP_SHOUTCAST_LINE_MAX_BYTES] = 'a';
  longl[SC_HTTP_SHOUTCAST_LINE_MAX_BYTES + 1] = '\n';
  assert_int_equal(sc_http_shoutcast_line(longl, sizeof longl, &line),
                   SC_HTTP_ERR_LINE_TOO_LONG);

  sc_http_header h;
  assert_int_equal(sc_http_shoutcast_header(sl("icy-name:  My Radio "), &h), SC_OK);
  assert_slice(h.name, "icy-name");
  assert_slice(h.value, "My Radio");
  assert_int_equal(sc_http_shoutcast_header(sl("nocolon"), &h), SC_ERR_INVALID);
  assert_int_equal(sc_http_shoutcast_header(sl(":v"), &h), SC_ERR_INVALID);
}

static void test_shoutcast_head(void **state) {
  (void)state;
  /* libshout's SHOUTcast login (proto_icy.c), LF line ends, then MP3. */
  static const char s[] =
      "hackme\nicy-name:Radio\nicy-url:http://www.icecast.org/\n"
      "icy-irc:\nicy-pub:1\nicy-genre:icecast\nicy-br:128\n\n\xff\xfb";
  size_t total = strlen(s) - 2;
  sc_http_slice pw;
  sc_http_request req;
  for (size_t len = 0; len < total; len++)
    assert_int_equal(sc_http_shoutcast_parse(s, len, 0, &pw, &req), SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_shoutcast_parse(s, strlen(s), 0, &pw, &req), (int)total);
  assert_slice(pw, "hackme");
  assert_int_equal(req.header_count, 6);
  sc_http_station_info si;
  sc_http_station_info_parse(&req, &si);
  assert_string_equal(si.name, "Radio");
  assert_string_equal(si.genre, "icecast");
  assert_string_equal(si.bitrate, "128");
  assert_int_equal(si.public_flag, 1);
  /* Two steps, as a server answers OK2 between them. */
  sc_http_slice line;
  int first = sc_http_shoutcast_line(s, strlen(s), &line);
  assert_int_equal(first, 7);
  const char *rest = s + first;
  for (size_t len = 0; len < total - (size_t)first; len++)
    assert_int_equal(sc_http_shoutcast_headers(rest, len, 0, &req), SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_shoutcast_headers(rest, strlen(rest), 0, &req),
                   (int)(total - (size_t)first));
  assert_int_equal(req.header_count, 6);
  assert_int_equal(sc_http_shoutcast_headers("\r\nxyz", 5, 0, &req), 2); /* no headers */
  assert_int_equal(req.header_count, 0);
  /* A password line that fills the bound leaves no room for the head's end. */
  assert_int_equal(sc_http_shoutcast_parse("pw\n\n", 4, 3, &pw, &req),
                   SC_HTTP_ERR_HEAD_TOO_LARGE);
  assert_int_equal(sc_http_shoutcast_parse("pw\n\n", 4, 4, &pw, &req), 4);
  /* Bounds. */
  static char big[SC_HTTP_HEAD_MAX_BYTES + 64];
  size_t o = (size_t)snprintf(big, sizeof big, "pw\r\n");
  while (o + 8 < sizeof big)
    o += (size_t)snprintf(big + o, sizeof big - o, "a:b\r\n");
  assert_int_equal(sc_http_shoutcast_parse(big, o, 0, &pw, &req),
                   SC_HTTP_ERR_TOO_MANY_HEADERS);
  o = (size_t)snprintf(big, sizeof big, "pw\r\n");
  while (o + 8 < sizeof big)
    o += (size_t)snprintf(big + o, sizeof big - o, "ab\r\n"); /* skipped lines */
  assert_int_equal(sc_http_shoutcast_parse(big, o, 0, &pw, &req),
                   SC_HTTP_ERR_HEAD_TOO_LARGE);
}

/* ------------------------------------------------------------------------ */
/* ICY metadata                                                              */

static void test_icy_build(void **state) {
  (void)state;
  uint8_t b[SC_HTTP_ICY_META_MAX_BYTES + 1];
  /* Icecast's initial block: "\001StreamTitle='';" and a NUL. */
  assert_int_equal(sc_http_icy_meta_build("", 0, NULL, 0, b, sizeof b), 17);
  assert_memory_equal(b, "\001StreamTitle='';\0", 17);
  /* A title whose text fills 16 bytes exactly still gets a NUL: two units. */
  assert_int_equal(sc_http_icy_meta_build("A", 1, NULL, 0, b, sizeof b), 33);
  assert_int_equal(b[0], 2);
  assert_memory_equal(b + 1, "StreamTitle='A';", 16);
  for (int i = 17; i < 33; i++)
    assert_int_equal(b[i], 0);
  assert_int_equal(sc_http_icy_meta_build("It's", 4, "http://x/", 9, b, sizeof b), 49);
  assert_memory_equal(b + 1, "StreamTitle='It's';StreamUrl='http://x/';", 41);
  /* The largest title that fits, and one more byte. */
  static char t[SC_HTTP_ICY_META_MAX_BYTES];
  memset(t, 't', sizeof t);
  size_t max_title = SC_HTTP_ICY_META_MAX_BYTES - 16;
  assert_int_equal(sc_http_icy_meta_build(t, max_title, NULL, 0, b, sizeof b),
                   SC_HTTP_ICY_META_MAX_BYTES + 1);
  assert_int_equal(b[0], 255);
  assert_int_equal(sc_http_icy_meta_build(t, max_title + 1, NULL, 0, b, sizeof b),
                   SC_ERR_TOO_LARGE);
  assert_int_equal(sc_http_icy_meta_build("", 0, NULL, 0, b, 16), SC_ERR_NOBUF);
}

static void test_icy_parse(void **state) {
  (void)state;
  uint8_t b[128];
  int n = sc_http_icy_meta_build("Artist - Title", 14, "http://x/", 9, b, sizeof b);
  assert_true(n > 0);
  sc_http_icy_meta m;
  for (int len = 0; len < n; len++)
    assert_int_equal(sc_http_icy_meta_parse(b, (size_t)len, &m), SC_HTTP_INCOMPLETE);
  assert_int_equal(sc_http_icy_meta_parse(b, (size_t)n + 5, &m), n);
  assert_true(m.has_title);
  assert_slice(m.title, "Artist - Title");
  assert_slice(m.url, "http://x/");
  /* The empty block. */
  uint8_t zero = 0;
  assert_int_equal(sc_http_icy_meta_parse(&zero, 1, &m), 1);
  assert_false(m.has_title);
  /* A quote inside a value: the value ends at the first "';". */
  uint8_t q[33] = "\002StreamTitle='It's ok';";
  assert_int_equal(sc_http_icy_meta_parse(q, sizeof q, &m), 33);
  assert_slice(m.title, "It's ok");
  /* Unknown keys are skipped; malformed text is refused. */
  uint8_t u[17] = "\001Foo='';";
  assert_int_equal(sc_http_icy_meta_parse(u, sizeof u, &m), 17);
  assert_false(m.has_title);
  static const char *const bad[] = {"StreamTitle='x", "StreamTitle=x';", "='x';",
                                    "StreamTitle", "StreamTitle='x';junk"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t blk[33] = {2};
    memcpy(blk + 1, bad[i], strlen(bad[i]));
    assert_int_equal(sc_http_icy_meta_parse(blk, sizeof blk, &m), SC_ERR_INVALID);
  }
  uint8_t trail[17] = "\001StreamTitle='';";
  trail[16] = 'x'; /* a byte after the padding starts */
  trail[15] = 0;
  assert_int_equal(sc_http_icy_meta_parse(trail, sizeof trail, &m), SC_ERR_INVALID);
}

/* ------------------------------------------------------------------------ */
/* the recorded Icecast answers                                              */

#define ORACLE_MAX_BYTES 16384

typedef struct {
  char name[64];
  bool shoutcast_port;
  uint8_t req[ORACLE_MAX_BYTES];
  size_t reqlen;
  uint8_t answer[ORACLE_MAX_BYTES];
  size_t answerlen;
  bool closed;
} oracle_case;

static size_t unescape(const char *s, uint8_t *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; s[i] != '\0' && s[i] != '\n'; i++) {
    assert_true(o < cap);
    if (s[i] != '\\') {
      out[o++] = (uint8_t)s[i];
      continue;
    }
    i++;
    switch (s[i]) {
    case 'r':
      out[o++] = '\r';
      break;
    case 'n':
      out[o++] = '\n';
      break;
    case '\\':
      out[o++] = '\\';
      break;
    case 'x': {
      unsigned v;
      assert_int_equal(sscanf(s + i + 1, "%2x", &v), 1);
      out[o++] = (uint8_t)v;
      i += 2;
      break;
    }
    default:
      fail_msg("bad escape in answers.txt");
    }
  }
  return o;
}

/* The state of the modelled server across the recorded requests, which ran
 * in file order on one icecast2. */
typedef struct {
  char live[32][SC_HTTP_MOUNT_MAX_BYTES + 1];
  bool live_sc[32];
  char head[32][4096]; /* the source's head, for its players */
  size_t headlen[32];
  size_t nlive;
} model;

static sc_http_mount_state model_state(void *user, const char *mount) {
  model *m = user;
  for (size_t i = 0; i < m->nlive; i++)
    if (strcmp(m->live[i], mount) == 0)
      return m->live_sc[i] ? SC_HTTP_MOUNT_LIVE_SHOUTCAST : SC_HTTP_MOUNT_LIVE;
  return SC_HTTP_MOUNT_NONE;
}

static void model_go_live(model *m, const char *mount, bool sc, const oracle_case *c) {
  assert_true(m->nlive < 32 && c->reqlen <= sizeof m->head[0]);
  strcpy(m->live[m->nlive], mount);
  memcpy(m->head[m->nlive], c->req, c->reqlen);
  m->headlen[m->nlive] = c->reqlen;
  m->live_sc[m->nlive++] = sc;
}

/* A player's answer: the live source's head relayed, or 404. */
static int model_listener(model *m, const sc_http_request *req,
                          const sc_http_server_info *srv, char *out, size_t cap,
                          bool *closed) {
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
  assert_true(sc_http_mount_decode(req->path, mount, sizeof mount) > 0);
  for (size_t i = 0; i < m->nlive; i++) {
    if (strcmp(m->live[i], mount) != 0) continue;
    static sc_http_request src;
    sc_http_slice pw;
    int n = m->live_sc[i]
                ? sc_http_shoutcast_parse(m->head[i], m->headlen[i], 0, &pw, &src)
                : sc_http_parse_request(m->head[i], m->headlen[i], 0, &src);
    assert_true(n > 0);
    sc_http_station_info si;
    sc_http_station_info_parse(&src, &si);
    int metaint;
    *closed = false;
    return sc_http_write_listener_head(
        srv, &src, si.content_type[0] ? si.content_type : "audio/mpeg", req,
        si.metaint_bytes > 0 ? si.metaint_bytes : SC_HTTP_ICY_METAINT_DEFAULT_BYTES,
        &metaint, out, cap);
  }
  return sc_http_write_error(srv, 404, false, "The file you requested could not be found",
                             out, cap);
}

/* What an Icecast-compatible server built on sc_http answers to one request:
 * the bytes, and whether it closes. */
static size_t model_answer(model *m, const oracle_case *c, char *out, size_t cap,
                           bool *closed) {
  const sc_http_server_info srv = {"Icecast 2.4.4", "<date>"};
  const char *buf = (const char *)c->req;
  sc_http_request req;
  *closed = true;
  if (c->shoutcast_port) {
    sc_http_slice pw;
    int n = sc_http_shoutcast_parse(buf, c->reqlen, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &pw,
                                    &req);
    assert_true(n > 0);
    if (!sc_http_secret_eq(pw.ptr, pw.len, "hackme", 6)) return 0;
    model_go_live(m, "/sc", true, c);
    *closed = false;
    size_t k = strlen(SC_HTTP_SHOUTCAST_OK);
    memcpy(out, SC_HTTP_SHOUTCAST_OK, k);
    return k;
  }
  int n = sc_http_parse_request(buf, c->reqlen, SC_HTTP_ICECAST_HEAD_MAX_BYTES, &req);
  if (n < 0) return 0;
  int w = 0;
  switch (sc_http_classify(&req)) {
  case SC_HTTP_KIND_DROP:
    return 0;
  case SC_HTTP_KIND_SOURCE_PUT:
  case SC_HTTP_KIND_SOURCE_LEGACY: {
    sc_http_source_decision d;
    char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
    assert_true(sc_http_mount_decode(req.path, mount, sizeof mount) > 0);
    sc_http_source_policy p = {"source", "hackme", model_state(m, mount) != 0, false};
    sc_http_source_decide(&req, &p, &d);
    if (d.outcome == SC_HTTP_SOURCE_DROP) return 0;
    if (d.outcome != SC_HTTP_SOURCE_OK) {
      w = sc_http_write_source_refusal(&srv, d.outcome, out, cap);
      break;
    }
    size_t o = 0;
    if (d.expect_continue) {
      w = sc_http_write_continue(out, cap);
      assert_true(w > 0);
      o = (size_t)w;
    }
    w = sc_http_write_source_ok(out + o, cap - o);
    assert_true(w > 0);
    w += (int)o;
    model_go_live(m, d.mount, false, c);
    *closed = false;
    break;
  }
  case SC_HTTP_KIND_ADMIN:
  case SC_HTTP_KIND_SHOUTCAST_ADMIN: {
    sc_http_meta_policy p = {"source",    "hackme", "admin", "adminpw",
                             model_state, m,        "/sc"};
    sc_http_meta_request mr;
    sc_http_meta_decide(&req, &p, &mr);
    w = sc_http_write_meta_response(&srv, &mr, out, cap);
    break;
  }
  case SC_HTTP_KIND_LISTENER:
    w = model_listener(m, &req, &srv, out, cap, closed);
    break;
  case SC_HTTP_KIND_STATS:
  case SC_HTTP_KIND_UNKNOWN:
    w = sc_http_write_error(&srv, 400, false, "unknown request", out, cap);
    break;
  }
  assert_true(w > 0);
  return (size_t)w;
}

/* Replay a recording through the model and compare every answer byte for
 * byte. answers.txt: "case", "port", "request", "answer", "closed" (checked
 * at "closed"); clients.txt: "client", then per connection "connection",
 * "sent", "stream", "answer" (checked at "answer"; closing not recorded).
 * Returns the number of exchanges checked. */
static int replay(const char *path, bool with_closed) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char line[4 * ORACLE_MAX_BYTES];
  static oracle_case c;
  static char out[ORACLE_MAX_BYTES];
  static model m;
  memset(&m, 0, sizeof m);
  int checked = 0;
  bool have_req = false;
  while (fgets(line, sizeof line, f) != NULL) {
    bool check = false;
    if (strncmp(line, "case ", 5) == 0 || strncmp(line, "client ", 7) == 0) {
      memset(&c, 0, sizeof c);
      const char *n = strchr(line, ' ') + 1;
      snprintf(c.name, sizeof c.name, "%.*s", (int)strcspn(n, "\n"), n);
    } else if (strncmp(line, "port ", 5) == 0 || strncmp(line, "connection ", 11) == 0) {
      c.shoutcast_port = strstr(line, " shoutcast") != NULL;
    } else if (strncmp(line, "request ", 8) == 0 || strncmp(line, "sent ", 5) == 0) {
      c.reqlen = unescape(strchr(line, ' ') + 1, c.req, sizeof c.req);
      have_req = true;
    } else if (strncmp(line, "answer ", 7) == 0) {
      c.answerlen = unescape(line + 7, c.answer, sizeof c.answer);
      check = !with_closed;
    } else if (strncmp(line, "closed ", 7) == 0) {
      c.closed = strncmp(line + 7, "yes", 3) == 0;
      check = with_closed;
    }
    if (!check) continue;
    assert_true(have_req);
    have_req = false;
    bool closed;
    size_t n = model_answer(&m, &c, out, sizeof out, &closed);
    if (n != c.answerlen || memcmp(out, c.answer, n) != 0 ||
        (with_closed && closed != c.closed))
      fail_msg("%s: %s: icecast2 answered\n%.*s\n(closed %d)\nsc_http answered\n%.*s\n"
               "(closed %d)",
               path, c.name, (int)c.answerlen, (const char *)c.answer, c.closed, (int)n,
               out, closed);
    checked++;
  }
  fclose(f);
  return checked;
}

static void test_icecast_oracle(void **state) {
  (void)state;
  /* Every recorded case is replayed (the recording has 45). */
  assert_int_equal(replay(SC_SOURCE_DIR "/tests/data/icecast/answers.txt", true), 45);
}

/* Real clients' bytes (ffmpeg PUT and SOURCE, libshout's TLS probe, poke,
 * challenge and login, libshout's SHOUTcast poke and login) get the answers
 * icecast2 gave them. */
static void test_icecast_clients(void **state) {
  (void)state;
  assert_true(replay(SC_SOURCE_DIR "/tests/data/icecast/clients.txt", false) >= 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_put),
      cmocka_unit_test(test_parse_lf_only),
      cmocka_unit_test(test_parse_byte_by_byte),
      cmocka_unit_test(test_parse_limits),
      cmocka_unit_test(test_parse_bad_request_line),
      cmocka_unit_test(test_parse_bad_header),
      cmocka_unit_test(test_header_find_last_wins),
      cmocka_unit_test(test_base64_vectors),
      cmocka_unit_test(test_base64_strict),
      cmocka_unit_test(test_basic_auth),
      cmocka_unit_test(test_secret_eq),
      cmocka_unit_test(test_query),
      cmocka_unit_test(test_mount_decode),
      cmocka_unit_test(test_classify),
      cmocka_unit_test(test_libshout_probe),
      cmocka_unit_test(test_station_info),
      cmocka_unit_test(test_source_decide_order),
      cmocka_unit_test(test_writers_nobuf),
      cmocka_unit_test(test_listener_head),
      cmocka_unit_test(test_meta_decide),
      cmocka_unit_test(test_shoutcast_lines),
      cmocka_unit_test(test_shoutcast_head),
      cmocka_unit_test(test_icy_build),
      cmocka_unit_test(test_icy_parse),
      cmocka_unit_test(test_icecast_oracle),
      cmocka_unit_test(test_icecast_clients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
