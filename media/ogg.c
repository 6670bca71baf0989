/*
 * ogg.c — Ogg pages (RFC 3533) as framer units.
 *
 * One unit per page. A page is trusted only when its capture pattern, version
 * and CRC-32 check; anything else is garbage up to the next "OggS", where the
 * framer resynchronises. Header pages (each logical stream's BOS page and the
 * pages up to the end of its codec's header packets) are kept as station state;
 * a BOS page after data pages starts a new link of a chained stream and so a
 * new header set.
 *
 * libogg's ogg_sync_pageout is not used: it copies input into its own buffer
 * and skips the bytes between pages without saying how many or which, while
 * the framer must hand every byte on unchanged and count the garbage; it also
 * allocates as pages grow. The page format is small enough to parse here with
 * fixed state and no allocation.
 */
#include "media/format.h"

#include <string.h>

#include "core/err.h"

enum {
  OGG_HEADER_LEN = 27,                 /* fixed part of a page header (RFC 3533 §6) */
  OGG_SEGMENTS_MAX = 255,              /* lacing values per page */
  OGG_PAGE_MAX = 27 + 255 + 255 * 255, /* 65,307 bytes */
  OGG_STREAMS_MAX = 8,                 /* logical streams tracked per chain link */
  OGG_EXTRA_HEADERS_MAX = 255,         /* bound on a header count read from the stream */
  OGG_FLAG_CONTINUED = 0x01,
  OGG_FLAG_BOS = 0x02,
  OGG_FLAG_EOS = 0x04,
};

typedef enum {
  CODEC_UNKNOWN = 0,
  CODEC_OPUS,
  CODEC_VORBIS,
  CODEC_FLAC,
  CODEC_SPEEX,
  CODEC_THEORA,
  CODEC_SKELETON,
} ogg_codec;

typedef struct {
  uint32_t serial;
  ogg_codec codec;
  bool headers_done;
  bool eos;
  /* Header packets the codec announces, the BOS packet included; 0 for Ogg
   * FLAC with an unknown count (then the last-metadata-block flag ends them)
   * and for the skeleton (its EOS page ends them). */
  uint32_t header_packets;
  uint32_t packets_done; /* header packets completed so far */
  uint32_t rate_hz;      /* granule positions count samples at this rate; 0 unknown */
  uint32_t preskip;      /* Opus: samples to drop at the start (RFC 7845 §4.2) */
} ogg_stream;

typedef struct {
  ogg_stream streams[OGG_STREAMS_MAX];
  unsigned nstreams;
  bool link_has_data; /* a data page of the current link has been seen */
  bool link_has_theora;
  int64_t link_base_us; /* media time where the current link starts */
  int64_t last_end_us;  /* the latest end time given so far, -1 none */
} ogg_state;

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
  return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Ogg's CRC-32 (RFC 3533 §6, libogg's framing.c): polynomial 0x04c11db7, not
 * reflected, initial value 0, no final xor, over the whole page with the CRC
 * field taken as zero. Four bits at a time: a 16-entry table is enough and
 * easy to check against the polynomial. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x04c11db7u, 0x09823b6eu, 0x0d4326d9u, 0x130476dcu, 0x17c56b6bu,
    0x1a864db2u, 0x1e475005u, 0x2608edb8u, 0x22c9f00fu, 0x2f8ad6d6u, 0x2b4bcb61u,
    0x350c9b64u, 0x31cd86d3u, 0x3c8ea00au, 0x384fbdbdu,
};

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint32_t)p[i] << 24;
    crc = (crc << 4) ^ crc_nibble[crc >> 28];
    crc = (crc << 4) ^ crc_nibble[crc >> 28];
  }
  return crc;
}

static uint32_t page_crc(const uint8_t *page, size_t len) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t crc = crc_update(0, page, 22);
  crc = crc_update(crc, zero, 4);
  return crc_update(crc, page + 26, len - 26);
}

static void ogg_init(void *state) {
  ogg_state *s = state;
  memset(s, 0, sizeof *s);
  s->last_end_us = -1;
}

static const char capture[4] = {'O', 'g', 'g', 'S'};

/* Garbage from buf[0] up to the next possible page start at or after from: a
 * whole "OggS", or (more bytes to come) a prefix of it at the end. */
