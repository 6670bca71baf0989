/*
 * test_media_audio.c — the Ogg, MPEG audio and ADTS framers on streams ffmpeg
 * made (tests/data/media/README.md) and on streams damaged on purpose.
 *
 * Every test checks the framer's invariant (the units, concatenated, are the
 * input) and that feeding in small pieces cuts the same units as feeding the
 * whole stream at once.
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
#include "core/rng.h"
#include "failalloc.h"
#include "media/media.h"

#ifndef SC_MEDIA_DATA_DIR
#error "SC_MEDIA_DATA_DIR must name tests/data/media"
#endif

enum { PIECE_MAX = 1000, PIECE_SEED = 20261207 };

/* --- helpers --- */

typedef struct {
  size_t off, len;
  uint32_t flags;
  int64_t end_us;
} unit_rec;

typedef struct {
  sc_media_framer *f;
  uint8_t *bytes; /* every unit, concatenated */
  size_t len, cap;
  unit_rec *units;
  size_t n, ucap;
  unsigned new_headers;
  /* The header set as it stood after the last HEADER unit. */
  uint8_t *headers;
  size_t headerslen;
} run_out;

static void on_unit(void *user, const sc_media_unit *u) {
  run_out *r = user;
  if (r->len + u->datalen > r->cap) {
    r->cap = (r->len + u->datalen) * 2;
    r->bytes = realloc(r->bytes, r->cap);
    assert_non_null(r->bytes);
  }
  if (r->n == r->ucap) {
    r->ucap = r->ucap ? r->ucap * 2 : 64;
    r->units = realloc(r->units, r->ucap * sizeof *r->units);
    assert_non_null(r->units);
  }
  assert_true(u->datalen > 0);
  r->units[r->n++] = (unit_rec){r->len, u->datalen, u->flags, u->end_us};
  memcpy(r->bytes + r->len, u->data, u->datalen);
  r->len += u->datalen;
  if (u->flags & SC_MEDIA_UNIT_NEW_HEADERS) r->new_headers++;
  if (u->flags & SC_MEDIA_UNIT_HEADER) {
    const uint8_t *h;
    size_t hl;
    sc_media_framer_headers(r->f, &h, &hl);
    free(r->headers);
    r->headers = malloc(hl + 1);
    assert_non_null(r->headers);
    if (hl) memcpy(r->headers, h, hl);
    r->headerslen = hl;
  }
}

static void run_free(run_out *r) {
  sc_media_framer_del(r->f);
  free(r->bytes);
  free(r->units);
  free(r->headers);
  memset(r, 0, sizeof *r);
}

/* Frames data (whole when seed is 0, else in pieces of 1..PIECE_MAX bytes),
 * flushes, and checks the invariant and the counters. */
static void run(run_out *r, sc_media_kind kind, const uint8_t *data, size_t len,
                uint64_t seed) {
  memset(r, 0, sizeof *r);
  assert_int_equal(sc_media_framer_new(&r->f, kind, NULL), SC_OK);
  sc_rng rng;
  sc_rng_seed(&rng, seed);
  for (size_t off = 0; off < len;) {
    size_t piece = seed ? 1 + sc_rng_below(&rng, PIECE_MAX) : len;
    if (piece > len - off) piece = len - off;
    assert_int_equal(sc_media_framer_feed(r->f, data + off, piece, on_unit, r), SC_OK);
    off += piece;
  }
  sc_media_framer_flush(r->f, on_unit, r);
  assert_int_equal(r->len, len);
  assert_memory_equal(r->bytes, data, len);
  const sc_media_stats *st = sc_media_framer_stats(r->f);
  uint64_t sync = 0, header = 0, garbage = 0;
  for (size_t i = 0; i < r->n; i++) {
    sync += !!(r->units[i].flags & SC_MEDIA_UNIT_SYNC);
    header += !!(r->units[i].flags & SC_MEDIA_UNIT_HEADER);
    if (r->units[i].flags & SC_MEDIA_UNIT_GARBAGE) garbage += r->units[i].len;
  }
  assert_int_equal(st->bytes, len);
  assert_int_equal(st->units, r->n);
  assert_int_equal(st->sync_units, sync);
  assert_int_equal(st->header_units, header);
  assert_int_equal(st->garbage_bytes, garbage);
  assert_int_equal(st->header_sets, r->new_headers);
}

