/*
 * mpegts.c — the MPEG-2 transport stream framer (format.h), after ISO/IEC
 * 13818-1 (ITU-T H.222.0): 188-byte packets that begin with the sync byte
 * 0x47. Every packet is one unit.
 *
 * Headers: a late listener's demuxer needs the Program Association Table
 * (PID 0) and the Program Map Table of each program it names. The first PAT
 * packet whose section differs from the last one kept (and the first PAT
 * after any PMT changed) starts a new header set (HEADER | NEW_HEADERS); the
 * first PMT packet of each program after it is HEADER, and so is a PMT
 * packet whose section changed. Repeated, unchanged tables are plain units,
 * so the kept set stays one PAT and one PMT per program. A section longer
 * than its first packet keeps its continuation packets in the set too.
 *
 * Sync: the packet that starts a PES packet (payload_unit_start_indicator) of
 * the first video stream the PMTs list is SYNC when its adaptation field sets
 * random_access_indicator (as muxers do for keyframes) or, for encoders that
 * leave it clear, when the PES payload in the packet begins a keyframe: an
 * H.264 IDR slice or sequence parameter set, an H.265 IRAP picture or video
 * parameter set, an MPEG-1/2 sequence header. Without a video stream, every
 * PES start of the first audio stream is SYNC (audio frames decode on their
 * own). Packets of other streams are never SYNC: a listener joining there
 * would start the video mid-picture.
 *
 * Time: end_us comes from the 90 kHz base of the program clock reference
 * where a packet carries one, or, in a stream without PCR, from the PTS of
 * the sync stream's PES; it counts from the first such value, across 33-bit
 * wraps. A jump of more than SC_MPEGTS_JUMP_MAX_TICKS (or a flagged
 * discontinuity, as when the encoder restarts) is a new time origin: time
 * goes on from where it was.
 *
 * Resync: after a byte that is not a packet start, the garbage run ends at
 * the first 0x47 that is followed by 0x47 188 and 376 bytes later. Only
 * 188-byte packets are recognised (not the 192-byte packets of Blu-ray
 * M2TS, nor 204-byte packets with Reed-Solomon parity).
 */
#include <stdint.h>
#include <string.h>

#include "media/format.h"

#define SC_MPEGTS_PACKET    188
#define SC_MPEGTS_SYNC_BYTE 0x47
/* Packets that must start with the sync byte before a candidate is trusted. */
#define SC_MPEGTS_CONFIRM 3
/* The longest garbage unit; the scan for a resync point goes on in the next. */
#define SC_MPEGTS_GARBAGE_RUN_MAX 1024
#define SC_MPEGTS_UNIT_MAX                                                               \
  (SC_MPEGTS_GARBAGE_RUN_MAX + SC_MPEGTS_CONFIRM * SC_MPEGTS_PACKET)
/* Programs and elementary streams followed; more are relayed, not followed. */
#define SC_MPEGTS_PROGRAMS_MAX 16
#define SC_MPEGTS_STREAMS_MAX  32
/* 10 s of the 90 kHz clock. */
#define SC_MPEGTS_JUMP_MAX_TICKS 900000
#define SC_MPEGTS_CLOCK_MASK     ((UINT64_C(1) << 33) - 1)

#define PID_PAT      0x0000
#define PID_NULL     0x1FFF
#define TABLE_ID_PAT 0x00
#define TABLE_ID_PMT 0x02

enum { ES_OTHER = 0, ES_VIDEO, ES_AUDIO };

typedef struct {
  uint16_t pid;
  uint16_t number; /* program_number */
  bool have_pmt;
  bool kept;          /* its PMT is in the current header set */
  uint32_t pmt_fp;    /* fingerprint of its last PMT section */
  uint32_t cont_left; /* section bytes still to come in header packets */
} ts_program;

typedef struct {
  uint16_t pid;
  uint8_t kind; /* ES_* */
  uint8_t stream_type;
  uint8_t program; /* index into programs */
} ts_stream;