static size_t garbage_len(const uint8_t *buf, size_t buflen, size_t from, bool at_end) {
  for (size_t p = from; p < buflen; p++) {
    if (buf[p] != 'O') continue;
    size_t n = buflen - p < 4 ? buflen - p : 4;
    if (memcmp(buf + p, capture, n) == 0 && (n == 4 || !at_end)) return p;
  }
  return buflen;
}

static ogg_stream *find_stream(ogg_state *s, uint32_t serial) {
  for (unsigned i = 0; i < s->nstreams; i++)
    if (s->streams[i].serial == serial) return &s->streams[i];
  return NULL;
}

/* The first packet of a BOS page names the codec (RFC 7845 §5.1, the Vorbis I
 * spec §4.2.2, the Ogg FLAC mapping, the Theora spec §6.2, Speex's
 * speex_header.h, Ogg Skeleton 4). */
static void identify(ogg_stream *st, const uint8_t *p, size_t n) {
  st->codec = CODEC_UNKNOWN;
  st->header_packets = 1;
  if (n >= 19 && memcmp(p, "OpusHead", 8) == 0) {
    st->codec = CODEC_OPUS;
    st->header_packets = 2;
    st->rate_hz = 48000; /* Opus granule positions always count 48 kHz samples */
    st->preskip = (uint32_t)p[10] | (uint32_t)p[11] << 8;
  } else if (n >= 30 && p[0] == 0x01 && memcmp(p + 1, "vorbis", 6) == 0) {
    st->codec = CODEC_VORBIS;
    st->header_packets = 3;
    st->rate_hz = le32(p + 12);
  } else if (n >= 51 && p[0] == 0x7f && memcmp(p + 1, "FLAC", 4) == 0 &&
             memcmp(p + 9, "fLaC", 4) == 0) {
    st->codec = CODEC_FLAC;
    uint32_t more = (uint32_t)p[7] << 8 | p[8]; /* 0: unknown */
    st->header_packets = more ? 1 + more : 0;
    /* STREAMINFO follows its 4-byte block header at 13; the sample rate is its
     * 20 bits at offset 10. */
    st->rate_hz = (uint32_t)p[27] << 12 | (uint32_t)p[28] << 4 | (uint32_t)p[29] >> 4;
  } else if (n >= 80 && memcmp(p, "Speex   ", 8) == 0) {
    st->codec = CODEC_SPEEX;
    uint32_t extra = le32(p + 68);
    st->header_packets =
        2 + (extra < OGG_EXTRA_HEADERS_MAX ? extra : OGG_EXTRA_HEADERS_MAX);
    st->rate_hz = le32(p + 36);
  } else if (n >= 42 && p[0] == 0x80 && memcmp(p + 1, "theora", 6) == 0) {
    st->codec = CODEC_THEORA;
    st->header_packets = 3;
  } else if (n >= 8 && memcmp(p, "fishead", 8) == 0) {
    st->codec = CODEC_SKELETON;
    st->header_packets = 0;
  }
}

/* Microseconds for a granule position, or -1. */
static int64_t granule_us(const ogg_stream *st, uint64_t granule) {
  if (!st || st->rate_hz == 0 || granule == UINT64_MAX || granule > INT64_MAX) return -1;
  if (st->codec != CODEC_OPUS && st->codec != CODEC_VORBIS && st->codec != CODEC_FLAC &&
      st->codec != CODEC_SPEEX)
    return -1;
  uint64_t samples = granule > st->preskip ? granule - st->preskip : 0;
  uint64_t whole = samples / st->rate_hz, part = samples % st->rate_hz;
  if (whole > (uint64_t)INT64_MAX / 1000000u - 1) return -1;
  return (int64_t)(whole * 1000000u + part * 1000000u / st->rate_hz);
}

typedef struct {
  uint8_t flags;
  uint64_t granule;
  uint32_t serial;
  unsigned nseg;
  const uint8_t *lacing;
  const uint8_t *body;
  size_t bodylen;
} ogg_page;

/* Header packets completed on the page; for FLAC with an unknown count and the
 * skeleton, whether the page ends the headers. */
