/*
 * test_broadcast_input.c — the pure parts of a broadcast's other sources:
 * the WAV header and the --encode / --input-format values of the built-in
 * encoder (runtime/encoder.h), the URL check and the ICY metadata reader of
 * the relay (runtime/relay.h). The encoders and the relay themselves run in
 * tests/check_broadcast_sources.sh against a real listener and icecast2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "runtime/encoder.h"
#include "runtime/relay.h"

/* ------------------------------------------------------------- WAV */

typedef struct {
  uint8_t b[512];
  size_t n;
} wavbuf;

static void put(wavbuf *w, const void *p, size_t n) {
  memcpy(w->b + w->n, p, n);
  w->n += n;
}
static void put32(wavbuf *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put(w, b, 4);
}
static void put16(wavbuf *w, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  put(w, b, 2);
}

/* RIFF/WAVE, an optional LIST chunk of odd size before fmt, fmt (tag,
 * channels, rate, bits; extensible with sub-format GUID sub when tag is
 * 0xFFFE), data of data_size. */
static void make_wav(wavbuf *w, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits,
                     const uint8_t *sub, bool list, uint32_t data_size) {
  memset(w, 0, sizeof *w);
  put(w, "RIFF", 4);
  put32(w, 0);
  put(w, "WAVE", 4);
  if (list) {
    put(w, "LIST", 4);
    put32(w, 5);
    put(w, "abcde\0", 6); /* padded to even */
  }
  put(w, "fmt ", 4);
  put32(w, tag == 0xFFFE ? 40 : 16);
  put16(w, tag);
  put16(w, ch);
  put32(w, rate);
  put32(w, rate * ch * bits / 8);
  put16(w, (uint16_t)(ch * bits / 8));
  put16(w, bits);
  if (tag == 0xFFFE) {
    put16(w, 22);
    put16(w, bits);
    put32(w, 3);
    put(w, sub, 16);
  }
  put(w, "data", 4);
  put32(w, data_size);
}

static const uint8_t guid_pcm[16] = {1,    0, 0, 0,    0, 0,    0x10, 0,
                                     0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71};
static const uint8_t guid_float[16] = {3,    0, 0, 0,    0, 0,    0x10, 0,
                                       0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71};

static void test_wav_pcm(void **state) {
  (void)state;
  wavbuf w;
  make_wav(&w, 1, 2, 44100, 16, NULL, true, 4000);
  rt_pcm_format f;
  size_t off;
  uint64_t n;
  char why[200];
  assert_int_equal(rt_wav_parse(w.b, w.n, &f, &off, &n, why, sizeof why), 0);
  assert_int_equal(f.rate_hz, 44100);
  assert_int_equal(f.channels, 2);
  assert_int_equal(off, w.n);
  assert_int_equal(n, 4000);
  /* Every shorter prefix asks for more, never a wrong answer. */
  for (size_t k = 0; k < w.n; k++)
    assert_int_equal(rt_wav_parse(w.b, k, &f, &off, &n, why, sizeof why),
                     SC_ERR_TRUNCATED);
  /* A writer on a pipe leaves the size unknown. */
  make_wav(&w, 1, 1, 48000, 16, NULL, false, 0xFFFFFFFFu);
  assert_int_equal(rt_wav_parse(w.b, w.n, &f, &off, &n, why, sizeof why), 0);
  assert_int_equal(n, UINT64_MAX);
  assert_int_equal(f.channels, 1);
  make_wav(&w, 0xFFFE, 6, 48000, 16, guid_pcm, false, 100);
  assert_int_equal(rt_wav_parse(w.b, w.n, &f, &off, &n, why, sizeof why), 0);
  assert_int_equal(f.channels, 6);
}

static void expect_refused(const wavbuf *w, const char *pat) {
  rt_pcm_format f;
  size_t off;
  uint64_t n;
  char why[200] = "";
  assert_int_equal(rt_wav_parse(w->b, w->n, &f, &off, &n, why, sizeof why),
                   SC_ERR_INVALID);
  if (!strstr(why, pat)) fail_msg("'%s' lacks '%s'", why, pat);
}