/* The units of a and b, with adjacent garbage merged, are the same. */
static void assert_same_units(const run_out *a, const run_out *b) {
  size_t i = 0, j = 0;
  while (i < a->n && j < b->n) {
    const unit_rec *u = &a->units[i], *v = &b->units[j];
    assert_int_equal(u->off, v->off);
    assert_int_equal(u->flags, v->flags);
    if (u->flags & SC_MEDIA_UNIT_GARBAGE) {
      size_t ue = u->off + u->len, ve = v->off + v->len;
      while (ue != ve) {
        if (ue < ve) {
          assert_true(++i < a->n && (a->units[i].flags & SC_MEDIA_UNIT_GARBAGE));
          ue += a->units[i].len;
        } else {
          assert_true(++j < b->n && (b->units[j].flags & SC_MEDIA_UNIT_GARBAGE));
          ve += b->units[j].len;
        }
      }
    } else {
      assert_int_equal(u->len, v->len);
      assert_int_equal(u->end_us, v->end_us);
    }
    i++, j++;
  }
  assert_int_equal(i, a->n);
  assert_int_equal(j, b->n);
}

/* Whole and in pieces: the same units either way. */
static void run_both(run_out *r, sc_media_kind kind, const uint8_t *data, size_t len) {
  run_out p;
  run(r, kind, data, len, 0);
  run(&p, kind, data, len, PIECE_SEED);
  assert_same_units(r, &p);
  assert_int_equal(r->headerslen, p.headerslen);
  if (r->headerslen) assert_memory_equal(r->headers, p.headers, r->headerslen);
  run_free(&p);
}

static uint8_t *load(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", SC_MEDIA_DATA_DIR, name);
  FILE *fp = fopen(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)n + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
  fclose(fp);
  *len = (size_t)n;
  return data;
}

/* An Ogg page's length by the RFC 3533 layout, computed here independently. */
static size_t ogg_page_len(const uint8_t *p) {
  size_t n = 27u + p[26];
  for (unsigned i = 0; i < p[26]; i++)
    n += p[27 + i];
  return n;
}

/* The bytes of the first k pages. */
static size_t ogg_pages_len(const uint8_t *data, unsigned k) {
  size_t off = 0;
  for (unsigned i = 0; i < k; i++)
    off += ogg_page_len(data + off);
  return off;
}

/* Ogg's CRC bit by bit from its definition (RFC 3533 §6), independent of the
 * framer's table. */
static uint32_t ogg_crc_bitwise(const uint8_t *p, size_t n) {
  uint32_t crc = 0;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint32_t)p[i] << 24;
    for (int b = 0; b < 8; b++)
      crc = crc & 0x80000000u ? crc << 1 ^ 0x04c11db7u : crc << 1;
  }
  return crc;
}

static void ogg_set_crc(uint8_t *page) {
  size_t n = ogg_page_len(page);
  memset(page + 22, 0, 4);
  uint32_t crc = ogg_crc_bitwise(page, n);
  for (int i = 0; i < 4; i++)
    page[22 + i] = (uint8_t)(crc >> (8 * i));
}

/* Builds one page: packets given by their lengths; cont marks a continued
 * first packet; a packet with length > last makes a 255-lacing tail (the
 * packet goes on in the next page). CRC filled. Returns the page length. */
static size_t ogg_build(uint8_t *out, uint8_t flags, uint32_t serial, uint32_t seq,
                        const uint8_t *body, const size_t *plen, unsigned npk,
                        bool open_last) {
  uint8_t lacing[255];
  unsigned nseg = 0;
  size_t bodylen = 0;
  for (unsigned i = 0; i < npk; i++) {
    size_t n = plen[i];
    bodylen += n;
    while (n >= 255) {
      lacing[nseg++] = 255;
      n -= 255;
    }
    if (!(open_last && i == npk - 1))
      lacing[nseg++] = (uint8_t)n;
    else
      assert_int_equal(n, 0); /* an open packet's page part is whole segments */
  }
  memcpy(out, "OggS", 4);
  out[4] = 0;
  out[5] = flags;
  memset(out + 6, 0, 8);
  for (int i = 0; i < 4; i++) {
    out[14 + i] = (uint8_t)(serial >> (8 * i));
    out[18 + i] = (uint8_t)(seq >> (8 * i));
  }
  out[26] = (uint8_t)nseg;
  memcpy(out + 27, lacing, nseg);
  memcpy(out + 27 + nseg, body, bodylen);
  ogg_set_crc(out);
  return 27 + nseg + bodylen;
}

