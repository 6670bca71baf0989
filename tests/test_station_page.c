/*
 * test_station_page.c — the station's page (core/station.h, "The station's
 * page"): a bundle round-trips byte for byte; every bound holds at its
 * value and fails one past it; cut, extended and garbled bundles are
 * refused; a reader keeps a page only when it checks (from the stream or a
 * fetched state), drops it on a restart, and a state makes room for it only
 * when it fits.
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
#include "core/station.h"

#define BUNDLE_CAP (SC_STATION_PAGE_MAX + 64)

static uint8_t bundle[BUNDLE_CAP];
static uint8_t bytes[SC_STATION_PAGE_MAX];

static sc_station_page_file file(const char *name, sc_station_page_type type,
                                 const uint8_t *data, size_t len) {
  sc_station_page_file f = {.type = type, .data = data, .len = len};
  strcpy(f.name, name);
  return f;
}

/* index.html, style.css and a binary image (every byte value). */
static int three_files(sc_station_page_file files[3]) {
  static uint8_t png[600];
  for (size_t i = 0; i < sizeof png; i++)
    png[i] = (uint8_t)(i * 7);
  static const char html[] = "<!doctype html><h1>Radio</h1><img src=logo.png>";
  static const char css[] = "h1{color:red}";
  files[0] =
      file("index.html", SC_STATION_PAGE_HTML, (const uint8_t *)html, sizeof html - 1);
  files[1] = file("style.css", SC_STATION_PAGE_CSS, (const uint8_t *)css, sizeof css - 1);
  files[2] = file("logo.png", SC_STATION_PAGE_PNG, png, sizeof png);
  return sc_station_page_encode(files, 3, bundle, sizeof bundle);
}

static void test_roundtrip(void **state) {
  (void)state;
  sc_station_page_file files[3];
  int n = three_files(files);
  assert_true(n > 0);
  size_t count = 0;
  assert_int_equal(sc_station_page_check(bundle, (size_t)n, &count), SC_OK);
  assert_int_equal(count, 3);
  for (int i = 0; i < 3; i++) {
    sc_station_page_file f;
    assert_int_equal(sc_station_page_find(bundle, (size_t)n, files[i].name, &f), SC_OK);
    assert_string_equal(f.name, files[i].name);
    assert_int_equal(f.type, files[i].type);
    assert_int_equal(f.len, files[i].len);
    assert_memory_equal(f.data, files[i].data, f.len);
  }
  sc_station_page_file f;
  assert_int_equal(sc_station_page_find(bundle, (size_t)n, "nosuch.png", &f),
                   SC_ERR_NOT_FOUND);
  assert_int_equal(sc_station_page_find(NULL, 0, "index.html", &f), SC_ERR_NOT_FOUND);
  /* The same files, the same bytes. */
  uint8_t again[2048];
  assert_int_equal(sc_station_page_encode(files, 3, again, sizeof again), n);
  assert_memory_equal(again, bundle, (size_t)n);
  /* An empty file is a file. */
  files[1].len = 0;
  files[1].data = NULL;
  n = sc_station_page_encode(files, 3, bundle, sizeof bundle);
  assert_true(n > 0);
  assert_int_equal(sc_station_page_find(bundle, (size_t)n, "style.css", &f), SC_OK);
  assert_int_equal(f.len, 0);
}

