/*
 * test_station_runtime.c — a station's two runtime ends without the network:
 * runtime/station_source.c writes records into generations (cut here as
 * core/stream would), runtime/output.c turns generations back into what a
 * player gets. A listener from the start gets the source's bytes exactly; a
 * late one starts at a sync point after the state repeat, with the codec
 * headers first; a loss, a restart, a new session and a full output queue
 * each do what output.h says and are counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/station.h"
#include "runtime/output.h"
#include "runtime/station_source.h"

#define GEN     1024 /* generation bytes (small: many generations) */
#define GENS    4096
#define MS      1000000ull
#define FLUSH   (50 * MS)
#define STATE   (200 * MS)
#define IN_MAX  (600 * 1024)
#define OUT_MAX (4 * 1024 * 1024)

/* core/stream's cutting: a generation every GEN bytes, and on flush. */
typedef struct {
  uint8_t *gen[GENS];
  size_t len[GENS];
  size_t n;
  uint8_t cur[GEN];
  size_t fill;
  size_t flushes;
} gens;

static void gens_cut(gens *g) {
  assert_true(g->n < GENS);
  g->gen[g->n] = malloc(g->fill);
  assert_non_null(g->gen[g->n]);
  memcpy(g->gen[g->n], g->cur, g->fill);
  g->len[g->n++] = g->fill;
  g->fill = 0;
}

static int gens_write(void *user, const uint8_t *d, size_t n) {
  gens *g = user;
  while (n > 0) {
    size_t take = GEN - g->fill < n ? GEN - g->fill : n;
    memcpy(g->cur + g->fill, d, take);
    g->fill += take;
    d += take;
    n -= take;
    if (g->fill == GEN) gens_cut(g);
  }
  return SC_OK;
}

static int gens_flush(void *user) {
  gens *g = user;
  if (g->fill) {
    gens_cut(g);
    g->flushes++;
  }
  return SC_OK;
}

static void gens_free(gens *g) {
  for (size_t i = 0; i < g->n; i++)
    free(g->gen[i]);
  free(g);
}

static uint8_t *text(size_t n, char tag) {
  uint8_t *b = malloc(n);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(i % 61 == 60 ? '\n' : tag + (int)(i / 61 % 20));
  return b;
}

/* A broadcast of in[0..n) in pieces of 1..700 bytes, one every 10 ms, the
 * timers run as a host would; the end is the station's. */
static gens *broadcast(const uint8_t *in, size_t n, unsigned seed) {
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {
      .flush_ns = FLUSH, .state_every_ns = STATE, .gen_bytes = GEN, .epoch = 1234};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  uint64_t now = 1000 * MS;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "name=Test", now), 0);
  assert_true(rt_station_source_in_session(s));
  srand(seed);
  for (size_t off = 0; off < n;) {
    size_t k = 1 + (size_t)rand() % 700;
    if (k > n - off) k = n - off;
    assert_int_equal(rt_station_source_feed(s, in + off, k, now), 0);
    off += k;
    now += 10 * MS;
    if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
  }
  rt_station_source_end(s, true, now);
  assert_false(rt_station_source_in_session(s));
  rt_station_source_stats st;
  rt_station_source_get_stats(s, &st);
  assert_int_equal(st.sessions, 1);
  assert_int_equal(st.bytes_in, n);
  assert_true(st.state_repeats > 0);
  assert_int_equal(st.write_errors, 0);
  assert_int_equal(rt_station_source_media_us(s), -1); /* opaque bytes: no times */
  rt_station_source_del(s);
  return g;
}

/* An output to a fresh temporary file. */
typedef struct {
  rt_output o;
  char path[64];
} out_file;

