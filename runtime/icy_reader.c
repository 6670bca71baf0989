/* icy_reader.c — ICY metadata blocks taken out of a relayed stream (see
 * relay.h): pure code over the bytes, so that it can be fuzzed alone. */
#include <string.h>

#include "relay.h"

void rt_icy_reader_init(rt_icy_reader *r, uint32_t metaint) {
  memset(r, 0, sizeof *r);
  r->metaint = metaint;
  r->audio_left = metaint;
}

void rt_icy_reader_feed(rt_icy_reader *r, const uint8_t *data, size_t datalen,
                        const rt_icy_sink *sink) {
  if (r->metaint == 0) {
    if (datalen > 0) sink->audio(sink->user, data, datalen);
    return;
  }
  while (datalen > 0) {
    if (!r->in_meta) {
      size_t n = datalen < r->audio_left ? datalen : r->audio_left;
      if (n > 0) sink->audio(sink->user, data, n);
      data += n;
      datalen -= n;
      r->audio_left -= (uint32_t)n;
      if (r->audio_left == 0) {
        r->in_meta = true;
        r->meta_have = 0;
        r->meta_need = 0;
      }
      continue;
    }
    if (r->meta_have == 0) {
      /* The length byte: 16-byte units that follow. */
      r->meta[0] = *data++;
      datalen--;
      r->meta_have = 1;
      r->meta_need = 1 + (uint32_t)r->meta[0] * SC_HTTP_ICY_META_UNIT_BYTES;
    }
    size_t n = r->meta_need - r->meta_have;
    if (n > datalen) n = datalen;
    memcpy(r->meta + r->meta_have, data, n);
    r->meta_have += (uint32_t)n;
    data += n;
    datalen -= n;
    if (r->meta_have == r->meta_need) {
      sink->meta(sink->user, r->meta, r->meta_need);
      r->in_meta = false;
      r->audio_left = r->metaint;
    }
  }
}