static void test_names_types(void **state) {
  (void)state;
  static const char *const good[] = {"a", "index.html", "A-Z_a.z-0.9", "x..y", "0"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(sc_station_page_name_ok(good[i], strlen(good[i])));
  static const char *const bad[] = {"",  ".hidden", "..", "a/b", "a b",  "a\\b",
                                    "é", "a%2f",    "a:", "a?",  "a\nb", "~a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(sc_station_page_name_ok(bad[i], strlen(bad[i])));
  char name[SC_STATION_PAGE_NAME_MAX + 2];
  memset(name, 'n', sizeof name);
  assert_true(sc_station_page_name_ok(name, SC_STATION_PAGE_NAME_MAX));
  assert_false(sc_station_page_name_ok(name, SC_STATION_PAGE_NAME_MAX + 1));
  assert_false(sc_station_page_name_ok("a\0b", 3));
  assert_int_equal(sc_station_page_type_of("x.HTML"), SC_STATION_PAGE_HTML);
  assert_int_equal(sc_station_page_type_of("x.htm"), SC_STATION_PAGE_HTML);
  assert_int_equal(sc_station_page_type_of("x.jpeg"), SC_STATION_PAGE_JPEG);
  assert_int_equal(sc_station_page_type_of("x.Jpg"), SC_STATION_PAGE_JPEG);
  assert_int_equal(sc_station_page_type_of("x.ico"), SC_STATION_PAGE_ICO);
  assert_int_equal(sc_station_page_type_of("x.js"), 0);
  assert_int_equal(sc_station_page_type_of("png"), 0);
  assert_int_equal(sc_station_page_type_of("x.png.exe"), 0);
  assert_string_equal(sc_station_page_mime(SC_STATION_PAGE_SVG), "image/svg+xml");
  assert_null(sc_station_page_mime(0));
  assert_null(sc_station_page_mime(SC_STATION_PAGE_TEXT + 1));
}

/* A bundle of one index.html of len bytes: 2 + 6 + 10 + len bytes. */
static int one_file(size_t len) {
  sc_station_page_file f = file("index.html", SC_STATION_PAGE_HTML, bytes, len);
  return sc_station_page_encode(&f, 1, bundle, sizeof bundle);
}

static void test_bounds(void **state) {
  (void)state;
  memset(bytes, 'x', sizeof bytes);
  /* The whole bundle: at the bound, and one byte over. */
  size_t most = SC_STATION_PAGE_MAX - 18;
  assert_int_equal(one_file(most), (int)SC_STATION_PAGE_MAX);
  assert_int_equal(sc_station_page_check(bundle, SC_STATION_PAGE_MAX, NULL), SC_OK);
  assert_int_equal(one_file(most + 1), SC_ERR_TOO_LARGE);
  /* A forged length that claims one byte more, with the byte there. */
  bundle[2 + 1 + 10 + 1 + 3]++;
  bundle[SC_STATION_PAGE_MAX] = 'x';
  assert_int_equal(sc_station_page_check(bundle, SC_STATION_PAGE_MAX + 1, NULL),
                   SC_ERR_INVALID);
  /* The buffer: exactly the bundle, and one byte short. */
  sc_station_page_file f = file("index.html", SC_STATION_PAGE_HTML, bytes, 100);
  assert_int_equal(sc_station_page_encode(&f, 1, bundle, 118), 118);
  assert_int_equal(sc_station_page_encode(&f, 1, bundle, 117), SC_ERR_TOO_LARGE);
  /* The files: SC_STATION_PAGE_FILES_MAX, and one more. */
  sc_station_page_file files[SC_STATION_PAGE_FILES_MAX + 1];
  files[0] = file("index.html", SC_STATION_PAGE_HTML, bytes, 10);
  for (int i = 1; i <= SC_STATION_PAGE_FILES_MAX; i++) {
    char name[24];
    snprintf(name, sizeof name, "f%d.txt", i);
    files[i] = file(name, SC_STATION_PAGE_TEXT, bytes, 10);
  }
  int n = sc_station_page_encode(files, SC_STATION_PAGE_FILES_MAX, bundle, sizeof bundle);
  assert_true(n > 0);
  size_t count;
  assert_int_equal(sc_station_page_check(bundle, (size_t)n, &count), SC_OK);
  assert_int_equal(count, SC_STATION_PAGE_FILES_MAX);
  assert_int_equal(
      sc_station_page_encode(files, SC_STATION_PAGE_FILES_MAX + 1, bundle, sizeof bundle),
      SC_ERR_INVALID);
  assert_int_equal(sc_station_page_encode(files, 0, bundle, sizeof bundle),
                   SC_ERR_INVALID);
  /* A name: SC_STATION_PAGE_NAME_MAX bytes, and one more (forged). */
  char name[SC_STATION_PAGE_NAME_MAX + 1];
  memset(name, 'n', SC_STATION_PAGE_NAME_MAX);
  name[SC_STATION_PAGE_NAME_MAX] = '\0';
  files[1] = file(name, SC_STATION_PAGE_TEXT, bytes, 0);
  n = sc_station_page_encode(files, 2, bundle, sizeof bundle);
  assert_true(n > 0);
  assert_int_equal(sc_station_page_check(bundle, (size_t)n, NULL), SC_OK);
  uint8_t longer[256];
  size_t at = 2 + 1 + 10 + 1 + 4 + 10; /* past index.html */
  memcpy(longer, bundle, at);
  longer[at] = SC_STATION_PAGE_NAME_MAX + 1;
  memset(longer + at + 1, 'n', SC_STATION_PAGE_NAME_MAX + 1);
  size_t k = at + 1 + SC_STATION_PAGE_NAME_MAX + 1;
  memcpy(longer + k, bundle + at + 1 + SC_STATION_PAGE_NAME_MAX, 5);
  assert_int_equal(sc_station_page_check(longer, k + 5, NULL), SC_ERR_INVALID);
}

static void test_refused(void **state) {
  (void)state;
  sc_station_page_file files[3];
  int n = three_files(files);
  assert_true(n > 0);
  size_t len = (size_t)n;
  /* Every cut, and one byte more. */
  for (size_t i = 0; i < len; i++)
    assert_int_equal(sc_station_page_check(bundle, i, NULL), SC_ERR_INVALID);
  bundle[len] = 0;
  assert_int_equal(sc_station_page_check(bundle, len + 1, NULL), SC_ERR_INVALID);
  /* A version, a count, a type, a length that are not. */
  static const struct {
    size_t at;
    uint8_t v;
  } edits[] = {
      {0, SC_STATION_PAGE_VERSION + 1},       /* version */
      {1, 0},                                 /* no file */
      {1, 2},                                 /* a file left over */
      {1, 4},                                 /* a file missing */
      {2 + 1 + 10, 0},                        /* type 0 */
      {2 + 1 + 10, SC_STATION_PAGE_TEXT + 1}, /* type past the table */
      {2 + 1 + 10 + 1, 0x80},                 /* data length 2^31 + ... */
      {2 + 1, '.'},                           /* ".ndex.html" */
      {2 + 1 + 5, '/'},                       /* "index/html" */
      {2, 0},                                 /* an empty name */
  };
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    uint8_t copy[2048];
    memcpy(copy, bundle, len);
    copy[edits[i].at] = edits[i].v;
    assert_int_equal(sc_station_page_check(copy, len, NULL), SC_ERR_INVALID);
    sc_station_page_file f;
    assert_int_equal(sc_station_page_find(copy, len, "logo.png", &f), SC_ERR_NOT_FOUND);
  }
  /* The encoder refuses what the checker would. */
  sc_station_page_file bad[3];
  memcpy(bad, files, sizeof bad);
  strcpy(bad[2].name, "style.css"); /* twice */
  assert_int_equal(sc_station_page_encode(bad, 3, bundle, BUNDLE_CAP), SC_ERR_INVALID);
  memcpy(bad, files, sizeof bad);
  strcpy(bad[0].name, "home.html"); /* no index.html */
  assert_int_equal(sc_station_page_encode(bad, 3, bundle, BUNDLE_CAP), SC_ERR_INVALID);
  memcpy(bad, files, sizeof bad);
  strcpy(bad[1].name, ".htaccess");
  assert_int_equal(sc_station_page_encode(bad, 3, bundle, BUNDLE_CAP), SC_ERR_INVALID);
  memcpy(bad, files, sizeof bad);
  bad[2].type = 0;
  assert_int_equal(sc_station_page_encode(bad, 3, bundle, BUNDLE_CAP), SC_ERR_INVALID);
  /* A bundle whose two files share a name, written by hand. */
  sc_station_page_file one = file("index.html", SC_STATION_PAGE_HTML, bytes, 1);
  n = sc_station_page_encode(&one, 1, bundle, BUNDLE_CAP);
  assert_int_equal(n, 19);
  uint8_t twice[64];
  memcpy(twice, bundle, 19);
  memcpy(twice + 19, bundle + 2, 17);
  twice[1] = 2;
  assert_int_equal(sc_station_page_check(twice, 36, NULL), SC_ERR_INVALID);
  /* Garbage: never valid by chance here, never a crash. */
  srand(7);
  for (int round = 0; round < 20000; round++) {
    uint8_t g[256];
    size_t gl = (size_t)rand() % sizeof g;
    for (size_t i = 0; i < gl; i++)
      g[i] = (uint8_t)rand();
    if (gl > 1 && round % 2) g[0] = SC_STATION_PAGE_VERSION;
    assert_int_equal(sc_station_page_check(g, gl, NULL), SC_ERR_INVALID);
  }
}

/* ------------------------------------------------------------ the reader */

typedef struct {
  int pages, others;
} seen;

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t len) {
  (void)data;
  (void)len;
  seen *s = user;
  if (type == SC_STATION_PAGE)
    s->pages++;
  else
    s->others++;
}

