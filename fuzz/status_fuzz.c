/*
 * status_fuzz.c — libFuzzer target for http/status.h: the admin request
 * decision (a request head from the network) and the status writers fed
 * with strings from the same bytes (a source's ice-* headers and titles
 * reach them).
 *
 * Asserted beyond the sanitizers: the decision is one of its enum and lets
 * nobody in without the admin's exact credentials; a decided mount is a
 * decoded path the policy called live; every writer returns its output's
 * length or a documented code; JSON carries no raw control byte and /7.html
 * no markup from the title.
 *
 * Needs only sc_http and core/err.c:
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I. \
 *     -fsanitize=fuzzer,address,undefined fuzz/status_fuzz.c http/\*.c core/err.c
 * Seeds: fuzz/corpus/status/ (admin requests).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                         \
  do {                                                                                   \
    if (!(x)) abort();                                                                   \
  } while (0)

static bool live(void *user, const char *mount) {
  (void)user;
  return strcmp(mount, "/live") == 0;
}

static bool has_admin_credentials(const sc_http_request *req) {
  const sc_http_slice *h = sc_http_header_find(req, "authorization");
  sc_http_basic_auth a;
  return h && sc_http_basic_auth_parse(*h, &a) == SC_OK && strcmp(a.user, "admin") == 0 &&
         strcmp(a.password, "adminpw") == 0;
}

static void decide(const char *buf, size_t len) {
  static sc_http_request req;
  if (sc_http_parse_request(buf, len, 0, &req) <= 0) return;
  sc_status_admin_policy p = {
      .admin_user = "admin", .admin_password = "adminpw", .has_mount = live};
  sc_status_admin_request a;
  sc_status_admin_decide(&req, &p, &a);
  CHECK(a.command >= SC_STATUS_ADMIN_UNAUTHORIZED &&
        a.command <= SC_STATUS_ADMIN_BAD_REQUEST);
  CHECK(memchr(a.mount, '\0', sizeof a.mount) != NULL);
  if (a.command != SC_STATUS_ADMIN_UNAUTHORIZED) CHECK(has_admin_credentials(&req));
  if (a.command == SC_STATUS_ADMIN_LISTCLIENTS ||
      a.command == SC_STATUS_ADMIN_KILLCLIENT || a.command == SC_STATUS_ADMIN_METADATA)
    CHECK(strcmp(a.mount, "/live") == 0);
  sc_status_admin_policy none = {.admin_user = "admin", .has_mount = live};
  sc_status_admin_decide(&req, &none, &a);
  CHECK(a.command == SC_STATUS_ADMIN_UNAUTHORIZED);
}

static void write_all(const char *text) {
  static char out[32768];
  char tiny[16];
  sc_status_station st = {.mount = "/live",
                          .name = text,
                          .description = text,
                          .genre = text,
                          .title = text,
                          .audio_info = text,
                          .content_type = "audio/mpeg",
                          .listenurl = "http://127.0.0.1:8000/live",
                          .listeners = strlen(text),
                          .listener_peak = UINT64_MAX,
                          .bitrate_kbps = 128,
                          .stream_start_s = (int64_t)strlen(text) * 86400 * 365};
  sc_status_station two[2] = {st, st};
  sc_status_snapshot snap = {.server = {.server_id = text,
                                        .host = text,
                                        .server_start_s = -(int64_t)strlen(text)},
                             .stations = two,
                             .nstations = 2};
  int n = sc_status_write_json(&snap, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  if (n > 0)
    for (int i = 0; i < n; i++)
      CHECK((unsigned char)out[i] >= 0x20);
  CHECK(sc_status_write_json(&snap, tiny, sizeof tiny) == SC_ERR_NOBUF);
  n = sc_status_write_7html(&st, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  if (n > 0) {
    unsigned lt = 0;
    for (int i = 0; i < n; i++)
      lt += out[i] == '<';
    CHECK(lt == 4);
  }
  n = sc_status_write_admin_stats(&snap, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  n = sc_status_write_listmounts(&snap, 0, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  n = sc_status_write_admin_page(&snap, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  sc_status_client c = {.id = 1, .ip = text, .user_agent = text, .connected_s = 3};
  n = sc_status_write_listclients(text, &c, 1, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  n = sc_status_write_iceresponse(text, 1, out, sizeof out);
  CHECK(n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
  /* Metric names and help from the network: refused or written whole. */
  sc_metrics_writer w;
  sc_metrics_init(&w, out, sizeof out);
  sc_metrics_family(&w, text, "gauge", text);
  sc_metrics_sample_u64(&w, text, "", 1);
  n = sc_metrics_finish(&w);
  CHECK(n == SC_ERR_INVALID || n == SC_ERR_NOBUF || (n > 0 && (size_t)n == strlen(out)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char buf[9000];
  if (size >= sizeof buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  decide(buf, size);
  /* The bytes up to the first NUL as one station string. */
  if (strlen(buf) <= 2048) write_all(buf);
  return 0;
}