static void out_open(out_file *f) {
  snprintf(f->path, sizeof f->path, "/tmp/test_station_rt_XXXXXX");
  int fd = mkstemp(f->path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(rt_output_open(&f->o, EV_DEFAULT, f->path, true), 0);
  rt_output_present(&f->o, 1); /* subscribed long before the broadcast */
}

static uint8_t *out_read(out_file *f, size_t *len) {
  rt_output_close(&f->o);
  FILE *fp = fopen(f->path, "rb");
  assert_non_null(fp);
  uint8_t *b = malloc(OUT_MAX);
  assert_non_null(b);
  *len = fread(b, 1, OUT_MAX, fp);
  fclose(fp);
  unlink(f->path);
  return b;
}

static void feed(rt_output *o, const gens *g, size_t from, size_t to, size_t skip) {
  for (size_t i = from; i < to; i++) {
    if (i == skip)
      rt_output_lost(o, i);
    else
      rt_output_deliver(o, i, g->gen[i], g->len[i], 0, 0);
  }
}

static bool has_at(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t n,
                   size_t *at) {
  if (n > hlen) return false;
  for (size_t i = 0; i + n <= hlen; i++)
    if (memcmp(hay + i, needle, n) == 0) {
      *at = i;
      return true;
    }
  return false;
}

static void test_from_start_exact(void **state) {
  (void)state;
  size_t n = 300 * 1024;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 1);
  /* Arrival-paced: the feed never paused a whole flush_ns, so only the
   * bound on the first byte's wait cut generations early. */
  assert_true(g->n > n / GEN);
  out_file f;
  out_open(&f);
  feed(&f.o, g, 0, g->n, SIZE_MAX);
  assert_true(f.o.ended);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  assert_int_equal(len, n);
  assert_memory_equal(got, in, n);
  assert_int_equal(f.o.st.bytes_written, n);
  assert_int_equal(f.o.st.records_dropped + f.o.st.gens_lost + f.o.st.records_cut, 0);
  assert_true(rt_output_continuity(&f.o) == 1.0);
  rt_output_free(&f.o);
  free(got);
  free(in);
  gens_free(g);
}

/* The padding the flush rule costs: a feed whose bytes come closer than
 * flush_ns apart has a generation cut only when its first byte waited
 * RT_STATION_WAIT_MAX_FLUSHES x flush_ns (not every flush_ns); when bytes
 * stop, the cut comes flush_ns after the last. */
static void test_flush_by_arrival(void **state) {
  (void)state;
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {.flush_ns = FLUSH, .gen_bytes = GEN};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  uint64_t now = 0;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, NULL, now), 0);
  assert_int_equal(rt_station_source_get_expiry(s), UINT64_MAX); /* nothing yet */
  uint8_t *probe = text(RT_STATION_PROBE_BYTES, 'a');
  assert_int_equal(rt_station_source_feed(s, probe, RT_STATION_PROBE_BYTES, now), 0);
  free(probe);
  /* 20 bytes every 20 ms (flush_ns is 50 ms) for 2 s. */
  uint8_t piece[20];
  memset(piece, 'x', sizeof piece);
  for (int i = 0; i < 100; i++) {
    now += 20 * MS;
    if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
    assert_int_equal(rt_station_source_feed(s, piece, sizeof piece, now), 0);
  }
  uint64_t bound = 2000 * MS / (RT_STATION_WAIT_MAX_FLUSHES * FLUSH) + 1;
  assert_true(g->flushes >= bound - 2 && g->flushes <= bound);
  rt_station_source_stats st;
  rt_station_source_get_stats(s, &st);
  assert_int_equal(st.flushes, g->flushes);
  /* The feed stops: cut flush_ns after its last bytes (or sooner, at the
   * wait bound). */
  assert_true(rt_station_source_get_expiry(s) <= now + FLUSH);
  size_t cut = g->n;
  rt_station_source_handle_expiry(s, now + FLUSH);
  assert_int_equal(g->n, cut + 1);
  assert_int_equal(rt_station_source_get_expiry(s), UINT64_MAX);

  /* A bursty feed (an encoder's pages): 600 bytes every 60 ms, more than
   * flush_ns apart. Its pauses are its rhythm, not its end: generations
   * fill instead of being cut at every burst. */
  size_t f0 = g->flushes;
  uint8_t burst[600];
  memset(burst, 'y', sizeof burst);
  for (int i = 0; i < 50; i++) {
    uint64_t next = now + 60 * MS;
    while (rt_station_source_get_expiry(s) <= next) {
      uint64_t t = rt_station_source_get_expiry(s);
      rt_station_source_handle_expiry(s, t > now ? t : now);
    }
    now = next;
    assert_int_equal(rt_station_source_feed(s, burst, sizeof burst, now), 0);
  }
  assert_true(g->flushes - f0 <= 3);
  rt_station_source_del(s);
  gens_free(g);
}

/* A session's state alone (INFO before the encoder's first media unit)
 * is not cut into a padded generation of its own: it waits for media, or
 * goes out with the end. */
static void test_state_alone_not_cut(void **state) {
  (void)state;
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {.flush_ns = FLUSH, .gen_bytes = GEN};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  uint64_t now = 0;
  /* A known container: INFO is written at once. */
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_MP3, "name=Test", now), 0);
  assert_int_equal(rt_station_source_get_expiry(s), UINT64_MAX);
  now += 20 * FLUSH;
  rt_station_source_handle_expiry(s, now);
  assert_int_equal(g->n, 0);
  rt_station_source_stats st;
  rt_station_source_get_stats(s, &st);
  assert_int_equal(st.flushes, 0);
  /* The end cuts it, INFO and END in one generation. */
  rt_station_source_end(s, true, now);
  assert_int_equal(g->n, 1);
  rt_station_source_del(s);
  gens_free(g);
}

