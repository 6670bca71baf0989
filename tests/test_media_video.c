/*
 * test_media_video.c — the WebM and MPEG-TS framers (media/webm.c,
 * media/mpegts.c) on streams made by ffmpeg (tests/data/media/README-video.md).
 *
 * For every stream: the units concatenate to the input byte for byte, fed
 * whole or in random small pieces, and the pieces give the very same units
 * (no decision depends on how the bytes arrived); the kept headers are the
 * initialisation segment or the PAT and PMT; sync units are exactly at the
 * keyframes ffprobe reports; garbage is counted and the framer resyncs.
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
#include "media/media.h"
#include "media_video_util.h"

#ifndef SC_TEST_DATA_DIR
#error "SC_TEST_DATA_DIR must name tests/data/media"
#endif

/* Piece sizes for the split feeds: tiny ones cross every element and packet
 * boundary; the larger ones cross several units at once. */
static const size_t piece_max[] = {1, 7, 64, 1000};

typedef struct {
  uint8_t *data;
  size_t len;
} sample;

static sample load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", SC_TEST_DATA_DIR, name);
  sample s = {0};
  assert_int_equal(mv_read_file(path, &s.data, &s.len), 0);
  assert_true(s.len > 0);
  return s;
}

static void same_units(const mv_out *a, const mv_out *b) {
  assert_int_equal(a->nunits, b->nunits);
  for (size_t i = 0; i < a->nunits; i++) {
    assert_int_equal(a->units[i].offset, b->units[i].offset);
    assert_int_equal(a->units[i].len, b->units[i].len);
    assert_int_equal(a->units[i].flags, b->units[i].flags);
    assert_int_equal(a->units[i].end_us, b->units[i].end_us);
  }
}

/* Frame data whole, check the concatenation, then again in pieces and check
 * the units are the same. The whole run's output and framer are returned. */
static sc_media_framer *frame_all(sc_media_kind kind, const uint8_t *data, size_t len,
                                  mv_out *whole) {
  sc_media_framer *f;
  assert_int_equal(sc_media_framer_new(&f, kind, NULL), SC_OK);
  assert_int_equal(mv_run(f, data, len, 0, 1, whole), SC_OK);
  assert_int_equal(whole->len, len);
  assert_memory_equal(whole->bytes, data, len);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->bytes, len);
  assert_int_equal(st->units, whole->nunits);
  for (size_t k = 0; k < sizeof piece_max / sizeof piece_max[0]; k++) {
    sc_media_framer *g;
    mv_out split;
    assert_int_equal(sc_media_framer_new(&g, kind, NULL), SC_OK);
    assert_int_equal(mv_run(g, data, len, piece_max[k], 42 + k, &split), SC_OK);
    assert_int_equal(split.len, len);
    assert_memory_equal(split.bytes, data, len);
    same_units(whole, &split);
    const uint8_t *h1, *h2;
    size_t n1, n2;
    sc_media_framer_headers(f, &h1, &n1);
    sc_media_framer_headers(g, &h2, &n2);
    assert_int_equal(n1, n2);
    if (n1) assert_memory_equal(h1, h2, n1);
    assert_memory_equal(sc_media_framer_stats(g), st, sizeof *st);
    sc_media_framer_del(g);
    mv_out_free(&split);
  }
  return f;
}

static void headers_are(const sc_media_framer *f, const uint8_t *want, size_t wantlen) {
  const uint8_t *h;
  size_t n;
  sc_media_framer_headers(f, &h, &n);
  assert_int_equal(n, wantlen);
  if (wantlen) assert_memory_equal(h, want, wantlen);
}

/* Offsets of the units flagged SYNC must be exactly want[0..n). */
static void sync_at(const mv_out *o, const size_t *want, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < o->nunits; i++) {
    if (!(o->units[i].flags & SC_MEDIA_UNIT_SYNC)) continue;
    assert_true(k < n);
    assert_int_equal(o->units[i].offset, want[k]);
    k++;
  }
  assert_int_equal(k, n);
}

static bool is_cluster(const uint8_t *p, size_t n) {
  return n >= 4 && p[0] == 0x1F && p[1] == 0x43 && p[2] == 0xB6 && p[3] == 0x75;
}

/* Where the flags byte of the SimpleBlock unit q is: after the ID, the
 * size, a one-byte track number (these samples have two tracks) and the
 * 16-bit timecode. */
static size_t block_flags_offset(const uint8_t *q) {
  size_t sl = 1;
  while (sl < 8 && !(q[1] & (0x80 >> (sl - 1))))
    sl++;
  return 1 + sl + 3;
}