static void count_headers(ogg_stream *st, const ogg_page *pg) {
  size_t off = 0;
  bool starts = !(pg->flags & OGG_FLAG_CONTINUED);
  for (unsigned i = 0; i < pg->nseg; i++) {
    if (starts && st->codec == CODEC_FLAC && st->header_packets == 0 &&
        off < pg->bodylen && (pg->body[off] & 0x80)) {
      /* A metadata block header with the last-block flag (or a frame sync):
       * the headers end with this packet. */
      st->header_packets = st->packets_done + 1;
    }
    off += pg->lacing[i];
    starts = pg->lacing[i] < 255;
    if (starts) st->packets_done++;
  }
  if (st->codec == CODEC_SKELETON)
    st->headers_done = (pg->flags & OGG_FLAG_EOS) != 0;
  else if (st->header_packets && st->packets_done >= st->header_packets)
    st->headers_done = true;
}

/* Does a Theora intra frame begin on the page? A Theora data packet's first
 * bit is 0 and its second says intra (0) or inter (1) (Theora spec §7.1);
 * a zero-length packet repeats the previous frame. */
static bool theora_keyframe_begins(const ogg_page *pg) {
  size_t off = 0;
  bool starts = !(pg->flags & OGG_FLAG_CONTINUED);
  for (unsigned i = 0; i < pg->nseg; i++) {
    if (starts && pg->lacing[i] > 0 && (pg->body[off] & 0xc0) == 0) return true;
    off += pg->lacing[i];
    starts = pg->lacing[i] < 255;
  }
  return false;
}

/* Does a page of a stream still in its headers begin an audio or video packet
 * instead? Then a header page was lost (or the stream is malformed): the
 * headers end here rather than take in data. Vorbis header packets have an odd
 * type byte and audio packets an even one (Vorbis I §4.2.1, §4.3.1); Theora
 * header packets have the top bit set, data packets not (Theora §6.1); FLAC
 * frames begin with the 0xff of their sync code (FLAC format, FRAME_HEADER);
 * Opus's second packet must be OpusTags (RFC 7845 §5.2). */
static bool begins_data(const ogg_stream *st, const ogg_page *pg) {
  if ((pg->flags & OGG_FLAG_CONTINUED) || pg->nseg == 0 || pg->lacing[0] == 0)
    return false;
  uint8_t b = pg->body[0];
  switch (st->codec) {
  case CODEC_VORBIS:
    return (b & 1) == 0;
  case CODEC_THEORA:
    return (b & 0x80) == 0;
  case CODEC_FLAC:
    return b == 0xff;
  case CODEC_OPUS:
    return st->packets_done == 1 &&
           (pg->bodylen < 8 || memcmp(pg->body, "OpusTags", 8) != 0);
  default:
    return false;
  }
}

static bool all_ended(const ogg_state *s) {
  for (unsigned i = 0; i < s->nstreams; i++)
    if (!s->streams[i].eos) return false;
  return true;
}

/* A whole, checked page: what is it, and what does it change? */
static void classify(ogg_state *s, const ogg_page *pg, sc_media_cut *cut) {
  ogg_stream *st = find_stream(s, pg->serial);
  if (pg->flags & OGG_FLAG_BOS) {
    /* RFC 3533 §4: all BOS pages of a link come first; a BOS page after data,
     * after every stream ended, or repeating a serial starts the next link. */
    if (s->nstreams == 0 || s->link_has_data || all_ended(s) || st) {
      if (s->last_end_us >= 0) s->link_base_us = s->last_end_us;
      s->nstreams = 0;
      s->link_has_data = false;
      s->link_has_theora = false;
      cut->flags |= SC_MEDIA_UNIT_NEW_HEADERS;
    }
    cut->flags |= SC_MEDIA_UNIT_HEADER;
    if (s->nstreams == OGG_STREAMS_MAX)
      return; /* kept as a header, not tracked further */
    st = &s->streams[s->nstreams++];
    memset(st, 0, sizeof *st);
    st->serial = pg->serial;
    size_t first = 0;
    for (unsigned i = 0; i < pg->nseg; i++) {
      first += pg->lacing[i];
      if (pg->lacing[i] < 255) break;
    }
    identify(st, pg->body, first);
    if (st->codec == CODEC_THEORA) s->link_has_theora = true;
    count_headers(st, pg);
    if (st->codec == CODEC_UNKNOWN)
      st->headers_done = true; /* how many more there are is the codec's secret */
  } else if (st && !st->headers_done && !st->eos && !begins_data(st, pg)) {
    cut->flags |= SC_MEDIA_UNIT_HEADER;
    count_headers(st, pg);
  } else {
    if (st) st->headers_done = true;
    s->link_has_data = true;
    bool sync;
    if (s->link_has_theora)
      sync = st && st->codec == CODEC_THEORA && theora_keyframe_begins(pg);
    else
      sync = !(pg->flags & OGG_FLAG_CONTINUED) && pg->nseg > 0;
    if (sync) cut->flags |= SC_MEDIA_UNIT_SYNC;
    int64_t us = granule_us(st, pg->granule);
    if (us >= 0 && us <= INT64_MAX - s->link_base_us) {
      cut->end_us = s->link_base_us + us;
      s->last_end_us = cut->end_us;
    }
  }
  if (st && (pg->flags & OGG_FLAG_EOS)) st->eos = true;
}