/* Generations of GEN bytes, kept in order. */
#define GEN 512
typedef struct {
  uint8_t gen[256][GEN];
  size_t len[256];
  size_t n, fill;
} gens;

static int g_write(void *user, const uint8_t *d, size_t n) {
  gens *g = user;
  while (n > 0) {
    size_t take = GEN - g->fill < n ? GEN - g->fill : n;
    memcpy(g->gen[g->n] + g->fill, d, take);
    g->fill += take;
    d += take;
    n -= take;
    if (g->fill == GEN) {
      g->len[g->n++] = GEN;
      g->fill = 0;
    }
  }
  return SC_OK;
}

static int g_flush(void *user) {
  gens *g = user;
  if (g->fill) g->len[g->n++] = g->fill;
  g->fill = 0;
  return SC_OK;
}

static void read_all(sc_station_reader *r, const gens *g) {
  for (size_t i = 0; i < g->n; i++)
    assert_int_equal(sc_station_reader_gen(r, i, g->gen[i], g->len[i]), SC_OK);
}

static void test_reader_stream(void **state) {
  (void)state;
  sc_station_page_file files[3];
  int n = three_files(files);
  assert_true(n > 0);
  static gens g;
  memset(&g, 0, sizeof g);
  sc_station_sink sink = {g_write, g_flush, &g};
  sc_station_writer w;
  assert_int_equal(sc_station_writer_init(&w, GEN, &sink), SC_OK);
  assert_int_equal(
      sc_station_writer_put(&w, SC_STATION_INFO, (const uint8_t *)"a=b\n", 4), SC_OK);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_PAGE, bundle, (size_t)n), SC_OK);
  /* A page that does not check: not kept, not handed on. */
  uint8_t broken[2048];
  memcpy(broken, bundle, (size_t)n);
  broken[0] = 9;
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_PAGE, broken, (size_t)n), SC_OK);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_MEDIA_SYNC, bytes, 10), SC_OK);
  assert_int_equal(sc_station_writer_flush(&w), SC_OK);
  seen s = {0};
  sc_station_reader *r;
  assert_int_equal(sc_station_reader_new(&r, on_record, &s, NULL), SC_OK);
  const uint8_t *p;
  size_t plen;
  sc_station_reader_page(r, &p, &plen);
  assert_null(p);
  assert_int_equal(plen, 0);
  read_all(r, &g);
  assert_int_equal(s.pages, 1);
  assert_int_equal(s.others, 2);
  sc_station_reader_page(r, &p, &plen);
  assert_int_equal(plen, (size_t)n);
  assert_memory_equal(p, bundle, plen);
  sc_station_reader_stats st;
  sc_station_reader_get_stats(r, &st);
  assert_int_equal(st.records_invalid, 1);
  /* A new epoch: the page was the old broadcaster's. */
  sc_station_reader_restart(r);
  sc_station_reader_page(r, &p, &plen);
  assert_int_equal(plen, 0);
  sc_station_reader_del(r);
}

