/* wav.c — the WAV header of the built-in encoder's input (see encoder.h):
 * pure code over a buffer, so that it can be fuzzed alone. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "encoder.h"

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...) {
  if (!why || whylen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

/* The PCM sub-format GUID of WAVE_FORMAT_EXTENSIBLE (Microsoft's
 * KSDATAFORMAT_SUBTYPE_PCM, 00000001-0000-0010-8000-00aa00389b71). */
static const uint8_t wav_guid_pcm[16] = {1,    0, 0, 0,    0, 0,    0x10, 0,
                                         0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71};

int rt_wav_parse(const uint8_t *buf, size_t len, rt_pcm_format *fmt, size_t *data_off,
                 uint64_t *data_bytes, char *why, size_t whylen) {
  if (len < 12) {
    /* What came so far must begin "RIFF", then a size, then "WAVE". */
    if (memcmp(buf, "RIFF", len < 4 ? len : 4) != 0 ||
        (len > 8 && memcmp(buf + 8, "WAVE", len - 8) != 0))
      goto not_riff;
    return SC_ERR_TRUNCATED;
  }
  if (memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0) goto not_riff;
  size_t off = 12;
  bool have_fmt = false;
  rt_pcm_format f = {0, 0};
  for (;;) {
    if (off + 8 > len)
      return len >= RT_WAV_HEADER_MAX ? SC_ERR_INVALID : SC_ERR_TRUNCATED;
    uint32_t size = rd32(buf + off + 4);
    const uint8_t *id = buf + off;
    if (memcmp(id, "data", 4) == 0) {
      if (!have_fmt) {
        set_why(why, whylen, "WAV: data chunk before the fmt chunk");
        return SC_ERR_INVALID;
      }
      *fmt = f;
      *data_off = off + 8;
      /* A writer that could not seek back leaves 0 or 0xFFFFFFFF. */
      *data_bytes = size == 0 || size == 0xFFFFFFFFu ? UINT64_MAX : size;
      return 0;
    }
    if (off + 8 + (uint64_t)size > RT_WAV_HEADER_MAX) {
      set_why(why, whylen, "WAV: no data chunk within the first %d bytes",
              RT_WAV_HEADER_MAX);
      return SC_ERR_INVALID;
    }
    if (off + 8 + (size_t)size > len) return SC_ERR_TRUNCATED;
    if (memcmp(id, "fmt ", 4) == 0) {
      const uint8_t *c = buf + off + 8;
      if (size < 16) {
        set_why(why, whylen, "WAV: fmt chunk of %" PRIu32 " bytes", size);
        return SC_ERR_INVALID;
      }
      uint16_t tag = rd16(c), ch = rd16(c + 2), bits = rd16(c + 14);
      uint32_t rate = rd32(c + 4);
      bool pcm = tag == 1;
      if (tag == 0xFFFE && size >= 40) pcm = memcmp(c + 24, wav_guid_pcm, 16) == 0;
      if (!pcm) {
        set_why(why, whylen, "WAV: format 0x%04x is not PCM (only 16-bit PCM is taken)",
                tag);
        return SC_ERR_INVALID;
      }
      if (bits != 16) {
        set_why(why, whylen, "WAV: %u-bit samples (only 16-bit PCM is taken)", bits);
        return SC_ERR_INVALID;
      }
      if (ch < 1 || ch > RT_ENC_CHANNELS_MAX || rate < RT_ENC_RATE_MIN ||
          rate > RT_ENC_RATE_MAX) {
        set_why(why, whylen,
                "WAV: %u channels at %" PRIu32 " Hz (1..%d channels, %d..%d Hz taken)",
                ch, rate, RT_ENC_CHANNELS_MAX, RT_ENC_RATE_MIN, RT_ENC_RATE_MAX);
        return SC_ERR_INVALID;
      }
      f.rate_hz = rate;
      f.channels = ch;
      have_fmt = true;
    }
    off += 8 + (size_t)size + (size & 1); /* chunks are padded to even sizes */
  }
not_riff:
  set_why(why, whylen,
          "not a WAV file (RIFF/WAVE); for raw PCM give --input-format "
          "s16le:RATE:CHANNELS");
  return SC_ERR_INVALID;
}