/* An independent look at the WebM blocks: every Cluster unit is SYNC exactly
 * when the first SimpleBlock of track 1 (the VP8 track in these samples)
 * after it has the keyframe flag, and every block is a unit of its own. */
static void webm_sync_is_keyframe(const mv_out *o) {
  for (size_t i = 0; i < o->nunits; i++) {
    const uint8_t *p = o->bytes + o->units[i].offset;
    if (!is_cluster(p, o->units[i].len)) continue;
    int key = -1;
    for (size_t j = i + 1; j < o->nunits && key < 0; j++) {
      const uint8_t *q = o->bytes + o->units[j].offset;
      if (is_cluster(q, o->units[j].len)) break;
      if (q[0] != 0xA3) continue;
      size_t fo = block_flags_offset(q);
      if (q[fo - 3] == 0x81) /* track number 1 */
        key = (q[fo] & 0x80) != 0;
    }
    assert_int_not_equal(key, -1);
    assert_int_equal((o->units[i].flags & SC_MEDIA_UNIT_SYNC) != 0, key);
  }
}

static void test_probe(void **state) {
  (void)state;
  const char *webm[] = {"vp8_opus.webm", "vp8_opus_live.webm"};
  const char *ts[] = {"h264_mp2.ts", "aac.ts"};
  for (size_t i = 0; i < 2; i++) {
    sample a = load(webm[i]), b = load(ts[i]);
    assert_int_equal(sc_media_probe(a.data, a.len), SC_MEDIA_WEBM);
    assert_int_equal(sc_media_probe(b.data, b.len), SC_MEDIA_MPEGTS);
    /* Too short to tell, or off by one byte. */
    assert_int_equal(sc_media_probe(a.data, 3), SC_MEDIA_UNKNOWN);
    assert_int_equal(sc_media_probe(b.data, 376), SC_MEDIA_UNKNOWN);
    assert_int_equal(sc_media_probe(b.data + 1, b.len - 1), SC_MEDIA_UNKNOWN);
    free(a.data);
    free(b.data);
  }
  assert_int_equal(sc_media_kind_from_content_type("video/webm"), SC_MEDIA_WEBM);
  assert_int_equal(sc_media_kind_from_content_type("video/MP2T"), SC_MEDIA_MPEGTS);
}

/* A file ffmpeg finished: sizes known, Cues after the last Cluster. */
static void test_webm_file(void **state) {
  (void)state;
  sample s = load("vp8_opus.webm");
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &o);
  headers_are(f, s.data, 594);
  const size_t want[] = {594, 5331, 10581, 15769};
  sync_at(&o, want, 4);
  webm_sync_is_keyframe(&o);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->garbage_bytes, 0);
  assert_int_equal(st->header_sets, 1);
  assert_int_equal(st->header_units,
                   7); /* EBML, Segment, SeekHead, Void, Info, Tracks, Tags */
  /* The Cues at the end are a plain unit, not a header. */
  const mv_unit *last = &o.units[o.nunits - 1];
  assert_int_equal(last->offset, 21104);
  assert_int_equal(last->flags, 0);
  /* Units stay small: the largest is a keyframe block. */
  for (size_t i = 0; i < o.nunits; i++)
    assert_true(o.units[i].len < 2000);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

/* Live: Segment of unknown size; times from Cluster and block timecodes. */
static void test_webm_live(void **state) {
  (void)state;
  sample s = load("vp8_opus_live.webm");
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &o);
  headers_are(f, s.data, 508);
  const size_t want[] = {508, 5245, 10495, 15683};
  sync_at(&o, want, 4);
  webm_sync_is_keyframe(&o);
  /* Cluster timecodes 0, 501, 1001, 1501 ms (TimecodeScale 1 ms). */
  const int64_t want_us[] = {0, 501000, 1001000, 1501000};
  size_t k = 0;
  int64_t max_us = -1;
  for (size_t i = 0; i < o.nunits; i++) {
    if (o.units[i].flags & SC_MEDIA_UNIT_SYNC)
      assert_int_equal(o.units[i].end_us, want_us[k++]);
    if (o.units[i].end_us > max_us) max_us = o.units[i].end_us;
  }
  assert_true(max_us >= 1950000 && max_us <= 2050000);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 0);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

/* Clusters of unknown size end at the next level-1 element: the same units. */
static void test_webm_unknown_size_clusters(void **state) {
  (void)state;
  const char *names[] = {"vp8_opus_live.webm", "vp8_opus.webm"};
  for (size_t n = 0; n < 2; n++) {
    sample s = load(names[n]);
    mv_out known, unknown;
    sc_media_framer *f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &known);
    sc_media_framer_del(f);
    assert_int_equal(mv_webm_unknown_clusters(s.data, s.len), 4);
    f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &unknown);
    same_units(&known, &unknown);
    assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 0);
    sc_media_framer_del(f);
    mv_out_free(&known);
    mv_out_free(&unknown);
    free(s.data);
  }
}

