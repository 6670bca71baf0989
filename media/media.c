/*
 * media.c — the generic framer: buffering, header keeping and counting shared
 * by every container format (format.h). A format only measures units.
 */
#include "media/media.h"

#include <string.h>

#include "core/err.h"
#include "media/format.h"

struct sc_media_framer {
  const sc_alloc *alloc;
  sc_media_kind kind;
  const sc_media_format *format; /* NULL for UNKNOWN: bytes pass through */
  void *state;
  uint8_t *buf; /* bytes of the unit being assembled */
  size_t buflen, bufcap;
  uint8_t *headers;
  size_t headerslen, headerscap;
  bool headers_overflow; /* the current set passed SC_MEDIA_HEADERS_MAX */
  sc_media_stats stats;
};

static const sc_media_format *format_of(sc_media_kind kind) {
  switch (kind) {
  case SC_MEDIA_OGG:
    return &sc_media_format_ogg;
  case SC_MEDIA_MP3:
    return &sc_media_format_mp3;
  case SC_MEDIA_AAC:
    return &sc_media_format_aac;
  case SC_MEDIA_WEBM:
    return &sc_media_format_webm;
  case SC_MEDIA_MPEGTS:
    return &sc_media_format_mpegts;
  default:
    return NULL;
  }
}

static int ascii_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does s begin with the media type t (ending at ';', a space or the end)? */
static bool content_type_is(const char *s, const char *t) {
  while (*s == ' ' || *s == '\t')
    s++;
  for (; *t; s++, t++)
    if (ascii_lower((unsigned char)*s) != *t) return false;
  return *s == '\0' || *s == ';' || *s == ' ' || *s == '\t';
}

sc_media_kind sc_media_kind_from_content_type(const char *ct) {
  static const struct {
    const char *type;
    sc_media_kind kind;
  } table[] = {
      {"application/ogg", SC_MEDIA_OGG},   {"audio/ogg", SC_MEDIA_OGG},
      {"video/ogg", SC_MEDIA_OGG},         {"audio/opus", SC_MEDIA_OGG},
      {"audio/flac", SC_MEDIA_OGG},        {"audio/mpeg", SC_MEDIA_MP3},
      {"audio/aac", SC_MEDIA_AAC},         {"audio/aacp", SC_MEDIA_AAC},
      {"audio/webm", SC_MEDIA_WEBM},       {"video/webm", SC_MEDIA_WEBM},
      {"video/x-matroska", SC_MEDIA_WEBM}, {"audio/x-matroska", SC_MEDIA_WEBM},
      {"video/mp2t", SC_MEDIA_MPEGTS},
  };
  if (!ct) return SC_MEDIA_UNKNOWN;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (content_type_is(ct, table[i].type)) return table[i].kind;
  return SC_MEDIA_UNKNOWN;
}

const char *sc_media_kind_name(sc_media_kind kind) {
  switch (kind) {
  case SC_MEDIA_OGG:
    return "ogg";
  case SC_MEDIA_MP3:
    return "mp3";
  case SC_MEDIA_AAC:
    return "aac";
  case SC_MEDIA_WEBM:
    return "webm";
  case SC_MEDIA_MPEGTS:
    return "mpegts";
  default:
    return "unknown";
  }
}

int sc_media_framer_new(sc_media_framer **out, sc_media_kind kind,
                        const sc_alloc *alloc) {
  if (!out || kind < SC_MEDIA_UNKNOWN || kind > SC_MEDIA_MPEGTS) return SC_ERR_INVALID;
  if (!alloc) alloc = sc_alloc_default();
  sc_media_framer *f = alloc->calloc(1, sizeof *f, alloc->user);
  if (!f) return SC_ERR_NOMEM;
  f->alloc = alloc;
  f->kind = kind;
  f->format = format_of(kind);
  if (f->format) {
    f->state =
        alloc->calloc(1, f->format->state_size ? f->format->state_size : 1, alloc->user);
    if (!f->state) {
      alloc->free(f, alloc->user);
      return SC_ERR_NOMEM;
    }
    f->format->init(f->state);
  }
  *out = f;
  return SC_OK;
}

void sc_media_framer_del(sc_media_framer *f) {
  if (!f) return;
  const sc_alloc *a = f->alloc;
  a->free(f->state, a->user);
  a->free(f->buf, a->user);
  a->free(f->headers, a->user);
  a->free(f, a->user);
}

static int grow(const sc_alloc *a, uint8_t **p, size_t *cap, size_t need) {
  if (need <= *cap) return SC_OK;
  size_t cap2 = *cap ? *cap : 4096;
  while (cap2 < need)
    cap2 *= 2;
  uint8_t *q = a->realloc(*p, cap2, a->user);
  if (!q) return SC_ERR_NOMEM;
  *p = q;
  *cap = cap2;
  return SC_OK;
}

/* Keep a header unit; a set too large to keep is dropped whole (a partial set
 * would make late listeners' decoders fail in confusing ways). */
