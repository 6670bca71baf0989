/*
 * test_status.c — http/status.c: status-json.xsl in Icecast 2.4.4's shape
 * (tests/data/icecast/status_answers.txt), /7.html, admin decisions and XML
 * answers, and the Prometheus writer's order rules.
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
#include "http/status.h"

/* 2026-12-07 12:15:45 UTC, a Monday. */
#define T0 1796645745

static const sc_status_station station_a = {
    .mount = "/a.opus",
    .name = "One",
    .description = "First station",
    .genre = "rock",
    .url = "http://example.org",
    .content_type = "audio/ogg",
    .subtype = "Opus",
    .listenurl = "http://127.0.0.1:18100/a.opus",
    .listeners = 1,
    .listener_peak = 1,
    .stream_start_s = T0 + 1,
};

static const sc_status_station station_b = {
    .mount = "/b.mp3",
    .name = "Unspecified name",
    .description = "Unspecified description",
    .genre = "various",
    .content_type = "audio/mpeg",
    .listenurl = "http://127.0.0.1:18100/b.mp3",
    .title = "Hello World",
    .stream_start_s = T0 + 5,
};

static sc_status_snapshot snapshot(const sc_status_station *st, size_t n) {
  sc_status_snapshot s = {
      .server = {.admin = "oracle@localhost",
                 .host = "127.0.0.1",
                 .location = "oracle",
                 .server_id = "Icecast 2.4.4",
                 .server_start_s = T0},
      .stations = st,
      .nstations = n,
  };
  return s;
}

static void test_dates(void **state) {
  (void)state;
  char b[SC_STATUS_DATE_MAX_BYTES];
  assert_int_equal(sc_status_date_rfc822(T0, b, sizeof b), 31);
  assert_string_equal(b, "Mon, 07 Dec 2026 12:15:45 +0000");
  assert_int_equal(sc_status_date_iso8601(T0, b, sizeof b), 24);
  assert_string_equal(b, "2026-12-07T12:15:45+0000");
  sc_status_date_rfc822(0, b, sizeof b);
  assert_string_equal(b, "Thu, 01 Jan 1970 00:00:00 +0000");
  sc_status_date_iso8601(951782400, b, sizeof b); /* a leap day */
  assert_string_equal(b, "2000-02-29T00:00:00+0000");
  sc_status_date_rfc822(-1, b, sizeof b);
  assert_string_equal(b, "Wed, 31 Dec 1969 23:59:59 +0000");
  assert_int_equal(sc_status_date_rfc822(T0, b, 10), SC_ERR_NOBUF);
  assert_int_equal(sc_status_date_http(T0, b, sizeof b), 29);
  assert_string_equal(b, "Mon, 07 Dec 2026 12:15:45 GMT");
}

/* The answers of icecast2 2.4.4 (status_answers.txt) with one and two
 * sources, byte for byte; with none, the valid form of its (invalid) text. */