/* Bytes from a fixed generator, with no chance of a sync byte or magic. */
static void fill_garbage(uint8_t *p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint8_t b = (uint8_t)(seed >> 56);
    p[i] = b == 0x47 || b == 0x1A || b == 0x1F ? 0x55 : b;
  }
}

/* data with n garbage bytes inserted at offset at. */
static uint8_t *with_garbage(const sample *s, size_t at, size_t n, uint64_t seed) {
  uint8_t *d = malloc(s->len + n);
  assert_non_null(d);
  memcpy(d, s->data, at);
  fill_garbage(d + at, n, seed);
  memcpy(d + at + n, s->data + at, s->len - at);
  return d;
}

static void test_webm_garbage(void **state) {
  (void)state;
  sample s = load("vp8_opus_live.webm");
  /* In the middle of the second Cluster's blocks: the rest of that Cluster
   * is lost with the garbage, and the framer resyncs at the third. */
  size_t at = 7000, n = 1000;
  uint8_t *d = with_garbage(&s, at, n, 7);
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, d, s.len + n, &o);
  headers_are(f, s.data, 508);
  const size_t want[] = {508, 5245, 10495 + 1000, 15683 + 1000};
  sync_at(&o, want, 4);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_true(st->garbage_bytes >= n);
  assert_true(st->garbage_bytes <= n + (10495 - 5245));
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);

  /* Garbage before the stream: exactly that much, then the stream as usual. */
  d = with_garbage(&s, 0, 500, 8);
  f = frame_all(SC_MEDIA_WEBM, d, s.len + 500, &o);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 500);
  headers_are(f, s.data, 508);
  assert_int_equal(sc_media_framer_stats(f)->sync_units, 4);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);

  /* A garbage run longer than the longest garbage unit (4096 bytes): frame_all
   * feeds it byte by byte too, where the scan for a resync point goes on from
   * where the last feed left it; the units are the same as fed whole. */
  d = with_garbage(&s, 0, 9000, 11);
  f = frame_all(SC_MEDIA_WEBM, d, s.len + 9000, &o);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 9000);
  assert_true(o.nunits > 3 && o.units[0].len == 4096 && o.units[1].len == 4096 &&
              o.units[2].len == 9000 - 2 * 4096);
  headers_are(f, s.data, 508);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);

  /* A block larger than SC_WEBM_ELEMENT_MAX (5 MiB declared) is garbage, not
   * a reason to buffer 5 MiB: the bytes up to the next Cluster are garbage. */
  size_t blk = 5245 - 517;
  d = malloc(s.len);
  assert_non_null(d);
  memcpy(d, s.data, s.len);
  static const uint8_t big[] = {0xA3, 0x10, 0x50, 0x00, 0x00, 0x81};
  memcpy(d + 517, big, sizeof big); /* over the first block of Cluster 1 */
  f = frame_all(SC_MEDIA_WEBM, d, s.len, &o);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, blk);
  for (size_t i = 0; i < o.nunits; i++)
    if (o.units[i].offset == 5245) assert_int_equal(o.units[i].flags, SC_MEDIA_UNIT_SYNC);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);
  free(s.data);
}

/* The sync rule: the first block of a video track decides, not the first
 * block (an Opus block, a keyframe of its own, opens every Cluster here). */
static void test_webm_sync_rule(void **state) {
  (void)state;
  sample s = load("vp8_opus_live.webm");
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &o);
  sc_media_framer_del(f);
  /* Clear the keyframe flag of the first VP8 block of the third Cluster. */
  size_t i = 0;
  while (o.units[i].offset != 10495)
    i++;
  uint8_t *q;
  for (i++;; i++) {
    assert_true(i < o.nunits);
    q = s.data + o.units[i].offset;
    if (q[0] == 0xA3 && q[block_flags_offset(q) - 3] == 0x81) break;
  }
  assert_true(q[block_flags_offset(q)] & 0x80);
  q[block_flags_offset(q)] &= 0x7F;
  mv_out_free(&o);
  f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &o);
  const size_t want[] = {508, 5245, 15683};
  sync_at(&o, want, 3);
  webm_sync_is_keyframe(&o);
  sc_media_framer_del(f);
  mv_out_free(&o);

  /* Joined at the first Cluster, without the Tracks: the first block of each
   * Cluster decides, and that is an Opus block here. */
  f = frame_all(SC_MEDIA_WEBM, s.data + 508, s.len - 508, &o);
  const size_t want_first_block[] = {0, 5245 - 508, 10495 - 508, 15683 - 508};
  sync_at(&o, want_first_block, 4);
  headers_are(f, NULL, 0);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 0);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);

  /* Audio only: every Cluster is a sync point. */
  s = load("opus_live.webm");
  f = frame_all(SC_MEDIA_WEBM, s.data, s.len, &o);
  headers_are(f, s.data, 391);
  const size_t want_audio[] = {391, 2407, 4136, 5973};
  sync_at(&o, want_audio, 4);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

