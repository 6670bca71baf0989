/*
 * webm.c — the WebM / Matroska framer (format.h).
 *
 * EBML (RFC 8794): every element is an ID (a variable-length integer of 1 to
 * 4 bytes that keeps its length marker) and a size (1 to 8 bytes; all value
 * bits set means "unknown", which live muxers use for the Segment and may use
 * for Clusters), then the body. The element IDs and their nesting are the
 * Matroska specification's (RFC 9559); WebM is its subset.
 *
 * Units:
 *  - the EBML header element: HEADER | NEW_HEADERS (a new EBML header in the
 *    middle of a stream is a new source, as when an encoder reconnects);
 *  - the Segment's ID and size: HEADER;
 *  - each top-level child of the Segment before its first Cluster (SeekHead,
 *    Info, Tracks, Tags, Void, ...): HEADER. Together with the two above this
 *    is the initialisation segment a late listener needs;
 *  - a Cluster's ID and size with its (optional CRC-32 and) Timecode: one
 *    unit, SYNC when a decoder can start there (below);
 *  - each SimpleBlock, BlockGroup or other Cluster child: one unit, so a
 *    Cluster of unknown size works and units stay small;
 *  - top-level children after the first Cluster (Cues, Tags written at the
 *    end): plain units.
 *
 * Sync rule: a listener can only join at a Cluster (a block needs its
 * Cluster's timecode), and its video decoder needs a keyframe first. So the
 * Cluster unit is SYNC when the first block of a video track in it is a
 * keyframe (SimpleBlock flag 0x80; a BlockGroup without ReferenceBlock), or
 * when the Tracks list no video track (audio only: every Opus or Vorbis block
 * decodes on its own), or, without a Tracks element to go by, when the
 * Cluster's first block is a keyframe. Encoders that stream WebM live start
 * Clusters at video keyframes (the WebM guidelines ask for it; ffmpeg does so
 * when the cluster time limit exceeds the keyframe interval); a keyframe in
 * the middle of a Cluster is not a sync point, because no byte may change.
 *
 * Malformed input (an invalid size, an ID not allowed where it appears, an
 * element larger than SC_WEBM_ELEMENT_MAX, a block past its Cluster's end)
 * starts a garbage run that ends at the next Cluster ID (0x1F43B675) or EBML
 * magic (0x1A45DFA3). Every decision depends only on the stream's bytes, not
 * on how they were split between feeds.
 */
#include <stdint.h>
#include <string.h>

#include "media/format.h"

/* The largest element cut as one unit (a block of a high-rate keyframe fits);
 * a block beyond it is garbage, any other element beyond it is passed on in
 * pieces of SC_WEBM_CHUNK_MAX. */
#define SC_WEBM_ELEMENT_MAX ((uint64_t)4 << 20)
#define SC_WEBM_CHUNK_MAX   ((uint64_t)64 << 10)
/* ID (4) + size (8). */
#define SC_WEBM_HEAD_MAX 12
#define SC_WEBM_UNIT_MAX ((size_t)SC_WEBM_ELEMENT_MAX + SC_WEBM_HEAD_MAX)
/* The EBML header names the DocType and a few limits: tens of bytes. */
#define SC_WEBM_EBML_HEADER_MAX 4096
/* How far past a Cluster's start the framer looks for its first video block;
 * beyond it the Cluster is not a sync point. */
#define SC_WEBM_LOOKAHEAD_MAX ((size_t)1 << 20)
/* The longest garbage unit; the scan for a resync point goes on in the next. */
#define SC_WEBM_GARBAGE_RUN_MAX 4096
/* Tracks remembered for the sync rule; with more, the first-block rule applies. */
#define SC_WEBM_TRACKS_MAX 32
/* Matroska's default TimecodeScale: timestamps in milliseconds. */
#define SC_WEBM_TIMECODE_SCALE_DEFAULT_NS 1000000u
#define SC_WEBM_TIMECODE_SCALE_MAX_NS     1000000000u