/* Garbage with no byte a framer could take for a sync: no 'O' (Ogg) and no
 * 0xff (MPEG audio, ADTS). */
static void make_garbage(uint8_t *g, size_t n, uint64_t seed) {
  sc_rng rng;
  sc_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    g[i] = (uint8_t)sc_rng_next(&rng);
    if (g[i] == 'O' || g[i] == 0xff) g[i] = 0;
  }
}

static size_t count_flag(const run_out *r, uint32_t flag) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++)
    n += (r->units[i].flags & flag) != 0;
  return n;
}

/* The first data unit with SYNC at or after the middle of the stream. */
static size_t middle_sync(const run_out *r) {
  for (size_t i = 0; i < r->n; i++)
    if (r->units[i].off >= r->len / 2 && (r->units[i].flags & SC_MEDIA_UNIT_SYNC))
      return i;
  fail_msg("no sync unit after the middle");
  return 0;
}

/* --- the samples --- */

typedef struct {
  const char *file;
  sc_media_kind kind;
  unsigned header_pages; /* Ogg: pages in the (last) header set */
  unsigned header_sets;
  int64_t last_end_us; /* the last unit's end, -1: only check it is positive */
} sample;

static const sample samples[] = {
    {"opus.opus", SC_MEDIA_OGG, 2, 1, 3000000},
    {"vorbis.ogg", SC_MEDIA_OGG, 2, 1, 3000000},
    {"flac.oga", SC_MEDIA_OGG, 2, 1, 1000000},
    {"speex.spx", SC_MEDIA_OGG, 2, 1, -1},
    {"theora.ogv", SC_MEDIA_OGG, 4, 1, -1},
    {"chained.opus", SC_MEDIA_OGG, 2, 2, 5000000},
    {"mp3.mp3", SC_MEDIA_MP3, 0, 0, -1},
    {"aac.aac", SC_MEDIA_AAC, 0, 0, -1},
};

static void test_samples(void **state) {
  (void)state;
  for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
    const sample *sm = &samples[s];
    size_t len;
    uint8_t *data = load(sm->file, &len);
    assert_int_equal(sc_media_probe(data, len), sm->kind);
    run_out r;
    run_both(&r, sm->kind, data, len);
    const sc_media_stats *st = sc_media_framer_stats(r.f);
    assert_int_equal(st->garbage_bytes, 0);
    assert_int_equal(st->header_sets, sm->header_sets);
    assert_true(st->sync_units > 0);
    /* The header set is exactly the header pages: the first ones of the file
     * or, chained, of the last link. */
    const uint8_t *h;
    size_t hl;
    sc_media_framer_headers(r.f, &h, &hl);
    if (sm->kind == SC_MEDIA_OGG) {
      size_t link = 0;
      for (size_t i = 0; i < r.n; i++)
        if (r.units[i].flags & SC_MEDIA_UNIT_NEW_HEADERS) link = r.units[i].off;
      size_t want = ogg_pages_len(data + link, sm->header_pages);
      assert_int_equal(hl, want);
      assert_memory_equal(h, data + link, want);
      /* and every header unit is a whole page of the set, in order */
      size_t k = 0;
      for (size_t i = 0; i < r.n; i++)
        if ((r.units[i].flags & SC_MEDIA_UNIT_HEADER) && r.units[i].off >= link) {
          assert_int_equal(r.units[i].off, link + k);
          k += r.units[i].len;
        }
      assert_int_equal(k, want);
    } else {
      assert_int_equal(hl, 0);
      assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_HEADER), 0);
    }
    /* Media time only grows and ends where the stream does. */
    int64_t last = -1;
    for (size_t i = 0; i < r.n; i++)
      if (r.units[i].end_us >= 0) {
        assert_true(r.units[i].end_us >= last);
        last = r.units[i].end_us;
      }
    if (sm->last_end_us >= 0)
      assert_int_equal(last, sm->last_end_us);
    else
      assert_true(last > 0);
    run_free(&r);
    free(data);
  }
}