/* An element too large to be one unit (a 5 MiB Void here) passes in pieces,
 * none of them garbage, and the stream goes on after it. */
static void test_webm_large_element(void **state) {
  (void)state;
  sample s = load("vp8_opus_live.webm");
  const size_t body = (size_t)5 << 20, last = 15683;
  size_t tail = s.len - last, len = s.len + 5 + body + tail;
  uint8_t *d = calloc(1, len);
  assert_non_null(d);
  memcpy(d, s.data, s.len);
  static const uint8_t void_head[] = {0xEC, 0x10, 0x50, 0x00, 0x00};
  memcpy(d + s.len, void_head, sizeof void_head);
  memcpy(d + s.len + 5 + body, s.data + last, tail);
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, d, len, &o);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->garbage_bytes, 0);
  assert_int_equal(st->sync_units, 5);
  size_t pieces = 0;
  for (size_t i = 0; i < o.nunits; i++) {
    assert_true(o.units[i].len <= ((size_t)64 << 10));
    if (o.units[i].offset >= s.len + 5 && o.units[i].offset < s.len + 5 + body) pieces++;
  }
  assert_int_equal(pieces, 80);
  headers_are(f, s.data, 508);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);
  free(s.data);
}

/* A source that reconnects sends a new EBML header: a new header set, and
 * time goes on from where it was. */
static void test_webm_new_source(void **state) {
  (void)state;
  sample a = load("vp8_opus_live.webm"), b = load("vp8_opus.webm");
  uint8_t *d = malloc(a.len + b.len);
  assert_non_null(d);
  memcpy(d, a.data, a.len);
  memcpy(d + a.len, b.data, b.len);
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_WEBM, d, a.len + b.len, &o);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->header_sets, 2);
  assert_int_equal(st->sync_units, 8);
  assert_int_equal(st->garbage_bytes, 0);
  headers_are(f, b.data, 594);
  int64_t first_of_b = -1, last_of_a = -1;
  for (size_t i = 0; i < o.nunits; i++) {
    if (o.units[i].offset < a.len && o.units[i].end_us > last_of_a)
      last_of_a = o.units[i].end_us;
    if (o.units[i].offset >= a.len && o.units[i].end_us >= 0 && first_of_b < 0)
      first_of_b = o.units[i].end_us;
  }
  assert_int_equal(first_of_b, last_of_a);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);
  free(a.data);
  free(b.data);
}

static unsigned ts_pid(const uint8_t *p) {
  return (unsigned)(p[1] & 0x1F) << 8 | p[2];
}

static void test_ts_h264(void **state) {
  (void)state;
  sample s = load("h264_mp2.ts");
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_MPEGTS, s.data, s.len, &o);
  for (size_t i = 0; i < o.nunits; i++)
    assert_int_equal(o.units[i].len, 188);
  headers_are(f, s.data + 188, 376); /* the PAT and the PMT */
  const size_t want[] = {564, 11092, 20492, 31396};
  sync_at(&o, want, 4);
  int64_t last_us = -1;
  for (size_t i = 0; i < o.nunits; i++) {
    const uint8_t *p = o.bytes + o.units[i].offset;
    if (o.units[i].flags & SC_MEDIA_UNIT_SYNC) {
      assert_int_equal(ts_pid(p), 0x100); /* the video stream */
      assert_true(p[1] & 0x40);
    }
    if (o.units[i].end_us >= 0) {
      assert_true(o.units[i].end_us >= last_us);
      last_us = o.units[i].end_us;
    }
  }
  assert_int_equal(o.units[3].end_us, 0); /* the first PCR */
  assert_true(last_us >= 1500000 && last_us <= 2100000);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->header_sets, 1);
  assert_int_equal(st->header_units, 2); /* repeated PAT and PMT are not kept */
  assert_int_equal(st->garbage_bytes, 0);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