static void keep_header(sc_media_framer *f, const sc_media_unit *u) {
  if (u->flags & SC_MEDIA_UNIT_NEW_HEADERS) {
    f->headerslen = 0;
    f->headers_overflow = false;
    f->stats.header_sets++;
  }
  if (f->headers_overflow) return;
  if (f->headerslen + u->datalen > SC_MEDIA_HEADERS_MAX ||
      grow(f->alloc, &f->headers, &f->headerscap, f->headerslen + u->datalen) != SC_OK) {
    f->headers_overflow = true;
    f->headerslen = 0;
    return;
  }
  memcpy(f->headers + f->headerslen, u->data, u->datalen);
  f->headerslen += u->datalen;
}

static void emit(sc_media_framer *f, const uint8_t *data, size_t len, uint32_t flags,
                 int64_t end_us, sc_media_unit_cb cb, void *user) {
  sc_media_unit u = {.data = data, .datalen = len, .flags = flags, .end_us = end_us};
  f->stats.units++;
  if (flags & SC_MEDIA_UNIT_SYNC) f->stats.sync_units++;
  if (flags & SC_MEDIA_UNIT_GARBAGE) f->stats.garbage_bytes += len;
  if (flags & SC_MEDIA_UNIT_HEADER) {
    f->stats.header_units++;
    keep_header(f, &u);
  }
  cb(user, &u);
}

/* Cut as many units as the buffer holds; returns how many bytes were used. */
static size_t cut_all(sc_media_framer *f, const uint8_t *buf, size_t len, bool at_end,
                      sc_media_unit_cb cb, void *user) {
  size_t used = 0;
  while (used < len) {
    sc_media_cut c = {0, 0, -1};
    f->format->cut(f->state, buf + used, len - used, at_end, &c);
    if (c.len == 0) {
      if (len - used < f->format->unit_max && !at_end) break;
      /* The format waits for more than any unit can be, or the input ended:
       * what is here cannot become a unit. */
      c.len = len - used < f->format->unit_max ? len - used : f->format->unit_max;
      c.flags = SC_MEDIA_UNIT_GARBAGE;
      c.end_us = -1;
    }
    if (c.len > len - used)
      c.len = len - used; /* a format bug must not read past the buffer */
    emit(f, buf + used, c.len, c.flags, c.end_us, cb, user);
    used += c.len;
  }
  return used;
}

int sc_media_framer_feed(sc_media_framer *f, const uint8_t *data, size_t datalen,
                         sc_media_unit_cb cb, void *user) {
  f->stats.bytes += datalen;
  if (datalen == 0) return SC_OK;
  if (!f->format) {
    emit(f, data, datalen, 0, -1, cb, user);
    return SC_OK;
  }
  if (f->buflen == 0) {
    /* Cut straight from the caller's bytes; buffer only the tail. */
    size_t used = cut_all(f, data, datalen, false, cb, user);
    data += used;
    datalen -= used;
  }
  if (datalen == 0) return SC_OK;
  int rc = grow(f->alloc, &f->buf, &f->bufcap, f->buflen + datalen);
  if (rc != SC_OK) return rc;
  memcpy(f->buf + f->buflen, data, datalen);
  f->buflen += datalen;
  size_t used = cut_all(f, f->buf, f->buflen, false, cb, user);
  memmove(f->buf, f->buf + used, f->buflen - used);
  f->buflen -= used;
  return SC_OK;
}

void sc_media_framer_flush(sc_media_framer *f, sc_media_unit_cb cb, void *user) {
  if (f->format && f->buflen) {
    size_t used = cut_all(f, f->buf, f->buflen, true, cb, user);
    (void)used; /* at_end makes every byte a unit */
  }
  f->buflen = 0;
  if (f->format) f->format->init(f->state); /* a new source starts a new stream */
}

void sc_media_framer_headers(const sc_media_framer *f, const uint8_t **data,
                             size_t *datalen) {
  *data = f->headerslen ? f->headers : NULL;
  *datalen = f->headerslen;
}

sc_media_kind sc_media_framer_kind(const sc_media_framer *f) {
  return f->kind;
}

const sc_media_stats *sc_media_framer_stats(const sc_media_framer *f) {
  return &f->stats;
}

sc_media_kind sc_media_probe(const uint8_t *data, size_t datalen) {
  if (!data) return SC_MEDIA_UNKNOWN;
  if (sc_media_ogg_probe(data, datalen)) return SC_MEDIA_OGG;
  /* ADTS before MPEG audio: both may start with an ID3 tag, and the AAC probe
   * answers only when an ADTS frame follows it. */
  if (sc_media_aac_probe(data, datalen)) return SC_MEDIA_AAC;
  if (sc_media_mp3_probe(data, datalen)) return SC_MEDIA_MP3;
  /* The EBML magic (RFC 8794): a WebM or Matroska stream. */
  if (datalen >= 4 && data[0] == 0x1A && data[1] == 0x45 && data[2] == 0xDF &&
      data[3] == 0xA3)
    return SC_MEDIA_WEBM;
  /* Three transport packets in a row (ISO/IEC 13818-1: 0x47 every 188 bytes). */
  if (datalen > 376 && data[0] == 0x47 && data[188] == 0x47 && data[376] == 0x47)
    return SC_MEDIA_MPEGTS;
  return SC_MEDIA_UNKNOWN;
}