/* Audio frames: every frame is a sync unit; MP3's ID3v2 tag is one unit. */
static void test_frames(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = load("mp3.mp3", &len);
  run_out r;
  run_both(&r, SC_MEDIA_MP3, data, len);
  size_t tag = 10 + ((size_t)data[6] << 21 | (size_t)data[7] << 14 |
                     (size_t)data[8] << 7 | data[9]);
  assert_int_equal(r.units[0].len, tag);
  assert_int_equal(r.units[0].flags, 0);
  assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC), r.n - 1);
  /* MPEG-2 layer III at 22.05 kHz: 576 samples a frame */
  assert_int_equal(r.units[r.n - 1].end_us, (int64_t)(r.n - 1) * 576 * 1000000 / 22050);
  run_free(&r);
  free(data);

  data = load("aac.aac", &len);
  run_both(&r, SC_MEDIA_AAC, data, len);
  assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC), r.n);
  assert_int_equal(r.units[r.n - 1].end_us, (int64_t)r.n * 1024 * 1000000 / 22050);
  run_free(&r);
  free(data);
}

/* Inserts g[0..glen) into data at off. */
static uint8_t *splice(const uint8_t *data, size_t len, size_t off, const uint8_t *g,
                       size_t glen) {
  uint8_t *out = malloc(len + glen);
  assert_non_null(out);
  memcpy(out, data, off);
  memcpy(out + off, g, glen);
  memcpy(out + off + glen, data + off, len - off);
  return out;
}

/* Garbage between two units is counted, and every unit after it is found
 * again; garbage inside an Ogg page costs that page too. */
static void test_garbage(void **state) {
  (void)state;
  enum { GLEN = 777 };
  uint8_t g[GLEN];
  make_garbage(g, GLEN, 7);
  for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
    const sample *sm = &samples[s];
    size_t len;
    uint8_t *data = load(sm->file, &len);
    run_out clean, r;
    run(&clean, sm->kind, data, len, 0);
    size_t at = middle_sync(&clean);
    size_t off = clean.units[at].off;

    uint8_t *bad = splice(data, len, off, g, GLEN);
    run_both(&r, sm->kind, bad, len + GLEN);
    assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, GLEN);
    /* The same units as the clean stream, shifted, around one garbage unit
     * (the fixed-size ends of the units are the only candidates it has). */
    assert_int_equal(r.n, clean.n + 1);
    for (size_t i = 0; i < clean.n; i++) {
      const unit_rec *u = &r.units[i < at ? i : i + 1];
      assert_int_equal(u->len, clean.units[i].len);
      assert_int_equal(u->flags, clean.units[i].flags);
    }
    assert_int_equal(r.units[at].flags, SC_MEDIA_UNIT_GARBAGE);
    run_free(&r);
    free(bad);

    if (sm->kind == SC_MEDIA_OGG) {
      /* Inside a page: the page fails its CRC and is garbage with it. */
      size_t plen = clean.units[at].len;
      bad = splice(data, len, off + plen / 2, g, GLEN);
      run_both(&r, sm->kind, bad, len + GLEN);
      assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, GLEN + plen);
      assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC),
                       count_flag(&clean, SC_MEDIA_UNIT_SYNC) - 1);
      assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_HEADER),
                       count_flag(&clean, SC_MEDIA_UNIT_HEADER));
      run_free(&r);
      free(bad);
    }
    /* Garbage before the first unit. An ID3 tag is only believed at the
     * start of the stream or after a frame (a false "ID3" in garbage must not
     * swallow the stream), so after garbage the MP3 sample's tag is garbage
     * too. */
    bad = splice(data, len, 0, g, GLEN);
    run_both(&r, sm->kind, bad, len + GLEN);
    size_t lost = sm->kind == SC_MEDIA_MP3 ? clean.units[0].len : 0;
    assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, GLEN + lost);
    assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC),
                     count_flag(&clean, SC_MEDIA_UNIT_SYNC));
    run_free(&r);
    free(bad);
    run_free(&clean);
    free(data);
  }
}

/* One flipped bit makes an Ogg page fail its CRC: that page, and only it, is
 * garbage. */
