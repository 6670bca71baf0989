/*
 * audioframe.c — frame streams with sync words (MPEG audio, ADTS) and the ID3v2
 * tag that may precede them.
 */
#include "media/audioframe.h"

#include <string.h>

void sc_audioframe_init(sc_audioframe_state *s) {
  memset(s, 0, sizeof *s);
  s->fresh = true;
}

enum { ID3_HEADER_LEN = 10, ID3_FOOTER_LEN = 10 };

/* An ID3v2 tag header (ID3v2.4 structure §3.1; v2.2 and v2.3 share it): "ID3",
 * version and revision (never 0xff), flags, then a 28-bit "syncsafe" size of
 * what follows the header (bytes below 0x80), plus a 10-byte footer when flag
 * 0x10 says so. Returns the whole tag's length, 0 if buf is not a tag header
 * or needs more than n bytes to say (*more then set). */
static uint64_t id3_len(const uint8_t *buf, size_t n, bool *more) {
  static const uint8_t magic[3] = {'I', 'D', '3'};
  *more = false;
  if (memcmp(buf, magic, n < 3 ? n : 3) != 0) return 0;
  if (n < ID3_HEADER_LEN) {
    *more = true;
    return 0;
  }
  if (buf[3] == 0xff || buf[4] == 0xff || (buf[6] | buf[7] | buf[8] | buf[9]) & 0x80)
    return 0;
  uint64_t size =
      (uint64_t)buf[6] << 21 | (uint64_t)buf[7] << 14 | (uint64_t)buf[8] << 7 | buf[9];
  return ID3_HEADER_LEN + size + (buf[5] & 0x10 ? ID3_FOOTER_LEN : 0);
}

/* Garbage up to the next place a frame might start: a header that parses, or
 * (more bytes to come) a 0xff too near the end to tell. */
static size_t garbage_len(const sc_audioframe_kind *k, const uint8_t *buf, size_t buflen,
                          bool at_end) {
  for (size_t p = 1; p < buflen; p++) {
    if (buf[p] != 0xff) continue;
    sc_audioframe_info fi;
    if (buflen - p < k->header_len ? !at_end : k->parse(buf + p, &fi)) return p;
  }
  return buflen;
}

static int64_t time_us(const sc_audioframe_state *s) {
  uint64_t whole = s->samples / s->rate_hz, part = s->samples % s->rate_hz;
  if (whole > (uint64_t)INT64_MAX / 1000000u - 1) return -1;
  int64_t us = (int64_t)(whole * 1000000u + part * 1000000u / s->rate_hz);
  return us <= INT64_MAX - s->base_us ? s->base_us + us : -1;
}

void sc_audioframe_cut(const sc_audioframe_kind *k, sc_audioframe_state *s,
                       const uint8_t *buf, size_t buflen, bool at_end,
                       sc_media_cut *cut) {
  cut->len = 0;
  cut->flags = 0;
  cut->end_us = -1;
  if (buflen == 0) return;
  if (s->tag_left) {
    /* The rest of a long tag, in fixed-size units (whatever the feeding). */
    size_t piece = s->tag_left < SC_AUDIOFRAME_TAG_UNIT_MAX ? (size_t)s->tag_left
                                                            : SC_AUDIOFRAME_TAG_UNIT_MAX;
    if (buflen < piece && !at_end) return;
    cut->len = buflen < piece ? buflen : piece;
    s->tag_left -= cut->len;
    return;
  }
  if ((s->fresh || s->locked) && buf[0] == 'I') {
    bool more;
    uint64_t tag = id3_len(buf, buflen, &more);
    if (more && !at_end) return;
    if (tag && tag <= SC_AUDIOFRAME_TAG_MAX) {
      if (tag > SC_AUDIOFRAME_TAG_UNIT_MAX) {
        if (buflen < SC_AUDIOFRAME_TAG_UNIT_MAX && !at_end) return;
        s->tag_left = tag; /* fresh stays: another tag may follow this one */
        s->locked = false; /* the frame after it is checked afresh */
        sc_audioframe_cut(k, s, buf, buflen, at_end, cut);
        return;
      }
      if (buflen >= tag) {
        cut->len = (size_t)tag;
        s->locked = false;
        return;
      }
      if (!at_end) return;
    }
  }
  sc_audioframe_info fi, next;
  if (buf[0] == 0xff && buflen < k->header_len && !at_end) return;
  if (buf[0] != 0xff || buflen < k->header_len || !k->parse(buf, &fi)) goto garbage;
  /* A frame that follows a frame of the same stream is trusted; otherwise the
   * next header must parse and agree (as ffmpeg's and mpg123's parsers do),
   * since a sync word alone is too often found in garbage. */
  bool trusted = s->locked && fi.key == s->key;
  size_t need = trusted ? fi.len : fi.len + k->header_len;
  if (buflen < need) {
    if (!at_end) return;
    if (buflen != fi.len) goto garbage;
    /* The stream's last frame ends exactly where the input does. */
  } else if (!trusted && (buf[fi.len] != 0xff || !k->parse(buf + fi.len, &next) ||
                          next.key != fi.key)) {
    goto garbage;
  }
  if (fi.rate_hz != s->rate_hz) {
    if (s->rate_hz) {
      int64_t t = time_us(s);
      s->base_us = t >= 0 ? t : 0;
    }
    s->samples = 0;
    s->rate_hz = fi.rate_hz;
  }
  s->samples += fi.samples;
  s->fresh = false;
  s->locked = true;
  s->key = fi.key;
  cut->len = fi.len;
  cut->flags = SC_MEDIA_UNIT_SYNC;
  cut->end_us = time_us(s);
  return;

garbage:
  cut->len = garbage_len(k, buf, buflen, at_end);
  cut->flags = SC_MEDIA_UNIT_GARBAGE;
  s->fresh = false;
  s->locked = false;
}

bool sc_audioframe_probe(const sc_audioframe_kind *k, const uint8_t *data, size_t datalen,
                         bool tag_alone) {
  /* Skip the tags at the start (a few: a stream may begin with more than one). */
  for (int i = 0; i < 4 && datalen; i++) {
    bool more;
    uint64_t tag = id3_len(data, datalen, &more);
    if (more) return tag_alone;
    if (!tag || tag > SC_AUDIOFRAME_TAG_MAX) break;
    if (tag >= datalen)
      return tag_alone; /* nothing after the tag tells MPEG audio from ADTS */
    data += tag;
    datalen -= (size_t)tag;
  }
  sc_audioframe_info fi, next;
  if (datalen < k->header_len || data[0] != 0xff || !k->parse(data, &fi)) return false;
  if (datalen < fi.len + k->header_len)
    return true; /* one header is all there is to go by */
  return data[fi.len] == 0xff && k->parse(data + fi.len, &next) && next.key == fi.key;
}
