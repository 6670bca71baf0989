/*
 * mp3.c — MPEG-1, MPEG-2 and MPEG-2.5 audio frames, layers I, II and III
 * (ISO/IEC 11172-3 §2.4.2.3, ISO/IEC 13818-3; MPEG-2.5 is the Fraunhofer
 * extension to low sample rates) as framer units.
 *
 * Every frame is a unit and a sync point. Frames are located by their 11-bit
 * sync word; the generic part (audioframe.c) adds the ID3v2 tag at the start,
 * resynchronisation and media time.
 */
#include "media/audioframe.h"

enum {
  MPEG_V25 = 0, /* version field values */
  MPEG_V2 = 2,
  MPEG_V1 = 3,
  LAYER_III = 1, /* layer field values */
  LAYER_II = 2,
  LAYER_I = 3,
};

/* kbit/s by [MPEG-1?][layer I, II, III][index]; index 0 is "free format"
 * (the length is not in the header, so such frames cannot be cut: garbage)
 * and 15 is forbidden. */
static const uint16_t bitrate_kbps[2][3][15] = {
    {/* MPEG-2 and MPEG-2.5 */
     {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
     {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
     {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}},
    {/* MPEG-1 */
     {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
     {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
     {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}},
};

/* Hz by [version field][index]; version 1 is reserved, index 3 too. */
static const uint32_t rate_table_hz[4][3] = {
    {11025, 12000, 8000}, {0, 0, 0}, {22050, 24000, 16000}, {44100, 48000, 32000}};

static bool mp3_parse(const uint8_t *h, sc_audioframe_info *fi) {
  if (h[0] != 0xff || (h[1] & 0xe0) != 0xe0) return false;
  unsigned version = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3;
  unsigned bitrate_index = h[2] >> 4, rate_index = (h[2] >> 2) & 3,
           padding = (h[2] >> 1) & 1;
  if (version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 ||
      rate_index == 3)
    return false;
  bool mpeg1 = version == MPEG_V1;
  uint32_t bitrate = bitrate_kbps[mpeg1][3 - layer][bitrate_index] * 1000u;
  uint32_t rate = rate_table_hz[version][rate_index];
  /* Frame lengths (ISO/IEC 11172-3 §2.4.3.1): layer I counts 4-byte slots;
   * layers II and III count bytes, and MPEG-2/2.5 layer III frames hold half
   * as many samples. */
  if (layer == LAYER_I) {
    fi->samples = 384;
    fi->len = (12 * bitrate / rate + padding) * 4;
  } else if (layer == LAYER_III && !mpeg1) {
    fi->samples = 576;
    fi->len = 72 * bitrate / rate + padding;
  } else {
    fi->samples = 1152;
    fi->len = 144 * bitrate / rate + padding;
  }
  fi->rate_hz = rate;
  fi->key = version << 4 | layer << 2 | rate_index;
  return true;
}

static const sc_audioframe_kind mp3_kind = {.header_len = 4, .parse = mp3_parse};

static void mp3_init(void *state) {
  sc_audioframe_init(state);
}

static void mp3_cut(void *state, const uint8_t *buf, size_t buflen, bool at_end,
                    sc_media_cut *cut) {
  sc_audioframe_cut(&mp3_kind, state, buf, buflen, at_end, cut);
}

const sc_media_format sc_media_format_mp3 = {
    .kind = SC_MEDIA_MP3,
    .state_size = sizeof(sc_audioframe_state),
    /* The longest frame is 2,881 bytes (MPEG-2.5 layer II, 160 kbit/s at
     * 8 kHz, padded) plus the next header; tags pass in larger units. */
    .unit_max = SC_AUDIOFRAME_TAG_UNIT_MAX,
    .init = mp3_init,
    .cut = mp3_cut,
};

bool sc_media_mp3_probe(const uint8_t *data, size_t datalen) {
  return sc_audioframe_probe(&mp3_kind, data, datalen, true);
}