static void ogg_cut(void *state, const uint8_t *buf, size_t buflen, bool at_end,
                    sc_media_cut *cut) {
  ogg_state *s = state;
  cut->len = 0;
  cut->flags = 0;
  cut->end_us = -1;
  size_t need = 4;
  if (buflen >= 4 && memcmp(buf, capture, 4) != 0) goto garbage;
  if (buflen >= OGG_HEADER_LEN) {
    if (buf[4] != 0) /* stream_structure_version */
      goto garbage;
    need = OGG_HEADER_LEN + buf[26];
    if (buflen >= need) {
      for (unsigned i = 0; i < buf[26]; i++)
        need += buf[OGG_HEADER_LEN + i];
    }
  } else {
    need = OGG_HEADER_LEN;
  }
  if (buflen < need) {
    if (at_end) goto garbage;
    return; /* wait for the rest of the page */
  }
  if (page_crc(buf, need) != le32(buf + 22)) goto garbage;
  ogg_page pg = {
      .flags = buf[5],
      .granule = le64(buf + 6),
      .serial = le32(buf + 14),
      .nseg = buf[26],
      .lacing = buf + OGG_HEADER_LEN,
      .body = buf + OGG_HEADER_LEN + buf[26],
      .bodylen = need - OGG_HEADER_LEN - buf[26],
  };
  cut->len = need;
  classify(s, &pg, cut);
  return;

garbage:
  if (buflen == 0) return;
  cut->len = garbage_len(buf, buflen, 1, at_end);
  cut->flags = SC_MEDIA_UNIT_GARBAGE;
}

const sc_media_format sc_media_format_ogg = {
    .kind = SC_MEDIA_OGG,
    .state_size = sizeof(ogg_state),
    .unit_max = OGG_PAGE_MAX,
    .init = ogg_init,
    .cut = ogg_cut,
};

bool sc_media_ogg_probe(const uint8_t *data, size_t datalen) {
  return datalen >= 5 && memcmp(data, capture, 4) == 0 && data[4] == 0;
}

/* --- "now playing" from the Vorbis comment in a header set --- */

enum {
  FIELD_MAX = 512,              /* bytes kept of a TITLE or ARTIST value */
  FLAC_COMMENT_SEARCH_MAX = 64, /* header packets searched for FLAC's comment */
};

/* Parses the page at off (structure only: the framer checked the CRC). */
static bool page_at(const uint8_t *buf, size_t len, size_t off, ogg_page *pg,
                    size_t *pagelen) {
  if (off > len || len - off < OGG_HEADER_LEN) return false;
  const uint8_t *p = buf + off;
  size_t avail = len - off;
  if (memcmp(p, capture, 4) != 0 || avail < (size_t)OGG_HEADER_LEN + p[26]) return false;
  size_t body = 0;
  for (unsigned i = 0; i < p[26]; i++)
    body += p[OGG_HEADER_LEN + i];
  if (avail - OGG_HEADER_LEN - p[26] < body) return false;
  pg->flags = p[5];
  pg->granule = le64(p + 6);
  pg->serial = le32(p + 14);
  pg->nseg = p[26];
  pg->lacing = p + OGG_HEADER_LEN;
  pg->body = p + OGG_HEADER_LEN + p[26];
  pg->bodylen = body;
  *pagelen = OGG_HEADER_LEN + p[26] + body;
  return true;
}

/* Reads one packet of one logical stream across the pages that carry it. */
typedef struct {
  const uint8_t *buf;
  size_t len;
  uint32_t serial;
  ogg_page pg;
  size_t next_page; /* offset of the page after the current one */
  unsigned seg;     /* current segment */
  size_t seg_off;   /* its offset in the body */
  size_t pos;       /* bytes of it already read */
  bool done;
} pkt_reader;

