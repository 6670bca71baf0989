/*
 * peerjson_fuzz.c — libFuzzer target for /peer.json (http/peerjson.h): the
 * strings of a snapshot come from the network (a station's title, name,
 * content type and mount, as its source sent them), the numbers from the
 * runtime. The input fills both: its first bytes the counts and numbers (rates
 * as raw doubles, so NaN and infinities too), the rest four NUL-separated
 * strings, copied into every station, stripe address and so on.
 *
 * Asserted beyond the sanitizers: a snapshot within its bounds renders into
 * SC_PEERJSON_MAX_BYTES; the document is valid UTF-8 with no control byte,
 * its strings close and its braces and brackets nest; every shorter buffer
 * gives SC_ERR_NOBUF and a NUL-terminated prefix of the document.
 *
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I. \
 *     -fsanitize=fuzzer,address,undefined fuzz/peerjson_fuzz.c http/peerjson.c \
 *     core/id.c core/err.c
 * Seeds: fuzz/corpus/peerjson/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/peerjson.h"

#define CHECK(c)                                                                         \
  do {                                                                                   \
    if (!(c)) abort();                                                                   \
  } while (0)

typedef struct {
  const uint8_t *p;
  size_t n;
} in_t;

static uint64_t take(in_t *in, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes && in->n; i++, in->p++, in->n--)
    v |= (uint64_t)in->p[0] << (8 * i);
  return v;
}

static double take_double(in_t *in) {
  uint64_t u = take(in, 8);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* The next NUL-separated string into out (at most cap - 1 bytes). */
static void take_str(in_t *in, char *out, size_t cap) {
  size_t k = 0;
  while (in->n && in->p[0] != 0) {
    if (k + 1 < cap) out[k++] = (char)in->p[0];
    in->p++, in->n--;
  }
  if (in->n) in->p++, in->n--;
  out[k] = '\0';
}

/* Strings close, containers nest, bytes are UTF-8 without controls.
 * Not coverage-instrumented (ASan still checks it): it walks every byte of a
 * document of up to 96 KiB, and its comparisons traced per byte were a quarter
 * of the run's time while telling the fuzzer nothing about the renderer. */
__attribute__((no_sanitize("coverage"))) static void check_doc(const char *s, size_t n) {
  char stack[64];
  size_t depth = 0;
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    CHECK(c >= 0x20 && c != 0x7f);
    if (c >= 0x80) {
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      CHECK(c >= 0xc2 && c <= 0xf4 && in_str && i + len <= n);
      for (size_t k = 1; k < len; k++)
        CHECK(((unsigned char)s[i + k] & 0xc0) == 0x80);
      i += len - 1;
      continue;
    }
    if (in_str) {
      if (c == '\\') {
        CHECK(i + 1 < n && strchr("\"\\u", s[i + 1]) != NULL);
        i++;
      } else if (c == '"') {
        in_str = 0;
      }
      continue;
    }
    if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      CHECK(depth < sizeof stack);
      stack[depth++] = (char)(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      CHECK(depth > 0 && stack[--depth] == (char)c);
    }
  }
  CHECK(!in_str && depth == 0);
}

static void fill(sc_peerjson_snapshot *s, in_t *in) {
  memset(s, 0, sizeof *s);
  s->nstations = (uint32_t)(take(in, 1) % (SC_PEERJSON_STATIONS_MAX + 1));
  s->nstripes = (uint32_t)(take(in, 1) % (SC_PEERJSON_STRIPES_MAX + 1));
  s->nsamples = (uint32_t)(take(in, 1) % (SC_PEERJSON_SAMPLES_MAX + 1));
  uint32_t nchildren = (uint32_t)take(in, 4);
  double rate = take_double(in);
  s->uptime_s = take_double(in);
  s->gens_delivered = take(in, 8);
  s->gens_bad = take(in, 8);
  char str[4][SC_PEERJSON_TEXT_MAX_BYTES + 1];
  for (int i = 0; i < 4; i++)
    take_str(in, str[i], sizeof str[i]);
  memcpy(s->addr, str[3], sizeof s->addr - 1);
  for (uint32_t i = 0; i < SC_PEERJSON_STATIONS_MAX; i++) {
    sc_peerjson_station *st = &s->stations[i];
    memcpy(st->title, str[0], sizeof st->title);
    memcpy(st->name, str[1], sizeof st->name);
    memcpy(st->content_type, str[2], sizeof st->content_type);
    memcpy(st->mount, str[3], sizeof st->mount);
  }
  for (uint32_t i = 0; i < SC_PEERJSON_STRIPES_MAX; i++) {
    sc_peerjson_stripe *t = &s->stripes[i];
    t->has_parent = t->root = (i & 1) != 0;
    memcpy(t->parent.addr, str[3], sizeof t->parent.addr - 1);
    t->nchildren = nchildren;
    for (uint32_t c = 0; c < SC_PEERJSON_CHILDREN_MAX; c++)
      memcpy(t->children[c].addr, str[0], sizeof t->children[c].addr - 1);
    t->in_per_s = t->out_per_s = rate;
    t->chunks_in = s->gens_delivered;
  }
  s->sample_period_s = rate;
  for (uint32_t i = 0; i < SC_PEERJSON_SAMPLES_MAX; i++)
    s->samples[i] =
        (sc_peerjson_sample){.age_s = rate, .gens = s->gens_bad, .gens_bad = i};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sc_peerjson_snapshot s;
  static char doc[SC_PEERJSON_MAX_BYTES], cut[SC_PEERJSON_MAX_BYTES];
  in_t in = {data, size};
  fill(&s, &in);
  int n = sc_peerjson_render(&s, doc, sizeof doc);
  CHECK(n > 0 && (size_t)n < sizeof doc && doc[n] == '\0' && strlen(doc) == (size_t)n);
  check_doc(doc, (size_t)n);
  /* A few shorter buffers, chosen by the document's own length. */
  size_t caps[] = {1, (size_t)n / 2 + 1, (size_t)n};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    CHECK(sc_peerjson_render(&s, cut, caps[i]) == SC_ERR_NOBUF);
    size_t k = strlen(cut);
    CHECK(k < caps[i] && memcmp(cut, doc, k) == 0);
  }
  return 0;
}