enum {
  ID_EBML = 0x1A45DFA3,
  ID_SEGMENT = 0x18538067,
  ID_SEEKHEAD = 0x114D9B74,
  ID_INFO = 0x1549A966,
  ID_TRACKS = 0x1654AE6B,
  ID_CHAPTERS = 0x1043A770,
  ID_CLUSTER = 0x1F43B675,
  ID_CUES = 0x1C53BB6B,
  ID_ATTACHMENTS = 0x1941A469,
  ID_TAGS = 0x1254C367,
  ID_VOID = 0xEC,
  ID_CRC32 = 0xBF,
  ID_TIMECODE_SCALE = 0x2AD7B1,
  ID_TRACK_ENTRY = 0xAE,
  ID_TRACK_NUMBER = 0xD7,
  ID_TRACK_TYPE = 0x83,
  ID_TIMECODE = 0xE7,
  ID_SILENT_TRACKS = 0x5854,
  ID_POSITION = 0xA7,
  ID_PREV_SIZE = 0xAB,
  ID_SIMPLE_BLOCK = 0xA3,
  ID_BLOCK_GROUP = 0xA0,
  ID_BLOCK = 0xA1,
  ID_REFERENCE_BLOCK = 0xFB,
  ID_ENCRYPTED_BLOCK = 0xAF,
};

#define TRACK_TYPE_VIDEO 1
#define SIZE_UNKNOWN     UINT64_MAX

typedef struct {
  uint64_t pos;         /* stream offset of the next unit */
  bool in_segment;      /* inside a Segment (its children are level 1) */
  bool seen_cluster;    /* a Cluster began in this Segment: no more headers */
  bool in_cluster;      /* inside a Cluster (its children are blocks) */
  bool resyncing;       /* after garbage: only a Cluster or an EBML header */
  uint64_t segment_end; /* stream offsets; SIZE_UNKNOWN for unknown size */
  uint64_t cluster_end;
  uint64_t skip_left; /* body bytes of a large element still to pass on */
  uint32_t skip_flags;
  uint64_t timecode_scale_ns;
  bool cluster_tc_known;
  uint64_t cluster_tc;
  bool tracks_known; /* a Tracks element of this header set was read */
  size_t ntracks;
  struct {
    uint64_t number;
    uint64_t type;
  } tracks[SC_WEBM_TRACKS_MAX];
  bool time_known; /* time_offset_us is set for the current source */
  int64_t time_offset_us;
  int64_t last_us; /* the latest end_us emitted */
  /* How far a garbage scan that waited for more bytes got (0: none). The next
   * cut starts at the same unit with more bytes after it, so the scan goes on
   * from there: a garbage run fed in small pieces costs linear time, not a
   * rescan of up to SC_WEBM_GARBAGE_RUN_MAX bytes on every feed. */
  size_t garbage_scanned;
} webm_state;

static void webm_init(void *state) {
  webm_state *s = state;
  memset(s, 0, sizeof *s);
  s->segment_end = SIZE_UNKNOWN;
  s->cluster_end = SIZE_UNKNOWN;
  s->timecode_scale_ns = SC_WEBM_TIMECODE_SCALE_DEFAULT_NS;
}

/* An EBML variable-length integer at p[0..n): returns its length (1..max_len),
 * 0 if more bytes are needed, -1 if invalid. An ID keeps its length marker;
 * a size of all ones is SIZE_UNKNOWN. */
static int read_vint(const uint8_t *p, size_t n, int max_len, bool is_id, uint64_t *v) {
  if (n == 0) return 0;
  int len = 1;
  uint8_t mask = 0x80;
  while (len <= 8 && !(p[0] & mask)) {
    len++;
    mask >>= 1;
  }
  if (len > max_len) return -1;
  if ((size_t)len > n) return 0;
  uint64_t x = is_id ? p[0] : (uint64_t)(p[0] & (mask - 1));
  bool all_ones = (p[0] & (mask - 1)) == (uint8_t)(mask - 1);
  for (int i = 1; i < len; i++) {
    x = (x << 8) | p[i];
    all_ones = all_ones && p[i] == 0xFF;
  }
  *v = !is_id && all_ones ? SIZE_UNKNOWN : x;
  return len;
}

/* An element's ID and size: 1 and the head's length in *hl, 0 if more bytes
 * are needed, -1 if invalid. */
static int read_head(const uint8_t *p, size_t n, uint32_t *id, uint64_t *size,
                     size_t *hl) {
  uint64_t v;
  int a = read_vint(p, n, 4, true, &v);
  if (a <= 0) return a;
  *id = (uint32_t)v;
  int b = read_vint(p + a, n - (size_t)a, 8, false, size);
  if (b <= 0) return b;
  *hl = (size_t)a + (size_t)b;
  return 1;
}

static uint64_t read_uint(const uint8_t *p, uint64_t len) {
  uint64_t x = 0;
  for (uint64_t i = 0; i < len; i++)
    x = (x << 8) | p[i];
  return x;
}

