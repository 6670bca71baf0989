/*
 * test_ingest.c — the ingest server's pieces that need no encoder: the
 * password file (trailing line ends removed, one line only, bounded), the
 * configurations refused before anything is bound, and a port in use.
 * The server itself is driven by real encoders in tests/ingest_encoders.sh
 * and compared with icecast2 in tests/ingest_oracle.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "runtime/ingest.h"

static char path[64];

static int write_file(const char *data, size_t len) {
  snprintf(path, sizeof path, "/tmp/test_ingest_pw.XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

static int read_pw(const char *data, size_t len, char *out, size_t cap) {
  assert_int_equal(write_file(data, len), 0);
  int rv = rt_ingest_read_password_file(path, out, cap);
  unlink(path);
  return rv;
}

static void test_password_file(void **state) {
  (void)state;
  char pw[SC_HTTP_PASSWORD_MAX_BYTES + 1];
  assert_int_equal(read_pw("hackme\n", 7, pw, sizeof pw), 6);
  assert_string_equal(pw, "hackme");
  assert_int_equal(read_pw("hackme\r\n", 8, pw, sizeof pw), 6);
  assert_string_equal(pw, "hackme");
  assert_int_equal(read_pw("hackme", 6, pw, sizeof pw), 6);
  assert_string_equal(pw, "hackme");
  assert_int_equal(read_pw("with space\n\n", 12, pw, sizeof pw), 10);
  assert_string_equal(pw, "with space");
  /* Not one line, empty, a NUL inside: refused. */
  assert_int_equal(read_pw("two\nlines\n", 10, pw, sizeof pw), SC_ERR_INVALID);
  assert_int_equal(read_pw("\n", 1, pw, sizeof pw), SC_ERR_INVALID);
  assert_int_equal(read_pw("", 0, pw, sizeof pw), SC_ERR_INVALID);
  assert_int_equal(read_pw("a\0b\n", 4, pw, sizeof pw), SC_ERR_INVALID);
  /* Longer than the buffer: refused, not cut. */
  char big[600];
  memset(big, 'x', sizeof big);
  assert_int_equal(read_pw(big, sizeof big, pw, sizeof pw), SC_ERR_TOO_LARGE);
  char small[8];
  assert_int_equal(read_pw("1234567\n", 8, small, sizeof small), 7);
  assert_int_equal(read_pw("12345678\n", 9, small, sizeof small), SC_ERR_TOO_LARGE);
  assert_int_equal(read_pw("1234567\nsecond", 14, small, sizeof small), SC_ERR_TOO_LARGE);
  errno = 0;
  assert_int_equal(rt_ingest_read_password_file("/nonexistent/pw", pw, sizeof pw),
                   RT_INGEST_ERR_SYS);
  assert_int_equal(errno, ENOENT);
}

static void test_config_refused(void **state) {
  (void)state;
  struct ev_loop *loop = ev_loop_new(0);
  rt_ingest *in = (rt_ingest *)1;
  rt_ingest_config cfg = {.ip = 0x7f000001u, .port = 0, .mount = "/live.opus"};
  assert_int_equal(rt_ingest_new(&in, loop, &cfg, NULL), SC_ERR_INVALID);
  assert_null(in);
  cfg.source_password = "";
  assert_int_equal(rt_ingest_new(&in, loop, &cfg, NULL), SC_ERR_INVALID);
  cfg.source_password = "pw";
  cfg.mount = "live.opus";
  assert_int_equal(rt_ingest_new(&in, loop, &cfg, NULL), SC_ERR_INVALID);
  cfg.mount = "/live.opus";
  cfg.port = 65535; /* no room for the SHOUTcast port above */
  assert_int_equal(rt_ingest_new(&in, loop, &cfg, NULL), SC_ERR_INVALID);
  ev_loop_destroy(loop);
}

static void test_port_in_use(void **state) {
  (void)state;
  struct ev_loop *loop = ev_loop_new(0);
  rt_ingest *a = NULL, *b = NULL;
  rt_ingest_config cfg = {
      .ip = 0x7f000001u, .port = 0, .mount = "/live.opus", .source_password = "pw"};
  int rv = RT_INGEST_ERR_SYS;
  for (int i = 0; i < 50 && rv != 0; i++) /* port 0: the one above may be taken */
    rv = rt_ingest_new(&a, loop, &cfg, NULL);
  assert_int_equal(rv, 0);
  assert_false(rt_ingest_source_live(a));
  cfg.port = rt_ingest_port(a);
  errno = 0;
  assert_int_equal(rt_ingest_new(&b, loop, &cfg, NULL), RT_INGEST_ERR_SYS);
  assert_int_equal(errno, EADDRINUSE);
  assert_null(b);
  /* The SHOUTcast port alone in use: refused too. */
  cfg.port = (uint16_t)(rt_ingest_port(a) - 1);
  assert_int_equal(rt_ingest_new(&b, loop, &cfg, NULL), RT_INGEST_ERR_SYS);
  assert_null(b);
  rt_ingest_stats st;
  rt_ingest_get_stats(a, &st);
  assert_int_equal(st.connections, 0);
  rt_ingest_del(a);
  rt_ingest_del(NULL);
  ev_loop_destroy(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_password_file),
      cmocka_unit_test(test_config_refused),
      cmocka_unit_test(test_port_in_use),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