static void test_late_listener(void **state) {
  (void)state;
  size_t n = 300 * 1024;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 2);
  out_file f;
  out_open(&f);
  size_t from = g->n / 3;
  /* A late listener: not present at the start. */
  f.o.present_rt_ds = 0;
  feed(&f.o, g, from, g->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  /* A suffix of the input, whole records from a sync point after the
   * INFO repeat. */
  assert_true(len > 0 && len < n);
  assert_memory_equal(got, in + (n - len), len);
  assert_int_equal(f.o.st.gens_missed_at_start, 0);
  assert_true(rt_output_continuity(&f.o) == 1.0);
  rt_output_free(&f.o);
  free(got);
  free(in);
  gens_free(g);
}

/* A late listener whose first generation lies wholly inside one long
 * record, and which reads a state fetched from a parent before the next:
 * the rest of that record, at the start of the next generation, is a late
 * start too, not a cut (continuity 1). */
static void test_late_start_inside_record(void **state) {
  (void)state;
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {
      .flush_ns = FLUSH, .state_every_ns = STATE, .gen_bytes = GEN, .epoch = 1};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  uint64_t now = 1000 * MS;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "name=T", now), 0);
  const size_t n = 12 * GEN, long_at = 4 * GEN, long_len = 3 * GEN;
  uint8_t *in = text(n, 'a');
  for (size_t off = 0; off < n; now += 10 * MS) {
    size_t k = off == long_at ? long_len : 256;
    assert_int_equal(rt_station_source_feed(s, in + off, k, now), 0);
    off += k;
    if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
  }
  static uint8_t st[8192];
  size_t stlen = rt_station_source_state(s, st, sizeof st);
  assert_true(stlen > 0);
  rt_station_source_end(s, true, now);
  /* The first generation in which no record starts. */
  size_t first = g->n;
  for (size_t i = 1; i < g->n && first == g->n; i++) {
    size_t at = (size_t)g->gen[i][0] << 24 | (size_t)g->gen[i][1] << 16 |
                (size_t)g->gen[i][2] << 8 | g->gen[i][3];
    if (at >= g->len[i]) first = i;
  }
  assert_true(first < g->n - 1);

  out_file f;
  out_open(&f);
  f.o.present_rt_ds = 0; /* not present at the start */
  rt_output_deliver(&f.o, first, g->gen[first], g->len[first], 0, now);
  rt_output_state_got(&f.o, st, stlen, NULL, 0);
  feed(&f.o, g, first + 1, g->n, SIZE_MAX);
  assert_int_equal(f.o.st.bytes_cut, 0);
  assert_true(rt_output_continuity(&f.o) == 1.0);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  /* The state's headers (none here), then a suffix of the input. */
  assert_true(len > 0 && len < n);
  assert_memory_equal(got, in + (n - len), len);
  free(got);
  rt_output_free(&f.o);
  rt_station_source_del(s);
  free(in);
  gens_free(g);
}

/* Encoder to listener: each delivered generation that wrote records adds
 * its write time minus its stamp to the histogram (1 ms bins); those that
 * wrote nothing (a late listener waiting for INFO, a record still
 * incomplete) add nothing. Media held for INFO are written with the first
 * write, whose latency is from the stamp of the generation that brought the
 * oldest of them. The first write's time is kept. */
static void test_write_latency(void **state) {
  (void)state;
  size_t n = 300 * 1024;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 3);
  out_file f;
  out_open(&f);
  f.o.present_rt_ds = 0; /* late: the first generations write nothing */
  uint32_t want[RT_OUTPUT_LAT_BINS_MS + 1] = {0};
  uint64_t first = 0, silent = 0, held_src = 0;
  for (size_t i = g->n / 3; i < g->n; i++) {
    uint64_t before = f.o.st.records_written;
    uint64_t src = 5000 * MS + i * 100 * MS;
    uint64_t now = src + (7 + i % 3) * MS + MS / 3;
    rt_output_deliver(&f.o, i, g->gen[i], g->len[i], src, now);
    if (f.o.st.records_written == before) {
      silent++;
      if (held_src == 0 && f.o.heldlen > 0) held_src = src;
      continue;
    }
    if (!first && held_src) {
      want[(now - held_src) / MS]++;
    } else {
      want[7 + i % 3]++;
    }
    if (!first) first = now;
  }
  assert_true(held_src > 0);
  assert_true(silent > 0);
  assert_true(first > 0);
  assert_int_equal(f.o.first_write_ns, first);
  assert_memory_equal(f.o.lat_ms, want, sizeof want);
  /* A stamp after the write (clocks of two hosts) counts as 0 ms. */
  size_t len;
  uint8_t *got = out_read(&f, &len);
  rt_output_free(&f.o);
  out_open(&f);
  size_t i = 0;
  while (f.o.st.records_written == 0 && i < g->n) {
    rt_output_deliver(&f.o, i, g->gen[i], g->len[i], 10000 * MS, 1000 * MS);
    i++;
  }
  assert_true(f.o.st.records_written > 0);
  assert_int_equal(f.o.lat_ms[0], 1);
  rt_output_free(&f.o);
  unlink(f.path);
  free(got);
  free(in);
  gens_free(g);
}