static void test_crc(void **state) {
  (void)state;
  const char *files[] = {"opus.opus", "vorbis.ogg", "flac.oga"};
  for (size_t s = 0; s < 3; s++) {
    size_t len;
    uint8_t *data = load(files[s], &len);
    run_out clean, r;
    run(&clean, SC_MEDIA_OGG, data, len, 0);
    size_t at = middle_sync(&clean);
    const unit_rec *page = &clean.units[at];
    /* a bit of the body, of the granule position, of the CRC field itself */
    const size_t where[] = {page->len - 1, 6, 23};
    for (size_t w = 0; w < 3; w++) {
      data[page->off + where[w]] ^= 0x10;
      run_both(&r, SC_MEDIA_OGG, data, len);
      assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, page->len);
      assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC),
                       count_flag(&clean, SC_MEDIA_UNIT_SYNC) - 1);
      run_free(&r);
      data[page->off + where[w]] ^= 0x10;
    }
    /* Fixing the CRC (computed bit by bit here) makes the page good again:
     * the framer's CRC is Ogg's. */
    data[page->off + page->len - 1] ^= 0x10;
    ogg_set_crc(data + page->off);
    run_both(&r, SC_MEDIA_OGG, data, len);
    assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, 0);
    assert_int_equal(r.n, clean.n);
    run_free(&r);
    run_free(&clean);
    free(data);
  }
}

/* Two Opus streams one after the other: two header sets, and after the second
 * BOS page the headers are the second stream's. */
static void test_chained(void **state) {
  (void)state;
  size_t len, len1, len2;
  uint8_t *data = load("chained.opus", &len);
  uint8_t *one = load("opus.opus", &len1);
  uint8_t *two = load("opus2.opus", &len2);
  assert_int_equal(len, len1 + len2);
  run_out r;
  run_both(&r, SC_MEDIA_OGG, data, len);
  assert_int_equal(r.new_headers, 2);
  assert_int_equal(sc_media_framer_stats(r.f)->header_sets, 2);
  size_t second = 0;
  for (size_t i = 0; i < r.n; i++)
    if (r.units[i].flags & SC_MEDIA_UNIT_NEW_HEADERS) second = i;
  assert_int_equal(r.units[second].off, len1);
  size_t h2 = ogg_pages_len(two, 2);
  assert_int_equal(r.headerslen, h2);
  assert_memory_equal(r.headers, two, h2);
  /* Media time goes on across the link: the second link starts at the first
   * one's end. */
  assert_int_equal(r.units[second - 1].end_us, 3000000);
  char line[64];
  assert_int_equal(sc_media_now_playing(r.headers, r.headerslen, line, sizeof line),
                   (int)strlen("Second Artist - Second Title"));
  assert_string_equal(line, "Second Artist - Second Title");
  run_free(&r);

  /* The same with both links using serial 0 (as `-fflags +bitexact` makes
   * two separate files): the BOS page after the EOS page still starts a link. */
  uint8_t *same = malloc(len);
  assert_non_null(same);
  memcpy(same, data, len);
  for (size_t off = len1; off < len; off += ogg_page_len(same + off)) {
    memset(same + off + 14, 0, 4);
    ogg_set_crc(same + off);
  }
  run_both(&r, SC_MEDIA_OGG, same, len);
  assert_int_equal(r.new_headers, 2);
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, 0);
  run_free(&r);
  free(same);
  free(data);
  free(one);
  free(two);
}

/* Theora and Vorbis in one link: sync units are the pages where a Theora
 * keyframe begins (one every 5 frames: 4 in 20), never a Vorbis page. */
static void test_theora(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = load("theora.ogv", &len);
  run_out r;
  run_both(&r, SC_MEDIA_OGG, data, len);
  assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC), 4);
  assert_memory_equal(data + 29, "theora", 6); /* the first BOS is Theora's */
  for (size_t i = 0; i < r.n; i++)
    if (r.units[i].flags & SC_MEDIA_UNIT_SYNC)
      assert_memory_equal(data + r.units[i].off + 14, data + 14, 4);
  char line[64];
  assert_true(sc_media_now_playing(r.headers, r.headerslen, line, sizeof line) > 0);
  assert_string_equal(line, "Test Artist - Test Title");
  run_free(&r);
  free(data);
}

/* Ogg FLAC whose mapping header says "unknown number of header packets": the
 * last-metadata-block flag ends the headers instead. */