/* The next page of the reader's stream after next_page, or false. */
static bool next_stream_page(pkt_reader *r) {
  size_t pagelen;
  while (page_at(r->buf, r->len, r->next_page, &r->pg, &pagelen)) {
    r->next_page += pagelen;
    if (r->pg.serial == r->serial) return true;
  }
  return false;
}

/* Positions r at packet index (0 = the BOS packet) of serial. */
static bool reader_open(pkt_reader *r, const uint8_t *buf, size_t len, uint32_t serial,
                        unsigned index) {
  memset(r, 0, sizeof *r);
  r->buf = buf;
  r->len = len;
  r->serial = serial;
  unsigned seen = 0;
  while (next_stream_page(r)) {
    size_t off = 0;
    bool starts = !(r->pg.flags & OGG_FLAG_CONTINUED);
    for (unsigned i = 0; i < r->pg.nseg; i++) {
      if (starts && seen++ == index) {
        r->seg = i;
        r->seg_off = off;
        return true;
      }
      off += r->pg.lacing[i];
      starts = r->pg.lacing[i] < 255;
    }
  }
  return false;
}

/* Copies (out != NULL) or skips up to n bytes; returns how many. */
static size_t reader_read(pkt_reader *r, uint8_t *out, size_t n) {
  size_t got = 0;
  while (got < n && !r->done) {
    if (r->seg >= r->pg.nseg) {
      /* The packet goes on in the stream's next page, which must say so. */
      if (!next_stream_page(r) || !(r->pg.flags & OGG_FLAG_CONTINUED)) {
        r->done = true;
        break;
      }
      r->seg = 0;
      r->seg_off = 0;
      r->pos = 0;
      continue;
    }
    size_t seglen = r->pg.lacing[r->seg];
    size_t take = seglen - r->pos < n - got ? seglen - r->pos : n - got;
    if (out) memcpy(out + got, r->pg.body + r->seg_off + r->pos, take);
    got += take;
    r->pos += take;
    if (r->pos == seglen) {
      if (seglen < 255) {
        r->done = true;
        break;
      }
      r->seg_off += seglen;
      r->seg++;
      r->pos = 0;
    }
  }
  return got;
}

static bool reader_u32(pkt_reader *r, uint32_t *v) {
  uint8_t b[4];
  if (reader_read(r, b, 4) != 4) return false;
  *v = le32(b);
  return true;
}

static bool key_is(const uint8_t *k, const char *key, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int c = k[i] >= 'a' && k[i] <= 'z' ? k[i] - ('a' - 'A') : k[i];
    if (c != key[i]) return false;
  }
  return true;
}

typedef struct {
  uint8_t title[FIELD_MAX], artist[FIELD_MAX];
  size_t titlelen, artistlen;
  bool has_title, has_artist;
} now_fields;

/* A Vorbis comment structure (the Vorbis I spec §5.2.1): vendor string, then
 * count "KEY=value" fields, every length a 32-bit little-endian integer. The
 * first TITLE and ARTIST (keys are case-insensitive) are kept. */
static void parse_comment(pkt_reader *r, now_fields *nf) {
  uint32_t n, count;
  if (!reader_u32(r, &n) || reader_read(r, NULL, n) != n || !reader_u32(r, &count))
    return;
  for (uint32_t i = 0; i < count && !(nf->has_title && nf->has_artist); i++) {
    uint8_t key[7];
    if (!reader_u32(r, &n)) return;
    size_t want = n < 6 ? n : 6;
    size_t k = reader_read(r, key, want);
    if (k != want) return; /* the packet ended inside the field */
    uint8_t *dst = NULL;
    size_t *dstlen = NULL;
    if (k == 6 && key_is(key, "TITLE=", 6)) {
      if (!nf->has_title) dst = nf->title, dstlen = &nf->titlelen, nf->has_title = true;
    } else if (k == 6 && n >= 7 && key_is(key, "ARTIST", 6)) {
      if (reader_read(r, key + 6, 1) != 1) return;
      k = 7;
      if (key[6] == '=' && !nf->has_artist)
        dst = nf->artist, dstlen = &nf->artistlen, nf->has_artist = true;
    }
    size_t rest = n - k;
    if (dst) {
      *dstlen = reader_read(r, dst, rest < FIELD_MAX ? rest : FIELD_MAX);
      rest -= *dstlen;
    }
    if (reader_read(r, NULL, rest) != rest) return;
  }
}