static void test_reader_state(void **state) {
  (void)state;
  sc_station_page_file files[3];
  int n = three_files(files);
  assert_true(n > 0);
  size_t plen = (size_t)n;
  static uint8_t st[SC_STATION_PAGE_MAX + 8192];
  static uint8_t page[SC_STATION_PAGE_MAX];
  memcpy(page, bundle, plen);
  int k = sc_station_state_encode(st, sizeof st, "name=R\n", NULL, 0, "T");
  assert_true(k > 0);
  size_t len = sc_station_state_add_page(st, sizeof st, (size_t)k, page, plen);
  assert_int_equal(len, (size_t)k + 1 + 2 + plen);
  /* No room: the state stays as it was; no INFO: stays empty. */
  assert_int_equal(sc_station_state_add_page(st, len - 1, (size_t)k, page, plen),
                   (size_t)k);
  assert_int_equal(sc_station_state_add_page(st, sizeof st, 0, page, plen), 0);
  assert_int_equal(sc_station_state_add_page(st, sizeof st, (size_t)k, page, 0),
                   (size_t)k);

  seen s = {0};
  sc_station_reader *r;
  assert_int_equal(sc_station_reader_new(&r, on_record, &s, NULL), SC_OK);
  /* A broken page in a state: nothing at all is kept. */
  st[k + 3] ^= 0xff; /* the bundle's version */
  assert_int_equal(sc_station_reader_state(r, st, len), SC_ERR_INVALID);
  assert_string_equal(sc_station_reader_info(r), "");
  assert_int_equal(s.pages + s.others, 0);
  st[k + 3] ^= 0xff;
  /* Cut anywhere: refused whole. */
  for (size_t cut = 1; cut < len; cut += 97)
    assert_int_equal(sc_station_reader_state(r, st, cut), SC_ERR_INVALID);
  assert_int_equal(s.pages + s.others, 0);
  /* The page alone, INFO untouched; a state with no page has none to give. */
  assert_int_equal(sc_station_reader_state_page(r, st, (size_t)k), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_station_reader_state_page(r, st, len), SC_OK);
  assert_string_equal(sc_station_reader_info(r), "");
  const uint8_t *p;
  size_t got;
  sc_station_reader_page(r, &p, &got);
  assert_int_equal(got, plen);
  assert_memory_equal(p, page, plen);
  /* The whole state. */
  sc_station_reader_restart(r);
  assert_int_equal(sc_station_reader_state(r, st, len), SC_OK);
  assert_string_equal(sc_station_reader_info(r), "name=R\n");
  sc_station_reader_page(r, &p, &got);
  assert_int_equal(got, plen);
  sc_station_reader_del(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_names_types),
      cmocka_unit_test(test_bounds),        cmocka_unit_test(test_refused),
      cmocka_unit_test(test_reader_stream), cmocka_unit_test(test_reader_state),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