static void test_flac_unknown_count(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = load("flac.oga", &len);
  assert_int_equal(data[28], 0x7f);
  assert_int_equal(data[28 + 7] << 8 | data[28 + 8], 1);
  data[28 + 8] = 0;
  ogg_set_crc(data);
  run_out r;
  run_both(&r, SC_MEDIA_OGG, data, len);
  assert_int_equal(r.headerslen, ogg_pages_len(data, 2));
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, 0);
  run_free(&r);
  free(data);
}

/* A lost header page (here: cut out of the stream) does not pull data pages
 * into the header set: the first data page still ends the headers. */
static void test_lost_header_page(void **state) {
  (void)state;
  const char *files[] = {"opus.opus", "vorbis.ogg", "flac.oga", "theora.ogv"};
  for (size_t s = 0; s < 4; s++) {
    size_t len;
    uint8_t *data = load(files[s], &len);
    run_out clean, r;
    run(&clean, SC_MEDIA_OGG, data, len, 0);
    /* Drop the last header page. */
    size_t last = 0;
    for (size_t i = 0; i < clean.n; i++)
      if (clean.units[i].flags & SC_MEDIA_UNIT_HEADER) last = i;
    size_t off = clean.units[last].off, plen = clean.units[last].len;
    memmove(data + off, data + off + plen, len - off - plen);
    run_both(&r, SC_MEDIA_OGG, data, len - plen);
    assert_int_equal(r.headerslen, off);
    assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_HEADER), last);
    assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC),
                     count_flag(&clean, SC_MEDIA_UNIT_SYNC));
    run_free(&r);
    run_free(&clean);
    free(data);
  }
}

/* --- now playing --- */

static size_t put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
  return 4;
}

/* OpusTags with the given fields. */
static size_t opus_tags(uint8_t *p, const char *const *fields, unsigned n) {
  size_t k = 0;
  memcpy(p, "OpusTags", 8);
  k += 8;
  k += put_le32(p + k, 3);
  memcpy(p + k, "enc", 3);
  k += 3;
  k += put_le32(p + k, n);
  for (unsigned i = 0; i < n; i++) {
    size_t fl = strlen(fields[i]);
    k += put_le32(p + k, (uint32_t)fl);
    memcpy(p + k, fields[i], fl);
    k += fl;
  }
  return k;
}

static size_t opus_head(uint8_t *p) {
  memset(p, 0, 19);
  memcpy(p, "OpusHead", 8);
  p[8] = 1;                   /* version */
  p[9] = 1;                   /* channels */
  p[10] = 0x38, p[11] = 0x01; /* pre-skip 312 */
  return 19;
}

