/*
 * test_web.c — the page's routes (runtime/web.h): the embedded files are
 * exactly web/'s, each with its Content-Type and an ETag that a client's
 * If-None-Match turns into a 304; /peer.json is never cached; other paths
 * are not the page's.
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
#include "runtime/host.h"
#include "runtime/web.h"

static const char *const FILES[] = {"index.html", "app.js", "style.css"};

static void test_embedded_match_tree(void **state) {
  (void)state;
  assert_int_equal(rt_web_assets_count, sizeof FILES / sizeof FILES[0]);
  for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
    char path[512], url[64];
    snprintf(path, sizeof path, "%s/web/%s", SC_SOURCE_DIR, FILES[i]);
    snprintf(url, sizeof url, "/%s", FILES[i]);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char disk[1 << 20];
    size_t n = fread(disk, 1, sizeof disk, f);
    fclose(f);
    const rt_web_asset *a = rt_web_asset_find(url, strlen(url));
    assert_non_null(a);
    assert_int_equal(a->len, n);
    assert_memory_equal(a->data, disk, n);
    assert_int_equal(a->etag[0], '"');
    assert_int_equal(a->etag[strlen(a->etag) - 1], '"');
  }
}

static void test_find(void **state) {
  (void)state;
  assert_ptr_equal(rt_web_asset_find("/", 1), rt_web_asset_find("/index.html", 11));
  assert_non_null(rt_web_asset_find("/", 1));
  /* len bounds the path: "/app.jsX" read as its first 7 bytes. */
  assert_non_null(rt_web_asset_find("/app.jsX", 7));
  assert_null(rt_web_asset_find("/app.jsX", 8));
  assert_null(rt_web_asset_find("/index.htm", 10));
  assert_null(rt_web_asset_find("", 0));
  assert_null(rt_web_asset_find("/web/index.html", 15));
  assert_string_equal(rt_web_content_type("/index.html"), "text/html; charset=utf-8");
  assert_string_equal(rt_web_content_type("/app.js"), "text/javascript; charset=utf-8");
  assert_string_equal(rt_web_content_type("/style.css"), "text/css; charset=utf-8");
  assert_string_equal(rt_web_content_type("/x"), "application/octet-stream");
}

static void test_route_assets(void **state) {
  (void)state;
  static rt_host h;
  rt_web w = {.h = &h};
  static char buf[SC_PEERJSON_MAX_BYTES];
  rt_web_reply r;
  assert_int_equal(rt_web_route(&w, 0, "/", 1, NULL, 0, buf, sizeof buf, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "text/html; charset=utf-8");
  assert_string_equal(r.cache_control, "no-cache");
  assert_non_null(r.etag);
  assert_true(r.body_len > 0 && r.body_len < sizeof buf);
  memcpy(buf, r.body, r.body_len);
  buf[r.body_len] = '\0';
  assert_non_null(strstr(buf, "<script src=\"/app.js\">"));
  /* The station directory's table, which the script fills from /stations.json. */
  assert_non_null(strstr(buf, "<tbody id=\"directory\">"));
  assert_non_null(strstr(buf, "href=\"/stations.json\""));
  char etag[64];
  snprintf(etag, sizeof etag, "%s", r.etag);
  /* The client's current copy, weak or in a list, or any: 304 without a body. */
  char forms[4][128];
  snprintf(forms[0], sizeof forms[0], "%s", etag);
  snprintf(forms[1], sizeof forms[1], "W/%s", etag);
  snprintf(forms[2], sizeof forms[2], "\"other\", %s", etag);
  snprintf(forms[3], sizeof forms[3], " * ");
  for (size_t i = 0; i < 4; i++) {
    const char *inm = forms[i];
    assert_int_equal(rt_web_route(&w, 0, "/", 1, inm, strlen(inm), buf, sizeof buf, &r),
                     0);
    assert_int_equal(r.status, 304);
    assert_null(r.body);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.etag, etag);
  }
  /* Another copy (an older page): the whole file. */
  assert_int_equal(rt_web_route(&w, 0, "/", 1, "\"0123\"", 6, buf, sizeof buf, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(rt_web_route(&w, 0, "/", 1, "\"a*b\"", 5, buf, sizeof buf, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(rt_web_route(&w, 0, "/style.css", 10, NULL, 0, buf, sizeof buf, &r),
                   0);
  assert_string_equal(r.content_type, "text/css; charset=utf-8");
  assert_int_equal(rt_web_route(&w, 0, "/status", 7, NULL, 0, buf, sizeof buf, &r),
                   SC_ERR_NOT_FOUND);
  assert_int_equal(rt_web_route(&w, 0, "/peer.jsonx", 11, NULL, 0, buf, sizeof buf, &r),
                   SC_ERR_NOT_FOUND);
}

/* A process whose peer is not open yet still answers a whole document. */
static void test_route_peer_json(void **state) {
  (void)state;
  static rt_host h;
  rt_web w = {.h = &h};
  static char buf[SC_PEERJSON_MAX_BYTES];
  rt_web_reply r;
  assert_int_equal(rt_web_route(&w, 0, "/peer.json", 10, "*", 1, buf, sizeof buf, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "application/json");
  assert_string_equal(r.cache_control, "no-store");
  assert_null(r.etag);
  assert_int_equal(r.body_len, strlen(buf));
  assert_non_null(strstr(buf, "\"stations\":[],"));
  assert_non_null(strstr(buf, "\"stripes\":[],"));
  assert_int_equal(buf[r.body_len - 1], '}');
  /* Too small a buffer is the renderer's error, not a cut document. */
  assert_int_equal(rt_web_route(&w, 0, "/peer.json", 10, NULL, 0, buf, 16, &r),
                   SC_ERR_NOBUF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_embedded_match_tree),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_route_assets),
      cmocka_unit_test(test_route_peer_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