static void test_loss_counted(void **state) {
  (void)state;
  size_t n = 200 * 1024;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 3);
  out_file f;
  out_open(&f);
  size_t lost = g->n / 2;
  feed(&f.o, g, 0, g->n, lost);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  assert_true(len < n);
  /* What was written: the input's start, then its end, joined where the
   * whole records touching the lost generation are missing. */
  size_t pre = 0;
  while (pre < len && got[pre] == in[pre])
    pre++;
  assert_memory_equal(got + pre, in + n - (len - pre), len - pre);
  assert_int_equal(f.o.st.gens_lost, 1);
  assert_true(rt_output_continuity(&f.o) < 1.0);
  assert_true(rt_output_missed_bytes_est(&f.o) > 0);
  rt_output_free(&f.o);
  free(got);
  free(in);
  gens_free(g);
}

/* Present from the start but the first generations never came: missed,
 * and said so once INFO (repeated) tells when the broadcast began. */
static void test_missed_at_start(void **state) {
  (void)state;
  size_t n = 200 * 1024;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 4);
  out_file f;
  out_open(&f);
  feed(&f.o, g, 5, g->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  assert_int_equal(f.o.st.gens_missed_at_start, 5);
  /* The media before the INFO repeat were held and written behind it. */
  assert_int_equal(f.o.st.records_dropped, 0);
  assert_true(len > 0);
  assert_true(rt_output_continuity(&f.o) < 1.0);
  rt_output_free(&f.o);
  free(got);
  free(in);
  gens_free(g);
}

/* A new epoch (a restarted source) continues the output at once: the old
 * source's bytes, then the new one's from its start. */