static void test_json_shapes(void **state) {
  (void)state;
  char out[4096];
  sc_status_snapshot s = snapshot(NULL, 0);
  int n = sc_status_write_json(&s, out, sizeof out);
  assert_true(n > 0);
  assert_string_equal(
      out, "{\"icestats\":{\"admin\":\"oracle@localhost\",\"host\":\"127.0.0.1\","
           "\"location\":\"oracle\",\"server_id\":\"Icecast 2.4.4\",\"server_start\":"
           "\"Mon, 07 Dec 2026 12:15:45 +0000\",\"server_start_iso8601\":"
           "\"2026-12-07T12:15:45+0000\",\"dummy\":null}}");

  const char *one =
      "{\"icestats\":{\"admin\":\"oracle@localhost\",\"host\":\"127.0.0.1\","
      "\"location\":\"oracle\",\"server_id\":\"Icecast 2.4.4\",\"server_start\":\"Mon, "
      "07 "
      "Dec 2026 12:15:45 +0000\",\"server_start_iso8601\":\"2026-12-07T12:15:45+0000\","
      "\"source\":{\"genre\":\"rock\",\"listener_peak\":1,\"listeners\":1,"
      "\"listenurl\":\"http://127.0.0.1:18100/a.opus\",\"server_description\":\"First "
      "station\",\"server_name\":\"One\",\"server_type\":\"audio/ogg\",\"server_url\":"
      "\"http://example.org\",\"stream_start\":\"Mon, 07 Dec 2026 12:15:46 +0000\","
      "\"stream_start_iso8601\":\"2026-12-07T12:15:46+0000\",\"subtype\":\"Opus\","
      "\"dummy\":null}}}";
  s = snapshot(&station_a, 1);
  n = sc_status_write_json(&s, out, sizeof out);
  assert_int_equal(n, (int)strlen(one));
  assert_string_equal(out, one);

  sc_status_station two[2] = {station_a, station_b};
  s = snapshot(two, 2);
  n = sc_status_write_json(&s, out, sizeof out);
  assert_true(n > 0);
  const char *b_json =
      "{\"genre\":\"various\",\"listener_peak\":0,\"listeners\":0,\"listenurl\":\"http://"
      "127.0.0.1:18100/b.mp3\",\"server_description\":\"Unspecified description\","
      "\"server_name\":\"Unspecified name\",\"server_type\":\"audio/mpeg\","
      "\"stream_start\":\"Mon, 07 Dec 2026 12:15:50 +0000\",\"stream_start_iso8601\":"
      "\"2026-12-07T12:15:50+0000\",\"title\":\"Hello World\",\"dummy\":null}]}}";
  assert_non_null(strstr(out, "\"source\":[{\"genre\":\"rock\""));
  assert_non_null(strstr(out, b_json));
  assert_int_equal(strlen(strstr(out, b_json)), strlen(b_json)); /* at the end */

  /* Too small a buffer, too many stations. */
  assert_int_equal(sc_status_write_json(&s, out, 100), SC_ERR_NOBUF);
  s.nstations = SC_STATUS_STATIONS_MAX + 1;
  assert_int_equal(sc_status_write_json(&s, out, sizeof out), SC_ERR_INVALID);
}

static void test_json_escapes_and_numbers(void **state) {
  (void)state;
  sc_status_station st = station_b;
  st.title = "a \"quoted\" \\ title\n";
  st.bitrate_kbps = 128;
  st.channels = 2;
  st.samplerate_hz = 48000;
  st.audio_info = "channels=2;samplerate=48000";
  sc_status_snapshot s = snapshot(&st, 1);
  char out[4096];
  assert_true(sc_status_write_json(&s, out, sizeof out) > 0);
  assert_non_null(strstr(out, "\"title\":\"a \\\"quoted\\\" \\\\ title\\u000a\""));
  assert_non_null(strstr(out, "{\"audio_info\":\"channels=2;samplerate=48000\","
                              "\"bitrate\":128,\"channels\":2,\"genre\""));
  assert_non_null(strstr(out, "\"samplerate\":48000,"));
}

static void test_7html(void **state) {
  (void)state;
  char out[512];
  sc_status_station st = station_b;
  st.listeners = 7;
  st.listener_peak = 9;
  st.bitrate_kbps = 128;
  st.title = "A, B & <C>";
  assert_true(sc_status_write_7html(&st, out, sizeof out) > 0);
  assert_string_equal(out,
                      "<html><body>7,1,9,0,7,128,A, B &amp; &lt;C&gt;</body></html>");
  assert_true(sc_status_write_7html(NULL, out, sizeof out) > 0);
  assert_string_equal(out, "<html><body>0,0,0,0,0,0,</body></html>");
}

static bool has_mount(void *user, const char *mount) {
  (void)user;
  return strcmp(mount, "/a.opus") == 0;
}

