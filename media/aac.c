/*
 * aac.c — AAC in ADTS frames (ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2.2)
 * as framer units, the form Icecast relays as audio/aac and audio/aacp.
 *
 * Every frame is a unit and a sync point: each carries its own header, and
 * decoders start at any of them. The generic part (audioframe.c) adds
 * resynchronisation, an ID3v2 tag at the start, and media time.
 */
#include "media/audioframe.h"

enum {
  ADTS_HEADER_LEN = 7,           /* without the CRC */
  ADTS_SAMPLES_PER_BLOCK = 1024, /* per raw data block (AAC-LC frame length) */
};

/* Hz by sampling_frequency_index; 13 and 14 are reserved, 15 means an
 * explicit rate, which ADTS cannot carry. */
static const uint32_t adts_rate_hz[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                          22050, 16000, 12000, 11025, 8000,  7350};

static bool adts_parse(const uint8_t *h, sc_audioframe_info *fi) {
  /* syncword (12 bits), ID, layer (2 bits, always 0), protection_absent */
  if (h[0] != 0xff || (h[1] & 0xf6) != 0xf0) return false;
  unsigned profile = h[2] >> 6, rate_index = (h[2] >> 2) & 0xf;
  unsigned channels = (h[2] & 1) << 2 | h[3] >> 6;
  size_t len = (size_t)(h[3] & 3) << 11 | (size_t)h[4] << 3 | h[5] >> 5;
  unsigned blocks = (h[6] & 3) + 1u;
  bool crc = !(h[1] & 1);
  if (rate_index >= 13 || len < ADTS_HEADER_LEN + (crc ? 2u : 0u)) return false;
  fi->len = len;
  fi->samples = ADTS_SAMPLES_PER_BLOCK * blocks;
  fi->rate_hz = adts_rate_hz[rate_index];
  fi->key = (h[1] & 0x08) << 8 | profile << 7 | rate_index << 3 | channels;
  return true;
}

static const sc_audioframe_kind aac_kind = {.header_len = ADTS_HEADER_LEN,
                                            .parse = adts_parse};

static void aac_init(void *state) {
  sc_audioframe_init(state);
}

static void aac_cut(void *state, const uint8_t *buf, size_t buflen, bool at_end,
                    sc_media_cut *cut) {
  sc_audioframe_cut(&aac_kind, state, buf, buflen, at_end, cut);
}

const sc_media_format sc_media_format_aac = {
    .kind = SC_MEDIA_AAC,
    .state_size = sizeof(sc_audioframe_state),
    /* A frame is at most 8,191 bytes (13-bit length); tags pass in larger units. */
    .unit_max = SC_AUDIOFRAME_TAG_UNIT_MAX,
    .init = aac_init,
    .cut = aac_cut,
};

bool sc_media_aac_probe(const uint8_t *data, size_t datalen) {
  return sc_audioframe_probe(&aac_kind, data, datalen, false);
}