static void test_restart(void **state) {
  (void)state;
  size_t na = 100 * 1024, nb = 80 * 1024;
  uint8_t *a = text(na, 'a'), *b = text(nb, 'A');
  gens *ga = broadcast(a, na, 5), *gb = broadcast(b, nb, 6);
  out_file f;
  out_open(&f);
  /* The old source dies before its END. */
  feed(&f.o, ga, 0, ga->n - 1, SIZE_MAX);
  rt_output_restarted(&f.o, false); /* a gap in one epoch changes nothing */
  rt_output_restarted(&f.o, true);
  feed(&f.o, gb, 0, gb->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  size_t at = 0;
  assert_true(has_at(got, len, b, 4096, &at));
  assert_memory_equal(got, a, at); /* the old source's start ... */
  assert_int_equal(len - at, nb);  /* ... then all of the new one */
  assert_memory_equal(got + at, b, nb);
  assert_int_equal(f.o.st.epochs, 1);
  assert_true(f.o.ended);
  rt_output_free(&f.o);
  free(got);
  free(a);
  free(b);
  gens_free(ga);
  gens_free(gb);
}

/* Records written by hand: a container with codec headers. A late
 * listener writes the headers first; a new session's headers are written
 * where they come (a chained stream), even when they repeat the bytes. */
static void test_headers(void **state) {
  (void)state;
  gens *g = calloc(1, sizeof *g);
  sc_station_writer w;
  sc_station_sink sink = {gens_write, gens_flush, g};
  assert_int_equal(sc_station_writer_init(&w, GEN, &sink), SC_OK);
#define PUT(t, s) sc_station_writer_put(&w, t, (const uint8_t *)(s), strlen(s))
  PUT(SC_STATION_INFO, "container=ogg\nsession=1\nstarted=5\n");
  PUT(SC_STATION_HEADERS, "<H1>");
  for (int i = 0; i < 300; i++)
    PUT(i % 3 ? SC_STATION_MEDIA : SC_STATION_MEDIA_SYNC, "[m1-m1-m1-m1-m1-m1-m1]");
  /* The repeat starts a generation, where the late listener starts. */
  sc_station_writer_flush(&w);
  size_t last_state = g->n;
  PUT(SC_STATION_INFO, "container=ogg\nsession=1\nstarted=5\n"); /* repeat */
  PUT(SC_STATION_HEADERS, "<H1>");
  PUT(SC_STATION_MEDIA, "[late-non-sync]");
  PUT(SC_STATION_MEDIA_SYNC, "[late-sync]");
  PUT(SC_STATION_INFO, "container=ogg\nsession=2\nstarted=5\n"); /* new session */
  PUT(SC_STATION_MEDIA_SYNC, "[before-headers]");
  PUT(SC_STATION_HEADERS, "<H1>");
  PUT(SC_STATION_MEDIA_SYNC, "[m2]");
  PUT(SC_STATION_END, "");
#undef PUT
  sc_station_writer_flush(&w);
  assert_true(last_state > 2);

  const char *want_late = "<H1>[late-sync]<H1>[before-headers][m2]";
  out_file f;
  out_open(&f);
  f.o.present_rt_ds = 0;
  feed(&f.o, g, last_state, g->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  /* The headers, then media from a sync record; the new session's media
   * that came before its headers are held and written behind them. */
  assert_int_equal(len, strlen(want_late));
  assert_memory_equal(got, want_late, len);
  assert_int_equal(f.o.st.headers_written, 2);
  assert_int_equal(f.o.st.sessions, 1);
  rt_output_free(&f.o);
  free(got);

  out_open(&f); /* from the start: headers once, not at each repeat */
  feed(&f.o, g, 0, g->n, SIZE_MAX);
  got = out_read(&f, &len);
  assert_memory_equal(got, "<H1>[m1-m1", 10);
  const char *tail = "[late-non-sync][late-sync]<H1>[before-headers][m2]";
  assert_memory_equal(got + len - strlen(tail), tail, strlen(tail));
  assert_int_equal(f.o.st.headers_written, 2);
  rt_output_free(&f.o);
  free(got);
  gens_free(g);
}

/* A session without codec headers (MP3) after one with them (Ogg): the
 * reader still holds the Ogg headers, but the MP3 session's bytes are
 * written alone, as its encoder sent them. */
static void test_headerless_session(void **state) {
  (void)state;
  gens *g = calloc(1, sizeof *g);
  sc_station_writer w;
  sc_station_sink sink = {gens_write, gens_flush, g};
  assert_int_equal(sc_station_writer_init(&w, GEN, &sink), SC_OK);
#define PUT(t, s) sc_station_writer_put(&w, t, (const uint8_t *)(s), strlen(s))
  PUT(SC_STATION_INFO, "container=ogg\nsession=1\nstarted=5\n");
  PUT(SC_STATION_HEADERS, "<H1>");
  PUT(SC_STATION_MEDIA_SYNC, "[ogg]");
  PUT(SC_STATION_INFO, "container=mp3\nsession=2\nstarted=5\n");
  PUT(SC_STATION_MEDIA_SYNC, "[mp3-a]");
  PUT(SC_STATION_MEDIA_SYNC, "[mp3-b]");
  PUT(SC_STATION_INFO, "container=mp3\nsession=2\nstarted=5\n"); /* repeat */
  PUT(SC_STATION_MEDIA_SYNC, "[mp3-c]");
  PUT(SC_STATION_INFO, "container=ogg\nsession=3\nstarted=5\n");
  PUT(SC_STATION_HEADERS, "<H3>");
  PUT(SC_STATION_MEDIA_SYNC, "[ogg3]");
  PUT(SC_STATION_END, "");
#undef PUT
  sc_station_writer_flush(&w);
  const char *want = "<H1>[ogg][mp3-a][mp3-b][mp3-c]<H3>[ogg3]";
  out_file f;
  out_open(&f);
  feed(&f.o, g, 0, g->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(got, want, len);
  assert_int_equal(f.o.st.headers_written, 2);
  assert_int_equal(f.o.st.sessions, 2);
  rt_output_free(&f.o);
  free(got);

  gens_free(g);
}

/* A reader that does not read: the pipe fills, then the queue, then whole
 * records are dropped and counted; what it reads later is the stream's
 * start and whole records after. */
static void test_paused_reader(void **state) {
  (void)state;
  size_t n = 3 * 1024 * 1024 / 2;
  uint8_t *in = text(n, 'a');
  gens *g = broadcast(in, n, 7);
  int p[2];
  assert_int_equal(pipe(p), 0);
  char path[32];
  snprintf(path, sizeof path, "/dev/fd/%d", p[1]);
  rt_output o;
  assert_int_equal(rt_output_open(&o, EV_DEFAULT, path, true), 0);
  close(p[1]);
  rt_output_present(&o, 1);
  feed(&o, g, 0, g->n, SIZE_MAX);
  assert_true(o.st.records_dropped > 0 && o.st.bytes_dropped > 0);
  assert_true(o.st.queue_max <= RT_OUTPUT_QUEUE_BYTES);
  /* Now read everything; the loop writes the queue out, END closes it. */
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  uint8_t *got = malloc(OUT_MAX);
  size_t len = 0;
  for (;;) {
    ev_run(EV_DEFAULT, EVRUN_NOWAIT);
    ssize_t k = read(p[0], got + len, OUT_MAX - len);
    if (k == 0) break;
    if (k < 0) {
      assert_true(errno == EAGAIN);
      continue;
    }
    len += (size_t)k;
  }
  close(p[0]);
  assert_int_equal(len, o.st.bytes_written);
  assert_true(len < n);
  assert_memory_equal(got, in, 4096);
  assert_true(rt_output_continuity(&o) < 1.0);
  rt_output_free(&o);
  free(got);
  free(in);
  gens_free(g);
}

/* MPEG-1 Layer III frames, 128 kbit/s at 44.1 kHz without padding: 417
 * bytes each (the header, then bytes that are not 0xff). */
#define MP3_FRAME 417
static uint8_t *mp3_frames(size_t frames) {
  uint8_t *b = malloc(frames * MP3_FRAME);
  assert_non_null(b);
  for (size_t f = 0; f < frames; f++) {
    uint8_t *p = b + f * MP3_FRAME;
    static const uint8_t hdr[4] = {0xff, 0xfb, 0x90, 0x64};
    memcpy(p, hdr, sizeof hdr);
    for (size_t i = sizeof hdr; i < MP3_FRAME; i++)
      p[i] = (uint8_t)(0x10 + (f + i) % 0x60);
  }
  return b;
}

/* Two sessions that each begin mid-frame (a relayed server's burst starts
 * anywhere): the first with its kind given, the second probed. A listener
 * present from the start writes the frames only, each session from its
 * first whole frame, and the bytes before are counted as dropped at the
 * source. */
static void test_leading_garbage(void **state) {
  (void)state;
  size_t frames = 40,
         cut = 150; /* the first session's bytes start 150 bytes into a frame */
  uint8_t *mp3 = mp3_frames(frames);
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {
      .flush_ns = FLUSH, .state_every_ns = STATE, .gen_bytes = GEN, .epoch = 1234};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  uint64_t now = 1000 * MS;
  size_t len1 = frames * MP3_FRAME - cut;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_MP3, "", now), 0);
  for (size_t off = 0; off < len1; off += 300) {
    size_t k = len1 - off < 300 ? len1 - off : 300;
    assert_int_equal(rt_station_source_feed(s, mp3 + cut + off, k, now += MS), 0);
  }
  /* The second: probed, its first 10 bytes are the end of a frame. */
  size_t cut2 = MP3_FRAME - 10, len2 = frames * MP3_FRAME - cut2;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "", now), 0);
  assert_int_equal(rt_station_source_feed(s, mp3 + cut2, len2, now += MS), 0);
  rt_station_source_end(s, true, now += MS);
  rt_station_source_stats st;
  rt_station_source_get_stats(s, &st);
  assert_int_equal(st.lead_dropped_bytes, (MP3_FRAME - cut) + 10);
  assert_int_equal(st.garbage_bytes, 0);
  assert_int_equal(st.units, 2 * (frames - 1));
  assert_int_equal(st.sync_units, st.units);
  rt_station_source_del(s);

  out_file f;
  out_open(&f);
  feed(&f.o, g, 0, g->n, SIZE_MAX);
  size_t len;
  uint8_t *got = out_read(&f, &len);
  size_t whole = (frames - 1) * MP3_FRAME;
  assert_int_equal(len, 2 * whole);
  assert_memory_equal(got, mp3 + MP3_FRAME, whole);
  assert_memory_equal(got + whole, mp3 + MP3_FRAME, whole);
  assert_int_equal(f.o.st.sessions, 1);
  assert_true(rt_output_continuity(&f.o) == 1.0);
  rt_output_free(&f.o);
  free(got);
  free(mp3);
  gens_free(g);
}