typedef struct {
  bool in_sync;
  bool have_pat;
  bool rebuild; /* a PMT changed: the next PAT starts a new header set */
  uint32_t pat_fp;
  uint32_t pat_cont_left;
  size_t nprograms;
  ts_program programs[SC_MPEGTS_PROGRAMS_MAX];
  size_t nstreams;
  ts_stream streams[SC_MPEGTS_STREAMS_MAX];
  bool pcr_seen;
  bool clock_known;
  uint64_t clock_last; /* 33-bit, 90 kHz */
  int64_t ticks;       /* 90 kHz ticks since the first value */
  /* How far a garbage scan that waited for more bytes got (0: none). The next
   * cut starts at the same unit with more bytes after it, so the scan goes on
   * from there: a garbage run fed in small pieces costs linear time, not a
   * rescan of up to SC_MPEGTS_GARBAGE_RUN_MAX bytes on every feed. */
  size_t garbage_scanned;
} ts_state;

static void ts_init(void *state) {
  memset(state, 0, sizeof(ts_state));
}

/* FNV-1a: tells a changed table from a repeated one. */
static uint32_t fingerprint(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static int64_t ts_clock(ts_state *s, uint64_t v, bool discontinuity) {
  v &= SC_MPEGTS_CLOCK_MASK;
  if (s->clock_known) {
    int64_t d = (int64_t)((v - s->clock_last) & SC_MPEGTS_CLOCK_MASK);
    if (d >= (INT64_C(1) << 32)) d -= INT64_C(1) << 33;
    if (discontinuity || d > SC_MPEGTS_JUMP_MAX_TICKS || d < -SC_MPEGTS_JUMP_MAX_TICKS)
      d = 0;
    s->ticks += d;
  }
  s->clock_known = true;
  s->clock_last = v;
  int64_t us = s->ticks * 100 / 9;
  return us < 0 ? 0 : us;
}

/* A PSI section starting in a payload that begins a unit: returns a pointer
 * to it and its length within the payload (*avail) and in all (*total), or
 * NULL if malformed. */
static const uint8_t *psi_section(const uint8_t *pl, size_t n, uint8_t table_id,
                                  size_t *avail, size_t *total) {
  if (n < 1 || (size_t)pl[0] + 1 + 3 > n) return NULL;
  const uint8_t *sec = pl + 1 + pl[0];
  size_t left = n - 1 - pl[0];
  if (sec[0] != table_id || !(sec[1] & 0x80)) return NULL;
  size_t len = 3 + ((size_t)(sec[1] & 0x0F) << 8 | sec[2]);
  if (len < 12) return NULL; /* header, table fields and CRC at least */
  *total = len;
  *avail = len < left ? len : left;
  return sec;
}

static void parse_pat(ts_state *s, const uint8_t *sec, size_t avail, size_t total) {
  s->nprograms = 0;
  s->nstreams = 0;
  size_t end = total - 4 < avail ? total - 4 : avail;
  for (size_t off = 8; off + 4 <= end; off += 4) {
    uint16_t number = (uint16_t)(sec[off] << 8 | sec[off + 1]);
    uint16_t pid = (uint16_t)((sec[off + 2] & 0x1F) << 8 | sec[off + 3]);
    if (number == 0 || pid == PID_PAT || pid == PID_NULL)
      continue; /* the network information table, or nonsense */
    if (s->nprograms == SC_MPEGTS_PROGRAMS_MAX) break;
    ts_program *p = &s->programs[s->nprograms++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->number = number;
  }
}

static int stream_kind(uint8_t type, const uint8_t *desc, size_t desclen) {
  switch (type) {
  case 0x01: /* MPEG-1 video */
  case 0x02: /* MPEG-2 video */
  case 0x10: /* MPEG-4 part 2 */
  case 0x1B: /* H.264 */
  case 0x20: /* H.264 MVC */
  case 0x24: /* H.265 */
  case 0x33: /* H.266 */
  case 0x42: /* AVS */
  case 0xD1: /* Dirac */
  case 0xEA: /* VC-1 */
    return ES_VIDEO;
  case 0x03: /* MPEG-1 audio */
  case 0x04: /* MPEG-2 audio */
  case 0x0F: /* AAC in ADTS */
  case 0x11: /* AAC in LATM */
  case 0x1C: /* MPEG-4 audio */
  case 0x81: /* AC-3 (ATSC) */
  case 0x82: /* DTS */
  case 0x83: /* TrueHD */
  case 0x84: /* E-AC-3 (SCTE) */
  case 0x85: /* DTS-HD */
  case 0x86: /* DTS-HD MA */
  case 0x87: /* E-AC-3 (ATSC) */
    return ES_AUDIO;
  case 0x06: /* private PES: the descriptors say what it carries */
    for (size_t off = 0; off + 2 <= desclen; off += 2 + (size_t)desc[off + 1]) {
      uint8_t tag = desc[off], len = desc[off + 1];
      if (off + 2 + len > desclen) break;
      /* DVB AC-3, E-AC-3, DTS, AAC descriptors (ETSI EN 300 468). */
      if (tag == 0x6A || tag == 0x7A || tag == 0x7B || tag == 0x7C) return ES_AUDIO;
      /* A registration descriptor naming an audio format. */
      if (tag == 0x05 && len >= 4 &&
          (memcmp(desc + off + 2, "Opus", 4) == 0 ||
           memcmp(desc + off + 2, "AC-3", 4) == 0))
        return ES_AUDIO;
    }
    return ES_OTHER;
  default:
    return ES_OTHER;
  }
}

static void parse_pmt(ts_state *s, size_t prog, const uint8_t *sec, size_t avail,
                      size_t total) {
  /* Drop the program's old streams. */
  size_t w = 0;
  for (size_t i = 0; i < s->nstreams; i++)
    if (s->streams[i].program != prog) s->streams[w++] = s->streams[i];
  s->nstreams = w;
  size_t end = total - 4 < avail ? total - 4 : avail;
  size_t off = 12 + ((size_t)(sec[10] & 0x0F) << 8 | sec[11]);
  while (off + 5 <= end) {
    uint8_t type = sec[off];
    uint16_t pid = (uint16_t)((sec[off + 1] & 0x1F) << 8 | sec[off + 2]);
    size_t infolen = (size_t)(sec[off + 3] & 0x0F) << 8 | sec[off + 4];
    size_t desclen = off + 5 + infolen <= end ? infolen : end - off - 5;
    if (s->nstreams == SC_MPEGTS_STREAMS_MAX) break;
    ts_stream *e = &s->streams[s->nstreams++];
    e->pid = pid;
    e->stream_type = type;
    e->kind = (uint8_t)stream_kind(type, sec + off + 5, desclen);
    e->program = (uint8_t)prog;
    off += 5 + infolen;
  }
}

/* The stream whose access units are sync points (see the file comment). */
static const ts_stream *sync_stream(const ts_state *s) {
  const ts_stream *audio = NULL;
  for (size_t i = 0; i < s->nstreams; i++) {
    if (s->streams[i].kind == ES_VIDEO) return &s->streams[i];
    if (s->streams[i].kind == ES_AUDIO && !audio) audio = &s->streams[i];
  }
  return audio;
}

/* Whether the elementary stream bytes es[0..n) contain the start of a
 * keyframe, by the stream type's start codes. */
static bool has_keyframe_start(uint8_t type, const uint8_t *es, size_t n) {
  for (size_t i = 0; i + 3 < n; i++) {
    if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1) continue;
    uint8_t c = es[i + 3];
    switch (type) {
    case 0x1B: /* H.264 (ITU-T H.264 7.4.1.2): IDR slice 5, SPS 7 */
      if ((c & 0x1F) == 5 || (c & 0x1F) == 7) return true;
      break;
    case 0x24: /* H.265 (ITU-T H.265 7.4.2.2): IRAP 16..21, VPS 32 */
      if (((c >> 1) & 0x3F) >= 16 && ((c >> 1) & 0x3F) <= 21) return true;
      if (((c >> 1) & 0x3F) == 32) return true;
      break;
    case 0x01:
    case 0x02: /* MPEG-1/2 video: sequence_header_code */
      if (c == 0xB3) return true;
      break;
    default:
      return false;
    }
  }
  return false;
}

/* A PES packet's header at the start of pl[0..n): its PTS (if any) and where
 * its payload starts. */
static bool pes_header(const uint8_t *pl, size_t n, bool *have_pts, uint64_t *pts,
                       size_t *payload_off) {
  *have_pts = false;
  if (n < 6 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1) return false;
  uint8_t sid = pl[3];
  /* Streams without the optional header (13818-1 table 2-21). */
  if (sid == 0xBC || sid == 0xBE || sid == 0xBF || sid == 0xF0 || sid == 0xF1 ||
      sid == 0xF2 || sid == 0xF8 || sid == 0xFF) {
    *payload_off = 6;
    return true;
  }
  if (n < 9) return false;
  size_t hlen = 9 + (size_t)pl[8];
  if ((pl[7] & 0x80) && n >= 14) {
    const uint8_t *p = pl + 9;
    *pts = (uint64_t)((p[0] >> 1) & 7) << 30 | (uint64_t)p[1] << 22 |
           (uint64_t)(p[2] >> 1) << 15 | (uint64_t)p[3] << 7 | (uint64_t)(p[4] >> 1);
    *have_pts = true;
  }
  *payload_off = hlen < n ? hlen : n;
  return true;
}

/* The flags and time of an accepted packet; updates the tables. */
static void packet(ts_state *s, const uint8_t *p, sc_media_cut *cut) {
  if (p[1] & 0x80)
    return; /* transport_error_indicator: the demodulator says it is damaged */
  bool pusi = (p[1] & 0x40) != 0;
  uint16_t pid = (uint16_t)((p[1] & 0x1F) << 8 | p[2]);
  int afc = (p[3] >> 4) & 3;
  size_t off = 4;
  bool rai = false, disc = false, have_pcr = false;
  uint64_t pcr = 0;
  if (afc & 2) {
    size_t aflen = p[4];
    if (aflen > SC_MPEGTS_PACKET - 5) return; /* malformed: relay, read nothing */
    if (aflen >= 1) {
      disc = (p[5] & 0x80) != 0;
      rai = (p[5] & 0x40) != 0;
      if ((p[5] & 0x10) && aflen >= 7) {
        pcr = (uint64_t)p[6] << 25 | (uint64_t)p[7] << 17 | (uint64_t)p[8] << 9 |
              (uint64_t)p[9] << 1 | (uint64_t)(p[10] >> 7);
        have_pcr = true;
      }
    }
    off = 5 + aflen;
  }
  const uint8_t *pl = p + off;
  size_t n = (afc & 1) ? SC_MPEGTS_PACKET - off : 0;
  if (have_pcr) {
    s->pcr_seen = true;
    cut->end_us = ts_clock(s, pcr, disc);
  }

  if (pid == PID_PAT) {
    size_t avail, total;
    const uint8_t *sec = pusi ? psi_section(pl, n, TABLE_ID_PAT, &avail, &total) : NULL;
    if (sec) {
      uint32_t fp = fingerprint(sec, avail);
      bool changed = !s->have_pat || fp != s->pat_fp;
      if (changed) {
        parse_pat(s, sec, avail, total);
        s->have_pat = true;
        s->pat_fp = fp;
      }
      if (changed || s->rebuild) {
        s->rebuild = false;
        for (size_t i = 0; i < s->nprograms; i++)
          s->programs[i].kept = false;
        cut->flags = SC_MEDIA_UNIT_HEADER | SC_MEDIA_UNIT_NEW_HEADERS;
        s->pat_cont_left = (uint32_t)(total - avail);
      } else {
        s->pat_cont_left = 0;
      }
    } else if (!pusi && s->pat_cont_left > 0) {
      cut->flags = SC_MEDIA_UNIT_HEADER;
      s->pat_cont_left = n >= s->pat_cont_left ? 0 : s->pat_cont_left - (uint32_t)n;
    } else {
      s->pat_cont_left = 0;
    }
    return;
  }

  for (size_t i = 0; i < s->nprograms; i++) {
    ts_program *pg = &s->programs[i];
    if (pg->pid != pid) continue;
    if (!pusi) {
      if (pg->cont_left > 0) {
        cut->flags = SC_MEDIA_UNIT_HEADER;
        pg->cont_left = n >= pg->cont_left ? 0 : pg->cont_left - (uint32_t)n;
      }
      continue; /* another program may share the PID */
    }
    pg->cont_left = 0;
    size_t avail, total;
    const uint8_t *sec = psi_section(pl, n, TABLE_ID_PMT, &avail, &total);
    if (!sec || (uint16_t)(sec[3] << 8 | sec[4]) != pg->number) continue;
    uint32_t fp = fingerprint(sec, avail);
    bool changed = pg->have_pmt && fp != pg->pmt_fp;
    if (!pg->have_pmt || changed) {
      parse_pmt(s, i, sec, avail, total);
      pg->have_pmt = true;
      pg->pmt_fp = fp;
    }
    if (changed) s->rebuild = true; /* the kept set holds a stale PMT */
    if (!pg->kept || changed) {
      pg->kept = true;
      cut->flags = SC_MEDIA_UNIT_HEADER;
      pg->cont_left = (uint32_t)(total - avail);
    }
    return;
  }
  if (cut->flags & SC_MEDIA_UNIT_HEADER) return;

  /* A scrambled payload (transport_scrambling_control) cannot be read. */
  if (!pusi || n == 0 || (p[3] & 0xC0)) return;
  const ts_stream *sync = sync_stream(s);
  if (!sync || sync->pid != pid) return;
  bool have_pts;
  uint64_t pts;
  size_t es_off;
  if (!pes_header(pl, n, &have_pts, &pts, &es_off)) return;
  if (sync->kind == ES_AUDIO || rai ||
      has_keyframe_start(sync->stream_type, pl + es_off, n - es_off))
    cut->flags |= SC_MEDIA_UNIT_SYNC;
  if (have_pts && !s->pcr_seen) cut->end_us = ts_clock(s, pts, disc);
}

/* Whether a packet that starts at buf[i] is confirmed by the sync bytes of
 * the next two: 1 yes, 0 no, -1 more bytes are needed. */
static int confirmed(const uint8_t *buf, size_t buflen, size_t i, bool at_end) {
  if (i + (SC_MPEGTS_CONFIRM - 1) * SC_MPEGTS_PACKET < buflen) {
    for (int k = 1; k < SC_MPEGTS_CONFIRM; k++)
      if (buf[i + (size_t)k * SC_MPEGTS_PACKET] != SC_MPEGTS_SYNC_BYTE) return 0;
    return 1;
  }
  if (!at_end) return -1;
  /* The stream ends: confirm with the packets that are there. */
  for (size_t j = i + SC_MPEGTS_PACKET; j < buflen; j += SC_MPEGTS_PACKET)
    if (buf[j] != SC_MPEGTS_SYNC_BYTE) return 0;
  return i + SC_MPEGTS_PACKET <= buflen;
}

static void ts_cut(void *state, const uint8_t *buf, size_t buflen, bool at_end,
                   sc_media_cut *cut) {
  ts_state *s = state;
  cut->len = 0;
  cut->flags = 0;
  cut->end_us = -1;
  if (buf[0] == SC_MPEGTS_SYNC_BYTE) {
    int ok = s->in_sync ? (buflen >= SC_MPEGTS_PACKET ? 1 : -1)
                        : confirmed(buf, buflen, 0, at_end);
    if (ok < 0) return; /* wait (at the end the framer makes the rest garbage) */
    if (ok > 0) {
      s->in_sync = true;
      s->garbage_scanned = 0;
      cut->len = SC_MPEGTS_PACKET;
      packet(s, buf, cut);
      return;
    }
  }
  /* Garbage up to the next confirmed packet start. */
  s->in_sync = false;
  size_t i = s->garbage_scanned > 1 ? s->garbage_scanned : 1;
  for (; i < SC_MPEGTS_GARBAGE_RUN_MAX; i++) {
    if (i >= buflen) {
      if (!at_end) {
        s->garbage_scanned = i;
        return;
      }
      break;
    }
    if (buf[i] != SC_MPEGTS_SYNC_BYTE) continue;
    int ok = confirmed(buf, buflen, i, at_end);
    if (ok < 0) {
      s->garbage_scanned = i; /* this candidate is decided with more bytes */
      return;
    }
    if (ok > 0) break;
  }
  s->garbage_scanned = 0;
  cut->len = i;
  cut->flags = SC_MEDIA_UNIT_GARBAGE;
}

const sc_media_format sc_media_format_mpegts = {
    .kind = SC_MEDIA_MPEGTS,
    .state_size = sizeof(ts_state),
    .unit_max = SC_MPEGTS_UNIT_MAX,
    .init = ts_init,
    .cut = ts_cut,
};