/* Calls fn for every child of the master body p[0..n) with a known size
 * that fits in it; stops at the first one that does not. */
typedef void (*child_fn)(webm_state *s, uint32_t id, const uint8_t *body, uint64_t size);

static void for_children(webm_state *s, const uint8_t *p, size_t n, child_fn fn) {
  size_t off = 0;
  while (off < n) {
    uint32_t id;
    uint64_t size;
    size_t hl;
    if (read_head(p + off, n - off, &id, &size, &hl) != 1 || size > n - off - hl) return;
    fn(s, id, p + off + hl, size);
    off += hl + (size_t)size;
  }
}

static void info_child(webm_state *s, uint32_t id, const uint8_t *body, uint64_t size) {
  if (id != ID_TIMECODE_SCALE || size < 1 || size > 8) return;
  uint64_t scale = read_uint(body, size);
  if (scale >= 1 && scale <= SC_WEBM_TIMECODE_SCALE_MAX_NS) s->timecode_scale_ns = scale;
}

static void track_entry_child(webm_state *s, uint32_t id, const uint8_t *body,
                              uint64_t size) {
  if ((id != ID_TRACK_NUMBER && id != ID_TRACK_TYPE) || size < 1 || size > 8) return;
  if (id == ID_TRACK_NUMBER)
    s->tracks[s->ntracks].number = read_uint(body, size);
  else
    s->tracks[s->ntracks].type = read_uint(body, size);
}

static void tracks_child(webm_state *s, uint32_t id, const uint8_t *body, uint64_t size) {
  if (id != ID_TRACK_ENTRY) return;
  if (s->ntracks == SC_WEBM_TRACKS_MAX) {
    s->tracks_known = false; /* too many to follow: fall back to the first block */
    return;
  }
  s->tracks[s->ntracks].number = 0;
  s->tracks[s->ntracks].type = 0;
  for_children(s, body, (size_t)size, track_entry_child);
  s->ntracks++;
}

static bool has_video_track(const webm_state *s) {
  for (size_t i = 0; i < s->ntracks; i++)
    if (s->tracks[i].type == TRACK_TYPE_VIDEO) return true;
  return false;
}

static bool is_video_track(const webm_state *s, uint64_t number) {
  if (!s->tracks_known) return true; /* the first block decides */
  for (size_t i = 0; i < s->ntracks; i++)
    if (s->tracks[i].number == number) return s->tracks[i].type == TRACK_TYPE_VIDEO;
  return false;
}

/* A Block or SimpleBlock body: track number, signed 16-bit timecode relative
 * to the Cluster, flags. Returns false if the body is too short. */
static bool block_fields(const uint8_t *body, size_t n, uint64_t *track, int16_t *rel,
                         uint8_t *flags) {
  int a = read_vint(body, n, 8, false, track);
  if (a <= 0 || (size_t)a + 3 > n) return false;
  *rel = (int16_t)(uint16_t)((unsigned)body[a] << 8 | body[a + 1]);
  *flags = body[a + 2];
  return true;
}

/* A BlockGroup's Block fields and whether it is a keyframe (no
 * ReferenceBlock). */
typedef struct {
  bool have_block;
  bool has_reference;
  uint64_t track;
  int16_t rel;
} group_info;

static void group_scan(const uint8_t *p, size_t n, group_info *g) {
  size_t off = 0;
  memset(g, 0, sizeof *g);
  while (off < n) {
    uint32_t id;
    uint64_t size;
    size_t hl;
    if (read_head(p + off, n - off, &id, &size, &hl) != 1 || size > n - off - hl) return;
    uint8_t flags;
    if (id == ID_BLOCK && !g->have_block)
      g->have_block =
          block_fields(p + off + hl, (size_t)size, &g->track, &g->rel, &flags);
    else if (id == ID_REFERENCE_BLOCK)
      g->has_reference = true;
    off += hl + (size_t)size;
  }
}

/* Media time of timestamp tc (in TimecodeScale units) in microseconds from
 * the stream's start: the first timestamp of a source continues from the
 * last one emitted, so a reconnecting encoder's restart at zero does not
 * move time backwards. */