/* ------------------------------------------------------------ the page */

/* What the stream carries, counted: generations of PAGE_GEN bytes (the
 * core's default d * chunk_bytes); a cut one costs as much as a full one
 * (its chunks are padded). */
#define PAGE_GEN (12 * 1024)
typedef struct {
  uint64_t gens;
  size_t fill;
} gen_count;

static int count_write(void *user, const uint8_t *d, size_t n) {
  (void)d;
  gen_count *c = user;
  c->fill += n;
  for (; c->fill >= PAGE_GEN; c->fill -= PAGE_GEN)
    c->gens++;
  return SC_OK;
}

static int count_flush(void *user) {
  gen_count *c = user;
  if (c->fill) c->gens++;
  c->fill = 0;
  return SC_OK;
}

/* A page bundle of about len bytes (one index.html), into buf. */
static size_t page_of(uint8_t *buf, size_t len) {
  static uint8_t html[SC_STATION_PAGE_MAX];
  memset(html, 'p', sizeof html);
  sc_station_page_file f = {
      .name = "index.html", .type = SC_STATION_PAGE_HTML, .data = html, .len = len - 18};
  int n = sc_station_page_encode(&f, 1, buf, SC_STATION_PAGE_MAX);
  assert_int_equal(n, (int)len);
  return (size_t)n;
}