static void test_wav_refused(void **state) {
  (void)state;
  wavbuf w;
  make_wav(&w, 3, 2, 44100, 32, NULL, false, 100); /* IEEE float */
  expect_refused(&w, "not PCM");
  make_wav(&w, 0xFFFE, 2, 44100, 32, guid_float, false, 100);
  expect_refused(&w, "not PCM");
  make_wav(&w, 1, 2, 44100, 24, NULL, false, 100);
  expect_refused(&w, "24-bit");
  make_wav(&w, 1, 9, 44100, 16, NULL, false, 100);
  expect_refused(&w, "9 channels");
  make_wav(&w, 1, 2, 4000, 16, NULL, false, 100);
  expect_refused(&w, "4000 Hz");
  make_wav(&w, 1, 2, 44100, 16, NULL, false, 100);
  memcpy(w.b + 8, "AVI ", 4);
  expect_refused(&w, "not a WAV file");
  w.n = 3;
  memcpy(w.b, "ID3", 3); /* not even "RIFF" so far */
  expect_refused(&w, "not a WAV file");
  /* data before fmt */
  memset(&w, 0, sizeof w);
  put(&w, "RIFF", 4);
  put32(&w, 0);
  put(&w, "WAVE", 4);
  put(&w, "data", 4);
  put32(&w, 10);
  expect_refused(&w, "before the fmt chunk");
  /* a chunk that claims more than the header bound */
  memset(&w, 0, sizeof w);
  put(&w, "RIFF", 4);
  put32(&w, 0);
  put(&w, "WAVE", 4);
  put(&w, "junk", 4);
  put32(&w, RT_WAV_HEADER_MAX);
  expect_refused(&w, "no data chunk");
}

/* ------------------------------------------------------------- values */

static void test_specs(void **state) {
  (void)state;
  rt_enc_spec s;
  rt_pcm_format f;
  char why[200];
  assert_int_equal(rt_enc_parse_spec("flac", &s, why, sizeof why), 0);
  assert_int_equal(s.codec, RT_ENC_FLAC);
  assert_int_equal(rt_enc_parse_spec("opus", &s, why, sizeof why), 0);
  assert_int_equal(s.codec, RT_ENC_OPUS);
  assert_int_equal(s.kbps, RT_ENC_OPUS_KBPS_DEFAULT);
  assert_int_equal(rt_enc_parse_spec("opus:64", &s, why, sizeof why), 0);
  assert_int_equal(s.kbps, 64);
  assert_int_not_equal(rt_enc_parse_spec("opus:5", &s, why, sizeof why), 0);
  assert_int_not_equal(rt_enc_parse_spec("opus:", &s, why, sizeof why), 0);
  assert_int_not_equal(rt_enc_parse_spec("vorbis", &s, why, sizeof why), 0);
  assert_int_not_equal(rt_enc_parse_spec("FLAC", &s, why, sizeof why), 0);
  assert_int_equal(rt_pcm_parse_format("s16le:48000:2", &f, why, sizeof why), 0);
  assert_int_equal(f.rate_hz, 48000);
  assert_int_equal(f.channels, 2);
  assert_int_not_equal(rt_pcm_parse_format("s16le:48000", &f, why, sizeof why), 0);
  assert_int_not_equal(rt_pcm_parse_format("s16le:48000:0", &f, why, sizeof why), 0);
  assert_int_not_equal(rt_pcm_parse_format("s16le:1000:2", &f, why, sizeof why), 0);
  assert_int_not_equal(rt_pcm_parse_format("s24le:48000:2", &f, why, sizeof why), 0);
  assert_int_not_equal(rt_pcm_parse_format("s16le:48000:2:1", &f, why, sizeof why), 0);
}

static void test_urls(void **state) {
  (void)state;
  char why[300];
  assert_int_equal(rt_relay_check_url("http://127.0.0.1:8000/live", why, sizeof why), 0);
  assert_int_equal(
      rt_relay_check_url("https://radio.example/stream.mp3", why, sizeof why), 0);
  assert_int_not_equal(rt_relay_check_url("ftp://host/x", why, sizeof why), 0);
  assert_int_not_equal(rt_relay_check_url("http://", why, sizeof why), 0);
  assert_int_not_equal(rt_relay_check_url("not a url", why, sizeof why), 0);
  assert_int_not_equal(rt_relay_check_url("file:///etc/passwd", why, sizeof why), 0);
}

/* ------------------------------------------------------------- ICY */

typedef struct {
  uint8_t audio[4096];
  size_t naudio;
  uint8_t meta[4096];
  size_t nmeta;
  unsigned blocks;
} icy_rec;

static void rec_audio(void *user, const uint8_t *p, size_t n) {
  icy_rec *r = user;
  assert_true(r->naudio + n <= sizeof r->audio);
  memcpy(r->audio + r->naudio, p, n);
  r->naudio += n;
}
static void rec_meta(void *user, const uint8_t *p, size_t n) {
  icy_rec *r = user;
  assert_int_equal(n, 1 + (size_t)p[0] * 16);
  memcpy(r->meta + r->nmeta, p, n);
  r->nmeta += n;
  r->blocks++;
}

/* A stream of metaint 10: audio bytes 0..29 with a titled block after the
 * first 10, an empty block after 20 and another titled one after 30. */
static size_t make_icy(uint8_t *s, uint8_t *audio, uint8_t *meta, size_t *nmeta) {
  size_t n = 0, a = 0, m = 0;
  uint8_t blk[64];
  for (int seg = 0; seg < 3; seg++) {
    for (int i = 0; i < 10; i++) {
      audio[a] = (uint8_t)(a * 7 + 1);
      s[n++] = audio[a++];
    }
    int len;
    if (seg == 1) {
      blk[0] = 0;
      len = 1;
    } else {
      len = sc_http_icy_meta_build("Song", 4, NULL, 0, blk, sizeof blk);
      assert_true(len > 1);
    }
    memcpy(s + n, blk, (size_t)len);
    memcpy(meta + m, blk, (size_t)len);
    n += (size_t)len;
    m += (size_t)len;
  }
  *nmeta = m;
  return n;
}

