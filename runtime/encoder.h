/*
 * encoder.h — the broadcasting peer's built-in encoder: PCM from a file or
 * stdin (a WAV file, or raw s16le with a stated rate and channel count) is
 * encoded to Ogg Opus (libopusenc) or Ogg FLAC (libFLAC) and the pages are
 * fed to the station source (station_source.h) as one session.
 *
 * Pacing is by the audio clock: a file is read at real time (samples /
 * rate since the start), a pipe as its bytes arrive. Both encoders are set
 * up for a live stream: Opus in 20 ms frames with no decision delay and a
 * page at least every RT_ENC_OPUS_PAGE_MS, FLAC in the streamable subset with
 * RT_ENC_FLAC_BLOCK_SAMPLES-sample blocks, so that a page leaves the encoder
 * a few frames after its samples came in.
 */
#ifndef SC_RUNTIME_ENCODER_H
#define SC_RUNTIME_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "station_source.h"

/* Bounds of the PCM the encoders take. */
#define RT_ENC_RATE_MIN     8000
#define RT_ENC_RATE_MAX     192000
#define RT_ENC_CHANNELS_MAX 8
/* Opus bit rate bounds (kbit/s) and the default. */
#define RT_ENC_OPUS_KBPS_MIN     6
#define RT_ENC_OPUS_KBPS_MAX     510
#define RT_ENC_OPUS_KBPS_DEFAULT 128
/* Longest media time an Ogg Opus page holds before it is flushed (libopusenc's
 * muxing delay), and the comment header's padding (no tags are added later). */
#define RT_ENC_OPUS_PAGE_MS         100
#define RT_ENC_OPUS_COMMENT_PADDING 0
/* FLAC block size in samples: about 21 ms at 48 kHz (a page every few). */
#define RT_ENC_FLAC_BLOCK_SAMPLES 1024
/* A WAV header (RIFF, fmt and any chunks before data) longer than this is
 * refused. */
#define RT_WAV_HEADER_MAX 65536
/* Input bytes read per tick at most. */
#define RT_ENC_READ_MAX (64 * 1024)
/* A title (--title) longer than this is refused. */
#define RT_ENC_TITLE_MAX 1024

typedef enum { RT_ENC_NONE = 0, RT_ENC_OPUS, RT_ENC_FLAC } rt_enc_codec;

typedef struct rt_enc_spec {
  rt_enc_codec codec;
  uint32_t kbps; /* Opus: the bit rate; FLAC: 0 (lossless) */
} rt_enc_spec;

typedef struct rt_pcm_format {
  uint32_t rate_hz;
  uint32_t channels;
} rt_pcm_format;

/* "opus", "opus:KBPS" or "flac". Returns 0, or SC_ERR_INVALID with why. */
int rt_enc_parse_spec(const char *s, rt_enc_spec *out, char *why, size_t whylen);
/* "s16le:RATE:CHANNELS". Returns 0, or SC_ERR_INVALID with why. */
int rt_pcm_parse_format(const char *s, rt_pcm_format *out, char *why, size_t whylen);

/* A WAV header in buf[0..len): RIFF/WAVE, a fmt chunk of 16-bit PCM
 * (WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format),
 * chunks before data skipped. On 0 *data_off is where the samples start
 * and *data_bytes their length (UINT64_MAX: to the end of the input, as a
 * writer on a pipe leaves it). SC_ERR_TRUNCATED: more bytes needed (up to
 * RT_WAV_HEADER_MAX); SC_ERR_INVALID: not such a file (why says what). */
int rt_wav_parse(const uint8_t *buf, size_t len, rt_pcm_format *fmt, size_t *data_off,
                 uint64_t *data_bytes, char *why, size_t whylen);

typedef struct rt_encoder_config {
  const char *input; /* a path, or "-" for stdin */
  rt_enc_spec spec;
  bool raw; /* raw s16le in raw_fmt; else a WAV header is read */
  rt_pcm_format raw_fmt;
  const char *title; /* NULL: none */
} rt_encoder_config;

typedef struct rt_encoder_stats {
  uint64_t pcm_bytes;   /* PCM bytes read (headers excluded) */
  uint64_t samples;     /* sample frames encoded (per channel) */
  uint64_t out_bytes;   /* Ogg bytes fed to the station */
  uint64_t pages;       /* write callbacks (pages or page parts) */
  uint64_t feed_errors; /* the station source refused bytes */
  uint64_t read_errors; /* read errors other than EAGAIN */
  uint64_t odd_bytes;   /* trailing bytes that made no whole sample frame */
} rt_encoder_stats;

typedef struct rt_encoder rt_encoder;

/* Opens the input and reads a WAV header (a pipe's header is waited for).
 * Returns 0, or a negative code with one line in err (the input cannot be
 * opened, is not 16-bit PCM WAV, or its format is out of bounds). */
int rt_encoder_open(rt_encoder **out, const rt_encoder_config *cfg, char *err,
                    size_t errlen);
void rt_encoder_del(rt_encoder *e);
/* The input's PCM format. */
rt_pcm_format rt_encoder_format(const rt_encoder *e);
/* Starts the session on st: begin (Ogg, with the station info lines info),
 * the title, the codec headers. The audio clock starts at now. Returns 0 or
 * a negative code with err. */
int rt_encoder_start(rt_encoder *e, rt_station_source *st, const char *info, uint64_t now,
                     char *err, size_t errlen);
/* Reads what the audio clock allows (a file) or what arrived (a pipe) and
 * feeds the pages. Returns 0 while the input lasts, 1 once it ended and the
 * encoder drained (the session is left open for the caller to end). */
int rt_encoder_tick(rt_encoder *e, uint64_t now);
void rt_encoder_get_stats(const rt_encoder *e, rt_encoder_stats *out);

#endif
