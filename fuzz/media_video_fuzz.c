/*
 * media_video_fuzz.c — libFuzzer target for the WebM and MPEG-TS framers
 * (media/webm.c, media/mpegts.c through media/media.h), i.e. what a
 * broadcasting peer runs on every byte an encoder sends.
 *
 * Input: byte 0 picks the format (even: WebM, odd: MPEG-TS), byte 1 seeds
 * the piece sizes, the rest is the stream. For every input:
 *  - the units concatenate to the stream byte for byte, fed whole and fed in
 *    pieces of 1..(byte 1 % 64 + 1) * 97 bytes;
 *  - both feeds give the same units (offsets, lengths, flags, times), the
 *    same kept headers and the same counters;
 *  - a unit is never longer than the format's unit_max, a garbage unit has
 *    no other flag, end_us is -1 or more;
 *  - the kept headers are the header units since the last NEW_HEADERS one
 *    (or nothing, if that set outgrew SC_MEDIA_HEADERS_MAX);
 *  - after a flush, the same stream again gives the same units.
 * Crashes, leaks and out-of-bounds reads are the sanitizers' to find.
 *
 * Build and run (seeds in fuzz/corpus/media_video, dictionary beside this):
 *   clang -std=c11 -g -O1 -I. -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all fuzz/media_video_fuzz.c media/media.c \
 *     media/webm.c media/mpegts.c core/alloc.c core/err.c -o media_video_fuzz
 *   ./media_video_fuzz -dict=fuzz/media_video.dict -max_len=16384 CORPUS_DIR
 * (with the other formats' files added to the build once media.c names them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/format.h"
#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  size_t offset, len;
  uint32_t flags;
  int64_t end_us;
} fz_unit;

typedef struct {
  uint8_t *bytes;
  size_t len;
  fz_unit *units;
  size_t nunits;
  size_t cap;   /* of both: no unit is empty, so units <= bytes */
  uint8_t *hdr; /* header units since the last NEW_HEADERS */
  size_t hdrlen;
  bool hdr_over;
  size_t unit_max;
} fz_out;

static void check(bool ok) {
  if (!ok) abort();
}

static void collect(void *user, const sc_media_unit *u) {
  fz_out *o = user;
  check(u->datalen > 0 && u->datalen <= o->unit_max);
  check(o->len + u->datalen <= o->cap);
  check(u->end_us >= -1);
  check(!(u->flags & SC_MEDIA_UNIT_GARBAGE) || u->flags == SC_MEDIA_UNIT_GARBAGE);
  check(!(u->flags & SC_MEDIA_UNIT_NEW_HEADERS) || (u->flags & SC_MEDIA_UNIT_HEADER));
  o->units[o->nunits++] = (fz_unit){
      .offset = o->len, .len = u->datalen, .flags = u->flags, .end_us = u->end_us};
  memcpy(o->bytes + o->len, u->data, u->datalen);
  o->len += u->datalen;
  if (u->flags & SC_MEDIA_UNIT_NEW_HEADERS) {
    o->hdrlen = 0;
    o->hdr_over = false;
  }
  if ((u->flags & SC_MEDIA_UNIT_HEADER) && !o->hdr_over) {
    if (o->hdrlen + u->datalen > SC_MEDIA_HEADERS_MAX) {
      o->hdr_over = true;
      o->hdrlen = 0;
    } else {
      memcpy(o->hdr + o->hdrlen, u->data, u->datalen);
      o->hdrlen += u->datalen;
    }
  }
}

/* The buffers behind the three outputs (a, b, c) of one input, kept from input
 * to input: sized by the input (a 32-byte unit record per byte), they were
 * about 100 bytes per input byte for every input, and as ASan quarantines what
 * is freed, each came from fresh pages (page faults and zeroing were a tenth
 * of the time). Only the harness's own buffers are reused; the framers are
 * made and freed per input as before. */
static struct {
  uint8_t *bytes, *hdr;
  fz_unit *units;
  size_t cap;
} pool[3];

static void out_init(fz_out *o, int slot, size_t cap, size_t unit_max) {
  if (pool[slot].cap < cap || !pool[slot].bytes) {
    size_t c = cap ? cap : 1;
    free(pool[slot].bytes);
    free(pool[slot].units);
    free(pool[slot].hdr);
    pool[slot].bytes = malloc(c);
    pool[slot].units = malloc(c * sizeof *pool[slot].units);
    pool[slot].hdr = malloc(c);
    check(pool[slot].bytes && pool[slot].units && pool[slot].hdr);
    pool[slot].cap = c;
  }
  memset(o, 0, sizeof *o);
  o->cap = cap;
  o->unit_max = unit_max;
  o->bytes = pool[slot].bytes;
  o->units = pool[slot].units;
  o->hdr = pool[slot].hdr;
}

static void same(const fz_out *a, const fz_out *b) {
  check(a->nunits == b->nunits && a->len == b->len);
  check(memcmp(a->units, b->units, a->nunits * sizeof *a->units) == 0);
}

static void framer_matches(const sc_media_framer *f, const fz_out *o) {
  const uint8_t *h;
  size_t n;
  sc_media_framer_headers(f, &h, &n);
  check(n == o->hdrlen);
  check(n == 0 || memcmp(h, o->hdr, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  sc_media_kind kind = (data[0] & 1) ? SC_MEDIA_MPEGTS : SC_MEDIA_WEBM;
  const sc_media_format *fmt =
      kind == SC_MEDIA_WEBM ? &sc_media_format_webm : &sc_media_format_mpegts;
  size_t piece_max = ((size_t)(data[1] % 64) + 1) * 97;
  uint32_t seed = data[1] * 2654435761u + 1;
  const uint8_t *s = data + 2;
  size_t n = size - 2;
  (void)sc_media_probe(s, n);

  sc_media_framer *fa, *fb;
  check(sc_media_framer_new(&fa, kind, NULL) == SC_OK);
  check(sc_media_framer_new(&fb, kind, NULL) == SC_OK);
  fz_out a, b;
  out_init(&a, 0, n, fmt->unit_max);
  out_init(&b, 1, n, fmt->unit_max);

  check(sc_media_framer_feed(fa, s, n, collect, &a) == SC_OK);
  sc_media_framer_flush(fa, collect, &a);
  check(a.len == n && (n == 0 || memcmp(a.bytes, s, n) == 0));
  framer_matches(fa, &a);

  for (size_t off = 0; off < n;) {
    seed = seed * 1103515245u + 12345u;
    size_t k = 1 + (seed >> 8) % piece_max;
    if (k > n - off) k = n - off;
    check(sc_media_framer_feed(fb, s + off, k, collect, &b) == SC_OK);
    off += k;
  }
  sc_media_framer_flush(fb, collect, &b);
  check(b.len == n && (n == 0 || memcmp(b.bytes, s, n) == 0));
  same(&a, &b);
  framer_matches(fb, &b);
  check(memcmp(sc_media_framer_stats(fa), sc_media_framer_stats(fb),
               sizeof(sc_media_stats)) == 0);
  const sc_media_stats *st = sc_media_framer_stats(fa);
  check(st->bytes == n && st->units == a.nunits);

  /* A new source on the same framer: the same units again. */
  fz_out c = a;
  out_init(&a, 2, n, fmt->unit_max);
  check(sc_media_framer_feed(fa, s, n, collect, &a) == SC_OK);
  sc_media_framer_flush(fa, collect, &a);
  same(&a, &c);

  sc_media_framer_del(fa);
  sc_media_framer_del(fb);
  return 0;
}