static void test_now_playing(void **state) {
  (void)state;
  uint8_t hdr[4096], pk[2048];
  char line[SC_MEDIA_NOW_PLAYING_MAX + 16];
  size_t n = 0, pl;

  /* Keys in any case, control characters made spaces, a cut backing off to a
   * UTF-8 character's start. */
  const char *f1[] = {"encoder=x",
                      "title=\xc3\x9c"
                      "ber\nall",
                      "ARTIST=A\x01"
                      "B",
                      "TITLE=second"};
  pl = opus_head(pk);
  n += ogg_build(hdr + n, 0x02, 5, 0, pk, &pl, 1, false);
  pl = opus_tags(pk, f1, 4);
  n += ogg_build(hdr + n, 0, 5, 1, pk, &pl, 1, false);
  assert_int_equal(sc_media_now_playing(hdr, n, line, sizeof line), 15);
  assert_string_equal(line, "A B - \xc3\x9c"
                            "ber all");
  assert_int_equal(sc_media_now_playing(hdr, n, line, 8), 6);
  assert_string_equal(line, "A B - ");
  assert_int_equal(sc_media_now_playing(hdr, n, line, 9), 8);
  assert_string_equal(line, "A B - \xc3\x9c");
  assert_int_equal(sc_media_now_playing(hdr, n, line, 1), 0);
  assert_string_equal(line, "");
  /* Every prefix of the set: never a read past it, never a crash. */
  for (size_t cut = 0; cut < n; cut++) {
    int rc = sc_media_now_playing(hdr, cut, line, sizeof line);
    assert_true(rc == SC_ERR_NOT_FOUND || (rc >= 0 && (size_t)rc == strlen(line)));
  }

  /* A comment packet that spans two pages (the title is 600 bytes long):
   * only the first 512 bytes of a value are kept. */
  char longtitle[7 + 600 + 1];
  memcpy(longtitle, "TITLE=", 6);
  memset(longtitle + 6, 'x', 600);
  longtitle[606] = '\0';
  const char *f2[] = {longtitle};
  n = 0;
  pl = opus_head(pk);
  n += ogg_build(hdr + n, 0x02, 9, 0, pk, &pl, 1, false);
  size_t tl = opus_tags(pk, f2, 1);
  size_t part = 2 * 255;
  n += ogg_build(hdr + n, 0, 9, 1, pk, &part, 1, true);
  size_t rest = tl - part;
  n += ogg_build(hdr + n, 0x01, 9, 2, pk + part, &rest, 1, false);
  int got = sc_media_now_playing(hdr, n, line, sizeof line);
  assert_int_equal(got, 512);
  for (int i = 0; i < got; i++)
    assert_int_equal(line[i], 'x');

  /* Neither field, no headers, an MP3 stream's (empty) headers, garbage. */
  const char *f3[] = {"ALBUM=x", "ARTISTS=y"};
  n = 0;
  pl = opus_head(pk);
  n += ogg_build(hdr + n, 0x02, 5, 0, pk, &pl, 1, false);
  pl = opus_tags(pk, f3, 2);
  n += ogg_build(hdr + n, 0, 5, 1, pk, &pl, 1, false);
  assert_int_equal(sc_media_now_playing(hdr, n, line, sizeof line), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_media_now_playing(NULL, 0, line, sizeof line), SC_ERR_NOT_FOUND);
  memset(hdr, 0xab, 100);
  assert_int_equal(sc_media_now_playing(hdr, 100, line, sizeof line), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_media_now_playing(hdr, 100, NULL, 10), SC_ERR_INVALID);
  assert_int_equal(sc_media_now_playing(hdr, 100, line, 0), SC_ERR_INVALID);

  /* From each sample's kept headers. */
  const char *files[] = {"opus.opus", "vorbis.ogg", "flac.oga", "speex.spx"};
  for (size_t s = 0; s < 4; s++) {
    size_t len;
    uint8_t *data = load(files[s], &len);
    run_out r;
    run(&r, SC_MEDIA_OGG, data, len, 0);
    assert_int_equal(sc_media_now_playing(r.headers, r.headerslen, line, sizeof line),
                     24);
    assert_string_equal(line, "Test Artist - Test Title");
    run_free(&r);
    free(data);
  }
}

/* --- MPEG audio and ADTS damage --- */

static void test_mp3_damage(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = load("mp3.mp3", &len);
  run_out clean, r;
  run(&clean, SC_MEDIA_MP3, data, len, 0);
  size_t at = middle_sync(&clean);
  const unit_rec *fr = &clean.units[at];

  /* A free-format header (bitrate index 0) cannot be cut: that frame is
   * garbage, and the next one is found again. */
  uint8_t saved = data[fr->off + 2];
  data[fr->off + 2] &= 0x0f;
  run_both(&r, SC_MEDIA_MP3, data, len);
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, fr->len);
  assert_int_equal(r.n, clean.n);
  data[fr->off + 2] = saved;
  run_free(&r);

  /* A false sync: an MPEG-1 header in the garbage whose "next frame" is not
   * one. Garbage, whole. */
  uint8_t g[504];
  memset(g, 0, sizeof g);
  g[0] = 0xff, g[1] = 0xfb, g[2] = 0x90, g[3] = 0x00; /* 417 bytes, 44.1 kHz */
  uint8_t *bad = splice(data, len, fr->off, g, sizeof g);
  run_both(&r, SC_MEDIA_MP3, bad, len + sizeof g);
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, sizeof g);
  assert_int_equal(r.n, clean.n + 1);
  run_free(&r);
  free(bad);

  /* A large tag (cover art) passes in 64 KiB units; the frames follow. */
  size_t big = 100000, tl = 10 + big;
  uint8_t *tagged = malloc(tl + len);
  assert_non_null(tagged);
  memcpy(tagged, "ID3\x03\x00\x00", 6);
  tagged[6] = (uint8_t)(big >> 21 & 0x7f), tagged[7] = (uint8_t)(big >> 14 & 0x7f);
  tagged[8] = (uint8_t)(big >> 7 & 0x7f), tagged[9] = (uint8_t)(big & 0x7f);
  memset(tagged + 10, 0xff, big); /* sync words everywhere: none may be taken */
  memcpy(tagged + tl, data, len);
  run_both(&r, SC_MEDIA_MP3, tagged, tl + len);
  assert_int_equal(r.units[0].len, 65536);
  assert_int_equal(r.units[1].len, tl - 65536);
  assert_int_equal(r.units[0].flags | r.units[1].flags, 0);
  assert_int_equal(r.n, clean.n + 2);
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, 0);
  assert_int_equal(sc_media_probe(tagged, tl + len), SC_MEDIA_MP3);
  run_free(&r);
  free(tagged);

  /* Cut short: the partial last frame is garbage after the flush. */
  const unit_rec *last = &clean.units[clean.n - 1];
  run_both(&r, SC_MEDIA_MP3, data, len - last->len / 2);
  assert_int_equal(sc_media_framer_stats(r.f)->garbage_bytes, last->len - last->len / 2);
  run_free(&r);
  run_free(&clean);
  free(data);
}