static int64_t time_us(webm_state *s, int64_t tc) {
  if (tc < 0) tc = 0;
  uint64_t scale = s->timecode_scale_ns;
  uint64_t lim = (uint64_t)INT64_MAX / 4 / scale;
  uint64_t ns = (uint64_t)tc > lim ? lim * scale : (uint64_t)tc * scale;
  int64_t us = (int64_t)(ns / 1000);
  if (!s->time_known) {
    s->time_offset_us = s->last_us - us;
    s->time_known = true;
  }
  int64_t r = us + s->time_offset_us;
  if (r < 0) r = 0;
  if (r > s->last_us) s->last_us = r;
  return r;
}

static bool is_level1(uint32_t id) {
  switch (id) {
  case ID_SEEKHEAD:
  case ID_INFO:
  case ID_TRACKS:
  case ID_CHAPTERS:
  case ID_CLUSTER:
  case ID_CUES:
  case ID_ATTACHMENTS:
  case ID_TAGS:
    return true;
  default:
    return false;
  }
}

static bool is_cluster_child(uint32_t id) {
  switch (id) {
  case ID_TIMECODE:
  case ID_SILENT_TRACKS:
  case ID_POSITION:
  case ID_PREV_SIZE:
  case ID_SIMPLE_BLOCK:
  case ID_BLOCK_GROUP:
  case ID_ENCRYPTED_BLOCK:
  case ID_VOID:
  case ID_CRC32:
    return true;
  default:
    return false;
  }
}

static bool at_magic(const uint8_t *p) {
  uint32_t x = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  return x == ID_CLUSTER || x == ID_EBML;
}

/* A garbage run: up to the next Cluster ID or EBML magic, at most
 * SC_WEBM_GARBAGE_RUN_MAX bytes. */
static void cut_garbage(webm_state *s, const uint8_t *buf, size_t buflen, bool at_end,
                        sc_media_cut *cut) {
  size_t i = s->garbage_scanned > 1 ? s->garbage_scanned : 1;
  for (; i < SC_WEBM_GARBAGE_RUN_MAX; i++) {
    if (i + 4 > buflen) {
      if (!at_end) {
        s->garbage_scanned = i; /* wait: the run's end depends on bytes not yet here */
        return;
      }
      i = buflen;
      break;
    }
    if (at_magic(buf + i)) break;
  }
  s->garbage_scanned = 0;
  s->resyncing = true;
  s->in_cluster = false;
  s->skip_left = 0;
  cut->len = i;
  cut->flags = SC_MEDIA_UNIT_GARBAGE;
  cut->end_us = -1;
}

/* Commit a unit of len bytes: advance and leave the elements that end. */
static void finish(webm_state *s, sc_media_cut *cut, size_t len, uint32_t flags,
                   int64_t end_us) {
  cut->len = len;
  cut->flags = flags;
  cut->end_us = end_us;
  s->garbage_scanned = 0; /* the next cut starts at another unit */
  s->pos += len;
  if (s->in_cluster && s->cluster_end != SIZE_UNKNOWN && s->pos >= s->cluster_end)
    s->in_cluster = false;
  if (s->in_segment && s->segment_end != SIZE_UNKNOWN && s->pos >= s->segment_end) {
    s->in_segment = false;
    s->in_cluster = false;
  }
}

/* Whether the Cluster whose children start at buf[off] (its head ends at
 * clen, or SIZE_UNKNOWN) is a sync point: 1 yes, 0 no, -1 more bytes are
 * needed. */
static int cluster_sync(const webm_state *s, const uint8_t *buf, size_t buflen,
                        size_t off, uint64_t cend, bool at_end) {
  if (s->tracks_known && !has_video_track(s)) return 1;
  while (off < SC_WEBM_LOOKAHEAD_MAX && (cend == SIZE_UNKNOWN || off < cend)) {
    uint32_t id;
    uint64_t size;
    size_t hl;
    int r = off < buflen ? read_head(buf + off, buflen - off, &id, &size, &hl) : 0;
    if (r < 0) return 0;
    if (r == 0) return at_end ? 0 : -1;
    if (!is_cluster_child(id) || size == SIZE_UNKNOWN)
      return 0; /* the Cluster ended without a video block */
    if (id == ID_SIMPLE_BLOCK) {
      uint64_t track;
      int16_t rel;
      uint8_t flags;
      size_t avail = buflen - off - hl;
      if (avail > size) avail = (size_t)size;
      if (!block_fields(buf + off + hl, avail, &track, &rel, &flags)) {
        if (avail == size || at_end) return 0; /* a block too short to be one */
        return -1;
      }
      if (is_video_track(s, track)) return (flags & 0x80) != 0;
    } else if (id == ID_BLOCK_GROUP) {
      if (size > SC_WEBM_ELEMENT_MAX) return 0;
      if (buflen - off - hl < size) return at_end ? 0 : -1;
      group_info g;
      group_scan(buf + off + hl, (size_t)size, &g);
      if (g.have_block && is_video_track(s, g.track)) return !g.has_reference;
    }
    if (size > SC_WEBM_LOOKAHEAD_MAX) return 0;
    off += hl + (size_t)size;
  }
  return 0;
}

