/*
 * test_playlist.c — http/playlist.h: the playlists a serving peer answers,
 * byte for byte (the m3u as Icecast 2.4.4's fserve.c writes it, checked
 * against a running icecast2 with Debian's <http-headers>), their bounds,
 * and XML escaping in the xspf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/playlist.h"

static const sc_http_server_info srv = {"Icecast 2.4.4", "Mon, 07 Dec 2026 12:41:41 GMT"};

static void test_m3u_as_icecast(void **state) {
  (void)state;
  sc_http_playlist_entry e = {"127.0.0.1:18100", "/live.mp3", "", "", "audio/mpeg"};
  char out[SC_HTTP_PLAYLIST_MAX_BYTES];
  int n = sc_http_write_m3u(&srv, &e, out, sizeof out);
  /* icecast2 2.4.4's answer, without its configured Access-Control line
   * (the serving peer inserts that after Pragma, as Icecast does). */
  const char *want = "HTTP/1.0 200 OK\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\n"
                     "Date: Mon, 07 Dec 2026 12:41:41 GMT\r\n"
                     "Content-Type: audio/x-mpegurl\r\n"
                     "Cache-Control: no-cache, no-store\r\n"
                     "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
                     "Pragma: no-cache\r\n\r\n"
                     "http://127.0.0.1:18100/live.mp3\r\n";
  assert_int_equal(n, (int)strlen(want));
  assert_string_equal(out, want);
  char tiny[64];
  assert_int_equal(sc_http_write_m3u(&srv, &e, tiny, sizeof tiny), SC_ERR_NOBUF);
}

static void test_pls(void **state) {
  (void)state;
  sc_http_playlist_entry e = {"h:1", "/a", "Radio A", "", "audio/ogg"};
  char out[SC_HTTP_PLAYLIST_MAX_BYTES];
  int n = sc_http_write_pls(&srv, &e, out, sizeof out);
  assert_true(n > 0);
  const char *body = strstr(out, "\r\n\r\n") + 4;
  assert_string_equal(body, "[playlist]\r\nNumberOfEntries=1\r\nFile1=http://h:1/a\r\n"
                            "Title1=Radio A\r\nLength1=-1\r\nVersion=2\r\n");
  assert_non_null(strstr(out, "Content-Type: audio/x-scpls\r\n"));
  /* Without a name, the mount is the title. */
  e.name = "";
  assert_true(sc_http_write_pls(&srv, &e, out, sizeof out) > 0);
  assert_non_null(strstr(out, "Title1=/a\r\n"));
}

static void test_xspf_escapes(void **state) {
  (void)state;
  sc_http_playlist_entry e = {"h:1", "/a&b", "<Radio \"A\">", "Song & 'Co'\x01",
                              "audio/ogg"};
  char out[SC_HTTP_PLAYLIST_MAX_BYTES];
  int n = sc_http_write_xspf(&srv, &e, out, sizeof out);
  assert_true(n > 0);
  assert_int_equal((size_t)n, strlen(out));
  assert_non_null(strstr(out, "Content-Type: application/xspf+xml; charset=utf-8\r\n"));
  assert_non_null(strstr(out, "<location>http://h:1/a&amp;b</location>"));
  assert_non_null(strstr(out, "<title>Song &amp; &apos;Co&apos;</title>"));
  assert_non_null(strstr(out, "Stream Title: &lt;Radio &quot;A&quot;&gt;\n"));
  assert_non_null(strstr(out, "Content Type:audio/ogg\n"));
  assert_null(strchr(out, '\x01'));
}

static void test_head(void **state) {
  (void)state;
  char out[512];
  int n = sc_http_write_head(&srv, 404, "text/plain", 5, "X-A: b\r\n", out, sizeof out);
  assert_true(n > 0);
  assert_string_equal(out, "HTTP/1.0 404 File Not Found\r\nServer: Icecast 2.4.4\r\n"
                           "Connection: Close\r\nDate: Mon, 07 Dec 2026 12:41:41 GMT\r\n"
                           "Content-Type: text/plain\r\nContent-Length: 5\r\n"
                           "Cache-Control: no-cache, no-store\r\n"
                           "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
                           "Pragma: no-cache\r\nX-A: b\r\n\r\n");
  assert_int_equal(sc_http_write_head(&srv, 200, "a/b", -1, "", out, 40), SC_ERR_NOBUF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_m3u_as_icecast),
      cmocka_unit_test(test_pls),
      cmocka_unit_test(test_xspf_escapes),
      cmocka_unit_test(test_head),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