static void test_probe(void **state) {
  (void)state;
  size_t alen, mlen;
  uint8_t *aac = load("aac.aac", &alen);
  uint8_t *mp3 = load("mp3.mp3", &mlen);
  /* An ID3 tag followed by ADTS is AAC; the tag alone says MPEG audio. */
  size_t tag =
      10 + ((size_t)mp3[6] << 21 | (size_t)mp3[7] << 14 | (size_t)mp3[8] << 7 | mp3[9]);
  uint8_t *both = splice(aac, alen, 0, mp3, tag);
  assert_int_equal(sc_media_probe(both, alen + tag), SC_MEDIA_AAC);
  assert_int_equal(sc_media_probe(mp3, tag), SC_MEDIA_MP3);
  run_out r;
  run_both(&r, SC_MEDIA_AAC, both, alen + tag);
  assert_int_equal(r.units[0].len, tag);
  assert_int_equal(count_flag(&r, SC_MEDIA_UNIT_SYNC), r.n - 1);
  run_free(&r);
  free(both);
  uint8_t junk[256];
  make_garbage(junk, sizeof junk, 3);
  assert_int_equal(sc_media_probe(junk, sizeof junk), SC_MEDIA_UNKNOWN);
  assert_int_equal(sc_media_probe(junk, 0), SC_MEDIA_UNKNOWN);
  assert_int_equal(sc_media_probe(NULL, 0), SC_MEDIA_UNKNOWN);
  /* A sync word whose next frame disagrees is not enough. */
  memcpy(junk, mp3 + tag, 4);
  assert_int_equal(sc_media_probe(junk, sizeof junk), SC_MEDIA_UNKNOWN);
  free(aac);
  free(mp3);
}

/* An allocation fails (the framer, its state, its buffer, the header set):
 * the call that needed it says so or, for the header set, the set is dropped;
 * nothing leaks, and no unit is emitted twice or lost before the failure. */
static void test_nomem(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = load("opus.opus", &len);
  bool feed_failed = false;
  for (long k = 0; k < 8; k++) {
    failalloc fa;
    failalloc_init(&fa, k);
    sc_media_framer *f = NULL;
    int rc = sc_media_framer_new(&f, SC_MEDIA_OGG, &fa.alloc);
    if (rc != SC_OK) {
      assert_int_equal(rc, SC_ERR_NOMEM);
      assert_null(f);
    } else {
      run_out r = {.f = f};
      for (size_t off = 0; off < len && rc == SC_OK; off += 100) {
        size_t n = len - off < 100 ? len - off : 100;
        rc = sc_media_framer_feed(f, data + off, n, on_unit, &r);
        if (rc == SC_OK) assert_memory_equal(r.bytes, data, r.len);
      }
      assert_true(rc == SC_OK || rc == SC_ERR_NOMEM);
      feed_failed |= rc == SC_ERR_NOMEM;
      run_free(&r);
    }
    assert_int_equal(fa.live, 0);
  }
  assert_true(feed_failed);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_samples),
      cmocka_unit_test(test_frames),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_crc),
      cmocka_unit_test(test_chained),
      cmocka_unit_test(test_theora),
      cmocka_unit_test(test_flac_unknown_count),
      cmocka_unit_test(test_lost_header_page),
      cmocka_unit_test(test_now_playing),
      cmocka_unit_test(test_mp3_damage),
      cmocka_unit_test(test_probe),
      cmocka_unit_test(test_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
