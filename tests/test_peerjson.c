/*
 * test_peerjson.c — /peer.json (http/peerjson.h): the document of a small
 * snapshot byte for byte, strings from the network escaped into valid JSON
 * and valid UTF-8, the largest snapshot within SC_PEERJSON_MAX_BYTES, every
 * too-small buffer refused without a byte written past it, bounds checked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/peerjson.h"

/* ------------------------------------------------------------------------ */
/* A strict JSON checker (RFC 8259): values, strings with their escapes,
 * numbers, literals; every byte of a string valid UTF-8 or an escape. */

typedef struct {
  const char *p, *end;
} jcur;

static void jws(jcur *c) {
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r'))
    c->p++;
}

static int jvalue(jcur *c, int depth);

static int jstring(jcur *c) {
  if (c->p >= c->end || *c->p != '"') return -1;
  c->p++;
  while (c->p < c->end && *c->p != '"') {
    unsigned char ch = (unsigned char)*c->p;
    if (ch < 0x20) return -1;
    if (ch == '\\') {
      c->p++;
      if (c->p >= c->end) return -1;
      if (*c->p == 'u') {
        for (int i = 1; i <= 4; i++)
          if (c->p + i >= c->end || !strchr("0123456789abcdefABCDEF", c->p[i])) return -1;
        c->p += 5;
      } else if (strchr("\"\\/bfnrt", *c->p)) {
        c->p++;
      } else {
        return -1;
      }
      continue;
    }
    if (ch < 0x80) {
      c->p++;
      continue;
    }
    /* UTF-8: a lead byte and its continuation bytes, no overlong forms. */
    int n = ch >= 0xf0 && ch <= 0xf4   ? 4
            : ch >= 0xe0               ? 3
            : ch >= 0xc2 && ch <= 0xdf ? 2
                                       : 0;
    if (n == 0 || c->end - c->p < n) return -1;
    for (int i = 1; i < n; i++)
      if (((unsigned char)c->p[i] & 0xc0) != 0x80) return -1;
    if (ch == 0xe0 && (unsigned char)c->p[1] < 0xa0) return -1;
    if (ch == 0xed && (unsigned char)c->p[1] > 0x9f) return -1;
    if (ch == 0xf0 && (unsigned char)c->p[1] < 0x90) return -1;
    if (ch == 0xf4 && (unsigned char)c->p[1] > 0x8f) return -1;
    c->p += n;
  }
  if (c->p >= c->end) return -1;
  c->p++;
  return 0;
}

static int jnumber(jcur *c) {
  const char *s = c->p;
  if (c->p < c->end && *c->p == '-') c->p++;
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
  if (*c->p == '0')
    c->p++;
  else
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
      c->p++;
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
      c->p++;
  }
  return c->p > s ? 0 : -1;
}

static int jlit(jcur *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return -1;
  c->p += n;
  return 0;
}

static int jcontainer(jcur *c, int depth, char close, bool object) {
  c->p++;
  jws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return 0;
  }
  for (;;) {
    jws(c);
    if (object) {
      if (jstring(c) != 0) return -1;
      jws(c);
      if (c->p >= c->end || *c->p != ':') return -1;
      c->p++;
    }
    if (jvalue(c, depth + 1) != 0) return -1;
    jws(c);
    if (c->p >= c->end) return -1;
    if (*c->p == close) {
      c->p++;
      return 0;
    }
    if (*c->p != ',') return -1;
    c->p++;
  }
}

static int jvalue(jcur *c, int depth) {
  if (depth > 32) return -1;
  jws(c);
  if (c->p >= c->end) return -1;
  switch (*c->p) {
  case '{':
    return jcontainer(c, depth, '}', true);
  case '[':
    return jcontainer(c, depth, ']', false);
  case '"':
    return jstring(c);
  case 't':
    return jlit(c, "true");
  case 'f':
    return jlit(c, "false");
  case 'n':
    return jlit(c, "null");
  default:
    return jnumber(c);
  }
}

static bool json_valid(const char *s, size_t len) {
  jcur c = {s, s + len};
  if (jvalue(&c, 0) != 0) return false;
  jws(&c);
  return c.p == c.end;
}

/* ------------------------------------------------------------------------ */
/* snapshots                                                                 */

