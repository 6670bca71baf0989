/* encoder.c — the built-in encoder (see encoder.h). */
#include "encoder.h"

#include <FLAC/metadata.h>
#include <FLAC/stream_encoder.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <opus/opusenc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/flags.h"
#include "core/err.h"

/* Samples converted for the encoder per call (per channel). */
#define ENC_CHUNK_SAMPLES 960

struct rt_encoder {
  rt_encoder_config cfg;
  rt_pcm_format fmt;
  int fd;
  bool own_fd;
  bool is_file; /* paced by the audio clock; else by arrival */
  bool eof;
  bool drained;
  uint64_t data_left; /* PCM bytes the WAV's data chunk still holds */
  uint8_t *buf;       /* PCM read, not yet encoded: at most RT_ENC_READ_MAX + a frame */
  size_t buflen;
  uint64_t start_ns;
  uint64_t now; /* of the call that feeds */
  rt_station_source *st;
  OggOpusEnc *opus;
  OggOpusComments *comments;
  FLAC__StreamEncoder *flac;
  FLAC__StreamMetadata *vc;
  int16_t pcm16[ENC_CHUNK_SAMPLES * RT_ENC_CHANNELS_MAX];
  FLAC__int32 pcm32[ENC_CHUNK_SAMPLES * RT_ENC_CHANNELS_MAX];
  rt_encoder_stats s;
};

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...) {
  if (!why || whylen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
}

int rt_enc_parse_spec(const char *s, rt_enc_spec *out, char *why, size_t whylen) {
  rt_enc_spec r = {RT_ENC_NONE, 0};
  if (strcmp(s, "flac") == 0) {
    r.codec = RT_ENC_FLAC;
  } else if (strcmp(s, "opus") == 0) {
    r.codec = RT_ENC_OPUS;
    r.kbps = RT_ENC_OPUS_KBPS_DEFAULT;
  } else if (strncmp(s, "opus:", 5) == 0) {
    uint64_t k;
    char w[128];
    if (flags_u64(s + 5, RT_ENC_OPUS_KBPS_MIN, RT_ENC_OPUS_KBPS_MAX, &k, w, sizeof w)) {
      set_why(why, whylen, "opus bit rate: %s", w);
      return SC_ERR_INVALID;
    }
    r.codec = RT_ENC_OPUS;
    r.kbps = (uint32_t)k;
  } else {
    set_why(why, whylen, "expected opus, opus:KBPS or flac, got '%s'", s);
    return SC_ERR_INVALID;
  }
  *out = r;
  return 0;
}

int rt_pcm_parse_format(const char *s, rt_pcm_format *out, char *why, size_t whylen) {
  static const char pre[] = "s16le:";
  if (strncmp(s, pre, sizeof pre - 1) != 0) {
    set_why(why, whylen, "expected s16le:RATE:CHANNELS, got '%s'", s);
    return SC_ERR_INVALID;
  }
  const char *r = s + sizeof pre - 1;
  const char *colon = strchr(r, ':');
  char rate[32], w[128];
  if (!colon || (size_t)(colon - r) >= sizeof rate) {
    set_why(why, whylen, "expected s16le:RATE:CHANNELS, got '%s'", s);
    return SC_ERR_INVALID;
  }
  memcpy(rate, r, (size_t)(colon - r));
  rate[colon - r] = '\0';
  uint64_t hz, ch;
  if (flags_u64(rate, RT_ENC_RATE_MIN, RT_ENC_RATE_MAX, &hz, w, sizeof w)) {
    set_why(why, whylen, "rate: %s", w);
    return SC_ERR_INVALID;
  }
  if (flags_u64(colon + 1, 1, RT_ENC_CHANNELS_MAX, &ch, w, sizeof w)) {
    set_why(why, whylen, "channels: %s", w);
    return SC_ERR_INVALID;
  }
  out->rate_hz = (uint32_t)hz;
  out->channels = (uint32_t)ch;
  return 0;
}

/* Reads the WAV header, blocking (a pipe's writer sends it first). */
static int read_header(rt_encoder *e, char *err, size_t errlen) {
  uint8_t *hdr = malloc(RT_WAV_HEADER_MAX);
  if (!hdr) return SC_ERR_NOMEM;
  size_t len = 0;
  int rv;
  for (;;) {
    size_t off;
    uint64_t nbytes;
    char why[200] = "";
    rv = rt_wav_parse(hdr, len, &e->fmt, &off, &nbytes, why, sizeof why);
    if (rv == 0) {
      e->data_left = nbytes;
      size_t extra = len - off;
      if (extra > nbytes) extra = (size_t)nbytes;
      memcpy(e->buf, hdr + off, extra);
      e->buflen = extra;
      e->data_left -= nbytes == UINT64_MAX ? 0 : extra;
      e->s.pcm_bytes += extra;
      break;
    }
    if (rv != SC_ERR_TRUNCATED) {
      set_why(err, errlen, "--input %s: %s", e->cfg.input,
              why[0] ? why : "not a 16-bit PCM WAV file");
      break;
    }
    ssize_t n = read(e->fd, hdr + len, RT_WAV_HEADER_MAX - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      set_why(err, errlen, "--input %s: %s before the WAV header ended%s", e->cfg.input,
              n < 0 ? strerror(errno) : "end of input",
              len < 12 ? " (not a WAV file? for raw PCM give --input-format)" : "");
      rv = SC_ERR_INVALID;
      break;
    }
    len += (size_t)n;
  }
  free(hdr);
  return rv;
}

int rt_encoder_open(rt_encoder **out, const rt_encoder_config *cfg, char *err,
                    size_t errlen) {
  *out = NULL;
  if (cfg->spec.codec == RT_ENC_NONE) {
    set_why(err, errlen, "--encode: no codec");
    return SC_ERR_INVALID;
  }
  if (cfg->title && strlen(cfg->title) > RT_ENC_TITLE_MAX) {
    set_why(err, errlen, "--title: longer than %d bytes", RT_ENC_TITLE_MAX);
    return SC_ERR_INVALID;
  }
  rt_encoder *e = calloc(1, sizeof *e);
  if (!e) return SC_ERR_NOMEM;
  e->cfg = *cfg;
  e->buf = malloc(RT_ENC_READ_MAX + 2 * RT_ENC_CHANNELS_MAX);
  if (!e->buf) {
    free(e);
    return SC_ERR_NOMEM;
  }
  e->fd = -1;
  if (strcmp(cfg->input, "-") == 0) {
    e->fd = STDIN_FILENO;
  } else {
    e->fd = open(cfg->input, O_RDONLY | O_CLOEXEC);
    if (e->fd < 0) {
      set_why(err, errlen, "--input %s: %s", cfg->input, strerror(errno));
      rt_encoder_del(e);
      return SC_ERR_INVALID;
    }
    e->own_fd = true;
  }
  struct stat st;
  if (fstat(e->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    set_why(err, errlen, "--input %s: %s", cfg->input,
            S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
    rt_encoder_del(e);
    return SC_ERR_INVALID;
  }
  e->is_file = S_ISREG(st.st_mode);
  if (cfg->raw) {
    e->fmt = cfg->raw_fmt;
    e->data_left = UINT64_MAX;
  } else {
    int rv = read_header(e, err, errlen);
    if (rv != 0) {
      rt_encoder_del(e);
      return rv;
    }
  }
  if (!e->is_file) {
    /* A pipe or terminal: never block the loop waiting for samples. */
    int fl = fcntl(e->fd, F_GETFL);
    if (fl >= 0) (void)fcntl(e->fd, F_SETFL, fl | O_NONBLOCK);
  }
  *out = e;
  return 0;
}

void rt_encoder_del(rt_encoder *e) {
  if (!e) return;
  if (e->opus) ope_encoder_destroy(e->opus);
  if (e->comments) ope_comments_destroy(e->comments);
  if (e->flac) FLAC__stream_encoder_delete(e->flac);
  if (e->vc) FLAC__metadata_object_delete(e->vc);
  if (e->own_fd && e->fd >= 0) close(e->fd);
  free(e->buf);
  free(e);
}

rt_pcm_format rt_encoder_format(const rt_encoder *e) {
  return e->fmt;
}

static void feed(rt_encoder *e, const uint8_t *p, size_t n) {
  e->s.pages++;
  e->s.out_bytes += n;
  if (rt_station_source_feed(e->st, p, n, e->now) != 0) e->s.feed_errors++;
}

static int opus_write(void *user, const unsigned char *p, opus_int32 len) {
  feed(user, p, (size_t)len);
  return 0;
}

static int opus_close(void *user) {
  (void)user;
  return 0;
}

static FLAC__StreamEncoderWriteStatus flac_write(const FLAC__StreamEncoder *enc,
                                                 const FLAC__byte buffer[], size_t bytes,
                                                 uint32_t samples, uint32_t frame,
                                                 void *user) {
  (void)enc;
  (void)samples;
  (void)frame;
  feed(user, buffer, bytes);
  return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static int start_opus(rt_encoder *e, char *err, size_t errlen) {
  int rv = 0;
  e->comments = ope_comments_create();
  if (!e->comments) return SC_ERR_NOMEM;
  if (e->cfg.title && ope_comments_add(e->comments, "TITLE", e->cfg.title) != OPE_OK)
    return SC_ERR_NOMEM;
  OpusEncCallbacks cb = {opus_write, opus_close};
  /* Mapping family 0 for mono and stereo, 1 (Vorbis channel order) above
   * (RFC 7845 §5.1.1). */
  int family = e->fmt.channels > 2 ? 1 : 0;
  e->opus = ope_encoder_create_callbacks(&cb, e, e->comments, (opus_int32)e->fmt.rate_hz,
                                         (int)e->fmt.channels, family, &rv);
  if (!e->opus) {
    set_why(err, errlen, "opus encoder: %s", ope_strerror(rv));
    return SC_ERR_INVALID;
  }
  /* Live settings: no look-ahead for its decisions, pages flushed every
   * RT_ENC_OPUS_PAGE_MS of audio (the muxing delay is in 48 kHz samples). */
  if (ope_encoder_ctl(e->opus, OPUS_SET_BITRATE((opus_int32)e->cfg.spec.kbps * 1000)) !=
          OPE_OK ||
      ope_encoder_ctl(e->opus, OPUS_SET_EXPERT_FRAME_DURATION(OPUS_FRAMESIZE_20_MS)) !=
          OPE_OK ||
      ope_encoder_ctl(e->opus, OPE_SET_DECISION_DELAY(0)) != OPE_OK ||
      ope_encoder_ctl(e->opus, OPE_SET_MUXING_DELAY(RT_ENC_OPUS_PAGE_MS * 48)) !=
          OPE_OK ||
      ope_encoder_ctl(e->opus, OPE_SET_COMMENT_PADDING(RT_ENC_OPUS_COMMENT_PADDING)) !=
          OPE_OK) {
    set_why(err, errlen, "opus encoder: a setting was refused");
    return SC_ERR_INVALID;
  }
  rv = ope_encoder_flush_header(e->opus);
  if (rv != OPE_OK) {
    set_why(err, errlen, "opus encoder: %s", ope_strerror(rv));
    return SC_ERR_INVALID;
  }
  return 0;
}

static int start_flac(rt_encoder *e, uint64_t seed, char *err, size_t errlen) {
  e->flac = FLAC__stream_encoder_new();
  if (!e->flac) return SC_ERR_NOMEM;
  FLAC__StreamEncoder *f = e->flac;
  bool ok = FLAC__stream_encoder_set_ogg_serial_number(f, (long)(seed & 0x7fffffff)) &&
            FLAC__stream_encoder_set_channels(f, e->fmt.channels) &&
            FLAC__stream_encoder_set_bits_per_sample(f, 16) &&
            FLAC__stream_encoder_set_sample_rate(f, e->fmt.rate_hz) &&
            FLAC__stream_encoder_set_compression_level(f, 5) &&
            FLAC__stream_encoder_set_blocksize(f, RT_ENC_FLAC_BLOCK_SAMPLES) &&
            FLAC__stream_encoder_set_streamable_subset(f, true) &&
            FLAC__stream_encoder_set_verify(f, false);
  if (ok && e->cfg.title) {
    FLAC__StreamMetadata_VorbisComment_Entry entry;
    e->vc = FLAC__metadata_object_new(FLAC__METADATA_TYPE_VORBIS_COMMENT);
    ok = e->vc &&
         FLAC__metadata_object_vorbiscomment_entry_from_name_value_pair(&entry, "TITLE",
                                                                        e->cfg.title) &&
         FLAC__metadata_object_vorbiscomment_append_comment(e->vc, entry, false) &&
         FLAC__stream_encoder_set_metadata(f, &e->vc, 1);
  }
  if (!ok) {
    set_why(err, errlen, "flac encoder: a setting was refused");
    return SC_ERR_INVALID;
  }
  /* No seek callback: a live stream's STREAMINFO is not rewritten at the
   * end (its total sample count stays 0, "unknown"). */
  FLAC__StreamEncoderInitStatus st =
      FLAC__stream_encoder_init_ogg_stream(f, NULL, flac_write, NULL, NULL, NULL, e);
  if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
    set_why(err, errlen, "flac encoder: %s", FLAC__StreamEncoderInitStatusString[st]);
    return SC_ERR_INVALID;
  }
  return 0;
}

int rt_encoder_start(rt_encoder *e, rt_station_source *st, const char *info, uint64_t now,
                     char *err, size_t errlen) {
  e->st = st;
  e->now = now;
  e->start_ns = now;
  int rv = rt_station_source_begin(st, SC_MEDIA_OGG, info ? info : "", now);
  if (rv != 0) {
    set_why(err, errlen, "station source: %s", sc_strerror(rv));
    return rv;
  }
  if (e->cfg.title) (void)rt_station_source_title(st, e->cfg.title, now);
  if (e->cfg.spec.codec == RT_ENC_OPUS) return start_opus(e, err, errlen);
  return start_flac(e, now ^ (uint64_t)getpid(), err, errlen);
}

/* Encodes n whole sample frames of little-endian s16 from p. */
static void encode(rt_encoder *e, const uint8_t *p, size_t frames) {
  uint32_t ch = e->fmt.channels;
  while (frames > 0) {
    size_t k = frames < ENC_CHUNK_SAMPLES ? frames : ENC_CHUNK_SAMPLES;
    for (size_t i = 0; i < k * ch; i++) {
      int16_t v = (int16_t)(uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
      if (e->opus)
        e->pcm16[i] = v;
      else
        e->pcm32[i] = v;
    }
    if (e->opus)
      (void)ope_encoder_write(e->opus, e->pcm16, (int)k);
    else
      (void)FLAC__stream_encoder_process_interleaved(e->flac, e->pcm32, (uint32_t)k);
    e->s.samples += k;
    p += k * ch * 2;
    frames -= k;
  }
}

static void drain(rt_encoder *e) {
  if (e->drained) return;
  e->drained = true;
  size_t fb = 2 * (size_t)e->fmt.channels;
  e->s.odd_bytes += e->buflen % fb;
  e->buflen = 0;
  if (e->opus)
    (void)ope_encoder_drain(e->opus);
  else if (e->flac)
    (void)FLAC__stream_encoder_finish(e->flac);
}

int rt_encoder_tick(rt_encoder *e, uint64_t now) {
  if (e->drained) return 1;
  e->now = now;
  size_t fb = 2 * (size_t)e->fmt.channels;
  /* How many bytes to read now: a file up to where the audio clock is (one
   * chunk ahead, so the encoder is never starved between ticks). */
  size_t want = RT_ENC_READ_MAX - e->buflen;
  if (e->is_file) {
    uint64_t due =
        (now - e->start_ns) / 1000 * e->fmt.rate_hz / 1000000 + ENC_CHUNK_SAMPLES;
    uint64_t done = e->s.pcm_bytes / fb;
    uint64_t ahead = due > done ? (due - done) * fb : 0;
    if (ahead < want) want = (size_t)ahead;
  }
  if (e->data_left < want) want = (size_t)e->data_left;
  while (!e->eof && want > 0) {
    ssize_t n = read(e->fd, e->buf + e->buflen, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      e->s.read_errors++;
      fprintf(stderr, "stripecast: --input %s: %s (treated as the end)\n", e->cfg.input,
              strerror(errno));
    }
    if (n <= 0) {
      e->eof = true;
      break;
    }
    e->buflen += (size_t)n;
    e->s.pcm_bytes += (size_t)n;
    if (e->data_left != UINT64_MAX) e->data_left -= (uint64_t)n;
    want -= (size_t)n;
    if (!e->is_file) break; /* what arrived; more on the next tick */
  }
  if (e->data_left == 0) e->eof = true;
  size_t frames = e->buflen / fb;
  if (frames > 0) {
    encode(e, e->buf, frames);
    size_t used = frames * fb;
    memmove(e->buf, e->buf + used, e->buflen - used);
    e->buflen -= used;
  }
  if (e->eof) {
    drain(e);
    return 1;
  }
  return 0;
}

void rt_encoder_get_stats(const rt_encoder *e, rt_encoder_stats *out) {
  *out = e->s;
}