static void test_ts_audio_only(void **state) {
  (void)state;
  sample s = load("aac.ts");
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_MPEGTS, s.data, s.len, &o);
  headers_are(f, s.data + 188, 376);
  const size_t want[] = {564, 2256, 4136};
  sync_at(&o, want, 3);
  /* ffmpeg puts the PCR on the audio PID: time grows to about 1 s. */
  int64_t last_us = -1;
  for (size_t i = 0; i < o.nunits; i++) {
    if (o.units[i].end_us >= 0) {
      assert_true(o.units[i].end_us >= last_us);
      last_us = o.units[i].end_us;
    }
  }
  assert_true(last_us >= 500000 && last_us <= 1100000);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 0);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

/* An encoder that leaves random_access_indicator clear: the H.264 IDR and
 * SPS in the PES payload still mark the keyframes. */
static void test_ts_without_rai(void **state) {
  (void)state;
  sample s = load("h264_mp2.ts");
  size_t cleared = 0;
  for (size_t off = 0; off + 188 <= s.len; off += 188) {
    uint8_t *p = s.data + off;
    if ((p[3] & 0x20) && p[4] >= 1 && (p[5] & 0x40)) {
      p[5] &= (uint8_t)~0x40;
      cleared++;
    }
  }
  assert_true(cleared >= 4);
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_MPEGTS, s.data, s.len, &o);
  const size_t want[] = {564, 11092, 20492, 31396};
  sync_at(&o, want, 4);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(s.data);
}

static void test_ts_garbage(void **state) {
  (void)state;
  sample s = load("h264_mp2.ts");
  /* 77 bytes between packets 50 and 51, and packet 100's sync byte broken. */
  uint8_t *d = with_garbage(&s, 188 * 51, 77, 9);
  d[188 * 100 + 77] = 0x00;
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_MPEGTS, d, s.len + 77, &o);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->garbage_bytes, 77 + 188);
  for (size_t i = 0; i < o.nunits; i++)
    if (!(o.units[i].flags & SC_MEDIA_UNIT_GARBAGE))
      assert_int_equal(o.units[i].len, 188);
  const size_t want[] = {564, 11092 + 77, 20492 + 77, 31396 + 77};
  sync_at(&o, want, 4);
  headers_are(f, s.data + 188, 376);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);

  /* Garbage before the first packet. */
  d = with_garbage(&s, 0, 1500, 10);
  f = frame_all(SC_MEDIA_MPEGTS, d, s.len + 1500, &o);
  assert_int_equal(sc_media_framer_stats(f)->garbage_bytes, 1500);
  assert_int_equal(sc_media_framer_stats(f)->sync_units, 4);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);
  free(s.data);
}

/* Another source on the same PIDs with other streams: the PAT is the same
 * but the PMT changed, so the next PAT starts a new set that holds the new
 * PMT only. */
static void test_ts_pmt_change(void **state) {
  (void)state;
  sample a = load("h264_mp2.ts"), b = load("aac.ts");
  uint8_t *d = malloc(a.len + b.len);
  assert_non_null(d);
  memcpy(d, a.data, a.len);
  memcpy(d + a.len, b.data, b.len);
  mv_out o;
  sc_media_framer *f = frame_all(SC_MEDIA_MPEGTS, d, a.len + b.len, &o);
  const sc_media_stats *st = sc_media_framer_stats(f);
  assert_int_equal(st->header_sets, 2);
  const uint8_t *h;
  size_t n;
  sc_media_framer_headers(f, &h, &n);
  assert_int_equal(n, 376);
  /* The PAT and aac.ts's PMT (continuity counters aside: byte 3). */
  assert_int_equal(ts_pid(h), 0);
  assert_memory_equal(h + 4, b.data + 188 + 4, 184);
  assert_memory_equal(h + 188 + 4, b.data + 376 + 4, 184);
  /* Audio only now: its PES starts are the sync points. */
  assert_int_equal(st->sync_units, 4 + 3);
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(d);
  free(a.data);
  free(b.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_probe),
      cmocka_unit_test(test_webm_file),
      cmocka_unit_test(test_webm_live),
      cmocka_unit_test(test_webm_unknown_size_clusters),
      cmocka_unit_test(test_webm_garbage),
      cmocka_unit_test(test_webm_sync_rule),
      cmocka_unit_test(test_webm_large_element),
      cmocka_unit_test(test_webm_new_source),
      cmocka_unit_test(test_ts_h264),
      cmocka_unit_test(test_ts_audio_only),
      cmocka_unit_test(test_ts_without_rai),
      cmocka_unit_test(test_ts_garbage),
      cmocka_unit_test(test_ts_pmt_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