static void small_snapshot(sc_peerjson_snapshot *s) {
  memset(s, 0, sizeof *s);
  s->id.hi = 0x0123456789abcdefULL;
  s->id.lo = 0xfedcba9876543210ULL;
  strcpy(s->addr, "127.0.0.1:7000");
  s->uptime_s = 12.5;
  s->nstations = 1;
  strcpy(s->stations[0].mount, "/live.opus");
  strcpy(s->stations[0].content_type, "audio/ogg");
  strcpy(s->stations[0].name, "Radio");
  strcpy(s->stations[0].title, "A - B");
  s->stations[0].listeners = 2;
  s->playing = true;
  s->gens_delivered = 3;
  s->gens_bad = 1;
  s->nstripes = 2;
  s->stripes[0] = (sc_peerjson_stripe){.wanted = true,
                                       .attached = true,
                                       .root = true,
                                       .nchildren = 1,
                                       .chunks_in = 10,
                                       .chunks_out = 10,
                                       .chunks_missed = 0,
                                       .in_per_s = 2,
                                       .out_per_s = 2};
  s->stripes[0].children[0].id.lo = 1;
  strcpy(s->stripes[0].children[0].addr, "127.0.0.1:7001");
  s->stripes[1] = (sc_peerjson_stripe){.wanted = true,
                                       .attached = true,
                                       .has_parent = true,
                                       .chunks_in = 9,
                                       .chunks_missed = 1,
                                       .in_per_s = 1.5};
  s->stripes[1].parent.id.hi = 2;
  strcpy(s->stripes[1].parent.addr, "127.0.0.1:7002");
  s->sample_period_s = 5;
  s->nsamples = 2;
  s->samples[0] = (sc_peerjson_sample){.age_s = 5, .gens = 0, .gens_bad = 0};
  s->samples[1] = (sc_peerjson_sample){.age_s = 0, .gens = 3, .gens_bad = 1};
}

static const char SMALL_JSON[] =
    "{\"node\":{\"id\":\"0123456789abcdeffedcba9876543210\",\"addr\":\"127.0.0.1:7000\","
    "\"role\":\"listener\",\"uptime_s\":12.500},"
    "\"stations\":[{\"mount\":\"/live.opus\",\"content_type\":\"audio/ogg\","
    "\"name\":\"Radio\",\"title\":\"A - B\",\"listeners\":2,\"page_bytes\":0}],"
    "\"stream\":{\"playing\":true,\"gens_delivered\":3,\"gens_bad\":1,"
    "\"continuity\":0.750000},\"stripes_attached\":2,\"stripes\":["
    "{\"stripe\":0,\"wanted\":true,\"attached\":true,\"root\":true,\"parent\":null,"
    "\"children\":1,\"child_list\":[{\"id\":\"00000000000000000000000000000001\","
    "\"addr\":\"127.0.0.1:7001\"}],\"chunks_in\":10,\"chunks_out\":10,"
    "\"chunks_missed\":0,\"in_per_s\":2.000,\"out_per_s\":2.000},"
    "{\"stripe\":1,\"wanted\":true,\"attached\":true,\"root\":false,"
    "\"parent\":{\"id\":\"00000000000000020000000000000000\",\"addr\":\"127.0.0.1:7002\"}"
    ","
    "\"children\":0,\"child_list\":[],\"chunks_in\":9,\"chunks_out\":0,"
    "\"chunks_missed\":1,\"in_per_s\":1.500,\"out_per_s\":0.000}],"
    "\"continuity\":{\"period_s\":5.000,\"samples\":["
    "{\"age_s\":5.000,\"gens\":0,\"gens_bad\":0,\"continuity\":null},"
    "{\"age_s\":0.000,\"gens\":3,\"gens_bad\":1,\"continuity\":0.750000}]}}";

static void test_small_exact(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  small_snapshot(&s);
  static char out[SC_PEERJSON_MAX_BYTES];
  int n = sc_peerjson_render(&s, out, sizeof out);
  assert_int_equal(n, (int)strlen(SMALL_JSON));
  assert_string_equal(out, SMALL_JSON);
  assert_true(json_valid(out, (size_t)n));
}

