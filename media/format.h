/*
 * format.h — what one container format gives the generic framer (media.c).
 *
 * The framer keeps the buffer; a format only looks at the buffered bytes that
 * begin the next unit and says how long that unit is and what it is. Formats
 * keep their own small state (stream serials, the sample rate, the elements
 * they are inside of) between cuts.
 */
#ifndef SC_MEDIA_FORMAT_H
#define SC_MEDIA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

typedef struct {
  size_t len;     /* the next unit's length; 0: more bytes are needed */
  uint32_t flags; /* SC_MEDIA_UNIT_* */
  int64_t end_us; /* as sc_media_unit.end_us; -1 unknown */
} sc_media_cut;

typedef struct {
  sc_media_kind kind;
  size_t state_size;
  /* The longest unit it ever waits for; the framer emits garbage beyond it. */
  size_t unit_max;
  void (*init)(void *state);
  /* buf[0..buflen) is buffered input starting at the next unit. Fill *cut:
   * a complete unit (len <= buflen), or len 0 to wait for more bytes, or a
   * garbage run up to the next candidate sync (flags GARBAGE). at_end: no
   * more bytes will come, so a unit that cannot complete is garbage. A cut
   * with len > 0 is final: the format may update its state. */
  void (*cut)(void *state, const uint8_t *buf, size_t buflen, bool at_end,
              sc_media_cut *cut);
} sc_media_format;

extern const sc_media_format sc_media_format_ogg;
extern const sc_media_format sc_media_format_mp3;
extern const sc_media_format sc_media_format_aac;
extern const sc_media_format sc_media_format_webm;
extern const sc_media_format sc_media_format_mpegts;

/* Does data begin like this format? For sc_media_probe. */
bool sc_media_ogg_probe(const uint8_t *data, size_t datalen);
bool sc_media_mp3_probe(const uint8_t *data, size_t datalen);
bool sc_media_aac_probe(const uint8_t *data, size_t datalen);

#endif