/* A Cluster's head, optional CRC-32 and Timecode as one unit. */
static void cut_cluster(webm_state *s, const uint8_t *buf, size_t buflen, bool at_end,
                        size_t hl, uint64_t size, sc_media_cut *cut) {
  size_t off = hl;
  uint64_t cend = size == SIZE_UNKNOWN ? SIZE_UNKNOWN : hl + size;
  bool tc_known = false;
  uint64_t tc = 0;
  for (int k = 0; k < 2; k++) {
    uint32_t id;
    uint64_t csize;
    size_t chl;
    int r = off < buflen ? read_head(buf + off, buflen - off, &id, &csize, &chl) : 0;
    if (r == 0 && !at_end) return;
    if (r != 1 || (id != ID_CRC32 && id != ID_TIMECODE) || csize > 8 ||
        (cend != SIZE_UNKNOWN && off + chl + csize > cend))
      break;
    if (off + chl + csize > buflen) {
      if (!at_end) return;
      break;
    }
    if (id == ID_TIMECODE) {
      tc = read_uint(buf + off + chl, csize);
      tc_known = true;
      off += chl + (size_t)csize;
      break;
    }
    if (k == 1) break; /* a second CRC-32 */
    off += chl + (size_t)csize;
  }
  int sync = cluster_sync(s, buf, buflen, off, cend, at_end);
  if (sync < 0) return;
  s->resyncing = false;
  s->in_cluster = true;
  s->seen_cluster = true;
  s->cluster_end = cend == SIZE_UNKNOWN ? SIZE_UNKNOWN : s->pos + cend;
  s->cluster_tc_known = tc_known;
  s->cluster_tc = tc;
  int64_t end_us = -1;
  if (tc_known) end_us = time_us(s, tc > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)tc);
  finish(s, cut, off, sync ? SC_MEDIA_UNIT_SYNC : 0, end_us);
}

/* A block inside a Cluster, whole. */
static void cut_block(webm_state *s, const uint8_t *buf, size_t buflen, bool at_end,
                      uint32_t id, size_t hl, uint64_t size, sc_media_cut *cut) {
  if (size > SC_WEBM_ELEMENT_MAX ||
      (s->cluster_end != SIZE_UNKNOWN && s->pos + hl + size > s->cluster_end)) {
    cut_garbage(s, buf, buflen, at_end, cut);
    return;
  }
  size_t total = hl + (size_t)size;
  if (buflen < total) return;
  int64_t end_us = -1;
  uint64_t track = 0;
  int16_t rel = 0;
  uint8_t flags;
  bool have = false;
  if (id == ID_SIMPLE_BLOCK) {
    have = block_fields(buf + hl, (size_t)size, &track, &rel, &flags);
  } else if (id == ID_BLOCK_GROUP) {
    group_info g;
    group_scan(buf + hl, (size_t)size, &g);
    have = g.have_block;
    rel = g.rel;
  }
  if (have && s->cluster_tc_known) {
    int64_t tc =
        s->cluster_tc > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)s->cluster_tc;
    end_us = time_us(s, tc + rel);
  }
  finish(s, cut, total, 0, end_us);
}

/* Any other element with a known size: whole if it fits in a unit (reading
 * Info and Tracks when they are headers), else its head and then its body in
 * pieces. */
static void cut_element(webm_state *s, const uint8_t *buf, size_t buflen, uint32_t id,
                        size_t hl, uint64_t size, uint32_t flags, sc_media_cut *cut) {
  if (size > SC_WEBM_ELEMENT_MAX) {
    s->skip_left = size;
    s->skip_flags = flags;
    finish(s, cut, hl, flags, -1);
    return;
  }
  size_t total = hl + (size_t)size;
  if (buflen < total) return;
  if (flags & SC_MEDIA_UNIT_HEADER) {
    if (id == ID_INFO) {
      for_children(s, buf + hl, (size_t)size, info_child);
    } else if (id == ID_TRACKS) {
      s->ntracks = 0;
      s->tracks_known = true;
      for_children(s, buf + hl, (size_t)size, tracks_child);
    }
  }
  if (id == ID_TIMECODE && s->in_cluster && size >= 1 && size <= 8) {
    s->cluster_tc = read_uint(buf + hl, size);
    s->cluster_tc_known = true;
  }
  finish(s, cut, total, flags, -1);
}