static void test_icy_reader(void **state) {
  (void)state;
  uint8_t s[256], audio[64], meta[128];
  size_t nmeta;
  size_t n = make_icy(s, audio, meta, &nmeta);
  /* Fed whole, then split at every point, then byte by byte: the same. */
  for (size_t cut = 0; cut <= n + 1; cut++) {
    icy_rec r = {0};
    rt_icy_sink sink = {rec_audio, rec_meta, &r};
    rt_icy_reader rd;
    rt_icy_reader_init(&rd, 10);
    if (cut <= n) {
      rt_icy_reader_feed(&rd, s, cut, &sink);
      rt_icy_reader_feed(&rd, s + cut, n - cut, &sink);
    } else {
      for (size_t i = 0; i < n; i++)
        rt_icy_reader_feed(&rd, s + i, 1, &sink);
    }
    assert_int_equal(r.naudio, 30);
    assert_memory_equal(r.audio, audio, 30);
    assert_int_equal(r.blocks, 3);
    assert_int_equal(r.nmeta, nmeta);
    assert_memory_equal(r.meta, meta, nmeta);
  }
  /* metaint 0: everything is audio. */
  icy_rec r = {0};
  rt_icy_sink sink = {rec_audio, rec_meta, &r};
  rt_icy_reader rd;
  rt_icy_reader_init(&rd, 0);
  rt_icy_reader_feed(&rd, s, n, &sink);
  assert_int_equal(r.naudio, n);
  assert_int_equal(r.blocks, 0);
}

/* Feeds every line of text (each ending at '\n') as libcurl would, resetting
 * at a status line as the relay does. */
static void head_feed(rt_relay_head *h, const char *prefix, const char *text) {
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) + 1 : strlen(text);
    if (rt_relay_head_line(h, text, len)) rt_relay_head_reset(h, prefix, "http://u/s");
    text += len;
  }
}

/* The upstream answer's head: what the relay's station info, container and
 * metaint come from; a status line starts over, bad values are ignored. */
static void test_relay_head(void **state) {
  (void)state;
  rt_relay_head h;
  rt_relay_head_reset(&h, "name=mine\n", "http://u/s");
  assert_string_equal(h.info, "name=mine\nrelay=http://u/s\n");
  head_feed(&h, "name=mine\n",
            "HTTP/1.1 302 Found\r\nicy-name: Old\r\nicy-metaint: 100\r\n"
            "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nicy-metaint: 16000\r\n"
            "ICY-NAME:  Radio One\r\nicy-notice1: not kept\r\nice-audio-info: ch=2\r\n"
            "\r\n");
  assert_string_equal(h.content_type, "audio/mpeg");
  assert_int_equal(h.metaint, 16000);
  assert_string_equal(h.info, "name=mine\nrelay=http://u/s\ncontent-type=audio/mpeg\n"
                              "name=Radio One\naudio-info=ch=2\n");
  /* Refused values leave the head as it was. */
  rt_relay_head before = h;
  head_feed(&h, "name=mine\n",
            "icy-metaint: 0\r\nicy-metaint: -1\r\nicy-metaint: 1048577\r\n"
            "icy-metaint: 12x\r\nicy-metaint: 12345678901234567\r\n"
            "icy-genre: a\x01b\r\nno colon here\r\n");
  assert_memory_equal(&before, &h, sizeof h);
  /* A value longer than the Content-Type's room is cut; the info stays
   * within its bound however many headers come. */
  char line[600];
  memset(line, 'x', sizeof line);
  memcpy(line, "content-type: ", 14);
  memcpy(line + sizeof line - 3, "\r\n", 3);
  assert_false(rt_relay_head_line(&h, line, sizeof line - 1));
  assert_int_equal(strlen(h.content_type), RT_RELAY_HDR_VALUE_MAX - 1);
  for (int i = 0; i < 100; i++)
    assert_false(rt_relay_head_line(&h, line, sizeof line - 1));
  assert_true(h.infolen < sizeof h.info);
  assert_int_equal(strlen(h.info), h.infolen);
  /* A status line asks for a reset and changes nothing itself. */
  before = h;
  assert_true(rt_relay_head_line(&h, "ICY 200 OK\r\n", 12));
  assert_memory_equal(&before, &h, sizeof h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wav_pcm),    cmocka_unit_test(test_wav_refused),
      cmocka_unit_test(test_specs),      cmocka_unit_test(test_urls),
      cmocka_unit_test(test_icy_reader), cmocka_unit_test(test_relay_head),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