/* A 128 kbit/s station (160 bytes every 10 ms) for secs seconds, its state
 * repeated every 5 s (the default), with a page or none (NULL). Returns the
 * generations it took. */
static uint64_t station_128k(const uint8_t *page, size_t plen, unsigned secs,
                             rt_station_source_stats *st) {
  gen_count c = {0};
  sc_station_sink sink = {count_write, count_flush, &c};
  rt_station_source_config cfg = {.flush_ns = 500 * MS,
                                  .state_every_ns = RT_STATION_STATE_EVERY_NS,
                                  .gen_bytes = PAGE_GEN};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  if (page) assert_int_equal(rt_station_source_page(s, page, plen), SC_OK);
  uint64_t now = 1000 * MS;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "name=T", now), 0);
  uint8_t unit[160];
  memset(unit, 0x55, sizeof unit);
  for (unsigned i = 0; i < secs * 100; i++) {
    assert_int_equal(rt_station_source_feed(s, unit, sizeof unit, now), 0);
    now += 10 * MS;
    if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
  }
  rt_station_source_get_stats(s, st);
  rt_station_source_del(s);
  return c.gens;
}

/* What a page costs a 128 kbit/s station over 5 minutes: written at the
 * start and once a minute, never with every state repeat. */
static void test_page_overhead(void **state) {
  (void)state;
  static uint8_t page[SC_STATION_PAGE_MAX];
  rt_station_source_stats none, with;
  uint64_t base = station_128k(NULL, 0, 300, &none);
  assert_int_equal(none.pages, 0);
  const size_t sizes[] = {SC_STATION_PAGE_MAX, 8 * 1024, 2 * 1024};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t plen = page_of(page, sizes[i]);
    uint64_t used = station_128k(page, plen, 300, &with);
    assert_true(with.state_repeats >=
                300 * 1000000000ull / RT_STATION_STATE_EVERY_NS - 1);
    assert_int_equal(with.pages, 5); /* 0, 60, 120, 180, 240 s */
    assert_int_equal(with.page_bytes, 5 * plen);
    double kbps = (double)(used - base) * PAGE_GEN * 8 / 300 / 1000;
    print_message("page of %zu bytes: %llu generations in 300 s instead of %llu, "
                  "%.2f kbit/s, %.1f%% of a 128 kbit/s stream\n",
                  plen, (unsigned long long)used, (unsigned long long)base, kbps,
                  100.0 * (double)(used - base) / (double)base);
    assert_true(used > base);
    assert_true(kbps < 7.0);
  }
}

/* INFO says page=; the state a peer answers with carries the page; a
 * listener whose stream brought INFO but not the page asks, and takes the
 * page alone from the answer. */