static void webm_cut(void *state, const uint8_t *buf, size_t buflen, bool at_end,
                     sc_media_cut *cut) {
  webm_state *s = state;
  cut->len = 0;
  cut->flags = 0;
  cut->end_us = -1;
  if (s->skip_left) {
    uint64_t n = s->skip_left < SC_WEBM_CHUNK_MAX ? s->skip_left : SC_WEBM_CHUNK_MAX;
    if (buflen < n) return;
    s->skip_left -= n;
    finish(s, cut, (size_t)n, s->skip_flags, -1);
    return;
  }
  uint32_t id;
  uint64_t size;
  size_t hl;
  int r = read_head(buf, buflen, &id, &size, &hl);
  if (r == 0) {
    if (at_end) cut_garbage(s, buf, buflen, at_end, cut);
    return;
  }
  if (r < 0) {
    cut_garbage(s, buf, buflen, at_end, cut);
    return;
  }
  if (id == ID_EBML) {
    if (size == SIZE_UNKNOWN || size > SC_WEBM_EBML_HEADER_MAX) {
      cut_garbage(s, buf, buflen, at_end, cut);
      return;
    }
    if (buflen < hl + size) return;
    /* A new source: forget the old one's segment, tracks and time origin. */
    uint64_t pos = s->pos;
    int64_t last_us = s->last_us;
    webm_init(s);
    s->pos = pos;
    s->last_us = last_us;
    finish(s, cut, hl + (size_t)size, SC_MEDIA_UNIT_HEADER | SC_MEDIA_UNIT_NEW_HEADERS,
           -1);
    return;
  }
  if (s->resyncing && id != ID_CLUSTER) {
    cut_garbage(s, buf, buflen, at_end, cut);
    return;
  }
  if (id == ID_SEGMENT) {
    s->in_segment = true;
    s->in_cluster = false;
    s->seen_cluster = false;
    s->segment_end = size == SIZE_UNKNOWN ? SIZE_UNKNOWN : s->pos + hl + size;
    finish(s, cut, hl, SC_MEDIA_UNIT_HEADER, -1);
    return;
  }
  if (s->in_cluster) {
    if (id == ID_SIMPLE_BLOCK || id == ID_BLOCK_GROUP || id == ID_ENCRYPTED_BLOCK) {
      cut_block(s, buf, buflen, at_end, id, hl, size, cut);
      return;
    }
    if (is_cluster_child(id)) {
      if (size == SIZE_UNKNOWN ||
          (s->cluster_end != SIZE_UNKNOWN && s->pos + hl + size > s->cluster_end)) {
        cut_garbage(s, buf, buflen, at_end, cut);
        return;
      }
      cut_element(s, buf, buflen, id, hl, size, 0, cut);
      return;
    }
    /* A level-1 element ends a Cluster of unknown size; in one of known size
     * the sizes are wrong. */
    if (!is_level1(id) || s->cluster_end != SIZE_UNKNOWN) {
      cut_garbage(s, buf, buflen, at_end, cut);
      return;
    }
    s->in_cluster = false;
  }
  if (id == ID_CLUSTER) {
    cut_cluster(s, buf, buflen, at_end, hl, size, cut);
    return;
  }
  /* Level-1 elements belong in a Segment (or after a Cluster, in a stream
   * joined in the middle). */
  if (!(s->in_segment || s->seen_cluster) ||
      !(is_level1(id) || id == ID_VOID || id == ID_CRC32) || size == SIZE_UNKNOWN) {
    cut_garbage(s, buf, buflen, at_end, cut);
    return;
  }
  cut_element(s, buf, buflen, id, hl, size, s->seen_cluster ? 0 : SC_MEDIA_UNIT_HEADER,
              cut);
}

const sc_media_format sc_media_format_webm = {
    .kind = SC_MEDIA_WEBM,
    .state_size = sizeof(webm_state),
    .unit_max = SC_WEBM_UNIT_MAX,
    .init = webm_init,
    .cut = webm_cut,
};