static void decide(const char *head, sc_status_admin_request *out) {
  static sc_http_request req;
  assert_true(sc_http_parse_request(head, strlen(head), 0, &req) > 0);
  sc_status_admin_policy p = {
      .admin_user = "admin", .admin_password = "adminpw", .has_mount = has_mount};
  sc_status_admin_decide(&req, &p, out);
}

#define AUTH_OK  "Authorization: Basic YWRtaW46YWRtaW5wdw==\r\n" /* admin:adminpw */
#define AUTH_BAD "Authorization: Basic YWRtaW46d3Jvbmc=\r\n"     /* admin:wrong */

static void test_admin_decide(void **state) {
  (void)state;
  sc_status_admin_request r;
  decide("GET /admin/listmounts HTTP/1.0\r\n" AUTH_BAD "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNAUTHORIZED);
  decide("GET /admin/listmounts HTTP/1.0\r\n\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNAUTHORIZED);
  decide("GET /admin/killclient?mount=/a.opus&id=6 HTTP/1.0\r\n" AUTH_BAD "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNAUTHORIZED);
  assert_int_equal(r.client_id, 0);
  decide("GET /admin/listmounts HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_LISTMOUNTS);
  decide("GET /admin/stats HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_STATS);
  decide("GET /admin/ HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_PAGE);
  decide("GET /admin/listclients?mount=%2Fa.opus HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_LISTCLIENTS);
  assert_string_equal(r.mount, "/a.opus");
  decide("GET /admin/listclients HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNKNOWN);
  decide("GET /admin/listclients?mount=/nope HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_NO_SOURCE);
  decide("GET /admin/killclient?mount=/a.opus&id=42 HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_KILLCLIENT);
  assert_int_equal(r.client_id, 42);
  decide("GET /admin/killclient?mount=/a.opus HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_MISSING_PARAM);
  decide("GET /admin/killclient?mount=/a.opus&id=-1 HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_BAD_REQUEST);
  decide(
      "GET /admin/killclient?mount=/a.opus&id=99999999999999999999 HTTP/1.0\r\n" AUTH_OK
      "\r\n",
      &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_BAD_REQUEST);
  decide("GET /admin/listclients?mount=a%00b HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_BAD_REQUEST);
  decide("GET /admin/metadata?mount=/a.opus&mode=updinfo&song=x HTTP/1.0\r\n" AUTH_OK
         "\r\n",
         &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_METADATA);
  decide("GET /admin/frobnicate HTTP/1.0\r\n" AUTH_OK "\r\n", &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNRECOGNISED);
  /* No admin password configured: nobody gets in. */
  sc_http_request req;
  const char *h = "GET /admin/stats HTTP/1.0\r\n" AUTH_OK "\r\n";
  assert_true(sc_http_parse_request(h, strlen(h), 0, &req) > 0);
  sc_status_admin_policy none = {.admin_user = "admin"};
  sc_status_admin_decide(&req, &none, &r);
  assert_int_equal(r.command, SC_STATUS_ADMIN_UNAUTHORIZED);
}

/* The XML of icecast2 2.4.4 (status_answers.txt). */
static void test_admin_xml(void **state) {
  (void)state;
  char out[4096];
  sc_status_snapshot s = snapshot(NULL, 0);
  assert_true(sc_status_write_listmounts(&s, T0, out, sizeof out) > 0);
  assert_string_equal(out, "<?xml version=\"1.0\"?>\n<icestats/>\n");
  s = snapshot(&station_a, 1);
  assert_true(sc_status_write_listmounts(&s, T0 + 5, out, sizeof out) > 0);
  assert_string_equal(out, "<?xml version=\"1.0\"?>\n<icestats><source "
                           "mount=\"/a.opus\"><fallback></fallback><listeners>1</"
                           "listeners><Connected>4</Connected><content-type>audio/ogg</"
                           "content-type></source></icestats>\n");
  sc_status_client c = {
      .id = 6, .ip = "127.0.0.1", .user_agent = "curl/7.88.1", .connected_s = 1};
  assert_true(sc_status_write_listclients("/a.opus", &c, 1, out, sizeof out) > 0);
  assert_string_equal(out,
                      "<?xml version=\"1.0\"?>\n<icestats><source "
                      "mount=\"/a.opus\"><Listeners>1</Listeners><listener><IP>127.0."
                      "0.1</IP><UserAgent>curl/7.88.1</UserAgent><Connected>1</"
                      "Connected><ID>6</ID></listener></source></icestats>\n");
  assert_true(sc_status_write_iceresponse("Client 6 removed", 1, out, sizeof out) > 0);
  assert_string_equal(out, "<?xml version=\"1.0\"?>\n<iceresponse><message>Client 6 "
                           "removed</message><return>1</return></iceresponse>\n");
  assert_true(sc_status_write_admin_stats(&s, out, sizeof out) > 0);
  assert_non_null(strstr(out,
                         "<source mount=\"/a.opus\"><genre>rock</genre>"
                         "<listener_peak>1</listener_peak><listeners>1</listeners>"));
  assert_non_null(strstr(out, "<sources>1</sources>"));
  assert_true(sc_status_write_admin_page(&s, out, sizeof out) > 0);
  assert_non_null(strstr(out, "/admin/listclients?mount=/a.opus"));
}

static void test_metrics(void **state) {
  (void)state;
  char out[2048];
  sc_metrics_writer w;
  sc_metrics_init(&w, out, sizeof out);
  sc_metrics_family(&w, "stripecast_peers", "gauge", "Peers known.");
  sc_metrics_sample_u64(&w, "stripecast_peers", "", 12);
  double le[3] = {0.1, 0.5, 1};
  uint64_t counts[3] = {1, 2, 3};
  sc_metrics_histogram(&w, "stripecast_latency_seconds", "Latency.", le, counts, 3, 4,
                       2.5);
  int n = sc_metrics_finish(&w);
  assert_true(n > 0);
  assert_string_equal(out, "# HELP stripecast_peers Peers known.\n"
                           "# TYPE stripecast_peers gauge\n"
                           "stripecast_peers 12\n"
                           "# HELP stripecast_latency_seconds Latency.\n"
                           "# TYPE stripecast_latency_seconds histogram\n"
                           "stripecast_latency_seconds_bucket{le=\"0.1\"} 1\n"
                           "stripecast_latency_seconds_bucket{le=\"0.5\"} 3\n"
                           "stripecast_latency_seconds_bucket{le=\"1\"} 6\n"
                           "stripecast_latency_seconds_bucket{le=\"+Inf\"} 10\n"
                           "stripecast_latency_seconds_sum 2.5\n"
                           "stripecast_latency_seconds_count 10\n");

  /* A sample outside its family, a family declared twice, a bad name. */
  sc_metrics_init(&w, out, sizeof out);
  sc_metrics_sample_u64(&w, "x", "", 1);
  assert_int_equal(sc_metrics_finish(&w), SC_ERR_INVALID);
  sc_metrics_init(&w, out, sizeof out);
  sc_metrics_family(&w, "x", "gauge", "X.");
  sc_metrics_family(&w, "x", "gauge", "X.");
  assert_int_equal(sc_metrics_finish(&w), SC_ERR_INVALID);
  sc_metrics_init(&w, out, sizeof out);
  sc_metrics_family(&w, "9x", "gauge", "X.");
  assert_int_equal(sc_metrics_finish(&w), SC_ERR_INVALID);
  sc_metrics_init(&w, out, 20);
  sc_metrics_family(&w, "x", "gauge", "A long help text.");
  assert_int_equal(sc_metrics_finish(&w), SC_ERR_NOBUF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_json_shapes),
      cmocka_unit_test(test_json_escapes_and_numbers),
      cmocka_unit_test(test_7html),
      cmocka_unit_test(test_admin_decide),
      cmocka_unit_test(test_admin_xml),
      cmocka_unit_test(test_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