/* The comment of one logical stream, by its codec's rule. */
static void stream_comment(const uint8_t *buf, size_t len, const ogg_stream *st,
                           now_fields *nf) {
  pkt_reader r;
  uint8_t magic[8];
  switch (st->codec) {
  case CODEC_OPUS: /* RFC 7845 §5.2 */
    if (reader_open(&r, buf, len, st->serial, 1) && reader_read(&r, magic, 8) == 8 &&
        memcmp(magic, "OpusTags", 8) == 0)
      parse_comment(&r, nf);
    break;
  case CODEC_VORBIS:
  case CODEC_THEORA: {
    const uint8_t vorbis[7] = {0x03, 'v', 'o', 'r', 'b', 'i', 's'};
    const uint8_t theora[7] = {0x81, 't', 'h', 'e', 'o', 'r', 'a'};
    if (reader_open(&r, buf, len, st->serial, 1) && reader_read(&r, magic, 7) == 7 &&
        memcmp(magic, st->codec == CODEC_VORBIS ? vorbis : theora, 7) == 0)
      parse_comment(&r, nf);
    break;
  }
  case CODEC_SPEEX: /* the second packet is a bare comment */
    if (reader_open(&r, buf, len, st->serial, 1)) parse_comment(&r, nf);
    break;
  case CODEC_FLAC: /* one metadata block per packet; VORBIS_COMMENT is type 4 */
    for (unsigned i = 1; i < FLAC_COMMENT_SEARCH_MAX; i++) {
      if (!reader_open(&r, buf, len, st->serial, i) || reader_read(&r, magic, 4) != 4)
        break;
      if ((magic[0] & 0x7f) == 4) {
        parse_comment(&r, nf);
        break;
      }
      if (magic[0] & 0x80) break; /* the last metadata block */
    }
    break;
  default:
    break;
  }
}

/* Appends src to out[*n..cap - 1): control characters become spaces, and a cut
 * backs off to the start of a UTF-8 character. */
static void append(char *out, size_t cap, size_t *n, const uint8_t *src, size_t len) {
  size_t room = cap - 1 - *n;
  size_t take = len < room ? len : room;
  if (take < len)
    while (take > 0 && (src[take] & 0xc0) == 0x80)
      take--;
  for (size_t i = 0; i < take; i++)
    out[(*n)++] = src[i] < 0x20 || src[i] == 0x7f ? ' ' : (char)src[i];
  out[*n] = '\0';
}

int sc_media_now_playing(const uint8_t *headers, size_t headerslen, char *out,
                         size_t outcap) {
  if (!out || outcap == 0) return SC_ERR_INVALID;
  out[0] = '\0';
  if (!headers) return SC_ERR_NOT_FOUND;
  if (outcap > SC_MEDIA_NOW_PLAYING_MAX) outcap = SC_MEDIA_NOW_PLAYING_MAX;
  /* The streams the header set begins: audio first, then video. */
  ogg_stream streams[OGG_STREAMS_MAX];
  unsigned nstreams = 0;
  ogg_page pg;
  size_t off = 0, pagelen;
  while (nstreams < OGG_STREAMS_MAX && page_at(headers, headerslen, off, &pg, &pagelen)) {
    off += pagelen;
    if (!(pg.flags & OGG_FLAG_BOS)) continue;
    ogg_stream *st = &streams[nstreams++];
    memset(st, 0, sizeof *st);
    st->serial = pg.serial;
    size_t first = 0;
    for (unsigned i = 0; i < pg.nseg; i++) {
      first += pg.lacing[i];
      if (pg.lacing[i] < 255) break;
    }
    identify(st, pg.body, first);
  }
  now_fields fields = {0}, *nf = &fields;
  for (int pass = 0; pass < 2 && !nf->has_title && !nf->has_artist; pass++)
    for (unsigned i = 0; i < nstreams && !nf->has_title && !nf->has_artist; i++)
      if ((streams[i].codec == CODEC_THEORA) == (pass == 1))
        stream_comment(headers, headerslen, &streams[i], nf);
  if (!nf->has_title && !nf->has_artist) return SC_ERR_NOT_FOUND;
  size_t n = 0;
  if (nf->has_artist) append(out, outcap, &n, nf->artist, nf->artistlen);
  if (nf->has_artist && nf->has_title) append(out, outcap, &n, (const uint8_t *)" - ", 3);
  if (nf->has_title) append(out, outcap, &n, nf->title, nf->titlelen);
  return (int)n;
}