static void test_page_late_listener(void **state) {
  (void)state;
  static uint8_t page[SC_STATION_PAGE_MAX];
  size_t plen = page_of(page, 1500);
  gens *g = calloc(1, sizeof *g);
  assert_non_null(g);
  sc_station_sink sink = {gens_write, gens_flush, g};
  rt_station_source_config cfg = {
      .flush_ns = FLUSH, .state_every_ns = STATE, .gen_bytes = GEN, .epoch = 1};
  rt_station_source *s;
  assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
  assert_int_equal(rt_station_source_page(s, page, plen), SC_OK);
  uint64_t now = 1000 * MS;
  assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "name=T", now), 0);
  uint8_t *in = text(64 * 1024, 'a');
  for (size_t off = 0; off < 64 * 1024; off += 256, now += 10 * MS) {
    assert_int_equal(rt_station_source_feed(s, in + off, 256, now), 0);
    if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
  }
  char v[16];
  assert_true(sc_station_info_get(rt_station_source_info(s), "page", v, sizeof v));
  assert_int_equal(strtoul(v, NULL, 10), plen);
  static uint8_t st[SC_STATION_PAGE_MAX + 8192];
  size_t stlen = rt_station_source_state(s, st, sizeof st);
  assert_true(stlen > plen);

  rt_output o;
  assert_int_equal(rt_output_open(&o, NULL, NULL, true), 0);
  for (size_t i = g->n / 2; i < g->n; i++)
    rt_output_deliver(&o, i, g->gen[i], g->len[i], 0, now);
  assert_true(o.info_seen);
  const uint8_t *got;
  size_t gotlen;
  sc_station_reader_page(o.reader, &got, &gotlen);
  assert_int_equal(gotlen, 0); /* it went by at the start only */
  assert_true(rt_output_wants_state(&o));
  rt_output_state_got(&o, st, stlen, NULL, 0);
  assert_int_equal(o.st.page_fetched, 1);
  sc_station_reader_page(o.reader, &got, &gotlen);
  assert_int_equal(gotlen, plen);
  assert_memory_equal(got, page, plen);
  assert_false(rt_output_wants_state(&o));
  rt_output_free(&o);
  rt_station_source_del(s);
  free(in);
  gens_free(g);
}

/* Whether a generation holds a record that starts after a PAGE record's
 * start: a reader older than PAGE drops the rest of the generation from the
 * PAGE on, and would lose that record. */
static bool gen_has_record_after_page(const uint8_t *g, size_t len) {
  size_t at = (size_t)g[0] << 24 | (size_t)g[1] << 16 | (size_t)g[2] << 8 | g[3];
  bool page = false;
  while (at < len) {
    if (page) return true;
    page = g[at] == SC_STATION_PAGE;
    size_t v = 0, i = at + 1;
    for (unsigned k = 0; i < len; k++) {
      v |= (size_t)(g[i] & 0x7f) << (7 * k);
      if (!(g[i++] & 0x80)) break;
    }
    at = i + v;
  }
  return false;
}

/* A page shorter than a generation and one longer, written at a session's
 * start and with later repeats: no record follows a page inside the
 * generation it starts in. */
static void test_page_ends_its_generation(void **state) {
  (void)state;
  static uint8_t page[SC_STATION_PAGE_MAX];
  const size_t sizes[] = {300, 3000};
  for (size_t k = 0; k < 2; k++) {
    size_t plen = page_of(page, sizes[k]);
    gens *g = calloc(1, sizeof *g);
    assert_non_null(g);
    sc_station_sink sink = {gens_write, gens_flush, g};
    rt_station_source_config cfg = {
        .flush_ns = FLUSH, .state_every_ns = 20000 * MS, .gen_bytes = GEN};
    rt_station_source *s;
    assert_int_equal(rt_station_source_new_sink(&s, &sink, &cfg), SC_OK);
    assert_int_equal(rt_station_source_page(s, page, plen), SC_OK);
    uint64_t now = 1000 * MS;
    assert_int_equal(rt_station_source_begin(s, SC_MEDIA_UNKNOWN, "name=T", now), 0);
    uint8_t unit[100];
    memset(unit, 0x55, sizeof unit);
    for (int i = 0; i < 20000; i++, now += 10 * MS) { /* 200 s: 4 pages */
      assert_int_equal(rt_station_source_feed(s, unit, sizeof unit, now), 0);
      if (now >= rt_station_source_get_expiry(s)) rt_station_source_handle_expiry(s, now);
    }
    rt_station_source_stats st;
    rt_station_source_get_stats(s, &st);
    assert_int_equal(st.pages, 4);
    for (size_t i = 0; i < g->n; i++)
      assert_false(gen_has_record_after_page(g->gen[i], g->len[i]));
    rt_station_source_del(s);
    gens_free(g);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_page_ends_its_generation),
      cmocka_unit_test(test_page_overhead),
      cmocka_unit_test(test_page_late_listener),
      cmocka_unit_test(test_from_start_exact),
      cmocka_unit_test(test_flush_by_arrival),
      cmocka_unit_test(test_late_listener),
      cmocka_unit_test(test_late_start_inside_record),
      cmocka_unit_test(test_write_latency),
      cmocka_unit_test(test_loss_counted),
      cmocka_unit_test(test_missed_at_start),
      cmocka_unit_test(test_restart),
      cmocka_unit_test(test_headers),
      cmocka_unit_test(test_headerless_session),
      cmocka_unit_test(test_state_alone_not_cut),
      cmocka_unit_test(test_paused_reader),
      cmocka_unit_test(test_leading_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
