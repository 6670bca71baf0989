/*
 * audioframe.h — what MPEG audio (mp3.c) and ADTS (aac.c) share: streams of
 * self-delimiting frames, each a sync point, found by a sync word whose next
 * frame must agree before a sync found by searching is trusted, optionally
 * preceded by an ID3v2 tag. Internal to media/.
 */
#ifndef SC_MEDIA_AUDIOFRAME_H
#define SC_MEDIA_AUDIOFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/format.h"

/* An ID3v2 tag up to this size is one unit; a longer one (cover art) passes in
 * units of this size, so that no buffer grows with it. */
#define SC_AUDIOFRAME_TAG_UNIT_MAX ((size_t)64 * 1024)
/* A tag announcing more than this is not believed (its bytes are searched for
 * frames instead): a false "ID3" must not blind the framer for long. */
#define SC_AUDIOFRAME_TAG_MAX ((uint64_t)16 * 1024 * 1024)

typedef struct {
  size_t len;       /* the frame's length in bytes, header included */
  uint32_t samples; /* samples per channel it decodes to */
  uint32_t rate_hz;
  uint32_t key; /* header fields every frame of a stream repeats */
} sc_audioframe_info;

typedef struct {
  size_t header_len; /* bytes parse looks at */
  /* Is h[0..header_len) a frame header? Fills *fi when it is. */
  bool (*parse)(const uint8_t *h, sc_audioframe_info *fi);
} sc_audioframe_kind;

typedef struct {
  bool fresh;        /* only tags cut since init: a tag may begin here */
  bool locked;       /* the last unit was a frame (or a tag): no look-ahead needed */
  uint32_t key;      /* the locked stream's key */
  uint64_t tag_left; /* bytes of a long tag still to pass */
  int64_t base_us;   /* media time before the current sample rate began */
  uint64_t samples;  /* samples since then */
  uint32_t rate_hz;
} sc_audioframe_state;

void sc_audioframe_init(sc_audioframe_state *s);
void sc_audioframe_cut(const sc_audioframe_kind *k, sc_audioframe_state *s,
                       const uint8_t *buf, size_t buflen, bool at_end, sc_media_cut *cut);
/* An optional ID3v2 tag, then a frame header whose next frame (if the data
 * reaches it) agrees; tag_alone: the answer when the data ends with the tag. */
bool sc_audioframe_probe(const sc_audioframe_kind *k, const uint8_t *data, size_t datalen,
                         bool tag_alone);

#endif