/* The checker itself tells valid from invalid documents. */
static void test_checker(void **state) {
  (void)state;
  const char *bad[] = {"{",
                       "{\"a\":}",
                       "[1,]",
                       "\"\x01\"",
                       "\"\xff\"",
                       "\"\xc0\x80\"",
                       "\"\xed\xa0\x80\"",
                       "{\"a\":1}x",
                       "\"\\x\"",
                       "01",
                       "{\"a\" 1}",
                       "nul"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(json_valid(bad[i], strlen(bad[i])));
  const char *good[] = {"{}", "[]", "{\"a\":[1,2.5,null,true,false,\"\\u00e9\xc3\xa9\"]}",
                        "-0.5"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(json_valid(good[i], strlen(good[i])));
}

/* Titles come from the stream: quotes, backslashes, controls and bytes
 * that are no UTF-8 become escapes; valid UTF-8 passes as it is. */
static void test_escapes(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  small_snapshot(&s);
  strcpy(s.stations[0].title, "q\"b\\n\n\x7f"
                              "\xff|\xc0\x80|\xed\xa0\x80|\xe2\x82|"
                              "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  static char out[SC_PEERJSON_MAX_BYTES];
  int n = sc_peerjson_render(&s, out, sizeof out);
  assert_true(n > 0);
  assert_true(json_valid(out, (size_t)n));
  assert_non_null(strstr(out,
                         "\"title\":\"q\\\"b\\\\n\\u000a\\u007f\\ufffd|\\ufffd\\ufffd|"
                         "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|"
                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
}

/* Every byte value in every position of a title still gives valid JSON. */
static void test_any_bytes_valid(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  small_snapshot(&s);
  static char out[SC_PEERJSON_MAX_BYTES];
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int round = 0; round < 2000; round++) {
    size_t len = (size_t)(round % SC_PEERJSON_TEXT_MAX_BYTES);
    for (size_t i = 0; i < len; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      uint8_t b = (uint8_t)x;
      s.stations[0].title[i] = (char)(b ? b : 1);
    }
    s.stations[0].title[len] = '\0';
    int n = sc_peerjson_render(&s, out, sizeof out);
    assert_true(n > 0);
    assert_true(json_valid(out, (size_t)n));
  }
}

/* Every field at its bound, strings that escape 6:1: still fits. */
static void largest_snapshot(sc_peerjson_snapshot *s) {
  memset(s, 0, sizeof *s);
  memset(s->addr, '9', SC_PEERJSON_ADDR_MAX_BYTES);
  s->uptime_s = 1e12;
  s->nstations = SC_PEERJSON_STATIONS_MAX;
  for (unsigned i = 0; i < SC_PEERJSON_STATIONS_MAX; i++) {
    sc_peerjson_station *st = &s->stations[i];
    memset(st->mount, 1, SC_PEERJSON_TEXT_MAX_BYTES);
    memset(st->content_type, 1, SC_PEERJSON_TEXT_MAX_BYTES);
    memset(st->name, 1, SC_PEERJSON_TEXT_MAX_BYTES);
    st->page_bytes = UINT32_MAX;
    memset(st->title, 1, SC_PEERJSON_TEXT_MAX_BYTES);
    st->listeners = UINT32_MAX;
  }
  s->gens_delivered = s->gens_bad = UINT64_MAX / 2;
  s->nstripes = SC_PEERJSON_STRIPES_MAX;
  for (unsigned i = 0; i < SC_PEERJSON_STRIPES_MAX; i++) {
    sc_peerjson_stripe *t = &s->stripes[i];
    t->wanted = t->attached = t->has_parent = true;
    memset(t->parent.addr, '9', SC_PEERJSON_ADDR_MAX_BYTES);
    t->nchildren = UINT32_MAX;
    for (unsigned c = 0; c < SC_PEERJSON_CHILDREN_MAX; c++)
      memset(t->children[c].addr, '9', SC_PEERJSON_ADDR_MAX_BYTES);
    t->chunks_in = t->chunks_out = t->chunks_missed = UINT64_MAX;
    t->in_per_s = t->out_per_s = 1e15;
  }
  s->sample_period_s = 1e15;
  s->nsamples = SC_PEERJSON_SAMPLES_MAX;
  for (unsigned i = 0; i < SC_PEERJSON_SAMPLES_MAX; i++)
    s->samples[i] = (sc_peerjson_sample){
        .age_s = 1e15, .gens = UINT64_MAX / 2, .gens_bad = UINT64_MAX / 2};
}

static void test_largest_fits(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  largest_snapshot(&s);
  static char out[SC_PEERJSON_MAX_BYTES];
  int n = sc_peerjson_render(&s, out, sizeof out);
  assert_true(n > 0);
  assert_true((size_t)n < sizeof out);
  assert_true(json_valid(out, (size_t)n));
}

/* A buffer one byte short of the document, or any shorter: SC_ERR_NOBUF,
 * a NUL-terminated prefix, nothing written past cap. */
static void test_nobuf(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  small_snapshot(&s);
  strcpy(s.stations[0].title, "\x01\xff\xc3\xa9");
  static char full[SC_PEERJSON_MAX_BYTES];
  int n = sc_peerjson_render(&s, full, sizeof full);
  assert_true(n > 0);
  static char out[SC_PEERJSON_MAX_BYTES + 1];
  for (size_t cap = 1; cap <= (size_t)n; cap++) {
    memset(out, 'Z', sizeof out);
    assert_int_equal(sc_peerjson_render(&s, out, cap), SC_ERR_NOBUF);
    assert_true(strlen(out) < cap);
    assert_memory_equal(out, full, strlen(out));
    assert_int_equal(out[cap], 'Z');
  }
  memset(out, 'Z', sizeof out);
  assert_int_equal(sc_peerjson_render(&s, out, (size_t)n + 1), n);
  assert_string_equal(out, full);
}

static void test_bounds(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  static char out[SC_PEERJSON_MAX_BYTES];
  small_snapshot(&s);
  assert_int_equal(sc_peerjson_render(NULL, out, sizeof out), SC_ERR_INVALID);
  assert_int_equal(sc_peerjson_render(&s, NULL, sizeof out), SC_ERR_INVALID);
  assert_int_equal(sc_peerjson_render(&s, out, 0), SC_ERR_INVALID);
  s.nstations = SC_PEERJSON_STATIONS_MAX + 1;
  assert_int_equal(sc_peerjson_render(&s, out, sizeof out), SC_ERR_INVALID);
  small_snapshot(&s);
  s.nstripes = SC_PEERJSON_STRIPES_MAX + 1;
  assert_int_equal(sc_peerjson_render(&s, out, sizeof out), SC_ERR_INVALID);
  small_snapshot(&s);
  s.nsamples = SC_PEERJSON_SAMPLES_MAX + 1;
  assert_int_equal(sc_peerjson_render(&s, out, sizeof out), SC_ERR_INVALID);
  /* Strings without their NUL are read to their array's end. */
  small_snapshot(&s);
  memset(s.addr, 'a', sizeof s.addr);
  memset(s.stations[0].title, 'b', sizeof s.stations[0].title);
  int n = sc_peerjson_render(&s, out, sizeof out);
  assert_true(n > 0);
  assert_true(json_valid(out, (size_t)n));
}

/* A rate that is not a finite, non-negative number reads 0: JSON has no
 * NaN or infinity. */
static void test_odd_numbers(void **state) {
  (void)state;
  static sc_peerjson_snapshot s;
  small_snapshot(&s);
  s.stripes[0].in_per_s = NAN;
  s.stripes[0].out_per_s = -1;
  s.stripes[1].in_per_s = INFINITY;
  s.uptime_s = -INFINITY;
  static char out[SC_PEERJSON_MAX_BYTES];
  int n = sc_peerjson_render(&s, out, sizeof out);
  assert_true(n > 0);
  assert_true(json_valid(out, (size_t)n));
  assert_non_null(strstr(out, "\"uptime_s\":0.000"));
  assert_non_null(
      strstr(out, "\"chunks_missed\":0,\"in_per_s\":0.000,\"out_per_s\":0.000"));
  assert_non_null(strstr(out, "\"chunks_missed\":1,\"in_per_s\":0.000"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_exact),  cmocka_unit_test(test_checker),
      cmocka_unit_test(test_escapes),      cmocka_unit_test(test_any_bytes_valid),
      cmocka_unit_test(test_largest_fits), cmocka_unit_test(test_nobuf),
      cmocka_unit_test(test_bounds),       cmocka_unit_test(test_odd_numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
